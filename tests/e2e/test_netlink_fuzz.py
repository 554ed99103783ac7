# SPDX-License-Identifier: GPL-2.0
"""Random requests over the generic netlink family "rblk" (userspace/tests/
nlfuzz) against a real rblk.ko, then proof that nothing broke.

One node, one cluster on 6.1 in make check (on each kernel with
RBLK_SOAK=1); the tests run in the order of their names:

- test_1: 100,000 requests from two concurrent senders (1,000,000 with
  RBLK_SOAK=1; RBLK_NLFUZZ_MESSAGES overrides the count; the seed is
  random unless RBLK_SEED is set, and printed): every one is answered, some succeed (the requests reach the
  handlers, not only the policy) and several errnos come back (EINVAL,
  ENODEV, EEXIST, ...).  Then every device the fuzzer left is demoted and
  deleted, status shows none, and rmmod succeeds (no reference leaked).
- test_2: after a fresh insmod, an unprivileged caller (uid 65534) gets
  EPERM from every command but STATUS, and a STATUS dump works.
- test_3: the valid requests still work: create-md, a one-node resource up,
  primary, a 4 MiB write read back through /dev/rblk0 and from the backing
  disk, down, rmmod.
- test_4: lifetime races (races.sh lifetime): 50 rounds (500 with
  RBLK_SOAK=1) of insmod,
  create-device, attach (every other round), /dev/rblk0 and a sysfs file of
  it held open, then delete-device and rmmod at once while the device is
  closed: each returns EBUSY or succeeds, the module's refcount returns to
  0 and it unloads every round.
- test_5: concurrent administration (races.sh concurrent): four processes
  run random up/down/primary/secondary/connect/disconnect/status on two
  resources (one with a peer that never answers) for 30 s (600 s with
  RBLK_SOAK=1); every command returns within 60 s with 0 or a refusal;
  afterwards down all works, no device is left and rmmod succeeds.

Any WARNING/BUG/Oops in the guest's console fails the test that ran.
"""
import json
import os
import random

from e2elib import (CONF, SOAK, TOP, ClusterTest, adm, create_md, log, per_kernel, status_all,
                    write_conf)

NLFUZZ = os.path.join(TOP, "userspace", "tests", "nlfuzz")
RACES_SH = os.path.join(TOP, "tests", "e2e", "races.sh")
LIFETIME_ROUNDS = 500 if SOAK else 50      # about 1.2 s a round in the emulator
CONCURRENT_S = 600 if SOAK else 30
MESSAGES = int(os.environ.get("RBLK_NLFUZZ_MESSAGES", "1000000" if SOAK else "100000"))


def one_node_conf(n):
    return f"""cluster: rig
resources:
  - name: r0
    minor: 0
    nodes:
      - name: {n.name}
        node-id: 0
        address: 127.0.0.1:7789
        disk: {n.disk}
"""


def two_resources_conf(n):
    """r0 on the first disk, r1 on the second with a peer that never
    answers (nothing listens on its port)."""
    return f"""cluster: rig
resources:
  - name: r0
    minor: 0
    nodes:
      - name: {n.name}
        node-id: 0
        address: 127.0.0.1:7789
        disk: {n.disks[0]}
  - name: r1
    minor: 1
    nodes:
      - name: {n.name}
        node-id: 0
        address: 127.0.0.1:7791
        disk: {n.disks[1]}
      - name: ghost
        node-id: 1
        address: 127.0.0.1:7792
        disk: /dev/vdb
"""


