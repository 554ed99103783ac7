/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rblk - internal objects of main.c, req.c, conn.c, transport.c and
 * receiver.c: device, peer, connection, request.  Lifetimes, locking and contexts are described in
 * Documentation/design.rst; the short version is at each structure.
 */
#ifndef RBLK_INT_H
#define RBLK_INT_H

#include <linux/blkdev.h>
#include <linux/bio.h>
#include <linux/completion.h>
#include <linux/kref.h>
#include <linux/llist.h>
#include <linux/mempool.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/percpu-refcount.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "rblk.h"
#include "compat.h"

#define RBLK_DRIVER_NAME	"rblk"

/* Largest request rblk forwards, 512-byte sectors. */
#define RBLK_MAX_DATA_SECTORS	(RBLK_MAX_DATA_BYTES >> SECTOR_SHIFT)

/*
 * Largest discard rblk forwards, 512-byte sectors (1 GiB): one TRIM must
 * complete on a slow peer well within its request timeout.
 */
#define RBLK_MAX_DISCARD_SECTORS	BIT(21)

/* An empty flush held for quorum is sent again to the peers at most this often. */
#define RBLK_QUORUM_REFLUSH_MS		100

/* A read a peer had no room for (EBUSY, ENOMEM): tried again this much later. */
#define RBLK_READ_BUSY_WAIT_MS		10
#define RBLK_READ_BUSY_RETRIES		500

/* Requests sent to one peer and not yet answered; more wait for a slot. */
#define RBLK_MAX_LEGS_PER_CONN		1024
/*
 * Requests received from the primary and not yet completed: beyond either
 * bound the secondary stops reading the socket until some complete, and
 * TCP's flow control holds the primary back.
 */
#define RBLK_MAX_PWRITES_PER_CONN	256
#define RBLK_MAX_PWRITE_BYTES_PER_CONN	(32U << 20)
/* Control packets queued and not yet sent; beyond, the peer does not read. */
#define RBLK_MAX_CTL_QUEUED_PER_CONN	64

/**
 * struct rblk_stats - per-cpu device counters (summed for status)
 * @reads: read requests completed
 * @writes: writes with data completed
 * @read_bytes: bytes read
 * @write_bytes: bytes written
 * @flushes: flushes (empty or REQ_PREFLUSH) completed
 * @discards: discard and write-zeroes requests completed
 * @errors: requests failed
 */
struct rblk_stats {
	u64 reads;
	u64 writes;
	u64 read_bytes;
	u64 write_bytes;
	u64 flushes;
	u64 discards;
	u64 errors;
};

struct rblk_peer;
struct rblk_conn;

/**
 * struct rblk_resync - the resync this node runs as a peer's sync source
 * @work: issues reads and sends (resync.c); delayed for the rate and
 *	for a rescan of blocks that overlapped application writes
 * @read_done: requests whose local read completed, for @work to send
 * @inflight: requests read or sent and not yet acknowledged
 * @wait: woken when @inflight drops
 * @reads: local reads in flight (their completion touches @work)
 * @failed: a resync read or a peer's resync write failed
 * @stop: no new requests (disconnect, detach)
 * @running: a resync toward this peer is under way
 * @cursor_bit: next bitmap bit to look at
 * @total_bytes: out-of-sync bytes when the resync started
 * @done_bytes: bytes acknowledged since
 * @rate_bytes_per_s: bytes acknowledged in the last second
 * @rate_jiffies: start of the current rate window
 * @rate_done_bytes: @done_bytes at that start
 * @window: requests the dynamic controller allows in flight
 * @limited: @window held requests back during the current step
 * @step_jiffies: start of the controller's current step
 * @latency_us: mean round trip of the requests of the last step
 * @lat: round trips since the step began (leg completion): microseconds
 *	summed in the high bits, their number in the low 16 (resync.c)
 * @credit_bytes: fixed rate: bytes that may be read now
 * @credit_jiffies: when @credit_bytes was last refilled
 */
struct rblk_resync {
	struct delayed_work work;
	struct llist_head read_done;
	atomic_t inflight;
	atomic_t reads;
	wait_queue_head_t wait;
	bool failed;
	bool stop;
	bool running;
	u64 cursor_bit;
	u64 total_bytes;
	atomic64_t done_bytes;
	u64 rate_bytes_per_s;
	unsigned long rate_jiffies;
	u64 rate_done_bytes;
	u32 window;
	bool limited;
	unsigned long step_jiffies;
	u64 latency_us;
	atomic64_t lat;
	u64 credit_bytes;
	unsigned long credit_jiffies;
};

/**
 * struct rblk_bitmap - one peer slot's write-intent bitmap in memory
 * @bits: bm_slot_bytes bytes (vmalloc), bit i covers data bytes
 *	[i * 4096, (i + 1) * 4096), little-endian bit order as on disk
 * @nr_bits: bits that cover the data
 * @set_bits: bits set now
 * @pending_gen: a write this slot missed set bits while it tracked no
 *	generation, and rblk_md_start_generation() has not run since
 */
struct rblk_bitmap {
	unsigned long *bits;
	u64 nr_bits;
	atomic64_t set_bits;
	bool pending_gen;
};

/**
 * struct rblk_md - the metadata of an attached backing device
 * @meta: the external metadata device (bdev NULL: internal metadata)
 * @bdev: the device holding the metadata area
 * @lock: serialises changes of @info and superblock writes (mutex: they
 *	sleep); taken after struct rblk_device.mutex, never under a spinlock
 * @info: the superblock as last written
 * @attach_flags: RBLK_MDF_* found at attach (a crashed primary shows
 *	RBLK_MDF_PRIMARY here)
 * @bm: write-intent bitmaps, the first @info.layout.max_peers allocated
 * @al_lock: serialises activity log writes and its cleaner
 * @al_ondisk: the activity log as it is (or is being made) on disk, one
 *	bit per 4 MiB extent, little-endian bit order (al.c)
 * @al_used: extents written since the cleaner's last round
 * @al_nr_extents: extents that cover the data
 * @al_work: the cleaner
 * @al_stop: the cleaner does not run again
 * @md_writes: metadata writes: superblock, activity log, bitmap
 *	write-backs (status counter)
 * @notified_uuid: current UUID last announced with RBLK_EVENT_UUIDS_CHANGED
 * @recv_jiffies: per activity log extent, when a write of our primary
 *	last arrived there (0: not recently); rblk_al_note_received()
 */
