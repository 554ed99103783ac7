// SPDX-License-Identifier: GPL-2.0
/*
 * rblk - received packets: each is checked against the connection's state
 * (who may write, which answers are expected) and acted on: DATA, FLUSH
 * and TRIM run on the backing device and are acknowledged, ACKs complete
 * request legs, ROLE_REQ, STATE and OUTDATE change roles and disk states.
 *
 * Contexts: rblk_dispatch() runs in io_work (process context, no sleeping
 * for memory: RBLK_IO_GFP); received writes complete in (hard) irq
 * context and only queue their ACK; FLUSH and TRIM run in a work item.
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
	/*
	 * A served READ's pages are its own (alloc_page()): the socket may
	 * still hold references to them after the reply was queued.
	 */
	bio_for_each_segment_all(bv, &pw->bio, iter) {
		if (pw->command == RBLK_P_READ)
			put_page(bv->bv_page);
		else
			mempool_free(bv->bv_page, rblk_page_pool);
	}
	pw->nr_pages = 0;
}

void rblk_pwrite_free(struct rblk_pwrite *pw)
{
	if (pw->has_local_ref)
		percpu_ref_put(&pw->conn->peer->dev->local_ref);
	rblk_pwrite_free_pages(pw);
	bio_put(&pw->bio);
}

/**
 * rblk_pwrite_bytes() - bytes of pages a received request holds
 * @pw: a received request
 *
 * What it counts in conn->pwrite_bytes_inflight while in flight.
 *
 * Context: any.
 *
 * Return: the data bytes of a DATA, the page bytes of a READ, 0 for others.
 */
u32 rblk_pwrite_bytes(const struct rblk_pwrite *pw)
{
	if (pw->command == RBLK_P_DATA)
		return pw->data.data_bytes;
	if (pw->command == RBLK_P_READ)
		return pw->nr_pages << PAGE_SHIFT;
	return 0;
}

/*
 * The answer to a served READ: its data (in @pw's pages, freed once sent)
 * or its error (the pages freed at once).  Process context: the digest
 * may cover 1 MiB (the completion of a read with a digest goes through
 * pw->work).
 */
static void rblk_pread_reply(struct rblk_conn *conn, struct rblk_pwrite *pw)
{
	u32 bytes = pw->status ? 0 : pw->trim.nr_sectors << SECTOR_SHIFT;
	struct rblk_send *s = &pw->ack;
	struct rblk_p_read_reply reply;
	u32 digest = 0;

	if (pw->status) {
		/* a failed read of our disk; not "not UpToDate" or "no room now" */
		if (pw->status != -ENODATA && pw->status != -EBUSY && pw->status != -ENOMEM) {
			atomic64_inc(&conn->peer->errors);
			pr_err_ratelimited("%s: peer %u: read error on the backing device at sector %llu (%d), answered\n",
					   rblk_peer_dev_name(conn->peer), conn->peer->cfg.node_id,
					   pw->trim.sector, pw->status);
		}
		rblk_pwrite_free_pages(pw);
		atomic_sub(pw->reply_bytes, &conn->read_reply_bytes);
		pw->reply_bytes = 0;
	} else if (conn->features & RBLK_FEAT_DATA_DIGEST) {
		struct bvec_iter iter = { .bi_size = bytes };

		digest = rblk_data_digest(&pw->bio, iter);
	}
	rblk_read_reply_encode(&reply, pw->status, digest);
	rblk_send_prepare(s, RBLK_SEND_ACK, conn->version, RBLK_P_READ_REPLY,
			  pw->request_id, &reply, sizeof(reply), sizeof(reply) + bytes);
	if (bytes) {
		memset(&s->data_iter, 0, sizeof(s->data_iter));
		s->data_iter.bi_size = bytes;
		s->data_bio = &pw->bio;
		atomic64_inc(&conn->peer->served_reads);
	}
}

