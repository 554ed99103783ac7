#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# cli.sh RBLKADM - command-line checks that need no kernel module: exit codes,
# usage errors, topology-file errors on stderr, "check" output, the libblkid
# probe of create-md.
# Prints one "ok"/"not ok" line per check (TAP, the plan last); exits 1 if
# any failed.
set -u
R=${1:-./rblkadm}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
PATH=$PATH:/usr/sbin:/sbin
n=0
fail=0

# skip WHY: a check that cannot run here
skip() {
	n=$((n + 1))
	echo "ok $n # skip $1"
}

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
    nodes:
      - name: node-a
        node-id: 0
        address: 10.0.0.1:7789
        disk: /dev/vda
      - name: node-b
        node-id: 1
        address: 10.0.0.2:7789
        disk: /dev/vdb
        meta-disk: /dev/vdm
        on-io-error: pass-on
      - name: node-c
        node-id: 2
        address: 10.0.0.3:7789
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

expect "--help" 0 - - -- "$R" --help
expect "unknown command" 2 - - -- "$R" frobnicate
expect "up without resource" 2 - - -- "$R" -c "$T/rblk.conf" up
expect "up --help" 0 - - -- "$R" up --help

printf '%s\n' "rblk.conf: ok, 1 resource(s); this node: node-b" \
	"vm-disk-1 minor:0 node-id:1 disk:/dev/vdb meta-disk:/dev/vdm on-io-error:pass-on" \
	"  node-a node-id:0 peer:10.0.0.1:7790 local:10.0.0.2:7789 (this node listens)" \
	"  node-c node-id:2 peer:10.0.0.3:7790 local:10.0.0.2:7791 (this node dials)" >"$T/check.out"
expect "check (human)" 0 "$T/check.out" - -- sh -c "cd '$T' && '$(realpath "$R")' -c rblk.conf --node node-b check"

printf '%s\n' '{"file":"rblk.conf","cluster_name":"hospital-a","resources":1,"node":"node-a","local_resources":[{"resource_name":"vm-disk-1","minor":0,"node_id":0,"backing_path":"/dev/vda","meta_disk":"internal","on_io_error":"detach","peers":[{"peer_name":"node-b","peer_node_id":1,"peer_ip":"10.0.0.2","peer_port":7789,"local_ip":"10.0.0.1","local_port":7790,"listens":false,"ping_interval_ms":2000,"ping_timeout_ms":5000,"connect_timeout_ms":5000,"reconnect_min_ms":100,"reconnect_max_ms":10000,"request_timeout_ms":6000,"ko_count":7,"resync_rate_kib_per_s":0,"resync_latency_ms":50},{"peer_name":"node-c","peer_node_id":2,"peer_ip":"10.0.0.3","peer_port":7789,"local_ip":"10.0.0.1","local_port":7791,"listens":false,"ping_interval_ms":2000,"ping_timeout_ms":5000,"connect_timeout_ms":5000,"reconnect_min_ms":100,"reconnect_max_ms":10000,"request_timeout_ms":6000,"ko_count":7,"resync_rate_kib_per_s":0,"resync_latency_ms":50}]}]}' >"$T/check.json"
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
expect "events --help names --now and events_lost" 0 - - -- \
	sh -c "'$(realpath "$R")' events --help | grep -q -- 'events_lost' &&
		'$(realpath "$R")' events --help | grep -q -- '--now '"
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

# ---- quorum: the file's keys, primary --ignore-quorum, device-options

sed 's/^    minor: 0$/    minor: 0\n    options: {quorum: 4}/' "$T/rblk.conf" >"$T/quorum4.conf"
echo "rblkadm: $T/quorum4.conf:5:23: resources[0].options.quorum: 4 votes exceed the number of nodes of resource 'vm-disk-1' (3): expected off, majority or 1..3" >"$T/quorum4.err"
expect "quorum: more votes than nodes" 2 - "$T/quorum4.err" -- "$R" -c "$T/quorum4.conf" --node node-a check
expect "quorum: up sends nothing" 2 - "$T/quorum4.err" -- "$R" -c "$T/quorum4.conf" --node node-c up all
sed 's/^cluster: hospital-a$/cluster: hospital-a\noptions:\n  on-no-quorum: freeze/' "$T/rblk.conf" >"$T/onq.conf"
echo "rblkadm: $T/onq.conf:3:17: options.on-no-quorum: expected suspend-io or io-error, got 'freeze'" >"$T/onq.err"
expect "on-no-quorum: bad value" 2 - "$T/onq.err" -- "$R" -c "$T/onq.conf" --node node-a check
sed 's/^    minor: 0$/    minor: 0\n    options:\n      quorum: majority\n      on-no-quorum: io-error/' "$T/rblk.conf" >"$T/quorum.conf"
expect "quorum: majority, on-no-quorum: io-error are valid" 0 - - -- \
	"$R" -c "$T/quorum.conf" --node node-c check
