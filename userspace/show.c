// SPDX-License-Identifier: GPL-2.0
/*
 * show.c - device status, events and metadata dumps, printed through
 * output.c.
 *
 * JSON keys are the uapi attribute names in lowercase (RBLK_A_OPEN_COUNT ->
 * "open_count"); enum values are the enum names in lowercase
 * (RBLK_DISK_UP_TO_DATE -> "up_to_date").  Numbers are raw integers;
 * generation UUIDs are strings of 16 upper-case hex digits.  Attributes a
 * kernel may leave out are null in JSON (the keys stay the same) and not
 * shown to humans.
 */
#include <inttypes.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "rblkadm.h"

const char *dev_peer_name(const struct conf *c, const struct kdev *d, uint32_t id)
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

/*
 * The element of a bit list for bit @bit: adds it to the JSON array and
 * returns its text for humans (in @buf, or a constant).
 */
typedef const char *(*bit_item_fn)(unsigned int bit, const void *arg, char *buf, size_t len);

/*
 * The set bits of @bits as a list: a JSON array of @item's elements; for
 * humans their texts joined by commas, or "none".
 */
static void print_bit_list(const char *key, const char *fmt, uint32_t bits, bit_item_fn item,
			   const void *arg)
{
	char human[32 * NODE_NAME_MAX_BYTES], buf[NODE_NAME_MAX_BYTES];
	size_t off = 0;
	unsigned int bit;

	human[0] = 0;
	out_open_array(key);
	for (bit = 0; bit < 32; bit++) {
		const char *n;

		if (!(bits & (1u << bit)))
			continue;
		n = item(bit, arg, buf, sizeof(buf));
		if (off < sizeof(human))
			off += (size_t)snprintf(human + off, sizeof(human) - off, "%s%s",
						off ? "," : "", n);
	}
	out_close_array();
	if (fmt)
		print_human(fmt, bits ? human : "none");
}

static const char *md_flag_item(unsigned int bit, const void *arg, char *buf, size_t len)
{
	const char *n = md_flag_name(bit, out_is_json());

	(void)arg;
	if (!n) {
		snprintf(buf, len, "bit%u", bit);
		n = buf;
	}
	print_string(NULL, NULL, n);
	return n;
}

/* RBLK_MDF_* as names: "consistent,attached" / ["consistent","attached"]. */
static void print_md_flags(const char *key, const char *fmt, uint32_t flags)
{
	print_bit_list(key, fmt, flags, md_flag_item, NULL);
}

struct node_names {
	const struct conf *c;
	const struct kdev *d;	/* NULL: ids only */
};

static const char *node_id_item(unsigned int bit, const void *arg, char *buf, size_t len)
{
	const struct node_names *nn = arg;
	const char *n = nn->d ? dev_peer_name(nn->c, nn->d, bit) : NULL;

	print_uint(NULL, NULL, bit);
	if (!n) {
		snprintf(buf, len, "%u", bit);
		n = buf;
	}
	return n;
}

/*
 * A set of node ids, a bit each: a JSON array of the ids; for humans the
 * nodes' names where @c names them for device @d (else the ids),
 * "node-b,2", or "none".
 */
static void print_node_ids(const char *key, const char *fmt, uint32_t nodes,
			   const struct conf *c, const struct kdev *d)
{
	const struct node_names nn = { c, d };

	print_bit_list(key, fmt, nodes, node_id_item, &nn);
}

static void print_uuid(const char *key, const char *fmt, uint64_t uuid)
{
	char u[24];

	print_string(key, fmt, format_uuid(uuid, u, sizeof(u)));
}

/* (a * b) / c, rounded down, without overflow for a <= c. */
static uint64_t mul_div(uint64_t a, uint64_t b, uint64_t c)
{
#ifdef __SIZEOF_INT128__
	return (uint64_t)((unsigned __int128)a * b / c);
#else
	return (uint64_t)((long double)a * b / c);
#endif
}

bool resync_progress(const struct kpeer *p, struct resync_progress *out)
{
	uint64_t total = p->has_resync_total ? p->resync_total_bytes : 0;
	uint64_t done = p->has_resync_done ? p->resync_done_bytes : 0;

	memset(out, 0, sizeof(*out));
	if (!total)
		return false;
	if (done > total)
		done = total;
	out->percent_hundredths = (uint32_t)mul_div(done, 10000, total);
	out->bytes_left = total - done;
	out->rate_bytes_per_s = p->has_resync_rate ? p->resync_rate_bytes_per_s : 0;
	out->has_eta = out->rate_bytes_per_s > 0;
	if (out->has_eta)
		out->eta_s = out->bytes_left / out->rate_bytes_per_s +
			     (out->bytes_left % out->rate_bytes_per_s != 0);
	return true;
}

