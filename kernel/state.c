// SPDX-License-Identifier: GPL-2.0
/*
 * rblk - pure state rules: which role changes are allowed, what disk states
 * become when a connection is lost, and the names userspace prints.
 *
 * No locks, no allocation, no sleeping: every function may be called from
 * any context.  The caller holds whatever lock makes its inputs a
 * consistent snapshot and applies the outcome under the same lock.
 */

#include <linux/errno.h>
#include <linux/kernel.h>

#include "rblk.h"

/**
 * rblk_role_change_check() - may a device change its role?
 * @cur: current role (secondary or primary)
 * @want: requested role (secondary or primary)
 * @force: RBLK_A_FORCE given: promote although the local disk is not
 *	UpToDate (the caller then marks it UpToDate)
 * @disk: local disk state
 * @open_count: openers of /dev/rblkN
 * @any_peer_primary: a connected peer is primary
 * @why: on refusal, a message for the netlink extack; NULL on success
 *
 * Checks in this order, the first failing one decides:
 * an unknown @cur or @want: -EINVAL;
 * @want equal to @cur: 0, nothing to do;
 * secondary -> primary: diskless: -ENOMEDIUM; a connected peer is primary
 * (not overridable by @force, so reported before the disk state): -EBUSY;
 * disk not UpToDate and no @force: -ESTALE;
 * primary -> secondary: still open: -EBUSY.
 *
 * Context: any.
 *
 * Return: 0 if the change is allowed (or a no-op), else the negative errno
 * above.
 */
int rblk_role_change_check(enum rblk_role cur, enum rblk_role want, bool force,
			   enum rblk_disk_state disk, unsigned int open_count,
			   bool any_peer_primary, const char **why)
{
	*why = NULL;

	if ((cur != RBLK_ROLE_SECONDARY && cur != RBLK_ROLE_PRIMARY) ||
	    (want != RBLK_ROLE_SECONDARY && want != RBLK_ROLE_PRIMARY)) {
		*why = "invalid role";
		return -EINVAL;
	}
	if (want == cur)
		return 0;

	if (want == RBLK_ROLE_PRIMARY) {
		if (disk == RBLK_DISK_DISKLESS || disk == RBLK_DISK_FAILED) {
			*why = "no usable backing device attached";
			return -ENOMEDIUM;
		}
		if (any_peer_primary) {
			*why = "a connected peer is primary";
			return -EBUSY;
		}
		if (disk != RBLK_DISK_UP_TO_DATE && !force) {
			switch (disk) {
			case RBLK_DISK_CONSISTENT:
				*why = "disk consistent, not known up_to_date (force: ours wins)";
				break;
			case RBLK_DISK_OUTDATED:
				*why = "disk outdated: a peer has newer data (force: ours wins)";
				break;
			default:
				*why = "disk inconsistent: resync first (force: ours wins)";
				break;
			}
			return -ESTALE;
		}
		return 0;
	}

	if (open_count) {
		*why = "device is open";
		return -EBUSY;
	}
	return 0;
}

/**
 * rblk_peer_role_req_check() - may a peer become primary?
 * @req: this node's view when the peer's RBLK_P_ROLE_REQ arrives
 * @why: on refusal, a message; NULL on success
 *
 * One node takes writes from one primary only, so a promotion is granted
 * only when this node is secondary, not asking its own peers, and has no
 * primary yet (a peer it granted, or one that was primary in its HELLO).
 * Checks in this order, the first failing one decides:
 * the requester is our primary already: -EPROTO (a protocol error: it has
 * no reason to ask again);
 * this node is primary, or promoting: -EBUSY;
 * another peer is our primary: -EBUSY;
 * the requester missed writes of ours: -ESTALE.
 *
 * Context: any.
 *
 * Return: 0 if the promotion is granted, else the negative errno above.
 */
