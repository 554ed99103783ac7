/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rblkadm - administration tool for rblk, the replicated block device.
 *
 * Shared declarations of the tool's parts:
 *   config.c  topology file (YAML) parsing and validation
 *   plan.c    converge plan: kernel state + topology -> list of requests
 *   nl.c      generic netlink transport (libnl-genl-3)
 *   output.c  one print API for human tables and JSON (json-c)
 *   show.c    status / event / metadata printing on top of output.c
 *   health.c  the health judgement (status --health, metrics, doctor), doctor's advice
 *   metrics.c Prometheus text exposition of the status
 *   probe.c   libblkid signature probe before create-md
 *   main.c    subcommands
 */
#ifndef RBLKADM_H
#define RBLKADM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/rblk.h>

/* Exit codes, documented in rblkadm.8. */
enum {
	EXIT_OK = 0,
	EXIT_KERNEL = 1,	/* the kernel rejected a request */
	EXIT_USAGE = 2,		/* bad command line or topology file */
	EXIT_NOMODULE = 3,	/* rblk module not loaded (family not found) */
	EXIT_SYSTEM = 4,	/* netlink socket error, malformed reply, out of memory */
	EXIT_CONFLICT = 5,	/* kernel state conflicts with the file; nothing sent */
	EXIT_DEGRADED = 6,	/* status --health, doctor: degraded, the data available */
	EXIT_CRITICAL = 7,	/* status --health, doctor: the data not safely available */
};

#define ERRBUF_BYTES	1024	/* the assume-clean message alone is 270 bytes */
#define NODE_NAME_MAX_BYTES 64	/* host name incl. NUL */

/* ---------------------------------------------------------------- config.c */

enum conf_opt {
	OPT_PING_INTERVAL,
	OPT_PING_TIMEOUT,
	OPT_CONNECT_TIMEOUT,
	OPT_RECONNECT_MIN,
	OPT_RECONNECT_MAX,
	OPT_REQUEST_TIMEOUT,
	OPT_KO_COUNT,		/* a count, not milliseconds */
	OPT_RESYNC_RATE,	/* KiB/s, 0 = dynamic */
	OPT_RESYNC_LATENCY,
	OPT_COUNT,
};

/*
 * Position in the topology, 1-based; line 0 means "not from a file".
 * @file: NULL in the main file, else one of struct conf's included files.
 */
struct conf_loc {
	unsigned int line;
	unsigned int col;
	const char *file;
};

/* Peer options (units in conf_opt[]); set[i] says whether v[i] was given. */
struct conf_options {
	uint32_t v[OPT_COUNT];
	bool set[OPT_COUNT];
	struct conf_loc loc[OPT_COUNT];
};

/* An IPv4 or IPv6 address with port (host order). */
struct conf_addr {
	int family;		/* AF_INET or AF_INET6, 0 when unset */
	uint8_t ip[16];		/* network order; 4 bytes used for AF_INET */
	uint16_t port;
};

/* address-for: this node's address toward one particular peer. */
struct conf_addr_for {
	char peer[NODE_NAME_MAX_BYTES];
	struct conf_addr addr;
	struct conf_loc loc_key, loc;
};

struct conf_node {
	char name[NODE_NAME_MAX_BYTES];
	uint32_t node_id;
	struct conf_addr addr;
	unsigned int n_addr_for;
	struct conf_addr_for addr_for[RBLK_MAX_NODE_ID + 1];
	char disk[RBLK_PATH_MAX_BYTES];	/* "" = diskless */
	char meta_disk[RBLK_PATH_MAX_BYTES];	/* "" = internal, else the external device */
	bool has_on_io_error;		/* on-io-error given for this node */
	uint8_t on_io_error;		/* enum rblk_on_io_error */
	struct conf_options options;
	struct conf_loc loc, loc_name, loc_node_id, loc_address, loc_disk, loc_meta_disk;
};

/* Quorum policy as the file gives it, in the top-level or a resource's options. */
struct conf_quorum {
	bool has_quorum;		/* quorum given */
	bool has_on_no_quorum;		/* on-no-quorum given */
	uint32_t quorum;		/* RBLK_QUORUM_OFF, RBLK_QUORUM_MAJORITY or votes */
	uint8_t on_no_quorum;		/* enum rblk_on_no_quorum */
	struct conf_loc loc_quorum;
};

