// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for rblk's wire protocol codec and handshake (protocol.c).
 */

#include <kunit/test.h>
#include <linux/bio.h>
#include <linux/crc32c.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/limits.h>
#include <linux/string.h>

#include "rblk.h"

#define DATA_HDR_BYTES ((u32)sizeof(struct rblk_p_data))

/* ---------------------------------------------------------------- header */

static void rblk_hdr_test_round_trip(struct kunit *test)
{
	static const u8 want[24] = {
		0x52, 0x42, 0x4c, 0x4b,		/* magic "RBLK" */
		0x01,				/* version */
		0x03,				/* command DATA */
		0x00, 0x00,			/* flags */
		0x00, 0x00, 0x02, 0x10,		/* payload 528 */
		0x00, 0x00, 0x00, 0x00,		/* reserved */
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	};
	struct rblk_hdr hdr;
	struct rblk_hdr_info info;

	memset(&hdr, 0xa5, sizeof(hdr));
	rblk_hdr_encode(&hdr, 1, RBLK_P_DATA, 0, DATA_HDR_BYTES + 512,
			0x0102030405060708ULL);
	KUNIT_EXPECT_EQ(test, memcmp(&hdr, want, sizeof(want)), 0);

	KUNIT_ASSERT_EQ(test, rblk_hdr_decode(&hdr, 1, &info), 0);
	KUNIT_EXPECT_EQ(test, info.version, 1);
	KUNIT_EXPECT_EQ(test, info.command, RBLK_P_DATA);
	KUNIT_EXPECT_EQ(test, info.flags, 0);
	KUNIT_EXPECT_EQ(test, info.payload_len_bytes, DATA_HDR_BYTES + 512);
	KUNIT_EXPECT_EQ(test, info.request_id, 0x0102030405060708ULL);

	/* the largest request id survives */
	rblk_hdr_encode(&hdr, 1, RBLK_P_PING, 0, 0, U64_MAX);
	KUNIT_ASSERT_EQ(test, rblk_hdr_decode(&hdr, 1, &info), 0);
	KUNIT_EXPECT_EQ(test, info.request_id, U64_MAX);
	KUNIT_EXPECT_EQ(test, info.command, RBLK_P_PING);
}

struct rblk_hdr_case {
	const char *name;
	u32 magic;
	u8 version;
	u8 command;
	u16 flags;
	u32 payload_len_bytes;
	u32 reserved;
	int expected;
};

#define OK_HDR(_name, _cmd, _len) \
	{ _name, RBLK_PROTO_MAGIC, 1, _cmd, 0, _len, 0, 0 }
#define BAD_LEN(_name, _cmd, _len) \
	{ _name, RBLK_PROTO_MAGIC, 1, _cmd, 0, _len, 0, -EMSGSIZE }

static const struct rblk_hdr_case rblk_hdr_cases[] = {
	/* every command with its valid length */
	OK_HDR("hello", RBLK_P_HELLO, 168),
	OK_HDR("hello_reject", RBLK_P_HELLO_REJECT, 64),
	OK_HDR("data 1 sector", RBLK_P_DATA, 16 + 512),
	OK_HDR("data 8 sectors", RBLK_P_DATA, 16 + 4096),
	OK_HDR("data max", RBLK_P_DATA, 16 + RBLK_MAX_DATA_BYTES),
	OK_HDR("flush", RBLK_P_FLUSH, 0),
	OK_HDR("trim", RBLK_P_TRIM, 16),
	OK_HDR("ack", RBLK_P_ACK, 8),
	OK_HDR("ping", RBLK_P_PING, 0),
	OK_HDR("ping_ack", RBLK_P_PING_ACK, 0),
	OK_HDR("state", RBLK_P_STATE, 8),
	OK_HDR("role_req", RBLK_P_ROLE_REQ, 8),
	OK_HDR("role_reply", RBLK_P_ROLE_REPLY, 8),
	OK_HDR("outdate", RBLK_P_OUTDATE, 0),
	OK_HDR("behind", RBLK_P_BEHIND, 8),
	OK_HDR("behind_ack", RBLK_P_BEHIND_ACK, 8),

	/* magic */
	{ "magic zero", 0, 1, RBLK_P_PING, 0, 0, 0, -EBADMSG },
	{ "magic byte-swapped", 0x4b4c4252, 1, RBLK_P_PING, 0, 0, 0, -EBADMSG },
	{ "magic one bit off", RBLK_PROTO_MAGIC ^ 1, 1, RBLK_P_PING, 0, 0, 0, -EBADMSG },
	{ "magic checked before version", 0, 9, RBLK_P_PING, 0, 0, 0, -EBADMSG },

	/* version */
	{ "version 0", RBLK_PROTO_MAGIC, 0, RBLK_P_PING, 0, 0, 0, -EPROTO },
	{ "version 2", RBLK_PROTO_MAGIC, 2, RBLK_P_PING, 0, 0, 0, -EPROTO },
	{ "version 255", RBLK_PROTO_MAGIC, 255, RBLK_P_HELLO, 0, 168, 0, -EPROTO },
	{ "version checked before command", RBLK_PROTO_MAGIC, 2, 0, 0, 0, 0, -EPROTO },

	/* command */
	{ "command 0", RBLK_PROTO_MAGIC, 1, 0, 0, 0, 0, -EOPNOTSUPP },
	{ "command max+1", RBLK_PROTO_MAGIC, 1, RBLK_P_CMD_MAX + 1, 0, 0, 0, -EOPNOTSUPP },
	{ "command 255", RBLK_PROTO_MAGIC, 1, 255, 0, 0, 0, -EOPNOTSUPP },
	{ "command checked before flags", RBLK_PROTO_MAGIC, 1, 0, 1, 0, 0, -EOPNOTSUPP },

	/* flags and reserved */
	{ "flag bit 0", RBLK_PROTO_MAGIC, 1, RBLK_P_PING, 0x0001, 0, 0, -EINVAL },
	{ "flag bit 15", RBLK_PROTO_MAGIC, 1, RBLK_P_FLUSH, 0x8000, 0, 0, -EINVAL },
	{ "reserved 1", RBLK_PROTO_MAGIC, 1, RBLK_P_PING, 0, 0, 1, -EINVAL },
	{ "reserved high bit", RBLK_PROTO_MAGIC, 1, RBLK_P_ACK, 0, 8, 0x80000000, -EINVAL },
	{ "flags checked before length", RBLK_PROTO_MAGIC, 1, RBLK_P_PING, 1, 7, 0, -EINVAL },

	/* fixed-size commands: one byte short, one byte long */
	BAD_LEN("hello short", RBLK_P_HELLO, 167),
	BAD_LEN("hello long", RBLK_P_HELLO, 169),
	BAD_LEN("hello empty", RBLK_P_HELLO, 0),
	BAD_LEN("hello_reject short", RBLK_P_HELLO_REJECT, 63),
	BAD_LEN("hello_reject long", RBLK_P_HELLO_REJECT, 65),
	BAD_LEN("flush long", RBLK_P_FLUSH, 1),
	BAD_LEN("flush with a sector", RBLK_P_FLUSH, 512),
	BAD_LEN("trim short", RBLK_P_TRIM, 15),
	BAD_LEN("trim long", RBLK_P_TRIM, 17),
	BAD_LEN("trim with data", RBLK_P_TRIM, 16 + 512),
	BAD_LEN("ack short", RBLK_P_ACK, 7),
	BAD_LEN("ack long", RBLK_P_ACK, 9),
	BAD_LEN("ping long", RBLK_P_PING, 1),
	BAD_LEN("ping_ack long", RBLK_P_PING_ACK, 1),
	BAD_LEN("state short", RBLK_P_STATE, 7),
	BAD_LEN("state long", RBLK_P_STATE, 9),
	BAD_LEN("role_req short", RBLK_P_ROLE_REQ, 7),
	BAD_LEN("role_req long", RBLK_P_ROLE_REQ, 9),
	BAD_LEN("role_reply short", RBLK_P_ROLE_REPLY, 7),
	BAD_LEN("role_reply long", RBLK_P_ROLE_REPLY, 9),
	BAD_LEN("outdate long", RBLK_P_OUTDATE, 1),
	BAD_LEN("behind short", RBLK_P_BEHIND, 7),
	BAD_LEN("behind long", RBLK_P_BEHIND, 9),
	BAD_LEN("behind_ack empty", RBLK_P_BEHIND_ACK, 0),
	BAD_LEN("ack huge", RBLK_P_ACK, U32_MAX),
	BAD_LEN("read short", RBLK_P_READ, 15),
	BAD_LEN("read long", RBLK_P_READ, 17),
	BAD_LEN("read with data", RBLK_P_READ, 16 + 512),

	/* READ_REPLY: 8 bytes, then nothing or whole sectors */
	BAD_LEN("read_reply empty", RBLK_P_READ_REPLY, 0),
	BAD_LEN("read_reply short", RBLK_P_READ_REPLY, 7),
	BAD_LEN("read_reply 1 byte", RBLK_P_READ_REPLY, 8 + 1),
	BAD_LEN("read_reply 511 bytes", RBLK_P_READ_REPLY, 8 + 511),
	BAD_LEN("read_reply max + 1 sector", RBLK_P_READ_REPLY, 8 + RBLK_MAX_DATA_BYTES + 512),
	BAD_LEN("read_reply u32 max", RBLK_P_READ_REPLY, U32_MAX),

	/* DATA */
	BAD_LEN("data empty", RBLK_P_DATA, 0),
	BAD_LEN("data header short", RBLK_P_DATA, 15),
	BAD_LEN("data zero data", RBLK_P_DATA, 16),
	BAD_LEN("data 1 byte", RBLK_P_DATA, 16 + 1),
	BAD_LEN("data 511 bytes", RBLK_P_DATA, 16 + 511),
	BAD_LEN("data 513 bytes", RBLK_P_DATA, 16 + 513),
	BAD_LEN("data 4095 bytes", RBLK_P_DATA, 16 + 4095),
	BAD_LEN("data max + 1 sector", RBLK_P_DATA, 16 + RBLK_MAX_DATA_BYTES + 512),
	BAD_LEN("data max + 1 byte", RBLK_P_DATA, 16 + RBLK_MAX_DATA_BYTES + 1),
	BAD_LEN("data 2 GiB", RBLK_P_DATA, 0x80000000U + 16),
	BAD_LEN("data u32 max", RBLK_P_DATA, U32_MAX),
	/* 16 + a multiple of 512 that wraps around 32 bits */
	BAD_LEN("data wrap", RBLK_P_DATA, 16 + 0xfffffe00U),
};

