#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# In the kernel rig's guest: the real criu against pfdk-pagerd criu.
#
# pagerd_pat (pagerd_pat.c) fills 64 MiB with a pattern of its seed, is
# dumped, and restored, each time verifying every word:
#   - the bench rows, 3 rounds after an uncounted warm-up: eager (plain
#     criu restore), lazy with criu's own lazy-pages daemon, lazy with
#     pfdk-pagerd (which records the working set), and pfdk-pagerd again
#     replaying it; a table (medians) of time until the
#     process resumes, the pages that really faulted (p50/p99 of their
#     touch), the touch loop's pages/s and the time until fully resident,
#     with the issue's targets as ratios (printed, not asserted: TCG);
#   - a fork, an mremap, a munmap and an MADV_DONTNEED right after resume,
#     while the pages are still lazy (--push-idle 3000);
#   - two restores at once, of two programs, by two daemons;
#   - the process killed (SIGKILL) while it faults: the daemon must exit 0
#     on its own, having freed the task.
# Usage (guest): test_pagerd_criu.sh PFDK_PAGERD PAGERD_PAT ["OPTIONS"];
# OPTIONS: more pfdk-pagerd options for the bench's pfdk rows. 77 = skip.
set -u
pagerd=$1
pat=$2
opts=${3:-}
command -v criu >/dev/null || { echo "SKIP: criu not installed (apt-get install criu)"; exit 77; }
mountpoint -q /dev/pts || { mkdir -p /dev/pts; mount -t devpts devpts /dev/pts; }
ip link set lo up 2>/dev/null
criu check >/tmp/criu-check.log 2>&1 || { echo "SKIP: criu check fails:"; tail -5 /tmp/criu-check.log; exit 77; }
w=$(mktemp -d /tmp/pagerd-criu.XXXXXX)
eal="-- --no-telemetry --no-pci --log-level=lib.eal:warning"

