# SPDX-License-Identifier: GPL-2.0
"""Crash consistency of every replica, from the order writes became stable.

Each node's backing device of r0 is ``/dev/mapper/lw``, a dm-log-writes
target (Debian's kernels ship it) over ``/dev/vda`` that logs every write
on ``/dev/vdb`` in the order it reached stable storage: a completed write
is logged at the next flush, a FUA write when it completes.  The disks
start zeroed and everything (create-md, rblk's metadata and activity log,
the workload) goes through the target, so replaying a node's log up to a
flush or FUA entry (``logwrites.py``) gives the image that node's disk
could hold after a power cut at that point.  After the workload the pair
is taken down, the targets removed (the log's end), and the host reads
both disk images of both nodes and replays each log into an image of its
own.

Checks on the host, for A (primary) and B (secondary) alike:

* the replay of the whole log equals the node's data device byte for byte
  (the replayer and the log are complete), and A's and B's data areas are
  equal;
* test_1 (raw): ``ackwriter.py`` on A writes batches of numbered,
  self-describing 4 KiB blocks with 4 in flight and ``fdatasync`` after each
  batch; batch k+1 starts only after batch k was acknowledged.  At every
  flush/FUA point of each log, with m the newest batch any block shows:
  every block holds a whole block of some batch or zeroes (no torn or
  foreign block), and every block written by batches 1..m-1 holds its last
  write of those batches or a newer one.  A write of batch m on a disk
  proves batch m-1's flush returned to the writer before it, so a replica
  that lacks an older acknowledged write at that point would lose it in a
  power cut.  At the log's end all batches are there.
* test_2 (ext4): mkfs.ext4, then files written with fsync, renamed and
  removed on A's mounted device.  At sampled flush/FUA points after mkfs
  (all of them with RBLK_SOAK=1), a copy of the replayed image gets its
  journal replayed (``e2fsck -E journal_only``) and must then be clean
  (``e2fsck -fn`` exits 0).  At the log's end every file has the content
  the workload recorded after its last fsync.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import time

from e2elib import (DEV, E2E, RES, SOAK, ClusterTest, adm, create_md, in_parallel, log,
                    new_current_uuid, per_kernel, peer_of, status, topology, wait_until,
                    write_conf, zero_disk)

import ackwriter  # noqa: E402  (tests/e2e is on the path of the tests)
import logwrites  # noqa: E402

LW = "lw"
LW_DEV = f"/dev/mapper/{LW}"
BLOCK = ackwriter.BLOCK
MIB = 1 << 20

# test_1: the first 8 MiB of the device, batches of 8 blocks, 4 in flight
REGION_BLOCKS = 8 * MIB // BLOCK
BATCHES = 300 if SOAK else 120
PER_BATCH = 8
DEPTH = 4
SEED = int(os.environ.get("RBLK_CRASH_SEED", "20261207"))
# test_2: flush/FUA points checked with e2fsck per node (every one in soak)
EXT4_POINTS = None if SOAK else 60
MNT = "/tmp/mnt"

# The ext4 workload (bash, on A): files of 4..64 KiB in five directories,
# each fsync'd (dd conv=fsync); every 7th renamed, every 11th removes an
# older one; then the sha256 of every file, after a final sync.
EXT4_WORKLOAD = r"""
set -e
cd {mnt}
mkdir -p d0 d1 d2 d3 d4
for i in $(seq 1 {files}); do
    dd if=/dev/urandom of=d$((i % 5))/f$i bs=4k count=$((i % 16 + 1)) conv=fsync status=none
    if [ $((i % 7)) = 0 ]; then mv d$((i % 5))/f$i d$(((i + 1) % 5))/g$i; sync -f .; fi
    if [ $((i % 11)) = 0 ] && [ -e d$(((i - 5) % 5))/f$((i - 5)) ]; then
        rm d$(((i - 5) % 5))/f$((i - 5)); sync -f .
    fi
