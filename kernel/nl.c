// SPDX-License-Identifier: GPL-2.0
/*
 * rblk - the generic netlink family "rblk": configuration, status and events.
 *
 * The contract is <linux/rblk.h>; Documentation/netlink.rst describes every
 * command, its attributes and its errors.  This file only validates and
 * translates: every request is checked against a strict policy, required
 * attributes are enforced with GENL_REQ_ATTR_CHECK, cross-attribute rules
 * are checked here with an extack message naming the attribute, and the
 * work is done by the management API (main.c, conn.c), which sets its own
 * extack messages.
 *
 * The family is parallel_ops: handlers run in process context without the
 * genetlink mutex, concurrently, and hold no rblk lock; the management API
 * serialises the calls of each device itself (main.c), so a call that waits
 * for the network or a disk holds up no other device.
 *
 * Events are built by rblk_nl_notify() in any context and multicast from a
 * work item, in the order they were raised.
 */

#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <net/ipv6.h>

#include "rblk.h"

/* Events waiting for the work item; more are dropped (events are lossy). */
#define RBLK_NL_EVENT_QUEUE_MAX	4096
/* Longest RBLK_A_LAST_ERROR of an event, bytes including the NUL. */
#define RBLK_NL_MESSAGE_MAX_BYTES	256

/* not const: the 6.1 policy takes a non-const pointer */
static struct netlink_range_validation rblk_nl_timeout_range = {
	.min = RBLK_TIMEOUT_MS_MIN,
	.max = RBLK_TIMEOUT_MS_MAX,
};

/* beyond the s16 of NLA_POLICY_MAX */
static struct netlink_range_validation rblk_nl_rate_range = {
	.max = RBLK_RESYNC_RATE_KIB_PER_S_MAX,
};

/*
 * One policy for the whole family.  Attributes that only the kernel sends
 * (state, counters, nests) have no entry, so strict validation rejects them
 * in requests.
 */
static const struct nla_policy rblk_nl_policy[RBLK_A_MAX + 1] = {
	[RBLK_A_MINOR]			= NLA_POLICY_MAX(NLA_U32, RBLK_MAX_MINOR),
	[RBLK_A_RESOURCE_NAME]		= { .type = NLA_NUL_STRING,
					    .len = RBLK_NAME_MAX_BYTES - 1 },
	[RBLK_A_CLUSTER_NAME]		= { .type = NLA_NUL_STRING,
					    .len = RBLK_NAME_MAX_BYTES - 1 },
	[RBLK_A_NODE_ID]		= NLA_POLICY_MAX(NLA_U32, RBLK_MAX_NODE_ID),
	[RBLK_A_BACKING_PATH]		= { .type = NLA_NUL_STRING,
					    .len = RBLK_PATH_MAX_BYTES - 1 },
	[RBLK_A_ASSUME_UPTODATE]	= { .type = NLA_FLAG },
	[RBLK_A_ON_IO_ERROR]		= NLA_POLICY_MAX(NLA_U8, __RBLK_ON_IO_ERROR_MAX - 1),
	[RBLK_A_FORCE]			= { .type = NLA_FLAG },
	[RBLK_A_PEER_NODE_ID]		= NLA_POLICY_MAX(NLA_U32, RBLK_MAX_NODE_ID),
	[RBLK_A_PEER_IP]		= { .type = NLA_BINARY,
					    .len = sizeof(struct in6_addr) },
	[RBLK_A_PEER_PORT]		= NLA_POLICY_MIN(NLA_U16, 1),
	[RBLK_A_LOCAL_IP]		= { .type = NLA_BINARY,
					    .len = sizeof(struct in6_addr) },
	[RBLK_A_LOCAL_PORT]		= NLA_POLICY_MIN(NLA_U16, 1),
	[RBLK_A_PING_INTERVAL_MS]	= NLA_POLICY_FULL_RANGE(NLA_U32, &rblk_nl_timeout_range),
	[RBLK_A_PING_TIMEOUT_MS]	= NLA_POLICY_FULL_RANGE(NLA_U32, &rblk_nl_timeout_range),
	[RBLK_A_CONNECT_TIMEOUT_MS]	= NLA_POLICY_FULL_RANGE(NLA_U32, &rblk_nl_timeout_range),
	[RBLK_A_RECONNECT_MIN_MS]	= NLA_POLICY_FULL_RANGE(NLA_U32, &rblk_nl_timeout_range),
	[RBLK_A_RECONNECT_MAX_MS]	= NLA_POLICY_FULL_RANGE(NLA_U32, &rblk_nl_timeout_range),
	[RBLK_A_REQUEST_TIMEOUT_MS]	= NLA_POLICY_FULL_RANGE(NLA_U32, &rblk_nl_timeout_range),
	[RBLK_A_KO_COUNT]		= NLA_POLICY_RANGE(NLA_U32, 1, RBLK_KO_COUNT_MAX),
	[RBLK_A_PEER_WITNESS]		= { .type = NLA_FLAG },
	[RBLK_A_RESYNC_RATE_KIB_PER_S]	= NLA_POLICY_FULL_RANGE(NLA_U32, &rblk_nl_rate_range),
	[RBLK_A_RESYNC_LATENCY_MS]	= NLA_POLICY_RANGE(NLA_U32, RBLK_RESYNC_LATENCY_MS_MIN,
							   RBLK_RESYNC_LATENCY_MS_MAX),
	[RBLK_A_META_PATH]		= { .type = NLA_NUL_STRING,
					    .len = RBLK_PATH_MAX_BYTES - 1 },
	[RBLK_A_MAX_PEERS]		= NLA_POLICY_RANGE(NLA_U32, 1, RBLK_MAX_NODE_ID),
	[RBLK_A_CLEAR_BITMAP]		= { .type = NLA_FLAG },
	[RBLK_A_DISCARD_MY_DATA]	= { .type = NLA_FLAG },
	[RBLK_A_QUORUM]			= { .type = NLA_U32 },	/* checked by the handler */
	[RBLK_A_ON_NO_QUORUM]		= NLA_POLICY_MAX(NLA_U8, __RBLK_ON_NO_QUORUM_MAX - 1),
	[RBLK_A_IGNORE_QUORUM]		= { .type = NLA_FLAG },
	[RBLK_A_AUTO_PROMOTE]		= NLA_POLICY_MAX(NLA_U8, 1),
	[RBLK_A_FENCING]		= NLA_POLICY_MAX(NLA_U8, __RBLK_FENCING_MAX - 1),
	[RBLK_A_FENCE_HANDLER]		= { .type = NLA_NUL_STRING,
					    .len = RBLK_PATH_MAX_BYTES - 1 },
	/* 0 (none) or RBLK_AUTH_SECRET_MIN_BYTES.., checked by the handler */
	[RBLK_A_AUTH_SECRET]		= { .type = NLA_BINARY,
					    .len = RBLK_AUTH_SECRET_MAX_BYTES },
	[RBLK_A_DATA_DIGEST]		= NLA_POLICY_MAX(NLA_U8, __RBLK_DATA_DIGEST_MAX - 1),
	[RBLK_A_READ_BALANCING]		= NLA_POLICY_MAX(NLA_U8, __RBLK_READ_BALANCING_MAX - 1),
};

