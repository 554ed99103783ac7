// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for rblk's generation UUID rules (uuid.c).
 */

#include <kunit/test.h>

#include "rblk.h"

/* generations: G1 is the oldest */
#define G1 0x1111111111111111ULL
#define G2 0x2222222222222222ULL
#define G3 0x3333333333333333ULL
#define G4 0x4444444444444444ULL
#define G5 0x5555555555555555ULL
#define G6 0x6666666666666666ULL
#define G7 0x7777777777777777ULL

#define NONE	RBLK_SYNC_NONE
#define BM_SRC	RBLK_SYNC_BITMAP_SOURCE
#define BM_TGT	RBLK_SYNC_BITMAP_TARGET
#define FULL_SRC RBLK_SYNC_FULL_SOURCE
#define FULL_TGT RBLK_SYNC_FULL_TARGET
#define NO_SRC	RBLK_SYNC_NO_SOURCE
#define SPLIT	RBLK_SYNC_SPLIT_BRAIN
#define UNREL	RBLK_SYNC_UNRELATED

/*
 * Where possible a case is chosen so that a later rule would decide
 * otherwise if the rule it tests were skipped: the R4 cases carry the
 * history that R7 would turn into FULL_TARGET, the R6 discard cases the one
 * that R9 would turn into FULL_*, inconsistent cases lead to R9 or R10.
 */
struct rblk_uuid_case {
	const char *name;
	struct rblk_uuid_view self, peer;
	enum rblk_sync_decision expected;
};

/* views: node 1 is self, node 2 the peer, unless a case says otherwise */
#define V(id, cur, ...) { .node_id = (id), .current_uuid = (cur), __VA_ARGS__ }
#define S(cur, ...) V(1, cur, __VA_ARGS__)
#define P(cur, ...) V(2, cur, __VA_ARGS__)
#define C .consistent = true
#define CRASHED .crashed_primary = true
#define PRIMARY .primary = true
#define DISCARD .discard_my_data = true
#define RECON .reconcile = true
#define BM(u) .bitmap_uuid = (u)
#define HIST(...) .history = { __VA_ARGS__ }

