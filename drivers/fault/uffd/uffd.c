/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The userfaultfd driver: device life cycle, receive, respond and events.
 * See pfdk_uffd.h for the model; uffd_region.c holds the region table and
 * the resolve callback.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_mempool.h>

#include "pfdk_counter.h"
#include "uffd_priv.h"

#define RTE_LOG_DEFAULT_LOGTYPE pfdk.fault
RTE_LOG_REGISTER_SUFFIX(pfdk_uffd_logtype, uffd, INFO);

#define FD_NONE UINT64_MAX

/* Most backlog messages (32 B each): far beyond any thread count. */
#define UFFD_BACKLOG_MAX (1u << 22)
/* Full reads one read-ahead may chain before it lets the caller go on. */
#define UFFD_READ_AHEAD_ROUNDS 8
/* Stop: rounds without progress (an event's thread not yet run) waited for. */
#define UFFD_STOP_ROUNDS 2000

struct uffd_conf {
	uint64_t fd; /* FD_NONE: create one */
	uint64_t sigbus; /* 1: UFFD_FEATURE_SIGBUS, no events (uffd_inthread.c) */
	uint64_t fault_around; /* pages filled after a faulting one */
	uint64_t unknown_zero; /* 1: a page in no region gets UFFDIO_ZEROPAGE */
	uint64_t reg;          /* 0: the client registers its ranges (adopted fd only) */
};

/* What we use when the kernel offers it; never more (pfdk_uffd.h). */
#define UFFD_WANTED (UFFD_FEATURE_THREAD_ID | UFFD_FEATURE_MISSING_HUGETLBFS | \
	UFFD_FEATURE_MISSING_SHMEM | UFFD_FEATURE_MINOR_HUGETLBFS | \
	UFFD_FEATURE_MINOR_SHMEM | UFFD_FEATURE_PAGEFAULT_FLAG_WP | \
	UFFD_FEATURE_WP_HUGETLBFS_SHMEM | UFFD_FEATURE_EVENT_FORK | \
	UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE | \
	UFFD_FEATURE_EVENT_UNMAP | UFFD_FEATURE_POISON | UFFD_FEATURE_MOVE)

struct uffd_dev *
uffd_dev_of(uint16_t dev_id)
{
	struct pfdk_fault_dev *dev = pfdk_fault_dev_get(dev_id);

	if (dev == NULL || dev->driver != &uffd_driver)
		return NULL;
	return dev->dev_private;
}

static const char *
uffd_open_hint(int e)
{
	if (e == EMFILE)
		return "the process has reached its file descriptor limit (RLIMIT_NOFILE, ulimit -n): close descriptors or raise the limit";
	if (e == ENFILE)
		return "the system has reached its file limit (fs.file-max)";
	return "unprivileged processes need vm.unprivileged_userfaultfd=1, access to /dev/userfaultfd, or a kernel with UFFD_USER_MODE_ONLY (5.11+)";
}

/*
 * A new userfaultfd: the syscall, /dev/userfaultfd, then user-mode only
 * (always allowed, whatever vm.unprivileged_userfaultfd says). Out of
 * descriptors is no question of privilege: it is said as such.
 */
static int
uffd_open(int *user_only)
{
	int fl = O_NONBLOCK | O_CLOEXEC, fd, dfd;
	int e_sys, e_dev, e_umo, e_limit = 0;

	*user_only = 0;
	fd = (int)syscall(SYS_userfaultfd, fl);
	if (fd >= 0)
		return fd;
	e_sys = errno;
	dfd = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dfd >= 0) {
		fd = ioctl(dfd, USERFAULTFD_IOC_NEW, fl);
		e_dev = errno;
		close(dfd);
		if (fd >= 0)
			return fd;
	} else {
		e_dev = errno;
	}
	fd = (int)syscall(SYS_userfaultfd, fl | UFFD_USER_MODE_ONLY);
	if (fd >= 0) {
		*user_only = 1;
		return fd;
	}
	e_umo = errno;
	if (e_sys == EMFILE || e_sys == ENFILE)
		e_limit = e_sys;
	else if (e_dev == EMFILE || e_dev == ENFILE)
		e_limit = e_dev;
	else if (e_umo == EMFILE || e_umo == ENFILE)
		e_limit = e_umo;
	PFDK_FAULT_LOG(ERR, "uffd: cannot create a userfaultfd (userfaultfd(2): %s; /dev/userfaultfd: %s; UFFD_USER_MODE_ONLY: %s): %s",
		       strerror(e_sys), strerror(e_dev), strerror(e_umo),
		       uffd_open_hint(e_limit ? e_limit : e_sys));
	return -(e_limit ? e_limit : e_sys);
}

/*
 * Features this kernel offers: asked on a scratch uffd (API is once per
 * fd). Asking for none is never refused, so this is the kernel's list even
 * for an unprivileged caller, EVENT_FORK included (which it may then not
 * get: uffd_handshake()).
 */
static uint64_t
kernel_features(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	int user_only, fd = uffd_open(&user_only);
	uint64_t f = 0;

	if (fd < 0)
		return 0;
	if (ioctl(fd, UFFDIO_API, &api) == 0)
		f = api.features;
	else
		PFDK_FAULT_LOG(WARNING, "uffd: UFFDIO_API on a scratch userfaultfd (no features asked): %s",
			       strerror(errno));
	close(fd);
	return f;
}

/*
 * SIGBUS mode: no fault messages, and no events either: nobody reads the
 * uffd, and an unread UNMAP/REMAP/REMOVE/FORK event would block the thread
 * that caused it (and make every fill return EAGAIN) for good.
 */
#define UFFD_EVENTS (UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP | \
	UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP)

/*
 * What every device of a process would say alike (no privileges) is said
 * once at NOTICE, then at DEBUG: 64 tenants, one line.
 */
#define PFDK_FAULT_LOG_ONCE(level, ...) do { \
	static bool said_; \
	if (!__atomic_exchange_n(&said_, true, __ATOMIC_RELAXED)) \
		PFDK_FAULT_LOG(level, __VA_ARGS__); \
	else \
		PFDK_FAULT_LOG(DEBUG, __VA_ARGS__); \
} while (0)

