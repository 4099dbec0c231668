/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PAGERD_H
#define PAGERD_H

/**
 * @file
 * What pfdk-pagerd's modes share: a client's userfaultfd adopted as a PFDK
 * uffd device with one queue, served by one loop (recv ->
 * pfdk_uffd_resolve_burst -> respond), the listening socket and the peer
 * checks.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <rte_mempool.h>

#include "pfdk_engine.h"
#include "pfdk_fault.h"

#define PAGERD_BURST 32
#define PAGERD_MAX_UIDS 16
#define PAGERD_PUSH_BYTES (2u << 20) /* one background fill */
#define PAGERD_SMALL_PAGE 4096u
#define PAGERD_MAX_LCORES 16 /* poller lcores of a --profile */

/* One line per call, whole: with --profile several lcores log at once. */
#define LOG(...) do { \
	flockfile(stderr); \
	fprintf(stderr, "pfdk-pagerd: " __VA_ARGS__); \
	fputc('\n', stderr); \
	funlockfile(stderr); \
} while (0)

/** One served device queue and the faults it holds between passes. */
struct pagerd_q {
	uint16_t dev;
	bool up;                                 /**< created: close it */
	/** Optional: told each fault as it is received (working-set record). */
	void (*note)(void *arg, const struct pfdk_fault *f);
	void *note_arg;
	struct pfdk_fault *un[PAGERD_BURST];     /**< received, not resolved yet */
	uint16_t nun;
	struct pfdk_fault *resp[2 * PAGERD_BURST]; /**< resolved, not responded yet */
	uint16_t nresp;
	uint64_t quiet_since;                    /**< ms (pagerd_now_ms): last fault received */
	uint64_t hot_until;                      /**< us (pagerd_now_us): poll, do not sleep, until */
};

/**
 * Background push (push.c): where a sweep of one device's regions is. Zero
 * it to start; pagerd_push_free() when done.
 */
struct pagerd_push {
	uint64_t addr;      /**< next runtime address to fill */
	uint64_t remaps;    /**< the device's ev_remap when this sweep began */
	uint64_t pushed;    /**< pages filled */
	bool started;       /**< the queue went --push-idle quiet once: push on */
	/**
	 * Optional: the end of a run of pages known to be present from @p addr
	 * on (the application installed them itself, e.g. a replay), or
	 * @p addr when none is known. The sweep steps over such a run without
	 * an ioctl per page (a fill of a present page fails with EEXIST one
	 * page at a time). Only pages that really are present may be named:
	 * a page the sweep skips is never filled.
	 */
	uint64_t (*present_until)(void *arg, uint64_t addr);
	void *present_arg;
	struct pfdk_uffd_region_info *rt;
	unsigned int rtcap;
	void *scratch;      /**< PAGERD_PUSH_BYTES, for stores that build pages */
};

/**
 * Milliseconds a queue must go without a fault before its background push
 * starts (--push-idle; default 1000). While faults come, the process is
 * still showing what it needs, and a push would hide it from the
 * working-set record; criu lazy-pages waits 1 s the same way. Once started,
 * the push goes on in every pass that answered no fault.
 */
extern uint32_t pagerd_push_idle;
/**
 * Microseconds a loop keeps polling its queues after a fault before it
 * sleeps in epoll (--poll-us; default 2000, 0: sleep at once). A process
 * that faults once faults again soon: polling saves the wake-up of the
 * next (in the rig's guest, faulted-page p50 105 -> 70 us, p99 2.0 -> 1.5 ms).
 */
extern uint32_t pagerd_poll_us;
/**
 * Pages filled after a faulting one with the same UFFDIO_COPY
 * (--fault-around; the uffd driver's fault_around=, default 0). A replay
 * installs the same window after each recorded fault.
 */
extern uint32_t pagerd_fault_around;

/** Allowed peer uids (--allow-uid; default the daemon's and root). */
extern uid_t pagerd_uids[PAGERD_MAX_UIDS];
extern int pagerd_nuids;
/** The descriptor pool every queue takes from. */
extern struct rte_mempool *pagerd_pool;

bool pagerd_uid_allowed(uid_t u);
/** Parse --allow-uid's argument into pagerd_uids; -1 (logged) if bad. */
int pagerd_add_uid(const char *arg);
/** fd is a userfaultfd (/proc/self/fd/N -> anon_inode:[userfaultfd]). */
bool pagerd_is_userfaultfd(int fd);
/** Listen on @p path, created 0600 (a stale socket is replaced); -1 logged. */
int pagerd_listen(const char *path);

/**
 * Accept one connection on listening socket @p lsock (nonblocking,
 * close-on-exec) and check its peer: SO_PEERCRED, and the uid must be in
 * pagerd_uids. A refused peer is logged and its connection closed.
 * @param cr filled with the peer's pid, uid and gid on success.
 * @return the connected socket, or -1: nothing to accept, or refused.
 */
int pagerd_accept_peer(int lsock, struct ucred *cr);

/**
 * Adopt userfaultfd @p fd as device "uffd<id>[,<extra>]" with one queue
 * (configured and set up, not started). On success the device owns @p fd;
 * on failure the caller still does. @return 0 or -errno (logged by caller).
 */
int pagerd_q_adopt(struct pagerd_q *q, int fd, unsigned int id, const char *extra);
/** Configure and set up the queue of an existing device (a fork child). */
int pagerd_q_setup(struct pagerd_q *q, uint16_t dev);
/**
 * One pass: respond what is resolved, receive, resolve. A resolve held up
 * by a pending event (EAGAIN) is offered again; a pass without progress
 * lets the driver read the event now. @return faults answered.
 */
