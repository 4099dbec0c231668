/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-pagerd criu: serve one CRIU lazy restore (docs/pagerd.md), in place
 * of `criu lazy-pages -D DIR [-W DIR]`.
 *
 * The restorer connects to lazy-pages.socket in the work dir once, for all
 * tasks: per task a 4-byte image pid (a plain send), then one byte with the
 * task's userfaultfd by SCM_RIGHTS; a zombie sends -pid and no fd; after the
 * last task the value RSTF. EOF before RSTF means the restore failed.
 *
 * Each uffd becomes a PFDK uffd device with one queue, exactly as in the
 * firecracker mode (pagerd_q_adopt), with unknown_zero=1: every LAZY entry
 * of pagemap-<pid>.img is a MISSING region over an image store of its
 * pages in pages-<id>.img, and a registered page no entry covers gets
 * UFFDIO_ZEROPAGE (never touched before the dump: zero). The driver's
 * region table is the runtime-to-image map: REMAP moves a range keeping its
 * store offsets, UNMAP drops it. A FORK child gets its own device with a
 * copy of the table, so it shares the parent's image view.
 *
 * After RSTF, once a task went --push-idle without a fault, its remaining
 * pages are pushed in the background (push.c), 2 MiB per UFFDIO_COPY with
 * DONTWAKE and one UFFDIO_WAKE per range, only in loop passes that
 * answered no fault (real faults first). A task whose
 * pages are all present is closed; ESRCH says its process is gone. The
 * daemon exits 0 once no task is left, as criu lazy-pages does.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/userfaultfd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "pfdk_store.h"
#include "pfdk_uffd.h"
#include "criu_img.h"
#include "pagerd.h"

#define RSTF 0x52535446 /* "RSTF": every task is restored */
#define MAX_TASKS 64 /* PFDK_FAULT_MAX_DEVS */
#define MAX_FDS 4
#define MAX_PAGEMAP (64u << 20) /* bytes of one pagemap image */
#define REPLAY_STEPS 32 /* replay fills between two queue passes */

enum { EV_LISTEN, EV_SIGNAL, EV_CONN, EV_QUEUE };

/* One task's images: shared by the task and its fork children. */
struct img {
	int refs;
	int vpid;
	uint8_t *pages;         /* pages-<id>.img, a private read-only copy */
	size_t pages_len;
	size_t map_len;         /* of the mapping (pages_len rounded up, > 0) */
	struct pagerd_pagemap_entry *e;
	struct pfdk_store **stores; /* per entry; NULL: not LAZY */
	int n;
	struct pfdk_store *zero;
	/*
	 * Working set (record and replay): the pages that faulted during
	 * this restore, saved beside the images when the last task of the
	 * image ends; the last restore's, installed first (replay).
	 */
	struct pagerd_ws rec;   /* faulted now: image addresses */
	struct pagerd_ws play;  /* recorded before: installed in its order, in runs */
	uint32_t play_next;     /* next page of play to install */
	bool moved;             /* a task remapped memory: runtime != image addresses */
	uint64_t replayed;      /* pages replay installed */
	/* What replay installed, [s, e) runs: the push steps over them. */
	struct run { uint64_t s, e; } *inst;
	uint32_t ninst, capinst;
	bool inst_merged;       /* sorted and merged (replay is done) */
};

struct task {
	struct pagerd_q q;
	struct img *img;
	unsigned int id;
	int qfd;
	struct pagerd_push push; /* background push, after RSTF and --push-idle */
	bool replays;           /* installs its image's recorded working set (now) */
	bool replayer;          /* did or does: its log line counts the image's */
};

static struct {
	const char *dir;
	int ep, lsock, sigfd, conn;
	bool conn_seen, rstf, failed, stop;
	struct task *tasks[MAX_TASKS];
	struct img *preload[MAX_TASKS]; /* loaded before listening; one reference each */
	unsigned int ntasks, next_id, rr, npreload;
	uint8_t in[4];          /* the pid being received */
	size_t have;
	bool want_fd;
	int32_t pid;
} c = { .ep = -1, .lsock = -1, .sigfd = -1, .conn = -1 };

static int tags[4] = { EV_LISTEN, EV_SIGNAL, EV_CONN, EV_QUEUE };

bool pagerd_criu_ws = true;