/* "EVENT_FORK|EVENT_REMAP" for the log. */
static const char *
uffd_feature_names(uint64_t f, char *buf, size_t len)
{
	static const struct { uint64_t bit; const char *name; } names[] = {
		{ UFFD_FEATURE_EVENT_FORK, "EVENT_FORK" },
		{ UFFD_FEATURE_EVENT_REMAP, "EVENT_REMAP" },
		{ UFFD_FEATURE_EVENT_REMOVE, "EVENT_REMOVE" },
		{ UFFD_FEATURE_EVENT_UNMAP, "EVENT_UNMAP" },
	};
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < RTE_DIM(names) && n < len; i++)
		if (f & names[i].bit)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
					      n ? "|" : "", names[i].name);
	return buf;
}

/*
 * UFFDIO_API. The kernel refuses EVENT_FORK with EPERM to a caller
 * without CAP_SYS_PTRACE (an unprivileged user, or root in a container
 * that dropped it) before it touches the fd, so the same fd can be asked
 * again without it: such a device works, it just never sees fork children.
 * On failure the kernel zeroes the struct it hands back: the log says what
 * was asked, not what came back.
 */
/* One UFFDIO_API: 0 with what the kernel answered in *got, or -errno. */
static int
uffd_api(int fd, uint64_t features, uint64_t *got)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };

	if (ioctl(fd, UFFDIO_API, &api) < 0)
		return -errno;
	*got = api.features;
	return 0;
}

static int
uffd_handshake(struct uffd_dev *ud, bool adopted, bool sigbus)
{
	uint64_t offered = kernel_features();
	uint64_t want = sigbus ? (UFFD_WANTED & ~UFFD_EVENTS) | UFFD_FEATURE_SIGBUS :
		UFFD_WANTED;
	uint64_t asked = offered & want, got = 0, missing;
	char names[64];
	int ret;

	if (sigbus && !(offered & UFFD_FEATURE_SIGBUS)) {
		PFDK_FAULT_LOG(ERR, "uffd: sigbus=1: the kernel lacks UFFD_FEATURE_SIGBUS");
		return -ENOTSUP;
	}
	if (sigbus && adopted) {
		PFDK_FAULT_LOG(ERR, "uffd: sigbus=1 needs a new userfaultfd (not fd=)");
		return -EINVAL;
	}
	ret = uffd_api(ud->fd, asked, &got);
	if (ret == -EPERM && (asked & UFFD_FEATURE_EVENT_FORK)) {
		asked &= ~(uint64_t)UFFD_FEATURE_EVENT_FORK;
		ret = uffd_api(ud->fd, asked, &got);
	}
	if (ret == 0) {
		/* The kernel answers with all it supports: keep what we asked. */
		ud->features = got & asked;
		missing = want & UFFD_EVENTS & ~ud->features;
		if (missing != 0)
			PFDK_FAULT_LOG_ONCE(NOTICE, "uffd: events not delivered: %s%s%s",
				uffd_feature_names(missing, names, sizeof(names)),
				(missing & UFFD_FEATURE_EVENT_FORK & offered) ?
				" (EVENT_FORK needs CAP_SYS_PTRACE: a fork child's copy of a region is not followed; it gets the kernel's default pages)" : "",
				(missing & ~offered) ? " (not offered by this kernel)" : "");
		return 0;
	}
	if (adopted && ret == -EINVAL) {
		/*
		 * The owner did the handshake already (a forked child's uffd
		 * inherits its parent's): its features are not readable, so
		 * assume what the kernel offers; we parse every message
		 * either way and fall back where an ioctl is missing.
		 */
		ud->features = offered & UFFD_WANTED;
		return 0;
	}
	PFDK_FAULT_LOG(ERR, "uffd: UFFDIO_API (features asked %#" PRIx64 "): %s",
		       asked, strerror(-ret));
	return ret;
}

/*
 * Every uffd device, for the fork-fd reclaim below: a poller out of file
 * descriptors closes child uffds kept by any device. The lock orders that
 * against probe and close; the fork rings are multi-consumer, so it need
 * not exclude pfdk_uffd_fork_adopt().
 */
static rte_spinlock_t uffd_devs_lock = RTE_SPINLOCK_INITIALIZER;
static struct uffd_dev *uffd_devs[PFDK_FAULT_MAX_DEVS];
static unsigned int uffd_reclaim_next; /* device to take from first; under the lock */

/* Child uffds closed per read that met EMFILE/ENFILE: room for a burst of FORKs. */
#define UFFD_FORK_RECLAIM 16
/* Reclaim-and-retry rounds of one read. */
#define UFFD_FORK_RECLAIM_TRIES 4
/*
 * Descriptors under the open-file limit that kept child uffds leave to the
 * application: a child uffd installed above it makes room at once.
 */
#define UFFD_FORK_HEADROOM 64

/*
 * Close up to @want unadopted child uffds, the oldest of each device first,
 * taking one from each device in turn (not all from one tenant). Closing
 * one unregisters the child's ranges and wakes its faulters, as a full
 * fork queue does: counted as fork_dropped. @return how many were closed.
 */
static unsigned int
uffd_fork_reclaim(unsigned int want)
{
	unsigned int closed = 0, empty = 0, i;
	void *p;

	rte_spinlock_lock(&uffd_devs_lock);
	while (closed < want && empty < PFDK_FAULT_MAX_DEVS) {
		struct uffd_dev *ud;

		i = uffd_reclaim_next;
		uffd_reclaim_next = (i + 1) % PFDK_FAULT_MAX_DEVS;
		ud = uffd_devs[i];
		if (ud == NULL || rte_ring_mc_dequeue(ud->forks, &p) != 0) {
			empty++;
			continue;
		}
		empty = 0;
		close((int)(uintptr_t)p);
		uffd_xs_add(ud, XS(fork_dropped), 1);
		closed++;
	}
	rte_spinlock_unlock(&uffd_devs_lock);
	return closed;
}

/*
 * read() of a uffd. A FORK event installs the child's uffd in this
 * process: at RLIMIT_NOFILE (EMFILE) or the system's file limit (ENFILE)
 * the kernel cannot, returns the error, and keeps the event; the forking
 * thread waits in fork() until it is read. Make room by closing kept child
 * uffds and read again; with none left to close, say why the fork waits.
 */
