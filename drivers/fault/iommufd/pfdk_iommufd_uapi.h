/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_IOMMUFD_UAPI_H
#define PFDK_IOMMUFD_UAPI_H

/**
 * @file
 * The iommufd fault-queue uAPI (Linux >= 6.11), as PFDK needs it.
 *
 * Debian 12's linux-libc-dev (6.1) has no <linux/iommufd.h> at all, so PFDK
 * carries the definitions it uses. Types and values are ABI facts (DESIGN.md
 * section 3.1), so the structs carry a pfdk_ prefix and can never clash with
 * a system header; when the system header does define the fault queue
 * (IOMMU_HWPT_FAULT_ID_VALID is its marker), every size, offset and value
 * below is checked against it at compile time, and when it does not, against
 * the numbers from the kernel's uAPI. Either way a mismatch fails the build.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

#if defined(__has_include)
#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** ioctl type of iommufd: ';'. */
#define PFDK_IOMMUFD_TYPE 0x3B

/** @name iommufd command numbers (the nr of _IO(';', nr)). */
/**@{*/
#define PFDK_IOMMUFD_CMD_DESTROY           0x80
#define PFDK_IOMMUFD_CMD_HWPT_ALLOC        0x89
#define PFDK_IOMMUFD_CMD_FAULT_QUEUE_ALLOC 0x8e
#define PFDK_IOMMUFD_CMD_VIOMMU_ALLOC      0x90
#define PFDK_IOMMUFD_CMD_VDEVICE_ALLOC     0x91
#define PFDK_IOMMUFD_CMD_VEVENTQ_ALLOC     0x93
/**@}*/

/** @name ioctl requests: all _IO, the argument's first u32 is its size. */
/**@{*/
#define PFDK_IOMMU_DESTROY \
	_IO(PFDK_IOMMUFD_TYPE, PFDK_IOMMUFD_CMD_DESTROY)
#define PFDK_IOMMU_HWPT_ALLOC \
	_IO(PFDK_IOMMUFD_TYPE, PFDK_IOMMUFD_CMD_HWPT_ALLOC)
#define PFDK_IOMMU_FAULT_QUEUE_ALLOC \
	_IO(PFDK_IOMMUFD_TYPE, PFDK_IOMMUFD_CMD_FAULT_QUEUE_ALLOC)
/**@}*/

/** IOMMU_DESTROY argument: destroy any iommufd object by id (8 B). */
struct pfdk_iommu_destroy {
	uint32_t size; /**< sizeof(struct pfdk_iommu_destroy) */
	uint32_t id;   /**< object to destroy */
};

/** IOMMU_FAULT_QUEUE_ALLOC argument (16 B). */
struct pfdk_iommu_fault_alloc {
	uint32_t size;         /**< sizeof(struct pfdk_iommu_fault_alloc) */
	uint32_t flags;        /**< must be 0 */
	uint32_t out_fault_id; /**< fault object id, for IOMMU_HWPT_ALLOC */
	uint32_t out_fault_fd; /**< the fault FD: read records, write responses */
};

/** @name pfdk_iommu_hwpt_pgfault::flags */
/**@{*/
#define PFDK_IOMMU_PGFAULT_FLAGS_PASID_VALID (1u << 0) /**< pasid is meaningful */
#define PFDK_IOMMU_PGFAULT_FLAGS_LAST_PAGE   (1u << 1) /**< closes its group */
/** Flags this ABI documents; others (bit 2 on some kernels) are masked. */
#define PFDK_IOMMU_PGFAULT_FLAGS_KNOWN \
	(PFDK_IOMMU_PGFAULT_FLAGS_PASID_VALID | PFDK_IOMMU_PGFAULT_FLAGS_LAST_PAGE)
/**@}*/

