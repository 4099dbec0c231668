/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_PROFILE_H
#define PFDK_PROFILE_H

/**
 * @file
 * Deployment profiles.
 *
 * A profile is an INI file (read with rte_cfgfile) that says how one
 * deployment lays PFDK out on its cores: which lcores poll which device
 * queues and with which engine, which lcores resolve, how big the per-node
 * descriptor pools and rings are. The format, one section per object:
 *
 * @code
 * [pfdk]
 * name = default          ; free text, shown by the apps
 * layout = rtc            ; rtc | pipeline | colocated | inthread
 * burst = 32              ; faults per recv/respond burst, 1..512
 * main_cpu = 0            ; CPU of the control (main) lcore
 *
 * [node.0]                ; one per NUMA node that holds a pool and ring
 * pool_size = 8191        ; descriptors in the node's mempool
 * pool_cache = 256        ; per-lcore mempool cache
 * ring_size = 1024        ; slots of the node's MP/MC ring (power of 2)
 *
 * [device.sim0]           ; one per fault device; the suffix is its name
 * devargs = sim0,rate=0   ; as for pfdk_fault_dev_create(); must start with the name
 * queues = 1
 *
 * [lcore.1]               ; one per worker lcore; the suffix is the EAL lcore id
 * role = poller           ; poller | resolver
 * cpu = 1                 ; CPU the lcore is pinned to
 * node = 0                ; NUMA node whose pool/ring it uses (default 0)
 * engine = busy           ; busy | epoll | uring | uring-nosqpoll | inthread
 *                         ; (pollers only)
 * queues = sim0:0         ; device queues the poller owns, comma separated;
 *                         ; DEV:A-B and DEV:* name several queues of DEV,
 *                         ; PREFIX[A-B]:Q the queue Q of devices PREFIXA..B
 * sqpoll_cpu = 0          ; engine=uring only: CPU of the SQPOLL kernel thread
 * @endcode
 *
 * Every error names the file, the line, the section and the key, in the form
 * "FILE:LINE: [SECTION] KEY: what is wrong", so a deployment's mistakes are
 * found without reading the code.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pfdk_engine.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PFDK_PROFILE_NAME_LEN 64      /**< names: profile, device */
#define PFDK_PROFILE_DEVARGS_LEN 256  /**< devargs string (rte_cfgfile value limit) */
#define PFDK_PROFILE_MAX_DEVICES 64   /**< [device.*] sections */
#define PFDK_PROFILE_MAX_LCORES 128   /**< [lcore.*] sections */
#define PFDK_PROFILE_MAX_NODES 8      /**< [node.*] sections */
#define PFDK_PROFILE_MAX_QUEUES 64    /**< queues owned by one poller */
#define PFDK_PROFILE_MAX_BURST 512    /**< largest burst */

/** How the lcores share the work. */
enum pfdk_layout {
	PFDK_LAYOUT_RTC = 0,   /**< run to completion: pollers resolve and respond */
	PFDK_LAYOUT_PIPELINE,  /**< pollers -> per-node ring -> resolvers */
	PFDK_LAYOUT_COLOCATED, /**< run to completion with a blocking engine */
	/**
	 * The faulting threads resolve their own faults (uffd with sigbus=1).
	 * The profile declares no lcores: one is implied, on main_cpu, that
	 * only sleeps and reads the devices' events (REMOVE, UNMAP, REMAP,
	 * FORK block the thread that caused them until read).
	 */
	PFDK_LAYOUT_INTHREAD,
};

/** What an lcore does. */
enum pfdk_role {
	PFDK_ROLE_POLLER = 0, /**< owns device queues: receives and responds */
	PFDK_ROLE_RESOLVER,   /**< drains its node's ring and resolves */
};

/** One device queue owned by a poller. */
struct pfdk_profile_queue {
	uint16_t dev;   /**< index into pfdk_profile::devices */
	uint16_t queue; /**< queue id on that device */
};

/** A [device.NAME] section. */
struct pfdk_profile_device {
	char name[PFDK_PROFILE_NAME_LEN];       /**< section suffix */
	char devargs[PFDK_PROFILE_DEVARGS_LEN]; /**< full devargs string */
	uint16_t nb_queues;                     /**< queues = (default 1) */
	unsigned int line;                      /**< line of the section header */
};

/** A [node.N] section. */
struct pfdk_profile_node {
	int node;            /**< NUMA node id (section suffix) */
	uint32_t pool_size;  /**< pool_size = (default 8191) */
	uint32_t pool_cache; /**< pool_cache = (default 256) */
	uint32_t ring_size;  /**< ring_size = (default 1024, power of 2) */
	unsigned int line;   /**< line of the section header */
};