static int
ep_add(int fd, int kind)
{
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = &tags[kind] };

	return epoll_ctl(c.ep, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

/* Read a whole regular file into private anonymous memory (read-only). */
static int
load_file(const char *path, size_t max, uint8_t **out, size_t *len, size_t *map_len)
{
	struct stat st;
	size_t off = 0, ml;
	uint8_t *m;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		close(fd);
		return -EINVAL;
	}
	*len = (size_t)st.st_size;
	ml = RTE_ALIGN_CEIL(*len + 1, PAGERD_CRIU_PAGE);
	m = mmap(NULL, ml, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		close(fd);
		return -ENOMEM;
	}
	while (off < *len) {
		n = read(fd, m + off, *len - off);
		if (n <= 0) {
			close(fd);
			munmap(m, ml);
			return n < 0 ? -errno : -EIO; /* shrank while read */
		}
		off += (size_t)n;
	}
	close(fd);
	mprotect(m, ml, PROT_READ);
	*out = m;
	*map_len = ml;
	return 0;
}

/* Where image @p im's working-set trace lives. */
static void
ws_path(const struct img *im, char *path, size_t len)
{
	snprintf(path, len, "%s/pfdk-ws-%d.trace", c.dir, im->vpid);
}

/*
 * The image's last task is gone: save what replay installed (in its
 * order: the next restore needs it as much, as early) and then what
 * faulted, unless an address no longer named the image's page (a REMAP)
 * or nothing faulted at all.
 */
static void
ws_finish(struct img *im)
{
	struct pagerd_ws all = { 0 };
	char path[4300];
	uint32_t i;
	int ret = 0;

	if (!pagerd_criu_ws)
		return;
	ws_path(im, path, sizeof(path));
	if (im->moved) {
		LOG("task %d: working set not recorded: the task moved memory (mremap), so fault addresses are not image addresses",
		    im->vpid);
		return;
	}
	for (i = 0; ret == 0 && i < im->play_next; i++)
		ret = pagerd_ws_note(&all, im->play.pages[i], PAGERD_CRIU_PAGE);
	for (i = 0; ret == 0 && i < im->rec.n; i++)
		ret = pagerd_ws_note(&all, im->rec.pages[i], PAGERD_CRIU_PAGE);
	if (ret == 0 && all.n == 0) {
		pagerd_ws_free(&all);
		return;
	}
	if (ret == 0)
		ret = pagerd_ws_save(path, &all);
	if (ret < 0)
		LOG("task %d: working set: %s: %s (the next restore faults them again)",
		    im->vpid, path, strerror(-ret));
	else
		LOG("task %d: working set: %u page(s) recorded to %s", im->vpid, all.n, path);
	pagerd_ws_free(&all);
}

static void
img_put(struct img *im)
{
	int i;

	if (im == NULL || --im->refs > 0)
		return;
	ws_finish(im);
	pagerd_ws_free(&im->rec);
	pagerd_ws_free(&im->play);
	free(im->inst);
	for (i = 0; i < im->n; i++)
		if (im->stores != NULL && im->stores[i] != NULL && im->stores[i] != im->zero)
			pfdk_store_free(im->stores[i]);
	pfdk_store_free(im->zero);
	if (im->pages != NULL)
		munmap(im->pages, im->map_len);
	free(im->stores);
	free(im->e);
	free(im);
}

