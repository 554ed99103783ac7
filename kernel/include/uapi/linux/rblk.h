/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * rblk - replicated block device: the generic netlink contract between the
 * rblk.ko kernel module and userspace (rblkadm).
 *
 * This header is the whole kernel/userspace interface.  It is described in
 * Documentation/netlink.rst.
 *
 * Family "rblk", version RBLK_GENL_VERSION, one multicast group "events".
 * Every command that changes state needs CAP_NET_ADMIN (GENL_ADMIN_PERM);
 * RBLK_CMD_STATUS is open to everybody.
 *
 * All attributes live in one namespace (enum rblk_attr); nested attributes
 * (RBLK_A_PEER, RBLK_A_STATS) contain attributes of the same namespace.
 * Addresses are IPv4 (4 bytes) or IPv6 (16 bytes) in network byte order;
 * ports are host-order u16.  Sizes carry their unit in the name.
 */
#ifndef _UAPI_LINUX_RBLK_H
#define _UAPI_LINUX_RBLK_H

#include <linux/const.h>
#include <linux/types.h>

#define RBLK_GENL_NAME		"rblk"
#define RBLK_GENL_VERSION	1
#define RBLK_GENL_MCGRP_EVENTS	"events"

/* Limits shared by the kernel's policies and rblkadm's checks. */
#define RBLK_MAX_MINOR		1023	/* /dev/rblk0 .. /dev/rblk1023 */
#define RBLK_MAX_NODE_ID	31	/* node ids 0..31: up to 32 nodes */
#define RBLK_NAME_MAX_BYTES	64	/* resource/cluster name incl. NUL */
#define RBLK_PATH_MAX_BYTES	256	/* backing device path incl. NUL */

/* Connection timing defaults and bounds, milliseconds. */
#define RBLK_PING_INTERVAL_MS_DEFAULT	2000
#define RBLK_PING_TIMEOUT_MS_DEFAULT	5000
#define RBLK_CONNECT_TIMEOUT_MS_DEFAULT	5000
#define RBLK_RECONNECT_MIN_MS_DEFAULT	100
#define RBLK_RECONNECT_MAX_MS_DEFAULT	10000
#define RBLK_TIMEOUT_MS_MIN		10
#define RBLK_TIMEOUT_MS_MAX		600000
/*
 * A peer that leaves one request unanswered for request_timeout_ms *
 * ko_count is disconnected (and so outdated).
 */
#define RBLK_REQUEST_TIMEOUT_MS_DEFAULT	6000
#define RBLK_KO_COUNT_DEFAULT		7
#define RBLK_KO_COUNT_MAX		100
/*
 * Resync rate control (Documentation/design.rst, "Resync rate"): a fixed
 * rate in KiB/s, or 0 for the dynamic controller, which keeps the round
 * trip of a resync request near the latency target and yields to
 * application I/O.
 */
#define RBLK_RESYNC_RATE_KIB_PER_S_DEFAULT	0
#define RBLK_RESYNC_RATE_KIB_PER_S_MAX		4194304	/* 4 GiB/s */
#define RBLK_RESYNC_LATENCY_MS_DEFAULT		50
#define RBLK_RESYNC_LATENCY_MS_MIN		5
#define RBLK_RESYNC_LATENCY_MS_MAX		10000

/*
 * Shared secret of a resource (RBLK_A_AUTH_SECRET), bytes: peers prove
 * they have the same one in the handshake (Documentation/design.rst,
 * "Peer authentication").
 */
#define RBLK_AUTH_SECRET_MIN_BYTES	16
#define RBLK_AUTH_SECRET_MAX_BYTES	128

