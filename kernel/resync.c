// SPDX-License-Identifier: GPL-2.0
/*
 * rblk - what two nodes do about their data when they connect: exchange
 * their generation UUIDs in the handshake (RBLK_P_UUIDS), decide with
 * rblk_sync_decide() (uuid.c), apply the decision to the disk states and
 * bitmaps; and the generation changes that the operator asks for
 * (new-current-uuid, --clear-bitmap).
 *
 * Context: process context throughout (conn_work, management calls,
 * peer work items); the superblock writes sleep.
 */

#include "rblk_int.h"
#include "rblk_md.h"

/*
 * Our UUIDs toward @peer: dev->md.lock held, or a snapshot good enough for
 * an announcement.  A device without metadata (diskless) has none.
 */
static void rblk_sync_local_view(struct rblk_peer *peer, struct rblk_uuid_view *v,
				 u64 *oos_bytes)
{
	struct rblk_device *dev = peer->dev;
	struct rblk_md_info *info = &dev->md.info;
	int slot = READ_ONCE(peer->md_slot);
	unsigned int i;

	memset(v, 0, sizeof(*v));
	*oos_bytes = 0;
	v->node_id = dev->node_id;
	v->primary = READ_ONCE(dev->role) == RBLK_ROLE_PRIMARY;
	spin_lock_bh(&peer->lock);
	/* a primary that stepped down without quorum never wrote for anyone */
	v->discard_my_data = peer->discard_my_data || READ_ONCE(dev->quorum_stepped_down);
	v->reconcile = peer->reconcile;
	spin_unlock_bh(&peer->lock);
	v->follows_primary = !v->primary &&
			     READ_ONCE(dev->primary_peer) != RBLK_NO_PEER &&
			     READ_ONCE(dev->primary_peer) != peer->cfg.node_id;
	if (!READ_ONCE(dev->has_md))
		return;
	v->current_uuid = info->current_uuid;
	for (i = 0; i < RBLK_MD_HISTORY_UUIDS; i++)
		v->history[i] = info->history[i];
	v->consistent = info->flags & RBLK_MDF_CONSISTENT &&
			READ_ONCE(dev->disk_state) != RBLK_DISK_INCONSISTENT &&
			READ_ONCE(dev->disk_state) != RBLK_DISK_FAILED;
	v->crashed_primary = dev->md.attach_flags & RBLK_MDF_PRIMARY;
	v->up_to_date = v->consistent && READ_ONCE(dev->disk_state) == RBLK_DISK_UP_TO_DATE;
	if (slot >= 0) {
		v->bitmap_uuid = info->slots[slot].bitmap_uuid;
		*oos_bytes = rblk_bm_oos_bytes(dev, slot);
	}
}

/* Make @peer our only sync source; false if another peer is. */
static bool rblk_sync_claim_source(struct rblk_peer *peer)
{
	u32 old = cmpxchg(&peer->dev->sync_target_of, RBLK_NO_PEER, peer->cfg.node_id);

	return old == RBLK_NO_PEER || old == peer->cfg.node_id;
}

/* Is non-zero @uuid one of the RBLK_MD_HISTORY_UUIDS in @history? */
static bool rblk_uuid_in(u64 uuid, const u64 *history)
{
	unsigned int i;

	for (i = 0; uuid && i < RBLK_MD_HISTORY_UUIDS; i++)
		if (history[i] == uuid)
			return true;
	return false;
}

/*
 * A resync with a peer completed: the blocks a crash of ours as primary
 * may have left different are the same again; forget that crash (on disk
 * too, unless we are primary again).
 */
static void rblk_sync_crash_accounted(struct rblk_device *dev)
{
	if (!(dev->md.attach_flags & RBLK_MDF_PRIMARY))
		return;
	dev->md.attach_flags &= ~RBLK_MDF_PRIMARY;
	if (READ_ONCE(dev->role) != RBLK_ROLE_PRIMARY)
		rblk_md_change_flags(dev, 0, RBLK_MDF_PRIMARY);
}

/* Refuse the handshake: tell the peer why, log it once. */
static void rblk_sync_refuse(struct rblk_peer *peer, struct socket *sock, u32 reason,
			     const char *why)
{
	rblk_send_reject(sock, reason, why);
	rblk_log_refusal(peer, reason, false, why);
}

/* The peer refused the handshake (its header is read): log why. */
static int rblk_sync_recv_reject(struct rblk_peer *peer, struct socket *sock)
{
	struct rblk_p_reject rej;
	char message[sizeof(rej.message)];
	u32 reason;
	int ret;

	ret = rblk_recv_all(sock, &rej, sizeof(rej));
	if (ret)
		return ret;
	if (rblk_reject_decode(&rej, &reason, message)) {
		reason = RBLK_REJECT_MALFORMED;
		strscpy(message, "malformed refusal", sizeof(message));
	}
	rblk_log_refusal(peer, reason, true, message);
	return -ECONNREFUSED;
}

struct rblk_uuids_pkt {
	struct rblk_hdr hdr;
	struct rblk_p_uuids uuids;
};

struct rblk_bitmap_pkt {
	struct rblk_hdr hdr;
	struct rblk_p_bitmap bm;
};

/*
 * As a bitmap sync target: send our bits for the source (the blocks a
 * crash of ours as primary may have left different), the blocks with a
 * bit set, then the end.  Handshake, conn_work.
 */
static int rblk_sync_send_bitmap(struct rblk_peer *peer, struct socket *sock, u32 version)
{
	struct rblk_device *dev = peer->dev;
	struct rblk_bitmap_pkt *pkt;
	u64 off, slot_bytes;
	int slot, ret = 0;

	pkt = kzalloc(sizeof(*pkt), GFP_KERNEL);
	if (!pkt)
		return -ENOMEM;
	rblk_hdr_encode(&pkt->hdr, version, RBLK_P_BITMAP, 0, sizeof(pkt->bm), 0);
	mutex_lock(&dev->md.lock);
	slot = READ_ONCE(peer->md_slot);
	slot_bytes = dev->has_md && slot >= 0 ? dev->md.info.layout.bm_slot_bytes : 0;
	mutex_unlock(&dev->md.lock);
	for (off = 0; off < slot_bytes && !ret; off += RBLK_BITMAP_CHUNK_BYTES) {
		bool any;

		mutex_lock(&dev->md.lock);
		any = dev->has_md;
		if (any) {
			memcpy(pkt->bm.bits, (u8 *)dev->md.bm[slot].bits + off,
			       sizeof(pkt->bm.bits));
			any = memchr_inv(pkt->bm.bits, 0, sizeof(pkt->bm.bits));
		}
		mutex_unlock(&dev->md.lock);
		if (!any)
			continue;
		pkt->bm.offset_bytes = cpu_to_be64(off);
		ret = rblk_send_all(sock, pkt, sizeof(*pkt));
	}
	if (!ret) {
		memset(pkt->bm.bits, 0, sizeof(pkt->bm.bits));
		pkt->bm.offset_bytes = cpu_to_be64(RBLK_BITMAP_END);
		ret = rblk_send_all(sock, pkt, sizeof(*pkt));
	}
	kfree(pkt);
	return ret;
}

/*
 * As a bitmap sync source: receive the target's bits for us and add them
 * to our bits for it (in memory; rblk_sync_become_source() writes them).
 * Handshake, conn_work.  0, -EPROTO (malformed, logged), socket errors.
 */
static int rblk_sync_recv_bitmap(struct rblk_peer *peer, struct socket *sock, u32 version)
{
	struct rblk_device *dev = peer->dev;
	struct rblk_bitmap_pkt *pkt;
	struct rblk_hdr_info info;
	u64 packets = 0, max_packets;
	int slot, ret;

	pkt = kmalloc(sizeof(*pkt), GFP_KERNEL);
	if (!pkt)
		return -ENOMEM;
	slot = READ_ONCE(peer->md_slot);
	max_packets = slot >= 0 ? dev->md.info.layout.bm_slot_bytes / RBLK_BITMAP_CHUNK_BYTES : 0;
	for (;;) {
		u64 off, bit, base;
		struct rblk_bitmap *bm;

		ret = rblk_recv_all(sock, &pkt->hdr, sizeof(pkt->hdr));
		if (ret)
			break;
		ret = rblk_hdr_decode(&pkt->hdr, version, &info);
		if (!ret && info.command == RBLK_P_HELLO_REJECT) {
			ret = rblk_sync_recv_reject(peer, sock);
			break;
		}
		if (!ret && info.command == RBLK_P_BITMAP)
			ret = rblk_recv_all(sock, &pkt->bm, sizeof(pkt->bm));
		else if (!ret)
			ret = -EPROTO;
		if (ret && ret != -EPROTO)
			break;
		off = be64_to_cpu(pkt->bm.offset_bytes);
		if (ret || packets++ > max_packets ||
		    (off != RBLK_BITMAP_END &&
		     (off % RBLK_BITMAP_CHUNK_BYTES ||
		      off >= dev->md.info.layout.bm_slot_bytes))) {
			rblk_sync_refuse(peer, sock, RBLK_REJECT_MALFORMED, "malformed BITMAP");
			ret = -EPROTO;
			break;
		}
		if (off == RBLK_BITMAP_END)
			break;
		mutex_lock(&dev->md.lock);
		if (!dev->has_md) {
			mutex_unlock(&dev->md.lock);
			ret = -ENOMEDIUM;
			break;
		}
		bm = &dev->md.bm[slot];
		base = off * 8;
		for (bit = find_next_bit_le(pkt->bm.bits, RBLK_BITMAP_CHUNK_BYTES * 8, 0);
		     bit < RBLK_BITMAP_CHUNK_BYTES * 8 && base + bit < bm->nr_bits;
		     bit = find_next_bit_le(pkt->bm.bits, RBLK_BITMAP_CHUNK_BYTES * 8, bit + 1))
			if (!test_and_set_bit_le(base + bit, bm->bits))
				atomic64_inc(&bm->set_bits);
		mutex_unlock(&dev->md.lock);
	}
	kfree(pkt);
	return ret;
}

