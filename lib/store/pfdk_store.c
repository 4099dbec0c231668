/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Backing stores. Every store is immutable after its constructor returns,
 * which is what makes pfdk_store_lookup() lock-free and safe to call from
 * resolver lcores and (later) from a SIGBUS handler.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "pfdk_store.h"

#include <rte_log.h>
#define RTE_LOG_DEFAULT_LOGTYPE pfdk
RTE_LOG_REGISTER_SUFFIX(pfdk_store_logtype, store, INFO);

struct pfdk_store {
	enum pfdk_store_kind kind;
	uint64_t seed;           /* pattern */
	const uint8_t *base;     /* image */
	size_t size;             /* image bytes */
	void *owned;             /* image memory to release, or NULL */
	size_t owned_len;        /* mmap length (0: rte_malloc'd) */
	pfdk_store_fill_t fill;  /* callback */
	void *ctx;               /* callback */
};

static struct pfdk_store *
store_new(enum pfdk_store_kind kind)
{
	struct pfdk_store *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	s->kind = kind;
	return s;
}

struct pfdk_store *
pfdk_store_zero_create(void)
{
	return store_new(PFDK_STORE_KIND_ZERO);
}

struct pfdk_store *
pfdk_store_pattern_create(uint64_t seed)
{
	struct pfdk_store *s = store_new(PFDK_STORE_KIND_PATTERN);

	if (s != NULL)
		s->seed = seed;
	return s;
}

struct pfdk_store *
pfdk_store_image_from_memory(const void *base, size_t len)
{
	struct pfdk_store *s;

	if (base == NULL && len != 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	s = store_new(PFDK_STORE_KIND_IMAGE);
	if (s != NULL) {
		s->base = base;
		s->size = len;
	}
	return s;
}

static int
read_all(int fd, uint8_t *dst, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, dst + done, len - done, (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

struct pfdk_store *
pfdk_store_image_create(const char *path, int socket_id)
{
	struct pfdk_store *s = NULL;
	struct stat st;
	void *mem;
	int fd, err;

	if (path == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rte_errno = errno;
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err = EINVAL;
		goto fail;
	}
	s = store_new(PFDK_STORE_KIND_IMAGE);
	if (s == NULL) {
		err = ENOMEM;
		goto fail;
	}
	s->size = (size_t)st.st_size;
	if (s->size == 0)
		goto done; /* an empty image: every page reads as zero */
	/*
	 * The store owns a copy: a mapping of the file itself would SIGBUS
	 * the whole process on the next lookup once anyone truncates the
	 * file (and would serve bytes written after the load). Hugepage
	 * memory when the EAL has it: a restore touches the whole image,
	 * and 2 MiB TLB entries make UFFDIO_COPY's source reads cheap.
	 */
	mem = NULL;
	if (rte_eal_has_hugepages())
		mem = rte_malloc_socket("pfdk_store_image", s->size,
					RTE_PGSIZE_2M, socket_id);
	if (mem == NULL) {
		/* Anonymous and prefaulted: a lookup never takes a fault of its own. */
		mem = mmap(NULL, s->size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (mem == MAP_FAILED) {
			err = errno;
			goto fail;
		}
		s->owned_len = s->size;
	}
	if (read_all(fd, mem, s->size) < 0) {
		/* Shorter than fstat said: the file shrank while we read it. */
		err = EIO;
		if (s->owned_len != 0)
			munmap(mem, s->owned_len);
		else
			rte_free(mem);
		goto fail;
	}
	if (s->owned_len != 0)
		mprotect(mem, s->owned_len, PROT_READ); /* immutable, as promised */
	s->owned = mem;
	s->base = mem;
done:
	close(fd);
	return s;
fail:
	free(s);
	close(fd);
	rte_errno = err;
	return NULL;
}

struct pfdk_store *
pfdk_store_callback_create(pfdk_store_fill_t fill, void *ctx)
{
	struct pfdk_store *s;

	if (fill == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	s = store_new(PFDK_STORE_KIND_CALLBACK);
	if (s != NULL) {
		s->fill = fill;
		s->ctx = ctx;
	}
	return s;
}

void
pfdk_store_free(struct pfdk_store *s)
{
	if (s == NULL)
		return;
	if (s->owned != NULL) {
		if (s->owned_len != 0)
			munmap(s->owned, s->owned_len);
		else
			rte_free(s->owned);
	}
	free(s);
}

enum pfdk_store_kind
pfdk_store_kind(const struct pfdk_store *s)
{
	return s->kind;
}

/* splitmix64's finaliser: every input bit moves every output bit. */
static inline uint64_t
pattern_word(uint64_t seed, uint64_t off)
{
	uint64_t z = seed + off * 0x9E3779B97F4A7C15ull;

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static inline void
pattern_fill(uint64_t seed, uint64_t off, void *dst, size_t len)
{
	uint64_t *w = dst;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = pattern_word(seed, off + i * 8);
}

/* Copy image bytes [off, off + len) into dst, zero past the end. */
static void
image_read(const struct pfdk_store *s, uint64_t off, uint8_t *dst, size_t len)
{
	size_t have = 0;

	if (off < s->size)
		have = RTE_MIN(len, (size_t)(s->size - off));
	if (have != 0)
		memcpy(dst, s->base + off, have);
	if (have < len)
		memset(dst + have, 0, len - have);
}

int
pfdk_store_lookup(const struct pfdk_store *s, uint64_t off, size_t len,
		  void *scratch, const void **src)
{
	int ret;

	if (unlikely(len < 8 || (off & (len - 1)) != 0))
		return -EINVAL;
	switch (s->kind) {
	case PFDK_STORE_KIND_ZERO:
		return PFDK_STORE_ZERO;
	case PFDK_STORE_KIND_PATTERN:
		pattern_fill(s->seed, off, scratch, len);
		*src = scratch;
		return PFDK_STORE_DATA;
	case PFDK_STORE_KIND_IMAGE:
		if (off >= s->size)
			return PFDK_STORE_ZERO;
		if (off + len <= s->size) {
			*src = s->base + off; /* no copy: COPY reads the image */
			return PFDK_STORE_DATA;
		}
		image_read(s, off, scratch, len); /* the tail page */
		*src = scratch;
		return PFDK_STORE_DATA;
	case PFDK_STORE_KIND_CALLBACK:
		ret = s->fill(s->ctx, off, scratch, len);
		if (ret == PFDK_STORE_DATA)
			*src = scratch;
		return ret;
	}
	return -EINVAL;
}

int
pfdk_store_read(const struct pfdk_store *s, uint64_t off, void *dst,
		size_t len)
{
	int ret;

	if (s == NULL || dst == NULL || (off & 7) != 0 || (len & 7) != 0)
		return -EINVAL;
	switch (s->kind) {
	case PFDK_STORE_KIND_ZERO:
		memset(dst, 0, len);
		return 0;
	case PFDK_STORE_KIND_PATTERN:
		pattern_fill(s->seed, off, dst, len);
		return 0;
	case PFDK_STORE_KIND_IMAGE:
		image_read(s, off, dst, len);
		return 0;
	case PFDK_STORE_KIND_CALLBACK:
		ret = s->fill(s->ctx, off, dst, len);
		if (ret == PFDK_STORE_ZERO)
			memset(dst, 0, len);
		return ret < 0 ? ret : 0;
	}
	return -EINVAL;
}
