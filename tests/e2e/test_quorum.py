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
import errno
import os
import random
import re
import shlex
import time
import unittest

from e2elib import (DEV, FIO_DIR, RES, SOAK, ClusterTest, adm, create_md, disk_sha256,
                    in_parallel, log, mesh_topology, new_current_uuid, peer_of, per_kernel,
                    short, status, wait_until, write_conf)
from test_resync import DONE_RE
from test_safety import Findings, refused_with, settles

MIB = 1 << 20
OPTIONS = {"ping-interval-ms": 500, "ping-timeout-ms": 2000, "connect-timeout-ms": 2000,
           "reconnect-max-ms": 1000, "quorum": "majority"}
# A node notices a cut link within the ping timeout plus an interval; the
# documented bound for a primary to suspend its writes (operator.rst).
SUSPEND_S = 2.0 + 0.5 + 5
SYNC_S = 300
JOB = os.path.join(FIO_DIR, "acked.fio")
BULK_JOB = os.path.join(FIO_DIR, "bulk.fio")
STATE_DIR = "/tmp/acked"


def ak_env(offset, size, iops=40, depth=4):
    return {"AK_OFFSET": str(offset), "AK_SIZE": str(size), "AK_IOPS": str(iops),
            "AK_DEPTH": str(depth)}


def ak_cmd(env, *args, job=JOB):
    pre = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    return (f"mkdir -p {STATE_DIR} && cd {STATE_DIR} && {pre} fio --output-format=terse "
            f"{' '.join(args)} {job}")


# fsync of argv[1] in a loop (each one an empty flush), the count in
# /tmp/fsyncs, until /tmp/stop-fsyncs exists
FSYNC_LOOP = """
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
i = 0
while not os.path.exists("/tmp/stop-fsyncs"):
    os.fsync(fd)
    i += 1
    with open("/tmp/fsyncs.new", "w") as f:
        f.write(str(i))
    os.replace("/tmp/fsyncs.new", "/tmp/fsyncs")
"""


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


FAILED_WRITE_RE = re.compile(r"io_u error on file \S+: .*: write offset=(\d+)")
BAD_BLOCK_RE = re.compile(r"verify: .* at file \S+ offset (\d+), length")


def failed_writes(result):
    """Offsets of the writes fio reported as failed (EIO) in a run's output:
    their content is undefined.  fio's saved verify state counts a write
    that completed with an error as done, so its verify-only pass expects
    it."""
    return {int(m.group(1)) for m in FAILED_WRITE_RE.finditer(result.out + result.err)}


def verify_acked(test, node, env, what, job=JOB, failed=frozenset()):
    """fio verify-only of every write the saved state says completed;
    blocks whose write fio saw fail (`failed` offsets) are not counted."""
    r = node.run(ak_cmd(env, "--verify_only=1", "--verify_state_load=1", job=job),
                 check=False, timeout=900)
    bad = {int(m.group(1)) for m in BAD_BLOCK_RE.finditer(r.out + r.err)}
    if r.rc != 0 and bad and bad <= set(failed):
        log(f"{what}: verify mismatches only at writes fio saw fail: {sorted(bad)}")
        return
    test.expect(r.rc == 0, f"{what}: verify of the acknowledged writes on {node.name} failed "
                           f"(exit {r.rc}; writes that failed: {sorted(failed)}): "
                           f"{r.out[-800:]} {r.err[-800:]}")


def resync_done(src, tgt):
    """Bytes of the resyncs src finished to tgt (src's kernel log)."""
    return [int(m.group(2)) for m in map(DONE_RE.search, src.dmesg().splitlines())
            if m and int(m.group(1)) == tgt.id]


def roles(nodes):
    return {n.name: status(n)["role"] for n in nodes}


