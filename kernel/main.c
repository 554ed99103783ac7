// SPDX-License-Identifier: GPL-2.0
/*
 * rblk - replicated block device: module init/exit, device objects,
 * gendisk, backing device, roles.
 *
 * Locking of management calls (rblk.h, called by nl.c, which is
 * parallel_ops): rblk_devices_mutex protects only the minor -> device
 * xarray and is held for lookups, never across a wait.  Each device has
 * its own mutex (dev->mutex), held by every management call of that device
 * from start to end, so the configuration of one device is serialised and
 * a call that waits for the network or a disk (promotion, disconnect,
 * detach) holds up no other device.  A reference (dev->ref) keeps the
 * device's memory while a call waits for its mutex; a call that then finds
 * it deleted fails with -ENODEV.  Status takes neither mutex of a device:
 * it reads under the state lock and RCU.  Lock order: dev->mutex, then
 * rblk_devices_mutex (rblk_devices_mutex is never held while taking
 * dev->mutex).  The I/O path takes neither.
 */

#include <linux/delay.h>
#include <linux/blkdev.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/xarray.h>

#include "rblk_int.h"

struct workqueue_struct *rblk_wq;
struct bio_set rblk_bio_set;
struct bio_set rblk_pwrite_bio_set;
mempool_t *rblk_leg_pool;
mempool_t *rblk_page_pool;

static int rblk_major;
static DEFINE_MUTEX(rblk_devices_mutex);	/* protects rblk_devices (lookups only) */
static DEFINE_XARRAY(rblk_devices);		/* minor -> struct rblk_device */

static void rblk_set_err(struct netlink_ext_ack *extack, const char *msg)
{
	if (extack)
		extack->_msg = msg;
}

/**
 * rblk_notify() - multicast one state change of a device
 * @dev: device
 * @event: enum rblk_event
 * @peer_node_id: peer, or -1 for device events
 * @value: new state for the *_CHANGED events
 * @message: optional reason, or NULL
 *
 * Context: any.
 */
void rblk_notify(struct rblk_device *dev, enum rblk_event event, s32 peer_node_id,
		 u32 value, const char *message)
{
	struct rblk_event_info ev = {
		.event = event,
		.minor = dev->minor,
		.peer_node_id = peer_node_id,
		.value = value,
		.message = message && *message ? message : NULL,
	};

	rblk_nl_notify(&ev);
}

/**
 * rblk_notify_quorum() - multicast RBLK_EVENT_QUORUM_CHANGED
 * @dev: device
 * @has: the partition has quorum
 * @votes: votes present
 * @needed: votes needed (0: off)
 * @suspended: enum rblk_suspend_reason
 *
 * Context: any (as rblk_nl_notify()).
 */
void rblk_notify_quorum(struct rblk_device *dev, bool has, u32 votes, u32 needed,
			enum rblk_suspend_reason suspended)
{
	struct rblk_event_info ev = {
		.event = RBLK_EVENT_QUORUM_CHANGED,
		.minor = dev->minor,
		.peer_node_id = -1,
		.has_quorum = has,
		.quorum_votes = votes,
		.quorum_needed = needed,
		.suspended = suspended,
	};

	rblk_nl_notify(&ev);
}

/**
 * rblk_notify_fence() - multicast RBLK_EVENT_FENCE_PEER
 * @dev: device
 * @node_id: the peer fenced
 * @result: RBLK_FENCE_RUNNING as the handler starts, else its result
 *
 * Context: any (as rblk_nl_notify()).
 */
void rblk_notify_fence(struct rblk_device *dev, u32 node_id, int result)
{
	struct rblk_event_info ev = {
		.event = RBLK_EVENT_FENCE_PEER,
		.minor = dev->minor,
		.peer_node_id = node_id,
		.fence_result = result,
	};
	unsigned long flags;

	spin_lock_irqsave(&dev->quorum_lock, flags);
	ev.fence_pending = dev->fence_pending | dev->fence_suspend;
	ev.suspended = rblk_quorum_suspended(dev);
	spin_unlock_irqrestore(&dev->quorum_lock, flags);
	rblk_nl_notify(&ev);
}

/* Tell every connected peer our role and disk state.  Process context. */
static void rblk_announce_state(struct rblk_device *dev)
{
	unsigned int i;

	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_peer *peer;

		rcu_read_lock();
		peer = rcu_dereference(dev->peers[i]);
		if (peer)
			rblk_peer_send_state(peer, RBLK_P_STATE, NULL);
		rcu_read_unlock();
	}
}

/**
 * rblk_set_disk_state() - change the local disk state, announce it
 * @dev: device
 * @state: new state
 *
 * Notifies userspace and sends RBLK_P_STATE to the connected peers when
 * the state changes.
 *
 * Context: process context (GFP_ATOMIC allocations); no rblk spinlock held.
 */
void rblk_set_disk_state(struct rblk_device *dev, enum rblk_disk_state state)
{
	bool changed;

	spin_lock(&dev->state_lock);
	changed = dev->disk_state != state;
	if (changed) {
		dev->disk_state = state;
		dev->state_gen++;
	}
	spin_unlock(&dev->state_lock);
	if (!changed)
		return;
	rblk_md_queue_state(dev);
	rblk_notify(dev, RBLK_EVENT_DISK_STATE_CHANGED, -1, state, NULL);
	rblk_announce_state(dev);
}

/*
 * The superblock flags that record a disk state: Inconsistent clears
 * RBLK_MDF_CONSISTENT, Outdated sets RBLK_MDF_OUTDATED, UpToDate clears
 * it.  Consistent, Diskless, Failed change nothing.
 */
static void rblk_md_state_work(struct work_struct *work)
{
	struct rblk_device *dev = container_of(work, struct rblk_device, md_state_work);
	enum rblk_disk_state state;

	mutex_lock(&dev->md_state_mutex);
	state = READ_ONCE(dev->disk_state);
	switch (state) {
	case RBLK_DISK_INCONSISTENT:
		rblk_md_change_flags(dev, 0, RBLK_MDF_CONSISTENT | RBLK_MDF_OUTDATED);
		break;
	case RBLK_DISK_OUTDATED:
		rblk_md_change_flags(dev, RBLK_MDF_OUTDATED, 0);
		break;
	case RBLK_DISK_UP_TO_DATE:
		/* a stale run never marks a sync target consistent again */
		if (!(READ_ONCE(dev->md.info.flags) & RBLK_MDF_SYNC_TARGET))
			rblk_md_change_flags(dev, RBLK_MDF_CONSISTENT, RBLK_MDF_OUTDATED);
		break;
	default:
		break;
	}
	mutex_unlock(&dev->md_state_mutex);
}

/**
 * rblk_md_queue_state() - record the disk state in the metadata, soon
 * @dev: device
 *
 * The superblock is written from a work item (a disk state may change in
 * io_work or under spinlocks); detach flushes it first.
 *
 * Context: any.
 */
void rblk_md_queue_state(struct rblk_device *dev)
{
	if (READ_ONCE(dev->has_md))
		queue_work(rblk_wq, &dev->md_state_work);
}

static void rblk_backing_close(struct rblk_device *dev, bool keep_size);
static int rblk_peers_set_slot(struct rblk_device *dev, int slot);

/**
 * rblk_local_io_error() - a write (or flush) of the backing device failed
 * @dev: device
 *
 * With on-io-error detach, stops all further I/O on the backing device
 * at once; schedules the policy (rblk_io_error_work()).  Discard errors
 * and "not supported" are no I/O errors: the caller filters them.
 *
 * Context: any, including hard irq (bio completion); the caller holds a
 * reference on dev->local_ref.
 */
void rblk_local_io_error(struct rblk_device *dev)
{
	/*
	 * detach: no I/O reaches the failed disk from now on, before the
	 * failed request completes (a read must not return what the disk
	 * failed to overwrite).  The caller holds a local_ref reference.
	 */
	if (READ_ONCE(dev->on_io_error) == RBLK_ON_IO_ERROR_DETACH &&
	    !test_and_set_bit(RBLK_LOCAL_REF_KILLED, &dev->local_flags))
		percpu_ref_kill(&dev->local_ref);
	if (!test_and_set_bit(RBLK_LOCAL_IO_FAILED, &dev->local_flags))
		mod_delayed_work(rblk_wq, &dev->io_error_work, 0);
}