static struct genl_family rblk_nl_family;

static struct sk_buff_head rblk_nl_events;
static bool rblk_nl_registered;

/* Every handler needs the minor. */
static int rblk_nl_get_minor(struct genl_info *info, u32 *minor)
{
	if (GENL_REQ_ATTR_CHECK(info, RBLK_A_MINOR))
		return -EINVAL;
	*minor = nla_get_u32(info->attrs[RBLK_A_MINOR]);
	return 0;
}

#define RBLK_NL_NAME_RULE \
	"names are made of A-Z a-z 0-9 . _ - and do not start with . or -"

static int rblk_nl_device_create(struct sk_buff *skb, struct genl_info *info)
{
	struct rblk_device_config cfg = {};
	struct nlattr *attr;
	int ret;

	ret = rblk_nl_get_minor(info, &cfg.minor);
	if (ret)
		return ret;
	if (GENL_REQ_ATTR_CHECK(info, RBLK_A_RESOURCE_NAME) ||
	    GENL_REQ_ATTR_CHECK(info, RBLK_A_NODE_ID))
		return -EINVAL;

	attr = info->attrs[RBLK_A_RESOURCE_NAME];
	nla_strscpy(cfg.resource_name, attr, sizeof(cfg.resource_name));
	if (!cfg.resource_name[0]) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "resource name must not be empty");
		return -EINVAL;
	}
	if (!rblk_name_valid(cfg.resource_name)) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, RBLK_NL_NAME_RULE);
		return -EINVAL;
	}
	attr = info->attrs[RBLK_A_CLUSTER_NAME];
	if (attr) {
		nla_strscpy(cfg.cluster_name, attr, sizeof(cfg.cluster_name));
		if (cfg.cluster_name[0] && !rblk_name_valid(cfg.cluster_name)) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr, RBLK_NL_NAME_RULE);
			return -EINVAL;
		}
	}
	cfg.node_id = nla_get_u32(info->attrs[RBLK_A_NODE_ID]);

	return rblk_device_create(&cfg, info->extack);
}

static int rblk_nl_device_delete(struct sk_buff *skb, struct genl_info *info)
{
	u32 minor;
	int ret;

	ret = rblk_nl_get_minor(info, &minor);
	if (ret)
		return ret;
	return rblk_device_delete(minor, info->extack);
}

static int rblk_nl_put_u64(struct sk_buff *skb, int type, u64 value);

/* An absolute path attribute into @path; -EINVAL with extack otherwise. */
static int rblk_nl_get_path(struct genl_info *info, int type, char *path)
{
	struct nlattr *attr = info->attrs[type];

	nla_strscpy(path, attr, RBLK_PATH_MAX_BYTES);
	if (path[0] != '/') {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "path must be absolute");
		return -EINVAL;
	}
	return 0;
}

/* BACKING_PATH (required) and META_PATH (optional, else ""). */
static int rblk_nl_get_paths(struct genl_info *info, char *path, char *meta_path)
{
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, RBLK_A_BACKING_PATH))
		return -EINVAL;
	ret = rblk_nl_get_path(info, RBLK_A_BACKING_PATH, path);
	meta_path[0] = '\0';
	if (!ret && info->attrs[RBLK_A_META_PATH])
		ret = rblk_nl_get_path(info, RBLK_A_META_PATH, meta_path);
	return ret;
}

static int rblk_nl_attach(struct sk_buff *skb, struct genl_info *info)
{
	char path[RBLK_PATH_MAX_BYTES], meta_path[RBLK_PATH_MAX_BYTES];
	u32 minor;
	int ret;

	ret = rblk_nl_get_minor(info, &minor);
	if (ret)
		return ret;
	if (info->attrs[RBLK_A_ASSUME_UPTODATE]) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[RBLK_A_ASSUME_UPTODATE],
				    "assume-uptodate is gone: the metadata decides (create-md, new-current-uuid --clear-bitmap)");
		return -EINVAL;
	}
	ret = rblk_nl_get_paths(info, path, meta_path);
	if (ret)
		return ret;
	return rblk_device_attach(minor, path, meta_path[0] ? meta_path : NULL,
				  info->attrs[RBLK_A_ON_IO_ERROR] ?
				  nla_get_u8(info->attrs[RBLK_A_ON_IO_ERROR]) :
				  RBLK_ON_IO_ERROR_DETACH,
				  info->extack);
}

static int rblk_nl_md_create(struct sk_buff *skb, struct genl_info *info)
{
	char path[RBLK_PATH_MAX_BYTES], meta_path[RBLK_PATH_MAX_BYTES];
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, RBLK_A_NODE_ID))
		return -EINVAL;
	ret = rblk_nl_get_paths(info, path, meta_path);
	if (ret)
		return ret;
	return rblk_md_create(path, meta_path[0] ? meta_path : NULL,
			      nla_get_u32(info->attrs[RBLK_A_NODE_ID]),
			      info->attrs[RBLK_A_MAX_PEERS] ?
			      nla_get_u32(info->attrs[RBLK_A_MAX_PEERS]) : 1,
			      nla_get_flag(info->attrs[RBLK_A_FORCE]), info->extack);
}

/* Upper bound of an MD_DUMP reply. */
static size_t rblk_nl_md_size(void)
{
	size_t slot = nla_total_size(0) + nla_total_size(sizeof(u32)) +
		      2 * nla_total_size_64bit(sizeof(u64));

	return 3 * nla_total_size(sizeof(u32)) + 6 * nla_total_size_64bit(sizeof(u64)) +
	       2 * nla_total_size(sizeof(u32)) +
	       nla_total_size(RBLK_MD_HISTORY_UUIDS * sizeof(u64)) +
	       (RBLK_MAX_NODE_ID + 1) * slot;
}

