// SPDX-License-Identifier: GPL-2.0
/*
 * rblk - on-disk metadata: the layout of the metadata area, the two
 * alternating superblock copies, reading and writing them and the bitmap
 * area.  The format is rblk_md.h; Documentation/design.rst describes it.
 *
 * The pure parts (layout, encode, decode, choice of copy) are KUnit-tested
 * (md_test.c).  I/O is synchronous: every function that touches a disk
 * sleeps and is called in process context.
 */

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/random.h>
#include <linux/vmalloc.h>
#include <crypto/hash.h>

#include "rblk_int.h"
#include "rblk_md.h"

static struct crypto_shash *rblk_crc32c_tfm;

/**
 * rblk_md_crc32c() - CRC-32C of a superblock copy, its crc32c field zero
 * @sb: the copy (4096 bytes); not modified
 * @crc: result
 *
 * Context: process context (the shash may sleep in its setup).
 * Return: 0 or the crypto API's -errno.
 */
static int rblk_md_crc32c(const struct rblk_md_sb *sb, u32 *crc)
{
	struct rblk_md_sb *tmp;
	__le32 out;
	int ret;

	tmp = kmemdup(sb, sizeof(*sb), GFP_NOIO);
	if (!tmp)
		return -ENOMEM;
	tmp->crc32c = 0;
	ret = crypto_shash_tfm_digest(rblk_crc32c_tfm, (const u8 *)tmp, sizeof(*tmp),
				      (u8 *)&out);
	kfree(tmp);
	*crc = le32_to_cpu(out);
	return ret;
}

/**
 * rblk_md_layout() - where the metadata and the data go
 * @dev_bytes: size of the backing device, bytes
 * @meta_dev_bytes: size of the external metadata device, bytes; 0 for
 *	internal metadata (at the end of the backing device)
 * @max_peers: bitmap slots, 1..RBLK_MD_MAX_SLOTS
 * @l: filled on success
 *
 * The bitmaps are sized for the whole backing device (a little more than
 * the data needs with internal metadata).  The data size is a multiple of
 * 4 KiB.
 *
 * Context: any.
 * Return: 0; -EINVAL (@max_peers out of range); -ENOSPC (the device, or
 * the external metadata device, is too small).
 */
int rblk_md_layout(u64 dev_bytes, u64 meta_dev_bytes, u32 max_peers,
		   struct rblk_md_layout *l)
{
	u64 bm_bits, al_bits, md_bytes;

	if (!max_peers || max_peers > RBLK_MD_MAX_SLOTS)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	bm_bits = DIV_ROUND_UP_ULL(dev_bytes, RBLK_MD_BM_BLOCK_BYTES);
	al_bits = DIV_ROUND_UP_ULL(dev_bytes, RBLK_MD_AL_EXTENT_BYTES);
	l->max_peers = max_peers;
	l->al_offset_bytes = 2 * RBLK_MD_SB_BYTES;
	l->al_bytes = round_up(DIV_ROUND_UP_ULL(al_bits, 8), RBLK_MD_ALIGN_BYTES);
	l->bm_offset_bytes = l->al_offset_bytes + l->al_bytes;
	if (DIV_ROUND_UP_ULL(bm_bits, 8) > U32_MAX - RBLK_MD_ALIGN_BYTES)
		return -ENOSPC;
	l->bm_slot_bytes = round_up(DIV_ROUND_UP_ULL(bm_bits, 8), RBLK_MD_ALIGN_BYTES);
	md_bytes = (u64)l->bm_offset_bytes + (u64)max_peers * l->bm_slot_bytes;
	l->md_size_sectors = md_bytes >> SECTOR_SHIFT;
	if (meta_dev_bytes) {
		if (meta_dev_bytes < md_bytes)
			return -ENOSPC;
		l->md_offset_sectors = 0;
		l->data_sectors = round_down(dev_bytes, RBLK_MD_ALIGN_BYTES) >> SECTOR_SHIFT;
	} else {
		if (dev_bytes < md_bytes + RBLK_MD_ALIGN_BYTES)
			return -ENOSPC;
		l->md_offset_sectors = round_down(dev_bytes - md_bytes,
						  RBLK_MD_ALIGN_BYTES) >> SECTOR_SHIFT;
		l->data_sectors = l->md_offset_sectors;
	}
	if (!l->data_sectors)
		return -ENOSPC;
	return 0;
}

/**
 * rblk_md_sb_encode() - a superblock copy from its decoded form
 * @sb: the 4096 bytes to fill (every byte written; crc32c left zero)
 * @md: the decoded superblock
 *
 * Context: any.
 */
