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
					   1U << RBLK_AL_SECTOR_SHIFT)) {
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
