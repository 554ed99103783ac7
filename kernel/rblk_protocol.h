/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rblk wire protocol, version 1: the whole on-the-wire format.
 *
 * Specified byte by byte in Documentation/protocol.rst.  Every packet is a
 * struct rblk_hdr followed by payload_len_bytes of payload.  All multi-byte
 * fields are big endian; all padding is explicit and must be zero; every
 * structure size is pinned by a static_assert below.
 */
#ifndef RBLK_PROTOCOL_H
#define RBLK_PROTOCOL_H

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/types.h>

#define RBLK_PROTO_MAGIC		0x52424c4bU	/* "RBLK" */
#define RBLK_PROTO_VERSION_MIN		1
#define RBLK_PROTO_VERSION_MAX		1

/* Largest data payload of one RBLK_P_DATA packet, bytes. */
#define RBLK_MAX_DATA_BYTES		BIT(20)
/* Largest payload of any packet, bytes. */
#define RBLK_MAX_PAYLOAD_BYTES		(sizeof(struct rblk_p_data) + RBLK_MAX_DATA_BYTES)
/* Data payloads are whole 512-byte sectors. */
#define RBLK_SECTOR_BYTES		512U

/**
 * enum rblk_packet_cmd - packet commands (rblk_hdr.command)
 * @RBLK_P_HELLO: handshake, payload struct rblk_p_hello; first packet each way
 * @RBLK_P_HELLO_REJECT: handshake refused, payload struct rblk_p_reject; then close
 * @RBLK_P_DATA: write, payload struct rblk_p_data + data; answered by RBLK_P_ACK
 * @RBLK_P_FLUSH: make earlier acked writes durable; no payload; answered by RBLK_P_ACK
 * @RBLK_P_TRIM: discard or write zeroes, payload struct rblk_p_trim; answered by RBLK_P_ACK
 * @RBLK_P_ACK: completion of DATA, FLUSH or TRIM with the same request_id, struct rblk_p_ack
 * @RBLK_P_PING: liveness probe, no payload; answered by RBLK_P_PING_ACK, same request_id
 * @RBLK_P_PING_ACK: answer to RBLK_P_PING, no payload
 * @RBLK_P_STATE: sender's role or disk state changed, payload struct rblk_p_state
 * @RBLK_P_ROLE_REQ: sender asks to become primary, payload struct rblk_p_state
 * @RBLK_P_ROLE_REPLY: answer to RBLK_P_ROLE_REQ, same request_id, struct rblk_p_ack
 * @RBLK_P_OUTDATE: the receiver missed writes of the sender (RBLK_FEAT_OUTDATE),
 *	its disk is Outdated; no payload, no answer
 * @RBLK_P_UUIDS: the sender's generation UUIDs (RBLK_FEAT_MD), struct
 *	rblk_p_uuids: in the handshake right after HELLO, each way; later to
 *	announce a new generation (RBLK_UF_CLEAR_BITMAP); no answer
 * @RBLK_P_BITMAP: handshake only (RBLK_FEAT_MD), after UUIDS, from a
 *	sync target that holds bits for its source: one 4 KiB block of that
 *	bitmap, struct rblk_p_bitmap; the last one has offset RBLK_BITMAP_END
 * @RBLK_P_BEHIND: data phase (RBLK_FEAT_BEHIND), from a primary: the nodes
 *	that miss writes of its, struct rblk_p_behind; answered by
 *	RBLK_P_BEHIND_ACK
 * @RBLK_P_BEHIND_ACK: the nodes the receiver of RBLK_P_BEHIND recorded as
 *	behind, struct rblk_p_behind
 * @RBLK_P_AUTH_CHALLENGE: handshake only (RBLK_FEAT_AUTH on both sides),
 *	right after HELLO, each way: a fresh random challenge, struct
 *	rblk_p_auth_challenge
 * @RBLK_P_AUTH_RESPONSE: handshake only, after AUTH_CHALLENGE, each way:
 *	the answer to the other side's challenge, struct rblk_p_auth_response
 * @RBLK_P_READ: data phase (RBLK_FEAT_READ): read from the receiver's
 *	disk, struct rblk_p_read; answered by RBLK_P_READ_REPLY, same request_id
 * @RBLK_P_READ_REPLY: answer to RBLK_P_READ, struct rblk_p_read_reply,
 *	then the data when the status is 0
 */
