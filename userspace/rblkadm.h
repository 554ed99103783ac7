/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rblkadm - administration tool for rblk, the replicated block device.
 *
 * Shared declarations of the tool's parts:
 *   config.c  topology file (YAML) parsing and validation
 *   plan.c    converge plan: kernel state + topology -> list of requests
 *   nl.c      generic netlink transport (libnl-genl-3)
 *   output.c  one print API for human tables and JSON (json-c)
 *   show.c    status / event printing on top of output.c
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
};

#define ERRBUF_BYTES	512
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
	OPT_COUNT,
};

/* Position in the topology file, 1-based; line 0 means "not from a file". */
struct conf_loc {
	unsigned int line;
	unsigned int col;
};

/* Timing options (milliseconds, ko-count a count); set[i] says whether v[i] was given. */
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
	bool has_on_io_error;		/* on-io-error given for this node */
	uint8_t on_io_error;		/* enum rblk_on_io_error */
	struct conf_options options;
	struct conf_loc loc, loc_name, loc_node_id, loc_address, loc_disk;
};

struct conf_resource {
	char name[RBLK_NAME_MAX_BYTES];
	uint32_t minor;
	bool assume_clean;
	bool has_on_io_error;		/* on-io-error given for the resource */
	uint8_t on_io_error;		/* enum rblk_on_io_error */
	struct conf_options options;
	unsigned int n_nodes;
	struct conf_node nodes[RBLK_MAX_NODE_ID + 1];
	struct conf_loc loc, loc_name, loc_minor;
};

struct conf {
	char file[4096];
	char cluster[RBLK_NAME_MAX_BYTES];	/* "" = none */
	struct conf_options options;
	unsigned int n_res;
	struct conf_resource *res;
};

/* One option: its key in the file, its PEER_ADD attribute, range and default. */
struct conf_opt_def {
	const char *key;	/* "ping-interval-ms" */
	int attr;		/* RBLK_A_PING_INTERVAL_MS */
	uint32_t min, max, def;
	const char *unit;	/* in errors: "milliseconds", "a count" */
};

extern const struct conf_opt_def conf_opt[OPT_COUNT];

int conf_parse_string(const char *file, const char *text, size_t len,
		      struct conf *c, char *err, size_t errlen);
int conf_load(const char *path, struct conf *c, char *err, size_t errlen);
void conf_free(struct conf *c);
const struct conf_resource *conf_find_resource(const struct conf *c, const char *name);
const struct conf_node *conf_find_node(const struct conf_resource *r, const char *name);
const struct conf_node *conf_find_node_id(const struct conf_resource *r, uint32_t id);
void conf_effective_options(const struct conf *c, const struct conf_resource *r,
			    const struct conf_node *local, uint32_t out[OPT_COUNT]);
/* on-io-error of @n's disk as the file gives it (node, else resource), or -1. */
int conf_on_io_error(const struct conf_resource *r, const struct conf_node *n);
/* "detach", "pass-on" (the file's and the command line's words) to the enum, or -1. */
int parse_on_io_error(const char *s);
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
	struct conf_options options;	/* set[] only where the kernel reported it */
	uint64_t writes, write_bytes, flushes, discards, inflight, acks, rtt_us;
	uint64_t reconnects, received_writes, received_bytes, errors;
	char last_error[256];
};

struct kdev {
	uint32_t minor, node_id;
	char name[RBLK_NAME_MAX_BYTES];
	char cluster[RBLK_NAME_MAX_BYTES];
	char backing[RBLK_PATH_MAX_BYTES];
	uint8_t role, disk_state;
	uint64_t size_sectors;
	uint32_t logical_block_size_bytes, open_count;
	uint64_t reads, writes, read_bytes, write_bytes, flushes, discards, inflight, errors;
	unsigned int n_peers;
	struct kpeer peers[RBLK_MAX_NODE_ID + 1];
};

