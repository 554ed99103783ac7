# SPDX-License-Identifier: GPL-2.0
"""Network faults on the link between the two nodes, applied with tc netem
inside both guests (the root qdisc of each node's interface to the other:
egress on each side), each while fio writes on the primary.

Node a (n1) is primary, b (n2) secondary, protocol C, the e2e timing of
e2elib (ping every 2 s, ping timeout 5 s, connect timeout 5 s, reconnect
backoff up to 10 s).  Each test writes its own 8 MiB region of /dev/rblk0
with fio (tests/e2e/fio/netfaults.fio: random 4-64 KiB direct writes, QD 8,
time based; every 32 blocks written are read back and checked by crc32c
while it writes, so fio itself checks the data it reads back).

test_1 .. test_4, test_6 (delay 2 ms; delay 20 ms with 5 ms jitter; 1 %
loss; delay 10 ms with 25 % of the packets reordered; rate 100 Mbit/s),
each on both sides: while the fault is on, fio exits 0 (verify passed, it
read back what it wrote), within its runtime plus the bound of a stalled
write (ping timeout + ping interval, the documented longest wait for a peer,
and a margin), no write took longer than that bound (fio's largest
completion latency), the connection stays up (no reconnect), and the fault
is seen (the ping round trip for the delays, netem's drop counter for the
loss).  After the fault is removed: connected, Established, both disks
UpToDate, nothing out of sync, and the data areas of both backing disks are
identical (sha256).

test_5, a one-way cut: b's egress drops everything (netem loss 100 % on b
only): a's packets reach b, nothing comes back.  a declares the connection
lost within ping timeout + ping interval (and a margin), b within twice that
(it hears from a until a gives up); a's writes go on without b (fio does not
stall beyond the same bound and exits 0), a records what b missed and shows
it Outdated, b keeps its disk UpToDate; once the cut is removed they
reconnect within ping timeout + connect timeout + reconnect backoff, a is
the bitmap sync source, the resync ends and the data areas are identical.

Figures (``FIGURE`` lines): per fault fio's write IOPS and bandwidth, its
verified bytes, largest completion latency and wall time, the ping round
trip; for the cut the time each side took to declare the connection lost
(its kernel log's line, from a line written there just before the cut;
and when its status showed it), the time to reconnect and the bytes
resynced (a's kernel log).

One cluster, on 6.12 only in `make check` (ONE_KERNEL: the CI budget), on
both in `make soak`, whose long variant runs fio for 60 s per fault and
holds the one-way cut for 30 s after both sides declared the connection
lost (`make check`: 8 s of fio per fault, the cut removed once both sides
declared it lost and a wrote on alone).
"""
import json
import os
import re
import time
import unittest

from e2elib import (BITMAP_SOURCE, BITMAP_TARGET, CONNECT_TIMEOUT_MS, FIO_DIR, PING_INTERVAL_MS,
                    PING_TIMEOUT_MS, RECONNECT_MAX_MS, SOAK, ClusterTest, decisions, disk_sha256,
                    in_parallel, log, peer_of, per_kernel, short, status, wait_in_sync,
                    wait_until)

MIB = 1 << 20
JOB = os.path.join(FIO_DIR, "netfaults.fio")
REGION = 8 * MIB                    # each test writes its own region
RUN_S = 60 if SOAK else 8           # fio's runtime under a fault
CUT_RUN_S = 90 if SOAK else 25      # fio's runtime around the one-way cut
CUT_HOLD_S = 30 if SOAK else 0      # the cut stays this long after both declared it lost
DEPTH, BACKLOG = 8, 32

# The documented longest wait of a write for a peer that vanished: the ping
# timeout plus one ping interval (Documentation/design.rst, Failure
# handling).  A margin for a TCG guest on a shared two-core host.
STALL_S = (PING_TIMEOUT_MS + PING_INTERVAL_MS) / 1000
MARGIN_S = 6                        # seen: 7.1 s for a write across the cut
LAT_BOUND_S = STALL_S + MARGIN_S
# fio's wall time: its runtime, one stalled write, its start and its end
# (the last backlog verify) in a slow guest.
FIO_SLACK_S = LAT_BOUND_S + 15
# The cut: a declares it lost within STALL_S; b hears from a until then and
# declares it within STALL_S after that (a's close reaches b at once).
A_LOST_S = STALL_S + MARGIN_S
B_LOST_S = 2 * STALL_S + MARGIN_S
RECONNECT_S = (PING_TIMEOUT_MS + CONNECT_TIMEOUT_MS + RECONNECT_MAX_MS) / 1000 + 15