enum rblk_cmd {
	RBLK_CMD_UNSPEC,
	RBLK_CMD_DEVICE_CREATE,	/* RESOURCE_NAME, MINOR, NODE_ID; [CLUSTER_NAME] */
	RBLK_CMD_DEVICE_DELETE,	/* MINOR */
	/*
	 * MINOR, BACKING_PATH; [META_PATH, ON_IO_ERROR].  The metadata (internal
	 * at the end of BACKING_PATH, or external on META_PATH) decides the disk
	 * state; a disk without rblk metadata is refused (ENOMSG).
	 */
	RBLK_CMD_ATTACH,
	RBLK_CMD_DETACH,	/* MINOR */
	/*
	 * MINOR, PEER_NODE_ID, PEER_IP, PEER_PORT, LOCAL_IP, LOCAL_PORT;
	 * [PING_INTERVAL_MS, PING_TIMEOUT_MS, CONNECT_TIMEOUT_MS,
	 *  RECONNECT_MIN_MS, RECONNECT_MAX_MS, REQUEST_TIMEOUT_MS, KO_COUNT,
	 *  RESYNC_RATE_KIB_PER_S, RESYNC_LATENCY_MS, PEER_WITNESS]
	 */
	RBLK_CMD_PEER_ADD,
	RBLK_CMD_PEER_REMOVE,	/* MINOR, PEER_NODE_ID */
	RBLK_CMD_CONNECT,	/* MINOR; [PEER_NODE_ID, DISCARD_MY_DATA] (default: every peer) */
	RBLK_CMD_DISCONNECT,	/* MINOR; [PEER_NODE_ID] (default: every peer) */
	RBLK_CMD_PRIMARY,	/* MINOR; [FORCE] */
	RBLK_CMD_SECONDARY,	/* MINOR */
	RBLK_CMD_STATUS,	/* doit: MINOR; dumpit: every device */
	RBLK_CMD_EVENT,		/* multicast only, kernel -> userspace */
	/*
	 * BACKING_PATH, NODE_ID; [META_PATH, MAX_PEERS, FORCE].  Writes new
	 * metadata (both superblock copies, empty bitmaps, no current UUID: the
	 * disk is Inconsistent).  EEXIST when valid rblk metadata is there and
	 * FORCE is not given; EBUSY when the device is in use.
	 */
	RBLK_CMD_MD_CREATE,
	/*
	 * BACKING_PATH; [META_PATH] of a device that is not attached, or MINOR
	 * of an attached one.  Reply: MD_* attributes, CURRENT_UUID,
	 * HISTORY_UUIDS, one PEER per bitmap slot (PEER_NODE_ID, BITMAP_UUID,
	 * OUT_OF_SYNC_BYTES).  ENOMSG: no rblk metadata; EBADMSG, EUCLEAN,
	 * EPROTONOSUPPORT: metadata, but neither superblock copy is valid.
	 */
	RBLK_CMD_MD_DUMP,
	/*
	 * MINOR; [CLEAR_BITMAP].  Starts a new data generation.  With
	 * CLEAR_BITMAP: skip the initial full sync of freshly created metadata
	 * (every disk of the resource holds the same data, e.g. all zeroes):
	 * this node and every connected peer with just-created metadata become
	 * UpToDate with the same current UUID (EEXIST when this node's data
	 * has a generation already).  Without CLEAR_BITMAP, connected peers
	 * compare generations again in a new handshake.
	 */
	RBLK_CMD_NEW_CURRENT_UUID,
	/*
	 * MINOR; [QUORUM, ON_NO_QUORUM, AUTO_PROMOTE, FENCING, FENCE_HANDLER,
	 * AUTH_SECRET, DATA_DIGEST, READ_BALANCING].  Sets the device's
	 * quorum, auto-promote, fencing and read balancing policy
	 * (Documentation/design.rst, "Quorum", "Auto-promote", "Fencing",
	 * "Reads") and its shared secret; an attribute not given keeps its
	 * value.  EINVAL: QUORUM is not off, majority or 1..RBLK_MAX_PEERS;
	 * FENCE_HANDLER is not empty and not an absolute path; FENCING is not
	 * off without a handler; AUTH_SECRET is neither empty nor
	 * RBLK_AUTH_SECRET_MIN_BYTES..RBLK_AUTH_SECRET_MAX_BYTES long.
	 * DATA_DIGEST (enum rblk_data_digest) applies from the next handshake.
	 */
	RBLK_CMD_DEVICE_OPTIONS,
	/*
	 * MINOR.  Writes suspended while a fence-peer handler runs or after it
	 * failed (RBLK_SUSPEND_FENCING) go on: the operator vouches that the
	 * lost peers cannot be promoted.  No effect on a quorum suspension.
	 */
	RBLK_CMD_RESUME_IO,
	__RBLK_CMD_MAX,
};

#define RBLK_CMD_MAX (__RBLK_CMD_MAX - 1)