static void rblk_hdr_case_desc(const struct rblk_hdr_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(rblk_hdr, rblk_hdr_cases, rblk_hdr_case_desc);

static void rblk_hdr_test_decode(struct kunit *test)
{
	const struct rblk_hdr_case *c = test->param_value;
	struct rblk_hdr_info info;
	struct rblk_hdr hdr;

	rblk_hdr_encode(&hdr, c->version, c->command, c->flags,
			c->payload_len_bytes, 42);
	hdr.magic = cpu_to_be32(c->magic);
	hdr.reserved = cpu_to_be32(c->reserved);

	KUNIT_EXPECT_EQ(test, rblk_hdr_decode(&hdr, 1, &info), c->expected);
	/* filled even on error, for the log line */
	KUNIT_EXPECT_EQ(test, info.command, c->command);
	KUNIT_EXPECT_EQ(test, info.payload_len_bytes, c->payload_len_bytes);
	KUNIT_EXPECT_EQ(test, info.request_id, 42ULL);
}

static void rblk_hdr_test_expected_version(struct kunit *test)
{
	struct rblk_hdr_info info;
	struct rblk_hdr hdr;

	rblk_hdr_encode(&hdr, 2, RBLK_P_PING, 0, 0, 1);
	KUNIT_EXPECT_EQ(test, rblk_hdr_decode(&hdr, 2, &info), 0);
	KUNIT_EXPECT_EQ(test, rblk_hdr_decode(&hdr, 1, &info), -EPROTO);
	KUNIT_EXPECT_EQ(test, rblk_hdr_decode(&hdr, 3, &info), -EPROTO);
}

static void rblk_hdr_test_names(struct kunit *test)
{
	KUNIT_EXPECT_STREQ(test, rblk_packet_cmd_name(RBLK_P_HELLO), "hello");
	KUNIT_EXPECT_STREQ(test, rblk_packet_cmd_name(RBLK_P_DATA), "data");
	KUNIT_EXPECT_STREQ(test, rblk_packet_cmd_name(RBLK_P_ROLE_REPLY), "role_reply");
	KUNIT_EXPECT_STREQ(test, rblk_packet_cmd_name(RBLK_P_OUTDATE), "outdate");
	KUNIT_EXPECT_STREQ(test, rblk_packet_cmd_name(RBLK_P_BEHIND_ACK), "behind_ack");
	KUNIT_EXPECT_STREQ(test, rblk_packet_cmd_name(0), "invalid");
	KUNIT_EXPECT_STREQ(test, rblk_packet_cmd_name(RBLK_P_CMD_MAX + 1), "invalid");
	KUNIT_EXPECT_STREQ(test, rblk_reject_reason_name(RBLK_REJECT_SIZE), "size");
	KUNIT_EXPECT_STREQ(test, rblk_reject_reason_name(RBLK_REJECT_MALFORMED), "malformed");
	KUNIT_EXPECT_STREQ(test, rblk_reject_reason_name(RBLK_REJECT_OTHER_PRIMARY),
			   "other_primary");
	KUNIT_EXPECT_STREQ(test, rblk_reject_reason_name(RBLK_REJECT_DIGEST), "digest");
	KUNIT_EXPECT_STREQ(test, rblk_reject_reason_name(0), "invalid");
	KUNIT_EXPECT_STREQ(test, rblk_reject_reason_name(RBLK_REJECT_MAX + 1),
			   "invalid");
	KUNIT_EXPECT_STREQ(test, rblk_reject_reason_name(U32_MAX), "invalid");
}

/* ----------------------------------------------------------------- hello */

static void rblk_test_params(struct rblk_hello_params *p, u32 node_id, u32 peer_node_id)
{
	memset(p, 0, sizeof(*p));
	p->version_min = RBLK_PROTO_VERSION_MIN;
	p->version_max = RBLK_PROTO_VERSION_MAX;
	p->features = RBLK_FEAT_ALL;
	p->node_id = node_id;
	p->peer_node_id = peer_node_id;
	p->size_sectors = 2097152;
	p->logical_block_size_bytes = 512;
	p->role = RBLK_ROLE_SECONDARY;
	p->disk_state = RBLK_DISK_UP_TO_DATE;
	strscpy(p->cluster_name, "ward-b", sizeof(p->cluster_name));
	strscpy(p->resource_name, "vm-disks", sizeof(p->resource_name));
}

static void rblk_hello_test_round_trip(struct kunit *test)
{
	struct rblk_hello_params in, out;
	struct rblk_p_hello p;
	const u8 *b = (const u8 *)&p;

	rblk_test_params(&in, 3, 7);
	in.role = RBLK_ROLE_PRIMARY;
	in.size_sectors = 0x0000000102030405ULL;
	in.logical_block_size_bytes = 4096;
	in.features = RBLK_FEAT_FLUSH | RBLK_FEAT_FUA;
	memset(&p, 0xa5, sizeof(p));
	rblk_hello_encode(&p, &in);

	/* a few fields byte by byte: big endian at the documented offsets */
	KUNIT_EXPECT_EQ(test, b[3], 1);				/* version_min */
	KUNIT_EXPECT_EQ(test, b[7], 1);				/* version_max */
	KUNIT_EXPECT_EQ(test, b[15], 0x03);			/* features */
	KUNIT_EXPECT_EQ(test, b[19], 3);			/* node_id */
	KUNIT_EXPECT_EQ(test, b[23], 7);			/* peer_node_id */
	KUNIT_EXPECT_EQ(test, b[27], 0x01);			/* size_sectors */
	KUNIT_EXPECT_EQ(test, b[31], 0x05);
	KUNIT_EXPECT_EQ(test, b[34], 0x10);			/* 4096 */
	KUNIT_EXPECT_EQ(test, b[36], RBLK_ROLE_PRIMARY);	/* role */
	KUNIT_EXPECT_EQ(test, b[37], RBLK_DISK_UP_TO_DATE);	/* disk_state */
	KUNIT_EXPECT_EQ(test, b[38] | b[39], 0);		/* pad */
	KUNIT_EXPECT_EQ(test, memcmp(b + 40, "ward-b", 7), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(b + 47, 0, 64 - 7));	/* NUL-padded */
	KUNIT_EXPECT_EQ(test, memcmp(b + 104, "vm-disks", 9), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(b + 113, 0, 64 - 9));

	memset(&out, 0x5a, sizeof(out));
	KUNIT_ASSERT_EQ(test, rblk_hello_decode(&p, &out), 0);
	KUNIT_EXPECT_EQ(test, out.version_min, 1U);
	KUNIT_EXPECT_EQ(test, out.version_max, 1U);
	KUNIT_EXPECT_EQ(test, out.features, in.features);
	KUNIT_EXPECT_EQ(test, out.node_id, 3U);
	KUNIT_EXPECT_EQ(test, out.peer_node_id, 7U);
	KUNIT_EXPECT_EQ(test, out.size_sectors, in.size_sectors);
	KUNIT_EXPECT_EQ(test, out.logical_block_size_bytes, 4096U);
	KUNIT_EXPECT_EQ(test, out.role, RBLK_ROLE_PRIMARY);
	KUNIT_EXPECT_EQ(test, out.disk_state, RBLK_DISK_UP_TO_DATE);
	KUNIT_EXPECT_STREQ(test, out.cluster_name, "ward-b");
	KUNIT_EXPECT_STREQ(test, out.resource_name, "vm-disks");
}

static void rblk_hello_test_decode_accepts(struct kunit *test)
{
	struct rblk_hello_params in, out;
	struct rblk_p_hello p;

	/* unknown feature bits, the longest names, the edges of every range */
	rblk_test_params(&in, 0, RBLK_MAX_NODE_ID);
	in.features = ~0ULL;
	in.version_max = 7;
	in.logical_block_size_bytes = 65536;
	in.disk_state = RBLK_DISK_DISKLESS;
	memset(in.cluster_name, 'c', RBLK_NAME_MAX_BYTES - 1);
	in.cluster_name[RBLK_NAME_MAX_BYTES - 1] = '\0';
	in.resource_name[0] = '\0';
	rblk_hello_encode(&p, &in);
	KUNIT_ASSERT_EQ(test, rblk_hello_decode(&p, &out), 0);
	KUNIT_EXPECT_EQ(test, out.features, ~0ULL);
	KUNIT_EXPECT_EQ(test, strlen(out.cluster_name), (size_t)RBLK_NAME_MAX_BYTES - 1);
	KUNIT_EXPECT_STREQ(test, out.resource_name, "");
	KUNIT_EXPECT_EQ(test, out.disk_state, RBLK_DISK_DISKLESS);
}

enum rblk_hello_mutation {
	HM_CLUSTER_UNTERMINATED,
	HM_RESOURCE_UNTERMINATED,
	HM_CLUSTER_GARBAGE,
	HM_RESOURCE_GARBAGE,
	HM_RESOURCE_SLASH,
	HM_CLUSTER_LATIN1,
	HM_ROLE_UNKNOWN,
	HM_ROLE_3,
	HM_DISK_UNKNOWN,
	HM_DISK_5,
	HM_PAD0,
	HM_PAD1,
	HM_VERSION_MIN_0,
	HM_VERSION_MIN_ABOVE_MAX,
	HM_NODE_ID_32,
	HM_PEER_NODE_ID_HUGE,
	HM_LBS_0,
	HM_LBS_256,
	HM_LBS_1000,
	HM_LBS_128K,
	HM_COUNT,
};

static void rblk_hello_mutate(struct rblk_p_hello *p, enum rblk_hello_mutation m)
{
	switch (m) {
	case HM_CLUSTER_UNTERMINATED:
		memset(p->cluster_name, 'x', sizeof(p->cluster_name));
		break;
	case HM_RESOURCE_UNTERMINATED:
		memset(p->resource_name, 'x', sizeof(p->resource_name));
		break;
	case HM_CLUSTER_GARBAGE:
		p->cluster_name[63] = 'x';
		break;
	case HM_RESOURCE_GARBAGE:
		p->resource_name[20] = 'x';
		break;
	case HM_RESOURCE_SLASH:
		strscpy_pad(p->resource_name, "../r0", sizeof(p->resource_name));
		break;
	case HM_CLUSTER_LATIN1:
		strscpy_pad(p->cluster_name, "caf\xe9", sizeof(p->cluster_name));
		break;
	case HM_ROLE_UNKNOWN:
		p->role = RBLK_ROLE_UNKNOWN;
		break;
	case HM_ROLE_3:
		p->role = 3;
		break;
	case HM_DISK_UNKNOWN:
		p->disk_state = RBLK_DISK_UNKNOWN;
		break;
	case HM_DISK_5:
		p->disk_state = 5;
		break;
	case HM_PAD0:
		p->pad[0] = 1;
		break;
	case HM_PAD1:
		p->pad[1] = 0x80;
		break;
	case HM_VERSION_MIN_0:
		p->version_min = 0;
		break;
	case HM_VERSION_MIN_ABOVE_MAX:
		p->version_min = cpu_to_be32(2);
		break;
	case HM_NODE_ID_32:
		p->node_id = cpu_to_be32(RBLK_MAX_NODE_ID + 1);
		break;
	case HM_PEER_NODE_ID_HUGE:
		p->peer_node_id = cpu_to_be32(U32_MAX);
		break;
	case HM_LBS_0:
		p->logical_block_size_bytes = 0;
		break;
	case HM_LBS_256:
		p->logical_block_size_bytes = cpu_to_be32(256);
		break;
	case HM_LBS_1000:
		p->logical_block_size_bytes = cpu_to_be32(1000);
		break;
	case HM_LBS_128K:
		p->logical_block_size_bytes = cpu_to_be32(131072);
		break;
	case HM_COUNT:
		break;
	}
}

static void rblk_hello_test_decode_rejects(struct kunit *test)
{
	struct rblk_hello_params in, out;
	struct rblk_p_hello p;
	int m;

	rblk_test_params(&in, 1, 2);
	for (m = 0; m < HM_COUNT; m++) {
		rblk_hello_encode(&p, &in);
		KUNIT_ASSERT_EQ(test, rblk_hello_decode(&p, &out), 0);
		rblk_hello_mutate(&p, m);
		memset(&out, 0x5a, sizeof(out));
		KUNIT_EXPECT_EQ_MSG(test, rblk_hello_decode(&p, &out), -EINVAL,
				    "mutation %d", m);
		/* nothing of a rejected hello leaks into the output */
		KUNIT_EXPECT_EQ_MSG(test, out.node_id, 0x5a5a5a5aU, "mutation %d", m);
	}
}

static void rblk_hello_expect_refusal(struct kunit *test,
				      const struct rblk_hello_params *local,
				      const struct rblk_hello_params *remote,
				      u32 reason, const char *msg1, const char *msg2)
{
	struct rblk_hello_result r;

	KUNIT_EXPECT_EQ(test, rblk_hello_negotiate(local, remote, &r), -ECONNREFUSED);
	KUNIT_EXPECT_EQ(test, r.reason, reason);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(r.message, msg1), "message '%s'", r.message);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(r.message, msg2), "message '%s'", r.message);
	KUNIT_EXPECT_LT(test, strlen(r.message), sizeof(r.message));
	KUNIT_EXPECT_LE(test, sizeof(r.message), sizeof_field(struct rblk_p_reject, message));

	/* the peer, running the same check, reaches the same verdict */
	KUNIT_EXPECT_EQ(test, rblk_hello_negotiate(remote, local, &r), -ECONNREFUSED);
	KUNIT_EXPECT_EQ(test, r.reason, reason);
}