static const struct rblk_uuid_case rblk_uuid_cases[] = {
	/* R1 */
	{ "R1 both new", S(0), P(0), NO_SRC },
	{ "R1 both new, discard", S(0, DISCARD), P(0, DISCARD), NO_SRC },
	/* R2 and mirror */
	{ "R2 self new, peer consistent", S(0), P(G1, C), FULL_TGT },
	{ "R2 self new, peer inconsistent", S(0), P(G1), NO_SRC },
	{ "R2 self new, peer has history", S(0), P(G2, C, HIST(G1)), FULL_TGT },
	{ "R2m peer new, self consistent", S(G1, C), P(0), FULL_SRC },
	{ "R2m peer new, self inconsistent", S(G1), P(0), NO_SRC },
	/* R3 */
	{ "R3 same, clean", S(G1, C), P(G1, C), NONE },
	{ "R3 same, clean, one primary", S(G1, C, PRIMARY), P(G1, C), NONE },
	{ "R3 same, clean, discard", S(G1, C, DISCARD), P(G1, C), NONE },
	{ "R3 crash, self primary now", S(G1, C, PRIMARY), P(G1, C, CRASHED), BM_SRC },
	{ "R3 crash, peer primary now", S(G1, C, CRASHED), P(G1, C, PRIMARY), BM_TGT },
	{ "R3 crash, self crashed primary", S(G1, C, CRASHED), P(G1, C), BM_SRC },
	{ "R3 crash, peer crashed primary", S(G1, C), P(G1, C, CRASHED), BM_TGT },
	{ "R3 crash, both primary, self crashed", S(G1, C, PRIMARY, CRASHED),
	  P(G1, C, PRIMARY), BM_SRC },
	{ "R3 crash, both crashed, self lower id", S(G1, C, CRASHED), P(G1, C, CRASHED),
	  BM_SRC },
	{ "R3 crash, both crashed, peer lower id", V(3, G1, C, CRASHED),
	  V(2, G1, C, CRASHED), BM_TGT },
	{ "R3 crash, all primary+crashed, self lower", S(G1, C, PRIMARY, CRASHED),
	  V(4, G1, C, PRIMARY, CRASHED), BM_SRC },
	{ "R3 crash, all primary+crashed, peer lower", V(5, G1, C, PRIMARY, CRASHED),
	  V(0, G1, C, PRIMARY, CRASHED), BM_TGT },
	{ "R3 reconcile, self primary", S(G1, C, PRIMARY), P(G1, C, RECON), BM_SRC },
	{ "R3 reconcile, peer primary", S(G1, C, RECON), P(G1, C, PRIMARY), BM_TGT },
	{ "R3 reconcile here, self primary", S(G1, C, PRIMARY, RECON), P(G1, C), BM_SRC },
	{ "R3 reconcile there, peer primary", S(G1, C), P(G1, C, PRIMARY, RECON), BM_TGT },
	{ "R3 reconcile, no primary: wait", S(G1, C, RECON), P(G1, C, RECON), NONE },
	{ "R3 reconcile one side, no primary", S(G1, C, RECON), P(G1, C), NONE },
	{ "R3 reconcile, crash decides", S(G1, C, RECON), P(G1, C, CRASHED), BM_TGT },
	{ "R3 reconcile, inconsistent peer", S(G1, C, PRIMARY, RECON), P(G1, RECON), FULL_SRC },
	{ "R3 only self consistent", S(G1, C), P(G1), FULL_SRC },
	{ "R3 only peer consistent", S(G1), P(G1, C), FULL_TGT },
	{ "R3 only peer consistent, self crashed", S(G1, CRASHED, PRIMARY), P(G1, C),
	  FULL_TGT },
	{ "R3 neither consistent", S(G1, HIST(G2)), P(G1, HIST(G3)), NO_SRC },
	/* R4, R5 (mirror); the histories would make R7/R8 decide FULL_* */
	{ "R4 peer wrote without us", S(G1, C), P(G2, C, BM(G1), HIST(G1)), BM_TGT },
	{ "R4 peer wrote, self inconsistent", S(G1), P(G2, C, BM(G1), HIST(G1)), BM_TGT },
	{ "R4 peer wrote, self discard", S(G1, C, DISCARD), P(G2, C, BM(G1), HIST(G1)),
	  BM_TGT },
	/* no history: R9 would decide split-brain */
	{ "R4 peer wrote, no history", S(G1, C), P(G2, C, BM(G1)), BM_TGT },
	{ "R4 peer wrote, peer inconsistent", S(G1, C), P(G2, BM(G1)), NO_SRC },
	{ "R4 peer wrote, self has bitmap too", S(G1, C, BM(G4), HIST(G4)),
	  P(G2, C, BM(G1), HIST(G1, G4)), BM_TGT },
	{ "R5 self wrote without peer", S(G2, C, BM(G1), HIST(G1)), P(G1, C), BM_SRC },
	{ "R5 self wrote, peer inconsistent", S(G2, C, BM(G1), HIST(G1)), P(G1), BM_SRC },
	{ "R5 self wrote, self inconsistent", S(G2, BM(G1)), P(G1, C), NO_SRC },
	/* R6: bitmaps from the same generation, R9 would decide FULL_* */
	{ "R6 both wrote", S(G2, C, BM(G1), HIST(G1)), P(G3, C, BM(G1), HIST(G1)), SPLIT },
	{ "R6 both wrote, self discard", S(G2, C, BM(G1), HIST(G1), DISCARD),
	  P(G3, C, BM(G1), HIST(G1)), BM_TGT },
	{ "R6 both wrote, peer discard", S(G2, C, BM(G1), HIST(G1)),
	  P(G3, C, BM(G1), HIST(G1), DISCARD), BM_SRC },
	{ "R6 both wrote, both discard", S(G2, C, BM(G1), HIST(G1), DISCARD),
	  P(G3, C, BM(G1), HIST(G1), DISCARD), SPLIT },
	{ "R6 both wrote, primary, crashed", S(G2, C, BM(G1), PRIMARY, CRASHED),
	  P(G3, BM(G1)), SPLIT },
	/* R7, R8 (mirror): the newer side's bitmap does not reach back */
	{ "R7 peer newer, no bitmap", S(G1, C), P(G3, C, HIST(G2, G1)), FULL_TGT },
	{ "R7 peer newer, oldest history slot", S(G1, C), P(G5, C, HIST(G4, G3, G2, G1)),
	  FULL_TGT },
	{ "R7 peer newer, other bitmap", S(G1, C), P(G3, C, BM(G2), HIST(G2, G1)),
	  FULL_TGT },
	{ "R7 peer newer, peer inconsistent", S(G1, C), P(G3, HIST(G2, G1)), NO_SRC },
	{ "R7 peer newer, self discard", S(G1, C, DISCARD), P(G3, C, HIST(G2, G1)),
	  FULL_TGT },
	{ "R8 self newer, no bitmap", S(G3, C, HIST(G2, G1)), P(G1, C), FULL_SRC },
	{ "R8 self newer, oldest history slot", S(G5, C, HIST(G4, G3, G2, G1)), P(G1),
	  FULL_SRC },
	{ "R8 self newer, self inconsistent", S(G3, HIST(G2, G1)), P(G1, C), NO_SRC },
	/* R9: a common ancestor only; each pair of UUID kinds */
	{ "R9 common history", S(G2, C, HIST(G1)), P(G3, C, HIST(G1)), SPLIT },
	{ "R9 common history, self discard", S(G2, C, HIST(G1), DISCARD),
	  P(G3, C, HIST(G1)), FULL_TGT },
	{ "R9 common history, peer discard", S(G2, C, HIST(G1)),
	  P(G3, C, HIST(G1), DISCARD), FULL_SRC },
	{ "R9 common history, both discard", S(G2, C, HIST(G1), DISCARD),
	  P(G3, C, HIST(G1), DISCARD), SPLIT },
	{ "R9 deep history slots", S(G6, C, HIST(G5, G4, G3, G1)),
	  P(G7, C, HIST(G2, G1)), SPLIT },
	{ "R9 self bitmap in peer history", S(G4, C, BM(G2)), P(G5, C, HIST(G3, G2)),
	  SPLIT },
	{ "R9 self bitmap in peer history, discard", S(G4, C, BM(G2), DISCARD),
	  P(G5, C, HIST(G3, G2)), FULL_TGT },
	{ "R9 peer bitmap in self history", S(G5, C, HIST(G3, G2)), P(G4, C, BM(G2)),
	  SPLIT },
	{ "R9 bitmaps differ, histories meet", S(G3, C, BM(G2), HIST(G2, G1)),
	  P(G5, C, BM(G4), HIST(G4, G1)), SPLIT },
	{ "R9 inconsistent both", S(G2, HIST(G1)), P(G3, HIST(G1)), SPLIT },
	/* R10 */
	{ "R10 unrelated, empty histories", S(G1, C), P(G2, C), UNREL },
	{ "R10 unrelated histories", S(G2, C, BM(G1), HIST(G1)),
	  P(G4, C, BM(G3), HIST(G3, G5)), UNREL },
	{ "R10 unrelated, self discard", S(G1, C, DISCARD), P(G2, C), UNREL },
	{ "R10 unrelated, peer discard", S(G1, C), P(G2, C, DISCARD), UNREL },
	{ "R10 unrelated, both discard", S(G1, C, DISCARD), P(G2, C, DISCARD), UNREL },
	{ "R10 unrelated, inconsistent, primary", S(G1, PRIMARY), P(G2, CRASHED), UNREL },
};

