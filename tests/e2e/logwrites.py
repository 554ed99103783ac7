#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Reader and replayer of dm-log-writes logs.

The device-mapper target ``log-writes`` (drivers/md/dm-log-writes.c,
Documentation/admin-guide/device-mapper/log-writes.rst) passes every write
to its data device and records it on a log device, in the order the writes
reached stable storage: a write is logged only at the flush (REQ_PREFLUSH)
that followed its completion, a FUA write when it completes.  Replaying the
log up to a flush or FUA entry gives what the data device could hold after a
power cut at that point.

The log format, as the kernel writes it (version 1), in units of the data
device's logical block size ``sectorsize`` (the super block says which):

* block 0: the super block, little-endian ``magic`` (u64, 0x6a736677736872),
  ``version`` (u64, 1), ``nr_entries`` (u64), ``sectorsize`` (u32).  The
  kernel rewrites it at every FUA or mark entry and when the target is
  removed, so ``nr_entries`` counts the entries known to be on the log.
* from block 1, one entry after the other: a header block, little-endian
  ``sector`` (u64, in sectorsize units of the data device), ``nr_sectors``
  (u64, same unit), ``flags`` (u64: FLUSH 1, FUA 2, DISCARD 4, MARK 8,
  METADATA 16) and ``data_len`` (u64); a mark's text (data_len bytes) is in
  the header block after these 32 bytes.  Unless the entry is a discard or
  a mark, ``nr_sectors`` blocks of data follow the header.

Used as a module by the crash-consistency tests (``entries``, ``Replay``)
and as a command::

    logwrites.py list LOG                     # one line per entry
    logwrites.py replay LOG IMAGE [--end N]   # apply entries 0..N-1 to IMAGE
    logwrites.py points LOG                   # indexes of flush/FUA entries