static void rblk_hello_test_compatible(struct kunit *test)
{
	struct rblk_hello_params a, b;
	struct rblk_hello_result r;

	rblk_test_params(&a, 1, 2);
	rblk_test_params(&b, 2, 1);
	b.features = RBLK_FEAT_REQUIRED | RBLK_FEAT_DISCARD | (1ULL << 40);
	b.role = RBLK_ROLE_PRIMARY;
	b.disk_state = RBLK_DISK_INCONSISTENT;
	memset(&r, 0x5a, sizeof(r));
	KUNIT_ASSERT_EQ(test, rblk_hello_negotiate(&a, &b, &r), 0);
	KUNIT_EXPECT_EQ(test, r.reason, 0U);
	KUNIT_EXPECT_EQ(test, r.version, 1U);
	KUNIT_EXPECT_EQ(test, r.features, RBLK_FEAT_REQUIRED | RBLK_FEAT_DISCARD);
	KUNIT_ASSERT_EQ(test, rblk_hello_negotiate(&b, &a, &r), 0);
	KUNIT_EXPECT_EQ(test, r.features, RBLK_FEAT_REQUIRED | RBLK_FEAT_DISCARD);

	/* the highest common version wins */
	a.version_max = 3;
	b.version_min = 2;
	b.version_max = 5;
	KUNIT_ASSERT_EQ(test, rblk_hello_negotiate(&a, &b, &r), 0);
	KUNIT_EXPECT_EQ(test, r.version, 3U);
	b.version_min = 1;
	b.version_max = 2;
	KUNIT_ASSERT_EQ(test, rblk_hello_negotiate(&a, &b, &r), 0);
	KUNIT_EXPECT_EQ(test, r.version, 2U);
}

static void rblk_hello_test_version(struct kunit *test)
{
	struct rblk_hello_params a, b;

	rblk_test_params(&a, 1, 2);
	rblk_test_params(&b, 2, 1);
	b.version_min = 2;
	b.version_max = 3;
	rblk_hello_expect_refusal(test, &a, &b, RBLK_REJECT_VERSION, "1-1", "2-3");
}

static void rblk_hello_test_features(struct kunit *test)
{
	struct rblk_hello_params a, b;

	rblk_test_params(&a, 1, 2);
	rblk_test_params(&b, 2, 1);
	b.features = RBLK_FEAT_FLUSH | RBLK_FEAT_DISCARD;	/* no FUA */
	rblk_hello_expect_refusal(test, &a, &b, RBLK_REJECT_FEATURES, "0x3", "0x1");
	b.features = 0;
	rblk_hello_expect_refusal(test, &a, &b, RBLK_REJECT_FEATURES, "0x3", "0x0");
}

static void rblk_hello_test_node_id(struct kunit *test)
{
	struct rblk_hello_params a, b;

	/* the peer is node 5, we expected node 2 */
	rblk_test_params(&a, 1, 2);
	rblk_test_params(&b, 5, 1);
	rblk_hello_expect_refusal(test, &a, &b, RBLK_REJECT_NODE_ID, "2", "5");
	/* the peer is node 2 but expects node 4, we are node 1 */
	rblk_test_params(&b, 2, 4);
	rblk_hello_expect_refusal(test, &a, &b, RBLK_REJECT_NODE_ID, "1", "4");
	/* two nodes configured with the same node id */
	rblk_test_params(&a, 1, 1);
	rblk_test_params(&b, 1, 1);
	rblk_hello_expect_refusal(test, &a, &b, RBLK_REJECT_NODE_ID, "both", "1");
}

