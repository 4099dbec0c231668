/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PAGERD_CRIU_IMG_H
#define PAGERD_CRIU_IMG_H

/**
 * @file
 * CRIU's pagemap-<pid>.img, read without protobuf-c: two little-endian
 * u32 magics (PAGERD_CRIU_MAGIC_COMMON, PAGERD_CRIU_MAGIC_PAGEMAP), then
 * messages, each a u32 length and that many protobuf bytes. The first is
 * pagemap_head { uint32 pages_id = 1; }, the rest pagemap_entry:
 *
 * @code
 *   uint64 vaddr = 1; uint32 nr_pages = 2; bool in_parent = 3;
 *   uint32 flags = 4; uint64 nr_pages (4.x) = 5;
 * @endcode
 *
 * Without flags, in_parent gives PARENT and its absence PRESENT (CRIU's
 * own rule for old images). PRESENT entries' pages lie one after another
 * in pages-<pages_id>.img, so an entry's data starts at the running sum
 * of the PRESENT pages before it. Unknown fields are skipped by their
 * wire type; groups, truncated varints or fields, and varints longer than
 * 10 bytes are refused. One pass, bounded, allocation-free.
 */

#include <stddef.h>
#include <stdint.h>

#define PAGERD_CRIU_MAGIC_COMMON  0x54564319u
#define PAGERD_CRIU_MAGIC_PAGEMAP 0x56084025u

/** @name pagemap_entry flags */
/**@{*/
#define PAGERD_PE_PARENT  1u /**< pages are in the parent image (pre-dump) */
#define PAGERD_PE_LAZY    2u /**< restored lazily: the restorer registers them */
#define PAGERD_PE_PRESENT 4u /**< pages are in pages-<id>.img */
/**@}*/

/** CRIU images use 4 KiB pages. */
#define PAGERD_CRIU_PAGE 4096u

/** One pagemap entry. */
struct pagerd_pagemap_entry {
	uint64_t vaddr;     /**< first byte, page aligned */
	uint64_t nr_pages;  /**< > 0 */
	uint64_t pages_off; /**< byte offset in pages-<id>.img (PRESENT only) */
	uint32_t flags;     /**< PAGERD_PE_* */
};

/**
 * Parse a pagemap image held in memory.
 *
 * @param[out] pages_id
 *   pagemap_head's pages_id.
 * @param[out] out
 *   Up to @p max entries, in file order.
 * @return
 *   Number of entries (0 is valid: nothing dumped), or -EINVAL (bad magic,
 *   malformed message, unaligned or wrapping range, nr_pages 0 or past
 *   2^52, no head), -E2BIG (more than @p max entries); @p err says which
 *   and at what byte.
 */
int pagerd_pagemap_parse(const uint8_t *buf, size_t len, uint32_t *pages_id,
			 struct pagerd_pagemap_entry *out, size_t max,
			 char *err, size_t errlen);

#endif /* PAGERD_CRIU_IMG_H */
