# SPDX-License-Identifier: GPL-2.0
"""A hostile peer: crafted packets against a real rblk.ko node.

Node a (n1, node id 1) and node b (n2, node id 2) run rblk with resource r0
on a loop device of 4096-byte logical blocks over their virtio disk (the
rig's disks have 512-byte sectors; a 4096-byte block size makes DATA that
is 512-aligned but not block-aligned possible).  The topology file, the same
on both nodes, has a third node "fake" (node id 3, no VM): tests/e2e/
rblkpeer.py, run on b and listening on b's IP on the a-b link at the port a
dials for it (FAKE_BASE_PORT + 1).  a has the lower id, so a connects to it.
b's own dials to node 3 would go to FAKE_BASE_PORT + 2, where nobody
listens; the tests keep b StandAlone towards it anyway, and rblkpeer accepts
only a's IP.

a and b bring r0 up on their fresh loop devices (create-md, up,
new-current-uuid --clear-bitmap on a while the fake peer is not there: a
then counts every block as missing on it).  rblkpeer speaks the generation
UUIDs (feature MD) and claims a's current generation, so that a takes it
as UpToDate, missing nothing, as long as a's metadata records no write it
missed: once it does (a wrote while the fake was dropped), the next test
starts the generations over on the same data (create-md --force on both,
new-current-uuid --clear-bitmap): removing the peer no longer forgets.

Each test brings a and b to the roles it needs with the fake peer not
configured on a, starts
rblkpeer with one scenario, re-adds the fake peer on a with ``rblkadm up``
and checks what rblkpeer reports (one JSON line), the "connection lost"
lines a's kernel printed meanwhile (a's console log), and that b stayed
connected to a throughout.  The last test compares the data areas of both
backing disks.

Resource r0 has a shared secret (secret-file:, the same file on a and b),
so a and b authenticate each other at every connection, and rblkpeer
authenticates with it (--secret-file) in every scenario unless a test says
otherwise: the tests 11d-11f show a fake peer without the secret, with the
wrong one, or replaying a's own answer or challenge refused before any of
its packets counts, and that the secret shows nowhere.

One cluster per kernel; the tests run in the order of their names.
"""
import base64
import json
import os
import random
import re
import shlex
import signal
import subprocess
import sys
import time
import unittest

from e2elib import (CONF, E2E, MINOR, RES, SOAK, ClusterTest, Pair, adm, disk_sha256, dump_md,
                    in_parallel, log, peer_of, per_kernel, short, status, topology, wait_until,
                    write_conf)
import rblkpeer
import rig

FAKE_ID = 3
FAKE = "fake"
FAKE_BASE_PORT = 7800           # the fake listens for a on FAKE_BASE_PORT + a's node id
LOOP = "/dev/loop0"
BLOCK = 4096                    # logical block size of the loop devices
PEER_PY = os.path.join(E2E, "rblkpeer.py")
IDS_FILE = "/tmp/rblkpeer-ids"  # on b: ids for the ack-unsent scenario
FIO_1M = ("fio --output-format=json --name=hostile --filename=/dev/rblk0 --ioengine=libaio "
          "--iodepth=32 --direct=1 --rw=write --bs=1M --size=32M")
WIREFUZZ_PY = os.path.join(E2E, "wirefuzz.py")
WIRE_FUZZ_PACKETS = int(os.environ.get("RBLK_WIRE_FUZZ_PACKETS",
                                       "1000000" if SOAK else "100000"))
WIRE_FUZZ_LIMIT_S = 3600 * 4 if SOAK else 900
WIRE_FUZZ_LONG_PACKETS = int(os.environ.get("RBLK_WIRE_FUZZ_LONG_PACKETS", "10000000"))
WIRE_FUZZ_LONG_LIMIT_S = int(os.environ.get("RBLK_WIRE_FUZZ_LONG_LIMIT_S", str(3600 * 4)))
# each mutation the node does not tolerate costs a reconnect (100 ms of
# backoff, a handshake): a tenth of make check's rate keeps 10M in reach
WIRE_FUZZ_LONG_RATE = float(os.environ.get("RBLK_WIRE_FUZZ_LONG_RATE", "0.0002"))
FIO_VERIFY = ("fio --name=wirefuzz --filename=/dev/rblk0 --ioengine=libaio --iodepth=8 "
              "--direct=1 --rw=randwrite --bs=4k --size=8M --verify=crc32c --verify_fatal=1")
LOST = re.compile(rf"rblk{MINOR}: peer (\d+): connection lost: (.*) \((-?\d+)\)")
SECRET_FILE = "/tmp/rblk-e2e.secret"        # on a and b, mode 0600
WRONG_SECRET_FILE = "/tmp/rblk-e2e-wrong.secret"   # on b, for rblkpeer
REJECT_AUTH_REQUIRED, REJECT_AUTH_FAILED = 17, 19   # enum rblk_reject_reason


def with_secret(text):
    """The topology text with r0's secret-file."""
    return text.replace(f"    minor: {MINOR}\n", f"    minor: {MINOR}\n    secret-file: {SECRET_FILE}\n",
                        1)


