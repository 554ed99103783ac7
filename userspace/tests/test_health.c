// SPDX-License-Identifier: GPL-2.0
/*
 * test_health.c - health_check(), the judgement of status --health,
 * metrics and doctor: every rule, on a healthy three-node fixture changed
 * one field at a time; doctor's output; the label escaping and the whole
 * output of metrics for a fixture.
 */
#include <json-c/json.h>

#include "testutil.h"

/* node-a (this node, 0), node-b (1) with disks; node-c (2) a witness */
static const char topo[] =
	"cluster: hospital-a\n"
	"resources:\n"
	"  - name: r0\n"
	"    minor: 0\n"
	"    nodes:\n"
	"      - {name: node-a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vdb}\n"
	"      - {name: node-b, node-id: 1, address: 10.0.0.2:7789, disk: /dev/vdb}\n"
	"      - {name: node-c, node-id: 2, address: 10.0.0.3:7789}\n";

/* the same and r1, which this node has too */
static const char topo2[] =
	"resources:\n"
	"  - name: r0\n"
	"    minor: 0\n"
	"    nodes:\n"
	"      - {name: node-a, node-id: 0, address: 10.0.0.1:7789, disk: /dev/vdb}\n"
	"      - {name: node-b, node-id: 1, address: 10.0.0.2:7789, disk: /dev/vdb}\n"
	"      - {name: node-c, node-id: 2, address: 10.0.0.3:7789}\n"
	"  - name: r1\n"
	"    minor: 1\n"
	"    nodes:\n"
	"      - {name: node-a, node-id: 0, address: 10.0.0.1:7800, disk: /dev/vdc}\n"
	"      - {name: node-b, node-id: 1, address: 10.0.0.2:7800, disk: /dev/vdc}\n"
	"  - name: r2\n"
	"    minor: 2\n"
	"    nodes:\n"
	"      - {name: node-b, node-id: 1, address: 10.0.0.2:7801, disk: /dev/vdd}\n"
	"      - {name: node-c, node-id: 2, address: 10.0.0.3:7801, disk: /dev/vdd}\n";

/* r0 on node-a, healthy: primary, UpToDate, node-b and the witness node-c connected */
static void healthy(struct kdev *d)
{
	struct kpeer *p;

	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "r0");
	snprintf(d->cluster, sizeof(d->cluster), "hospital-a");
	snprintf(d->backing, sizeof(d->backing), "/dev/vdb");
	d->role = RBLK_ROLE_PRIMARY;
	d->disk_state = RBLK_DISK_UP_TO_DATE;
	d->size_sectors = 2048;
	d->open_count = 1;
	d->has_quorum_policy = d->has_on_no_quorum = d->has_quorum_voters = true;
	d->has_suspended_writes = true;
	d->quorum = RBLK_QUORUM_MAJORITY;
	d->quorum_voters = 3;
	d->qstate.has_state = d->qstate.has_votes = d->qstate.has_needed = true;
	d->qstate.has_suspended = true;
	d->qstate.quorate = true;
	d->qstate.votes = 3;
	d->qstate.needed = 2;
	d->n_peers = 2;
	p = &d->peers[0];
	p->node_id = 1;
	p->conn_state = RBLK_CONN_CONNECTED;
	p->peer_role = RBLK_ROLE_SECONDARY;
	p->peer_disk_state = RBLK_DISK_UP_TO_DATE;
	p->has_repl_state = p->has_out_of_sync = p->has_sync_decision = true;
	p->repl_state = RBLK_REPL_ESTABLISHED;
	p = &d->peers[1];
	p->node_id = 2;
	p->witness = true;
	p->conn_state = RBLK_CONN_CONNECTED;
	p->peer_role = RBLK_ROLE_SECONDARY;
	p->peer_disk_state = RBLK_DISK_DISKLESS;
	p->has_repl_state = true;
	p->repl_state = RBLK_REPL_ESTABLISHED;
}

/* Peer @p not connected (@conn), its disk unknown to this node. */
static void away(struct kpeer *p, uint8_t conn)
{
	p->conn_state = conn;
	p->repl_state = RBLK_REPL_OFF;
	p->peer_role = RBLK_ROLE_UNKNOWN;
	p->peer_disk_state = RBLK_DISK_UNKNOWN;
}

