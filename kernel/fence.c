// SPDX-License-Identifier: GPL-2.0
/*
 * rblk - fencing: a primary that loses a peer asks a cluster manager to
 * fence it before it acknowledges writes the peer missed.
 *
 * When a primary loses an established connection to a peer whose disk
 * was UpToDate or Consistent (a peer that could be promoted without
 * --force), and the device has a fence-peer handler, the handler runs as
 * "HANDLER fence-peer" through the usermode helper, one peer at a time,
 * with the environment of Documentation/operator.rst ("Fencing").  With
 * fencing resource-only or resource-and-stonith, the writes of the
 * primary wait from the loss on (dev->fence_suspend): new ones are parked
 * and finished ones are not acknowledged (rblk_quorum_admit(),
 * rblk_quorum_write_ok()), on the same lists as for quorum.  A peer's bit
 * clears when its handler returns (resource-only) or returns 0
 * (resource-and-stonith), when the peer connects again, at a demotion,
 * or by RBLK_CMD_RESUME_IO; quorum_work then releases what waits.
 *
 * Locking: dev->quorum_lock protects the policy, the handler path and the
 * three masks (the I/O path reads fence_suspend locklessly).  The handler
 * runs from dev->fence_work on system_long_wq without any rblk lock.
 */

#include <linux/umh.h>

#include "rblk_int.h"

/* Would a peer in this disk state be promoted without --force? */
static bool rblk_fence_disk_matters(enum rblk_disk_state disk)
{
	return disk == RBLK_DISK_UP_TO_DATE || disk == RBLK_DISK_CONSISTENT;
}

/**
 * rblk_fence_conn_lost() - a primary lost the connection to a peer
 * @peer: the peer; its connection is failing
 * @reconnecting: we close it ourselves to connect again at once (compare
 *	generations again): the handler runs only if that takes longer
 *	than the peer's connect timeout
 *
 * With a handler configured, a primary whose lost peer has, or last
 * claimed, an UpToDate or Consistent disk (our own view may already say
 * Outdated before the peer was told) queues a handler run for it and,
 * unless fencing is off, suspends its writes until the run decides.  Must
 * run before the connection's requests in flight complete, so that none
 * of them is acknowledged first.  Nothing while the device is deleted.
 *
 * Context: any (takes peer->lock and dev->quorum_lock with irqs saved).
 */
void rblk_fence_conn_lost(struct rblk_peer *peer, bool reconnecting)
{
	struct rblk_device *dev = peer->dev;
	u32 node = peer->cfg.node_id;
	enum rblk_disk_state disk, claimed;
	unsigned long flags, delay = 0;
	bool queue = false;

	if (peer->cfg.witness || READ_ONCE(dev->deleting))
		return;
	spin_lock_irqsave(&peer->lock, flags);
	disk = peer->peer_disk_state;
	claimed = peer->peer_disk_claimed;
	spin_unlock_irqrestore(&peer->lock, flags);
	if (!rblk_fence_disk_matters(disk) && !rblk_fence_disk_matters(claimed))
		return;
	if (reconnecting)
		delay = msecs_to_jiffies(peer->cfg.connect_timeout_ms);

	spin_lock_irqsave(&dev->quorum_lock, flags);
	/* a demotion clears the masks after its role change: checked here */
	if (dev->fence_handler[0] && READ_ONCE(dev->role) == RBLK_ROLE_PRIMARY) {
		if (!test_and_set_bit(node, &dev->fence_todo) ||
		    time_before(jiffies + delay, dev->fence_after[node]))
			dev->fence_after[node] = jiffies + delay;
		set_bit(node, &dev->fence_pending);
		if (dev->fencing != RBLK_FENCING_OFF)
			WRITE_ONCE(dev->fence_suspend, dev->fence_suspend | BIT(node));
		queue = true;
	}
	spin_unlock_irqrestore(&dev->quorum_lock, flags);
	/* the work looks at every node's time itself: never delay it more */
	if (queue && !delay)
		mod_delayed_work(system_long_wq, &dev->fence_work, 0);
	else if (queue)
		queue_delayed_work(system_long_wq, &dev->fence_work, delay);
}

/**
 * rblk_fence_peer_back() - a peer's connection is established again
 * @peer: the peer
 *
 * It resyncs what it missed like any returning peer: writes no longer
 * wait for its fencing, and a run not started yet is dropped (a running
 * one goes on; its result no longer matters).
 *
 * Context: process context.
 */
void rblk_fence_peer_back(struct rblk_peer *peer)
{
	rblk_fence_clear(peer->dev, BIT(peer->cfg.node_id));
}