static int rblk_nl_fill_md(struct sk_buff *skb, const struct rblk_md_info *md, u32 valid,
			   const u64 *oos_bytes)
{
	struct nlattr *nest;
	unsigned int i;

	if (nla_put_u32(skb, RBLK_A_NODE_ID, md->node_id) ||
	    nla_put_u32(skb, RBLK_A_MD_FLAGS, md->flags) ||
	    nla_put_u32(skb, RBLK_A_MAX_PEERS, md->layout.max_peers) ||
	    rblk_nl_put_u64(skb, RBLK_A_MD_SEQ, md->seq) ||
	    rblk_nl_put_u64(skb, RBLK_A_SIZE_SECTORS, md->layout.data_sectors) ||
	    rblk_nl_put_u64(skb, RBLK_A_MD_OFFSET_SECTORS, md->layout.md_offset_sectors) ||
	    rblk_nl_put_u64(skb, RBLK_A_MD_SIZE_SECTORS, md->layout.md_size_sectors) ||
	    rblk_nl_put_u64(skb, RBLK_A_CURRENT_UUID, md->current_uuid) ||
	    nla_put(skb, RBLK_A_HISTORY_UUIDS, sizeof(md->history), md->history) ||
	    nla_put_u32(skb, RBLK_A_BM_BLOCK_BYTES, 4096) ||
	    nla_put_u32(skb, RBLK_A_AL_EXTENT_BYTES, 4U << 20) ||
	    (valid && nla_put_u32(skb, RBLK_A_MD_VALID_COPIES, valid)))
		return -EMSGSIZE;
	for (i = 0; i < md->layout.max_peers && i <= RBLK_MAX_NODE_ID; i++) {
		if (md->slots[i].node_id > RBLK_MAX_NODE_ID)
			continue;
		nest = nla_nest_start(skb, RBLK_A_PEER);
		if (!nest ||
		    nla_put_u32(skb, RBLK_A_PEER_NODE_ID, md->slots[i].node_id) ||
		    rblk_nl_put_u64(skb, RBLK_A_BITMAP_UUID, md->slots[i].bitmap_uuid) ||
		    (oos_bytes && rblk_nl_put_u64(skb, RBLK_A_OUT_OF_SYNC_BYTES, oos_bytes[i])))
			return -EMSGSIZE;
		nla_nest_end(skb, nest);
	}
	return 0;
}

static int rblk_nl_md_dump(struct sk_buff *skb, struct genl_info *info)
{
	char path[RBLK_PATH_MAX_BYTES], meta_path[RBLK_PATH_MAX_BYTES];
	struct rblk_md_info *md;
	u64 *oos = NULL;
	struct sk_buff *msg;
	u32 valid = 0;
	void *hdr;
	int ret;

	md = kzalloc(sizeof(*md), GFP_KERNEL);
	if (!md)
		return -ENOMEM;
	if (info->attrs[RBLK_A_MINOR]) {
		oos = kcalloc(RBLK_MAX_NODE_ID + 1, sizeof(*oos), GFP_KERNEL);
		ret = oos ? rblk_device_md_dump(nla_get_u32(info->attrs[RBLK_A_MINOR]), md, oos,
						info->extack) : -ENOMEM;
	} else {
		ret = rblk_nl_get_paths(info, path, meta_path);
		if (!ret)
			ret = rblk_md_dump_path(path, meta_path[0] ? meta_path : NULL, md,
						&valid, info->extack);
	}
	if (ret)
		goto out;
	ret = -ENOMEM;
	msg = genlmsg_new(rblk_nl_md_size(), GFP_KERNEL);
	if (!msg)
		goto out;
	hdr = genlmsg_put_reply(msg, info, &rblk_nl_family, 0, RBLK_CMD_MD_DUMP);
	if (!hdr || rblk_nl_fill_md(msg, md, valid, oos)) {
		nlmsg_free(msg);
		ret = -EMSGSIZE;
		goto out;
	}
	genlmsg_end(msg, hdr);
	ret = genlmsg_reply(msg, info);
out:
	kfree(oos);
	kfree(md);
	return ret;
}

static int rblk_nl_new_current_uuid(struct sk_buff *skb, struct genl_info *info)
{
	u32 minor;
	int ret;

	ret = rblk_nl_get_minor(info, &minor);
	if (ret)
		return ret;
	return rblk_device_new_current_uuid(minor, nla_get_flag(info->attrs[RBLK_A_CLEAR_BITMAP]),
					    info->extack);
}

static int rblk_nl_detach(struct sk_buff *skb, struct genl_info *info)
{
	u32 minor;
	int ret;

	ret = rblk_nl_get_minor(info, &minor);
	if (ret)
		return ret;
	return rblk_device_detach(minor, info->extack);
}

/*
 * Turn an address attribute (4 or 16 bytes) and a port attribute into a
 * sockaddr.  Returns 0 or -EINVAL with an extack message.
 */
static int rblk_nl_get_sockaddr(struct genl_info *info, int ip_type, int port_type,
				struct sockaddr_storage *ss)
{
	struct nlattr *ip = info->attrs[ip_type];
	u16 port = nla_get_u16(info->attrs[port_type]);

	memset(ss, 0, sizeof(*ss));
	if (nla_len(ip) == sizeof(struct in_addr)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, nla_data(ip), sizeof(sin->sin_addr));
		return 0;
	}
	if (nla_len(ip) == sizeof(struct in6_addr)) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, nla_data(ip), sizeof(sin6->sin6_addr));
		return 0;
	}
	NL_SET_ERR_MSG_ATTR(info->extack, ip, "IP address must be 4 (IPv4) or 16 (IPv6) bytes");
	return -EINVAL;
}

