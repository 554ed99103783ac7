/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rblk - internal interfaces between the parts of rblk.ko.
 *
 *   main.c      module init/exit, device objects, gendisk, backing device
 *   req.c       the I/O path: bio splitting, local + peer submission, completion
 *   conn.c      per-peer connection state machine: connect/accept, handshake,
 *               install, teardown, reconnect, ping, request timeout
 *   transport.c the socket transport: send engine, receive state machine,
 *               io_work, socket callbacks, socket setup
 *   receiver.c  received packets: checks and execution of DATA/FLUSH/TRIM,
 *               ACKs, ROLE_REQ, STATE, OUTDATE
 *   protocol.c  pure packet encode/decode/validation and handshake negotiation
 *   state.c     pure state rules (role changes, disk/connection state)
 *   reqid.c     request ids of in-flight peer requests
 *   conflict.c  sector ranges in flight: overlapping writes wait
 *   nl.c        generic netlink family "rblk"
 *   md.c        on-disk metadata: superblock copies, bitmap area, layout
 *   bitmap.c    per-peer write-intent bitmaps (in memory, written back)
 *   uuid.c      pure generation UUID rules: what two nodes do at connect
 *   auth.c      peer authentication: HMAC answers, the handshake's exchange
 *
 * See Documentation/design.rst for objects, lifetimes, locking and contexts.
 */
#ifndef RBLK_H
#define RBLK_H

#include <linux/limits.h>
#include <linux/types.h>
#include <linux/blk_types.h>
#include <linux/socket.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/xarray.h>
#include <linux/rbtree.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <net/netlink.h>
#include <linux/rblk.h>
#include "rblk_protocol.h"

/* ------------------------------------------------------------------------
 * protocol.c: pure packet logic, no sockets, no allocation.  KUnit-tested.
 */

/**
 * struct rblk_hdr_info - a decoded, validated packet header (host order)
 */
struct rblk_hdr_info {
	u8 version;
	u8 command;
	u16 flags;
	u32 payload_len_bytes;
	u64 request_id;
};

void rblk_hdr_encode(struct rblk_hdr *hdr, u8 version, u8 command, u16 flags,
		     u32 payload_len_bytes, u64 request_id);
int rblk_hdr_decode(const struct rblk_hdr *hdr, u8 expected_version,
		    struct rblk_hdr_info *info);

/**
 * struct rblk_hello_params - one side's handshake parameters (host order)
 */
struct rblk_hello_params {
	u32 version_min;
	u32 version_max;
	u64 features;
	u32 node_id;
	u32 peer_node_id;
	u64 size_sectors;
	u32 logical_block_size_bytes;
	enum rblk_role role;
	enum rblk_disk_state disk_state;
	char cluster_name[RBLK_NAME_MAX_BYTES];
	char resource_name[RBLK_NAME_MAX_BYTES];
};

/**
 * struct rblk_hello_result - outcome of rblk_hello_negotiate()
 * @version: negotiated protocol version
 * @features: negotiated feature set (AND of both sides)
 * @reason: enum rblk_reject_reason when refused, else 0
 * @message: human-readable refusal reason, NUL-terminated
 */
struct rblk_hello_result {
	u32 version;
	u64 features;
	u32 reason;
	char message[60];
};

bool rblk_name_valid(const char *name);
void rblk_hello_encode(struct rblk_p_hello *p, const struct rblk_hello_params *params);
int rblk_hello_decode(const struct rblk_p_hello *p, struct rblk_hello_params *params);
int rblk_hello_negotiate(const struct rblk_hello_params *local,
			 const struct rblk_hello_params *remote,
			 struct rblk_hello_result *result);
int rblk_hello_auth_check(bool have_secret, const struct rblk_hello_params *remote,
			  struct rblk_hello_result *result);
void rblk_auth_input_build(struct rblk_auth_input *in, const u8 *challenge,
			   u32 responder_node_id, u32 verifier_node_id,
			   const char *cluster_name, const char *resource_name);

