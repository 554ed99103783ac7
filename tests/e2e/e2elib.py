# SPDX-License-Identifier: GPL-2.0
"""Shared helpers of rblk's two-node VM tests (tests/e2e/test_*.py).

A test boots a cluster with the rig (scripts/rig.py), loads rblk.ko on every
node, writes a topology file into the guests' /tmp (tmpfs) and brings the
resource up on its fresh disks (``Pair.bring_up``): ``rblkadm create-md``
on every node (the metadata at the end of each disk), ``rblkadm up`` on
every node, and once they are connected ``rblkadm new-current-uuid
--clear-bitmap`` on one node (the blank disks are identical: no initial
sync), then both disks are UpToDate.  Everything is asserted from what the
guests report: rblkadm's JSON status, fio's JSON results, sha256 of the data
area of the backing disks (the first size_sectors: the metadata after it
differs between nodes), /sys/block/*/stat.

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

# `make soak` (RBLK_SOAK=1): the long variants (more reboots, longer fio,
# more reconnect cycles) of the tests that have them.
SOAK = os.environ.get("RBLK_SOAK") == "1"
# `make check` on the debug kernel: only each class's DEBUG_CORE tests.
DEBUG_CORE_ONLY = os.environ.get("RBLK_DEBUG_CORE") == "1"


def kernels():
    """Kernels to test, from RBLK_KERNELS (default: "6.1 6.12")."""
    return os.environ.get("RBLK_KERNELS", "6.1 6.12").split()


def per_kernel(cls):
    """Class decorator for a test class derived from ClusterTest (a plain
    mixin, so unittest does not collect it): adds one unittest.TestCase per
    kernel to the class's module, named <cls>_6_1, <cls>_6_12 ..., each with
    KERNEL set.  The class attribute ONE_KERNEL ({"test_x": "6.1"}, or
    {"*": "6.12"} for every test) keeps tests on one kernel in `make check`
    (the CI budget), or on none ({"test_x": "soak"}); with RBLK_SOAK=1
    (`make soak`) they run on every kernel.  The debug kernel "6.1-debug"
    counts as "6.1" for ONE_KERNEL (it is built from the same source).  A
    class attribute SOAK_ONLY (a string: why) skips the whole class (no
    cluster is booted; tests/run reports its tests as SKIP) unless
    RBLK_SOAK=1: for classes too long for `make check`.

    The debug kernel in `make check` (RBLK_DEBUG_CORE=1, set by tests/run
    when it chose the kernels itself): only classes with a DEBUG_CORE
    attribute (the names of the tests that run there, in order) get a
    6.1-debug variant, with just those tests; ONE_KERNEL does not apply to
    them.  Chosen explicitly (-k 6.1-debug), every class runs there (a
    class with DEBUG_CORE every test, whatever ONE_KERNEL says).  A
    class attribute ONLY_KERNEL ("6.12") keeps the class on that kernel in
    `make soak` too."""
    mod = sys.modules[cls.__module__]
    only = {} if SOAK else getattr(cls, "ONE_KERNEL", {})
    if getattr(cls, "ONLY_KERNEL", None):   # on that kernel alone, make soak too
        only = {"*": cls.ONLY_KERNEL}
    soak_only = getattr(cls, "SOAK_ONLY", None)
    debug_core = getattr(cls, "DEBUG_CORE", None)
    for k in kernels():
        base = k.split("-")[0]  # "6.1-debug" -> "6.1"
        on_debug = k == rig.DEBUG_KERNEL
        if on_debug and DEBUG_CORE_ONLY and not debug_core:
            continue
        if only.get("*", base) != base and not (on_debug and debug_core):
            continue
        name = f"{cls.__name__}_{k.replace('.', '_').replace('-', '_')}"
        attrs = {"KERNEL": k, "__qualname__": name, "__module__": cls.__module__}
        if on_debug and debug_core and DEBUG_CORE_ONLY:
            # only the core tests: the others are not callable, so not collected
            attrs.update({t: None for t in unittest.TestLoader().getTestCaseNames(cls)
                          if t not in debug_core})
        else:
            # a test kept on another kernel: not callable here, so not collected
            attrs.update({t: None for t, kk in only.items() if t != "*" and kk != base})
        sub = type(name, (cls, unittest.TestCase), attrs)
        if soak_only and not SOAK:
            sub = unittest.skip(f"make soak only (RBLK_SOAK=1): {soak_only}")(sub)
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


def topology(nodes, disk="/dev/vda", options=None):
    """The YAML topology file (rblk.conf(5)) of resource RES on `nodes`
    (rig Nodes), node ids = rig node ids, each node's address the one on
    its link to the other (two nodes: one link).  The disks need metadata
    (``create-md``) before the first ``up``.  `options` (a dict) adds
    cluster-wide options."""
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
    ] + [f"  {k}: {v}" for k, v in (options or {}).items()] + [
        "resources:",
        f"  - name: {RES}",
        f"    minor: {MINOR}",
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


def create_md(node, res=RES, force=False):
    """rblkadm create-md: new metadata at the end of res's disk on node (the
    disk must be fresh; force: on purpose over old metadata or data)."""
    return adm(node, f"create-md {'--force ' if force else ''}{res}")


def new_current_uuid(node, res=RES):
    """rblkadm new-current-uuid --clear-bitmap: the disks of res, all just
    created and identical (blank), become UpToDate without a sync."""
    return adm(node, f"new-current-uuid --clear-bitmap {res}")


def dump_md(node, res=RES):
    """rblkadm -j dump-md res on node: the metadata as a JSON object."""
    r = node.run(f"{node.rblkadm} -c {CONF} -j dump-md {res}", quiet=True, timeout=60)
    md = json.loads(r.out)
    return md[0] if isinstance(md, list) and len(md) == 1 else md


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
    """The entry for rig node `peer` in a status object's peers: its node
    id is the rig node's id, or `peer.rblk_id` where a test's topology
    numbers the nodes otherwise."""
    node_id = getattr(peer, "rblk_id", peer.id)
    for p in st.get("peers", []):
        if p["peer_node_id"] == node_id:
            return p
    raise AssertionError(f"no peer {node_id} in status {st}")


# The replication state and the connect-time decision of a peer entry
# (generation UUIDs), as rblkadm -j status prints them.
REPL_STATE, SYNC_DECISION = "replication_state", "sync_decision"
ESTABLISHED, SYNC_SOURCE, SYNC_TARGET = "established", "sync_source", "sync_target"
AHEAD = "ahead"
BITMAP_TARGET, BITMAP_SOURCE = "bitmap_target", "bitmap_source"
FULL_TARGET, FULL_SOURCE = "full_target", "full_source"
RESYNC_TIMEOUT_S = 300


def sync_view(p):
    """(replication state, sync decision, out_of_sync_bytes) of a peer entry."""
    return p.get(REPL_STATE), p.get(SYNC_DECISION), p.get("out_of_sync_bytes")


def decisions(src, tgt):
    """(src's sync decision toward tgt, tgt's toward src), from status."""
    return (peer_of(status(src), tgt).get(SYNC_DECISION),
            peer_of(status(tgt), src).get(SYNC_DECISION))


def in_sync(src, tgt):
    """src and tgt connected and in sync: both disks UpToDate in both
    views, replication Established on both sides, nothing out of sync
    either way.  Their status objects, or None."""
    ss, st = status(src), status(tgt)
    ps, pt = peer_of(ss, tgt), peer_of(st, src)
    ok = (ps["conn_state"] == pt["conn_state"] == "connected" and
          ss["disk_state"] == st["disk_state"] == "up_to_date" and
          ps["peer_disk_state"] == pt["peer_disk_state"] == "up_to_date" and
          ps.get(REPL_STATE) == pt.get(REPL_STATE) == ESTABLISHED and
          ps.get("out_of_sync_bytes") == pt.get("out_of_sync_bytes") == 0)
    return (ss, st) if ok else None


def wait_in_sync(src, tgt, timeout_s=RESYNC_TIMEOUT_S):
    """Wait until the resync src -> tgt has ended (in_sync); returns both
    status objects."""
    try:
        return wait_until(lambda: in_sync(src, tgt), timeout_s,
                          f"the resync {src.name} -> {tgt.name} to end")
    except AssertionError as e:
        ss, st = status(src), status(tgt)
        raise AssertionError(f"{e}: {src.name} {short(ss)} {sync_view(peer_of(ss, tgt))}; "
                             f"{tgt.name} {short(st)} {sync_view(peer_of(st, src))}") from None


def events_on(node, timeout_s=60):
    """rblkadm -j events on node, known to listen (events_job, poked with a
    scratch device created and deleted: no state of RES changes).  Kill
    the Job when done."""
    poke = (f"{node.rblkadm} create-device --name poke --minor 99 --node-id {node.id} && "
            f"{node.rblkadm} delete-device --minor 99")
    return events_job(node, lambda: node.run(poke, quiet=True), timeout_s)


def res_events(job, kind, key, minor=MINOR):
    """The values of `key` of the events of `kind` for `minor` so far."""
    return [e[key] for e in job_events(job) if e["event"] == kind and e.get("minor") == minor]


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


def data_sectors(node):
    """The size of RES on node as rblk exports it (status ``size_sectors``):
    the data area at the start of the backing disk; the metadata behind it
    (create-md) is not part of it."""
    n = status(node)["size_sectors"]
    assert n > 0, f"{node.name}: {RES} exports no data area (no disk attached?)"
    return n


def disk_sha256(node, dev=None, size_sectors=None):
    """sha256 (hex) of the data area of a backing device on node: its first
    size_sectors (default: RES's size_sectors in node's status) 512-byte
    sectors, read with O_DIRECT: the page cache of a backing disk knows
    nothing of the writes rblk submitted to it as bios, so a buffered read
    could return stale data.  The metadata behind the data area is left
    out: it differs between nodes (node id, bitmaps)."""
    dev = dev or node.disk
    if size_sectors is None:
        size_sectors = data_sectors(node)
    return node.run(f"set -o pipefail; dd if={dev} bs=1M iflag=direct,count_bytes "
                    f"count={size_sectors * 512} status=none | sha256sum", quiet=True,
                    timeout=900).out.split()[0]


def zero_disk(node, dev=None):
    """Every byte of a block device on node zeroed (metadata included: a
    fresh disk again), with O_DIRECT."""
    dev = dev or node.disk
    node.run(f"dd if=/dev/zero of={dev} bs=1M oflag=direct iflag=count_bytes "
             f"count=$(blockdev --getsize64 {dev}) status=none", quiet=True, timeout=900)


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
    """Two nodes of one cluster with resource RES: A = nodes[0], B = nodes[1].
    disk: the backing device of RES in the topology (default: each node's
    first disk)."""

    def __init__(self, cluster, disk=None):
        self.c = cluster
        self.a, self.b = cluster.nodes[:2]
        self.disk = disk

    @property
    def nodes(self):
        return (self.a, self.b)

    def other(self, n):
        return self.b if n is self.a else self.a

    def disk_of(self, n):
        return self.disk or n.disk

    def setup(self):
        """Load rblk.ko and write the topology file on both nodes."""
        text = topology(self.nodes)
        for n in self.nodes:
            if n.run("test -d /sys/module/rblk", check=False, quiet=True).rc != 0:
                n.insmod()
            write_conf(n, text)

    def bring_up(self, force=False):
        """The first up of RES on fresh disks: create-md on both (with
        force: over old metadata or data, on purpose), up on both; once
        connected both disks are Inconsistent (new metadata, no data
        generation yet) in both views; new-current-uuid --clear-bitmap on
        A: both UpToDate.  Returns both status objects."""
        for n in self.nodes:
            create_md(n, force=force)
        for n in self.nodes:
            adm(n, f"up {RES}")
        sts = self.wait_connected_any()
        bad = [f"{n.name}: {short(st)}" for n, st in zip(self.nodes, sts)
               if st["disk_state"] != "inconsistent" or
               peer_of(st, self.other(n))["peer_disk_state"] != "inconsistent"]
        assert not bad, ("just-created metadata, before new-current-uuid: both disks must "
                         "be inconsistent in both views: " + "; ".join(bad))
        new_current_uuid(self.a)
        return self.wait_connected()

    def up(self):
        """rblkadm up on both (disks that have metadata), wait until
        connected with both disks UpToDate, both secondary."""
        for n in self.nodes:
            adm(n, f"up {RES}")
        return self.wait_connected()

    def down(self):
        """Demote and take down RES on both nodes, where it is up."""
        for n in self.nodes:
            st = status_or_none(n)
            if st is None:
                continue
            if st["role"] == "primary":
                adm(n, f"secondary {RES}", check=False)
            adm(n, f"down {RES}", check=False)

    def reset(self):
        """Fresh disks again: RES down on both, both backing disks zeroed
        whole (metadata included), bring_up: connected, both UpToDate, the
        data areas identical."""
        self.down()
        in_parallel(*(lambda n=n: zero_disk(n, self.disk_of(n)) for n in self.nodes))
        return self.bring_up()

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
        `primary` (a node or None) primary, the other secondary.  A pair
        that is connected but not both UpToDate gets the time of a resync
        to get there; any other state (down, StandAlone, a split-brain ...:
        the metadata keeps it across down and up) starts over on fresh
        disks (reset).  Unmounts what an earlier failed test may have left
        mounted on /tmp/mnt."""
        for n in self.nodes:
            n.run("! grep -q ' /tmp/mnt ' /proc/mounts || umount /tmp/mnt", quiet=True)
        healthy = False
        try:
            self.wait_connected(timeout_s=5)
            healthy = True
        except (AssertionError, rig.CommandError, ValueError):
            try:
                self.wait_connected_any(timeout_s=1)
                log("pair connected, not both up_to_date: waiting for a resync")
                self.wait_connected(timeout_s=RESYNC_TIMEOUT_S)
                healthy = True
            except (AssertionError, rig.CommandError, ValueError):
                pass
        if not healthy:
            log("pair not connected/up_to_date: reset to fresh disks")
            self.reset()
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
    fails that test; on the debug kernel so does a memory leak of rblk's
    that kmemleak finds then (rig.Cluster.kmemleak_problems).  The rig
    checks the whole log once more when the cluster closes."""

    KERNEL = None
    NODES = 2
    DISK_MIB = DISK_MIB
    DISKS = 1
    LINK = "udp"        # rig.Cluster's link: "tap" lets the host reach the guests

    @classmethod
    def setUpClass(cls):
        t0 = time.monotonic()
        cls.figures = []
        cls.c = rig.Cluster(kernel=cls.KERNEL, nodes=cls.NODES, disk_mib=cls.DISK_MIB,
                            disks=cls.DISKS, link=cls.LINK, name=f"{cls.__name__}")
        cls.seen_problems = 0
        cls.pair = Pair(cls.c) if cls.NODES >= 2 else None
        log(f"{cls.__name__}: cluster up in {time.monotonic() - t0:.1f} s")

    @classmethod
    def tearDownClass(cls):
        # the class's figures together at its end, where make soak finds them
        for f in getattr(cls, "figures", []):
            log(f"FIGURE {f}")
        c = getattr(cls, "c", None)
        if c is not None:
            c.close()  # raises GuestLogError on a forbidden console line

    def fig(self, text):
        """Log a figure of this test (a FIGURE line, again at the class's end)."""
        f = f"{self._testMethodName}{' ' + self.KERNEL if self.KERNEL else ''}: {text}"
        log(f"FIGURE {f}")
        type(self).figures.append(f)

    def setUp(self):
        self.t0 = time.monotonic()

    def tearDown(self):
        log(f"{self.id()}: {time.monotonic() - self.t0:.1f} s")
        problems = self.c.log_problems()
        new = problems[type(self).seen_problems:]
        type(self).seen_problems = len(problems)
        new += self.c.kmemleak_problems()
        if new:
            self.fail("guest console log has forbidden lines:\n" +
                      "\n".join(f"  {n}: {l}" for n, l in new))


def mesh_topology(nodes, options=None, diskless=()):
    """The YAML topology file of resource RES on any number of `nodes` (rig
    Nodes) cabled point to point, a full mesh: node ids = rig node ids, each
    node's address the one on its link to the first other node, an
    ``address-for`` entry for every further peer.  `options` (a dict) overrides
    the connection timing of ``topology``; the nodes in `diskless` have no
    ``disk:`` (quorum witnesses)."""
    opts = {"ping-interval-ms": PING_INTERVAL_MS, "ping-timeout-ms": PING_TIMEOUT_MS,
            "connect-timeout-ms": CONNECT_TIMEOUT_MS, "reconnect-max-ms": RECONNECT_MAX_MS}
    opts.update(options or {})
    lines = ["# rblk topology: one resource on a full mesh (rblk.conf(5))", "cluster: e2e",
             "options:"] + [f"  {k}: {v}" for k, v in opts.items()] + [
             "resources:", f"  - name: {RES}", f"    minor: {MINOR}", "    nodes:"]
    for n in nodes:
        first, *rest = [p for p in nodes if p is not n]
        lines += [f"      - name: {n.name}", f"        node-id: {n.id}",
                  f"        address: {n.ip_for(first)}:{BASE_PORT}"]
        if rest:
            lines.append("        address-for: {" + ", ".join(
                f"{p.name}: {n.ip_for(p)}:{BASE_PORT}" for p in rest) + "}")
        if n not in diskless:
            lines.append(f"        disk: {n.disk}")
    return "\n".join(lines) + "\n"


def mesh_bring_up(nodes):
    """The first up of RES on fresh disks of a full mesh: create-md and up
    on every node; once every node is connected to every other,
    new-current-uuid --clear-bitmap on the first: every disk UpToDate in
    every view."""
    for n in nodes:
        create_md(n)
    for n in nodes:
        adm(n, f"up {RES}")

    def all_connected():
        sts = [status(n) for n in nodes]
        return all(len(st["peers"]) == len(nodes) - 1 and
                   all(p["conn_state"] == "connected" for p in st["peers"])
                   for st in sts) and sts
    wait_until(all_connected, 60, "every node connected to every other")
    new_current_uuid(nodes[0])

    def all_up_to_date():
        sts = [status(n) for n in nodes]
        return all(st["disk_state"] == "up_to_date" and
                   all(p["conn_state"] == "connected" and p["peer_disk_state"] == "up_to_date"
                       for p in st["peers"]) for st in sts) and sts
    return wait_until(all_up_to_date, 60, "every disk up_to_date in every view")