/* pagemap-<vpid>.img and its pages-<id>.img; NULL (logged) if refused. */
static struct img *
img_load(int vpid)
{
	char path[4200], err[160];
	uint8_t *pm = NULL;
	size_t pm_len = 0, pm_map = 0, max;
	uint32_t pages_id = 0;
	struct img *im;
	int i, n, ret;
	bool present = false;

	im = calloc(1, sizeof(*im));
	if (im == NULL)
		return NULL;
	im->refs = 1;
	im->vpid = vpid;
	snprintf(path, sizeof(path), "%s/pagemap-%d.img", c.dir, vpid);
	ret = load_file(path, MAX_PAGEMAP, &pm, &pm_len, &pm_map);
	if (ret < 0) {
		LOG("task %d: %s: %s", vpid, path, strerror(-ret));
		goto fail;
	}
	max = pm_len / 4 + 1; /* every entry takes more than 4 bytes */
	im->e = calloc(max, sizeof(*im->e));
	if (im->e == NULL)
		goto fail;
	n = pagerd_pagemap_parse(pm, pm_len, &pages_id, im->e, max, err, sizeof(err));
	munmap(pm, pm_map);
	pm = NULL;
	if (n < 0) {
		LOG("task %d: %s: %s", vpid, path, err);
		goto fail;
	}
	im->n = n;
	for (i = 0; i < n; i++) {
		if (im->e[i].flags & PAGERD_PE_PARENT) {
			LOG("task %d: entry at %#" PRIx64 " is in a parent image (pre-dump): not served",
			    vpid, im->e[i].vaddr);
			goto fail;
		}
		present = present || (im->e[i].flags & PAGERD_PE_PRESENT);
	}
	snprintf(path, sizeof(path), "%s/pages-%u.img", c.dir, pages_id);
	ret = load_file(path, SIZE_MAX / 2, &im->pages, &im->pages_len, &im->map_len);
	if (ret < 0 && (present || ret != -ENOENT)) {
		LOG("task %d: %s: %s", vpid, path, strerror(-ret));
		goto fail;
	}
	im->zero = pfdk_store_zero_create();
	im->stores = calloc((size_t)n + 1, sizeof(*im->stores));
	if (im->zero == NULL || im->stores == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		const struct pagerd_pagemap_entry *e = &im->e[i];
		uint64_t len = e->nr_pages * PAGERD_CRIU_PAGE;

		if (!(e->flags & PAGERD_PE_LAZY))
			continue; /* the restorer filled these itself */
		if (!(e->flags & PAGERD_PE_PRESENT)) {
			im->stores[i] = im->zero;
			continue;
		}
		if (e->pages_off > im->pages_len || len > im->pages_len - e->pages_off) {
			LOG("task %d: entry at %#" PRIx64 " (%" PRIu64 " pages) ends past %s (%zu bytes)",
			    vpid, e->vaddr, e->nr_pages, path, im->pages_len);
			goto fail;
		}
		im->stores[i] = pfdk_store_image_from_memory(im->pages + e->pages_off, len);
		if (im->stores[i] == NULL)
			goto fail;
	}
	if (pagerd_criu_ws) {
		ws_path(im, path, sizeof(path));
		if (pagerd_ws_load(path, PAGERD_CRIU_PAGE, &im->play) == 0 && im->play.n != 0)
			LOG("task %d: replaying a working set of %u page(s) from %s", vpid,
			    im->play.n, path);
	}
	return im;
fail:
	if (pm != NULL)
		munmap(pm, pm_map);
	img_put(im);
	return NULL;
}

static void
task_free(struct task *t, const char *why)
{
	struct pfdk_uffd_stats st = { 0 };
	struct pfdk_fault_stats fs = { 0 };
	unsigned int i;

	if (t->q.up) {
		pfdk_uffd_stats_get(t->q.dev, &st);
		pfdk_fault_stats_get(t->q.dev, &fs);
	}
	if (t->img != NULL && st.ev_remap != 0)
		t->img->moved = true;
	if (t->qfd >= 0)
		epoll_ctl(c.ep, EPOLL_CTL_DEL, t->qfd, NULL);
	pagerd_q_close(&t->q);
	/*
	 * Every fault the kernel raised, whoever filled it: a fill that raced
	 * a replay or the push finds the page present.
	 */
	LOG("task %d (device %u): %s; %" PRIu64 " faults (%" PRIu64 " copied, %" PRIu64
	    " zero, %" PRIu64 " present already), %" PRIu64 " pages replayed, %" PRIu64
	    " pages pushed; state freed",
	    t->img != NULL ? t->img->vpid : 0, t->id, why, fs.received, st.copies,
	    st.zeropages + st.unknown, st.exists, t->replayer ? t->img->replayed : 0,
	    t->push.pushed);
	img_put(t->img);
	pagerd_push_free(&t->push);
	for (i = 0; i < MAX_TASKS; i++)
		if (c.tasks[i] == t)
			c.tasks[i] = NULL;
	c.ntasks--;
	free(t);
}

/* A slot and a task around queue @p q's device (already set up). */
static struct task *
task_new(void)
{
	struct task *t;
	int i;

	for (i = 0; i < MAX_TASKS && c.tasks[i] != NULL; i++)
		;
	if (i == MAX_TASKS)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->qfd = -1;
	t->id = c.next_id++;
	c.tasks[i] = t;
	c.ntasks++;
	return t;
}

