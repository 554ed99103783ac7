// SPDX-License-Identifier: GPL-2.0
/*
 * rblk - the I/O path.
 *
 * Every bio becomes a struct rblk_req (the front pad of the local clone).
 * A read has one reference for the submitter and one for its source: the
 * local disk (the clone) or one UpToDate peer (a READ leg), chosen by the
 * device's read balancing; a source that fails hands the reference on to
 * the next one (rblk_read_retry_work()).  Writes, flushes, discards and
 * write-zeroes have one reference for the submitter, one for the local
 * clone and one per peer that is connected at submission (a "leg").  The upper bio
 * completes when the last reference goes: its status is the local
 * status.  A peer leg that fails or whose connection is lost completes as
 * "peer missed it": the peer is shown Outdated and the bio still succeeds
 * if the local write did (protocol C towards every peer that stays
 * connected).  A primary whose disk failed writes to its peer alone; such
 * a write succeeds once that peer holds it in a generation the lost disk
 * lacks (rblk_lost_disk_state()).
 *
 * Context: rblk_submit_bio() runs in the submitter's context and may sleep
 * (GFP_NOIO mempool allocations).  Completions run in any context (local
 * clone: often hard irq; legs: io_work or connection teardown).  The hot
 * path takes no device-wide lock: per-cpu counters, an atomic in-flight
 * gauge, RCU to find connections and a per-connection spinlock to register
 * a leg.
 */

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/delay.h>

#include "rblk_int.h"

static void rblk_req_account(struct rblk_device *dev, struct bio *master,
			     u32 bytes, blk_status_t status)
{
	struct rblk_stats __percpu *st = dev->stats;

	if (status) {
		this_cpu_inc(st->errors);
		return;
	}
	switch (bio_op(master)) {
	case REQ_OP_READ:
		this_cpu_inc(st->reads);
		this_cpu_add(st->read_bytes, bytes);
		break;
	case REQ_OP_WRITE:
		if (master->bi_opf & REQ_PREFLUSH)
			this_cpu_inc(st->flushes);
		if (bytes) {
			this_cpu_inc(st->writes);
			this_cpu_add(st->write_bytes, bytes);
		}
		break;
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		this_cpu_inc(st->discards);
		break;
	default:
		break;
	}
}

static void rblk_req_finish(struct rblk_req *req, blk_status_t gen_status);
static void rblk_req_replicate(struct rblk_req *req);

/*
 * Drop one reference; the last one completes the upper bio.  Any context.
 * A write that a peer missed while that peer's slot tracked no generation
 * waits for the new current UUID to be durable (rblk_req_gen_work()).
 */
static void rblk_req_put(struct rblk_req *req)
{
	struct rblk_device *dev = req->dev;

	if (!atomic_dec_and_test(&req->pending))
		return;
	if (req->needs_gen) {
		if (llist_add(&req->gen_node, &dev->gen_reqs))
			queue_work(rblk_wq, &dev->gen_work);
		return;
	}
	rblk_req_finish(req, BLK_STS_OK);
}

/**
 * rblk_req_gen_work() - start a new generation, then complete the writes
 *	that waited for it
 * @work: dev->gen_work
 *
 * A write that cannot be recorded durably as missed by a peer fails
 * (BLK_STS_IOERR): acknowledging it could let that peer come back as in
 * sync without it.
 *
 * Context: workqueue (process context), sleeps.
 */
void rblk_req_gen_work(struct work_struct *work)
{
	struct rblk_device *dev = container_of(work, struct rblk_device, gen_work);
	struct llist_node *list = llist_del_all(&dev->gen_reqs);
	struct rblk_req *req, *next;
	blk_status_t status = BLK_STS_OK;

	if (!list)
		return;
	if (rblk_md_start_generation(dev))
		status = BLK_STS_IOERR;
	llist_for_each_entry_safe(req, next, list, gen_node)
		rblk_req_finish(req, status);
}

/*
 * A bitmap slot misses @req: mark its blocks; the request completes after
 * the slot tracks a generation durably.  Any context.
 */
static void rblk_req_missed_slot(struct rblk_req *req, int slot)
{
	struct rblk_device *dev = req->dev;

	rblk_bm_mark(dev, slot, req->interval.start_sector,
		     req->interval.last_sector - req->interval.start_sector + 1);
	if (rblk_md_slot_needs_gen(dev, slot)) {
		/* seen by a handshake before gen_work runs: rblk_sync_apply() */
		WRITE_ONCE(dev->md.bm[slot].pending_gen, true);
		WRITE_ONCE(req->needs_gen, true);
	}
}

/* A peer misses @req: mark its blocks for @peer's slot.  Any context. */
static void rblk_req_missed(struct rblk_req *req, struct rblk_peer *peer)
{
	if (!req->interval.inserted)
		return;
	atomic_inc(&peer->missed_seq);
	set_bit(peer->cfg.node_id, &req->missed_nodes);
	rblk_req_missed_slot(req, READ_ONCE(peer->md_slot));
}