/**
 * rblk_fence_clear() - writes stop waiting for the fencing of some peers
 * @dev: device
 * @nodes: bit per node id (~0UL: all)
 *
 * Runs not started yet are dropped; quorum_work releases what waited.
 *
 * Context: any.
 */
void rblk_fence_clear(struct rblk_device *dev, unsigned long nodes)
{
	unsigned long flags, todo;
	bool changed;

	spin_lock_irqsave(&dev->quorum_lock, flags);
	changed = dev->fence_suspend & nodes;
	todo = dev->fence_todo & nodes;
	WRITE_ONCE(dev->fence_suspend, dev->fence_suspend & ~nodes);
	dev->fence_todo &= ~nodes;
	dev->fence_pending &= ~todo;
	spin_unlock_irqrestore(&dev->quorum_lock, flags);
	if (changed)
		mod_delayed_work(rblk_wq, &dev->quorum_work, 0);
}

/* "RBLK_PEER_ADDRESS=" value: as configured, "a.b.c.d:port" or "[v6]:port" */
static void rblk_fence_format_addr(char *buf, size_t len, const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		snprintf(buf, len, "RBLK_PEER_ADDRESS=[%pI6c]:%u",
			 &((const struct sockaddr_in6 *)ss)->sin6_addr,
			 ntohs(((const struct sockaddr_in6 *)ss)->sin6_port));
	else
		snprintf(buf, len, "RBLK_PEER_ADDRESS=%pI4:%u",
			 &((const struct sockaddr_in *)ss)->sin_addr,
			 ntohs(((const struct sockaddr_in *)ss)->sin_port));
}

static const char *const rblk_fencing_names[__RBLK_FENCING_MAX] = {
	[RBLK_FENCING_OFF] = "off",
	[RBLK_FENCING_RESOURCE_ONLY] = "resource-only",
	[RBLK_FENCING_RESOURCE_AND_STONITH] = "resource-and-stonith",
};

/* The environment of one run; strings in @buf (RBLK_FENCE_ENV_BYTES each). */
#define RBLK_FENCE_ENV_BYTES	128
enum { RBLK_FENCE_ENV_VARS = 10 };

static int rblk_fence_run(struct rblk_device *dev, u32 node, const char *handler,
			  enum rblk_fencing fencing)
{
	char (*buf)[RBLK_FENCE_ENV_BYTES];
	char *envp[RBLK_FENCE_ENV_VARS + 1];
	char *argv[3];
	struct rblk_peer *peer;
	unsigned int i;
	int ret;

	buf = kcalloc(RBLK_FENCE_ENV_VARS, sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	strscpy(buf[0], "HOME=/", sizeof(buf[0]));
	strscpy(buf[1], "PATH=/sbin:/bin:/usr/sbin:/usr/bin", sizeof(buf[1]));
	snprintf(buf[2], sizeof(buf[2]), "RBLK_RESOURCE=%s", dev->resource_name);
	snprintf(buf[3], sizeof(buf[3]), "RBLK_MINOR=%u", dev->minor);
	snprintf(buf[4], sizeof(buf[4]), "RBLK_NODE_ID=%u", dev->node_id);
	snprintf(buf[5], sizeof(buf[5]), "RBLK_PEER_NODE_ID=%u", node);
	strscpy(buf[6], "RBLK_REASON=connection-lost", sizeof(buf[6]));
	snprintf(buf[7], sizeof(buf[7]), "RBLK_FENCING=%s", rblk_fencing_names[fencing]);
	strscpy(buf[8], "RBLK_PEER_ADDRESS=", sizeof(buf[8]));
	strscpy(buf[9], "RBLK_PEER_LAST_ERROR=", sizeof(buf[9]));
	rcu_read_lock();
	peer = rcu_dereference(dev->peers[node]);
	if (peer) {
		rblk_fence_format_addr(buf[8], sizeof(buf[8]), &peer->cfg.peer_addr);
		spin_lock_bh(&peer->lock);
		snprintf(buf[9], sizeof(buf[9]), "RBLK_PEER_LAST_ERROR=%s", peer->last_error);
		spin_unlock_bh(&peer->lock);
	}
	rcu_read_unlock();
	for (i = 0; i < RBLK_FENCE_ENV_VARS; i++)
		envp[i] = buf[i];
	envp[i] = NULL;
	argv[0] = (char *)handler;
	argv[1] = "fence-peer";
	argv[2] = NULL;

	ret = call_usermodehelper(argv[0], argv, envp, UMH_WAIT_PROC);
	kfree(buf);
	if (ret <= 0)
		return ret;
	/* a wait status: the exit code, or killed by a signal */
	if (ret & 0x7f)
		return -EINTR;
	return (ret >> 8) & 0xff;
}

/*
 * The next node whose run may start now, cleared from fence_todo (with a
 * copy of the handler and policy), or RBLK_MAX_PEERS; *@wait_jiffies is
 * set to how long the earliest later one still waits (0: none).
 */
static unsigned long rblk_fence_next(struct rblk_device *dev, char *handler, size_t len,
				     enum rblk_fencing *fencing, unsigned long *wait_jiffies)
{
	unsigned long node, now = jiffies;