/*
 * auth.c: HMAC-SHA256 answers with the kernel crypto API (KUnit:
 * auth_test.c).
 */
struct crypto_shash;
struct crypto_shash *rblk_auth_tfm_alloc(const u8 *secret, u32 secret_len);
int rblk_auth_answer(struct crypto_shash *tfm, const struct rblk_auth_input *in,
		     u8 *response);
int rblk_auth_verify(struct crypto_shash *tfm, const struct rblk_auth_input *in,
		     const u8 *response);

/*
 * Payload helpers (protocol.c).  Encoders write every byte including
 * padding; decoders validate every field, fill their output only on
 * success and return 0 or a negative errno (kernel-doc in protocol.c).
 */
const char *rblk_packet_cmd_name(u8 command);
const char *rblk_reject_reason_name(u32 reason);
void rblk_reject_encode(struct rblk_p_reject *p, u32 reason, const char *message);
int rblk_reject_decode(const struct rblk_p_reject *p, u32 *reason, char *message);

/**
 * struct rblk_data_info - a decoded DATA payload header (host order)
 * @sector: first 512-byte sector
 * @nr_sectors: 512-byte sectors of data that follow
 * @data_bytes: bytes of data that follow (nr_sectors * 512)
 * @dp_flags: RBLK_DP_*
 * @data_digest: the sender's data digest (RBLK_FEAT_DATA_DIGEST), else 0
 */
struct rblk_data_info {
	u64 sector;
	u32 nr_sectors;
	u32 data_bytes;
	u32 dp_flags;
	u32 data_digest;
};

/**
 * struct rblk_trim_info - a decoded TRIM payload (host order)
 * @sector: first 512-byte sector
 * @nr_sectors: 512-byte sectors, non-zero
 * @trim_flags: RBLK_TRIM_*
 */
struct rblk_trim_info {
	u64 sector;
	u32 nr_sectors;
	u32 trim_flags;
};

u32 rblk_dp_flags_from_opf(blk_opf_t opf);
blk_opf_t rblk_opf_from_dp_flags(u32 dp_flags);
void rblk_data_encode(struct rblk_p_data *p, u64 sector, u32 dp_flags, u32 data_digest);
int rblk_data_decode(const struct rblk_p_data *p, u32 payload_len_bytes,
		     u64 size_sectors, u32 logical_block_size_bytes, bool digest,
		     struct rblk_data_info *info);
u32 rblk_data_digest(struct bio *bio, struct bvec_iter iter);
int rblk_data_digest_check(const struct rblk_data_info *info, struct bio *bio, u32 *computed);
void rblk_trim_encode(struct rblk_p_trim *p, u64 sector, u32 nr_sectors, u32 trim_flags);
int rblk_trim_decode(const struct rblk_p_trim *p, u64 size_sectors,
		     u32 logical_block_size_bytes, struct rblk_trim_info *info);
void rblk_read_encode(struct rblk_p_read *p, u64 sector, u32 nr_sectors);
int rblk_read_decode(const struct rblk_p_read *p, u64 size_sectors,
		     u32 logical_block_size_bytes, struct rblk_trim_info *info);
void rblk_read_reply_encode(struct rblk_p_read_reply *p, int status, u32 data_digest);
int rblk_read_reply_decode(const struct rblk_p_read_reply *p, u32 payload_len_bytes,
			   u32 expected_bytes, bool digest, int *status, u32 *data_digest);
void rblk_ack_encode(struct rblk_p_ack *p, int status);
int rblk_ack_decode(const struct rblk_p_ack *p, int *status);
void rblk_state_encode(struct rblk_p_state *p, enum rblk_role role,
		       enum rblk_disk_state disk_state);
int rblk_state_decode(const struct rblk_p_state *p, enum rblk_role *role,
		      enum rblk_disk_state *disk_state);

/* ------------------------------------------------------------------------
 * state.c: pure state rules.  KUnit-tested.  Any context; kernel-doc with
 * the errnos in state.c.
 */
