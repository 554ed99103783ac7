// SPDX-License-Identifier: GPL-2.0
/*
 * test_plan.c - the converge plan: kernel state X + topology file Y -> the
 * exact list of netlink requests, for up and down.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "testutil.h"

static const char two_nodes[] =
	"cluster: hospital-a\n"
	"resources:\n"
	"  - name: vm-disk-1\n"
	"    minor: 0\n"
	"    nodes:\n"
	"      - name: node-a\n"
	"        node-id: 0\n"
	"        address: 10.0.0.1:7789\n"
	"        disk: /dev/vda\n"
	"      - name: node-b\n"
	"        node-id: 1\n"
	"        address: 10.0.0.2:7789\n"
	"        disk: /dev/vdb\n";

/* Same, node-b moved to 10.0.0.3. */
static const char two_nodes_moved[] =
	"cluster: hospital-a\n"
	"resources:\n"
	"  - name: vm-disk-1\n"
	"    minor: 0\n"
	"    nodes:\n"
	"      - name: node-a\n"
	"        node-id: 0\n"
	"        address: 10.0.0.1:7789\n"
	"        disk: /dev/vda\n"
	"      - name: node-b\n"
	"        node-id: 1\n"
	"        address: 10.0.0.3:7789\n"
	"        disk: /dev/vdb\n";

static const char three_nodes[] =
	"options: {ping-interval-ms: 1000}\n"
	"resources:\n"
	"  - name: r3\n"
	"    minor: 5\n"
	"    nodes:\n"
	"      - {name: a, node-id: 0, address: '[fd00::1]:7000', disk: /dev/sda}\n"
	"      - {name: b, node-id: 1, address: '[fd00::2]:7000', disk: /dev/sdb}\n"
	"      - {name: c, node-id: 2, address: '[fd00::3]:7000'}\n";

static struct plan plan;

/* The kernel state after a complete "up" of @r on @local, peers Connected. */
static void kdev_like(const struct conf *c, const struct conf_resource *r,
		      const struct conf_node *local, struct kdev *d)
{
	uint32_t opts[OPT_COUNT];
	const char *handler;
	unsigned int i;

	memset(d, 0, sizeof(*d));
	d->minor = r->minor;
	d->node_id = local->node_id;
	snprintf(d->name, sizeof(d->name), "%s", r->name);
	snprintf(d->cluster, sizeof(d->cluster), "%s", c->cluster);
	snprintf(d->backing, sizeof(d->backing), "%s", local->disk);
	d->role = RBLK_ROLE_SECONDARY;
	d->disk_state = local->disk[0] ? RBLK_DISK_UP_TO_DATE : RBLK_DISK_DISKLESS;
	d->has_quorum_policy = d->has_on_no_quorum = true;
	conf_effective_quorum(c, r, &d->quorum, &d->on_no_quorum);
	d->has_auto_promote = d->has_fencing = d->has_fence_handler = true;
	conf_effective_primary(c, r, &d->auto_promote, &d->fencing, &handler);
	snprintf(d->fence_handler, sizeof(d->fence_handler), "%s", handler);
	conf_effective_options(c, r, local, opts);
	for (i = 0; i < r->n_nodes; i++) {
		const struct conf_node *n = &r->nodes[i];
		struct kpeer *p;

		if (n == local)
			continue;
		p = &d->peers[d->n_peers++];
		p->node_id = n->node_id;
		conf_endpoint(n, local, &p->peer);
		conf_endpoint(local, n, &p->local);
		p->conn_state = RBLK_CONN_CONNECTED;
		p->peer_role = RBLK_ROLE_SECONDARY;
		p->peer_disk_state = n->disk[0] ? RBLK_DISK_UP_TO_DATE : RBLK_DISK_DISKLESS;
		p->witness = !n->disk[0];
	}
}

static void plan_for(const struct conf *c, const char *res, const char *node,
		     const struct kdev *devs, unsigned int n)
{
	const struct conf_resource *r = conf_find_resource(c, res);
	char err[ERRBUF_BYTES];
	int ret;

	assert_non_null(r);
	ret = plan_up(c, r, conf_find_node(r, node), devs, n, &plan, err, sizeof(err));
	if (ret)
		print_error("plan_up: %s\n", err);
	assert_int_equal(ret, 0);
}

/* Compare the plan's descriptions with @expected (NULL-terminated). */
static void expect_ops(const char *const *expected)
{
	unsigned int i;

	for (i = 0; expected[i]; i++) {
		assert_true(i < plan.n);
		assert_string_equal(plan.ops[i].what, expected[i]);
	}
	assert_int_equal(plan.n, i);
}

static void test_fresh_up(void **state)
{
	static const char *const expected[] = {
		"create-device vm-disk-1 minor 0 node-id 0 cluster hospital-a",
		"device-options quorum off on-no-quorum suspend-io auto-promote no fencing off",
		"attach /dev/vda",
		"add-peer node-b (node id 1) peer 10.0.0.2:7789 local 10.0.0.1:7790",
		"connect-peer node-b (node id 1)",
		NULL,
	};
	const struct rblk_req *q;
	struct conf c;
	uint8_t ip_a[4] = { 10, 0, 0, 1 }, ip_b[4] = { 10, 0, 0, 2 };

	(void)state;
	parse_ok(two_nodes, &c);
	plan_for(&c, "vm-disk-1", "node-a", NULL, 0);
	expect_ops(expected);

	q = &plan.ops[0].req;
	assert_int_equal(q->cmd, RBLK_CMD_DEVICE_CREATE);
	assert_int_equal(q->has, REQ_MINOR | REQ_NAME | REQ_NODE_ID | REQ_CLUSTER);
	assert_int_equal(q->minor, 0);
	assert_int_equal(q->node_id, 0);
	assert_string_equal(q->name, "vm-disk-1");
	assert_string_equal(q->cluster, "hospital-a");

	/* the device's policy, also when it is the default: before any peer connects */
	q = &plan.ops[1].req;
	assert_int_equal(q->cmd, RBLK_CMD_DEVICE_OPTIONS);
	assert_int_equal(q->has, REQ_MINOR | REQ_QUORUM | REQ_ON_NO_QUORUM | REQ_AUTO_PROMOTE |
			 REQ_FENCING | REQ_FENCE_HANDLER | REQ_AUTH_SECRET | REQ_DATA_DIGEST |
			 REQ_READ_BALANCING);
	assert_int_equal(q->minor, 0);
	assert_int_equal(q->quorum, RBLK_QUORUM_OFF);
	assert_int_equal(q->on_no_quorum, RBLK_ON_NO_QUORUM_SUSPEND_IO);
	assert_int_equal(q->auto_promote, 0);
	assert_int_equal(q->fencing, RBLK_FENCING_OFF);
	assert_string_equal(q->fence_handler, "");

	q = &plan.ops[2].req;
	assert_int_equal(q->cmd, RBLK_CMD_ATTACH);
	/* no assume-uptodate: the metadata decides; internal: no META_PATH */
	assert_int_equal(q->has, REQ_MINOR | REQ_PATH);
	assert_string_equal(q->path, "/dev/vda");
	assert_string_equal(q->meta_path, "");

	q = &plan.ops[3].req;
	assert_int_equal(q->cmd, RBLK_CMD_PEER_ADD);
	assert_int_equal(q->has, REQ_MINOR | REQ_PEER_NODE_ID | REQ_PEER_IP | REQ_PEER_PORT |
			 REQ_LOCAL_IP | REQ_LOCAL_PORT);
	assert_int_equal(q->peer_node_id, 1);
	assert_int_equal(q->peer.family, AF_INET);
	assert_memory_equal(q->peer.ip, ip_b, 4);
	assert_int_equal(q->peer.port, 7789);
	assert_memory_equal(q->local.ip, ip_a, 4);
	assert_int_equal(q->local.port, 7790);
	assert_true(q->options.set[OPT_PING_INTERVAL]);
	assert_int_equal(q->options.v[OPT_PING_INTERVAL], RBLK_PING_INTERVAL_MS_DEFAULT);
	assert_int_equal(q->options.v[OPT_PING_TIMEOUT], RBLK_PING_TIMEOUT_MS_DEFAULT);
	assert_int_equal(q->options.v[OPT_CONNECT_TIMEOUT], RBLK_CONNECT_TIMEOUT_MS_DEFAULT);
	assert_int_equal(q->options.v[OPT_RECONNECT_MIN], RBLK_RECONNECT_MIN_MS_DEFAULT);
	assert_int_equal(q->options.v[OPT_RECONNECT_MAX], RBLK_RECONNECT_MAX_MS_DEFAULT);
	assert_true(q->options.set[OPT_REQUEST_TIMEOUT]);
	assert_int_equal(q->options.v[OPT_REQUEST_TIMEOUT], RBLK_REQUEST_TIMEOUT_MS_DEFAULT);
	assert_true(q->options.set[OPT_KO_COUNT]);
	assert_int_equal(q->options.v[OPT_KO_COUNT], RBLK_KO_COUNT_DEFAULT);

	q = &plan.ops[4].req;
	assert_int_equal(q->cmd, RBLK_CMD_CONNECT);
	assert_int_equal(q->has, REQ_MINOR | REQ_PEER_NODE_ID);
	assert_int_equal(q->peer_node_id, 1);
	conf_free(&c);
}

