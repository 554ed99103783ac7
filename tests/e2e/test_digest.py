# SPDX-License-Identifier: GPL-2.0
"""The data digest (data-digest: crc32c) against data corrupted on the link.

Node a (n1, node id 1) and node b (n2, node id 2) replicate r0 with
``data-digest: crc32c``.  a has the lower id, so a dials b; a's topology
file gives b's address as a's own IP on the link at RELAY_BASE_PORT, where
tests/e2e/digest_relay.py listens on a and relays every connection to b's
real listener (from a's IP, which b accepts).  The relay copies the packets
unchanged until it is armed; then it flips one bit of the data of exactly
one application DATA packet (never its header or fixed part), once.

test_1: a, primary, writes a known pattern with dd (oflag=direct); the
relay corrupts one of those writes on its way to b: b does not write it,
logs one line with the sector and both digests, drops the connection; a's
write does not fail; a marks the write out of sync for b, reconnects (the
relay passes the new connection unchanged), and the resync repairs it: the
data areas of both backing disks are identical at the end.

test_2: a with the digest and b without refuse each other's handshake with
RBLK_REJECT_DIGEST (the relay records the reason on the wire), each logs
"handshake refused: data digest mismatch" and shows it as the peer's
last_error; with the same setting again they connect.

One cluster, on one kernel in `make check` (ONE_KERNEL: the CI budget),
on both in `make soak`.
"""
import json
import os
import re
import shlex
import time
import unittest

from e2elib import (BASE_PORT, E2E, MINOR, RES, ClusterTest, adm, disk_sha256, in_parallel,
                    log, peer_of, per_kernel, short, status, topology, wait_until, write_conf)
import rblkpeer

RELAY_PY = os.path.join(E2E, "digest_relay.py")
RELAY_BASE_PORT = 7900          # a dials b at RELAY_BASE_PORT + a's id, on a's own IP
ARM = "/tmp/rblk-relay-arm"     # on a: the relay corrupts one DATA once this exists
PATTERN = "/tmp/rblk-digest-pattern"
PATTERN_MIB = 8
SEEK_MIB = 16
MISMATCH = re.compile(rf"rblk{MINOR}: peer (\d+): connection lost: bad DATA digest at sector "
                      r"(\d+): ([0-9a-f]{8}), computed ([0-9a-f]{8}) \(-74\)")


def with_digest(text, digest):
    """The topology with data-digest: `digest` (None: the line left out)."""
    if digest is None:
        return text
    return text.replace(f"    minor: {MINOR}\n", f"    minor: {MINOR}\n    data-digest: {digest}\n")


