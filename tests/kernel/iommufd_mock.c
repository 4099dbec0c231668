/* SPDX-License-Identifier: BSD-3-Clause */
/* The iommufd mock device's setup, see iommufd_mock.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "iommufd_mock.h"

#define STEP(s) do { if (step != NULL) *step = (s); } while (0)

int
mock_iocmd(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

int
mock_test_cmd(int fd, struct pfdk_iommu_test_cmd *c)
{
	c->size = sizeof(*c);
	return mock_iocmd(fd, PFDK_IOMMU_TEST_CMD, c);
}

int
mock_destroy(int fd, uint32_t id)
{
	struct pfdk_iommu_destroy d = { .size = sizeof(d), .id = id };

	return mock_iocmd(fd, PFDK_IOMMU_DESTROY, &d);
}

int
mock_replace(const struct iommufd_mock *m, uint32_t pt_id)
{
	struct pfdk_iommu_test_cmd c = { .op = PFDK_IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
					 .id = m->stdev };

	c.mock_domain_replace.pt_id = pt_id;
	return mock_test_cmd(m->fd, &c);
}

int
mock_hwpt_alloc(const struct iommufd_mock *m, uint32_t flags, uint32_t pt_id,
		uint32_t fault_id, uint32_t data_type, void *data, uint32_t len,
		uint32_t *out)
{
	struct pfdk_iommu_hwpt_alloc a = {
		.size = sizeof(a), .flags = flags, .dev_id = m->idev, .pt_id = pt_id,
		.data_type = data_type, .data_len = len,
		.data_uptr = (uint64_t)(uintptr_t)data, .fault_id = fault_id,
	};
	int ret = mock_iocmd(m->fd, PFDK_IOMMU_HWPT_ALLOC, &a);

	if (ret == 0)
		*out = a.out_hwpt_id;
	return ret;
}

int
mock_base(struct iommufd_mock *m, const char **step)
{
	struct pfdk_iommu_ioas_alloc ia = { .size = sizeof(ia) };
	struct pfdk_iommu_test_cmd c = { .op = PFDK_IOMMU_TEST_OP_MOCK_DOMAIN };
	int ret;

	memset(m, 0, sizeof(*m));
	m->fault_fd = -1;
	STEP("open /dev/iommu");
	m->fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	STEP("IOMMU_IOAS_ALLOC");
	ret = mock_iocmd(m->fd, PFDK_IOMMU_IOAS_ALLOC, &ia);
	if (ret < 0)
		goto fail;
	m->ioas = ia.out_ioas_id;
	c.id = m->ioas;
	STEP("IOMMU_TEST_OP_MOCK_DOMAIN (CONFIG_IOMMUFD_TEST)");
	ret = mock_test_cmd(m->fd, &c);
	if (ret < 0)
		goto fail;
	m->stdev = c.mock_domain.out_stdev_id;
	m->mock_hwpt = c.mock_domain.out_hwpt_id;
	m->idev = c.mock_domain.out_idev_id;
	return 0;
fail:
	close(m->fd);
	m->fd = -1;
	return ret;
}

int
mock_attach(struct iommufd_mock *m, const char **step)
{
	struct pfdk_iommu_hwpt_selftest data = { .iotlb = PFDK_IOMMU_TEST_IOTLB_DEFAULT };
	struct pfdk_iommu_fault_alloc fa = { .size = sizeof(fa) };
	int ret;

	STEP("IOMMU_HWPT_ALLOC NEST_PARENT");
	ret = mock_hwpt_alloc(m, PFDK_IOMMU_HWPT_ALLOC_NEST_PARENT, m->ioas, 0,
			      PFDK_IOMMU_HWPT_DATA_NONE, NULL, 0, &m->parent);
	if (ret < 0)
		return ret;
	STEP("IOMMU_FAULT_QUEUE_ALLOC");
	ret = mock_iocmd(m->fd, PFDK_IOMMU_FAULT_QUEUE_ALLOC, &fa);
	if (ret < 0)
		return ret;
	m->fault_id = fa.out_fault_id;
	m->fault_fd = (int)fa.out_fault_fd;
	STEP("IOMMU_HWPT_ALLOC FAULT_ID_VALID (nested, DATA_SELFTEST)");
	ret = mock_hwpt_alloc(m, PFDK_IOMMU_HWPT_FAULT_ID_VALID, m->parent, m->fault_id,
			      PFDK_IOMMU_HWPT_DATA_SELFTEST, &data, sizeof(data),
			      &m->iopf_hwpt);
	if (ret < 0)
		return ret;
	STEP("IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE");
	return mock_replace(m, m->iopf_hwpt);
}

int
mock_open(struct iommufd_mock *m, const char **step)
{
	int ret = mock_base(m, step);

	if (ret < 0)
		return ret;
	ret = mock_attach(m, step);
	if (ret < 0) {
		/* Closing the iommufd destroys every object in it. */
		if (m->fault_fd >= 0)
			close(m->fault_fd);
		close(m->fd);
		m->fd = m->fault_fd = -1;
	}
	return ret;
}

int
mock_close(struct iommufd_mock *m, const char **step)
{
	int ret;

	STEP("replace onto the parent");
	if ((ret = mock_replace(m, m->parent)) < 0)
		return ret;
	STEP("destroy the nested HWPT");
	if ((ret = mock_destroy(m->fd, m->iopf_hwpt)) < 0)
		return ret;
	STEP("replace onto the IOAS");
	if ((ret = mock_replace(m, m->ioas)) < 0)
		return ret;
	STEP("destroy the parent HWPT");
	if ((ret = mock_destroy(m->fd, m->parent)) < 0)
		return ret;
	/* The fault object is busy while its fd is open: close first. */
	STEP("destroy the fault object while its fd is open: EBUSY");
	if (mock_destroy(m->fd, m->fault_id) != -EBUSY)
		return -EPROTO;
	close(m->fault_fd);
	m->fault_fd = -1;
	STEP("destroy the fault object");
	if ((ret = mock_destroy(m->fd, m->fault_id)) < 0)
		return ret;
	close(m->fd);
	m->fd = -1;
	return 0;
}

int
mock_trigger(const struct iommufd_mock *m, uint32_t pasid, uint32_t grpid, uint32_t perm,
	     uint64_t addr)
{
	struct pfdk_iommu_test_cmd c = { .op = PFDK_IOMMU_TEST_OP_TRIGGER_IOPF };

	c.trigger_iopf.dev_id = m->idev;
	c.trigger_iopf.pasid = pasid;
	c.trigger_iopf.grpid = grpid;
	c.trigger_iopf.perm = perm;
	c.trigger_iopf.addr = addr;
	return mock_test_cmd(m->fd, &c);
}
