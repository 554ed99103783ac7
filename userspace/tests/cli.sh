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

# first_err ARGS...: rblkadm ARGS, printing only the first line of its
# stderr (the usage follows it); returns rblkadm's exit status
first_err() {
	"$R" "$@" >/dev/null 2>"$T/first.err"
	rc1=$?
	head -1 "$T/first.err"
	return $rc1
}

# expect_usage DESC MESSAGE ARGS...: exit status 2, MESSAGE first on stderr
expect_usage() {
	printf '%s\n' "$2" >"$T/usage.err"
	desc1=$1
	shift 2
	expect "$desc1" 2 "$T/usage.err" - -- first_err "$@"
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
        on-io-error: pass-on
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

echo "1..24"
expect "--help" 0 - - -- "$R" --help
expect "unknown command" 2 - - -- "$R" frobnicate
expect "up without resource" 2 - - -- "$R" -c "$T/rblk.conf" up
expect "up --help" 0 - - -- "$R" up --help

printf '%s\n' "rblk.conf: ok, 1 resource(s); this node: node-b" \
	"vm-disk-1 minor:0 node-id:1 disk:/dev/vdb on-io-error:pass-on" \
	"  node-a node-id:0 peer:10.0.0.1:7790 local:10.0.0.2:7789 (this node listens)" >"$T/check.out"
expect "check (human)" 0 "$T/check.out" - -- sh -c "cd '$T' && '$(realpath "$R")' -c rblk.conf --node node-b check"

printf '%s\n' '{"file":"rblk.conf","cluster_name":"hospital-a","resources":1,"node":"node-a","local_resources":[{"resource_name":"vm-disk-1","minor":0,"node_id":0,"backing_path":"/dev/vda","on_io_error":"detach","peers":[{"peer_name":"node-b","peer_node_id":1,"peer_ip":"10.0.0.2","peer_port":7789,"local_ip":"10.0.0.1","local_port":7790,"listens":false,"ping_interval_ms":2000,"ping_timeout_ms":5000,"connect_timeout_ms":5000,"reconnect_min_ms":100,"reconnect_max_ms":10000,"request_timeout_ms":6000,"ko_count":7}]}]}' >"$T/check.json"
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
expect_usage "add-peer --ko-count bad number" \
	"rblkadm: add-peer: expected a number, got '7x'" add-peer --minor 0 --ko-count 7x
expect_usage "--request-timeout-ms only for add-peer" \
	"rblkadm: attach: option --request-timeout-ms does not apply" \
	attach --minor 0 --request-timeout-ms 6000
expect "add-peer --help names --request-timeout-ms and --ko-count" 0 - - -- \
	sh -c "'$(realpath "$R")' add-peer --help | grep -q -- '--request-timeout-ms N. .--ko-count N'"
expect_usage "attach --on-io-error bad value" \
	"rblkadm: attach: expected detach, pass-on or a number 0..255, got 'passon'" \
	attach --minor 0 --on-io-error passon
expect_usage "attach --on-io-error number above 255" \
	"rblkadm: attach: expected detach, pass-on or a number 0..255, got '256'" \
	attach --minor 0 --on-io-error 256
expect_usage "--on-io-error only for attach" \
	"rblkadm: add-peer: option --on-io-error does not apply" add-peer --minor 0 --on-io-error detach
expect "attach --help names --on-io-error" 0 - - -- \
	sh -c "'$(realpath "$R")' attach --help | grep -q -- '--on-io-error detach|pass-on'"
expect "check -j: pass-on is pass_on" 0 - - -- \
	sh -c "'$(realpath "$R")' -j -c '$T/rblk.conf' --node node-b check | grep -q '\"on_io_error\":\"pass_on\"'"

# the example of rblk.conf(5) is a valid file
man5=$(dirname "$0")/../rblk.conf.5
sed -n '/^\.SH EXAMPLE/,/^\.RE/p' "$man5" | sed '/^\./d' >"$T/example.conf"
expect "rblk.conf(5) example is valid" 0 - - -- "$R" -c "$T/example.conf" --node node-c check

if [ -d /sys/module/rblk ]; then
	echo "ok 23 # skip rblk module is loaded"
	echo "ok 24 # skip rblk module is loaded"
else
	echo "rblkadm: rblk kernel module not loaded (modprobe rblk)" >"$T/nomod.err"
	expect "module not loaded" 3 - "$T/nomod.err" -- "$R" create-device --minor 0
	# both words and a number pass the command line; the kernel is next
	expect "attach --on-io-error accepted" 3 - "$T/nomod.err" -- \
		"$R" attach --minor 0 --disk /dev/vda --on-io-error pass-on --on-io-error 7
fi
exit $fail