/*
 * How a device becomes primary and what a primary does when it loses a
 * peer, as the file gives it in the top-level or a resource's options.
 */
struct conf_primary {
	bool has_auto_promote;		/* auto-promote given */
	bool has_fencing;		/* fencing given */
	bool has_fence_handler;		/* fence-handler given */
	bool auto_promote;
	uint8_t fencing;		/* enum rblk_fencing */
	char fence_handler[RBLK_PATH_MAX_BYTES];	/* absolute path */
	struct conf_loc loc_fencing;
};

struct conf_resource {
	char name[RBLK_NAME_MAX_BYTES];
	uint32_t minor;
	bool has_on_io_error;		/* on-io-error given for the resource */
	uint8_t on_io_error;		/* enum rblk_on_io_error */
	struct conf_quorum quorum;	/* overrides the top level's */
	struct conf_primary primary;	/* overrides the top level's */
	struct conf_options options;
	unsigned int n_nodes;
	struct conf_node nodes[RBLK_MAX_NODE_ID + 1];
	struct conf_loc loc, loc_name, loc_minor;
	bool has_data_digest;		/* data-digest given for the resource */
	uint8_t data_digest;		/* enum rblk_data_digest */
	bool has_read_balancing;	/* read-balancing given for the resource */
	uint8_t read_balancing;		/* enum rblk_read_balancing */
	/* secret-file: "" = none; the secret itself only once conf_load_secret() ran */
	char secret_file[RBLK_PATH_MAX_BYTES];
	uint32_t secret_len;		/* 0: not loaded (or none) */
	uint8_t secret[RBLK_AUTH_SECRET_MAX_BYTES];
};

struct conf {
	char file[4096];
	char cluster[RBLK_NAME_MAX_BYTES];	/* "" = none */
	struct conf_quorum quorum;	/* for every resource */
	struct conf_primary primary;	/* for every resource */
	struct conf_options options;
	unsigned int n_res;
	struct conf_resource *res;
	/* the files include: named, in the order read (struct conf_loc.file) */
	unsigned int n_included;
	char **included;
};

/*
 * The base port of resource minor M when its addresses give none:
 * CONF_PORT_AUTO_BASE + M * (RBLK_MAX_NODE_ID + 1) (rblk.conf(5), PORTS),
 * for minors up to CONF_PORT_AUTO_MAX_MINOR: the ranges stay below Linux's
 * ephemeral ports (32768..60999 by default), which a listener could find
 * taken by an outgoing connection.
 */
#define CONF_PORT_AUTO_BASE	7788u
#define CONF_PORT_AUTO_END	32768u	/* first port not used */
#define CONF_PORT_AUTO_MAX_MINOR \
	((CONF_PORT_AUTO_END - CONF_PORT_AUTO_BASE) / (RBLK_MAX_NODE_ID + 1) - 1)

/* The file of @l: @c's main file or an included one. */
static inline const char *conf_loc_file(const struct conf *c, struct conf_loc l)
{
	return l.file ? l.file : c->file;
}

/* One option: its key in the file, its PEER_ADD attribute, range and default. */
struct conf_opt_def {
	const char *key;	/* "ping-interval-ms" */
	int attr;		/* RBLK_A_PING_INTERVAL_MS */
	uint32_t min, max, def;
	const char *unit;	/* in errors: "milliseconds", "a count", "KiB/s" */
};

extern const struct conf_opt_def conf_opt[OPT_COUNT];

int conf_parse_string(const char *file, const char *text, size_t len,
		      struct conf *c, char *err, size_t errlen);
int conf_load(const char *path, struct conf *c, char *err, size_t errlen);
/* Wipes the secrets (explicit_bzero) and frees the resources. */
void conf_free(struct conf *c);
/*
 * The shared secret in @path: a regular file without any permission for
 * group or others, of RBLK_AUTH_SECRET_MIN_BYTES..RBLK_AUTH_SECRET_MAX_BYTES
 * bytes once one trailing newline ("\n" or "\r\n") is dropped, into
 * @out (RBLK_AUTH_SECRET_MAX_BYTES bytes).  Returns the length, or -1
 * with the reason in @err (nothing of the secret in it).
 */