static void rblk_uuid_case_desc(const struct rblk_uuid_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(rblk_uuid, rblk_uuid_cases, rblk_uuid_case_desc);

static enum rblk_sync_decision rblk_uuid_test_mirror(enum rblk_sync_decision d)
{
	switch (d) {
	case BM_SRC:
		return BM_TGT;
	case BM_TGT:
		return BM_SRC;
	case FULL_SRC:
		return FULL_TGT;
	case FULL_TGT:
		return FULL_SRC;
	default:
		return d;
	}
}

static void rblk_uuid_expect_why(struct kunit *test, const char *why)
{
	KUNIT_ASSERT_NOT_NULL(test, why);
	KUNIT_EXPECT_GT(test, strlen(why), (size_t)0);
	KUNIT_EXPECT_LT(test, strlen(why), (size_t)60);
}

static void rblk_uuid_test_decide(struct kunit *test)
{
	const struct rblk_uuid_case *c = test->param_value;
	const char *why = NULL;
	enum rblk_sync_decision d;

	d = rblk_sync_decide(&c->self, &c->peer, &why);
	KUNIT_EXPECT_EQ_MSG(test, d, c->expected, "got %s, expected %s (%s)",
			    rblk_sync_decision_name(d), rblk_sync_decision_name(c->expected),
			    why ? why : "no reason");
	rblk_uuid_expect_why(test, why);
}

/* the peer, deciding from its side, comes to the mirrored result */
static void rblk_uuid_test_symmetry(struct kunit *test)
{
	const struct rblk_uuid_case *c = test->param_value;
	enum rblk_sync_decision want = rblk_uuid_test_mirror(c->expected);
	const char *why = NULL;
	enum rblk_sync_decision d;

	d = rblk_sync_decide(&c->peer, &c->self, &why);
	KUNIT_EXPECT_EQ_MSG(test, d, want, "got %s, expected %s (%s)",
			    rblk_sync_decision_name(d), rblk_sync_decision_name(want),
			    why ? why : "no reason");
	rblk_uuid_expect_why(test, why);
}

/* the inputs are only read */
static void rblk_uuid_test_const(struct kunit *test)
{
	const struct rblk_uuid_case *c = &rblk_uuid_cases[ARRAY_SIZE(rblk_uuid_cases) / 2];
	struct rblk_uuid_view self = c->self, peer = c->peer;
	const char *why;

	rblk_sync_decide(&self, &peer, &why);
	KUNIT_EXPECT_EQ(test, memcmp(&self, &c->self, sizeof(self)), 0);
	KUNIT_EXPECT_EQ(test, memcmp(&peer, &c->peer, sizeof(peer)), 0);
}

struct rblk_allowed_case {
	enum rblk_sync_decision d;
	int ret[2];	/* as secondary, as primary */
};

static void rblk_uuid_test_allowed(struct kunit *test)
{
	static const struct rblk_allowed_case cases[] = {
		{ NONE, { 0, 0 } },
		{ BM_SRC, { 0, 0 } },
		{ BM_TGT, { 0, -EBUSY } },
		{ FULL_SRC, { 0, 0 } },
		{ FULL_TGT, { 0, -EBUSY } },
		{ NO_SRC, { 0, 0 } },
		{ SPLIT, { -EUCLEAN, -EUCLEAN } },
		{ UNREL, { -ENOMSG, -ENOMSG } },
		{ __RBLK_SYNC_MAX, { -EINVAL, -EINVAL } },
		{ 200, { -EINVAL, -EINVAL } },
		{ -1, { -EINVAL, -EINVAL } },
	};
	const char *why;
	unsigned int i, p;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		for (p = 0; p < 2; p++) {
			int want = cases[i].ret[p];
			int ret;

			why = "stale";
			ret = rblk_sync_allowed(cases[i].d, p, &why);
			KUNIT_EXPECT_EQ_MSG(test, ret, want, "decision %d, primary %u",
					    cases[i].d, p);
			if (ret)
				rblk_uuid_expect_why(test, why);
			else
				KUNIT_EXPECT_NULL(test, why);
		}
	}

	rblk_sync_allowed(FULL_TGT, true, &why);
	KUNIT_EXPECT_STREQ(test, why, "the peer has newer data, but this node is primary");
	rblk_sync_allowed(SPLIT, false, &why);
	KUNIT_EXPECT_STREQ(test, why, "split-brain: both nodes wrote since they last shared data");
	rblk_sync_allowed(UNREL, false, &why);
	KUNIT_EXPECT_STREQ(test, why, "unrelated data: no common generation");
}