expect_usage "device-options --quorum bad value" \
	"rblkadm: device-options: expected off, majority or a number, got 'most'" \
	device-options --minor 0 --quorum most
expect_usage "device-options --on-no-quorum bad value" \
	"rblkadm: device-options: expected suspend-io, io-error or a number 0..255, got 'freeze'" \
	device-options --minor 0 --on-no-quorum freeze
expect_usage "--ignore-quorum only for set-primary" \
	"rblkadm: set-secondary: option --ignore-quorum does not apply" \
	set-secondary --minor 0 --ignore-quorum
expect_usage "--quorum only for device-options" \
	"rblkadm: attach: option --quorum does not apply" attach --minor 0 --quorum majority
expect "secondary --ignore-quorum is not an option" 2 - - -- \
	"$R" -c "$T/rblk.conf" --node node-a secondary --ignore-quorum vm-disk-1
for c in "primary:--ignore-quorum" "set-primary:--ignore-quorum" \
	 "device-options:--quorum off|majority|N" "device-options:--on-no-quorum suspend-io|io-error" \
	 "device-options:--auto-promote yes|no" \
	 "device-options:--fencing off|resource-only|resource-and-stonith" \
	 "device-options:--fence-handler PATH" "device-options:--data-digest none|crc32c" \
	 "device-options:--read-balancing prefer-local|round-robin|least-pending|when-congested-remote"; do
	expect "${c%%:*} --help names ${c#*:}" 0 - - -- \
		sh -c "'$(realpath "$R")' ${c%%:*} --help | grep -q -- '\[${c#*:}\]'"
done

# ---- auto-promote and fencing: the file's keys, device-options, resume-io

sed 's/^    minor: 0$/    minor: 0\n    options: {fencing: resource-only}/' "$T/rblk.conf" >"$T/nohandler.conf"
echo "rblkadm: $T/nohandler.conf:5:24: resources[0].options.fencing: fencing resource-only needs a fence-handler (the program run to fence a lost peer): add fence-handler: /absolute/path, or fencing: off" >"$T/nohandler.err"
expect "fencing without fence-handler" 2 - "$T/nohandler.err" -- "$R" -c "$T/nohandler.conf" --node node-a check
expect "fencing without fence-handler: up sends nothing" 2 - "$T/nohandler.err" -- \
	"$R" -c "$T/nohandler.conf" --node node-a up all
sed 's/^    minor: 0$/    minor: 0\n    options: {fence-handler: fence-peer}/' "$T/rblk.conf" >"$T/relhandler.conf"
echo "rblkadm: $T/relhandler.conf:5:30: resources[0].options.fence-handler: expected an absolute path of the fence-peer handler (starting with /), got 'fence-peer'" >"$T/relhandler.err"
expect "fence-handler: relative path" 2 - "$T/relhandler.err" -- "$R" -c "$T/relhandler.conf" --node node-a check
sed 's/^    minor: 0$/    minor: 0\n    options:\n      auto-promote: yes\n      fencing: resource-and-stonith\n      fence-handler: \/usr\/lib\/rblk\/fence-peer/' "$T/rblk.conf" >"$T/fencing.conf"
expect "auto-promote, fencing, fence-handler are valid" 0 - - -- \
	"$R" -c "$T/fencing.conf" --node node-a check
expect_usage "device-options --fencing bad value" \
	"rblkadm: device-options: expected off, resource-only, resource-and-stonith or a number 0..255, got 'stonith'" \
	device-options --minor 0 --fencing stonith
expect_usage "device-options --data-digest bad value" \
	"rblkadm: device-options: expected none, crc32c or a number 0..255, got 'md5'" \
	device-options --minor 0 --data-digest md5
expect_usage "device-options --read-balancing bad value" \
	"rblkadm: device-options: expected prefer-local, round-robin, least-pending, when-congested-remote or a number 0..255, got 'nearest'" \
	device-options --minor 0 --read-balancing nearest