int conf_read_secret(const char *path, uint8_t *out, char *err, size_t errlen);
/* conf_read_secret() of @r's secret-file (if any) into @r: 0 or -1. */
int conf_load_secret(struct conf_resource *r, char *err, size_t errlen);
const struct conf_resource *conf_find_resource(const struct conf *c, const char *name);
const struct conf_node *conf_find_node(const struct conf_resource *r, const char *name);
const struct conf_node *conf_find_node_id(const struct conf_resource *r, uint32_t id);
void conf_effective_options(const struct conf *c, const struct conf_resource *r,
			    const struct conf_node *local, uint32_t out[OPT_COUNT]);
/* on-io-error of @n's disk as the file gives it (node, else resource), or -1. */
int conf_on_io_error(const struct conf_resource *r, const struct conf_node *n);
/* "detach", "pass-on" (the file's and the command line's words) to the enum, or -1. */
int parse_on_io_error(const char *s);
/* "suspend-io", "io-error" (the file's and the command line's words) to the enum, or -1. */
int parse_on_no_quorum(const char *s);
/* "off", "majority" to RBLK_QUORUM_OFF / RBLK_QUORUM_MAJORITY in *@v: 0, or -1. */
int parse_quorum_word(const char *s, uint32_t *v);
/*
 * The quorum policy of @r: its own quorum and on-no-quorum, else the top
 * level's, else the defaults (off, suspend-io).
 */
void conf_effective_quorum(const struct conf *c, const struct conf_resource *r,
			   uint32_t *quorum, uint8_t *on_no_quorum);
/* The value 0..@count-1 whose @name() is @s ("pass-on" of on_io_error_name()), or -1. */
int parse_word(const char *s, const char *(*name)(unsigned int), unsigned int count);
/*
 * The words of @name() for 0..@count-1 in @buf, separated by ", " and
 * before the last by @last_sep: "off, resource-only or resource-and-stonith".
 */
const char *format_words(const char *(*name)(unsigned int), unsigned int count,
			 const char *last_sep, char *buf, size_t len);
/*
 * The auto-promote and fencing policy of @r, each its own, else the top
 * level's, else the default (no, off, "" = no handler); *@fence_handler
 * points into @c.
 */
void conf_effective_primary(const struct conf *c, const struct conf_resource *r,
			    bool *auto_promote, uint8_t *fencing, const char **fence_handler);
/* MAX_PEERS for create-md: the other nodes of @r, at least 1. */
uint32_t conf_max_peers(const struct conf_resource *r);
void conf_endpoint(const struct conf_node *n, const struct conf_node *peer,
		   struct conf_addr *out);
int parse_addr(const char *s, bool need_port, struct conf_addr *a);
void format_addr(const struct conf_addr *a, char *buf, size_t len);	/* ip[:port] */
void format_ip(const struct conf_addr *a, char *buf, size_t len);	/* ip only */
bool addr_equal(const struct conf_addr *a, const struct conf_addr *b);
bool addr_unicast(const struct conf_addr *a);

/* ------------------------------------------------------------- kernel state */

struct kpeer {
	uint32_t node_id;
	struct conf_addr peer, local;	/* family 0 when not reported */
	uint8_t conn_state, peer_role, peer_disk_state;
	/* metadata and resync: has_* say what the kernel reported */
	bool has_repl_state, has_sync_decision, has_bitmap_uuid, has_out_of_sync;
	bool has_resync_total, has_resync_done, has_resync_rate;
	bool has_tcp_rtt;	/* the kernel sent RBLK_A_TCP_RTT_US */
	bool has_resync_window, has_resync_latency;
	bool split_brain;		/* RBLK_A_SPLIT_BRAIN flag present */
	bool witness;			/* RBLK_A_PEER_WITNESS flag present */
	uint8_t repl_state, sync_decision;
	uint64_t bitmap_uuid, out_of_sync_bytes;
	uint64_t resync_total_bytes, resync_done_bytes, resync_rate_bytes_per_s;
	uint64_t resync_window, resync_latency_us;
	struct conf_options options;	/* set[] only where the kernel reported it */
	uint64_t writes, write_bytes, flushes, discards, inflight, acks, rtt_us, tcp_rtt_us;
	uint64_t reconnects, received_writes, received_bytes, errors;
	/* reads sent to the peer and served by it, their bytes; reads served for it */
	uint64_t reads, read_bytes, served_reads;
	char last_error[256];
};

