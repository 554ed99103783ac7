// SPDX-License-Identifier: GPL-2.0
/*
 * metrics.c - the status in the Prometheus text exposition format, for
 * node_exporter's textfile collector.
 *
 * Every family has its # HELP and # TYPE lines and then the samples of
 * every device (or peer), so each family is one group.  Labels:
 * resource, minor; for peers also peer_node_id and peer (the name of the
 * topology file, "" when it has none).  An enum is a state set, one
 * sample per possible value, 1 for the current one and 0 for the others
 * (rblk_disk_state{...,state="up_to_date"} 1), the values as in the JSON
 * of status.  Counters end in _total, units are in the names (_bytes,
 * _seconds, _ratio).  A value the kernel did not report has no sample.
 */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "rblkadm.h"

const char *prom_escape(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	if (!len)
		return buf;
	for (; *s; s++) {
		const char *rep = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" :
				  *s == '\n' ? "\\n" : NULL;
		size_t k = rep ? 2 : 1;

		if (o + k >= len)
			break;
		if (rep)
			memcpy(buf + o, rep, 2);
		else
			buf[o] = *s;
		o += k;
	}
	buf[o] = 0;
	return buf;
}

/* One family: a value of a device (peer NULL) or of a peer. */
struct metric {
	const char *name, *type, *help;
	bool peer;
	/* a number: false when the kernel did not report it; *@scale decimals */
	bool (*get)(const struct kdev *d, const struct kpeer *p, uint64_t *v, unsigned int *scale);
	/* or the uint64_t at this offset, if the bool at @has_off - 1 (0: none) is set */
	size_t off, has_off;
	/* a state set: the values 0..@count-1, their words, the current one */
	const char *(*word)(unsigned int v);
	unsigned int count;
	bool (*state)(const struct kdev *d, const struct kpeer *p, unsigned int *v);
};

static bool role(const struct kdev *d, const struct kpeer *p, unsigned int *v)
{
	*v = p ? p->peer_role : d->role;
	return true;
}

static bool disk(const struct kdev *d, const struct kpeer *p, unsigned int *v)
{
	*v = p ? p->peer_disk_state : d->disk_state;
	return true;
}

static bool conn(const struct kdev *d, const struct kpeer *p, unsigned int *v)
{
	(void)d;
	*v = p->conn_state;
	return true;
}

static bool repl(const struct kdev *d, const struct kpeer *p, unsigned int *v)
{
	(void)d;
	*v = p->repl_state;
	return p->has_repl_state;
}

static bool suspended(const struct kdev *d, const struct kpeer *p, unsigned int *v)
{
	(void)p;
	*v = d->qstate.suspended;
	return d->qstate.has_suspended;
}

static bool size_bytes(const struct kdev *d, const struct kpeer *p, uint64_t *v,
		       unsigned int *scale)
{
	(void)p;
	(void)scale;
	*v = d->size_sectors * 512;
	return true;
}

static bool open_count(const struct kdev *d, const struct kpeer *p, uint64_t *v,
		       unsigned int *scale)
{
	(void)p;
	(void)scale;
	*v = d->open_count;
	return true;
}

static bool has_quorum(const struct kdev *d, const struct kpeer *p, uint64_t *v,
		       unsigned int *scale)
{
	(void)p;
	(void)scale;
	*v = d->qstate.quorate;
	return d->qstate.has_state;
}

static bool quorum_votes(const struct kdev *d, const struct kpeer *p, uint64_t *v,
			 unsigned int *scale)
{
	(void)p;
	(void)scale;
	*v = d->qstate.votes;
	return d->qstate.has_votes;
}

static bool quorum_needed(const struct kdev *d, const struct kpeer *p, uint64_t *v,
			  unsigned int *scale)
{
	(void)p;
	(void)scale;
	*v = d->qstate.needed;
	return d->qstate.has_needed;
}

static bool quorum_voters(const struct kdev *d, const struct kpeer *p, uint64_t *v,
			  unsigned int *scale)
{
	(void)p;
	(void)scale;
	*v = d->quorum_voters;
	return d->has_quorum_voters;
}

static bool suspended_writes(const struct kdev *d, const struct kpeer *p, uint64_t *v,
			     unsigned int *scale)
{
	(void)p;
	(void)scale;
	*v = d->suspended_writes;
	return d->has_suspended_writes;
}

static bool split_brain(const struct kdev *d, const struct kpeer *p, uint64_t *v,
			unsigned int *scale)
{
	(void)d;
	(void)scale;
	*v = p->split_brain;
	return true;
}