int rblk_role_change_check(enum rblk_role cur, enum rblk_role want, bool force,
			   enum rblk_disk_state disk, unsigned int open_count,
			   bool any_peer_primary, const char **why);
enum rblk_disk_state rblk_wire_disk_state(enum rblk_disk_state state);

/**
 * struct rblk_ko_timer - request timeout of one connection
 * @armed: a request was waiting at the last check
 * @oldest_id: the oldest waiting request then
 * @since_jiffies: when it was first seen as the oldest
 */
struct rblk_ko_timer {
	bool armed;
	u64 oldest_id;
	unsigned long since_jiffies;
};

bool rblk_ko_expired(struct rblk_ko_timer *t, u64 oldest_id, unsigned long now,
		     unsigned long timeout_jiffies);
const char *rblk_role_name(enum rblk_role role);
const char *rblk_disk_state_name(enum rblk_disk_state state);
const char *rblk_conn_state_name(enum rblk_conn_state state);
/* No peer: struct rblk_device.primary_peer when none is our primary. */
#define RBLK_NO_PEER		U32_MAX

/**
 * struct rblk_role_req_view - what decides a peer's ROLE_REQ
 * @local_role: this node's role
 * @promoting: this node is asking its own peers for promotion
 * @primary_peer: node id of the peer we accept writes from, or RBLK_NO_PEER
 * @requester: node id of the asking peer
 * @requester_missed_writes: we recorded that the requester missed writes
 */
struct rblk_role_req_view {
	enum rblk_role local_role;
	bool promoting;
	u32 primary_peer;
	u32 requester;
	bool requester_missed_writes;
};

int rblk_peer_role_req_check(const struct rblk_role_req_view *req, const char **why);
bool rblk_peer_may_write(enum rblk_role local_role, u32 primary_peer, u32 sender,
			 enum rblk_role sender_role);
enum rblk_disk_state rblk_peer_disk_claimed(bool missed_writes,
					    enum rblk_disk_state claimed);
enum rblk_disk_state rblk_peer_disk_after_disconnect(enum rblk_role local_role,
						     enum rblk_disk_state peer_disk);
enum rblk_disk_state rblk_local_disk_after_disconnect(enum rblk_role local_role,
						      enum rblk_role peer_role,
						      enum rblk_disk_state disk);

/* ------------------------------------------------------------------------
 * reqid.c: request ids of in-flight peer requests.  KUnit-tested.
 *
 * Ids are 1..U32_MAX, handed out cyclically so that a late or forged ack
 * for a completed request is unlikely to hit a new one.  Every function
 * may be called in any context, including hard interrupt context, as long
 * as rblk_reqid_alloc() is given a non-blocking @gfp there; the table's
 * own lock is an irq-safe spinlock, so no caller lock is needed.
 */
struct rblk_reqid_table {
	struct xarray xa;
	u32 next;
};

void rblk_reqid_init(struct rblk_reqid_table *t);
int rblk_reqid_alloc(struct rblk_reqid_table *t, void *req, u64 *id, gfp_t gfp);
void *rblk_reqid_take(struct rblk_reqid_table *t, u64 id);
void *rblk_reqid_lookup(struct rblk_reqid_table *t, u64 id);
u64 rblk_reqid_oldest(struct rblk_reqid_table *t);
void *rblk_reqid_take_any(struct rblk_reqid_table *t, u64 *id);
void rblk_reqid_destroy(struct rblk_reqid_table *t);

/* ------------------------------------------------------------------------
 * conflict.c: sector ranges in flight, so that overlapping writes never
 * are.  KUnit-tested.
 */

/**
 * struct rblk_interval - one range in a struct rblk_conflicts
 * @rb: node in the tree
 * @start_sector: first 512-byte sector
 * @last_sector: last 512-byte sector (inclusive)
 * @subtree_last_sector: maintained by the interval tree
 * @inserted: in the tree now
 */
struct rblk_interval {
	struct rb_node rb;
	u64 start_sector;
	u64 last_sector;
	u64 subtree_last_sector;
	bool inserted;
};