/* The other side: node-b listens on its own address, port 7789 + 0. */
static void test_fresh_up_other_side(void **state)
{
	static const char *const expected[] = {
		"create-device vm-disk-1 minor 0 node-id 1 cluster hospital-a",
		"device-options quorum off on-no-quorum suspend-io auto-promote no fencing off",
		"attach /dev/vdb",
		"add-peer node-a (node id 0) peer 10.0.0.1:7790 local 10.0.0.2:7789",
		"connect-peer node-a (node id 0)",
		NULL,
	};
	struct conf c;

	(void)state;
	parse_ok(two_nodes, &c);
	plan_for(&c, "vm-disk-1", "node-b", NULL, 0);
	expect_ops(expected);
	conf_free(&c);
}

static void test_idempotent(void **state)
{
	struct conf c;
	struct kdev d[2];

	(void)state;
	parse_ok(two_nodes, &c);
	kdev_like(&c, &c.res[0], &c.res[0].nodes[0], &d[0]);
	/* an unrelated device of the kernel is left alone */
	memset(&d[1], 0, sizeof(d[1]));
	d[1].minor = 9;
	snprintf(d[1].name, sizeof(d[1].name), "other");
	plan_for(&c, "vm-disk-1", "node-a", d, 2);
	assert_int_equal(plan.n, 0);
	/* Connecting counts as up: nothing to do either */
	d[0].peers[0].conn_state = RBLK_CONN_CONNECTING;
	plan_for(&c, "vm-disk-1", "node-a", d, 2);
	assert_int_equal(plan.n, 0);
	/* a primary with an Outdated peer is not touched */
	d[0].role = RBLK_ROLE_PRIMARY;
	d[0].peers[0].peer_disk_state = RBLK_DISK_OUTDATED;
	plan_for(&c, "vm-disk-1", "node-a", d, 2);
	assert_int_equal(plan.n, 0);
	conf_free(&c);
}

static void test_changed_peer_address(void **state)
{
	static const char *const expected[] = {
		"remove-peer node-b (node id 1): changed",
		"add-peer node-b (node id 1) peer 10.0.0.3:7789 local 10.0.0.1:7790",
		"connect-peer node-b (node id 1)",
		NULL,
	};
	struct conf c, c2;
	struct kdev d;
	uint8_t ip[4] = { 10, 0, 0, 3 };

	(void)state;
	parse_ok(two_nodes, &c);
	parse_ok(two_nodes_moved, &c2);
	kdev_like(&c, &c.res[0], &c.res[0].nodes[0], &d);
	plan_for(&c2, "vm-disk-1", "node-a", &d, 1);
	expect_ops(expected);
	assert_int_equal(plan.ops[0].req.cmd, RBLK_CMD_PEER_REMOVE);
	assert_int_equal(plan.ops[0].req.has, REQ_MINOR | REQ_PEER_NODE_ID);
	assert_int_equal(plan.ops[0].req.peer_node_id, 1);
	assert_int_equal(plan.ops[1].req.cmd, RBLK_CMD_PEER_ADD);
	assert_memory_equal(plan.ops[1].req.peer.ip, ip, 4);
	assert_int_equal(plan.ops[2].req.cmd, RBLK_CMD_CONNECT);
	conf_free(&c);
	conf_free(&c2);
}

/* node-b's side of the same change: its own address moved (local changes). */
static void test_changed_local_address(void **state)
{
	static const char *const expected[] = {
		"remove-peer node-a (node id 0): changed",
		"add-peer node-a (node id 0) peer 10.0.0.1:7790 local 10.0.0.3:7789",
		"connect-peer node-a (node id 0)",
		NULL,
	};
	struct conf c, c2;
	struct kdev d;

	(void)state;
	parse_ok(two_nodes, &c);
	parse_ok(two_nodes_moved, &c2);
	kdev_like(&c, &c.res[0], &c.res[0].nodes[1], &d);
	plan_for(&c2, "vm-disk-1", "node-b", &d, 1);
	expect_ops(expected);
	conf_free(&c);
	conf_free(&c2);
}

static void test_standalone_peer_reconnected(void **state)
{
	static const char *const expected[] = { "connect-peer node-b (node id 1)", NULL };
	struct conf c;
	struct kdev d;

	(void)state;
	parse_ok(two_nodes, &c);
	kdev_like(&c, &c.res[0], &c.res[0].nodes[0], &d);
	d.peers[0].conn_state = RBLK_CONN_STANDALONE;
	plan_for(&c, "vm-disk-1", "node-a", &d, 1);
	expect_ops(expected);
	conf_free(&c);
}

static void test_unknown_peer_removed(void **state)
{
	static const char *const expected[] = { "remove-peer node id 7 (not in the file)", NULL };
	struct conf c;
	struct kdev d;

	(void)state;
	parse_ok(two_nodes, &c);
	kdev_like(&c, &c.res[0], &c.res[0].nodes[0], &d);
	d.peers[1] = d.peers[0];
	d.peers[1].node_id = 7;
	d.n_peers = 2;
	plan_for(&c, "vm-disk-1", "node-a", &d, 1);
	expect_ops(expected);
	assert_int_equal(plan.ops[0].req.peer_node_id, 7);
	conf_free(&c);
}

static void test_disk_changes(void **state)
{
	static const char *const attach[] = { "attach /dev/vda", NULL };
	static const char *const replace[] = {
		"detach /dev/vdz", "attach /dev/vda", NULL,
	};
	struct conf c;
	struct kdev d;

	(void)state;
	parse_ok(two_nodes, &c);
	kdev_like(&c, &c.res[0], &c.res[0].nodes[0], &d);
	/* detached (e.g. after an I/O error): attach again */
	d.disk_state = RBLK_DISK_DISKLESS;
	d.backing[0] = 0;
	plan_for(&c, "vm-disk-1", "node-a", &d, 1);
	expect_ops(attach);
	/* another disk attached */
	d.disk_state = RBLK_DISK_INCONSISTENT;
	snprintf(d.backing, sizeof(d.backing), "/dev/vdz");
	plan_for(&c, "vm-disk-1", "node-a", &d, 1);
	expect_ops(replace);
	assert_int_equal(plan.ops[0].req.cmd, RBLK_CMD_DETACH);
	assert_int_equal(plan.ops[0].req.has, REQ_MINOR);
	conf_free(&c);
}

