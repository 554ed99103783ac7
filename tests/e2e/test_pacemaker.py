# SPDX-License-Identifier: GPL-2.0
"""Failover of ocf:rblk:rblk under a real Pacemaker/Corosync cluster.

Three nodes cabled point to point (the rig's full mesh), resource r0 on all
three (mesh_topology, auto-promote off).  rblk is set up by hand first:
create-md, up, new-current-uuid --clear-bitmap on the first node, every
disk UpToDate, mkfs.ext4 on /dev/rblk0 there as primary, then secondary and
down everywhere: from then on Pacemaker alone brings r0 up (start) and
decides the primary (promote).

The cluster stack runs in the guests, which run the host's read-only root
(the rig's 9p chroot, no systemd): every directory corosync and pacemaker
write to gets a tmpfs of its own (/etc/corosync, /var/lib/corosync,
/var/lib/pacemaker with the hacluster-owned subdirectories,
/var/log/pacemaker), and so does /mnt (the Filesystem agent creates
/mnt/r0).  The daemons are started directly (``corosync -f``,
``pacemakerd``) as jobs of the rig's agent.  Corosync uses knet with a
short token (3000 ms), crypto with one random authkey for all three, and
each node's ring0 address is its rig address on its first link; a /32
route on the other link makes that address reachable from the third node
(the rig has no network that all three share).

How Pacemaker finds the in-tree agent and rblkadm, with nothing installed:

* /usr/lib/ocf/resource.d: its host contents are bind-mounted aside
  (/run/rblk-pcmk/ocf), a tmpfs goes over it with a symlink back to each
  provider (heartbeat for Filesystem, pacemaker, ...) and a directory rblk
  holding a symlink to userspace/ocf/rblk: ocf:rblk:rblk is the tree's
  agent, unchanged, at the path Pacemaker always searches.
* rblkadm: a tmpfs over /usr/local/sbin (empty on the host) with a symlink
  to the tree's userspace/rblkadm.  The agent calls plain ``rblkadm``;
  pacemaker-execd runs agents with the environment pacemakerd was started
  with, and the rig's agent starts commands with /usr/local/sbin first on
  PATH.  No wrapper, no change to the agent.

The cluster: stonith-enabled=false (there is no fence device in the rig;
a production cluster needs fencing, see operator.rst "Quorum, witnesses
and fencing"), no-quorum-policy=stop, resource-stickiness=100 (the primary
stays where it is when a node comes back), a promotable clone rblk0-clone
of ocf:rblk:rblk (resource=r0, config=the e2e topology file;
promoted-max=1, clone-max=3, notify=true) and fs0, ocf:heartbeat:Filesystem
of /dev/rblk0 on /mnt/r0 (ext4), colocated with the Promoted role and
ordered after promote.

The test: Pacemaker promotes one node and mounts /mnt/r0 there.  A writer
on it creates numbered files, each fsync'd with its directory before its
number is printed: every number the host has read was acknowledged.  The
primary is powered off mid-write; the survivors' Pacemaker promotes one of
them and mounts /mnt/r0 there within FAILOVER_BOUND_S (the failover time
is a FIGURE), and every acknowledged file is there with its content.  The
killed node boots again, its cluster stack starts: it comes back
Unpromoted, is resynced, and the three data areas hash equal (the file
system frozen on the primary meanwhile).

One cluster; the tests run in order, each from the state the one before
left.  The class takes about 5 minutes under TCG (boot 21 s, set-up and
Pacemaker's first promotion 120 s, failover 44 s, reboot and resync 90 s):
too long for make check, so it runs in make soak only (SOAK_ONLY: skipped
without RBLK_SOAK=1), on both kernels there.  Run it alone with
``RBLK_SOAK=1 tests/run -k 6.12 tests/e2e/test_pacemaker.py``.
"""
import os
import time
import unittest
import xml.etree.ElementTree as ET

from e2elib import (CONF, REPL_STATE, RESYNC_TIMEOUT_S, SYNC_SOURCE, SYNC_TARGET, TOP,
                    ClusterTest, adm, disk_sha256, in_parallel, log, mesh_bring_up,
                    mesh_topology, per_kernel, status, wait_until, write_conf)

