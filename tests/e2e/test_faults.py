# SPDX-License-Identifier: GPL-2.0
"""Faults of a backing disk: a disk that hangs, a disk that fails writes.

Between rblk and the guest's virtio disk sits a device-mapper device
``/dev/mapper/r0disk`` (dmsetup and the dm-mod/dm-flakey modules of the
host root): linear over ``/dev/vda``; ``dmsetup suspend`` freezes it (I/O
waits until ``dmsetup resume``), and a table whose middle is dm-flakey with
``error_writes`` makes the writes to REGION fail while reads pass.

HungDisk (one cluster per kernel, two disks per node): r0 on r0disk, r1 on
``/dev/vdb``, request-timeout-ms 1000 x ko-count 3, ping defaults.

* test_1: while fio writes on A's r0, B's r0disk is frozen.  A's writes go
  on within request timeout x ko count + 2 ping intervals + a margin (A
  drops B: "request timeout", B Outdated); ``rblkadm status`` of r1 and of
  all answers (kernel part within 1 s) on A during the whole freeze, and on
  B while B's own disconnect of r0 waits for the frozen disk, and so does a
  call for r1 there; A's disconnect returns within the connect timeout and
  a margin.  After the resume B reconnects, A's bitmap resync to B ends
  with both UpToDate.
* test_2: the same freeze, and A's ``rblkadm disconnect`` while its writes
  wait for B: it returns at once and the writes complete.
* test_3: r0 taken down and up again with a request timeout of 30 s; the
  same freeze under fio at queue depth 64 with verify: A shows 64 writes
  in flight toward B; A's device-options returns within 3 s, ``down`` is
  refused at once (exit 5, primary), ``secondary`` and ``delete-device``
  (exit 1, EBUSY "device is open"), ``disconnect`` returns within 3 s and
  frees the writes.  After the thaw and the resync, fio's verify passes,
  the data areas are equal, no task is in D state.

FailingDisk (one cluster per kernel): r0 on r0disk, writes of REGION fail;
each test starts on fresh disks (zeroed, create-md, new-current-uuid
--clear-bitmap).

* test_1: on A, primary, on-io-error detach, under fio with verify: A's
  write of REGION succeeds (B wrote it), A's disk Failed then Diskless,
  fio sees no error and verifies every block it wrote before and after
  the failure (B started one generation for A's lost disk and told A),
  A's reads go to B and return what A wrote; after a disconnect and
  connect A still writes and verifies through B; after A's demotion B is
  promoted and holds the write; A's old disk, attached again, is resynced
  from B in full and the data areas are equal.
* test_2: on A, on-io-error pass-on: the writer gets EIO, A's disk
  Inconsistent, B still UpToDate.
* test_2b: on A, detach, quorum majority without a witness: A's own vote
  gone, B's alone is no quorum: the failed write and a later one fail
  with EIO at once, B stays UpToDate, A reads from B.
* test_3: on B, the secondary: A's writes succeed and go on, B's disk
  Failed then Diskless, A shows B not UpToDate.
* test_4: B's disk a dm-thin volume of the resource's size in a pool that
  is smaller than what A writes (error_if_no_space: the default would
  queue the writes for the pool's no_space_timeout, 60 s, first); fio with
  verify on A passes, B's disk Failed then Diskless, A primary UpToDate
  with B's writes out of sync; the pool grown (its data device's and its
  own table reloaded), B disconnected and up again: the bitmap resync
  makes B's data area equal to A's; ``rmmod rblk`` works on both.

A test checks every outcome of its scenario before it fails, and names each
one that is wrong with the values seen.
"""
import json
import shutil
import time
import unittest

from e2elib import (BASE_PORT, BITMAP_SOURCE, BITMAP_TARGET, CONF, CONNECT_TIMEOUT_MS, DEV,
                    FULL_TARGET, MINOR, PING_INTERVAL_MS, PING_TIMEOUT_MS, RECONNECT_MAX_MS, RES,
                    ClusterTest, adm, create_md, data_sectors, decisions, disk_sha256,
                    events_job, events_on, in_parallel, job_events, log, new_current_uuid,
                    peer_of, per_kernel, short, status, status_all, status_or_none,
                    wait_in_sync, wait_until, write_conf, zero_disk)
from test_safety import Findings, settles

import rig  # noqa: E402  (importable once e2elib has set the path)

DM = "r0disk"
DM_DEV = f"/dev/mapper/{DM}"
RES1, MINOR1 = "r1", 1          # HungDisk: the other device, on /dev/vdb
PORT1 = BASE_PORT + 32          # r1's base port: r0 uses BASE_PORT .. +31

REGION_MIB = 16                 # FailingDisk: writes to MiB 16 .. 17 of r0disk fail
REGION_SECTORS = 2048           # 1 MiB

# FailingDisk test_4: B's disk a dm-thin volume.  On B's /dev/vda: the
# pool's metadata (THIN_META_MIB), then its data (THIN_DATA_MIB, grown to
# THIN_GROWN_MIB); the thin volume's virtual size is the resource's
# (THIN_RES_MIB, A's r0disk cut to that size), fio writes THIN_FIO_MIB.
THIN, POOL, TMETA, TDATA = "r0thin", "r0pool", "r0tmeta", "r0tdata"
THIN_DEV = f"/dev/mapper/{THIN}"
THIN_RES_MIB, THIN_META_MIB, THIN_DATA_MIB, THIN_GROWN_MIB = 32, 4, 8, 56
THIN_FIO_MIB = 16
THIN_BLOCK_SECTORS = 128        # 64 KiB pool blocks

REQUEST_TIMEOUT_MS, KO_COUNT = 1000, 3

# HungDisk test_3: fio's queue depth on A, and A's request timeout there
# (x KO_COUNT: 30 s), long enough for the calls made while the writes wait.
IODEPTH = 64
LONG_REQUEST_TIMEOUT_MS = 10000
KO_S = REQUEST_TIMEOUT_MS * KO_COUNT / 1000
# From the freeze to the first write that completes without the frozen
# peer: the timeout, up to two ping intervals (the check's period), a margin.
RESUME_BOUND_S = KO_S + 2 * PING_INTERVAL_MS / 1000 + 5
# A management call that must not wait: its netlink calls (the kernel's
# part) within KERNEL_BOUND_S, the whole command within WALL_BOUND_S (a
# TCG guest on a shared two-core host is at times not scheduled for a
# second: seen 1.25 s for a status whose kernel part took milliseconds).
KERNEL_BOUND_S, WALL_BOUND_S = 1.0, 3.0
POLL_S = 0.5
DISCONNECT_BOUND_S = CONNECT_TIMEOUT_MS / 1000 + 3
TIMEOUT_LINE = (rf"rblk{MINOR}: peer %d: connection lost: request timeout: no answer for "
                rf"{REQUEST_TIMEOUT_MS * KO_COUNT} ms \(-110\)")


def conf_text(nodes, resources, options=None, on_io_error=None):
    """Topology of two nodes on one link; resources: (name, minor, base
    port, disk) tuples (disk: a path, or a dict node name -> path), with
    `on_io_error` if given; options: added to the e2e connection timing."""
    opts = dict({"ping-interval-ms": PING_INTERVAL_MS, "ping-timeout-ms": PING_TIMEOUT_MS,
                 "connect-timeout-ms": CONNECT_TIMEOUT_MS, "reconnect-max-ms": RECONNECT_MAX_MS},
                **(options or {}))
    text = "cluster: e2e\noptions:\n" + "".join(f"  {k}: {v}\n" for k, v in opts.items())
    text += "resources:\n"
    for name, minor, port, disk in resources:
        text += f"  - name: {name}\n    minor: {minor}\n"
        if on_io_error:
            text += f"    on-io-error: {on_io_error}\n"
        text += "    nodes:\n"
        for n, other in (nodes, nodes[::-1]):
            d = disk[n.name] if isinstance(disk, dict) else disk
            text += (f"      - {{name: {n.name}, node-id: {n.id}, "
                     f"address: '{n.ip_for(other)}:{port}', disk: {d}}}\n")
    return text