/** A [lcore.ID] section. */
struct pfdk_profile_lcore {
	unsigned int lcore_id;   /**< EAL lcore id (section suffix), >= 1 */
	int cpu;                 /**< cpu = */
	int node;                /**< node = (default 0) */
	enum pfdk_role role;     /**< role = */
	enum pfdk_engine engine; /**< engine = (default busy; pollers only) */
	int sqpoll_cpu;          /**< sqpoll_cpu = (-1 when not given) */
	uint16_t nb_queues;      /**< entries used in queues[] */
	struct pfdk_profile_queue queues[PFDK_PROFILE_MAX_QUEUES]; /**< queues = */
	unsigned int line;       /**< line of the section header */
	bool implied;            /**< added by layout = inthread; not written back */
};

/** A whole profile, as loaded and validated. */
struct pfdk_profile {
	char path[256];                     /**< file it came from */
	char name[PFDK_PROFILE_NAME_LEN];   /**< [pfdk] name = */
	enum pfdk_layout layout;            /**< [pfdk] layout = */
	uint16_t burst;                     /**< [pfdk] burst = (default 32) */
	int main_cpu;                       /**< [pfdk] main_cpu = (default 0) */
	uint16_t nb_devices;                /**< entries used in devices[] */
	struct pfdk_profile_device devices[PFDK_PROFILE_MAX_DEVICES];
	uint16_t nb_nodes;                  /**< entries used in nodes[] */
	struct pfdk_profile_node nodes[PFDK_PROFILE_MAX_NODES];
	uint16_t nb_lcores;                 /**< entries used in lcores[] */
	struct pfdk_profile_lcore lcores[PFDK_PROFILE_MAX_LCORES];
};

/** Checks that depend on the machine the profile will run on. */
struct pfdk_profile_check {
	/**
	 * Number of CPUs to validate against; 0 means the CPUs online here.
	 * Tests and pfdk-tune pass a number to check a profile for another host.
	 */
	unsigned int ncpus;
	/**
	 * Number of NUMA nodes to validate against (nodes 0..nnodes-1); 0
	 * means the nodes configured here (libnuma; node 0 only without NUMA).
	 */
	unsigned int nnodes;
	/**
	 * Skip the checks that ask the fault drivers about each device's
	 * devargs (driver and keys, queue count, sigbus=1 under
	 * engine = inthread). Only for a caller that rewrites the devargs
	 * after loading, or a test that must reach the pipeline's own refusal.
	 */
	bool no_driver_checks;
	/**
	 * The application creates its fault devices at run time (pfdk-pagerd:
	 * one per client) and hands each to one of the profile's pollers
	 * itself. The profile then has no [device.*] section and its pollers
	 * no queues = key: either is refused, since the application would
	 * ignore it, and "no [device.*] section" is no longer an error.
	 */
	bool runtime_devices;
	/**
	 * Engines the application runs, as bits (1u << enum pfdk_engine); 0
	 * means every engine. A poller with another is refused on its
	 * engine = line.
	 */
	uint32_t engines;
	/**
	 * Layouts the application runs, as bits (1u << enum pfdk_layout); 0
	 * means every layout. Another is refused on the layout = line.
	 */
	uint32_t layouts;
};

/**
 * Load and validate a profile file.
 *
 * Rejects, among others: unknown sections or keys; bad numbers; a layout,
 * engine or role that does not exist; a profile without a [device.*]
 * (nothing would ever fault); devargs the fault drivers refuse (unknown
 * driver, unknown or repeated key, bad value: pfdk_fault_devargs_info());
 * more queues than the device's driver accepts; a poller queue naming an
 * unknown device or a queue id out of range; a device queue owned by no
 * poller or by two; engine = inthread on a device that cannot resolve in the
 * faulting threads (a uffd device without sigbus=1); resolvers outside the
 * pipeline layout; a pipeline node with pollers and no resolver; colocated
 * pollers with a spinning engine; sqpoll_cpu on a non-uring engine, or equal
 * to the poller's own cpu (the SQ thread then competes with its poller:
 * measured 125 faults/s); a cpu beyond ncpus; a NUMA node the host lacks
 * (in [node.N] or node =); a pool_size larger than the rte_ring inside
 * rte_mempool can hold (at most 2^30 - 1); as many spinning threads
 * (busy/uring pollers, resolvers, SQPOLL threads) as CPUs, which would leave
 * no core for the faulting threads; and what @p check says the application
 * does not run (an engine or layout outside its sets, devices or queues
 * under runtime_devices).
 *
 * @param path
 *   INI file to read.
 * @param[out] prof
 *   Filled on success; contents undefined on failure.
 * @param check
 *   Machine checks; NULL means all defaults.
 * @param[out] err
 *   On failure, "FILE:LINE: [SECTION] KEY: reason" (NUL-terminated).
 * @param errlen
 *   Size of @p err.
 * @return
 *   - 0: success.
 *   - -ENOENT: the file cannot be read.
 *   - -EINVAL: syntax or validation error, described in @p err.
 *   - -ENOMEM: out of memory (or of memfds: the text is staged in one).
 */
