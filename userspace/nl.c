// SPDX-License-Identifier: GPL-2.0
/*
 * nl.c - talking to rblk.ko over generic netlink (libnl-genl-3).
 *
 * Every request asks for an ack; the socket has NETLINK_EXT_ACK enabled and a
 * custom error callback picks the kernel's extack message
 * (NLMSGERR_ATTR_MSG) out of the error message, so that every rejection can
 * be reported as "errno string: kernel message".
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "rblkadm.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct nlctx {
	struct nl_sock *sk;
	int family;
};

int rnl_open(struct nlctx **ctxp, char *err, size_t errlen)
{
	struct nlctx *ctx = calloc(1, sizeof(*ctx));
	int one = 1;
	int r;

	*ctxp = NULL;
	if (!ctx) {
		snprintf(err, errlen, "out of memory");
		return EXIT_SYSTEM;
	}
	ctx->sk = nl_socket_alloc();
	if (!ctx->sk) {
		free(ctx);
		snprintf(err, errlen, "out of memory");
		return EXIT_SYSTEM;
	}
	r = genl_connect(ctx->sk);
	if (r < 0) {
		snprintf(err, errlen, "cannot open a generic netlink socket: %s", nl_geterror(r));
		rnl_close(ctx);
		return EXIT_SYSTEM;
	}
	/* Best effort: without it errors still carry the errno. */
	setsockopt(nl_socket_get_fd(ctx->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	ctx->family = genl_ctrl_resolve(ctx->sk, RBLK_GENL_NAME);
	if (ctx->family < 0) {
		snprintf(err, errlen, "rblk kernel module not loaded (modprobe rblk)");
		rnl_close(ctx);
		return EXIT_NOMODULE;
	}
	*ctxp = ctx;
	return EXIT_OK;
}

void rnl_close(struct nlctx *ctx)
{
	if (!ctx)
		return;
	nl_socket_free(ctx->sk);
	free(ctx);
}

/* ------------------------------------------------------------ requests */

int rnl_build_request(struct nl_msg *msg, const struct rblk_req *q)
{
	unsigned int i;

	if ((q->has & REQ_MINOR) && nla_put_u32(msg, RBLK_A_MINOR, q->minor))
		return -1;
	if ((q->has & REQ_NAME) && nla_put_string(msg, RBLK_A_RESOURCE_NAME, q->name))
		return -1;
	if ((q->has & REQ_CLUSTER) && nla_put_string(msg, RBLK_A_CLUSTER_NAME, q->cluster))
		return -1;
	if ((q->has & REQ_NODE_ID) && nla_put_u32(msg, RBLK_A_NODE_ID, q->node_id))
		return -1;
	if ((q->has & REQ_PATH) && nla_put_string(msg, RBLK_A_BACKING_PATH, q->path))
		return -1;
	if ((q->has & REQ_META_PATH) && nla_put_string(msg, RBLK_A_META_PATH, q->meta_path))
		return -1;
	if ((q->has & REQ_MAX_PEERS) && nla_put_u32(msg, RBLK_A_MAX_PEERS, q->max_peers))
		return -1;
	if ((q->has & REQ_CLEAR_BITMAP) && nla_put_flag(msg, RBLK_A_CLEAR_BITMAP))
		return -1;
	if ((q->has & REQ_DISCARD_MY_DATA) && nla_put_flag(msg, RBLK_A_DISCARD_MY_DATA))
		return -1;
	if ((q->has & REQ_ON_IO_ERROR) && nla_put_u8(msg, RBLK_A_ON_IO_ERROR, q->on_io_error))
		return -1;
	if ((q->has & REQ_FORCE) && nla_put_flag(msg, RBLK_A_FORCE))
		return -1;
	if ((q->has & REQ_IGNORE_QUORUM) && nla_put_flag(msg, RBLK_A_IGNORE_QUORUM))
		return -1;
	if ((q->has & REQ_PEER_WITNESS) && nla_put_flag(msg, RBLK_A_PEER_WITNESS))
		return -1;
	if ((q->has & REQ_QUORUM) && nla_put_u32(msg, RBLK_A_QUORUM, q->quorum))
		return -1;
	if ((q->has & REQ_ON_NO_QUORUM) && nla_put_u8(msg, RBLK_A_ON_NO_QUORUM, q->on_no_quorum))
		return -1;
	if ((q->has & REQ_AUTO_PROMOTE) && nla_put_u8(msg, RBLK_A_AUTO_PROMOTE, q->auto_promote))
		return -1;
	if ((q->has & REQ_FENCING) && nla_put_u8(msg, RBLK_A_FENCING, q->fencing))
		return -1;
	if ((q->has & REQ_FENCE_HANDLER) &&
	    nla_put_string(msg, RBLK_A_FENCE_HANDLER, q->fence_handler))
		return -1;
	if ((q->has & REQ_DATA_DIGEST) && nla_put_u8(msg, RBLK_A_DATA_DIGEST, q->data_digest))
		return -1;
	if ((q->has & REQ_READ_BALANCING) &&
	    nla_put_u8(msg, RBLK_A_READ_BALANCING, q->read_balancing))
		return -1;
	if ((q->has & REQ_AUTH_SECRET) &&
	    nla_put(msg, RBLK_A_AUTH_SECRET, q->secret_len, q->secret))
		return -1;
	if ((q->has & REQ_PEER_NODE_ID) && nla_put_u32(msg, RBLK_A_PEER_NODE_ID, q->peer_node_id))
		return -1;
	if ((q->has & REQ_PEER_IP) &&
	    nla_put(msg, RBLK_A_PEER_IP, q->peer.family == AF_INET6 ? 16 : 4, q->peer.ip))
		return -1;
	if ((q->has & REQ_PEER_PORT) && nla_put_u16(msg, RBLK_A_PEER_PORT, q->peer.port))
		return -1;
	if ((q->has & REQ_LOCAL_IP) &&
	    nla_put(msg, RBLK_A_LOCAL_IP, q->local.family == AF_INET6 ? 16 : 4, q->local.ip))
		return -1;
	if ((q->has & REQ_LOCAL_PORT) && nla_put_u16(msg, RBLK_A_LOCAL_PORT, q->local.port))
		return -1;
	for (i = 0; i < OPT_COUNT; i++)
		if (q->options.set[i] && nla_put_u32(msg, conf_opt[i].attr, q->options.v[i]))
			return -1;
	return 0;
}

struct rx {
	struct nl_result *res;
	bool done;
	int (*valid)(struct nl_msg *msg, void *arg);
	void *valid_arg;
};

/* The uapi name of an rblk attribute, for error messages. */
const char *rnl_attr_name(unsigned int type)
{
	static const char *const names[] = {
#define N(x) [x] = #x
		N(RBLK_A_UNSPEC), N(RBLK_A_MINOR), N(RBLK_A_RESOURCE_NAME),
		N(RBLK_A_CLUSTER_NAME), N(RBLK_A_NODE_ID), N(RBLK_A_BACKING_PATH),
		N(RBLK_A_ASSUME_UPTODATE), N(RBLK_A_FORCE), N(RBLK_A_PEER_NODE_ID),
		N(RBLK_A_PEER_IP), N(RBLK_A_PEER_PORT), N(RBLK_A_LOCAL_IP),
		N(RBLK_A_LOCAL_PORT), N(RBLK_A_PING_INTERVAL_MS), N(RBLK_A_PING_TIMEOUT_MS),
		N(RBLK_A_CONNECT_TIMEOUT_MS), N(RBLK_A_RECONNECT_MIN_MS),
		N(RBLK_A_RECONNECT_MAX_MS), N(RBLK_A_ROLE), N(RBLK_A_DISK_STATE),
		N(RBLK_A_CONN_STATE), N(RBLK_A_PEER_ROLE), N(RBLK_A_PEER_DISK_STATE),
		N(RBLK_A_SIZE_SECTORS), N(RBLK_A_LOGICAL_BLOCK_SIZE_BYTES),
		N(RBLK_A_OPEN_COUNT), N(RBLK_A_PEER), N(RBLK_A_STATS), N(RBLK_A_EVENT),
		N(RBLK_A_PAD), N(RBLK_A_READS), N(RBLK_A_WRITES), N(RBLK_A_READ_BYTES),
		N(RBLK_A_WRITE_BYTES), N(RBLK_A_FLUSHES), N(RBLK_A_DISCARDS),
		N(RBLK_A_INFLIGHT), N(RBLK_A_ACKS), N(RBLK_A_RTT_US), N(RBLK_A_RECONNECTS),
		N(RBLK_A_RECEIVED_WRITES), N(RBLK_A_RECEIVED_BYTES), N(RBLK_A_ERRORS),
		N(RBLK_A_LAST_ERROR), N(RBLK_A_REQUEST_TIMEOUT_MS), N(RBLK_A_KO_COUNT),
		N(RBLK_A_ON_IO_ERROR), N(RBLK_A_META_PATH), N(RBLK_A_MAX_PEERS),
		N(RBLK_A_CLEAR_BITMAP), N(RBLK_A_DISCARD_MY_DATA), N(RBLK_A_CURRENT_UUID),
		N(RBLK_A_BITMAP_UUID), N(RBLK_A_HISTORY_UUIDS), N(RBLK_A_MD_FLAGS),
		N(RBLK_A_MD_SEQ), N(RBLK_A_MD_VALID_COPIES), N(RBLK_A_MD_OFFSET_SECTORS),
		N(RBLK_A_MD_SIZE_SECTORS), N(RBLK_A_BM_BLOCK_BYTES), N(RBLK_A_AL_EXTENT_BYTES),
		N(RBLK_A_REPL_STATE), N(RBLK_A_OUT_OF_SYNC_BYTES), N(RBLK_A_RESYNC_TOTAL_BYTES),
		N(RBLK_A_RESYNC_DONE_BYTES), N(RBLK_A_RESYNC_RATE_BYTES_PER_S),
		N(RBLK_A_SPLIT_BRAIN), N(RBLK_A_SYNC_DECISION), N(RBLK_A_MD_WRITES),
		N(RBLK_A_RESYNC_RATE_KIB_PER_S), N(RBLK_A_RESYNC_LATENCY_MS),
		N(RBLK_A_RESYNC_WINDOW), N(RBLK_A_RESYNC_LATENCY_US), N(RBLK_A_QUORUM),
		N(RBLK_A_ON_NO_QUORUM), N(RBLK_A_IGNORE_QUORUM), N(RBLK_A_HAS_QUORUM),
		N(RBLK_A_QUORUM_VOTES), N(RBLK_A_QUORUM_NEEDED), N(RBLK_A_QUORUM_VOTERS),
		N(RBLK_A_SUSPENDED), N(RBLK_A_SUSPENDED_WRITES), N(RBLK_A_PEER_WITNESS),
		N(RBLK_A_AUTO_PROMOTE), N(RBLK_A_AUTO_PROMOTED), N(RBLK_A_FENCING),
		N(RBLK_A_FENCE_HANDLER), N(RBLK_A_FENCE_PENDING), N(RBLK_A_FENCE_RESULT),
		N(RBLK_A_AUTH_SECRET), N(RBLK_A_AUTH), N(RBLK_A_DATA_DIGEST),
		N(RBLK_A_TCP_RTT_US), N(RBLK_A_READ_BALANCING), N(RBLK_A_PEER_READS),
		N(RBLK_A_PEER_READ_BYTES), N(RBLK_A_PEER_SERVED_READS),
#undef N
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "unknown attribute";
}

/**
 * rnl_extack_msg - the kernel's extended ack of an NLMSG_ERROR message, as text
 * @e: payload of the error message (the netlink header precedes it)
 * @buf: receives NLMSGERR_ATTR_MSG, completed with the attribute the kernel
 *	blamed (NLMSGERR_ATTR_OFFS into the echoed request) or found missing
 *	(NLMSGERR_ATTR_MISS_TYPE); "" when the kernel sent none of these
 * @len: size of @buf in bytes
 *
 * Examples: "minor already in use", "missing attribute RBLK_A_MINOR",
 * "Attribute failed policy validation (RBLK_A_MINOR)".
 */
void rnl_extack_msg(const struct nlmsgerr *e, char *buf, size_t len)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)((const char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = sizeof(*e), n = 0;
	bool capped = nlh->nlmsg_flags & NLM_F_CAPPED;
	const char *attrs;
	long alen;

	buf[0] = 0;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || len == 0)
		return;
	if (!capped)
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	attrs = (const char *)e + NLMSG_ALIGN(off);
	alen = (long)nlh->nlmsg_len - (long)(attrs - (const char *)nlh);
	if (alen <= 0)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)attrs, (int)alen, NULL) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG] && nla_len(tb[NLMSGERR_ATTR_MSG]) > 0) {
		n = (size_t)nla_len(tb[NLMSGERR_ATTR_MSG]);
		if (n >= len)
			n = len - 1;
		memcpy(buf, nla_data(tb[NLMSGERR_ATTR_MSG]), n);
		buf[n] = 0;
		n = strlen(buf);
		/* drop a trailing newline some kernels include */
		while (n && buf[n - 1] == '\n')
			buf[--n] = 0;
	}
	if (tb[NLMSGERR_ATTR_MISS_TYPE] && nla_len(tb[NLMSGERR_ATTR_MISS_TYPE]) >= 4) {
		const char *name = rnl_attr_name(nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]));

		snprintf(buf + n, len - n, n ? " (missing %s)" : "missing attribute %s", name);
	} else if (n && !capped && tb[NLMSGERR_ATTR_OFFS] &&
		   nla_len(tb[NLMSGERR_ATTR_OFFS]) >= 4) {
		uint32_t offs = nla_get_u32(tb[NLMSGERR_ATTR_OFFS]);

		if (offs >= NLMSG_HDRLEN && offs + sizeof(struct nlattr) <= e->msg.nlmsg_len) {
			const struct nlattr *bad = (const struct nlattr *)((const char *)&e->msg + offs);

			snprintf(buf + n, len - n, " (%s)",
				 rnl_attr_name(bad->nla_type & NLA_TYPE_MASK));
		}
	}
}

