# SPDX-License-Identifier: GPL-2.0
"""The link between the two nodes fails while the primary writes, and comes
back; plus a check that the guests' kernel logs are really scanned.

A cluster of its own per kernel (a split-brain at the end).

Generation UUIDs (persistent metadata) decide at every connect: a secondary
that loses its primary keeps its disk UpToDate (protocol C: it holds every
acknowledged write) and may be promoted while disconnected; when it comes
back after the primary wrote without it, the primary (which recorded the
blocks it missed) resyncs exactly those to it (bitmap-source/-target), and
then the data areas are identical; two nodes that both wrote while apart
are a split-brain, refused on both sides.
"""
import re
import time
import unittest

from e2elib import (BITMAP_SOURCE, BITMAP_TARGET, CONF, CONNECT_TIMEOUT_MS, DEV, FIO_DIR,
                    PING_TIMEOUT_MS, RECONNECT_MAX_MS, RES, ClusterTest, adm, decisions,
                    disk_sha256, in_parallel, log, peer_of, per_kernel, short, status,
                    wait_in_sync, wait_until)
import rig

LOST_S = PING_TIMEOUT_MS / 1000 + 20
RECONNECT_S = (PING_TIMEOUT_MS + CONNECT_TIMEOUT_MS + RECONNECT_MAX_MS) / 1000 + 15


