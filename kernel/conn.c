// SPDX-License-Identifier: GPL-2.0
/*
 * rblk - the connection state machine of a peer: connect or accept, the
 * HELLO handshake, publishing a connection, teardown, reconnect with
 * backoff, ping and request timeout, and the peer's management calls.
 *
 * For each peer the node with the lower node id connects (bound to its
 * local IP), the node with the higher node id listens on its local
 * address:port.  A connection starts with a blocking HELLO exchange in the
 * peer's conn_work (socket timeouts = connect_timeout_ms), then runs
 * non-blocking in io_work (transport.c), which hands every received packet
 * to receiver.c.  Any malformed, oversize or out-of-state packet fails the
 * connection with one rate-limited log line; conn_work then tears it down
 * and reconnects with exponential backoff.
 *
 * Contexts: conn_work and ping_work are work items (process context, may
 * sleep).  State changes of a peer may come from any context.
 */

#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/inet.h>
#include <linux/ktime.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "rblk_int.h"

/* Control packet ids (PING, ROLE_REQ): never reused within a boot. */
static atomic64_t rblk_ctl_id = ATOMIC64_INIT(0);

/* ------------------------------------------------------------------------
 * state changes of a peer
 */

static void rblk_peer_set_conn_state(struct rblk_peer *peer,
				     enum rblk_conn_state state, const char *why)
{
	bool changed;

	spin_lock_bh(&peer->lock);
	changed = peer->conn_state != state;
	WRITE_ONCE(peer->conn_state, state);
	spin_unlock_bh(&peer->lock);
	wake_up_all(&peer->state_wait);
	if (changed)
		rblk_notify(peer->dev, RBLK_EVENT_CONN_STATE_CHANGED,
			    peer->cfg.node_id, state, why);
}

void rblk_peer_set_role(struct rblk_peer *peer, enum rblk_role role)
{
	bool changed, reconcile;

	spin_lock_bh(&peer->lock);
	changed = peer->peer_role != role;
	peer->peer_role = role;
	reconcile = peer->reconcile;
	spin_unlock_bh(&peer->lock);
	if (changed)
		rblk_notify(peer->dev, RBLK_EVENT_PEER_ROLE_CHANGED,
			    peer->cfg.node_id, role, NULL);
	/* a new primary resyncs the regions a lost one left: compare again */
	if (changed && role == RBLK_ROLE_PRIMARY && reconcile) {
		struct rblk_conn *conn;

		rcu_read_lock();
		conn = rblk_conn_get(peer);
		rcu_read_unlock();
		if (conn) {
			rblk_conn_fail(conn, -EAGAIN,
				       "new primary: reconcile the lost one's last writes");
			rblk_conn_put(conn);
		}
	}
}

/* The peer announced @claimed: show it, judged by our record of its misses. */
void rblk_peer_set_claimed_disk(struct rblk_peer *peer, enum rblk_disk_state claimed)
{
	enum rblk_disk_state state;
	unsigned long flags;
	bool changed;

	spin_lock_irqsave(&peer->lock, flags);
	peer->peer_disk_claimed = claimed;
	state = rblk_peer_disk_claimed(rblk_peer_is_behind(peer), claimed);
	changed = peer->peer_disk_state != state;
	peer->peer_disk_state = state;
	spin_unlock_irqrestore(&peer->lock, flags);
	if (changed)
		rblk_notify(peer->dev, RBLK_EVENT_PEER_DISK_STATE_CHANGED,
			    peer->cfg.node_id, state, NULL);
}

/**
 * rblk_peer_set_repl_state() - change the replication state toward a peer
 * @peer: peer
 * @state: new state
 *
 * Context: process context or io_work (notifies with GFP_ATOMIC).
 */
void rblk_peer_set_repl_state(struct rblk_peer *peer, enum rblk_repl_state state)
{
	bool changed;

	spin_lock_bh(&peer->lock);
	changed = peer->repl_state != state;
	peer->repl_state = state;
	spin_unlock_bh(&peer->lock);
	/* caught up, or behind: a primary tells the others (and counts again) */
	if (changed)
		mod_delayed_work(rblk_wq, &peer->dev->quorum_work, 0);
	/* no longer our sync source: another peer may be */
	if (state != RBLK_REPL_SYNC_TARGET)
		cmpxchg(&peer->dev->sync_target_of, peer->cfg.node_id, RBLK_NO_PEER);
	if (changed)
		rblk_notify(peer->dev, RBLK_EVENT_REPL_STATE_CHANGED, peer->cfg.node_id,
			    state, NULL);
}

static void rblk_peer_set_disk(struct rblk_peer *peer, enum rblk_disk_state state)
{
	bool changed;

	spin_lock_bh(&peer->lock);
	changed = peer->peer_disk_state != state;
	peer->peer_disk_state = state;
	spin_unlock_bh(&peer->lock);
	if (changed)
		rblk_notify(peer->dev, RBLK_EVENT_PEER_DISK_STATE_CHANGED,
			    peer->cfg.node_id, state, NULL);
}

/**
 * rblk_peer_outdate() - the peer missed a write: show its disk Outdated
 * @peer: peer
 *
 * As rblk_peer_disk_after_disconnect() rules for a primary: a Diskless or
 * Inconsistent peer disk stays as it is, anything else becomes Outdated.
 * The record (peers_missed_writes) is set under peer->lock, where the
 * connection code reads it together with the peer's disk state.
 *
 * Context: any (takes peer->lock with irqs saved; notifies with GFP_ATOMIC).
 */
void rblk_peer_outdate(struct rblk_peer *peer)
{
	unsigned long *missed = &peer->dev->peers_missed_writes;
	enum rblk_disk_state state;
	unsigned long flags;
	bool changed;

	/* the common case while a peer is away: recorded already */
	state = READ_ONCE(peer->peer_disk_state);
	if (test_bit(peer->cfg.node_id, missed) && state != RBLK_DISK_UP_TO_DATE &&
	    state != RBLK_DISK_UNKNOWN)
		return;
	/* bit and state change together: see rblk_conn_install() */
	spin_lock_irqsave(&peer->lock, flags);
	/* newly behind: the other peers learn it (rblk_quorum_tell_behind()) */
	if (!test_and_set_bit(peer->cfg.node_id, missed))
		mod_delayed_work(rblk_wq, &peer->dev->quorum_work, 0);
	state = rblk_peer_disk_after_disconnect(RBLK_ROLE_PRIMARY, peer->peer_disk_state);
	changed = state != peer->peer_disk_state;
	peer->peer_disk_state = state;
	spin_unlock_irqrestore(&peer->lock, flags);
	if (changed)
		rblk_notify(peer->dev, RBLK_EVENT_PEER_DISK_STATE_CHANGED,
			    peer->cfg.node_id, state, NULL);
}