/**
 * struct rblk_conflicts - the ranges in flight on one device
 * @lock: protects @root (irq-safe)
 * @root: interval tree of struct rblk_interval
 * @wait: requests waiting for an overlapping one to leave
 */
struct rblk_conflicts {
	spinlock_t lock;		/* protects root */
	struct rb_root_cached root;
	wait_queue_head_t wait;
};

void rblk_conflicts_init(struct rblk_conflicts *c);
void rblk_interval_set(struct rblk_interval *iv, u64 sector, u32 nr_sectors);
int rblk_interval_insert(struct rblk_conflicts *c, struct rblk_interval *iv, bool nowait);
void rblk_interval_remove(struct rblk_conflicts *c, struct rblk_interval *iv);
bool rblk_conflicts_overlap(struct rblk_conflicts *c, u64 sector, u32 nr_sectors);
bool rblk_conflicts_empty(struct rblk_conflicts *c);

/* ------------------------------------------------------------------------
 * md.c: on-disk metadata (format: rblk_md.h).  The pure functions are
 * KUnit-tested (md_test.c); kernel-doc in md.c.
 */

/**
 * struct rblk_md_layout - where the metadata and the data are
 * @data_sectors: replicated data, 512-byte sectors from offset 0
 * @md_offset_sectors: start of the metadata area on its device
 * @md_size_sectors: size of the metadata area
 * @max_peers: bitmap slots
 * @al_offset_bytes: activity log, from the start of the area
 * @al_bytes: its size
 * @bm_offset_bytes: first bitmap slot, from the start of the area
 * @bm_slot_bytes: size of one slot's bitmap
 */
struct rblk_md_layout {
	u64 data_sectors;
	u64 md_offset_sectors;
	u64 md_size_sectors;
	u32 max_peers;
	u32 al_offset_bytes;
	u32 al_bytes;
	u32 bm_offset_bytes;
	u32 bm_slot_bytes;
};

/**
 * struct rblk_md_info - a decoded superblock (host order)
 * @flags: RBLK_MDF_*
 * @seq: write sequence number
 * @layout: the layout
 * @node_id: owner node id
 * @current_uuid: current generation, 0 when just created
 * @history: earlier generations, newest first
 * @slots: bitmap slots (node_id RBLK_MD_NO_NODE when free)
 */
struct rblk_md_info {
	u32 flags;
	u64 seq;
	struct rblk_md_layout layout;
	u32 node_id;
	u64 current_uuid;
	u64 history[RBLK_MD_HISTORY_UUIDS];
	struct {
		u32 node_id;
		u32 flags;
		u64 bitmap_uuid;
	} slots[RBLK_MAX_NODE_ID + 1];
};

#define RBLK_MDF_ALL	(RBLK_MDF_CONSISTENT | RBLK_MDF_OUTDATED | RBLK_MDF_PRIMARY | \
			 RBLK_MDF_SYNC_TARGET | RBLK_MDF_ATTACHED)

struct rblk_md_sb;
int rblk_md_layout(u64 dev_bytes, u64 meta_dev_bytes, u32 max_peers,
		   struct rblk_md_layout *l);
void rblk_md_sb_encode(struct rblk_md_sb *sb, const struct rblk_md_info *md);
int rblk_md_sb_decode(const struct rblk_md_sb *sb, u32 crc, struct rblk_md_info *md);
int rblk_md_pick_copy(int err0, u64 seq0, int err1, u64 seq1);
void rblk_md_push_history(struct rblk_md_info *md, u64 uuid);
u64 rblk_md_new_uuid(void);

/* ------------------------------------------------------------------------
 * uuid.c: data generation UUIDs, pure.  KUnit-tested (uuid_test.c).  Any
 * context; kernel-doc in uuid.c; rules in Documentation/design.rst.
 */

