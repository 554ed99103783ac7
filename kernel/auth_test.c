// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of peer authentication: the HMAC input (protocol.c), the
 * answers and their check (auth.c), and the agreement on authentication
 * in the HELLOs (protocol.c).
 */

#include <kunit/test.h>
#include <crypto/hash.h>
#include <linux/err.h>

#include "rblk.h"

static const u8 rblk_test_secret[] = "0123456789abcdef0123456789abcdef";
#define RBLK_TEST_SECRET_LEN	32

static void rblk_test_challenge(u8 *c, u8 first)
{
	unsigned int i;

	for (i = 0; i < RBLK_AUTH_CHALLENGE_BYTES; i++)
		c[i] = first + i;
}

static struct crypto_shash *rblk_test_tfm(struct kunit *test, const u8 *secret, u32 len)
{
	struct crypto_shash *tfm = rblk_auth_tfm_alloc(secret, len);

	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(tfm), "hmac(sha256): %ld", PTR_ERR(tfm));
	return tfm;
}

/* The input, byte by byte as Documentation/protocol.rst gives it. */
static void rblk_auth_input_layout_test(struct kunit *test)
{
	struct rblk_auth_input in;
	u8 *b = (u8 *)&in;
	u8 c[RBLK_AUTH_CHALLENGE_BYTES];

	rblk_test_challenge(c, 0);
	memset(&in, 0xaa, sizeof(in));
	rblk_auth_input_build(&in, c, 1, 2, "c1", "r0");
	KUNIT_EXPECT_EQ(test, sizeof(in), (size_t)184);
	KUNIT_EXPECT_EQ(test, memcmp(b, c, 32), 0);
	KUNIT_EXPECT_EQ(test, memcmp(b + 32, "rblk-auth-v1\0\0\0\0", 16), 0);
	KUNIT_EXPECT_EQ(test, memcmp(b + 48, "\0\0\0\1\0\0\0\2", 8), 0);
	KUNIT_EXPECT_EQ(test, memcmp(b + 56, "c1", 3), 0);
	KUNIT_EXPECT_FALSE(test, memchr_inv(b + 59, 0, 61));
	KUNIT_EXPECT_EQ(test, memcmp(b + 120, "r0", 3), 0);
	KUNIT_EXPECT_FALSE(test, memchr_inv(b + 123, 0, 61));
}

/* A known answer, computed independently (Python's hmac module). */
static void rblk_auth_known_answer_test(struct kunit *test)
{
	static const u8 expected[RBLK_AUTH_RESPONSE_BYTES] = {
		0xf4, 0x4c, 0xa1, 0x02, 0xf2, 0x32, 0x0a, 0xde, 0xe3, 0xff, 0x0b, 0x30,
		0xde, 0x22, 0x6f, 0xf8, 0x27, 0x4f, 0x69, 0xb1, 0x10, 0x4e, 0x0f, 0x39,
		0xe6, 0xd8, 0x6c, 0x7b, 0xb7, 0x4e, 0x8f, 0xdb,
	};
	struct crypto_shash *tfm = rblk_test_tfm(test, rblk_test_secret, RBLK_TEST_SECRET_LEN);
	u8 c[RBLK_AUTH_CHALLENGE_BYTES], r[RBLK_AUTH_RESPONSE_BYTES];
	struct rblk_auth_input in;

	rblk_test_challenge(c, 0);
	rblk_auth_input_build(&in, c, 1, 2, "c1", "r0");
	KUNIT_EXPECT_EQ(test, rblk_auth_answer(tfm, &in, r), 0);
	KUNIT_EXPECT_EQ(test, memcmp(r, expected, sizeof(r)), 0);
	KUNIT_EXPECT_EQ(test, rblk_auth_verify(tfm, &in, expected), 0);
	crypto_free_shash(tfm);
}

