// SPDX-License-Identifier: GPL-2.0
/*
 * test_output.c - the print API and the status/event printers: JSON output
 * is parsed back with json-c and checked key by key (names, types, values);
 * human output is compared byte for byte.
 */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <json-c/json.h>

#include "testutil.h"

static char *buf;
static size_t buflen;
static FILE *mem;

static void start(bool json)
{
	mem = open_memstream(&buf, &buflen);
	assert_non_null(mem);
	out_init(mem, json);
}

/* Finish and return the output (owned by the test, freed in finish_free). */
static const char *finish(void)
{
	out_flush();
	fclose(mem);
	mem = NULL;
	return buf;
}

static void finish_free(void)
{
	free(buf);
	buf = NULL;
}

static struct json_object *parse_json(const char *text)
{
	struct json_object *o = json_tokener_parse(text);

	if (!o)
		print_error("not JSON: '%s'\n", text);
	assert_non_null(o);
	return o;
}

static struct json_object *get(struct json_object *o, const char *key, json_type type)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		print_error("missing key '%s' in %s\n", key, json_object_to_json_string(o));
	assert_true(json_object_object_get_ex(o, key, &v));
	if (!json_object_is_type(v, type))
		print_error("key '%s' has type %s\n", key, json_type_to_name(json_object_get_type(v)));
	assert_true(json_object_is_type(v, type));
	return v;
}

static void expect_str(struct json_object *o, const char *key, const char *val)
{
	assert_string_equal(json_object_get_string(get(o, key, json_type_string)), val);
}

static void expect_uint(struct json_object *o, const char *key, uint64_t val)
{
	assert_true(json_object_get_uint64(get(o, key, json_type_int)) == val);
}

static void expect_null(struct json_object *o, const char *key)
{
	struct json_object *v = (struct json_object *)1;

	if (!json_object_object_get_ex(o, key, &v))
		print_error("missing key '%s' in %s\n", key, json_object_to_json_string(o));
	assert_true(json_object_object_get_ex(o, key, &v));
	assert_null(v);
}

static void sample_device(struct kdev *d)
{
	struct kpeer *p;

	memset(d, 0, sizeof(*d));
	d->minor = 0;
	d->node_id = 0;
	snprintf(d->name, sizeof(d->name), "vm-disk-1");
	snprintf(d->cluster, sizeof(d->cluster), "hospital-a");
	snprintf(d->backing, sizeof(d->backing), "/dev/vda");
	d->role = RBLK_ROLE_PRIMARY;
	d->disk_state = RBLK_DISK_UP_TO_DATE;
	d->size_sectors = 2097152;
	d->logical_block_size_bytes = 512;
	d->open_count = 1;
	d->reads = 10;
	d->writes = 20;
	d->read_bytes = 40960;
	d->write_bytes = 6000000000ULL;		/* > 2^32: raw integer, not 5.6G */
	d->flushes = 3;
	d->discards = 4;
	d->inflight = 5;
	d->errors = 6;
	d->md_writes = 7;
	d->n_peers = 2;
	p = &d->peers[0];
	p->node_id = 1;
	parse_addr("10.0.0.2:7789", true, &p->peer);
	parse_addr("10.0.0.1:7790", true, &p->local);
	p->conn_state = RBLK_CONN_CONNECTED;
	p->peer_role = RBLK_ROLE_SECONDARY;
	p->peer_disk_state = RBLK_DISK_UP_TO_DATE;
	p->writes = 20;
	p->write_bytes = 81920;
	p->acks = 20;
	p->rtt_us = 312;
	p->tcp_rtt_us = 250;
	p->has_tcp_rtt = true;
	p->reads = 8;
	p->read_bytes = 32768;
	p->served_reads = 2;
	p = &d->peers[1];
	p->node_id = 2;
	parse_addr("10.0.0.3:7789", true, &p->peer);
	parse_addr("10.0.0.1:7791", true, &p->local);
	p->conn_state = RBLK_CONN_CONNECTING;
	p->peer_role = RBLK_ROLE_UNKNOWN;
	p->peer_disk_state = RBLK_DISK_OUTDATED;
	p->reconnects = 7;
	snprintf(p->last_error, sizeof(p->last_error), "connection refused");
}

static const char topo[] =
	"resources:\n"
	"  - name: vm-disk-1\n"
	"    minor: 0\n"
	"    nodes:\n"
	"      - {name: node-a, node-id: 0, address: 10.0.0.1:7789}\n"
	"      - {name: node-b, node-id: 1, address: 10.0.0.2:7789}\n"
	"      - {name: node-c, node-id: 2, address: 10.0.0.3:7789}\n";