/**
 * rblk_sync_exchange() - RBLK_P_UUIDS both ways in the handshake, and decide
 * @peer: peer
 * @sock: the socket, after a successful HELLO exchange with RBLK_FEAT_MD
 * @version: the negotiated protocol version
 * @si: filled: the peer's view, the decision
 *
 * A decision that this node may not follow (a split-brain, unrelated
 * data, or newer data at the peer while this node is primary) refuses the
 * connection with a reason; the peer decides the same from the same
 * UUIDs.  A split-brain stops the reconnect attempts (StandAlone) until
 * the operator connects again, with --discard-my-data on the node whose
 * changes are to be dropped.
 *
 * One sync source at a time: while another peer resyncs us, the handshake
 * is refused (RBLK_REJECT_RESYNCING) before the UUIDs are exchanged, or,
 * if two handshakes decide at once, after the decision; -EAGAIN then,
 * and the next one compares again.
 *
 * Context: conn_work, sleeps (blocking socket I/O, dev->md.lock).
 * Return: 0; -ECONNREFUSED (refused, logged once per reason); -EPROTO
 * (malformed packet); -EAGAIN (compare again later); socket errors.
 */
int rblk_sync_exchange(struct rblk_peer *peer, struct socket *sock, u32 version,
		       struct rblk_sync_info *si)
{
	struct rblk_device *dev = peer->dev;
	struct rblk_uuids_pkt pkt;
	struct rblk_hdr_info info;
	struct rblk_uuid_view local;
	u32 source;
	const char *why;
	u64 oos;
	int ret;

	/*
	 * While another peer resyncs us, no other peer compares: the refusal
	 * comes before any decision, so the peer changes nothing.  It tries
	 * again after its backoff.
	 */
	source = READ_ONCE(dev->sync_target_of);
	if (source != RBLK_NO_PEER && source != peer->cfg.node_id) {
		rblk_sync_refuse(peer, sock, RBLK_REJECT_RESYNCING, "resyncing from another peer");
		return -EAGAIN;
	}
	mutex_lock(&dev->md.lock);
	si->missed_seq = atomic_read(&peer->missed_seq);
	rblk_sync_local_view(peer, &local, &oos);
	mutex_unlock(&dev->md.lock);
	if (!(si->features & RBLK_FEAT_RECONCILE)) {
		local.reconcile = false;
		local.follows_primary = false;
	}
	rblk_hdr_encode(&pkt.hdr, version, RBLK_P_UUIDS, 0, sizeof(pkt.uuids), 0);
	rblk_uuids_encode(&pkt.uuids, &local, 0, oos);
	ret = rblk_send_all(sock, &pkt, sizeof(pkt));
	if (ret)
		return ret;
	ret = rblk_recv_all(sock, &pkt.hdr, sizeof(pkt.hdr));
	if (ret)
		return ret;
	ret = rblk_hdr_decode(&pkt.hdr, version, &info);
	if (!ret && info.command == RBLK_P_HELLO_REJECT)
		return rblk_sync_recv_reject(peer, sock);
	if (ret || info.command != RBLK_P_UUIDS) {
		rblk_sync_refuse(peer, sock, RBLK_REJECT_MALFORMED, "expected UUIDS");
		return -EPROTO;
	}
	ret = rblk_recv_all(sock, &pkt.uuids, sizeof(pkt.uuids));
	if (ret)
		return ret;
	if (rblk_uuids_decode(&pkt.uuids, peer->cfg.node_id, &si->remote, &si->remote_flags,
			      &si->remote_oos_bytes) ||
	    si->remote_flags & (RBLK_UF_CLEAR_BITMAP | RBLK_UF_RESYNC_DONE |
				RBLK_UF_NEW_CURRENT | RBLK_UF_LOST_DISK)) {
		rblk_sync_refuse(peer, sock, RBLK_REJECT_MALFORMED, "malformed UUIDS");
		return -EPROTO;
	}
	si->local = local;
	si->decision = rblk_sync_decide(&local, &si->remote, &why);
	/*
	 * A source that follows a primary would not pass on that primary's
	 * writes during the resync: the target resyncs from the primary.
	 * Both sides see the same flags and refuse alike, before any effect.
	 */
	if ((rblk_sync_is_source(si->decision) && local.follows_primary) ||
	    (rblk_sync_is_target(si->decision) && si->remote.follows_primary)) {
		rblk_sync_refuse(peer, sock, RBLK_REJECT_ASK_PRIMARY,
				 "the sync source follows a primary: resync from it");
		return -EAGAIN;
	}
	/*
	 * One sync source at a time, claimed here (handshakes of several
	 * peers run at once) and released when this peer stops being it
	 * (rblk_peer_set_repl_state(), or this handshake fails).
	 */
	if (rblk_sync_is_target(si->decision) && !rblk_sync_claim_source(peer)) {
		rblk_sync_refuse(peer, sock, RBLK_REJECT_RESYNCING, "resyncing from another peer");
		return -EAGAIN;
	}
	ret = rblk_sync_allowed(si->decision, local.primary, &why);
	spin_lock_bh(&peer->lock);
	peer->sync_decision = si->decision;
	peer->split_brain = si->decision == RBLK_SYNC_SPLIT_BRAIN;
	if (peer->split_brain)
		peer->want_connect = false;
	spin_unlock_bh(&peer->lock);
	if (!ret) {
		/* the target's bits for the source go to the source */
		if (si->decision == RBLK_SYNC_BITMAP_TARGET && oos)
			return rblk_sync_send_bitmap(peer, sock, version);
		if (si->decision == RBLK_SYNC_BITMAP_SOURCE && si->remote_oos_bytes)
			return rblk_sync_recv_bitmap(peer, sock, version);
		return 0;
	}
	switch (si->decision) {
	case RBLK_SYNC_SPLIT_BRAIN:
		rblk_sync_refuse(peer, sock, RBLK_REJECT_SPLIT_BRAIN, why);
		rblk_notify(dev, RBLK_EVENT_SPLIT_BRAIN, peer->cfg.node_id, 0, why);
		pr_err("%s: peer %u: split-brain detected: both nodes wrote since they last shared data; resolve with connect --discard-my-data on the node whose changes are to be lost\n",
		       dev->disk->disk_name, peer->cfg.node_id);
		break;
	case RBLK_SYNC_UNRELATED:
		rblk_sync_refuse(peer, sock, RBLK_REJECT_UNRELATED, why);
		break;
	default:
		rblk_sync_refuse(peer, sock, RBLK_REJECT_NEWER_PEER, why);
		break;
	}
	return -ECONNREFUSED;
}

/*
 * As sync source: the slot starts tracking a generation if it does not
 * yet (bitmap UUID = our current UUID, a new current UUID), so that an
 * interrupted resync resumes by bitmap at the next connect; the blocks to
 * send are our bits for the peer plus the bits it sent us for ours
 * (rblk_sync_recv_bitmap()), or every block for a full sync.
 */
static int rblk_sync_become_source(struct rblk_peer *peer, const struct rblk_sync_info *si)
{
	struct rblk_device *dev = peer->dev;
	struct rblk_md_info next;
	int slot = peer->md_slot;
	bool new_gen = false;
	int ret = 0;

	mutex_lock(&dev->md.lock);
	if (!dev->has_md || slot < 0) {
		ret = -ENOMEDIUM;
		goto out;
	}
	/*
	 * Durably: a crash of ours must not resume with fewer bits (all of
	 * them for a full sync; ours plus the target's for a bitmap resync).
	 */
	if (si->decision == RBLK_SYNC_FULL_SOURCE || si->remote_oos_bytes) {
		if (si->decision == RBLK_SYNC_FULL_SOURCE)
			rblk_bm_set_all(dev, slot);
		ret = rblk_bm_write(dev, slot);
		if (ret)
			goto out;
	}
	/*
	 * A primary's slot tracks a generation from now on, so that an
	 * interrupted resync resumes by bitmap.  A secondary does not start
	 * one: it writes nothing, and a generation of its own would make it
	 * look diverged from the nodes it is in sync with (a second source
	 * refused after its decision, or an end lost, would leave a
	 * split-brain); its interrupted full sync starts over.
	 */
	next = dev->md.info;
	if (!next.slots[slot].bitmap_uuid && READ_ONCE(dev->role) == RBLK_ROLE_PRIMARY) {
		next.slots[slot].bitmap_uuid = next.current_uuid;
		rblk_md_track_absent(dev, &next);
		rblk_md_push_history(&next, rblk_md_new_uuid());
		ret = rblk_md_commit(dev, &next);
		new_gen = !ret;
	}
out:
	mutex_unlock(&dev->md.lock);
	/* the peers in sync with us follow: they hold all of it */
	if (new_gen)
		rblk_sync_announce_new(dev);
	return ret;
}

/*
 * As sync target: durably Inconsistent before the first resync block is
 * written, with the current UUID the source's bitmap counts from, so that
 * an interrupted resync resumes by bitmap (rule R4 of rblk_sync_decide()).
 */
static int rblk_sync_become_target(struct rblk_peer *peer, const struct rblk_sync_info *si)
{
	struct rblk_device *dev = peer->dev;
	struct rblk_md_info next;
	int ret = -ENOMEDIUM;

	mutex_lock(&dev->md.lock);
	if (dev->has_md) {
		next = dev->md.info;
		next.current_uuid = si->remote.bitmap_uuid ?: si->remote.current_uuid;
		next.flags |= RBLK_MDF_SYNC_TARGET;
		next.flags &= ~(RBLK_MDF_CONSISTENT | RBLK_MDF_OUTDATED);
		ret = rblk_md_commit(dev, &next);
	}
	mutex_unlock(&dev->md.lock);
	if (!ret)
		rblk_set_disk_state(dev, RBLK_DISK_INCONSISTENT);
	return ret;
}

/**
 * rblk_sync_apply() - act on the decision of a handshake
 * @peer: the peer, its connection published but not yet receiving
 * @si: the UUIDs compared and the decision
 *
 * Sets the disk states and replication state the decision gives and
 * prepares a resync (rblk_rs_start() follows once the connection runs).
 *
 * Called after the connection is published and an RCU grace period: every
 * write that did not find it has counted itself in peer->missed_seq.
 *
 * Context: conn_work, sleeps (superblock writes).
 * Return: 1 when this node is to start a resync as sync source; 0; or
 * -EAGAIN when writes missed the peer during the handshake after the
 * UUIDs were taken (the connection is to be dropped and made again: the
 * next handshake sees the new generation).
 */