unsigned int pagerd_q_pass(struct pagerd_q *q);
/** Faults are held, or parked in the driver: the queue's fd will not say. */
bool pagerd_q_busy(struct pagerd_q *q);
/** Answer what is resolved, close the device (stop answers the rest). */
void pagerd_q_close(struct pagerd_q *q);
/** Parse option @p opt's value @p arg, @p lo..@p hi @p unit, into *@p out; -1 (printed) if bad. */
int pagerd_parse_uint(const char *opt, const char *arg, uint32_t lo, uint32_t hi, const char *unit,
		      uint32_t *out);
/** CLOCK_MONOTONIC in milliseconds. */
uint64_t pagerd_now_ms(void);
/** CLOCK_MONOTONIC in microseconds. */
uint64_t pagerd_now_us(void);
/** Queue @p q had a fault less than --poll-us ago: keep polling it. */
static inline bool
pagerd_q_hot(const struct pagerd_q *q, uint64_t now_us)
{
	return now_us < q->hot_until;
}
/**
 * Milliseconds until queue @p q has gone pagerd_push_idle without a fault:
 * 0 means its push may run now.
 */
uint64_t pagerd_q_quiet_in(const struct pagerd_q *q, uint64_t now);

/**
 * Fill @p len bytes at @p a in the memory of userfaultfd @p fd from @p src
 * (NULL: zero pages) without waking, then wake the range filled once: a
 * fault raised on those pages meanwhile wakes now, one WAKE per range.
 * @return the fill's errno (0: all of it), with *@p done the bytes filled.
 */
int pagerd_fill_wake(int fd, uint64_t a, const void *src, uint64_t len, uint64_t *done);
/**
 * One background step on device @p dev: fill up to PAGERD_PUSH_BYTES of the
 * first region at or after ps->addr from its store, skipping pages already
 * present. The region table is the driver's, so events already read
 * (REMAP, UNMAP, REMOVE) are applied.
 * @return 1 progress, 0 every page is present, -ESRCH the process is gone,
 * -EAGAIN an event is pending (let the driver read it, then step again),
 * other -errno: the push cannot go on (the faults still get served).
 */
int pagerd_push_step(struct pagerd_push *ps, uint16_t dev);
/**
 * The push of queue @p q may step now: it went --push-idle without a fault
 * once (or was started). Else false, with *@p wait_ms lowered to the ms
 * until it may (-1: no wait set yet).
 */
bool pagerd_push_due(struct pagerd_push *ps, const struct pagerd_q *q, uint64_t now_ms,
		     int *wait_ms);
void pagerd_push_free(struct pagerd_push *ps);

/**
 * A working-set trace (ws.c): image page addresses in the order they were
 * first needed, without duplicates once loaded or saved; appended in fault
 * order while recording.
 */
struct pagerd_ws {
	uint64_t *pages;
	uint32_t n, cap;
};

/** Record page @p addr (aligned down to @p page). @return 0, -ENOMEM, -E2BIG. */
int pagerd_ws_note(struct pagerd_ws *ws, uint64_t addr, uint64_t page);
/** Parse a trace held in memory (trusting nothing). @return 0 or -EINVAL/-ENOMEM, @p err set. */
int pagerd_ws_parse(const uint8_t *buf, size_t len, uint64_t page, struct pagerd_ws *ws,
		    char *err, size_t errlen);
/** Load @p path: 0 with an empty set if it does not exist; < 0 (logged) if refused. */
int pagerd_ws_load(const char *path, uint64_t page, struct pagerd_ws *ws);
/** Deduplicate (first place kept) and write @p ws to @p path atomically. @return 0 or -errno. */
int pagerd_ws_save(const char *path, struct pagerd_ws *ws);
void pagerd_ws_free(struct pagerd_ws *ws);

/** A poller lcore of the daemon's --profile, as the EAL got it. */
struct pagerd_lcore {
	unsigned int lcore_id;   /**< EAL lcore id (the profile's, or the one picked) */
	int cpu;                 /**< cpu = */
	enum pfdk_engine engine; /**< busy (never sleeps) or epoll */
};

/** --profile's pollers, in profile order; none without --profile. */
extern struct pagerd_lcore pagerd_lcores[PAGERD_MAX_LCORES];
extern unsigned int pagerd_nlcores;
/**
 * The loop serving the queues runs on a busy poller: it never sleeps
 * (epoll_wait with timeout 0). False without --profile.
 */
extern bool pagerd_spin;

/**
 * --profile @p path (lcores.c): load the daemon's profile (no devices:
 * its clients are; engines busy and epoll; layouts rtc and colocated;
 * anything else refused with the loader's FILE:LINE: [SECTION] KEY),
 * fill pagerd_lcores and write into @p out the EAL arguments @p argv
 * (argv[0] and the user's EAL options) with an lcore pinned to each
 * poller's cpu added to the user's lcore options.
 * @return the number of arguments in @p out, or -1 (printed): exit 2.
 */
int pagerd_profile_eal(const char *path, int argc, char **argv, char **out, int out_len);

/** criu mode: record and replay working sets (default on; --no-working-set). */
extern bool pagerd_criu_ws;

/**
 * The criu mode (criu.c): serve one CRIU lazy restore from the images in
 * @p img_dir, listening on lazy-pages.socket in @p work_dir.
 * @return the exit status: 0 every page delivered (or its task gone), 1 the
 * restore failed or a client was refused.
 */
int pagerd_criu_run(const char *img_dir, const char *work_dir);

#endif /* PAGERD_H */
