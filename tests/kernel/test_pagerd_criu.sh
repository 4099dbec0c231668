#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# In the kernel rig's guest: the real criu against pfdk-pagerd criu. A
# program fills 64 MiB with a pattern, is dumped, restored with
# `criu restore --lazy-pages` against the daemon, and checks every byte.
# Usage (guest): test_pagerd_criu.sh PFDK_PAGERD; 77 = skip (reason printed).
set -u
pagerd=$1
command -v criu >/dev/null || { echo "SKIP: criu not installed (apt-get install criu)"; exit 77; }
mountpoint -q /dev/pts || { mkdir -p /dev/pts; mount -t devpts devpts /dev/pts; }
ip link set lo up 2>/dev/null
criu check >/tmp/criu-check.log 2>&1 || { echo "SKIP: criu check fails:"; tail -5 /tmp/criu-check.log; exit 77; }
w=$(mktemp -d /tmp/pagerd-criu.XXXXXX)
cat >"$w/pat.c" <<'C'
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#define N (64ul << 20)
static volatile sig_atomic_t go;
static void on(int s) { (void)s; go = 1; }
int main(int argc, char **argv)
{
	uint64_t *m = mmap(NULL, N, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i, bad = 0;
	FILE *f;
	(void)argc;
	signal(SIGUSR1, on);
	for (i = 0; i < N / 8; i++)
		m[i] = i * 0x9e3779b97f4a7c15ull;
	f = fopen(argv[1], "w"); fprintf(f, "ready\n"); fclose(f);
	while (!go)
		pause();
	for (i = 0; i < N / 8; i++)
		bad += m[i] != i * 0x9e3779b97f4a7c15ull;
	f = fopen(argv[2], "w"); fprintf(f, "%zu\n", bad); fclose(f);
	return 0;
}
C
cc -O2 -o "$w/pat" "$w/pat.c" || exit 1
mkdir -p "$w/img"
setsid "$w/pat" "$w/ready" "$w/result" </dev/null >"$w/pat.out" 2>&1 &
pid=$!
i=0; while [ ! -s "$w/ready" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
criu dump -t "$pid" -D "$w/img" -o dump.log -v4 || { echo "FAIL: criu dump"; tail -20 "$w/img/dump.log"; exit 1; }
"$pagerd" criu -D "$w/img" -- --no-telemetry --no-pci --log-level=lib.eal:warning >"$w/pagerd.log" 2>&1 &
dpid=$!
i=0; while [ ! -S "$w/img/lazy-pages.socket" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
criu restore -D "$w/img" --lazy-pages -d -o restore.log -v4 || {
	echo "FAIL: criu restore --lazy-pages"; tail -20 "$w/img/restore.log"; cat "$w/pagerd.log"; exit 1; }
kill -USR1 "$pid"
i=0; while [ ! -s "$w/result" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
wait "$dpid"; drc=$?
cat "$w/pagerd.log"
bad=$(cat "$w/result" 2>/dev/null)
echo "pagerd exit $drc, words differing: ${bad:-no result}"
[ "$drc" = 0 ] && [ "$bad" = 0 ] || { echo FAIL; exit 1; }
echo PASS