/* on-io-error goes with the ATTACH; the kernel does not report it back. */
static void test_on_io_error(void **state)
{
	static const char *const node_a[] = { "attach /dev/vda on-io-error detach", NULL };
	static const char file[] =
		"resources:\n"
		"  - name: r\n"
		"    minor: 2\n"
		"    on-io-error: pass-on\n"
		"    nodes:\n"
		"      - {name: a, node-id: 0, address: 10.0.0.1:7800, disk: /dev/vda,\n"
		"         on-io-error: detach}\n"
		"      - {name: b, node-id: 1, address: 10.0.0.2:7800, disk: /dev/vdb}\n";
	const struct rblk_req *q;
	struct conf c;
	struct kdev d;

	(void)state;
	parse_ok(file, &c);
	plan_for(&c, "r", "b", NULL, 0);
	assert_int_equal(plan.n, 5);	/* create, options, attach, add and connect a */
	assert_string_equal(plan.ops[2].what, "attach /dev/vdb on-io-error pass-on");
	q = &plan.ops[2].req;
	assert_int_equal(q->cmd, RBLK_CMD_ATTACH);
	assert_int_equal(q->has, REQ_MINOR | REQ_PATH | REQ_ON_IO_ERROR);
	assert_int_equal(q->on_io_error, RBLK_ON_IO_ERROR_PASS_ON);
	assert_string_equal(q->path, "/dev/vdb");

	/* the node's own value wins; an explicit detach is sent */
	kdev_like(&c, &c.res[0], &c.res[0].nodes[0], &d);
	d.disk_state = RBLK_DISK_DISKLESS;
	plan_for(&c, "r", "a", &d, 1);
	expect_ops(node_a);
	assert_int_equal(plan.ops[0].req.has, REQ_MINOR | REQ_PATH | REQ_ON_IO_ERROR);
	assert_int_equal(plan.ops[0].req.on_io_error, RBLK_ON_IO_ERROR_DETACH);

	/* attached: a changed on-io-error cannot be seen, nothing is sent */
	d.disk_state = RBLK_DISK_UP_TO_DATE;
	plan_for(&c, "r", "a", &d, 1);
	assert_int_equal(plan.n, 0);
	conf_free(&c);
}

/* An external meta-disk goes with the ATTACH as META_PATH. */
static void test_meta_disk(void **state)
{
	static const char *const node_a[] = {
		"create-device r minor 2 node-id 0",
		"device-options quorum off on-no-quorum suspend-io auto-promote no fencing off",
		"attach /dev/vda meta-disk /dev/nvme0n1p3",
		"add-peer b (node id 1) peer 10.0.0.2:7800 local 10.0.0.1:7801",
		"add-peer c (node id 2) peer 10.0.0.3:7800 local 10.0.0.1:7802",
		"connect-peer b (node id 1)",
		"connect-peer c (node id 2)",
		NULL,
	};
	static const char *const node_b[] = {
		"attach /dev/vdb meta-disk /dev/vdm on-io-error pass-on", NULL,
	};
	static const char file[] =
		"resources:\n"
		"  - name: r\n"
		"    minor: 2\n"
		"    nodes:\n"
		"      - {name: a, node-id: 0, address: 10.0.0.1:7800, disk: /dev/vda,\n"
		"         meta-disk: /dev/nvme0n1p3}\n"
		"      - {name: b, node-id: 1, address: 10.0.0.2:7800, disk: /dev/vdb,\n"
		"         meta-disk: /dev/vdm, on-io-error: pass-on}\n"
		"      - {name: c, node-id: 2, address: 10.0.0.3:7800, disk: /dev/vdc,\n"
		"         meta-disk: internal}\n";
	const struct rblk_req *q;
	struct conf c;
	struct kdev d;

	(void)state;
	parse_ok(file, &c);
	plan_for(&c, "r", "a", NULL, 0);
	expect_ops(node_a);
	q = &plan.ops[2].req;
	assert_int_equal(q->cmd, RBLK_CMD_ATTACH);
	assert_int_equal(q->has, REQ_MINOR | REQ_PATH | REQ_META_PATH);
	assert_string_equal(q->path, "/dev/vda");
	assert_string_equal(q->meta_path, "/dev/nvme0n1p3");

	/* internal: no META_PATH */
	plan_for(&c, "r", "c", NULL, 0);
	assert_string_equal(plan.ops[2].what, "attach /dev/vdc");
	assert_int_equal(plan.ops[2].req.has, REQ_MINOR | REQ_PATH);

	/* detached after an I/O error: attached again with the meta-disk */
	kdev_like(&c, &c.res[0], &c.res[0].nodes[1], &d);
	d.disk_state = RBLK_DISK_DISKLESS;
	plan_for(&c, "r", "b", &d, 1);
	expect_ops(node_b);
	q = &plan.ops[0].req;
	assert_int_equal(q->has, REQ_MINOR | REQ_PATH | REQ_META_PATH | REQ_ON_IO_ERROR);
	assert_string_equal(q->meta_path, "/dev/vdm");
	assert_int_equal(q->on_io_error, RBLK_ON_IO_ERROR_PASS_ON);

	/* attached, and Consistent (not yet compared with a peer): nothing to do */
	d.disk_state = RBLK_DISK_CONSISTENT;
	plan_for(&c, "r", "b", &d, 1);
	assert_int_equal(plan.n, 0);
	conf_free(&c);
}

static void test_diskless_node(void **state)
{
	static const char *const fresh[] = {
		"create-device r3 minor 5 node-id 2",
		"device-options quorum off on-no-quorum suspend-io auto-promote no fencing off",
		"add-peer a (node id 0) peer [fd00::1]:7002 local [fd00::3]:7000",
		"add-peer b (node id 1) peer [fd00::2]:7002 local [fd00::3]:7001",
		"connect-peer a (node id 0)",
		"connect-peer b (node id 1)",
		NULL,
	};
	static const char *const detach[] = { "detach /dev/sdc", NULL };
	struct conf c;
	struct kdev d;

	(void)state;
	parse_ok(three_nodes, &c);
	plan_for(&c, "r3", "c", NULL, 0);
	expect_ops(fresh);
	assert_int_equal(plan.ops[0].req.has, REQ_MINOR | REQ_NAME | REQ_NODE_ID);	/* no cluster */
	assert_int_equal(plan.ops[2].req.peer.family, AF_INET6);
	assert_int_equal(plan.ops[2].req.options.v[OPT_PING_INTERVAL], 1000);
	kdev_like(&c, &c.res[0], &c.res[0].nodes[2], &d);
	plan_for(&c, "r3", "c", &d, 1);
	assert_int_equal(plan.n, 0);
	d.disk_state = RBLK_DISK_UP_TO_DATE;
	snprintf(d.backing, sizeof(d.backing), "/dev/sdc");
	plan_for(&c, "r3", "c", &d, 1);
	expect_ops(detach);
	conf_free(&c);
}

/* Index of the first op @cmd in the plan, or plan.n. */
static unsigned int op_index(uint8_t cmd)
{
	unsigned int i;

	for (i = 0; i < plan.n && plan.ops[i].req.cmd != cmd; i++)
		;
	return i;
}

/* Two data nodes and a witness (no disk) with quorum. */
static const char witness[] =
	"options: {quorum: majority}\n"
	"resources:\n"
	"  - name: r3\n"
	"    minor: 5\n"
	"    options: {on-no-quorum: io-error}\n"
	"    nodes:\n"
	"      - {name: a, node-id: 0, address: 10.0.0.1:7000, disk: /dev/sda}\n"
	"      - {name: b, node-id: 1, address: 10.0.0.2:7000, disk: /dev/sdb}\n"
	"      - {name: w, node-id: 2, address: 10.0.0.3:7000}\n";

/*
 * DEVICE_OPTIONS: sent after DEVICE_CREATE and before any peer is added or
 * connected; for an existing device when the kernel's policy differs from
 * the file's or the kernel does not report it; not when they are equal.
 */