/*
 * Node 1 answers node 2's challenge; node 2 verifies with its own view
 * (same secret: passes) or with another secret, a reflected answer,
 * another challenge, another resource: fails.
 */
static void rblk_auth_verify_test(struct kunit *test)
{
	static const u8 other_secret[] = "0123456789abcdef0123456789abcdeF";
	struct crypto_shash *tfm = rblk_test_tfm(test, rblk_test_secret, RBLK_TEST_SECRET_LEN);
	struct crypto_shash *wrong = rblk_test_tfm(test, other_secret, RBLK_TEST_SECRET_LEN);
	struct crypto_shash *shorter = rblk_test_tfm(test, rblk_test_secret, 16);
	u8 c2[RBLK_AUTH_CHALLENGE_BYTES], c1[RBLK_AUTH_CHALLENGE_BYTES];
	u8 answer[RBLK_AUTH_RESPONSE_BYTES], own[RBLK_AUTH_RESPONSE_BYTES];
	struct rblk_auth_input in, check;

	rblk_test_challenge(c2, 100);
	rblk_test_challenge(c1, 7);
	/* node 1 (responder) answers the challenge of node 2 (verifier) */
	rblk_auth_input_build(&in, c2, 1, 2, "c1", "r0");
	KUNIT_ASSERT_EQ(test, rblk_auth_answer(tfm, &in, answer), 0);

	/* node 2 checks it: right secret */
	rblk_auth_input_build(&check, c2, 1, 2, "c1", "r0");
	KUNIT_EXPECT_EQ(test, rblk_auth_verify(tfm, &check, answer), 0);
	/* wrong secret, or a prefix of the right one */
	KUNIT_EXPECT_EQ(test, rblk_auth_verify(wrong, &check, answer), -EACCES);
	KUNIT_EXPECT_EQ(test, rblk_auth_verify(shorter, &check, answer), -EACCES);
	/* an answer made by a node without the secret */
	KUNIT_ASSERT_EQ(test, rblk_auth_answer(wrong, &in, own), 0);
	KUNIT_EXPECT_EQ(test, rblk_auth_verify(tfm, &check, own), -EACCES);

	/*
	 * Reflection: node 2's own answer (node 2 responding, node 1
	 * verifying) to the same challenge, sent back to node 2.
	 */
	rblk_auth_input_build(&in, c2, 2, 1, "c1", "r0");
	KUNIT_ASSERT_EQ(test, rblk_auth_answer(tfm, &in, own), 0);
	KUNIT_EXPECT_EQ(test, rblk_auth_verify(tfm, &check, own), -EACCES);

	/* an answer to another challenge (a replay of an older handshake) */
	rblk_auth_input_build(&in, c1, 1, 2, "c1", "r0");
	KUNIT_ASSERT_EQ(test, rblk_auth_answer(tfm, &in, own), 0);
	KUNIT_EXPECT_EQ(test, rblk_auth_verify(tfm, &check, own), -EACCES);

	/* the same secret in another resource or cluster */
	rblk_auth_input_build(&in, c2, 1, 2, "c1", "r1");
	KUNIT_ASSERT_EQ(test, rblk_auth_answer(tfm, &in, own), 0);
	KUNIT_EXPECT_EQ(test, rblk_auth_verify(tfm, &check, own), -EACCES);
	rblk_auth_input_build(&in, c2, 1, 2, "c2", "r0");
	KUNIT_ASSERT_EQ(test, rblk_auth_answer(tfm, &in, own), 0);
	KUNIT_EXPECT_EQ(test, rblk_auth_verify(tfm, &check, own), -EACCES);

	/* one flipped bit of the right answer */
	answer[31] ^= 1;
	KUNIT_EXPECT_EQ(test, rblk_auth_verify(tfm, &check, answer), -EACCES);

	crypto_free_shash(shorter);
	crypto_free_shash(wrong);
	crypto_free_shash(tfm);
}

