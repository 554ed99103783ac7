// SPDX-License-Identifier: GPL-2.0
/*
 * rblk - the activity log: which 4 MiB extents of the data may have writes
 * in flight, on disk, so that after a crash only those extents have to be
 * resynced, not the whole device.
 *
 * An md-style write-intent log, lazily cleared: before the first write to
 * an extent that is not marked, the extent's bit is set in the activity
 * log area and that 4 KiB block is written (FUA); the write then goes on.
 * Later writes to a marked extent cost nothing.  A work item clears
 * extents that saw no write for RBLK_AL_IDLE_MS and have none in flight,
 * after writing back the bitmap blocks that cover them (bits set in memory
 * for peers that missed writes there).  So after a crash, the on-disk
 * bitmaps plus every extent marked in the activity log cover every block
 * that may differ between this node and a peer (rblk_al_recover()).
 *
 * Cost: one metadata write for the first write to an idle extent, plus
 * one per slot and one for the log when an extent is cleared; nothing for
 * writes to busy extents.  The figures are in Documentation/design.rst.
 *
 * Locking: dev->md.al_lock serialises writes of the log area and the
 * clearing; the marking test is lock-free (see rblk_al_begin()).
 */

#include <linux/bitops.h>
#include <linux/vmalloc.h>

#include "rblk_int.h"
#include "rblk_md.h"

/* Extents idle this long are cleared from the log. */
#define RBLK_AL_IDLE_MS		5000
/* 4 MiB extents: 2^13 sectors. */
#define RBLK_AL_SECTOR_SHIFT	13

static bool rblk_unflushed_holds(struct rblk_device *dev, u64 extent);

/*
 * Write the 4 KiB block of the log that holds bit @extent, with that bit
 * @set or clear, from a copy: al_ondisk shows the new bit only once it is
 * on disk (the caller updates it), so that no write relies on a log entry
 * a crash could still lose.  al_lock held.
 */
static int rblk_al_write_block(struct rblk_device *dev, u64 extent, bool set)
{
	struct rblk_md_info *info = &dev->md.info;
	u32 off = round_down(extent / 8, RBLK_MD_ALIGN_BYTES);
	u64 pos = (info->layout.md_offset_sectors << SECTOR_SHIFT) +
		  info->layout.al_offset_bytes + off;
	unsigned long *block;
	int ret;

	lockdep_assert_held(&dev->md.al_lock);
	block = kmemdup((void *)dev->md.al_ondisk + off, RBLK_MD_ALIGN_BYTES, GFP_NOIO);
	if (!block)
		return -ENOMEM;
	if (set)
		__set_bit_le(extent - (u64)off * 8, block);
	else
		__clear_bit_le(extent - (u64)off * 8, block);
	ret = rblk_md_rw(dev->md.bdev, pos, block, RBLK_MD_ALIGN_BYTES,
			 REQ_OP_WRITE | REQ_SYNC | REQ_FUA);
	kfree(block);
	atomic64_inc(&dev->md.md_writes);
	return ret;
}

/**
 * rblk_al_covered() - are the extents of a write in the log already
 * @dev: device with metadata
 * @sector: first 512-byte sector of the write
 * @nr_sectors: its 512-byte sectors, non-zero
 *
 * Marks the extents used.  The caller has inserted the write's range in
 * dev->conflicts already (see rblk_al_begin()).
 *
 * Context: any.
 * Return: true when no log write is needed for this write.
 */
bool rblk_al_covered(struct rblk_device *dev, u64 sector, u32 nr_sectors)
{
	u64 e = sector >> RBLK_AL_SECTOR_SHIFT;
	u64 last = (sector + nr_sectors - 1) >> RBLK_AL_SECTOR_SHIFT;

	smp_mb();	/* the interval insert before the bit test */
	for (; e <= last && e < dev->md.al_nr_extents; e++) {
		set_bit(e, dev->md.al_used);
		if (!test_bit_le(e, dev->md.al_ondisk))
			return false;
	}
	return true;
}

/**
 * rblk_al_begin() - make sure the extents of a write are in the log
 * @dev: device with metadata
 * @sector: first 512-byte sector of the write
 * @nr_sectors: its 512-byte sectors, non-zero
 *
 * The caller has inserted the write's range in dev->conflicts already:
 * the cleaner, which clears an extent's bit before it looks for writes in
 * flight there (and sets it back if it finds one), and this function,
 * which looks at the bit after the range is in the tree, cannot both miss
 * each other.
 *
 * Context: process context, sleeps for a log write; never from
 * ->submit_bio() (the log write would wait behind the caller's own bio
 * list): rblk_req_al_work() calls it.
 * Return: 0, or the write error (the write must then fail).
 */