/*
 * Quorum state, as STATUS and RBLK_EVENT_QUORUM_CHANGED report it; has_*
 * say what the kernel sent.
 */
struct kquorum {
	bool has_state, has_votes, has_needed, has_suspended;
	bool quorate;			/* RBLK_A_HAS_QUORUM: this node's partition has quorum */
	uint32_t votes, needed;		/* RBLK_A_QUORUM_VOTES, RBLK_A_QUORUM_NEEDED */
	uint8_t suspended;		/* enum rblk_suspend_reason */
};

/* Fence-peer state, as STATUS and RBLK_EVENT_FENCE_PEER report it. */
struct kfence {
	bool has_pending, has_result;
	uint32_t pending;		/* RBLK_A_FENCE_PENDING: bit per node id */
	int32_t result;			/* RBLK_A_FENCE_RESULT (FENCE_PEER only) */
};

struct kdev {
	uint32_t minor, node_id;
	char name[RBLK_NAME_MAX_BYTES];
	char cluster[RBLK_NAME_MAX_BYTES];
	char backing[RBLK_PATH_MAX_BYTES];
	uint8_t role, disk_state;
	uint64_t size_sectors;
	uint32_t logical_block_size_bytes, open_count;
	bool has_current_uuid, has_md_flags;
	uint64_t current_uuid;
	uint32_t md_flags;		/* RBLK_MDF_* */
	uint64_t reads, writes, read_bytes, write_bytes, flushes, discards, inflight, errors;
	uint64_t md_writes;	/* superblock, activity log, bitmap write-back */
	/* quorum: has_* say what the kernel reported */
	bool has_quorum_policy, has_on_no_quorum, has_quorum_voters, has_suspended_writes;
	uint32_t quorum;		/* RBLK_A_QUORUM: off, majority or votes */
	uint8_t on_no_quorum;		/* enum rblk_on_no_quorum */
	uint32_t quorum_voters;		/* this node and every configured peer */
	uint32_t suspended_writes;	/* writes held for quorum */
	struct kquorum qstate;
	/* auto-promote and fencing: has_* say what the kernel reported */
	bool has_auto_promote, has_auto_promoted, has_fencing, has_fence_handler;
	bool auto_promote;		/* RBLK_A_AUTO_PROMOTE */
	bool auto_promoted;		/* the primary role came from an auto-promotion */
	bool has_auth;			/* the kernel reported RBLK_A_AUTH */
	bool auth;			/* the device has a shared secret */
	bool has_data_digest;		/* the kernel reported RBLK_A_DATA_DIGEST */
	uint8_t data_digest;		/* enum rblk_data_digest */
	bool has_read_balancing;	/* the kernel reported RBLK_A_READ_BALANCING */
	uint8_t read_balancing;		/* enum rblk_read_balancing */
	uint8_t fencing;		/* enum rblk_fencing */
	char fence_handler[RBLK_PATH_MAX_BYTES];	/* "" = none */
	struct kfence fstate;
	unsigned int n_peers;
	struct kpeer peers[RBLK_MAX_NODE_ID + 1];
};

const char *role_json(unsigned int v);		/* "primary" */
const char *role_human(unsigned int v);		/* "Primary" */
const char *disk_json(unsigned int v);		/* "up_to_date" */
const char *disk_human(unsigned int v);		/* "UpToDate" */
const char *conn_json(unsigned int v);		/* "connected" */
const char *conn_human(unsigned int v);		/* "Connected" */
const char *repl_json(unsigned int v);		/* "sync_source" */
const char *repl_human(unsigned int v);		/* "SyncSource" */
const char *sync_decision_json(unsigned int v);	/* "bitmap_source" */
const char *sync_decision_human(unsigned int v);/* "bitmap-source" */
const char *event_json(unsigned int v);		/* "role_changed" */
const char *on_io_error_name(unsigned int v);	/* "pass-on", as in the file */
const char *on_no_quorum_name(unsigned int v);	/* "suspend-io", as in the file */
const char *suspend_reason_name(unsigned int v);/* "no", "no-quorum", "fencing" */
const char *fencing_name(unsigned int v);	/* "resource-only", as in the file */
const char *yes_no_name(unsigned int v);	/* "no", "yes" */
const char *data_digest_name(unsigned int v);	/* "none", "crc32c", as in the file */
const char *read_balancing_name(unsigned int v);/* "prefer-local", as in the file */
/* A quorum policy as the file writes it: "off", "majority" or the number of votes. */
const char *format_quorum(uint32_t quorum, char *buf, size_t len);
/* RBLK_MDF_* bit @bit: "sync-target" (human) or "sync_target" (JSON); NULL if unknown. */
const char *md_flag_name(unsigned int bit, bool json);
/* A generation UUID as 16 upper-case hex digits ("9F3A0C21B7E4D560"); @buf >= 17 bytes. */
const char *format_uuid(uint64_t uuid, char *buf, size_t len);

