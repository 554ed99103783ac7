// SPDX-License-Identifier: GPL-2.0
/*
 * health.c - the health judgement of status --health, metrics and doctor,
 * and doctor's advice.
 *
 * health_check() is the one place that decides what is healthy: a pure
 * function over the devices a STATUS dump returned and the topology file.
 * Healthy means: every resource the file gives this node has a device;
 * its disk is UpToDate (or Diskless because the file gives this node no
 * disk); every peer of the file is configured in the kernel, Connected,
 * replication Established, its disk UpToDate (or Diskless as a witness or
 * a node the file gives no disk) and nothing out of sync for it; no
 * split-brain; quorum held; writes not suspended.  Each finding is
 * degraded (the data is available, redundancy is not what it should be)
 * or critical (the data is not safely available through this node).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "rblkadm.h"

const char *health_level_name(unsigned int v)
{
	static const char *const t[] = {
		[HEALTH_OK] = "ok",
		[HEALTH_DEGRADED] = "degraded",
		[HEALTH_CRITICAL] = "critical",
	};
	return v < sizeof(t) / sizeof(t[0]) ? t[v] : "invalid";
}

const char *health_problem_name(unsigned int v)
{
	static const char *const t[] = {
		[HP_NOT_UP] = "not_up",
		[HP_DISK] = "disk",
		[HP_PRIMARY_NO_DATA] = "primary_no_data",
		[HP_NO_DATA] = "no_data",
		[HP_NO_QUORUM] = "no_quorum",
		[HP_SUSPENDED] = "suspended",
		[HP_PEER_MISSING] = "peer_missing",
		[HP_SPLIT_BRAIN] = "split_brain",
		[HP_UNRELATED] = "unrelated",
		[HP_NOT_CONNECTED] = "not_connected",
		[HP_RESYNC] = "resync",
		[HP_REPLICATION] = "replication",
		[HP_PEER_DISK] = "peer_disk",
		[HP_OUT_OF_SYNC] = "out_of_sync",
	};
	return v < sizeof(t) / sizeof(t[0]) && t[v] ? t[v] : "invalid";
}

static int add(struct health *h, enum health_problem problem, enum health_level level,
	       const char *name, uint32_t minor, const struct kdev *d, const struct kpeer *p,
	       uint32_t peer_node_id)
{
	struct health_finding *f;

	if (h->n == h->max) {
		unsigned int max = h->max ? 2 * h->max : 16;

		f = realloc(h->f, max * sizeof(*f));
		if (!f)
			return -1;
		h->f = f;
		h->max = max;
	}
	f = &h->f[h->n++];
	memset(f, 0, sizeof(*f));
	f->problem = problem;
	f->level = level;
	f->name = name;
	f->minor = minor;
	f->dev = d;
	f->peer = p;
	f->peer_node_id = p ? p->node_id : peer_node_id;
	if (level > h->level)
		h->level = level;
	return 0;
}

/* The file's resource of device @d (same name and minor) and this node in it. */
static const struct conf_resource *dev_conf(const struct conf *c, const char *local,
					    const struct kdev *d, const struct conf_node **l)
{
	const struct conf_resource *r = c ? conf_find_resource(c, d->name) : NULL;

	*l = NULL;
	if (!r || r->minor != d->minor || !local)
		return NULL;
	*l = conf_find_node(r, local);
	return *l ? r : NULL;
}

static bool peer_resyncs(const struct kpeer *p)
{
	return p->conn_state == RBLK_CONN_CONNECTED && p->has_repl_state &&
	       (p->repl_state == RBLK_REPL_SYNC_SOURCE || p->repl_state == RBLK_REPL_SYNC_TARGET);
}