static void test_device_json(void **state)
{
	struct kdev d;
	struct conf c;
	struct json_object *o, *stats, *peers, *p0, *p1, *v;
	const char *text;

	(void)state;
	sample_device(&d);
	parse_ok(topo, &c);
	start(true);
	show_device(&d, &c, false);	/* JSON has counters even without -s */
	text = finish();
	assert_int_equal(strchr(text, '\n') - text, (long)strlen(text) - 1);	/* one line */
	o = parse_json(text);
	assert_true(json_object_is_type(o, json_type_object));
	expect_str(o, "resource_name", "vm-disk-1");
	expect_uint(o, "minor", 0);
	expect_uint(o, "node_id", 0);
	expect_str(o, "cluster_name", "hospital-a");
	expect_str(o, "backing_path", "/dev/vda");
	expect_str(o, "role", "primary");
	expect_str(o, "disk_state", "up_to_date");
	expect_uint(o, "size_sectors", 2097152);
	expect_uint(o, "logical_block_size_bytes", 512);
	expect_uint(o, "open_count", 1);
	/* not reported by the kernel: the keys are there, null */
	expect_null(o, "current_uuid");
	expect_null(o, "md_flags");
	expect_null(o, "quorum");
	expect_null(o, "on_no_quorum");
	expect_null(o, "has_quorum");
	expect_null(o, "quorum_votes");
	expect_null(o, "quorum_needed");
	expect_null(o, "quorum_voters");
	expect_null(o, "suspended");
	expect_null(o, "suspended_writes");
	expect_null(o, "auto_promote");
	expect_null(o, "auto_promoted");
	expect_null(o, "fencing");
	expect_null(o, "fence_handler");
	expect_null(o, "fence_pending");
	expect_null(o, "data_digest");
	expect_null(o, "read_balancing");
	assert_int_equal(json_object_object_length(o), 30);

	stats = get(o, "stats", json_type_object);
	expect_uint(stats, "reads", 10);
	expect_uint(stats, "writes", 20);
	expect_uint(stats, "read_bytes", 40960);
	expect_uint(stats, "write_bytes", 6000000000ULL);
	expect_uint(stats, "flushes", 3);
	expect_uint(stats, "discards", 4);
	expect_uint(stats, "inflight", 5);
	expect_uint(stats, "errors", 6);
	expect_uint(stats, "md_writes", 7);
	assert_int_equal(json_object_object_length(stats), 9);

	peers = get(o, "peers", json_type_array);
	assert_int_equal(json_object_array_length(peers), 2);
	p0 = json_object_array_get_idx(peers, 0);
	p1 = json_object_array_get_idx(peers, 1);
	expect_uint(p0, "peer_node_id", 1);
	expect_str(p0, "peer_name", "node-b");
	expect_str(p0, "conn_state", "connected");
	expect_str(p0, "peer_role", "secondary");
	expect_str(p0, "peer_disk_state", "up_to_date");
	expect_str(p0, "peer_ip", "10.0.0.2");
	expect_uint(p0, "peer_port", 7789);
	expect_str(p0, "local_ip", "10.0.0.1");
	expect_uint(p0, "local_port", 7790);
	expect_uint(p0, "writes", 20);
	expect_uint(p0, "write_bytes", 81920);
	expect_uint(p0, "acks", 20);
	expect_uint(p0, "rtt_us", 312);
	expect_uint(p0, "tcp_rtt_us", 250);
	expect_uint(p0, "inflight", 0);
	expect_uint(p0, "flushes", 0);
	expect_uint(p0, "discards", 0);
	expect_uint(p0, "reconnects", 0);
	expect_uint(p0, "received_writes", 0);
	expect_uint(p0, "received_bytes", 0);
	expect_uint(p0, "reads", 8);
	expect_uint(p0, "read_bytes", 32768);
	expect_uint(p0, "served_reads", 2);
	expect_uint(p1, "reads", 0);
	expect_uint(p1, "read_bytes", 0);
	expect_uint(p1, "served_reads", 0);
	expect_uint(p0, "errors", 0);
	expect_str(p0, "last_error", "");
	expect_null(p0, "replication_state");
	expect_null(p0, "out_of_sync_bytes");
	expect_null(p0, "sync_decision");
	assert_false(json_object_get_boolean(get(p0, "split_brain", json_type_boolean)));
	assert_false(json_object_get_boolean(get(p0, "witness", json_type_boolean)));
	expect_null(p0, "resync_total_bytes");
	expect_null(p0, "resync_done_bytes");
	expect_null(p0, "resync_percent_done");
	expect_null(p0, "resync_bytes_left");
	expect_null(p0, "resync_rate_bytes_per_s");
	expect_null(p0, "resync_eta_s");
	expect_null(p0, "bitmap_uuid");
	expect_null(p0, "resync_rate_kib_per_s");
	expect_null(p0, "resync_latency_ms");
	expect_null(p0, "resync_window");
	expect_null(p0, "resync_latency_us");
	assert_int_equal(json_object_object_length(p0), 41);

	expect_str(p1, "peer_name", "node-c");
	expect_str(p1, "conn_state", "connecting");
	expect_str(p1, "peer_role", "unknown");
	expect_str(p1, "peer_disk_state", "outdated");
	expect_uint(p1, "reconnects", 7);
	expect_str(p1, "last_error", "connection refused");
	assert_int_equal(json_object_object_length(p1), 41);
	/* same key set and order for every peer: stable keys */
	{
		struct json_object_iterator a = json_object_iter_begin(p0);
		struct json_object_iterator b = json_object_iter_begin(p1);
		struct json_object_iterator ae = json_object_iter_end(p0);

		while (!json_object_iter_equal(&a, &ae)) {
			assert_string_equal(json_object_iter_peek_name(&a),
					    json_object_iter_peek_name(&b));
			json_object_iter_next(&a);
			json_object_iter_next(&b);
		}
	}
	(void)v;
	json_object_put(o);
	finish_free();
	conf_free(&c);
}

/* Without a topology file (or for a resource it does not have) names are null. */
static void test_device_json_no_names(void **state)
{
	struct kdev d;
	struct json_object *o, *p0, *v;

	(void)state;
	sample_device(&d);
	start(true);
	show_device(&d, NULL, true);
	o = parse_json(finish());
	p0 = json_object_array_get_idx(get(o, "peers", json_type_array), 0);
	assert_true(json_object_object_get_ex(p0, "peer_name", &v));
	assert_null(v);
	json_object_put(o);
	finish_free();
}

static void test_status_array(void **state)
{
	struct kdev d[2];
	struct json_object *o;

	(void)state;
	sample_device(&d[0]);
	sample_device(&d[1]);
	d[1].minor = 1;
	d[1].n_peers = 0;
	d[1].role = RBLK_ROLE_SECONDARY;
	d[1].disk_state = RBLK_DISK_DISKLESS;
	d[1].backing[0] = 0;
	start(true);
	out_open_array(NULL);
	show_device(&d[0], NULL, false);
	show_device(&d[1], NULL, false);
	out_close_array();
	o = parse_json(finish());
	assert_true(json_object_is_type(o, json_type_array));
	assert_int_equal(json_object_array_length(o), 2);
	expect_uint(json_object_array_get_idx(o, 1), "minor", 1);
	expect_str(json_object_array_get_idx(o, 1), "role", "secondary");
	expect_str(json_object_array_get_idx(o, 1), "disk_state", "diskless");
	expect_str(json_object_array_get_idx(o, 1), "backing_path", "");
	assert_int_equal(json_object_array_length(get(json_object_array_get_idx(o, 1), "peers",
						      json_type_array)), 0);
	json_object_put(o);
	finish_free();

	/* an empty dump is an empty array */
	start(true);
	out_open_array(NULL);
	out_close_array();
	assert_string_equal(finish(), "[]\n");
	finish_free();
}

static void test_device_human(void **state)
{
	struct kdev d;
	struct conf c;

	(void)state;
	sample_device(&d);
	parse_ok(topo, &c);
	start(false);
	show_device(&d, &c, false);
	assert_string_equal(finish(),
		"vm-disk-1 minor:0 node-id:0 role:Primary disk:UpToDate backing:/dev/vda size:2097152s open:1\n"
		"  node-b node-id:1 connection:Connected role:Secondary disk:UpToDate address:10.0.0.2:7789 inflight:0 rtt-us:312 tcp-rtt-us:250\n"
		"  node-c node-id:2 connection:Connecting role:Unknown disk:Outdated address:10.0.0.3:7789 inflight:0 rtt-us:0 last-error:\"connection refused\"\n");
	finish_free();

	start(false);
	show_device(&d, NULL, true);
	assert_string_equal(finish(),
		"vm-disk-1 minor:0 node-id:0 role:Primary disk:UpToDate backing:/dev/vda size:2097152s open:1\n"
		"    reads:10 writes:20 read-bytes:40960 write-bytes:6000000000 flushes:3 discards:4 inflight:5 errors:6 md-writes:7\n"
		"  peer node-id:1 connection:Connected role:Secondary disk:UpToDate address:10.0.0.2:7789 inflight:0 rtt-us:312 tcp-rtt-us:250\n"
		"    writes:20 write-bytes:81920 flushes:0 discards:0 acks:20 reconnects:0 received-writes:0 received-bytes:0 reads:8 read-bytes:32768 served-reads:2 errors:0\n"
		"  peer node-id:2 connection:Connecting role:Unknown disk:Outdated address:10.0.0.3:7789 inflight:0 rtt-us:0 last-error:\"connection refused\"\n"
		"    writes:0 write-bytes:0 flushes:0 discards:0 acks:0 reconnects:7 received-writes:0 received-bytes:0 reads:0 read-bytes:0 served-reads:0 errors:0\n");
	finish_free();
	conf_free(&c);
}