@per_kernel
class NetlinkFuzz(ClusterTest):
    NODES = 1
    DISK_MIB = 64
    DISKS = 2
    # on one kernel in make check (CI budget), on both in make soak
    ONE_KERNEL = {"*": "6.1"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.n = cls.c.nodes[0]
        write_conf(cls.n, one_node_conf(cls.n))
        cls.n.insmod()

    def _clean_up_devices(self):
        """Demote and delete every device the fuzzer left."""
        n = self.n
        devs = status_all(n)
        log(f"devices left by the fuzzer: {[d['minor'] for d in devs]}")
        for d in devs:
            n.run(f"{n.rblkadm} set-secondary --minor {d['minor']}", check=False)
            n.run(f"{n.rblkadm} delete-device --minor {d['minor']}", check=False)
        self.assertEqual(status_all(n), [], "devices left after delete-device")

    def _unload(self):
        """rblk.ko unloaded (setUpClass loads it; test_1-3 unload it)."""
        n = self.n
        if n.run("grep -q '^rblk ' /proc/modules", check=False).rc == 0:
            self._clean_up_devices()
            n.rmmod()

    def test_1_random_requests(self):
        n = self.n
        seed = int(os.environ.get("RBLK_SEED", random.randrange(1 << 31)))
        log(f"nlfuzz seed {seed} (RBLK_SEED={seed} repeats it)")
        r = n.run(f"{NLFUZZ} --seed {seed} --messages {MESSAGES} --senders 2 --disk {n.disk}",
                  check=False, timeout=1500)
        self.assertEqual(r.rc, 0, f"nlfuzz failed (seed {seed}): {r.out} {r.err}")
        res = json.loads(r.out.strip().splitlines()[-1])
        log(f"FIGURE nlfuzz {self.KERNEL}: {json.dumps(res)}")
        self.assertEqual(res["answered"], MESSAGES, res)
        self.assertGreater(res["ok"], 0, f"no request reached a handler and succeeded: {res}")
        self.assertGreaterEqual(len(res["errnos"]), 4, f"too few distinct errnos: {res}")
        self.assertIn("EINVAL", res["errnos"], res)
        self._clean_up_devices()
        n.rmmod()

    def test_2_unprivileged(self):
        n = self.n
        n.insmod()
        # a copy on the guest's own /tmp: the checkout may not be open to all
        n.run(f"install -m 0755 {NLFUZZ} /tmp/nlfuzz")
        r = n.run("setpriv --reuid=65534 --regid=65534 --clear-groups /tmp/nlfuzz --unprivileged",
                  check=False)
        self.assertEqual(r.rc, 0, f"unprivileged: {r.out} {r.err}")
        res = json.loads(r.out.strip().splitlines()[-1])
        self.assertEqual(res["wrong"], [], res)
        self.assertEqual(res["status_errno"], 0, res)
        self.assertGreaterEqual(res["eperm"], 10, res)

    def test_3_valid_requests_still_work(self):
        n = self.n
        create_md(n, force=True)
        adm(n, "up r0")
        adm(n, "new-current-uuid --clear-bitmap r0")
        adm(n, "primary r0")
        n.run("dd if=/dev/urandom of=/tmp/pattern bs=1M count=4 status=none")
        n.run("dd if=/tmp/pattern of=/dev/rblk0 bs=1M oflag=direct status=none")
        want = n.run("sha256sum < /tmp/pattern").out.split()[0]
        got = n.run("dd if=/dev/rblk0 bs=1M count=4 iflag=direct status=none | sha256sum")
        self.assertEqual(got.out.split()[0], want)
        disk = n.run(f"dd if={n.disk} bs=1M count=4 iflag=direct status=none | sha256sum")
        self.assertEqual(disk.out.split()[0], want)
        adm(n, "secondary r0")
        adm(n, "down r0")
        self.assertEqual(status_all(n), [])
        n.rmmod()

    def test_4_lifetime_races(self):
        n = self.n
        self._unload()
        write_conf(n, one_node_conf(n))
        n.insmod()      # its dependencies stay loaded; races.sh uses insmod
        create_md(n, force=True)        # attach needs metadata
        n.rmmod()
        r = n.run(f"{RACES_SH} lifetime {LIFETIME_ROUNDS} {n.module_path} {n.disk} {n.rblkadm}",
                  check=False, timeout=1800)
        self.assertEqual(r.rc, 0, f"races.sh lifetime: {r.out} {r.err}")
        res = json.loads(r.out.strip().splitlines()[-1])
        log(f"FIGURE lifetime races {self.KERNEL}: {json.dumps(res)}")
        self.assertEqual(res["rounds"], LIFETIME_ROUNDS, res)
        self.assertEqual(res["delete_ok"] + res["delete_busy"] + res["delete_gone"],
                         LIFETIME_ROUNDS, res)
        self.assertEqual(res["rmmod_ok"] + res["rmmod_busy"], LIFETIME_ROUNDS, res)
        # both orders happened: the device still open, and already closed
        self.assertGreater(res["delete_busy"] + res["rmmod_busy"], 0,
                           f"no round found the device open: {res}")
        self.assertGreater(res["delete_ok"] + res["rmmod_ok"], 0,
                           f"no round found the device closed: {res}")
        self.assertEqual(n.run("grep -c '^rblk ' /proc/modules", check=False).out.strip(), "0")

    def test_5_concurrent_admin(self):
        n = self.n
        write_conf(n, two_resources_conf(n))
        self._unload()
        n.insmod()
        for res in ("r0", "r1"):
            adm(n, f"create-md --force {res}")
        r = n.run(f"{RACES_SH} concurrent {CONCURRENT_S} 4 {n.rblkadm} {CONF}", check=False,
                  timeout=CONCURRENT_S + 600)
        self.assertEqual(r.rc, 0, f"races.sh concurrent: {r.out} {r.err}")
        res = json.loads(r.out.strip().splitlines()[-1])
        log(f"FIGURE concurrent admin {self.KERNEL}: {json.dumps(res)}")
        self.assertGreater(res["ok"], 0, res)
        for d in status_all(n):
            if d["role"] == "primary":
                n.run(f"{n.rblkadm} set-secondary --minor {d['minor']}")
        adm(n, "down all")
        self.assertEqual(status_all(n), [])
        n.rmmod()