static ssize_t __rte_noinline
uffd_read_nofd(struct uffd_queue *q, void *buf, size_t len, int err)
{
	unsigned int t;
	ssize_t r;

	uffd_xs_add(q->ud, XS(fork_nofd), 1);
	for (t = 0; t < UFFD_FORK_RECLAIM_TRIES; t++) {
		if (uffd_fork_reclaim(UFFD_FORK_RECLAIM) == 0)
			break;
		r = read(q->ud->fd, buf, len);
		if (r >= 0 || (errno != EMFILE && errno != ENFILE))
			return r;
		err = errno;
	}
	/* The forking thread waits on us: say it later (uffd_notes_flush()). */
	if (uffd_note(q->ud, UFFD_NOTE_NOFD))
		__atomic_store_n(&q->ud->note_nofd_err, err, __ATOMIC_RELAXED);
	errno = err;
	return -1;
}

static inline ssize_t
uffd_read(struct uffd_queue *q, void *buf, size_t len)
{
	ssize_t r = read(q->ud->fd, buf, len);

	if (unlikely(r < 0) && (errno == EMFILE || errno == ENFILE))
		r = uffd_read_nofd(q, buf, len, errno);
	return r;
}

/*
 * FORK: keep the child's uffd for pfdk_uffd_fork_adopt(). The kernel gives
 * the lowest free descriptor, so one installed within UFFD_FORK_HEADROOM
 * of the soft RLIMIT_NOFILE means the process is nearly out: kept child
 * uffds are closed, oldest first, so that they never take the last
 * descriptors from the application (or from the next FORK event).
 */
static void
ev_fork(struct uffd_dev *ud, int fd)
{
	struct rlimit rl;

	uffd_xs_add(ud, XS(ev_fork), 1);
	if (rte_ring_sp_enqueue(ud->forks, (void *)(uintptr_t)fd) != 0) {
		/* Closing it unregisters the child's ranges and wakes its faulters. */
		close(fd);
		uffd_xs_add(ud, XS(fork_dropped), 1);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)fd + UFFD_FORK_HEADROOM >= rl.rlim_cur)
		uffd_fork_reclaim(UFFD_FORK_RECLAIM);
}

void
uffd_notes_flush(struct uffd_dev *ud)
{
	uint32_t n = __atomic_load_n(&ud->notes, __ATOMIC_ACQUIRE);

	if (n == 0)
		return;
	if (n & UFFD_NOTE_TABLE_LOST)
		PFDK_FAULT_LOG(ERR, "uffd%u: no memory for the region table: range 0x%" PRIx64
			       "-0x%" PRIx64 " (and maybe more) is left to the kernel", ud->dev_id,
			       __atomic_load_n(&ud->note_lost_start, __ATOMIC_RELAXED),
			       __atomic_load_n(&ud->note_lost_end, __ATOMIC_RELAXED));
	if (n & UFFD_NOTE_EVENT)
		PFDK_FAULT_LOG(WARNING, "uffd%u: unknown event %#x ignored", ud->dev_id,
			       __atomic_load_n(&ud->note_event, __ATOMIC_RELAXED));
	if (n & UFFD_NOTE_NOFD)
		PFDK_FAULT_LOG_ONCE(ERR, "uffd%u: a FORK event could not be read: %s and no child userfaultfd was left to close; the forking thread waited in fork() until a file descriptor was free (raise RLIMIT_NOFILE, ulimit -n)",
				    ud->dev_id, strerror(__atomic_load_n(&ud->note_nofd_err,
									  __ATOMIC_RELAXED)));
	__atomic_fetch_and(&ud->notes, ~n, __ATOMIC_RELEASE);
}

/*
 * Runs on the queue's reader with an event read: it must take no lock a
 * forking thread may hold across fork() (malloc's, stdio's, syslog's),
 * as the fork may be waiting for this very read (see uffd_arr_alloc()).
 */
static void
handle_event(struct uffd_dev *ud, const struct uffd_msg *m)
{
	switch (m->event) {
	case UFFD_EVENT_FORK:
		ev_fork(ud, (int)m->arg.fork.ufd);
		break;
	case UFFD_EVENT_REMAP:
		uffd_table_cut(ud, m->arg.remap.from,
			       m->arg.remap.from + m->arg.remap.len, true,
			       m->arg.remap.to);
		uffd_xs_add(ud, XS(ev_remap), 1);
		break;
	case UFFD_EVENT_REMOVE:
		/*
		 * Zapped pages refault as MISSING and are filled again; with
		 * unknown_zero=1 the range leaves the table instead, so they
		 * read as zero, as MADV_DONTNEED'd anonymous memory does (and
		 * CRIU's lazy-pages daemon serves them).
		 */
		if (ud->unknown_zero)
			uffd_table_cut(ud, m->arg.remove.start, m->arg.remove.end,
				       false, 0);
		uffd_xs_add(ud, XS(ev_remove), 1);
		break;
	case UFFD_EVENT_UNMAP:
		uffd_table_cut(ud, m->arg.remove.start, m->arg.remove.end,
			       false, 0);
		uffd_xs_add(ud, XS(ev_unmap), 1);
		break;
	default:
		if (uffd_note(ud, UFFD_NOTE_EVENT)) /* logged later: event path */
			__atomic_store_n(&ud->note_event, m->event, __ATOMIC_RELAXED);
		break;
	}
}

/* A page-fault message into a descriptor; the page size is its region's. */
static void
msg_to_fault(struct uffd_queue *q, const struct uffd_msg *m,
	     struct pfdk_fault *f, uint64_t now)
{
	uint64_t flags = m->arg.pagefault.flags;
	uint64_t addr = m->arg.pagefault.address;
	struct uffd_region r;
	uint32_t ps = UFFD_PAGE_4K;