def dm_table(sectors, failing=False):
    """r0disk's table: linear over /dev/vda; if failing, REGION's writes
    fail (dm-flakey always down, error_writes: reads pass)."""
    if not failing:
        return f"0 {sectors} linear /dev/vda 0\n"
    s, n = REGION_MIB * 2048, REGION_SECTORS
    return (f"0 {s} linear /dev/vda 0\n"
            f"{s} {n} flakey /dev/vda {s} 0 1 1 error_writes\n"
            f"{s + n} {sectors - s - n} linear /dev/vda {s + n}\n")


def dm_create(node):
    """Load dm-mod and dm-flakey, create r0disk linear over /dev/vda (no
    udev in the guest: --verifyudev makes dmsetup create the node itself).
    Returns the size in sectors."""
    node.run("modprobe -a dm-mod dm-flakey")
    sectors = int(node.run("blockdev --getsz /dev/vda").out)
    node.run(f"dmsetup create --verifyudev {DM}", input=dm_table(sectors))
    return sectors


def dm_switch(node, table):
    """Replace r0disk's table (load, suspend, resume)."""
    node.run(f"dmsetup load {DM} && dmsetup suspend {DM} && dmsetup resume {DM}", input=table)


def dev_of(node, res):
    """The status object of resource res on node."""
    for d in status_all(node):
        if d["resource_name"] == res:
            return d
    raise AssertionError(f"{node.name} has no device {res}")


def timed_sh(node, args, out, tag, err="&1"):
    """Shell text running rblkadm args on node under strace (output to
    `out`, errors to `err`) and printing "TAG EXIT WALL KERNEL": the
    seconds around the call and those spent in its netlink sendmsg/recvmsg
    calls (the kernel runs a genetlink handler inside sendmsg: a handler
    waiting for a lock shows there).  KERNEL is what a lock would add; WALL
    adds the process's start, and the moments a TCG guest on a busy host is
    not scheduled."""
    st = f"/tmp/{tag}.strace"
    return (f"t0=$EPOCHREALTIME; strace -f --seccomp-bpf -T -e trace=sendmsg,recvmsg -o {st} "
            f"{node.rblkadm} -c {CONF} {args} >{out} 2>{err}; rc=$?; t1=$EPOCHREALTIME; "
            f"k=$(sed -n 's/.* <\\([0-9.]*\\)>$/\\1/p' {st} | awk '{{s += $1}} END "
            f"{{printf \"%.6f\", s}}'); echo {tag} $rc $(echo \"$t1 - $t0\" | bc) $k")


def parse_timed(text, tag):
    """(exit, wall s, kernel s) from the line timed_sh printed, or
    (None, inf, inf)."""
    for line in text.splitlines():
        f = line.split()
        if len(f) == 4 and f[0] == tag:
            return int(f[1]), float(f[2]), float(f[3])
    return None, float("inf"), float("inf")


def timed(node, args):
    """Run rblkadm args on node; returns (exit, wall s, kernel s, output)."""
    r = node.run(timed_sh(node, args, "/tmp/timed.out", "T") + "; cat /tmp/timed.out",
                 check=False, quiet=True, timeout=60)
    return (*parse_timed(r.out, "T"), r.out.split("\n", 1)[-1])


def sha_of(node, dev, skip_mib=REGION_MIB, mib=1):
    """(dd exit status, sha256 or None, stderr) of mib MiB of dev from
    skip_mib, read with O_DIRECT."""
    r = node.run(f"set -o pipefail; dd if={dev} bs=1M skip={skip_mib} count={mib} iflag=direct "
                 f"status=none | sha256sum", check=False, quiet=True)
    return r.rc, r.out.split()[0] if r.rc == 0 else None, r.err.strip()


def fio_cmd(runtime_s):
    """Random 4 KiB direct writes on DEV at 100 IOPS for runtime_s (with
    iodepth 4 the peer stays far below its receive limits: no backpressure,
    it keeps answering pings)."""
    return (f"fio --output-format=json --name=faults --filename={DEV} --ioengine=libaio "
            f"--iodepth=4 --direct=1 --rw=randwrite --bs=4k --size=64M --time_based "
            f"--runtime={runtime_s} --rate_iops=100")


# FailingDisk test_1: 4 KiB random writes over MiB 0 .. 15 of r0 (REGION
# left to dd), then read back and verified, at queue depth 8.
FIO_AROUND_FAILURE = (f"fio --output-format=json --name=failure --filename={DEV} "
                      f"--ioengine=libaio --iodepth=8 --direct=1 --rw=randwrite --bs=4k "
                      f"--size={REGION_MIB}M --verify=crc32c --verify_fatal=1")

# ... and 4 MiB at MiB 32 after A, diskless, reconnected to B.
FIO_AFTER_FLAP = (f"fio --output-format=json --name=flap --filename={DEV} --ioengine=libaio "
                  f"--iodepth=8 --direct=1 --rw=randwrite --bs=4k --offset=32M --size=4M "
                  f"--verify=crc32c --verify_fatal=1")


def dmesg(node):
    """node's kernel log."""
    return node.run("dmesg", quiet=True).out


def fio_errors(res):
    """fio's exit status and the error of each job from its JSON."""
    try:
        data = json.loads(res.out[res.out.index("{"):])
        return res.rc, [j["error"] for j in data["jobs"]]
    except ValueError:
        return res.rc, None


class Poller:
    """A loop on node that runs ``rblkadm -j status r1`` and ``rblkadm -j
    status``, each timed (timed_sh), then sleeps POLL_S s; every round is
    one line, streamed back as it is printed.  samples: dicts with t_end
    (host time the line arrived), t (t_end less the two calls' time: about
    when the round began), rc1, wall1, k1 (r1's call), rc_all, wall_all,
    k_all (the other), devs (resource name -> status object, from the
    second call)."""

    STOP = "/tmp/poll.stop"

    def __init__(self, node):
        self.node = node
        self.samples = []
        self.buf = b""
        self.job = None

    def start(self):
        n = self.node
        one = (timed_sh(n, f"-j status {RES1}", "/dev/null", "P1") + " | tr '\\n' ' '; " +
               timed_sh(n, "-j status", "/tmp/poll.json", "P2", "/tmp/poll.err") +
               " | tr '\\n' ' '; tr -d '\\n' </tmp/poll.json; echo")
        n.run(f"rm -f {self.STOP}", quiet=True)
        self.job = n.spawn(f"while [ ! -e {self.STOP} ]; do {one}; sleep {POLL_S}; done",
                           timeout=600, on_output=self.output)

    def output(self, stream, chunk):
        if stream != "out":
            return
        self.buf += chunk
        *lines, self.buf = self.buf.split(b"\n")
        for line in lines:
            self.samples.append(self.parse(line.decode(errors="replace"), time.monotonic()))

    @staticmethod
    def parse(line, t_end):
        s = {"t_end": t_end, "devs": {}}
        f = line.split(maxsplit=8)
        s["rc1"], s["wall1"], s["k1"] = parse_timed(" ".join(f[0:4]), "P1")
        s["rc_all"], s["wall_all"], s["k_all"] = parse_timed(" ".join(f[4:8]), "P2")
        try:
            s["devs"] = {d["resource_name"]: d for d in json.loads(f[8])}
        except (ValueError, IndexError):
            pass
        finite = [w for w in (s["wall1"], s["wall_all"]) if w != float("inf")]
        s["t"] = t_end - sum(finite)
        return s

    def since(self, t):
        return [s for s in list(self.samples) if s["t"] >= t]

    def stop(self):
        self.node.run(f"touch {self.STOP}", quiet=True)
        self.job.wait(timeout=60)