int rblk_sync_apply(struct rblk_peer *peer, const struct rblk_sync_info *si)
{
	struct rblk_device *dev = peer->dev;
	enum rblk_disk_state disk = READ_ONCE(dev->disk_state);
	enum rblk_repl_state repl = RBLK_REPL_ESTABLISHED;
	int slot = READ_ONCE(peer->md_slot);
	bool flag_changed;
	int source = 0;

	switch (si->decision) {
	case RBLK_SYNC_NONE:
		if (atomic_read(&peer->missed_seq) != si->missed_seq)
			return -EAGAIN;
		/* a primary lost or regained since the UUIDs were taken */
		spin_lock_bh(&peer->lock);
		flag_changed = (si->features & RBLK_FEAT_RECONCILE) &&
			       peer->reconcile != si->local.reconcile;
		spin_unlock_bh(&peer->lock);
		if (flag_changed)
			return -EAGAIN;
		/*
		 * A write the peer missed before the UUIDs were taken whose
		 * new generation gen_work has not written yet: write it now
		 * and compare again, or its bits would be cleared below.
		 */
		if (slot >= 0 && READ_ONCE(dev->md.bm[slot].pending_gen)) {
			if (rblk_md_start_generation(dev))
				return -EIO;
			if (READ_ONCE(dev->md.info.current_uuid) != si->local.current_uuid)
				return -EAGAIN;
		}
		/*
		 * The same data: as good as the better of the two, but an
		 * Outdated disk (someone has newer data) is cured only by an
		 * UpToDate peer.
		 */
		if ((disk == RBLK_DISK_CONSISTENT &&
		     (si->remote_disk == RBLK_DISK_UP_TO_DATE ||
		      si->remote_disk == RBLK_DISK_CONSISTENT)) ||
		    (disk == RBLK_DISK_OUTDATED && si->remote_disk == RBLK_DISK_UP_TO_DATE))
			rblk_change_disk_state(dev, disk, RBLK_DISK_UP_TO_DATE);
		/*
		 * Same generation, and no write missed the peer since: bits
		 * left over (activity log extents of a crash after a clean
		 * demotion) mark nothing that differs.  Regions to reconcile
		 * stay marked until a primary resyncs them.
		 */
		if (si->local.reconcile || si->remote.reconcile)
			break;
		mutex_lock(&dev->md.lock);
		if (dev->has_md && slot >= 0) {
			/*
			 * A slot that tracks an older generation: the peer got
			 * what it missed through a third node (same current
			 * UUID, same data).  Forgotten durably.
			 */
			if (dev->md.info.slots[slot].bitmap_uuid) {
				struct rblk_md_info next = dev->md.info;

				rblk_bm_clear_all(dev, slot);
				next.slots[slot].bitmap_uuid = 0;
				if (rblk_bm_write(dev, slot) || rblk_md_commit(dev, &next)) {
					mutex_unlock(&dev->md.lock);
					return -EIO;
				}
			}
			rblk_bm_clear_all(dev, slot);
			clear_bit(peer->cfg.node_id, &dev->peers_missed_writes);
			/* in sync with us: not behind a primary we follow either */
			clear_bit(peer->cfg.node_id, &dev->peers_behind);
		}
		mutex_unlock(&dev->md.lock);
		/*
		 * In sync with a primary that no flag made us compare by
		 * bitmap: the primary we lost is back and we hold its data
		 * (a write we missed would have started a generation).
		 */
		if (si->remote.primary)
			rblk_sync_reconcile_done(dev);
		break;
	case RBLK_SYNC_FULL_SOURCE:
	case RBLK_SYNC_BITMAP_SOURCE:
		if (rblk_sync_become_source(peer, si))
			return -EIO;
		set_bit(peer->cfg.node_id, &dev->peers_missed_writes);
		if (disk == RBLK_DISK_CONSISTENT)
			rblk_change_disk_state(dev, disk, RBLK_DISK_UP_TO_DATE);
		repl = RBLK_REPL_SYNC_SOURCE;
		source = slot >= 0;
		break;
	case RBLK_SYNC_FULL_TARGET:
	case RBLK_SYNC_BITMAP_TARGET:
		if (rblk_sync_become_target(peer, si))
			return -EIO;
		repl = RBLK_REPL_SYNC_TARGET;
		break;
	default:
		repl = RBLK_REPL_WAIT_SOURCE;
		break;
	}
	/* a resync either way covers the regions to reconcile */
	if (rblk_sync_is_source(si->decision) || rblk_sync_is_target(si->decision)) {
		spin_lock_bh(&peer->lock);
		peer->reconcile = false;
		spin_unlock_bh(&peer->lock);
	}
	rblk_peer_set_repl_state(peer, repl);
	pr_info("%s: peer %u: generations compared: %s (ours %016llx, peer's %016llx)\n",
		dev->disk->disk_name, peer->cfg.node_id, rblk_sync_decision_name(si->decision),
		si->local.current_uuid, si->remote.current_uuid);
	return source;
}

/**
 * rblk_device_md_dump() - the metadata of an attached device
 * @minor: device
 * @md: filled: the superblock as last written
 * @oos_bytes: filled per slot: bytes marked out of sync
 * @extack: error message
 *
 * Context: process context, sleeps (dev->md.lock).
 * Return: 0; -ENODEV (no such device); -ENOMEDIUM (no metadata attached).
 */
int rblk_device_md_dump(u32 minor, struct rblk_md_info *md, u64 *oos_bytes,
			struct netlink_ext_ack *extack)
{
	struct rblk_device *dev = rblk_device_lock(minor, extack);
	unsigned int i;
	int ret = 0;

	if (!dev)
		return -ENODEV;
	if (!dev->has_md) {
		NL_SET_ERR_MSG(extack, "no backing device with metadata attached");
		ret = -ENOMEDIUM;
		goto out;
	}
	mutex_lock(&dev->md.lock);
	*md = dev->md.info;
	mutex_unlock(&dev->md.lock);
	for (i = 0; i < md->layout.max_peers; i++)
		oos_bytes[i] = rblk_bm_oos_bytes(dev, i);
out:
	rblk_device_unlock(dev);
	return ret;
}

/*
 * We have consistent data now: the peers we found no source with compare
 * again (their connection is made anew).  Process context.
 */
static void rblk_sync_recompare_waiting(struct rblk_device *dev)
{
	unsigned int i;

	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_peer *peer;
		struct rblk_conn *conn;

		rcu_read_lock();
		peer = rcu_dereference(dev->peers[i]);
		conn = peer && READ_ONCE(peer->repl_state) == RBLK_REPL_WAIT_SOURCE ?
		       rblk_conn_get(peer) : NULL;
		rcu_read_unlock();
		if (!conn)
			continue;
		rblk_conn_fail(conn, -EAGAIN, "our data is consistent now: compare again");
		rblk_conn_put(conn);
	}
}

/**
 * rblk_sync_lost_primary() - our primary's connection is gone
 * @lost: the peer that was our primary
 *
 * Its last writes may have reached some of its secondaries and not
 * others.  The regions that received its writes lately (within twice
 * its request timeout times ko-count, plus its ping timeout: a write
 * still on its way to another peer after that would have cost that peer
 * its connection) are marked in our bitmap for every other node, and
 * every other peer is flagged: the next primary resyncs those regions to
 * us or from us (RBLK_UF_RECONCILE; design.rst, "Reconciliation").  The
 * lost primary itself holds its writes; with no other peer (two nodes)
 * nothing is marked.
 *
 * Context: conn_work (process context), sleeps.
 */
void rblk_sync_lost_primary(struct rblk_peer *lost)
{
	struct rblk_device *dev = lost->dev;
	u32 horizon_ms = 2 * lost->cfg.request_timeout_ms * lost->cfg.ko_count +
			 lost->cfg.ping_timeout_ms;
	unsigned int i;
	u64 n = 0;

	if (READ_ONCE(dev->nr_peers) < 2)
		return;
	mutex_lock(&dev->md.lock);
	if (dev->has_md && dev->md.recv_jiffies)
		n = rblk_al_reconcile_marks(dev, horizon_ms, lost->cfg.node_id);
	mutex_unlock(&dev->md.lock);
	if (!n)
		return;
	rcu_read_lock();
	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_peer *peer = rcu_dereference(dev->peers[i]);

		if (!peer || peer == lost)
			continue;
		spin_lock_bh(&peer->lock);
		peer->reconcile = true;
		spin_unlock_bh(&peer->lock);
	}
	rcu_read_unlock();
	pr_info("%s: peer %u: lost our primary: %llu regions of its last writes to reconcile\n",
		dev->disk->disk_name, lost->cfg.node_id, n);
}

/**
 * rblk_sync_reconcile_done() - we hold a primary's data again
 * @dev: device whose resync from its primary just ended, or that found
 *	itself in sync with a primary at a handshake
 *
 * The regions marked when a primary was lost need no reconciliation
 * from us any more: the flags go.  A flagged peer that is connected
 * compared while a flag (ours, or its own for us) kept the marks: it
 * compares again (rblk_conn_fail() with -EAGAIN), and a handshake with
 * the same current UUID and no flag on either side clears the slot under
 * dev->md.lock.  Bounded: only rblk_sync_lost_primary() sets flags.
 *
 * Context: process context, no locks held.
 */
void rblk_sync_reconcile_done(struct rblk_device *dev)
{
	unsigned long flagged = 0;
	unsigned int i;

	rcu_read_lock();
	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_peer *peer = rcu_dereference(dev->peers[i]);

		if (!peer)
			continue;
		spin_lock_bh(&peer->lock);
		/* a witness holds no data to compare */
		if (peer->reconcile && !peer->cfg.witness)
			__set_bit(i, &flagged);
		peer->reconcile = false;
		spin_unlock_bh(&peer->lock);
	}
	rcu_read_unlock();
	for_each_set_bit(i, &flagged, RBLK_MAX_PEERS) {
		struct rblk_peer *peer;
		struct rblk_conn *conn = rblk_node_conn_get(dev, i, &peer);

		if (!conn)
			continue;
		rblk_conn_fail(conn, -EAGAIN, "primary's data held again: compare again");
		rblk_conn_put(conn);
	}
}