/**
 * struct rblk_uuid_view - one node's generation UUIDs, as seen at connect
 * @current_uuid: current data generation; 0 for just-created metadata
 * @bitmap_uuid: the generation this node's bitmap for the other node
 *	counts from (its current UUID when it started to write without that
 *	node), 0 when it tracks nothing for it
 * @history: earlier current UUIDs, newest first, 0 for empty slots
 * @consistent: the data is consistent (not Inconsistent)
 * @crashed_primary: the node was primary and was not demoted cleanly
 *	before it last went down (its activity log regions may differ)
 * @primary: the node is primary now
 * @discard_my_data: the operator asked this node to lose a split-brain
 * @up_to_date: its disk is UpToDate (not only consistent); not used by
 *	the decision, carried for the end of a resync
 * @node_id: its node id (breaks ties deterministically)
 * @nodes_behind: bit per node id whose data lacks writes of this node's
 *	(RBLK_UF_NEW_CURRENT only; not used by the decision)
 * @reconcile: the node lost its primary while receiving its writes; its
 *	bitmap for the other node marks the regions they may differ in
 * @follows_primary: the node is secondary and takes writes from a
 *	connected primary other than the node it compares with (it may not
 *	be a sync source; not used by the decision)
 */
struct rblk_uuid_view {
	u64 current_uuid;
	u64 bitmap_uuid;
	u64 history[RBLK_MD_HISTORY_UUIDS];
	bool consistent;
	bool crashed_primary;
	bool primary;
	bool discard_my_data;
	bool up_to_date;
	u32 node_id;
	u32 nodes_behind;
	bool reconcile;
	bool follows_primary;
};

enum rblk_sync_decision rblk_sync_decide(const struct rblk_uuid_view *self,
					 const struct rblk_uuid_view *peer,
					 const char **why);
int rblk_sync_allowed(enum rblk_sync_decision decision, bool self_primary,
		      const char **why);
const char *rblk_sync_decision_name(enum rblk_sync_decision decision);
void rblk_uuids_encode(struct rblk_p_uuids *p, const struct rblk_uuid_view *v,
		       u32 uuid_flags, u64 oos_bytes);
int rblk_uuids_decode(const struct rblk_p_uuids *p, u32 node_id, struct rblk_uuid_view *v,
		      u32 *uuid_flags, u64 *oos_bytes);
bool rblk_sync_is_source(enum rblk_sync_decision decision);
bool rblk_sync_is_target(enum rblk_sync_decision decision);

/* resync.c: the rate controller's pure rules (KUnit: resync_test.c) */
#define RBLK_RS_WINDOW_MAX	32	/* resync requests in flight, 128 KiB each */
#define RBLK_RS_WINDOW_START	4
u32 rblk_rs_next_window(u32 window, u64 latency_us, u64 target_us, bool limited);
u64 rblk_rs_refill(u64 credit_bytes, u32 rate_kib_per_s, u32 elapsed_ms, u32 request_bytes);
u32 rblk_rs_credit_wait_ms(u64 credit_bytes, u32 need_bytes, u32 rate_kib_per_s);

/* ------------------------------------------------------------------------
 * main.c / conn.c: the management interface used by nl.c.  All may sleep;
 * all take and release the locks they need; none is called with any rblk
 * lock held.  On error they set an extack message and return a negative errno.
 */

struct rblk_device_config {
	u32 minor;
	u32 node_id;
	char resource_name[RBLK_NAME_MAX_BYTES];
	char cluster_name[RBLK_NAME_MAX_BYTES];
};

struct rblk_peer_config {
	u32 node_id;
	struct sockaddr_storage peer_addr;	/* sockaddr_in or sockaddr_in6, port set */
	struct sockaddr_storage local_addr;	/* same family, port set */
	u32 ping_interval_ms;
	u32 ping_timeout_ms;
	u32 connect_timeout_ms;
	u32 reconnect_min_ms;
	u32 reconnect_max_ms;
	u32 request_timeout_ms;	/* see RBLK_REQUEST_TIMEOUT_MS_DEFAULT */
	u32 ko_count;		/* request timeouts in a row before disconnecting */
	u32 resync_rate_kib_per_s;	/* fixed resync rate; 0: dynamic */
	u32 resync_latency_ms;		/* dynamic controller's target (0: default) */
	bool witness;			/* no disk in this resource: votes only */
};