	if (uffd_region_find(q->ud, addr, &r))
		ps = (uint32_t)r.page_size;
	f->addr = addr & ~(uint64_t)(ps - 1);
	f->tsc = now;
	f->drv = 0;
	f->user = 0;
	f->len = ps;
	f->pasid = 0;
	f->grpid = 0;
	f->cookie = 0;
	f->tid = m->arg.pagefault.feat.ptid;
	f->dev_id = q->dev_id;
	f->queue_id = q->queue_id;
	f->perm = PFDK_FAULT_PERM_READ |
		((flags & UFFD_PAGEFAULT_FLAG_WRITE) ? PFDK_FAULT_PERM_WRITE : 0);
	if (flags & UFFD_PAGEFAULT_FLAG_WP)
		f->kind = PFDK_FAULT_KIND_WP;
	else if (flags & UFFD_PAGEFAULT_FLAG_MINOR)
		f->kind = PFDK_FAULT_KIND_MINOR;
	else
		f->kind = PFDK_FAULT_KIND_MISSING;
	f->flags = PFDK_FAULT_F_LAST_PAGE; /* every fault is its own group */
	f->status = PFDK_FAULT_RESP_SUCCESS;
	f->rsvd = 0;
}

/*
 * Messages into descriptors (@got of them in faults[]), events handled
 * here; stops at the first page fault with no descriptor left.
 * @return messages used; *k = descriptors filled.
 */
static uint32_t
take_msgs(struct uffd_queue *q, const struct uffd_msg *msgs, uint32_t m,
	  struct pfdk_fault **faults, uint16_t got, uint16_t *k)
{
	uint64_t now = rte_rdtsc();
	uint32_t i;

	*k = 0;
	for (i = 0; i < m; i++) {
		if (likely(msgs[i].event == UFFD_EVENT_PAGEFAULT)) {
			if (*k == got)
				break;
			msg_to_fault(q, &msgs[i], faults[(*k)++], now);
		} else {
			handle_event(q->ud, &msgs[i]);
		}
	}
	return i;
}

static void
recv_done(struct uffd_queue *q, struct pfdk_fault **faults, uint16_t got, uint16_t k)
{
	if (k < got)
		rte_mempool_put_bulk(q->pool, (void **)&faults[k], got - k);
	pfdk_counter_add(&q->st.received, k);
	pfdk_counter_add(&q->st.outstanding, k);
}

/*
 * Backlog (uffd_priv.h). Make room for @n more messages, growing it on
 * this slow path; @return the room there is (less if memory ran out: the
 * caller then reads less, and the rest stays in the kernel).
 */
static uint32_t
bl_room(struct uffd_queue *q, uint32_t n)
{
	uint32_t cnt = uffd_bl_count(q), cap = q->bl_cap, i;
	struct uffd_msg *bl;

	if (likely(cap - cnt >= n))
		return n;
	while (cap - cnt < n && cap < UFFD_BACKLOG_MAX)
		cap <<= 1;
	/* Read with an event maybe behind (a fork waiting): uffd_arr_alloc(). */
	bl = cap > q->bl_cap ? uffd_arr_alloc((size_t)cap * sizeof(*bl)) : NULL;
	if (bl != NULL) {
		for (i = 0; i < cnt; i++)
			bl[i] = q->bl[(q->bl_head + i) & (q->bl_cap - 1)];
		uffd_arr_free(q->bl, (size_t)q->bl_cap * sizeof(*bl));
		q->bl = bl;
		q->bl_cap = cap;
		q->bl_head = 0;
		q->bl_tail = cnt;
	}
	return RTE_MIN(n, q->bl_cap - cnt);
}

/* Park a page-fault message at the backlog's tail; room was made. */
static inline void
bl_push(struct uffd_queue *q, const struct uffd_msg *m)
{
	q->bl[q->bl_tail++ & (q->bl_cap - 1)] = *m;
}

/* Hand out up to @nb parked faults, oldest first. */
static uint16_t
bl_take(struct uffd_queue *q, struct pfdk_fault **faults, uint16_t nb)
{
	uint16_t n = (uint16_t)RTE_MIN((uint32_t)nb, uffd_bl_count(q)), i;
	uint64_t now;

	if (n == 0)
		return 0;
	n = pfdk_fault_desc_take(q->pool, faults, n, &q->st.nodesc);
	now = rte_rdtsc();
	for (i = 0; i < n; i++)
		msg_to_fault(q, &q->bl[q->bl_head++ & (q->bl_cap - 1)], faults[i], now);
	pfdk_counter_add(&q->st.received, n);
	pfdk_counter_add(&q->st.outstanding, n);
	return n;
}

/*
 * Messages @msgs[from..m): events handled now, page faults parked.
 * @return the first one not taken (m, unless the backlog cannot grow).
 */
static uint32_t
park_msgs(struct uffd_queue *q, const struct uffd_msg *msgs, uint32_t from, uint32_t m)
{
	uint32_t i, parked = 0;

	for (i = from; i < m; i++) {
		if (msgs[i].event != UFFD_EVENT_PAGEFAULT) {
			handle_event(q->ud, &msgs[i]);
			continue;
		}
		if (bl_room(q, 1) == 0)
			break;
		bl_push(q, &msgs[i]);
		parked++;
	}
	uffd_xs_add(q->ud, XS(parked), parked);
	return i;
}

/*
 * Read what the kernel has, whatever the caller holds: every event is
 * handled, the faults read on the way (the kernel returns them first) are
 * parked. Bounded: a fault read here leaves its thread asleep until
 * answered, so only new faulters add to a later read.
 */
static void
uffd_read_ahead(struct uffd_queue *q)
{
	unsigned int round;

	for (round = 0; round < UFFD_READ_AHEAD_ROUNDS; round++) {
		uint32_t room = bl_room(q, UFFD_MAX_BURST), m;
		ssize_t r;

		if (room == 0)
			return; /* out of memory: nothing is lost, events wait */
		r = uffd_read(q, q->msgs, (size_t)room * sizeof(struct uffd_msg));
		if (r <= 0) {
			if (r < 0 && errno != EAGAIN && errno != EINTR)
				pfdk_counter_add(&q->st.errors, 1);
			return;
		}
		m = (uint32_t)(r / (ssize_t)sizeof(struct uffd_msg));
		park_msgs(q, q->msgs, 0, m);
		if (m < room)
			return;
	}
}