/**
 * rblk_peer_missed_write() - a connected peer could not be given a write
 * @peer: peer
 * @conn: its connection, held by the caller (rblk_conn_get())
 * @err: why the write could not be queued (-errno)
 *
 * The peer is recorded as having missed the write and is told so with
 * RBLK_P_OUTDATE, so that it shows its own disk Outdated; if even that
 * cannot be queued (or the peer does not know OUTDATE) the connection
 * fails, and the next handshake tells it.
 *
 * Context: process context, may sleep (GFP_NOIO); @conn held with
 * rblk_conn_get().
 */
void rblk_peer_missed_write(struct rblk_peer *peer, struct rblk_conn *conn, int err)
{
	rblk_peer_outdate(peer);
	if (!(conn->features & RBLK_FEAT_OUTDATE) ||
	    rblk_conn_queue_ctl(conn, RBLK_P_OUTDATE, 0, NULL, 0, GFP_NOIO))
		rblk_conn_fail(conn, err, "a write could not be queued for the peer");
}

static void rblk_peer_set_error(struct rblk_peer *peer, const char *msg)
{
	spin_lock_bh(&peer->lock);
	strscpy(peer->last_error, msg, sizeof(peer->last_error));
	spin_unlock_bh(&peer->lock);
}

/* ------------------------------------------------------------------------
 * failure
 */

/*
 * Report that @conn is broken: record the reason, log it (rate-limited,
 * once per connection) and let conn_work tear it down.  Any context.
 */
void rblk_conn_fail(struct rblk_conn *conn, int err, const char *fmt, ...)
{
	struct rblk_peer *peer = conn->peer;
	unsigned long flags;
	char msg[96];	/* logged whole, truncated into last_error */
	va_list args;

	if (atomic_read(&conn->failed))
		return;
	/*
	 * Before anybody sees the connection failed and completes a request
	 * without the peer: none is acknowledged before the fencing decides.
	 * Our own reconnects (-EAGAIN: compare generations again) get a
	 * connect timeout to succeed before the handler runs.
	 */
	rblk_fence_conn_lost(peer, err == -EAGAIN);
	if (atomic_xchg(&conn->failed, 1))
		return;
	if (err != -ECONNRESET && err != -EPIPE && err != -ETIMEDOUT)
		atomic64_inc(&peer->errors);
	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	spin_lock_irqsave(&peer->lock, flags);
	strscpy(peer->last_error, msg, sizeof(peer->last_error));
	spin_unlock_irqrestore(&peer->lock, flags);
	pr_warn_ratelimited("%s: peer %u: connection lost: %s (%d)\n",
			    rblk_peer_dev_name(peer), peer->cfg.node_id, msg, err);
	mod_delayed_work(rblk_wq, &peer->conn_work, 0);
}

/* ------------------------------------------------------------------------
 * control packets, ping, request timeout
 */

/**
 * rblk_peer_send_state() - tell a connected peer our role and disk state
 * @peer: peer
 * @command: RBLK_P_STATE (current role) or RBLK_P_ROLE_REQ (asks for primary)
 * @id: for RBLK_P_ROLE_REQ, the request id is stored here and in
 *	peer->role_req_id before the packet can leave; may be NULL otherwise
 *
 * Return: 0 when queued; -ENOTCONN when the peer is not connected;
 * -ENOMEM.
 *
 * Context: process context, no rblk spinlock held (GFP_ATOMIC inside an
 * RCU read section).
 */
int rblk_peer_send_state(struct rblk_peer *peer, u8 command, u64 *id)
{
	struct rblk_device *dev = peer->dev;
	enum rblk_role role;
	enum rblk_disk_state disk;
	struct rblk_conn *conn;
	struct rblk_p_state p;
	u64 req_id = 0;
	int ret;

	spin_lock(&dev->state_lock);
	role = command == RBLK_P_ROLE_REQ ? RBLK_ROLE_PRIMARY : dev->role;
	disk = dev->disk_state;
	spin_unlock(&dev->state_lock);
	rblk_state_encode(&p, role, rblk_wire_disk_state(disk));

	if (command == RBLK_P_ROLE_REQ) {
		req_id = atomic64_inc_return(&rblk_ctl_id);
		spin_lock_bh(&peer->lock);
		peer->role_req_id = req_id;
		peer->role_reply_done = false;
		spin_unlock_bh(&peer->lock);
		*id = req_id;
	}
	rcu_read_lock();
	conn = rcu_dereference(peer->conn);
	ret = conn ? rblk_conn_queue_ctl(conn, command, req_id, &p, sizeof(p),
					 GFP_ATOMIC) : -ENOTCONN;
	/* a lost STATE could leave the peer granting us forever: reconnect */
	if (ret == -ENOMEM)
		rblk_conn_fail(conn, ret, "cannot queue a STATE packet");
	rcu_read_unlock();
	return ret;
}

/*
 * Has one request waited for the peer's answer for request_timeout_ms *
 * ko_count?  A peer whose disk hangs still answers pings, so this, not the
 * ping timeout, bounds how long a write waits for it.  The oldest request
 * is the one with the lowest id (ids grow until they wrap after 2^32 - 1
 * requests of one connection).  Checked by ping_work only, so the
 * disconnect comes between the timeout and one ping interval after it.
 */
static bool rblk_request_timed_out(struct rblk_conn *conn)
{
	const struct rblk_peer_config *cfg = &conn->peer->cfg;

	return rblk_ko_expired(&conn->ko, rblk_reqid_oldest(&conn->reqids), jiffies,
			       msecs_to_jiffies(cfg->request_timeout_ms) * cfg->ko_count);
}

