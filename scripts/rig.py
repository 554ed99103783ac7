# SPDX-License-Identifier: GPL-2.0
"""rblk's VM test rig: clusters of QEMU (TCG) guests running Debian kernels.

Every node is a QEMU process booting /boot/vmlinuz-$KVER with a small busybox
initramfs built here (cached, keyed by kernel and content).  The initramfs
loads the virtio, 9p and virtio-console modules (resolved with
``modprobe -S KVER --show-depends``), mounts the host's root filesystem
read-only over 9p at /host, mounts the guest's own proc, sys, devtmpfs,
devpts and tmpfs (/tmp, /run, /dev/shm) inside it, mounts the run directory
read-write over 9p at the same path it has on the host, and starts the
command agent (scripts/rig_agent.py) in the chroot /host.  So every command
a test runs on a node runs as root in a root filesystem identical to the
host's: the host's fio, mkfs.ext4, insmod, python3, and the repository's
freshly built files at their host paths.

Per node: virtio disks (raw sparse files, cache=none, aio=native) that
survive kill() and restart(); one virtio-net NIC per peer, each link a pair
of QEMU UDP socket netdevs on 127.0.0.1 (either end may die and come back),
or with link="tap" two tap devices with virtio-net headers on a bridge in a
network namespace of the cluster's own (the NICs then offer checksum and
segmentation offload, as a real NIC does; QEMU runs in that namespace);
static addresses 10.99.<ij>.<i> on the link between node i and node j
(i < j, e.g. n1 has 10.99.12.1 and n2 10.99.12.2); interface names
``to_n<peer>``.  No other network.  The guest console (ttyS0, loglevel 7)
goes to <run_dir>/<node>.console.log, every command and its output to
<run_dir>/<node>.commands.log, and an interactive shell listens on ttyS1.

Debug kernel: "6.1-debug" (KVER_61DEBUG in build/kernels.env) is the kernel
scripts/debug-kernel builds with KASAN, lockdep, kmemleak and friends,
booted from its bzImage in $RBLK_CACHE/debug-kernel (default
build/debug-kernel).  Everything the guests need is built into it: its
initramfs loads no module, and the guest sees that build's modules.builtin
as /lib/modules/KVER (a tmpfs over the host's /lib/modules), so modprobe of
a built-in module succeeds.  It boots with kmemleak=on and debugfs mounted;
Node.kmemleak() scans for leaks, Cluster.kmemleak_problems() does so on
every node, and Cluster.close() fails on a leak whose backtrace is rblk's.

Guest-log rule: a line containing one of BAD_LOG_PATTERNS in any guest
console log makes Cluster.close() (thus leaving ``with Cluster(...)``) raise
GuestLogError, so the test fails.  Lines matching ALLOWED_LOG_PATTERNS (the
unsigned-module and out-of-tree taint notices) or a regex passed to
Cluster.allow_log() do not count.

Usage::

    from rig import Cluster
    with Cluster(kernel="6.1", nodes=2, disk_mib=512) as c:
        a, b = c.nodes
        a.run(f"insmod {a.module_path}")          # raises CommandError on rc != 0
        r = a.run("cat /proc/partitions", check=False)
        print(r.rc, r.out, r.err)
        job = b.spawn("fio ...")                   # runs in the background
        c.cut_link(a, b); c.restore_link(a, b)     # QMP set_link off/on
        c.kill(b); c.restart(b)                    # power loss, then boot again
        a.ip_for(b)                                # "10.99.12.1"
        job.wait()

API summary (see the docstrings):
    Cluster(kernel="6.1", nodes=2, disk_mib=512, disks=1, mem_mib=1024,
            cpus=1, maxcpus=2, name=None, run_dir=None, boot_timeout_s=300,
            keep_disks=False, hung_task_timeout_s=60, quiet=False, link="udp")
        .nodes  .kernel  .kver  .run_dir  .node(name_or_index)
        .cut_link(a, b, mode="carrier"|"silent")  .restore_link(a, b)
        .kill(node)  .restart(node)  .shutdown(node)  .start(node)
        .log_problems()  .check_logs()  .allow_log(regex)  .close()
    Node: .name .index .id .kernel .kver .disks .disk .module_path .rblkadm
        .run_dir .console_log .up .peers .ip_for(peer) .iface_for(peer)
        .run(cmd, check=True, timeout=300, input=None, env=None, cwd=None,
             quiet=False) -> Result
        .spawn(cmd, timeout=None, input=None, env=None, cwd=None,
               on_output=None) -> Job
        .insmod(params="") .rmmod() .dmesg() .wait_console(regex, timeout=60)
        .ping(peer, count=3, timeout=60) -> average RTT in ms
    Result: .rc .out .err .stdout .stderr .timed_out .duration_s .ok
    Job: .wait(timeout=None, check=False) -> Result  .kill(sig=9)  .done
    Errors: RigError > BootError, CommandError(.result), NodeDown,
            GuestLogError(.problems)
"""
import atexit
import base64
import ctypes
import hashlib
import json
import lzma
import os
import queue
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(TOP, "build")
AGENT = os.path.join(TOP, "scripts", "rig_agent.py")
QEMU = "qemu-system-x86_64"
MAX_NODES = 5

BAD_LOG_PATTERNS = ("BUG:", "Oops", "WARNING:", "KASAN", "lockdep", "hung task",
                    "INFO: task", "general protection", "Call Trace", "Kernel panic",
                    # the debug kernel's reports (most also start with
                    # BUG: or WARNING:, spelled out to be sure)
                    "possible circular locking", "possible recursive locking",
                    "inconsistent lock state", "suspicious RCU usage",
                    "sleeping function called from invalid context", "DEBUG_LOCKS_WARN_ON",
                    "ODEBUG:", "Kernel memory leak detector disabled")
ALLOWED_LOG_PATTERNS = (
    r"module verification failed: signature and/or required key missing - tainting kernel",
    r"loading out-of-tree module taints kernel",
    # the debug kernel's boot banner (CONFIG_PROVE_RCU)
    r"rcu: \s*RCU lockdep checking is enabled\.$",
)
# A warning the emulator causes, not the guest: a single-step #DB taken in
# kernel mode (the DR_STEP check of exc_debug_kernel() in
# arch/x86/kernel/traps.c, whose comment names QEMU leaking #DB into the
# guest).  Nothing in a guest single-steps the kernel and rblk touches
# neither EFLAGS.TF nor debug registers.  Its WARNING line and the
# "Call Trace:" lines up to its end marker are reported but do not count;
# any other forbidden line inside that block still does.
EMULATOR_ARTIFACT_PATTERNS = (
    re.compile(r"WARNING: CPU: \d+ PID: \d+ at arch/x86/kernel/traps\.c:\d+ exc_debug_kernel"),
)

# Modules the initramfs loads (with their dependencies, as modprobe resolves
# them for the guest kernel); the ones built into a kernel are skipped.
# Short name of the debug kernel (scripts/debug-kernel) and the suffix of
# its release (CONFIG_LOCALVERSION of scripts/debug-kernel.config).
DEBUG_KERNEL = "6.1-debug"
DEBUG_SUFFIX = "-rblk-debug"

INITRAMFS_MODULES = ("virtio_rng", "virtio_pci", "virtio_blk", "virtio_net", "virtio_console",
                     "9pnet_virtio", "9p")

# Agent wire format: see scripts/rig_agent.py.
_HDR = struct.Struct(">IBI")
_PING, _EXEC, _KILL = 1, 2, 3
_PONG, _STDOUT, _STDERR, _EXIT, _ERROR = 9, 10, 11, 12, 13


class RigError(Exception):
    """Any failure of the rig itself or of a guest."""


class BootError(RigError):
    """A node did not come up (its console log tail is in the message)."""


class NodeDown(RigError):
    """The node is not running (killed, crashed, powered off)."""


