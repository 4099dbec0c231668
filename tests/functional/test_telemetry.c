/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PFDK's telemetry read by DPDK's own client, /usr/bin/dpdk-telemetry.py
 * (Debian's dpdk-dev), while a pipeline runs: the commands exist, answer
 * JSON, and their numbers move between two reads; the lcores say where
 * they run and what they poll, and latency windows follow each other.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_errno.h>

#include <sys/mman.h>

#include "pfdk_pipeline.h"
#include "pfdk_profile.h"
#include "pfdk_store.h"
#include "pfdk_uffd.h"
#include "test_common.h"

#define CLIENT "/usr/bin/dpdk-telemetry.py"

static char prefix[64];

/* Run the client with @cmds on stdin; its replies (JSON, one per line) in @out. */
static int
client(const char *cmds, char *out, size_t len)
{
	char sh[512];
	size_t n;
	FILE *f;

	snprintf(sh, sizeof(sh), "printf '%s' | %s -f %s 2>&1", cmds, CLIENT, prefix);
	f = popen(sh, "r");
	if (f == NULL)
		return -1;
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	return pclose(f) == 0 ? 0 : -1;
}

/* The number after "key": in @json, or UINT64_MAX. */
static uint64_t
field(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(json, pat);
	return p ? strtoull(p + strlen(pat), NULL, 10) : UINT64_MAX;
}

#define CHECK(c, ...) do { if (!(c)) { fprintf(stderr, "FAIL: " __VA_ARGS__); \
	fprintf(stderr, "\n"); return 1; } } while (0)

static uint16_t
resolve(void *ctx, struct pfdk_fault **faults, uint16_t nb)
{
	uint16_t i;

	(void)ctx;
	for (i = 0; i < nb; i++)
		faults[i]->status = PFDK_FAULT_RESP_SUCCESS;
	return nb;
}

/* /pfdk/inthread: faults taken in this thread's SIGBUS handler show up. */
static int
inthread_moves(void)
{
	static char o1[4096], o2[4096];
	const size_t pages = 256, len = pages * 4096;
	struct pfdk_store *s = pfdk_store_pattern_create(7);
	volatile uint8_t *mem;
	int id = pfdk_fault_dev_create("uffd61,sigbus=1");
	uint64_t sum = 0;
	size_t i;

	if (id < 0) {
		printf("SKIP /pfdk/inthread: no SIGBUS-mode userfaultfd here (%s)\n",
		       strerror(-id));
		return 0;
	}
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(mem != MAP_FAILED && s != NULL, "map/store");
	CHECK(pfdk_uffd_region_register((uint16_t)id, (void *)(uintptr_t)mem, len,
					PFDK_UFFD_MODE_MISSING, s, 4096) == 0, "register");
	CHECK(pfdk_uffd_inthread_enable((uint16_t)id, NULL) == 0, "enable");
	for (i = 0; i < pages / 2; i++)
		sum += mem[i * 4096];
	CHECK(client("/pfdk/inthread\\n", o1, sizeof(o1)) == 0, "client: %s", o1);
	for (i = pages / 2; i < pages; i++)
		sum += mem[i * 4096];
	CHECK(client("/pfdk/inthread\\n", o2, sizeof(o2)) == 0, "client: %s", o2);
	printf("%s(sum %" PRIu64 ")\n", o2, sum);
	CHECK(field(o1, "faults") != UINT64_MAX && field(o1, "faults") >= pages / 2,
	      "/pfdk/inthread faults: %s", o1);
	CHECK(field(o2, "faults") >= field(o1, "faults") + pages / 2, "faults did not move");
	CHECK(field(o2, "p50_ns") > 0 && field(o2, "p50_ns") <= field(o2, "max_ns"),
	      "handler time percentiles out of order");
	CHECK(field(o2, "errors") == 0 && field(o2, "chained") == 0, "errors: %s", o2);
	CHECK(pfdk_fault_close((uint16_t)id) == 0, "close");
	munmap((void *)(uintptr_t)mem, len);
	pfdk_store_free(s);
	return 0;
}

