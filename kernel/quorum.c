// SPDX-License-Identifier: GPL-2.0
/*
 * rblk - quorum: a partition never lets two sides write.
 *
 * Every node of a resource has one vote: this node and every configured
 * peer, diskless ones (witnesses) included.  A node's partition holds the
 * votes of this node and of its connected peers, whatever their disk
 * state; it has quorum when they reach the device's policy: a majority of
 * the voters, or a fixed number (Documentation/design.rst, "Quorum").
 *
 * What quorum does:
 *  - promotion needs it (RBLK_A_IGNORE_QUORUM overrides, apart from
 *    --force);
 *  - a write on a primary is acknowledged only when this node and the
 *    peers that wrote it (plus connected witnesses) reach quorum; else it
 *    is held (on-no-quorum suspend-io) until quorum returns, or fails
 *    (io-error) - rblk_quorum_hold();
 *  - new writes of a primary without quorum wait in a list or fail;
 *  - a secondary data node without quorum shows its UpToDate disk
 *    Outdated: a partition with quorum may be writing without it;
 *  - a primary without quorum that meets a peer with another primary
 *    steps down: its held writes fail (they were never acknowledged), it
 *    becomes secondary and, at the next handshakes, the loser of a
 *    split-brain (rblk_quorum_step_down()).
 *
 * Locking: dev->quorum_lock (irq-safe spinlock) protects the quorum state
 * and the lists of held requests and parked bios; it nests inside nothing.
 * Under it only RCU reads of the peers (the vote count,
 * rblk_quorum_write_ok()); requests complete and bios are submitted after
 * it is dropped.
 */

#include <linux/bio.h>
#include <linux/blkdev.h>

#include "rblk_int.h"

/**
 * rblk_quorum_needed() - votes a partition needs
 * @policy: RBLK_QUORUM_OFF, RBLK_QUORUM_MAJORITY or a number of votes
 * @voters: this node and every configured peer (>= 1)
 *
 * Context: any.
 * Return: 0 when quorum is off; voters / 2 + 1 for a majority; else
 * @policy itself (a number above @voters can never be reached).
 */
u32 rblk_quorum_needed(u32 policy, u32 voters)
{
	if (policy == RBLK_QUORUM_OFF)
		return 0;
	if (policy == RBLK_QUORUM_MAJORITY)
		return voters / 2 + 1;
	return policy;
}

/**
 * rblk_quorum_policy_valid() - is a RBLK_A_QUORUM value acceptable
 * @policy: the value
 *
 * Context: any.
 * Return: true for off, majority and 1..RBLK_MAX_PEERS.
 */
bool rblk_quorum_policy_valid(u32 policy)
{
	return policy == RBLK_QUORUM_OFF || policy == RBLK_QUORUM_MAJORITY ||
	       policy <= RBLK_MAX_PEERS;
}

static bool rblk_quorum_peer_connected(struct rblk_peer *peer)
{
	return rcu_access_pointer(peer->conn) &&
	       READ_ONCE(peer->conn_state) == RBLK_CONN_CONNECTED;
}

/*
 * Votes of the connected peers: every peer with an established
 * connection; @witnesses counts those whose disk is Diskless.  Under RCU.
 */
static u32 rblk_quorum_peer_votes(struct rblk_device *dev, u32 *witnesses)
{
	u32 votes = 0, w = 0;
	unsigned int i;

	rcu_read_lock();
	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_peer *peer = rcu_dereference(dev->peers[i]);

		if (!peer || !rblk_quorum_peer_connected(peer))
			continue;
		votes++;
		if (peer->cfg.witness)
			w++;
	}
	rcu_read_unlock();
	if (witnesses)
		*witnesses = w;
	return votes;
}

/*
 * A write some peers missed: the votes of the nodes that hold it and know
 * who lacks it.  Under RCU.
 */