/* data_digest: "none" or "crc32c" in JSON; named for humans only when set. */
static void test_device_data_digest(void **state)
{
	struct json_object *o;
	struct kdev d;

	(void)state;
	sample_device(&d);
	d.has_data_digest = true;
	d.data_digest = RBLK_DATA_DIGEST_CRC32C;
	start(false);
	show_device(&d, NULL, false);
	assert_non_null(strstr(finish(), " open:1 data-digest:crc32c\n"));
	finish_free();
	start(true);
	show_device(&d, NULL, false);
	o = parse_json(finish());
	expect_str(o, "data_digest", "crc32c");
	json_object_put(o);
	finish_free();

	d.data_digest = RBLK_DATA_DIGEST_NONE;
	start(false);
	show_device(&d, NULL, false);
	assert_null(strstr(finish(), "digest"));
	finish_free();
	start(true);
	show_device(&d, NULL, false);
	o = parse_json(finish());
	expect_str(o, "data_digest", "none");
	json_object_put(o);
	finish_free();
}

/*
 * read_balancing: the policy's word in JSON, null when the kernel does not
 * report it; named for humans only when it is not prefer-local.
 */
static void test_device_read_balancing(void **state)
{
	struct json_object *o;
	struct kdev d;
	unsigned int v;

	(void)state;
	sample_device(&d);
	d.has_read_balancing = true;
	for (v = 0; v < __RBLK_READ_BALANCING_MAX; v++) {
		char want[64];

		d.read_balancing = (uint8_t)v;
		snprintf(want, sizeof(want), " open:1 read-balancing:%s\n", read_balancing_name(v));
		start(false);
		show_device(&d, NULL, false);
		if (v == RBLK_READ_PREFER_LOCAL)
			assert_null(strstr(finish(), "read-balancing"));
		else
			assert_non_null(strstr(finish(), want));
		finish_free();
		start(true);
		show_device(&d, NULL, false);
		o = parse_json(finish());
		expect_str(o, "read_balancing", read_balancing_name(v));
		json_object_put(o);
		finish_free();
	}

	/* after data-digest, before the primary policy */
	d.read_balancing = RBLK_READ_ROUND_ROBIN;
	d.has_data_digest = true;
	d.data_digest = RBLK_DATA_DIGEST_CRC32C;
	d.has_fencing = true;
	d.fencing = RBLK_FENCING_RESOURCE_ONLY;
	start(false);
	show_device(&d, NULL, false);
	assert_non_null(strstr(finish(), " open:1 data-digest:crc32c read-balancing:round-robin "
				       "fencing:resource-only\n"));
	finish_free();
}

/* resync_progress(): percent (floor, hundredths), bytes left, ETA (ceil). */
static void test_resync_progress(void **state)
{
	struct resync_progress rp;
	struct kpeer p;

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_false(resync_progress(&p, &rp));		/* nothing reported */
	p.has_resync_total = true;
	assert_false(resync_progress(&p, &rp));		/* total 0: no resync */

	p.resync_total_bytes = 3000000;
	p.has_resync_done = true;
	p.resync_done_bytes = 1234567;
	p.has_resync_rate = true;
	p.resync_rate_bytes_per_s = 100000;
	assert_true(resync_progress(&p, &rp));
	assert_int_equal(rp.percent_hundredths, 4115);	/* 41.1522...: not rounded up */
	assert_int_equal(rp.bytes_left, 1765433);
	assert_true(rp.has_eta);
	assert_int_equal(rp.eta_s, 18);			/* 17.65 s: rounded up */

	p.resync_rate_bytes_per_s = 1765433;		/* exactly one second */
	assert_true(resync_progress(&p, &rp));
	assert_int_equal(rp.eta_s, 1);

	/* a zero rate: no ETA */
	p.resync_rate_bytes_per_s = 0;
	assert_true(resync_progress(&p, &rp));
	assert_false(rp.has_eta);
	assert_int_equal(rp.eta_s, 0);
	p.has_resync_rate = false;			/* or none reported */
	assert_true(resync_progress(&p, &rp));
	assert_false(rp.has_eta);

	/* 99.999%: still 99.99, not 100.00 */
	p.resync_total_bytes = 100000;
	p.resync_done_bytes = 99999;
	assert_true(resync_progress(&p, &rp));
	assert_int_equal(rp.percent_hundredths, 9999);
	assert_int_equal(rp.bytes_left, 1);

	/* done, and more than the total (writes during the resync): 100% */
	p.resync_done_bytes = 100000;
	p.has_resync_rate = true;
	p.resync_rate_bytes_per_s = 5;
	assert_true(resync_progress(&p, &rp));
	assert_int_equal(rp.percent_hundredths, 10000);
	assert_int_equal(rp.bytes_left, 0);
	assert_int_equal(rp.eta_s, 0);
	p.resync_done_bytes = 200000;
	assert_true(resync_progress(&p, &rp));
	assert_int_equal(rp.percent_hundredths, 10000);
	assert_int_equal(rp.bytes_left, 0);

	/* done without its own attribute: 0 */
	p.has_resync_done = false;
	assert_true(resync_progress(&p, &rp));
	assert_int_equal(rp.percent_hundredths, 0);
	assert_int_equal(rp.bytes_left, 100000);
	assert_int_equal(rp.eta_s, 20000);

	/* huge devices: done * 10000 does not fit 64 bits */
	p.has_resync_done = true;
	p.resync_total_bytes = 1ULL << 63;
	p.resync_done_bytes = (1ULL << 62) + 1;
	p.resync_rate_bytes_per_s = UINT64_MAX;
	assert_true(resync_progress(&p, &rp));
	assert_int_equal(rp.percent_hundredths, 5000);
	assert_true(rp.bytes_left == (1ULL << 62) - 1);
	assert_int_equal(rp.eta_s, 1);
	p.resync_total_bytes = UINT64_MAX;
	p.resync_done_bytes = UINT64_MAX - 1;
	assert_true(resync_progress(&p, &rp));
	assert_int_equal(rp.percent_hundredths, 9999);
}