/*
 * The replication part of a peer line, as "drbdadm status" shows it:
 * replication:SyncSource ... done:45.23% and what it is computed from.
 */
static void show_peer_repl(const struct kpeer *p)
{
	uint64_t rate_kib_per_s = p->options.v[OPT_RESYNC_RATE];
	uint64_t latency_ms = p->options.v[OPT_RESYNC_LATENCY];
	struct resync_progress rp;
	bool resync = resync_progress(p, &rp);

	if (p->has_out_of_sync)
		print_uint("out_of_sync_bytes", " out-of-sync-bytes:%s", p->out_of_sync_bytes);
	else
		print_null("out_of_sync_bytes");
	if (p->has_sync_decision)
		print_enum("sync_decision", " sync-decision:%s",
			   sync_decision_json(p->sync_decision),
			   sync_decision_human(p->sync_decision));
	else
		print_null("sync_decision");
	print_bool("split_brain", p->split_brain ? " split-brain:%s" : NULL, p->split_brain);
	print_uint_or_null("resync_total_bytes", NULL,
			   p->has_resync_total ? &p->resync_total_bytes : NULL);
	print_uint_or_null("resync_done_bytes", NULL,
			   p->has_resync_done ? &p->resync_done_bytes : NULL);
	if (resync) {
		print_hundredths("resync_percent_done", " done:%s%%", rp.percent_hundredths);
		print_uint("resync_bytes_left", " left-bytes:%s", rp.bytes_left);
	} else {
		print_null("resync_percent_done");
		print_null("resync_bytes_left");
	}
	print_uint_or_null("resync_rate_bytes_per_s", resync ? " rate-bytes-per-s:%s" : NULL,
			   p->has_resync_rate ? &p->resync_rate_bytes_per_s : NULL);
	print_uint_or_null("resync_eta_s", " eta-s:%s", resync && rp.has_eta ? &rp.eta_s : NULL);
	/* the rate controller: its settings, and while it runs, its state */
	print_uint_or_null("resync_rate_kib_per_s", NULL,
			   p->options.set[OPT_RESYNC_RATE] ? &rate_kib_per_s : NULL);
	print_uint_or_null("resync_latency_ms", NULL,
			   p->options.set[OPT_RESYNC_LATENCY] ? &latency_ms : NULL);
	print_uint_or_null("resync_window", resync ? " window:%s" : NULL,
			   p->has_resync_window ? &p->resync_window : NULL);
	print_uint_or_null("resync_latency_us", resync ? " latency-us:%s" : NULL,
			   p->has_resync_latency ? &p->resync_latency_us : NULL);
}

/*
 * The quorum part of a device line.  Humans see it only while quorum is
 * on ("quorum:no votes:1/3 (needed 2)") and while writes are held
 * ("suspended:no-quorum writes-held:4"); JSON always has every key.
 */
static void show_quorum(const struct kdev *d)
{
	const struct kquorum *qs = &d->qstate;
	bool on = d->has_quorum_policy && d->quorum != RBLK_QUORUM_OFF;
	bool lacking = on && qs->has_state && !qs->quorate;
	bool held = qs->has_suspended && qs->suspended != RBLK_SUSPEND_NONE;
	uint64_t votes = qs->votes, voters = d->quorum_voters;
	uint64_t needed = qs->needed, writes = d->suspended_writes;
	char q[16];

	/* "off", "majority" or the number of votes */
	if (!d->has_quorum_policy)
		print_null("quorum");
	else if (d->quorum == RBLK_QUORUM_OFF || d->quorum == RBLK_QUORUM_MAJORITY)
		print_string("quorum", NULL, format_quorum(d->quorum, q, sizeof(q)));
	else
		print_uint("quorum", NULL, d->quorum);
	print_string_or_null("on_no_quorum", NULL,
			     d->has_on_no_quorum ? on_no_quorum_name(d->on_no_quorum) : NULL);
	print_bool_or_null("has_quorum", on ? " quorum:%s" : NULL,
			   qs->has_state ? &qs->quorate : NULL);
	print_uint_or_null("quorum_votes", on ? " votes:%s" : NULL, qs->has_votes ? &votes : NULL);
	print_uint_or_null("quorum_voters", on ? "/%s" : NULL,
			   d->has_quorum_voters ? &voters : NULL);
	print_uint_or_null("quorum_needed", lacking ? " (needed %s)" : NULL,
			   qs->has_needed ? &needed : NULL);
	print_string_or_null("suspended", held ? " suspended:%s" : NULL,
			     qs->has_suspended ? suspend_reason_name(qs->suspended) : NULL);
	print_uint_or_null("suspended_writes", held ? " writes-held:%s" : NULL,
			   d->has_suspended_writes ? &writes : NULL);
}