/*
 * Resync progress toward one peer, from RESYNC_TOTAL/DONE/RATE:
 * percent done in hundredths (floor, 0..10000), bytes left, and the ETA in
 * seconds (rounded up; has_eta false when the rate is 0).  Returns false
 * when the kernel reported no resync (total absent or 0).
 */
struct resync_progress {
	uint32_t percent_hundredths;
	uint64_t bytes_left, rate_bytes_per_s, eta_s;
	bool has_eta;
};
bool resync_progress(const struct kpeer *p, struct resync_progress *out);

/* What RBLK_CMD_MD_DUMP answers; has_* say what the kernel reported. */
struct kmd_slot {
	uint32_t peer_node_id;
	bool has_bitmap_uuid, has_out_of_sync;
	uint64_t bitmap_uuid, out_of_sync_bytes;
};

struct kmd {
	bool has_node_id, has_flags, has_seq, has_valid_copies, has_size, has_offset;
	bool has_md_size, has_current_uuid, has_bm_block, has_al_extent, has_max_peers;
	uint32_t node_id, flags, valid_copies, bm_block_bytes, al_extent_bytes, max_peers;
	uint64_t seq, size_sectors, md_offset_sectors, md_size_sectors, current_uuid;
	unsigned int n_history;		/* HISTORY_UUIDS entries, newest first */
	uint64_t history[RBLK_MD_HISTORY_UUIDS];
	unsigned int n_slots;
	struct kmd_slot slots[RBLK_MAX_NODE_ID + 1];
};

/* ----------------------------------------------------------------- requests */

/* Which attributes of struct rblk_req are sent. */
enum {
	REQ_MINOR = 1 << 0,
	REQ_NAME = 1 << 1,
	REQ_CLUSTER = 1 << 2,
	REQ_NODE_ID = 1 << 3,
	REQ_PATH = 1 << 4,
	REQ_META_PATH = 1 << 5,
	REQ_FORCE = 1 << 6,
	REQ_PEER_NODE_ID = 1 << 7,
	REQ_PEER_IP = 1 << 8,
	REQ_PEER_PORT = 1 << 9,
	REQ_LOCAL_IP = 1 << 10,
	REQ_LOCAL_PORT = 1 << 11,
	REQ_ON_IO_ERROR = 1 << 12,
	REQ_MAX_PEERS = 1 << 13,
	REQ_CLEAR_BITMAP = 1 << 14,
	REQ_DISCARD_MY_DATA = 1 << 15,
	REQ_QUORUM = 1 << 16,
	REQ_ON_NO_QUORUM = 1 << 17,
	REQ_IGNORE_QUORUM = 1 << 18,
	REQ_PEER_WITNESS = 1 << 19,
	REQ_AUTO_PROMOTE = 1 << 20,
	REQ_FENCING = 1 << 21,
	REQ_FENCE_HANDLER = 1 << 22,
	REQ_AUTH_SECRET = 1 << 23,	/* secret_len bytes of secret, 0: none */
	REQ_DATA_DIGEST = 1 << 24,
	REQ_READ_BALANCING = 1 << 25,
	REQ_BITS = 26,		/* bits above are free for the callers' own flags */
};

