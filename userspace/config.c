// SPDX-License-Identifier: GPL-2.0
/*
 * config.c - the topology file: YAML (libyaml document API) to struct conf,
 * and every check that can be made without the kernel.
 *
 * Every error names the file, line and column, the field's path
 * ("resources[0].nodes[1].node-id") and what was expected.  Only the first
 * error is reported: it is exact, and later ones are often consequences.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "rblkadm.h"

#define MS_OPT(key, attr, def) { key, attr, RBLK_TIMEOUT_MS_MIN, RBLK_TIMEOUT_MS_MAX, def, \
				"milliseconds" }

const struct conf_opt_def conf_opt[OPT_COUNT] = {
	[OPT_PING_INTERVAL] = MS_OPT("ping-interval-ms", RBLK_A_PING_INTERVAL_MS,
				     RBLK_PING_INTERVAL_MS_DEFAULT),
	[OPT_PING_TIMEOUT] = MS_OPT("ping-timeout-ms", RBLK_A_PING_TIMEOUT_MS,
				    RBLK_PING_TIMEOUT_MS_DEFAULT),
	[OPT_CONNECT_TIMEOUT] = MS_OPT("connect-timeout-ms", RBLK_A_CONNECT_TIMEOUT_MS,
				       RBLK_CONNECT_TIMEOUT_MS_DEFAULT),
	[OPT_RECONNECT_MIN] = MS_OPT("reconnect-min-ms", RBLK_A_RECONNECT_MIN_MS,
				     RBLK_RECONNECT_MIN_MS_DEFAULT),
	[OPT_RECONNECT_MAX] = MS_OPT("reconnect-max-ms", RBLK_A_RECONNECT_MAX_MS,
				     RBLK_RECONNECT_MAX_MS_DEFAULT),
	[OPT_REQUEST_TIMEOUT] = MS_OPT("request-timeout-ms", RBLK_A_REQUEST_TIMEOUT_MS,
				       RBLK_REQUEST_TIMEOUT_MS_DEFAULT),
	[OPT_KO_COUNT] = { "ko-count", RBLK_A_KO_COUNT, 1, RBLK_KO_COUNT_MAX,
			   RBLK_KO_COUNT_DEFAULT, "a count" },
	[OPT_RESYNC_RATE] = { "resync-rate-kib-per-s", RBLK_A_RESYNC_RATE_KIB_PER_S, 0,
			      RBLK_RESYNC_RATE_KIB_PER_S_MAX, RBLK_RESYNC_RATE_KIB_PER_S_DEFAULT,
			      "KiB/s (0: dynamic)" },
	[OPT_RESYNC_LATENCY] = { "resync-latency-ms", RBLK_A_RESYNC_LATENCY_MS,
				 RBLK_RESYNC_LATENCY_MS_MIN, RBLK_RESYNC_LATENCY_MS_MAX,
				 RBLK_RESYNC_LATENCY_MS_DEFAULT, "milliseconds" },
};

/* A file read, to refuse reading it twice (a link or another spelling too). */
struct file_id {
	dev_t dev;
	ino_t ino;
	const char *name;
};

struct pctx {
	const char *file;
	yaml_document_t *doc;
	char *err;
	size_t errlen;
	bool failed;
	const yaml_node_t *key;	/* walk_map: the key whose value is being parsed */
	const char *loc_file;	/* struct conf_loc.file: NULL in the main file */
	const yaml_node_t *include;	/* the main file's include: value */
	struct file_id *files;	/* the main file and those included, so far */
	unsigned int n_files;
};


/*
 * Keys that are gone: known (so not "unknown key"), not listed as
 * expected, and an error with their own message wherever they appear.
 */
static const char assume_clean_gone[] =
	"assume-clean is no longer supported: the metadata decides the disk state; "
	"run 'rblkadm create-md RES' on every node, then, only for disks known to hold "
	"identical data (e.g. new, all zeroes), 'rblkadm new-current-uuid --clear-bitmap RES' "
	"once on one node while the nodes are connected";

static bool key_removed(const char *k)
{
	return !strcmp(k, "assume-clean");
}

static struct conf_loc loc_of(const struct pctx *p, const yaml_node_t *n)
{
	struct conf_loc l = { n->start_mark.line + 1, n->start_mark.column + 1, p->loc_file };

	return l;
}

__attribute__((format(printf, 4, 5)))
static void perr(struct pctx *p, struct conf_loc l, const char *path, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (p->failed)
		return;
	p->failed = true;
	k = snprintf(p->err, p->errlen, "%s:%u:%u: %s: ", l.file ? l.file : p->file, l.line, l.col,
		     path[0] ? path : "(top level)");
	if (k < 0 || (size_t)k >= p->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(p->err + k, p->errlen - k, fmt, ap);
	va_end(ap);
}

/*
 * A reference to another place in the topology, for an error reported at
 * @at: "line N", or "line N of FILE" when @ref is in another file.
 */
static const char *line_ref(const struct pctx *p, struct conf_loc at, struct conf_loc ref,
			    char *buf, size_t len)
{
	if (at.file == ref.file || (at.file && ref.file && !strcmp(at.file, ref.file)))
		snprintf(buf, len, "line %u", ref.line);
	else
		snprintf(buf, len, "line %u of %s", ref.line, ref.file ? ref.file : p->file);
	return buf;
}

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return "a scalar";
	}
}

