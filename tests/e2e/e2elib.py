# SPDX-License-Identifier: GPL-2.0
"""Shared helpers of rblk's two-node VM tests (tests/e2e/test_*.py).

A test boots a cluster with the rig (scripts/rig.py), loads rblk.ko on every
node, writes a topology file into the guests' /tmp (tmpfs) and brings the
resource up with ``rblkadm -c FILE up``.  Everything is asserted from what the
guests report: rblkadm's JSON status, fio's JSON results, sha256 of the
backing disks, /sys/block/*/stat.

Kernel selection: every test class exists once per kernel (see
``per_kernel``); RBLK_KERNELS="6.1 6.12" (the default) chooses which.

Waiting is always a poll with a deadline (``wait_until``), never a blind
sleep.
"""
import json
import os
import shlex
import sys
import threading
import time
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "scripts"))

import rig  # noqa: E402  (the path above makes it importable)

E2E = os.path.dirname(os.path.abspath(__file__))
FIO_DIR = os.path.join(E2E, "fio")

CONF = "/tmp/rblk-e2e.conf"   # per guest: /tmp is a tmpfs of its own
RES = "r0"
MINOR = 0
DEV = f"/dev/rblk{MINOR}"
BASE_PORT = 7788              # node listens on BASE_PORT + peer node id
DISK_MIB = 320                # holds the 256 MiB fio job; small to hash fast

# Connection timing of the topology: rblk's defaults, spelled out so the
# deadlines below follow them.
PING_INTERVAL_MS = 2000
PING_TIMEOUT_MS = 5000
CONNECT_TIMEOUT_MS = 5000
RECONNECT_MAX_MS = 10000

EROFS, EBUSY = 30, 16


def kernels():
    """Kernels to test, from RBLK_KERNELS (default: "6.1 6.12")."""
    return os.environ.get("RBLK_KERNELS", "6.1 6.12").split()


def per_kernel(cls):
    """Class decorator for a test class derived from ClusterTest (a plain
    mixin, so unittest does not collect it): adds one unittest.TestCase per
    kernel to the class's module, named <cls>_6_1, <cls>_6_12 ..., each with
    KERNEL set."""
    mod = sys.modules[cls.__module__]
    for k in kernels():
        name = f"{cls.__name__}_{k.replace('.', '_')}"
        sub = type(name, (cls, unittest.TestCase), {"KERNEL": k, "__qualname__": name,
                                                    "__module__": cls.__module__})
        setattr(mod, name, sub)
    return cls


def log(msg):
    print(f"[e2e {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def wait_until(fn, timeout_s, what, interval_s=0.5):
    """Call fn() until it returns a true value (returned) or timeout_s
    passes (AssertionError naming `what` and fn's last value)."""
    deadline = time.monotonic() + timeout_s
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}; "
                                 f"last: {last!r}")
        time.sleep(interval_s)


def topology(nodes, assume_clean=True, disk="/dev/vda"):
    """The YAML topology file (rblk.conf(5)) of resource RES on `nodes`
    (rig Nodes), node ids = rig node ids, each node's address the one on
    its link to the other (two nodes: one link)."""
    assert len(nodes) == 2, "the e2e topology is two nodes on one link"
    a, b = nodes
    lines = [
        "# rblk topology: one resource on two nodes (rblk.conf(5))",
        "cluster: e2e",
        "options:",
        f"  ping-interval-ms: {PING_INTERVAL_MS}",
        f"  ping-timeout-ms: {PING_TIMEOUT_MS}",
        f"  connect-timeout-ms: {CONNECT_TIMEOUT_MS}",
        f"  reconnect-max-ms: {RECONNECT_MAX_MS}",
        "resources:",
        f"  - name: {RES}",
        f"    minor: {MINOR}",
        f"    assume-clean: {'true' if assume_clean else 'false'}",
        "    nodes:",
    ]
    for n, peer in ((a, b), (b, a)):
        lines += [f"      - name: {n.name}",
                  f"        node-id: {n.id}",
                  f"        address: {n.ip_for(peer)}:{BASE_PORT}",
                  f"        disk: {disk}"]
    return "\n".join(lines) + "\n"


def adm(node, args, check=True, timeout=120, quiet=False):
    """Run rblkadm with the e2e topology file on node."""
    return node.run(f"{node.rblkadm} -c {CONF} {args}", check=check, timeout=timeout,
                    quiet=quiet)


def write_conf(node, text):
    """Write the topology file CONF (in the guest's tmpfs) on node."""
    node.run(f"cat > {CONF}", input=text, quiet=True)


def status_all(node):
    """rblkadm -j status on node: the list of every device's JSON object."""
    r = node.run(f"{node.rblkadm} -c {CONF} -j status", quiet=True, timeout=60)
    return json.loads(r.out)


def status(node):
    """rblkadm -j status RES on node: the device's JSON object."""
    r = node.run(f"{node.rblkadm} -c {CONF} -j status {RES}", quiet=True, timeout=60)
    devs = json.loads(r.out)
    assert isinstance(devs, list) and len(devs) == 1, f"status: {r.out}"
    return devs[0]