/*
 * Writes of a primary whose disk failed (on-io-error detach) go to its
 * peers only.  The lost disk keeps the generation it had, and so does a
 * peer until told otherwise: if the disk came back, the two would compare
 * as in sync and differ by every write the disk missed.  So such a write
 * completes only once the peer that holds it has started a new generation
 * durably and said so (RBLK_UF_LOST_DISK, rblk_sync_hold_for_primary()):
 * the lost disk is then behind it and resyncs from it.  Only one peer can
 * be that record: two peers starting generations of their own would look
 * diverged to each other.  So this works with exactly one data peer (any
 * number of witnesses); with more, such writes fail (BLK_STS_IOERR).
 */
enum rblk_lost_disk {
	RBLK_LOST_DISK_FAIL,		/* nobody can hold our writes */
	RBLK_LOST_DISK_WAIT,		/* the one data peer has not said so yet */
	RBLK_LOST_DISK_HELD,		/* it holds a generation our disk lacks */
};

/* A held write that its peer did not confirm in this time fails. */
#define RBLK_LOST_DISK_WAIT_MS		30000

/*
 * Where writes our disk lacks stand.  @submit: for a new write, which
 * needs the data peer connected now (a write it misses fails); a write it
 * acknowledged may wait for it to come back and say that it holds it.
 * Any context (RCU).
 */
static enum rblk_lost_disk rblk_lost_disk_state(struct rblk_device *dev, bool submit)
{
	enum rblk_lost_disk state = RBLK_LOST_DISK_FAIL;
	struct rblk_peer *data_peer = NULL;
	struct rblk_conn *conn;
	u32 witnesses;

	if (READ_ONCE(dev->role) != RBLK_ROLE_PRIMARY)
		return RBLK_LOST_DISK_FAIL;
	rcu_read_lock();
	data_peer = rblk_only_data_peer(dev, &witnesses);
	if (!data_peer)
		goto out;
	/*
	 * The data peer and the witnesses must be able to make a quorum
	 * without us (rblk_quorum_update() counts no vote of ours now); a
	 * witness that is away suspends or fails writes as on-no-quorum says.
	 */
	if (READ_ONCE(dev->quorum_needed) && 1 + witnesses < READ_ONCE(dev->quorum_needed))
		goto out;
	conn = rcu_dereference(data_peer->conn);
	if (!conn && submit)
		goto out;
	if (READ_ONCE(dev->lost_disk_held_by) == data_peer->cfg.node_id)
		state = RBLK_LOST_DISK_HELD;
	/* connecting again, or connected with the feature: it may say so */
	else if (!conn || conn->features & RBLK_FEAT_LOST_DISK)
		state = RBLK_LOST_DISK_WAIT;
out:
	rcu_read_unlock();
	return state;
}

/*
 * Complete @req with @status once it is out of the conflict tree: a write
 * that did not reach a quorum of nodes is held until quorum returns, or
 * failed.
 */
static void rblk_req_end(struct rblk_req *req, blk_status_t status)
{
	if (!status && bio_op(req->master) != REQ_OP_READ && !rblk_quorum_write_ok(req)) {
		if (rblk_quorum_hold(req))
			return;
		status = BLK_STS_IOERR;
	}
	rblk_req_complete(req, status);
}

/*
 * A write our disk lacks (it failed it, or is gone) but that an UpToDate
 * peer wrote: with on-io-error detach it is not lost, once that peer
 * holds a generation our lost disk lacks (rblk_lost_disk_state()).
 */
static bool rblk_req_on_peers(struct rblk_req *req)
{
	struct rblk_device *dev = req->dev;

	/* an error that left the disk in use (a discard, "not supported") stands */
	return bio_op(req->master) != REQ_OP_READ && atomic_read(&req->peers_ok) &&
	       (!req->has_local_ref ||
		(READ_ONCE(dev->on_io_error) == RBLK_ON_IO_ERROR_DETACH &&
		 test_bit(RBLK_LOCAL_REF_KILLED, &dev->local_flags)));
}

static void rblk_req_finish(struct rblk_req *req, blk_status_t gen_status)
{
	struct rblk_device *dev = req->dev;
	blk_status_t status = req->local_status;

	/*
	 * Done everywhere: overlapping writes may go now, also while this one
	 * waits for quorum or for the peer that holds it (every disk has
	 * ordered it already; a resync must be able to copy it).
	 */
	rblk_interval_remove(&dev->conflicts, &req->interval);
	if (status && !gen_status && rblk_req_on_peers(req)) {
		/* the local clone is done: the failed disk may close meanwhile */
		if (req->has_local_ref) {
			req->has_local_ref = false;
			percpu_ref_put(&dev->local_ref);
		}
		if (rblk_lost_disk_state(dev, false) == RBLK_LOST_DISK_HELD) {
			rblk_req_end(req, BLK_STS_OK);
			return;
		}
		req->parked_jiffies = jiffies;
		llist_add(&req->gen_node, &dev->lost_disk_reqs);
		mod_delayed_work(rblk_wq, &dev->lost_disk_work, 0);
		return;
	}
	rblk_req_end(req, status ?: gen_status);
}