class CommandError(RigError):
    """A command run with check=True failed; .result holds the Result."""

    def __init__(self, result):
        self.result = result
        msg = (f"{result.node}: command failed (rc={result.rc}"
               f"{', timed out' if result.timed_out else ''}): {result.cmd}")
        if result.out.strip():
            msg += "\n--- stdout ---\n" + _tail(result.out, 40)
        if result.err.strip():
            msg += "\n--- stderr ---\n" + _tail(result.err, 40)
        super().__init__(msg)


class GuestLogError(RigError):
    """A guest console log contains a forbidden line; .problems lists them
    as (node name, line) pairs."""

    def __init__(self, problems, logs):
        self.problems = problems
        lines = "\n".join(f"  {n}: {l}" for n, l in problems[:30])
        super().__init__(f"guest log check failed ({len(problems)} line(s)):\n{lines}\n"
                         f"logs: {' '.join(logs)}")


def _tail(text, n):
    lines = text.rstrip("\n").split("\n")
    return "\n".join(lines[-n:])


def _log(msg):
    print(f"[rig {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------- kernels

def kernels():
    """Map of short kernel names ("6.1", "6.12", "6.1-debug") to releases,
    from build/kernels.env (written by scripts/setup; KVER_61DEBUG by
    scripts/debug-kernel)."""
    env = {}
    path = os.path.join(BUILD, "kernels.env")
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                if v:
                    env[k] = v
    except FileNotFoundError:
        raise RigError(f"{path} missing: run scripts/setup") from None
    out = {}
    for key, val in env.items():
        m = re.fullmatch(r"KVER_(\d)(\d+)(DEBUG)?", key)
        if m:
            out[f"{m[1]}.{m[2]}" + ("-debug" if m[3] else "")] = val
    return out


def debug_kernel_dir():
    """scripts/debug-kernel's build directory."""
    return os.path.join(os.environ.get("RBLK_CACHE") or BUILD, "debug-kernel")


def is_debug_kernel(kver):
    return kver.endswith(DEBUG_SUFFIX)


def kernel_image(kver):
    """The bzImage QEMU boots for release kver: /boot/vmlinuz-KVER, or the
    debug kernel's build."""
    if os.path.exists(f"/boot/vmlinuz-{kver}"):
        return f"/boot/vmlinuz-{kver}"
    if is_debug_kernel(kver):
        d = debug_kernel_dir()
        try:
            with open(os.path.join(d, "include", "config", "kernel.release")) as f:
                built = f.read().strip()
        except FileNotFoundError:
            built = None
        image = os.path.join(d, "arch", "x86", "boot", "bzImage")
        if built == kver and os.path.exists(image):
            return image
        raise RigError(f"debug kernel {kver} not built in {d} (found {built}): "
                       f"run scripts/debug-kernel")
    raise RigError(f"/boot/vmlinuz-{kver} missing")


def debug_modroot(kver):
    """Root (INSTALL_MOD_PATH) of the debug kernel's lib/modules/KVER."""
    return os.path.join(debug_kernel_dir(), "modroot")


def resolve_kernel(kernel):
    """"6.1" -> "6.1.0-57-amd64"; a full release is returned unchanged."""
    if os.path.exists(f"/boot/vmlinuz-{kernel}") or \
            (is_debug_kernel(kernel) and kernel in kernels().values()):
        return kernel
    ks = kernels()
    if kernel not in ks:
        raise RigError(f"unknown kernel {kernel!r}; known: {', '.join(sorted(ks))}")
    return ks[kernel]


def short_kernel(kver):
    for short, full in kernels().items():
        if full == kver:
            return short
    return kver


def module_path(kver):
    """Path of rblk.ko built for kver (host path == guest path)."""
    return os.path.join(BUILD, f"mod-{kver}", "rblk.ko")


RBLKADM = os.path.join(TOP, "userspace", "rblkadm")


def cache_dir():
    """Where reusable artefacts (initramfs images) go: $RBLK_CACHE, else
    build/cache."""
    d = os.environ.get("RBLK_CACHE") or os.path.join(BUILD, "cache")
    os.makedirs(d, exist_ok=True)
    return d


# -------------------------------------------------------------- initramfs

_INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
say() { echo "rig-init: $*"; }
while read -r m; do insmod "/lib/modules/$m" || say "insmod $m failed"; done </modules.list
O=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o "$O,ro,cache=loose" hostroot /host || { say "cannot mount host root"; poweroff -f; }
# A kernel with everything built in (the debug kernel): its modules.builtin
# as /lib/modules/KVER.
if [ -n "$RIG_MODROOT" ]; then
	r=$(uname -r)
	mount -t tmpfs tmpfs /host/lib/modules && mkdir "/host/lib/modules/$r" &&
		mount -o bind "/host$RIG_MODROOT/lib/modules/$r" "/host/lib/modules/$r" ||
		say "cannot mount /lib/modules/$r"
fi
# The guest gets tmpfs of its own on /tmp and /run: a repository below
# them stays visible through a bind mount.
case "$RIG_TOP" in /tmp/*|/run/*)
	mkdir -p /repo && mount -o bind "/host$RIG_TOP" /repo ;;
esac
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t devtmpfs devtmpfs /host/dev
mkdir -p /host/dev/pts /host/dev/shm
mount -t devpts devpts /host/dev/pts
mount -t tmpfs tmpfs /host/dev/shm
mount -t tmpfs tmpfs /host/tmp
mount -t tmpfs tmpfs /host/run
if [ -d /repo ]; then
	mkdir -p "/host$RIG_TOP" && mount -o bind /repo "/host$RIG_TOP" || say "cannot bind the repository"
fi
mkdir -p "/host$RIG_RUN_DIR" 2>/dev/null
mount -t 9p -o "$O,rw" results "/host$RIG_RUN_DIR" || say "cannot mount results share"
hostname "$RIG_NODE"
# Modules the kernel requests (qdiscs, crypto, ...) come from the host root.
printf '#!/bin/sh\nexec chroot /host /sbin/modprobe "$@"\n' >/bin/rig-modprobe
chmod 755 /bin/rig-modprobe
echo /bin/rig-modprobe >/proc/sys/kernel/modprobe
port=
for p in /sys/class/virtio-ports/*; do
	[ "$(cat "$p/name" 2>/dev/null)" = rblk.agent ] && port=/dev/${p##*/}
done
[ -n "$port" ] || { say "no agent port"; poweroff -f; }
(
	while :; do
		TERM=xterm HOME=/root setsid -c chroot /host /bin/bash -i </dev/ttyS1 >/dev/ttyS1 2>&1
		sleep 1
	done
) &
say "starting agent on $port"
while :; do
	PYTHONHASHSEED=0 chroot /host /usr/bin/python3 -u -S -E "$RIG_AGENT" "$port"
	say "agent exited ($?), restarting"
	sleep 1