struct rblk_md {
	struct rblk_bdev_handle meta;
	struct block_device *bdev;
	struct mutex lock;		/* info, superblock writes */
	struct rblk_md_info info;
	u32 attach_flags;
	struct rblk_bitmap bm[RBLK_MAX_NODE_ID + 1];
	struct mutex al_lock;		/* activity log writes and clearing */
	unsigned long *al_ondisk;
	unsigned long *al_used;
	u64 al_nr_extents;
	struct delayed_work al_work;
	bool al_stop;
	atomic64_t md_writes;
	u64 notified_uuid;
	unsigned long *recv_jiffies;
};

/**
 * struct rblk_device - one /dev/rblkN
 *
 * Lifetime: created by the management interface; deleted (gendisk, peers,
 * backing device gone) under @mutex, freed with the last reference @ref
 * (management calls hold one while they wait for @mutex).  Work items of
 * its peers are cancelled before it goes.
 *
 * @minor: N of /dev/rblkN
 * @node_id: this node's id for the resource
 * @resource_name: resource name, NUL-terminated
 * @cluster_name: cluster name, NUL-terminated
 * @disk: the gendisk, always present
 * @state_lock: protects @role, @disk_state, @open_count, @promoting,
 *	@deleting, @state_gen (irq-safe not needed: never taken in irq)
 * @role: primary or secondary
 * @disk_state: state of the local backing device
 * @open_count: openers of /dev/rblkN
 * @promoting: a promotion is being arbitrated with the peers
 * @deleting: device is going away, open refused
 * @state_gen: bumped on every change of role, disk or size; a handshake
 *	whose HELLO was built from an older generation is discarded
 * @backing: the exclusively opened backing device (bdev NULL: diskless)
 * @backing_path: its path, "" when diskless
 * @local_ref: held by every I/O on @backing; killed at detach
 * @local_done: completed when @local_ref drops to zero after kill
 * @size_sectors: device size, 512-byte sectors (0 when diskless)
 * @logical_block_size_bytes: logical block size
 * @mutex: held by every management call of this device, start to end
 * @ref: references of management calls and status (kref)
 * @peers: peers by node id; written under @mutex, read under RCU
 * @nr_peers: number of configured peers
 * @primary_peer: node id of the peer this node accepts writes from (it
 *	was granted a ROLE_REQ or was primary in its HELLO), or
 *	RBLK_NO_PEER; under @state_lock
 * @on_io_error: enum rblk_on_io_error of the attached backing device
 * @local_flags: RBLK_LOCAL_IO_FAILED (a write of the backing device
 *	failed; @io_error_work applies the policy), RBLK_LOCAL_REF_KILLED
 *	(@local_ref was killed: no new I/O on the backing device)
 * @io_error_work: applies @on_io_error in process context
 * @md: metadata of the attached backing device (when @has_md)
 * @has_md: a backing device with its metadata is attached
 * @gen_work: rblk_req_gen_work(): a new generation for @gen_reqs
 * @gen_reqs: writes waiting for their new generation to be durable
 * @md_state_work: records the disk state in the superblock flags
 * @md_state_mutex: serialises @md_state_work
 * @al_work: rblk_req_al_work(): logs the extents of @al_reqs, submits them
 * @al_reqs: writes waiting for an activity log write
 * @conflicts: sector ranges of writes in flight (primary)
 * @stats: per-cpu counters
 * @inflight: upper-layer requests in flight
 * @role_wait: ROLE_REPLY waiters
 * @sync_target_of: node id of our one sync source (claimed in its
 *	handshake, cmpxchg), or RBLK_NO_PEER
 * @quorum_lock: protects the quorum fields below (irq-safe: writes are
 *	held from completion context)
 * @quorum: policy: RBLK_QUORUM_OFF, RBLK_QUORUM_MAJORITY or votes
 * @on_no_quorum: enum rblk_on_no_quorum
 * @has_quorum: this node's partition has quorum (always true when off);
 *	read locklessly on the I/O path
 * @quorum_votes: votes present at the last count
 * @quorum_needed: votes needed (0: off); read locklessly
 * @quorum_voters: this node and every configured peer
 * @quorum_held: writes done everywhere they could be, waiting for quorum
 *	(struct rblk_req.held)
 * @quorum_parked: new writes that arrived without quorum
 * @quorum_held_count: entries of both lists
 * @quorum_stepped_down: this node stepped down without quorum: it loses
 *	its next split-brain (rblk_quorum_step_down()); under state_lock
 * @quorum_work: rblk_quorum_work()
 * @auto_promote: RBLK_A_AUTO_PROMOTE; under state_lock
 * @auto_promoted: the primary role came from an open for writing; the
 *	last release demotes; under state_lock
 * @fencing: enum rblk_fencing; under quorum_lock
 * @fence_handler: absolute path of the fence-peer handler, "" for none;
 *	under quorum_lock
 * @fence_todo: bit per node id: a handler run to start; under quorum_lock
 * @fence_pending: bit per node id: a handler run queued or running; under
 *	quorum_lock
 * @fence_suspend: bit per node id: writes wait for its fencing (read
 *	locklessly on the I/O path, changed under quorum_lock)
 * @fence_after: per node id: jiffies before which its run does not start
 *	(our own reconnects get that long to succeed); under quorum_lock
 * @fence_work: rblk_fence_work(), on system_long_wq
 * @auth_secret: the resource's shared secret (RBLK_A_AUTH_SECRET), wiped
 *	when replaced and when the device is freed; under state_lock
 * @auth_secret_len: bytes in @auth_secret, 0: no secret; under state_lock
 * @data_digest: enum rblk_data_digest (RBLK_A_DATA_DIGEST) offered at the
 *	next handshakes; under state_lock
 * @read_balancing: enum rblk_read_balancing (RBLK_A_READ_BALANCING), read
 *	locklessly by each read
 * @read_rr: round-robin position of RBLK_READ_ROUND_ROBIN
 * @local_inflight: requests submitted to the local disk, not completed
 * @read_retry_work: rblk_read_retry_work(): reads whose source failed
 * @read_retry_reqs: those reads (struct rblk_req.gen_node)
 * @reflush_work: rblk_quorum_reflush_work(): held empty flushes sent again
 * @lost_disk_held_by: a primary whose disk failed: node id of the peer
 *	that said it holds our writes in a generation our lost disk lacks
 *	(RBLK_UF_LOST_DISK), or RBLK_NO_PEER; reset at attach
 * @lost_disk_work: rblk_lost_disk_work()
 * @lost_disk_reqs: writes our disk lacks, waiting for that word
 *	(struct rblk_req.gen_node)
 * @lost_disk_uuid: a secondary: the current UUID it started when its
 *	primary's disk failed (rblk_sync_hold_for_primary()), 0 for none;
 *	under md.lock
 */