@per_kernel
class LinkCut(ClusterTest):
    DISK_MIB = 64       # holds fio/linkcut.fio (24 MiB); quick to zero for a reset
    # make check: every test on 6.12, the cut under writes (with the resync
    # after it) on the debug kernel (6.1 source, KASAN, lockdep, kmemleak);
    # make soak: all on all
    ONE_KERNEL = {"*": "6.12"}
    DEBUG_CORE = ("test_5_cut_link_during_writes",)
    # fio/linkcut.fio's writes on the debug kernel (about 25 a second under
    # emulation, not 200): enough for the cut, and about 40 s, not 4 minutes
    DEBUG_FIO_IOS = 1000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pair.setup()
        cls.pair.bring_up()

    def assert_resynced(self, what, a, b):
        """B came back after A wrote without it: the handshake made A the
        bitmap-source and B the bitmap-target, the resync ends (both
        UpToDate, Established, nothing out of sync) and the data areas of
        both backing disks are identical."""
        got = wait_until(lambda: all(decisions(a, b)) and decisions(a, b), 30,
                         f"{what}: the sync decisions of the handshake")
        log(f"{what}: sync decisions A->B, B->A: {got}")
        self.assertEqual(got, (BITMAP_SOURCE, BITMAP_TARGET), f"{what}: sync decisions")
        sa, sb = wait_in_sync(a, b)
        log(f"{what}: resync done: A {short(sa)}; B {short(sb)}")
        ha, hb = in_parallel(lambda: disk_sha256(a), lambda: disk_sha256(b))
        self.assertEqual(ha, hb, f"{what}: data areas differ after the resync")

    def test_5_cut_link_during_writes(self):
        """A keeps writing while the link is down; both sides see the
        connection lost; A shows B Outdated, B keeps its disk UpToDate (it
        holds every write A acknowledged before); after the link is
        restored they reconnect within ping timeout + reconnect backoff and
        A resyncs the blocks B missed (A recorded them as out of sync):
        then both disks are identical."""
        p = self.pair
        a, b = p.a, p.b
        p.ensure(primary=a)
        ios = f" --number_ios={self.DEBUG_FIO_IOS}" if self.KERNEL == rig.DEBUG_KERNEL else ""
        job = a.spawn(f"fio --output-format=json{ios} {FIO_DIR}/linkcut.fio", timeout=600)
        try:
            wait_until(lambda: status(a)["stats"]["writes"] >= 200, 60,
                       "fio writing on A")
            self.assertFalse(job.done, "fio ended before the link was cut")
            t_cut = time.monotonic()
            self.c.cut_link(a, b)
            lost_s = LOST_S

            def a_lost():
                st = status(a)
                pa = peer_of(st, b)
                return pa["conn_state"] != "connected" and st
            st = wait_until(a_lost, lost_s, "A to notice the lost link")
            log(f"A noticed the cut after {time.monotonic() - t_cut:.1f} s: {short(st)}")
            w0 = st["stats"]["writes"]
            wait_until(lambda: status(a)["stats"]["writes"] >= w0 + 100, 60,
                       "A's writes to go on while disconnected")
            self.assertFalse(job.done, "fio ended too early: writes after the cut not shown")
            res = job.wait(timeout=600)
        finally:
            if not job.done:
                job.kill()
        self.assertEqual(res.rc, 0, f"fio on A failed after the cut:\n{res.out[-2000:]}"
                                    f"\n{res.err[-2000:]}")

        def b_lost():
            st = status(b)
            return peer_of(st, a)["conn_state"] == "connecting" and st
        sb = wait_until(b_lost, lost_s, "B: connecting")
        sa = status(a)
        pa = peer_of(sa, b)
        log(f"after the cut: A {short(sa)}; B {short(sb)}")
        self.assertEqual(sb["disk_state"], "up_to_date",
                         f"B lost its primary: its disk stays up_to_date: {short(sb)}")
        self.assertEqual(sb["role"], "secondary")
        self.assertEqual(pa["conn_state"], "connecting")
        self.assertEqual(pa["peer_disk_state"], "outdated")
        self.assertGreater(pa["out_of_sync_bytes"], 0, "A did not record what B missed")
        self.assertEqual(sa["role"], "primary")
        self.assertEqual(sa["disk_state"], "up_to_date")
        self.assertEqual(sa["stats"]["errors"], 0)

        t_restore = time.monotonic()
        self.c.restore_link(a, b)
        deadline = (PING_TIMEOUT_MS + CONNECT_TIMEOUT_MS + RECONNECT_MAX_MS) / 1000 + 15

        def both_connected():
            sa, sb = status(a), status(b)
            return (peer_of(sa, b)["conn_state"] == "connected" and
                    peer_of(sb, a)["conn_state"] == "connected") and (sa, sb)
        sa, sb = wait_until(both_connected, deadline, "reconnect after restore_link")
        log(f"reconnected {time.monotonic() - t_restore:.1f} s after the link came back: "
            f"A {short(sa)}; B {short(sb)}")
        self.assert_resynced("after the cut", a, b)
        self.assertEqual(peer_of(status(b), a)["peer_role"], "primary")
        self.assertGreaterEqual(peer_of(sa, b)["reconnects"], 1)

    def test_6_two_primaries_refused_by_handshake(self):
        """B, cut off from primary A, keeps its disk UpToDate and is
        promoted without --force while A stays primary: when the link comes
        back the handshake refuses the connection ("both primary") and
        neither side replicates; after B is demoted they connect again,
        both UpToDate (neither wrote while apart)."""
        p = self.pair
        a, b = p.a, p.b
        p.ensure(primary=a)
        self.c.cut_link(a, b)
        try:
            wait_until(lambda: peer_of(status(b), a)["conn_state"] != "connected", LOST_S,
                       "B to notice the lost link")
            sb = status(b)
            self.assertEqual(sb["disk_state"], "up_to_date", short(sb))
            r = b.run(f"{b.rblkadm} -c {CONF} primary {RES}", check=False)
            self.assertEqual(r.rc, 0, f"B (up_to_date, its primary lost) must be promoted "
                                      f"without --force: {r.err.strip()!r}")
            self.assertEqual(status(b)["role"], "primary")
        finally:
            self.c.restore_link(a, b)
        deadline = (PING_TIMEOUT_MS + CONNECT_TIMEOUT_MS + RECONNECT_MAX_MS) / 1000 + 20

        def refused():
            sa, sb = status(a), status(b)
            errs = [peer_of(sa, b)["last_error"], peer_of(sb, a)["last_error"]]
            return any("both primary" in e for e in errs) and (sa, sb, errs)
        sa, sb, errs = wait_until(refused, deadline, "a 'both primary' refusal")
        log(f"refused: A {short(sa)}; B {short(sb)}; last errors {errs}")
        self.assertEqual((sa["role"], sb["role"]), ("primary", "primary"))
        self.assertNotEqual(peer_of(sa, b)["conn_state"], "connected")
        self.assertNotEqual(peer_of(sb, a)["conn_state"], "connected")

        r = b.run(f"{b.rblkadm} -c {CONF} secondary {RES}")
        self.assertEqual(r.rc, 0)
        sa, sb = p.wait_connected(deadline)
        self.assertEqual(peer_of(sb, a)["peer_role"], "primary")
        self.assertEqual(sb["role"], "secondary")

    def test_7_returning_peer_resynced(self):
        """B's device goes down while A writes, then comes back up while
        the link is cut: its metadata says consistent, not known to be
        current: Consistent, promotion refused (ESTALE), its stale data
        never served.  Once connected A resyncs the 4 MiB B missed; then
        the data areas are identical and B can take over (promoted
        without --force once A is secondary)."""
        p = self.pair
        a, b = p.a, p.b
        p.ensure(primary=a)
        adm(b, f"down {RES}")
        a.run(f"dd if=/dev/urandom of={DEV} bs=1M count=4 oflag=direct")
        self.c.cut_link(a, b)
        try:
            adm(b, f"up {RES}")
            sb = status(b)
            log(f"B up while cut off: {short(sb)}")
            self.assertEqual(sb["disk_state"], "consistent", short(sb))
            self.assertNotEqual(peer_of(sb, a)["conn_state"], "connected", short(sb))
            r = adm(b, f"primary {RES}", check=False)
            self.assertEqual(r.rc, 1, r.out + r.err)
            self.assertIn("Stale file handle", r.err)
            self.assertEqual(status(b)["role"], "secondary")
            pa = peer_of(status(a), b)
            self.assertGreaterEqual(pa["out_of_sync_bytes"], 4 << 20,
                                    f"A must record the 4 MiB B missed: {pa}")
            self.assertNotEqual(disk_sha256(a), disk_sha256(b), "B did miss the writes")
        finally:
            self.c.restore_link(a, b)
        sa, sb = p.wait_connected_any(RECONNECT_S)
        log(f"B back: A {short(sa)}; B {short(sb)}")
        self.assert_resynced("B back", a, b)
        adm(a, f"secondary {RES}")
        wait_until(lambda: peer_of(status(b), a)["peer_role"] == "secondary", 30,
                   "B to see A secondary")
        r = adm(b, f"primary {RES}", check=False)
        self.assertEqual(r.rc, 0, f"B, resynced, must be promoted without --force: {r.err}")
        adm(b, f"secondary {RES}")

    def test_8_split_brain_refused(self):
        """Cut apart, A (primary) writes and B, promoted without --force,
        writes too, then is demoted: when the link comes back both nodes
        refuse the connection as a split-brain (StandAlone, last error
        naming it, split_brain in status) and do not try again."""
        p = self.pair
        a, b = p.a, p.b
        p.ensure(primary=a)
        self.c.cut_link(a, b)
        try:
            wait_until(lambda: peer_of(status(a), b)["conn_state"] != "connected" and
                       peer_of(status(b), a)["conn_state"] != "connected", LOST_S,
                       "A and B to notice the lost link")
            a.run(f"dd if=/dev/urandom of={DEV} bs=1M count=1 oflag=direct status=none")
            adm(b, f"primary {RES}")
            b.run(f"dd if=/dev/urandom of={DEV} bs=1M count=1 seek=8 oflag=direct status=none")
            adm(b, f"secondary {RES}")
        finally:
            self.c.restore_link(a, b)

        def split():
            sts = (status(a), status(b))
            ps = (peer_of(sts[0], b), peer_of(sts[1], a))
            return all(q["conn_state"] == "standalone" and q.get("split_brain") is True and
                       "split-brain" in q["last_error"] for q in ps) and (sts, ps)
        try:
            (sa, sb), (pa, pb) = wait_until(split, RECONNECT_S, "a split-brain on both sides")
        except AssertionError:
            sa, sb = status(a), status(b)
            log(f"no split-brain on both sides: A {short(sa)} {peer_of(sa, b)}; "
                f"B {short(sb)} {peer_of(sb, a)}")
            raise
        log(f"split-brain: A {short(sa)} last error {pa['last_error']!r}; "
            f"B {short(sb)} last error {pb['last_error']!r}")
        self.assertEqual((sa["role"], sb["role"]), ("primary", "secondary"))
        # StandAlone: no further attempt, not within a whole reconnect cycle
        r0 = (pa["reconnects"], pb["reconnects"])
        t_end = time.monotonic() + (RECONNECT_MAX_MS + CONNECT_TIMEOUT_MS) / 1000 + 2
        while time.monotonic() < t_end:
            qa, qb = peer_of(status(a), b), peer_of(status(b), a)
            self.assertEqual((qa["conn_state"], qb["conn_state"]), ("standalone", "standalone"))
            self.assertEqual((qa["reconnects"], qb["reconnects"]), r0)
            time.sleep(1)

    def test_9_kernel_log_is_scanned(self):
        """A WARNING line in a guest's kernel log is caught by the rig's
        console scan (so a real one would fail the test that caused it)."""
        a = self.pair.a
        marker = f"WARNING: rblk-e2e log scan probe {time.time_ns()}"
        a.run(f"echo '<4>{marker}' > /dev/kmsg")
        wait_until(lambda: any(marker in l for _, l in self.c.log_problems()), 30,
                   "the probe line to be reported by the log scan")
        self.c.allow_log(re.escape(marker))
        self.assertFalse(any(marker in l for _, l in self.c.log_problems()))
        type(self).seen_problems = len(self.c.log_problems())


if __name__ == "__main__":
    unittest.main()