/* Scalar text, or NULL (error reported) when @n is not a scalar. */
static const char *scalar(struct pctx *p, const yaml_node_t *n, const char *path,
			  const char *expected)
{
	if (n->type != YAML_SCALAR_NODE) {
		perr(p, loc_of(p, n), path, "expected %s, got %s", expected, node_kind(n));
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

static bool get_u32(struct pctx *p, const yaml_node_t *n, const char *path,
		    uint32_t min, uint32_t max, const char *what, uint32_t *out)
{
	char expected[96];
	const char *s;
	char *end;
	unsigned long long v;

	if (what)
		snprintf(expected, sizeof(expected), "%s %" PRIu32 "..%" PRIu32, what, min, max);
	else
		snprintf(expected, sizeof(expected), "an integer %" PRIu32 "..%" PRIu32, min, max);
	s = scalar(p, n, path, expected);
	if (!s)
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (!isdigit((unsigned char)s[0]) || *end || errno || v < min || v > max) {
		perr(p, loc_of(p, n), path, "expected %s, got '%s'", expected, s);
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

int parse_word(const char *s, const char *(*name)(unsigned int), unsigned int count)
{
	unsigned int v;

	for (v = 0; v < count; v++)
		if (!strcmp(s, name(v)))
			return (int)v;
	return -1;
}

int parse_on_io_error(const char *s)
{
	return parse_word(s, on_io_error_name, __RBLK_ON_IO_ERROR_MAX);
}

int parse_on_no_quorum(const char *s)
{
	return parse_word(s, on_no_quorum_name, __RBLK_ON_NO_QUORUM_MAX);
}

const char *format_words(const char *(*name)(unsigned int), unsigned int count,
			 const char *last_sep, char *buf, size_t len)
{
	size_t off = 0;
	unsigned int v;

	buf[0] = 0;
	for (v = 0; v < count && off < len; v++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					!v ? "" : v + 1 < count ? ", " : last_sep, name(v));
	return buf;
}

int parse_quorum_word(const char *s, uint32_t *v)
{
	static const uint32_t words[] = { RBLK_QUORUM_OFF, RBLK_QUORUM_MAJORITY };
	char buf[16];
	unsigned int i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (!strcmp(s, format_quorum(words[i], buf, sizeof(buf)))) {
			*v = words[i];
			return 0;
		}
	}
	return -1;
}

/*
 * A word of an enum whose values 0..@count-1 are named by @name() (the
 * words of the file, e.g. on_io_error_name()): "detach or pass-on".
 */
static bool get_word(struct pctx *p, const yaml_node_t *n, const char *path,
		     const char *(*name)(unsigned int), unsigned int count,
		     bool *has, uint8_t *out)
{
	char expected[128];
	const char *s;
	int k;

	format_words(name, count, " or ", expected, sizeof(expected));
	s = scalar(p, n, path, expected);
	if (!s)
		return false;
	k = parse_word(s, name, count);
	if (k < 0) {
		perr(p, loc_of(p, n), path, "expected %s, got '%s'", expected, s);
		return false;
	}
	*out = (uint8_t)k;
	*has = true;
	return true;
}

/* quorum: off, majority or a number of votes 1..RBLK_MAX_PEERS. */
static bool get_quorum(struct pctx *p, const yaml_node_t *n, const char *path,
		       struct conf_quorum *q)
{
	static const char what[] = "off, majority or a number of votes";
	char expected[64];
	const char *s;

	snprintf(expected, sizeof(expected), "%s 1..%d", what, RBLK_MAX_PEERS);
	s = scalar(p, n, path, expected);
	if (!s)
		return false;
	if (parse_quorum_word(s, &q->quorum) &&
	    !get_u32(p, n, path, 1, RBLK_MAX_PEERS, what, &q->quorum))
		return false;
	q->has_quorum = true;
	q->loc_quorum = loc_of(p, n);
	return true;
}

/* fence-handler: an absolute path shorter than RBLK_PATH_MAX_BYTES. */
static bool get_fence_handler(struct pctx *p, const yaml_node_t *n, const char *path,
			      struct conf_primary *pr)
{
	const char *s = scalar(p, n, path, "an absolute path of the fence-peer handler");
	size_t len;

	if (!s)
		return false;
	len = strlen(s);
	if (s[0] != '/') {
		perr(p, loc_of(p, n), path,
		     "expected an absolute path of the fence-peer handler (starting with /), got '%s'",
		     s);
		return false;
	}
	if (len >= sizeof(pr->fence_handler)) {
		perr(p, loc_of(p, n), path,
		     "the path of the fence-peer handler has %zu bytes: at most %zu", len,
		     sizeof(pr->fence_handler) - 1);
		return false;
	}
	memcpy(pr->fence_handler, s, len + 1);
	pr->has_fence_handler = true;
	return true;
}

/* Names: 1..max-1 bytes of [A-Za-z0-9._-], not starting with '-' or '.'. */
static bool get_name(struct pctx *p, const yaml_node_t *n, const char *path,
		     char *out, size_t max)
{
	const char *s = scalar(p, n, path, "a name");
	size_t i, len;

	if (!s)
		return false;
	len = strlen(s);
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			break;
	if (len == 0 || len >= max || i < len || s[0] == '-' || s[0] == '.') {
		perr(p, loc_of(p, n), path,
		     "expected a name of 1..%zu characters from A-Z a-z 0-9 . _ - (not starting with . or -), got '%s'",
		     max - 1, s);
		return false;
	}
	memcpy(out, s, len + 1);
	return true;
}

int parse_addr(const char *s, bool need_port, struct conf_addr *a)
{
	char host[64];
	const char *port = NULL;
	const char *close;
	size_t hl;
	char *end;
	unsigned long v;

	memset(a, 0, sizeof(*a));
	if (s[0] == '[') {
		close = strchr(s, ']');
		if (!close)
			return -1;
		hl = close - (s + 1);
		if (hl >= sizeof(host))
			return -1;
		memcpy(host, s + 1, hl);
		host[hl] = 0;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return -1;
		if (inet_pton(AF_INET6, host, a->ip) != 1)
			return -1;
		a->family = AF_INET6;
	} else {
		const char *colon = strchr(s, ':');

		if (colon && strchr(colon + 1, ':')) {
			/* bare IPv6 without brackets: no port possible */
			if (strlen(s) >= sizeof(host) || inet_pton(AF_INET6, s, a->ip) != 1)
				return -1;
			a->family = AF_INET6;
		} else {
			hl = colon ? (size_t)(colon - s) : strlen(s);
			if (hl >= sizeof(host))
				return -1;
			memcpy(host, s, hl);
			host[hl] = 0;
			if (inet_pton(AF_INET, host, a->ip) != 1)
				return -1;
			a->family = AF_INET;
			if (colon)
				port = colon + 1;
		}
	}
	if (!port)
		return need_port ? -1 : 0;
	if (!isdigit((unsigned char)port[0]))
		return -1;
	errno = 0;
	v = strtoul(port, &end, 10);
	if (*end || errno || v < 1 || v > 65535)
		return -1;
	a->port = (uint16_t)v;
	return 0;
}

void format_ip(const struct conf_addr *a, char *buf, size_t len)
{
	if (!a->family || !inet_ntop(a->family, a->ip, buf, len))
		snprintf(buf, len, "-");
}

void format_addr(const struct conf_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	format_ip(a, ip, sizeof(ip));
	if (a->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", ip, a->port);
	else
		snprintf(buf, len, "%s:%u", ip, a->port);
}

/* Same rule as the kernel's PEER_ADD check: not 0/8, multicast, broadcast, ::. */
bool addr_unicast(const struct conf_addr *a)
{
	static const uint8_t any6[16];

	if (a->family == AF_INET)
		return a->ip[0] != 0 && (a->ip[0] & 0xf0) != 0xe0 &&
		       !(a->ip[0] == 255 && a->ip[1] == 255 && a->ip[2] == 255 && a->ip[3] == 255);
	return memcmp(a->ip, any6, 16) && a->ip[0] != 0xff;
}

bool addr_equal(const struct conf_addr *a, const struct conf_addr *b)
{
	size_t n = a->family == AF_INET6 ? 16 : 4;

	return a->family == b->family && a->port == b->port && !memcmp(a->ip, b->ip, n);
}

/* Iterate a mapping: checks keys against @keys; calls back with the index. */
typedef bool (*map_fn)(struct pctx *p, int key, const yaml_node_t *v,
		       const char *path, void *arg);

static bool walk_map(struct pctx *p, const yaml_node_t *m, const char *path,
		     const char *const *keys, unsigned int nkeys, map_fn fn, void *arg,
		     const yaml_node_t **seen)
{
	yaml_node_pair_t *pair;
	char sub[256], list[256];
	unsigned int i;

	if (m->type != YAML_MAPPING_NODE) {
		perr(p, loc_of(p, m), path, "expected a mapping, got %s", node_kind(m));
		return false;
	}
	for (i = 0; i < nkeys; i++)
		seen[i] = NULL;
	for (pair = m->data.mapping.pairs.start; pair < m->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
		const char *ks;

		ks = scalar(p, k, path, "a key");
		if (!ks)
			return false;
		for (i = 0; i < nkeys; i++)
			if (!strcmp(ks, keys[i]))
				break;
		if (i == nkeys) {
			size_t off = 0;
			unsigned int j;

			list[0] = 0;
			for (j = 0; j < nkeys && off < sizeof(list); j++)
				if (!key_removed(keys[j]))
					off += snprintf(list + off, sizeof(list) - off, "%s%s",
							off ? ", " : "", keys[j]);
			perr(p, loc_of(p, k), path, "unknown key '%s' (expected one of: %s)", ks, list);
			return false;
		}
		if (path[0])
			snprintf(sub, sizeof(sub), "%s.%s", path, ks);
		else
			snprintf(sub, sizeof(sub), "%s", ks);
		if (seen[i]) {
			perr(p, loc_of(p, k), sub, "duplicate key (first at line %u)",
			     loc_of(p, seen[i]).line);
			return false;
		}
		seen[i] = k;
		p->key = k;
		if (!fn(p, (int)i, v, sub, arg))
			return false;
	}
	return true;
}

static bool need_key(struct pctx *p, const yaml_node_t *m, const char *path,
		     const yaml_node_t *const *seen, const char *const *keys, unsigned int i)
{
	if (seen[i])
		return true;
	perr(p, loc_of(p, m), path, "missing required key '%s'", keys[i]);
	return false;
}

/* --- options --- */

/*
 * The keys of an options mapping after the conf_opt[] ones: the quorum,
 * auto-promote and fencing policy (RBLK_CMD_DEVICE_OPTIONS).
 */
enum {
	OK_QUORUM = OPT_COUNT, OK_ON_NO_QUORUM, OK_AUTO_PROMOTE, OK_FENCING, OK_FENCE_HANDLER,
	OK_COUNT
};

struct opt_arg {
	struct conf_options *o;
	struct conf_quorum *q;
	struct conf_primary *pr;
};

static bool opt_cb(struct pctx *p, int key, const yaml_node_t *v, const char *path, void *arg)
{
	struct opt_arg *a = arg;
	const struct conf_opt_def *d;

	if (key == OK_QUORUM)
		return get_quorum(p, v, path, a->q);
	if (key == OK_ON_NO_QUORUM)
		return get_word(p, v, path, on_no_quorum_name, __RBLK_ON_NO_QUORUM_MAX,
				&a->q->has_on_no_quorum, &a->q->on_no_quorum);
	if (key == OK_AUTO_PROMOTE) {
		uint8_t yes;

		if (!get_word(p, v, path, yes_no_name, 2, &a->pr->has_auto_promote, &yes))
			return false;
		a->pr->auto_promote = yes;
		return true;
	}
	if (key == OK_FENCING) {
		a->pr->loc_fencing = loc_of(p, v);
		return get_word(p, v, path, fencing_name, __RBLK_FENCING_MAX,
				&a->pr->has_fencing, &a->pr->fencing);
	}
	if (key == OK_FENCE_HANDLER)
		return get_fence_handler(p, v, path, a->pr);
	d = &conf_opt[key];
	if (!get_u32(p, v, path, d->min, d->max, d->unit, &a->o->v[key]))
		return false;
	a->o->set[key] = true;
	a->o->loc[key] = loc_of(p, v);
	return true;
}

/*
 * An options mapping: the peer options of conf_opt[], and with @q and @pr
 * (the top level's and a resource's, not a node's) the device's policy:
 * quorum, on-no-quorum, auto-promote, fencing and fence-handler.
 */
static bool parse_options(struct pctx *p, const yaml_node_t *n, const char *path,
			  struct conf_options *o, struct conf_quorum *q, struct conf_primary *pr)
{
	const yaml_node_t *seen[OK_COUNT];
	const char *keys[OK_COUNT];
	struct opt_arg a = { o, q, pr };
	unsigned int i;

	for (i = 0; i < OPT_COUNT; i++)
		keys[i] = conf_opt[i].key;
	keys[OK_QUORUM] = "quorum";
	keys[OK_ON_NO_QUORUM] = "on-no-quorum";
	keys[OK_AUTO_PROMOTE] = "auto-promote";
	keys[OK_FENCING] = "fencing";
	keys[OK_FENCE_HANDLER] = "fence-handler";
	return walk_map(p, n, path, keys, q ? OK_COUNT : OPT_COUNT, opt_cb, &a, seen);
}

/* --- nodes --- */

enum {
	NK_NAME, NK_NODE_ID, NK_ADDRESS, NK_ADDRESS_FOR, NK_DISK, NK_META_DISK, NK_ON_IO_ERROR,
	NK_OPTIONS, NK_COUNT
};
static const char *const node_keys[NK_COUNT] = {
	"name", "node-id", "address", "address-for", "disk", "meta-disk", "on-io-error",
	"options",
};

/*
 * An address value: IPv4[:PORT] or [IPv6][:PORT] (IPv6 always in
 * brackets), unicast.  Without a port, a->port is 0 until
 * assign_ports() gives it the resource's (CONF_PORT_AUTO_BASE).
 */
static bool get_addr(struct pctx *p, const yaml_node_t *v, const char *path,
		     struct conf_addr *a)
{
	const char *s = scalar(p, v, path, "an address IPv4[:PORT] or [IPv6][:PORT]");

	if (!s)
		return false;
	/* "::1:7789" would be a valid IPv6 address without port: brackets */
	if (s[0] != '[' && strchr(s, ':') != strrchr(s, ':')) {
		perr(p, loc_of(p, v), path,
		     "expected an IPv6 address in brackets, [IPv6] or [IPv6]:PORT, got '%s'", s);
		return false;
	}
	if (parse_addr(s, false, a)) {
		perr(p, loc_of(p, v), path,
		     "expected an address IPv4[:PORT] or [IPv6][:PORT] with port 1..65535, got '%s'",
		     s);
		return false;
	}
	if (!addr_unicast(a)) {
		perr(p, loc_of(p, v), path,
		     "expected a unicast address (not unspecified, multicast or broadcast), got '%s'",
		     s);
		return false;
	}
	return true;
}

/* address-for: a mapping from peer node names to addresses. */
static bool parse_addr_for(struct pctx *p, const yaml_node_t *m, const char *path,
			   struct conf_node *n)
{
	yaml_node_pair_t *pair;
	char sub[256];
	unsigned int i;

	if (m->type != YAML_MAPPING_NODE) {
		perr(p, loc_of(p, m), path,
		     "expected a mapping from peer node names to addresses, got %s", node_kind(m));
		return false;
	}
	for (pair = m->data.mapping.pairs.start; pair < m->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
		struct conf_addr_for *af;

		if (n->n_addr_for > RBLK_MAX_NODE_ID) {
			perr(p, loc_of(p, k), path, "too many entries (at most %d)",
			     RBLK_MAX_NODE_ID + 1);
			return false;
		}
		af = &n->addr_for[n->n_addr_for];
		if (!get_name(p, k, path, af->peer, sizeof(af->peer)))
			return false;
		snprintf(sub, sizeof(sub), "%s.%s", path, af->peer);
		for (i = 0; i < n->n_addr_for; i++) {
			if (!strcmp(n->addr_for[i].peer, af->peer)) {
				perr(p, loc_of(p, k), sub, "duplicate key (first at line %u)",
				     n->addr_for[i].loc_key.line);
				return false;
			}
		}
		af->loc_key = loc_of(p, k);
		af->loc = loc_of(p, v);
		if (!get_addr(p, v, sub, &af->addr))
			return false;
		n->n_addr_for++;
	}
	return true;
}

static bool node_cb(struct pctx *p, int key, const yaml_node_t *v, const char *path, void *arg)
{
	struct conf_node *n = arg;
	const char *s;

	switch (key) {
	case NK_NAME:
		n->loc_name = loc_of(p, v);
		return get_name(p, v, path, n->name, sizeof(n->name));
	case NK_NODE_ID:
		n->loc_node_id = loc_of(p, v);
		return get_u32(p, v, path, 0, RBLK_MAX_NODE_ID, NULL, &n->node_id);
	case NK_ADDRESS:
		n->loc_address = loc_of(p, v);
		return get_addr(p, v, path, &n->addr);
	case NK_ADDRESS_FOR:
		return parse_addr_for(p, v, path, n);
	case NK_DISK:
		n->loc_disk = loc_of(p, v);
		s = scalar(p, v, path, "an absolute device path");
		if (!s)
			return false;
		if (s[0] != '/' || strlen(s) >= sizeof(n->disk)) {
			perr(p, loc_of(p, v), path,
			     "expected an absolute device path shorter than %zu bytes, got '%s'",
			     sizeof(n->disk), s);
			return false;
		}
		strcpy(n->disk, s);
		return true;
	case NK_META_DISK:
		/* internal (the default: at the end of the disk) or an external device */
		n->loc_meta_disk = loc_of(p, v);
		s = scalar(p, v, path, "internal or an absolute device path");
		if (!s)
			return false;
		if (!strcmp(s, "internal")) {
			n->meta_disk[0] = 0;
			return true;
		}
		if (s[0] != '/' || strlen(s) >= sizeof(n->meta_disk)) {
			perr(p, loc_of(p, v), path,
			     "expected internal or an absolute device path shorter than %zu bytes, got '%s'",
			     sizeof(n->meta_disk), s);
			return false;
		}
		strcpy(n->meta_disk, s);
		return true;
	case NK_ON_IO_ERROR:
		return get_word(p, v, path, on_io_error_name, __RBLK_ON_IO_ERROR_MAX,
				&n->has_on_io_error, &n->on_io_error);
	case NK_OPTIONS:
		return parse_options(p, v, path, &n->options, NULL, NULL);
	}
	return false;
}

/* --- resources --- */

enum {
	RK_NAME, RK_MINOR, RK_ASSUME_CLEAN, RK_ON_IO_ERROR, RK_OPTIONS, RK_NODES,
	RK_SECRET_FILE, RK_DATA_DIGEST, RK_READ_BALANCING, RK_COUNT
};
static const char *const res_keys[RK_COUNT] = {
	"name", "minor", "assume-clean", "on-io-error", "options", "nodes", "secret-file",
	"data-digest", "read-balancing",
};

/* secret-file: an absolute path shorter than RBLK_PATH_MAX_BYTES (read by 'up'). */
static bool get_secret_file(struct pctx *p, const yaml_node_t *n, const char *path,
			    struct conf_resource *r)
{
	const char *s = scalar(p, n, path, "an absolute path of the shared secret file");
	size_t len;

	if (!s)
		return false;
	len = strlen(s);
	if (s[0] != '/') {
		perr(p, loc_of(p, n), path,
		     "expected an absolute path of the shared secret file (starting with /), got '%s'",
		     s);
		return false;
	}
	if (len >= sizeof(r->secret_file)) {
		perr(p, loc_of(p, n), path, "the path of the secret file has %zu bytes: at most %zu",
		     len, sizeof(r->secret_file) - 1);
		return false;
	}
	memcpy(r->secret_file, s, len + 1);
	return true;
}

static bool res_cb(struct pctx *p, int key, const yaml_node_t *v, const char *path, void *arg)
{
	struct conf_resource *r = arg;
	yaml_node_item_t *it;
	char sub[256];

	switch (key) {
	case RK_NAME:
		r->loc_name = loc_of(p, v);
		return get_name(p, v, path, r->name, sizeof(r->name));
	case RK_MINOR:
		r->loc_minor = loc_of(p, v);
		return get_u32(p, v, path, 0, RBLK_MAX_MINOR, NULL, &r->minor);
	case RK_ASSUME_CLEAN:
		perr(p, loc_of(p, p->key), path, "%s", assume_clean_gone);
		return false;
	case RK_ON_IO_ERROR:
		return get_word(p, v, path, on_io_error_name, __RBLK_ON_IO_ERROR_MAX,
				&r->has_on_io_error, &r->on_io_error);
	case RK_OPTIONS:
		return parse_options(p, v, path, &r->options, &r->quorum, &r->primary);
	case RK_SECRET_FILE:
		return get_secret_file(p, v, path, r);
	case RK_DATA_DIGEST:
		return get_word(p, v, path, data_digest_name, __RBLK_DATA_DIGEST_MAX,
				&r->has_data_digest, &r->data_digest);
	case RK_READ_BALANCING:
		return get_word(p, v, path, read_balancing_name, __RBLK_READ_BALANCING_MAX,
				&r->has_read_balancing, &r->read_balancing);
	case RK_NODES:
		if (v->type != YAML_SEQUENCE_NODE) {
			perr(p, loc_of(p, v), path, "expected a list of nodes, got %s", node_kind(v));
			return false;
		}
		for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
			yaml_node_t *nn = yaml_document_get_node(p->doc, *it);
			const yaml_node_t *seen[NK_COUNT];
			struct conf_node *n;

			snprintf(sub, sizeof(sub), "%s[%u]", path, r->n_nodes);
			if (r->n_nodes > RBLK_MAX_NODE_ID) {
				perr(p, loc_of(p, nn), sub, "too many nodes (at most %d)",
				     RBLK_MAX_NODE_ID + 1);
				return false;
			}
			n = &r->nodes[r->n_nodes++];
			n->loc = loc_of(p, nn);
			if (!walk_map(p, nn, sub, node_keys, NK_COUNT, node_cb, n, seen))
				return false;
			if (!need_key(p, nn, sub, seen, node_keys, NK_NAME) ||
			    !need_key(p, nn, sub, seen, node_keys, NK_NODE_ID) ||
			    !need_key(p, nn, sub, seen, node_keys, NK_ADDRESS))
				return false;
		}
		if (r->n_nodes == 0) {
			perr(p, loc_of(p, v), path, "expected at least one node");
			return false;
		}
		return true;
	}
	return false;
}

/* --- top level --- */

enum { TK_CLUSTER, TK_OPTIONS, TK_RESOURCES, TK_INCLUDE, TK_COUNT };
static const char *const top_keys[TK_COUNT] = { "cluster", "options", "resources", "include" };

/* The resources of list @v appended to @c's (the main file's first). */
static bool add_resources(struct pctx *p, struct conf *c, const yaml_node_t *v,
			  const char *path)
{
	struct conf_resource *nr;
	yaml_node_item_t *it;
	char sub[256];
	size_t n;

	if (v->type != YAML_SEQUENCE_NODE) {
		perr(p, loc_of(p, v), path, "expected a list of resources, got %s", node_kind(v));
		return false;
	}
	n = v->data.sequence.items.top - v->data.sequence.items.start;
	if (n == 0) {
		perr(p, loc_of(p, v), path, "expected at least one resource");
		return false;
	}
	if (c->n_res + n > RBLK_MAX_MINOR + 1) {
		perr(p, loc_of(p, v), path, "too many resources (at most %d in all files)",
		     RBLK_MAX_MINOR + 1);
		return false;
	}
	nr = realloc(c->res, (c->n_res + n) * sizeof(*c->res));
	if (!nr) {
		perr(p, loc_of(p, v), path, "out of memory");
		return false;
	}
	c->res = nr;
	memset(c->res + c->n_res, 0, n * sizeof(*c->res));
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *rn = yaml_document_get_node(p->doc, *it);
		const yaml_node_t *seen[RK_COUNT];
		struct conf_resource *r = &c->res[c->n_res];

		snprintf(sub, sizeof(sub), "resources[%u]", c->n_res);
		c->n_res++;
		r->loc = loc_of(p, rn);
		if (!walk_map(p, rn, sub, res_keys, RK_COUNT, res_cb, r, seen))
			return false;
		if (!need_key(p, rn, sub, seen, res_keys, RK_NAME) ||
		    !need_key(p, rn, sub, seen, res_keys, RK_MINOR) ||
		    !need_key(p, rn, sub, seen, res_keys, RK_NODES))
			return false;
	}
	return true;
}

/* include: one pattern or a list of them, each a non-empty string. */
static bool check_include(struct pctx *p, const yaml_node_t *v, const char *path)
{
	yaml_node_item_t *it;

	if (v->type == YAML_SCALAR_NODE) {
		const char *s = scalar(p, v, path, "a file name or pattern");

		if (s && !s[0])
			perr(p, loc_of(p, v), path, "expected a file name or pattern, got ''");
		return s && s[0];
	}
	if (v->type != YAML_SEQUENCE_NODE) {
		perr(p, loc_of(p, v), path, "expected a file name or pattern, or a list of them, got %s",
		     node_kind(v));
		return false;
	}
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++)
		if (!check_include(p, yaml_document_get_node(p->doc, *it), path))
			return false;
	return true;
}

static bool top_cb(struct pctx *p, int key, const yaml_node_t *v, const char *path, void *arg)
{
	struct conf *c = arg;

	if (p->loc_file && key != TK_RESOURCES) {
		perr(p, loc_of(p, p->key), path,
		     "only 'resources' may be given in an included file; '%s' belongs in the main file %s",
		     top_keys[key], c->file);
		return false;
	}
	switch (key) {
	case TK_CLUSTER:
		return get_name(p, v, path, c->cluster, sizeof(c->cluster));
	case TK_OPTIONS:
		return parse_options(p, v, path, &c->options, &c->quorum, &c->primary);
	case TK_RESOURCES:
		return add_resources(p, c, v, path);
	case TK_INCLUDE:
		p->include = v;
		return check_include(p, v, path);
	}
	return false;
}

/*
 * The whole of @f into a NUL-terminated buffer (*@buf, to free), at most
 * 16 MiB; -1 with the reason in @err.
 */
static int read_text(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	size_t cap = 0, k;
	char *b = NULL;

	*len = 0;
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (cap - *len < 4096) {
			char *nb;

			cap = cap ? cap * 2 : 16384;
			if (cap > (16u << 20)) {
				snprintf(err, errlen, "%s: file too large", path);
				goto fail;
			}
			nb = realloc(b, cap);
			if (!nb) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			b = nb;
		}
		k = fread(b + *len, 1, cap - *len - 1, f);
		*len += k;
		if (k == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto fail;
	}
	fclose(f);
	b[*len] = 0;
	*buf = b;
	return 0;
fail:
	free(b);
	fclose(f);
	return -1;
}

/* A YAML document of @text, or false with the error (@file:line:col) in @err. */
static bool load_yaml(const char *file, const char *text, size_t len, yaml_document_t *doc,
		      char *err, size_t errlen)
{
	yaml_parser_t parser;

	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "%s: cannot initialize the YAML parser", file);
		return false;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, doc)) {
		snprintf(err, errlen, "%s:%zu:%zu: %s%s%s", file,
			 parser.problem_mark.line + 1, parser.problem_mark.column + 1,
			 parser.problem ? parser.problem : "YAML syntax error",
			 parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return false;
	}
	yaml_parser_delete(&parser);
	return true;
}

