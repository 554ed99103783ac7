# SPDX-License-Identifier: GPL-2.0
"""Two nodes connected over rblk: data, failover, flushes, refusals, odd I/O,
bad netlink requests and reads served by the peer.

One cluster (n1 = A, n2 = B) per kernel for the whole class; every test
starts from "connected, both UpToDate" with the primary it needs (a start
over on fresh disks when a previous test left anything else).  Both backing
disks start as zeros (create-md, then new-current-uuid --clear-bitmap: no
initial sync) and every write since is replicated, so at any point the data
areas of the two backing disks (the first size_sectors; the metadata behind
them differs) must be identical byte for byte.
"""
import errno
import hashlib
import json
import os
import re
import shlex
import stat
import unittest

from e2elib import (DEV, EBUSY, EROFS, MINOR, RES, ClusterTest, adm, disk_sha256, fio,
                    in_parallel, log, peer_of, per_kernel, short, status, vda_flushes,
                    wait_until)


# test_8: verified random writes of READS_MIB MiB, read back with --verify_only.
READS_MIB = 16
READS_JOB = ["--name=reads", f"--filename={DEV}", "--ioengine=libaio", "--iodepth=16",
             "--direct=1", "--rw=randwrite", "--bs=4k", f"--size={READS_MIB}M",
             "--randrepeat=1", "--verify=crc32c", "--verify_fatal=1"]


def fio_cmd_line(args):
    """fio's command line with args (a list), JSON output."""
    return "fio --output-format=json " + " ".join(shlex.quote(x) for x in args)


def fio_args(node, args, timeout):
    """Run fio with args (no job file) on node; (Result, parsed JSON or None)."""
    r = node.run(fio_cmd_line(args), check=False, timeout=timeout)
    try:
        return r, json.loads(r.out[r.out.index("{"):])
    except ValueError:
        return r, None


# Warnings that only say the emulated machine is slow, not that rblk is wrong.
EMULATION_NOISE = re.compile(r"hrtimer: interrupt took \d+ ns|clocksource: .*(unstable|skew)")