expect_usage "--read-balancing only for device-options" \
	"rblkadm: attach: option --read-balancing does not apply" \
	attach --minor 0 --read-balancing round-robin
expect_usage "device-options --auto-promote bad value" \
	"rblkadm: device-options: expected no, yes or a number 0..255, got 'true'" \
	device-options --minor 0 --auto-promote true
expect_usage "--fence-handler only for device-options" \
	"rblkadm: attach: option --fence-handler does not apply" attach --minor 0 --fence-handler /x
expect_usage "device-options: --minor and a device" \
	"rblkadm: device-options: unexpected argument 'vm-disk-1'" \
	-c "$T/rblk.conf" device-options --minor 0 --fencing off vm-disk-1
echo "rblkadm: $T/rblk.conf: no resource 'nope' in the file" >"$T/nores.err"
expect "device-options: unknown resource" 2 - "$T/nores.err" -- \
	"$R" -c "$T/rblk.conf" device-options nope --fencing off
expect "resume-io: unknown resource" 2 - "$T/nores.err" -- "$R" -c "$T/rblk.conf" resume-io nope
expect_usage "resume-io without a device" \
	"rblkadm: resume-io: expected one resource name or minor" resume-io
expect "help lists resume-io" 0 - - -- \
	sh -c "'$(realpath "$R")' help | grep -q '^  resume-io  *RES|MINOR\$'"
expect "resume-io --help: not for a quorum suspension" 0 - - -- \
	sh -c "'$(realpath "$R")' resume-io --help | grep -q 'Does not override a quorum'"

# ---- monitoring: status --health, metrics, doctor

for c in "status:--health"; do
	expect "${c%%:*} --help names ${c#*:}" 0 - - -- \
		sh -c "'$(realpath "$R")' ${c%%:*} --help | grep -q -- '\[${c#*:}\]'"
done
expect "help lists metrics and doctor" 0 - - -- \
	sh -c "'$(realpath "$R")' help | grep -c '^  \(metrics\|doctor\)  *\[RES\]\$' | grep -qx 2"
expect "help names exit codes 6 and 7" 0 - - -- \
	sh -c "'$(realpath "$R")' help | grep -q '6 degraded, 7 critical'"
expect "status --help defines healthy" 0 - - -- \
	sh -c "'$(realpath "$R")' status --help | grep -q 'status 0 healthy, 6 degraded, 7 critical'"
expect_usage "metrics: -j does not apply" \
	"rblkadm: metrics: -j does not apply: the output is the Prometheus text format" -j metrics
expect_usage "metrics with two resources" \
	"rblkadm: metrics: expected at most one resource name" metrics a b
expect_usage "doctor with two resources" \
	"rblkadm: doctor: expected at most one resource name" doctor a b
expect_usage "status --health with two resources" \
	"rblkadm: status: expected at most one resource name" status --health a b

# the example of rblk.conf(5) is a valid file
man5=$(dirname "$0")/../rblk.conf.5
sed -n '/^\.SH EXAMPLE/,/^\.RE/p' "$man5" | sed '/^\./d' >"$T/example.conf"
expect "rblk.conf(5) example is valid" 0 - - -- "$R" -c "$T/example.conf" --node node-c check

# ---- metadata: assume-clean is gone, meta-disk, create-md, dump-md,
# new-current-uuid, connect --discard-my-data

sed 's/^    minor: 0$/    minor: 0\n    assume-clean: true/' "$T/rblk.conf" >"$T/assume.conf"
printf '%s\n' "rblkadm: $T/assume.conf:5:5: resources[0].assume-clean: assume-clean is no longer supported: the metadata decides the disk state; run 'rblkadm create-md RES' on every node, then, only for disks known to hold identical data (e.g. new, all zeroes), 'rblkadm new-current-uuid --clear-bitmap RES' once on one node while the nodes are connected" >"$T/assume.err"
expect "assume-clean is an error, with what replaces it" 2 - "$T/assume.err" -- \
	"$R" -c "$T/assume.conf" --node node-a check
expect "assume-clean: up sends nothing" 2 - "$T/assume.err" -- \
	"$R" -c "$T/assume.conf" --node node-a up all

sed 's|meta-disk: /dev/vdm|meta-disk: extern|' "$T/rblk.conf" >"$T/badmeta.conf"
echo "rblkadm: $T/badmeta.conf:14:20: resources[0].nodes[1].meta-disk: expected internal or an absolute device path shorter than 256 bytes, got 'extern'" >"$T/badmeta.err"
expect "meta-disk: bad value" 2 - "$T/badmeta.err" -- "$R" -c "$T/badmeta.conf" --node node-a check