/*
 * glob(3): a directory that does not exist matches nothing; any other error
 * aborts, and is kept for the message (glob() has no argument for it).
 */
static int glob_errno;
static char glob_error_path[4096];

static int glob_error(const char *path, int err)
{
	if (err == ENOENT || err == ENOTDIR)
		return 0;
	glob_errno = err;
	snprintf(glob_error_path, sizeof(glob_error_path), "%s", path);
	return 1;
}

/*
 * Remember file @name (stat'ed as @st) as read; false with an error at @l
 * if it was read already, under this or another name.
 */
static bool file_once(struct pctx *p, const char *name, const struct stat *st,
		      struct conf_loc l)
{
	struct file_id *nf;
	unsigned int i;

	for (i = 0; i < p->n_files; i++)
		if (p->files[i].dev == st->st_dev && p->files[i].ino == st->st_ino) {
			if (i == 0)	/* parse_includes() puts the main file first */
				perr(p, l, "include", "%s is the main file itself", name);
			else if (!strcmp(p->files[i].name, name))
				perr(p, l, "include", "%s is included twice", name);
			else
				perr(p, l, "include", "%s is %s, already read", name,
				     p->files[i].name);
			return false;
		}
	nf = realloc(p->files, (p->n_files + 1) * sizeof(*p->files));
	if (!nf) {
		perr(p, l, "include", "out of memory");
		return false;
	}
	p->files = nf;
	p->files[p->n_files++] = (struct file_id){ st->st_dev, st->st_ino, name };
	return true;
}