/* A device with metadata: a resync, a stalled resync, a split-brain, an old kernel. */
static void resync_device(struct kdev *d)
{
	struct kpeer *p;

	sample_device(d);
	d->role = RBLK_ROLE_SECONDARY;
	d->disk_state = RBLK_DISK_CONSISTENT;
	d->open_count = 0;
	d->has_current_uuid = true;
	d->current_uuid = 0x9f3a0c21b7e4d560ULL;
	d->has_md_flags = true;
	d->md_flags = RBLK_MDF_CONSISTENT | RBLK_MDF_ATTACHED;
	d->n_peers = 4;

	p = &d->peers[0];
	p->peer_disk_state = RBLK_DISK_INCONSISTENT;
	p->has_repl_state = true;
	p->repl_state = RBLK_REPL_SYNC_SOURCE;
	p->has_sync_decision = true;
	p->sync_decision = RBLK_SYNC_BITMAP_SOURCE;
	p->has_bitmap_uuid = true;
	p->bitmap_uuid = 0x1122334455667788ULL;
	p->has_out_of_sync = true;
	p->out_of_sync_bytes = 1765433;
	p->has_resync_total = p->has_resync_done = p->has_resync_rate = true;
	p->resync_total_bytes = 3000000;
	p->resync_done_bytes = 1234567;
	p->resync_rate_bytes_per_s = 100000;
	p->has_resync_window = p->has_resync_latency = true;
	p->resync_window = 12;
	p->resync_latency_us = 23456;
	p->options.set[OPT_RESYNC_RATE] = p->options.set[OPT_RESYNC_LATENCY] = true;
	p->options.v[OPT_RESYNC_RATE] = 0;
	p->options.v[OPT_RESYNC_LATENCY] = 50;

	p = &d->peers[1];
	p->conn_state = RBLK_CONN_CONNECTED;
	p->peer_role = RBLK_ROLE_PRIMARY;
	p->peer_disk_state = RBLK_DISK_UP_TO_DATE;
	p->last_error[0] = 0;
	p->has_repl_state = true;
	p->repl_state = RBLK_REPL_SYNC_TARGET;
	p->has_sync_decision = true;
	p->sync_decision = RBLK_SYNC_FULL_TARGET;
	p->has_out_of_sync = true;
	p->out_of_sync_bytes = 1000;
	p->has_resync_total = p->has_resync_done = p->has_resync_rate = true;
	p->resync_total_bytes = 1000;
	p->resync_done_bytes = 0;
	p->resync_rate_bytes_per_s = 0;		/* stalled */

	p = &d->peers[2];
	memset(p, 0, sizeof(*p));
	p->node_id = 3;
	p->conn_state = RBLK_CONN_STANDALONE;
	p->peer_disk_state = RBLK_DISK_UNKNOWN;
	p->has_repl_state = true;
	p->repl_state = RBLK_REPL_OFF;
	p->has_sync_decision = true;
	p->sync_decision = RBLK_SYNC_SPLIT_BRAIN;
	p->split_brain = true;
	snprintf(p->last_error, sizeof(p->last_error), "split-brain");

	p = &d->peers[3];
	memset(p, 0, sizeof(*p));
	p->node_id = 4;
	p->peer_disk_state = RBLK_DISK_UNKNOWN;
}

static void test_device_resync_human(void **state)
{
	struct kdev d;
	struct conf c;

	(void)state;
	resync_device(&d);
	parse_ok(topo, &c);
	start(false);
	show_device(&d, &c, false);
	assert_string_equal(finish(),
		"vm-disk-1 minor:0 node-id:0 role:Secondary disk:Consistent backing:/dev/vda size:2097152s open:0 current-uuid:9F3A0C21B7E4D560 md-flags:consistent,attached\n"
		"  node-b node-id:1 connection:Connected role:Secondary disk:Inconsistent replication:SyncSource address:10.0.0.2:7789 inflight:0 rtt-us:312 tcp-rtt-us:250 out-of-sync-bytes:1765433 sync-decision:bitmap-source done:41.15% left-bytes:1765433 rate-bytes-per-s:100000 eta-s:18 window:12 latency-us:23456\n"
		"  node-c node-id:2 connection:Connected role:Primary disk:UpToDate replication:SyncTarget address:10.0.0.3:7789 inflight:0 rtt-us:0 out-of-sync-bytes:1000 sync-decision:full-target done:0.00% left-bytes:1000 rate-bytes-per-s:0\n"
		"  peer node-id:3 connection:StandAlone role:Unknown disk:Unknown replication:Off inflight:0 rtt-us:0 sync-decision:split-brain split-brain:yes last-error:\"split-brain\"\n"
		"  peer node-id:4 connection:StandAlone role:Unknown disk:Unknown inflight:0 rtt-us:0\n");
	finish_free();

	/* -s: the bitmap UUID on the counter line; no flags: md-flags:none */
	d.md_flags = 0;
	d.n_peers = 1;
	start(false);
	show_device(&d, NULL, true);
	assert_string_equal(finish(),
		"vm-disk-1 minor:0 node-id:0 role:Secondary disk:Consistent backing:/dev/vda size:2097152s open:0 current-uuid:9F3A0C21B7E4D560 md-flags:none\n"
		"    reads:10 writes:20 read-bytes:40960 write-bytes:6000000000 flushes:3 discards:4 inflight:5 errors:6 md-writes:7\n"
		"  peer node-id:1 connection:Connected role:Secondary disk:Inconsistent replication:SyncSource address:10.0.0.2:7789 inflight:0 rtt-us:312 tcp-rtt-us:250 out-of-sync-bytes:1765433 sync-decision:bitmap-source done:41.15% left-bytes:1765433 rate-bytes-per-s:100000 eta-s:18 window:12 latency-us:23456\n"
		"    writes:20 write-bytes:81920 flushes:0 discards:0 acks:20 reconnects:0 received-writes:0 received-bytes:0 reads:8 read-bytes:32768 served-reads:2 errors:0 bitmap-uuid:1122334455667788\n");
	finish_free();
	conf_free(&c);
}

static void test_device_resync_json(void **state)
{
	struct json_object *o, *peers, *p, *f;
	struct kdev d;
	const char *text;

	(void)state;
	resync_device(&d);
	start(true);
	show_device(&d, NULL, false);
	text = finish();
	/* the percentage is a number with exactly two decimals */
	assert_non_null(strstr(text, "\"resync_percent_done\":41.15,"));
	assert_non_null(strstr(text, "\"resync_percent_done\":0.00,"));
	o = parse_json(text);
	expect_str(o, "disk_state", "consistent");
	expect_str(o, "current_uuid", "9F3A0C21B7E4D560");
	f = get(o, "md_flags", json_type_array);
	assert_int_equal(json_object_array_length(f), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(f, 0)), "consistent");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(f, 1)), "attached");
	assert_int_equal(json_object_object_length(o), 30);
	peers = get(o, "peers", json_type_array);

	p = json_object_array_get_idx(peers, 0);
	expect_str(p, "replication_state", "sync_source");
	expect_uint(p, "out_of_sync_bytes", 1765433);
	expect_str(p, "sync_decision", "bitmap_source");
	assert_false(json_object_get_boolean(get(p, "split_brain", json_type_boolean)));
	expect_uint(p, "resync_total_bytes", 3000000);
	expect_uint(p, "resync_done_bytes", 1234567);
	assert_true(json_object_get_double(get(p, "resync_percent_done", json_type_double)) == 41.15);
	expect_uint(p, "resync_bytes_left", 1765433);
	expect_uint(p, "resync_rate_bytes_per_s", 100000);
	expect_uint(p, "resync_eta_s", 18);
	expect_str(p, "bitmap_uuid", "1122334455667788");
	expect_uint(p, "resync_rate_kib_per_s", 0);
	expect_uint(p, "resync_latency_ms", 50);
	expect_uint(p, "resync_window", 12);
	expect_uint(p, "resync_latency_us", 23456);
	assert_int_equal(json_object_object_length(p), 41);

	/* a zero rate: the ETA is null, the rest is there */
	p = json_object_array_get_idx(peers, 1);
	expect_str(p, "replication_state", "sync_target");
	expect_str(p, "sync_decision", "full_target");
	assert_true(json_object_get_double(get(p, "resync_percent_done", json_type_double)) == 0);
	expect_uint(p, "resync_bytes_left", 1000);
	expect_uint(p, "resync_rate_bytes_per_s", 0);
	expect_null(p, "resync_eta_s");
	expect_null(p, "bitmap_uuid");
	assert_int_equal(json_object_object_length(p), 41);

	p = json_object_array_get_idx(peers, 2);
	expect_str(p, "replication_state", "off");
	expect_str(p, "sync_decision", "split_brain");
	assert_true(json_object_get_boolean(get(p, "split_brain", json_type_boolean)));
	expect_null(p, "resync_percent_done");
	expect_null(p, "resync_eta_s");
	expect_null(p, "out_of_sync_bytes");

	/* nothing reported: every key, null (split_brain: a flag, false) */
	p = json_object_array_get_idx(peers, 3);
	expect_null(p, "replication_state");
	expect_null(p, "sync_decision");
	expect_null(p, "resync_total_bytes");
	assert_false(json_object_get_boolean(get(p, "split_brain", json_type_boolean)));
	assert_int_equal(json_object_object_length(p), 41);
	json_object_put(o);
	finish_free();
}

