# SPDX-License-Identifier: GPL-2.0
"""Resync after what takes a replica away: a cut link, a power loss of the
secondary, of the primary (failover without --force), of both, a
split-brain resolved by the operator, clean reboots of the secondary, a
replaced (blank) disk under load, a torn superblock; and peers that must be
refused (smaller disk, other logical block size).

One cluster per kernel, two nodes, 64 MiB disks.  Each test ends with both
data areas identical (sha256) and, where fio wrote, fio's verify-only pass
on the final primary.  The resync figures come from the sync source's
kernel log (``resync started, N bytes out of sync`` / ``resync done, N
bytes``) and from rblkadm -j status (out_of_sync_bytes, sync_decision).
"""
import os
import random
import re
import shlex
import time
import unittest

from e2elib import (BITMAP_TARGET, CONF, CONNECT_TIMEOUT_MS, DEV, FIO_DIR, PING_TIMEOUT_MS,
                    RECONNECT_MAX_MS, RES, SOAK, ClusterTest, adm, create_md, disk_sha256, dump_md,
                    in_parallel, log, peer_of, per_kernel, short, status,
                    sync_view, topology, wait_until, write_conf, zero_disk)

MIB = 1 << 20
LOST_S = PING_TIMEOUT_MS / 1000 + 20
RECONNECT_S = (PING_TIMEOUT_MS + CONNECT_TIMEOUT_MS + RECONNECT_MAX_MS) / 1000 + 30
RESYNC_S = 300          # a full resync of 64 MiB under TCG, with margin
SYNCED_S = 90           # from the end of a resync to both views settled
JOB = os.path.join(FIO_DIR, "resync.fio")
# fio's largest block and queue depth bound what was in flight around a
# snapshot of the write counters: per write in flight its bytes + one
# partial 4 KiB block at each end.
SLACK_PER_WRITE = 4096
# A lost peer is also resynced the activity log extents (4 MiB) of writes
# it acknowledged that no flush covered (its disk's volatile cache may have
# lost them): at most the extents of the region fio wrote before.
AL_EXTENT = 4 * MIB


def unflushed_bound(offset, size):
    """Bytes of the activity log extents that cover [offset, offset+size)."""
    first, last = offset // AL_EXTENT, (offset + size - 1) // AL_EXTENT
    return (last - first + 1) * AL_EXTENT


START_RE = re.compile(r"rblk\d+: peer (\d+): resync started, (\d+) bytes out of sync")
DONE_RE = re.compile(r"rblk\d+: peer (\d+): resync done, (\d+) bytes")
AL_RE = re.compile(r"not detached cleanly[^:]*: (\d+) activity log extents")


def fio_env(offset, size, rate="0", bsmax="64k", depth=4):
    return {"RS_OFFSET": str(offset), "RS_SIZE": str(size), "RS_RATE": str(rate),
            "RS_BSMAX": bsmax, "RS_DEPTH": str(depth)}


def fio_cmd(env, *args):
    pre = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    return f"cd /tmp && {pre} fio --output-format=terse {' '.join(args)} {JOB}"


def run_verify(test, node, env, what):
    """fio verify-only of a region written with env, on node: must pass."""
    env = dict(env, RS_RATE="0")
    r = node.run(fio_cmd(env, "--verify_only=1"), check=False, timeout=900)
    test.assertEqual(r.rc, 0, f"{what}: fio verify-only on {node.name} failed (exit {r.rc}):\n"
                              f"{r.out[-1500:]}\n{r.err[-1500:]}")


def resync_lines(node):
    """[(kind, peer, bytes)] of the resync lines in node's kernel log."""
    out = []
    for line in node.dmesg().splitlines():
        m = START_RE.search(line)
        if m:
            out.append(("start", int(m.group(1)), int(m.group(2))))
        m = DONE_RE.search(line)
        if m:
            out.append(("done", int(m.group(1)), int(m.group(2))))
    return out


def flush(node):
    """fsync of the device on node: a flush to its disk and its peers."""
    node.run(f"python3 -c 'import os; os.fsync(os.open(\"{DEV}\", os.O_WRONLY))'")


def dd(node, off_mib, mib, src="/dev/urandom"):
    node.run(f"dd if={src} of={DEV} bs=1M count={mib} seek={off_mib} oflag=direct status=none",
             timeout=600)


