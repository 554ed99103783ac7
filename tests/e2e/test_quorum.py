# SPDX-License-Identifier: GPL-2.0
"""Quorum: a partition never lets two sides write.

Two clusters per kernel: three data nodes (QuorumMesh) and two data nodes
with a diskless witness (QuorumWitness), each a full mesh with ``quorum:
majority`` and fast connection timing (a cut link is noticed in about two
seconds).  Every test ends with the data areas of every data node identical
(sha256) and, where fio wrote under a failure, fio's verify-only pass of
every write fio saw acknowledged (its saved verify state) on the final
primary.
"""
import base64
import errno
import os
import random
import shlex
import time
import unittest

from e2elib import (DEV, FIO_DIR, RES, SOAK, ClusterTest, adm, create_md, disk_sha256,
                    in_parallel, log, mesh_topology, new_current_uuid, peer_of, per_kernel,
                    short, status, wait_until, write_conf)
from test_safety import Findings, refused_with, settles

MIB = 1 << 20
OPTIONS = {"ping-interval-ms": 500, "ping-timeout-ms": 2000, "connect-timeout-ms": 2000,
           "reconnect-max-ms": 1000, "quorum": "majority"}
# A node notices a cut link within the ping timeout plus an interval; the
# documented bound for a primary to suspend its writes (operator.rst).
SUSPEND_S = 2.0 + 0.5 + 5
SYNC_S = 300
JOB = os.path.join(FIO_DIR, "acked.fio")
STATE_DIR = "/tmp/acked"


def ak_env(offset, size, iops=40, depth=4):
    return {"AK_OFFSET": str(offset), "AK_SIZE": str(size), "AK_IOPS": str(iops),
            "AK_DEPTH": str(depth)}


def ak_cmd(env, *args):
    pre = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    return (f"mkdir -p {STATE_DIR} && cd {STATE_DIR} && {pre} fio --output-format=terse "
            f"{' '.join(args)} {JOB}")


def writes(node):
    return status(node)["stats"]["writes"]


def stop_fio(node):
    """SIGTERM to fio on node: it saves its verify state when it exits (after
    its writes in flight complete or fail)."""
    node.run("pkill -TERM -x fio || true", quiet=True)


def move_state(src, dst):
    """fio's saved verify state files from src's STATE_DIR to dst's."""
    r = src.run(f"cd {STATE_DIR} && tar cf - *verify.state | base64 -w0", quiet=True)
    assert r.out.strip(), f"no fio verify state on {src.name}"
    dst.run(f"mkdir -p {STATE_DIR} && cd {STATE_DIR} && base64 -d | tar xf -",
            input=r.out.strip(), quiet=True)


def verify_acked(test, node, env, what):
    """fio verify-only of every write the saved state says completed."""
    r = node.run(ak_cmd(env, "--verify_only=1", "--verify_state_load=1"), check=False,
                 timeout=900)
    test.expect(r.rc == 0, f"{what}: verify of the acknowledged writes on {node.name} failed "
                           f"(exit {r.rc}): {r.out[-800:]} {r.err[-800:]}")


def roles(nodes):
    return {n.name: status(n)["role"] for n in nodes}