/*
 * The resources of included file @path (kept in @c->included; stat'ed as
 * @st, matched by the include pattern at @l) appended to @c's.
 */
static bool parse_included(struct pctx *p, struct conf *c, const char *path,
			   const struct stat *st, struct conf_loc l)
{
	struct pctx q = { .file = path, .err = p->err, .errlen = p->errlen };
	const yaml_node_t *seen[TK_COUNT];
	yaml_document_t doc;
	yaml_node_t *root;
	char **ni, *name;
	size_t len;
	char *text;
	bool ok;

	ni = realloc(c->included, (c->n_included + 1) * sizeof(*c->included));
	name = strdup(path);
	if (ni)
		c->included = ni;
	if (!ni || !name) {
		free(name);
		snprintf(p->err, p->errlen, "%s: out of memory", path);
		p->failed = true;
		return false;
	}
	c->included[c->n_included++] = name;
	if (!file_once(p, name, st, l))
		return false;
	q.file = q.loc_file = name;
	if (read_text(name, &text, &len, p->err, p->errlen)) {
		p->failed = true;
		return false;
	}
	ok = load_yaml(name, text, len, &doc, p->err, p->errlen);
	free(text);
	if (!ok) {
		p->failed = true;
		return false;
	}
	q.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root)
		perr(&q, (struct conf_loc){ 1, 1, name }, "(top level)",
		     "the file is empty: expected a mapping with 'resources'");
	else if (walk_map(&q, root, "", top_keys, TK_COUNT, top_cb, c, seen))
		need_key(&q, root, "(top level)", seen, top_keys, TK_RESOURCES);
	yaml_document_delete(&doc);
	p->failed = q.failed;
	return !q.failed;
}

