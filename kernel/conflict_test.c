// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for rblk's tree of sector ranges in flight (conflict.c).
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/kthread.h>

#include "rblk.h"

static void rblk_conflict_test_overlap(struct kunit *test)
{
	struct rblk_conflicts c;
	struct rblk_interval a, b, d;

	rblk_conflicts_init(&c);
	KUNIT_EXPECT_TRUE(test, rblk_conflicts_empty(&c));
	rblk_interval_set(&a, 8, 8);		/* 8..15 */
	KUNIT_ASSERT_EQ(test, rblk_interval_insert(&c, &a, true), 0);
	KUNIT_EXPECT_FALSE(test, rblk_conflicts_empty(&c));

	/* touching ranges do not overlap, any shared sector does */
	KUNIT_EXPECT_FALSE(test, rblk_conflicts_overlap(&c, 0, 8));
	KUNIT_EXPECT_FALSE(test, rblk_conflicts_overlap(&c, 16, 8));
	KUNIT_EXPECT_TRUE(test, rblk_conflicts_overlap(&c, 0, 9));
	KUNIT_EXPECT_TRUE(test, rblk_conflicts_overlap(&c, 15, 1));
	KUNIT_EXPECT_TRUE(test, rblk_conflicts_overlap(&c, 10, 2));
	KUNIT_EXPECT_TRUE(test, rblk_conflicts_overlap(&c, 0, 64));

	rblk_interval_set(&b, 16, 8);		/* adjacent: goes in */
	KUNIT_EXPECT_EQ(test, rblk_interval_insert(&c, &b, true), 0);
	rblk_interval_set(&d, 12, 8);		/* overlaps both */
	KUNIT_EXPECT_EQ(test, rblk_interval_insert(&c, &d, true), -EAGAIN);
	KUNIT_EXPECT_FALSE(test, d.inserted);
	rblk_interval_remove(&c, &d);		/* never inserted: no-op */

	rblk_interval_remove(&c, &a);
	KUNIT_EXPECT_EQ(test, rblk_interval_insert(&c, &d, true), -EAGAIN);
	rblk_interval_remove(&c, &b);
	KUNIT_EXPECT_EQ(test, rblk_interval_insert(&c, &d, true), 0);
	rblk_interval_remove(&c, &d);
	KUNIT_EXPECT_TRUE(test, rblk_conflicts_empty(&c));
}

static void rblk_conflict_test_high_sectors(struct kunit *test)
{
	struct rblk_conflicts c;
	struct rblk_interval a, b;

	rblk_conflicts_init(&c);
	rblk_interval_set(&a, U64_MAX - 7, 8);	/* the very last sectors */
	KUNIT_ASSERT_EQ(test, rblk_interval_insert(&c, &a, true), 0);
	KUNIT_EXPECT_TRUE(test, rblk_conflicts_overlap(&c, U64_MAX, 1));
	rblk_interval_set(&b, 0, 1);
	KUNIT_EXPECT_EQ(test, rblk_interval_insert(&c, &b, true), 0);
	rblk_interval_remove(&c, &a);
	rblk_interval_remove(&c, &b);
	KUNIT_EXPECT_TRUE(test, rblk_conflicts_empty(&c));
}

struct rblk_conflict_waiter {
	struct rblk_conflicts *c;
	struct rblk_interval iv;
	struct completion done;
};

static int rblk_conflict_waiter_fn(void *arg)
{
	struct rblk_conflict_waiter *w = arg;

	rblk_interval_insert(w->c, &w->iv, false);
	complete(&w->done);
	return 0;
}

/* A waiting insert goes in once the overlapping interval is removed. */
static void rblk_conflict_test_wait(struct kunit *test)
{
	struct rblk_conflict_waiter w;
	struct rblk_interval a;
	struct rblk_conflicts c;
	struct task_struct *t;

	rblk_conflicts_init(&c);
	rblk_interval_set(&a, 0, 128);
	KUNIT_ASSERT_EQ(test, rblk_interval_insert(&c, &a, false), 0);
	w.c = &c;
	rblk_interval_set(&w.iv, 64, 8);
	init_completion(&w.done);
	t = kthread_run(rblk_conflict_waiter_fn, &w, "rblk-conflict-test");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	KUNIT_EXPECT_EQ(test, wait_for_completion_timeout(&w.done, HZ / 10), 0UL);
	KUNIT_EXPECT_FALSE(test, w.iv.inserted);
	rblk_interval_remove(&c, &a);
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&w.done, 10 * HZ), 0UL);
	KUNIT_EXPECT_TRUE(test, w.iv.inserted);
	rblk_interval_remove(&c, &w.iv);
	KUNIT_EXPECT_TRUE(test, rblk_conflicts_empty(&c));
}

static struct kunit_case rblk_conflict_cases[] = {
	KUNIT_CASE(rblk_conflict_test_overlap),
	KUNIT_CASE(rblk_conflict_test_high_sectors),
	KUNIT_CASE(rblk_conflict_test_wait),
	{}
};

static struct kunit_suite rblk_conflict_suite = {
	.name = "rblk_conflict",
	.test_cases = rblk_conflict_cases,
};

kunit_test_suite(rblk_conflict_suite);