static void test_quorum_options(void **state)
{
	static const char *const fresh[] = {
		"create-device r3 minor 5 node-id 0",
		"device-options quorum majority on-no-quorum io-error auto-promote no fencing off",
		"attach /dev/sda",
		"add-peer b (node id 1) peer 10.0.0.2:7000 local 10.0.0.1:7001",
		"add-peer w (node id 2) peer 10.0.0.3:7000 local 10.0.0.1:7002",
		"connect-peer b (node id 1)",
		"connect-peer w (node id 2)",
		NULL,
	};
	static const char *const options_only[] = {
		"device-options quorum majority on-no-quorum io-error auto-promote no fencing off", NULL,
	};
	const struct rblk_req *q;
	struct conf c;
	struct kdev d;

	(void)state;
	parse_ok(witness, &c);
	plan_for(&c, "r3", "a", NULL, 0);
	expect_ops(fresh);
	q = &plan.ops[1].req;
	assert_int_equal(q->cmd, RBLK_CMD_DEVICE_OPTIONS);
	assert_int_equal(q->has, REQ_MINOR | REQ_QUORUM | REQ_ON_NO_QUORUM | REQ_AUTO_PROMOTE |
			 REQ_FENCING | REQ_FENCE_HANDLER | REQ_AUTH_SECRET | REQ_DATA_DIGEST |
			 REQ_READ_BALANCING);
	assert_int_equal(q->minor, 5);
	assert_true(q->quorum == RBLK_QUORUM_MAJORITY);
	assert_int_equal(q->on_no_quorum, RBLK_ON_NO_QUORUM_IO_ERROR);
	assert_true(op_index(RBLK_CMD_DEVICE_OPTIONS) > op_index(RBLK_CMD_DEVICE_CREATE));
	assert_true(op_index(RBLK_CMD_DEVICE_OPTIONS) < op_index(RBLK_CMD_PEER_ADD));
	assert_true(op_index(RBLK_CMD_DEVICE_OPTIONS) < op_index(RBLK_CMD_CONNECT));

	/* the kernel reports the file's policy: nothing to do */
	kdev_like(&c, &c.res[0], &c.res[0].nodes[0], &d);
	assert_true(d.quorum == RBLK_QUORUM_MAJORITY);
	plan_for(&c, "r3", "a", &d, 1);
	assert_int_equal(plan.n, 0);

	/* another quorum in the kernel: DEVICE_OPTIONS alone */
	d.quorum = 2;
	plan_for(&c, "r3", "a", &d, 1);
	expect_ops(options_only);
	assert_true(plan.ops[0].req.quorum == RBLK_QUORUM_MAJORITY);
	assert_int_equal(plan.ops[0].req.has, REQ_MINOR | REQ_QUORUM | REQ_ON_NO_QUORUM |
			 REQ_AUTO_PROMOTE | REQ_FENCING | REQ_FENCE_HANDLER | REQ_AUTH_SECRET |
			 REQ_DATA_DIGEST | REQ_READ_BALANCING);
	d.quorum = RBLK_QUORUM_OFF;
	plan_for(&c, "r3", "a", &d, 1);
	expect_ops(options_only);

	/* another on-no-quorum */
	d.quorum = RBLK_QUORUM_MAJORITY;
	d.on_no_quorum = RBLK_ON_NO_QUORUM_SUSPEND_IO;
	plan_for(&c, "r3", "a", &d, 1);
	expect_ops(options_only);
	assert_int_equal(plan.ops[0].req.on_no_quorum, RBLK_ON_NO_QUORUM_IO_ERROR);

	/* a kernel that does not report them: unknown, sent */
	d.on_no_quorum = RBLK_ON_NO_QUORUM_IO_ERROR;
	d.has_quorum_policy = false;
	plan_for(&c, "r3", "a", &d, 1);
	expect_ops(options_only);
	d.has_quorum_policy = true;
	d.has_on_no_quorum = false;
	plan_for(&c, "r3", "a", &d, 1);
	expect_ops(options_only);

	/* sent before the peers that "up" adds and connects again */
	d.has_on_no_quorum = true;
	d.on_no_quorum = RBLK_ON_NO_QUORUM_SUSPEND_IO;
	d.peers[0].conn_state = RBLK_CONN_STANDALONE;
	d.n_peers = 1;
	plan_for(&c, "r3", "a", &d, 1);
	assert_int_equal(plan.n, 4);
	assert_int_equal(plan.ops[0].req.cmd, RBLK_CMD_DEVICE_OPTIONS);
	assert_string_equal(plan.ops[1].what,
			    "add-peer w (node id 2) peer 10.0.0.3:7000 local 10.0.0.1:7002");
	conf_free(&c);

	/* a number of votes, written as the file writes it */
	parse_ok("resources:\n"
		 "  - {name: r, minor: 1, options: {quorum: 2}, nodes: [\n"
		 "     {name: a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vda},\n"
		 "     {name: b, node-id: 1, address: 10.0.0.2:7789, disk: /dev/vdb}]}\n", &c);
	plan_for(&c, "r", "a", NULL, 0);
	assert_string_equal(plan.ops[1].what, "device-options quorum 2 on-no-quorum suspend-io auto-promote no fencing off");
	assert_int_equal(plan.ops[1].req.quorum, 2);
	kdev_like(&c, &c.res[0], &c.res[0].nodes[0], &d);
	plan_for(&c, "r", "a", &d, 1);
	assert_int_equal(plan.n, 0);
	d.quorum = RBLK_QUORUM_MAJORITY;	/* majority of 2 is 2 as well, but not the file's */
	plan_for(&c, "r", "a", &d, 1);
	assert_int_equal(plan.n, 1);
	conf_free(&c);
}

/* Auto-promote and fencing: the top level's, a resource's own wins. */
static const char fencing[] =
	"options:\n"
	"  auto-promote: yes\n"
	"  fencing: resource-and-stonith\n"
	"  fence-handler: /usr/lib/rblk/fence-peer\n"
	"resources:\n"
	"  - name: r0\n"
	"    minor: 0\n"
	"    nodes:\n"
	"      - {name: a, node-id: 0, address: 10.0.0.1:7000, disk: /dev/sda}\n"
	"      - {name: b, node-id: 1, address: 10.0.0.2:7000, disk: /dev/sdb}\n"
	"  - name: r1\n"
	"    minor: 1\n"
	"    options: {auto-promote: no, fencing: resource-only, fence-handler: /opt/fence}\n"
	"    nodes:\n"
	"      - {name: a, node-id: 0, address: 10.0.0.1:7100, disk: /dev/sdc}\n"
	"      - {name: b, node-id: 1, address: 10.0.0.2:7100, disk: /dev/sdd}\n";

/*
 * DEVICE_OPTIONS carries AUTO_PROMOTE, FENCING and FENCE_HANDLER with the
 * quorum policy, and is sent again when the kernel reports any of them
 * differently or not at all; FENCE_HANDLER is "" when the file has none,
 * so that removing it from the file clears it.
 */