struct rblk_device {
	u32 minor;
	u32 node_id;
	char resource_name[RBLK_NAME_MAX_BYTES];
	char cluster_name[RBLK_NAME_MAX_BYTES];
	struct gendisk *disk;

	spinlock_t state_lock;		/* role, disk_state, open_count, ... */
	enum rblk_role role;
	enum rblk_disk_state disk_state;
	unsigned int open_count;
	bool promoting;
	/* bit per node id: that peer missed writes of ours (set_bit/test_bit) */
	unsigned long peers_missed_writes;
	/*
	 * bit per node id: our primary told us that node misses its writes
	 * (RBLK_P_BEHIND); it may not become primary through us
	 */
	unsigned long peers_behind;
	bool deleting;
	u64 state_gen;
	u32 primary_peer;

	struct rblk_bdev_handle backing;
	char backing_path[RBLK_PATH_MAX_BYTES];
	struct percpu_ref local_ref;
	struct completion local_done;
	u64 size_sectors;
	u32 logical_block_size_bytes;

	struct mutex mutex;		/* management calls of this device */
	struct kref ref;
	struct rblk_peer __rcu *peers[RBLK_MAX_PEERS];
	unsigned int nr_peers;

	struct rblk_md md;
	bool has_md;
	struct work_struct gen_work;
	struct llist_head gen_reqs;
	struct work_struct md_state_work;
	struct mutex md_state_mutex;	/* one md_state_work at a time */
	struct work_struct al_work;
	struct llist_head al_reqs;

	enum rblk_on_io_error on_io_error;
	unsigned long local_flags;
	struct delayed_work io_error_work;
	struct rblk_conflicts conflicts;
	struct rblk_stats __percpu *stats;
	atomic_t inflight;
	wait_queue_head_t role_wait;
	u32 sync_target_of;

	spinlock_t quorum_lock;		/* quorum state, held writes */
	u32 quorum;
	enum rblk_on_no_quorum on_no_quorum;
	bool has_quorum;
	u32 quorum_votes;
	u32 quorum_needed;
	u32 quorum_voters;
	struct list_head quorum_held;
	struct bio_list quorum_parked;
	u32 quorum_held_count;
	bool quorum_stepped_down;
	struct delayed_work quorum_work;

	bool auto_promote;
	bool auto_promoted;
	enum rblk_fencing fencing;
	char fence_handler[RBLK_PATH_MAX_BYTES];
	unsigned long fence_todo;
	unsigned long fence_pending;
	unsigned long fence_suspend;
	unsigned long fence_after[RBLK_MAX_PEERS];
	struct delayed_work fence_work;

	u8 auth_secret[RBLK_AUTH_SECRET_MAX_BYTES];
	u32 auth_secret_len;
	u8 data_digest;

	u8 read_balancing;
	atomic_t read_rr;
	atomic_t local_inflight;
	struct work_struct read_retry_work;
	struct llist_head read_retry_reqs;

	struct delayed_work reflush_work;
	u32 lost_disk_held_by;
	struct delayed_work lost_disk_work;
	struct llist_head lost_disk_reqs;
	u64 lost_disk_uuid;
};

/**
 * struct rblk_peer - one configured peer of a device
 *
 * Lifetime: rblk_peer_add() to rblk_peer_remove() (or device delete).
 * Freed after an RCU grace period, once @conn_work is cancelled and the
 * connection is torn down.
 *
 * @dev: owning device
 * @cfg: configuration from rblk_peer_add()
 * @conn_work: connect/accept/handshake/teardown/backoff state machine; the
 *	only place that creates or destroys @conn and @listen_sock
 * @lock: protects @conn_state, @peer_role, @peer_disk_state, @last_error,
 *	@want_connect, @role_reply_* (spinlock, taken in process and softirq
 *	context with _bh)
 * @conn_state: StandAlone / Connecting / Connected / Disconnecting
 * @state_wait: woken on every change of @conn_state
 * @peer_role: the peer's role as last learnt (Unknown when not connected)
 * @peer_disk_state: the peer's disk state as last learnt, judged by
 *	what we know it missed (rblk_peer_disk_claimed())
 * @peer_disk_claimed: the disk state the peer last claimed
 * @want_connect: the operator asked for a connection
 * @stopped: the peer is being removed; conn_work does nothing
 * @backoff_ms: current reconnect delay
 * @listen_sock: listening socket (higher node id only), or NULL
 * @listen_saved_data_ready: its original sk_data_ready
 * @conn: the established connection, or NULL; RCU for the I/O path
 * @last_error: reason of the last connection failure
 * @last_reject_reason: last handshake refusal logged, to log each once
 * @connected_once: a connection has been established before
 * @refused: the peer refused the connection after our side installed it
 *	(HELLO_REJECT as its first packet): the next attempt backs off
 * @role_req_id: id of the outstanding ROLE_REQ, 0 if none
 * @role_reply_status: the answer (0 or -errno), valid when
 *	@role_reply_done
 * @role_reply_done: the answer (or a disconnect) arrived
 * @writes: DATA packets acked
 * @write_bytes: data bytes acked
 * @flushes: flushes acked (FLUSH, or DATA with PREFLUSH)
 * @discards: TRIM packets acked
 * @acks: successful ACKs
 * @rtt_us: last ping round trip, microseconds
 * @reconnects: connections established after the first
 * @received_writes: DATA packets received and written
 * @received_bytes: data bytes received and written
 * @errors: protocol errors, failed connections, failed received requests
 *	(its READs our disk failed included), its READ_REPLYs with a bad digest
 * @reads: our READs it served (data received)
 * @read_bytes: their data bytes
 * @served_reads: its READs we answered with data
 * @inflight: legs waiting for this peer (writes and reads)
 * @md_slot: index of its bitmap slot in dev->md, or -1 (set under
 *	dev->mutex and dev->md.lock; read locklessly on the I/O path)
 * @uuids_work: adopts a generation the peer announced (resync.c)
 * @missed_seq: counts writes this peer missed (rblk_req_missed()); a
 *	handshake that sees it change was raced by such a write
 * @rs: the resync toward this peer (we are its sync source)
 * @adopt: the generation to adopt, under @lock
 * @adopt_flags: RBLK_UF_CLEAR_BITMAP or RBLK_UF_RESYNC_DONE (0: none),
 *	under @lock
 * @adopt_new: a new current UUID of our primary's (RBLK_UF_NEW_CURRENT),
 *	under @lock
 * @adopt_new_pending: @adopt_new waits for @uuids_work, under @lock
 * @lost_disk_pending: this peer, our primary, announced its disk lost:
 *	@uuids_work starts a generation that holds its writes, under @lock
 * @repl_state: enum rblk_repl_state, under @lock
 * @sync_decision: outcome of the last UUID comparison, under @lock
 * @split_brain: the last handshake found a split-brain, under @lock
 * @discard_my_data: the operator asked this node to lose a split-brain
 *	at the next handshake (cleared after it), under @lock
 * @behind_sent: the nodes-behind mask last sent on this connection
 *	(RBLK_P_BEHIND), valid when @behind_sent_valid; under @lock
 * @behind_sent_valid: @behind_sent was sent on the current connection
 * @behind_acked: the nodes the peer acknowledged knowing as behind
 *	(RBLK_P_BEHIND_ACK); 0 from each new connection; under @lock
 * @reconcile: we lost our primary while receiving its writes, or as
 *	primary the connection to this peer while it held writes no flush
 *	covered (rblk_unflushed_lost()); our slot for this peer marks those
 *	regions until a handshake with it resyncs them (RBLK_UF_RECONCILE),
 *	under @lock
 * @rcu: frees the peer after a grace period
 */
