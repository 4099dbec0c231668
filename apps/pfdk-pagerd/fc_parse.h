/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PAGERD_FC_PARSE_H
#define PAGERD_FC_PARSE_H

/**
 * @file
 * The Firecracker UFFD handshake: one message, a JSON array of guest
 * memory regions (the userfaultfd travels beside it by SCM_RIGHTS):
 *
 * @code
 *   [{"base_host_virt_addr": 140001, "size": 4096, "offset": 0,
 *     "page_size": 4096}, ...]
 * @endcode
 *
 * The page size is "page_size" (v1.12+, bytes), "page_size_kib" (v1.7 to
 * v1.11; bytes despite its name) or absent (v1.6: 4 KiB). The parser
 * accepts exactly this shape and nothing else: unsigned decimal integers,
 * each of the known keys at most once (base_host_virt_addr, size and
 * offset required), no other key, no trailing bytes, at most
 * PAGERD_FC_MAX_REGIONS regions. It is bounded (no recursion, one pass)
 * and allocates nothing, so hostile input costs O(len).
 */

#include <stddef.h>
#include <stdint.h>

/** Most regions one handshake may carry. */
#define PAGERD_FC_MAX_REGIONS 64
/** Most bytes a handshake may take (Firecracker's handlers read 64 KiB). */
#define PAGERD_FC_MAX_MSG 65536

/** One guest memory region as the VMM describes it. */
struct pagerd_fc_region {
	uint64_t base;      /**< base_host_virt_addr: in the VMM's address space */
	uint64_t size;      /**< bytes */
	uint64_t offset;    /**< offset in the memory file */
	uint64_t page_size; /**< 4096 or 2 MiB */
};

/**
 * Parse a handshake.
 *
 * @param[out] out
 *   PAGERD_FC_MAX_REGIONS entries.
 * @param[out] err
 *   A message saying what is wrong and where (byte offset), on error.
 * @return
 *   Number of regions (1..PAGERD_FC_MAX_REGIONS), or -EINVAL (malformed,
 *   unknown or repeated key, missing field, overflow, page size other than
 *   4 KiB or 2 MiB, a base, size or offset not a multiple of it, an empty
 *   region, offset + size past 2^64), -E2BIG (too many regions or bytes).
 */
int pagerd_fc_parse(const char *buf, size_t len,
		    struct pagerd_fc_region *out, char *err, size_t errlen);

#endif /* PAGERD_FC_PARSE_H */
