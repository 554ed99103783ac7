# SPDX-License-Identifier: GPL-2.0
"""Random faults in rounds, and every acknowledged write kept.

Three data nodes in a full mesh with ``quorum: majority`` and fast
connection timing (QuorumBase of test_quorum.py).  A writer
(``ackwriter.py``) runs on the primary all the time: numbered batches of
self-describing 4 KiB blocks over the first 8 MiB, each batch followed by
fdatasync and a line "acked k" that the host records as it arrives: the
record of acknowledged writes lives outside the rig, and the writer's
batch numbers go on across primaries.

Each round picks one fault at random: power cut of the primary, power cut
of a secondary, the primary cut off from both others, a secondary cut off,
a clean reboot of a secondary.  When the primary is lost, one of the
survivors (which keep quorum) is promoted; the image of its device must
hold every acknowledged write (``ackwriter.Ledger.check``: no acknowledged
write missing, no torn or foreign block except where an unacknowledged
batch wrote).  After every round the faulty node is back, all nodes are
connected and UpToDate, the writer is stopped and the primary's image
checked the same way; never two primaries with quorum (a primary cut off
from the majority stays primary, its writes suspended).  After the last round every
replica's data area is equal.

``make check``: three rounds on one kernel (power cut of the primary, the
primary cut off, power cut of a secondary, in a random order).  ``make
soak`` (RBLK_SOAK=1): 200 random rounds (``RBLK_CHAOS_ROUNDS``) on both
kernels; RBLK_SEED repeats an order (the seed is printed); the counts go to
a FIGURE line.
"""
import os
import random
import time

from e2elib import (DEV, RES, SOAK, adm, log, per_kernel, status, wait_until)
from test_quorum import QuorumBase, roles

import ackwriter  # noqa: E402  (tests/e2e is on the path of the tests)
import rig  # noqa: E402

MIB = 1 << 20
REGION_BLOCKS = 8 * MIB // ackwriter.BLOCK
PER_BATCH = 8
KINDS = ("kill_primary", "kill_secondary", "isolate_primary", "isolate_secondary",
         "reboot_secondary")
# make check: one round of each of these, in a random order
CHECK_KINDS = ("kill_primary", "isolate_primary", "kill_secondary")
ROUNDS = int(os.environ.get("RBLK_CHAOS_ROUNDS", "200")) if SOAK else len(CHECK_KINDS)
PROMOTE_S = 30


class Writer:
    """ackwriter.py on one node; every "acked k" line goes to the ledger as
    it arrives."""

    def __init__(self, node, ledger, seed):
        self.node, self.ledger, self.buf = node, ledger, b""
        first = ledger.next_batch
        ledger.issue(first)
        self.job = node.spawn(f"exec python3 {os.path.dirname(ackwriter.__file__)}/ackwriter.py "
                              f"{DEV} {seed} 1000000 {PER_BATCH} {REGION_BLOCKS} 4 {first}",
                              on_output=self.output)

    def output(self, stream, chunk):
        if stream != "out":
            return
        self.buf += chunk
        *lines, self.buf = self.buf.split(b"\n")
        for line in lines:
            if line.startswith(b"acked "):
                k = int(line.split()[1])
                self.ledger.ack(k)
                self.ledger.issue(k + 1)

    def stop(self, timeout_s=120):
        """SIGKILL the writer (its in-flight batch stays unacknowledged);
        returns once it has ended (or its node is down)."""
        try:
            self.job.kill()
            self.job.wait(timeout=timeout_s)
        except rig.NodeDown:
            pass