static void rblk_uuid_test_source_target(struct kunit *test)
{
	int d;

	for (d = -1; d <= __RBLK_SYNC_MAX + 1; d++) {
		bool src = d == BM_SRC || d == FULL_SRC;
		bool tgt = d == BM_TGT || d == FULL_TGT;

		KUNIT_EXPECT_EQ_MSG(test, rblk_sync_is_source(d), src, "decision %d", d);
		KUNIT_EXPECT_EQ_MSG(test, rblk_sync_is_target(d), tgt, "decision %d", d);
		/* the mirror of a source is a target and vice versa */
		if (d >= 0 && d < __RBLK_SYNC_MAX)
			KUNIT_EXPECT_EQ(test, rblk_sync_is_target(rblk_uuid_test_mirror(d)), src);
	}
}

static void rblk_uuid_test_names(struct kunit *test)
{
	KUNIT_EXPECT_STREQ(test, rblk_sync_decision_name(NONE), "none");
	KUNIT_EXPECT_STREQ(test, rblk_sync_decision_name(BM_SRC), "bitmap-source");
	KUNIT_EXPECT_STREQ(test, rblk_sync_decision_name(BM_TGT), "bitmap-target");
	KUNIT_EXPECT_STREQ(test, rblk_sync_decision_name(FULL_SRC), "full-source");
	KUNIT_EXPECT_STREQ(test, rblk_sync_decision_name(FULL_TGT), "full-target");
	KUNIT_EXPECT_STREQ(test, rblk_sync_decision_name(NO_SRC), "no-source");
	KUNIT_EXPECT_STREQ(test, rblk_sync_decision_name(SPLIT), "split-brain");
	KUNIT_EXPECT_STREQ(test, rblk_sync_decision_name(UNREL), "unrelated");
	KUNIT_EXPECT_STREQ(test, rblk_sync_decision_name(__RBLK_SYNC_MAX), "?");
	KUNIT_EXPECT_STREQ(test, rblk_sync_decision_name(255), "?");
	KUNIT_EXPECT_STREQ(test, rblk_sync_decision_name(-1), "?");
}

static struct kunit_case rblk_uuid_test_cases[] = {
	KUNIT_CASE_PARAM(rblk_uuid_test_decide, rblk_uuid_gen_params),
	KUNIT_CASE_PARAM(rblk_uuid_test_symmetry, rblk_uuid_gen_params),
	KUNIT_CASE(rblk_uuid_test_const),
	KUNIT_CASE(rblk_uuid_test_allowed),
	KUNIT_CASE(rblk_uuid_test_source_target),
	KUNIT_CASE(rblk_uuid_test_names),
	{}
};

static struct kunit_suite rblk_uuid_test_suite = {
	.name = "rblk_uuid",
	.test_cases = rblk_uuid_test_cases,
};

kunit_test_suite(rblk_uuid_test_suite);