/* A resync of @p's 3000000 bytes, 1234567 done, at 100000 bytes/s. */
static void resyncing(struct kpeer *p)
{
	p->repl_state = RBLK_REPL_SYNC_SOURCE;
	p->has_resync_total = p->has_resync_done = p->has_resync_rate = true;
	p->resync_total_bytes = 3000000;
	p->resync_done_bytes = 1234567;
	p->resync_rate_bytes_per_s = 100000;
}

/* Every disk state but UpToDate and Unknown. */
static const uint8_t not_up_to_date[] = {
	RBLK_DISK_OUTDATED, RBLK_DISK_INCONSISTENT, RBLK_DISK_CONSISTENT,
	RBLK_DISK_FAILED, RBLK_DISK_DISKLESS,
};

static struct conf conf;
static struct health h;

static int setup(void **state)
{
	(void)state;
	parse_ok(topo, &conf);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	health_free(&h);
	conf_free(&conf);
	return 0;
}

/* Judge @d (with the file unless @no_conf) as node-a; return the findings' count. */
static unsigned int judge(const struct kdev *d, bool no_conf)
{
	health_free(&h);
	assert_int_equal(health_check(d, 1, no_conf ? NULL : &conf, "node-a", NULL, &h), 0);
	return h.n;
}

/* Exactly one finding: @problem at @level (for peer @peer_id, or -1: none). */
static void expect_one(enum health_problem problem, enum health_level level, int peer_id)
{
	unsigned int i;

	for (i = 0; i < h.n && (h.n != 1 || h.f[0].problem != problem); i++)
		print_message("finding %u: %s %s\n", i, health_problem_name(h.f[i].problem),
			      health_level_name(h.f[i].level));
	assert_int_equal(h.n, 1);
	assert_int_equal(h.f[0].problem, problem);
	assert_int_equal(h.f[0].level, level);
	assert_int_equal(h.level, level);
	if (peer_id < 0) {
		assert_null(h.f[0].peer);
	} else {
		assert_non_null(h.f[0].peer);
		assert_int_equal(h.f[0].peer_node_id, peer_id);
	}
	assert_string_equal(h.f[0].name, "r0");
}

/* Whether @problem is among the findings. */
static bool found(enum health_problem problem)
{
	unsigned int i;

	for (i = 0; i < h.n; i++)
		if (h.f[i].problem == problem)
			return true;
	return false;
}

static void test_healthy(void **state)
{
	struct kdev d;

	(void)state;
	healthy(&d);
	assert_int_equal(judge(&d, false), 0);
	assert_int_equal(h.level, HEALTH_OK);
	assert_int_equal(health_exit(h.level), EXIT_OK);
	/* a secondary, quorum off, no file (the witness known by its flag) */
	d.role = RBLK_ROLE_SECONDARY;
	d.quorum = RBLK_QUORUM_OFF;
	d.qstate.quorate = false;
	assert_int_equal(judge(&d, true), 0);
	assert_int_equal(health_exit(HEALTH_DEGRADED), EXIT_DEGRADED);
	assert_int_equal(health_exit(HEALTH_CRITICAL), EXIT_CRITICAL);
	assert_int_equal(EXIT_DEGRADED, 6);
	assert_int_equal(EXIT_CRITICAL, 7);
}

static void test_not_up(void **state)
{
	struct kdev d;

	(void)state;
	healthy(&d);
	conf_free(&conf);
	parse_ok(topo2, &conf);
	judge(&d, false);
	/* r1 is this node's, r2 is not */
	assert_int_equal(h.n, 1);
	assert_int_equal(h.f[0].problem, HP_NOT_UP);
	assert_int_equal(h.f[0].level, HEALTH_DEGRADED);
	assert_string_equal(h.f[0].name, "r1");
	assert_int_equal(h.f[0].minor, 1);
	assert_null(h.f[0].dev);
	assert_int_equal(health_of(&h, "r1"), HEALTH_DEGRADED);
	assert_int_equal(health_of(&h, "r0"), HEALTH_OK);
	/* only r0: r1 is not judged */
	health_free(&h);
	assert_int_equal(health_check(&d, 1, &conf, "node-a", "r0", &h), 0);
	assert_int_equal(h.n, 0);
	/* only r1: judged though the kernel lacks it; r0's device is not */
	d.disk_state = RBLK_DISK_FAILED;
	health_free(&h);
	assert_int_equal(health_check(&d, 1, &conf, "node-a", "r1", &h), 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.f[0].problem, HP_NOT_UP);
}