enum rblk_packet_cmd {
	RBLK_P_HELLO		= 1,
	RBLK_P_HELLO_REJECT	= 2,
	RBLK_P_DATA		= 3,
	RBLK_P_FLUSH		= 4,
	RBLK_P_TRIM		= 5,
	RBLK_P_ACK		= 6,
	RBLK_P_PING		= 7,
	RBLK_P_PING_ACK		= 8,
	RBLK_P_STATE		= 9,
	RBLK_P_ROLE_REQ		= 10,
	RBLK_P_ROLE_REPLY	= 11,
	RBLK_P_OUTDATE		= 12,
	RBLK_P_UUIDS		= 13,
	RBLK_P_BITMAP		= 14,
	RBLK_P_BEHIND		= 15,
	RBLK_P_BEHIND_ACK	= 16,
	RBLK_P_AUTH_CHALLENGE	= 17,
	RBLK_P_AUTH_RESPONSE	= 18,
	RBLK_P_READ		= 19,
	RBLK_P_READ_REPLY	= 20,
	RBLK_P_CMD_MAX		= RBLK_P_READ_REPLY,
};

/**
 * struct rblk_hdr - fixed header of every packet (24 bytes)
 * @magic: RBLK_PROTO_MAGIC
 * @version: protocol version; 1 in HELLO/HELLO_REJECT, then the negotiated one
 * @command: enum rblk_packet_cmd
 * @flags: command flags, RBLK_HDR_F_*; unknown bits are an error
 * @payload_len_bytes: bytes of payload that follow the header
 * @reserved: must be zero
 * @request_id: sender-chosen id echoed by ACK/PING_ACK/ROLE_REPLY
 */
struct rblk_hdr {
	__be32 magic;
	__u8 version;
	__u8 command;
	__be16 flags;
	__be32 payload_len_bytes;
	__be32 reserved;
	__be64 request_id;
};

static_assert(sizeof(struct rblk_hdr) == 24);

/* No header flags are defined in version 1. */
#define RBLK_HDR_F_ALL			0x0000

/* Feature bits, struct rblk_p_hello.features; negotiated as the AND. */
#define RBLK_FEAT_FLUSH			BIT_ULL(0)	/* RBLK_P_FLUSH, RBLK_DP_PREFLUSH */
#define RBLK_FEAT_FUA			BIT_ULL(1)	/* RBLK_DP_FUA */
#define RBLK_FEAT_DISCARD		BIT_ULL(2)	/* RBLK_P_TRIM discard */
#define RBLK_FEAT_WRITE_ZEROES		BIT_ULL(3)	/* RBLK_P_TRIM write zeroes */
#define RBLK_FEAT_REQ_HINTS		BIT_ULL(4)	/* RBLK_DP_SYNC/META/PRIO/IDLE */
#define RBLK_FEAT_OUTDATE		BIT_ULL(5)	/* RBLK_P_OUTDATE */
#define RBLK_FEAT_MD			BIT_ULL(6)	/* RBLK_P_UUIDS: generation UUIDs */
#define RBLK_FEAT_NEW_CURRENT		BIT_ULL(7)	/* RBLK_UF_NEW_CURRENT */
/* RBLK_UF_RECONCILE, RBLK_UF_FOLLOWS_PRIMARY, RBLK_REJECT_ASK_PRIMARY */
#define RBLK_FEAT_RECONCILE		BIT_ULL(8)
#define RBLK_FEAT_BEHIND		BIT_ULL(9)	/* RBLK_P_BEHIND, RBLK_P_BEHIND_ACK */
#define RBLK_FEAT_READ			BIT_ULL(12)	/* RBLK_P_READ, RBLK_P_READ_REPLY */
#define RBLK_FEAT_LOST_DISK		BIT_ULL(13)	/* RBLK_UF_LOST_DISK */
#define RBLK_FEAT_ALL			(RBLK_FEAT_FLUSH | RBLK_FEAT_FUA | \
					 RBLK_FEAT_DISCARD | RBLK_FEAT_WRITE_ZEROES | \
					 RBLK_FEAT_REQ_HINTS | RBLK_FEAT_OUTDATE | \
					 RBLK_FEAT_MD | RBLK_FEAT_NEW_CURRENT | \
					 RBLK_FEAT_RECONCILE | RBLK_FEAT_BEHIND | \
					 RBLK_FEAT_READ | RBLK_FEAT_LOST_DISK)
/*
 * The sender has a shared secret and authenticates (RBLK_P_AUTH_*): set
 * only by a node with a secret, so not in RBLK_FEAT_ALL.  Both sides must
 * agree on it, or the handshake is refused (RBLK_REJECT_AUTH_REQUIRED,
 * RBLK_REJECT_AUTH_UNEXPECTED).
 */
