// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for rblk's state rules (state.c).
 */

#include <kunit/test.h>

#include "rblk.h"

#define SEC RBLK_ROLE_SECONDARY
#define PRI RBLK_ROLE_PRIMARY

struct rblk_role_case {
	const char *name;
	enum rblk_role cur, want;
	bool force;
	enum rblk_disk_state disk;
	unsigned int open_count;
	bool any_peer_primary;
	int expected;
};

static const struct rblk_role_case rblk_role_cases[] = {
	/* promote */
	{ "promote up_to_date", SEC, PRI, false, RBLK_DISK_UP_TO_DATE, 0, false, 0 },
	{ "promote while open", SEC, PRI, false, RBLK_DISK_UP_TO_DATE, 3, false, 0 },
	{ "promote diskless", SEC, PRI, false, RBLK_DISK_DISKLESS, 0, false, -ENOMEDIUM },
	{ "promote diskless forced", SEC, PRI, true, RBLK_DISK_DISKLESS, 0, false, -ENOMEDIUM },
	{ "promote failed forced", SEC, PRI, true, RBLK_DISK_FAILED, 0, false, -ENOMEDIUM },
	{ "promote diskless, peer primary", SEC, PRI, false, RBLK_DISK_DISKLESS, 0, true,
	  -ENOMEDIUM },
	{ "promote inconsistent", SEC, PRI, false, RBLK_DISK_INCONSISTENT, 0, false, -ESTALE },
	{ "promote outdated", SEC, PRI, false, RBLK_DISK_OUTDATED, 0, false, -ESTALE },
	{ "promote inconsistent forced", SEC, PRI, true, RBLK_DISK_INCONSISTENT, 0, false, 0 },
	{ "promote outdated forced", SEC, PRI, true, RBLK_DISK_OUTDATED, 0, false, 0 },
	{ "promote consistent", SEC, PRI, false, RBLK_DISK_CONSISTENT, 0, false, -ESTALE },
	{ "promote consistent forced", SEC, PRI, true, RBLK_DISK_CONSISTENT, 0, false, 0 },
	{ "promote, peer primary", SEC, PRI, false, RBLK_DISK_UP_TO_DATE, 0, true, -EBUSY },
	{ "promote forced, peer primary", SEC, PRI, true, RBLK_DISK_UP_TO_DATE, 0, true,
	  -EBUSY },
	{ "promote outdated, peer primary", SEC, PRI, false, RBLK_DISK_OUTDATED, 0, true,
	  -EBUSY },
	/* demote */
	{ "demote closed", PRI, SEC, false, RBLK_DISK_UP_TO_DATE, 0, false, 0 },
	{ "demote open", PRI, SEC, false, RBLK_DISK_UP_TO_DATE, 1, false, -EBUSY },
	{ "demote open forced", PRI, SEC, true, RBLK_DISK_UP_TO_DATE, 2, false, -EBUSY },
	{ "demote diskless", PRI, SEC, false, RBLK_DISK_DISKLESS, 0, false, 0 },
	/* no-ops */
	{ "primary again", PRI, PRI, false, RBLK_DISK_UP_TO_DATE, 5, false, 0 },
	{ "primary again, outdated", PRI, PRI, false, RBLK_DISK_OUTDATED, 0, false, 0 },
	{ "secondary again, open", SEC, SEC, false, RBLK_DISK_DISKLESS, 1, true, 0 },
	/* invalid roles */
	{ "want unknown", SEC, RBLK_ROLE_UNKNOWN, false, RBLK_DISK_UP_TO_DATE, 0, false,
	  -EINVAL },
	{ "want 7", SEC, 7, false, RBLK_DISK_UP_TO_DATE, 0, false, -EINVAL },
	{ "current unknown", RBLK_ROLE_UNKNOWN, PRI, false, RBLK_DISK_UP_TO_DATE, 0, false,
	  -EINVAL },
};

