#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# In the kernel rig's guest: the real criu against pfdk-pagerd criu. A
# program fills 64 MiB with a pattern, is dumped, restored with
# `criu restore --lazy-pages` against the daemon, and checks every byte;
# then restored again from the same images, with the working set the first
# restore recorded replayed first (every byte checked again), and once more
# with a fork, an mremap, a munmap and an MADV_DONTNEED right after resume.
# Usage (guest): test_pagerd_criu.sh PFDK_PAGERD; 77 = skip (reason printed).
set -u
pagerd=$1
command -v criu >/dev/null || { echo "SKIP: criu not installed (apt-get install criu)"; exit 77; }
mountpoint -q /dev/pts || { mkdir -p /dev/pts; mount -t devpts devpts /dev/pts; }
ip link set lo up 2>/dev/null
criu check >/tmp/criu-check.log 2>&1 || { echo "SKIP: criu check fails:"; tail -5 /tmp/criu-check.log; exit 77; }
w=$(mktemp -d /tmp/pagerd-criu.XXXXXX)
cat >"$w/pat.c" <<'C'
#define _GNU_SOURCE /* mremap */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#define N (64ul << 20)
#define PAGES (N / 4096)
#define WS 2048 /* pages touched right after each restore: the working set */
static volatile sig_atomic_t go, check;
static void on(int s) { if (s == SIGUSR1) go = 1; else check = 1; }
int main(int argc, char **argv)
{
	uint64_t *m = mmap(NULL, N, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t x = 12345, sum = 0;
	struct timespec t0, t1;
	size_t i, bad = 0;
	int events, st;
	FILE *f;
	(void)argc;
	signal(SIGUSR1, on);
	signal(SIGUSR2, on);
	for (i = 0; i < N / 8; i++)
		m[i] = i * 0x9e3779b97f4a7c15ull;
	f = fopen(argv[1], "w"); fprintf(f, "ready\n"); fclose(f);
	while (!go)
		pause();
	f = fopen(argv[4], "r"); /* what this restore does right after resume */
	events = f != NULL && fgetc(f) == 'e';
	if (f != NULL)
		fclose(f);
	if (events) {
		/*
		 * Right after resume, before the pages came: a fork child
		 * reads the first 1 MiB on its own uffd (FORK), 1 MiB moves
		 * (REMAP: faults at the new address must get the old pages),
		 * 1 MiB goes (UNMAP) and 1 MiB is dropped (REMOVE: reads zero).
		 */
		pid_t c = fork();
		size_t q = (1ul << 20) / 8, b0 = 0;
		uint64_t *mv;
		if (c == 0) {
			for (i = 0; i < q; i++)
				b0 += m[i] != i * 0x9e3779b97f4a7c15ull;
			_exit(b0 != 0);
		}
		if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
		mv = mremap(m + 4 * q, 1ul << 20, 1ul << 20, MREMAP_MAYMOVE | MREMAP_FIXED,
			    (uint8_t *)m + N + (16ul << 20));
		if (mv == MAP_FAILED)
			bad++;
		else
			for (i = 0; i < q; i++)
				bad += mv[i] != (4 * q + i) * 0x9e3779b97f4a7c15ull;
		if (munmap(m + 8 * q, 1ul << 20) != 0 || madvise(m + 12 * q, 1ul << 20, MADV_DONTNEED) != 0)
			bad++;
		for (i = 12 * q; i < 13 * q; i++)
			bad += m[i] != 0;
		f = fopen(argv[3], "w"); fprintf(f, "0 %zu\n", bad); fclose(f);
		while (!check)
			pause();
		for (i = 0; i < N / 8; i++) {
			if ((i >= 4 * q && i < 5 * q) || (i >= 8 * q && i < 9 * q))
				continue; /* moved (checked above) or unmapped */
			bad += m[i] != (i >= 12 * q && i < 13 * q ? 0 : i * 0x9e3779b97f4a7c15ull);
		}
		f = fopen(argv[2], "w"); fprintf(f, "%zu\n", bad); fclose(f);
		return 0;
	}
	/* Resumed: the same pages every time, as a restored service would. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < WS; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		sum += m[(x >> 33) % PAGES * 512];
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	f = fopen(argv[3], "w");
	fprintf(f, "%lld %llu\n", (long long)((t1.tv_sec - t0.tv_sec) * 1000000 +
					   (t1.tv_nsec - t0.tv_nsec) / 1000), (unsigned long long)sum);
	fclose(f);
	while (!check)
		pause();
	for (i = 0; i < N / 8; i++)
		bad += m[i] != i * 0x9e3779b97f4a7c15ull;
	f = fopen(argv[2], "w"); fprintf(f, "%zu\n", bad); fclose(f);
	return 0;
}
C
cc -O2 -o "$w/pat" "$w/pat.c" || exit 1
mkdir -p "$w/img"
echo ws >"$w/mode"
setsid "$w/pat" "$w/ready" "$w/result" "$w/touched" "$w/mode" </dev/null >"$w/pat.out" 2>&1 &
pid=$!
i=0; while [ ! -s "$w/ready" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
criu dump -t "$pid" -D "$w/img" -o dump.log -v4 || { echo "FAIL: criu dump"; tail -20 "$w/img/dump.log"; exit 1; }
# One lazy restore against the daemon; prints "FAULTS REPLAYED" from its log.
restore() {
	rm -f "$w/result" "$w/touched" "$w/img/lazy-pages.socket"
	# shellcheck disable=SC2086 # $2: extra daemon options, split on purpose
	"$pagerd" criu -D "$w/img" ${2:-} -- --no-telemetry --no-pci --log-level=lib.eal:warning >"$w/pagerd.log" 2>&1 &
	dpid=$!
	i=0; while [ ! -S "$w/img/lazy-pages.socket" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	criu restore -D "$w/img" --lazy-pages -d -o restore.log -v4 || {
		echo "FAIL: criu restore --lazy-pages ($1)" >&2; tail -20 "$w/img/restore.log" >&2
		cat "$w/pagerd.log" >&2; exit 1; }
	kill -USR1 "$pid"
	# The working set first (its faults are what replay removes), then,
	# once the daemon delivered every page, the check of every word.
	i=0; while [ ! -s "$w/touched" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
	wait "$dpid"; drc=$?
	kill -USR2 "$pid"
	i=0; while [ ! -s "$w/result" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
	sed 's/^/    /' "$w/pagerd.log" >&2
	bad=$(cat "$w/result" 2>/dev/null)
	echo "$1: pagerd exit $drc, words differing: ${bad:-no result}, working set (2048 pages) touched in $(cut -d' ' -f1 "$w/touched" 2>/dev/null) us" >&2
	[ "$drc" = 0 ] && [ "$bad" = 0 ] || { echo "FAIL: $1" >&2; exit 1; }
	# "task P (device N): ...; F faults copied, Z zero, R pages replayed, ..."
	sed -n 's/.*; \([0-9]*\) faults copied, [0-9]* zero, \([0-9]*\) pages replayed.*/\1 \2/p' \
		"$w/pagerd.log" | head -1
}
# Another restorer's run, for the table: eager (plain criu restore) or
# criu's own lazy-pages daemon; the working set's touch time and 0 wrong words.
other() {
	rm -f "$w/result" "$w/touched"
	if [ "$1" = lazy ]; then
		rm -f "$w/img/lazy-pages.socket"
		criu lazy-pages -D "$w/img" -o lazy.log -v2 &
		dpid=$!
		i=0; while [ ! -S "$w/img/lazy-pages.socket" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
		criu restore -D "$w/img" --lazy-pages -d -o restore-$1.log -v2 || { echo "FAIL: $1 restore" >&2; exit 1; }
	else
		criu restore -D "$w/img" -d -o restore-$1.log -v2 || { echo "FAIL: $1 restore" >&2; exit 1; }
		dpid=
	fi
	kill -USR1 "$pid"
	i=0; while [ ! -s "$w/touched" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
	[ -n "$dpid" ] && wait "$dpid"
	kill -USR2 "$pid"
	i=0; while [ ! -s "$w/result" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
	bad=$(cat "$w/result" 2>/dev/null)
	[ "$bad" = 0 ] || { echo "FAIL: $1 restore: words differing: ${bad:-no result}" >&2; exit 1; }
	cut -d' ' -f1 "$w/touched"
}
eager_us=$(other eager) || exit 1
lazy_us=$(other lazy) || exit 1
first=$(restore "first restore") || exit 1
first_us=$(cut -d' ' -f1 "$w/touched")
[ -s "$w/img/pfdk-ws-$pid.trace" ] || { echo "FAIL: no working-set trace after the first restore"; exit 1; }
# The same images again: the recorded working set is installed first.
second=$(restore "second restore (replay)") || exit 1
second_us=$(cut -d' ' -f1 "$w/touched")
echo "  faults copied / pages replayed: first restore $first, second restore $second"
echo "  working set (2048 random pages of 64 MiB) touched after resume, us (TCG: relative):"
echo "    eager criu restore $eager_us; criu lazy-pages $lazy_us; pfdk-pagerd $first_us; pfdk-pagerd + replay $second_us"
case $second in
*" 0") echo "FAIL: the second restore replayed nothing"; exit 1 ;;
esac
# Memory events right after a lazy resume, with the real criu: a fork
# child, mremap, munmap and MADV_DONTNEED before the pages came; every
# remaining word checked once the daemon is done. No replay: the pages are
# still to come when the events happen.
echo events >"$w/mode"
events=$(restore "events restore" --no-working-set) || exit 1
echo "  events restore (fork, mremap, munmap, MADV_DONTNEED right after resume): 0 words wrong; faults copied / replayed: $events"
echo PASS
