// SPDX-License-Identifier: GPL-2.0
/*
 * test_config.c - topology file parsing and validation: good files parse to
 * the expected values, bad files fail with exactly the expected message
 * (file:line:column: field path: what was expected).
 */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <unistd.h>

#include "testutil.h"

#define ASSUME_CLEAN_GONE \
	"assume-clean is no longer supported: the metadata decides the disk state; " \
	"run 'rblkadm create-md RES' on every node, then, only for disks known to hold " \
	"identical data (e.g. new, all zeroes), 'rblkadm new-current-uuid --clear-bitmap RES' " \
	"once on one node while the nodes are connected"

/* The example of rblk.conf(5). */
static const char example[] =
	"cluster: hospital-a          # optional cluster name, sent in the handshake\n"
	"options:                     # optional, defaults from the uapi header\n"
	"  ping-interval-ms: 2000\n"
	"  ping-timeout-ms: 5000\n"
	"  connect-timeout-ms: 5000\n"
	"  reconnect-min-ms: 100\n"
	"  reconnect-max-ms: 10000\n"
	"  request-timeout-ms: 6000\n"
	"  ko-count: 7\n"
	"resources:\n"
	"  - name: vm-disk-1\n"
	"    minor: 0\n"
	"    on-io-error: detach\n"
	"    nodes:\n"
	"      - name: node-a\n"
	"        node-id: 0\n"
	"        address: 10.0.0.1:7789\n"
	"        disk: /dev/vda\n"
	"      - name: node-b\n"
	"        node-id: 1\n"
	"        address: 10.0.0.2:7789\n"
	"        disk: /dev/vdb\n"
	"        options:\n"
	"          ping-timeout-ms: 8000\n"
	"          request-timeout-ms: 2000\n"
	"          ko-count: 3\n";

