#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# pfdk-top against a running bench: it finds the telemetry socket from the
# EAL --file-prefix, shows the profile, the sim device's and the poller
# lcore's rates, its CPU, engine, queues and busy % over each interval, the
# interval's latency percentiles, and says so clearly when there is no
# process.
set -u
top=$1 bench=$2
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$top" --help >"$tmp/o" 2>&1 && grep -q -- "--file-prefix P" "$tmp/o" || fail "--help: $(cat "$tmp/o")"
"$top" --version >"$tmp/o" 2>&1 && grep -qE '^pfdk-top \(PFDK\) [0-9]' "$tmp/o" || fail "--version: $(cat "$tmp/o")"
for a in "--interval 0" "--interval x" "--count 0" "--count -1" "--file-prefix a/b"; do
	# shellcheck disable=SC2086
	"$top" $a >"$tmp/o" 2>&1
	[ $? -eq 2 ] && grep -q -- "^${a%% *} ${a#* }: expected" "$tmp/o" || fail "$a: $(cat "$tmp/o")"
done
prefix=pfdk-top-test-$$
"$top" --file-prefix "$prefix" --count 1 >"$tmp/o" 2>&1
[ $? -eq 1 ] && grep -q "dpdk/$prefix/dpdk_telemetry.v2: .*is a PFDK process running" "$tmp/o" ||
	fail "no process: $(cat "$tmp/o")"

# A sim run long enough to watch (interrupted below): one busy poller.
# --foreground: timeout(1) then passes a signal on to the bench alone and
# sends no SIGCONT after it. A SIGCONT flushes the SIGSTOP that ASan's
# exit-time leak check (LeakSanitizer) queues when it ptrace-attaches, and
# its tracer then waits forever (seen in CI: the test timed out).
timeout --foreground -k 10 120 "$bench" --file-prefix "$prefix" -- --source sim --faults 400000000 --repeat 1 \
	--modes pfdk-rtc --burst 32 >"$tmp/bench" 2>&1 &
pid=$!
for _ in $(seq 300); do grep -q '^running ' "$tmp/bench" && break; sleep 0.1; done
grep -q '^running ' "$tmp/bench" || fail "bench did not start: $(cat "$tmp/bench")"
timeout 30 "$top" --file-prefix "$prefix" --count 2 --interval 0.5 >"$tmp/top" 2>&1 ||
	fail "pfdk-top: exit $?: $(cat "$tmp/top")"
cat "$tmp/top"
[ "$(grep -c '^pfdk-top .* pid [0-9]* .*interval 0\.[0-9]* s' "$tmp/top")" -eq 2 ] ||
	fail "two intervals expected: $(cat "$tmp/top")"
# A rate (no parentheses) above zero for the device and the poller lcore.
grep -qE '^[0-9]+ +sim0 +sim +started +1 +[1-9][0-9]* +[1-9][0-9]* ' "$tmp/top" ||
	fail "no sim0 rate: $(cat "$tmp/top")"
# The profile the bench built its pipeline from, in each header.
[ "$(grep -c '^pfdk-top .* profile default (rtc) ' "$tmp/top")" -eq 2 ] ||
	fail "no profile name in the header: $(cat "$tmp/top")"
# The poller's row: lcore, the CPU it runs on, role, engine, its queue, a
# receive rate above zero, busy % of the interval within 0..100 and its
# interval p50 <= p99 <= p99.9.
grep -E '^[0-9]+ +[0-9]+ +poller ' "$tmp/top" >"$tmp/rows" || fail "no poller row: $(cat "$tmp/top")"
[ "$(wc -l <"$tmp/rows")" -eq 2 ] || fail "one poller row per interval expected: $(cat "$tmp/top")"
while read -r lcore cpu role engine queues recv _resolved _resp busy _retr _bp _idle _sl _inf p50 p99 p999; do
	[ "$role" = poller ] && [ "$engine" = busy ] && [ "$queues" = sim0:0 ] ||
		fail "poller placement: $lcore $cpu $role $engine $queues"
	[ "$cpu" -lt "$(nproc --all)" ] || fail "lcore $lcore on cpu $cpu of $(nproc --all)"
	[[ "$recv" =~ ^[1-9][0-9]*$ ]] || fail "no poller rate: $recv"
	awk -v b="$busy" 'BEGIN { exit !(b ~ /^[0-9]+(\.[0-9])?$/ && b >= 0 && b <= 100) }' ||
		fail "busy % $busy not in 0..100"
	# Its own percentiles over the interval, in order.
	awk -v a="$p50" -v b="$p99" -v c="$p999" 'BEGIN { exit !(a ~ /^[0-9]+\.[0-9]+$/ &&
		b ~ /^[0-9]+\.[0-9]+$/ && c ~ /^[0-9]+\.[0-9]+$/ && a > 0 && a <= b && b <= c) }' ||
		fail "lcore $lcore interval percentiles: $p50 $p99 $p999"
done <"$tmp/rows"
# Interval percentiles: faults in the interval and ordered p50 <= p99 <= p99.9.
grep -E '^interval latency \(receive to response, all pollers\): [1-9][0-9]* faults, p50 [0-9.]+ us, p99 [0-9.]+ us, p99.9 [0-9.]+ us' \
	"$tmp/top" >"$tmp/win" || fail "no interval latency: $(cat "$tmp/top")"
[ "$(wc -l <"$tmp/win")" -eq 2 ] || fail "two interval latency lines expected: $(cat "$tmp/top")"
sed -E 's/.* faults, p50 ([0-9.]+) us, p99 ([0-9.]+) us, p99.9 ([0-9.]+) us.*/\1 \2 \3/' "$tmp/win" |
	awk '!($1 > 0 && $1 <= $2 && $2 <= $3) { bad = 1 } END { exit bad }' ||
	fail "interval percentiles out of order: $(cat "$tmp/win")"
grep -q '^latency (receive to response' "$tmp/top" || fail "no latency line: $(cat "$tmp/top")"
# --once: one interval, for scripts.
timeout 30 "$top" --file-prefix "$prefix" --once -i 0.2 >"$tmp/once" 2>&1 ||
	fail "pfdk-top --once: exit $?: $(cat "$tmp/once")"
[ "$(grep -c '^pfdk-top ' "$tmp/once")" -eq 1 ] || fail "--once: $(cat "$tmp/once")"
kill -INT "$pid"
wait "$pid"
rc=$?
pid=""
[ $rc -eq 130 ] || fail "bench after SIGINT: exit $rc: $(tail -5 "$tmp/bench")"
# The process is gone: a clear error, not a hang.
timeout 30 "$top" --file-prefix "$prefix" --count 1 >"$tmp/o" 2>&1
[ $? -eq 1 ] || fail "after the bench: $(cat "$tmp/o")"
echo "pfdk-top ok"