static void test_disk(void **state)
{
	struct kdev d;
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(not_up_to_date); i++) {
		healthy(&d);
		d.role = RBLK_ROLE_SECONDARY;
		d.disk_state = not_up_to_date[i];
		judge(&d, false);
		expect_one(HP_DISK, HEALTH_DEGRADED, -1);
	}
	/* Diskless because the file gives this node no disk: healthy */
	healthy(&d);
	d.role = RBLK_ROLE_SECONDARY;
	d.disk_state = RBLK_DISK_DISKLESS;
	d.backing[0] = 0;
	d.node_id = 2;
	d.peers[1].node_id = 0;
	d.peers[1].witness = false;
	d.peers[1].peer_disk_state = RBLK_DISK_UP_TO_DATE;
	health_free(&h);
	assert_int_equal(health_check(&d, 1, &conf, "node-c", NULL, &h), 0);
	assert_int_equal(h.n, 0);
	/* without the file nothing says it is meant to be diskless */
	judge(&d, true);
	expect_one(HP_DISK, HEALTH_DEGRADED, -1);
}

static void test_primary_no_data(void **state)
{
	struct kdev d;

	(void)state;
	healthy(&d);
	d.disk_state = RBLK_DISK_DISKLESS;	/* detached after an I/O error */
	judge(&d, false);
	expect_one(HP_PRIMARY_NO_DATA, HEALTH_CRITICAL, -1);
	assert_int_equal(health_exit(h.level), EXIT_CRITICAL);
}

static void test_no_data(void **state)
{
	struct kdev d;

	(void)state;
	/* new metadata everywhere: both Inconsistent, WaitSource */
	healthy(&d);
	d.role = RBLK_ROLE_SECONDARY;
	d.disk_state = RBLK_DISK_INCONSISTENT;
	d.peers[0].peer_disk_state = RBLK_DISK_INCONSISTENT;
	d.peers[0].repl_state = RBLK_REPL_WAIT_SOURCE;
	judge(&d, false);
	assert_int_equal(h.level, HEALTH_CRITICAL);
	assert_true(found(HP_NO_DATA));
	assert_true(found(HP_DISK));
	assert_true(found(HP_REPLICATION));
	assert_true(found(HP_PEER_DISK));
	assert_int_equal(h.n, 4);
	/* nobody connected: this node cannot tell, degraded only */
	d.peers[0].conn_state = RBLK_CONN_CONNECTING;
	d.peers[1].conn_state = RBLK_CONN_CONNECTING;
	d.peers[0].has_repl_state = d.peers[1].has_repl_state = false;
	d.peers[0].peer_disk_state = d.peers[1].peer_disk_state = RBLK_DISK_UNKNOWN;
	d.disk_state = RBLK_DISK_OUTDATED;
	judge(&d, false);
	assert_int_equal(h.level, HEALTH_DEGRADED);
	assert_false(found(HP_NO_DATA));
}

static void test_no_quorum(void **state)
{
	struct kdev d;

	(void)state;
	healthy(&d);
	d.qstate.quorate = false;
	d.qstate.votes = 1;
	d.qstate.suspended = RBLK_SUSPEND_NO_QUORUM;	/* part of the same problem */
	d.suspended_writes = 4;
	d.peers[0].conn_state = RBLK_CONN_CONNECTING;
	d.peers[0].has_repl_state = false;
	d.peers[0].peer_disk_state = RBLK_DISK_OUTDATED;
	d.peers[1].conn_state = RBLK_CONN_CONNECTING;
	d.peers[1].has_repl_state = false;
	judge(&d, false);
	assert_int_equal(h.level, HEALTH_CRITICAL);
	assert_true(found(HP_NO_QUORUM));
	assert_false(found(HP_SUSPENDED));
	assert_true(found(HP_NOT_CONNECTED));
	assert_true(found(HP_PEER_DISK));	/* node-b missed writes */
	assert_int_equal(h.n, 4);
	/* quorum off: HAS_QUORUM says nothing */
	healthy(&d);
	d.quorum = RBLK_QUORUM_OFF;
	d.qstate.quorate = false;
	assert_int_equal(judge(&d, false), 0);
}

static void test_suspended(void **state)
{
	struct kdev d;

	(void)state;
	healthy(&d);
	d.qstate.suspended = RBLK_SUSPEND_FENCING;
	d.suspended_writes = 2;
	judge(&d, false);
	expect_one(HP_SUSPENDED, HEALTH_CRITICAL, -1);
}