done
"""


def _initramfs_modules(kver):
    paths = []
    if is_debug_kernel(kver):
        return paths  # all built in
    for mod in INITRAMFS_MODULES:
        out = subprocess.run(["modprobe", "-S", kver, "--show-depends", mod],
                             check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if parts and parts[0] == "insmod" and parts[1] not in paths:
                paths.append(parts[1])
    return paths


class _Cpio:
    """Writer of the cpio "newc" format the kernel unpacks."""

    def __init__(self):
        self.data = bytearray()
        self.ino = 1

    def _add(self, name, mode, body=b"", rdev=(0, 0)):
        namez = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{v:08x}" for v in (
            self.ino, mode, 0, 0, 1, 0, len(body), 0, 0, rdev[0], rdev[1], len(namez), 0))
        self.ino += 1
        self.data += hdr.encode() + namez
        self.data += b"\0" * (-len(self.data) % 4)
        self.data += body
        self.data += b"\0" * (-len(self.data) % 4)

    def dir(self, name):
        self._add(name, 0o040755)

    def file(self, name, body, mode=0o644):
        self._add(name, 0o100000 | mode, body)

    def chardev(self, name, major, minor):
        self._add(name, 0o020600, rdev=(major, minor))

    def finish(self):
        self._add("TRAILER!!!", 0)
        return bytes(self.data)


def build_initramfs(kver):
    """Build (or reuse from the cache) the initramfs for kernel release kver;
    returns its path."""
    mods = _initramfs_modules(kver)
    key = hashlib.sha256()
    key.update(_INIT.encode())
    for p in mods + ["/bin/busybox"]:
        st = os.stat(p)
        key.update(f"{p}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    path = os.path.join(cache_dir(), f"initramfs-{kver}-{key.hexdigest()[:12]}.cpio")
    if os.path.exists(path):
        return path
    cpio = _Cpio()
    for d in ("bin", "dev", "proc", "sys", "host", "tmp", "lib", "lib/modules"):
        cpio.dir(d)
    cpio.chardev("dev/console", 5, 1)
    cpio.file("init", _INIT.encode(), 0o755)
    with open("/bin/busybox", "rb") as f:
        cpio.file("bin/busybox", f.read(), 0o755)
    names = []
    for p in mods:
        with open(p, "rb") as f:
            body = f.read()
        base = os.path.basename(p)
        if base.endswith(".xz"):
            body, base = lzma.decompress(body), base[:-3]
        elif base.endswith(".zst"):
            body = subprocess.run(["zstd", "-dc", p], check=True, capture_output=True).stdout
            base = base[:-4]
        cpio.file("lib/modules/" + base, body)
        names.append(base)
    cpio.file("modules.list", "".join(n + "\n" for n in names).encode())
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(cpio.finish())
    os.rename(tmp, path)
    for old in os.listdir(cache_dir()):  # drop stale images of this kernel
        if old.startswith(f"initramfs-{kver}-") and old != os.path.basename(path):
            try:
                os.unlink(os.path.join(cache_dir(), old))
            except OSError:
                pass
    return path


# ------------------------------------------------- process supervision

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


class _Spawner:
    """Starts every QEMU from one long-lived thread, with PR_SET_PDEATHSIG
    (SIGKILL) and a process group of its own: QEMU dies with the process that
    started it, even on SIGKILL, and a terminal's Ctrl-C reaches only the
    Python side (which then shuts the nodes down in order)."""

    def __init__(self):
        self.q = queue.Queue()
        self.thread = None
        self.lock = threading.Lock()

    def _loop(self):
        while True:
            args, kwargs, box, done = self.q.get()
            try:
                box.append(subprocess.Popen(*args, **kwargs))
            except Exception as e:  # handed back to the caller
                box.append(e)
            done.set()

    def popen(self, *args, **kwargs):
        parent = os.getpid()

        def preexec():
            _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent:
                os._exit(1)
            os.setpgid(0, 0)

        kwargs["preexec_fn"] = preexec
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._loop, daemon=True, name="rig-spawner")
                self.thread.start()
        box, done = [], threading.Event()
        self.q.put((args, kwargs, box, done))
        done.wait()
        if isinstance(box[0], Exception):
            raise box[0]
        return box[0]


_spawner = _Spawner()
_clusters = []
_clusters_lock = threading.Lock()


def close_all():
    """Close every cluster still open (used at exit and by the harness);
    returns the GuestLogErrors/RigErrors raised while closing."""
    errors = []
    with _clusters_lock:
        live = list(_clusters)
    for c in live:
        try:
            c.close()
        except RigError as e:
            errors.append(e)
    return errors


def _atexit():
    for e in close_all():
        print(f"[rig] {e}", file=sys.stderr)


atexit.register(_atexit)


def _on_signal(signum, frame):
    # Unwind (with-blocks close their clusters), then exit.
    raise SystemExit(128 + signum)


def install_signal_handlers():
    """SIGTERM/SIGHUP raise SystemExit in the main thread so clusters close."""
    if threading.current_thread() is threading.main_thread():
        for s in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(s) in (signal.SIG_DFL, None):
                signal.signal(s, _on_signal)


install_signal_handlers()


def _free_udp_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def _remove_stale_sock_dirs():
    """Remove socket directories left by rig processes that were killed."""
    tmp = tempfile.gettempdir()
    for d in os.listdir(tmp):
        m = re.match(r"^rblk-rig-(\d+)-\w+$", d)
        if not m:
            continue
        try:
            os.kill(int(m.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(tmp, d), ignore_errors=True)
        except OSError:
            pass


def _connect_unix(path, deadline, proc=None):
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if proc is not None and proc.poll() is not None:
                raise BootError(f"QEMU exited with {proc.returncode} before {path} appeared")
            if time.monotonic() > deadline:
                raise BootError(f"cannot connect to {path}")
            time.sleep(0.05)


class _Qmp:
    def __init__(self, path, deadline, proc):
        self.sock = _connect_unix(path, deadline, proc)
        self.f = self.sock.makefile("rwb")
        self.lock = threading.Lock()
        self._read()  # greeting
        self.cmd("qmp_capabilities")

    def _read(self):
        while True:
            line = self.f.readline()
            if not line:
                raise NodeDown("QMP connection closed")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def cmd(self, command, **args):
        with self.lock:
            self.f.write(json.dumps({"execute": command, "arguments": args}).encode() + b"\n")
            self.f.flush()
            msg = self._read()
        if "error" in msg:
            raise RigError(f"QMP {command}: {msg['error']}")
        return msg.get("return")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ----------------------------------------------------------------- agent

class Result:
    """Outcome of a command: rc (negative: killed by that signal), stdout and
    stderr (bytes), out and err (text), timed_out, duration_s."""

    def __init__(self, node, cmd, rc, stdout, stderr, timed_out, duration_s):
        self.node, self.cmd, self.rc = node, cmd, rc
        self.stdout, self.stderr = stdout, stderr
        self.timed_out, self.duration_s = timed_out, duration_s

    out = property(lambda self: self.stdout.decode("utf-8", "replace"))
    err = property(lambda self: self.stderr.decode("utf-8", "replace"))
    ok = property(lambda self: self.rc == 0 and not self.timed_out)

    def __repr__(self):
        return f"Result(node={self.node!r}, rc={self.rc}, cmd={self.cmd!r})"


class Job:
    """A command running on a node (from Node.spawn())."""

    def __init__(self, node, rid, cmd, timeout, on_output):
        self.node, self.rid, self.cmd, self.timeout = node, rid, cmd, timeout
        self.on_output = on_output
        self.stdout, self.stderr = bytearray(), bytearray()
        self.rc, self.timed_out, self.error = None, False, None
        self.start = time.monotonic()
        self.end = None
        self.finished = threading.Event()

    @property
    def done(self):
        return self.finished.is_set()

    def _data(self, typ, chunk):
        (self.stdout if typ == _STDOUT else self.stderr).extend(chunk)
        if self.on_output:
            try:
                self.on_output("out" if typ == _STDOUT else "err", chunk)
            except Exception:
                pass

    def _finish(self, rc=None, timed_out=False, error=None):
        if self.finished.is_set():
            return
        self.rc, self.timed_out, self.error = rc, timed_out, error
        self.end = time.monotonic()
        self.finished.set()

    def kill(self, sig=signal.SIGKILL):
        """Send sig to the command's process group in the guest."""
        self.node._agent_send(self.rid, _KILL, json.dumps({"signal": int(sig)}).encode())

    def wait(self, timeout=None, check=False):
        """Wait for the command (timeout in seconds, None: the command's own
        timeout plus a margin); returns its Result, raises CommandError when
        check is true and it failed, NodeDown if the node died meanwhile."""
        if timeout is None and self.timeout is not None:
            timeout = self.timeout + 60
        if not self.finished.wait(timeout):
            raise RigError(f"{self.node.name}: no answer from the agent within {timeout} s "
                           f"for: {self.cmd}")
        if self.error:
            raise self.error
        res = Result(self.node.name, self.cmd, self.rc, bytes(self.stdout), bytes(self.stderr),
                     self.timed_out, self.end - self.start)
        self.node._log_command(res)
        if check and not res.ok:
            raise CommandError(res)
        return res