/* One generic netlink request; only the attributes flagged in @has are sent. */
struct rblk_req {
	uint8_t cmd;			/* enum rblk_cmd */
	unsigned int has;		/* REQ_* */
	uint32_t minor, node_id, peer_node_id, max_peers;
	uint32_t quorum;		/* RBLK_QUORUM_OFF, RBLK_QUORUM_MAJORITY or votes */
	uint8_t on_io_error;		/* enum rblk_on_io_error */
	uint8_t on_no_quorum;		/* enum rblk_on_no_quorum */
	uint8_t auto_promote;		/* 0 or 1 */
	uint8_t fencing;		/* enum rblk_fencing */
	uint8_t data_digest;		/* enum rblk_data_digest */
	uint8_t read_balancing;		/* enum rblk_read_balancing */
	char name[256];
	char cluster[256];
	char path[1024];		/* BACKING_PATH */
	char meta_path[1024];		/* META_PATH */
	char fence_handler[1024];	/* FENCE_HANDLER, "" = none */
	uint32_t secret_len;		/* AUTH_SECRET: bytes of secret, 0 = none */
	uint8_t secret[RBLK_AUTH_SECRET_MAX_BYTES];
	struct conf_addr peer, local;	/* ip sent per REQ_*_IP, port per REQ_*_PORT */
	struct conf_options options;	/* each option sent if set[] */
};

const char *cmd_name(unsigned int cmd);	/* low-level subcommand: "create-device" */

/* ------------------------------------------------------------------ plan.c */

#define PLAN_MAX_OPS 160

struct plan_op {
	struct rblk_req req;
	char what[512];		/* human description, e.g. "add-peer node-b (1) ..." */
};

struct plan {
	unsigned int n;
	struct plan_op ops[PLAN_MAX_OPS];
};

int plan_up(const struct conf *c, const struct conf_resource *r,
	    const struct conf_node *local, const struct kdev *devs,
	    unsigned int n_devs, struct plan *p, char *err, size_t errlen);
int plan_down(const struct conf_resource *r, const struct kdev *devs,
	      unsigned int n_devs, struct plan *p, char *err, size_t errlen);

/*
 * The requests of the single-shot commands, from the file (no I/O):
 * MD_CREATE of @l's disk (BACKING_PATH, NODE_ID, MAX_PEERS, [META_PATH,
 * FORCE]); MD_DUMP by MINOR (@minor >= 0) or by BACKING_PATH [META_PATH];
 * NEW_CURRENT_UUID [CLEAR_BITMAP]; CONNECT/DISCONNECT of every peer or
 * @peer [DISCARD_MY_DATA]; PRIMARY [FORCE, IGNORE_QUORUM] or SECONDARY;
 * RESUME_IO of @minor.
 */
void req_md_create(const struct conf_resource *r, const struct conf_node *l, bool force,
		   struct rblk_req *q);
void req_md_dump(const struct conf_node *l, int64_t minor, struct rblk_req *q);
void req_new_current_uuid(const struct conf_resource *r, bool clear_bitmap,
			  struct rblk_req *q);
void req_connect(const struct conf_resource *r, const struct conf_node *peer, bool connect,
		 bool discard_my_data, struct rblk_req *q);
void req_role(const struct conf_resource *r, bool primary, bool force, bool ignore_quorum,
	      struct rblk_req *q);
void req_resume_io(uint32_t minor, struct rblk_req *q);

/* -------------------------------------------------------------------- nl.c */

struct nlctx;

/* Result of a request: 0 or a negative errno, plus the kernel's extack text. */
struct nl_result {
	int error;
	char msg[256];
};

int rnl_open(struct nlctx **ctx, char *err, size_t errlen);
void rnl_close(struct nlctx *ctx);
/*
 * Send @req and wait for the ack.  Returns EXIT_OK, EXIT_KERNEL (kernel said
 * no: res->error/res->msg filled) or EXIT_SYSTEM.
 */
int rnl_request(struct nlctx *ctx, const struct rblk_req *req, struct nl_result *res);
/* STATUS dump (minor < 0) or doit: fills a malloc'ed array of devices. */
int rnl_status(struct nlctx *ctx, int64_t minor, struct kdev **devs, unsigned int *n,
	      struct nl_result *res);