static void test_peer_missing(void **state)
{
	struct kdev d;

	(void)state;
	healthy(&d);
	d.n_peers = 1;		/* node-c is in the file, not in the kernel */
	judge(&d, false);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.f[0].problem, HP_PEER_MISSING);
	assert_int_equal(h.f[0].level, HEALTH_DEGRADED);
	assert_int_equal(h.f[0].peer_node_id, 2);
	assert_null(h.f[0].peer);
	/* without the file a single peer is all there is */
	assert_int_equal(judge(&d, true), 0);
}

static void test_split_brain(void **state)
{
	struct kdev d;

	(void)state;
	healthy(&d);
	d.peers[0].split_brain = true;
	away(&d.peers[0], RBLK_CONN_STANDALONE);
	d.peers[0].sync_decision = RBLK_SYNC_SPLIT_BRAIN;
	judge(&d, false);
	expect_one(HP_SPLIT_BRAIN, HEALTH_CRITICAL, 1);
}

static void test_unrelated(void **state)
{
	struct kdev d;

	(void)state;
	healthy(&d);
	away(&d.peers[0], RBLK_CONN_STANDALONE);
	d.peers[0].sync_decision = RBLK_SYNC_UNRELATED;
	judge(&d, false);
	expect_one(HP_UNRELATED, HEALTH_DEGRADED, 1);
}

static void test_not_connected(void **state)
{
	static const uint8_t states[] = {
		RBLK_CONN_STANDALONE, RBLK_CONN_CONNECTING, RBLK_CONN_DISCONNECTING,
	};
	struct kdev d;
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(states); i++) {
		healthy(&d);
		away(&d.peers[0], states[i]);
		judge(&d, false);
		expect_one(HP_NOT_CONNECTED, HEALTH_DEGRADED, 1);
	}
	/* the primary wrote without it: its disk is Outdated too */
	d.peers[0].peer_disk_state = RBLK_DISK_OUTDATED;
	judge(&d, false);
	assert_int_equal(h.n, 2);
	assert_true(found(HP_PEER_DISK));
	/* a witness that is away */
	healthy(&d);
	away(&d.peers[1], RBLK_CONN_CONNECTING);
	judge(&d, false);
	expect_one(HP_NOT_CONNECTED, HEALTH_DEGRADED, 2);
}

static void test_resync(void **state)
{
	struct kdev d;

	(void)state;
	/* source: the target is Inconsistent, nothing more to say */
	healthy(&d);
	d.peers[0].repl_state = RBLK_REPL_SYNC_SOURCE;
	d.peers[0].peer_disk_state = RBLK_DISK_INCONSISTENT;
	d.peers[0].out_of_sync_bytes = 1 << 20;
	judge(&d, false);
	expect_one(HP_RESYNC, HEALTH_DEGRADED, 1);
	/* target: this node is Inconsistent, the source UpToDate */
	healthy(&d);
	d.role = RBLK_ROLE_SECONDARY;
	d.disk_state = RBLK_DISK_INCONSISTENT;
	d.peers[0].peer_role = RBLK_ROLE_PRIMARY;
	d.peers[0].repl_state = RBLK_REPL_SYNC_TARGET;
	judge(&d, false);
	expect_one(HP_RESYNC, HEALTH_DEGRADED, 1);
}

static void test_replication(void **state)
{
	struct kdev d;

	(void)state;
	healthy(&d);
	d.peers[0].repl_state = RBLK_REPL_WAIT_SOURCE;
	judge(&d, false);
	expect_one(HP_REPLICATION, HEALTH_DEGRADED, 1);
	/* not reported by the kernel: nothing to judge */
	d.peers[0].has_repl_state = false;
	assert_int_equal(judge(&d, false), 0);
}

static void test_peer_disk(void **state)
{
	struct kdev d;
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(not_up_to_date); i++) {
		healthy(&d);
		d.peers[0].peer_disk_state = not_up_to_date[i];
		judge(&d, false);
		expect_one(HP_PEER_DISK, HEALTH_DEGRADED, 1);
	}
	/* node-c has no disk in the file: Diskless is its state, witness flag or not */
	healthy(&d);
	d.peers[1].witness = false;
	assert_int_equal(judge(&d, false), 0);
	judge(&d, true);
	expect_one(HP_PEER_DISK, HEALTH_DEGRADED, 2);
}