struct rblk_peer {
	struct rblk_device *dev;
	struct rblk_peer_config cfg;
	struct delayed_work conn_work;

	spinlock_t lock;		/* states, last_error, role reply */
	enum rblk_conn_state conn_state;
	wait_queue_head_t state_wait;
	enum rblk_role peer_role;
	enum rblk_disk_state peer_disk_state;
	enum rblk_disk_state peer_disk_claimed;
	bool want_connect;
	char last_error[64];
	u32 last_reject_reason;
	u64 role_req_id;
	int role_reply_status;
	bool role_reply_done;

	bool stopped;
	u32 backoff_ms;
	bool connected_once;
	bool refused;
	struct socket *listen_sock;
	void (*listen_saved_data_ready)(struct sock *sk);
	struct rblk_conn __rcu *conn;

	/* counters */
	atomic64_t writes, write_bytes, flushes, discards, acks, rtt_us;
	atomic64_t reconnects, received_writes, received_bytes, errors;
	atomic64_t reads, read_bytes, served_reads;
	atomic_t inflight;

	int md_slot;
	atomic_t missed_seq;
	struct rblk_resync rs;
	struct work_struct uuids_work;
	struct rblk_uuid_view adopt;
	u32 adopt_flags;
	struct rblk_uuid_view adopt_new;
	bool adopt_new_pending;
	bool lost_disk_pending;
	enum rblk_repl_state repl_state;
	enum rblk_sync_decision sync_decision;
	bool split_brain;
	bool discard_my_data;
	bool reconcile;
	u32 behind_sent;
	bool behind_sent_valid;
	u32 behind_acked;

	struct rcu_head rcu;
};

/* What a struct rblk_send carries. */
enum rblk_send_kind {
	RBLK_SEND_CTL,		/* kmalloc'ed control packet, kfree'd when sent */
	RBLK_SEND_LEG,		/* peer leg of a request, completes on ACK */
	RBLK_SEND_ACK,		/* ACK of a received write, frees the rblk_pwrite */
};

/* Header plus the largest fixed payload sent through the send list. */
#define RBLK_SEND_HEAD_MAX_BYTES	(sizeof(struct rblk_hdr) + \
					 MAX(sizeof(struct rblk_p_data), \
					     sizeof(struct rblk_p_uuids)))

/**
 * struct rblk_send - one packet on a connection's send list
 * @node: link in rblk_conn.send_llist (producers, any context)
 * @entry: link in rblk_conn.send_list (io_work only)
 * @kind: enum rblk_send_kind
 * @command: the packet's enum rblk_packet_cmd
 * @sent: completely on the socket (a leg's ACK is valid only then)
 * @request_id: the packet's request id
 * @head_len: bytes of @head to send
 * @head_sent: bytes of @head sent so far
 * @head: header and fixed payload
 * @data_bio: bio whose data follows (RBLK_P_DATA), or NULL
 * @data_iter: position in @data_bio's data still to send
 */
struct rblk_send {
	struct llist_node node;
	struct list_head entry;
	enum rblk_send_kind kind;
	u8 command;
	bool sent;
	u64 request_id;
	u32 head_len;
	u32 head_sent;
	u8 head[RBLK_SEND_HEAD_MAX_BYTES];
	struct bio *data_bio;
	struct bvec_iter data_iter;
};

/**
 * struct rblk_unflushed - what a peer acknowledged that no flush made
 *	durable yet (al.c)
 *
 * A peer acknowledges a write when its disk completed it, which may be in
 * the disk's volatile write cache until the next flush.  Per connection,
 * the activity log extents of such writes: the cleaner keeps them in the
 * log, and a lost connection marks them out of sync for the peer.
 *
 * @lock: protects the rest
 * @cur: extents of data writes acknowledged since the last flush point
 *	was sent (or since the connection started)
 * @pending: extents that the flush point @flush_id covers once acknowledged
 * @nr_extents: bits in @cur and @pending
 * @flush_id: request id of the flush point in flight that covers
 *	@pending, 0 when none
 * @untracked: a write could not be recorded (no metadata when the
 *	connection started, or an extent beyond @nr_extents): every extent
 *	in the log counts as unflushed on this peer
 * @lost: rblk_unflushed_lost() took the extents: nothing changes them
 */
struct rblk_unflushed {
	spinlock_t lock;	/* the rest; irq-safe */
	unsigned long *cur;
	unsigned long *pending;
	u64 nr_extents;
	u64 flush_id;
	bool untracked;
	bool lost;
};