static u32 rblk_quorum_missed_votes(struct rblk_req *req, u32 needed)
{
	struct rblk_device *dev = req->dev;
	unsigned long acked = READ_ONCE(req->acked_nodes);
	unsigned long missed = READ_ONCE(req->missed_nodes);
	unsigned long behind = missed & READ_ONCE(dev->peers_missed_writes);
	u32 votes = !req->local_status;
	unsigned int i;

	for (i = 0; i < RBLK_MAX_PEERS && votes < needed; i++) {
		struct rblk_peer *peer = rcu_dereference(dev->peers[i]);
		bool connected;

		if (!peer)
			continue;
		connected = rblk_quorum_peer_connected(peer);
		/*
		 * It wrote it, or is a witness, or missed it and resynced since
		 * (it holds it now); and it knows who still lacks it.
		 */
		if ((test_bit(i, &acked) || (connected && peer->cfg.witness) ||
		     (connected && test_bit(i, &missed) && !test_bit(i, &behind) &&
		      READ_ONCE(peer->repl_state) == RBLK_REPL_ESTABLISHED)) &&
		    !(behind & ~BIT(i) & ~(unsigned long)READ_ONCE(peer->behind_acked)))
			votes++;
	}
	return votes;
}

/**
 * rblk_quorum_write_ok() - may a write be acknowledged
 * @req: a write (with or without data), flush, discard or write-zeroes
 *	whose every leg has completed
 *
 * Its votes: this node if its disk wrote it, every peer that wrote it
 * (whatever its disk state: a sync target holds the write, and no node
 * promotes without UpToDate data), and every connected witness.  When
 * peers missed the write, a peer's vote counts only once it has
 * acknowledged knowing them as behind (RBLK_P_BEHIND_ACK): otherwise a
 * partition of the nodes that missed it and that peer could promote one
 * of them and lose the write.  A peer that missed the write and has
 * resynced since counts too.
 *
 * Context: any.
 * Return: true with quorum off, or when those votes reach quorum.
 */
bool rblk_quorum_write_ok(struct rblk_req *req)
{
	struct rblk_device *dev = req->dev;
	u32 needed = READ_ONCE(dev->quorum_needed);
	u32 votes, witnesses;

	/* a lost peer is being fenced: nothing is acknowledged meanwhile */
	if (unlikely(READ_ONCE(dev->fence_suspend)))
		return false;
	if (!needed)
		return true;
	if (READ_ONCE(req->missed_nodes)) {
		rcu_read_lock();
		votes = rblk_quorum_missed_votes(req, needed);
		rcu_read_unlock();
		return votes >= needed;
	}
	votes = !req->local_status + hweight_long(READ_ONCE(req->acked_nodes));
	if (votes >= needed)
		return true;
	rblk_quorum_peer_votes(dev, &witnesses);
	return votes + witnesses >= needed;
}

/**
 * rblk_quorum_tell_behind() - a primary tells its peers who is behind
 * @dev: device
 *
 * Sends RBLK_P_BEHIND with the nodes that miss our writes
 * (dev->peers_missed_writes, and dev->peers_behind from the time we were
 * secondary) to every connected peer that has not been
 * sent that mask on its current connection.  A secondary sends nothing.
 *
 * Context: process context, may sleep (GFP_NOIO).
 */
void rblk_quorum_tell_behind(struct rblk_device *dev)
{
	unsigned int i;
	u32 mask;
	int ret;

	if (READ_ONCE(dev->role) != RBLK_ROLE_PRIMARY)
		return;
	/* and those a former primary named, until they catch up with us */
	mask = READ_ONCE(dev->peers_missed_writes) | READ_ONCE(dev->peers_behind);
	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_p_behind p = { .nodes_behind = cpu_to_be32(mask & ~BIT(i)) };
		struct rblk_peer *peer;
		struct rblk_conn *conn;
		bool send;

		conn = rblk_node_conn_get(dev, i, &peer);
		if (!conn)
			continue;
		if (!(conn->features & RBLK_FEAT_BEHIND)) {
			rblk_conn_put(conn);
			continue;
		}
		spin_lock_bh(&peer->lock);
		send = !peer->behind_sent_valid || peer->behind_sent != (mask & ~BIT(i));
		peer->behind_sent = mask & ~BIT(i);
		peer->behind_sent_valid = true;
		spin_unlock_bh(&peer->lock);
		/* GFP_NOIO: held writes of this device may wait for this */
		ret = 0;
		if (send)
			ret = rblk_conn_queue_ctl(conn, RBLK_P_BEHIND, 0, &p, sizeof(p), GFP_NOIO);
		if (ret)
			rblk_conn_fail(conn, ret, "cannot tell the peer who is behind");
		rblk_conn_put(conn);
	}
}