/*
 * Apply the on-io-error policy of a device whose backing device failed a
 * write.  detach: the disk is Failed (rblk_local_io_error() stopped its
 * I/O already), then closed once its I/O has drained (Diskless; the
 * device keeps its size, so an opener sees no resize, and its I/O fails
 * until a disk is attached again).  pass-on: the disk keeps serving, but
 * lacks a write its peers may hold: Inconsistent.
 *
 * Takes the device's mutex with a trylock (and retries) so that device
 * deletion can cancel this work while holding it, and waits for the drain
 * without it, so that management calls of the device (disconnect, which
 * ends requests waiting for a peer) are not held up by the drain.
 */
static void rblk_io_error_work(struct work_struct *work)
{
	struct rblk_device *dev = container_of(to_delayed_work(work), struct rblk_device,
					       io_error_work);

	if (!mutex_trylock(&dev->mutex)) {
		queue_delayed_work(rblk_wq, &dev->io_error_work, HZ / 10);
		return;
	}
	if (!test_bit(RBLK_LOCAL_IO_FAILED, &dev->local_flags) || !dev->backing.bdev ||
	    READ_ONCE(dev->deleting))
		goto out;
	if (dev->on_io_error == RBLK_ON_IO_ERROR_PASS_ON) {
		clear_bit(RBLK_LOCAL_IO_FAILED, &dev->local_flags);
		pr_err_ratelimited("%s: write error on the backing device: disk inconsistent (on-io-error pass-on)\n",
				   dev->disk->disk_name);
		rblk_set_disk_state(dev, RBLK_DISK_INCONSISTENT);
		goto out;
	}
	if (READ_ONCE(dev->disk_state) != RBLK_DISK_FAILED) {
		pr_err("%s: write error on the backing device: detaching it (on-io-error detach)\n",
		       dev->disk->disk_name);
		rblk_set_disk_state(dev, RBLK_DISK_FAILED);
		/* a primary without its disk has no vote of its own */
		rblk_quorum_update(dev);
	}
	if (!completion_done(&dev->local_done)) {
		mutex_unlock(&dev->mutex);
		wait_for_completion(&dev->local_done);
		queue_delayed_work(rblk_wq, &dev->io_error_work, 0);
		return;
	}
	rblk_backing_close(dev, true);
	rblk_notify(dev, RBLK_EVENT_DISK_STATE_CHANGED, -1, RBLK_DISK_DISKLESS, NULL);
	rblk_announce_state(dev);
	pr_info("%s: detached after an I/O error\n", dev->disk->disk_name);
out:
	mutex_unlock(&dev->mutex);
}

/**
 * rblk_change_disk_state() - change the local disk state if it is still @from
 * @dev: device
 * @from: the state the caller saw
 * @to: the new state
 *
 * For decisions made on a snapshot (a lost connection, a peer's OUTDATE):
 * if another change came in between (an I/O error detached the disk, say),
 * it wins.
 *
 * Context: process context (GFP_ATOMIC allocations); no rblk spinlock held.
 *
 * Return: true if the state was changed (and announced).
 */
bool rblk_change_disk_state(struct rblk_device *dev, enum rblk_disk_state from,
			    enum rblk_disk_state to)
{
	bool changed;

	spin_lock(&dev->state_lock);
	changed = dev->disk_state == from && from != to;
	if (changed) {
		dev->disk_state = to;
		dev->state_gen++;
	}
	spin_unlock(&dev->state_lock);
	if (changed) {
		rblk_md_queue_state(dev);
		rblk_notify(dev, RBLK_EVENT_DISK_STATE_CHANGED, -1, to, NULL);
		rblk_announce_state(dev);
	}
	return changed;
}

/* ------------------------------------------------------------------------
 * block device operations
 */

static int rblk_set_role_locked(struct rblk_device *dev, enum rblk_role role, bool force,
				bool ignore_quorum, struct netlink_ext_ack *extack);

/* How long an open for writing waits for a management call to end. */
#define RBLK_AUTO_PROMOTE_WAIT_MS	10000

/*
 * Auto-promote for an open for writing: as RBLK_CMD_PRIMARY without
 * FORCE or IGNORE_QUORUM.  On success the opener is counted.
 *
 * disk->open_mutex is held: dev->mutex is only tried, never waited for
 * (management calls hold it while they open and close backing devices,
 * which takes their open_mutex).
 */
static int rblk_auto_promote(struct rblk_device *dev)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(RBLK_AUTO_PROMOTE_WAIT_MS);
	struct netlink_ext_ack extack = {};
	int ret = 0;

	while (!mutex_trylock(&dev->mutex)) {
		if (READ_ONCE(dev->deleting))
			return -ENXIO;
		if (time_after(jiffies, deadline)) {
			pr_info_ratelimited("%s: auto-promote: a management call is busy\n",
					    dev->disk->disk_name);
			return -EBUSY;
		}
		msleep(20);
	}
	if (READ_ONCE(dev->deleting)) {
		ret = -ENXIO;
		goto out;
	}
	/* promoted by somebody else meanwhile: that role is not ours to drop */
	if (READ_ONCE(dev->role) != RBLK_ROLE_PRIMARY) {
		ret = rblk_set_role_locked(dev, RBLK_ROLE_PRIMARY, false, false, &extack);
		if (ret) {
			pr_info_ratelimited("%s: auto-promote refused: %s (%d)\n",
					    dev->disk->disk_name,
					    extack._msg ? extack._msg : "error", ret);
			ret = -EROFS;
			goto out;
		}
		spin_lock(&dev->state_lock);
		dev->auto_promoted = true;
		spin_unlock(&dev->state_lock);
		pr_info_ratelimited("%s: auto-promoted\n", dev->disk->disk_name);
	}
	spin_lock(&dev->state_lock);
	if (dev->role == RBLK_ROLE_PRIMARY)
		dev->open_count++;
	else
		ret = -EROFS;
	spin_unlock(&dev->state_lock);
out:
	mutex_unlock(&dev->mutex);
	return ret;
}

/**
 * rblk_auto_demote() - an auto-promoted primary nobody holds open any more
 *	becomes secondary
 * @dev: device
 *
 * Queued by the last release (RBLK_AUTO_DEMOTE, run by quorum_work): an
 * opener that came back meanwhile, or an operator's role change, keeps
 * the role.
 *
 * Context: process context, dev->mutex held.
 */
void rblk_auto_demote(struct rblk_device *dev)
{
	struct netlink_ext_ack extack = {};
	bool demote;
	int ret;

	lockdep_assert_held(&dev->mutex);
	spin_lock(&dev->state_lock);
	demote = !dev->open_count && dev->auto_promoted && !dev->deleting &&
		 dev->role == RBLK_ROLE_PRIMARY;
	spin_unlock(&dev->state_lock);
	if (!demote)
		return;
	ret = rblk_set_role_locked(dev, RBLK_ROLE_SECONDARY, false, false, &extack);
	if (ret) {
		pr_warn_ratelimited("%s: auto-demote failed: %s (%d)\n", dev->disk->disk_name,
				    extack._msg ? extack._msg : "error", ret);
		return;
	}
	spin_lock(&dev->state_lock);
	dev->auto_promoted = false;
	spin_unlock(&dev->state_lock);
}

/**
 * rblk_disk_open() - open of /dev/rblkN
 * @disk: the gendisk
 * @for_write: opened for writing
 *
 * An open for writing of a secondary with auto-promote promotes it first
 * (rblk_auto_promote(): it tries dev->mutex for up to 10 s).
 *
 * Return: 0; -EROFS when opened for writing while secondary (and no
 * auto-promote, or the promotion was refused: the log says why); -EBUSY
 * when a management call of the device held it for 10 s; -ENXIO while
 * the device is being deleted.
 *
 * Context: process context, may sleep; disk->open_mutex held by the block
 * layer.
 */
int rblk_disk_open(struct gendisk *disk, bool for_write)
{
	struct rblk_device *dev = disk->private_data;
	bool promote = false;
	int ret = 0;

	spin_lock(&dev->state_lock);
	if (dev->deleting)
		ret = -ENXIO;
	else if (for_write && dev->role != RBLK_ROLE_PRIMARY && dev->auto_promote)
		promote = true;
	else if (for_write && dev->role != RBLK_ROLE_PRIMARY)
		ret = -EROFS;
	else
		dev->open_count++;
	spin_unlock(&dev->state_lock);
	if (promote)
		ret = rblk_auto_promote(dev);
	return ret;
}

/**
 * rblk_disk_release() - last close of one opener of /dev/rblkN
 * @disk: the gendisk
 *
 * The last close of an auto-promoted primary demotes it, from
 * quorum_work (rblk_auto_demote(): it needs dev->mutex, which is not
 * waited for under disk->open_mutex).  The block layer does not say
 * whether that opener wrote: any last close does.
 *
 * Context: process context; disk->open_mutex held by the block layer.
 */
