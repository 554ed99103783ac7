// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the on-disk metadata's pure parts (md.c): the layout,
 * superblock encode/decode with every check, the choice between the two
 * copies (a torn write of one leaves the other), the generation history.
 */

#include <kunit/test.h>
#include <linux/slab.h>

#include "rblk.h"
#include "rblk_md.h"

#define GIB BIT_ULL(30)

static void rblk_md_test_layout_internal(struct kunit *test)
{
	struct rblk_md_layout l;

	KUNIT_ASSERT_EQ(test, rblk_md_layout(GIB, 0, 1, &l), 0);
	/* 1 GiB: 262144 bits = 32 KiB of bitmap; 256 AL bits -> 4 KiB */
	KUNIT_EXPECT_EQ(test, l.bm_slot_bytes, 32768U);
	KUNIT_EXPECT_EQ(test, l.al_offset_bytes, 8192U);
	KUNIT_EXPECT_EQ(test, l.al_bytes, 4096U);
	KUNIT_EXPECT_EQ(test, l.bm_offset_bytes, 12288U);
	KUNIT_EXPECT_EQ(test, l.md_size_sectors, (12288ULL + 32768) >> 9);
	KUNIT_EXPECT_EQ(test, l.md_offset_sectors, (GIB - 12288 - 32768) >> 9);
	KUNIT_EXPECT_EQ(test, l.data_sectors, l.md_offset_sectors);
	KUNIT_EXPECT_EQ(test, l.data_sectors % 8, 0ULL);
	/* the metadata ends within the device */
	KUNIT_EXPECT_LE(test, (l.md_offset_sectors + l.md_size_sectors) << 9, GIB);

	/* three peers: three slots */
	KUNIT_ASSERT_EQ(test, rblk_md_layout(GIB, 0, 3, &l), 0);
	KUNIT_EXPECT_EQ(test, l.md_size_sectors, (12288ULL + 3 * 32768) >> 9);

	/* an odd size: data rounded down to 4 KiB */
	KUNIT_ASSERT_EQ(test, rblk_md_layout(GIB + 1536, 0, 1, &l), 0);
	KUNIT_EXPECT_EQ(test, l.data_sectors % 8, 0ULL);
	KUNIT_EXPECT_LE(test, (l.md_offset_sectors + l.md_size_sectors) << 9, GIB + 1536);
}

static void rblk_md_test_layout_external(struct kunit *test)
{
	struct rblk_md_layout l;

	KUNIT_ASSERT_EQ(test, rblk_md_layout(GIB, 1 << 20, 2, &l), 0);
	KUNIT_EXPECT_EQ(test, l.md_offset_sectors, 0ULL);
	KUNIT_EXPECT_EQ(test, l.data_sectors, GIB >> 9);
	/* too small a metadata device */
	KUNIT_EXPECT_EQ(test, rblk_md_layout(GIB, 16384, 2, &l), -ENOSPC);
}

static void rblk_md_test_layout_bad(struct kunit *test)
{
	struct rblk_md_layout l;

	KUNIT_EXPECT_EQ(test, rblk_md_layout(GIB, 0, 0, &l), -EINVAL);
	KUNIT_EXPECT_EQ(test, rblk_md_layout(GIB, 0, RBLK_MD_MAX_SLOTS + 1, &l), -EINVAL);
	/* a device smaller than its own metadata */
	KUNIT_EXPECT_EQ(test, rblk_md_layout(8192, 0, 1, &l), -ENOSPC);
	KUNIT_EXPECT_EQ(test, rblk_md_layout(0, 0, 1, &l), -ENOSPC);
}

static void rblk_md_test_info(struct rblk_md_info *md)
{
	unsigned int i;

	memset(md, 0, sizeof(*md));
	rblk_md_layout(GIB, 0, 2, &md->layout);
	md->flags = RBLK_MDF_CONSISTENT | RBLK_MDF_ATTACHED;
	md->seq = 6;
	md->node_id = 3;
	md->current_uuid = 0x1111222233334444ULL;
	md->history[0] = 0x5555;
	md->history[1] = 0x6666;
	for (i = 0; i < RBLK_MD_MAX_SLOTS; i++)
		md->slots[i].node_id = RBLK_MD_NO_NODE;
	md->slots[0].node_id = 1;
	md->slots[0].bitmap_uuid = 0x5555;
	md->slots[1].node_id = 7;
	md->slots[1].flags = RBLK_MD_SLOT_BM_CLEAN;
}