def fake_node(ip, witness=False):
    """The topology entry of the fake peer at ip (b's IP on the a-b link,
    or the host's on that link's bridge); a data node (a witness, without
    disk:, is sent no writes; the path is its own)."""
    return (f"      - name: {FAKE}\n"
            f"        node-id: {FAKE_ID}\n"
            f"        address: {ip}:{FAKE_BASE_PORT}\n"
            + ("" if witness else "        disk: /dev/vda\n"))


def fake_of(st):
    """The fake peer's entry in a status object, None if not configured."""
    return next((p for p in st.get("peers", []) if p["peer_node_id"] == FAKE_ID), None)


@per_kernel
class HostilePeer(ClusterTest):
    DISK_MIB = 128
    # make check: every test on 6.12, the core of the harness on the debug
    # kernel (6.1 source, KASAN, lockdep, kmemleak); make soak: all on all
    ONE_KERNEL = {"*": "6.12"}
    # (every scenario starts with the authenticated handshake)
    DEBUG_CORE = ("test_07_data_beyond_the_end",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pair = Pair(cls.c, disk=LOOP)
        a, b = cls.pair.nodes
        # as operator.rst says: 32 random bytes in base64, mode 0600
        cls.secret = base64.b64encode(os.urandom(32)).decode()
        wrong = base64.b64encode(os.urandom(32)).decode()
        text = cls.conf_text()
        for n in (a, b):
            n.run(f"modprobe loop && losetup --sector-size {BLOCK} --direct-io=on {LOOP} "
                  f"{n.disk}")
            n.insmod()
            write_conf(n, text)
            n.run(f"umask 077 && cat > {SECRET_FILE}", input=cls.secret + "\n", quiet=True)
        b.run(f"umask 077 && cat > {WRONG_SECRET_FILE}", input=wrong + "\n", quiet=True)
        cls.pair.bring_up()

    @classmethod
    def fake_ip(cls):
        """Where the fake peer listens: b's IP on the a-b link."""
        a, b = cls.pair.nodes
        return b.ip_for(a)

    @classmethod
    def conf_text(cls, witness=False):
        """The topology file: r0 on a and b with its secret, and the fake."""
        return with_secret(topology(cls.pair.nodes, disk=LOOP)) + fake_node(cls.fake_ip(),
                                                                            witness)

    # -- helpers

    def prepare(self, primary=None, clean=True):
        """Roles for a test: `primary` (a node or None) primary, the other
        secondary; with clean both disks UpToDate (e2elib's ensure: a down
        and up if not).  Then the fake peer is removed from a and b is
        StandAlone towards it, and the clock of the checks starts."""
        a, b = self.pair.nodes
        self.forget_fake_misses()
        if clean:
            self.pair.ensure(primary=primary)
        elif primary is not None:
            self.pair.make_primary(primary)
        else:
            for n in (a, b):
                if status(n)["role"] == "primary":
                    adm(n, f"secondary {RES}")
        if fake_of(status(a)):
            a.run(f"{a.rblkadm} remove-peer --minor {MINOR} --peer-node-id {FAKE_ID}")
        adm(b, f"disconnect {RES} {FAKE}")
        b.run(f"rm -f {IDS_FILE}")
        st = status(a)
        self.assertEqual(peer_of(st, b)["conn_state"], "connected", short(st))
        self.b_reconnects = peer_of(st, b)["reconnects"]
        self.mark = os.path.getsize(a.console_log)

    def forget_fake_misses(self):
        """a's metadata remembers the writes the fake peer missed (its bitmap
        slot tracks a generation) across the peer's removal: re-added, the
        fake would be Outdated and its ROLE_REQ refused.  Start the
        generations over on the same data (identical on a and b): new
        metadata on both (--force), up, new-current-uuid --clear-bitmap."""
        a = self.pair.a
        slots = [s for s in dump_md(a).get("bitmap_slots") or [] if s["peer_node_id"] == FAKE_ID]
        if slots and slots[0].get("bitmap_uuid") not in (None, "0" * 16):
            log(f"a's metadata: the fake peer missed writes since {slots[0]}: new metadata")
            self.pair.down()
            self.pair.bring_up(force=True)

    def console(self):
        """a's console output since prepare()."""
        with open(self.pair.a.console_log, errors="replace") as f:
            f.seek(self.mark)
            return f.read()

    def lost(self):
        """a's "connection lost" lines since prepare(): [(peer, reason, errno)]."""
        return [(int(m.group(1)), m.group(2), int(m.group(3)))
                for m in LOST.finditer(self.console())]

    def fake_connected(self):
        st = status(self.pair.a)
        return (fake_of(st) or {}).get("conn_state") == "connected" and fake_of(st)

    def run_fake(self, scenario, *opts, during=None, timeout=90, handshake_ok=True,
                 secret=SECRET_FILE):
        """Run rblkpeer.py SCENARIO on b, listening for a, authenticating
        with the secret in file `secret` (None: without); add the fake peer
        to a again (rblkadm up: a connects at once); call during(job) while
        it runs; return rblkpeer's JSON outcome (its handshake must succeed
        unless handshake_ok is false)."""
        a, b = self.pair.nodes
        cmd = ["/usr/bin/python3", "-u", PEER_PY, "--node-id", str(FAKE_ID), "--peer-node-id",
               str(a.id), "--local", f"{b.ip_for(a)}:{FAKE_BASE_PORT + a.id}", "--peer",
               a.ip_for(b), "--timeout", "60", scenario, *opts]
        if secret is not None:
            cmd[-1 - len(opts):-1 - len(opts)] = ["--secret-file", secret]
        log(f"[{b.name}]$ {' '.join(shlex.quote(c) for c in cmd)}")
        job = b.spawn(cmd, timeout=timeout)
        try:
            wait_until(lambda: b"listening" in job.stderr or job.done, 60, "rblkpeer to listen")
            adm(a, f"up {RES}")
            if during is not None:
                during(job)
            res = job.wait(timeout=timeout + 30)
        finally:
            if not job.done:
                job.kill()
        self.assertEqual(res.rc, 0, f"rblkpeer failed:\n{res.out}\n{res.err}")
        out = json.loads(res.out.strip().splitlines()[-1])
        log(f"rblkpeer {scenario}: handshake {out['handshake']}, violation "
            f"{out.get('violation')!r}, closed_by_node {out['closed_by_node']} after "
            f"{out['after_s']} s, role replies {out.get('role_replies')}, received "
            f"{out.get('received_counts')}; a's lines: {self.lost()}")
        if handshake_ok:
            self.assertEqual(out["handshake"], "ok", out)
        self.assertNotIn("error", out, out)
        return out

    def assert_b_stayed(self):
        """b connected to a all along: same reconnect count, no line about it."""
        a, b = self.pair.nodes
        p = peer_of(status(a), b)
        self.assertEqual(p["conn_state"], "connected", p)
        self.assertEqual(p["reconnects"], self.b_reconnects, "b reconnected meanwhile")
        self.assertNotIn(f"rblk{MINOR}: peer {b.id}:", self.console())

    def assert_dropped(self, out, *reasons):
        """a closed the fake peer's connection after the violation and logged
        exactly one "connection lost" line for it, naming one of reasons;
        returns that reason."""
        self.assertIsNotNone(out.get("violation"), out)
        self.assertTrue(out["closed_by_node"],
                        f"a kept the connection {out['violation']!r} broke: {out}")
        lines = wait_until(lambda: [ln for ln in self.lost() if ln[0] == FAKE_ID], 10,
                           "a's 'connection lost' line for the fake peer")
        self.assertEqual(len(lines), 1, lines)
        self.assertTrue(any(r in lines[0][1] for r in reasons),
                        f"reason {lines[0][1]!r} names none of {reasons}")
        self.assert_b_stayed()
        return lines[0][1]

    def block_sha(self, sector):
        """sha256 of the logical block holding `sector` on a's backing device."""
        a = self.pair.a
        return a.run(f"dd if={LOOP} bs={BLOCK} skip={sector * 512 // BLOCK} count=1 "
                     f"iflag=direct status=none | sha256sum", quiet=True).out.split()[0]

    def assert_grant_then_dropped(self, scenario, *reasons):
        """The fake peer is granted primary, then breaks a rule; a writes
        nothing from it (its first block unchanged; the last test compares
        whole disks)."""
        before = self.block_sha(0)
        out = self.run_fake(scenario)
        self.assertTrue(out.get("granted"), f"ROLE_REQ refused: {out}")
        self.assertEqual(self.block_sha(0), before, f"a wrote the fake peer's DATA: {out}")
        self.assert_dropped(out, *reasons)

    # -- tests

    def test_00_codec_and_handshake(self):
        """rblkpeer's codec agrees with rblk_protocol.h; its handshake
        (generation UUIDs included) is accepted: a shows it connected,
        secondary, UpToDate, and a disconnect by a closes it without a
        protocol error."""
        self.assertEqual(rblkpeer.check_header(), [])
        a = self.pair.a
        self.assertEqual(status(a)["logical_block_size_bytes"], BLOCK)
        self.prepare(primary=None)

        def during(job):
            p = wait_until(self.fake_connected, 30, "a to show the fake peer connected")
            self.assertEqual((p["peer_role"], p["peer_disk_state"]), ("secondary", "up_to_date"))
            adm(a, f"disconnect {RES} {FAKE}")
        out = self.run_fake("handshake", "--hold", "60", during=during)
        self.assertTrue(out["closed_by_node"], out)
        self.assertEqual(out["node_hello"]["block_size"], BLOCK)
        self.assertTrue(out["node_hello"]["features"] & rblkpeer.FEATURES["MD"], out)
        # a demands authentication, and its answer to the fake's challenge is right
        self.assertTrue(out["node_hello"]["features"] & rblkpeer.FEATURES["AUTH"], out)
        self.assertEqual(out["node_auth"], "ok", out)
        self.assertIn("CONSISTENT", out["node_uuids"]["flags"], out)
        self.assertNotEqual(out["node_uuids"]["current_uuid"], 0, out)
        self.assertEqual(self.lost(), [])
        self.assert_b_stayed()

    def test_01_data_from_a_secondary(self):
        """(b) b primary; the fake peer, secondary, sends DATA: "not our
        primary", and a writes nothing."""
        self.prepare(primary=self.pair.b)
        before = self.block_sha(0)
        out = self.run_fake("data-not-primary")
        self.assertEqual(self.block_sha(0), before, f"a wrote DATA of a secondary: {out}")
        self.assert_dropped(out, "not our primary")

    def test_02_state_primary_without_grant(self):
        """(c) Nobody primary; the fake peer announces primary with STATE
        without a ROLE_REQ: "without a grant"."""
        self.prepare(primary=None)
        self.assert_dropped(self.run_fake("state-primary"), "without a grant")

    def test_03_unexpected_ping_ack(self):
        """(e) A PING_ACK for a ping a never sent: "unexpected"."""
        self.prepare(primary=None)
        self.assert_dropped(self.run_fake("ping-ack-unexpected"), "unexpected")

    def test_04_unexpected_role_reply(self):
        """(e) A ROLE_REPLY for a ROLE_REQ a never sent: "unexpected"."""
        self.prepare(primary=None)
        self.assert_dropped(self.run_fake("role-reply-unexpected"), "unexpected")

    def test_05_second_ack_for_one_write(self):
        """a primary writes 4 MiB with dd; the fake peer acknowledges the
        first write twice: "unknown request"; dd completes."""
        a = self.pair.a
        self.prepare(primary=a)

        def during(job):
            wait_until(self.fake_connected, 30, "a to show the fake peer connected")
            a.run("dd if=/dev/urandom of=/dev/rblk0 bs=1M count=4 seek=40 oflag=direct",
                  timeout=120)
        out = self.run_fake("ack-twice", "--hold", "60", during=during)
        self.assert_dropped(out, "unknown request")

    def test_06_role_req_while_peer_primary(self):
        """(d) b primary; the fake peer's ROLE_REQ is refused with EBUSY and
        the connection stays (a shows it connected and secondary over more
        than a ping interval, until a disconnects it: no protocol error)."""
        a = self.pair.a
        self.prepare(primary=self.pair.b, clean=False)

        def during(job):
            m = wait_until(lambda: re.search(rb"ROLE_REPLY to ROLE_REQ \d+: status (\d+)",
                                             job.stderr) or job.done, 30,
                           "the ROLE_REPLY to the fake peer")
            if m is True:
                self.fail(f"rblkpeer ended: {job.wait().err}")
            self.assertEqual(int(m.group(1)), 16, "a's answer to a ROLE_REQ while b is primary")
            for _ in range(2):
                p = self.fake_connected()
                self.assertTrue(p, "a dropped the fake peer after its ROLE_REQ")
                self.assertEqual(p["peer_role"], "secondary", p)
                time.sleep(1.5)
            adm(a, f"disconnect {RES} {FAKE}")
        out = self.run_fake("role-req", "--hold", "60", during=during)
        self.assertEqual(out["role_replies"], [16], out)
        self.assertTrue(out["closed_by_node"], out)
        self.assertEqual(self.lost(), [])
        self.assert_b_stayed()

    def test_07_data_beyond_the_end(self):
        """(d) Nobody primary; the fake peer is granted primary, then sends
        DATA across the end of the device: "bad DATA"."""
        self.prepare(primary=None, clean=False)
        self.assert_grant_then_dropped("data-beyond-end", "bad DATA")

    def test_08_trim_beyond_the_end(self):
        """(d) Granted primary, TRIM across the end of the device: "bad
        TRIM"."""
        self.prepare(primary=None, clean=False)
        self.assert_grant_then_dropped("trim-beyond-end", "bad TRIM")

    def test_09_misaligned_data(self):
        """(d) Granted primary, DATA of 512 bytes at sector 1 (the block
        size is 4096): "bad DATA"."""
        self.prepare(primary=None, clean=False)
        self.assert_grant_then_dropped("data-misaligned", "bad DATA")

    def test_10_second_role_req(self):
        """(d) Granted primary, then a second ROLE_REQ: "ROLE_REQ"."""
        self.prepare(primary=None, clean=False)
        self.assert_grant_then_dropped("role-req-twice", "ROLE_REQ")

    def test_11_acks_for_requests_not_sent(self):
        """(a) a primary runs fio (1 MiB writes, iodepth 32); the fake peer,
        secondary, stops reading so that a's queue to it backs up, then
        acknowledges the highest id a allocated first, down to 1: "not
        sent" (an id never allocated would be "unknown request").  fio
        completes; a records the fake peer Outdated."""
        a, b = self.pair.nodes
        self.prepare(primary=a)
        got = {}

        def during(job):
            wait_until(self.fake_connected, 30, "a to show the fake peer connected")
            fio = a.spawn(FIO_1M, timeout=600)
            try:
                last = [None]

                def stalled():
                    n = (fake_of(status(a)) or {}).get("inflight", 0)
                    ok = n >= 8 and n == last[0]
                    last[0] = n
                    return ok and n
                n = wait_until(stalled, 30, "a's requests to the fake peer to back up")
                got["allocated"] = n
                ids = " ".join(str(i) for i in range(n, 0, -1))
                b.run(f"echo {ids} > {IDS_FILE}.new && mv {IDS_FILE}.new {IDS_FILE}", quiet=True)
                got["fio"] = fio.wait(timeout=600)
            finally:
                if not fio.done:
                    fio.kill()
        out = self.run_fake("ack-unsent", "--ids-file", IDS_FILE, during=during)
        log(f"ids 1..{got['allocated']} allocated to the fake peer, acked from the highest")
        reason = self.assert_dropped(out, "not sent", "unknown request")
        if got["allocated"] >= 16:       # far more than the socket buffers hold
            self.assertIn("not sent", reason)
        res = got["fio"]
        self.assertEqual(res.rc, 0, f"fio failed:\n{res.out[-2000:]}\n{res.err[-2000:]}")
        job = json.loads(res.out[res.out.index("{"):])["jobs"][0]
        self.assertEqual(job["error"], 0, job)
        self.assertEqual(fake_of(status(a))["peer_disk_state"], "outdated")

    def test_11b_resync_packets_from_a_non_source(self):
        """(e) The packets of a resync from a peer that is not the node's
        sync source: resync DATA ("not our sync source", nothing written),
        a resync end with a made-up generation (refused: a's current UUID
        unchanged), a new generation announced by a peer that is not a's
        primary (refused: nothing adopted, nobody outdated), a BITMAP block
        after the handshake ("unexpected"), who is behind told by a peer
        that is not a's primary (nothing recorded, then a malformed one
        closes the connection), a peer saying it holds the writes of a's
        lost disk although a has its disk and is not primary (ignored,
        then a malformed one closes the connection)."""
        a, b = self.pair.nodes
        self.prepare(primary=None)
        before = self.block_sha(0)
        uuid_before = status(a).get("current_uuid")
        self.assert_dropped(self.run_fake("resync-data-not-source"), "not our sync source")
        self.assertEqual(self.block_sha(0), before, "a wrote resync DATA of a non-source")
        self.prepare(primary=None, clean=False)
        self.assert_dropped(self.run_fake("resync-done-not-target"), "UUIDS")
        st = status(a)
        self.assertEqual(st.get("current_uuid"), uuid_before,
                         f"a adopted a generation from a non-source: {short(st)}")
        self.assertEqual(st["disk_state"], "up_to_date", short(st))
        self.prepare(primary=None, clean=False)
        self.assert_dropped(self.run_fake("new-current-not-primary"), "UUIDS")
        st = status(a)
        self.assertEqual(st.get("current_uuid"), uuid_before,
                         f"a adopted a generation from a non-primary: {short(st)}")
        self.assertEqual((st["disk_state"], peer_of(st, b)["peer_disk_state"]),
                         ("up_to_date", "up_to_date"),
                         f"a or its view of b outdated by a non-primary: {short(st)}")
        self.prepare(primary=None, clean=False)
        self.assert_dropped(self.run_fake("behind-not-primary"), "behind")
        st = status(a)
        self.assertEqual((st["disk_state"], peer_of(st, b)["peer_disk_state"]),
                         ("up_to_date", "up_to_date"),
                         f"a's view of b outdated by a non-primary's BEHIND: {short(st)}")
        self.prepare(primary=None, clean=False)
        self.assert_dropped(self.run_fake("bitmap-in-data-phase"), "unexpected")
        self.prepare(primary=None, clean=False)
        self.assert_dropped(self.run_fake("lost-disk-not-primary"), "UUIDS")
        ignored = [ln for ln in a.run("dmesg", quiet=True).out.splitlines()
                   if "0badd15c00000001" in ln]
        st = status(a)
        log(f"a after a peer claimed to hold its lost disk's writes: {short(st)}; {ignored}")
        self.assertTrue(ignored and all("is not lost: ignored" in ln for ln in ignored), ignored)
        self.assertEqual((st.get("current_uuid"), st["disk_state"]),
                         (uuid_before, "up_to_date"), short(st))
        self.assert_b_stayed()

    def test_11h_reads(self):
        """Reads over the wire: the fake peer (no role needed) reads a's
        first block and gets exactly what a's disk holds, a counting one
        served read; a READ across the end of the device ("bad READ"); a
        READ_REPLY for a READ a never sent ("unknown request"); 4000 READs
        whose replies the fake peer does not read ("READ replies pile
        up")."""
        a = self.pair.a
        self.prepare(primary=None, clean=False)
        out = self.run_fake("read", "--hold", "1")
        self.assertEqual(out.get("read_status"), 0, out)
        self.assertEqual(out.get("read_sha256"), self.block_sha(0),
                         f"the READ_REPLY's data is not a's first block: {out}")
        served = (fake_of(status(a)) or {}).get("served_reads")
        self.assertEqual(served, 1, f"a's count of reads served to the fake peer: {served}")
        self.prepare(primary=None, clean=False)
        self.assert_dropped(self.run_fake("read-beyond-end"), "bad READ")
        self.prepare(primary=None, clean=False)
        self.assert_dropped(self.run_fake("read-reply-unknown"), "unknown request")
        self.prepare(primary=None, clean=False)
        self.assert_dropped(self.run_fake("read-flood"), "READ replies pile up")

    def test_11c_witness_with_a_disk(self):
        """(f) A peer that a's topology names a witness (no disk:) and that
        connects with a disk is refused (reason WITNESS): a witness is sent
        no writes, so a disk behind it would silently age."""
        a, b = self.pair.nodes
        self.prepare(primary=None)
        write_conf(a, self.conf_text(witness=True))
        try:
            out = self.run_fake("handshake", "--hold", "5", handshake_ok=False)
            self.assertNotEqual(out["handshake"], "ok", out)
            self.assertTrue(fake_of(status(a))["witness"], short(status(a)))
            wait_until(lambda: "configured as a witness, has a disk" in self.console(), 20,
                       "a's refusal of the witness with a disk")
        finally:
            if fake_of(status(a)):
                a.run(f"{a.rblkadm} remove-peer --minor {MINOR} --peer-node-id {FAKE_ID}")
            write_conf(a, self.conf_text())
        self.assert_b_stayed()

    def assert_auth_refused(self, out, reason, message):
        """a refused the fake peer in the handshake with `reason` (enum
        rblk_reject_reason) and `message`: told the fake so, logged one line,
        shows it as the fake's last error, took nothing from it (no
        scenario packet sent, nothing received, a's first block unchanged)
        and keeps trying to connect (Connecting)."""
        a = self.pair.a
        self.assertTrue(out["closed_by_node"], out)
        self.assertEqual(out.get("node_reject", {}).get("reason"), reason, out)
        self.assertEqual(out["node_reject"]["message"], message, out)
        self.assertIsNone(out.get("violation"), out)
        line = f"rblk{MINOR}: peer {FAKE_ID}: handshake refused: {message}"
        wait_until(lambda: line in self.console(), 10, f"a's line {line!r}")
        self.assertEqual(self.console().count(line), 1, self.console())
        self.assertEqual(self.lost(), [])
        p = fake_of(status(a))
        self.assertEqual(p["last_error"], f"refused: {message}", p)
        self.assertEqual(p["conn_state"], "connecting", p)
        self.assertEqual((p["received_writes"], p["received_bytes"]), (0, 0), p)
        self.assert_b_stayed()

    def test_11d_auth_wrong_secret(self):
        """b primary; a fake peer with another secret, that would send DATA
        once connected: a refuses its answer (AUTH_FAILED, "wrong answer")
        and never reads its DATA; the fake finds a's answer wrong too."""
        self.prepare(primary=self.pair.b)
        before = self.block_sha(0)
        out = self.run_fake("data-not-primary", secret=WRONG_SECRET_FILE, handshake_ok=False)
        self.assertEqual(out.get("node_auth"), "wrong", out)
        self.assert_auth_refused(out, REJECT_AUTH_FAILED, "authentication failed: wrong answer")
        self.assertEqual(self.block_sha(0), before, f"a wrote the fake peer's DATA: {out}")

    def test_11e_auth_missing_or_replayed(self):
        """A fake peer that does not authenticate is refused at its HELLO
        (AUTH_REQUIRED); one that sends a's own answer back, or a's own
        challenge back as its challenge, is refused (AUTH_FAILED) although
        a's answers to it are right."""
        self.prepare(primary=None)
        out = self.run_fake("data-not-primary", secret=None, handshake_ok=False)
        self.assertNotIn("node_auth", out)
        self.assert_auth_refused(out, REJECT_AUTH_REQUIRED,
                                 "authentication required: peer has no secret")
        self.prepare(primary=None, clean=False)
        out = self.run_fake("data-not-primary", "--auth", "reflect-answer", handshake_ok=False)
        self.assertEqual(out.get("node_auth"), "ok", out)
        self.assert_auth_refused(out, REJECT_AUTH_FAILED, "authentication failed: wrong answer")
        self.prepare(primary=None, clean=False)
        out = self.run_fake("data-not-primary", "--auth", "reflect-challenge",
                            handshake_ok=False)
        self.assertNotIn("node_auth", out)
        self.assert_auth_refused(out, REJECT_AUTH_FAILED,
                                 "authentication failed: our challenge came back")

    def test_11f_secret_shows_nowhere(self):
        """a and b connected with the secret: status says auth, the secret
        itself appears in no output of rblkadm (status, show, up -n), in
        no kernel message; a secret file readable by others is refused
        (exit 2) and changes nothing."""
        a, b = self.pair.nodes
        self.prepare(primary=None)
        for n in (a, b):
            st = status(n)
            self.assertIs(st["auth"], True, short(st))
            self.assertEqual(peer_of(st, self.pair.other(n))["conn_state"], "connected")
            outs = [adm(n, "-j status").out, adm(n, "status -s").out,
                    n.run(f"{n.rblkadm} show -s").out, adm(n, f"up -n {RES}").out,
                    n.run("dmesg").out]
            for text in outs:
                self.assertNotIn(self.secret, text)
                self.assertNotIn(self.secret[:16], text)
        with open(a.console_log, errors="replace") as f:
            self.assertNotIn(self.secret[:16], f.read())
        a.run(f"chmod 644 {SECRET_FILE}")
        try:
            r = adm(a, f"up {RES}", check=False)
        finally:
            a.run(f"chmod 600 {SECRET_FILE}")
        self.assertEqual(r.rc, 2, r)
        self.assertIn(f"{RES}: secret file {SECRET_FILE}: mode 0644 gives access to group or "
                      "others: chmod 600 it", r.err)
        self.assertNotIn(self.secret[:16], r.out + r.err)
        self.assert_b_stayed()

    def test_11g_wire_fuzz(self):
        """(g) wirefuzz.py as the fake peer, on b: WIRE_FUZZ_PACKETS packets
        of valid exchanges with a mutated one now and then (headers,
        payloads, sequences, handshakes), accepting a's reconnects, while a
        primary writes and verifies with fio (8 MiB rounds of 4 KiB random
        writes checked by crc32c).  fio passes, every mutation that a did
        not tolerate closed the connection, b stayed connected, and test_12
        finds the replicas identical (nothing the fake sent was written)."""
        a, b = self.pair.nodes

        def start(args):
            cmd = ["/usr/bin/python3", "-u", WIREFUZZ_PY] + args + ["--secret-file", SECRET_FILE]
            log(f"[{b.name}]$ {' '.join(shlex.quote(c) for c in cmd)}")
            return b.spawn(cmd, timeout=WIRE_FUZZ_LIMIT_S + 120)
        self.wire_fuzz(start, WIRE_FUZZ_PACKETS, WIRE_FUZZ_LIMIT_S)

    def wire_fuzz(self, start, packets, limit_s, rate=None):
        """The wire fuzzer as the fake peer: start(args) runs wirefuzz.py
        with those arguments and returns its job (rig.Job's done, stderr,
        wait() and kill()); packets in all, within limit_s seconds, each
        mutated with the chance rate (None: wirefuzz's default)."""
        a, b = self.pair.nodes
        self.prepare(primary=a)
        seed = int(os.environ.get("RBLK_SEED", random.randrange(1 << 31)))
        log(f"wirefuzz seed {seed} (RBLK_SEED={seed} repeats it)")
        stop = "/tmp/wirefuzz-stop"
        a.run(f"rm -f {stop}")
        fio = a.spawn(f"while [ ! -e {stop} ]; do {FIO_VERIFY} --randseed=$RANDOM || exit 1; done",
                      timeout=limit_s + 300)
        # a mutated UUIDS may look like a split-brain: a then stops
        # reconnecting to the fake (StandAlone), as it must; the operator's
        # connect brings it back
        standalone = (f"python3 -c 'import json, sys; d = json.load(sys.stdin)[0]; "
                      f"sys.exit(not any(p[\"peer_node_id\"] == {FAKE_ID} and "
                      f"p[\"conn_state\"] == \"standalone\" for p in d[\"peers\"]))'")
        keeper = a.spawn(f"n=0; while [ ! -e {stop} ]; do "
                         f"if {a.rblkadm} -c {CONF} -j status {RES} | {standalone}; then "
                         f"{a.rblkadm} -c {CONF} connect {RES} {FAKE} && n=$((n + 1)); fi; "
                         f"sleep 2; done; echo $n", timeout=limit_s + 300)
        job = start(["--node-id", str(FAKE_ID), "--peer-node-id", str(a.id),
                     "--local", f"{self.fake_ip()}:{FAKE_BASE_PORT + a.id}",
                     "--peer", a.ip_for(b), "--seed", str(seed), "--packets", str(packets),
                     "--max-seconds", str(limit_s)]
                    + (["--rate", str(rate)] if rate is not None else []))
        try:
            wait_until(lambda: b"listening" in job.stderr or job.done, 60, "wirefuzz to listen")
            adm(a, f"up {RES}")
            res = job.wait(timeout=limit_s + 180)
        finally:
            if not job.done:
                job.kill()
            a.run(f"touch {stop}")
        fio_res = fio.wait(timeout=600)
        kept = keeper.wait(timeout=60)
        log(f"a reconnected to the fake after a split-brain verdict {kept.out.strip()} times")
        self.assertEqual(res.rc, 0, f"wirefuzz failed:\n{res.out}\n{res.err[-3000:]}")
        out = json.loads(res.out.strip().splitlines()[-1])
        log(f"FIGURE wirefuzz {self.KERNEL}: {json.dumps(out)}")
        self.assertNotIn("error", out, out)
        self.assertGreaterEqual(out["packets"], packets, out)
        self.assertGreater(out["closed_by_node"], 0, out)
        self.assertEqual(fio_res.rc, 0,
                         f"fio failed:\n{fio_res.out[-2000:]}\n{fio_res.err[-2000:]}")
        self.assert_b_stayed()
        a.run(f"{a.rblkadm} remove-peer --minor {MINOR} --peer-node-id {FAKE_ID}")

    def test_12_replicas_identical(self):
        """After all that, a primary writes 4 MiB more and both backing
        disks are identical: every write of a reached b, and nothing the
        fake peer sent was written."""
        a, b = self.pair.nodes
        self.prepare(primary=a)
        a.run("dd if=/dev/urandom of=/dev/rblk0 bs=1M count=4 seek=80 oflag=direct")
        sha_a, sha_b = in_parallel(lambda: disk_sha256(a, LOOP), lambda: disk_sha256(b, LOOP))
        self.assertEqual(sha_a, sha_b)


class HostJob:
    """A command on the host (here: wirefuzz.py in the cluster's network
    namespace) with the parts of rig.Job that HostilePeer.wire_fuzz uses;
    its output goes to files in log_dir."""

    def __init__(self, argv, log_dir):
        self.argv = argv
        self.out_path = os.path.join(log_dir, "wirefuzz-host.out")
        self.err_path = os.path.join(log_dir, "wirefuzz-host.err")
        self.t0 = time.monotonic()
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         start_new_session=True)

    @property
    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read()

    @property
    def done(self):
        return self.proc.poll() is not None

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait()

    def wait(self, timeout=None):
        rc = self.proc.wait(timeout)
        with open(self.out_path, "rb") as f:
            out = f.read()
        return rig.Result("host", " ".join(self.argv), rc, out, self.stderr, False,
                          time.monotonic() - self.t0)