#define RBLK_FEAT_AUTH			BIT_ULL(10)
/*
 * Every DATA packet carries the CRC-32C of its data in
 * rblk_p_data.data_digest: set only by a node configured with a data
 * digest (RBLK_A_DATA_DIGEST), so not in RBLK_FEAT_ALL.  Both sides must
 * agree on it, or the handshake is refused (RBLK_REJECT_DIGEST).
 */
#define RBLK_FEAT_DATA_DIGEST		BIT_ULL(11)
/* Features a peer must offer or the handshake is refused. */
#define RBLK_FEAT_REQUIRED		(RBLK_FEAT_FLUSH | RBLK_FEAT_FUA)

/* Role and disk state values on the wire are those of enum rblk_role and
 * enum rblk_disk_state in <linux/rblk.h>.
 */

/**
 * struct rblk_p_hello - handshake (RBLK_P_HELLO), 168 bytes
 * @version_min: lowest protocol version the sender speaks
 * @version_max: highest protocol version the sender speaks
 * @features: RBLK_FEAT_* the sender supports
 * @node_id: sender's node id
 * @peer_node_id: node id the sender expects at the other end
 * @size_sectors: sender's device size, 512-byte sectors
 * @logical_block_size_bytes: sender's logical block size
 * @role: sender's enum rblk_role
 * @disk_state: sender's enum rblk_disk_state
 * @pad: must be zero
 * @cluster_name: NUL-padded, must equal the receiver's
 * @resource_name: NUL-padded, must equal the receiver's
 */
struct rblk_p_hello {
	__be32 version_min;
	__be32 version_max;
	__be64 features;
	__be32 node_id;
	__be32 peer_node_id;
	__be64 size_sectors;
	__be32 logical_block_size_bytes;
	__u8 role;
	__u8 disk_state;
	__u8 pad[2];
	char cluster_name[64];
	char resource_name[64];
};

static_assert(sizeof(struct rblk_p_hello) == 168);

/**
 * enum rblk_reject_reason - why a handshake was refused (rblk_p_reject.reason)
 */
enum rblk_reject_reason {
	RBLK_REJECT_VERSION		= 1,	/* no common protocol version */
	RBLK_REJECT_FEATURES		= 2,	/* a required feature is missing */
	RBLK_REJECT_NODE_ID		= 3,	/* node ids do not match the configuration */
	RBLK_REJECT_CLUSTER		= 4,	/* cluster name differs */
	RBLK_REJECT_RESOURCE		= 5,	/* resource name differs */
	RBLK_REJECT_SIZE		= 6,	/* device sizes differ */
	RBLK_REJECT_BLOCK_SIZE		= 7,	/* logical block sizes differ */
	RBLK_REJECT_BOTH_PRIMARY	= 8,	/* both nodes are primary: split-brain */
	RBLK_REJECT_MALFORMED		= 9,	/* hello packet invalid */
	RBLK_REJECT_OTHER_PRIMARY	= 10,	/* another peer is the receiver's primary */
	RBLK_REJECT_SPLIT_BRAIN		= 11,	/* both wrote since their common generation */
	RBLK_REJECT_UNRELATED		= 12,	/* no common data generation */
	RBLK_REJECT_NEWER_PEER		= 13,	/* the receiver is primary and older */
	RBLK_REJECT_RESYNCING		= 14,	/* the sender resyncs from another peer now */
	RBLK_REJECT_ASK_PRIMARY		= 15,	/* the sync source follows a primary: use it */
	RBLK_REJECT_WITNESS		= 16,	/* configured as a witness, has a disk */
	RBLK_REJECT_AUTH_REQUIRED	= 17,	/* the sender has a secret, the receiver none */
	RBLK_REJECT_AUTH_UNEXPECTED	= 18,	/* the receiver has a secret, the sender none */
	RBLK_REJECT_AUTH_FAILED		= 19,	/* wrong answer to the sender's challenge */
	RBLK_REJECT_DIGEST		= 20,	/* only one side has a data digest */
	RBLK_REJECT_MAX			= RBLK_REJECT_DIGEST,
};

/**
 * struct rblk_p_reject - handshake refusal (RBLK_P_HELLO_REJECT), 64 bytes
 * @reason: enum rblk_reject_reason
 * @message: NUL-terminated human-readable reason
 */
struct rblk_p_reject {
	__be32 reason;
	char message[60];
};

