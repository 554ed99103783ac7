#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A TCP relay between two rblk nodes that can corrupt one DATA payload.

Runs inside a guest (Python 3, standard library only, plus rblkpeer's
codec).  It listens on --listen IP:PORT, where the dialling node (the one
with the lower node id) connects instead of its peer; for every connection
it accepts it connects to --target IP:PORT from --source IP (the dialling
node's own IP, so that the listening node, which accepts only its peer's
IP, takes it) and copies the bytes both ways unchanged, packet by packet
(rblk_hdr, then payload_len_bytes), so that it sees every packet.

Once the file --arm-file exists, the next RBLK_P_DATA packet from the
dialling side that is not resync data (no RBLK_DP_RESYNC) gets one byte of
its data (never the header, never the 16-byte fixed part) XORed with
0x01: at --offset in the data (default: the middle).  That happens once in
the relay's life; later connections (the reconnect) pass unchanged.

Output: one JSON line per event on stdout: {"event": "accepted", "conn":
N}, {"event": "flipped", "conn": N, "sector": S, "data_bytes": B,
"offset": O, "dp_flags": F, "data_digest": D}, {"event": "reject", "conn":
N, "from": "dialer"|"listener", "reason": R, "message": M} for every
HELLO_REJECT seen, {"event": "closed", "conn": N, "by": ...}.  Progress on
stderr ("relay: listening").

    digest_relay.py --listen 10.99.12.1:7901 --target 10.99.12.2:7789 \\
                    --source 10.99.12.1 --arm-file /tmp/relay-arm
"""
import argparse
import json
import os
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rblkpeer  # noqa: E402  (the codec: header, DATA and reject layouts)

HDR = rblkpeer.HDR
P_DATA = rblkpeer.P_DATA
P_REJECT = rblkpeer.P_REJECT

out_lock = threading.Lock()
flip_lock = threading.Lock()
flipped = False


def emit(**kw):
    with out_lock:
        sys.stdout.write(json.dumps(kw) + "\n")
        sys.stdout.flush()


def addr(s):
    host, _, port = s.rpartition(":")
    return host, int(port)


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def pump(args, conn_id, src, dst, side, stop):
    """Copy packets from src to dst until either end closes."""
    global flipped
    try:
        while not stop.is_set():
            hdr = recv_exact(src, HDR.size)
            if hdr is None:
                break
            magic, _ver, cmd, _flags, plen, _res, _rid = HDR.unpack(hdr)
            if magic != rblkpeer.MAGIC or plen > rblkpeer.MAX_PAYLOAD:
                # not rblk (or not in step): pass the rest through raw
                dst.sendall(hdr)
                while True:
                    chunk = src.recv(65536)
                    if not chunk:
                        break
                    dst.sendall(chunk)
                break
            payload = recv_exact(src, plen) if plen else b""
            if payload is None:
                break
            if cmd == rblkpeer.HELLO_REJECT and plen == P_REJECT.size:
                reason, msg = P_REJECT.unpack(payload)
                emit(event="reject", conn=conn_id, **{"from": side}, reason=reason,
                     message=msg.partition(b"\0")[0].decode("utf-8", "replace"))
            if (side == "dialer" and cmd == rblkpeer.DATA and plen > P_DATA.size and
                    os.path.exists(args.arm_file)):
                sector, dp_flags, digest = P_DATA.unpack_from(payload)
                with flip_lock:
                    do_flip = not flipped and not dp_flags & rblkpeer.DP_RESYNC
                    if do_flip:
                        flipped = True
                if do_flip:
                    nbytes = plen - P_DATA.size
                    off = args.offset if args.offset is not None else nbytes // 2
                    off = min(off, nbytes - 1)
                    b = bytearray(payload)
                    b[P_DATA.size + off] ^= 0x01
                    payload = bytes(b)
                    emit(event="flipped", conn=conn_id, sector=sector, data_bytes=nbytes,
                         offset=off, dp_flags=dp_flags, data_digest=digest)
            dst.sendall(hdr + payload)
    except OSError as e:
        emit(event="error", conn=conn_id, side=side, error=str(e))
    finally:
        emit(event="closed", conn=conn_id, by=side)
        stop.set()
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(args, conn_id, client):
    try:
        up = socket.create_connection(addr(args.target), timeout=10,
                                      source_address=(args.source, 0))
    except OSError as e:
        emit(event="error", conn=conn_id, side="connect", error=str(e))
        client.close()
        return
    up.settimeout(None)
    for s in (client, up):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stop = threading.Event()
    ts = [threading.Thread(target=pump, args=(args, conn_id, client, up, "dialer", stop)),
          threading.Thread(target=pump, args=(args, conn_id, up, client, "listener", stop))]
    for t in ts:
        t.daemon = True
        t.start()
    for t in ts:
        t.join()
    client.close()
    up.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", required=True, help="IP:PORT the dialling node connects to")
    ap.add_argument("--target", required=True, help="IP:PORT of the listening node")
    ap.add_argument("--source", required=True, help="IP to connect to the target from")
    ap.add_argument("--arm-file", required=True,
                    help="corrupt the next DATA once this file exists")
    ap.add_argument("--offset", type=int, default=None,
                    help="byte of the data to flip (default: the middle)")
    args = ap.parse_args()

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(addr(args.listen))
    ls.listen(4)
    print("relay: listening", file=sys.stderr, flush=True)
    n = 0
    while True:
        client, peer = ls.accept()
        n += 1
        emit(event="accepted", conn=n, peer=peer[0])
        threading.Thread(target=serve, args=(args, n, client), daemon=True).start()


if __name__ == "__main__":
    main()