static void rblk_hello_test_names_mismatch(struct kunit *test)
{
	struct rblk_hello_params a, b;

	rblk_test_params(&a, 1, 2);
	rblk_test_params(&b, 2, 1);
	strscpy(b.cluster_name, "ward-c", sizeof(b.cluster_name));
	rblk_hello_expect_refusal(test, &a, &b, RBLK_REJECT_CLUSTER, "'ward-b'", "'ward-c'");

	rblk_test_params(&b, 2, 1);
	strscpy(b.resource_name, "vm-data", sizeof(b.resource_name));
	rblk_hello_expect_refusal(test, &a, &b, RBLK_REJECT_RESOURCE, "'vm-disks'", "'vm-data'");

	/* empty cluster names on both sides match */
	a.cluster_name[0] = '\0';
	rblk_test_params(&b, 2, 1);
	b.cluster_name[0] = '\0';
	KUNIT_EXPECT_EQ(test, rblk_hello_negotiate(&a, &b, &(struct rblk_hello_result){}), 0);
}

static void rblk_hello_test_size(struct kunit *test)
{
	struct rblk_hello_params a, b;
	struct rblk_hello_result r;

	rblk_test_params(&a, 1, 2);
	rblk_test_params(&b, 2, 1);
	b.size_sectors = 1048576;
	rblk_hello_expect_refusal(test, &a, &b, RBLK_REJECT_SIZE, "2097152", "1048576");
	KUNIT_EXPECT_EQ(test, rblk_hello_negotiate(&a, &b, &r), -ECONNREFUSED);
	KUNIT_EXPECT_STREQ(test, r.message,
			   "size mismatch: local 2097152 sectors, peer 1048576 sectors");
	/* one sector off is a mismatch too */
	b.size_sectors = a.size_sectors + 1;
	rblk_hello_expect_refusal(test, &a, &b, RBLK_REJECT_SIZE, "2097152", "2097153");
}

static void rblk_hello_test_block_size(struct kunit *test)
{
	struct rblk_hello_params a, b;

	rblk_test_params(&a, 1, 2);
	rblk_test_params(&b, 2, 1);
	b.logical_block_size_bytes = 4096;
	rblk_hello_expect_refusal(test, &a, &b, RBLK_REJECT_BLOCK_SIZE, "512", "4096");
}

static void rblk_hello_test_both_primary(struct kunit *test)
{
	struct rblk_hello_params a, b;

	rblk_test_params(&a, 1, 2);
	rblk_test_params(&b, 2, 1);
	a.role = RBLK_ROLE_PRIMARY;
	b.role = RBLK_ROLE_PRIMARY;
	rblk_hello_expect_refusal(test, &a, &b, RBLK_REJECT_BOTH_PRIMARY, "node 1", "node 2");
}

static void rblk_hello_test_check_order(struct kunit *test)
{
	struct rblk_hello_params a, b;
	struct rblk_hello_result r;

	/* everything wrong at once: the version decides */
	rblk_test_params(&a, 1, 2);
	rblk_test_params(&b, 3, 3);
	b.version_min = 9;
	b.version_max = 9;
	b.features = 0;
	b.size_sectors = 1;
	b.role = RBLK_ROLE_PRIMARY;
	a.role = RBLK_ROLE_PRIMARY;
	KUNIT_EXPECT_EQ(test, rblk_hello_negotiate(&a, &b, &r), -ECONNREFUSED);
	KUNIT_EXPECT_EQ(test, r.reason, RBLK_REJECT_VERSION);
	b.version_min = 1;
	KUNIT_EXPECT_EQ(test, rblk_hello_negotiate(&a, &b, &r), -ECONNREFUSED);
	KUNIT_EXPECT_EQ(test, r.reason, RBLK_REJECT_FEATURES);
	b.features = RBLK_FEAT_ALL;
	KUNIT_EXPECT_EQ(test, rblk_hello_negotiate(&a, &b, &r), -ECONNREFUSED);
	KUNIT_EXPECT_EQ(test, r.reason, RBLK_REJECT_NODE_ID);
	b.node_id = 2;
	b.peer_node_id = 1;
	KUNIT_EXPECT_EQ(test, rblk_hello_negotiate(&a, &b, &r), -ECONNREFUSED);
	KUNIT_EXPECT_EQ(test, r.reason, RBLK_REJECT_SIZE);
	b.size_sectors = a.size_sectors;
	KUNIT_EXPECT_EQ(test, rblk_hello_negotiate(&a, &b, &r), -ECONNREFUSED);
	KUNIT_EXPECT_EQ(test, r.reason, RBLK_REJECT_BOTH_PRIMARY);
	b.role = RBLK_ROLE_SECONDARY;
	KUNIT_EXPECT_EQ(test, rblk_hello_negotiate(&a, &b, &r), 0);
}

/*
 * The data digest is offered only when configured (not in RBLK_FEAT_ALL):
 * both sides or neither, else both refuse with DIGEST.
 */
static void rblk_hello_test_digest(struct kunit *test)
{
	struct rblk_hello_params a, b, out;
	struct rblk_hello_result r;
	struct rblk_p_hello p;

	KUNIT_EXPECT_EQ(test, RBLK_FEAT_DATA_DIGEST, BIT_ULL(11));
	KUNIT_EXPECT_EQ(test, RBLK_FEAT_ALL & RBLK_FEAT_DATA_DIGEST, 0ULL);
	KUNIT_EXPECT_EQ(test, (u32)RBLK_REJECT_DIGEST, 20U);
	KUNIT_EXPECT_EQ(test, (u32)RBLK_REJECT_MAX, 20U);

	rblk_test_params(&a, 1, 2);
	rblk_test_params(&b, 2, 1);
	KUNIT_ASSERT_EQ(test, rblk_hello_negotiate(&a, &b, &r), 0);
	KUNIT_EXPECT_EQ(test, r.features & RBLK_FEAT_DATA_DIGEST, 0ULL);

	a.features |= RBLK_FEAT_DATA_DIGEST;
	rblk_hello_expect_refusal(test, &a, &b, RBLK_REJECT_DIGEST, "local crc32c",
				  "peer none");
	rblk_hello_expect_refusal(test, &b, &a, RBLK_REJECT_DIGEST, "local none",
				  "peer crc32c");

	b.features |= RBLK_FEAT_DATA_DIGEST;
	KUNIT_ASSERT_EQ(test, rblk_hello_negotiate(&a, &b, &r), 0);
	KUNIT_EXPECT_EQ(test, r.features, RBLK_FEAT_ALL | RBLK_FEAT_DATA_DIGEST);
	KUNIT_ASSERT_EQ(test, rblk_hello_negotiate(&b, &a, &r), 0);
	KUNIT_EXPECT_EQ(test, r.features, RBLK_FEAT_ALL | RBLK_FEAT_DATA_DIGEST);

	/* the bit travels in the HELLO */
	rblk_hello_encode(&p, &a);
	KUNIT_ASSERT_EQ(test, rblk_hello_decode(&p, &out), 0);
	KUNIT_EXPECT_EQ(test, out.features, RBLK_FEAT_ALL | RBLK_FEAT_DATA_DIGEST);

	/* a resource mismatch is reported before the digest */
	b.features &= ~RBLK_FEAT_DATA_DIGEST;
	strscpy(b.resource_name, "other", sizeof(b.resource_name));
	KUNIT_EXPECT_EQ(test, rblk_hello_negotiate(&a, &b, &r), -ECONNREFUSED);
	KUNIT_EXPECT_EQ(test, r.reason, RBLK_REJECT_RESOURCE);
	/* and the digest before the sizes */
	strscpy(b.resource_name, a.resource_name, sizeof(b.resource_name));
	b.size_sectors = 1;
	KUNIT_EXPECT_EQ(test, rblk_hello_negotiate(&a, &b, &r), -ECONNREFUSED);
	KUNIT_EXPECT_EQ(test, r.reason, RBLK_REJECT_DIGEST);
}

/* -------------------------------------------------------------- payloads */

static void rblk_reject_test(struct kunit *test)
{
	char long_msg[100], msg[60];
	struct rblk_p_reject p;
	u32 reason = 0;

	rblk_reject_encode(&p, RBLK_REJECT_SIZE, "size mismatch");
	KUNIT_EXPECT_EQ(test, ((u8 *)&p)[3], RBLK_REJECT_SIZE);
	KUNIT_ASSERT_EQ(test, rblk_reject_decode(&p, &reason, msg), 0);
	KUNIT_EXPECT_EQ(test, reason, (u32)RBLK_REJECT_SIZE);
	KUNIT_EXPECT_STREQ(test, msg, "size mismatch");

	/* a long message is truncated, still terminated */
	memset(long_msg, 'm', sizeof(long_msg) - 1);
	long_msg[sizeof(long_msg) - 1] = '\0';
	rblk_reject_encode(&p, RBLK_REJECT_MALFORMED, long_msg);
	KUNIT_ASSERT_EQ(test, rblk_reject_decode(&p, &reason, msg), 0);
	KUNIT_EXPECT_EQ(test, strlen(msg), sizeof(msg) - 1);

	rblk_reject_encode(&p, 0, "x");
	KUNIT_EXPECT_EQ(test, rblk_reject_decode(&p, &reason, msg), -EINVAL);
	rblk_reject_encode(&p, RBLK_REJECT_MAX + 1, "x");
	KUNIT_EXPECT_EQ(test, rblk_reject_decode(&p, &reason, msg), -EINVAL);
	rblk_reject_encode(&p, RBLK_REJECT_VERSION, "x");
	memset(p.message, 'x', sizeof(p.message));
	KUNIT_EXPECT_EQ(test, rblk_reject_decode(&p, &reason, msg), -EINVAL);
}

