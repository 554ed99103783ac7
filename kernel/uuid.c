// SPDX-License-Identifier: GPL-2.0
/*
 * rblk - pure generation UUID rules: what two nodes do when they connect.
 *
 * Each node names its data generation with a random 64-bit UUID.  A node
 * that starts to write without a peer records its current UUID as the
 * bitmap UUID of that peer's bitmap slot and starts a new generation, so
 * comparing the two nodes' current, bitmap and history UUIDs tells which
 * of them is newer and whether a bitmap covers every block that differs.
 *
 * No locks, no allocation, no sleeping: every function may be called from
 * any context.  The caller takes consistent snapshots of both views.
 */

#include <linux/errno.h>
#include <linux/kernel.h>

#include "rblk.h"

/* Does the non-zero @uuid occur in @v's history? */
static bool rblk_uuid_in_history(const struct rblk_uuid_view *v, u64 uuid)
{
	unsigned int i;

	for (i = 0; i < RBLK_MD_HISTORY_UUIDS; i++)
		if (v->history[i] == uuid)
			return true;
	return false;
}

/* Does any non-zero UUID @v knows (current, bitmap, history) equal @uuid? */
static bool rblk_uuid_known(const struct rblk_uuid_view *v, u64 uuid)
{
	if (!uuid)
		return false;
	return v->current_uuid == uuid || v->bitmap_uuid == uuid ||
	       rblk_uuid_in_history(v, uuid);
}

/* R9: do the two views share any non-zero UUID? */
static bool rblk_uuid_common_ancestor(const struct rblk_uuid_view *self,
				      const struct rblk_uuid_view *peer)
{
	unsigned int i;

	if (rblk_uuid_known(peer, self->current_uuid) ||
	    rblk_uuid_known(peer, self->bitmap_uuid))
		return true;
	for (i = 0; i < RBLK_MD_HISTORY_UUIDS; i++)
		if (rblk_uuid_known(peer, self->history[i]))
			return true;
	return false;
}

/*
 * R3, both consistent and a primary crashed: resync the activity log
 * regions.  The source is the side that is primary now, else the side that
 * crashed as primary, else the side with the lower node id.
 */
static enum rblk_sync_decision rblk_sync_after_crash(const struct rblk_uuid_view *self,
						     const struct rblk_uuid_view *peer,
						     const char **why)
{
	bool self_source;

	if (self->primary != peer->primary) {
		self_source = self->primary;
		*why = "same generation after a crash: the primary is source";
	} else if (self->crashed_primary != peer->crashed_primary) {
		self_source = self->crashed_primary;
		*why = "same generation: the crashed primary is source";
	} else {
		/* equal node ids (never two peers) make both sides target */
		self_source = self->node_id < peer->node_id;
		*why = "same generation after a crash: lower node id is source";
	}
	return self_source ? RBLK_SYNC_BITMAP_SOURCE : RBLK_SYNC_BITMAP_TARGET;
}

/*
 * A split-brain, found by R6 (@by_bitmap: both bitmaps count from the same
 * generation, so together they cover every block that differs) or by R9
 * (only a common ancestor).  discard_my_data on exactly one side makes
 * that side the target.
 */
static enum rblk_sync_decision rblk_sync_split_brain(const struct rblk_uuid_view *self,
						     const struct rblk_uuid_view *peer,
						     bool by_bitmap, const char **why)
{
	if (self->discard_my_data && peer->discard_my_data) {
		*why = "split-brain: both nodes asked to discard their data";
		return RBLK_SYNC_SPLIT_BRAIN;
	}
	if (self->discard_my_data) {
		*why = "split-brain: this node discards its changes";
		return by_bitmap ? RBLK_SYNC_BITMAP_TARGET : RBLK_SYNC_FULL_TARGET;
	}
	if (peer->discard_my_data) {
		*why = "split-brain: the peer discards its changes";
		return by_bitmap ? RBLK_SYNC_BITMAP_SOURCE : RBLK_SYNC_FULL_SOURCE;
	}
	*why = by_bitmap ? "split-brain: both wrote since a common generation" :
			   "split-brain: both moved on from a common ancestor";
	return RBLK_SYNC_SPLIT_BRAIN;
}

