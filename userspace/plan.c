// SPDX-License-Identifier: GPL-2.0
/*
 * plan.c - the converge plan: a pure function from the kernel's state (as
 * read with RBLK_CMD_STATUS) and the topology file to the list of requests
 * that make the kernel match the file for the local node.  No I/O here.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>

#include "rblkadm.h"

const char *cmd_name(unsigned int cmd)
{
	static const char *const names[] = {
		[RBLK_CMD_DEVICE_CREATE] = "create-device",
		[RBLK_CMD_DEVICE_DELETE] = "delete-device",
		[RBLK_CMD_ATTACH] = "attach",
		[RBLK_CMD_DETACH] = "detach",
		[RBLK_CMD_PEER_ADD] = "add-peer",
		[RBLK_CMD_PEER_REMOVE] = "remove-peer",
		[RBLK_CMD_CONNECT] = "connect-peer",
		[RBLK_CMD_DISCONNECT] = "disconnect-peer",
		[RBLK_CMD_PRIMARY] = "set-primary",
		[RBLK_CMD_SECONDARY] = "set-secondary",
		[RBLK_CMD_STATUS] = "show",
		[RBLK_CMD_EVENT] = "event",
		[RBLK_CMD_MD_CREATE] = "create-md",
		[RBLK_CMD_MD_DUMP] = "dump-md",
		[RBLK_CMD_NEW_CURRENT_UUID] = "new-current-uuid",
		[RBLK_CMD_DEVICE_OPTIONS] = "device-options",
		[RBLK_CMD_RESUME_IO] = "resume-io",
	};

	if (cmd < sizeof(names) / sizeof(names[0]) && names[cmd])
		return names[cmd];
	return "unknown-command";
}

__attribute__((format(printf, 3, 4)))
static struct plan_op *add_op(struct plan *p, uint8_t cmd, const char *fmt, ...)
{
	struct plan_op *op;
	va_list ap;
	int k;

	if (p->n >= PLAN_MAX_OPS)
		return NULL;
	op = &p->ops[p->n++];
	memset(op, 0, sizeof(*op));
	op->req.cmd = cmd;
	k = snprintf(op->what, sizeof(op->what), "%s", cmd_name(cmd));
	if (fmt && fmt[0] && k > 0 && (size_t)k < sizeof(op->what)) {
		op->what[k++] = ' ';
		va_start(ap, fmt);
		vsnprintf(op->what + k, sizeof(op->what) - k, fmt, ap);
		va_end(ap);
	}
	return op;
}

static const struct kdev *find_minor(const struct kdev *devs, unsigned int n, uint32_t minor)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (devs[i].minor == minor)
			return &devs[i];
	return NULL;
}

static const struct kdev *find_name(const struct kdev *devs, unsigned int n, const char *name)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!strcmp(devs[i].name, name))
			return &devs[i];
	return NULL;
}

static const struct kpeer *find_peer(const struct kdev *d, uint32_t id)
{
	unsigned int i;

	if (!d)
		return NULL;
	for (i = 0; i < d->n_peers; i++)
		if (d->peers[i].node_id == id)
			return &d->peers[i];
	return NULL;
}

static bool peer_matches(const struct kpeer *kp, const struct conf_addr *peer_ep,
			 const struct conf_addr *local_ep, const uint32_t opts[OPT_COUNT],
			 bool witness)
{
	unsigned int i;

	if (kp->witness != witness)
		return false;
	/* Addresses the kernel did not report cannot be compared: keep them. */
	if (kp->peer.family && !addr_equal(&kp->peer, peer_ep))
		return false;
	if (kp->local.family && !addr_equal(&kp->local, local_ep))
		return false;
	for (i = 0; i < OPT_COUNT; i++)
		if (kp->options.set[i] && kp->options.v[i] != opts[i])
			return false;
	return true;
}