static int err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct rx *rx = arg;

	(void)nla;
	rx->res->error = e->error;
	rnl_extack_msg(e, rx->res->msg, sizeof(rx->res->msg));
	rx->done = true;
	return NL_STOP;
}

static int ack_cb(struct nl_msg *msg, void *arg)
{
	struct rx *rx = arg;

	(void)msg;
	rx->done = true;
	return NL_STOP;
}

static int valid_cb(struct nl_msg *msg, void *arg)
{
	struct rx *rx = arg;

	return rx->valid ? rx->valid(msg, rx->valid_arg) : NL_OK;
}

static void set_cap_ack(struct nlctx *ctx, int on)
{
	setsockopt(nl_socket_get_fd(ctx->sk), SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on));
}

/* Free a request, wiping it first: it may carry the shared secret. */
static void free_request(struct nl_msg *msg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);

	explicit_bzero(h, h->nlmsg_len);
	nlmsg_free(msg);
}

/* Send @req (NLM_F_ACK + @flags) and receive until ack, error or dump end. */
static int transact(struct nlctx *ctx, const struct rblk_req *req, int flags,
		    int (*valid)(struct nl_msg *, void *), void *varg,
		    struct nl_result *res)
{
	struct rx rx = { .res = res, .valid = valid, .valid_arg = varg };
	struct nl_msg *msg;
	struct nl_cb *cb;
	int r, ret = EXIT_OK;

