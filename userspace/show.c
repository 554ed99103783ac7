// SPDX-License-Identifier: GPL-2.0
/*
 * show.c - device status and events, printed through output.c.
 *
 * JSON keys are the uapi attribute names in lowercase (RBLK_A_OPEN_COUNT ->
 * "open_count"); enum values are the enum names in lowercase
 * (RBLK_DISK_UP_TO_DATE -> "up_to_date").  Numbers are raw integers.
 */
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "rblkadm.h"

static const char *peer_name(const struct conf *c, const struct kdev *d, uint32_t id)
{
	const struct conf_resource *r;
	const struct conf_node *n;

	if (!c)
		return NULL;
	r = conf_find_resource(c, d->name);
	if (!r || r->minor != d->minor)
		return NULL;
	n = conf_find_node_id(r, id);
	return n ? n->name : NULL;
}

/**
 * show_device - print one device: a device line, then one line per peer
 * @d: the device as read from the kernel
 * @c: topology file for peer names, or NULL
 * @stats: human mode: add counter lines (JSON always has every counter)
 */
void show_device(const struct kdev *d, const struct conf *c, bool stats)
{
	bool all = stats || out_is_json();
	unsigned int i;
	char ip[64];

	out_open_object(NULL);
	print_string("resource_name", "%s", d->name);
	print_uint("minor", " minor:%s", d->minor);
	print_uint("node_id", " node-id:%s", d->node_id);
	print_string("cluster_name", NULL, d->cluster);
	print_enum("role", " role:%s", role_json(d->role), role_human(d->role));
	print_enum("disk_state", " disk:%s", disk_json(d->disk_state), disk_human(d->disk_state));
	print_string("backing_path", d->backing[0] ? " backing:%s" : NULL, d->backing);
	print_uint("size_sectors", " size:%ss", d->size_sectors);
	print_uint("logical_block_size_bytes", NULL, d->logical_block_size_bytes);
	print_uint("open_count", " open:%s", d->open_count);
	print_nl();
	if (all) {
		out_open_object("stats");
		print_human("   ");
		print_uint("reads", " reads:%s", d->reads);
		print_uint("writes", " writes:%s", d->writes);
		print_uint("read_bytes", " read-bytes:%s", d->read_bytes);
		print_uint("write_bytes", " write-bytes:%s", d->write_bytes);
		print_uint("flushes", " flushes:%s", d->flushes);
		print_uint("discards", " discards:%s", d->discards);
		print_uint("inflight", " inflight:%s", d->inflight);
		print_uint("errors", " errors:%s", d->errors);
		print_nl();
		out_close_object();
	}
	out_open_array("peers");
	for (i = 0; i < d->n_peers; i++) {
		const struct kpeer *p = &d->peers[i];
		const char *name = peer_name(c, d, p->node_id);

		out_open_object(NULL);
		print_human("  %s", name ? name : "peer");
		print_uint("peer_node_id", " node-id:%s", p->node_id);
		print_string_or_null("peer_name", NULL, name);
		print_enum("conn_state", " connection:%s", conn_json(p->conn_state),
			   conn_human(p->conn_state));
		print_enum("peer_role", " role:%s", role_json(p->peer_role),
			   role_human(p->peer_role));
		print_enum("peer_disk_state", " disk:%s", disk_json(p->peer_disk_state),
			   disk_human(p->peer_disk_state));
		if (p->peer.family) {
			char a[80];

			format_addr(&p->peer, a, sizeof(a));
			print_human(" address:%s", a);
		}
		format_ip(&p->peer, ip, sizeof(ip));
		print_string("peer_ip", NULL, ip);
		print_uint("peer_port", NULL, p->peer.port);
		format_ip(&p->local, ip, sizeof(ip));
		print_string("local_ip", NULL, ip);
		print_uint("local_port", NULL, p->local.port);
		print_uint("inflight", " inflight:%s", p->inflight);
		print_uint("rtt_us", " rtt-us:%s", p->rtt_us);
		print_string("last_error",
			     p->last_error[0] && p->conn_state != RBLK_CONN_CONNECTED ?
			     " last-error:\"%s\"" : NULL, p->last_error);
		print_nl();
		if (all) {
			print_human("   ");
			print_uint("writes", " writes:%s", p->writes);
			print_uint("write_bytes", " write-bytes:%s", p->write_bytes);
			print_uint("flushes", " flushes:%s", p->flushes);
			print_uint("discards", " discards:%s", p->discards);
			print_uint("acks", " acks:%s", p->acks);
			print_uint("reconnects", " reconnects:%s", p->reconnects);
			print_uint("received_writes", " received-writes:%s", p->received_writes);
			print_uint("received_bytes", " received-bytes:%s", p->received_bytes);
			print_uint("errors", " errors:%s", p->errors);
			print_nl();
		}
		out_close_object();
	}
	out_close_array();
	out_close_object();
}

/**
 * show_event - print one event as one line (one JSON object with -j)
 * @ev: the decoded event; only the attributes the kernel sent are printed
 * @c: unused for now (events carry ids, not names)
 * @timestamps: prefix the wall-clock time (key "time" in JSON)
 */
void show_event(const struct kevent *ev, const struct conf *c, bool timestamps)
{
	(void)c;
	out_open_object(NULL);
	if (timestamps) {
		struct timeval tv;
		struct tm tm;
		char t[64], full[80];

		gettimeofday(&tv, NULL);
		gmtime_r(&tv.tv_sec, &tm);
		strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(full, sizeof(full), "%s.%06ldZ", t, (long)tv.tv_usec);
		print_string("time", "%s ", full);
	}
	print_string("event", "%s", event_json(ev->event));
	if (ev->has_minor)
		print_uint("minor", " minor:%s", ev->minor);
	if (ev->has_name)
		print_string("resource_name", " name:%s", ev->name);
	if (ev->has_peer)
		print_uint("peer_node_id", " peer-node-id:%s", ev->peer_node_id);
	if (ev->has_value_role)
		print_enum("role", " role:%s", role_json(ev->role), role_human(ev->role));
	if (ev->has_value_disk)
		print_enum("disk_state", " disk:%s", disk_json(ev->disk_state),
			   disk_human(ev->disk_state));
	if (ev->has_value_conn)
		print_enum("conn_state", " connection:%s", conn_json(ev->conn_state),
			   conn_human(ev->conn_state));
	if (ev->has_peer_role)
		print_enum("peer_role", " peer-role:%s", role_json(ev->peer_role),
			   role_human(ev->peer_role));
	if (ev->has_peer_disk)
		print_enum("peer_disk_state", " peer-disk:%s", disk_json(ev->peer_disk_state),
			   disk_human(ev->peer_disk_state));
	if (ev->last_error[0])
		print_string("last_error", " last-error:\"%s\"", ev->last_error);
	print_nl();
	out_close_object();
}
