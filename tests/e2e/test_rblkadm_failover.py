# SPDX-License-Identifier: GPL-2.0
"""rblkadm failover on three nodes cabled point to point (address-for).

The disks get metadata (create-md) and the three nodes come up; once
connected, new-current-uuid --clear-bitmap on n1 makes every disk UpToDate.
n1 is primary and writes; n1 dies; n2 and n3 see it (events, status) and
keep their disks UpToDate (protocol C: they hold every write n1
acknowledged); n2 is promoted without --force; the data n1 wrote is on n2;
n3 follows n2, and n2 writes on without n1.  n1 comes back (its metadata:
a crashed primary of an older generation), first to n2 only: the
generation UUIDs make it n2's sync target, not promotable, until the
resync ends; then with n3 too: all three data areas identical.

One cluster per kernel; the tests run in order and each starts from the
state the one before left (a failed step fails the ones after it too).
"""
import hashlib
import json
import os
import time
import unittest

from e2elib import (AHEAD, BITMAP_SOURCE, BITMAP_TARGET, ESTABLISHED, REPL_STATE,
                    RESYNC_TIMEOUT_S, SOAK, SYNC_DECISION, SYNC_SOURCE, SYNC_TARGET, ClusterTest,
                    adm, create_md, disk_sha256, events_job, in_parallel, job_events, log,
                    new_current_uuid, per_kernel, status, wait_until, write_conf)


# test_5_many_resources: resources in make check (200 in make soak), and the
# bounds of bringing them up (until every connection is Connected) and down
# on three nodes at once, under emulation.  Measured on 6.12: 24 resources
# up 2.0 s, connected 3.1 s, down 2.1 s; 200 (600 connections) up 10.2 s,
# connected 11.8 s, down 11.3 s.
SCALE_RESOURCES = 24
SCALE_UP_S = 600
SCALE_DOWN_S = 300