	res->error = 0;
	res->msg[0] = 0;
	msg = nlmsg_alloc();
	if (!msg)
		goto nomem;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, ctx->family, 0, flags,
			 req->cmd, RBLK_GENL_VERSION) || rnl_build_request(msg, req)) {
		free_request(msg);
		goto nomem;
	}
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		free_request(msg);
		goto nomem;
	}
	nl_cb_err(cb, NL_CB_CUSTOM, err_cb, &rx);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, ack_cb, &rx);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, ack_cb, &rx);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid_cb, &rx);

	/* an error must not echo a secret back: no request in its ack */
	if (req->has & REQ_AUTH_SECRET)
		set_cap_ack(ctx, 1);
	r = nl_send_auto(ctx->sk, msg);
	free_request(msg);
	if (r < 0) {
		snprintf(res->msg, sizeof(res->msg), "send: %s", nl_geterror(r));
		ret = EXIT_SYSTEM;
		goto out;
	}
	while (!rx.done) {
		r = nl_recvmsgs(ctx->sk, cb);
		if (r < 0 && !rx.done) {
			snprintf(res->msg, sizeof(res->msg), "receive: %s", nl_geterror(r));
			ret = EXIT_SYSTEM;
			goto out;
		}
	}
	if (res->error)
		ret = EXIT_KERNEL;
	/*
	 * The generic netlink core answers ENOENT, without a message, to a
	 * request for a family that is gone: the module was unloaded between
	 * rnl_open() and this request.
	 */
	if (res->error == -ENOENT && !res->msg[0] &&
	    genl_ctrl_resolve(ctx->sk, RBLK_GENL_NAME) < 0) {
		snprintf(res->msg, sizeof(res->msg),
			 "rblk kernel module unloaded during the request");
		ret = EXIT_NOMODULE;
	}