void rblk_disk_release(struct gendisk *disk)
{
	struct rblk_device *dev = disk->private_data;
	bool demote;

	spin_lock(&dev->state_lock);
	dev->open_count--;
	demote = !dev->open_count && dev->auto_promoted;
	spin_unlock(&dev->state_lock);
	if (demote) {
		set_bit(RBLK_AUTO_DEMOTE, &dev->local_flags);
		mod_delayed_work(rblk_wq, &dev->quorum_work, 0);
	}
}

static const struct block_device_operations rblk_fops = {
	.owner = THIS_MODULE,
	.submit_bio = rblk_submit_bio,
	.open = rblk_compat_open,
	.release = rblk_compat_release,
};

/* ------------------------------------------------------------------------
 * devices
 */

static void rblk_device_release(struct kref *ref)
{
	struct rblk_device *dev = container_of(ref, struct rblk_device, ref);

	free_percpu(dev->stats);
	memzero_explicit(dev->auth_secret, sizeof(dev->auth_secret));
	kfree(dev);
}

static void rblk_device_put(struct rblk_device *dev)
{
	kref_put(&dev->ref, rblk_device_release);
}

/* A reference to the device of @minor, or NULL.  Process context. */
static struct rblk_device *rblk_device_get(u32 minor)
{
	struct rblk_device *dev;

	mutex_lock(&rblk_devices_mutex);
	dev = xa_load(&rblk_devices, minor);
	if (dev)
		kref_get(&dev->ref);
	mutex_unlock(&rblk_devices_mutex);
	return dev;
}

/*
 * Find a device and take its mutex for a management call; NULL (with the
 * extack message) when there is none or it was deleted meanwhile.  Undo
 * with rblk_device_unlock().  Process context, may sleep.
 */
struct rblk_device *rblk_device_lock(u32 minor, struct netlink_ext_ack *extack)
{
	struct rblk_device *dev = rblk_device_get(minor);

	if (dev) {
		mutex_lock(&dev->mutex);
		if (!READ_ONCE(dev->deleting))
			return dev;
		mutex_unlock(&dev->mutex);
		rblk_device_put(dev);
	}
	rblk_set_err(extack, "no such device");
	return NULL;
}

void rblk_device_unlock(struct rblk_device *dev)
{
	mutex_unlock(&dev->mutex);
	rblk_device_put(dev);
}

static void rblk_local_ref_release(struct percpu_ref *ref)
{
	struct rblk_device *dev = container_of(ref, struct rblk_device, local_ref);

	complete_all(&dev->local_done);	/* detach and the io-error work both wait */
}

bool rblk_any_peer_connected(struct rblk_device *dev)
{
	unsigned int i;

	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_peer *peer = rcu_dereference_protected(dev->peers[i],
						lockdep_is_held(&dev->mutex));

		if (peer && rblk_peer_is_connected(peer))
			return true;
	}
	return false;
}

static bool rblk_any_peer_reconcile(struct rblk_device *dev)
{
	bool any = false;
	unsigned int i;

	rcu_read_lock();
	for (i = 0; i < RBLK_MAX_PEERS && !any; i++) {
		struct rblk_peer *peer = rcu_dereference(dev->peers[i]);

		if (peer && rblk_peer_is_connected(peer)) {
			spin_lock_bh(&peer->lock);
			any = peer->reconcile;
			spin_unlock_bh(&peer->lock);
		}
	}
	rcu_read_unlock();
	return any;
}

static bool rblk_any_peer_primary(struct rblk_device *dev)
{
	bool primary = false;
	unsigned int i;

	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_peer *peer = rcu_dereference_protected(dev->peers[i],
						lockdep_is_held(&dev->mutex));

		if (!peer)
			continue;
		/* a primary whose writes may still reach our disk counts */
		spin_lock_bh(&peer->lock);
		if ((peer->conn_state == RBLK_CONN_CONNECTED ||
		     peer->conn_state == RBLK_CONN_DISCONNECTING) &&
		    peer->peer_role == RBLK_ROLE_PRIMARY)
			primary = true;
		spin_unlock_bh(&peer->lock);
	}
	return primary;
}

/* Is a device with this resource name configured?  Under rblk_devices_mutex. */
static bool rblk_resource_name_in_use(const char *name)
{
	struct rblk_device *dev;
	unsigned long minor;

	lockdep_assert_held(&rblk_devices_mutex);
	xa_for_each(&rblk_devices, minor, dev)
		if (!strcmp(dev->resource_name, name))
			return true;
	return false;
}

/*
 * /sys/block/rblkN/rblk/: what udev needs to name the device without asking
 * rblkadm (/dev/rblk/by-res/NAME).  The files exist before the KOBJ_ADD
 * uevent; del_gendisk() removes them and waits for readers before the
 * device is freed.
 */
static ssize_t resource_show(struct device *d, struct device_attribute *attr, char *buf)
{
	struct rblk_device *dev = dev_to_disk(d)->private_data;

	return sysfs_emit(buf, "%s\n", dev->resource_name);
}
static DEVICE_ATTR_RO(resource);

static struct attribute *rblk_disk_attrs[] = {
	&dev_attr_resource.attr,
	NULL,
};

static const struct attribute_group rblk_disk_attr_group = {
	.name = RBLK_DRIVER_NAME,
	.attrs = rblk_disk_attrs,
};

static const struct attribute_group *rblk_disk_attr_groups[] = {
	&rblk_disk_attr_group,
	NULL,
};

/**
 * rblk_device_create() - create /dev/rblkN, diskless, secondary, no peers
 * @cfg: minor, node id, resource and cluster name (NUL-terminated)
 * @extack: error message
 *
 * Return: 0; -EINVAL (minor or node id out of range, empty resource
 * name); -EEXIST (minor or resource name in use); -ENOMEM; or
 * device_add_disk()'s error.
 *
 * Context: process context, may sleep.
 */
