// SPDX-License-Identifier: GPL-2.0
/*
 * test_nl.c - netlink messages without a kernel: requests are built and
 * parsed back attribute by attribute; STATUS replies, events and extack
 * error messages are built by hand and decoded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/genl/genl.h>

#include "testutil.h"

#define FAKE_FAMILY 0x42

static struct nl_msg *build(const struct rblk_req *q, struct nlattr **tb)
{
	struct nl_msg *msg = nlmsg_alloc();

	assert_non_null(msg);
	assert_non_null(genlmsg_put(msg, 0, 1, FAKE_FAMILY, 0, 0, q->cmd, RBLK_GENL_VERSION));
	assert_int_equal(rnl_build_request(msg, q), 0);
	assert_int_equal(genlmsg_parse(nlmsg_hdr(msg), 0, tb, RBLK_A_MAX, NULL), 0);
	return msg;
}

static unsigned int count_attrs(struct nlattr **tb)
{
	unsigned int i, n = 0;

	for (i = 0; i <= RBLK_A_MAX; i++)
		n += tb[i] != NULL;
	return n;
}

static void test_create_device(void **state)
{
	struct rblk_req q = { .cmd = RBLK_CMD_DEVICE_CREATE };
	struct nlattr *tb[RBLK_A_MAX + 1];
	struct nl_msg *msg;

	(void)state;
	q.has = REQ_MINOR | REQ_NAME | REQ_NODE_ID | REQ_CLUSTER;
	q.minor = 7;
	q.node_id = 3;
	strcpy(q.name, "vm-disk-1");
	strcpy(q.cluster, "hospital-a");
	msg = build(&q, tb);
	assert_int_equal(((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(msg)))->cmd,
			 RBLK_CMD_DEVICE_CREATE);
	assert_int_equal(((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(msg)))->version,
			 RBLK_GENL_VERSION);
	assert_int_equal(count_attrs(tb), 4);
	assert_int_equal(nla_len(tb[RBLK_A_MINOR]), 4);
	assert_int_equal(nla_get_u32(tb[RBLK_A_MINOR]), 7);
	assert_int_equal(nla_get_u32(tb[RBLK_A_NODE_ID]), 3);
	/* NUL-terminated strings */
	assert_int_equal(nla_len(tb[RBLK_A_RESOURCE_NAME]), 10);
	assert_string_equal(nla_data(tb[RBLK_A_RESOURCE_NAME]), "vm-disk-1");
	assert_int_equal(nla_len(tb[RBLK_A_CLUSTER_NAME]), 11);
	assert_string_equal(nla_data(tb[RBLK_A_CLUSTER_NAME]), "hospital-a");
	nlmsg_free(msg);
}

/* Low-level commands send deliberately incomplete requests: nothing is added. */
static void test_incomplete_request(void **state)
{
	struct rblk_req q = { .cmd = RBLK_CMD_DEVICE_CREATE };
	struct nlattr *tb[RBLK_A_MAX + 1];
	struct nl_msg *msg;

	(void)state;
	q.has = REQ_NAME;
	q.minor = 7;		/* set but not flagged: must not be sent */
	strcpy(q.name, "r");
	msg = build(&q, tb);
	assert_int_equal(count_attrs(tb), 1);
	assert_null(tb[RBLK_A_MINOR]);
	assert_non_null(tb[RBLK_A_RESOURCE_NAME]);
	nlmsg_free(msg);

	q.has = 0;
	msg = build(&q, tb);
	assert_int_equal(count_attrs(tb), 0);
	nlmsg_free(msg);
}

static void test_peer_add_ipv6(void **state)
{
	struct rblk_req q = { .cmd = RBLK_CMD_PEER_ADD };
	struct nlattr *tb[RBLK_A_MAX + 1];
	struct nl_msg *msg;
	uint8_t lo6[16] = { 0 };

	(void)state;
	lo6[15] = 1;
	q.has = REQ_MINOR | REQ_PEER_NODE_ID | REQ_PEER_IP | REQ_PEER_PORT | REQ_LOCAL_IP |
		REQ_LOCAL_PORT;
	q.minor = 1;
	q.peer_node_id = 2;
	assert_int_equal(parse_addr("[::1]:7801", true, &q.peer), 0);
	assert_int_equal(parse_addr("[::1]:7790", true, &q.local), 0);
	q.options.set[OPT_PING_TIMEOUT] = true;
	q.options.v[OPT_PING_TIMEOUT] = 6000;
	q.options.set[OPT_RECONNECT_MAX] = true;
	q.options.v[OPT_RECONNECT_MAX] = 30000;
	q.options.set[OPT_REQUEST_TIMEOUT] = true;
	q.options.v[OPT_REQUEST_TIMEOUT] = 1500;
	q.options.set[OPT_KO_COUNT] = true;
	q.options.v[OPT_KO_COUNT] = 4;
	msg = build(&q, tb);
	assert_int_equal(count_attrs(tb), 10);
	assert_int_equal(nla_len(tb[RBLK_A_PEER_IP]), 16);
	assert_memory_equal(nla_data(tb[RBLK_A_PEER_IP]), lo6, 16);
	assert_int_equal(nla_len(tb[RBLK_A_LOCAL_IP]), 16);
	assert_int_equal(nla_len(tb[RBLK_A_PEER_PORT]), 2);
	assert_int_equal(nla_get_u16(tb[RBLK_A_PEER_PORT]), 7801);	/* host order */
	assert_int_equal(nla_get_u16(tb[RBLK_A_LOCAL_PORT]), 7790);
	assert_int_equal(nla_get_u32(tb[RBLK_A_PEER_NODE_ID]), 2);
	assert_int_equal(nla_get_u32(tb[RBLK_A_PING_TIMEOUT_MS]), 6000);
	assert_int_equal(nla_get_u32(tb[RBLK_A_RECONNECT_MAX_MS]), 30000);
	assert_int_equal(nla_len(tb[RBLK_A_REQUEST_TIMEOUT_MS]), 4);
	assert_int_equal(nla_get_u32(tb[RBLK_A_REQUEST_TIMEOUT_MS]), 1500);
	assert_int_equal(nla_len(tb[RBLK_A_KO_COUNT]), 4);
	assert_int_equal(nla_get_u32(tb[RBLK_A_KO_COUNT]), 4);
	assert_null(tb[RBLK_A_PING_INTERVAL_MS]);
	nlmsg_free(msg);

	/* options not given are not sent: the kernel's defaults apply */
	q.options.set[OPT_REQUEST_TIMEOUT] = false;
	q.options.set[OPT_KO_COUNT] = false;
	msg = build(&q, tb);
	assert_int_equal(count_attrs(tb), 8);
	assert_null(tb[RBLK_A_REQUEST_TIMEOUT_MS]);
	assert_null(tb[RBLK_A_KO_COUNT]);
	nlmsg_free(msg);
}

/*
 * The first request @cmd that "up" sends for the first node of @yaml, from
 * the file to the message.  Free the message after reading @tb.
 */
static struct nl_msg *request_of(const char *yaml, uint8_t cmd, struct nlattr **tb)
{
	struct plan *p = calloc(1, sizeof(*p));
	const struct conf_resource *r;
	char err[ERRBUF_BYTES];
	struct nl_msg *msg;
	struct conf c;
	unsigned int i;

	assert_non_null(p);
	parse_ok(yaml, &c);
	r = &c.res[0];
	assert_int_equal(plan_up(&c, r, &r->nodes[0], NULL, 0, p, err, sizeof(err)), 0);
	for (i = 0; i < p->n && p->ops[i].req.cmd != cmd; i++)
		;
	assert_true(i < p->n);
	msg = build(&p->ops[i].req, tb);
	conf_free(&c);
	free(p);
	return msg;
}

/* PEER_ADD from the file: every option is sent. */
static struct nl_msg *peer_add_of(const char *yaml, struct nlattr **tb)
{
	struct nl_msg *msg = request_of(yaml, RBLK_CMD_PEER_ADD, tb);

	/* a peer without a disk in the file is a witness */
	assert_int_equal(count_attrs(tb), 6 + OPT_COUNT + !!tb[RBLK_A_PEER_WITNESS]);
	return msg;
}

/* PEER_WITNESS goes with a peer that has no disk in the file, and only then. */
static void test_peer_add_witness(void **state)
{
	static const char data_peer[] =
		"resources:\n"
		"  - name: r\n"
		"    minor: 0\n"
		"    nodes:\n"
		"      - {name: a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vda}\n"
		"      - {name: b, node-id: 1, address: 10.0.0.2:7789, disk: /dev/vdb}\n";
	static const char witness[] =
		"resources:\n"
		"  - name: r\n"
		"    minor: 0\n"
		"    nodes:\n"
		"      - {name: a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vda}\n"
		"      - {name: w, node-id: 1, address: 10.0.0.2:7789}\n";
	struct nlattr *tb[RBLK_A_MAX + 1];
	struct nl_msg *msg;

	(void)state;
	msg = peer_add_of(data_peer, tb);
	assert_null(tb[RBLK_A_PEER_WITNESS]);
	nlmsg_free(msg);
	msg = peer_add_of(witness, tb);
	assert_non_null(tb[RBLK_A_PEER_WITNESS]);
	assert_int_equal(nla_len(tb[RBLK_A_PEER_WITNESS]), 0);
	nlmsg_free(msg);
}

/* One node with a disk at minor 3; nothing else given. */
static const char one_node[] =
	"resources:\n"
	"  - name: r\n"
	"    minor: 3\n"
	"    nodes:\n"
	"      - {name: a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vda}\n";

/* ATTACH from the file: ON_IO_ERROR only where the file gives on-io-error. */
static void test_attach_on_io_error(void **state)
{
	static const char resource[] =
		"resources:\n"
		"  - name: r\n"
		"    minor: 3\n"
		"    on-io-error: pass-on\n"
		"    nodes:\n"
		"      - {name: a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vda}\n";
	static const char node[] =
		"resources:\n"
		"  - name: r\n"
		"    minor: 3\n"
		"    on-io-error: pass-on\n"
		"    nodes:\n"
		"      - {name: a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vda,\n"
		"         on-io-error: detach}\n";
	struct nlattr *tb[RBLK_A_MAX + 1];
	struct nl_msg *msg;

	(void)state;
	msg = request_of(one_node, RBLK_CMD_ATTACH, tb);
	assert_int_equal(count_attrs(tb), 2);
	assert_int_equal(nla_get_u32(tb[RBLK_A_MINOR]), 3);
	assert_string_equal(nla_data(tb[RBLK_A_BACKING_PATH]), "/dev/vda");
	assert_null(tb[RBLK_A_ON_IO_ERROR]);		/* the kernel's default: detach */
	nlmsg_free(msg);

	msg = request_of(resource, RBLK_CMD_ATTACH, tb);
	assert_int_equal(count_attrs(tb), 3);
	assert_null(tb[RBLK_A_ASSUME_UPTODATE]);	/* gone: the kernel answers EINVAL */
	assert_null(tb[RBLK_A_META_PATH]);		/* internal */
	assert_int_equal(nla_len(tb[RBLK_A_ON_IO_ERROR]), 1);
	assert_int_equal(nla_get_u8(tb[RBLK_A_ON_IO_ERROR]), RBLK_ON_IO_ERROR_PASS_ON);
	nlmsg_free(msg);

	msg = request_of(node, RBLK_CMD_ATTACH, tb);
	assert_int_equal(count_attrs(tb), 3);
	assert_int_equal(nla_len(tb[RBLK_A_ON_IO_ERROR]), 1);
	assert_int_equal(nla_get_u8(tb[RBLK_A_ON_IO_ERROR]), RBLK_ON_IO_ERROR_DETACH);
	nlmsg_free(msg);
}