/*
 * The auto-promote and fencing policy of a device line.  Humans see only
 * what is not the default ("auto-promote:yes fencing:resource-only
 * fence-handler:/usr/sbin/fence-peer"), and "auto-promoted:yes" on a
 * primary that an open for writing promoted; JSON always has every key.
 * A kernel that reports FENCING but no FENCE_HANDLER has no handler.
 */
static void show_primary_policy(const struct kdev *d)
{
	bool promoted = d->auto_promoted && d->role == RBLK_ROLE_PRIMARY;
	const char *handler = d->has_fence_handler ? d->fence_handler :
			      d->has_fencing ? "" : NULL;

	print_bool_or_null("auto_promote", d->auto_promote ? " auto-promote:%s" : NULL,
			   d->has_auto_promote ? &d->auto_promote : NULL);
	print_bool_or_null("auto_promoted", promoted ? " auto-promoted:%s" : NULL,
			   d->has_auto_promoted ? &d->auto_promoted : NULL);
	print_string_or_null("fencing", d->fencing != RBLK_FENCING_OFF ? " fencing:%s" : NULL,
			     d->has_fencing ? fencing_name(d->fencing) : NULL);
	print_string_or_null("fence_handler", handler && handler[0] ? " fence-handler:%s" : NULL,
			     handler);
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
	/* whether peers must prove the shared secret; never the secret */
	print_bool_or_null("auth", d->auth ? " auth:%s" : NULL, d->has_auth ? &d->auth : NULL);
	/* the checksum of the data of every DATA packet */
	if (d->has_data_digest)
		print_enum("data_digest", d->data_digest ? " data-digest:%s" : NULL,
			   data_digest_name(d->data_digest), data_digest_name(d->data_digest));
	else
		print_null("data_digest");
	/* where reads go while the local disk is UpToDate */
	if (d->has_read_balancing)
		print_enum("read_balancing",
			   d->read_balancing != RBLK_READ_PREFER_LOCAL ? " read-balancing:%s" : NULL,
			   read_balancing_name(d->read_balancing),
			   read_balancing_name(d->read_balancing));
	else
		print_null("read_balancing");
	show_primary_policy(d);
	show_quorum(d);
	/* the peers whose fence-peer handler has not decided yet */
	if (d->fstate.has_pending)
		print_node_ids("fence_pending", d->fstate.pending ? " fence-pending:%s" : NULL,
			       d->fstate.pending, c, d);
	else
		print_null("fence_pending");
	if (d->has_current_uuid)
		print_uuid("current_uuid", " current-uuid:%s", d->current_uuid);
	else
		print_null("current_uuid");
	if (d->has_md_flags)
		print_md_flags("md_flags", " md-flags:%s", d->md_flags);
	else
		print_null("md_flags");
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
		print_uint("md_writes", " md-writes:%s", d->md_writes);
		print_nl();
		out_close_object();
	}
	out_open_array("peers");
	for (i = 0; i < d->n_peers; i++) {
		const struct kpeer *p = &d->peers[i];
		const char *name = dev_peer_name(c, d, p->node_id);

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
		print_bool("witness", p->witness ? " witness:%s" : NULL, p->witness);
		if (p->has_repl_state)
			print_enum("replication_state", " replication:%s",
				   repl_json(p->repl_state), repl_human(p->repl_state));
		else
			print_null("replication_state");
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
		/* TCP's round trip: known only once connected and sampled */
		print_uint_or_null("tcp_rtt_us", " tcp-rtt-us:%s",
				   tcp_rtt_known(p) ? &p->tcp_rtt_us : NULL);
		show_peer_repl(p);
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
			print_uint("reads", " reads:%s", p->reads);
			print_uint("read_bytes", " read-bytes:%s", p->read_bytes);
			print_uint("served_reads", " served-reads:%s", p->served_reads);
			print_uint("errors", " errors:%s", p->errors);
			if (p->has_bitmap_uuid)
				print_uuid("bitmap_uuid", " bitmap-uuid:%s", p->bitmap_uuid);
			else
				print_null("bitmap_uuid");
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
	if (ev->has_repl_state)
		print_enum("replication_state", " replication:%s", repl_json(ev->repl_state),
			   repl_human(ev->repl_state));
	if (ev->has_current_uuid)
		print_uuid("current_uuid", " current-uuid:%s", ev->current_uuid);
	if (ev->fstate.has_pending)
		print_node_ids("fence_pending", " fence-pending:%s", ev->fstate.pending, NULL,
			       NULL);
	if (ev->qstate.has_state)
		print_bool("has_quorum", " quorum:%s", ev->qstate.quorate);
	if (ev->qstate.has_votes)
		print_uint("quorum_votes", " votes:%s", ev->qstate.votes);
	if (ev->qstate.has_needed)
		print_uint("quorum_needed", " needed:%s", ev->qstate.needed);
	if (ev->qstate.has_suspended)
		print_string("suspended", " suspended:%s",
			     suspend_reason_name(ev->qstate.suspended));
	/* FENCE_PEER: none while the handler runs, then its exit code or -errno */
	if (ev->fstate.has_result)
		print_int("fence_result", " fence-result:%s", ev->fstate.result);
	if (ev->last_error[0])
		print_string("last_error", " last-error:\"%s\"", ev->last_error);
	print_nl();
	out_close_object();
}