static void rblk_ping_work(struct work_struct *work)
{
	struct rblk_conn *conn = container_of(to_delayed_work(work), struct rblk_conn,
					      ping_work);
	const struct rblk_peer_config *cfg = &conn->peer->cfg;
	unsigned long timeout = msecs_to_jiffies(cfg->ping_timeout_ms);

	if (atomic_read(&conn->failed))
		return;
	/*
	 * While we do not read, the peer's packets (its pings too) wait in
	 * the socket: do not count that against it, and send a STATE so that
	 * it hears from us although its pings get no answer.
	 */
	if (READ_ONCE(conn->rx_throttled)) {
		WRITE_ONCE(conn->last_rx_jiffies, jiffies);
		rblk_peer_send_state(conn->peer, RBLK_P_STATE, NULL);
	}
	if (rblk_request_timed_out(conn)) {
		rblk_conn_fail(conn, -ETIMEDOUT, "request timeout: no answer for %u ms",
			       cfg->request_timeout_ms * cfg->ko_count);
		return;
	}
	if (time_after(jiffies, READ_ONCE(conn->last_rx_jiffies) + timeout)) {
		rblk_conn_fail(conn, -ETIMEDOUT, "ping timeout: nothing received for %u ms",
			       cfg->ping_timeout_ms);
		return;
	}
	if (!READ_ONCE(conn->ping_id)) {
		u64 id = atomic64_inc_return(&rblk_ctl_id);

		WRITE_ONCE(conn->ping_sent_ns, ktime_get_ns());
		WRITE_ONCE(conn->ping_id, id);
		rblk_conn_queue_ctl(conn, RBLK_P_PING, id, NULL, 0, GFP_NOIO);
	}
	queue_delayed_work(rblk_wq, &conn->ping_work,
			   msecs_to_jiffies(min(cfg->ping_interval_ms, cfg->ping_timeout_ms)));
}

/* ------------------------------------------------------------------------
 * connection setup and teardown (conn_work only)
 */

/*
 * Log a handshake refusal once per reason until the next success and make
 * it the peer's last error.  @act: a refusal about roles may tell quorum
 * that the other side of a partition has a primary.
 */
static void rblk_refusal(struct rblk_peer *peer, u32 reason, const char *prefix, bool act,
			 const char *message)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "%s: %s", prefix, message);
	rblk_peer_set_error(peer, msg);
	/*
	 * The other side of a partition has a primary (not a mere split-brain:
	 * that is never resolved automatically)
	 */
	if (act && (reason == RBLK_REJECT_BOTH_PRIMARY || reason == RBLK_REJECT_OTHER_PRIMARY ||
		    reason == RBLK_REJECT_NEWER_PEER))
		rblk_quorum_meets_primary(peer->dev);
	if (peer->last_reject_reason == reason)
		return;
	peer->last_reject_reason = reason;
	pr_warn_ratelimited("%s: peer %u: handshake %s\n", rblk_peer_dev_name(peer),
			    peer->cfg.node_id, msg);
}

/**
 * rblk_log_refusal() - log a refusal of the handshake
 * @peer: peer
 * @reason: enum rblk_reject_reason
 * @by_peer: the peer refused (its HELLO_REJECT), not this node
 * @message: NUL-terminated, printable (rblk_reject_decode() makes a
 *	peer's so)
 *
 * Logged once per reason until the next successful handshake (and rate
 * limited), shown as the peer's last error.  A refusal about roles (both
 * primary, another primary, a newer peer) also tells quorum that the other
 * side of a partition has a primary: use rblk_log_unauthenticated_refusal()
 * for a refusal received before the peer proved the shared secret.
 *
 * Context: conn_work.
 */
void rblk_log_refusal(struct rblk_peer *peer, u32 reason, bool by_peer, const char *message)
{
	rblk_refusal(peer, reason, by_peer ? "refused by peer" : "refused", true, message);
}

/**
 * rblk_log_unauthenticated_refusal() - log a refusal of the peer received
 *	before it proved the shared secret
 * @peer: peer
 * @reason: enum rblk_reject_reason
 * @message: NUL-terminated, printable
 *
 * Anybody who can reach us from the peer's address can send it: it is
 * logged and shown ("refused by unauthenticated peer"), never acted on.
 * An honest peer with the secret refuses on roles only after the exchange.
 *
 * Context: conn_work.
 */
void rblk_log_unauthenticated_refusal(struct rblk_peer *peer, u32 reason, const char *message)
{
	rblk_refusal(peer, reason, "refused by unauthenticated peer", false, message);
}

struct rblk_hello_pkt {
	struct rblk_hdr hdr;
	struct rblk_p_hello hello;
};

struct rblk_reject_pkt {
	struct rblk_hdr hdr;
	struct rblk_p_reject reject;
};

void rblk_send_reject(struct socket *sock, u32 reason, const char *message)
{
	struct rblk_reject_pkt pkt;

	rblk_hdr_encode(&pkt.hdr, RBLK_PROTO_VERSION_MIN, RBLK_P_HELLO_REJECT, 0,
			sizeof(pkt.reject), 0);
	rblk_reject_encode(&pkt.reject, reason, message);
	rblk_send_all(sock, &pkt, sizeof(pkt));
}

/*
 * HELLO both ways.  On success fills @remote and @res and returns 0, with
 * *@gen the device state generation the HELLO was built from.
 */
static int rblk_handshake(struct rblk_peer *peer, struct socket *sock, u64 *gen,
			  struct rblk_hello_params *remote, struct rblk_hello_result *res,
			  struct rblk_sync_info *si)
{
	struct rblk_device *dev = peer->dev;
	struct rblk_hello_params local = {
		.version_min = RBLK_PROTO_VERSION_MIN,
		.version_max = RBLK_PROTO_VERSION_MAX,
		.features = RBLK_FEAT_ALL,
		.node_id = dev->node_id,
		.peer_node_id = peer->cfg.node_id,
	};
	struct rblk_hello_pkt *pkt;
	struct rblk_auth_key *key;
	struct rblk_hdr_info info;
	int ret;

	pkt = kzalloc(sizeof(*pkt) + sizeof(struct rblk_p_reject), GFP_KERNEL);
	key = kzalloc(sizeof(*key), GFP_KERNEL);
	if (!pkt || !key) {
		kfree(pkt);
		kfree(key);
		return -ENOMEM;
	}
	strscpy(local.cluster_name, dev->cluster_name, sizeof(local.cluster_name));
	strscpy(local.resource_name, dev->resource_name, sizeof(local.resource_name));
	spin_lock(&dev->state_lock);
	local.size_sectors = dev->size_sectors;
	local.logical_block_size_bytes = dev->logical_block_size_bytes;
	local.role = dev->role;
	local.disk_state = rblk_wire_disk_state(dev->disk_state);
	*gen = dev->state_gen;
	key->len = dev->auth_secret_len;
	memcpy(key->secret, dev->auth_secret, key->len);
	if (dev->data_digest == RBLK_DATA_DIGEST_CRC32C)
		local.features |= RBLK_FEAT_DATA_DIGEST;
	spin_unlock(&dev->state_lock);
	if (key->len)
		local.features |= RBLK_FEAT_AUTH;