int
main(int argc, char **argv)
{
	static const char ini[] =
		"[pfdk]\nlayout = colocated\n"
		"[device.sim60]\ndevargs = sim60,rate=50000,groups=4\n"
		"[lcore.1]\nrole = poller\ncpu = 1\nengine = epoll\nqueues = sim60:0\n";
	static struct pfdk_profile prof;
	static char out1[16384], out2[16384];
	struct pfdk_profile_check chk = { .ncpus = 2 };
	struct pfdk_pipeline_conf pc = { .profile = &prof, .resolve = resolve };
	struct pfdk_pipeline *p;
	char err[256], cmds[128];
	uint64_t r1, r2;
	char *eal[8];
	int n = 0, id;

	(void)argc;
	if (access(CLIENT, X_OK) != 0) {
		printf("SKIP: %s not installed (Debian package dpdk-dev)\n", CLIENT);
		return TEST_SKIP;
	}
	test_watchdog("test_telemetry", 120);
	snprintf(prefix, sizeof(prefix), "pfdk_tel_%d", (int)getpid());
	eal[n++] = argv[0];
	eal[n++] = (char *)(uintptr_t)"--lcores";
	eal[n++] = (char *)(uintptr_t)"0@0,1@1";
	eal[n++] = (char *)(uintptr_t)"--file-prefix";
	eal[n++] = prefix;
	eal[n++] = (char *)(uintptr_t)"--no-pci";
	eal[n++] = (char *)(uintptr_t)"--log-level=lib.eal:warning";
	eal[n] = NULL;
	CHECK(pfdk_init(n, eal) >= 0, "EAL: %s", rte_strerror(rte_errno));
	CHECK(pfdk_profile_load_string("telemetry", ini, sizeof(ini) - 1, &prof,
				       &chk, err, sizeof(err)) == 0, "profile: %s", err);
	p = pfdk_pipeline_create(&pc);
	CHECK(p != NULL, "pipeline: %s", rte_strerror(rte_errno));
	CHECK(pfdk_pipeline_start(p) == 0, "start");
	id = pfdk_pipeline_dev_id(p, 0);
	snprintf(cmds, sizeof(cmds), "/pfdk/devs\\n/pfdk/stats,%d\\n/pfdk/lcores\\n/pfdk/latency\\n", id);

	usleep(200 * 1000);
	CHECK(client(cmds, out1, sizeof(out1)) == 0, "client: %s", out1);
	usleep(300 * 1000);
	CHECK(client(cmds, out2, sizeof(out2)) == 0, "client: %s", out2);
	printf("%s", out2);

	CHECK(strstr(out2, "\"/pfdk/devs\"") != NULL, "no /pfdk/devs reply");
	CHECK(strstr(out2, "\"sim60\"") != NULL, "/pfdk/stats does not name sim60");
	CHECK(strstr(out2, "\"poller\"") != NULL, "/pfdk/lcores has no poller");
	r1 = field(out1, "received");
	r2 = field(out2, "received");
	CHECK(r1 != UINT64_MAX && r2 != UINT64_MAX, "no received counter");
	CHECK(r2 > r1, "received did not move: %" PRIu64 " then %" PRIu64, r1, r2);
	CHECK(field(out2, "responded") > 0 && field(out2, "responded") != UINT64_MAX,
	      "nothing responded");
	CHECK(field(out2, "count") > field(out1, "count"), "latency count did not move");
	CHECK(field(out2, "p50_ns") > 0 && field(out2, "p50_ns") <= field(out2, "max_ns"),
	      "latency percentiles out of order");

	/* Where the poller runs and what it runs; its busy measure moves. */
	CHECK(strstr(out2, "\"cpu\": 1,") != NULL, "/pfdk/lcores: no cpu 1 (--lcores 1@1)");
	CHECK(strstr(out2, "\"engine\": \"epoll\"") != NULL, "/pfdk/lcores: no engine");
	CHECK(strstr(out2, "\"queues\": \"sim60:0\"") != NULL, "/pfdk/lcores: no queues");
	CHECK(field(out2, "total_cycles") > field(out1, "total_cycles") &&
	      field(out2, "total_cycles") != UINT64_MAX, "total_cycles did not move");
	CHECK(field(out2, "busy_cycles") > 0 &&
	      field(out2, "busy_cycles") <= field(out2, "total_cycles"),
	      "busy_cycles not in 1..total_cycles");
	CHECK(field(out2, "timestamp_ns") != UINT64_MAX && field(out2, "tsc") != UINT64_MAX,
	      "/pfdk/latency: no timestamp_ns or tsc");
	/*
	 * One lcore at a time (a reply holds about 25 of them): the list
	 * names lcore 1, /pfdk/lcores,1 is that poller alone, an lcore
	 * without a worker is an empty dict and a bad id is refused (null).
	 */
	CHECK(client("/pfdk/lcore_list\n/pfdk/lcores,1\n", out1, sizeof(out1)) == 0,
	      "client: %s", out1);
	CHECK(strstr(out1, "\"/pfdk/lcore_list\": [1]") != NULL, "lcore_list: %s", out1);
	CHECK(strstr(out1, "\"/pfdk/lcores\": {\"1\": {\"role\": \"poller\"") != NULL,
	      "/pfdk/lcores,1: %s", out1);
	CHECK(client("/pfdk/lcores,0\n/pfdk/lcores,x1\n/pfdk/lcores,-1\n", out1,
		     sizeof(out1)) == 0, "client: %s", out1);
	CHECK(strstr(out1, "\"/pfdk/lcores\": {}") != NULL, "/pfdk/lcores,0: %s", out1);
	CHECK(strstr(out1, "\"/pfdk/lcores\": null") != NULL &&
	      strstr(strstr(out1, "\"/pfdk/lcores\": null") + 1, "\"/pfdk/lcores\": null") != NULL,
	      "bad lcore ids not refused: %s", out1);
	CHECK(client("/pfdk/info\n", out1, sizeof(out1)) == 0, "client: %s", out1);
	CHECK(strstr(out1, "\"layout\": \"colocated\"") != NULL &&
	      strstr(out1, "\"profile\": ") != NULL, "/pfdk/info: %s", out1);

	/*
	 * Windows: the first covers everything since the start; the next
	 * starts where it ended (from_ns == its to_ns) and holds the faults
	 * since, fewer than the cumulative count read after it.
	 */
	CHECK(client("/pfdk/latency,window\n", out1, sizeof(out1)) == 0, "client: %s", out1);
	CHECK(field(out1, "from_ns") == 0 && field(out1, "count") > 0 &&
	      field(out1, "count") != UINT64_MAX, "first window: %s", out1);
	usleep(300 * 1000);
	CHECK(client("/pfdk/latency,window\n", out2, sizeof(out2)) == 0, "client: %s", out2);
	printf("%s%s", out1, out2);
	CHECK(field(out2, "from_ns") == field(out1, "to_ns") &&
	      field(out2, "to_ns") > field(out2, "from_ns"), "window bounds: %s", out2);
	CHECK(field(out2, "restarted") == 0, "window restarted: %s", out2);
	/* The poller's own window (lcore 1): the same faults, one poller here. */
	CHECK(strstr(out2, "\"lcore_1\": {\"count\": ") != NULL &&
	      field(strstr(out2, "\"lcore_1\""), "count") > 0, "no lcore_1 window: %s", out2);
	r1 = field(out2, "count");
	CHECK(client("/pfdk/latency\n", out1, sizeof(out1)) == 0, "client: %s", out1);
	CHECK(r1 > 0 && r1 < field(out1, "count"), "window count %" PRIu64 " of %" PRIu64,
	      r1, field(out1, "count"));
	CHECK(field(out2, "p50_ns") > 0 && field(out2, "p50_ns") <= field(out2, "p99_ns") &&
	      field(out2, "p99_ns") <= field(out2, "max_ns"), "window percentiles: %s", out2);
	CHECK(client("/pfdk/latency,bogus\n", out1, sizeof(out1)) == 0 &&
	      strstr(out1, "null") != NULL, "a bad parameter: %s", out1);

	pfdk_pipeline_destroy(p);
	printf("telemetry ok: received %" PRIu64 " -> %" PRIu64 "\n", r1, r2);
	CHECK(inthread_moves() == 0, "/pfdk/inthread");
	return pfdk_cleanup() == 0 ? 0 : 1;
}
