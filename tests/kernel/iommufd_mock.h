/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_IOMMUFD_MOCK_H
#define PFDK_IOMMUFD_MOCK_H

/*
 * The kernel's iommufd mock device (CONFIG_IOMMUFD_TEST) set up as its
 * selftest does, shared by the kernel rig's conformance test and by
 * pfdk-faultbench's real iommufd source: /dev/iommu, an IOAS, a mock
 * device on it, a NEST_PARENT HWPT, a fault queue, a nested
 * IOMMU_HWPT_DATA_SELFTEST HWPT with FAULT_ID_VALID delivering to it, and
 * the device replaced onto that HWPT. TRIGGER_IOPF then raises one
 * single-record group per call. Every function returns 0 or -errno; where
 * a step can fail, *step names it.
 */
#include <stdint.h>

#include "iommufd_test_uapi.h"

struct iommufd_mock {
	int fd;             /* the iommufd */
	uint32_t ioas, stdev, mock_hwpt, idev, parent, iopf_hwpt, fault_id;
	int fault_fd;       /* -1 until mock_attach() */
};

int mock_iocmd(int fd, unsigned long req, void *arg);
int mock_test_cmd(int fd, struct pfdk_iommu_test_cmd *c);
int mock_destroy(int fd, uint32_t id);
/* MOCK_DOMAIN_REPLACE: move the mock device onto @p pt_id. */
int mock_replace(const struct iommufd_mock *m, uint32_t pt_id);
int mock_hwpt_alloc(const struct iommufd_mock *m, uint32_t flags, uint32_t pt_id,
		    uint32_t fault_id, uint32_t data_type, void *data, uint32_t len,
		    uint32_t *out);
/* /dev/iommu, IOAS, mock device (fault_fd -1). */
int mock_base(struct iommufd_mock *m, const char **step);
/* After mock_base(): NEST_PARENT HWPT, fault queue, nested HWPT, replace. */
int mock_attach(struct iommufd_mock *m, const char **step);
/* mock_base() then mock_attach(); on failure everything is closed. */
int mock_open(struct iommufd_mock *m, const char **step);
/* The selftest's teardown in its order (fault fd closed before its object). */
int mock_close(struct iommufd_mock *m, const char **step);
/* IOMMU_TEST_OP_TRIGGER_IOPF: one fault (a group of one) from the device. */
int mock_trigger(const struct iommufd_mock *m, uint32_t pasid, uint32_t grpid,
		 uint32_t perm, uint64_t addr);

#endif /* PFDK_IOMMUFD_MOCK_H */