/* The judgement of one peer of device @d; @r is the file's resource or NULL. */
static int check_peer(struct health *h, const struct kdev *d, const struct kpeer *p,
		      const struct conf_resource *r)
{
	const struct conf_node *pn = r ? conf_find_node_id(r, p->node_id) : NULL;
	bool connected = p->conn_state == RBLK_CONN_CONNECTED;
	bool diskless_ok = p->witness || (pn && !pn->disk[0]);
	int e = 0;

#define ADD(prob, lvl) (e |= add(h, prob, lvl, d->name, d->minor, d, p, 0))
	if (p->split_brain) {
		ADD(HP_SPLIT_BRAIN, HEALTH_CRITICAL);
		return e;	/* the split-brain procedure covers the rest */
	}
	if (!connected && p->has_sync_decision && p->sync_decision == RBLK_SYNC_UNRELATED) {
		ADD(HP_UNRELATED, HEALTH_DEGRADED);
		return e;
	}
	if (!connected)
		ADD(HP_NOT_CONNECTED, HEALTH_DEGRADED);
	else if (peer_resyncs(p))
		ADD(HP_RESYNC, HEALTH_DEGRADED);
	else if (p->has_repl_state && p->repl_state != RBLK_REPL_ESTABLISHED)
		ADD(HP_REPLICATION, HEALTH_DEGRADED);
	/* a sync target is Inconsistent until its resync ends: HP_RESYNC says so */
	if (p->peer_disk_state != RBLK_DISK_UP_TO_DATE &&
	    p->peer_disk_state != RBLK_DISK_UNKNOWN &&
	    !(p->peer_disk_state == RBLK_DISK_DISKLESS && diskless_ok) &&
	    !(peer_resyncs(p) && p->repl_state == RBLK_REPL_SYNC_SOURCE))
		ADD(HP_PEER_DISK, HEALTH_DEGRADED);
	if (connected && !peer_resyncs(p) && p->has_out_of_sync && p->out_of_sync_bytes)
		ADD(HP_OUT_OF_SYNC, HEALTH_DEGRADED);
#undef ADD
	return e;
}

/* The judgement of device @d; @r, @l: the file's resource and this node in it, or NULL. */
static int check_dev(struct health *h, const struct kdev *d, const struct conf_resource *r,
		     const struct conf_node *l)
{
	const struct kquorum *qs = &d->qstate;
	bool quorum_on = d->has_quorum_policy && d->quorum != RBLK_QUORUM_OFF;
	bool no_quorum = quorum_on && qs->has_state && !qs->quorate;
	bool up_to_date = d->disk_state == RBLK_DISK_UP_TO_DATE;
	bool good_in_sight = up_to_date, any_connected = false, target = false;
	unsigned int i, j;
	int e = 0;

#define ADD(prob, lvl) (e |= add(h, prob, lvl, d->name, d->minor, d, NULL, 0))
	for (i = 0; i < d->n_peers; i++) {
		const struct kpeer *p = &d->peers[i];

		if (p->conn_state != RBLK_CONN_CONNECTED)
			continue;
		any_connected = true;
		good_in_sight |= p->peer_disk_state == RBLK_DISK_UP_TO_DATE;
		target |= peer_resyncs(p) && p->repl_state == RBLK_REPL_SYNC_TARGET;
	}
	if (d->role == RBLK_ROLE_PRIMARY && !up_to_date)
		ADD(HP_PRIMARY_NO_DATA, HEALTH_CRITICAL);
	else if (!good_in_sight && any_connected)
		ADD(HP_NO_DATA, HEALTH_CRITICAL);
	if (no_quorum)
		ADD(HP_NO_QUORUM, HEALTH_CRITICAL);
	if (qs->has_suspended && qs->suspended != RBLK_SUSPEND_NONE &&
	    !(no_quorum && qs->suspended == RBLK_SUSPEND_NO_QUORUM))
		ADD(HP_SUSPENDED, HEALTH_CRITICAL);
	/* a primary's own disk: HP_PRIMARY_NO_DATA; a sync target's: HP_RESYNC */
	if (!up_to_date && d->role != RBLK_ROLE_PRIMARY && !target &&
	    !(d->disk_state == RBLK_DISK_DISKLESS && l && !l->disk[0]))
		ADD(HP_DISK, HEALTH_DEGRADED);
#undef ADD
	for (i = 0; i < d->n_peers; i++)
		e |= check_peer(h, d, &d->peers[i], r);
	/* the peers of the file that the kernel lacks */
	for (j = 0; r && j < r->n_nodes; j++) {
		const struct conf_node *n = &r->nodes[j];

		if (n == l)
			continue;
		for (i = 0; i < d->n_peers; i++)
			if (d->peers[i].node_id == n->node_id)
				break;
		if (i == d->n_peers)
			e |= add(h, HP_PEER_MISSING, HEALTH_DEGRADED, d->name, d->minor, d, NULL,
				 n->node_id);
	}
	return e;
}