DONE_RE = re.compile(r"rblk\d+: peer (\d+): resync done, (\d+) bytes")
START_RE = re.compile(r"rblk\d+: peer (\d+): resync started, (\d+) bytes out of sync")


def qdisc_set(node, peer, spec):
    """netem `spec` as the root qdisc of node's interface to peer."""
    node.run(f"tc qdisc replace dev {node.iface_for(peer)} root netem {spec}")


def qdisc_clear(node, peer):
    """The interface's default qdisc again (nothing if none was set)."""
    node.run(f"tc qdisc del dev {node.iface_for(peer)} root 2>/dev/null || true", quiet=True)


def qdisc_stats(node, peer):
    """(sent packets, dropped packets) of the root qdisc of node's interface
    to peer."""
    out = node.run(f"tc -s qdisc show dev {node.iface_for(peer)} root", quiet=True).out
    m = re.search(r"Sent \d+ bytes (\d+) pkt \(dropped (\d+)", out)
    assert m, f"{node.name}: no qdisc statistics in {out!r}"
    return int(m.group(1)), int(m.group(2))


LOST_RE = re.compile(r"^\[\s*(\d+\.\d+)\] rblk\d+: peer \d+: connection lost: (.*)$")


def mark(node, text, then=""):
    """Write a line `text` to node's kernel log (then run the shell command
    `then`, if any, in the same shell)."""
    node.run(f"echo '<5>{text}' > /dev/kmsg{' && ' + then if then else ''}", quiet=True)


def dated(node, text):
    """The date in node's kernel log (seconds since boot, the clock that
    dates the kernel's own lines) of the last line `text`."""
    for line in reversed(node.dmesg().splitlines()):
        m = re.match(r"^\[\s*(\d+\.\d+)\] (.*)$", line.strip())
        if m and m.group(2) == text:
            return float(m.group(1))
    raise AssertionError(f"{node.name}: the line {text!r} is not in the kernel log")


def lost_line(node, since):
    """(time, reason) of node's first 'connection lost' kernel log line
    dated after `since` (mark)."""
    for line in node.dmesg().splitlines():
        m = LOST_RE.match(line.strip())
        if m and float(m.group(1)) > since:
            return float(m.group(1)), m.group(2)
    raise AssertionError(f"{node.name}: no 'connection lost' line after {since} s")


def resync_lines(node, regex):
    """[(peer, bytes)] of node's kernel log lines matching regex."""
    return [(int(m.group(1)), int(m.group(2)))
            for m in map(regex.search, node.dmesg().splitlines()) if m]