/**
 * rblk_lost_disk_work() - complete the writes that wait for the peer that
 *	holds them
 * @work: dev->lost_disk_work
 *
 * Each write on dev->lost_disk_reqs completes successfully once the one
 * data peer said it holds a generation our lost disk lacks (and quorum
 * allows: rblk_req_end()), fails with its local status when no peer can
 * (another data peer, no data peer, not primary, a peer without
 * RBLK_FEAT_LOST_DISK, a quorum the peer and the witnesses cannot make)
 * or RBLK_LOST_DISK_WAIT_MS after it began to wait, and waits otherwise
 * (looked at again every 100 ms, and at once when the peer's word
 * arrives).
 *
 * Context: workqueue (process context).
 */
void rblk_lost_disk_work(struct work_struct *work)
{
	struct rblk_device *dev = container_of(to_delayed_work(work), struct rblk_device,
					       lost_disk_work);
	struct llist_node *list = llist_del_all(&dev->lost_disk_reqs);
	enum rblk_lost_disk state = rblk_lost_disk_state(dev, false);
	struct rblk_req *req, *next;
	bool waiting = false;

	llist_for_each_entry_safe(req, next, list, gen_node) {
		if (state == RBLK_LOST_DISK_HELD) {
			rblk_req_end(req, BLK_STS_OK);
		} else if (state == RBLK_LOST_DISK_WAIT &&
			   time_before(jiffies, req->parked_jiffies +
				       msecs_to_jiffies(RBLK_LOST_DISK_WAIT_MS))) {
			llist_add(&req->gen_node, &dev->lost_disk_reqs);
			waiting = true;
		} else {
			rblk_req_end(req, req->local_status);
		}
	}
	/* a kick meanwhile (the peer's word) is not put off */
	if (waiting)
		queue_delayed_work(rblk_wq, &dev->lost_disk_work, msecs_to_jiffies(100));
}

/**
 * rblk_lost_disk_held() - the peer says it holds our writes in a new
 *	generation
 * @peer: the sender of RBLK_UF_LOST_DISK
 * @uuid: its new current UUID
 *
 * Recorded while we are primary without a disk (Failed or Diskless) and
 * @peer is a data peer, under dev->state_lock (an attach resets it there);
 * the writes waiting for it complete.  Ignored otherwise (a late word
 * after a role change, a peer that claims it for a disk we have).
 *
 * Context: io_work (takes dev->state_lock).
 */
void rblk_lost_disk_held(struct rblk_peer *peer, u64 uuid)
{
	struct rblk_device *dev = peer->dev;
	bool ok, news = false;

	spin_lock(&dev->state_lock);
	ok = dev->role == RBLK_ROLE_PRIMARY && !peer->cfg.witness &&
	     (dev->disk_state == RBLK_DISK_FAILED || dev->disk_state == RBLK_DISK_DISKLESS);
	if (ok) {
		news = dev->lost_disk_held_by != peer->cfg.node_id;
		WRITE_ONCE(dev->lost_disk_held_by, peer->cfg.node_id);
	}
	spin_unlock(&dev->state_lock);
	if (!ok) {
		pr_info_ratelimited("%s: peer %u: holds our writes in generation %016llx, but our disk is not lost: ignored\n",
				    dev->disk->disk_name, peer->cfg.node_id, uuid);
		return;
	}
	if (news)
		pr_info("%s: peer %u: holds our writes in generation %016llx: writing through it\n",
			dev->disk->disk_name, peer->cfg.node_id, uuid);
	mod_delayed_work(rblk_wq, &dev->lost_disk_work, 0);
}

/**
 * rblk_req_empty_flush() - is @req a flush without data
 * @req: a request
 *
 * Context: any.
 */
bool rblk_req_empty_flush(const struct rblk_req *req)
{
	return bio_op(req->master) == REQ_OP_WRITE && !bio_has_data(req->master);
}

/**
 * rblk_req_reflush() - send a held empty flush to the peers again
 * @req: an empty flush held for quorum (rblk_quorum_hold()), taken off
 *	dev->quorum_held
 *
 * Its legs to the peers that were lost failed, and a flush has no blocks
 * that a resync would bring to them later.  It goes again to each
 * connected peer that has not flushed it yet and is Established and not
 * behind (a peer still being resynced lacks blocks its flush would not
 * make durable); the flushes that succeed add to its votes
 * (rblk_quorum_write_ok()), one that fails outdates nobody, and short of
 * quorum it is held again.  Not primary any more: it fails.
 *
 * Context: dev->reflush_work (process context), may sleep (GFP_NOIO,
 * a leg slot).
 */
void rblk_req_reflush(struct rblk_req *req)
{
	if (READ_ONCE(req->dev->role) != RBLK_ROLE_PRIMARY) {
		rblk_req_complete(req, BLK_STS_IOERR);
		return;
	}
	req->reflush = true;
	atomic_set(&req->pending, 1);
	rblk_req_replicate(req);
	rblk_req_put(req);
}