static void test_peer_add_request_timeout(void **state)
{
	static const char defaults[] =
		"resources:\n"
		"  - name: r\n"
		"    minor: 0\n"
		"    nodes:\n"
		"      - {name: a, node-id: 0, address: 10.0.0.1:7789}\n"
		"      - {name: b, node-id: 1, address: 10.0.0.2:7789}\n";
	static const char set[] =
		"options: {request-timeout-ms: 3000, ko-count: 50}\n"
		"resources:\n"
		"  - name: r\n"
		"    minor: 0\n"
		"    nodes:\n"
		"      - {name: a, node-id: 0, address: 10.0.0.1:7789, options: {ko-count: 2}}\n"
		"      - {name: b, node-id: 1, address: 10.0.0.2:7789}\n";
	struct nlattr *tb[RBLK_A_MAX + 1];
	struct nl_msg *msg;

	(void)state;
	msg = peer_add_of(defaults, tb);
	/* b has no disk in the file: a witness */
	assert_non_null(tb[RBLK_A_PEER_WITNESS]);
	assert_int_equal(nla_get_u32(tb[RBLK_A_REQUEST_TIMEOUT_MS]),
			 RBLK_REQUEST_TIMEOUT_MS_DEFAULT);
	assert_int_equal(nla_get_u32(tb[RBLK_A_KO_COUNT]), RBLK_KO_COUNT_DEFAULT);
	assert_int_equal(nla_get_u32(tb[RBLK_A_PING_INTERVAL_MS]), RBLK_PING_INTERVAL_MS_DEFAULT);
	nlmsg_free(msg);

	msg = peer_add_of(set, tb);
	assert_int_equal(nla_len(tb[RBLK_A_REQUEST_TIMEOUT_MS]), 4);
	assert_int_equal(nla_get_u32(tb[RBLK_A_REQUEST_TIMEOUT_MS]), 3000);
	assert_int_equal(nla_len(tb[RBLK_A_KO_COUNT]), 4);
	assert_int_equal(nla_get_u32(tb[RBLK_A_KO_COUNT]), 2);		/* node beats top level */
	nlmsg_free(msg);
}

static void test_peer_add_ipv4_and_flags(void **state)
{
	struct rblk_req q = { .cmd = RBLK_CMD_PEER_ADD };
	struct nlattr *tb[RBLK_A_MAX + 1];
	struct nl_msg *msg;
	uint8_t ip[4] = { 10, 0, 0, 2 };

	(void)state;
	q.has = REQ_PEER_IP;		/* address without port */
	assert_int_equal(parse_addr("10.0.0.2", false, &q.peer), 0);
	msg = build(&q, tb);
	assert_int_equal(count_attrs(tb), 1);
	assert_int_equal(nla_len(tb[RBLK_A_PEER_IP]), 4);
	assert_memory_equal(nla_data(tb[RBLK_A_PEER_IP]), ip, 4);
	nlmsg_free(msg);

	memset(&q, 0, sizeof(q));
	q.cmd = RBLK_CMD_ATTACH;
	q.has = REQ_MINOR | REQ_PATH | REQ_META_PATH | REQ_FORCE;
	strcpy(q.path, "/dev/vda");
	strcpy(q.meta_path, "/dev/vdm");
	q.on_io_error = RBLK_ON_IO_ERROR_PASS_ON;	/* set but not flagged: not sent */
	msg = build(&q, tb);
	assert_int_equal(count_attrs(tb), 4);
	assert_int_equal(nla_len(tb[RBLK_A_FORCE]), 0);
	assert_string_equal(nla_data(tb[RBLK_A_BACKING_PATH]), "/dev/vda");
	assert_int_equal(nla_len(tb[RBLK_A_META_PATH]), 9);		/* NUL-terminated */
	assert_string_equal(nla_data(tb[RBLK_A_META_PATH]), "/dev/vdm");
	assert_null(tb[RBLK_A_ASSUME_UPTODATE]);
	assert_null(tb[RBLK_A_ON_IO_ERROR]);
	nlmsg_free(msg);

	/* on-io-error: a u8 */
	q.has = REQ_MINOR | REQ_PATH | REQ_ON_IO_ERROR;
	msg = build(&q, tb);
	assert_int_equal(count_attrs(tb), 3);
	assert_int_equal(nla_len(tb[RBLK_A_ON_IO_ERROR]), 1);
	assert_int_equal(nla_get_u8(tb[RBLK_A_ON_IO_ERROR]), RBLK_ON_IO_ERROR_PASS_ON);
	nlmsg_free(msg);
	q.on_io_error = RBLK_ON_IO_ERROR_DETACH;	/* 0 is sent too when flagged */
	msg = build(&q, tb);
	assert_int_equal(count_attrs(tb), 3);
	assert_int_equal(nla_get_u8(tb[RBLK_A_ON_IO_ERROR]), RBLK_ON_IO_ERROR_DETACH);
	nlmsg_free(msg);
}

/* ATTACH of "up" with an external meta-disk: META_PATH, never ASSUME_UPTODATE. */
static void test_attach_meta_path(void **state)
{
	static const char yaml[] =
		"resources:\n"
		"  - name: r\n"
		"    minor: 3\n"
		"    nodes:\n"
		"      - {name: a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vda,\n"
		"         meta-disk: /dev/disk/by-partlabel/rblk-md}\n";
	struct nlattr *tb[RBLK_A_MAX + 1];
	struct nl_msg *msg;

	(void)state;
	msg = request_of(yaml, RBLK_CMD_ATTACH, tb);
	assert_int_equal(count_attrs(tb), 3);
	assert_int_equal(nla_get_u32(tb[RBLK_A_MINOR]), 3);
	assert_string_equal(nla_data(tb[RBLK_A_BACKING_PATH]), "/dev/vda");
	assert_int_equal(nla_len(tb[RBLK_A_META_PATH]),
			 (int)strlen("/dev/disk/by-partlabel/rblk-md") + 1);
	assert_string_equal(nla_data(tb[RBLK_A_META_PATH]), "/dev/disk/by-partlabel/rblk-md");
	assert_null(tb[RBLK_A_ASSUME_UPTODATE]);
	nlmsg_free(msg);
}

/*
 * DEVICE_OPTIONS of "up": MINOR, QUORUM (u32), ON_NO_QUORUM (u8),
 * AUTO_PROMOTE (u8), FENCING (u8), FENCE_HANDLER (string, "" for none),
 * always all of them.
 */
static void test_device_options_request(void **state)
{
	static const char majority[] =
		"options: {quorum: majority}\n"
		"resources:\n"
		"  - name: r\n"
		"    minor: 3\n"
		"    nodes:\n"
		"      - {name: a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vda}\n"
		"      - {name: w, node-id: 1, address: 10.0.0.2:7789}\n";
	static const char votes[] =
		"resources:\n"
		"  - name: r\n"
		"    minor: 3\n"
		"    options: {quorum: 2, on-no-quorum: io-error}\n"
		"    nodes:\n"
		"      - {name: a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vda}\n"
		"      - {name: w, node-id: 1, address: 10.0.0.2:7789}\n";
	static const char fencing[] =
		"options: {fence-handler: /usr/lib/rblk/fence-peer}\n"
		"resources:\n"
		"  - name: r\n"
		"    minor: 3\n"
		"    options: {auto-promote: yes, fencing: resource-and-stonith}\n"
		"    nodes:\n"
		"      - {name: a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vda}\n";
	/* off is sent as well: the file, not the kernel's default, decides */
	static const struct {
		const char *yaml;
		uint32_t quorum;
		uint8_t on_no_quorum, auto_promote, fencing;
		const char *handler;
	} cases[] = {
		{ majority, RBLK_QUORUM_MAJORITY, RBLK_ON_NO_QUORUM_SUSPEND_IO, 0,
		  RBLK_FENCING_OFF, "" },
		{ votes, 2, RBLK_ON_NO_QUORUM_IO_ERROR, 0, RBLK_FENCING_OFF, "" },
		{ one_node, RBLK_QUORUM_OFF, RBLK_ON_NO_QUORUM_SUSPEND_IO, 0, RBLK_FENCING_OFF, "" },
		{ fencing, RBLK_QUORUM_OFF, RBLK_ON_NO_QUORUM_SUSPEND_IO, 1,
		  RBLK_FENCING_RESOURCE_AND_STONITH, "/usr/lib/rblk/fence-peer" },
	};
	struct nlattr *tb[RBLK_A_MAX + 1];
	struct nl_msg *msg;
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		msg = request_of(cases[i].yaml, RBLK_CMD_DEVICE_OPTIONS, tb);
		assert_int_equal(((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(msg)))->cmd,
				 RBLK_CMD_DEVICE_OPTIONS);
		assert_int_equal(count_attrs(tb), 9);
		assert_int_equal(nla_get_u32(tb[RBLK_A_MINOR]), 3);
		assert_int_equal(nla_len(tb[RBLK_A_QUORUM]), 4);
		assert_true(nla_get_u32(tb[RBLK_A_QUORUM]) == cases[i].quorum);
		assert_int_equal(nla_len(tb[RBLK_A_ON_NO_QUORUM]), 1);
		assert_int_equal(nla_get_u8(tb[RBLK_A_ON_NO_QUORUM]), cases[i].on_no_quorum);
		assert_int_equal(nla_len(tb[RBLK_A_AUTO_PROMOTE]), 1);
		assert_int_equal(nla_get_u8(tb[RBLK_A_AUTO_PROMOTE]), cases[i].auto_promote);
		assert_int_equal(nla_len(tb[RBLK_A_FENCING]), 1);
		assert_int_equal(nla_get_u8(tb[RBLK_A_FENCING]), cases[i].fencing);
		/* a NUL-terminated string, also when empty (no handler) */
		assert_int_equal(nla_len(tb[RBLK_A_FENCE_HANDLER]), strlen(cases[i].handler) + 1);
		assert_string_equal(nla_get_string(tb[RBLK_A_FENCE_HANDLER]), cases[i].handler);
		/* no secret-file: an empty secret, so that removing it clears it */
		assert_int_equal(nla_len(tb[RBLK_A_AUTH_SECRET]), 0);
		/* no data-digest: none, so that removing it clears it */
		assert_int_equal(nla_len(tb[RBLK_A_DATA_DIGEST]), 1);
		assert_int_equal(nla_get_u8(tb[RBLK_A_DATA_DIGEST]), RBLK_DATA_DIGEST_NONE);
		/* no read-balancing: prefer-local, so that removing it restores it */
		assert_int_equal(nla_len(tb[RBLK_A_READ_BALANCING]), 1);
		assert_int_equal(nla_get_u8(tb[RBLK_A_READ_BALANCING]), RBLK_READ_PREFER_LOCAL);
		nlmsg_free(msg);
	}
	/* data-digest: crc32c, a u8 1 */
	msg = request_of("resources:\n  - name: r0\n    minor: 3\n    data-digest: crc32c\n"
			 "    nodes:\n      - {name: a, node-id: 0, address: 10.0.0.1:7789}\n",
			 RBLK_CMD_DEVICE_OPTIONS, tb);
	assert_int_equal(nla_len(tb[RBLK_A_DATA_DIGEST]), 1);
	assert_int_equal(nla_get_u8(tb[RBLK_A_DATA_DIGEST]), RBLK_DATA_DIGEST_CRC32C);
	nlmsg_free(msg);
	/* read-balancing: when-congested-remote, a u8 3 */
	msg = request_of("resources:\n  - name: r0\n    minor: 3\n"
			 "    read-balancing: when-congested-remote\n"
			 "    nodes:\n      - {name: a, node-id: 0, address: 10.0.0.1:7789}\n",
			 RBLK_CMD_DEVICE_OPTIONS, tb);
	assert_int_equal(nla_len(tb[RBLK_A_READ_BALANCING]), 1);
	assert_int_equal(nla_get_u8(tb[RBLK_A_READ_BALANCING]), RBLK_READ_WHEN_CONGESTED_REMOTE);
	nlmsg_free(msg);
}

