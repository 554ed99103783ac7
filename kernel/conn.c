// SPDX-License-Identifier: GPL-2.0
/*
 * rblk - per-peer TCP connection.
 *
 * For each peer the node with the lower node id connects (bound to its
 * local IP), the node with the higher node id listens on its local
 * address:port.  A connection starts with a blocking HELLO exchange in the
 * peer's conn_work (socket timeouts = connect_timeout_ms), then runs
 * non-blocking: the socket callbacks (softirq) queue io_work, which sends
 * from a lock-free list and receives with a small state machine
 * (header -> fixed payload -> data pages).  Any malformed, oversize or
 * out-of-state packet fails the connection with one rate-limited log line;
 * conn_work then tears it down and reconnects with exponential backoff.
 *
 * Contexts: conn_work and io_work are work items (process context, may
 * sleep).  Socket callbacks run in softirq or process context and only
 * queue work.  Received writes complete in (hard) irq context and only
 * queue their ACK.
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

enum {
	RBLK_RX_HDR,		/* receiving a header */
	RBLK_RX_PAYLOAD,	/* receiving the fixed payload */
	RBLK_RX_DISPATCH,	/* packet complete, waiting for memory to act on it */
	RBLK_RX_DATA,		/* receiving DATA into pages */
};

/*
 * io_work never sleeps for memory: the pools it draws from are refilled by
 * completions that need io_work to send their ACKs.  When an allocation
 * fails the packet stays in RBLK_RX_DISPATCH and is retried when io_work
 * runs next (every completion queues it).
 */
#define RBLK_IO_GFP	(GFP_NOWAIT | __GFP_NOWARN)

/* Control packet ids (PING, ROLE_REQ): never reused within a boot. */
static atomic64_t rblk_ctl_id = ATOMIC64_INIT(0);

/* io_work runs on its own high-priority workqueue. */
struct workqueue_struct *rblk_io_wq;

static const char *rblk_peer_dev_name(struct rblk_peer *peer)
{
	return peer->dev->disk->disk_name;
}

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

static void rblk_peer_set_role(struct rblk_peer *peer, enum rblk_role role)
{
	bool changed;

	spin_lock_bh(&peer->lock);
	changed = peer->peer_role != role;
	peer->peer_role = role;
	spin_unlock_bh(&peer->lock);
	if (changed)
		rblk_notify(peer->dev, RBLK_EVENT_PEER_ROLE_CHANGED,
			    peer->cfg.node_id, role, NULL);
}

/* The peer announced @claimed: show it, judged by our record of its misses. */
static void rblk_peer_set_claimed_disk(struct rblk_peer *peer, enum rblk_disk_state claimed)
{
	enum rblk_disk_state state;
	unsigned long flags;
	bool changed;

	spin_lock_irqsave(&peer->lock, flags);
	state = rblk_peer_disk_claimed(test_bit(peer->cfg.node_id,
						&peer->dev->peers_missed_writes), claimed);
	changed = peer->peer_disk_state != state;
	peer->peer_disk_state = state;
	spin_unlock_irqrestore(&peer->lock, flags);
	if (changed)
		rblk_notify(peer->dev, RBLK_EVENT_PEER_DISK_STATE_CHANGED,
			    peer->cfg.node_id, state, NULL);
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
	set_bit(peer->cfg.node_id, missed);
	state = rblk_peer_disk_after_disconnect(RBLK_ROLE_PRIMARY, peer->peer_disk_state);
	changed = state != peer->peer_disk_state;
	peer->peer_disk_state = state;
	spin_unlock_irqrestore(&peer->lock, flags);
	if (changed)
		rblk_notify(peer->dev, RBLK_EVENT_PEER_DISK_STATE_CHANGED,
			    peer->cfg.node_id, state, NULL);
}

static int rblk_conn_queue_ctl(struct rblk_conn *conn, u8 command, u64 id,
			       const void *payload, u32 len, gfp_t gfp);
static void rblk_conn_fail(struct rblk_conn *conn, int err, const char *fmt, ...)
	__printf(3, 4);

/**
 * rblk_peer_missed_write() - a connected peer could not be given a write
 * @peer: peer
 * @conn: its connection, kept alive by the caller (RCU)
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
static void rblk_conn_fail(struct rblk_conn *conn, int err, const char *fmt, ...)
{
	struct rblk_peer *peer = conn->peer;
	unsigned long flags;
	char msg[64];
	va_list args;

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
 * send side
 */

static void rblk_pwrite_free(struct rblk_pwrite *pw);

static void rblk_send_queue(struct rblk_conn *conn, struct rblk_send *s)
{
	llist_add(&s->node, &conn->send_llist);
	queue_work(rblk_io_wq, &conn->io_work);
}

static void rblk_send_prepare(struct rblk_send *s, enum rblk_send_kind kind,
			      u8 version, u8 command, u64 id,
			      const void *payload, u32 fixed_len, u32 payload_len)
{
	s->kind = kind;
	s->command = command;
	s->sent = false;
	s->request_id = id;
	s->head_len = sizeof(struct rblk_hdr) + fixed_len;
	s->head_sent = 0;
	s->data_bio = NULL;
	rblk_hdr_encode((struct rblk_hdr *)s->head, version, command, 0,
			payload_len, id);
	if (fixed_len)
		memcpy(s->head + sizeof(struct rblk_hdr), payload, fixed_len);
}

/*
 * Called once a packet is fully on the socket, or dropped at teardown.
 * Records which requests were sent: their answers are valid from now on.
 * Process context (io_work or teardown).
 */
static void rblk_send_release(struct rblk_conn *conn, struct rblk_send *s)
{
	switch (s->kind) {
	case RBLK_SEND_CTL:
		atomic_dec(&conn->ctl_queued);
		if (s->command == RBLK_P_PING)
			WRITE_ONCE(conn->ping_sent_id, s->request_id);
		else if (s->command == RBLK_P_ROLE_REQ)
			conn->role_req_sent_id = s->request_id;
		kfree(s);
		break;
	case RBLK_SEND_ACK:
		/* a failed write went through rblk_local_io_error() already */
		rblk_pwrite_free(container_of(s, struct rblk_pwrite, ack));
		break;
	case RBLK_SEND_LEG:
		/* owned by the request-id table until its ACK */
		WRITE_ONCE(s->sent, true);
		break;
	}
}

/*
 * Queue a control packet unless the connection is dead.  Returns 0 or
 * -ENOTCONN / -ENOMEM.  Caller holds rcu_read_lock() or otherwise keeps
 * @conn alive.  Any context with @gfp GFP_ATOMIC.
 */