static void rblk_role_case_desc(const struct rblk_role_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(rblk_role, rblk_role_cases, rblk_role_case_desc);

static void rblk_state_test_role_change(struct kunit *test)
{
	const struct rblk_role_case *c = test->param_value;
	const char *why = "stale";
	int ret;

	ret = rblk_role_change_check(c->cur, c->want, c->force, c->disk,
				     c->open_count, c->any_peer_primary, &why);
	KUNIT_EXPECT_EQ(test, ret, c->expected);
	if (ret) {
		/* every refusal explains itself for the extack */
		KUNIT_EXPECT_NOT_NULL(test, why);
		if (why)
			KUNIT_EXPECT_GT(test, strlen(why), (size_t)0);
	} else {
		KUNIT_EXPECT_NULL(test, why);
	}
}

static void rblk_state_test_peer_role_req(struct kunit *test)
{
	struct rblk_role_req_view v = {
		.local_role = SEC, .primary_peer = RBLK_NO_PEER, .requester = 2,
	};
	const char *why;

	KUNIT_EXPECT_EQ(test, rblk_peer_role_req_check(&v, &why), 0);
	KUNIT_EXPECT_NULL(test, why);
	v.local_role = PRI;
	KUNIT_EXPECT_EQ(test, rblk_peer_role_req_check(&v, &why), -EBUSY);
	KUNIT_EXPECT_NOT_NULL(test, why);
	v.local_role = SEC;
	v.promoting = true;
	KUNIT_EXPECT_EQ(test, rblk_peer_role_req_check(&v, &why), -EBUSY);
	v.promoting = false;
	/* another peer is our primary (granted or primary in its HELLO) */
	v.primary_peer = 1;
	KUNIT_EXPECT_EQ(test, rblk_peer_role_req_check(&v, &why), -EBUSY);
	KUNIT_EXPECT_STREQ(test, why, "another peer is primary");
	/* ... and it never overrides a refusal for missed writes' sake */
	v.requester_missed_writes = true;
	KUNIT_EXPECT_EQ(test, rblk_peer_role_req_check(&v, &why), -EBUSY);
	v.primary_peer = RBLK_NO_PEER;
	KUNIT_EXPECT_EQ(test, rblk_peer_role_req_check(&v, &why), -ESTALE);
	v.requester_missed_writes = false;
	/* asking twice is a protocol error, whatever else holds */
	v.primary_peer = 2;
	KUNIT_EXPECT_EQ(test, rblk_peer_role_req_check(&v, &why), -EPROTO);
	v.local_role = PRI;
	KUNIT_EXPECT_EQ(test, rblk_peer_role_req_check(&v, &why), -EPROTO);
}

static void rblk_state_test_ko_timer(struct kunit *test)
{
	struct rblk_ko_timer t = { };
	unsigned long now = (unsigned long)-50;	/* jiffies wrap on the way */

	/* nothing waits: never expires */
	KUNIT_EXPECT_FALSE(test, rblk_ko_expired(&t, 0, now, 10));
	KUNIT_EXPECT_FALSE(test, rblk_ko_expired(&t, 0, now + 1000, 10));
	/* request 5 is the oldest: the clock starts at this check */
	KUNIT_EXPECT_FALSE(test, rblk_ko_expired(&t, 5, now, 100));
	KUNIT_EXPECT_FALSE(test, rblk_ko_expired(&t, 5, now + 100, 100));
	/* 5 was answered, 6 is the oldest now: the clock restarts */
	KUNIT_EXPECT_FALSE(test, rblk_ko_expired(&t, 6, now + 150, 100));
	KUNIT_EXPECT_FALSE(test, rblk_ko_expired(&t, 6, now + 250, 100));
	KUNIT_EXPECT_TRUE(test, rblk_ko_expired(&t, 6, now + 251, 100));
	/* nothing waits any more: disarmed, and a new wait starts afresh */
	KUNIT_EXPECT_FALSE(test, rblk_ko_expired(&t, 0, now + 300, 100));
	KUNIT_EXPECT_FALSE(test, rblk_ko_expired(&t, 9, now + 1000, 100));
	KUNIT_EXPECT_FALSE(test, rblk_ko_expired(&t, 9, now + 1100, 100));
	KUNIT_EXPECT_TRUE(test, rblk_ko_expired(&t, 9, now + 1101, 100));
}

static void rblk_state_test_wire_disk_state(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, rblk_wire_disk_state(RBLK_DISK_FAILED), RBLK_DISK_DISKLESS);
	KUNIT_EXPECT_EQ(test, rblk_wire_disk_state(RBLK_DISK_UP_TO_DATE), RBLK_DISK_UP_TO_DATE);
	KUNIT_EXPECT_EQ(test, rblk_wire_disk_state(RBLK_DISK_OUTDATED), RBLK_DISK_OUTDATED);
	KUNIT_EXPECT_EQ(test, rblk_wire_disk_state(RBLK_DISK_DISKLESS), RBLK_DISK_DISKLESS);
}