static void fill_peer_add(struct rblk_req *q, uint32_t minor, uint32_t peer_id,
			  const struct conf_addr *peer_ep, const struct conf_addr *local_ep,
			  const uint32_t opts[OPT_COUNT], bool witness)
{
	unsigned int i;

	q->has = REQ_MINOR | REQ_PEER_NODE_ID | REQ_PEER_IP | REQ_PEER_PORT |
		 REQ_LOCAL_IP | REQ_LOCAL_PORT | (witness ? REQ_PEER_WITNESS : 0);
	q->minor = minor;
	q->peer_node_id = peer_id;
	q->peer = *peer_ep;
	q->local = *local_ep;
	for (i = 0; i < OPT_COUNT; i++) {
		q->options.v[i] = opts[i];
		q->options.set[i] = true;
	}
}

#define NEED(op) do { if (!(op)) goto full; } while (0)

/*
 * Does the kernel report for @dev exactly this policy?  A kernel that
 * reports FENCING but no FENCE_HANDLER has no handler.  Of the secret the
 * kernel tells only whether there is one.
 */
static bool device_options_match(const struct kdev *dev, const struct rblk_req *q)
{
	return (dev->has_auth && dev->auth) == (q->secret_len > 0) &&
	       (dev->has_data_digest ? dev->data_digest : RBLK_DATA_DIGEST_NONE) ==
	       q->data_digest &&
	       (dev->has_read_balancing ? dev->read_balancing : RBLK_READ_PREFER_LOCAL) ==
	       q->read_balancing &&
	       dev->has_quorum_policy && dev->quorum == q->quorum &&
	       dev->has_on_no_quorum && dev->on_no_quorum == q->on_no_quorum &&
	       dev->has_auto_promote && dev->auto_promote == q->auto_promote &&
	       dev->has_fencing && dev->fencing == q->fencing &&
	       !strcmp(dev->has_fence_handler ? dev->fence_handler : "", q->fence_handler);
}

/*
 * DEVICE_OPTIONS with the file's quorum, auto-promote and fencing policy
 * and the resource's secret, unless the kernel reports exactly that
 * policy, and a secret exactly when the file has one, for @dev (NULL: the
 * device is being created).  Every attribute is sent, FENCE_HANDLER ""
 * when the file has none (so that removing it from the file clears it),
 * AUTH_SECRET empty when the file has no secret-file.  The secret is the
 * one conf_load_secret() read into @r.  Returns false when the plan is
 * full.
 */
static bool plan_device_options(const struct conf *c, const struct conf_resource *r,
				const struct kdev *dev, struct plan *p)
{
	struct rblk_req q = { .cmd = RBLK_CMD_DEVICE_OPTIONS };
	const char *handler;
	struct plan_op *op;
	bool auto_promote;
	char qw[16];

	q.has = REQ_MINOR | REQ_QUORUM | REQ_ON_NO_QUORUM | REQ_AUTO_PROMOTE | REQ_FENCING |
		REQ_FENCE_HANDLER | REQ_AUTH_SECRET | REQ_DATA_DIGEST | REQ_READ_BALANCING;
	q.minor = r->minor;
	q.data_digest = r->has_data_digest ? r->data_digest : RBLK_DATA_DIGEST_NONE;
	q.read_balancing = r->has_read_balancing ? r->read_balancing : RBLK_READ_PREFER_LOCAL;
	q.secret_len = r->secret_len;
	memcpy(q.secret, r->secret, r->secret_len);
	conf_effective_quorum(c, r, &q.quorum, &q.on_no_quorum);
	conf_effective_primary(c, r, &auto_promote, &q.fencing, &handler);
	q.auto_promote = auto_promote;
	snprintf(q.fence_handler, sizeof(q.fence_handler), "%s", handler);
	if (dev && device_options_match(dev, &q)) {
		explicit_bzero(q.secret, sizeof(q.secret));
		return true;
	}
	op = add_op(p, RBLK_CMD_DEVICE_OPTIONS,
		    "quorum %s on-no-quorum %s auto-promote %s fencing %s%s%s%s%s%s%s%s%s",
		    format_quorum(q.quorum, qw, sizeof(qw)), on_no_quorum_name(q.on_no_quorum),
		    yes_no_name(q.auto_promote), fencing_name(q.fencing),
		    handler[0] ? " fence-handler " : "", handler,
		    q.secret_len ? " secret-file " :
		    dev && dev->has_auth && dev->auth ? " no secret" : "",
		    q.secret_len ? r->secret_file : "",
		    q.data_digest || (dev && dev->has_data_digest && dev->data_digest) ?
		    " data-digest " : "",
		    q.data_digest || (dev && dev->has_data_digest && dev->data_digest) ?
		    data_digest_name(q.data_digest) : "",
		    q.read_balancing || (dev && dev->has_read_balancing && dev->read_balancing) ?
		    " read-balancing " : "",
		    q.read_balancing || (dev && dev->has_read_balancing && dev->read_balancing) ?
		    read_balancing_name(q.read_balancing) : "");
	if (op)
		op->req = q;
	explicit_bzero(q.secret, sizeof(q.secret));
	return op != NULL;
}