class WireFuzzLong(HostilePeer):
    """The wire fuzzer's long run (make soak only): wirefuzz.py on the
    host, at the host's speed rather than a guest's, on the a-b link's
    bridge (the rig's "tap" link; the host takes HOST_OCTET on that subnet
    in the cluster's network namespace) as the fake peer of a, while a
    writes and verifies with fio and stays connected to b; then the
    replicas are compared (test_12)."""
    LINK = "tap"
    HOST_OCTET = 9
    SOAK_ONLY = (f"{WIRE_FUZZ_LONG_PACKETS} packets from a fuzzer on the host "
                 "(RBLK_WIRE_FUZZ_LONG_PACKETS)")
    ONLY_KERNEL = "6.12"    # (overrides the ONE_KERNEL it inherits)
    DEBUG_CORE = ()
    TIMEOUT = WIRE_FUZZ_LONG_LIMIT_S + 900    # the class's limit in tests/run

    @classmethod
    def setUpClass(cls):
        if not os.path.exists("/dev/net/tun"):
            raise unittest.SkipTest("no /dev/net/tun for the rig's tap link")
        super().setUpClass()
        a, b = cls.pair.nodes
        br = f"br{a.index}{b.index}"
        subprocess.run(["ip", "-n", cls.c.netns, "addr", "add", f"{cls.fake_ip()}/24", "dev", br],
                       check=True)
        # the secret, for the fuzzer on the host: mode 0600 as on the nodes
        cls.host_secret = os.path.join(cls.c.run_dir, "wirefuzz.secret")
        fd = os.open(cls.host_secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(cls.secret + "\n")

    @classmethod
    def fake_ip(cls):
        a, b = cls.pair.nodes
        return a.ip_for(b).rsplit(".", 1)[0] + f".{cls.HOST_OCTET}"

    def test_1_wire_fuzz_from_the_host(self):
        """WIRE_FUZZ_LONG_PACKETS packets (default 10,000,000) of
        wirefuzz.py from the host, as test_11g does from b, each mutated
        with the chance WIRE_FUZZ_LONG_RATE (default 0.0002)."""
        def start(args):
            argv = ["ip", "netns", "exec", self.c.netns, sys.executable, "-u", WIREFUZZ_PY] + \
                args + ["--secret-file", self.host_secret]
            log(f"[host]$ {' '.join(shlex.quote(c) for c in argv)}")
            return HostJob(argv, self.c.run_dir)
        self.wire_fuzz(start, WIRE_FUZZ_LONG_PACKETS, WIRE_FUZZ_LONG_LIMIT_S,
                       WIRE_FUZZ_LONG_RATE)

    def test_2_replicas_identical(self):
        HostilePeer.test_12_replicas_identical(self)


# WireFuzzLong runs its own two tests only
for _name in unittest.TestLoader().getTestCaseNames(HostilePeer):
    setattr(WireFuzzLong, _name, None)
per_kernel(WireFuzzLong)


if __name__ == "__main__":
    unittest.main()