/**
 * health_check - judge the health of this node's resources
 * @devs: the devices of a STATUS dump
 * @n: their number
 * @c: the topology file, or NULL (then nothing is known about configured
 *     resources, peers and diskless nodes: a Diskless local disk is
 *     degraded, a Diskless peer is fine only as a witness)
 * @local: this node's name in @c
 * @only: a resource name: judge only it; NULL: every resource
 * @h: the findings (zeroed here; health_free() releases them)
 *
 * Returns 0, or -1 when out of memory.
 */
int health_check(const struct kdev *devs, unsigned int n, const struct conf *c,
		 const char *local, const char *only, struct health *h)
{
	unsigned int i, k;
	int e = 0;

	memset(h, 0, sizeof(*h));
	for (i = 0; i < n; i++) {
		const struct conf_node *l;
		const struct conf_resource *r = dev_conf(c, local, &devs[i], &l);

		if (only && strcmp(devs[i].name, only))
			continue;
		e |= check_dev(h, &devs[i], r, l);
	}
	/* the resources of the file for this node that the kernel lacks */
	for (k = 0; c && local && k < c->n_res; k++) {
		const struct conf_resource *r = &c->res[k];

		if ((only && strcmp(r->name, only)) || !conf_find_node(r, local))
			continue;
		for (i = 0; i < n; i++)
			if (!strcmp(devs[i].name, r->name))
				break;
		if (i == n)
			e |= add(h, HP_NOT_UP, HEALTH_DEGRADED, r->name, r->minor, NULL, NULL, 0);
	}
	if (e) {
		health_free(h);
		return -1;
	}
	return 0;
}

void health_free(struct health *h)
{
	free(h->f);
	memset(h, 0, sizeof(*h));
}

/* The worst level of resource @name in @h. */
enum health_level health_of(const struct health *h, const char *name)
{
	enum health_level lvl = HEALTH_OK;
	unsigned int i;

	for (i = 0; i < h->n; i++)
		if (!strcmp(h->f[i].name, name) && h->f[i].level > lvl)
			lvl = h->f[i].level;
	return lvl;
}

int health_exit(enum health_level level)
{
	return level == HEALTH_CRITICAL ? EXIT_CRITICAL :
	       level == HEALTH_DEGRADED ? EXIT_DEGRADED : EXIT_OK;
}

/* ------------------------------------------------------------------ doctor */

/* "peer n2 (node-id 1)", or "peer node-id 1" when the file does not name it. */
static const char *peer_words(const struct health_finding *f, const struct conf *c,
			      char *buf, size_t len)
{
	const char *n = dev_peer_name(c, f->dev, f->peer_node_id);

	if (n)
		snprintf(buf, len, "peer %s (node-id %u)", n, f->peer_node_id);
	else
		snprintf(buf, len, "peer node-id %u", f->peer_node_id);
	return buf;
}

/* What a peer is called on the command line: its name, else its node id. */
static const char *peer_arg(const struct health_finding *f, const struct conf *c,
			    char *buf, size_t len)
{
	const char *n = dev_peer_name(c, f->dev, f->peer_node_id);

	if (n)
		snprintf(buf, len, "%s", n);
	else
		snprintf(buf, len, "%u", f->peer_node_id);
	return buf;
}

/* ' (last error: "...")' when the kernel gave one, else "". */
static const char *last_error(const struct kpeer *p, char *buf, size_t len)
{
	buf[0] = 0;
	if (p->last_error[0])
		snprintf(buf, len, " (last error: \"%s\")", p->last_error);
	return buf;
}