out:
	if (req->has & REQ_AUTH_SECRET)
		set_cap_ack(ctx, 0);
	nl_cb_put(cb);
	return ret;
nomem:
	snprintf(res->msg, sizeof(res->msg), "out of memory");
	return EXIT_SYSTEM;
}

int rnl_request(struct nlctx *ctx, const struct rblk_req *req, struct nl_result *res)
{
	return transact(ctx, req, 0, NULL, NULL, res);
}

/* --------------------------------------------------------------- status */

static uint64_t get_uint(const struct nlattr *a)
{
	switch (nla_len(a)) {
	case 1:
		return nla_get_u8((struct nlattr *)a);
	case 2:
		return nla_get_u16((struct nlattr *)a);
	case 4:
		return nla_get_u32((struct nlattr *)a);
	case 8:
		return nla_get_u64((struct nlattr *)a);
	default:
		return 0;
	}
}

static void get_str(const struct nlattr *a, char *buf, size_t len)
{
	size_t n = (size_t)nla_len(a);

	if (n >= len)
		n = len - 1;
	memcpy(buf, nla_data(a), n);
	buf[n] = 0;
}

static void get_ip(const struct nlattr *a, struct conf_addr *addr)
{
	if (nla_len(a) == 4) {
		addr->family = AF_INET;
		memcpy(addr->ip, nla_data(a), 4);
	} else if (nla_len(a) == 16) {
		addr->family = AF_INET6;
		memcpy(addr->ip, nla_data(a), 16);
	}
}

static void parse_peer(const struct nlattr *nest, struct kdev *d);

/* The quorum state of STATUS and of events into @q; other attributes are ignored. */
static void parse_quorum_state(const struct nlattr *a, struct kquorum *q)
{
	switch (nla_type(a)) {
	case RBLK_A_HAS_QUORUM:
		q->quorate = get_uint(a) != 0;
		q->has_state = true;
		break;
	case RBLK_A_QUORUM_VOTES:
		q->votes = (uint32_t)get_uint(a);
		q->has_votes = true;
		break;
	case RBLK_A_QUORUM_NEEDED:
		q->needed = (uint32_t)get_uint(a);
		q->has_needed = true;
		break;
	case RBLK_A_SUSPENDED:
		q->suspended = (uint8_t)get_uint(a);
		q->has_suspended = true;
		break;
	default:
		break;
	}
}

/* The fence-peer state of STATUS and of events into @f; other attributes are ignored. */
static void parse_fence_state(const struct nlattr *a, struct kfence *f)
{
	switch (nla_type(a)) {
	case RBLK_A_FENCE_PENDING:
		f->pending = (uint32_t)get_uint(a);
		f->has_pending = true;
		break;
	case RBLK_A_FENCE_RESULT:
		f->result = (int32_t)(uint32_t)get_uint(a);
		f->has_result = true;
		break;
	default:
		break;
	}
}

