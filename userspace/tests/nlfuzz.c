// SPDX-License-Identifier: GPL-2.0
/*
 * nlfuzz - random requests against the generic netlink family "rblk".
 *
 *   nlfuzz [--seed N] [--messages N] [--senders N] [--disk PATH]...
 *   nlfuzz --unprivileged
 *
 * Fuzzing: each sender (a process; --senders of them at once) sends its
 * share of --messages requests built from the family's own grammar: a
 * command (now and then one the family does not have), header flags (ACK
 * always, DUMP sometimes), a random set of attributes, mostly of the type
 * and within the range rblk.h documents (so that requests pass the policy
 * and reach the handlers: minors 0..3, node ids 0..3, the disks named by
 * --disk, loopback or rig addresses only), otherwise broken: another
 * length, an out-of-range value, a string without its NUL or too long,
 * a nested attribute with members of its own or of unknown types,
 * attribute types past the last one, a truncated message.  Every request
 * is answered (a reply, an ACK or an error) before the next; the errnos
 * are counted.  Deterministic for a seed (glibc random_r, one state per
 * sender); the seed is printed.  No peer address leaves the machine: the
 * addresses of a well-formed IP attribute are 127.0.0.1, ::1 or 10.99.x.y.
 *
 * --unprivileged: every command but STATUS must fail with EPERM, a STATUS
 * dump must succeed.  Run it as an unprivileged user.
 *
 * Output: one JSON line, {"seed":..,"messages":..,"answered":..,"ok":..,
 * "errnos":{"EINVAL":n,...}} (fuzzing) or {"eperm":n,"status_ok":1,
 * "wrong":[...]} (--unprivileged).  Exit 0 when every request was
 * answered (and, unprivileged, every answer was the expected one), 1
 * otherwise, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include <linux/rblk.h>

#define MAX_DISKS 4
#define MAX_ERRNO 140

enum kind {
	K_RAW,		/* no documented request type: random bytes */
	K_U8, K_U16, K_U32, K_U64, K_S32,
	K_FLAG,
	K_NAME,		/* NUL-terminated, < RBLK_NAME_MAX_BYTES */
	K_PATH,		/* NUL-terminated, < RBLK_PATH_MAX_BYTES */
	K_IP,		/* 4 or 16 bytes */
	K_PORT,
	K_MINOR, K_NODE,
	K_NEST,
};

/* Request types of the attributes (rblk.h); the others are K_RAW. */
static enum kind attr_kind(int type)
{
	switch (type) {
	case RBLK_A_MINOR:
		return K_MINOR;
	case RBLK_A_NODE_ID:
	case RBLK_A_PEER_NODE_ID:
		return K_NODE;
	case RBLK_A_RESOURCE_NAME:
	case RBLK_A_CLUSTER_NAME:
		return K_NAME;
	case RBLK_A_BACKING_PATH:
	case RBLK_A_META_PATH:
	case RBLK_A_FENCE_HANDLER:
	case RBLK_A_LAST_ERROR:
		return K_PATH;
	case RBLK_A_ASSUME_UPTODATE:
	case RBLK_A_FORCE:
	case RBLK_A_PEER_WITNESS:
	case RBLK_A_CLEAR_BITMAP:
	case RBLK_A_DISCARD_MY_DATA:
	case RBLK_A_IGNORE_QUORUM:
	case RBLK_A_SPLIT_BRAIN:
		return K_FLAG;
	case RBLK_A_PEER_IP:
	case RBLK_A_LOCAL_IP:
		return K_IP;
	case RBLK_A_PEER_PORT:
	case RBLK_A_LOCAL_PORT:
		return K_PORT;
	case RBLK_A_ON_IO_ERROR:
	case RBLK_A_ON_NO_QUORUM:
	case RBLK_A_AUTO_PROMOTE:
	case RBLK_A_FENCING:
	case RBLK_A_ROLE:
	case RBLK_A_DISK_STATE:
	case RBLK_A_REPL_STATE:
	case RBLK_A_EVENT:
	case RBLK_A_AUTH:
	case RBLK_A_DATA_DIGEST:
	case RBLK_A_READ_BALANCING:
		return K_U8;
	case RBLK_A_PING_INTERVAL_MS:
	case RBLK_A_PING_TIMEOUT_MS:
	case RBLK_A_CONNECT_TIMEOUT_MS:
	case RBLK_A_RECONNECT_MIN_MS:
	case RBLK_A_RECONNECT_MAX_MS:
	case RBLK_A_REQUEST_TIMEOUT_MS:
	case RBLK_A_KO_COUNT:
	case RBLK_A_MAX_PEERS:
	case RBLK_A_RESYNC_RATE_KIB_PER_S:
	case RBLK_A_RESYNC_LATENCY_MS:
	case RBLK_A_QUORUM:
	case RBLK_A_LOGICAL_BLOCK_SIZE_BYTES:
		return K_U32;
	case RBLK_A_SIZE_SECTORS:
	case RBLK_A_CURRENT_UUID:
		return K_U64;
	case RBLK_A_FENCE_RESULT:
		return K_S32;
	case RBLK_A_PEER:
	case RBLK_A_STATS:
		return K_NEST;
	default:
		return K_RAW;
	}
}