static int
task_start(struct task *t)
{
	int ret = pfdk_fault_start(t->q.dev);

	if (ret == 0) {
		t->qfd = pfdk_fault_queue_fd(t->q.dev, 0);
		ret = t->qfd < 0 ? t->qfd : ep_add(t->qfd, EV_QUEUE);
		if (ret < 0)
			t->qfd = -1;
	}
	return ret;
}

/* Record: a fault of the task's image (runtime = image address until a REMAP). */
static void
task_note(void *arg, const struct pfdk_fault *f)
{
	struct task *t = arg;

	if (pagerd_ws_note(&t->img->rec, f->addr, PAGERD_CRIU_PAGE) < 0)
		t->img->moved = true; /* no memory for it: record nothing rather than part */
}

/*
 * Load every task's images before the socket exists: reading 64 MiB of
 * pages when a task's uffd arrives took the restorer's CPU and doubled the
 * time until the process resumed (2 vCPUs). What cannot be loaded now is
 * tried again, and refused, when its task arrives.
 */
static void
preload_images(void)
{
	struct dirent *de;
	char name[32];
	DIR *d;
	int vpid;

	d = opendir(c.dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && c.npreload < MAX_TASKS) {
		if (sscanf(de->d_name, "pagemap-%d.img", &vpid) != 1 || vpid <= 0)
			continue;
		snprintf(name, sizeof(name), "pagemap-%d.img", vpid);
		if (strcmp(name, de->d_name) != 0)
			continue; /* pagemap-shmem-*, a leading zero, a suffix */
		c.preload[c.npreload] = img_load(vpid);
		if (c.preload[c.npreload] != NULL)
			c.npreload++;
	}
	closedir(d);
}

/* Task @p vpid's images: preloaded (a new reference), else loaded now. */
static struct img *
img_get(int vpid)
{
	unsigned int i;

	for (i = 0; i < c.npreload; i++)
		if (c.preload[i]->vpid == vpid) {
			c.preload[i]->refs++;
			return c.preload[i];
		}
	return img_load(vpid);
}

/* A task's uffd arrived: serve its lazy areas from its images. */
static void
task_add(int vpid, int fd)
{
	char extra[64];
	struct img *im;
	struct task *t;
	int i, ret;

	if (!pagerd_is_userfaultfd(fd)) {
		LOG("task %d: the fd sent is not a userfaultfd", vpid);
		close(fd);
		c.failed = true;
		return;
	}
	im = img_get(vpid);
	t = im != NULL ? task_new() : NULL;
	if (t == NULL) {
		if (im != NULL)
			LOG("task %d: more than %d tasks", vpid, MAX_TASKS);
		img_put(im);
		close(fd); /* unregisters its areas: the task sees zeros, never hangs */
		c.failed = true;
		return;
	}
	t->img = im;
	/*
	 * register=0: the restorer registers each lazy area itself, once it
	 * is mapped in place, which is after it sent this uffd (criu 3.17's
	 * restorer blob): a register of ours would find nothing mapped there.
	 */
	snprintf(extra, sizeof(extra), "unknown_zero=1,register=0,fault_around=%u",
		 pagerd_fault_around);
	ret = pagerd_q_adopt(&t->q, fd, t->id, extra);
	if (!t->q.up) {
		LOG("task %d: device uffd%u,fd=%d: %s", vpid, t->id, fd, strerror(-ret));
		close(fd);
	}
	for (i = 0; ret == 0 && i < im->n; i++)
		if (im->stores[i] != NULL)
			ret = pfdk_uffd_region_register(t->q.dev, (void *)(uintptr_t)im->e[i].vaddr,
							im->e[i].nr_pages * PAGERD_CRIU_PAGE,
							PFDK_UFFD_MODE_MISSING, im->stores[i],
							PAGERD_CRIU_PAGE);
	if (ret == 0 && pagerd_criu_ws) {
		t->q.note = task_note;
		t->q.note_arg = t;
		t->replays = im->play.n != 0;
		t->replayer = t->replays;
	}
	if (ret == 0)
		ret = task_start(t);
	if (ret < 0) {
		LOG("task %d: setting up its device: %s", vpid, strerror(-ret));
		c.failed = true;
		task_free(t, "refused");
		return;
	}
	LOG("task %d: serving %d pagemap entries on device %u", vpid, im->n, t->q.dev);
}