class QuorumBase(Findings, ClusterTest):
    """A full mesh of data nodes (and WITNESSES diskless nodes, the last
    ones) with quorum majority, UpToDate, no primary."""

    DISK_MIB = 64
    WITNESSES = 0

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        nodes = cls.c.nodes
        cls.data = nodes[:len(nodes) - cls.WITNESSES]
        cls.witnesses = nodes[len(cls.data):]
        text = mesh_topology(nodes, options=OPTIONS, diskless=cls.witnesses)
        for n in nodes:
            n.insmod()
            write_conf(n, text)
        for n in cls.data:
            create_md(n)
        for n in nodes:
            adm(n, f"up {RES}")
        wait_until(cls.all_connected, 90, "every node connected to every other")
        new_current_uuid(cls.data[0])
        wait_until(cls.all_up_to_date, 90, "every data disk up_to_date in every view")

    @classmethod
    def all_connected(cls):
        return all(all(p["conn_state"] == "connected" for p in st["peers"])
                   for st in map(status, cls.c.nodes))

    @classmethod
    def all_up_to_date(cls):
        for n in cls.c.nodes:
            st = status(n)
            if n in cls.data and st["disk_state"] != "up_to_date":
                return False
            for p in st["peers"]:
                if p["conn_state"] != "connected" or p["replication_state"] != "established":
                    return False
                peer_data = any(getattr(d, "rblk_id", d.id) == p["peer_node_id"]
                                for d in cls.data)
                if peer_data and p["peer_disk_state"] != "up_to_date":
                    return False
        return True

    def settled(self, timeout_s=SYNC_S):
        wait_until(lambda: self.all_connected() and self.all_up_to_date(), timeout_s,
                   "every node connected, every data disk up_to_date")

    def tearDown(self):
        for a in self.c.nodes:
            for b in self.c.nodes:
                if a.index < b.index:
                    self.c.restore_link(a, b)
        super().tearDown()

    def cut_off(self, node):
        for n in self.c.nodes:
            if n is not node:
                self.c.cut_link(node, n)

    def reconnect(self, node):
        for n in self.c.nodes:
            if n is not node:
                self.c.restore_link(node, n)

    def equal_replicas(self):
        sums = in_parallel(*(lambda n=n: disk_sha256(n) for n in self.data))
        self.expect(len(set(sums)) == 1,
                    f"replicas differ: {dict(zip((n.name for n in self.data), sums))}")

    def demote_all(self):
        for n in self.data:
            if status(n)["role"] == "primary":
                adm(n, f"secondary {RES}")

    def fig(self, text):
        log(f"FIGURE {self._testMethodName}: {text}")

    def quorum_of(self, node):
        st = status(node)
        return st.get("has_quorum"), st.get("quorum_votes"), st.get("quorum_needed")

    def isolate_primary(self, a, others):
        """fio on primary a; a cut off from every other node: its writes
        stop (held, none fails) within SUSPEND_S; one of the others
        promotes without --force and writes; the links come back: a
        steps down, rejoins as sync target; every acknowledged write of
        a's is on the new primary; every replica equal."""
        adm(a, f"primary {RES}")
        env = ak_env(0, 16 * MIB)
        w0 = writes(a)
        job = a.spawn(ak_cmd(env), timeout=1800)
        wait_until(lambda: writes(a) >= w0 + 40 or job.done, 120, "fio writing on a")
        if job.done:
            self.fail(f"fio on a ended early: {job.wait()!r}")
        t_cut = time.monotonic()
        self.cut_off(a)
        suspended = settles(lambda: self.quorum_of(a)[0] is False, SUSPEND_S,
                            "a to lose quorum")
        t_lost = time.monotonic() - t_cut
        self.expect(suspended, f"a must lose quorum within {SUSPEND_S} s: {short(status(a))}")
        time.sleep(1)
        n1 = writes(a)
        time.sleep(4)
        n2 = writes(a)
        sa = status(a)
        self.fig(f"quorum lost {t_lost:.1f} s after the cut; writes completed on a while "
                 f"suspended: {n2 - n1}; held {sa.get('suspended_writes')}")
        self.expect(n2 == n1, f"a completed {n2 - n1} writes without quorum")
        self.expect(sa.get("suspended") == "no-quorum",
                    f"a must say its writes are suspended for quorum: {short(sa)}")
        self.expect(sa["stats"]["errors"] == 0, f"a failed writes while suspended: {short(sa)}")
        self.expect(adm(a, f"primary {RES}", check=False).rc == 0, "a stays primary")
        # the others: quorum kept, one promotes without --force
        wait_until(lambda: all(peer_of(status(o), a)["conn_state"] != "connected"
                               for o in others), 30, "the others to lose a")
        promoted = None
        deadline = time.monotonic() + 30
        while promoted is None and time.monotonic() < deadline:
            for o in others:
                if adm(o, f"primary {RES}", check=False).rc == 0:
                    promoted = o
                    break
            else:
                time.sleep(1)
        self.assertIsNotNone(promoted, f"no other node promoted without --force: "
                             f"{[short(status(o)) for o in others]}")
        b = promoted
        log(f"{b.name} promoted; roles {roles(self.c.nodes)}")
        w = writes(b)
        b.run(f"dd if=/dev/urandom of={DEV} bs=1M count=4 seek=40 oflag=direct status=none")
        self.expect(writes(b) > w, f"{b.name} must write as the new primary")
        stop_fio(a)
        self.reconnect(a)
        r = job.wait(timeout=120)
        log(f"fio on a after the step-down: exit {r.rc}")
        wait_until(lambda: status(a)["role"] == "secondary", 60, "a to step down")
        self.settled()
        move_state(a, b)
        verify_acked(self, b, env, "every write a acknowledged")
        self.equal_replicas()
        adm(b, f"secondary {RES}")