static uint16_t
uffd_recv(void *queue, struct pfdk_fault **faults, uint16_t nb)
{
	struct uffd_queue *q = queue;
	uint16_t n = RTE_MIN(nb, (uint16_t)UFFD_MAX_BURST), k = 0, b = 0, want;
	ssize_t r;

	if (n == 0)
		return 0;
	/* Parked faults are older than anything the kernel still has. */
	if (unlikely(uffd_bl_count(q) != 0)) {
		b = bl_take(q, faults, n);
		if (uffd_bl_count(q) != 0) {
			/* Short of descriptors: reach the events all the same. */
			if (b < n)
				uffd_read_ahead(q);
			return b;
		}
		if (b == n)
			return b;
		faults += b;
		n -= b;
	}
	/*
	 * Descriptors first, then read no more messages than we hold: the
	 * fast path keeps what it reads. (Reading past that, to reach an
	 * event, is the service call's job: uffd_service().)
	 */
	want = n;
	n = pfdk_fault_desc_take(q->pool, faults, n, &q->st.nodesc);
	if (n != 0) {
		r = uffd_read(q, q->msgs, (size_t)n * sizeof(struct uffd_msg));
		if (r > 0)
			take_msgs(q, q->msgs,
				  (uint32_t)(r / (ssize_t)sizeof(struct uffd_msg)),
				  faults, n, &k);
		else if (r < 0 && errno != EAGAIN && errno != EINTR)
			pfdk_counter_add(&q->st.errors, 1);
		recv_done(q, faults, n, k);
	}
	/*
	 * The pool is short: the descriptors may all be held by faults that
	 * wait (EAGAIN) for an event of this very queue, which no caller
	 * holds a fault of. Read ahead so that event is handled; the faults
	 * read with it are parked and handed out first next time.
	 */
	if (unlikely(n < want) && (n == 0 || k == n))
		uffd_read_ahead(q);
	return b + k;
}

/*
 * Messages an engine read from the uffd (io_uring provided buffers): the
 * same as uffd_recv() after its read, parked faults first. What finds no
 * descriptor (or comes behind parked faults) is left in @buf for the next
 * call, events before it handled. @nb = 0 is the engine's service call:
 * every record is consumed, events handled and faults parked, so the
 * events behind the faults are reached and the buffer goes back to the
 * kernel (only a backlog that cannot grow leaves a fault in @buf).
 */
static uint16_t
uffd_parse_msgs(void *queue, const void *buf, uint32_t len, struct pfdk_fault **faults,
	   uint16_t nb, uint32_t *consumed)
{
	struct uffd_queue *q = queue;
	uint32_t m = len / (uint32_t)sizeof(struct uffd_msg), used;
	uint16_t n = RTE_MIN(nb, (uint16_t)UFFD_MAX_BURST), b = 0, d = 0, k = 0;

	if (unlikely(nb == 0)) {
		*consumed = park_msgs(q, buf, 0, m) * (uint32_t)sizeof(struct uffd_msg);
		return 0;
	}
	if (unlikely(uffd_bl_count(q) != 0)) {
		b = bl_take(q, faults, n);
		faults += b;
		n -= b;
	}
	/* Events need no descriptor: with none, events still go through. */
	if (likely(uffd_bl_count(q) == 0 && n != 0 && m != 0))
		d = pfdk_fault_desc_take(q->pool, faults,
					 (uint16_t)RTE_MIN((uint32_t)n, m), &q->st.nodesc);
	used = take_msgs(q, buf, m, faults, d, &k);
	recv_done(q, faults, d, k);
	*consumed = used * (uint32_t)sizeof(struct uffd_msg);
	return b + k;
}

/*
 * Service (pfdk_fault_queue_service()): with @read, read ahead to reach
 * the events; @return the faults parked, which the queue's fd no longer
 * shows.
 */
static uint32_t
uffd_service(void *queue, bool read)
{
	struct uffd_queue *q = queue;

	if (read)
		uffd_read_ahead(q);
	return uffd_bl_count(q);
}

/*
 * INVALID: make the retried access fail (SIGBUS) rather than hang: POISON,
 * or zero-fill on kernels without it. 0, or -EAGAIN (event pending).
 */
static int
fail_page(struct uffd_queue *q, struct pfdk_fault *f)
{
	struct uffd_dev *ud = q->ud;
	int ret = 0;

	if (f->kind == PFDK_FAULT_KIND_WP) {
		struct uffdio_writeprotect wp = {
			.range = { .start = f->addr, .len = f->len },
			.mode = UFFDIO_WRITEPROTECT_MODE_DONTWAKE,
		};

		/* A present page cannot be failed: lift WP, count it. */
		if (ioctl(ud->fd, UFFDIO_WRITEPROTECT, &wp) < 0)
			ret = -errno;
	} else if (ud->features & UFFD_FEATURE_POISON) {
		struct uffdio_poison p = {
			.range = { .start = f->addr, .len = f->len },
			.mode = UFFDIO_POISON_MODE_DONTWAKE,
		};

		if (ioctl(ud->fd, UFFDIO_POISON, &p) < 0)
			ret = -errno;
		else
			uffd_xs_add(ud, XS(poisons), 1);
	} else {
		f->status = PFDK_FAULT_RESP_SUCCESS;
		f->kind = PFDK_FAULT_KIND_MISSING;
		ret = uffd_resolve_one(ud, f, false);
		f->status = PFDK_FAULT_RESP_INVALID;
	}
	if (ret == -EAGAIN)
		return -EAGAIN;
	if (ret < 0 && ret != -EEXIST && ret != -ENOENT)
		pfdk_counter_add(&q->st.errors, 1);
	return 0;
}

struct wrange {
	uint64_t start;
	uint64_t end;
};