	rblk_hdr_encode(&pkt->hdr, RBLK_PROTO_VERSION_MIN, RBLK_P_HELLO, 0,
			sizeof(pkt->hello), 0);
	rblk_hello_encode(&pkt->hello, &local);
	ret = rblk_send_all(sock, pkt, sizeof(*pkt));
	if (ret)
		goto out;

	ret = rblk_recv_all(sock, &pkt->hdr, sizeof(pkt->hdr));
	if (ret)
		goto out;
	ret = rblk_hdr_decode(&pkt->hdr, RBLK_PROTO_VERSION_MIN, &info);
	if (ret) {
		rblk_send_reject(sock, RBLK_REJECT_MALFORMED, "malformed header");
		rblk_log_refusal(peer, RBLK_REJECT_MALFORMED, false, "malformed header");
		goto out;
	}
	if (info.command == RBLK_P_HELLO_REJECT) {
		struct rblk_p_reject *rej = (struct rblk_p_reject *)&pkt->hello;
		char message[sizeof(rej->message)];
		u32 reason;

		ret = rblk_recv_all(sock, rej, sizeof(*rej));
		if (ret)
			goto out;
		if (rblk_reject_decode(rej, &reason, message)) {
			reason = RBLK_REJECT_MALFORMED;
			strscpy(message, "malformed refusal", sizeof(message));
		}
		if (key->len)
			rblk_log_unauthenticated_refusal(peer, reason, message);
		else
			rblk_log_refusal(peer, reason, true, message);
		ret = -ECONNREFUSED;
		goto out;
	}
	if (info.command != RBLK_P_HELLO) {
		rblk_send_reject(sock, RBLK_REJECT_MALFORMED, "expected HELLO");
		rblk_log_refusal(peer, RBLK_REJECT_MALFORMED, false, "expected HELLO");
		ret = -EPROTO;
		goto out;
	}
	ret = rblk_recv_all(sock, &pkt->hello, sizeof(pkt->hello));
	if (ret)
		goto out;
	ret = rblk_hello_decode(&pkt->hello, remote);
	if (ret) {
		rblk_send_reject(sock, RBLK_REJECT_MALFORMED, "malformed HELLO");
		rblk_log_refusal(peer, RBLK_REJECT_MALFORMED, false, "malformed HELLO");
		goto out;
	}
	/*
	 * With a secret, nothing of the peer's HELLO counts before it proved
	 * it has the secret too (a claimed role could make us step down).
	 */
	ret = rblk_hello_auth_check(key->len, remote, res);
	if (ret) {
		rblk_send_reject(sock, res->reason, res->message);
		rblk_log_refusal(peer, res->reason, false, res->message);
		goto out;
	}
	if (key->len) {
		ret = rblk_auth_exchange(peer, sock, key);
		if (ret)
			goto out;
	}
	ret = rblk_hello_negotiate(&local, remote, res);
	if (ret) {
		rblk_send_reject(sock, res->reason, res->message);
		rblk_log_refusal(peer, res->reason, false, res->message);
		goto out;
	}
	/* a witness gets no writes: a disk behind it would silently age */
	if (peer->cfg.witness && remote->disk_state != RBLK_DISK_DISKLESS) {
		rblk_send_reject(sock, RBLK_REJECT_WITNESS, "configured as a witness, has a disk");
		rblk_log_refusal(peer, RBLK_REJECT_WITNESS, false,
				 "configured as a witness, has a disk");
		ret = -ECONNREFUSED;
		goto out;
	}
	/*
	 * A primary while we take writes from another one: refused before
	 * the generations are compared (a split-brain verdict would stop
	 * both sides' reconnects; the other primary may be one that lost
	 * quorum and steps down on this refusal).  Checked again when the
	 * connection is installed.
	 */
	if (remote->role == RBLK_ROLE_PRIMARY) {
		u32 primary = READ_ONCE(dev->primary_peer);

		if (primary != RBLK_NO_PEER && primary != peer->cfg.node_id) {
			rblk_send_reject(sock, RBLK_REJECT_OTHER_PRIMARY,
					 "another peer is our primary");
			rblk_log_refusal(peer, RBLK_REJECT_OTHER_PRIMARY, false,
					 "another peer is our primary");
			ret = -ECONNREFUSED;
			goto out;
		}
	}
	/*
	 * Generation UUIDs: what the two nodes do about their data.  Not
	 * when either side has no disk (both sides know both HELLOs, so
	 * both skip it).
	 */
	si->valid = res->features & RBLK_FEAT_MD && local.disk_state != RBLK_DISK_DISKLESS &&
		    remote->disk_state != RBLK_DISK_DISKLESS;
	si->remote_disk = remote->disk_state;
	si->features = res->features;
	if (si->valid)
		ret = rblk_sync_exchange(peer, sock, res->version, si);
out:
	kfree_sensitive(key);
	kfree(pkt);
	return ret;
}

