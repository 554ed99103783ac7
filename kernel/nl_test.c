// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for rblk's netlink policy and messages (nl.c).
 *
 * Included at the end of nl.c when CONFIG_BLK_DEV_RBLK_KUNIT_TEST is set,
 * so that the static policy and message builders can be tested directly.
 */

#include <kunit/test.h>

/* Attributes of a genetlink message built by nl.c, parsed back. */
static int rblk_nl_test_parse(struct sk_buff *skb, struct nlattr **tb)
{
	struct nlmsghdr *nlh = nlmsg_hdr(skb);

	return nla_parse(tb, RBLK_A_MAX, genlmsg_data(nlmsg_data(nlh)),
			 genlmsg_len(nlmsg_data(nlh)), NULL, NULL);
}

static void rblk_nl_test_fill_max(struct rblk_device_status *st)
{
	u32 i;

	memset(st, 0, sizeof(*st));
	st->minor = RBLK_MAX_MINOR;
	st->node_id = 7;
	memset(st->resource_name, 'r', sizeof(st->resource_name));
	memset(st->cluster_name, 'c', sizeof(st->cluster_name));
	memset(st->backing_path, 'p', sizeof(st->backing_path));	/* unterminated */
	st->role = RBLK_ROLE_PRIMARY;
	st->disk_state = RBLK_DISK_UP_TO_DATE;
	st->size_sectors = U64_MAX;
	st->logical_block_size_bytes = 4096;
	st->writes = 0x1122334455667788ULL;
	st->nr_peers = RBLK_MAX_PEERS;
	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_peer_status *ps = &st->peers[i];
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ps->peer_addr;

		ps->node_id = i;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(7000 + i);
		memset(&sin6->sin6_addr, 0xfe, sizeof(sin6->sin6_addr));
		ps->local_addr = ps->peer_addr;
		ps->conn_state = RBLK_CONN_CONNECTED;
		ps->peer_role = RBLK_ROLE_SECONDARY;
		ps->peer_disk_state = RBLK_DISK_OUTDATED;
		ps->errors = U64_MAX;
		ps->tcp_rtt_us = U64_MAX;
		memset(ps->last_error, 'e', sizeof(ps->last_error));
		/* every optional attribute present */
		ps->split_brain = true;
		ps->witness = true;
		ps->has_slot = true;
		ps->resync_total_bytes = U64_MAX;
	}
}

static void rblk_nl_test_status_largest(struct kunit *test)
{
	struct nlattr *tb[RBLK_A_MAX + 1], *pt[RBLK_A_MAX + 1], *nest;
	struct rblk_device_status *st;
	struct sk_buff *skb;
	int rem, n = 0;

	st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st);
	rblk_nl_test_fill_max(st);

	/* the size estimate of the doit holds the largest possible device */
	skb = genlmsg_new(rblk_nl_status_size(st->nr_peers), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	KUNIT_ASSERT_EQ(test, rblk_nl_fill_status(skb, 0, 0, 0, st), 0);
	/* and so does the dump's minimum allocation */
	KUNIT_EXPECT_LE(test, skb->len,
			nlmsg_total_size(GENL_HDRLEN + rblk_nl_status_size(RBLK_MAX_PEERS)));

	KUNIT_ASSERT_EQ(test, rblk_nl_test_parse(skb, tb), 0);
	KUNIT_EXPECT_EQ(test, nla_get_u32(tb[RBLK_A_MINOR]), (u32)RBLK_MAX_MINOR);
	KUNIT_EXPECT_EQ(test, nla_get_u64(tb[RBLK_A_SIZE_SECTORS]), U64_MAX);
	KUNIT_EXPECT_EQ(test, nla_get_u8(tb[RBLK_A_ROLE]), (u8)RBLK_ROLE_PRIMARY);
	/* unterminated strings from the status went out terminated */
	KUNIT_EXPECT_EQ(test, nla_len(tb[RBLK_A_RESOURCE_NAME]), RBLK_NAME_MAX_BYTES);
	KUNIT_EXPECT_EQ(test, nla_len(tb[RBLK_A_BACKING_PATH]), RBLK_PATH_MAX_BYTES);
	KUNIT_ASSERT_NOT_NULL(test, tb[RBLK_A_STATS]);
	KUNIT_ASSERT_EQ(test, nla_parse_nested(pt, RBLK_A_MAX, tb[RBLK_A_STATS], NULL, NULL), 0);
	KUNIT_EXPECT_EQ(test, nla_get_u64(pt[RBLK_A_WRITES]), 0x1122334455667788ULL);

	nlmsg_for_each_attr(nest, nlmsg_hdr(skb), GENL_HDRLEN, rem) {
		struct in6_addr want;

		if (nla_type(nest) != RBLK_A_PEER)
			continue;
		KUNIT_ASSERT_EQ(test, nla_parse_nested(pt, RBLK_A_MAX, nest, NULL, NULL), 0);
		KUNIT_EXPECT_EQ(test, nla_get_u32(pt[RBLK_A_PEER_NODE_ID]), (u32)n);
		KUNIT_EXPECT_EQ(test, nla_get_u16(pt[RBLK_A_PEER_PORT]), (u16)(7000 + n));
		KUNIT_ASSERT_EQ(test, nla_len(pt[RBLK_A_PEER_IP]), 16);
		memset(&want, 0xfe, sizeof(want));
		KUNIT_EXPECT_EQ(test, memcmp(nla_data(pt[RBLK_A_PEER_IP]), &want, 16), 0);
		KUNIT_EXPECT_EQ(test, nla_get_u8(pt[RBLK_A_PEER_DISK_STATE]),
				(u8)RBLK_DISK_OUTDATED);
		KUNIT_EXPECT_EQ(test, nla_get_u64(pt[RBLK_A_ERRORS]), U64_MAX);
		KUNIT_EXPECT_EQ(test, nla_len(pt[RBLK_A_LAST_ERROR]), 64);
		n++;
	}
	KUNIT_EXPECT_EQ(test, n, RBLK_MAX_PEERS);
	nlmsg_free(skb);
}