const char *role_json(unsigned int v);		/* "primary" */
const char *role_human(unsigned int v);		/* "Primary" */
const char *disk_json(unsigned int v);		/* "up_to_date" */
const char *disk_human(unsigned int v);		/* "UpToDate" */
const char *conn_json(unsigned int v);		/* "connected" */
const char *conn_human(unsigned int v);		/* "Connected" */
const char *event_json(unsigned int v);		/* "role_changed" */
const char *on_io_error_name(unsigned int v);	/* "pass-on", as in the file */

/* ----------------------------------------------------------------- requests */

/* Which attributes of struct rblk_req are sent. */
enum {
	REQ_MINOR = 1 << 0,
	REQ_NAME = 1 << 1,
	REQ_CLUSTER = 1 << 2,
	REQ_NODE_ID = 1 << 3,
	REQ_PATH = 1 << 4,
	REQ_ASSUME_UPTODATE = 1 << 5,
	REQ_FORCE = 1 << 6,
	REQ_PEER_NODE_ID = 1 << 7,
	REQ_PEER_IP = 1 << 8,
	REQ_PEER_PORT = 1 << 9,
	REQ_LOCAL_IP = 1 << 10,
	REQ_LOCAL_PORT = 1 << 11,
	REQ_ON_IO_ERROR = 1 << 12,
};

/* One generic netlink request; only the attributes flagged in @has are sent. */
struct rblk_req {
	uint8_t cmd;			/* enum rblk_cmd */
	unsigned int has;		/* REQ_* */
	uint32_t minor, node_id, peer_node_id;
	uint8_t on_io_error;		/* enum rblk_on_io_error */
	char name[256];
	char cluster[256];
	char path[1024];
	struct conf_addr peer, local;	/* ip sent per REQ_*_IP, port per REQ_*_PORT */
	struct conf_options options;	/* each option sent if set[] */
};

const char *cmd_name(unsigned int cmd);	/* low-level subcommand: "create-device" */

/* ------------------------------------------------------------------ plan.c */

#define PLAN_MAX_OPS 160

struct plan_op {
	struct rblk_req req;
	char what[320];		/* human description, e.g. "add-peer node-b (1) ..." */
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
struct nlmsgerr;
void rnl_extack_msg(const struct nlmsgerr *e, char *buf, size_t len);
const char *rnl_attr_name(unsigned int type);

/* An event as decoded from RBLK_CMD_EVENT; has_* say what was present. */
struct kevent {
	unsigned int event;
	bool has_minor, has_peer, has_value_role, has_value_disk, has_value_conn;
	bool has_peer_role, has_peer_disk, has_name;
	uint32_t minor, peer_node_id;
	uint8_t role, disk_state, conn_state, peer_role, peer_disk_state;
	char name[RBLK_NAME_MAX_BYTES];
	char last_error[256];
};
int rnl_parse_event(struct nlmsghdr *nlh, struct kevent *ev);
/*
 * Subscribe to the "events" group and call @fn for every event until
 * @timeout_ms (< 0: forever) passes.  Returns an EXIT_* code.
 */
int rnl_events(struct nlctx *ctx, int timeout_ms, void (*fn)(const struct kevent *, void *),
	      void *arg, char *err, size_t errlen);

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
void print_enum(const char *key, const char *fmt, const char *json_value,
		const char *human_value);
void print_uint(const char *key, const char *fmt, uint64_t value);
void print_int(const char *key, const char *fmt, int64_t value);
void print_bool(const char *key, const char *fmt, bool value);
void print_human(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void print_nl(void);			/* newline in human mode */
void out_flush(void);			/* JSON: print finished top-level value + "\n" */

/* ---------------------------------------------------------------- show.c */

void show_device(const struct kdev *d, const struct conf *c, bool stats);
void show_event(const struct kevent *ev, const struct conf *c, bool timestamps);

#endif /* RBLKADM_H */