static void test_fencing_options(void **state)
{
	static const char *const r0_ops[] = {
		"device-options quorum off on-no-quorum suspend-io auto-promote yes fencing resource-and-stonith fence-handler /usr/lib/rblk/fence-peer",
		NULL,
	};
	static const char *const r1_ops[] = {
		"device-options quorum off on-no-quorum suspend-io auto-promote no fencing resource-only fence-handler /opt/fence",
		NULL,
	};
	static const char *const cleared[] = {
		"device-options quorum off on-no-quorum suspend-io auto-promote no fencing off",
		NULL,
	};
	const struct rblk_req *q;
	struct conf c, plain;
	struct kdev d;

	(void)state;
	parse_ok(fencing, &c);
	plan_for(&c, "r0", "a", NULL, 0);
	assert_int_equal(op_index(RBLK_CMD_DEVICE_OPTIONS), 1);
	q = &plan.ops[1].req;
	assert_string_equal(plan.ops[1].what, r0_ops[0]);
	assert_int_equal(q->has, REQ_MINOR | REQ_QUORUM | REQ_ON_NO_QUORUM | REQ_AUTO_PROMOTE |
			 REQ_FENCING | REQ_FENCE_HANDLER | REQ_AUTH_SECRET | REQ_DATA_DIGEST |
			 REQ_READ_BALANCING);
	assert_int_equal(q->auto_promote, 1);
	assert_int_equal(q->fencing, RBLK_FENCING_RESOURCE_AND_STONITH);
	assert_string_equal(q->fence_handler, "/usr/lib/rblk/fence-peer");

	/* the kernel has the file's policy: nothing to do */
	kdev_like(&c, &c.res[0], &c.res[0].nodes[0], &d);
	plan_for(&c, "r0", "a", &d, 1);
	assert_int_equal(plan.n, 0);
	/* each differing field: DEVICE_OPTIONS alone, with the whole policy */
	d.auto_promote = false;
	plan_for(&c, "r0", "a", &d, 1);
	expect_ops(r0_ops);
	d.auto_promote = true;
	d.fencing = RBLK_FENCING_RESOURCE_ONLY;
	plan_for(&c, "r0", "a", &d, 1);
	expect_ops(r0_ops);
	d.fencing = RBLK_FENCING_RESOURCE_AND_STONITH;
	snprintf(d.fence_handler, sizeof(d.fence_handler), "/usr/lib/rblk/fence");
	plan_for(&c, "r0", "a", &d, 1);
	expect_ops(r0_ops);
	snprintf(d.fence_handler, sizeof(d.fence_handler), "/usr/lib/rblk/fence-peer");
	/* a kernel that does not report them: unknown, sent */
	d.has_auto_promote = false;
	plan_for(&c, "r0", "a", &d, 1);
	expect_ops(r0_ops);
	d.has_auto_promote = true;
	d.has_fencing = false;
	plan_for(&c, "r0", "a", &d, 1);
	expect_ops(r0_ops);
	d.has_fencing = true;
	d.has_fence_handler = false;		/* with FENCING: no handler */
	plan_for(&c, "r0", "a", &d, 1);
	expect_ops(r0_ops);
	d.has_fence_handler = true;

	/* the resource's own policy wins over the top level's */
	plan_for(&c, "r1", "b", NULL, 0);
	assert_string_equal(plan.ops[op_index(RBLK_CMD_DEVICE_OPTIONS)].what, r1_ops[0]);
	kdev_like(&c, &c.res[1], &c.res[1].nodes[1], &d);
	plan_for(&c, "r1", "b", &d, 1);
	assert_int_equal(plan.n, 0);

	/* the policy removed from the file: cleared in the kernel, handler "" */
	parse_ok("resources:\n"
		 "  - name: r0\n"
		 "    minor: 0\n"
		 "    nodes:\n"
		 "      - {name: a, node-id: 0, address: 10.0.0.1:7000, disk: /dev/sda}\n"
		 "      - {name: b, node-id: 1, address: 10.0.0.2:7000, disk: /dev/sdb}\n", &plain);
	kdev_like(&c, &c.res[0], &c.res[0].nodes[0], &d);
	plan_for(&plain, "r0", "a", &d, 1);
	expect_ops(cleared);
	q = &plan.ops[0].req;
	assert_true(q->has & REQ_FENCE_HANDLER);
	assert_string_equal(q->fence_handler, "");
	assert_int_equal(q->auto_promote, 0);
	assert_int_equal(q->fencing, RBLK_FENCING_OFF);
	/* a kernel that leaves out an empty FENCE_HANDLER is up to date */
	kdev_like(&plain, &plain.res[0], &plain.res[0].nodes[0], &d);
	d.has_fence_handler = false;
	plan_for(&plain, "r0", "a", &d, 1);
	assert_int_equal(plan.n, 0);
	conf_free(&plain);
	conf_free(&c);
}

/*
 * A witness: a node without a disk in a resource with quorum.  "up"
 * creates the device, sets the policy, adds and connects the peers;
 * nothing is attached, no metadata is touched.
 */
static void test_witness(void **state)
{
	static const char *const fresh[] = {
		"create-device r3 minor 5 node-id 2",
		"device-options quorum majority on-no-quorum io-error auto-promote no fencing off",
		"add-peer a (node id 0) peer 10.0.0.1:7002 local 10.0.0.3:7000",
		"add-peer b (node id 1) peer 10.0.0.2:7002 local 10.0.0.3:7001",
		"connect-peer a (node id 0)",
		"connect-peer b (node id 1)",
		NULL,
	};
	static const char *const reconnect[] = { "connect-peer b (node id 1)", NULL };
	struct conf c;
	struct kdev d;
	unsigned int i;

	(void)state;
	parse_ok(witness, &c);
	plan_for(&c, "r3", "w", NULL, 0);
	expect_ops(fresh);
	for (i = 0; i < plan.n; i++) {
		assert_int_not_equal(plan.ops[i].req.cmd, RBLK_CMD_ATTACH);
		assert_int_not_equal(plan.ops[i].req.cmd, RBLK_CMD_DETACH);
		assert_int_not_equal(plan.ops[i].req.cmd, RBLK_CMD_MD_CREATE);
		assert_false(plan.ops[i].req.has & (REQ_PATH | REQ_META_PATH));
	}
	/* up: Diskless, as the kernel reports it, is what the file says */
	kdev_like(&c, &c.res[0], &c.res[0].nodes[2], &d);
	assert_int_equal(d.disk_state, RBLK_DISK_DISKLESS);
	plan_for(&c, "r3", "w", &d, 1);
	assert_int_equal(plan.n, 0);
	d.peers[1].conn_state = RBLK_CONN_STANDALONE;
	plan_for(&c, "r3", "w", &d, 1);
	expect_ops(reconnect);
	conf_free(&c);
}

/*
 * Both ends of every pair agree: node X's PEER_ADD for Y carries as peer
 * address exactly what node Y's PEER_ADD for X carries as local address.
 */
static void test_three_nodes_sides_agree(void **state)
{
	struct conf c;
	struct rblk_req adds[3][3];
	unsigned int x, y, i;

	(void)state;
	parse_ok(three_nodes, &c);
	memset(adds, 0, sizeof(adds));
	for (x = 0; x < 3; x++) {
		plan_for(&c, "r3", c.res[0].nodes[x].name, NULL, 0);
		for (i = 0; i < plan.n; i++)
			if (plan.ops[i].req.cmd == RBLK_CMD_PEER_ADD)
				adds[x][plan.ops[i].req.peer_node_id] = plan.ops[i].req;
	}
	for (x = 0; x < 3; x++) {
		for (y = 0; y < 3; y++) {
			if (x == y)
				continue;
			assert_int_equal(adds[x][y].cmd, RBLK_CMD_PEER_ADD);
			assert_true(addr_equal(&adds[x][y].peer, &adds[y][x].local));
			assert_true(addr_equal(&adds[x][y].local, &adds[y][x].peer));
			/* the higher id listens on its port + the lower id */
			if (x > y)
				assert_int_equal(adds[x][y].local.port, 7000 + y);
		}
	}
	conf_free(&c);
}

/* Point-to-point links: both sides of every pair still agree. */
static void test_mesh_sides_agree(void **state)
{
	static const char mesh[] =
		"resources:\n"
		"  - name: r\n"
		"    minor: 0\n"
		"    nodes:\n"
		"      - {name: n1, node-id: 0, address: 10.99.12.1:7789, address-for: {n3: 10.99.13.1:7789}}\n"
		"      - {name: n2, node-id: 1, address: 10.99.12.2:7789, address-for: {n3: 10.99.23.2:7789}}\n"
		"      - {name: n3, node-id: 2, address: 10.99.13.3:7789, address-for: {n2: 10.99.23.3:7789}}\n";
	static const char *const n3_ops[] = {
		"create-device r minor 0 node-id 2",
		"device-options quorum off on-no-quorum suspend-io auto-promote no fencing off",
		"add-peer n1 (node id 0) peer 10.99.13.1:7791 local 10.99.13.3:7789",
		"add-peer n2 (node id 1) peer 10.99.23.2:7791 local 10.99.23.3:7790",
		"connect-peer n1 (node id 0)",
		"connect-peer n2 (node id 1)",
		NULL,
	};
	struct conf c;
	struct rblk_req adds[3][3];
	unsigned int x, y, i;

	(void)state;
	parse_ok(mesh, &c);
	memset(adds, 0, sizeof(adds));
	for (x = 0; x < 3; x++) {
		plan_for(&c, "r", c.res[0].nodes[x].name, NULL, 0);
		for (i = 0; i < plan.n; i++)
			if (plan.ops[i].req.cmd == RBLK_CMD_PEER_ADD)
				adds[x][plan.ops[i].req.peer_node_id] = plan.ops[i].req;
	}
	expect_ops(n3_ops);
	for (x = 0; x < 3; x++)
		for (y = 0; y < 3; y++)
			if (x != y) {
				assert_true(addr_equal(&adds[x][y].peer, &adds[y][x].local));
				assert_true(addr_equal(&adds[x][y].local, &adds[y][x].peer));
			}
	conf_free(&c);
}