int rblk_peer_role_req_check(const struct rblk_role_req_view *req, const char **why)
{
	*why = NULL;
	if (req->primary_peer == req->requester) {
		*why = "ROLE_REQ from our primary";
		return -EPROTO;
	}
	if (req->local_role == RBLK_ROLE_PRIMARY) {
		*why = "peer is primary";
		return -EBUSY;
	}
	if (req->promoting) {
		*why = "peer is becoming primary";
		return -EBUSY;
	}
	if (req->primary_peer != RBLK_NO_PEER) {
		*why = "another peer is primary";
		return -EBUSY;
	}
	if (req->requester_missed_writes) {
		*why = "requester missed writes";
		return -ESTALE;
	}
	return 0;
}

/**
 * rblk_peer_may_write() - may a peer send this node writes?
 * @local_role: this node's role
 * @primary_peer: node id of the peer this node accepts as primary, or
 *	RBLK_NO_PEER
 * @sender: node id of the peer that sent DATA, FLUSH or TRIM
 * @sender_role: the role that peer announced last
 *
 * Context: any.
 *
 * Return: true only for a secondary receiving from its one primary.
 */
bool rblk_peer_may_write(enum rblk_role local_role, u32 primary_peer, u32 sender,
			 enum rblk_role sender_role)
{
	return local_role == RBLK_ROLE_SECONDARY && primary_peer != RBLK_NO_PEER &&
	       primary_peer == sender && sender_role == RBLK_ROLE_PRIMARY;
}

/**
 * rblk_peer_disk_claimed() - the disk state to show for a peer's claim
 * @missed_writes: this node knows the peer missed some of its writes
 *	(the peer was disconnected while we were primary, or a write to it
 *	failed); a completed resync, or a handshake that finds the same
 *	generation and no block out of sync, clears that
 * @claimed: the disk state the peer announces (HELLO or RBLK_P_STATE)
 *
 * A peer cannot talk its way back to UpToDate: a peer that lacks our
 * later writes may still claim UpToDate (it does not know).  Our record
 * wins: such a claim is shown as Outdated.
 *
 * Context: any.
 *
 * Return: @claimed, or RBLK_DISK_OUTDATED for an UpToDate claim of a peer
 * that missed writes.
 */
enum rblk_disk_state rblk_peer_disk_claimed(bool missed_writes,
					    enum rblk_disk_state claimed)
{
	if (missed_writes && claimed == RBLK_DISK_UP_TO_DATE)
		return RBLK_DISK_OUTDATED;
	return claimed;
}

/**
 * rblk_peer_disk_after_disconnect() - a lost peer's disk state, our view
 * @local_role: this node's role when the connection was lost
 * @peer_disk: the peer's disk state while connected
 *
 * A peer that disconnects while this node is primary misses every later
 * write: UpToDate, Outdated or Unknown becomes Outdated; Inconsistent and
 * Diskless stay as they are (they hold no current data anyway).  While
 * this node is secondary nothing is known about the peer any more: Unknown.
 * Never UpToDate.
 *
 * Context: any.
 *
 * Return: the disk state to show for the peer.
 */
enum rblk_disk_state rblk_peer_disk_after_disconnect(enum rblk_role local_role,
						     enum rblk_disk_state peer_disk)
{
	if (local_role != RBLK_ROLE_PRIMARY)
		return RBLK_DISK_UNKNOWN;
	switch (peer_disk) {
	case RBLK_DISK_INCONSISTENT:
	case RBLK_DISK_DISKLESS:
		return peer_disk;
	default:
		return RBLK_DISK_OUTDATED;
	}
}

/**
 * rblk_local_disk_after_disconnect() - our disk state after losing a peer
 * @local_role: this node's role when the connection was lost
 * @peer_role: the lost peer's role while connected
 * @disk: this node's disk state
 *
 * Unchanged in every case.  A secondary that loses its primary keeps an
 * UpToDate disk: with protocol C it holds every write the primary
 * acknowledged, so it may take over when the primary died; if the
 * primary wrote on without it, the generation UUIDs tell at the next
 * connect (the primary started a new generation) and this disk becomes
 * Outdated then.
 *
 * Context: any.
 *
 * Return: the new local disk state.
 */
enum rblk_disk_state rblk_local_disk_after_disconnect(enum rblk_role local_role,
						      enum rblk_role peer_role,
						      enum rblk_disk_state disk)
{
	return disk;
}

