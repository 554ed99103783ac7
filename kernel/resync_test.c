// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the resync rate controller's rules (resync.c).
 */

#include <kunit/test.h>

#include "rblk.h"

#define TARGET_US	50000ULL	/* 50 ms */

/* Above the target the window shrinks by a quarter, never below one. */
static void rblk_rs_test_window_shrinks(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, rblk_rs_next_window(32, TARGET_US + 1, TARGET_US, true), 24U);
	KUNIT_EXPECT_EQ(test, rblk_rs_next_window(32, TARGET_US + 1, TARGET_US, false), 24U);
	KUNIT_EXPECT_EQ(test, rblk_rs_next_window(3, 10 * TARGET_US, TARGET_US, true), 2U);
	KUNIT_EXPECT_EQ(test, rblk_rs_next_window(2, 10 * TARGET_US, TARGET_US, true), 1U);
	KUNIT_EXPECT_EQ(test, rblk_rs_next_window(1, 10 * TARGET_US, TARGET_US, true), 1U);
}

/* Below the target it grows only when it held requests back. */
static void rblk_rs_test_window_grows(struct kunit *test)
{
	/* far below: doubles */
	KUNIT_EXPECT_EQ(test, rblk_rs_next_window(4, TARGET_US / 2, TARGET_US, true), 8U);
	KUNIT_EXPECT_EQ(test, rblk_rs_next_window(20, 1, TARGET_US, true), RBLK_RS_WINDOW_MAX);
	/* near: one more */
	KUNIT_EXPECT_EQ(test, rblk_rs_next_window(4, TARGET_US / 2 + 1, TARGET_US, true), 5U);
	KUNIT_EXPECT_EQ(test, rblk_rs_next_window(4, TARGET_US, TARGET_US, true), 5U);
	KUNIT_EXPECT_EQ(test, rblk_rs_next_window(RBLK_RS_WINDOW_MAX, TARGET_US, TARGET_US, true),
			RBLK_RS_WINDOW_MAX);
	/* not the limit: unchanged */
	KUNIT_EXPECT_EQ(test, rblk_rs_next_window(4, 1, TARGET_US, false), 4U);
	/* out-of-range input is clamped */
	KUNIT_EXPECT_EQ(test, rblk_rs_next_window(0, 1, TARGET_US, false), 1U);
	KUNIT_EXPECT_EQ(test, rblk_rs_next_window(1000, 1, TARGET_US, false), RBLK_RS_WINDOW_MAX);
}

/* The fixed-rate credit grows with time up to its cap. */
static void rblk_rs_test_refill(struct kunit *test)
{
	/* 1024 KiB/s: 100 ms gives 102.4 KiB */
	KUNIT_EXPECT_EQ(test, rblk_rs_refill(0, 1024, 100, 131072), 104857ULL);
	/* cap: one request when 100 ms of the rate is less */
	KUNIT_EXPECT_EQ(test, rblk_rs_refill(0, 1024, 5000, 131072), 131072ULL);
	/* cap: 100 ms of the rate when that is more (100 MiB/s) */
	KUNIT_EXPECT_EQ(test, rblk_rs_refill(0, 102400, 5000, 131072), 10485760ULL);
	/* no time, no credit; credit kept */
	KUNIT_EXPECT_EQ(test, rblk_rs_refill(4096, 1024, 0, 131072), 4096ULL);
	/* the maximum rate and a long pause do not overflow */
	KUNIT_EXPECT_EQ(test, rblk_rs_refill(0, RBLK_RESYNC_RATE_KIB_PER_S_MAX, U32_MAX, 131072),
			(u64)RBLK_RESYNC_RATE_KIB_PER_S_MAX * 1024 / 10);
}

/* The wait for the missing credit, rounded up, at least 1 ms. */
static void rblk_rs_test_credit_wait(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, rblk_rs_credit_wait_ms(131072, 131072, 1024), 0U);
	/* 128 KiB at 1 MiB/s: 125 ms */
	KUNIT_EXPECT_EQ(test, rblk_rs_credit_wait_ms(0, 131072, 1024), 125U);
	KUNIT_EXPECT_EQ(test, rblk_rs_credit_wait_ms(131071, 131072, 1024), 1U);
	KUNIT_EXPECT_EQ(test, rblk_rs_credit_wait_ms(0, 4096, RBLK_RESYNC_RATE_KIB_PER_S_MAX), 1U);
	/* 1 KiB/s: 128 s */
	KUNIT_EXPECT_EQ(test, rblk_rs_credit_wait_ms(0, 131072, 1), 128000U);
}

static struct kunit_case rblk_rs_test_cases[] = {
	KUNIT_CASE(rblk_rs_test_window_shrinks),
	KUNIT_CASE(rblk_rs_test_window_grows),
	KUNIT_CASE(rblk_rs_test_refill),
	KUNIT_CASE(rblk_rs_test_credit_wait),
	{}
};

static struct kunit_suite rblk_rs_test_suite = {
	.name = "rblk_resync_rate",
	.test_cases = rblk_rs_test_cases,
};

kunit_test_suite(rblk_rs_test_suite);

MODULE_LICENSE("GPL");