int plan_up(const struct conf *c, const struct conf_resource *r,
	    const struct conf_node *local, const struct kdev *devs,
	    unsigned int n_devs, struct plan *p, char *err, size_t errlen)
{
	const struct kdev *dev = find_minor(devs, n_devs, r->minor);
	const struct kdev *byname = find_name(devs, n_devs, r->name);
	uint32_t opts[OPT_COUNT];
	uint32_t connect_ids[RBLK_MAX_NODE_ID + 1];
	unsigned int n_connect = 0, i;
	const char *have_disk;
	struct plan_op *op;

	p->n = 0;
	err[0] = 0;
	if (byname && byname->minor != r->minor) {
		snprintf(err, errlen,
			 "%s: the kernel has this resource at minor %u, the file says minor %u; run 'rblkadm down %s' first",
			 r->name, byname->minor, r->minor, r->name);
		return -1;
	}
	if (dev && strcmp(dev->name, r->name)) {
		snprintf(err, errlen,
			 "%s: minor %u is in use by resource '%s' in the kernel",
			 r->name, r->minor, dev->name);
		return -1;
	}
	if (dev && dev->node_id != local->node_id) {
		snprintf(err, errlen,
			 "%s: the kernel device has node id %u, the file says %u for node '%s'; run 'rblkadm down %s' first",
			 r->name, dev->node_id, local->node_id, local->name, r->name);
		return -1;
	}
	if (dev && strcmp(dev->cluster, c->cluster)) {
		snprintf(err, errlen,
			 "%s: the kernel device has cluster name '%s', the file says '%s'; run 'rblkadm down %s' first",
			 r->name, dev->cluster, c->cluster, r->name);
		return -1;
	}

	if (!dev) {
		if (c->cluster[0])
			NEED(op = add_op(p, RBLK_CMD_DEVICE_CREATE, "%s minor %u node-id %u cluster %s",
					 r->name, r->minor, local->node_id, c->cluster));
		else
			NEED(op = add_op(p, RBLK_CMD_DEVICE_CREATE, "%s minor %u node-id %u",
					 r->name, r->minor, local->node_id));
		op->req.has = REQ_MINOR | REQ_NAME | REQ_NODE_ID;
		op->req.minor = r->minor;
		op->req.node_id = local->node_id;
		snprintf(op->req.name, sizeof(op->req.name), "%s", r->name);
		if (c->cluster[0]) {
			op->req.has |= REQ_CLUSTER;
			snprintf(op->req.cluster, sizeof(op->req.cluster), "%s", c->cluster);
		}
	}
	/* the quorum policy holds before any peer connects */
	NEED(plan_device_options(c, r, dev, p));

	have_disk = dev && dev->disk_state != RBLK_DISK_DISKLESS ? dev->backing : "";
	if (strcmp(have_disk, local->disk)) {
		if (have_disk[0]) {
			NEED(op = add_op(p, RBLK_CMD_DETACH, "%s", have_disk));
			op->req.has = REQ_MINOR;
			op->req.minor = r->minor;
		}
		if (local->disk[0]) {
			/*
			 * The metadata decides the disk state.  META_PATH only for an
			 * external meta-disk; ON_IO_ERROR only if the file gives it
			 * (the kernel's default is detach).
			 */
			int on_io_error = conf_on_io_error(r, local);

			NEED(op = add_op(p, RBLK_CMD_ATTACH, "%s%s%s%s%s", local->disk,
					 local->meta_disk[0] ? " meta-disk " : "", local->meta_disk,
					 on_io_error >= 0 ? " on-io-error " : "",
					 on_io_error >= 0 ? on_io_error_name(on_io_error) : ""));
			op->req.has = REQ_MINOR | REQ_PATH;
			op->req.minor = r->minor;
			snprintf(op->req.path, sizeof(op->req.path), "%s", local->disk);
			if (local->meta_disk[0]) {
				op->req.has |= REQ_META_PATH;
				snprintf(op->req.meta_path, sizeof(op->req.meta_path), "%s",
					 local->meta_disk);
			}
			if (on_io_error >= 0) {
				op->req.has |= REQ_ON_IO_ERROR;
				op->req.on_io_error = (uint8_t)on_io_error;
			}
		}
	}

	/* Peers the kernel has but the file does not: remove first (frees ports). */
	for (i = 0; dev && i < dev->n_peers; i++) {
		const struct kpeer *kp = &dev->peers[i];
		const struct conf_node *cn = conf_find_node_id(r, kp->node_id);

		if (cn && cn != local)
			continue;
		NEED(op = add_op(p, RBLK_CMD_PEER_REMOVE, "node id %u (not in the file)",
				 kp->node_id));
		op->req.has = REQ_MINOR | REQ_PEER_NODE_ID;
		op->req.minor = r->minor;
		op->req.peer_node_id = kp->node_id;
	}

	conf_effective_options(c, r, local, opts);
	for (i = 0; i < r->n_nodes; i++) {
		const struct conf_node *peer = &r->nodes[i];
		const struct kpeer *kp;
		struct conf_addr peer_ep, local_ep;
		char pa[64], la[64];

		if (peer == local)
			continue;
		conf_endpoint(peer, local, &peer_ep);
		conf_endpoint(local, peer, &local_ep);
		kp = find_peer(dev, peer->node_id);
		/* a node without a disk in the resource is a witness */
		if (kp && peer_matches(kp, &peer_ep, &local_ep, opts, !peer->disk[0])) {
			if (kp->conn_state == RBLK_CONN_STANDALONE)
				connect_ids[n_connect++] = peer->node_id;
			continue;
		}
		if (kp) {
			NEED(op = add_op(p, RBLK_CMD_PEER_REMOVE, "%s (node id %u): changed",
					 peer->name, peer->node_id));
			op->req.has = REQ_MINOR | REQ_PEER_NODE_ID;
			op->req.minor = r->minor;
			op->req.peer_node_id = peer->node_id;
		}
		format_addr(&peer_ep, pa, sizeof(pa));
		format_addr(&local_ep, la, sizeof(la));
		NEED(op = add_op(p, RBLK_CMD_PEER_ADD, "%s (node id %u) peer %s local %s",
				 peer->name, peer->node_id, pa, la));
		fill_peer_add(&op->req, r->minor, peer->node_id, &peer_ep, &local_ep, opts,
			      !peer->disk[0]);
		connect_ids[n_connect++] = peer->node_id;
	}
	for (i = 0; i < n_connect; i++) {
		const struct conf_node *peer = conf_find_node_id(r, connect_ids[i]);

		NEED(op = add_op(p, RBLK_CMD_CONNECT, "%s (node id %u)", peer->name,
				 peer->node_id));
		op->req.has = REQ_MINOR | REQ_PEER_NODE_ID;
		op->req.minor = r->minor;
		op->req.peer_node_id = peer->node_id;
	}
	return 0;
full:
	snprintf(err, errlen, "%s: plan too long", r->name);
	return -1;
}