/**
 * rblk_req_complete() - complete the upper bio of a request, free it
 * @req: request whose every leg and local clone has completed, out of
 *	the conflict tree
 * @status: the upper bio's status
 *
 * Context: any.
 */
void rblk_req_complete(struct rblk_req *req, blk_status_t status)
{
	struct rblk_device *dev = req->dev;
	struct bio *master = req->master;

	rblk_req_account(dev, master, req->op_bytes, status);
	bio_put(&req->clone);
	atomic_dec(&dev->inflight);
	if (req->has_local_ref)
		percpu_ref_put(&dev->local_ref);
	master->bi_status = status;
	bio_end_io_acct(master, req->acct_start);
	bio_endio(master);
}

/*
 * Does this failure of the backing device count for on-io-error?  Writes
 * (with data, flushes, write-zeroes) that failed, but not discards (they
 * are advisory) and not "not supported" or "try again" (no media error).
 */
bool rblk_is_write_error(enum req_op op, blk_status_t status)
{
	if (!status || status == BLK_STS_NOTSUPP || status == BLK_STS_AGAIN)
		return false;
	return op == REQ_OP_WRITE || op == REQ_OP_WRITE_ZEROES;
}

static void rblk_read_retry(struct rblk_req *req)
{
	struct rblk_device *dev = req->dev;

	if (llist_add(&req->gen_node, &dev->read_retry_reqs))
		queue_work(rblk_wq, &dev->read_retry_work);
}

static void rblk_local_endio(struct bio *clone)
{
	struct rblk_req *req = container_of(clone, struct rblk_req, clone);

	atomic_dec(&req->dev->local_inflight);
	/* a failed write fails the disk */
	if (rblk_is_write_error(bio_op(clone), clone->bi_status))
		rblk_local_io_error(req->dev);
	req->local_status = clone->bi_status;
	/* a failed read tries the peers (the error stays if none can serve it) */
	if (bio_op(clone) == REQ_OP_READ && clone->bi_status &&
	    clone->bi_status != BLK_STS_NOTSUPP) {
		pr_err_ratelimited("%s: read error on the backing device at sector %llu (%d): trying the peers\n",
				   req->dev->disk->disk_name,
				   (unsigned long long)req->master->bi_iter.bi_sector,
				   blk_status_to_errno(clone->bi_status));
		rblk_read_retry(req);
		return;
	}
	rblk_req_put(req);
}

/*
 * A READ leg is done: the data is in the upper bio, or the next source is
 * tried (the leg's reference on the request goes on to it).  Any context.
 */
static void rblk_read_leg_done(struct rblk_leg *leg, int status)
{
	struct rblk_peer *peer = leg->peer;
	struct rblk_req *req = leg->req;

	if (!status) {
		atomic64_inc(&peer->reads);
		atomic64_add(leg->bytes, &peer->read_bytes);
		req->local_status = BLK_STS_OK;
	}
	atomic_dec(&peer->inflight);
	mempool_free(leg, rblk_leg_pool);
	/* no room or memory at the peer now: the same peer again, later */
	if ((status == -EBUSY || status == -ENOMEM) &&
	    req->read_busy < RBLK_READ_BUSY_RETRIES) {
		req->read_busy++;
		clear_bit(peer->cfg.node_id, &req->read_tried);
	}
	if (status)
		rblk_read_retry(req);
	else
		rblk_req_put(req);
}

/**
 * rblk_leg_complete() - a peer leg is done
 * @leg: the leg, already removed from its connection's request-id table
 * @status: 0 when the peer wrote it (or, a READ, sent its data), else
 *	-errno (the peer's error, or -ENOTCONN when the connection went away
 *	first)
 *
 * A failed write leg marks the peer Outdated ("peer missed it"), unless
 * our disk is lost (the write then fails: nobody lacks it); the request's
 * own status is not affected.  A failed READ leg hands the read
 * on to the next source.  Frees @leg.
 *
 * Context: any (io_work or connection teardown in practice).
 */
void rblk_leg_complete(struct rblk_leg *leg, int status)
{
	struct rblk_peer *peer = leg->peer;
	struct rblk_req *req = leg->req;

	if (leg->rs) {
		rblk_rs_leg_done(leg, status);
		return;
	}
	if (leg->command == RBLK_P_READ) {
		rblk_read_leg_done(leg, status);
		return;
	}
	if (status) {
		/*
		 * Without our disk it is nowhere now: it fails, nobody lacks
		 * it.  A flush sent again that fails only does not count.
		 */
		if (req->has_local_ref && !req->reflush) {
			rblk_peer_outdate(peer);
			rblk_req_missed(req, peer);
		}
	} else {
		if (READ_ONCE(peer->peer_disk_state) == RBLK_DISK_UP_TO_DATE)
			atomic_inc(&req->peers_ok);
		set_bit(peer->cfg.node_id, &req->acked_nodes);
		atomic64_inc(&peer->acks);
		switch (leg->command) {
		case RBLK_P_DATA:
			atomic64_inc(&peer->writes);
			atomic64_add(leg->bytes, &peer->write_bytes);
			if (req->master->bi_opf & REQ_PREFLUSH)
				atomic64_inc(&peer->flushes);
			break;
		case RBLK_P_FLUSH:
			atomic64_inc(&peer->flushes);
			break;
		case RBLK_P_TRIM:
			atomic64_inc(&peer->discards);
			break;
		}
	}
	atomic_dec(&peer->inflight);
	mempool_free(leg, rblk_leg_pool);
	rblk_req_put(req);
}