expect_usage "create-md without resource" \
	"rblkadm: create-md: expected one resource name" -c "$T/rblk.conf" create-md
expect_usage "create-md with two resources" \
	"rblkadm: create-md: expected one resource name" -c "$T/rblk.conf" create-md a b
expect "create-md --clear-bitmap is not an option" 2 - - -- \
	"$R" -c "$T/rblk.conf" --node node-a create-md --clear-bitmap vm-disk-1
expect_usage "dump-md without resource" \
	"rblkadm: dump-md: expected one resource name" -c "$T/rblk.conf" dump-md
expect "dump-md --force is not an option" 2 - - -- \
	"$R" -c "$T/rblk.conf" --node node-a dump-md --force vm-disk-1
expect_usage "new-current-uuid without resource" \
	"rblkadm: new-current-uuid: expected one resource name" -c "$T/rblk.conf" new-current-uuid
expect_usage "new-current-uuid with two resources" \
	"rblkadm: new-current-uuid: expected one resource name" \
	-c "$T/rblk.conf" new-current-uuid --clear-bitmap a b
expect "disconnect --discard-my-data is not an option" 2 - - -- \
	"$R" -c "$T/rblk.conf" --node node-a disconnect --discard-my-data vm-disk-1
expect "attach --assume-uptodate is gone" 2 - - -- \
	"$R" attach --minor 0 --disk /dev/vda --assume-uptodate
expect_usage "--meta-disk only for attach" \
	"rblkadm: detach: option --meta-disk does not apply" detach --minor 0 --meta-disk /dev/vdm
expect_usage "--discard-my-data only for connect-peer" \
	"rblkadm: disconnect-peer: option --discard-my-data does not apply" \
	disconnect-peer --minor 0 --discard-my-data
for c in "create-md:--force" "new-current-uuid:--clear-bitmap" "connect:--discard-my-data" \
	 "attach:--meta-disk PATH" "connect-peer:--discard-my-data"; do
	expect "${c%%:*} --help names ${c#*:}" 0 - - -- \
		sh -c "'$(realpath "$R")' ${c%%:*} --help | grep -q -- '\[${c#*:}\]'"
done
expect "help lists the metadata commands" 0 - - -- \
	sh -c "'$(realpath "$R")' help | grep -c '^  \(create-md\|dump-md\|new-current-uuid\) ' | grep -qx 3"

echo "rblkadm: $T/rblk.conf: create-md: node 'node-c' has no disk in resource 'vm-disk-1' (diskless: no metadata)" >"$T/diskless.err"
expect "create-md on a diskless node" 2 - "$T/diskless.err" -- \
	"$R" -c "$T/rblk.conf" --node node-c create-md vm-disk-1

# create-md probes the disk and the meta-disk with libblkid before it sends
cat >"$T/md.conf" <<EOC
resources:
  - name: r0
    minor: 0
    nodes:
      - {name: node-a, node-id: 0, address: 10.0.0.1:7789, disk: $T/disk-a}
      - {name: node-b, node-id: 1, address: 10.0.0.2:7789, disk: $T/disk-b, meta-disk: $T/meta-b}
      - {name: node-c, node-id: 2, address: 10.0.0.3:7789, disk: $T/missing}
EOC
truncate -s 8M "$T/disk-a" "$T/disk-b" "$T/meta-b"
echo "rblkadm: create-md: cannot probe $T/missing: No such file or directory" >"$T/missing.err"
expect "create-md: disk missing" 4 - "$T/missing.err" -- "$R" -c "$T/md.conf" --node node-c create-md r0
if command -v mkfs.ext4 >/dev/null 2>&1 && mkfs.ext4 -q -F "$T/disk-a" >/dev/null 2>&1; then
	echo "rblkadm: create-md: $T/disk-a holds an ext4 filesystem; refusing (use --force to overwrite)" >"$T/ext4.err"
	expect "create-md refuses a disk with a file system" 1 - "$T/ext4.err" -- \
		"$R" -c "$T/md.conf" --node node-a create-md r0
else
	skip "mkfs.ext4 not available"