@per_kernel
class ResyncTest(ClusterTest):
    DISK_MIB = 64
    # the longest and the refusals: on one kernel in make check, on both
    # in make soak
    ONE_KERNEL = {"test_6_secondary_reboots": "6.1", "test_7_writes_during_full_sync": "6.1",
                  "test_2_secondary_power_loss": "6.12",
                  "test_3_primary_power_loss_failover_without_force": "6.1",
                  "test_4_both_power_loss": "6.12", "test_8_torn_metadata": "6.1",
                  "test_9_size_and_block_size_refused": "6.12",
                  "test_10_fixed_resync_rate": "6.12", "test_5_split_brain": "6.12",
                  "test_11_secondary_loses_its_write_cache": "6.1",
                  "test_12_failover_after_a_cut_is_no_split_brain": "6.12"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pair.setup()
        cls.pair.bring_up()
        cls.size = status(cls.pair.a)["size_sectors"] * 512

    # --- helpers -------------------------------------------------------

    def setUp(self):
        """What an earlier (failed) test left behind is undone first: a cut
        link restored, a powered-off node booted with the module loaded."""
        super().setUp()
        for (i, j) in list(self.c.cut):
            self.c.restore_link(i, j)
        for n in self.pair.nodes:
            if not n.up:
                self.c.start(n)
                self.node_boot(n)

    def ready(self, primary=None):
        """Like e2elib's Pair.ensure, strictly and without its long wait: the
        pair connected, established, both up_to_date in both views within
        20 s, else fresh disks (reset); then `primary` primary."""
        p = self.pair
        try:
            self.wait_synced(20)
        except Exception:  # noqa: BLE001  (a node without r0: CommandError)
            log("pair not connected/established/up_to_date: reset to fresh disks")
            p.reset()
        p.ensure(primary=primary)

    def node_boot(self, n):
        """After restart(): module, topology file, rblkadm up."""
        n.insmod()
        write_conf(n, topology(self.pair.nodes))

    def wait_synced(self, timeout_s=SYNCED_S):
        """Both connected, established, both disks up_to_date in both views
        (an AssertionError with both views otherwise)."""
        a, b = self.pair.nodes
        last = []

        def ok():
            sts = [status(a), status(b)]
            last[:] = sts
            for n, st in zip((a, b), sts):
                p = peer_of(st, self.pair.other(n))
                if p["conn_state"] != "connected" or p["replication_state"] != "established" \
                        or st["disk_state"] != "up_to_date" or \
                        p["peer_disk_state"] != "up_to_date":
                    return None
            return sts
        try:
            return wait_until(ok, timeout_s, "both connected, established and up_to_date")
        except AssertionError:
            views = "; ".join(
                f"{n.name}: {st['role']}/{st['disk_state']} md_flags {st.get('md_flags')}, "
                f"view of peer: " + ", ".join(
                    f"{k}={peer_of(st, self.pair.other(n)).get(k)!r}" for k in
                    ("conn_state", "peer_role", "peer_disk_state", "replication_state",
                     "sync_decision", "out_of_sync_bytes", "last_error"))
                for n, st in zip((a, b), last))
            raise AssertionError(f"not both connected, established and up_to_date in both "
                                 f"views after {timeout_s} s: {views}") from None

    def watch_resync(self, src, tgt, n_before, timeout_s=RESYNC_S):
        """Wait for the end of the resync src -> tgt after src's kernel log
        had n_before resync lines; returns (started bytes, done bytes,
        seconds from now to the end)."""
        t0 = time.monotonic()

        def new_done():
            lines = resync_lines(src)[n_before:]
            return [ln for ln in lines if ln[1] == tgt.id and ln[0] == "done"] and lines
        lines = wait_until(new_done, timeout_s, f"{src.name}: resync to {tgt.name} done",
                           interval_s=1)
        dt = time.monotonic() - t0
        starts = [ln[2] for ln in lines if ln[0] == "start" and ln[1] == tgt.id]
        dones = [ln[2] for ln in lines if ln[0] == "done" and ln[1] == tgt.id]
        return (starts[0] if starts else None), dones[-1], dt

    def assert_equal_disks(self, what):
        a, b = self.pair.nodes
        sa, sb = in_parallel(lambda: disk_sha256(a), lambda: disk_sha256(b))
        self.assertEqual(sa, sb, f"{what}: data areas differ: {a.name} {sa} {b.name} {sb}")

    def snapshot(self, n):
        st = status(n)
        return st["stats"]["writes"], st["stats"]["write_bytes"]

    # --- tests ---------------------------------------------------------

    def test_1_linkcut_resyncs_what_was_written(self):
        p = self.pair
        a, b = p.nodes
        self.ready(primary=a)
        env = fio_env(0, 8 * MIB, rate="512k", bsmax="64k", depth=4)
        base = status(a)["stats"]["writes"]
        job = a.spawn(fio_cmd(env), timeout=900)
        try:
            wait_until(lambda: status(a)["stats"]["writes"] >= base + 20 or job.done, 60,
                       "fio writing on A")
            if job.done:
                self.fail(f"fio ended before the cut: {job.wait()!r}")
            w0, b0 = self.snapshot(a)
            t_cut = time.monotonic()
            self.c.cut_link(a, b)
            wait_until(lambda: peer_of(status(a), b)["conn_state"] != "connected", LOST_S,
                       "A to notice the cut")
            # keep the link cut at least 10 s and until fio is done
            wait_until(lambda: job.done and time.monotonic() - t_cut >= 10, 300,
                       "fio done and 10 s of cut")
            res = job.wait()
        finally:
            if not job.done:
                job.kill()
        self.assertEqual(res.rc, 0, f"fio on A failed during the cut: {res.err[-1500:]}")
        w1, b1 = self.snapshot(a)
        sa = status(a)
        oos = peer_of(sa, b)["out_of_sync_bytes"]
        dw, db = w1 - w0, b1 - b0
        bound = db + SLACK_PER_WRITE * dw + 4 * (65536 + SLACK_PER_WRITE) + \
            unflushed_bound(0, 8 * MIB)
        cut_s = time.monotonic() - t_cut
        self.fig(f"cut {cut_s:.1f} s; writes after cut {dw} ({db} bytes); A's out_of_sync "
                 f"for B before reconnect {oos}; bound {bound}; device {self.size}")
        self.assertTrue(isinstance(oos, int) and oos > 0,
                        f"A's out_of_sync_bytes for B before reconnect: {oos!r}, "
                        f"{dw} writes ({db} bytes) since the cut")
        n0 = len(resync_lines(a))
        t_restore = time.monotonic()
        self.c.restore_link(a, b)
        started, done, _ = self.watch_resync(a, b, n0, RECONNECT_S + RESYNC_S)
        sts = self.wait_synced()
        self.fig(f"resync started {started} done {done} bytes, {time.monotonic() - t_restore:.1f}"
                 f" s from restore to established")
        self.assertLessEqual(oos, bound,
                             f"out_of_sync {oos} > written after cut {db} + 4096 x {dw} writes "
                             f"+ in-flight slack + unflushed extents = {bound}")
        self.assertLess(oos, self.size // 2, f"out_of_sync {oos} >= half the device {self.size}")
        self.assertIsNotNone(started, "no 'resync started' line on A")
        self.assertLessEqual(started, oos,
                             f"resync started with {started} bytes, more than out_of_sync at "
                             f"reconnect {oos}")
        self.assertEqual(done, started, f"resync done {done} != started {started}")
        self.assertEqual(sync_view(peer_of(sts[1], a))[1], BITMAP_TARGET,
                         f"B's sync decision: {peer_of(sts[1], a)}")
        self.assert_equal_disks("after the link cut")
        run_verify(self, a, env, "after the link cut")

    def test_2_secondary_power_loss(self):
        p = self.pair
        a, b = p.nodes
        self.ready(primary=a)
        env = fio_env(0, 8 * MIB, rate="1m", bsmax="64k", depth=4)
        base = status(a)["stats"]["writes"]
        job = a.spawn(fio_cmd(env), timeout=900)
        try:
            wait_until(lambda: status(a)["stats"]["writes"] >= base + 20 or job.done, 60,
                       "fio writing on A")
            w0, b0 = self.snapshot(a)
            self.c.kill(b)
            res = job.wait(timeout=600)
        finally:
            if not job.done:
                job.kill()
        self.assertEqual(res.rc, 0, f"fio on A failed with B killed: {res.err[-1500:]}")
        dd(a, 32, 4)   # more, B down
        w1, b1 = self.snapshot(a)
        dw, db = w1 - w0, b1 - b0
        oos = peer_of(status(a), b)["out_of_sync_bytes"]
        self.c.restart(b)
        self.node_boot(b)
        n0 = len(resync_lines(a))
        t0 = time.monotonic()
        adm(b, f"up {RES}")
        started, done, _ = self.watch_resync(a, b, n0, RECONNECT_S + RESYNC_S)
        sts = self.wait_synced()
        bound = db + SLACK_PER_WRITE * dw + 4 * (65536 + SLACK_PER_WRITE) + \
            unflushed_bound(0, 8 * MIB)
        self.fig(f"written after kill {db} bytes in {dw} writes; out_of_sync {oos}; "
                 f"resync {started}/{done} bytes; up to established {time.monotonic() - t0:.1f} s")
        self.assertEqual(sync_view(peer_of(sts[1], a))[1], BITMAP_TARGET,
                         f"B's sync decision after its power loss: {peer_of(sts[1], a)}")
        self.assertIsNotNone(started, "no 'resync started' line on A")
        self.assertGreaterEqual(started, 4 * MIB, f"resync {started} < the 4 MiB dd after kill")
        self.assertLessEqual(started, bound, f"resync {started} > written since kill {db} + "
                                             f"4096 x {dw} + slack + unflushed extents = "
                                             f"{bound}")
        self.assert_equal_disks("after B's power loss")
        run_verify(self, a, env, "after B's power loss")

    def test_3_primary_power_loss_failover_without_force(self):
        p = self.pair
        a, b = p.nodes
        self.ready(primary=a)
        env = fio_env(0, 8 * MIB, rate="0", bsmax="64k", depth=4)
        r = a.run(fio_cmd(env), check=False, timeout=900)
        self.assertEqual(r.rc, 0, f"fio on A: {r.err[-1500:]}")
        # acknowledged; now writes in flight in another region, then power loss
        env2 = fio_env(16 * MIB, 8 * MIB, rate="512k", bsmax="64k", depth=4)
        base = status(a)["stats"]["writes"]
        job = a.spawn(fio_cmd(env2), timeout=900)
        try:
            wait_until(lambda: status(a)["stats"]["writes"] >= base + 30 or job.done, 60,
                       "fio writing on A")
            self.c.kill(a)
        finally:
            try:
                job.kill()
            except Exception:
                pass
        sb = wait_until(lambda: (lambda st: peer_of(st, a)["conn_state"] != "connected"
                                 and st)(status(b)), LOST_S, "B to lose A")
        self.assertEqual(sb["disk_state"], "up_to_date", f"B after A's power loss: {short(sb)}")
        r = adm(b, f"primary {RES}", check=False)
        self.assertEqual(r.rc, 0, f"primary without --force on B: exit {r.rc} {r.err.strip()!r}")
        run_verify(self, b, env, "data acknowledged before the kill, on B")
        dd(b, 40, 4)
        b_wrote = 4 * MIB
        self.c.restart(a)
        self.node_boot(a)
        n0 = len(resync_lines(b))
        t0 = time.monotonic()
        adm(a, f"up {RES}")
        al = [int(m.group(1)) for m in AL_RE.finditer(a.dmesg())]
        extents = al[-1] if al else 0
        started, done, dt = self.watch_resync(b, a, n0, RECONNECT_S + RESYNC_S)
        bound = extents * 4 * MIB + b_wrote
        self.fig(f"A's AL extents {extents}; B wrote {b_wrote}; resync {started}/{done} bytes "
                 f"(bound {bound}, device {self.size}); restart-up to resync end "
                 f"{time.monotonic() - t0:.1f} s")
        # every outcome is checked, then all wrong ones are reported together
        wrong = []
        try:
            sts = self.wait_synced()
            dec = peer_of(sts[0], b)["sync_decision"]
            if dec not in (BITMAP_TARGET, "full_target"):
                wrong.append(f"A's sync decision toward B {dec!r}, expected a target decision")
        except AssertionError as e:
            wrong.append(str(e))
        sa, sb = in_parallel(lambda: disk_sha256(a), lambda: disk_sha256(b))
        if sa != sb:
            wrong.append(f"data areas differ: {a.name} {sa} {b.name} {sb}")
        try:
            run_verify(self, b, env, "after the resync, on B")
        except AssertionError as e:
            wrong.append(str(e))
        if started is None or started > bound or started >= self.size // 2:
            wrong.append(f"resync to the old primary {started} bytes > AL extents {extents} x "
                         f"4 MiB + B's writes {b_wrote} = {bound} (device {self.size})")
        if wrong:
            self.fail(f"{len(wrong)} wrong outcome(s):\n  " + "\n  ".join(wrong))

    def test_4_both_power_loss(self):
        p = self.pair
        a, b = p.nodes
        self.ready(primary=a)
        env = fio_env(0, 8 * MIB, rate="512k", bsmax="64k", depth=4)
        base = status(a)["stats"]["writes"]
        job = a.spawn(fio_cmd(env), timeout=900)
        try:
            wait_until(lambda: status(a)["stats"]["writes"] >= base + 30 or job.done, 60,
                       "fio writing on A")
            in_parallel(lambda: self.c.kill(a), lambda: self.c.kill(b))
        finally:
            try:
                job.kill()
            except Exception:
                pass
        in_parallel(lambda: self.c.restart(a), lambda: self.c.restart(b))
        for n in (a, b):
            self.node_boot(n)
        self.c.cut_link(a, b)   # attach without connecting
        try:
            for n in (a, b):
                adm(n, f"up {RES}")
            sa, sb = status(a), status(b)
            self.fig(f"after attach: A {sa['disk_state']}, B {sb['disk_state']}")
            for n, st in ((a, sa), (b, sb)):
                self.assertIn(st["disk_state"], ("consistent", "outdated", "inconsistent"),
                              f"{n.name} right after attach, before connecting: {short(st)}")
        finally:
            self.c.restore_link(a, b)
        na, nb = len(resync_lines(a)), len(resync_lines(b))
        t0 = time.monotonic()
        sts = p.wait_connected_any(RECONNECT_S)
        views = [sync_view(peer_of(sts[0], b)), sync_view(peer_of(sts[1], a))]
        sts = self.wait_synced()
        la, lb = resync_lines(a)[na:], resync_lines(b)[nb:]
        self.fig(f"connected views A {views[0]} B {views[1]}; resync lines A {la} B {lb}; "
                 f"{time.monotonic() - t0:.1f} s to established")
        dec = {peer_of(sts[0], b)["sync_decision"], peer_of(sts[1], a)["sync_decision"]}
        self.assertIn(dec, ({"none"}, {"bitmap_source", "bitmap_target"},
                            {"full_source", "full_target"}),
                      f"the two decisions must mirror: A {peer_of(sts[0], b)}, "
                      f"B {peer_of(sts[1], a)}")
        self.assertFalse(la and lb, f"both nodes were sync source: A {la} B {lb}")
        self.assert_equal_disks("after both lost power")

    def test_5_split_brain(self):
        p = self.pair
        a, b = p.nodes
        self.ready(primary=None)
        self.c.cut_link(a, b)
        try:
            wait_until(lambda: peer_of(status(a), b)["conn_state"] != "connected" and
                       peer_of(status(b), a)["conn_state"] != "connected", LOST_S,
                       "both to lose the link")
            adm(a, f"primary --force {RES}")
            adm(b, f"primary --force {RES}")
            dd(a, 0, 2)
            dd(b, 8, 2)
            adm(a, f"secondary {RES}")
            adm(b, f"secondary {RES}")
        finally:
            self.c.restore_link(a, b)

        def split():
            ps = (peer_of(status(a), b), peer_of(status(b), a))
            return all(q["conn_state"] != "connected" and q["split_brain"] is True and
                       "split-brain" in q["last_error"] for q in ps) and ps
        try:
            pa, pb = wait_until(split, RECONNECT_S, "split-brain on both sides")
        except AssertionError:
            raise AssertionError(f"no split-brain on both: A {peer_of(status(a), b)}; "
                                 f"B {peer_of(status(b), a)}")
        self.fig(f"split-brain: A {pa['conn_state']} {pa['last_error']!r}; "
                 f"B {pb['conn_state']} {pb['last_error']!r}")
        n0 = len(resync_lines(a))
        t0 = time.monotonic()
        adm(b, f"connect --discard-my-data {RES}")
        adm(a, f"connect {RES}")
        started, done, _ = self.watch_resync(a, b, n0, RECONNECT_S + RESYNC_S)
        sts = self.wait_synced()
        self.fig(f"resolution resync {started}/{done} bytes, {time.monotonic() - t0:.1f} s")
        self.assertIn(peer_of(sts[1], a)["sync_decision"], (BITMAP_TARGET, "full_target"),
                      f"B after --discard-my-data: {peer_of(sts[1], a)}")
        self.assert_equal_disks("after the split-brain resolution")

    def test_6_secondary_reboots(self):
        p = self.pair
        a, b = p.nodes
        self.ready(primary=a)

        def b_down():
            adm(b, f"down {RES}")
            b.rmmod()
            b.insmod()

        def b_up_resync(written, what):
            n0 = len(resync_lines(a))
            t0 = time.monotonic()
            adm(b, f"up {RES}")
            started, done, dt = self.watch_resync(a, b, n0, RECONNECT_S + RESYNC_S)
            sts = self.wait_synced()
            self.fig(f"{what}: wrote {written}, resync {started}/{done} bytes, "
                     f"{time.monotonic() - t0:.1f} s")
            self.assertEqual(peer_of(sts[1], a)["sync_decision"], BITMAP_TARGET,
                             f"{what}: B's decision {peer_of(sts[1], a)}")
            return started

        def idle(i):
            # B rebooted while idle, A writes 3 MiB meanwhile
            b_down()
            dd(a, 0, 3)
            s = b_up_resync(3 * MIB, f"reboot {i} (idle)")
            self.assertEqual(s, 3 * MIB, f"reboot {i}: resync {s} bytes, A wrote 3 MiB")

        def during(i):
            # B goes down as soon as its kernel log shows the bitmap-target
            # decision (one command on B), while reads on A keep the resync
            # at its throttled rate (2 in flight)
            b_down()
            dd(a, 8, 40)
            n0 = len(resync_lines(a))
            load = a.spawn(f"fio --name=rd --filename={DEV} --rw=randread --bs=4k --direct=1 "
                           f"--ioengine=libaio --iodepth=4 --runtime=30 --time_based "
                           f"--output-format=terse", timeout=120)
            try:
                # the kernel log (cleared first) is polled, not rblkadm status:
                # a status call takes about 0.25 s under TCG, the resync ~1 s
                b.run(f"dmesg -C; {b.rblkadm} -c {CONF} up {RES} && "
                      f"for i in $(seq 500); do dmesg | grep -q 'generations compared: "
                      f"bitmap-target' && break; sleep 0.02; done; "
                      f"{b.rblkadm} -c {CONF} down {RES}", timeout=120)
            finally:
                if not load.done:
                    load.kill()
            b.rmmod()
            b.insmod()
            first = resync_lines(a)[n0:]
            dd(a, 50, 1)
            s = b_up_resync(41 * MIB, f"reboot {i} (during resync)")
            self.fig(f"reboot {i}: first attempt {first}")
            self.assertTrue(first and first[0][0] == "start",
                            f"reboot {i}: no resync started before B went down: A's lines "
                            f"{first}")
            if any(k == "done" for k, _, _ in first):
                # the resync won the race against the down: only the later 1 MiB
                self.assertEqual(s, 1 * MIB, f"reboot {i}: the first resync ended ({first}); "
                                 f"the next one moved {s} bytes, A wrote 1 MiB since")
            else:
                self.assertTrue(1 * MIB <= s < 41 * MIB,
                                f"reboot {i}: resumed resync {s} bytes, expected 1 MiB .. "
                                f"< 41 MiB (40 MiB interrupted after {first}, 1 MiB more)")

        def after(i):
            # B rebooted right after a resync ended (b_up_resync returns
            # within a second of the end when the state is settled)
            b_down()
            dd(a, 40, 2)
            s = b_up_resync(2 * MIB, f"reboot {i} (right after a resync)")
            self.assertEqual(s, 2 * MIB, f"reboot {i}: resync {s} bytes, A wrote 2 MiB")

        kinds = [idle, during, after]
        if SOAK:
            # ten reboots: the three kinds once, then seven chosen at random
            seed = int(os.environ.get("RBLK_SEED", time.time_ns() % 1000000))
            self.fig(f"soak: seed {seed} (RBLK_SEED={seed} repeats the order)")
            rnd = random.Random(seed)
            kinds += [rnd.choice((idle, during, after)) for _ in range(7)]
        for i, kind in enumerate(kinds, 1):
            kind(i)
        self.assert_equal_disks(f"after {len(kinds)} reboots of B")

    def test_7_writes_during_full_sync(self):
        p = self.pair
        a, b = p.nodes
        self.ready(primary=a)
        adm(b, f"down {RES}")
        zero_disk(b)
        create_md(b, force=True)
        # about 40 s of fio and 3 reconnect cycles; `make soak`: 120 s and 10
        env = fio_env(0, 24 * MIB, rate="200k" if SOAK else "600k", bsmax="128k", depth=64)
        cycles = 10 if SOAK else 3
        n0 = len(resync_lines(a))
        base = status(a)["stats"]["writes"]
        job = a.spawn(fio_cmd(env), timeout=900)
        try:
            wait_until(lambda: status(a)["stats"]["writes"] >= base + 20 or job.done, 60,
                       "fio writing on A")
            adm(b, f"up {RES}")
            wait_until(lambda: peer_of(status(a), b)["replication_state"] == "sync_source",
                       RECONNECT_S, "A sync source (full sync)", interval_s=0.2)
            pb = peer_of(status(b), a)
            self.fig(f"B joined: {sync_view(pb)}")
            self.assertEqual(pb["sync_decision"], "full_target", f"B fresh replica: {pb}")
            for i in range(cycles):
                time.sleep(2)
                adm(b, f"disconnect {RES}")
                adm(b, f"connect {RES}")
                wait_until(lambda: peer_of(status(a), b)["conn_state"] == "connected",
                           RECONNECT_S, f"cycle {i + 1}: reconnected")
            res = job.wait(timeout=600)
        finally:
            if not job.done:
                job.kill()
        self.assertEqual(res.rc, 0, f"fio under full sync: {res.err[-1500:]}")
        self.wait_synced()
        lines = resync_lines(a)[n0:]
        self.fig(f"resync lines on A: {lines}")
        self.assert_equal_disks("after full sync under load")
        run_verify(self, a, env, "after full sync under load")

    def corrupt_copy(self, node, md, copy):
        off = md["md_offset_sectors"] * 512 + copy * 4096 + 2000
        node.run(f"dd if=/dev/urandom of={node.disk} bs=1 count=100 seek={off} conv=notrunc,fsync "
                 f"status=none && blockdev --flushbufs {node.disk}")

    def test_8_torn_metadata(self):
        p = self.pair
        a, b = p.nodes
        self.ready(primary=None)
        p.down()
        md = dump_md(b)
        self.assertEqual(md["md_valid_copies"], [0, 1], f"B's metadata before: {md}")
        newest = md["md_seq"] % 2
        self.corrupt_copy(b, md, newest)
        md2 = dump_md(b)
        self.fig(f"md seq {md['md_seq']} offset {md['md_offset_sectors']}; corrupted copy "
                 f"{newest}; valid copies now {md2['md_valid_copies']}")
        self.assertEqual(md2["md_valid_copies"], [1 - newest],
                         f"after tearing copy {newest}: {md2}")
        adm(b, f"up {RES}")
        sb = status(b)
        self.assertEqual(sb["disk_state"], "consistent", f"B attached from the other copy: "
                                                         f"{short(sb)}")
        adm(a, f"up {RES}")
        self.wait_synced(RECONNECT_S)
        self.assert_equal_disks("after the torn superblock")
        # both copies
        p.down()
        md = dump_md(b)
        for cp in (0, 1):
            self.corrupt_copy(b, md, cp)
        r = adm(b, f"up {RES}", check=False)
        self.fig(f"both copies corrupt: up exit {r.rc}: {r.err.strip()!r}")
        self.assertEqual(r.rc, 1, f"up with both copies corrupt: exit {r.rc} {r.err!r}")
        self.assertIn("metadata", r.err, f"error message: {r.err!r}")
        adm(b, f"down {RES}", check=False)
        create_md(b, force=True)
        n0 = len(resync_lines(a))
        adm(a, f"up {RES}")
        adm(b, f"up {RES}")
        started, done, _ = self.watch_resync(a, b, n0, RECONNECT_S + RESYNC_S)
        self.wait_synced()
        self.fig(f"full sync after create-md --force: {started}/{done}")
        self.assert_equal_disks("after re-creating B's metadata")

    def refused(self, b_disk_cmd, reason, what):
        p = self.pair
        a, b = p.nodes
        self.ready(primary=None)
        adm(b, f"down {RES}")
        loop = b.run(b_disk_cmd).out.strip()
        try:
            write_conf(b, topology(p.nodes, disk=loop))
            create_md(b, force=True)
            adm(b, f"up {RES}")

            def both():
                pa, pb = peer_of(status(a), b), peer_of(status(b), a)
                return (pa["conn_state"] != "connected" and pb["conn_state"] != "connected" and
                        reason in pa["last_error"] and reason in pb["last_error"]) and (pa, pb)
            try:
                pa, pb = wait_until(both, RECONNECT_S, f"{what}: refusal on both sides")
            except AssertionError:
                raise AssertionError(f"{what}: A {peer_of(status(a), b)}; "
                                     f"B {peer_of(status(b), a)}")
            self.fig(f"{what}: A {pa['last_error']!r}; B {pb['last_error']!r}")
        finally:
            adm(b, f"down {RES}", check=False)
            b.run(f"losetup -d {loop}; rm -f /tmp/rs-small.img", check=False)
            write_conf(b, topology(p.nodes))
        adm(b, f"up {RES}")
        self.wait_synced(RECONNECT_S)
        self.assert_equal_disks(what)

    def test_9_size_and_block_size_refused(self):
        self.refused("modprobe loop; truncate -s 48M /tmp/rs-small.img && "
                     "losetup -f --show /tmp/rs-small.img", "size", "smaller disk")
        self.refused(f"modprobe loop; truncate -s {self.DISK_MIB}M /tmp/rs-small.img && "
                     "losetup -f --show --sector-size 4096 /tmp/rs-small.img", "block",
                     "4096-byte blocks")

    def test_10_fixed_resync_rate(self):
        """A fixed resync-rate-kib-per-s holds the resync to that rate: set
        on the running primary by ``up`` with a changed file (the peer is
        configured again), 16 MiB missed by B take at least 3/4 of
        16 MiB / rate, status never reports much more than the rate, and
        the controller's settings show in status."""
        p = self.pair
        a, b = p.nodes
        rate_kib = 4096
        mib = 16
        self.ready(primary=a)
        flush(a)    # B lacks nothing it could lose with its cache: only what follows
        adm(b, f"down {RES}")
        dd(a, 8, mib)
        write_conf(a, topology(p.nodes, options={"resync-rate-kib-per-s": rate_kib}))
        try:
            adm(a, f"up {RES}")
            pa = peer_of(status(a), b)
            self.assertEqual((pa["resync_rate_kib_per_s"], pa["resync_latency_ms"]),
                             (rate_kib, 50), f"A's controller settings for B: {pa}")
            n0 = len(resync_lines(a))
            adm(b, f"up {RES}")
            seen = []

            def sample():
                pa = peer_of(status(a), b)
                if pa["replication_state"] == "sync_source":
                    seen.append((pa["resync_rate_bytes_per_s"], pa["resync_window"]))
                return [line for line in resync_lines(a)[n0:] if line[0] == "done"]
            wait_until(sample, RECONNECT_S + RESYNC_S, "A: resync to B done", interval_s=0.5)
            t = [float(m.group(1)) for m in re.finditer(
                r"^\[\s*(\d+\.\d+)\] rblk\d+: peer \d+: resync (?:started|done)",
                a.dmesg(), re.M)][-2:]
            started, done = [x[2] for x in resync_lines(a)[n0:]][-2:]
            self.wait_synced()
        finally:
            write_conf(a, topology(p.nodes))
            adm(a, f"up {RES}")
        dt = t[1] - t[0]
        peak = max((r for r, _ in seen if r), default=0)
        self.fig(f"fixed {rate_kib} KiB/s: {done} bytes in {dt:.2f} s "
                 f"({done / max(dt, 0.001) / 1024:.0f} KiB/s), peak status rate "
                 f"{peak / 1024:.0f} KiB/s, {len(seen)} samples")
        self.assertEqual(started, done, f"resync started {started} != done {done}")
        self.assertGreaterEqual(done, mib * MIB, f"resync moved {done} bytes < {mib} MiB")
        self.assertLessEqual(done, (mib + 1) * MIB,
                             f"resync moved {done} bytes for {mib} MiB written")
        self.assertGreaterEqual(dt, 0.75 * done / (rate_kib * 1024),
                                f"{done} bytes in {dt:.2f} s: faster than {rate_kib} KiB/s")
        self.assertLessEqual(peak, 1.3 * rate_kib * 1024,
                             f"status reported {peak} bytes/s with a fixed {rate_kib} KiB/s")
        self.assertTrue(all(w == 32 for _, w in seen), f"fixed rate: window {seen}")
        self.wait_synced()
        self.assert_equal_disks("after the fixed-rate resync")

    def test_11_secondary_loses_its_write_cache(self):
        """B acknowledges a write once its disk completed it, which may be
        in the disk's volatile cache until a flush.  B loses power before
        any flush: its disk comes back without that write (emulated: the
        block's former content is written back into B's disk image while
        B is off).  A wrote nothing since; A must still resync the write's
        activity log extent to B, and only that one (an earlier write that
        a flush covered is not resynced), so that both disks end equal."""
        p = self.pair
        a, b = p.nodes
        self.ready(primary=a)
        x1, x2 = 2 * AL_EXTENT, 5 * AL_EXTENT + 65536
        dd_cmd = f"dd if=/dev/urandom of={DEV} bs=64k count=1 oflag=direct status=none"
        a.run(f"{dd_cmd} seek={x1 // 65536} conv=fsync")   # flushed, and all before it
        saved = os.path.join(self.c.run_dir, "x2-before")
        b.run(f"dd if={b.disk} of={saved} bs=64k count=1 skip={x2 // 65536} iflag=direct "
              "status=none")
        a.run(f"{dd_cmd} seek={x2 // 65536}")               # acknowledged, never flushed
        self.c.kill(b)
        wait_until(lambda: peer_of(status(a), b)["conn_state"] != "connected", LOST_S,
                   "A to notice B's power loss")
        with open(saved, "rb") as f:
            before = f.read()
        with open(b.disk_images[0], "r+b") as f:    # the volatile cache is lost
            f.seek(x2)
            f.write(before)
        oos = wait_until(lambda: peer_of(status(a), b)["out_of_sync_bytes"] or None, 30,
                         "A to mark what B may lack")
        self.fig(f"A's out_of_sync for B after B's power loss: {oos} bytes")
        self.assertEqual(oos, AL_EXTENT, "A must mark exactly the unflushed write's extent "
                                         f"({AL_EXTENT} bytes), got {oos}")
        self.c.restart(b)
        self.node_boot(b)
        n0 = len(resync_lines(a))
        adm(b, f"up {RES}")
        started, done, _ = self.watch_resync(a, b, n0, RECONNECT_S + RESYNC_S)
        self.wait_synced()
        self.fig(f"resync {started}/{done} bytes")
        self.assertIsNotNone(started, "no 'resync started' line on A")
        self.assertGreaterEqual(started, AL_EXTENT, f"resync started with {started} bytes")
        self.assert_equal_disks("after B lost its write cache")

    def test_12_failover_after_a_cut_is_no_split_brain(self):
        """A (primary) wrote without a flush, the link is cut, B is promoted
        without --force and writes, A (which wrote nothing since) is
        demoted.  A's marks for what B may lack start no generation of
        A's: back, A is B's bitmap sync target, not split-brained, and the
        disks end equal."""
        p = self.pair
        a, b = p.nodes
        self.ready(primary=a)
        a.run(f"dd if=/dev/urandom of={DEV} bs=64k count=4 seek=64 oflag=direct status=none")
        self.c.cut_link(a, b)
        try:
            wait_until(lambda: all(peer_of(status(n), m)["conn_state"] != "connected"
                                   for n, m in ((a, b), (b, a))), LOST_S,
                       "both to notice the cut")
            adm(b, f"primary {RES}")
            dd(b, 40, 1)
            adm(a, f"secondary {RES}")
        finally:
            self.c.restore_link(a, b)
        try:
            sts = self.wait_synced(RECONNECT_S + RESYNC_S)
            self.assertEqual(sync_view(peer_of(sts[0], b))[1], BITMAP_TARGET,
                             f"A's sync decision: {peer_of(sts[0], b)}")
            self.assert_equal_disks("after the failover")
        finally:
            adm(b, f"secondary {RES}", check=False)


if __name__ == "__main__":
    unittest.main()