/**
 * struct rblk_conn - one established connection to a peer
 *
 * Lifetime: created by the peer's conn_work after a successful handshake,
 * destroyed by conn_work (rblk_conn_destroy()) after failure, disconnect
 * or peer removal.  The I/O path finds it under RCU and registers legs
 * under @submit_lock only while !@dead.
 *
 * @peer: owning peer
 * @sock: the TCP socket
 * @version: negotiated protocol version
 * @features: negotiated RBLK_FEAT_*
 * @submit_lock: orders leg registration against @dead
 * @dead: no new legs or control packets accepted
 * @failed: a failure was reported, teardown scheduled
 * @reqids: request id -> struct rblk_leg (or ROLE_REQ) in flight
 * @send_llist: packets queued by any context
 * @send_list: packets taken over by io_work, in order
 * @cur_send: packet being sent, or NULL
 * @ctl_queued: control packets queued and not yet sent
 * @io_work: sends and receives; the only user of the socket after setup
 * @ping_work: periodic ping and timeout check
 * @saved_data_ready: socket callbacks replaced while connected
 * @saved_write_space: as above
 * @saved_state_change: as above
 * @rx_state: receive state machine position
 * @rx_off: bytes of the current part received
 * @rx_hdr: header being received
 * @rx_info: decoded header
 * @rx_payload: fixed payload being received
 * @rx_pwrite: write being received, or NULL
 * @rx_read_leg: read whose READ_REPLY data is being received, or NULL
 * @rx_read_iter: where in its bio the data goes on
 * @rx_read_digest: the data digest of that READ_REPLY
 * @read_reply_bytes: page bytes held by served READs until their replies
 *	are sent; above RBLK_MAX_PWRITE_BYTES_PER_CONN new READs get EBUSY
 * @read_replies: served READs not yet answered on the socket; more than
 *	RBLK_MAX_LEGS_PER_CONN fail the connection
 * @read_bytes_out: our READs to the peer not yet answered, in page bytes
 *	(rblk_read_budget_bytes()); at most RBLK_MAX_PWRITE_BYTES_PER_CONN
 * @pwrites_inflight: received requests submitted and not yet completed
 * @pwrite_bytes_inflight: their data bytes
 * @pwrites_wait: woken when @pwrites_inflight drops to zero
 * @rx_throttled: io_work stopped reading: too much received work pending
 * @submitters: submitters between finding the connection (RCU) and
 *	queueing their leg; teardown waits for none to be left
 * @legs: legs registered and not yet answered (at most
 *	RBLK_MAX_LEGS_PER_CONN)
 * @submit_wait: submitters waiting for a leg slot, and teardown waiting
 *	for @submitters; woken when a slot frees or the connection dies
 * @ko: request timeout state (ping_work only)
 * @last_rx_jiffies: time of the last received packet
 * @ping_id: id of the outstanding ping, 0 if none
 * @ping_sent_id: id of the last ping that was completely sent
 * @ping_sent_ns: ktime of the outstanding ping
 * @role_req_sent_id: id of the last ROLE_REQ completely sent (io_work)
 * @role_req_answered_id: id of the last ROLE_REQ answered (io_work)
 * @unflushed: the extents of writes the peer acknowledged that no flush
 *	of its covers yet (al.c)
 */
struct rblk_conn {
	struct rblk_peer *peer;
	struct socket *sock;
	u32 version;
	u64 features;

	spinlock_t submit_lock;	/* leg registration vs. dead */
	bool dead;
	atomic_t failed;

	struct rblk_reqid_table reqids;
	struct llist_head send_llist;
	struct list_head send_list;
	struct rblk_send *cur_send;
	atomic_t ctl_queued;

	struct work_struct io_work;
	struct delayed_work ping_work;
	void (*saved_data_ready)(struct sock *sk);
	void (*saved_write_space)(struct sock *sk);
	void (*saved_state_change)(struct sock *sk);

	int rx_state;
	u32 rx_off;
	struct rblk_hdr rx_hdr;
	struct rblk_hdr_info rx_info;
	union {
		struct rblk_p_data data;
		struct rblk_p_trim trim;
		struct rblk_p_ack ack;
		struct rblk_p_state state;
		struct rblk_p_reject reject;
		struct rblk_p_uuids uuids;
		struct rblk_p_behind behind;
		struct rblk_p_read read;
		struct rblk_p_read_reply read_reply;
	} rx_payload;
	struct rblk_pwrite *rx_pwrite;
	struct rblk_leg *rx_read_leg;
	struct bvec_iter rx_read_iter;
	u32 rx_read_digest;
	atomic_t read_reply_bytes;
	atomic_t read_replies;
	atomic_t read_bytes_out;

	atomic_t pwrites_inflight;
	atomic_t pwrite_bytes_inflight;
	wait_queue_head_t pwrites_wait;
	bool rx_throttled;

	atomic_t submitters;
	atomic_t legs;
	wait_queue_head_t submit_wait;
	struct rblk_ko_timer ko;
	unsigned long last_rx_jiffies;
	u64 ping_id;
	u64 ping_sent_id;
	u64 ping_sent_ns;
	u64 role_req_sent_id;
	u64 role_req_answered_id;
	struct rblk_unflushed unflushed;
};

/**
 * struct rblk_req - one upper-layer bio (after splitting) in flight
 *
 * Allocated as the front pad of the local clone bio (rblk_bio_set), so
 * one allocation covers both.  Freed with the clone when the last of its
 * references is put.
 *
 * @dev: device
 * @master: the upper-layer bio, completed when @pending drops to zero
 * @pending: 1 (submission) + 1 (local clone) + one per peer leg
 * @local_status: status of the local clone
 * @peers_ok: legs written by a peer that was UpToDate
 * @acked_nodes: bit per node id: that peer wrote it, whatever its disk
 *	state (quorum); set_bit from leg completions
 * @missed_nodes: bit per node id: that peer missed it (quorum)
 * @held: on dev->quorum_held while it waits for quorum
 * @acct_start: start time for the disk's I/O statistics, jiffies
 * @op_bytes: bytes of the request
 * @interval: its sector range in dev->conflicts while in flight (writes,
 *	discards, write-zeroes with a range)
 * @gen_node: on dev->al_reqs while its extents are logged, then on
 *	dev->gen_reqs while a new generation is written for it, then on
 *	dev->lost_disk_reqs while its peer has not said it holds it; a read:
 *	on dev->read_retry_reqs while its next source is chosen
 * @needs_gen: a peer missed it and has no generation yet: the request
 *	completes only after the superblock with the new current UUID is
 *	durable
 * @has_local_ref: holds dev->local_ref (the local disk may be used)
 * @parked_jiffies: when it began to wait on dev->lost_disk_reqs
 * @reflush: an empty flush held for quorum that is sent to the peers
 *	again (rblk_req_reflush())
 * @read_tried: a read: bit per node id of the sources tried (our own
 *	node id: the local disk)
 * @read_busy: a read: times a peer answered EBUSY or ENOMEM (tried again
 *	after RBLK_READ_BUSY_WAIT_MS, at most RBLK_READ_BUSY_RETRIES times)
 * @clone: the local clone (must be last)
 */