struct sender {
	struct random_data rnd;
	char state[64];
	struct nl_sock *sk;
	int family;
	const char *disks[MAX_DISKS];
	int n_disks;
	/* results */
	unsigned long answered, ok, errnos[MAX_ERRNO + 1];
	int last_err;
};

static uint32_t rnd32(struct sender *s)
{
	int32_t r;

	random_r(&s->rnd, &r);	/* 31 random bits */
	return (uint32_t)r ^ ((uint32_t)r << 17);
}

static uint32_t below(struct sender *s, uint32_t n)
{
	return n ? rnd32(s) % n : 0;
}

/* True with a probability of pct percent. */
static bool chance(struct sender *s, unsigned int pct)
{
	return below(s, 100) < pct;
}

static uint64_t interesting(struct sender *s, unsigned int bytes)
{
	static const uint64_t values[] = {
		0, 1, 2, 3, 4, 7, 9, 10, 31, 32, 100, 512, 1023, 1024, 4096,
		65535, 65536, 600000, 600001, 0x7fffffff, 0x80000000, 0xffffffff,
		0x100000000ULL, ~0ULL,
	};
	uint64_t v = chance(s, 70) ? values[below(s, sizeof(values) / sizeof(values[0]))] :
		     ((uint64_t)rnd32(s) << 32 | rnd32(s));

	return bytes >= 8 ? v : v & ((1ULL << (bytes * 8)) - 1);
}

static void random_bytes(struct sender *s, char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)rnd32(s);
}

/* A string value of at most max bytes with its NUL (or broken). */
static int put_string(struct sender *s, struct nl_msg *msg, int type, size_t max, bool path)
{
	static const char *const names[] = { "r0", "fz", "r1", "rig", "a", "" };
	static const char *const paths[] = { "/dev/null", "/nonexistent", "relative", "/",
					     "/bin/true", "/bin/false", "" };
	char buf[1024];
	size_t len;

	switch (below(s, 10)) {
	case 0:		/* too long */
		len = max + below(s, 300);
		memset(buf, 'x', len);
		buf[len] = '\0';
		return nla_put(msg, type, (int)len + 1, buf);
	case 1:		/* no NUL */
		len = 1 + below(s, 40);
		memset(buf, 'y', len);
		return nla_put(msg, type, (int)len, buf);
	case 2:		/* random bytes */
		len = below(s, 80);
		random_bytes(s, buf, len);
		return nla_put(msg, type, (int)len, buf);
	default:
		if (path && s->n_disks && chance(s, 60))
			return nla_put_string(msg, type, s->disks[below(s, s->n_disks)]);
		if (path)
			return nla_put_string(msg, type, paths[below(s, sizeof(paths) / sizeof(paths[0]))]);
		return nla_put_string(msg, type, names[below(s, sizeof(names) / sizeof(names[0]))]);
	}
}