/* Counters may sit in RBLK_A_STATS (device) or directly in the message. */
static void parse_dev_attr(const struct nlattr *a, struct kdev *d)
{
	const struct nlattr *s;
	int rem;

	switch (nla_type(a)) {
	case RBLK_A_MINOR: d->minor = (uint32_t)get_uint(a); break;
	case RBLK_A_NODE_ID: d->node_id = (uint32_t)get_uint(a); break;
	case RBLK_A_RESOURCE_NAME: get_str(a, d->name, sizeof(d->name)); break;
	case RBLK_A_CLUSTER_NAME: get_str(a, d->cluster, sizeof(d->cluster)); break;
	case RBLK_A_BACKING_PATH: get_str(a, d->backing, sizeof(d->backing)); break;
	case RBLK_A_ROLE: d->role = (uint8_t)get_uint(a); break;
	case RBLK_A_DISK_STATE: d->disk_state = (uint8_t)get_uint(a); break;
	case RBLK_A_SIZE_SECTORS: d->size_sectors = get_uint(a); break;
	case RBLK_A_LOGICAL_BLOCK_SIZE_BYTES:
		d->logical_block_size_bytes = (uint32_t)get_uint(a);
		break;
	case RBLK_A_OPEN_COUNT: d->open_count = (uint32_t)get_uint(a); break;
	case RBLK_A_CURRENT_UUID:
		d->current_uuid = get_uint(a);
		d->has_current_uuid = true;
		break;
	case RBLK_A_MD_FLAGS:
		d->md_flags = (uint32_t)get_uint(a);
		d->has_md_flags = true;
		break;
	case RBLK_A_READS: d->reads = get_uint(a); break;
	case RBLK_A_WRITES: d->writes = get_uint(a); break;
	case RBLK_A_READ_BYTES: d->read_bytes = get_uint(a); break;
	case RBLK_A_WRITE_BYTES: d->write_bytes = get_uint(a); break;
	case RBLK_A_FLUSHES: d->flushes = get_uint(a); break;
	case RBLK_A_DISCARDS: d->discards = get_uint(a); break;
	case RBLK_A_INFLIGHT: d->inflight = get_uint(a); break;
	case RBLK_A_ERRORS: d->errors = get_uint(a); break;
	case RBLK_A_MD_WRITES: d->md_writes = get_uint(a); break;
	case RBLK_A_QUORUM:
		d->quorum = (uint32_t)get_uint(a);
		d->has_quorum_policy = true;
		break;
	case RBLK_A_ON_NO_QUORUM:
		d->on_no_quorum = (uint8_t)get_uint(a);
		d->has_on_no_quorum = true;
		break;
	case RBLK_A_QUORUM_VOTERS:
		d->quorum_voters = (uint32_t)get_uint(a);
		d->has_quorum_voters = true;
		break;
	case RBLK_A_SUSPENDED_WRITES:
		d->suspended_writes = (uint32_t)get_uint(a);
		d->has_suspended_writes = true;
		break;
	case RBLK_A_AUTO_PROMOTE:
		d->auto_promote = get_uint(a) != 0;
		d->has_auto_promote = true;
		break;
	case RBLK_A_AUTO_PROMOTED:
		d->auto_promoted = get_uint(a) != 0;
		d->has_auto_promoted = true;
		break;
	case RBLK_A_FENCING:
		d->fencing = (uint8_t)get_uint(a);
		d->has_fencing = true;
		break;
	case RBLK_A_FENCE_HANDLER:
		get_str(a, d->fence_handler, sizeof(d->fence_handler));
		d->has_fence_handler = true;
		break;
	case RBLK_A_AUTH:
		d->auth = get_uint(a) != 0;
		d->has_auth = true;
		break;
	case RBLK_A_DATA_DIGEST:
		d->data_digest = (uint8_t)get_uint(a);
		d->has_data_digest = true;
		break;
	case RBLK_A_READ_BALANCING:
		d->read_balancing = (uint8_t)get_uint(a);
		d->has_read_balancing = true;
		break;
	case RBLK_A_STATS:
		nla_for_each_nested(s, a, rem)
			parse_dev_attr(s, d);
		break;
	case RBLK_A_PEER:
		parse_peer(a, d);
		break;
	default:
		parse_quorum_state(a, &d->qstate);
		parse_fence_state(a, &d->fstate);
		break;
	}
}