int rblk_device_create(const struct rblk_device_config *cfg, struct netlink_ext_ack *extack)
{
	struct rblk_limits lim = {
		.logical_block_size_bytes = SECTOR_SIZE,
		.physical_block_size_bytes = SECTOR_SIZE,
		.max_sectors = RBLK_MAX_DATA_SECTORS,
	};
	struct rblk_device *dev;
	struct gendisk *disk;
	int ret;

	if (cfg->minor > RBLK_MAX_MINOR || cfg->node_id > RBLK_MAX_NODE_ID) {
		rblk_set_err(extack, "minor or node id out of range");
		return -EINVAL;
	}
	if (!cfg->resource_name[0]) {
		rblk_set_err(extack, "resource name is empty");
		return -EINVAL;
	}
	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	dev->minor = cfg->minor;
	dev->node_id = cfg->node_id;
	strscpy(dev->resource_name, cfg->resource_name, sizeof(dev->resource_name));
	strscpy(dev->cluster_name, cfg->cluster_name, sizeof(dev->cluster_name));
	spin_lock_init(&dev->state_lock);
	mutex_init(&dev->mutex);
	kref_init(&dev->ref);
	dev->role = RBLK_ROLE_SECONDARY;
	dev->disk_state = RBLK_DISK_DISKLESS;
	dev->logical_block_size_bytes = SECTOR_SIZE;
	init_completion(&dev->local_done);
	init_waitqueue_head(&dev->role_wait);
	rblk_conflicts_init(&dev->conflicts);
	dev->primary_peer = RBLK_NO_PEER;
	dev->sync_target_of = RBLK_NO_PEER;
	dev->lost_disk_held_by = RBLK_NO_PEER;
	INIT_DELAYED_WORK(&dev->io_error_work, rblk_io_error_work);
	mutex_init(&dev->md.lock);
	mutex_init(&dev->md.al_lock);
	INIT_DELAYED_WORK(&dev->md.al_work, rblk_al_clean_work);
	mutex_init(&dev->md_state_mutex);
	INIT_WORK(&dev->gen_work, rblk_req_gen_work);
	INIT_WORK(&dev->md_state_work, rblk_md_state_work);
	INIT_WORK(&dev->al_work, rblk_req_al_work);
	init_llist_head(&dev->al_reqs);
	INIT_WORK(&dev->read_retry_work, rblk_read_retry_work);
	INIT_DELAYED_WORK(&dev->lost_disk_work, rblk_lost_disk_work);
	INIT_DELAYED_WORK(&dev->reflush_work, rblk_quorum_reflush_work);
	init_llist_head(&dev->read_retry_reqs);
	init_llist_head(&dev->gen_reqs);
	spin_lock_init(&dev->quorum_lock);
	INIT_LIST_HEAD(&dev->quorum_held);
	bio_list_init(&dev->quorum_parked);
	INIT_DELAYED_WORK(&dev->quorum_work, rblk_quorum_work);
	INIT_DELAYED_WORK(&dev->fence_work, rblk_fence_work);
	dev->has_quorum = true;
	dev->quorum_votes = 1;
	dev->quorum_voters = 1;
	atomic_set(&dev->inflight, 0);
	/* diskless: an exited ref makes every percpu_ref_tryget_live() fail */
	ret = percpu_ref_init(&dev->local_ref, rblk_local_ref_release,
			      PERCPU_REF_INIT_DEAD, GFP_KERNEL);
	if (ret)
		goto free_dev;
	percpu_ref_exit(&dev->local_ref);
	set_bit(RBLK_LOCAL_REF_KILLED, &dev->local_flags);
	dev->stats = alloc_percpu(struct rblk_stats);
	if (!dev->stats) {
		ret = -ENOMEM;
		goto free_dev;
	}

	disk = rblk_compat_alloc_disk(&lim);
	if (IS_ERR(disk)) {
		ret = PTR_ERR(disk);
		goto free_stats;
	}
	disk->major = rblk_major;
	disk->first_minor = cfg->minor;
	disk->minors = 1;
	disk->flags |= GENHD_FL_NO_PART;
	disk->fops = &rblk_fops;
	disk->private_data = dev;
	snprintf(disk->disk_name, sizeof(disk->disk_name), RBLK_DRIVER_NAME "%u", cfg->minor);
	set_capacity(disk, 0);
	dev->disk = disk;

	mutex_lock(&rblk_devices_mutex);
	if (rblk_resource_name_in_use(cfg->resource_name)) {
		mutex_unlock(&rblk_devices_mutex);
		rblk_set_err(extack, "resource name already in use");
		ret = -EEXIST;
		goto put_disk;
	}
	ret = xa_insert(&rblk_devices, cfg->minor, dev, GFP_KERNEL);
	if (ret) {
		mutex_unlock(&rblk_devices_mutex);
		if (ret == -EBUSY) {
			rblk_set_err(extack, "minor already in use");
			ret = -EEXIST;
		}
		goto put_disk;
	}
	ret = device_add_disk(NULL, disk, rblk_disk_attr_groups);
	if (ret) {
		xa_erase(&rblk_devices, cfg->minor);
		mutex_unlock(&rblk_devices_mutex);
		rblk_set_err(extack, "could not add the disk");
		goto put_disk;
	}
	mutex_unlock(&rblk_devices_mutex);
	rblk_notify(dev, RBLK_EVENT_DEVICE_CREATED, -1, 0, NULL);
	pr_info("%s: created (resource %s, node %u)\n", disk->disk_name,
		dev->resource_name, dev->node_id);
	return 0;

put_disk:
	put_disk(disk);
free_stats:
	free_percpu(dev->stats);
free_dev:
	kfree(dev);
	return ret;
}

/*
 * Stop using the backing device: Diskless, after its I/O has drained.
 * @keep_size: the device keeps its size (detach after an I/O error, the
 * device may be open); else it shrinks to 0.  dev->mutex held.
 */
static void rblk_backing_close(struct rblk_device *dev, bool keep_size)
{
	spin_lock(&dev->state_lock);
	dev->disk_state = RBLK_DISK_DISKLESS;
	if (!keep_size)
		dev->size_sectors = 0;
	dev->state_gen++;
	dev->backing_path[0] = '\0';
	spin_unlock(&dev->state_lock);
	if (!test_and_set_bit(RBLK_LOCAL_REF_KILLED, &dev->local_flags))
		percpu_ref_kill(&dev->local_ref);
	wait_for_completion(&dev->local_done);
	percpu_ref_exit(&dev->local_ref);
	if (dev->has_md) {
		flush_work(&dev->al_work);
		flush_work(&dev->gen_work);
		/* every metadata user checks has_md under md.lock */
		mutex_lock(&dev->md.lock);
		WRITE_ONCE(dev->has_md, false);
		mutex_unlock(&dev->md.lock);
		flush_work(&dev->md_state_work);
		rblk_md_detach(dev);
		rblk_peers_set_slot(dev, -1);
	}
	if (!keep_size)
		set_capacity_and_notify(dev->disk, 0);
	rblk_compat_bdev_close(&dev->backing, dev);
	clear_bit(RBLK_LOCAL_IO_FAILED, &dev->local_flags);
}

static void rblk_peer_free(struct rblk_device *dev, struct rblk_peer *peer)
{
	u32 node_id = peer->cfg.node_id;

	rblk_peer_shutdown(peer);
	/* nobody to fence any more */
	rblk_fence_clear(dev, BIT(node_id));
	RCU_INIT_POINTER(dev->peers[node_id], NULL);
	dev->nr_peers--;
	kfree_rcu(peer, rcu);
	rblk_notify(dev, RBLK_EVENT_PEER_REMOVED, node_id, 0, NULL);
}

/*
 * Tear a device down: dev->mutex held, deleting set (so it is not opened
 * any more and other management calls give up).  The caller then drops
 * the mutex and calls rblk_device_remove().
 */
static void rblk_device_destroy(struct rblk_device *dev)
{
	unsigned int i;

	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_peer *peer = rcu_dereference_protected(dev->peers[i],
						lockdep_is_held(&dev->mutex));

		if (peer)
			rblk_peer_free(dev, peer);
	}
	/* writes still held for quorum fail: nobody is left to give it */
	spin_lock(&dev->state_lock);
	dev->role = RBLK_ROLE_SECONDARY;
	spin_unlock(&dev->state_lock);
	/* no peer is left to fence (a handler that runs: rblk_device_remove()) */
	rblk_fence_clear(dev, ~0UL);
	cancel_delayed_work_sync(&dev->quorum_work);
	cancel_delayed_work_sync(&dev->reflush_work);
	rblk_quorum_update(dev);
	/* reads handed on by the connections' teardown */
	flush_work(&dev->read_retry_work);
	if (dev->backing.bdev)
		rblk_backing_close(dev, false);
	/* writes our lost disk lacks fail: no peer is left to hold them */
	mod_delayed_work(rblk_wq, &dev->lost_disk_work, 0);
	flush_delayed_work(&dev->lost_disk_work);
	cancel_delayed_work_sync(&dev->lost_disk_work);
	cancel_delayed_work_sync(&dev->io_error_work);
	cancel_work_sync(&dev->md_state_work);
}

/*
 * Remove the gendisk of a destroyed device, without dev->mutex: an open
 * that auto-promotes holds disk->open_mutex while it tries dev->mutex,
 * del_gendisk() takes disk->open_mutex, and a fence-peer handler that
 * still runs may call rblkadm.  Drops the reference of the xarray entry;
 * the caller still holds one.
 */
static void rblk_device_remove(struct rblk_device *dev)
{
	/* a fence-peer handler may call rblkadm: waited for without the mutex */
	cancel_delayed_work_sync(&dev->fence_work);
	pr_info("%s: deleted\n", dev->disk->disk_name);
	del_gendisk(dev->disk);
	/* the minor and name are free once the gendisk is gone */
	mutex_lock(&rblk_devices_mutex);
	xa_erase(&rblk_devices, dev->minor);
	mutex_unlock(&rblk_devices_mutex);
	put_disk(dev->disk);
	rblk_notify(dev, RBLK_EVENT_DEVICE_DELETED, -1, 0, NULL);
	/* the reference of the xarray entry; the caller still holds one */
	rblk_device_put(dev);
}

/**
 * rblk_device_delete() - delete /dev/rblkN: disconnect, detach, remove
 * @minor: device
 * @extack: error message
 *
 * Return: 0; -ENODEV (no such device); -EBUSY (device is open).
 *
 * Context: process context, may sleep (drains connections).
 */
int rblk_device_delete(u32 minor, struct netlink_ext_ack *extack)
{
	struct rblk_device *dev;
	int ret = 0;

	dev = rblk_device_lock(minor, extack);
	if (!dev)
		return -ENODEV;
	spin_lock(&dev->state_lock);
	if (dev->open_count) {
		ret = -EBUSY;
	} else {
		WRITE_ONCE(dev->deleting, true);
		dev->state_gen++;
	}
	spin_unlock(&dev->state_lock);
	if (ret)
		rblk_set_err(extack, "device is open");
	else
		rblk_device_destroy(dev);
	mutex_unlock(&dev->mutex);
	if (!ret)
		rblk_device_remove(dev);
	rblk_device_put(dev);
	return ret;
}