static int put_ip(struct sender *s, struct nl_msg *msg, int type)
{
	unsigned char v4[4] = { 10, 99, 0, 0 }, v6[16] = { 0 };

	switch (below(s, 6)) {
	case 0:
		v4[0] = 127;
		v4[1] = 0;
		v4[3] = 1;
		return nla_put(msg, type, 4, v4);
	case 1:
		v4[2] = (unsigned char)below(s, 40);
		v4[3] = (unsigned char)below(s, 4);
		return nla_put(msg, type, 4, v4);
	case 2:
		v6[15] = 1;
		return nla_put(msg, type, 16, v6);
	case 3:		/* multicast, broadcast, any */
		memset(v4, below(s, 2) ? 0xff : 0, 4);
		if (chance(s, 30))
			v4[0] = 224;
		return nla_put(msg, type, 4, v4);
	default:	/* a wrong length: never a usable address */
		{
			unsigned char buf[40];
			int len = (int)below(s, sizeof(buf));

			if (len == 4 || len == 16)
				len++;
			random_bytes(s, (char *)buf, (size_t)len);
			return nla_put(msg, type, len, buf);
		}
	}
}

/* An attribute of a type whose kind is known, with its type mostly right. */
static int put_attr(struct sender *s, struct nl_msg *msg, int type, int depth);

static int put_nest(struct sender *s, struct nl_msg *msg, int type, int depth)
{
	struct nlattr *nest = nla_nest_start(msg, type);
	int n = (int)below(s, 5);

	if (!nest)
		return -1;
	for (int i = 0; i < n; i++)
		if (put_attr(s, msg, (int)below(s, RBLK_A_MAX + 4), depth + 1) < 0)
			return -1;
	return nla_nest_end(msg, nest);
}

static int put_attr(struct sender *s, struct nl_msg *msg, int type, int depth)
{
	enum kind k = attr_kind(type);
	uint64_t v;

	/* one in eight: the right attribute with another kind's payload */
	if (chance(s, 12))
		k = (enum kind)below(s, K_NEST + 1);
	if (k == K_NEST && depth >= 2)
		k = K_RAW;

	switch (k) {
	case K_U8:
		return nla_put_u8(msg, type, (uint8_t)interesting(s, 1));
	case K_U16:
		return nla_put_u16(msg, type, (uint16_t)interesting(s, 2));
	case K_U32:
	case K_S32:
		return nla_put_u32(msg, type, (uint32_t)interesting(s, 4));
	case K_U64:
		return nla_put_u64(msg, type, interesting(s, 8));
	case K_FLAG:
		return chance(s, 90) ? nla_put_flag(msg, type) : nla_put_u8(msg, type, 1);
	case K_NAME:
		return put_string(s, msg, type, RBLK_NAME_MAX_BYTES, false);
	case K_PATH:
		return put_string(s, msg, type, RBLK_PATH_MAX_BYTES, true);
	case K_IP:
		return put_ip(s, msg, type);
	case K_PORT:
		return nla_put_u16(msg, type, chance(s, 80) ? (uint16_t)(7700 + below(s, 8)) :
				   (uint16_t)interesting(s, 2));
	case K_MINOR:
		return nla_put_u32(msg, type, chance(s, 85) ? below(s, 4) : (uint32_t)interesting(s, 4));
	case K_NODE:
		return nla_put_u32(msg, type, chance(s, 85) ? below(s, 4) : (uint32_t)interesting(s, 4));
	case K_NEST:
		return put_nest(s, msg, type, depth);
	case K_RAW:
	default:
		{
			char buf[64];
			size_t len = below(s, sizeof(buf));

			v = interesting(s, 8);
			memcpy(buf, &v, len < sizeof(v) ? len : sizeof(v));
			if (len > sizeof(v))
				random_bytes(s, buf + sizeof(v), len - sizeof(v));
			return nla_put(msg, type, (int)len, buf);
		}
	}
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	struct sender *s = arg;

	(void)nla;
	s->last_err = err->error;
	return NL_STOP;
}