def tree_bytes(path):
    """Bytes in the regular files under path (symlinks not followed)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            st = os.lstat(os.path.join(root, f))
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
    return total


def tree_sha256(top, dirs):
    """sha256sum(1) lines for every regular file under top/dir for each dir,
    paths relative to top, sorted."""
    lines = []
    for d in dirs:
        for root, _dirs, files in os.walk(os.path.join(top, d)):
            for f in files:
                path = os.path.join(root, f)
                if not stat.S_ISREG(os.lstat(path).st_mode):
                    continue
                with open(path, "rb") as fh:
                    digest = hashlib.file_digest(fh, "sha256").hexdigest()
                lines.append(f"{digest}  {os.path.relpath(path, top)}")
    return "\n".join(sorted(lines, key=lambda l: l[66:])) + "\n"


@per_kernel
class Replication(ClusterTest):
    # CI budget: the reads from the peer on 6.1 in make check (6.12 reads
    # from its peer in test_faults.py's detach and test_hostile_peer.py);
    # the ext4 failover on 6.12, the odd I/O shapes on 6.1
    ONE_KERNEL = {"test_8_reads_served_by_peer": "6.1", "test_2_ext4_tree_failover": "6.12",
                  "test_6_odd_io": "6.1"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pair.setup()
        cls.pair.bring_up()

    def assert_disks_equal(self):
        a, b = self.pair.nodes
        ha, hb = in_parallel(lambda: disk_sha256(a), lambda: disk_sha256(b))
        log(f"data areas of the backing disks: {a.name} {ha[:16]} {b.name} {hb[:16]}")
        self.assertEqual(ha, hb, "backing disks differ")

    # ------------------------------------------------------------------ 1
    def test_1_fio_verify_then_failover(self):
        """256 MiB of verified random writes on A; both backing disks
        identical; after failover B reads back every block fio wrote."""
        p = self.pair
        p.ensure(primary=p.a)
        r, data = fio(p.a, "randwrite-verify", timeout=2400)
        job = data["jobs"][0]
        self.assertEqual(job["error"], 0)
        written = job["write"]["io_bytes"]
        self.assertEqual(written, 256 << 20, "fio did not write 256 MiB")
        self.assertEqual(job["read"]["io_bytes"], 256 << 20, "fio verified less than it wrote")
        log(f"fio on A: write {job['write']['iops']:.0f} IOPS, "
            f"{job['write']['bw'] / 1024:.1f} MiB/s")
        st = status(p.a)
        self.assertGreaterEqual(peer_of(st, p.b)["write_bytes"], 256 << 20)
        self.assertEqual(st["stats"]["errors"], 0)
        self.assert_disks_equal()

        adm(p.a, f"secondary {RES}")
        adm(p.b, f"primary {RES}")
        wait_until(lambda: peer_of(status(p.a), p.b)["peer_role"] == "primary", 30,
                   "A to see B primary")
        r, data = fio(p.b, "randwrite-verify", "--verify_only=1", timeout=1800)
        job = data["jobs"][0]
        self.assertEqual(job["error"], 0)
        self.assertEqual(job["read"]["io_bytes"], 256 << 20,
                         "verify_only checked less than fio wrote")

    # ------------------------------------------------------------------ 2
    def test_2_ext4_tree_failover(self):
        """ext4 on A with a copied tree; after failover fsck is clean on B
        and every file's sha256 matches the source."""
        p = self.pair
        p.ensure(primary=p.a)
        src = "/usr/share/doc"
        # The guests see the host's root filesystem: list and hash the
        # source tree on the host (fast), copy it in the guest.  Every
        # package's documentation, smallest first, up to 48 MiB (TCG is
        # slow): some 4000 files on a development machine.
        sized = sorted((tree_bytes(os.path.join(src, d)), d) for d in os.listdir(src))
        dirs, total = [], 0
        for size, d in sized:
            if total + size > 48 << 20:
                break
            dirs.append(d)
            total += size
        sums = tree_sha256(src, dirs)
        nfiles = len(sums.splitlines())
        self.assertGreater(nfiles, 500, "too few files to copy")
        p.a.run("cat > /tmp/dirs", input="\n".join(dirs) + "\n", quiet=True)
        p.a.run(f"mkfs.ext4 -q -F {DEV}", timeout=300)
        p.a.run(f"mkdir -p /tmp/mnt && mount {DEV} /tmp/mnt && mkdir /tmp/mnt/doc")
        try:
            r = p.a.run(f"cd {src} && xargs -d '\\n' cp -a -t /tmp/mnt/doc < /tmp/dirs && "
                        f"du -sm /tmp/mnt/doc", timeout=1200)
            log(f"copied {nfiles} files to ext4 on A: {r.out.split()[0]} MiB")
        finally:
            p.a.run("sync && umount /tmp/mnt", timeout=300)

        adm(p.a, f"secondary {RES}")
        adm(p.b, f"primary {RES}")
        r = p.b.run(f"fsck.ext4 -fn {DEV}", check=False, timeout=600)
        self.assertEqual(r.rc, 0, f"fsck.ext4 -fn on B: rc {r.rc}\n{r.out}\n{r.err}")
        p.b.run(f"mkdir -p /tmp/mnt && mount -o ro {DEV} /tmp/mnt")
        try:
            r = p.b.run("cd /tmp/mnt/doc && sha256sum --quiet --strict -c", input=sums,
                        check=False, timeout=900)
            self.assertEqual(r.rc, 0, f"checksums differ on B:\n{r.out[-3000:]}{r.err[-2000:]}")
            log(f"{nfiles} files match on B")
        finally:
            p.b.run("umount /tmp/mnt")

    # ------------------------------------------------------------------ 3
    def test_3_flushes_reach_both_disks(self):
        """fio with fsync after every write: each flush is counted by rblk
        on A, acked by B, and reaches both backing disks."""
        p = self.pair
        p.ensure(primary=p.a)
        for n in p.nodes:
            wc = n.run("cat /sys/block/vda/queue/write_cache", quiet=True).out.strip()
            self.assertEqual(wc, "write back", f"{n.name}: vda must have a volatile cache")
        wc = p.a.run("cat /sys/block/rblk0/queue/write_cache", quiet=True).out.strip()
        self.assertEqual(wc, "write back", "rblk0 must pass flushes on (volatile cache)")

        def counters():
            sa = status(p.a)
            return {"rblk A device": sa["stats"]["flushes"],
                    "rblk A peer B acked": peer_of(sa, p.b)["flushes"],
                    "vda A": vda_flushes(p.a), "vda B": vda_flushes(p.b)}
        before = counters()
        r, data = fio(p.a, "fsync", timeout=600)
        job = data["jobs"][0]
        self.assertEqual(job["error"], 0)
        nsync = job["sync"]["total_ios"]
        self.assertGreaterEqual(nsync, 199)
        after = counters()
        delta = {k: after[k] - before[k] for k in before}
        log(f"{nsync} fsyncs; flush counter deltas: {delta}")
        for k, d in delta.items():
            self.assertGreaterEqual(d, nsync, f"{k}: {d} flushes for {nsync} fsyncs")

    # ------------------------------------------------------------------ 4
    def test_4_secondary_refuses_writes(self):
        """B (secondary) refuses opening for write with EROFS; B cannot
        become primary while A is primary and connected (EBUSY); A cannot be
        demoted while open (EBUSY)."""
        p = self.pair
        p.ensure(primary=p.a)
        probe = ("import errno, os, sys\n"
                 "try:\n"
                 f"    os.open('{DEV}', os.O_WRONLY)\n"
                 "except OSError as e:\n"
                 "    print(e.errno)\n"
                 "    sys.exit(0)\n"
                 "print('opened')\n")
        r = p.b.run("/usr/bin/python3 -", input=probe)
        self.assertEqual(r.out.strip(), str(EROFS), "open O_WRONLY on a secondary")
        r = p.b.run(f"dd if=/dev/zero of={DEV} bs=4k count=1 oflag=direct", check=False)
        self.assertNotEqual(r.rc, 0)
        self.assertIn("Read-only file system", r.err)

        r = adm(p.b, f"primary {RES}", check=False)
        self.assertEqual(r.rc, 1, f"rblkadm primary on B: {r.err}")
        self.assertIn(os.strerror(EBUSY), r.err)
        self.assertIn("a connected peer is primary", r.err)
        r = p.b.run(f"{p.b.rblkadm} set-primary --minor {MINOR}", check=False)
        self.assertEqual(r.rc, 1, f"rblkadm set-primary on B: {r.err}")
        self.assertIn(os.strerror(EBUSY), r.err)
        sa, sb = status(p.a), status(p.b)
        self.assertEqual((sa["role"], sb["role"]), ("primary", "secondary"),
                         f"A {short(sa)}; B {short(sb)}")
        self.assertEqual(peer_of(sa, p.b)["peer_role"], "secondary")
        self.assertEqual(peer_of(sb, p.a)["peer_role"], "primary")

        # A holds /dev/rblk0 open: demotion refused while it is.
        job = p.a.spawn(f"exec 3<{DEV}; echo open; sleep 60", timeout=120)
        wait_until(lambda: status(p.a)["open_count"] >= 1, 30, "A's open_count >= 1")
        try:
            r = adm(p.a, f"secondary {RES}", check=False)
            self.assertEqual(r.rc, 1, f"rblkadm secondary while open: {r.err}")
            self.assertIn(os.strerror(EBUSY), r.err)
            self.assertIn("device is open", r.err)
        finally:
            job.kill()
            job.wait()
        wait_until(lambda: status(p.a)["open_count"] == 0, 30, "A's open_count 0")
        self.assertEqual(status(p.a)["role"], "primary")

    # ------------------------------------------------------------------ 6
    def test_6_odd_io(self):
        """512-byte and unaligned direct writes, writes larger than the
        backing disk's max_sectors_kb, discard and write-zeroes: the two
        backing disks stay identical."""
        p = self.pair
        p.ensure(primary=p.a)
        a = p.a
        lbs = int(a.run("cat /sys/block/rblk0/queue/logical_block_size", quiet=True).out)
        self.assertEqual(lbs, 512, "rblk0 logical block size (vda's is 512)")
        max_kb = int(a.run("cat /sys/block/vda/queue/max_sectors_kb", quiet=True).out)
        big = 4 << 20
        self.assertGreater(big // 1024, max_kb, "4 MiB writes must exceed max_sectors_kb")
        mib = 1 << 20
        steps = [
            # 512-byte writes at odd sectors
            f"dd if=/dev/urandom of={DEV} bs=512 count=77 seek=2049 oflag=direct",
            f"dd if=/dev/urandom of={DEV} bs=512 count=1 seek=99999 oflag=direct",
            # 1 MiB and 4 MiB writes, aligned and at an odd sector
            f"dd if=/dev/urandom of={DEV} bs=1M count=3 seek=16 iflag=fullblock oflag=direct",
            f"dd if=/dev/urandom of={DEV} bs=4M count=4 seek=8 iflag=fullblock oflag=direct",
            f"dd if=/dev/urandom of={DEV} bs=4M count=2 iflag=fullblock "
            f"oflag=direct,seek_bytes seek={80 * mib + 512}",
            # a range written, then discarded; another written, then zeroed
            f"dd if=/dev/urandom of={DEV} bs=1M count=8 seek=100 iflag=fullblock oflag=direct",
            f"blkdiscard -o {100 * mib} -l {8 * mib} {DEV}",
            f"dd if=/dev/urandom of={DEV} bs=1M count=8 seek=120 iflag=fullblock oflag=direct",
            f"blkdiscard -z -o {120 * mib + 4096} -l {6 * mib} {DEV}",
        ]
        for cmd in steps:
            a.run(cmd, timeout=300)
        # the zeroed range reads back as zeros on A ...
        a.run(f"dd if={DEV} bs=4k skip={(120 * mib + 4096) // 4096} count={6 * mib // 4096} "
              f"iflag=direct status=none | cmp -n {6 * mib} - /dev/zero", timeout=120)
        st = status(a)
        self.assertGreaterEqual(st["stats"]["discards"], 2, "discard + write-zeroes counted")
        self.assertEqual(st["stats"]["errors"], 0)
        # ... and both backing disks are identical.
        self.assert_disks_equal()

    # ------------------------------------------------------------------ 7
    def test_7_bad_requests(self):
        """Low-level commands with missing or invalid attributes, unknown
        minors, a duplicate create, a disk already in use: exit 1 and
        exactly the errno text and extack message the kernel gives; nothing
        in the kernel log."""
        a = self.pair.a
        ll = a.rblkadm
        m = 700
        warn_cmd = "dmesg --level=emerg,alert,crit,err,warn"
        warn_before = set(a.run(warn_cmd, quiet=True).out.splitlines())
        peer = "--peer 10.99.12.2 --peer-port 7000 --local 10.99.12.1 --local-port 7001"
        # rblkadm prints "rblkadm: CMD: strerror(errno): extack message", and
        # the attribute the kernel blamed (NLMSGERR_ATTR_OFFS / MISS_TYPE).
        cases = [
            # (arguments, errno or 0 for success, rest of the message)
            ("create-device --name bad --node-id 1", errno.EINVAL,
             "missing attribute RBLK_A_MINOR"),
            # out of the policy's range
            (f"create-device --name bad --minor {m} --node-id 99", errno.ERANGE,
             "integer out of range (RBLK_A_NODE_ID)"),
            ("create-device --name bad --minor 1024 --node-id 1", errno.ERANGE,
             "integer out of range (RBLK_A_MINOR)"),
            # unknown minor
            ("attach --minor 999 --disk /dev/vdb", errno.ENODEV, "no such device"),
            ("show --minor 999", errno.ENODEV, "no such device (RBLK_A_MINOR)"),
            ("set-primary --minor 999", errno.ENODEV, "no such device"),
            # a valid device, then wrong requests on it
            (f"create-device --name dup --minor {m} --node-id 1", 0, None),
            (f"create-device --name dup2 --minor {m} --node-id 1", errno.EEXIST,
             "minor already in use"),
            (f"create-device --name dup --minor {m + 1} --node-id 1", errno.EEXIST,
             "resource name already in use"),
            (f"add-peer --minor {m} --peer-node-id 2 --peer 10.99.12.2 --peer-port 0 "
             f"--local 10.99.12.1 --local-port 7000", errno.ERANGE,
             "integer out of range (RBLK_A_PEER_PORT)"),
            (f"add-peer --minor {m} --peer-node-id 1 {peer}", errno.EINVAL,
             "peer node id out of range or equal to the local one"),
            (f"add-peer --minor {m} --peer-node-id 2 --peer 10.99.12.2 --peer-port 7000 "
             f"--local ::1 --local-port 7001", errno.EINVAL,
             "local and peer IP addresses must be of the same family (RBLK_A_LOCAL_IP)"),
            (f"attach --minor {m} --disk /dev/vda", errno.EBUSY,
             "cannot open the backing device exclusively"),
            (f"attach --minor {m} --disk /dev/no-such-disk", errno.ENOENT,
             "cannot open the backing device exclusively"),
            (f"remove-peer --minor {m} --peer-node-id 5", errno.ENOENT, "no such peer"),
            (f"delete-device --minor {m}", 0, None),
            (f"delete-device --minor {m}", errno.ENODEV, "no such device"),
        ]
        failures = []
        for args, err, text in cases:
            r = a.run(f"{ll} {args}", check=False)
            cmd = args.split()[0]
            if err == 0:
                want_rc, want = 0, ""
            else:
                want_rc = 1
                want = f"rblkadm: {cmd}: {os.strerror(err)}" + (f": {text}" if text else "")
            if r.rc != want_rc or r.err.strip() != want:
                failures.append(f"{args}:\n    got  rc {r.rc}, stderr {r.err.strip()!r}"
                                f"\n    want rc {want_rc}, stderr {want!r}")
        a.run(f"{ll} delete-device --minor {m}", check=False)
        self.assertEqual(failures, [], "\n" + "\n".join(failures))
        new = [line for line in a.run(warn_cmd, quiet=True).out.splitlines()
               if line not in warn_before and not EMULATION_NOISE.search(line)]
        self.assertEqual(new, [], "new kernel log lines at warning level or above")

    # ------------------------------------------------------------------ 8
    def read_verify(self, node, what):
        """fio --verify_only of READS_JOB on node (reads only): must pass."""
        r, data = fio_args(node, READS_JOB + ["--verify_only=1"], timeout=900)
        job = data["jobs"][0] if data else {}
        self.assertEqual((r.rc, job.get("error")), (0, 0),
                         f"{what}: fio verify on {node.name} failed: rc {r.rc}\n"
                         f"{r.out[-2000:]}{r.err[-2000:]}")
        self.assertEqual(job["read"]["io_bytes"], READS_MIB << 20,
                         f"{what}: fio verified less than it wrote")
        return job

    def test_8_reads_served_by_peer(self):
        """Read balancing: with round-robin and least-pending, A's reads of
        verified data go to A's disk and to B, and every block reads back
        right; B counts what it served.  A disconnect of B while reads wait
        for it hands them to A's disk: fio sees no error.  prefer-local
        (the default) sends none to B."""
        p = self.pair
        a, b = p.nodes
        p.ensure(primary=a)
        r, data = fio_args(a, READS_JOB + ["--do_verify=0"], timeout=900)
        self.assertEqual(data["jobs"][0]["error"], 0, f"fio write on A: {r.err[-2000:]}")
        try:
            counts = []
            for policy in ("round-robin", "least-pending", "prefer-local"):
                before = peer_of(status(a), b)["reads"], peer_of(status(b), a)["served_reads"]
                adm(a, f"device-options {RES} --read-balancing {policy}")
                self.assertEqual(status(a)["read_balancing"], policy)
                self.read_verify(a, policy)
                sent, served = peer_of(status(a), b)["reads"], peer_of(status(b), a)["served_reads"]
                counts.append((policy, sent - before[0], served - before[1]))
            log(f"reads of {READS_MIB} MiB served by B (sent by A, served by B): {counts}")
            nreads = (READS_MIB << 20) // 4096
            for policy, sent, served in counts:
                self.assertEqual(sent, served, f"{policy}: A's and B's counts must agree")
                if policy == "round-robin":
                    self.assertGreater(sent, nreads // 4, f"{policy}: too few reads went to B")
                    self.assertLess(sent, nreads, f"{policy}: A's disk must serve reads too")
                elif policy == "prefer-local":
                    self.assertEqual(sent, 0, f"{policy}: no read may go to B")

            # B goes away while A's reads wait for it: they go to A's disk
            adm(a, f"device-options {RES} --read-balancing round-robin")
            base = peer_of(status(a), b)["reads"]
            job = a.spawn(fio_cmd_line(READS_JOB + ["--verify_only=1", "--loops=4"]),
                          timeout=900)
            wait_until(lambda: peer_of(status(a), b)["reads"] > base + 200 or job.done, 60,
                       "A's reads to reach B")
            adm(a, f"disconnect {RES}")
            r = job.wait(timeout=900)
            self.assertEqual(r.rc, 0, f"fio verify on A across B's disconnect failed:\n"
                                      f"{r.out[-2000:]}{r.err[-2000:]}")
            st = status(a)
            log(f"after the disconnect during reads: A {short(st)}, errors "
                f"{st['stats']['errors']}")
            self.assertEqual(st["stats"]["errors"], 0, "A's device counted failed requests")
        finally:
            adm(a, f"device-options {RES} --read-balancing prefer-local", check=False)
            adm(a, f"connect {RES}", check=False)
        p.ensure(primary=a)
        self.assert_disks_equal()


if __name__ == "__main__":
    unittest.main()
