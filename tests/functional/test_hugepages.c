/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * With free 2 MiB hugepages, pfdk_init() must pick them (--in-memory, no
 * hugetlbfs mount needed) and descriptor pools must live in 2 MiB pages.
 * Without, this is a skip with the reason, not a pass.
 */
#include <stdio.h>

#include <rte_eal.h>
#include <rte_memory.h>
#include <rte_mempool.h>

#include "pfdk_fault.h"
#include "test_common.h"

int
main(int argc, char **argv)
{
	struct rte_mempool *mp;
	const struct rte_memseg_list *msl;
	void *obj;
	unsigned long hp = pfdk_free_hugepages();

	(void)argc;
	if (hp < 16) {
		printf("SKIP: %lu free 2 MiB hugepages (need 16); reserve with "
		       "'dpdk-hugepages.py -r 64M' as root\n", hp);
		return TEST_SKIP;
	}
	test_watchdog("test_hugepages", 60);
	test_eal_init(argv[0], "0@0");
	if (!pfdk_has_hugepages()) {
		fprintf(stderr, "FAIL: %lu free hugepages, but pfdk_init chose --no-huge\n", hp);
		return 1;
	}
	mp = pfdk_fault_pool_create("hp_pool", 4095, 32, SOCKET_ID_ANY);
	if (mp == NULL) {
		fprintf(stderr, "FAIL: pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (rte_mempool_get(mp, &obj) != 0) {
		fprintf(stderr, "FAIL: empty pool\n");
		return 1;
	}
	msl = rte_mem_virt2memseg_list(obj);
	if (msl == NULL || msl->page_sz != RTE_PGSIZE_2M) {
		fprintf(stderr, "FAIL: descriptor %p is not in 2 MiB hugepage memory (page size %zu)\n",
			obj, msl ? (size_t)msl->page_sz : (size_t)0);
		return 1;
	}
	rte_mempool_put(mp, obj);
	rte_mempool_free(mp);
	printf("descriptors in 2 MiB hugepages (%lu were free)\n", hp);
	return pfdk_cleanup() == 0 ? 0 : 1;
}
