/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_EAL_H
#define PFDK_EAL_H

/**
 * @file
 * Starting and stopping the environment PFDK runs in (DPDK's EAL).
 *
 * pfdk_init() is rte_eal_init() with memory chosen for the caller when the
 * command line does not choose: with free 2 MiB hugepages it adds
 * "--in-memory" (hugepage-backed pools with no hugetlbfs mount and no
 * shared runtime files); without, it adds "--no-huge -m 512 --no-shconf"
 * and prints one warning line saying how to reserve hugepages.
 */

#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Initialise the EAL.
 *
 * @param argc, argv
 *   EAL arguments, as for rte_eal_init() (argv[0] is the program name).
 * @return
 *   As rte_eal_init(): the number of arguments consumed, or -1 with
 *   rte_errno set. A second call fails with rte_errno EALREADY.
 */
int pfdk_init(int argc, char **argv);

/** Most arguments pfdk_eal_args() adds. */
#define PFDK_EAL_EXTRA_ARGS 4

/**
 * The arguments pfdk_init() passes to rte_eal_init(): @p argv with memory
 * options added when the caller gave none (see the file comment). Exposed
 * so applications that start the EAL themselves, and tests, make the same
 * choice.
 *
 * @param free_hugepages
 *   Free 2 MiB hugepages to assume (pfdk_free_hugepages() for this host).
 * @param[out] out
 *   Receives the arguments and a NULL; pointers into @p argv or literals.
 * @param out_len
 *   Entries in @p out: at least argc + PFDK_EAL_EXTRA_ARGS + 1.
 * @param[out] hugepages
 *   Whether the EAL will use hugepages (may be NULL).
 * @param warn
 *   Where the one-line no-hugepages warning goes (NULL: nowhere).
 * @return
 *   Number of arguments in @p out, or -EINVAL.
 */
int pfdk_eal_args(int argc, char **argv, unsigned long free_hugepages,
		  char **out, int out_len, bool *hugepages, FILE *warn);

/** Did pfdk_init() run with hugepage memory? */
bool pfdk_has_hugepages(void);

/** Free 2 MiB hugepages the system has now (sysfs), 0 if unknown. */
unsigned long pfdk_free_hugepages(void);

/**
 * Release the EAL (rte_eal_cleanup()). Devices and pools must be closed
 * first. @return 0, or a negative errno.
 */
int pfdk_cleanup(void);

#ifdef __cplusplus
}
#endif

#endif /* PFDK_EAL_H */
