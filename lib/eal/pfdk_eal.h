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

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
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

/** Lcore ids the EAL can have (its RTE_MAX_LCORE). */
#define PFDK_EAL_MAX_LCORES 128

/** One EAL lcore: its id and the CPUs its thread may run on. */
struct pfdk_eal_lcore {
	unsigned int id;   /**< EAL lcore id */
	cpu_set_t cpus;    /**< CPUs of its thread */
	bool added;        /**< added by pfdk_eal_lcore_pick(), not the caller's */
};

/**
 * The lcores of an EAL command line, to be extended with the pinned
 * lcores an application needs. An application whose work is laid out by
 * CPU (a profile's [lcore.ID] cpu =) keeps whatever lcore options the
 * user typed (-l 0-1, -c 0x3, --lcores 0@0,1@1, --main-lcore N) this way:
 *
 * @code
 * pfdk_eal_lcores_parse(argc, argv, main_cpu, &m, err, sizeof(err));
 * for each worker the application needs, on cpu C, with id L:
 *         id = pfdk_eal_lcore_pick(&m, C, L, taken, err, sizeof(err));
 * pfdk_eal_lcores_format(&m, false, lcores, sizeof(lcores));
 * pfdk_eal_args_lcores(argc, argv, lcores, main_str, out, out_len);
 * pfdk_init(n, out);
 * @endcode
 */
struct pfdk_eal_lcores {
	bool given;               /**< the caller named lcores (-l, -c, --lcores) */
	bool main_given;          /**< the caller gave --main-lcore */
	unsigned int main_lcore;  /**< the EAL's main lcore */
	cpu_set_t allowed;        /**< CPUs of the caller's lcores; all when !given */
	char spec[160];           /**< the caller's option, for messages ("-l 0-1") */
	unsigned int nb;          /**< entries used in lc[] */
	struct pfdk_eal_lcore lc[PFDK_EAL_MAX_LCORES]; /**< the lcores */
};

/**
 * Read the lcore options of an EAL command line (up to "--"): -l LIST,
 * -c MASK, --lcores MAP (numbers, ranges and groups on both sides of "@",
 * as the EAL reads them) and --main-lcore N (--master-lcore, its old name).
 * Without any: one lcore, 0, on @p main_cpu, and every CPU allowed.
 *
 * @param main_cpu
 *   CPU of the main lcore when the caller names no lcores.
 * @param[out] m
 *   The lcores; the main lcore is --main-lcore's or the lowest id.
 * @param[out] err
 *   Reason on failure.
 * @return
 *   0, or -EINVAL (two lcore options, an option without or with an
 *   unreadable value, a --main-lcore that is not one of the lcores).
 */
int pfdk_eal_lcores_parse(int argc, char **argv, int main_cpu,
			  struct pfdk_eal_lcores *m, char *err, size_t errlen);

/**
 * A worker lcore pinned to @p cpu alone for one user (a row, a pipeline):
 * @p want if it is such an lcore and free, else another such lcore that
 * @p taken does not hold, else a new lcore (@p want's id if unused,
 * otherwise the lowest unused id) added to @p m. The main lcore is never
 * picked.
 *
 * @param taken
 *   Bitmap of PFDK_EAL_MAX_LCORES bits: the ids this user already has.
 * @return
 *   The lcore id; -ENOENT when @p cpu is not among the CPUs the caller's
 *   lcore option gave (nothing is added; @p err says so); -ENOSPC when
 *   no lcore id is left.
 */
int pfdk_eal_lcore_pick(struct pfdk_eal_lcores *m, int cpu, unsigned int want,
			const uint64_t *taken, char *err, size_t errlen);

/**
 * Write @p m as an EAL "--lcores" value ("0@0,1@1,2@(0-1)"), ordered by
 * id (which sorts m->lc). @p only_added: only the lcores pick() added.
 * @return
 *   Length written, or -ENOSPC.
 */
int pfdk_eal_lcores_format(struct pfdk_eal_lcores *m, bool only_added,
			   char *buf, size_t len);

/**
 * @p argv with its lcore options (-l, -c, --lcores, --main-lcore,
 * --master-lcore; before "--") replaced by "--lcores @p lcores
 * --main-lcore @p main_lcore", placed before any "--".
 *
 * @param out_len
 *   Entries in @p out: at least argc + 4 + 1.
 * @return
 *   Number of arguments in @p out (NULL after them), or -EINVAL.
 */
int pfdk_eal_args_lcores(int argc, char **argv, const char *lcores,
			 const char *main_lcore, char **out, int out_len);

/**
 * Does the command line (up to "--") ask for PCI devices (-a/--allow,
 * -b/--block and their old names)? An application that does not need the
 * PCI bus adds --no-pci only when this is false.
 */
bool pfdk_eal_args_want_pci(int argc, char **argv);

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
