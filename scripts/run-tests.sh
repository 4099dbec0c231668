#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every test suite, from a fresh Debian 12 machine: set up, then
#   gcc release -Werror:   unit (parallel), functional, stress, soak, perf (serial)
#   ASan + UBSan:          unit, functional, stress, soak
#   TSan:                  the ring/pipeline tests
#   clang libFuzzer:       each fuzz target for PFDK_FUZZ_SECONDS (default 60)
# and end with "N passed, N failed, N skipped". Exit status 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FUZZ_SECONDS=${PFDK_FUZZ_SECONDS:-60}
# The soak suite's run time over all its configurations, per build (its
# own watchdogs bound a hang; longer soaks: set it and see tests/stress).
export PFDK_SOAK_SECONDS=${PFDK_SOAK_SECONDS:-150}
soak_args=(--num-processes 1)
[ "$PFDK_SOAK_SECONDS" -gt 900 ] && soak_args+=(--timeout-multiplier 0)
# Every configuration with every event, fork storms included.
soak() {
	suite "$1" soak "${soak_args[@]}"
}
passed=0 failed=0 skipped=0
# Every failure by name, printed again just before the totals: CI keeps only
# the tail of a long log, and the failing test's name must be in it.
failures=()
failtails=$(mktemp)

scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

# Add the results of the last `meson test` in build dir $1.
tally() {
	local log="$1/meson-logs/testlog.json" p f s
	[ -f "$log" ] || return 0
	local names out
	out=$(python3 - "$log" "$failtails" "$(basename "$1")" <<'PY'
import json, sys
p = f = s = 0
bad = []
for line in open(sys.argv[1]):
    t = json.loads(line)
    r = t.get('result')
    if r in ('OK', 'EXPECTEDFAIL'): p += 1
    elif r == 'SKIP': s += 1
    else:
        f += 1
        bad.append('%s(%s)' % (t.get('name', '').replace(' / ', '/').replace(' ', '_'), r))
        with open(sys.argv[2], 'a') as o:
            o.write('--- last lines of %s (%s, %s):\n' % (t.get('name'), sys.argv[3], r))
            o.write('\n'.join((t.get('stdout') or '').splitlines()[-25:]) + '\n')
print(p, f, s)
print(' '.join(bad))
PY
)
	{ read -r p f s; read -r names; } <<<"$out"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	for t in $names; do failures+=("$(basename "$1"): $t"); done
	rm -f "$log"
}

# build NAME DIR [meson setup args...]: configure and build; a failure counts.
build() {
	local name=$1 dir=$2; shift 2
	echo "=== build: $name"
	local how=()
	[ -f "$dir/build.ninja" ] && how=(--reconfigure)
	meson setup "${how[@]}" "$dir" "$@" >"$dir.setup.log" 2>&1 ||
		{ cat "$dir.setup.log"; echo "BUILD FAILED: $name"; failed=$((failed + 1)); failures+=("build $name"); return 1; }
	ninja -C "$dir" >"$dir.build.log" 2>&1 ||
		{ tail -50 "$dir.build.log"; echo "BUILD FAILED: $name"; failed=$((failed + 1)); failures+=("build $name"); return 1; }
}

# suite DIR SUITE [meson test args...]: run one suite if it has tests.
suite() {
	local dir=$1 s=$2; shift 2
	local list
	list=$(meson test -C "$dir" --list --suite "$s" 2>/dev/null | grep " / ")
	[ -n "$list" ] || return 0
	echo "=== $(basename "$dir"): suite $s"
	meson test -C "$dir" --suite "$s" --print-errorlogs "$@" 2>&1 |
		grep -vE '^(Ok|Expected Fail|Fail|Unexpected Pass|Skipped|Timeout):|^Full log|^$'
	tally "$dir"
}