/**
 * rblk_peers_recompare() - connected peers compare generations again
 * @dev: device whose current UUID changed (--force promotion,
 *	new-current-uuid)
 *
 * Their connections are dropped and made again at once: the new handshake
 * decides who resyncs whom.
 *
 * Context: process context.
 */
void rblk_peers_recompare(struct rblk_device *dev)
{
	unsigned int i;

	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_peer *peer;
		struct rblk_conn *conn;

		conn = rblk_node_conn_get(dev, i, &peer);
		if (!conn)
			continue;
		rblk_conn_fail(conn, -EAGAIN, "new data generation: compare again");
		rblk_conn_put(conn);
	}
}

/**
 * rblk_sync_misses_new() - will a node miss a new current UUID of ours
 * @dev: device
 * @node_id: the node of a bitmap slot
 *
 * Every node but a witness and a peer that rblk_sync_announce_new() tells
 * (connected, Established, with a disk and RBLK_FEAT_NEW_CURRENT): a
 * disconnected peer, one in a resync, a node not configured now.
 *
 * Context: process context (may drop the last reference of a connection).
 * Return: true if its slot must track the generation it has.
 */
bool rblk_sync_misses_new(struct rblk_device *dev, u32 node_id)
{
	struct rblk_peer *peer;
	struct rblk_conn *conn;
	bool misses;

	if (node_id > RBLK_MAX_NODE_ID)
		return false;
	conn = rblk_node_conn_get(dev, node_id, &peer);
	if (!conn) {
		bool witness;

		rcu_read_lock();
		peer = rcu_dereference(dev->peers[node_id]);
		witness = peer && peer->cfg.witness;
		rcu_read_unlock();
		return !witness;
	}
	misses = !peer->cfg.witness &&
		 (!(conn->features & RBLK_FEAT_NEW_CURRENT) ||
		  READ_ONCE(peer->repl_state) != RBLK_REPL_ESTABLISHED ||
		  READ_ONCE(peer->peer_disk_state) == RBLK_DISK_DISKLESS);
	rblk_conn_put(conn);
	return misses;
}

/**
 * rblk_sync_announce_new() - tell the peers in sync with us our new generation
 * @dev: a device whose new current UUID is durable
 *
 * Only a primary announces.  Every connected peer that is Established,
 * knows RBLK_FEAT_NEW_CURRENT and lacks nothing of ours (its slot tracks
 * no generation) gets RBLK_P_UUIDS with RBLK_UF_NEW_CURRENT and the node
 * ids whose slots track one (they lack writes): it adopts the generation
 * and outdates those nodes where it is connected to them.  Without this a
 * node that missed writes and one that did not would meet later with the
 * same current UUID and count as in sync.  A peer that cannot be told
 * loses its connection; the next handshake compares again.
 *
 * Context: process context on the write path (GFP_NOIO); takes
 * dev->md.lock.
 */
void rblk_sync_announce_new(struct rblk_device *dev)
{
	u32 behind = 0;
	unsigned int i;

	if (READ_ONCE(dev->role) != RBLK_ROLE_PRIMARY)
		return;
	mutex_lock(&dev->md.lock);
	for (i = 0; dev->has_md && i < dev->md.info.layout.max_peers; i++) {
		u32 node = dev->md.info.slots[i].node_id;

		if (node <= RBLK_MAX_NODE_ID &&
		    (dev->md.info.slots[i].bitmap_uuid || rblk_bm_oos_bytes(dev, i)))
			behind |= BIT(node);
	}
	mutex_unlock(&dev->md.lock);
	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_uuid_view v;
		struct rblk_p_uuids *p;
		struct rblk_peer *peer;
		struct rblk_conn *conn;
		u64 oos;

		if (behind & BIT(i))
			continue;
		conn = rblk_node_conn_get(dev, i, &peer);
		if (!conn)
			continue;
		if (!(conn->features & RBLK_FEAT_NEW_CURRENT) ||
		    READ_ONCE(peer->repl_state) != RBLK_REPL_ESTABLISHED ||
		    READ_ONCE(peer->peer_disk_state) == RBLK_DISK_DISKLESS) {
			rblk_conn_put(conn);
			continue;
		}
		p = kmalloc(sizeof(*p), GFP_NOIO);
		if (p) {
			mutex_lock(&dev->md.lock);
			rblk_sync_local_view(peer, &v, &oos);
			mutex_unlock(&dev->md.lock);
			v.nodes_behind = behind;
			rblk_uuids_encode(p, &v, RBLK_UF_NEW_CURRENT, oos);
		}
		if (!p || rblk_conn_queue_ctl(conn, RBLK_P_UUIDS, 0, p, sizeof(*p), GFP_NOIO))
			rblk_conn_fail(conn, -ENOMEM, "cannot announce the new generation");
		kfree(p);
		rblk_conn_put(conn);
	}
}

/* Tell every connected peer our new generation (RBLK_UF_CLEAR_BITMAP). */
static void rblk_sync_announce_clear(struct rblk_device *dev)
{
	unsigned int i;

	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_uuid_view v;
		struct rblk_p_uuids *p;
		struct rblk_peer *peer;
		struct rblk_conn *conn;
		u64 oos;

		conn = rblk_node_conn_get(dev, i, &peer);
		if (!conn)
			continue;
		p = kmalloc(sizeof(*p), GFP_KERNEL);
		if (p) {
			mutex_lock(&dev->md.lock);
			rblk_sync_local_view(peer, &v, &oos);
			mutex_unlock(&dev->md.lock);
			rblk_uuids_encode(p, &v, RBLK_UF_CLEAR_BITMAP, oos);
		}
		if (!p || !(conn->features & RBLK_FEAT_MD) ||
		    rblk_conn_queue_ctl(conn, RBLK_P_UUIDS, 0, p, sizeof(*p), GFP_KERNEL))
			rblk_conn_fail(conn, -ENOMEM, "cannot announce the new generation");
		kfree(p);
		rblk_conn_put(conn);
	}
}

/**
 * rblk_device_new_current_uuid() - start a new data generation
 * @minor: device
 * @clear_bitmap: skip the initial sync of just-created metadata: this
 *	node's data and that of every connected peer with just-created
 *	metadata are declared identical (e.g. all new disks, all zeroes)
 * @extack: error message
 *
 * Without @clear_bitmap: a new current UUID; every peer slot that tracks
 * no generation gets the old one as its bitmap UUID, so that a peer that
 * misses the new writes is behind at its next connect.
 *
 * Context: process context, sleeps.
 * Return: 0; -ENODEV; -ENOMEDIUM (no metadata attached); -EEXIST
 * (@clear_bitmap, but the data already has a generation); -EBUSY (a
 * peer that is connected does not know generation UUIDs); write errors.
 */
int rblk_device_new_current_uuid(u32 minor, bool clear_bitmap,
				 struct netlink_ext_ack *extack)
{
	struct rblk_device *dev = rblk_device_lock(minor, extack);
	struct rblk_md_info next, *info = &next;
	unsigned int i;
	int ret;

	if (!dev)
		return -ENODEV;
	if (!dev->has_md) {
		NL_SET_ERR_MSG(extack, "no backing device with metadata attached");
		ret = -ENOMEDIUM;
		goto out;
	}
	if (!clear_bitmap && READ_ONCE(dev->role) != RBLK_ROLE_PRIMARY &&
	    rblk_any_peer_connected(dev)) {
		NL_SET_ERR_MSG(extack,
			       "a secondary connected to its peers cannot start a generation");
		ret = -EBUSY;
		goto out;
	}
	mutex_lock(&dev->md.lock);
	next = dev->md.info;
	if (clear_bitmap) {
		if (info->current_uuid) {
			mutex_unlock(&dev->md.lock);
			NL_SET_ERR_MSG(extack,
				       "the data has a generation already: --clear-bitmap only skips the initial sync of new metadata");
			ret = -EEXIST;
			goto out;
		}
		for (i = 0; i < info->layout.max_peers; i++) {
			info->slots[i].bitmap_uuid = 0;
			rblk_bm_clear_all(dev, i);
		}
		info->flags |= RBLK_MDF_CONSISTENT;
		info->flags &= ~(RBLK_MDF_OUTDATED | RBLK_MDF_SYNC_TARGET);
	} else {
		for (i = 0; i < info->layout.max_peers; i++)
			if (info->slots[i].node_id != RBLK_MD_NO_NODE &&
			    !info->slots[i].bitmap_uuid && info->current_uuid)
				info->slots[i].bitmap_uuid = info->current_uuid;
	}
	rblk_md_push_history(info, rblk_md_new_uuid());
	ret = rblk_md_commit(dev, &next);
	if (ret) {
		mutex_unlock(&dev->md.lock);
		NL_SET_ERR_MSG(extack, "cannot write the metadata");
		goto out;
	}
	mutex_unlock(&dev->md.lock);
	if (clear_bitmap) {
		for (i = 0; i < RBLK_MAX_PEERS; i++) {
			struct rblk_peer *peer = rcu_dereference_protected(dev->peers[i],
							lockdep_is_held(&dev->mutex));

			/* a connected peer adopts it; one that is not lacks everything */
			if (!peer)
				continue;
			if (rblk_peer_is_connected(peer)) {
				clear_bit(i, &dev->peers_missed_writes);
				clear_bit(i, &dev->peers_behind);
				rblk_peer_set_repl_state(peer, RBLK_REPL_ESTABLISHED);
			} else if (peer->md_slot >= 0) {
				rblk_bm_set_all(dev, peer->md_slot);
				mutex_lock(&dev->md.lock);
				rblk_bm_write(dev, peer->md_slot);
				mutex_unlock(&dev->md.lock);
			}
		}
		rblk_set_disk_state(dev, RBLK_DISK_UP_TO_DATE);
		rblk_sync_announce_clear(dev);
	}
	pr_info("%s: new current UUID %016llx%s\n", dev->disk->disk_name,
		next.current_uuid, clear_bitmap ? " (initial sync skipped)" : "");
	/* connected peers compare the new generation in a new handshake */
	if (!clear_bitmap)
		rblk_peers_recompare(dev);
out:
	rblk_device_unlock(dev);
	return ret;
}