fail() { echo "FAIL: $*" >&2; exit 1; }
now_ns() { date +%s%N; }
# Wait up to $2 tenths of a second for file $1 to be non-empty.
wait_file() { i=0; while [ ! -s "$1" ] && [ "$i" -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done; [ -s "$1" ]; }
# Wait up to $2 tenths of a second for process $1 to end; its status in $st.
wait_pid() {
	i=0; while kill -0 "$1" 2>/dev/null && [ "$i" -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done
	kill -0 "$1" 2>/dev/null && { kill -9 "$1"; wait "$1"; st=timeout; return 1; }
	wait "$1"; st=$?
}

# Start pagerd_pat in $w/$1 with seed $2 and dump it; its pid is in $w/$1/pid.
dump() {
	d=$w/$1
	mkdir -p "$d/img"
	setsid "$pat" "$d" "$2" </dev/null >"$d/pat.out" 2>&1 &
	echo $! >"$d/pid"
	wait_file "$d/ready" 600 || fail "pagerd_pat $1 did not start"
	criu dump -t "$(cat "$d/pid")" -D "$d/img" -o dump.log -v4 || {
		tail -20 "$d/img/dump.log"; fail "criu dump $1"; }
}

# Start the lazy daemon for a restore of $w/$1: $2 = criu or pfdk, $3...:
# more pfdk-pagerd options. Its pid in $dpid, once its socket is there.
daemon() {
	d=$w/$1 kind=$2
	shift 2
	rm -f "$d/img/lazy-pages.socket"
	if [ "$kind" = criu ]; then
		criu lazy-pages -D "$d/img" -o lazy.log -v2 &
	else
		# shellcheck disable=SC2086 # EAL args, split on purpose
		"$pagerd" criu -D "$d/img" "$@" $eal >"$d/pagerd.log" 2>&1 &
	fi
	dpid=$!
	wait_sock=0
	while [ ! -S "$d/img/lazy-pages.socket" ] && [ $wait_sock -lt 600 ]; do
		sleep 0.1; wait_sock=$((wait_sock + 1)); done
	[ -S "$d/img/lazy-pages.socket" ] || fail "$kind daemon for $1 made no socket"
}

# Restore $w/$1 ($2: eager or lazy; $3 a name for its log); it runs on by
# itself (its mode file is there). t0: when the restore began.
restore() {
	d=$w/$1
	rm -f "$d/touched" "$d/result"
	lazy=
	[ "$2" = lazy ] && lazy=--lazy-pages
	t0=$(now_ns)
	criu restore -D "$d/img" $lazy -d -o "restore-$3.log" -v4 || {
		tail -20 "$d/img/restore-$3.log" >&2
		[ -f "$d/pagerd.log" ] && cat "$d/pagerd.log" >&2
		fail "criu restore $lazy ($1, $3)"; }
}

# The restored program's end: its check of every word must find 0 wrong.
finish() {
	d=$w/$1
	kill -USR2 "$(cat "$d/pid")"
	wait_file "$d/result" 1200 || fail "$2: the restored program wrote no result"
	[ "$(cat "$d/result")" = 0 ] || fail "$2: $(cat "$d/result") word(s) differ"
}

# One bench row of $w/a: $1 row name, $2 eager/criu/pfdk, $3...: pfdk options.
# Appends "name resume_ms faulted p50_us p99_us ws_ms pages/s resident_ms
# daemon_faults replayed" to $w/rows.
row() {
	name=$1 kind=$2
	shift 2
	dpid=
	[ "$kind" != eager ] && daemon a "$kind" "$@"
	restore a "$([ "$kind" = eager ] && echo eager || echo lazy)" "$name"
	wait_file "$w/a/touched" 1500 || {
		[ -f "$w/a/pagerd.log" ] && tail -20 "$w/a/pagerd.log" >&2
		fail "$name: the working set was not touched"; }
	if [ -n "$dpid" ]; then
		wait_pid "$dpid" 1200 || fail "$name: the daemon did not exit once every page was delivered"
		[ "$st" = 0 ] || { [ -f "$w/a/pagerd.log" ] && cat "$w/a/pagerd.log" >&2; fail "$name: daemon exit $st"; }
	fi
	finish a "$name"
	# "task P (device N): ...; F faults (C copied, Z zero, E present already), R pages replayed, ..."
	counts=$(sed -n 's/.*(device 0): .*; \([0-9]*\) faults (.*), \([0-9]*\) pages replayed.*/\1 \2/p' \
		"$w/a/pagerd.log" 2>/dev/null | head -1)
	[ "$kind" = pfdk ] && [ -z "$counts" ] && { cat "$w/a/pagerd.log" >&2; fail "$name: no task line in the daemon's log"; }
	read -r nf p50 p99 ws pps go res _ <"$w/a/touched"
	[ "$res" = 0 ] && fail "$name: not every page was resident 120 s after resume"
	echo "$name $(( (go - t0) / 1000000 )) $nf $((p50 / 1000)) $((p99 / 1000)) $((ws / 1000)) $pps $(( (res - t0) / 1000000 )) ${counts:--  -}" >>"$w/rows"
	[ -f "$w/a/pagerd.log" ] && mv "$w/a/pagerd.log" "$w/a/pagerd-$name.log"
	return 0
}

dump a 0x1111
# From here a restored pagerd_pat finds its mode file and goes on at once.
echo ws >"$w/a/mode"
: >"$w/rows"
# Not counted: the first restore in a fresh guest reads the images cold.
row warm-up eager
rounds=3
r=0
while [ $r -lt $rounds ]; do
	r=$((r + 1))
	rm -f "$w/a/img/pfdk-ws-$(cat "$w/a/pid").trace"
	row eager eager
	row criu-lazy-pages criu
	# shellcheck disable=SC2086 # options, split on purpose
	row pfdk-pagerd pfdk $opts
	[ -s "$w/a/img/pfdk-ws-$(cat "$w/a/pid").trace" ] || fail "no working-set trace after the first pfdk restore"
	# shellcheck disable=SC2086
	row pfdk+replay pfdk $opts
done
awk '$1 == "pfdk+replay" && $10 == 0 { exit 1 }' "$w/rows" || fail "a replayed pfdk restore replayed nothing"
# The median of the rounds, per row and column.
: >"$w/med"
for n in eager criu-lazy-pages pfdk-pagerd pfdk+replay; do
	line=$n
	for col in 2 3 4 5 6 7 8 9 10; do
		line="$line $(awk -v n="$n" -v c=$col '$1 == n { print $c }' "$w/rows" | sort -n | sed -n "$(( (rounds + 1) / 2 ))p")"
	done
	echo "$line" >>"$w/med"
done
echo "  bench (64 MiB; median of $rounds rounds; TCG: compare rows, not absolute values; pfdk-pagerd options: ${opts:-none}):"
printf '  %-16s %9s %8s %8s %8s %7s %10s %11s %13s %9s\n' row resume_ms faulted p50_us p99_us ws_ms touch_pg/s resident_ms daemon_faults replayed
while read -r n rs f a b ws p res df rp; do
	printf '  %-16s %9s %8s %8s %8s %7s %10s %11s %13s %9s\n' "$n" "$rs" "$f" "$a" "$b" "$ws" "$p" "$res" "$df" "$rp"
done <"$w/med"
awk '
	{ res[$1] = $8; p50[$1] = $4; p99[$1] = $5; pps[$1] = $7; df[$1] = $9 }
	function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "n/a" }
	function v(ok) { return ok ? "met" : "MISSED" }
	END {
		c = "criu-lazy-pages"; p = "pfdk-pagerd"; q = "pfdk+replay"
		printf "  targets: faulted-page p50 pfdk/criu %s (<= 0.5: %s), p99 %s (<= 0.2: %s), touch pfdk/criu %s (>= 2: %s)\n",
			ratio(p50[p], p50[c]), v(p50[p] <= 0.5 * p50[c]), ratio(p99[p], p99[c]), v(p99[p] <= 0.2 * p99[c]),
			ratio(pps[p], pps[c]), v(pps[p] >= 2 * pps[c])
		printf "  targets: replayed restore faults %s of the first (<= 0.10: %s), fully resident %s ms vs eager %s ms (%s)\n",
			ratio(df[q], df[p]), v(df[q] <= 0.1 * df[p]), res[q], res["eager"], v(res[q] <= res["eager"])
	}' "$w/med"

# Memory events right after a lazy resume, while the pages are still lazy:
# --push-idle 3000 holds the push back; no working set, so nothing is
# installed first either.
echo events >"$w/a/mode"
daemon a pfdk --no-working-set --push-idle 3000
restore a lazy events
wait_file "$w/a/touched" 1200 || fail "events: the program did not get through its events"
wait_pid "$dpid" 1200 || fail "events: the daemon did not exit"
[ "$st" = 0 ] || { cat "$w/a/pagerd.log" >&2; fail "events: daemon exit $st"; }
finish a events
grep -q "fork child on device" "$w/a/pagerd.log" || { cat "$w/a/pagerd.log" >&2; fail "events: no fork child served"; }
ev=$(sed -n 's/.*(device 0): .*; \([0-9]*\) faults (\([0-9]*\) copied, \([0-9]*\) zero.* \([0-9]*\) pages pushed.*/\1 faults, \2 copied, \3 zero, \4 pushed/p' "$w/a/pagerd.log")
echo "  events restore (fork, mremap, munmap, MADV_DONTNEED while lazy): 0 words wrong; parent: $ev"

# Two restores at once: two programs (seeds differ, so a page served from
# the other's images fails the check), two daemons, two restorers.
dump b 0x2222
dump c 0x3333
echo ws >"$w/b/mode"
echo ws >"$w/c/mode"
daemon b pfdk
db=$dpid
daemon c pfdk
dc=$dpid
restore b lazy both & rb=$!
restore c lazy both & rc=$!
wait "$rb" || fail "two at once: restore b"
wait "$rc" || fail "two at once: restore c"
wait_file "$w/b/touched" 1500 && wait_file "$w/c/touched" 1500 || fail "two at once: a working set was not touched"
wait_pid "$db" 1200 && [ "$st" = 0 ] || { cat "$w/b/pagerd.log" >&2; fail "two at once: daemon b exit $st"; }
wait_pid "$dc" 1200 && [ "$st" = 0 ] || { cat "$w/c/pagerd.log" >&2; fail "two at once: daemon c exit $st"; }
finish b "two at once (b)"
finish c "two at once (c)"
echo "  two restores at once by two daemons: 0 words wrong in either; faults $(cut -d' ' -f1 "$w/b/touched") and $(cut -d' ' -f1 "$w/c/touched")"

# Killed while it faults (a page every 2 ms; --push-idle 3000, so the push
# has not started): the daemon frees the task and exits 0 by itself, once
# the push that follows the quiet finds the process gone (ESRCH).
echo slow >"$w/a/mode"
daemon a pfdk --no-working-set --push-idle 3000
restore a lazy kill
sleep 1
kill -9 "$(cat "$w/a/pid")"
wait_pid "$dpid" 600 || { cat "$w/a/pagerd.log" >&2; fail "killed mid-restore: the daemon did not exit within 60 s"; }
[ "$st" = 0 ] || { cat "$w/a/pagerd.log" >&2; fail "killed mid-restore: daemon exit $st"; }
grep -q "process gone" "$w/a/pagerd.log" || { cat "$w/a/pagerd.log" >&2; fail "killed mid-restore: the task was not freed as gone"; }
echo "  killed mid-restore: the daemon freed the task and exited 0 ($(grep -o '[0-9]* faults (' "$w/a/pagerd.log" | head -1 | cut -d' ' -f1) faults before the kill)"
echo PASS