static void rblk_data_test(struct kunit *test)
{
	static const u8 want[16] = {
		0, 0, 0, 1, 0, 0, 0, 2,  0, 0, 0, 3,  0, 0, 0, 0,
	};
	const u64 size = 2048;
	struct rblk_data_info info;
	struct rblk_p_data p;

	memset(&p, 0xa5, sizeof(p));
	rblk_data_encode(&p, 0x100000002ULL, RBLK_DP_FUA | RBLK_DP_PREFLUSH, 0);
	KUNIT_EXPECT_EQ(test, memcmp(&p, want, sizeof(want)), 0);

	rblk_data_encode(&p, 8, RBLK_DP_FUA, 0);
	KUNIT_ASSERT_EQ(test, rblk_data_decode(&p, 16 + 4096, size, 512, false, &info), 0);
	KUNIT_EXPECT_EQ(test, info.sector, 8ULL);
	KUNIT_EXPECT_EQ(test, info.nr_sectors, 8U);
	KUNIT_EXPECT_EQ(test, info.data_bytes, 4096U);
	KUNIT_EXPECT_EQ(test, info.dp_flags, RBLK_DP_FUA);

	/* the last sector of the device */
	rblk_data_encode(&p, size - 1, 0, 0);
	KUNIT_EXPECT_EQ(test, rblk_data_decode(&p, 16 + 512, size, 512, false, &info), 0);
	/* one past it, and writes straddling the end */
	rblk_data_encode(&p, size, 0, 0);
	KUNIT_EXPECT_EQ(test, rblk_data_decode(&p, 16 + 512, size, 512, false, &info), -ERANGE);
	rblk_data_encode(&p, size - 1, 0, 0);
	KUNIT_EXPECT_EQ(test, rblk_data_decode(&p, 16 + 1024, size, 512, false, &info), -ERANGE);
	/* sector + length overflowing 64 bits */
	rblk_data_encode(&p, U64_MAX, 0, 0);
	KUNIT_EXPECT_EQ(test, rblk_data_decode(&p, 16 + 512, size, 512, false, &info), -ERANGE);
	rblk_data_encode(&p, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, rblk_data_decode(&p, 16 + 512, 0, 512, false, &info), -ERANGE);

	rblk_data_encode(&p, 0, RBLK_DP_RESYNC, 0);
	KUNIT_EXPECT_EQ(test, rblk_data_decode(&p, 16 + 512, size, 512, false, &info), 0);
	KUNIT_EXPECT_EQ(test, info.dp_flags, RBLK_DP_RESYNC);
	rblk_data_encode(&p, 0, RBLK_DP_RESYNC << 1, 0);
	KUNIT_EXPECT_EQ(test, rblk_data_decode(&p, 16 + 512, size, 512, false, &info), -EINVAL);
	rblk_data_encode(&p, 0, 0x80000000U, 0);
	KUNIT_EXPECT_EQ(test, rblk_data_decode(&p, 16 + 512, size, 512, false, &info), -EINVAL);
	rblk_data_encode(&p, 0, 0, 0);
	p.data_digest = cpu_to_be32(1);
	KUNIT_EXPECT_EQ(test, rblk_data_decode(&p, 16 + 512, size, 512, false, &info), -EINVAL);
}

/* With RBLK_FEAT_DATA_DIGEST the last four bytes are the digest, any value. */
static void rblk_data_test_digest_field(struct kunit *test)
{
	static const u8 want[16] = {
		0, 0, 0, 0, 0, 0, 0, 8,  0, 0, 0, 0x41,  0xde, 0xad, 0xbe, 0xef,
	};
	struct rblk_data_info info;
	struct rblk_p_data p;

	memset(&p, 0xa5, sizeof(p));
	rblk_data_encode(&p, 8, RBLK_DP_RESYNC | RBLK_DP_FUA, 0xdeadbeef);
	KUNIT_EXPECT_EQ(test, memcmp(&p, want, sizeof(want)), 0);
	memset(&info, 0, sizeof(info));
	KUNIT_ASSERT_EQ(test, rblk_data_decode(&p, 16 + 4096, 2048, 512, true, &info), 0);
	KUNIT_EXPECT_EQ(test, info.data_digest, 0xdeadbeefU);
	KUNIT_EXPECT_EQ(test, info.dp_flags, RBLK_DP_RESYNC | RBLK_DP_FUA);
	/* without the feature the field must be zero */
	KUNIT_EXPECT_EQ(test, rblk_data_decode(&p, 16 + 4096, 2048, 512, false, &info),
			-EINVAL);
	/* a zero digest is a digest like any other */
	rblk_data_encode(&p, 8, 0, 0);
	info.data_digest = 1;
	KUNIT_ASSERT_EQ(test, rblk_data_decode(&p, 16 + 4096, 2048, 512, true, &info), 0);
	KUNIT_EXPECT_EQ(test, info.data_digest, 0U);
}

/*
 * A bio of three segments at odd offsets on three pages (one of them
 * crossing into a second page), filled with a pattern also kept in @buf.
 */
struct rblk_digest_bio {
	struct bio bio;
	struct bio_vec bvecs[3];
	struct page *pages[4];
	u8 *buf;
	u32 len;
};

static const struct {
	unsigned int page, offset, len;
} rblk_digest_segs[3] = {
	{ 0, 100, 1000 },
	{ 1, 0, PAGE_SIZE + 512 },	/* pages 1 and 2: one multi-page bvec */
	{ 3, 7, 537 },
};

static void rblk_digest_bio_init(struct kunit *test, struct rblk_digest_bio *d)
{
	unsigned int i, pos = 0;
	struct page *pages;

	/* pages 1 and 2 must be contiguous for the multi-page segment */
	pages = alloc_pages(GFP_KERNEL, 2);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	for (i = 0; i < 4; i++)
		d->pages[i] = pages + i;
	d->len = 0;
	for (i = 0; i < ARRAY_SIZE(rblk_digest_segs); i++)
		d->len += rblk_digest_segs[i].len;
	d->buf = kunit_kmalloc(test, d->len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, d->buf);
	for (i = 0; i < d->len; i++)
		d->buf[i] = (u8)(i * 7 + (i >> 8));
	bio_init(&d->bio, NULL, d->bvecs, ARRAY_SIZE(d->bvecs), REQ_OP_WRITE);
	for (i = 0; i < ARRAY_SIZE(rblk_digest_segs); i++) {
		struct page *page = d->pages[rblk_digest_segs[i].page];
		u8 *p = page_address(page) + rblk_digest_segs[i].offset;

		memcpy(p, d->buf + pos, rblk_digest_segs[i].len);
		__bio_add_page(&d->bio, page, rblk_digest_segs[i].len,
			       rblk_digest_segs[i].offset);
		pos += rblk_digest_segs[i].len;
	}
}

static void rblk_digest_bio_free(struct rblk_digest_bio *d)
{
	bio_uninit(&d->bio);
	__free_pages(d->pages[0], 2);
}

/* The digest is crc32c() seeded with ~0, over the bytes in order. */
static void rblk_data_digest_test_known(struct kunit *test)
{
	static const char check[] = "123456789";
	struct bio_vec bv;
	struct page *page;
	struct bio bio;

	KUNIT_EXPECT_EQ(test, RBLK_DATA_DIGEST_SEED, 0xffffffffU);
	/* CRC-32C's check value 0xe3069283, without the final inversion */
	KUNIT_EXPECT_EQ(test, crc32c(RBLK_DATA_DIGEST_SEED, check, 9), 0x1cf96d7cU);

	page = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	memcpy(page_address(page) + 3, check, 9);
	bio_init(&bio, NULL, &bv, 1, REQ_OP_WRITE);
	__bio_add_page(&bio, page, 9, 3);
	KUNIT_EXPECT_EQ(test, rblk_data_digest(&bio, bio.bi_iter), 0x1cf96d7cU);
	/* 512 zero bytes */
	memset(page_address(page), 0, 512);
	bio_reset(&bio, NULL, REQ_OP_WRITE);
	__bio_add_page(&bio, page, 512, 0);
	KUNIT_EXPECT_EQ(test, rblk_data_digest(&bio, bio.bi_iter),
			crc32c(~0U, page_address(page), 512));
	bio_uninit(&bio);
	__free_page(page);
}