static int rblk_conn_queue_ctl(struct rblk_conn *conn, u8 command, u64 id,
			       const void *payload, u32 len, gfp_t gfp)
{
	struct rblk_send *s;
	unsigned long flags;
	int ret = 0;

	/* a peer that sends PINGs but never reads our answers: fail it */
	if (atomic_inc_return(&conn->ctl_queued) > RBLK_MAX_CTL_QUEUED_PER_CONN) {
		atomic_dec(&conn->ctl_queued);
		rblk_conn_fail(conn, -ENOBUFS, "peer does not read: control packets pile up");
		return -ENOBUFS;
	}
	s = kmalloc(sizeof(*s), gfp);
	if (!s) {
		atomic_dec(&conn->ctl_queued);
		return -ENOMEM;
	}
	rblk_send_prepare(s, RBLK_SEND_CTL, conn->version, command, id, payload,
			  len, len);
	spin_lock_irqsave(&conn->submit_lock, flags);
	if (conn->dead)
		ret = -ENOTCONN;
	else
		rblk_send_queue(conn, s);
	spin_unlock_irqrestore(&conn->submit_lock, flags);
	if (ret) {
		atomic_dec(&conn->ctl_queued);
		kfree(s);
	}
	return ret;
}

/**
 * rblk_conn_get() - find a peer's connection and keep it for a submission
 * @peer: peer
 *
 * Must be called inside rcu_read_lock(); the reference may be kept after
 * rcu_read_unlock() and across sleeping, until rblk_conn_put().  Teardown
 * waits for every such reference (rblk_conn_destroy()).
 *
 * Context: any, inside an RCU read section.
 *
 * Return: the connection, or NULL when the peer has none.
 */
struct rblk_conn *rblk_conn_get(struct rblk_peer *peer)
{
	struct rblk_conn *conn = rcu_dereference(peer->conn);

	if (conn)
		atomic_inc(&conn->submitters);
	return conn;
}

/**
 * rblk_conn_put() - drop a reference of rblk_conn_get()
 * @conn: connection
 *
 * Teardown may free @conn as soon as the count is zero, so the wake-up
 * happens under the wait queue's lock, which teardown takes once more
 * before freeing.
 *
 * Context: any.
 */
void rblk_conn_put(struct rblk_conn *conn)
{
	unsigned long flags;

	spin_lock_irqsave(&conn->submit_wait.lock, flags);
	if (atomic_dec_and_test(&conn->submitters))
		wake_up_all_locked(&conn->submit_wait);
	spin_unlock_irqrestore(&conn->submit_wait.lock, flags);
}

/* A leg slot is free again (its ACK came, or its id could not be had).  Any context. */
static void rblk_conn_leg_slot_put(struct rblk_conn *conn)
{
	atomic_dec(&conn->legs);
	if (wq_has_sleeper(&conn->submit_wait))
		wake_up_all(&conn->submit_wait);
}

/**
 * rblk_conn_queue_leg() - register a leg and queue its packet
 * @conn: connection, kept by the caller with rblk_conn_get()
 * @leg: leg with req, peer and command set
 *
 * Waits while RBLK_MAX_LEGS_PER_CONN legs wait for this peer's answers
 * (backpressure: the submitter waits, the request never fails for it), and
 * allocates the request id with GFP_NOIO.  A peer that answers nothing is
 * disconnected by the request timeout, which ends the wait.
 *
 * Return: 1 when queued (the leg then completes through
 * rblk_leg_complete()); otherwise the caller keeps the leg and gets 0 when
 * the peer needs nothing (a discard it did not negotiate), -ENOTCONN when
 * the connection is dead (its teardown outdates the peer), -EOPNOTSUPP
 * (write zeroes not negotiated), -ENOMEM or -EBUSY (no request id): the
 * peer misses this write.
 *
 * Context: process context, may sleep; no spinlock held.
 */
int rblk_conn_queue_leg(struct rblk_conn *conn, struct rblk_leg *leg)
{
	struct bio *master = leg->req->master;
	struct rblk_send *s = &leg->send;
	unsigned long flags;
	int ret;
	u64 id;

	if (bio_op(master) == REQ_OP_DISCARD && !(conn->features & RBLK_FEAT_DISCARD))
		return 0;
	if (bio_op(master) == REQ_OP_WRITE_ZEROES &&
	    !(conn->features & RBLK_FEAT_WRITE_ZEROES))
		return -EOPNOTSUPP;
	wait_event(conn->submit_wait,
		   atomic_add_unless(&conn->legs, 1, RBLK_MAX_LEGS_PER_CONN) ||
		   READ_ONCE(conn->dead));
	if (READ_ONCE(conn->dead))
		return -ENOTCONN;	/* the slot dies with the connection */
	/*
	 * The leg is findable by its id from here on: an ACK that arrives
	 * before the packet is completely sent (a recycled leg must not look
	 * sent) is a protocol error, never a completion.
	 */
	WRITE_ONCE(s->sent, false);
	ret = rblk_reqid_alloc(&conn->reqids, leg, &id, GFP_NOIO);
	if (ret) {
		rblk_conn_leg_slot_put(conn);
		return ret;
	}

	/* teardown takes the ids only after every submitter has left */
	spin_lock_irqsave(&conn->submit_lock, flags);
	if (conn->dead) {
		spin_unlock_irqrestore(&conn->submit_lock, flags);
		rblk_reqid_take(&conn->reqids, id);
		return -ENOTCONN;
	}

	switch (leg->command) {
	case RBLK_P_DATA: {
		struct rblk_p_data p;
		u32 dp;

		dp = rblk_dp_flags_from_opf(master->bi_opf);
		if (!(conn->features & RBLK_FEAT_REQ_HINTS))
			dp &= RBLK_DP_FUA | RBLK_DP_PREFLUSH;
		rblk_data_encode(&p, master->bi_iter.bi_sector, dp);
		rblk_send_prepare(s, RBLK_SEND_LEG, conn->version, RBLK_P_DATA, id,
				  &p, sizeof(p), sizeof(p) + leg->bytes);
		s->data_bio = master;
		s->data_iter = master->bi_iter;
		break;
	}
	case RBLK_P_FLUSH:
		rblk_send_prepare(s, RBLK_SEND_LEG, conn->version, RBLK_P_FLUSH, id,
				  NULL, 0, 0);
		break;
	case RBLK_P_TRIM: {
		struct rblk_p_trim p;
		u32 tf = 0;

		if (bio_op(master) == REQ_OP_WRITE_ZEROES) {
			tf |= RBLK_TRIM_ZEROES;
			if (master->bi_opf & REQ_NOUNMAP)
				tf |= RBLK_TRIM_NOUNMAP;
		}
		rblk_trim_encode(&p, master->bi_iter.bi_sector,
				 bio_sectors(master), tf);
		rblk_send_prepare(s, RBLK_SEND_LEG, conn->version, RBLK_P_TRIM, id,
				  &p, sizeof(p), sizeof(p));
		break;
	}
	}
	rblk_send_queue(conn, s);
	spin_unlock_irqrestore(&conn->submit_lock, flags);
	return 1;
}

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