struct nl_msg;
struct nlmsghdr;
/* Append @req's attributes to @msg (after its genetlink header); 0 or -1. */
int rnl_build_request(struct nl_msg *msg, const struct rblk_req *req);
int rnl_parse_device(struct nlmsghdr *nlh, struct kdev *d);
/* MD_DUMP with @req's MINOR or BACKING_PATH [META_PATH]; EXIT_* as rnl_request(). */
int rnl_md_dump(struct nlctx *ctx, const struct rblk_req *req, struct kmd *md,
		struct nl_result *res);
/* Decode one RBLK_CMD_MD_DUMP reply into @md; 0 (attributes it lacks stay unset). */
int rnl_parse_md(struct nlmsghdr *nlh, struct kmd *md);
struct nlmsgerr;
void rnl_extack_msg(const struct nlmsgerr *e, char *buf, size_t len);
const char *rnl_attr_name(unsigned int type);

/* An event as decoded from RBLK_CMD_EVENT; has_* say what was present. */
struct kevent {
	unsigned int event;
	bool has_minor, has_peer, has_value_role, has_value_disk, has_value_conn;
	bool has_peer_role, has_peer_disk, has_name, has_repl_state, has_current_uuid;
	uint32_t minor, peer_node_id;
	uint8_t role, disk_state, conn_state, peer_role, peer_disk_state, repl_state;
	uint64_t current_uuid;
	struct kquorum qstate;		/* QUORUM_CHANGED; FENCE_PEER: SUSPENDED */
	struct kfence fstate;		/* RBLK_EVENT_FENCE_PEER */
	char name[RBLK_NAME_MAX_BYTES];
	char last_error[256];
};
int rnl_parse_event(struct nlmsghdr *nlh, struct kevent *ev);
/*
 * Records of `events` that are not kernel events (kevent.event): the state
 * a device and a peer are in (--now), the end of that state, and events
 * lost to a receive buffer overrun.
 */
enum {
	EV_EXISTS = 1000,
	EV_PEER_EXISTS,
	EV_EXISTS_END,
	EV_EVENTS_LOST,
};
/*
 * Subscribe to the "events" group, then call @sync (if not NULL) with
 * @lost false, and call @fn for every event until @timeout_ms (< 0:
 * forever) passes.  After a receive buffer overrun (events lost) @sync is
 * called with @lost true before the next event.  Returns an EXIT_* code.
 */
int rnl_events(struct nlctx *ctx, int timeout_ms, void (*fn)(const struct kevent *, void *),
	       void (*sync)(bool lost, void *), void *arg, char *err, size_t errlen);

/* --------------------------------------------------------------- output.c */

/*
 * One print API for both output modes, in the style of iproute2's print_*():
 * every call names a JSON key and a printf format for the human table; in
 * JSON mode the value goes into the current json-c object or array, in
 * human mode the formatted text goes to the output stream.
 */
void out_init(FILE *f, bool json);
bool out_is_json(void);
void out_open_object(const char *key);	/* key NULL: array element / top level */
void out_close_object(void);
void out_open_array(const char *key);
void out_close_array(void);
void print_string(const char *key, const char *fmt, const char *value);
void print_string_or_null(const char *key, const char *fmt, const char *value);
/* @value NULL: JSON null, nothing in human mode. */
/* Whether a peer's TCP round trip is a measurement: connected, sent, sampled. */
static inline bool tcp_rtt_known(const struct kpeer *p)
{
	return p->conn_state == RBLK_CONN_CONNECTED && p->has_tcp_rtt && p->tcp_rtt_us;
}

void print_uint_or_null(const char *key, const char *fmt, const uint64_t *value);
/* A fixed-point number @hundredths / 100 with two decimals ("45.23"). */
void print_hundredths(const char *key, const char *fmt, uint64_t hundredths);
void print_null(const char *key);	/* JSON null; nothing in human mode */
void print_enum(const char *key, const char *fmt, const char *json_value,
		const char *human_value);