int pfdk_profile_load(const char *path, struct pfdk_profile *prof,
		      const struct pfdk_profile_check *check,
		      char *err, size_t errlen);

/**
 * Load and validate a profile held in memory (an embedded default, a fuzz
 * input). Same rules and errors as pfdk_profile_load(); @p name stands in for
 * the file name in messages.
 *
 * @return
 *   0, or -EINVAL / -ENOMEM with @p err filled.
 */
int pfdk_profile_load_string(const char *name, const char *text, size_t len,
			     struct pfdk_profile *prof,
			     const struct pfdk_profile_check *check,
			     char *err, size_t errlen);

/**
 * Validate a profile filled in C (the builder): an application sets the
 * fields of @p prof as a file would (devices[], nodes[], lcores[] with
 * their counts; devargs complete, e.g. with sigbus=1 already appended) and
 * gets the loader's own checks, with its errors. The profile is written with
 * pfdk_profile_format() and the text loaded with
 * pfdk_profile_load_string(), so nothing a file could not say passes.
 *
 * Field conventions are the loader's: an empty device devargs means the
 * device's name; sqpoll_cpu = -1 means not given (any value is written for
 * a uring poller); every node named by an lcore without a nodes[] entry
 * gets the defaults. The line members are ignored on input.
 *
 * @param[in,out] prof
 *   The profile; on success replaced by the validated profile (nodes added,
 *   lines of the written text). Unchanged on failure. prof->path, if set,
 *   names the profile in errors; "(built profile)" otherwise.
 * @param check
 *   Machine checks, as for pfdk_profile_load(); NULL means all defaults.
 * @param[out] err
 *   On failure, "NAME:LINE: [SECTION] KEY: reason", as the loader words it.
 * @param errlen
 *   Size of @p err.
 * @return
 *   - 0: valid.
 *   - -EINVAL: invalid, or not expressible as a profile (a name or devargs
 *     holding ';' or a line break, a queue of a device the profile lacks).
 *   - -ENOMEM: out of memory.
 */
int pfdk_profile_validate(struct pfdk_profile *prof,
			  const struct pfdk_profile_check *check,
			  char *err, size_t errlen);

/**
 * Write a profile as the INI text pfdk_profile_load() reads: every section
 * and key explicit (defaults included), a poller's consecutive queues as
 * DEV:A-B. Loading the text gives an equal profile (all but path and the
 * line members).
 *
 * @param prof
 *   The profile, as loaded or as pfdk_profile_validate() left it.
 * @param[out] buf
 *   Where the text goes, NUL-terminated; may be NULL when @p len is 0.
 * @param len
 *   Size of @p buf.
 * @return
 *   Length of the text (excluding NUL); -ENOSPC if @p len is too small;
 *   -EINVAL if the profile cannot be written (see pfdk_profile_validate()).
 */
int pfdk_profile_format(const struct pfdk_profile *prof, char *buf,
			size_t len);

/**
 * Write a profile to a stream; the text is pfdk_profile_format()'s.
 *
 * @return
 *   Bytes written; -EINVAL (see pfdk_profile_format()), -ENOMEM, or -EIO
 *   if the stream refuses the text.
 */
int pfdk_profile_write(const struct pfdk_profile *prof, FILE *f);

/**
 * Write the EAL "--lcores" value that maps every lcore of the profile
 * (main lcore 0 on main_cpu, then each [lcore.ID] on its cpu), e.g.
 * "0@0,1@1,2@1".
 *
 * @return
 *   Length written (excluding NUL), or -ENOSPC if @p len is too small.
 */
int pfdk_profile_eal_lcores(const struct pfdk_profile *prof, char *buf,
			    size_t len);

/**
 * Find a node section by NUMA node id.
 *
 * @return
 *   The node's settings, or NULL if the profile has no [node.N] for it.
 */
const struct pfdk_profile_node *
pfdk_profile_node(const struct pfdk_profile *prof, int node);

/**
 * Names of enum values, for messages and for writing profiles back
 * (engines: pfdk_engine_name(), from the engine registry).
 */
const char *pfdk_layout_name(enum pfdk_layout l);
/** @copydoc pfdk_layout_name */
const char *pfdk_role_name(enum pfdk_role r);

#ifdef __cplusplus
}
#endif

#endif /* PFDK_PROFILE_H */