/**
 * rblk_quorum_behind_received() - our primary told us who is behind
 * @peer: the sender
 * @nodes_behind: bit per node id (RBLK_P_BEHIND)
 *
 * From the peer we follow as primary: the nodes it names (but this node
 * and the sender) are recorded in dev->peers_behind, replacing what it
 * said before; a newly named node that is connected is told that its
 * disk is Outdated (RBLK_P_OUTDATE), and a later promotion request of
 * its is refused (rblk_peer_role_req_check()).  From any other peer (a
 * race with its demotion) nothing is recorded.
 *
 * Context: io_work (process context; GFP_NOIO).
 * Return: the mask recorded, for RBLK_P_BEHIND_ACK.
 */
u32 rblk_quorum_behind_received(struct rblk_peer *peer, u32 nodes_behind)
{
	struct rblk_device *dev = peer->dev;
	unsigned long changed, newly;
	unsigned int i;

	nodes_behind &= ~(BIT(peer->cfg.node_id) | BIT(dev->node_id));
	spin_lock(&dev->state_lock);
	if (dev->role == RBLK_ROLE_PRIMARY || dev->primary_peer != peer->cfg.node_id) {
		spin_unlock(&dev->state_lock);
		return 0;
	}
	changed = nodes_behind ^ READ_ONCE(dev->peers_behind);
	newly = nodes_behind & changed;
	WRITE_ONCE(dev->peers_behind, nodes_behind);
	spin_unlock(&dev->state_lock);

	for_each_set_bit(i, &changed, RBLK_MAX_PEERS) {
		struct rblk_peer *other;
		struct rblk_conn *conn;

		conn = rblk_node_conn_get(dev, i, &other);
		if (!conn)
			continue;
		/* show its disk as judged by what we know now */
		rblk_peer_set_claimed_disk(other, READ_ONCE(other->peer_disk_claimed));
		if (!test_bit(i, &newly)) {
			rblk_conn_put(conn);
			continue;
		}
		pr_info("%s: peer %u: behind primary %u: outdated\n",
			dev->disk->disk_name, i, peer->cfg.node_id);
		if (!(conn->features & RBLK_FEAT_OUTDATE) ||
		    rblk_conn_queue_ctl(conn, RBLK_P_OUTDATE, 0, NULL, 0, GFP_NOIO))
			rblk_conn_fail(conn, -ESTALE, "cannot tell the peer it missed writes");
		rblk_conn_put(conn);
	}
	return nodes_behind;
}

/**
 * rblk_quorum_claim_seen() - should a peer named behind be compared again
 * @peer: the peer whose RBLK_P_STATE carried @claimed
 * @claimed: the disk state it announced
 *
 * A former primary's record that @peer is behind (dev->peers_behind) is
 * kept after that primary stepped down.  A peer in it that announced
 * Outdated or Inconsistent and now announces UpToDate may have caught up
 * through another node, or may have been declared UpToDate by a node as
 * stale as itself: its claim proves nothing.  Its generation UUIDs do: a
 * write it missed started a new generation on the writer.  So a data node
 * (one with metadata) that follows no primary and is none compares
 * generations with it again; the handshake drops it from the record only
 * when both hold the same generation (rblk_sync_apply()), and resyncs it
 * otherwise.  A witness, without generations, keeps the record.
 *
 * Context: io_work (takes dev->state_lock).
 * Return: true when the caller should fail the connection with -EAGAIN.
 */
bool rblk_quorum_claim_seen(struct rblk_peer *peer, enum rblk_disk_state claimed)
{
	struct rblk_device *dev = peer->dev;
	enum rblk_disk_state before;
	unsigned long flags;
	bool compare;

	spin_lock_irqsave(&peer->lock, flags);
	before = peer->peer_disk_claimed;
	spin_unlock_irqrestore(&peer->lock, flags);
	if (claimed != RBLK_DISK_UP_TO_DATE ||
	    (before != RBLK_DISK_OUTDATED && before != RBLK_DISK_INCONSISTENT) ||
	    !READ_ONCE(dev->has_md) || !test_bit(peer->cfg.node_id, &dev->peers_behind))
		return false;
	spin_lock(&dev->state_lock);
	compare = dev->role != RBLK_ROLE_PRIMARY && !dev->promoting &&
		  dev->primary_peer == RBLK_NO_PEER;
	spin_unlock(&dev->state_lock);
	return compare;
}