void rblk_md_sb_encode(struct rblk_md_sb *sb, const struct rblk_md_info *md)
{
	unsigned int i;

	memset(sb, 0, sizeof(*sb));
	sb->magic = cpu_to_le32(RBLK_MD_MAGIC);
	sb->format_version = cpu_to_le32(RBLK_MD_FORMAT_VERSION);
	sb->flags = cpu_to_le32(md->flags);
	sb->seq = cpu_to_le64(md->seq);
	sb->data_sectors = cpu_to_le64(md->layout.data_sectors);
	sb->md_offset_sectors = cpu_to_le64(md->layout.md_offset_sectors);
	sb->md_size_sectors = cpu_to_le64(md->layout.md_size_sectors);
	sb->node_id = cpu_to_le32(md->node_id);
	sb->max_peers = cpu_to_le32(md->layout.max_peers);
	sb->bm_block_bytes = cpu_to_le32(RBLK_MD_BM_BLOCK_BYTES);
	sb->al_extent_bytes = cpu_to_le32(RBLK_MD_AL_EXTENT_BYTES);
	sb->al_offset_bytes = cpu_to_le32(md->layout.al_offset_bytes);
	sb->al_bytes = cpu_to_le32(md->layout.al_bytes);
	sb->bm_offset_bytes = cpu_to_le32(md->layout.bm_offset_bytes);
	sb->bm_slot_bytes = cpu_to_le32(md->layout.bm_slot_bytes);
	sb->current_uuid = cpu_to_le64(md->current_uuid);
	for (i = 0; i < RBLK_MD_HISTORY_UUIDS; i++)
		sb->history_uuids[i] = cpu_to_le64(md->history[i]);
	for (i = 0; i < RBLK_MD_MAX_SLOTS; i++) {
		sb->slots[i].node_id = cpu_to_le32(md->slots[i].node_id);
		sb->slots[i].flags = cpu_to_le32(md->slots[i].flags);
		sb->slots[i].bitmap_uuid = cpu_to_le64(md->slots[i].bitmap_uuid);
	}
}

/**
 * rblk_md_sb_decode() - check and decode one superblock copy
 * @sb: the copy as read
 * @crc: CRC-32C computed over it (rblk_md_crc32c())
 * @md: filled only on success
 *
 * Every field is checked: magic, format version, checksum, granularities,
 * a layout that rblk_md_layout() could have produced for the recorded
 * size, node ids, reserved bytes zero.
 *
 * Context: any.
 * Return: 0; -ENOMSG (not rblk metadata: wrong magic); -EPROTONOSUPPORT
 * (another format version); -EBADMSG (checksum mismatch); -EUCLEAN (a
 * field is out of range).
 */
int rblk_md_sb_decode(const struct rblk_md_sb *sb, u32 crc, struct rblk_md_info *md)
{
	struct rblk_md_info d = { };
	u64 bm_bits;
	unsigned int i;

	if (le32_to_cpu(sb->magic) != RBLK_MD_MAGIC)
		return -ENOMSG;
	if (le32_to_cpu(sb->format_version) != RBLK_MD_FORMAT_VERSION)
		return -EPROTONOSUPPORT;
	if (le32_to_cpu(sb->crc32c) != crc)
		return -EBADMSG;
	if (le32_to_cpu(sb->bm_block_bytes) != RBLK_MD_BM_BLOCK_BYTES ||
	    le32_to_cpu(sb->al_extent_bytes) != RBLK_MD_AL_EXTENT_BYTES ||
	    memchr_inv(sb->reserved, 0, sizeof(sb->reserved)))
		return -EUCLEAN;
	d.flags = le32_to_cpu(sb->flags);
	d.seq = le64_to_cpu(sb->seq);
	d.node_id = le32_to_cpu(sb->node_id);
	d.layout.data_sectors = le64_to_cpu(sb->data_sectors);
	d.layout.md_offset_sectors = le64_to_cpu(sb->md_offset_sectors);
	d.layout.md_size_sectors = le64_to_cpu(sb->md_size_sectors);
	d.layout.max_peers = le32_to_cpu(sb->max_peers);
	d.layout.al_offset_bytes = le32_to_cpu(sb->al_offset_bytes);
	d.layout.al_bytes = le32_to_cpu(sb->al_bytes);
	d.layout.bm_offset_bytes = le32_to_cpu(sb->bm_offset_bytes);
	d.layout.bm_slot_bytes = le32_to_cpu(sb->bm_slot_bytes);
	if (d.flags & ~RBLK_MDF_ALL || d.node_id > RBLK_MAX_NODE_ID ||
	    !d.layout.max_peers || d.layout.max_peers > RBLK_MD_MAX_SLOTS ||
	    !d.layout.data_sectors || d.layout.data_sectors & 7)
		return -EUCLEAN;
	bm_bits = DIV_ROUND_UP_ULL(d.layout.data_sectors << SECTOR_SHIFT,
				   RBLK_MD_BM_BLOCK_BYTES);
	if (d.layout.al_offset_bytes != 2 * RBLK_MD_SB_BYTES ||
	    d.layout.al_bytes % RBLK_MD_ALIGN_BYTES ||
	    d.layout.bm_offset_bytes != d.layout.al_offset_bytes + d.layout.al_bytes ||
	    d.layout.bm_slot_bytes % RBLK_MD_ALIGN_BYTES ||
	    (u64)d.layout.bm_slot_bytes * 8 < bm_bits ||
	    ((u64)d.layout.md_size_sectors << SECTOR_SHIFT) <
	    d.layout.bm_offset_bytes + (u64)d.layout.max_peers * d.layout.bm_slot_bytes)
		return -EUCLEAN;
	d.current_uuid = le64_to_cpu(sb->current_uuid);
	for (i = 0; i < RBLK_MD_HISTORY_UUIDS; i++)
		d.history[i] = le64_to_cpu(sb->history_uuids[i]);
	for (i = 0; i < RBLK_MD_MAX_SLOTS; i++) {
		d.slots[i].node_id = le32_to_cpu(sb->slots[i].node_id);
		d.slots[i].flags = le32_to_cpu(sb->slots[i].flags);
		d.slots[i].bitmap_uuid = le64_to_cpu(sb->slots[i].bitmap_uuid);
		if (d.slots[i].node_id != RBLK_MD_NO_NODE &&
		    (d.slots[i].node_id > RBLK_MAX_NODE_ID || i >= d.layout.max_peers ||
		     d.slots[i].node_id == d.node_id))
			return -EUCLEAN;
		if (d.slots[i].flags & ~RBLK_MD_SLOT_BM_CLEAN)
			return -EUCLEAN;
	}
	*md = d;
	return 0;
}