static int on_finish(struct nl_msg *msg, void *arg)
{
	struct sender *s = arg;

	(void)msg;
	s->last_err = 0;
	return NL_STOP;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

static int open_family(struct sender *s)
{
	s->sk = nl_socket_alloc();
	if (!s->sk || genl_connect(s->sk) < 0) {
		fprintf(stderr, "nlfuzz: cannot open a generic netlink socket\n");
		return -1;
	}
	s->family = genl_ctrl_resolve(s->sk, RBLK_GENL_NAME);
	if (s->family < 0) {
		fprintf(stderr, "nlfuzz: no generic netlink family \"%s\" (module not loaded?)\n",
			RBLK_GENL_NAME);
		return -1;
	}
	nl_socket_set_buffer_size(s->sk, 1 << 20, 1 << 20);
	nl_socket_modify_cb(s->sk, NL_CB_VALID, NL_CB_CUSTOM, on_valid, s);
	nl_socket_modify_cb(s->sk, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, s);
	nl_socket_modify_cb(s->sk, NL_CB_ACK, NL_CB_CUSTOM, on_finish, s);
	nl_socket_modify_err_cb(s->sk, NL_CB_CUSTOM, on_error, s);
	return 0;
}

/*
 * Send msg and read until its answer (ACK, DONE or error); *err gets the
 * errno of the answer (0: success).  Returns false when no answer came.
 */
static bool exchange(struct sender *s, struct nl_msg *msg, int *err)
{
	int ret;

	s->last_err = 1;	/* no answer yet */
	if (nl_send_auto(s->sk, msg) < 0)
		return false;
	while (s->last_err == 1) {
		ret = nl_recvmsgs_default(s->sk);
		if (ret < 0 && s->last_err == 1) {
			*err = ret;
			return false;
		}
	}
	*err = -s->last_err;
	return true;
}

static struct nl_msg *new_request(struct sender *s, int cmd, int flags, uint8_t version)
{
	struct nl_msg *msg = nlmsg_alloc_size(16384);

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, s->family, 0, flags, (uint8_t)cmd,
			 version)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static int fuzz_one(struct sender *s)
{
	int cmd = chance(s, 95) ? (int)(1 + below(s, RBLK_CMD_MAX)) : (int)below(s, 256);
	int flags = NLM_F_ACK | (chance(s, 10) ? NLM_F_DUMP : 0);
	uint8_t version = chance(s, 97) ? RBLK_GENL_VERSION : (uint8_t)rnd32(s);
	struct nl_msg *msg = new_request(s, cmd, flags, version);
	int n = (int)below(s, 9), err;

	if (!msg)
		return -1;
	if (chance(s, 90) && nla_put_u32(msg, RBLK_A_MINOR, below(s, 4)) < 0)
		goto full;
	for (int i = 0; i < n; i++) {
		int type = chance(s, 95) ? (int)(1 + below(s, RBLK_A_MAX)) :
			   (int)below(s, 0x4000);

		if (put_attr(s, msg, type, 0) < 0)
			break;	/* message full: send what is there */
	}
	if (chance(s, 3)) {	/* truncated: cut the last bytes off */
		struct nlmsghdr *nlh = nlmsg_hdr(msg);
		uint32_t min = NLMSG_HDRLEN + GENL_HDRLEN;

		if (nlh->nlmsg_len > min)
			nlh->nlmsg_len -= 1 + below(s, nlh->nlmsg_len - min);
	}
full:
	if (!exchange(s, msg, &err)) {
		nlmsg_free(msg);
		return -1;
	}
	nlmsg_free(msg);
	s->answered++;
	if (!err)
		s->ok++;
	else
		s->errnos[err > 0 && err <= MAX_ERRNO ? err : 0]++;
	return 0;
}

static void print_counts(const char *key, const unsigned long *errnos, unsigned long seed,
			 unsigned long messages, unsigned long answered, unsigned long ok)
{
	bool first = true;

	printf("{\"%s\":%lu,\"messages\":%lu,\"answered\":%lu,\"ok\":%lu,\"errnos\":{",
	       key, seed, messages, answered, ok);
	for (int e = 0; e <= MAX_ERRNO; e++) {
		if (!errnos[e])
			continue;
		printf("%s\"%s\":%lu", first ? "" : ",",
		       e ? (strerrorname_np(e) ?: "E?") : "other", errnos[e]);
		first = false;
	}
	printf("}}\n");
}

/* One sender; its counters go to the parent through fd. */
static int run_sender(struct sender *s, unsigned long seed, unsigned long messages, int fd)
{
	unsigned long failed = 0;

	if (initstate_r((unsigned int)seed, s->state, sizeof(s->state), &s->rnd) < 0 ||
	    open_family(s) < 0)
		return 1;
	for (unsigned long i = 0; i < messages; i++)
		if (fuzz_one(s) < 0)
			failed++;
	if (write(fd, &s->answered, sizeof(s->answered)) != sizeof(s->answered) ||
	    write(fd, &s->ok, sizeof(s->ok)) != sizeof(s->ok) ||
	    write(fd, s->errnos, sizeof(s->errnos)) != sizeof(s->errnos))
		return 1;
	return failed ? 1 : 0;
}

static int unprivileged(void)
{
	struct sender s = { 0 };
	unsigned long eperm = 0;
	int err, status_err, wrong = 0;
	struct nl_msg *msg;

	if (open_family(&s) < 0)
		return 1;
	printf("{\"wrong\":[");
	for (int cmd = 1; cmd <= RBLK_CMD_MAX; cmd++) {
		if (cmd == RBLK_CMD_STATUS || cmd == RBLK_CMD_EVENT)
			continue;
		msg = new_request(&s, cmd, NLM_F_ACK, RBLK_GENL_VERSION);
		if (!msg || nla_put_u32(msg, RBLK_A_MINOR, 0) < 0 || !exchange(&s, msg, &err))
			err = -1000;
		nlmsg_free(msg);
		if (err == EPERM) {
			eperm++;
		} else {
			printf("%s{\"cmd\":%d,\"errno\":%d}", wrong ? "," : "", cmd, err);
			wrong++;
		}
	}
	msg = new_request(&s, RBLK_CMD_STATUS, NLM_F_ACK | NLM_F_DUMP, RBLK_GENL_VERSION);
	if (!msg || !exchange(&s, msg, &status_err))
		status_err = -1000;
	nlmsg_free(msg);
	printf("],\"eperm\":%lu,\"status_errno\":%d}\n", eperm, status_err);
	return wrong || status_err ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: nlfuzz [--seed N] [--messages N] [--senders N] [--disk PATH]...\n"
			"       nlfuzz --unprivileged\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "messages", required_argument, NULL, 'm' },
		{ "senders", required_argument, NULL, 'n' },
		{ "disk", required_argument, NULL, 'd' },
		{ "unprivileged", no_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long seed = (unsigned long)getpid() ^ (unsigned long)time(NULL);
	unsigned long messages = 100000, senders = 2, answered = 0, ok = 0;
	unsigned long errnos[MAX_ERRNO + 1] = { 0 };
	struct sender proto = { 0 };
	int opt, rc = 0, pipes[16][2];

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			seed = strtoul(optarg, NULL, 0);
			break;
		case 'm':
			messages = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			senders = strtoul(optarg, NULL, 0);
			break;
		case 'd':
			if (proto.n_disks == MAX_DISKS) {
				usage();
				return 2;
			}
			proto.disks[proto.n_disks++] = optarg;
			break;
		case 'u':
			return unprivileged();
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc || !senders || senders > 16) {
		usage();
		return 2;
	}
	fprintf(stderr, "nlfuzz: seed %lu, %lu messages, %lu senders\n", seed, messages, senders);
	fflush(stderr);
	fflush(stdout);
	for (unsigned long i = 0; i < senders; i++) {
		unsigned long share = messages / senders + (i < messages % senders);
		pid_t pid;

		if (pipe(pipes[i]) < 0)
			return 1;
		pid = fork();
		if (pid < 0)
			return 1;
		if (!pid) {
			close(pipes[i][0]);
			_exit(run_sender(&proto, seed + i, share, pipes[i][1]));
		}
		close(pipes[i][1]);
	}
	for (unsigned long i = 0; i < senders; i++) {
		unsigned long a, o, e[MAX_ERRNO + 1];

		if (read(pipes[i][0], &a, sizeof(a)) != sizeof(a) ||
		    read(pipes[i][0], &o, sizeof(o)) != sizeof(o) ||
		    read(pipes[i][0], e, sizeof(e)) != sizeof(e))
			rc = 1;
		else {
			answered += a;
			ok += o;
			for (int j = 0; j <= MAX_ERRNO; j++)
				errnos[j] += e[j];
		}
		close(pipes[i][0]);
	}
	for (unsigned long i = 0; i < senders; i++) {
		int status;

		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			rc = 1;
	}
	print_counts("seed", errnos, seed, messages, answered, ok);
	return rc || answered != messages;
}