static void rblk_md_test_roundtrip(struct kunit *test)
{
	struct rblk_md_sb *sb = kunit_kzalloc(test, sizeof(*sb), GFP_KERNEL);
	struct rblk_md_info *in = kunit_kzalloc(test, sizeof(*in), GFP_KERNEL);
	struct rblk_md_info *out = kunit_kzalloc(test, sizeof(*out), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, sb);
	KUNIT_ASSERT_NOT_NULL(test, in);
	KUNIT_ASSERT_NOT_NULL(test, out);
	rblk_md_test_info(in);
	rblk_md_sb_encode(sb, in);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(sb->magic), RBLK_MD_MAGIC);
	KUNIT_EXPECT_EQ(test, sb->crc32c, 0U);
	sb->crc32c = cpu_to_le32(0xdeadbeef);
	KUNIT_ASSERT_EQ(test, rblk_md_sb_decode(sb, 0xdeadbeef, out), 0);
	KUNIT_EXPECT_EQ(test, memcmp(in, out, sizeof(*in)), 0);
}

/* One field broken at a time: each is refused with its own errno. */
static void rblk_md_test_decode_errors(struct kunit *test)
{
	struct rblk_md_sb *sb = kunit_kzalloc(test, sizeof(*sb), GFP_KERNEL);
	struct rblk_md_info *in = kunit_kzalloc(test, sizeof(*in), GFP_KERNEL);
	struct rblk_md_info *out = kunit_kzalloc(test, sizeof(*out), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, sb);
	KUNIT_ASSERT_NOT_NULL(test, in);
	KUNIT_ASSERT_NOT_NULL(test, out);
	rblk_md_test_info(in);

#define RBLK_MD_BROKEN(stmt, err) do {						\
		rblk_md_sb_encode(sb, in);					\
		stmt;								\
		KUNIT_EXPECT_EQ_MSG(test, rblk_md_sb_decode(sb, 0, out), err, #stmt); \
	} while (0)

	RBLK_MD_BROKEN(sb->magic = 0, -ENOMSG);
	RBLK_MD_BROKEN(sb->format_version = cpu_to_le32(2), -EPROTONOSUPPORT);
	RBLK_MD_BROKEN(sb->crc32c = cpu_to_le32(1), -EBADMSG);
	RBLK_MD_BROKEN(sb->bm_block_bytes = cpu_to_le32(512), -EUCLEAN);
	RBLK_MD_BROKEN(sb->al_extent_bytes = cpu_to_le32(1 << 20), -EUCLEAN);
	RBLK_MD_BROKEN(sb->reserved[100] = 1, -EUCLEAN);
	RBLK_MD_BROKEN(sb->flags = cpu_to_le32(1U << 31), -EUCLEAN);
	RBLK_MD_BROKEN(sb->node_id = cpu_to_le32(RBLK_MAX_NODE_ID + 1), -EUCLEAN);
	RBLK_MD_BROKEN(sb->max_peers = 0, -EUCLEAN);
	RBLK_MD_BROKEN(sb->max_peers = cpu_to_le32(RBLK_MD_MAX_SLOTS + 1), -EUCLEAN);
	RBLK_MD_BROKEN(sb->data_sectors = 0, -EUCLEAN);
	RBLK_MD_BROKEN(sb->data_sectors = cpu_to_le64(9), -EUCLEAN);
	/* a bitmap too small for the data */
	RBLK_MD_BROKEN(sb->data_sectors = cpu_to_le64(4 * (GIB >> 9)), -EUCLEAN);
	RBLK_MD_BROKEN(sb->al_offset_bytes = cpu_to_le32(4096), -EUCLEAN);
	RBLK_MD_BROKEN(sb->bm_offset_bytes = cpu_to_le32(8192), -EUCLEAN);
	RBLK_MD_BROKEN(sb->bm_slot_bytes = cpu_to_le32(32769), -EUCLEAN);
	RBLK_MD_BROKEN(sb->md_size_sectors = cpu_to_le64(8), -EUCLEAN);
	/* a slot beyond max_peers, a slot of our own node id, a bad flag */
	RBLK_MD_BROKEN(sb->slots[2].node_id = cpu_to_le32(4), -EUCLEAN);
	RBLK_MD_BROKEN(sb->slots[0].node_id = cpu_to_le32(3), -EUCLEAN);
	RBLK_MD_BROKEN(sb->slots[0].node_id = cpu_to_le32(RBLK_MAX_NODE_ID + 1), -EUCLEAN);
	RBLK_MD_BROKEN(sb->slots[0].flags = cpu_to_le32(2), -EUCLEAN);
	/* and the unbroken one */
	RBLK_MD_BROKEN((void)0, 0);
#undef RBLK_MD_BROKEN
}