/* Publish a connection after a successful handshake. */
static int rblk_conn_install(struct rblk_peer *peer, struct socket *sock, u64 gen,
			     const struct rblk_hello_params *remote,
			     const struct rblk_hello_result *res,
			     const struct rblk_sync_info *si)
{
	struct rblk_device *dev = peer->dev;
	struct rblk_conn *conn;
	struct sock *sk = sock->sk;
	bool ok, other_primary, missed;
	int source = 0;

	conn = kzalloc(sizeof(*conn), GFP_KERNEL);
	if (!conn)
		return -ENOMEM;
	conn->peer = peer;
	conn->sock = sock;
	conn->version = res->version;
	conn->features = res->features;
	spin_lock_init(&conn->submit_lock);
	rblk_reqid_init(&conn->reqids);
	init_llist_head(&conn->send_llist);
	INIT_LIST_HEAD(&conn->send_list);
	INIT_WORK(&conn->io_work, rblk_io_work);
	INIT_DELAYED_WORK(&conn->ping_work, rblk_ping_work);
	atomic_set(&conn->pwrites_inflight, 0);
	atomic_set(&conn->read_reply_bytes, 0);
	atomic_set(&conn->read_replies, 0);
	atomic_set(&conn->read_bytes_out, 0);
	init_waitqueue_head(&conn->pwrites_wait);
	init_waitqueue_head(&conn->submit_wait);
	conn->rx_state = RBLK_RX_HDR;
	conn->last_rx_jiffies = jiffies;
	if (rblk_unflushed_init(conn)) {
		rblk_reqid_destroy(&conn->reqids);
		kfree(conn);
		return -ENOMEM;
	}

	tcp_sock_set_nodelay(sk);
	sock_no_linger(sk);
	sk->sk_sndtimeo = MAX_SCHEDULE_TIMEOUT;
	sk->sk_rcvtimeo = MAX_SCHEDULE_TIMEOUT;

	spin_lock_bh(&peer->lock);
	peer->peer_role = remote->role;
	peer->peer_disk_state = RBLK_DISK_UNKNOWN;
	/* a claim of the previous connection is no claim on this one */
	peer->peer_disk_claimed = remote->disk_state;
	/* what it knew of nodes behind may have died with it */
	peer->behind_sent_valid = false;
	peer->behind_acked = 0;
	spin_unlock_bh(&peer->lock);

	/*
	 * Publish only if neither our role nor our disk changed since the
	 * HELLO was built, and no promotion is being arbitrated; see
	 * rblk_device_set_role().  A peer that is primary becomes the one we
	 * take writes from, unless we have another already.
	 */
	spin_lock(&dev->state_lock);
	ok = dev->state_gen == gen && !dev->promoting;
	other_primary = remote->role == RBLK_ROLE_PRIMARY &&
			dev->primary_peer != RBLK_NO_PEER &&
			dev->primary_peer != peer->cfg.node_id;
	if (ok && !other_primary) {
		if (remote->role == RBLK_ROLE_PRIMARY)
			dev->primary_peer = peer->cfg.node_id;
		rcu_assign_pointer(peer->conn, conn);
	}
	spin_unlock(&dev->state_lock);
	if (!ok || other_primary) {
		rblk_reqid_destroy(&conn->reqids);
		rblk_unflushed_free(conn);
		kfree(conn);
		if (!other_primary)
			return -EAGAIN;
		rblk_send_reject(sock, RBLK_REJECT_OTHER_PRIMARY, "another peer is our primary");
		rblk_log_refusal(peer, RBLK_REJECT_OTHER_PRIMARY, false,
				 "another peer is our primary");
		return -ECONNREFUSED;
	}

	/*
	 * Every write that did not find the connection has recorded that the
	 * peer missed it once the writes in RCU read sections have left
	 * them (rblk_req_replicate()); every later one goes to the peer.
	 * Only now is the record complete: judge the peer's claim by it, and
	 * tell a peer that missed writes that its disk is Outdated.
	 */
	synchronize_rcu();
	/* a witness holds no data: it misses nothing */
	if (peer->cfg.witness && READ_ONCE(peer->md_slot) >= 0) {
		rblk_bm_clear_all(dev, peer->md_slot);
		clear_bit(peer->cfg.node_id, &dev->peers_missed_writes);
	}
	if (si->valid)
		source = rblk_sync_apply(peer, si);
	else
		rblk_peer_set_repl_state(peer, RBLK_REPL_ESTABLISHED);
	if (source == -EAGAIN)
		rblk_conn_fail(conn, -EAGAIN, "writes missed the peer during the handshake");
	else if (source < 0)
		rblk_conn_fail(conn, source, "cannot record the resync start in the metadata");
	/*
	 * The HELLO's claim, unless a STATE of the peer was received meanwhile
	 * (io_work runs as soon as either side queues a packet, e.g. the
	 * STATE of a disk state the decision changed): the newer one stands.
	 */
	spin_lock_irq(&peer->lock);
	missed = rblk_peer_is_behind(peer);
	if (peer->peer_disk_state == RBLK_DISK_UNKNOWN)
		peer->peer_disk_claimed = remote->disk_state;
	peer->peer_disk_state = rblk_peer_disk_claimed(missed, peer->peer_disk_claimed);
	spin_unlock_irq(&peer->lock);
	/* with generation UUIDs the peer has judged its disk itself */
	if (missed && !si->valid && (conn->features & RBLK_FEAT_OUTDATE) &&
	    rblk_conn_queue_ctl(conn, RBLK_P_OUTDATE, 0, NULL, 0, GFP_KERNEL))
		rblk_conn_fail(conn, -ENOMEM, "cannot tell the peer it missed writes");

	write_lock_bh(&sk->sk_callback_lock);
	conn->saved_data_ready = sk->sk_data_ready;
	conn->saved_write_space = sk->sk_write_space;
	conn->saved_state_change = sk->sk_state_change;
	sk->sk_user_data = conn;
	sk->sk_data_ready = rblk_sk_data_ready;
	sk->sk_write_space = rblk_sk_write_space;
	sk->sk_state_change = rblk_sk_state_change;
	write_unlock_bh(&sk->sk_callback_lock);

	queue_work(rblk_io_wq, &conn->io_work);
	queue_delayed_work(rblk_wq, &conn->ping_work,
			   msecs_to_jiffies(peer->cfg.ping_interval_ms));
	if (source > 0)
		rblk_rs_start(peer);
	rblk_sync_lost_disk_connected(peer, conn, si->valid, missed);
	return 0;
}

/*
 * Tear a connection down: stop its work, wait for received writes still
 * on the backing device, complete every leg that is still waiting for an
 * ACK as "peer missed it", free everything.  conn_work or peer shutdown
 * only (process context).
 */