/*
 * include: each pattern (relative ones to the main file's directory)
 * expanded with glob(3), in its sorted order.  A pattern without wildcard
 * must name an existing file; one with wildcards may match none (an
 * empty conf.d).
 */
static bool parse_includes(struct pctx *p, struct conf *c)
{
	const yaml_node_t *v = p->include;
	size_t k, n = v->type == YAML_SCALAR_NODE ? 1 :
		v->data.sequence.items.top - v->data.sequence.items.start;
	char dir[4096], pattern[8192];
	struct stat st;
	char *slash;
	bool ok = true;

	snprintf(dir, sizeof(dir), "%s", c->file);
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir ? 1 : 0] = 0;
	else
		snprintf(dir, sizeof(dir), ".");
	if (stat(c->file, &st) == 0 && !file_once(p, c->file, &st, loc_of(p, v)))
		return false;
	for (k = 0; k < n && ok; k++) {
		const yaml_node_t *pn = v->type == YAML_SCALAR_NODE ? v :
			yaml_document_get_node(p->doc, v->data.sequence.items.start[k]);
		const char *pat = (const char *)pn->data.scalar.value;
		struct conf_loc l = loc_of(p, pn);
		size_t i, len;
		glob_t g;
		int ret;

		if (pat[0] == '/')
			len = snprintf(pattern, sizeof(pattern), "%s", pat);
		else
			len = snprintf(pattern, sizeof(pattern), "%s/%s", dir, pat);
		if (len >= sizeof(pattern)) {
			perr(p, l, "include", "pattern too long");
			return false;
		}
		glob_errno = 0;
		ret = glob(pattern, 0, glob_error, &g);
		if (ret == GLOB_NOMATCH) {
			if (strpbrk(pat, "*?["))
				continue;
			perr(p, l, "include", "%s: %s", pattern, strerror(ENOENT));
			return false;
		}
		if (ret) {
			if (ret == GLOB_NOSPACE)
				perr(p, l, "include", "%s: out of memory", pattern);
			else
				perr(p, l, "include", "%s: %s", glob_error_path,
				     strerror(glob_errno ? glob_errno : EIO));
			return false;
		}
		for (i = 0; i < g.gl_pathc && ok; i++) {
			const char *f = g.gl_pathv[i];

			if (stat(f, &st)) {
				perr(p, l, "include", "%s: %s", f, strerror(errno));
				ok = false;
			} else if (!S_ISREG(st.st_mode)) {
				perr(p, l, "include", "%s: not a regular file", f);
				ok = false;
			} else {
				ok = parse_included(p, c, f, &st, l);
			}
		}
		globfree(&g);
	}
	return ok;
}

/* --- cross-field checks --- */

/*
 * Addresses given without a port get the resource's own range:
 * CONF_PORT_AUTO_BASE + minor * (RBLK_MAX_NODE_ID + 1), so that resources
 * sharing an IP never need their ports planned (minor 1023 ends at 40555).
 */