LOG and IMAGE are files or block devices; IMAGE is written in place (it
should start as the data device did when the log began: for a target
created over a zeroed device, a zeroed or new sparse file).
"""
import argparse
import os
import struct
import sys

MAGIC = 0x6a736677736872
VERSION = 1
FLUSH, FUA, DISCARD, MARK, METADATA = 1, 2, 4, 8, 16
FLAG_NAMES = ((FLUSH, "flush"), (FUA, "fua"), (DISCARD, "discard"), (MARK, "mark"),
              (METADATA, "metadata"))

SUPER = struct.Struct("<QQQI")
ENTRY = struct.Struct("<QQQQ")


class LogError(Exception):
    """The log is not a dm-log-writes log, or an entry is malformed."""


class Entry:
    """One logged entry: `index` (0-based), `sector` and `nr_sectors` (in
    the log's sectorsize units), `flags`, `mark` (str, marks only),
    `data_offset` (byte offset of its data in the log, None without
    data)."""

    __slots__ = ("index", "sector", "nr_sectors", "flags", "mark", "data_offset")

    def __init__(self, index, sector, nr_sectors, flags, mark, data_offset):
        self.index, self.sector, self.nr_sectors = index, sector, nr_sectors
        self.flags, self.mark, self.data_offset = flags, mark, data_offset

    @property
    def is_point(self):
        """A flush or FUA entry: a point a power cut could leave the disk at."""
        return bool(self.flags & (FLUSH | FUA))

    def describe(self):
        names = [n for f, n in FLAG_NAMES if self.flags & f] or ["write"]
        text = f"{self.index} {'|'.join(names)} sector {self.sector} +{self.nr_sectors}"
        return text + (f" {self.mark!r}" if self.mark is not None else "")


def read_super(f):
    """(nr_entries, sectorsize) of the open log file f."""
    f.seek(0)
    raw = f.read(SUPER.size)
    if len(raw) < SUPER.size:
        raise LogError("log shorter than its super block")
    magic, version, nr_entries, sectorsize = SUPER.unpack(raw)
    if magic != MAGIC:
        raise LogError(f"bad magic {magic:#x} (not a dm-log-writes log)")
    if version != VERSION:
        raise LogError(f"log version {version}, this reader knows {VERSION}")
    if sectorsize < 512 or sectorsize & (sectorsize - 1) or sectorsize > 65536:
        raise LogError(f"bad sectorsize {sectorsize}")
    return nr_entries, sectorsize


def entries(f):
    """Yield every Entry of the open log file f, in log order (the order
    the writes became stable).  Raises LogError on a malformed entry."""
    nr_entries, bs = read_super(f)
    size = f.seek(0, os.SEEK_END)
    pos = bs
    for i in range(nr_entries):
        if pos + bs > size:
            raise LogError(f"entry {i} at byte {pos} beyond the log's end ({size})")
        f.seek(pos)
        hdr = f.read(bs)
        sector, nr_sectors, flags, data_len = ENTRY.unpack_from(hdr)
        mark = None
        if flags & MARK:
            if data_len > bs - ENTRY.size:
                raise LogError(f"entry {i}: mark of {data_len} bytes")
            mark = hdr[ENTRY.size:ENTRY.size + data_len].decode("utf-8", "replace")
        pos += bs
        data_offset = None
        if not flags & (DISCARD | MARK) and nr_sectors:
            data_offset = pos
            pos += nr_sectors * bs
            if pos > size:
                raise LogError(f"entry {i}: data beyond the log's end")
        yield Entry(i, sector, nr_sectors, flags, mark, data_offset)


def read_data(f, entry, bs):
    """The data bytes of a write entry (nr_sectors * bs)."""
    f.seek(entry.data_offset)
    return f.read(entry.nr_sectors * bs)


class Replay:
    """Applies the entries of a log to an image file, one at a time.

    Usage: ``with Replay(log_path, image_path) as r: for e in r: ...``: the
    iteration applies each entry to the image before yielding it, so at a
    flush point (``e.is_point``) the image holds what the data device
    could after a power cut there.  Discards write zeroes (what a zeroing
    device returns; others may return old data).  on_apply(entry, data),
    if given, is called after each write or discard entry was applied, with
    the bytes written (zeroes for a discard)."""

    def __init__(self, log_path, image_path, on_apply=None, skip=()):
        self.skip = set(skip)     # entry indexes not applied (test controls)
        self.log = open(log_path, "rb")
        self.nr_entries, self.bs = read_super(self.log)
        self.image = open(image_path, "r+b")
        self.on_apply = on_apply

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.log.close()
        self.image.close()

    def apply(self, e):
        """Write entry e to the image; returns the bytes written (None for
        a mark or an empty flush)."""
        if e.flags & MARK or e.index in self.skip:
            return None
        if e.flags & DISCARD:
            data = bytes(e.nr_sectors * self.bs)
        elif e.data_offset is not None:
            data = read_data(self.log, e, self.bs)
        else:
            return None
        self.image.seek(e.sector * self.bs)
        self.image.write(data)
        if self.on_apply:
            self.on_apply(e, data)
        return data

    def __iter__(self):
        for e in list(entries(self.log)):
            self.apply(e)
            self.image.flush()
            yield e


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list").add_argument("log")
    sub.add_parser("points").add_argument("log")
    rp = sub.add_parser("replay")
    rp.add_argument("log")
    rp.add_argument("image")
    rp.add_argument("--end", type=int, default=None,
                    help="apply entries 0..END-1 only (default: all)")
    a = p.parse_args(argv)
    try:
        if a.cmd == "replay":
            with Replay(a.log, a.image) as r:
                for e in list(entries(r.log)):
                    if a.end is not None and e.index >= a.end:
                        break
                    r.apply(e)
            return 0
        with open(a.log, "rb") as f:
            for e in entries(f):
                if a.cmd == "list":
                    print(e.describe())
                elif e.is_point:
                    print(e.index)
    except (LogError, OSError) as e:
        print(f"logwrites: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