/**
 * rblk_wire_disk_state() - the disk state a node announces to its peers
 * @state: this node's disk state
 *
 * A Failed disk (being detached after an I/O error) holds no usable data
 * for the peers: it is announced as Diskless, which every protocol version
 * knows.
 *
 * Context: any.
 *
 * Return: @state, or RBLK_DISK_DISKLESS for RBLK_DISK_FAILED.
 */
enum rblk_disk_state rblk_wire_disk_state(enum rblk_disk_state state)
{
	return state == RBLK_DISK_FAILED ? RBLK_DISK_DISKLESS : state;
}

/**
 * rblk_ko_expired() - has one request waited for the peer for too long?
 * @t: the connection's timer state (zeroed at connection time)
 * @oldest_id: id of the oldest request waiting for the peer's answer now,
 *	0 when none waits
 * @now: jiffies now
 * @timeout_jiffies: request_timeout_ms * ko_count, in jiffies
 *
 * Called periodically.  The clock starts at the first check that sees a
 * request as the oldest one and restarts whenever the oldest changes (it
 * was answered); it stops while nothing waits.  So the answer is true only
 * when one request waited at least @timeout_jiffies, and at most one check
 * interval later than that: a peer that answers other requests cannot keep
 * a lost one waiting.
 *
 * Context: any; the caller serialises calls for one @t.
 *
 * Return: true when the peer must be disconnected.
 */
bool rblk_ko_expired(struct rblk_ko_timer *t, u64 oldest_id, unsigned long now,
		     unsigned long timeout_jiffies)
{
	if (!oldest_id) {
		t->armed = false;
		return false;
	}
	if (!t->armed || oldest_id != t->oldest_id) {
		t->armed = true;
		t->oldest_id = oldest_id;
		t->since_jiffies = now;
		return false;
	}
	return time_after(now, t->since_jiffies + timeout_jiffies);
}

/**
 * rblk_role_name() - lowercase name of a role, as rblkadm prints it
 * @role: any value
 *
 * Context: any.
 *
 * Return: "unknown", "secondary", "primary", or "invalid".
 */
const char *rblk_role_name(enum rblk_role role)
{
	switch (role) {
	case RBLK_ROLE_UNKNOWN:
		return "unknown";
	case RBLK_ROLE_SECONDARY:
		return "secondary";
	case RBLK_ROLE_PRIMARY:
		return "primary";
	}
	return "invalid";
}

/**
 * rblk_disk_state_name() - lowercase name of a disk state, as rblkadm
 * prints it
 * @state: any value
 *
 * Context: any.
 *
 * Return: "diskless", "inconsistent", "outdated", "unknown", "up_to_date",
 * "failed", or "invalid".
 */
const char *rblk_disk_state_name(enum rblk_disk_state state)
{
	switch (state) {
	case RBLK_DISK_DISKLESS:
		return "diskless";
	case RBLK_DISK_INCONSISTENT:
		return "inconsistent";
	case RBLK_DISK_OUTDATED:
		return "outdated";
	case RBLK_DISK_UNKNOWN:
		return "unknown";
	case RBLK_DISK_UP_TO_DATE:
		return "up_to_date";
	case RBLK_DISK_FAILED:
		return "failed";
	case RBLK_DISK_CONSISTENT:
		return "consistent";
	}
	return "invalid";
}

/**
 * rblk_conn_state_name() - lowercase name of a connection state, as
 * rblkadm prints it
 * @state: any value
 *
 * Context: any.
 *
 * Return: "standalone", "connecting", "connected", "disconnecting", or
 * "invalid".
 */
const char *rblk_conn_state_name(enum rblk_conn_state state)
{
	switch (state) {
	case RBLK_CONN_STANDALONE:
		return "standalone";
	case RBLK_CONN_CONNECTING:
		return "connecting";
	case RBLK_CONN_CONNECTED:
		return "connected";
	case RBLK_CONN_DISCONNECTING:
		return "disconnecting";
	}
	return "invalid";
}