static_assert(CONF_PORT_AUTO_BASE + (CONF_PORT_AUTO_MAX_MINOR + 1) * (RBLK_MAX_NODE_ID + 1) <=
	      CONF_PORT_AUTO_END, "automatic ports past the end of their range");

static bool assign_ports(struct pctx *p, struct conf *c)
{
	unsigned int ri, i, j;

	for (ri = 0; ri < c->n_res; ri++) {
		struct conf_resource *r = &c->res[ri];
		uint16_t port = CONF_PORT_AUTO_BASE + r->minor * (RBLK_MAX_NODE_ID + 1);

		for (i = 0; i < r->n_nodes; i++) {
			struct conf_node *n = &r->nodes[i];
			bool need = !n->addr.port;

			for (j = 0; j < n->n_addr_for; j++)
				need |= !n->addr_for[j].addr.port;
			if (need && r->minor > CONF_PORT_AUTO_MAX_MINOR) {
				char path[128];

				snprintf(path, sizeof(path), "resources[%u].nodes[%u].address", ri, i);
				perr(p, n->loc_address, path,
				     "no port, and automatic ports end at minor %u (the ports from %u are the kernel's ephemeral ones): give the addresses of minor %u a port",
				     CONF_PORT_AUTO_MAX_MINOR, CONF_PORT_AUTO_END, r->minor);
				return false;
			}
			if (!n->addr.port)
				n->addr.port = port;
			for (j = 0; j < n->n_addr_for; j++)
				if (!n->addr_for[j].addr.port)
					n->addr_for[j].addr.port = port;
		}
	}
	return true;
}

void conf_effective_options(const struct conf *c, const struct conf_resource *r,
			    const struct conf_node *local, uint32_t out[OPT_COUNT])
{
	const struct conf_options *layers[3] = { &c->options, &r->options,
						 local ? &local->options : NULL };
	unsigned int i, l;

	for (i = 0; i < OPT_COUNT; i++) {
		out[i] = conf_opt[i].def;
		for (l = 0; l < 3; l++)
			if (layers[l] && layers[l]->set[i])
				out[i] = layers[l]->v[i];
	}
}

uint32_t conf_max_peers(const struct conf_resource *r)
{
	return r->n_nodes > 1 ? r->n_nodes - 1 : 1;
}

void conf_effective_quorum(const struct conf *c, const struct conf_resource *r,
			   uint32_t *quorum, uint8_t *on_no_quorum)
{
	const struct conf_quorum *q = r->quorum.has_quorum ? &r->quorum : &c->quorum;
	const struct conf_quorum *o = r->quorum.has_on_no_quorum ? &r->quorum : &c->quorum;

	*quorum = q->has_quorum ? q->quorum : RBLK_QUORUM_OFF;
	*on_no_quorum = o->has_on_no_quorum ? o->on_no_quorum : RBLK_ON_NO_QUORUM_SUSPEND_IO;
}

void conf_effective_primary(const struct conf *c, const struct conf_resource *r,
			    bool *auto_promote, uint8_t *fencing, const char **fence_handler)
{
	const struct conf_primary *a = r->primary.has_auto_promote ? &r->primary : &c->primary;
	const struct conf_primary *f = r->primary.has_fencing ? &r->primary : &c->primary;
	const struct conf_primary *h = r->primary.has_fence_handler ? &r->primary : &c->primary;

	*auto_promote = a->has_auto_promote && a->auto_promote;
	*fencing = f->has_fencing ? f->fencing : RBLK_FENCING_OFF;
	*fence_handler = h->has_fence_handler ? h->fence_handler : "";
}

int conf_on_io_error(const struct conf_resource *r, const struct conf_node *n)
{
	if (n->has_on_io_error)
		return n->on_io_error;
	return r->has_on_io_error ? r->on_io_error : -1;
}

/* How specifically option @i is set for node @n: 3 node, 2 resource, 1 file, 0 default. */
static int opt_level(const struct conf *c, const struct conf_resource *r,
		     const struct conf_node *n, int i)
{
	if (n->options.set[i])
		return 3;
	if (r->options.set[i])
		return 2;
	return c->options.set[i] ? 1 : 0;
}

/* Where the more specifically set of options @i and @j was given. */
static struct conf_loc opt_loc(const struct conf *c, const struct conf_resource *r,
			       const struct conf_node *n, int i, int j)
{
	int k = opt_level(c, r, n, i) >= opt_level(c, r, n, j) ? i : j;

	switch (opt_level(c, r, n, k)) {
	case 3:
		return n->options.loc[k];
	case 2:
		return r->options.loc[k];
	case 1:
		return c->options.loc[k];
	default:
		return n->loc;
	}
}

/* @n's configured address toward @peer (address-for, else address), and where it is. */
static const struct conf_addr *addr_toward(const struct conf_node *n,
					   const struct conf_node *peer,
					   struct conf_loc *loc)
{
	unsigned int i;

	for (i = 0; i < n->n_addr_for; i++) {
		if (!strcmp(n->addr_for[i].peer, peer->name)) {
			if (loc)
				*loc = n->addr_for[i].loc;
			return &n->addr_for[i].addr;
		}
	}
	if (loc)
		*loc = n->loc_address;
	return &n->addr;
}

void conf_endpoint(const struct conf_node *n, const struct conf_node *peer,
		   struct conf_addr *out)
{
	const struct conf_addr *a = addr_toward(n, peer, NULL);

	*out = *a;
	out->port = (uint16_t)(a->port + peer->node_id);
}

static bool check_options(struct pctx *p, const struct conf *c, unsigned int ri)
{
	const struct conf_resource *r = &c->res[ri];
	uint32_t v[OPT_COUNT];
	unsigned int i;
	char path[128];

	for (i = 0; i < r->n_nodes; i++) {
		const struct conf_node *n = &r->nodes[i];

		conf_effective_options(c, r, n, v);
		if (v[OPT_RECONNECT_MIN] > v[OPT_RECONNECT_MAX]) {
			snprintf(path, sizeof(path), "resources[%u].nodes[%u]", ri, i);
			perr(p, opt_loc(c, r, n, OPT_RECONNECT_MIN, OPT_RECONNECT_MAX), path,
			     "reconnect-min-ms (%u) must not exceed reconnect-max-ms (%u)",
			     v[OPT_RECONNECT_MIN], v[OPT_RECONNECT_MAX]);
			return false;
		}
		if (v[OPT_PING_TIMEOUT] <= v[OPT_PING_INTERVAL]) {
			snprintf(path, sizeof(path), "resources[%u].nodes[%u]", ri, i);
			perr(p, opt_loc(c, r, n, OPT_PING_TIMEOUT, OPT_PING_INTERVAL), path,
			     "ping-timeout-ms (%u) must be greater than ping-interval-ms (%u)",
			     v[OPT_PING_TIMEOUT], v[OPT_PING_INTERVAL]);
			return false;
		}
	}
	return true;
}

/* A number of votes is at most the resource's nodes (one vote each). */
static bool check_quorum(struct pctx *p, const struct conf *c, unsigned int ri)
{
	const struct conf_resource *r = &c->res[ri];
	const struct conf_quorum *q = r->quorum.has_quorum ? &r->quorum : &c->quorum;
	char path[128], ref[4200];

	if (!q->has_quorum || q->quorum == RBLK_QUORUM_MAJORITY || q->quorum <= r->n_nodes)
		return true;
	if (q == &r->quorum) {
		snprintf(path, sizeof(path), "resources[%u].options.quorum", ri);
		perr(p, q->loc_quorum, path,
		     "%u votes exceed the number of nodes of resource '%s' (%u): expected off, majority or 1..%u",
		     q->quorum, r->name, r->n_nodes, r->n_nodes);
	} else {
		perr(p, q->loc_quorum, "options.quorum",
		     "%u votes exceed the number of nodes of resources[%u] '%s' at %s (%u); give that resource its own quorum (off, majority or 1..%u)",
		     q->quorum, ri, r->name, line_ref(p, q->loc_quorum, r->loc, ref, sizeof(ref)),
		     r->n_nodes, r->n_nodes);
	}
	return false;
}