struct rblk_req {
	struct rblk_device *dev;
	struct bio *master;
	atomic_t pending;
	blk_status_t local_status;
	atomic_t peers_ok;
	unsigned long acked_nodes;
	unsigned long missed_nodes;
	struct list_head held;
	unsigned long acct_start;
	u32 op_bytes;
	struct rblk_interval interval;
	struct llist_node gen_node;
	bool needs_gen;
	bool has_local_ref;
	bool reflush;
	unsigned long parked_jiffies;
	unsigned long read_tried;
	u16 read_busy;
	struct bio clone;
};

/**
 * struct rblk_leg - one request's copy to one peer
 * @send: its packet on the connection's send list (must be first)
 * @rs: the resync request it carries (then @req is NULL), or NULL
 * @req: the request
 * @peer: the peer
 * @command: RBLK_P_DATA, RBLK_P_FLUSH, RBLK_P_TRIM or RBLK_P_READ
 * @bytes: data bytes (DATA, READ) or 0
 */
struct rblk_leg {
	struct rblk_send send;
	struct rblk_rs_req *rs;
	struct rblk_req *req;
	struct rblk_peer *peer;
	u8 command;
	u32 bytes;
};

/**
 * struct rblk_pwrite - a DATA, FLUSH or TRIM received from the primary, or
 *	a READ from any peer
 *
 * The front pad of its bio (rblk_pwrite_bio_set).  Holds a reference on
 * the device's local_ref while it may touch the backing device.
 *
 * @conn: connection it came from; stays valid while counted in
 *	conn->pwrites_inflight or queued on its send list
 * @request_id: id to echo in the ACK
 * @command: RBLK_P_DATA / RBLK_P_FLUSH / RBLK_P_TRIM / RBLK_P_READ
 * @data: decoded DATA header
 * @trim: decoded TRIM or READ payload
 * @nr_pages: pages attached to @bio
 * @has_local_ref: holds dev->local_ref
 * @reply_bytes: a READ: page bytes counted in conn->read_reply_bytes until
 *	its reply is sent
 * @status: result, 0 or -errno
 * @work: runs FLUSH and TRIM (blocking calls)
 * @ack: the ACK packet (READ_REPLY of a READ, sending @bio's pages)
 * @bio: the bio (must be last)
 */
struct rblk_pwrite {
	struct rblk_conn *conn;
	u64 request_id;
	u8 command;
	struct rblk_data_info data;
	struct rblk_trim_info trim;
	unsigned int nr_pages;
	u32 reply_bytes;
	bool has_local_ref;
	int status;
	struct work_struct work;
	struct rblk_send ack;
	struct bio bio;
};

/* struct rblk_device.local_flags bits */
enum {
	RBLK_LOCAL_IO_FAILED,
	RBLK_LOCAL_REF_KILLED,
	RBLK_QUORUM_STEP_DOWN,	/* quorum_work: rblk_quorum_step_down() */
	RBLK_AUTO_DEMOTE,	/* quorum_work: rblk_auto_demote() */
};

/* main.c */
extern struct workqueue_struct *rblk_wq;
extern struct workqueue_struct *rblk_io_wq;
extern struct bio_set rblk_bio_set;
extern struct bio_set rblk_pwrite_bio_set;
extern mempool_t *rblk_leg_pool;
extern mempool_t *rblk_page_pool;

void rblk_set_disk_state(struct rblk_device *dev, enum rblk_disk_state state);
void rblk_md_queue_state(struct rblk_device *dev);
bool rblk_change_disk_state(struct rblk_device *dev, enum rblk_disk_state from,
			    enum rblk_disk_state to);
void rblk_local_io_error(struct rblk_device *dev);
void rblk_notify(struct rblk_device *dev, enum rblk_event event, s32 peer_node_id,
		 u32 value, const char *message);

/* md.c: device-level metadata (process context, may sleep) */
int rblk_md_init(void);
void rblk_md_exit(void);
int rblk_md_read(struct block_device *bdev, u64 md_offset_bytes, struct rblk_md_info *md,
		 u32 *valid);
int rblk_md_write_sb(struct block_device *bdev, struct rblk_md_info *md);
int rblk_md_bitmap_rw(struct block_device *bdev, const struct rblk_md_info *md,
		      unsigned int slot, void *bits, u32 off_bytes, u32 len_bytes,
		      blk_opf_t opf);
int rblk_md_attach(struct rblk_device *dev, const char *meta_path,
		   enum rblk_disk_state *state, struct netlink_ext_ack *extack);
void rblk_md_detach(struct rblk_device *dev);
int rblk_md_assign_slot(struct rblk_device *dev, struct rblk_peer *peer);
int rblk_md_change_flags(struct rblk_device *dev, u32 set, u32 clear);
int rblk_md_start_generation(struct rblk_device *dev);
int rblk_md_commit(struct rblk_device *dev, struct rblk_md_info *next);
int rblk_md_promote(struct rblk_device *dev, bool force);
bool rblk_md_slot_needs_gen(struct rblk_device *dev, int slot);
void rblk_md_track_absent(struct rblk_device *dev, struct rblk_md_info *next);