class QuorumBase(Findings, ClusterTest):
    """A full mesh of data nodes (and WITNESSES diskless nodes, the last
    ones) with quorum majority, UpToDate, no primary."""

    DISK_MIB = 64
    WITNESSES = 0
    OPTIONS = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        nodes = cls.c.nodes
        cls.data = nodes[:len(nodes) - cls.WITNESSES]
        cls.witnesses = nodes[len(cls.data):]
        text = mesh_topology(nodes, options={**OPTIONS, **cls.OPTIONS},
                             diskless=cls.witnesses)
        cls.topology = text
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
        try:
            wait_until(lambda: self.all_connected() and self.all_up_to_date(), timeout_s,
                       "every node connected, every data disk up_to_date")
        except AssertionError:
            for n in self.c.nodes:     # what each node saw, for the report
                log(f"{n.name} not settled: {status(n)}")
            raise

    def tearDown(self):
        for a in self.c.nodes:
            for b in self.c.nodes:
                if a.index < b.index:
                    self.c.restore_link(a, b)
        down = [n for n in self.c.nodes if not n.up]
        if down:
            self.boot(*down)
        super().tearDown()

    def cut_off(self, node):
        for n in self.c.nodes:
            if n is not node:
                self.c.cut_link(node, n)

    def reconnect(self, node):
        for n in self.c.nodes:
            if n is not node:
                self.c.restore_link(node, n)

    def boot(self, *nodes):
        """Power on nodes that are down, with the module, the file and up."""
        in_parallel(*(lambda n=n: self.c.start(n) for n in nodes))
        for n in nodes:
            n.insmod()
            write_conf(n, self.topology)
            adm(n, f"up {RES}")

    def equal_replicas(self):
        sums = in_parallel(*(lambda n=n: disk_sha256(n) for n in self.data))
        self.expect(len(set(sums)) == 1,
                    f"replicas differ: {dict(zip((n.name for n in self.data), sums))}")

    def demote_all(self):
        for n in self.data:
            if status(n)["role"] == "primary":
                adm(n, f"secondary {RES}")

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
        failed = failed_writes(r)
        log(f"fio on a after the step-down: exit {r.rc}; writes that failed: {sorted(failed)}; "
            f"{r.err.strip()[-300:]!r}")
        wait_until(lambda: status(a)["role"] == "secondary", 60, "a to step down")
        self.settled()
        move_state(a, b)
        verify_acked(self, b, env, "every write a acknowledged", failed=failed)
        self.equal_replicas()
        adm(b, f"secondary {RES}")