/* Fencing other than off needs a handler to run (the kernel's rule too). */
static bool check_fencing(struct pctx *p, const struct conf *c, unsigned int ri)
{
	const struct conf_resource *r = &c->res[ri];
	const struct conf_primary *f = r->primary.has_fencing ? &r->primary : &c->primary;
	const char *handler;
	uint8_t fencing;
	bool auto_promote;
	char path[128], ref[4200];

	conf_effective_primary(c, r, &auto_promote, &fencing, &handler);
	if (fencing == RBLK_FENCING_OFF || handler[0])
		return true;
	if (f == &r->primary) {
		snprintf(path, sizeof(path), "resources[%u].options.fencing", ri);
		perr(p, f->loc_fencing, path,
		     "fencing %s needs a fence-handler (the program run to fence a lost peer): add fence-handler: /absolute/path, or fencing: off",
		     fencing_name(fencing));
	} else {
		perr(p, f->loc_fencing, "options.fencing",
		     "fencing %s needs a fence-handler (the program run to fence a lost peer), and resources[%u] '%s' at %s has none: add fence-handler: /absolute/path to the same options, or fencing: off",
		     fencing_name(fencing), ri, r->name,
		     line_ref(p, f->loc_fencing, r->loc, ref, sizeof(ref)));
	}
	return false;
}

/*
 * meta-disk: only with a disk; an external one is not the node's disk, and
 * holds the metadata of one resource only (nor is it a disk of the same
 * node in another resource).  Nodes of the same name are the same host.
 */
static bool check_meta_disk(struct pctx *p, const struct conf *c, unsigned int ri,
			    unsigned int ni)
{
	const struct conf_node *n = &c->res[ri].nodes[ni];
	unsigned int rj;
	char path[128], ref[4200];

	if (!n->loc_meta_disk.line)
		return true;
	snprintf(path, sizeof(path), "resources[%u].nodes[%u].meta-disk", ri, ni);
	if (!n->disk[0]) {
		perr(p, n->loc_meta_disk, path,
		     "a node without 'disk' has no metadata: remove meta-disk or add disk");
		return false;
	}
	if (!n->meta_disk[0])
		return true;
	if (!strcmp(n->meta_disk, n->disk)) {
		perr(p, n->loc_meta_disk, path,
		     "meta-disk %s is this node's disk (line %u); for metadata at the end of the disk use internal",
		     n->meta_disk, n->loc_disk.line);
		return false;
	}
	for (rj = 0; rj < c->n_res; rj++) {
		const struct conf_node *o;

		if (rj == ri)
			continue;
		o = conf_find_node(&c->res[rj], n->name);
		if (!o)
			continue;
		if (!strcmp(o->disk, n->meta_disk)) {
			perr(p, n->loc_meta_disk, path,
			     "meta-disk %s is also the disk of node '%s' in resources[%u] '%s' (%s)",
			     n->meta_disk, n->name, rj, c->res[rj].name,
			     line_ref(p, n->loc_meta_disk, o->loc_disk, ref, sizeof(ref)));
			return false;
		}
		if (rj < ri && !strcmp(o->meta_disk, n->meta_disk)) {
			perr(p, n->loc_meta_disk, path,
			     "meta-disk %s is also the meta-disk of node '%s' in resources[%u] '%s' (%s); an external meta-disk holds the metadata of one resource only",
			     n->meta_disk, n->name, rj, c->res[rj].name,
			     line_ref(p, n->loc_meta_disk, o->loc_meta_disk, ref, sizeof(ref)));
			return false;
		}
	}
	return true;
}

static bool check_resource(struct pctx *p, const struct conf *c, unsigned int ri)
{
	const struct conf_resource *r = &c->res[ri];
	unsigned int i, j;
	char path[128], ref[4200];
	char a1[64];

	for (j = 0; j < ri; j++) {
		const struct conf_resource *o = &c->res[j];

		if (!strcmp(o->name, r->name)) {
			snprintf(path, sizeof(path), "resources[%u].name", ri);
			perr(p, r->loc_name, path,
			     "duplicate resource name '%s' (also resources[%u] at %s)",
			     r->name, j, line_ref(p, r->loc_name, o->loc_name, ref, sizeof(ref)));
			return false;
		}
		if (o->minor == r->minor) {
			snprintf(path, sizeof(path), "resources[%u].minor", ri);
			perr(p, r->loc_minor, path,
			     "minor %u already used by resource '%s' (%s)",
			     r->minor, o->name, line_ref(p, r->loc_minor, o->loc_minor, ref, sizeof(ref)));
			return false;
		}
	}
	for (i = 0; i < r->n_nodes; i++) {
		const struct conf_node *n = &r->nodes[i];

		if (!check_meta_disk(p, c, ri, i))
			return false;
		for (j = 0; j < i; j++) {
			const struct conf_node *o = &r->nodes[j];

			if (!strcmp(o->name, n->name)) {
				snprintf(path, sizeof(path), "resources[%u].nodes[%u].name", ri, i);
				perr(p, n->loc_name, path,
				     "duplicate node name '%s' (also nodes[%u] at line %u)",
				     n->name, j, o->loc_name.line);
				return false;
			}
			if (o->node_id == n->node_id) {
				snprintf(path, sizeof(path), "resources[%u].nodes[%u].node-id", ri, i);
				perr(p, n->loc_node_id, path,
				     "duplicate node id %u (also nodes[%u] '%s' at line %u)",
				     n->node_id, j, o->name, o->loc_node_id.line);
				return false;
			}
			if (o->addr.family != n->addr.family) {
				snprintf(path, sizeof(path), "resources[%u].nodes[%u].address", ri, i);
				perr(p, n->loc_address, path,
				     "%s address, but nodes[%u] '%s' uses %s (line %u); all nodes of a resource must use the same address family",
				     n->addr.family == AF_INET6 ? "IPv6" : "IPv4", j, o->name,
				     o->addr.family == AF_INET6 ? "IPv6" : "IPv4",
				     o->loc_address.line);
				return false;
			}
			if (addr_equal(&o->addr, &n->addr)) {
				format_addr(&n->addr, a1, sizeof(a1));
				snprintf(path, sizeof(path), "resources[%u].nodes[%u].address", ri, i);
				perr(p, n->loc_address, path,
				     "duplicate address %s (also nodes[%u] '%s' at line %u)",
				     a1, j, o->name, o->loc_address.line);
				return false;
			}
		}
		for (j = 0; j < n->n_addr_for; j++) {
			const struct conf_addr_for *af = &n->addr_for[j];
			const struct conf_node *o = conf_find_node(r, af->peer);

			snprintf(path, sizeof(path), "resources[%u].nodes[%u].address-for.%s",
				 ri, i, af->peer);
			if (!o || o == n) {
				perr(p, af->loc_key, path,
				     o ? "expected the name of a peer, got this node itself" :
				     "no node '%s' in this resource", af->peer);
				return false;
			}
			if (af->addr.family != n->addr.family) {
				perr(p, af->loc, path,
				     "%s address, but this node's address uses %s (line %u); all nodes of a resource must use the same address family",
				     af->addr.family == AF_INET6 ? "IPv6" : "IPv4",
				     n->addr.family == AF_INET6 ? "IPv6" : "IPv4",
				     n->loc_address.line);
				return false;
			}
		}
		for (j = 0; j < r->n_nodes; j++) {
			struct conf_loc l;
			const struct conf_addr *a;

			if (&r->nodes[j] == n)
				continue;
			a = addr_toward(n, &r->nodes[j], &l);
			if ((uint32_t)a->port + r->nodes[j].node_id > 65535) {
				snprintf(path, sizeof(path), "resources[%u].nodes[%u].%s", ri, i,
					 a == &n->addr ? "address" : "address-for");
				perr(p, l, path, "port %u + peer node id %u exceeds 65535",
				     a->port, r->nodes[j].node_id);
				return false;
			}
		}
	}
	return check_quorum(p, c, ri) && check_fencing(p, c, ri) && check_options(p, c, ri);
}

