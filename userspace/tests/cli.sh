#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# cli.sh RBLKADM - command-line checks that need no kernel module: exit codes,
# usage errors, topology-file errors on stderr, "check" output.
# Prints one "ok"/"not ok" line per check (TAP); exits 1 if any failed.
set -u
R=${1:-./rblkadm}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
fail=0

# expect DESC RC STDOUT_FILE_OR_- STDERR_FILE_OR_- -- CMD...
expect() {
	desc=$1 rc=$2 out=$3 err=$4
	shift 5
	n=$((n + 1))
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	bad=
	[ "$got" = "$rc" ] || bad="exit $got, expected $rc"
	if [ -z "$bad" ] && [ "$out" != - ] && ! cmp -s "$out" "$T/out"; then
		bad="stdout differs: $(diff "$out" "$T/out" | head -5)"
	fi
	if [ -z "$bad" ] && [ "$err" != - ] && ! cmp -s "$err" "$T/err"; then
		bad="stderr differs: $(diff "$err" "$T/err" | head -5)"
	fi
	if [ -n "$bad" ]; then
		echo "not ok $n - $desc: $bad"
		fail=1
	else
		echo "ok $n - $desc"
	fi
}

cat >"$T/rblk.conf" <<'EOC'
cluster: hospital-a
resources:
  - name: vm-disk-1
    minor: 0
    assume-clean: true
    nodes:
      - name: node-a
        node-id: 0
        address: 10.0.0.1:7789
        disk: /dev/vda
      - name: node-b
        node-id: 1
        address: 10.0.0.2:7789
        disk: /dev/vdb
EOC
cat >"$T/bad.conf" <<'EOC'
resources:
  - name: vm-disk-1
    minor: 0
    nodes:
      - name: node-a
        node-id: x
        address: 10.0.0.1:7789
EOC

echo "1..18"
expect "--help" 0 - - -- "$R" --help
expect "unknown command" 2 - - -- "$R" frobnicate
expect "up without resource" 2 - - -- "$R" -c "$T/rblk.conf" up
expect "up --help" 0 - - -- "$R" up --help

printf '%s\n' "rblk.conf: ok, 1 resource(s); this node: node-b" \
	"vm-disk-1 minor:0 node-id:1 disk:/dev/vdb" \
	"  node-a node-id:0 peer:10.0.0.1:7790 local:10.0.0.2:7789 (this node listens)" >"$T/check.out"
expect "check (human)" 0 "$T/check.out" - -- sh -c "cd '$T' && '$(realpath "$R")' -c rblk.conf --node node-b check"

printf '%s\n' '{"file":"rblk.conf","cluster_name":"hospital-a","resources":1,"node":"node-a","local_resources":[{"resource_name":"vm-disk-1","minor":0,"node_id":0,"backing_path":"/dev/vda","peers":[{"peer_name":"node-b","peer_node_id":1,"peer_ip":"10.0.0.2","peer_port":7789,"local_ip":"10.0.0.1","local_port":7790,"listens":false,"ping_interval_ms":2000,"ping_timeout_ms":5000,"connect_timeout_ms":5000,"reconnect_min_ms":100,"reconnect_max_ms":10000,"request_timeout_ms":6000,"ko_count":7}]}]}' >"$T/check.json"
expect "check (json)" 0 "$T/check.json" - -- sh -c "cd '$T' && '$(realpath "$R")' -j -c rblk.conf --node node-a check"

echo "rblkadm: $T/bad.conf:6:18: resources[0].nodes[0].node-id: expected an integer 0..31, got 'x'" >"$T/bad.err"
expect "bad topology file" 2 - "$T/bad.err" -- "$R" -c "$T/bad.conf" --node node-a up all

echo "rblkadm: $T/rblk.conf:3:5: resources[0]: this node 'node-z' (--node) is not a node of resource 'vm-disk-1'; use --node NAME" >"$T/nonode.err"
expect "local node missing from resource" 2 - "$T/nonode.err" -- "$R" -c "$T/rblk.conf" --node node-z up vm-disk-1

echo "rblkadm: $T/rblk.conf: this node 'node-z' (--node) is not a node of any resource; use --node NAME" >"$T/noall.err"
expect "local node in no resource" 2 - "$T/noall.err" -- "$R" -c "$T/rblk.conf" --node node-z up all

echo "rblkadm: $T/rblk.conf: no resource 'vm-disk-9' in the file" >"$T/nores.err"
expect "unknown resource" 2 - "$T/nores.err" -- "$R" -c "$T/rblk.conf" --node node-a primary vm-disk-9

echo "rblkadm: $T/rblk.conf: resource 'vm-disk-1' has no peer 'node-a' (a node name or node id other than this node's)" >"$T/nopeer.err"
expect "connect to self" 2 - "$T/nopeer.err" -- "$R" -c "$T/rblk.conf" --node node-a connect vm-disk-1 node-a

expect "low-level option that does not apply" 2 - - -- "$R" attach --minor 0 --force
expect "low-level bad number" 2 - - -- "$R" create-device --minor x
# the first line of stderr (the usage follows it)
echo "rblkadm: add-peer: expected a number, got '7x'" >"$T/ko.err"
expect "add-peer --ko-count bad number" 0 "$T/ko.err" - -- \
	sh -c "'$(realpath "$R")' add-peer --minor 0 --ko-count 7x 2>&1 >/dev/null | head -1"
echo "rblkadm: attach: option --request-timeout-ms does not apply" >"$T/rt.err"
expect "--request-timeout-ms only for add-peer" 0 "$T/rt.err" - -- \
	sh -c "'$(realpath "$R")' attach --minor 0 --request-timeout-ms 6000 2>&1 >/dev/null | head -1"
expect "add-peer --help names --request-timeout-ms and --ko-count" 0 - - -- \
	sh -c "'$(realpath "$R")' add-peer --help | grep -q -- '--request-timeout-ms N. .--ko-count N'"

# the example of rblk.conf(5) is a valid file
man5=$(dirname "$0")/../rblk.conf.5
sed -n '/^\.SH EXAMPLE/,/^\.RE/p' "$man5" | sed '/^\./d' >"$T/example.conf"
expect "rblk.conf(5) example is valid" 0 - - -- "$R" -c "$T/example.conf" --node node-c check

if [ -d /sys/module/rblk ]; then
	echo "ok 18 # skip rblk module is loaded"
else
	echo "rblkadm: rblk kernel module not loaded (modprobe rblk)" >"$T/nomod.err"
	expect "module not loaded" 3 - "$T/nomod.err" -- "$R" create-device --minor 0
fi
exit $fail