# ------------------------------------------------------------------ node

class Node:
    """One guest.  Created by Cluster; see the module docstring."""

    def __init__(self, cluster, index):
        self.cluster = cluster
        self.index = index
        self.id = index
        self.name = f"n{index}"
        self.kernel, self.kver = cluster.kernel, cluster.kver
        self.module_path = module_path(self.kver)
        self.rblkadm = RBLKADM
        self.run_dir = cluster.run_dir
        self.console_log = os.path.join(cluster.run_dir, f"{self.name}.console.log")
        self.commands_log = os.path.join(cluster.run_dir, f"{self.name}.commands.log")
        self.disk_images = [os.path.join(cluster.run_dir, f"{self.name}-disk{i}.img")
                            for i in range(cluster.ndisks)]
        self.disks = [f"/dev/vd{chr(ord('a') + i)}" for i in range(cluster.ndisks)]
        self.disk = self.disks[0] if self.disks else None
        sd = cluster.sock_dir
        self.agent_sock = os.path.join(sd, f"{self.name}.agent")
        self.qmp_sock = os.path.join(sd, f"{self.name}.qmp")
        self.shell_sock = os.path.join(sd, f"{self.name}.shell")
        self.proc = None
        self.qmp = None
        self.sock = None
        self.jobs = {}
        self.jobs_lock = threading.Lock()
        self.wlock = threading.Lock()
        self.next_rid = 1
        self.boots = 0
        self.ready = False
        self.boot_s = None
        self.log_lock = threading.Lock()

    def __repr__(self):
        return f"<Node {self.name} {self.kernel}{'' if self.up else ' down'}>"

    # -- topology
    @property
    def peers(self):
        return [n for n in self.cluster.nodes if n is not self]

    def _link_octet(self, peer):
        i, j = sorted((self.index, peer.index))
        return 10 * i + j

    def ip_for(self, peer):
        """This node's IPv4 address on its link to peer (a Node)."""
        return f"10.99.{self._link_octet(peer)}.{self.index}"

    def iface_for(self, peer):
        """Name of this node's interface to peer."""
        return f"to_{peer.name}"

    def _mac_for(self, peer):
        return f"52:54:00:99:{self.index:02x}:{peer.index:02x}"

    @property
    def up(self):
        return (self.proc is not None and self.proc.poll() is None and self.sock is not None
                and self.ready)

    # -- lifecycle
    def _qemu_argv(self):
        c = self.cluster
        append = (f"console=ttyS0 loglevel={c.loglevel} panic=-1 mitigations=off "
                  f"rcupdate.rcu_cpu_stall_timeout=60 watchdog_thresh=30 "
                  f"RIG_NODE={self.name} RIG_RUN_DIR={c.run_dir} RIG_AGENT={AGENT} RIG_TOP={TOP}")
        if is_debug_kernel(self.kver):
            # acpi=noirq: the instrumented ACPI interpreter under TCG
            # times out in _PRT (30 s per PCI device, then no IRQ)
            append += f" kmemleak=on acpi=noirq RIG_MODROOT={debug_modroot(self.kver)}"
        argv = [QEMU, "-name", self.name, "-machine", "pc,accel=tcg", "-nodefaults",
                "-no-user-config", "-display", "none", "-no-reboot",
                "-m", str(c.mem_mib), "-smp", f"{c.cpus},maxcpus={max(c.maxcpus, c.cpus)}",
                "-kernel", kernel_image(self.kver), "-initrd", c.initramfs,
                "-append", append,
                "-chardev", f"file,id=con,path={self.console_log},append=on",
                "-serial", "chardev:con",
                "-chardev", f"socket,id=sh,path={self.shell_sock},server=on,wait=off",
                "-serial", "chardev:sh",
                "-device", "virtio-rng-pci",
                "-device", "virtio-serial-pci,id=vser",
                "-chardev", f"socket,id=agent,path={self.agent_sock},server=on,wait=off",
                "-device", "virtserialport,bus=vser.0,chardev=agent,name=rblk.agent",
                "-fsdev", "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap",
                "-device", "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot",
                "-fsdev", f"local,id=results,path={c.run_dir},security_model=none,multidevs=remap",
                "-device", "virtio-9p-pci,fsdev=results,mount_tag=results",
                "-qmp", f"unix:{self.qmp_sock},server=on,wait=off"]
        for i, img in enumerate(self.disk_images):
            argv += ["-drive", f"file={img},if=none,id=d{i},format=raw,cache=none,aio=native",
                     "-device", f"virtio-blk-pci,drive=d{i},serial={self.name}-d{i}"]
        for peer in self.peers:
            if c.link == "tap":
                netdev = (f"tap,id=net{peer.index},ifname={c.tap_name(self, peer)},"
                          "script=no,downscript=no,vhost=off,vnet_hdr=on")
            else:
                lport, rport = c.ports[(self.index, peer.index)], c.ports[(peer.index, self.index)]
                netdev = (f"socket,id=net{peer.index},udp=127.0.0.1:{rport},"
                          f"localaddr=127.0.0.1:{lport}")
            argv += ["-netdev", netdev,
                     "-device", f"virtio-net-pci,netdev=net{peer.index},id=nic{peer.index},"
                                f"mac={self._mac_for(peer)}"]
        if c.netns:
            argv = ["ip", "netns", "exec", c.netns] + argv
        return argv

    def _start(self):
        """Start QEMU (does not wait for the guest)."""
        for p in (self.agent_sock, self.qmp_sock, self.shell_sock):
            if os.path.exists(p):
                os.unlink(p)
        self.boots += 1
        self.ready = False
        try:
            self.console_offset = os.path.getsize(self.console_log)
        except OSError:
            self.console_offset = 0
        with open(self.console_log, "a") as f:
            f.write(f"\n===== rig: {self.name} boot {self.boots} "
                    f"at {time.strftime('%Y-%m-%d %H:%M:%S')} =====\n")
        self.t_start = time.monotonic()
        with open(os.path.join(self.run_dir, f"{self.name}.qemu.log"), "a") as qlog:
            self.proc = _spawner.popen(self._qemu_argv(), stdin=subprocess.DEVNULL, stdout=qlog,
                                       stderr=subprocess.STDOUT, close_fds=True)

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        try:
            self.qmp = _Qmp(self.qmp_sock, deadline, self.proc)
            sock = _connect_unix(self.agent_sock, deadline, self.proc)
        except RigError as e:
            raise BootError(f"{self.name}: {e}\n{self._console_tail()}") from None
        self.sock = sock
        threading.Thread(target=self._reader, args=(sock,), daemon=True,
                         name=f"rig-{self.name}-reader").start()
        rid = self._new_job("<ping>", None, None)
        self._agent_send(rid.rid, _PING, b"")
        while not rid.finished.wait(0.2):
            if self.proc.poll() is not None:
                self._drop_connection()
                raise BootError(f"{self.name}: QEMU exited ({self.proc.returncode}) during boot"
                                f"\n{self._console_tail()}")
            if time.monotonic() > deadline:
                raise BootError(f"{self.name}: agent did not answer within {timeout} s"
                                f"\n{self._console_tail()}")
            fatal = self._boot_failure()
            if fatal:
                raise BootError(f"{self.name}: {fatal}\n{self._console_tail()}")
        if rid.error:
            raise BootError(f"{self.name}: {rid.error}\n{self._console_tail()}")
        self.ready = True
        self.boot_s = time.monotonic() - self.t_start

    def _configure(self):
        c = self.cluster
        lines = ["set -e", "ip link set lo up",
                 f"echo {c.hung_task_timeout_s} > /proc/sys/kernel/hung_task_timeout_secs"]
        if is_debug_kernel(self.kver):
            lines += ["mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug"]
        for peer in self.peers:
            mac, ifn = self._mac_for(peer), self.iface_for(peer)
            lines += [f"d=$(grep -l '^{mac}$' /sys/class/net/*/address)",
                      "d=${d%/address}; d=${d##*/}",
                      f"ip link set dev $d name {ifn}",
                      f"ip addr add {self.ip_for(peer)}/24 dev {ifn}",
                      f"ip link set dev {ifn} up"]
        self.run("\n".join(lines), timeout=60, quiet=True)
        for (x, y), mode in c.cut.items():
            if self.index in (x, y):
                c._apply_cut(c.node(x), c.node(y), mode, off=True, only=self)

    def _boot_failure(self):
        """A line of the current boot's console that means it will not come
        up, or None."""
        try:
            with open(self.console_log, errors="replace") as f:
                f.seek(self.console_offset)
                text = f.read()
        except OSError:
            return None
        for line in text.splitlines():
            if ("rig-init: agent exited" in line or "rig-init: cannot" in line
                    or "rig-init: no agent port" in line or "Kernel panic" in line):
                return line.strip()
        return None

    def _console_tail(self, n=30):
        try:
            with open(self.console_log, errors="replace") as f:
                return "--- console tail ---\n" + _tail(f.read(), n)
        except OSError:
            return ""

    def _reader(self, sock):
        buf = b""
        try:
            f = sock.makefile("rb")
            while True:
                hdr = f.read(_HDR.size)
                if len(hdr) < _HDR.size:
                    break
                rid, typ, length = _HDR.unpack(hdr)
                payload = f.read(length) if length else b""
                if len(payload) < length:
                    break
                with self.jobs_lock:
                    job = self.jobs.get(rid)
                if job is None:
                    continue
                if typ in (_STDOUT, _STDERR):
                    job._data(typ, payload)
                elif typ == _EXIT:
                    st = json.loads(payload)
                    job._finish(rc=st["rc"], timed_out=st["timed_out"])
                elif typ == _ERROR:
                    job._finish(error=RigError(f"{self.name}: {json.loads(payload)['error']}"))
                elif typ == _PONG:
                    job._finish(rc=0)
                if job.done:
                    with self.jobs_lock:
                        self.jobs.pop(rid, None)
        except (OSError, ValueError):
            pass
        self._fail_jobs(sock)

    def _fail_jobs(self, sock=None):
        if sock is not None and sock is not self.sock:
            return
        with self.jobs_lock:
            jobs, self.jobs = list(self.jobs.values()), {}
        for job in jobs:
            job._finish(error=NodeDown(f"{self.name} went down while running: {job.cmd}"))

    def _drop_connection(self):
        self.ready = False
        sock, self.sock = self.sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self.qmp is not None:
            self.qmp.close()
            self.qmp = None
        with self.jobs_lock:
            jobs, self.jobs = list(self.jobs.values()), {}
        for job in jobs:
            job._finish(error=NodeDown(f"{self.name} went down while running: {job.cmd}"))

    def _new_job(self, cmd, timeout, on_output):
        with self.jobs_lock:
            rid = self.next_rid
            self.next_rid += 1
            job = Job(self, rid, cmd, timeout, on_output)
            self.jobs[rid] = job
        return job

    def _agent_send(self, rid, typ, payload):
        sock = self.sock
        if sock is None:
            raise NodeDown(f"{self.name} is down")
        try:
            with self.wlock:
                sock.sendall(_HDR.pack(rid, typ, len(payload)) + payload)
        except OSError as e:
            raise NodeDown(f"{self.name}: agent connection lost: {e}") from None

    def _log_command(self, res):
        with self.log_lock, open(self.commands_log, "a") as f:
            f.write(f"### {time.strftime('%H:%M:%S')} $ {res.cmd}\n")
            if res.stdout:
                f.write(res.out if res.out.endswith("\n") else res.out + "\n")
            if res.stderr:
                f.write("--- stderr ---\n" + res.err + ("" if res.err.endswith("\n") else "\n"))
            f.write(f"### rc={res.rc}{' TIMED OUT' if res.timed_out else ''} "
                    f"({res.duration_s:.2f} s)\n")

    # -- commands
    def spawn(self, cmd, timeout=None, input=None, env=None, cwd=None, on_output=None):
        """Start cmd on this node as root in the host-root chroot and return
        a Job without waiting.  cmd: a string (run by bash -c) or an argv
        list; timeout: seconds after which the guest kills the command's
        process group (None: never); input: bytes/str fed to stdin; env: extra
        environment; on_output(stream, chunk) is called from the reader
        thread with "out"/"err" and bytes as they arrive."""
        if isinstance(input, str):
            input = input.encode()
        job = self._new_job(cmd, timeout, on_output)
        req = {"cmd": cmd, "timeout": timeout, "env": env or {}, "cwd": cwd,
               "stdin": base64.b64encode(input).decode() if input is not None else None}
        try:
            self._agent_send(job.rid, _EXEC, json.dumps(req).encode())
        except NodeDown:
            with self.jobs_lock:
                self.jobs.pop(job.rid, None)
            raise
        return job

    def run(self, cmd, check=True, timeout=300, input=None, env=None, cwd=None, quiet=False):
        """Run cmd (see spawn()) and wait for it; returns a Result.  With
        check (default) a non-zero exit or a timeout raises CommandError.
        timeout in seconds (None: wait for ever)."""
        if not quiet:
            print(f"[{self.name}]$ {cmd}", flush=True)
        res = self.spawn(cmd, timeout=timeout, input=input, env=env, cwd=cwd).wait()
        if not quiet and not res.ok:
            print(f"[{self.name}]  -> rc={res.rc}{' (timed out)' if res.timed_out else ''}"
                  f" in {res.duration_s:.1f} s", flush=True)
        if check and not res.ok:
            raise CommandError(res)
        return res

    def ping(self, peer, count=3, timeout=60):
        """Wait until peer answers on the link (up to timeout seconds), then
        send count pings; returns the average round-trip time in ms."""
        peer = self.cluster.node(peer)
        ip = peer.ip_for(self)
        self.run(f"t=$(( $(date +%s) + {int(timeout)} )); "
                 f"until ping -q -c 1 -W 1 {ip} >/dev/null; do "
                 f"[ $(date +%s) -lt $t ] || exit 1; done", timeout=timeout + 30)
        out = self.run(f"ping -q -c {count} -i 0.2 {ip}").out
        m = re.search(r"= [\d.]+/([\d.]+)/", out)
        if not m:
            raise RigError(f"{self.name}: cannot parse ping output:\n{out}")
        return float(m.group(1))

    def insmod(self, params="", check=True):
        """Load rblk.ko for this node's kernel (its dependencies first, with
        modprobe); raises RigError if the module has not been built."""
        if not os.path.exists(self.module_path):
            raise RigError(f"{self.module_path} not built (make modules-all)")
        deps = subprocess.run(["modinfo", "-F", "depends", self.module_path],
                              capture_output=True, text=True).stdout.strip()
        cmd = f"insmod {self.module_path} {params}".strip()
        if deps:
            cmd = f"modprobe -a {' '.join(deps.split(','))} && {cmd}"
        return self.run(cmd, check=check, timeout=120)

    def rmmod(self, check=True):
        return self.run("rmmod rblk", check=check, timeout=120)

    def kmemleak(self):
        """On the debug kernel: scan for leaks (twice, 6 s apart: kmemleak
        reports an object only once it is 5 s old and unreferenced in two
        scans), read the report and clear it (a leak is reported once).
        Returns (rblk_leaks, other_leaks), lists of report blocks; a block
        is rblk's if a backtrace frame is in rblk.ko (``[rblk]``) or in no
        symbol at all (code of an unloaded module, and rblk.ko is the only
        module).  The whole report goes to <run_dir>/<node>.kmemleak.log.
        Not the debug kernel, or the node down: ([], [])."""
        if not is_debug_kernel(self.kver) or not self.up:
            return [], []
        f = "/sys/kernel/debug/kmemleak"
        out = self.run(f"echo scan > {f}; sleep 6; echo scan > {f}; cat {f}; echo clear > {f}",
                       timeout=900, quiet=True).out
        blocks = [b.strip("\n") for b in re.split(r"(?m)^(?=unreferenced object )", out)
                  if b.startswith("unreferenced object ")]
        if blocks:
            with open(os.path.join(self.run_dir, f"{self.name}.kmemleak.log"), "a") as log:
                log.write(f"===== {time.strftime('%Y-%m-%d %H:%M:%S')} =====\n")
                log.write("\n".join(blocks) + "\n")
        ours = re.compile(r"\[rblk\]|\] 0x[0-9a-f]+$", re.M)
        rblk = [b for b in blocks if ours.search(b)]
        return rblk, [b for b in blocks if b not in rblk]

    def dmesg(self):
        return self.run("dmesg", quiet=True).out

    def wait_console(self, regex, timeout=60):
        """Wait until a line of this node's console log (current boot)
        matches regex; returns the line."""
        deadline = time.monotonic() + timeout
        pat = re.compile(regex)
        marker = f"===== rig: {self.name} boot {self.boots} "
        while True:
            with open(self.console_log, errors="replace") as f:
                text = f.read()
            text = text[text.rfind(marker):] if marker in text else text
            for line in text.splitlines():
                if pat.search(line):
                    return line.rstrip("\r")
            if time.monotonic() > deadline:
                raise RigError(f"{self.name}: no console line matching {regex!r} "
                               f"within {timeout} s")
            time.sleep(0.1)

    def _stop(self, clean=True, timeout=30):
        """Power off: clean (sync, poweroff) or abrupt (SIGKILL)."""
        if self.proc is None:
            return
        if clean and self.up:
            try:
                self.run("sync", timeout=timeout, quiet=True, check=False)
                # busybox of the initramfs: PID 1's root is outside the chroot
                self.spawn("/proc/1/root/bin/busybox poweroff -f")
            except RigError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                _log(f"{self.name}: did not power off within {timeout} s, killing it")
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._drop_connection()


