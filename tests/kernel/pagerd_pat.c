/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The program test_pagerd_criu.sh dumps and restores with the real criu.
 *
 * Usage: pagerd_pat DIR SEED
 * It fills 64 MiB with a pattern of its seed, writes DIR/ready and looks
 * for DIR/mode every millisecond. The test writes that file after the
 * dump, so a restored process goes on at once, as a restored service
 * would, without waiting for a signal that would leave the daemon idle
 * (and its push running) between the restore and the first touch. What it
 * does is read from DIR/mode:
 *
 *   ws      the bench: a working set of 2048 random pages (the same every
 *           restore), each checked with mincore() first, so a page that
 *           was not resident is one that really faulted, and its touch is
 *           timed; then a sequential touch of the first half; then it
 *           waits until every page is resident (the daemon's background
 *           push). DIR/touched gets "FAULTED P50_NS P99_NS WS_US
 *           TOUCH_PAGES_PER_S GO_NS RESIDENT_NS SUM" (CLOCK_REALTIME ns,
 *           RESIDENT_NS 0: not resident within 120 s).
 *   events  right after resume, before the pages came: a fork child reads
 *           the first 1 MiB on its own uffd (FORK), 1 MiB moves (REMAP:
 *           faults at the new address must get the old pages), 1 MiB goes
 *           (UNMAP) and 1 MiB is dropped (REMOVE: reads zero). DIR/touched
 *           gets "0 WRONG".
 *   slow    touch one page every 2 ms until killed: the test kills it
 *           while it still faults.
 *
 * On SIGUSR2 it checks every word it still has and writes the number that
 * differ to DIR/result, then exits.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mremap */
#endif
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N (64ul << 20)
#define PG 4096ul
#define PAGES (N / PG)
#define WS 2048 /* pages touched right after each restore: the working set */
#define Q ((1ul << 20) / 8) /* words in 1 MiB */

static volatile sig_atomic_t check;
static uint64_t seed;
static char dir[3800];

static void
on(int s)
{
	(void)s;
	check = 1;
}

static uint64_t
word(size_t i)
{
	return (i * 0x9e3779b97f4a7c15ull) ^ seed;
}

static uint64_t
ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void
put(const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		exit(3);
	fputs(text, f);
	fclose(f);
}

static int
cmp64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
resident(uint8_t *m, unsigned char *vec)
{
	size_t i;

	if (mincore(m, N, vec) != 0)
		return 0;
	for (i = 0; i < PAGES; i++)
		if (!(vec[i] & 1))
			return 0;
	return 1;
}

/* The bench: see the file comment. */
static void
bench(uint64_t *m)
{
	static uint64_t lat[WS];
	static unsigned char vec[PAGES];
	uint64_t x = 12345, sum = 0, t0, t1, t_go, t_res = 0, p50 = 0, p99 = 0, pps;
	size_t i, p, nf = 0;
	char out[256];
	unsigned char v;

	t_go = ns(CLOCK_REALTIME);
	t0 = ns(CLOCK_MONOTONIC);
	for (i = 0; i < WS; i++) {
		uint64_t a, b;

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		p = (x >> 33) % PAGES;
		if (mincore((uint8_t *)m + p * PG, PG, &v) != 0)
			v = 1;
		a = ns(CLOCK_MONOTONIC);
		sum += m[p * (PG / 8)];
		b = ns(CLOCK_MONOTONIC);
		if (!(v & 1))
			lat[nf++] = b - a;
	}
	t1 = ns(CLOCK_MONOTONIC);
	if (nf > 0) {
		qsort(lat, nf, sizeof(lat[0]), cmp64);
		p50 = lat[nf / 2];
		p99 = lat[nf * 99 / 100];
	}
	x = ns(CLOCK_MONOTONIC);
	for (p = 0; p < PAGES / 2; p++)
		sum += m[p * (PG / 8)];
	pps = (PAGES / 2) * 1000000000ull / (ns(CLOCK_MONOTONIC) - x + 1);
	for (i = 0; i < 60000; i++) {
		if (resident((uint8_t *)m, vec)) {
			t_res = ns(CLOCK_REALTIME);
			break;
		}
		usleep(2000);
	}
	snprintf(out, sizeof(out), "%zu %llu %llu %llu %llu %llu %llu %llu\n", nf,
		 (unsigned long long)p50, (unsigned long long)p99,
		 (unsigned long long)((t1 - t0) / 1000), (unsigned long long)pps,
		 (unsigned long long)t_go, (unsigned long long)t_res, (unsigned long long)sum);
	put("touched", out);
}

/* Memory events right after resume: see the file comment. @return words wrong. */
static size_t
events(uint64_t *m)
{
	size_t i, bad = 0, b0 = 0;
	uint64_t *mv;
	pid_t c;
	int st;

	c = fork();
	if (c == 0) {
		for (i = 0; i < Q; i++)
			b0 += m[i] != word(i);
		_exit(b0 != 0);
	}
	if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		bad++;
	mv = mremap(m + 4 * Q, 1ul << 20, 1ul << 20, MREMAP_MAYMOVE | MREMAP_FIXED,
		    (uint8_t *)m + N + (16ul << 20));
	if (mv == MAP_FAILED)
		bad++;
	else
		for (i = 0; i < Q; i++)
			bad += mv[i] != word(4 * Q + i);
	if (munmap(m + 8 * Q, 1ul << 20) != 0 || madvise(m + 12 * Q, 1ul << 20, MADV_DONTNEED) != 0)
		bad++;
	for (i = 12 * Q; i < 13 * Q; i++)
		bad += m[i] != 0;
	return bad;
}

int
main(int argc, char **argv)
{
	uint64_t *m;
	size_t i, bad = 0;
	int ev = 0, c = 0;
	char path[4096], text[64];
	FILE *f;

	if (argc != 3 || strlen(argv[1]) >= sizeof(dir))
		return 2;
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	seed = strtoull(argv[2], NULL, 0);
	m = mmap(NULL, N, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return 3;
	signal(SIGUSR2, on);
	for (i = 0; i < N / 8; i++)
		m[i] = word(i);
	snprintf(path, sizeof(path), "%s/mode", dir);
	put("ready", "ready\n");
	while ((f = fopen(path, "r")) == NULL)
		usleep(1000);
	c = fgetc(f);
	fclose(f);
	ev = c == 'e';
	if (c == 's') {
		for (i = 0;; i = (i + 1) % PAGES) {
			bad += m[i * (PG / 8)] != word(i * (PG / 8));
			usleep(2000);
		}
	}
	if (ev) {
		bad = events(m);
		snprintf(text, sizeof(text), "0 %zu\n", bad);
		put("touched", text);
	} else {
		bench(m);
	}
	while (!check)
		pause();
	for (i = 0; i < N / 8; i++) {
		if (ev && ((i >= 4 * Q && i < 5 * Q) || (i >= 8 * Q && i < 9 * Q)))
			continue; /* moved (checked above) or unmapped */
		bad += m[i] != (ev && i >= 12 * Q && i < 13 * Q ? 0 : word(i));
	}
	snprintf(text, sizeof(text), "%zu\n", bad);
	put("result", text);
	return 0;
}