@per_kernel
class QuorumMesh(QuorumBase):
    NODES = 3
    # on one kernel in make check (CI budget), on both in make soak
    # the isolated primary: make soak only (test_chaos.py's rounds cut the
    # primary off in make check)
    ONE_KERNEL = {"test_5_fencing": "6.12", "test_3_random_link_cuts": "6.12",
                  "test_1_isolated_primary": "soak", "test_2_isolated_secondary": "6.12",
                  "test_4_auto_promote": "6.12", "test_1b_flush_across_a_cut": "6.12"}

    def test_1_isolated_primary(self):
        """Three data nodes: the primary cut off under fio suspends; the
        two others promote one of themselves; the old primary rejoins."""
        a, b, c = self.data
        self.isolate_primary(a, [b, c])
        self.verdict()

    def test_1b_flush_across_a_cut(self):
        """The primary fsyncs /dev/rblk0 in a loop (each an empty flush)
        and is cut off from both peers until it has lost quorum;
        the links come back.  The flush in flight at the cut (its legs
        lost with the connections, and a flush has no blocks a resync
        brings) is sent to the peers again once quorum is back and
        completes: the loop goes on, no fsync fails, the replicas are
        equal."""
        a = self.data[0]
        adm(a, f"primary {RES}")
        a.run("rm -f /tmp/fsyncs /tmp/stop-fsyncs")
        loop = a.spawn(["python3", "-c", FSYNC_LOOP, DEV], timeout=900)

        def fsyncs():
            out = a.run("cat /tmp/fsyncs 2>/dev/null || echo 0", quiet=True).out.strip()
            return int(out or 0)

        wait_until(lambda: fsyncs() >= 20 or loop.done, 120, "a's fsync loop")
        self.cut_off(a)
        wait_until(lambda: self.quorum_of(a)[0] is False, SUSPEND_S, "a to lose quorum")
        held = status(a).get("suspended_writes")
        self.reconnect(a)
        wait_until(lambda: self.quorum_of(a)[0] is True, 90, "a's quorum back")
        n = fsyncs()
        went_on = settles(lambda: fsyncs() >= n + 20 or loop.done, 60, "a's fsyncs to go on")
        sa = status(a)
        log(f"fsyncs across the cut: held at the cut {held}; {n} before, {fsyncs()} after "
            f"the links came back; {short(sa)}, held {sa.get('suspended_writes')}")
        a.run("touch /tmp/stop-fsyncs")
        r = loop.wait(timeout=300)
        self.expect(went_on and r.rc == 0,
                    f"a's fsyncs must go on once quorum is back, none failing: exit {r.rc} "
                    f"{r.err.strip()[-300:]!r}; {fsyncs()} (was {n}); held "
                    f"{sa.get('suspended_writes')}")
        self.settled()
        self.equal_replicas()
        adm(a, f"secondary {RES}")
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

    def test_4_auto_promote(self):
        """auto-promote: an open for writing promotes a secondary when a
        PRIMARY request would succeed, the last close demotes it; refused
        (EROFS) while another node is primary or without quorum; a read-only
        open never promotes; a manual primary stays at the last close."""
        a, b, c = self.data
        self.demote_all()
        for n in (b, c):
            adm(n, f"device-options {RES} --auto-promote yes")
        self.expect(status(b).get("auto_promote") is True, f"b: {short(status(b))}")
        b.run(f"dd if={DEV} of=/dev/null bs=4k count=16 iflag=direct status=none")
        self.expect(status(b)["role"] == "secondary", "a read-only open must not promote")
        # b holds /dev/rblk0 open for writing on fd 3 while dd writes through it
        job = b.spawn(f"exec 3<>{DEV}; dd if=/dev/urandom of={DEV} bs=1M count=4 seek=8 "
                      f"oflag=direct conv=notrunc status=none && sleep 8; exec 3>&-",
                      timeout=120)
        wait_until(lambda: status(b)["role"] == "primary" or job.done, 30, "b auto-promoted")
        st = status(b)
        self.expect(st["role"] == "primary" and st.get("auto_promoted") is True,
                    f"b must be auto-promoted while open: {short(st)}")
        for n in (c, a):
            r = n.run(f"dd if=/dev/zero of={DEV} bs=4k count=1 oflag=direct conv=notrunc "
                      f"status=none", check=False, quiet=True)
            self.expect(r.rc != 0 and "Read-only file system" in r.err,
                        f"{n.name}: an open for writing while b is primary must fail with "
                        f"EROFS: exit {r.rc} {r.err.strip()!r}")
            self.expect(status(n)["role"] == "secondary", f"{n.name} must stay secondary")
        r = job.wait(timeout=120)
        self.expect(r.rc == 0, f"writes through the auto-promoted b failed: {r!r}")
        wait_until(lambda: status(b)["role"] == "secondary", 30, "b demoted at the last close")
        self.expect(status(b).get("auto_promoted") is False, f"b: {short(status(b))}")
        # a manual promotion is the operator's: the last close keeps it
        adm(b, f"primary {RES}")
        b.run(f"dd if=/dev/urandom of={DEV} bs=1M count=1 seek=20 oflag=direct conv=notrunc "
              f"status=none")
        self.expect(status(b)["role"] == "primary", "a manual primary must stay at the close")
        adm(b, f"secondary {RES}")
        # no quorum: refused, and the kernel log says why
        self.cut_off(c)
        wait_until(lambda: self.quorum_of(c)[0] is False, SUSPEND_S, "c to lose quorum")
        r = c.run(f"dd if=/dev/zero of={DEV} bs=4k count=1 oflag=direct conv=notrunc "
                  f"status=none", check=False, quiet=True)
        self.expect(r.rc != 0 and "Read-only file system" in r.err,
                    f"c without quorum must not auto-promote: exit {r.rc} {r.err.strip()!r}")
        log_lines = c.run("dmesg | grep 'auto-promote refused' || true", quiet=True).out
        self.expect("no quorum" in log_lines, f"c's log must say why: {log_lines!r}")
        self.reconnect(c)
        self.settled()
        for n in (b, c):
            adm(n, f"device-options {RES} --auto-promote no")
        self.equal_replicas()
        self.verdict()

    # The kernel runs the handler in PID 1's root: the rig's initramfs,
    # outside the chroot of the test's commands.  A wrapper there runs the
    # script in the chroot.
    FENCE_HANDLER = "/bin/rig-fence-peer"
    FENCE_WRAPPER = '#!/bin/sh\nexec chroot /host /tmp/fence-peer "$@"\n'
    FENCE_SCRIPT = """#!/bin/sh
env | grep '^RBLK_' | sort > /tmp/fence.$RBLK_PEER_NODE_ID.env
echo "$1" >> /tmp/fence.args
i=0
while [ ! -e /tmp/fence.release ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
exit $(cat /tmp/fence.rc 2>/dev/null || echo 0)
"""

    def fenced_cut(self, a, x, rc):
        """Primary a under fio loses its link to x with a fence-peer
        handler exiting rc: its writes wait while the handler runs (it
        runs until this releases it, at most 60 s)."""
        a.run(f"echo {rc} > /tmp/fence.rc; rm -f /tmp/fence.{x.id}.env /tmp/fence.release",
              quiet=True)
        self.c.cut_link(a, x)
        wait_until(lambda: status(a).get("suspended") == "fencing", SUSPEND_S,
                   "a to suspend its writes for fencing")
        time.sleep(0.5)
        n1 = writes(a)
        time.sleep(2)
        n2 = writes(a)
        self.expect(n2 == n1, f"a completed {n2 - n1} writes while fencing {x.name}")
        self.expect(x.id in status(a).get("fence_pending", []),
                    f"a must show {x.name} pending: {short(status(a))}")
        a.run("touch /tmp/fence.release", quiet=True)

    def test_5_fencing(self):
        """fencing resource-and-stonith: a primary that loses a data peer
        runs the handler with the documented environment; writes wait
        until it exits 0; a failing handler keeps them waiting until
        resume-io; nothing acknowledged is lost, replicas equal."""
        a, b, c = self.data
        r = adm(a, f"device-options {RES} --fencing resource-only", check=False)
        self.expect(r.rc != 0 and "fence handler" in r.err,
                    f"fencing without a handler must be refused: {r.rc} {r.err.strip()!r}")
        r = adm(a, f"device-options {RES} --fence-handler tmp/relative", check=False)
        self.expect(r.rc != 0, f"a relative handler path must be refused: {r.rc}")
        a.run("cat > /tmp/fence-peer && chmod 755 /tmp/fence-peer", input=self.FENCE_SCRIPT,
              quiet=True)
        handler = f"/proc/1/root{self.FENCE_HANDLER}"
        a.run(f"cat > {handler} && chmod 755 {handler}", input=self.FENCE_WRAPPER, quiet=True)
        adm(a, f"device-options {RES} --fencing resource-and-stonith "
               f"--fence-handler {self.FENCE_HANDLER}")
        st = status(a)
        self.expect(st.get("fencing") == "resource-and-stonith" and
                    st.get("fence_handler") == self.FENCE_HANDLER, f"a: {short(st)}")
        adm(a, f"primary {RES}")
        env = ak_env(0, 8 * MIB, iops=60)
        job = a.spawn(ak_cmd(env), timeout=1800)
        wait_until(lambda: writes(a) > 20 or job.done, 120, "fio writing on a")
        # the handler succeeds: writes go on once it returns
        t0 = time.monotonic()
        self.fenced_cut(a, b, 0)
        wait_until(lambda: status(a).get("suspended") == "no", 30, "the fencing to end")
        self.fig(f"writes suspended for fencing about {time.monotonic() - t0:.1f} s "
                 f"(the handler returns when released)")
        w = writes(a)
        self.expect(settles(lambda: writes(a) > w + 20, 30, "a to write again"),
                    f"a must write again after the fencing: {short(status(a))}")
        got = a.run(f"cat /tmp/fence.{b.id}.env", quiet=True).out.split()
        want = ["RBLK_FENCING=resource-and-stonith", f"RBLK_MINOR={status(a)['minor']}",
                f"RBLK_NODE_ID={a.id}", f"RBLK_PEER_NODE_ID={b.id}",
                "RBLK_REASON=connection-lost", f"RBLK_RESOURCE={RES}"]
        self.expect(all(v in got for v in want), f"handler environment: {got}")
        self.expect(any(v.startswith(f"RBLK_PEER_ADDRESS={b.ip_for(a)}:") for v in got),
                    f"RBLK_PEER_ADDRESS: {got}")
        self.expect(a.run("cat /tmp/fence.args", quiet=True).out.split() == ["fence-peer"],
                    "the handler's argument must be fence-peer")
        self.c.restore_link(a, b)
        self.settled()
        # the handler fails: writes wait until the operator resumes them
        self.fenced_cut(a, c, 1)
        time.sleep(2)   # the handler, released, exits 1
        w = writes(a)
        time.sleep(2)
        st = status(a)
        self.expect(writes(a) == w and st.get("suspended") == "fencing",
                    f"a failed handler must keep writes suspended: {short(st)}")
        adm(a, f"resume-io {RES}")
        self.expect(settles(lambda: writes(a) > w + 20, 30, "a to write after resume-io"),
                    f"resume-io must let a write: {short(status(a))}")
        self.c.restore_link(a, c)
        stop_fio(a)
        job.wait(timeout=300)
        self.settled()
        verify_acked(self, a, env, "writes acknowledged around the fencing")
        self.equal_replicas()
        adm(a, f"device-options {RES} --fencing off --fence-handler ''")
        adm(a, f"secondary {RES}")
        self.verdict()


