# SPDX-License-Identifier: GPL-2.0
"""rblkadm failover on three nodes cabled point to point (address-for).

n1 is primary and writes; n1 dies; n2 and n3 see it (events, status: their
own disk Outdated); a plain promotion of n2 is refused with the kernel's
reason, --force promotes it; the data n1 wrote is on n2; n3 follows n2.
n1 comes back with a file without assume-clean: its disk is Inconsistent;
the operator guide's copy procedure makes it a replica again.

One cluster per kernel; the tests run in order and each starts from the
state the one before left (a failed step fails the ones after it too).
"""
import hashlib
import json
import os
import unittest

from e2elib import (ClusterTest, adm, events_job, job_events, per_kernel, status, wait_until,
                    write_conf)


def conf_text(nodes, assume_clean):
    """Topology: r0 on three nodes, each pair on its own link."""
    n1, n2, n3 = nodes
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


def peer_id(st, node_id):
    """The entry for node id node_id in a status object's peers."""
    return [p for p in st["peers"] if p["peer_node_id"] == node_id][0]


def sha256_on(node, dev, mib):
    """sha256 (hex) of the first mib MiB of dev on node, read with O_DIRECT."""
    r = node.run(f"dd if={dev} bs=1M count={mib} iflag=direct status=none | sha256sum")
    return r.out.split()[0]


@per_kernel
class RblkadmFailover(ClusterTest):
    NODES = 3
    DISK_MIB = 64

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.data_path = os.path.join(cls.c.run_dir, "data.bin")
        for n in cls.c.nodes:
            write_conf(n, conf_text(cls.c.nodes, True))
            n.insmod()
            adm(n, "up all")

    def put_conf(self, assume_clean, nodes=None):
        for n in nodes or self.c.nodes:
            write_conf(n, conf_text(self.c.nodes, assume_clean))

    def write_random(self, node, mib):
        """Write mib MiB of random data at the start of /dev/rblk0 on node;
        returns its sha256."""
        data = os.urandom(mib << 20)
        with open(self.data_path, "wb") as f:
            f.write(data)
        node.run(f"dd if={self.data_path} of=/dev/rblk0 bs=1M oflag=direct status=none")
        return hashlib.sha256(data).hexdigest()

    def test_1_three_nodes_connected(self):
        """Each node connected to both peers; n3 reaches n1 and n2 on
        their links to n3."""
        n1, n2, n3 = self.c.nodes

        def all_connected():
            for n in self.c.nodes:
                peers = status(n)["peers"]
                if len(peers) != 2 or any(p["conn_state"] != "connected" for p in peers):
                    return False
            return True
        wait_until(all_connected, 60, "three nodes, each connected to both peers")
        r = adm(n3, "status")
        self.assertIn("n1 node-id:0 connection:Connected", r.out)
        self.assertIn(f"address:{n1.ip_for(n3)}:7791", r.out)
        self.assertIn(f"address:{n2.ip_for(n3)}:7791", r.out)

    def test_2_primary_dies(self):
        """n1 writes as primary and dies: n2's events show the lost
        connection and its own disk Outdated."""
        n1, n2, n3 = self.c.nodes
        # take the file's assume-clean out now that the disks are in service
        self.put_conf(False)
        ev = events_job(n2, lambda: (adm(n1, "primary r0"), adm(n1, "secondary r0")))
        try:
            adm(n1, "primary r0")
            type(self).sha_n1 = self.write_random(n1, 2)
            self.c.kill(n1)

            def lost_n1():
                events = job_events(ev)
                return (any(e["event"] == "conn_state_changed" and e.get("peer_node_id") == 0
                            for e in events) and
                        any(e["event"] == "disk_state_changed" and
                            e.get("disk_state") == "outdated" for e in events))
            wait_until(lost_n1, 30, "n2's events: lost n1, own disk outdated")
        finally:
            ev.kill()
            ev.wait(timeout=60)
        st = status(n2)
        self.assertEqual(st["disk_state"], "outdated", json.dumps(st))
        self.assertNotEqual(peer_id(st, 0)["conn_state"], "connected", json.dumps(st))

    def test_3_forced_promotion(self):
        """The Outdated survivor n2: plain promotion refused (ESTALE with
        the kernel's reason), --force promotes it; n1's data is there;
        n3 follows n2."""
        n1, n2, n3 = self.c.nodes
        r = adm(n2, "primary r0", check=False)
        self.assertEqual(r.rc, 1, r.err)
        self.assertTrue(r.err.startswith("rblkadm: r0: primary: Stale file handle: "), r.err)
        adm(n2, "primary --force r0")
        st = status(n2)
        self.assertEqual((st["role"], st["disk_state"]), ("primary", "up_to_date"),
                         json.dumps(st))
        self.assertEqual(sha256_on(n2, "/dev/rblk0", 2), self.sha_n1,
                         "n1's acknowledged writes are not on n2")
        wait_until(lambda: peer_id(status(n3), 1)["peer_role"] == "primary", 20,
                   "n3 to see n2 primary")

    def test_4_returning_node(self):
        """n1 boots again with a file without assume-clean: Inconsistent,
        not promotable, up again does nothing; after the operator guide's
        copy procedure it is a replica of n2 again."""
        n1, n2, n3 = self.c.nodes
        self.c.restart(n1)
        self.put_conf(False, [n1])  # /tmp was lost with the power
        n1.insmod()
        adm(n1, "up all")
        st = status(n1)
        self.assertEqual(st["disk_state"], "inconsistent", json.dumps(st))
        r = adm(n1, "primary r0", check=False)
        self.assertEqual(r.rc, 1, r.err)
        self.assertEqual(adm(n1, "up all").out, "r0: up to date, nothing to do\n")

        # the procedure for an Outdated/Inconsistent node: copy the
        # primary's data, attach the copy with assume-clean
        adm(n1, "down r0")
        # n2 keeps n1 Outdated whatever n1 claims until it forgets n1
        adm(n2, "remove-peer --minor 0 --peer-node-id 0")
        img = os.path.join(self.c.run_dir, "copy.img")
        n2.run(f"dd if=/dev/rblk0 of={img} bs=1M iflag=direct status=none")
        n1.run(f"dd if={img} of={n1.disk} bs=1M oflag=direct status=none")
        self.put_conf(True, [n1])
        adm(n1, "up r0")
        # re-added while n2 is primary, n1 would count as having missed
        # writes: n2 adds it back as a secondary (nothing writes now)
        adm(n2, "secondary r0")
        adm(n2, "up r0")
        self.put_conf(False, [n1])

        def n1_replica():
            p = peer_id(status(n2), 0)
            return p["conn_state"] == "connected" and p["peer_disk_state"] == "up_to_date"
        wait_until(n1_replica, 60, "n2 to see n1 connected and up_to_date")
        adm(n2, "primary r0")
        sha_n2 = self.write_random(n2, 2)
        self.assertEqual(sha256_on(n1, n1.disk, 2), sha_n2, "new writes on n2 do not reach n1")
        for n in (n2, n3):
            adm(n, "secondary r0", check=False)
        for n in self.c.nodes:
            adm(n, "down all")


if __name__ == "__main__":
    unittest.main()
