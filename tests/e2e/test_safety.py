# SPDX-License-Identifier: GPL-2.0
"""Safety rules of replication that a partition, a late peer or concurrent
writers must not break.

Safety (two nodes, one cluster per kernel; test_1..4 start with a down of
both nodes and bring up what they need):

* test_1..3: a configured peer that misses the primary's writes because it
  has no connection (never connected since attach; disconnected while the
  nodes were secondary; added to a device that was already primary) is
  recorded as having missed them: when it connects, the primary shows its
  disk Outdated and tells it so (its own disk Outdated), and its promotion
  is refused with ESTALE, connected or not.  The backing disks differ here
  (that is the point); the tests assert states, not hashes.
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

from e2elib import (CONNECT_TIMEOUT_MS, DEV, MINOR, PING_INTERVAL_MS, PING_TIMEOUT_MS,
                    RECONNECT_MAX_MS, RES, ClusterTest, adm, disk_sha256, fio, in_parallel, log,
                    mesh_topology, peer_of, per_kernel, short, status, status_or_none,
                    wait_until, write_conf)

MISSED_MIB = 64     # written while the peer has no connection
OVERLAP_RUNS = 3    # runs of fio/overlap.fio (20 s each) in test_4
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

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pair.setup()

    def down_all(self):
        """Demote and take down r0 on both nodes (a fresh start: the kernel
        forgets every disk and peer state with the device)."""
        for n in self.pair.nodes:
            st = status_or_none(n)
            if st is None:
                continue
            if st["role"] == "primary":
                adm(n, f"secondary {RES}")
            adm(n, f"down {RES}")

    def write_missed(self, a):
        a.run(f"dd if=/dev/urandom of={DEV} bs=1M count={MISSED_MIB} oflag=direct status=none",
              timeout=900)

    def returning_peer(self, what):
        """A wrote while B had no connection; B is connecting now.  Checks
        both nodes' view of B's disk and B's promotion, connected (after A
        is demoted) and disconnected."""
        a, b = self.pair.nodes
        sa, sb = self.pair.wait_connected_any()
        log(f"{what}: connected: A {short(sa)}; B {short(sb)}")
        self.expect(settles(lambda: peer_of(status(a), b)["peer_disk_state"] == "outdated", 10,
                            "A to show B outdated"),
                    f"{what}: A must show B's disk outdated; shows "
                    f"{peer_of(status(a), b)['peer_disk_state']}")
        self.expect(settles(lambda: status(b)["disk_state"] == "outdated", 10,
                            "B to show its disk outdated"),
                    f"{what}: B must show its own disk outdated; shows {status(b)['disk_state']}")

        adm(a, f"secondary {RES}")
        wait_until(lambda: peer_of(status(b), a)["peer_role"] == "secondary", 30,
                   "B to see A secondary")
        self.promotion_refused(b, errno.ESTALE, f"{what}, connected")
        if status(b)["role"] == "primary":
            adm(b, f"secondary {RES}")

        adm(b, f"disconnect {RES}")
        wait_until(lambda: conn_state(b, a) == "standalone", 30, "B standalone")
        self.promotion_refused(b, errno.ESTALE, f"{what}, disconnected")
        if status(b)["role"] == "primary":
            adm(b, f"secondary {RES}")
        log(f"{what}: at the end: A {short(status(a))}; B {short(status(b))}")
        self.verdict()

    def test_1_peer_never_connected(self):
        """B is not up while A, primary, writes; then B comes up."""
        a, b = self.pair.nodes
        self.down_all()
        adm(a, f"up {RES}")
        adm(a, f"primary {RES}")
        log(f"A primary alone: {short(status(a))}")
        self.write_missed(a)
        adm(b, f"up {RES}")
        self.returning_peer("B up after A's writes")

    def test_2_peer_disconnected_while_secondary(self):
        """B connected, disconnects while both are secondary; A becomes
        primary and writes; B connects again."""
        a, b = self.pair.nodes
        self.down_all()
        self.pair.up()
        adm(b, f"disconnect {RES}")
        wait_until(lambda: conn_state(a, b) != "connected", 30, "A to see B disconnected")
        adm(a, f"primary {RES}")
        log(f"A primary, B disconnected: {short(status(a))}")
        self.write_missed(a)
        adm(b, f"connect {RES}")
        self.returning_peer("B disconnected before A's promotion")

    def test_3_peer_added_to_primary(self):
        """A is primary without peers; B is added (low-level add-peer), A
        writes, then A connects to B."""
        a, b = self.pair.nodes
        self.down_all()
        adm(a, f"up {RES}")
        p = peer_of(status(a), b)
        adm(a, f"remove-peer --minor {MINOR} --peer-node-id {b.id}")
        adm(a, f"primary {RES}")
        adm(a, f"add-peer --minor {MINOR} --peer-node-id {b.id} "
               f"--peer {p['peer_ip']}:{p['peer_port']} --local {p['local_ip']}:{p['local_port']} "
               f"--ping-interval-ms {PING_INTERVAL_MS} --ping-timeout-ms {PING_TIMEOUT_MS} "
               f"--connect-timeout-ms {CONNECT_TIMEOUT_MS} --reconnect-max-ms {RECONNECT_MAX_MS}")
        log(f"B added to primary A: {short(status(a))}")
        self.write_missed(a)
        adm(b, f"up {RES}")
        adm(a, f"connect-peer --minor {MINOR} --peer-node-id {b.id}")
        self.returning_peer("B added to primary A")

    def test_4_overlapping_writes_keep_replicas_identical(self):
        """Four writers overlap on the same 4 MiB with direct writes in
        flight; after each run both backing disks are identical."""
        p = self.pair
        a, b = p.nodes
        self.down_all()
        in_parallel(*(lambda n=n: n.run(f"dd if=/dev/zero of={n.disk} bs=1M "
                                        f"count={self.DISK_MIB} oflag=direct status=none",
                                        timeout=600)
                      for n in p.nodes))  # identical disks to begin with
        p.up()
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

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        text = mesh_topology(cls.c.nodes, options=MESH_OPTIONS)
        for n in cls.c.nodes:
            n.insmod()
            write_conf(n, text)
            adm(n, f"up {RES}")

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


if __name__ == "__main__":
    unittest.main()