/* What rblk.ko reports of quorum: @quorum off, majority or votes. */
static void quorum_device(struct kdev *d, uint32_t quorum, bool quorate, uint32_t votes,
			  uint32_t held)
{
	sample_device(d);
	d->has_quorum_policy = d->has_on_no_quorum = true;
	d->has_quorum_voters = d->has_suspended_writes = true;
	d->qstate.has_state = d->qstate.has_votes = d->qstate.has_needed = true;
	d->qstate.has_suspended = true;
	d->quorum = quorum;
	d->on_no_quorum = RBLK_ON_NO_QUORUM_SUSPEND_IO;
	d->qstate.quorate = quorate;
	d->qstate.votes = votes;
	d->quorum_voters = 3;
	d->qstate.needed = quorum == RBLK_QUORUM_OFF ? 0 : 2;
	d->qstate.suspended = held ? RBLK_SUSPEND_NO_QUORUM : RBLK_SUSPEND_NONE;
	d->suspended_writes = held;
	d->n_peers = 0;
}

static void test_device_quorum_human(void **state)
{
	struct kdev d;

	(void)state;
	start(false);
	quorum_device(&d, RBLK_QUORUM_MAJORITY, true, 2, 0);
	show_device(&d, NULL, false);
	quorum_device(&d, RBLK_QUORUM_MAJORITY, false, 1, 4);
	show_device(&d, NULL, false);
	quorum_device(&d, 2, false, 1, 0);
	d.on_no_quorum = RBLK_ON_NO_QUORUM_IO_ERROR;	/* writes fail: none held */
	show_device(&d, NULL, false);
	/* off: nothing about quorum (the kernel counts the votes all the same) */
	quorum_device(&d, RBLK_QUORUM_OFF, true, 1, 0);
	show_device(&d, NULL, false);
	/* writes still held (a demotion fails them): shown whatever the policy */
	quorum_device(&d, RBLK_QUORUM_OFF, true, 1, 3);
	show_device(&d, NULL, false);
	/* an older kernel: no quorum attributes */
	sample_device(&d);
	d.n_peers = 0;
	show_device(&d, NULL, false);
	assert_string_equal(finish(),
		"vm-disk-1 minor:0 node-id:0 role:Primary disk:UpToDate backing:/dev/vda size:2097152s open:1 quorum:yes votes:2/3\n"
		"vm-disk-1 minor:0 node-id:0 role:Primary disk:UpToDate backing:/dev/vda size:2097152s open:1 quorum:no votes:1/3 (needed 2) suspended:no-quorum writes-held:4\n"
		"vm-disk-1 minor:0 node-id:0 role:Primary disk:UpToDate backing:/dev/vda size:2097152s open:1 quorum:no votes:1/3 (needed 2)\n"
		"vm-disk-1 minor:0 node-id:0 role:Primary disk:UpToDate backing:/dev/vda size:2097152s open:1\n"
		"vm-disk-1 minor:0 node-id:0 role:Primary disk:UpToDate backing:/dev/vda size:2097152s open:1 suspended:no-quorum writes-held:3\n"
		"vm-disk-1 minor:0 node-id:0 role:Primary disk:UpToDate backing:/dev/vda size:2097152s open:1\n");
	finish_free();

	/* the quorum fields come before the metadata ones that end the line */
	quorum_device(&d, RBLK_QUORUM_MAJORITY, true, 3, 0);
	d.has_current_uuid = true;
	d.current_uuid = 0x9f3a0c21b7e4d560ULL;
	start(false);
	show_device(&d, NULL, false);
	assert_string_equal(finish(),
		"vm-disk-1 minor:0 node-id:0 role:Primary disk:UpToDate backing:/dev/vda size:2097152s open:1 quorum:yes votes:3/3 current-uuid:9F3A0C21B7E4D560\n");
	finish_free();
}

static void test_device_quorum_json(void **state)
{
	struct json_object *a, *o;
	struct kdev d[3];

	(void)state;
	quorum_device(&d[0], RBLK_QUORUM_MAJORITY, false, 1, 4);
	quorum_device(&d[1], 2, true, 2, 0);
	d[1].on_no_quorum = RBLK_ON_NO_QUORUM_IO_ERROR;
	quorum_device(&d[2], RBLK_QUORUM_OFF, true, 1, 0);
	start(true);
	out_open_array(NULL);
	show_device(&d[0], NULL, false);
	show_device(&d[1], NULL, false);
	show_device(&d[2], NULL, false);
	out_close_array();
	a = parse_json(finish());

	o = json_object_array_get_idx(a, 0);
	expect_str(o, "quorum", "majority");
	expect_str(o, "on_no_quorum", "suspend-io");
	assert_false(json_object_get_boolean(get(o, "has_quorum", json_type_boolean)));
	expect_uint(o, "quorum_votes", 1);
	expect_uint(o, "quorum_needed", 2);
	expect_uint(o, "quorum_voters", 3);
	expect_str(o, "suspended", "no-quorum");
	expect_uint(o, "suspended_writes", 4);
	assert_int_equal(json_object_object_length(o), 30);

	o = json_object_array_get_idx(a, 1);
	expect_uint(o, "quorum", 2);			/* a number of votes: a number */
	expect_str(o, "on_no_quorum", "io-error");
	assert_true(json_object_get_boolean(get(o, "has_quorum", json_type_boolean)));
	expect_uint(o, "quorum_votes", 2);
	expect_str(o, "suspended", "no");
	expect_uint(o, "suspended_writes", 0);

	o = json_object_array_get_idx(a, 2);
	expect_str(o, "quorum", "off");			/* JSON has every key, also when off */
	assert_true(json_object_get_boolean(get(o, "has_quorum", json_type_boolean)));
	expect_uint(o, "quorum_needed", 0);
	expect_str(o, "suspended", "no");
	assert_int_equal(json_object_object_length(o), 30);
	json_object_put(a);
	finish_free();
}

/*
 * What rblk.ko reports of auto-promote and fencing: policy, handler, the
 * peers still being fenced (@pending) and why writes wait.
 */
