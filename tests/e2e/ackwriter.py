#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Numbered, self-describing writes with acknowledgements, for crash
consistency checks (tests/e2e/test_crash.py).

usage: ackwriter.py DEV SEED BATCHES PER_BATCH REGION_BLOCKS [DEPTH [FIRST]]

Batch k (FIRST..FIRST+BATCHES-1, FIRST default 1) writes PER_BATCH distinct
4 KiB blocks chosen in [0, REGION_BLOCKS) by a generator seeded with SEED
and k, DEPTH at a time (threads, each its own O_DIRECT pwrite), then
fdatasync()s DEV (a cache flush through rblk to every replica) and prints
"acked k": from then on the writes of batch k (and of every batch before
it) are acknowledged as stable.  The next batch starts only then.

Each block holds its own identity: 8 bytes ``RBLKCRSH``, the batch and the
block index (u64 little-endian each), and a filler derived from both, so a
checker reading any replica's image can tell which batch wrote a block, or
that a block is torn or foreign.  ``plan(seed, batches, per_batch,
region_blocks)`` and ``identify(block_bytes)`` are the checker's half.
"""
import hashlib
import mmap
import os
import random
import struct
import sys
from concurrent.futures import ThreadPoolExecutor

BLOCK = 4096
MAGIC = b"RBLKCRSH"
HEAD = struct.Struct("<8sQQ")


def batch_blocks(seed, k, per_batch, region_blocks):
    """The blocks batch k writes (the same for any writer of that seed)."""
    return random.Random(seed * 1000003 + k).sample(range(region_blocks), per_batch)


def plan(seed, batches, per_batch, region_blocks, first=1):
    """[[block, ...] for batch first..first+batches-1]."""
    return [batch_blocks(seed, k, per_batch, region_blocks)
            for k in range(first, first + batches)]


def content(batch, block):
    """The 4096 bytes batch `batch` writes to block `block`."""
    head = HEAD.pack(MAGIC, batch, block)
    fill = hashlib.sha256(head).digest()
    body = (fill * (BLOCK // len(fill) + 1))[:BLOCK - len(head)]
    return head + body


def identify(data, block):
    """The batch that wrote these 4096 bytes of block `block`: 0 for a block
    of zeroes, None for anything else (torn, foreign, misplaced)."""
    if data == bytes(BLOCK):
        return 0
    magic, batch, blk = HEAD.unpack_from(data)
    if magic != MAGIC or blk != block or data != content(batch, block):
        return None
    return batch


class Ledger:
    """The host's record of what writers of one seed issued and what they
    acknowledged, and the check of a device image against it.

    issue(k): batch k was (maybe) started; ack(k): "acked k" was read.
    check(data) returns the problems of `data` (the first region_blocks
    blocks of a device, as bytes): a block whose content is not a whole
    block of an issued batch or zeroes; a block older than the last
    acknowledged batch that wrote it (a lost write); torn or foreign
    blocks are tolerated only where an unacknowledged batch newer than
    that wrote."""

    def __init__(self, seed, per_batch, region_blocks):
        self.seed, self.per_batch, self.region_blocks = seed, per_batch, region_blocks
        self.issued, self.acked = set(), set()
        self.writers = {}           # block -> batches that write it

    def issue(self, k):
        if k not in self.issued:
            self.issued.add(k)
            for blk in batch_blocks(self.seed, k, self.per_batch, self.region_blocks):
                self.writers.setdefault(blk, []).append(k)

    def ack(self, k):
        self.issue(k)
        self.acked.add(k)

    @property
    def next_batch(self):
        return max(self.issued, default=0) + 1

    def check(self, data):
        problems = []
        for blk in range(self.region_blocks):
            got = identify(data[blk * BLOCK:(blk + 1) * BLOCK], blk)
            ks = self.writers.get(blk, ())
            want = max((k for k in ks if k in self.acked), default=0)
            if got is None:
                if not any(k > want and k not in self.acked for k in ks):
                    problems.append(f"block {blk}: torn or foreign (last acknowledged write: "
                                    f"batch {want})")
            elif got < want:
                problems.append(f"block {blk}: batch {got}, but batch {want} was acknowledged")
            elif got and got not in ks:
                problems.append(f"block {blk}: batch {got}, which never wrote it")
        return problems


def main(argv):
    dev, seed, batches, per_batch, region = argv[0], *map(int, argv[1:5])
    depth = int(argv[5]) if len(argv) > 5 else 4
    first = int(argv[6]) if len(argv) > 6 else 1
    fd = os.open(dev, os.O_WRONLY | os.O_DIRECT)

    def write(batch, block):
        with mmap.mmap(-1, BLOCK) as buf:   # page-aligned, as O_DIRECT needs
            buf.write(content(batch, block))
            n = os.pwrite(fd, buf, block * BLOCK)
        if n != BLOCK:
            raise OSError(f"short write of block {block}: {n} bytes")

    with ThreadPoolExecutor(max_workers=depth) as pool:
        for k in range(first, first + batches):
            blocks = batch_blocks(seed, k, per_batch, region)
            list(pool.map(lambda b, k=k: write(k, b), blocks))
            os.fdatasync(fd)
            print(f"acked {k}", flush=True)
    os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
