// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - rblkadm subcommands.
 *
 * High-level subcommands (up, down, primary, secondary, connect, disconnect,
 * create-md, dump-md, new-current-uuid, resume-io, status, metrics, doctor,
 * events, check)
 * read the topology file (resume-io only for a resource name, not for a
 * minor) and validate everything before the kernel is touched.  Low-level
 * subcommands (create-device ... show) map one-to-one onto the netlink
 * commands, need no topology file (device-options only for a resource
 * name) and send exactly the attributes given on the command line, so that
 * tests can check the kernel's own validation.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "rblkadm.h"

#define DEFAULT_CONF "/etc/rblk/rblk.conf"
#define RBLKADM_VERSION "0.1"

static const char *g_conf_path = DEFAULT_CONF;
static bool g_conf_explicit;
static const char *g_node;
static bool g_json;
static const char *g_cmd = "rblkadm";

__attribute__((format(printf, 1, 2)))
static void errmsg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "rblkadm: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ------------------------------------------------------------ option glue */

enum {
	O_NODE = 1000, O_FORCE, O_NAME, O_MINOR, O_NODE_ID, O_CLUSTER, O_DISK,
	O_META_DISK, O_PEER_NODE_ID, O_PEER, O_LOCAL, O_PEER_PORT, O_LOCAL_PORT,
	O_TIMEOUT, O_TIMESTAMPS, O_ON_IO_ERROR, O_DISCARD_MY_DATA, O_CLEAR_BITMAP,
	O_IGNORE_QUORUM, O_QUORUM, O_ON_NO_QUORUM, O_WITNESS, O_AUTO_PROMOTE, O_FENCING,
	O_FENCE_HANDLER, O_DATA_DIGEST, O_HEALTH, O_NAMES, O_NOW, O_READ_BALANCING,
	O_OPT0,	/* O_OPT0 + enum conf_opt */
};

struct cmd {
	const char *name;
	int (*fn)(const struct cmd *cmd, int argc, char **argv);
	const char *args;	/* synopsis after the name */
	const char *help;	/* description and options */
	const struct option *opts;
	const char *shortopts;
};

static const struct option common_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "node", required_argument, NULL, O_NODE },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
};
#define N_COMMON (sizeof(common_opts) / sizeof(common_opts[0]))

static void usage_cmd(const struct cmd *cmd, FILE *f)
{
	fprintf(f, "usage: rblkadm [-c FILE] [--node NAME] [-j] %s %s\n\n%s", cmd->name,
		cmd->args, cmd->help);
	fprintf(f, "\ncommon options: -c, --config FILE (default %s); --node NAME (default:\n"
		"uname -n); -j, --json; -h, --help\n", DEFAULT_CONF);
}

/*
 * getopt_long over the command's options plus the common ones.  Returns the
 * option, -1 at the end, or -2 after printing help/usage (*exit set).
 */
struct optstate {
	struct option all[48];
	char shorts[32];
	const struct cmd *cmd;
	int exit;
};

static void opt_init(struct optstate *s, const struct cmd *cmd)
{
	unsigned int n = 0, i;

	memset(s, 0, sizeof(*s));
	s->cmd = cmd;
	for (i = 0; i < N_COMMON; i++)
		s->all[n++] = common_opts[i];
	for (i = 0; cmd->opts && cmd->opts[i].name; i++)
		s->all[n++] = cmd->opts[i];
	/* options may follow the operands too ("dump-md RES -j"): no operand starts with '-' */
	snprintf(s->shorts, sizeof(s->shorts), "c:jh%s", cmd->shortopts ? cmd->shortopts : "");
	optind = 0;
	opterr = 1;
}

static int opt_next(struct optstate *s, int argc, char **argv)
{
	for (;;) {
		int c = getopt_long(argc, argv, s->shorts, s->all, NULL);

		switch (c) {
		case 'c':
			g_conf_path = optarg;
			g_conf_explicit = true;
			break;
		case O_NODE:
			g_node = optarg;
			break;
		case 'j':
			g_json = true;
			break;
		case 'h':
			usage_cmd(s->cmd, stdout);
			s->exit = EXIT_OK;
			return -2;
		case '?':
			usage_cmd(s->cmd, stderr);
			s->exit = EXIT_USAGE;
			return -2;
		default:
			return c;
		}
	}
}

static int bad_usage(const struct cmd *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "rblkadm: %s: ", cmd->name);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	usage_cmd(cmd, stderr);
	return EXIT_USAGE;
}

static bool parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long long x;

	if (!s[0] || s[0] == '-')
		return false;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (*end || errno || x > UINT32_MAX)
		return false;
	*v = (uint32_t)x;
	return true;
}

/* ------------------------------------------------------ kernel helpers */

static struct nlctx *g_nl;

static int nl_need(void)
{
	char err[ERRBUF_BYTES];
	int r;

	if (g_nl)
		return EXIT_OK;
	r = rnl_open(&g_nl, err, sizeof(err));
	if (r != EXIT_OK)
		errmsg("%s", err);
	return r;
}

static void report_kernel(const char *ctx1, const char *ctx2, const struct nl_result *res,
			  int ret)
{
	const char *sep = ctx2 ? ": " : "";

	if (ret == EXIT_KERNEL && res->msg[0])
		errmsg("%s%s%s: %s: %s", ctx1, sep, ctx2 ? ctx2 : "", strerror(-res->error),
		       res->msg);
	else if (ret == EXIT_KERNEL)
		errmsg("%s%s%s: %s", ctx1, sep, ctx2 ? ctx2 : "", strerror(-res->error));
	else if (ret == EXIT_NOMODULE)
		errmsg("%s%s%s: %s", ctx1, sep, ctx2 ? ctx2 : "", res->msg);
	else
		errmsg("%s%s%s: netlink: %s", ctx1, sep, ctx2 ? ctx2 : "", res->msg);
}

static int send_req(const char *ctx, const struct rblk_req *req)
{
	struct nl_result res;
	int r = nl_need();

	if (r != EXIT_OK)
		return r;
	r = rnl_request(g_nl, req, &res);
	if (r != EXIT_OK)
		report_kernel(ctx, NULL, &res, r);
	return r;
}

/* ------------------------------------------------------- config helpers */

