#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# pfdk-tune on this machine: it refuses what cannot work with the
# validator's reason, measures the rest and config/default.ini on the same
# workload, and writes a winner no slower than the default, which the bench
# then runs.
set -u
tune=$1 bench=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$tune" --bench "$bench" --faults 300000 --repeat 3 --out "$tmp/t.ini" >"$tmp/out" 2>&1 ||
	fail "pfdk-tune: $(cat "$tmp/out")"
cat "$tmp/out"
grep -q "refused: .*sqpoll_cpu: .* own cpu" "$tmp/out" || fail "SQ-on-own-CPU layout not refused"
grep -qE "^[0-9]+ +default.ini " "$tmp/out" || fail "default.ini not measured"
win=$(sed -n 's/^; [^:]*: \([0-9]*\) faults\/s.*/\1/p' "$tmp/t.ini" | head -1)
def=$(sed -n 's/^; config\/default.ini on the same workload: \([0-9]*\) faults\/s.*/\1/p' "$tmp/t.ini")
[ -n "$win" ] && [ -n "$def" ] || fail "measurements missing from the profile: $(head -5 "$tmp/t.ini")"
[ "$win" -ge "$def" ] || fail "winner $win faults/s < default $def"
"$bench" --profile "$tmp/t.ini" --modes pfdk --faults 100000 --repeat 1 >"$tmp/run" 2>&1 ||
	fail "bench on the tuned profile: $(cat "$tmp/run")"
echo "tune ok: winner $win faults/s, default $def faults/s"
