# SPDX-License-Identifier: GPL-2.0
"""Self-test of the VM rig (scripts/rig.py) and of the harness's log rule."""
import glob
import json
import os
import subprocess
import sys
import time

from rblktest import (Cluster, GuestLogError, NodeDown, Skip, TOP, kernels, require_module,
                      timeout)

FIO = ("fio --name=rig --filename={dev} --rw=randwrite --bs=4k --ioengine=libaio "
       "--iodepth=16 --direct=1 --size=32M --verify=crc32c --verify_fatal=1 "
       "--output-format=json")


def fio_iops(node):
    res = node.run(FIO.format(dev=node.disk), timeout=600)
    job = json.loads(res.out[res.out.index("{"):])["jobs"][0]
    assert job["error"] == 0, job
    assert job["write"]["total_ios"] == 32 * 256, job["write"]["total_ios"]
    return job["write"]["iops"]


@kernels("6.12")
@timeout(900)
def test_two_nodes(kernel):
    """Two nodes boot, reach each other on their link, run a verified fio
    job on their disks; the link can be cut and restored; a killed node
    comes back on the same disk (data written before the kill is there).
    make soak only, on one kernel (the CI budget): every e2e class boots
    both kernels, and the link cut, power loss and restart classes check
    what they did."""
    if os.environ.get("RBLK_SOAK") != "1":
        raise Skip("make soak only (RBLK_SOAK=1): the e2e classes use the same rig calls")
    t0 = time.monotonic()
    with Cluster(kernel=kernel, nodes=2, disk_mib=256) as c:
        boot_s = time.monotonic() - t0
        a, b = c.nodes
        assert a.run("uname -r").out.strip() == c.kver
        assert a.ip_for(b) == "10.99.12.1" and b.ip_for(a) == "10.99.12.2"
        rtt_ms = a.ping(b)
        iops = [fio_iops(n) for n in (a, b)]

        c.cut_link(a, b)
        r = a.run(f"ping -c 2 -W 1 {b.ip_for(a)}", check=False)
        assert r.rc != 0, "ping went through a cut link"
        c.restore_link(a, b)
        a.ping(b, count=1)

        # Power loss: what was written with O_DIRECT + fsync is still there.
        pattern = b.run("head -c 4M /dev/urandom | tee /tmp/p | sha256sum").out.split()[0]
        b.run(f"dd if=/tmp/p of={b.disk} bs=1M oflag=direct conv=fsync status=none")
        job = b.spawn("sleep 600")
        c.kill(b)
        assert not b.up
        try:
            job.wait(timeout=30)
            raise AssertionError("a command survived its node's power loss")
        except NodeDown:
            pass
        t1 = time.monotonic()
        c.restart(b)
        restart_s = time.monotonic() - t1
        got = b.run(f"head -c 4M {b.disk} | sha256sum").out.split()[0]
        assert got == pattern, f"disk content lost over restart: {got} != {pattern}"
        b.ping(a, count=1)
    print(f"TIMING kernel={kernel} boot_2_nodes_s={boot_s:.1f} ping_rtt_ms={rtt_ms:.2f} "
          f"fio_randwrite_4k_qd16_iops={iops[0]:.0f},{iops[1]:.0f} restart_s={restart_s:.1f} "
          f"total_s={time.monotonic() - t0:.1f}")


@timeout(600)
def test_insmod(kernel):
    """rblk.ko of this kernel loads and unloads cleanly; so does the one
    DKMS built from the rblk-dkms package (tests/packaging/ leaves it in
    build/deb/dkms/KVER/) when there is one for this kernel (make check:
    6.1)."""
    require_module(kernel)
    with Cluster(kernel=kernel, nodes=1, disk_mib=64) as c:
        n = c.nodes[0]
        n.insmod()
        assert n.run("test -d /sys/module/rblk", check=False).rc == 0
        assert "rblk" in n.run("cat /proc/modules").out
        n.rmmod()
        assert n.run("test -d /sys/module/rblk", check=False).rc != 0
        for ko in glob.glob(os.path.join(TOP, "build", "deb", "dkms", c.kver, "rblk.ko*")):
            n.run(f"insmod {ko}")   # its dependencies are loaded: insmod() above
            assert n.run("test -d /sys/module/rblk", check=False).rc == 0
            n.rmmod()
            print(f"DKMS-built {os.path.relpath(ko, TOP)} loaded and unloaded", flush=True)


@timeout(600)
def test_log_scanner(kernel):
    """A guest kernel line with 'WARNING:' fails the check; the unsigned and
    out-of-tree module notices and the emulator's single-step warning do
    not."""
    with Cluster(kernel=kernel, nodes=1, disk_mib=64) as c:
        n = c.nodes[0]
        assert c.log_problems() == [], c.log_problems()
        n.run("echo 'rblk: module verification failed: signature and/or required key "
              "missing - tainting kernel' > /dev/kmsg")
        n.run("echo 'rblk: loading out-of-tree module taints kernel.' > /dev/kmsg")
        n.run("echo 'WARNING: CPU: 0 PID: 1 at rig self-test' > /dev/kmsg")
        n.wait_console("WARNING: CPU: 0 PID: 1 at rig self-test", timeout=30)
        problems = c.log_problems()
        assert [l for _, l in problems if "rig self-test" in l], problems
        assert not [l for _, l in problems if "taint" in l], problems
        try:
            c.check_logs()
            raise AssertionError("check_logs() accepted a WARNING: line")
        except GuestLogError:
            pass
        c.allow_log(r"WARNING: CPU: 0 PID: 1 at rig self-test")
        c.check_logs()
        # The emulator's kernel-mode single-step warning and its own trace do
        # not count; another forbidden line inside its block, or a trace
        # after its end marker, does.
        for line in ("WARNING: CPU: 0 PID: 9 at arch/x86/kernel/traps.c:1120 "
                     "exc_debug_kernel+0xca/0x160", "Call Trace:",
                     "BUG: rig self-test inside", "---[ end trace 0000000000000000 ]---",
                     "Call Trace: rig self-test after"):
            n.run(f"echo '{line}' > /dev/kmsg")
        n.wait_console("rig self-test after", timeout=30)
        problems = sorted(l.split("] ", 1)[-1] for _, l in c.log_problems())
        assert problems == ["BUG: rig self-test inside", "Call Trace: rig self-test after"], \
            problems
        c.allow_log(r"rig self-test")
        c.check_logs()


@timeout(900)
def test_harness_fails_on_guest_warning():
    """End to end: tests/run reports a test whose guest logged 'WARNING:' as
    failed (exit 1, "0 passed, 1 failed"), though the test itself passed."""
    fixture = os.path.join(TOP, "tests", "rig", "fixtures", "guest_warning.py")
    env = dict(os.environ)
    out = os.path.join(env.pop("RBLK_TEST_DIR", None) or "/tmp", "inner-run")
    p = subprocess.run([sys.executable, os.path.join(TOP, "tests", "run"), "--no-build",
                        "--out", out, "-k", "6.1", fixture], capture_output=True, text=True, env=env,
                       stdin=subprocess.DEVNULL, timeout=800)
    print(p.stdout[-3000:])
    lines = p.stdout.strip().splitlines()
    assert p.returncode == 1, p.returncode
    assert lines[-1] == "0 passed, 1 failed", lines[-1]
    assert any(l.startswith("FAIL") and "guest_warning.py::test_warns[6.1]" in l for l in lines)