/**
 * rblk_sync_decide() - compare two nodes' generation UUIDs at connect
 * @self: this node's view
 * @peer: the peer's view, as it sent it
 * @why: set to a short reason for the outcome (a static string)
 *
 * The rules, the first that matches decides ("mirror": the same rule with
 * @self and @peer swapped, and source and target swapped):
 *
 * R1 no current UUID on either side: NO_SOURCE.
 * R2 no current UUID here only: FULL_TARGET if the peer is consistent,
 * else NO_SOURCE; and mirror.
 * R3 equal current UUIDs: both consistent: NONE, unless a side is a
 * crashed primary, then BITMAP_* (activity log regions) with the source
 * the primary now, else the crashed primary, else the lower node id; or
 * unless a side has regions to reconcile after losing its primary and
 * exactly one side is primary: BITMAP_* from the primary (without a
 * primary: NONE, the regions wait for one);
 * exactly one consistent: that one is source, FULL_*; none: NO_SOURCE.
 * R4 the peer's bitmap UUID is our current UUID (it wrote without us, we
 * did not write): BITMAP_TARGET if the peer is consistent, else NO_SOURCE.
 * R5 the mirror of R4.
 * R6 equal non-zero bitmap UUIDs (both wrote since the same generation):
 * split-brain.
 * R7 our current UUID is in the peer's history (it is newer, its bitmap
 * does not go back that far): FULL_TARGET if the peer is consistent, else
 * NO_SOURCE.
 * R8 the mirror of R7.
 * R9 any non-zero UUID in common (current, bitmap, history): split-brain.
 * R10 otherwise: UNRELATED.
 *
 * A split-brain with discard_my_data on exactly one side makes that side
 * the target: BITMAP_* when found by R6, FULL_* when found by R9.  With
 * discard_my_data on both or neither side it stays SPLIT_BRAIN.  No other
 * outcome depends on discard_my_data.
 *
 * Deciding from the peer's side gives the mirrored decision, except for
 * views no two nodes produce (equal node ids; each node's bitmap UUID the
 * other's current UUID; each current UUID in the other's history).
 *
 * Context: any.
 *
 * Return: the decision, as seen by @self.
 */
enum rblk_sync_decision rblk_sync_decide(const struct rblk_uuid_view *self,
					 const struct rblk_uuid_view *peer,
					 const char **why)
{
	u64 self_cur = self->current_uuid, peer_cur = peer->current_uuid;

	/* R1 */
	if (!self_cur && !peer_cur) {
		*why = "neither node has data yet";
		return RBLK_SYNC_NO_SOURCE;
	}

	/* R2 and mirror */
	if (!self_cur) {
		if (!peer->consistent) {
			*why = "no data here, and the peer's is inconsistent";
			return RBLK_SYNC_NO_SOURCE;
		}
		*why = "this node has no data yet, the peer has";
		return RBLK_SYNC_FULL_TARGET;
	}
	if (!peer_cur) {
		if (!self->consistent) {
			*why = "no data on the peer, and ours is inconsistent";
			return RBLK_SYNC_NO_SOURCE;
		}
		*why = "the peer has no data yet, this node has";
		return RBLK_SYNC_FULL_SOURCE;
	}

	/* R3 */
	if (self_cur == peer_cur) {
		if (self->consistent && peer->consistent) {
			if (!self->crashed_primary && !peer->crashed_primary) {
				if ((self->reconcile || peer->reconcile) &&
				    self->primary != peer->primary) {
					*why = "lost primary's last writes: the primary is source";
					return self->primary ? RBLK_SYNC_BITMAP_SOURCE :
							       RBLK_SYNC_BITMAP_TARGET;
				}
				*why = "same generation on both nodes";
				return RBLK_SYNC_NONE;
			}
			return rblk_sync_after_crash(self, peer, why);
		}
		if (self->consistent) {
			*why = "same generation, only this node is consistent";
			return RBLK_SYNC_FULL_SOURCE;
		}
		if (peer->consistent) {
			*why = "same generation, only the peer is consistent";
			return RBLK_SYNC_FULL_TARGET;
		}
		*why = "same generation, neither node is consistent";
		return RBLK_SYNC_NO_SOURCE;
	}

	/* R4 */
	if (peer->bitmap_uuid && peer->bitmap_uuid == self_cur) {
		if (!peer->consistent) {
			*why = "the peer wrote without us, but is inconsistent";
			return RBLK_SYNC_NO_SOURCE;
		}
		*why = "the peer wrote without us: resync its bitmap";
		return RBLK_SYNC_BITMAP_TARGET;
	}
	/* R5 */
	if (self->bitmap_uuid && self->bitmap_uuid == peer_cur) {
		if (!self->consistent) {
			*why = "this node wrote without the peer, but is inconsistent";
			return RBLK_SYNC_NO_SOURCE;
		}
		*why = "this node wrote without the peer: resync our bitmap";
		return RBLK_SYNC_BITMAP_SOURCE;
	}

	/* R6 */
	if (self->bitmap_uuid && self->bitmap_uuid == peer->bitmap_uuid)
		return rblk_sync_split_brain(self, peer, true, why);

	/* R7 */
	if (rblk_uuid_in_history(peer, self_cur)) {
		if (!peer->consistent) {
			*why = "the peer is newer, but inconsistent";
			return RBLK_SYNC_NO_SOURCE;
		}
		*why = "the peer is newer, its bitmap is too young";
		return RBLK_SYNC_FULL_TARGET;
	}
	/* R8 */
	if (rblk_uuid_in_history(self, peer_cur)) {
		if (!self->consistent) {
			*why = "this node is newer, but inconsistent";
			return RBLK_SYNC_NO_SOURCE;
		}
		*why = "this node is newer, its bitmap is too young";
		return RBLK_SYNC_FULL_SOURCE;
	}

	/* R9 */
	if (rblk_uuid_common_ancestor(self, peer))
		return rblk_sync_split_brain(self, peer, false, why);

	/* R10 */
	*why = "unrelated data: no common generation";
	return RBLK_SYNC_UNRELATED;
}