static void rblk_conn_destroy(struct rblk_peer *peer, struct rblk_conn *conn)
{
	struct rblk_device *dev = peer->dev;
	struct sock *sk = conn->sock->sk;
	struct rblk_send *s, *tmp;
	struct llist_node *n;
	enum rblk_disk_state old_peer_disk, disk, new_disk;
	enum rblk_role old_peer_role, our_role;
	struct rblk_leg *leg;
	unsigned long flags;
	u64 id, unflushed;
	bool want;

	spin_lock_irqsave(&conn->submit_lock, flags);
	conn->dead = true;
	spin_unlock_irqrestore(&conn->submit_lock, flags);
	atomic_set(&conn->failed, 1);
	wake_up_all(&conn->submit_wait);	/* submitters waiting for a slot */

	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_user_data = NULL;
	sk->sk_data_ready = conn->saved_data_ready;
	sk->sk_write_space = conn->saved_write_space;
	sk->sk_state_change = conn->saved_state_change;
	write_unlock_bh(&sk->sk_callback_lock);
	kernel_sock_shutdown(conn->sock, SHUT_RDWR);

	/*
	 * From outside the connection is gone now, although the rest may
	 * wait for our disk to complete the peer's writes: say so (the disk
	 * state rule for the lost peer is rblk_local_disk_after_disconnect()).
	 */
	rblk_peer_set_conn_state(peer, RBLK_CONN_DISCONNECTING, peer->last_error);
	spin_lock_bh(&peer->lock);
	old_peer_role = peer->peer_role;
	spin_unlock_bh(&peer->lock);
	spin_lock(&dev->state_lock);
	our_role = dev->role;
	disk = dev->disk_state;
	spin_unlock(&dev->state_lock);
	new_disk = rblk_local_disk_after_disconnect(our_role, old_peer_role, disk);
	if (new_disk != disk)
		rblk_change_disk_state(dev, disk, new_disk);

	cancel_delayed_work_sync(&conn->ping_work);
	cancel_work_sync(&conn->io_work);
	/* idle: a hung backing device must not look like a hung task */
	wait_event_idle(conn->pwrites_wait, !atomic_read(&conn->pwrites_inflight));
	/* the last rblk_pwrite_finish() may still hold the wait queue lock */
	spin_lock_irq(&conn->pwrites_wait.lock);
	spin_unlock_irq(&conn->pwrites_wait.lock);
	cancel_work_sync(&conn->io_work);
	/* no acknowledgment comes any more: what may the peer lose? */
	unflushed = rblk_unflushed_lost(conn);

	RCU_INIT_POINTER(peer->conn, NULL);
	synchronize_rcu();
	/* nobody finds it now; wait for those who did (rblk_conn_get()) */
	wait_event(conn->submit_wait, !atomic_read(&conn->submitters));
	spin_lock_irq(&conn->submit_wait.lock);
	spin_unlock_irq(&conn->submit_wait.lock);

	if (conn->cur_send)
		rblk_send_release(conn, conn->cur_send);
	conn->cur_send = NULL;
	list_for_each_entry_safe(s, tmp, &conn->send_list, entry)
		rblk_send_release(conn, s);
	n = llist_del_all(&conn->send_llist);
	llist_for_each_entry_safe(s, tmp, n, node)
		rblk_send_release(conn, s);
	if (conn->rx_pwrite)
		rblk_pwrite_free(conn->rx_pwrite);

	while ((leg = rblk_reqid_take_any(&conn->reqids, &id)))
		rblk_leg_complete(leg, -ENOTCONN);
	rblk_reqid_destroy(&conn->reqids);
	sock_release(conn->sock);
	rblk_unflushed_free(conn);
	kfree(conn);
	/* resync requests still reading: what they did not send stays set */
	rblk_rs_stop(peer);
	/* an adoption announced on this connection dies with it */
	cancel_work_sync(&peer->uuids_work);

	/* a promotion waiting for this peer's answer goes on without it */
	spin_lock_bh(&peer->lock);
	if (peer->role_req_id && !peer->role_reply_done) {
		peer->role_reply_status = -ENOTCONN;
		peer->role_reply_done = true;
	}
	want = peer->want_connect;
	old_peer_role = peer->peer_role;
	old_peer_disk = peer->peer_disk_state;
	spin_unlock_bh(&peer->lock);
	wake_up_all(&dev->role_wait);

	spin_lock(&dev->state_lock);
	our_role = dev->role;
	disk = dev->disk_state;
	if (dev->primary_peer == peer->cfg.node_id)
		dev->primary_peer = RBLK_NO_PEER;
	spin_unlock(&dev->state_lock);
	rblk_peer_set_conn_state(peer, want ? RBLK_CONN_CONNECTING : RBLK_CONN_STANDALONE,
				 peer->last_error);
	rblk_peer_set_role(peer, RBLK_ROLE_UNKNOWN);
	rblk_peer_set_repl_state(peer, RBLK_REPL_OFF);
	/* an announcement of the old connection is not replayed on a new one */
	spin_lock_bh(&peer->lock);
	peer->adopt_new_pending = false;
	peer->lost_disk_pending = false;
	spin_unlock_bh(&peer->lock);
	/*
	 * A primary whose disk is lost keeps no write the peer could lack:
	 * what the peer missed failed (rblk_lost_disk_state()).
	 */
	if (our_role == RBLK_ROLE_PRIMARY && disk != RBLK_DISK_FAILED &&
	    disk != RBLK_DISK_DISKLESS) {
		set_bit(peer->cfg.node_id, &dev->peers_missed_writes);
		if (unflushed)
			pr_info("%s: peer %u: %llu activity log extents of writes it acknowledged and no flush covered: marked out of sync\n",
				rblk_peer_dev_name(peer), peer->cfg.node_id, unflushed);
	} else if (our_role != RBLK_ROLE_PRIMARY && old_peer_role == RBLK_ROLE_PRIMARY) {
		rblk_sync_lost_primary(peer);
	}
	rblk_peer_set_disk(peer, rblk_peer_disk_after_disconnect(our_role, old_peer_disk));
	new_disk = rblk_local_disk_after_disconnect(our_role, old_peer_role, disk);
	if (new_disk != disk)
		rblk_change_disk_state(dev, disk, new_disk);
	pr_info("%s: peer %u: disconnected\n", rblk_peer_dev_name(peer), peer->cfg.node_id);
	rblk_quorum_update(dev);
}

/* One connection attempt.  0 connected, -EAGAIN nothing to accept, -errno. */
static int rblk_conn_establish(struct rblk_peer *peer)
{
	struct rblk_hello_params *remote;
	struct rblk_hello_result res;
	struct rblk_sync_info *si;
	struct socket *sock;
	u64 gen;
	int ret;

	if (peer->dev->node_id < peer->cfg.node_id)
		ret = rblk_connect(peer, &sock);
	else
		ret = rblk_accept(peer, &sock);
	if (ret)
		return ret;

	remote = kzalloc(sizeof(*remote), GFP_KERNEL);
	si = kzalloc(sizeof(*si), GFP_KERNEL);
	if (!remote || !si) {
		kfree(remote);
		kfree(si);
		sock_release(sock);
		return -ENOMEM;
	}
	ret = rblk_handshake(peer, sock, &gen, remote, &res, si);
	if (!ret)
		ret = rblk_conn_install(peer, sock, gen, remote, &res, si);
	kfree(remote);
	kfree(si);
	if (ret) {
		/* a sync source claimed in this handshake is free again */
		cmpxchg(&peer->dev->sync_target_of, peer->cfg.node_id, RBLK_NO_PEER);
		sock_release(sock);
		return ret == -EAGAIN ? -ESTALE : ret;
	}
	return 0;
}

