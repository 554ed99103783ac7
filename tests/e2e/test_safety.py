# SPDX-License-Identifier: GPL-2.0
"""Safety rules of replication that a partition, a late peer or concurrent
writers must not break.

Safety (two nodes, one cluster per kernel; test_1..4 start over on fresh
disks, both UpToDate (zeroed, create-md, new-current-uuid --clear-bitmap),
then take down and bring up what they need):

* test_1..3: a configured peer that misses the primary's writes because it
  has no connection (never connected since attach; disconnected while the
  nodes were secondary; added to a device that was already primary) is
  recorded as having missed them: the primary shows it Outdated with the
  missed bytes out of sync for it; a node that comes up without a
  connection is Consistent, not UpToDate, and its promotion is refused
  (ESTALE; A attached alone needs --force); when the peer connects, the
  primary resyncs exactly what it missed (bitmap-source/-target), the
  peer's disk is Inconsistent (never UpToDate) until the end of the
  resync, then both are UpToDate, the data areas identical, and the peer
  can take over.
* test_4: writers whose direct writes overlap while in flight
  (fio/overlap.fio) leave both backing disks identical, in several runs.
* test_5: the hints of a write (REQ_SYNC) reach the peer's backing disk,
  seen in the block_rq_issue trace event of both nodes.

SafetyMesh (three nodes, full mesh): with the link a-b cut, a becomes
primary through c; b's promotion must then be refused by c (EBUSY), c keeps
a as its primary and goes on receiving a's writes.

A test checks every outcome of its scenario before it fails, and names each
one that is wrong with the values seen.
"""
import errno
import os
import re
import shlex
import unittest

from e2elib import (BITMAP_SOURCE, BITMAP_TARGET, CONNECT_TIMEOUT_MS, DEV, ESTABLISHED, MINOR,
                    PING_INTERVAL_MS, PING_TIMEOUT_MS, RECONNECT_MAX_MS, REPL_STATE, RES, SOAK,
                    SYNC_TARGET, ClusterTest, adm, decisions, disk_sha256, events_on, fio,
                    in_parallel, job_events, log, mesh_bring_up, mesh_topology, peer_of, per_kernel,
                    res_events, short, status, status_or_none, wait_in_sync, wait_until,
                    write_conf)

MISSED_MIB = 64     # written while the peer has no connection
OVERLAP_RUNS = 6 if SOAK else 2  # runs of fio/overlap.fio (20 s each) in test_4
OVERLAP_MIB = 4     # the region fio/overlap.fio writes (offset 0)
TRACING = "/sys/kernel/tracing"

# Three nodes: fast timing, so that a cut link is noticed in seconds.
MESH_OPTIONS = {"ping-interval-ms": 500, "ping-timeout-ms": 2000, "connect-timeout-ms": 2000,
                "reconnect-max-ms": 1000}


def settles(fn, timeout_s, what):
    """True once fn() is true within timeout_s, False if it never is."""
    try:
        wait_until(fn, timeout_s, what)
        return True
    except AssertionError:
        return False


def refused_with(r, err):
    """Result r of ``rblkadm primary`` failed with errno err (exit status 1,
    rblkadm's "RES: primary: <strerror>: <kernel's message>")."""
    return r.rc == 1 and r.err.startswith(f"rblkadm: {RES}: primary: {os.strerror(err)}: ")


def conn_state(node, peer):
    return peer_of(status(node), peer)["conn_state"]


def block_map(node, mib):
    """One word per 4 KiB block of the first mib MiB of node's backing disk
    (read with O_DIRECT): its first 4 bytes in hex and a short digest."""
    script = ("import hashlib, sys\n"
              "d = sys.stdin.buffer.read()\n"
              "print(' '.join(d[i:i + 4].hex() + ':' + hashlib.sha1(d[i:i + 4096]).hexdigest()[:8]"
              " for i in range(0, len(d), 4096)))\n")
    r = node.run(f"dd if={node.disk} bs=1M count={mib} iflag=direct status=none | "
                 f"python3 -c {shlex.quote(script)}", quiet=True, timeout=300)
    return r.out.split()