static void rblk_state_test_peer_may_write(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, rblk_peer_may_write(SEC, 1, 1, PRI));
	/* not the one we granted */
	KUNIT_EXPECT_FALSE(test, rblk_peer_may_write(SEC, 1, 2, PRI));
	KUNIT_EXPECT_FALSE(test, rblk_peer_may_write(SEC, RBLK_NO_PEER, 1, PRI));
	KUNIT_EXPECT_FALSE(test, rblk_peer_may_write(SEC, RBLK_NO_PEER, RBLK_NO_PEER, PRI));
	/* granted but not announced primary yet, or announced secondary since */
	KUNIT_EXPECT_FALSE(test, rblk_peer_may_write(SEC, 1, 1, SEC));
	KUNIT_EXPECT_FALSE(test, rblk_peer_may_write(SEC, 1, 1, RBLK_ROLE_UNKNOWN));
	/* a primary takes writes from nobody */
	KUNIT_EXPECT_FALSE(test, rblk_peer_may_write(PRI, 1, 1, PRI));
}

static void rblk_state_test_peer_disk_claimed(struct kunit *test)
{
	/* a peer that missed our writes cannot claim its way back to up_to_date */
	KUNIT_EXPECT_EQ(test, rblk_peer_disk_claimed(true, RBLK_DISK_UP_TO_DATE),
			RBLK_DISK_OUTDATED);
	KUNIT_EXPECT_EQ(test, rblk_peer_disk_claimed(true, RBLK_DISK_INCONSISTENT),
			RBLK_DISK_INCONSISTENT);
	KUNIT_EXPECT_EQ(test, rblk_peer_disk_claimed(true, RBLK_DISK_DISKLESS),
			RBLK_DISK_DISKLESS);
	/* without a record of missed writes the claim stands */
	KUNIT_EXPECT_EQ(test, rblk_peer_disk_claimed(false, RBLK_DISK_UP_TO_DATE),
			RBLK_DISK_UP_TO_DATE);
	KUNIT_EXPECT_EQ(test, rblk_peer_disk_claimed(false, RBLK_DISK_OUTDATED),
			RBLK_DISK_OUTDATED);
}

static void rblk_state_test_peer_disk_after_disconnect(struct kunit *test)
{
	/* we are primary: the peer misses writes from now on */
	KUNIT_EXPECT_EQ(test, rblk_peer_disk_after_disconnect(PRI, RBLK_DISK_UP_TO_DATE),
			RBLK_DISK_OUTDATED);
	KUNIT_EXPECT_EQ(test, rblk_peer_disk_after_disconnect(PRI, RBLK_DISK_OUTDATED),
			RBLK_DISK_OUTDATED);
	KUNIT_EXPECT_EQ(test, rblk_peer_disk_after_disconnect(PRI, RBLK_DISK_INCONSISTENT),
			RBLK_DISK_INCONSISTENT);
	KUNIT_EXPECT_EQ(test, rblk_peer_disk_after_disconnect(PRI, RBLK_DISK_DISKLESS),
			RBLK_DISK_DISKLESS);
	/* a peer never seen connected may hold old data: never up_to_date */
	KUNIT_EXPECT_EQ(test, rblk_peer_disk_after_disconnect(PRI, RBLK_DISK_UNKNOWN),
			RBLK_DISK_OUTDATED);
	/* we are secondary: nothing is known any more, never up_to_date */
	KUNIT_EXPECT_EQ(test, rblk_peer_disk_after_disconnect(SEC, RBLK_DISK_UP_TO_DATE),
			RBLK_DISK_UNKNOWN);
	KUNIT_EXPECT_EQ(test, rblk_peer_disk_after_disconnect(SEC, RBLK_DISK_INCONSISTENT),
			RBLK_DISK_UNKNOWN);
}