/* Set every peer's bitmap slot to @slot (-1), or look each one up (0). */
static int rblk_peers_set_slot(struct rblk_device *dev, int slot)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_peer *peer = rcu_dereference_protected(dev->peers[i],
						lockdep_is_held(&dev->mutex));

		if (!peer)
			continue;
		if (slot < 0)
			WRITE_ONCE(peer->md_slot, -1);
		else if (!ret)
			ret = rblk_md_assign_slot(dev, peer);
	}
	return ret;
}

/*
 * Which peers miss writes of ours, from the metadata: a slot that tracks
 * a generation or has bits set.  dev->mutex held, after the slots are
 * assigned.
 */
static void rblk_peers_missed_from_md(struct rblk_device *dev)
{
	unsigned int i;

	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_peer *peer = rcu_dereference_protected(dev->peers[i],
						lockdep_is_held(&dev->mutex));
		int slot = peer ? peer->md_slot : -1;

		if (slot >= 0 && (dev->md.info.slots[slot].bitmap_uuid ||
				  rblk_bm_oos_bytes(dev, slot)))
			set_bit(i, &dev->peers_missed_writes);
	}
}

/**
 * rblk_device_attach() - use a local block device as backing device
 * @minor: device
 * @path: path of the backing block device, opened exclusively
 * @meta_path: external metadata device, or NULL: the metadata is at the
 *	end of @path, and the device exports what is before it
 * @on_io_error: what a failed write of the backing device does
 * @extack: error message
 *
 * Size (512-byte sectors), logical/physical block size, max request size
 * (capped at RBLK_MAX_DATA_BYTES), discard and write-zeroes limits come
 * from the backing device.
 *
 * The disk state comes from the metadata (rblk_md_attach()): Inconsistent,
 * Outdated, or Consistent until a peer confirms it.
 *
 * Return: 0; -ENODEV (no such device); -EBUSY (already attached, device
 * open or primary, or a peer connected); -EINVAL (backing device of size 0); the
 * errors of rblk_md_attach() (-ENOMSG: no metadata; -EUCLEAN: another
 * node's or unusable metadata); -ENOSPC (the metadata has no bitmap slot
 * for a configured peer); or the error of opening @path (-ENOENT,
 * -ENOTBLK, -EBUSY when in use ...).
 *
 * Context: process context, may sleep.
 */
int rblk_device_attach(u32 minor, const char *path, const char *meta_path,
		       enum rblk_on_io_error on_io_error, struct netlink_ext_ack *extack)
{
	struct rblk_bdev_handle h = { };
	struct rblk_device *dev;
	struct rblk_limits lim;
	struct block_device *bdev;
	enum rblk_disk_state state;
	u64 size;
	int ret;

	dev = rblk_device_lock(minor, extack);
	if (!dev)
		return -ENODEV;
	if (dev->backing.bdev) {
		rblk_set_err(extack, "a backing device is already attached");
		ret = -EBUSY;
		goto out;
	}
	if (READ_ONCE(dev->open_count)) {
		rblk_set_err(extack, "device is open");
		ret = -EBUSY;
		goto out;
	}
	/* only a failure leaves a primary without a disk: its peer has newer data */
	if (READ_ONCE(dev->role) == RBLK_ROLE_PRIMARY) {
		rblk_set_err(extack, "device is primary: make it secondary first");
		ret = -EBUSY;
		goto out;
	}
	if (rblk_any_peer_connected(dev)) {
		rblk_set_err(extack, "disconnect the peers first");
		ret = -EBUSY;
		goto out;
	}
	ret = rblk_compat_bdev_open(path, dev, &h);
	if (ret) {
		rblk_set_err(extack, "cannot open the backing device exclusively");
		goto out;
	}
	bdev = h.bdev;
	if (!bdev_nr_sectors(bdev)) {
		rblk_set_err(extack, "backing device is empty");
		ret = -EINVAL;
		goto close;
	}
	dev->backing = h;
	ret = rblk_md_attach(dev, meta_path, &state, extack);
	if (ret) {
		dev->backing.bdev = NULL;
		goto close;
	}
	size = dev->md.info.layout.data_sectors;
	WRITE_ONCE(dev->has_md, true);
	ret = rblk_peers_set_slot(dev, 0);
	if (ret) {
		rblk_set_err(extack, "the metadata has no bitmap slot for a configured peer");
		goto detach_md;
	}
	rblk_peers_missed_from_md(dev);
	lim.logical_block_size_bytes = bdev_logical_block_size(bdev);
	lim.physical_block_size_bytes = bdev_physical_block_size(bdev);
	lim.max_sectors = min_t(u32, queue_max_hw_sectors(bdev_get_queue(bdev)),
				RBLK_MAX_DATA_SECTORS);
	lim.max_discard_sectors = min_t(u32, bdev_max_discard_sectors(bdev),
					RBLK_MAX_DISCARD_SECTORS);
	lim.discard_granularity_bytes = lim.max_discard_sectors ?
		max(bdev_discard_granularity(bdev), lim.logical_block_size_bytes) : 0;
	lim.max_write_zeroes_sectors = min_t(u32, bdev_write_zeroes_sectors(bdev),
					     RBLK_MAX_DATA_SECTORS);
	ret = rblk_compat_set_limits(dev->disk, &lim);
	if (ret) {
		rblk_set_err(extack, "cannot apply the backing device's limits");
		goto detach_md;
	}
	ret = percpu_ref_init(&dev->local_ref, rblk_local_ref_release, 0, GFP_KERNEL);
	if (ret)
		goto detach_md;
	reinit_completion(&dev->local_done);
	clear_bit(RBLK_LOCAL_REF_KILLED, &dev->local_flags);

	spin_lock(&dev->state_lock);
	dev->size_sectors = size;
	dev->logical_block_size_bytes = lim.logical_block_size_bytes;
	dev->disk_state = state;
	dev->state_gen++;
	dev->on_io_error = on_io_error;
	/* a disk again: nobody holds writes for a lost one */
	WRITE_ONCE(dev->lost_disk_held_by, RBLK_NO_PEER);
	strscpy(dev->backing_path, path, sizeof(dev->backing_path));
	spin_unlock(&dev->state_lock);
	set_capacity_and_notify(dev->disk, size);
	rblk_notify(dev, RBLK_EVENT_DISK_STATE_CHANGED, -1, state, NULL);
	pr_info("%s: attached %s, %llu sectors, %s\n", dev->disk->disk_name, path, size,
		rblk_disk_state_name(state));
	goto out;

detach_md:
	rblk_md_detach(dev);
	WRITE_ONCE(dev->has_md, false);
	rblk_peers_set_slot(dev, -1);
	dev->backing.bdev = NULL;
close:
	rblk_compat_bdev_close(&h, dev);
out:
	rblk_device_unlock(dev);
	return ret;
}

/**
 * rblk_device_detach() - stop using the backing device; becomes Diskless
 * @minor: device
 * @extack: error message
 *
 * Waits for I/O on the backing device to finish.
 *
 * Return: 0; -ENODEV (no such device); -ENOMEDIUM (nothing attached);
 * -EBUSY (device open, primary, or a peer connected).
 *
 * Context: process context, may sleep.
 */
int rblk_device_detach(u32 minor, struct netlink_ext_ack *extack)
{
	struct rblk_device *dev;
	int ret = 0;

	dev = rblk_device_lock(minor, extack);
	if (!dev)
		return -ENODEV;
	if (!dev->backing.bdev) {
		rblk_set_err(extack, "no backing device attached");
		ret = -ENOMEDIUM;
		goto out;
	}
	if (READ_ONCE(dev->open_count) || READ_ONCE(dev->role) == RBLK_ROLE_PRIMARY) {
		rblk_set_err(extack, "device is open or primary");
		ret = -EBUSY;
		goto out;
	}
	if (rblk_any_peer_connected(dev)) {
		rblk_set_err(extack, "disconnect the peers first");
		ret = -EBUSY;
		goto out;
	}
	rblk_backing_close(dev, false);
	rblk_notify(dev, RBLK_EVENT_DISK_STATE_CHANGED, -1, RBLK_DISK_DISKLESS, NULL);
	pr_info("%s: detached\n", dev->disk->disk_name);
out:
	rblk_device_unlock(dev);
	return ret;
}

/* ------------------------------------------------------------------------
 * peers (connection handling itself is in conn.c)
 */

static int rblk_check_peer_config(const struct rblk_device *dev,
				  const struct rblk_peer_config *cfg,
				  struct netlink_ext_ack *extack)
{
	sa_family_t fam = cfg->peer_addr.ss_family;