int plan_down(const struct conf_resource *r, const struct kdev *devs,
	      unsigned int n_devs, struct plan *p, char *err, size_t errlen)
{
	const struct kdev *dev = find_name(devs, n_devs, r->name);
	struct plan_op *op;
	unsigned int i;
	bool connected = false;

	p->n = 0;
	err[0] = 0;
	if (!dev)
		return 0;
	/*
	 * The kernel would refuse the detach only after the peers were
	 * disconnected: refuse before anything is sent, replication stays up.
	 */
	if (dev->role == RBLK_ROLE_PRIMARY) {
		snprintf(err, errlen, "%s: device is primary; run 'rblkadm secondary %s' first",
			 r->name, r->name);
		return -1;
	}
	if (dev->open_count) {
		snprintf(err, errlen, "%s: /dev/rblk%u is open (%u openers); close it first",
			 r->name, dev->minor, dev->open_count);
		return -1;
	}
	for (i = 0; i < dev->n_peers; i++)
		if (dev->peers[i].conn_state != RBLK_CONN_STANDALONE)
			connected = true;
	if (connected) {
		NEED(op = add_op(p, RBLK_CMD_DISCONNECT, "all peers"));
		op->req.has = REQ_MINOR;
		op->req.minor = dev->minor;
	}
	if (dev->disk_state != RBLK_DISK_DISKLESS) {
		NEED(op = add_op(p, RBLK_CMD_DETACH, "%s", dev->backing));
		op->req.has = REQ_MINOR;
		op->req.minor = dev->minor;
	}
	NEED(op = add_op(p, RBLK_CMD_DEVICE_DELETE, "minor %u", dev->minor));
	op->req.has = REQ_MINOR;
	op->req.minor = dev->minor;
	return 0;
full:
	snprintf(err, errlen, "%s: plan too long", r->name);
	return -1;
}