/* FORK events the task's device read: each child shares its image view. */
static void
adopt_forks(struct task *parent)
{
	char name[32];
	struct task *t;
	int id;

	for (;;) {
		snprintf(name, sizeof(name), "uffd%u", c.next_id);
		id = pfdk_uffd_fork_adopt(parent->q.dev, name);
		if (id == -EAGAIN)
			return;
		t = id >= 0 ? task_new() : NULL; /* takes c.next_id, the name's */
		if (t == NULL) {
			if (id >= 0)
				pfdk_fault_close((uint16_t)id); /* wakes the child's faulters */
			else
				c.next_id++;
			LOG("task %d: fork child not served (%s): it sees zero pages",
			    parent->img->vpid, id >= 0 ? "too many tasks" : strerror(-id));
			continue;
		}
		t->img = parent->img;
		t->img->refs++;
		if (pagerd_criu_ws) {
			/* A child's addresses are its parent's: the same image view. */
			t->q.note = task_note;
			t->q.note_arg = t;
		}
		if (pagerd_q_setup(&t->q, (uint16_t)id) < 0 || task_start(t) < 0) {
			task_free(t, "fork child: device setup failed");
			continue;
		}
		LOG("task %d: fork child on device %u shares its images", parent->img->vpid,
		    t->q.dev);
	}
}

/* Note run [s, e) as installed by replay; without memory, the push just steps over less. */
static void
inst_note(struct img *im, uint64_t s, uint64_t e)
{
	if (im->ninst > 0 && im->inst[im->ninst - 1].e == s) {
		im->inst[im->ninst - 1].e = e;
		return;
	}
	if (im->ninst == im->capinst) {
		uint32_t cap = im->capinst != 0 ? im->capinst * 2 : 256;
		void *p = realloc(im->inst, (size_t)cap * sizeof(*im->inst));

		if (p == NULL)
			return;
		im->inst = p;
		im->capinst = cap;
	}
	im->inst[im->ninst++] = (struct run){ s, e };
}

static int
cmp_run(const void *a, const void *b)
{
	const struct run *x = a, *y = b;

	return x->s < y->s ? -1 : x->s > y->s;
}

/*
 * The push's present_until() for a task that replayed: the end of the
 * replayed run holding @p addr. Its runtime addresses are the image's
 * until it moves memory; after that nothing is claimed. A page replay
 * installed stays present: a REMOVE or UNMAP takes it out of the region
 * table, so the sweep never comes to it.
 */
static uint64_t
inst_until(void *arg, uint64_t addr)
{
	struct img *im = arg;
	uint32_t lo = 0, hi, i, w;

	if (im->moved || im->ninst == 0)
		return addr;
	if (!im->inst_merged) {
		qsort(im->inst, im->ninst, sizeof(*im->inst), cmp_run);
		for (i = 1, w = 0; i < im->ninst; i++) {
			if (im->inst[i].s <= im->inst[w].e)
				im->inst[w].e = RTE_MAX(im->inst[w].e, im->inst[i].e);
			else
				im->inst[++w] = im->inst[i];
		}
		im->ninst = w + 1;
		im->inst_merged = true;
	}
	hi = im->ninst;
	while (lo < hi) { /* the first run that ends after addr */
		i = lo + (hi - lo) / 2;
		if (im->inst[i].e <= addr)
			lo = i + 1;
		else
			hi = i;
	}
	return lo < im->ninst && im->inst[lo].s <= addr ? im->inst[lo].e : addr;
}

/*
 * Replay: install the next run of the recorded working set, up to
 * PAGERD_PUSH_BYTES of consecutive pages within one LAZY entry with data, with
 * one UFFDIO_COPY (DONTWAKE) and one WAKE for the range. Runs before RSTF
 * too, in passes that answered no fault: the point is to be there before
 * the process asks. Before the task moves memory, its runtime addresses
 * are the image's. @return 1 progress, 0 nothing left, -ESRCH the process
 * is gone, -EAGAIN an event is pending, -EBUSY the area is not registered
 * yet (before RSTF).
 */
