/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_IOMMUFD_TEST_UAPI_H
#define PFDK_IOMMUFD_TEST_UAPI_H

/*
 * The parts of Linux's iommufd selftest ABI (drivers/iommu/iommufd/
 * iommufd_test.h, CONFIG_IOMMUFD_TEST) and of the IOAS ioctls that the
 * kernel rig's conformance test uses, as in Linux 6.12. No system header
 * ships the test ABI, and Debian's uAPI headers predate the fault queue, so
 * these are our own copies of ABI values: types, numbers and offsets are
 * facts of the kernel's ABI, checked by the static asserts below.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include "pfdk_iommufd_uapi.h"

#define PFDK_IOMMUFD_CMD_IOAS_ALLOC 0x81
#define PFDK_IOMMU_IOAS_ALLOC _IO(PFDK_IOMMUFD_TYPE, PFDK_IOMMUFD_CMD_IOAS_ALLOC)

/** struct iommu_ioas_alloc */
struct pfdk_iommu_ioas_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t out_ioas_id;
};

/** IOMMU_HWPT_ALLOC_NEST_PARENT: the HWPT can be a nested HWPT's parent. */
#define PFDK_IOMMU_HWPT_ALLOC_NEST_PARENT (1u << 0)

/** IOMMUFD_CMD_BASE + 32: the test command, CONFIG_IOMMUFD_TEST only. */
#define PFDK_IOMMU_TEST_CMD _IO(PFDK_IOMMUFD_TYPE, 0x80 + 32)

/* enum { IOMMU_TEST_OP_ADD_RESERVED = 1, ... } */
#define PFDK_IOMMU_TEST_OP_MOCK_DOMAIN          2
#define PFDK_IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE 10
#define PFDK_IOMMU_TEST_OP_TRIGGER_IOPF        15

/** IOMMU_HWPT_DATA_SELFTEST: the mock driver's nested HWPT data type. */
#define PFDK_IOMMU_HWPT_DATA_SELFTEST 0xdead
#define PFDK_IOMMU_TEST_IOTLB_DEFAULT 0xbadbeef

/** struct iommu_hwpt_selftest */
struct pfdk_iommu_hwpt_selftest {
	uint32_t iotlb;
};

/**
 * struct iommu_test_cmd with the union members the rig uses. The union's
 * biggest member (dirty: u32 + 5 aligned u64) makes it 48 bytes.
 */
struct pfdk_iommu_test_cmd {
	uint32_t size;
	uint32_t op;
	uint32_t id;
	uint32_t __reserved;
	union {
		struct {
			uint32_t out_stdev_id;
			uint32_t out_hwpt_id;
			uint32_t out_idev_id;
		} mock_domain;
		struct {
			uint32_t pt_id;
		} mock_domain_replace;
		struct {
			uint32_t dev_id;
			uint32_t pasid;
			uint32_t grpid;
			uint32_t perm;
			uint64_t addr;
		} trigger_iopf;
		uint64_t __union_size[6];
	};
	uint32_t last;
};

_Static_assert(sizeof(struct pfdk_iommu_ioas_alloc) == 12, "ioas_alloc size");
_Static_assert(offsetof(struct pfdk_iommu_ioas_alloc, out_ioas_id) == 8, "ioas_alloc.out_ioas_id");
_Static_assert(sizeof(struct pfdk_iommu_test_cmd) == 72, "iommu_test_cmd size");
_Static_assert(offsetof(struct pfdk_iommu_test_cmd, id) == 8, "iommu_test_cmd.id");
_Static_assert(offsetof(struct pfdk_iommu_test_cmd, mock_domain.out_stdev_id) == 16, "mock_domain.out_stdev_id");
_Static_assert(offsetof(struct pfdk_iommu_test_cmd, mock_domain.out_hwpt_id) == 20, "mock_domain.out_hwpt_id");
_Static_assert(offsetof(struct pfdk_iommu_test_cmd, mock_domain.out_idev_id) == 24, "mock_domain.out_idev_id");
_Static_assert(offsetof(struct pfdk_iommu_test_cmd, mock_domain_replace.pt_id) == 16, "mock_domain_replace.pt_id");
_Static_assert(offsetof(struct pfdk_iommu_test_cmd, trigger_iopf.dev_id) == 16, "trigger_iopf.dev_id");
_Static_assert(offsetof(struct pfdk_iommu_test_cmd, trigger_iopf.pasid) == 20, "trigger_iopf.pasid");
_Static_assert(offsetof(struct pfdk_iommu_test_cmd, trigger_iopf.grpid) == 24, "trigger_iopf.grpid");
_Static_assert(offsetof(struct pfdk_iommu_test_cmd, trigger_iopf.perm) == 28, "trigger_iopf.perm");
_Static_assert(offsetof(struct pfdk_iommu_test_cmd, trigger_iopf.addr) == 32, "trigger_iopf.addr");
_Static_assert(offsetof(struct pfdk_iommu_test_cmd, last) == 64, "iommu_test_cmd.last");
_Static_assert(sizeof(struct pfdk_iommu_hwpt_selftest) == 4, "hwpt_selftest size");

#endif /* PFDK_IOMMUFD_TEST_UAPI_H */