	if (cfg->node_id > RBLK_MAX_NODE_ID || cfg->node_id == dev->node_id) {
		rblk_set_err(extack, "peer node id out of range or equal to the local one");
		return -EINVAL;
	}
	if ((fam != AF_INET && fam != AF_INET6) || cfg->local_addr.ss_family != fam) {
		rblk_set_err(extack, "peer and local address must be both IPv4 or both IPv6");
		return -EAFNOSUPPORT;
	}
	if (cfg->reconnect_min_ms > cfg->reconnect_max_ms) {
		rblk_set_err(extack, "reconnect_min_ms exceeds reconnect_max_ms");
		return -EINVAL;
	}
	return 0;
}

static u32 rblk_ms_or_default(u32 ms, u32 def)
{
	if (!ms)
		return def;
	return clamp_t(u32, ms, RBLK_TIMEOUT_MS_MIN, RBLK_TIMEOUT_MS_MAX);
}

/**
 * rblk_peer_add() - configure a peer of a device (StandAlone until connect)
 * @minor: device
 * @cfg: node id, addresses with ports, timings in ms (0: default)
 * @extack: error message
 *
 * Return: 0; -ENODEV; -EEXIST (peer already configured); -EINVAL (node id,
 * timings); -EAFNOSUPPORT (address families); -ENOMEM.
 *
 * Context: process context, may sleep.
 */
int rblk_peer_add(u32 minor, const struct rblk_peer_config *cfg, struct netlink_ext_ack *extack)
{
	struct rblk_peer_config c = *cfg;
	struct rblk_device *dev;
	struct rblk_peer *peer;
	int ret;

	c.ping_interval_ms = rblk_ms_or_default(c.ping_interval_ms,
						RBLK_PING_INTERVAL_MS_DEFAULT);
	c.ping_timeout_ms = rblk_ms_or_default(c.ping_timeout_ms, RBLK_PING_TIMEOUT_MS_DEFAULT);
	c.connect_timeout_ms = rblk_ms_or_default(c.connect_timeout_ms,
						  RBLK_CONNECT_TIMEOUT_MS_DEFAULT);
	c.reconnect_min_ms = rblk_ms_or_default(c.reconnect_min_ms,
						RBLK_RECONNECT_MIN_MS_DEFAULT);
	c.reconnect_max_ms = rblk_ms_or_default(c.reconnect_max_ms,
						RBLK_RECONNECT_MAX_MS_DEFAULT);
	c.request_timeout_ms = rblk_ms_or_default(c.request_timeout_ms,
						  RBLK_REQUEST_TIMEOUT_MS_DEFAULT);
	c.ko_count = clamp_t(u32, c.ko_count ?: RBLK_KO_COUNT_DEFAULT, 1, RBLK_KO_COUNT_MAX);
	c.resync_rate_kib_per_s = min_t(u32, c.resync_rate_kib_per_s,
					RBLK_RESYNC_RATE_KIB_PER_S_MAX);
	c.resync_latency_ms = clamp_t(u32, c.resync_latency_ms ?: RBLK_RESYNC_LATENCY_MS_DEFAULT,
				      RBLK_RESYNC_LATENCY_MS_MIN, RBLK_RESYNC_LATENCY_MS_MAX);

	dev = rblk_device_lock(minor, extack);
	if (!dev)
		return -ENODEV;
	ret = rblk_check_peer_config(dev, &c, extack);
	if (ret)
		goto out;
	if (rcu_access_pointer(dev->peers[c.node_id])) {
		rblk_set_err(extack, "peer already configured");
		ret = -EEXIST;
		goto out;
	}
	peer = kzalloc(sizeof(*peer), GFP_KERNEL);
	if (!peer) {
		ret = -ENOMEM;
		goto out;
	}
	peer->dev = dev;
	peer->cfg = c;
	rblk_peer_init(peer);
	if (dev->has_md) {
		ret = rblk_md_assign_slot(dev, peer);
		if (ret) {
			rblk_set_err(extack, ret == -ENOSPC ?
				     "no free bitmap slot in the metadata (create-md, more peers)" :
				     "cannot write the metadata");
			kfree(peer);
			goto out;
		}
		if (dev->md.info.slots[peer->md_slot].bitmap_uuid ||
		    rblk_bm_oos_bytes(dev, peer->md_slot))
			set_bit(c.node_id, &dev->peers_missed_writes);
	}
	/*
	 * A primary may have written before the peer was configured: nothing
	 * proves that the peer holds those writes.
	 */
	if (READ_ONCE(dev->role) == RBLK_ROLE_PRIMARY)
		set_bit(c.node_id, &dev->peers_missed_writes);
	rcu_assign_pointer(dev->peers[c.node_id], peer);
	dev->nr_peers++;
	rblk_notify(dev, RBLK_EVENT_PEER_ADDED, c.node_id, 0, NULL);
	rblk_quorum_update(dev);
out:
	rblk_device_unlock(dev);
	return ret;
}

static struct rblk_peer *rblk_find_peer(struct rblk_device *dev, u32 node_id,
					struct netlink_ext_ack *extack)
{
	struct rblk_peer *peer = NULL;

	if (node_id < RBLK_MAX_PEERS)
		peer = rcu_dereference_protected(dev->peers[node_id],
						 lockdep_is_held(&dev->mutex));
	if (!peer)
		rblk_set_err(extack, "no such peer");
	return peer;
}

/**
 * rblk_peer_remove() - disconnect and forget a peer
 * @minor: device
 * @peer_node_id: peer
 * @extack: error message
 *
 * In-flight writes to the peer complete as "peer missed it".  The
 * in-memory record of writes the peer missed goes with it; with metadata
 * its bitmap slot stays (the blocks it missed, the generation they count
 * from), so a peer added back with the same node id is still resynced
 * what it missed.
 *
 * Return: 0; -ENODEV (no such device); -ENOENT (no such peer).
 *
 * Context: process context, may sleep.
 */
int rblk_peer_remove(u32 minor, u32 peer_node_id, struct netlink_ext_ack *extack)
{
	struct rblk_device *dev;
	struct rblk_peer *peer;
	int ret = 0;

	dev = rblk_device_lock(minor, extack);
	if (!dev)
		return -ENODEV;
	peer = rblk_find_peer(dev, peer_node_id, extack);
	if (!peer) {
		ret = -ENOENT;
		goto out;
	}
	rblk_peer_free(dev, peer);
	/*
	 * The in-memory record goes with the peer; its bitmap slot in the
	 * metadata stays and sets the record again if it is added back.
	 */
	clear_bit(peer_node_id, &dev->peers_missed_writes);
	clear_bit(peer_node_id, &dev->peers_behind);
	rblk_quorum_update(dev);
out:
	rblk_device_unlock(dev);
	return ret;
}

static int rblk_for_peers(u32 minor, s32 peer_node_id, void (*fn)(struct rblk_peer *, bool),
			  bool arg, struct netlink_ext_ack *extack)
{
	struct rblk_device *dev;
	struct rblk_peer *peer;
	unsigned int i;
	int ret = 0;

	dev = rblk_device_lock(minor, extack);
	if (!dev)
		return -ENODEV;
	if (peer_node_id >= 0) {
		peer = rblk_find_peer(dev, peer_node_id, extack);
		if (peer)
			fn(peer, arg);
		else
			ret = -ENOENT;
		goto out;
	}
	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		peer = rcu_dereference_protected(dev->peers[i],
						 lockdep_is_held(&dev->mutex));
		if (peer)
			fn(peer, arg);
	}
out:
	rblk_device_unlock(dev);
	return ret;
}

static void rblk_peer_disconnect_one(struct rblk_peer *peer, bool unused)
{
	rblk_peer_disconnect(peer);
}

/**
 * rblk_device_connect() - start connecting to one or every peer
 * @minor: device
 * @peer_node_id: peer, or < 0 for every peer
 * @discard_my_data: at the next handshake, a split-brain is resolved
 *	with this node as the sync target: its changes since the common
 *	generation are lost
 * @extack: error message
 *
 * Returns at once; the connection state goes Connecting, then Connected.
 * Reconnects with backoff until rblk_device_disconnect(), or until a
 * handshake finds a split-brain.
 *
 * Return: 0; -ENODEV (no such device); -ENOENT (no such peer).
 *
 * Context: process context.
 */
int rblk_device_connect(u32 minor, s32 peer_node_id, bool discard_my_data,
			struct netlink_ext_ack *extack)
{
	return rblk_for_peers(minor, peer_node_id, rblk_peer_connect, discard_my_data, extack);
}