/*
 * The received request is done: queue its ACK (a READ: its READ_REPLY).
 * Any context.  After the
 * ACK is queued io_work may free @pw at once, so @conn is read first and
 * pwrites_inflight is dropped last, under the wait queue lock so that
 * teardown cannot free the connection between the decrement and the
 * wake-up.
 */
void rblk_pwrite_finish(struct rblk_pwrite *pw)
{
	struct rblk_conn *conn = pw->conn;
	struct rblk_peer *peer = conn->peer;
	struct rblk_device *dev = peer->dev;
	unsigned long flags;
	struct rblk_p_ack ack;
	u32 bytes;

	if (pw->has_local_ref) {
		percpu_ref_put(&dev->local_ref);
		pw->has_local_ref = false;
	}
	bytes = rblk_pwrite_bytes(pw);
	if (pw->command == RBLK_P_READ) {
		rblk_pread_reply(conn, pw);
	} else {
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
	}
	rblk_send_queue(conn, &pw->ack);

	spin_lock_irqsave(&conn->pwrites_wait.lock, flags);
	atomic_sub(bytes, &conn->pwrite_bytes_inflight);
	if (atomic_dec_and_test(&conn->pwrites_inflight))
		wake_up_locked(&conn->pwrites_wait);
	spin_unlock_irqrestore(&conn->pwrites_wait.lock, flags);
}

static void rblk_pwrite_endio(struct bio *bio)
{
	struct rblk_pwrite *pw = container_of(bio, struct rblk_pwrite, bio);

	pw->status = blk_status_to_errno(bio->bi_status);
	if (rblk_is_write_error(bio_op(bio), bio->bi_status))
		rblk_local_io_error(pw->conn->peer->dev);
	/* a reply's digest is not computed in interrupt context */
	if (pw->command == RBLK_P_READ && !pw->status &&
	    (pw->conn->features & RBLK_FEAT_DATA_DIGEST)) {
		queue_work(rblk_wq, &pw->work);
		return;
	}
	rblk_pwrite_finish(pw);
}

/*
 * FLUSH and TRIM: blocking block-layer helpers on rblk_wq; a READ read
 * with a digest to compute: its reply.
 */
static void rblk_pwrite_work(struct work_struct *work)
{
	struct rblk_pwrite *pw = container_of(work, struct rblk_pwrite, work);
	struct block_device *bdev = pw->conn->peer->dev->backing.bdev;
	int ret;

	if (pw->command == RBLK_P_READ) {
		rblk_pwrite_finish(pw);
		return;
	}

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
	pw->reply_bytes = 0;
	pw->has_local_ref = false;
	pw->status = 0;
	INIT_WORK(&pw->work, rblk_pwrite_work);
	return pw;
}