static void test_options_reported_by_kernel(void **state)
{
	struct conf c;
	struct kdev d;

	(void)state;
	parse_ok(two_nodes, &c);
	kdev_like(&c, &c.res[0], &c.res[0].nodes[0], &d);
	d.peers[0].options.set[OPT_PING_TIMEOUT] = true;
	d.peers[0].options.v[OPT_PING_TIMEOUT] = RBLK_PING_TIMEOUT_MS_DEFAULT;
	plan_for(&c, "vm-disk-1", "node-a", &d, 1);
	assert_int_equal(plan.n, 0);
	d.peers[0].options.v[OPT_PING_TIMEOUT] = 9999;
	plan_for(&c, "vm-disk-1", "node-a", &d, 1);
	assert_int_equal(plan.n, 3);
	assert_string_equal(plan.ops[0].what, "remove-peer node-b (node id 1): changed");
	/* ko-count is compared like the timings */
	d.peers[0].options.v[OPT_PING_TIMEOUT] = RBLK_PING_TIMEOUT_MS_DEFAULT;
	d.peers[0].options.set[OPT_KO_COUNT] = true;
	d.peers[0].options.v[OPT_KO_COUNT] = RBLK_KO_COUNT_DEFAULT;
	plan_for(&c, "vm-disk-1", "node-a", &d, 1);
	assert_int_equal(plan.n, 0);
	d.peers[0].options.v[OPT_KO_COUNT] = RBLK_KO_COUNT_DEFAULT + 1;
	plan_for(&c, "vm-disk-1", "node-a", &d, 1);
	assert_int_equal(plan.n, 3);
	assert_int_equal(plan.ops[1].req.cmd, RBLK_CMD_PEER_ADD);
	assert_int_equal(plan.ops[1].req.options.v[OPT_KO_COUNT], RBLK_KO_COUNT_DEFAULT);
	conf_free(&c);
}

static void expect_conflict(const struct conf *c, const struct kdev *d, const char *msg)
{
	char err[ERRBUF_BYTES];
	const struct conf_resource *r = &c->res[0];

	assert_int_equal(plan_up(c, r, &r->nodes[0], d, 1, &plan, err, sizeof(err)), -1);
	assert_string_equal(err, msg);
}

static void test_conflicts(void **state)
{
	struct conf c;
	struct kdev d;

	(void)state;
	parse_ok(two_nodes, &c);
	kdev_like(&c, &c.res[0], &c.res[0].nodes[0], &d);
	snprintf(d.name, sizeof(d.name), "payroll");
	expect_conflict(&c, &d, "vm-disk-1: minor 0 is in use by resource 'payroll' in the kernel");

	kdev_like(&c, &c.res[0], &c.res[0].nodes[0], &d);
	d.minor = 3;
	expect_conflict(&c, &d,
			"vm-disk-1: the kernel has this resource at minor 3, the file says minor 0; run 'rblkadm down vm-disk-1' first");

	kdev_like(&c, &c.res[0], &c.res[0].nodes[0], &d);
	d.node_id = 4;
	expect_conflict(&c, &d,
			"vm-disk-1: the kernel device has node id 4, the file says 0 for node 'node-a'; run 'rblkadm down vm-disk-1' first");

	kdev_like(&c, &c.res[0], &c.res[0].nodes[0], &d);
	snprintf(d.cluster, sizeof(d.cluster), "clinic-b");
	expect_conflict(&c, &d,
			"vm-disk-1: the kernel device has cluster name 'clinic-b', the file says 'hospital-a'; run 'rblkadm down vm-disk-1' first");
	conf_free(&c);
}

static void test_down(void **state)
{
	static const char *const full[] = {
		"disconnect-peer all peers", "detach /dev/vda", "delete-device minor 0", NULL,
	};
	static const char *const bare[] = { "delete-device minor 0", NULL };
	char err[ERRBUF_BYTES];
	struct conf c;
	struct kdev d;

	(void)state;
	parse_ok(two_nodes, &c);
	kdev_like(&c, &c.res[0], &c.res[0].nodes[0], &d);
	assert_int_equal(plan_down(&c.res[0], &d, 1, &plan, err, sizeof(err)), 0);
	expect_ops(full);
	assert_int_equal(plan.ops[0].req.cmd, RBLK_CMD_DISCONNECT);
	assert_int_equal(plan.ops[0].req.has, REQ_MINOR);		/* every peer */
	assert_int_equal(plan.ops[1].req.cmd, RBLK_CMD_DETACH);
	assert_int_equal(plan.ops[2].req.cmd, RBLK_CMD_DEVICE_DELETE);
	assert_int_equal(plan.ops[2].req.minor, 0);

	d.peers[0].conn_state = RBLK_CONN_STANDALONE;
	d.disk_state = RBLK_DISK_DISKLESS;
	assert_int_equal(plan_down(&c.res[0], &d, 1, &plan, err, sizeof(err)), 0);
	expect_ops(bare);

	/* found by name even at another minor */
	d.minor = 12;
	assert_int_equal(plan_down(&c.res[0], &d, 1, &plan, err, sizeof(err)), 0);
	assert_string_equal(plan.ops[0].what, "delete-device minor 12");
	assert_int_equal(plan.ops[0].req.minor, 12);

	/* nothing in the kernel */
	assert_int_equal(plan_down(&c.res[0], NULL, 0, &plan, err, sizeof(err)), 0);
	assert_int_equal(plan.n, 0);

	/* primary or open: refused before anything is sent */
	d.role = RBLK_ROLE_PRIMARY;
	assert_int_equal(plan_down(&c.res[0], &d, 1, &plan, err, sizeof(err)), -1);
	assert_int_equal(plan.n, 0);
	assert_string_equal(err, "vm-disk-1: device is primary; run 'rblkadm secondary vm-disk-1' first");
	d.role = RBLK_ROLE_SECONDARY;
	d.open_count = 2;
	assert_int_equal(plan_down(&c.res[0], &d, 1, &plan, err, sizeof(err)), -1);
	assert_int_equal(plan.n, 0);
	assert_string_equal(err, "vm-disk-1: /dev/rblk12 is open (2 openers); close it first");
	conf_free(&c);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(cmd_name(RBLK_CMD_DEVICE_CREATE), "create-device");
	assert_string_equal(cmd_name(RBLK_CMD_STATUS), "show");
	assert_string_equal(cmd_name(200), "unknown-command");
	assert_string_equal(role_json(RBLK_ROLE_PRIMARY), "primary");
	assert_string_equal(role_json(RBLK_ROLE_SECONDARY), "secondary");
	assert_string_equal(role_json(RBLK_ROLE_UNKNOWN), "unknown");
	assert_string_equal(role_json(9), "invalid");
	assert_string_equal(disk_json(RBLK_DISK_UP_TO_DATE), "up_to_date");
	assert_string_equal(disk_json(RBLK_DISK_OUTDATED), "outdated");
	assert_string_equal(disk_json(RBLK_DISK_INCONSISTENT), "inconsistent");
	assert_string_equal(disk_json(RBLK_DISK_DISKLESS), "diskless");
	assert_string_equal(disk_json(RBLK_DISK_UNKNOWN), "unknown");
	assert_string_equal(disk_json(RBLK_DISK_FAILED), "failed");
	assert_string_equal(disk_human(RBLK_DISK_UP_TO_DATE), "UpToDate");
	assert_string_equal(disk_human(RBLK_DISK_FAILED), "Failed");
	assert_string_equal(on_io_error_name(RBLK_ON_IO_ERROR_DETACH), "detach");
	assert_string_equal(on_io_error_name(RBLK_ON_IO_ERROR_PASS_ON), "pass-on");
	assert_string_equal(on_io_error_name(__RBLK_ON_IO_ERROR_MAX), "invalid");
	assert_string_equal(conn_json(RBLK_CONN_STANDALONE), "standalone");
	assert_string_equal(conn_json(RBLK_CONN_CONNECTING), "connecting");
	assert_string_equal(conn_json(RBLK_CONN_CONNECTED), "connected");
	assert_string_equal(conn_json(RBLK_CONN_DISCONNECTING), "disconnecting");
	assert_string_equal(conn_human(RBLK_CONN_STANDALONE), "StandAlone");
	assert_string_equal(event_json(RBLK_EVENT_PEER_DISK_STATE_CHANGED),
			    "peer_disk_state_changed");
	assert_string_equal(event_json(RBLK_EVENT_DEVICE_CREATED), "device_created");
	assert_string_equal(event_json(RBLK_EVENT_REPL_STATE_CHANGED), "repl_state_changed");
	assert_string_equal(event_json(RBLK_EVENT_SPLIT_BRAIN), "split_brain");
	assert_string_equal(event_json(RBLK_EVENT_UUIDS_CHANGED), "uuids_changed");
	assert_string_equal(event_json(RBLK_EVENT_QUORUM_CHANGED), "quorum_changed");
	assert_string_equal(event_json(RBLK_EVENT_FENCE_PEER), "fence_peer");
	assert_string_equal(event_json(RBLK_EVENT_FENCE_PEER + 1), "invalid");
	assert_string_equal(cmd_name(RBLK_CMD_MD_CREATE), "create-md");
	assert_string_equal(cmd_name(RBLK_CMD_MD_DUMP), "dump-md");
	assert_string_equal(cmd_name(RBLK_CMD_NEW_CURRENT_UUID), "new-current-uuid");
	assert_string_equal(cmd_name(RBLK_CMD_DEVICE_OPTIONS), "device-options");
	assert_string_equal(cmd_name(RBLK_CMD_RESUME_IO), "resume-io");
	assert_string_equal(on_no_quorum_name(RBLK_ON_NO_QUORUM_SUSPEND_IO), "suspend-io");
	assert_string_equal(on_no_quorum_name(RBLK_ON_NO_QUORUM_IO_ERROR), "io-error");
	assert_string_equal(on_no_quorum_name(__RBLK_ON_NO_QUORUM_MAX), "invalid");
	assert_string_equal(suspend_reason_name(RBLK_SUSPEND_NONE), "no");
	assert_string_equal(suspend_reason_name(RBLK_SUSPEND_NO_QUORUM), "no-quorum");
	assert_string_equal(suspend_reason_name(RBLK_SUSPEND_FENCING), "fencing");
	assert_string_equal(fencing_name(RBLK_FENCING_OFF), "off");
	assert_string_equal(fencing_name(RBLK_FENCING_RESOURCE_ONLY), "resource-only");
	assert_string_equal(fencing_name(RBLK_FENCING_RESOURCE_AND_STONITH),
			    "resource-and-stonith");
	assert_string_equal(fencing_name(__RBLK_FENCING_MAX), "invalid");
	assert_string_equal(yes_no_name(0), "no");
	assert_string_equal(yes_no_name(1), "yes");
	assert_string_equal(yes_no_name(2), "invalid");
	assert_string_equal(suspend_reason_name(__RBLK_SUSPEND_MAX), "invalid");
	{
		char q[16];

		assert_string_equal(format_quorum(RBLK_QUORUM_OFF, q, sizeof(q)), "off");
		assert_string_equal(format_quorum(RBLK_QUORUM_MAJORITY, q, sizeof(q)), "majority");
		assert_string_equal(format_quorum(RBLK_MAX_PEERS, q, sizeof(q)), "32");
	}
	assert_string_equal(disk_json(RBLK_DISK_CONSISTENT), "consistent");
	assert_string_equal(disk_human(RBLK_DISK_CONSISTENT), "Consistent");
	assert_string_equal(disk_json(RBLK_DISK_CONSISTENT + 1), "invalid");
}