static void test_out_of_sync(void **state)
{
	struct kdev d;

	(void)state;
	healthy(&d);
	d.peers[0].out_of_sync_bytes = 4096;
	judge(&d, false);
	expect_one(HP_OUT_OF_SYNC, HEALTH_DEGRADED, 1);
	d.peers[0].has_out_of_sync = false;
	assert_int_equal(judge(&d, false), 0);
}

/* Several devices: the worst finding decides, health_of() per resource. */
static void test_levels(void **state)
{
	struct kdev d[2];

	(void)state;
	healthy(&d[0]);
	healthy(&d[1]);
	snprintf(d[1].name, sizeof(d[1].name), "r9");
	d[1].minor = 9;
	d[1].peers[0].split_brain = true;
	away(&d[0].peers[0], RBLK_CONN_CONNECTING);
	health_free(&h);
	assert_int_equal(health_check(d, 2, &conf, "node-a", NULL, &h), 0);
	assert_int_equal(h.level, HEALTH_CRITICAL);
	assert_int_equal(health_of(&h, "r0"), HEALTH_DEGRADED);
	assert_int_equal(health_of(&h, "r9"), HEALTH_CRITICAL);
	assert_int_equal(health_of(&h, "r5"), HEALTH_OK);
	assert_string_equal(health_level_name(HEALTH_CRITICAL), "critical");
	assert_string_equal(health_problem_name(HP_SPLIT_BRAIN), "split_brain");
	assert_string_equal(health_problem_name(HP_COUNT), "invalid");
}

/* -------------------------------------------------------------- doctor */

static char *buf;
static size_t buflen;

static FILE *start(bool json)
{
	FILE *f = open_memstream(&buf, &buflen);

	assert_non_null(f);
	out_init(f, json);
	return f;
}

static const char *finish(FILE *f)
{
	out_flush();
	fclose(f);
	return buf;
}

static void test_doctor_human(void **state)
{
	struct kdev d;
	FILE *f;

	(void)state;
	healthy(&d);
	judge(&d, false);
	f = start(false);
	show_doctor(&h, &conf);
	assert_string_equal(finish(f), "all healthy\n");
	free(buf);

	away(&d.peers[0], RBLK_CONN_STANDALONE);
	d.peers[0].peer_disk_state = RBLK_DISK_OUTDATED;
	snprintf(d.peers[0].last_error, sizeof(d.peers[0].last_error), "disconnected by the operator");
	resyncing(&d.peers[1]);
	judge(&d, false);
	f = start(false);
	show_doctor(&h, &conf);
	assert_string_equal(finish(f),
		"r0: degraded: peer node-b (node-id 1) is StandAlone: this node does not try to connect to it (last error: \"disconnected by the operator\").\n"
		"  next: remove the cause, then 'rblkadm connect r0 node-b'.\n"
		"r0: degraded: peer node-b (node-id 1) has an Outdated disk: it missed writes and must not be promoted.\n"
		"  next: once it is connected again, the resync of what it missed starts by itself.\n"
		"r0: degraded: a resync to peer node-c (node-id 2) runs: 41.15% done, 1765433 bytes left, about 18 s to go at 100000 bytes/s; its disk is Inconsistent until it ends.\n"
		"  next: nothing: wait for it to end, and do not fail over to that peer before; keep this node up.\n"
		"health: degraded\n");
	free(buf);
}

/* Every problem has an explanation and an action, without and with the file. */
static void test_doctor_every_problem(void **state)
{
	struct kdev d;
	unsigned int p, k;
	FILE *f;

	(void)state;
	healthy(&d);
	for (k = 0; k < 2; k++) {
		for (p = 0; p < HP_COUNT; p++) {
			struct health_finding hf = {
				.problem = p, .level = HEALTH_DEGRADED, .name = "r0",
				.dev = p == HP_NOT_UP ? NULL : &d,
				.peer = p >= HP_SPLIT_BRAIN ? &d.peers[0] : NULL,
				.peer_node_id = 1,
			};
			struct health one = { .level = HEALTH_DEGRADED, .n = 1, .max = 1, .f = &hf };
			const char *out;

			f = start(false);
			show_doctor(&one, k ? &conf : NULL);
			out = finish(f);
			assert_null(strstr(out, "unknown problem"));
			assert_non_null(strstr(out, ".\n  next: "));
			assert_null(strstr(out, ": .\n"));
			assert_null(strstr(out, "next: .\n"));
			free(buf);
		}
	}
}

