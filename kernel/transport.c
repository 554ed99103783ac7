// SPDX-License-Identifier: GPL-2.0
/*
 * rblk - the socket transport of a connection: the send engine, the
 * receive state machine, io_work, the socket callbacks and socket setup.
 *
 * After the handshake the socket is non-blocking and driven by io_work (in
 * the style of nvme-tcp): the socket callbacks (softirq) queue it; it
 * alternates sending and receiving until neither makes progress or 1 ms
 * has passed.  Producers push packets onto a lock-free llist; io_work
 * sends header, fixed payload and data pages in order, resuming exactly
 * where a short send stopped.  Receiving is a state machine header ->
 * fixed payload -> data pages; a complete packet goes to rblk_dispatch()
 * (receiver.c).  The request legs of the I/O path enter here through
 * rblk_conn_queue_leg(), with backpressure.
 *
 * Contexts: io_work is a work item on rblk_io_wq (process context, never
 * sleeps for memory).  Socket callbacks run in softirq or process context
 * and only queue work or record a failure.
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

/* io_work runs on its own high-priority workqueue. */
struct workqueue_struct *rblk_io_wq;

/* ------------------------------------------------------------------------
 * send side
 */

void rblk_send_queue(struct rblk_conn *conn, struct rblk_send *s)
{
	llist_add(&s->node, &conn->send_llist);
	queue_work(rblk_io_wq, &conn->io_work);
}

