#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""rblkpeer: a fake rblk peer that speaks the wire protocol from userspace.

It takes the place of one node of a resource towards a real rblk.ko node,
does the handshake and then plays one scenario: mostly a rule broken on
purpose (an ACK for a request not sent yet, DATA from a peer that is not
primary, a STATE claiming primary without a grant, ...), to see that the
node closes the connection and nothing else happens.  Standard library
only, so it runs in the test rig's guests (host root chroot, python3).

    rblkpeer.py --node-id 3 --peer-node-id 1 --local 10.99.12.2:7801 \\
                --peer 10.99.12.1 data-not-primary
    rblkpeer.py --list                  # the scenarios
    rblkpeer.py --check-header          # codec against kernel/rblk_protocol.h

Who connects follows rblk's rule: of the two node ids the lower connects.
With --node-id above --peer-node-id rblkpeer listens on --local and accepts
one connection from --peer's IP (others are closed, the listener is closed
after the first accepted one, so the node's reconnects are refused); below,
it connects from --local's IP to --peer (IP:PORT).

With --secret-file (the resource's shared secret, one trailing newline
dropped, as rblkadm reads it) our HELLO offers AUTH and, right after the
HELLOs, the challenge-response of Documentation/protocol.rst runs: we
answer the node's challenge (--auth answer) or answer wrongly on purpose
(--auth reflect-answer: the node's own answer to our challenge sent back;
--auth reflect-challenge: the node's challenge sent back as ours), and
check the node's answer to ours (out: node_auth).

The handshake reads the node's HELLO first and answers with one that copies
the node's cluster and resource names, size and logical block size unless
given (--cluster, --resource, --size-sectors, --block-size), with our role
and disk (--role, --disk) and every feature (--features).  With generation
UUIDs (feature MD, on both sides) it reads the node's UUIDS next and answers
with ours (--uuids): by default a copy of the node's current and history
UUIDs, consistent, nothing out of sync (we claim the node's data
generation), or those of just-created metadata (none).  Then it checks
that the node took the connection (a PING of ours is answered) and runs the
scenario.
Throughout, it answers the node's PINGs and ROLE_REQs (status 0) like a
well-behaved secondary; it acknowledges writes only where the scenario says.

Output: progress lines on stderr ("rblkpeer: ..."), and one JSON line on
stdout with the outcome, for example

    {"scenario": "data-not-primary", "handshake": "ok", "closed_by_node": true,
     "after_s": 0.012, "violation": "DATA sector 0, 4096 bytes",
     "received": ["PING_ACK"], ...}

closed_by_node: the node ended the connection (EOF or reset, or a
HELLO_REJECT) after the violation, within --wait-close seconds; after_s:
seconds from sending the violation to noticing the close.  The exit status
is 0 whenever that line was printed, 2 on bad usage.
"""
import argparse
import hashlib
import hmac
import json
import os
import random
import re
import select
import socket
import struct
import sys
import time

# ------------------------------------------------------------------ codec

MAGIC = 0x52424C4B              # "RBLK"
VERSION = 1
SECTOR = 512
MAX_DATA = 1 << 20

FEATURES = {"FLUSH": 1 << 0, "FUA": 1 << 1, "DISCARD": 1 << 2, "WRITE_ZEROES": 1 << 3,
            "REQ_HINTS": 1 << 4, "OUTDATE": 1 << 5, "MD": 1 << 6, "NEW_CURRENT": 1 << 7,
            "RECONCILE": 1 << 8, "BEHIND": 1 << 9, "AUTH": 1 << 10, "DATA_DIGEST": 1 << 11,
            "READ": 1 << 12, "LOST_DISK": 1 << 13}
# AUTH is offered only with a secret, DATA_DIGEST only when configured
FEAT_ALL = sum(v for k, v in FEATURES.items() if k not in ("AUTH", "DATA_DIGEST"))
FEAT_REQUIRED = FEATURES["FLUSH"] | FEATURES["FUA"]

COMMANDS = {"HELLO": 1, "HELLO_REJECT": 2, "DATA": 3, "FLUSH": 4, "TRIM": 5, "ACK": 6,
            "PING": 7, "PING_ACK": 8, "STATE": 9, "ROLE_REQ": 10, "ROLE_REPLY": 11,
            "OUTDATE": 12, "UUIDS": 13, "BITMAP": 14, "BEHIND": 15, "BEHIND_ACK": 16,
            "AUTH_CHALLENGE": 17, "AUTH_RESPONSE": 18, "READ": 19, "READ_REPLY": 20}
(HELLO, HELLO_REJECT, DATA, FLUSH, TRIM, ACK, PING, PING_ACK, STATE, ROLE_REQ, ROLE_REPLY,
 OUTDATE, UUIDS, BITMAP, BEHIND, BEHIND_ACK) = (
    COMMANDS[n] for n in ("HELLO", "HELLO_REJECT", "DATA", "FLUSH", "TRIM", "ACK", "PING",
                          "PING_ACK", "STATE", "ROLE_REQ", "ROLE_REPLY", "OUTDATE", "UUIDS",
                          "BITMAP", "BEHIND", "BEHIND_ACK"))
AUTH_CHALLENGE, AUTH_RESPONSE = COMMANDS["AUTH_CHALLENGE"], COMMANDS["AUTH_RESPONSE"]
READ, READ_REPLY = COMMANDS["READ"], COMMANDS["READ_REPLY"]
ENODATA = 61
CMD_NAMES = {v: k for k, v in COMMANDS.items()}

# enum rblk_role / enum rblk_disk_state (include/uapi/linux/rblk.h)
ROLES = {"secondary": 1, "primary": 2}
DISKS = {"diskless": 0, "inconsistent": 1, "outdated": 2, "unknown": 3, "up_to_date": 4,
         "failed": 5, "consistent": 6}
ROLE_NAMES = {v: k for k, v in ROLES.items()}
DISK_NAMES = {v: k for k, v in DISKS.items()}

REJECT_REASONS = {"VERSION": 1, "FEATURES": 2, "NODE_ID": 3, "CLUSTER": 4, "RESOURCE": 5,
                  "SIZE": 6, "BLOCK_SIZE": 7, "BOTH_PRIMARY": 8, "MALFORMED": 9,
                  "OTHER_PRIMARY": 10, "SPLIT_BRAIN": 11, "UNRELATED": 12, "NEWER_PEER": 13,
                  "RESYNCING": 14, "ASK_PRIMARY": 15, "WITNESS": 16, "AUTH_REQUIRED": 17,
                  "AUTH_UNEXPECTED": 18, "AUTH_FAILED": 19, "DIGEST": 20}

# struct rblk_p_uuids.uuid_flags
UF = {"CONSISTENT": 1 << 0, "CRASHED_PRIMARY": 1 << 1, "PRIMARY": 1 << 2,
      "DISCARD_MY_DATA": 1 << 3, "CLEAR_BITMAP": 1 << 4, "RESYNC_DONE": 1 << 5,
      "UP_TO_DATE": 1 << 6, "NEW_CURRENT": 1 << 7, "RECONCILE": 1 << 8,
      "FOLLOWS_PRIMARY": 1 << 9, "LOST_DISK": 1 << 10}
# struct rblk_p_data.dp_flags: resync data (only from our sync source)
DP_RESYNC = 1 << 6
BITMAP_PAYLOAD = 4104   # struct rblk_p_bitmap: offset + 4 KiB of bits
HISTORY_UUIDS = 4

# Big endian, no implicit padding; the sizes are the static_asserts of
# kernel/rblk_protocol.h (check_header() compares them with the file).
STRUCTS = {
    "rblk_hdr": struct.Struct(">IBBHIIQ"),        # magic version command flags len reserved id
    "rblk_p_hello": struct.Struct(">IIQIIQIBBH64s64s"),
    "rblk_p_reject": struct.Struct(">I60s"),
    "rblk_p_data": struct.Struct(">QII"),         # sector dp_flags data_digest
    "rblk_p_trim": struct.Struct(">QII"),         # sector nr_sectors trim_flags
    "rblk_p_ack": struct.Struct(">II"),           # status pad
    "rblk_p_state": struct.Struct(">BB6s"),       # role disk_state pad
    # current bitmap history[4] out_of_sync_bytes uuid_flags nodes_behind
    "rblk_p_uuids": struct.Struct(">QQ4QQII"),
    "rblk_p_behind": struct.Struct(">II"),        # nodes_behind pad
    "rblk_p_auth_challenge": struct.Struct(">32s"),
    "rblk_p_auth_response": struct.Struct(">32s"),
    "rblk_p_read": struct.Struct(">QII"),         # sector nr_sectors pad
    "rblk_p_read_reply": struct.Struct(">II"),    # status data_digest
    # challenge label responder_node_id verifier_node_id cluster resource
    "rblk_auth_input": struct.Struct(">32s16sII64s64s"),
}
SIZES = {"rblk_hdr": 24, "rblk_p_hello": 168, "rblk_p_reject": 64, "rblk_p_data": 16,
         "rblk_p_trim": 16, "rblk_p_ack": 8, "rblk_p_state": 8, "rblk_p_uuids": 64,
         "rblk_p_behind": 8, "rblk_p_auth_challenge": 32, "rblk_p_auth_response": 32,
         "rblk_auth_input": 184, "rblk_p_read": 16, "rblk_p_read_reply": 8}
for _name, _size in SIZES.items():
    assert STRUCTS[_name].size == _size, (_name, STRUCTS[_name].size, _size)
HDR, P_HELLO, P_REJECT, P_DATA, P_TRIM, P_ACK, P_STATE, P_UUIDS = (
    STRUCTS[n] for n in ("rblk_hdr", "rblk_p_hello", "rblk_p_reject", "rblk_p_data",
                         "rblk_p_trim", "rblk_p_ack", "rblk_p_state", "rblk_p_uuids"))
P_READ, P_READ_REPLY = STRUCTS["rblk_p_read"], STRUCTS["rblk_p_read_reply"]
MAX_PAYLOAD = P_DATA.size + MAX_DATA

HEADER_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "kernel", "rblk_protocol.h")


class ProtocolError(Exception):
    """The node sent something that is not valid rblk (or not expected)."""


def check_header(path=HEADER_FILE):
    """Compare this codec with the C definitions: struct sizes (the
    static_asserts), the magic, the command and feature values.  Returns a
    list of mismatches (empty: all agree)."""
    with open(path) as f:
        text = f.read()
    bad = []
    sizes = dict(re.findall(r"static_assert\(sizeof\(struct (\w+)\) == (\d+)\)", text))
    for name, size in SIZES.items():
        if int(sizes.get(name, -1)) != size:
            bad.append(f"struct {name}: {size} here, {sizes.get(name)} in the header")
    m = re.search(r"#define RBLK_PROTO_MAGIC\s+0x([0-9a-fA-F]+)", text)
    if not m or int(m.group(1), 16) != MAGIC:
        bad.append(f"magic: {MAGIC:#x} here, {m and m.group(1)} in the header")
    cmds = {n: int(v) for n, v in re.findall(r"\bRBLK_P_(\w+)\s*=\s*(\d+)", text)}
    for name, value in COMMANDS.items():
        if cmds.get(name) != value:
            bad.append(f"command {name}: {value} here, {cmds.get(name)} in the header")
    feats = {n: 1 << int(b) for n, b in re.findall(r"#define RBLK_FEAT_(\w+)\s+BIT_ULL\((\d+)\)",
                                                  text)}
    if feats != FEATURES:
        bad.append(f"features: {FEATURES} here, {feats} in the header")
    reasons = {n: int(v) for n, v in re.findall(r"\bRBLK_REJECT_(\w+)\s*=\s*(\d+)", text)}
    for name, value in REJECT_REASONS.items():
        if reasons.get(name) != value:
            bad.append(f"reject reason {name}: {value} here, {reasons.get(name)} in the header")
    flags = {n: 1 << int(b) for n, b in re.findall(r"#define RBLK_UF_(\w+)\s+BIT\((\d+)\)",
                                                  text)}
    if flags != UF:
        bad.append(f"uuid flags: {UF} here, {flags} in the header")
    return bad


def cmd_name(cmd):
    return CMD_NAMES.get(cmd, f"CMD{cmd}")


def packet(cmd, payload=b"", rid=0, version=VERSION):
    """One packet: header + payload."""
    return HDR.pack(MAGIC, version, cmd, 0, len(payload), 0, rid) + payload


def name_field(s):
    b = s.encode()
    if len(b) > 63:
        raise ValueError(f"name longer than 63 bytes: {s!r}")
    return b.ljust(64, b"\0")


def encode_hello(h):
    return P_HELLO.pack(h["version_min"], h["version_max"], h["features"], h["node_id"],
                        h["peer_node_id"], h["size_sectors"], h["block_size"], h["role"],
                        h["disk"], 0, name_field(h["cluster"]), name_field(h["resource"]))


def decode_name(field, what):
    s, nul, rest = field.partition(b"\0")
    if not nul or rest.strip(b"\0"):
        raise ProtocolError(f"{what}: not a NUL-terminated, NUL-padded name")
    return s.decode("utf-8", "replace")


def decode_hello(p):
    (vmin, vmax, feat, nid, pnid, size, bs, role, disk, pad, cl, res) = P_HELLO.unpack(p)
    if pad:
        raise ProtocolError("HELLO: non-zero pad")
    return {"version_min": vmin, "version_max": vmax, "features": feat, "node_id": nid,
            "peer_node_id": pnid, "size_sectors": size, "block_size": bs, "role": role,
            "disk": disk, "cluster": decode_name(cl, "cluster_name"),
            "resource": decode_name(res, "resource_name")}


def state_payload(role, disk):
    return P_STATE.pack(role, disk, b"")


def ack_payload(status=0):
    return P_ACK.pack(status, 0)


def decode_payload(cmd, p):
    """The fields of a payload, for the record (DATA: without the data)."""
    if cmd == HELLO:
        return decode_hello(p)
    if cmd == HELLO_REJECT:
        reason, msg = P_REJECT.unpack(p)
        return {"reason": reason, "message": msg.partition(b"\0")[0].decode("utf-8", "replace")}
    if cmd == DATA:
        sector, flags, digest = P_DATA.unpack_from(p)
        return {"sector": sector, "dp_flags": flags, "data_digest": digest,
                "bytes": len(p) - P_DATA.size}
    if cmd == TRIM:
        sector, n, flags = P_TRIM.unpack(p)
        return {"sector": sector, "nr_sectors": n, "trim_flags": flags}
    if cmd in (ACK, ROLE_REPLY):
        return {"status": P_ACK.unpack(p)[0]}
    if cmd in (STATE, ROLE_REQ):
        role, disk, _pad = P_STATE.unpack(p)
        return {"role": ROLE_NAMES.get(role, role), "disk": DISK_NAMES.get(disk, disk)}
    if cmd == UUIDS:
        return decode_uuids(p)
    if cmd in (BEHIND, BEHIND_ACK):
        return {"nodes_behind": STRUCTS["rblk_p_behind"].unpack(p)[0]}
    if cmd == READ:
        sector, n, _pad = P_READ.unpack(p)
        return {"sector": sector, "nr_sectors": n}
    if cmd == READ_REPLY:
        status, digest = P_READ_REPLY.unpack_from(p)
        return {"status": status, "data_digest": digest, "bytes": len(p) - P_READ_REPLY.size}
    return {}


def decode_uuids(p):
    cur, bm, *rest = P_UUIDS.unpack(p)
    hist, (oos, flags, behind) = rest[:HISTORY_UUIDS], rest[HISTORY_UUIDS:]
    if behind and not flags & UF["NEW_CURRENT"]:
        raise ProtocolError("UUIDS: nodes behind without NEW_CURRENT")
    return {"current_uuid": cur, "bitmap_uuid": bm, "history_uuids": hist,
            "out_of_sync_bytes": oos, "uuid_flags": flags, "nodes_behind": behind,
            "flags": [n for n, b in UF.items() if flags & b]}


def encode_uuids(u):
    return P_UUIDS.pack(u["current_uuid"], u["bitmap_uuid"], *u["history_uuids"],
                        u["out_of_sync_bytes"], u["uuid_flags"], u.get("nodes_behind", 0))


AUTH_LABEL = b"rblk-auth-v1"


def read_secret(path):
    """The shared secret in path, as rblkadm reads it: one trailing "\\n" or
    "\\r\\n" is not part of it."""
    with open(path, "rb") as f:
        s = f.read()
    if s.endswith(b"\n"):
        s = s[:-1]
        if s.endswith(b"\r"):
            s = s[:-1]
    return s


def auth_answer(secret, challenge, responder, verifier, cluster, resource):
    """HMAC-SHA256(secret, struct rblk_auth_input): the answer of node
    `responder` to the challenge of node `verifier`."""
    msg = STRUCTS["rblk_auth_input"].pack(challenge, AUTH_LABEL.ljust(16, b"\0"), responder,
                                          verifier, name_field(cluster), name_field(resource))
    return hmac.new(secret, msg, hashlib.sha256).digest()


def authenticate(link, args, ours, node, out):
    """The challenge-response after the HELLOs (both offered AUTH): read
    the node's challenge, send ours, answer (per --auth), check the node's
    answer (out["node_auth"]: "ok" or "wrong")."""
    pkt = link.recv(args.timeout)
    if pkt is None:
        raise ProtocolError("no AUTH_CHALLENGE from the node")
    if pkt.cmd != AUTH_CHALLENGE or pkt.rid:
        raise ProtocolError(f"packet {cmd_name(pkt.cmd)} after HELLO, expected AUTH_CHALLENGE")
    theirs = pkt.payload
    mine = theirs if args.auth == "reflect-challenge" else os.urandom(32)
    link.send(AUTH_CHALLENGE, mine)
    if args.auth == "answer":
        link.send(AUTH_RESPONSE, auth_answer(args.secret, theirs, ours["node_id"],
                                             node["node_id"], node["cluster"], node["resource"]))
    pkt = link.recv(args.timeout)
    if pkt is None:
        raise ProtocolError("no AUTH_RESPONSE from the node")
    if pkt.cmd != AUTH_RESPONSE or pkt.rid:
        raise ProtocolError(f"packet {cmd_name(pkt.cmd)}, expected AUTH_RESPONSE")
    want = auth_answer(args.secret, mine, node["node_id"], ours["node_id"], node["cluster"],
                       node["resource"])
    out["node_auth"] = "ok" if hmac.compare_digest(want, pkt.payload) else "wrong"
    if args.auth == "reflect-answer":
        # the node's own answer, as if it were ours to its challenge
        link.send(AUTH_RESPONSE, pkt.payload)


def negotiate(ours, theirs):
    """The handshake checks of Documentation/protocol.rst, in their order:
    None if the two HELLOs agree, else (reason, message)."""
    if max(ours["version_min"], theirs["version_min"]) > \
            min(ours["version_max"], theirs["version_max"]):
        return "VERSION", "no common version"
    if (ours["features"] & theirs["features"] & FEAT_REQUIRED) != FEAT_REQUIRED:
        return "FEATURES", "a required feature is missing"
    if ours["node_id"] == theirs["node_id"] or theirs["node_id"] != ours["peer_node_id"] \
            or theirs["peer_node_id"] != ours["node_id"]:
        return "NODE_ID", (f"node id mismatch: expected {ours['peer_node_id']}, "
                           f"peer is {theirs['node_id']}")
    # a diskless node (a quorum witness) has no size to compare
    diskless = DISKS["diskless"] in (ours["disk"], theirs["disk"])
    for key, reason in (("cluster", "CLUSTER"), ("resource", "RESOURCE"),
                        ("size_sectors", "SIZE"), ("block_size", "BLOCK_SIZE")):
        if diskless and reason in ("SIZE", "BLOCK_SIZE"):
            continue
        if ours[key] != theirs[key]:
            return reason, f"{key} mismatch: local {ours[key]!r}, peer {theirs[key]!r}"
    if ours["role"] == theirs["role"] == ROLES["primary"]:
        return "BOTH_PRIMARY", "both primary"
    return None


# ------------------------------------------------------------- connection

class Closed(Exception):
    """The node ended the connection."""


class Packet:
    def __init__(self, cmd, rid, payload):
        self.cmd, self.rid, self.payload = cmd, rid, payload
        self.fields = decode_payload(cmd, payload)

    def record(self):
        return dict({"cmd": cmd_name(self.cmd), "id": self.rid}, **self.fields)


class Link:
    """One TCP connection to the node: framing, and a record of everything
    received (names in order, the first RECORD_MAX in full)."""

    RECORD_MAX = 200

    def __init__(self, sock, log):
        self.sock, self.log = sock, log
        self.rx = bytearray()
        self.version = VERSION
        self.received, self.details, self.counts = [], [], {}
        self.closed = None          # why the node closed, once it did
        self.reject = None          # the node's HELLO_REJECT, if it sent one
        self.closed_at = None

    def _close_seen(self, why):
        if self.closed is None:
            self.closed, self.closed_at = why, time.monotonic()
            self.log(f"connection closed by the node: {why}")
        raise Closed(why)

    def send(self, cmd, payload=b"", rid=0):
        if self.closed is not None:
            raise Closed(self.closed)
        try:
            self.sock.sendall(packet(cmd, payload, rid, self.version))
        except (BrokenPipeError, ConnectionResetError) as e:
            self._close_seen(f"send: {e.strerror or e}")

    def _parse(self):
        if len(self.rx) < HDR.size:
            return None
        magic, version, cmd, flags, length, reserved, rid = HDR.unpack_from(self.rx)
        if magic != MAGIC:
            raise ProtocolError(f"bad magic {magic:#x}")
        if version != self.version or flags or reserved or length > MAX_PAYLOAD:
            raise ProtocolError(f"bad header: version {version}, flags {flags}, "
                                f"reserved {reserved}, length {length}")
        if len(self.rx) < HDR.size + length:
            return None
        payload = bytes(self.rx[HDR.size:HDR.size + length])
        del self.rx[:HDR.size + length]
        pkt = Packet(cmd, rid, payload)
        name = cmd_name(cmd)
        self.counts[name] = self.counts.get(name, 0) + 1
        if len(self.received) < self.RECORD_MAX:
            self.received.append(name)
            self.details.append(pkt.record())
        return pkt

    def recv(self, timeout):
        """The next packet, or None when none is complete within timeout
        seconds; raises Closed when the node closed the connection."""
        deadline = time.monotonic() + timeout
        while True:
            pkt = self._parse()
            if pkt is not None:
                if pkt.cmd == HELLO_REJECT:
                    self.reject = pkt.fields
                    self._close_seen(f"HELLO_REJECT {pkt.fields}")
                return pkt
            if self.closed is not None:
                raise Closed(self.closed)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if not select.select([self.sock], [], [], left)[0]:
                return None
            try:
                chunk = self.sock.recv(1 << 20)
            except (ConnectionResetError, ConnectionAbortedError) as e:
                self._close_seen(f"recv: {e.strerror or e}")
            if not chunk:
                self._close_seen("EOF")
            self.rx += chunk


class Peer:
    """The fake node on an established connection: answers like a
    well-behaved secondary, plus the helpers the scenarios use."""

    def __init__(self, link, args, ours, node):
        self.link, self.args, self.ours, self.node = link, args, ours, node
        self.log = link.log
        self.next_id = 1            # our PING / ROLE_REQ ids
        self.ack_writes = False     # ACK DATA/FLUSH/TRIM with status 0
        self.role_replies = []      # ROLE_REPLY statuses to our ROLE_REQs
        self.violation = None
        self.t_violation = None
        self.out = {}               # scenario-specific results

    @property
    def sectors_per_block(self):
        return self.ours["block_size"] // SECTOR

    def new_id(self):
        rid, self.next_id = self.next_id, self.next_id + 1
        return rid

    def answer(self, pkt):
        if pkt.cmd == PING:
            self.link.send(PING_ACK, rid=pkt.rid)
        elif pkt.cmd == ROLE_REQ:
            self.link.send(ROLE_REPLY, ack_payload(0), pkt.rid)
        elif pkt.cmd == BEHIND:
            self.link.send(BEHIND_ACK, pkt.payload)
        elif pkt.cmd in (DATA, FLUSH, TRIM) and self.ack_writes:
            self.link.send(ACK, ack_payload(0), pkt.rid)
        elif pkt.cmd == READ:
            # we hold no data to serve: the node must try another source
            self.link.send(READ_REPLY, P_READ_REPLY.pack(ENODATA, 0), pkt.rid)

    def serve(self, seconds, until=None):
        """Answer the node for up to `seconds`.  Returns the first packet
        for which until(pkt) is true (not answered), or None at the end;
        raises Closed."""
        deadline = time.monotonic() + seconds
        while True:
            pkt = self.link.recv(max(0.0, deadline - time.monotonic()))
            if pkt is None:
                return None
            if until is not None and until(pkt):
                return pkt
            self.answer(pkt)

    def ping(self):
        """Send a PING and wait for its PING_ACK: the node has taken the
        connection.  Returns the round trip in ms."""
        rid, t0 = self.new_id(), time.monotonic()
        self.link.send(PING, rid=rid)
        if self.serve(self.args.timeout, lambda p: p.cmd == PING_ACK and p.rid == rid) is None:
            raise ProtocolError(f"no PING_ACK for our PING {rid}")
        return round((time.monotonic() - t0) * 1000, 3)

    def request_primary(self):
        """ROLE_REQ, wait for the ROLE_REPLY; when granted (0) announce
        primary with STATE.  Returns the status."""
        rid = self.new_id()
        self.link.send(ROLE_REQ, state_payload(ROLES["primary"], self.ours["disk"]), rid)
        pkt = self.serve(self.args.timeout, lambda p: p.cmd == ROLE_REPLY and p.rid == rid)
        if pkt is None:
            raise ProtocolError(f"no ROLE_REPLY for our ROLE_REQ {rid}")
        status = pkt.fields["status"]
        self.role_replies.append(status)
        self.log(f"ROLE_REPLY to ROLE_REQ {rid}: status {status}")
        if status == 0:
            self.link.send(STATE, state_payload(ROLES["primary"], self.ours["disk"]))
        return status

    def violate(self, what, cmd, payload=b"", rid=0):
        """Send the packet that breaks a rule (the clock for after_s starts)."""
        self.violation, self.t_violation = what, time.monotonic()
        self.log(f"sending {what}")
        self.link.send(cmd, payload, rid)

    def wait_close(self):
        """After the violation: keep answering (PINGs, ROLE_REQs, no ACKs)
        for up to --wait-close seconds or until the node closes."""
        self.ack_writes = False
        self.serve(self.args.wait_close)

    def data(self, sector, nbytes):
        """A DATA packet's payload: header fields and a recognisable pattern."""
        return P_DATA.pack(sector, 0, 0) + bytes([0xA5]) * nbytes


# -------------------------------------------------------------- scenarios

SCENARIOS = {}


def scenario(name, rcvbuf=None):
    """Register fn(peer) as scenario `name` (its docstring is the help);
    rcvbuf: SO_RCVBUF of our socket unless --rcvbuf is given."""
    def register(fn):
        SCENARIOS[name] = (fn, rcvbuf)
        return fn
    return register


def granted(peer):
    """Become primary through the node; False (scenario over) if refused."""
    peer.out["granted"] = peer.request_primary() == 0
    return peer.out["granted"]


@scenario("handshake")
def sc_handshake(peer):
    """Handshake, then behave as a secondary that acknowledges every write,
    for --hold seconds or until the node closes."""
    peer.ack_writes = True
    peer.serve(peer.args.hold)


@scenario("data-not-primary")
def sc_data_not_primary(peer):
    """DATA (valid, --sector/--length, default the first block) without
    having been granted primary: the node must close ("not our primary")."""
    length = peer.args.length or peer.ours["block_size"]
    peer.violate(f"DATA sector {peer.args.sector or 0}, {length} bytes", DATA,
                 peer.data(peer.args.sector or 0, length), peer.new_id())
    peer.wait_close()


@scenario("flush-not-primary")
def sc_flush_not_primary(peer):
    """FLUSH without having been granted primary ("not our primary")."""
    peer.violate("FLUSH", FLUSH, rid=peer.new_id())
    peer.wait_close()


@scenario("state-primary")
def sc_state_primary(peer):
    """STATE announcing primary without a ROLE_REQ ("without a grant")."""
    peer.violate("STATE primary", STATE, state_payload(ROLES["primary"], peer.ours["disk"]))
    peer.wait_close()


@scenario("role-req")
def sc_role_req(peer):
    """ROLE_REQ; report the ROLE_REPLY status (out: role_replies), then stay
    connected for --hold seconds or until the node closes."""
    peer.request_primary()
    peer.serve(peer.args.hold)


@scenario("data-beyond-end")
def sc_data_beyond_end(peer):
    """Granted primary, DATA of two blocks starting at the last block of
    the device ("bad DATA")."""
    if granted(peer):
        sector = peer.ours["size_sectors"] - peer.sectors_per_block
        peer.violate(f"DATA sector {sector}, 2 blocks (beyond the end)", DATA,
                     peer.data(sector, 2 * peer.ours["block_size"]), peer.new_id())
        peer.wait_close()


@scenario("trim-beyond-end")
def sc_trim_beyond_end(peer):
    """Granted primary, TRIM of two blocks starting at the last block
    ("bad TRIM")."""
    if granted(peer):
        sector = peer.ours["size_sectors"] - peer.sectors_per_block
        peer.violate(f"TRIM sector {sector}, 2 blocks (beyond the end)", TRIM,
                     P_TRIM.pack(sector, 2 * peer.sectors_per_block, 0), peer.new_id())
        peer.wait_close()


@scenario("read")
def sc_read(peer):
    """READ of the first block (no role needed): the node must answer with
    its data (out: read_status, read_sha256 of the data)."""
    rid = peer.new_id()
    peer.link.send(READ, P_READ.pack(0, peer.sectors_per_block, 0), rid)
    pkt = peer.serve(peer.args.timeout, lambda p: p.cmd == READ_REPLY and p.rid == rid)
    if pkt is None:
        raise ProtocolError(f"no READ_REPLY for our READ {rid}")
    peer.out["read_status"] = pkt.fields["status"]
    peer.out["read_sha256"] = hashlib.sha256(pkt.payload[P_READ_REPLY.size:]).hexdigest()
    peer.serve(peer.args.hold)


@scenario("read-beyond-end")
def sc_read_beyond_end(peer):
    """READ of two blocks starting at the last block ("bad READ")."""
    sector = peer.ours["size_sectors"] - peer.sectors_per_block
    peer.violate(f"READ sector {sector}, 2 blocks (beyond the end)", READ,
                 P_READ.pack(sector, 2 * peer.sectors_per_block, 0), peer.new_id())
    peer.wait_close()


@scenario("read-flood", rcvbuf=4096)
def sc_read_flood(peer):
    """4000 READs of one block, without reading the replies (a small
    receive buffer): the node must close once more than 1024 replies wait
    ("READ replies pile up")."""
    n, one = 4000, P_READ.pack(0, peer.sectors_per_block, 0)
    peer.violation, peer.t_violation = f"{n} READs, replies not read", time.monotonic()
    peer.log(f"sending {peer.violation}")
    blob = b"".join(packet(READ, one, peer.new_id(), peer.link.version) for _ in range(n))
    try:
        peer.link.sock.sendall(blob)
    except (BrokenPipeError, ConnectionResetError) as e:
        peer.link._close_seen(f"send: {e.strerror or e}")
    time.sleep(2)
    peer.wait_close()


@scenario("read-reply-unknown")
def sc_read_reply_unknown(peer):
    """READ_REPLY for a READ the node never sent ("READ_REPLY for unknown
    request")."""
    peer.violate("READ_REPLY for request 4242", READ_REPLY, P_READ_REPLY.pack(ENODATA, 0), 4242)
    peer.wait_close()


@scenario("data-misaligned")
def sc_data_misaligned(peer):
    """Granted primary, DATA at --sector (default 1) of --length bytes
    (default 512): misaligned for a logical block size above 512
    ("bad DATA")."""
    sector = 1 if peer.args.sector is None else peer.args.sector
    length = peer.args.length or SECTOR
    if granted(peer):
        peer.violate(f"DATA sector {sector}, {length} bytes (block size "
                     f"{peer.ours['block_size']})", DATA, peer.data(sector, length),
                     peer.new_id())
        peer.wait_close()


@scenario("role-req-twice")
def sc_role_req_twice(peer):
    """Granted primary (and announced), then a second ROLE_REQ ("ROLE_REQ")."""
    if granted(peer):
        peer.violate("second ROLE_REQ", ROLE_REQ,
                     state_payload(ROLES["primary"], peer.ours["disk"]), peer.new_id())
        peer.wait_close()


@scenario("resync-data-not-source")
def sc_resync_data_not_source(peer):
    """DATA marked as resync data (RBLK_DP_RESYNC) although the node is not
    our sync target ("not our sync source")."""
    n = peer.ours["block_size"]
    peer.violate("resync DATA", DATA, P_DATA.pack(0, DP_RESYNC, 0) + bytes([0x5A]) * n,
                 peer.new_id())
    peer.wait_close()


@scenario("resync-done-not-target")
def sc_resync_done_not_target(peer):
    """UUIDS announcing the end of a resync (RBLK_UF_RESYNC_DONE) with a
    made-up generation although the node is not our sync target: it must
    adopt nothing ("UUIDS")."""
    u = {"current_uuid": 0x1234_5678_9ABC_DEF0, "bitmap_uuid": 0,
         "history_uuids": [0] * HISTORY_UUIDS, "out_of_sync_bytes": 0,
         "uuid_flags": UF["CONSISTENT"] | UF["UP_TO_DATE"] | UF["RESYNC_DONE"]}
    peer.violate("UUIDS resync done", UUIDS, encode_uuids(u))
    peer.wait_close()


@scenario("new-current-not-primary")
def sc_new_current_not_primary(peer):
    """UUIDS announcing a new generation (RBLK_UF_NEW_CURRENT) with the
    node's other peer behind, although we are not the node's primary: it
    must adopt nothing and outdate nobody ("UUIDS")."""
    u = {"current_uuid": 0x0FED_CBA9_8765_4321, "bitmap_uuid": 0,
         "history_uuids": [0x1111] + [0] * (HISTORY_UUIDS - 1), "out_of_sync_bytes": 0,
         "uuid_flags": UF["CONSISTENT"] | UF["UP_TO_DATE"] | UF["NEW_CURRENT"],
         "nodes_behind": 0xFFFF_FFFF & ~((1 << peer.ours["node_id"]) |
                                         (1 << peer.ours["peer_node_id"]))}
    peer.violate("UUIDS new current", UUIDS, encode_uuids(u))
    peer.wait_close()


@scenario("lost-disk-not-primary")
def sc_lost_disk_not_primary(peer):
    """UUIDS saying that we hold the node's writes for its lost disk
    (RBLK_UF_LOST_DISK), although the node is no primary without its disk:
    logged and ignored, nothing changes.  Then the same with nodes behind,
    which only RBLK_UF_NEW_CURRENT may carry ("UUIDS")."""
    u = {"current_uuid": 0x0BAD_D15C_0000_0001, "bitmap_uuid": 0,
         "history_uuids": [0x1111] + [0] * (HISTORY_UUIDS - 1), "out_of_sync_bytes": 0,
         "uuid_flags": UF["CONSISTENT"] | UF["UP_TO_DATE"] | UF["LOST_DISK"]}
    peer.link.send(UUIDS, encode_uuids(u))
    u["nodes_behind"] = 1 << peer.ours["peer_node_id"]
    peer.violate("UUIDS lost disk with nodes behind", UUIDS, encode_uuids(u))
    peer.wait_close()


@scenario("behind-not-primary")
def sc_behind_not_primary(peer):
    """BEHIND naming the node's other peer, although we are not the node's
    primary: it records nothing (BEHIND_ACK with 0) and outdates nobody.
    Then BEHIND with a non-zero pad ("malformed behind")."""
    behind = STRUCTS["rblk_p_behind"]
    others = 0xFFFF_FFFF & ~((1 << peer.ours["node_id"]) | (1 << peer.ours["peer_node_id"]))
    peer.link.send(BEHIND, behind.pack(others, 0))
    ack = peer.serve(peer.args.timeout, lambda p: p.cmd == BEHIND_ACK)
    if ack is None:
        raise ProtocolError("no BEHIND_ACK")
    if behind.unpack(ack.payload)[0]:
        raise ProtocolError(f"BEHIND_ACK records {behind.unpack(ack.payload)[0]:#x} "
                            "from a peer that is not the primary")
    peer.violate("BEHIND pad", BEHIND, behind.pack(others, 1))
    peer.wait_close()


@scenario("bitmap-in-data-phase")
def sc_bitmap_in_data_phase(peer):
    """A BITMAP block after the handshake, where it has no place
    ("unexpected bitmap")."""
    peer.violate("BITMAP", BITMAP, struct.pack(">Q", 0) + bytes([0xFF]) * (BITMAP_PAYLOAD - 8))
    peer.wait_close()


@scenario("ping-ack-unexpected")
def sc_ping_ack_unexpected(peer):
    """PING_ACK for a ping the node never sent ("unexpected")."""
    rid = peer.args.id or random.randrange(1 << 40, 1 << 48)
    peer.violate(f"PING_ACK {rid}", PING_ACK, rid=rid)
    peer.wait_close()


@scenario("role-reply-unexpected")
def sc_role_reply_unexpected(peer):
    """ROLE_REPLY (status 0) for a ROLE_REQ the node never sent
    ("unexpected")."""
    rid = peer.args.id or random.randrange(1 << 40, 1 << 48)
    peer.violate(f"ROLE_REPLY {rid}", ROLE_REPLY, ack_payload(0), rid)
    peer.wait_close()


@scenario("ack-unknown")
def sc_ack_unknown(peer):
    """ACK for a request id the node never allocated (--id, default a
    random one above 2^31) ("unknown request")."""
    rid = peer.args.id or random.randrange(1 << 31, 1 << 32)
    peer.violate(f"ACK {rid}", ACK, ack_payload(0), rid)
    peer.wait_close()


@scenario("ack-twice")
def sc_ack_twice(peer):
    """Wait (up to --hold s) for the node's first write, acknowledge it,
    then acknowledge it again ("unknown request")."""
    pkt = peer.serve(peer.args.hold, lambda p: p.cmd in (DATA, FLUSH, TRIM))
    if pkt is None:
        peer.out["error"] = "no write from the node"
        return
    peer.link.send(ACK, ack_payload(0), pkt.rid)
    peer.ack_writes = True
    peer.violate(f"second ACK {pkt.rid}", ACK, ack_payload(0), pkt.rid)
    peer.wait_close()


@scenario("ack-unsent", rcvbuf=4096)
def sc_ack_unsent(peer):
    """Stop reading the socket (the node's send queue to us backs up; a
    small receive buffer), stay alive with a PING a second, wait for
    --ids-file to appear and send an ACK for each id in it, in its order
    (e.g. the highest allocated id first), then read again until the node
    closes ("not sent", or "unknown request" for ids never allocated).
    out: acks_sent."""
    if not peer.args.ids_file:
        raise SystemExit("rblkpeer: ack-unsent needs --ids-file")
    deadline = time.monotonic() + peer.args.timeout
    next_ping = 0.0
    while not os.path.exists(peer.args.ids_file):
        if time.monotonic() > deadline:
            peer.out["error"] = f"{peer.args.ids_file} did not appear"
            return
        if time.monotonic() >= next_ping:
            peer.link.send(PING, rid=peer.new_id())
            next_ping = time.monotonic() + 1.0
        time.sleep(0.05)
    with open(peer.args.ids_file) as f:
        ids = [int(x) for x in f.read().split()]
    peer.out["acks_sent"] = 0
    peer.violate(f"ACKs for ids {ids[:3]}... ({len(ids)}) without reading", ACK,
                 ack_payload(0), ids[0])
    peer.out["acks_sent"] = 1
    for rid in ids[1:]:
        peer.link.send(ACK, ack_payload(0), rid)
        peer.out["acks_sent"] += 1
    peer.wait_close()


# ------------------------------------------------------------------- main

def parse_endpoint(s, need_port):
    """ "IPv4[:PORT]" or "[IPv6][:PORT]" (or a bare IPv6) -> (ip, port or 0)."""
    if s.startswith("["):
        host, _, rest = s[1:].partition("]")
        port = rest[1:]
    elif s.count(":") == 1:
        host, port = s.split(":")
    else:
        host, port = s, ""
    if need_port and not port:
        raise SystemExit(f"rblkpeer: {s}: expected ADDR:PORT")
    return host, int(port) if port else 0


def open_link(args, rcvbuf, log):
    """Connect or accept, by the node-id rule.  Returns (Link, how)."""
    if args.node_id == args.peer_node_id:
        raise SystemExit("rblkpeer: --node-id and --peer-node-id must differ")
    listen = args.node_id > args.peer_node_id
    lip, lport = parse_endpoint(args.local, need_port=listen)
    pip, pport = parse_endpoint(args.peer, need_port=not listen)
    fam = socket.AF_INET6 if ":" in lip else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if not listen:
        s.bind((lip, 0))
        s.settimeout(args.timeout)
        s.connect((pip, pport))
        s.settimeout(None)
        log(f"connected to {pip}:{pport} (node id {args.node_id} < {args.peer_node_id})")
        return Link(s, log), "connected"
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((lip, lport))
    s.listen(4)
    log(f"listening on {lip}:{lport} for {pip} (node id {args.node_id} > "
        f"{args.peer_node_id})")
    deadline = time.monotonic() + args.timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([s], [], [], left)[0]:
                raise SystemExit("rblkpeer: no connection from the node")
            c, addr = s.accept()
            if addr[0] == pip:
                break
            log(f"refused a connection from {addr[0]}")
            c.close()
    finally:
        s.close()
    log(f"accepted {addr[0]}:{addr[1]}")
    return Link(c, log), "accepted"


def handshake(link, args):
    """Read the node's HELLO, send ours.  Returns (ours, node's, problem)."""
    pkt = link.recv(args.timeout)
    if pkt is None:
        raise ProtocolError("no HELLO from the node")
    if pkt.cmd != HELLO or pkt.rid:
        raise ProtocolError(f"first packet {cmd_name(pkt.cmd)} id {pkt.rid}, expected HELLO")
    node = pkt.fields
    features = args.features | (FEATURES["AUTH"] if args.secret is not None else 0)
    ours = {"version_min": VERSION, "version_max": VERSION, "features": features,
            "node_id": args.node_id, "peer_node_id": args.peer_node_id,
            "size_sectors": node["size_sectors"] if args.size_sectors is None
            else args.size_sectors,
            "block_size": args.block_size or node["block_size"],
            "role": ROLES[args.role], "disk": DISKS[args.disk],
            "cluster": node["cluster"] if args.cluster is None else args.cluster,
            "resource": node["resource"] if args.resource is None else args.resource}
    link.send(HELLO, encode_hello(ours))
    return ours, node, negotiate(ours, node)


def exchange_uuids(link, args, ours, node):
    """Generation UUIDs after an agreed HELLO (both offered MD): read the
    node's UUIDS, answer with ours (--uuids).  Returns the node's, decoded."""
    pkt = link.recv(args.timeout)
    if pkt is None:
        raise ProtocolError("no UUIDS from the node")
    if pkt.cmd != UUIDS or pkt.rid:
        raise ProtocolError(f"packet {cmd_name(pkt.cmd)} id {pkt.rid} after HELLO, expected UUIDS")
    theirs = pkt.fields
    if args.uuids == "same":
        flags = UF["CONSISTENT"] if theirs["current_uuid"] else 0
        u = {"current_uuid": theirs["current_uuid"], "bitmap_uuid": 0,
             "history_uuids": list(theirs["history_uuids"]), "out_of_sync_bytes": 0}
    else:
        flags = 0
        u = {"current_uuid": 0, "bitmap_uuid": 0, "history_uuids": [0] * HISTORY_UUIDS,
             "out_of_sync_bytes": 0}
    if ours["role"] == ROLES["primary"]:
        flags |= UF["PRIMARY"]
    u["uuid_flags"] = flags
    link.send(UUIDS, encode_uuids(u))
    return theirs


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="rblkpeer.py", description=__doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", nargs="?", help="what to do after the handshake (--list)")
    ap.add_argument("--list", action="store_true", help="list the scenarios")
    ap.add_argument("--check-header", action="store_true",
                    help="compare the codec with kernel/rblk_protocol.h and exit")
    ap.add_argument("--node-id", type=int, help="our node id")
    ap.add_argument("--peer-node-id", type=int, help="the rblk node's id")
    ap.add_argument("--local", help="our ADDR:PORT (listening) or ADDR (connecting)")
    ap.add_argument("--peer", help="the node's ADDR (we listen) or ADDR:PORT (we connect)")
    ap.add_argument("--role", choices=ROLES, default="secondary", help="in our HELLO")
    ap.add_argument("--disk", choices=DISKS, default="up_to_date", help="in our HELLO")
    ap.add_argument("--features", type=lambda v: int(v, 0), default=FEAT_ALL,
                    help=f"feature bits of our HELLO (default {FEAT_ALL:#x}: all)")
    ap.add_argument("--uuids", choices=("same", "none"), default="same",
                    help="our generation UUIDs (feature MD): the node's (same, default) or "
                         "those of just-created metadata (none)")
    ap.add_argument("--secret-file", help="the resource's shared secret: offer AUTH and "
                    "authenticate (default: no secret, AUTH not offered)")
    ap.add_argument("--auth", choices=("answer", "reflect-answer", "reflect-challenge"),
                    default="answer", help="with --secret-file: answer the node's challenge "
                    "(default), send its own answer back, or send its challenge back as ours")
    ap.add_argument("--cluster", help="cluster name (default: the node's)")
    ap.add_argument("--resource", help="resource name (default: the node's)")
    ap.add_argument("--size-sectors", type=int, help="device size (default: the node's)")
    ap.add_argument("--block-size", type=int, help="logical block size (default: the node's)")
    ap.add_argument("--sector", type=int, help="DATA sector (data-* scenarios)")
    ap.add_argument("--length", type=int, help="DATA bytes (data-* scenarios)")
    ap.add_argument("--id", type=int, help="request id (ack-unknown, *-unexpected)")
    ap.add_argument("--ids-file", help="ack-unsent: file with the ids to ACK")
    ap.add_argument("--rcvbuf", type=int, help="SO_RCVBUF of our socket")
    ap.add_argument("--hold", type=float, default=10.0,
                    help="seconds to stay connected (handshake, role-req, ack-twice)")
    ap.add_argument("--wait-close", type=float, default=10.0,
                    help="seconds to wait for the node to close after the violation")
    ap.add_argument("--timeout", type=float, default=60.0,
                    help="limit of each wait: connection, handshake, answers")
    args = ap.parse_args(argv)

    if args.list:
        for name, (fn, _) in SCENARIOS.items():
            print(f"{name:22} {' '.join(fn.__doc__.split())}")
        return 0
    if args.check_header:
        bad = check_header()
        print(json.dumps({"header": HEADER_FILE, "mismatches": bad}))
        return 1 if bad else 0
    args.secret = read_secret(args.secret_file) if args.secret_file else None
    if args.scenario not in SCENARIOS:
        ap.error(f"unknown scenario {args.scenario!r} (--list)")
    for opt in ("node_id", "peer_node_id", "local", "peer"):
        if getattr(args, opt) is None:
            ap.error(f"--{opt.replace('_', '-')} is required")

    def log(msg):
        print(f"rblkpeer: {msg}", file=sys.stderr, flush=True)

    fn, rcvbuf = SCENARIOS[args.scenario]
    out = {"scenario": args.scenario, "handshake": None, "closed_by_node": False,
           "after_s": None}
    link = peer = None
    try:
        link, out["how"] = open_link(args, args.rcvbuf or rcvbuf, log)
        ours, node, problem = handshake(link, args)
        out["handshake"] = "sent"
        out["node_hello"] = dict(node, role=ROLE_NAMES.get(node["role"], node["role"]),
                                 disk=DISK_NAMES.get(node["disk"], node["disk"]))
        if problem:
            out["handshake"] = f"refused: {problem[0]}: {problem[1]}"
            log(f"handshake: {out['handshake']}")
            link.send(HELLO_REJECT, P_REJECT.pack(REJECT_REASONS[problem[0]],
                                                  problem[1].encode()[:59]))
        else:
            if ours["features"] & node["features"] & FEATURES["AUTH"]:
                authenticate(link, args, ours, node, out)
                out["handshake"] = "authenticated"
            if ours["features"] & node["features"] & FEATURES["MD"]:
                out["node_uuids"] = exchange_uuids(link, args, ours, node)
            peer = Peer(link, args, ours, node)
            out["rtt_ms"] = peer.ping()
            out["handshake"] = "ok"
            log(f"handshake ok with node {node['node_id']} ({node['resource']}, "
                f"{node['size_sectors']} sectors, block {node['block_size']}, "
                f"{out['node_hello']['role']}/{out['node_hello']['disk']})")
            fn(peer)
    except Closed:
        pass
    except (ProtocolError, OSError) as e:
        out["error"] = f"{type(e).__name__}: {e}"
        log(out["error"])
    if link is not None:
        if link.closed is not None:
            out["closed_by_node"] = True
            out["close"] = link.closed
            if out["handshake"] in (None, "sent", "authenticated"):
                out["handshake"] = f"closed by the node: {link.closed}"
            if link.reject is not None:
                out["node_reject"] = link.reject
            if peer is not None and peer.t_violation is not None:
                out["after_s"] = round(link.closed_at - peer.t_violation, 3)
        link.sock.close()
        out.update(received=link.received, received_counts=link.counts,
                   received_detail=link.details[:40])
    if peer is not None:
        out.update(peer.out, violation=peer.violation, role_replies=peer.role_replies)
        if peer.violation is None and out["closed_by_node"]:
            out["closed_before_violation"] = True
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