/**
 * rblk_quorum_behind_acked() - a peer acknowledged who is behind
 * @peer: the peer
 * @nodes_behind: the mask it recorded (RBLK_P_BEHIND_ACK)
 *
 * Only what we sent on this connection counts (an answer we did not ask
 * for adds nothing).  Writes held for want of its vote are looked at
 * again.
 *
 * Context: any.
 */
void rblk_quorum_behind_acked(struct rblk_peer *peer, u32 nodes_behind)
{
	spin_lock_bh(&peer->lock);
	WRITE_ONCE(peer->behind_acked,
		   peer->behind_sent_valid ? nodes_behind & peer->behind_sent : 0);
	spin_unlock_bh(&peer->lock);
	mod_delayed_work(rblk_wq, &peer->dev->quorum_work, 0);
}

/**
 * rblk_quorum_hold() - hold or fail a write that lacks quorum
 * @req: the write (rblk_quorum_write_ok() said no)
 *
 * suspend-io: the write waits on dev->quorum_held until its votes reach
 * quorum (then it completes) or the node stops being primary (then it
 * fails).  io-error: the same while the partition has quorum (the votes
 * it lacks are acknowledgements on their way) or a lost peer is being
 * fenced, else false and the caller fails the write.  A node that is not
 * primary (any more) holds nothing: false.
 *
 * Context: any.
 * Return: true if held (the caller must not complete it).
 */
bool rblk_quorum_hold(struct rblk_req *req)
{
	struct rblk_device *dev = req->dev;
	unsigned long flags;
	bool held = false;

	spin_lock_irqsave(&dev->quorum_lock, flags);
	if ((dev->on_no_quorum == RBLK_ON_NO_QUORUM_SUSPEND_IO || dev->has_quorum ||
	     dev->fence_suspend) && READ_ONCE(dev->role) == RBLK_ROLE_PRIMARY) {
		list_add_tail(&req->held, &dev->quorum_held);
		dev->quorum_held_count++;
		held = true;
	}
	spin_unlock_irqrestore(&dev->quorum_lock, flags);
	/* quorum may be back, or the role gone, already: let the work look */
	if (held)
		mod_delayed_work(rblk_wq, &dev->quorum_work, 0);
	return held;
}

/**
 * rblk_quorum_admit() - may a new write of a primary go on now
 * @dev: device
 * @bio: the write (after splitting)
 *
 * Context: submitter's context.
 * Return: 0 to go on; 1 when @bio was parked (suspend-io without quorum,
 * or a lost peer being fenced: it is submitted again when that ends, or
 * failed at a demotion); -EIO when it must fail (io-error, no quorum).
 */
int rblk_quorum_admit(struct rblk_device *dev, struct bio *bio)
{
	unsigned long flags;
	int ret = 0;

	if (likely(READ_ONCE(dev->has_quorum) && !READ_ONCE(dev->fence_suspend)))
		return 0;
	spin_lock_irqsave(&dev->quorum_lock, flags);
	if (!dev->has_quorum || dev->fence_suspend) {
		/* demoted meanwhile (its release ran): a secondary takes no writes */
		if (READ_ONCE(dev->role) != RBLK_ROLE_PRIMARY ||
		    (dev->on_no_quorum == RBLK_ON_NO_QUORUM_IO_ERROR && !dev->fence_suspend)) {
			ret = -EIO;
		} else {
			bio_list_add(&dev->quorum_parked, bio);
			dev->quorum_held_count++;
			ret = 1;
		}
	}
	spin_unlock_irqrestore(&dev->quorum_lock, flags);
	/* quorum may be back already: let the work look */
	if (ret > 0)
		mod_delayed_work(rblk_wq, &dev->quorum_work, 0);
	return ret;
}