static void fencing_device(struct kdev *d, bool auto_promote, bool promoted, uint8_t fencing,
			   const char *handler, uint32_t pending)
{
	sample_device(d);
	d->has_auto_promote = d->has_auto_promoted = d->has_fencing = true;
	d->has_fence_handler = d->fstate.has_pending = d->qstate.has_suspended = true;
	d->has_suspended_writes = true;
	d->auto_promote = auto_promote;
	d->auto_promoted = promoted;
	d->fencing = fencing;
	snprintf(d->fence_handler, sizeof(d->fence_handler), "%s", handler);
	d->fstate.pending = pending;
	d->qstate.suspended = pending && fencing != RBLK_FENCING_OFF ? RBLK_SUSPEND_FENCING :
			      RBLK_SUSPEND_NONE;
	d->suspended_writes = d->qstate.suspended ? 2 : 0;
	d->n_peers = 0;
}

/*
 * Humans see auto-promote and fencing only when not the defaults,
 * auto-promoted only on a primary, fence-pending only while a handler has
 * not decided; peers by name where the file names them.
 */
static void test_device_fencing_human(void **state)
{
	struct kdev d;
	struct conf c;

	(void)state;
	parse_ok(topo, &c);
	start(false);
	fencing_device(&d, true, true, RBLK_FENCING_RESOURCE_AND_STONITH,
		       "/usr/lib/rblk/fence-peer", (1u << 1) | (1u << 2));
	show_device(&d, &c, false);
	/* without the file, and a node id it does not have: ids */
	d.fstate.pending = (1u << 1) | (1u << 9);
	show_device(&d, NULL, false);
	show_device(&d, &c, false);
	/* a secondary that is not auto-promoted; fencing off with a handler */
	fencing_device(&d, true, false, RBLK_FENCING_OFF, "/usr/lib/rblk/fence-peer", 1u << 1);
	d.role = RBLK_ROLE_SECONDARY;
	show_device(&d, &c, false);
	/* auto-promoted shown on a primary only (a stale flag on a secondary is not) */
	fencing_device(&d, true, true, RBLK_FENCING_RESOURCE_ONLY, "/f", 0);
	d.role = RBLK_ROLE_SECONDARY;
	show_device(&d, &c, false);
	/* the defaults: nothing */
	fencing_device(&d, false, false, RBLK_FENCING_OFF, "", 0);
	show_device(&d, &c, false);
	assert_string_equal(finish(),
		"vm-disk-1 minor:0 node-id:0 role:Primary disk:UpToDate backing:/dev/vda size:2097152s open:1 auto-promote:yes auto-promoted:yes fencing:resource-and-stonith fence-handler:/usr/lib/rblk/fence-peer suspended:fencing writes-held:2 fence-pending:node-b,node-c\n"
		"vm-disk-1 minor:0 node-id:0 role:Primary disk:UpToDate backing:/dev/vda size:2097152s open:1 auto-promote:yes auto-promoted:yes fencing:resource-and-stonith fence-handler:/usr/lib/rblk/fence-peer suspended:fencing writes-held:2 fence-pending:1,9\n"
		"vm-disk-1 minor:0 node-id:0 role:Primary disk:UpToDate backing:/dev/vda size:2097152s open:1 auto-promote:yes auto-promoted:yes fencing:resource-and-stonith fence-handler:/usr/lib/rblk/fence-peer suspended:fencing writes-held:2 fence-pending:node-b,9\n"
		"vm-disk-1 minor:0 node-id:0 role:Secondary disk:UpToDate backing:/dev/vda size:2097152s open:1 auto-promote:yes fence-handler:/usr/lib/rblk/fence-peer fence-pending:node-b\n"
		"vm-disk-1 minor:0 node-id:0 role:Secondary disk:UpToDate backing:/dev/vda size:2097152s open:1 auto-promote:yes fencing:resource-only fence-handler:/f\n"
		"vm-disk-1 minor:0 node-id:0 role:Primary disk:UpToDate backing:/dev/vda size:2097152s open:1\n");
	finish_free();
	conf_free(&c);
}

static void test_device_fencing_json(void **state)
{
	struct json_object *a, *o, *p;
	struct kdev d[3];

	(void)state;
	fencing_device(&d[0], true, true, RBLK_FENCING_RESOURCE_AND_STONITH,
		       "/usr/lib/rblk/fence-peer", (1u << 1) | (1u << 31));
	fencing_device(&d[1], false, false, RBLK_FENCING_OFF, "", 0);
	sample_device(&d[2]);
	d[2].n_peers = 0;
	/* a kernel that reports FENCING but no FENCE_HANDLER has none */
	d[2].has_fencing = true;
	d[2].fencing = RBLK_FENCING_RESOURCE_ONLY;
	start(true);
	out_open_array(NULL);
	show_device(&d[0], NULL, false);
	show_device(&d[1], NULL, false);
	show_device(&d[2], NULL, false);
	out_close_array();
	a = parse_json(finish());

	o = json_object_array_get_idx(a, 0);
	assert_true(json_object_get_boolean(get(o, "auto_promote", json_type_boolean)));
	assert_true(json_object_get_boolean(get(o, "auto_promoted", json_type_boolean)));
	expect_str(o, "fencing", "resource-and-stonith");	/* the file's words */
	expect_str(o, "fence_handler", "/usr/lib/rblk/fence-peer");
	expect_str(o, "suspended", "fencing");
	expect_uint(o, "suspended_writes", 2);
	p = get(o, "fence_pending", json_type_array);		/* node ids */
	assert_int_equal(json_object_array_length(p), 2);
	assert_int_equal(json_object_get_int(json_object_array_get_idx(p, 0)), 1);
	assert_int_equal(json_object_get_int(json_object_array_get_idx(p, 1)), 31);
	assert_int_equal(json_object_object_length(o), 30);

	o = json_object_array_get_idx(a, 1);		/* every key, also the defaults */
	assert_false(json_object_get_boolean(get(o, "auto_promote", json_type_boolean)));
	assert_false(json_object_get_boolean(get(o, "auto_promoted", json_type_boolean)));
	expect_str(o, "fencing", "off");
	expect_str(o, "fence_handler", "");
	expect_str(o, "suspended", "no");
	assert_int_equal(json_object_array_length(get(o, "fence_pending", json_type_array)), 0);
	assert_int_equal(json_object_object_length(o), 30);

	o = json_object_array_get_idx(a, 2);
	expect_null(o, "auto_promote");
	expect_null(o, "auto_promoted");
	expect_str(o, "fencing", "resource-only");
	expect_str(o, "fence_handler", "");
	expect_null(o, "fence_pending");
	assert_int_equal(json_object_object_length(o), 30);
	json_object_put(a);
	finish_free();
}