/** @name pfdk_iommu_hwpt_pgfault::perm */
/**@{*/
#define PFDK_IOMMU_PGFAULT_PERM_READ  (1u << 0)
#define PFDK_IOMMU_PGFAULT_PERM_WRITE (1u << 1)
#define PFDK_IOMMU_PGFAULT_PERM_EXEC  (1u << 2)
#define PFDK_IOMMU_PGFAULT_PERM_PRIV  (1u << 3)
/**@}*/

/** One fault record as read() from the fault FD (40 B). */
struct pfdk_iommu_hwpt_pgfault {
	uint32_t flags;      /**< PFDK_IOMMU_PGFAULT_FLAGS_* */
	uint32_t dev_id;     /**< iommufd device object id */
	uint32_t pasid;      /**< when PASID_VALID */
	uint32_t grpid;      /**< page-request group index (PRI: 9 bits) */
	uint32_t perm;       /**< PFDK_IOMMU_PGFAULT_PERM_* */
	uint32_t __reserved; /**< reads as 0 */
	uint64_t addr;       /**< faulting IOVA */
	uint32_t length;     /**< reads as 0 */
	uint32_t cookie;     /**< the group's response token, same for its records */
};

/** Response codes. There is no FAILURE code in the final uAPI. */
enum pfdk_iommufd_page_response_code {
	PFDK_IOMMUFD_PAGE_RESP_SUCCESS = 0, /**< page valid: retry the access */
	PFDK_IOMMUFD_PAGE_RESP_INVALID = 1, /**< do not retry */
};

/** One response as write() to the fault FD (8 B); one per group. */
struct pfdk_iommu_hwpt_page_response {
	uint32_t cookie; /**< from the group's records */
	uint32_t code;   /**< enum pfdk_iommufd_page_response_code */
};

/** pfdk_iommu_hwpt_alloc::flags: deliver faults to fault_id. */
#define PFDK_IOMMU_HWPT_FAULT_ID_VALID (1u << 2)
/** pfdk_iommu_hwpt_alloc::data_type: no driver-specific data. */
#define PFDK_IOMMU_HWPT_DATA_NONE 0u

/** IOMMU_HWPT_ALLOC argument (48 B). */
struct pfdk_iommu_hwpt_alloc {
	uint32_t size;        /**< sizeof(struct pfdk_iommu_hwpt_alloc) */
	uint32_t flags;       /**< PFDK_IOMMU_HWPT_FAULT_ID_VALID, ... */
	uint32_t dev_id;      /**< device object */
	uint32_t pt_id;       /**< IOAS or parent HWPT */
	uint32_t out_hwpt_id; /**< the new HWPT */
	uint32_t __reserved;  /**< 0 */
	uint32_t data_type;   /**< PFDK_IOMMU_HWPT_DATA_NONE */
	uint32_t data_len;    /**< 0 */
	uint64_t data_uptr;   /**< 0 */
	uint32_t fault_id;    /**< with FAULT_ID_VALID */
	uint32_t __reserved2; /**< 0 */
};

/* The ABI, number by number (DESIGN.md 3.1). */
_Static_assert(sizeof(struct pfdk_iommu_destroy) == 8, "iommu_destroy size");
_Static_assert(offsetof(struct pfdk_iommu_destroy, id) == 4, "iommu_destroy.id");

_Static_assert(sizeof(struct pfdk_iommu_fault_alloc) == 16, "fault_alloc size");
_Static_assert(offsetof(struct pfdk_iommu_fault_alloc, size) == 0, "fault_alloc.size");
_Static_assert(offsetof(struct pfdk_iommu_fault_alloc, flags) == 4, "fault_alloc.flags");
_Static_assert(offsetof(struct pfdk_iommu_fault_alloc, out_fault_id) == 8, "fault_alloc.out_fault_id");
_Static_assert(offsetof(struct pfdk_iommu_fault_alloc, out_fault_fd) == 12, "fault_alloc.out_fault_fd");