@per_kernel
class QuorumMesh(QuorumBase):
    NODES = 3

    def test_1_isolated_primary(self):
        """Three data nodes: the primary cut off under fio suspends; the
        two others promote one of themselves; the old primary rejoins."""
        a, b, c = self.data
        self.isolate_primary(a, [b, c])
        self.verdict()

    def test_2_isolated_secondary(self):
        """A secondary cut off under fio: the primary keeps quorum and
        writing; the secondary has none, cannot promote (not even with
        --force: quorum is overridden only by --ignore-quorum) and resyncs
        when it returns."""
        a, b, c = self.data
        adm(a, f"primary {RES}")
        env = ak_env(0, 8 * MIB, iops=60)
        job = a.spawn(ak_cmd(env), timeout=1800)
        wait_until(lambda: writes(a) > 20 or job.done, 120, "fio writing on a")
        self.cut_off(c)
        wait_until(lambda: self.quorum_of(c)[0] is False, SUSPEND_S, "c to lose quorum")
        w = writes(a)
        self.expect(settles(lambda: writes(a) > w + 40, 60, "a to go on writing"),
                    f"a must keep writing with quorum: {short(status(a))}")
        self.expect(self.quorum_of(a)[0] is True, f"a must keep quorum: {short(status(a))}")
        for force in ("", "--force "):
            r = adm(c, f"primary {force}{RES}", check=False)
            self.expect(refused_with(r, errno.ENOTCONN),
                        f"c without quorum must not promote ({force or 'no force'}): "
                        f"exit {r.rc} {r.err.strip()!r}")
        self.expect(status(c)["disk_state"] == "outdated",
                    f"c without quorum must show its disk outdated: {short(status(c))}")
        self.reconnect(c)
        job.wait(timeout=1800)
        self.settled()
        verify_acked(self, a, env, "a's writes")
        self.equal_replicas()
        adm(a, f"secondary {RES}")
        self.verdict()

    def test_3_random_link_cuts(self):
        """Rounds of a random single link cut under fio on the primary:
        never two primaries, no acknowledged write lost, replicas equal."""
        rng = random.Random(int(os.environ.get("RBLK_SEED", "0")) or None)
        seed = rng.randrange(1 << 30)
        rng = random.Random(seed)
        rounds = 20 if SOAK else 5
        log(f"random link cuts: seed {seed}, {rounds} rounds")
        nodes = self.data
        primary = nodes[0]
        adm(primary, f"primary {RES}")
        env = ak_env(0, 24 * MIB, iops=30)
        job = primary.spawn(ak_cmd(env), timeout=3600)
        for i in range(rounds):
            x, y = rng.sample(nodes, 2)
            hold_s = rng.uniform(2, 6)
            log(f"round {i}: cut {x.name}-{y.name} for {hold_s:.1f} s")
            self.c.cut_link(x, y)
            t_end = time.monotonic() + hold_s
            while time.monotonic() < t_end:
                prim = [n.name for n in nodes if status(n)["role"] == "primary"]
                self.expect(len(prim) <= 1, f"round {i}: two primaries {prim}")
                time.sleep(0.5)
            self.c.restore_link(x, y)
            self.settled()
        stop_fio(primary)
        job.wait(timeout=300)
        verify_acked(self, primary, env, "writes acknowledged during the cuts")
        self.equal_replicas()
        adm(primary, f"secondary {RES}")
        self.verdict()


@per_kernel
class QuorumWitness(QuorumBase):
    NODES = 3
    WITNESSES = 1
    # on one kernel in make check (CI budget), on both in make soak
    ONE_KERNEL = {"*": "6.12"}

    def test_1_isolated_primary_with_witness(self):
        """Two data nodes and a witness: the primary cut off under fio
        suspends; the other data node, with the witness, promotes."""
        a, b = self.data
        w = self.witnesses[0]
        self.expect(status(w)["disk_state"] == "diskless", f"witness: {short(status(w))}")
        self.expect(self.quorum_of(a) == (True, 3, 2), f"a's votes: {self.quorum_of(a)}")
        self.isolate_primary(a, [b])
        self.verdict()

    def test_2_data_node_lost(self):
        """The secondary data node cut off: the primary goes on writing with
        the witness's vote; the cut-off node cannot promote; it resyncs when
        it returns."""
        a, b = self.data
        adm(a, f"primary {RES}")
        env = ak_env(0, 8 * MIB, iops=60)
        job = a.spawn(ak_cmd(env), timeout=1800)
        wait_until(lambda: writes(a) > 20 or job.done, 120, "fio writing on a")
        self.cut_off(b)
        wait_until(lambda: self.quorum_of(b)[0] is False, SUSPEND_S, "b to lose quorum")
        w0 = writes(a)
        self.expect(settles(lambda: writes(a) > w0 + 40, 60, "a to go on writing"),
                    f"a must keep writing with the witness: {short(status(a))}")
        r = adm(b, f"primary {RES}", check=False)
        self.expect(refused_with(r, errno.ENOTCONN),
                    f"b without quorum must not promote: exit {r.rc} {r.err.strip()!r}")
        oos = peer_of(status(a), b)["out_of_sync_bytes"]
        self.expect(oos > 0, f"a must track what b misses: {oos}")
        self.reconnect(b)
        job.wait(timeout=1800)
        self.settled()
        verify_acked(self, a, env, "a's writes")
        self.equal_replicas()
        adm(a, f"secondary {RES}")
        self.verdict()


if __name__ == "__main__":
    unittest.main()