static void rblk_nl_test_status_small(struct kunit *test)
{
	struct nlattr *tb[RBLK_A_MAX + 1];
	struct rblk_device_status *st;
	struct sockaddr_in *sin;
	struct sk_buff *skb;
	unsigned int len;
	int ret, n = 0;

	st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st);
	strscpy(st->resource_name, "vm-disks", sizeof(st->resource_name));
	st->nr_peers = 1;
	st->peers[0].node_id = 2;
	sin = (struct sockaddr_in *)&st->peers[0].peer_addr;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(7789);
	sin->sin_addr.s_addr = htonl(0x0a000002);

	skb = genlmsg_new(rblk_nl_status_size(1), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	KUNIT_ASSERT_EQ(test, rblk_nl_fill_status(skb, 0, 0, 0, st), 0);
	KUNIT_ASSERT_EQ(test, rblk_nl_test_parse(skb, tb), 0);
	/* diskless: no backing path, no last error */
	KUNIT_EXPECT_NULL(test, tb[RBLK_A_BACKING_PATH]);
	KUNIT_EXPECT_STREQ(test, (char *)nla_data(tb[RBLK_A_RESOURCE_NAME]), "vm-disks");
	KUNIT_EXPECT_STREQ(test, (char *)nla_data(tb[RBLK_A_CLUSTER_NAME]), "");

	/* fill up: the message that no longer fits leaves the skb as it was */
	do {
		len = skb->len;
		ret = rblk_nl_fill_status(skb, 0, 0, NLM_F_MULTI, st);
	} while (!ret && ++n < 1000);
	KUNIT_EXPECT_EQ(test, ret, -EMSGSIZE);
	KUNIT_EXPECT_EQ(test, skb->len, len);
	KUNIT_EXPECT_EQ(test, nlmsg_hdr(skb)->nlmsg_len, len / (n + 1));
	nlmsg_free(skb);
}