# Seconds from the power loss of the primary until a survivor is Promoted
# with /mnt/r0 mounted.  Measured under TCG: 20.8 s on 6.12, 24.0 s on 6.1
# (corosync's token 3 s and consensus 3.6 s, the scheduler's transition,
# promote, the mount with its journal replay, the test's polling); the
# bound leaves room for a slower, loaded host.
FAILOVER_BOUND_S = 120
MNT = "/mnt/r0"
WDIR = f"{MNT}/w"

# fast rblk connection timing, as in test_rblkadm_failover.py
RBLK_OPTIONS = {"ping-interval-ms": 500, "ping-timeout-ms": 2000,
                "connect-timeout-ms": 2000, "reconnect-max-ms": 1000,
                "auto-promote": "no"}

AGENT = os.path.join(TOP, "userspace", "ocf", "rblk")
RBLKADM = os.path.join(TOP, "userspace", "rblkadm")

# Writes numbered files into WDIR: each file, then its directory, fsync'd
# before its number is printed.  argv: first number, count (0: forever).
WRITER = r"""
import os, sys
d = sys.argv[1]
first, count = int(sys.argv[2]), int(sys.argv[3])
os.makedirs(d, exist_ok=True)
dfd = os.open(d, os.O_RDONLY)
i = first
while count == 0 or i < first + count:
    fd = os.open(f"{d}/{i:08d}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, (f"{i:08d}\n" * 512).encode())
    os.fsync(fd)
    os.close(fd)
    os.fsync(dfd)
    print(i, flush=True)
    i += 1
"""

# the two scripts in every guest's /tmp
WRITER_PY, CHECKER_PY = "/tmp/pcmk-writer.py", "/tmp/pcmk-checker.py"

# Checks files first..last of WDIR: prints the numbers missing or wrong.
CHECKER = r"""
import sys
d, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bad = []
for i in range(first, last + 1):
    try:
        with open(f"{d}/{i:08d}") as f:
            ok = f.read() == f"{i:08d}\n" * 512
    except OSError:
        ok = False
    if not ok:
        bad.append(i)
print(" ".join(map(str, bad)))
"""

# Guest directories the cluster stack writes to: a tmpfs each.
TMPFS_DIRS = ("/etc/corosync", "/var/lib/corosync", "/var/lib/pacemaker", "/var/log/pacemaker",
              "/usr/local/sbin", "/mnt", "/usr/lib/ocf/resource.d")

PREPARE = f"""set -e
mkdir -p /run/rblk-pcmk/ocf
mountpoint -q /run/rblk-pcmk/ocf || mount --bind /usr/lib/ocf/resource.d /run/rblk-pcmk/ocf
for d in {' '.join(TMPFS_DIRS)}; do
    mountpoint -q $d || mount -t tmpfs -o mode=0755 tmpfs $d
done
mkdir -p /etc/corosync/uidgid.d
install -d -o hacluster -g haclient -m 0750 /var/lib/pacemaker/cib /var/lib/pacemaker/pengine \\
    /var/lib/pacemaker/blackbox /var/lib/pacemaker/cores
chown hacluster:haclient /var/log/pacemaker
chmod 0770 /var/log/pacemaker
for p in /run/rblk-pcmk/ocf/*; do ln -sfn "$p" /usr/lib/ocf/resource.d/; done
mkdir -p /usr/lib/ocf/resource.d/rblk
ln -sf {AGENT} /usr/lib/ocf/resource.d/rblk/rblk
ln -sf {RBLKADM} /usr/local/sbin/rblkadm
mkdir -p {MNT}
"""


def ring0(n):
    """A node's corosync address: its rig address on its first link."""
    return n.ip_for(n.peers[0])


def corosync_conf(nodes):
    body = "\n".join(f"    node {{\n        ring0_addr: {ring0(n)}\n        name: {n.name}\n"
                     f"        nodeid: {n.id}\n    }}" for n in nodes)
    return f"""totem {{
    version: 2
    cluster_name: rblk-e2e
    transport: knet
    token: 3000
    crypto_cipher: aes256
    crypto_hash: sha256
}}
nodelist {{
{body}
}}
quorum {{
    provider: corosync_votequorum
}}
logging {{
    to_stderr: yes
    to_syslog: no
    to_logfile: no
    timestamp: on
}}
"""