void print_uint(const char *key, const char *fmt, uint64_t value);
void print_int(const char *key, const char *fmt, int64_t value);
void print_bool(const char *key, const char *fmt, bool value);
/* @value NULL: JSON null, nothing in human mode. */
void print_bool_or_null(const char *key, const char *fmt, const bool *value);
void print_human(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void print_nl(void);			/* newline in human mode */
void out_flush(void);			/* JSON: print finished top-level value + "\n" */

/* ---------------------------------------------------------------- show.c */

void show_device(const struct kdev *d, const struct conf *c, bool stats);
void show_event(const struct kevent *ev, const struct conf *c, bool timestamps);
/*
 * Print an MD_DUMP reply.  @r (may be NULL) names the peers; @backing and
 * @meta (NULL: internal) say where it was read, @minor (< 0: by path) from
 * which device.
 */
void show_md(const struct kmd *md, const char *res_name, const struct conf_resource *r,
	     int64_t minor, const char *backing, const char *meta);

/*
 * The name of device @d's peer @id in @c (same resource name and minor),
 * or NULL.
 */
const char *dev_peer_name(const struct conf *c, const struct kdev *d, uint32_t id);

/* --------------------------------------------------------------- health.c */

enum health_level {
	HEALTH_OK,
	HEALTH_DEGRADED,	/* the data is available, redundancy is not what it should be */
	HEALTH_CRITICAL,	/* the data is not safely available through this node */
};

/* What is not healthy; the rules are at health_check() and in rblkadm.8. */
enum health_problem {
	HP_NOT_UP,		/* a resource of the file for this node has no device */
	HP_DISK,		/* the local disk is not UpToDate (secondary) */
	HP_PRIMARY_NO_DATA,	/* a primary whose own disk is not UpToDate */
	HP_NO_DATA,		/* peers connected, no UpToDate disk here or on them */
	HP_NO_QUORUM,		/* quorum on, this node's partition has none */
	HP_SUSPENDED,		/* writes suspended (fencing, or no quorum) */
	HP_PEER_MISSING,	/* a peer of the file is not configured in the kernel */
	HP_SPLIT_BRAIN,
	HP_UNRELATED,		/* the peer's data has nothing in common with ours */
	HP_NOT_CONNECTED,	/* StandAlone, Connecting or Disconnecting */
	HP_RESYNC,		/* a resync runs (SyncSource or SyncTarget) */
	HP_REPLICATION,		/* connected, neither Established nor resyncing */
	HP_PEER_DISK,		/* the peer's disk is not UpToDate */
	HP_OUT_OF_SYNC,		/* Established, yet blocks are marked out of sync */
	HP_COUNT,
};

struct health_finding {
	enum health_problem problem;
	enum health_level level;
	const char *name;		/* the resource */
	uint32_t minor;
	const struct kdev *dev;		/* NULL for HP_NOT_UP */
	const struct kpeer *peer;	/* the peer of a peer's problem, else NULL */
	uint32_t peer_node_id;		/* of @peer, or the missing peer's */
};

struct health {
	enum health_level level;	/* the worst of the findings */
	unsigned int n, max;
	struct health_finding *f;	/* pointing into the devices and the file */
};

const char *health_level_name(unsigned int v);		/* "degraded" */
const char *health_problem_name(unsigned int v);	/* "split_brain" */
int health_check(const struct kdev *devs, unsigned int n, const struct conf *c,
		 const char *local, const char *only, struct health *h);
void health_free(struct health *h);
/* The worst level of the findings of resource @name. */
enum health_level health_of(const struct health *h, const char *name);
/* EXIT_OK, EXIT_DEGRADED or EXIT_CRITICAL. */
int health_exit(enum health_level level);
/*
 * doctor: one explanation and the next safe action per finding (the
 * peers named from @c, which may be NULL), "all healthy" when there is
 * none; JSON: {"health":..., "problems":[...]}.
 */
void show_doctor(const struct health *h, const struct conf *c);

/* -------------------------------------------------------------- metrics.c */

/*
 * A label value of the text exposition format into @buf: backslash,
 * double quote and newline escaped.  Returns @buf (truncated if short).
 */
const char *prom_escape(const char *s, char *buf, size_t len);
/* Every metric of @devs (@h judged them) in the text exposition format. */
void metrics_print(FILE *f, const struct kdev *devs, unsigned int n, const struct conf *c,
		   const struct health *h);

/* --------------------------------------------------------------- probe.c */

/*
 * Look for a signature libblkid knows (file system, partition table, RAID,
 * swap, crypto ...) on @path.  Returns 1 and a description in @what ("an
 * ext4 filesystem", "a dos partition table"), 0 when there is none, -1 on
 * error (message in @what).
 */
int probe_signature(const char *path, char *what, size_t len);

#endif /* RBLKADM_H */