static uint16_t
uffd_respond(void *queue, struct pfdk_fault **faults, uint16_t nb)
{
	struct uffd_queue *q = queue;
	struct wrange rg[UFFD_MAX_BURST];
	uint16_t n = 0, i, j, nr = 0;
	uint64_t invalid = 0;

	nb = RTE_MIN(nb, (uint16_t)UFFD_MAX_BURST);
	for (n = 0; n < nb; n++) {
		struct pfdk_fault *f = faults[n];
		struct wrange w = { f->addr, f->addr + f->len };

		if (f->status != PFDK_FAULT_RESP_SUCCESS) {
			/* Take back only a prefix: the rest is offered again. */
			if (fail_page(q, f) == -EAGAIN)
				break;
			invalid++;
		} else if (f->drv & UFFD_DRV_WOKEN) {
			continue; /* its fill woke it */
		}
		/* Insertion sort by start: bursts are short and mostly sorted. */
		for (j = nr; j > 0 && rg[j - 1].start > w.start; j--)
			rg[j] = rg[j - 1];
		rg[j] = w;
		nr++;
	}
	/* One UFFDIO_WAKE per contiguous (or overlapping) range. */
	for (i = 0; i < nr; ) {
		struct uffdio_range wr = { .start = rg[i].start };
		uint64_t end = rg[i].end;

		for (i++; i < nr && rg[i].start <= end; i++)
			end = RTE_MAX(end, rg[i].end);
		wr.len = end - wr.start;
		if (ioctl(q->ud->fd, UFFDIO_WAKE, &wr) < 0)
			pfdk_counter_add(&q->st.errors, 1);
		uffd_xs_add(q->ud, XS(wakes), 1);
	}
	if (n != 0)
		rte_mempool_put_bulk(q->pool, (void **)faults, n);
	pfdk_counter_add(&q->st.responded, n);
	pfdk_counter_add(&q->st.groups, n); /* every fault is its own group */
	pfdk_counter_add(&q->st.invalid, invalid);
	pfdk_counter_sub(&q->st.outstanding, n);
	return n;
}

static void
uffd_info_get(const struct pfdk_fault_dev *dev, struct pfdk_fault_info *info)
{
	RTE_SET_USED(dev);
	/* One fd, one reader: a second queue would only race the first. */
	info->max_queues = 1;
	info->max_group_records = 1;
}

static int
uffd_queue_setup(struct pfdk_fault_dev *dev, uint16_t qid,
		 const struct pfdk_fault_queue_conf *qc)
{
	struct uffd_queue *q;

	q = rte_zmalloc_socket("uffd_queue", sizeof(*q), RTE_CACHE_LINE_SIZE,
			       qc->socket_id);
	if (q == NULL)
		return -ENOMEM;
	q->bl_cap = UFFD_BACKLOG_INIT;
	q->bl = uffd_arr_alloc(q->bl_cap * sizeof(*q->bl)); /* freed as it grows: alike */
	if (q->bl == NULL) {
		rte_free(q);
		return -ENOMEM;
	}
	q->socket_id = qc->socket_id;
	q->pool = qc->pool;
	q->ud = dev->dev_private;
	q->dev_id = dev->dev_id;
	q->queue_id = qid;
	dev->queues[qid] = q;
	dev->queue_stats[qid] = &q->st;
	return 0;
}

static void
uffd_queue_release(struct pfdk_fault_dev *dev, uint16_t qid)
{
	struct uffd_queue *q = dev->queues[qid];

	if (q != NULL)
		uffd_arr_free(q->bl, (size_t)q->bl_cap * sizeof(*q->bl));
	rte_free(q);
}

static int
uffd_start(struct pfdk_fault_dev *dev)
{
	struct uffd_dev *ud = dev->dev_private;
	uint32_t i;
	int ret;

	if (ud->registered)
		return 0;
	if (ud->client_registers) {
		/* The client's registrations are its own business: never ours to redo. */
		ud->registered = true;
		return 0;
	}
	/* Stop unregistered every region: take them back. */
	for (i = 0; i < ud->nb_slots; i++) {
		if (ud->regions[i].start == 0)
			continue;
		ret = uffd_register_range(ud, &ud->regions[i]);
		if (ret < 0) {
			PFDK_FAULT_LOG(ERR, "%s: re-register 0x%" PRIx64 ": %s", dev->name,
				       ud->regions[i].start, strerror(-ret));
			return ret;
		}
	}
	ud->registered = true;
	return 0;
}

/*
 * Stop: serve the parked faults from their stores, each woken by its own
 * fill; one that meets a pending event (EAGAIN) stays parked for the next
 * round. @return faults served.
 */
static uint32_t
stop_serve(struct uffd_queue *q)
{
	struct uffd_dev *ud = q->ud;
	uint32_t n = uffd_bl_count(q), i, done = 0;
	struct pfdk_fault f;
	struct uffd_msg m;
	int ret;

	for (i = 0; i < n; i++) {
		m = q->bl[q->bl_head++ & (q->bl_cap - 1)];
		msg_to_fault(q, &m, &f, 0);
		ret = uffd_resolve_one(ud, &f, true);
		if (ret == 0 && f.status == PFDK_FAULT_RESP_INVALID)
			ret = fail_page(q, &f);
		if (ret == -EAGAIN) {
			bl_push(q, &m); /* the slot it left is free */
			continue;
		}
		if (!(f.drv & UFFD_DRV_WOKEN)) {
			struct uffdio_range wr = { f.addr, f.len };

			ioctl(ud->fd, UFFDIO_WAKE, &wr);
		}
		uffd_xs_add(ud, XS(drained), 1);
		done++;
	}
	return done;
}

static int
uffd_stop(struct pfdk_fault_dev *dev)
{
	struct uffd_dev *ud = dev->dev_private;
	struct uffd_queue *q = dev->queues[0];
	unsigned int idle = 0;
	uint32_t i;

	/*
	 * Serve what the kernel still queues and what is parked, from the
	 * stores. Everything is read first, so the events behind the faults
	 * are handled; a fill that still meets EAGAIN waits for the thread
	 * that caused the event to run, for a bounded number of rounds.
	 */
	while (q != NULL && idle < UFFD_STOP_ROUNDS) {
		uffd_read_ahead(q);
		if (uffd_bl_count(q) == 0)
			break;
		if (stop_serve(q) != 0) {
			idle = 0;
		} else {
			idle++;
			rte_delay_us_sleep(50);
		}
	}
	/*
	 * Then let go of the regions: UNREGISTER wakes every waiter, so a
	 * fault that races stop, one whose descriptor the application still
	 * holds, or one still parked after the rounds above, is served by the
	 * kernel's default instead of hanging.
	 */
	for (i = 0; i < ud->nb_slots; i++)
		if (ud->regions[i].start != 0)
			uffd_unregister_range(ud, ud->regions[i].start,
					      ud->regions[i].end);
	ud->registered = false;
	uffd_notes_flush(ud);
	if (q != NULL) {
		pfdk_counter_add(&q->st.aborted, q->st.outstanding + uffd_bl_count(q));
		q->st.outstanding = 0;
		q->bl_head = q->bl_tail; /* woken by the unregister: dropped */
	}
	return 0;
}