def source_starts(node):
    """Resyncs node started as sync source (its kernel log)."""
    return node.run("dmesg | grep -c 'resync started' || true", quiet=True).out.strip()


def sync_view(node, nodes):
    """The entry for node in the status of its sync source among nodes (the
    source counts the resync's bytes), or None when none resyncs it."""
    for n in nodes:
        if n is not node and n.up:
            p = peer_of(status(n), node)
            if p.get("replication_state") == "sync_source":
                return p
    return None


@per_kernel
class QuorumRecovery(QuorumBase):
    """Three data nodes: what a returning replica gets, and who may be a
    sync source.  A fixed resync rate keeps each resync long enough to be
    interrupted."""
    NODES = 3
    BULK_MIB = 256 if SOAK else 32
    DISK_MIB = BULK_MIB + 64
    WRITE_S = 120 if SOAK else 20
    OPTIONS = {"resync-rate-kib-per-s": 2048}
    # on one kernel in make check (CI budget), on both in make soak
    # the flapping peer's resync (145 s): make soak only
    ONE_KERNEL = {"*": "6.1", "test_3_resync_while_a_peer_flaps": "soak"}

    def missed_bulk(self, a, x):
        """a primary writes BULK_MIB with x cut off; returns fio's env."""
        adm(a, f"primary {RES}")
        self.cut_off(x)
        wait_until(lambda: peer_of(status(a), x)["conn_state"] != "connected", 30,
                   f"a loses {x.name}")
        env = ak_env(16 * MIB, self.BULK_MIB * MIB, depth=4)
        r = a.run(ak_cmd(env, job=BULK_JOB), check=False, timeout=1800)
        self.expect(r.rc == 0, f"bulk writes on a: {r.rc} {r.err[-500:]}")
        return env

    def test_1_returning_replica(self):
        """b disconnected and powered off while a writes 16 scattered 4k
        blocks and 32 MiB of random writes; b returns: it resyncs at least
        what a counted out of sync, never reports UpToDate before its data
        is identical, and verify-only of a's writes passes on b."""
        a, b, c = self.data
        adm(a, f"primary {RES}")
        self.cut_off(b)
        self.c.kill(b)
        wait_until(lambda: peer_of(status(a), b)["conn_state"] != "connected", 30, "a loses b")
        rng = random.Random(int(os.environ.get("RBLK_SEED", "0")) or None)
        size_blocks = status(a)["size_sectors"] // 8
        blocks = rng.sample(range(48 * MIB // 4096, size_blocks), 16)
        t0 = time.monotonic()
        env = ak_env(8 * MIB, 32 * MIB, iops=max(8192 // (self.WRITE_S - 2), 50), depth=8)
        job = a.spawn(ak_cmd(env), timeout=1800)
        for i, blk in enumerate(blocks):
            a.run(f"dd if=/dev/urandom of={DEV} bs=4k count=1 seek={blk} oflag=direct "
                  f"conv=notrunc status=none", quiet=True)
            time.sleep(max(0, t0 + (i + 1) * self.WRITE_S / 17 - time.monotonic()))
        r = job.wait(timeout=1800)
        self.expect(r.rc == 0, f"fio on a: {r!r}")
        oos = peer_of(status(a), b)["out_of_sync_bytes"]
        self.fig(f"written for {time.monotonic() - t0:.0f} s; a's out-of-sync bytes for b {oos}")
        self.expect(oos >= 32 * MIB + 16 * 4096,
                    f"a must count what b missed: {oos} < 32 MiB + 16 blocks")
        n0 = {n.name: len(resync_done(n, b)) for n in (a, c)}
        self.boot(b)
        self.reconnect(b)
        seen = []
        while True:
            st = status(b)
            pa = peer_of(st, a)
            seen.append((st["disk_state"], pa.get("replication_state")))
            if st["disk_state"] == "up_to_date":
                break
            self.expect(len(seen) < 3000, f"b not up_to_date: {seen[-3:]}")
            time.sleep(0.2)
        # a writes nothing any more: at the first UpToDate, b must be identical
        sa, sb = in_parallel(lambda: disk_sha256(a), lambda: disk_sha256(b))
        self.expect(sa == sb, f"b reported up_to_date with data that differs from a's "
                              f"(states seen {seen[-5:]})")
        done = wait_until(lambda: resync_done(a, b)[n0[a.name]:] or
                          resync_done(c, b)[n0[c.name]:], 60,
                          "the resync to b done in a source's log")
        self.fig(f"out of sync {oos} bytes; resynced {done[-1]} bytes")
        self.expect(done[-1] >= oos, f"resync {done[-1]} < out of sync {oos}")
        self.settled()
        adm(a, f"secondary {RES}")
        adm(b, f"primary {RES}")
        move_state(a, b)
        verify_acked(self, b, env, "a's writes, on b")
        adm(b, f"secondary {RES}")
        self.equal_replicas()
        self.verdict()

    def test_2_interrupted_target_never_source(self):
        """c misses BULK_MIB of writes; its resync is cut at about half; a
        and b lose power: c stays Inconsistent, cannot promote and is
        nobody's sync source; a and b return: c's resync restarts from
        them, every replica equal, a's acknowledged writes on c."""
        a, b, c = self.data
        env = self.missed_bulk(a, c)
        starts0 = source_starts(c)
        self.reconnect(c)
        half = wait_until(lambda: (lambda p: p and p["resync_total_bytes"] and
                                   p["resync_done_bytes"] >= p["resync_total_bytes"] // 2 and p)
                          (sync_view(c, self.data)), 300, "c's resync half done",
                          interval_s=0.3)
        self.cut_off(c)
        self.fig(f"c's resync cut at {half['resync_done_bytes']} of "
                 f"{half['resync_total_bytes']} bytes")
        move_state(a, c)
        in_parallel(lambda: self.c.kill(a), lambda: self.c.kill(b))
        self.reconnect(c)
        wait_until(lambda: all(p["conn_state"] != "connected" for p in status(c)["peers"]),
                   30, "c alone")
        time.sleep(3)
        st = status(c)
        self.expect(st["disk_state"] == "inconsistent", f"c must stay inconsistent: {short(st)}")
        for opt in ("", "--ignore-quorum "):
            r = adm(c, f"primary {opt}{RES}", check=False)
            self.expect(r.rc != 0, f"c must not promote ({opt or 'plain'}): {r.err.strip()!r}")
        self.boot(a, b)
        self.settled()
        self.expect(source_starts(c) == starts0,
                    f"c, an interrupted target, must never be a sync source: "
                    f"{starts0} -> {source_starts(c)} resync starts in its log")
        adm(c, f"primary {RES}")
        verify_acked(self, c, env, "a's bulk writes, on c", job=BULK_JOB)
        adm(c, f"secondary {RES}")
        self.equal_replicas()
        self.verdict()

    def test_3_resync_while_a_peer_flaps(self):
        """b's resync goes on while c's links are cut and restored three
        times for 5 s: no stall longer than 60 s, replicas equal."""
        a, b, c = self.data
        # the previous test's primary (c) stepped down just now: its new
        # generation may still be on its way to a
        self.settled()
        env = self.missed_bulk(a, b)
        self.reconnect(b)
        wait_until(lambda: sync_view(b, self.data), 60, "b's resync running")
        last_done, last_t, worst, flaps = -1, time.monotonic(), 0.0, 0
        next_flap = time.monotonic()
        while True:
            st = status(b)
            p = sync_view(b, self.data)
            now = time.monotonic()
            if p is None and st["disk_state"] == "up_to_date":
                break
            done = p["resync_done_bytes"] if p else last_done
            if done != last_done:
                last_done, last_t = done, now
            worst = max(worst, now - last_t)
            self.assertLess(now - last_t, 60, f"b's resync stalled for 60 s: {short(st)}")
            if flaps < 3 and now >= next_flap:
                self.cut_off(c)
                time.sleep(5)
                self.reconnect(c)
                flaps += 1
                next_flap = time.monotonic() + 1
            time.sleep(0.5)
        self.fig(f"c cut {flaps} times during b's resync; longest time without progress "
                 f"{worst:.1f} s")
        self.settled()
        verify_acked(self, a, env, "a's writes", job=BULK_JOB)
        adm(a, f"secondary {RES}")
        self.equal_replicas()
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