enum rblk_attr {
	RBLK_A_UNSPEC,
	RBLK_A_MINOR,			/* u32, 0..RBLK_MAX_MINOR */
	RBLK_A_RESOURCE_NAME,		/* NUL-terminated, < RBLK_NAME_MAX_BYTES, [A-Za-z0-9._-] */
	RBLK_A_CLUSTER_NAME,		/* NUL-terminated, < RBLK_NAME_MAX_BYTES, [A-Za-z0-9._-] */
	RBLK_A_NODE_ID,			/* u32, local node id, 0..RBLK_MAX_NODE_ID */
	RBLK_A_BACKING_PATH,		/* NUL-terminated string, < RBLK_PATH_MAX_BYTES */
	RBLK_A_ASSUME_UPTODATE,		/* flag: no longer accepted (EINVAL): metadata decides */
	RBLK_A_FORCE,			/* flag: promote although local disk not UpToDate */
	RBLK_A_PEER_NODE_ID,		/* u32, 0..RBLK_MAX_NODE_ID */
	RBLK_A_PEER_IP,			/* binary, 4 (IPv4) or 16 (IPv6) bytes, network order */
	RBLK_A_PEER_PORT,		/* u16, 1..65535 */
	RBLK_A_LOCAL_IP,		/* binary, 4 or 16 bytes; same family as PEER_IP */
	RBLK_A_LOCAL_PORT,		/* u16, 1..65535 */
	RBLK_A_PING_INTERVAL_MS,	/* u32 */
	RBLK_A_PING_TIMEOUT_MS,		/* u32 */
	RBLK_A_CONNECT_TIMEOUT_MS,	/* u32 */
	RBLK_A_RECONNECT_MIN_MS,	/* u32 */
	RBLK_A_RECONNECT_MAX_MS,	/* u32 */

	/* Reported by RBLK_CMD_STATUS and RBLK_CMD_EVENT. */
	RBLK_A_ROLE,			/* u8, enum rblk_role */
	RBLK_A_DISK_STATE,		/* u8, enum rblk_disk_state */
	RBLK_A_CONN_STATE,		/* u8, enum rblk_conn_state (inside RBLK_A_PEER) */
	RBLK_A_PEER_ROLE,		/* u8, enum rblk_role (inside RBLK_A_PEER) */
	RBLK_A_PEER_DISK_STATE,		/* u8, enum rblk_disk_state (inside RBLK_A_PEER) */
	RBLK_A_SIZE_SECTORS,		/* u64, device size in 512-byte sectors */
	RBLK_A_LOGICAL_BLOCK_SIZE_BYTES,/* u32 */
	RBLK_A_OPEN_COUNT,		/* u32, openers of /dev/rblkN */
	RBLK_A_PEER,			/* nested: one peer (RBLK_A_PEER_* and counters) */
	RBLK_A_STATS,			/* nested: counters, see below */
	RBLK_A_EVENT,			/* u8, enum rblk_event (RBLK_CMD_EVENT only) */
	RBLK_A_PAD,			/* padding for 64-bit attributes */

	/* Counters, u64, inside RBLK_A_STATS (device) or RBLK_A_PEER (peer). */
	RBLK_A_READS,			/* device: read requests completed */
	RBLK_A_WRITES,			/* device: writes completed; peer: data packets acked */
	RBLK_A_READ_BYTES,
	RBLK_A_WRITE_BYTES,		/* device: bytes written; peer: data bytes sent */
	RBLK_A_FLUSHES,			/* device: flushes completed; peer: flushes acked */
	RBLK_A_DISCARDS,		/* discard and write-zeroes requests */
	RBLK_A_INFLIGHT,		/* requests in flight (gauge) */
	RBLK_A_ACKS,			/* peer: acks received */
	RBLK_A_RTT_US,			/* peer: last ping round trip, microseconds */
	RBLK_A_RECONNECTS,		/* peer: connections established after the first */
	RBLK_A_RECEIVED_WRITES,		/* peer: data packets received from it and written */
	RBLK_A_RECEIVED_BYTES,		/* peer: data bytes received from it */
	RBLK_A_ERRORS,			/* device: failed requests; peer: protocol errors */
	RBLK_A_LAST_ERROR,		/* string: peer: reason of the last connection failure */
	RBLK_A_REQUEST_TIMEOUT_MS,	/* u32, RBLK_TIMEOUT_MS_MIN..RBLK_TIMEOUT_MS_MAX */
	RBLK_A_KO_COUNT,		/* u32, 1..RBLK_KO_COUNT_MAX */
	RBLK_A_ON_IO_ERROR,		/* u8, enum rblk_on_io_error (ATTACH) */

