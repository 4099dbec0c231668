/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_STORE_H
#define PFDK_STORE_H

/**
 * @file
 * Backing stores: where the bytes of a faulted page come from.
 *
 * A store maps a byte offset (the page's offset in its region plus the
 * region's offset in the store) to the page's contents. Four kinds:
 *
 * - zero:     every page is zero; a uffd driver resolves it with ZEROPAGE.
 * - image:    a snapshot file, copied at load into memory the store owns
 *             (hugepage memory when the EAL has it, else anonymous memory),
 *             so what happens to the file later (truncation, writes) never
 *             reaches a lookup. Offsets past the end of the file read as zero.
 * - pattern:  bytes derived from the offset and a seed, so a test can
 *             verify every byte of every page (pfdk_store_read()).
 * - callback: the application fills the page.
 *
 * @code
 *   s = pfdk_store_pattern_create(seed)    (or _zero, _image, _callback)
 *   r = pfdk_store_lookup(s, off, len, scratch, &src)   any thread
 *       r == PFDK_STORE_DATA: copy len bytes from src
 *       r == PFDK_STORE_ZERO: the page is zero
 *       r < 0:                the store cannot serve it
 *   pfdk_store_free(s)                     once nothing looks up any more
 * @endcode
 *
 * A store is immutable once created: lookups take no lock, allocate
 * nothing and call nothing but the application's callback, so they may run
 * on any number of lcores at once, and (for the zero, image and pattern
 * kinds) inside a signal handler.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Kinds of store. */
enum pfdk_store_kind {
	PFDK_STORE_KIND_ZERO = 0, /**< all zero */
	PFDK_STORE_KIND_IMAGE,    /**< a snapshot file in memory */
	PFDK_STORE_KIND_PATTERN,  /**< bytes derived from offset and seed */
	PFDK_STORE_KIND_CALLBACK, /**< the application fills pages */
};

/** @name pfdk_store_lookup() results. */
/**@{*/
#define PFDK_STORE_DATA 0 /**< the page's bytes are at *src */
#define PFDK_STORE_ZERO 1 /**< the page is all zero: nothing to copy */
/**@}*/

struct pfdk_store;

/**
 * Application fill function of a callback store. Called on any lcore, for
 * any number of pages at once: it must be thread safe.
 *
 * @param ctx
 *   The ctx given to pfdk_store_callback_create().
 * @param off
 *   Offset of the page in the store (a multiple of @p len).
 * @param[out] dst
 *   @p len bytes to fill, page aligned.
 * @param len
 *   Page size: 4 KiB or 2 MiB.
 * @return
 *   PFDK_STORE_DATA (@p dst filled), PFDK_STORE_ZERO (the page is zero,
 *   @p dst untouched), or a negative errno: the page cannot be served (the
 *   fault is answered INVALID).
 */
typedef int (*pfdk_store_fill_t)(void *ctx, uint64_t off, void *dst,
				 size_t len);

/**
 * A store whose pages are all zero.
 * @return The store, or NULL with rte_errno set (ENOMEM).
 */
struct pfdk_store *pfdk_store_zero_create(void);

/**
 * A verification store: the 8-byte word at offset o (o a multiple of 8)
 * is a 64-bit mix of (@p seed, o), so no two words of a store are likely
 * equal and a page served at the wrong offset is caught.
 * @return The store, or NULL with rte_errno set (ENOMEM).
 */
struct pfdk_store *pfdk_store_pattern_create(uint64_t seed);

/**
 * A snapshot image read from @p path into memory the store owns: with EAL
 * hugepages rte_malloc memory on @p socket_id (TLB-friendly), else
 * prefaulted anonymous memory. The store serves the bytes the file had
 * when it was read: truncating or rewriting the file afterwards changes
 * nothing (a mapping of the file would take SIGBUS after a truncation).
 *
 * @return
 *   The store, or NULL with rte_errno set: ENOENT/EACCES (open), EINVAL
 *   (not a regular file), ENOMEM, EIO (short read: the file shrank while
 *   it was read).
 */
struct pfdk_store *pfdk_store_image_create(const char *path, int socket_id);

/**
 * An image store over memory the caller owns (e.g. a snapshot it mapped
 * itself). @p base must stay valid and unchanged while the store exists.
 * @return The store, or NULL with rte_errno set (EINVAL, ENOMEM).
 */
struct pfdk_store *pfdk_store_image_from_memory(const void *base, size_t len);

/**
 * A store whose pages the application fills with @p fill.
 * @return The store, or NULL with rte_errno set (EINVAL, ENOMEM).
 */
struct pfdk_store *pfdk_store_callback_create(pfdk_store_fill_t fill,
					      void *ctx);

/** Free a store; NULL is a no-op. No region may use it any more. */
void pfdk_store_free(struct pfdk_store *s);

/** The store's kind. */
enum pfdk_store_kind pfdk_store_kind(const struct pfdk_store *s);

/**
 * Where the page at @p off comes from. Lock-free; see the file comment.
 *
 * @param off
 *   Offset of the page in the store, a multiple of @p len.
 * @param len
 *   Page size: a power of two, at least 4 KiB.
 * @param scratch
 *   @p len bytes, page aligned, the caller's own (per thread): pattern and
 *   callback stores build the page there.
 * @param[out] src
 *   With PFDK_STORE_DATA: the page's bytes (in the image, or @p scratch).
 * @return
 *   PFDK_STORE_DATA, PFDK_STORE_ZERO, or a negative errno: -EINVAL (bad
 *   offset or length), or the callback's error.
 */
int pfdk_store_lookup(const struct pfdk_store *s, uint64_t off, size_t len,
		      void *scratch, const void **src);

/**
 * Copy the bytes the store serves for [off, off + len) into @p dst: what a
 * page must contain after it was faulted in. For tests and verification;
 * @p off and @p len need only be multiples of 8.
 * @return 0, or a negative errno as pfdk_store_lookup().
 */
int pfdk_store_read(const struct pfdk_store *s, uint64_t off, void *dst,
		    size_t len);

#ifdef __cplusplus
}
#endif

#endif /* PFDK_STORE_H */
