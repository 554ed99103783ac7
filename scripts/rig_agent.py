#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Command agent of an rblk test-rig guest.

Runs inside the guest, in the chroot of the host's root filesystem (so it is
the host's python3), started by the rig's initramfs /init with the path of
the virtio-serial port named "rblk.agent".  The host side is scripts/rig.py.

Wire format, both directions: frames of a 9-byte header (request id: u32,
type: u8, payload length: u32, all big-endian) followed by the payload.

host -> guest
  PING  (1)  payload ignored; answered with PONG carrying {"uname": ...}
  EXEC  (2)  JSON {"cmd": str (run by bash -c) | [argv...], "timeout": s|null,
             "env": {..}, "cwd": str|null, "stdin": base64|null}
  KILL  (3)  JSON {"signal": n}: signal the process group of request id
guest -> host
  PONG   (9)  JSON
  STDOUT (10) raw bytes, STDERR (11) raw bytes, in order, any chunk size
  EXIT   (12) JSON {"rc": n, "timed_out": bool}; rc is -SIG when killed
  ERROR  (13) JSON {"error": str}: the command could not be started
Several commands run concurrently; the frames of each carry its id.
"""
import base64
import json
import os
import signal
import struct
import subprocess
import sys
import threading

HDR = struct.Struct(">IBI")
PING, EXEC, KILL = 1, 2, 3
PONG, STDOUT, STDERR, EXIT, ERROR = 9, 10, 11, 12, 13


class Agent:
    def __init__(self, path):
        # A virtio port can be opened once only: one fd for both directions.
        self.rfd = self.wfd = os.open(path, os.O_RDWR)
        self.wlock = threading.Lock()
        self.procs = {}
        self.plock = threading.Lock()

    def send(self, rid, typ, payload=b""):
        data = HDR.pack(rid, typ, len(payload)) + payload
        with self.wlock:
            view = memoryview(data)
            while view:
                n = os.write(self.wfd, view)
                view = view[n:]

    def send_json(self, rid, typ, obj):
        self.send(rid, typ, json.dumps(obj).encode())

    def read_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = os.read(self.rfd, n - len(buf))
            if not chunk:
                # Host not connected: virtio ports return EOF then.
                threading.Event().wait(0.2)
                continue
            buf += chunk
        return bytes(buf)

    def pump(self, rid, typ, stream):
        while True:
            chunk = os.read(stream.fileno(), 65536)
            if not chunk:
                return
            self.send(rid, typ, chunk)

    def execute(self, rid, req):
        cmd = req["cmd"]
        argv = ["/bin/bash", "-c", cmd] if isinstance(cmd, str) else cmd
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb"}
        env.update(req.get("env") or {})
        stdin_data = req.get("stdin")
        try:
            proc = subprocess.Popen(
                argv, env=env, cwd=req.get("cwd") or "/",
                stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True)
        except OSError as e:
            self.send_json(rid, ERROR, {"error": str(e)})
            return
        with self.plock:
            self.procs[rid] = proc
        pumps = [threading.Thread(target=self.pump, args=(rid, STDOUT, proc.stdout), daemon=True),
                 threading.Thread(target=self.pump, args=(rid, STDERR, proc.stderr), daemon=True)]
        for t in pumps:
            t.start()
        if stdin_data is not None:
            try:
                proc.stdin.write(base64.b64decode(stdin_data))
                proc.stdin.close()
            except OSError:
                pass
        timed_out = False
        try:
            proc.wait(timeout=req.get("timeout"))
        except subprocess.TimeoutExpired:
            timed_out = True
            self.killpg(proc, signal.SIGKILL)
            proc.wait()
        # Background children may keep the pipes open: give them a moment,
        # then report the exit anyway.
        for t in pumps:
            t.join(timeout=2 if not timed_out else 0.5)
        with self.plock:
            self.procs.pop(rid, None)
        self.send_json(rid, EXIT, {"rc": proc.returncode, "timed_out": timed_out})

    @staticmethod
    def killpg(proc, sig):
        try:
            os.killpg(proc.pid, sig)
        except OSError:
            pass

    def serve(self):
        while True:
            rid, typ, length = HDR.unpack(self.read_exact(HDR.size))
            payload = self.read_exact(length) if length else b""
            if typ == PING:
                self.send_json(rid, PONG, {"uname": os.uname().release})
            elif typ == EXEC:
                threading.Thread(target=self.execute, args=(rid, json.loads(payload)),
                                 daemon=True).start()
            elif typ == KILL:
                with self.plock:
                    proc = self.procs.get(rid)
                if proc is not None:
                    self.killpg(proc, json.loads(payload).get("signal", signal.SIGKILL))


def main():
    agent = Agent(sys.argv[1])
    try:
        with open("/dev/kmsg", "w") as f:
            f.write("rig-agent: ready\n")
    except OSError:
        pass
    agent.serve()


if __name__ == "__main__":
    main()