def events_job(node, poke, timeout_s=60):
    """Start ``rblkadm -j events`` on node and return its Job once it is
    known to listen: poke() (which must cause an event on node) is called
    until the job has printed one, at most timeout_s seconds.  The events
    run for at most 10 minutes; kill the Job when done."""
    job = node.spawn(f"{node.rblkadm} -j events --timeout-ms 600000", timeout=660)

    def heard():
        poke()
        time.sleep(0.5)
        return bool(job_events(job)) or job.done
    wait_until(heard, timeout_s, f"{node.name}'s rblkadm events to report an event")
    if job.done:
        raise AssertionError(f"rblkadm events ended early: {job.wait()!r}")
    return job


def job_events(job):
    """The JSON objects of the complete lines an events Job printed so far."""
    text = bytes(job.stdout).decode()
    return [json.loads(line) for line in text.split("\n")[:-1] if line.strip()]


def peer_of(st, peer):
    """The entry for rig node `peer` in a status object's peers."""
    for p in st.get("peers", []):
        if p["peer_node_id"] == peer.id:
            return p
    raise AssertionError(f"no peer {peer.id} in status {st}")


def short(st):
    """One line summary of a status object, for messages."""
    ps = ", ".join(f"peer {p['peer_node_id']}: {p['conn_state']}/{p['peer_role']}/"
                   f"{p['peer_disk_state']}" for p in st.get("peers", []))
    return f"{st['role']}/{st['disk_state']} [{ps}]"


def vda_flushes(node, dev="vda"):
    """Completed flush requests of a block device (/sys/block/DEV/stat field
    16, present since Linux 5.5: both 6.1 and 6.12 have it)."""
    f = node.run(f"cat /sys/block/{dev}/stat", quiet=True).out.split()
    assert len(f) >= 17, f"/sys/block/{dev}/stat has {len(f)} fields: {f}"
    return int(f[15])