static void rblk_conn_work(struct work_struct *work)
{
	struct rblk_peer *peer = container_of(to_delayed_work(work), struct rblk_peer,
					      conn_work);
	struct rblk_conn *conn = rcu_dereference_protected(peer->conn, true);
	bool want;
	int ret;

	/* rblk_peer_shutdown() does the rest itself */
	if (READ_ONCE(peer->stopped))
		return;
	spin_lock_bh(&peer->lock);
	want = peer->want_connect;
	spin_unlock_bh(&peer->lock);

	if (conn && (atomic_read(&conn->failed) || !want)) {
		rblk_conn_destroy(peer, conn);
		conn = NULL;
		if (want) {
			/*
			 * Reconnect after the shortest delay, unless the peer
			 * refused the connection it had accepted (it has
			 * another primary): then keep backing off.
			 */
			if (xchg(&peer->refused, false))
				peer->backoff_ms = min(peer->backoff_ms * 2,
						       peer->cfg.reconnect_max_ms);
			else
				peer->backoff_ms = peer->cfg.reconnect_min_ms;
			queue_delayed_work(rblk_wq, &peer->conn_work,
					   msecs_to_jiffies(peer->backoff_ms));
			return;
		}
	}
	if (!want) {
		rblk_listen_close(peer);
		rblk_peer_set_conn_state(peer, RBLK_CONN_STANDALONE, NULL);
		return;
	}
	if (conn)
		return;

	rblk_peer_set_conn_state(peer, RBLK_CONN_CONNECTING, NULL);
	ret = rblk_conn_establish(peer);
	if (!ret) {
		spin_lock_bh(&peer->lock);
		peer->discard_my_data = false;
		spin_unlock_bh(&peer->lock);
		peer->last_reject_reason = 0;
		if (peer->connected_once)
			atomic64_inc(&peer->reconnects);
		peer->connected_once = true;
		rblk_peer_set_conn_state(peer, RBLK_CONN_CONNECTED, NULL);
		rblk_notify(peer->dev, RBLK_EVENT_PEER_ROLE_CHANGED, peer->cfg.node_id,
			    peer->peer_role, NULL);
		rblk_notify(peer->dev, RBLK_EVENT_PEER_DISK_STATE_CHANGED,
			    peer->cfg.node_id, peer->peer_disk_state, NULL);
		pr_info("%s: peer %u: connected\n", rblk_peer_dev_name(peer),
			peer->cfg.node_id);
		rblk_fence_peer_back(peer);
		rblk_quorum_update(peer->dev);
		return;
	}
	if (ret != -EAGAIN && ret != -ECONNREFUSED) {
		char msg[64];

		snprintf(msg, sizeof(msg), "connection attempt failed (%d)", ret);
		rblk_peer_set_error(peer, msg);
	}
	/*
	 * Listening side: new connections wake us through the listen
	 * socket; poll anyway at the backoff interval.
	 */
	queue_delayed_work(rblk_wq, &peer->conn_work, msecs_to_jiffies(peer->backoff_ms));
	if (ret != -EAGAIN)
		peer->backoff_ms = min(peer->backoff_ms * 2, peer->cfg.reconnect_max_ms);
}

/* ------------------------------------------------------------------------
 * peer lifetime and management
 */

/**
 * rblk_peer_init() - initialise a peer's connection state
 * @peer: zeroed peer with dev and cfg set
 *
 * Context: process context.
 */
void rblk_peer_init(struct rblk_peer *peer)
{
	spin_lock_init(&peer->lock);
	init_waitqueue_head(&peer->state_wait);
	INIT_DELAYED_WORK(&peer->conn_work, rblk_conn_work);
	peer->conn_state = RBLK_CONN_STANDALONE;
	peer->peer_role = RBLK_ROLE_UNKNOWN;
	peer->peer_disk_state = RBLK_DISK_UNKNOWN;
	peer->peer_disk_claimed = RBLK_DISK_UNKNOWN;
	peer->backoff_ms = peer->cfg.reconnect_min_ms;
	peer->md_slot = -1;
	peer->sync_decision = RBLK_SYNC_NONE;
	INIT_WORK(&peer->uuids_work, rblk_sync_uuids_work);
	rblk_rs_init(peer);
}

/**
 * rblk_peer_shutdown() - disconnect a peer for good and stop its work
 * @peer: peer
 *
 * Afterwards no work of the peer runs or is queued and it has no
 * connection or listening socket; it may be freed after an RCU grace
 * period.  Waits for in-flight requests of the connection to drain.
 *
 * Context: process context, may sleep; caller holds the device's mutex.
 */
void rblk_peer_shutdown(struct rblk_peer *peer)
{
	struct rblk_conn *conn;

	spin_lock_bh(&peer->lock);
	peer->want_connect = false;
	spin_unlock_bh(&peer->lock);
	/*
	 * From here conn_work returns at once, wherever it is queued from
	 * (listening socket, connection failure); wait for a running one.
	 */
	WRITE_ONCE(peer->stopped, true);
	cancel_delayed_work_sync(&peer->conn_work);
	rblk_listen_close(peer);
	conn = rcu_dereference_protected(peer->conn, true);
	if (conn)
		rblk_conn_destroy(peer, conn);
	/* the teardown may have queued conn_work again */
	cancel_delayed_work_sync(&peer->conn_work);
	cancel_work_sync(&peer->uuids_work);
	rblk_rs_stop(peer);
	rblk_peer_set_conn_state(peer, RBLK_CONN_STANDALONE, NULL);
}

/**
 * rblk_peer_connect() - start (or keep) connecting a peer
 * @peer: peer
 * @discard_my_data: this node loses a split-brain found at the next handshake
 *
 * Context: process context; caller holds the device's mutex.
 */
void rblk_peer_connect(struct rblk_peer *peer, bool discard_my_data)
{
	spin_lock_bh(&peer->lock);
	peer->want_connect = true;
	peer->discard_my_data = discard_my_data;
	peer->split_brain = false;
	spin_unlock_bh(&peer->lock);
	peer->backoff_ms = peer->cfg.reconnect_min_ms;
	mod_delayed_work(rblk_wq, &peer->conn_work, 0);
}