int rblk_device_create(const struct rblk_device_config *cfg, struct netlink_ext_ack *extack);
int rblk_device_delete(u32 minor, struct netlink_ext_ack *extack);
int rblk_device_attach(u32 minor, const char *path, const char *meta_path,
		       enum rblk_on_io_error on_io_error,
		       struct netlink_ext_ack *extack);
int rblk_md_create(const char *path, const char *meta_path, u32 node_id, u32 max_peers,
		   bool force, struct netlink_ext_ack *extack);
int rblk_md_dump_path(const char *path, const char *meta_path, struct rblk_md_info *md,
		      u32 *valid, struct netlink_ext_ack *extack);
int rblk_device_md_dump(u32 minor, struct rblk_md_info *md, u64 *oos_bytes,
			struct netlink_ext_ack *extack);
int rblk_device_new_current_uuid(u32 minor, bool clear_bitmap,
				 struct netlink_ext_ack *extack);
int rblk_device_detach(u32 minor, struct netlink_ext_ack *extack);
int rblk_peer_add(u32 minor, const struct rblk_peer_config *cfg, struct netlink_ext_ack *extack);
int rblk_peer_remove(u32 minor, u32 peer_node_id, struct netlink_ext_ack *extack);
/* peer_node_id < 0: every peer of the device */
int rblk_device_connect(u32 minor, s32 peer_node_id, bool discard_my_data,
			struct netlink_ext_ack *extack);
int rblk_device_disconnect(u32 minor, s32 peer_node_id, struct netlink_ext_ack *extack);
int rblk_device_set_role(u32 minor, enum rblk_role role, bool force,
			 bool ignore_quorum, struct netlink_ext_ack *extack);
int rblk_device_resume_io(u32 minor, struct netlink_ext_ack *extack);

#define RBLK_QUORUM_KEEP	(U32_MAX - 1)	/* rblk_device_set_options(): unchanged */

/**
 * struct rblk_device_options - RBLK_CMD_DEVICE_OPTIONS
 * @quorum: RBLK_QUORUM_OFF, RBLK_QUORUM_MAJORITY, 1..RBLK_MAX_PEERS, or
 *	RBLK_QUORUM_KEEP
 * @on_no_quorum: enum rblk_on_no_quorum, or -1 to keep it
 * @auto_promote: 0 or 1, or -1 to keep it
 * @fencing: enum rblk_fencing, or -1 to keep it
 * @fence_handler: absolute path, "" for none, or NULL to keep it
 * @auth_secret: the shared secret (@auth_secret_len bytes), or NULL to keep it
 * @auth_secret_len: 0 (no secret) or RBLK_AUTH_SECRET_MIN_BYTES..
 *	RBLK_AUTH_SECRET_MAX_BYTES
 * @data_digest: enum rblk_data_digest, or -1 to keep it
 * @read_balancing: enum rblk_read_balancing, or -1 to keep it
 */
struct rblk_device_options {
	u32 quorum;
	int on_no_quorum;
	int auto_promote;
	int fencing;
	const char *fence_handler;
	const u8 *auth_secret;
	u32 auth_secret_len;
	int data_digest;
	int read_balancing;
};

int rblk_device_set_options(u32 minor, const struct rblk_device_options *opts,
			    struct netlink_ext_ack *extack);

/* quorum.c: pure rules (KUnit: quorum_test.c) */
u32 rblk_quorum_needed(u32 policy, u32 voters);
bool rblk_quorum_policy_valid(u32 policy);

struct rblk_peer_status {
	u32 node_id;
	struct sockaddr_storage peer_addr;
	struct sockaddr_storage local_addr;
	enum rblk_conn_state conn_state;
	enum rblk_role peer_role;
	enum rblk_disk_state peer_disk_state;
	u64 writes, write_bytes, flushes, discards, inflight, acks, rtt_us, tcp_rtt_us;
	u64 reconnects, received_writes, received_bytes, errors;
	u64 reads, read_bytes, served_reads;
	char last_error[64];
	enum rblk_repl_state repl_state;
	enum rblk_sync_decision sync_decision;
	bool split_brain;
	bool has_slot;
	u64 bitmap_uuid;
	u64 out_of_sync_bytes;
	u64 resync_total_bytes, resync_done_bytes, resync_rate_bytes_per_s;
	u32 resync_rate_kib_per_s, resync_latency_ms, resync_window;
	bool witness;
	u64 resync_latency_us;
};