def routes(node):
    """ip route commands: every peer's ring0 address over the link to it."""
    return [f"ip route replace {ring0(p)}/32 dev {node.iface_for(p)}"
            for p in node.peers if ring0(p) != p.ip_for(node)]


CLONE = f"""<clone id="rblk0-clone">
  <meta_attributes id="rblk0-clone-meta">
    <nvpair id="rblk0-clone-promotable" name="promotable" value="true"/>
    <nvpair id="rblk0-clone-promoted-max" name="promoted-max" value="1"/>
    <nvpair id="rblk0-clone-promoted-node-max" name="promoted-node-max" value="1"/>
    <nvpair id="rblk0-clone-clone-max" name="clone-max" value="3"/>
    <nvpair id="rblk0-clone-clone-node-max" name="clone-node-max" value="1"/>
    <nvpair id="rblk0-clone-notify" name="notify" value="true"/>
  </meta_attributes>
  <primitive id="rblk0" class="ocf" provider="rblk" type="rblk">
    <instance_attributes id="rblk0-params">
      <nvpair id="rblk0-resource" name="resource" value="r0"/>
      <nvpair id="rblk0-config" name="config" value="{CONF}"/>
    </instance_attributes>
    <operations>
      <op id="rblk0-monitor-promoted" name="monitor" interval="29s" role="Promoted"
          timeout="20s"/>
      <op id="rblk0-monitor-unpromoted" name="monitor" interval="31s" role="Unpromoted"
          timeout="20s"/>
    </operations>
  </primitive>
</clone>"""

FS = f"""<primitive id="fs0" class="ocf" provider="heartbeat" type="Filesystem">
  <instance_attributes id="fs0-params">
    <nvpair id="fs0-device" name="device" value="/dev/rblk0"/>
    <nvpair id="fs0-directory" name="directory" value="{MNT}"/>
    <nvpair id="fs0-fstype" name="fstype" value="ext4"/>
  </instance_attributes>
  <meta_attributes id="fs0-meta">
    <nvpair id="fs0-target-role" name="target-role" value="Stopped"/>
  </meta_attributes>
  <operations>
    <op id="fs0-monitor" name="monitor" interval="20s" timeout="40s"/>
  </operations>
</primitive>"""

CONSTRAINTS = (
    '<rsc_colocation id="c-fs0-rblk0" rsc="fs0" with-rsc="rblk0-clone" '
    'with-rsc-role="Promoted" score="INFINITY"/>',
    '<rsc_order id="o-rblk0-fs0" first="rblk0-clone" first-action="promote" then="fs0" '
    'then-action="start" kind="Mandatory"/>',
)


def crm_state(node):
    """From crm_mon's XML on node: (online node names, {node: rblk0 role},
    fs0's node or None), or None if crm_mon fails (no DC yet ...)."""
    r = node.run("crm_mon --one-shot --output-as=xml", check=False, quiet=True, timeout=60)
    if r.rc != 0:
        return None
    try:
        root = ET.fromstring(r.out)
    except ET.ParseError:
        return None
    online = sorted(n.get("name") for n in root.iter("node")
                    if n.get("online") == "true" and n.get("name"))
    roles, fs = {}, None
    for res in root.iter("resource"):
        where = [n.get("name") for n in res.findall("node")]
        if res.get("id") == "rblk0" and where:
            roles[where[0]] = res.get("role")
        elif res.get("id") == "fs0" and where and res.get("role") == "Started":
            fs = where[0]
    return sorted(set(online)), roles, fs


def promoted(role):
    return role in ("Promoted", "Master")


def unpromoted(role):
    return role in ("Unpromoted", "Slave")


def all_in_sync(nodes):
    """Every node connected to every other, every disk UpToDate in every
    view, nothing out of sync, no resync running."""
    sts = [status(n) for n in nodes]
    return all(st["disk_state"] == "up_to_date" and len(st["peers"]) == len(nodes) - 1 and
               all(p["conn_state"] == "connected" and p["peer_disk_state"] == "up_to_date" and
                   p["out_of_sync_bytes"] == 0 and
                   p[REPL_STATE] not in (SYNC_SOURCE, SYNC_TARGET) for p in st["peers"])
               for st in sts) and sts


