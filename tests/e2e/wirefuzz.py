#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""wirefuzz: a fake rblk peer that mutates valid protocol exchanges.

It takes the place of one node of a resource towards a real rblk.ko node,
like rblkpeer.py (whose codec and handshake it uses), listens for the node
(our node id is the higher one) and keeps accepting its reconnects until it
has sent --packets packets.  In each session it does the handshake and then
behaves as a secondary that answers everything (PING_ACK, ROLE_REPLY,
BEHIND_ACK, ACK for every write and resync write) and keeps up to --window
PINGs of its own in flight, so that packets flow both ways at the link's
pace.  Now and then (--rate: the chance that a packet is mutated) one
packet is broken instead:

- header: bad magic, version, command (any value), flags, reserved field,
  id (an ACK or PING_ACK for an id never sent), length shorter or longer
  than the payload, a length beyond any packet;
- payload: cut short, extended, bytes flipped, replaced by random bytes;
- sequence: the same ACK twice, a packet the state does not allow (DATA,
  TRIM or FLUSH from a secondary, STATE claiming primary, ROLE_REQ, UUIDS,
  BITMAP or OUTDATE in the data phase, HELLO again), a pause of up to
  --max-pause-s seconds, the connection closed half-way through a packet;
- handshake (one session in --hs-rate): a mutated HELLO, AUTH_CHALLENGE,
  AUTH_RESPONSE (with --secret-file) or UUIDS.

The node must close the connection with one log line (or tolerate the
packet where the protocol allows it: a pause, a reordered ACK); wirefuzz
then waits for its reconnect.  Deterministic choices for a seed (the
timing is not); the seed is printed.

Output: progress on stderr; one JSON line on stdout:
{"seed", "packets", "sessions", "mutations": {kind: n}, "closed_by_node",
 "tolerated", "handshake_tolerated", "received": n, "seconds", "error"?}.  Exit status 0