static void parse_peer(const struct nlattr *nest, struct kdev *d)
{
	const struct nlattr *a;
	struct kpeer *p;
	unsigned int i;
	int rem;

	/* A container of several RBLK_A_PEER nests is accepted too. */
	nla_for_each_nested(a, nest, rem) {
		if (nla_type(a) == RBLK_A_PEER) {
			parse_peer(a, d);
			continue;
		}
	}
	if (nla_find(nla_data(nest), nla_len(nest), RBLK_A_PEER_NODE_ID) == NULL)
		return;
	if (d->n_peers > RBLK_MAX_NODE_ID)
		return;
	p = &d->peers[d->n_peers++];
	memset(p, 0, sizeof(*p));
	p->peer_role = RBLK_ROLE_UNKNOWN;
	p->peer_disk_state = RBLK_DISK_UNKNOWN;
	nla_for_each_nested(a, nest, rem) {
		for (i = 0; i < OPT_COUNT; i++) {
			if (nla_type(a) == conf_opt[i].attr) {
				p->options.v[i] = (uint32_t)get_uint(a);
				p->options.set[i] = true;
			}
		}
		switch (nla_type(a)) {
		case RBLK_A_PEER_NODE_ID: p->node_id = (uint32_t)get_uint(a); break;
		case RBLK_A_PEER_IP: get_ip(a, &p->peer); break;
		case RBLK_A_PEER_PORT: p->peer.port = (uint16_t)get_uint(a); break;
		case RBLK_A_LOCAL_IP: get_ip(a, &p->local); break;
		case RBLK_A_LOCAL_PORT: p->local.port = (uint16_t)get_uint(a); break;
		case RBLK_A_CONN_STATE: p->conn_state = (uint8_t)get_uint(a); break;
		case RBLK_A_PEER_ROLE: p->peer_role = (uint8_t)get_uint(a); break;
		case RBLK_A_PEER_DISK_STATE: p->peer_disk_state = (uint8_t)get_uint(a); break;
		case RBLK_A_WRITES: p->writes = get_uint(a); break;
		case RBLK_A_WRITE_BYTES: p->write_bytes = get_uint(a); break;
		case RBLK_A_FLUSHES: p->flushes = get_uint(a); break;
		case RBLK_A_DISCARDS: p->discards = get_uint(a); break;
		case RBLK_A_INFLIGHT: p->inflight = get_uint(a); break;
		case RBLK_A_ACKS: p->acks = get_uint(a); break;
		case RBLK_A_RTT_US: p->rtt_us = get_uint(a); break;
		case RBLK_A_TCP_RTT_US:
			p->tcp_rtt_us = get_uint(a);
			p->has_tcp_rtt = true;
			break;
		case RBLK_A_RECONNECTS: p->reconnects = get_uint(a); break;
		case RBLK_A_RECEIVED_WRITES: p->received_writes = get_uint(a); break;
		case RBLK_A_RECEIVED_BYTES: p->received_bytes = get_uint(a); break;
		case RBLK_A_PEER_READS: p->reads = get_uint(a); break;
		case RBLK_A_PEER_READ_BYTES: p->read_bytes = get_uint(a); break;
		case RBLK_A_PEER_SERVED_READS: p->served_reads = get_uint(a); break;
		case RBLK_A_ERRORS: p->errors = get_uint(a); break;
		case RBLK_A_LAST_ERROR: get_str(a, p->last_error, sizeof(p->last_error)); break;
		case RBLK_A_REPL_STATE:
			p->repl_state = (uint8_t)get_uint(a);
			p->has_repl_state = true;
			break;
		case RBLK_A_SYNC_DECISION:
			p->sync_decision = (uint8_t)get_uint(a);
			p->has_sync_decision = true;
			break;
		case RBLK_A_SPLIT_BRAIN: p->split_brain = true; break;
		case RBLK_A_PEER_WITNESS: p->witness = true; break;
		case RBLK_A_BITMAP_UUID:
			p->bitmap_uuid = get_uint(a);
			p->has_bitmap_uuid = true;
			break;
		case RBLK_A_OUT_OF_SYNC_BYTES:
			p->out_of_sync_bytes = get_uint(a);
			p->has_out_of_sync = true;
			break;
		case RBLK_A_RESYNC_TOTAL_BYTES:
			p->resync_total_bytes = get_uint(a);
			p->has_resync_total = true;
			break;
		case RBLK_A_RESYNC_DONE_BYTES:
			p->resync_done_bytes = get_uint(a);
			p->has_resync_done = true;
			break;
		case RBLK_A_RESYNC_RATE_BYTES_PER_S:
			p->resync_rate_bytes_per_s = get_uint(a);
			p->has_resync_rate = true;
			break;
		case RBLK_A_RESYNC_WINDOW:
			p->resync_window = get_uint(a);
			p->has_resync_window = true;
			break;
		case RBLK_A_RESYNC_LATENCY_US:
			p->resync_latency_us = get_uint(a);
			p->has_resync_latency = true;
			break;
		default: break;
		}
	}
}

/**
 * rnl_parse_device - decode one RBLK_CMD_STATUS reply into @d
 * @nlh: the netlink message (generic netlink header, then attributes)
 * @d: filled; attributes the kernel did not send stay zero
 * Returns 0, or -1 when the message carries no RBLK_A_MINOR.
 */
int rnl_parse_device(struct nlmsghdr *nlh, struct kdev *d)
{
	struct genlmsghdr *g = nlmsg_data(nlh);
	struct nlattr *a;
	int rem;
	bool has_minor = false;

	memset(d, 0, sizeof(*d));
	nla_for_each_attr(a, genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0), rem) {
		if (nla_type(a) == RBLK_A_MINOR)
			has_minor = true;
		parse_dev_attr(a, d);
	}
	return has_minor ? 0 : -1;
}

struct devlist {
	struct kdev *devs;
	unsigned int n, cap;
	bool oom;
};

static int status_cb(struct nl_msg *msg, void *arg)
{
	struct devlist *l = arg;

	if (l->n == l->cap) {
		unsigned int cap = l->cap ? l->cap * 2 : 4;
		struct kdev *nd = realloc(l->devs, cap * sizeof(*nd));

		if (!nd) {
			l->oom = true;
			return NL_SKIP;
		}
		l->devs = nd;
		l->cap = cap;
	}
	if (rnl_parse_device(nlmsg_hdr(msg), &l->devs[l->n]) == 0)
		l->n++;
	return NL_OK;
}

int rnl_status(struct nlctx *ctx, int64_t minor, struct kdev **devs, unsigned int *n,
	      struct nl_result *res)
{
	struct rblk_req req = { .cmd = RBLK_CMD_STATUS };
	struct devlist l = { 0 };
	int ret;

	if (minor >= 0) {
		req.has = REQ_MINOR;
		req.minor = (uint32_t)minor;
	}
	ret = transact(ctx, &req, minor >= 0 ? 0 : NLM_F_DUMP, status_cb, &l, res);
	if (ret == EXIT_OK && l.oom) {
		snprintf(res->msg, sizeof(res->msg), "out of memory");
		ret = EXIT_SYSTEM;
	}
	if (ret != EXIT_OK) {
		free(l.devs);
		*devs = NULL;
		*n = 0;
		return ret;
	}
	*devs = l.devs;
	*n = l.n;
	return EXIT_OK;
}

/* ------------------------------------------------------------ metadata */