static void test_doctor_json(void **state)
{
	struct json_object *o, *probs, *p0, *v;
	struct kdev d;
	FILE *f;

	(void)state;
	healthy(&d);
	judge(&d, false);
	f = start(true);
	show_doctor(&h, &conf);
	assert_string_equal(finish(f), "{\"health\":\"ok\",\"problems\":[]}\n");
	free(buf);

	d.peers[0].split_brain = true;
	d.peers[0].conn_state = RBLK_CONN_STANDALONE;
	d.qstate.suspended = RBLK_SUSPEND_FENCING;
	judge(&d, false);
	f = start(true);
	show_doctor(&h, &conf);
	o = json_tokener_parse(finish(f));
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "health", &v));
	assert_string_equal(json_object_get_string(v), "critical");
	assert_true(json_object_object_get_ex(o, "problems", &probs));
	assert_int_equal(json_object_array_length(probs), 2);
	p0 = json_object_array_get_idx(probs, 0);
	assert_true(json_object_object_get_ex(p0, "problem", &v));
	assert_string_equal(json_object_get_string(v), "suspended");
	assert_true(json_object_object_get_ex(p0, "peer_node_id", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(p0, "next", &v));
	assert_non_null(strstr(json_object_get_string(v), "rblkadm resume-io r0"));
	p0 = json_object_array_get_idx(probs, 1);
	assert_true(json_object_object_get_ex(p0, "resource_name", &v));
	assert_string_equal(json_object_get_string(v), "r0");
	assert_true(json_object_object_get_ex(p0, "minor", &v));
	assert_int_equal(json_object_get_int(v), 0);
	assert_true(json_object_object_get_ex(p0, "level", &v));
	assert_string_equal(json_object_get_string(v), "critical");
	assert_true(json_object_object_get_ex(p0, "problem", &v));
	assert_string_equal(json_object_get_string(v), "split_brain");
	assert_true(json_object_object_get_ex(p0, "peer_node_id", &v));
	assert_int_equal(json_object_get_int(v), 1);
	assert_true(json_object_object_get_ex(p0, "peer_name", &v));
	assert_string_equal(json_object_get_string(v), "node-b");
	assert_true(json_object_object_get_ex(p0, "explanation", &v));
	assert_string_equal(json_object_get_string(v),
			    "split-brain with peer node-b (node-id 1): both wrote since they last shared data, and they refuse to connect");
	assert_int_equal(json_object_object_length(p0), 8);
	json_object_put(o);
	free(buf);
}

/* ------------------------------------------------------------- metrics */

static void test_prom_escape(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(prom_escape("r0", b, sizeof(b)), "r0");
	assert_string_equal(prom_escape("a\\b\"c\nd", b, sizeof(b)), "a\\\\b\\\"c\\nd");
	assert_string_equal(prom_escape("", b, sizeof(b)), "");
	/* truncated between escapes, never inside one */
	assert_string_equal(prom_escape("abc\"", b, 5), "abc");
	assert_string_equal(prom_escape("ab\"", b, 5), "ab\\\"");
	assert_string_equal(prom_escape("\\\\\\", b, 6), "\\\\\\\\");
}

/*
 * The fixture of the golden output: r0 (the file's, healthy but for a
 * resync to node-b), r9 (not in the file: no peer names; quorum not
 * reported; a backing path to escape), and r1 of the file not up.
 */
static unsigned int metrics_fixture(struct kdev *d)
{
	struct kpeer *p;

	healthy(&d[0]);
	d[0].reads = 5;
	d[0].read_bytes = 20480;
	d[0].writes = 20;
	d[0].write_bytes = 6000000000ULL;
	d[0].md_writes = 7;
	p = &d[0].peers[0];
	resyncing(p);
	p->peer_disk_state = RBLK_DISK_INCONSISTENT;
	p->out_of_sync_bytes = 1765433;
	p->rtt_us = 1312;
	p->writes = p->acks = 20;
	p->write_bytes = 81920;
	p->reconnects = 3;
	d[0].peers[1].rtt_us = 250;
	p->tcp_rtt_us = 1040;
	p->has_tcp_rtt = true;
	/* node-b, Inconsistent, reads from here; node-c serves some of r0's reads */
	p->served_reads = 6;
	d[0].peers[1].reads = 4;
	d[0].peers[1].read_bytes = 16384;

	memset(&d[1], 0, sizeof(d[1]));
	snprintf(d[1].name, sizeof(d[1].name), "r9");
	snprintf(d[1].backing, sizeof(d[1].backing), "/dev/disk/by-id/a\"b\\c");
	d[1].minor = 9;
	d[1].node_id = 1;
	d[1].role = RBLK_ROLE_SECONDARY;
	d[1].disk_state = RBLK_DISK_OUTDATED;
	d[1].n_peers = 1;
	p = &d[1].peers[0];
	p->node_id = 0;
	p->conn_state = RBLK_CONN_CONNECTING;
	p->peer_role = RBLK_ROLE_UNKNOWN;
	p->peer_disk_state = RBLK_DISK_UNKNOWN;
	p->received_writes = 12;
	p->received_bytes = 49152;
	p->errors = 1;
	snprintf(p->last_error, sizeof(p->last_error), "connection refused");
	return 2;
}