/* primary --force --ignore-quorum: two independent flags; secondary: none. */
static void test_role_request(void **state)
{
	static const struct {
		bool primary, force, ignore_quorum;
		uint8_t cmd;
		unsigned int n_attrs;
	} cases[] = {
		{ true, false, false, RBLK_CMD_PRIMARY, 1 },
		{ true, false, true, RBLK_CMD_PRIMARY, 2 },	/* --ignore-quorum is not --force */
		{ true, true, false, RBLK_CMD_PRIMARY, 2 },
		{ true, true, true, RBLK_CMD_PRIMARY, 3 },
		{ false, true, true, RBLK_CMD_SECONDARY, 1 },
	};
	struct nlattr *tb[RBLK_A_MAX + 1];
	struct rblk_req q;
	struct nl_msg *msg;
	struct conf c;
	unsigned int i;

	(void)state;
	parse_ok(one_node, &c);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		req_role(&c.res[0], cases[i].primary, cases[i].force, cases[i].ignore_quorum, &q);
		msg = build(&q, tb);
		assert_int_equal(((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(msg)))->cmd,
				 cases[i].cmd);
		assert_int_equal(count_attrs(tb), cases[i].n_attrs);
		assert_int_equal(nla_get_u32(tb[RBLK_A_MINOR]), 3);
		if (cases[i].n_attrs > 1 && cases[i].force)
			assert_int_equal(nla_len(tb[RBLK_A_FORCE]), 0);		/* a flag */
		else
			assert_null(tb[RBLK_A_FORCE]);
		if (cases[i].n_attrs > 1 && cases[i].ignore_quorum)
			assert_int_equal(nla_len(tb[RBLK_A_IGNORE_QUORUM]), 0);
		else
			assert_null(tb[RBLK_A_IGNORE_QUORUM]);
		nlmsg_free(msg);
	}
	conf_free(&c);

	/* the low-level flags and values are sent as given */
	memset(&q, 0, sizeof(q));
	q.cmd = RBLK_CMD_DEVICE_OPTIONS;
	q.has = REQ_MINOR | REQ_QUORUM;
	q.quorum = 40;			/* out of range: the kernel's check */
	q.on_no_quorum = RBLK_ON_NO_QUORUM_IO_ERROR;	/* not flagged: not sent */
	msg = build(&q, tb);
	assert_int_equal(count_attrs(tb), 2);
	assert_int_equal(nla_get_u32(tb[RBLK_A_QUORUM]), 40);
	assert_null(tb[RBLK_A_ON_NO_QUORUM]);
	nlmsg_free(msg);
	q.has = REQ_MINOR | REQ_ON_NO_QUORUM;
	msg = build(&q, tb);
	assert_int_equal(count_attrs(tb), 2);
	assert_null(tb[RBLK_A_QUORUM]);
	assert_int_equal(nla_get_u8(tb[RBLK_A_ON_NO_QUORUM]), RBLK_ON_NO_QUORUM_IO_ERROR);
	nlmsg_free(msg);
	/* device-options --fence-handler '': an empty string clears the handler */
	q.has = REQ_MINOR | REQ_FENCE_HANDLER;
	msg = build(&q, tb);
	assert_int_equal(count_attrs(tb), 2);
	assert_int_equal(nla_len(tb[RBLK_A_FENCE_HANDLER]), 1);
	assert_string_equal(nla_get_string(tb[RBLK_A_FENCE_HANDLER]), "");
	nlmsg_free(msg);
	/* --auto-promote 2 --fencing 7 --fence-handler rel: for the kernel's checks */
	q.has = REQ_MINOR | REQ_AUTO_PROMOTE | REQ_FENCING | REQ_FENCE_HANDLER;
	q.auto_promote = 2;
	q.fencing = 7;
	snprintf(q.fence_handler, sizeof(q.fence_handler), "fence");
	msg = build(&q, tb);
	assert_int_equal(count_attrs(tb), 4);
	assert_int_equal(nla_get_u8(tb[RBLK_A_AUTO_PROMOTE]), 2);
	assert_int_equal(nla_get_u8(tb[RBLK_A_FENCING]), 7);
	assert_string_equal(nla_get_string(tb[RBLK_A_FENCE_HANDLER]), "fence");
	assert_null(tb[RBLK_A_QUORUM]);
	nlmsg_free(msg);
}

/* resume-io: RBLK_CMD_RESUME_IO with MINOR only. */
static void test_resume_io_request(void **state)
{
	struct nlattr *tb[RBLK_A_MAX + 1];
	struct rblk_req q;
	struct nl_msg *msg;

	(void)state;
	memset(&q, 0xff, sizeof(q));		/* nothing left over is sent */
	req_resume_io(4, &q);
	msg = build(&q, tb);
	assert_int_equal(((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(msg)))->cmd,
			 RBLK_CMD_RESUME_IO);
	assert_int_equal(count_attrs(tb), 1);
	assert_int_equal(nla_len(tb[RBLK_A_MINOR]), 4);
	assert_int_equal(nla_get_u32(tb[RBLK_A_MINOR]), 4);
	nlmsg_free(msg);
}

static const char md_topo[] =
	"resources:\n"
	"  - name: vm-disk-1\n"
	"    minor: 4\n"
	"    nodes:\n"
	"      - {name: node-a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vda}\n"
	"      - {name: node-b, node-id: 1, address: 10.0.0.2:7789, disk: /dev/vdb,\n"
	"         meta-disk: /dev/vdm}\n"
	"      - {name: node-c, node-id: 2, address: 10.0.0.3:7789}\n";

static void test_md_create(void **state)
{
	const struct conf_resource *r;
	struct nlattr *tb[RBLK_A_MAX + 1];
	struct rblk_req q;
	struct nl_msg *msg;
	struct conf c;

	(void)state;
	parse_ok(md_topo, &c);
	r = &c.res[0];

	/* internal metadata: BACKING_PATH, NODE_ID, MAX_PEERS = the other nodes */
	req_md_create(r, conf_find_node(r, "node-a"), false, &q);
	msg = build(&q, tb);
	assert_int_equal(((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(msg)))->cmd,
			 RBLK_CMD_MD_CREATE);
	assert_int_equal(count_attrs(tb), 3);
	assert_string_equal(nla_data(tb[RBLK_A_BACKING_PATH]), "/dev/vda");
	assert_int_equal(nla_len(tb[RBLK_A_NODE_ID]), 4);
	assert_int_equal(nla_get_u32(tb[RBLK_A_NODE_ID]), 0);
	assert_int_equal(nla_len(tb[RBLK_A_MAX_PEERS]), 4);
	assert_int_equal(nla_get_u32(tb[RBLK_A_MAX_PEERS]), 2);
	assert_null(tb[RBLK_A_META_PATH]);
	assert_null(tb[RBLK_A_FORCE]);
	assert_null(tb[RBLK_A_MINOR]);		/* by path: no device needed */
	nlmsg_free(msg);

	/* external metadata and --force */
	req_md_create(r, conf_find_node(r, "node-b"), true, &q);
	msg = build(&q, tb);
	assert_int_equal(count_attrs(tb), 5);
	assert_string_equal(nla_data(tb[RBLK_A_BACKING_PATH]), "/dev/vdb");
	assert_string_equal(nla_data(tb[RBLK_A_META_PATH]), "/dev/vdm");
	assert_int_equal(nla_get_u32(tb[RBLK_A_NODE_ID]), 1);
	assert_int_equal(nla_get_u32(tb[RBLK_A_MAX_PEERS]), 2);
	assert_int_equal(nla_len(tb[RBLK_A_FORCE]), 0);
	nlmsg_free(msg);
	conf_free(&c);

	/* a resource of one node still has one bitmap slot */
	parse_ok("resources:\n  - name: solo\n    minor: 0\n    nodes:\n"
		 "      - {name: a, node-id: 7, address: 10.0.0.1:7789, disk: /dev/vda}\n", &c);
	req_md_create(&c.res[0], &c.res[0].nodes[0], false, &q);
	msg = build(&q, tb);
	assert_int_equal(nla_get_u32(tb[RBLK_A_MAX_PEERS]), 1);
	assert_int_equal(nla_get_u32(tb[RBLK_A_NODE_ID]), 7);
	nlmsg_free(msg);
	conf_free(&c);
}