/* Replication states as DRBD users know them; sync decisions; metadata flags. */
static void test_repl_names(void **state)
{
	static const struct { unsigned int v; const char *json, *human; } repl[] = {
		{ RBLK_REPL_OFF, "off", "Off" },
		{ RBLK_REPL_ESTABLISHED, "established", "Established" },
		{ RBLK_REPL_SYNC_SOURCE, "sync_source", "SyncSource" },
		{ RBLK_REPL_SYNC_TARGET, "sync_target", "SyncTarget" },
		{ RBLK_REPL_WAIT_SOURCE, "wait_source", "WaitSource" },
		{ RBLK_REPL_BEHIND, "behind", "Behind" },
		{ RBLK_REPL_AHEAD, "ahead", "Ahead" },
		{ RBLK_REPL_AHEAD + 1, "invalid", "invalid" },
	};
	static const struct { unsigned int v; const char *json, *human; } dec[] = {
		{ RBLK_SYNC_NONE, "none", "none" },
		{ RBLK_SYNC_BITMAP_SOURCE, "bitmap_source", "bitmap-source" },
		{ RBLK_SYNC_BITMAP_TARGET, "bitmap_target", "bitmap-target" },
		{ RBLK_SYNC_FULL_SOURCE, "full_source", "full-source" },
		{ RBLK_SYNC_FULL_TARGET, "full_target", "full-target" },
		{ RBLK_SYNC_NO_SOURCE, "no_source", "no-source" },
		{ RBLK_SYNC_SPLIT_BRAIN, "split_brain", "split-brain" },
		{ RBLK_SYNC_UNRELATED, "unrelated", "unrelated" },
		{ __RBLK_SYNC_MAX, "invalid", "invalid" },
	};
	char buf[24];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(repl) / sizeof(repl[0]); i++) {
		assert_string_equal(repl_json(repl[i].v), repl[i].json);
		assert_string_equal(repl_human(repl[i].v), repl[i].human);
	}
	for (i = 0; i < sizeof(dec) / sizeof(dec[0]); i++) {
		assert_string_equal(sync_decision_json(dec[i].v), dec[i].json);
		assert_string_equal(sync_decision_human(dec[i].v), dec[i].human);
	}
	assert_string_equal(md_flag_name(0, false), "consistent");
	assert_string_equal(md_flag_name(1, false), "outdated");
	assert_string_equal(md_flag_name(2, false), "primary");
	assert_string_equal(md_flag_name(3, false), "sync-target");
	assert_string_equal(md_flag_name(3, true), "sync_target");
	assert_string_equal(md_flag_name(4, false), "attached");
	assert_null(md_flag_name(5, false));
	assert_string_equal(format_uuid(0x9f3a0c21b7e4d560ULL, buf, sizeof(buf)),
			    "9F3A0C21B7E4D560");
	assert_string_equal(format_uuid(0, buf, sizeof(buf)), "0000000000000000");
	assert_string_equal(format_uuid(UINT64_MAX, buf, sizeof(buf)), "FFFFFFFFFFFFFFFF");
}

/*
 * A secret loaded from the secret-file goes with DEVICE_OPTIONS; the
 * kernel tells only whether it has one, and the plan never names it.
 */
static void test_secret(void **state)
{
	static const char *const with_secret[] = {
		"device-options quorum majority on-no-quorum io-error auto-promote no fencing off secret-file /etc/rblk/r3.secret",
		NULL,
	};
	static const char *const clear[] = {
		"device-options quorum majority on-no-quorum io-error auto-promote no fencing off no secret",
		NULL,
	};
	struct conf c;
	struct kdev d;
	unsigned int i;

	(void)state;
	parse_ok(witness, &c);
	snprintf(c.res[0].secret_file, sizeof(c.res[0].secret_file), "/etc/rblk/r3.secret");
	c.res[0].secret_len = 20;
	memcpy(c.res[0].secret, "0123456789abcdefghij", 20);
	plan_for(&c, "r3", "a", NULL, 0);
	i = op_index(RBLK_CMD_DEVICE_OPTIONS);
	assert_true(plan.ops[i].req.has & REQ_AUTH_SECRET);
	assert_int_equal(plan.ops[i].req.secret_len, 20);
	assert_memory_equal(plan.ops[i].req.secret, "0123456789abcdefghij", 20);
	assert_null(strstr(plan.ops[i].what, "0123456789"));

	/* the kernel has a secret: nothing to do (it cannot tell which) */
	kdev_like(&c, &c.res[0], &c.res[0].nodes[0], &d);
	d.has_auth = d.auth = true;
	plan_for(&c, "r3", "a", &d, 1);
	assert_int_equal(plan.n, 0);
	/* it has none: the secret goes */
	d.auth = false;
	plan_for(&c, "r3", "a", &d, 1);
	expect_ops(with_secret);
	assert_int_equal(plan.ops[0].req.secret_len, 20);
	/* the file has none, the kernel one: cleared with an empty secret */
	c.res[0].secret_len = 0;
	c.res[0].secret_file[0] = 0;
	d.auth = true;
	plan_for(&c, "r3", "a", &d, 1);
	expect_ops(clear);
	assert_true(plan.ops[0].req.has & REQ_AUTH_SECRET);
	assert_int_equal(plan.ops[0].req.secret_len, 0);
	conf_free(&c);
}