/* The whole output for the fixture, byte for byte (tests/metrics.golden.prom). */
static void test_metrics_golden(void **state)
{
	char path[512], *golden = NULL;
	const char *dir = strrchr(__FILE__, '/');
	struct kdev d[2];
	unsigned int n;
	size_t len = 0;
	FILE *f, *g;

	(void)state;
	conf_free(&conf);
	parse_ok(topo2, &conf);
	n = metrics_fixture(d);
	assert_int_equal(health_check(d, n, &conf, "node-a", NULL, &h), 0);
	f = open_memstream(&buf, &buflen);
	assert_non_null(f);
	metrics_print(f, d, n, &conf, &h);
	fclose(f);
	snprintf(path, sizeof(path), "%.*smetrics.golden.prom",
		 dir ? (int)(dir - __FILE__ + 1) : 0, __FILE__);
	g = fopen(path, "r");
	if (!g)
		print_error("cannot open %s\n", path);
	assert_non_null(g);
	assert_int_not_equal(getdelim(&golden, &len, 0, g), -1);
	fclose(g);
	if (strcmp(buf, golden)) {
		g = fopen("tests/metrics.out.prom", "w");
		if (g) {
			fputs(buf, g);
			fclose(g);
		}
		print_error("metrics differ from %s: see tests/metrics.out.prom\n", path);
	}
	assert_string_equal(buf, golden);
	free(golden);
	free(buf);
}

/* Every family has its HELP and TYPE once, before its samples, in one group. */
static void test_metrics_format(void **state)
{
	char *line, *save = NULL, seen[4096] = "|", fam[128] = "";
	struct kdev d[2];
	unsigned int n, samples = 0;
	FILE *f;

	(void)state;
	conf_free(&conf);
	parse_ok(topo2, &conf);
	n = metrics_fixture(d);
	assert_int_equal(health_check(d, n, &conf, "node-a", NULL, &h), 0);
	f = open_memstream(&buf, &buflen);
	metrics_print(f, d, n, &conf, &h);
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], pat[140];

		if (!strncmp(line, "# HELP ", 7)) {
			assert_int_equal(sscanf(line + 7, "%127s", fam), 1);
			snprintf(pat, sizeof(pat), "|%s|", fam);
			assert_null(strstr(seen, pat));		/* one group per family */
			strncat(seen, fam, sizeof(seen) - strlen(seen) - 2);
			strcat(seen, "|");
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			snprintf(pat, sizeof(pat), "# TYPE %s ", fam);
			assert_int_equal(strncmp(line, pat, strlen(pat)), 0);
			assert_true(!strcmp(line + strlen(pat), "gauge") ||
				    !strcmp(line + strlen(pat), "counter"));
			if (!strcmp(line + strlen(pat), "counter"))
				assert_non_null(strstr(fam, "_total"));
			continue;
		}
		assert_int_equal(sscanf(line, "%127[a-z_]", name), 1);
		assert_string_equal(name, fam);
		assert_non_null(strstr(line, "{resource=\""));
		assert_non_null(strstr(line, "} "));
		samples++;
	}
	assert_true(samples > 100);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_healthy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_primary_no_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_quorum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_suspended, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_brain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unrelated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_connected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replication, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_doctor_human, setup, teardown),
		cmocka_unit_test_setup_teardown(test_doctor_every_problem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_doctor_json, setup, teardown),
		cmocka_unit_test(test_prom_escape),
		cmocka_unit_test_setup_teardown(test_metrics_golden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_format, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
