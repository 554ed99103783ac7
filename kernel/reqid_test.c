// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for rblk's request-id table (reqid.c).
 */

#include <kunit/test.h>
#include <linux/irqflags.h>
#include <linux/limits.h>

#include "rblk.h"

/* Distinct, properly aligned "requests": only their addresses matter. */
static u64 reqs[128];

static void rblk_reqid_test_alloc_take(struct kunit *test)
{
	struct rblk_reqid_table t;
	u64 id[3];
	int i;

	rblk_reqid_init(&t);
	for (i = 0; i < 3; i++) {
		KUNIT_ASSERT_EQ(test, rblk_reqid_alloc(&t, &reqs[i], &id[i], GFP_KERNEL), 0);
		KUNIT_EXPECT_EQ(test, id[i], (u64)(i + 1));
	}
	/* out of order */
	KUNIT_EXPECT_PTR_EQ(test, rblk_reqid_take(&t, id[1]), (void *)&reqs[1]);
	KUNIT_EXPECT_PTR_EQ(test, rblk_reqid_take(&t, id[0]), (void *)&reqs[0]);
	KUNIT_EXPECT_PTR_EQ(test, rblk_reqid_take(&t, id[2]), (void *)&reqs[2]);
	/* every id answers once only */
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_NULL(test, rblk_reqid_take(&t, id[i]));
	KUNIT_EXPECT_NULL(test, rblk_reqid_take_any(&t, NULL));
	rblk_reqid_destroy(&t);
}