fi
if command -v mkswap >/dev/null 2>&1 && mkswap "$T/meta-b" >/dev/null 2>&1; then
	echo "rblkadm: create-md: $T/meta-b holds a swap signature; refusing (use --force to overwrite)" >"$T/swap.err"
	expect "create-md refuses a meta-disk with a signature" 1 - "$T/swap.err" -- \
		"$R" -c "$T/md.conf" --node node-b create-md r0
else
	skip "mkswap not available"
fi

if [ -d /sys/module/rblk ]; then
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24; do
		skip "rblk module is loaded"
	done
else
	echo "rblkadm: rblk kernel module not loaded (modprobe rblk)" >"$T/nomod.err"
	expect "module not loaded" 3 - "$T/nomod.err" -- "$R" create-device --minor 0
	# both words and a number pass the command line; the kernel is next
	expect "attach --on-io-error accepted" 3 - "$T/nomod.err" -- \
		"$R" attach --minor 0 --disk /dev/vda --on-io-error pass-on --on-io-error 7
	expect "attach --meta-disk accepted" 3 - "$T/nomod.err" -- \
		"$R" attach --minor 0 --disk /dev/vda --meta-disk /dev/vdm
	expect "connect-peer --discard-my-data accepted" 3 - "$T/nomod.err" -- \
		"$R" connect-peer --minor 0 --discard-my-data
	expect "connect --discard-my-data accepted" 3 - "$T/nomod.err" -- \
		"$R" -c "$T/rblk.conf" --node node-a connect --discard-my-data vm-disk-1 node-b
	expect "new-current-uuid --clear-bitmap accepted" 3 - "$T/nomod.err" -- \
		"$R" -c "$T/rblk.conf" --node node-a new-current-uuid --clear-bitmap vm-disk-1
	expect "dump-md RES -j: options after the operand" 3 - "$T/nomod.err" -- \
		"$R" -c "$T/rblk.conf" --node node-a dump-md vm-disk-1 -j
	expect "connect RES PEER --discard-my-data" 3 - "$T/nomod.err" -- \
		"$R" -c "$T/rblk.conf" --node node-b connect vm-disk-1 node-a --discard-my-data
	# nothing on the disks: the probe passes, the kernel is next
	truncate -s 0 "$T/meta-b"
	truncate -s 8M "$T/meta-b"
	expect "create-md: blank disk and meta-disk pass the probe" 3 - "$T/nomod.err" -- \
		"$R" -c "$T/md.conf" --node node-b create-md r0
	# --force: no probe (disk-a's ext4 signature does not matter)
	expect "create-md --force skips the probe" 3 - "$T/nomod.err" -- \
		"$R" -c "$T/md.conf" --node node-a create-md --force r0
	# quorum: the flag, the low-level command and a witness's up reach the kernel
	expect "primary --ignore-quorum accepted" 3 - "$T/nomod.err" -- \
		"$R" -c "$T/rblk.conf" --node node-a primary --force --ignore-quorum vm-disk-1
	expect "set-primary --ignore-quorum accepted" 3 - "$T/nomod.err" -- \
		"$R" set-primary --minor 0 --ignore-quorum
	expect "device-options: words and numbers accepted" 3 - "$T/nomod.err" -- \
		"$R" device-options --minor 0 --quorum majority --on-no-quorum io-error --quorum 40 \
		--on-no-quorum 7
	expect "up of a witness with quorum" 3 - "$T/nomod.err" -- \
		"$R" -c "$T/quorum.conf" --node node-c up -n vm-disk-1
	# auto-promote and fencing: words, numbers and '' reach the kernel
	expect "device-options: new options accepted" 3 - "$T/nomod.err" -- \
		"$R" device-options --minor 0 --auto-promote yes --fencing resource-and-stonith \
		--fence-handler /usr/lib/rblk/fence-peer --auto-promote 2 --fencing 9 --fence-handler ''
	expect "device-options --data-digest accepted" 3 - "$T/nomod.err" -- \
		"$R" device-options --minor 0 --data-digest crc32c --data-digest 7
	expect "device-options --read-balancing accepted" 3 - "$T/nomod.err" -- \
		"$R" device-options --minor 0 --read-balancing when-congested-remote \
		--read-balancing 9
	expect "device-options RES" 3 - "$T/nomod.err" -- \
		"$R" -c "$T/rblk.conf" device-options vm-disk-1 --fencing off
	expect "device-options MINOR needs no file" 3 - "$T/nomod.err" -- \
		"$R" -c "$T/none.conf" device-options 7 --auto-promote no
	expect "resume-io RES" 3 - "$T/nomod.err" -- "$R" -c "$T/rblk.conf" resume-io vm-disk-1
	expect "resume-io MINOR needs no file" 3 - "$T/nomod.err" -- "$R" -c "$T/none.conf" resume-io 0
	expect "up with auto-promote and fencing" 3 - "$T/nomod.err" -- \
		"$R" -c "$T/fencing.conf" --node node-a up -n vm-disk-1
	# monitoring: the module's absence is not a health verdict
	expect "status --health without the module" 3 - "$T/nomod.err" -- \
		"$R" -c "$T/rblk.conf" --node node-a status --health
	expect "metrics without the module" 3 - "$T/nomod.err" -- \
		"$R" -c "$T/rblk.conf" --node node-a metrics
	expect "doctor without the module" 3 - "$T/nomod.err" -- \
		"$R" -c "$T/rblk.conf" --node node-a doctor vm-disk-1
	expect "doctor -j without the module" 3 - "$T/nomod.err" -- "$R" -j doctor
	expect "events --now without the module" 3 - "$T/nomod.err" -- "$R" -j events --now