D_TASKS = ("for f in $(grep -l '^State:[[:space:]]*D' /proc/[0-9]*/status 2>/dev/null); do "
           "d=${f%/status}; echo \"${d#/proc/} $(cat $d/comm 2>/dev/null) "
           "$(cat $d/wchan 2>/dev/null)\"; done")


def d_tasks(node):
    """Tasks of node in uninterruptible sleep (D): 'pid comm wchan' lines."""
    return [line for line in node.run(D_TASKS, quiet=True, check=False).out.splitlines()
            if line.strip()]


def writes(s):
    return s["devs"][RES]["stats"]["writes"] if RES in s["devs"] else None


class FaultTest(Findings, ClusterTest):
    """Both classes: r0 on r0disk on both nodes."""

    @classmethod
    def setUpClass(cls):
        assert shutil.which("dmsetup"), "dmsetup is not installed on the host (apt-get install " \
            "dmsetup): the guests run the host's"
        super().setUpClass()

    def fresh(self, text):
        """Down r0 everywhere, r0disk linear again and zeroed (a fresh
        disk), the topology `text`, r0 brought up on both (create-md, up,
        new-current-uuid --clear-bitmap), connected and UpToDate, A
        primary."""
        p = self.pair
        for n in p.nodes:
            st = status_or_none(n)
            if st is not None:
                if st["role"] == "primary":
                    adm(n, f"secondary {RES}")
                adm(n, f"down {RES}")
            dm_switch(n, dm_table(self.sectors[n.name]))
            write_conf(n, text)
            r = adm(n, "check", check=False)
            self.assertEqual(r.rc, 0, f"rblkadm check rejects the topology:\n{r.err}\n{text}")
        in_parallel(*(lambda n=n: zero_disk(n, DM_DEV) for n in p.nodes))
        p.bring_up()
        p.make_primary(p.a)