static bool resync_ratio(const struct kdev *d, const struct kpeer *p, uint64_t *v,
			 unsigned int *scale)
{
	struct resync_progress rp;

	(void)d;
	*v = resync_progress(p, &rp) ? rp.percent_hundredths : 0;
	*scale = 4;
	return resync_progress(p, &rp);
}

static bool resync_eta(const struct kdev *d, const struct kpeer *p, uint64_t *v,
		       unsigned int *scale)
{
	struct resync_progress rp;

	(void)d;
	(void)scale;
	*v = resync_progress(p, &rp) && rp.has_eta ? rp.eta_s : 0;
	return resync_progress(p, &rp) && rp.has_eta;
}

static bool rtt(const struct kdev *d, const struct kpeer *p, uint64_t *v, unsigned int *scale)
{
	(void)d;
	*v = p->rtt_us;
	*scale = 6;
	return true;
}

static bool tcp_rtt(const struct kdev *d, const struct kpeer *p, uint64_t *v,
		    unsigned int *scale)
{
	(void)d;
	*v = p->tcp_rtt_us;
	*scale = 6;
	return tcp_rtt_known(p);
}

static bool inflight(const struct kdev *d, const struct kpeer *p, uint64_t *v,
		     unsigned int *scale)
{
	(void)scale;
	*v = p ? p->inflight : d->inflight;
	return true;
}

#define STATES(n, h, pr, w, cnt, fn) \
	{ .name = n, .type = "gauge", .help = h, .peer = pr, .word = w, .count = cnt, .state = fn }
#define GAUGE(n, h, pr, fn) { .name = n, .type = "gauge", .help = h, .peer = pr, .get = fn }
#define DEV_COUNTER(n, h, field) \
	{ .name = n, .type = "counter", .help = h, .off = offsetof(struct kdev, field) }
#define PEER_COUNTER(n, h, field) \
	{ .name = n, .type = "counter", .help = h, .peer = true, \
	  .off = offsetof(struct kpeer, field) }
/* a uint64_t of the peer, reported when @has is set */
#define PEER_U64(n, h, field, has) \
	{ .name = n, .type = "gauge", .help = h, .peer = true, \
	  .off = offsetof(struct kpeer, field), .has_off = offsetof(struct kpeer, has) + 1 }