	/* Metadata, generation UUIDs, resync. */
	RBLK_A_META_PATH,		/* string: external metadata device (ATTACH, MD_*) */
	RBLK_A_MAX_PEERS,		/* u32, bitmap slots, 1..RBLK_MAX_NODE_ID */
	RBLK_A_CLEAR_BITMAP,		/* flag (NEW_CURRENT_UUID) */
	RBLK_A_DISCARD_MY_DATA,		/* flag (CONNECT): resolve a split-brain, our data loses */
	RBLK_A_CURRENT_UUID,		/* u64: this node's current data generation UUID */
	RBLK_A_BITMAP_UUID,		/* u64 (inside PEER): generation the bitmap counts from */
	RBLK_A_HISTORY_UUIDS,		/* binary: RBLK_MD_HISTORY_UUIDS host u64, newest first */
	RBLK_A_MD_FLAGS,		/* u32, RBLK_MDF_* */
	RBLK_A_MD_SEQ,			/* u64, superblock write sequence number */
	RBLK_A_MD_VALID_COPIES,		/* u32, bit 0/1: superblock copy 0/1 is valid */
	RBLK_A_MD_OFFSET_SECTORS,	/* u64, start of the metadata on its device */
	RBLK_A_MD_SIZE_SECTORS,		/* u64, size of the metadata area */
	RBLK_A_BM_BLOCK_BYTES,		/* u32, data bytes per bitmap bit (4096) */
	RBLK_A_AL_EXTENT_BYTES,		/* u32, data bytes per activity log extent */
	RBLK_A_REPL_STATE,		/* u8, enum rblk_repl_state (inside PEER) */
	RBLK_A_OUT_OF_SYNC_BYTES,	/* u64 (inside PEER): bytes marked out of sync for it */
	RBLK_A_RESYNC_TOTAL_BYTES,	/* u64 (inside PEER): bytes to resync when it started */
	RBLK_A_RESYNC_DONE_BYTES,	/* u64 (inside PEER): bytes resynced so far */
	RBLK_A_RESYNC_RATE_BYTES_PER_S,	/* u64 (inside PEER): resync rate */
	RBLK_A_SPLIT_BRAIN,		/* flag (inside PEER): split-brain detected at connect */
	RBLK_A_SYNC_DECISION,		/* u8, enum rblk_sync_decision (inside PEER) */
	/* u64 (inside STATS): superblock, activity log, bitmap write-back writes */
	RBLK_A_MD_WRITES,
	/* u32 (PEER_ADD, inside PEER): fixed resync rate, 0 = dynamic */
	RBLK_A_RESYNC_RATE_KIB_PER_S,
	/* u32 (PEER_ADD, inside PEER): the dynamic controller's latency target */
	RBLK_A_RESYNC_LATENCY_MS,
	/* u32 (inside PEER): resync requests the controller allows in flight now */
	RBLK_A_RESYNC_WINDOW,
	/* u64 (inside PEER): mean round trip of recent resync requests, microseconds */
	RBLK_A_RESYNC_LATENCY_US,
	/* u32 (DEVICE_OPTIONS, STATUS): RBLK_QUORUM_OFF, RBLK_QUORUM_MAJORITY or votes */
	RBLK_A_QUORUM,
	/* u8 (DEVICE_OPTIONS, STATUS): enum rblk_on_no_quorum */
	RBLK_A_ON_NO_QUORUM,
	/* flag (PRIMARY): promote although this node's partition has no quorum */
	RBLK_A_IGNORE_QUORUM,
	/* u8 (STATUS, EVENT): 1 when this node's partition has quorum (or it is off) */
	RBLK_A_HAS_QUORUM,
	/* u32 (STATUS, EVENT): votes present: this node and its connected peers */
	RBLK_A_QUORUM_VOTES,
	/* u32 (STATUS, EVENT): votes needed for quorum (0: quorum off) */
	RBLK_A_QUORUM_NEEDED,
	/* u32 (STATUS): voters: this node and every configured peer */
	RBLK_A_QUORUM_VOTERS,
	/* u8 (STATUS, EVENT): enum rblk_suspend_reason */
	RBLK_A_SUSPENDED,
	/* u32 (STATUS): writes held: completed nowhere yet, waiting for quorum */
	RBLK_A_SUSPENDED_WRITES,
	/*
	 * flag (PEER_ADD, inside PEER): the peer is a witness, configured
	 * without a disk in this resource: it votes, gets no writes and misses
	 * none; it must connect Diskless
	 */
	RBLK_A_PEER_WITNESS,
	/*
	 * u8 (DEVICE_OPTIONS, STATUS): 1: opening /dev/rblkN for writing on a
	 * secondary promotes it (when a PRIMARY request would succeed), the
	 * last close demotes it
	 */
	RBLK_A_AUTO_PROMOTE,
	/* u8 (STATUS): 1 when the primary role came from an auto-promotion */
	RBLK_A_AUTO_PROMOTED,
	/* u8 (DEVICE_OPTIONS, STATUS): enum rblk_fencing */
	RBLK_A_FENCING,
	/*
	 * string (DEVICE_OPTIONS, STATUS), < RBLK_PATH_MAX_BYTES: absolute path
	 * of the program run as "HANDLER fence-peer" when a primary loses a
	 * peer with a disk; empty: none
	 */
	RBLK_A_FENCE_HANDLER,
	/* u32 (STATUS, EVENT): bit per node id: fence-peer outstanding for it */
	RBLK_A_FENCE_PENDING,
	/*
	 * s32 (EVENT FENCE_PEER): the handler's exit code (0: the peer is
	 * fenced), or a negative errno when it could not run or was killed
	 */
	RBLK_A_FENCE_RESULT,
	/*
	 * binary (DEVICE_OPTIONS only, never reported),
	 * RBLK_AUTH_SECRET_MIN_BYTES..RBLK_AUTH_SECRET_MAX_BYTES: the
	 * resource's shared secret; empty: none (peers connect without
	 * authentication).  Takes effect at the next handshake.
	 */
	RBLK_A_AUTH_SECRET,
	/* u8 (STATUS): 1 when the device has a shared secret */
	RBLK_A_AUTH,
	/*
	 * u8 (DEVICE_OPTIONS, STATUS): enum rblk_data_digest, the checksum
	 * of the data of every DATA packet.  Both ends of a connection must
	 * have the same, or the handshake is refused.  Takes effect at the
	 * next handshake.
	 */
	RBLK_A_DATA_DIGEST,
	/*
	 * u64, peer: the TCP stack's smoothed round trip (srtt) of the
	 * connection, microseconds; meaningful when CONN_STATE is Connected,
	 * 0 without a connection socket or before TCP's first sample.  Unlike
	 * RBLK_A_RTT_US (rblk's ping, which waits behind the data queued
	 * before it), this is the network's round trip under load too.
	 */
	RBLK_A_TCP_RTT_US,
	/*
	 * u8 (DEVICE_OPTIONS, STATUS): enum rblk_read_balancing, where reads
	 * go while the local disk is UpToDate.  A node whose disk is not
	 * UpToDate (or failed, or detached) reads from an UpToDate peer in any
	 * case.  Applies to the next read.
	 */
	RBLK_A_READ_BALANCING,
	/* u64, peer: reads this node sent to the peer and the peer served */
	RBLK_A_PEER_READS,
	/* u64, peer: data bytes of those reads */
	RBLK_A_PEER_READ_BYTES,
	/* u64, peer: reads the peer sent to this node and this node served */
	RBLK_A_PEER_SERVED_READS,
	__RBLK_A_MAX,
};