static void
uffd_close(struct pfdk_fault_dev *dev)
{
	struct uffd_dev *ud = dev->dev_private;
	void *fd;

	uffd_inthread_forget(ud);
	rte_spinlock_lock(&uffd_devs_lock);
	uffd_devs[dev->dev_id] = NULL;
	rte_spinlock_unlock(&uffd_devs_lock);
	while (rte_ring_mc_dequeue(ud->forks, &fd) == 0)
		close((int)(uintptr_t)fd);
	rte_ring_free(ud->forks);
	close(ud->fd);
	uffd_table_free(ud);
	rte_free(ud->xs);
	rte_free(ud);
	dev->dev_private = NULL;
}

/* The class sums the queue's counters; add the resolvers' failures. */
static void
uffd_stats_get(const struct pfdk_fault_dev *dev, struct pfdk_fault_stats *s)
{
	const struct uffd_dev *ud = dev->dev_private;

	s->errors += uffd_xs_sum(ud, XS_ERRORS);
	uffd_notes_flush((struct uffd_dev *)(uintptr_t)ud); /* a control call */
}

static void
uffd_stats_reset(struct pfdk_fault_dev *dev)
{
	struct uffd_dev *ud = dev->dev_private;
	size_t i;

	unsigned int l;

	/* As DPDK's stats resets: counts racing with it may survive it. */
	for (l = 0; l < UFFD_XS_SETS; l++)
		for (i = 0; i < RTE_DIM(ud->xs[l].v); i++)
			__atomic_store_n(&ud->xs[l].v[i], 0, __ATOMIC_RELAXED);
}

static int
uffd_queue_fd(const struct pfdk_fault_dev *dev, uint16_t qid)
{
	const struct uffd_dev *ud = dev->dev_private;

	RTE_SET_USED(qid);
	return ud->fd;
}

static int
uffd_queue_read_info(const struct pfdk_fault_dev *dev, uint16_t qid,
		     struct pfdk_fault_read_info *info)
{
	const struct uffd_dev *ud = dev->dev_private;

	RTE_SET_USED(qid);
	info->fd = ud->fd;
	info->rec_size = sizeof(struct uffd_msg);
	return 0;
}

static void
uffd_dump(const struct pfdk_fault_dev *dev, FILE *f)
{
	struct pfdk_uffd_stats x;

	pfdk_uffd_stats_get(dev->dev_id, &x);
	fprintf(f, "  uffd: fd %d features %#" PRIx64 " regions %d\n",
		pfdk_uffd_fd(dev->dev_id), pfdk_uffd_features(dev->dev_id),
		pfdk_uffd_regions(dev->dev_id, NULL, 0));
	fprintf(f, "  uffd: copy %" PRIu64 " zero %" PRIu64 " continue %" PRIu64
		" wp %" PRIu64 " poison %" PRIu64 " eexist %" PRIu64 " deferred %" PRIu64
		" stale %" PRIu64 " wakes %" PRIu64 " fork/remap/remove/unmap %" PRIu64
		"/%" PRIu64 "/%" PRIu64 "/%" PRIu64 "\n", x.copies, x.zeropages,
		x.continues, x.wp_clears, x.poisons, x.exists, x.deferred, x.stale,
		x.wakes, x.ev_fork, x.ev_remap, x.ev_remove, x.ev_unmap);
}

static int
uffd_inthread_set(struct pfdk_fault_dev *dev, bool enable)
{
	return enable ? pfdk_uffd_inthread_enable(dev->dev_id, NULL) :
		pfdk_uffd_inthread_disable(dev->dev_id);
}

static const struct pfdk_fault_dev_ops uffd_ops = {
	.dev_info_get = uffd_info_get,
	.queue_setup = uffd_queue_setup,
	.queue_release = uffd_queue_release,
	.dev_start = uffd_start,
	.dev_stop = uffd_stop,
	.dev_close = uffd_close,
	.stats_get = uffd_stats_get,
	.stats_reset = uffd_stats_reset,
	.queue_fd = uffd_queue_fd,
	.queue_read_info = uffd_queue_read_info,
	.inthread_set = uffd_inthread_set,
	.dump = uffd_dump,
	.recv = uffd_recv,
	.respond = uffd_respond,
	.parse_burst = uffd_parse_msgs,
	.service = uffd_service,
};

static int
uffd_parse(const struct rte_kvargs *kv, void *conf, char *err, size_t errlen)
{
	struct uffd_conf *c = conf;

	int ret;

	c->fd = FD_NONE;
	c->sigbus = 0;
	c->fault_around = 0;
	c->unknown_zero = 0;
	c->reg = 1;
	ret = pfdk_fault_kv_uint(kv, "fd", &c->fd, 0, INT_MAX, err, errlen);
	if (ret == 0)
		ret = pfdk_fault_kv_uint(kv, "sigbus", &c->sigbus, 0, 1, err, errlen);
	if (ret == 0)
		ret = pfdk_fault_kv_uint(kv, "unknown_zero", &c->unknown_zero, 0, 1, err,
					 errlen);
	if (ret == 0)
		ret = pfdk_fault_kv_uint(kv, "register", &c->reg, 0, 1, err, errlen);
	if (ret == 0 && c->reg == 0 && c->fd == FD_NONE) {
		snprintf(err, errlen, "register=0 needs fd= (only a client's own uffd has its ranges registered by the client)");
		ret = -EINVAL;
	}
	if (ret < 0)
		return ret;
	return pfdk_fault_kv_uint(kv, "fault_around", &c->fault_around, 0,
				  PFDK_UFFD_FAULT_AROUND_MAX, err, errlen);
}

