#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Run a command in a Linux 6.12 guest: build (or take from the cache) the
# rig's kernel, boot it with QEMU with the host's / as the read-only root,
# run COMMAND in the current directory there, print its output and exit
# with its status.
#
#   tests/kernel/run.sh [--] COMMAND [ARG...]
#
# Exit status: COMMAND's; 77 (skip, reason printed) when qemu-system-x86_64
# or the kernel source cannot be had; 1 when the guest did not report.
# Environment: PFDK_KERNEL_ACCEL=kvm|tcg (default: KVM if it boots the
# guest, else TCG), PFDK_KERNEL_TIMEOUT (seconds, default 1500),
# PFDK_KERNEL_MEM (MiB, default 2048), PFDK_KERNEL_OUT (a directory that
# keeps the results share: status, and what the command writes to
# /run/pfdk; default a temporary one, removed).
# Times measured in the guest under TCG are relative only.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ "${1:-}" = "--" ] && shift
[ $# -ge 1 ] || { echo "usage: $0 [--] COMMAND [ARG...]" >&2; exit 2; }

QEMU=$(command -v qemu-system-x86_64) || {
	echo "SKIP: kernel rig: qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
	exit 77
}
vmlinux=$("$HERE/build-kernel.sh")
rc=$?
if [ $rc -eq 77 ]; then echo "SKIP: kernel rig: no kernel source"; exit 77; fi
[ $rc -eq 0 ] || { echo "kernel rig: kernel build failed"; exit 1; }
CACHE=$(dirname "$vmlinux")

init=$CACHE/pfdk-init
if [ ! -x "$init" ] || [ "$HERE/init.c" -nt "$init" ]; then
	cc -O2 -Wall -Wextra -Werror -o "$init.tmp" "$HERE/init.c" && mv "$init.tmp" "$init" ||
		{ echo "kernel rig: cannot build the guest init"; exit 1; }
fi

out=${PFDK_KERNEL_OUT:-}
keep=1
if [ -z "$out" ]; then out=$(mktemp -d /tmp/pfdk-kernel-out.XXXXXX); keep=0; fi
mkdir -p "$out"
rm -f "$out/status"
{
	# The guest mounts tmpfs on /tmp, /run and /dev/shm over the host's
	# root: a checkout there (CI clones anywhere) comes in as its own share.
	d=$(printf '%q' "$PWD")
	echo "cd $d 2>/dev/null || { mkdir -p $d && mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,ro pfdkcwd $d && cd $d; } || exit 1"
	printf 'exec'; printf ' %q' "$@"; echo
} >"$out/cmd.sh"

# boot ACCEL TIMEOUT: boot the guest once; the command's status is in $out/status.
boot() {
	local accel=(-accel tcg,thread=multi -cpu max)
	[ "$1" = kvm ] && accel=(-accel kvm -cpu host)
	timeout -k 5 "$2" "$QEMU" -nodefaults -no-user-config -M pc "${accel[@]}" \
		-smp 2 -m "${PFDK_KERNEL_MEM:-2048}" \
		-display none -serial stdio -monitor none -no-reboot \
		-fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap \
		-device virtio-9p-pci,fsdev=root,mount_tag=/dev/root \
		-fsdev local,id=out,path="$out",security_model=none \
		-device virtio-9p-pci,fsdev=out,mount_tag=pfdkout \
		-fsdev local,id=cwd,path="$PWD",security_model=none,readonly=on,multidevs=remap \
		-device virtio-9p-pci,fsdev=cwd,mount_tag=pfdkcwd \
		-kernel "$vmlinux" \
		-append "console=ttyS0 quiet panic=-1 root=/dev/root rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=262144 ro init=$init pfdk_hugepages=${PFDK_KERNEL_HUGEPAGES:-64}"
}

accel=${PFDK_KERNEL_ACCEL:-}
if [ -z "$accel" ]; then
	accel=tcg
	# A nested hypervisor may offer /dev/kvm and still fail to run the
	# guest (DESIGN: MSR 0x10a, emulation failures): probe it once per
	# machine with a trivial command, and remember.
	if [ -f "$CACHE/accel" ]; then
		accel=$(cat "$CACHE/accel")
	elif [ -w /dev/kvm ]; then
		mv "$out/cmd.sh" "$out/cmd.real"
		echo "exit 0" >"$out/cmd.sh"
		boot kvm 30 >"$CACHE/kvm-probe.log" 2>&1
		[ "$(cat "$out/status" 2>/dev/null)" = 0 ] && accel=kvm
		mv "$out/cmd.real" "$out/cmd.sh"
		rm -f "$out/status"
		echo "$accel" >"$CACHE/accel"
	fi
fi
note=; [ "$accel" = tcg ] && note=" (TCG: timings relative only)"
echo "kernel rig: $(cat "$CACHE/release" 2>/dev/null) guest, accel $accel$note"
start=$(date +%s%N)
boot "$accel" "${PFDK_KERNEL_TIMEOUT:-1500}"
qrc=$?
end=$(date +%s%N)
status=$(cat "$out/status" 2>/dev/null)
[ "$keep" = 1 ] || rm -rf "$out"
if [ -z "$status" ]; then
	echo "kernel rig: the guest did not report a status (qemu exit $qrc${qrc:+; 124: timed out})"
	exit 1
fi
ms=$(( (end - start) / 1000000 ))
printf 'kernel rig: boot to exit %d.%03d s, command status %s\n' $((ms / 1000)) $((ms % 1000)) "$status"
exit "$status"
