/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The hand-written userfaultfd handlers PFDK is measured against, written
 * the way people write them today: one thread, one fault at a time.
 *
 *   classic:    poll() over the uffds, read() one uffd_msg from a ready
 *               one, UFFDIO_COPY (which wakes the faulter), repeat.
 *   epoll-many: the same with epoll_wait() over all uffds.
 *   sigbus:     no handler thread: the uffds have UFFD_FEATURE_SIGBUS, a
 *               missing page raises SIGBUS in the faulting thread, and its
 *               signal handler does the one UFFDIO_COPY (the 20-line
 *               version ExtMem-style runtimes start from).
 *
 * The thread's CPU says which row it is (classic on the other CPU,
 * classic-colocated on the faulters' CPU). A stop eventfd in the wait set
 * ends it once the faulting threads are done.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "faultbench.h"
#include "pfdk_store.h"

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

int
bl_uffd_open(uint64_t features)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	int fd;

	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		fd = (int)syscall(SYS_userfaultfd,
				  O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, UFFDIO_API, &api) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

int
bl_uffd_register(int uffd, void *addr, size_t len)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};

	if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0)
		return -errno;
	return (reg.ioctls & (1ull << _UFFDIO_COPY)) ? 0 : -EINVAL;
}

/* Serve one message from region @r: fill the page from the store. */
static void
serve(struct bl_handler *h, struct bl_region *r, const struct uffd_msg *m,
      void *scratch, const void *zero)
{
	uint64_t addr = m->arg.pagefault.address & ~((uint64_t)h->page - 1);
	struct uffdio_copy cp;
	const void *src = zero;
	int ret;

	if (m->event != UFFD_EVENT_PAGEFAULT) {
		h->events++;
		return;
	}
	ret = pfdk_store_lookup(r->store, addr - (uintptr_t)r->base, h->page,
				scratch, &src);
	if (ret == PFDK_STORE_ZERO)
		src = zero;
	else if (ret < 0)
		h->errors++; /* served as zeros: verification will catch it */
	for (;;) {
		cp = (struct uffdio_copy){
			.dst = addr, .src = (uintptr_t)src, .len = h->page, .mode = 0,
		};
		if (ioctl(r->uffd, UFFDIO_COPY, &cp) == 0)
			break;
		if (errno == EAGAIN)
			continue;
		if (errno == EEXIST) {
			struct uffdio_range wr = { .start = addr, .len = h->page };

			h->exists++;
			ioctl(r->uffd, UFFDIO_WAKE, &wr);
		} else {
			h->errors++;
		}
		return;
	}
	h->copies++;
}

/* Read one message from region @i (non-blocking) and serve it. */
static void
read_one(struct bl_handler *h, unsigned int i, void *scratch, const void *zero)
{
	struct uffd_msg m;
	ssize_t n = read(h->reg[i].uffd, &m, sizeof(m));

	if (n == (ssize_t)sizeof(m))
		serve(h, &h->reg[i], &m, scratch, zero);
	else if (n < 0 && errno != EAGAIN && errno != EINTR)
		h->errors++;
}

static void
classic_loop(struct bl_handler *h, void *scratch, const void *zero)
{
	struct pollfd *pfd = calloc(h->nreg + 1, sizeof(*pfd));
	unsigned int i;

	if (pfd == NULL) {
		h->errors++;
		return;
	}
	for (i = 0; i < h->nreg; i++)
		pfd[i] = (struct pollfd){ .fd = h->reg[i].uffd, .events = POLLIN };
	pfd[h->nreg] = (struct pollfd){ .fd = h->stopfd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, h->nreg + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			h->errors++;
			break;
		}
		for (i = 0; i < h->nreg; i++)
			if (pfd[i].revents & POLLIN)
				read_one(h, i, scratch, zero);
		if (pfd[h->nreg].revents & POLLIN)
			break;
	}
	free(pfd);
}

static void
epoll_loop(struct bl_handler *h, void *scratch, const void *zero)
{
	struct epoll_event ev[64];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	unsigned int i;
	bool stop = false;
	int n, k;

	if (ep < 0) {
		h->errors++;
		return;
	}
	for (i = 0; i <= h->nreg; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.u32 = i };

		if (epoll_ctl(ep, EPOLL_CTL_ADD,
			      i < h->nreg ? h->reg[i].uffd : h->stopfd, &e) < 0)
			h->errors++;
	}
	while (!stop) {
		n = epoll_wait(ep, ev, (int)(sizeof(ev) / sizeof(ev[0])), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			h->errors++;
			break;
		}
		for (k = 0; k < n; k++) {
			if (ev[k].data.u32 == h->nreg)
				stop = true;
			else
				read_one(h, ev[k].data.u32, scratch, zero);
		}
	}
	close(ep);
}

