/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Profile loader: the shipped profiles load with the values they say, and
 * each broken profile fails with the file, line, section and key of the
 * mistake. Runs from the source root (meson's workdir), so fixture paths
 * are relative to it.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <numa.h>

#include <rte_common.h>
#include <rte_string_fns.h>

#include "pfdk_profile.h"

#define FIX "tests/unit/profiles/"

/* ~60 KiB: keep it off the stack */
static struct pfdk_profile prof, prof2;
static char err[1024];
/*
 * NUMA nodes the checks assume, like ncpus: fixed, so the results do not
 * depend on the machine (the host's own nodes are checked in test_nodes).
 */
static unsigned int nnodes = 4;

static int
load(const char *path, unsigned int ncpus)
{
	struct pfdk_profile_check check = { .ncpus = ncpus, .nnodes = nnodes };

	memset(err, 0, sizeof(err));
	return pfdk_profile_load(path, &prof, &check, err, sizeof(err));
}

static int
load_str(const char *text, unsigned int ncpus)
{
	struct pfdk_profile_check check = { .ncpus = ncpus, .nnodes = nnodes };

	memset(err, 0, sizeof(err));
	return pfdk_profile_load_string("inline.ini", text, strlen(text),
					&prof, &check, err, sizeof(err));
}

/* err starts with @p prefix and mentions @p what. */
static void
assert_err(const char *prefix, const char *what)
{
	if (strncmp(err, prefix, strlen(prefix)) != 0 ||
	    (what != NULL && strstr(err, what) == NULL))
		fail_msg("error\n  \"%s\"\nwanted prefix\n  \"%s\"\nand \"%s\"",
			 err, prefix, what != NULL ? what : "");
}

static void
expect_ok(int ret)
{
	if (ret != 0)
		fail_msg("load failed (%d): %s", ret, err);
}

/* Shipped profiles. */

static void
test_default(void **state)
{
	const struct pfdk_profile_lcore *lc;
	const struct pfdk_profile_node *nd;
	char eal[64];

	(void)state;
	expect_ok(load("config/default.ini", 2));
	assert_string_equal(prof.path, "config/default.ini");
	assert_string_equal(prof.name, "default");
	assert_int_equal(prof.layout, PFDK_LAYOUT_RTC);
	assert_int_equal(prof.burst, 32);
	assert_int_equal(prof.main_cpu, 0);
	assert_int_equal(prof.nb_devices, 1);
	assert_string_equal(prof.devices[0].name, "sim0");
	assert_string_equal(prof.devices[0].devargs, "sim0");
	assert_int_equal(prof.devices[0].nb_queues, 1);
	assert_int_equal(prof.nb_nodes, 1);
	nd = pfdk_profile_node(&prof, 0);
	assert_non_null(nd);
	assert_true(nd->line > 0);
	assert_int_equal(nd->ring_size & (nd->ring_size - 1), 0);
	assert_true(nd->pool_cache * 3 <= nd->pool_size * 2);
	assert_null(pfdk_profile_node(&prof, 1));
	assert_int_equal(prof.nb_lcores, 1);
	lc = &prof.lcores[0];
	assert_int_equal(lc->lcore_id, 1);
	assert_int_equal(lc->role, PFDK_ROLE_POLLER);
	assert_int_equal(lc->cpu, 1);
	assert_int_equal(lc->node, 0);
	assert_int_equal(lc->engine, PFDK_ENGINE_BUSY);
	assert_int_equal(lc->sqpoll_cpu, -1);
	assert_int_equal(lc->nb_queues, 1);
	assert_int_equal(lc->queues[0].dev, 0);
	assert_int_equal(lc->queues[0].queue, 0);
	assert_int_equal(pfdk_profile_eal_lcores(&prof, eal, sizeof(eal)), 7);
	assert_string_equal(eal, "0@0,1@1");
	/* one CPU: the poller's CPU does not exist */
	assert_int_equal(load("config/default.ini", 1), -EINVAL);
	assert_err("config/default.ini:", "[lcore.1] cpu: CPU 1 does not exist");
}

/* The embedded copy of a profile gives the same result as its file. */
static void
test_default_string(void **state)
{
	struct pfdk_profile_check check = { .ncpus = 2, .nnodes = 4 };
	char *text;
	long len;
	FILE *f;

	(void)state;
	f = fopen("config/default.ini", "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	text = malloc(len);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, len, f), len);
	fclose(f);
	expect_ok(load("config/default.ini", 2));
	assert_int_equal(pfdk_profile_load_string("config/default.ini", text,
						  len, &prof2, &check, err,
						  sizeof(err)), 0);
	assert_memory_equal(&prof, &prof2, sizeof(prof));
	free(text);
}

static void
test_one_node(void **state)
{
	const struct pfdk_profile_lcore *lc;
	unsigned int i, pollers = 0, resolvers = 0;
	char eal[256];

	(void)state;
	expect_ok(load("config/examples/one-node-16core.ini", 16));
	assert_int_equal(prof.layout, PFDK_LAYOUT_PIPELINE);
	/* an iommufd device has one queue: one per poller, beside sim0's 4 */
	assert_int_equal(prof.nb_devices, 5);
	assert_string_equal(prof.devices[0].devargs, "iommufd0,fault_fd=7");
	assert_string_equal(prof.devices[3].devargs, "iommufd3,fault_fd=10");
	assert_int_equal(prof.devices[0].nb_queues, 1);
	assert_int_equal(prof.devices[4].nb_queues, 4);
	for (i = 0; i < prof.nb_lcores; i++) {
		lc = &prof.lcores[i];
		if (lc->role == PFDK_ROLE_RESOLVER) {
			resolvers++;
			continue;
		}
		pollers++;
		assert_int_equal(lc->engine, PFDK_ENGINE_URING);
		assert_true(lc->sqpoll_cpu >= 0);
		assert_int_not_equal(lc->sqpoll_cpu, lc->cpu);
		assert_int_equal(lc->nb_queues, 2);
	}
	assert_int_equal(pollers, 4);
	assert_int_equal(resolvers, 6);
	/* "iommufd1:0, sim0:1" */
	assert_int_equal(prof.lcores[1].queues[0].dev, 1);
	assert_int_equal(prof.lcores[1].queues[0].queue, 0);
	assert_int_equal(prof.lcores[1].queues[1].dev, 4);
	assert_int_equal(prof.lcores[1].queues[1].queue, 1);
	assert_true(pfdk_profile_eal_lcores(&prof, eal, sizeof(eal)) > 0);
	assert_string_equal(eal,
		"0@0,1@2,2@3,3@4,4@5,5@10,6@11,7@12,8@13,9@14,10@15");
	/* 14 spinning threads: fine on 16 CPUs, too many on 15 */
	assert_int_equal(load("config/examples/one-node-16core.ini", 15),
			 -EINVAL);
	assert_err("config/examples/one-node-16core.ini:", "does not exist");
}

static void
test_two_node(void **state)
{
	const struct pfdk_profile_node *nd;
	unsigned int i, on1 = 0;

	(void)state;
	expect_ok(load("config/examples/two-node.ini", 32));
	expect_ok(load("config/examples/inthread.ini", 1));
	/* layout = inthread: one implied, sleeping lcore on main_cpu owns the device. */
	assert_int_equal(prof.layout, PFDK_LAYOUT_INTHREAD);
	assert_int_equal(prof.nb_lcores, 1);
	assert_true(prof.lcores[0].implied);
	assert_int_equal(prof.lcores[0].engine, PFDK_ENGINE_INTHREAD);
	assert_int_equal(prof.lcores[0].cpu, prof.main_cpu);
	assert_int_equal(prof.lcores[0].role, PFDK_ROLE_POLLER);
	assert_int_equal(prof.lcores[0].nb_queues, 1);
	assert_int_equal(prof.lcores[0].queues[0].dev, 0);
	assert_int_equal(prof.lcores[0].engine, PFDK_ENGINE_INTHREAD);
	assert_non_null(strstr(prof.devices[0].devargs, "sigbus=1"));
	expect_ok(load("config/examples/two-node.ini", 32));
	assert_int_equal(prof.layout, PFDK_LAYOUT_PIPELINE);
	assert_int_equal(prof.nb_nodes, 2);
	for (i = 0; i < 2; i++) {
		nd = pfdk_profile_node(&prof, (int)i);
		assert_non_null(nd);
		assert_int_equal(nd->ring_size, 2048);
		assert_true(nd->line > 0);
	}
	for (i = 0; i < prof.nb_lcores; i++)
		on1 += prof.lcores[i].node == 1;
	assert_int_equal(on1, 6);
	assert_int_equal(prof.lcores[6].lcore_id, 17);
	assert_int_equal(prof.lcores[6].engine, PFDK_ENGINE_URING);
	assert_int_equal(prof.lcores[6].sqpoll_cpu, 18);
	/* the node-1 CPUs do not exist on 16 */
	assert_int_equal(load("config/examples/two-node.ini", 16), -EINVAL);
}

/* Defaults, an implied node, escapes, whitespace and CRLF. */
static void
test_minimal(void **state)
{
	const struct pfdk_profile_node *nd;
	const struct pfdk_profile_lcore *lc;

	(void)state;
	/* its devargs carry a key the sim driver lacks, to test "\;" */
	assert_int_equal(load(FIX "good_minimal.ini", 4), -EINVAL);
	assert_err(FIX "good_minimal.ini:4: [device.sim0] devargs: ",
		   "sim0: unknown key 'tag'");
	memset(err, 0, sizeof(err));
	expect_ok(pfdk_profile_load(FIX "good_minimal.ini", &prof,
		&(struct pfdk_profile_check){ .ncpus = 4, .nnodes = 4,
					      .no_driver_checks = true },
		err, sizeof(err)));
	assert_string_equal(prof.name, "good_minimal");
	assert_int_equal(prof.layout, PFDK_LAYOUT_RTC);
	assert_int_equal(prof.burst, 32);
	assert_string_equal(prof.devices[0].devargs, "sim0,tag=a;b");
	assert_string_equal(prof.devices[1].name, "sim1");
	assert_string_equal(prof.devices[1].devargs, "sim1");
	lc = &prof.lcores[0];
	assert_int_equal(lc->lcore_id, 7);
	assert_int_equal(lc->nb_queues, 3);
	assert_int_equal(lc->queues[0].queue, 2);
	assert_int_equal(lc->queues[1].queue, 0);
	assert_int_equal(lc->queues[2].queue, 1);
	assert_int_equal(prof.lcores[1].lcore_id, 2);
	assert_int_equal(prof.lcores[1].queues[0].dev, 1);
	nd = pfdk_profile_node(&prof, 3);
	assert_non_null(nd);
	assert_int_equal(nd->line, 0);
	assert_int_equal(nd->pool_size, 8191);
	assert_int_equal(nd->pool_cache, 256);
	assert_int_equal(nd->ring_size, 1024);
	assert_non_null(pfdk_profile_node(&prof, 0));
}

/* Broken fixtures: each names its file, line, section and key. */

struct bad {
	const char *file;
	unsigned int ncpus;
	unsigned int line;
	const char *sect;  /* NULL: a syntax error */
	const char *key;   /* NULL: the section itself */
	const char *what;  /* part of the reason */
	unsigned int nnodes; /* 0: the default, 4 */
};

static const struct bad bad[] = {
	{ "unknown_key", 4, 7, "lcore.1", "cpus", "unknown key" },
	{ "unknown_section", 4, 4, "lcores.1", NULL, "unknown section" },
	{ "bad_number", 4, 4, "pfdk", "burst", "'32x' is not a number" },
	{ "bad_layout", 4, 4, "pfdk", "layout", "'pipe' is not one of" },
	{ "bad_engine", 4, 7, "lcore.1", "engine", "'spin' is not one of" },
	{ "unowned_queue", 4, 4, "device.sim0", "queues",
	  "queue 1 of sim0 is owned by no poller" },
	{ "queue_owned_twice", 4, 15, "lcore.2", "queues",
	  "sim0:0 is already owned by [lcore.1] (line 5)" },
	{ "unknown_device", 4, 7, "lcore.1", "queues",
	  "unknown device 'sim1'" },
	{ "queue_out_of_range", 4, 8, "lcore.1", "queues",
	  "queue 1 is out of range" },
	{ "resolver_rtc", 4, 14, "lcore.2", "role",
	  "resolvers need layout = pipeline" },
	{ "pipeline_no_resolver", 4, 20, "lcore.3", "node",
	  "node 1 has pollers but no resolver" },
	{ "colocated_busy", 4, 10, "lcore.1", "engine",
	  "colocated needs engine = epoll" },
	{ "sqpoll_own_cpu", 4, 8, "lcore.1", "sqpoll_cpu",
	  "SQ thread would compete with its own poller (measured: 125 faults/s)" },
	{ "sqpoll_busy", 4, 9, "lcore.1", "sqpoll_cpu",
	  "only engine = uring" },
	{ "uring_no_sqpoll", 4, 7, "lcore.1", "engine", "needs sqpoll_cpu" },
	{ "cpu_too_big", 4, 6, "lcore.1", "cpu",
	  "CPU 4 does not exist on a 4-CPU host" },
	{ "all_spinning", 2, 14, "lcore.2", "engine",
	  "2 busy-spinning threads on 2 CPUs would leave no CPU for faulting threads" },
	{ "ring_not_pow2", 4, 5, "node.0", "ring_size", "not a power of 2" },
	{ "dup_lcore", 4, 10, "lcore.1", NULL,
	  "duplicate lcore id 1 (first at line 4)" },
	{ "lcore0", 4, 4, "lcore.0", NULL, "main lcore" },
	{ "syntax_error", 4, 4, NULL, NULL,
	  "expected '[section]' or 'key = value'" },
	/* what only the drivers, the host or start found before (issue 10) */
	{ "devargs_driver", 4, 6, "device.foo0", "devargs",
	  "'foo0': no fault driver for this name" },
	{ "devargs_key", 4, 4, "device.sim0", "devargs",
	  "sim0: unknown key 'colour' (driver sim takes: rate=" },
	{ "devargs_twice", 4, 3, "device.sim0", "devargs",
	  "sim0: key 'rate' given twice (rate=5, then rate=6)" },
	{ "devargs_value", 4, 3, "device.sim0", "devargs",
	  "groups=65: expected an integer in 1..64" },
	{ "queues_over_driver", 4, 4, "device.uffd0", "queues",
	  "2 queues, but driver uffd gives uffd0 at most 1" },
	{ "pool_too_big", 4, 4, "node.0", "pool_size",
	  "1073741824 descriptors do not fit rte_mempool's own rte_ring (1073741823 at most" },
	{ "inthread_no_sigbus", 4, 11, "lcore.1", "engine",
	  "inthread: device uffd0 ([device.uffd0], line 5) cannot resolve in the faulting threads: its devargs 'uffd0,fault_around=7' need sigbus=1" },
	{ "node_missing", 4, 5, "node.1", NULL,
	  "NUMA node 1 does not exist on this host (its nodes: 0)", 1 },
	{ "lcore_node_missing", 4, 7, "lcore.1", "node",
	  "NUMA node 1 does not exist on this host (its nodes: 0)", 1 },
	{ "no_device", 4, 2, "pfdk", NULL, "no [device.*] section" },
	{ "no_poller", 4, 5, "device.sim0", "queues",
	  "queue 0 of sim0 is owned by no poller" },
};

static void
test_bad(void **state)
{
	const struct bad *b = *state;
	char path[128], prefix[256];

	snprintf(path, sizeof(path), FIX "%s.ini", b->file);
	if (b->sect == NULL)
		snprintf(prefix, sizeof(prefix), "%s:%u: syntax error: ",
			 path, b->line);
	else if (b->key == NULL)
		snprintf(prefix, sizeof(prefix), "%s:%u: [%s]: ",
			 path, b->line, b->sect);
	else
		snprintf(prefix, sizeof(prefix), "%s:%u: [%s] %s: ",
			 path, b->line, b->sect, b->key);
	nnodes = b->nnodes != 0 ? b->nnodes : 4;
	assert_int_equal(load(path, b->ncpus), -EINVAL);
	nnodes = 4;
	assert_err(prefix, b->what);
}

static void
test_missing_file(void **state)
{
	(void)state;
	assert_int_equal(load(FIX "no_such.ini", 4), -ENOENT);
	assert_string_equal(err,
		FIX "no_such.ini: cannot read: No such file or directory");
	assert_int_equal(load(FIX, 4), -ENOENT);
	assert_err(FIX ": cannot read: ", NULL);
}

/* In-memory profiles: the rules that need no fixture file. */

struct inl {
	const char *text;
	unsigned int ncpus;
	const char *prefix;
	const char *what;
};

#define DEV "[device.sim0]\n"
#define POLLER "[lcore.1]\nrole = poller\ncpu = 1\nqueues = sim0:0\n"

static const struct inl inl[] = {
	/* what rte_cfgfile skips, truncates or fails on */
	{ "[pfdk\n", 4, "inline.ini:1: syntax error: ", "no closing ']'" },
	{ "\n[pfdk] x\n", 4, "inline.ini:2: syntax error: ", "after ']'" },
	{ "burst = 1\n[pfdk]\n", 4, "inline.ini:1: syntax error: ",
	  "before the first [section]" },
	{ "[pfdk]\nname =\n", 4, "inline.ini:2: syntax error: ", "no value" },
	{ "[pfdk]\n = x\n", 4, "inline.ini:2: syntax error: ", "no key" },
	{ "[pfdk]\n# note\n", 4, "inline.ini:2: syntax error: ",
	  "comments start with ';'" },
	{ "[pfdk]\n#name = x\n", 4, "inline.ini:2: syntax error: ",
	  "comments start with ';'" },
	/* keys and sections */
	{ "[pfdk]\nburst = 1\n\nburst = 2\n", 4, "inline.ini:4: [pfdk] burst: ",
	  "duplicate key (first at line 2)" },
	{ "[pfdk]\n[pfdk]\n", 4, "inline.ini:2: [pfdk]: ",
	  "duplicate section (first at line 1)" },
	{ "[node.0]\n[node.0]\n", 4, "inline.ini:2: [node.0]: ", "duplicate" },
	{ DEV DEV, 4, "inline.ini:2: [device.sim0]: ", "duplicate" },
	{ "[device.a:b]\n", 4, "inline.ini:1: [device.a:b]: ", "device name" },
	/* queue ranges */
	{ DEV "[lcore.1]\nrole = poller\ncpu = 1\nqueues = sim0:1-0\n", 4,
	  "inline.ini:5: [lcore.1] queues: ", "a range A-B or *" },
	{ DEV "[lcore.1]\nrole = poller\ncpu = 1\nqueues = sim0:0-1\n", 4,
	  "inline.ini:5: [lcore.1] queues: ", "out of range" },
	{ DEV "[lcore.1]\nrole = poller\ncpu = 1\nqueues = sim[0-1]:0\n", 4,
	  "inline.ini:5: [lcore.1] queues: ", "unknown device 'sim1'" },
	{ DEV "[lcore.1]\nrole = poller\ncpu = 1\nqueues = sim[1-0]:0\n", 4,
	  "inline.ini:5: [lcore.1] queues: ", "PREFIX[A-B] with A <= B" },
	{ DEV "[lcore.1]\nrole = poller\ncpu = 1\nqueues = sim[0:0\n", 4,
	  "inline.ini:5: [lcore.1] queues: ", "PREFIX[A-B]" },
	{ "[device.]\n", 4, "inline.ini:1: [device.]: ", "device name" },
	{ "[lcore.01]\n", 4, "inline.ini:1: [lcore.01]: ", "leading zeros" },
	{ "[lcore.128]\n", 4, "inline.ini:1: [lcore.128]: ", "0..127" },
	{ "[node.32]\n", 4, "inline.ini:1: [node.32]: ", "0..31" },
	{ "[]\n", 4, "inline.ini:1: []: ", "unknown section" },
	/* numbers */
	{ "[pfdk]\nburst = 0\n", 4, "inline.ini:2: [pfdk] burst: ",
	  "0 is out of range 1..512" },
	{ "[pfdk]\nburst = 513\n", 4, "inline.ini:2: [pfdk] burst: ",
	  "out of range" },
	{ "[pfdk]\nburst = 99999999999999999999999\n", 4,
	  "inline.ini:2: [pfdk] burst: ", "out of range" },
	{ "[pfdk]\nmain_cpu = -1\n", 4, "inline.ini:2: [pfdk] main_cpu: ",
	  "not a number" },
	{ "[pfdk]\nmain_cpu = 0x1\n", 4, "inline.ini:2: [pfdk] main_cpu: ",
	  "not a number" },
	{ "[pfdk]\nmain_cpu = 4\n", 4, "inline.ini:2: [pfdk] main_cpu: ",
	  "does not exist" },
	{ "[node.0]\npool_size = 100\n", 4, "inline.ini:1: [node.0] pool_cache: ",
	  "pool_size / 1.5" },
	{ "[node.0]\npool_cache = 513\n", 4, "inline.ini:2: [node.0] pool_cache: ",
	  "out of range 0..512" },
	{ "[device.sim0]\nqueues = 0\n", 4,
	  "inline.ini:2: [device.sim0] queues: ", "out of range" },
	/* devices */
	{ "[device.sim0]\ndevargs = sim01,x=1\n", 4,
	  "inline.ini:2: [device.sim0] devargs: ", "must start with" },
	{ "[device.sim0]\ndevargs = sim\n", 4,
	  "inline.ini:2: [device.sim0] devargs: ", "must start with" },
	/* lcores */
	{ DEV "[lcore.1]\ncpu = 1\n", 4, "inline.ini:2: [lcore.1] role: ",
	  "missing" },
	{ DEV "[lcore.1]\nrole = poller\nqueues = sim0:0\n", 4,
	  "inline.ini:2: [lcore.1] cpu: ", "missing" },
	{ DEV "[lcore.1]\nrole = boss\n", 4, "inline.ini:3: [lcore.1] role: ",
	  "'boss' is not one of: poller, resolver" },
	{ DEV "[lcore.1]\nrole = poller\ncpu = 1\n", 4,
	  "inline.ini:2: [lcore.1] queues: ", "at least one queue" },
	{ "[pfdk]\nlayout = pipeline\n" DEV POLLER
	  "[lcore.2]\nrole = resolver\ncpu = 2\nengine = busy\n", 4,
	  "inline.ini:11: [lcore.2] engine: ", "resolvers have no engine" },
	{ "[pfdk]\nlayout = pipeline\n" DEV POLLER
	  "[lcore.2]\nrole = resolver\nqueues = sim0:0\ncpu = 2\n", 4,
	  "inline.ini:10: [lcore.2] queues: ", "resolvers have no queues" },
	{ DEV "[lcore.1]\nrole = poller\ncpu = 1\nqueues = sim0-0\n", 4,
	  "inline.ini:5: [lcore.1] queues: ", "'sim0-0' is not DEVICE:QUEUE" },
	{ DEV "[lcore.1]\nrole = poller\ncpu = 1\nqueues = sim0:0,\n", 4,
	  "inline.ini:5: [lcore.1] queues: ", "empty entry" },
	{ DEV "[lcore.1]\nrole = poller\ncpu = 1\nqueues = sim0:x\n", 4,
	  "inline.ini:5: [lcore.1] queues: ", "not a queue id" },
	{ DEV "[lcore.1]\nrole = poller\ncpu = 1\nqueues = sim0:0, sim0:0\n", 4,
	  "inline.ini:5: [lcore.1] queues: ", "sim0:0 is listed twice" },
	{ DEV "[lcore.1]\nrole = poller\ncpu = 1\nnode = 32\nqueues = sim0:0\n",
	  4, "inline.ini:5: [lcore.1] node: ", "out of range 0..31" },
	/* spinning threads: a uring poller is two, a resolver one */
	{ DEV "[lcore.1]\nrole = poller\ncpu = 1\nengine = uring\n"
	  "sqpoll_cpu = 2\nqueues = sim0:0\n", 2,
	  "inline.ini:", "CPU 2 does not exist" },
	{ DEV "[lcore.1]\nrole = poller\ncpu = 1\nengine = uring\n"
	  "sqpoll_cpu = 0\nqueues = sim0:0\n", 2,
	  "inline.ini:5: [lcore.1] engine: ",
	  "2 busy-spinning threads on 2 CPUs" },
	{ "[pfdk]\nlayout = pipeline\n" DEV
	  "[lcore.1]\nrole = poller\ncpu = 1\nengine = epoll\nqueues = sim0:0\n"
	  "[lcore.2]\nrole = resolver\ncpu = 1\n"
	  "[lcore.3]\nrole = resolver\ncpu = 0\n", 2,
	  "inline.ini:13: [lcore.3] role: ", "2 busy-spinning threads on 2 CPUs" },
	{ DEV "[lcore.1]\nrole = poller\ncpu = 1\nengine = uring-nosqpoll\n"
	  "sqpoll_cpu = 0\nqueues = sim0:0\n", 4,
	  "inline.ini:6: [lcore.1] sqpoll_cpu: ", "only engine = uring" },
	{ DEV "[lcore.1]\nrole = poller\ncpu = 1\nengine = inthread\n"
	  "sqpoll_cpu = 0\nqueues = sim0:0\n", 4,
	  "inline.ini:6: [lcore.1] sqpoll_cpu: ", "only engine = uring" },
	{ DEV "[lcore.1]\nrole = poller\ncpu = 1\nengine = sigbus\n"
	  "queues = sim0:0\n", 4, "inline.ini:5: [lcore.1] engine: ",
	  "inthread" },
	/* layout = inthread: no lcores of its own, devices that resolve in the threads */
	{ "[pfdk]\nlayout = inthread\n[device.uffd0]\ndevargs = uffd0,sigbus=1\n"
	  "[lcore.1]\nrole = poller\ncpu = 1\nengine = inthread\nqueues = uffd0:0\n", 4,
	  "inline.ini:5: [lcore.1]: ", "layout inthread declares no lcores" },
	{ "[pfdk]\nlayout = inthread\n[device.uffd0]\ndevargs = uffd0,sigbus=0\n", 4,
	  "inline.ini:2: [pfdk] layout: ", "devargs 'uffd0,sigbus=0' need sigbus=1" },
	/* the drivers' own checks, at load (issue 10) */
	{ "[device.foo0]\n", 4, "inline.ini:1: [device.foo0] devargs: ",
	  "'foo0': no fault driver for this name" },
	{ "[device.sim0]\ndevargs = sim0,queues=2\nqueues = 4\n", 4,
	  "inline.ini:3: [device.sim0] queues: ",
	  "4 queues, but driver sim gives sim0 at most 2" },
	{ "[device.uffd0]\ndevargs = uffd0,sigbus=0\n"
	  "[lcore.1]\nrole = poller\ncpu = 1\nengine = inthread\nqueues = uffd0:0\n",
	  4, "inline.ini:6: [lcore.1] engine: ", "devargs 'uffd0,sigbus=0' need sigbus=1" },
	{ DEV "[lcore.1]\nrole = poller\ncpu = 1\nengine = inthread\nqueues = sim0:0\n",
	  4, "inline.ini:5: [lcore.1] engine: ", "inthread: device sim0" },
	{ "[device.uffd0]\ndevargs = uffd0,sigbus=1\n[device.uffd1]\n"
	  "[lcore.1]\nrole = poller\ncpu = 1\nengine = inthread\n"
	  "queues = uffd0:0, uffd1:0\n", 4, "inline.ini:7: [lcore.1] engine: ",
	  "device uffd1 ([device.uffd1], line 3)" },
	{ "[pfdk]\nname = x\n[node.0]\npool_size = 99999999999\n", 4,
	  "inline.ini:4: [node.0] pool_size: ", "out of range" },
};

#define NB_BAD (sizeof(bad) / sizeof(bad[0]))
#define NB_INL (sizeof(inl) / sizeof(inl[0]))

static void
test_inline(void **state)
{
	const struct inl *c = *state;

	memset(err, 0, sizeof(err));
	assert_int_equal(pfdk_profile_load_string("inline.ini", c->text,
		strlen(c->text),
		&prof, &(struct pfdk_profile_check){ .ncpus = c->ncpus, .nnodes = 4 },
		err, sizeof(err)), -EINVAL);
	assert_err(c->prefix, c->what);
}

static void
test_limits(void **state)
{
	char text[1024], *big;

	(void)state;
	/* 322 characters is rte_cfgfile's longest line, 323 too long */
	snprintf(text, sizeof(text), "[pfdk]\nname%318s\n" DEV POLLER, "= x");
	assert_int_equal(strcspn(strchr(text, '\n') + 1, "\n"), 322);
	expect_ok(load_str(text, 4));
	assert_string_equal(prof.name, "x");
	snprintf(text, sizeof(text), "[pfdk]\nname%319s\n", "= x");
	assert_int_equal(load_str(text, 4), -EINVAL);
	assert_err("inline.ini:2: syntax error: ", "longer than 322");
	/* 256 characters is one more than a value holds */
	snprintf(text, sizeof(text), "[device.sim0]\ndevargs = sim0,seed=%0246d\n", 0);
	assert_int_equal(load_str(text, 4), -EINVAL);
	assert_err("inline.ini:2: syntax error: ", "value longer than 255");
	snprintf(text, sizeof(text), "[device.sim0]\ndevargs = sim0,seed=%0245d\n"
		 "[lcore.1]\nrole = poller\ncpu = 1\nqueues = sim0:0\n", 0);
	expect_ok(load_str(text, 4));
	assert_int_equal(strlen(prof.devices[0].devargs), 255);
	/* rte_cfgfile would stop reading the line at the NUL */
	assert_int_equal(pfdk_profile_load_string("inline.ini",
		"[pfdk]\nname = a\0b\n", 17, &prof, NULL, err, sizeof(err)),
		-EINVAL);
	assert_err("inline.ini:2: syntax error: ", "NUL");
	/* more than a profile could ever need */
	big = calloc(1, (1u << 20) + 2);
	assert_non_null(big);
	memset(big, '\n', (1u << 20) + 1);
	assert_int_equal(pfdk_profile_load_string("big", big, (1u << 20) + 1,
		&prof, NULL, err, sizeof(err)), -EINVAL);
	assert_err("big: larger than", NULL);
	free(big);
}

static void
test_misc(void **state)
{
	char eal[8];

	(void)state;
	/* nothing at all would serve nothing: refused (it was accepted) */
	assert_int_equal(pfdk_profile_load_string("empty", "", 0, &prof, NULL,
						  err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "empty: no [device.*] section: a profile needs a fault device and a poller that owns its queues");
	assert_int_equal(load(FIX "empty.ini", 4), -EINVAL);
	assert_err(FIX "empty.ini: no [device.*] section", NULL);
	/* colocated with epoll: nothing spins, fits 2 CPUs with 2 pollers */
	expect_ok(load_str("[pfdk]\nlayout = colocated\n"
			   "[device.sim0]\nqueues = 2\n"
			   "[lcore.1]\nrole = poller\ncpu = 0\nengine = epoll\n"
			   "queues = sim0:0\n"
			   "[lcore.2]\nrole = poller\ncpu = 1\nengine = epoll\n"
			   "queues = sim0:1\n", 2));
	assert_int_equal(prof.layout, PFDK_LAYOUT_COLOCATED);
	assert_int_equal(pfdk_profile_eal_lcores(&prof, eal, sizeof(eal)),
			 -ENOSPC);
	assert_int_equal(pfdk_profile_eal_lcores(&prof, eal, 3), -ENOSPC);
	/* inthread sleeps too: colocated, and never counted as a spinner */
	expect_ok(load_str("[pfdk]\nlayout = colocated\n"
			   "[device.uffd0]\ndevargs = uffd0,sigbus=1\nqueues = 1\n"
			   "[lcore.1]\nrole = poller\ncpu = 0\nengine = inthread\n"
			   "queues = uffd0:0\n", 1));
	assert_int_equal(prof.lcores[0].engine, PFDK_ENGINE_INTHREAD);
	assert_string_equal(pfdk_engine_name(PFDK_ENGINE_INTHREAD), "inthread");
	assert_true(pfdk_engine_sleeps(PFDK_ENGINE_INTHREAD));
	assert_false(pfdk_engine_sleeps(PFDK_ENGINE_URING));
	assert_string_equal(pfdk_layout_name(PFDK_LAYOUT_PIPELINE), "pipeline");
	assert_string_equal(pfdk_engine_name(PFDK_ENGINE_URING_NOSQPOLL),
			    "uring-nosqpoll");
	assert_string_equal(pfdk_role_name(PFDK_ROLE_RESOLVER), "resolver");
	assert_string_equal(pfdk_engine_name((enum pfdk_engine)99), "unknown");
	/* an error message cut short stays terminated */
	assert_int_equal(pfdk_profile_load_string("inline.ini", "[x]\n", 4,
		&prof, NULL, eal, sizeof(eal)), -EINVAL);
	assert_string_equal(eal, "inline.");
}

/* Nodes against the host's own (libnuma), and against a given count. */
static void
test_nodes(void **state)
{
	struct pfdk_profile_check host = { .ncpus = 4 };
	char text[512];
	int missing = numa_available() < 0 ? 1 : numa_max_node() + 1;

	(void)state;
	/* node 0 always exists */
	snprintf(text, sizeof(text), DEV "[lcore.1]\nrole = poller\ncpu = 1\n"
		 "node = 0\nqueues = sim0:0\n");
	expect_ok(pfdk_profile_load_string("inline.ini", text, strlen(text),
					   &prof, &host, err, sizeof(err)));
	/* one past the host's highest node does not (node 1 on one node) */
	snprintf(text, sizeof(text), DEV "[lcore.1]\nrole = poller\ncpu = 1\n"
		 "node = %d\nqueues = sim0:0\n", missing);
	assert_int_equal(pfdk_profile_load_string("inline.ini", text,
		strlen(text), &prof, &host, err, sizeof(err)), -EINVAL);
	assert_err("inline.ini:5: [lcore.1] node: ", "does not exist on this host");
	snprintf(text, sizeof(text), "[node.%d]\n" DEV
		 "[lcore.1]\nrole = poller\ncpu = 1\nqueues = sim0:0\n", missing);
	assert_int_equal(pfdk_profile_load_string("inline.ini", text,
		strlen(text), &prof, &host, err, sizeof(err)), -EINVAL);
	assert_err("inline.ini:1: [node.", "]: NUMA node");
	/* checked for a two-node host, node 1 is fine and node 2 is not */
	nnodes = 2;
	expect_ok(load(FIX "node_missing.ini", 4));
	assert_non_null(pfdk_profile_node(&prof, 1));
	snprintf(text, sizeof(text), DEV "[lcore.1]\nrole = poller\ncpu = 1\n"
		 "node = 2\nqueues = sim0:0\n");
	assert_int_equal(load_str(text, 4), -EINVAL);
	nnodes = 4;
	assert_err("inline.ini:5: [lcore.1] node: ",
		   "NUMA node 2 does not exist on this host (its nodes: 0, 1)");
}

/* The largest pool rte_mempool can build loads; one more does not. */
static void
test_pool_limit(void **state)
{
	(void)state;
	expect_ok(load_str("[node.0]\npool_size = 1073741823\n" DEV POLLER, 4));
	assert_int_equal(pfdk_profile_node(&prof, 0)->pool_size, 1073741823u);
	assert_int_equal(load_str("[node.0]\npool_size = 1073741824\n" DEV POLLER, 4),
			 -EINVAL);
	assert_err("inline.ini:2: [node.0] pool_size: ", "do not fit");
}

/* A caller that fixes devargs after loading can skip the driver checks. */
static void
test_no_driver_checks(void **state)
{
	struct pfdk_profile_check chk = { .ncpus = 4, .nnodes = 1,
					  .no_driver_checks = true };
	const char *text = "[device.uffd0]\n[lcore.1]\nrole = poller\ncpu = 1\n"
			   "engine = inthread\nqueues = uffd0:0\n";

	(void)state;
	assert_int_equal(load_str(text, 4), -EINVAL);
	assert_err("inline.ini:5: [lcore.1] engine: ", "need sigbus=1");
	expect_ok(pfdk_profile_load_string("inline.ini", text, strlen(text),
					   &prof, &chk, err, sizeof(err)));
	assert_int_equal(prof.lcores[0].engine, PFDK_ENGINE_INTHREAD);
	/* the host's rules still apply */
	assert_int_equal(pfdk_profile_load_string("inline.ini",
		"[node.1]\n[device.sim0]\n", 22, &prof, &chk, err, sizeof(err)),
		-EINVAL);
	assert_err("inline.ini:1: [node.1]: ", "does not exist");
}

/*
 * An application that creates its devices at run time (pfdk-pagerd) loads
 * pollers without devices or queues, and refuses what it does not run.
 */
static void
test_runtime_devices(void **state)
{
	struct pfdk_profile_check chk = {
		.ncpus = 2, .nnodes = 1, .runtime_devices = true,
		.engines = 1u << PFDK_ENGINE_BUSY | 1u << PFDK_ENGINE_EPOLL,
		.layouts = 1u << PFDK_LAYOUT_RTC | 1u << PFDK_LAYOUT_COLOCATED,
	};
	const char *two = "[lcore.1]\nrole = poller\ncpu = 0\nengine = epoll\n"
			  "[lcore.2]\nrole = poller\ncpu = 1\nengine = epoll\n";
	const char *bad[][3] = {
		{ "[device.sim0]\n", "inline.ini:1: [device.sim0]: ", "no [device.*]" },
		{ "[lcore.1]\nrole = poller\ncpu = 1\nqueues = sim0:0\n",
		  "inline.ini:4: [lcore.1] queues: ", "names no queues" },
		{ "[lcore.1]\nrole = poller\ncpu = 1\nengine = uring\nsqpoll_cpu = 0\n",
		  "inline.ini:4: [lcore.1] engine: ", "it runs: busy, epoll" },
		{ "[pfdk]\nname = x\nlayout = pipeline\n",
		  "inline.ini:3: [pfdk] layout: ", "it runs: rtc, colocated" },
		/* the spinning-threads rule still holds */
		{ "[lcore.1]\nrole = poller\ncpu = 0\n[lcore.2]\nrole = poller\ncpu = 1\n",
		  "inline.ini:4: [lcore.2] engine: ", "busy-spinning" },
	};
	static char text[4096];
	unsigned int i;

	(void)state;
	/* without the flag, a poller without queues is still an error */
	assert_int_equal(load_str(two, 2), -EINVAL);
	assert_err("inline.ini:1: [lcore.1] queues: ", "missing");
	expect_ok(pfdk_profile_load_string("inline.ini", two, strlen(two), &prof, &chk,
					   err, sizeof(err)));
	assert_int_equal(prof.nb_devices, 0);
	assert_int_equal(prof.nb_lcores, 2);
	assert_int_equal(prof.lcores[1].engine, PFDK_ENGINE_EPOLL);
	assert_int_equal(prof.lcores[1].nb_queues, 0);
	/* the shipped example loads for pagerd, and only with the flag */
	memset(err, 0, sizeof(err));
	expect_ok(pfdk_profile_load("config/examples/pagerd.ini", &prof, &chk, err, sizeof(err)));
	assert_int_equal(prof.layout, PFDK_LAYOUT_COLOCATED);
	assert_int_equal(prof.nb_lcores, 2);
	assert_int_equal(load("config/examples/pagerd.ini", 2), -EINVAL);
	/* written back, it loads the same under the same check */
	expect_ok(pfdk_profile_load("config/examples/pagerd.ini", &prof, &chk, err, sizeof(err)));
	assert_true(pfdk_profile_format(&prof, text, sizeof(text)) > 0);
	expect_ok(pfdk_profile_load_string("written.ini", text, strlen(text), &prof2, &chk,
					   err, sizeof(err)));
	assert_int_equal(prof2.nb_lcores, 2);
	assert_int_equal(prof2.lcores[1].cpu, 1);
	assert_int_equal(prof2.lcores[1].engine, PFDK_ENGINE_EPOLL);
	for (i = 0; i < RTE_DIM(bad); i++) {
		memset(err, 0, sizeof(err));
		assert_int_equal(pfdk_profile_load_string("inline.ini", bad[i][0],
							  strlen(bad[i][0]), &prof, &chk,
							  err, sizeof(err)), -EINVAL);
		assert_err(bad[i][1], bad[i][2]);
	}
}

/* Ranges let one poller own 64 queues within a 256-character value. */
static void
test_queue_ranges(void **state)
{
	static char text[8192];
	size_t len = 0;
	unsigned int i;

	(void)state;
	for (i = 0; i < 62; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"[device.sim%u]\nqueues = %u\n", i, i == 61 ? 3 : 1);
	snprintf(text + len, sizeof(text) - len,
		 "[lcore.1]\nrole = poller\ncpu = 1\nqueues = sim[0-60]:0, sim61:*\n");
	expect_ok(load_str(text, 4));
	assert_int_equal(prof.lcores[0].nb_queues, 61 + 3);
	assert_int_equal(prof.lcores[0].queues[60].dev, 60);
	assert_int_equal(prof.lcores[0].queues[63].dev, 61);
	assert_int_equal(prof.lcores[0].queues[63].queue, 2);
	/* A range of queues on one device, the rest with another poller. */
	snprintf(text + len, sizeof(text) - len,
		 "[lcore.1]\nrole = poller\ncpu = 1\nqueues = sim[0-60]:0, sim61:0-1\n"
		 "[lcore.2]\nrole = poller\ncpu = 2\nengine = epoll\nqueues = sim61:2-2\n");
	expect_ok(load_str(text, 4));
	assert_int_equal(prof.lcores[1].nb_queues, 1);
	assert_int_equal(prof.lcores[1].queues[0].queue, 2);
	/* One more queue than a poller can own. */
	snprintf(text + len, sizeof(text) - len,
		 "[lcore.1]\nrole = poller\ncpu = 1\nqueues = sim[0-61]:0, sim61:1-2, sim0:0\n");
	assert_int_equal(load_str(text, 4), -EINVAL);
	assert_err("inline.ini:", "more than 64 queues");
}

/*
 * The engine registry: the profile's engine = names are the registry's,
 * each name finds its own index, and the shipped constants keep theirs.
 */
static void
test_engine_registry(void **state)
{
	static const char *const shipped[] = {
		[PFDK_ENGINE_BUSY] = "busy",
		[PFDK_ENGINE_EPOLL] = "epoll",
		[PFDK_ENGINE_URING] = "uring",
		[PFDK_ENGINE_URING_NOSQPOLL] = "uring-nosqpoll",
		[PFDK_ENGINE_INTHREAD] = "inthread",
	};
	char text[256];
	unsigned int i;

	(void)state;
	assert_true(pfdk_engine_count() >= 5);
	for (i = 0; i < 5; i++) {
		assert_string_equal(pfdk_engine_name((enum pfdk_engine)i), shipped[i]);
		assert_int_equal(pfdk_engine_by_name(shipped[i]), (int)i);
	}
	for (i = 0; i < pfdk_engine_count(); i++)
		assert_int_equal(pfdk_engine_by_name(pfdk_engine_name((enum pfdk_engine)i)),
				 (int)i);
	assert_int_equal(pfdk_engine_by_name("spin"), -1);
	assert_int_equal(pfdk_engine_by_name(NULL), -1);
	assert_string_equal(pfdk_engine_name((enum pfdk_engine)pfdk_engine_count()),
			    "unknown");
	assert_true(pfdk_engine_sleeps(PFDK_ENGINE_EPOLL));
	assert_false(pfdk_engine_sleeps(PFDK_ENGINE_BUSY));
	assert_false(pfdk_engine_sleeps((enum pfdk_engine)pfdk_engine_count()));
	assert_true(pfdk_engine_sqpoll(PFDK_ENGINE_URING));
	assert_false(pfdk_engine_sqpoll(PFDK_ENGINE_URING_NOSQPOLL));
	/* Every registered engine that needs no extra key loads by name. */
	for (i = 0; i < pfdk_engine_count(); i++) {
		enum pfdk_engine e = (enum pfdk_engine)i;

		if (pfdk_engine_sqpoll(e) || e == PFDK_ENGINE_INTHREAD)
			continue;
		snprintf(text, sizeof(text),
			 "[device.sim0]\n[lcore.1]\nrole = poller\ncpu = 1\n"
			 "engine = %s\nqueues = sim0:0\n", pfdk_engine_name(e));
		expect_ok(load_str(text, 4));
		assert_int_equal(prof.lcores[0].engine, e);
	}
	/* The list in the error is the registry's. */
	assert_int_equal(load_str("[device.sim0]\n[lcore.1]\nrole = poller\ncpu = 1\n"
				  "engine = spin\nqueues = sim0:0\n", 4), -EINVAL);
	assert_err("inline.ini:", "'spin' is not one of: busy, epoll, uring, uring-nosqpoll, inthread");
}

/* Writer and builder. */

/* Equal as profiles: every field but path and the line members. */
static void
assert_same(const struct pfdk_profile *a, const struct pfdk_profile *b,
	    const char *what)
{
	unsigned int i, j;

	if (strcmp(a->name, b->name) != 0 || a->layout != b->layout ||
	    a->burst != b->burst || a->main_cpu != b->main_cpu ||
	    a->nb_devices != b->nb_devices || a->nb_nodes != b->nb_nodes ||
	    a->nb_lcores != b->nb_lcores)
		fail_msg("%s: [pfdk] or counts differ", what);
	for (i = 0; i < a->nb_devices; i++)
		if (strcmp(a->devices[i].name, b->devices[i].name) != 0 ||
		    strcmp(a->devices[i].devargs, b->devices[i].devargs) != 0 ||
		    a->devices[i].nb_queues != b->devices[i].nb_queues)
			fail_msg("%s: device %u differs", what, i);
	for (i = 0; i < a->nb_nodes; i++)
		if (a->nodes[i].node != b->nodes[i].node ||
		    a->nodes[i].pool_size != b->nodes[i].pool_size ||
		    a->nodes[i].pool_cache != b->nodes[i].pool_cache ||
		    a->nodes[i].ring_size != b->nodes[i].ring_size)
			fail_msg("%s: node %u differs", what, i);
	for (i = 0; i < a->nb_lcores; i++) {
		const struct pfdk_profile_lcore *x = &a->lcores[i], *y = &b->lcores[i];

		if (x->lcore_id != y->lcore_id || x->cpu != y->cpu ||
		    x->node != y->node || x->role != y->role ||
		    x->engine != y->engine || x->sqpoll_cpu != y->sqpoll_cpu ||
		    x->nb_queues != y->nb_queues)
			fail_msg("%s: lcore %u differs", what, x->lcore_id);
		for (j = 0; j < x->nb_queues; j++)
			if (x->queues[j].dev != y->queues[j].dev ||
			    x->queues[j].queue != y->queues[j].queue)
				fail_msg("%s: lcore %u queue %u differs", what,
					 x->lcore_id, j);
	}
}

/* Write @p path's profile, load the text back: the same profile. */
static unsigned int
roundtrip(const char *path)
{
	struct pfdk_profile_check check = { .ncpus = 64, .nnodes = nnodes };
	static char text[1 << 16];
	char *mem = NULL;
	size_t memlen = 0;
	FILE *f;
	int n;

	if (pfdk_profile_load(path, &prof, &check, err, sizeof(err)) != 0)
		return 0; /* a fixture that is meant to fail */
	n = pfdk_profile_format(&prof, text, sizeof(text));
	if (n <= 0)
		fail_msg("%s: pfdk_profile_format() = %d", path, n);
	assert_int_equal(strlen(text), (size_t)n);
	/* too small a buffer is -ENOSPC, never a cut text */
	assert_int_equal(pfdk_profile_format(&prof, text, (size_t)n), -ENOSPC);
	n = pfdk_profile_format(&prof, text, sizeof(text));
	if (pfdk_profile_load_string("written.ini", text, (size_t)n, &prof2,
				     &check, err, sizeof(err)) != 0)
		fail_msg("%s: written text does not load: %s\n%s", path, err,
			 text);
	assert_same(&prof, &prof2, path);
	/* the stream writer writes the same text */
	f = open_memstream(&mem, &memlen);
	assert_non_null(f);
	assert_int_equal(pfdk_profile_write(&prof, f), n);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(memlen, (size_t)n);
	assert_memory_equal(mem, text, (size_t)n);
	free(mem);
	return 1;
}

static void
test_write_roundtrip(void **state)
{
	static const char *const dirs[] = { "config", "config/examples",
		"tests/unit/profiles" };
	unsigned int i, loaded = 0, files = 0;
	char path[512];
	struct dirent *de;
	DIR *d;

	(void)state;
	for (i = 0; i < RTE_DIM(dirs); i++) {
		d = opendir(dirs[i]);
		assert_non_null(d);
		while ((de = readdir(d)) != NULL) {
			size_t l = strlen(de->d_name);

			if (l < 5 || strcmp(de->d_name + l - 4, ".ini") != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[i], de->d_name);
			files++;
			loaded += roundtrip(path);
		}
		closedir(d);
	}
	/* default, the 3 examples, good_minimal at least */
	if (loaded < 5)
		fail_msg("only %u of %u profiles loaded", loaded, files);
}

/* A profile filled in C gets the loader's checks and errors. */
static void
test_validate(void **state)
{
	struct pfdk_profile_check check = { .ncpus = 4, .nnodes = nnodes };
	struct pfdk_profile_lcore *lc;
	static char text[8192];

	(void)state;
	memset(&prof, 0, sizeof(prof));
	strlcpy(prof.name, "built", sizeof(prof.name));
	prof.layout = PFDK_LAYOUT_RTC;
	prof.burst = 16;
	prof.nb_devices = 1;
	strlcpy(prof.devices[0].name, "sim0", sizeof(prof.devices[0].name));
	prof.devices[0].nb_queues = 2;
	prof.nb_lcores = 1;
	lc = &prof.lcores[0];
	lc->lcore_id = 1;
	lc->cpu = 1;
	lc->role = PFDK_ROLE_POLLER;
	lc->engine = PFDK_ENGINE_EPOLL;
	lc->sqpoll_cpu = -1;
	lc->nb_queues = 1;
	lc->queues[0] = (struct pfdk_profile_queue){ 0, 0 };
	prof2 = prof;

	/* queue 1 of sim0 owned by no poller: the loader's words */
	assert_int_equal(pfdk_profile_validate(&prof, &check, err, sizeof(err)),
			 -EINVAL);
	assert_err("(built profile):", "[device.sim0]");
	assert_non_null(strstr(err, "queue 1"));
	/* unchanged on failure */
	assert_int_equal(prof.nb_nodes, 0);

	lc->nb_queues = 2;
	lc->queues[1] = (struct pfdk_profile_queue){ 0, 1 };
	strlcpy(prof.path, "tune", sizeof(prof.path));
	lc->sqpoll_cpu = 2;
	assert_int_equal(pfdk_profile_validate(&prof, &check, err, sizeof(err)),
			 -EINVAL);
	assert_err("tune:", "[lcore.1] sqpoll_cpu");

	lc->sqpoll_cpu = -1;
	strlcpy(prof.devices[0].devargs, "sim0,bogus=1",
		sizeof(prof.devices[0].devargs));
	assert_int_equal(pfdk_profile_validate(&prof, &check, err, sizeof(err)),
			 -EINVAL);
	assert_err("tune:", "[device.sim0] devargs");

	/* what INI cannot carry is refused, not cut */
	strlcpy(prof.devices[0].devargs, "sim0;x", sizeof(prof.devices[0].devargs));
	assert_int_equal(pfdk_profile_validate(&prof, &check, err, sizeof(err)),
			 -EINVAL);
	strlcpy(prof.devices[0].devargs, "sim0,rate=0",
		sizeof(prof.devices[0].devargs));
	lc->queues[1].dev = 3;
	assert_int_equal(pfdk_profile_validate(&prof, &check, err, sizeof(err)),
			 -EINVAL);
	lc->queues[1].dev = 0;

	expect_ok(pfdk_profile_validate(&prof, &check, err, sizeof(err)));
	/* the validated profile: node 0 with the defaults, lines filled */
	assert_int_equal(prof.nb_nodes, 1);
	assert_int_equal(prof.nodes[0].pool_size, 8191);
	assert_int_equal(prof.burst, 16);
	assert_string_equal(prof.path, "tune");
	assert_true(prof.lcores[0].line > 0);
	assert_int_equal(prof.lcores[0].nb_queues, 2);
	assert_string_equal(prof.devices[0].devargs, "sim0,rate=0");

	/* 40 devices on one poller: written as sim[0-39]:0, within 256 chars */
	prof.nb_devices = 40;
	lc->nb_queues = 40;
	for (unsigned int i = 0; i < 40; i++) {
		snprintf(prof.devices[i].name, sizeof(prof.devices[i].name),
			 "sim%u", i);
		prof.devices[i].devargs[0] = '\0';
		prof.devices[i].nb_queues = 1;
		lc->queues[i] = (struct pfdk_profile_queue){ (uint16_t)i, 0 };
	}
	expect_ok(pfdk_profile_validate(&prof, &check, err, sizeof(err)));
	assert_int_equal(prof.lcores[0].nb_queues, 40);
	assert_int_equal(prof.lcores[0].queues[39].dev, 39);
	assert_true(pfdk_profile_format(&prof, text, sizeof(text)) > 0);
	assert_non_null(strstr(text, "queues = sim[0-39]:0\n"));
}

int
main(void)
{
	struct CMUnitTest tests[5 + NB_BAD + NB_INL + 11];
	const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_default_string),
		cmocka_unit_test(test_one_node),
		cmocka_unit_test(test_two_node),
		cmocka_unit_test(test_minimal),
	};
	static char names[NB_BAD + NB_INL][64];
	size_t n = 0, i;

	for (i = 0; i < 5; i++)
		tests[n++] = fixed[i];
	for (i = 0; i < NB_BAD; i++) {
		snprintf(names[i], sizeof(names[i]), "bad/%s", bad[i].file);
		tests[n++] = (struct CMUnitTest){ names[i], test_bad, NULL, NULL,
						  (void *)&bad[i] };
	}
	for (i = 0; i < NB_INL; i++) {
		snprintf(names[NB_BAD + i], 64, "inline/%zu", i);
		tests[n++] = (struct CMUnitTest){ names[NB_BAD + i],
						  test_inline, NULL, NULL,
						  (void *)&inl[i] };
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_missing_file);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_limits);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_misc);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_queue_ranges);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_nodes);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_pool_limit);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_no_driver_checks);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_runtime_devices);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_engine_registry);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_write_roundtrip);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_validate);
	return _cmocka_run_group_tests("profile", tests, n, NULL, NULL);
}