/**
 * rblk_device_disconnect() - drop the connection to one or every peer
 * @minor: device
 * @peer_node_id: peer, or < 0 for every peer
 * @extack: error message
 *
 * Returns when the peers are StandAlone.
 *
 * Return: 0; -ENODEV (no such device); -ENOENT (no such peer).
 *
 * Context: process context, may sleep.
 */
int rblk_device_disconnect(u32 minor, s32 peer_node_id, struct netlink_ext_ack *extack)
{
	return rblk_for_peers(minor, peer_node_id, rblk_peer_disconnect_one, false, extack);
}

/* ------------------------------------------------------------------------
 * roles
 */

static bool rblk_role_replies_done(struct rblk_device *dev, const bool *asked)
{
	bool done = true;
	unsigned int i;

	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_peer *peer;

		if (!asked[i])
			continue;
		peer = rcu_dereference_protected(dev->peers[i],
						 lockdep_is_held(&dev->mutex));
		spin_lock_bh(&peer->lock);
		if (!peer->role_reply_done)
			done = false;
		spin_unlock_bh(&peer->lock);
	}
	return done;
}

/*
 * Ask every connected peer whether we may become primary.  A peer that is
 * primary itself or promoting refuses.  A peer that disconnects meanwhile
 * no longer counts.  Returns 0, -EBUSY (refused), -ESTALE (a peer knows
 * we missed writes) or -ETIMEDOUT.
 */
static int rblk_arbitrate_primary(struct rblk_device *dev, struct netlink_ext_ack *extack)
{
	bool asked[RBLK_MAX_PEERS] = { };
	u32 timeout_ms = 0;
	unsigned int i;
	int ret = 0;
	u64 id;

	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_peer *peer = rcu_dereference_protected(dev->peers[i],
						lockdep_is_held(&dev->mutex));

		if (!peer)
			continue;
		if (rblk_peer_send_state(peer, RBLK_P_ROLE_REQ, &id) == 0) {
			asked[i] = true;
			timeout_ms = max(timeout_ms, peer->cfg.ping_timeout_ms);
		} else {
			spin_lock_bh(&peer->lock);
			peer->role_req_id = 0;
			spin_unlock_bh(&peer->lock);
		}
	}
	if (!timeout_ms)
		return 0;
	wait_event_timeout(dev->role_wait, rblk_role_replies_done(dev, asked),
			   msecs_to_jiffies(timeout_ms));
	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_peer *peer;
		int status;

		if (!asked[i])
			continue;
		peer = rcu_dereference_protected(dev->peers[i],
						 lockdep_is_held(&dev->mutex));
		spin_lock_bh(&peer->lock);
		status = peer->role_reply_done ? peer->role_reply_status : -ETIMEDOUT;
		peer->role_req_id = 0;
		spin_unlock_bh(&peer->lock);
		if (status == -ENOTCONN || !status)
			continue;
		if (status == -ETIMEDOUT) {
			rblk_set_err(extack, "a peer did not answer the role request");
			ret = ret ?: -ETIMEDOUT;
		} else if (status == -ESTALE) {
			rblk_set_err(extack, "a peer saw this node miss writes: our data is outdated");
			ret = ret ?: -ESTALE;
		} else {
			rblk_set_err(extack, "a peer is primary or becoming primary");
			ret = -EBUSY;
		}
	}
	return ret;
}

/* rblk_device_set_role() with dev->mutex held. */
static int rblk_set_role_locked(struct rblk_device *dev, enum rblk_role role, bool force,
				bool ignore_quorum, struct netlink_ext_ack *extack)
{
	enum rblk_disk_state disk = RBLK_DISK_DISKLESS;
	bool disk_changed = false, new_gen = false;
	const char *why = NULL;
	bool peer_primary;
	int ret;

	peer_primary = rblk_any_peer_primary(dev);
	spin_lock(&dev->state_lock);
	/* a peer we granted promotion to counts as primary already */
	peer_primary = peer_primary || dev->primary_peer != RBLK_NO_PEER;
	/* without quorum the partition may not write: say that first */
	if (role == RBLK_ROLE_PRIMARY && dev->role != RBLK_ROLE_PRIMARY &&
	    !READ_ONCE(dev->has_quorum) && !ignore_quorum) {
		spin_unlock(&dev->state_lock);
		rblk_set_err(extack, "no quorum: too few nodes connected (--ignore-quorum overrides)");
		ret = -ENOTCONN;
		goto out;
	}
	/* a primary without quorum may hold its opener's writes: let it go */
	ret = rblk_role_change_check(dev->role, role, force, dev->disk_state,
				     READ_ONCE(dev->has_quorum) ? dev->open_count : 0,
				     peer_primary, &why);
	if (ret || dev->role == role) {
		spin_unlock(&dev->state_lock);
		if (ret)
			rblk_set_err(extack, why);
		goto out;
	}
	if (role == RBLK_ROLE_SECONDARY) {
		dev->role = RBLK_ROLE_SECONDARY;
		dev->state_gen++;
		spin_unlock(&dev->state_lock);
		goto changed;
	}

	dev->promoting = true;
	dev->state_gen++;
	spin_unlock(&dev->state_lock);

	ret = rblk_arbitrate_primary(dev, extack);
	/*
	 * Recorded before the first write: a primary that crashes is known
	 * as one at its next attach.  --force makes this node's data the
	 * newest: a new generation, consistent.
	 */
	new_gen = force && READ_ONCE(dev->disk_state) != RBLK_DISK_UP_TO_DATE;
	if (!ret)
		ret = rblk_md_promote(dev, new_gen);
	if (ret && !extack->_msg)
		rblk_set_err(extack, "cannot write the metadata");

	spin_lock(&dev->state_lock);
	dev->promoting = false;
	dev->state_gen++;
	if (!ret) {
		dev->role = RBLK_ROLE_PRIMARY;
		dev->quorum_stepped_down = false;
		if (force && dev->disk_state != RBLK_DISK_UP_TO_DATE) {
			dev->disk_state = RBLK_DISK_UP_TO_DATE;
			disk_changed = true;
		}
		disk = dev->disk_state;
	}
	spin_unlock(&dev->state_lock);
	if (ret) {
		/* peers that granted it learn that we stay secondary */
		rblk_announce_state(dev);
		goto out;
	}
changed:
	rblk_role_changed(dev, role);
	if (disk_changed)
		rblk_notify(dev, RBLK_EVENT_DISK_STATE_CHANGED, -1, disk, NULL);
	/*
	 * Our data won: the connected peers become sync targets.  Or a lost
	 * primary left regions to reconcile: we resync them now.
	 */
	if (new_gen || (role == RBLK_ROLE_PRIMARY && rblk_any_peer_reconcile(dev)))
		rblk_peers_recompare(dev);
	pr_info("%s: now %s\n", dev->disk->disk_name, rblk_role_name(role));
out:
	return ret;
}

/**
 * rblk_device_set_role() - promote to primary or demote to secondary
 * @minor: device
 * @role: RBLK_ROLE_PRIMARY or RBLK_ROLE_SECONDARY
 * @force: promote although the local disk is not UpToDate (it becomes
 *	UpToDate)
 * @ignore_quorum: promote although this node's partition has no quorum
 * @extack: error message
 *
 * Promotion asks every connected peer first (RBLK_P_ROLE_REQ); while
 * connected, two nodes cannot both become primary.  With a quorum policy
 * it needs quorum (quorum.c).  A demotion while /dev/rblkN is open is
 * allowed when the node has no quorum: the writes it holds fail.  The
 * new role is announced to the peers with RBLK_P_STATE.
 *
 * Return: 0 (also when already in @role); -ENODEV; the errors of
 * rblk_role_change_check() (-ESTALE, -ENOMEDIUM, -EBUSY for a demotion
 * while open or a promotion while a peer is primary, -EINVAL); -ENOTCONN
 * when a promotion lacks quorum and @ignore_quorum is not set; -EBUSY when
 * a peer refuses; -ETIMEDOUT when a peer does not answer within its
 * ping timeout.
 *
 * Context: process context, may sleep.
 */
int rblk_device_set_role(u32 minor, enum rblk_role role, bool force,
			 bool ignore_quorum, struct netlink_ext_ack *extack)
{
	struct rblk_device *dev;
	int ret;

	dev = rblk_device_lock(minor, extack);
	if (!dev)
		return -ENODEV;
	ret = rblk_set_role_locked(dev, role, force, ignore_quorum, extack);
	/* an operator's role change: the last close does not demote */
	if (!ret) {
		spin_lock(&dev->state_lock);
		dev->auto_promoted = false;
		spin_unlock(&dev->state_lock);
	}
	rblk_device_unlock(dev);
	return ret;
}