/* A peer must be reachable by unicast: not 0.0.0.0/::, not multicast/broadcast. */
static bool rblk_nl_unicast_addr(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		__be32 a = ((const struct sockaddr_in *)ss)->sin_addr.s_addr;

		return !ipv4_is_zeronet(a) && !ipv4_is_multicast(a) && !ipv4_is_lbcast(a);
	}
	return !ipv6_addr_any(&((const struct sockaddr_in6 *)ss)->sin6_addr) &&
	       !ipv6_addr_is_multicast(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* An optional u32 attribute or its default; the policy checked the range. */
static u32 rblk_nl_get_u32(struct genl_info *info, int type, u32 dflt)
{
	return info->attrs[type] ? nla_get_u32(info->attrs[type]) : dflt;
}

/* The attribute to blame for a relation between two optional attributes. */
static struct nlattr *rblk_nl_blame(struct genl_info *info, int first, int second)
{
	return info->attrs[first] ? info->attrs[first] : info->attrs[second];
}

static int rblk_nl_peer_add(struct sk_buff *skb, struct genl_info *info)
{
	struct rblk_peer_config cfg;
	u32 minor;
	int ret;

	ret = rblk_nl_get_minor(info, &minor);
	if (ret)
		return ret;
	if (GENL_REQ_ATTR_CHECK(info, RBLK_A_PEER_NODE_ID) ||
	    GENL_REQ_ATTR_CHECK(info, RBLK_A_PEER_IP) ||
	    GENL_REQ_ATTR_CHECK(info, RBLK_A_PEER_PORT) ||
	    GENL_REQ_ATTR_CHECK(info, RBLK_A_LOCAL_IP) ||
	    GENL_REQ_ATTR_CHECK(info, RBLK_A_LOCAL_PORT))
		return -EINVAL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.node_id = nla_get_u32(info->attrs[RBLK_A_PEER_NODE_ID]);
	ret = rblk_nl_get_sockaddr(info, RBLK_A_PEER_IP, RBLK_A_PEER_PORT, &cfg.peer_addr);
	if (ret)
		return ret;
	ret = rblk_nl_get_sockaddr(info, RBLK_A_LOCAL_IP, RBLK_A_LOCAL_PORT, &cfg.local_addr);
	if (ret)
		return ret;
	if (cfg.peer_addr.ss_family != cfg.local_addr.ss_family) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[RBLK_A_LOCAL_IP],
				    "local and peer IP addresses must be of the same family");
		return -EINVAL;
	}
	if (!rblk_nl_unicast_addr(&cfg.peer_addr)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[RBLK_A_PEER_IP],
				    "peer IP address must be a unicast address");
		return -EINVAL;
	}

	cfg.ping_interval_ms = rblk_nl_get_u32(info, RBLK_A_PING_INTERVAL_MS,
					       RBLK_PING_INTERVAL_MS_DEFAULT);
	cfg.ping_timeout_ms = rblk_nl_get_u32(info, RBLK_A_PING_TIMEOUT_MS,
					      RBLK_PING_TIMEOUT_MS_DEFAULT);
	cfg.connect_timeout_ms = rblk_nl_get_u32(info, RBLK_A_CONNECT_TIMEOUT_MS,
						 RBLK_CONNECT_TIMEOUT_MS_DEFAULT);
	cfg.reconnect_min_ms = rblk_nl_get_u32(info, RBLK_A_RECONNECT_MIN_MS,
					       RBLK_RECONNECT_MIN_MS_DEFAULT);
	cfg.reconnect_max_ms = rblk_nl_get_u32(info, RBLK_A_RECONNECT_MAX_MS,
					       RBLK_RECONNECT_MAX_MS_DEFAULT);
	cfg.request_timeout_ms = rblk_nl_get_u32(info, RBLK_A_REQUEST_TIMEOUT_MS,
						 RBLK_REQUEST_TIMEOUT_MS_DEFAULT);
	cfg.ko_count = info->attrs[RBLK_A_KO_COUNT] ?
		       nla_get_u32(info->attrs[RBLK_A_KO_COUNT]) : RBLK_KO_COUNT_DEFAULT;
	cfg.resync_rate_kib_per_s = rblk_nl_get_u32(info, RBLK_A_RESYNC_RATE_KIB_PER_S,
						    RBLK_RESYNC_RATE_KIB_PER_S_DEFAULT);
	cfg.resync_latency_ms = rblk_nl_get_u32(info, RBLK_A_RESYNC_LATENCY_MS,
						RBLK_RESYNC_LATENCY_MS_DEFAULT);
	cfg.witness = nla_get_flag(info->attrs[RBLK_A_PEER_WITNESS]);
	if (cfg.ping_interval_ms >= cfg.ping_timeout_ms) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    rblk_nl_blame(info, RBLK_A_PING_INTERVAL_MS,
						  RBLK_A_PING_TIMEOUT_MS),
				    "ping interval must be shorter than ping timeout");
		return -EINVAL;
	}
	if (cfg.reconnect_min_ms > cfg.reconnect_max_ms) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    rblk_nl_blame(info, RBLK_A_RECONNECT_MIN_MS,
						  RBLK_A_RECONNECT_MAX_MS),
				    "reconnect minimum must not exceed reconnect maximum");
		return -EINVAL;
	}

	return rblk_peer_add(minor, &cfg, info->extack);
}

static int rblk_nl_peer_remove(struct sk_buff *skb, struct genl_info *info)
{
	u32 minor;
	int ret;

	ret = rblk_nl_get_minor(info, &minor);
	if (ret)
		return ret;
	if (GENL_REQ_ATTR_CHECK(info, RBLK_A_PEER_NODE_ID))
		return -EINVAL;
	return rblk_peer_remove(minor, nla_get_u32(info->attrs[RBLK_A_PEER_NODE_ID]),
				info->extack);
}

/* The optional peer of CONNECT/DISCONNECT, -1 for every peer. */
static s32 rblk_nl_opt_peer(struct genl_info *info)
{
	struct nlattr *attr = info->attrs[RBLK_A_PEER_NODE_ID];

	return attr ? (s32)nla_get_u32(attr) : -1;
}

static int rblk_nl_connect(struct sk_buff *skb, struct genl_info *info)
{
	u32 minor;
	int ret;

	ret = rblk_nl_get_minor(info, &minor);
	if (ret)
		return ret;
	return rblk_device_connect(minor, rblk_nl_opt_peer(info),
				   nla_get_flag(info->attrs[RBLK_A_DISCARD_MY_DATA]), info->extack);
}

static int rblk_nl_disconnect(struct sk_buff *skb, struct genl_info *info)
{
	u32 minor;
	int ret;

	ret = rblk_nl_get_minor(info, &minor);
	if (ret)
		return ret;
	return rblk_device_disconnect(minor, rblk_nl_opt_peer(info), info->extack);
}

static int rblk_nl_primary(struct sk_buff *skb, struct genl_info *info)
{
	u32 minor;
	int ret;

	ret = rblk_nl_get_minor(info, &minor);
	if (ret)
		return ret;
	return rblk_device_set_role(minor, RBLK_ROLE_PRIMARY,
				    nla_get_flag(info->attrs[RBLK_A_FORCE]),
				    nla_get_flag(info->attrs[RBLK_A_IGNORE_QUORUM]), info->extack);
}

static int rblk_nl_secondary(struct sk_buff *skb, struct genl_info *info)
{
	u32 minor;
	int ret;

	ret = rblk_nl_get_minor(info, &minor);
	if (ret)
		return ret;
	return rblk_device_set_role(minor, RBLK_ROLE_SECONDARY, false, false, info->extack);
}