@per_kernel
class ChaosRounds(QuorumBase):
    NODES = 3
    DISK_MIB = 64
    # on one kernel in make check (CI budget), on both in make soak
    ONE_KERNEL = {"*": "6.1"}
    # a round takes 25-30 s on a quiet machine; room for a loaded one
    TIMEOUT = 600 + 60 * ROUNDS if SOAK else 1200

    def acked_grows(self, ledger, n, what):
        have = len(ledger.acked)
        wait_until(lambda: len(ledger.acked) >= have + n, 60, f"{n} more acknowledged batches "
                   f"({what})")

    def promote_survivor(self, survivors):
        deadline = time.monotonic() + PROMOTE_S
        while time.monotonic() < deadline:
            for o in survivors:
                if adm(o, f"primary {RES}", check=False, quiet=True).rc == 0:
                    return o
            time.sleep(0.5)
        self.fail(f"no survivor promoted within {PROMOTE_S} s: "
                  f"{[(o.name, status(o)['disk_state']) for o in survivors]}")

    def check_image(self, node, ledger, what):
        """Read the region of node's device (primary) into the run dir and
        check it against the ledger."""
        path = os.path.join(self.c.run_dir, f"chaos-{node.name}.bin")
        node.run(f"dd if={DEV} of={path} bs=1M count={REGION_BLOCKS * ackwriter.BLOCK // MIB} "
                 f"iflag=direct status=none", quiet=True)
        with open(path, "rb") as f:
            data = f.read()
        problems = ledger.check(data)
        self.expect(not problems, f"{what}: {node.name}'s device lacks acknowledged writes "
                                  f"({len(ledger.acked)} batches acknowledged): "
                                  + "; ".join(problems[:5]))
        return data

    def one_primary(self, what):
        """At most one primary that may write: a primary cut off from the
        majority stays primary with its writes suspended (no quorum)."""
        sts = {n.name: status(n) for n in self.data if n.up}
        prim = [name for name, st in sts.items()
                if st["role"] == "primary" and st.get("has_quorum") is not False]
        self.expect(len(prim) <= 1, f"{what}: two primaries with quorum {prim}")

    def test_1_rounds(self):
        """Random faults in rounds under acknowledged writes: nothing
        acknowledged is lost, never two primaries, replicas equal."""
        rng = random.Random(int(os.environ.get("RBLK_SEED", "0")) or None)
        seed = rng.randrange(1 << 30)
        rng = random.Random(seed)
        kinds = (rng.sample(CHECK_KINDS, len(CHECK_KINDS)) if not SOAK
                 else [rng.choice(KINDS) for _ in range(ROUNDS)])
        log(f"chaos: seed {seed}, {ROUNDS} rounds")
        ledger = ackwriter.Ledger(seed, PER_BATCH, REGION_BLOCKS)
        p = self.data[0]
        adm(p, f"primary {RES}")
        w = Writer(p, ledger, seed)
        counts, t0 = {}, time.monotonic()
        for i, kind in enumerate(kinds):
            counts[kind] = counts.get(kind, 0) + 1
            secondaries = [n for n in self.data if n is not p]
            s = rng.choice(secondaries)
            self.acked_grows(ledger, 3, f"round {i} start")
            log(f"round {i}: {kind} (primary {p.name}{'' if 'primary' in kind else ', ' + s.name})"
                f", {len(ledger.acked)} batches acknowledged")
            if kind in ("kill_primary", "isolate_primary"):
                if kind == "kill_primary":
                    self.c.kill(p)
                else:
                    self.cut_off(p)
                new = self.promote_survivor(secondaries)
                self.one_primary(f"round {i}")
                if kind == "kill_primary":
                    w.stop()
                self.check_image(new, ledger, f"round {i} ({kind}), new primary")
                if kind == "kill_primary":
                    self.boot(p)
                else:
                    self.reconnect(p)
                    wait_until(lambda: status(p)["role"] == "secondary", 60,
                               f"{p.name} to step down")
                    w.stop()
                p = new
                w = Writer(p, ledger, seed)
            elif kind in ("kill_secondary", "reboot_secondary"):
                if kind == "kill_secondary":
                    self.c.kill(s)
                else:
                    self.c.shutdown(s)
                self.acked_grows(ledger, 3, f"round {i}, {s.name} down")
                self.boot(s)
            else:
                self.cut_off(s)
                self.acked_grows(ledger, 3, f"round {i}, {s.name} cut off")
                self.one_primary(f"round {i}")
                self.reconnect(s)
            self.settled()
            self.one_primary(f"round {i}")
            w.stop()
            self.check_image(p, ledger, f"after round {i} ({kind})")
            w = Writer(p, ledger, seed)
        self.acked_grows(ledger, 3, "after the last round")
        w.stop()
        data = self.check_image(p, ledger, "at the end")
        # negative control: the image with one acknowledged block zeroed
        blk = next(b for b, ks in sorted(ledger.writers.items())
                   if any(k in ledger.acked for k in ks))
        bad = data[:blk * ackwriter.BLOCK] + bytes(ackwriter.BLOCK) + \
            data[(blk + 1) * ackwriter.BLOCK:]
        self.assertTrue(ledger.check(bad), f"the ledger must miss block {blk} zeroed")
        self.equal_replicas()
        self.fig(f"{ROUNDS} rounds in {time.monotonic() - t0:.0f} s (seed {seed}): "
                 + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                 + f"; {len(ledger.acked)} batches acknowledged, "
                 f"{len(self.wrong)} wrong outcomes; "
                 f"roles at the end {roles(self.c.nodes)}")
        adm(p, f"secondary {RES}")
        self.verdict()