/**
 * rblk_quorum_suspended() - why a device holds writes
 * @dev: device, dev->quorum_lock held
 *
 * Context: any, dev->quorum_lock held.
 * Return: RBLK_SUSPEND_FENCING while writes wait for a fence-peer
 * handler; else RBLK_SUSPEND_NO_QUORUM while writes are held or parked;
 * else RBLK_SUSPEND_NONE.
 */
enum rblk_suspend_reason rblk_quorum_suspended(struct rblk_device *dev)
{
	lockdep_assert_held(&dev->quorum_lock);
	if (dev->fence_suspend)
		return RBLK_SUSPEND_FENCING;
	return dev->quorum_held_count ? RBLK_SUSPEND_NO_QUORUM : RBLK_SUSPEND_NONE;
}

/*
 * Take the held requests and parked bios.  With @ok the requests whose
 * votes now reach quorum complete and the bios are submitted again (the
 * other requests stay held); without, all of both fail.
 */
static void rblk_quorum_release(struct rblk_device *dev, bool ok)
{
	struct rblk_req *req, *tmp;
	struct bio_list bios;
	LIST_HEAD(held);
	struct bio *bio;
	bool later = false;

	spin_lock_irq(&dev->quorum_lock);
	if (ok) {
		list_for_each_entry_safe(req, tmp, &dev->quorum_held, held) {
			if (!rblk_quorum_write_ok(req)) {
				/* sent again from dev->reflush_work */
				later |= rblk_req_empty_flush(req);
				continue;
			}
			list_move_tail(&req->held, &held);
			dev->quorum_held_count--;
		}
	} else {
		list_splice_init(&dev->quorum_held, &held);
		dev->quorum_held_count -= list_count_nodes(&held);
	}
	bios = dev->quorum_parked;
	bio_list_init(&dev->quorum_parked);
	dev->quorum_held_count -= bio_list_size(&bios);
	spin_unlock_irq(&dev->quorum_lock);

	list_for_each_entry_safe(req, tmp, &held, held) {
		list_del(&req->held);
		rblk_req_complete(req, ok ? BLK_STS_OK : BLK_STS_IOERR);
	}
	if (later)
		queue_delayed_work(rblk_wq, &dev->reflush_work,
				   msecs_to_jiffies(RBLK_QUORUM_REFLUSH_MS));
	while ((bio = bio_list_pop(&bios))) {
		if (ok) {
			submit_bio_noacct(bio);
		} else {
			bio->bi_status = BLK_STS_IOERR;
			bio_endio(bio);
		}
	}
}

/**
 * rblk_quorum_reflush_work() - send held empty flushes to the peers again
 * @work: dev->reflush_work
 *
 * An empty flush has no blocks that a resync brings to the peers that
 * lost its legs with their connections, so its votes would never grow:
 * with quorum back, each held one that lacks votes is sent again
 * (rblk_req_reflush()), and held again if it still lacks them.  Runs in
 * its own work item, outside every connection's work and dev->mutex: a
 * leg may wait for a slot of a connection that only its own work tears
 * down.  Queued by rblk_quorum_release() RBLK_QUORUM_REFLUSH_MS after it
 * found such a flush.
 *
 * Context: workqueue, may sleep.
 */
void rblk_quorum_reflush_work(struct work_struct *work)
{
	struct rblk_device *dev = container_of(to_delayed_work(work), struct rblk_device,
					       reflush_work);
	struct rblk_req *req, *tmp;
	LIST_HEAD(todo);

	spin_lock_irq(&dev->quorum_lock);
	if (dev->has_quorum && !dev->fence_suspend &&
	    READ_ONCE(dev->role) == RBLK_ROLE_PRIMARY) {
		list_for_each_entry_safe(req, tmp, &dev->quorum_held, held) {
			if (!rblk_req_empty_flush(req) || rblk_quorum_write_ok(req))
				continue;
			list_move_tail(&req->held, &todo);
			dev->quorum_held_count--;
		}
	}
	spin_unlock_irq(&dev->quorum_lock);
	list_for_each_entry_safe(req, tmp, &todo, held) {
		list_del(&req->held);
		rblk_req_reflush(req);
	}
}

