#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the rig's guest kernel (x86_64, PVH-bootable vmlinux) from Debian's
# linux-source-6.12 and print the path of the cached image on stdout.
#
# The image is cached under ${XDG_CACHE_HOME:-~/.cache}/pfdk-kernel/<key>/,
# where <key> hashes the source package version, this script and the config
# fragment, so a second run on the same machine skips the build.
#
# Exit status: 0 built or cached, 77 the kernel source cannot be had (a skip,
# reason on stderr), 1 the build failed or an option did not stick.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC_TAR=${PFDK_KERNEL_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
FRAG=$HERE/pfdk-guest.config
JOBS=${PFDK_KERNEL_JOBS:-$(nproc)}

if [ ! -r "$SRC_TAR" ]; then
	echo "kernel rig: $SRC_TAR not found (apt-get install linux-source-6.12)" >&2
	exit 77
fi
ver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null ||
      stat -c '%s-%Y' "$SRC_TAR")
key=$( { echo "$ver"; cat "$0" "$FRAG"; } | sha256sum | cut -c1-16)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/pfdk-kernel/$key
if [ -s "$CACHE/vmlinux" ] && [ -s "$CACHE/config" ]; then
	echo "kernel rig: cached image $CACHE (linux-source $ver)" >&2
	echo "$CACHE/vmlinux"
	exit 0
fi

mkdir -p "$CACHE"
work=$CACHE/work
rm -rf "$work"
mkdir -p "$work"
start=$(date +%s)
echo "kernel rig: building linux-source $ver into $CACHE (-j$JOBS)" >&2
tar -xf "$SRC_TAR" -C "$work"
ksrc=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -1)
cd "$ksrc"
log=$CACHE/build.log
{
	make ARCH=x86_64 tinyconfig
	make ARCH=x86_64 kvm_guest.config
	scripts/kconfig/merge_config.sh -m .config "$FRAG"
	make ARCH=x86_64 olddefconfig
} >"$log" 2>&1 || { tail -30 "$log" >&2; echo "kernel rig: configuration failed" >&2; exit 1; }

# Check the result, not the request: a dependency that is not met drops an
# option silently.
bad=0
while IFS= read -r line; do
	case "$line" in CONFIG_*=*) ;; *) continue ;; esac
	if ! grep -qx "$line" .config; then
		echo "kernel rig: option did not stick: $line (got: $(grep "^${line%%=*}=" .config ||
			echo "not set"))" >&2
		bad=1
	fi
done <"$FRAG"
[ "$bad" -eq 0 ] || exit 1

nice make ARCH=x86_64 -j"$JOBS" vmlinux >>"$log" 2>&1 ||
	{ tail -40 "$log" >&2; echo "kernel rig: build failed (log $log)" >&2; exit 1; }
cp vmlinux "$CACHE/vmlinux.tmp"
cp .config "$CACHE/config"
make -s kernelrelease >"$CACHE/release" 2>/dev/null || true
mv "$CACHE/vmlinux.tmp" "$CACHE/vmlinux"
cd /
rm -rf "$work"
echo "kernel rig: built $(cat "$CACHE/release") in $(( $(date +%s) - start )) s (wall)" >&2
echo "$CACHE/vmlinux"
