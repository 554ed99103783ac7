// SPDX-License-Identifier: GPL-2.0
/*
 * rblk - conflicting writes: an interval tree of the sector ranges that
 * are in flight on a device.
 *
 * The block layer lets an upper layer have two overlapping writes in
 * flight at once and promises nothing about their order.  A replicated
 * device must not turn that freedom into divergence: the local disk and
 * every peer would each pick an order of their own.  So a write, discard
 * or write-zeroes enters the tree before it goes anywhere and leaves it
 * when it has completed everywhere (local disk and every peer leg); a
 * request that overlaps one in the tree waits until that one has left.
 * Requests that do not overlap never wait for each other.
 *
 * Resync will put its own requests into the same tree (struct
 * rblk_interval carries no knowledge of who owns it), so that an
 * application write and a resync write of the same blocks are never in
 * flight together.
 *
 * Locking: one irq-safe spinlock per tree, held only to search, insert and
 * erase; removal runs in any context (completions run in hard irq).
 */

#include <linux/interval_tree_generic.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "rblk.h"

#define RBLK_IV_START(iv)	((iv)->start_sector)
#define RBLK_IV_LAST(iv)	((iv)->last_sector)

INTERVAL_TREE_DEFINE(struct rblk_interval, rb, u64, subtree_last_sector,
		     RBLK_IV_START, RBLK_IV_LAST, static __maybe_unused, rblk_iv)

/**
 * rblk_conflicts_init() - initialise an empty tree
 * @c: the tree
 *
 * Context: any.
 */
void rblk_conflicts_init(struct rblk_conflicts *c)
{
	spin_lock_init(&c->lock);
	c->root = RB_ROOT_CACHED;
	init_waitqueue_head(&c->wait);
}

/**
 * rblk_interval_set() - describe a range before inserting it
 * @iv: the interval
 * @sector: first 512-byte sector
 * @nr_sectors: number of 512-byte sectors, non-zero
 *
 * Context: any.
 */
void rblk_interval_set(struct rblk_interval *iv, u64 sector, u32 nr_sectors)
{
	RB_CLEAR_NODE(&iv->rb);
	iv->start_sector = sector;
	iv->last_sector = sector + nr_sectors - 1;
	iv->inserted = false;
}

/* Insert @iv unless it overlaps an interval in the tree. */
static bool rblk_interval_try_insert(struct rblk_conflicts *c, struct rblk_interval *iv)
{
	unsigned long flags;
	bool ok;

	spin_lock_irqsave(&c->lock, flags);
	ok = !rblk_iv_iter_first(&c->root, iv->start_sector, iv->last_sector);
	if (ok) {
		rblk_iv_insert(iv, &c->root);
		iv->inserted = true;
	}
	spin_unlock_irqrestore(&c->lock, flags);
	return ok;
}

/**
 * rblk_interval_insert() - enter a range, waiting for overlapping ones
 * @c: the tree
 * @iv: interval set with rblk_interval_set(), not in a tree
 * @nowait: do not sleep (REQ_NOWAIT)
 *
 * Waits (uninterruptibly, as a bio cannot be abandoned) until no interval
 * overlapping @iv is in the tree, then inserts it.  Overlapping waiters are
 * not queued in order: after a removal any of them may go first.
 *
 * Context: process context, may sleep unless @nowait; no spinlock held.
 *
 * Return: 0 when inserted; -EAGAIN when @nowait and an overlapping
 * interval is in the tree (nothing inserted).
 */
int rblk_interval_insert(struct rblk_conflicts *c, struct rblk_interval *iv, bool nowait)
{
	if (rblk_interval_try_insert(c, iv))
		return 0;
	if (nowait)
		return -EAGAIN;
	wait_event(c->wait, rblk_interval_try_insert(c, iv));
	return 0;
}

/**
 * rblk_interval_remove() - leave the tree and wake overlapping waiters
 * @c: the tree
 * @iv: an interval that rblk_interval_insert() inserted, or one that was
 *	never inserted (then nothing happens)
 *
 * Context: any, including hard irq.
 */
void rblk_interval_remove(struct rblk_conflicts *c, struct rblk_interval *iv)
{
	unsigned long flags;

	if (!iv->inserted)
		return;
	spin_lock_irqsave(&c->lock, flags);
	rblk_iv_remove(iv, &c->root);
	iv->inserted = false;
	spin_unlock_irqrestore(&c->lock, flags);
	if (wq_has_sleeper(&c->wait))
		wake_up_all(&c->wait);
}

/**
 * rblk_conflicts_overlap() - is any interval overlapping a range in the tree?
 * @c: the tree
 * @sector: first 512-byte sector
 * @nr_sectors: number of 512-byte sectors, non-zero
 *
 * Context: any.
 *
 * Return: true if an interval in the tree overlaps the range.
 */
bool rblk_conflicts_overlap(struct rblk_conflicts *c, u64 sector, u32 nr_sectors)
{
	unsigned long flags;
	bool found;

	spin_lock_irqsave(&c->lock, flags);
	found = rblk_iv_iter_first(&c->root, sector, sector + nr_sectors - 1);
	spin_unlock_irqrestore(&c->lock, flags);
	return found;
}

/**
 * rblk_conflicts_empty() - is the tree empty?
 * @c: the tree
 *
 * Context: any.
 *
 * Return: true if no interval is in the tree.
 */
bool rblk_conflicts_empty(struct rblk_conflicts *c)
{
	return RB_EMPTY_ROOT(&c->root.rb_root);
}
