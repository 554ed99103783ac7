#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Numbered, self-describing writes with acknowledgements, for crash
consistency checks (tests/e2e/test_crash.py).

usage: ackwriter.py DEV SEED BATCHES PER_BATCH REGION_BLOCKS [DEPTH]

Batch k (1..BATCHES) writes PER_BATCH distinct 4 KiB blocks chosen in
[0, REGION_BLOCKS) by random.Random(SEED), DEPTH at a time (threads, each
its own O_DIRECT pwrite), then fdatasync()s DEV (a cache flush through
rblk to every replica) and prints "acked k": from then on the writes of
batches 1..k are acknowledged as stable.  The next batch starts only then.

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


def plan(seed, batches, per_batch, region_blocks):
    """[[block, ...] for batch 1..batches]: the blocks each batch writes."""
    rng = random.Random(seed)
    return [rng.sample(range(region_blocks), per_batch) for _ in range(batches)]


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


def main(argv):
    dev, seed, batches, per_batch, region = argv[0], *map(int, argv[1:5])
    depth = int(argv[5]) if len(argv) > 5 else 4
    fd = os.open(dev, os.O_WRONLY | os.O_DIRECT)

    def write(batch, block):
        with mmap.mmap(-1, BLOCK) as buf:   # page-aligned, as O_DIRECT needs
            buf.write(content(batch, block))
            n = os.pwrite(fd, buf, block * BLOCK)
        if n != BLOCK:
            raise OSError(f"short write of block {block}: {n} bytes")

    with ThreadPoolExecutor(max_workers=depth) as pool:
        for k, blocks in enumerate(plan(seed, batches, per_batch, region), start=1):
            list(pool.map(lambda b, k=k: write(k, b), blocks))
            os.fdatasync(fd)
            print(f"acked {k}", flush=True)
    os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