def acked(job):
    """The last number the writer printed (acknowledged), 0 if none."""
    lines = bytes(job.stdout).decode().split("\n")[:-1]
    return int(lines[-1]) if lines else 0


@per_kernel
class Pacemaker(ClusterTest):
    NODES = 3
    DISK_MIB = 64
    ONE_KERNEL = {"*": "6.12"}
    SOAK_ONLY = "about 5 minutes (three nodes, Pacemaker's start, a failover, a reboot)"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.authkey = os.urandom(256)
        cls.daemons = {}
        nodes = cls.c.nodes
        for n in nodes:
            n.insmod()
            write_conf(n, mesh_topology(nodes, options=RBLK_OPTIONS))
        mesh_bring_up(nodes)
        for n in nodes:
            for path, text in ((WRITER_PY, WRITER), (CHECKER_PY, CHECKER)):
                n.run(f"cat > {path}", input=text, quiet=True)
        first = nodes[0]
        adm(first, "primary r0")
        first.run("mkfs.ext4 -q -F /dev/rblk0", timeout=300)
        adm(first, "secondary r0")
        for n in nodes:
            adm(n, "down r0")

    @classmethod
    def tearDownClass(cls):
        # the cluster logs next to the console logs, for a failed run
        c = getattr(cls, "c", None)
        for n in (c.nodes if c else []):
            if n.up:
                n.run(f"cat /var/log/pacemaker/pacemaker.log > {n.run_dir}/{n.name}.pacemaker.log;"
                      f" cat /var/lib/corosync/corosync.log > {n.run_dir}/{n.name}.corosync.log",
                      check=False, quiet=True)
        super().tearDownClass()

    @classmethod
    def start_stack(cls, n):
        """tmpfs mounts, routes, corosync.conf and authkey, corosync; then
        pacemakerd (once corosync is running) on node n."""
        n.run(PREPARE)
        for cmd in routes(n):
            n.run(cmd)
        n.run("cat > /etc/corosync/corosync.conf", input=corosync_conf(cls.c.nodes), quiet=True)
        n.run("cat > /etc/corosync/authkey && chmod 0400 /etc/corosync/authkey",
              input=cls.authkey, quiet=True)
        cls.daemons[n.name] = [n.spawn("exec corosync -f >/var/lib/corosync/corosync.log 2>&1")]
        wait_until(lambda: n.run("corosync-cfgtool -s", check=False, quiet=True).rc == 0, 60,
                   f"corosync running on {n.name}")

    @classmethod
    def start_pacemaker(cls, n):
        cls.daemons[n.name].append(
            n.spawn("exec pacemakerd >/var/log/pacemaker/pacemakerd.out 2>&1"))

    def wait_crm(self, node, ok, timeout_s, what):
        """Poll crm_state on node until ok(state) is true; returns the state."""
        return wait_until(lambda: (lambda s: s if s and ok(s) else None)(crm_state(node)),
                          timeout_s, what, interval_s=1)

    def test_1_cluster_promotes_and_mounts(self):
        """corosync and pacemaker on all three; the configuration; Pacemaker
        starts r0 on all three, promotes one and mounts /mnt/r0 there."""
        nodes = self.c.nodes
        in_parallel(*(lambda n=n: self.start_stack(n) for n in nodes))
        n1 = nodes[0]
        wait_until(lambda: "Quorate:          Yes" in n1.run(
            "corosync-quorumtool -s", check=False, quiet=True).out, 60, "corosync quorate")
        for n in nodes:
            self.start_pacemaker(n)
        t0 = time.monotonic()
        names = sorted(n.name for n in nodes)
        self.wait_crm(n1, lambda s: s[0] == names, 300, "pacemaker: all three nodes online")
        log(f"pacemaker: three nodes online after {time.monotonic() - t0:.1f} s")
        for name, value in (("stonith-enabled", "false"), ("no-quorum-policy", "stop")):
            n1.run(f"crm_attribute --type crm_config --name {name} --update {value}")
        n1.run("crm_attribute --type rsc_defaults --name resource-stickiness --update 100")
        n1.run("cibadmin --create --scope resources --xml-pipe", input=CLONE)
        n1.run("cibadmin --create --scope resources --xml-pipe", input=FS)
        for c in CONSTRAINTS:
            n1.run("cibadmin --create --scope constraints --xml-pipe", input=c)
        n1.run("crm_resource --resource fs0 --meta --delete-parameter target-role")
        t0 = time.monotonic()
        s = self.wait_crm(n1, lambda s: s[2] is not None and promoted(s[1].get(s[2])), 300,
                          "rblk0 promoted and fs0 started on one node")
        took = time.monotonic() - t0
        prim = self.c.node(s[2])
        log(f"pacemaker: {prim.name} promoted, {MNT} mounted after {took:.1f} s: {s}")
        self.assertEqual(sum(promoted(r) for r in s[1].values()), 1, s)
        prim.run(f"mountpoint {MNT}")
        self.assertEqual(status(prim)["role"], "primary")
        loc = n1.run("crm_resource --resource fs0 --locate").out
        self.assertIn(prim.name, loc)
        type(self).primary = prim

    def test_2_primary_dies(self):
        """A writer on the primary; its power is cut mid-write; the
        survivors' Pacemaker promotes one of them and mounts /mnt/r0 there;
        every acknowledged file is there."""
        prim = self.primary
        writer = prim.spawn(f"python3 {WRITER_PY} {WDIR} 1 0")
        wait_until(lambda: acked(writer) >= 200 or writer.done, 300, "200 acknowledged writes")
        self.assertFalse(writer.done, writer.wait() if writer.done else "")
        time.sleep(2)
        t_kill = time.monotonic()
        self.c.kill(prim)
        last = acked(writer)
        log(f"{prim.name} killed after {last} acknowledged writes")
        survivors = [n for n in self.c.nodes if n is not prim]
        watcher = survivors[0]

        def failed_over():
            s = crm_state(watcher)
            if not s or s[2] not in [n.name for n in survivors] or not promoted(s[1].get(s[2])):
                return None
            return s
        s = wait_until(failed_over, FAILOVER_BOUND_S + 60, "a survivor promoted with fs0",
                       interval_s=1)
        new = self.c.node(s[2])
        new.run(f"mountpoint {MNT}")
        took = time.monotonic() - t_kill
        log(f"failover: {new.name} promoted, {MNT} mounted {took:.1f} s after the kill: {s}")
        self.fig(f"pacemaker failover (power loss of the primary to Promoted+mounted on a "
                 f"survivor) {took:.1f} s")
        self.assertLessEqual(took, FAILOVER_BOUND_S)
        self.assertEqual(status(new)["role"], "primary")
        bad = new.run(f"python3 {CHECKER_PY} {WDIR} 1 {last}").out.split()
        self.assertEqual(bad, [], f"acknowledged writes missing or wrong after failover "
                                  f"(of 1..{last})")
        # the new primary writes on
        new.run(f"python3 {WRITER_PY} {MNT}/w2 1 50")
        type(self).killed, type(self).primary = prim, new

    def test_3_killed_node_returns(self):
        """The killed node boots, its cluster stack starts: r0 comes back
        Unpromoted there, is resynced; the three data areas hash equal."""
        back, prim = self.killed, self.primary
        self.c.restart(back)
        back.insmod()
        write_conf(back, mesh_topology(self.c.nodes, options=RBLK_OPTIONS))
        self.start_stack(back)
        self.start_pacemaker(back)
        names = sorted(n.name for n in self.c.nodes)
        s = self.wait_crm(prim, lambda s: s[0] == names and unpromoted(s[1].get(back.name)),
                          300, f"{back.name} online and rblk0 Unpromoted there")
        log(f"{back.name} back: {s}")
        self.assertEqual(s[2], prim.name)
        self.assertTrue(promoted(s[1].get(prim.name)), s)
        wait_until(lambda: all_in_sync(self.c.nodes), RESYNC_TIMEOUT_S,
                   "all three connected, up_to_date, nothing out of sync")
        self.assertEqual(status(back)["role"], "secondary")
        prim.run(f"sync && fsfreeze -f {MNT}")
        try:
            shas = in_parallel(*(lambda n=n: disk_sha256(n) for n in self.c.nodes))
        finally:
            prim.run(f"fsfreeze -u {MNT}")
        self.assertEqual(len(set(shas)), 1, f"data areas differ: {shas}")
        s = crm_state(prim)
        self.assertEqual(s[2], prim.name, s)


if __name__ == "__main__":
    unittest.main()
