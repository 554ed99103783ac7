#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# races.sh - lifetime and concurrency races of rblk.ko, run inside a guest
# by test_netlink_fuzz.py (one node, the module not loaded at the start).
#
#   races.sh lifetime ROUNDS MODULE DISK RBLKADM
#	ROUNDS times: insmod, create-device r0 (minor 0), attach DISK every
#	other round, open /dev/rblk0 and /sys/block/rblk0/size, then
#	delete-device and rmmod at once while /dev/rblk0 is closed after a
#	random delay of 0-60 ms.  delete-device must succeed, fail with EBUSY
#	(device open) or find the device or module gone (rmmod won); rmmod
#	must succeed or fail because the module is in use.  Then what is
#	left is deleted, the module's refcount must be 0 and rmmod must
#	succeed.  Prints one JSON line of counts; exit 1 at the first outcome
#	outside those.
#
#   races.sh concurrent SECONDS WORKERS RBLKADM CONF
#	WORKERS processes run random rblkadm up/down/primary/secondary/
#	connect/disconnect/status on r0 and r1 (topology file CONF) for
#	SECONDS; every command must end within 60 s with exit 0, 1 (the
#	kernel refused: EBUSY, EALREADY, ...) or 5 (state conflicts with the
#	file).  Prints one JSON line; exit 1 at the first outcome outside.
set -u

die() {
	echo "races: $*" >&2
	exit 1
}

lifetime() {
	local rounds=$1 ko=$2 disk=$3 adm=$4
	local i del_rc rm_rc del_ok=0 del_busy=0 del_gone=0 rm_ok=0 rm_busy=0 attached=0
	local tmp=/tmp/races.$$
	for ((i = 1; i <= rounds; i++)); do
		grep -q '^rblk ' /proc/modules || insmod "$ko" || die "round $i: insmod failed"
		"$adm" create-device --name r0 --minor 0 --node-id 0 >/dev/null ||
			die "round $i: create-device failed"
		if ((i % 2)); then
			"$adm" attach --minor 0 --disk "$disk" >/dev/null ||
				die "round $i: attach failed"
			attached=$((attached + 1))
		fi
		exec 3</dev/rblk0 || die "round $i: open /dev/rblk0"
		exec 4</sys/block/rblk0/size || die "round $i: open sysfs size"
		# (the racers must not inherit the open files)
		(
			exec 3<&- 4<&-
			"$adm" delete-device --minor 0 >"$tmp.del" 2>&1
			echo $? >"$tmp.del.rc"
		) &
		(
			exec 3<&- 4<&-
			rmmod rblk >"$tmp.rm" 2>&1
			echo $? >"$tmp.rm.rc"
		) &
		# a third of the rounds close at once, the others after 10-60 ms
		((RANDOM % 3 == 0)) || sleep "0.0$((RANDOM % 6 + 1))"
		exec 3<&-
		wait
		cat <&4 >/dev/null 2>&1	# the device may be gone: no oops, an error
		exec 4<&-
		del_rc=$(cat "$tmp.del.rc") rm_rc=$(cat "$tmp.rm.rc")
		case $del_rc in
		0) del_ok=$((del_ok + 1)) ;;
		1)
			if grep -q 'Device or resource busy' "$tmp.del"; then
				del_busy=$((del_busy + 1))
			elif grep -q 'No such device' "$tmp.del"; then
				del_gone=$((del_gone + 1))
			else
				die "round $i: delete-device: $(cat "$tmp.del")"
			fi
			;;
		3 | 4) del_gone=$((del_gone + 1)) ;;	# module unloaded under it
		*) die "round $i: delete-device exit $del_rc: $(cat "$tmp.del")" ;;
		esac
		case $rm_rc in
		0) rm_ok=$((rm_ok + 1)) ;;
		*)
			grep -q 'in use' "$tmp.rm" || die "round $i: rmmod: $(cat "$tmp.rm")"
			rm_busy=$((rm_busy + 1))
			;;
		esac
		if grep -q '^rblk ' /proc/modules; then
			"$adm" delete-device --minor 0 >/dev/null 2>"$tmp.del"
			del_rc=$?
			[ "$del_rc" = 0 ] || grep -q 'No such device' "$tmp.del" ||
				die "round $i: last delete-device: $(cat "$tmp.del")"
			[ "$(cat /sys/module/rblk/refcnt)" = 0 ] ||
				die "round $i: refcnt $(cat /sys/module/rblk/refcnt) with no device"
			rmmod rblk || die "round $i: rmmod with no device failed"
		fi
	done
	rm -f "$tmp".*
	printf '{"rounds": %d, "attached": %d, "delete_ok": %d, "delete_busy": %d, ' \
		"$rounds" "$attached" "$del_ok" "$del_busy"
	printf '"delete_gone": %d, "rmmod_ok": %d, "rmmod_busy": %d}\n' \
		"$del_gone" "$rm_ok" "$rm_busy"
}

worker() {
	local end=$1 adm=$2 conf=$3 out=$4 res cmd rc
	local cmds=(up down primary secondary connect disconnect "status -s")
	while ((SECONDS < end)); do
		res=r$((RANDOM % 2))
		cmd=${cmds[RANDOM % ${#cmds[@]}]}
		# shellcheck disable=SC2086 # cmd is a command and its options
		timeout 60 "$adm" -c "$conf" $cmd "$res" >/dev/null 2>"$out.err"
		rc=$?
		case $rc in
		0 | 1 | 5) echo "$rc" >>"$out" ;;
		124) die "rblkadm $cmd $res did not return within 60 s" ;;
		*) die "rblkadm $cmd $res: exit $rc: $(cat "$out.err")" ;;
		esac
	done
}

concurrent() {
	local seconds=$1 workers=$2 adm=$3 conf=$4 i pids=() fail=0
	local tmp=/tmp/races.$$ end=$((SECONDS + seconds))
	for ((i = 0; i < workers; i++)); do
		: >"$tmp.$i"
		worker "$end" "$adm" "$conf" "$tmp.$i" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || fail=1
	done
	[ "$fail" = 0 ] || exit 1
	printf '{"workers": %d, "seconds": %d, "commands": %d, "ok": %d, "refused": %d, ' \
		"$workers" "$seconds" "$(cat "$tmp".[0-9]* | wc -l)" \
		"$(cat "$tmp".[0-9]* | grep -cx 0)" "$(cat "$tmp".[0-9]* | grep -cx 1)"
	printf '"conflicts": %d}\n' "$(cat "$tmp".[0-9]* | grep -cx 5)"
	rm -f "$tmp".*
}

case ${1:-} in
lifetime)
	[ $# = 5 ] || die "usage: races.sh lifetime ROUNDS MODULE DISK RBLKADM"
	lifetime "$2" "$3" "$4" "$5"
	;;
concurrent)
	[ $# = 5 ] || die "usage: races.sh concurrent SECONDS WORKERS RBLKADM CONF"
	concurrent "$2" "$3" "$4" "$5"
	;;
*)
	die "usage: races.sh lifetime|concurrent ..."
	;;
esac