static const struct metric metrics[] = {
	STATES("rblk_role", "Role of this node for the resource (1 for the current one).", false,
	       role_json, RBLK_ROLE_PRIMARY + 1, role),
	STATES("rblk_disk_state", "State of this node's disk (1 for the current one).", false,
	       disk_json, RBLK_DISK_CONSISTENT + 1, disk),
	GAUGE("rblk_size_bytes", "Size of the device.", false, size_bytes),
	GAUGE("rblk_open_count", "Openers of the device.", false, open_count),
	GAUGE("rblk_has_quorum", "1 when this node's partition has quorum (or quorum is off).",
	      false, has_quorum),
	GAUGE("rblk_quorum_votes", "Votes present: this node and its connected peers.", false,
	      quorum_votes),
	GAUGE("rblk_quorum_needed", "Votes needed for quorum (0: quorum off).", false,
	      quorum_needed),
	GAUGE("rblk_quorum_voters", "Voters: this node and every configured peer.", false,
	      quorum_voters),
	STATES("rblk_io_suspended", "Why writes are suspended, no: they are not (1 for the current one).",
	       false, suspend_reason_name, __RBLK_SUSPEND_MAX, suspended),
	GAUGE("rblk_suspended_writes", "Writes held, waiting for quorum.", false, suspended_writes),
	GAUGE("rblk_inflight_requests", "Requests in flight on the device.", false, inflight),
	DEV_COUNTER("rblk_reads_total", "Read requests completed.", reads),
	DEV_COUNTER("rblk_writes_total", "Write requests completed.", writes),
	DEV_COUNTER("rblk_read_bytes_total", "Bytes read.", read_bytes),
	DEV_COUNTER("rblk_write_bytes_total", "Bytes written.", write_bytes),
	DEV_COUNTER("rblk_flushes_total", "Flushes completed.", flushes),
	DEV_COUNTER("rblk_discards_total", "Discard and write-zeroes requests.", discards),
	DEV_COUNTER("rblk_errors_total", "Failed requests.", errors),
	DEV_COUNTER("rblk_md_writes_total",
		    "Metadata writes: superblock, activity log, bitmap write-back.", md_writes),
	STATES("rblk_peer_connection_state", "Connection to the peer (1 for the current one).",
	       true, conn_json, RBLK_CONN_DISCONNECTING + 1, conn),
	STATES("rblk_peer_replication_state",
	       "Replication toward the peer (1 for the current one).", true, repl_json,
	       RBLK_REPL_AHEAD + 1, repl),
	STATES("rblk_peer_role", "Role of the peer as this node knows it (1 for the current one).",
	       true, role_json, RBLK_ROLE_PRIMARY + 1, role),
	STATES("rblk_peer_disk_state",
	       "State of the peer's disk as this node knows it (1 for the current one).", true,
	       disk_json, RBLK_DISK_CONSISTENT + 1, disk),
	GAUGE("rblk_peer_split_brain", "1 when a split-brain with the peer was detected.", true,
	      split_brain),
	PEER_U64("rblk_peer_out_of_sync_bytes", "Bytes marked out of sync for the peer.",
		 out_of_sync_bytes, has_out_of_sync),
	PEER_U64("rblk_peer_resync_total_bytes", "Bytes to resync when the resync started.",
		 resync_total_bytes, has_resync_total),
	PEER_U64("rblk_peer_resync_done_bytes", "Bytes resynced so far.", resync_done_bytes,
		 has_resync_done),
	GAUGE("rblk_peer_resync_done_ratio", "Part of the resync done, 0 to 1.", true,
	      resync_ratio),
	PEER_U64("rblk_peer_resync_rate_bytes_per_second", "Resync rate.",
		 resync_rate_bytes_per_s, has_resync_rate),
	GAUGE("rblk_peer_resync_eta_seconds", "Estimated time left of the resync.", true,
	      resync_eta),
	GAUGE("rblk_peer_rtt_seconds", "Round trip of the last ping.", true, rtt),
	GAUGE("rblk_peer_tcp_rtt_seconds",
	      "Smoothed round trip of the connection as TCP measures it.", true, tcp_rtt),
	GAUGE("rblk_peer_inflight_requests", "Requests in flight to the peer.", true, inflight),
	PEER_COUNTER("rblk_peer_writes_total", "Data packets the peer acknowledged.", writes),
	PEER_COUNTER("rblk_peer_write_bytes_total", "Data bytes sent to the peer.", write_bytes),
	PEER_COUNTER("rblk_peer_flushes_total", "Flushes the peer acknowledged.", flushes),
	PEER_COUNTER("rblk_peer_discards_total", "Discard and write-zeroes requests sent.",
		     discards),
	PEER_COUNTER("rblk_peer_acks_total", "Acknowledgements received from the peer.", acks),
	PEER_COUNTER("rblk_peer_reconnects_total",
		     "Connections established after the first.", reconnects),
	PEER_COUNTER("rblk_peer_received_writes_total",
		     "Data packets received from the peer and written.", received_writes),
	PEER_COUNTER("rblk_peer_received_bytes_total", "Data bytes received from the peer.",
		     received_bytes),
	PEER_COUNTER("rblk_peer_reads_total", "Reads sent to the peer and served by it.", reads),
	PEER_COUNTER("rblk_peer_read_bytes_total", "Data bytes of the reads the peer served.",
		     read_bytes),
	PEER_COUNTER("rblk_peer_served_reads_total", "Reads the peer sent and this node served.",
		     served_reads),
	PEER_COUNTER("rblk_peer_errors_total", "Protocol errors of the peer.", errors),
};

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The labels of a device's or peer's samples, without the braces. */
static void labels(char *buf, size_t len, const char *name, uint32_t minor,
		   const struct kdev *d, const struct kpeer *p, const struct conf *c)
{
	char n[2 * RBLK_NAME_MAX_BYTES], pn[2 * NODE_NAME_MAX_BYTES];
	const char *peer = p ? dev_peer_name(c, d, p->node_id) : NULL;

	prom_escape(name, n, sizeof(n));
	if (p)
		snprintf(buf, len, "resource=\"%s\",minor=\"%u\",peer_node_id=\"%u\",peer=\"%s\"",
			 n, minor, p->node_id, prom_escape(peer ? peer : "", pn, sizeof(pn)));
	else
		snprintf(buf, len, "resource=\"%s\",minor=\"%u\"", n, minor);
}

/* @v / 10^@scale, exactly. */
static void value(FILE *f, uint64_t v, unsigned int scale)
{
	uint64_t div = 1;
	unsigned int i;

	for (i = 0; i < scale; i++)
		div *= 10;
	if (scale)
		fprintf(f, "%" PRIu64 ".%0*" PRIu64 "\n", v / div, (int)scale, v % div);
	else
		fprintf(f, "%" PRIu64 "\n", v);
}