/* Send part of the current packet; >0 progress, 0 nothing to send, -errno. */
static int rblk_try_send(struct rblk_conn *conn)
{
	struct socket *sock = conn->sock;
	struct rblk_send *s = conn->cur_send;
	int ret;

	if (!s) {
		if (list_empty(&conn->send_list)) {
			struct llist_node *n = llist_del_all(&conn->send_llist);
			struct rblk_send *pos, *tmp;

			n = llist_reverse_order(n);
			llist_for_each_entry_safe(pos, tmp, n, node)
				list_add_tail(&pos->entry, &conn->send_list);
		}
		s = list_first_entry_or_null(&conn->send_list, struct rblk_send, entry);
		if (!s)
			return 0;
		list_del(&s->entry);
		conn->cur_send = s;
	}

	if (s->head_sent < s->head_len) {
		struct kvec iov = {
			.iov_base = s->head + s->head_sent,
			.iov_len = s->head_len - s->head_sent,
		};
		struct msghdr msg = { .msg_flags = MSG_DONTWAIT };

		if (s->data_bio || !list_empty(&conn->send_list))
			msg.msg_flags |= MSG_MORE;
		ret = kernel_sendmsg(sock, &msg, &iov, 1, iov.iov_len);
		if (ret <= 0)
			return ret ? ret : -EAGAIN;
		s->head_sent += ret;
		return 1;
	}

	if (s->data_bio && s->data_iter.bi_size) {
		struct bio_vec bv = bio_iter_iovec(s->data_bio, s->data_iter);
		int flags = MSG_DONTWAIT;

		if (bv.bv_len < s->data_iter.bi_size || !list_empty(&conn->send_list))
			flags |= MSG_MORE;
		if (sendpage_ok(bv.bv_page)) {
			ret = rblk_compat_send_page(sock, bv.bv_page, bv.bv_offset,
						    bv.bv_len, flags);
		} else {
			struct msghdr msg = { .msg_flags = flags };
			struct kvec iov;
			void *p = kmap_local_page(bv.bv_page);

			iov.iov_base = p + bv.bv_offset;
			iov.iov_len = bv.bv_len;
			ret = kernel_sendmsg(sock, &msg, &iov, 1, bv.bv_len);
			kunmap_local(p);
		}
		if (ret <= 0)
			return ret ? ret : -EAGAIN;
		bio_advance_iter_single(s->data_bio, &s->data_iter, ret);
		if (s->data_iter.bi_size)
			return 1;
	}

	conn->cur_send = NULL;
	rblk_send_release(conn, s);
	return 1;
}

/* ------------------------------------------------------------------------
 * received writes (we are secondary, the peer is our primary)
 */

/* Give the data pages back to the pool.  Any context. */
static void rblk_pwrite_free_pages(struct rblk_pwrite *pw)
{
	struct bio_vec *bv;
	struct bvec_iter_all iter;

	if (!pw->nr_pages)
		return;
	bio_for_each_segment_all(bv, &pw->bio, iter)
		mempool_free(bv->bv_page, rblk_page_pool);
	pw->nr_pages = 0;
}

static void rblk_pwrite_free(struct rblk_pwrite *pw)
{
	if (pw->has_local_ref)
		percpu_ref_put(&pw->conn->peer->dev->local_ref);
	rblk_pwrite_free_pages(pw);
	bio_put(&pw->bio);
}

/*
 * The received request is done: queue its ACK.  Any context.  After the
 * ACK is queued io_work may free @pw at once, so @conn is read first and
 * pwrites_inflight is dropped last, under the wait queue lock so that
 * teardown cannot free the connection between the decrement and the
 * wake-up.
 */
static void rblk_pwrite_finish(struct rblk_pwrite *pw)
{
	struct rblk_conn *conn = pw->conn;
	struct rblk_peer *peer = conn->peer;
	struct rblk_device *dev = peer->dev;
	unsigned long flags;
	struct rblk_p_ack ack;

	if (pw->has_local_ref) {
		percpu_ref_put(&dev->local_ref);
		pw->has_local_ref = false;
	}
	rblk_pwrite_free_pages(pw);
	if (pw->status) {
		atomic64_inc(&peer->errors);
	} else if (pw->command == RBLK_P_DATA) {
		atomic64_inc(&peer->received_writes);
		atomic64_add(pw->data.data_bytes, &peer->received_bytes);
	}
	rblk_ack_encode(&ack, pw->status);
	rblk_send_prepare(&pw->ack, RBLK_SEND_ACK, conn->version, RBLK_P_ACK,
			  pw->request_id, &ack, sizeof(ack), sizeof(ack));
	rblk_send_queue(conn, &pw->ack);

	spin_lock_irqsave(&conn->pwrites_wait.lock, flags);
	atomic_sub(pw->command == RBLK_P_DATA ? pw->data.data_bytes : 0,
		   &conn->pwrite_bytes_inflight);
	if (atomic_dec_and_test(&conn->pwrites_inflight))
		wake_up_locked(&conn->pwrites_wait);
	spin_unlock_irqrestore(&conn->pwrites_wait.lock, flags);
}

static void rblk_pwrite_endio(struct bio *bio)
{
	struct rblk_pwrite *pw = container_of(bio, struct rblk_pwrite, bio);

	pw->status = blk_status_to_errno(bio->bi_status);
	if (rblk_is_write_error(REQ_OP_WRITE, bio->bi_status))
		rblk_local_io_error(pw->conn->peer->dev);
	rblk_pwrite_finish(pw);
}

/* FLUSH and TRIM: blocking block-layer helpers on rblk_wq. */
static void rblk_pwrite_work(struct work_struct *work)
{
	struct rblk_pwrite *pw = container_of(work, struct rblk_pwrite, work);
	struct block_device *bdev = pw->conn->peer->dev->backing.bdev;
	int ret;

	if (pw->command == RBLK_P_FLUSH) {
		ret = blkdev_issue_flush(bdev);
	} else if (pw->trim.trim_flags & RBLK_TRIM_ZEROES) {
		ret = blkdev_issue_zeroout(bdev, pw->trim.sector, pw->trim.nr_sectors,
					   GFP_NOIO,
					   (pw->trim.trim_flags & RBLK_TRIM_NOUNMAP) ?
					   BLKDEV_ZERO_NOUNMAP : 0);
	} else {
		ret = blkdev_issue_discard(bdev, pw->trim.sector, pw->trim.nr_sectors,
					   GFP_NOIO);
		/* discard is advisory: a disk without it has nothing to do */
		if (ret == -EOPNOTSUPP)
			ret = 0;
	}
	pw->status = ret;
	/* a failed flush or write-zeroes is a write error, a failed discard not */
	if (ret && ret != -EOPNOTSUPP &&
	    (pw->command == RBLK_P_FLUSH || (pw->trim.trim_flags & RBLK_TRIM_ZEROES)))
		rblk_local_io_error(pw->conn->peer->dev);
	rblk_pwrite_finish(pw);
}