static int rblk_nl_device_options_checked(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *q = info->attrs[RBLK_A_QUORUM];
	struct nlattr *onq = info->attrs[RBLK_A_ON_NO_QUORUM];
	struct nlattr *ap = info->attrs[RBLK_A_AUTO_PROMOTE];
	struct nlattr *fen = info->attrs[RBLK_A_FENCING];
	struct nlattr *fh = info->attrs[RBLK_A_FENCE_HANDLER];
	struct nlattr *sec = info->attrs[RBLK_A_AUTH_SECRET];
	struct nlattr *dd = info->attrs[RBLK_A_DATA_DIGEST];
	struct nlattr *rb = info->attrs[RBLK_A_READ_BALANCING];
	struct rblk_device_options opts = {
		.quorum = q ? nla_get_u32(q) : RBLK_QUORUM_KEEP,
		.on_no_quorum = onq ? nla_get_u8(onq) : -1,
		.auto_promote = ap ? nla_get_u8(ap) : -1,
		.fencing = fen ? nla_get_u8(fen) : -1,
		.fence_handler = fh ? nla_data(fh) : NULL,
		.auth_secret = sec ? nla_data(sec) : NULL,
		.auth_secret_len = sec ? nla_len(sec) : 0,
		.data_digest = dd ? nla_get_u8(dd) : -1,
		.read_balancing = rb ? nla_get_u8(rb) : -1,
	};
	u32 minor;
	int ret;

	ret = rblk_nl_get_minor(info, &minor);
	if (ret)
		return ret;
	if (q && !rblk_quorum_policy_valid(nla_get_u32(q))) {
		NL_SET_ERR_MSG_ATTR(info->extack, q, "quorum: off (0), majority or 1..32 votes");
		return -EINVAL;
	}
	if (sec && nla_len(sec) && nla_len(sec) < RBLK_AUTH_SECRET_MIN_BYTES) {
		NL_SET_ERR_MSG_ATTR(info->extack, sec,
				    "shared secret: 16..128 bytes, or empty for none");
		return -EINVAL;
	}
	/* the kernel runs it as root with every capability */
	if (fh && !netlink_capable(skb, CAP_SYS_ADMIN)) {
		NL_SET_ERR_MSG_ATTR(info->extack, fh, "a fence handler needs CAP_SYS_ADMIN");
		return -EPERM;
	}
	return rblk_device_set_options(minor, &opts, info->extack);
}

static int rblk_nl_device_options(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *sec = info->attrs[RBLK_A_AUTH_SECRET];
	int ret = rblk_nl_device_options_checked(skb, info);

	/* the request's copy of the secret is gone before its skb is freed or echoed */
	if (sec)
		memzero_explicit(nla_data(sec), nla_len(sec));
	return ret;
}

static int rblk_nl_resume_io(struct sk_buff *skb, struct genl_info *info)
{
	u32 minor;
	int ret;

	ret = rblk_nl_get_minor(info, &minor);
	if (ret)
		return ret;
	return rblk_device_resume_io(minor, info->extack);
}

/* ------------------------------------------------------------------ status */

/* Upper bound of the attributes of one status message with @nr_peers peers. */
static size_t rblk_nl_status_size(u32 nr_peers)
{
	size_t peer, dev;

	peer = nla_total_size(0)				/* RBLK_A_PEER */
	     + nla_total_size(sizeof(u32))			/* PEER_NODE_ID */
	     + 2 * nla_total_size(sizeof(struct in6_addr))	/* PEER_IP, LOCAL_IP */
	     + 2 * nla_total_size(sizeof(u16))			/* ports */
	     + 5 * nla_total_size(sizeof(u8))			/* states, role, decision */
	     + 2 * nla_total_size(0)				/* SPLIT_BRAIN, WITNESS */
	     + 21 * nla_total_size_64bit(sizeof(u64))		/* counters, uuid, resync */
	     + 3 * nla_total_size(sizeof(u32))			/* resync rate, target, window */
	     + nla_total_size(sizeof_field(struct rblk_peer_status, last_error));

	dev = 2 * nla_total_size(sizeof(u32))			/* MINOR, NODE_ID */
	    + 2 * nla_total_size(RBLK_NAME_MAX_BYTES)
	    + nla_total_size(RBLK_PATH_MAX_BYTES)
	    + 2 * nla_total_size(sizeof(u8))			/* ROLE, DISK_STATE */
	    + nla_total_size_64bit(sizeof(u64))			/* SIZE_SECTORS */
	    + 2 * nla_total_size(sizeof(u32))			/* block size, opens */
	    + nla_total_size(0)					/* RBLK_A_STATS */
	    + nla_total_size(sizeof(u32))			/* MD_FLAGS */
	    + 10 * nla_total_size_64bit(sizeof(u64))
	    + 6 * nla_total_size(sizeof(u32))			/* quorum, FENCE_PENDING */
	    + 9 * nla_total_size(sizeof(u8))	/* quorum, promote, fencing, auth, digest, reads */
	    + nla_total_size(RBLK_PATH_MAX_BYTES);		/* FENCE_HANDLER */

	return dev + min_t(u32, nr_peers, RBLK_MAX_PEERS) * peer;
}

static int rblk_nl_put_u64(struct sk_buff *skb, int type, u64 value)
{
	return nla_put_u64_64bit(skb, type, value, RBLK_A_PAD);
}

static int rblk_nl_put_addr(struct sk_buff *skb, int ip_type, int port_type,
			    const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		if (nla_put_in_addr(skb, ip_type, sin->sin_addr.s_addr) ||
		    nla_put_u16(skb, port_type, ntohs(sin->sin_port)))
			return -EMSGSIZE;
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		if (nla_put_in6_addr(skb, ip_type, &sin6->sin6_addr) ||
		    nla_put_u16(skb, port_type, ntohs(sin6->sin6_port)))
			return -EMSGSIZE;
	}
	return 0;
}