static void rblk_state_test_local_disk_after_disconnect(struct kunit *test)
{
	/*
	 * a secondary that loses its primary keeps every acknowledged write:
	 * it stays up_to_date (the generation UUIDs judge at reconnect)
	 */
	KUNIT_EXPECT_EQ(test, rblk_local_disk_after_disconnect(SEC, PRI, RBLK_DISK_UP_TO_DATE),
			RBLK_DISK_UP_TO_DATE);
	KUNIT_EXPECT_EQ(test, rblk_local_disk_after_disconnect(SEC, PRI, RBLK_DISK_OUTDATED),
			RBLK_DISK_OUTDATED);
	KUNIT_EXPECT_EQ(test, rblk_local_disk_after_disconnect(SEC, PRI, RBLK_DISK_INCONSISTENT),
			RBLK_DISK_INCONSISTENT);
	KUNIT_EXPECT_EQ(test, rblk_local_disk_after_disconnect(SEC, PRI, RBLK_DISK_DISKLESS),
			RBLK_DISK_DISKLESS);
	/* losing a secondary changes nothing locally */
	KUNIT_EXPECT_EQ(test, rblk_local_disk_after_disconnect(SEC, SEC, RBLK_DISK_UP_TO_DATE),
			RBLK_DISK_UP_TO_DATE);
	KUNIT_EXPECT_EQ(test, rblk_local_disk_after_disconnect(PRI, SEC, RBLK_DISK_UP_TO_DATE),
			RBLK_DISK_UP_TO_DATE);
}

static void rblk_state_test_names(struct kunit *test)
{
	KUNIT_EXPECT_STREQ(test, rblk_role_name(RBLK_ROLE_UNKNOWN), "unknown");
	KUNIT_EXPECT_STREQ(test, rblk_role_name(SEC), "secondary");
	KUNIT_EXPECT_STREQ(test, rblk_role_name(PRI), "primary");
	KUNIT_EXPECT_STREQ(test, rblk_role_name(3), "invalid");

	KUNIT_EXPECT_STREQ(test, rblk_disk_state_name(RBLK_DISK_DISKLESS), "diskless");
	KUNIT_EXPECT_STREQ(test, rblk_disk_state_name(RBLK_DISK_INCONSISTENT), "inconsistent");
	KUNIT_EXPECT_STREQ(test, rblk_disk_state_name(RBLK_DISK_OUTDATED), "outdated");
	KUNIT_EXPECT_STREQ(test, rblk_disk_state_name(RBLK_DISK_UNKNOWN), "unknown");
	KUNIT_EXPECT_STREQ(test, rblk_disk_state_name(RBLK_DISK_UP_TO_DATE), "up_to_date");
	KUNIT_EXPECT_STREQ(test, rblk_disk_state_name(RBLK_DISK_FAILED), "failed");
	KUNIT_EXPECT_STREQ(test, rblk_disk_state_name(RBLK_DISK_CONSISTENT), "consistent");
	KUNIT_EXPECT_STREQ(test, rblk_disk_state_name(7), "invalid");

	KUNIT_EXPECT_STREQ(test, rblk_conn_state_name(RBLK_CONN_STANDALONE), "standalone");
	KUNIT_EXPECT_STREQ(test, rblk_conn_state_name(RBLK_CONN_CONNECTING), "connecting");
	KUNIT_EXPECT_STREQ(test, rblk_conn_state_name(RBLK_CONN_CONNECTED), "connected");
	KUNIT_EXPECT_STREQ(test, rblk_conn_state_name(RBLK_CONN_DISCONNECTING), "disconnecting");
	KUNIT_EXPECT_STREQ(test, rblk_conn_state_name(4), "invalid");
}

static struct kunit_case rblk_state_test_cases[] = {
	KUNIT_CASE_PARAM(rblk_state_test_role_change, rblk_role_gen_params),
	KUNIT_CASE(rblk_state_test_peer_role_req),
	KUNIT_CASE(rblk_state_test_peer_may_write),
	KUNIT_CASE(rblk_state_test_wire_disk_state),
	KUNIT_CASE(rblk_state_test_ko_timer),
	KUNIT_CASE(rblk_state_test_peer_disk_claimed),
	KUNIT_CASE(rblk_state_test_peer_disk_after_disconnect),
	KUNIT_CASE(rblk_state_test_local_disk_after_disconnect),
	KUNIT_CASE(rblk_state_test_names),
	{}
};

static struct kunit_suite rblk_state_test_suite = {
	.name = "rblk_state",
	.test_cases = rblk_state_test_cases,
};

kunit_test_suite(rblk_state_test_suite);