/* ------------------------------------------------- single-shot requests */

void req_md_create(const struct conf_resource *r, const struct conf_node *l, bool force,
		   struct rblk_req *q)
{
	memset(q, 0, sizeof(*q));
	q->cmd = RBLK_CMD_MD_CREATE;
	q->has = REQ_PATH | REQ_NODE_ID | REQ_MAX_PEERS | (force ? REQ_FORCE : 0);
	snprintf(q->path, sizeof(q->path), "%s", l->disk);
	q->node_id = l->node_id;
	q->max_peers = conf_max_peers(r);
	if (l->meta_disk[0]) {
		q->has |= REQ_META_PATH;
		snprintf(q->meta_path, sizeof(q->meta_path), "%s", l->meta_disk);
	}
}

void req_md_dump(const struct conf_node *l, int64_t minor, struct rblk_req *q)
{
	memset(q, 0, sizeof(*q));
	q->cmd = RBLK_CMD_MD_DUMP;
	if (minor >= 0) {
		q->has = REQ_MINOR;
		q->minor = (uint32_t)minor;
		return;
	}
	q->has = REQ_PATH;
	snprintf(q->path, sizeof(q->path), "%s", l->disk);
	if (l->meta_disk[0]) {
		q->has |= REQ_META_PATH;
		snprintf(q->meta_path, sizeof(q->meta_path), "%s", l->meta_disk);
	}
}

void req_new_current_uuid(const struct conf_resource *r, bool clear_bitmap,
			  struct rblk_req *q)
{
	memset(q, 0, sizeof(*q));
	q->cmd = RBLK_CMD_NEW_CURRENT_UUID;
	q->has = REQ_MINOR | (clear_bitmap ? REQ_CLEAR_BITMAP : 0);
	q->minor = r->minor;
}

