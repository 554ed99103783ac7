#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/packaging/test_deb.sh - the Debian packages, on the host (no VM):
# `make deb` builds them into build/deb/, lintian finds no error and no
# warning that debian/*.lintian-overrides does not override, the .debs hold
# what they must, rblk.service passes systemd-analyze verify, and DKMS
# builds rblk.ko from rblk-dkms's sources with the vermagic of the kernel:
# in make check for Debian 12's 6.1 (the kbuild of both kernels runs there
# anyway), with RBLK_SOAK=1 (make soak) for both kernels of
# build/kernels.env (else every /lib/modules/*/build).  DKMS works in a temporary tree (--dkmstree, --sourcetree)
# and does not sign: /var/lib/dkms and /usr/src are not touched.
# Prints TAP; exits 1 if a check failed.  Skipped without the tools that
# scripts/setup installs.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); echo "not ok $n - $1"; fail=1
	[ -f "${2:-}" ] && sed 's/^/# /' "$2"
}
check() { # check WHAT LOG CMD...: ok when CMD succeeds
	local what=$1 log=$2; shift 2
	if "$@" >"$log" 2>&1; then ok "$what"; else not_ok "$what" "$log"; fi
}

missing=
for t in dpkg-buildpackage dh dh_dkms dkms lintian fakeroot modinfo; do
	command -v "$t" >/dev/null || missing="$missing $t"
done
if [ -n "$missing" ]; then
	echo "1..1"
	echo "ok 1 - Debian packages # SKIP missing$missing (run scripts/setup)"
	exit 0
fi

kvers=
if [ -f "$top/build/kernels.env" ]; then
	# shellcheck disable=SC1091
	kvers=$(. "$top/build/kernels.env" && echo "${KVER_61:-} ${KVER_612:-}")
	[ "${RBLK_SOAK:-}" = 1 ] || kvers=${kvers%% *}