int rblk_al_begin(struct rblk_device *dev, u64 sector, u32 nr_sectors)
{
	u64 e = sector >> RBLK_AL_SECTOR_SHIFT;
	u64 last = (sector + nr_sectors - 1) >> RBLK_AL_SECTOR_SHIFT;
	int ret = 0;

	smp_mb();	/* the interval insert before the bit test */
	for (; e <= last && e < dev->md.al_nr_extents; e++) {
		set_bit(e, dev->md.al_used);
		if (test_bit_le(e, dev->md.al_ondisk))
			continue;
		mutex_lock(&dev->md.al_lock);
		if (!test_bit_le(e, dev->md.al_ondisk)) {
			ret = rblk_al_write_block(dev, e, true);
			if (!ret)
				set_bit_le(e, dev->md.al_ondisk);
		}
		mutex_unlock(&dev->md.al_lock);
		if (ret)
			break;
	}
	return ret;
}

/* Write back every slot's bitmap block that covers @extent.  al_lock held. */
static int rblk_al_flush_bitmaps(struct rblk_device *dev, u64 extent)
{
	struct rblk_md_info *info = &dev->md.info;
	/* 1024 bits (128 bytes) per extent: one 4 KiB bitmap block holds it */
	u32 off = round_down((extent << (RBLK_AL_SECTOR_SHIFT - 3)) / 8, RBLK_MD_ALIGN_BYTES);
	unsigned int i;
	int ret;

	for (i = 0; i < info->layout.max_peers; i++) {
		if (info->slots[i].node_id == RBLK_MD_NO_NODE || !dev->md.bm[i].bits)
			continue;
		ret = rblk_md_bitmap_rw(dev->md.bdev, info, i, dev->md.bm[i].bits, off,
					RBLK_MD_ALIGN_BYTES, REQ_OP_WRITE | REQ_SYNC | REQ_FUA);
		atomic64_inc(&dev->md.md_writes);
		if (ret)
			return ret;
	}
	return 0;
}

void rblk_al_clean_work(struct work_struct *work)
{
	struct rblk_md *md = container_of(to_delayed_work(work), struct rblk_md, al_work);
	struct rblk_device *dev = container_of(md, struct rblk_device, md);
	u64 e;

	/* one extent at a time: a first write to an idle extent waits little */
	for (e = find_next_bit_le(md->al_ondisk, md->al_nr_extents, 0); e < md->al_nr_extents;
	     e = find_next_bit_le(md->al_ondisk, md->al_nr_extents, e + 1)) {
		bool failed = false;

		if (test_and_clear_bit(e, md->al_used))
			continue;	/* written since the last round */
		mutex_lock(&md->al_lock);
		clear_bit_le(e, md->al_ondisk);
		smp_mb__after_atomic();	/* the bit before the look for writes */
		/*
		 * No write in flight there; those that completed may still be
		 * in the disk's volatile cache: flushed before the extent
		 * leaves the log, or a power cut could lose them unlogged.
		 */
		if (rblk_conflicts_overlap(&dev->conflicts, e << RBLK_AL_SECTOR_SHIFT,
					   1U << RBLK_AL_SECTOR_SHIFT) ||
		    rblk_unflushed_holds(dev, e)) {
			/* in flight, or a peer may still lose it: stays */
			set_bit_le(e, md->al_ondisk);
		} else if (blkdev_issue_flush(dev->backing.bdev) || rblk_al_flush_bitmaps(dev, e) ||
			   rblk_al_write_block(dev, e, false)) {
			/* keep it marked: a later round tries again */
			set_bit_le(e, md->al_ondisk);
			failed = true;
		}
		mutex_unlock(&md->al_lock);
		if (failed || READ_ONCE(md->al_stop))
			break;
	}
	if (!READ_ONCE(md->al_stop))
		queue_delayed_work(rblk_wq, &md->al_work, msecs_to_jiffies(RBLK_AL_IDLE_MS));
}

/**
 * rblk_al_load() - read the log at attach and start its cleaner
 * @dev: device whose metadata was read (dev->mutex held)
 *
 * Context: process context, sleeps.
 * Return: 0, -ENOMEM or the read error.
 */