/**
 * rblk_sync_receive_uuids() - RBLK_P_UUIDS in the data phase
 * @peer: the sender
 * @p: the payload (checked here)
 * @features: RBLK_FEAT_* negotiated on the connection it came on
 *
 * RBLK_UF_CLEAR_BITMAP: with just-created metadata of our own we adopt the
 * sender's generation and become UpToDate.  RBLK_UF_RESYNC_DONE: our sync
 * source sent everything; we adopt its UUIDs and are consistent again.
 * RBLK_UF_NEW_CURRENT: our primary started a new generation for writes
 * other nodes missed; in sync with it, we adopt it (rblk_sync_adopt_new()).
 * These three from peer->uuids_work, since the superblock write sleeps.
 * RBLK_UF_LOST_DISK (with RBLK_FEAT_LOST_DISK): the peer holds our writes
 * in a generation our lost disk lacks (rblk_lost_disk_held(), here).
 *
 * Context: io_work.
 * Return: 0, or -EPROTO for a malformed or unexpected payload (the
 * connection fails).
 */
int rblk_sync_receive_uuids(struct rblk_peer *peer, const struct rblk_p_uuids *p,
			    u64 features)
{
	struct rblk_uuid_view v;
	u32 flags, what;
	u64 oos;

	if (rblk_uuids_decode(p, peer->cfg.node_id, &v, &flags, &oos) || !v.current_uuid)
		return -EPROTO;
	what = flags & (RBLK_UF_CLEAR_BITMAP | RBLK_UF_RESYNC_DONE | RBLK_UF_NEW_CURRENT |
			RBLK_UF_LOST_DISK);
	if (what == RBLK_UF_LOST_DISK) {
		if (!(features & RBLK_FEAT_LOST_DISK))
			return -EPROTO;
		rblk_lost_disk_held(peer, v.current_uuid);
		return 0;
	}
	if (what != RBLK_UF_CLEAR_BITMAP && what != RBLK_UF_RESYNC_DONE &&
	    what != RBLK_UF_NEW_CURRENT)
		return -EPROTO;
	/* a new generation only from the primary whose writes we take */
	if (what == RBLK_UF_NEW_CURRENT &&
	    (READ_ONCE(peer->dev->primary_peer) != peer->cfg.node_id || !v.history[0] ||
	     v.nodes_behind & (BIT(peer->cfg.node_id) | BIT(peer->dev->node_id))))
		return -EPROTO;
	spin_lock_bh(&peer->lock);
	if (what == RBLK_UF_RESYNC_DONE && peer->repl_state != RBLK_REPL_SYNC_TARGET) {
		spin_unlock_bh(&peer->lock);
		return -EPROTO;
	}
	/* its own slot: it may follow a resync end the work has not seen */
	if (what == RBLK_UF_NEW_CURRENT) {
		peer->adopt_new = v;
		peer->adopt_new_pending = true;
	} else {
		peer->adopt = v;
		peer->adopt_flags = what;
	}
	spin_unlock_bh(&peer->lock);
	queue_work(rblk_wq, &peer->uuids_work);
	return 0;
}

/**
 * rblk_sync_lost_disk_connected() - a connection is up: the lost-disk rules
 * @peer: the peer
 * @conn: its new connection, published
 * @compared: both sides compared generation UUIDs (each has metadata)
 * @missed: the peer lacks writes of ours (dev->peers_missed_writes)
 *
 * A primary whose disk is lost asks a peer that lacks none of its writes
 * to hold them (RBLK_P_STATE with its Diskless disk, after the OUTDATE
 * that a peer which lacks writes gets: the peer reads them in order, so
 * an outdated one never holds).  A data node that compared generations
 * with us has a disk again: the loss we held writes for is over, and a
 * later one starts a generation of its own (else the disk, resynced from
 * us to our current UUID, would come back from a second loss as in
 * sync).
 *
 * Context: process context (takes dev->md.lock).
 */
void rblk_sync_lost_disk_connected(struct rblk_peer *peer, struct rblk_conn *conn,
				   bool compared, bool missed)
{
	struct rblk_device *dev = peer->dev;
	enum rblk_disk_state disk = READ_ONCE(dev->disk_state);

	if (peer->cfg.witness)
		return;
	if (compared && READ_ONCE(dev->lost_disk_uuid)) {
		mutex_lock(&dev->md.lock);
		WRITE_ONCE(dev->lost_disk_uuid, 0);
		mutex_unlock(&dev->md.lock);
	}
	if (READ_ONCE(dev->role) == RBLK_ROLE_PRIMARY && !missed &&
	    (disk == RBLK_DISK_FAILED || disk == RBLK_DISK_DISKLESS) &&
	    conn->features & RBLK_FEAT_LOST_DISK)
		rblk_peer_send_state(peer, RBLK_P_STATE, NULL);
}

/**
 * rblk_sync_primary_lost_disk() - our primary announced its disk lost
 * @peer: the sender of RBLK_P_STATE (primary, Diskless), on a connection
 *	with RBLK_FEAT_LOST_DISK
 *
 * Its writes go on to us alone; peer->uuids_work records that
 * (rblk_sync_hold_for_primary()).
 *
 * Context: io_work.
 */
void rblk_sync_primary_lost_disk(struct rblk_peer *peer)
{
	spin_lock_bh(&peer->lock);
	peer->lost_disk_pending = true;
	spin_unlock_bh(&peer->lock);
	queue_work(rblk_wq, &peer->uuids_work);
}

/*
 * Our primary lost its disk and writes on to us: its lost disk keeps the
 * generation we share, so we start one of our own (durably) that the
 * lost disk lacks; if it ever comes back it compares as behind us (its
 * current UUID in our history: a full sync from us), never as in sync.
 * Then we tell the primary (RBLK_UF_LOST_DISK): its writes that its disk
 * lacks complete from then on.  Once per loss: a generation we started
 * for it and still hold is announced again, not replaced (a flapping
 * connection would push the lost disk's generation out of our history).
 *
 * Only as the primary's one data peer: a second data peer would start a
 * generation of its own and the two would look diverged to each other.
 * Only with UpToDate data, Established with the primary (every write it
 * sent since our generation reached us) and never while primary.  Without
 * the word the primary's writes fail after a while; nothing is lost.
 */
static void rblk_sync_hold_for_primary(struct rblk_peer *peer)
{
	struct rblk_device *dev = peer->dev;
	struct rblk_md_info next;
	struct rblk_uuid_view v;
	struct rblk_p_uuids *p;
	struct rblk_conn *conn;
	bool alone, feature;
	u32 witnesses;
	int ret = 0;
	u64 oos;

	rcu_read_lock();
	alone = rblk_only_data_peer(dev, &witnesses) == peer;
	conn = rcu_dereference(peer->conn);
	feature = conn && conn->features & RBLK_FEAT_LOST_DISK;
	rcu_read_unlock();
	if (!alone) {
		pr_info_ratelimited("%s: primary %u lost its disk: not holding its writes alone (another data peer is configured)\n",
				    dev->disk->disk_name, peer->cfg.node_id);
		return;
	}
	if (!feature)
		return;
	p = kmalloc(sizeof(*p), GFP_KERNEL);
	if (!p) {
		ret = -ENOMEM;
		goto send;
	}
	mutex_lock(&dev->md.lock);
	if (!dev->has_md || READ_ONCE(dev->role) == RBLK_ROLE_PRIMARY ||
	    READ_ONCE(dev->primary_peer) != peer->cfg.node_id ||
	    READ_ONCE(peer->repl_state) != RBLK_REPL_ESTABLISHED ||
	    READ_ONCE(dev->disk_state) != RBLK_DISK_UP_TO_DATE ||
	    READ_ONCE(peer->peer_disk_claimed) != RBLK_DISK_DISKLESS) {
		mutex_unlock(&dev->md.lock);
		pr_info_ratelimited("%s: primary %u lost its disk: not holding its writes (our disk %s, not in sync with it)\n",
				    dev->disk->disk_name, peer->cfg.node_id,
				    rblk_disk_state_name(READ_ONCE(dev->disk_state)));
		kfree(p);
		return;
	}
	if (!dev->lost_disk_uuid || dev->md.info.current_uuid != dev->lost_disk_uuid) {
		next = dev->md.info;
		rblk_md_push_history(&next, rblk_md_new_uuid());
		ret = rblk_md_commit(dev, &next);
		if (!ret) {
			WRITE_ONCE(dev->lost_disk_uuid, next.current_uuid);
			pr_info("%s: primary %u lost its disk: new generation %016llx holds its writes\n",
				dev->disk->disk_name, peer->cfg.node_id, next.current_uuid);
		}
	}
	if (!ret) {
		rblk_sync_local_view(peer, &v, &oos);
		rblk_uuids_encode(p, &v, RBLK_UF_LOST_DISK, oos);
	}
	mutex_unlock(&dev->md.lock);
send:
	rcu_read_lock();
	conn = rblk_conn_get(peer);
	rcu_read_unlock();
	if (!conn) {
		kfree(p);
		return;
	}
	if (!ret)
		ret = rblk_conn_queue_ctl(conn, RBLK_P_UUIDS, 0, p, sizeof(*p), GFP_KERNEL);
	kfree(p);
	if (ret)
		rblk_conn_fail(conn, ret, "cannot hold the writes of a primary without disk");
	rblk_conn_put(conn);
}

/*
 * Our primary's new generation (RBLK_UF_NEW_CURRENT): while we are in
 * sync with it (Established, consistent, our current UUID its previous
 * one) we take the new current UUID, durably; then every connected peer
 * that the primary says is behind learns that its disk is Outdated
 * (OUTDATE), so that a node which missed writes never counts as UpToDate.
 */