/**
 * rblk_md_pick_copy() - which superblock copy is the current one
 * @err0: result of decoding copy 0 (0: valid)
 * @seq0: its sequence number when valid
 * @err1: result of decoding copy 1
 * @seq1: its sequence number when valid
 *
 * The valid copy with the higher sequence number; a copy must sit where
 * its sequence number puts it (seq % 2), else it is a stale or misplaced
 * block and does not count.
 *
 * Context: any.
 * Return: 0 or 1; or the error of copy 0 when neither is valid (-ENOMSG
 * when both lack the magic: no rblk metadata at all).
 */
int rblk_md_pick_copy(int err0, u64 seq0, int err1, u64 seq1)
{
	bool ok0 = !err0 && seq0 % 2 == 0;
	bool ok1 = !err1 && seq1 % 2 == 1;

	if (ok0 && ok1)
		return seq1 > seq0 ? 1 : 0;
	if (ok0)
		return 0;
	if (ok1)
		return 1;
	if (err0 == -ENOMSG && err1 && err1 != -ENOMSG)
		return err1;
	return err0 ? err0 : -EUCLEAN;
}

/**
 * rblk_md_rw() - one synchronous I/O of the metadata area
 * @bdev: the device holding it
 * @pos_bytes: byte offset on @bdev, 4 KiB aligned
 * @buf: kmalloc'ed or vmalloc'ed buffer
 * @len: bytes, a multiple of 4 KiB, at most 256 pages
 * @opf: REQ_OP_READ or REQ_OP_WRITE with flags
 *
 * Context: process context, sleeps.
 * Return: 0 or the I/O error.
 */
int rblk_md_rw(struct block_device *bdev, u64 pos_bytes, void *buf, u32 len, blk_opf_t opf)
{
	unsigned int nr_pages = DIV_ROUND_UP(len, PAGE_SIZE);
	struct bio *bio;
	u32 off;
	int ret;

	bio = bio_alloc(bdev, nr_pages, opf, GFP_NOIO);
	bio->bi_iter.bi_sector = pos_bytes >> SECTOR_SHIFT;
	for (off = 0; off < len; off += PAGE_SIZE) {
		struct page *page = is_vmalloc_addr(buf + off) ?
			vmalloc_to_page(buf + off) : virt_to_page(buf + off);

		if (bio_add_page(bio, page, min_t(u32, PAGE_SIZE, len - off), 0) <
		    min_t(u32, PAGE_SIZE, len - off)) {
			bio_put(bio);
			return -EIO;
		}
	}
	ret = submit_bio_wait(bio);
	bio_put(bio);
	return ret;
}

/**
 * rblk_md_read() - read and choose the current superblock of a device
 * @bdev: the device holding the metadata area
 * @md_offset_bytes: start of the area on it; U64_MAX for internal
 *	metadata (the layout is then taken from the device's size: the area
 *	is where rblk_md_layout() puts it for each possible max_peers)
 * @md: filled on success
 * @valid: bit 0/1 set for each valid copy (may be NULL)
 *
 * Context: process context, sleeps (synchronous reads).
 * Return: 0; -ENOMSG (no rblk metadata); -EBADMSG, -EUCLEAN,
 * -EPROTONOSUPPORT (metadata present but neither copy valid); -ENOMEM;
 * the I/O error.
 */
int rblk_md_read(struct block_device *bdev, u64 md_offset_bytes, struct rblk_md_info *md,
		 u32 *valid)
{
	u64 dev_bytes = bdev_nr_bytes(bdev);
	struct rblk_md_info d[2];
	struct rblk_md_sb *sb;
	u32 peers, first = 1, last = 1;
	int ret = -ENOMSG;

	sb = kmalloc(2 * RBLK_MD_SB_BYTES, GFP_KERNEL);
	if (!sb)
		return -ENOMEM;
	if (md_offset_bytes == U64_MAX) {
		first = 1;
		last = RBLK_MD_MAX_SLOTS;
	}
	for (peers = first; peers <= last; peers++) {
		struct rblk_md_layout l;
		int err[2], i;
		u32 crc;
		u64 pos = md_offset_bytes;

		if (md_offset_bytes == U64_MAX) {
			if (rblk_md_layout(dev_bytes, 0, peers, &l))
				break;
			pos = l.md_offset_sectors << SECTOR_SHIFT;
		}
		ret = rblk_md_rw(bdev, pos, sb, 2 * RBLK_MD_SB_BYTES, REQ_OP_READ);
		if (ret)
			break;
		for (i = 0; i < 2; i++) {
			err[i] = rblk_md_crc32c(&sb[i], &crc);
			if (!err[i])
				err[i] = rblk_md_sb_decode(&sb[i], crc, &d[i]);
			/*
			 * A superblock of a layout with more peer slots lies
			 * inside the area probed for fewer: not here.
			 */
			if (!err[i] && d[i].layout.md_offset_sectors << SECTOR_SHIFT != pos)
				err[i] = -ENOMSG;
		}
		ret = rblk_md_pick_copy(err[0], d[0].seq, err[1], d[1].seq);
		if (ret >= 0) {
			*md = d[ret];
			if (valid)
				*valid = (!err[0] && d[0].seq % 2 == 0 ? 1 : 0) |
					 (!err[1] && d[1].seq % 2 == 1 ? 2 : 0);
			ret = 0;
			break;
		}
		if (ret != -ENOMSG)
			break;
	}
	kfree(sb);
	return ret;
}