#define RBLK_A_MAX (__RBLK_A_MAX - 1)

enum rblk_role {
	RBLK_ROLE_UNKNOWN,		/* peer not connected */
	RBLK_ROLE_SECONDARY,
	RBLK_ROLE_PRIMARY,
};

enum rblk_disk_state {
	RBLK_DISK_DISKLESS,		/* no backing device attached */
	RBLK_DISK_INCONSISTENT,		/* contents not known to be current */
	RBLK_DISK_OUTDATED,		/* consistent but missed writes */
	RBLK_DISK_UNKNOWN,		/* peer disk, peer not connected */
	RBLK_DISK_UP_TO_DATE,
	RBLK_DISK_FAILED,		/* local disk failed a write, being detached */
	/*
	 * Attached with consistent metadata, not yet compared with a peer: it
	 * may lack writes an absent peer has.  Becomes UpToDate or Outdated
	 * at connect; promotion needs --force.
	 */
	RBLK_DISK_CONSISTENT,
};

/* Replication state toward one peer, beside its connection state. */
enum rblk_repl_state {
	RBLK_REPL_OFF,			/* not connected */
	RBLK_REPL_ESTABLISHED,		/* connected, nothing to resync */
	RBLK_REPL_SYNC_SOURCE,		/* we send the blocks the peer lacks */
	RBLK_REPL_SYNC_TARGET,		/* we receive the blocks we lack */
	RBLK_REPL_WAIT_SOURCE,		/* connected, but neither side has usable data */
	/* reserved for the congestion states of asynchronous replication */
	RBLK_REPL_BEHIND,
	RBLK_REPL_AHEAD,
};