static void rblk_sync_adopt_new(struct rblk_peer *peer, const struct rblk_uuid_view *v)
{
	struct rblk_device *dev = peer->dev;
	struct rblk_md_info next;
	unsigned int i;
	int ret = -ESTALE;

	mutex_lock(&dev->md.lock);
	next = dev->md.info;
	/* Established all along: every write since our current UUID reached us */
	if (dev->has_md && READ_ONCE(peer->repl_state) == RBLK_REPL_ESTABLISHED &&
	    READ_ONCE(dev->role) != RBLK_ROLE_PRIMARY && next.flags & RBLK_MDF_CONSISTENT &&
	    next.current_uuid != v->current_uuid &&
	    rblk_uuid_in(next.current_uuid, v->history)) {
		rblk_md_push_history(&next, v->current_uuid);
		ret = rblk_md_commit(dev, &next);
	}
	mutex_unlock(&dev->md.lock);
	if (ret == -ESTALE) {
		pr_info_ratelimited("%s: peer %u: new generation %016llx not adopted: not in sync with its previous one\n",
				    dev->disk->disk_name, peer->cfg.node_id, v->current_uuid);
		return;
	}
	if (ret) {
		struct rblk_conn *conn;

		rcu_read_lock();
		conn = rblk_conn_get(peer);
		rcu_read_unlock();
		if (conn) {
			rblk_conn_fail(conn, ret, "cannot adopt the new generation");
			rblk_conn_put(conn);
		}
		return;
	}
	pr_info("%s: peer %u: adopted generation %016llx (new current)\n",
		dev->disk->disk_name, peer->cfg.node_id, v->current_uuid);
	for (i = 0; i < RBLK_MAX_PEERS; i++) {
		struct rblk_peer *other;
		struct rblk_conn *conn;

		if (i == peer->cfg.node_id || !(v->nodes_behind & BIT(i)))
			continue;
		conn = rblk_node_conn_get(dev, i, &other);
		if (!conn)
			continue;
		pr_info("%s: peer %u: missed writes of peer %u: outdated\n",
			dev->disk->disk_name, i, peer->cfg.node_id);
		/* it judges its own disk; its STATE then shows it to us */
		if (!(conn->features & RBLK_FEAT_OUTDATE) ||
		    rblk_conn_queue_ctl(conn, RBLK_P_OUTDATE, 0, NULL, 0, GFP_KERNEL))
			rblk_conn_fail(conn, -ESTALE, "cannot tell the peer it missed writes");
		rblk_conn_put(conn);
	}
}

/* RBLK_UF_CLEAR_BITMAP or RBLK_UF_RESYNC_DONE (@what) from @peer. */
static void rblk_sync_adopt(struct rblk_peer *peer, const struct rblk_uuid_view *vp, u32 what)
{
	struct rblk_device *dev = peer->dev;
	struct rblk_md_info next, *info = &next;
	struct rblk_uuid_view v = *vp;
	bool adopted = false;

	mutex_lock(&dev->md.lock);
	if (!dev->has_md) {
		mutex_unlock(&dev->md.lock);
		return;
	}
	next = dev->md.info;
	/*
	 * The generation we resynced from is in the source's history (or is
	 * its current one): anything else is not the end of our resync.
	 */
	if (what == RBLK_UF_RESYNC_DONE && v.current_uuid != info->current_uuid &&
	    !rblk_uuid_in(info->current_uuid, v.history)) {
		mutex_unlock(&dev->md.lock);
		pr_warn_ratelimited("%s: peer %u: resync end for another generation: ignored\n",
				    dev->disk->disk_name, peer->cfg.node_id);
		return;
	}
	if (what == RBLK_UF_RESYNC_DONE ||
	    (!info->current_uuid && READ_ONCE(dev->disk_state) == RBLK_DISK_INCONSISTENT)) {
		unsigned int i;

		for (i = 0; i < info->layout.max_peers; i++) {
			if (info->slots[i].node_id != peer->cfg.node_id &&
			    what == RBLK_UF_RESYNC_DONE)
				continue;
			info->slots[i].bitmap_uuid = 0;
			rblk_bm_clear_all(dev, i);
			/* on disk too (a failure only means more resync later) */
			rblk_bm_write(dev, i);
		}
		info->current_uuid = v.current_uuid;
		if (what == RBLK_UF_RESYNC_DONE)
			memcpy(info->history, v.history, sizeof(info->history));
		info->flags |= RBLK_MDF_CONSISTENT;
		info->flags &= ~(RBLK_MDF_OUTDATED | RBLK_MDF_SYNC_TARGET);
		adopted = !rblk_md_commit(dev, &next);
	}
	mutex_unlock(&dev->md.lock);
	if (!adopted) {
		struct rblk_conn *conn;

		if (what == RBLK_UF_CLEAR_BITMAP) {
			pr_warn_ratelimited("%s: peer %u: announced a new generation with --clear-bitmap; ours is not new metadata: ignored\n",
					    dev->disk->disk_name, peer->cfg.node_id);
			return;
		}
		/* the resync end could not be recorded: the next connection resumes */
		rcu_read_lock();
		conn = rblk_conn_get(peer);
		rcu_read_unlock();
		if (conn) {
			rblk_conn_fail(conn, -EIO, "cannot record the end of the resync");
			rblk_conn_put(conn);
		}
		return;
	}
	clear_bit(peer->cfg.node_id, &dev->peers_missed_writes);
	/* we hold what it holds: not behind a primary we follow either */
	if (what == RBLK_UF_RESYNC_DONE)
		clear_bit(peer->cfg.node_id, &dev->peers_behind);
	rblk_peer_set_repl_state(peer, RBLK_REPL_ESTABLISHED);
	/* a stepped-down primary's own writes are gone now: lose no more */
	if (what == RBLK_UF_RESYNC_DONE)
		WRITE_ONCE(dev->quorum_stepped_down, false);
	if (what == RBLK_UF_RESYNC_DONE)
		rblk_sync_crash_accounted(dev);
	if (what == RBLK_UF_RESYNC_DONE && READ_ONCE(peer->peer_role) == RBLK_ROLE_PRIMARY)
		rblk_sync_reconcile_done(dev);
	/* nothing of ours is missing there any more: show its own claim */
	rblk_peer_set_claimed_disk(peer, v.up_to_date ? RBLK_DISK_UP_TO_DATE :
				   RBLK_DISK_OUTDATED);
	/*
	 * As good as the source, no better: UpToDate only from an UpToDate
	 * source (or a peer that skipped the initial sync with us).
	 */
	rblk_change_disk_state(dev, RBLK_DISK_INCONSISTENT,
			       what == RBLK_UF_CLEAR_BITMAP || v.up_to_date ?
			       RBLK_DISK_UP_TO_DATE : RBLK_DISK_OUTDATED);
	pr_info("%s: peer %u: adopted generation %016llx (%s)\n", dev->disk->disk_name,
		peer->cfg.node_id, v.current_uuid,
		what == RBLK_UF_RESYNC_DONE ? "resync done" : "initial sync skipped");
	rblk_sync_recompare_waiting(dev);
}

/* peer->uuids_work: adopt a generation the peer announced. */
void rblk_sync_uuids_work(struct work_struct *work)
{
	struct rblk_peer *peer = container_of(work, struct rblk_peer, uuids_work);
	struct rblk_uuid_view v, v_new;
	bool ok, new_pending, lost_disk;
	u32 what;

	spin_lock_bh(&peer->lock);
	v = peer->adopt;
	what = peer->adopt_flags;
	peer->adopt_flags = 0;
	v_new = peer->adopt_new;
	new_pending = peer->adopt_new_pending;
	peer->adopt_new_pending = false;
	lost_disk = peer->lost_disk_pending;
	peer->lost_disk_pending = false;
	/* a resync end only while we are this peer's sync target */
	ok = what != RBLK_UF_RESYNC_DONE || peer->repl_state == RBLK_REPL_SYNC_TARGET;
	spin_unlock_bh(&peer->lock);
	if (what && ok)
		rblk_sync_adopt(peer, &v, what);
	if (new_pending)
		rblk_sync_adopt_new(peer, &v_new);
	if (lost_disk)
		rblk_sync_hold_for_primary(peer);
}

/* ------------------------------------------------------------------------
 * The resync engine, sync source side.  A resync request covers up to
 * RBLK_RS_MAX_BITS consecutive out-of-sync blocks: it holds their sector
 * range in dev->conflicts (application writes to it wait, and it is not
 * started while one is in flight), reads them from our disk, sends them
 * as DATA with RBLK_DP_RESYNC, and clears their bits when the peer acks.
 * Application writes to an out-of-sync block go to the peer as usual and
 * leave the bit set: a write smaller than the 4 KiB block leaves the rest
 * of the block old at the peer, and resync copies the whole block later.
 */

/* Blocks per resync request: 128 KiB. */
#define RBLK_RS_MAX_BITS		32
#define RBLK_RS_MAX_BYTES		(RBLK_RS_MAX_BITS * RBLK_MD_BM_BLOCK_BYTES)
/* Dynamic rate: requests in flight while application I/O runs. */
#define RBLK_RS_INFLIGHT_BUSY		2
/* Delay before scanning again for blocks skipped for application writes. */
#define RBLK_RS_RESCAN_MS		20
/* The dynamic controller adjusts its window once per step. */
#define RBLK_RS_STEP_MS			100
/*
 * Round trips of one step, summed in one atomic64 with their count, so
 * that a sum and its count are always taken together: the count in the
 * low 16 bits (at most 32 requests in flight complete far fewer per step),
 * the sum in microseconds above it (one sample capped at 2^32 us).
 */
#define RBLK_RS_LAT_COUNT_BITS		16
#define RBLK_RS_LAT_COUNT_MASK		((1ULL << RBLK_RS_LAT_COUNT_BITS) - 1)

static u64 rblk_rs_lat_sample(s64 us)
{
	return ((u64)clamp_t(s64, us, 0, U32_MAX) << RBLK_RS_LAT_COUNT_BITS) | 1;
}

/*
 * The rate controller (Documentation/design.rst, "Resync rate").
 *
 * Fixed: a token bucket.  Reading a request costs its bytes of credit;
 * credit grows at the configured rate up to one request or 100 ms of it,
 * whichever is more, and up to RBLK_RS_WINDOW_MAX requests are in flight.
 *
 * Dynamic: a window of requests in flight, adjusted every RBLK_RS_STEP_MS
 * from the mean round trip (local read, send, peer write, ack) of the
 * requests that completed in the step: above the latency target it shrinks
 * by a quarter, below half the target it doubles, below the target it
 * grows by one, and it only grows when it held requests back.  While
 * application I/O is in flight at most RBLK_RS_INFLIGHT_BUSY requests are,
 * so the resync yields to the application and still makes progress.
 */