int rblk_al_load(struct rblk_device *dev)
{
	struct rblk_md *md = &dev->md;
	struct rblk_md_info *info = &md->info;
	int ret;

	md->al_nr_extents = DIV_ROUND_UP_ULL(info->layout.data_sectors,
					     1ULL << RBLK_AL_SECTOR_SHIFT);
	md->al_ondisk = vzalloc(info->layout.al_bytes);
	md->al_used = bitmap_zalloc(md->al_nr_extents, GFP_KERNEL);
	md->recv_jiffies = kvcalloc(md->al_nr_extents, sizeof(*md->recv_jiffies), GFP_KERNEL);
	if (!md->al_ondisk || !md->al_used || !md->recv_jiffies) {
		rblk_al_free(dev);
		return -ENOMEM;
	}
	ret = rblk_md_rw(md->bdev, (info->layout.md_offset_sectors << SECTOR_SHIFT) +
			 info->layout.al_offset_bytes, md->al_ondisk, info->layout.al_bytes,
			 REQ_OP_READ);
	if (ret) {
		rblk_al_free(dev);
		return ret;
	}
	md->al_stop = false;
	queue_delayed_work(rblk_wq, &md->al_work, msecs_to_jiffies(RBLK_AL_IDLE_MS));
	return 0;
}

/**
 * rblk_al_recover() - after a crash: every logged extent is out of sync
 * @dev: device whose log and bitmaps were loaded
 *
 * Every used slot gets the bits of every extent marked in the log: the
 * writes in flight there may have reached this disk and not the peer, or
 * the peer and not this disk.
 *
 * Context: process context.
 * Return: the number of extents marked.
 */
u64 rblk_al_recover(struct rblk_device *dev)
{
	struct rblk_md *md = &dev->md;
	u64 e, n = 0;
	unsigned int i;

	for (e = find_next_bit_le(md->al_ondisk, md->al_nr_extents, 0); e < md->al_nr_extents;
	     e = find_next_bit_le(md->al_ondisk, md->al_nr_extents, e + 1)) {
		for (i = 0; i < md->info.layout.max_peers; i++)
			if (md->info.slots[i].node_id != RBLK_MD_NO_NODE)
				rblk_bm_mark(dev, i, e << RBLK_AL_SECTOR_SHIFT,
					     1U << RBLK_AL_SECTOR_SHIFT);
		n++;
	}
	return n;
}

/**
 * rblk_al_stop() - stop the cleaner (detach)
 * @dev: device; no write in flight any more
 *
 * Context: process context, sleeps.
 */
void rblk_al_stop(struct rblk_device *dev)
{
	WRITE_ONCE(dev->md.al_stop, true);
	cancel_delayed_work_sync(&dev->md.al_work);
}

/**
 * rblk_al_free() - free the log's memory
 * @dev: device, cleaner stopped
 *
 * Context: process context.
 */
void rblk_al_free(struct rblk_device *dev)
{
	vfree(dev->md.al_ondisk);
	dev->md.al_ondisk = NULL;
	bitmap_free(dev->md.al_used);
	dev->md.al_used = NULL;
	kvfree(dev->md.recv_jiffies);
	dev->md.recv_jiffies = NULL;
}

/**
 * rblk_al_note_received() - a write from our primary reaches our disk
 * @dev: device with metadata, dev->local_ref held
 * @sector: first 512-byte sector
 * @nr_sectors: its 512-byte sectors, non-zero
 *
 * Records, per activity log extent and in memory only, when the last
 * write of our primary arrived there: the regions in which, should the
 * primary be lost, the other secondaries may hold its last writes
 * differently (rblk_al_reconcile_marks()).
 *
 * Context: any.
 */
void rblk_al_note_received(struct rblk_device *dev, u64 sector, u32 nr_sectors)
{
	u64 e = sector >> RBLK_AL_SECTOR_SHIFT;
	u64 last = (sector + nr_sectors - 1) >> RBLK_AL_SECTOR_SHIFT;
	unsigned long now = jiffies;

	for (; e <= last && e < dev->md.al_nr_extents; e++)
		if (READ_ONCE(dev->md.recv_jiffies[e]) != now)
			WRITE_ONCE(dev->md.recv_jiffies[e], now);
}

