/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * rblk - the on-disk metadata format.  This header is the whole format; it
 * is described in Documentation/design.rst, "On-disk metadata".
 *
 * Every field is little-endian and fixed-width; padding is explicit and
 * zero; sizes are pinned by static_assert.
 *
 * The metadata area is internal (at the end of the backing device, which
 * then exports what is before it) or external (from offset 0 of another
 * device).  Offsets are bytes from the start of the area, 4 KiB aligned:
 *
 *   0                      superblock copy 0 (4 KiB)
 *   4 KiB                  superblock copy 1 (4 KiB)
 *   al_offset              activity log: one bit per al_extent_bytes of data
 *   bm_offset              max_peers write-intent bitmaps of bm_slot_bytes
 *                          each, one bit per bm_block_bytes of data
 *
 * The two superblock copies alternate: a write goes to copy (seq % 2) with
 * the next sequence number, so a torn write leaves the other copy, with the
 * state before it, valid.  The copy with a valid checksum and the higher
 * sequence number is the current one.
 */
#ifndef RBLK_MD_H
#define RBLK_MD_H

#include <linux/types.h>
#include <linux/const.h>
#include <linux/build_bug.h>
#include <linux/rblk.h>

#define RBLK_MD_MAGIC			0x4b4c4252	/* "RBLK" read as le32 */
#define RBLK_MD_FORMAT_VERSION		1
#define RBLK_MD_SB_BYTES		4096
#define RBLK_MD_ALIGN_BYTES		4096
#define RBLK_MD_BM_BLOCK_BYTES		4096		/* data bytes per bitmap bit */
#define RBLK_MD_AL_EXTENT_BYTES		(4U << 20)	/* data bytes per AL bit */
#define RBLK_MD_MAX_SLOTS		(RBLK_MAX_NODE_ID + 1)
#define RBLK_MD_NO_NODE			0xffffffffU	/* a free bitmap slot */

/* struct rblk_md_slot.flags */
/*
 * The slot's on-disk bitmap was written back whole at a clean detach
 * (informational: after a crash the activity log covers the bits that
 * were set in memory only, see al.c).
 */
#define RBLK_MD_SLOT_BM_CLEAN		_BITUL(0)

/**
 * struct rblk_md_slot - one peer's write-intent bitmap slot
 * @node_id: the peer's node id, or RBLK_MD_NO_NODE
 * @flags: RBLK_MD_SLOT_*
 * @bitmap_uuid: the generation this bitmap counts from; 0: none
 */
struct rblk_md_slot {
	__le32 node_id;
	__le32 flags;
	__le64 bitmap_uuid;
};

static_assert(sizeof(struct rblk_md_slot) == 16);

/**
 * struct rblk_md_sb - one superblock copy (4096 bytes)
 * @magic: RBLK_MD_MAGIC
 * @format_version: RBLK_MD_FORMAT_VERSION
 * @crc32c: CRC-32C (Castagnoli) of the 4096 bytes with this field zero
 * @flags: RBLK_MDF_* (uapi)
 * @seq: write sequence number; copy (seq % 2) holds it
 * @data_sectors: size of the replicated data, 512-byte sectors
 * @md_offset_sectors: start of the metadata area on its device
 * @md_size_sectors: size of the metadata area
 * @node_id: the node this metadata belongs to
 * @max_peers: bitmap slots
 * @bm_block_bytes: data bytes per bitmap bit
 * @al_extent_bytes: data bytes per activity log bit
 * @al_offset_bytes: activity log, from the start of the area
 * @al_bytes: its size
 * @bm_offset_bytes: first bitmap slot, from the start of the area
 * @bm_slot_bytes: size of one slot's bitmap
 * @current_uuid: current data generation; 0 for just-created metadata
 * @history_uuids: earlier current UUIDs, newest first
 * @slots: bitmap slots, the first @max_peers used
 * @reserved: zero
 */
struct rblk_md_sb {
	__le32 magic;
	__le32 format_version;
	__le32 crc32c;
	__le32 flags;
	__le64 seq;
	__le64 data_sectors;
	__le64 md_offset_sectors;
	__le64 md_size_sectors;
	__le32 node_id;
	__le32 max_peers;
	__le32 bm_block_bytes;
	__le32 al_extent_bytes;
	__le32 al_offset_bytes;
	__le32 al_bytes;
	__le32 bm_offset_bytes;
	__le32 bm_slot_bytes;
	__le64 current_uuid;
	__le64 history_uuids[RBLK_MD_HISTORY_UUIDS];
	struct rblk_md_slot slots[RBLK_MD_MAX_SLOTS];
	__u8 reserved[3464];
};

static_assert(sizeof(struct rblk_md_sb) == RBLK_MD_SB_BYTES);

#endif /* RBLK_MD_H */