static void parse_md_slot(const struct nlattr *nest, struct kmd *md)
{
	const struct nlattr *a;
	struct kmd_slot *sl;
	int rem;

	if (!nla_find(nla_data(nest), nla_len(nest), RBLK_A_PEER_NODE_ID) ||
	    md->n_slots > RBLK_MAX_NODE_ID)
		return;
	sl = &md->slots[md->n_slots++];
	memset(sl, 0, sizeof(*sl));
	nla_for_each_nested(a, nest, rem) {
		switch (nla_type(a)) {
		case RBLK_A_PEER_NODE_ID: sl->peer_node_id = (uint32_t)get_uint(a); break;
		case RBLK_A_BITMAP_UUID:
			sl->bitmap_uuid = get_uint(a);
			sl->has_bitmap_uuid = true;
			break;
		case RBLK_A_OUT_OF_SYNC_BYTES:
			sl->out_of_sync_bytes = get_uint(a);
			sl->has_out_of_sync = true;
			break;
		default:
			break;
		}
	}
}

/**
 * rnl_parse_md - decode an RBLK_CMD_MD_DUMP reply
 * @nlh: the netlink message (generic netlink header, then attributes)
 * @md: filled; has_* say which attributes were there
 *
 * HISTORY_UUIDS is binary, host-order u64s, newest first: as many whole
 * u64s as it holds, at most RBLK_MD_HISTORY_UUIDS.  One RBLK_A_PEER per
 * used bitmap slot (those without PEER_NODE_ID are skipped).
 */
int rnl_parse_md(struct nlmsghdr *nlh, struct kmd *md)
{
	struct genlmsghdr *g = nlmsg_data(nlh);
	struct nlattr *a;
	unsigned int i;
	int rem;

	memset(md, 0, sizeof(*md));
	nla_for_each_attr(a, genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0), rem) {
		switch (nla_type(a)) {
		case RBLK_A_NODE_ID:
			md->node_id = (uint32_t)get_uint(a);
			md->has_node_id = true;
			break;
		case RBLK_A_MD_FLAGS:
			md->flags = (uint32_t)get_uint(a);
			md->has_flags = true;
			break;
		case RBLK_A_MD_SEQ: md->seq = get_uint(a); md->has_seq = true; break;
		case RBLK_A_MD_VALID_COPIES:
			md->valid_copies = (uint32_t)get_uint(a);
			md->has_valid_copies = true;
			break;
		case RBLK_A_SIZE_SECTORS:
			md->size_sectors = get_uint(a);
			md->has_size = true;
			break;
		case RBLK_A_MD_OFFSET_SECTORS:
			md->md_offset_sectors = get_uint(a);
			md->has_offset = true;
			break;
		case RBLK_A_MD_SIZE_SECTORS:
			md->md_size_sectors = get_uint(a);
			md->has_md_size = true;
			break;
		case RBLK_A_CURRENT_UUID:
			md->current_uuid = get_uint(a);
			md->has_current_uuid = true;
			break;
		case RBLK_A_HISTORY_UUIDS:
			md->n_history = (unsigned int)nla_len(a) / sizeof(uint64_t);
			if (md->n_history > RBLK_MD_HISTORY_UUIDS)
				md->n_history = RBLK_MD_HISTORY_UUIDS;
			for (i = 0; i < md->n_history; i++)
				memcpy(&md->history[i], (const char *)nla_data(a) + i * sizeof(uint64_t),
				       sizeof(uint64_t));
			break;
		case RBLK_A_BM_BLOCK_BYTES:
			md->bm_block_bytes = (uint32_t)get_uint(a);
			md->has_bm_block = true;
			break;
		case RBLK_A_AL_EXTENT_BYTES:
			md->al_extent_bytes = (uint32_t)get_uint(a);
			md->has_al_extent = true;
			break;
		case RBLK_A_MAX_PEERS:
			md->max_peers = (uint32_t)get_uint(a);
			md->has_max_peers = true;
			break;
		case RBLK_A_PEER:
			parse_md_slot(a, md);
			break;
		default:
			break;
		}
	}
	return 0;
}

struct mdarg {
	struct kmd *md;
	bool got;
};

static int md_cb(struct nl_msg *msg, void *arg)
{
	struct mdarg *m = arg;

	rnl_parse_md(nlmsg_hdr(msg), m->md);
	m->got = true;
	return NL_OK;
}

int rnl_md_dump(struct nlctx *ctx, const struct rblk_req *req, struct kmd *md,
		struct nl_result *res)
{
	struct mdarg m = { md, false };
	int ret;

	memset(md, 0, sizeof(*md));
	ret = transact(ctx, req, 0, md_cb, &m, res);
	if (ret == EXIT_OK && !m.got) {
		snprintf(res->msg, sizeof(res->msg), "no reply to dump-md");
		ret = EXIT_SYSTEM;
	}
	return ret;
}

/* --------------------------------------------------------------- events */

