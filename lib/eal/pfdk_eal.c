/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "pfdk_eal.h"

#define RTE_LOG_DEFAULT_LOGTYPE pfdk
RTE_LOG_REGISTER_SUFFIX(pfdk_eal_logtype, eal, INFO);

#define HP_FREE "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
#define NO_HUGE_MEM_MB "512"

static bool with_hugepages;

unsigned long
pfdk_free_hugepages(void)
{
	unsigned long n = 0;
	FILE *f = fopen(HP_FREE, "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%lu", &n) != 1)
		n = 0;
	fclose(f);
	return n;
}

bool
pfdk_has_hugepages(void)
{
	return with_hugepages;
}

/* Options by which the caller has already chosen how memory works. */
static bool
memory_chosen(int argc, char **argv)
{
	static const char *const opts[] = {
		"--no-huge", "--in-memory", "-m", "--socket-mem", "--huge-dir",
		"--legacy-mem", "--single-file-segments",
	};
	int i;
	size_t k;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		for (k = 0; k < RTE_DIM(opts); k++) {
			size_t len = strlen(opts[k]);

			if (strncmp(argv[i], opts[k], len) == 0 &&
			    (argv[i][len] == '\0' || argv[i][len] == '=' ||
			     (len == 2 && argv[i][len] != '-')))
				return true;
		}
	}
	return false;
}

int
pfdk_eal_args(int argc, char **argv, unsigned long free_hugepages,
	      char **out, int out_len, bool *hugepages, FILE *warn)
{
	int n = 0, i;
	bool huge = true;

	if (argc < 1 || out_len < argc + PFDK_EAL_EXTRA_ARGS + 1)
		return -EINVAL;
	out[n++] = argv[0];
	if (!memory_chosen(argc, argv)) {
		if (free_hugepages > 0) {
			out[n++] = (char *)(uintptr_t)"--in-memory";
		} else {
			if (warn != NULL)
				fprintf(warn, "pfdk: no free 2 MiB hugepages: running with --no-huge "
					"(descriptor pools in ordinary memory); reserve some with "
					"'dpdk-hugepages.py -r 256M' or "
					"'echo 128 > /proc/sys/vm/nr_hugepages'\n");
			out[n++] = (char *)(uintptr_t)"--no-huge";
			out[n++] = (char *)(uintptr_t)"-m";
			out[n++] = (char *)(uintptr_t)NO_HUGE_MEM_MB;
			out[n++] = (char *)(uintptr_t)"--no-shconf";
			huge = false;
		}
	} else {
		for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
			if (strcmp(argv[i], "--no-huge") == 0)
				huge = false;
	}
	for (i = 1; i < argc; i++)
		out[n++] = argv[i];
	out[n] = NULL;
	if (hugepages != NULL)
		*hugepages = huge;
	return n;
}

int
pfdk_init(int argc, char **argv)
{
	char *args[argc + PFDK_EAL_EXTRA_ARGS + 1];
	int n, ret;

	n = pfdk_eal_args(argc, argv, pfdk_free_hugepages(), args,
			  (int)RTE_DIM(args), &with_hugepages, stderr);
	if (n < 0) {
		rte_errno = EINVAL;
		return -1;
	}
	ret = rte_eal_init(n, args);
	if (ret < 0)
		return ret;
	/* Report only the caller's arguments as consumed. */
	return ret - (n - argc);
}

int
pfdk_cleanup(void)
{
	return rte_eal_cleanup();
}