static struct rblk_pwrite *rblk_pwrite_alloc(struct rblk_conn *conn, u8 command,
					     unsigned int nr_pages)
{
	struct rblk_pwrite *pw;
	struct bio *bio;

	bio = bio_alloc_bioset(NULL, nr_pages, REQ_OP_WRITE, RBLK_IO_GFP,
			       &rblk_pwrite_bio_set);
	if (!bio)
		return NULL;
	pw = container_of(bio, struct rblk_pwrite, bio);
	pw->conn = conn;
	pw->request_id = conn->rx_info.request_id;
	pw->command = command;
	pw->nr_pages = 0;
	pw->has_local_ref = false;
	pw->status = 0;
	INIT_WORK(&pw->work, rblk_pwrite_work);
	return pw;
}

/* Start a received request on the backing device (or fail it at once). */
static void rblk_pwrite_start(struct rblk_conn *conn, struct rblk_pwrite *pw)
{
	struct rblk_device *dev = conn->peer->dev;

	atomic_inc(&conn->pwrites_inflight);
	if (pw->command == RBLK_P_DATA)
		atomic_add(pw->data.data_bytes, &conn->pwrite_bytes_inflight);
	if (!percpu_ref_tryget_live(&dev->local_ref)) {
		pw->status = -ENOMEDIUM;
		rblk_pwrite_finish(pw);
		return;
	}
	pw->has_local_ref = true;
	if (pw->command != RBLK_P_DATA) {
		queue_work(rblk_wq, &pw->work);
		return;
	}
	bio_set_dev(&pw->bio, dev->backing.bdev);
	pw->bio.bi_iter.bi_sector = pw->data.sector;
	pw->bio.bi_opf |= rblk_opf_from_dp_flags(pw->data.dp_flags);
	pw->bio.bi_end_io = rblk_pwrite_endio;
	submit_bio(&pw->bio);
}

/* ------------------------------------------------------------------------
 * receive side
 */

/* Receive into @buf up to @len bytes, continuing at conn->rx_off. */
static int rblk_recv_part(struct rblk_conn *conn, void *buf, u32 len)
{
	struct kvec iov = { .iov_base = buf + conn->rx_off, .iov_len = len - conn->rx_off };
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	int ret;

	ret = kernel_recvmsg(conn->sock, &msg, &iov, 1, iov.iov_len, msg.msg_flags);
	if (ret == 0)
		return -ECONNRESET;
	if (ret < 0)
		return ret;
	conn->rx_off += ret;
	return ret;
}

/*
 * Is the peer allowed to send us writes?  We must be secondary, and it the
 * one peer we accept as primary: the one we granted a ROLE_REQ (or that
 * was primary in its HELLO), and that announced itself primary since.
 */
static bool rblk_may_receive_writes(struct rblk_conn *conn)
{
	struct rblk_peer *peer = conn->peer;
	struct rblk_device *dev = peer->dev;
	enum rblk_role sender_role;
	bool ok;

	spin_lock_bh(&peer->lock);
	sender_role = peer->peer_role;
	spin_unlock_bh(&peer->lock);
	spin_lock(&dev->state_lock);
	ok = rblk_peer_may_write(dev->role, dev->primary_peer, peer->cfg.node_id, sender_role);
	spin_unlock(&dev->state_lock);
	return ok;
}

/*
 * A peer announced @role in RBLK_P_STATE.  Primary is accepted only from
 * the peer we accept writes from (granted or primary in its HELLO); a
 * peer that announces secondary is no longer our primary.  0 or -EPROTO.
 */
static int rblk_peer_announced_role(struct rblk_peer *peer, enum rblk_role role)
{
	struct rblk_device *dev = peer->dev;
	int ret = 0;

	spin_lock(&dev->state_lock);
	if (role == RBLK_ROLE_PRIMARY && dev->primary_peer != peer->cfg.node_id)
		ret = -EPROTO;
	else if (role != RBLK_ROLE_PRIMARY && dev->primary_peer == peer->cfg.node_id)
		dev->primary_peer = RBLK_NO_PEER;
	spin_unlock(&dev->state_lock);
	return ret;
}

/*
 * RBLK_P_OUTDATE: the peer recorded that we missed writes of its.  A
 * secondary's UpToDate disk becomes Outdated.  A primary keeps its state:
 * its data is what the VM sees (two histories: split brain, which the
 * generation identifiers will detect); it logs the claim once a minute.
 */
static void rblk_outdated_by_peer(struct rblk_peer *peer)
{
	struct rblk_device *dev = peer->dev;

	if (READ_ONCE(dev->role) == RBLK_ROLE_PRIMARY) {
		pr_warn_ratelimited("%s: peer %u: says we missed its writes, but we are primary\n",
				    rblk_peer_dev_name(peer), peer->cfg.node_id);
		return;
	}
	if (rblk_change_disk_state(dev, RBLK_DISK_UP_TO_DATE, RBLK_DISK_OUTDATED))
		pr_info("%s: peer %u: we missed writes of that peer: our disk is outdated\n",
			rblk_peer_dev_name(peer), peer->cfg.node_id);
}

static int rblk_handle_role_req(struct rblk_conn *conn)
{
	struct rblk_peer *peer = conn->peer;
	struct rblk_device *dev = peer->dev;
	enum rblk_disk_state disk;
	enum rblk_role role;
	struct rblk_role_req_view view;
	struct rblk_p_ack reply;
	const char *why;
	int status, ret;

	ret = rblk_state_decode(&conn->rx_payload.state, &role, &disk);
	if (ret || role != RBLK_ROLE_PRIMARY)
		return -EINVAL;
	/* one primary per node: see rblk_peer_role_req_check() */
	spin_lock(&dev->state_lock);
	view.local_role = dev->role;
	view.promoting = dev->promoting;
	view.primary_peer = dev->primary_peer;
	view.requester = peer->cfg.node_id;
	view.requester_missed_writes = test_bit(peer->cfg.node_id, &dev->peers_missed_writes);
	status = rblk_peer_role_req_check(&view, &why);
	if (!status)
		dev->primary_peer = peer->cfg.node_id;
	spin_unlock(&dev->state_lock);
	if (status == -EPROTO) {
		rblk_conn_fail(conn, status, "%s", why);
		return status;
	}
	if (status)
		pr_info_ratelimited("%s: peer %u: promotion refused: %s\n",
				    rblk_peer_dev_name(peer), peer->cfg.node_id, why);
	rblk_ack_encode(&reply, status);
	ret = rblk_conn_queue_ctl(conn, RBLK_P_ROLE_REPLY, conn->rx_info.request_id,
				  &reply, sizeof(reply), RBLK_IO_GFP);
	if (ret && !status) {
		/* the packet is handled again when memory is back: undo the grant */
		spin_lock(&dev->state_lock);
		if (dev->primary_peer == peer->cfg.node_id)
			dev->primary_peer = RBLK_NO_PEER;
		spin_unlock(&dev->state_lock);
	}
	return ret;
}

