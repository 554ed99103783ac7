# SPDX-License-Identifier: GPL-2.0
"""rblkadm against the real module on two nodes.

Checks: metadata (up refused on a disk without it; create-md refused over
metadata or a filesystem unless --force), up on both nodes (exact plan
output), new-current-uuid --clear-bitmap (Inconsistent before, UpToDate
after, one current UUID in dump-md on both), idempotent second up, status
(human and JSON, the size exported in front of the metadata), status
--health, doctor and metrics (healthy, a resource down, a peer
disconnected), the udev rule's /dev/rblk/by-res links, primary/secondary
and the events they cause on the peer, the kernel's
rejections with errno and extack message, replicated data (checksum on the
peer's backing disk), a change of the file applied by up, the OCF resource
agent (ocf-tester, promote and demote), an IPv6 resource, down.

One cluster per kernel; the tests run in order and each starts from the
state the one before left (a failed step fails the ones after it too).
"""
import hashlib
import json
import os
import unittest

from e2elib import (CONF, SOAK, TOP, ClusterTest, adm, create_md, dump_md, events_job, job_events, log,
                    new_current_uuid, per_kernel, status_all, wait_until, write_conf, zero_disk)

DISK_MIB = 64


def conf_text(a, b, port_b=7789):
    """Topology: r0 over IPv4 (n2's port variable), r6 over IPv6 on each
    node's second disk."""
    return f"""cluster: rig
options:
  ping-interval-ms: 1000
  ping-timeout-ms: 3000
  connect-timeout-ms: 3000
  reconnect-max-ms: 2000
resources:
  - name: r0
    minor: 0
    nodes:
      - name: n1
        node-id: 0
        address: {a.ip_for(b)}:7789
        disk: {a.disk}
      - name: n2
        node-id: 1
        address: {b.ip_for(a)}:{port_b}
        disk: {b.disk}
  - name: r6
    minor: 1
    nodes:
      - {{name: n1, node-id: 0, address: "[fd99:12::1]:7900", disk: {a.disks[1]}}}
      - {{name: n2, node-id: 1, address: "[fd99:12::2]:7900", disk: {b.disks[1]}}}
"""


def all_peers_connected(nodes):
    """Every peer of every device on every node is connected."""
    for n in nodes:
        states = [p["conn_state"] for d in status_all(n) for p in d["peers"]]
        if not states or any(s != "connected" for s in states):
            return False
    return True