/**
 * rblk_al_reconcile_marks() - our primary is lost: mark its last regions
 * @dev: device with metadata (dev->md.lock held)
 * @horizon_ms: how far back a write of the lost primary may still have
 *	been on its way to another peer, milliseconds
 * @primary: node id of the lost primary (it holds its own writes: its
 *	slot is left alone)
 *
 * Every extent that received a write of the primary within @horizon_ms
 * is marked out of sync in the bitmap slot of every other node, and
 * the slots are written back: whoever is primary next resyncs those
 * regions to the nodes that lost the same primary (design.rst,
 * "Reconciliation").
 *
 * Context: process context, sleeps (bitmap write-back).
 * Return: the number of extents marked.
 */
u64 rblk_al_reconcile_marks(struct rblk_device *dev, u32 horizon_ms, u32 primary)
{
	struct rblk_md *md = &dev->md;
	unsigned long since = jiffies - msecs_to_jiffies(horizon_ms);
	u32 slots = md->info.layout.max_peers;
	u64 e, n = 0;
	unsigned int i;

	lockdep_assert_held(&md->lock);
	for (e = 0; e < md->al_nr_extents; e++) {
		unsigned long t = READ_ONCE(md->recv_jiffies[e]);

		if (!t || time_before(t, since))
			continue;
		for (i = 0; i < slots; i++)
			if (md->info.slots[i].node_id <= RBLK_MAX_NODE_ID &&
			    md->info.slots[i].node_id != primary)
				rblk_bm_mark(dev, i, e << RBLK_AL_SECTOR_SHIFT,
					     1U << RBLK_AL_SECTOR_SHIFT);
		WRITE_ONCE(md->recv_jiffies[e], 0);
		n++;
	}
	for (i = 0; n && i < slots; i++)
		if (md->info.slots[i].node_id <= RBLK_MAX_NODE_ID &&
		    md->info.slots[i].node_id != primary)
			rblk_bm_write(dev, i);	/* a failure: fewer regions after a crash */
	return n;
}

/*
 * What a peer may hold only in its disk's volatile cache.
 *
 * A peer acknowledges DATA and TRIM once its disk completed them; a disk
 * with a volatile write cache loses such writes in a power cut until a
 * flush made them durable.  The primary counts them as written on the
 * peer, so a peer that lost power and came back would lack them with no
 * bit set anywhere, and the replicas would differ silently.  So, per
 * connection (struct rblk_unflushed), the activity log extents of the
 * writes the peer acknowledged and no flush of its covers yet:
 *
 * - a flush point is a FLUSH or a DATA with REQ_PREFLUSH.  The peer runs
 *   it after every write it acknowledged before receiving it, so once
 *   acknowledged it covers every write whose acknowledgment we had
 *   processed when we queued it (@cur then, moved to @pending);
 * - the activity log cleaner keeps an extent that is unflushed on any
 *   connected peer (rblk_al_clean_work()), so that after a crash of this
 *   node too rblk_al_recover() marks it;
 * - a connection that ends marks the extents unflushed on it out of sync
 *   for its peer and records them as a crash as primary would be: back
 *   with the same generation, the peer gets them by resync from us
 *   (rblk_unflushed_lost()).
 *
 * The cost: a spinlock per acknowledgment and per flush point; a peer
 * that lost its connection resyncs the extents written since its last
 * flush (the upper layer's flushes: a file system's commits, fsync).
 */

/**
 * rblk_unflushed_init() - start tracking a new connection's unflushed writes
 * @conn: the connection, not published yet
 *
 * Sized by the activity log of the device's metadata, if it has any;
 * without, the connection is untracked (every extent counts as unflushed
 * should metadata and writes come later).
 *
 * Context: process context, sleeps (GFP_KERNEL).
 * Return: 0 or -ENOMEM.
 */
int rblk_unflushed_init(struct rblk_conn *conn)
{
	struct rblk_device *dev = conn->peer->dev;
	struct rblk_unflushed *uf = &conn->unflushed;
	int ret = 0;

	spin_lock_init(&uf->lock);
	/* a witness is sent no writes */
	if (conn->peer->cfg.witness)
		return 0;
	if (!percpu_ref_tryget_live(&dev->local_ref)) {
		uf->untracked = true;
		return 0;
	}
	if (!READ_ONCE(dev->has_md) || !dev->md.al_nr_extents) {
		uf->untracked = true;
		goto out;
	}
	uf->nr_extents = dev->md.al_nr_extents;
	uf->cur = kvcalloc(BITS_TO_LONGS(uf->nr_extents), sizeof(long), GFP_KERNEL);
	uf->pending = kvcalloc(BITS_TO_LONGS(uf->nr_extents), sizeof(long), GFP_KERNEL);
	if (!uf->cur || !uf->pending) {
		rblk_unflushed_free(conn);
		ret = -ENOMEM;
	}
out:
	percpu_ref_put(&dev->local_ref);
	return ret;
}