/* Which packet carries @master to a peer; 0 for "nothing to send". */
static u8 rblk_req_command(struct bio *master)
{
	switch (bio_op(master)) {
	case REQ_OP_WRITE:
		return bio_has_data(master) ? RBLK_P_DATA : RBLK_P_FLUSH;
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		return RBLK_P_TRIM;
	default:
		return 0;
	}
}

/*
 * Hand a leg to every connected peer; every configured peer without a
 * connection misses the write and is recorded so (rblk_peer_outdate()),
 * unless our disk is lost: such a write that a peer misses fails, and
 * nobody lacks it (see rblk_lost_disk_state()).
 * Legs are allocated before looking at the peer under RCU, so at most one
 * spare is allocated and freed.
 *
 * A connection being established publishes itself, then waits for an RCU
 * grace period before it reads the record of missed writes
 * (rblk_conn_install()): a write that found no connection here has
 * recorded the miss by then, a later one finds the connection.  So the
 * recording and the check for a connection share one RCU read section.
 */
static void rblk_req_replicate(struct rblk_req *req)
{
	struct rblk_device *dev = req->dev;
	u8 command = rblk_req_command(req->master);
	struct rblk_leg *leg = NULL;
	unsigned int i;

	if (!command)
		return;
	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_peer *peer;
		struct rblk_conn *conn;

		if (!rcu_access_pointer(dev->peers[i]))
			continue;
		if (!leg)
			leg = mempool_alloc(rblk_leg_pool, GFP_NOIO);
		leg->req = req;
		leg->rs = NULL;
		leg->command = command;
		leg->bytes = command == RBLK_P_DATA ? req->op_bytes : 0;

		rcu_read_lock();
		peer = rcu_dereference(dev->peers[i]);
		conn = peer ? rblk_conn_get(peer) : NULL;
		if (peer && !conn && command != RBLK_P_FLUSH && !peer->cfg.witness &&
		    req->has_local_ref) {
			rblk_peer_outdate(peer);
			rblk_req_missed(req, peer);
		}
		rcu_read_unlock();
		/* a witness (no disk) holds no data: nothing to send or miss */
		if (conn && peer->cfg.witness) {
			rblk_conn_put(conn);
			continue;
		}
		/* a flush sent again: to the peers whose flush can count now */
		if (conn && req->reflush &&
		    (test_bit(i, &req->acked_nodes) || test_bit(i, &dev->peers_missed_writes) ||
		     READ_ONCE(peer->repl_state) != RBLK_REPL_ESTABLISHED)) {
			rblk_conn_put(conn);
			continue;
		}
		if (conn) {
			int ret;

			/* the peer stays while its connection is held */
			leg->peer = peer;
			atomic_inc(&req->pending);
			atomic_inc(&peer->inflight);
			ret = rblk_conn_queue_leg(conn, leg);
			if (ret > 0) {
				leg = NULL;
			} else {
				atomic_dec(&peer->inflight);
				atomic_dec(&req->pending);
				/*
				 * A peer that misses a write is outdated
				 * (and told so while its connection lives).
				 * Without our disk the write is nowhere now:
				 * it fails, and nobody lacks it.
				 */
				if (req->has_local_ref) {
					if (ret == -ENOTCONN)
						rblk_peer_outdate(peer);
					else if (ret < 0)
						rblk_peer_missed_write(peer, conn, ret);
					if (ret < 0 && command != RBLK_P_FLUSH)
						rblk_req_missed(req, peer);
				}
			}
			rblk_conn_put(conn);
		}
	}
	if (leg)
		mempool_free(leg, rblk_leg_pool);
	/*
	 * Slots of nodes that are not configured (removed, not added yet)
	 * miss it too: a node added back later is behind by these blocks.
	 */
	if (command != RBLK_P_FLUSH && req->interval.inserted && req->has_local_ref &&
	    READ_ONCE(dev->has_md)) {
		for (i = 0; i < dev->md.info.layout.max_peers; i++) {
			u32 node = READ_ONCE(dev->md.info.slots[i].node_id);

			if (node <= RBLK_MAX_NODE_ID && !rcu_access_pointer(dev->peers[node]))
				rblk_req_missed_slot(req, i);
		}
	}
}