static void rblk_auth_tfm_alloc_test(struct kunit *test)
{
	u8 big[RBLK_AUTH_SECRET_MAX_BYTES + 1] = {};

	KUNIT_EXPECT_EQ(test, PTR_ERR(rblk_auth_tfm_alloc(big, 0)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(rblk_auth_tfm_alloc(big, sizeof(big))), -EINVAL);
	crypto_free_shash(rblk_test_tfm(test, big, RBLK_AUTH_SECRET_MAX_BYTES));
}

/* Both or neither side have a secret, or the handshake is refused. */
static void rblk_hello_auth_check_test(struct kunit *test)
{
	struct rblk_hello_params remote = { .features = RBLK_FEAT_ALL };
	struct rblk_hello_result res;

	KUNIT_EXPECT_EQ(test, rblk_hello_auth_check(false, &remote, &res), 0);
	KUNIT_EXPECT_EQ(test, res.reason, 0U);
	KUNIT_EXPECT_EQ(test, rblk_hello_auth_check(true, &remote, &res), -ECONNREFUSED);
	KUNIT_EXPECT_EQ(test, res.reason, (u32)RBLK_REJECT_AUTH_REQUIRED);
	KUNIT_EXPECT_STREQ(test, res.message, "authentication required: peer has no secret");
	remote.features |= RBLK_FEAT_AUTH;
	KUNIT_EXPECT_EQ(test, rblk_hello_auth_check(true, &remote, &res), 0);
	KUNIT_EXPECT_EQ(test, rblk_hello_auth_check(false, &remote, &res), -ECONNREFUSED);
	KUNIT_EXPECT_EQ(test, res.reason, (u32)RBLK_REJECT_AUTH_UNEXPECTED);
	KUNIT_EXPECT_STREQ(test, res.message, "peer demands authentication: no secret here");
	KUNIT_EXPECT_STREQ(test, rblk_reject_reason_name(RBLK_REJECT_AUTH_FAILED),
			   "auth_failed");
	KUNIT_EXPECT_STREQ(test, rblk_packet_cmd_name(RBLK_P_AUTH_RESPONSE), "auth_response");
}

/* The handshake packets have their fixed sizes. */
static void rblk_auth_hdr_test(struct kunit *test)
{
	struct rblk_hdr_info info;
	struct rblk_hdr hdr;

	rblk_hdr_encode(&hdr, 1, RBLK_P_AUTH_CHALLENGE, 0, 32, 0);
	KUNIT_EXPECT_EQ(test, rblk_hdr_decode(&hdr, 1, &info), 0);
	rblk_hdr_encode(&hdr, 1, RBLK_P_AUTH_RESPONSE, 0, 32, 0);
	KUNIT_EXPECT_EQ(test, rblk_hdr_decode(&hdr, 1, &info), 0);
	rblk_hdr_encode(&hdr, 1, RBLK_P_AUTH_RESPONSE, 0, 31, 0);
	KUNIT_EXPECT_EQ(test, rblk_hdr_decode(&hdr, 1, &info), -EMSGSIZE);
	rblk_hdr_encode(&hdr, 1, RBLK_P_AUTH_CHALLENGE, 0, 64, 0);
	KUNIT_EXPECT_EQ(test, rblk_hdr_decode(&hdr, 1, &info), -EMSGSIZE);
}

static struct kunit_case rblk_auth_cases[] = {
	KUNIT_CASE(rblk_auth_input_layout_test),
	KUNIT_CASE(rblk_auth_known_answer_test),
	KUNIT_CASE(rblk_auth_verify_test),
	KUNIT_CASE(rblk_auth_tfm_alloc_test),
	KUNIT_CASE(rblk_hello_auth_check_test),
	KUNIT_CASE(rblk_auth_hdr_test),
	{}
};

static struct kunit_suite rblk_auth_suite = {
	.name = "rblk_auth",
	.test_cases = rblk_auth_cases,
};

kunit_test_suite(rblk_auth_suite);