/* A complete packet without data is in rx_hdr/rx_payload.  0 or -errno. */
static int rblk_handle_packet(struct rblk_conn *conn)
{
	struct rblk_peer *peer = conn->peer;
	struct rblk_device *dev = peer->dev;
	struct rblk_hdr_info *info = &conn->rx_info;
	struct rblk_pwrite *pw;
	struct rblk_leg *leg;
	enum rblk_disk_state disk;
	enum rblk_role role;
	int status, ret;

	switch (info->command) {
	case RBLK_P_FLUSH:
	case RBLK_P_TRIM:
		if (!rblk_may_receive_writes(conn)) {
			rblk_conn_fail(conn, -EPROTO, "%s from a peer that is not our primary",
				       rblk_packet_cmd_name(info->command));
			return -EPROTO;
		}
		pw = rblk_pwrite_alloc(conn, info->command, 0);
		if (!pw)
			return -ENOMEM;
		if (info->command == RBLK_P_TRIM) {
			ret = rblk_trim_decode(&conn->rx_payload.trim,
					       READ_ONCE(dev->size_sectors),
					       READ_ONCE(dev->logical_block_size_bytes), &pw->trim);
			if (ret) {
				bio_put(&pw->bio);
				rblk_conn_fail(conn, ret,
					       "bad TRIM (outside the device or misaligned)");
				return ret;
			}
		}
		rblk_pwrite_start(conn, pw);
		return 0;
	case RBLK_P_ACK:
		ret = rblk_ack_decode(&conn->rx_payload.ack, &status);
		if (ret) {
			rblk_conn_fail(conn, ret, "bad ACK");
			return ret;
		}
		/*
		 * Only a request that is completely on the socket can be
		 * answered: until then the send path still uses the leg (and
		 * the bio whose data it sends).  io_work does both, so the
		 * check and the take cannot race with the send.
		 */
		leg = rblk_reqid_lookup(&conn->reqids, info->request_id);
		if (!leg) {
			rblk_conn_fail(conn, -EPROTO, "ACK for unknown request %llu",
				       info->request_id);
			return -EPROTO;
		}
		if (!READ_ONCE(leg->send.sent) ||
		    rblk_reqid_take(&conn->reqids, info->request_id) != leg) {
			rblk_conn_fail(conn, -EPROTO, "ACK for request %llu not sent yet",
				       info->request_id);
			return -EPROTO;
		}
		rblk_conn_leg_slot_put(conn);
		rblk_leg_complete(leg, status);
		return 0;
	case RBLK_P_PING:
		return rblk_conn_queue_ctl(conn, RBLK_P_PING_ACK, info->request_id,
					   NULL, 0, RBLK_IO_GFP);
	case RBLK_P_PING_ACK:
		/* the one outstanding ping, and only once it was sent */
		if (!info->request_id || info->request_id != READ_ONCE(conn->ping_id) ||
		    info->request_id != READ_ONCE(conn->ping_sent_id)) {
			rblk_conn_fail(conn, -EPROTO, "unexpected PING_ACK %llu",
				       info->request_id);
			return -EPROTO;
		}
		atomic64_set(&peer->rtt_us,
			     div_u64(ktime_get_ns() - READ_ONCE(conn->ping_sent_ns),
				     NSEC_PER_USEC));
		WRITE_ONCE(conn->ping_id, 0);
		return 0;
	case RBLK_P_STATE:
		ret = rblk_state_decode(&conn->rx_payload.state, &role, &disk);
		if (ret) {
			rblk_conn_fail(conn, ret, "bad STATE");
			return ret;
		}
		if (role == RBLK_ROLE_PRIMARY && READ_ONCE(dev->role) == RBLK_ROLE_PRIMARY) {
			rblk_conn_fail(conn, -EPROTO, "peer announced primary while we are");
			return -EPROTO;
		}
		ret = rblk_peer_announced_role(peer, role);
		if (ret) {
			rblk_conn_fail(conn, ret, "peer announced primary without a grant");
			return ret;
		}
		rblk_peer_set_role(peer, role);
		rblk_peer_set_claimed_disk(peer, disk);
		return 0;
	case RBLK_P_ROLE_REQ:
		ret = rblk_handle_role_req(conn);
		if (ret == -EINVAL)
			rblk_conn_fail(conn, ret, "bad ROLE_REQ");
		return ret;
	case RBLK_P_ROLE_REPLY:
		ret = rblk_ack_decode(&conn->rx_payload.ack, &status);
		if (ret) {
			rblk_conn_fail(conn, ret, "bad ROLE_REPLY");
			return ret;
		}
		/*
		 * One answer to the last ROLE_REQ sent on this connection; an
		 * older id is the late answer to a promotion that gave up.
		 */
		if (!info->request_id || info->request_id > conn->role_req_sent_id ||
		    info->request_id == conn->role_req_answered_id) {
			rblk_conn_fail(conn, -EPROTO, "unexpected ROLE_REPLY %llu",
				       info->request_id);
			return -EPROTO;
		}
		if (info->request_id < conn->role_req_sent_id)
			return 0;
		conn->role_req_answered_id = info->request_id;
		/* an answer after the promotion gave up waiting is dropped */
		spin_lock_bh(&peer->lock);
		if (peer->role_req_id && peer->role_req_id == info->request_id) {
			peer->role_reply_status = status;
			peer->role_reply_done = true;
		}
		spin_unlock_bh(&peer->lock);
		wake_up_all(&dev->role_wait);
		return 0;
	case RBLK_P_OUTDATE:
		rblk_outdated_by_peer(peer);
		return 0;
	case RBLK_P_HELLO_REJECT: {
		char message[sizeof(conn->rx_payload.reject.message)];
		u32 reason;

		if (rblk_reject_decode(&conn->rx_payload.reject, &reason, message))
			strscpy(message, "malformed refusal", sizeof(message));
		/* refused after our side installed it: back off, do not storm */
		WRITE_ONCE(peer->refused, true);
		rblk_conn_fail(conn, -ECONNREFUSED, "refused by peer: %s", message);
		return -ECONNREFUSED;
	}
	default:
		rblk_conn_fail(conn, -EPROTO, "unexpected %s",
			       rblk_packet_cmd_name(info->command));
		return -EPROTO;
	}
}