void req_connect(const struct conf_resource *r, const struct conf_node *peer, bool connect,
		 bool discard_my_data, struct rblk_req *q)
{
	memset(q, 0, sizeof(*q));
	q->cmd = connect ? RBLK_CMD_CONNECT : RBLK_CMD_DISCONNECT;
	q->has = REQ_MINOR | (connect && discard_my_data ? REQ_DISCARD_MY_DATA : 0);
	q->minor = r->minor;
	if (peer) {
		q->has |= REQ_PEER_NODE_ID;
		q->peer_node_id = peer->node_id;
	}
}

void req_role(const struct conf_resource *r, bool primary, bool force, bool ignore_quorum,
	      struct rblk_req *q)
{
	memset(q, 0, sizeof(*q));
	q->cmd = primary ? RBLK_CMD_PRIMARY : RBLK_CMD_SECONDARY;
	q->has = REQ_MINOR;
	if (primary)
		q->has |= (force ? REQ_FORCE : 0) | (ignore_quorum ? REQ_IGNORE_QUORUM : 0);
	q->minor = r->minor;
}

void req_resume_io(uint32_t minor, struct rblk_req *q)
{
	memset(q, 0, sizeof(*q));
	q->cmd = RBLK_CMD_RESUME_IO;
	q->has = REQ_MINOR;
	q->minor = minor;
}

/* ------------------------------------------------------------ enum names */

#define NAME_OF(tbl, v) ((v) < sizeof(tbl) / sizeof(tbl[0]) && tbl[v] ? tbl[v] : "invalid")

const char *role_json(unsigned int v)
{
	static const char *const t[] = {
		[RBLK_ROLE_UNKNOWN] = "unknown",
		[RBLK_ROLE_SECONDARY] = "secondary",
		[RBLK_ROLE_PRIMARY] = "primary",
	};
	return NAME_OF(t, v);
}

const char *role_human(unsigned int v)
{
	static const char *const t[] = {
		[RBLK_ROLE_UNKNOWN] = "Unknown",
		[RBLK_ROLE_SECONDARY] = "Secondary",
		[RBLK_ROLE_PRIMARY] = "Primary",
	};
	return NAME_OF(t, v);
}

const char *disk_json(unsigned int v)
{
	static const char *const t[] = {
		[RBLK_DISK_DISKLESS] = "diskless",
		[RBLK_DISK_INCONSISTENT] = "inconsistent",
		[RBLK_DISK_OUTDATED] = "outdated",
		[RBLK_DISK_UNKNOWN] = "unknown",
		[RBLK_DISK_UP_TO_DATE] = "up_to_date",
		[RBLK_DISK_FAILED] = "failed",
		[RBLK_DISK_CONSISTENT] = "consistent",
	};
	return NAME_OF(t, v);
}

const char *disk_human(unsigned int v)
{
	static const char *const t[] = {
		[RBLK_DISK_DISKLESS] = "Diskless",
		[RBLK_DISK_INCONSISTENT] = "Inconsistent",
		[RBLK_DISK_OUTDATED] = "Outdated",
		[RBLK_DISK_UNKNOWN] = "Unknown",
		[RBLK_DISK_UP_TO_DATE] = "UpToDate",
		[RBLK_DISK_FAILED] = "Failed",
		[RBLK_DISK_CONSISTENT] = "Consistent",
	};
	return NAME_OF(t, v);
}

const char *conn_json(unsigned int v)
{
	static const char *const t[] = {
		[RBLK_CONN_STANDALONE] = "standalone",
		[RBLK_CONN_CONNECTING] = "connecting",
		[RBLK_CONN_CONNECTED] = "connected",
		[RBLK_CONN_DISCONNECTING] = "disconnecting",
	};
	return NAME_OF(t, v);
}

const char *conn_human(unsigned int v)
{
	static const char *const t[] = {
		[RBLK_CONN_STANDALONE] = "StandAlone",
		[RBLK_CONN_CONNECTING] = "Connecting",
		[RBLK_CONN_CONNECTED] = "Connected",
		[RBLK_CONN_DISCONNECTING] = "Disconnecting",
	};
	return NAME_OF(t, v);
}

