#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# pfdk-faultbench --source iommufd --mock in the kernel rig's guest: the
# bench sets up the kernel's mock device itself, a device thread triggers
# the faults, and every PFDK row serves Linux's real fault queue: each row
# must answer all 3000 groups (0 lost, 0 duplicated in the bench's count),
# once flat out and once paced by --rate, and the bench's teardown of the
# mock device must succeed (it fails the bench otherwise). The
# hand-written handlers fd-spin/poll/epoll run in the same table. Skips (77)
# without /dev/iommu or the mock device.
set -u
bench=$1
[ -e /dev/iommu ] || { echo "SKIP: no /dev/iommu (run in the kernel rig: tests/kernel/run.sh)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bench" --source iommufd --mock --faults 1 --repeat 1 --modes pfdk-rtc >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q 'MOCK_DOMAIN' "$tmp/out"; then
	echo "SKIP: no iommufd mock device (CONFIG_IOMMUFD_TEST): $(head -1 "$tmp/out")"
	exit 77
fi
[ $rc -eq 0 ] || fail "one fault: exit $rc: $(tail -5 "$tmp/out")"

modes=pfdk-rtc,pfdk-pipeline,pfdk-colocated,pfdk-epoll,pfdk-uring,pfdk-uring-nosqpoll,fd-spin,fd-poll,fd-epoll
for extra in "" "--rate 20000"; do
	# shellcheck disable=SC2086
	timeout 300 "$bench" --source iommufd --mock --faults 3000 --repeat 1 --burst 32 \
		--modes $modes $extra --json "$tmp/r.json" >"$tmp/out" 2>&1 ||
		fail "rows $extra: exit $?: $(tail -20 "$tmp/out")"
	python3 - "$tmp/r.json" "$modes" <<'PY' || fail "json $extra: $(cat "$tmp/out")"
import json, sys
rows = json.load(open(sys.argv[1]))["results"]
assert sorted(r["mode"] for r in rows) == sorted(sys.argv[2].split(",")), rows
for r in rows:
    assert r["status"] == "ok" and r["source"] == "iommufd", r
    assert r["faults"] == 3000 and r["lost"] == 0 and r["duplicated"] == 0, r
PY
	grep -q '^pfdk-rtc  *iommufd' "$tmp/out" || fail "no table: $(cat "$tmp/out")"
	for b in fd-spin fd-poll fd-epoll pfdk-rtc pfdk-uring; do
		grep -qE "^$b: syscalls per group: read [0-9.]+( \([0-9.]+ empty\))?, write [0-9.]+" "$tmp/out" ||
			fail "$b: no syscall count: $(cat "$tmp/out")"
	done
	# The uring rows read the fault FD through the ring (a multishot read
	# behind a linked poll) and write the responses through it: no read(2)
	# or write(2) by the driver, records read by the engine; with SQPOLL no
	# io_uring_enter either (0.00; a few where the SQ thread fell asleep).
	for b in pfdk-uring pfdk-uring-nosqpoll; do
		grep -qE "^$b: syscalls per group: read 0\.00 \(0\.00 empty\), write 0\.00, io_uring_enter [0-9.]+ .*ring reads 0\.[0-9]*[1-9]" "$tmp/out" ||
			fail "$b: read(2)/write(2) calls, or no ring reads: $(grep "^$b: syscalls" "$tmp/out")"
	done
	grep -qE "^pfdk-uring: syscalls per group: .*io_uring_enter 0\.0[0-4] " "$tmp/out" ||
		fail "pfdk-uring (SQPOLL): io_uring_enter calls: $(grep "^pfdk-uring: syscalls" "$tmp/out")"
	echo "  mock ${extra:-flat out}:"
	sed -n '/^mode /,$p' "$tmp/out" | sed 's/^/  /'
	grep ': syscalls per group' "$tmp/out" | sed 's/ (the driver[^)]*)//; s/^/  /'
done
echo "bench --mock ok"