/* Over several segments: the same as over the bytes in one buffer. */
static void rblk_data_digest_test_bio(struct kunit *test)
{
	struct rblk_digest_bio d;
	struct bvec_iter iter;
	u32 want;

	rblk_digest_bio_init(test, &d);
	KUNIT_ASSERT_EQ(test, d.bio.bi_iter.bi_size, d.len);
	want = crc32c(RBLK_DATA_DIGEST_SEED, d.buf, d.len);
	KUNIT_EXPECT_EQ(test, rblk_data_digest(&d.bio, d.bio.bi_iter), want);
	/* the iterator is a copy: the bio is not advanced */
	KUNIT_EXPECT_EQ(test, d.bio.bi_iter.bi_size, d.len);
	KUNIT_EXPECT_EQ(test, rblk_data_digest(&d.bio, d.bio.bi_iter), want);

	/* a part of it, from inside the first segment into the third */
	iter = d.bio.bi_iter;
	bio_advance_iter(&d.bio, &iter, 600);
	iter.bi_size = d.len - 600 - 100;
	KUNIT_EXPECT_EQ(test, rblk_data_digest(&d.bio, iter),
			crc32c(RBLK_DATA_DIGEST_SEED, d.buf + 600, d.len - 700));
	/* the resync's iterator: from the start, bi_size bytes */
	memset(&iter, 0, sizeof(iter));
	iter.bi_size = 1000 + PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, rblk_data_digest(&d.bio, iter),
			crc32c(RBLK_DATA_DIGEST_SEED, d.buf, 1000 + PAGE_SIZE));
	rblk_digest_bio_free(&d);
}

/* The receiver's check: equal digests pass, one changed byte is caught. */
static void rblk_data_digest_test_check(struct kunit *test)
{
	struct rblk_data_info info = { .sector = 8 };
	struct rblk_digest_bio d;
	u32 computed = 0, good;
	u8 *p;

	rblk_digest_bio_init(test, &d);
	info.data_bytes = d.len;
	good = crc32c(RBLK_DATA_DIGEST_SEED, d.buf, d.len);
	info.data_digest = good;
	KUNIT_EXPECT_EQ(test, rblk_data_digest_check(&info, &d.bio, &computed), 0);
	KUNIT_EXPECT_EQ(test, computed, good);

	/* one bit of one byte in the multi-page segment, on its second page */
	p = page_address(d.pages[2]) + 100;
	*p ^= 0x01;
	KUNIT_EXPECT_EQ(test, rblk_data_digest_check(&info, &d.bio, &computed), -EBADMSG);
	KUNIT_EXPECT_NE(test, computed, good);
	*p ^= 0x01;
	KUNIT_EXPECT_EQ(test, rblk_data_digest_check(&info, &d.bio, &computed), 0);

	/* the last byte */
	p = page_address(d.pages[3]) + 7 + 536;
	*p ^= 0x80;
	KUNIT_EXPECT_EQ(test, rblk_data_digest_check(&info, &d.bio, &computed), -EBADMSG);
	*p ^= 0x80;
	/* a wrong digest in the packet */
	info.data_digest = good ^ 0x00010000;
	KUNIT_EXPECT_EQ(test, rblk_data_digest_check(&info, &d.bio, &computed), -EBADMSG);
	KUNIT_EXPECT_EQ(test, computed, good);
	rblk_digest_bio_free(&d);
}

/* Request flags travel both ways; others stay home. */
static void rblk_dp_flags_test(struct kunit *test)
{
	const blk_opf_t all = REQ_FUA | REQ_PREFLUSH | REQ_SYNC | REQ_META | REQ_PRIO |
			      REQ_IDLE;

	KUNIT_EXPECT_EQ(test, rblk_dp_flags_from_opf(REQ_OP_WRITE), 0U);
	KUNIT_EXPECT_EQ(test, rblk_dp_flags_from_opf(REQ_OP_WRITE | REQ_SYNC | REQ_IDLE),
			RBLK_DP_SYNC | RBLK_DP_IDLE);
	KUNIT_EXPECT_EQ(test, rblk_dp_flags_from_opf(REQ_OP_WRITE | all), RBLK_DP_ALL);
	KUNIT_EXPECT_EQ(test, rblk_dp_flags_from_opf(REQ_OP_WRITE | REQ_NOWAIT | REQ_RAHEAD),
			0U);
	KUNIT_EXPECT_TRUE(test, rblk_opf_from_dp_flags(RBLK_DP_ALL) == all);
	KUNIT_EXPECT_TRUE(test, rblk_opf_from_dp_flags(RBLK_DP_META | RBLK_DP_FUA) ==
			  (REQ_META | REQ_FUA));
	KUNIT_EXPECT_TRUE(test, rblk_opf_from_dp_flags(0) == 0);
}

/* Sectors and lengths from the wire must fall on logical block boundaries. */
static void rblk_data_test_alignment(struct kunit *test)
{
	const u64 size = 1 << 20;
	struct rblk_data_info info;
	struct rblk_p_data p;

	rblk_data_encode(&p, 8, RBLK_DP_SYNC | RBLK_DP_META | RBLK_DP_PRIO | RBLK_DP_IDLE, 0);
	KUNIT_EXPECT_EQ(test, rblk_data_decode(&p, 16 + 4096, size, 4096, false, &info), 0);
	KUNIT_EXPECT_EQ(test, info.dp_flags,
			RBLK_DP_SYNC | RBLK_DP_META | RBLK_DP_PRIO | RBLK_DP_IDLE);
	/* sector not a multiple of 8 (4 KiB blocks) */
	rblk_data_encode(&p, 1, 0, 0);
	KUNIT_EXPECT_EQ(test, rblk_data_decode(&p, 16 + 4096, size, 4096, false, &info), -EINVAL);
	rblk_data_encode(&p, 4, 0, 0);
	KUNIT_EXPECT_EQ(test, rblk_data_decode(&p, 16 + 4096, size, 4096, false, &info), -EINVAL);
	/* length of 512 bytes on a 4 KiB device */
	rblk_data_encode(&p, 8, 0, 0);
	KUNIT_EXPECT_EQ(test, rblk_data_decode(&p, 16 + 512, size, 4096, false, &info), -EINVAL);
	KUNIT_EXPECT_EQ(test, rblk_data_decode(&p, 16 + 4096 + 512, size, 4096, false, &info),
			-EINVAL);
	/* the same write is fine on a 512-byte device */
	rblk_data_encode(&p, 1, 0, 0);
	KUNIT_EXPECT_EQ(test, rblk_data_decode(&p, 16 + 512, size, 512, false, &info), 0);
	/* block sizes that cannot be: 0, below 512, not a power of two */
	rblk_data_encode(&p, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, rblk_data_decode(&p, 16 + 4096, size, 0, false, &info), -EINVAL);
	KUNIT_EXPECT_EQ(test, rblk_data_decode(&p, 16 + 4096, size, 256, false, &info), -EINVAL);
	KUNIT_EXPECT_EQ(test, rblk_data_decode(&p, 16 + 4096, size, 3072, false, &info), -EINVAL);
	/* misaligned and outside: alignment is checked first */
	rblk_data_encode(&p, size + 1, 0, 0);
	KUNIT_EXPECT_EQ(test, rblk_data_decode(&p, 16 + 4096, size, 4096, false, &info), -EINVAL);
}

static void rblk_trim_test_alignment(struct kunit *test)
{
	const u64 size = 1 << 20;
	struct rblk_trim_info info;
	struct rblk_p_trim p;

	rblk_trim_encode(&p, 16, 64, 0);
	KUNIT_EXPECT_EQ(test, rblk_trim_decode(&p, size, 4096, &info), 0);
	rblk_trim_encode(&p, 17, 64, 0);
	KUNIT_EXPECT_EQ(test, rblk_trim_decode(&p, size, 4096, &info), -EINVAL);
	rblk_trim_encode(&p, 16, 63, RBLK_TRIM_ZEROES);
	KUNIT_EXPECT_EQ(test, rblk_trim_decode(&p, size, 4096, &info), -EINVAL);
	rblk_trim_encode(&p, 17, 63, 0);
	KUNIT_EXPECT_EQ(test, rblk_trim_decode(&p, size, 512, &info), 0);
	rblk_trim_encode(&p, size - 8, 16, 0);
	KUNIT_EXPECT_EQ(test, rblk_trim_decode(&p, size, 4096, &info), -ERANGE);
}