static void rblk_md_test_pick_copy(struct kunit *test)
{
	/* both valid: the higher sequence number */
	KUNIT_EXPECT_EQ(test, rblk_md_pick_copy(0, 4, 0, 5), 1);
	KUNIT_EXPECT_EQ(test, rblk_md_pick_copy(0, 6, 0, 5), 0);
	/* a torn (bad checksum) newer copy: the older one */
	KUNIT_EXPECT_EQ(test, rblk_md_pick_copy(0, 4, -EBADMSG, 0), 0);
	KUNIT_EXPECT_EQ(test, rblk_md_pick_copy(-EBADMSG, 0, 0, 5), 1);
	/* a copy not where its sequence number puts it does not count */
	KUNIT_EXPECT_EQ(test, rblk_md_pick_copy(0, 5, 0, 3), 1);
	KUNIT_EXPECT_EQ(test, rblk_md_pick_copy(0, 4, 0, 6), 0);
	/* none: no metadata at all, or damaged metadata */
	KUNIT_EXPECT_EQ(test, rblk_md_pick_copy(-ENOMSG, 0, -ENOMSG, 0), -ENOMSG);
	KUNIT_EXPECT_EQ(test, rblk_md_pick_copy(-ENOMSG, 0, -EBADMSG, 0), -EBADMSG);
	KUNIT_EXPECT_EQ(test, rblk_md_pick_copy(-EBADMSG, 0, -EBADMSG, 0), -EBADMSG);
	KUNIT_EXPECT_EQ(test, rblk_md_pick_copy(-EUCLEAN, 0, -ENOMSG, 0), -EUCLEAN);
}

static void rblk_md_test_history(struct kunit *test)
{
	struct rblk_md_info md = { };

	rblk_md_push_history(&md, 10);
	KUNIT_EXPECT_EQ(test, md.current_uuid, 10ULL);
	KUNIT_EXPECT_EQ(test, md.history[0], 0ULL);
	rblk_md_push_history(&md, 11);
	rblk_md_push_history(&md, 12);
	KUNIT_EXPECT_EQ(test, md.current_uuid, 12ULL);
	KUNIT_EXPECT_EQ(test, md.history[0], 11ULL);
	KUNIT_EXPECT_EQ(test, md.history[1], 10ULL);
	rblk_md_push_history(&md, 13);
	rblk_md_push_history(&md, 14);
	rblk_md_push_history(&md, 15);
	/* four kept, oldest dropped */
	KUNIT_EXPECT_EQ(test, md.history[0], 14ULL);
	KUNIT_EXPECT_EQ(test, md.history[3], 11ULL);
	KUNIT_EXPECT_NE(test, rblk_md_new_uuid(), 0ULL);
}

static struct kunit_case rblk_md_test_cases[] = {
	KUNIT_CASE(rblk_md_test_layout_internal),
	KUNIT_CASE(rblk_md_test_layout_external),
	KUNIT_CASE(rblk_md_test_layout_bad),
	KUNIT_CASE(rblk_md_test_roundtrip),
	KUNIT_CASE(rblk_md_test_decode_errors),
	KUNIT_CASE(rblk_md_test_pick_copy),
	KUNIT_CASE(rblk_md_test_history),
	{}
};

static struct kunit_suite rblk_md_test_suite = {
	.name = "rblk_md",
	.test_cases = rblk_md_test_cases,
};

kunit_test_suite(rblk_md_test_suite);

MODULE_LICENSE("GPL");