/**
 * rblk_role_changed() - record and announce a new role
 * @dev: device, dev->mutex held
 * @role: the role it has now
 *
 * A demotion clears RBLK_MDF_PRIMARY (unless a crash as primary is not
 * resynced yet); peers learn the role (RBLK_P_STATE), userspace gets
 * RBLK_EVENT_ROLE_CHANGED, and the quorum rules apply to the new role.
 *
 * Context: process context, may sleep.
 */
void rblk_role_changed(struct rblk_device *dev, enum rblk_role role)
{
	if (role == RBLK_ROLE_SECONDARY)
		/* a crash as primary not yet resynced stays recorded */
		if (!(dev->md.attach_flags & RBLK_MDF_PRIMARY))
			rblk_md_change_flags(dev, 0, RBLK_MDF_PRIMARY);
	rblk_announce_state(dev);
	rblk_notify(dev, RBLK_EVENT_ROLE_CHANGED, -1, role, NULL);
	rblk_quorum_update(dev);
}

/* ------------------------------------------------------------------------
 * status
 */

/**
 * rblk_device_get_status() - snapshot of a device and its peers
 * @minor: device
 * @st: filled completely (large: allocate it)
 *
 * Takes no management lock of the device: answers at once even while a
 * management call of the same device waits for the network or a disk.
 *
 * Return: 0 or -ENODEV.
 *
 * Context: process context (takes rblk_devices_mutex briefly).
 */
int rblk_device_get_status(u32 minor, struct rblk_device_status *st)
{
	struct rblk_device *dev;
	unsigned int i, cpu;

	memset(st, 0, sizeof(*st));
	dev = rblk_device_get(minor);
	if (!dev)
		return -ENODEV;
	st->minor = dev->minor;
	st->node_id = dev->node_id;
	strscpy(st->resource_name, dev->resource_name, sizeof(st->resource_name));
	strscpy(st->cluster_name, dev->cluster_name, sizeof(st->cluster_name));
	spin_lock(&dev->state_lock);
	strscpy(st->backing_path, dev->backing_path, sizeof(st->backing_path));
	st->role = dev->role;
	st->disk_state = dev->disk_state;
	st->size_sectors = dev->size_sectors;
	st->logical_block_size_bytes = dev->logical_block_size_bytes;
	st->open_count = dev->open_count;
	spin_unlock(&dev->state_lock);
	spin_lock_irq(&dev->quorum_lock);
	st->quorum = dev->quorum;
	st->on_no_quorum = dev->on_no_quorum;
	st->has_quorum = dev->has_quorum;
	st->quorum_votes = dev->quorum_votes;
	st->quorum_needed = dev->quorum_needed;
	st->quorum_voters = dev->quorum_voters;
	st->suspended_writes = dev->quorum_held_count;
	st->suspended = rblk_quorum_suspended(dev);
	st->fencing = dev->fencing;
	strscpy(st->fence_handler, dev->fence_handler, sizeof(st->fence_handler));
	st->fence_pending = dev->fence_pending | dev->fence_suspend;
	spin_unlock_irq(&dev->quorum_lock);
	spin_lock(&dev->state_lock);
	st->auto_promote = dev->auto_promote;
	st->auth = dev->auth_secret_len;
	st->data_digest = dev->data_digest;
	st->read_balancing = READ_ONCE(dev->read_balancing);
	st->auto_promoted = dev->auto_promoted;
	spin_unlock(&dev->state_lock);
	st->has_md = READ_ONCE(dev->has_md);
	if (st->has_md) {
		st->md_flags = READ_ONCE(dev->md.info.flags);
		st->current_uuid = READ_ONCE(dev->md.info.current_uuid);
	}
	st->md_writes = atomic64_read(&dev->md.md_writes);
	for_each_possible_cpu(cpu) {
		const struct rblk_stats *s = per_cpu_ptr(dev->stats, cpu);

		st->reads += s->reads;
		st->writes += s->writes;
		st->read_bytes += s->read_bytes;
		st->write_bytes += s->write_bytes;
		st->flushes += s->flushes;
		st->discards += s->discards;
		st->errors += s->errors;
	}
	st->inflight = atomic_read(&dev->inflight);
	rcu_read_lock();
	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_peer *peer = rcu_dereference(dev->peers[i]);

		if (peer)
			rblk_peer_get_status(peer, &st->peers[st->nr_peers++]);
	}
	rcu_read_unlock();
	rblk_device_put(dev);
	return 0;
}

/**
 * rblk_device_next_minor() - smallest configured minor >= @start
 * @start: first minor to consider
 * @minor: result
 *
 * Return: 0 or -ENODEV when there is none.
 *
 * Context: process context.
 */
int rblk_device_next_minor(u32 start, u32 *minor)
{
	unsigned long idx = start;
	void *entry;

	if (start > RBLK_MAX_MINOR)
		return -ENODEV;
	mutex_lock(&rblk_devices_mutex);
	entry = xa_find(&rblk_devices, &idx, RBLK_MAX_MINOR, XA_PRESENT);
	mutex_unlock(&rblk_devices_mutex);
	if (!entry)
		return -ENODEV;
	*minor = idx;
	return 0;
}

/* ------------------------------------------------------------------------
 * module
 */

static void rblk_free_pools(void)
{
	mempool_destroy(rblk_page_pool);
	mempool_destroy(rblk_leg_pool);
	bioset_exit(&rblk_pwrite_bio_set);
	bioset_exit(&rblk_bio_set);
	if (rblk_io_wq)
		destroy_workqueue(rblk_io_wq);
	if (rblk_wq)
		destroy_workqueue(rblk_wq);
}

static int __init rblk_init(void)
{
	int ret = -ENOMEM;

	rblk_wq = alloc_workqueue("rblk", WQ_MEM_RECLAIM | WQ_UNBOUND, 0);
	if (!rblk_wq)
		goto fail;
	rblk_io_wq = alloc_workqueue("rblk_io", WQ_MEM_RECLAIM | WQ_HIGHPRI, 0);
	if (!rblk_io_wq)
		goto fail;
	ret = bioset_init(&rblk_bio_set, 64, offsetof(struct rblk_req, clone), 0);
	if (ret)
		goto fail;
	ret = bioset_init(&rblk_pwrite_bio_set, 16, offsetof(struct rblk_pwrite, bio),
			  BIOSET_NEED_BVECS);
	if (ret)
		goto fail;
	ret = -ENOMEM;
	rblk_leg_pool = mempool_create_kmalloc_pool(64, sizeof(struct rblk_leg));
	if (!rblk_leg_pool)
		goto fail;
	rblk_page_pool = mempool_create_page_pool(RBLK_MAX_DATA_BYTES / PAGE_SIZE, 0);
	if (!rblk_page_pool)
		goto fail;

	ret = rblk_md_init();
	if (ret)
		goto fail;
	ret = register_blkdev(0, RBLK_DRIVER_NAME);
	if (ret < 0)
		goto fail_md;
	rblk_major = ret;
	ret = rblk_nl_init();
	if (ret)
		goto unregister;
	pr_info("rblk: loaded, block major %d, protocol %u\n", rblk_major,
		RBLK_PROTO_VERSION_MAX);
	return 0;

unregister:
	unregister_blkdev(rblk_major, RBLK_DRIVER_NAME);
fail_md:
	rblk_md_exit();
fail:
	rblk_free_pools();
	return ret;
}

static void __exit rblk_exit(void)
{
	struct rblk_device *dev;
	unsigned long idx;

	rblk_nl_exit();
	/* no management call runs any more: nl is gone */
	for (;;) {
		idx = 0;
		mutex_lock(&rblk_devices_mutex);
		dev = xa_find(&rblk_devices, &idx, RBLK_MAX_MINOR, XA_PRESENT);
		if (dev)
			kref_get(&dev->ref);
		mutex_unlock(&rblk_devices_mutex);
		if (!dev)
			break;
		mutex_lock(&dev->mutex);
		WRITE_ONCE(dev->deleting, true);
		rblk_device_destroy(dev);
		mutex_unlock(&dev->mutex);
		rblk_device_remove(dev);
		rblk_device_put(dev);
	}
	xa_destroy(&rblk_devices);
	unregister_blkdev(rblk_major, RBLK_DRIVER_NAME);
	rcu_barrier();
	rblk_md_exit();
	rblk_free_pools();
	pr_info("rblk: unloaded\n");
}

module_init(rblk_init);
module_exit(rblk_exit);

MODULE_DESCRIPTION("rblk: replicated block device");
MODULE_LICENSE("GPL");