static void rblk_trim_test(struct kunit *test)
{
	const u64 size = 1 << 20;
	struct rblk_trim_info info;
	struct rblk_p_trim p;
	const u8 *b = (const u8 *)&p;

	rblk_trim_encode(&p, 0x10, 0x20, RBLK_TRIM_ZEROES | RBLK_TRIM_NOUNMAP);
	KUNIT_EXPECT_EQ(test, b[7], 0x10);
	KUNIT_EXPECT_EQ(test, b[11], 0x20);
	KUNIT_EXPECT_EQ(test, b[15], 0x03);
	KUNIT_ASSERT_EQ(test, rblk_trim_decode(&p, size, 512, &info), 0);
	KUNIT_EXPECT_EQ(test, info.sector, 0x10ULL);
	KUNIT_EXPECT_EQ(test, info.nr_sectors, 0x20U);
	KUNIT_EXPECT_EQ(test, info.trim_flags, RBLK_TRIM_ZEROES | RBLK_TRIM_NOUNMAP);

	rblk_trim_encode(&p, 0, size, 0);			/* whole device discard */
	KUNIT_EXPECT_EQ(test, rblk_trim_decode(&p, size, 512, &info), 0);
	rblk_trim_encode(&p, 0, 1, RBLK_TRIM_ZEROES);
	KUNIT_EXPECT_EQ(test, rblk_trim_decode(&p, size, 512, &info), 0);

	rblk_trim_encode(&p, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, rblk_trim_decode(&p, size, 512, &info), -EINVAL);
	rblk_trim_encode(&p, 0, 1, RBLK_TRIM_ALL + 1);
	KUNIT_EXPECT_EQ(test, rblk_trim_decode(&p, size, 512, &info), -EINVAL);
	rblk_trim_encode(&p, 0, 1, RBLK_TRIM_NOUNMAP);
	KUNIT_EXPECT_EQ(test, rblk_trim_decode(&p, size, 512, &info), -EINVAL);
	rblk_trim_encode(&p, 1, size, 0);
	KUNIT_EXPECT_EQ(test, rblk_trim_decode(&p, size, 512, &info), -ERANGE);
	rblk_trim_encode(&p, size, 1, 0);
	KUNIT_EXPECT_EQ(test, rblk_trim_decode(&p, size, 512, &info), -ERANGE);
	rblk_trim_encode(&p, U64_MAX - 1, 4, 0);
	KUNIT_EXPECT_EQ(test, rblk_trim_decode(&p, size, 512, &info), -ERANGE);
}

static void rblk_read_test(struct kunit *test)
{
	static const u8 want[16] = { 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 8, 0, 0, 0, 0 };
	const u64 size = 1 << 20;
	struct rblk_trim_info info;
	struct rblk_hdr_info hi;
	struct rblk_p_read p;
	struct rblk_hdr hdr;

	rblk_read_encode(&p, 4096, 8);
	KUNIT_EXPECT_EQ(test, memcmp(&p, want, sizeof(want)), 0);
	KUNIT_ASSERT_EQ(test, rblk_read_decode(&p, size, 4096, &info), 0);
	KUNIT_EXPECT_EQ(test, info.sector, 4096ULL);
	KUNIT_EXPECT_EQ(test, info.nr_sectors, 8U);
	KUNIT_EXPECT_EQ(test, info.trim_flags, 0U);

	/* the last sectors of the device, and the largest read */
	rblk_read_encode(&p, size - 8, 8);
	KUNIT_EXPECT_EQ(test, rblk_read_decode(&p, size, 4096, &info), 0);
	rblk_read_encode(&p, 0, RBLK_MAX_DATA_BYTES / 512);
	KUNIT_EXPECT_EQ(test, rblk_read_decode(&p, size, 512, &info), 0);

	rblk_read_encode(&p, 0, 0);
	KUNIT_EXPECT_EQ(test, rblk_read_decode(&p, size, 512, &info), -EINVAL);
	rblk_read_encode(&p, 0, RBLK_MAX_DATA_BYTES / 512 + 1);
	KUNIT_EXPECT_EQ(test, rblk_read_decode(&p, size, 512, &info), -EINVAL);
	rblk_read_encode(&p, 1, 8);
	KUNIT_EXPECT_EQ(test, rblk_read_decode(&p, size, 4096, &info), -EINVAL);
	rblk_read_encode(&p, 0, 1);
	KUNIT_EXPECT_EQ(test, rblk_read_decode(&p, size, 4096, &info), -EINVAL);
	rblk_read_encode(&p, 8, 8);
	p.pad = cpu_to_be32(1);
	KUNIT_EXPECT_EQ(test, rblk_read_decode(&p, size, 512, &info), -EINVAL);
	rblk_read_encode(&p, size - 7, 8);
	KUNIT_EXPECT_EQ(test, rblk_read_decode(&p, size, 512, &info), -ERANGE);
	rblk_read_encode(&p, size, 8);
	KUNIT_EXPECT_EQ(test, rblk_read_decode(&p, size, 512, &info), -ERANGE);
	rblk_read_encode(&p, U64_MAX - 3, 8);
	KUNIT_EXPECT_EQ(test, rblk_read_decode(&p, size, 512, &info), -ERANGE);

	/* the header takes both shapes of READ_REPLY */
	rblk_hdr_encode(&hdr, 1, RBLK_P_READ_REPLY, 0, 8, 7);
	KUNIT_EXPECT_EQ(test, rblk_hdr_decode(&hdr, 1, &hi), 0);
	rblk_hdr_encode(&hdr, 1, RBLK_P_READ_REPLY, 0, 8 + RBLK_MAX_DATA_BYTES, 7);
	KUNIT_EXPECT_EQ(test, rblk_hdr_decode(&hdr, 1, &hi), 0);
	rblk_hdr_encode(&hdr, 1, RBLK_P_READ, 0, 16, 7);
	KUNIT_EXPECT_EQ(test, rblk_hdr_decode(&hdr, 1, &hi), 0);
	KUNIT_EXPECT_STREQ(test, rblk_packet_cmd_name(RBLK_P_READ), "read");
	KUNIT_EXPECT_STREQ(test, rblk_packet_cmd_name(RBLK_P_READ_REPLY), "read_reply");
}

static void rblk_read_reply_test(struct kunit *test)
{
	static const u8 enodata[8] = { 0, 0, 0, ENODATA, 0, 0, 0, 0 };
	struct rblk_p_read_reply p;
	int status = 1;
	u32 digest = 1;

	/* data follows: exactly the bytes asked for */
	rblk_read_reply_encode(&p, 0, 0);
	KUNIT_ASSERT_EQ(test, rblk_read_reply_decode(&p, 8 + 4096, 4096, false,
						     &status, &digest), 0);
	KUNIT_EXPECT_EQ(test, status, 0);
	KUNIT_EXPECT_EQ(test, digest, 0U);
	KUNIT_EXPECT_EQ(test, rblk_read_reply_decode(&p, 8 + 512, 4096, false,
						     &status, &digest), -EMSGSIZE);
	KUNIT_EXPECT_EQ(test, rblk_read_reply_decode(&p, 8 + 8192, 4096, false,
						     &status, &digest), -EMSGSIZE);
	KUNIT_EXPECT_EQ(test, rblk_read_reply_decode(&p, 8, 4096, false,
						     &status, &digest), -EMSGSIZE);

	/* a digest only with the feature, and only with data */
	rblk_read_reply_encode(&p, 0, 0xdeadbeef);
	KUNIT_EXPECT_EQ(test, rblk_read_reply_decode(&p, 8 + 4096, 4096, false,
						     &status, &digest), -EINVAL);
	KUNIT_ASSERT_EQ(test, rblk_read_reply_decode(&p, 8 + 4096, 4096, true,
						     &status, &digest), 0);
	KUNIT_EXPECT_EQ(test, digest, 0xdeadbeefU);

	/* a failed read: the errno, no data, no digest */
	rblk_read_reply_encode(&p, -ENODATA, 0xdeadbeef);
	KUNIT_EXPECT_EQ(test, memcmp(&p, enodata, sizeof(enodata)), 0);
	KUNIT_ASSERT_EQ(test, rblk_read_reply_decode(&p, 8, 4096, true, &status, &digest), 0);
	KUNIT_EXPECT_EQ(test, status, -ENODATA);
	KUNIT_EXPECT_EQ(test, rblk_read_reply_decode(&p, 8 + 4096, 4096, true,
						     &status, &digest), -EMSGSIZE);
	p.data_digest = cpu_to_be32(1);
	KUNIT_EXPECT_EQ(test, rblk_read_reply_decode(&p, 8, 4096, true, &status, &digest),
			-EINVAL);
	p.data_digest = 0;
	p.status = cpu_to_be32(MAX_ERRNO + 1);
	KUNIT_EXPECT_EQ(test, rblk_read_reply_decode(&p, 8, 4096, true, &status, &digest),
			-EINVAL);
}

static void rblk_ack_test(struct kunit *test)
{
	static const u8 eio[8] = { 0, 0, 0, 5, 0, 0, 0, 0 };
	struct rblk_p_ack p;
	int status = 1;

	rblk_ack_encode(&p, -EIO);
	KUNIT_EXPECT_EQ(test, memcmp(&p, eio, sizeof(eio)), 0);
	KUNIT_ASSERT_EQ(test, rblk_ack_decode(&p, &status), 0);
	KUNIT_EXPECT_EQ(test, status, -EIO);

	rblk_ack_encode(&p, 0);
	KUNIT_ASSERT_EQ(test, rblk_ack_decode(&p, &status), 0);
	KUNIT_EXPECT_EQ(test, status, 0);

	rblk_ack_encode(&p, -MAX_ERRNO);
	KUNIT_ASSERT_EQ(test, rblk_ack_decode(&p, &status), 0);
	KUNIT_EXPECT_EQ(test, status, -MAX_ERRNO);

	/* nonsense statuses still go out as valid ones */
	rblk_ack_encode(&p, INT_MIN);
	KUNIT_ASSERT_EQ(test, rblk_ack_decode(&p, &status), 0);
	KUNIT_EXPECT_EQ(test, status, -EIO);
	rblk_ack_encode(&p, 7);
	KUNIT_ASSERT_EQ(test, rblk_ack_decode(&p, &status), 0);
	KUNIT_EXPECT_EQ(test, status, 0);

	p.status = cpu_to_be32(MAX_ERRNO + 1);
	KUNIT_EXPECT_EQ(test, rblk_ack_decode(&p, &status), -EINVAL);
	p.status = cpu_to_be32(U32_MAX);
	KUNIT_EXPECT_EQ(test, rblk_ack_decode(&p, &status), -EINVAL);
	rblk_ack_encode(&p, 0);
	p.pad = cpu_to_be32(0x100);
	KUNIT_EXPECT_EQ(test, rblk_ack_decode(&p, &status), -EINVAL);
}

