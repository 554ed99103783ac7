/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rblk - every difference between the kernel versions rblk builds against
 * (6.1 and 6.12) lives in this file and nowhere else.
 *
 * The differences are detected by the symbols that came with them, not by
 * version numbers, so that distribution backports are handled as well:
 * BLK_FEAT_WRITE_CACHE (6.11: queue limits in struct queue_limits, and the
 * file-based bdev_file_open_by_path() of 6.9) and BLK_OPEN_WRITE (6.5:
 * blk_mode_t open/release, MSG_SPLICE_PAGES honoured by TCP, and the
 * sk_use_task_frag of 6.2).
 *
 *   - gendisk allocation and queue limits (blk_alloc_disk(node) and the
 *     blk_queue_*() setters on 6.1; struct queue_limits on 6.9+)
 *   - opening the backing device exclusively (blkdev_get_by_path() on 6.1,
 *     bdev_file_open_by_path() on 6.9+)
 *   - block_device_operations open/release signatures (6.5+: blk_mode_t)
 *   - zero-copy page sends (kernel_sendpage() on 6.1, MSG_SPLICE_PAGES on
 *     6.5+; TCP ignores MSG_SPLICE_PAGES on 6.1)
 */
#ifndef RBLK_COMPAT_H
#define RBLK_COMPAT_H

#include <linux/blkdev.h>
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <linux/bvec.h>
#include <net/sock.h>

/**
 * struct rblk_limits - queue limits rblk takes over from the backing device
 * @logical_block_size_bytes: logical block size
 * @physical_block_size_bytes: physical block size
 * @max_sectors: largest request, 512-byte sectors
 * @max_discard_sectors: largest discard, 512-byte sectors (0: no discard)
 * @discard_granularity_bytes: discard granularity
 * @max_write_zeroes_sectors: largest write zeroes, 512-byte sectors (0: none)
 */
struct rblk_limits {
	u32 logical_block_size_bytes;
	u32 physical_block_size_bytes;
	u32 max_sectors;
	u32 max_discard_sectors;
	u32 discard_granularity_bytes;
	u32 max_write_zeroes_sectors;
};

/**
 * struct rblk_bdev_handle - an exclusively opened backing device
 * @bdev: the block device
 * @file: the open file on 6.9+, unused before
 */
struct rblk_bdev_handle {
	struct block_device *bdev;
	void *file;
};

#ifdef BLK_FEAT_WRITE_CACHE

static inline void rblk_compat_fill_limits(struct queue_limits *ql,
					   const struct rblk_limits *lim)
{
	ql->features |= BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA | BLK_FEAT_STABLE_WRITES;
	ql->logical_block_size = lim->logical_block_size_bytes;
	ql->physical_block_size = lim->physical_block_size_bytes;
	ql->max_hw_sectors = lim->max_sectors;
	ql->max_hw_discard_sectors = lim->max_discard_sectors;
	ql->discard_granularity = lim->discard_granularity_bytes;
	ql->max_write_zeroes_sectors = lim->max_write_zeroes_sectors;
}

/*
 * Allocate a bio-based gendisk with @lim; ERR_PTR on failure.  The disk
 * has a volatile write cache with FUA (flushes and FUA are passed to every
 * disk) and stable writes: a page must not change while it is written,
 * because it is sent to the peers and written locally at different times.
 */
static inline struct gendisk *rblk_compat_alloc_disk(const struct rblk_limits *lim)
{
	struct queue_limits ql = { };

	rblk_compat_fill_limits(&ql, lim);
	return blk_alloc_disk(&ql, NUMA_NO_NODE);
}

/* Replace the queue limits of an unused disk.  Sleeps.  0 or -errno. */
static inline int rblk_compat_set_limits(struct gendisk *disk,
					 const struct rblk_limits *lim)
{
	struct queue_limits ql = queue_limits_start_update(disk->queue);

	ql.max_user_sectors = 0;
	ql.max_user_discard_sectors = UINT_MAX;
	ql.discard_granularity = 0;
	rblk_compat_fill_limits(&ql, lim);
	if (!ql.max_hw_discard_sectors)
		ql.max_user_discard_sectors = 0;
	return queue_limits_commit_update(disk->queue, &ql);
}

static inline int rblk_compat_bdev_open(const char *path, void *holder,
					struct rblk_bdev_handle *h)
{
	struct file *file;

	file = bdev_file_open_by_path(path, BLK_OPEN_READ | BLK_OPEN_WRITE,
				      holder, NULL);
	if (IS_ERR(file))
		return PTR_ERR(file);
	h->file = file;
	h->bdev = file_bdev(file);
	return 0;
}

static inline void rblk_compat_bdev_close(struct rblk_bdev_handle *h, void *holder)
{
	bdev_fput(h->file);
	h->file = NULL;
	h->bdev = NULL;
}