static void test_md_dump_request(void **state)
{
	const struct conf_resource *r;
	struct nlattr *tb[RBLK_A_MAX + 1];
	struct rblk_req q;
	struct nl_msg *msg;
	struct conf c;

	(void)state;
	parse_ok(md_topo, &c);
	r = &c.res[0];
	/* attached: by minor only */
	req_md_dump(conf_find_node(r, "node-b"), 4, &q);
	msg = build(&q, tb);
	assert_int_equal(((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(msg)))->cmd, RBLK_CMD_MD_DUMP);
	assert_int_equal(count_attrs(tb), 1);
	assert_int_equal(nla_get_u32(tb[RBLK_A_MINOR]), 4);
	nlmsg_free(msg);
	/* not attached: the disk, and the external meta-disk */
	req_md_dump(conf_find_node(r, "node-b"), -1, &q);
	msg = build(&q, tb);
	assert_int_equal(count_attrs(tb), 2);
	assert_string_equal(nla_data(tb[RBLK_A_BACKING_PATH]), "/dev/vdb");
	assert_string_equal(nla_data(tb[RBLK_A_META_PATH]), "/dev/vdm");
	nlmsg_free(msg);
	req_md_dump(conf_find_node(r, "node-a"), -1, &q);
	msg = build(&q, tb);
	assert_int_equal(count_attrs(tb), 1);
	assert_string_equal(nla_data(tb[RBLK_A_BACKING_PATH]), "/dev/vda");
	nlmsg_free(msg);
	conf_free(&c);
}

static void test_new_current_uuid_and_connect(void **state)
{
	const struct conf_resource *r;
	struct nlattr *tb[RBLK_A_MAX + 1];
	struct rblk_req q;
	struct nl_msg *msg;
	struct conf c;

	(void)state;
	parse_ok(md_topo, &c);
	r = &c.res[0];
	req_new_current_uuid(r, false, &q);
	msg = build(&q, tb);
	assert_int_equal(((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(msg)))->cmd,
			 RBLK_CMD_NEW_CURRENT_UUID);
	assert_int_equal(count_attrs(tb), 1);
	assert_int_equal(nla_get_u32(tb[RBLK_A_MINOR]), 4);
	nlmsg_free(msg);
	req_new_current_uuid(r, true, &q);
	msg = build(&q, tb);
	assert_int_equal(count_attrs(tb), 2);
	assert_non_null(tb[RBLK_A_CLEAR_BITMAP]);
	assert_int_equal(nla_len(tb[RBLK_A_CLEAR_BITMAP]), 0);		/* a flag */
	nlmsg_free(msg);

	/* connect --discard-my-data: the flag goes with CONNECT */
	req_connect(r, NULL, true, true, &q);
	msg = build(&q, tb);
	assert_int_equal(((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(msg)))->cmd, RBLK_CMD_CONNECT);
	assert_int_equal(count_attrs(tb), 2);
	assert_int_equal(nla_get_u32(tb[RBLK_A_MINOR]), 4);
	assert_non_null(tb[RBLK_A_DISCARD_MY_DATA]);
	assert_int_equal(nla_len(tb[RBLK_A_DISCARD_MY_DATA]), 0);
	nlmsg_free(msg);
	req_connect(r, conf_find_node(r, "node-c"), true, true, &q);
	msg = build(&q, tb);
	assert_int_equal(count_attrs(tb), 3);
	assert_int_equal(nla_get_u32(tb[RBLK_A_PEER_NODE_ID]), 2);
	assert_non_null(tb[RBLK_A_DISCARD_MY_DATA]);
	nlmsg_free(msg);
	req_connect(r, NULL, true, false, &q);
	msg = build(&q, tb);
	assert_int_equal(count_attrs(tb), 1);
	assert_null(tb[RBLK_A_DISCARD_MY_DATA]);
	nlmsg_free(msg);
	/* never with DISCONNECT */
	req_connect(r, NULL, false, true, &q);
	msg = build(&q, tb);
	assert_int_equal(((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(msg)))->cmd,
			 RBLK_CMD_DISCONNECT);
	assert_int_equal(count_attrs(tb), 1);
	nlmsg_free(msg);
	conf_free(&c);
}

static void put_peer(struct nl_msg *msg, uint32_t id, uint8_t conn, const char *err)
{
	struct nlattr *n = nla_nest_start(msg, RBLK_A_PEER);
	uint8_t ip[4] = { 10, 0, 0, (uint8_t)(id + 1) };

	nla_put_u32(msg, RBLK_A_PEER_NODE_ID, id);
	nla_put(msg, RBLK_A_PEER_IP, 4, ip);
	nla_put_u16(msg, RBLK_A_PEER_PORT, 7789);
	nla_put(msg, RBLK_A_LOCAL_IP, 4, ip);
	nla_put_u16(msg, RBLK_A_LOCAL_PORT, (uint16_t)(7790 + id));
	nla_put_u8(msg, RBLK_A_CONN_STATE, conn);
	nla_put_u8(msg, RBLK_A_PEER_ROLE, RBLK_ROLE_SECONDARY);
	nla_put_u8(msg, RBLK_A_PEER_DISK_STATE, RBLK_DISK_OUTDATED);
	nla_put_u64(msg, RBLK_A_WRITES, 11);
	nla_put_u64(msg, RBLK_A_WRITE_BYTES, 1ULL << 40);
	nla_put_u64(msg, RBLK_A_RTT_US, 250);
	nla_put_u64(msg, RBLK_A_TCP_RTT_US, 230);
	nla_put_u64(msg, RBLK_A_RECEIVED_BYTES, 99);
	nla_put_u64(msg, RBLK_A_PEER_READS, 17);
	nla_put_u64(msg, RBLK_A_PEER_READ_BYTES, 3ULL << 33);
	nla_put_u64(msg, RBLK_A_PEER_SERVED_READS, 21);
	nla_put_u32(msg, RBLK_A_PING_TIMEOUT_MS, 5000);
	nla_put_u32(msg, RBLK_A_KO_COUNT, 9);
	if (err)
		nla_put_string(msg, RBLK_A_LAST_ERROR, err);
	nla_nest_end(msg, n);
}

static void test_parse_status(void **state)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct nlattr *st;
	struct kdev d;
	char a[64];

	(void)state;
	genlmsg_put(msg, 0, 1, FAKE_FAMILY, 0, 0, RBLK_CMD_STATUS, RBLK_GENL_VERSION);
	nla_put_u32(msg, RBLK_A_MINOR, 4);
	nla_put_u32(msg, RBLK_A_NODE_ID, 1);
	nla_put_string(msg, RBLK_A_RESOURCE_NAME, "vm-disk-1");
	nla_put_string(msg, RBLK_A_CLUSTER_NAME, "hospital-a");
	nla_put_string(msg, RBLK_A_BACKING_PATH, "/dev/vdb");
	nla_put_u8(msg, RBLK_A_ROLE, RBLK_ROLE_PRIMARY);
	nla_put_u8(msg, RBLK_A_DISK_STATE, RBLK_DISK_UP_TO_DATE);
	nla_put_u64(msg, RBLK_A_SIZE_SECTORS, 1ULL << 33);
	nla_put_u32(msg, RBLK_A_LOGICAL_BLOCK_SIZE_BYTES, 4096);
	nla_put_u32(msg, RBLK_A_OPEN_COUNT, 2);
	nla_put_u8(msg, RBLK_A_READ_BALANCING, RBLK_READ_LEAST_PENDING);
	st = nla_nest_start(msg, RBLK_A_STATS);
	nla_put_u64(msg, RBLK_A_READS, 5);
	nla_put_u64(msg, RBLK_A_WRITE_BYTES, 123456789012ULL);
	nla_put_u64(msg, RBLK_A_ERRORS, 1);
	nla_nest_end(msg, st);
	put_peer(msg, 0, RBLK_CONN_CONNECTED, NULL);
	put_peer(msg, 2, RBLK_CONN_CONNECTING, "connection refused");
	nla_put_u32(msg, 250, 1);	/* unknown attribute from a newer kernel: ignored */

	assert_int_equal(rnl_parse_device(nlmsg_hdr(msg), &d), 0);
	assert_int_equal(d.minor, 4);
	assert_int_equal(d.node_id, 1);
	assert_string_equal(d.name, "vm-disk-1");
	assert_string_equal(d.cluster, "hospital-a");
	assert_string_equal(d.backing, "/dev/vdb");
	assert_int_equal(d.role, RBLK_ROLE_PRIMARY);
	assert_int_equal(d.disk_state, RBLK_DISK_UP_TO_DATE);
	assert_true(d.size_sectors == 1ULL << 33);
	assert_int_equal(d.logical_block_size_bytes, 4096);
	assert_int_equal(d.open_count, 2);
	assert_true(d.has_read_balancing);
	assert_int_equal(d.read_balancing, RBLK_READ_LEAST_PENDING);
	assert_int_equal(d.reads, 5);
	assert_true(d.write_bytes == 123456789012ULL);
	assert_int_equal(d.errors, 1);
	assert_int_equal(d.n_peers, 2);
	assert_int_equal(d.peers[0].node_id, 0);
	assert_int_equal(d.peers[0].conn_state, RBLK_CONN_CONNECTED);
	assert_int_equal(d.peers[0].peer_role, RBLK_ROLE_SECONDARY);
	assert_int_equal(d.peers[0].peer_disk_state, RBLK_DISK_OUTDATED);
	format_addr(&d.peers[0].peer, a, sizeof(a));
	assert_string_equal(a, "10.0.0.1:7789");
	format_addr(&d.peers[1].local, a, sizeof(a));
	assert_string_equal(a, "10.0.0.3:7792");
	assert_int_equal(d.peers[0].writes, 11);
	assert_true(d.peers[0].write_bytes == 1ULL << 40);
	assert_int_equal(d.peers[0].rtt_us, 250);
	assert_int_equal(d.peers[0].tcp_rtt_us, 230);
	assert_true(d.peers[0].has_tcp_rtt);
	assert_int_equal(d.peers[0].received_bytes, 99);
	/* the peer's read counters are not the device's */
	assert_int_equal(d.peers[0].reads, 17);
	assert_true(d.peers[0].read_bytes == 3ULL << 33);
	assert_int_equal(d.peers[0].served_reads, 21);
	assert_int_equal(d.peers[1].reads, 17);
	assert_true(d.peers[0].options.set[OPT_PING_TIMEOUT]);
	assert_false(d.peers[0].options.set[OPT_PING_INTERVAL]);
	assert_int_equal(d.peers[0].options.v[OPT_PING_TIMEOUT], 5000);
	assert_true(d.peers[0].options.set[OPT_KO_COUNT]);
	assert_int_equal(d.peers[0].options.v[OPT_KO_COUNT], 9);
	assert_false(d.peers[0].options.set[OPT_REQUEST_TIMEOUT]);
	assert_string_equal(d.peers[0].last_error, "");
	assert_string_equal(d.peers[1].last_error, "connection refused");
	nlmsg_free(msg);

	/* a reply without a minor is not a device */
	msg = nlmsg_alloc();
	genlmsg_put(msg, 0, 1, FAKE_FAMILY, 0, 0, RBLK_CMD_STATUS, RBLK_GENL_VERSION);
	nla_put_string(msg, RBLK_A_RESOURCE_NAME, "x");
	assert_int_equal(rnl_parse_device(nlmsg_hdr(msg), &d), -1);
	nlmsg_free(msg);
}