/*
 * What two nodes decide at connect from their generation UUIDs (the
 * rules are in Documentation/design.rst, "Generation UUIDs").
 */
enum rblk_sync_decision {
	RBLK_SYNC_NONE,			/* same data: nothing to do */
	RBLK_SYNC_BITMAP_SOURCE,	/* we are newer: resync the bitmap's blocks to the peer */
	RBLK_SYNC_BITMAP_TARGET,	/* the peer is newer: resync its bitmap's blocks to us */
	RBLK_SYNC_FULL_SOURCE,		/* we are newer, no usable bitmap: whole device */
	RBLK_SYNC_FULL_TARGET,		/* the peer is newer, no usable bitmap: whole device */
	RBLK_SYNC_NO_SOURCE,		/* neither side has consistent data: wait */
	RBLK_SYNC_SPLIT_BRAIN,		/* both wrote since their last common generation */
	RBLK_SYNC_UNRELATED,		/* no common generation: refuse */
	__RBLK_SYNC_MAX,
};

/* Superblock flags (RBLK_A_MD_FLAGS); the format is in Documentation/design.rst. */
#define RBLK_MDF_CONSISTENT	_BITUL(0)	/* data is consistent (not Inconsistent) */
#define RBLK_MDF_OUTDATED	_BITUL(1)	/* a peer has newer data */
/* primary, not cleanly demoted: still set at attach = crashed primary */
#define RBLK_MDF_PRIMARY	_BITUL(2)
#define RBLK_MDF_SYNC_TARGET	_BITUL(3)	/* a resync to this node was running */
#define RBLK_MDF_ATTACHED	_BITUL(4)	/* attached, not cleanly detached */
#define RBLK_MD_HISTORY_UUIDS	4		/* history UUIDs kept */

/* What a failed write of the backing device does (RBLK_A_ON_IO_ERROR). */
enum rblk_on_io_error {
	/*
	 * Default: the disk goes Failed and is detached (Diskless); the write
	 * succeeds if a connected UpToDate peer wrote it.
	 */
	RBLK_ON_IO_ERROR_DETACH,
	/* The error goes to the upper layer; the local disk is Inconsistent. */
	RBLK_ON_IO_ERROR_PASS_ON,
	__RBLK_ON_IO_ERROR_MAX,
};

/*
 * Quorum of a device (RBLK_A_QUORUM): off, a majority of the voters (this
 * node and every configured peer, diskless ones included), or a fixed
 * number of votes 1..RBLK_MAX_PEERS.
 */
#define RBLK_QUORUM_OFF		0U
#define RBLK_QUORUM_MAJORITY	0xffffffffU
#define RBLK_MAX_PEERS		(RBLK_MAX_NODE_ID + 1)

/* What a primary does while it has no quorum (RBLK_A_ON_NO_QUORUM). */
enum rblk_on_no_quorum {
	/* Default: writes wait (none fails) until quorum returns or a demotion. */
	RBLK_ON_NO_QUORUM_SUSPEND_IO,
	/* Writes fail with EIO while there is no quorum. */
	RBLK_ON_NO_QUORUM_IO_ERROR,
	__RBLK_ON_NO_QUORUM_MAX,
};

/* Why a device holds writes (RBLK_A_SUSPENDED). */
enum rblk_suspend_reason {
	RBLK_SUSPEND_NONE,
	RBLK_SUSPEND_NO_QUORUM,		/* on-no-quorum suspend-io, no quorum */
	RBLK_SUSPEND_FENCING,		/* a fence-peer handler runs, or failed */
	__RBLK_SUSPEND_MAX,
};