/**
 * rblk_sync_is_source() - does this node send data under @decision?
 * @decision: a decision of rblk_sync_decide()
 *
 * Context: any.
 *
 * Return: true for RBLK_SYNC_BITMAP_SOURCE and RBLK_SYNC_FULL_SOURCE.
 */
bool rblk_sync_is_source(enum rblk_sync_decision decision)
{
	return decision == RBLK_SYNC_BITMAP_SOURCE || decision == RBLK_SYNC_FULL_SOURCE;
}

/**
 * rblk_sync_is_target() - does this node receive data under @decision?
 * @decision: a decision of rblk_sync_decide()
 *
 * Context: any.
 *
 * Return: true for RBLK_SYNC_BITMAP_TARGET and RBLK_SYNC_FULL_TARGET.
 */
bool rblk_sync_is_target(enum rblk_sync_decision decision)
{
	return decision == RBLK_SYNC_BITMAP_TARGET || decision == RBLK_SYNC_FULL_TARGET;
}

/**
 * rblk_sync_allowed() - may this node go on with a connect decision?
 * @decision: the decision of rblk_sync_decide()
 * @self_primary: this node is primary
 * @why: on refusal, a message for the log and the peer; NULL on success
 *
 * A primary never becomes a resync target: its data would change under
 * its users.  A split-brain or unrelated data needs the operator.
 * NO_SOURCE is allowed: the nodes stay connected and wait for a source.
 *
 * Context: any.
 *
 * Return: 0 if allowed; -EBUSY for a target decision on a primary;
 * -EUCLEAN for a split-brain; -ENOMSG for unrelated data; -EINVAL for an
 * unknown @decision.
 */
int rblk_sync_allowed(enum rblk_sync_decision decision, bool self_primary,
		      const char **why)
{
	*why = NULL;

	if ((unsigned int)decision >= __RBLK_SYNC_MAX) {
		*why = "invalid sync decision";
		return -EINVAL;
	}
	if (decision == RBLK_SYNC_SPLIT_BRAIN) {
		*why = "split-brain: both nodes wrote since they last shared data";
		return -EUCLEAN;
	}
	if (decision == RBLK_SYNC_UNRELATED) {
		*why = "unrelated data: no common generation";
		return -ENOMSG;
	}
	if (self_primary && rblk_sync_is_target(decision)) {
		*why = "the peer has newer data, but this node is primary";
		return -EBUSY;
	}
	return 0;
}

/**
 * rblk_sync_decision_name() - the name userspace prints for a decision
 * @decision: a decision
 *
 * Context: any.
 *
 * Return: a static string; "?" for an unknown @decision.
 */
const char *rblk_sync_decision_name(enum rblk_sync_decision decision)
{
	static const char * const names[] = {
		[RBLK_SYNC_NONE] = "none",
		[RBLK_SYNC_BITMAP_SOURCE] = "bitmap-source",
		[RBLK_SYNC_BITMAP_TARGET] = "bitmap-target",
		[RBLK_SYNC_FULL_SOURCE] = "full-source",
		[RBLK_SYNC_FULL_TARGET] = "full-target",
		[RBLK_SYNC_NO_SOURCE] = "no-source",
		[RBLK_SYNC_SPLIT_BRAIN] = "split-brain",
		[RBLK_SYNC_UNRELATED] = "unrelated",
	};

	BUILD_BUG_ON(ARRAY_SIZE(names) != __RBLK_SYNC_MAX);
	if ((unsigned int)decision >= ARRAY_SIZE(names))
		return "?";
	return names[decision];
}