/* al.c: activity log (kernel-doc there) */
int rblk_al_begin(struct rblk_device *dev, u64 sector, u32 nr_sectors);
bool rblk_al_covered(struct rblk_device *dev, u64 sector, u32 nr_sectors);
int rblk_al_load(struct rblk_device *dev);
u64 rblk_al_recover(struct rblk_device *dev);
void rblk_al_stop(struct rblk_device *dev);
void rblk_al_free(struct rblk_device *dev);
void rblk_al_clean_work(struct work_struct *work);
int rblk_md_rw(struct block_device *bdev, u64 pos_bytes, void *buf, u32 len, blk_opf_t opf);
void rblk_al_note_received(struct rblk_device *dev, u64 sector, u32 nr_sectors);
u64 rblk_al_reconcile_marks(struct rblk_device *dev, u32 horizon_ms, u32 primary);
int rblk_unflushed_init(struct rblk_conn *conn);
void rblk_unflushed_sent(struct rblk_conn *conn, const struct rblk_leg *leg, u64 id);
void rblk_unflushed_acked(struct rblk_conn *conn, const struct rblk_leg *leg, u64 id,
			  int status);
u64 rblk_unflushed_lost(struct rblk_conn *conn);
void rblk_unflushed_free(struct rblk_conn *conn);

/* bitmap.c: write-intent bitmaps (kernel-doc there) */
int rblk_bm_load(struct rblk_device *dev);
void rblk_bm_free(struct rblk_device *dev);
int rblk_bm_write(struct rblk_device *dev, unsigned int slot);
void rblk_bm_mark(struct rblk_device *dev, int slot, u64 sector, u32 nr_sectors);
void rblk_bm_set_all(struct rblk_device *dev, unsigned int slot);
void rblk_bm_clear_all(struct rblk_device *dev, unsigned int slot);
u64 rblk_bm_oos_bytes(struct rblk_device *dev, int slot);

/* req.c */
void rblk_submit_bio(struct bio *bio);
void rblk_req_gen_work(struct work_struct *work);
void rblk_req_al_work(struct work_struct *work);
bool rblk_is_write_error(enum req_op op, blk_status_t status);
void rblk_req_complete(struct rblk_req *req, blk_status_t status);
bool rblk_req_empty_flush(const struct rblk_req *req);
void rblk_req_reflush(struct rblk_req *req);

/* fence.c (kernel-doc there) */
void rblk_fence_conn_lost(struct rblk_peer *peer, bool reconnecting);
void rblk_fence_peer_back(struct rblk_peer *peer);
void rblk_fence_clear(struct rblk_device *dev, unsigned long nodes);
void rblk_fence_work(struct work_struct *work);
void rblk_notify_fence(struct rblk_device *dev, u32 node_id, int result);

/* quorum.c (kernel-doc there) */
bool rblk_quorum_write_ok(struct rblk_req *req);
bool rblk_quorum_hold(struct rblk_req *req);
void rblk_quorum_reflush_work(struct work_struct *work);
int rblk_quorum_admit(struct rblk_device *dev, struct bio *bio);
void rblk_quorum_update(struct rblk_device *dev);
enum rblk_suspend_reason rblk_quorum_suspended(struct rblk_device *dev);
void rblk_quorum_work(struct work_struct *work);
void rblk_quorum_meets_primary(struct rblk_device *dev);
void rblk_quorum_step_down(struct rblk_device *dev);
void rblk_auto_demote(struct rblk_device *dev);
void rblk_quorum_tell_behind(struct rblk_device *dev);
u32 rblk_quorum_behind_received(struct rblk_peer *peer, u32 nodes_behind);
bool rblk_quorum_claim_seen(struct rblk_peer *peer, enum rblk_disk_state claimed);
void rblk_quorum_behind_acked(struct rblk_peer *peer, u32 nodes_behind);
void rblk_notify_quorum(struct rblk_device *dev, bool has, u32 votes, u32 needed,
			enum rblk_suspend_reason suspended);
void rblk_role_changed(struct rblk_device *dev, enum rblk_role role);
void rblk_leg_complete(struct rblk_leg *leg, int status);
void rblk_read_retry_work(struct work_struct *work);
void rblk_lost_disk_work(struct work_struct *work);
void rblk_lost_disk_held(struct rblk_peer *peer, u64 uuid);

/* Page bytes a READ leg holds at the peer that serves it. */
static inline u32 rblk_read_budget_bytes(const struct rblk_leg *leg)
{
	return round_up(leg->bytes, PAGE_SIZE);
}

/* A READ leg of @conn is answered: its budget is free again (io_work). */
static inline void rblk_read_budget_put(struct rblk_conn *conn, const struct rblk_leg *leg)
{
	atomic_sub(rblk_read_budget_bytes(leg), &conn->read_bytes_out);
	if (wq_has_sleeper(&conn->submit_wait))
		wake_up_all(&conn->submit_wait);
}

int rblk_read_reply_received(struct rblk_conn *conn);
u32 rblk_pwrite_bytes(const struct rblk_pwrite *pw);

/*
 * Receive states of a connection (transport.c, receiver.c).
 */
enum {
	RBLK_RX_HDR,		/* receiving a header */
	RBLK_RX_PAYLOAD,	/* receiving the fixed payload */
	RBLK_RX_DISPATCH,	/* packet complete, waiting for memory to act on it */
	RBLK_RX_DATA,		/* receiving DATA into pages */
	RBLK_RX_READ_DATA,	/* receiving READ_REPLY data into a read's bio */
};

/*
 * io_work never sleeps for memory: the pools it draws from are refilled by
 * completions that need io_work to send their ACKs.  When an allocation
 * fails the packet stays in RBLK_RX_DISPATCH and is retried when io_work
 * runs next (every completion queues it).
 */
#define RBLK_IO_GFP	(GFP_NOWAIT | __GFP_NOWARN)

static inline const char *rblk_peer_dev_name(struct rblk_peer *peer)
{
	return peer->dev->disk->disk_name;
}

/* transport.c: send engine, receive state machine, socket setup */
void rblk_send_queue(struct rblk_conn *conn, struct rblk_send *s);
void rblk_send_prepare(struct rblk_send *s, enum rblk_send_kind kind,
		       u8 version, u8 command, u64 id,
		       const void *payload, u32 fixed_len, u32 payload_len);
void rblk_send_release(struct rblk_conn *conn, struct rblk_send *s);
int rblk_conn_queue_ctl(struct rblk_conn *conn, u8 command, u64 id,
			const void *payload, u32 len, gfp_t gfp);