const char *repl_json(unsigned int v)
{
	static const char *const t[] = {
		[RBLK_REPL_OFF] = "off",
		[RBLK_REPL_ESTABLISHED] = "established",
		[RBLK_REPL_SYNC_SOURCE] = "sync_source",
		[RBLK_REPL_SYNC_TARGET] = "sync_target",
		[RBLK_REPL_WAIT_SOURCE] = "wait_source",
		[RBLK_REPL_BEHIND] = "behind",
		[RBLK_REPL_AHEAD] = "ahead",
	};
	return NAME_OF(t, v);
}

/* The names DRBD users know from "replication:" of drbdadm status. */
const char *repl_human(unsigned int v)
{
	static const char *const t[] = {
		[RBLK_REPL_OFF] = "Off",
		[RBLK_REPL_ESTABLISHED] = "Established",
		[RBLK_REPL_SYNC_SOURCE] = "SyncSource",
		[RBLK_REPL_SYNC_TARGET] = "SyncTarget",
		[RBLK_REPL_WAIT_SOURCE] = "WaitSource",
		[RBLK_REPL_BEHIND] = "Behind",
		[RBLK_REPL_AHEAD] = "Ahead",
	};
	return NAME_OF(t, v);
}

const char *sync_decision_json(unsigned int v)
{
	static const char *const t[] = {
		[RBLK_SYNC_NONE] = "none",
		[RBLK_SYNC_BITMAP_SOURCE] = "bitmap_source",
		[RBLK_SYNC_BITMAP_TARGET] = "bitmap_target",
		[RBLK_SYNC_FULL_SOURCE] = "full_source",
		[RBLK_SYNC_FULL_TARGET] = "full_target",
		[RBLK_SYNC_NO_SOURCE] = "no_source",
		[RBLK_SYNC_SPLIT_BRAIN] = "split_brain",
		[RBLK_SYNC_UNRELATED] = "unrelated",
	};
	return NAME_OF(t, v);
}

const char *sync_decision_human(unsigned int v)
{
	static const char *const t[] = {
		[RBLK_SYNC_NONE] = "none",
		[RBLK_SYNC_BITMAP_SOURCE] = "bitmap-source",
		[RBLK_SYNC_BITMAP_TARGET] = "bitmap-target",
		[RBLK_SYNC_FULL_SOURCE] = "full-source",
		[RBLK_SYNC_FULL_TARGET] = "full-target",
		[RBLK_SYNC_NO_SOURCE] = "no-source",
		[RBLK_SYNC_SPLIT_BRAIN] = "split-brain",
		[RBLK_SYNC_UNRELATED] = "unrelated",
	};
	return NAME_OF(t, v);
}

const char *md_flag_name(unsigned int bit, bool json)
{
	static const char *const human[] = {
		"consistent", "outdated", "primary", "sync-target", "attached",
	};
	static const char *const snake[] = {
		"consistent", "outdated", "primary", "sync_target", "attached",
	};
	_Static_assert(RBLK_MDF_CONSISTENT == 1 << 0 && RBLK_MDF_OUTDATED == 1 << 1 &&
		       RBLK_MDF_PRIMARY == 1 << 2 && RBLK_MDF_SYNC_TARGET == 1 << 3 &&
		       RBLK_MDF_ATTACHED == 1 << 4, "RBLK_MDF_* bits as named here");

	if (bit >= sizeof(human) / sizeof(human[0]))
		return NULL;
	return json ? snake[bit] : human[bit];
}

const char *format_uuid(uint64_t uuid, char *buf, size_t len)
{
	snprintf(buf, len, "%016" PRIX64, uuid);
	return buf;
}