@per_kernel
class NetFaults(ClusterTest):
    # on one kernel in make check (CI budget), on both in make soak
    ONE_KERNEL = {"*": "6.12"}
    DISK_MIB = 64       # a data area of six 8 MiB regions; quick to hash
    TIMEOUT = 1800 if SOAK else 600

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pair.setup()
        cls.pair.bring_up()

    def setUp(self):
        """No qdisc left by an earlier (failed) test; a primary, b
        secondary, connected and in sync."""
        super().setUp()
        a, b = self.pair.nodes
        qdisc_clear(a, b)
        qdisc_clear(b, a)
        self.pair.ensure(primary=a)

    # --- helpers -------------------------------------------------------

    def start_fio(self, region, runtime):
        """fio (netfaults.fio) on a over region number `region` for
        `runtime` seconds; returns (Job, start time)."""
        a = self.pair.a
        env = {"NF_OFFSET": str(region * REGION), "NF_SIZE": str(REGION),
               "NF_RUNTIME": str(runtime), "NF_DEPTH": str(DEPTH), "NF_BACKLOG": str(BACKLOG)}
        job = a.spawn(f"cd /tmp && fio --output-format=json {JOB}", env=env,
                      timeout=runtime + 600)
        return job, time.monotonic()

    def finish_fio(self, what, job, t0, runtime):
        """Wait for fio: it must exit 0 within its runtime + FIO_SLACK_S,
        with data verified and no write slower than LAT_BOUND_S.  Returns
        a dict of its figures."""
        try:
            res = job.wait(timeout=runtime + FIO_SLACK_S + 60)
        finally:
            if not job.done:
                job.kill()
        wall = time.monotonic() - t0
        self.assertEqual(res.rc, 0, f"{what}: fio on a failed (exit {res.rc}):\n"
                                    f"{res.out[-2000:]}\n{res.err[-2000:]}")
        j = json.loads(res.out[res.out.index("{"):])["jobs"][0]
        w, r = j["write"], j["read"]
        fig = {"write_iops": round(w["iops"], 1), "write_kib_s": w["bw"],
               "written_mib": round(w["io_bytes"] / MIB, 1),
               "verified_mib": round(r["io_bytes"] / MIB, 1),
               "max_write_lat_ms": round(w["lat_ns"]["max"] / 1e6, 1),
               "wall_s": round(wall, 1)}
        log(f"{what}: fio {fig}")
        self.assertEqual(j["error"], 0, f"{what}: fio reports error {j['error']}")
        self.assertGreater(w["io_bytes"], 0, f"{what}: fio wrote nothing")
        self.assertGreater(r["io_bytes"], 0, f"{what}: fio read nothing back to verify")
        self.assertLessEqual(w["lat_ns"]["max"] / 1e9, LAT_BOUND_S,
                             f"{what}: a write took longer than the bound of a stalled "
                             f"write ({LAT_BOUND_S} s): {fig}")
        self.assertLessEqual(wall, runtime + FIO_SLACK_S,
                             f"{what}: fio took {wall:.1f} s for a runtime of {runtime} s")
        return fig

    def assert_identical(self, what):
        """Connected, Established, both UpToDate, nothing out of sync; the
        data areas of both backing disks identical."""
        a, b = self.pair.nodes
        sa, sb = wait_in_sync(a, b)
        log(f"{what}: in sync: a {short(sa)}; b {short(sb)}")
        ha, hb = in_parallel(lambda: disk_sha256(a), lambda: disk_sha256(b))
        self.assertEqual(ha, hb, f"{what}: the data areas of a and b differ")
        return sa, sb

    def run_fault(self, region, spec, min_rtt_ms=None, expect_drops=False):
        """fio on a for RUN_S with netem `spec` on both sides of the link;
        see the module's docstring for what is asserted."""
        a, b = self.pair.nodes
        what = f"netem {spec}"
        rc0 = peer_of(status(a), b)["reconnects"], peer_of(status(b), a)["reconnects"]
        qdisc_set(a, b, spec)
        qdisc_set(b, a, spec)
        try:
            job, t0 = self.start_fio(region, RUN_S)
            rtts, tcp_rtts = [], []
            while not job.done and time.monotonic() - t0 < RUN_S + FIO_SLACK_S:
                pa = peer_of(status(a), b)
                self.assertEqual(pa["conn_state"], "connected",
                                 f"{what}: a lost b while the fault was on: {pa}")
                rtts.append(pa["rtt_us"])
                tcp_rtts.append(pa["tcp_rtt_us"])
                time.sleep(1)
            fig = self.finish_fio(what, job, t0, RUN_S)
            stats = {n.name: qdisc_stats(n, self.pair.other(n)) for n in (a, b)}
        finally:
            qdisc_clear(a, b)
            qdisc_clear(b, a)
        fig["rtt_ms_max"] = round(max(rtts) / 1000, 1) if rtts else None
        fig["tcp_rtt_ms_max"] = round(max(tcp_rtts) / 1000, 1) if tcp_rtts else None
        fig["qdisc_sent_dropped"] = stats
        rc1 = peer_of(status(a), b)["reconnects"], peer_of(status(b), a)["reconnects"]
        self.assertEqual(rc1, rc0, f"{what}: the connection was lost and made again "
                                   f"(reconnects a, b before {rc0}, after {rc1})")
        if min_rtt_ms is not None:
            self.assertGreaterEqual(max(rtts) / 1000, min_rtt_ms,
                                    f"{what}: the ping round trip never showed the delay: "
                                    f"{rtts} us")
            self.assertGreaterEqual(max(tcp_rtts) / 1000, min_rtt_ms,
                                    f"{what}: TCP's round trip never showed the delay: "
                                    f"{tcp_rtts} us")
        if expect_drops:
            self.assertTrue(all(d > 0 for _, d in stats.values()),
                            f"{what}: netem dropped nothing on one side: {stats}")
        self.assert_identical(f"after {what}")
        self.fig(json.dumps(dict(fault=spec, **fig)))

    # --- the faults ----------------------------------------------------

    def test_1_delay_2ms(self):
        """2 ms of delay each way: fio passes without a stall, the
        connection stays, replicas identical afterwards."""
        self.run_fault(0, "delay 2ms", min_rtt_ms=4)

    def test_2_delay_20ms_jitter_5ms(self):
        """20 ms +- 5 ms of delay each way: as test_1."""
        self.run_fault(1, "delay 20ms 5ms", min_rtt_ms=30)

    def test_3_loss_1pct(self):
        """1 % of the packets lost each way (TCP retransmits): as test_1,
        and netem did drop packets on both sides."""
        self.run_fault(2, "loss 1%", expect_drops=True)

    def test_4_reorder(self):
        """10 ms of delay, 25 % of the packets (correlation 50 %) sent at
        once, so out of order: as test_1."""
        self.run_fault(3, "delay 10ms reorder 25% 50%")

    def test_5_one_way_cut(self):
        """b's egress drops everything, a's packets still reach b: both
        declare the connection lost within the documented timeouts, a's
        writes go on without b, then b reconnects and is resynced by
        bitmap to identical data."""
        a, b = self.pair.nodes
        what = "one-way cut"
        start0, done0 = len(resync_lines(a, START_RE)), len(resync_lines(a, DONE_RE))
        job, t0 = self.start_fio(4, CUT_RUN_S)
        try:
            wait_until(lambda: status(a)["stats"]["writes"] >= 200 or job.done, 60,
                       "fio writing on a")
            self.assertFalse(job.done, "fio ended before the cut")
            # the cut dated in each kernel log, on the clock of its
            # 'connection lost' line: on b a line written right before the
            # tc command (same shell), on a one written just before the
            # command on b starts
            mark(a, "netfaults: one-way cut next")
            t_cut = time.monotonic()
            mark(b, "netfaults: one-way cut",
                 then=f"tc qdisc replace dev {b.iface_for(a)} root netem loss 100%")
            a_clock = dated(a, "netfaults: one-way cut next")
            b_clock = dated(b, "netfaults: one-way cut")
            log(f"{what}: b's egress drops everything")

            def poll_lost(n, peer):
                """(seconds from the cut until n's status showed the
                connection lost, n's status then, slowest status call)"""
                slowest = 0.0
                while True:
                    t = time.monotonic()
                    st = status(n)
                    slowest = max(slowest, time.monotonic() - t)
                    if peer_of(st, peer)["conn_state"] != "connected":
                        return time.monotonic() - t_cut, st, slowest
                    if time.monotonic() - t_cut > B_LOST_S + 30:
                        return None, st, slowest
                    time.sleep(0.25)
            (p_a, sa, slow_a), (p_b, sb, slow_b) = in_parallel(lambda: poll_lost(a, b),
                                                               lambda: poll_lost(b, a))
            self.assertIsNotNone(p_a, f"{what}: a still connected: {short(sa)}")
            self.assertIsNotNone(p_b, f"{what}: b still connected: {short(sb)}")
            (ka, why_a), (kb, why_b) = lost_line(a, a_clock), lost_line(b, b_clock)
            t_a, t_b = ka - a_clock, kb - b_clock
            log(f"{what}: connection declared lost by a {t_a:.1f} s after the cut ({why_a!r}), "
                f"by b after {t_b:.1f} s ({why_b!r}) (kernel logs); status showed it after "
                f"{p_a:.1f} s and {p_b:.1f} s (slowest status call {slow_a:.1f} s on a, "
                f"{slow_b:.1f} s on b)")
            self.assertLessEqual(t_a, A_LOST_S, f"{what}: a declared the connection lost "
                                                f"{t_a:.1f} s after the cut (bound {A_LOST_S} s)")
            self.assertLessEqual(t_b, B_LOST_S, f"{what}: b declared the connection lost "
                                                f"{t_b:.1f} s after the cut (bound {B_LOST_S} s)")
            w0 = status(a)["stats"]["writes"]
            wait_until(lambda: status(a)["stats"]["writes"] >= w0 + 100 or job.done, 60,
                       "a's writes to go on without b")
            self.assertFalse(job.done, "fio ended too early: writes without b not shown")
            if CUT_HOLD_S:
                time.sleep(CUT_HOLD_S)      # the long variant: a writes on alone
            sa, sb = status(a), status(b)
            pa, pb = peer_of(sa, b), peer_of(sb, a)
            log(f"{what}: while cut: a {short(sa)} out of sync {pa['out_of_sync_bytes']}; "
                f"b {short(sb)}")
            self.assertEqual((sa["role"], sa["disk_state"]), ("primary", "up_to_date"))
            self.assertNotEqual(pa["conn_state"], "connected")
            self.assertEqual(pa["peer_disk_state"], "outdated", short(sa))
            self.assertGreater(pa["out_of_sync_bytes"], 0, "a did not record what b missed")
            self.assertEqual(sa["stats"]["errors"], 0, short(sa))
            self.assertNotEqual(pb["conn_state"], "connected")
            self.assertEqual((sb["role"], sb["disk_state"]), ("secondary", "up_to_date"),
                             f"b lost its primary: its disk stays up_to_date: {short(sb)}")
            cut_s = time.monotonic() - t_cut
            t_restore = time.monotonic()
            qdisc_clear(b, a)
            log(f"{what}: removed after {cut_s:.1f} s")

            def both_connected():
                sa, sb = status(a), status(b)
                return (peer_of(sa, b)["conn_state"] == "connected" and
                        peer_of(sb, a)["conn_state"] == "connected") and (sa, sb)
            wait_until(both_connected, RECONNECT_S, f"{what}: reconnect after the cut")
            t_rec = time.monotonic() - t_restore
            log(f"{what}: reconnected {t_rec:.1f} s after the cut was removed")
            got = wait_until(lambda: all(decisions(a, b)) and decisions(a, b), 30,
                             f"{what}: the sync decisions of the handshake")
            self.assertEqual(got, (BITMAP_SOURCE, BITMAP_TARGET), f"{what}: sync decisions")
            fig = self.finish_fio(what, job, t0, CUT_RUN_S)
        finally:
            qdisc_clear(b, a)
            if not job.done:
                job.kill()
        self.assert_identical(f"after the {what}")
        done = resync_lines(a, DONE_RE)[done0:]
        log(f"{what}: a's resync lines (peer, bytes): started "
            f"{resync_lines(a, START_RE)[start0:]}, done {done}")
        self.assertTrue(done and all(p == b.id for p, _ in done),
                        f"{what}: no 'resync done' line toward b in a's log: {done}")
        resynced = sum(n for _, n in done)
        self.assertGreater(resynced, 0, f"{what}: nothing resynced")
        self.assertLess(resynced, status(a)["size_sectors"] * 512,
                        f"{what}: a bitmap resync, not the whole disk: {resynced} bytes")
        fig.update(a_lost_s=round(t_a, 1), b_lost_s=round(t_b, 1), a_status_lost_s=round(p_a, 1),
                   b_status_lost_s=round(p_b, 1), cut_s=round(cut_s, 1),
                   reconnect_s=round(t_rec, 1), resync_bytes=resynced)
        self.fig(json.dumps(dict(fault="loss 100% on b's egress only", **fig)))

    def test_6_rate_100mbit(self):
        """100 Mbit/s each way: as test_1."""
        self.run_fault(5, "rate 100mbit")


if __name__ == "__main__":
    unittest.main()