/* The metadata and resync attributes of STATUS, as rblk.ko puts them. */
static void test_parse_status_md(void **state)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct nlattr *n;
	struct kdev d;

	(void)state;
	genlmsg_put(msg, 0, 1, FAKE_FAMILY, 0, 0, RBLK_CMD_STATUS, RBLK_GENL_VERSION);
	nla_put_u32(msg, RBLK_A_MINOR, 4);
	nla_put_u8(msg, RBLK_A_DISK_STATE, RBLK_DISK_CONSISTENT);
	nla_put_u32(msg, RBLK_A_MD_FLAGS, RBLK_MDF_CONSISTENT | RBLK_MDF_ATTACHED);
	nla_put_u64(msg, RBLK_A_CURRENT_UUID, 0x9f3a0c21b7e4d560ULL);
	/* resyncing peer: every attribute */
	n = nla_nest_start(msg, RBLK_A_PEER);
	nla_put_u32(msg, RBLK_A_PEER_NODE_ID, 1);
	nla_put_u8(msg, RBLK_A_CONN_STATE, RBLK_CONN_CONNECTED);
	nla_put_u8(msg, RBLK_A_REPL_STATE, RBLK_REPL_SYNC_SOURCE);
	nla_put_u8(msg, RBLK_A_SYNC_DECISION, RBLK_SYNC_BITMAP_SOURCE);
	nla_put_u64(msg, RBLK_A_BITMAP_UUID, 0x1122334455667788ULL);
	nla_put_u64(msg, RBLK_A_OUT_OF_SYNC_BYTES, 3ULL << 30);
	nla_put_u64(msg, RBLK_A_RESYNC_TOTAL_BYTES, 4ULL << 30);
	nla_put_u64(msg, RBLK_A_RESYNC_DONE_BYTES, 1ULL << 30);
	nla_put_u64(msg, RBLK_A_RESYNC_RATE_BYTES_PER_S, 100ULL << 20);
	nla_nest_end(msg, n);
	/* split-brain peer: a flag, no slot, no resync */
	n = nla_nest_start(msg, RBLK_A_PEER);
	nla_put_u32(msg, RBLK_A_PEER_NODE_ID, 2);
	nla_put_u8(msg, RBLK_A_REPL_STATE, RBLK_REPL_OFF);
	nla_put_u8(msg, RBLK_A_SYNC_DECISION, RBLK_SYNC_SPLIT_BRAIN);
	nla_put_flag(msg, RBLK_A_SPLIT_BRAIN);
	nla_put_string(msg, RBLK_A_LAST_ERROR, "split-brain");
	nla_nest_end(msg, n);
	/* a peer from a kernel without any of it */
	n = nla_nest_start(msg, RBLK_A_PEER);
	nla_put_u32(msg, RBLK_A_PEER_NODE_ID, 3);
	nla_nest_end(msg, n);

	assert_int_equal(rnl_parse_device(nlmsg_hdr(msg), &d), 0);
	assert_int_equal(d.disk_state, RBLK_DISK_CONSISTENT);
	assert_true(d.has_md_flags);
	assert_int_equal(d.md_flags, RBLK_MDF_CONSISTENT | RBLK_MDF_ATTACHED);
	assert_true(d.has_current_uuid);
	assert_true(d.current_uuid == 0x9f3a0c21b7e4d560ULL);
	assert_int_equal(d.n_peers, 3);
	assert_true(d.peers[0].has_repl_state);
	assert_int_equal(d.peers[0].repl_state, RBLK_REPL_SYNC_SOURCE);
	assert_true(d.peers[0].has_sync_decision);
	assert_int_equal(d.peers[0].sync_decision, RBLK_SYNC_BITMAP_SOURCE);
	assert_false(d.peers[0].split_brain);
	assert_true(d.peers[0].has_bitmap_uuid);
	assert_true(d.peers[0].bitmap_uuid == 0x1122334455667788ULL);
	assert_true(d.peers[0].has_out_of_sync);
	assert_true(d.peers[0].out_of_sync_bytes == 3ULL << 30);
	assert_true(d.peers[0].has_resync_total && d.peers[0].has_resync_done &&
		    d.peers[0].has_resync_rate);
	assert_true(d.peers[0].resync_total_bytes == 4ULL << 30);
	assert_true(d.peers[0].resync_done_bytes == 1ULL << 30);
	assert_true(d.peers[0].resync_rate_bytes_per_s == 100ULL << 20);
	assert_true(d.peers[1].split_brain);
	assert_int_equal(d.peers[1].sync_decision, RBLK_SYNC_SPLIT_BRAIN);
	assert_false(d.peers[1].has_bitmap_uuid);
	assert_false(d.peers[1].has_out_of_sync);
	assert_false(d.peers[1].has_resync_total);
	assert_string_equal(d.peers[1].last_error, "split-brain");
	assert_false(d.peers[2].has_repl_state);
	assert_false(d.peers[2].has_sync_decision);
	assert_false(d.peers[2].split_brain);
	nlmsg_free(msg);

	/* a device without metadata attributes */
	msg = nlmsg_alloc();
	genlmsg_put(msg, 0, 1, FAKE_FAMILY, 0, 0, RBLK_CMD_STATUS, RBLK_GENL_VERSION);
	nla_put_u32(msg, RBLK_A_MINOR, 0);
	assert_int_equal(rnl_parse_device(nlmsg_hdr(msg), &d), 0);
	assert_false(d.has_md_flags);
	assert_false(d.has_current_uuid);
	nlmsg_free(msg);
}

/* A message of @cmd from rblk.ko with RBLK_A_MINOR, and RBLK_A_EVENT @event if > 0. */
static struct nl_msg *kernel_msg(uint8_t cmd, int event, uint32_t minor)
{
	struct nl_msg *msg = nlmsg_alloc();

	assert_non_null(msg);
	assert_non_null(genlmsg_put(msg, 0, cmd == RBLK_CMD_EVENT ? 0 : 1, FAKE_FAMILY, 0, 0,
				    cmd, RBLK_GENL_VERSION));
	if (event > 0)
		assert_int_equal(nla_put_u8(msg, RBLK_A_EVENT, (uint8_t)event), 0);
	assert_int_equal(nla_put_u32(msg, RBLK_A_MINOR, minor), 0);
	return msg;
}

/* The quorum attributes of STATUS: at device level, outside RBLK_A_PEER. */
static void test_parse_status_quorum(void **state)
{
	struct nl_msg *msg = kernel_msg(RBLK_CMD_STATUS, 0, 4);
	struct nlattr *n;
	struct kdev d;

	(void)state;
	nla_put_u32(msg, RBLK_A_QUORUM, RBLK_QUORUM_MAJORITY);
	nla_put_u8(msg, RBLK_A_ON_NO_QUORUM, RBLK_ON_NO_QUORUM_SUSPEND_IO);
	nla_put_u8(msg, RBLK_A_HAS_QUORUM, 0);
	nla_put_u32(msg, RBLK_A_QUORUM_VOTES, 1);
	nla_put_u32(msg, RBLK_A_QUORUM_NEEDED, 2);
	nla_put_u32(msg, RBLK_A_QUORUM_VOTERS, 3);
	nla_put_u8(msg, RBLK_A_SUSPENDED, RBLK_SUSPEND_NO_QUORUM);
	nla_put_u32(msg, RBLK_A_SUSPENDED_WRITES, 17);
	n = nla_nest_start(msg, RBLK_A_PEER);
	nla_put_u32(msg, RBLK_A_PEER_NODE_ID, 1);
	nla_nest_end(msg, n);

	assert_int_equal(rnl_parse_device(nlmsg_hdr(msg), &d), 0);
	assert_true(d.has_quorum_policy && d.has_on_no_quorum && d.qstate.has_state &&
		    d.qstate.has_votes && d.qstate.has_needed && d.has_quorum_voters &&
		    d.qstate.has_suspended && d.has_suspended_writes);
	assert_true(d.quorum == RBLK_QUORUM_MAJORITY);
	assert_int_equal(d.on_no_quorum, RBLK_ON_NO_QUORUM_SUSPEND_IO);
	assert_false(d.qstate.quorate);
	assert_int_equal(d.qstate.votes, 1);
	assert_int_equal(d.qstate.needed, 2);
	assert_int_equal(d.quorum_voters, 3);
	assert_int_equal(d.qstate.suspended, RBLK_SUSPEND_NO_QUORUM);
	assert_int_equal(d.suspended_writes, 17);
	assert_int_equal(d.n_peers, 1);
	nlmsg_free(msg);

	msg = kernel_msg(RBLK_CMD_STATUS, 0, 4);
	nla_put_u32(msg, RBLK_A_QUORUM, 2);
	nla_put_u8(msg, RBLK_A_HAS_QUORUM, 1);
	assert_int_equal(rnl_parse_device(nlmsg_hdr(msg), &d), 0);
	assert_true(d.has_quorum_policy);
	assert_int_equal(d.quorum, 2);
	assert_true(d.qstate.quorate);
	assert_false(d.has_on_no_quorum);
	assert_false(d.qstate.has_suspended);
	nlmsg_free(msg);

	/* a kernel without quorum: nothing reported, the plan sends the policy */
	msg = kernel_msg(RBLK_CMD_STATUS, 0, 4);
	assert_int_equal(rnl_parse_device(nlmsg_hdr(msg), &d), 0);
	assert_false(d.has_quorum_policy || d.has_on_no_quorum || d.qstate.has_state ||
		     d.qstate.has_votes || d.qstate.has_needed || d.has_quorum_voters ||
		     d.qstate.has_suspended || d.has_suspended_writes);
	nlmsg_free(msg);
}