const char *event_json(unsigned int v)
{
	static const char *const t[] = {
		[RBLK_EVENT_UNSPEC] = "unspec",
		[RBLK_EVENT_DEVICE_CREATED] = "device_created",
		[RBLK_EVENT_DEVICE_DELETED] = "device_deleted",
		[RBLK_EVENT_ROLE_CHANGED] = "role_changed",
		[RBLK_EVENT_DISK_STATE_CHANGED] = "disk_state_changed",
		[RBLK_EVENT_PEER_ADDED] = "peer_added",
		[RBLK_EVENT_PEER_REMOVED] = "peer_removed",
		[RBLK_EVENT_CONN_STATE_CHANGED] = "conn_state_changed",
		[RBLK_EVENT_PEER_ROLE_CHANGED] = "peer_role_changed",
		[RBLK_EVENT_PEER_DISK_STATE_CHANGED] = "peer_disk_state_changed",
		[RBLK_EVENT_REPL_STATE_CHANGED] = "repl_state_changed",
		[RBLK_EVENT_SPLIT_BRAIN] = "split_brain",
		[RBLK_EVENT_UUIDS_CHANGED] = "uuids_changed",
		[RBLK_EVENT_QUORUM_CHANGED] = "quorum_changed",
		[RBLK_EVENT_FENCE_PEER] = "fence_peer",
	};

	switch (v) {
	case EV_EXISTS:
		return "exists";
	case EV_PEER_EXISTS:
		return "peer_exists";
	case EV_EXISTS_END:
		return "exists_end";
	case EV_EVENTS_LOST:
		return "events_lost";
	}
	return NAME_OF(t, v);
}

const char *on_io_error_name(unsigned int v)
{
	static const char *const t[] = {
		[RBLK_ON_IO_ERROR_DETACH] = "detach",
		[RBLK_ON_IO_ERROR_PASS_ON] = "pass-on",
	};
	return NAME_OF(t, v);
}

const char *on_no_quorum_name(unsigned int v)
{
	static const char *const t[] = {
		[RBLK_ON_NO_QUORUM_SUSPEND_IO] = "suspend-io",
		[RBLK_ON_NO_QUORUM_IO_ERROR] = "io-error",
	};
	return NAME_OF(t, v);
}

const char *suspend_reason_name(unsigned int v)
{
	static const char *const t[] = {
		[RBLK_SUSPEND_NONE] = "no",
		[RBLK_SUSPEND_NO_QUORUM] = "no-quorum",
		[RBLK_SUSPEND_FENCING] = "fencing",
	};
	return NAME_OF(t, v);
}

const char *fencing_name(unsigned int v)
{
	static const char *const t[] = {
		[RBLK_FENCING_OFF] = "off",
		[RBLK_FENCING_RESOURCE_ONLY] = "resource-only",
		[RBLK_FENCING_RESOURCE_AND_STONITH] = "resource-and-stonith",
	};
	return NAME_OF(t, v);
}

const char *yes_no_name(unsigned int v)
{
	static const char *const t[] = { "no", "yes" };

	return NAME_OF(t, v);
}

const char *data_digest_name(unsigned int v)
{
	static const char *const t[] = {
		[RBLK_DATA_DIGEST_NONE] = "none",
		[RBLK_DATA_DIGEST_CRC32C] = "crc32c",
	};
	return NAME_OF(t, v);
}

const char *read_balancing_name(unsigned int v)
{
	static const char *const t[] = {
		[RBLK_READ_PREFER_LOCAL] = "prefer-local",
		[RBLK_READ_ROUND_ROBIN] = "round-robin",
		[RBLK_READ_LEAST_PENDING] = "least-pending",
		[RBLK_READ_WHEN_CONGESTED_REMOTE] = "when-congested-remote",
	};
	return NAME_OF(t, v);
}

const char *format_quorum(uint32_t quorum, char *buf, size_t len)
{
	if (quorum == RBLK_QUORUM_OFF)
		snprintf(buf, len, "off");
	else if (quorum == RBLK_QUORUM_MAJORITY)
		snprintf(buf, len, "majority");
	else
		snprintf(buf, len, "%" PRIu32, quorum);
	return buf;
}