fi
if [ -z "${kvers// /}" ]; then
	for d in /lib/modules/*/build; do
		[ -d "$d" ] && kvers="$kvers $(basename "$(dirname "$d")")"
	done
fi
read -ra kvers <<<"$kvers"
echo "1..$((5 + ${#kvers[@]}))"

deb=$top/build/deb
version=$(cd "$top" && dpkg-parsechangelog -S Version)
# cmocka runs in make check already: nocheck.
if ! DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" make -C "$top" deb >"$T/make.log" 2>&1 </dev/null ||
	[ ! -f "$deb/rblk-dkms_${version}_all.deb" ] ||
	! ls "$deb"/rblk-utils_"${version}"_*.deb >/dev/null 2>&1; then
	not_ok "make deb builds rblk-dkms and rblk-utils $version" "$T/make.log"
	for i in $(seq 2 $((5 + ${#kvers[@]}))); do echo "not ok $i - # SKIP make deb failed"; done
	exit 1
fi
ok "make deb builds rblk-dkms and rblk-utils $version"
utils=$(ls "$deb"/rblk-utils_"${version}"_*.deb)
dkmsdeb=$deb/rblk-dkms_${version}_all.deb

# lintian (single-threaded, slow) runs while DKMS compiles.
lintian --fail-on error,warning "$deb"/rblk_"${version}"_*.changes >"$T/lintian.log" 2>&1 &
lintian_pid=$!

# Contents.
dpkg-deb -c "$utils" | awk '{print $6}' >"$T/utils.list"
dpkg-deb -c "$dkmsdeb" | awk '{print $6}' >"$T/dkms.list"
absent=
for f in ./usr/sbin/rblkadm ./usr/share/man/man8/rblkadm.8.gz ./usr/share/man/man5/rblk.conf.5.gz \
	./usr/share/bash-completion/completions/rblkadm ./lib/systemd/system/rblk.service \
	./lib/modules-load.d/rblk.conf ./lib/udev/rules.d/65-rblk.rules \
	./usr/lib/ocf/resource.d/rblk/rblk; do
	grep -qxF "$f" "$T/utils.list" || absent="$absent $f"
done
what="rblk-utils holds rblkadm, man pages, completion, unit, modules-load.d, udev rule, OCF agent"
if [ -z "$absent" ]; then ok "$what"
else not_ok "$what (missing:$absent)" "$T/utils.list"; fi

src=./usr/src/rblk-$version
absent=
for f in dkms.conf Kbuild Kconfig main.c rblk_int.h compat.h include/uapi/linux/rblk.h; do
	grep -qxF "$src/$f" "$T/dkms.list" || absent="$absent $f"
done
for f in kernel/*.c kernel/*.h; do
	grep -qxF "$src/${f#kernel/}" "$T/dkms.list" || absent="$absent ${f#kernel/}"
done
mkdir -p "$T/root" "$T/src" "$T/dkms"
dpkg-deb -x "$utils" "$T/root" && dpkg-deb -x "$dkmsdeb" "$T/root"
conf=$T/root/usr/src/rblk-$version/dkms.conf
for l in 'PACKAGE_NAME="rblk"' "PACKAGE_VERSION=\"$version\"" 'BUILT_MODULE_NAME[0]="rblk"' \
	'DEST_MODULE_LOCATION[0]="/updates/dkms"' 'AUTOINSTALL="yes"'; do
	grep -qxF "$l" "$conf" 2>/dev/null || absent="$absent dkms.conf:$l"
done
if [ -z "$absent" ]; then ok "rblk-dkms holds kernel/'s sources and dkms.conf in /usr/src/rblk-$version"
else not_ok "rblk-dkms holds kernel/'s sources and dkms.conf (missing:$absent)" "$T/dkms.list"; fi

# The unit as packaged, its rblkadm the one of the package.
if command -v systemd-analyze >/dev/null; then
	sed "s|/usr/sbin/rblkadm|$T/root/usr/sbin/rblkadm|g" "$T/root/lib/systemd/system/rblk.service" >"$T/rblk.service"
	check "systemd-analyze verify rblk.service" "$T/verify.log" systemd-analyze verify --man=no "$T/rblk.service"
else
	ok "systemd-analyze verify rblk.service # SKIP no systemd-analyze"
fi

# DKMS, as the package's postinst would run it, for each kernel.
cp -a "$T/root/usr/src/rblk-$version" "$T/src/"
for k in "${kvers[@]}"; do
	what="dkms build for $k: rblk.ko with vermagic $k"
	if [ ! -d "/lib/modules/$k/build" ]; then
		not_ok "$what (no /lib/modules/$k/build: run scripts/setup)"
		continue
	fi
	# sign_file: a file that is not there, so DKMS neither makes nor uses
	# a signing key (/var/lib/dkms/mok.key).
	if ! sign_file=$T/no-sign-file dkms build -m rblk -v "$version" -k "$k" \
		--dkmstree "$T/dkms" --sourcetree "$T/src" >"$T/dkms-$k.log" 2>&1 </dev/null; then
		cat "$T"/dkms/rblk/"$version"/build/make.log >>"$T/dkms-$k.log" 2>/dev/null
		not_ok "$what" "$T/dkms-$k.log"
		continue
	fi
	ko=$(ls "$T"/dkms/rblk/"$version"/"$k"/*/module/rblk.ko* 2>/dev/null)
	magic=$(modinfo -F vermagic "$ko" 2>>"$T/dkms-$k.log")
	if [ -n "$ko" ] && [ "${magic%% *}" = "$k" ]; then
		ok "$what"
		# for tests/rig/test_rig.py's test_insmod: loaded in a guest
		mkdir -p "$deb/dkms/$k" && cp "$ko" "$deb/dkms/$k/"
	else
		echo "module: ${ko:-none}, vermagic: $magic" >>"$T/dkms-$k.log"
		not_ok "$what" "$T/dkms-$k.log"
	fi
done

if wait "$lintian_pid" && ! grep -q '^[EW]: ' "$T/lintian.log"; then
	ok "lintian: no errors or warnings"
	sed 's/^/# /' "$T/lintian.log"
else
	not_ok "lintian: no errors or warnings" "$T/lintian.log"
fi
exit $fail