static void *
handler_main(void *arg)
{
	struct bl_handler *h = arg;
	void *scratch = aligned_alloc(h->page, h->page);
	void *zero = aligned_alloc(h->page, h->page);

	if (scratch == NULL || zero == NULL) {
		h->errors++;
	} else {
		/* Touch both now, not on the first fault. */
		memset(scratch, 0, h->page);
		memset(zero, 0, h->page);
		if (h->kind == BL_CLASSIC)
			classic_loop(h, scratch, zero);
		else
			epoll_loop(h, scratch, zero);
	}
	free(scratch);
	free(zero);
	return NULL;
}

/* ---- sigbus ---- */

static struct bl_handler *sb_h; /* set before the handler is installed */
static struct sigaction sb_old;
static const void *sb_zero;
static __thread uint8_t *sb_scratch;  /* bl_sigbus_thread_init() */

static void
sb_handler(int sig, siginfo_t *si, void *uc)
{
	uint64_t a = (uintptr_t)si->si_addr & ~((uint64_t)sb_h->page - 1);
	int saved = errno;
	unsigned int i;

	(void)uc;
	for (i = 0; i < sb_h->nreg; i++) {
		const struct bl_region *r = &sb_h->reg[i];
		const void *src = sb_zero;
		struct uffdio_copy c;

		if (a - (uintptr_t)r->base >= r->len)
			continue;
		if (pfdk_store_lookup(r->store, a - (uintptr_t)r->base, sb_h->page,
				      sb_scratch, &src) == PFDK_STORE_ZERO)
			src = sb_zero;
		c = (struct uffdio_copy){ .dst = a, .src = (uintptr_t)src, .len = sb_h->page };
		/* EEXIST: another thread filled it; EAGAIN: the access retries. */
		if (ioctl(r->uffd, UFFDIO_COPY, &c) < 0 && errno != EEXIST && errno != EAGAIN)
			__atomic_fetch_add(&sb_h->errors, 1, __ATOMIC_RELAXED);
		errno = saved;
		return;
	}
	signal(sig, SIG_DFL); /* not ours: a real bus error, die of it */
}

int
bl_sigbus_thread_init(void)
{
	if (sb_scratch == NULL)
		sb_scratch = aligned_alloc(sb_h->page, sb_h->page);
	if (sb_scratch == NULL)
		return -ENOMEM;
	memset(sb_scratch, 0, sb_h->page); /* touched now, not on the first fault */
	return 0;
}

void
bl_sigbus_thread_fini(void)
{
	free(sb_scratch);
	sb_scratch = NULL;
}

static int
sb_start(struct bl_handler *h)
{
	struct sigaction sa = { .sa_sigaction = sb_handler, .sa_flags = SA_SIGINFO };
	void *zero = aligned_alloc(h->page, h->page);

	if (zero == NULL)
		return -ENOMEM;
	memset(zero, 0, h->page);
	sb_zero = zero;
	sb_h = h;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &sb_old) < 0) {
		free(zero);
		return -errno;
	}
	h->running = true;
	return 0;
}

static void
sb_stop(struct bl_handler *h)
{
	sigaction(SIGBUS, &sb_old, NULL);
	free((void *)(uintptr_t)sb_zero);
	sb_zero = NULL;
	h->running = false;
}

int
bl_start(struct bl_handler *h)
{
	pthread_attr_t attr;
	cpu_set_t cpus;
	int ret;

	if (h->kind == BL_SIGBUS)
		return sb_start(h);
	h->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->stopfd < 0)
		return -errno;
	CPU_ZERO(&cpus);
	CPU_SET(h->cpu, &cpus);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	ret = pthread_create(&h->th, &attr, handler_main, h);
	pthread_attr_destroy(&attr);
	if (ret != 0) {
		close(h->stopfd);
		return -ret;
	}
	h->running = true;
	return 0;
}

void
bl_stop(struct bl_handler *h)
{
	uint64_t one = 1;

	if (!h->running)
		return;
	if (h->kind == BL_SIGBUS) {
		sb_stop(h);
		return;
	}
	if (write(h->stopfd, &one, sizeof(one)) != sizeof(one))
		h->errors++;
	pthread_join(h->th, NULL);
	close(h->stopfd);
	h->running = false;
}