/* Auto-promote and fencing in STATUS: device level, beside the quorum state. */
static void test_parse_status_fencing(void **state)
{
	struct nl_msg *msg = kernel_msg(RBLK_CMD_STATUS, 0, 4);
	struct kdev d;

	(void)state;
	nla_put_u8(msg, RBLK_A_ROLE, RBLK_ROLE_PRIMARY);
	nla_put_u8(msg, RBLK_A_AUTO_PROMOTE, 1);
	nla_put_u8(msg, RBLK_A_AUTO_PROMOTED, 1);
	nla_put_u8(msg, RBLK_A_FENCING, RBLK_FENCING_RESOURCE_AND_STONITH);
	nla_put_string(msg, RBLK_A_FENCE_HANDLER, "/usr/lib/rblk/fence-peer");
	nla_put_u32(msg, RBLK_A_FENCE_PENDING, (1u << 1) | (1u << 31));
	nla_put_u8(msg, RBLK_A_SUSPENDED, RBLK_SUSPEND_FENCING);
	assert_int_equal(rnl_parse_device(nlmsg_hdr(msg), &d), 0);
	assert_true(d.has_auto_promote && d.auto_promote);
	assert_true(d.has_auto_promoted && d.auto_promoted);
	assert_true(d.has_fencing);
	assert_int_equal(d.fencing, RBLK_FENCING_RESOURCE_AND_STONITH);
	assert_true(d.has_fence_handler);
	assert_string_equal(d.fence_handler, "/usr/lib/rblk/fence-peer");
	assert_true(d.fstate.has_pending);
	assert_true(d.fstate.pending == ((1u << 1) | (1u << 31)));
	assert_false(d.fstate.has_result);
	assert_true(d.qstate.has_suspended);
	assert_int_equal(d.qstate.suspended, RBLK_SUSPEND_FENCING);
	nlmsg_free(msg);

	/* no handler, nothing pending */
	msg = kernel_msg(RBLK_CMD_STATUS, 0, 4);
	nla_put_u8(msg, RBLK_A_AUTO_PROMOTE, 0);
	nla_put_u8(msg, RBLK_A_AUTO_PROMOTED, 0);
	nla_put_u8(msg, RBLK_A_FENCING, RBLK_FENCING_OFF);
	nla_put_string(msg, RBLK_A_FENCE_HANDLER, "");
	nla_put_u32(msg, RBLK_A_FENCE_PENDING, 0);
	assert_int_equal(rnl_parse_device(nlmsg_hdr(msg), &d), 0);
	assert_true(d.has_auto_promote && !d.auto_promote);
	assert_true(d.has_auto_promoted && !d.auto_promoted);
	assert_true(d.has_fencing);
	assert_int_equal(d.fencing, RBLK_FENCING_OFF);
	assert_true(d.has_fence_handler);
	assert_string_equal(d.fence_handler, "");
	assert_true(d.fstate.has_pending);
	assert_int_equal(d.fstate.pending, 0);
	nlmsg_free(msg);

	/* a kernel without them: nothing reported, the plan sends the policy */
	msg = kernel_msg(RBLK_CMD_STATUS, 0, 4);
	assert_int_equal(rnl_parse_device(nlmsg_hdr(msg), &d), 0);
	assert_false(d.has_auto_promote || d.has_auto_promoted || d.has_fencing ||
		     d.has_fence_handler || d.fstate.has_pending || d.fstate.has_result);
	nlmsg_free(msg);
}

/* An MD_DUMP reply as rblk.ko's rblk_nl_fill_md() builds it. */
static struct nl_msg *md_reply(bool by_minor)
{
	struct nl_msg *msg = nlmsg_alloc();
	uint64_t hist[RBLK_MD_HISTORY_UUIDS] = {
		0x1122334455667788ULL, 0x0a0b0c0d0e0f1011ULL, 0, 0,
	};
	struct nlattr *n;

	genlmsg_put(msg, 0, 1, FAKE_FAMILY, 0, 0, RBLK_CMD_MD_DUMP, RBLK_GENL_VERSION);
	nla_put_u32(msg, RBLK_A_NODE_ID, 0);
	nla_put_u32(msg, RBLK_A_MD_FLAGS, RBLK_MDF_CONSISTENT | RBLK_MDF_PRIMARY |
		    RBLK_MDF_ATTACHED);
	nla_put_u32(msg, RBLK_A_MAX_PEERS, 2);
	nla_put_u64(msg, RBLK_A_MD_SEQ, 42);
	nla_put_u64(msg, RBLK_A_SIZE_SECTORS, 2097152);
	nla_put_u64(msg, RBLK_A_MD_OFFSET_SECTORS, 2097152);
	nla_put_u64(msg, RBLK_A_MD_SIZE_SECTORS, 1120);
	nla_put_u64(msg, RBLK_A_CURRENT_UUID, 0x9f3a0c21b7e4d560ULL);
	nla_put(msg, RBLK_A_HISTORY_UUIDS, sizeof(hist), hist);
	nla_put_u32(msg, RBLK_A_BM_BLOCK_BYTES, 4096);
	nla_put_u32(msg, RBLK_A_AL_EXTENT_BYTES, 4U << 20);
	if (!by_minor)
		nla_put_u32(msg, RBLK_A_MD_VALID_COPIES, 3);
	n = nla_nest_start(msg, RBLK_A_PEER);
	nla_put_u32(msg, RBLK_A_PEER_NODE_ID, 1);
	nla_put_u64(msg, RBLK_A_BITMAP_UUID, 0x1122334455667788ULL);
	if (by_minor)
		nla_put_u64(msg, RBLK_A_OUT_OF_SYNC_BYTES, 8192);
	nla_nest_end(msg, n);
	n = nla_nest_start(msg, RBLK_A_PEER);
	nla_put_u32(msg, RBLK_A_PEER_NODE_ID, 5);	/* not in the file */
	nla_put_u64(msg, RBLK_A_BITMAP_UUID, 0);
	if (by_minor)
		nla_put_u64(msg, RBLK_A_OUT_OF_SYNC_BYTES, 0);
	nla_nest_end(msg, n);
	n = nla_nest_start(msg, RBLK_A_PEER);		/* no node id: not a slot */
	nla_put_u64(msg, RBLK_A_BITMAP_UUID, 7);
	nla_nest_end(msg, n);
	return msg;
}

static void test_parse_md(void **state)
{
	struct nl_msg *msg = md_reply(true);
	struct kmd md;

	(void)state;
	assert_int_equal(rnl_parse_md(nlmsg_hdr(msg), &md), 0);
	assert_true(md.has_node_id && md.has_flags && md.has_seq && md.has_size &&
		    md.has_offset && md.has_md_size && md.has_current_uuid && md.has_bm_block &&
		    md.has_al_extent && md.has_max_peers);
	assert_false(md.has_valid_copies);
	assert_int_equal(md.flags, RBLK_MDF_CONSISTENT | RBLK_MDF_PRIMARY | RBLK_MDF_ATTACHED);
	assert_true(md.seq == 42);
	assert_true(md.current_uuid == 0x9f3a0c21b7e4d560ULL);
	assert_int_equal(md.n_history, RBLK_MD_HISTORY_UUIDS);
	assert_true(md.history[0] == 0x1122334455667788ULL);
	assert_true(md.history[1] == 0x0a0b0c0d0e0f1011ULL);
	assert_true(md.md_size_sectors == 1120);
	assert_int_equal(md.bm_block_bytes, 4096);
	assert_int_equal(md.al_extent_bytes, 4 << 20);
	assert_int_equal(md.max_peers, 2);
	assert_int_equal(md.n_slots, 2);
	assert_int_equal(md.slots[0].peer_node_id, 1);
	assert_true(md.slots[0].has_out_of_sync);
	assert_true(md.slots[0].out_of_sync_bytes == 8192);
	assert_int_equal(md.slots[1].peer_node_id, 5);
	nlmsg_free(msg);

	msg = md_reply(false);
	assert_int_equal(rnl_parse_md(nlmsg_hdr(msg), &md), 0);
	assert_true(md.has_valid_copies);
	assert_int_equal(md.valid_copies, 3);
	assert_false(md.slots[0].has_out_of_sync);
	nlmsg_free(msg);

	/* a short history attribute: only whole u64s */
	msg = nlmsg_alloc();
	genlmsg_put(msg, 0, 1, FAKE_FAMILY, 0, 0, RBLK_CMD_MD_DUMP, RBLK_GENL_VERSION);
	nla_put(msg, RBLK_A_HISTORY_UUIDS, 12, "0123456789ab");
	assert_int_equal(rnl_parse_md(nlmsg_hdr(msg), &md), 0);
	assert_int_equal(md.n_history, 1);
	assert_false(md.has_flags);
	assert_int_equal(md.n_slots, 0);
	nlmsg_free(msg);
}

/* dump-md: a crafted reply, decoded and printed as rblkadm prints it. */
static void test_dump_md_output(void **state)
{
	struct nl_msg *msg;
	struct kmd md;
	struct conf c;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	parse_ok(md_topo, &c);

	msg = md_reply(true);
	rnl_parse_md(nlmsg_hdr(msg), &md);
	nlmsg_free(msg);
	f = open_memstream(&text, &len);
	out_init(f, false);
	show_md(&md, "vm-disk-1", &c.res[0], 4, "/dev/vda", "");
	out_flush();
	fclose(f);
	assert_string_equal(text,
		"vm-disk-1 minor:4 backing:/dev/vda meta-disk:internal\n"
		"  node-id:0 flags:consistent,primary,attached seq:42\n"
		"  size:2097152s md-offset:2097152s md-size:1120s bm-block-bytes:4096 al-extent-bytes:4194304 max-peers:2\n"
		"  current-uuid:9F3A0C21B7E4D560 history-uuids:1122334455667788,0A0B0C0D0E0F1011,0000000000000000,0000000000000000\n"
		"  slot peer-node-id:1 name:node-b bitmap-uuid:1122334455667788 out-of-sync-bytes:8192\n"
		"  slot peer-node-id:5 bitmap-uuid:0000000000000000 out-of-sync-bytes:0\n");
	free(text);

	/* from the disk: valid copies, no out-of-sync counts */
	msg = md_reply(false);
	rnl_parse_md(nlmsg_hdr(msg), &md);
	nlmsg_free(msg);
	md.flags = 0;
	text = NULL;
	f = open_memstream(&text, &len);
	out_init(f, false);
	show_md(&md, "vm-disk-1", NULL, -1, "/dev/vdb", "/dev/vdm");
	out_flush();
	fclose(f);
	assert_string_equal(text,
		"vm-disk-1 backing:/dev/vdb meta-disk:/dev/vdm\n"
		"  node-id:0 flags:none seq:42 valid-copies:0,1\n"
		"  size:2097152s md-offset:2097152s md-size:1120s bm-block-bytes:4096 al-extent-bytes:4194304 max-peers:2\n"
		"  current-uuid:9F3A0C21B7E4D560 history-uuids:1122334455667788,0A0B0C0D0E0F1011,0000000000000000,0000000000000000\n"
		"  slot peer-node-id:1 bitmap-uuid:1122334455667788\n"
		"  slot peer-node-id:5 bitmap-uuid:0000000000000000\n");
	free(text);

	/* JSON: stable keys, UUIDs as strings, absent attributes null */
	msg = md_reply(true);
	rnl_parse_md(nlmsg_hdr(msg), &md);
	nlmsg_free(msg);
	text = NULL;
	f = open_memstream(&text, &len);
	out_init(f, true);
	show_md(&md, "vm-disk-1", &c.res[0], 4, "/dev/vda", NULL);
	out_flush();
	fclose(f);
	assert_string_equal(text,
		"{\"resource_name\":\"vm-disk-1\",\"minor\":4,\"backing_path\":\"/dev/vda\","
		"\"meta_disk\":\"internal\",\"node_id\":0,"
		"\"md_flags\":[\"consistent\",\"primary\",\"attached\"],\"md_seq\":42,"
		"\"md_valid_copies\":null,\"size_sectors\":2097152,\"md_offset_sectors\":2097152,"
		"\"md_size_sectors\":1120,\"bm_block_bytes\":4096,\"al_extent_bytes\":4194304,"
		"\"max_peers\":2,\"current_uuid\":\"9F3A0C21B7E4D560\","
		"\"history_uuids\":[\"1122334455667788\",\"0A0B0C0D0E0F1011\",\"0000000000000000\",\"0000000000000000\"],"
		"\"bitmap_slots\":[{\"peer_node_id\":1,\"peer_name\":\"node-b\","
		"\"bitmap_uuid\":\"1122334455667788\",\"out_of_sync_bytes\":8192},"
		"{\"peer_node_id\":5,\"peer_name\":null,\"bitmap_uuid\":\"0000000000000000\","
		"\"out_of_sync_bytes\":0}]}\n");
	free(text);

	/* by path in JSON: minor null, valid copies listed, out-of-sync null */
	msg = md_reply(false);
	rnl_parse_md(nlmsg_hdr(msg), &md);
	nlmsg_free(msg);
	md.valid_copies = 2;		/* copy 0 damaged */
	text = NULL;
	f = open_memstream(&text, &len);
	out_init(f, true);
	show_md(&md, "vm-disk-1", NULL, -1, "/dev/vdb", "/dev/vdm");
	out_flush();
	fclose(f);
	assert_non_null(strstr(text, "\"minor\":null,"));
	assert_non_null(strstr(text, "\"meta_disk\":\"/dev/vdm\","));
	assert_non_null(strstr(text, "\"md_valid_copies\":[1],"));
	assert_non_null(strstr(text, "\"peer_name\":null,\"bitmap_uuid\":\"1122334455667788\",\"out_of_sync_bytes\":null}"));
	free(text);
	conf_free(&c);
}