#else /* !BLK_FEAT_WRITE_CACHE */

static inline int rblk_compat_set_limits(struct gendisk *disk,
					 const struct rblk_limits *lim)
{
	struct request_queue *q = disk->queue;

	blk_queue_logical_block_size(q, lim->logical_block_size_bytes);
	blk_queue_physical_block_size(q, lim->physical_block_size_bytes);
	blk_queue_max_hw_sectors(q, lim->max_sectors);
	blk_queue_max_discard_sectors(q, lim->max_discard_sectors);
	q->limits.discard_granularity = lim->discard_granularity_bytes;
	blk_queue_max_write_zeroes_sectors(q, lim->max_write_zeroes_sectors);
	return 0;
}

static inline struct gendisk *rblk_compat_alloc_disk(const struct rblk_limits *lim)
{
	struct gendisk *disk = blk_alloc_disk(NUMA_NO_NODE);

	if (!disk)
		return ERR_PTR(-ENOMEM);
	blk_queue_write_cache(disk->queue, true, true);
	blk_queue_flag_set(QUEUE_FLAG_STABLE_WRITES, disk->queue);
	rblk_compat_set_limits(disk, lim);
	return disk;
}

#define RBLK_COMPAT_BDEV_MODE	(FMODE_READ | FMODE_WRITE | FMODE_EXCL)

static inline int rblk_compat_bdev_open(const char *path, void *holder,
					struct rblk_bdev_handle *h)
{
	struct block_device *bdev;

	bdev = blkdev_get_by_path(path, RBLK_COMPAT_BDEV_MODE, holder);
	if (IS_ERR(bdev))
		return PTR_ERR(bdev);
	h->bdev = bdev;
	h->file = NULL;
	return 0;
}

static inline void rblk_compat_bdev_close(struct rblk_bdev_handle *h, void *holder)
{
	blkdev_put(h->bdev, RBLK_COMPAT_BDEV_MODE);
	h->bdev = NULL;
}

#endif /* BLK_FEAT_WRITE_CACHE */

/*
 * block_device_operations open/release: the driver implements
 * rblk_disk_open() and rblk_disk_release() (main.c); these wrappers have
 * the version-specific signatures.
 */
int rblk_disk_open(struct gendisk *disk, bool for_write);
void rblk_disk_release(struct gendisk *disk);

#ifdef BLK_OPEN_WRITE
static inline int rblk_compat_open(struct gendisk *disk, blk_mode_t mode)
{
	return rblk_disk_open(disk, mode & BLK_OPEN_WRITE);
}

static inline void rblk_compat_release(struct gendisk *disk)
{
	rblk_disk_release(disk);
}
#else
static inline int rblk_compat_open(struct block_device *bdev, fmode_t mode)
{
	return rblk_disk_open(bdev->bd_disk, mode & FMODE_WRITE);
}

static inline void rblk_compat_release(struct gendisk *disk, fmode_t mode)
{
	rblk_disk_release(disk);
}
#endif

/**
 * rblk_compat_send_page - send part of a page on a TCP socket without copying
 * @sock: connected socket (non-blocking sends need MSG_DONTWAIT in @flags)
 * @page: page holding the data; must satisfy sendpage_ok()
 * @offset: offset in @page, bytes
 * @len: bytes to send
 * @flags: MSG_* flags (MSG_DONTWAIT, MSG_MORE)
 *
 * The network stack takes its own page reference.  Returns the number of
 * bytes queued (may be short) or a negative errno (-EAGAIN when full).
 */
#ifdef BLK_OPEN_WRITE
static inline int rblk_compat_send_page(struct socket *sock, struct page *page,
					int offset, size_t len, int flags)
{
	struct msghdr msg = { .msg_flags = flags | MSG_SPLICE_PAGES };
	struct bio_vec bvec;

	bvec_set_page(&bvec, page, len, offset);
	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, &bvec, 1, len);
	return sock_sendmsg(sock, &msg);
}
#else
static inline int rblk_compat_send_page(struct socket *sock, struct page *page,
					int offset, size_t len, int flags)
{
	return kernel_sendpage(sock, page, offset, len, flags);
}
#endif

/**
 * rblk_compat_sock_noio - make a kernel socket safe for the block I/O path
 * @sk: socket
 *
 * Allocations on the socket must not recurse into block I/O (GFP_NOIO),
 * and from 6.2 on the socket must not use the sending task's page_frag.
 */
static inline void rblk_compat_sock_noio(struct sock *sk)
{
	sk->sk_allocation = GFP_NOIO;
#ifdef BLK_OPEN_WRITE
	sk->sk_use_task_frag = false;
#endif
}

#endif /* RBLK_COMPAT_H */