static_assert(sizeof(struct rblk_p_reject) == 64);

/* struct rblk_p_data.dp_flags */
#define RBLK_DP_FUA			BIT(0)	/* write through to stable media */
#define RBLK_DP_PREFLUSH		BIT(1)	/* flush before writing */
/* Hints of the original bio, for the receiver's I/O scheduler and writeback
 * throttling: REQ_SYNC, REQ_META, REQ_PRIO, REQ_IDLE.
 */
#define RBLK_DP_SYNC			BIT(2)
#define RBLK_DP_META			BIT(3)
#define RBLK_DP_PRIO			BIT(4)
#define RBLK_DP_IDLE			BIT(5)
#define RBLK_DP_ALL			(RBLK_DP_FUA | RBLK_DP_PREFLUSH | RBLK_DP_SYNC | \
					 RBLK_DP_META | RBLK_DP_PRIO | RBLK_DP_IDLE)
/*
 * Resync data (RBLK_FEAT_MD): the sender is our sync source, not
 * necessarily our primary; accepted only while we are its sync target.
 */
#define RBLK_DP_RESYNC			BIT(6)

/*
 * Seed of the data digest: crc32c(RBLK_DATA_DIGEST_SEED, data, len) as
 * the kernel's crc32c() computes it (no final inversion), that is the
 * CRC-32C of iSCSI and ext4 before its final XOR with ~0.
 */
#define RBLK_DATA_DIGEST_SEED		0xffffffffU

/**
 * struct rblk_p_data - write (RBLK_P_DATA), 16 bytes, then the data
 * @sector: first 512-byte sector of the write
 * @dp_flags: RBLK_DP_*
 * @data_digest: with RBLK_FEAT_DATA_DIGEST negotiated, crc32c() of the
 *	data that follows, seeded with RBLK_DATA_DIGEST_SEED; else zero
 *
 * The data follows: payload_len_bytes - 16 bytes, a non-zero multiple of
 * 512 and at most RBLK_MAX_DATA_BYTES.
 */
struct rblk_p_data {
	__be64 sector;
	__be32 dp_flags;
	__be32 data_digest;
};

static_assert(sizeof(struct rblk_p_data) == 16);

/* struct rblk_p_trim.trim_flags */
#define RBLK_TRIM_ZEROES		BIT(0)	/* write zeroes, not discard */
#define RBLK_TRIM_NOUNMAP		BIT(1)	/* write zeroes: keep allocated */
#define RBLK_TRIM_ALL			(RBLK_TRIM_ZEROES | RBLK_TRIM_NOUNMAP)

/**
 * struct rblk_p_trim - discard or write zeroes (RBLK_P_TRIM), 16 bytes
 * @sector: first 512-byte sector
 * @nr_sectors: number of 512-byte sectors, non-zero
 * @trim_flags: RBLK_TRIM_*
 */
struct rblk_p_trim {
	__be64 sector;
	__be32 nr_sectors;
	__be32 trim_flags;
};

static_assert(sizeof(struct rblk_p_trim) == 16);

/**
 * struct rblk_p_ack - completion (RBLK_P_ACK, RBLK_P_ROLE_REPLY), 8 bytes
 * @status: 0 on success, else a positive Linux errno
 * @pad: must be zero
 */
struct rblk_p_ack {
	__be32 status;
	__be32 pad;
};

static_assert(sizeof(struct rblk_p_ack) == 8);

/**
 * struct rblk_p_read - read request (RBLK_P_READ), 16 bytes
 * @sector: first 512-byte sector
 * @nr_sectors: number of 512-byte sectors, non-zero, at most
 *	RBLK_MAX_DATA_BYTES / 512
 * @pad: must be zero
 *
 * The range lies wholly inside the device and is aligned to the logical
 * block size, as for DATA.
 */
struct rblk_p_read {
	__be64 sector;
	__be32 nr_sectors;
	__be32 pad;
};

static_assert(sizeof(struct rblk_p_read) == 16);

/**
 * struct rblk_p_read_reply - answer to RBLK_P_READ, 8 bytes, then the data
 * @status: 0: the data follows, nr_sectors * 512 bytes of the request
 *	(payload_len_bytes is 8 plus that); else a positive Linux errno and no
 *	data (payload_len_bytes is 8): ENODATA when the sender's disk is not
 *	UpToDate, EIO when its disk failed the read
 * @data_digest: with RBLK_FEAT_DATA_DIGEST negotiated and @status 0,
 *	crc32c() of the data seeded with RBLK_DATA_DIGEST_SEED; else zero
 */
