#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""rblkadm against the real module: two QEMU guests (scripts/rig.py).

    python3 userspace/tests/vm_smoke.py [--kernel 6.1] [--module PATH]

Needs build/mod-$KVER/rblk.ko (make modules-all) and userspace/rblkadm.
Checks: up on both nodes (exact plan output), idempotent second up, status
(human and JSON), primary/secondary and the events they cause on the peer,
a change of the file applied by up, the kernel's rejections with errno and
extack message, replicated data (checksum on the peer's backing disk), down.
Prints one line per check; exits 1 on the first failure.
"""
import argparse
import hashlib
import json
import os
import sys
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "scripts"))
from rig import Cluster  # noqa: E402

RBLKADM = os.environ.get("RBLKADM", os.path.join(TOP, "userspace", "rblkadm"))


def check(cond, what, detail=""):
    if not cond:
        print(f"FAIL: {what}\n{detail}")
        sys.exit(1)
    print(f"ok: {what}")


def conf_text(a, b, port_b=7789):
    return f"""cluster: rig
options:
  ping-interval-ms: 1000
  ping-timeout-ms: 3000
  connect-timeout-ms: 3000
  reconnect-max-ms: 2000
resources:
  - name: r0
    minor: 0
    assume-clean: true
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
    assume-clean: true
    nodes:
      - {{name: n1, node-id: 0, address: "[fd99:12::1]:7900", disk: {a.disks[1]}}}
      - {{name: n2, node-id: 1, address: "[fd99:12::2]:7900", disk: {b.disks[1]}}}
"""


def adm(node, conf, args, check_rc=True):
    return node.run(f"{RBLKADM} -c {conf} --node {node.name} {args}", check=check_rc)


def status_json(node, conf):
    r = adm(node, conf, "-j status")
    return json.loads(r.out)


def wait_connected(nodes, conf, timeout_s=60):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        states = []
        for n in nodes:
            st = status_json(n, conf)
            states.append([p["conn_state"] for d in st for p in d["peers"]])
        if all(s and all(x == "connected" for x in s) for s in states):
            return True
        time.sleep(1)
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", default="6.1")
    ap.add_argument("--module", help="rblk.ko to load (default: the rig's build/mod-KVER/rblk.ko)")
    opts = ap.parse_args()
    with Cluster(kernel=opts.kernel, nodes=2, disk_mib=64, disks=2) as c:
        a, b = c.nodes
        for n, peer in ((a, b), (b, a)):
            n.run(f"ip -6 addr add fd99:12::{n.index}/64 dev {n.iface_for(peer)} nodad")
        conf = os.path.join(c.run_dir, "rblk.conf")
        with open(conf, "w") as f:
            f.write(conf_text(a, b))
        for n in (a, b):
            if opts.module:
                n.run(f"insmod {opts.module}")
            else:
                n.insmod()

        r = adm(a, conf, "up all")
        expected = (f"r0: create-device r0 minor 0 node-id 0 cluster rig\n"
                    f"r0: attach {a.disk} assume-uptodate\n"
                    f"r0: add-peer n2 (node id 1) peer {b.ip_for(a)}:7789 local {a.ip_for(b)}:7790\n"
                    f"r0: connect-peer n2 (node id 1)\n"
                    f"r6: create-device r6 minor 1 node-id 0 cluster rig\n"
                    f"r6: attach {a.disks[1]} assume-uptodate\n"
                    f"r6: add-peer n2 (node id 1) peer [fd99:12::2]:7900 local [fd99:12::1]:7901\n"
                    f"r6: connect-peer n2 (node id 1)\n")
        check(r.out == expected, "up on n1 prints its plan", r.out)
        r = adm(b, conf, "-j up all")
        j = json.loads(r.out)
        check(len(j) == 2 and all([o["op"] for o in j[i]["operations"]] ==
                                  ["create-device", "attach", "add-peer", "connect-peer"]
                                  for i in (0, 1)) and
              all(o["result"] == "ok" for i in (0, 1) for o in j[i]["operations"]),
              "up on n2 (JSON)", r.out)
        check(wait_connected([a, b], conf), "both sides Connected (IPv4 and IPv6)")
        st = status_json(a, conf)
        check(st[1]["peers"][0]["peer_ip"] == "fd99:12::2" and
              st[1]["peers"][0]["local_ip"] == "fd99:12::1", "IPv6 peer in status",
              json.dumps(st[1]))
        adm(a, conf, "down r6")
        adm(b, conf, "down r6")

        r = adm(a, conf, "up r0")
        check(r.out == "r0: up to date, nothing to do\n", "second up does nothing", r.out)

        r = adm(a, conf, "status")
        lines = r.out.splitlines()
        check(len(lines) == 2 and lines[0].startswith("r0 minor:0 node-id:0 role:Secondary disk:UpToDate")
              and lines[1].startswith("  n2 node-id:1 connection:Connected role:Secondary disk:UpToDate"),
              "status (human)", r.out)
        st = status_json(a, conf)
        d = st[0]
        check(d["resource_name"] == "r0" and d["cluster_name"] == "rig" and
              d["backing_path"] == a.disk and d["size_sectors"] == 64 * 2048 and
              d["peers"][0]["peer_ip"] == b.ip_for(a) and d["peers"][0]["peer_port"] == 7789 and
              d["peers"][0]["local_port"] == 7790, "status (JSON)", json.dumps(d))

        ev = b.spawn(f"{RBLKADM} -j events --timeout-ms 8000")
        time.sleep(1.5)
        adm(a, conf, "primary r0")
        time.sleep(1)
        adm(a, conf, "secondary r0")
        res = ev.wait()
        events = [json.loads(line) for line in res.out.splitlines()]
        roles = [e.get("peer_role") for e in events if e["event"] == "peer_role_changed"]
        check(roles[:2] == ["primary", "secondary"], "n2 sees n1's role changes as events", res.out)

        adm(a, conf, "primary r0")
        r = adm(b, conf, "primary r0", check_rc=False)
        check(r.rc == 1 and r.err.startswith("rblkadm: r0: primary: Device or resource busy: "),
              "second primary refused with errno and extack", r.err)

        r = a.run(f"{RBLKADM} create-device --name x --minor 0 --node-id 0", check=False)
        check(r.rc == 1 and "File exists" in r.err and r.err.count(":") >= 3,
              "low-level duplicate minor: errno + kernel message", r.err)
        r = a.run(f"{RBLKADM} create-device --name x --node-id 0", check=False)
        check(r.rc == 1 and r.err == "rblkadm: create-device: Invalid argument: "
              "missing attribute RBLK_A_MINOR\n",
              "low-level request without minor: kernel names the missing attribute", r.err)
        r = a.run(f"{RBLKADM} create-device --name x --minor 5000 --node-id 0", check=False)
        check(r.rc == 1 and r.err.startswith("rblkadm: create-device: ") and
              r.err.endswith(" (RBLK_A_MINOR)\n"),
              "low-level minor out of range: kernel names the attribute", r.err)

        data = os.urandom(1 << 20)
        path = os.path.join(c.run_dir, "data.bin")
        with open(path, "wb") as f:
            f.write(data)
        a.run(f"dd if={path} of=/dev/rblk0 bs=1M oflag=direct status=none")
        r = b.run(f"dd if={b.disk} bs=1M count=1 iflag=direct status=none | sha256sum")
        check(r.out.split()[0] == hashlib.sha256(data).hexdigest(),
              "data written on n1 is on n2's backing disk")

        adm(a, conf, "secondary r0")
        # move n2 to another port: up applies just that change on both sides
        with open(conf, "w") as f:
            f.write(conf_text(a, b, port_b=7800))
        r = adm(a, conf, "up r0")
        check(r.out.splitlines() == [
            "r0: remove-peer n2 (node id 1): changed",
            f"r0: add-peer n2 (node id 1) peer {b.ip_for(a)}:7800 local {a.ip_for(b)}:7790",
            "r0: connect-peer n2 (node id 1)"], "changed address: only that peer re-added", r.out)
        adm(b, conf, "up r0")
        check(wait_connected([a, b], conf), "Connected again on the new port")

        for n in (a, b):
            r = adm(n, conf, "down all")
        r = adm(a, conf, "status")
        check(r.out == "no rblk devices configured\n", "down removed the device", r.out)
        for n in (a, b):
            n.rmmod()
    print("all checks passed")


if __name__ == "__main__":
    main()