when the line was printed, 2 on bad usage.
"""
import argparse
import hmac
import json
import os
import random
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rblkpeer  # noqa: E402
from rblkpeer import (ACK, AUTH_CHALLENGE, AUTH_RESPONSE, BEHIND, BEHIND_ACK, BITMAP, DATA, FLUSH, HDR, HELLO, MAGIC,  # noqa: E402
                      MAX_PAYLOAD, OUTDATE, P_DATA, P_TRIM, PING, PING_ACK, ROLE_REPLY,
                      ROLE_REQ, ROLES, STATE, TRIM, UUIDS, VERSION, Closed, Link,
                      ProtocolError, ack_payload, encode_hello, state_payload)

HEADER_KINDS = ("magic", "version", "command", "flags", "reserved", "id", "len-short",
                "len-long", "len-huge")
PAYLOAD_KINDS = ("cut", "extend", "flip", "random")
SEQUENCE_KINDS = ("ack-twice", "data-from-secondary", "trim-from-secondary",
                  "flush-from-secondary", "state-primary", "role-req", "uuids", "bitmap",
                  "outdate", "hello-again", "pause", "half-packet")
MUTATIONS = HEADER_KINDS + PAYLOAD_KINDS + SEQUENCE_KINDS


def raw(cmd, payload=b"", rid=0, version=VERSION, magic=MAGIC, flags=0, reserved=0,
        length=None):
    """A packet with every header field chosen."""
    return HDR.pack(magic, version, cmd, flags, len(payload) if length is None else length,
                    reserved, rid) + payload


class Fuzzer:
    def __init__(self, args, log):
        self.args, self.log = args, log
        self.rng = random.Random(args.seed)
        self.packets = 0
        self.received = 0
        self.sessions = 0
        self.mutations = {}
        self.closed_by_node = 0
        self.tolerated = 0
        self.handshake_tolerated = 0
        self.pending = bytearray()

    # -- sending: packets collect in self.pending, flush() sends them at once
    def send_raw(self, link, data):
        self.pending += data
        self.packets += 1

    def flush(self, link):
        if not self.pending:
            return
        data, self.pending = bytes(self.pending), bytearray()
        try:
            link.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as e:
            link._close_seen(f"send: {e.strerror or e}")

    def send(self, link, cmd, payload=b"", rid=0):
        """A well-formed packet, or (with --rate) a mutation of it."""
        if self.rng.random() < self.args.rate:
            return self.mutate(link, cmd, payload, rid)
        self.send_raw(link, raw(cmd, payload, rid))
        return None

    def mutate(self, link, cmd, payload, rid):
        """Send a broken variant of (cmd, payload, rid); returns its kind."""
        r = self.rng
        kind = r.choice(MUTATIONS)
        self.mutations[kind] = self.mutations.get(kind, 0) + 1
        p = payload
        if kind == "magic":
            data = raw(cmd, p, rid, magic=MAGIC ^ r.randrange(1, 1 << 32))
        elif kind == "version":
            data = raw(cmd, p, rid, version=r.choice([0, 2, 255]))
        elif kind == "command":
            data = raw(r.randrange(256), p, rid)
        elif kind == "flags":
            data = raw(cmd, p, rid, flags=r.randrange(1, 1 << 16))
        elif kind == "reserved":
            data = raw(cmd, p, rid, reserved=r.randrange(1, 1 << 32))
        elif kind == "id":
            data = raw(cmd, p, r.randrange(1 << 64))
        elif kind == "len-short":   # the rest of the payload is read as a header
            pad = p or os.urandom(r.randrange(1, 64))
            data = raw(cmd, pad, rid, length=r.randrange(len(pad)))
        elif kind == "len-long":    # the next packets are read as this payload
            data = raw(cmd, p, rid, length=len(p) + r.randrange(1, 4096))
        elif kind == "len-huge":
            data = raw(cmd, p, rid, length=MAX_PAYLOAD + r.randrange(1, 1 << 20))
        elif kind == "cut":
            data = raw(cmd, p[:r.randrange(len(p))] if p else b"\xff", rid)
        elif kind == "extend":
            data = raw(cmd, p + bytes(r.randrange(1, 4096)), rid)
        elif kind == "flip":
            b = bytearray(p or b"\0")
            for _ in range(r.randrange(1, 4)):
                b[r.randrange(len(b))] ^= 1 << r.randrange(8)
            data = raw(cmd, bytes(b), rid)
        elif kind == "random":
            data = raw(cmd, os.urandom(len(p) or r.randrange(1, 128)), rid)
        elif kind == "ack-twice":
            data = raw(cmd, p, rid) * 2
        elif kind in ("data-from-secondary", "trim-from-secondary", "flush-from-secondary"):
            sector = r.choice([0, 8, r.randrange(1 << 20), (1 << 64) - 8])
            if kind.startswith("data"):
                data = raw(DATA, P_DATA.pack(sector, 0, 0) + bytes([0x6B]) * 4096,
                           r.randrange(1, 1 << 32))
            elif kind.startswith("trim"):
                data = raw(TRIM, P_TRIM.pack(sector, 8, 0), r.randrange(1, 1 << 32))
            else:
                data = raw(FLUSH, b"", r.randrange(1, 1 << 32))
            data = raw(cmd, p, rid) + data
        elif kind == "state-primary":
            data = raw(STATE, state_payload(ROLES["primary"], r.randrange(8)))
        elif kind == "role-req":
            data = raw(ROLE_REQ, state_payload(r.randrange(4), r.randrange(8)),
                       r.randrange(1, 1 << 32))
        elif kind == "uuids":
            data = raw(UUIDS, os.urandom(64))
        elif kind == "bitmap":
            data = raw(BITMAP, struct.pack(">Q", r.randrange(1 << 30)) + os.urandom(4096))
        elif kind == "outdate":
            data = raw(OUTDATE, os.urandom(r.choice([0, 8, 16])))
        elif kind == "hello-again":
            data = raw(HELLO, os.urandom(168))
        elif kind == "pause":
            self.send_raw(link, raw(cmd, p, rid))
            self.flush(link)
            time.sleep(r.uniform(0.1, self.args.max_pause_s))
            return kind
        else:  # half-packet
            whole = raw(cmd, p, rid)
            self.send_raw(link, whole[:r.randrange(1, len(whole))])
            self.flush(link)
            link.sock.shutdown(socket.SHUT_WR)
            return kind
        self.send_raw(link, data)
        return kind

    # -- one connection
    def accept(self, lsock):
        deadline = time.monotonic() + self.args.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([lsock], [], [], left)[0]:
                raise ProtocolError(f"no connection from the node within {self.args.timeout} s")
            c, addr = lsock.accept()
            if addr[0] == self.args.peer:
                return Link(c, lambda m: None)
            c.close()

    def handshake(self, link):
        """rblkpeer's handshake and UUIDS exchange, or (--hs-rate) a broken
        HELLO or UUIDS.  Returns True when the data phase may start."""
        a = self.args
        pkt = link.recv(a.timeout)
        if pkt is None or pkt.cmd != HELLO:
            raise ProtocolError("no HELLO from the node")
        node = pkt.fields
        ours = {"version_min": VERSION, "version_max": VERSION,
                "features": rblkpeer.FEAT_ALL, "node_id": a.node_id,
                "peer_node_id": a.peer_node_id, "size_sectors": node["size_sectors"],
                "block_size": node["block_size"], "role": ROLES["secondary"],
                "disk": rblkpeer.DISKS["up_to_date"], "cluster": node["cluster"],
                "resource": node["resource"]}
        if a.secret is not None:
            ours["features"] |= rblkpeer.FEATURES["AUTH"]
        hello = encode_hello(ours)
        broken = self.rng.random() < a.hs_rate
        step = self.rng.choice(("hello", "auth", "uuids")) if broken else None
        if step == "auth" and a.secret is None:
            step = "hello"
        if step == "hello":
            self.mutate(link, HELLO, hello, 0)
            self.flush(link)
            return False
        self.send_raw(link, raw(HELLO, hello))
        self.flush(link)
        if a.secret is not None and not self.authenticate(link, ours, node, step == "auth"):
            return False
        pkt = link.recv(a.timeout)
        if pkt is None or pkt.cmd != UUIDS:
            raise ProtocolError("no UUIDS from the node")
        theirs = pkt.fields
        u = {"current_uuid": theirs["current_uuid"], "bitmap_uuid": 0,
             "history_uuids": list(theirs["history_uuids"]), "out_of_sync_bytes": 0,
             "uuid_flags": rblkpeer.UF["CONSISTENT"] if theirs["current_uuid"] else 0}
        if broken:
            self.mutate(link, UUIDS, rblkpeer.encode_uuids(u), 0)
            self.flush(link)
            return False
        self.send_raw(link, raw(UUIDS, rblkpeer.encode_uuids(u)))
        self.flush(link)
        return True

    def authenticate(self, link, ours, node, broken):
        """The challenge-response of Documentation/protocol.rst after the
        HELLOs, or (broken) a mutated challenge or answer.  Returns True when
        the node's answer to our challenge was right and we answered."""
        a = self.args
        pkt = link.recv(a.timeout)
        if pkt is None or pkt.cmd != AUTH_CHALLENGE:
            raise ProtocolError("no AUTH_CHALLENGE from the node")
        mine = os.urandom(32)
        answer = rblkpeer.auth_answer(a.secret, pkt.payload, ours["node_id"], node["node_id"],
                                      node["cluster"], node["resource"])
        if broken and self.rng.random() < 0.5:
            self.mutate(link, AUTH_CHALLENGE, mine, 0)
            self.flush(link)
            return False
        self.send_raw(link, raw(AUTH_CHALLENGE, mine))
        if broken:
            self.mutate(link, AUTH_RESPONSE, answer, 0)
            self.flush(link)
            return False
        self.send_raw(link, raw(AUTH_RESPONSE, answer))
        self.flush(link)
        pkt = link.recv(a.timeout)
        if pkt is None or pkt.cmd != AUTH_RESPONSE:
            raise ProtocolError("no AUTH_RESPONSE from the node")
        want = rblkpeer.auth_answer(a.secret, mine, node["node_id"], ours["node_id"],
                                    node["cluster"], node["resource"])
        if not hmac.compare_digest(want, pkt.payload):
            raise ProtocolError("the node's answer to our challenge is wrong")
        return True

    def data_phase(self, link, budget):
        """Answer the node and ping it until the budget of packets is spent
        or the node closes.  A mutation the node tolerates (no close within
        --close-wait-s) is counted as tolerated."""
        a, r = self.args, self.rng
        next_id, inflight = 1, set()
        mutated_at = None
        while self.packets < budget:
            self.flush(link)
            pkt = link.recv(0.0 if len(inflight) < a.window else 0.05)
            if mutated_at is not None and time.monotonic() - mutated_at > a.close_wait_s:
                self.tolerated += 1
                mutated_at = None
            if pkt is None:
                while len(inflight) < a.window and self.packets < budget:
                    rid = next_id
                    next_id += 1
                    inflight.add(rid)
                    kind = self.send(link, PING, b"", rid)
                    if kind and mutated_at is None:
                        mutated_at = time.monotonic()
                continue
            self.received += 1
            if pkt.cmd == PING_ACK:
                inflight.discard(pkt.rid)
                continue
            if pkt.cmd == PING:
                kind = self.send(link, PING_ACK, b"", pkt.rid)
            elif pkt.cmd == ROLE_REQ:
                kind = self.send(link, ROLE_REPLY, ack_payload(0), pkt.rid)
            elif pkt.cmd == BEHIND:
                kind = self.send(link, BEHIND_ACK, pkt.payload, 0)
            elif pkt.cmd in (DATA, FLUSH, TRIM):
                kind = self.send(link, ACK, ack_payload(0), pkt.rid)
            else:
                kind = None
            if kind and mutated_at is None:
                mutated_at = time.monotonic()
        return mutated_at

    def run(self):
        a = self.args
        fam = socket.AF_INET6 if ":" in a.local_ip else socket.AF_INET
        lsock = socket.socket(fam, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind((a.local_ip, a.local_port))
        lsock.listen(4)
        self.log(f"listening on {a.local_ip}:{a.local_port} for {a.peer}, seed {a.seed}")
        deadline = time.monotonic() + a.max_seconds
        try:
            while self.packets < a.packets and time.monotonic() < deadline:
                link = self.accept(lsock)
                self.pending = bytearray()
                self.sessions += 1
                try:
                    if self.handshake(link):
                        self.data_phase(link, a.packets)
                        break       # budget spent with the connection up
                    while link.recv(a.close_wait_s) is not None:
                        pass
                    self.handshake_tolerated += 1  # still open: we close it
                except Closed:
                    self.closed_by_node += 1
                finally:
                    link.sock.close()
                if self.sessions % 50 == 0:
                    self.log(f"{self.sessions} sessions, {self.packets} packets")
        finally:
            lsock.close()


def main(argv=None):
    ap = argparse.ArgumentParser(prog="wirefuzz.py", description=__doc__.split("\n\n")[1])
    ap.add_argument("--node-id", type=int, required=True, help="our node id (the higher)")
    ap.add_argument("--peer-node-id", type=int, required=True, help="the rblk node's id")
    ap.add_argument("--local", required=True, help="our ADDR:PORT to listen on")
    ap.add_argument("--peer", required=True, help="the node's ADDR (only it is accepted)")
    ap.add_argument("--secret-file", help="the resource's shared secret (authenticate)")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--packets", type=int, default=100000, help="packets to send in all")
    ap.add_argument("--rate", type=float, default=0.002, help="chance a packet is mutated")
    ap.add_argument("--hs-rate", type=float, default=0.1,
                    help="chance a session's handshake is mutated")
    ap.add_argument("--window", type=int, default=64, help="our PINGs in flight")
    ap.add_argument("--max-pause-s", type=float, default=1.0)
    ap.add_argument("--close-wait-s", type=float, default=3.0,
                    help="after a mutation: seconds to wait for the node to close")
    ap.add_argument("--timeout", type=float, default=60.0,
                    help="limit of each wait for the node (reconnect, HELLO)")
    ap.add_argument("--max-seconds", type=float, default=3600.0, help="limit of the run")
    args = ap.parse_args(argv)
    if args.node_id <= args.peer_node_id:
        ap.error("--node-id must be above --peer-node-id (wirefuzz listens)")
    args.local_ip, args.local_port = rblkpeer.parse_endpoint(args.local, need_port=True)
    args.secret = None if args.secret_file is None else rblkpeer.read_secret(args.secret_file)
    if args.seed is None:
        args.seed = random.randrange(1 << 31)

    def log(msg):
        print(f"wirefuzz: {msg}", file=sys.stderr, flush=True)

    f = Fuzzer(args, log)
    out = {"seed": args.seed}
    t0 = time.monotonic()
    try:
        f.run()
    except (ProtocolError, OSError) as e:
        out["error"] = f"{type(e).__name__}: {e}"
        log(out["error"])
    out.update(packets=f.packets, received=f.received, sessions=f.sessions,
               closed_by_node=f.closed_by_node, tolerated=f.tolerated,
               handshake_tolerated=f.handshake_tolerated, mutations=f.mutations,
               seconds=round(time.monotonic() - t0, 1))
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