/*
 * Can @peer serve our reads on @conn?  Its disk must be UpToDate in this
 * node's view, and not merely claimed: a peer flagged for reconciliation
 * after a lost primary may lack that primary's last writes until it has
 * compared again, so it serves none.  A node that is not primary reads
 * only from its connected primary (another secondary may not have learnt
 * yet that it missed the primary's writes, nor this node that it did).
 * RCU read section or @conn held.
 */
static bool rblk_peer_serves_reads(struct rblk_peer *peer, struct rblk_conn *conn,
				   bool primary, u32 our_primary)
{
	if (!conn || !(conn->features & RBLK_FEAT_READ) || peer->cfg.witness ||
	    READ_ONCE(peer->peer_disk_state) != RBLK_DISK_UP_TO_DATE ||
	    READ_ONCE(peer->reconcile))
		return false;
	return primary || our_primary == peer->cfg.node_id;
}

/* Is the local disk's queue at least half full of our requests? */
static bool rblk_local_congested(struct rblk_device *dev)
{
	unsigned long slots = bdev_get_queue(dev->backing.bdev)->nr_requests;

	return atomic_read(&dev->local_inflight) >= max(1UL, slots / 2);
}

#define RBLK_READ_NO_SOURCE	(-1)

/*
 * Where a read goes next: our own node id (the local disk), a peer's node
 * id, or RBLK_READ_NO_SOURCE.  Sources tried before are skipped.
 *
 * A local disk that is UpToDate serves every read of a secondary, and a
 * primary's unless its read balancing picks a peer.  A local disk that is
 * not UpToDate serves only when no peer can (a node alone reads what it
 * has), and never while Inconsistent.  Otherwise the least busy peer that
 * can (rblk_peer_serves_reads()) serves.
 */
static int rblk_read_source(struct rblk_req *req)
{
	struct rblk_device *dev = req->dev;
	bool local = req->has_local_ref && !test_bit(dev->node_id, &req->read_tried) &&
		     !test_bit(RBLK_LOCAL_IO_FAILED, &dev->local_flags);
	enum rblk_disk_state disk = READ_ONCE(dev->disk_state);
	bool primary = READ_ONCE(dev->role) == RBLK_ROLE_PRIMARY;
	u32 our_primary = READ_ONCE(dev->primary_peer);
	int best = RBLK_READ_NO_SOURCE, best_load = INT_MAX;
	u8 policy = READ_ONCE(dev->read_balancing);
	unsigned int i, n = 0, pick = 0;
	int nodes[RBLK_MAX_PEERS];

	/* the common case, without looking at the peers */
	if (local && disk == RBLK_DISK_UP_TO_DATE &&
	    (!primary || policy == RBLK_READ_PREFER_LOCAL))
		return dev->node_id;

	rcu_read_lock();
	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_peer *peer = rcu_dereference(dev->peers[i]);
		int load;

		if (!peer || test_bit(i, &req->read_tried) ||
		    !rblk_peer_serves_reads(peer, rcu_dereference(peer->conn), primary,
					    our_primary))
			continue;
		nodes[n++] = i;
		load = atomic_read(&peer->inflight);
		if (load < best_load) {
			best = i;
			best_load = load;
		}
	}
	rcu_read_unlock();

	if (!n)
		return local && disk != RBLK_DISK_INCONSISTENT ? dev->node_id :
		       RBLK_READ_NO_SOURCE;
	if (!local || disk != RBLK_DISK_UP_TO_DATE)
		return best;
	switch (policy) {
	case RBLK_READ_ROUND_ROBIN:
		pick = (unsigned int)atomic_inc_return(&dev->read_rr) % (n + 1);
		return pick < n ? nodes[pick] : dev->node_id;
	case RBLK_READ_LEAST_PENDING:
		return atomic_read(&dev->local_inflight) <= best_load ? dev->node_id : best;
	case RBLK_READ_WHEN_CONGESTED_REMOTE:
		return rblk_local_congested(dev) ? best : dev->node_id;
	default:
		return dev->node_id;
	}
}

/*
 * Room for @bytes of READ data outstanding on @conn: at most what the
 * peer serves at once (RBLK_MAX_PWRITE_BYTES_PER_CONN of pages, counted
 * as it counts them), so that a well-behaved node never gets EBUSY; one
 * read alone always fits.
 */
static bool rblk_read_budget_get(struct rblk_conn *conn, u32 bytes)
{
	int old = atomic_read(&conn->read_bytes_out);

	do {
		if (old && old + bytes > RBLK_MAX_PWRITE_BYTES_PER_CONN)
			return false;
	} while (!atomic_try_cmpxchg(&conn->read_bytes_out, &old, old + bytes));
	return true;
}