struct rblk_p_read_reply {
	__be32 status;
	__be32 data_digest;
};

static_assert(sizeof(struct rblk_p_read_reply) == 8);

/**
 * struct rblk_p_state - role/disk state (RBLK_P_STATE, RBLK_P_ROLE_REQ), 8 bytes
 * @role: enum rblk_role
 * @disk_state: enum rblk_disk_state
 * @pad: must be zero
 */
struct rblk_p_state {
	__u8 role;
	__u8 disk_state;
	__u8 pad[6];
};

static_assert(sizeof(struct rblk_p_state) == 8);

/**
 * struct rblk_p_behind - nodes behind (RBLK_P_BEHIND, RBLK_P_BEHIND_ACK), 8 bytes
 * @nodes_behind: bit per node id (0..31): that node misses writes of
 *	the primary
 * @pad: must be zero
 */
struct rblk_p_behind {
	__be32 nodes_behind;
	__be32 pad;
};

static_assert(sizeof(struct rblk_p_behind) == 8);

/* struct rblk_p_uuids.uuid_flags */
#define RBLK_UF_CONSISTENT		BIT(0)	/* the sender's data is consistent */
#define RBLK_UF_CRASHED_PRIMARY		BIT(1)	/* it was primary and crashed */
#define RBLK_UF_PRIMARY			BIT(2)	/* it is primary now */
#define RBLK_UF_DISCARD_MY_DATA		BIT(3)	/* it loses a split-brain */
/*
 * Data phase only: the sender skipped the initial sync (new-current-uuid
 * --clear-bitmap); a receiver with just-created metadata adopts the
 * current UUID and becomes UpToDate.
 */
#define RBLK_UF_CLEAR_BITMAP		BIT(4)
/*
 * Data phase only: the sender, our sync source, has sent every block we
 * lacked and every one is acknowledged: we adopt its current and history
 * UUIDs and are consistent again.
 */
#define RBLK_UF_RESYNC_DONE		BIT(5)
#define RBLK_UF_UP_TO_DATE		BIT(6)	/* the sender's disk is UpToDate */
/*
 * Data phase only (RBLK_FEAT_NEW_CURRENT), from our primary while we are
 * in sync with it: it started a new current UUID because other nodes
 * missed its writes (@nodes_behind); we received those writes, adopt the
 * new current UUID, and tell our connected peers among @nodes_behind that
 * their disks are Outdated.
 */
#define RBLK_UF_NEW_CURRENT		BIT(7)
/*
 * Handshake only (RBLK_FEAT_RECONCILE): the sender lost its primary while
 * it received writes; its bitmap for the receiver holds the regions of
 * the writes it received recently, which the receiver may lack or hold
 * differently.  With the same current UUID, the node that is primary
 * resyncs those regions to the other (design.rst, "Reconciliation").
 */
#define RBLK_UF_RECONCILE		BIT(8)
/*
 * Handshake only (RBLK_FEAT_RECONCILE): the sender is secondary and takes
 * writes from a connected primary (not the receiver).  It is never the
 * receiver's sync source then: the primary's writes would not reach the
 * receiver during the resync.  The handshake is refused with
 * RBLK_REJECT_ASK_PRIMARY; the receiver resyncs from the primary.
 */
#define RBLK_UF_FOLLOWS_PRIMARY		BIT(9)
/*
 * Data phase only (RBLK_FEAT_LOST_DISK), from a secondary to its primary
 * after the primary announced its disk lost (RBLK_P_STATE, Diskless): the
 * sender, the primary's one data peer, holds the primary's writes in a
 * generation of its own that the lost disk lacks (@current_uuid, durable
 * before this was sent).  The primary's writes that its disk lacks
 * complete from then on.
 */
#define RBLK_UF_LOST_DISK		BIT(10)
#define RBLK_UF_ALL			(RBLK_UF_CONSISTENT | RBLK_UF_CRASHED_PRIMARY | \
					 RBLK_UF_PRIMARY | RBLK_UF_DISCARD_MY_DATA | \
					 RBLK_UF_CLEAR_BITMAP | RBLK_UF_RESYNC_DONE | \
					 RBLK_UF_UP_TO_DATE | RBLK_UF_NEW_CURRENT | \
					 RBLK_UF_RECONCILE | RBLK_UF_FOLLOWS_PRIMARY | \
					 RBLK_UF_LOST_DISK)