def in_parallel(*calls):
    """Run the callables concurrently (each its own thread); returns their
    results in order, re-raises the first exception."""
    results = [None] * len(calls)
    errors = []

    def one(i, fn):
        try:
            results[i] = fn()
        except BaseException as e:  # handed to the caller
            errors.append(e)

    ts = [threading.Thread(target=one, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]
    return results


def disk_sha256(node, dev="/dev/vda"):
    """sha256 (hex) of a whole block device on node, read with O_DIRECT:
    the page cache of a backing disk knows nothing of the writes rblk
    submitted to it as bios, so a buffered read could return stale data."""
    return node.run(f"dd if={dev} bs=1M iflag=direct status=none | sha256sum", quiet=True,
                    timeout=900).out.split()[0]


def fio(node, job, *args, check=True, timeout=1800):
    """Run fio job file tests/e2e/fio/<job>.fio on node with extra command
    line args; returns (Result, parsed JSON or None)."""
    path = os.path.join(FIO_DIR, job + ".fio")
    cmd = "fio --output-format=json " + " ".join(shlex.quote(a) for a in args) + f" {path}"
    r = node.run(cmd, check=check, timeout=timeout)
    data = None
    try:
        data = json.loads(r.out[r.out.index("{"):])
    except ValueError:
        pass
    return r, data


class Pair:
    """Two nodes of one cluster with resource RES: A = nodes[0], B = nodes[1]."""

    def __init__(self, cluster):
        self.c = cluster
        self.a, self.b = cluster.nodes[:2]

    @property
    def nodes(self):
        return (self.a, self.b)

    def other(self, n):
        return self.b if n is self.a else self.a

    def setup(self):
        """Load rblk.ko and write the topology file on both nodes."""
        text = topology(self.nodes)
        for n in self.nodes:
            if n.run("test -d /sys/module/rblk", check=False, quiet=True).rc != 0:
                n.insmod()
            write_conf(n, text)

    def up(self):
        """rblkadm up on both, wait until connected with both disks
        UpToDate, both secondary."""
        for n in self.nodes:
            adm(n, f"up {RES}")
        self.wait_connected()

    def wait_connected(self, timeout_s=None):
        """Both sides see the other connected and UpToDate."""
        if timeout_s is None:
            timeout_s = (CONNECT_TIMEOUT_MS + RECONNECT_MAX_MS + PING_TIMEOUT_MS) / 1000 + 30

        def ok():
            sts = [status(n) for n in self.nodes]
            for n, st in zip(self.nodes, sts):
                p = peer_of(st, self.other(n))
                if p["conn_state"] != "connected" or p["peer_disk_state"] != "up_to_date" \
                        or st["disk_state"] != "up_to_date":
                    return None
            return sts
        return wait_until(ok, timeout_s, "both nodes connected and up_to_date")

    def wait_connected_any(self, timeout_s=None):
        """Both sides see the other connected, whatever the disk states."""
        if timeout_s is None:
            timeout_s = (CONNECT_TIMEOUT_MS + RECONNECT_MAX_MS + PING_TIMEOUT_MS) / 1000 + 30

        def ok():
            sts = [status(n) for n in self.nodes]
            return all(peer_of(st, self.other(n))["conn_state"] == "connected"
                       for n, st in zip(self.nodes, sts)) and sts
        return wait_until(ok, timeout_s, "both nodes connected")

    def make_primary(self, node):
        """Demote the other node if needed, promote node; waits until the
        other node sees it primary."""
        other = self.other(node)
        if status(other)["role"] == "primary":
            adm(other, f"secondary {RES}")
        if status(node)["role"] != "primary":
            adm(node, f"primary {RES}")
        wait_until(lambda: peer_of(status(other), node)["peer_role"] == "primary", 30,
                   f"{other.name} to see {node.name} primary")

    def ensure(self, primary=None):
        """Bring the pair to a known state: up, connected, both UpToDate,
        `primary` (a node or None) primary, the other secondary.  Does a
        full down/up when the state is not that.  Unmounts what an earlier
        failed test may have left mounted on /tmp/mnt."""
        for n in self.nodes:
            n.run("! grep -q ' /tmp/mnt ' /proc/mounts || umount /tmp/mnt", quiet=True)
        try:
            self.wait_connected(timeout_s=5)
            healthy = True
        except (AssertionError, rig.CommandError, ValueError):
            healthy = False
        if not healthy:
            log("pair not connected/up_to_date: down + up")
            for n in self.nodes:
                if status_or_none(n) is not None:
                    if status(n)["role"] == "primary":
                        adm(n, f"secondary {RES}", check=False)
                    adm(n, f"down {RES}", check=False)
            self.up()
        if primary is None:
            for n in self.nodes:
                if status(n)["role"] == "primary":
                    adm(n, f"secondary {RES}")
        else:
            self.make_primary(primary)


def status_or_none(node):
    r = node.run(f"{node.rblkadm} -c {CONF} -j status {RES}", check=False, quiet=True)
    if r.rc != 0:
        return None
    devs = json.loads(r.out)
    return devs[0] if devs else None


class ClusterTest:
    """One cluster per test class (booted in setUpClass, closed in
    tearDownClass).  After every test the guests' console logs are checked:
    a new forbidden line (WARNING:, BUG:, Oops, ...; see rig.BAD_LOG_PATTERNS)
    fails that test.  The rig checks the whole log once more when the
    cluster closes."""

    KERNEL = None
    NODES = 2
    DISK_MIB = DISK_MIB
    DISKS = 1

    @classmethod
    def setUpClass(cls):
        t0 = time.monotonic()
        cls.c = rig.Cluster(kernel=cls.KERNEL, nodes=cls.NODES, disk_mib=cls.DISK_MIB,
                            disks=cls.DISKS, name=f"{cls.__name__}")
        cls.seen_problems = 0
        cls.pair = Pair(cls.c) if cls.NODES >= 2 else None
        log(f"{cls.__name__}: cluster up in {time.monotonic() - t0:.1f} s")

    @classmethod
    def tearDownClass(cls):
        c = getattr(cls, "c", None)
        if c is not None:
            c.close()  # raises GuestLogError on a forbidden console line

    def setUp(self):
        self.t0 = time.monotonic()

    def tearDown(self):
        log(f"{self.id()}: {time.monotonic() - self.t0:.1f} s")
        problems = self.c.log_problems()
        new = problems[type(self).seen_problems:]
        type(self).seen_problems = len(problems)
        if new:
            self.fail("guest console log has forbidden lines:\n" +
                      "\n".join(f"  {n}: {l}" for n, l in new))


def mesh_topology(nodes, assume_clean=True, options=None):
    """The YAML topology file of resource RES on any number of `nodes` (rig
    Nodes) cabled point to point, a full mesh: node ids = rig node ids, each
    node's address the one on its link to the first other node, an
    ``address-for`` entry for every further peer.  `options` (a dict) overrides
    the connection timing of ``topology``."""
    opts = {"ping-interval-ms": PING_INTERVAL_MS, "ping-timeout-ms": PING_TIMEOUT_MS,
            "connect-timeout-ms": CONNECT_TIMEOUT_MS, "reconnect-max-ms": RECONNECT_MAX_MS}
    opts.update(options or {})
    lines = ["# rblk topology: one resource on a full mesh (rblk.conf(5))", "cluster: e2e",
             "options:"] + [f"  {k}: {v}" for k, v in opts.items()] + [
             "resources:", f"  - name: {RES}", f"    minor: {MINOR}",
             f"    assume-clean: {'true' if assume_clean else 'false'}", "    nodes:"]
    for n in nodes:
        first, *rest = [p for p in nodes if p is not n]
        lines += [f"      - name: {n.name}", f"        node-id: {n.id}",
                  f"        address: {n.ip_for(first)}:{BASE_PORT}"]
        if rest:
            lines.append("        address-for: {" + ", ".join(
                f"{p.name}: {n.ip_for(p)}:{BASE_PORT}" for p in rest) + "}")
        lines.append(f"        disk: {n.disk}")
    return "\n".join(lines) + "\n"