void rblk_send_prepare(struct rblk_send *s, enum rblk_send_kind kind,
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
void rblk_send_release(struct rblk_conn *conn, struct rblk_send *s)
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
	case RBLK_SEND_ACK: {
		struct rblk_pwrite *pw = container_of(s, struct rblk_pwrite, ack);

		if (s->command == RBLK_P_READ_REPLY) {
			atomic_sub(pw->reply_bytes, &conn->read_reply_bytes);
			atomic_dec(&conn->read_replies);
		}
		/* a failed write went through rblk_local_io_error() already */
		rblk_pwrite_free(pw);
		break;
	}
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
int rblk_conn_queue_ctl(struct rblk_conn *conn, u8 command, u64 id,
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
void rblk_conn_leg_slot_put(struct rblk_conn *conn)
{
	atomic_dec(&conn->legs);
	if (wq_has_sleeper(&conn->submit_wait))
		wake_up_all(&conn->submit_wait);
}

/*
 * A leg slot and a request id for @leg: 0, or -ENOTCONN, -ENOMEM, -EBUSY.
 * Process context, may sleep.
 */
static int rblk_conn_reserve(struct rblk_conn *conn, struct rblk_leg *leg, u64 *idp)
{
	struct rblk_send *s = &leg->send;
	int ret;
	u64 id;

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

	*idp = id;
	return 0;
}

/*
 * Queue a leg prepared with the id rblk_conn_reserve() gave: 1, or
 * -ENOTCONN when the connection died meanwhile (the id is given back).
 * Teardown takes the ids only after every submitter has left.
 */
static int rblk_conn_submit_leg(struct rblk_conn *conn, struct rblk_send *s, u64 id)
{
	unsigned long flags;

	spin_lock_irqsave(&conn->submit_lock, flags);
	if (conn->dead) {
		spin_unlock_irqrestore(&conn->submit_lock, flags);
		rblk_reqid_take(&conn->reqids, id);
		return -ENOTCONN;
	}
	rblk_send_queue(conn, s);
	spin_unlock_irqrestore(&conn->submit_lock, flags);
	return 1;
}

/**
 * rblk_conn_queue_leg() - register a leg and queue its packet
 * @conn: connection, kept by the caller with rblk_conn_get()
 * @leg: leg with req, peer and command set
 *
 * Waits while RBLK_MAX_LEGS_PER_CONN legs wait for this peer's answers
 * (backpressure: the submitter waits, the request never fails for it), and
 * allocates the request id with GFP_NOIO.  A peer that leaves a request unanswered is
 * disconnected by the request timeout, which ends the wait.
 *
 * Return: 1 when queued (the leg then completes through
 * rblk_leg_complete()); otherwise the caller keeps the leg and gets 0 when
 * the peer needs nothing (a discard it did not negotiate), -ENOTCONN when
 * the connection is dead (its teardown outdates the peer), -EOPNOTSUPP
 * (write zeroes or reads not negotiated), -ENOMEM or -EBUSY (no request id): the
 * peer misses this write.
 *
 * Context: process context, may sleep; no spinlock held.
 */
int rblk_conn_queue_leg(struct rblk_conn *conn, struct rblk_leg *leg)
{
	struct bio *master = leg->req->master;
	struct rblk_send *s = &leg->send;
	int ret;
	u64 id;

	if (bio_op(master) == REQ_OP_DISCARD && !(conn->features & RBLK_FEAT_DISCARD))
		return 0;
	if (bio_op(master) == REQ_OP_WRITE_ZEROES &&
	    !(conn->features & RBLK_FEAT_WRITE_ZEROES))
		return -EOPNOTSUPP;
	if (leg->command == RBLK_P_READ && !(conn->features & RBLK_FEAT_READ))
		return -EOPNOTSUPP;
	ret = rblk_conn_reserve(conn, leg, &id);
	if (ret)
		return ret;

	switch (leg->command) {
	case RBLK_P_DATA: {
		struct rblk_p_data p;
		u32 dp;

		dp = rblk_dp_flags_from_opf(master->bi_opf);
		if (!(conn->features & RBLK_FEAT_REQ_HINTS))
			dp &= RBLK_DP_FUA | RBLK_DP_PREFLUSH;
		/* the pages are stable while the write is in flight */
		rblk_data_encode(&p, master->bi_iter.bi_sector, dp,
				 conn->features & RBLK_FEAT_DATA_DIGEST ?
				 rblk_data_digest(master, master->bi_iter) : 0);
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
	case RBLK_P_READ: {
		struct rblk_p_read p;

		rblk_read_encode(&p, master->bi_iter.bi_sector, bio_sectors(master));
		rblk_send_prepare(s, RBLK_SEND_LEG, conn->version, RBLK_P_READ, id,
				  &p, sizeof(p), sizeof(p));
		break;
	}
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
	rblk_unflushed_sent(conn, leg, id);
	return rblk_conn_submit_leg(conn, s, id);
}

/**
 * rblk_conn_queue_rs() - send resync data to a peer (we are its sync source)
 * @conn: the connection, held (rblk_conn_get())
 * @leg: the resync request's leg (rs and peer set)
 * @bio: bio holding the data read from our disk, @bytes from its start
 * @sector: first 512-byte sector
 * @bytes: data bytes
 *
 * A DATA packet with RBLK_DP_RESYNC, answered by an ACK like every DATA:
 * the leg then completes through rblk_leg_complete().
 *
 * Context: process context, may sleep (leg slot, request id).
 * Return: 1 when queued; -ENOTCONN, -ENOMEM, -EBUSY otherwise (the caller
 * keeps the leg).
 */
int rblk_conn_queue_rs(struct rblk_conn *conn, struct rblk_leg *leg, struct bio *bio,
		       u64 sector, u32 bytes)
{
	struct rblk_send *s = &leg->send;
	struct rblk_p_data p;
	int ret;
	u64 id;

	ret = rblk_conn_reserve(conn, leg, &id);
	if (ret)
		return ret;
	memset(&s->data_iter, 0, sizeof(s->data_iter));
	s->data_iter.bi_sector = sector;
	s->data_iter.bi_size = bytes;
	rblk_data_encode(&p, sector, RBLK_DP_RESYNC,
			 conn->features & RBLK_FEAT_DATA_DIGEST ?
			 rblk_data_digest(bio, s->data_iter) : 0);
	rblk_send_prepare(s, RBLK_SEND_LEG, conn->version, RBLK_P_DATA, id,
			  &p, sizeof(p), sizeof(p) + bytes);
	s->data_bio = bio;
	return rblk_conn_submit_leg(conn, s, id);
}

/*
 * More to send after the current packet: taken over or still queued.  Sent
 * with MSG_MORE, a packet waits in the socket for the next one and both go
 * out in one segment; the last one queued goes out at once (whoever queues
 * after the check schedules io_work, which sends without MSG_MORE at the end).
 */
static bool rblk_send_more(struct rblk_conn *conn)
{
	return !list_empty(&conn->send_list) || !llist_empty(&conn->send_llist);
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

		if (s->data_bio || rblk_send_more(conn))
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

		if (bv.bv_len < s->data_iter.bi_size || rblk_send_more(conn))
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
 * receive side
 */

/* Receive up to @len bytes into @buf without blocking; advance rx_off. */
static int rblk_recv_into(struct rblk_conn *conn, void *buf, size_t len)
{
	struct kvec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	int ret;

	ret = kernel_recvmsg(conn->sock, &msg, &iov, 1, len, msg.msg_flags);
	if (ret == 0)
		return -ECONNRESET;
	if (ret < 0)
		return ret;
	conn->rx_off += ret;
	return ret;
}

/* Receive into @buf up to @len bytes, continuing at conn->rx_off. */
static int rblk_recv_part(struct rblk_conn *conn, void *buf, u32 len)
{
	return rblk_recv_into(conn, buf + conn->rx_off, len - conn->rx_off);
}

/* Receive into the pages of rx_pwrite.  >0 bytes, -errno. */
static int rblk_recv_data(struct rblk_conn *conn)
{
	struct rblk_pwrite *pw = conn->rx_pwrite;
	u32 off = conn->rx_off;
	struct bio_vec *bv = &pw->bio.bi_io_vec[off >> PAGE_SHIFT];
	u32 in_page = off & (PAGE_SIZE - 1);

	return rblk_recv_into(conn, page_address(bv->bv_page) + in_page,
			      bv->bv_len - in_page);
}

/* Receive READ_REPLY data into the read's own bio.  >0 bytes, -errno. */
static int rblk_recv_read_data(struct rblk_conn *conn)
{
	struct bio *bio = conn->rx_read_leg->req->master;
	struct bio_vec bv = bio_iter_iovec(bio, conn->rx_read_iter);
	void *p = kmap_local_page(bv.bv_page);
	int ret;

	ret = rblk_recv_into(conn, p + bv.bv_offset, bv.bv_len);
	kunmap_local(p);
	if (ret > 0)
		bio_advance_iter_single(bio, &conn->rx_read_iter, ret);
	return ret;
}

static u32 rblk_fixed_payload_bytes(const struct rblk_hdr_info *info)
{
	if (info->command == RBLK_P_DATA)
		return sizeof(struct rblk_p_data);
	if (info->command == RBLK_P_READ_REPLY)
		return sizeof(struct rblk_p_read_reply);
	return info->payload_len_bytes;
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
		ret = rblk_data_received(conn);
		return ret < 0 ? ret : 1;
	case RBLK_RX_READ_DATA:
		ret = rblk_recv_read_data(conn);
		if (ret < 0)
			return ret;
		WRITE_ONCE(conn->last_rx_jiffies, jiffies);
		if (conn->rx_read_iter.bi_size)
			return 1;
		conn->rx_off = 0;
		conn->rx_state = RBLK_RX_HDR;
		ret = rblk_read_reply_received(conn);
		return ret < 0 ? ret : 1;
	}
	return -EINVAL;
}

void rblk_io_work(struct work_struct *work)
{
	struct rblk_conn *conn = container_of(work, struct rblk_conn, io_work);
	unsigned long deadline = jiffies + msecs_to_jiffies(1);
	bool pending;
	int ret;

	do {
		if (READ_ONCE(conn->dead) || atomic_read(&conn->failed))
			return;
		pending = false;

		/*
		 * Everything queued before a receive step, which may sleep
		 * (submit_bio): a packet sent with MSG_MORE waits in the
		 * socket for the next one.
		 */
		do {
			ret = rblk_try_send(conn);
			if (ret > 0)
				pending = true;
		} while (ret > 0 && !time_after(jiffies, deadline));
		if (ret < 0 && ret != -EAGAIN)
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

/* ------------------------------------------------------------------------
 * socket callbacks (softirq or process context)
 */

void rblk_sk_data_ready(struct sock *sk)
{
	struct rblk_conn *conn;

	read_lock_bh(&sk->sk_callback_lock);
	conn = sk->sk_user_data;
	if (conn && !READ_ONCE(conn->dead))
		queue_work(rblk_io_wq, &conn->io_work);
	read_unlock_bh(&sk->sk_callback_lock);
}

void rblk_sk_write_space(struct sock *sk)
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

void rblk_sk_state_change(struct sock *sk)
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
 * socket setup (conn_work only)
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

void rblk_listen_close(struct rblk_peer *peer)
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
int rblk_accept(struct rblk_peer *peer, struct socket **sockp)
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
int rblk_connect(struct rblk_peer *peer, struct socket **sockp)
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

int rblk_send_all(struct socket *sock, void *buf, size_t len)
{
	struct kvec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { };
	int ret;

	ret = kernel_sendmsg(sock, &msg, &iov, 1, len);
	if (ret < 0)
		return ret;
	return ret == len ? 0 : -EIO;
}

int rblk_recv_all(struct socket *sock, void *buf, size_t len)
{
	struct kvec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { };
	int ret;

	ret = kernel_recvmsg(sock, &msg, &iov, 1, len, MSG_WAITALL);
	if (ret < 0)
		return ret == -EAGAIN ? -ETIMEDOUT : ret;
	return ret == len ? 0 : -ECONNRESET;
}
