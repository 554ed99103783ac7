#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# ocf.sh AGENT - checks of the OCF resource agent (ocf/rblk) that need no
# module and no cluster: sh -n and shellcheck, meta-data against
# resource-agents' ra-api-1.dtd, validate-all's exit codes, and the state,
# exit code and promotion score of every action against a fake rblkadm
# (canned "status -j" JSON) and a fake crm_master / crm_attribute that
# record their arguments.
# Prints one "ok"/"not ok" line per check (TAP, the plan last); exits 1 if
# any failed.
set -u
A=$(realpath "${1:-ocf/rblk}")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
fail=0

skip() {
	n=$((n + 1))
	echo "ok $n # skip ocf: $1"
}

# name DESC: DESC, or for a sub-check ("  WHAT") "LAST ACTION: WHAT", so
# that every TAP line has its own name
name() {
	case $1 in
	"  "*) echo "$last: ${1#  }" ;;
	*) echo "$1" ;;
	esac
}
last=

# check DESC CMD...: CMD succeeds
check() {
	desc=$(name "$1")
	shift
	n=$((n + 1))
	if "$@" >"$T/out" 2>&1; then
		echo "ok $n - ocf: $desc"
	else
		echo "not ok $n - ocf: $desc: $(head -5 "$T/out")"
		fail=1
	fi
}

# expect_rc DESC RC ACTION: the agent's ACTION exits with RC
expect_rc() {
	desc=$(name "$1") want=$2
	last=$desc
	shift 2
	n=$((n + 1))
	: >"$T/score"
	: >"$T/rblkadm.log"
	"$A" "$@" >"$T/out" 2>&1
	got=$?
	if [ "$got" = "$want" ]; then
		echo "ok $n - ocf: $desc"
	else
		echo "not ok $n - ocf: $desc: exit $got, expected $want: $(head -5 "$T/out")"
		fail=1
	fi
}

# expect_file DESC FILE TEXT: FILE holds exactly TEXT (lines)
expect_file() {
	set -- "$(name "$1")" "$2" "$3"
	n=$((n + 1))
	printf '%s' "$3" >"$T/want"
	[ -z "$3" ] || echo >>"$T/want"
	if cmp -s "$T/want" "$2"; then
		echo "ok $n - ocf: $1"
	else
		echo "not ok $n - ocf: $1: got '$(cat "$2")', expected '$3'"
		fail=1
	fi
}

check "sh -n" sh -n "$A"
if command -v shellcheck >/dev/null 2>&1; then
	check "shellcheck -s sh" shellcheck -s sh "$A"
else
	skip "no shellcheck"
fi

: "${OCF_ROOT:=/usr/lib/ocf}"
export OCF_ROOT
if [ ! -f "$OCF_ROOT/lib/heartbeat/ocf-shellfuncs" ]; then
	skip "no $OCF_ROOT/lib/heartbeat/ocf-shellfuncs (resource-agents): the agent cannot run"
	echo "1..$n"
	exit $fail
fi

RA=/usr/share/resource-agents
"$A" meta-data >"$T/meta.xml"
check "meta-data exits 0" test $? = 0
if command -v xmllint >/dev/null 2>&1 && [ -f "$RA/ra-api-1.dtd" ]; then
	check "meta-data valid by ra-api-1.dtd" \
		sh -c "cd '$RA' && xmllint --noout --dtdvalid ra-api-1.dtd '$T/meta.xml'"
else
	skip "no xmllint or $RA/ra-api-1.dtd"
fi
if command -v xmllint >/dev/null 2>&1 && [ -f "$RA/metadata.rng" ]; then
	check "meta-data valid by metadata.rng" \
		sh -c "cd '$RA' && xmllint --noout --relaxng metadata.rng '$T/meta.xml'"
else
	skip "no xmllint or $RA/metadata.rng"
fi
check "meta-data: promote, demote, notify" \
	sh -c "grep -q 'action name=\"promote\"' '$T/meta.xml' &&
	       grep -q 'action name=\"demote\"' '$T/meta.xml' &&
	       grep -q 'action name=\"notify\"' '$T/meta.xml'"

# The fakes: rblkadm keeps the kernel's state of r0 in $T/state (the JSON
# of "status -j r0"; $T/next_state replaces it after the next status),
# $T/status_rc forces status's exit status; modinfo
# succeeds when $T/modinfo exists; modprobe "loads the module".
mkdir "$T/bin"
cat >"$T/bin/rblkadm" <<'EOF'
#!/bin/sh
echo "$*" >>"$FAKE/rblkadm.log"
while :; do
	case $1 in
	-c|--node) shift 2 ;;
	-j) shift ;;
	*) break ;;
	esac
done
cmd=$1
shift
case $cmd in
check)
	[ -f "$FAKE/names" ] || { echo "rblkadm: $FAKE/rblk.conf:1: bad file" >&2; exit 2; }
	cat "$FAKE/names" ;;
