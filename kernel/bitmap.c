// SPDX-License-Identifier: GPL-2.0
/*
 * rblk - per-peer write-intent bitmaps: one bit per 4 KiB of data, set
 * for every block a peer missed (not connected, or its copy of the write
 * failed), cleared when the peer has it again (resync, or an explicit
 * new-current-uuid --clear-bitmap).  32 KiB of memory and of metadata per
 * GiB of data and per peer slot.
 *
 * The bits are kept in memory in the on-disk (little-endian) bit order, so
 * that a slot is written back as it is.  Setting bits is lock-free and
 * may happen in any context; loading, writing back and freeing sleep and
 * run under dev->mutex.  Bits set by writes reach the disk lazily, when
 * the activity log clears their extent (al.c) or at a clean detach: a
 * crash loses none that matter, since attach sets the bits of every
 * extent still in the log.  Bits set in bulk (a full sync, a new peer)
 * are written back at once by their caller.
 */

#include <linux/bitops.h>
#include <linux/vmalloc.h>

#include "rblk_int.h"
#include "rblk_md.h"

/* 4 KiB blocks: 8 sectors per bit. */
#define RBLK_BM_SECTOR_SHIFT	3

/* Bits set among those that cover the data (the rest are never set). */
static u64 rblk_bm_count(struct rblk_bitmap *bm)
{
	u64 bit = find_next_bit_le(bm->bits, bm->nr_bits, 0), n = 0;

	while (bit < bm->nr_bits) {
		n++;
		bit = find_next_bit_le(bm->bits, bm->nr_bits, bit + 1);
	}
	return n;
}

/**
 * rblk_bm_load() - allocate and read every slot's bitmap
 * @dev: device whose dev->md.info is read (dev->mutex held)
 *
 * Context: process context, sleeps.
 * Return: 0, -ENOMEM or the read error (nothing stays allocated then).
 */
int rblk_bm_load(struct rblk_device *dev)
{
	struct rblk_md_info *info = &dev->md.info;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < info->layout.max_peers; i++) {
		struct rblk_bitmap *bm = &dev->md.bm[i];

		bm->nr_bits = DIV_ROUND_UP_ULL(info->layout.data_sectors,
					       1 << RBLK_BM_SECTOR_SHIFT);
		bm->bits = vzalloc(info->layout.bm_slot_bytes);
		if (!bm->bits) {
			ret = -ENOMEM;
			break;
		}
		ret = rblk_md_bitmap_rw(dev->md.bdev, info, i, bm->bits, 0,
					info->layout.bm_slot_bytes, REQ_OP_READ);
		if (ret)
			break;
		atomic64_set(&bm->set_bits, rblk_bm_count(bm));
	}
	if (ret)
		rblk_bm_free(dev);
	return ret;
}

/**
 * rblk_bm_free() - free every slot's bitmap
 * @dev: device (dev->mutex held; no I/O may mark bits any more)
 *
 * Context: process context.
 */
void rblk_bm_free(struct rblk_device *dev)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dev->md.bm); i++) {
		vfree(dev->md.bm[i].bits);
		dev->md.bm[i].bits = NULL;
		atomic64_set(&dev->md.bm[i].set_bits, 0);
	}
}

/**
 * rblk_bm_write() - write one slot's bitmap back to the metadata
 * @dev: device (dev->md.lock held)
 * @slot: slot index
 *
 * Context: process context, sleeps.
 * Return: 0 or the I/O error.
 */
int rblk_bm_write(struct rblk_device *dev, unsigned int slot)
{
	struct rblk_md_info *info = &dev->md.info;

	if (!dev->md.bm[slot].bits)
		return 0;
	return rblk_md_bitmap_rw(dev->md.bdev, info, slot, dev->md.bm[slot].bits, 0,
				 info->layout.bm_slot_bytes, REQ_OP_WRITE | REQ_FUA);
}

/**
 * rblk_bm_mark() - a peer slot misses the data in a sector range
 * @dev: device
 * @slot: slot index, or -1 (nothing to do)
 * @sector: first 512-byte sector
 * @nr_sectors: 512-byte sectors (0: nothing)
 *
 * Every 4 KiB block the range touches is marked, whole: a write smaller
 * than a block leaves the block out of sync as a whole.
 *
 * Context: any (atomic bit operations); the bitmaps exist while
 * dev->local_ref is held or dev->mutex is.
 */
void rblk_bm_mark(struct rblk_device *dev, int slot, u64 sector, u32 nr_sectors)
{
	struct rblk_bitmap *bm;
	u64 bit, last;

	if (slot < 0 || !nr_sectors)
		return;
	bm = &dev->md.bm[slot];
	if (!bm->bits)
		return;
	bit = sector >> RBLK_BM_SECTOR_SHIFT;
	last = min((sector + nr_sectors - 1) >> RBLK_BM_SECTOR_SHIFT, bm->nr_bits - 1);
	for (; bit <= last; bit++)
		if (!test_and_set_bit_le(bit, bm->bits))
			atomic64_inc(&bm->set_bits);
}

/**
 * rblk_bm_set_all() - a peer slot misses every block (full sync)
 * @dev: device
 * @slot: slot index
 *
 * Context: any.
 */
void rblk_bm_set_all(struct rblk_device *dev, unsigned int slot)
{
	struct rblk_bitmap *bm = &dev->md.bm[slot];
	u64 bit;

	if (!bm->bits)
		return;
	for (bit = 0; bit < bm->nr_bits; bit++)
		if (!test_and_set_bit_le(bit, bm->bits))
			atomic64_inc(&bm->set_bits);
}

/**
 * rblk_bm_clear_all() - a peer slot has every block
 * @dev: device
 * @slot: slot index
 *
 * Context: any; the caller makes sure no write marks the slot meanwhile
 * (the peer is connected and receives every write).
 */
void rblk_bm_clear_all(struct rblk_device *dev, unsigned int slot)
{
	struct rblk_bitmap *bm = &dev->md.bm[slot];
	u64 bit;

	if (!bm->bits)
		return;
	for (bit = 0; bit < bm->nr_bits; bit++)
		if (test_and_clear_bit_le(bit, bm->bits))
			atomic64_dec(&bm->set_bits);
}

/**
 * rblk_bm_oos_bytes() - bytes marked out of sync for a slot
 * @dev: device
 * @slot: slot index, or -1 (0 bytes)
 *
 * Context: any.
 * Return: set bits times 4096.
 */
u64 rblk_bm_oos_bytes(struct rblk_device *dev, int slot)
{
	if (slot < 0)
		return 0;
	return (u64)atomic64_read(&dev->md.bm[slot].set_bits) * RBLK_MD_BM_BLOCK_BYTES;
}