	*wait_jiffies = 0;
	spin_lock_irq(&dev->quorum_lock);
	for_each_set_bit(node, &dev->fence_todo, RBLK_MAX_PEERS) {
		unsigned long after = dev->fence_after[node];

		if (time_after_eq(now, after)) {
			clear_bit(node, &dev->fence_todo);
			strscpy(handler, dev->fence_handler, len);
			*fencing = dev->fencing;
			spin_unlock_irq(&dev->quorum_lock);
			return node;
		}
		if (!*wait_jiffies || after - now < *wait_jiffies)
			*wait_jiffies = after - now;
	}
	spin_unlock_irq(&dev->quorum_lock);
	return RBLK_MAX_PEERS;
}

/**
 * rblk_fence_work() - dev->fence_work: run the handler for each peer to fence
 * @work: dev->fence_work
 *
 * One run at a time, lowest node id first, each once its hold-off
 * (rblk_fence_conn_lost()) has passed.  After each: an event, a log line,
 * and the peer's writes go on as the policy says.
 *
 * Context: system_long_wq (not a reclaim workqueue: the handler forks and
 * may run for long), may sleep for as long as the handler runs.
 */
void rblk_fence_work(struct work_struct *work)
{
	struct rblk_device *dev = container_of(to_delayed_work(work), struct rblk_device,
					       fence_work);
	char handler[RBLK_PATH_MAX_BYTES];
	unsigned long wait_jiffies;

	for (;;) {
		enum rblk_fencing fencing;
		bool release = false;
		unsigned long node;
		int ret;

		node = rblk_fence_next(dev, handler, sizeof(handler), &fencing, &wait_jiffies);
		if (node >= RBLK_MAX_PEERS)
			break;
		rblk_notify_fence(dev, node, RBLK_FENCE_RUNNING);
		pr_info_ratelimited("%s: peer %lu: running fence-peer handler %s\n",
				    dev->disk->disk_name, node, handler);
		ret = handler[0] ? rblk_fence_run(dev, node, handler, fencing) : -ENOENT;
		if (ret)
			pr_warn_ratelimited("%s: peer %lu: fence-peer handler failed (%d)%s\n",
					    dev->disk->disk_name, node, ret,
					    fencing == RBLK_FENCING_RESOURCE_AND_STONITH ?
					    ": writes stay suspended" : "");
		else
			pr_info_ratelimited("%s: peer %lu: fenced\n", dev->disk->disk_name, node);

		spin_lock_irq(&dev->quorum_lock);
		/* queued again meanwhile: that run decides */
		if (!test_bit(node, &dev->fence_todo)) {
			clear_bit(node, &dev->fence_pending);
			if (!ret || fencing != RBLK_FENCING_RESOURCE_AND_STONITH) {
				release = test_bit(node, &dev->fence_suspend);
				WRITE_ONCE(dev->fence_suspend, dev->fence_suspend & ~BIT(node));
			}
		}
		spin_unlock_irq(&dev->quorum_lock);
		rblk_notify_fence(dev, node, ret);
		if (release)
			mod_delayed_work(rblk_wq, &dev->quorum_work, 0);
	}
	if (wait_jiffies)
		queue_delayed_work(system_long_wq, &dev->fence_work, wait_jiffies);
}

/**
 * rblk_device_resume_io() - writes stop waiting for fencing
 * @minor: device
 * @extack: error message
 *
 * The operator vouches that the lost peers cannot be promoted.  A quorum
 * suspension stays.
 *
 * Context: process context, may sleep.
 * Return: 0 (also when nothing waited); -ENODEV.
 */
int rblk_device_resume_io(u32 minor, struct netlink_ext_ack *extack)
{
	struct rblk_device *dev = rblk_device_lock(minor, extack);

	if (!dev)
		return -ENODEV;
	if (READ_ONCE(dev->fence_suspend))
		pr_warn("%s: writes resumed by the operator while fencing\n",
			dev->disk->disk_name);
	rblk_fence_clear(dev, ~0UL);
	rblk_device_unlock(dev);
	return 0;
}