static int rblk_nl_put_peer(struct sk_buff *skb, const struct rblk_peer_status *ps)
{
	struct nlattr *nest;

	nest = nla_nest_start(skb, RBLK_A_PEER);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, RBLK_A_PEER_NODE_ID, ps->node_id) ||
	    rblk_nl_put_addr(skb, RBLK_A_PEER_IP, RBLK_A_PEER_PORT, &ps->peer_addr) ||
	    rblk_nl_put_addr(skb, RBLK_A_LOCAL_IP, RBLK_A_LOCAL_PORT, &ps->local_addr) ||
	    nla_put_u8(skb, RBLK_A_CONN_STATE, ps->conn_state) ||
	    nla_put_u8(skb, RBLK_A_PEER_ROLE, ps->peer_role) ||
	    nla_put_u8(skb, RBLK_A_PEER_DISK_STATE, ps->peer_disk_state) ||
	    rblk_nl_put_u64(skb, RBLK_A_WRITES, ps->writes) ||
	    rblk_nl_put_u64(skb, RBLK_A_WRITE_BYTES, ps->write_bytes) ||
	    rblk_nl_put_u64(skb, RBLK_A_FLUSHES, ps->flushes) ||
	    rblk_nl_put_u64(skb, RBLK_A_DISCARDS, ps->discards) ||
	    rblk_nl_put_u64(skb, RBLK_A_INFLIGHT, ps->inflight) ||
	    rblk_nl_put_u64(skb, RBLK_A_ACKS, ps->acks) ||
	    rblk_nl_put_u64(skb, RBLK_A_RTT_US, ps->rtt_us) ||
	    rblk_nl_put_u64(skb, RBLK_A_TCP_RTT_US, ps->tcp_rtt_us) ||
	    rblk_nl_put_u64(skb, RBLK_A_RECONNECTS, ps->reconnects) ||
	    rblk_nl_put_u64(skb, RBLK_A_RECEIVED_WRITES, ps->received_writes) ||
	    rblk_nl_put_u64(skb, RBLK_A_RECEIVED_BYTES, ps->received_bytes) ||
	    rblk_nl_put_u64(skb, RBLK_A_ERRORS, ps->errors) ||
	    rblk_nl_put_u64(skb, RBLK_A_PEER_READS, ps->reads) ||
	    rblk_nl_put_u64(skb, RBLK_A_PEER_READ_BYTES, ps->read_bytes) ||
	    rblk_nl_put_u64(skb, RBLK_A_PEER_SERVED_READS, ps->served_reads))
		goto cancel;
	if (ps->last_error[0] &&
	    nla_put_string(skb, RBLK_A_LAST_ERROR, ps->last_error))
		goto cancel;
	if (nla_put_u8(skb, RBLK_A_REPL_STATE, ps->repl_state) ||
	    nla_put_u8(skb, RBLK_A_SYNC_DECISION, ps->sync_decision) ||
	    (ps->split_brain && nla_put_flag(skb, RBLK_A_SPLIT_BRAIN)))
		goto cancel;
	if (ps->has_slot &&
	    (rblk_nl_put_u64(skb, RBLK_A_BITMAP_UUID, ps->bitmap_uuid) ||
	     rblk_nl_put_u64(skb, RBLK_A_OUT_OF_SYNC_BYTES, ps->out_of_sync_bytes)))
		goto cancel;
	if (ps->resync_total_bytes &&
	    (rblk_nl_put_u64(skb, RBLK_A_RESYNC_TOTAL_BYTES, ps->resync_total_bytes) ||
	     rblk_nl_put_u64(skb, RBLK_A_RESYNC_DONE_BYTES, ps->resync_done_bytes) ||
	     rblk_nl_put_u64(skb, RBLK_A_RESYNC_RATE_BYTES_PER_S, ps->resync_rate_bytes_per_s) ||
	     rblk_nl_put_u64(skb, RBLK_A_RESYNC_LATENCY_US, ps->resync_latency_us) ||
	     nla_put_u32(skb, RBLK_A_RESYNC_WINDOW, ps->resync_window)))
		goto cancel;
	if (nla_put_u32(skb, RBLK_A_RESYNC_RATE_KIB_PER_S, ps->resync_rate_kib_per_s) ||
	    nla_put_u32(skb, RBLK_A_RESYNC_LATENCY_MS, ps->resync_latency_ms) ||
	    (ps->witness && nla_put_flag(skb, RBLK_A_PEER_WITNESS)))
		goto cancel;
	nla_nest_end(skb, nest);
	return 0;

cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

/* Append one complete status message for @st; -EMSGSIZE leaves @skb as it was. */
static int rblk_nl_fill_status(struct sk_buff *skb, u32 portid, u32 seq, int flags,
			       struct rblk_device_status *st)
{
	struct nlattr *nest;
	void *hdr;
	u32 i;

	/* the strings come from another file: never trust their termination */
	st->resource_name[sizeof(st->resource_name) - 1] = '\0';
	st->cluster_name[sizeof(st->cluster_name) - 1] = '\0';
	st->backing_path[sizeof(st->backing_path) - 1] = '\0';
	st->fence_handler[sizeof(st->fence_handler) - 1] = '\0';

	hdr = genlmsg_put(skb, portid, seq, &rblk_nl_family, flags, RBLK_CMD_STATUS);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, RBLK_A_MINOR, st->minor) ||
	    nla_put_u32(skb, RBLK_A_NODE_ID, st->node_id) ||
	    nla_put_string(skb, RBLK_A_RESOURCE_NAME, st->resource_name) ||
	    nla_put_string(skb, RBLK_A_CLUSTER_NAME, st->cluster_name) ||
	    (st->backing_path[0] &&
	     nla_put_string(skb, RBLK_A_BACKING_PATH, st->backing_path)) ||
	    nla_put_u8(skb, RBLK_A_ROLE, st->role) ||
	    nla_put_u8(skb, RBLK_A_DISK_STATE, st->disk_state) ||
	    rblk_nl_put_u64(skb, RBLK_A_SIZE_SECTORS, st->size_sectors) ||
	    nla_put_u32(skb, RBLK_A_LOGICAL_BLOCK_SIZE_BYTES, st->logical_block_size_bytes) ||
	    nla_put_u32(skb, RBLK_A_OPEN_COUNT, st->open_count) ||
	    nla_put_u32(skb, RBLK_A_QUORUM, st->quorum) ||
	    nla_put_u8(skb, RBLK_A_ON_NO_QUORUM, st->on_no_quorum) ||
	    nla_put_u8(skb, RBLK_A_HAS_QUORUM, st->has_quorum) ||
	    nla_put_u32(skb, RBLK_A_QUORUM_VOTES, st->quorum_votes) ||
	    nla_put_u32(skb, RBLK_A_QUORUM_NEEDED, st->quorum_needed) ||
	    nla_put_u32(skb, RBLK_A_QUORUM_VOTERS, st->quorum_voters) ||
	    nla_put_u8(skb, RBLK_A_SUSPENDED, st->suspended) ||
	    nla_put_u32(skb, RBLK_A_SUSPENDED_WRITES, st->suspended_writes) ||
	    nla_put_u8(skb, RBLK_A_AUTO_PROMOTE, st->auto_promote) ||
	    nla_put_u8(skb, RBLK_A_AUTO_PROMOTED, st->auto_promoted) ||
	    nla_put_u8(skb, RBLK_A_AUTH, st->auth) ||
	    nla_put_u8(skb, RBLK_A_DATA_DIGEST, st->data_digest) ||
	    nla_put_u8(skb, RBLK_A_READ_BALANCING, st->read_balancing) ||
	    nla_put_u8(skb, RBLK_A_FENCING, st->fencing) ||
	    nla_put_string(skb, RBLK_A_FENCE_HANDLER, st->fence_handler) ||
	    nla_put_u32(skb, RBLK_A_FENCE_PENDING, st->fence_pending))
		goto cancel;
	if (st->has_md &&
	    (nla_put_u32(skb, RBLK_A_MD_FLAGS, st->md_flags) ||
	     rblk_nl_put_u64(skb, RBLK_A_CURRENT_UUID, st->current_uuid)))
		goto cancel;

	nest = nla_nest_start(skb, RBLK_A_STATS);
	if (!nest)
		goto cancel;
	if (rblk_nl_put_u64(skb, RBLK_A_READS, st->reads) ||
	    rblk_nl_put_u64(skb, RBLK_A_WRITES, st->writes) ||
	    rblk_nl_put_u64(skb, RBLK_A_READ_BYTES, st->read_bytes) ||
	    rblk_nl_put_u64(skb, RBLK_A_WRITE_BYTES, st->write_bytes) ||
	    rblk_nl_put_u64(skb, RBLK_A_FLUSHES, st->flushes) ||
	    rblk_nl_put_u64(skb, RBLK_A_DISCARDS, st->discards) ||
	    rblk_nl_put_u64(skb, RBLK_A_INFLIGHT, st->inflight) ||
	    rblk_nl_put_u64(skb, RBLK_A_ERRORS, st->errors) ||
	    rblk_nl_put_u64(skb, RBLK_A_MD_WRITES, st->md_writes))
		goto cancel;
	nla_nest_end(skb, nest);

	for (i = 0; i < min_t(u32, st->nr_peers, RBLK_MAX_PEERS); i++) {
		st->peers[i].last_error[sizeof(st->peers[i].last_error) - 1] = '\0';
		if (rblk_nl_put_peer(skb, &st->peers[i]))
			goto cancel;
	}

	genlmsg_end(skb, hdr);
	return 0;

cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int rblk_nl_status_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct rblk_device_status *st;
	struct sk_buff *msg;
	u32 minor;
	int ret;

	ret = rblk_nl_get_minor(info, &minor);
	if (ret)
		return ret;

	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	ret = rblk_device_get_status(minor, st);
	if (ret) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[RBLK_A_MINOR], "no such device");
		goto out;
	}
	msg = genlmsg_new(rblk_nl_status_size(st->nr_peers), GFP_KERNEL);
	if (!msg) {
		ret = -ENOMEM;
		goto out;
	}
	ret = rblk_nl_fill_status(msg, info->snd_portid, info->snd_seq, 0, st);
	if (ret) {
		nlmsg_free(msg);
		goto out;
	}
	ret = genlmsg_reply(msg, info);
out:
	kfree(st);
	return ret;
}

static int rblk_nl_status_start(struct netlink_callback *cb)
{
	/* every later dump skb holds at least one device with every peer */
	cb->min_dump_alloc = nlmsg_total_size(GENL_HDRLEN +
					      rblk_nl_status_size(RBLK_MAX_PEERS));
	cb->args[0] = 0;	/* next minor to look at */
	return 0;
}

static int rblk_nl_status_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct rblk_device_status *st;
	u32 minor, start = cb->args[0];
	int ret = 0;

	if (start > RBLK_MAX_MINOR)
		return 0;
	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;

	while (start <= RBLK_MAX_MINOR && !rblk_device_next_minor(start, &minor)) {
		start = minor + 1;
		if (rblk_device_get_status(minor, st))
			continue;	/* deleted meanwhile */
		ret = rblk_nl_fill_status(skb, NETLINK_CB(cb->skb).portid,
					  cb->nlh->nlmsg_seq, NLM_F_MULTI, st);
		if (ret) {
			/* retry this device in the next, empty skb */
			start = minor;
			break;
		}
	}
	kfree(st);
	cb->args[0] = start;
	if (ret && !skb->len)
		return ret;
	return skb->len;
}

static const struct genl_ops rblk_nl_ops[] = {
	{
		.cmd	= RBLK_CMD_DEVICE_CREATE,
		.flags	= GENL_ADMIN_PERM,
		.doit	= rblk_nl_device_create,
	},
	{
		.cmd	= RBLK_CMD_DEVICE_DELETE,
		.flags	= GENL_ADMIN_PERM,
		.doit	= rblk_nl_device_delete,
	},
	{
		.cmd	= RBLK_CMD_ATTACH,
		.flags	= GENL_ADMIN_PERM,
		.doit	= rblk_nl_attach,
	},
	{
		.cmd	= RBLK_CMD_DETACH,
		.flags	= GENL_ADMIN_PERM,
		.doit	= rblk_nl_detach,
	},
	{
		.cmd	= RBLK_CMD_PEER_ADD,
		.flags	= GENL_ADMIN_PERM,
		.doit	= rblk_nl_peer_add,
	},
	{
		.cmd	= RBLK_CMD_PEER_REMOVE,
		.flags	= GENL_ADMIN_PERM,
		.doit	= rblk_nl_peer_remove,
	},
	{
		.cmd	= RBLK_CMD_CONNECT,
		.flags	= GENL_ADMIN_PERM,
		.doit	= rblk_nl_connect,
	},
	{
		.cmd	= RBLK_CMD_DISCONNECT,
		.flags	= GENL_ADMIN_PERM,
		.doit	= rblk_nl_disconnect,
	},
	{
		.cmd	= RBLK_CMD_PRIMARY,
		.flags	= GENL_ADMIN_PERM,
		.doit	= rblk_nl_primary,
	},
	{
		.cmd	= RBLK_CMD_SECONDARY,
		.flags	= GENL_ADMIN_PERM,
		.doit	= rblk_nl_secondary,
	},
	{
		.cmd	= RBLK_CMD_STATUS,
		.doit	= rblk_nl_status_doit,
		.start	= rblk_nl_status_start,
		.dumpit	= rblk_nl_status_dumpit,
	},
	{
		.cmd	= RBLK_CMD_MD_CREATE,
		.flags	= GENL_ADMIN_PERM,
		.doit	= rblk_nl_md_create,
	},
	{
		.cmd	= RBLK_CMD_MD_DUMP,
		.flags	= GENL_ADMIN_PERM,
		.doit	= rblk_nl_md_dump,
	},
	{
		.cmd	= RBLK_CMD_NEW_CURRENT_UUID,
		.flags	= GENL_ADMIN_PERM,
		.doit	= rblk_nl_new_current_uuid,
	},
	{
		.cmd	= RBLK_CMD_DEVICE_OPTIONS,
		.flags	= GENL_ADMIN_PERM,
		.doit	= rblk_nl_device_options,
	},
	{
		.cmd	= RBLK_CMD_RESUME_IO,
		.flags	= GENL_ADMIN_PERM,
		.doit	= rblk_nl_resume_io,
	},
};

enum rblk_nl_mcgrp {
	RBLK_NL_MCGRP_EVENTS,
};

static const struct genl_multicast_group rblk_nl_mcgrps[] = {
	[RBLK_NL_MCGRP_EVENTS] = { .name = RBLK_GENL_MCGRP_EVENTS },
};

static struct genl_family rblk_nl_family __ro_after_init = {
	.name		= RBLK_GENL_NAME,
	.version	= RBLK_GENL_VERSION,
	.maxattr	= RBLK_A_MAX,
	.policy		= rblk_nl_policy,
	.netnsok	= false,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= rblk_nl_ops,
	.n_ops		= ARRAY_SIZE(rblk_nl_ops),
	.resv_start_op	= 0,	/* strict validation of every command */
	.mcgrps		= rblk_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(rblk_nl_mcgrps),
};

/* ------------------------------------------------------------------ events */

/* A string attribute of at most RBLK_NL_MESSAGE_MAX_BYTES, truncated if longer. */
static int rblk_nl_put_message(struct sk_buff *skb, int type, const char *s)
{
	size_t len = strnlen(s, RBLK_NL_MESSAGE_MAX_BYTES - 1);
	struct nlattr *attr;

	attr = nla_reserve(skb, type, len + 1);
	if (!attr)
		return -EMSGSIZE;
	memcpy(nla_data(attr), s, len);
	((char *)nla_data(attr))[len] = '\0';
	return 0;
}