/* RBLK_EVENT_FENCE_PEER: a run started (no result), then its result. */
static void test_fence_event_output(void **state)
{
	struct json_object *o;
	struct kevent ev;
	const char *text, *nl;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.event = RBLK_EVENT_FENCE_PEER;
	ev.has_minor = ev.has_name = ev.has_peer = true;
	ev.minor = 0;
	snprintf(ev.name, sizeof(ev.name), "vm-disk-1");
	ev.peer_node_id = 1;
	ev.fstate.has_pending = ev.qstate.has_suspended = true;
	ev.fstate.pending = (1u << 1) | (1u << 2);
	ev.qstate.suspended = RBLK_SUSPEND_FENCING;
	start(false);
	show_event(&ev, NULL, false);
	ev.fstate.pending = 1u << 2;
	ev.fstate.has_result = true;
	ev.fstate.result = 0;
	show_event(&ev, NULL, false);
	ev.peer_node_id = 2;
	ev.fstate.pending = 0;
	ev.fstate.result = -110;
	show_event(&ev, NULL, false);
	assert_string_equal(finish(),
		"fence_peer minor:0 name:vm-disk-1 peer-node-id:1 fence-pending:1,2 suspended:fencing\n"
		"fence_peer minor:0 name:vm-disk-1 peer-node-id:1 fence-pending:2 suspended:fencing fence-result:0\n"
		"fence_peer minor:0 name:vm-disk-1 peer-node-id:2 fence-pending:none suspended:fencing fence-result:-110\n");
	finish_free();

	ev.fstate.has_result = false;
	ev.fstate.pending = 1u << 2;
	start(true);
	show_event(&ev, NULL, false);
	ev.fstate.has_result = true;
	ev.fstate.pending = 0;
	ev.qstate.suspended = RBLK_SUSPEND_NONE;
	show_event(&ev, NULL, false);
	text = finish();
	assert_non_null(strstr(text,
		"{\"event\":\"fence_peer\",\"minor\":0,\"resource_name\":\"vm-disk-1\","
		"\"peer_node_id\":2,\"fence_pending\":[2],\"suspended\":\"fencing\"}\n"));
	o = parse_json(text);
	assert_false(json_object_object_get_ex(o, "fence_result", NULL));	/* started */
	assert_int_equal(json_object_object_length(o), 6);
	json_object_put(o);
	nl = strchr(text, '\n') + 1;
	o = parse_json(nl);
	expect_str(o, "event", "fence_peer");
	assert_int_equal(json_object_array_length(get(o, "fence_pending", json_type_array)), 0);
	expect_str(o, "suspended", "no");
	assert_int_equal(json_object_get_int(get(o, "fence_result", json_type_int)), -110);
	assert_int_equal(json_object_object_length(o), 7);
	json_object_put(o);
	finish_free();
}

/* RBLK_EVENT_QUORUM_CHANGED: what it carries, human and JSON. */
static void test_quorum_event_output(void **state)
{
	struct json_object *o;
	struct kevent ev;
	const char *text;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.event = RBLK_EVENT_QUORUM_CHANGED;
	ev.has_minor = ev.has_name = true;
	ev.minor = 0;
	snprintf(ev.name, sizeof(ev.name), "vm-disk-1");
	ev.qstate.has_state = ev.qstate.has_votes = true;
	ev.qstate.has_needed = ev.qstate.has_suspended = true;
	ev.qstate.quorate = false;
	ev.qstate.votes = 1;
	ev.qstate.needed = 2;
	ev.qstate.suspended = RBLK_SUSPEND_NO_QUORUM;
	start(false);
	show_event(&ev, NULL, false);
	ev.qstate.quorate = true;
	ev.qstate.votes = 2;
	ev.qstate.suspended = RBLK_SUSPEND_NONE;
	show_event(&ev, NULL, false);
	assert_string_equal(finish(),
		"quorum_changed minor:0 name:vm-disk-1 quorum:no votes:1 needed:2 suspended:no-quorum\n"
		"quorum_changed minor:0 name:vm-disk-1 quorum:yes votes:2 needed:2 suspended:no\n");
	finish_free();

	ev.qstate.quorate = false;
	ev.qstate.votes = 1;
	ev.qstate.suspended = RBLK_SUSPEND_NO_QUORUM;
	start(true);
	show_event(&ev, NULL, false);
	text = finish();
	assert_string_equal(text,
		"{\"event\":\"quorum_changed\",\"minor\":0,\"resource_name\":\"vm-disk-1\","
		"\"has_quorum\":false,\"quorum_votes\":1,\"quorum_needed\":2,"
		"\"suspended\":\"no-quorum\"}\n");
	o = parse_json(text);
	assert_false(json_object_get_boolean(get(o, "has_quorum", json_type_boolean)));
	expect_uint(o, "quorum_votes", 1);
	expect_uint(o, "quorum_needed", 2);
	expect_str(o, "suspended", "no-quorum");
	json_object_put(o);
	finish_free();
}

static void test_md_event_output(void **state)
{
	struct kevent ev;
	struct json_object *o;
	const char *text, *nl;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.event = RBLK_EVENT_REPL_STATE_CHANGED;
	ev.has_minor = ev.has_name = ev.has_peer = ev.has_repl_state = true;
	ev.minor = 0;
	snprintf(ev.name, sizeof(ev.name), "vm-disk-1");
	ev.peer_node_id = 1;
	ev.repl_state = RBLK_REPL_SYNC_SOURCE;
	start(false);
	show_event(&ev, NULL, false);
	ev.has_repl_state = false;
	ev.event = RBLK_EVENT_SPLIT_BRAIN;
	snprintf(ev.last_error, sizeof(ev.last_error), "both nodes wrote since 1122334455667788");
	show_event(&ev, NULL, false);
	ev.event = RBLK_EVENT_UUIDS_CHANGED;
	ev.has_peer = false;
	ev.last_error[0] = 0;
	ev.has_current_uuid = true;
	ev.current_uuid = 0xfedcba9876543210ULL;
	show_event(&ev, NULL, false);
	ev.has_current_uuid = false;	/* the kernel may send the minor only */
	show_event(&ev, NULL, false);
	assert_string_equal(finish(),
		"repl_state_changed minor:0 name:vm-disk-1 peer-node-id:1 replication:SyncSource\n"
		"split_brain minor:0 name:vm-disk-1 peer-node-id:1 last-error:\"both nodes wrote since 1122334455667788\"\n"
		"uuids_changed minor:0 name:vm-disk-1 current-uuid:FEDCBA9876543210\n"
		"uuids_changed minor:0 name:vm-disk-1\n");
	finish_free();

	ev.event = RBLK_EVENT_REPL_STATE_CHANGED;
	ev.has_peer = ev.has_repl_state = true;
	ev.repl_state = RBLK_REPL_WAIT_SOURCE;
	start(true);
	show_event(&ev, NULL, false);
	ev.event = RBLK_EVENT_SPLIT_BRAIN;
	ev.has_repl_state = false;
	snprintf(ev.last_error, sizeof(ev.last_error), "split-brain");
	show_event(&ev, NULL, false);
	ev.event = RBLK_EVENT_UUIDS_CHANGED;
	ev.has_peer = false;
	ev.last_error[0] = 0;
	ev.has_current_uuid = true;
	show_event(&ev, NULL, false);
	text = finish();

	o = parse_json(text);		/* json-c reads the first object */
	expect_str(o, "event", "repl_state_changed");
	expect_uint(o, "peer_node_id", 1);
	expect_str(o, "replication_state", "wait_source");
	assert_int_equal(json_object_object_length(o), 5);
	json_object_put(o);
	nl = strchr(text, '\n') + 1;
	o = parse_json(nl);
	expect_str(o, "event", "split_brain");
	expect_uint(o, "peer_node_id", 1);
	expect_str(o, "last_error", "split-brain");
	assert_int_equal(json_object_object_length(o), 5);
	json_object_put(o);
	nl = strchr(nl, '\n') + 1;
	o = parse_json(nl);
	expect_str(o, "event", "uuids_changed");
	expect_str(o, "current_uuid", "FEDCBA9876543210");
	expect_str(o, "resource_name", "vm-disk-1");
	assert_int_equal(json_object_object_length(o), 4);
	json_object_put(o);
	finish_free();
}

