#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/setup/test_pick_kernel.sh - the kernel versions scripts/setup picks
# from `apt-cache madison linux-image-amd64` outputs recorded in fixtures/
# (recorded.madison is a real one, from a Debian 12 machine on 2026-12-01;
# the others are edited copies).  Needs neither root nor network.
# Prints TAP; exits 1 if a check failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
setup="$here/../../scripts/setup"
fx="$here/fixtures"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
fail=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; fail=1; }

# pick FIXTURE SERIES EXPECTED DESC: scripts/setup --pick-kernel prints EXPECTED
pick() {
	local fixture=$1 series=$2 want=$3 desc=$4 got rc
	got=$("$setup" --pick-kernel "$series" <"$fx/$fixture" 2>"$T/err")
	rc=$?
	if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then
		ok "$desc -> $want"
	else
		not_ok "$desc -> $want: got '$got', exit $rc, stderr: $(cat "$T/err")"
	fi
}

# none FIXTURE SERIES DESC: exit 1, nothing on stdout, why on stderr
none() {
	local fixture=$1 series=$2 desc=$3 got rc
	got=$("$setup" --pick-kernel "$series" <"$fixture" 2>"$T/err")
	rc=$?
	if [ "$rc" = 1 ] && [ -z "$got" ] && grep -q "no $series.x version" "$T/err"; then
		ok "$desc -> error"
		echo "# $(cat "$T/err")"
	else
		not_ok "$desc -> error: got '$got', exit $rc, stderr: $(cat "$T/err")"
	fi
}

echo "1..13"
pick backports-first.madison 6.12 6.12.95-1~bpo12+1 "6.12, backports line first"
pick backports-first.madison 6.1 6.1.158-1 "6.1, backports line first"
pick security-first.madison 6.12 6.12.95-1~bpo12+1 "6.12, security line first"
pick security-first.madison 6.1 6.1.158-1 "6.1, security line first"
none "$fx/no-backports.madison" 6.12 "6.12, no backports at all"
pick no-backports.madison 6.1 6.1.158-1 "6.1, no backports at all"
pick other-series-backports.madison 6.12 6.12.95-1~bpo12+1 \
	"6.12, 6.13 and 6.6 backports next to several 6.12 ones"
pick unsorted-612.madison 6.12 6.12.95-1~bpo12+1 "6.12, several 6.12 versions out of order"
pick 61-bookworm-and-security.madison 6.1 6.1.158-1 \
	"6.1, from bookworm and bookworm-security (not proposed-updates, not Sources)"
pick recorded.madison 6.1 6.1.192-3 "6.1, recorded output"
pick recorded.madison 6.12 6.12.95-1~bpo12+1 "6.12, recorded output"
none /dev/null 6.1 "6.1, empty apt lists"
none /dev/null 6.12 "6.12, empty apt lists"
exit $fail