fi
# check --names: this node's resources, for scripts and shell completion
printf 'vm-disk-1\n' >"$T/names.out"
expect "check --names" 0 "$T/names.out" - -- "$R" -c "$T/rblk.conf" --node node-b check --names
printf '["vm-disk-1"]\n' >"$T/names.json"
expect "check --names -j" 0 "$T/names.json" - -- "$R" -c "$T/rblk.conf" --node node-b -j check --names
: >"$T/empty"
expect "check --names, a node without resources" 0 "$T/empty" - -- \
	"$R" -c "$T/rblk.conf" --node node-x check --names

# bash completion: commands, options and resources come from rblkadm itself
COMPLETION=$(dirname "$0")/../rblkadm.bash-completion
if command -v bash >/dev/null 2>&1; then
	mkdir -p "$T/bin"
	ln -sf "$(realpath "$R")" "$T/bin/rblkadm"
	# complete WORDS...: what completing the last word offers, one line
	complete_words() {
		PATH="$T/bin:$PATH" bash -c '. "$1"; shift; COMP_WORDS=("$@")
			COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _rblkadm; echo "${COMPREPLY[*]}"' \
			sh "$COMPLETION" "$@"
	}
	echo primary >"$T/c1"
	expect "completion: a command" 0 "$T/c1" - -- complete_words rblkadm pri
	echo "vm-disk-1 all" >"$T/c2"
	expect "completion: resources of up" 0 "$T/c2" - -- \
		complete_words rblkadm -c "$T/rblk.conf" --node node-a up ""
	echo "--config --force --ignore-quorum --node --help" >"$T/c3"
	expect "completion: options of primary" 0 "$T/c3" - -- complete_words rblkadm primary --
	echo "detach pass-on" >"$T/c4"
	expect "completion: on-io-error" 0 "$T/c4" - -- \
		complete_words rblkadm attach --minor 0 --on-io-error ""
	echo "round-robin" >"$T/c6"
	expect "completion: read-balancing" 0 "$T/c6" - -- \
		complete_words rblkadm device-options --read-balancing r
	echo "vm-disk-1" >"$T/c7"
	expect "completion: resource after --read-balancing WORD" 0 "$T/c7" - -- \
		complete_words rblkadm -c "$T/rblk.conf" --node node-a device-options \
		--read-balancing least-pending ""
	echo "suspend-io io-error" >"$T/c8"
	expect "completion: on-no-quorum" 0 "$T/c8" - -- \
		complete_words rblkadm device-options --on-no-quorum ""
	echo "resource-only resource-and-stonith" >"$T/c9"
	expect "completion: fencing" 0 "$T/c9" - -- \
		complete_words rblkadm device-options --fencing res
	echo "crc32c" >"$T/c10"
	expect "completion: data-digest" 0 "$T/c10" - -- \
		complete_words rblkadm device-options --data-digest c
	echo "vm-disk-1" >"$T/c11"
	expect "completion: resource after --fencing WORD" 0 "$T/c11" - -- \
		complete_words rblkadm -c "$T/rblk.conf" --node node-a device-options \
		--fencing off ""
	echo >"$T/c5"
	expect "completion: no second resource" 0 "$T/c5" - -- \
		complete_words rblkadm -c "$T/rblk.conf" --node node-a primary vm-disk-1 ""
else
	skip "no bash: completion"
fi
echo "1..$n"
exit $fail