/* A peer that is not connected: role and disk default to Unknown. */
static void test_parse_status_defaults(void **state)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct nlattr *n;
	struct kdev d;

	(void)state;
	genlmsg_put(msg, 0, 1, FAKE_FAMILY, 0, 0, RBLK_CMD_STATUS, RBLK_GENL_VERSION);
	nla_put_u32(msg, RBLK_A_MINOR, 0);
	n = nla_nest_start(msg, RBLK_A_PEER);
	nla_put_u32(msg, RBLK_A_PEER_NODE_ID, 5);
	nla_nest_end(msg, n);
	assert_int_equal(rnl_parse_device(nlmsg_hdr(msg), &d), 0);
	assert_int_equal(d.n_peers, 1);
	assert_int_equal(d.peers[0].node_id, 5);
	assert_int_equal(d.peers[0].peer_role, RBLK_ROLE_UNKNOWN);
	assert_int_equal(d.peers[0].peer_disk_state, RBLK_DISK_UNKNOWN);
	assert_int_equal(d.peers[0].conn_state, RBLK_CONN_STANDALONE);
	assert_int_equal(d.peers[0].peer.family, 0);
	assert_int_equal(d.disk_state, RBLK_DISK_DISKLESS);
	nlmsg_free(msg);
}

static void test_parse_event(void **state)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct nlattr *n;
	struct kevent ev;

	(void)state;
	genlmsg_put(msg, 0, 0, FAKE_FAMILY, 0, 0, RBLK_CMD_EVENT, RBLK_GENL_VERSION);
	nla_put_u8(msg, RBLK_A_EVENT, RBLK_EVENT_CONN_STATE_CHANGED);
	nla_put_u32(msg, RBLK_A_MINOR, 2);
	nla_put_u32(msg, RBLK_A_PEER_NODE_ID, 1);
	nla_put_u8(msg, RBLK_A_CONN_STATE, RBLK_CONN_CONNECTING);
	nla_put_string(msg, RBLK_A_LAST_ERROR, "ping timeout");
	assert_int_equal(rnl_parse_event(nlmsg_hdr(msg), &ev), 0);
	assert_int_equal(ev.event, RBLK_EVENT_CONN_STATE_CHANGED);
	assert_true(ev.has_minor);
	assert_int_equal(ev.minor, 2);
	assert_true(ev.has_peer);
	assert_int_equal(ev.peer_node_id, 1);
	assert_true(ev.has_value_conn);
	assert_int_equal(ev.conn_state, RBLK_CONN_CONNECTING);
	assert_false(ev.has_value_role);
	assert_false(ev.has_value_disk);
	assert_string_equal(ev.last_error, "ping timeout");
	nlmsg_free(msg);

	/* peer attributes nested in RBLK_A_PEER are accepted as well */
	msg = nlmsg_alloc();
	genlmsg_put(msg, 0, 0, FAKE_FAMILY, 0, 0, RBLK_CMD_EVENT, RBLK_GENL_VERSION);
	nla_put_u8(msg, RBLK_A_EVENT, RBLK_EVENT_PEER_DISK_STATE_CHANGED);
	nla_put_u32(msg, RBLK_A_MINOR, 0);
	n = nla_nest_start(msg, RBLK_A_PEER);
	nla_put_u32(msg, RBLK_A_PEER_NODE_ID, 3);
	nla_put_u8(msg, RBLK_A_PEER_DISK_STATE, RBLK_DISK_OUTDATED);
	nla_nest_end(msg, n);
	assert_int_equal(rnl_parse_event(nlmsg_hdr(msg), &ev), 0);
	assert_int_equal(ev.event, RBLK_EVENT_PEER_DISK_STATE_CHANGED);
	assert_true(ev.has_peer);
	assert_int_equal(ev.peer_node_id, 3);
	assert_true(ev.has_peer_disk);
	assert_int_equal(ev.peer_disk_state, RBLK_DISK_OUTDATED);
	nlmsg_free(msg);
}

/* The events of metadata and resync, as rblk_nl_event_build() sends them. */
static void test_parse_md_events(void **state)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct kevent ev;

	(void)state;
	genlmsg_put(msg, 0, 0, FAKE_FAMILY, 0, 0, RBLK_CMD_EVENT, RBLK_GENL_VERSION);
	nla_put_u8(msg, RBLK_A_EVENT, RBLK_EVENT_REPL_STATE_CHANGED);
	nla_put_u32(msg, RBLK_A_MINOR, 2);
	nla_put_u32(msg, RBLK_A_PEER_NODE_ID, 1);
	nla_put_u8(msg, RBLK_A_REPL_STATE, RBLK_REPL_SYNC_TARGET);
	assert_int_equal(rnl_parse_event(nlmsg_hdr(msg), &ev), 0);
	assert_int_equal(ev.event, RBLK_EVENT_REPL_STATE_CHANGED);
	assert_true(ev.has_peer);
	assert_true(ev.has_repl_state);
	assert_int_equal(ev.repl_state, RBLK_REPL_SYNC_TARGET);
	assert_false(ev.has_current_uuid);
	nlmsg_free(msg);

	msg = nlmsg_alloc();
	genlmsg_put(msg, 0, 0, FAKE_FAMILY, 0, 0, RBLK_CMD_EVENT, RBLK_GENL_VERSION);
	nla_put_u8(msg, RBLK_A_EVENT, RBLK_EVENT_SPLIT_BRAIN);
	nla_put_u32(msg, RBLK_A_MINOR, 2);
	nla_put_u32(msg, RBLK_A_PEER_NODE_ID, 1);
	nla_put_string(msg, RBLK_A_LAST_ERROR, "both wrote since 1122334455667788");
	assert_int_equal(rnl_parse_event(nlmsg_hdr(msg), &ev), 0);
	assert_int_equal(ev.event, RBLK_EVENT_SPLIT_BRAIN);
	assert_int_equal(ev.peer_node_id, 1);
	assert_false(ev.has_repl_state);
	assert_string_equal(ev.last_error, "both wrote since 1122334455667788");
	nlmsg_free(msg);

	msg = nlmsg_alloc();
	genlmsg_put(msg, 0, 0, FAKE_FAMILY, 0, 0, RBLK_CMD_EVENT, RBLK_GENL_VERSION);
	nla_put_u8(msg, RBLK_A_EVENT, RBLK_EVENT_UUIDS_CHANGED);
	nla_put_u32(msg, RBLK_A_MINOR, 2);
	nla_put_u64(msg, RBLK_A_CURRENT_UUID, 0xfedcba9876543210ULL);
	assert_int_equal(rnl_parse_event(nlmsg_hdr(msg), &ev), 0);
	assert_int_equal(ev.event, RBLK_EVENT_UUIDS_CHANGED);
	assert_false(ev.has_peer);
	assert_true(ev.has_current_uuid);
	assert_true(ev.current_uuid == 0xfedcba9876543210ULL);
	nlmsg_free(msg);
}

/* RBLK_EVENT_QUORUM_CHANGED, as rblk_nl_event_build() sends it. */
static void test_parse_quorum_event(void **state)
{
	struct nl_msg *msg = kernel_msg(RBLK_CMD_EVENT, RBLK_EVENT_QUORUM_CHANGED, 2);
	struct kevent ev;

	(void)state;
	nla_put_u8(msg, RBLK_A_HAS_QUORUM, 0);
	nla_put_u32(msg, RBLK_A_QUORUM_VOTES, 1);
	nla_put_u32(msg, RBLK_A_QUORUM_NEEDED, 2);
	nla_put_u8(msg, RBLK_A_SUSPENDED, RBLK_SUSPEND_NO_QUORUM);
	assert_int_equal(rnl_parse_event(nlmsg_hdr(msg), &ev), 0);
	assert_int_equal(ev.event, RBLK_EVENT_QUORUM_CHANGED);
	assert_true(ev.has_minor);
	assert_int_equal(ev.minor, 2);
	assert_false(ev.has_peer);
	assert_true(ev.qstate.has_state);
	assert_false(ev.qstate.quorate);
	assert_true(ev.qstate.has_votes);
	assert_int_equal(ev.qstate.votes, 1);
	assert_true(ev.qstate.has_needed);
	assert_int_equal(ev.qstate.needed, 2);
	assert_true(ev.qstate.has_suspended);
	assert_int_equal(ev.qstate.suspended, RBLK_SUSPEND_NO_QUORUM);
	nlmsg_free(msg);

	/* other events carry none of it */
	msg = kernel_msg(RBLK_CMD_EVENT, RBLK_EVENT_ROLE_CHANGED, 2);
	nla_put_u8(msg, RBLK_A_ROLE, RBLK_ROLE_PRIMARY);
	assert_int_equal(rnl_parse_event(nlmsg_hdr(msg), &ev), 0);
	assert_false(ev.qstate.has_state || ev.qstate.has_votes || ev.qstate.has_needed ||
		     ev.qstate.has_suspended);
	nlmsg_free(msg);
}