static int
uffd_probe(struct pfdk_fault_dev *dev, const void *conf)
{
	const struct uffd_conf *c = conf;
	char rname[RTE_RING_NAMESIZE];
	struct uffd_dev *ud;
	int ret, user_only = 0, fl;

	ret = uffd_scratch_init();
	if (ret < 0)
		return ret;
	ud = rte_zmalloc("uffd_dev", sizeof(*ud), RTE_CACHE_LINE_SIZE);
	if (ud == NULL)
		return -ENOMEM;
	ud->xs = rte_zmalloc("uffd_xstats", UFFD_XS_SETS * sizeof(*ud->xs),
			     RTE_CACHE_LINE_SIZE);
	if (ud->xs == NULL) {
		rte_free(ud);
		return -ENOMEM;
	}
	rte_spinlock_init(&ud->wlock);
	ret = uffd_table_init(ud, PFDK_UFFD_MAX_REGIONS);
	if (ret < 0) {
		rte_free(ud->xs);
		rte_free(ud);
		return ret;
	}
	ud->dev_id = dev->dev_id;
	ud->registered = true;
	ud->fault_around = (uint32_t)c->fault_around;
	ud->unknown_zero = c->unknown_zero != 0;
	ud->client_registers = c->reg == 0;
	if (c->fd == FD_NONE) {
		ud->fd = uffd_open(&user_only);
		if (ud->fd < 0) {
			ret = ud->fd;
			goto fail_free;
		}
		if (user_only)
			PFDK_FAULT_LOG_ONCE(NOTICE, "%s: unprivileged userfaultfd (UFFD_USER_MODE_ONLY): faults the kernel takes on the region, e.g. in read(2), are not delivered",
				       dev->name);
	} else {
		ud->fd = (int)c->fd;
		fl = fcntl(ud->fd, F_GETFL);
		if (fl < 0 || fcntl(ud->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
			ret = -errno;
			PFDK_FAULT_LOG(ERR, "%s: fd %d: %s", dev->name, ud->fd,
				       strerror(errno));
			goto fail_free;
		}
	}
	ret = uffd_handshake(ud, c->fd != FD_NONE, c->sigbus != 0);
	if (ret < 0)
		goto fail_close;
	snprintf(rname, sizeof(rname), "uffd_fork%u", dev->dev_id);
	/* One producer (the queue's reader); adopt and reclaim both take. */
	ud->forks = rte_ring_create(rname, UFFD_FORK_SLOTS, SOCKET_ID_ANY,
				    RING_F_SP_ENQ);
	if (ud->forks == NULL) {
		ret = -ENOMEM;
		goto fail_close;
	}
	rte_spinlock_lock(&uffd_devs_lock);
	uffd_devs[dev->dev_id] = ud;
	rte_spinlock_unlock(&uffd_devs_lock);
	dev->dev_private = ud;
	dev->ops = &uffd_ops;
	return 0;
fail_close:
	if (c->fd == FD_NONE)
		close(ud->fd); /* an adopted fd stays the caller's on failure */
fail_free:
	uffd_table_free(ud);
	rte_free(ud->xs);
	rte_free(ud);
	return ret;
}

int
pfdk_uffd_fork_adopt(uint16_t dev_id, const char *name)
{
	struct uffd_dev *ud = uffd_dev_of(dev_id), *child;
	char devargs[PFDK_FAULT_NAME_LEN + 32];
	void *p;
	int fd, id;

	if (ud == NULL)
		return pfdk_fault_dev_get(dev_id) ? -EINVAL : -ENODEV;
	if (name == NULL)
		return -EINVAL;
	if (rte_ring_mc_dequeue(ud->forks, &p) != 0)
		return -EAGAIN;
	fd = (int)(uintptr_t)p;
	snprintf(devargs, sizeof(devargs), "%s,fd=%d", name, fd);
	id = pfdk_fault_dev_create(devargs);
	if (id < 0) {
		close(fd); /* wakes the child's faulters: none may hang */
		return id;
	}
	child = uffd_dev_of((uint16_t)id);
	child->features = ud->features;
	child->fault_around = ud->fault_around;
	child->unknown_zero = ud->unknown_zero; /* the same image view */
	child->client_registers = ud->client_registers;
	/* The child inherited the registrations; the kernel has them already. */
	if (uffd_table_copy(child, ud) < 0) {
		pfdk_fault_close((uint16_t)id); /* closes fd: wakes the child's faulters */
		return -ENOMEM;
	}
	return id;
}

int
pfdk_uffd_fd(uint16_t dev_id)
{
	const struct uffd_dev *ud = uffd_dev_of(dev_id);

	if (ud == NULL)
		return pfdk_fault_dev_get(dev_id) ? -EINVAL : -ENODEV;
	return ud->fd;
}

uint64_t
pfdk_uffd_features(uint16_t dev_id)
{
	const struct uffd_dev *ud = uffd_dev_of(dev_id);

	return ud ? ud->features : 0;
}

int
pfdk_uffd_stats_get(uint16_t dev_id, struct pfdk_uffd_stats *st)
{
	struct uffd_dev *ud = uffd_dev_of(dev_id);
	uint64_t *out = (uint64_t *)st;
	size_t i;

	if (ud == NULL)
		return pfdk_fault_dev_get(dev_id) ? -EINVAL : -ENODEV;
	if (st == NULL)
		return -EINVAL;
	uffd_notes_flush(ud); /* a control call: say what the event path noted */
	for (i = 0; i < UFFD_XS_N; i++)
		out[i] = uffd_xs_sum(ud, i);
	return 0;
}

struct pfdk_fault_driver uffd_driver = {
	.params = "fd=<userfaultfd to adopt> sigbus=<0|1> fault_around=<0-511> unknown_zero=<0|1> register=<0|1>",
	.conf_size = sizeof(struct uffd_conf),
	.parse_devargs = uffd_parse,
	.probe = uffd_probe,
};

PFDK_FAULT_DRIVER_REGISTER(uffd, uffd_driver);
