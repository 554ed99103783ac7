#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/setup/test_repeat.sh [RUNS] - scripts/setup, run RUNS times (default
# 5; 20 with RBLK_SOAK=1) in a row on a prepared machine, exits 0 every time and leaves the same
# build/kernels.env every time; the runs after the first update, install and
# extract nothing.  Needs root and a machine scripts/setup has prepared
# (skipped otherwise).  Prints TAP; exits 1 if a check failed.
set -u

if [ "${RBLK_SOAK:-}" = 1 ]; then runs=${1:-20}; else runs=${1:-5}; fi
top=$(cd "$(dirname "$0")/../.." && pwd)
env="$top/build/kernels.env"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0

if [ "$(id -u)" != 0 ] || [ ! -f "$env" ]; then
	why="needs root"
	[ "$(id -u)" != 0 ] || why="machine not prepared (no build/kernels.env: run scripts/setup)"
	echo "1..1"
	echo "ok 1 - setup runs $runs times in a row # SKIP $why"
	exit 0
fi
echo "1..$((runs + 1))"

for i in $(seq 1 "$runs"); do
	"$top/scripts/setup" >"$T/run$i.log" 2>&1 </dev/null
	rc=$?
	what="setup run $i of $runs: exit 0, same build/kernels.env"
	if [ "$i" = 1 ] && [ -f "$env" ]; then
		cp "$env" "$T/kernels.env.1"
	fi
	if [ "$rc" = 0 ] && cmp -s "$env" "$T/kernels.env.1"; then
		echo "ok $i - $what"
	else
		echo "not ok $i - $what (exit $rc$(cmp -s "$env" "$T/kernels.env.1" || echo ", kernels.env differs"))"
		sed 's/^/# /' "$T/run$i.log"
		[ -f "$env" ] && sed 's/^/# kernels.env: /' "$env"
		fail=1
	fi
done

busy=
for i in $(seq 2 "$runs"); do
	if grep -Eq '^setup: (adding|apt-get update|installing|extracting)' "$T/run$i.log"; then
		busy="$busy $i"
	fi
done
what="setup runs 2 to $runs update, install and extract nothing"
if [ -z "$busy" ]; then
	echo "ok $((runs + 1)) - $what"
else
	echo "not ok $((runs + 1)) - $what (runs$busy did)"
	fail=1
fi
sed 's/^/# run 1: /' "$T/run1.log"
exit $fail