/* A flush point: FLUSH, or DATA with REQ_PREFLUSH. */
static bool rblk_leg_flush_point(const struct rblk_leg *leg)
{
	return leg->command == RBLK_P_FLUSH ||
	       (leg->command == RBLK_P_DATA && (leg->req->master->bi_opf & REQ_PREFLUSH));
}

/**
 * rblk_unflushed_sent() - a request leg is about to be queued
 * @conn: its connection
 * @leg: the leg of an upper-layer request (not a resync request)
 * @id: its request id
 *
 * A flush point, when none is in flight, takes over every unflushed
 * extent whose acknowledgment was processed so far: its
 * acknowledgment clears them (rblk_unflushed_acked()).  With one in
 * flight, the extents wait for the next one.
 *
 * Context: any (takes conn->unflushed.lock).
 */
void rblk_unflushed_sent(struct rblk_conn *conn, const struct rblk_leg *leg, u64 id)
{
	struct rblk_unflushed *uf = &conn->unflushed;
	unsigned long flags;

	if (!leg->req || !rblk_leg_flush_point(leg))
		return;
	spin_lock_irqsave(&uf->lock, flags);
	if (!uf->flush_id && uf->cur && !uf->lost) {
		bitmap_or(uf->pending, uf->pending, uf->cur, uf->nr_extents);
		bitmap_zero(uf->cur, uf->nr_extents);
		uf->flush_id = id;
	}
	spin_unlock_irqrestore(&uf->lock, flags);
}

/**
 * rblk_unflushed_acked() - a request leg was acknowledged by the peer
 * @conn: its connection
 * @leg: the leg, still valid
 * @id: its request id
 * @status: the peer's answer, 0 or a negative errno
 *
 * The flush point that covers conn->unflushed.pending, written, clears
 * them; a DATA or TRIM the peer wrote, unless with REQ_FUA, adds its
 * extents to conn->unflushed.cur.  A failed write is recorded as missed
 * by the request itself.
 *
 * Context: io_work (takes conn->unflushed.lock).
 */
void rblk_unflushed_acked(struct rblk_conn *conn, const struct rblk_leg *leg, u64 id,
			  int status)
{
	struct rblk_unflushed *uf = &conn->unflushed;
	const struct rblk_req *req = leg->req;
	unsigned long flags;
	u64 e, last;

	if (!req || !uf->cur)
		return;
	spin_lock_irqsave(&uf->lock, flags);
	if (uf->lost)
		goto out;
	if (id == uf->flush_id) {
		if (!status)
			bitmap_zero(uf->pending, uf->nr_extents);
		uf->flush_id = 0;
	}
	if (status || (leg->command != RBLK_P_DATA && leg->command != RBLK_P_TRIM) ||
	    (leg->command == RBLK_P_DATA && (req->master->bi_opf & REQ_FUA)))
		goto out;
	if (!req->interval.inserted) {
		uf->untracked = true;
		goto out;
	}
	e = req->interval.start_sector >> RBLK_AL_SECTOR_SHIFT;
	last = req->interval.last_sector >> RBLK_AL_SECTOR_SHIFT;
	if (last >= uf->nr_extents) {
		uf->untracked = true;
		goto out;
	}
	for (; e <= last; e++)
		__set_bit(e, uf->cur);
out:
	spin_unlock_irqrestore(&uf->lock, flags);
}

/*
 * Does a connected peer hold writes to @extent that no flush of its
 * covers?  The cleaner asks, dev->md.al_lock held.
 */
static bool rblk_unflushed_holds(struct rblk_device *dev, u64 extent)
{
	bool holds = false;
	unsigned int i;

	for (i = 0; i <= RBLK_MAX_NODE_ID && !holds; i++) {
		struct rblk_peer *peer;
		struct rblk_conn *conn;
		struct rblk_unflushed *uf;

		conn = rblk_node_conn_get(dev, i, &peer);
		if (!conn)
			continue;
		uf = &conn->unflushed;
		spin_lock_irq(&uf->lock);
		holds = uf->untracked ||
			(extent < uf->nr_extents &&
			 (test_bit(extent, uf->cur) || test_bit(extent, uf->pending)));
		spin_unlock_irq(&uf->lock);
		rblk_conn_put(conn);
	}
	/*
	 * Not held by a connection it did not find: that one was unpublished
	 * after its marks were set (rblk_unflushed_lost()), which the caller's
	 * bitmap write-back must see.  Pairs with the smp_mb() there.
	 */
	smp_mb();
	return holds;
}