class Findings:
    """Collects the wrong outcomes of a scenario; verdict() fails the test
    with all of them."""

    def setUp(self):
        super().setUp()
        self.wrong = []

    def expect(self, ok, msg):
        if not ok:
            log(f"WRONG: {msg}")
            self.wrong.append(msg)
        return ok

    def verdict(self):
        if self.wrong:
            self.fail(f"{len(self.wrong)} wrong outcome(s):\n  " + "\n  ".join(self.wrong))

    def promotion_refused(self, node, err, what):
        """rblkadm primary on node must fail with errno err; a promotion
        that is granted instead is recorded.  Returns the Result."""
        r = adm(node, f"primary {RES}", check=False)
        self.expect(refused_with(r, err),
                    f"{what}: promoting {node.name} must fail with {errno.errorcode[err]}; got "
                    f"exit {r.rc} {r.err.strip()!r}, {node.name} now {status(node)['role']}")
        return r


@per_kernel
class Safety(Findings, ClusterTest):
    DISK_MIB = 96
    # the longest: on one kernel in make check, on both in make soak
    ONE_KERNEL = {"test_4_overlapping_writes_keep_replicas_identical": "6.1",
                  "test_1_peer_never_connected": "6.1",
                  "test_2_peer_disconnected_while_secondary": "6.12"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pair.setup()

    def down_all(self):
        """Demote and take down r0 on both nodes (the metadata keeps each
        disk's state and generation)."""
        for n in self.pair.nodes:
            st = status_or_none(n)
            if st is None:
                continue
            if st["role"] == "primary":
                adm(n, f"secondary {RES}")
            adm(n, f"down {RES}")

    def fresh_start(self):
        """Both disks zeroed, new metadata, up, new-current-uuid
        --clear-bitmap: connected, both UpToDate, identical."""
        self.pair.reset()

    def up_alone(self, a):
        """A attaches alone (B down): its disk is Consistent, not UpToDate
        (it may lack writes B has), and a plain promotion is refused with
        ESTALE; --force promotes it (the operator vouches for A's data)."""
        adm(a, f"up {RES}")
        st = status(a)
        self.expect(st["disk_state"] == "consistent",
                    f"A up alone: its disk must be consistent: {short(st)}")
        self.promotion_refused(a, errno.ESTALE, "A up alone (consistent)")
        if status(a)["role"] != "primary":
            adm(a, f"primary --force {RES}")

    def write_missed(self, a):
        a.run(f"dd if=/dev/urandom of={DEV} bs=1M count={MISSED_MIB} oflag=direct status=none",
              timeout=900)

    def missed_recorded(self, what):
        """A (primary) wrote MISSED_MIB while B had no connection: A shows B
        Outdated with at least that much out of sync for it."""
        a, b = self.pair.nodes
        pb = peer_of(status(a), b)
        self.expect(pb["conn_state"] != "connected" and pb["peer_disk_state"] == "outdated" and
                    isinstance(pb["out_of_sync_bytes"], int) and
                    pb["out_of_sync_bytes"] >= MISSED_MIB << 20,
                    f"{what}: A must show B outdated with its {MISSED_MIB} MiB out of sync: "
                    f"{pb}")

    def consistent_not_promotable(self, b, what):
        """B is up without a connection: Consistent, promotion refused."""
        st = status(b)
        self.expect(st["disk_state"] == "consistent",
                    f"{what}: B up without a connection must be consistent: {short(st)}")
        self.promotion_refused(b, errno.ESTALE, f"{what}, B not connected")
        if status(b)["role"] == "primary":
            adm(b, f"secondary {RES}")

    def returning_peer(self, what, ev):
        """A wrote while B had no connection; B is connecting now (ev: B's
        rblkadm events, started before).  The handshake makes A the
        bitmap-source and B the bitmap-target; B's disk is Inconsistent,
        never UpToDate, until the resync ends; then both are UpToDate and
        Established, the data areas identical, and B can take over."""
        a, b = self.pair.nodes
        try:
            sa, sb = self.pair.wait_connected_any()
            log(f"{what}: connected: A {short(sa)}; B {short(sb)}")
            got = decisions(a, b)
            self.expect(got == (BITMAP_SOURCE, BITMAP_TARGET),
                        f"{what}: sync decisions A->B, B->A must be bitmap source/target: {got}")
            try:
                sa, sb = wait_in_sync(a, b)
                log(f"{what}: resync done: A {short(sa)}; B {short(sb)}")
            except AssertionError as e:
                self.expect(False, f"{what}: {e}")
        finally:
            ev.kill()
            ev.wait(timeout=60)
        disks = res_events(ev, "disk_state_changed", "disk_state")
        repl = [(e.get("peer_node_id"), e.get(REPL_STATE)) for e in job_events(ev)
                if e["event"] == "repl_state_changed" and e.get("minor") == MINOR]
        log(f"{what}: B's disk states {disks}; replication states {repl}")
        self.expect("inconsistent" in disks and disks[-1:] == ["up_to_date"] and
                    disks.index("up_to_date") > disks.index("inconsistent"),
                    f"{what}: B's disk must go inconsistent (sync target), and up_to_date "
                    f"only after that: {disks}")
        self.expect((a.id, SYNC_TARGET) in repl and repl[-1:] == [(a.id, ESTABLISHED)],
                    f"{what}: B's replication toward A must go sync_target, then established: "
                    f"{repl}")
        ha, hb = in_parallel(lambda: disk_sha256(a), lambda: disk_sha256(b))
        self.expect(ha == hb, f"{what}: data areas differ after the resync: A {ha}, B {hb}")

        adm(a, f"secondary {RES}")
        wait_until(lambda: peer_of(status(b), a)["peer_role"] == "secondary", 30,
                   "B to see A secondary")
        r = adm(b, f"primary {RES}", check=False)
        self.expect(r.rc == 0, f"{what}: B, resynced, must be promoted without --force: "
                               f"exit {r.rc} {r.err.strip()!r}")
        if status(b)["role"] == "primary":
            adm(b, f"secondary {RES}")
        log(f"{what}: at the end: A {short(status(a))}; B {short(status(b))}")
        self.verdict()

    def test_1_peer_never_connected(self):
        """B is not up while A, primary, writes; then B comes up (while
        the link is cut: Consistent, not promotable), then connects."""
        a, b = self.pair.nodes
        self.fresh_start()
        self.down_all()
        self.up_alone(a)
        log(f"A primary alone: {short(status(a))}")
        self.write_missed(a)
        self.missed_recorded("B never connected")
        self.c.cut_link(a, b)
        try:
            adm(b, f"up {RES}")
            self.consistent_not_promotable(b, "B up after A's writes")
            ev = events_on(b)
        finally:
            self.c.restore_link(a, b)
        self.returning_peer("B up after A's writes", ev)

    def test_2_peer_disconnected_while_secondary(self):
        """B connected, disconnects while both are secondary; A becomes
        primary and writes; B (it cannot know: UpToDate) connects again."""
        a, b = self.pair.nodes
        self.fresh_start()
        adm(b, f"disconnect {RES}")
        wait_until(lambda: conn_state(a, b) != "connected", 30, "A to see B disconnected")
        adm(a, f"primary {RES}")
        log(f"A primary, B disconnected: {short(status(a))}")
        self.write_missed(a)
        self.missed_recorded("B disconnected before A's promotion")
        sb = status(b)
        self.expect(sb["disk_state"] == "up_to_date",
                    f"B, disconnected while secondary, knows of no newer data: up_to_date: "
                    f"{short(sb)}")
        ev = events_on(b)
        adm(b, f"connect {RES}")
        self.returning_peer("B disconnected before A's promotion", ev)

    def test_3_peer_added_to_primary(self):
        """A is primary without peers (B went down, A removed it); B is
        added (low-level add-peer), A writes; B comes up (Consistent, not
        promotable: A does not connect yet), then A connects to B."""
        a, b = self.pair.nodes
        self.fresh_start()
        adm(b, f"down {RES}")  # A stays UpToDate: promotable without --force
        p = peer_of(status(a), b)
        adm(a, f"remove-peer --minor {MINOR} --peer-node-id {b.id}")
        adm(a, f"primary {RES}")
        adm(a, f"add-peer --minor {MINOR} --peer-node-id {b.id} "
               f"--peer {p['peer_ip']}:{p['peer_port']} --local {p['local_ip']}:{p['local_port']} "
               f"--ping-interval-ms {PING_INTERVAL_MS} --ping-timeout-ms {PING_TIMEOUT_MS} "
               f"--connect-timeout-ms {CONNECT_TIMEOUT_MS} --reconnect-max-ms {RECONNECT_MAX_MS}")
        log(f"B added to primary A: {short(status(a))}")
        self.write_missed(a)
        self.missed_recorded("B added to primary A")
        adm(b, f"up {RES}")
        self.consistent_not_promotable(b, "B added to primary A")
        ev = events_on(b)
        adm(a, f"connect-peer --minor {MINOR} --peer-node-id {b.id}")
        self.returning_peer("B added to primary A", ev)

    def test_4_overlapping_writes_keep_replicas_identical(self):
        """Four writers overlap on the same 4 MiB with direct writes in
        flight; after each run both backing disks are identical."""
        p = self.pair
        a, b = p.nodes
        p.reset()  # zeroed disks, identical to begin with
        p.make_primary(a)
        runs = []
        for i in range(1, OVERLAP_RUNS + 1):
            # the region identical on both again (sequential, no overlap)
            a.run(f"dd if=/dev/zero of={DEV} bs=1M count={OVERLAP_MIB} oflag=direct status=none")
            r, data = fio(a, "overlap", timeout=300)
            iops = sum(j["write"]["iops"] for j in data["jobs"]) if data else 0.0
            wait_until(lambda: status(a)["stats"]["inflight"] == 0 and
                       peer_of(status(a), b)["inflight"] == 0, 60, "A quiesced")
            sha_a, sha_b = in_parallel(lambda: disk_sha256(a), lambda: disk_sha256(b))
            if sha_a == sha_b:
                runs.append(f"run {i}: identical ({iops:.0f} write IOPS)")
            else:
                ma, mb = in_parallel(lambda: block_map(a, OVERLAP_MIB),
                                     lambda: block_map(b, OVERLAP_MIB))
                diff = [(k, x, y) for k, (x, y) in enumerate(zip(ma, mb)) if x != y]
                runs.append(f"run {i}: DIFFER in {len(diff)} of {len(ma)} 4 KiB blocks "
                            f"({iops:.0f} write IOPS); e.g. " +
                            "; ".join(f"block {k}: A {x} B {y}" for k, x, y in diff[:4]))
            log(runs[-1])
        st = status(a)
        self.assertEqual(st["stats"]["errors"], 0, short(st))
        self.assertEqual(peer_of(st, b)["conn_state"], "connected", short(st))
        for line in runs:
            self.expect("DIFFER" not in line, f"overlapping writes: {line}")
        self.verdict()

    def test_5_write_hints_reach_peer(self):
        """A direct write carries REQ_SYNC ('S' in the trace's rwbs) to A's
        backing disk; B's copy of it must carry it too."""
        p = self.pair
        a, b = p.nodes
        p.ensure(primary=a)
        enable = f"{TRACING}/events/block/block_rq_issue/enable"
        for n in p.nodes:
            n.run(f"mountpoint -q {TRACING} || mount -t tracefs nodev {TRACING}")
            n.run(f"echo 0 > {TRACING}/tracing_on && echo > {TRACING}/trace && "
                  f"echo 1 > {enable} && echo 1 > {TRACING}/tracing_on")
        try:
            a.run(f"dd if=/dev/zero of={DEV} bs=4k count=64 oflag=direct status=none")
        finally:
            for n in p.nodes:
                n.run(f"echo 0 > {TRACING}/tracing_on; echo 0 > {enable}")
        flags = {}
        for n in p.nodes:
            dev = n.run(f"cat /sys/block/{os.path.basename(n.disk)}/dev").out.strip()
            trace = n.run(f"cat {TRACING}/trace", quiet=True).out
            pat = re.compile(rf"block_rq_issue: {dev.replace(':', ',')} (\S*W\S*) ")
            flags[n.name] = sorted(set(pat.findall(trace)))
        log(f"rwbs of the writes on the backing disks: {flags}")
        self.assertTrue(flags[a.name] and all("S" in f for f in flags[a.name]),
                        f"A's own writes are not traced as sync: {flags}")
        self.expect(flags[b.name], f"no write traced on B's backing disk: {flags}")
        self.expect(all("S" in f for f in flags[b.name]),
                    f"B's backing disk sees A's sync writes as {flags[b.name]} "
                    f"(A's: {flags[a.name]}): REQ_SYNC lost on the way")
        self.verdict()


@per_kernel
class SafetyMesh(Findings, ClusterTest):
    NODES = 3
    DISK_MIB = 64
    # the CI budget: one three-node boot in make check (6.1 boots three
    # nodes in test_quorum.py's recovery class)
    ONE_KERNEL = {"*": "6.12"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        text = mesh_topology(cls.c.nodes, options=MESH_OPTIONS)
        for n in cls.c.nodes:
            n.insmod()
            write_conf(n, text)
        mesh_bring_up(cls.c.nodes)

    def all_connected(self):
        return all(len(st["peers"]) == 2 and
                   all(q["conn_state"] == "connected" for q in st["peers"])
                   for st in map(status, self.c.nodes))

    def test_1_two_primaries_through_one_node(self):
        """Link a-b cut: a becomes primary (c grants); b's promotion must
        be refused by c (EBUSY); c keeps a as primary and receives its
        writes."""
        a, b, c = self.c.nodes
        wait_until(self.all_connected, 60, "every node connected to both peers")
        self.c.cut_link(a, b)
        try:
            wait_until(lambda: conn_state(a, b) != "connected" and
                       conn_state(b, a) != "connected", 30, "a and b to lose each other")
            adm(a, f"primary {RES}")
            wait_until(lambda: peer_of(status(c), a)["peer_role"] == "primary", 20,
                       "c to see a primary")
            self.promotion_refused(b, errno.EBUSY, "b while c's primary is a")
            sc = status(c)
            log(f"c after b's promotion: {short(sc)}")
            self.expect((peer_of(sc, a)["peer_role"], peer_of(sc, b)["peer_role"]) ==
                        ("primary", "secondary"),
                        f"c must see a primary and b secondary; sees a "
                        f"{peer_of(sc, a)['peer_role']}, b {peer_of(sc, b)['peer_role']}")

            w0 = peer_of(sc, a)["received_writes"]
            a.run(f"dd if=/dev/urandom of={DEV} bs=1M count=4 oflag=direct status=none")
            self.expect(settles(lambda: peer_of(status(c), a)["received_writes"] > w0, 20,
                                "c to receive a's writes"),
                        f"c must receive a's writes: received_writes from a stays "
                        f"{peer_of(status(c), a)['received_writes']} (was {w0})")
            if status(b)["role"] == "primary":
                # what the hole means: c takes writes from two primaries
                wb = peer_of(status(c), b)["received_writes"]
                r = b.run(f"dd if=/dev/urandom of={DEV} bs=1M count=1 oflag=direct status=none",
                          check=False)
                sc = status(c)
                log(f"b primary wrote 1 MiB (exit {r.rc}): c's received_writes from b "
                    f"{wb} -> {peer_of(sc, b)['received_writes']}; c: {short(sc)}")
                adm(b, f"secondary {RES}")
        finally:
            self.c.restore_link(a, b)
        wait_until(lambda: conn_state(a, b) == "connected" and conn_state(b, a) == "connected",
                   60, "a and b connected again")
        self.expect(status(a)["role"] == "primary", f"a must still be primary: {short(status(a))}")
        adm(a, f"secondary {RES}")
        self.verdict()

    def test_2_missed_writes_known_to_the_third_node(self):
        """Link a-b cut, primary a writes 4 MiB that b misses: c, which
        got them, adopts a's new generation and tells b that its disk is
        Outdated, so that b and c never count as in sync without them.
        With a gone, b's promotion is refused (ESTALE), c's is granted;
        b, connected again, resyncs from c; a rejoins; every replica
        equal."""
        a, b, c = self.c.nodes
        wait_until(self.all_connected, 60, "every node connected to both peers")
        adm(a, f"primary {RES}")
        self.c.cut_link(a, b)
        try:
            wait_until(lambda: conn_state(a, b) != "connected" and
                       conn_state(b, a) != "connected", 30, "a and b to lose each other")
            a.run(f"dd if=/dev/urandom of={DEV} bs=1M count=4 oflag=direct status=none")
            ua = status(a)["current_uuid"]
            self.expect(settles(lambda: status(c)["current_uuid"] == ua, 20,
                                "c to adopt a's new generation"),
                        f"c must adopt a's generation {ua}: c {short(status(c))}")
            self.expect(settles(lambda: status(b)["disk_state"] == "outdated", 20,
                                "b outdated by c"),
                        f"b missed a's writes and must be outdated: b {short(status(b))}")
            adm(a, f"secondary {RES}")
            adm(a, f"down {RES}")
            wait_until(lambda: peer_of(status(c), a)["conn_state"] != "connected", 30,
                       "c to see a gone")
            self.promotion_refused(b, errno.ESTALE, "b without a's last 4 MiB")
            adm(c, f"primary {RES}")
            # b compares with c again: c's generation is newer, b resyncs
            adm(b, f"disconnect {RES}")
            adm(b, f"connect {RES}")
            self.expect(settles(lambda: status(b)["disk_state"] == "up_to_date" and
                                peer_of(status(c), b)["replication_state"] == "established",
                                180, "b resynced from c"),
                        f"b must resync from c: b {short(status(b))}; c {short(status(c))}")
        finally:
            self.c.restore_link(a, b)
        adm(a, f"up {RES}")
        wait_until(self.all_connected, 120, "every node connected again")
        adm(c, f"secondary {RES}")
        sums = in_parallel(*(lambda n=n: disk_sha256(n) for n in self.c.nodes))
        self.expect(len(set(sums)) == 1, f"replicas differ: {dict(zip('abc', sums))}")
        self.verdict()


if __name__ == "__main__":
    unittest.main()