/**
 * rblk_quorum_update() - count the votes again and act on a change
 * @dev: device
 *
 * Called whenever a connection is established or lost, a peer is added or
 * removed, the policy or the role changes, and when a primary's disk fails
 * (it then has no vote of its own: it holds none of its writes).  On
 * quorum gained: a primary's
 * held writes complete and parked ones go on.  On quorum lost: a
 * secondary's UpToDate disk becomes Outdated; a primary
 * with on-no-quorum io-error fails what it held.  Each change is an
 * RBLK_EVENT_QUORUM_CHANGED.
 *
 * Context: process context; takes dev->quorum_lock and dev->state_lock.
 */
void rblk_quorum_update(struct rblk_device *dev)
{
	u32 peers, votes, needed, policy;
	enum rblk_suspend_reason susp;
	bool has, changed, primary, own;
	enum rblk_disk_state disk;

	/* before held writes are counted: their votes may wait for it */
	rblk_quorum_tell_behind(dev);
	disk = READ_ONCE(dev->disk_state);
	/* a primary whose disk failed holds none of its writes: no vote of its own */
	own = READ_ONCE(dev->role) != RBLK_ROLE_PRIMARY ||
	      (disk != RBLK_DISK_FAILED && disk != RBLK_DISK_DISKLESS);
	/* counted under the lock: the last of concurrent updates stores the newest count */
	spin_lock_irq(&dev->quorum_lock);
	peers = READ_ONCE(dev->nr_peers);
	votes = own + rblk_quorum_peer_votes(dev, NULL);
	policy = dev->quorum;
	needed = rblk_quorum_needed(policy, 1 + peers);
	has = !needed || votes >= needed;
	changed = has != dev->has_quorum || votes != dev->quorum_votes ||
		  needed != dev->quorum_needed;
	WRITE_ONCE(dev->quorum_needed, needed);
	dev->quorum_votes = votes;
	dev->quorum_voters = 1 + peers;
	WRITE_ONCE(dev->has_quorum, has);
	susp = rblk_quorum_suspended(dev);
	spin_unlock_irq(&dev->quorum_lock);

	spin_lock(&dev->state_lock);
	primary = dev->role == RBLK_ROLE_PRIMARY;
	disk = dev->disk_state;
	spin_unlock(&dev->state_lock);

	if (!primary) {
		/* nothing is held for a secondary: fail what a demotion left */
		rblk_fence_clear(dev, ~0UL);
		rblk_quorum_release(dev, false);
	} else if (READ_ONCE(dev->fence_suspend)) {
		/* held until the fencing decides (rblk_fence_work()) */
	} else if (has) {
		rblk_quorum_release(dev, true);
	} else if (READ_ONCE(dev->on_no_quorum) == RBLK_ON_NO_QUORUM_IO_ERROR) {
		rblk_quorum_release(dev, false);
	}
	/*
	 * Only an UpToDate disk: a Consistent one is not promoted without
	 * --force anyway, and two Consistent nodes with the same generation
	 * that regain quorum together are as new as any (a partition that
	 * wrote without them started a newer one).
	 */
	if (!has && !primary && disk == RBLK_DISK_UP_TO_DATE &&
	    rblk_change_disk_state(dev, disk, RBLK_DISK_OUTDATED))
		pr_info("%s: no quorum (%u of %u votes, %u needed): disk outdated\n",
			dev->disk->disk_name, votes, 1 + peers, needed);
	if (!changed)
		return;
	if (has)
		pr_info("%s: quorum: %u of %u votes, %u needed\n", dev->disk->disk_name,
			votes, 1 + peers, needed);
	else
		pr_warn("%s: quorum lost: %u of %u votes, %u needed%s\n", dev->disk->disk_name,
			votes, 1 + peers, needed,
			primary ? (READ_ONCE(dev->on_no_quorum) == RBLK_ON_NO_QUORUM_IO_ERROR ?
				   ": writes fail" : ": writes suspended") : "");
	spin_lock_irq(&dev->quorum_lock);
	susp = rblk_quorum_suspended(dev);
	spin_unlock_irq(&dev->quorum_lock);
	rblk_notify_quorum(dev, has, votes, needed, susp);
}