/* Send a read to the peer with node id @node_id: true when queued. */
static bool rblk_read_remote(struct rblk_req *req, unsigned int node_id)
{
	struct rblk_device *dev = req->dev;
	struct rblk_peer *peer;
	struct rblk_conn *conn = NULL;
	struct rblk_leg *leg;
	int ret;

	leg = mempool_alloc(rblk_leg_pool, GFP_NOIO);
	rcu_read_lock();
	peer = rcu_dereference(dev->peers[node_id]);
	if (peer)
		conn = rblk_conn_get(peer);
	rcu_read_unlock();
	if (!conn) {
		mempool_free(leg, rblk_leg_pool);
		return false;
	}
	/* the peer stays while its connection is held */
	leg->req = req;
	leg->rs = NULL;
	leg->peer = peer;
	leg->command = RBLK_P_READ;
	leg->bytes = req->op_bytes;
	/* backpressure like a leg slot: the wait ends when the connection dies */
	wait_event(conn->submit_wait,
		   rblk_read_budget_get(conn, rblk_read_budget_bytes(leg)) ||
		   READ_ONCE(conn->dead));
	if (READ_ONCE(conn->dead)) {
		ret = -ENOTCONN;
	} else {
		atomic_inc(&peer->inflight);
		ret = rblk_conn_queue_leg(conn, leg);
		if (ret <= 0) {
			atomic_dec(&peer->inflight);
			rblk_read_budget_put(conn, leg);
		}
	}
	rblk_conn_put(conn);
	if (ret > 0)
		return true;
	mempool_free(leg, rblk_leg_pool);
	return false;
}

/*
 * Start a read (or its next attempt) on its next source; without one it
 * completes with the last source's error (BLK_STS_IOERR if none had
 * one).  Uses the request's source reference.  Process context, may sleep.
 */
static void rblk_req_read(struct rblk_req *req)
{
	struct rblk_device *dev = req->dev;
	int node;

	/* a peer had no room or memory: give it a moment */
	if (req->read_busy)
		msleep(RBLK_READ_BUSY_WAIT_MS);
	while ((node = rblk_read_source(req)) != RBLK_READ_NO_SOURCE) {
		set_bit(node, &req->read_tried);
		if (node == dev->node_id) {
			req->local_status = BLK_STS_OK;
			atomic_inc(&dev->local_inflight);
			submit_bio_noacct(&req->clone);
			return;
		}
		if (rblk_read_remote(req, node))
			return;
	}
	if (!req->local_status)
		req->local_status = BLK_STS_IOERR;
	rblk_req_put(req);
}

/**
 * rblk_read_retry_work() - try the next source of reads whose source failed
 * @work: dev->read_retry_work
 *
 * Context: workqueue (process context), sleeps.
 */
void rblk_read_retry_work(struct work_struct *work)
{
	struct rblk_device *dev = container_of(work, struct rblk_device, read_retry_work);
	struct llist_node *list = llist_reverse_order(llist_del_all(&dev->read_retry_reqs));
	struct rblk_req *req, *next;

	llist_for_each_entry_safe(req, next, list, gen_node)
		rblk_req_read(req);
}

/* Replicate and submit a request set up by rblk_submit_bio(). */
static void rblk_req_submit(struct rblk_req *req)
{
	if (bio_op(req->master) == REQ_OP_READ) {
		rblk_req_read(req);
	} else if (!req->has_local_ref) {
		/* our disk is lost: the peers only (rblk_lost_disk_state()) */
		rblk_req_replicate(req);
		rblk_req_put(req);	/* the local clone's, never submitted */
	} else {
		rblk_req_replicate(req);
		atomic_inc(&req->dev->local_inflight);
		submit_bio_noacct(&req->clone);
	}
	rblk_req_put(req);
}

/**
 * rblk_req_al_work() - log the extents of writes, then submit them
 * @work: dev->al_work
 *
 * A write whose log write fails is failed (BLK_STS_IOERR) without reaching
 * any disk: unlogged, a crash could leave its blocks different between the
 * nodes with nothing to tell.
 *
 * Context: workqueue (process context), sleeps.
 */
void rblk_req_al_work(struct work_struct *work)
{
	struct rblk_device *dev = container_of(work, struct rblk_device, al_work);
	struct llist_node *list = llist_reverse_order(llist_del_all(&dev->al_reqs));
	struct rblk_req *req, *next;

	llist_for_each_entry_safe(req, next, list, gen_node) {
		struct rblk_interval *iv = &req->interval;

		if (rblk_al_begin(dev, iv->start_sector, iv->last_sector - iv->start_sector + 1)) {
			req->local_status = BLK_STS_IOERR;
			rblk_req_put(req);	/* the local clone's, never submitted */
			rblk_req_put(req);
			continue;
		}
		rblk_req_submit(req);
	}
}

static bool rblk_op_supported(enum req_op op)
{
	switch (op) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		return true;
	default:
		return false;
	}
}