/*
 * Fencing policy of a device (RBLK_A_FENCING): what a primary does when it
 * loses the connection to a peer with a disk.  With a handler configured,
 * it always runs it ("HANDLER fence-peer", environment in
 * Documentation/operator.rst).
 */
enum rblk_fencing {
	/* Default: writes go on; the handler, if any, runs beside them. */
	RBLK_FENCING_OFF,
	/* Writes wait until the handler returns, whatever it returns. */
	RBLK_FENCING_RESOURCE_ONLY,
	/*
	 * Writes wait until the handler exits 0 (the peer is fenced), the
	 * peer reconnects, or RBLK_CMD_RESUME_IO.
	 */
	RBLK_FENCING_RESOURCE_AND_STONITH,
	__RBLK_FENCING_MAX,
};

/*
 * Checksum of the data of every DATA packet (RBLK_A_DATA_DIGEST,
 * Documentation/protocol.rst, "Data digest").
 */
enum rblk_data_digest {
	RBLK_DATA_DIGEST_NONE,		/* default: TCP's checksum only */
	RBLK_DATA_DIGEST_CRC32C,	/* CRC-32C of the data, checked before writing */
	__RBLK_DATA_DIGEST_MAX,
};

/*
 * Where reads go while the local disk is UpToDate (RBLK_A_READ_BALANCING,
 * Documentation/design.rst, "Reads").  Only UpToDate peers that are
 * connected serve reads; a read a peer cannot serve is retried on the
 * local disk or another UpToDate peer.
 */
enum rblk_read_balancing {
	RBLK_READ_PREFER_LOCAL,		/* default: the local disk */
	RBLK_READ_ROUND_ROBIN,		/* the local disk and each peer in turn */
	/* the one with the fewest of this device's requests in flight */
	RBLK_READ_LEAST_PENDING,
	/* the local disk unless its queue is half full of this device's requests */
	RBLK_READ_WHEN_CONGESTED_REMOTE,
	__RBLK_READ_BALANCING_MAX,
};

enum rblk_conn_state {
	RBLK_CONN_STANDALONE,		/* not trying to connect */
	RBLK_CONN_CONNECTING,		/* trying (connect or accept, backoff) */
	RBLK_CONN_CONNECTED,		/* handshake done, replicating */
	RBLK_CONN_DISCONNECTING,	/* tearing down */
};

enum rblk_event {
	RBLK_EVENT_UNSPEC,
	RBLK_EVENT_DEVICE_CREATED,
	RBLK_EVENT_DEVICE_DELETED,
	RBLK_EVENT_ROLE_CHANGED,	/* ROLE */
	RBLK_EVENT_DISK_STATE_CHANGED,	/* DISK_STATE */
	RBLK_EVENT_PEER_ADDED,		/* PEER_NODE_ID */
	RBLK_EVENT_PEER_REMOVED,	/* PEER_NODE_ID */
	RBLK_EVENT_CONN_STATE_CHANGED,	/* PEER_NODE_ID, CONN_STATE, [LAST_ERROR] */
	RBLK_EVENT_PEER_ROLE_CHANGED,	/* PEER_NODE_ID, PEER_ROLE */
	RBLK_EVENT_PEER_DISK_STATE_CHANGED, /* PEER_NODE_ID, PEER_DISK_STATE */
	RBLK_EVENT_REPL_STATE_CHANGED,	/* PEER_NODE_ID, REPL_STATE, [LAST_ERROR] */
	RBLK_EVENT_SPLIT_BRAIN,		/* PEER_NODE_ID, LAST_ERROR */
	RBLK_EVENT_UUIDS_CHANGED,	/* MINOR only: read STATUS for CURRENT_UUID */
	/* HAS_QUORUM, QUORUM_VOTES, QUORUM_NEEDED, SUSPENDED */
	RBLK_EVENT_QUORUM_CHANGED,
	/*
	 * PEER_NODE_ID, FENCE_PENDING, SUSPENDED, [FENCE_RESULT]: a fence-peer
	 * handler started (no FENCE_RESULT) or ended
	 */
	RBLK_EVENT_FENCE_PEER,
};

#endif /* _UAPI_LINUX_RBLK_H */