/**
 * show_md - print a metadata dump (RBLK_CMD_MD_DUMP reply)
 * @md: the decoded reply
 * @res_name: the resource
 * @r: the resource of the topology file, for peer names; may be NULL
 * @minor: the device it was read through, < 0 when read from the disk
 * @backing: the data disk
 * @meta: the external metadata device, NULL or "" for internal metadata
 *
 * Human: a header line, then key:value lines and one line per bitmap slot.
 * JSON: one object with the keys documented in rblkadm(8).
 */
void show_md(const struct kmd *md, const char *res_name, const struct conf_resource *r,
	     int64_t minor, const char *backing, const char *meta)
{
	uint64_t minor_u = minor >= 0 ? (uint64_t)minor : 0;
	char u[24];
	unsigned int i;

	out_open_object(NULL);
	print_string("resource_name", "%s", res_name);
	print_uint_or_null("minor", " minor:%s", minor >= 0 ? &minor_u : NULL);
	print_string("backing_path", " backing:%s", backing);
	print_string("meta_disk", " meta-disk:%s", meta && meta[0] ? meta : "internal");
	print_nl();

	print_human(" ");
	if (md->has_node_id)
		print_uint("node_id", " node-id:%s", md->node_id);
	else
		print_null("node_id");
	if (md->has_flags)
		print_md_flags("md_flags", " flags:%s", md->flags);
	else
		print_null("md_flags");
	print_uint_or_null("md_seq", " seq:%s", md->has_seq ? &md->seq : NULL);
	if (md->has_valid_copies) {
		const char *vc = (md->valid_copies & 3) == 3 ? "0,1" :
				 md->valid_copies & 1 ? "0" : md->valid_copies & 2 ? "1" : "none";

		out_open_array("md_valid_copies");
		for (i = 0; i < 2; i++)
			if (md->valid_copies & (1u << i))
				print_uint(NULL, NULL, i);
		out_close_array();
		print_human(" valid-copies:%s", vc);
	} else {
		print_null("md_valid_copies");
	}
	print_nl();

	print_human(" ");
	print_uint_or_null("size_sectors", " size:%ss", md->has_size ? &md->size_sectors : NULL);
	print_uint_or_null("md_offset_sectors", " md-offset:%ss",
			   md->has_offset ? &md->md_offset_sectors : NULL);
	print_uint_or_null("md_size_sectors", " md-size:%ss",
			   md->has_md_size ? &md->md_size_sectors : NULL);
	{
		uint64_t bm = md->bm_block_bytes, al = md->al_extent_bytes, mp = md->max_peers;

		print_uint_or_null("bm_block_bytes", " bm-block-bytes:%s",
				   md->has_bm_block ? &bm : NULL);
		print_uint_or_null("al_extent_bytes", " al-extent-bytes:%s",
				   md->has_al_extent ? &al : NULL);
		print_uint_or_null("max_peers", " max-peers:%s", md->has_max_peers ? &mp : NULL);
	}
	print_nl();

	print_human(" ");
	if (md->has_current_uuid)
		print_uuid("current_uuid", " current-uuid:%s", md->current_uuid);
	else
		print_null("current_uuid");
	out_open_array("history_uuids");
	if (md->n_history)
		print_human(" history-uuids:");
	for (i = 0; i < md->n_history; i++) {
		format_uuid(md->history[i], u, sizeof(u));
		print_string(NULL, i ? ",%s" : "%s", u);
	}
	out_close_array();
	print_nl();

	out_open_array("bitmap_slots");
	for (i = 0; i < md->n_slots; i++) {
		const struct kmd_slot *sl = &md->slots[i];
		const struct conf_node *n = r ? conf_find_node_id(r, sl->peer_node_id) : NULL;

		out_open_object(NULL);
		print_uint("peer_node_id", "  slot peer-node-id:%s", sl->peer_node_id);
		print_string_or_null("peer_name", " name:%s", n ? n->name : NULL);
		if (sl->has_bitmap_uuid)
			print_uuid("bitmap_uuid", " bitmap-uuid:%s", sl->bitmap_uuid);
		else
			print_null("bitmap_uuid");
		print_uint_or_null("out_of_sync_bytes", " out-of-sync-bytes:%s",
				   sl->has_out_of_sync ? &sl->out_of_sync_bytes : NULL);
		print_nl();
		out_close_object();
	}
	out_close_array();
	out_close_object();
}
