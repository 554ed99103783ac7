# SPDX-License-Identifier: GPL-2.0
"""Conventions for rblk's VM tests (tests/rig/test_*.py, tests/e2e/test_*.py).

A test is a module-level function named test_* in such a file.  If it takes
a parameter named ``kernel`` it runs once per kernel ("6.1" and "6.12"),
each run a separate unit for tests/run; otherwise it runs once.  Each unit
runs in its own process; whatever it leaves running is powered off after
it, and every cluster it booted has its guest console logs checked.

    from rblktest import Cluster, Skip, kernels, timeout, require_module

    @timeout(600)                 # seconds for the whole unit (default 900)
    def test_something(kernel):
        require_module(kernel)    # Skip unless build/mod-$KVER/rblk.ko exists
        with Cluster(kernel=kernel, nodes=2) as c:
            a, b = c.nodes
            a.insmod(); b.insmod()
            ...
            assert r.out == "...", r.out

    @kernels("6.12")              # only this kernel
    def test_only_new(kernel): ...

A module-level KERNELS = ("6.1",) restricts every test of the file and
TIMEOUT = 1200 sets the file's default.  A test fails on any exception (a
plain assert included), passes on return, and is skipped by raising Skip.

unittest.TestCase classes in these files work too: all the selected test
methods of one class run in one process (so a class can share one cluster
between its tests, set up in setUpClass); each method is reported as a unit
named FILE::CLASS::METHOD.  A class attribute KERNEL ("6.1") marks which
kernel it tests (-k filters on it); RBLK_KERNELS holds the kernels selected
for the run ("6.1 6.12").  The class's time limit is its TIMEOUT attribute,
else the file's TIMEOUT, else 600 s + 300 s per test method.
"""
import os
import sys
import unittest

_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(_here)), "scripts"))

import rig  # noqa: E402
from rig import (Cluster, Node, Result, Job, RigError, BootError, CommandError,  # noqa: E402,F401
                 NodeDown, GuestLogError, module_path, resolve_kernel, RBLKADM, TOP)

KERNELS = ("6.1", "6.12")
# KASAN, lockdep, kmemleak (scripts/debug-kernel); in make check only the
# classes' DEBUG_CORE tests run on it (e2elib.per_kernel)
DEBUG_KERNEL = rig.DEBUG_KERNEL
DEFAULT_TIMEOUT_S = 900


class Skip(unittest.SkipTest):
    """Raise to skip the running test; the message is the reason."""


def kernels(*names):
    """Decorator: run the test only on these kernels."""
    def deco(fn):
        fn.rblk_kernels = tuple(names)
        return fn
    return deco


def timeout(seconds):
    """Decorator: the unit's time limit in seconds."""
    def deco(fn):
        fn.rblk_timeout = seconds
        return fn
    return deco


def require_module(kernel):
    """Skip the test unless rblk.ko is built for kernel; returns its path."""
    path = module_path(resolve_kernel(kernel))
    if not os.path.exists(path):
        raise Skip(f"{os.path.relpath(path, TOP)} not built")
    return path


def require_rblkadm():
    """Skip the test unless userspace/rblkadm is built; returns its path."""
    if not os.path.exists(RBLKADM):
        raise Skip("userspace/rblkadm not built")
    return RBLKADM