/**
 * rblk_quorum_work() - dev->quorum_work: rblk_quorum_update(), and a
 *	step-down or an auto-demotion when one was asked for
 * @work: dev->quorum_work
 *
 * Context: workqueue.
 */
void rblk_quorum_work(struct work_struct *work)
{
	struct rblk_device *dev = container_of(to_delayed_work(work), struct rblk_device,
					       quorum_work);

	if (test_bit(RBLK_QUORUM_STEP_DOWN, &dev->local_flags) ||
	    test_bit(RBLK_AUTO_DEMOTE, &dev->local_flags)) {
		/* management calls cancel this work holding the mutex: only try */
		if (!mutex_trylock(&dev->mutex)) {
			queue_delayed_work(rblk_wq, &dev->quorum_work, msecs_to_jiffies(10));
			return;
		}
		if (test_and_clear_bit(RBLK_QUORUM_STEP_DOWN, &dev->local_flags))
			rblk_quorum_step_down(dev);
		if (test_and_clear_bit(RBLK_AUTO_DEMOTE, &dev->local_flags))
			rblk_auto_demote(dev);
		mutex_unlock(&dev->mutex);
	}
	rblk_quorum_update(dev);
}

/**
 * rblk_quorum_meets_primary() - our handshake met another primary
 * @dev: device
 *
 * A primary without quorum whose connection attempt was refused because
 * the peer is (or follows) another primary steps down: the other side
 * has quorum, or had it when it promoted.  Queues the step-down.
 *
 * Context: any.
 */
void rblk_quorum_meets_primary(struct rblk_device *dev)
{
	if (!READ_ONCE(dev->quorum_needed) || READ_ONCE(dev->has_quorum) ||
	    READ_ONCE(dev->role) != RBLK_ROLE_PRIMARY)
		return;
	set_bit(RBLK_QUORUM_STEP_DOWN, &dev->local_flags);
	mod_delayed_work(rblk_wq, &dev->quorum_work, 0);
}

/**
 * rblk_quorum_step_down() - a primary without quorum becomes secondary
 * @dev: device
 *
 * Its held and parked writes fail (none was acknowledged), its disk shows
 * Outdated, and its next handshakes make it the sync target of the side
 * that wrote meanwhile (as connect --discard-my-data would).  Done even
 * while /dev/rblkN is open: the writes of its opener fail from now on.
 *
 * Context: process context, dev->mutex held.
 */
void rblk_quorum_step_down(struct rblk_device *dev)
{
	bool stepped = false;

	lockdep_assert_held(&dev->mutex);
	spin_lock(&dev->state_lock);
	if (dev->role == RBLK_ROLE_PRIMARY && !READ_ONCE(dev->has_quorum) &&
	    READ_ONCE(dev->quorum_needed) && !dev->deleting) {
		dev->role = RBLK_ROLE_SECONDARY;
		dev->state_gen++;
		dev->quorum_stepped_down = true;
		stepped = true;
	}
	spin_unlock(&dev->state_lock);
	if (stepped) {
		pr_warn("%s: no quorum and another primary: stepping down to secondary\n",
			dev->disk->disk_name);
		rblk_quorum_release(dev, false);
		rblk_role_changed(dev, RBLK_ROLE_SECONDARY);
	}
}

/**
 * rblk_device_set_options() - set the quorum, auto-promote and fencing
 *	policy of a device, its shared secret and its data digest
 * @minor: device
 * @opts: the options; a field at its "keep" value keeps the device's
 * @extack: error message
 *
 * A new secret (or none) and a new data digest apply from the next
 * handshake on; the old secret is wiped.
 *
 * Context: process context, may sleep.
 * Return: 0; -ENODEV; -EINVAL for a value out of range, a handler path
 * that is not absolute, a fencing policy other than off without a
 * handler, a secret of 1..RBLK_AUTH_SECRET_MIN_BYTES - 1 or more than
 * RBLK_AUTH_SECRET_MAX_BYTES bytes, a data digest that is not an enum
 * rblk_data_digest or a read balancing that is not an enum
 * rblk_read_balancing (nothing is changed then).
 */
