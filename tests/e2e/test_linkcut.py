# SPDX-License-Identifier: GPL-2.0
"""The link between the two nodes fails while the primary writes, and comes
back; plus a check that the guests' kernel logs are really scanned.

A cluster of its own per kernel: after the cut the two disks differ (no
resync yet), which the other tests must not inherit.
"""
import re
import time
import unittest

from e2elib import (CONF, CONNECT_TIMEOUT_MS, FIO_DIR, PING_TIMEOUT_MS, RECONNECT_MAX_MS, RES,
                    ClusterTest, adm, disk_sha256, log, peer_of, per_kernel, short, status,
                    wait_until)


@per_kernel
class LinkCut(ClusterTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pair.setup()
        cls.pair.up()

    def test_5_cut_link_during_writes(self):
        """A keeps writing while the link is down; both sides see the
        connection lost and B's disk Outdated; after the link is restored
        they reconnect within ping timeout + reconnect backoff."""
        p = self.pair
        a, b = p.a, p.b
        p.ensure(primary=a)
        job = a.spawn(f"fio --output-format=json {FIO_DIR}/linkcut.fio", timeout=600)
        try:
            wait_until(lambda: status(a)["stats"]["writes"] >= 200, 60,
                       "fio writing on A")
            self.assertFalse(job.done, "fio ended before the link was cut")
            t_cut = time.monotonic()
            self.c.cut_link(a, b)
            lost_s = PING_TIMEOUT_MS / 1000 + 20

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
            return (peer_of(st, a)["conn_state"] == "connecting"
                    and st["disk_state"] == "outdated") and st
        sb = wait_until(b_lost, lost_s, "B: connecting, disk outdated")
        sa = status(a)
        pa = peer_of(sa, b)
        log(f"after the cut: A {short(sa)}; B {short(sb)}")
        self.assertEqual(pa["conn_state"], "connecting")
        self.assertNotEqual(pa["peer_disk_state"], "up_to_date")
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
        # No resync yet: B missed writes and stays Outdated, in A's view too.
        self.assertEqual(sb["disk_state"], "outdated")
        self.assertNotEqual(peer_of(sa, b)["peer_disk_state"], "up_to_date")
        self.assertEqual(peer_of(sb, a)["peer_role"], "primary")
        self.assertGreaterEqual(peer_of(sa, b)["reconnects"], 1)

    def test_6_two_primaries_refused_by_handshake(self):
        """B, cut off, is forced primary while A stays primary: when the link
        comes back the handshake refuses the connection ("both primary") and
        neither side replicates; after B is demoted they connect again."""
        p = self.pair
        a, b = p.a, p.b
        p.wait_connected_any()
        if status(a)["role"] != "primary":
            p.make_primary(a)
        self.c.cut_link(a, b)
        try:
            lost_s = PING_TIMEOUT_MS / 1000 + 20
            wait_until(lambda: peer_of(status(b), a)["conn_state"] != "connected", lost_s,
                       "B to notice the lost link")
            b.run(f"{b.rblkadm} -c {CONF} primary --force {RES}")
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
        p.wait_connected_any(deadline)
        sa, sb = status(a), status(b)
        self.assertEqual(peer_of(sb, a)["peer_role"], "primary")
        self.assertEqual(sb["role"], "secondary")

    def test_7_returning_peer_stays_outdated(self):
        """B's device goes down while A writes, then comes back with
        assume-clean and claims UpToDate: A keeps it Outdated and tells B
        (OUTDATE), so B shows its own disk Outdated and refuses its own
        promotion (ESTALE); B's stale data is never served."""
        p = self.pair
        a, b = p.a, p.b
        p.ensure(primary=a)
        adm(b, f"down {RES}")
        a.run("dd if=/dev/urandom of=/dev/rblk0 bs=1M count=4 oflag=direct")
        adm(b, f"up {RES}")
        sa, sb = p.wait_connected_any()
        log(f"B back: A {short(sa)}; B {short(sb)}")
        self.assertEqual(peer_of(sa, b)["peer_disk_state"], "outdated")
        wait_until(lambda: status(b)["disk_state"] == "outdated", 10,
                   "B to learn from A that it missed writes")
        self.assertNotEqual(disk_sha256(a), disk_sha256(b), "B did miss the writes")
        adm(a, f"secondary {RES}")
        r = adm(b, f"primary {RES}", check=False)
        self.assertEqual(r.rc, 1, r.out + r.err)
        self.assertIn("Stale file handle", r.err)
        self.assertEqual(status(b)["role"], "secondary")

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
