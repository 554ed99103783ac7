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

enum rblk_cmd {
	RBLK_CMD_UNSPEC,
	RBLK_CMD_DEVICE_CREATE,	/* RESOURCE_NAME, MINOR, NODE_ID; [CLUSTER_NAME] */
	RBLK_CMD_DEVICE_DELETE,	/* MINOR */
	RBLK_CMD_ATTACH,	/* MINOR, BACKING_PATH; [ASSUME_UPTODATE, ON_IO_ERROR] */
	RBLK_CMD_DETACH,	/* MINOR */
	/*
	 * MINOR, PEER_NODE_ID, PEER_IP, PEER_PORT, LOCAL_IP, LOCAL_PORT;
	 * [PING_INTERVAL_MS, PING_TIMEOUT_MS, CONNECT_TIMEOUT_MS,
	 *  RECONNECT_MIN_MS, RECONNECT_MAX_MS, REQUEST_TIMEOUT_MS, KO_COUNT]
	 */
	RBLK_CMD_PEER_ADD,
	RBLK_CMD_PEER_REMOVE,	/* MINOR, PEER_NODE_ID */
	RBLK_CMD_CONNECT,	/* MINOR; [PEER_NODE_ID] (default: every peer) */
	RBLK_CMD_DISCONNECT,	/* MINOR; [PEER_NODE_ID] (default: every peer) */
	RBLK_CMD_PRIMARY,	/* MINOR; [FORCE] */
	RBLK_CMD_SECONDARY,	/* MINOR */
	RBLK_CMD_STATUS,	/* doit: MINOR; dumpit: every device */
	RBLK_CMD_EVENT,		/* multicast only, kernel -> userspace */
	__RBLK_CMD_MAX,
};

#define RBLK_CMD_MAX (__RBLK_CMD_MAX - 1)

enum rblk_attr {
	RBLK_A_UNSPEC,
	RBLK_A_MINOR,			/* u32, 0..RBLK_MAX_MINOR */
	RBLK_A_RESOURCE_NAME,		/* NUL-terminated string, < RBLK_NAME_MAX_BYTES */
	RBLK_A_CLUSTER_NAME,		/* NUL-terminated string, < RBLK_NAME_MAX_BYTES */
	RBLK_A_NODE_ID,			/* u32, local node id, 0..RBLK_MAX_NODE_ID */
	RBLK_A_BACKING_PATH,		/* NUL-terminated string, < RBLK_PATH_MAX_BYTES */
	RBLK_A_ASSUME_UPTODATE,		/* flag: operator asserts the disk holds current data */
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
};

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
};

#endif /* _UAPI_LINUX_RBLK_H */