static void test_event_output(void **state)
{
	struct kevent ev;
	struct json_object *o;
	const char *text;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.event = RBLK_EVENT_CONN_STATE_CHANGED;
	ev.has_minor = true;
	ev.minor = 3;
	ev.has_peer = true;
	ev.peer_node_id = 1;
	ev.has_value_conn = true;
	ev.conn_state = RBLK_CONN_CONNECTING;
	snprintf(ev.last_error, sizeof(ev.last_error), "ping timeout");

	start(false);
	show_event(&ev, NULL, false);
	assert_string_equal(finish(),
		"conn_state_changed minor:3 peer-node-id:1 connection:Connecting last-error:\"ping timeout\"\n");
	finish_free();

	ev.has_name = true;
	snprintf(ev.name, sizeof(ev.name), "vm-disk-1");
	start(false);
	show_event(&ev, NULL, false);
	assert_string_equal(finish(),
		"conn_state_changed minor:3 name:vm-disk-1 peer-node-id:1 connection:Connecting last-error:\"ping timeout\"\n");
	finish_free();
	ev.has_name = false;

	start(true);
	show_event(&ev, NULL, false);
	ev.event = RBLK_EVENT_ROLE_CHANGED;
	ev.has_peer = ev.has_value_conn = false;
	ev.last_error[0] = 0;
	ev.has_value_role = true;
	ev.role = RBLK_ROLE_PRIMARY;
	show_event(&ev, NULL, true);
	text = finish();
	/* one JSON object per line */
	{
		const char *nl = strchr(text, '\n');
		char first[512];

		assert_non_null(nl);
		memcpy(first, text, (size_t)(nl - text));
		first[nl - text] = 0;
		o = parse_json(first);
		expect_str(o, "event", "conn_state_changed");
		expect_uint(o, "minor", 3);
		expect_uint(o, "peer_node_id", 1);
		expect_str(o, "conn_state", "connecting");
		expect_str(o, "last_error", "ping timeout");
		assert_int_equal(json_object_object_length(o), 5);
		json_object_put(o);

		o = parse_json(nl + 1);
		expect_str(o, "event", "role_changed");
		expect_str(o, "role", "primary");
		expect_uint(o, "minor", 3);
		assert_int_equal(strlen(json_object_get_string(get(o, "time", json_type_string))),
				 strlen("2026-11-29T12:00:00.000000Z"));
		assert_int_equal(json_object_object_length(o), 4);
		assert_int_equal(strchr(nl + 1, '\n')[1], 0);
		json_object_put(o);
	}
	finish_free();
}

static void test_print_api(void **state)
{
	struct json_object *o, *a;

	(void)state;
	start(true);
	out_open_object(NULL);
	print_uint("max", "%s", UINT64_MAX);
	print_int("neg", "%s", -5);
	print_bool("yes", "%s", true);
	print_string("s", "%s", "a\"b/c");
	print_string_or_null("n", "%s", NULL);
	print_enum("e", "%s", "up_to_date", "UpToDate");
	print_human("not in json %d", 1);
	print_nl();
	out_open_array("list");
	print_uint(NULL, NULL, 1);
	print_uint(NULL, NULL, 2);
	out_close_array();
	out_close_object();
	o = parse_json(finish());
	assert_true(json_object_get_uint64(get(o, "max", json_type_int)) == UINT64_MAX);
	assert_int_equal(json_object_get_int64(get(o, "neg", json_type_int)), -5);
	assert_true(json_object_get_boolean(get(o, "yes", json_type_boolean)));
	expect_str(o, "s", "a\"b/c");
	expect_str(o, "e", "up_to_date");
	a = get(o, "list", json_type_array);
	assert_int_equal(json_object_array_length(a), 2);
	assert_int_equal(json_object_get_int(json_object_array_get_idx(a, 1)), 2);
	assert_int_equal(json_object_object_length(o), 7);
	json_object_put(o);
	finish_free();

	start(false);
	out_open_object(NULL);
	print_uint("max", "max=%s", UINT64_MAX);
	print_int("neg", " neg=%s", -5);
	print_bool("yes", " yes=%s", true);
	print_string("s", " s=%s", "x");
	print_string("hidden", NULL, "x");
	print_string_or_null("n", " n=%s", NULL);
	print_enum("e", " e=%s", "up_to_date", "UpToDate");
	print_human(" h=%d", 1);
	print_nl();
	out_close_object();
	assert_string_equal(finish(), "max=18446744073709551615 neg=-5 yes=yes s=x e=UpToDate h=1\n");
	finish_free();
}

static void test_print_null_and_hundredths(void **state)
{
	const uint64_t seven = 7;

	(void)state;
	start(true);
	out_open_object(NULL);
	print_uint_or_null("a", "a=%s", &seven);
	print_uint_or_null("b", "b=%s", NULL);
	print_null("c");
	print_hundredths("p", "p=%s", 4115);
	print_hundredths("q", "q=%s", 5);
	print_hundredths("r", "r=%s", 10000);
	out_close_object();
	assert_string_equal(finish(), "{\"a\":7,\"b\":null,\"c\":null,\"p\":41.15,\"q\":0.05,\"r\":100.00}\n");
	finish_free();

	start(false);
	print_uint_or_null("a", "a=%s", &seven);
	print_uint_or_null("b", " b=%s", NULL);
	print_null("c");
	print_hundredths("p", " p=%s%%", 4115);
	print_hundredths("q", " q=%s", 5);
	print_nl();
	assert_string_equal(finish(), "a=7 p=41.15% q=0.05\n");
	finish_free();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_json),
		cmocka_unit_test(test_device_json_no_names),
		cmocka_unit_test(test_status_array),
		cmocka_unit_test(test_device_human),
		cmocka_unit_test(test_device_data_digest),
		cmocka_unit_test(test_device_read_balancing),
		cmocka_unit_test(test_event_output),
		cmocka_unit_test(test_resync_progress),
		cmocka_unit_test(test_device_resync_human),
		cmocka_unit_test(test_device_resync_json),
		cmocka_unit_test(test_md_event_output),
		cmocka_unit_test(test_device_quorum_human),
		cmocka_unit_test(test_device_quorum_json),
		cmocka_unit_test(test_quorum_event_output),
		cmocka_unit_test(test_device_fencing_human),
		cmocka_unit_test(test_device_fencing_json),
		cmocka_unit_test(test_fence_event_output),
		cmocka_unit_test(test_print_api),
		cmocka_unit_test(test_print_null_and_hundredths),
	};

	return cmocka_run_group_tests_name("output", tests, NULL, NULL);
}