/**
 * rblk_rs_next_window() - the dynamic controller's window for the next step
 * @window: requests allowed in flight in the step that ended, >= 1
 * @latency_us: mean round trip of the requests completed in it, microseconds
 * @target_us: the latency target, microseconds
 * @limited: the window held requests back in that step
 *
 * Context: any; pure.
 * Return: the new window, 1..RBLK_RS_WINDOW_MAX.
 */
u32 rblk_rs_next_window(u32 window, u64 latency_us, u64 target_us, bool limited)
{
	window = clamp_t(u32, window, 1, RBLK_RS_WINDOW_MAX);
	if (latency_us > target_us)
		return max_t(u32, 1, window - max_t(u32, 1, window / 4));
	if (!limited)
		return window;
	if (latency_us <= target_us / 2)
		return min_t(u32, RBLK_RS_WINDOW_MAX, window * 2);
	return min_t(u32, RBLK_RS_WINDOW_MAX, window + 1);
}

/**
 * rblk_rs_refill() - the fixed-rate credit after some time
 * @credit_bytes: credit before, bytes
 * @rate_kib_per_s: the fixed rate, KiB/s, > 0
 * @elapsed_ms: milliseconds since the last refill
 * @request_bytes: bytes of the largest request
 *
 * Context: any; pure.
 * Return: the credit, at most max(@request_bytes, 100 ms of the rate).
 */
u64 rblk_rs_refill(u64 credit_bytes, u32 rate_kib_per_s, u32 elapsed_ms, u32 request_bytes)
{
	u64 cap = max_t(u64, request_bytes, (u64)rate_kib_per_s * 1024 / 10);

	credit_bytes += div_u64((u64)rate_kib_per_s * 1024 * elapsed_ms, 1000);
	return min(credit_bytes, cap);
}

/**
 * rblk_rs_credit_wait_ms() - how long until the credit covers a request
 * @credit_bytes: credit now, bytes
 * @need_bytes: the request's bytes
 * @rate_kib_per_s: the fixed rate, KiB/s, > 0
 *
 * Context: any; pure.
 * Return: milliseconds, 0 when the credit covers it now, else at least 1.
 */
u32 rblk_rs_credit_wait_ms(u64 credit_bytes, u32 need_bytes, u32 rate_kib_per_s)
{
	u64 rate_bytes_per_s = (u64)rate_kib_per_s * 1024;	/* up to 2^32: not do_div */

	if (credit_bytes >= need_bytes)
		return 0;
	return max_t(u32, 1, div64_u64((need_bytes - credit_bytes) * 1000 + rate_bytes_per_s - 1,
				       rate_bytes_per_s));
}

/**
 * struct rblk_rs_req - one resync request
 * @leg: its packet to the peer (leg.rs points back here)
 * @issued: when its read was submitted (the round trip's start)
 * @peer: the sync target
 * @node: on rs->read_done once read
 * @interval: its sector range in dev->conflicts
 * @first_bit: first bitmap bit
 * @nr_bits: bits (4 KiB blocks)
 * @status: the local read's status
 * @bio: the read bio, then the data source of the DATA packet
 */
struct rblk_rs_req {
	struct rblk_leg leg;
	ktime_t issued;
	struct rblk_peer *peer;
	struct llist_node node;
	struct rblk_interval interval;
	u64 first_bit;
	u32 nr_bits;
	blk_status_t status;
	struct bio *bio;
};

/* End of a resync request: its range, pages and references go. */
static void rblk_rs_free(struct rblk_rs_req *r)
{
	struct rblk_peer *peer = r->peer;
	struct rblk_device *dev = peer->dev;
	struct rblk_resync *rs = &peer->rs;

	rblk_interval_remove(&dev->conflicts, &r->interval);
	if (r->bio) {
		bio_free_pages(r->bio);
		bio_put(r->bio);
	}
	kfree(r);
	percpu_ref_put(&dev->local_ref);
	atomic_dec(&rs->inflight);
	wake_up_all(&rs->wait);
	if (!READ_ONCE(rs->stop))
		mod_delayed_work(rblk_wq, &rs->work, 0);
}

/**
 * rblk_rs_leg_done() - the peer answered a resync request
 * @leg: the request's leg
 * @status: 0 when the peer wrote it, -ENOTCONN at teardown, else its error
 *
 * Context: io_work or connection teardown.
 */
void rblk_rs_leg_done(struct rblk_leg *leg, int status)
{
	struct rblk_rs_req *r = leg->rs;
	struct rblk_device *dev = r->peer->dev;
	int slot = READ_ONCE(r->peer->md_slot);
	u64 bit;

	if (!status && slot >= 0) {
		struct rblk_bitmap *bm = &dev->md.bm[slot];

		for (bit = r->first_bit; bit < r->first_bit + r->nr_bits; bit++)
			if (test_and_clear_bit_le(bit, bm->bits))
				atomic64_dec(&bm->set_bits);
		atomic64_add((u64)r->nr_bits * RBLK_MD_BM_BLOCK_BYTES, &r->peer->rs.done_bytes);
		atomic64_add(rblk_rs_lat_sample(ktime_us_delta(ktime_get(), r->issued)),
			     &r->peer->rs.lat);
	} else if (status && status != -ENOTCONN) {
		pr_warn_ratelimited("%s: peer %u: resync write at sector %llu failed (%d)\n",
				    dev->disk->disk_name, r->peer->cfg.node_id,
				    r->interval.start_sector, status);
		WRITE_ONCE(r->peer->rs.failed, true);
	}
	rblk_rs_free(r);
}

static void rblk_rs_read_endio(struct bio *bio)
{
	struct rblk_rs_req *r = bio->bi_private;
	struct rblk_resync *rs = &r->peer->rs;

	r->status = bio->bi_status;
	llist_add(&r->node, &rs->read_done);
	mod_delayed_work(rblk_wq, &rs->work, 0);
	/* the last touch of the peer: rblk_rs_stop() waits for it */
	if (atomic_dec_and_test(&rs->reads))
		wake_up_var(&rs->reads);
}

/* Read the blocks [@bit, @end) for @peer.  0, or -EAGAIN to skip them now. */
static int rblk_rs_issue(struct rblk_peer *peer, u64 bit, u64 end)
{
	struct rblk_device *dev = peer->dev;
	u64 sector = bit << 3;
	u32 nr_sectors = min_t(u64, (end - bit) << 3, dev->size_sectors - sector);
	struct rblk_rs_req *r;
	unsigned int i;

	r = kzalloc(sizeof(*r), GFP_NOIO);
	if (!r)
		return -ENOMEM;
	r->peer = peer;
	r->first_bit = bit;
	r->nr_bits = end - bit;
	r->leg.rs = r;
	r->leg.peer = peer;
	r->leg.command = RBLK_P_DATA;
	r->leg.bytes = nr_sectors << SECTOR_SHIFT;
	rblk_interval_set(&r->interval, sector, nr_sectors);
	if (rblk_interval_insert(&dev->conflicts, &r->interval, true)) {
		kfree(r);
		return -EAGAIN;
	}
	r->bio = bio_alloc(dev->backing.bdev, DIV_ROUND_UP(r->leg.bytes, PAGE_SIZE),
			   REQ_OP_READ, GFP_NOIO);
	r->bio->bi_iter.bi_sector = sector;
	for (i = 0; i < DIV_ROUND_UP(r->leg.bytes, PAGE_SIZE); i++) {
		struct page *page = alloc_page(GFP_NOIO);

		if (!page) {
			rblk_interval_remove(&dev->conflicts, &r->interval);
			bio_free_pages(r->bio);
			bio_put(r->bio);
			kfree(r);
			return -ENOMEM;
		}
		__bio_add_page(r->bio, page, min_t(u32, PAGE_SIZE,
						   r->leg.bytes - i * PAGE_SIZE), 0);
	}
	r->bio->bi_private = r;
	r->bio->bi_end_io = rblk_rs_read_endio;
	percpu_ref_get(&dev->local_ref);
	atomic_inc(&peer->rs.inflight);
	atomic_inc(&peer->rs.reads);
	r->issued = ktime_get();
	submit_bio_noacct(r->bio);
	return 0;
}

/* Everything sent and acknowledged: tell the peer, forget the generation. */
static void rblk_rs_finish(struct rblk_peer *peer, struct rblk_conn *conn)
{
	struct rblk_device *dev = peer->dev;
	int slot = READ_ONCE(peer->md_slot);
	struct rblk_md_info next;
	struct rblk_uuid_view v;
	struct rblk_p_uuids *p;
	u64 oos;
	int ret;

	clear_bit(peer->cfg.node_id, &dev->peers_missed_writes);
	/* the clear before the count: rblk_peer_outdate() sets, then marks */
	smp_mb__after_atomic();
	/* a write the peer missed meanwhile: go on (nothing in flight wakes us) */
	if (rblk_bm_oos_bytes(dev, slot)) {
		set_bit(peer->cfg.node_id, &dev->peers_missed_writes);
		mod_delayed_work(rblk_wq, &peer->rs.work, 0);
		return;
	}
	/* it holds what we hold: not behind a primary we follow either */
	clear_bit(peer->cfg.node_id, &dev->peers_behind);
	p = kmalloc(sizeof(*p), GFP_NOIO);
	mutex_lock(&dev->md.lock);
	/*
	 * The cleared bits on disk too: a later crash must not bring back
	 * blocks this resync already sent (more resync, never less, but
	 * needless).
	 */
	ret = rblk_bm_write(dev, slot);
	next = dev->md.info;
	next.slots[slot].bitmap_uuid = 0;
	if (!ret)
		ret = rblk_md_commit(dev, &next);
	rblk_sync_local_view(peer, &v, &oos);
	mutex_unlock(&dev->md.lock);
	/*
	 * Bits set meanwhile: a write the peer missed (its OUTDATE reached an
	 * Inconsistent disk and did nothing).  They track a generation, and
	 * the end is not sent: the next handshake resyncs them (R5).
	 */
	if (!ret && rblk_bm_oos_bytes(dev, slot)) {
		ret = rblk_md_start_generation(dev);
		kfree(p);
		WRITE_ONCE(peer->rs.running, false);
		rblk_conn_fail(conn, ret ?: -EAGAIN, "a write missed the peer at the resync end");
		return;
	}
	if (ret) {
		kfree(p);
		rblk_conn_fail(conn, ret, "cannot record the end of the resync");
		return;
	}
	if (p) {
		rblk_uuids_encode(p, &v, RBLK_UF_RESYNC_DONE, oos);
		if (rblk_conn_queue_ctl(conn, RBLK_P_UUIDS, 0, p, sizeof(*p), GFP_NOIO))
			rblk_conn_fail(conn, -ENOMEM, "cannot end the resync");
		kfree(p);
	} else {
		rblk_conn_fail(conn, -ENOMEM, "cannot end the resync");
	}
	WRITE_ONCE(peer->rs.running, false);
	rblk_peer_set_repl_state(peer, RBLK_REPL_ESTABLISHED);
	rblk_sync_crash_accounted(dev);
	pr_info("%s: peer %u: resync done, %llu bytes\n", dev->disk->disk_name,
		peer->cfg.node_id, (u64)atomic64_read(&peer->rs.done_bytes));
}

