#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install what PFDK builds and tests with (Debian 12 packages; gnuplot-nox
# for pfdk-faultbench --plot; procps for the tests' pgrep; the kernel rig's source and QEMU) when missing, and reserve 2 MiB hugepages
# when permitted. Safe to run again.
set -euo pipefail

PKGS=(meson ninja-build pkg-config gcc clang libclang-rt-14-dev python3
      libdpdk-dev dpdk dpdk-dev liburing-dev libnuma-dev numactl
      libcmocka-dev libhugetlbfs-bin gnuplot-nox procps)
# The kernel rig (tests/kernel): a 6.12 guest kernel built from Debian's
# source package and booted under QEMU.
PKGS+=(linux-source-6.12 make flex bison bc libelf-dev libssl-dev xz-utils
       qemu-system-x86)
# The real CRIU client of pfdk-pagerd criu (runs in the rig's 6.12 guest:
# criu 3.17 refuses the 6.13+ vDSO layout).
PKGS+=(criu)
HUGEPAGES=${PFDK_HUGEPAGES:-256}   # 2 MiB pages: 512 MiB

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"
	elif command -v sudo >/dev/null 2>&1; then sudo "$@"
	else return 1; fi
}

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	as_root apt-get update -qq
	as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Hugepages: DPDK's own tool; without root, say so and go on (PFDK then
# runs with --no-huge and prints one warning).
nr=/proc/sys/vm/nr_hugepages
have=$(cat "$nr" 2>/dev/null || echo 0)
if [ "$have" -lt "$HUGEPAGES" ]; then
	if as_root dpdk-hugepages.py --reserve $((HUGEPAGES * 2))M >/dev/null 2>&1 ||
	   as_root sh -c "echo $HUGEPAGES > $nr" 2>/dev/null; then
		echo "setup: 2 MiB hugepages reserved: $(cat $nr)"
	else
		echo "setup: could not reserve hugepages (not root?): tests that need them skip"
	fi
fi
free_hp=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 2>/dev/null || echo 0)
echo "setup: $free_hp free 2 MiB hugepages"