static void rblk_nl_event_work_fn(struct work_struct *work)
{
	struct sk_buff *skb;

	while ((skb = skb_dequeue(&rblk_nl_events)))
		genlmsg_multicast(&rblk_nl_family, skb, 0, RBLK_NL_MCGRP_EVENTS, GFP_KERNEL);
}

static DECLARE_WORK(rblk_nl_event_work, rblk_nl_event_work_fn);

/* The event message for @ev, or NULL when out of memory. */
static struct sk_buff *rblk_nl_event_build(const struct rblk_event_info *ev, gfp_t gfp)
{
	struct sk_buff *skb;
	int value_type = 0;
	void *hdr;

	switch (ev->event) {
	case RBLK_EVENT_ROLE_CHANGED:
		value_type = RBLK_A_ROLE;
		break;
	case RBLK_EVENT_DISK_STATE_CHANGED:
		value_type = RBLK_A_DISK_STATE;
		break;
	case RBLK_EVENT_CONN_STATE_CHANGED:
		value_type = RBLK_A_CONN_STATE;
		break;
	case RBLK_EVENT_PEER_ROLE_CHANGED:
		value_type = RBLK_A_PEER_ROLE;
		break;
	case RBLK_EVENT_PEER_DISK_STATE_CHANGED:
		value_type = RBLK_A_PEER_DISK_STATE;
		break;
	case RBLK_EVENT_REPL_STATE_CHANGED:
		value_type = RBLK_A_REPL_STATE;
		break;
	default:
		break;
	}

	skb = genlmsg_new(4 * nla_total_size(sizeof(u8)) +	/* EVENT, value, quorum */
			  6 * nla_total_size(sizeof(u32)) +	/* MINOR, PEER, votes, fence */
			  nla_total_size(RBLK_NL_MESSAGE_MAX_BYTES), gfp);
	if (!skb)
		return NULL;
	hdr = genlmsg_put(skb, 0, 0, &rblk_nl_family, 0, RBLK_CMD_EVENT);
	if (!hdr)
		goto free;
	if (nla_put_u8(skb, RBLK_A_EVENT, ev->event) ||
	    nla_put_u32(skb, RBLK_A_MINOR, ev->minor) ||
	    (ev->peer_node_id >= 0 &&
	     nla_put_u32(skb, RBLK_A_PEER_NODE_ID, ev->peer_node_id)) ||
	    (value_type && nla_put_u8(skb, value_type, ev->value)) ||
	    (ev->message && rblk_nl_put_message(skb, RBLK_A_LAST_ERROR, ev->message)))
		goto free;
	if (ev->event == RBLK_EVENT_QUORUM_CHANGED &&
	    (nla_put_u8(skb, RBLK_A_HAS_QUORUM, ev->has_quorum) ||
	     nla_put_u32(skb, RBLK_A_QUORUM_VOTES, ev->quorum_votes) ||
	     nla_put_u32(skb, RBLK_A_QUORUM_NEEDED, ev->quorum_needed) ||
	     nla_put_u8(skb, RBLK_A_SUSPENDED, ev->suspended)))
		goto free;
	if (ev->event == RBLK_EVENT_FENCE_PEER &&
	    (nla_put_u32(skb, RBLK_A_FENCE_PENDING, ev->fence_pending) ||
	     nla_put_u8(skb, RBLK_A_SUSPENDED, ev->suspended) ||
	     (ev->fence_result != RBLK_FENCE_RUNNING &&
	      nla_put_s32(skb, RBLK_A_FENCE_RESULT, ev->fence_result))))
		goto free;
	genlmsg_end(skb, hdr);
	return skb;

free:
	nlmsg_free(skb);
	return NULL;
}

/**
 * rblk_nl_notify() - multicast a state change to the "events" group
 * @ev: the change; @ev->message is copied, may be NULL
 *
 * The message carries RBLK_A_EVENT and RBLK_A_MINOR, RBLK_A_PEER_NODE_ID
 * when @ev->peer_node_id >= 0, the new value as RBLK_A_ROLE,
 * RBLK_A_DISK_STATE, RBLK_A_CONN_STATE, RBLK_A_PEER_ROLE or
 * RBLK_A_PEER_DISK_STATE for the *_CHANGED events, HAS_QUORUM,
 * QUORUM_VOTES, QUORUM_NEEDED and SUSPENDED for RBLK_EVENT_QUORUM_CHANGED,
 * FENCE_PENDING, SUSPENDED and FENCE_RESULT (not while the handler
 * starts) for RBLK_EVENT_FENCE_PEER,
 * and RBLK_A_LAST_ERROR when @ev->message is set.  It is built here and sent from a work item,
 * so events reach listeners in the order they were raised.
 *
 * Context: any, including hard interrupt context and with spinlocks held;
 * allocates with GFP_ATOMIC and takes no rblk lock.  Not after
 * rblk_nl_exit().  Dropped silently if nobody listens, memory is short or
 * RBLK_NL_EVENT_QUEUE_MAX events are already waiting.
 */
void rblk_nl_notify(const struct rblk_event_info *ev)
{
	struct sk_buff *skb;

	if (!READ_ONCE(rblk_nl_registered) ||
	    !genl_has_listeners(&rblk_nl_family, &init_net, RBLK_NL_MCGRP_EVENTS))
		return;
	if (skb_queue_len(&rblk_nl_events) >= RBLK_NL_EVENT_QUEUE_MAX)
		return;
	skb = rblk_nl_event_build(ev, GFP_ATOMIC);
	if (!skb)
		return;
	skb_queue_tail(&rblk_nl_events, skb);
	schedule_work(&rblk_nl_event_work);
}

/**
 * rblk_nl_init() - register the generic netlink family "rblk"
 *
 * Called from module init before any device exists.
 *
 * Context: process, may sleep.
 *
 * Return: 0 or the negative errno of genl_register_family().
 */
int rblk_nl_init(void)
{
	int ret;

	skb_queue_head_init(&rblk_nl_events);
	ret = genl_register_family(&rblk_nl_family);
	if (ret)
		return ret;
	WRITE_ONCE(rblk_nl_registered, true);
	return 0;
}

/**
 * rblk_nl_exit() - unregister the family and drop events not yet sent
 *
 * Called from module exit, after every device is gone, so that no request
 * runs and no rblk_nl_notify() follows.
 *
 * Context: process, may sleep.
 */
void rblk_nl_exit(void)
{
	WRITE_ONCE(rblk_nl_registered, false);
	genl_unregister_family(&rblk_nl_family);
	cancel_work_sync(&rblk_nl_event_work);
	skb_queue_purge(&rblk_nl_events);
}

#if IS_ENABLED(CONFIG_BLK_DEV_RBLK_KUNIT_TEST)
#include "nl_test.c"
#endif