/* Bytes per second over windows of about a second, for status. */
static void rblk_rs_rate(struct rblk_resync *rs)
{
	unsigned long now = jiffies;
	u64 done = atomic64_read(&rs->done_bytes);

	if (time_before(now, rs->rate_jiffies + HZ))
		return;
	rs->rate_bytes_per_s = div64_u64((done - rs->rate_done_bytes) * HZ,
					 now - rs->rate_jiffies);
	rs->rate_jiffies = now;
	rs->rate_done_bytes = done;
}

/* Once per step: the dynamic controller's window from the step's round trips. */
static void rblk_rs_control(struct rblk_peer *peer)
{
	struct rblk_resync *rs = &peer->rs;
	u32 target_ms = peer->cfg.resync_latency_ms;
	u64 lat, sum_us;
	u32 samples;

	if (time_before(jiffies, rs->step_jiffies + msecs_to_jiffies(RBLK_RS_STEP_MS)))
		return;
	lat = atomic64_xchg(&rs->lat, 0);
	samples = lat & RBLK_RS_LAT_COUNT_MASK;
	sum_us = lat >> RBLK_RS_LAT_COUNT_BITS;
	if (samples > 0) {
		WRITE_ONCE(rs->latency_us, div_u64(sum_us, samples));
		WRITE_ONCE(rs->window, rblk_rs_next_window(rs->window, rs->latency_us,
							   (u64)target_ms * USEC_PER_MSEC,
							   rs->limited));
	}
	rs->limited = false;
	rs->step_jiffies = jiffies;
}

/*
 * Fixed rate: may a request of @bytes be read now?  If not, the work is
 * scheduled for when it may.
 */
static bool rblk_rs_take_credit(struct rblk_resync *rs, u32 rate_kib_per_s, u32 bytes)
{
	unsigned long now = jiffies;
	u32 wait_ms;

	rs->credit_bytes = rblk_rs_refill(rs->credit_bytes, rate_kib_per_s,
					  jiffies_to_msecs(now - rs->credit_jiffies),
					  RBLK_RS_MAX_BYTES);
	rs->credit_jiffies = now;
	wait_ms = rblk_rs_credit_wait_ms(rs->credit_bytes, bytes, rate_kib_per_s);
	if (wait_ms) {
		mod_delayed_work(rblk_wq, &rs->work, msecs_to_jiffies(wait_ms));
		return false;
	}
	rs->credit_bytes -= bytes;
	return true;
}

static void rblk_rs_work(struct work_struct *work)
{
	struct rblk_resync *rs = container_of(to_delayed_work(work), struct rblk_resync, work);
	struct rblk_peer *peer = container_of(rs, struct rblk_peer, rs);
	struct rblk_device *dev = peer->dev;
	struct llist_node *done = llist_reverse_order(llist_del_all(&rs->read_done));
	struct rblk_rs_req *r, *next;
	struct rblk_conn *conn;
	struct rblk_bitmap *bm;
	u32 rate_kib_per_s = peer->cfg.resync_rate_kib_per_s;
	int slot, limit;

	rcu_read_lock();
	conn = rblk_conn_get(peer);
	rcu_read_unlock();
	/* send what was read */
	llist_for_each_entry_safe(r, next, done, node) {
		if (r->status)
			WRITE_ONCE(rs->failed, true);
		if (r->status || !conn || READ_ONCE(rs->stop) ||
		    rblk_conn_queue_rs(conn, &r->leg, r->bio, r->interval.start_sector,
				       r->leg.bytes) != 1)
			rblk_rs_free(r);
	}
	if (!conn)
		return;
	/* no endless retries: the connection goes, the next one resumes */
	if (READ_ONCE(rs->failed) && !READ_ONCE(rs->stop)) {
		WRITE_ONCE(rs->stop, true);
		rblk_conn_fail(conn, -EIO, "resync I/O failed");
		goto out;
	}
	slot = READ_ONCE(peer->md_slot);
	if (READ_ONCE(rs->stop) || !READ_ONCE(rs->running))
		goto out;
	/* our disk went (on-io-error detach): the target must not wait for ever */
	if (slot < 0 || !percpu_ref_tryget_live(&dev->local_ref)) {
		WRITE_ONCE(rs->stop, true);
		rblk_conn_fail(conn, -ENOMEDIUM, "local disk gone during the resync");
		goto out;
	}
	bm = &dev->md.bm[slot];
	rblk_rs_rate(rs);
	if (rate_kib_per_s) {
		limit = RBLK_RS_WINDOW_MAX;
	} else {
		rblk_rs_control(peer);
		limit = rs->window;
		if (atomic_read(&dev->inflight))
			limit = min(limit, RBLK_RS_INFLIGHT_BUSY);
	}
	while (atomic_read(&rs->inflight) < limit) {
		u64 bit = find_next_bit_le(bm->bits, bm->nr_bits, rs->cursor_bit);
		u64 end;
		int ret;

		if (bit >= bm->nr_bits) {
			if (atomic_read(&rs->inflight))
				break;
			rs->cursor_bit = 0;
			if (!atomic64_read(&bm->set_bits)) {
				rblk_rs_finish(peer, conn);
				break;
			}
			/* blocks skipped for application writes: again soon */
			mod_delayed_work(rblk_wq, &rs->work, msecs_to_jiffies(RBLK_RS_RESCAN_MS));
			break;
		}
		end = find_next_zero_bit_le(bm->bits, min_t(u64, bm->nr_bits,
							    bit + RBLK_RS_MAX_BITS), bit);
		if (rate_kib_per_s &&
		    !rblk_rs_take_credit(rs, rate_kib_per_s,
					 (end - bit) * RBLK_MD_BM_BLOCK_BYTES))
			break;
		ret = rblk_rs_issue(peer, bit, end);
		/* nothing read: the credit is not spent */
		if (ret && rate_kib_per_s)
			rs->credit_bytes += (end - bit) * RBLK_MD_BM_BLOCK_BYTES;
		if (ret == -ENOMEM) {
			mod_delayed_work(rblk_wq, &rs->work, msecs_to_jiffies(RBLK_RS_RESCAN_MS));
			break;
		}
		rs->cursor_bit = end;
	}
	/* the window, not the bitmap or memory, held the resync back */
	if (!rate_kib_per_s && atomic_read(&rs->inflight) >= rs->window)
		rs->limited = true;
	percpu_ref_put(&dev->local_ref);
out:
	rblk_conn_put(conn);
}

/**
 * rblk_rs_init() - initialise a peer's resync state
 * @peer: peer being set up
 *
 * Context: process context.
 */
void rblk_rs_init(struct rblk_peer *peer)
{
	struct rblk_resync *rs = &peer->rs;

	INIT_DELAYED_WORK(&rs->work, rblk_rs_work);
	init_llist_head(&rs->read_done);
	atomic_set(&rs->inflight, 0);
	atomic_set(&rs->reads, 0);
	init_waitqueue_head(&rs->wait);
	rs->stop = true;
}

/**
 * rblk_rs_start() - start resyncing a peer's out-of-sync blocks to it
 * @peer: a connected peer whose handshake made us its sync source
 *
 * Context: conn_work.
 */
void rblk_rs_start(struct rblk_peer *peer)
{
	struct rblk_resync *rs = &peer->rs;
	struct rblk_device *dev = peer->dev;

	rs->cursor_bit = 0;
	rs->failed = false;
	rs->total_bytes = rblk_bm_oos_bytes(dev, peer->md_slot);
	atomic64_set(&rs->done_bytes, 0);
	rs->rate_bytes_per_s = 0;
	rs->rate_jiffies = jiffies;
	rs->rate_done_bytes = 0;
	rs->window = RBLK_RS_WINDOW_START;
	rs->limited = false;
	rs->step_jiffies = jiffies;
	rs->latency_us = 0;
	atomic64_set(&rs->lat, 0);
	rs->credit_bytes = 0;
	rs->credit_jiffies = jiffies;
	WRITE_ONCE(rs->stop, false);
	WRITE_ONCE(rs->running, true);
	rblk_peer_set_repl_state(peer, RBLK_REPL_SYNC_SOURCE);
	pr_info("%s: peer %u: resync started, %llu bytes out of sync\n", dev->disk->disk_name,
		peer->cfg.node_id, rs->total_bytes);
	mod_delayed_work(rblk_wq, &rs->work, 0);
}

/**
 * rblk_rs_stop() - stop a resync and wait for its requests
 * @peer: peer whose connection is gone (its legs were completed)
 *
 * What was not acknowledged stays set in the bitmap: the next resync
 * sends it.
 *
 * Context: process context (conn_work, peer shutdown), sleeps until the
 * local reads in flight complete.
 */
void rblk_rs_stop(struct rblk_peer *peer)
{
	struct rblk_resync *rs = &peer->rs;

	WRITE_ONCE(rs->stop, true);
	WRITE_ONCE(rs->running, false);
	for (;;) {
		flush_delayed_work(&rs->work);
		if (wait_event_timeout(rs->wait, !atomic_read(&rs->inflight), HZ / 10))
			break;
		/* reads that completed wait for the work to free them */
		mod_delayed_work(rblk_wq, &rs->work, 0);
	}
	wait_var_event(&rs->reads, !atomic_read(&rs->reads));
	cancel_delayed_work_sync(&rs->work);
}