void rblk_conn_leg_slot_put(struct rblk_conn *conn);
void rblk_io_work(struct work_struct *work);
void rblk_sk_data_ready(struct sock *sk);
void rblk_sk_write_space(struct sock *sk);
void rblk_sk_state_change(struct sock *sk);
void rblk_listen_close(struct rblk_peer *peer);
int rblk_accept(struct rblk_peer *peer, struct socket **sockp);
int rblk_connect(struct rblk_peer *peer, struct socket **sockp);
int rblk_send_all(struct socket *sock, void *buf, size_t len);
int rblk_recv_all(struct socket *sock, void *buf, size_t len);

/* receiver.c: received packets */
void rblk_pwrite_free(struct rblk_pwrite *pw);
void rblk_pwrite_finish(struct rblk_pwrite *pw);
void rblk_pwrite_start(struct rblk_conn *conn, struct rblk_pwrite *pw);
int rblk_data_received(struct rblk_conn *conn);
int rblk_dispatch(struct rblk_conn *conn);

/**
 * struct rblk_sync_info - the generation UUIDs compared in a handshake
 * @valid: both sides sent RBLK_P_UUIDS (RBLK_FEAT_MD)
 * @local: ours, as sent
 * @remote: the peer's
 * @remote_flags: RBLK_UF_* as the peer sent them
 * @remote_oos_bytes: bytes the peer's bitmap holds for us
 * @decision: rblk_sync_decide()'s outcome
 * @missed_seq: peer->missed_seq when our UUIDs were taken
 * @remote_disk: the peer's disk state in its HELLO
 * @features: the negotiated RBLK_FEAT_*
 */
struct rblk_sync_info {
	bool valid;
	u64 features;
	enum rblk_disk_state remote_disk;
	int missed_seq;
	struct rblk_uuid_view local;
	struct rblk_uuid_view remote;
	u32 remote_flags;
	u64 remote_oos_bytes;
	enum rblk_sync_decision decision;
};

/* resync.c: generation UUIDs at connect, resync */
int rblk_sync_exchange(struct rblk_peer *peer, struct socket *sock, u32 version,
		       struct rblk_sync_info *si);
int rblk_sync_apply(struct rblk_peer *peer, const struct rblk_sync_info *si);
void rblk_peers_recompare(struct rblk_device *dev);
void rblk_sync_announce_new(struct rblk_device *dev);
bool rblk_sync_misses_new(struct rblk_device *dev, u32 node_id);
void rblk_rs_init(struct rblk_peer *peer);
void rblk_rs_start(struct rblk_peer *peer);
void rblk_rs_stop(struct rblk_peer *peer);
void rblk_rs_leg_done(struct rblk_leg *leg, int status);
int rblk_conn_queue_rs(struct rblk_conn *conn, struct rblk_leg *leg, struct bio *bio,
		       u64 sector, u32 bytes);
int rblk_sync_receive_uuids(struct rblk_peer *peer, const struct rblk_p_uuids *p,
			    u64 features);
void rblk_sync_primary_lost_disk(struct rblk_peer *peer);
struct rblk_peer *rblk_only_data_peer(struct rblk_device *dev, u32 *witnesses);
void rblk_sync_lost_disk_connected(struct rblk_peer *peer, struct rblk_conn *conn,
				   bool compared, bool missed);
void rblk_sync_uuids_work(struct work_struct *work);
void rblk_sync_lost_primary(struct rblk_peer *lost);
void rblk_sync_reconcile_done(struct rblk_device *dev);

/**
 * struct rblk_auth_key - a copy of the device's shared secret for one handshake
 * @len: bytes in @secret, 0 when the device has none
 * @secret: the secret; freed with kfree_sensitive()
 */
struct rblk_auth_key {
	u32 len;
	u8 secret[RBLK_AUTH_SECRET_MAX_BYTES];
};

/* auth.c: the challenge-response of the handshake */
int rblk_auth_exchange(struct rblk_peer *peer, struct socket *sock,
		       const struct rblk_auth_key *key);

/* main.c: a device by minor, its mutex held (management calls) */
struct rblk_device *rblk_device_lock(u32 minor, struct netlink_ext_ack *extack);
void rblk_device_unlock(struct rblk_device *dev);
bool rblk_any_peer_connected(struct rblk_device *dev);

/* conn.c: connection state machine (also the peer API below) */
void rblk_log_refusal(struct rblk_peer *peer, u32 reason, bool by_peer, const char *message);
void rblk_log_unauthenticated_refusal(struct rblk_peer *peer, u32 reason, const char *message);
void rblk_send_reject(struct socket *sock, u32 reason, const char *message);
void rblk_peer_set_repl_state(struct rblk_peer *peer, enum rblk_repl_state state);
void rblk_peer_set_role(struct rblk_peer *peer, enum rblk_role role);
void rblk_peer_set_claimed_disk(struct rblk_peer *peer, enum rblk_disk_state claimed);
void rblk_conn_fail(struct rblk_conn *conn, int err, const char *fmt, ...)
	__printf(3, 4);

/* conn.c */
void rblk_peer_init(struct rblk_peer *peer);
void rblk_peer_shutdown(struct rblk_peer *peer);
void rblk_peer_connect(struct rblk_peer *peer, bool discard_my_data);
void rblk_peer_disconnect(struct rblk_peer *peer);
bool rblk_peer_is_connected(struct rblk_peer *peer);

/*
 * We know @peer misses writes: of ours (dev->peers_missed_writes), or of
 * the primary we follow (dev->peers_behind).  Any context.
 */
static inline bool rblk_peer_is_behind(struct rblk_peer *peer)
{
	return test_bit(peer->cfg.node_id, &peer->dev->peers_missed_writes) ||
	       test_bit(peer->cfg.node_id, &peer->dev->peers_behind);
}

struct rblk_conn *rblk_conn_get(struct rblk_peer *peer);
struct rblk_conn *rblk_node_conn_get(struct rblk_device *dev, unsigned int node_id,
				     struct rblk_peer **peerp);
void rblk_conn_put(struct rblk_conn *conn);
int rblk_conn_queue_leg(struct rblk_conn *conn, struct rblk_leg *leg);
int rblk_peer_send_state(struct rblk_peer *peer, u8 command, u64 *id);
void rblk_peer_outdate(struct rblk_peer *peer);
void rblk_peer_missed_write(struct rblk_peer *peer, struct rblk_conn *conn, int err);
void rblk_peer_get_status(struct rblk_peer *peer, struct rblk_peer_status *ps);

#endif /* RBLK_INT_H */