@per_kernel
class Digest(ClusterTest):
    # on one kernel in make check (CI budget), on both in make soak
    ONE_KERNEL = {"*": "6.12"}
    DISK_MIB = 128
    TIMEOUT = 1200

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        a, b = cls.pair.nodes
        for n in (a, b):
            n.insmod()
        cls.relay = None
        cls.start_relay()
        cls.write_confs("crc32c", "crc32c")
        cls.pair.bring_up()
        cls.pair.make_primary(a)

    @classmethod
    def tearDownClass(cls):
        if cls.relay is not None and not cls.relay.done:
            cls.relay.kill()
        super().tearDownClass()

    @classmethod
    def start_relay(cls):
        a, b = cls.pair.nodes
        cmd = ["/usr/bin/python3", "-u", RELAY_PY,
               "--listen", f"{a.ip_for(b)}:{RELAY_BASE_PORT + a.id}",
               "--target", f"{b.ip_for(a)}:{BASE_PORT + a.id}",
               "--source", a.ip_for(b), "--arm-file", ARM]
        log(f"[{a.name}]$ {' '.join(shlex.quote(c) for c in cmd)}")
        a.run(f"rm -f {ARM}", quiet=True)
        cls.relay = a.spawn(cmd, timeout=3600)
        wait_until(lambda: b"relay: listening" in cls.relay.stderr or cls.relay.done, 60,
                   "the relay to listen")
        assert not cls.relay.done, f"relay ended: {bytes(cls.relay.stderr).decode()}"

    @classmethod
    def write_confs(cls, digest_a, digest_b):
        """a's file: b behind the relay; b's file: the plain topology."""
        a, b = cls.pair.nodes
        text = topology((a, b))
        text_a = text.replace(f"address: {b.ip_for(a)}:{BASE_PORT}",
                              f"address: {a.ip_for(b)}:{RELAY_BASE_PORT}")
        assert text_a != text
        write_conf(a, with_digest(text_a, digest_a))
        write_conf(b, with_digest(text, digest_b))

    def relay_events(self):
        text = bytes(self.relay.stdout).decode(errors="replace")
        return [json.loads(line) for line in text.split("\n")[:-1] if line.strip()]

    def dmesg(self, node):
        return node.run("dmesg", quiet=True).out

    def test_1_corrupted_write_not_written_then_resynced(self):
        a, b = self.pair.nodes
        for s in self.pair.wait_connected():
            self.assertEqual(s["data_digest"], "crc32c", short(s))
        human = adm(a, f"status {RES}", quiet=True).out
        self.assertIn("data-digest:crc32c", human)
        accepted0 = sum(1 for e in self.relay_events() if e["event"] == "accepted")
        self.assertGreaterEqual(accepted0, 1, "a's connection does not go through the relay")

        # a known pattern (8 MiB of seeded random bytes), written by a
        a.run(f"python3 -c 'import random,sys; r=random.Random(1234); "
              f"sys.stdout.buffer.write(r.randbytes({PATTERN_MIB} << 20))' > {PATTERN}",
              quiet=True)
        a.run(f"touch {ARM}", quiet=True)
        t0 = time.monotonic()
        r = a.run(f"dd if={PATTERN} of=/dev/rblk{MINOR} bs=64k seek={SEEK_MIB * 16} "
                  f"oflag=direct conv=fsync status=none", check=False, timeout=600)
        log(f"dd on a: rc {r.rc} in {time.monotonic() - t0:.1f} s")
        self.assertEqual(r.rc, 0, f"a's write failed: {r.err}")

        flips = [e for e in self.relay_events() if e["event"] == "flipped"]
        self.assertEqual(len(flips), 1, self.relay_events())
        flip = flips[0]
        log(f"relay flipped byte {flip['offset']} of DATA at sector {flip['sector']} "
            f"({flip['data_bytes']} bytes, digest {flip['data_digest']:08x})")
        self.assertFalse(flip["dp_flags"] & rblkpeer.DP_RESYNC)
        lo, hi = SEEK_MIB << 11, (SEEK_MIB + PATTERN_MIB) << 11
        self.assertTrue(lo <= flip["sector"] < hi, flip)

        # b: one line with the sector and both digests
        lines = wait_until(lambda: MISMATCH.findall(self.dmesg(b)), 30,
                           "b's digest mismatch line")
        self.assertEqual(len(lines), 1, lines)
        peer, sector, sent, computed = lines[0]
        self.assertEqual(int(peer), a.id)
        self.assertEqual(int(sector), flip["sector"])
        self.assertEqual(int(sent, 16), flip["data_digest"])
        self.assertNotEqual(sent, computed)
        self.assertNotIn("bad DATA digest", self.dmesg(a))

        # the connection dropped and came back (a new one through the relay),
        # the resync repaired the block
        wait_until(lambda: sum(1 for e in self.relay_events() if e["event"] == "accepted") >
                   accepted0, 60, "a to reconnect through the relay")
        sts = self.pair.wait_connected(timeout_s=180)
        pb = peer_of(sts[1], a)
        self.assertIn("bad DATA digest", pb.get("last_error") or "", short(sts[1]))
        wait_until(lambda: all(not peer_of(status(n), self.pair.other(n))
                               .get("out_of_sync_bytes") for n in (a, b)), 120,
                   "no block out of sync")
        self.assertEqual(len([e for e in self.relay_events() if e["event"] == "flipped"]), 1)

        sha_a, sha_b = in_parallel(lambda: disk_sha256(a), lambda: disk_sha256(b))
        self.assertEqual(sha_a, sha_b, "backing disks differ after the resync")
        # and they hold the pattern
        got = a.run(f"dd if=/dev/rblk{MINOR} bs=1M skip={SEEK_MIB} count={PATTERN_MIB} "
                    f"iflag=direct status=none | sha256sum", quiet=True).out.split()[0]
        want = a.run(f"sha256sum < {PATTERN}", quiet=True).out.split()[0]
        self.assertEqual(got, want)

    def test_2_one_side_without_digest_refused(self):
        a, b = self.pair.nodes
        self.pair.wait_connected()
        n_rejects = len([e for e in self.relay_events() if e["event"] == "reject"])
        dm0 = {n.name: self.dmesg(n).count("handshake refused: data digest mismatch")
               for n in (a, b)}
        for n in (a, b):
            if status(n)["role"] == "primary":
                adm(n, f"secondary {RES}")
        for n in (a, b):
            adm(n, f"down {RES}")
        self.write_confs("crc32c", None)
        for n in (a, b):
            adm(n, f"up {RES}")
        self.assertEqual(status(a)["data_digest"], "crc32c")
        self.assertEqual(status(b)["data_digest"], "none")

        def refused():
            pa, pb = peer_of(status(a), b), peer_of(status(b), a)
            return (pa["conn_state"] != "connected" and pb["conn_state"] != "connected" and
                    "data digest mismatch" in (pa.get("last_error") or "") and
                    "data digest mismatch" in (pb.get("last_error") or "") and (pa, pb))
        pa, pb = wait_until(refused, 60, "both sides to refuse for the data digest")
        log(f"a: {pa['last_error']!r}; b: {pb['last_error']!r}")
        self.assertIn("local crc32c, peer none", pa["last_error"])
        self.assertIn("local none, peer crc32c", pb["last_error"])
        for n in (a, b):
            wait_until(lambda n=n: self.dmesg(n).count(
                "handshake refused: data digest mismatch") > dm0[n.name], 30,
                f"{n.name}'s handshake refused line")
        rejects = [e for e in self.relay_events() if e["event"] == "reject"][n_rejects:]
        self.assertTrue(rejects, "no HELLO_REJECT on the wire")
        self.assertEqual({e["reason"] for e in rejects},
                         {rblkpeer.REJECT_REASONS["DIGEST"]}, rejects)

        # the same setting again: they connect
        adm(b, f"down {RES}")
        self.write_confs("crc32c", "crc32c")
        adm(b, f"up {RES}")
        self.pair.wait_connected(timeout_s=120)


if __name__ == "__main__":
    unittest.main()