def conf_text(nodes):
    """Topology: r0 on three nodes, each pair on its own link."""
    n1, n2, n3 = nodes
    return f"""cluster: rig
options: {{ping-interval-ms: 500, ping-timeout-ms: 2000, connect-timeout-ms: 2000, reconnect-max-ms: 1000}}
resources:
  - name: r0
    minor: 0
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


def sha256_on(node, dev, mib, skip_mib=0):
    """sha256 (hex) of mib MiB of dev from skip_mib on node, read with
    O_DIRECT."""
    r = node.run(f"dd if={dev} bs=1M count={mib} skip={skip_mib} iflag=direct status=none | "
                 f"sha256sum")
    return r.out.split()[0]


def all_connected(nodes):
    """Every node connected to both peers: their status objects, or False."""
    sts = [status(n) for n in nodes]
    return all(len(st["peers"]) == 2 and all(p["conn_state"] == "connected"
                                             for p in st["peers"]) for st in sts) and sts


def resynced(src, tgt, src_id, tgt_id):
    """The resync src -> tgt has ended (node ids of this file's topology,
    not the rig's): both connected, UpToDate in both views, Established
    both ways, nothing out of sync either way.  Both status objects, or
    False."""
    ss, st = status(src), status(tgt)
    ps, pt = peer_id(ss, tgt_id), peer_id(st, src_id)
    return (ps["conn_state"] == pt["conn_state"] == "connected" and
            ss["disk_state"] == st["disk_state"] == "up_to_date" and
            ps["peer_disk_state"] == pt["peer_disk_state"] == "up_to_date" and
            ps[REPL_STATE] == pt[REPL_STATE] == ESTABLISHED and
            ps["out_of_sync_bytes"] == pt["out_of_sync_bytes"] == 0) and (ss, st)


def all_in_sync(nodes):
    """all_up_to_date, nothing out of sync in any view and no resync
    running or pending (a pair that has not met again since
    new-current-uuid --clear-bitmap still shows WaitSource)."""
    sts = all_up_to_date(nodes)
    return sts and all(p["out_of_sync_bytes"] == 0 and
                       p[REPL_STATE] not in (SYNC_SOURCE, SYNC_TARGET, AHEAD)
                       for st in sts for p in st["peers"]) and sts


def all_up_to_date(nodes):
    """Every node connected to both peers, every disk UpToDate in every view."""
    sts = all_connected(nodes)
    return sts and all(st["disk_state"] == "up_to_date" and
                       all(p["peer_disk_state"] == "up_to_date" for p in st["peers"])
                       for st in sts) and sts


@per_kernel
class RblkadmFailover(ClusterTest):
    NODES = 3
    DISK_MIB = 64
    DISKS = 2           # the second one: slices for test_5_many_resources
    # on one kernel in make check (CI budget), on both in make soak
    ONE_KERNEL = {"*": "6.12"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.data_path = os.path.join(cls.c.run_dir, "data.bin")
        # the topology numbers the nodes from 0 (conf_text): e2elib's peer_of
        for i, n in enumerate(cls.c.nodes):
            n.rblk_id = i
        for n in cls.c.nodes:
            write_conf(n, conf_text(cls.c.nodes))
            n.insmod()
            create_md(n, "r0")
            adm(n, "up all")

    def put_conf(self, nodes=None):
        for n in nodes or self.c.nodes:
            write_conf(n, conf_text(self.c.nodes))

    def write_random(self, node, mib, seek_mib=0):
        """Write mib MiB of random data at seek_mib MiB of /dev/rblk0 on
        node; returns its sha256."""
        data = os.urandom(mib << 20)
        with open(self.data_path, "wb") as f:
            f.write(data)
        node.run(f"dd if={self.data_path} of=/dev/rblk0 bs=1M seek={seek_mib} oflag=direct "
                 f"status=none")
        return hashlib.sha256(data).hexdigest()

    def test_1_three_nodes_connected(self):
        """Each node connected to both peers; n3 reaches n1 and n2 on
        their links to n3.  The new disks are Inconsistent until
        new-current-uuid --clear-bitmap on n1; then all are UpToDate."""
        n1, n2, n3 = self.c.nodes
        sts = wait_until(lambda: all_connected(self.c.nodes), 60,
                         "three nodes, each connected to both peers")
        self.assertEqual([st["disk_state"] for st in sts], ["inconsistent"] * 3,
                         json.dumps(sts))
        r = adm(n3, "status")
        self.assertIn("n1 node-id:0 connection:Connected", r.out)
        self.assertIn(f"address:{n1.ip_for(n3)}:7791", r.out)
        self.assertIn(f"address:{n2.ip_for(n3)}:7791", r.out)
        new_current_uuid(n1, "r0")
        wait_until(lambda: all_up_to_date(self.c.nodes), 60,
                   "every disk up_to_date in every view")

    def test_2_primary_dies(self):
        """n1 writes as primary and dies: n2's events show the lost
        connection; n2 keeps its disk UpToDate (no disk state change)."""
        n1, n2, n3 = self.c.nodes
        ev = events_job(n2, lambda: (adm(n1, "primary r0"), adm(n1, "secondary r0")))
        try:
            adm(n1, "primary r0")
            type(self).sha_n1 = self.write_random(n1, 2)
            self.c.kill(n1)

            def lost_n1():
                return any(e["event"] == "conn_state_changed" and e.get("peer_node_id") == 0
                           for e in job_events(ev))
            wait_until(lost_n1, 30, "n2's events: lost n1")
            st = status(n2)
        finally:
            ev.kill()
            ev.wait(timeout=60)
        self.assertEqual(st["disk_state"], "up_to_date", json.dumps(st))
        self.assertNotEqual(peer_id(st, 0)["conn_state"], "connected", json.dumps(st))
        changes = [e for e in job_events(ev) if e["event"] == "disk_state_changed"]
        self.assertEqual(changes, [], "n2's own disk state must not change when n1 dies")

    def test_3_promotion_without_force(self):
        """The UpToDate survivor n2 is promoted without --force; n1's data
        is there; n3 follows n2; n2 writes on without n1."""
        n1, n2, n3 = self.c.nodes
        r = adm(n2, "primary r0", check=False)
        self.assertEqual(r.rc, 0, f"n2 (up_to_date, its primary dead) must be promoted "
                                  f"without --force: {r.err}")
        st = status(n2)
        self.assertEqual((st["role"], st["disk_state"]), ("primary", "up_to_date"),
                         json.dumps(st))
        self.assertEqual(sha256_on(n2, "/dev/rblk0", 2), self.sha_n1,
                         "n1's acknowledged writes are not on n2")
        wait_until(lambda: peer_id(status(n3), 1)["peer_role"] == "primary", 20,
                   "n3 to see n2 primary")
        type(self).sha_n2 = self.write_random(n2, 1, seek_mib=4)

    def test_4_returning_node(self):
        """n1 boots again, its link to n3 cut: its metadata brings its data
        back, and n2's newer generation makes n1 n2's sync target
        (bitmap-target; n1 is not promotable, up again does nothing); the
        resync from n2 ends with both UpToDate.  With the link to n3 back,
        all three are in sync (UpToDate everywhere, nothing out of sync, no
        resync left): the three data areas are identical, and n2's new
        writes reach n1."""
        n1, n2, n3 = self.c.nodes
        self.c.restart(n1)
        self.put_conf([n1])  # /tmp was lost with the power
        n1.insmod()
        # one peer at a time (operator.rst): n2, the primary, first
        self.c.cut_link(n1, n3)
        try:
            adm(n1, "up all")
            wait_until(lambda: peer_id(status(n1), 1)["conn_state"] == "connected", 60,
                       "n1 connected to n2")
            got = (peer_id(status(n2), 0).get(SYNC_DECISION),
                   peer_id(status(n1), 1).get(SYNC_DECISION))
            log(f"n1 back: sync decisions n2->n1, n1->n2: {got}")
            self.assertEqual(got, (BITMAP_SOURCE, BITMAP_TARGET))
            r = adm(n1, "primary r0", check=False)
            self.assertEqual(r.rc, 1, r.err)
            self.assertEqual(status(n1)["role"], "secondary")
            self.assertEqual(adm(n1, "up all").out, "r0: up to date, nothing to do\n")
            wait_until(lambda: resynced(n2, n1, 1, 0), RESYNC_TIMEOUT_S,
                       "the resync n2 -> n1 to end")
        finally:
            self.c.restore_link(n1, n3)
        wait_until(lambda: all_in_sync(self.c.nodes), RESYNC_TIMEOUT_S,
                   "all three connected, up_to_date, nothing out of sync, no resync")
        shas = in_parallel(*(lambda n=n: disk_sha256(n) for n in self.c.nodes))
        self.assertEqual(len(set(shas)), 1, f"data areas differ: {shas}")
        sha_n2 = self.write_random(n2, 2)
        self.assertEqual(sha256_on(n1, n1.disk, 2), sha_n2, "new writes on n2 do not reach n1")
        for n in (n2, n3):
            adm(n, "secondary r0", check=False)
        for n in self.c.nodes:
            adm(n, "down all")

    def test_5_many_resources(self):
        """A site's scale: SCALE_RESOURCES resources (200 with RBLK_SOAK=1;
        RBLK_SCALE_RESOURCES overrides) on the three nodes, one file each
        in a conf.d the main file includes, every address without a port
        (each resource its own range: no port planning), each on a GPT
        partition of the second disk.  create-md, then `up all` on the three nodes at once: every
        connection Connected within SCALE_UP_S; `down all` on the three:
        no device left within SCALE_DOWN_S.  The times are FIGUREs."""
        count = int(os.environ.get("RBLK_SCALE_RESOURCES", 200 if SOAK else SCALE_RESOURCES))
        part_sectors = 512              # 256 KiB each: data plus metadata
        main = "/tmp/rblk-scale.conf"
        nodes = self.c.nodes
        ips = {(a.name, b.name): a.ip_for(b) for a in nodes for b in nodes if a is not b}

        def res_file(i):
            lines = [f"resources:\n  - name: s{i}\n    minor: {i}\n    nodes:\n"]
            for k, n in enumerate(nodes):
                first, other = [p for p in nodes if p is not n]
                lines.append(f"      - name: {n.name}\n        node-id: {k}\n"
                             f"        address: {ips[n.name, first.name]}\n"
                             f"        address-for: {{{other.name}: "
                             f"{ips[n.name, other.name]}}}\n"
                             f"        disk: {n.disks[1]}{i}\n")
            return "".join(lines)

        script = [f"mkdir -p /tmp/rblk-scale.d && cat >{main} <<'EOF'\n"
                  "cluster: rig\ninclude: rblk-scale.d/*.yaml\nEOF\n"]
        for i in range(1, count + 1):
            script.append(f"cat >/tmp/rblk-scale.d/s{i:03d}.yaml <<'EOF'\n{res_file(i)}EOF\n")
        # explicit starts: sfdisk would align each partition to 1 MiB
        table = ["label: gpt", f"table-length: {max(128, count)}"]
        table += [f"start={2048 + i * part_sectors}, size={part_sectors}" for i in range(count)]

        def prepare(n):
            n.run(f"/sbin/sfdisk -q -X gpt {n.disks[1]}", input="\n".join(table) + "\n")
            n.run(f"test -b {n.disks[1]}{count}")
            n.run("sh -s", input="".join(script))
            n.run(f"for i in $(seq 1 {count}); do {n.rblkadm} -c {main} create-md s$i "
                  ">/dev/null || exit 1; done", timeout=1200)
        for n in nodes:     # r0 of the tests before (down already if they passed)
            adm(n, "down all")
        in_parallel(*(lambda n=n: prepare(n) for n in nodes))
        r = nodes[0].run(f"{nodes[0].rblkadm} -c {main} check --names")
        self.assertEqual(len(r.out.split()), count, r.out)

        def connected():
            for n in nodes:
                st = json.loads(n.run(f"{n.rblkadm} -j status", quiet=True).out)
                if len(st) != count or any(p["conn_state"] != "connected"
                                           for d in st for p in d["peers"]):
                    return False
            return True

        t0 = time.monotonic()
        in_parallel(*(lambda n=n: n.run(f"{n.rblkadm} -c {main} up all >/dev/null",
                                        timeout=SCALE_UP_S) for n in nodes))
        up_s = time.monotonic() - t0
        wait_until(connected, SCALE_UP_S - up_s, f"{count} resources connected on all nodes")
        connected_s = time.monotonic() - t0
        t0 = time.monotonic()
        in_parallel(*(lambda n=n: n.run(f"{n.rblkadm} -c {main} down all >/dev/null",
                                        timeout=SCALE_DOWN_S) for n in nodes))
        down_s = time.monotonic() - t0
        for n in nodes:
            self.assertEqual(n.run(f"{n.rblkadm} status").out, "no rblk devices configured\n")
        log(f"FIGURE scale {self.KERNEL}: " + json.dumps(
            {"resources": count, "nodes": 3, "up_all_s": round(up_s, 1),
             "all_connected_s": round(connected_s, 1), "down_all_s": round(down_s, 1)}))
        self.assertLess(down_s, SCALE_DOWN_S)


if __name__ == "__main__":
    unittest.main()