static int load_conf(struct conf *c)
{
	char err[ERRBUF_BYTES];

	if (conf_load(g_conf_path, c, err, sizeof(err))) {
		errmsg("%s", err);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static const char *local_node_name(void)
{
	static struct utsname u;

	if (g_node)
		return g_node;
	if (uname(&u))
		return "";
	return u.nodename;
}

/* Resource @name and the local node in it, or an error (EXIT_USAGE). */
static int conf_resource_local(const struct conf *c, const char *name,
			       const struct conf_resource **rp, const struct conf_node **lp)
{
	const struct conf_resource *r = conf_find_resource(c, name);
	const struct conf_node *l;

	if (!r) {
		errmsg("%s: no resource '%s' in the file", c->file, name);
		return EXIT_USAGE;
	}
	l = conf_find_node(r, local_node_name());
	if (!l) {
		errmsg("%s:%u:%u: resources[%u]: this node '%s' (%s) is not a node of resource '%s'; use --node NAME",
		       conf_loc_file(c, r->loc), r->loc.line, r->loc.col, (unsigned int)(r - c->res),
		       local_node_name(), g_node ? "--node" : "uname -n", r->name);
		return EXIT_USAGE;
	}
	*rp = r;
	*lp = l;
	return EXIT_OK;
}

/*
 * The minor of @arg: a number is a minor (no topology file needed), else
 * the name of a resource of the topology file.
 */
static int resolve_minor(const char *arg, uint32_t *minor)
{
	const struct conf_resource *r;
	struct conf conf;
	int ret;

	if (parse_u32(arg, minor))
		return EXIT_OK;
	ret = load_conf(&conf);
	if (ret)
		return ret;
	r = conf_find_resource(&conf, arg);
	if (r) {
		*minor = r->minor;
	} else {
		errmsg("%s: no resource '%s' in the file", conf.file, arg);
		ret = EXIT_USAGE;
	}
	conf_free(&conf);
	return ret;
}

/* ------------------------------------------------------------- up / down */

/*
 * How long up and down retry attach, detach and delete-device while the
 * kernel says the device is open: udev opens a new or resized device for
 * a moment to probe it (blkid), which would make `up` or `down` fail at
 * random on any host running systemd-udevd.  A holder that stays (a VM, a
 * mount) still fails the request, after this delay.
 */
#define OPEN_RETRY_MS		5000
#define OPEN_RETRY_STEP_MS	100

/* @req, retried for up to OPEN_RETRY_MS while the device is open. */
static int request_while_open(const struct rblk_req *req, struct nl_result *res)
{
	const struct timespec step = { 0, OPEN_RETRY_STEP_MS * 1000000L };
	unsigned int waited_ms;
	int ret;

	for (waited_ms = 0;; waited_ms += OPEN_RETRY_STEP_MS) {
		ret = rnl_request(g_nl, req, res);
		if (ret != EXIT_KERNEL || res->error != -EBUSY ||
		    strncmp(res->msg, "device is open", 14) || waited_ms >= OPEN_RETRY_MS ||
		    (req->cmd != RBLK_CMD_ATTACH && req->cmd != RBLK_CMD_DETACH &&
		     req->cmd != RBLK_CMD_DEVICE_DELETE))
			return ret;
		nanosleep(&step, NULL);
	}
}

static int run_plan(const struct conf_resource *r, const struct plan *p, bool dry_run,
		    const char *nothing)
{
	unsigned int i;
	int ret = EXIT_OK;

	out_open_object(NULL);
	print_string("resource_name", NULL, r->name);
	print_uint("minor", NULL, r->minor);
	print_bool("dry_run", NULL, dry_run);
	print_bool("changed", NULL, p->n > 0 && !dry_run);
	if (p->n == 0)
		print_human("%s: %s\n", r->name, nothing);
	out_open_array("operations");
	for (i = 0; i < p->n; i++) {
		const struct plan_op *op = &p->ops[i];
		struct nl_result res = { 0 };
		int r2 = EXIT_OK;

		if (!dry_run) {
			r2 = request_while_open(&op->req, &res);
			if (r2 != EXIT_OK)
				report_kernel(r->name, cmd_name(op->req.cmd), &res, r2);
			/* the kernel refuses a disk without rblk metadata with ENOMSG */
			if (r2 == EXIT_KERNEL && op->req.cmd == RBLK_CMD_ATTACH &&
			    res.error == -ENOMSG)
				errmsg("%s: %s has no rblk metadata: run 'rblkadm create-md %s' first",
				       r->name, (op->req.has & REQ_META_PATH) ? op->req.meta_path :
				       op->req.path, r->name);
		}
		out_open_object(NULL);
		print_string("op", NULL, cmd_name(op->req.cmd));
		print_human("%s: %s%s\n", r->name, dry_run ? "would " : "", op->what);
		print_string("description", NULL, op->what);
		print_string("result", NULL, dry_run ? "planned" : r2 == EXIT_OK ? "ok" : "failed");
		if (r2 != EXIT_OK) {
			print_string("error", NULL, r2 == EXIT_KERNEL ? strerror(-res.error) : "netlink");
			print_string("message", NULL, res.msg);
		}
		out_close_object();
		if (r2 != EXIT_OK) {
			ret = r2;
			break;
		}
	}
	out_close_array();
	out_close_object();
	return ret;
}

static int cmd_up_down(const struct cmd *cmd, int argc, char **argv)
{
	static const struct option o[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd c2 = *cmd;
	struct optstate s;
	struct conf conf;
	struct kdev *devs = NULL;
	unsigned int n_devs = 0, i;
	struct nl_result res;
	struct plan *plan;
	bool dry_run = false, up = !strcmp(cmd->name, "up");
	const char *which;
	int c, ret = EXIT_OK;

	c2.opts = o;
	c2.shortopts = "n";
	opt_init(&s, &c2);
	while ((c = opt_next(&s, argc, argv)) != -1) {
		if (c == -2)
			return s.exit;
		if (c == 'n')
			dry_run = true;
	}
	if (optind != argc - 1)
		return bad_usage(cmd, "%s", "expected one resource name or 'all'");
	which = argv[optind];
	out_init(stdout, g_json);
	c = load_conf(&conf);
	if (c)
		return c;
	if (strcmp(which, "all")) {
		const struct conf_resource *r;
		const struct conf_node *l;

		c = conf_resource_local(&conf, which, &r, &l);
		if (c) {
			conf_free(&conf);
			return c;
		}
	} else {
		for (i = 0; i < conf.n_res; i++)
			if (conf_find_node(&conf.res[i], local_node_name()))
				break;
		if (i == conf.n_res) {
			errmsg("%s: this node '%s' (%s) is not a node of any resource; use --node NAME",
			       conf.file, local_node_name(), g_node ? "--node" : "uname -n");
			conf_free(&conf);
			return EXIT_USAGE;
		}
	}
	ret = nl_need();
	if (ret == EXIT_OK) {
		ret = rnl_status(g_nl, -1, &devs, &n_devs, &res);
		if (ret != EXIT_OK)
			report_kernel(cmd->name, "status", &res, ret);
	}
	if (ret != EXIT_OK) {
		conf_free(&conf);
		return ret;
	}
	plan = malloc(sizeof(*plan));
	if (!plan) {
		errmsg("out of memory");
		free(devs);
		conf_free(&conf);
		return EXIT_SYSTEM;
	}
	out_open_array(NULL);
	for (i = 0; i < conf.n_res; i++) {
		struct conf_resource *r = &conf.res[i];
		const struct conf_node *l = conf_find_node(r, local_node_name());
		char err[ERRBUF_BYTES];
		int r2;

		if (strcmp(which, "all") && strcmp(which, r->name))
			continue;
		if (!l)
			continue;	/* "all": resources this node is not part of */
		if (up && conf_load_secret(r, err, sizeof(err))) {
			errmsg("%s: %s", r->name, err);
			if (ret == EXIT_OK)
				ret = EXIT_USAGE;
			continue;
		}
		if (up)
			r2 = plan_up(&conf, r, l, devs, n_devs, plan, err, sizeof(err));
		else
			r2 = plan_down(r, devs, n_devs, plan, err, sizeof(err));
		if (r2) {
			errmsg("%s", err);
			if (ret == EXIT_OK)
				ret = EXIT_CONFLICT;
			continue;
		}
		r2 = run_plan(r, plan, dry_run, up ? "up to date, nothing to do" :
			      "not configured in the kernel, nothing to do");
		if (r2 != EXIT_OK && ret == EXIT_OK)
			ret = r2;
	}
	out_close_array();
	out_flush();
	explicit_bzero(plan, sizeof(*plan));	/* DEVICE_OPTIONS carry the secret */
	free(plan);
	free(devs);
	conf_free(&conf);
	return ret;
}

/* ---------------------------------------- primary, secondary, (dis)connect */

/*
 * Load the topology file and find resource @name with this node in it.
 * EXIT_OK: *conf is loaded (the caller frees it); else the exit status,
 * with nothing to free.
 */
static int load_local_resource(const char *name, struct conf *conf,
			       const struct conf_resource **r, const struct conf_node **l)
{
	int ret = load_conf(conf);

	if (ret)
		return ret;
	ret = conf_resource_local(conf, name, r, l);
	if (ret)
		conf_free(conf);
	return ret;
}

static int cmd_role(const struct cmd *cmd, int argc, char **argv)
{
	static const struct option o[] = {
		{ "force", no_argument, NULL, O_FORCE },
		{ "ignore-quorum", no_argument, NULL, O_IGNORE_QUORUM },
		{ NULL, 0, NULL, 0 },
	};
	bool primary = !strcmp(cmd->name, "primary");
	struct cmd c2 = *cmd;
	struct optstate s;
	struct conf conf;
	const struct conf_resource *r;
	const struct conf_node *l;
	struct rblk_req req;
	char ctx[128];
	bool force = false, ignore_quorum = false;
	int c;

	if (primary)
		c2.opts = o;
	opt_init(&s, &c2);
	while ((c = opt_next(&s, argc, argv)) != -1) {
		if (c == -2)
			return s.exit;
		if (c == O_FORCE)
			force = true;
		if (c == O_IGNORE_QUORUM)
			ignore_quorum = true;
	}
	if (optind != argc - 1)
		return bad_usage(cmd, "%s", "expected one resource name");
	c = load_local_resource(argv[optind], &conf, &r, &l);
	if (c)
		return c;
	req_role(r, primary, force, ignore_quorum, &req);
	snprintf(ctx, sizeof(ctx), "%s: %s", r->name, cmd->name);
	conf_free(&conf);
	return send_req(ctx, &req);
}

static int cmd_conn(const struct cmd *cmd, int argc, char **argv)
{
	static const struct option o[] = {
		{ "discard-my-data", no_argument, NULL, O_DISCARD_MY_DATA },
		{ NULL, 0, NULL, 0 },
	};
	bool connect = !strcmp(cmd->name, "connect");
	struct cmd c2 = *cmd;
	struct optstate s;
	struct conf conf;
	const struct conf_resource *r;
	const struct conf_node *l, *peer = NULL;
	struct rblk_req req = { 0 };
	bool discard = false;
	char ctx[128];
	int c;

	if (connect)
		c2.opts = o;
	opt_init(&s, &c2);
	while ((c = opt_next(&s, argc, argv)) != -1) {
		if (c == -2)
			return s.exit;
		if (c == O_DISCARD_MY_DATA)
			discard = true;
	}
	if (optind != argc - 1 && optind != argc - 2)
		return bad_usage(cmd, "%s", "expected a resource name and optionally a peer");
	c = load_local_resource(argv[optind], &conf, &r, &l);
	if (c)
		return c;
	if (optind == argc - 2) {
		const char *ps = argv[optind + 1];
		uint32_t id;

		peer = conf_find_node(r, ps);
		if (!peer && parse_u32(ps, &id))
			peer = conf_find_node_id(r, id);
		if (!peer || peer == l) {
			errmsg("%s: resource '%s' has no peer '%s' (a node name or node id other than this node's)",
			       conf_loc_file(&conf, r->loc), r->name, ps);
			conf_free(&conf);
			return EXIT_USAGE;
		}
	}
	req_connect(r, peer, connect, discard, &req);
	snprintf(ctx, sizeof(ctx), "%s: %s", r->name, cmd->name);
	conf_free(&conf);
	return send_req(ctx, &req);
}

/* ------------------------------------------------ metadata: create, dump */

/* Resource @name, its local node, and that node's disk (EXIT_USAGE if none). */
static int conf_local_disk(const struct conf *c, const struct cmd *cmd, const char *name,
			   const struct conf_resource **rp, const struct conf_node **lp)
{
	int ret = conf_resource_local(c, name, rp, lp);

	if (ret)
		return ret;
	if (!(*lp)->disk[0]) {
		errmsg("%s: %s: node '%s' has no disk in resource '%s' (diskless: no metadata)",
		       conf_loc_file(c, (*rp)->loc), cmd->name, (*lp)->name, (*rp)->name);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int cmd_create_md(const struct cmd *cmd, int argc, char **argv)
{
	static const struct option o[] = {
		{ "force", no_argument, NULL, O_FORCE },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd c2 = *cmd;
	struct optstate s;
	struct conf conf;
	const struct conf_resource *r;
	const struct conf_node *l;
	struct rblk_req req;
	struct nl_result res;
	const char *paths[2];
	bool force = false;
	char ctx[128];
	int c, i, ret;

	c2.opts = o;
	opt_init(&s, &c2);
	while ((c = opt_next(&s, argc, argv)) != -1) {
		if (c == -2)
			return s.exit;
		if (c == O_FORCE)
			force = true;
	}
	if (optind != argc - 1)
		return bad_usage(cmd, "%s", "expected one resource name");
	ret = load_conf(&conf);
	if (ret)
		return ret;
	ret = conf_local_disk(&conf, cmd, argv[optind], &r, &l);
	if (ret)
		goto out;
	/* the data disk and the external meta-disk: nothing libblkid knows on them */
	paths[0] = l->disk;
	paths[1] = l->meta_disk[0] ? l->meta_disk : NULL;
	for (i = 0; i < 2 && !force; i++) {
		char what[128];
		int k;

		if (!paths[i])
			continue;
		k = probe_signature(paths[i], what, sizeof(what));
		if (k < 0) {
			errmsg("create-md: cannot probe %s: %s", paths[i], what);
			ret = EXIT_SYSTEM;
			goto out;
		}
		if (k > 0) {
			errmsg("create-md: %s holds %s; refusing (use --force to overwrite)",
			       paths[i], what);
			ret = EXIT_KERNEL;
			goto out;
		}
	}
	req_md_create(r, l, force, &req);
	ret = nl_need();
	if (ret)
		goto out;
	ret = rnl_request(g_nl, &req, &res);
	if (ret == EXIT_KERNEL && res.error == -EEXIST) {
		errmsg("create-md: %s already has rblk metadata (use --force to overwrite)",
		       l->meta_disk[0] ? l->meta_disk : l->disk);
		goto out;
	}
	if (ret != EXIT_OK) {
		snprintf(ctx, sizeof(ctx), "%s: %s", r->name, cmd->name);
		report_kernel(ctx, NULL, &res, ret);
		goto out;
	}
	out_init(stdout, g_json);
	out_open_object(NULL);
	print_string("resource_name", "%s: rblk metadata created", r->name);
	print_string("backing_path", " on %s", l->disk);
	print_string("meta_disk", " (meta-disk %s,", l->meta_disk[0] ? l->meta_disk : "internal");
	print_uint("max_peers", " max-peers %s)\n", req.max_peers);
	print_bool("force", NULL, force);
	out_close_object();
	out_flush();
out:
	conf_free(&conf);
	return ret;
}

static int cmd_dump_md(const struct cmd *cmd, int argc, char **argv)
{
	struct optstate s;
	struct conf conf;
	const struct conf_resource *r;
	const struct conf_node *l;
	struct rblk_req req;
	struct kdev *devs = NULL;
	unsigned int n = 0;
	struct nl_result res;
	struct kmd *md = NULL;
	const char *backing;
	int64_t minor = -1;
	char ctx[128];
	int c, ret;

	opt_init(&s, cmd);
	while ((c = opt_next(&s, argc, argv)) != -1)
		if (c == -2)
			return s.exit;
	if (optind != argc - 1)
		return bad_usage(cmd, "%s", "expected one resource name");
	ret = load_local_resource(argv[optind], &conf, &r, &l);
	if (ret)
		return ret;
	ret = nl_need();
	if (ret)
		goto out;
	snprintf(ctx, sizeof(ctx), "%s: %s", r->name, cmd->name);
	/*
	 * An attached device is read through the kernel (its in-memory state,
	 * with the out-of-sync counts); else the disk itself.
	 */
	ret = rnl_status(g_nl, r->minor, &devs, &n, &res);
	if (ret == EXIT_SYSTEM) {
		report_kernel(ctx, "status", &res, ret);
		goto out;
	}
	backing = l->disk;
	if (ret == EXIT_OK && n == 1 && !strcmp(devs[0].name, r->name) &&
	    devs[0].disk_state != RBLK_DISK_DISKLESS) {
		minor = r->minor;
		if (devs[0].backing[0])
			backing = devs[0].backing;
	} else {
		ret = conf_local_disk(&conf, cmd, r->name, &r, &l);
		if (ret)
			goto out;
	}
	req_md_dump(l, minor, &req);
	md = malloc(sizeof(*md));
	if (!md) {
		errmsg("out of memory");
		ret = EXIT_SYSTEM;
		goto out;
	}
	ret = rnl_md_dump(g_nl, &req, md, &res);
	if (ret == EXIT_KERNEL && res.error == -ENOMSG) {
		errmsg("dump-md: %s has no valid rblk metadata (run 'rblkadm create-md %s')",
		       l->meta_disk[0] ? l->meta_disk : backing, r->name);
		goto out;
	}
	if (ret != EXIT_OK) {
		report_kernel(ctx, NULL, &res, ret);
		goto out;
	}
	out_init(stdout, g_json);
	show_md(md, r->name, r, minor, backing, l->meta_disk);
	out_flush();
out:
	free(md);
	free(devs);
	conf_free(&conf);
	return ret;
}

static int cmd_new_uuid(const struct cmd *cmd, int argc, char **argv)
{
	static const struct option o[] = {
		{ "clear-bitmap", no_argument, NULL, O_CLEAR_BITMAP },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd c2 = *cmd;
	struct optstate s;
	struct conf conf;
	const struct conf_resource *r;
	const struct conf_node *l;
	struct rblk_req req;
	bool clear = false;
	char ctx[128];
	int c;

	c2.opts = o;
	opt_init(&s, &c2);
	while ((c = opt_next(&s, argc, argv)) != -1) {
		if (c == -2)
			return s.exit;
		if (c == O_CLEAR_BITMAP)
			clear = true;
	}
	if (optind != argc - 1)
		return bad_usage(cmd, "%s", "expected one resource name");
	c = load_local_resource(argv[optind], &conf, &r, &l);
	if (c)
		return c;
	req_new_current_uuid(r, clear, &req);
	snprintf(ctx, sizeof(ctx), "%s: %s", r->name, cmd->name);
	conf_free(&conf);
	return send_req(ctx, &req);
}

static int cmd_resume_io(const struct cmd *cmd, int argc, char **argv)
{
	struct optstate s;
	struct rblk_req req;
	uint32_t minor;
	char ctx[128];
	int c;

	opt_init(&s, cmd);
	while ((c = opt_next(&s, argc, argv)) != -1)
		if (c == -2)
			return s.exit;
	if (optind != argc - 1)
		return bad_usage(cmd, "%s", "expected one resource name or minor");
	c = resolve_minor(argv[optind], &minor);
	if (c)
		return c;
	req_resume_io(minor, &req);
	snprintf(ctx, sizeof(ctx), "%s: %s", argv[optind], cmd->name);
	return send_req(ctx, &req);
}

/* ----------------------------------------------------------- status/show */

/* Topology for peer names: optional unless -c was given. */
static bool conf_for_names(struct conf *c)
{
	char err[ERRBUF_BYTES];

	if (!g_conf_explicit && access(g_conf_path, F_OK))
		return false;
	if (conf_load(g_conf_path, c, err, sizeof(err))) {
		fprintf(stderr, "rblkadm: warning: %s (peer names not shown)\n", err);
		return false;
	}
	return true;
}

/*
 * What status, metrics and doctor work on: the devices of a STATUS dump
 * (only those named @name when it is not NULL), the topology file when
 * there is one, and health_check()'s judgement of them.
 */
struct judged {
	struct kdev *devs;
	unsigned int n;
	struct conf conf;
	bool have_conf;
	struct health h;
};

/*
 * STATUS of @minor (doit) or, @minor < 0, of every device (dump), then
 * the judgement.  EXIT_OK, or the exit status after the message;
 * judged_free() in either case.
 */
static int judge(const char *name, int64_t minor, struct judged *j)
{
	struct nl_result res;
	unsigned int i, k = 0;
	int r;

	memset(j, 0, sizeof(*j));
	j->have_conf = conf_for_names(&j->conf);
	r = nl_need();
	if (r != EXIT_OK)
		return r;
	r = rnl_status(g_nl, minor, &j->devs, &j->n, &res);
	if (r != EXIT_OK) {
		report_kernel(g_cmd, NULL, &res, r);
		return r;
	}
	for (i = 0; i < j->n; i++) {
		if (name && strcmp(j->devs[i].name, name))
			continue;
		if (k != i)
			j->devs[k] = j->devs[i];
		k++;
	}
	j->n = k;
	if (health_check(j->devs, j->n, j->have_conf ? &j->conf : NULL, local_node_name(), name,
			 &j->h)) {
		errmsg("out of memory");
		return EXIT_SYSTEM;
	}
	return EXIT_OK;
}

static void judged_free(struct judged *j)
{
	health_free(&j->h);
	free(j->devs);
	if (j->have_conf)
		conf_free(&j->conf);
}

/*
 * A resource @name that the kernel lacks: an error (EXIT_KERNEL) unless
 * @health and the file gives it to this node (then health_check()
 * judged it not up).
 */
static int missing_resource(const struct judged *j, const char *name, bool health)
{
	errmsg("%s: no resource '%s' configured in the kernel", g_cmd, name);
	return health && j->h.n ? health_exit(j->h.level) : EXIT_KERNEL;
}

/* status and show: @health: the exit status says what health_check() found. */
static int print_devices(const char *name, int64_t minor, bool stats, bool health)
{
	struct judged j;
	unsigned int i;
	int r = judge(name, minor, &j);

	if (r != EXIT_OK)
		goto out;
	if (minor < 0)
		out_open_array(NULL);
	for (i = 0; i < j.n; i++)
		show_device(&j.devs[i], j.have_conf ? &j.conf : NULL, stats);
	if (minor < 0)
		out_close_array();
	out_flush();
	if (name && !j.n) {
		r = missing_resource(&j, name, health);
		if (r == EXIT_KERNEL)
			goto out;
	} else if (!j.n && !out_is_json()) {
		printf("no rblk devices configured\n");
	}
	if (health) {
		if (j.h.n)
			print_human("health: %s (%u problem%s: rblkadm doctor explains)\n",
				    health_level_name(j.h.level), j.h.n, j.h.n > 1 ? "s" : "");
		else
			print_human("health: ok\n");
		r = health_exit(j.h.level);
	}
out:
	judged_free(&j);
	return r;
}

static int cmd_status(const struct cmd *cmd, int argc, char **argv)
{
	static const struct option o[] = {
		{ "statistics", no_argument, NULL, 's' },
		{ "health", no_argument, NULL, O_HEALTH },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd c2 = *cmd;
	struct optstate s;
	bool stats = false, health = false;
	int c;

	c2.opts = o;
	c2.shortopts = "s";
	opt_init(&s, &c2);
	while ((c = opt_next(&s, argc, argv)) != -1) {
		if (c == -2)
			return s.exit;
		if (c == 's')
			stats = true;
		if (c == O_HEALTH)
			health = true;
	}
	if (optind < argc - 1)
		return bad_usage(cmd, "%s", "expected at most one resource name");
	out_init(stdout, g_json);
	return print_devices(optind == argc - 1 ? argv[optind] : NULL, -1, stats, health);
}

/* ---------------------------------------------------------- metrics, doctor */

static int cmd_metrics_doctor(const struct cmd *cmd, int argc, char **argv)
{
	bool doctor = !strcmp(cmd->name, "doctor");
	const char *name;
	struct optstate s;
	struct judged j;
	int c, r;

	opt_init(&s, cmd);
	while ((c = opt_next(&s, argc, argv)) != -1)
		if (c == -2)
			return s.exit;
	if (optind < argc - 1)
		return bad_usage(cmd, "%s", "expected at most one resource name");
	if (!doctor && g_json)
		return bad_usage(cmd, "%s", "-j does not apply: the output is the Prometheus text format");
	name = optind == argc - 1 ? argv[optind] : NULL;
	r = judge(name, -1, &j);
	if (r != EXIT_OK)
		goto out;
	if (name && !j.n && !j.h.n) {
		r = missing_resource(&j, name, false);
		goto out;
	}
	if (doctor) {
		out_init(stdout, g_json);
		show_doctor(&j.h, j.have_conf ? &j.conf : NULL);
		out_flush();
		r = health_exit(j.h.level);
	} else {
		metrics_print(stdout, j.devs, j.n, j.have_conf ? &j.conf : NULL, &j.h);
		fflush(stdout);
	}
out:
	judged_free(&j);
	return r;
}

/* ----------------------------------------------------------------- events */

/* Resource names by minor, for events (which carry the minor only). */
struct evctx {
	bool timestamps;
	bool now;	/* --now: the current state first, and again after a loss */
	char names[RBLK_MAX_MINOR + 1][RBLK_NAME_MAX_BYTES];
};

static void event_print(const struct kevent *ev, void *arg)
{
	struct evctx *e = arg;
	struct kevent named = *ev;

	if (ev->has_minor && ev->minor <= RBLK_MAX_MINOR && !ev->has_name) {
		char *name = e->names[ev->minor];

		/* a new device, or one created before we started: ask the kernel */
		if (ev->event == RBLK_EVENT_DEVICE_CREATED || !name[0]) {
			struct kdev *d = NULL;
			unsigned int n = 0;
			struct nl_result res;

			if (rnl_status(g_nl, ev->minor, &d, &n, &res) == EXIT_OK && n == 1)
				snprintf(name, RBLK_NAME_MAX_BYTES, "%s", d[0].name);
			free(d);
		}
		if (name[0]) {
			snprintf(named.name, sizeof(named.name), "%s", name);
			named.has_name = true;
		}
		if (ev->event == RBLK_EVENT_DEVICE_DELETED)
			name[0] = 0;
	}
	show_event(&named, NULL, e->timestamps);
	out_flush();
}

/* One record of the state device @d is in, and one per peer (events --now). */
static void event_print_exists(const struct kdev *d, struct evctx *e)
{
	struct kevent ev = {
		.event = EV_EXISTS, .has_minor = true, .minor = d->minor,
		.has_name = true, .has_value_role = true, .role = d->role,
		.has_value_disk = true, .disk_state = d->disk_state,
		.has_current_uuid = d->has_current_uuid, .current_uuid = d->current_uuid,
		.qstate = d->qstate,
	};
	unsigned int i;

	snprintf(ev.name, sizeof(ev.name), "%s", d->name);
	if (d->minor <= RBLK_MAX_MINOR)
		snprintf(e->names[d->minor], RBLK_NAME_MAX_BYTES, "%s", d->name);
	show_event(&ev, NULL, e->timestamps);
	for (i = 0; i < d->n_peers; i++) {
		const struct kpeer *p = &d->peers[i];
		struct kevent pev = {
			.event = EV_PEER_EXISTS, .has_minor = true, .minor = d->minor,
			.has_name = true, .has_peer = true, .peer_node_id = p->node_id,
			.has_value_conn = true, .conn_state = p->conn_state,
			.has_peer_role = true, .peer_role = p->peer_role,
			.has_peer_disk = true, .peer_disk_state = p->peer_disk_state,
			.has_repl_state = p->has_repl_state, .repl_state = p->repl_state,
		};

		snprintf(pev.name, sizeof(pev.name), "%s", d->name);
		snprintf(pev.last_error, sizeof(pev.last_error), "%s", p->last_error);
		show_event(&pev, NULL, e->timestamps);
	}
}

/*
 * Called once subscribed, and after events were lost: says so in-band and,
 * with --now, prints the state every device and peer is in, then
 * "exists_end".  Events of changes made while the state was read may
 * follow it: applied in order they end in the current state.
 */
static void event_sync(bool lost, void *arg)
{
	struct kevent mark = { .event = EV_EVENTS_LOST };
	struct evctx *e = arg;
	struct nl_result res;
	struct kdev *d = NULL;
	unsigned int i, n = 0;

	if (lost) {
		show_event(&mark, NULL, e->timestamps);
		out_flush();
	}
	if (!e->now)
		return;
	if (rnl_status(g_nl, -1, &d, &n, &res) == EXIT_OK)
		for (i = 0; i < n; i++)
			event_print_exists(&d[i], e);
	else
		errmsg("events: cannot read the current state: %s",
		       res.msg[0] ? res.msg : strerror(-res.error));
	free(d);
	mark.event = EV_EXISTS_END;
	show_event(&mark, NULL, e->timestamps);
	out_flush();
}

static int cmd_events(const struct cmd *cmd, int argc, char **argv)
{
	static const struct option o[] = {
		{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
		{ "timestamps", no_argument, NULL, O_TIMESTAMPS },
		{ "now", no_argument, NULL, O_NOW },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd c2 = *cmd;
	struct optstate s;
	char err[ERRBUF_BYTES];
	struct evctx *e;
	bool timestamps = false, now = false;
	uint32_t timeout = 0;
	bool has_timeout = false;
	int c, r;

	c2.opts = o;
	opt_init(&s, &c2);
	while ((c = opt_next(&s, argc, argv)) != -1) {
		if (c == -2)
			return s.exit;
		if (c == O_TIMESTAMPS)
			timestamps = true;
		if (c == O_NOW)
			now = true;
		if (c == O_TIMEOUT) {
			if (!parse_u32(optarg, &timeout) || timeout > INT32_MAX)
				return bad_usage(cmd, "bad --timeout-ms '%s'", optarg);
			has_timeout = true;
		}
	}
	if (optind != argc)
		return bad_usage(cmd, "%s", "unexpected argument");
	r = nl_need();
	if (r != EXIT_OK)
		return r;
	e = calloc(1, sizeof(*e));
	if (!e) {
		errmsg("out of memory");
		return EXIT_SYSTEM;
	}
	e->timestamps = timestamps;
	e->now = now;
	setvbuf(stdout, NULL, _IOLBF, 0);
	out_init(stdout, g_json);
	r = rnl_events(g_nl, has_timeout ? (int)timeout : -1, event_print, event_sync, e, err,
		       sizeof(err));
	if (r != EXIT_OK)
		errmsg("events: %s", err);
	free(e);
	return r;
}

/* ------------------------------------------------------------------ check */

/* JSON spelling of a word of the file: "ko-count" -> "ko_count". */
static const char *snake_case(const char *s, char *buf, size_t len)
{
	size_t k;

	snprintf(buf, len, "%s", s);
	for (k = 0; buf[k]; k++)
		if (buf[k] == '-')
			buf[k] = '_';
	return buf;
}

static int cmd_check(const struct cmd *cmd, int argc, char **argv)
{
	static const struct option o[] = {
		{ "names", no_argument, NULL, O_NAMES },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd c2 = *cmd;
	struct optstate s;
	struct conf conf;
	unsigned int i, j, mine = 0;
	const char *me = local_node_name();
	bool names = false;
	int c;

	c2.opts = o;
	opt_init(&s, &c2);
	while ((c = opt_next(&s, argc, argv)) != -1) {
		if (c == -2)
			return s.exit;
		if (c == O_NAMES)
			names = true;
	}
	if (optind != argc)
		return bad_usage(cmd, "%s", "unexpected argument");
	me = local_node_name();
	c = load_conf(&conf);
	if (c)
		return c;
	out_init(stdout, g_json);
	if (names) {
		/* for scripts and shell completion: this node's resources */
		out_open_array(NULL);
		for (i = 0; i < conf.n_res; i++)
			if (conf_find_node(&conf.res[i], me))
				print_string(NULL, "%s\n", conf.res[i].name);
		out_close_array();
		out_flush();
		conf_free(&conf);
		return EXIT_OK;
	}
	out_open_object(NULL);
	print_string("file", "%s: ok", conf.file);
	print_string("cluster_name", NULL, conf.cluster);
	print_uint("resources", ", %s resource(s)", conf.n_res);
	print_string("node", "; this node: %s\n", me);
	out_open_array("local_resources");
	for (i = 0; i < conf.n_res; i++) {
		const struct conf_resource *r = &conf.res[i];
		const struct conf_node *l = conf_find_node(r, me);
		uint32_t opts[OPT_COUNT];
		char word[32];
		int on_io_error;

		if (!l)
			continue;
		mine++;
		conf_effective_options(&conf, r, l, opts);
		out_open_object(NULL);
		print_string("resource_name", "%s", r->name);
		print_uint("minor", " minor:%s", r->minor);
		print_uint("node_id", " node-id:%s", l->node_id);
		print_string("backing_path", " disk:%s", l->disk[0] ? l->disk : "none");
		print_string_or_null("meta_disk", " meta-disk:%s", !l->disk[0] ? NULL :
				     l->meta_disk[0] ? l->meta_disk : "internal");
		on_io_error = conf_on_io_error(r, l);
		if (on_io_error < 0)
			on_io_error = RBLK_ON_IO_ERROR_DETACH;
		if (l->disk[0] || out_is_json())
			print_enum("on_io_error", " on-io-error:%s",
				   snake_case(on_io_error_name(on_io_error), word, sizeof(word)),
				   on_io_error_name(on_io_error));
		print_nl();
		out_open_array("peers");
		for (j = 0; j < r->n_nodes; j++) {
			const struct conf_node *p = &r->nodes[j];
			struct conf_addr pe, le;
			char a[80], ip[64];

			if (p == l)
				continue;
			conf_endpoint(p, l, &pe);
			conf_endpoint(l, p, &le);
			out_open_object(NULL);
			print_string("peer_name", "  %s", p->name);
			print_uint("peer_node_id", " node-id:%s", p->node_id);
			format_addr(&pe, a, sizeof(a));
			print_human(" peer:%s", a);
			format_addr(&le, a, sizeof(a));
			print_human(" local:%s", a);
			print_human(" %s\n", l->node_id < p->node_id ? "(this node dials)" :
				    "(this node listens)");
			format_ip(&pe, ip, sizeof(ip));
			print_string("peer_ip", NULL, ip);
			print_uint("peer_port", NULL, pe.port);
			format_ip(&le, ip, sizeof(ip));
			print_string("local_ip", NULL, ip);
			print_uint("local_port", NULL, le.port);
			print_bool("listens", NULL, l->node_id > p->node_id);
			for (c = 0; c < OPT_COUNT; c++)
				print_uint(snake_case(conf_opt[c].key, word, sizeof(word)), NULL,
					   opts[c]);
			out_close_object();
		}
		out_close_array();
		out_close_object();
	}
	out_close_array();
	out_close_object();
	out_flush();
	conf_free(&conf);
	(void)mine;
	return EXIT_OK;
}

/* ------------------------------------------------------ low-level commands */

static const struct option ll_opts[] = {
	{ "name", required_argument, NULL, O_NAME },
	{ "minor", required_argument, NULL, O_MINOR },
	{ "node-id", required_argument, NULL, O_NODE_ID },
	{ "cluster", required_argument, NULL, O_CLUSTER },
	{ "disk", required_argument, NULL, O_DISK },
	{ "meta-disk", required_argument, NULL, O_META_DISK },
	{ "on-io-error", required_argument, NULL, O_ON_IO_ERROR },
	{ "discard-my-data", no_argument, NULL, O_DISCARD_MY_DATA },
	{ "force", no_argument, NULL, O_FORCE },
	{ "ignore-quorum", no_argument, NULL, O_IGNORE_QUORUM },
	{ "quorum", required_argument, NULL, O_QUORUM },
	{ "on-no-quorum", required_argument, NULL, O_ON_NO_QUORUM },
	{ "auto-promote", required_argument, NULL, O_AUTO_PROMOTE },
	{ "fencing", required_argument, NULL, O_FENCING },
	{ "fence-handler", required_argument, NULL, O_FENCE_HANDLER },
	{ "data-digest", required_argument, NULL, O_DATA_DIGEST },
	{ "read-balancing", required_argument, NULL, O_READ_BALANCING },
	{ "witness", no_argument, NULL, O_WITNESS },
	{ "peer-node-id", required_argument, NULL, O_PEER_NODE_ID },
	{ "peer", required_argument, NULL, O_PEER },
	{ "local", required_argument, NULL, O_LOCAL },
	{ "peer-port", required_argument, NULL, O_PEER_PORT },
	{ "local-port", required_argument, NULL, O_LOCAL_PORT },
	{ "ping-interval-ms", required_argument, NULL, O_OPT0 + OPT_PING_INTERVAL },
	{ "ping-timeout-ms", required_argument, NULL, O_OPT0 + OPT_PING_TIMEOUT },
	{ "connect-timeout-ms", required_argument, NULL, O_OPT0 + OPT_CONNECT_TIMEOUT },
	{ "reconnect-min-ms", required_argument, NULL, O_OPT0 + OPT_RECONNECT_MIN },
	{ "reconnect-max-ms", required_argument, NULL, O_OPT0 + OPT_RECONNECT_MAX },
	{ "request-timeout-ms", required_argument, NULL, O_OPT0 + OPT_REQUEST_TIMEOUT },
	{ "ko-count", required_argument, NULL, O_OPT0 + OPT_KO_COUNT },
	{ "resync-rate-kib-per-s", required_argument, NULL, O_OPT0 + OPT_RESYNC_RATE },
	{ "resync-latency-ms", required_argument, NULL, O_OPT0 + OPT_RESYNC_LATENCY },
	{ "statistics", no_argument, NULL, 's' },
	{ NULL, 0, NULL, 0 },
};

/* Which options each low-level command accepts (REQ_* bits, plus extras). */
#define LL_OPTIONS	(1u << REQ_BITS)
#define LL_STATS	(1u << (REQ_BITS + 1))

static unsigned int ll_allowed(unsigned int cmd)
{
	switch (cmd) {
	case RBLK_CMD_DEVICE_CREATE:
		return REQ_MINOR | REQ_NAME | REQ_NODE_ID | REQ_CLUSTER;
	case RBLK_CMD_ATTACH:
		return REQ_MINOR | REQ_PATH | REQ_META_PATH | REQ_ON_IO_ERROR;
	case RBLK_CMD_PEER_ADD:
		return REQ_MINOR | REQ_PEER_NODE_ID | REQ_PEER_IP | REQ_PEER_PORT |
		       REQ_LOCAL_IP | REQ_LOCAL_PORT | REQ_PEER_WITNESS | LL_OPTIONS;
	case RBLK_CMD_CONNECT:
		return REQ_MINOR | REQ_PEER_NODE_ID | REQ_DISCARD_MY_DATA;
	case RBLK_CMD_PEER_REMOVE:
	case RBLK_CMD_DISCONNECT:
		return REQ_MINOR | REQ_PEER_NODE_ID;
	case RBLK_CMD_PRIMARY:
		return REQ_MINOR | REQ_FORCE | REQ_IGNORE_QUORUM;
	case RBLK_CMD_DEVICE_OPTIONS:
		return REQ_MINOR | REQ_QUORUM | REQ_ON_NO_QUORUM | REQ_AUTO_PROMOTE | REQ_FENCING |
		       REQ_FENCE_HANDLER | REQ_DATA_DIGEST | REQ_READ_BALANCING;
	case RBLK_CMD_STATUS:
		return REQ_MINOR | LL_STATS;
	default:
		return REQ_MINOR;
	}
}

static int ll_cmd_of(const char *name)
{
	unsigned int i;

	for (i = RBLK_CMD_DEVICE_CREATE; i <= RBLK_CMD_STATUS; i++)
		if (!strcmp(cmd_name(i), name))
			return (int)i;
	if (!strcmp(cmd_name(RBLK_CMD_DEVICE_OPTIONS), name))
		return RBLK_CMD_DEVICE_OPTIONS;
	return -1;
}

/* The low-level options whose value is a word of the topology file. */
static const struct ll_word {
	int opt;
	const char *(*name)(unsigned int);	/* the words of the values 0..count-1 */
	unsigned int count;
	size_t off;				/* their uint8_t in struct rblk_req */
} ll_words[] = {
	{ O_ON_IO_ERROR, on_io_error_name, __RBLK_ON_IO_ERROR_MAX,
	  offsetof(struct rblk_req, on_io_error) },
	{ O_ON_NO_QUORUM, on_no_quorum_name, __RBLK_ON_NO_QUORUM_MAX,
	  offsetof(struct rblk_req, on_no_quorum) },
	{ O_AUTO_PROMOTE, yes_no_name, 2, offsetof(struct rblk_req, auto_promote) },
	{ O_FENCING, fencing_name, __RBLK_FENCING_MAX, offsetof(struct rblk_req, fencing) },
	{ O_DATA_DIGEST, data_digest_name, __RBLK_DATA_DIGEST_MAX,
	  offsetof(struct rblk_req, data_digest) },
	{ O_READ_BALANCING, read_balancing_name, __RBLK_READ_BALANCING_MAX,
	  offsetof(struct rblk_req, read_balancing) },
};

/*
 * The value of word option @opt into @req: a word ("pass-on"), or a
 * number 0..255 sent as given for the kernel's range check.  EXIT_OK, or
 * EXIT_USAGE after the message.
 */
static int parse_ll_word(const struct cmd *cmd, int opt, const char *s, struct rblk_req *req)
{
	const struct ll_word *w = ll_words;
	char words[128], msg[512];
	uint32_t n;
	int k;

	while (w->opt != opt)
		w++;
	k = parse_word(s, w->name, w->count);
	if (k < 0 && (!parse_u32(s, &n) || n > UINT8_MAX)) {
		snprintf(msg, sizeof(msg), "expected %s or a number 0..255, got '%s'",
			 format_words(w->name, w->count, ", ", words, sizeof(words)), s);
		return bad_usage(cmd, "%s", msg);
	}
	*((uint8_t *)req + w->off) = (uint8_t)(k >= 0 ? (uint32_t)k : n);
	return EXIT_OK;
}

static int cmd_lowlevel(const struct cmd *cmd, int argc, char **argv)
{
	struct cmd c2 = *cmd;
	struct optstate s;
	struct rblk_req req = { 0 };
	int ll = ll_cmd_of(cmd->name);
	unsigned int allowed = ll_allowed((unsigned int)ll), bit = 0;
	bool stats = false;
	int c;

	c2.opts = ll_opts;
	c2.shortopts = "s";
	req.cmd = (uint8_t)ll;
	opt_init(&s, &c2);
	while ((c = opt_next(&s, argc, argv)) != -1) {
		uint32_t v = 0;
		const char *optname = "?";
		unsigned int k;

		if (c == -2)
			return s.exit;
		for (k = 0; ll_opts[k].name; k++)
			if (ll_opts[k].val == c)
				optname = ll_opts[k].name;
		switch (c) {
		case O_NAME: bit = REQ_NAME; break;
		case O_MINOR: bit = REQ_MINOR; break;
		case O_NODE_ID: bit = REQ_NODE_ID; break;
		case O_CLUSTER: bit = REQ_CLUSTER; break;
		case O_DISK: bit = REQ_PATH; break;
		case O_META_DISK: bit = REQ_META_PATH; break;
		case O_DISCARD_MY_DATA: bit = REQ_DISCARD_MY_DATA; break;
		case O_ON_IO_ERROR: bit = REQ_ON_IO_ERROR; break;
		case O_FORCE: bit = REQ_FORCE; break;
		case O_IGNORE_QUORUM: bit = REQ_IGNORE_QUORUM; break;
		case O_QUORUM: bit = REQ_QUORUM; break;
		case O_ON_NO_QUORUM: bit = REQ_ON_NO_QUORUM; break;
		case O_AUTO_PROMOTE: bit = REQ_AUTO_PROMOTE; break;
		case O_FENCING: bit = REQ_FENCING; break;
		case O_FENCE_HANDLER: bit = REQ_FENCE_HANDLER; break;
		case O_DATA_DIGEST: bit = REQ_DATA_DIGEST; break;
		case O_READ_BALANCING: bit = REQ_READ_BALANCING; break;
		case O_WITNESS: bit = REQ_PEER_WITNESS; break;
		case O_PEER_NODE_ID: bit = REQ_PEER_NODE_ID; break;
		case O_PEER: bit = REQ_PEER_IP; break;
		case O_LOCAL: bit = REQ_LOCAL_IP; break;
		case O_PEER_PORT: bit = REQ_PEER_PORT; break;
		case O_LOCAL_PORT: bit = REQ_LOCAL_PORT; break;
		case 's': bit = LL_STATS; break;
		default: bit = LL_OPTIONS; break;
		}
		if (c == 's')
			optname = "statistics";
		if (!(allowed & bit)) {
			fprintf(stderr, "rblkadm: %s: option --%s does not apply\n", cmd->name,
				optname);
			usage_cmd(cmd, stderr);
			return EXIT_USAGE;
		}
		switch (c) {
		case O_MINOR: case O_NODE_ID: case O_PEER_NODE_ID:
		case O_PEER_PORT: case O_LOCAL_PORT:
			if (!parse_u32(optarg, &v) ||
			    ((c == O_PEER_PORT || c == O_LOCAL_PORT) && v > 65535))
				return bad_usage(cmd, "expected a number, got '%s'", optarg);
			break;
		default:
			if (c >= O_OPT0 && c < O_OPT0 + OPT_COUNT && !parse_u32(optarg, &v))
				return bad_usage(cmd, "expected a number, got '%s'", optarg);
			break;
		}
		switch (c) {
		case O_NAME:
		case O_CLUSTER:
		case O_DISK:
		case O_META_DISK:
		case O_FENCE_HANDLER: {
			/* '' is sent as given: an empty FENCE_HANDLER clears the handler */
			char *dst = c == O_NAME ? req.name : c == O_CLUSTER ? req.cluster :
				    c == O_DISK ? req.path : c == O_META_DISK ? req.meta_path :
				    req.fence_handler;
			size_t max = c == O_DISK ? sizeof(req.path) :
				     c == O_META_DISK ? sizeof(req.meta_path) :
				     c == O_FENCE_HANDLER ? sizeof(req.fence_handler) :
				     sizeof(req.name);

			if (strlen(optarg) >= max)
				return bad_usage(cmd, "argument too long: '%s'", optarg);
			strcpy(dst, optarg);
			break;
		}
		case O_MINOR: req.minor = v; break;
		case O_NODE_ID: req.node_id = v; break;
		case O_PEER_NODE_ID: req.peer_node_id = v; break;
		case O_PEER:
		case O_LOCAL: {
			struct conf_addr *a = c == O_PEER ? &req.peer : &req.local;
			uint16_t keep = a->port;
			bool had_port = req.has & (c == O_PEER ? REQ_PEER_PORT : REQ_LOCAL_PORT);

			if (parse_addr(optarg, false, a))
				return bad_usage(cmd, "expected IPv4[:PORT] or [IPv6][:PORT], got '%s'",
						 optarg);
			if (a->port)
				req.has |= c == O_PEER ? REQ_PEER_PORT : REQ_LOCAL_PORT;
			else if (had_port)
				a->port = keep;
			break;
		}
		case O_PEER_PORT: req.peer.port = (uint16_t)v; break;
		case O_LOCAL_PORT: req.local.port = (uint16_t)v; break;
		case O_ON_IO_ERROR:
		case O_ON_NO_QUORUM:
		case O_AUTO_PROMOTE:
		case O_FENCING:
		case O_DATA_DIGEST:
		case O_READ_BALANCING:
			if (parse_ll_word(cmd, c, optarg, &req))
				return EXIT_USAGE;
			break;
		case O_QUORUM:
			/* a number is sent as given, for the kernel's range check */
			if (parse_quorum_word(optarg, &req.quorum) && !parse_u32(optarg, &req.quorum))
				return bad_usage(cmd, "expected off, majority or a number, got '%s'",
						 optarg);
			break;
		case 's': stats = true; break;
		default:
			if (c >= O_OPT0 && c < O_OPT0 + OPT_COUNT) {
				req.options.v[c - O_OPT0] = v;
				req.options.set[c - O_OPT0] = true;
			}
			break;
		}
		if (bit & ~(LL_OPTIONS | LL_STATS))
			req.has |= bit;
	}
	/* device-options RES|MINOR: the device without --minor */
	if (ll == RBLK_CMD_DEVICE_OPTIONS && optind == argc - 1 && !(req.has & REQ_MINOR)) {
		c = resolve_minor(argv[optind++], &req.minor);
		if (c)
			return c;
		req.has |= REQ_MINOR;
	}
	if (optind != argc)
		return bad_usage(cmd, "unexpected argument '%s'", argv[optind]);
	if (ll == RBLK_CMD_STATUS) {
		out_init(stdout, g_json);
		return print_devices(NULL, (req.has & REQ_MINOR) ? (int64_t)req.minor : -1,
				     stats, false);
	}
	return send_req(cmd->name, &req);
}

/* ------------------------------------------------------------------ table */

static int cmd_help(const struct cmd *cmd, int argc, char **argv);

static const struct cmd cmds[] = {
	{ .name = "up", .fn = cmd_up_down, .args = "[-n] RES|all",
	  .help = "Make the kernel match the topology file for this node: create the device,\n"
	  "attach the disk, add and connect the peers.  Reads the kernel's state first\n"
	  "and sends only what differs; a second run does nothing.\n"
	  "  -n, --dry-run   print the plan, send nothing\n" },
	{ .name = "down", .fn = cmd_up_down, .args = "[-n] RES|all",
	  .help = "Disconnect, detach and delete the device of the resource.\n"
	  "  -n, --dry-run   print the plan, send nothing\n" },
	{ .name = "primary", .fn = cmd_role, .args = "[--force] [--ignore-quorum] RES",
	  .help = "Promote this node to primary for RES.\n"
	  "  --force           promote although the local disk is not UpToDate (marks it\n"
	  "                    UpToDate: this node's data wins)\n"
	  "  --ignore-quorum   promote although this node's partition has no quorum\n" },
	{ .name = "secondary", .fn = cmd_role, .args = "RES",
	  .help = "Demote this node to secondary for RES.\n" },
	{ .name = "resume-io", .fn = cmd_resume_io, .args = "RES|MINOR",
	  .help = "Resume the writes of RES (or of /dev/rblkMINOR: no topology file needed) that\n"
	  "are suspended for fencing (suspended:fencing in status), after the operator\n"
	  "fenced the lost peer by hand: the operator vouches that it cannot be promoted.\n"
	  "Does not override a quorum suspension (suspended:no-quorum).\n" },
	{ .name = "connect", .fn = cmd_conn, .args = "[--discard-my-data] RES [PEER]",
	  .help = "Start connecting to every peer of RES, or to PEER (node name or node id).\n"
	  "  --discard-my-data   resolve a split-brain: this node's changes are discarded,\n"
	  "                      it becomes sync target of the peer\n" },
	{ .name = "disconnect", .fn = cmd_conn, .args = "RES [PEER]",
	  .help = "Disconnect from every peer of RES, or from PEER (node name or node id).\n" },
	{ .name = "create-md", .fn = cmd_create_md, .args = "[--force] RES",
	  .help = "Write new rblk metadata for this node's disk of RES (at its end, or on the\n"
	  "node's meta-disk): the disk is Inconsistent until a resync or new-current-uuid.\n"
	  "Refuses a disk or meta-disk that holds a file system, partition table or other\n"
	  "signature (libblkid), and one that already has rblk metadata.\n"
	  "  --force   skip these checks and overwrite\n" },
	{ .name = "dump-md", .fn = cmd_dump_md, .args = "RES",
	  .help = "Show the metadata of this node's disk of RES: flags, generation UUIDs,\n"
	  "layout and one line per bitmap slot.  Read through the kernel while the disk\n"
	  "is attached (with out-of-sync counts), else from the disk.\n" },
	{ .name = "new-current-uuid", .fn = cmd_new_uuid, .args = "[--clear-bitmap] RES",
	  .help = "Start a new data generation for RES on this node.\n"
	  "  --clear-bitmap   skip the initial full sync: only for disks known to hold\n"
	  "                   identical data (e.g. new, all zeroes); run once on one node\n"
	  "                   after create-md on every node, while the nodes are connected\n" },
	{ .name = "status", .fn = cmd_status, .args = "[-s] [--health] [RES]",
	  .help = "Show the devices the kernel has: a device line, then one line per peer.\n"
	  "  -s, --statistics   add counter lines\n"
	  "  --health           judge the health of this node's resources (of RES): a last\n"
	  "                     line \"health: ok|degraded|critical\" (not with -j) and exit\n"
	  "                     status 0 healthy, 6 degraded, 7 critical.  Healthy: every\n"
	  "                     resource of the file up, its disk UpToDate (or Diskless by\n"
	  "                     the file), every peer of the file Connected, Established,\n"
	  "                     its disk UpToDate (a witness's Diskless), nothing out of\n"
	  "                     sync, no split-brain, quorum held, writes not suspended.\n"
	  "                     Critical: split-brain, no quorum, writes suspended, a\n"
	  "                     primary whose disk is not UpToDate, or peers connected\n"
	  "                     and no UpToDate disk among them and this node.\n" },
	{ .name = "metrics", .fn = cmd_metrics_doctor, .args = "[RES]",
	  .help = "Print the status of the devices (of RES) in the Prometheus text exposition\n"
	  "format, for node_exporter's textfile collector: states as state sets\n"
	  "(rblk_disk_state{resource=\"r0\",minor=\"0\",state=\"up_to_date\"} 1, 0 for the\n"
	  "other states), rblk_health as status --health judges it, gauges, and counters\n"
	  "ending in _total.  Exit status 0 whatever the health; no -j.\n" },
	{ .name = "doctor", .fn = cmd_metrics_doctor, .args = "[RES]",
	  .help = "Explain what status --health finds not healthy, one problem per line, each\n"
	  "followed by the next safe action; \"all healthy\" when nothing is wrong.  Exit\n"
	  "status as status --health: 0, 6 degraded, 7 critical.\n" },
	{ .name = "events", .fn = cmd_events, .args = "[--now] [--timeout-ms N] [--timestamps]",
	  .help = "Print one line (one JSON object with -j) per state change until killed.\n"
	  "Events lost to a receive buffer overrun are reported in-band as an\n"
	  "\"events_lost\" record.\n"
	  "  --now            first the state every device (\"exists\") and peer\n"
	  "                   (\"peer_exists\") is in, then \"exists_end\", then the changes;\n"
	  "                   after an \"events_lost\" the state again.  Changes made while\n"
	  "                   the state was read may follow it: applied in order they\n"
	  "                   end in the current state\n"
	  "  --timeout-ms N   exit (status 0) after N milliseconds\n"
	  "  --timestamps     prefix each event with the UTC time\n" },
	{ .name = "check", .fn = cmd_check, .args = "[--names]",
	  .help = "Validate the topology file and show this node's resources and endpoints.\n"
	  "  --names   only the names of this node's resources, one per line (a JSON\n"
	  "            array with -j)\n" },
	{ .name = "create-device", .fn = cmd_lowlevel,
	  .args = "--name N --minor M --node-id I [--cluster C]",
	  .help = "RBLK_CMD_DEVICE_CREATE.  Low-level commands send exactly the attributes\n"
	  "given and need no topology file.\n" },
	{ .name = "delete-device", .fn = cmd_lowlevel, .args = "--minor M",
	  .help = "RBLK_CMD_DEVICE_DELETE.\n" },
	{ .name = "attach", .fn = cmd_lowlevel,
	  .args = "--minor M --disk PATH [--meta-disk PATH] [--on-io-error detach|pass-on]",
	  .help = "RBLK_CMD_ATTACH.  --meta-disk (external metadata) and --on-io-error are sent\n"
	  "only if given (the kernel's defaults: internal metadata, detach); a number\n"
	  "instead of the on-io-error word is sent as given.\n" },
	{ .name = "detach", .fn = cmd_lowlevel, .args = "--minor M",
	  .help = "RBLK_CMD_DETACH.\n" },
	{ .name = "add-peer", .fn = cmd_lowlevel,
	  .args = "--minor M --peer-node-id I --peer ADDR[:PORT] --local ADDR[:PORT]\n"
	  "        [--peer-port P] [--local-port P] [--ping-interval-ms N] [--ping-timeout-ms N]\n"
	  "        [--connect-timeout-ms N] [--reconnect-min-ms N] [--reconnect-max-ms N]\n"
	  "        [--request-timeout-ms N] [--ko-count N] [--resync-rate-kib-per-s N]\n"
	  "        [--resync-latency-ms N] [--witness]",
	  .help = "RBLK_CMD_PEER_ADD.  ADDR is IPv4 or [IPv6]; a port given in ADDR or with\n"
	  "--peer-port/--local-port is sent, no port means no port attribute.\n"
	  "--witness: the peer has no disk in this resource (it only votes).\n" },
	{ .name = "remove-peer", .fn = cmd_lowlevel, .args = "--minor M --peer-node-id I",
	  .help = "RBLK_CMD_PEER_REMOVE.\n" },
	{ .name = "connect-peer", .fn = cmd_lowlevel,
	  .args = "--minor M [--peer-node-id I] [--discard-my-data]",
	  .help = "RBLK_CMD_CONNECT.\n" },
	{ .name = "disconnect-peer", .fn = cmd_lowlevel, .args = "--minor M [--peer-node-id I]",
	  .help = "RBLK_CMD_DISCONNECT.\n" },
	{ .name = "set-primary", .fn = cmd_lowlevel, .args = "--minor M [--force] [--ignore-quorum]",
	  .help = "RBLK_CMD_PRIMARY.\n" },
	{ .name = "set-secondary", .fn = cmd_lowlevel, .args = "--minor M",
	  .help = "RBLK_CMD_SECONDARY.\n" },
	{ .name = "device-options", .fn = cmd_lowlevel,
	  .args = "(--minor M | RES | MINOR) [--quorum off|majority|N]\n"
	  "        [--on-no-quorum suspend-io|io-error] [--auto-promote yes|no]\n"
	  "        [--fencing off|resource-only|resource-and-stonith] [--fence-handler PATH]\n"
	  "        [--data-digest none|crc32c]\n"
	  "        [--read-balancing prefer-local|round-robin|least-pending|when-congested-remote]",
	  .help = "RBLK_CMD_DEVICE_OPTIONS.  Each option is sent only if given (the device keeps\n"
	  "the value of one not sent); a number instead of a word is sent as given.\n"
	  "The device: --minor M, a resource of the topology file, or a minor.\n"
	  "--fence-handler '' clears the handler; fencing other than off needs one.\n"
	  "--data-digest applies from each peer's next connection.\n"
	  "--read-balancing applies to the next read.\n" },
	{ .name = "show", .fn = cmd_lowlevel, .args = "[-s] [--minor M]",
	  .help = "RBLK_CMD_STATUS: one device (doit) or, without --minor, all (dump).\n"
	  "  -s, --statistics   add counter lines\n" },
	{ .name = "help", .fn = cmd_help, .args = "[COMMAND]", .help = "Show help.\n" },
};
#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static void usage(FILE *f)
{
	unsigned int i;

	fprintf(f, "usage: rblkadm [-c FILE] [--node NAME] [-j] COMMAND [ARGS]\n\n"
		"Administration of rblk replicated block devices.\n\n"
		"commands (rblkadm COMMAND --help for details):\n");
	for (i = 0; i < N_CMDS; i++) {
		const char *a = cmds[i].args;
		const char *nl = strchr(a, '\n');

		fprintf(f, "  %-16s %.*s\n", cmds[i].name, nl ? (int)(nl - a) : (int)strlen(a), a);
	}
	fprintf(f, "\noptions: -c, --config FILE (default %s); --node NAME (default\n"
		"uname -n); -j, --json; -h, --help; -V, --version\n"
		"exit codes: 0 ok, 1 kernel rejected a request, 2 usage or topology file error,\n"
		"3 rblk module not loaded, 4 netlink or system error, 5 kernel state conflicts\n"
		"with the file, 6 degraded, 7 critical (status --health, doctor)\n", DEFAULT_CONF);
}

static const struct cmd *find_cmd(const char *name)
{
	unsigned int i;

	for (i = 0; i < N_CMDS; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static int cmd_help(const struct cmd *cmd, int argc, char **argv)
{
	const struct cmd *c;

	(void)cmd;
	if (argc < 2) {
		usage(stdout);
		return EXIT_OK;
	}
	c = find_cmd(argv[1]);
	if (!c) {
		errmsg("unknown command '%s'", argv[1]);
		return EXIT_USAGE;
	}
	usage_cmd(c, stdout);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option o[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "node", required_argument, NULL, O_NODE },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd *cmd;
	int c, r;

	while ((c = getopt_long(argc, argv, "+c:jhV", o, NULL)) != -1) {
		switch (c) {
		case 'c':
			g_conf_path = optarg;
			g_conf_explicit = true;
			break;
		case O_NODE:
			g_node = optarg;
			break;
		case 'j':
			g_json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("rblkadm %s (netlink family %s version %d)\n", RBLKADM_VERSION,
			       RBLK_GENL_NAME, RBLK_GENL_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = find_cmd(argv[optind]);
	if (!cmd) {
		errmsg("unknown command '%s'", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	g_cmd = cmd->name;
	out_init(stdout, false);
	argv += optind;
	argc -= optind;
	r = cmd->fn(cmd, argc, argv);
	rnl_close(g_nl);
	return r;
}