/* Start a received request on the backing device (or fail it at once). */
void rblk_pwrite_start(struct rblk_conn *conn, struct rblk_pwrite *pw)
{
	struct rblk_device *dev = conn->peer->dev;

	atomic_inc(&conn->pwrites_inflight);
	atomic_add(rblk_pwrite_bytes(pw), &conn->pwrite_bytes_inflight);
	if (!percpu_ref_tryget_live(&dev->local_ref)) {
		pw->status = pw->command == RBLK_P_READ ? -ENODATA : -ENOMEDIUM;
		rblk_pwrite_finish(pw);
		return;
	}
	pw->has_local_ref = true;
	if (pw->command == RBLK_P_READ) {
		/* only what an UpToDate disk holds is worth reading */
		if (!pw->status && (READ_ONCE(dev->disk_state) != RBLK_DISK_UP_TO_DATE ||
				    test_bit(RBLK_LOCAL_IO_FAILED, &dev->local_flags)))
			pw->status = -ENODATA;
		if (pw->status) {
			rblk_pwrite_finish(pw);
			return;
		}
		bio_set_dev(&pw->bio, dev->backing.bdev);
		pw->bio.bi_opf = REQ_OP_READ;
		pw->bio.bi_iter.bi_sector = pw->trim.sector;
		pw->bio.bi_end_io = rblk_pwrite_endio;
		submit_bio(&pw->bio);
		return;
	}
	if (READ_ONCE(dev->has_md) &&
	    (pw->command == RBLK_P_TRIM ||
	     (pw->command == RBLK_P_DATA && !(pw->data.dp_flags & RBLK_DP_RESYNC))))
		rblk_al_note_received(dev, pw->command == RBLK_P_DATA ? pw->data.sector :
				      pw->trim.sector,
				      pw->command == RBLK_P_DATA ? pw->data.nr_sectors :
				      pw->trim.nr_sectors);
	if (pw->command != RBLK_P_DATA) {
		queue_work(rblk_wq, &pw->work);
		return;
	}
	bio_set_dev(&pw->bio, dev->backing.bdev);
	pw->bio.bi_iter.bi_sector = pw->data.sector;
	pw->bio.bi_opf |= rblk_opf_from_dp_flags(pw->data.dp_flags);
	/* resync blocks are durable before their bits are cleared at the source */
	if (pw->data.dp_flags & RBLK_DP_RESYNC)
		pw->bio.bi_opf |= REQ_FUA;
	pw->bio.bi_end_io = rblk_pwrite_endio;
	submit_bio(&pw->bio);
}

/* ------------------------------------------------------------------------
 * packets other than DATA, and the start of DATA
 */

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
 * RBLK_P_OUTDATE: the peer recorded that we missed writes of its, or (a
 * secondary) relays that our primary named us behind.  A secondary's
 * UpToDate disk becomes Outdated.  A primary keeps its state: its data is
 * what the VM sees (two histories: split brain, which the generation
 * identifiers will detect); it logs the claim once a minute.
 *
 * A relayed claim may be older than our last handshake with that primary
 * (it named us behind while we were cut off, then compared generations
 * with us and found nothing missing).  Only the primary knows: the
 * connection to it, if there is one, is made again, and that handshake
 * makes the disk UpToDate again (same generation, no bits) or resyncs it.
 */