# --------------------------------------------------------------- cluster

class Cluster:
    """N nodes (1..5) of one kernel ("6.1", "6.12" or a full release), each
    with `disks` virtio disks of disk_mib MiB, mem_mib of RAM and
    `-smp cpus,maxcpus=maxcpus`, fully meshed.  Boots on construction and
    powers everything off in close() (also at exit, on SIGTERM/SIGHUP and
    when leaving a with-block).

    run_dir: where logs, disks and results go (default: $RBLK_TEST_DIR/
    cluster-N when the harness sets it, else build/rig/runs/STAMP-PID-N); it
    is shared read-write with the guests at the same path.  keep_disks
    leaves the disk images there after close()."""

    _seq = 0

    def __init__(self, kernel="6.1", nodes=2, disk_mib=512, disks=1, mem_mib=1024, cpus=1,
                 maxcpus=2, name=None, run_dir=None, boot_timeout_s=300, keep_disks=False,
                 hung_task_timeout_s=60, loglevel=7, quiet=False, link="udp"):
        if not 1 <= nodes <= MAX_NODES:
            raise RigError(f"nodes must be 1..{MAX_NODES}")
        if link not in ("udp", "tap"):
            raise RigError(f"link must be udp or tap, not {link!r}")
        Cluster._seq += 1
        self.kernel = kernel if kernel in kernels() else short_kernel(kernel)
        self.kver = resolve_kernel(kernel)
        self.ndisks, self.disk_mib, self.mem_mib = disks, disk_mib, mem_mib
        self.cpus, self.maxcpus = cpus, maxcpus
        self.hung_task_timeout_s, self.loglevel = hung_task_timeout_s, loglevel
        self.boot_timeout_s, self.keep_disks, self.quiet = boot_timeout_s, keep_disks, quiet
        self.name = name or f"cluster-{Cluster._seq}"
        if run_dir is None:
            base = os.environ.get("RBLK_TEST_DIR")
            if base:
                run_dir = os.path.join(base, self.name)
            else:
                run_dir = os.path.join(BUILD, "rig", "runs",
                                       f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{Cluster._seq}")
        self.run_dir = os.path.abspath(run_dir)
        os.makedirs(self.run_dir, exist_ok=True)
        _remove_stale_sock_dirs()
        self.sock_dir = tempfile.mkdtemp(prefix=f"rblk-rig-{os.getpid()}-")
        self.allowed = [re.compile(p) for p in ALLOWED_LOG_PATTERNS]
        self.cut = {}
        self.closed = False
        self.link, self.netns = link, None
        self.initramfs = build_initramfs(self.kver)
        self.nodes = []
        for i in range(1, nodes + 1):
            self.nodes.append(Node(self, i))
        pairs = [(i.index, j.index) for i in self.nodes for j in self.nodes if i is not j]
        self.ports = dict(zip(pairs, _free_udp_ports(len(pairs))))
        with _clusters_lock:
            _clusters.append(self)
        try:
            if link == "tap":
                self._make_tap_links()
            for n in self.nodes:
                for img in n.disk_images:
                    with open(img, "wb") as f:
                        f.truncate(disk_mib * 1024 * 1024)
            self._boot(self.nodes)
        except BaseException:
            self.close(check=False)
            raise

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            try:
                self.close()
            except GuestLogError as e:
                print(f"[rig] {e}", file=sys.stderr, flush=True)
        return False

    def __getitem__(self, i):
        return self.nodes[i]

    def node(self, key):
        """A node by name ("n2"), 1-based index (2) or the Node itself."""
        if isinstance(key, Node):
            return key
        for n in self.nodes:
            if key in (n.name, n.index, str(n.index)):
                return n
        raise RigError(f"no node {key!r}")

    def _log(self, msg):
        if not self.quiet:
            _log(msg)

    def _boot(self, nodes):
        t0 = time.monotonic()
        for n in nodes:
            n._start()
        errors = []

        def ready(n):
            try:
                n._wait_ready(self.boot_timeout_s)
                n._configure()
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=ready, args=(n,)) for n in nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        self._log(f"{self.kernel} ({self.kver}): {', '.join(n.name for n in nodes)} up in "
                  f"{time.monotonic() - t0:.1f} s; run dir {self.run_dir}")

    # -- links
    @staticmethod
    def tap_name(node, peer):
        """Name of node's tap device towards peer (link="tap")."""
        return f"tap{node.index}{peer.index}"

    def _make_tap_links(self):
        """link="tap": a network namespace of this cluster's own and, per
        pair of nodes, a bridge with one tap device (virtio-net headers, so
        QEMU offers the guests checksum and TSO offload) for each end.  MTU
        9000 on taps and bridges: the guests choose theirs."""
        def ip(*args):
            r = subprocess.run(["ip", *args], capture_output=True, text=True)
            if r.returncode:
                raise RigError(f"ip {' '.join(args)}: {r.stderr.strip()}")
        self.netns = f"rblkrig-{os.getpid()}-{Cluster._seq}"
        ip("netns", "add", self.netns)
        for a in self.nodes:
            for b in self.nodes:
                if a.index >= b.index:
                    continue
                br = f"br{a.index}{b.index}"
                ip("-n", self.netns, "link", "add", br, "mtu", "9000", "type", "bridge")
                for x, y in ((a, b), (b, a)):
                    tap = self.tap_name(x, y)
                    ip("-n", self.netns, "tuntap", "add", "dev", tap, "mode", "tap", "vnet_hdr")
                    ip("-n", self.netns, "link", "set", tap, "mtu", "9000", "master", br, "up")
                ip("-n", self.netns, "link", "set", br, "up")

    def _apply_cut(self, a, b, mode, off, only=None):
        for x, y in ((a, b), (b, a)):
            if only is not None and x is not only:
                continue
            if not x.up:
                continue
            if mode == "carrier":
                x.qmp.cmd("set_link", name=f"nic{y.index}", up=not off)
            else:
                dev = x.iface_for(y)
                x.run(f"tc qdisc replace dev {dev} root netem loss 100%" if off else
                      f"tc qdisc del dev {dev} root 2>/dev/null || true", quiet=True)

    def cut_link(self, a, b, mode="carrier"):
        """Cut the link between nodes a and b.  mode "carrier": QMP set_link
        off at both ends (the guests see the carrier drop); "silent": both
        guests drop every packet on it (tc netem loss 100%), carrier stays up.
        Stays cut across restarts until restore_link()."""
        a, b = self.node(a), self.node(b)
        if mode not in ("carrier", "silent"):
            raise RigError(f"bad cut mode {mode!r}")
        self._log(f"cut link {a.name}-{b.name} ({mode})")
        self.cut[(a.index, b.index)] = mode
        self._apply_cut(a, b, mode, off=True)

    def restore_link(self, a, b):
        """Undo cut_link(a, b)."""
        a, b = self.node(a), self.node(b)
        mode = self.cut.pop((a.index, b.index), None) or self.cut.pop((b.index, a.index), None)
        self._log(f"restore link {a.name}-{b.name}")
        self._apply_cut(a, b, mode or "carrier", off=False)

    # -- power
    def kill(self, node):
        """Power loss: SIGKILL the node's QEMU.  Disks keep what reached
        them; restart() boots it again."""
        n = self.node(node)
        self._log(f"kill {n.name}")
        n._stop(clean=False)

    def shutdown(self, node):
        """Clean power-off of one node (sync, then poweroff)."""
        n = self.node(node)
        self._log(f"shutdown {n.name}")
        n._stop(clean=True)

    def start(self, node):
        """Boot a node that is down (same disks, same links)."""
        n = self.node(node)
        if n.up:
            raise RigError(f"{n.name} is already running")
        self._boot([n])

    def restart(self, node):
        """kill() if still running, then boot again on the same disks."""
        n = self.node(node)
        if n.proc is not None and n.proc.poll() is None:
            n._stop(clean=False)
        self._boot([n])

    # -- logs
    def allow_log(self, regex):
        """Lines matching regex no longer fail the check (for tests that
        provoke a warning on purpose)."""
        self.allowed.append(re.compile(regex))

    def log_problems(self):
        """Forbidden lines in the guests' console logs: [(node, line)]."""
        problems = []
        for n in self.nodes:
            try:
                with open(n.console_log, errors="replace") as f:
                    lines = f.read().splitlines()
            except FileNotFoundError:
                continue
            in_artifact = False
            for line in lines:
                line = line.rstrip("\r")
                if any(a.search(line) for a in EMULATOR_ARTIFACT_PATTERNS):
                    in_artifact = True
                    self._log(f"{n.name}: emulator artifact, not counted: {line.strip()}")
                    continue
                if in_artifact and "---[ end trace" in line:
                    in_artifact = False
                if in_artifact and "Call Trace" in line:
                    continue
                if any(p in line for p in BAD_LOG_PATTERNS) and \
                        not any(a.search(line) for a in self.allowed):
                    problems.append((n.name, line))
        return problems

    def check_logs(self):
        """Raise GuestLogError if a guest console log has a forbidden line."""
        problems = self.log_problems()
        if problems:
            raise GuestLogError(problems, [n.console_log for n in self.nodes])

    def kmemleak_problems(self):
        """On the debug kernel, Node.kmemleak() on every node that is up (in
        parallel): [(node, report block)] of the leaks that are rblk's.
        Leaks elsewhere in the kernel are logged, not returned."""
        if not is_debug_kernel(self.kver):
            return []
        results = {}

        def scan(n):
            try:
                results[n.name] = n.kmemleak()
            except RigError as e:
                self._log(f"{n.name}: kmemleak scan failed: {e}")

        threads = [threading.Thread(target=scan, args=(n,)) for n in self.nodes if n.up]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        problems = []
        for name, (rblk, other) in sorted(results.items()):
            for b in other:
                self._log(f"{name}: kmemleak, not rblk's (not counted): {b.splitlines()[0]}")
            problems += [(name, "kmemleak: " + b) for b in rblk]
        return problems

    def close(self, check=True):
        """Power every node off (cleanly if possible), remove the disks (unless
        keep_disks) and check the console logs (raises GuestLogError)."""
        if self.closed:
            return
        self.closed = True
        leaks = self.kmemleak_problems() if check else []
        threads = [threading.Thread(target=n._stop, kwargs={"clean": True}) for n in self.nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with _clusters_lock:
            if self in _clusters:
                _clusters.remove(self)
        if not self.keep_disks:
            for n in self.nodes:
                for img in n.disk_images:
                    try:
                        os.unlink(img)
                    except OSError:
                        pass
        shutil.rmtree(self.sock_dir, ignore_errors=True)
        if self.netns:
            subprocess.run(["ip", "netns", "del", self.netns], capture_output=True)
        self._log(f"{self.name}: closed; logs in {self.run_dir}")
        if check:
            problems = self.log_problems() + leaks
            if problems:
                raise GuestLogError(problems, [n.console_log for n in self.nodes])


# ------------------------------------------------------ command line

_CLI_USAGE = """\
scripts/rig up      [--kernel 6.1] [--nodes 2] [--disk-mib 512] [--disks 1] [--mem-mib 1024]
                    [--cpus 1] [--name default] [--detach]
                        boot a cluster and keep it until Ctrl-C / `scripts/rig down`
scripts/rig exec    [--name default] [--timeout S] NODE CMD...   run CMD on NODE (exit status = CMD's)
scripts/rig shell   [--name default] NODE       interactive shell on a running cluster's node
scripts/rig shell   --kernel 6.1 [--nodes 2] NODE   boot a cluster, shell on NODE, power off on exit
scripts/rig cut     [--name default] [--silent] A B      cut the link A-B
scripts/rig restore [--name default] A B                 restore it
scripts/rig kill    [--name default] NODE                power loss
scripts/rig restart [--name default] NODE                kill (if running) and boot again
scripts/rig status  [--name default]            nodes, addresses, logs
scripts/rig down    [--name default]            power the cluster off
scripts/rig initramfs --kernel 6.1              build the initramfs, print its path
scripts/rig kernels                             short names and releases
NODE is n1..n5 (or 1..5).  In the shell, Ctrl-] detaches.
"""


def _ctl_dir(name):
    return os.path.join(tempfile.gettempdir(), f"rblk-rig-{name}")


def _status(c):
    lines = [f"cluster {c.name}: kernel {c.kernel} ({c.kver}), run dir {c.run_dir}"]
    for n in c.nodes:
        addrs = ", ".join(f"{n.iface_for(p)} {n.ip_for(p)}" for p in n.peers)
        lines.append(f"  {n.name}: {'up' if n.up else 'down'}; disks {' '.join(n.disks)}; "
                     f"{addrs or 'no links'}; console {n.console_log}")
    lines.append(f"  rblk.ko: {module_path(c.kver)}"
                 f"{'' if os.path.exists(module_path(c.kver)) else ' (not built)'}")
    lines.append(f"  rblkadm: {RBLKADM}{'' if os.path.exists(RBLKADM) else ' (not built)'}")
    return "\n".join(lines)


def _serve(c, ctl_dir):
    import socketserver

    stop = threading.Event()

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            wlock = threading.Lock()

            def send(obj):
                with wlock:
                    self.wfile.write(json.dumps(obj).encode() + b"\n")
                    self.wfile.flush()

            try:
                req = json.loads(self.rfile.readline())
                op = req["op"]
                if op == "exec":
                    job = c.node(req["node"]).spawn(
                        req["cmd"], timeout=req.get("timeout"),
                        on_output=lambda s, d: send({s: base64.b64encode(d).decode()}))
                    res = job.wait()
                    send({"rc": res.rc, "timed_out": res.timed_out})
                elif op == "status":
                    send({"text": _status(c)})
                elif op in ("cut", "restore"):
                    if op == "cut":
                        c.cut_link(req["a"], req["b"], req.get("mode", "carrier"))
                    else:
                        c.restore_link(req["a"], req["b"])
                    send({"ok": True})
                elif op in ("kill", "restart"):
                    getattr(c, op)(req["node"])
                    send({"ok": True})
                elif op == "down":
                    send({"ok": True})
                    stop.set()
                else:
                    send({"error": f"unknown op {op}"})
            except Exception as e:  # reported to the client
                try:
                    send({"error": f"{type(e).__name__}: {e}"})
                except OSError:
                    pass

    class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
        daemon_threads = True

    sock = os.path.join(ctl_dir, "ctl.sock")
    srv = Server(sock, Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, stop


def _request(name, obj, stream=False):
    path = os.path.join(_ctl_dir(name), "ctl.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
    except OSError:
        sys.exit(f"rig: no running cluster named {name!r} (scripts/rig up --name {name})")
    f = s.makefile("rwb")
    f.write(json.dumps(obj).encode() + b"\n")
    f.flush()
    for line in f:
        msg = json.loads(line)
        if "error" in msg:
            sys.exit(f"rig: {msg['error']}")
        if "out" in msg:
            sys.stdout.buffer.write(base64.b64decode(msg["out"]))
            sys.stdout.buffer.flush()
        elif "err" in msg:
            sys.stderr.buffer.write(base64.b64decode(msg["err"]))
            sys.stderr.buffer.flush()
        else:
            return msg
    sys.exit("rig: the cluster went away")


def _attach(path, node_name):
    """Relay the terminal to a node's shell (ttyS1) until Ctrl-]."""
    import select
    import termios
    import tty

    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    fd = sys.stdin.fileno()
    isatty = os.isatty(fd)
    old = termios.tcgetattr(fd) if isatty else None
    print(f"rig: shell on {node_name} (host root chroot); Ctrl-] detaches", flush=True)
    try:
        if isatty:
            tty.setraw(fd)
            rows, cols = os.get_terminal_size(fd)
            s.sendall(f"stty rows {rows} cols {cols}\n".encode())
        else:
            s.sendall(b"\n")
        while True:
            r, _, _ = select.select([fd, s], [], [])
            if fd in r:
                data = os.read(fd, 4096)
                if not data or b"\x1d" in data:
                    break
                s.sendall(data)
            if s in r:
                data = s.recv(65536)
                if not data:
                    break
                os.write(sys.stdout.fileno(), data)
    finally:
        if old is not None:
            termios.tcsetattr(fd, termios.TCSADRAIN, old)
        s.close()
    print("\r\nrig: detached", flush=True)


def _cluster_args(p):
    p.add_argument("--kernel", default=None, help="6.1 or 6.12 (or a full release)")
    p.add_argument("--nodes", type=int, default=2)
    p.add_argument("--disk-mib", type=int, default=512)
    p.add_argument("--disks", type=int, default=1)
    p.add_argument("--mem-mib", type=int, default=1024)
    p.add_argument("--cpus", type=int, default=1)


def _new_cluster(a, name=None):
    return Cluster(kernel=a.kernel or "6.1", nodes=a.nodes, disk_mib=a.disk_mib, disks=a.disks,
                   mem_mib=a.mem_mib, cpus=a.cpus, name=name)


def _cmd_up(a):
    ctl = _ctl_dir(a.name)
    if os.path.exists(os.path.join(ctl, "ctl.sock")):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(os.path.join(ctl, "ctl.sock"))
            sys.exit(f"rig: cluster {a.name!r} is already running")
        except OSError:
            pass
        finally:
            s.close()
    shutil.rmtree(ctl, ignore_errors=True)
    os.makedirs(ctl)
    if a.detach:
        r, w = os.pipe()
        if os.fork():
            os.close(w)
            msg = os.read(r, 65536).decode()
            if not msg.startswith("ready"):
                sys.exit(f"rig: cluster did not come up; see {ctl}/up.log")
            print(msg[6:], end="")
            return 0
        os.close(r)
        os.setsid()
        log = os.open(os.path.join(ctl, "up.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
    try:
        with _new_cluster(a, a.name) as c:
            srv, stop = _serve(c, ctl)
            with open(os.path.join(ctl, "state.json"), "w") as f:
                json.dump({n.name: n.shell_sock for n in c.nodes}, f)
            text = (_status(c) + f"\nrig: ready; scripts/rig exec/shell/cut/kill ... "
                    f"--name {a.name}; scripts/rig down --name {a.name} to stop\n")
            if a.detach:
                os.write(w, ("ready " + text).encode())
                os.close(w)
            else:
                print(text, flush=True)
            try:
                while not stop.wait(1):
                    pass
            except KeyboardInterrupt:
                pass
            srv.shutdown()
            srv.server_close()
    finally:
        shutil.rmtree(ctl, ignore_errors=True)
    return 0


def main(argv=None):
    import argparse

    p = argparse.ArgumentParser(prog="scripts/rig", usage=_CLI_USAGE,
                                description="rblk VM test rig")
    sub = p.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up")
    _cluster_args(up)
    up.add_argument("--name", default="default")
    up.add_argument("--detach", "-d", action="store_true")
    ex = sub.add_parser("exec")
    ex.add_argument("--name", default="default")
    ex.add_argument("--timeout", type=float, default=None)
    ex.add_argument("node")
    ex.add_argument("command", nargs=argparse.REMAINDER)
    sh = sub.add_parser("shell")
    _cluster_args(sh)
    sh.add_argument("--name", default="default")
    sh.add_argument("node")
    for op in ("cut", "restore"):
        q = sub.add_parser(op)
        q.add_argument("--name", default="default")
        if op == "cut":
            q.add_argument("--silent", action="store_true")
        q.add_argument("a")
        q.add_argument("b")
    for op in ("kill", "restart"):
        q = sub.add_parser(op)
        q.add_argument("--name", default="default")
        q.add_argument("node")
    for op in ("status", "down"):
        sub.add_parser(op).add_argument("--name", default="default")
    ir = sub.add_parser("initramfs")
    ir.add_argument("--kernel", default="6.1")
    sub.add_parser("kernels")
    a = p.parse_args(argv)

    if a.cmd == "up":
        return _cmd_up(a)
    if a.cmd == "exec":
        cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
        if not cmd:
            p.error("exec needs a command")
        res = _request(a.name, {"op": "exec", "node": a.node, "timeout": a.timeout,
                                "cmd": cmd[0] if len(cmd) == 1 else " ".join(cmd)})
        rc = res["rc"]
        return 128 - rc if rc < 0 else rc
    if a.cmd == "shell":
        if a.kernel is None:
            with open(os.path.join(_ctl_dir(a.name), "state.json")) as f:
                state = json.load(f)
            _attach(state[a.node if a.node.startswith("n") else "n" + a.node], a.node)
            return 0
        with _new_cluster(a) as c:
            n = c.node(a.node)
            print(_status(c))
            _attach(n.shell_sock, n.name)
        return 0
    if a.cmd in ("cut", "restore"):
        _request(a.name, {"op": a.cmd, "a": a.a, "b": a.b,
                          "mode": "silent" if getattr(a, "silent", False) else "carrier"})
        return 0
    if a.cmd in ("kill", "restart"):
        _request(a.name, {"op": a.cmd, "node": a.node})
        return 0
    if a.cmd == "status":
        print(_request(a.name, {"op": "status"})["text"])
        return 0
    if a.cmd == "down":
        _request(a.name, {"op": "down"})
        for _ in range(600):
            if not os.path.exists(_ctl_dir(a.name)):
                break
            time.sleep(0.1)
        return 0
    if a.cmd == "initramfs":
        print(build_initramfs(resolve_kernel(a.kernel)))
        return 0
    if a.cmd == "kernels":
        for short, full in sorted(kernels().items()):
            print(f"{short} {full}")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