/**
 * rblk_peer_disconnect() - drop a peer's connection and stop reconnecting
 * @peer: peer
 *
 * Returns when the peer is StandAlone: in-flight legs completed as missed,
 * sockets closed.  Waits at most connect_timeout_ms + ping_timeout_ms (an
 * attempt in progress, a teardown); a teardown that waits longer (on a
 * secondary whose backing device does not complete the peer's writes)
 * goes on in the background, the peer shown Disconnecting.
 *
 * Context: process context, may sleep; caller holds the device's mutex.
 */
void rblk_peer_disconnect(struct rblk_peer *peer)
{
	const struct rblk_peer_config *cfg = &peer->cfg;
	unsigned long timeout = msecs_to_jiffies(cfg->connect_timeout_ms + cfg->ping_timeout_ms);

	spin_lock_bh(&peer->lock);
	peer->want_connect = false;
	spin_unlock_bh(&peer->lock);
	mod_delayed_work(rblk_wq, &peer->conn_work, 0);
	if (!wait_event_timeout(peer->state_wait,
				READ_ONCE(peer->conn_state) == RBLK_CONN_STANDALONE, timeout))
		pr_info("%s: peer %u: disconnecting in the background: our disk has not completed the peer's writes\n",
			rblk_peer_dev_name(peer), peer->cfg.node_id);
}

/**
 * rblk_peer_get_status() - snapshot of a peer for RBLK_CMD_STATUS
 * @peer: peer
 * @ps: filled completely
 *
 * Context: process context; inside an RCU read section (status takes no
 * management lock).
 */
void rblk_peer_get_status(struct rblk_peer *peer, struct rblk_peer_status *ps)
{
	struct rblk_conn *conn;
	int slot;

	memset(ps, 0, sizeof(*ps));
	ps->node_id = peer->cfg.node_id;
	ps->peer_addr = peer->cfg.peer_addr;
	ps->local_addr = peer->cfg.local_addr;
	spin_lock_bh(&peer->lock);
	ps->conn_state = peer->conn_state;
	ps->peer_role = peer->peer_role;
	ps->peer_disk_state = peer->peer_disk_state;
	strscpy(ps->last_error, peer->last_error, sizeof(ps->last_error));
	ps->repl_state = peer->repl_state;
	ps->sync_decision = peer->sync_decision;
	ps->split_brain = peer->split_brain;
	spin_unlock_bh(&peer->lock);
	if (READ_ONCE(peer->rs.running)) {
		ps->resync_total_bytes = max_t(u64, peer->rs.total_bytes, 1);
		ps->resync_done_bytes = atomic64_read(&peer->rs.done_bytes);
		ps->resync_rate_bytes_per_s = READ_ONCE(peer->rs.rate_bytes_per_s);
		ps->resync_latency_us = READ_ONCE(peer->rs.latency_us);
		ps->resync_window = peer->cfg.resync_rate_kib_per_s ? RBLK_RS_WINDOW_MAX :
				    READ_ONCE(peer->rs.window);
	}
	ps->resync_rate_kib_per_s = peer->cfg.resync_rate_kib_per_s;
	ps->resync_latency_ms = peer->cfg.resync_latency_ms;
	ps->witness = peer->cfg.witness;
	slot = READ_ONCE(peer->md_slot);
	ps->has_slot = slot >= 0;
	if (ps->has_slot && READ_ONCE(peer->dev->has_md)) {
		ps->bitmap_uuid = READ_ONCE(peer->dev->md.info.slots[slot].bitmap_uuid);
		ps->out_of_sync_bytes = rblk_bm_oos_bytes(peer->dev, slot);
	}
	ps->writes = atomic64_read(&peer->writes);
	ps->write_bytes = atomic64_read(&peer->write_bytes);
	ps->flushes = atomic64_read(&peer->flushes);
	ps->discards = atomic64_read(&peer->discards);
	ps->inflight = atomic_read(&peer->inflight);
	ps->acks = atomic64_read(&peer->acks);
	ps->rtt_us = atomic64_read(&peer->rtt_us);
	/* the RCU read section keeps a published connection and its socket */
	conn = rcu_dereference(peer->conn);
	if (conn)	/* tcp_sock.srtt_us holds 8 x the smoothed round trip */
		ps->tcp_rtt_us = READ_ONCE(tcp_sk(conn->sock->sk)->srtt_us) >> 3;
	ps->reconnects = atomic64_read(&peer->reconnects);
	ps->received_writes = atomic64_read(&peer->received_writes);
	ps->received_bytes = atomic64_read(&peer->received_bytes);
	ps->errors = atomic64_read(&peer->errors);
	ps->reads = atomic64_read(&peer->reads);
	ps->read_bytes = atomic64_read(&peer->read_bytes);
	ps->served_reads = atomic64_read(&peer->served_reads);
}

/**
 * rblk_only_data_peer() - the device's one data peer, if it has just one
 * @dev: device
 * @witnesses: set to the number of configured witnesses
 *
 * Context: RCU read section (the peer is valid inside it).
 * Return: the only configured peer that is not a witness, or NULL when
 * there is none or more than one.
 */
struct rblk_peer *rblk_only_data_peer(struct rblk_device *dev, u32 *witnesses)
{
	struct rblk_peer *data_peer = NULL;
	bool several = false;
	unsigned int i;

	*witnesses = 0;
	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_peer *peer = rcu_dereference(dev->peers[i]);

		if (!peer)
			continue;
		if (peer->cfg.witness)
			(*witnesses)++;
		else if (data_peer)
			several = true;
		else
			data_peer = peer;
	}
	return several ? NULL : data_peer;
}

/**
 * rblk_node_conn_get() - the established connection to a node of a device
 * @dev: device
 * @node_id: the peer's node id, 0..RBLK_MAX_NODE_ID
 * @peerp: set to the peer, or NULL; valid while the connection is held
 *
 * Context: any.
 * Return: the connection with a reference (rblk_conn_put()), or NULL when
 * the node is not a peer or not connected.
 */
struct rblk_conn *rblk_node_conn_get(struct rblk_device *dev, unsigned int node_id,
				     struct rblk_peer **peerp)
{
	struct rblk_peer *peer;
	struct rblk_conn *conn;

	rcu_read_lock();
	peer = rcu_dereference(dev->peers[node_id]);
	conn = peer ? rblk_conn_get(peer) : NULL;
	rcu_read_unlock();
	*peerp = peer;
	return conn;
}

/**
 * rblk_peer_is_connected() - whether a peer has an established connection
 * @peer: peer
 *
 * Context: any.
 */
bool rblk_peer_is_connected(struct rblk_peer *peer)
{
	return rcu_access_pointer(peer->conn);
}