@per_kernel
class RblkadmSmoke(ClusterTest):
    DISK_MIB = DISK_MIB
    DISKS = 2
    # the resource agent is shell over rblkadm: one kernel is enough
    ONE_KERNEL = {"test_08b_ocf_agent": "6.1"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        a, b = cls.c.nodes
        for n, peer in ((a, b), (b, a)):
            n.run(f"ip -6 addr add fd99:12::{n.index}/64 dev {n.iface_for(peer)} nodad")
            write_conf(n, conf_text(a, b))
            n.insmod()

    def test_00_metadata(self):
        """up is refused on a disk without rblk metadata; create-md refuses
        a disk with a filesystem or with rblk metadata unless --force."""
        a, b = self.c.nodes
        r = adm(a, "up r0", check=False)
        log(f"up r0 without metadata: exit {r.rc} {r.err.strip()!r}")
        self.assertEqual(r.rc, 1, f"up on a disk without metadata must fail: {r.out}")
        self.assertIn(f"r0: {a.disk} has no rblk metadata", r.err)
        st = status_all(a)
        self.assertTrue(all(d["disk_state"] == "diskless" for d in st), json.dumps(st))
        adm(a, "down all")
        self.assertEqual(adm(a, "status").out, "no rblk devices configured\n")

        a.run(f"mkfs.ext4 -q -F {a.disks[1]}")
        r = adm(a, "create-md r6", check=False)
        log(f"create-md over ext4: exit {r.rc} {r.err.strip()!r}")
        self.assertEqual(r.rc, 1, f"create-md over a filesystem must fail: {r.out}{r.err}")
        zero_disk(a, a.disks[1])
        for n in (a, b):
            for res in ("r0", "r6"):
                create_md(n, res)
        r = adm(a, "create-md r0", check=False)
        log(f"create-md over metadata: exit {r.rc} {r.err.strip()!r}")
        self.assertEqual(r.rc, 1, f"create-md over rblk metadata must fail: {r.out}{r.err}")
        create_md(a, "r0", force=True)

    def test_01_up(self):
        """up prints its plan (text on n1, JSON on n2); both resources
        connect, r6 over IPv6, their new disks Inconsistent; after
        new-current-uuid --clear-bitmap on n1 every disk is UpToDate with
        one current UUID on both nodes."""
        a, b = self.c.nodes
        r = adm(a, "up all")
        expected = (f"r0: create-device r0 minor 0 node-id 0 cluster rig\n"
                    f"r0: device-options quorum off on-no-quorum suspend-io auto-promote no fencing off\n"
                    f"r0: attach {a.disk}\n"
                    f"r0: add-peer n2 (node id 1) peer {b.ip_for(a)}:7789 local {a.ip_for(b)}:7790\n"
                    f"r0: connect-peer n2 (node id 1)\n"
                    f"r6: create-device r6 minor 1 node-id 0 cluster rig\n"
                    f"r6: device-options quorum off on-no-quorum suspend-io auto-promote no fencing off\n"
                    f"r6: attach {a.disks[1]}\n"
                    f"r6: add-peer n2 (node id 1) peer [fd99:12::2]:7900 local [fd99:12::1]:7901\n"
                    f"r6: connect-peer n2 (node id 1)\n")
        self.assertEqual(r.out, expected, "up on n1 prints its plan")
        r = adm(b, "-j up all")
        j = json.loads(r.out)
        self.assertEqual(len(j), 2, r.out)
        for i in (0, 1):
            self.assertEqual([o["op"] for o in j[i]["operations"]],
                             ["create-device", "device-options", "attach", "add-peer",
                              "connect-peer"], r.out)
            self.assertTrue(all(o["result"] == "ok" for o in j[i]["operations"]), r.out)
        wait_until(lambda: all_peers_connected((a, b)), 60,
                   "both sides connected (IPv4 and IPv6)")
        st = status_all(a)
        self.assertEqual((st[1]["peers"][0]["peer_ip"], st[1]["peers"][0]["local_ip"]),
                         ("fd99:12::2", "fd99:12::1"), json.dumps(st[1]))
        for n in (a, b):
            st = status_all(n)
            self.assertEqual([(d["disk_state"], d["peers"][0]["peer_disk_state"]) for d in st],
                             [("inconsistent", "inconsistent")] * 2, json.dumps(st))
        for res in ("r0", "r6"):
            new_current_uuid(a, res)
        wait_until(lambda: all(d["disk_state"] == "up_to_date" and
                               d["peers"][0]["peer_disk_state"] == "up_to_date"
                               for n in (a, b) for d in status_all(n)), 60,
                   "every disk up_to_date in both views")
        for res in ("r0", "r6"):
            ma, mb = dump_md(a, res), dump_md(b, res)
            log(f"{res}: dump-md on n1: {json.dumps(ma)}")
            self.assertNotIn(ma["current_uuid"], (None, "0" * 16), json.dumps(ma))
            self.assertEqual(ma["current_uuid"], mb["current_uuid"],
                             f"{res}: current UUIDs differ: n1 {ma}, n2 {mb}")
        adm(a, "down r6")
        adm(b, "down r6")

    def test_01b_udev_links(self):
        """userspace/65-rblk.rules under systemd-udevd (from the host root):
        /dev/rblk/by-res/NAME follows the module's sysfs attribute, appears
        with up and goes with down."""
        a = self.c.nodes[0]
        rules = os.path.join(TOP, "userspace", "65-rblk.rules")
        # commands run in a chroot of the host root: without this variable,
        # udevadm trigger and settle ignore every request
        u = "SYSTEMD_IGNORE_CHROOT=1"
        settle = f"{u} udevadm settle -t 30"
        a.run(f"mkdir -p /run/udev/rules.d && cp {rules} /run/udev/rules.d/ && "
              f"{u} /lib/systemd/systemd-udevd --daemon")
        try:
            self.assertEqual(a.run("cat /sys/block/rblk0/rblk/resource").out, "r0\n")
            a.run(f"{u} udevadm trigger --action=add --subsystem-match=block "
                  f"--sysname-match='rblk*' && {settle}")
            link = "readlink /dev/rblk/by-res/{}"
            self.assertEqual(a.run(link.format("r0")).out, "../../rblk0\n")
            adm(a, "up r6")
            a.run(settle)
            self.assertEqual(a.run(link.format("r6")).out, "../../rblk1\n")
            adm(a, "down r6")
            a.run(settle)
            r = a.run("ls /dev/rblk/by-res")
            self.assertEqual(r.out.split(), ["r0"], "the link of a deleted device is removed")
        finally:
            a.run(f"{u} udevadm control --exit; rm -f /run/udev/rules.d/65-rblk.rules",
                  check=False)

    def test_02_second_up_does_nothing(self):
        r = adm(self.c.nodes[0], "up r0")
        self.assertEqual(r.out, "r0: up to date, nothing to do\n")

    def test_03_status(self):
        """status, human and JSON."""
        a, b = self.c.nodes
        lines = adm(a, "status").out.splitlines()
        self.assertEqual(len(lines), 2, lines)
        self.assertTrue(lines[0].startswith(
            "r0 minor:0 node-id:0 role:Secondary disk:UpToDate"), lines)
        self.assertTrue(lines[1].startswith(
            "  n2 node-id:1 connection:Connected role:Secondary disk:UpToDate"), lines)
        d = status_all(a)[0]
        p = d["peers"][0]
        self.assertEqual(
            (d["resource_name"], d["cluster_name"], d["backing_path"],
             p["peer_ip"], p["peer_port"], p["local_port"]),
            ("r0", "rig", a.disk, b.ip_for(a), 7789, 7790), json.dumps(d))
        # the device exports the disk up to its metadata, the same on both
        md = dump_md(a, "r0")
        self.assertEqual((d["size_sectors"], md["md_offset_sectors"] + md["md_size_sectors"]),
                         (md["md_offset_sectors"], DISK_MIB * 2048), json.dumps(md))
        self.assertGreater(d["size_sectors"], DISK_MIB * 2048 * 0.95, json.dumps(md))
        self.assertEqual(status_all(b)[0]["size_sectors"], d["size_sectors"])

    def test_03_status_health(self):
        """status --health, doctor and metrics: r0 healthy on both nodes;
        r6 (in the file, taken down in test_01) degraded; after n1
        disconnects n2 both judge r0 degraded (exit 6), metrics shows the
        peer StandAlone and doctor names it; connected again, healthy."""
        a, b = self.c.nodes
        for n in (a, b):
            r = adm(n, "status --health r0", check=False)
            self.assertEqual(r.rc, 0, r.out + r.err)
            self.assertTrue(r.out.endswith("\nhealth: ok\n"), r.out)
            self.assertEqual(adm(n, "doctor r0").out, "all healthy\n")
        r = adm(a, "status --health", check=False)
        self.assertEqual(r.rc, 6, r.out + r.err)
        self.assertTrue(r.out.endswith("health: degraded (1 problem: rblkadm doctor explains)\n"),
                        r.out)
        r = adm(a, "-j doctor", check=False)
        self.assertEqual(r.rc, 6, r.out + r.err)
        j = json.loads(r.out)
        self.assertEqual((j["health"], [(p["resource_name"], p["problem"]) for p in j["problems"]]),
                         ("degraded", [("r6", "not_up")]), r.out)
        m = adm(a, "metrics").out
        log(f"metrics on n1, healthy r0:\n{m}")
        for line in ('rblk_resource_up{resource="r6",minor="1"} 0',
                     'rblk_health{resource="r0",minor="0",state="ok"} 1',
                     'rblk_disk_state{resource="r0",minor="0",state="up_to_date"} 1',
                     'rblk_peer_connection_state{resource="r0",minor="0",peer_node_id="1",'
                     'peer="n2",state="connected"} 1'):
            self.assertIn(line + "\n", m)

        adm(a, "disconnect r0")
        try:
            wait_until(lambda: adm(a, "status --health r0", check=False).rc == 6, 30,
                       "n1 judges r0 degraded")
            wait_until(lambda: adm(b, "status --health r0", check=False).rc == 6, 30,
                       "n2 judges r0 degraded")
            m = adm(a, "metrics r0").out
            self.assertIn('rblk_peer_connection_state{resource="r0",minor="0",peer_node_id="1",'
                          'peer="n2",state="standalone"} 1\n', m)
            self.assertIn('rblk_health{resource="r0",minor="0",state="degraded"} 1\n', m)
            self.assertNotIn('resource="r6"', m)
            r = adm(a, "doctor r0", check=False)
            log(f"doctor on n1 after disconnect:\n{r.out}")
            self.assertEqual(r.rc, 6, r.out + r.err)
            self.assertTrue(r.out.startswith(
                "r0: degraded: peer n2 (node-id 1) is StandAlone: this node does not try to "
                "connect to it"), r.out)
            self.assertIn("  next: remove the cause, then 'rblkadm connect r0 n2'.\n", r.out)
            r = adm(b, "-j doctor r0", check=False)
            log(f"doctor on n2 after disconnect: {r.out}")
            self.assertEqual(r.rc, 6, r.out + r.err)
            probs = json.loads(r.out)["problems"]
            self.assertIn(("not_connected", "n1", 0),
                          [(p["problem"], p["peer_name"], p["peer_node_id"]) for p in probs],
                          r.out)
        finally:
            adm(a, "connect r0")
        wait_until(lambda: all(adm(n, "status --health r0", check=False).rc == 0
                               for n in (a, b)), 60, "r0 healthy again on both nodes")

    def test_04_events_on_peer(self):
        """n2 sees each of n1's role changes as one event, in order."""
        a, b = self.c.nodes

        def cycle():
            adm(a, "primary r0")
            adm(a, "secondary r0")

        def roles():
            return [e["peer_role"] for e in job_events(ev)
                    if e["event"] == "peer_role_changed"]
        ev = events_job(b, cycle)
        try:
            n0 = len(roles())
            cycle()  # wholly after events began listening

            def settled():
                r = roles()
                r = r[1:] if r[:1] == ["secondary"] else r  # listening began mid-cycle
                return (len(roles()) >= n0 + 2 and r[-1] == "secondary" and len(r) % 2 == 0
                        and r)
            r = wait_until(settled, 30, "n2's events for the last primary/secondary")
        finally:
            ev.kill()
            ev.wait(timeout=60)
        self.assertEqual(r, ["primary", "secondary"] * (len(r) // 2),
                         bytes(ev.stdout).decode())

    def test_04b_events_now(self):
        """events --now prints the state first: one exists record per
        device, one peer_exists per peer, as status shows them, then
        exists_end."""
        b = self.c.nodes[1]
        devs = status_all(b)
        self.assertEqual(len(devs), 1, devs)
        st = devs[0]
        r = b.run(f"{b.rblkadm} -j events --now --timeout-ms 1000")
        recs = [json.loads(line) for line in r.out.splitlines() if line.strip()]
        kinds = [e["event"] for e in recs]
        self.assertIn("exists_end", kinds, r.out)
        head = recs[:kinds.index("exists_end")]
        dev = [e for e in head if e["event"] == "exists"]
        peers = [e for e in head if e["event"] == "peer_exists"]
        self.assertEqual(len(dev), 1, r.out)
        self.assertEqual((dev[0]["resource_name"], dev[0]["minor"], dev[0]["role"],
                          dev[0]["disk_state"]),
                         ("r0", st["minor"], st["role"], st["disk_state"]), r.out)
        self.assertEqual(len(peers), 1, r.out)
        self.assertEqual(len(st["peers"]), 1, st)
        p = st["peers"][0]
        self.assertEqual((peers[0]["peer_node_id"], peers[0]["conn_state"],
                          peers[0]["peer_disk_state"]),
                         (p["peer_node_id"], p["conn_state"], p["peer_disk_state"]), r.out)

    def test_05_second_primary_refused(self):
        """A second primary is refused with errno and extack message."""
        a, b = self.c.nodes
        adm(a, "primary r0")
        r = adm(b, "primary r0", check=False)
        self.assertEqual(r.rc, 1, r.err)
        self.assertTrue(r.err.startswith("rblkadm: r0: primary: Device or resource busy: "),
                        r.err)

    def test_06_rejections(self):
        """Low-level requests the kernel rejects: errno + its message."""
        a = self.c.nodes[0]
        r = a.run(f"{a.rblkadm} create-device --name x --minor 0 --node-id 0", check=False)
        self.assertEqual(r.rc, 1, r.err)
        self.assertIn("File exists", r.err)
        self.assertGreaterEqual(r.err.count(":"), 3, r.err)
        r = a.run(f"{a.rblkadm} create-device --name x --node-id 0", check=False)
        self.assertEqual((r.rc, r.err), (1, "rblkadm: create-device: Invalid argument: "
                                            "missing attribute RBLK_A_MINOR\n"))
        r = a.run(f"{a.rblkadm} create-device --name x --minor 5000 --node-id 0", check=False)
        self.assertEqual(r.rc, 1, r.err)
        self.assertTrue(r.err.startswith("rblkadm: create-device: ") and
                        r.err.endswith(" (RBLK_A_MINOR)\n"), r.err)
        for name in ("../x", "-r", "a b"):
            r = a.run(f"{a.rblkadm} create-device --name '{name}' --minor 9 --node-id 0",
                      check=False)
            self.assertEqual((r.rc, r.err),
                             (1, "rblkadm: create-device: Invalid argument: names are made "
                                 "of A-Z a-z 0-9 . _ - and do not start with . or - "
                                 "(RBLK_A_RESOURCE_NAME)\n"), name)

    def test_07_data_replicated(self):
        """Data written on n1 (primary) is on n2's backing disk."""
        a, b = self.c.nodes
        data = os.urandom(1 << 20)
        path = os.path.join(self.c.run_dir, "data.bin")
        with open(path, "wb") as f:
            f.write(data)
        a.run(f"dd if={path} of=/dev/rblk0 bs=1M oflag=direct status=none")
        r = b.run(f"dd if={b.disk} bs=1M count=1 iflag=direct status=none | sha256sum")
        self.assertEqual(r.out.split()[0], hashlib.sha256(data).hexdigest())

    def test_08_changed_address(self):
        """n2 moves to another port: up re-adds just that peer on both
        sides, and they connect on the new port."""
        a, b = self.c.nodes
        adm(a, "secondary r0")
        for n in (a, b):
            write_conf(n, conf_text(a, b, port_b=7800))
        r = adm(a, "up r0")
        self.assertEqual(r.out.splitlines(), [
            "r0: remove-peer n2 (node id 1): changed",
            f"r0: add-peer n2 (node id 1) peer {b.ip_for(a)}:7800 local {a.ip_for(b)}:7790",
            "r0: connect-peer n2 (node id 1)"])
        adm(b, "up r0")
        wait_until(lambda: all_peers_connected((a, b)), 60, "connected again on the new port")
        self.assertEqual(status_all(a)[0]["peers"][0]["peer_port"], 7800)

    def test_08b_ocf_agent(self):
        """The OCF resource agent (userspace/ocf/rblk) for r0 on n1: stop
        and a probe (not running); with RBLK_SOAK=1 also ocf-tester (stop,
        start, promote, demote, probes, about 30 calls of the agent: a
        minute under emulation), with a fake crm_master recording the
        promotion score; then start and promote make n1 Primary in
        rblkadm status, demote Secondary again."""
        a, b = self.c.nodes
        userspace = os.path.dirname(a.rblkadm)
        agent = os.path.join(userspace, "ocf", "rblk")
        fake = "/tmp/ocf-fake"
        a.run(f"mkdir -p {fake} && cat >{fake}/crm_master && chmod +x {fake}/crm_master",
              input=f'#!/bin/sh\necho "$*" >>{fake}/score\n')
        env = f"PATH={userspace}:{fake}:$PATH HA_SBIN_DIR={fake} OCF_ROOT=/usr/lib/ocf"
        ra = (f"{env} OCF_RESOURCE_INSTANCE=rblk_test OCF_RESKEY_resource=r0 "
              f"OCF_RESKEY_config={CONF} OCF_RESKEY_CRM_meta_timeout=60000 {agent}")
        if SOAK:
            r = a.run(f"{env} ocf-tester -v -n rblk_test -o resource=r0 -o config={CONF} "
                      f"{agent}", check=False, timeout=600)
            log(f"ocf-tester: exit {r.rc}, {r.duration_s:.1f} s")
            self.assertEqual(r.rc, 0, f"ocf-tester failed:\n{r.out}{r.err}")
            self.assertIn("passed all tests", r.out)
        else:
            a.run(f"{ra} stop")
            self.assertEqual(a.run(f"OCF_RESKEY_CRM_meta_interval=0 {ra} monitor",
                                   check=False).rc, 7, "probe: not running")
        # r0 is stopped on n1
        self.assertEqual(status_all(a), [])

        a.run(f"{ra} start")
        wait_until(lambda: all_peers_connected((a, b)) and
                   status_all(a)[0]["disk_state"] == "up_to_date", 60,
                   "n1 connected again and UpToDate")
        a.run(f": >{fake}/score")
        self.assertEqual(a.run(f"{ra} monitor", check=False).rc, 0, "monitor: Secondary")
        self.assertEqual(a.run(f"cat {fake}/score").out, "-l reboot -v 10000\n")
        a.run(f"{ra} promote")
        self.assertEqual(status_all(a)[0]["role"], "primary")
        self.assertTrue(adm(a, "status").out.startswith("r0 minor:0 node-id:0 role:Primary"))
        self.assertEqual(a.run(f"{ra} monitor", check=False).rc, 8, "monitor: Primary")
        a.run(f"{ra} demote")
        self.assertEqual(status_all(a)[0]["role"], "secondary")
        self.assertTrue(adm(a, "status").out.startswith("r0 minor:0 node-id:0 role:Secondary"))

    def test_08c_systemd_unit(self):
        """rblk.service's commands in the order systemd runs them (no
        systemd in the guests): ExecStartPre loads the module (already
        loaded here: only its command line is checked), ExecStop takes
        n1's resources down, ExecStart brings up every resource of the
        file and r0 connects again; rblkadm's path and the file are the
        rig's."""
        a, b = self.c.nodes
        unit = os.path.join(TOP, "userspace", "systemd", "rblk.service")
        cmds = {}
        with open(unit) as f:
            for line in f:
                key, _, value = line.strip().partition("=")
                if key.startswith("Exec"):
                    cmds.setdefault(key, []).append(value)
        self.assertEqual(cmds, {"ExecStartPre": ["/sbin/modprobe rblk"],
                                "ExecStart": ["/usr/sbin/rblkadm up all"],
                                "ExecStop": ["/usr/sbin/rblkadm down all"]})

        def run(cmd):
            return a.run(cmd.replace("/usr/sbin/rblkadm", f"{a.rblkadm} -c {CONF}"))
        run(cmds["ExecStop"][0])
        self.assertEqual(status_all(a), [])
        self.assertTrue(all(d["peers"][0]["conn_state"] != "connected"
                            for d in status_all(b)))
        run(cmds["ExecStart"][0])
        # every resource of the file: r6 too, which n2 does not run now
        self.assertEqual(sorted(d["resource_name"] for d in status_all(a)), ["r0", "r6"])
        wait_until(lambda: status_all(a)[0]["peers"][0]["conn_state"] == "connected", 60,
                   "r0 on n1 up and connected again")
        adm(a, "down r6")

    def test_09_down(self):
        """down removes the devices; the module unloads."""
        a, b = self.c.nodes
        for n in (a, b):
            adm(n, "down all")
        self.assertEqual(adm(a, "status").out, "no rblk devices configured\n")
        for n in (a, b):
            n.rmmod()


if __name__ == "__main__":
    unittest.main()
