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

	assert_int_equal(count_attrs(tb), 6 + OPT_COUNT);
	return msg;
}

/* ATTACH from the file: ON_IO_ERROR only where the file gives on-io-error. */
static void test_attach_on_io_error(void **state)
{
	static const char defaults[] =
		"resources:\n"
		"  - name: r\n"
		"    minor: 3\n"
		"    nodes:\n"
		"      - {name: a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vda}\n";
	static const char resource[] =
		"resources:\n"
		"  - name: r\n"
		"    minor: 3\n"
		"    assume-clean: true\n"
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
	msg = request_of(defaults, RBLK_CMD_ATTACH, tb);
	assert_int_equal(count_attrs(tb), 2);
	assert_int_equal(nla_get_u32(tb[RBLK_A_MINOR]), 3);
	assert_string_equal(nla_data(tb[RBLK_A_BACKING_PATH]), "/dev/vda");
	assert_null(tb[RBLK_A_ON_IO_ERROR]);		/* the kernel's default: detach */
	nlmsg_free(msg);

	msg = request_of(resource, RBLK_CMD_ATTACH, tb);
	assert_int_equal(count_attrs(tb), 4);
	assert_non_null(tb[RBLK_A_ASSUME_UPTODATE]);
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
	q.has = REQ_MINOR | REQ_PATH | REQ_ASSUME_UPTODATE | REQ_FORCE;
	strcpy(q.path, "/dev/vda");
	q.on_io_error = RBLK_ON_IO_ERROR_PASS_ON;	/* set but not flagged: not sent */
	msg = build(&q, tb);
	assert_int_equal(count_attrs(tb), 4);
	assert_int_equal(nla_len(tb[RBLK_A_ASSUME_UPTODATE]), 0);
	assert_int_equal(nla_len(tb[RBLK_A_FORCE]), 0);
	assert_string_equal(nla_data(tb[RBLK_A_BACKING_PATH]), "/dev/vda");
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
	nla_put_u64(msg, RBLK_A_RECEIVED_BYTES, 99);
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
	assert_int_equal(d.peers[0].received_bytes, 99);
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
	assert_string_equal(rnl_attr_name(999), "unknown attribute");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_device),
		cmocka_unit_test(test_incomplete_request),
		cmocka_unit_test(test_peer_add_ipv6),
		cmocka_unit_test(test_peer_add_request_timeout),
		cmocka_unit_test(test_peer_add_ipv4_and_flags),
		cmocka_unit_test(test_attach_on_io_error),
		cmocka_unit_test(test_parse_status),
		cmocka_unit_test(test_parse_status_defaults),
		cmocka_unit_test(test_parse_event),
		cmocka_unit_test(test_extack),
	};

	return cmocka_run_group_tests_name("netlink", tests, NULL, NULL);
}