int rblk_device_set_options(u32 minor, const struct rblk_device_options *opts,
			    struct netlink_ext_ack *extack)
{
	const char *handler = opts->fence_handler;
	struct rblk_device *dev;
	bool no_handler;
	int fencing;

	if (opts->quorum != RBLK_QUORUM_KEEP && !rblk_quorum_policy_valid(opts->quorum)) {
		NL_SET_ERR_MSG(extack, "quorum: off, majority or 1..32 votes");
		return -EINVAL;
	}
	if (opts->on_no_quorum >= __RBLK_ON_NO_QUORUM_MAX) {
		NL_SET_ERR_MSG(extack, "on-no-quorum: suspend-io or io-error");
		return -EINVAL;
	}
	if (opts->fencing >= __RBLK_FENCING_MAX || opts->auto_promote > 1) {
		NL_SET_ERR_MSG(extack, "fencing or auto-promote out of range");
		return -EINVAL;
	}
	if (handler && handler[0] &&
	    (handler[0] != '/' || strlen(handler) >= RBLK_PATH_MAX_BYTES)) {
		NL_SET_ERR_MSG(extack, "fence handler: an absolute path");
		return -EINVAL;
	}
	if (opts->data_digest >= __RBLK_DATA_DIGEST_MAX) {
		NL_SET_ERR_MSG(extack, "data digest: none (0) or crc32c (1)");
		return -EINVAL;
	}
	if (opts->read_balancing >= __RBLK_READ_BALANCING_MAX) {
		NL_SET_ERR_MSG(extack, "read balancing: 0..3 (enum rblk_read_balancing)");
		return -EINVAL;
	}
	if (opts->auth_secret && opts->auth_secret_len &&
	    (opts->auth_secret_len < RBLK_AUTH_SECRET_MIN_BYTES ||
	     opts->auth_secret_len > RBLK_AUTH_SECRET_MAX_BYTES)) {
		NL_SET_ERR_MSG(extack, "shared secret: 16..128 bytes, or empty for none");
		return -EINVAL;
	}
	dev = rblk_device_lock(minor, extack);
	if (!dev)
		return -ENODEV;
	spin_lock_irq(&dev->quorum_lock);
	fencing = opts->fencing >= 0 ? opts->fencing : dev->fencing;
	no_handler = handler ? !handler[0] : !dev->fence_handler[0];
	if (fencing != RBLK_FENCING_OFF && no_handler) {
		spin_unlock_irq(&dev->quorum_lock);
		rblk_device_unlock(dev);
		NL_SET_ERR_MSG(extack, "fencing needs a fence handler");
		return -EINVAL;
	}
	if (opts->quorum != RBLK_QUORUM_KEEP)
		dev->quorum = opts->quorum;
	if (opts->on_no_quorum >= 0)
		WRITE_ONCE(dev->on_no_quorum, opts->on_no_quorum);
	dev->fencing = fencing;
	if (handler)
		strscpy(dev->fence_handler, handler, sizeof(dev->fence_handler));
	/* writes that wait for a fencing that is off now go on (below) */
	if (fencing == RBLK_FENCING_OFF)
		WRITE_ONCE(dev->fence_suspend, 0);
	spin_unlock_irq(&dev->quorum_lock);
	if (opts->auto_promote >= 0) {
		spin_lock(&dev->state_lock);
		dev->auto_promote = opts->auto_promote;
		spin_unlock(&dev->state_lock);
	}
	/* for the next handshakes; established connections stay */
	if (opts->data_digest >= 0) {
		spin_lock(&dev->state_lock);
		dev->data_digest = opts->data_digest;
		spin_unlock(&dev->state_lock);
	}
	/* from the next read on */
	if (opts->read_balancing >= 0)
		WRITE_ONCE(dev->read_balancing, opts->read_balancing);
	if (opts->auth_secret) {
		spin_lock(&dev->state_lock);
		memzero_explicit(dev->auth_secret, sizeof(dev->auth_secret));
		memcpy(dev->auth_secret, opts->auth_secret, opts->auth_secret_len);
		dev->auth_secret_len = opts->auth_secret_len;
		spin_unlock(&dev->state_lock);
	}
	rblk_quorum_update(dev);
	rblk_device_unlock(dev);
	return 0;
}
