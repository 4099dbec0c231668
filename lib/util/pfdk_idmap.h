/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_IDMAP_H
#define PFDK_IDMAP_H

/**
 * @file
 * Lowest-free id allocation over a bitmap, the way the kernel's xa_alloc()
 * hands out iommufd cookies: a freed id is the next one given out, so code
 * that keys state on an id past its life sees it reused at once. One bit
 * per id (set = free) and a hint word below which nothing is free keep
 * both calls O(1) amortised. Single-threaded: the owner serialises.
 */

#include <stdint.h>

/** Words needed for @p n ids. */
#define PFDK_IDMAP_WORDS(n) (((n) + 63u) / 64u)

/** An id map; the caller owns the words. */
struct pfdk_idmap {
	uint64_t *words;  /**< PFDK_IDMAP_WORDS(nb_ids) words, bit set = free */
	uint32_t nb_ids;  /**< ids 0..nb_ids-1 */
	uint32_t nb_free; /**< ids free now */
	uint32_t hint;    /**< no free id below this word */
};

/** Mark every id free. */
static inline void
pfdk_idmap_reset(struct pfdk_idmap *m)
{
	uint32_t w, nw = PFDK_IDMAP_WORDS(m->nb_ids);

	for (w = 0; w < nw; w++)
		m->words[w] = ~0ull;
	if (m->nb_ids % 64 != 0)
		m->words[nw - 1] = (1ull << (m->nb_ids % 64)) - 1;
	m->nb_free = m->nb_ids;
	m->hint = 0;
}

/** Use @p words for @p nb_ids ids, all free. */
static inline void
pfdk_idmap_init(struct pfdk_idmap *m, uint64_t *words, uint32_t nb_ids)
{
	m->words = words;
	m->nb_ids = nb_ids;
	pfdk_idmap_reset(m);
}

/** The lowest free id, now taken; UINT32_MAX if none is free. */
static inline uint32_t
pfdk_idmap_alloc(struct pfdk_idmap *m)
{
	uint32_t w = m->hint, id;

	if (m->nb_free == 0)
		return UINT32_MAX;
	while (m->words[w] == 0)
		w++;
	id = w * 64 + (uint32_t)__builtin_ctzll(m->words[w]);
	m->words[w] &= m->words[w] - 1; /* take the lowest set bit */
	m->hint = w;
	m->nb_free--;
	return id;
}

/** Give @p id back (it must be taken). */
static inline void
pfdk_idmap_free(struct pfdk_idmap *m, uint32_t id)
{
	m->words[id / 64] |= 1ull << (id % 64);
	if (id / 64 < m->hint)
		m->hint = id / 64;
	m->nb_free++;
}

#endif /* PFDK_IDMAP_H */