static void rblk_nl_test_event(struct kunit *test)
{
	struct rblk_event_info ev = {
		.event = RBLK_EVENT_CONN_STATE_CHANGED,
		.minor = 3,
		.peer_node_id = 2,
		.value = RBLK_CONN_CONNECTING,
		.message = "refused: size mismatch",
	};
	struct nlattr *tb[RBLK_A_MAX + 1];
	char long_msg[400];
	struct sk_buff *skb;

	skb = rblk_nl_event_build(&ev, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	KUNIT_EXPECT_EQ(test, ((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(skb)))->cmd,
			RBLK_CMD_EVENT);
	KUNIT_ASSERT_EQ(test, rblk_nl_test_parse(skb, tb), 0);
	KUNIT_EXPECT_EQ(test, nla_get_u8(tb[RBLK_A_EVENT]), (u8)RBLK_EVENT_CONN_STATE_CHANGED);
	KUNIT_EXPECT_EQ(test, nla_get_u32(tb[RBLK_A_MINOR]), 3U);
	KUNIT_EXPECT_EQ(test, nla_get_u32(tb[RBLK_A_PEER_NODE_ID]), 2U);
	KUNIT_EXPECT_EQ(test, nla_get_u8(tb[RBLK_A_CONN_STATE]), (u8)RBLK_CONN_CONNECTING);
	KUNIT_EXPECT_STREQ(test, (char *)nla_data(tb[RBLK_A_LAST_ERROR]),
			   "refused: size mismatch");
	nlmsg_free(skb);

	/* a device event: no peer, the value under its own attribute */
	ev.event = RBLK_EVENT_DISK_STATE_CHANGED;
	ev.peer_node_id = -1;
	ev.value = RBLK_DISK_OUTDATED;
	ev.message = NULL;
	skb = rblk_nl_event_build(&ev, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	KUNIT_ASSERT_EQ(test, rblk_nl_test_parse(skb, tb), 0);
	KUNIT_EXPECT_NULL(test, tb[RBLK_A_PEER_NODE_ID]);
	KUNIT_EXPECT_NULL(test, tb[RBLK_A_CONN_STATE]);
	KUNIT_EXPECT_NULL(test, tb[RBLK_A_LAST_ERROR]);
	KUNIT_EXPECT_EQ(test, nla_get_u8(tb[RBLK_A_DISK_STATE]), (u8)RBLK_DISK_OUTDATED);
	nlmsg_free(skb);

	/* a long message is cut, still terminated */
	memset(long_msg, 'x', sizeof(long_msg) - 1);
	long_msg[sizeof(long_msg) - 1] = '\0';
	ev.message = long_msg;
	skb = rblk_nl_event_build(&ev, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	KUNIT_ASSERT_EQ(test, rblk_nl_test_parse(skb, tb), 0);
	KUNIT_EXPECT_EQ(test, strlen(nla_data(tb[RBLK_A_LAST_ERROR])),
			(size_t)RBLK_NL_MESSAGE_MAX_BYTES - 1);
	nlmsg_free(skb);
}

/* One attribute checked against the family policy, as a request would be. */
static int rblk_nl_test_policy_one(struct kunit *test, int type, const void *data, int len)
{
	struct nlattr *tb[RBLK_A_MAX + 1];
	struct sk_buff *skb;
	int ret;

	skb = nlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	KUNIT_ASSERT_EQ(test, nla_put(skb, type, len, data), 0);
	ret = nla_parse(tb, RBLK_A_MAX, (struct nlattr *)skb->data, skb->len,
			rblk_nl_policy, NULL);
	kfree_skb(skb);
	return ret;
}

static void rblk_nl_test_policy(struct kunit *test)
{
	char name[RBLK_NAME_MAX_BYTES + 1], path[RBLK_PATH_MAX_BYTES + 1];
	u8 ip6[16] = { 0xfd }, ip5[5] = { 10 };
	u32 v32;
	u16 v16;
	u8 v8 = 1;

#define CHECK_U32(type, value, expected) do {					\
		v32 = (value);							\
		KUNIT_EXPECT_EQ_MSG(test, rblk_nl_test_policy_one(test, type, &v32, 4), \
				    expected, #type " = %u", v32);		\
	} while (0)

	CHECK_U32(RBLK_A_MINOR, 0, 0);
	CHECK_U32(RBLK_A_MINOR, RBLK_MAX_MINOR, 0);
	CHECK_U32(RBLK_A_MINOR, RBLK_MAX_MINOR + 1, -ERANGE);
	CHECK_U32(RBLK_A_NODE_ID, RBLK_MAX_NODE_ID, 0);
	CHECK_U32(RBLK_A_NODE_ID, RBLK_MAX_NODE_ID + 1, -ERANGE);
	CHECK_U32(RBLK_A_PEER_NODE_ID, U32_MAX, -ERANGE);
	CHECK_U32(RBLK_A_PING_INTERVAL_MS, RBLK_TIMEOUT_MS_MIN, 0);
	CHECK_U32(RBLK_A_PING_INTERVAL_MS, RBLK_TIMEOUT_MS_MIN - 1, -ERANGE);
	CHECK_U32(RBLK_A_PING_TIMEOUT_MS, RBLK_TIMEOUT_MS_MAX, 0);
	CHECK_U32(RBLK_A_PING_TIMEOUT_MS, RBLK_TIMEOUT_MS_MAX + 1, -ERANGE);
	CHECK_U32(RBLK_A_CONNECT_TIMEOUT_MS, 0, -ERANGE);
	CHECK_U32(RBLK_A_RECONNECT_MIN_MS, 100, 0);
	CHECK_U32(RBLK_A_RECONNECT_MAX_MS, U32_MAX, -ERANGE);
	CHECK_U32(RBLK_A_REQUEST_TIMEOUT_MS, RBLK_TIMEOUT_MS_MIN, 0);
	CHECK_U32(RBLK_A_REQUEST_TIMEOUT_MS, RBLK_TIMEOUT_MS_MIN - 1, -ERANGE);
	CHECK_U32(RBLK_A_KO_COUNT, 1, 0);
	CHECK_U32(RBLK_A_KO_COUNT, RBLK_KO_COUNT_MAX, 0);
	CHECK_U32(RBLK_A_KO_COUNT, 0, -ERANGE);
	CHECK_U32(RBLK_A_KO_COUNT, RBLK_KO_COUNT_MAX + 1, -ERANGE);
	CHECK_U32(RBLK_A_RESYNC_RATE_KIB_PER_S, 0, 0);
	CHECK_U32(RBLK_A_RESYNC_RATE_KIB_PER_S, RBLK_RESYNC_RATE_KIB_PER_S_MAX, 0);
	CHECK_U32(RBLK_A_RESYNC_RATE_KIB_PER_S, RBLK_RESYNC_RATE_KIB_PER_S_MAX + 1, -ERANGE);
	CHECK_U32(RBLK_A_RESYNC_LATENCY_MS, RBLK_RESYNC_LATENCY_MS_MIN, 0);
	CHECK_U32(RBLK_A_RESYNC_LATENCY_MS, RBLK_RESYNC_LATENCY_MS_MIN - 1, -ERANGE);
	CHECK_U32(RBLK_A_RESYNC_LATENCY_MS, RBLK_RESYNC_LATENCY_MS_MAX + 1, -ERANGE);
#undef CHECK_U32

	v16 = 0;
	KUNIT_EXPECT_EQ(test, rblk_nl_test_policy_one(test, RBLK_A_PEER_PORT, &v16, 2), -ERANGE);
	KUNIT_EXPECT_EQ(test, rblk_nl_test_policy_one(test, RBLK_A_LOCAL_PORT, &v16, 2), -ERANGE);
	v16 = 65535;
	KUNIT_EXPECT_EQ(test, rblk_nl_test_policy_one(test, RBLK_A_PEER_PORT, &v16, 2), 0);
	/* a u32 where a u16 belongs */
	KUNIT_EXPECT_EQ(test, rblk_nl_test_policy_one(test, RBLK_A_PEER_PORT, &v32, 4), -EINVAL);

	/* names: 63 bytes fit, 64 do not */
	memset(name, 'n', sizeof(name));
	name[RBLK_NAME_MAX_BYTES - 1] = '\0';
	KUNIT_EXPECT_EQ(test, rblk_nl_test_policy_one(test, RBLK_A_RESOURCE_NAME, name,
						      RBLK_NAME_MAX_BYTES), 0);
	name[RBLK_NAME_MAX_BYTES - 1] = 'n';
	name[RBLK_NAME_MAX_BYTES] = '\0';
	KUNIT_EXPECT_NE(test, rblk_nl_test_policy_one(test, RBLK_A_CLUSTER_NAME, name,
						      RBLK_NAME_MAX_BYTES + 1), 0);
	/* unterminated */
	KUNIT_EXPECT_EQ(test, rblk_nl_test_policy_one(test, RBLK_A_RESOURCE_NAME, "abc", 3),
			-EINVAL);
	memset(path, 'p', sizeof(path));
	path[RBLK_PATH_MAX_BYTES - 1] = '\0';
	KUNIT_EXPECT_EQ(test, rblk_nl_test_policy_one(test, RBLK_A_BACKING_PATH, path,
						      RBLK_PATH_MAX_BYTES), 0);
	path[RBLK_PATH_MAX_BYTES - 1] = 'p';
	path[RBLK_PATH_MAX_BYTES] = '\0';
	KUNIT_EXPECT_NE(test, rblk_nl_test_policy_one(test, RBLK_A_BACKING_PATH, path,
						      RBLK_PATH_MAX_BYTES + 1), 0);

	/* addresses: up to 16 bytes pass the policy; nl.c then wants 4 or 16 */
	KUNIT_EXPECT_EQ(test, rblk_nl_test_policy_one(test, RBLK_A_PEER_IP, ip6, 16), 0);
	KUNIT_EXPECT_EQ(test, rblk_nl_test_policy_one(test, RBLK_A_LOCAL_IP, ip5, 5), 0);
	KUNIT_EXPECT_EQ(test, rblk_nl_test_policy_one(test, RBLK_A_PEER_IP, name, 17), -ERANGE);

	/* flags carry no payload */
	KUNIT_EXPECT_EQ(test, rblk_nl_test_policy_one(test, RBLK_A_FORCE, NULL, 0), 0);
	KUNIT_EXPECT_EQ(test, rblk_nl_test_policy_one(test, RBLK_A_FORCE, &v8, 1), -ERANGE);

	/* what only the kernel sends is refused in a request */
	KUNIT_EXPECT_EQ(test, rblk_nl_test_policy_one(test, RBLK_A_ROLE, &v8, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, rblk_nl_test_policy_one(test, RBLK_A_EVENT, &v8, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, rblk_nl_test_policy_one(test, RBLK_A_PEER, NULL, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, rblk_nl_test_policy_one(test, RBLK_A_MAX + 1, &v8, 1), -EINVAL);
}

/* Names as rblk.conf(5) allows them: they become udev links and log prefixes. */
static void rblk_nl_test_name(struct kunit *test)
{
	static const char *const good[] = { "r0", "a", "vm-disk_1.img", "0", "A.-_" };
	static const char *const bad[] = { ".", "..", "-r", "a/b", "../x", "r 0",
					   "r\n", "\x7f", "\xc3\xa9", "\xe9", "a\xc0", "a:b", "*" };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(good); i++)
		KUNIT_EXPECT_TRUE_MSG(test, rblk_name_valid(good[i]), "%s", good[i]);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		KUNIT_EXPECT_FALSE_MSG(test, rblk_name_valid(bad[i]), "index %u", i);
}

static void rblk_nl_test_unicast(struct kunit *test)
{
	struct sockaddr_storage ss = {};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0x0a000001);	/* 10.0.0.1 */
	KUNIT_EXPECT_TRUE(test, rblk_nl_unicast_addr(&ss));
	sin->sin_addr.s_addr = htonl(0x7f000001);	/* 127.0.0.1 */
	KUNIT_EXPECT_TRUE(test, rblk_nl_unicast_addr(&ss));
	sin->sin_addr.s_addr = 0;
	KUNIT_EXPECT_FALSE(test, rblk_nl_unicast_addr(&ss));
	sin->sin_addr.s_addr = htonl(0xe0000001);	/* 224.0.0.1 */
	KUNIT_EXPECT_FALSE(test, rblk_nl_unicast_addr(&ss));
	sin->sin_addr.s_addr = htonl(0xffffffff);
	KUNIT_EXPECT_FALSE(test, rblk_nl_unicast_addr(&ss));

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	KUNIT_EXPECT_FALSE(test, rblk_nl_unicast_addr(&ss));	/* :: */
	sin6->sin6_addr.s6_addr[15] = 1;			/* ::1 */
	KUNIT_EXPECT_TRUE(test, rblk_nl_unicast_addr(&ss));
	sin6->sin6_addr.s6_addr[0] = 0xff;			/* ff00::1 */
	KUNIT_EXPECT_FALSE(test, rblk_nl_unicast_addr(&ss));
}

static struct kunit_case rblk_nl_test_cases[] = {
	KUNIT_CASE(rblk_nl_test_status_largest),
	KUNIT_CASE(rblk_nl_test_status_small),
	KUNIT_CASE(rblk_nl_test_event),
	KUNIT_CASE(rblk_nl_test_policy),
	KUNIT_CASE(rblk_nl_test_unicast),
	KUNIT_CASE(rblk_nl_test_name),
	{}
};

static struct kunit_suite rblk_nl_test_suite = {
	.name = "rblk_nl",
	.test_cases = rblk_nl_test_cases,
};

kunit_test_suite(rblk_nl_test_suite);