@per_kernel
class HungDisk(FaultTest):
    DISKS = 2
    # on one kernel in make check (CI budget), on both in make soak
    # test_3 (64 writes waiting) covers test_2's calls: test_2 in make soak
    ONE_KERNEL = {"*": "6.1", "test_2_disconnect_while_writes_wait": "soak"}
    DISK_MIB = 128

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        nodes = cls.c.nodes[:2]
        cls.text = conf_text(nodes, [(RES, MINOR, BASE_PORT, DM_DEV),
                                     (RES1, MINOR1, PORT1, nodes[0].disks[1])],
                             {"request-timeout-ms": REQUEST_TIMEOUT_MS, "ko-count": KO_COUNT})
        cls.sectors = {}
        for n in nodes:
            n.insmod()
            cls.sectors[n.name] = dm_create(n)
            write_conf(n, cls.text)
            for res in (RES, RES1):
                create_md(n, res)
        for n in nodes:
            adm(n, "up all")
        a = nodes[0]
        wait_until(lambda: all(p["conn_state"] == "connected"
                               for n in nodes for d in status_all(n) for p in d["peers"]),
                   60, "r0 and r1 connected")
        for res in (RES, RES1):
            new_current_uuid(a, res)
        wait_until(lambda: all(d["disk_state"] == "up_to_date" and
                               all(p["peer_disk_state"] == "up_to_date" for p in d["peers"])
                               for n in nodes for d in status_all(n)), 60,
                   "r0 and r1 up_to_date in both views")

    def setUp(self):
        super().setUp()
        a, b = self.pair.nodes
        # B may still be resyncing after the test before: connected is enough
        self.pair.wait_connected_any()
        wait_until(lambda: all(peer_of(dev_of(n, RES1), self.pair.other(n))["conn_state"] ==
                               "connected" for n in (a, b)), 60, "r1 connected")
        if status(a)["role"] != "primary":
            self.pair.make_primary(a)

    def start_writes(self, runtime_s):
        """fio on A's r0; returns its Job once A's write counter grows."""
        a = self.pair.a
        w0 = status(a)["stats"]["writes"]
        job = a.spawn(fio_cmd(runtime_s), timeout=runtime_s + 240)
        wait_until(lambda: status(a)["stats"]["writes"] >= w0 + 100 or job.done, 60,
                   "fio writing on A")
        if job.done:
            r = job.wait()
            self.fail(f"fio on A ended early: exit {r.rc}\n{r.out[-1500:]}\n{r.err[-1500:]}")
        return job

    def freeze(self):
        """dmsetup suspend of B's r0disk; returns the host time it returned."""
        b = self.pair.b
        b.run(f"dmsetup suspend {DM}")
        t = time.monotonic()
        log(f"B's {DM} frozen: {b.run(f'dmsetup info -c --noheadings -o name,attr {DM}').out}")
        return t

    def reconnect(self, what):
        """After the resume: connect r0 on both, wait until connected; the
        handshake makes A the bitmap-source and B the bitmap-target of the
        writes B missed, and the resync ends: both UpToDate, Established,
        nothing out of sync."""
        a, b = self.pair.nodes
        for n in (a, b):
            adm(n, f"connect {RES}")
        self.pair.wait_connected_any()
        settles(lambda: all(decisions(a, b)), 10, "the sync decisions")
        got = decisions(a, b)
        sa, sb = status(a), status(b)
        log(f"{what}: reconnected: A {short(sa)}; B {short(sb)}; decisions A->B, B->A {got}")
        self.expect(got == (BITMAP_SOURCE, BITMAP_TARGET),
                    f"{what}: sync decisions A->B, B->A must be bitmap source/target: {got}")
        self.expect(peer_of(sb, a)["peer_role"] == "primary", f"{what}: B {short(sb)}")
        try:
            sa, sb = wait_in_sync(a, b)
            log(f"{what}: resync done: A {short(sa)}; B {short(sb)}")
        except AssertionError as e:
            self.expect(False, f"{what}: {e}")

    def finish_writes(self, job, what):
        res = job.wait()
        rc, errs = fio_errors(res)
        log(f"{what}: fio exit {rc}, job errors {errs}")
        self.expect(rc == 0 and errs == [0],
                    f"{what}: fio on A must end without error: exit {rc}, errors {errs}\n"
                    f"{res.err[-1500:]}")

    def test_1_hung_secondary_disk(self):
        """B's disk freezes under fio on A: the request timeout drops B,
        A's writes go on; status answers throughout; A's disconnect of r0
        returns; B comes back and is resynced."""
        a, b = self.pair.nodes
        job = self.start_writes(60)
        poll = Poller(a)
        poll.start()
        b_disc = None
        try:
            wait_until(lambda: len(poll.samples) >= 2, 30, "the status poller")
            t_freeze = self.freeze()
            try:
                # The first sample that started 0.3 s after the freeze holds
                # the writes that completed before B's disk stopped; a write
                # completed after it is one A no longer waits B for.
                after = wait_until(lambda: [s for s in poll.since(t_freeze + 0.3)
                                            if writes(s) is not None], 10,
                                   "a sample after the freeze")
                w_stall = writes(after[0])

                def resumed():
                    return next((s for s in poll.since(t_freeze + 0.3)
                                 if writes(s) is not None and writes(s) > w_stall), None)
                s_res = wait_until(resumed, RESUME_BOUND_S + 10,
                                   "A's writes to go on without the frozen B")
                before = [s for s in poll.since(t_freeze) if s["t_end"] < s_res["t_end"]]
                lo = before[-1]["t_end"] - t_freeze if before else 0.0
                hi = s_res["t_end"] - t_freeze
                log(f"first write completed after the freeze: between {lo:.1f} and {hi:.1f} s "
                    f"after it (writes {w_stall} -> {writes(s_res)}); bound "
                    f"{KO_S:.0f}..{RESUME_BOUND_S:.0f} s")
                self.expect(KO_S - 0.2 <= hi <= RESUME_BOUND_S,
                            f"A's writes must go on between {KO_S:.0f} s (no stall shorter "
                            f"than the request timeout) and {RESUME_BOUND_S:.0f} s after B's "
                            f"disk froze; the first completed between {lo:.1f} and {hi:.1f} s")
                drop = next((s for s in poll.since(t_freeze) if RES in s["devs"] and
                             peer_of(s["devs"][RES], b)["conn_state"] != "connected"), None)
                if drop:
                    log(f"A saw B not connected {drop['t_end'] - t_freeze:.1f} s after the "
                        f"freeze: {short(drop['devs'][RES])}")
                try:
                    line = a.wait_console(TIMEOUT_LINE % b.id, timeout=10)
                    log(f"A's console: {line}")
                except rig.RigError as e:
                    self.expect(False, f"no request timeout line on A's console: {e}")
                sa = status(a)
                pb = peer_of(sa, b)
                self.expect(drop and peer_of(drop["devs"][RES], b)["last_error"].startswith(
                                "request timeout: "),
                            f"A's first status without B connected must name the request "
                            f"timeout: {drop and peer_of(drop['devs'][RES], b)}")
                self.expect(pb["conn_state"] != "connected" and
                            pb["peer_disk_state"] == "outdated",
                            f"A must show B not connected and outdated after the request "
                            f"timeout: {short(sa)}, last error {pb['last_error']!r}")
                self.expect((sa["role"], sa["disk_state"]) == ("primary", "up_to_date"),
                            f"A must stay primary and up_to_date: {short(sa)}")

                # B: the connection is gone, its teardown waits for the
                # frozen disk; B's own disconnect of r0 waits too (not
                # asserted).  status and a call for r1 must not wait.
                rc, wall, k, out = timed(b, "-j status")
                log(f"B during the freeze (status exit {rc}, {wall:.3f} s, kernel {k:.4f} s): "
                    + "; ".join(f"{d['resource_name']} {short(d)}" for d in json.loads(out))
                    if rc == 0 else f"B's status failed: exit {rc} {out}")
                if rc == 0 and any(d["resource_name"] == RES and
                                   peer_of(d, a)["conn_state"] == "connected"
                                   for d in json.loads(out)):
                    log("NOTE: B still shows A connected: its teardown of the connection A "
                        "closed waits for the frozen disk")
                b_disc = b.spawn(f"{b.rblkadm} -c {CONF} disconnect {RES}")
                if not b_disc.finished.wait(2):
                    log("B's disconnect of r0 waits (2 s so far)")
                else:
                    log(f"B's disconnect of r0 returned during the freeze: {b_disc.wait()!r} "
                        f"{bytes(b_disc.stderr).decode()!r}")
                for args in (f"-j status {RES}", "-j status", f"set-secondary --minor {MINOR1}"):
                    rc, wall, k, out = timed(b, args)
                    log(f"B: rblkadm {args}: exit {rc} in {wall:.3f} s, kernel {k:.4f} s")
                    self.expect(rc == 0 and k <= KERNEL_BOUND_S and wall <= WALL_BOUND_S,
                                f"B's rblkadm {args} must answer (kernel {KERNEL_BOUND_S} s, "
                                f"all {WALL_BOUND_S} s) while B's disconnect of r0 waits for "
                                f"the frozen disk: exit {rc} in {wall:.3f} s, kernel {k:.4f} s "
                                f"{out.strip()!r}")

                t0 = time.monotonic()
                r = adm(a, f"disconnect {RES}", check=False, timeout=60)
                dt = time.monotonic() - t0
                log(f"A's disconnect of r0 during the freeze: exit {r.rc} in {dt:.1f} s")
                self.expect(r.rc == 0 and dt <= DISCONNECT_BOUND_S,
                            f"A's disconnect of r0 must return within {DISCONNECT_BOUND_S} s: "
                            f"exit {r.rc} in {dt:.1f} s {r.err.strip()!r}")
            finally:
                t_thaw = time.monotonic()
                b.run(f"dmsetup resume {DM}")
                poll.stop()
            frozen_s = t_thaw - t_freeze
            log(f"B's {DM} resumed after {frozen_s:.1f} s frozen")
            during = [s for s in poll.since(t_freeze) if s["t_end"] <= t_thaw]
            bad = [s for s in during if s["rc1"] != 0 or s["rc_all"] != 0 or
                   max(s["k1"], s["k_all"]) > KERNEL_BOUND_S or
                   max(s["wall1"], s["wall_all"]) > WALL_BOUND_S]
            top = {k: max((s[k] for s in during), default=float("inf"))
                   for k in ("wall1", "k1", "wall_all", "k_all")}
            log(f"A's status during the freeze: {len(during)} polls; max r1 {top['wall1']:.3f} s"
                f" (kernel {top['k1']:.4f} s), all {top['wall_all']:.3f} s (kernel "
                f"{top['k_all']:.4f} s)")
            self.expect(during and not bad,
                        f"A's rblkadm status r1 / status must answer (kernel {KERNEL_BOUND_S} s,"
                        f" all {WALL_BOUND_S} s) during the freeze: {len(bad)} of {len(during)} "
                        f"polls did not: " +
                        "; ".join(f"+{s['t'] - t_freeze:.1f} s: exit {s['rc1']}/{s['rc_all']} "
                                  f"{s['wall1']:.3f}/{s['wall_all']:.3f} s, kernel "
                                  f"{s['k1']:.4f}/{s['k_all']:.4f} s" for s in bad[:5]))
            lost = [s for s in during if RES1 in s["devs"] and
                    peer_of(s["devs"][RES1], b)["conn_state"] != "connected"]
            self.expect(not lost, f"r1 must stay connected while r0's disk on B is frozen: "
                                  f"{len(lost)} polls saw it not connected")
            if b_disc is not None:
                r = b_disc.wait(timeout=120)
                log(f"B's disconnect of r0: exit {r.rc} after {r.duration_s:.1f} s (frozen "
                    f"{frozen_s:.1f} s) {r.err.strip()!r}")
            self.reconnect("after the freeze")
        finally:
            self.finish_writes(job, "hung secondary disk")
        self.verdict()

    def test_2_disconnect_while_writes_wait(self):
        """B's disk freezes under fio on A; before the request timeout
        A's rblkadm device-options and disconnect return at once and A's
        writes complete."""
        a, b = self.pair.nodes
        job = self.start_writes(40)
        try:
            t_freeze = self.freeze()
            try:
                prev = [None]

                def stalled():
                    w = status(a)["stats"]["writes"]
                    same, prev[0] = w == prev[0], w
                    return same and w
                w_stall = wait_until(stalled, 10, "A's writes to wait for B", interval_s=0.5)
                sa = status(a)
                t_disc = time.monotonic()
                log(f"A's writes wait at {w_stall}, {t_disc - t_freeze:.1f} s after the freeze:"
                    f" {short(sa)}")
                self.expect(peer_of(sa, b)["conn_state"] == "connected",
                            f"B must still be connected before the request timeout: {short(sa)}")
                # an option change does not wait for the writes either
                t_opt = time.monotonic()
                r = adm(a, f"device-options {RES} --quorum off", check=False, timeout=60)
                dt = time.monotonic() - t_opt
                log(f"A's device-options with writes waiting: exit {r.rc} in {dt:.1f} s")
                self.expect(r.rc == 0 and dt <= 3,
                            f"A's device-options while writes wait for B must return within "
                            f"3 s: exit {r.rc} in {dt:.1f} s {r.err.strip()!r}")
                t_disc = time.monotonic()
                r = adm(a, f"disconnect {RES}", check=False, timeout=60)
                dt = time.monotonic() - t_disc
                s = settles(lambda: status(a)["stats"]["writes"] > w_stall, 10,
                            "A's writes after the disconnect")
                dw = time.monotonic() - t_disc
                sa = status(a)
                log(f"A's disconnect with writes waiting: exit {r.rc} in {dt:.1f} s; writes "
                    f"go on {dw:.1f} s after it was called; A {short(sa)}")
                self.expect(r.rc == 0 and dt <= 3,
                            f"A's disconnect while writes wait for B must return within 3 s: "
                            f"exit {r.rc} in {dt:.1f} s {r.err.strip()!r}")
                self.expect(s and dw <= 5,
                            f"A's writes must go on within 5 s of the disconnect: "
                            f"{'after' if s else 'not within 10 s'} {dw:.1f} s")
                self.expect(peer_of(sa, b)["conn_state"] == "standalone" and
                            peer_of(sa, b)["peer_disk_state"] == "outdated",
                            f"A must show B standalone and outdated: {short(sa)}")
            finally:
                b.run(f"dmsetup resume {DM}")
            log(f"B's {DM} resumed after {time.monotonic() - t_freeze:.1f} s frozen")
            self.reconnect("after the second freeze")
        finally:
            self.finish_writes(job, "disconnect while writes wait")
        self.verdict()

    def reup(self, text):
        """r0 down on both and up again with topology `text` (the peer's
        timing is taken when it is added); A primary, r0 in sync."""
        p = self.pair
        a, b = p.nodes
        if status(a)["role"] == "primary":
            adm(a, f"secondary {RES}")
        for n in (a, b):
            adm(n, f"down {RES}")
            write_conf(n, text)
        for n in (a, b):
            adm(n, f"up {RES}")
        wait_in_sync(a, b)
        p.make_primary(a)

    def test_3_64_writes_wait_for_frozen_peer(self):
        """B's disk freezes under fio on A at queue depth 64 (request
        timeout 30 s): A shows 64 writes in flight toward B; meanwhile A's
        device-options returns within 3 s, ``down`` is refused at once
        (exit 5: primary), so are ``secondary`` and ``delete-device``
        (exit 1, EBUSY: device is open), and ``disconnect`` returns within
        3 s and frees the writes.  After the thaw B is resynced: fio's
        verify passes, both data areas are equal, no task is left in D
        state (one in D for 60 s would fail the test: the rig's hung task
        timeout).  rblk has no resize command: a grown disk is not part of
        this test."""
        a, b = self.pair.nodes
        self.reup(conf_text(self.pair.nodes, [(RES, MINOR, BASE_PORT, DM_DEV),
                                              (RES1, MINOR1, PORT1, a.disks[1])],
                            {"request-timeout-ms": LONG_REQUEST_TIMEOUT_MS,
                             "ko-count": KO_COUNT}))
        w0 = status(a)["stats"]["writes"]
        job = a.spawn(f"fio --output-format=json --name=qd64 --filename={DEV} --ioengine=libaio "
                      f"--iodepth={IODEPTH} --direct=1 --rw=randwrite --bs=4k --size=64M "
                      f"--verify=crc32c --do_verify=1 --verify_fatal=1",
                      timeout=600)
        try:
            wait_until(lambda: status(a)["stats"]["writes"] >= w0 + 100 or job.done, 60,
                       "fio writing on A")
            self.expect(not job.done, "fio on A ended before the freeze")
            t_freeze = self.freeze()
            try:
                prev = [None]

                def stuck():
                    sa = status(a)
                    now = (sa["stats"]["writes"], sa["stats"]["inflight"],
                           peer_of(sa, b)["inflight"])
                    same, prev[0] = now == prev[0], now
                    return same and now[2] > 0 and sa
                sa = wait_until(stuck, 20, "A's writes to wait for B", interval_s=0.5)
                t_stuck = time.monotonic() - t_freeze
                n_dev, n_peer = sa["stats"]["inflight"], peer_of(sa, b)["inflight"]
                log(f"A {t_stuck:.1f} s after the freeze: {n_dev} writes in flight, {n_peer} "
                    f"waiting for B; {short(sa)}; B's D tasks {d_tasks(b)}")
                self.fig(f"in flight on A with B's disk frozen: {n_dev} (toward B {n_peer})")
                self.expect(n_dev == n_peer == IODEPTH and
                            peer_of(sa, b)["conn_state"] == "connected",
                            f"A must hold fio's {IODEPTH} writes waiting for the connected B: "
                            f"{n_dev} in flight, {n_peer} toward B, {short(sa)}")
                calls = ((f"device-options {RES} --quorum off", 0, ""),
                         (f"down {RES}", 5, "device is primary"),
                         (f"secondary {RES}", 1, "device is open"),
                         (f"delete-device --minor {MINOR}", 1, "device is open"))
                for args, want_rc, want_msg in calls:
                    rc, wall, k, out = timed(a, args)
                    log(f"A: rblkadm {args} with {IODEPTH} writes waiting: exit {rc} in "
                        f"{wall:.3f} s (kernel {k:.4f} s) {out.strip()!r}")
                    self.fig(f"rblkadm {args.split()[0]} with {IODEPTH} writes waiting: "
                             f"exit {rc} in {wall:.2f} s")
                    self.expect(rc == want_rc and want_msg in out and wall <= WALL_BOUND_S,
                                f"A's rblkadm {args} with {IODEPTH} writes waiting must end "
                                f"within {WALL_BOUND_S} s with exit {want_rc} "
                                f"{want_msg!r}: exit {rc} in {wall:.3f} s {out.strip()!r}")
                sa = status(a)
                self.expect(sa["role"] == "primary" and
                            peer_of(sa, b)["conn_state"] == "connected" and
                            peer_of(sa, b)["inflight"] == IODEPTH,
                            f"the refused calls must change nothing: A {short(sa)}, toward B "
                            f"{peer_of(sa, b)['inflight']} in flight")
                w_stall = sa["stats"]["writes"]
                rc, wall, k, out = timed(a, f"disconnect {RES}")
                t_disc = time.monotonic()
                s = settles(lambda: status(a)["stats"]["writes"] > w_stall, 10,
                            "A's writes after the disconnect")
                dw = time.monotonic() - t_disc + wall
                sa = status(a)
                log(f"A's disconnect with {IODEPTH} writes waiting: exit {rc} in {wall:.3f} s "
                    f"(kernel {k:.4f} s); writes go on within {dw:.1f} s; A {short(sa)}, "
                    f"in flight {sa['stats']['inflight']}; {t_disc - t_freeze:.1f} s after "
                    f"the freeze")
                self.fig(f"disconnect with {IODEPTH} writes waiting: exit {rc} in {wall:.2f} s;"
                         f" writes go on within {dw:.1f} s")
                self.expect(rc == 0 and wall <= WALL_BOUND_S,
                            f"A's disconnect with {IODEPTH} writes waiting must return within "
                            f"{WALL_BOUND_S} s: exit {rc} in {wall:.3f} s {out.strip()!r}")
                self.expect(s and dw <= 5,
                            f"A's writes must go on within 5 s of the disconnect: "
                            f"{'after' if s else 'not within'} {dw:.1f} s")
                self.expect((sa["role"], sa["disk_state"]) == ("primary", "up_to_date") and
                            peer_of(sa, b)["peer_disk_state"] == "outdated",
                            f"A must stay primary and up_to_date, B outdated: {short(sa)}")
                log(f"D tasks during the freeze: A {d_tasks(a)}, B {d_tasks(b)}")
            finally:
                b.run(f"dmsetup resume {DM}")
            log(f"B's {DM} resumed after {time.monotonic() - t_freeze:.1f} s frozen")
            self.reconnect("after the 64-write freeze")
        finally:
            self.finish_writes(job, f"fio at queue depth {IODEPTH} with verify")
        try:
            wait_in_sync(a, b)
        except AssertionError as e:
            self.expect(False, f"after fio: {e}")
        size = data_sectors(a)
        sha_a, sha_b = in_parallel(lambda: disk_sha256(a, DM_DEV, size),
                                   lambda: disk_sha256(b, DM_DEV, size))
        left = {n.name: d_tasks(n) for n in (a, b)}
        log(f"data areas ({size} sectors): A {sha_a[:16]}, B {sha_b[:16]}; D tasks {left}")
        self.expect(sha_a == sha_b, f"B's data area must equal A's: A {sha_a}, B {sha_b}")
        self.expect(not any(left.values()), f"no task may stay in D state: {left}")
        self.reup(self.text)
        self.verdict()