# meson install into a scratch root, then build and run a program against
# it with pkg-config alone, as another project would.
install_check() {
	local dir=$1 root
	root=$(mktemp -d)
	echo "=== install: libpfdk.pc consumer"
	if meson install -C "$dir" --destdir "$root" >"$dir/install.log" 2>&1 &&
	   pc=$(dirname "$(find "$root" -name libpfdk.pc | head -1)") &&
	   sed -i "s|^prefix=|prefix=$root|" "$pc/libpfdk.pc" &&
	   export PKG_CONFIG_PATH=$pc &&
	   cc tests/install/consumer.c -o "$root/consumer" \
		$(pkg-config --cflags --libs libpfdk) &&
	   LD_LIBRARY_PATH=$(dirname "$(find "$root" -name 'libpfdk.so' | head -1)") \
		"$root/consumer"; then
		passed=$((passed + 1))
	else
		echo "FAIL: install check (see $dir/install.log)"; failed=$((failed + 1))
		failures+=("install check")
	fi
	unset PKG_CONFIG_PATH
	rm -rf "$root"
}

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

if build release build-ci --buildtype=release -Dwerror=true; then
	suite build-ci unit
	suite build-ci functional --num-processes 1
	suite build-ci stress --num-processes 1
	soak build-ci
	suite build-ci perf --num-processes 1
	install_check build-ci
fi
# --- kernel rig (tests/kernel/run.sh) ---------------------------------------
# The kernel suite (iommufd against Linux's own fault queue) and the
# userfaultfd tests again, in a Linux 6.12 guest under QEMU, from the release
# build. The guest kernel is built once per machine and cached. A skip, with
# the reason, where qemu or linux-source-6.12 cannot be had.
kernel_rig() {
	local dir=$1 out rc p f s t tests=()
	tests=("$dir/tests/kernel/test_iommufd_kernel"
		"tests/kernel/test_bench_mock.sh $dir/apps/pfdk-faultbench/pfdk-faultbench"
		"tests/kernel/test_pagerd_criu.sh $dir/apps/pfdk-pagerd/pfdk-pagerd $dir/tests/kernel/pagerd_pat")
	for t in uffd_mem uffd_events uffd_inthread uffd_unpriv uffd_image; do
		tests+=("$dir/tests/functional/test_$t")
	done
	tests+=("$dir/tests/functional/test_uffd_image --huge")
	echo "=== kernel rig: suite kernel + uffd tests in a Linux 6.12 guest"
	out=$(mktemp -d)
	PFDK_KERNEL_OUT=$out tests/kernel/run.sh tests/kernel/guest-suite.sh "${tests[@]}"
	rc=$?
	if [ $rc -eq 77 ]; then
		skipped=$((skipped + 1))
	elif read -r p f s 2>/dev/null <"$out/tally"; then
		passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
		[ "$f" -gt 0 ] && failures+=("kernel rig: $f guest test(s), see the guest: lines")
		[ $rc -eq 0 ] || [ "$f" -gt 0 ] || { failed=$((failed + 1)); failures+=("kernel rig: status $rc"); }
	else
		echo "FAIL: kernel rig: no result from the guest"; failed=$((failed + 1))
		failures+=("kernel rig: no result")
	fi
	rm -rf "$out"
}
[ -x build-ci/tests/kernel/test_iommufd_kernel ] && kernel_rig build-ci
# --- end kernel rig -----------------------------------------------------------

if build asan build-asan --buildtype=debugoptimized -Db_sanitize=address,undefined \
		-Db_lundef=false -Dc_args=-fno-sanitize-recover=undefined; then
	suite build-asan unit
	suite build-asan functional --num-processes 1
	suite build-asan stress --num-processes 1
	soak build-asan
fi
# DPDK's default x86 ring and spinlock code syncs with volatile, barriers
# and inline asm, which TSan cannot follow; the C11-atomics ring and the
# intrinsics spinlock are the same objects, visible to it.
if build tsan build-tsan --buildtype=debugoptimized -Db_sanitize=thread \
		-Db_lundef=false \
		"-Dc_args=-DRTE_USE_C11_MEM_MODEL -DRTE_FORCE_INTRINSICS"; then
	suite build-tsan tsan --num-processes 1
fi
if CC=clang build fuzz build-fuzz --buildtype=debugoptimized -Dfuzz=true \
		-Dfuzz_seconds="$FUZZ_SECONDS" -Db_sanitize=address,undefined \
		-Db_lundef=false; then
	suite build-fuzz fuzz --num-processes 1
fi

cat "$failtails"; rm -f "$failtails"
for t in "${failures[@]}"; do echo "FAILED: $t"; done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