status)
	cat "$FAKE/state"
	# the state the next status shows
	if [ -f "$FAKE/next_state" ]; then
		mv "$FAKE/next_state" "$FAKE/state"
	fi
	if [ -f "$FAKE/status_rc" ]; then
		exit "$(cat "$FAKE/status_rc")"
	fi
	if [ "$(cat "$FAKE/state")" = "[]" ]; then
		echo "rblkadm: status: no resource '$1' configured in the kernel" >&2
		exit 1
	fi ;;
up) cp "$FAKE/up_state" "$FAKE/state" ;;
down) echo "[]" >"$FAKE/state" ;;
primary) sed -i 's/"role":"secondary"/"role":"primary"/' "$FAKE/state" ;;
secondary) sed -i 's/"role":"primary"/"role":"secondary"/' "$FAKE/state" ;;
*) echo "fake rblkadm: $cmd?" >&2; exit 2 ;;
esac
EOF
cat >"$T/bin/crm_master" <<'EOF'
#!/bin/sh
echo "crm_master $*" >>"$FAKE/score"
EOF
cat >"$T/bin/crm_attribute" <<'EOF'
#!/bin/sh
echo "crm_attribute $*" >>"$FAKE/score"
EOF
cat >"$T/bin/modinfo" <<'EOF'
#!/bin/sh
[ -f "$FAKE/modinfo" ]
EOF
cat >"$T/bin/modprobe" <<'EOF'
#!/bin/sh
echo "modprobe $*" >>"$FAKE/rblkadm.log"
rm -f "$FAKE/status_rc"
EOF
chmod +x "$T/bin/"*

if ! command -v jq >/dev/null 2>&1; then
	skip "no jq: the agent cannot parse rblkadm's JSON"
	echo "1..$n"
	exit $fail
fi

export FAKE="$T" HA_SBIN_DIR="$T/bin" PATH="$T/bin:$PATH"
export OCF_RESOURCE_INSTANCE=rblk_test HA_LOGFACILITY=none HA_LOGFILE="" HA_DEBUGLOG=""
unset OCF_RESKEY_crm_feature_set OCF_TESTER_FAIL_HAVE_BINARY
export OCF_RESKEY_CRM_meta_timeout=20000 OCF_RESKEY_CRM_meta_interval=10000

# state ROLE DISK HAS_QUORUM: r0 in the kernel as rblkadm -j status shows it
state() {
	printf '[{"resource_name":"r0","minor":0,"node_id":0,"role":"%s","disk_state":"%s","quorum":null,"has_quorum":%s,"peers":[]}]\n' \
		"$1" "$2" "$3" >"$T/state"
}

unset OCF_RESKEY_resource
echo r0 >"$T/names"
export OCF_RESKEY_config="$T/rblk.conf"
: >"$T/rblk.conf"
expect_rc "validate-all: no resource parameter is OCF_ERR_CONFIGURED" 6 validate-all
export OCF_RESKEY_resource=r0
OCF_RESKEY_config="$T/none.conf" expect_rc \
	"validate-all: no topology file is OCF_ERR_CONFIGURED" 6 validate-all
echo r1 >"$T/names"
expect_rc "validate-all: resource not in the file for this node is OCF_ERR_CONFIGURED" 6 \
	validate-all
rm "$T/names"
expect_rc "validate-all: a bad topology file is OCF_ERR_CONFIGURED" 6 validate-all
echo r0 >"$T/names"
expect_rc "validate-all: good" 0 validate-all
OCF_RESKEY_node=node-b expect_rc "validate-all with node" 0 validate-all
expect_file "validate-all: node passed as --node" "$T/rblkadm.log" \
	"-c $T/rblk.conf --node node-b check --names"
OCF_TESTER_FAIL_HAVE_BINARY=1 expect_rc \
	"validate-all: no rblkadm is OCF_ERR_INSTALLED" 5 validate-all

echo "[]" >"$T/state"
OCF_TESTER_FAIL_HAVE_BINARY=1 OCF_RESKEY_CRM_meta_interval=0 expect_rc \
	"probe without rblkadm is OCF_ERR_INSTALLED" 5 monitor
OCF_RESKEY_CRM_meta_interval=0 expect_rc "probe: not running" 7 monitor
expect_file "probe: not running: no score call" "$T/score" ""
expect_rc "monitor: not running" 7 monitor
unset OCF_RESKEY_resource
expect_rc "no resource parameter: monitor is OCF_ERR_CONFIGURED" 6 monitor
export OCF_RESKEY_resource=r0

echo 3 >"$T/status_rc"
: >"$T/state"
expect_rc "monitor: module not loaded" 7 monitor
OCF_RESKEY_CRM_meta_interval=0 expect_rc \
	"probe: module neither loaded nor installed is OCF_ERR_INSTALLED" 5 monitor
touch "$T/modinfo"
OCF_RESKEY_CRM_meta_interval=0 expect_rc "probe: module installed, not loaded" 7 monitor
echo 4 >"$T/status_rc"
expect_rc "monitor: rblkadm fails (netlink)" 1 monitor
rm "$T/status_rc"
echo "rblkadm: garbage" >"$T/state"
expect_rc "monitor: unparsable JSON" 1 monitor