/**
 * rblk_md_write_sb() - write @md as the next superblock copy
 * @bdev: the device holding the metadata area
 * @md: the state to write; its seq is incremented first
 *
 * Copy (seq % 2) is written with FUA: when this returns 0 the new state
 * is durable, and the other copy still holds the previous one.
 *
 * Context: process context, sleeps.  The caller serialises writes of one
 * device (struct rblk_md.lock).
 * Return: 0, -ENOMEM or the I/O error (seq is then restored).
 */
int rblk_md_write_sb(struct block_device *bdev, struct rblk_md_info *md)
{
	struct rblk_md_sb *sb;
	u64 pos;
	u32 crc;
	int ret;

	sb = kmalloc(sizeof(*sb), GFP_NOIO);
	if (!sb)
		return -ENOMEM;
	md->seq++;
	rblk_md_sb_encode(sb, md);
	ret = rblk_md_crc32c(sb, &crc);
	if (!ret) {
		sb->crc32c = cpu_to_le32(crc);
		pos = (md->layout.md_offset_sectors << SECTOR_SHIFT) +
		      (md->seq % 2) * RBLK_MD_SB_BYTES;
		ret = rblk_md_rw(bdev, pos, sb, sizeof(*sb),
				 REQ_OP_WRITE | REQ_SYNC | REQ_FUA | REQ_PREFLUSH);
	}
	if (ret)
		md->seq--;
	kfree(sb);
	return ret;
}

/**
 * rblk_md_bitmap_rw() - read or write one slot's bitmap, whole or in part
 * @bdev: the device holding the metadata area
 * @md: the superblock (layout)
 * @slot: slot index
 * @bits: the slot's in-memory bitmap (bm_slot_bytes, vmalloc'ed)
 * @off_bytes: first byte of the bitmap to transfer, 4 KiB aligned
 * @len_bytes: bytes to transfer, a multiple of 4 KiB
 * @opf: REQ_OP_READ or REQ_OP_WRITE (| flags)
 *
 * Context: process context, sleeps.
 * Return: 0 or the I/O error.
 */
