// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the pure quorum rules (quorum.c) and of the handshake's
 * size check for a diskless witness (protocol.c).
 */

#include <kunit/test.h>

#include "rblk.h"

static void rblk_quorum_needed_test(struct kunit *test)
{
	static const struct {
		u32 policy, voters, needed;
	} cases[] = {
		{ RBLK_QUORUM_OFF, 3, 0 },
		{ RBLK_QUORUM_MAJORITY, 1, 1 },
		{ RBLK_QUORUM_MAJORITY, 2, 2 },
		{ RBLK_QUORUM_MAJORITY, 3, 2 },
		{ RBLK_QUORUM_MAJORITY, 4, 3 },
		{ RBLK_QUORUM_MAJORITY, 5, 3 },
		{ RBLK_QUORUM_MAJORITY, 16, 9 },
		{ RBLK_QUORUM_MAJORITY, 32, 17 },
		{ 1, 3, 1 },
		{ 2, 3, 2 },
		{ 4, 3, 4 },	/* more than the voters: never reached */
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		KUNIT_EXPECT_EQ_MSG(test, rblk_quorum_needed(cases[i].policy, cases[i].voters),
				    cases[i].needed, "case %u", i);
}

static void rblk_quorum_policy_valid_test(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, rblk_quorum_policy_valid(RBLK_QUORUM_OFF));
	KUNIT_EXPECT_TRUE(test, rblk_quorum_policy_valid(RBLK_QUORUM_MAJORITY));
	KUNIT_EXPECT_TRUE(test, rblk_quorum_policy_valid(1));
	KUNIT_EXPECT_TRUE(test, rblk_quorum_policy_valid(RBLK_MAX_PEERS));
	KUNIT_EXPECT_FALSE(test, rblk_quorum_policy_valid(RBLK_MAX_PEERS + 1));
	KUNIT_EXPECT_FALSE(test, rblk_quorum_policy_valid(RBLK_QUORUM_MAJORITY - 1));
}

/* A diskless witness connects to a data node whatever the disk's size. */
static void rblk_quorum_witness_hello_test(struct kunit *test)
{
	struct rblk_hello_params data = {
		.version_min = RBLK_PROTO_VERSION_MIN,
		.version_max = RBLK_PROTO_VERSION_MAX, .features = RBLK_FEAT_ALL,
		.node_id = 0, .peer_node_id = 2, .size_sectors = 131072,
		.logical_block_size_bytes = 512, .role = RBLK_ROLE_PRIMARY,
		.disk_state = RBLK_DISK_UP_TO_DATE,
		.cluster_name = "c", .resource_name = "r",
	};
	struct rblk_hello_params witness = data;
	struct rblk_hello_result res;

	witness.node_id = 2;
	witness.peer_node_id = 0;
	witness.size_sectors = 0;
	witness.role = RBLK_ROLE_SECONDARY;
	witness.disk_state = RBLK_DISK_DISKLESS;
	KUNIT_EXPECT_EQ(test, rblk_hello_negotiate(&data, &witness, &res), 0);
	KUNIT_EXPECT_EQ(test, rblk_hello_negotiate(&witness, &data, &res), 0);
	/* two data nodes of different sizes are still refused */
	witness.disk_state = RBLK_DISK_UP_TO_DATE;
	KUNIT_EXPECT_EQ(test, rblk_hello_negotiate(&data, &witness, &res), -ECONNREFUSED);
	KUNIT_EXPECT_EQ(test, res.reason, (u32)RBLK_REJECT_SIZE);
}

static struct kunit_case rblk_quorum_cases[] = {
	KUNIT_CASE(rblk_quorum_needed_test),
	KUNIT_CASE(rblk_quorum_policy_valid_test),
	KUNIT_CASE(rblk_quorum_witness_hello_test),
	{}
};

static struct kunit_suite rblk_quorum_suite = {
	.name = "rblk_quorum",
	.test_cases = rblk_quorum_cases,
};

kunit_test_suite(rblk_quorum_suite);