/**
 * rblk_unflushed_lost() - a connection ends: mark what its peer may lack
 * @conn: the connection, no longer receiving (io_work stopped) and still
 *	published, so that the cleaner keeps its extents until they are
 *	marked
 *
 * As primary, every extent unflushed on the peer (every extent in the log
 * when the connection was untracked) is marked out of sync in the peer's
 * bitmap slot, and recorded as a crash of ours as primary would be
 * (dev->md.attach_flags) and as regions to reconcile with the peer
 * (peer->reconcile): back with the same generation, it is resynced those
 * extents by rule R3 from us (with a generation of ours that it lacks,
 * by R5 anyway), and until then it serves no reads.  A secondary marks
 * nothing (see design.rst, "A peer's volatile write cache").  The
 * cleaner writes the bitmap blocks of a marked extent before the extent
 * leaves the log; it keeps the extent while this connection is
 * published, and the caller unpublishes it only after this returns (the
 * smp_mb() here pairs with the one in rblk_unflushed_holds()).
 *
 * Context: process context, sleeps (dev->md.lock; dev->md.al_lock when
 * untracked).
 * Return: the number of extents marked.
 */
u64 rblk_unflushed_lost(struct rblk_conn *conn)
{
	struct rblk_peer *peer = conn->peer;
	struct rblk_device *dev = peer->dev;
	struct rblk_unflushed *uf = &conn->unflushed;
	struct rblk_md *md = &dev->md;
	int slot = READ_ONCE(peer->md_slot);
	u64 e, n = 0;

	/* no flush point or acknowledgment changes the extents from now on */
	spin_lock_irq(&uf->lock);
	uf->lost = true;
	if (uf->cur)
		bitmap_or(uf->cur, uf->cur, uf->pending, uf->nr_extents);
	spin_unlock_irq(&uf->lock);
	if (peer->cfg.witness || slot < 0 || READ_ONCE(dev->role) != RBLK_ROLE_PRIMARY ||
	    !percpu_ref_tryget_live(&dev->local_ref))
		return 0;
	if (!READ_ONCE(dev->has_md) || !md->al_ondisk)
		goto out;
	/* untracked: the log as it stands, not while the cleaner flips a bit */
	if (uf->untracked)
		mutex_lock(&md->al_lock);
	for (e = 0; e < md->al_nr_extents; e++) {
		bool mark = uf->untracked ? test_bit_le(e, md->al_ondisk) :
			    e < uf->nr_extents && test_bit(e, uf->cur);

		if (!mark)
			continue;
		rblk_bm_mark(dev, slot, e << RBLK_AL_SECTOR_SHIFT, 1U << RBLK_AL_SECTOR_SHIFT);
		n++;
	}
	if (uf->untracked)
		mutex_unlock(&md->al_lock);
	if (n) {
		/*
		 * As after a crash of ours as primary: rule R3 makes us the
		 * source of the marks (the primary now, else us), also after
		 * a demotion or a clean detach, which keep RBLK_MDF_PRIMARY on
		 * disk until a resync accounts for it.  And the peer is
		 * flagged: a resync with another peer that accounts for the
		 * "crash" leaves its marks while we are primary.
		 */
		mutex_lock(&md->lock);
		md->attach_flags |= RBLK_MDF_PRIMARY;
		mutex_unlock(&md->lock);
		spin_lock_bh(&peer->lock);
		peer->reconcile = true;
		spin_unlock_bh(&peer->lock);
	}
	smp_mb();	/* the marks before the caller unpublishes the connection */
out:
	percpu_ref_put(&dev->local_ref);
	return n;
}

/**
 * rblk_unflushed_free() - free a connection's tracking
 * @conn: the connection, unpublished or never published
 *
 * Context: process context.
 */
void rblk_unflushed_free(struct rblk_conn *conn)
{
	kvfree(conn->unflushed.cur);
	conn->unflushed.cur = NULL;
	kvfree(conn->unflushed.pending);
	conn->unflushed.pending = NULL;
}