int rnl_parse_event(struct nlmsghdr *nlh, struct kevent *ev)
{
	struct genlmsghdr *g = nlmsg_data(nlh);
	struct nlattr *a, *b;
	int rem, rem2;

	memset(ev, 0, sizeof(*ev));
	nla_for_each_attr(a, genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0), rem) {
		switch (nla_type(a)) {
		case RBLK_A_EVENT: ev->event = (unsigned int)get_uint(a); break;
		case RBLK_A_MINOR: ev->minor = (uint32_t)get_uint(a); ev->has_minor = true; break;
		case RBLK_A_RESOURCE_NAME:
			get_str(a, ev->name, sizeof(ev->name));
			ev->has_name = true;
			break;
		case RBLK_A_PEER_NODE_ID:
			ev->peer_node_id = (uint32_t)get_uint(a);
			ev->has_peer = true;
			break;
		case RBLK_A_ROLE: ev->role = (uint8_t)get_uint(a); ev->has_value_role = true; break;
		case RBLK_A_DISK_STATE:
			ev->disk_state = (uint8_t)get_uint(a);
			ev->has_value_disk = true;
			break;
		case RBLK_A_CONN_STATE:
			ev->conn_state = (uint8_t)get_uint(a);
			ev->has_value_conn = true;
			break;
		case RBLK_A_PEER_ROLE:
			ev->peer_role = (uint8_t)get_uint(a);
			ev->has_peer_role = true;
			break;
		case RBLK_A_PEER_DISK_STATE:
			ev->peer_disk_state = (uint8_t)get_uint(a);
			ev->has_peer_disk = true;
			break;
		case RBLK_A_LAST_ERROR:
			get_str(a, ev->last_error, sizeof(ev->last_error));
			break;
		case RBLK_A_REPL_STATE:
			ev->repl_state = (uint8_t)get_uint(a);
			ev->has_repl_state = true;
			break;
		case RBLK_A_CURRENT_UUID:
			ev->current_uuid = get_uint(a);
			ev->has_current_uuid = true;
			break;
		case RBLK_A_PEER:
			/* peer attributes may come nested: flatten them */
			nla_for_each_nested(b, a, rem2) {
				switch (nla_type(b)) {
				case RBLK_A_PEER_NODE_ID:
					ev->peer_node_id = (uint32_t)get_uint(b);
					ev->has_peer = true;
					break;
				case RBLK_A_CONN_STATE:
					ev->conn_state = (uint8_t)get_uint(b);
					ev->has_value_conn = true;
					break;
				case RBLK_A_PEER_ROLE:
					ev->peer_role = (uint8_t)get_uint(b);
					ev->has_peer_role = true;
					break;
				case RBLK_A_PEER_DISK_STATE:
					ev->peer_disk_state = (uint8_t)get_uint(b);
					ev->has_peer_disk = true;
					break;
				case RBLK_A_LAST_ERROR:
					get_str(b, ev->last_error, sizeof(ev->last_error));
					break;
				case RBLK_A_REPL_STATE:
					ev->repl_state = (uint8_t)get_uint(b);
					ev->has_repl_state = true;
					break;
				default:
					break;
				}
			}
			break;
		default:
			parse_quorum_state(a, &ev->qstate);
			parse_fence_state(a, &ev->fstate);
			break;
		}
	}
	return 0;
}

struct evarg {
	void (*fn)(const struct kevent *, void *);
	void *arg;
};

static int event_cb(struct nl_msg *msg, void *arg)
{
	struct evarg *ea = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *g = nlmsg_data(nlh);
	struct kevent ev;

	if (g->cmd != RBLK_CMD_EVENT)
		return NL_SKIP;
	rnl_parse_event(nlh, &ev);
	ea->fn(&ev, ea->arg);
	return NL_OK;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int rnl_events(struct nlctx *ctx, int timeout_ms, void (*fn)(const struct kevent *, void *),
	       void (*sync)(bool lost, void *), void *arg, char *err, size_t errlen)
{
	struct evarg ea = { fn, arg };
	struct nl_sock *sk;
	struct pollfd pfd;
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
	int grp, r, ret = EXIT_OK;

	grp = genl_ctrl_resolve_grp(ctx->sk, RBLK_GENL_NAME, RBLK_GENL_MCGRP_EVENTS);
	if (grp < 0) {
		snprintf(err, errlen, "rblk multicast group '%s' not found: %s",
			 RBLK_GENL_MCGRP_EVENTS, nl_geterror(grp));
		return EXIT_NOMODULE;
	}
	sk = nl_socket_alloc();
	if (!sk) {
		snprintf(err, errlen, "out of memory");
		return EXIT_SYSTEM;
	}
	nl_socket_disable_seq_check(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, event_cb, &ea);
	r = genl_connect(sk);
	if (r >= 0)
		r = nl_socket_add_membership(sk, grp);
	/* room for bursts (a reconnect storm): fewer lost events */
	if (r >= 0)
		nl_socket_set_buffer_size(sk, 1 << 20, 0);
	if (r < 0) {
		snprintf(err, errlen, "cannot subscribe to events: %s", nl_geterror(r));
		nl_socket_free(sk);
		return EXIT_SYSTEM;
	}
	pfd.fd = nl_socket_get_fd(sk);
	pfd.events = POLLIN;
	/* subscribed first: nothing that changes from now on is missed */
	if (sync)
		sync(false, arg);
	for (;;) {
		int wait = -1;

		if (deadline >= 0) {
			int64_t left = deadline - now_ms();

			if (left <= 0)
				break;
			wait = (int)left;
		}
		r = poll(&pfd, 1, wait);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			ret = EXIT_SYSTEM;
			break;
		}
		if (r == 0)
			continue;
		r = nl_recvmsgs_default(sk);
		if (r == -NLE_NOMEM) {
			/* ENOBUFS: the socket overran; say so and go on */
			fprintf(stderr, "rblkadm: events: some events were lost (receive buffer overrun)\n");
			if (sync)
				sync(true, arg);
			continue;
		}
		if (r < 0) {
			snprintf(err, errlen, "receive: %s", nl_geterror(r));
			ret = EXIT_SYSTEM;
			break;
		}
	}
	nl_socket_free(sk);
	return ret;
}