static int
replay_step(struct task *t)
{
	struct img *im = t->img;
	const struct pagerd_pagemap_entry *e = NULL;
	uint64_t a, end, last, len, done = 0;
	uint32_t j;
	int i, ret;

	while (im->play_next < im->play.n) {
		a = im->play.pages[im->play_next];
		for (i = 0; i < im->n; i++)
			if (im->stores[i] != NULL && im->stores[i] != im->zero &&
			    a >= im->e[i].vaddr &&
			    a - im->e[i].vaddr < im->e[i].nr_pages * PAGERD_CRIU_PAGE) {
				e = &im->e[i];
				break;
			}
		if (e != NULL)
			break;
		im->play_next++; /* not a page with data in this image: its fault zero-fills */
	}
	if (e == NULL || im->moved)
		return 0;
	/*
	 * The run: consecutive recorded pages in the same entry, and after
	 * the last the --fault-around pages its fault filled in the recorded
	 * restore (the trace holds fault addresses only).
	 */
	end = e->vaddr + e->nr_pages * PAGERD_CRIU_PAGE;
	last = a;
	for (j = im->play_next + 1; j < im->play.n && im->play.pages[j] == last + PAGERD_CRIU_PAGE &&
	     im->play.pages[j] < end && im->play.pages[j] + PAGERD_CRIU_PAGE - a <= PAGERD_PUSH_BYTES;
	     j++)
		last = im->play.pages[j];
	len = RTE_MIN(RTE_MIN(last + (1 + (uint64_t)pagerd_fault_around) * PAGERD_CRIU_PAGE, end),
		      a + PAGERD_PUSH_BYTES) - a;
	ret = pagerd_fill_wake(pfdk_uffd_fd(t->q.dev), a, im->pages + e->pages_off + (a - e->vaddr),
			       len, &done);
	im->replayed += done / PAGERD_CRIU_PAGE;
	if (done > 0)
		inst_note(im, a, a + done);
	if (ret != 0 && ret != EAGAIN && ret != ESRCH && (c.rstf || (ret != ENOENT && ret != EINVAL)))
		done += PAGERD_CRIU_PAGE; /* skip the page that failed, if it is recorded */
	while (im->play_next < im->play.n && im->play.pages[im->play_next] >= a &&
	       im->play.pages[im->play_next] < a + done)
		im->play_next++;
	switch (ret) {
	case 0:
		return 1;
	case EAGAIN: /* an event first (the table may change) */
		return -EAGAIN;
	case ESRCH:
		return -ESRCH;
	case ENOENT:
	case EINVAL:
		/*
		 * Before RSTF: the restorer has not mapped and registered the
		 * area yet (it sends the uffd first). Try again shortly. After
		 * RSTF it was unmapped since: skip that page.
		 */
		return c.rstf ? 1 : -EBUSY;
	default:
		/* EEXIST (faulted first), other: that page is skipped (above). */
		return 1;
	}
}

/*
 * Replay steps for the first task that has some to do: up to REPLAY_STEPS
 * runs (a recorded set of scattered pages is one fill per page, and a
 * queue pass between every two would cost more than the fill), or until
 * PAGERD_PUSH_BYTES were installed. @return progress; *@p wait_ms lowered
 * to 1 while a task waits for its restorer to register its areas.
 */
static bool
replay_some(int *wait_ms)
{
	unsigned int k, steps;
	uint64_t before;
	int ret;

	for (k = 0; k < MAX_TASKS; k++) {
		struct task *t = c.tasks[k];

		if (t == NULL || !t->replays)
			continue;
		before = t->img->replayed;
		steps = 0;
		do
			ret = replay_step(t);
		while (ret == 1 && ++steps < REPLAY_STEPS &&
		       (t->img->replayed - before) * PAGERD_CRIU_PAGE < PAGERD_PUSH_BYTES);
		if (ret == 1)
			return true;
		if (ret == -EBUSY) {
			if (*wait_ms < 0 || *wait_ms > 1)
				*wait_ms = 1;
			continue;
		}
		if (ret == 0) {
			t->replays = false;
			/* Its push steps over what replay installed (the replayer's memory only). */
			t->push.present_until = inst_until;
			t->push.present_arg = t->img;
			LOG("task %d: working set replayed: %" PRIu64 " page(s) installed",
			    t->img->vpid, t->img->replayed);
			continue;
		}
		if (ret == -EAGAIN)
			pfdk_fault_queue_service(t->q.dev, 0, true);
		else if (ret == -ESRCH)
			task_free(t, "process gone");
		return true;
	}
	return false;
}

/*
 * One push step for the next task in turn that went --push-idle without a
 * fault. @return true if one progressed; *@p wait_ms lowered to when the
 * next quiet task's push may start.
 */