int rblk_md_bitmap_rw(struct block_device *bdev, const struct rblk_md_info *md,
		      unsigned int slot, void *bits, u32 off_bytes, u32 len_bytes,
		      blk_opf_t opf)
{
	u64 pos = (md->layout.md_offset_sectors << SECTOR_SHIFT) +
		  md->layout.bm_offset_bytes + (u64)slot * md->layout.bm_slot_bytes +
		  off_bytes;
	u32 done, chunk;
	int ret;

	for (done = 0; done < len_bytes; done += chunk) {
		chunk = min_t(u32, len_bytes - done, 256 * PAGE_SIZE);
		ret = rblk_md_rw(bdev, pos + done, bits + off_bytes + done, chunk, opf);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * rblk_md_create() - write fresh metadata (RBLK_CMD_MD_CREATE)
 * @path: backing device
 * @meta_path: external metadata device, or NULL for internal metadata
 * @node_id: this node's id
 * @max_peers: bitmap slots
 * @force: overwrite valid rblk metadata
 * @extack: error message
 *
 * Both superblock copies are written (sequence numbers 1 and 2, the same
 * state), the activity log and every bitmap zeroed.  The new metadata has
 * no current UUID: the disk is Inconsistent until an initial sync or an
 * explicit new-current-uuid --clear-bitmap.
 *
 * Context: process context, sleeps; opens the devices exclusively.
 * Return: 0; -EEXIST (valid metadata there, no @force); -ENOSPC (device
 * too small); -EINVAL (@max_peers); the open or I/O error (-EBUSY when
 * a device is in use, e.g. attached to an rblk device).
 */
int rblk_md_create(const char *path, const char *meta_path, u32 node_id, u32 max_peers,
		   bool force, struct netlink_ext_ack *extack)
{
	static const char holder[] = "rblk-create-md";
	struct rblk_bdev_handle data = { }, meta = { };
	struct block_device *mbdev;
	struct rblk_md_info *md;
	u64 zero_bytes, off;
	void *zeroes = NULL;
	unsigned int i;
	int ret;

	md = kzalloc(sizeof(*md), GFP_KERNEL);
	if (!md)
		return -ENOMEM;
	ret = rblk_compat_bdev_open(path, (void *)holder, &data);
	if (ret) {
		NL_SET_ERR_MSG(extack, "cannot open the backing device exclusively");
		goto out_free;
	}
	mbdev = data.bdev;
	if (meta_path) {
		ret = rblk_compat_bdev_open(meta_path, (void *)holder, &meta);
		if (ret) {
			NL_SET_ERR_MSG(extack, "cannot open the metadata device exclusively");
			goto out_close;
		}
		mbdev = meta.bdev;
	}
	if (!force) {
		ret = rblk_md_read(mbdev, meta_path ? 0 : U64_MAX, md, NULL);
		if (ret != -ENOMSG) {
			if (!ret || ret == -EBADMSG || ret == -EUCLEAN ||
			    ret == -EPROTONOSUPPORT) {
				NL_SET_ERR_MSG(extack,
					       "the device has rblk metadata (force to overwrite)");
				ret = -EEXIST;
			} else {
				NL_SET_ERR_MSG(extack, "cannot read the device");
			}
			goto out_close;
		}
	}
	ret = rblk_md_layout(bdev_nr_bytes(data.bdev), meta_path ? bdev_nr_bytes(mbdev) : 0,
			     max_peers, &md->layout);
	if (ret) {
		if (ret == -ENOSPC)
			NL_SET_ERR_MSG(extack, "device too small for the metadata");
		else
			NL_SET_ERR_MSG(extack, "max peers out of range");
		goto out_close;
	}
	md->node_id = node_id;
	md->flags = 0;
	md->current_uuid = 0;
	memset(md->history, 0, sizeof(md->history));
	for (i = 0; i < RBLK_MD_MAX_SLOTS; i++) {
		md->slots[i].node_id = RBLK_MD_NO_NODE;
		md->slots[i].flags = RBLK_MD_SLOT_BM_CLEAN;
		md->slots[i].bitmap_uuid = 0;
	}
	/* activity log and bitmaps: zeroes */
	zero_bytes = ((u64)md->layout.md_size_sectors << SECTOR_SHIFT) -
		     md->layout.al_offset_bytes;
	zeroes = vzalloc(256 * PAGE_SIZE);
	if (!zeroes) {
		ret = -ENOMEM;
		goto out_close;
	}
	for (off = 0; off < zero_bytes; off += 256 * PAGE_SIZE) {
		ret = rblk_md_rw(mbdev, (md->layout.md_offset_sectors << SECTOR_SHIFT) +
				 md->layout.al_offset_bytes + off, zeroes,
				 min_t(u64, zero_bytes - off, 256 * PAGE_SIZE), REQ_OP_WRITE);
		if (ret)
			goto out_io;
	}
	/* both copies: seq 1 (copy 1) then seq 2 (copy 0) */
	md->seq = 0;
	ret = rblk_md_write_sb(mbdev, md);
	if (!ret)
		ret = rblk_md_write_sb(mbdev, md);
out_io:
	if (ret && !extack->_msg)
		NL_SET_ERR_MSG(extack, "cannot write the metadata");
	if (!ret)
		pr_info("rblk: created metadata on %s: %llu data sectors, %u peer slots\n",
			meta_path ?: path, md->layout.data_sectors, max_peers);
	vfree(zeroes);
out_close:
	if (meta.bdev)
		rblk_compat_bdev_close(&meta, (void *)holder);
	rblk_compat_bdev_close(&data, (void *)holder);
out_free:
	kfree(md);
	return ret;
}

/**
 * rblk_md_dump_path() - read the metadata of a device that is not attached
 * @path: backing device
 * @meta_path: external metadata device, or NULL
 * @md: filled on success
 * @valid: bit 0/1 for each valid copy
 * @extack: error message
 *
 * Context: process context, sleeps; opens the devices exclusively.
 * Return: 0; the errors of rblk_md_read(); the open error.
 */
int rblk_md_dump_path(const char *path, const char *meta_path, struct rblk_md_info *md,
		      u32 *valid, struct netlink_ext_ack *extack)
{
	static const char holder[] = "rblk-dump-md";
	struct rblk_bdev_handle h = { };
	int ret;

	ret = rblk_compat_bdev_open(meta_path ?: path, (void *)holder, &h);
	if (ret) {
		NL_SET_ERR_MSG(extack, "cannot open the device exclusively (attached?)");
		return ret;
	}
	ret = rblk_md_read(h.bdev, meta_path ? 0 : U64_MAX, md, valid);
	if (ret == -ENOMSG)
		NL_SET_ERR_MSG(extack, "no rblk metadata on the device");
	else if (ret)
		NL_SET_ERR_MSG(extack, "rblk metadata found, but neither copy is valid");
	rblk_compat_bdev_close(&h, (void *)holder);
	return ret;
}

/**
 * rblk_md_new_uuid() - a fresh random generation UUID, never 0
 *
 * Context: any.
 */
u64 rblk_md_new_uuid(void)
{
	u64 uuid;

	do {
		uuid = get_random_u64();
	} while (!uuid);
	return uuid;
}

/**
 * rblk_md_push_history() - make @md's current UUID history, start @uuid
 * @md: decoded superblock
 * @uuid: the new current UUID
 *
 * Context: any.
 */
void rblk_md_push_history(struct rblk_md_info *md, u64 uuid)
{
	if (md->current_uuid && md->current_uuid != md->history[0]) {
		memmove(&md->history[1], &md->history[0],
			sizeof(md->history) - sizeof(md->history[0]));
		md->history[0] = md->current_uuid;
	}
	md->current_uuid = uuid;
}

int rblk_md_init(void)
{
	rblk_crc32c_tfm = crypto_alloc_shash("crc32c", 0, 0);
	if (IS_ERR(rblk_crc32c_tfm)) {
		int ret = PTR_ERR(rblk_crc32c_tfm);

		rblk_crc32c_tfm = NULL;
		return ret;
	}
	return 0;
}

void rblk_md_exit(void)
{
	crypto_free_shash(rblk_crc32c_tfm);
}

/* ------------------------------------------------------------------------
 * The metadata of an attached device.  All under dev->mutex or
 * dev->md.lock as said; all sleep.
 */

/**
 * rblk_md_commit() - write the next superblock copy
 * @dev: device with metadata; dev->md.lock held
 *
 * @next: the new state, a modified copy of dev->md.info; published in
 *	dev->md.info only once it is durable, so that lockless readers (the
 *	I/O path's look at a slot's bitmap UUID) never act on a state that
 *	a crash could still undo
 *
 * Bumps the device's state generation: a handshake that compared older
 * UUIDs is not installed (rblk_conn_install()).
 *
 * Context: process context, sleeps.
 * Return: 0 or the write error (logged; dev->md.info unchanged).
 */
int rblk_md_commit(struct rblk_device *dev, struct rblk_md_info *next)
{
	int ret;

	lockdep_assert_held(&dev->md.lock);
	ret = rblk_md_write_sb(dev->md.bdev, next);
	if (!ret)
		dev->md.info = *next;
	atomic64_inc(&dev->md.md_writes);
	if (ret)
		pr_err_ratelimited("%s: cannot write the metadata superblock (%d)\n",
				   dev->disk->disk_name, ret);
	spin_lock(&dev->state_lock);
	dev->state_gen++;
	spin_unlock(&dev->state_lock);
	if (!ret && dev->md.info.current_uuid != dev->md.notified_uuid) {
		dev->md.notified_uuid = dev->md.info.current_uuid;
		rblk_notify(dev, RBLK_EVENT_UUIDS_CHANGED, -1, 0, NULL);
	}
	return ret;
}

/**
 * rblk_md_attach() - read the metadata of a backing device being attached
 * @dev: device; dev->backing is open, dev->mutex held
 * @meta_path: external metadata device, or NULL for internal metadata
 * @state: the disk state the metadata allows (Inconsistent, Outdated or
 *	Consistent)
 * @extack: error message
 *
 * Reads the current superblock copy, checks that it belongs to this node
 * and fits the backing device, loads the bitmaps and records the attach
 * (RBLK_MDF_ATTACHED, every slot's bitmap no longer clean on disk).  A
 * device that was not detached cleanly gets, in every used slot, the bits
 * of every extent still in its activity log (al.c): the blocks its last
 * writes may have touched; a crashed primary (RBLK_MDF_PRIMARY still set)
 * tells its peers so at the next handshake.
 *
 * Context: process context, sleeps.
 * Return: 0; -ENOMSG (no metadata); -EUCLEAN (another node's metadata,
 * or it does not fit); the errors of rblk_md_read(); -ENOMEM; I/O errors.
 */
int rblk_md_attach(struct rblk_device *dev, const char *meta_path,
		   enum rblk_disk_state *state, struct netlink_ext_ack *extack)
{
	struct rblk_md *md = &dev->md;
	struct rblk_md_info *info = &md->info;
	unsigned int i;
	int ret;

	memset(&md->meta, 0, sizeof(md->meta));
	md->bdev = dev->backing.bdev;
	if (meta_path) {
		ret = rblk_compat_bdev_open(meta_path, dev, &md->meta);
		if (ret) {
			NL_SET_ERR_MSG(extack, "cannot open the metadata device exclusively");
			return ret;
		}
		md->bdev = md->meta.bdev;
	}
	ret = rblk_md_read(md->bdev, meta_path ? 0 : U64_MAX, info, NULL);
	if (ret) {
		if (ret == -ENOMSG)
			NL_SET_ERR_MSG(extack,
				       "no rblk metadata on the device: run rblkadm create-md");
		else
			NL_SET_ERR_MSG(extack,
				       "rblk metadata found, but neither superblock copy is valid");
		goto close;
	}
	if (info->node_id != dev->node_id) {
		NL_SET_ERR_MSG(extack, "the metadata belongs to another node id");
		ret = -EUCLEAN;
		goto close;
	}
	if (info->layout.data_sectors > bdev_nr_sectors(dev->backing.bdev) ||
	    (!meta_path && info->layout.md_offset_sectors + info->layout.md_size_sectors >
	     bdev_nr_sectors(md->bdev))) {
		NL_SET_ERR_MSG(extack, "the metadata does not fit the device (it shrank?)");
		ret = -EUCLEAN;
		goto close;
	}
	ret = rblk_bm_load(dev);
	if (ret) {
		NL_SET_ERR_MSG(extack, "cannot read the bitmaps");
		goto close;
	}
	ret = rblk_al_load(dev);
	if (ret) {
		NL_SET_ERR_MSG(extack, "cannot read the activity log");
		rblk_bm_free(dev);
		goto close;
	}
	md->attach_flags = info->flags;
	if (info->flags & RBLK_MDF_ATTACHED) {
		u64 n = rblk_al_recover(dev);

		pr_warn("%s: not detached cleanly%s: %llu activity log extents (4 MiB each) marked out of sync\n",
			dev->disk->disk_name,
			info->flags & RBLK_MDF_PRIMARY ? " (crashed primary)" : "", n);
	}
	for (i = 0; i < info->layout.max_peers; i++)
		info->slots[i].flags &= ~RBLK_MD_SLOT_BM_CLEAN;
	if (!(info->flags & RBLK_MDF_CONSISTENT))
		*state = RBLK_DISK_INCONSISTENT;
	else if (info->flags & RBLK_MDF_OUTDATED)
		*state = RBLK_DISK_OUTDATED;
	else
		*state = RBLK_DISK_CONSISTENT;
	mutex_lock(&md->lock);
	{
		struct rblk_md_info next = *info;

		next.flags |= RBLK_MDF_ATTACHED;
		ret = rblk_md_commit(dev, &next);
	}
	mutex_unlock(&md->lock);
	if (ret) {
		NL_SET_ERR_MSG(extack, "cannot write the metadata");
		rblk_al_stop(dev);
		rblk_al_free(dev);
		rblk_bm_free(dev);
		goto close;
	}
	return 0;

close:
	if (md->meta.bdev)
		rblk_compat_bdev_close(&md->meta, dev);
	md->bdev = NULL;
	return ret;
}

/**
 * rblk_md_detach() - write the bitmaps back and record a clean detach
 * @dev: device; no I/O on the backing device any more, dev->mutex held
 *
 * A failure is logged: the next attach then treats the bitmaps as unclean
 * (more resync, never less).  Closes an external metadata device.
 *
 * Context: process context, sleeps.
 */
void rblk_md_detach(struct rblk_device *dev)
{
	struct rblk_md *md = &dev->md;
	struct rblk_md_info next, *info = &next;
	unsigned int i;
	bool bm_ok = true;

	rblk_al_stop(dev);
	mutex_lock(&md->lock);
	next = md->info;
	for (i = 0; i < info->layout.max_peers; i++) {
		if (info->slots[i].node_id == RBLK_MD_NO_NODE)
			continue;
		if (rblk_bm_write(dev, i))
			bm_ok = false;
		else
			info->slots[i].flags |= RBLK_MD_SLOT_BM_CLEAN;
	}
	/* the bitmaps hold everything now: an empty activity log */
	if (bm_ok) {
		memset(md->al_ondisk, 0, info->layout.al_bytes);
		bm_ok = !rblk_md_rw(md->bdev, (info->layout.md_offset_sectors << SECTOR_SHIFT) +
				    info->layout.al_offset_bytes, md->al_ondisk,
				    info->layout.al_bytes, REQ_OP_WRITE | REQ_FUA);
	}
	if (bm_ok)
		info->flags &= ~RBLK_MDF_ATTACHED;
	/* a crash as primary not yet accounted for stays recorded */
	if (READ_ONCE(dev->role) != RBLK_ROLE_PRIMARY &&
	    !(md->attach_flags & RBLK_MDF_PRIMARY))
		info->flags &= ~RBLK_MDF_PRIMARY;
	rblk_md_commit(dev, &next);
	mutex_unlock(&md->lock);
	rblk_al_free(dev);
	rblk_bm_free(dev);
	if (md->meta.bdev)
		rblk_compat_bdev_close(&md->meta, dev);
	md->bdev = NULL;
}

/**
 * rblk_md_assign_slot() - find or claim the bitmap slot of a peer
 * @dev: device with metadata; dev->mutex held
 * @peer: the peer; peer->md_slot is set
 *
 * Context: process context, sleeps (a claimed slot is written).
 * Return: 0; -ENOSPC (every slot belongs to another node: create-md with
 * more peer slots); the write error.
 */
int rblk_md_assign_slot(struct rblk_device *dev, struct rblk_peer *peer)
{
	struct rblk_md_info next, *info = &next;
	int i, free = -1, ret = 0;

	mutex_lock(&dev->md.lock);
	next = dev->md.info;
	for (i = 0; i < info->layout.max_peers; i++) {
		if (info->slots[i].node_id == peer->cfg.node_id)
			break;
		if (free < 0 && info->slots[i].node_id == RBLK_MD_NO_NODE)
			free = i;
	}
	if (i == info->layout.max_peers) {
		if (free < 0) {
			ret = -ENOSPC;
			goto out;
		}
		i = free;
		info->slots[i].node_id = peer->cfg.node_id;
		info->slots[i].bitmap_uuid = 0;
		info->slots[i].flags = 0;
		/* a peer never seen: it lacks everything of ours, durably */
		if (info->current_uuid) {
			rblk_bm_set_all(dev, i);
			ret = rblk_bm_write(dev, i);
		}
		if (!ret)
			ret = rblk_md_commit(dev, &next);
		if (ret)
			goto out;
	}
	WRITE_ONCE(peer->md_slot, i);
out:
	mutex_unlock(&dev->md.lock);
	return ret;
}

/**
 * rblk_md_change_flags() - set and clear superblock flags, durably
 * @dev: device with metadata
 * @set: RBLK_MDF_* to set
 * @clear: RBLK_MDF_* to clear
 *
 * Nothing is written when nothing changes.
 *
 * Context: process context, sleeps; takes dev->md.lock.
 * Return: 0 or the write error.
 */
int rblk_md_change_flags(struct rblk_device *dev, u32 set, u32 clear)
{
	struct rblk_md_info next;
	int ret = 0;

	mutex_lock(&dev->md.lock);
	if (!dev->has_md)
		goto out;
	next = dev->md.info;
	next.flags = (next.flags & ~clear) | set;
	if (next.flags != dev->md.info.flags)
		ret = rblk_md_commit(dev, &next);
out:
	mutex_unlock(&dev->md.lock);
	return ret;
}

/**
 * rblk_md_start_generation() - a new current UUID for writes some peer misses
 * @dev: device with metadata
 *
 * Every peer that misses writes (dev->peers_missed_writes) and whose slot
 * tracks no generation yet gets the current UUID as its bitmap UUID; then
 * the current UUID goes to the history and a new one starts, durably
 * when this returns 0: a write a peer missed completes only after this.
 * The peers still in sync with us are told (rblk_sync_announce_new()).
 *
 * Context: process context, sleeps; takes dev->md.lock.
 * Return: 0 or the write error (the caller fails the write then).
 */
int rblk_md_start_generation(struct rblk_device *dev)
{
	struct rblk_md_info next;
	bool changed = false;
	unsigned int i;
	int ret = 0;

	mutex_lock(&dev->md.lock);
	if (!dev->has_md)
		goto out;
	next = dev->md.info;
	/* misses from now on set it again; those before are covered below */
	for (i = 0; i < next.layout.max_peers; i++)
		WRITE_ONCE(dev->md.bm[i].pending_gen, false);
	smp_mb();	/* the clears before the bits are read */
	/* bits set in a slot: that slot tracks a generation */
	for (i = 0; i < next.layout.max_peers; i++) {
		if (next.slots[i].node_id == RBLK_MD_NO_NODE || next.slots[i].bitmap_uuid ||
		    !rblk_bm_oos_bytes(dev, i))
			continue;
		next.slots[i].bitmap_uuid = next.current_uuid ?: rblk_md_new_uuid();
		changed = true;
	}
	if (changed) {
		rblk_md_track_absent(dev, &next);
		rblk_md_push_history(&next, rblk_md_new_uuid());
		ret = rblk_md_commit(dev, &next);
	}
out:
	mutex_unlock(&dev->md.lock);
	if (changed && !ret)
		rblk_sync_announce_new(dev);
	return ret;
}

/**
 * rblk_md_track_absent() - slots of nodes that miss a new generation keep the old
 * @dev: device
 * @next: the metadata about to get a new current UUID (still the old one)
 *
 * Before a new current UUID starts, every slot that tracks no generation
 * and whose node will not adopt the new one (rblk_sync_misses_new())
 * takes the current UUID as its bitmap UUID: when that node comes back
 * with it, the two compare as a bitmap resync, not a full one.
 *
 * Context: process context, dev->md.lock held.
 */
void rblk_md_track_absent(struct rblk_device *dev, struct rblk_md_info *next)
{
	unsigned int i;

	lockdep_assert_held(&dev->md.lock);
	if (!next->current_uuid)
		return;
	for (i = 0; i < next->layout.max_peers; i++) {
		if (next->slots[i].node_id == RBLK_MD_NO_NODE || next->slots[i].bitmap_uuid ||
		    !rblk_sync_misses_new(dev, next->slots[i].node_id))
			continue;
		next->slots[i].bitmap_uuid = next->current_uuid;
	}
}

/**
 * rblk_md_slot_needs_gen() - would a write a slot misses need a new generation
 * @dev: device
 * @slot: bitmap slot, or -1 (false)
 *
 * True while the slot tracks no generation (bitmap UUID 0, as durably
 * written: rblk_md_commit() publishes only what is on disk).
 *
 * Context: any (lockless read of the slot's bitmap UUID).
 */
bool rblk_md_slot_needs_gen(struct rblk_device *dev, int slot)
{
	return READ_ONCE(dev->has_md) && slot >= 0 &&
	       !READ_ONCE(dev->md.info.slots[slot].bitmap_uuid);
}

/**
 * rblk_md_promote() - record a promotion in the metadata
 * @dev: device (dev->mutex held)
 * @force: the operator forces a disk that is not UpToDate: its data
 *	becomes the newest generation (a new current UUID, consistent,
 *	not outdated); every peer is then behind it
 *
 * Context: process context, sleeps.
 * Return: 0 or the write error.
 */
int rblk_md_promote(struct rblk_device *dev, bool force)
{
	struct rblk_md_info next, *info = &next;
	int ret;

	if (!READ_ONCE(dev->has_md))
		return 0;
	mutex_lock(&dev->md.lock);
	next = dev->md.info;
	info->flags |= RBLK_MDF_PRIMARY;
	if (force) {
		unsigned int i;

		for (i = 0; i < info->layout.max_peers; i++)
			if (info->slots[i].node_id != RBLK_MD_NO_NODE &&
			    !info->slots[i].bitmap_uuid)
				info->slots[i].bitmap_uuid = info->current_uuid ?:
							     rblk_md_new_uuid();
		rblk_md_push_history(info, rblk_md_new_uuid());
		info->flags |= RBLK_MDF_CONSISTENT;
		info->flags &= ~(RBLK_MDF_OUTDATED | RBLK_MDF_SYNC_TARGET);
	}
	ret = rblk_md_commit(dev, &next);
	mutex_unlock(&dev->md.lock);
	return ret;
}