/**
 * rblk_submit_bio() - block_device_operations.submit_bio of /dev/rblkN
 * @bio: upper-layer bio
 *
 * A write, discard or write-zeroes first waits until no overlapping one
 * is in flight (conflict.c): the local disk and every peer then apply
 * overlapping writes in the same order.  It may also wait for a leg slot
 * of a slow peer (backpressure, at most the peer's request timeout).  The
 * queue does not announce REQ_NOWAIT support, so no bio asks not to wait.
 *
 * Reads go to the local disk or an UpToDate peer (rblk_read_source()).
 *
 * Errors: a read that no source could serve fails with the last source's
 * error; a write on a diskless device fails with BLK_STS_IOERR, unless it
 * is a primary whose disk failed and a peer holds its writes
 * (rblk_lost_disk_state()); a write, flush, discard or write-zeroes on a
 * secondary fails with BLK_STS_IOERR (-EIO); an unsupported operation
 * with BLK_STS_NOTSUPP.  Without quorum (quorum.c) a write waits
 * (on-no-quorum suspend-io) or fails with BLK_STS_IOERR (io-error); a
 * write that did not reach a quorum of nodes is held or failed the same
 * way before its completion.
 *
 * Context: process context of the submitter; may sleep (GFP_NOIO, waiting
 * for overlapping writes, waiting for a peer's leg slot).
 */
void rblk_submit_bio(struct bio *bio)
{
	struct rblk_device *dev = bio->bi_bdev->bd_disk->private_data;
	struct rblk_req *req;
	struct bio *clone;
	bool has_local_ref;
	enum req_op op;

	bio = bio_split_to_limits(bio);
	if (!bio)
		return;
	op = bio_op(bio);
	if (!rblk_op_supported(op)) {
		bio->bi_status = BLK_STS_NOTSUPP;
		goto fail;
	}
	if (op != REQ_OP_READ && READ_ONCE(dev->role) != RBLK_ROLE_PRIMARY) {
		bio->bi_status = BLK_STS_IOERR;
		goto fail;
	}
	/* a write our lost disk lacks that no peer can hold: not parked for quorum */
	if (op != REQ_OP_READ && test_bit(RBLK_LOCAL_REF_KILLED, &dev->local_flags) &&
	    rblk_lost_disk_state(dev, true) == RBLK_LOST_DISK_FAIL) {
		bio->bi_status = BLK_STS_IOERR;
		goto fail;
	}
	if (op != REQ_OP_READ) {
		int ret = rblk_quorum_admit(dev, bio);

		if (ret > 0)
			return;		/* parked until quorum returns */
		if (ret < 0) {
			bio->bi_status = BLK_STS_IOERR;
			goto fail;
		}
	}
	has_local_ref = percpu_ref_tryget_live(&dev->local_ref);
	/*
	 * Without a disk, reads go to the peers (rblk_req_read()), and so do
	 * the writes of a primary whose disk failed, if a peer can hold them.
	 */
	if (!has_local_ref && op != REQ_OP_READ &&
	    rblk_lost_disk_state(dev, true) == RBLK_LOST_DISK_FAIL) {
		bio->bi_status = BLK_STS_IOERR;
		goto fail;
	}

	/* without a disk the clone only carries the request, never submitted */
	clone = bio_alloc_clone(has_local_ref ? dev->backing.bdev : bio->bi_bdev, bio,
				GFP_NOIO, &rblk_bio_set);
	if (!clone) {
		if (has_local_ref)
			percpu_ref_put(&dev->local_ref);
		bio->bi_status = BLK_STS_RESOURCE;
		goto fail;
	}
	req = container_of(clone, struct rblk_req, clone);
	req->dev = dev;
	req->has_local_ref = has_local_ref;
	req->read_tried = 0;
	req->read_busy = 0;
	req->master = bio;
	atomic_set(&req->pending, 2);	/* submitter + local clone (a read: its source) */
	/* a write without a disk is not on ours: it counts no vote of ours */
	req->local_status = has_local_ref || op == REQ_OP_READ ? BLK_STS_OK : BLK_STS_IOERR;
	atomic_set(&req->peers_ok, 0);
	req->acked_nodes = 0;
	req->missed_nodes = 0;
	req->acct_start = bio_start_io_acct(bio);
	req->op_bytes = bio->bi_iter.bi_size;
	req->interval.inserted = false;
	req->needs_gen = false;
	req->reflush = false;
	clone->bi_end_io = rblk_local_endio;
	clone->bi_private = req;
	if (op != REQ_OP_READ && bio_sectors(bio)) {
		rblk_interval_set(&req->interval, bio->bi_iter.bi_sector, bio_sectors(bio));
		rblk_interval_insert(&dev->conflicts, &req->interval, false);
	}
	atomic_inc(&dev->inflight);

	/*
	 * In the activity log before it can reach any disk.  A log write
	 * cannot be waited for here (it would queue behind this very
	 * submission's bio list): such a request goes on in a work item.
	 */
	if (req->interval.inserted && has_local_ref && READ_ONCE(dev->has_md) &&
	    !rblk_al_covered(dev, bio->bi_iter.bi_sector, bio_sectors(bio))) {
		if (llist_add(&req->gen_node, &dev->al_reqs))
			queue_work(rblk_wq, &dev->al_work);
		return;
	}
	rblk_req_submit(req);
	return;

fail:
	this_cpu_inc(dev->stats->errors);
	bio_endio(bio);
}