static void rblk_reqid_test_take_unknown(struct kunit *test)
{
	struct rblk_reqid_table t;
	u64 id;

	rblk_reqid_init(&t);
	KUNIT_EXPECT_NULL(test, rblk_reqid_take(&t, 1));
	KUNIT_ASSERT_EQ(test, rblk_reqid_alloc(&t, &reqs[0], &id, GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, id, 1ULL);

	/* forged or stale ids find nothing and disturb nothing */
	KUNIT_EXPECT_NULL(test, rblk_reqid_take(&t, 0));
	KUNIT_EXPECT_NULL(test, rblk_reqid_take(&t, 2));
	KUNIT_EXPECT_NULL(test, rblk_reqid_take(&t, U32_MAX));
	KUNIT_EXPECT_NULL(test, rblk_reqid_take(&t, (u64)U32_MAX + 1));
	/* would alias id 1 if truncated to 32 bits */
	KUNIT_EXPECT_NULL(test, rblk_reqid_take(&t, (1ULL << 32) + 1));
	KUNIT_EXPECT_NULL(test, rblk_reqid_take(&t, U64_MAX));

	KUNIT_EXPECT_PTR_EQ(test, rblk_reqid_take(&t, 1), (void *)&reqs[0]);
	rblk_reqid_destroy(&t);
}

static void rblk_reqid_test_drain(struct kunit *test)
{
	struct rblk_reqid_table t;
	u64 id, prev = 0;
	void *req;
	int i, n = 0;

	rblk_reqid_init(&t);
	KUNIT_EXPECT_NULL(test, rblk_reqid_take_any(&t, &id));
	for (i = 0; i < ARRAY_SIZE(reqs); i++)
		KUNIT_ASSERT_EQ(test, rblk_reqid_alloc(&t, &reqs[i], &id, GFP_KERNEL), 0);
	/* answered ones must not come out of the drain */
	KUNIT_EXPECT_PTR_EQ(test, rblk_reqid_take(&t, 10), (void *)&reqs[9]);
	KUNIT_EXPECT_PTR_EQ(test, rblk_reqid_take(&t, 64), (void *)&reqs[63]);

	while ((req = rblk_reqid_take_any(&t, &id))) {
		KUNIT_EXPECT_GT(test, id, prev);
		KUNIT_EXPECT_PTR_EQ(test, req, (void *)&reqs[id - 1]);
		KUNIT_EXPECT_NE(test, id, 10ULL);
		KUNIT_EXPECT_NE(test, id, 64ULL);
		prev = id;
		n++;
	}
	KUNIT_EXPECT_EQ(test, n, (int)ARRAY_SIZE(reqs) - 2);
	KUNIT_EXPECT_NULL(test, rblk_reqid_take(&t, 1));
	KUNIT_EXPECT_NULL(test, rblk_reqid_take_any(&t, NULL));
	rblk_reqid_destroy(&t);
}

static void rblk_reqid_test_cyclic(struct kunit *test)
{
	struct rblk_reqid_table t;
	u64 id;
	int i;

	rblk_reqid_init(&t);
	for (i = 0; i < 4; i++)
		KUNIT_ASSERT_EQ(test, rblk_reqid_alloc(&t, &reqs[i], &id, GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, id, 4ULL);

	/* a freed id is not handed out again right away */
	KUNIT_EXPECT_PTR_EQ(test, rblk_reqid_take(&t, 2), (void *)&reqs[1]);
	KUNIT_ASSERT_EQ(test, rblk_reqid_alloc(&t, &reqs[4], &id, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, id, 5ULL);

	/* at the top of the range it wraps to the lowest free id, never 0 */
	t.next = U32_MAX;
	KUNIT_ASSERT_EQ(test, rblk_reqid_alloc(&t, &reqs[5], &id, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, id, (u64)U32_MAX);
	KUNIT_ASSERT_EQ(test, rblk_reqid_alloc(&t, &reqs[6], &id, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, id, 2ULL);
	KUNIT_ASSERT_EQ(test, rblk_reqid_alloc(&t, &reqs[7], &id, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, id, 6ULL);

	KUNIT_EXPECT_PTR_EQ(test, rblk_reqid_take(&t, U32_MAX), (void *)&reqs[5]);
	KUNIT_EXPECT_PTR_EQ(test, rblk_reqid_take(&t, 2), (void *)&reqs[6]);
	while (rblk_reqid_take_any(&t, NULL))
		;
	rblk_reqid_destroy(&t);
}

static void rblk_reqid_test_atomic(struct kunit *test)
{
	struct rblk_reqid_table t;
	unsigned long flags;
	u64 id1 = 0, id2 = 0;
	int ret1, ret2;
	void *req;

	rblk_reqid_init(&t);
	/* the non-blocking path works with interrupts off */
	local_irq_save(flags);
	ret1 = rblk_reqid_alloc(&t, &reqs[0], &id1, GFP_ATOMIC);
	ret2 = rblk_reqid_alloc(&t, &reqs[1], &id2, GFP_NOWAIT);
	req = rblk_reqid_take(&t, 1);
	local_irq_restore(flags);

	KUNIT_EXPECT_EQ(test, ret1, 0);
	KUNIT_EXPECT_EQ(test, ret2, 0);
	KUNIT_EXPECT_EQ(test, id1, 1ULL);
	KUNIT_EXPECT_EQ(test, id2, 2ULL);
	KUNIT_EXPECT_PTR_EQ(test, req, (void *)&reqs[0]);
	KUNIT_EXPECT_PTR_EQ(test, rblk_reqid_take_any(&t, &id1), (void *)&reqs[1]);
	KUNIT_EXPECT_EQ(test, id1, 2ULL);
	rblk_reqid_destroy(&t);
}

/* A lookup finds the request but leaves it in the table. */
static void rblk_reqid_test_lookup(struct kunit *test)
{
	struct rblk_reqid_table t;
	u64 id;

	rblk_reqid_init(&t);
	KUNIT_ASSERT_EQ(test, rblk_reqid_alloc(&t, &reqs[0], &id, GFP_KERNEL), 0);
	KUNIT_EXPECT_PTR_EQ(test, rblk_reqid_lookup(&t, id), (void *)&reqs[0]);
	KUNIT_EXPECT_PTR_EQ(test, rblk_reqid_lookup(&t, id), (void *)&reqs[0]);
	KUNIT_EXPECT_NULL(test, rblk_reqid_lookup(&t, id + 1));
	KUNIT_EXPECT_NULL(test, rblk_reqid_lookup(&t, 0));
	KUNIT_EXPECT_NULL(test, rblk_reqid_lookup(&t, (u64)U32_MAX + 1));
	KUNIT_EXPECT_PTR_EQ(test, rblk_reqid_take(&t, id), (void *)&reqs[0]);
	KUNIT_EXPECT_NULL(test, rblk_reqid_lookup(&t, id));
	rblk_reqid_destroy(&t);
}

/* The oldest request is the lowest id in flight. */
static void rblk_reqid_test_oldest(struct kunit *test)
{
	struct rblk_reqid_table t;
	u64 id[3];
	int i;

	rblk_reqid_init(&t);
	KUNIT_EXPECT_EQ(test, rblk_reqid_oldest(&t), 0ULL);
	for (i = 0; i < 3; i++)
		KUNIT_ASSERT_EQ(test, rblk_reqid_alloc(&t, &reqs[i], &id[i], GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, rblk_reqid_oldest(&t), id[0]);
	rblk_reqid_take(&t, id[1]);
	KUNIT_EXPECT_EQ(test, rblk_reqid_oldest(&t), id[0]);
	rblk_reqid_take(&t, id[0]);
	KUNIT_EXPECT_EQ(test, rblk_reqid_oldest(&t), id[2]);
	rblk_reqid_take(&t, id[2]);
	KUNIT_EXPECT_EQ(test, rblk_reqid_oldest(&t), 0ULL);
	rblk_reqid_destroy(&t);
}

static struct kunit_case rblk_reqid_test_cases[] = {
	KUNIT_CASE(rblk_reqid_test_lookup),
	KUNIT_CASE(rblk_reqid_test_oldest),
	KUNIT_CASE(rblk_reqid_test_alloc_take),
	KUNIT_CASE(rblk_reqid_test_take_unknown),
	KUNIT_CASE(rblk_reqid_test_drain),
	KUNIT_CASE(rblk_reqid_test_cyclic),
	KUNIT_CASE(rblk_reqid_test_atomic),
	{}
};

static struct kunit_suite rblk_reqid_test_suite = {
	.name = "rblk_reqid",
	.test_cases = rblk_reqid_test_cases,
};

kunit_test_suite(rblk_reqid_test_suite);