@per_kernel
class FailingDisk(FaultTest):
    DISK_MIB = 64
    # on one kernel in make check (CI budget), on both in make soak
    ONE_KERNEL = {"*": "6.12"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sectors = {}
        for n in cls.pair.nodes:
            n.insmod()
            cls.sectors[n.name] = dm_create(n)

    def scenario(self, failing, on_io_error=None, options=None):
        """Fresh r0 (A primary) with on_io_error and the topology options;
        writes of REGION fail on `failing` from now on.  Returns rblkadm
        events on `failing` (a Job) and the sha256 of /tmp/region.bin, 1 MiB
        of random data on A."""
        p = self.pair
        self.fresh(conf_text(p.nodes, [(RES, MINOR, BASE_PORT, DM_DEV)], options=options,
                             on_io_error=on_io_error))
        a = p.a
        ev = events_job(failing, lambda: (adm(a, f"secondary {RES}"), adm(a, f"primary {RES}")))
        wait_until(lambda: status(a)["role"] == "primary" and
                   peer_of(status(p.b), a)["peer_role"] == "primary", 30, "A primary")
        a.run("head -c 1M /dev/urandom > /tmp/region.bin")
        sha = a.run("sha256sum /tmp/region.bin", quiet=True).out.split()[0]
        dm_switch(failing, dm_table(self.sectors[failing.name], failing=True))
        log(f"{failing.name}'s {DM}: writes of MiB {REGION_MIB} fail from now on")
        return ev, sha

    def write_region(self):
        """A writes /tmp/region.bin to REGION of /dev/rblk0 (O_DIRECT)."""
        return self.pair.a.run(f"dd if=/tmp/region.bin of={DEV} bs=1M seek={REGION_MIB} "
                               f"count=1 oflag=direct status=none", check=False)

    def write_survives(self, failing, ev, what):
        """A's write of REGION, which `failing`'s disk fails, must succeed,
        and failing's disk go Failed, then Diskless."""
        r = self.write_region()
        self.expect(r.rc == 0, f"{what}: A's write must succeed although {failing.name}'s disk "
                               f"fails it: dd exit {r.rc} {r.err.strip()!r}")
        self.failed_then_diskless(failing, ev, what)

    def disk_states(self, ev):
        """The disk states rblkadm events reported for r0 so far."""
        return [e["disk_state"] for e in job_events(ev)
                if e["event"] == "disk_state_changed" and e.get("minor") == MINOR]

    def failed_then_diskless(self, node, ev, what):
        """node's disk must go Failed, then Diskless (events and status)."""
        ok = settles(lambda: status(node)["disk_state"] == "diskless", 5,
                     f"{node.name}'s disk diskless")
        ev.kill()
        states = self.disk_states(ev)
        st = status(node)
        log(f"{what}: {node.name}'s disk states reported: {states}; now {short(st)}")
        self.expect(ok and st["disk_state"] == "diskless" and st.get("backing_path", "") == "",
                    f"{what}: {node.name}'s disk must be diskless: {short(st)}")
        self.expect(states[-2:] == ["failed", "diskless"],
                    f"{what}: {node.name}'s disk must go failed then diskless; events: {states}")

    def test_1_primary_disk_fails_detach(self):
        """A's disk fails a write under fio, on-io-error detach: fio sees
        no error and verifies everything it wrote, before and after the
        failure, through A (B holds every write: it started a generation
        that A's lost disk lacks and told A so); A goes diskless and reads
        the failed region from B, and after a reconnect still writes and
        verifies through B; B, promoted, reads what A wrote; A's old
        disk, attached again, is resynced from B in full and the disks
        are equal."""
        a, b = self.pair.nodes
        ev, sha = self.scenario(a)
        writes = status(a)["stats"]["writes"]
        fio_job = a.spawn(FIO_AROUND_FAILURE, timeout=900)
        wait_until(lambda: status(a)["stats"]["writes"] > writes + 100 or fio_job.done, 120,
                   "fio's writes on A")
        self.write_survives(a, ev, "detach")
        res = fio_job.wait(timeout=900)
        rc, errors = fio_errors(res)
        log(f"fio on A across the failure: exit {rc}, errors {errors}")
        self.expect(rc == 0 and errors == [0],
                    f"fio on A must see no error when A's disk fails (B holds every write): "
                    f"exit {rc}, errors {errors}\n{res.err[-2000:]}")
        held_b = [ln for ln in dmesg(b).splitlines() if "lost its disk: new generation" in ln]
        held_a = [ln for ln in dmesg(a).splitlines() if "holds our writes in generation" in ln]
        log(f"B: {held_b}; A: {held_a}")
        self.expect(len(held_b) == 1 and len(held_a) == 1,
                    f"B must start one generation for A's lost disk and A hear of it: "
                    f"B {held_b}, A {held_a}")

        reads = peer_of(status(a), b)["reads"]
        rc, got, err = sha_of(a, DEV)
        sa = status(a)
        log(f"A reads /dev/rblk0 after the detach: dd exit {rc} {err!r}, region "
            f"{got and got[:16]} (written {sha[:16]}); reads served by B "
            f"{reads} -> {peer_of(sa, b)['reads']}")
        self.expect(rc == 0 and got == sha,
                    f"A, diskless, must read what it wrote from B: dd exit {rc} {err!r}, "
                    f"read {got}, written {sha}")
        self.expect(peer_of(sa, b)["reads"] > reads,
                    f"A's reads after the detach must be served by B: {short(sa)}")
        self.expect(sa["role"] == "primary" and peer_of(sa, b)["conn_state"] == "connected" and
                    peer_of(sa, b)["peer_disk_state"] == "up_to_date",
                    f"A must stay primary and show B connected and up_to_date: {short(sa)}")

        # the link goes and comes back: B lacks nothing A acknowledged
        adm(a, f"disconnect {RES}")
        adm(a, f"connect {RES}")
        wait_until(lambda: peer_of(status(a), b)["conn_state"] == "connected", 60,
                   "A connected to B again")
        res = a.run(FIO_AFTER_FLAP, check=False, timeout=600)
        rc, errors = fio_errors(res)
        sa = status(a)
        log(f"fio on A after a reconnect: exit {rc}, errors {errors}; {short(sa)}")
        self.expect(rc == 0 and errors == [0] and
                    peer_of(sa, b)["peer_disk_state"] == "up_to_date",
                    f"A, diskless, must write and read through B after a reconnect (B "
                    f"up_to_date): exit {rc}, errors {errors}, {short(sa)}\n{res.err[-2000:]}")

        adm(a, f"secondary {RES}")
        wait_until(lambda: peer_of(status(b), a)["peer_role"] == "secondary", 30,
                   "B to see A secondary")
        sb = status(b)
        log(f"before B's promotion: B {short(sb)}")
        r = adm(b, f"primary {RES}", check=False)
        self.expect(r.rc == 0, f"B (disk {sb['disk_state']}, it holds every write) must be "
                               f"promoted without --force: exit {r.rc} {r.err.strip()!r}")
        if r.rc != 0:
            adm(b, f"primary --force {RES}")
        rc, got, err = sha_of(b, DEV)
        _, got_disk, _ = sha_of(b, DM_DEV)
        log(f"B primary: {short(status(b))}; region written {sha[:16]}, read on B's "
            f"/dev/rblk0 {got and got[:16]} (dd exit {rc}), on its disk "
            f"{got_disk and got_disk[:16]}")
        self.expect(rc == 0 and got == sha == got_disk,
                    f"B must hold what A wrote: written {sha}, B's /dev/rblk0 {got} (dd exit "
                    f"{rc} {err!r}), B's disk {got_disk}")

        # the failed disk comes back (the path healed): behind B, never in sync
        adm(a, f"down {RES}")
        dm_switch(a, dm_table(self.sectors[a.name]))
        adm(a, f"up {RES}")
        sa, sb = wait_in_sync(b, a)
        dec = decisions(b, a)
        sha_a, sha_b = in_parallel(lambda: disk_sha256(a, DM_DEV, data_sectors(b)),
                                   lambda: disk_sha256(b, DM_DEV, data_sectors(b)))
        log(f"A's old disk attached again: decisions (B, A) {dec}; data A {sha_a[:16]}, "
            f"B {sha_b[:16]}")
        self.expect(dec[1] == FULL_TARGET,
                    f"A's old disk must be resynced from B in full (its generation is in B's "
                    f"history): decisions (B, A) {dec}")
        self.expect(sha_a == sha_b, f"A's and B's data must be equal after the resync: "
                                    f"A {sha_a}, B {sha_b}")
        self.verdict()

    def test_2_primary_disk_fails_pass_on(self):
        """A's disk fails a write, on-io-error pass-on: the writer gets EIO,
        A's disk Inconsistent, B UpToDate; A's disk keeps serving."""
        a, b = self.pair.nodes
        ev, sha = self.scenario(a, on_io_error="pass-on")
        r = self.write_region()
        self.expect(r.rc != 0 and "Input/output error" in r.err,
                    f"pass-on: A's write of the failing region must fail with EIO: dd exit "
                    f"{r.rc} {r.err.strip()!r}")
        ok = settles(lambda: status(a)["disk_state"] != "up_to_date", 5,
                     "A's disk state to change")
        ev.kill()
        sa = status(a)
        log(f"pass-on: A's disk states reported: {self.disk_states(ev)}; A {short(sa)}")
        self.expect(ok and sa["disk_state"] == "inconsistent",
                    f"pass-on: A's disk must be inconsistent: {short(sa)}")
        self.expect(peer_of(sa, b)["conn_state"] == "connected" and
                    peer_of(sa, b)["peer_disk_state"] == "up_to_date",
                    f"pass-on: A must show B connected and up_to_date: {short(sa)}")
        r = a.run(f"dd if=/dev/urandom of={DEV} bs=1M seek={REGION_MIB + 8} count=1 "
                  f"oflag=direct status=none", check=False)
        self.expect(r.rc == 0, f"pass-on: A's disk must keep serving writes outside the failing "
                               f"region: dd exit {r.rc} {r.err.strip()!r}")
        _, got_b, _ = sha_of(b, DM_DEV)
        log(f"pass-on: region written {sha[:16]}; on B's disk {got_b and got_b[:16]} "
            f"({'B holds the write' if got_b == sha else 'B does not hold it'})")
        self.verdict()

    def test_2b_primary_disk_fails_quorum_without_witness(self):
        """Two data nodes, quorum majority, no witness: when A's disk fails
        A has no vote of its own, and B's alone is no quorum.  The write
        that failed on the disk and a later one fail with EIO at once
        (neither is held for a vote that cannot come), B stays UpToDate
        (it may start a generation for A's lost disk: a full resync if the
        disk comes back, no harm), A still reads from B."""
        a, b = self.pair.nodes
        ev, sha = self.scenario(a, options={"quorum": "majority"})
        t0 = time.monotonic()
        r = self.write_region()
        took = time.monotonic() - t0
        self.failed_then_diskless(a, ev, "quorum")
        r2 = a.run(f"dd if=/dev/urandom of={DEV} bs=4k seek=100 count=1 oflag=direct "
                   f"status=none", check=False, timeout=120)
        sa, sb = status(a), status(b)
        log(f"quorum without a witness: A's write of REGION: dd exit {r.rc} {r.err.strip()!r} "
            f"in {took:.1f} s; a later write: dd exit {r2.rc} {r2.err.strip()!r}; A {short(sa)}; "
            f"B {short(sb)}")
        self.expect(r.rc != 0 and "Input/output error" in r.err and took < 20,
                    f"the write A's disk failed must fail with EIO, not wait for a quorum: "
                    f"dd exit {r.rc} {r.err.strip()!r} after {took:.1f} s")
        self.expect(r2.rc != 0 and "Input/output error" in r2.err,
                    f"a later write of A, diskless, must fail with EIO: dd exit {r2.rc} "
                    f"{r2.err.strip()!r}")
        self.expect(sb["disk_state"] == "up_to_date" and
                    peer_of(sa, b)["peer_disk_state"] == "up_to_date",
                    f"B must stay up_to_date, also in A's view: A {short(sa)}, B {short(sb)}")
        rc, got, err = sha_of(a, DEV, skip_mib=0)
        self.expect(rc == 0, f"A must still read through B: dd exit {rc} {err!r}")
        self.verdict()

    def test_3_secondary_disk_fails(self):
        """B's disk fails a write of A's: A's write succeeds, B goes Failed,
        then Diskless, A shows B not UpToDate and its writes go on."""
        a, b = self.pair.nodes
        ev, sha = self.scenario(b)
        w0 = status(a)["stats"]["writes"]
        self.write_survives(b, ev, "secondary")
        ok = settles(lambda: peer_of(status(a), b)["peer_disk_state"] in
                     ("diskless", "outdated"), 5, "A to see B's disk not up_to_date")
        r2 = a.run(f"dd if=/dev/urandom of={DEV} bs=1M seek={REGION_MIB + 8} count=4 "
                   f"oflag=direct status=none", check=False)
        sa = status(a)
        log(f"secondary: A {short(sa)}, writes {w0} -> {sa['stats']['writes']}")
        self.expect(ok, f"A must show B's disk diskless or outdated: {short(sa)}")
        self.expect(r2.rc == 0 and sa["stats"]["writes"] > w0 + 1,
                    f"A's writes must go on: dd exit {r2.rc} {r2.err.strip()!r}, writes "
                    f"{w0} -> {sa['stats']['writes']}")
        self.expect((sa["role"], sa["disk_state"]) == ("primary", "up_to_date"),
                    f"A must stay primary and up_to_date: {short(sa)}")
        _, got, _ = sha_of(a, DM_DEV)
        self.expect(got == sha, f"A's disk must hold its write: written {sha}, on A {got}")
        self.verdict()

    def thin_setup(self):
        """r0 down on both; A's r0disk linear over the first THIN_RES_MIB
        of /dev/vda, zeroed; on B a thin pool (error_if_no_space) of
        THIN_DATA_MIB over /dev/vda and in it a thin volume of
        THIN_RES_MIB, r0's disk there; r0 brought up (create-md, up,
        new-current-uuid --clear-bitmap), A primary."""
        p = self.pair
        a, b = p.nodes
        p.down()
        res_sectors = THIN_RES_MIB * 2048
        dm_switch(a, f"0 {res_sectors} linear /dev/vda 0\n")
        zero_disk(a, DM_DEV)
        meta, data = THIN_META_MIB * 2048, THIN_DATA_MIB * 2048
        b.run("modprobe dm-thin-pool")
        b.run(f"dmsetup create --verifyudev {TMETA}", input=f"0 {meta} linear /dev/vda 0\n")
        b.run(f"dd if=/dev/zero of=/dev/mapper/{TMETA} bs=1M count={THIN_META_MIB} "
              f"oflag=direct status=none")
        b.run(f"dmsetup create --verifyudev {TDATA}",
              input=f"0 {data} linear /dev/vda {meta}\n")
        b.run(f"dmsetup create --verifyudev {POOL}", input=self.pool_table(data))
        b.run(f"dmsetup message {POOL} 0 'create_thin 0'")
        b.run(f"dmsetup create --verifyudev {THIN}",
              input=f"0 {res_sectors} thin /dev/mapper/{POOL} 0\n")
        text = conf_text(p.nodes, [(RES, MINOR, BASE_PORT, {a.name: DM_DEV, b.name: THIN_DEV})],
                         on_io_error="detach")
        for n in p.nodes:
            write_conf(n, text)
        p.bring_up()
        p.make_primary(a)

    @staticmethod
    def pool_table(data_sectors):
        """The pool's table: error_if_no_space, so that a write needing a
        block of a full pool fails at once (the default, queueing, holds it
        up to dm-thin-pool's no_space_timeout, 60 s)."""
        return (f"0 {data_sectors} thin-pool /dev/mapper/{TMETA} /dev/mapper/{TDATA} "
                f"{THIN_BLOCK_SECTORS} 0 1 error_if_no_space\n")

    def pool_status(self):
        """B's pool: (data blocks used, data blocks, the status line)."""
        line = self.pair.b.run(f"dmsetup status {POOL}", quiet=True).out.strip()
        used, total = line.split()[5].split("/")
        return int(used), int(total), line

    def test_4_thin_pool_full_on_secondary(self):
        """B's disk is a thin volume whose pool runs out of space under
        A's writes (error_if_no_space): B detaches (on-io-error detach), A
        stays primary and up_to_date, fio on A writes and verifies without
        error; once the pool is grown and B's disk attached again, the
        resync makes B identical to A; rmmod works on both at the end."""
        a, b = self.pair.nodes
        self.thin_setup()
        used0, total0, line = self.pool_status()
        log(f"B's pool before the writes: {used0}/{total0} blocks: {line}")
        ev = events_on(b)
        t0 = time.monotonic()
        r = a.run(f"fio --output-format=json --name=thin --filename={DEV} --ioengine=libaio "
                  f"--direct=1 --rw=write --bs=64k --iodepth=4 --size={THIN_FIO_MIB}M "
                  f"--verify=crc32c --do_verify=1 --verify_fatal=1", check=False, timeout=600)
        rc, errs = fio_errors(r)
        log(f"fio on A ({THIN_FIO_MIB} MiB written and verified): exit {rc}, job errors {errs}, "
            f"{time.monotonic() - t0:.1f} s")
        self.expect(rc == 0 and errs == [0],
                    f"fio on A must write and verify without error while B's pool runs "
                    f"full: exit {rc}, errors {errs}\n{r.err[-1500:]}")
        used1, total1, line = self.pool_status()
        log(f"B's pool after the writes: {used1}/{total1} blocks: {line}")
        self.expect(used1 == total1 and "out_of_data_space" in line,
                    f"B's pool must be full: {line}")
        try:
            log(f"B's console: {b.wait_console(r'rblk0: write error on the backing device', 10)}")
        except rig.RigError as e:
            self.expect(False, f"no write error line on B's console: {e}")
        self.failed_then_diskless(b, ev, "thin pool full")
        ok = settles(lambda: peer_of(status(a), b)["peer_disk_state"] == "diskless", 5,
                     "A to see B diskless")
        sa = status(a)
        pb = peer_of(sa, b)
        log(f"pool full: A {short(sa)}, out of sync toward B {pb.get('out_of_sync_bytes')} "
            f"bytes; B {short(status(b))}")
        self.expect((sa["role"], sa["disk_state"]) == ("primary", "up_to_date"),
                    f"A must stay primary and up_to_date: {short(sa)}")
        self.expect(ok and pb["conn_state"] == "connected" and
                    pb["peer_disk_state"] == "diskless" and pb.get("out_of_sync_bytes", 0) > 0,
                    f"A must show B connected, diskless, with writes out of sync: {short(sa)},"
                    f" out of sync {pb.get('out_of_sync_bytes')}")

        # grow the pool: the data device first, then the pool's table
        grown = THIN_GROWN_MIB * 2048
        b.run(f"dmsetup load {TDATA} && dmsetup suspend {TDATA} && dmsetup resume {TDATA}",
              input=f"0 {grown} linear /dev/vda {THIN_META_MIB * 2048}\n")
        b.run(f"dmsetup load {POOL} && dmsetup suspend {POOL} && dmsetup resume {POOL}",
              input=self.pool_table(grown))
        used2, total2, line = self.pool_status()
        log(f"B's pool grown: {used2}/{total2} blocks: {line}")
        self.expect(total2 == grown // THIN_BLOCK_SECTORS and "out_of_data_space" not in line,
                    f"B's pool must have grown to {grown // THIN_BLOCK_SECTORS} blocks: {line}")
        # attach is refused while a peer is connected: disconnect, then up
        adm(b, f"disconnect {RES}")
        adm(b, f"up {RES}")
        t1 = time.monotonic()
        try:
            sa, sb = wait_in_sync(a, b)
            log(f"B attached again and resynced in {time.monotonic() - t1:.1f} s: decisions "
                f"{decisions(a, b)}; A {short(sa)}; B {short(sb)}")
        except AssertionError as e:
            self.expect(False, f"after the pool grew: {e}")
        size = data_sectors(a)
        sha_a, sha_b = in_parallel(lambda: disk_sha256(a, DM_DEV, size),
                                   lambda: disk_sha256(b, THIN_DEV, size))
        used3, total3, line = self.pool_status()
        log(f"data areas ({size} sectors): A {sha_a[:16]}, B {sha_b[:16]}; B's pool "
            f"{used3}/{total3} blocks")
        self.expect(sha_a == sha_b, f"B's data area must equal A's after the resync: "
                                    f"A {sha_a}, B {sha_b}")

        self.pair.down()
        b.run(f"dmsetup remove {THIN} && dmsetup remove {POOL} && dmsetup remove {TDATA} && "
              f"dmsetup remove {TMETA}")
        for n in (a, b):
            r = n.rmmod(check=False)
            log(f"{n.name}: rmmod rblk: exit {r.rc} {r.err.strip()!r}")
            self.expect(r.rc == 0, f"{n.name}: rmmod rblk must succeed: exit {r.rc} "
                                   f"{r.err.strip()!r}")
            if r.rc == 0:
                n.insmod()
        self.verdict()


if __name__ == "__main__":
    unittest.main()