state secondary up_to_date null
expect_rc "monitor: Secondary UpToDate, no quorum policy" 0 monitor
expect_file "  score 10000" "$T/score" "crm_master -l reboot -v 10000"
state primary up_to_date true
expect_rc "monitor: Primary UpToDate with quorum" 8 monitor
expect_file "  score 10000" "$T/score" "crm_master -l reboot -v 10000"
OCF_RESKEY_CRM_meta_interval=0 expect_rc "probe: Primary" 8 monitor
state secondary up_to_date false
expect_rc "monitor: Secondary UpToDate without quorum" 0 monitor
expect_file "  score removed" "$T/score" "crm_master -l reboot -D"
state primary up_to_date false
expect_rc "monitor: Primary UpToDate without quorum" 8 monitor
expect_file "  score removed" "$T/score" "crm_master -l reboot -D"
for d in consistent outdated inconsistent diskless failed; do
	state secondary "$d" null
	expect_rc "monitor: Secondary $d" 0 monitor
	expect_file "  score removed" "$T/score" "crm_master -l reboot -D"
done
state secondary up_to_date true
OCF_RESKEY_crm_feature_set=3.16.2 expect_rc "monitor: feature set 3.16.2" 0 monitor
expect_file "  score by crm_attribute -p" "$T/score" "crm_attribute -p -v 10000"

state secondary consistent null
OCF_RESKEY_CRM_meta_timeout=8000 expect_rc "promote: Consistent fails (after 2 s)" 1 promote
check "  no rblkadm primary" sh -c "! grep -q primary '$T/rblkadm.log'"
state secondary up_to_date null
mv "$T/state" "$T/next_state"
state secondary consistent null
expect_rc "promote: Consistent turning UpToDate" 0 promote
check "  rblkadm primary r0" grep -qx -- "-c $T/rblk.conf primary r0" "$T/rblkadm.log"
state secondary up_to_date false
expect_rc "promote: no quorum fails" 1 promote
check "  no rblkadm primary" sh -c "! grep -q primary '$T/rblkadm.log'"
state secondary up_to_date true
expect_rc "promote: UpToDate with quorum" 0 promote
check "  rblkadm primary r0" grep -qx -- "-c $T/rblk.conf primary r0" "$T/rblkadm.log"
expect_rc "  monitor: promoted" 8 monitor
expect_rc "promote: already Primary" 0 promote
check "  no second rblkadm primary" sh -c "! grep -q primary '$T/rblkadm.log'"
expect_rc "demote" 0 demote
check "  rblkadm secondary r0" grep -qx -- "-c $T/rblk.conf secondary r0" "$T/rblkadm.log"
expect_file "  score 10000" "$T/score" "crm_master -l reboot -v 10000"
expect_rc "  monitor: demoted" 0 monitor
expect_rc "demote: already Secondary" 0 demote

state primary up_to_date true
expect_rc "stop: Primary" 0 stop
check "  secondary, then down" sh -c "grep -v ' status r0' '$T/rblkadm.log' |
	tr '\n' ';' | grep -qx -- '-c $T/rblk.conf secondary r0;-c $T/rblk.conf down r0;'"
expect_file "  score removed" "$T/score" "crm_master -l reboot -D"
expect_rc "  monitor: stopped" 7 monitor
expect_rc "stop: already stopped" 0 stop
expect_rc "promote: stopped is OCF_NOT_RUNNING" 7 promote
expect_rc "demote: stopped is OCF_NOT_RUNNING" 7 demote

printf '[{"resource_name":"r0","minor":0,"role":"secondary","disk_state":"up_to_date","has_quorum":null,"peers":[]}]\n' \
	>"$T/up_state"
expect_rc "start" 0 start
check "  rblkadm up r0" grep -qx -- "-c $T/rblk.conf up r0" "$T/rblkadm.log"
expect_file "  score 10000" "$T/score" "crm_master -l reboot -v 10000"
expect_rc "  monitor: started" 0 monitor
expect_rc "start: already started" 0 start
check "  no second up" sh -c "! grep -q ' up ' '$T/rblkadm.log'"
echo 3 >"$T/status_rc"
: >"$T/state"
expect_rc "start: module not loaded" 0 start
check "  modprobe rblk, then up" sh -c "grep -v ' status r0' '$T/rblkadm.log' |
	tr '\n' ';' | grep -qx -- '-c $T/rblk.conf check --names;modprobe rblk;-c $T/rblk.conf up r0;'"
OCF_RESKEY_config="$T/none.conf" expect_rc "start: no topology file is OCF_ERR_CONFIGURED" 6 \
	start
expect_rc "notify" 0 notify
expect_rc "unknown action is OCF_ERR_UNIMPLEMENTED" 3 frobnicate

echo "1..$n"
exit $fail