done
sync
find . -type f -name '[fg]*' | sort | xargs sha256sum
"""
EXT4_FILES = 120 if SOAK else 60


def fsck_problem(image, scratch):
    """None when a copy of the ext4 image at `image`, its journal replayed,
    is clean (``e2fsck -fn`` exits 0); else what e2fsck said."""
    shutil.copyfile(image, scratch)
    j = subprocess.run(["e2fsck", "-E", "journal_only", "-y", scratch],
                       capture_output=True, text=True)
    c = subprocess.run(["e2fsck", "-fn", scratch], capture_output=True, text=True)
    if j.returncode > 1 or c.returncode != 0:
        return (f"e2fsck journal replay exit {j.returncode}, check exit {c.returncode}: "
                f"{(j.stdout + c.stdout)[-600:]}")
    return None


def lw_create(node):
    """Zero both disks, load dm-log-writes, create lw over vda logging to vdb."""
    node.run("modprobe -a dm-mod dm-log-writes")
    zero_disk(node, "/dev/vda")
    node.run("dd if=/dev/zero of=/dev/vdb bs=1M count=1 oflag=direct status=none")
    sectors = int(node.run("blockdev --getsz /dev/vda").out)
    node.run(f"dmsetup create --verifyudev {LW}",
             input=f"0 {sectors} log-writes /dev/vda /dev/vdb\n")


def lw_remove(node):
    node.run(f"dmsetup remove --verifyudev {LW}")


def sha256_file(path, size_bytes=None):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        left = size_bytes if size_bytes is not None else os.path.getsize(path)
        while left > 0:
            chunk = f.read(min(left, 4 * MIB))
            if not chunk:
                break
            h.update(chunk)
            left -= len(chunk)
    return h.hexdigest()


@per_kernel
class CrashConsistency(ClusterTest):
    DISKS = 2
    DISK_MIB = 64
    # on one kernel in make check (CI budget), on both in make soak
    ONE_KERNEL = {"*": "6.12"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for n in cls.c.nodes:
            n.insmod()
            write_conf(n, topology(cls.c.nodes, disk=LW_DEV))

    def bring_up(self):
        """Fresh zeroed disks under fresh logs, r0 up on both, UpToDate
        without a sync, A primary."""
        a, b = self.c.nodes
        in_parallel(*(lambda n=n: lw_create(n) for n in (a, b)))
        for n in (a, b):
            create_md(n)
        for n in (a, b):
            adm(n, f"up {RES}")
        wait_until(lambda: all(peer_of(status(n), m)["conn_state"] == "connected"
                               for n, m in ((a, b), (b, a))), 60, "r0 connected")
        new_current_uuid(a)
        wait_until(lambda: all(status(n)["disk_state"] == "up_to_date" for n in (a, b)), 60,
                   "both UpToDate")
        adm(a, f"primary {RES}")
        return status(a)["size_sectors"]

    def take_down(self):
        """r0 down on both, the targets removed: each log complete."""
        a, b = self.c.nodes
        adm(a, f"secondary {RES}", check=False)
        for n in (a, b):
            adm(n, f"down {RES}")
        for n in (a, b):
            lw_remove(n)

    def replay_check(self, node, check_point, end_check=None, on_apply=None, skip=()):
        """Replay node's log into a host image (on_apply: see
        logwrites.Replay); call check_point(replay, entry, image_path) at
        every flush/FUA point and end_check(image_path) after the last entry
        (each returns a list of problems); then compare the whole replay
        with the node's data device.  skip: entry indexes left out (the
        negative control).  Returns (points, problems, image)."""
        vda, vdb = node.disk_images[0], node.disk_images[1]
        image = os.path.join(self.c.run_dir, f"{node.name}-replay{'-skip' if skip else ''}.img")
        with open(image, "wb") as f:
            f.truncate(os.path.getsize(vda))
        problems, points = [], 0
        with logwrites.Replay(vdb, image, on_apply, skip) as r:
            if r.bs != 512:
                raise AssertionError(f"{node.name}: log sectorsize {r.bs}, expected 512")
            n_entries = r.nr_entries
            for e in r:
                if e.is_point:
                    points += 1
                    problems += check_point(r, e, image)
        if end_check:
            problems += end_check(image)
        if sha256_file(image) != sha256_file(vda):
            problems.append(f"{node.name}: the replay of the whole log ({n_entries} entries) "
                            f"differs from the data device")
        log(f"{node.name}: {n_entries} log entries, {points} flush/FUA points, "
            f"{len(problems)} problems")
        return points, problems, image

    def test_1_acknowledged_batches(self):
        """Numbered batches with fdatasync: no replica, at any flush/FUA
        point, lacks a write acknowledged before a write it holds."""
        a, b = self.c.nodes
        size_sectors = self.bring_up()
        t0 = time.monotonic()
        r = a.run(f"python3 {E2E}/ackwriter.py {DEV} {SEED} {BATCHES} {PER_BATCH} "
                  f"{REGION_BLOCKS} {DEPTH}", timeout=900, quiet=True)
        acked = [int(x.split()[1]) for x in r.out.split("\n") if x.startswith("acked ")]
        log(f"ackwriter: seed {SEED}, {len(acked)} batches acknowledged in "
            f"{time.monotonic() - t0:.1f} s")
        self.assertEqual(acked, list(range(1, BATCHES + 1)), "every batch acknowledged in order")
        self.take_down()

        batches = ackwriter.plan(SEED, BATCHES, PER_BATCH, REGION_BLOCKS)
        # writers[block] = the batches that write it, in order
        writers = {}
        for k, blocks in enumerate(batches, start=1):
            for blk in blocks:
                writers.setdefault(blk, []).append(k)

        def last_up_to(blk, k):
            return max((j for j in writers.get(blk, ()) if j <= k), default=0)

        region_bytes = REGION_BLOCKS * BLOCK

        def check_node(node, skip=()):
            state = {}     # block -> batch on the replayed disk (absent: 0)

            def applied(e, data):
                lo = e.sector * 512
                if lo >= region_bytes:
                    return
                if lo % BLOCK or len(data) % BLOCK:
                    raise AssertionError(f"{node.name}: entry {e.index} is not 4 KiB aligned "
                                         f"in the region: byte {lo} +{len(data)}")
                for i in range(0, min(len(data), region_bytes - lo), BLOCK):
                    blk = (lo + i) // BLOCK
                    state[blk] = ackwriter.identify(data[i:i + BLOCK], blk)

            def point(rp, e, image):
                m = max((k or 0 for k in state.values()), default=0)
                out = []
                torn = [blk for blk, k in state.items() if k is None]
                if torn:
                    out.append(f"{node.name} entry {e.index}: torn or foreign blocks "
                               f"{torn[:8]}")
                missing = [(blk, state.get(blk, 0), last_up_to(blk, m - 1))
                           for blk in writers
                           if (state.get(blk, 0) or 0) < last_up_to(blk, m - 1)]
                if missing:
                    out.append(f"{node.name} entry {e.index}: batch {m} is on disk but "
                               f"{len(missing)} blocks lack an acknowledged older write "
                               f"(block, has, needs): {missing[:6]}")
                return out

            def end(image):
                lost = [blk for blk in writers if state.get(blk, 0) != last_up_to(blk, BATCHES)]
                return [f"{node.name}: at the log's end {len(lost)} blocks lack their "
                        f"last acknowledged write: {lost[:8]}"] if lost else []
            return self.replay_check(node, point, end, on_apply=applied, skip=skip)

        results = [check_node(n) for n in (a, b)]
        problems = [p for _, ps, _ in results for p in ps]
        for n, (points, ps, _) in zip((a, b), results):
            self.fig(f"{n.name}: {points} flush/FUA points checked, {len(ps)} problems "
                     f"({BATCHES} batches of {PER_BATCH} x 4 KiB, {DEPTH} in flight)")
        da, db = (sha256_file(img, size_sectors * 512) for _, _, img in results)
        self.assertEqual(da, db, "A's and B's replayed data areas must be equal")
        self.assertFalse(problems, "\n".join(problems[:20]))

        # Negative control: B's log replayed without one write of a batch
        # in the middle, as a replica that lost an acknowledged write
        # would be: the checker must see it.
        with open(b.disk_images[1], "rb") as f:
            victim = next(e.index for e in logwrites.entries(f)
                          if e.data_offset is not None and e.sector * 512 < region_bytes and
                          e.sector * 512 // BLOCK in batches[BATCHES // 2])
        _, ps, _ = check_node(b, skip=(victim,))
        log(f"control: B's log without entry {victim}: {len(ps)} problems: {ps[:2]}")
        self.assertTrue(any("lack" in p for p in ps),
                        f"the checker must report B's log without entry {victim}: {ps}")

    def test_2_ext4(self):
        """ext4 with fsync'd files: every sampled flush/FUA point is a
        clean file system after journal replay; the end holds every file."""
        a, b = self.c.nodes
        size_sectors = self.bring_up()
        a.run(f"mkfs.ext4 -q -F -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 {DEV}")
        # the mark after mkfs on both logs: mkfs ends with a flush that
        # reached B before A's mkfs returned
        for n in (a, b):
            n.run(f"dmsetup message {LW} 0 mark mkfs")
        a.run(f"mkdir -p {MNT} && mount -t ext4 {DEV} {MNT}")
        try:
            r = a.run(EXT4_WORKLOAD.format(mnt=MNT, files=EXT4_FILES), timeout=900, quiet=True)
        finally:
            a.run(f"umount {MNT}", check=False)
        sums = {}
        for line in r.out.strip().split("\n"):
            digest, path = line.split(None, 1)
            sums[os.path.normpath(path)] = digest
        log(f"ext4 workload: {len(sums)} files at the end")
        self.assertTrue(sums, "the workload left files")
        self.take_down()

        def check_node(node):
            with open(node.disk_images[1], "rb") as f:
                ents = list(logwrites.entries(f))
            mark = next((e.index for e in ents if e.mark == "mkfs"), None)
            self.assertIsNotNone(mark, f"{node.name}: no mkfs mark in the log")
            pts = [e.index for e in ents if e.is_point and e.index > mark]
            if EXT4_POINTS is not None and len(pts) > EXT4_POINTS:
                step = len(pts) / EXT4_POINTS
                pick = {pts[int(i * step)] for i in range(EXT4_POINTS)} | {pts[-1]}
            else:
                pick = set(pts)
            scratch = os.path.join(self.c.run_dir, f"{node.name}-fsck.img")

            def point(rp, e, image):
                if e.index not in pick:
                    return []
                bad = fsck_problem(image, scratch)
                return [f"{node.name} entry {e.index}: {bad}"] if bad else []

            def end(image):
                out = os.path.join(self.c.run_dir, f"{node.name}-files")
                shutil.rmtree(out, ignore_errors=True)
                os.makedirs(out)
                shutil.copyfile(image, scratch)
                subprocess.run(["e2fsck", "-E", "journal_only", "-y", scratch],
                               capture_output=True)
                subprocess.run(["debugfs", "-R", f"rdump / {out}", scratch],
                               capture_output=True, check=True)
                bad = []
                for path, digest in sums.items():
                    p = os.path.join(out, path)
                    got = sha256_file(p) if os.path.exists(p) else "missing"
                    if got != digest:
                        bad.append(f"{path}: {got[:12]}")
                return [f"{node.name}: at the log's end {len(bad)} of {len(sums)} files "
                        f"differ: {bad[:6]}"] if bad else []
            points, problems, image = self.replay_check(node, point, end)
            return len(pick), points, problems, image

        results = in_parallel(*(lambda n=n: check_node(n) for n in (a, b)))
        problems = [p for _, _, ps, _ in results for p in ps]
        for n, (checked, points, ps, _) in zip((a, b), results):
            self.fig(f"{n.name}: {checked} of {points} flush/FUA points fsck'd, "
                     f"{len(ps)} problems ({len(sums)} files)")
        da, db = (sha256_file(img, size_sectors * 512) for _, _, _, img in results)
        self.assertEqual(da, db, "A's and B's replayed data areas must be equal")
        self.assertFalse(problems, "\n".join(problems[:20]))

        # Negative control: the root directory's first block zeroed in a
        # copy of B's final image: the fsck step must report it.
        image = results[1][3]
        broken = os.path.join(self.c.run_dir, "broken.img")
        shutil.copyfile(image, broken)
        subprocess.run(["e2fsck", "-E", "journal_only", "-y", broken], capture_output=True)
        bs = int(subprocess.run(["dumpe2fs", "-h", broken], capture_output=True, text=True,
                                check=True).stdout.split("Block size:")[1].split()[0])
        blk = int(subprocess.run(["debugfs", "-R", "bmap / 0", broken], capture_output=True,
                                 text=True, check=True).stdout.split()[0])
        with open(broken, "r+b") as f:
            f.seek(blk * bs)
            f.write(bytes(bs))
        bad = fsck_problem(broken, broken + ".scratch")
        log(f"control: root directory block {blk} zeroed: {bad and bad[:120]!r}")
        self.assertTrue(bad, "e2fsck must report a zeroed root directory block")


if __name__ == "__main__":
    import unittest
    sys.exit(unittest.main())