static bool
push_some(int *wait_ms)
{
	uint64_t now = pagerd_now_ms();
	unsigned int k;
	int ret;

	for (k = 0; k < MAX_TASKS; k++) {
		struct task *t = c.tasks[(c.rr + k) % MAX_TASKS];

		if (t == NULL || !pagerd_push_due(&t->push, &t->q, now, wait_ms))
			continue;
		c.rr = (c.rr + k + 1) % MAX_TASKS;
		ret = pagerd_push_step(&t->push, t->q.dev);
		if (ret == -EAGAIN) {
			pfdk_fault_queue_service(t->q.dev, 0, true);
			return true;
		}
		if (ret == -ESRCH) {
			task_free(t, "process gone");
			return true;
		}
		if (ret == 0) {
			task_free(t, "every page delivered");
			return true;
		}
		if (ret < 0) {
			LOG("task %d: background fill: %s", t->img->vpid, strerror(-ret));
			c.failed = true;
			task_free(t, "background fill failed");
			return true;
		}
		return true;
	}
	return false;
}

/*
 * RSTF: the push's quiet time counts from now (the restorer faults
 * nothing). A task that replays a recorded working set pushes at once:
 * what it needs first is known, there is nothing left to learn by waiting.
 */
static void
rstf_quiet(void)
{
	uint64_t now = pagerd_now_ms();
	unsigned int k;

	for (k = 0; k < MAX_TASKS; k++)
		if (c.tasks[k] != NULL) {
			c.tasks[k]->q.quiet_since = now;
			c.tasks[k]->push.started = c.tasks[k]->replayer;
		}
}

static void
conn_close(void)
{
	if (c.conn >= 0) {
		epoll_ctl(c.ep, EPOLL_CTL_DEL, c.conn, NULL);
		close(c.conn);
		c.conn = -1;
	}
}

/* The restore is over without RSTF: log, and stop serving. */
static void
restore_failed(const char *why)
{
	LOG("restore failed: %s", why);
	conn_close();
	c.failed = true;
	c.stop = true;
}