/*
 * Every listening endpoint (the higher node id of a pair listens on its
 * address with port + the lower node's id) must be unique in the file.
 */
struct lep {
	struct conf_addr a;
	struct conf_loc loc;
	unsigned int ri, ni;
	uint32_t peer_id;
};

static bool check_endpoints(struct pctx *p, const struct conf *c)
{
	struct lep *eps = NULL;
	size_t n = 0, cap = 0, k;
	unsigned int ri, i, j;
	bool ok = true;

	for (ri = 0; ri < c->n_res && ok; ri++) {
		const struct conf_resource *r = &c->res[ri];

		for (i = 0; i < r->n_nodes && ok; i++) {
			for (j = 0; j < r->n_nodes && ok; j++) {
				const struct conf_node *me = &r->nodes[i], *peer = &r->nodes[j];
				struct lep e;

				if (peer->node_id >= me->node_id)
					continue;
				conf_endpoint(me, peer, &e.a);
				addr_toward(me, peer, &e.loc);
				e.ri = ri;
				e.ni = i;
				e.peer_id = peer->node_id;
				for (k = 0; k < n; k++) {
					if (addr_equal(&eps[k].a, &e.a)) {
						const struct lep *o = &eps[k];
						char path[128], a[64], ref[4200];

						format_addr(&e.a, a, sizeof(a));
						snprintf(path, sizeof(path), "resources[%u].nodes[%u].%s",
							 ri, i, e.loc.line == me->loc_address.line &&
							 e.loc.col == me->loc_address.col ?
							 "address" : "address-for");
						perr(p, e.loc, path,
						     "listening address %s (port %u + peer node id %u) is also used by resources[%u].nodes[%u] '%s' for peer node id %u (%s)",
						     a, e.a.port - peer->node_id, peer->node_id, o->ri,
						     o->ni, c->res[o->ri].nodes[o->ni].name, o->peer_id,
						     line_ref(p, e.loc, o->loc, ref, sizeof(ref)));
						ok = false;
						break;
					}
				}
				if (!ok)
					break;
				if (n == cap) {
					struct lep *ne;

					cap = cap ? cap * 2 : 64;
					ne = realloc(eps, cap * sizeof(*eps));
					if (!ne) {
						perr(p, r->loc, "resources", "out of memory");
						ok = false;
						break;
					}
					eps = ne;
				}
				eps[n++] = e;
			}
		}
	}
	free(eps);
	return ok;
}

int conf_parse_string(const char *file, const char *text, size_t len,
		      struct conf *c, char *err, size_t errlen)
{
	yaml_document_t doc;
	struct pctx p = { .file = file, .doc = &doc, .err = err, .errlen = errlen };
	const yaml_node_t *seen[TK_COUNT];
	yaml_node_t *root;
	unsigned int i;

	memset(c, 0, sizeof(*c));
	snprintf(c->file, sizeof(c->file), "%s", file);
	err[0] = 0;
	if (!load_yaml(file, text, len, &doc, err, errlen))
		return -1;

	root = yaml_document_get_root_node(&doc);
	if (!root) {
		snprintf(err, errlen, "%s:1:1: the file is empty: expected a mapping with 'resources'",
			 file);
		yaml_document_delete(&doc);
		return -1;
	}
	if (walk_map(&p, root, "", top_keys, TK_COUNT, top_cb, c, seen) &&
	    (seen[TK_INCLUDE] ||
	     need_key(&p, root, "(top level)", seen, top_keys, TK_RESOURCES)) &&
	    (!p.include || parse_includes(&p, c))) {
		if (!c->n_res)
			perr(&p, loc_of(&p, root), "(top level)",
			     "no resources: neither this file nor the files it includes define one");
		if (!p.failed)
			assign_ports(&p, c);
		for (i = 0; i < c->n_res && !p.failed; i++)
			check_resource(&p, c, i);
		if (!p.failed)
			check_endpoints(&p, c);
	}
	yaml_document_delete(&doc);
	free(p.files);
	if (p.failed) {
		conf_free(c);
		return -1;
	}
	return 0;
}

int conf_load(const char *path, struct conf *c, char *err, size_t errlen)
{
	size_t len;
	char *buf;
	int ret;

	memset(c, 0, sizeof(*c));
	if (read_text(path, &buf, &len, err, errlen))
		return -1;
	ret = conf_parse_string(path, buf, len, c, err, errlen);
	free(buf);
	return ret;
}

void conf_free(struct conf *c)
{
	unsigned int i;

	if (c->res)
		explicit_bzero(c->res, c->n_res * sizeof(*c->res));
	free(c->res);
	c->res = NULL;
	c->n_res = 0;
	for (i = 0; i < c->n_included; i++)
		free(c->included[i]);
	free(c->included);
	c->included = NULL;
	c->n_included = 0;
}

int conf_read_secret(const char *path, uint8_t *out, char *err, size_t errlen)
{
	uint8_t buf[RBLK_AUTH_SECRET_MAX_BYTES + 3];
	size_t len = 0;
	struct stat st;
	ssize_t k;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "secret file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st)) {
		snprintf(err, errlen, "secret file %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "secret file %s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen,
			 "secret file %s: mode %04o gives access to group or others: chmod 600 it",
			 path, (unsigned int)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	/* read one byte more than a secret with "\r\n" can have */
	while (len < sizeof(buf)) {
		k = read(fd, buf + len, sizeof(buf) - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			snprintf(err, errlen, "secret file %s: %s", path, strerror(errno));
			close(fd);
			explicit_bzero(buf, sizeof(buf));
			return -1;
		}
		if (k == 0)
			break;
		len += k;
	}
	close(fd);
	if (len && buf[len - 1] == '\n') {
		len--;
		if (len && buf[len - 1] == '\r')
			len--;
	}
	if (len < RBLK_AUTH_SECRET_MIN_BYTES || len > RBLK_AUTH_SECRET_MAX_BYTES) {
		if (len == 0)
			snprintf(err, errlen, "secret file %s: empty", path);
		else if (len > RBLK_AUTH_SECRET_MAX_BYTES)
			snprintf(err, errlen, "secret file %s: more than %d bytes", path,
				 RBLK_AUTH_SECRET_MAX_BYTES);
		else
			snprintf(err, errlen, "secret file %s: %zu bytes: at least %d", path, len,
				 RBLK_AUTH_SECRET_MIN_BYTES);
		explicit_bzero(buf, sizeof(buf));
		return -1;
	}
	memcpy(out, buf, len);
	explicit_bzero(buf, sizeof(buf));
	return (int)len;
}

int conf_load_secret(struct conf_resource *r, char *err, size_t errlen)
{
	int len;

	if (!r->secret_file[0])
		return 0;
	len = conf_read_secret(r->secret_file, r->secret, err, errlen);
	if (len < 0)
		return -1;
	r->secret_len = len;
	return 0;
}

const struct conf_resource *conf_find_resource(const struct conf *c, const char *name)
{
	unsigned int i;

	for (i = 0; i < c->n_res; i++)
		if (!strcmp(c->res[i].name, name))
			return &c->res[i];
	return NULL;
}

const struct conf_node *conf_find_node(const struct conf_resource *r, const char *name)
{
	unsigned int i;

	for (i = 0; i < r->n_nodes; i++)
		if (!strcmp(r->nodes[i].name, name))
			return &r->nodes[i];
	return NULL;
}

const struct conf_node *conf_find_node_id(const struct conf_resource *r, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < r->n_nodes; i++)
		if (r->nodes[i].node_id == id)
			return &r->nodes[i];
	return NULL;
}