/* The explanation (@what) and the next safe action (@next) of one finding. */
static void advise(const struct health_finding *f, const struct conf *c, char *what,
		   size_t wlen, char *next, size_t nlen)
{
	const struct kdev *d = f->dev;
	const struct kpeer *p = f->peer;
	const char *res = f->name;
	char pw[NODE_NAME_MAX_BYTES + 32], pa[NODE_NAME_MAX_BYTES], le[300];

	if (d && (p || f->problem == HP_PEER_MISSING)) {
		peer_words(f, c, pw, sizeof(pw));
		peer_arg(f, c, pa, sizeof(pa));
	}
	switch (f->problem) {
	case HP_NOT_UP:
		snprintf(what, wlen, "the topology file gives this node resource %s (minor %u), but the kernel has no device for it: nothing is replicated here",
			 res, f->minor);
		snprintf(next, nlen, "run 'rblkadm up %s' (after 'rblkadm create-md %s' for a new disk)",
			 res, res);
		break;
	case HP_DISK:
		switch (d->disk_state) {
		case RBLK_DISK_OUTDATED:
			snprintf(what, wlen, "the local disk is Outdated: a peer wrote without this node (or it lost quorum), so it must not be promoted");
			snprintf(next, nlen, "let it connect to an UpToDate peer ('rblkadm connect %s' if a peer is StandAlone): the resync makes it UpToDate",
				 res);
			break;
		case RBLK_DISK_INCONSISTENT:
			snprintf(what, wlen, "the local disk is Inconsistent (new metadata, or a resync to it did not finish): its data must not be used");
			snprintf(next, nlen, "connect it to an UpToDate peer ('rblkadm connect %s'): the resync starts by itself; for a new cluster start the initial sync as the operator's guide says (First bring-up)",
				 res);
			break;
		case RBLK_DISK_CONSISTENT:
			snprintf(what, wlen, "the local disk is Consistent: it has not been compared with a peer since it attached and may lack writes");
			snprintf(next, nlen, "connect it to its peers ('rblkadm connect %s'); promote it only with --force, and only if no better copy exists",
				 res);
			break;
		case RBLK_DISK_FAILED:
			snprintf(what, wlen, "the local disk failed an I/O and is being detached: this node holds no usable copy");
			snprintf(next, nlen, "check the disk in the kernel log; once repaired or replaced, 'rblkadm down %s', 'rblkadm create-md %s' for a new disk, 'rblkadm up %s'",
				 res, res, res);
			break;
		case RBLK_DISK_DISKLESS:
			snprintf(what, wlen, "no disk is attached although the topology file gives this node one (detached after an I/O error, or never attached): this node holds no copy");
			snprintf(next, nlen, "check the disk in the kernel log, then 'rblkadm up %s' to attach it; it resyncs from an UpToDate peer",
				 res);
			break;
		default:
			snprintf(what, wlen, "the local disk is %s, not UpToDate",
				 disk_human(d->disk_state));
			snprintf(next, nlen, "look at 'rblkadm status %s' and the kernel log", res);
			break;
		}
		break;
	case HP_PRIMARY_NO_DATA:
		snprintf(what, wlen, "this node is Primary but its own disk is %s: it does not hold valid data for the workload",
			 disk_human(d->disk_state));
		snprintf(next, nlen, "stop the workload, 'rblkadm secondary %s', and promote a node whose disk is UpToDate",
			 res);
		break;
	case HP_NO_DATA:
		snprintf(what, wlen, "neither this node (%s) nor any connected peer has an UpToDate disk: there is no known-good copy in this partition",
			 disk_human(d->disk_state));
		snprintf(next, nlen, "bring up the node that holds the newest data; for new disks promote the node whose data counts ('rblkadm primary --force %s'); never --force a node that may be behind",
			 res);
		break;
	case HP_NO_QUORUM: {
		const struct kquorum *qs = &d->qstate;
		char held[80] = "";

		if (qs->has_suspended && qs->suspended == RBLK_SUSPEND_NO_QUORUM)
			snprintf(held, sizeof(held), "; writes are suspended (%u held)",
				 d->suspended_writes);
		snprintf(what, wlen, "this node's partition has no quorum (%u of %u votes, %u needed): it cannot be promoted%s",
			 qs->votes, d->quorum_voters, qs->needed, held);
		snprintf(next, nlen, "bring back the missing nodes or links; do not use --ignore-quorum unless the other side is known to be down (operator's guide, Quorum)");
		break;
	}
	case HP_SUSPENDED:
		if (d->qstate.suspended == RBLK_SUSPEND_FENCING) {
			snprintf(what, wlen, "writes are suspended for fencing (%u held): the fence-peer handler runs or failed for a lost peer",
				 d->suspended_writes);
			snprintf(next, nlen, "make sure the lost peer is down (fence it), then 'rblkadm resume-io %s'; or reconnect the peer",
				 res);
		} else {
			snprintf(what, wlen, "writes are suspended (%s, %u held)",
				 suspend_reason_name(d->qstate.suspended), d->suspended_writes);
			snprintf(next, nlen, "bring back the missing nodes or links");
		}
		break;
	case HP_PEER_MISSING:
		snprintf(what, wlen, "%s of the topology file is not configured in the kernel", pw);
		snprintf(next, nlen, "run 'rblkadm up %s'", res);
		break;
	case HP_SPLIT_BRAIN:
		snprintf(what, wlen, "split-brain with %s: both wrote since they last shared data, and they refuse to connect",
			 pw);
		snprintf(next, nlen, "decide which node's changes are lost; on that node 'rblkadm secondary %s' and 'rblkadm connect --discard-my-data %s', then 'rblkadm connect %s' on the other (operator's guide, Split-brain)",
			 res, res, res);
		break;
	case HP_UNRELATED:
		snprintf(what, wlen, "%s holds unrelated data (no common generation): the two refuse to connect%s",
			 pw, last_error(p, le, sizeof(le)));
		snprintf(next, nlen, "give the node whose data does not count new metadata ('rblkadm down %s', 'rblkadm create-md --force %s', 'rblkadm up %s'): it then receives a full sync",
			 res, res, res);
		break;
	case HP_NOT_CONNECTED:
		if (p->conn_state == RBLK_CONN_STANDALONE) {
			snprintf(what, wlen, "%s is StandAlone: this node does not try to connect to it%s",
				 pw, last_error(p, le, sizeof(le)));
			snprintf(next, nlen, "remove the cause, then 'rblkadm connect %s %s'", res, pa);
		} else if (p->conn_state == RBLK_CONN_CONNECTING) {
			snprintf(what, wlen, "%s is not connected; this node keeps trying%s",
				 pw, last_error(p, le, sizeof(le)));
			snprintf(next, nlen, "check that the peer is up ('rblkadm status %s' there) and the link between the two: it connects by itself",
				 res);
		} else {
			snprintf(what, wlen, "the connection to %s is %s%s", pw,
				 conn_human(p->conn_state), last_error(p, le, sizeof(le)));
			snprintf(next, nlen, "look again in a few seconds ('rblkadm status %s')", res);
		}
		break;
	case HP_RESYNC:
		if (p->repl_state == RBLK_REPL_SYNC_SOURCE) {
			struct resync_progress rp;
			char prog[160] = "";

			if (resync_progress(p, &rp)) {
				int k = snprintf(prog, sizeof(prog), ": %u.%02u%% done, %" PRIu64 " bytes left",
						 rp.percent_hundredths / 100,
						 rp.percent_hundredths % 100, rp.bytes_left);

				if (rp.has_eta && k > 0 && (size_t)k < sizeof(prog))
					snprintf(prog + k, sizeof(prog) - (size_t)k,
						 ", about %" PRIu64 " s to go at %" PRIu64 " bytes/s",
						 rp.eta_s, rp.rate_bytes_per_s);
			}
			snprintf(what, wlen, "a resync to %s runs%s; its disk is Inconsistent until it ends",
				 pw, prog);
			snprintf(next, nlen, "nothing: wait for it to end, and do not fail over to that peer before; keep this node up");
		} else {
			snprintf(what, wlen, "this node receives a resync from %s: its disk is Inconsistent until it ends (the progress is shown on the source)",
				 pw);
			snprintf(next, nlen, "nothing: wait for it to end; do not promote this node before, and keep the source up");
		}
		break;
	case HP_REPLICATION:
		if (p->repl_state == RBLK_REPL_WAIT_SOURCE) {
			snprintf(what, wlen, "connected to %s, but neither side has usable data (WaitSource)",
				 pw);
			snprintf(next, nlen, "start the initial sync as the operator's guide says (First bring-up): 'rblkadm primary --force %s' on the node whose data counts",
				 res);
		} else {
			snprintf(what, wlen, "connected to %s, replication %s, not Established", pw,
				 repl_human(p->repl_state));
			snprintf(next, nlen, "look again in a few seconds ('rblkadm status %s')", res);
		}
		break;
	case HP_PEER_DISK:
		switch (p->peer_disk_state) {
		case RBLK_DISK_OUTDATED:
			snprintf(what, wlen, "%s has an Outdated disk: it missed writes and must not be promoted",
				 pw);
			if (p->conn_state == RBLK_CONN_CONNECTED)
				snprintf(next, nlen, "it becomes UpToDate by a resync from an UpToDate node at a connection; if none starts, reconnect it ('rblkadm disconnect %s %s', then 'rblkadm connect %s %s'), only if this node keeps quorum without it",
					 res, pa, res, pa);
			else
				snprintf(next, nlen, "once it is connected again, the resync of what it missed starts by itself");
			break;
		case RBLK_DISK_INCONSISTENT:
			snprintf(what, wlen, "%s has an Inconsistent disk: its data must not be used or promoted",
				 pw);
			snprintf(next, nlen, "it needs a resync from an UpToDate node: keep it connected to one");
			break;
		case RBLK_DISK_CONSISTENT:
			snprintf(what, wlen, "%s has a Consistent disk, not yet compared with an UpToDate node",
				 pw);
			snprintf(next, nlen, "keep it connected: the comparison decides whether it is UpToDate or resyncs");
			break;
		default:
			snprintf(what, wlen, "%s has no usable disk (%s)", pw,
				 disk_human(p->peer_disk_state));
			snprintf(next, nlen, "check the disk on that node (its kernel log), then 'rblkadm up %s' there",
				 res);
			break;
		}
		break;
	case HP_OUT_OF_SYNC:
		snprintf(what, wlen, "%s lacks %" PRIu64 " bytes marked out of sync although replication is Established",
			 pw, p->out_of_sync_bytes);
		snprintf(next, nlen, "the next connection resyncs the marked blocks: reconnect it ('rblkadm disconnect %s %s', then 'rblkadm connect %s %s') at a quiet moment, only if this node keeps quorum without it",
			 res, pa, res, pa);
		break;
	default:
		snprintf(what, wlen, "unknown problem");
		next[0] = 0;
		break;
	}
}