static void
conn_read(void)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * MAX_FDS)];
	} cm;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmh;
	int fds[MAX_FDS], nfds, i;
	ssize_t got;
	char b;
	size_t k;

	for (;;) {
		if (c.rstf) {
			char sink[64];

			got = recv(c.conn, sink, sizeof(sink), MSG_DONTWAIT);
			if (got < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			if (got > 0)
				LOG("bytes after RSTF: connection closed (the restore is not affected)");
			conn_close();
			return;
		}
		if (!c.want_fd) {
			got = recv(c.conn, c.in + c.have, sizeof(c.in) - c.have, MSG_DONTWAIT);
			if (got < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			if (got <= 0) {
				restore_failed(got == 0 ? "the restorer closed the connection before RSTF" :
					       strerror(errno));
				return;
			}
			c.have += (size_t)got;
			if (c.have < sizeof(c.in))
				continue;
			c.have = 0;
			memcpy(&c.pid, c.in, sizeof(c.pid));
			if (c.pid == RSTF) {
				LOG("RSTF: every task is restored; the remaining pages of %u task(s) follow once each went %u ms without a fault",
				    c.ntasks, pagerd_push_idle);
				c.rstf = true;
				rstf_quiet();
			} else if (c.pid < 0 && c.pid != INT32_MIN) {
				LOG("task %d: a zombie, nothing to serve", -c.pid);
			} else if (c.pid == 0 || c.pid == INT32_MIN) {
				restore_failed("malformed message (pid 0)");
				return;
			} else {
				c.want_fd = true;
			}
			continue;
		}
		iov.iov_base = &b;
		iov.iov_len = 1;
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof(cm.b);
		got = recvmsg(c.conn, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (got < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		nfds = 0;
		for (cmh = got < 0 ? NULL : CMSG_FIRSTHDR(&mh); cmh != NULL; cmh = CMSG_NXTHDR(&mh, cmh)) {
			if (cmh->cmsg_level != SOL_SOCKET || cmh->cmsg_type != SCM_RIGHTS)
				continue;
			for (k = 0; k < (cmh->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++) {
				int fd;

				memcpy(&fd, CMSG_DATA(cmh) + k * sizeof(int), sizeof(fd));
				if (nfds < MAX_FDS)
					fds[nfds++] = fd;
				else
					close(fd);
			}
		}
		if (got <= 0 || nfds != 1 || (mh.msg_flags & MSG_CTRUNC)) {
			for (i = 0; i < nfds; i++)
				close(fds[i]);
			if (got == 0)
				restore_failed("the restorer closed the connection before RSTF");
			else if (got < 0)
				restore_failed(strerror(errno));
			else {
				LOG("task %d: malformed message: %d fds with its byte, want one userfaultfd",
				    c.pid, nfds);
				restore_failed("malformed message");
			}
			return;
		}
		c.want_fd = false;
		task_add(c.pid, fds[0]);
	}
}

static void
do_accept(void)
{
	struct ucred cr;
	int s;

	s = pagerd_accept_peer(c.lsock, &cr);
	if (s < 0)
		return;
	if (c.conn_seen) {
		LOG("peer pid %d: one restore per daemon, it is served already; connection closed",
		    (int)cr.pid);
		close(s);
		return;
	}
	c.conn_seen = true;
	c.conn = s;
	if (ep_add(s, EV_CONN) < 0)
		restore_failed("epoll");
	else
		LOG("restorer pid %d uid %u connected", (int)cr.pid, (unsigned int)cr.uid);
}

int
pagerd_criu_run(const char *img_dir, const char *work_dir)
{
	struct epoll_event ev[64];
	char path[4200];
	unsigned int work;
	sigset_t ss;
	int i, n, timeout;

	c.dir = img_dir;
	preload_images();
	snprintf(path, sizeof(path), "%s/lazy-pages.socket", work_dir);
	c.lsock = pagerd_listen(path);
	if (c.lsock < 0)
		return 1;
	sigemptyset(&ss);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	c.sigfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
	c.ep = epoll_create1(EPOLL_CLOEXEC);
	if (c.sigfd < 0 || c.ep < 0 || ep_add(c.lsock, EV_LISTEN) < 0 ||
	    ep_add(c.sigfd, EV_SIGNAL) < 0) {
		LOG("epoll/signalfd: %s", strerror(errno));
		return 1;
	}
	LOG("criu: serving the images in %s on %s (%u task image(s) loaded)", img_dir, path,
	    c.npreload);
	while (!c.stop && !(c.rstf && c.ntasks == 0)) {
		uint64_t now = pagerd_now_us();

		work = 0;
		timeout = -1;
		for (i = 0; i < MAX_TASKS; i++) {
			struct task *t = c.tasks[i];

			if (t == NULL)
				continue;
			work += pagerd_q_pass(&t->q);
			adopt_forks(t);
			if (pagerd_q_busy(&t->q) || pagerd_q_hot(&t->q, now))
				timeout = 0;
		}
		/*
		 * Real faults first: replay (before RSTF too) and then the push
		 * run in passes that answered none.
		 */
		if (work == 0 && replay_some(&timeout))
			timeout = 0;
		else if (c.rstf && work == 0 && push_some(&timeout))
			timeout = 0;
		n = epoll_wait(c.ep, ev, (int)RTE_DIM(ev), work > 0 || pagerd_spin ? 0 : timeout);
		if (n < 0 && errno != EINTR) {
			LOG("epoll_wait: %s", strerror(errno));
			c.failed = true;
			break;
		}
		for (i = 0; i < n; i++) {
			int kind = *(int *)ev[i].data.ptr;

			if (kind == EV_LISTEN)
				do_accept();
			else if (kind == EV_SIGNAL) {
				LOG("signal: stopping");
				c.stop = true;
				if (c.ntasks > 0)
					c.failed = true;
			} else if (kind == EV_CONN && c.conn >= 0)
				conn_read();
			/* EV_QUEUE only wakes the loop: the next pass serves it. */
		}
	}
	for (i = 0; i < MAX_TASKS; i++)
		if (c.tasks[i] != NULL)
			task_free(c.tasks[i], "daemon stopping");
	/* The last reference of a served image: its working set is saved now. */
	while (c.npreload > 0)
		img_put(c.preload[--c.npreload]);
	conn_close();
	close(c.lsock);
	unlink(path);
	close(c.sigfd);
	close(c.ep);
	LOG("criu: %s", c.failed ? "the restore failed or was cut short" :
	    "every page delivered");
	return c.failed ? 1 : 0;
}