/*
 * data-digest goes with DEVICE_OPTIONS (none when the file does not say);
 * the plan compares it with the kernel's and names it when it is not none.
 */
static void test_data_digest(void **state)
{
	static const char *const set[] = {
		"device-options quorum majority on-no-quorum io-error auto-promote no fencing off data-digest crc32c",
		NULL,
	};
	static const char *const clear[] = {
		"device-options quorum majority on-no-quorum io-error auto-promote no fencing off data-digest none",
		NULL,
	};
	struct conf c;
	struct kdev d;
	unsigned int i;

	(void)state;
	parse_ok(witness, &c);
	/* not in the file: none is sent, and not named */
	plan_for(&c, "r3", "a", NULL, 0);
	i = op_index(RBLK_CMD_DEVICE_OPTIONS);
	assert_true(plan.ops[i].req.has & REQ_DATA_DIGEST);
	assert_int_equal(plan.ops[i].req.data_digest, RBLK_DATA_DIGEST_NONE);
	assert_null(strstr(plan.ops[i].what, "digest"));

	c.res[0].has_data_digest = true;
	c.res[0].data_digest = RBLK_DATA_DIGEST_CRC32C;
	plan_for(&c, "r3", "a", NULL, 0);
	i = op_index(RBLK_CMD_DEVICE_OPTIONS);
	assert_int_equal(plan.ops[i].req.data_digest, RBLK_DATA_DIGEST_CRC32C);
	assert_non_null(strstr(plan.ops[i].what, " data-digest crc32c"));

	/* the kernel has it already: nothing to do */
	kdev_like(&c, &c.res[0], &c.res[0].nodes[0], &d);
	d.has_data_digest = true;
	d.data_digest = RBLK_DATA_DIGEST_CRC32C;
	plan_for(&c, "r3", "a", &d, 1);
	assert_int_equal(plan.n, 0);
	/* it has none (or a kernel that does not report it): set */
	d.data_digest = RBLK_DATA_DIGEST_NONE;
	plan_for(&c, "r3", "a", &d, 1);
	expect_ops(set);
	d.has_data_digest = false;
	plan_for(&c, "r3", "a", &d, 1);
	expect_ops(set);
	/* the file says none, the kernel has crc32c: cleared */
	c.res[0].data_digest = RBLK_DATA_DIGEST_NONE;
	d.has_data_digest = true;
	d.data_digest = RBLK_DATA_DIGEST_CRC32C;
	plan_for(&c, "r3", "a", &d, 1);
	expect_ops(clear);
	assert_int_equal(plan.ops[0].req.data_digest, RBLK_DATA_DIGEST_NONE);
	/* the file does not say, the kernel has none: nothing to do */
	c.res[0].has_data_digest = false;
	d.data_digest = RBLK_DATA_DIGEST_NONE;
	plan_for(&c, "r3", "a", &d, 1);
	assert_int_equal(plan.n, 0);
	conf_free(&c);
}

/*
 * read-balancing goes with DEVICE_OPTIONS (prefer-local when the file does
 * not say); the plan compares it with the kernel's and names it when it is
 * not prefer-local.
 */
static void test_read_balancing(void **state)
{
	static const char *const set[] = {
		"device-options quorum majority on-no-quorum io-error auto-promote no fencing off read-balancing least-pending",
		NULL,
	};
	static const char *const clear[] = {
		"device-options quorum majority on-no-quorum io-error auto-promote no fencing off read-balancing prefer-local",
		NULL,
	};
	struct conf c;
	struct kdev d;
	unsigned int i, v;

	(void)state;
	parse_ok(witness, &c);
	/* not in the file: prefer-local is sent, and not named */
	plan_for(&c, "r3", "a", NULL, 0);
	i = op_index(RBLK_CMD_DEVICE_OPTIONS);
	assert_true(plan.ops[i].req.has & REQ_READ_BALANCING);
	assert_int_equal(plan.ops[i].req.read_balancing, RBLK_READ_PREFER_LOCAL);
	assert_null(strstr(plan.ops[i].what, "read-balancing"));

	/* each policy of the file is sent as it is */
	c.res[0].has_read_balancing = true;
	for (v = 0; v < __RBLK_READ_BALANCING_MAX; v++) {
		char what[64];

		c.res[0].read_balancing = (uint8_t)v;
		plan_for(&c, "r3", "a", NULL, 0);
		i = op_index(RBLK_CMD_DEVICE_OPTIONS);
		assert_true(plan.ops[i].req.has & REQ_READ_BALANCING);
		assert_int_equal(plan.ops[i].req.read_balancing, v);
		snprintf(what, sizeof(what), " read-balancing %s", read_balancing_name(v));
		if (v == RBLK_READ_PREFER_LOCAL)
			assert_null(strstr(plan.ops[i].what, "read-balancing"));
		else
			assert_non_null(strstr(plan.ops[i].what, what));
	}

	/* the kernel has it already: nothing to do */
	c.res[0].read_balancing = RBLK_READ_LEAST_PENDING;
	kdev_like(&c, &c.res[0], &c.res[0].nodes[0], &d);
	d.has_read_balancing = true;
	d.read_balancing = RBLK_READ_LEAST_PENDING;
	plan_for(&c, "r3", "a", &d, 1);
	assert_int_equal(plan.n, 0);
	/* it has another one (or a kernel that does not report it): set */
	d.read_balancing = RBLK_READ_ROUND_ROBIN;
	plan_for(&c, "r3", "a", &d, 1);
	expect_ops(set);
	assert_int_equal(plan.ops[0].req.read_balancing, RBLK_READ_LEAST_PENDING);
	d.read_balancing = RBLK_READ_PREFER_LOCAL;
	plan_for(&c, "r3", "a", &d, 1);
	expect_ops(set);
	d.has_read_balancing = false;
	plan_for(&c, "r3", "a", &d, 1);
	expect_ops(set);
	/* the file says prefer-local, the kernel has round-robin: back to prefer-local */
	c.res[0].read_balancing = RBLK_READ_PREFER_LOCAL;
	d.has_read_balancing = true;
	d.read_balancing = RBLK_READ_ROUND_ROBIN;
	plan_for(&c, "r3", "a", &d, 1);
	expect_ops(clear);
	assert_true(plan.ops[0].req.has & REQ_READ_BALANCING);
	assert_int_equal(plan.ops[0].req.read_balancing, RBLK_READ_PREFER_LOCAL);
	/* the file does not say: the kernel's when-congested-remote is undone */
	c.res[0].has_read_balancing = false;
	d.read_balancing = RBLK_READ_WHEN_CONGESTED_REMOTE;
	plan_for(&c, "r3", "a", &d, 1);
	expect_ops(clear);
	/* the file does not say, the kernel has prefer-local: nothing to do */
	d.read_balancing = RBLK_READ_PREFER_LOCAL;
	plan_for(&c, "r3", "a", &d, 1);
	assert_int_equal(plan.n, 0);
	/* nor when the kernel does not report it (a kernel without read balancing) */
	d.has_read_balancing = false;
	plan_for(&c, "r3", "a", &d, 1);
	assert_int_equal(plan.n, 0);
	conf_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_up),
		cmocka_unit_test(test_fresh_up_other_side),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_changed_peer_address),
		cmocka_unit_test(test_changed_local_address),
		cmocka_unit_test(test_standalone_peer_reconnected),
		cmocka_unit_test(test_unknown_peer_removed),
		cmocka_unit_test(test_disk_changes),
		cmocka_unit_test(test_on_io_error),
		cmocka_unit_test(test_meta_disk),
		cmocka_unit_test(test_diskless_node),
		cmocka_unit_test(test_quorum_options),
		cmocka_unit_test(test_fencing_options),
		cmocka_unit_test(test_secret),
		cmocka_unit_test(test_data_digest),
		cmocka_unit_test(test_read_balancing),
		cmocka_unit_test(test_witness),
		cmocka_unit_test(test_three_nodes_sides_agree),
		cmocka_unit_test(test_mesh_sides_agree),
		cmocka_unit_test(test_options_reported_by_kernel),
		cmocka_unit_test(test_conflicts),
		cmocka_unit_test(test_down),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_repl_names),
	};

	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