/**
 * struct rblk_p_uuids - generation UUIDs (RBLK_P_UUIDS), 64 bytes
 * @current_uuid: the sender's current generation, 0 for new metadata
 * @bitmap_uuid: the generation the sender's bitmap for the receiver
 *	counts from, 0 when none
 * @history_uuids: earlier generations, newest first, 0 for empty
 * @out_of_sync_bytes: bytes the sender's bitmap holds for the receiver
 * @uuid_flags: RBLK_UF_*
 * @nodes_behind: with RBLK_UF_NEW_CURRENT, bit per node id (0..31) whose
 *	data lacks writes of the sender's (its bitmap tracks them for that
 *	node); else zero
 */
struct rblk_p_uuids {
	__be64 current_uuid;
	__be64 bitmap_uuid;
	__be64 history_uuids[4];
	__be64 out_of_sync_bytes;
	__be32 uuid_flags;
	__be32 nodes_behind;
};

static_assert(sizeof(struct rblk_p_uuids) == 64);

/* Bytes of bitmap per RBLK_P_BITMAP; its offset in the last packet. */
#define RBLK_BITMAP_CHUNK_BYTES		4096
#define RBLK_BITMAP_END			0xffffffffffffffffULL

/**
 * struct rblk_p_bitmap - one block of a sync target's bitmap (RBLK_P_BITMAP), 4104 bytes
 * @offset_bytes: byte offset of @bits in the bitmap (a multiple of 4096), or
 *	RBLK_BITMAP_END: no more blocks (then @bits is zero)
 * @bits: the bitmap's bytes, bit i of byte j covers 4 KiB block 8 * j + i
 *	from @offset_bytes on (little-endian bit order, as on disk)
 * Only blocks with a bit set are sent; the receiver ORs them into its own
 * bitmap for the sender, so that the resync also covers what the target's
 * crash as primary may have left different.
 */
struct rblk_p_bitmap {
	__be64 offset_bytes;
	__u8 bits[RBLK_BITMAP_CHUNK_BYTES];
};

static_assert(sizeof(struct rblk_p_bitmap) == 4104);

/* Bytes of an authentication challenge and of its answer (HMAC-SHA256). */
#define RBLK_AUTH_CHALLENGE_BYTES	32
#define RBLK_AUTH_RESPONSE_BYTES	32
/* struct rblk_auth_input.label: "rblk-auth-v1", NUL-padded to 16 bytes. */
#define RBLK_AUTH_LABEL			"rblk-auth-v1"
#define RBLK_AUTH_LABEL_BYTES		16

/**
 * struct rblk_p_auth_challenge - a challenge (RBLK_P_AUTH_CHALLENGE), 32 bytes
 * @challenge: random bytes, new for every handshake
 */
struct rblk_p_auth_challenge {
	__u8 challenge[RBLK_AUTH_CHALLENGE_BYTES];
};

static_assert(sizeof(struct rblk_p_auth_challenge) == 32);

/**
 * struct rblk_p_auth_response - an answer (RBLK_P_AUTH_RESPONSE), 32 bytes
 * @hmac: HMAC-SHA256 keyed with the resource's shared secret over the
 *	struct rblk_auth_input that the sender (the responder) builds from
 *	the receiver's (the verifier's) challenge
 */
struct rblk_p_auth_response {
	__u8 hmac[RBLK_AUTH_RESPONSE_BYTES];
};

static_assert(sizeof(struct rblk_p_auth_response) == 32);

/**
 * struct rblk_auth_input - the message of an authentication HMAC, 184 bytes
 * @challenge: the verifier's challenge, as it sent it
 * @label: RBLK_AUTH_LABEL, NUL-padded
 * @responder_node_id: node id of the node that answers
 * @verifier_node_id: node id of the node that sent @challenge
 * @cluster_name: NUL-padded, as in HELLO
 * @resource_name: NUL-padded, as in HELLO
 *
 * Never sent: both sides build it from what they know, the responder to
 * compute its answer, the verifier to check it.  The node ids in the
 * order responder, verifier make the answers of the two directions
 * differ, so that an answer cannot be reflected back to its author.
 */
struct rblk_auth_input {
	__u8 challenge[RBLK_AUTH_CHALLENGE_BYTES];
	char label[RBLK_AUTH_LABEL_BYTES];
	__be32 responder_node_id;
	__be32 verifier_node_id;
	char cluster_name[64];
	char resource_name[64];
};

static_assert(sizeof(struct rblk_auth_input) == 184);

#endif /* RBLK_PROTOCOL_H */