static void sample(FILE *f, const struct metric *m, const char *lbl, const struct kdev *d,
		   const struct kpeer *p)
{
	unsigned int cur, i, scale = 0;
	uint64_t v;

	if (m->state) {
		if (!m->state(d, p, &cur))
			return;
		for (i = 0; i < m->count; i++)
			fprintf(f, "%s{%s,state=\"%s\"} %d\n", m->name, lbl, m->word(i),
				i == cur);
		return;
	}
	if (m->get) {
		if (!m->get(d, p, &v, &scale))
			return;
	} else {
		const char *base = p ? (const char *)p : (const char *)d;

		if (m->has_off && !*(const bool *)(base + m->has_off - 1))
			return;
		v = *(const uint64_t *)(base + m->off);
	}
	fprintf(f, "%s{%s} ", m->name, lbl);
	value(f, v, scale);
}

/**
 * metrics_print - every metric of the devices, in the text exposition format
 * @f: the output
 * @devs: the devices of a STATUS dump (those @h judged)
 * @n: their number
 * @c: the topology file for peer names, or NULL
 * @h: health_check()'s judgement of @devs: rblk_health, and the resources
 *     of the file that the kernel lacks (rblk_resource_up 0)
 */
void metrics_print(FILE *f, const struct kdev *devs, unsigned int n, const struct conf *c,
		   const struct health *h)
{
	char lbl[1024], esc[2 * RBLK_PATH_MAX_BYTES], esc2[2 * RBLK_NAME_MAX_BYTES];
	unsigned int i, j, k, lvl;

	family(f, "rblk_resource_up", "gauge",
	       "1 when the kernel has the resource's device, 0 for a resource of the topology file that it lacks.");
	for (i = 0; i < n; i++) {
		labels(lbl, sizeof(lbl), devs[i].name, devs[i].minor, NULL, NULL, c);
		fprintf(f, "rblk_resource_up{%s} 1\n", lbl);
	}
	for (i = 0; i < h->n; i++) {
		if (h->f[i].problem != HP_NOT_UP)
			continue;
		labels(lbl, sizeof(lbl), h->f[i].name, h->f[i].minor, NULL, NULL, c);
		fprintf(f, "rblk_resource_up{%s} 0\n", lbl);
	}
	family(f, "rblk_health", "gauge",
	       "Health of the resource as status --health judges it (1 for the current one).");
	for (i = 0; i < h->n + n; i++) {
		const char *name = i < n ? devs[i].name : h->f[i - n].name;
		uint32_t minor = i < n ? devs[i].minor : h->f[i - n].minor;

		/* the devices, then the resources that are not up, once each */
		if (i >= n && h->f[i - n].problem != HP_NOT_UP)
			continue;
		labels(lbl, sizeof(lbl), name, minor, NULL, NULL, c);
		for (lvl = HEALTH_OK; lvl <= HEALTH_CRITICAL; lvl++)
			fprintf(f, "rblk_health{%s,state=\"%s\"} %d\n", lbl, health_level_name(lvl),
				health_of(h, name) == lvl);
	}
	family(f, "rblk_device_info", "gauge",
	       "The device: this node's id, the cluster and the backing disk (value 1).");
	for (i = 0; i < n; i++) {
		labels(lbl, sizeof(lbl), devs[i].name, devs[i].minor, NULL, NULL, c);
		fprintf(f, "rblk_device_info{%s,node_id=\"%u\",cluster=\"%s\",backing_path=\"%s\"} 1\n",
			lbl, devs[i].node_id, prom_escape(devs[i].cluster, esc2, sizeof(esc2)),
			prom_escape(devs[i].backing, esc, sizeof(esc)));
	}
	for (k = 0; k < sizeof(metrics) / sizeof(metrics[0]); k++) {
		const struct metric *m = &metrics[k];

		family(f, m->name, m->type, m->help);
		for (i = 0; i < n; i++) {
			const struct kdev *d = &devs[i];

			if (!m->peer) {
				labels(lbl, sizeof(lbl), d->name, d->minor, d, NULL, c);
				sample(f, m, lbl, d, NULL);
				continue;
			}
			for (j = 0; j < d->n_peers; j++) {
				labels(lbl, sizeof(lbl), d->name, d->minor, d, &d->peers[j], c);
				sample(f, m, lbl, d, &d->peers[j]);
			}
		}
	}
}