/* The fixed part of a DATA packet is in: set up the receive buffer. */
static int rblk_start_data(struct rblk_conn *conn)
{
	struct rblk_device *dev = conn->peer->dev;
	struct rblk_data_info di;
	struct rblk_pwrite *pw;
	unsigned int i, nr_pages;
	u32 left;
	int ret;

	ret = rblk_data_decode(&conn->rx_payload.data, conn->rx_info.payload_len_bytes,
			       READ_ONCE(dev->size_sectors),
			       READ_ONCE(dev->logical_block_size_bytes), &di);
	if (ret) {
		rblk_conn_fail(conn, ret, "bad DATA (outside the device or misaligned)");
		return ret;
	}
	if (!rblk_may_receive_writes(conn)) {
		rblk_conn_fail(conn, -EPROTO, "DATA from a peer that is not our primary");
		return -EPROTO;
	}
	nr_pages = DIV_ROUND_UP(di.data_bytes, PAGE_SIZE);
	pw = rblk_pwrite_alloc(conn, RBLK_P_DATA, nr_pages);
	if (!pw)
		return -ENOMEM;
	pw->data = di;
	left = di.data_bytes;
	for (i = 0; i < nr_pages; i++) {
		struct page *page = mempool_alloc(rblk_page_pool, RBLK_IO_GFP);
		u32 len = min_t(u32, left, PAGE_SIZE);

		if (!page) {
			rblk_pwrite_free(pw);
			return -ENOMEM;
		}
		__bio_add_page(&pw->bio, page, len, 0);
		pw->nr_pages++;
		left -= len;
	}
	conn->rx_pwrite = pw;
	return 0;
}

/* Receive into the pages of rx_pwrite.  >0 bytes, -errno. */
static int rblk_recv_data(struct rblk_conn *conn)
{
	struct rblk_pwrite *pw = conn->rx_pwrite;
	u32 off = conn->rx_off;
	struct bio_vec *bv = &pw->bio.bi_io_vec[off >> PAGE_SHIFT];
	u32 in_page = off & (PAGE_SIZE - 1);
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	struct kvec iov;
	int ret;

	iov.iov_base = page_address(bv->bv_page) + in_page;
	iov.iov_len = bv->bv_len - in_page;
	ret = kernel_recvmsg(conn->sock, &msg, &iov, 1, iov.iov_len, msg.msg_flags);
	if (ret == 0)
		return -ECONNRESET;
	if (ret < 0)
		return ret;
	conn->rx_off += ret;
	return ret;
}

static u32 rblk_fixed_payload_bytes(const struct rblk_hdr_info *info)
{
	if (info->command == RBLK_P_DATA)
		return sizeof(struct rblk_p_data);
	return info->payload_len_bytes;
}

/* Act on a complete packet (RBLK_RX_DISPATCH). */
static int rblk_dispatch(struct rblk_conn *conn)
{
	int ret;

	if (conn->rx_info.command == RBLK_P_DATA) {
		ret = rblk_start_data(conn);
		if (!ret)
			conn->rx_state = RBLK_RX_DATA;
		return ret;
	}
	ret = rblk_handle_packet(conn);
	if (ret != -ENOMEM)
		conn->rx_state = RBLK_RX_HDR;
	return ret;
}

/*
 * One step of the receive state machine: >0 progress, -EAGAIN nothing to
 * do until the socket or a completion wakes io_work, other -errno: the
 * connection has failed.
 */
static int rblk_try_recv(struct rblk_conn *conn)
{
	struct rblk_hdr_info *info = &conn->rx_info;
	int ret;

	switch (conn->rx_state) {
	case RBLK_RX_HDR:
		/*
		 * Enough received work is pending: leave the rest in the
		 * socket (its completions queue io_work again).
		 */
		if (!conn->rx_off &&
		    (atomic_read(&conn->pwrites_inflight) >= RBLK_MAX_PWRITES_PER_CONN ||
		     atomic_read(&conn->pwrite_bytes_inflight) >=
		     RBLK_MAX_PWRITE_BYTES_PER_CONN)) {
			WRITE_ONCE(conn->rx_throttled, true);
			return -EAGAIN;
		}
		WRITE_ONCE(conn->rx_throttled, false);
		ret = rblk_recv_part(conn, &conn->rx_hdr, sizeof(conn->rx_hdr));
		if (ret < 0)
			return ret;
		if (conn->rx_off < sizeof(conn->rx_hdr))
			return 1;
		conn->rx_off = 0;
		ret = rblk_hdr_decode(&conn->rx_hdr, conn->version, info);
		if (ret) {
			rblk_conn_fail(conn, ret, "bad packet header");
			return ret;
		}
		if (info->command == RBLK_P_HELLO ||
		    rblk_fixed_payload_bytes(info) > sizeof(conn->rx_payload)) {
			rblk_conn_fail(conn, -EPROTO, "unexpected %s",
				       rblk_packet_cmd_name(info->command));
			return -EPROTO;
		}
		WRITE_ONCE(conn->last_rx_jiffies, jiffies);
		conn->rx_state = info->payload_len_bytes ? RBLK_RX_PAYLOAD : RBLK_RX_DISPATCH;
		return 1;
	case RBLK_RX_PAYLOAD:
		ret = rblk_recv_part(conn, &conn->rx_payload, rblk_fixed_payload_bytes(info));
		if (ret < 0)
			return ret;
		if (conn->rx_off < rblk_fixed_payload_bytes(info))
			return 1;
		conn->rx_off = 0;
		WRITE_ONCE(conn->last_rx_jiffies, jiffies);
		conn->rx_state = RBLK_RX_DISPATCH;
		return 1;
	case RBLK_RX_DISPATCH:
		ret = rblk_dispatch(conn);
		if (ret == -ENOMEM)
			return -EAGAIN;
		return ret < 0 ? ret : 1;
	case RBLK_RX_DATA:
		ret = rblk_recv_data(conn);
		if (ret < 0)
			return ret;
		WRITE_ONCE(conn->last_rx_jiffies, jiffies);
		if (conn->rx_off < conn->rx_pwrite->data.data_bytes)
			return 1;
		conn->rx_off = 0;
		conn->rx_state = RBLK_RX_HDR;
		rblk_pwrite_start(conn, conn->rx_pwrite);
		conn->rx_pwrite = NULL;
		return 1;
	}
	return -EINVAL;
}