static void rblk_state_test(struct kunit *test)
{
	enum rblk_disk_state disk;
	enum rblk_role role;
	struct rblk_p_state p;

	memset(&p, 0xa5, sizeof(p));
	rblk_state_encode(&p, RBLK_ROLE_PRIMARY, RBLK_DISK_UP_TO_DATE);
	KUNIT_EXPECT_NULL(test, memchr_inv(p.pad, 0, sizeof(p.pad)));
	KUNIT_ASSERT_EQ(test, rblk_state_decode(&p, &role, &disk), 0);
	KUNIT_EXPECT_EQ(test, role, RBLK_ROLE_PRIMARY);
	KUNIT_EXPECT_EQ(test, disk, RBLK_DISK_UP_TO_DATE);

	rblk_state_encode(&p, RBLK_ROLE_SECONDARY, RBLK_DISK_OUTDATED);
	KUNIT_ASSERT_EQ(test, rblk_state_decode(&p, &role, &disk), 0);
	KUNIT_EXPECT_EQ(test, role, RBLK_ROLE_SECONDARY);
	KUNIT_EXPECT_EQ(test, disk, RBLK_DISK_OUTDATED);

	rblk_state_encode(&p, RBLK_ROLE_UNKNOWN, RBLK_DISK_OUTDATED);
	KUNIT_EXPECT_EQ(test, rblk_state_decode(&p, &role, &disk), -EINVAL);
	rblk_state_encode(&p, 3, RBLK_DISK_OUTDATED);
	KUNIT_EXPECT_EQ(test, rblk_state_decode(&p, &role, &disk), -EINVAL);
	rblk_state_encode(&p, RBLK_ROLE_SECONDARY, RBLK_DISK_UNKNOWN);
	KUNIT_EXPECT_EQ(test, rblk_state_decode(&p, &role, &disk), -EINVAL);
	rblk_state_encode(&p, RBLK_ROLE_SECONDARY, 200);
	KUNIT_EXPECT_EQ(test, rblk_state_decode(&p, &role, &disk), -EINVAL);
	rblk_state_encode(&p, RBLK_ROLE_SECONDARY, RBLK_DISK_DISKLESS);
	p.pad[5] = 1;
	KUNIT_EXPECT_EQ(test, rblk_state_decode(&p, &role, &disk), -EINVAL);
}

static void rblk_uuids_test(struct kunit *test)
{
	struct rblk_uuid_view in = {
		.current_uuid = 0x1111, .bitmap_uuid = 0x2222,
		.history = { 0x3333, 0x4444 },
		.consistent = true, .crashed_primary = true, .primary = false,
		.discard_my_data = true, .node_id = 9,
	};
	struct rblk_uuid_view out;
	struct rblk_p_uuids p;
	u32 flags;
	u64 oos;

	rblk_uuids_encode(&p, &in, RBLK_UF_RESYNC_DONE, 8192);
	KUNIT_ASSERT_EQ(test, rblk_uuids_decode(&p, 9, &out, &flags, &oos), 0);
	KUNIT_EXPECT_EQ(test, memcmp(&in, &out, sizeof(in)), 0);
	KUNIT_EXPECT_EQ(test, flags, RBLK_UF_CONSISTENT | RBLK_UF_CRASHED_PRIMARY |
			RBLK_UF_DISCARD_MY_DATA | RBLK_UF_RESYNC_DONE);
	KUNIT_EXPECT_EQ(test, oos, 8192ULL);

	/* nodes behind travel with RBLK_UF_NEW_CURRENT */
	in.nodes_behind = BIT(0) | BIT(31);
	rblk_uuids_encode(&p, &in, RBLK_UF_NEW_CURRENT, 0);
	KUNIT_ASSERT_EQ(test, rblk_uuids_decode(&p, 9, &out, &flags, &oos), 0);
	KUNIT_EXPECT_EQ(test, out.nodes_behind, BIT(0) | BIT(31));
	KUNIT_EXPECT_TRUE(test, flags & RBLK_UF_NEW_CURRENT);

	/* a data peer holds the writes of a primary that lost its disk */
	rblk_uuids_encode(&p, &in, RBLK_UF_LOST_DISK, 0);
	KUNIT_EXPECT_EQ(test, rblk_uuids_decode(&p, 9, &out, &flags, &oos), -EINVAL);
	in.nodes_behind = 0;
	rblk_uuids_encode(&p, &in, RBLK_UF_LOST_DISK, 0);
	KUNIT_ASSERT_EQ(test, rblk_uuids_decode(&p, 9, &out, &flags, &oos), 0);
	KUNIT_EXPECT_TRUE(test, flags & RBLK_UF_LOST_DISK);
	KUNIT_EXPECT_EQ(test, out.current_uuid, in.current_uuid);
	in.nodes_behind = BIT(0) | BIT(31);

	/* an unknown flag, nodes behind alone, a partial block, UUIDs without a current one */
	rblk_uuids_encode(&p, &in, 0, 0);
	p.uuid_flags = cpu_to_be32(RBLK_UF_ALL + 1);
	KUNIT_EXPECT_EQ(test, rblk_uuids_decode(&p, 9, &out, &flags, &oos), -EINVAL);
	rblk_uuids_encode(&p, &in, 0, 0);
	KUNIT_EXPECT_EQ(test, rblk_uuids_decode(&p, 9, &out, &flags, &oos), -EINVAL);
	in.nodes_behind = 0;
	rblk_uuids_encode(&p, &in, 0, 512);
	KUNIT_EXPECT_EQ(test, rblk_uuids_decode(&p, 9, &out, &flags, &oos), -EINVAL);
	in.current_uuid = 0;
	rblk_uuids_encode(&p, &in, 0, 0);
	KUNIT_EXPECT_EQ(test, rblk_uuids_decode(&p, 9, &out, &flags, &oos), -EINVAL);
	/* new metadata: nothing but zeroes, not consistent */
	memset(&in, 0, sizeof(in));
	rblk_uuids_encode(&p, &in, 0, 0);
	KUNIT_EXPECT_EQ(test, rblk_uuids_decode(&p, 9, &out, &flags, &oos), 0);
	KUNIT_EXPECT_FALSE(test, out.consistent);
	KUNIT_EXPECT_STREQ(test, rblk_packet_cmd_name(RBLK_P_UUIDS), "uuids");
	KUNIT_EXPECT_STREQ(test, rblk_reject_reason_name(RBLK_REJECT_SPLIT_BRAIN), "split_brain");
}

static struct kunit_case rblk_protocol_test_cases[] = {
	KUNIT_CASE(rblk_hdr_test_round_trip),
	KUNIT_CASE_PARAM(rblk_hdr_test_decode, rblk_hdr_gen_params),
	KUNIT_CASE(rblk_hdr_test_expected_version),
	KUNIT_CASE(rblk_hdr_test_names),
	KUNIT_CASE(rblk_hello_test_round_trip),
	KUNIT_CASE(rblk_hello_test_decode_accepts),
	KUNIT_CASE(rblk_hello_test_decode_rejects),
	KUNIT_CASE(rblk_hello_test_compatible),
	KUNIT_CASE(rblk_hello_test_version),
	KUNIT_CASE(rblk_hello_test_features),
	KUNIT_CASE(rblk_hello_test_node_id),
	KUNIT_CASE(rblk_hello_test_names_mismatch),
	KUNIT_CASE(rblk_hello_test_size),
	KUNIT_CASE(rblk_hello_test_block_size),
	KUNIT_CASE(rblk_hello_test_both_primary),
	KUNIT_CASE(rblk_hello_test_check_order),
	KUNIT_CASE(rblk_hello_test_digest),
	KUNIT_CASE(rblk_reject_test),
	KUNIT_CASE(rblk_data_test),
	KUNIT_CASE(rblk_data_test_digest_field),
	KUNIT_CASE(rblk_data_digest_test_known),
	KUNIT_CASE(rblk_data_digest_test_bio),
	KUNIT_CASE(rblk_data_digest_test_check),
	KUNIT_CASE(rblk_data_test_alignment),
	KUNIT_CASE(rblk_dp_flags_test),
	KUNIT_CASE(rblk_trim_test),
	KUNIT_CASE(rblk_trim_test_alignment),
	KUNIT_CASE(rblk_read_test),
	KUNIT_CASE(rblk_read_reply_test),
	KUNIT_CASE(rblk_ack_test),
	KUNIT_CASE(rblk_state_test),
	KUNIT_CASE(rblk_uuids_test),
	{}
};

static struct kunit_suite rblk_protocol_test_suite = {
	.name = "rblk_protocol",
	.test_cases = rblk_protocol_test_cases,
};

kunit_test_suite(rblk_protocol_test_suite);
