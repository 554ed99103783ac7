#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""rblkadm failover on three QEMU guests cabled point to point (address-for).

    python3 userspace/tests/vm_failover.py [--kernel 6.1] [--module PATH]

n1 is primary and writes; n1 dies; n2 and n3 see it (events, status: their
own disk Outdated); a plain promotion of n2 is refused with the kernel's
reason, --force promotes it; the data n1 wrote is on n2; n3 follows n2.
n1 comes back with a file without assume-clean: its disk is Inconsistent;
the operator guide's copy procedure makes it a replica again.
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


def conf_text(n, assume_clean):
    n1, n2, n3 = n
    return f"""cluster: rig
options: {{ping-interval-ms: 500, ping-timeout-ms: 2000, connect-timeout-ms: 2000, reconnect-max-ms: 1000}}
resources:
  - name: r0
    minor: 0
    assume-clean: {'true' if assume_clean else 'false'}
    nodes:
      - name: n1
        node-id: 0
        address: {n1.ip_for(n2)}:7789
        address-for: {{n3: {n1.ip_for(n3)}:7789}}
        disk: {n1.disk}
      - name: n2
        node-id: 1
        address: {n2.ip_for(n1)}:7789
        address-for: {{n3: {n2.ip_for(n3)}:7789}}
        disk: {n2.disk}
      - name: n3
        node-id: 2
        address: {n3.ip_for(n1)}:7789
        address-for: {{n2: {n3.ip_for(n2)}:7789}}
        disk: {n3.disk}
"""


def adm(node, conf, args, check_rc=True):
    return node.run(f"{RBLKADM} -c {conf} --node {node.name} {args}", check=check_rc)


def status(node, conf):
    return json.loads(adm(node, conf, "-j status").out)[0]


def wait_for(fn, timeout_s=60):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if fn():
            return True
        time.sleep(1)
    return False


def all_connected(node, conf):
    peers = status(node, conf)["peers"]
    return len(peers) == 2 and all(p["conn_state"] == "connected" for p in peers)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", default="6.1")
    ap.add_argument("--module", help="rblk.ko to load (default: the rig's build/mod-KVER/rblk.ko)")
    opts = ap.parse_args()

    def load(n):
        if opts.module:
            n.run(f"insmod {opts.module}")
        else:
            n.insmod()

    with Cluster(kernel=opts.kernel, nodes=3, disk_mib=64) as c:
        nodes = c.nodes
        n1, n2, n3 = nodes
        conf = os.path.join(c.run_dir, "rblk.conf")
        with open(conf, "w") as f:
            f.write(conf_text(nodes, True))
        for n in nodes:
            load(n)
            adm(n, conf, "up all")
        check(all(wait_for(lambda n=n: all_connected(n, conf)) for n in nodes),
              "three nodes, each Connected to both peers")
        r = adm(n3, conf, "status")
        check("n1 node-id:0 connection:Connected" in r.out and
              f"address:{n1.ip_for(n3)}:7791" in r.out and
              f"address:{n2.ip_for(n3)}:7791" in r.out, "n3 reaches n1 and n2 on their links", r.out)

        # take the file's assume-clean out now that the disks are in service
        with open(conf, "w") as f:
            f.write(conf_text(nodes, False))

        adm(n1, conf, "primary r0")
        data = os.urandom(2 << 20)
        path = os.path.join(c.run_dir, "data.bin")
        with open(path, "wb") as f:
            f.write(data)
        n1.run(f"dd if={path} of=/dev/rblk0 bs=1M oflag=direct status=none")

        ev = n2.spawn(f"{RBLKADM} -j events --timeout-ms 10000")
        time.sleep(1.5)
        c.kill(n1)
        res = ev.wait()
        events = [json.loads(line) for line in res.out.splitlines()]
        kinds = {(e["event"], e.get("peer_node_id")) for e in events}
        check(("conn_state_changed", 0) in kinds and
              any(e["event"] == "disk_state_changed" and e.get("disk_state") == "outdated"
                  for e in events), "n2's events: lost n1, own disk Outdated", res.out)
        st = status(n2, conf)
        p1 = [p for p in st["peers"] if p["peer_node_id"] == 0][0]
        check(st["disk_state"] == "outdated" and p1["conn_state"] != "connected",
              "n2 status: disk Outdated, n1 not connected", json.dumps(st))
        r = adm(n2, conf, "status")
        print(r.out, end="")

        r = adm(n2, conf, "primary r0", check_rc=False)
        check(r.rc == 1 and r.err.startswith("rblkadm: r0: primary: Stale file handle: "),
              "plain promotion of the Outdated survivor refused", r.err)
        adm(n2, conf, "primary --force r0")
        st = status(n2, conf)
        check(st["role"] == "primary" and st["disk_state"] == "up_to_date",
              "primary --force: n2 Primary/UpToDate", json.dumps(st))
        r = n2.run("dd if=/dev/rblk0 bs=1M count=2 iflag=direct status=none | sha256sum")
        check(r.out.split()[0] == hashlib.sha256(data).hexdigest(),
              "n1's acknowledged writes are on n2")
        check(wait_for(lambda: any(p["peer_node_id"] == 1 and p["peer_role"] == "primary"
                                   for p in status(n3, conf)["peers"]), 20),
              "n3 sees n2 as primary")

        c.restart(n1)
        load(n1)
        adm(n1, conf, "up all")
        st = status(n1, conf)
        check(st["disk_state"] == "inconsistent",
              "n1 back without assume-clean: Inconsistent", json.dumps(st))
        r = adm(n1, conf, "primary r0", check_rc=False)
        check(r.rc == 1, "n1 cannot be promoted", r.err)
        r = adm(n1, conf, "up all")
        check(r.out == "r0: up to date, nothing to do\n", "up on n1 again: nothing to do", r.out)

        # the operator guide's procedure for an Outdated/Inconsistent node:
        # copy the primary's data, attach the copy with assume-clean
        adm(n1, conf, "down r0")
        img = os.path.join(c.run_dir, "copy.img")
        n2.run(f"dd if=/dev/rblk0 of={img} bs=1M iflag=direct status=none")
        n1.run(f"dd if={img} of={n1.disk} bs=1M oflag=direct status=none")
        with open(conf, "w") as f:
            f.write(conf_text(nodes, True))
        adm(n1, conf, "up r0")
        with open(conf, "w") as f:
            f.write(conf_text(nodes, False))
        check(wait_for(lambda: any(p["peer_node_id"] == 0 and p["conn_state"] == "connected" and
                                   p["peer_disk_state"] == "up_to_date"
                                   for p in status(n2, conf)["peers"])),
              "after the copy n2 sees n1 Connected and UpToDate", adm(n2, conf, "status").out)
        data2 = os.urandom(2 << 20)
        with open(path, "wb") as f:
            f.write(data2)
        n2.run(f"dd if={path} of=/dev/rblk0 bs=1M oflag=direct status=none")
        r = n1.run(f"dd if={n1.disk} bs=1M count=2 iflag=direct status=none | sha256sum")
        check(r.out.split()[0] == hashlib.sha256(data2).hexdigest(),
              "new writes on n2 reach n1 again")
        for n in (n2, n3):
            adm(n, conf, "secondary r0", check_rc=False)
        for n in nodes:
            adm(n, conf, "down all")
    print("all checks passed")


if __name__ == "__main__":
    main()