static void rblk_io_work(struct work_struct *work)
{
	struct rblk_conn *conn = container_of(work, struct rblk_conn, io_work);
	unsigned long deadline = jiffies + msecs_to_jiffies(1);
	bool pending;
	int ret;

	do {
		if (READ_ONCE(conn->dead) || atomic_read(&conn->failed))
			return;
		pending = false;

		ret = rblk_try_send(conn);
		if (ret > 0)
			pending = true;
		else if (ret < 0 && ret != -EAGAIN)
			goto fail;

		ret = rblk_try_recv(conn);
		if (ret > 0)
			pending = true;
		else if (ret < 0 && ret != -EAGAIN)
			goto fail;
	} while (pending && !time_after(jiffies, deadline));

	if (pending)
		queue_work(rblk_io_wq, &conn->io_work);
	return;
fail:
	if (ret == -ECONNRESET || ret == -EPIPE)
		rblk_conn_fail(conn, ret, "connection closed by peer");
	else
		rblk_conn_fail(conn, ret, "socket error");
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
 * socket callbacks (softirq or process context)
 */

static void rblk_sk_data_ready(struct sock *sk)
{
	struct rblk_conn *conn;

	read_lock_bh(&sk->sk_callback_lock);
	conn = sk->sk_user_data;
	if (conn && !READ_ONCE(conn->dead))
		queue_work(rblk_io_wq, &conn->io_work);
	read_unlock_bh(&sk->sk_callback_lock);
}

static void rblk_sk_write_space(struct sock *sk)
{
	struct rblk_conn *conn;

	read_lock_bh(&sk->sk_callback_lock);
	conn = sk->sk_user_data;
	if (conn && sk_stream_is_writeable(sk)) {
		clear_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		queue_work(rblk_io_wq, &conn->io_work);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

static void rblk_sk_state_change(struct sock *sk)
{
	void (*state_change)(struct sock *sk) = NULL;
	struct rblk_conn *conn;

	read_lock_bh(&sk->sk_callback_lock);
	conn = sk->sk_user_data;
	if (conn) {
		state_change = conn->saved_state_change;
		switch (sk->sk_state) {
		case TCP_CLOSE:
		case TCP_CLOSE_WAIT:
		case TCP_LAST_ACK:
		case TCP_FIN_WAIT1:
		case TCP_FIN_WAIT2:
			rblk_conn_fail(conn, -ECONNRESET, "connection closed by peer");
			break;
		default:
			break;
		}
	}
	read_unlock_bh(&sk->sk_callback_lock);
	if (state_change)
		state_change(sk);
}

static void rblk_listen_data_ready(struct sock *sk)
{
	struct rblk_peer *peer;

	read_lock_bh(&sk->sk_callback_lock);
	peer = sk->sk_user_data;
	if (peer)
		mod_delayed_work(rblk_wq, &peer->conn_work, 0);
	read_unlock_bh(&sk->sk_callback_lock);
}

/* ------------------------------------------------------------------------
 * connection setup and teardown (conn_work only)
 */

static int rblk_sockaddr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					   sizeof(struct sockaddr_in);
}

static int rblk_sock_create(struct rblk_peer *peer, struct socket **sockp)
{
	struct socket *sock;
	int ret;

	ret = sock_create_kern(&init_net, peer->cfg.local_addr.ss_family, SOCK_STREAM,
			       IPPROTO_TCP, &sock);
	if (ret)
		return ret;
	rblk_compat_sock_noio(sock->sk);
	sock->sk->sk_sndtimeo = msecs_to_jiffies(peer->cfg.connect_timeout_ms);
	sock->sk->sk_rcvtimeo = msecs_to_jiffies(peer->cfg.connect_timeout_ms);
	*sockp = sock;
	return 0;
}

static void rblk_listen_close(struct rblk_peer *peer)
{
	struct socket *sock = peer->listen_sock;
	struct sock *sk;

	if (!sock)
		return;
	sk = sock->sk;
	/* the callback stays but finds no peer; the socket goes right away */
	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_user_data = NULL;
	write_unlock_bh(&sk->sk_callback_lock);
	sock_release(sock);
	peer->listen_sock = NULL;
}

static int rblk_listen_open(struct rblk_peer *peer)
{
	struct socket *sock;
	struct sock *sk;
	int ret;

	if (peer->listen_sock)
		return 0;
	ret = rblk_sock_create(peer, &sock);
	if (ret)
		return ret;
	sk = sock->sk;
	sock_set_reuseaddr(sk);
	ret = kernel_bind(sock, (struct sockaddr *)&peer->cfg.local_addr,
			  rblk_sockaddr_len(&peer->cfg.local_addr));
	if (!ret)
		ret = kernel_listen(sock, 4);
	if (ret) {
		sock_release(sock);
		return ret;
	}
	write_lock_bh(&sk->sk_callback_lock);
	peer->listen_saved_data_ready = sk->sk_data_ready;
	sk->sk_user_data = peer;
	sk->sk_data_ready = rblk_listen_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);
	peer->listen_sock = sock;
	return 0;
}

static bool rblk_same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return ipv6_addr_equal(&((const struct sockaddr_in6 *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)b)->sin6_addr);
}

/* Higher node id: take one pending connection from the configured peer. */
static int rblk_accept(struct rblk_peer *peer, struct socket **sockp)
{
	struct sockaddr_storage from;
	struct socket *sock;
	int ret;

	ret = rblk_listen_open(peer);
	if (ret)
		return ret;
	for (;;) {
		ret = kernel_accept(peer->listen_sock, &sock, O_NONBLOCK);
		if (ret)
			return ret;	/* -EAGAIN: nothing pending */
		memset(&from, 0, sizeof(from));
		ret = kernel_getpeername(sock, (struct sockaddr *)&from);
		if (ret >= 0 && rblk_same_ip(&from, &peer->cfg.peer_addr))
			break;
		pr_warn_ratelimited("%s: peer %u: refused connection from an unexpected address\n",
				    rblk_peer_dev_name(peer), peer->cfg.node_id);
		write_lock_bh(&sock->sk->sk_callback_lock);
		sock->sk->sk_user_data = NULL;
		write_unlock_bh(&sock->sk->sk_callback_lock);
		sock_release(sock);
	}
	/* an accepted socket inherits the listener's callback and user data */
	write_lock_bh(&sock->sk->sk_callback_lock);
	sock->sk->sk_user_data = NULL;
	sock->sk->sk_data_ready = peer->listen_saved_data_ready;
	write_unlock_bh(&sock->sk->sk_callback_lock);
	rblk_compat_sock_noio(sock->sk);
	sock->sk->sk_sndtimeo = msecs_to_jiffies(peer->cfg.connect_timeout_ms);
	sock->sk->sk_rcvtimeo = msecs_to_jiffies(peer->cfg.connect_timeout_ms);
	*sockp = sock;
	return 0;
}

/* Lower node id: connect from our local IP to the peer's address:port. */
static int rblk_connect(struct rblk_peer *peer, struct socket **sockp)
{
	struct sockaddr_storage local = peer->cfg.local_addr;
	struct socket *sock;
	int ret;

	ret = rblk_sock_create(peer, &sock);
	if (ret)
		return ret;
	if (local.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&local)->sin6_port = 0;
	else
		((struct sockaddr_in *)&local)->sin_port = 0;
	ret = kernel_bind(sock, (struct sockaddr *)&local, rblk_sockaddr_len(&local));
	if (!ret)
		ret = kernel_connect(sock, (struct sockaddr *)&peer->cfg.peer_addr,
				     rblk_sockaddr_len(&peer->cfg.peer_addr), 0);
	if (ret == -EINPROGRESS || ret == -EALREADY)
		ret = -ETIMEDOUT;
	if (ret) {
		sock_release(sock);
		return ret;
	}
	*sockp = sock;
	return 0;
}