/**
 * show_doctor - print what is not healthy and what to do
 * @h: the judgement of health_check()
 * @c: the topology file, for peer names; may be NULL
 *
 * Human: per finding "RES: LEVEL: explanation." and "  next: action.",
 * then "health: LEVEL"; "all healthy" when nothing is wrong.
 */
void show_doctor(const struct health *h, const struct conf *c)
{
	char what[1024], next[1024];
	unsigned int i;

	out_open_object(NULL);
	print_string("health", NULL, health_level_name(h->level));
	out_open_array("problems");
	for (i = 0; i < h->n; i++) {
		const struct health_finding *f = &h->f[i];
		const char *pn = f->dev && (f->peer || f->problem == HP_PEER_MISSING) ?
				 dev_peer_name(c, f->dev, f->peer_node_id) : NULL;
		uint64_t id = f->peer_node_id;
		bool peer = f->peer || f->problem == HP_PEER_MISSING;

		advise(f, c, what, sizeof(what), next, sizeof(next));
		out_open_object(NULL);
		print_string("resource_name", "%s", f->name);
		print_uint("minor", NULL, f->minor);
		print_string("level", ": %s", health_level_name(f->level));
		print_string("problem", NULL, health_problem_name(f->problem));
		print_uint_or_null("peer_node_id", NULL, peer ? &id : NULL);
		print_string_or_null("peer_name", NULL, pn);
		print_string("explanation", ": %s.\n", what);
		print_string("next", "  next: %s.\n", next);
		out_close_object();
	}
	out_close_array();
	if (h->n)
		print_human("health: %s\n", health_level_name(h->level));
	else
		print_human("all healthy\n");
	out_close_object();
}