static void rblk_outdated_by_peer(struct rblk_peer *peer)
{
	struct rblk_device *dev = peer->dev;
	struct rblk_peer *other;
	struct rblk_conn *conn;
	u32 primary;

	if (READ_ONCE(dev->role) == RBLK_ROLE_PRIMARY) {
		pr_warn_ratelimited("%s: peer %u: says we missed its writes, but we are primary\n",
				    rblk_peer_dev_name(peer), peer->cfg.node_id);
		return;
	}
	if (!rblk_change_disk_state(dev, RBLK_DISK_UP_TO_DATE, RBLK_DISK_OUTDATED))
		return;
	pr_info("%s: peer %u: we missed writes of that peer: our disk is outdated\n",
		rblk_peer_dev_name(peer), peer->cfg.node_id);
	spin_lock(&dev->state_lock);
	primary = dev->primary_peer;
	spin_unlock(&dev->state_lock);
	if (primary == RBLK_NO_PEER || primary == peer->cfg.node_id)
		return;
	conn = rblk_node_conn_get(dev, primary, &other);
	if (!conn)
		return;
	/* not a promotion we granted that the peer has not announced yet */
	if (READ_ONCE(other->peer_role) == RBLK_ROLE_PRIMARY)
		rblk_conn_fail(conn, -EAGAIN, "outdated by another peer: compare again");
	rblk_conn_put(conn);
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
	view.requester_missed_writes = rblk_peer_is_behind(peer);
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

/*
 * A READ from a peer: read from our disk and answer with the data, or
 * with an error at once: ENODATA when our disk is not UpToDate, EBUSY when
 * replies already hold RBLK_MAX_PWRITE_BYTES_PER_CONN of pages (the peer
 * reads elsewhere; we never stop reading the socket for our replies, so
 * two nodes reading from each other cannot wait for each other), ENOMEM
 * without pages (served reads never draw on the page pool's reserve).  Any
 * connected peer may read (authenticated when the resource has a secret).
 * More queued replies than a peer can have requests in flight
 * (RBLK_MAX_LEGS_PER_CONN) means it does not read them: the connection
 * fails.  0, -ENOMEM (no request structure: retried by io_work) or -errno
 * (the connection has failed).
 */
static int rblk_serve_read(struct rblk_conn *conn)
{
	struct rblk_device *dev = conn->peer->dev;
	struct rblk_trim_info ri;
	struct rblk_pwrite *pw;
	unsigned int i, nr_pages;
	int status = 0;
	u32 left;
	int ret;

	if (!(conn->features & RBLK_FEAT_READ)) {
		rblk_conn_fail(conn, -EPROTO, "READ not negotiated");
		return -EPROTO;
	}
	ret = rblk_read_decode(&conn->rx_payload.read, READ_ONCE(dev->size_sectors),
			       READ_ONCE(dev->logical_block_size_bytes), &ri);
	if (ret) {
		rblk_conn_fail(conn, ret, "bad READ (outside the device or misaligned)");
		return ret;
	}
	if (atomic_read(&conn->read_replies) >= RBLK_MAX_LEGS_PER_CONN) {
		rblk_conn_fail(conn, -ENOBUFS, "peer does not read: READ replies pile up");
		return -ENOBUFS;
	}
	nr_pages = DIV_ROUND_UP(ri.nr_sectors << SECTOR_SHIFT, PAGE_SIZE);
	if (READ_ONCE(dev->disk_state) != RBLK_DISK_UP_TO_DATE)
		status = -ENODATA;
	else if (atomic_read(&conn->read_reply_bytes) + (nr_pages << PAGE_SHIFT) >
		 RBLK_MAX_PWRITE_BYTES_PER_CONN)
		status = -EBUSY;
	if (status)
		nr_pages = 0;
	pw = rblk_pwrite_alloc(conn, RBLK_P_READ, nr_pages);
	if (!pw)
		return -ENOMEM;
	atomic_inc(&conn->read_replies);
	pw->trim = ri;
	left = ri.nr_sectors << SECTOR_SHIFT;
	for (i = 0; i < nr_pages; i++) {
		struct page *page = alloc_page(RBLK_IO_GFP);
		u32 len = min_t(u32, left, PAGE_SIZE);

		if (!page) {
			rblk_pwrite_free_pages(pw);
			status = -ENOMEM;
			break;
		}
		__bio_add_page(&pw->bio, page, len, 0);
		pw->nr_pages++;
		left -= len;
	}
	pw->reply_bytes = pw->nr_pages << PAGE_SHIFT;
	atomic_add(pw->reply_bytes, &conn->read_reply_bytes);
	pw->status = status;
	rblk_pwrite_start(conn, pw);
	return 0;
}

/*
 * The fixed part of a READ_REPLY is in: a failed read goes on to its next
 * source, data is received into the read's bio (RBLK_RX_READ_DATA).
 * Context: io_work.  0 or -errno (the connection has failed).
 */
static int rblk_read_reply_start(struct rblk_conn *conn)
{
	struct rblk_hdr_info *info = &conn->rx_info;
	struct rblk_leg *leg;
	int status, ret;
	u32 digest;

	/* as for ACK: only a READ completely on the socket can be answered */
	leg = rblk_reqid_lookup(&conn->reqids, info->request_id);
	if (!leg || leg->command != RBLK_P_READ || !READ_ONCE(leg->send.sent)) {
		rblk_conn_fail(conn, -EPROTO, "READ_REPLY for unknown request %llu",
			       info->request_id);
		return -EPROTO;
	}
	ret = rblk_read_reply_decode(&conn->rx_payload.read_reply, info->payload_len_bytes,
				     leg->bytes, conn->features & RBLK_FEAT_DATA_DIGEST,
				     &status, &digest);
	if (ret) {
		rblk_conn_fail(conn, ret, "bad READ_REPLY");
		return ret;
	}
	if (status) {
		if (rblk_reqid_take(&conn->reqids, info->request_id) != leg) {
			rblk_conn_fail(conn, -EPROTO, "READ_REPLY for request %llu taken twice",
				       info->request_id);
			return -EPROTO;
		}
		rblk_read_budget_put(conn, leg);
		rblk_conn_leg_slot_put(conn);
		rblk_leg_complete(leg, status);
		return 0;
	}
	conn->rx_read_leg = leg;
	conn->rx_read_iter = leg->req->master->bi_iter;
	conn->rx_read_digest = digest;
	conn->rx_state = RBLK_RX_READ_DATA;
	return 0;
}

/**
 * rblk_read_reply_received() - the data of a READ_REPLY is all in
 * @conn: the connection; rx_read_leg is the READ it answers
 *
 * With RBLK_FEAT_DATA_DIGEST the data is checked against the sender's
 * digest: on a mismatch (one rate-limited line, counted in the peer's
 * errors) the read goes on to its next source with -EBADMSG and the
 * connection stays (the framing is intact).  The leg leaves the
 * request-id table and completes.
 *
 * Context: io_work (process context, no sleeping for memory).
 *
 * Return: 0, or -EPROTO if the leg was not in the table (the connection
 * is failed).
 */
int rblk_read_reply_received(struct rblk_conn *conn)
{
	struct rblk_leg *leg = conn->rx_read_leg;
	struct rblk_peer *peer = conn->peer;
	struct bio *master = leg->req->master;
	int status = 0;

	conn->rx_read_leg = NULL;
	if (conn->features & RBLK_FEAT_DATA_DIGEST) {
		u32 computed = rblk_data_digest(master, master->bi_iter);

		if (computed != conn->rx_read_digest) {
			pr_warn_ratelimited("%s: peer %u: bad READ_REPLY digest at sector %llu: %08x, computed %08x: reading elsewhere\n",
					    rblk_peer_dev_name(peer), peer->cfg.node_id,
					    (unsigned long long)master->bi_iter.bi_sector,
					    conn->rx_read_digest, computed);
			atomic64_inc(&peer->errors);
			status = -EBADMSG;
		}
	}
	if (rblk_reqid_take(&conn->reqids, conn->rx_info.request_id) != leg) {
		rblk_conn_fail(conn, -EPROTO, "READ_REPLY for request %llu taken twice",
			       conn->rx_info.request_id);
		return -EPROTO;
	}
	rblk_read_budget_put(conn, leg);
	rblk_conn_leg_slot_put(conn);
	rblk_leg_complete(leg, status);
	return 0;
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
		if (!leg || leg->command == RBLK_P_READ) {
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
		rblk_unflushed_acked(conn, leg, info->request_id, status);
		rblk_leg_complete(leg, status);
		return 0;
	case RBLK_P_READ:
		return rblk_serve_read(conn);
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
		if (rblk_quorum_claim_seen(peer, disk)) {
			rblk_conn_fail(conn, -EAGAIN,
				       "peer named behind announced UpToDate: compare again");
			return -EAGAIN;
		}
		rblk_peer_set_claimed_disk(peer, disk);
		/* our primary lost its disk: its writes go on to us alone */
		if (role == RBLK_ROLE_PRIMARY && disk == RBLK_DISK_DISKLESS &&
		    conn->features & RBLK_FEAT_LOST_DISK && READ_ONCE(dev->has_md) &&
		    !peer->cfg.witness)
			rblk_sync_primary_lost_disk(peer);
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
	case RBLK_P_BEHIND:
	case RBLK_P_BEHIND_ACK: {
		struct rblk_p_behind *b = &conn->rx_payload.behind;
		u32 mask = be32_to_cpu(b->nodes_behind);
		struct rblk_p_behind ack = {};

		if (!(conn->features & RBLK_FEAT_BEHIND) || b->pad) {
			rblk_conn_fail(conn, -EPROTO, "unexpected or malformed %s",
				       rblk_packet_cmd_name(info->command));
			return -EPROTO;
		}
		if (info->command == RBLK_P_BEHIND_ACK) {
			rblk_quorum_behind_acked(peer, mask);
			return 0;
		}
		/* handled again if the answer cannot be queued: idempotent */
		ack.nodes_behind = cpu_to_be32(rblk_quorum_behind_received(peer, mask));
		return rblk_conn_queue_ctl(conn, RBLK_P_BEHIND_ACK, 0, &ack, sizeof(ack),
					   RBLK_IO_GFP);
	}
	case RBLK_P_UUIDS:
		if (!(conn->features & RBLK_FEAT_MD) ||
		    rblk_sync_receive_uuids(peer, &conn->rx_payload.uuids, conn->features)) {
			rblk_conn_fail(conn, -EPROTO, "unexpected or malformed UUIDS");
			return -EPROTO;
		}
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
			       READ_ONCE(dev->logical_block_size_bytes),
			       conn->features & RBLK_FEAT_DATA_DIGEST, &di);
	if (ret) {
		rblk_conn_fail(conn, ret, "bad DATA (outside the device or misaligned)");
		return ret;
	}
	if (di.dp_flags & RBLK_DP_RESYNC) {
		/* resync data: only from the sync source we are target of */
		if (!(conn->features & RBLK_FEAT_MD) ||
		    READ_ONCE(conn->peer->repl_state) != RBLK_REPL_SYNC_TARGET) {
			rblk_conn_fail(conn, -EPROTO,
				       "resync DATA from a peer that is not our sync source");
			return -EPROTO;
		}
	} else if (!rblk_may_receive_writes(conn)) {
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

/**
 * rblk_data_received() - the data of a received DATA packet is all in
 * @conn: the connection; its rx_pwrite holds the write
 *
 * With RBLK_FEAT_DATA_DIGEST the data is checked against the sender's
 * digest first.  A write whose data changed on its way is not written:
 * the connection fails (one rate-limited line with the sector and both
 * digests, the peer's last error), rx_pwrite stays for the teardown to
 * free, and the sender, which never gets the ACK, marks the write out of
 * sync for us when it sees the connection lost; the next resync repairs
 * it.  Otherwise the write starts on the backing device.
 *
 * Context: io_work (process context, no sleeping for memory).
 *
 * Return: 0 when the write was started; -EBADMSG on a digest mismatch
 * (the connection has failed).
 */
int rblk_data_received(struct rblk_conn *conn)
{
	struct rblk_pwrite *pw = conn->rx_pwrite;
	u32 computed;

	if ((conn->features & RBLK_FEAT_DATA_DIGEST) &&
	    rblk_data_digest_check(&pw->data, &pw->bio, &computed)) {
		rblk_conn_fail(conn, -EBADMSG,
			       "bad DATA digest at sector %llu: %08x, computed %08x",
			       pw->data.sector, pw->data.data_digest, computed);
		return -EBADMSG;
	}
	conn->rx_pwrite = NULL;
	rblk_pwrite_start(conn, pw);
	return 0;
}

/* Act on a complete packet (RBLK_RX_DISPATCH). */
int rblk_dispatch(struct rblk_conn *conn)
{
	int ret;

	if (conn->rx_info.command == RBLK_P_DATA) {
		ret = rblk_start_data(conn);
		if (!ret)
			conn->rx_state = RBLK_RX_DATA;
		return ret;
	}
	if (conn->rx_info.command == RBLK_P_READ_REPLY) {
		conn->rx_state = RBLK_RX_HDR;
		return rblk_read_reply_start(conn);
	}
	ret = rblk_handle_packet(conn);
	if (ret != -ENOMEM)
		conn->rx_state = RBLK_RX_HDR;
	return ret;
}