static int rblk_send_all(struct socket *sock, void *buf, size_t len)
{
	struct kvec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { };
	int ret;

	ret = kernel_sendmsg(sock, &msg, &iov, 1, len);
	if (ret < 0)
		return ret;
	return ret == len ? 0 : -EIO;
}

static int rblk_recv_all(struct socket *sock, void *buf, size_t len)
{
	struct kvec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { };
	int ret;

	ret = kernel_recvmsg(sock, &msg, &iov, 1, len, MSG_WAITALL);
	if (ret < 0)
		return ret == -EAGAIN ? -ETIMEDOUT : ret;
	return ret == len ? 0 : -ECONNRESET;
}

/* Log a handshake refusal once per reason until the next success. */
static void rblk_log_refusal(struct rblk_peer *peer, u32 reason, bool by_peer,
			     const char *message)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "%s: %s", by_peer ? "refused by peer" : "refused",
		 message);
	rblk_peer_set_error(peer, msg);
	if (peer->last_reject_reason == reason)
		return;
	peer->last_reject_reason = reason;
	pr_warn("%s: peer %u: handshake %s\n", rblk_peer_dev_name(peer),
		peer->cfg.node_id, msg);
}

struct rblk_hello_pkt {
	struct rblk_hdr hdr;
	struct rblk_p_hello hello;
};

struct rblk_reject_pkt {
	struct rblk_hdr hdr;
	struct rblk_p_reject reject;
};

static void rblk_send_reject(struct socket *sock, u32 reason, const char *message)
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
			  struct rblk_hello_params *remote, struct rblk_hello_result *res)
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
	struct rblk_hdr_info info;
	int ret;

	pkt = kzalloc(sizeof(*pkt) + sizeof(struct rblk_p_reject), GFP_KERNEL);
	if (!pkt)
		return -ENOMEM;
	strscpy(local.cluster_name, dev->cluster_name, sizeof(local.cluster_name));
	strscpy(local.resource_name, dev->resource_name, sizeof(local.resource_name));
	spin_lock(&dev->state_lock);
	local.size_sectors = dev->size_sectors;
	local.logical_block_size_bytes = dev->logical_block_size_bytes;
	local.role = dev->role;
	local.disk_state = rblk_wire_disk_state(dev->disk_state);
	*gen = dev->state_gen;
	spin_unlock(&dev->state_lock);

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
	ret = rblk_hello_negotiate(&local, remote, res);
	if (ret) {
		rblk_send_reject(sock, res->reason, res->message);
		rblk_log_refusal(peer, res->reason, false, res->message);
	}
out:
	kfree(pkt);
	return ret;
}

/* Publish a connection after a successful handshake. */
static int rblk_conn_install(struct rblk_peer *peer, struct socket *sock, u64 gen,
			     const struct rblk_hello_params *remote,
			     const struct rblk_hello_result *res)
{
	struct rblk_device *dev = peer->dev;
	struct rblk_conn *conn;
	struct sock *sk = sock->sk;
	bool ok, other_primary, missed;

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
	init_waitqueue_head(&conn->pwrites_wait);
	init_waitqueue_head(&conn->submit_wait);
	conn->rx_state = RBLK_RX_HDR;
	conn->last_rx_jiffies = jiffies;

	tcp_sock_set_nodelay(sk);
	sock_no_linger(sk);
	sk->sk_sndtimeo = MAX_SCHEDULE_TIMEOUT;
	sk->sk_rcvtimeo = MAX_SCHEDULE_TIMEOUT;

	spin_lock_bh(&peer->lock);
	peer->peer_role = remote->role;
	peer->peer_disk_state = RBLK_DISK_UNKNOWN;
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
	spin_lock_irq(&peer->lock);
	missed = test_bit(peer->cfg.node_id, &dev->peers_missed_writes);
	peer->peer_disk_state = rblk_peer_disk_claimed(missed, remote->disk_state);
	spin_unlock_irq(&peer->lock);
	if (missed && (conn->features & RBLK_FEAT_OUTDATE) &&
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
	bool want;
	u64 id;

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
	 * wait for our disk to complete the peer's writes: say so, and a
	 * secondary that lost its primary is Outdated from now on.
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
	kfree(conn);

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
	if (our_role == RBLK_ROLE_PRIMARY)
		set_bit(peer->cfg.node_id, &dev->peers_missed_writes);
	rblk_peer_set_disk(peer, rblk_peer_disk_after_disconnect(our_role, old_peer_disk));
	new_disk = rblk_local_disk_after_disconnect(our_role, old_peer_role, disk);
	if (new_disk != disk)
		rblk_change_disk_state(dev, disk, new_disk);
	pr_info("%s: peer %u: disconnected\n", rblk_peer_dev_name(peer), peer->cfg.node_id);
}

/* One connection attempt.  0 connected, -EAGAIN nothing to accept, -errno. */
static int rblk_conn_establish(struct rblk_peer *peer)
{
	struct rblk_hello_params *remote;
	struct rblk_hello_result res;
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
	if (!remote) {
		sock_release(sock);
		return -ENOMEM;
	}
	ret = rblk_handshake(peer, sock, &gen, remote, &res);
	if (!ret)
		ret = rblk_conn_install(peer, sock, gen, remote, &res);
	kfree(remote);
	if (ret) {
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
	peer->backoff_ms = peer->cfg.reconnect_min_ms;
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
	rblk_peer_set_conn_state(peer, RBLK_CONN_STANDALONE, NULL);
}

/**
 * rblk_peer_connect() - start (or keep) connecting a peer
 * @peer: peer
 *
 * Context: process context; caller holds the device's mutex.
 */
void rblk_peer_connect(struct rblk_peer *peer)
{
	spin_lock_bh(&peer->lock);
	peer->want_connect = true;
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
	memset(ps, 0, sizeof(*ps));
	ps->node_id = peer->cfg.node_id;
	ps->peer_addr = peer->cfg.peer_addr;
	ps->local_addr = peer->cfg.local_addr;
	spin_lock_bh(&peer->lock);
	ps->conn_state = peer->conn_state;
	ps->peer_role = peer->peer_role;
	ps->peer_disk_state = peer->peer_disk_state;
	strscpy(ps->last_error, peer->last_error, sizeof(ps->last_error));
	spin_unlock_bh(&peer->lock);
	ps->writes = atomic64_read(&peer->writes);
	ps->write_bytes = atomic64_read(&peer->write_bytes);
	ps->flushes = atomic64_read(&peer->flushes);
	ps->discards = atomic64_read(&peer->discards);
	ps->inflight = atomic_read(&peer->inflight);
	ps->acks = atomic64_read(&peer->acks);
	ps->rtt_us = atomic64_read(&peer->rtt_us);
	ps->reconnects = atomic64_read(&peer->reconnects);
	ps->received_writes = atomic64_read(&peer->received_writes);
	ps->received_bytes = atomic64_read(&peer->received_bytes);
	ps->errors = atomic64_read(&peer->errors);
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