struct rblk_device_status {
	u32 minor;
	u32 node_id;
	char resource_name[RBLK_NAME_MAX_BYTES];
	char cluster_name[RBLK_NAME_MAX_BYTES];
	char backing_path[RBLK_PATH_MAX_BYTES];	/* "" when diskless */
	enum rblk_role role;
	enum rblk_disk_state disk_state;
	u64 size_sectors;
	u32 logical_block_size_bytes;
	u32 open_count;
	u32 quorum;
	enum rblk_on_no_quorum on_no_quorum;
	bool has_quorum;
	u32 quorum_votes, quorum_needed, quorum_voters;
	enum rblk_suspend_reason suspended;
	u32 suspended_writes;
	bool auto_promote, auto_promoted;
	bool auth;
	enum rblk_data_digest data_digest;
	enum rblk_read_balancing read_balancing;
	enum rblk_fencing fencing;
	char fence_handler[RBLK_PATH_MAX_BYTES];
	u32 fence_pending;
	bool has_md;
	u32 md_flags;
	u64 md_writes;
	u64 current_uuid;
	u64 reads, writes, read_bytes, write_bytes, flushes, discards, inflight, errors;
	u32 nr_peers;
	struct rblk_peer_status peers[RBLK_MAX_PEERS];
};

/*
 * Fill @st for the device with minor @minor.  Returns 0 or -ENODEV.
 * The struct is large (~5 KiB): allocate it, do not put it on the stack.
 */
int rblk_device_get_status(u32 minor, struct rblk_device_status *st);
/*
 * Smallest configured minor >= @start in *@minor.  Returns 0 or -ENODEV
 * when there is none.  For status dumps.
 */
int rblk_device_next_minor(u32 start, u32 *minor);

/* ------------------------------------------------------------------------
 * nl.c
 */
int rblk_nl_init(void);
void rblk_nl_exit(void);

/**
 * struct rblk_event_info - one state change, for the "events" group
 * @event: enum rblk_event
 * @minor: device
 * @peer_node_id: peer, or -1 for device events
 * @value: new role / disk state / conn state for the *_CHANGED events
 * @message: optional reason (RBLK_A_LAST_ERROR), or NULL
 * @has_quorum: RBLK_EVENT_QUORUM_CHANGED: the partition has quorum
 * @quorum_votes: RBLK_EVENT_QUORUM_CHANGED: votes present
 * @quorum_needed: RBLK_EVENT_QUORUM_CHANGED: votes needed
 * @suspended: RBLK_EVENT_QUORUM_CHANGED, RBLK_EVENT_FENCE_PEER: enum
 *	rblk_suspend_reason
 * @fence_pending: RBLK_EVENT_FENCE_PEER: bit per node id still fenced
 * @fence_result: RBLK_EVENT_FENCE_PEER: the handler's result, or
 *	RBLK_FENCE_RUNNING when it starts
 */
struct rblk_event_info {
	enum rblk_event event;
	u32 minor;
	s32 peer_node_id;
	u32 value;
	const char *message;
	bool has_quorum;
	u32 quorum_votes;
	u32 quorum_needed;
	u8 suspended;
	u32 fence_pending;
	int fence_result;
};

#define RBLK_FENCE_RUNNING	INT_MIN	/* struct rblk_event_info.fence_result */

/*
 * Multicast one event.  Any context (allocates with GFP_ATOMIC, takes no
 * rblk lock); dropped silently if nobody listens or memory is short.
 */
void rblk_nl_notify(const struct rblk_event_info *ev);

#endif /* RBLK_H */