static void test_example(void **state)
{
	struct conf c;
	const struct conf_resource *r;
	const struct conf_node *a, *b;
	uint32_t o[OPT_COUNT];
	char buf[64];

	(void)state;
	parse_ok(example, &c);
	assert_string_equal(c.file, "rblk.conf");
	assert_string_equal(c.cluster, "hospital-a");
	assert_int_equal(c.n_res, 1);
	r = conf_find_resource(&c, "vm-disk-1");
	assert_non_null(r);
	assert_null(conf_find_resource(&c, "vm-disk-2"));
	assert_int_equal(r->minor, 0);
	assert_true(r->has_on_io_error);
	assert_int_equal(r->on_io_error, RBLK_ON_IO_ERROR_DETACH);
	assert_int_equal(r->n_nodes, 2);
	assert_int_equal(r->loc.line, 11);
	assert_int_equal(r->loc.col, 5);
	a = conf_find_node(r, "node-a");
	b = conf_find_node(r, "node-b");
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_equal(conf_find_node_id(r, 1), b);
	assert_null(conf_find_node_id(r, 2));
	assert_int_equal(a->node_id, 0);
	assert_int_equal(b->node_id, 1);
	assert_int_equal(a->addr.family, AF_INET);
	assert_int_equal(a->addr.port, 7789);
	format_addr(&b->addr, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.2:7789");
	assert_string_equal(a->disk, "/dev/vda");
	assert_string_equal(b->disk, "/dev/vdb");
	assert_string_equal(a->meta_disk, "");		/* default: internal */
	assert_string_equal(b->meta_disk, "");
	assert_int_equal(conf_max_peers(r), 1);
	assert_int_equal(b->loc_node_id.line, 20);
	assert_int_equal(b->loc_node_id.col, 18);

	conf_effective_options(&c, r, a, o);
	assert_int_equal(o[OPT_PING_INTERVAL], 2000);
	assert_int_equal(o[OPT_PING_TIMEOUT], 5000);
	assert_int_equal(o[OPT_CONNECT_TIMEOUT], 5000);
	assert_int_equal(o[OPT_RECONNECT_MIN], 100);
	assert_int_equal(o[OPT_RECONNECT_MAX], 10000);
	assert_int_equal(o[OPT_REQUEST_TIMEOUT], 6000);
	assert_int_equal(o[OPT_KO_COUNT], 7);
	conf_effective_options(&c, r, b, o);
	assert_int_equal(o[OPT_PING_TIMEOUT], 8000);
	assert_int_equal(o[OPT_REQUEST_TIMEOUT], 2000);
	assert_int_equal(o[OPT_KO_COUNT], 3);
	assert_true(b->options.set[OPT_KO_COUNT]);
	assert_int_equal(b->options.loc[OPT_KO_COUNT].line, 26);
	assert_int_equal(b->options.loc[OPT_KO_COUNT].col, 21);
	conf_free(&c);
	assert_null(c.res);
}

static void test_minimal_defaults(void **state)
{
	struct conf c;
	uint32_t o[OPT_COUNT];

	(void)state;
	parse_ok("resources:\n"
		 "  - name: r\n"
		 "    minor: 1023\n"
		 "    nodes:\n"
		 "      - name: solo\n"
		 "        node-id: 31\n"
		 "        address: 192.168.1.1:1\n", &c);
	assert_string_equal(c.cluster, "");
	assert_int_equal(c.res[0].minor, 1023);
	assert_string_equal(c.res[0].nodes[0].meta_disk, "");
	assert_int_equal(conf_max_peers(&c.res[0]), 1);	/* alone: still one slot */
	assert_false(c.res[0].has_on_io_error);
	assert_false(c.res[0].nodes[0].has_on_io_error);
	assert_int_equal(conf_on_io_error(&c.res[0], &c.res[0].nodes[0]), -1);
	assert_int_equal(c.res[0].nodes[0].node_id, 31);
	assert_string_equal(c.res[0].nodes[0].disk, "");	/* diskless */
	conf_effective_options(&c, &c.res[0], &c.res[0].nodes[0], o);
	assert_int_equal(o[OPT_PING_INTERVAL], RBLK_PING_INTERVAL_MS_DEFAULT);
	assert_int_equal(o[OPT_PING_TIMEOUT], RBLK_PING_TIMEOUT_MS_DEFAULT);
	assert_int_equal(o[OPT_CONNECT_TIMEOUT], RBLK_CONNECT_TIMEOUT_MS_DEFAULT);
	assert_int_equal(o[OPT_RECONNECT_MIN], RBLK_RECONNECT_MIN_MS_DEFAULT);
	assert_int_equal(o[OPT_RECONNECT_MAX], RBLK_RECONNECT_MAX_MS_DEFAULT);
	assert_int_equal(o[OPT_REQUEST_TIMEOUT], RBLK_REQUEST_TIMEOUT_MS_DEFAULT);
	assert_int_equal(o[OPT_KO_COUNT], RBLK_KO_COUNT_DEFAULT);
	assert_int_equal(o[OPT_REQUEST_TIMEOUT], 6000);	/* DRBD's timeout and ko-count: 42 s */
	assert_int_equal(o[OPT_KO_COUNT], 7);
	conf_free(&c);
}

static void test_option_precedence(void **state)
{
	struct conf c;
	uint32_t o[OPT_COUNT];

	(void)state;
	parse_ok("options: {ping-interval-ms: 1000, reconnect-max-ms: 20000, ko-count: 100}\n"
		 "resources:\n"
		 "  - name: r\n"
		 "    minor: 0\n"
		 "    options: {ping-interval-ms: 1500, connect-timeout-ms: 700, request-timeout-ms: 10}\n"
		 "    nodes:\n"
		 "      - name: a\n"
		 "        node-id: 0\n"
		 "        address: 10.0.0.1:7789\n"
		 "        options: {connect-timeout-ms: 900, ko-count: 1, request-timeout-ms: 600000}\n"
		 "      - name: b\n"
		 "        node-id: 1\n"
		 "        address: 10.0.0.2:7789\n", &c);
	conf_effective_options(&c, &c.res[0], &c.res[0].nodes[0], o);
	assert_int_equal(o[OPT_PING_INTERVAL], 1500);		/* resource beats global */
	assert_int_equal(o[OPT_CONNECT_TIMEOUT], 900);		/* node beats resource */
	assert_int_equal(o[OPT_RECONNECT_MAX], 20000);		/* global */
	assert_int_equal(o[OPT_PING_TIMEOUT], RBLK_PING_TIMEOUT_MS_DEFAULT);
	assert_int_equal(o[OPT_REQUEST_TIMEOUT], 600000);	/* the bounds are valid */
	assert_int_equal(o[OPT_KO_COUNT], 1);
	conf_effective_options(&c, &c.res[0], &c.res[0].nodes[1], o);
	assert_int_equal(o[OPT_CONNECT_TIMEOUT], 700);
	assert_int_equal(o[OPT_REQUEST_TIMEOUT], 10);
	assert_int_equal(o[OPT_KO_COUNT], 100);
	conf_free(&c);
}

/* on-io-error: resource level, a node's own value wins; not given: -1 (detach). */
static void test_on_io_error(void **state)
{
	struct conf c;
	const struct conf_resource *r;

	(void)state;
	parse_ok("resources:\n"
		 "  - name: r\n"
		 "    minor: 0\n"
		 "    on-io-error: pass-on\n"
		 "    nodes:\n"
		 "      - {name: a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vda}\n"
		 "      - {name: b, node-id: 1, address: 10.0.0.2:7789, disk: /dev/vda,\n"
		 "         on-io-error: detach}\n"
		 "  - name: s\n"
		 "    minor: 1\n"
		 "    nodes:\n"
		 "      - {name: a, node-id: 0, address: 10.0.0.1:7800, disk: /dev/vdb}\n"
		 "      - name: b\n"
		 "        node-id: 1\n"
		 "        address: 10.0.0.2:7800\n"
		 "        disk: /dev/vdb\n"
		 "        on-io-error: pass-on\n", &c);
	r = &c.res[0];
	assert_true(r->has_on_io_error);
	assert_int_equal(r->on_io_error, RBLK_ON_IO_ERROR_PASS_ON);
	assert_false(r->nodes[0].has_on_io_error);
	assert_int_equal(conf_on_io_error(r, &r->nodes[0]), RBLK_ON_IO_ERROR_PASS_ON);
	assert_true(r->nodes[1].has_on_io_error);
	assert_int_equal(conf_on_io_error(r, &r->nodes[1]), RBLK_ON_IO_ERROR_DETACH);
	r = &c.res[1];
	assert_false(r->has_on_io_error);
	assert_int_equal(conf_on_io_error(r, &r->nodes[0]), -1);	/* default: not sent */
	assert_int_equal(conf_on_io_error(r, &r->nodes[1]), RBLK_ON_IO_ERROR_PASS_ON);
	conf_free(&c);

	parse_ok("resources:\n"
		 "  - name: r\n"
		 "    minor: 0\n"
		 "    on-io-error: detach\n"
		 "    nodes:\n"
		 "      - {name: a, node-id: 0, address: 10.0.0.1:7789, on-io-error: pass-on}\n", &c);
	r = &c.res[0];
	assert_int_equal(conf_on_io_error(r, &r->nodes[0]), RBLK_ON_IO_ERROR_PASS_ON);
	c.res[0].nodes[0].has_on_io_error = false;	/* then the resource's counts */
	assert_int_equal(conf_on_io_error(r, &r->nodes[0]), RBLK_ON_IO_ERROR_DETACH);
	conf_free(&c);

	assert_int_equal(parse_on_io_error("detach"), RBLK_ON_IO_ERROR_DETACH);
	assert_int_equal(parse_on_io_error("pass-on"), RBLK_ON_IO_ERROR_PASS_ON);
	assert_int_equal(parse_on_io_error("pass_on"), -1);
	assert_int_equal(parse_on_io_error(""), -1);
	assert_int_equal(parse_on_io_error("invalid"), -1);
}

/*
 * quorum and on-no-quorum: in the top-level options for every resource, a
 * resource's own options win; defaults off and suspend-io.  Diskless nodes
 * (witnesses) have a vote too: a number of votes may be as high as the
 * number of nodes.
 */
static void test_quorum(void **state)
{
	const struct conf_resource *r;
	uint32_t o[OPT_COUNT];
	uint8_t on_no_quorum;
	uint32_t quorum, v;
	struct conf c;

	(void)state;
	parse_ok("options: {quorum: 3, on-no-quorum: io-error}\n"
		 "resources:\n"
		 "  - name: r0\n"
		 "    minor: 0\n"
		 "    nodes:\n"
		 "      - {name: a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vda}\n"
		 "      - {name: b, node-id: 1, address: 10.0.0.2:7789, disk: /dev/vda}\n"
		 "      - {name: w, node-id: 2, address: 10.0.0.3:7789}\n"
		 "  - name: r1\n"
		 "    minor: 1\n"
		 "    options:\n"
		 "      quorum: majority\n"
		 "      on-no-quorum: suspend-io\n"
		 "    nodes:\n"
		 "      - {name: a, node-id: 0, address: 10.0.0.1:7800, disk: /dev/vdb}\n"
		 "      - {name: b, node-id: 1, address: 10.0.0.2:7800, disk: /dev/vdb}\n"
		 "  - name: r2\n"
		 "    minor: 2\n"
		 "    options: {quorum: 'off', ping-interval-ms: 1000}\n"
		 "    nodes:\n"
		 "      - {name: a, node-id: 0, address: 10.0.0.1:7810, disk: /dev/vdc}\n", &c);
	assert_true(c.quorum.has_quorum);
	assert_int_equal(c.quorum.quorum, 3);
	assert_int_equal(c.quorum.loc_quorum.line, 1);
	assert_int_equal(c.quorum.loc_quorum.col, 19);
	assert_true(c.quorum.has_on_no_quorum);
	assert_int_equal(c.quorum.on_no_quorum, RBLK_ON_NO_QUORUM_IO_ERROR);
	r = &c.res[0];
	assert_false(r->quorum.has_quorum);
	assert_false(r->quorum.has_on_no_quorum);
	conf_effective_quorum(&c, r, &quorum, &on_no_quorum);
	assert_int_equal(quorum, 3);				/* the top level's */
	assert_int_equal(on_no_quorum, RBLK_ON_NO_QUORUM_IO_ERROR);
	r = &c.res[1];					/* two nodes: 3 would not fit */
	assert_true(r->quorum.has_quorum);
	assert_int_equal(r->quorum.loc_quorum.line, 12);
	conf_effective_quorum(&c, r, &quorum, &on_no_quorum);
	assert_true(quorum == RBLK_QUORUM_MAJORITY);		/* its own wins */
	assert_int_equal(on_no_quorum, RBLK_ON_NO_QUORUM_SUSPEND_IO);
	r = &c.res[2];
	conf_effective_quorum(&c, r, &quorum, &on_no_quorum);
	assert_int_equal(quorum, RBLK_QUORUM_OFF);
	assert_int_equal(on_no_quorum, RBLK_ON_NO_QUORUM_IO_ERROR);	/* on-no-quorum: top */
	conf_effective_options(&c, r, &r->nodes[0], o);	/* beside the peer options */
	assert_int_equal(o[OPT_PING_INTERVAL], 1000);
	conf_free(&c);

	/* nothing given: off, suspend-io */
	parse_ok("resources:\n"
		 "  - name: r\n"
		 "    minor: 0\n"
		 "    nodes:\n"
		 "      - {name: a, node-id: 0, address: 10.0.0.1:7789}\n", &c);
	assert_false(c.quorum.has_quorum);
	assert_false(c.res[0].quorum.has_quorum);
	conf_effective_quorum(&c, &c.res[0], &quorum, &on_no_quorum);
	assert_int_equal(quorum, RBLK_QUORUM_OFF);
	assert_int_equal(on_no_quorum, RBLK_ON_NO_QUORUM_SUSPEND_IO);
	conf_free(&c);

	/* 1 vote and as many votes as nodes are valid */
	parse_ok("resources:\n"
		 "  - {name: r, minor: 0, options: {quorum: 2}, nodes: [\n"
		 "     {name: a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vda},\n"
		 "     {name: w, node-id: 1, address: 10.0.0.2:7789}]}\n"
		 "  - {name: s, minor: 1, options: {quorum: 1, on-no-quorum: io-error}, nodes: [\n"
		 "     {name: a, node-id: 0, address: 10.0.0.1:7800}]}\n", &c);
	assert_int_equal(c.res[0].quorum.quorum, 2);
	assert_int_equal(c.res[1].quorum.quorum, 1);
	assert_int_equal(c.res[1].quorum.on_no_quorum, RBLK_ON_NO_QUORUM_IO_ERROR);
	conf_free(&c);

	assert_int_equal(parse_quorum_word("off", &v), 0);
	assert_int_equal(v, RBLK_QUORUM_OFF);
	assert_int_equal(parse_quorum_word("majority", &v), 0);
	assert_true(v == RBLK_QUORUM_MAJORITY);
	assert_int_equal(parse_quorum_word("2", &v), -1);	/* numbers are not words */
	assert_int_equal(parse_quorum_word("Majority", &v), -1);
	assert_int_equal(parse_on_no_quorum("suspend-io"), RBLK_ON_NO_QUORUM_SUSPEND_IO);
	assert_int_equal(parse_on_no_quorum("io-error"), RBLK_ON_NO_QUORUM_IO_ERROR);
	assert_int_equal(parse_on_no_quorum("suspend_io"), -1);
	assert_int_equal(parse_on_no_quorum(""), -1);
}

/*
 * auto-promote, fencing and fence-handler: in the top-level options for
 * every resource, each of a resource's own wins; defaults no, off and no
 * handler.  A top-level handler serves the fencing of every resource.
 */
static void test_primary_policy(void **state)
{
	const char *handler;
	uint8_t fencing;
	bool auto_promote;
	struct conf c;

	(void)state;
	parse_ok("options:\n"
		 "  auto-promote: yes\n"
		 "  fencing: resource-and-stonith\n"
		 "  fence-handler: /usr/lib/rblk/fence-peer\n"
		 "resources:\n"
		 "  - name: r0\n"
		 "    minor: 0\n"
		 "    nodes:\n"
		 "      - {name: a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vda}\n"
		 "  - name: r1\n"
		 "    minor: 1\n"
		 "    options:\n"
		 "      auto-promote: no\n"
		 "      fencing: 'off'\n"
		 "      quorum: majority\n"
		 "    nodes:\n"
		 "      - {name: a, node-id: 0, address: 10.0.0.1:7800, disk: /dev/vdb}\n"
		 "  - name: r2\n"
		 "    minor: 2\n"
		 "    options: {fencing: resource-only, fence-handler: /opt/fence}\n"
		 "    nodes:\n"
		 "      - {name: a, node-id: 0, address: 10.0.0.1:7810, disk: /dev/vdc}\n", &c);
	assert_true(c.primary.has_auto_promote && c.primary.auto_promote);
	assert_true(c.primary.has_fencing);
	assert_int_equal(c.primary.fencing, RBLK_FENCING_RESOURCE_AND_STONITH);
	assert_int_equal(c.primary.loc_fencing.line, 3);
	assert_int_equal(c.primary.loc_fencing.col, 12);
	assert_true(c.primary.has_fence_handler);
	assert_string_equal(c.primary.fence_handler, "/usr/lib/rblk/fence-peer");
	conf_effective_primary(&c, &c.res[0], &auto_promote, &fencing, &handler);
	assert_true(auto_promote);				/* the top level's */
	assert_int_equal(fencing, RBLK_FENCING_RESOURCE_AND_STONITH);
	assert_string_equal(handler, "/usr/lib/rblk/fence-peer");
	conf_effective_primary(&c, &c.res[1], &auto_promote, &fencing, &handler);
	assert_false(auto_promote);				/* its own */
	assert_int_equal(fencing, RBLK_FENCING_OFF);
	assert_string_equal(handler, "/usr/lib/rblk/fence-peer");	/* runs with off too */
	assert_false(c.res[1].primary.has_fence_handler);
	conf_effective_primary(&c, &c.res[2], &auto_promote, &fencing, &handler);
	assert_true(auto_promote);
	assert_int_equal(fencing, RBLK_FENCING_RESOURCE_ONLY);
	assert_string_equal(handler, "/opt/fence");
	conf_free(&c);

	/* nothing given: no, off, no handler; a handler alone is fine */
	parse_ok("resources:\n"
		 "  - name: r\n"
		 "    minor: 0\n"
		 "    nodes:\n"
		 "      - {name: a, node-id: 0, address: 10.0.0.1:7789}\n"
		 "  - name: s\n"
		 "    minor: 1\n"
		 "    options: {fence-handler: /sbin/fence}\n"
		 "    nodes:\n"
		 "      - {name: a, node-id: 0, address: 10.0.0.1:7800}\n", &c);
	assert_false(c.primary.has_auto_promote || c.primary.has_fencing ||
		     c.primary.has_fence_handler);
	conf_effective_primary(&c, &c.res[0], &auto_promote, &fencing, &handler);
	assert_false(auto_promote);
	assert_int_equal(fencing, RBLK_FENCING_OFF);
	assert_string_equal(handler, "");
	conf_effective_primary(&c, &c.res[1], &auto_promote, &fencing, &handler);
	assert_int_equal(fencing, RBLK_FENCING_OFF);
	assert_string_equal(handler, "/sbin/fence");
	conf_free(&c);

	/* top-level fencing, each resource with a handler of its own */
	parse_ok("options: {fencing: resource-only}\n"
		 "resources:\n"
		 "  - {name: r, minor: 0, options: {fence-handler: /a}, nodes: [\n"
		 "     {name: a, node-id: 0, address: 10.0.0.1:7789}]}\n", &c);
	conf_effective_primary(&c, &c.res[0], &auto_promote, &fencing, &handler);
	assert_int_equal(fencing, RBLK_FENCING_RESOURCE_ONLY);
	assert_string_equal(handler, "/a");
	conf_free(&c);

	/* the words of the file and of device-options */
	assert_int_equal(parse_word("off", fencing_name, __RBLK_FENCING_MAX), RBLK_FENCING_OFF);
	assert_int_equal(parse_word("resource-only", fencing_name, __RBLK_FENCING_MAX),
			 RBLK_FENCING_RESOURCE_ONLY);
	assert_int_equal(parse_word("resource-and-stonith", fencing_name, __RBLK_FENCING_MAX),
			 RBLK_FENCING_RESOURCE_AND_STONITH);
	assert_int_equal(parse_word("stonith", fencing_name, __RBLK_FENCING_MAX), -1);
	assert_int_equal(parse_word("resource_only", fencing_name, __RBLK_FENCING_MAX), -1);
	assert_int_equal(parse_word("yes", yes_no_name, 2), 1);
	assert_int_equal(parse_word("no", yes_no_name, 2), 0);
	assert_int_equal(parse_word("true", yes_no_name, 2), -1);
	assert_int_equal(parse_word("Yes", yes_no_name, 2), -1);
	{
		char w[128];

		assert_string_equal(format_words(fencing_name, __RBLK_FENCING_MAX, " or ", w,
						 sizeof(w)),
				    "off, resource-only or resource-and-stonith");
		assert_string_equal(format_words(yes_no_name, 2, ", ", w, sizeof(w)), "no, yes");
	}
}

/* fence-handler: shorter than RBLK_PATH_MAX_BYTES (256), as the kernel takes it. */
static void test_fence_handler_length(void **state)
{
	char yaml[1024], err[256], path[RBLK_PATH_MAX_BYTES + 1];
	struct conf c;

	(void)state;
	memset(path, 'h', sizeof(path) - 1);
	path[0] = '/';
	path[RBLK_PATH_MAX_BYTES - 1] = 0;	/* 255 bytes: the longest */
	snprintf(yaml, sizeof(yaml),
		 "resources:\n  - name: r0\n    minor: 0\n    options: {fence-handler: %s}\n"
		 "    nodes:\n      - {name: a, node-id: 0, address: 10.0.0.1:7789}\n", path);
	parse_ok(yaml, &c);
	assert_int_equal(strlen(c.res[0].primary.fence_handler), 255);
	conf_free(&c);
	path[RBLK_PATH_MAX_BYTES - 1] = 'h';	/* 256 bytes */
	path[RBLK_PATH_MAX_BYTES] = 0;
	snprintf(yaml, sizeof(yaml),
		 "resources:\n  - name: r0\n    minor: 0\n    options: {fence-handler: %s}\n"
		 "    nodes:\n      - {name: a, node-id: 0, address: 10.0.0.1:7789}\n", path);
	snprintf(err, sizeof(err),
		 "rblk.conf:4:30: resources[0].options.fence-handler: the path of the fence-peer handler has 256 bytes: at most 255");
	parse_bad(yaml, err);
}

static void test_ipv6_and_flow_style(void **state)
{
	struct conf c;
	const struct conf_node *n;
	struct conf_addr ep;
	char buf[64];
	uint8_t lo6[16] = { 0 };

	(void)state;
	lo6[15] = 1;
	parse_ok("resources: [{name: r6, minor: 7, nodes: [\n"
		 "  {name: a, node-id: 0, address: '[::1]:7789', disk: /dev/loop0},\n"
		 "  {name: b, node-id: 1, address: \"[::1]:7800\", disk: /dev/loop1}]}]\n", &c);
	n = &c.res[0].nodes[0];
	assert_int_equal(n->addr.family, AF_INET6);
	assert_memory_equal(n->addr.ip, lo6, 16);
	assert_int_equal(n->addr.port, 7789);
	format_addr(&c.res[0].nodes[1].addr, buf, sizeof(buf));
	assert_string_equal(buf, "[::1]:7800");
	conf_endpoint(&c.res[0].nodes[1], n, &ep);	/* b listens for a: 7800 + 0 */
	format_addr(&ep, buf, sizeof(buf));
	assert_string_equal(buf, "[::1]:7800");
	conf_endpoint(n, &c.res[0].nodes[1], &ep);	/* a's nominal local: 7789 + 1 */
	format_addr(&ep, buf, sizeof(buf));
	assert_string_equal(buf, "[::1]:7790");
	format_ip(&ep, buf, sizeof(buf));
	assert_string_equal(buf, "::1");
	conf_free(&c);
}

/* A loopback test setup: both nodes on 127.0.0.1, consecutive ports. */
static void test_loopback_pair(void **state)
{
	struct conf c;

	(void)state;
	parse_ok("resources:\n"
		 "  - name: r\n"
		 "    minor: 0\n"
		 "    nodes:\n"
		 "      - {name: a, node-id: 0, address: 127.0.0.1:7789, disk: /dev/loop0}\n"
		 "      - {name: b, node-id: 1, address: 127.0.0.1:7790, disk: /dev/loop1}\n", &c);
	conf_free(&c);
}

/*
 * Three nodes: for every pair both sides must agree: X's peer endpoint for Y
 * is Y's local endpoint for X.  The higher id listens on port + lower id.
 */
static void test_three_nodes_endpoints_agree(void **state)
{
	struct conf c;
	const struct conf_resource *r;
	unsigned int i, j;

	(void)state;
	parse_ok("resources:\n"
		 "  - name: r\n"
		 "    minor: 0\n"
		 "    nodes:\n"
		 "      - {name: a, node-id: 0, address: 10.0.0.1:7789}\n"
		 "      - {name: b, node-id: 1, address: 10.0.0.2:7789}\n"
		 "      - {name: c, node-id: 2, address: 10.0.0.3:7789}\n"
		 "  - name: s\n"
		 "    minor: 1\n"
		 "    nodes:\n"
		 "      - {name: a, node-id: 0, address: 10.0.0.1:7792}\n"
		 "      - {name: b, node-id: 1, address: 10.0.0.2:7792}\n"
		 "      - {name: c, node-id: 2, address: 10.0.0.3:7792}\n", &c);
	r = &c.res[0];
	for (i = 0; i < r->n_nodes; i++) {
		for (j = 0; j < r->n_nodes; j++) {
			struct conf_addr ep;

			if (i == j)
				continue;
			/* node i's endpoint toward node j: i's IP, i's port + j's id */
			conf_endpoint(&r->nodes[i], &r->nodes[j], &ep);
			assert_int_equal(ep.family, AF_INET);
			assert_memory_equal(ep.ip, r->nodes[i].addr.ip, 4);
			assert_int_equal(ep.port, 7789 + r->nodes[j].node_id);
		}
	}
	conf_free(&c);
}

/* Three nodes on point-to-point links (one subnet per pair): address-for. */
static const char mesh[] =
	"resources:\n"
	"  - name: r\n"
	"    minor: 0\n"
	"    nodes:\n"
	"      - name: n1\n"
	"        node-id: 0\n"
	"        address: 10.99.12.1:7789\n"
	"        address-for: {n3: 10.99.13.1:7789}\n"
	"      - name: n2\n"
	"        node-id: 1\n"
	"        address: 10.99.12.2:7789\n"
	"        address-for: {n3: 10.99.23.2:7789}\n"
	"      - name: n3\n"
	"        node-id: 2\n"
	"        address: 10.99.13.3:7789\n"
	"        address-for:\n"
	"          n2: 10.99.23.3:7789\n";

static void test_address_for(void **state)
{
	struct conf c;
	const struct conf_resource *r;
	struct conf_addr ep;
	char buf[64];

	(void)state;
	parse_ok(mesh, &c);
	r = &c.res[0];
	assert_int_equal(r->nodes[0].n_addr_for, 1);
	assert_string_equal(r->nodes[0].addr_for[0].peer, "n3");
	assert_int_equal(r->nodes[2].addr_for[0].loc.line, 17);
	/* n1 toward n2: its address; toward n3: its address-for entry */
	conf_endpoint(&r->nodes[0], &r->nodes[1], &ep);
	format_addr(&ep, buf, sizeof(buf));
	assert_string_equal(buf, "10.99.12.1:7790");
	conf_endpoint(&r->nodes[0], &r->nodes[2], &ep);
	format_addr(&ep, buf, sizeof(buf));
	assert_string_equal(buf, "10.99.13.1:7791");
	/* n3 listens for n1 on 10.99.13.3:7789, for n2 on 10.99.23.3:7790 */
	conf_endpoint(&r->nodes[2], &r->nodes[0], &ep);
	format_addr(&ep, buf, sizeof(buf));
	assert_string_equal(buf, "10.99.13.3:7789");
	conf_endpoint(&r->nodes[2], &r->nodes[1], &ep);
	format_addr(&ep, buf, sizeof(buf));
	assert_string_equal(buf, "10.99.23.3:7790");
	conf_free(&c);
}

static void test_parse_addr(void **state)
{
	struct conf_addr a;

	(void)state;
	assert_int_equal(parse_addr("10.1.2.3:80", true, &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(a.port, 80);
	assert_int_equal(parse_addr("10.1.2.3", true, &a), -1);
	assert_int_equal(parse_addr("10.1.2.3", false, &a), 0);
	assert_int_equal(a.port, 0);
	assert_int_equal(parse_addr("[fe80::1]:65535", true, &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(a.port, 65535);
	assert_int_equal(parse_addr("::1", false, &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(parse_addr("[::1]", false, &a), 0);
	assert_int_equal(parse_addr("[::1]", true, &a), -1);
	assert_int_equal(parse_addr("10.1.2.3:0", true, &a), -1);
	assert_int_equal(parse_addr("10.1.2.3:65536", true, &a), -1);
	assert_int_equal(parse_addr("10.1.2.3:-1", true, &a), -1);
	assert_int_equal(parse_addr("10.1.2.3:1x", true, &a), -1);
	assert_int_equal(parse_addr("host.example:7789", true, &a), -1);
	assert_int_equal(parse_addr("[::1]x", false, &a), -1);
	assert_int_equal(parse_addr("[::1:7789", false, &a), -1);
	assert_int_equal(parse_addr("256.0.0.1:1", true, &a), -1);
	assert_int_equal(parse_addr("", false, &a), -1);
}

/* meta-disk: internal (also the default) or an external device. */
static void test_meta_disk(void **state)
{
	static const char yaml[] =
		"resources:\n"
		"  - name: r0\n"
		"    minor: 0\n"
		"    nodes:\n"
		"      - {name: a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vda, meta-disk: internal}\n"
		"      - name: b\n"
		"        node-id: 1\n"
		"        address: 10.0.0.2:7789\n"
		"        disk: /dev/vdb\n"
		"        meta-disk: /dev/disk/by-id/nvme-meta-part1\n"
		"      - {name: c, node-id: 2, address: 10.0.0.3:7789, disk: /dev/vdc}\n"
		"      - {name: d, node-id: 3, address: 10.0.0.4:7789}\n"
		"  - name: r1\n"
		"    minor: 1\n"
		"    nodes:\n"
		"      - {name: b, node-id: 1, address: 10.0.0.2:7800, disk: /dev/vdd, meta-disk: /dev/vde}\n"
		"      - {name: c, node-id: 2, address: 10.0.0.3:7800, disk: /dev/vdd, meta-disk: /dev/vde}\n";
	const struct conf_resource *r;
	struct conf c;

	(void)state;
	parse_ok(yaml, &c);
	r = &c.res[0];
	assert_string_equal(conf_find_node(r, "a")->meta_disk, "");
	assert_int_equal(conf_find_node(r, "a")->loc_meta_disk.line, 5);
	assert_string_equal(conf_find_node(r, "b")->meta_disk, "/dev/disk/by-id/nvme-meta-part1");
	assert_int_equal(conf_find_node(r, "b")->loc_meta_disk.line, 10);
	assert_int_equal(conf_find_node(r, "b")->loc_meta_disk.col, 20);
	assert_string_equal(conf_find_node(r, "c")->meta_disk, "");	/* default */
	assert_int_equal(conf_find_node(r, "c")->loc_meta_disk.line, 0);
	assert_string_equal(conf_find_node(r, "d")->disk, "");
	assert_int_equal(conf_max_peers(r), 3);			/* four nodes */
	/* the same path on two hosts is two devices */
	assert_string_equal(c.res[1].nodes[0].meta_disk, "/dev/vde");
	assert_string_equal(c.res[1].nodes[1].meta_disk, "/dev/vde");
	assert_int_equal(conf_max_peers(&c.res[1]), 1);
	conf_free(&c);
}

static void test_load_missing_file(void **state)
{
	struct conf c;
	char err[ERRBUF_BYTES];

	(void)state;
	assert_int_equal(conf_load("/nonexistent/rblk.conf", &c, err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/rblk.conf: No such file or directory");
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/rblkadm-test-XXXXXX";
	char err[ERRBUF_BYTES];
	struct conf c;
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(example, f);
	fclose(f);
	assert_int_equal(conf_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(c.file, path);
	assert_int_equal(c.n_res, 1);
	conf_free(&c);
	unlink(path);
}

/*
 * Addresses without a port take the resource's range, 7788 + 32 * minor:
 * many resources on the same IPs without planning ports.
 */
static void test_auto_ports(void **state)
{
	static const char yaml[] =
		"resources:\n"
		"  - name: r0\n    minor: 0\n    nodes:\n"
		"      - {name: a, node-id: 0, address: 10.0.0.1}\n"
		"      - {name: b, node-id: 1, address: 10.0.0.2, address-for: {c: 10.0.1.2}}\n"
		"      - {name: c, node-id: 2, address: 10.0.1.3}\n"
		"  - name: r5\n    minor: 5\n    nodes:\n"
		"      - {name: a, node-id: 0, address: '[fd00::1]'}\n"
		"      - {name: b, node-id: 1, address: '[fd00::2]:9000'}\n";
	struct conf_addr ep;
	char err[ERRBUF_BYTES];
	struct conf c;

	(void)state;
	if (conf_parse_string("rblk.conf", yaml, strlen(yaml), &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c.res[0].nodes[0].addr.port, 7788);
	assert_int_equal(c.res[0].nodes[1].addr.port, 7788);
	assert_int_equal(c.res[0].nodes[1].addr_for[0].addr.port, 7788);
	assert_int_equal(c.res[1].nodes[0].addr.port, 7788 + 5 * 32);
	assert_int_equal(c.res[1].nodes[0].addr.family, AF_INET6);
	assert_int_equal(c.res[1].nodes[1].addr.port, 9000);
	/* c listens toward b (node id 1) on 10.0.1.3, port 7788 + 1 */
	conf_endpoint(&c.res[0].nodes[2], &c.res[0].nodes[1], &ep);
	assert_int_equal(ep.port, 7789);
	conf_free(&c);
}

static void test_auto_ports_clash(void **state)
{
	static const char yaml[] =
		"resources:\n"
		"  - name: r0\n    minor: 0\n    nodes:\n"
		"      - {name: a, node-id: 0, address: 10.0.0.1}\n"
		"      - {name: b, node-id: 1, address: 10.0.0.2}\n"
		"  - name: r1\n    minor: 1\n    nodes:\n"
		"      - {name: a, node-id: 0, address: '10.0.0.1:7788'}\n"
		"      - {name: b, node-id: 1, address: '10.0.0.2:7788'}\n";
	char err[ERRBUF_BYTES];
	struct conf c;

	(void)state;
	assert_int_equal(conf_parse_string("rblk.conf", yaml, strlen(yaml), &c, err,
					   sizeof(err)), -1);
	assert_string_equal(err, "rblk.conf:11:40: resources[1].nodes[1].address: listening address 10.0.0.2:7788 (port 7788 + peer node id 0) is also used by resources[0].nodes[1] 'b' for peer node id 0 (line 6)");
}

/* ---------------------------------------------------------------- include */

/* A resource r@i with minor @i on two nodes (ports 7000 + 10 * i). */
static void write_res(const char *path, const char *extra, unsigned int i)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "%sresources:\n  - name: r%u\n    minor: %u\n    nodes:\n"
		   "      - {name: a, node-id: 0, address: 10.0.0.1:%u}\n"
		   "      - {name: b, node-id: 1, address: 10.0.0.2:%u}\n",
		extra, i, i, 7000 + 10 * i, 7000 + 10 * i);
	fclose(f);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* @src with DIRNAME replaced by @dir's last component, then DIR by @dir. */
static void subst_dir(char *dst, size_t size, const char *src, const char *dir)
{
	size_t o = 0;

	while (*src && o < size - 64) {
		if (!strncmp(src, "DIRNAME", 7)) {
			o += snprintf(dst + o, size - o, "%s", strrchr(dir, '/') + 1);
			src += 7;
		} else if (!strncmp(src, "DIR", 3)) {
			o += snprintf(dst + o, size - o, "%s", dir);
			src += 3;
		} else {
			dst[o++] = *src++;
		}
	}
	dst[o] = 0;
}

/* Directory @dir (created) with rblk.conf (@main_text) and conf.d/. */
static void conf_dir_at(const char *dir, const char *main_text)
{
	char path[256];

	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/conf.d", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/rblk.conf", dir);
	write_text(path, main_text);
}

/* A directory with rblk.conf (@main) and conf.d/; its path in @dir. */
static void conf_dir(char *dir, const char *main_text)
{
	char path[256];

	strcpy(dir, "/tmp/rblkadm-inc-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/conf.d", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/rblk.conf", dir);
	write_text(path, main_text);
}

static void rm_conf_dir(const char *dir)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/*
 * include: patterns relative to the main file's directory, files read in
 * sorted order after the main file's resources; an empty conf.d is fine.
 */
static void test_include(void **state)
{
	char dir[64], path[256], err[ERRBUF_BYTES];
	struct conf c;

	(void)state;
	conf_dir(dir, "cluster: site\ninclude: [conf.d/*.yaml, empty.d/*.yaml]\n"
		      "resources:\n  - name: r0\n    minor: 0\n    nodes:\n"
		      "      - {name: a, node-id: 0, address: 10.0.0.1:7000}\n"
		      "      - {name: b, node-id: 1, address: 10.0.0.2:7000}\n");
	snprintf(path, sizeof(path), "%s/conf.d/20-r2.yaml", dir);
	write_res(path, "", 2);
	snprintf(path, sizeof(path), "%s/conf.d/10-r1.yaml", dir);
	write_res(path, "", 1);
	snprintf(path, sizeof(path), "%s/conf.d/README", dir);
	write_text(path, "not YAML: [\n");
	snprintf(path, sizeof(path), "%s/rblk.conf", dir);
	if (conf_load(path, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(c.cluster, "site");
	assert_int_equal(c.n_res, 3);
	assert_string_equal(c.res[0].name, "r0");
	assert_string_equal(c.res[1].name, "r1");
	assert_string_equal(c.res[2].name, "r2");
	assert_null(c.res[0].loc.file);
	snprintf(path, sizeof(path), "%s/conf.d/10-r1.yaml", dir);
	assert_string_equal(conf_loc_file(&c, c.res[1].loc), path);
	assert_int_equal(c.res[1].loc.line, 2);
	assert_int_equal(c.n_included, 2);
	conf_free(&c);

	/* the main file with include only, as a site with conf.d uses it */
	snprintf(path, sizeof(path), "%s/rblk.conf", dir);
	write_text(path, "include: conf.d/*.yaml\n");
	assert_int_equal(conf_load(path, &c, err, sizeof(err)), 0);
	assert_int_equal(c.n_res, 2);
	conf_free(&c);
	rm_conf_dir(dir);
}

/* Errors in or across included files name the file and line of each side. */
static void test_include_errors(void **state)
{
	static const struct {
		const char *main, *inc;		/* inc: conf.d/x.yaml, "" = none */
		const char *expected;		/* DIR replaced by the directory */
	} cases[] = {
		{ "include: conf.d/*.yaml\n", "",
		  "DIR/rblk.conf:1:1: (top level): no resources: neither this file nor the files it includes define one" },
		{ "include: conf.d/none.yaml\n", "",
		  "DIR/rblk.conf:1:10: include: DIR/conf.d/none.yaml: No such file or directory" },
		{ "include: {a: b}\n", "",
		  "DIR/rblk.conf:1:10: include: expected a file name or pattern, or a list of them, got a mapping" },
		{ "include: conf.d/*.yaml\n", "cluster: x\nresources: []\n",
		  "DIR/conf.d/x.yaml:1:1: cluster: only 'resources' may be given in an included file; 'cluster' belongs in the main file DIR/rblk.conf" },
		{ "include: conf.d/*.yaml\n", "include: y.yaml\n",
		  "DIR/conf.d/x.yaml:1:1: include: only 'resources' may be given in an included file; 'include' belongs in the main file DIR/rblk.conf" },
		{ "include: conf.d/*.yaml\n", "# nothing\n",
		  "DIR/conf.d/x.yaml:1:1: (top level): the file is empty: expected a mapping with 'resources'" },
		{ "include: conf.d/*.yaml\n", "resources:\n  - name: r0\n    minor: [\n",
		  "DIR/conf.d/x.yaml:4:1: did not find expected node content while parsing a flow node" },
		{ "include: conf.d/*.yaml\n", "resources:\n  - name: r0\n    minr: 1\n",
		  "DIR/conf.d/x.yaml:3:5: resources[0]: unknown key 'minr' (expected one of: name, minor, on-io-error, options, nodes, secret-file, data-digest, read-balancing)" },
		{ "include: conf.d/*.yaml\nresources:\n  - name: r0\n    minor: 0\n    nodes: [{name: a, node-id: 0, address: 10.0.0.1:7000}]\n",
		  "resources:\n  - name: r0\n    minor: 1\n    nodes: [{name: a, node-id: 0, address: 10.0.0.1:7100}]\n",
		  "DIR/conf.d/x.yaml:2:11: resources[1].name: duplicate resource name 'r0' (also resources[0] at line 3 of DIR/rblk.conf)" },
		{ "include: conf.d/*.yaml\nresources:\n  - name: r0\n    minor: 0\n    nodes: [{name: a, node-id: 0, address: 10.0.0.1:7000}]\n",
		  "resources:\n  - name: r1\n    minor: 0\n    nodes: [{name: a, node-id: 0, address: 10.0.0.1:7100}]\n",
		  "DIR/conf.d/x.yaml:3:12: resources[1].minor: minor 0 already used by resource 'r0' (line 4 of DIR/rblk.conf)" },
		{ "include: [conf.d/*.yaml, conf.d/x.yaml]\n", "resources:\n  - name: r1\n    minor: 1\n    nodes: [{name: a, node-id: 0, address: 10.0.0.1}]\n",
		  "DIR/rblk.conf:1:26: include: DIR/conf.d/x.yaml is included twice" },
		{ "include: [conf.d/*.yaml, ../DIRNAME/conf.d/x.yaml]\n", "resources:\n  - name: r1\n    minor: 1\n    nodes: [{name: a, node-id: 0, address: 10.0.0.1}]\n",
		  "DIR/rblk.conf:1:26: include: DIR/../DIRNAME/conf.d/x.yaml is DIR/conf.d/x.yaml, already read" },
		{ "include: ['*.conf']\n", "",
		  "DIR/rblk.conf:1:11: include: DIR/rblk.conf is the main file itself" },
		{ "include: ['']\n", "",
		  "DIR/rblk.conf:1:11: include: expected a file name or pattern, got ''" },
		{ "include: '*'\n", "",
		  "DIR/rblk.conf:1:10: include: DIR/conf.d: not a regular file" },
		{ "include: conf.d/*.yaml\n", "resources:\n  - name: r1\n    minor: 780\n    nodes: [{name: a, node-id: 0, address: 10.0.0.1}]\n",
		  "DIR/conf.d/x.yaml:4:44: resources[0].nodes[0].address: no port, and automatic ports end at minor 779 (the ports from 32768 are the kernel's ephemeral ones): give the addresses of minor 780 a port" },
		{ "options: {quorum: 3}\ninclude: conf.d/*.yaml\n", "resources:\n  - name: r1\n    minor: 1\n    nodes: [{name: a, node-id: 0, address: 10.0.0.1:7100}]\n",
		  "DIR/rblk.conf:1:19: options.quorum: 3 votes exceed the number of nodes of resources[0] 'r1' at line 2 of DIR/conf.d/x.yaml (1); give that resource its own quorum (off, majority or 1..1)" },
	};
	char dir[64], path[256], err[ERRBUF_BYTES], expected[1024], main_text[1024];
	unsigned int i;
	struct conf c;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strcpy(dir, "/tmp/rblkadm-inc-XXXXXX");
		assert_non_null(mkdtemp(dir));
		subst_dir(main_text, sizeof(main_text), cases[i].main, dir);
		rmdir(dir);
		conf_dir_at(dir, main_text);
		if (cases[i].inc[0]) {
			snprintf(path, sizeof(path), "%s/conf.d/x.yaml", dir);
			write_text(path, cases[i].inc);
		}
		subst_dir(expected, sizeof(expected), cases[i].expected, dir);
		snprintf(path, sizeof(path), "%s/rblk.conf", dir);
		if (!conf_load(path, &c, err, sizeof(err)))
			fail_msg("case %u: accepted", i);
		if (strcmp(err, expected))
			fail_msg("case %u:\n got      %s\n expected %s", i, err, expected);
		rm_conf_dir(dir);
	}
}

/* --------------------------------------------------------------- bad files */

struct bad {
	const char *yaml;
	const char *expected;
};

#define HEAD "resources:\n  - name: r0\n    minor: 0\n    nodes:\n"
#define NODE_A "      - name: node-a\n        node-id: 0\n        address: 10.0.0.1:7789\n"
#define NODE_B "      - name: node-b\n        node-id: 1\n        address: 10.0.0.2:7789\n"
/* a resource with the flow-style options @o; their values start at column 23 */
#define RES_OPTS(o) "resources:\n  - name: r0\n    minor: 0\n    options: {" o "}\n    nodes:\n"
#define PEER_OPTS "ping-interval-ms, ping-timeout-ms, connect-timeout-ms, reconnect-min-ms, " \
	"reconnect-max-ms, request-timeout-ms, ko-count, resync-rate-kib-per-s, resync-latency-ms"

static const struct bad bad_files[] = {
	/* 0 */ { HEAD NODE_A
	  "      - name: node-b\n"
	  "        node-id: x\n"
	  "        address: 10.0.0.2:7789\n",
	  "rblk.conf:9:18: resources[0].nodes[1].node-id: expected an integer 0..31, got 'x'" },
	{ HEAD NODE_A
	  "      - name: node-b\n"
	  "        node-id: 32\n"
	  "        address: 10.0.0.2:7789\n",
	  "rblk.conf:9:18: resources[0].nodes[1].node-id: expected an integer 0..31, got '32'" },
	{ "resources:\n  - name: r0\n    minor: 1024\n    nodes:\n" NODE_A,
	  "rblk.conf:3:12: resources[0].minor: expected an integer 0..1023, got '1024'" },
	{ "resources:\n  - name: r0\n    minor: -1\n    nodes:\n" NODE_A,
	  "rblk.conf:3:12: resources[0].minor: expected an integer 0..1023, got '-1'" },
	{ "resources:\n  - name: r0\n    minor: [0]\n    nodes:\n" NODE_A,
	  "rblk.conf:3:12: resources[0].minor: expected an integer 0..1023, got a list" },
	/* 5 */ { "clustr: x\n" HEAD NODE_A,
	  "rblk.conf:1:1: (top level): unknown key 'clustr' (expected one of: cluster, options, resources, include)" },
	{ "resources:\n  - name: r0\n    minr: 0\n    nodes:\n" NODE_A,
	  "rblk.conf:3:5: resources[0]: unknown key 'minr' (expected one of: name, minor, on-io-error, options, nodes, secret-file, data-digest, read-balancing)" },
	{ HEAD NODE_A "        port: 7789\n",
	  "rblk.conf:8:9: resources[0].nodes[0]: unknown key 'port' (expected one of: name, node-id, address, address-for, disk, meta-disk, on-io-error, options)" },
	{ "options:\n  ping-intervall-ms: 5\n" HEAD NODE_A,
	  "rblk.conf:2:3: options: unknown key 'ping-intervall-ms' (expected one of: ping-interval-ms, ping-timeout-ms, connect-timeout-ms, reconnect-min-ms, reconnect-max-ms, request-timeout-ms, ko-count, resync-rate-kib-per-s, resync-latency-ms, quorum, on-no-quorum, auto-promote, fencing, fence-handler)" },
	{ HEAD NODE_A "        node-id: 3\n",
	  "rblk.conf:8:9: resources[0].nodes[0].node-id: duplicate key (first at line 6)" },
	/* 10 */ { "cluster: c\n",
	  "rblk.conf:1:1: (top level): missing required key 'resources'" },
	{ "resources:\n  - name: r0\n    nodes:\n" NODE_A,
	  "rblk.conf:2:5: resources[0]: missing required key 'minor'" },
	{ HEAD "      - name: node-a\n        address: 10.0.0.1:7789\n",
	  "rblk.conf:5:9: resources[0].nodes[0]: missing required key 'node-id'" },
	{ HEAD "      - name: node-a\n        node-id: 0\n",
	  "rblk.conf:5:9: resources[0].nodes[0]: missing required key 'address'" },
	{ "resources:\n  name: r0\n",
	  "rblk.conf:2:3: resources: expected a list of resources, got a mapping" },
	/* 15 */ { "resources: []\n",
	  "rblk.conf:1:12: resources: expected at least one resource" },
	{ "resources:\n  - name: r0\n    minor: 0\n    nodes: []\n",
	  "rblk.conf:4:12: resources[0].nodes: expected at least one node" },
	{ HEAD "      - name: node-a\n        node-id: 0\n        address: 10.0.0.1:x\n",
	  "rblk.conf:7:18: resources[0].nodes[0].address: expected an address IPv4[:PORT] or [IPv6][:PORT] with port 1..65535, got '10.0.0.1:x'" },
	{ HEAD "      - name: node-a\n        node-id: 0\n        address: 10.0.0.1:0\n",
	  "rblk.conf:7:18: resources[0].nodes[0].address: expected an address IPv4[:PORT] or [IPv6][:PORT] with port 1..65535, got '10.0.0.1:0'" },
	{ HEAD "      - name: node-a\n        node-id: 0\n        address: storage-a:7789\n",
	  "rblk.conf:7:18: resources[0].nodes[0].address: expected an address IPv4[:PORT] or [IPv6][:PORT] with port 1..65535, got 'storage-a:7789'" },
	/* 20 */ { HEAD "      - name: node-a\n        node-id: 0\n        address: ::1:7789\n",
	  "rblk.conf:7:18: resources[0].nodes[0].address: expected an IPv6 address in brackets, [IPv6] or [IPv6]:PORT, got '::1:7789'" },
	{ HEAD NODE_A
	  "      - name: node-b\n"
	  "        node-id: 1\n"
	  "        address: '[fd00::2]:7789'\n",
	  "rblk.conf:10:18: resources[0].nodes[1].address: IPv6 address, but nodes[0] 'node-a' uses IPv4 (line 7); all nodes of a resource must use the same address family" },
	{ HEAD NODE_A NODE_B
	  "  - name: r0\n    minor: 1\n    nodes:\n"
	  "      - {name: node-a, node-id: 0, address: 10.0.0.1:7800}\n",
	  "rblk.conf:11:11: resources[1].name: duplicate resource name 'r0' (also resources[0] at line 2)" },
	{ HEAD NODE_A NODE_B
	  "  - name: r1\n    minor: 0\n    nodes:\n"
	  "      - {name: node-a, node-id: 0, address: 10.0.0.1:7800}\n",
	  "rblk.conf:12:12: resources[1].minor: minor 0 already used by resource 'r0' (line 3)" },
	{ HEAD NODE_A
	  "      - name: node-b\n"
	  "        node-id: 0\n"
	  "        address: 10.0.0.2:7789\n",
	  "rblk.conf:9:18: resources[0].nodes[1].node-id: duplicate node id 0 (also nodes[0] 'node-a' at line 6)" },
	/* 25 */ { HEAD NODE_A
	  "      - name: node-a\n"
	  "        node-id: 1\n"
	  "        address: 10.0.0.2:7789\n",
	  "rblk.conf:8:15: resources[0].nodes[1].name: duplicate node name 'node-a' (also nodes[0] at line 5)" },
	{ HEAD NODE_A
	  "      - name: node-b\n"
	  "        node-id: 1\n"
	  "        address: 10.0.0.1:7789\n",
	  "rblk.conf:10:18: resources[0].nodes[1].address: duplicate address 10.0.0.1:7789 (also nodes[0] 'node-a' at line 7)" },
	{ HEAD NODE_A NODE_B
	  "  - name: r1\n    minor: 1\n    nodes:\n"
	  "      - {name: node-a, node-id: 1, address: 10.0.0.1:7789}\n"
	  "      - {name: node-b, node-id: 2, address: 10.0.0.2:7788}\n",
	  "rblk.conf:15:45: resources[1].nodes[1].address: listening address 10.0.0.2:7789 (port 7788 + peer node id 1) is also used by resources[0].nodes[1] 'node-b' for peer node id 0 (line 10)" },
	{ HEAD "      - name: node-a\n        node-id: 0\n        address: 10.0.0.1:65535\n"
	  "      - {name: node-b, node-id: 1, address: 10.0.0.2:7789}\n",
	  "rblk.conf:7:18: resources[0].nodes[0].address: port 65535 + peer node id 1 exceeds 65535" },
	{ "resources:\n  - name: r0\n    minor: 0\n    assume-clean: true\n    nodes:\n" NODE_A,
	  "rblk.conf:4:5: resources[0].assume-clean: " ASSUME_CLEAN_GONE },
	/* 30 */ { HEAD NODE_A "        disk: vda\n",
	  "rblk.conf:8:15: resources[0].nodes[0].disk: expected an absolute device path shorter than 256 bytes, got 'vda'" },
	{ "resources:\n  - name: vm disk\n    minor: 0\n    nodes:\n" NODE_A,
	  "rblk.conf:2:11: resources[0].name: expected a name of 1..63 characters from A-Z a-z 0-9 . _ - (not starting with . or -), got 'vm disk'" },
	{ "resources:\n  - name: a123456789b123456789c123456789d123456789e123456789f123456789g123\n    minor: 0\n    nodes:\n" NODE_A,
	  "rblk.conf:2:11: resources[0].name: expected a name of 1..63 characters from A-Z a-z 0-9 . _ - (not starting with . or -), got 'a123456789b123456789c123456789d123456789e123456789f123456789g123'" },
	{ "cluster:\n" HEAD NODE_A,
	  "rblk.conf:1:9: cluster: expected a name of 1..63 characters from A-Z a-z 0-9 . _ - (not starting with . or -), got ''" },
	{ "options:\n  ping-timeout-ms: 5\n" HEAD NODE_A,
	  "rblk.conf:2:20: options.ping-timeout-ms: expected milliseconds 10..600000, got '5'" },
	/* 35 */ { "options:\n  reconnect-min-ms: 20000\n" HEAD NODE_A,
	  "rblk.conf:2:21: resources[0].nodes[0]: reconnect-min-ms (20000) must not exceed reconnect-max-ms (10000)" },
	{ HEAD NODE_A "        options:\n          ping-interval-ms: 9000\n",
	  "rblk.conf:9:29: resources[0].nodes[0]: ping-timeout-ms (5000) must be greater than ping-interval-ms (9000)" },
	{ "options: {ping-interval-ms: 3000, ping-timeout-ms: 3000}\n" HEAD NODE_A,
	  "rblk.conf:1:52: resources[0].nodes[0]: ping-timeout-ms (3000) must be greater than ping-interval-ms (3000)" },
	{ HEAD "      - name: node-a\n        node-id: 0\n        address: 0.0.0.0:7789\n",
	  "rblk.conf:7:18: resources[0].nodes[0].address: expected a unicast address (not unspecified, multicast or broadcast), got '0.0.0.0:7789'" },
	{ HEAD "      - name: node-a\n        node-id: 0\n        address: 239.1.1.1:7789\n",
	  "rblk.conf:7:18: resources[0].nodes[0].address: expected a unicast address (not unspecified, multicast or broadcast), got '239.1.1.1:7789'" },
	{ HEAD "      - name: node-a\n        node-id: 0\n        address: '[::]:7789'\n",
	  "rblk.conf:7:18: resources[0].nodes[0].address: expected a unicast address (not unspecified, multicast or broadcast), got '[::]:7789'" },
	{ HEAD "      - name: node-a\n        node-id: 0\n        address: '[ff02::1]:7789'\n",
	  "rblk.conf:7:18: resources[0].nodes[0].address: expected a unicast address (not unspecified, multicast or broadcast), got '[ff02::1]:7789'" },
	{ "resources: [\n",
	  "rblk.conf:2:1: did not find expected node content while parsing a flow node" },
	{ "resources:\n  - name: r0\n   minor: 0\n",
	  "rblk.conf:3:4: did not find expected '-' indicator while parsing a block collection" },
	{ "",
	  "rblk.conf:1:1: the file is empty: expected a mapping with 'resources'" },
	/* 40 */ { "- name: r0\n",
	  "rblk.conf:1:1: (top level): expected a mapping, got a list" },
	{ HEAD "      - node-a\n",
	  "rblk.conf:5:9: resources[0].nodes[0]: expected a mapping, got a scalar" },
	{ HEAD "      - name: node-a\n        node-id: 0\n        address: [10.0.0.1, 7789]\n",
	  "rblk.conf:7:18: resources[0].nodes[0].address: expected an address IPv4[:PORT] or [IPv6][:PORT], got a list" },
	{ "options: 5\n" HEAD NODE_A,
	  "rblk.conf:1:10: options: expected a mapping, got a scalar" },
	{ HEAD NODE_A "        address-for:\n          node-x: 10.0.1.1:7789\n" NODE_B,
	  "rblk.conf:9:11: resources[0].nodes[0].address-for.node-x: no node 'node-x' in this resource" },
	{ HEAD NODE_A "        address-for:\n          node-a: 10.0.1.1:7789\n" NODE_B,
	  "rblk.conf:9:11: resources[0].nodes[0].address-for.node-a: expected the name of a peer, got this node itself" },
	{ HEAD NODE_A "        address-for:\n          node-b: '[fd00::1]:7789'\n" NODE_B,
	  "rblk.conf:9:19: resources[0].nodes[0].address-for.node-b: IPv6 address, but this node's address uses IPv4 (line 7); all nodes of a resource must use the same address family" },
	{ HEAD NODE_A "        address-for:\n          node-b: 10.0.1.1:7789\n          node-b: 10.0.2.1:7789\n" NODE_B,
	  "rblk.conf:10:11: resources[0].nodes[0].address-for.node-b: duplicate key (first at line 9)" },
	{ HEAD NODE_A "        address-for: [10.0.1.1:7789]\n" NODE_B,
	  "rblk.conf:8:22: resources[0].nodes[0].address-for: expected a mapping from peer node names to addresses, got a list" },
	{ HEAD NODE_A "        address-for:\n          node-b: 10.0.1.1:70000\n" NODE_B,
	  "rblk.conf:9:19: resources[0].nodes[0].address-for.node-b: expected an address IPv4[:PORT] or [IPv6][:PORT] with port 1..65535, got '10.0.1.1:70000'" },
	{ HEAD NODE_A "        address-for: {node-b: '10.0.0.1:65535'}\n" NODE_B,
	  "rblk.conf:8:31: resources[0].nodes[0].address-for: port 65535 + peer node id 1 exceeds 65535" },
	{ HEAD NODE_A NODE_B
	  "  - name: r1\n    minor: 1\n    nodes:\n"
	  "      - {name: node-a, node-id: 0, address: 10.0.0.1:7800}\n"
	  "      - {name: node-b, node-id: 1, address: 10.0.0.2:7800, address-for: {node-a: 10.0.0.2:7789}}\n",
	  "rblk.conf:15:82: resources[1].nodes[1].address-for: listening address 10.0.0.2:7789 (port 7789 + peer node id 0) is also used by resources[0].nodes[1] 'node-b' for peer node id 0 (line 10)" },
	{ HEAD "      - name: -a\n        node-id: 0\n        address: 10.0.0.1:7789\n",
	  "rblk.conf:5:15: resources[0].nodes[0].name: expected a name of 1..63 characters from A-Z a-z 0-9 . _ - (not starting with . or -), got '-a'" },
	{ "options:\n  request-timeout-ms: 9\n" HEAD NODE_A,
	  "rblk.conf:2:23: options.request-timeout-ms: expected milliseconds 10..600000, got '9'" },
	{ "resources:\n  - name: r0\n    minor: 0\n    options: {request-timeout-ms: 600001}\n    nodes:\n" NODE_A,
	  "rblk.conf:4:35: resources[0].options.request-timeout-ms: expected milliseconds 10..600000, got '600001'" },
	{ HEAD NODE_A "        options:\n          ko-count: 0\n",
	  "rblk.conf:9:21: resources[0].nodes[0].options.ko-count: expected a count 1..100, got '0'" },
	{ "options:\n  ko-count: 101\n" HEAD NODE_A,
	  "rblk.conf:2:13: options.ko-count: expected a count 1..100, got '101'" },
	{ "options:\n  ko-count: 7s\n" HEAD NODE_A,
	  "rblk.conf:2:13: options.ko-count: expected a count 1..100, got '7s'" },
	{ "options: {ko-count: [7]}\n" HEAD NODE_A,
	  "rblk.conf:1:21: options.ko-count: expected a count 1..100, got a list" },
	{ "resources:\n  - name: r0\n    minor: 0\n    on-io-error: passon\n    nodes:\n" NODE_A,
	  "rblk.conf:4:18: resources[0].on-io-error: expected detach or pass-on, got 'passon'" },
	{ HEAD NODE_A "        on-io-error: Detach\n",
	  "rblk.conf:8:22: resources[0].nodes[0].on-io-error: expected detach or pass-on, got 'Detach'" },
	{ HEAD NODE_A "        on-io-error: [detach]\n",
	  "rblk.conf:8:22: resources[0].nodes[0].on-io-error: expected detach or pass-on, got a list" },
	{ "on-io-error: pass-on\n" HEAD NODE_A,
	  "rblk.conf:1:1: (top level): unknown key 'on-io-error' (expected one of: cluster, options, resources, include)" },
	{ "options: {on-io-error: pass-on}\n" HEAD NODE_A,
	  "rblk.conf:1:11: options: unknown key 'on-io-error' (expected one of: ping-interval-ms, ping-timeout-ms, connect-timeout-ms, reconnect-min-ms, reconnect-max-ms, request-timeout-ms, ko-count, resync-rate-kib-per-s, resync-latency-ms, quorum, on-no-quorum, auto-promote, fencing, fence-handler)" },
	/* quorum: off, majority or 1..32 votes, at most the nodes of the resource */
	{ RES_OPTS("quorum: most") NODE_A,
	  "rblk.conf:4:23: resources[0].options.quorum: expected off, majority or a number of votes 1..32, got 'most'" },
	{ RES_OPTS("quorum: Majority") NODE_A,
	  "rblk.conf:4:23: resources[0].options.quorum: expected off, majority or a number of votes 1..32, got 'Majority'" },
	{ RES_OPTS("quorum: 0") NODE_A,
	  "rblk.conf:4:23: resources[0].options.quorum: expected off, majority or a number of votes 1..32, got '0'" },
	{ "options: {quorum: 33}\n" HEAD NODE_A,
	  "rblk.conf:1:19: options.quorum: expected off, majority or a number of votes 1..32, got '33'" },
	{ RES_OPTS("quorum: -1") NODE_A,
	  "rblk.conf:4:23: resources[0].options.quorum: expected off, majority or a number of votes 1..32, got '-1'" },
	{ RES_OPTS("quorum: 2x") NODE_A,
	  "rblk.conf:4:23: resources[0].options.quorum: expected off, majority or a number of votes 1..32, got '2x'" },
	{ "options: {quorum: [2]}\n" HEAD NODE_A,
	  "rblk.conf:1:19: options.quorum: expected off, majority or a number of votes 1..32, got a list" },
	{ RES_OPTS("quorum: 3") NODE_A NODE_B,
	  "rblk.conf:4:23: resources[0].options.quorum: 3 votes exceed the number of nodes of resource 'r0' (2): expected off, majority or 1..2" },
	{ "options: {quorum: 2}\n" HEAD NODE_A NODE_B
	  "  - name: r1\n    minor: 1\n    nodes:\n"
	  "      - {name: node-a, node-id: 0, address: 10.0.0.1:7800}\n",
	  "rblk.conf:1:19: options.quorum: 2 votes exceed the number of nodes of resources[1] 'r1' at line 12 (1); give that resource its own quorum (off, majority or 1..1)" },
	{ "options:\n  quorum: off\n  quorum: majority\n" HEAD NODE_A,
	  "rblk.conf:3:3: options.quorum: duplicate key (first at line 2)" },
	/* per resource: not a node's option, not a key of its own */
	{ HEAD NODE_A "        options: {quorum: majority}\n",
	  "rblk.conf:8:19: resources[0].nodes[0].options: unknown key 'quorum' (expected one of: " PEER_OPTS ")" },
	{ "resources:\n  - name: r0\n    minor: 0\n    quorum: majority\n    nodes:\n" NODE_A,
	  "rblk.conf:4:5: resources[0]: unknown key 'quorum' (expected one of: name, minor, on-io-error, options, nodes, secret-file, data-digest, read-balancing)" },
	{ "quorum: majority\n" HEAD NODE_A,
	  "rblk.conf:1:1: (top level): unknown key 'quorum' (expected one of: cluster, options, resources, include)" },
	/* on-no-quorum: suspend-io or io-error */
	{ RES_OPTS("on-no-quorum: freeze") NODE_A,
	  "rblk.conf:4:29: resources[0].options.on-no-quorum: expected suspend-io or io-error, got 'freeze'" },
	{ "options: {on-no-quorum: suspend_io}\n" HEAD NODE_A,
	  "rblk.conf:1:25: options.on-no-quorum: expected suspend-io or io-error, got 'suspend_io'" },
	{ "options:\n  on-no-quorum: {io-error: true}\n" HEAD NODE_A,
	  "rblk.conf:2:17: options.on-no-quorum: expected suspend-io or io-error, got a mapping" },
	{ HEAD NODE_A "        options:\n          on-no-quorum: io-error\n",
	  "rblk.conf:9:11: resources[0].nodes[0].options: unknown key 'on-no-quorum' (expected one of: " PEER_OPTS ")" },
	/* auto-promote: yes or no */
	{ RES_OPTS("auto-promote: true") NODE_A,
	  "rblk.conf:4:29: resources[0].options.auto-promote: expected no or yes, got 'true'" },
	{ "options: {auto-promote: [yes]}\n" HEAD NODE_A,
	  "rblk.conf:1:25: options.auto-promote: expected no or yes, got a list" },
	/* fencing: a word; other than off only with a handler */
	{ RES_OPTS("fencing: stonith") NODE_A,
	  "rblk.conf:4:24: resources[0].options.fencing: expected off, resource-only or resource-and-stonith, got 'stonith'" },
	{ RES_OPTS("fencing: resource-only") NODE_A,
	  "rblk.conf:4:24: resources[0].options.fencing: fencing resource-only needs a fence-handler (the program run to fence a lost peer): add fence-handler: /absolute/path, or fencing: off" },
	{ "options: {fencing: resource-and-stonith}\n" HEAD NODE_A,
	  "rblk.conf:1:20: options.fencing: fencing resource-and-stonith needs a fence-handler (the program run to fence a lost peer), and resources[0] 'r0' at line 3 has none: add fence-handler: /absolute/path to the same options, or fencing: off" },
	{ "options: {fencing: resource-only}\n" HEAD
	  "      - {name: node-a, node-id: 0, address: 10.0.0.1:7789}\n"
	  "    options: {fence-handler: /sbin/fence}\n"
	  "  - name: r1\n    minor: 1\n    nodes:\n"
	  "      - {name: node-a, node-id: 0, address: 10.0.0.1:7800}\n",
	  "rblk.conf:1:20: options.fencing: fencing resource-only needs a fence-handler (the program run to fence a lost peer), and resources[1] 'r1' at line 8 has none: add fence-handler: /absolute/path to the same options, or fencing: off" },
	/* fence-handler: an absolute path */
	{ RES_OPTS("fence-handler: fence-peer.sh") NODE_A,
	  "rblk.conf:4:30: resources[0].options.fence-handler: expected an absolute path of the fence-peer handler (starting with /), got 'fence-peer.sh'" },
	{ RES_OPTS("fencing: resource-only, fence-handler: ./fence") NODE_A,
	  "rblk.conf:4:54: resources[0].options.fence-handler: expected an absolute path of the fence-peer handler (starting with /), got './fence'" },
	{ RES_OPTS("fence-handler: ''") NODE_A,
	  "rblk.conf:4:30: resources[0].options.fence-handler: expected an absolute path of the fence-peer handler (starting with /), got ''" },
	{ "options: {fence-handler: [/sbin/fence]}\n" HEAD NODE_A,
	  "rblk.conf:1:26: options.fence-handler: expected an absolute path of the fence-peer handler, got a list" },
	/* per resource: not a node's option, not a key of its own */
	{ HEAD NODE_A "        options: {fencing: resource-only}\n",
	  "rblk.conf:8:19: resources[0].nodes[0].options: unknown key 'fencing' (expected one of: " PEER_OPTS ")" },
	{ "resources:\n  - name: r0\n    minor: 0\n    auto-promote: yes\n    nodes:\n" NODE_A,
	  "rblk.conf:4:5: resources[0]: unknown key 'auto-promote' (expected one of: name, minor, on-io-error, options, nodes, secret-file, data-digest, read-balancing)" },
	/* assume-clean is gone, whatever its value, wherever in the resource */
	{ "resources:\n  - name: r0\n    minor: 0\n    nodes:\n" NODE_A "    assume-clean: false\n",
	  "rblk.conf:8:5: resources[0].assume-clean: " ASSUME_CLEAN_GONE },
	{ "resources:\n  - {name: r0, minor: 0, assume-clean: yes, nodes: [{name: a, node-id: 0, address: 10.0.0.1:7789}]}\n",
	  "rblk.conf:2:26: resources[0].assume-clean: " ASSUME_CLEAN_GONE },
	{ HEAD NODE_A "        assume-clean: true\n",
	  "rblk.conf:8:9: resources[0].nodes[0]: unknown key 'assume-clean' (expected one of: name, node-id, address, address-for, disk, meta-disk, on-io-error, options)" },
	/* meta-disk: internal or an absolute path, only with a disk */
	{ HEAD NODE_A "        disk: /dev/vda\n        meta-disk: external\n",
	  "rblk.conf:9:20: resources[0].nodes[0].meta-disk: expected internal or an absolute device path shorter than 256 bytes, got 'external'" },
	{ HEAD NODE_A "        disk: /dev/vda\n        meta-disk: Internal\n",
	  "rblk.conf:9:20: resources[0].nodes[0].meta-disk: expected internal or an absolute device path shorter than 256 bytes, got 'Internal'" },
	{ HEAD NODE_A "        disk: /dev/vda\n        meta-disk: vdm\n",
	  "rblk.conf:9:20: resources[0].nodes[0].meta-disk: expected internal or an absolute device path shorter than 256 bytes, got 'vdm'" },
	{ HEAD NODE_A "        disk: /dev/vda\n        meta-disk: ''\n",
	  "rblk.conf:9:20: resources[0].nodes[0].meta-disk: expected internal or an absolute device path shorter than 256 bytes, got ''" },
	{ HEAD NODE_A "        disk: /dev/vda\n        meta-disk: [/dev/vdm]\n",
	  "rblk.conf:9:20: resources[0].nodes[0].meta-disk: expected internal or an absolute device path, got a list" },
	{ HEAD NODE_A "        disk: /dev/vda\n        meta-disk: /dev/vdm\n        meta-disk: internal\n",
	  "rblk.conf:10:9: resources[0].nodes[0].meta-disk: duplicate key (first at line 9)" },
	{ HEAD NODE_A "        meta-disk: /dev/vdm\n",
	  "rblk.conf:8:20: resources[0].nodes[0].meta-disk: a node without 'disk' has no metadata: remove meta-disk or add disk" },
	{ HEAD NODE_A "        meta-disk: internal\n",
	  "rblk.conf:8:20: resources[0].nodes[0].meta-disk: a node without 'disk' has no metadata: remove meta-disk or add disk" },
	{ HEAD NODE_A "        disk: /dev/vda\n        meta-disk: /dev/vda\n",
	  "rblk.conf:9:20: resources[0].nodes[0].meta-disk: meta-disk /dev/vda is this node's disk (line 8); for metadata at the end of the disk use internal" },
	{ HEAD "      - {name: node-a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vda, meta-disk: /dev/vdm}\n"
	  "  - name: r1\n    minor: 1\n    nodes:\n"
	  "      - {name: node-b, node-id: 1, address: 10.0.0.2:7800, disk: /dev/vdb, meta-disk: /dev/vdm}\n"
	  "      - {name: node-a, node-id: 0, address: 10.0.0.1:7800, disk: /dev/vdc, meta-disk: /dev/vdm}\n",
	  "rblk.conf:10:87: resources[1].nodes[1].meta-disk: meta-disk /dev/vdm is also the meta-disk of node 'node-a' in resources[0] 'r0' (line 5); an external meta-disk holds the metadata of one resource only" },
	{ HEAD "      - {name: node-a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vda}\n"
	  "  - name: r1\n    minor: 1\n    nodes:\n"
	  "      - {name: node-a, node-id: 0, address: 10.0.0.1:7800, disk: /dev/vdc, meta-disk: /dev/vda}\n",
	  "rblk.conf:9:87: resources[1].nodes[0].meta-disk: meta-disk /dev/vda is also the disk of node 'node-a' in resources[0] 'r0' (line 5)" },
	{ HEAD "      - {name: node-a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vda, meta-disk: /dev/vdc}\n"
	  "  - name: r1\n    minor: 1\n    nodes:\n"
	  "      - {name: node-a, node-id: 0, address: 10.0.0.1:7800, disk: /dev/vdc}\n",
	  "rblk.conf:5:87: resources[0].nodes[0].meta-disk: meta-disk /dev/vdc is also the disk of node 'node-a' in resources[1] 'r1' (line 9)" },
};

/* One cmocka test per bad file; the prestate is its entry in bad_files[]. */
static void test_bad_file(void **state)
{
	const struct bad *b = *state;
	char err[ERRBUF_BYTES];
	struct conf c;
	int r = conf_parse_string("rblk.conf", b->yaml, strlen(b->yaml), &c, err, sizeof(err));

	if (r == 0) {
		conf_free(&c);
		fail_msg("accepted, expected '%s'", b->expected);
	}
	assert_string_equal(err, b->expected);
	assert_null(c.res);
}

static void test_too_many_nodes(void **state)
{
	char yaml[8192];
	size_t off;
	unsigned int i;

	(void)state;
	off = (size_t)snprintf(yaml, sizeof(yaml), "resources:\n  - name: r\n    minor: 0\n    nodes:\n");
	for (i = 0; i < 33; i++)
		off += (size_t)snprintf(yaml + off, sizeof(yaml) - off,
					"      - {name: n%u, node-id: %u, address: 10.0.0.%u:7789}\n",
					i, i, i + 1);
	parse_bad(yaml, "rblk.conf:37:9: resources[0].nodes[32]: too many nodes (at most 32)");
	/* 32 nodes are fine */
	yaml[off - strlen("      - {name: n32, node-id: 32, address: 10.0.0.33:7789}\n")] = 0;
	{
		struct conf c;

		parse_ok(yaml, &c);
		assert_int_equal(c.res[0].n_nodes, 32);
		conf_free(&c);
	}
}

/* A secret file made by the tests: @len bytes of @c, then @tail, mode @mode. */
static void make_secret(const char *path, char c, size_t len, const char *tail, mode_t mode)
{
	char buf[512];
	FILE *f;

	assert_true(len < sizeof(buf));
	memset(buf, c, len);
	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fputs(tail, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void expect_secret_bad(const char *path, const char *why)
{
	uint8_t out[RBLK_AUTH_SECRET_MAX_BYTES];
	char err[512], want[512];

	memset(err, 0, sizeof(err));
	assert_int_equal(conf_read_secret(path, out, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "secret file %s: %s", path, why);
	assert_string_equal(err, want);
	/* the message never carries the secret's bytes */
	assert_null(strstr(err, "ssssssss"));
}

/*
 * secret-file: owner-only regular file of 16..128 bytes (one trailing
 * newline dropped); anything else is refused with a reason.
 */
static void test_secret_file(void **state)
{
	char dir[] = "/tmp/rblk-secret-XXXXXX", path[256], msg[256];
	uint8_t out[RBLK_AUTH_SECRET_MAX_BYTES];
	char err[512];
	int len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r0.secret", dir);

	make_secret(path, 's', 32, "", 0600);
	len = conf_read_secret(path, out, err, sizeof(err));
	assert_int_equal(len, 32);
	assert_memory_equal(out, "ssssssssssssssssssssssssssssssss", 32);
	/* one trailing newline, \n or \r\n, is not part of it */
	make_secret(path, 's', 44, "\n", 0400);
	assert_int_equal(conf_read_secret(path, out, err, sizeof(err)), 44);
	make_secret(path, 's', 44, "\r\n", 0600);
	assert_int_equal(conf_read_secret(path, out, err, sizeof(err)), 44);
	/* the bounds */
	make_secret(path, 's', RBLK_AUTH_SECRET_MIN_BYTES, "\n", 0600);
	assert_int_equal(conf_read_secret(path, out, err, sizeof(err)),
			 RBLK_AUTH_SECRET_MIN_BYTES);
	make_secret(path, 's', RBLK_AUTH_SECRET_MAX_BYTES, "\n", 0600);
	assert_int_equal(conf_read_secret(path, out, err, sizeof(err)),
			 RBLK_AUTH_SECRET_MAX_BYTES);
	make_secret(path, 's', RBLK_AUTH_SECRET_MAX_BYTES + 1, "", 0600);
	expect_secret_bad(path, "more than 128 bytes");
	make_secret(path, 's', 300, "", 0600);
	expect_secret_bad(path, "more than 128 bytes");
	make_secret(path, 's', RBLK_AUTH_SECRET_MIN_BYTES - 1, "\n", 0600);
	expect_secret_bad(path, "15 bytes: at least 16");
	make_secret(path, 's', 0, "", 0600);
	expect_secret_bad(path, "empty");
	make_secret(path, 's', 0, "\n", 0600);
	expect_secret_bad(path, "empty");

	/* group or others may do anything with it: refused */
	make_secret(path, 's', 32, "", 0640);
	expect_secret_bad(path, "mode 0640 gives access to group or others: chmod 600 it");
	make_secret(path, 's', 32, "", 0604);
	expect_secret_bad(path, "mode 0604 gives access to group or others: chmod 600 it");
	make_secret(path, 's', 32, "", 0620);
	expect_secret_bad(path, "mode 0620 gives access to group or others: chmod 600 it");

	/* not a regular file */
	expect_secret_bad(dir, "not a regular file");
	expect_secret_bad("/dev/null", "not a regular file");
	unlink(path);
	snprintf(msg, sizeof(msg), "%s", strerror(ENOENT));
	expect_secret_bad(path, msg);
	assert_int_equal(rmdir(dir), 0);
}

/* secret-file in the topology: an absolute path, read only by conf_load_secret(). */
static void test_secret_file_key(void **state)
{
	char dir[] = "/tmp/rblk-secret-XXXXXX", path[256], yaml[1024], err[512];
	struct conf c;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r0.secret", dir);
	snprintf(yaml, sizeof(yaml),
		 "resources:\n  - name: r0\n    minor: 0\n    secret-file: %s\n"
		 "    nodes:\n      - {name: a, node-id: 0, address: 10.0.0.1:7789}\n", path);
	parse_ok(yaml, &c);
	assert_string_equal(c.res[0].secret_file, path);
	assert_int_equal(c.res[0].secret_len, 0);
	/* missing file: the parse does not care, loading does */
	assert_int_equal(conf_load_secret(&c.res[0], err, sizeof(err)), -1);
	make_secret(path, 'k', 20, "\n", 0600);
	assert_int_equal(conf_load_secret(&c.res[0], err, sizeof(err)), 0);
	assert_int_equal(c.res[0].secret_len, 20);
	assert_memory_equal(c.res[0].secret, "kkkkkkkkkkkkkkkkkkkk", 20);
	conf_free(&c);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);

	parse_bad("resources:\n  - name: r0\n    minor: 0\n    secret-file: r0.secret\n"
		  "    nodes:\n      - {name: a, node-id: 0, address: 10.0.0.1:7789}\n",
		  "rblk.conf:4:18: resources[0].secret-file: expected an absolute path of the shared secret file (starting with /), got 'r0.secret'");
}

/* data-digest: none (the default) or crc32c, per resource. */
static void test_data_digest(void **state)
{
	static const char nodes[] =
		"    nodes:\n      - {name: a, node-id: 0, address: 10.0.0.1:7789}\n";
	char yaml[512];
	struct conf c;

	(void)state;
	snprintf(yaml, sizeof(yaml), "resources:\n  - name: r0\n    minor: 0\n%s"
		 "  - name: r1\n    minor: 1\n    data-digest: crc32c\n%s"
		 "  - name: r2\n    minor: 2\n    data-digest: none\n%s", nodes, nodes, nodes);
	parse_ok(yaml, &c);
	assert_int_equal(c.n_res, 3);
	assert_false(c.res[0].has_data_digest);
	assert_true(c.res[1].has_data_digest);
	assert_int_equal(c.res[1].data_digest, RBLK_DATA_DIGEST_CRC32C);
	assert_true(c.res[2].has_data_digest);
	assert_int_equal(c.res[2].data_digest, RBLK_DATA_DIGEST_NONE);
	conf_free(&c);

	assert_string_equal(data_digest_name(RBLK_DATA_DIGEST_NONE), "none");
	assert_string_equal(data_digest_name(RBLK_DATA_DIGEST_CRC32C), "crc32c");
	assert_string_equal(data_digest_name(__RBLK_DATA_DIGEST_MAX), "invalid");

	snprintf(yaml, sizeof(yaml),
		 "resources:\n  - name: r0\n    minor: 0\n    data-digest: md5\n%s", nodes);
	parse_bad(yaml, "rblk.conf:4:18: resources[0].data-digest: expected none or crc32c, "
		  "got 'md5'");
	snprintf(yaml, sizeof(yaml),
		 "resources:\n  - name: r0\n    minor: 0\n    data-digest: CRC32C\n%s", nodes);
	parse_bad(yaml, "rblk.conf:4:18: resources[0].data-digest: expected none or crc32c, "
		  "got 'CRC32C'");
	snprintf(yaml, sizeof(yaml),
		 "resources:\n  - name: r0\n    minor: 0\n    data-digest: [crc32c]\n%s", nodes);
	parse_bad(yaml, "rblk.conf:4:18: resources[0].data-digest: expected none or crc32c, "
		  "got a list");
}

/*
 * read-balancing: prefer-local (the default), round-robin, least-pending
 * or when-congested-remote, per resource.
 */
static void test_read_balancing(void **state)
{
	static const char nodes[] =
		"    nodes:\n      - {name: a, node-id: 0, address: 10.0.0.1:7789}\n";
	static const char expected[] = "expected prefer-local, round-robin, least-pending or "
				       "when-congested-remote";
	char yaml[1024], msg[256];
	struct conf c;

	(void)state;
	snprintf(yaml, sizeof(yaml), "resources:\n  - name: r0\n    minor: 0\n%s"
		 "  - name: r1\n    minor: 1\n    read-balancing: prefer-local\n%s"
		 "  - name: r2\n    minor: 2\n    read-balancing: round-robin\n%s"
		 "  - name: r3\n    minor: 3\n    read-balancing: least-pending\n%s"
		 "  - name: r4\n    minor: 4\n    read-balancing: when-congested-remote\n%s",
		 nodes, nodes, nodes, nodes, nodes);
	parse_ok(yaml, &c);
	assert_int_equal(c.n_res, 5);
	assert_false(c.res[0].has_read_balancing);
	assert_true(c.res[1].has_read_balancing);
	assert_int_equal(c.res[1].read_balancing, RBLK_READ_PREFER_LOCAL);
	assert_true(c.res[2].has_read_balancing);
	assert_int_equal(c.res[2].read_balancing, RBLK_READ_ROUND_ROBIN);
	assert_true(c.res[3].has_read_balancing);
	assert_int_equal(c.res[3].read_balancing, RBLK_READ_LEAST_PENDING);
	assert_true(c.res[4].has_read_balancing);
	assert_int_equal(c.res[4].read_balancing, RBLK_READ_WHEN_CONGESTED_REMOTE);
	conf_free(&c);

	assert_string_equal(read_balancing_name(RBLK_READ_PREFER_LOCAL), "prefer-local");
	assert_string_equal(read_balancing_name(RBLK_READ_ROUND_ROBIN), "round-robin");
	assert_string_equal(read_balancing_name(RBLK_READ_LEAST_PENDING), "least-pending");
	assert_string_equal(read_balancing_name(RBLK_READ_WHEN_CONGESTED_REMOTE),
			    "when-congested-remote");
	assert_string_equal(read_balancing_name(__RBLK_READ_BALANCING_MAX), "invalid");

	snprintf(yaml, sizeof(yaml),
		 "resources:\n  - name: r0\n    minor: 0\n    read-balancing: nearest\n%s", nodes);
	snprintf(msg, sizeof(msg), "rblk.conf:4:21: resources[0].read-balancing: %s, got 'nearest'",
		 expected);
	parse_bad(yaml, msg);
	snprintf(yaml, sizeof(yaml),
		 "resources:\n  - name: r0\n    minor: 0\n    read-balancing: Round-Robin\n%s",
		 nodes);
	snprintf(msg, sizeof(msg),
		 "rblk.conf:4:21: resources[0].read-balancing: %s, got 'Round-Robin'", expected);
	parse_bad(yaml, msg);
	snprintf(yaml, sizeof(yaml),
		 "resources:\n  - name: r0\n    minor: 0\n    read-balancing: 1\n%s", nodes);
	snprintf(msg, sizeof(msg), "rblk.conf:4:21: resources[0].read-balancing: %s, got '1'",
		 expected);
	parse_bad(yaml, msg);
	snprintf(yaml, sizeof(yaml),
		 "resources:\n  - name: r0\n    minor: 0\n    read-balancing: [round-robin]\n%s",
		 nodes);
	snprintf(msg, sizeof(msg), "rblk.conf:4:21: resources[0].read-balancing: %s, got a list",
		 expected);
	parse_bad(yaml, msg);
}

#define N_BAD (sizeof(bad_files) / sizeof(bad_files[0]))

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_minimal_defaults),
		cmocka_unit_test(test_option_precedence),
		cmocka_unit_test(test_on_io_error),
		cmocka_unit_test(test_quorum),
		cmocka_unit_test(test_primary_policy),
		cmocka_unit_test(test_fence_handler_length),
		cmocka_unit_test(test_ipv6_and_flow_style),
		cmocka_unit_test(test_loopback_pair),
		cmocka_unit_test(test_three_nodes_endpoints_agree),
		cmocka_unit_test(test_address_for),
		cmocka_unit_test(test_parse_addr),
		cmocka_unit_test(test_meta_disk),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_auto_ports),
		cmocka_unit_test(test_auto_ports_clash),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_include_errors),
		cmocka_unit_test(test_too_many_nodes),
		cmocka_unit_test(test_secret_file),
		cmocka_unit_test(test_secret_file_key),
		cmocka_unit_test(test_data_digest),
		cmocka_unit_test(test_read_balancing),
	};
	const size_t n_fixed = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest tests[sizeof(fixed) / sizeof(fixed[0]) + N_BAD];
	static char names[N_BAD][96];
	size_t i;

	memcpy(tests, fixed, sizeof(fixed));
	for (i = 0; i < N_BAD; i++) {
		/* name: "bad_file_NN_<field path>" (no spaces: one token per test) */
		const char *m = bad_files[i].expected;
		const char *p = strstr(m, ": ");
		size_t k, len;

		p = p ? p + 2 : m;
		len = strcspn(p, ": ");
		snprintf(names[i], sizeof(names[i]), "bad_file_%02zu_%.*s", i,
			 (int)(len < 60 ? len : 60), p);
		for (k = 0; names[i][k]; k++)
			if (names[i][k] == '(' || names[i][k] == ')')
				names[i][k] = '_';
		memset(&tests[n_fixed + i], 0, sizeof(tests[0]));
		tests[n_fixed + i].name = names[i];
		tests[n_fixed + i].test_func = test_bad_file;
		tests[n_fixed + i].initial_state = (void *)&bad_files[i];
	}
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