_Static_assert(sizeof(struct pfdk_iommu_hwpt_pgfault) == 40, "pgfault size");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_pgfault, flags) == 0, "pgfault.flags");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_pgfault, dev_id) == 4, "pgfault.dev_id");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_pgfault, pasid) == 8, "pgfault.pasid");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_pgfault, grpid) == 12, "pgfault.grpid");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_pgfault, perm) == 16, "pgfault.perm");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_pgfault, __reserved) == 20, "pgfault.__reserved");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_pgfault, addr) == 24, "pgfault.addr");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_pgfault, length) == 32, "pgfault.length");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_pgfault, cookie) == 36, "pgfault.cookie");

_Static_assert(sizeof(struct pfdk_iommu_hwpt_page_response) == 8, "page_response size");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_page_response, cookie) == 0, "page_response.cookie");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_page_response, code) == 4, "page_response.code");

_Static_assert(sizeof(struct pfdk_iommu_hwpt_alloc) == 48, "hwpt_alloc size");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_alloc, size) == 0, "hwpt_alloc.size");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_alloc, flags) == 4, "hwpt_alloc.flags");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_alloc, dev_id) == 8, "hwpt_alloc.dev_id");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_alloc, pt_id) == 12, "hwpt_alloc.pt_id");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_alloc, out_hwpt_id) == 16, "hwpt_alloc.out_hwpt_id");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_alloc, __reserved) == 20, "hwpt_alloc.__reserved");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_alloc, data_type) == 24, "hwpt_alloc.data_type");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_alloc, data_len) == 28, "hwpt_alloc.data_len");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_alloc, data_uptr) == 32, "hwpt_alloc.data_uptr");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_alloc, fault_id) == 40, "hwpt_alloc.fault_id");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_alloc, __reserved2) == 44, "hwpt_alloc.__reserved2");

/* The request numbers as the kernel spells them: _IO(';', 0x80 + n). */
_Static_assert(PFDK_IOMMU_DESTROY == 0x3b80, "IOMMU_DESTROY");
_Static_assert(PFDK_IOMMU_HWPT_ALLOC == 0x3b89, "IOMMU_HWPT_ALLOC");
_Static_assert(PFDK_IOMMU_FAULT_QUEUE_ALLOC == 0x3b8e, "IOMMU_FAULT_QUEUE_ALLOC");

#ifdef IOMMU_HWPT_FAULT_ID_VALID
/* The system header knows the fault queue: ours must be the same ABI. */
_Static_assert(sizeof(struct pfdk_iommu_hwpt_pgfault) == sizeof(struct iommu_hwpt_pgfault), "pgfault vs system");
_Static_assert(sizeof(struct pfdk_iommu_hwpt_page_response) == sizeof(struct iommu_hwpt_page_response), "response vs system");
_Static_assert(sizeof(struct pfdk_iommu_hwpt_alloc) == sizeof(struct iommu_hwpt_alloc), "hwpt_alloc vs system");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_pgfault, cookie) == offsetof(struct iommu_hwpt_pgfault, cookie), "cookie vs system");
_Static_assert(offsetof(struct pfdk_iommu_hwpt_alloc, fault_id) == offsetof(struct iommu_hwpt_alloc, fault_id), "fault_id vs system");
_Static_assert(PFDK_IOMMU_HWPT_FAULT_ID_VALID == IOMMU_HWPT_FAULT_ID_VALID, "FAULT_ID_VALID vs system");
_Static_assert(PFDK_IOMMU_HWPT_ALLOC == IOMMU_HWPT_ALLOC, "HWPT_ALLOC vs system");
_Static_assert(PFDK_IOMMU_PGFAULT_FLAGS_LAST_PAGE == IOMMU_PGFAULT_FLAGS_LAST_PAGE, "LAST_PAGE vs system");
#endif

#ifdef __cplusplus
}
#endif

#endif /* PFDK_IOMMUFD_UAPI_H */