/* RBLK_EVENT_FENCE_PEER: started (no FENCE_RESULT), then ended with the result. */
static void test_parse_fence_event(void **state)
{
	static const int32_t results[] = { 0, 1, -ETIMEDOUT };
	struct nl_msg *msg = kernel_msg(RBLK_CMD_EVENT, RBLK_EVENT_FENCE_PEER, 2);
	struct kevent ev;
	unsigned int i;

	(void)state;
	nla_put_u32(msg, RBLK_A_PEER_NODE_ID, 1);
	nla_put_u32(msg, RBLK_A_FENCE_PENDING, 1u << 1);
	nla_put_u8(msg, RBLK_A_SUSPENDED, RBLK_SUSPEND_FENCING);
	assert_int_equal(rnl_parse_event(nlmsg_hdr(msg), &ev), 0);
	assert_int_equal(ev.event, RBLK_EVENT_FENCE_PEER);
	assert_true(ev.has_minor);
	assert_int_equal(ev.minor, 2);
	assert_true(ev.has_peer);
	assert_int_equal(ev.peer_node_id, 1);
	assert_true(ev.fstate.has_pending);
	assert_int_equal(ev.fstate.pending, 1u << 1);
	assert_true(ev.qstate.has_suspended);
	assert_int_equal(ev.qstate.suspended, RBLK_SUSPEND_FENCING);
	assert_false(ev.fstate.has_result);		/* started */
	assert_false(ev.qstate.has_state || ev.qstate.has_votes || ev.qstate.has_needed);
	nlmsg_free(msg);

	for (i = 0; i < sizeof(results) / sizeof(results[0]); i++) {
		msg = kernel_msg(RBLK_CMD_EVENT, RBLK_EVENT_FENCE_PEER, 2);
		nla_put_u32(msg, RBLK_A_PEER_NODE_ID, 1);
		nla_put_u32(msg, RBLK_A_FENCE_PENDING, 0);
		nla_put_u8(msg, RBLK_A_SUSPENDED, RBLK_SUSPEND_NONE);
		nla_put_s32(msg, RBLK_A_FENCE_RESULT, results[i]);
		assert_int_equal(rnl_parse_event(nlmsg_hdr(msg), &ev), 0);
		assert_true(ev.fstate.has_pending);
		assert_int_equal(ev.fstate.pending, 0);
		assert_true(ev.fstate.has_result);
		assert_int_equal(ev.fstate.result, results[i]);	/* signed */
		nlmsg_free(msg);
	}

	/* other events carry none of it */
	msg = kernel_msg(RBLK_CMD_EVENT, RBLK_EVENT_ROLE_CHANGED, 2);
	nla_put_u8(msg, RBLK_A_ROLE, RBLK_ROLE_PRIMARY);
	assert_int_equal(rnl_parse_event(nlmsg_hdr(msg), &ev), 0);
	assert_false(ev.fstate.has_pending || ev.fstate.has_result);
	nlmsg_free(msg);
}

/*
 * An NLMSG_ERROR as the kernel sends it with NETLINK_EXT_ACK enabled: the
 * echoed request (unless capped) is a genetlink header and one RBLK_A_MINOR,
 * then the extack TLVs; @miss_type / @offs < 0 leave those out.
 */
static struct nl_msg *error_msg(bool capped, const char *text, int miss_type, int offs)
{
	struct nl_msg *msg = nlmsg_alloc_simple(NLMSG_ERROR,
						(capped ? NLM_F_CAPPED : 0) | NLM_F_ACK_TLVS);
	struct nlmsgerr *e;
	size_t payload = capped ? 0 : GENL_HDRLEN + 8;

	e = nlmsg_reserve(msg, sizeof(*e) + payload, NLMSG_ALIGNTO);
	assert_non_null(e);
	memset(e, 0, sizeof(*e) + payload);
	e->error = -EINVAL;
	e->msg.nlmsg_len = (uint32_t)(NLMSG_HDRLEN + GENL_HDRLEN + 8);
	e->msg.nlmsg_type = FAKE_FAMILY;
	if (!capped) {
		struct nlattr *a = (struct nlattr *)((char *)(e + 1) + GENL_HDRLEN);

		a->nla_len = 8;
		a->nla_type = RBLK_A_MINOR;
	}
	if (text)
		assert_int_equal(nla_put_string(msg, NLMSGERR_ATTR_MSG, text), 0);
	if (miss_type >= 0)
		assert_int_equal(nla_put_u32(msg, NLMSGERR_ATTR_MISS_TYPE, (uint32_t)miss_type), 0);
	if (offs >= 0)
		assert_int_equal(nla_put_u32(msg, NLMSGERR_ATTR_OFFS, (uint32_t)offs), 0);
	return msg;
}

static void expect_extack(struct nl_msg *msg, size_t len, const char *expected)
{
	char buf[256];

	strcpy(buf, "stale");
	rnl_extack_msg(nlmsg_data(nlmsg_hdr(msg)), buf, len);
	assert_string_equal(buf, expected);
	nlmsg_free(msg);
}

static void test_extack(void **state)
{
	const int minor_offs = NLMSG_HDRLEN + GENL_HDRLEN;

	(void)state;
	expect_extack(error_msg(true, "minor already in use", -1, -1), 256,
		      "minor already in use");
	expect_extack(error_msg(false, "minor already in use", -1, -1), 256,
		      "minor already in use");
	expect_extack(error_msg(true, NULL, -1, -1), 256, "");
	expect_extack(error_msg(true, "0123456789", -1, -1), 5, "0123");	/* truncated */
	/* GENL_REQ_ATTR_CHECK: no text, only the missing attribute's type */
	expect_extack(error_msg(true, NULL, RBLK_A_MINOR, -1), 256,
		      "missing attribute RBLK_A_MINOR");
	expect_extack(error_msg(true, "need a minor", RBLK_A_MINOR, -1), 256,
		      "need a minor (missing RBLK_A_MINOR)");
	/* policy violation: the offending attribute, found in the echoed request */
	expect_extack(error_msg(false, "Attribute failed policy validation", -1, minor_offs), 256,
		      "Attribute failed policy validation (RBLK_A_MINOR)");
	/* an offset outside the echoed request is ignored */
	expect_extack(error_msg(false, "bad", -1, 4000), 256, "bad");
	/* capped: the request is not echoed, the offset cannot be resolved */
	expect_extack(error_msg(true, "bad", -1, minor_offs), 256, "bad");
	assert_string_equal(rnl_attr_name(RBLK_A_LAST_ERROR), "RBLK_A_LAST_ERROR");
	assert_string_equal(rnl_attr_name(RBLK_A_PEER_IP), "RBLK_A_PEER_IP");
	assert_string_equal(rnl_attr_name(RBLK_A_REQUEST_TIMEOUT_MS), "RBLK_A_REQUEST_TIMEOUT_MS");
	assert_string_equal(rnl_attr_name(RBLK_A_KO_COUNT), "RBLK_A_KO_COUNT");
	assert_string_equal(rnl_attr_name(RBLK_A_ON_IO_ERROR), "RBLK_A_ON_IO_ERROR");
	assert_string_equal(rnl_attr_name(RBLK_A_META_PATH), "RBLK_A_META_PATH");
	assert_string_equal(rnl_attr_name(RBLK_A_MAX_PEERS), "RBLK_A_MAX_PEERS");
	assert_string_equal(rnl_attr_name(RBLK_A_ASSUME_UPTODATE), "RBLK_A_ASSUME_UPTODATE");
	assert_string_equal(rnl_attr_name(RBLK_A_SYNC_DECISION), "RBLK_A_SYNC_DECISION");
	assert_string_equal(rnl_attr_name(RBLK_A_RESYNC_LATENCY_US), "RBLK_A_RESYNC_LATENCY_US");
	assert_string_equal(rnl_attr_name(RBLK_A_QUORUM), "RBLK_A_QUORUM");
	assert_string_equal(rnl_attr_name(RBLK_A_IGNORE_QUORUM), "RBLK_A_IGNORE_QUORUM");
	assert_string_equal(rnl_attr_name(RBLK_A_HAS_QUORUM), "RBLK_A_HAS_QUORUM");
	assert_string_equal(rnl_attr_name(RBLK_A_SUSPENDED_WRITES), "RBLK_A_SUSPENDED_WRITES");
	assert_string_equal(rnl_attr_name(RBLK_A_PEER_WITNESS), "RBLK_A_PEER_WITNESS");
	assert_string_equal(rnl_attr_name(RBLK_A_AUTO_PROMOTE), "RBLK_A_AUTO_PROMOTE");
	assert_string_equal(rnl_attr_name(RBLK_A_FENCING), "RBLK_A_FENCING");
	assert_string_equal(rnl_attr_name(RBLK_A_FENCE_HANDLER), "RBLK_A_FENCE_HANDLER");
	assert_string_equal(rnl_attr_name(RBLK_A_FENCE_PENDING), "RBLK_A_FENCE_PENDING");
	assert_string_equal(rnl_attr_name(RBLK_A_AUTH), "RBLK_A_AUTH");
	assert_string_equal(rnl_attr_name(RBLK_A_TCP_RTT_US), "RBLK_A_TCP_RTT_US");
	assert_string_equal(rnl_attr_name(RBLK_A_READ_BALANCING), "RBLK_A_READ_BALANCING");
	assert_string_equal(rnl_attr_name(RBLK_A_PEER_READS), "RBLK_A_PEER_READS");
	assert_string_equal(rnl_attr_name(RBLK_A_PEER_READ_BYTES), "RBLK_A_PEER_READ_BYTES");
	assert_string_equal(rnl_attr_name(RBLK_A_MAX), "RBLK_A_PEER_SERVED_READS");
	{
		unsigned int a;

		/* every attribute of the uapi header has its name */
		for (a = 0; a <= RBLK_A_MAX; a++)
			assert_string_not_equal(rnl_attr_name(a), "unknown attribute");
	}
	assert_string_equal(rnl_attr_name(999), "unknown attribute");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_device),
		cmocka_unit_test(test_incomplete_request),
		cmocka_unit_test(test_peer_add_ipv6),
		cmocka_unit_test(test_peer_add_request_timeout),
		cmocka_unit_test(test_peer_add_witness),
		cmocka_unit_test(test_peer_add_ipv4_and_flags),
		cmocka_unit_test(test_attach_on_io_error),
		cmocka_unit_test(test_attach_meta_path),
		cmocka_unit_test(test_device_options_request),
		cmocka_unit_test(test_role_request),
		cmocka_unit_test(test_resume_io_request),
		cmocka_unit_test(test_md_create),
		cmocka_unit_test(test_md_dump_request),
		cmocka_unit_test(test_new_current_uuid_and_connect),
		cmocka_unit_test(test_parse_status_md),
		cmocka_unit_test(test_parse_status_quorum),
		cmocka_unit_test(test_parse_status_fencing),
		cmocka_unit_test(test_parse_md),
		cmocka_unit_test(test_dump_md_output),
		cmocka_unit_test(test_parse_md_events),
		cmocka_unit_test(test_parse_status),
		cmocka_unit_test(test_parse_status_defaults),
		cmocka_unit_test(test_parse_event),
		cmocka_unit_test(test_parse_quorum_event),
		cmocka_unit_test(test_parse_fence_event),
		cmocka_unit_test(test_extack),
	};

	return cmocka_run_group_tests_name("netlink", tests, NULL, NULL);
}
