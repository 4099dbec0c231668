/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The iommufd driver's way to a real fault FD: read()/write() on it, and
 * allocating one on hardware (IOMMU_FAULT_QUEUE_ALLOC, then IOMMU_HWPT_ALLOC
 * with IOMMU_HWPT_FAULT_ID_VALID), every failing ioctl named with its errno.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "pfdk_fault_driver.h"
#include "iommufd_private.h"

static ssize_t
fd_read(void *ctx, void *buf, size_t count)
{
	ssize_t r = read((int)(intptr_t)ctx, buf, count);

	/*
	 * The kernel's fault FD says "empty" with 0, never EAGAIN; a test
	 * peer (test_peer=1, a non-blocking socket) says EAGAIN: the same.
	 */
	if (r < 0 && errno == EAGAIN)
		return 0;
	return r < 0 ? -errno : r;
}

static ssize_t
fd_write(void *ctx, const void *buf, size_t count)
{
	ssize_t r = write((int)(intptr_t)ctx, buf, count);

	return r < 0 ? -errno : r;
}

static int
fd_readiness(void *ctx)
{
	/* The fault FD itself: EPOLLIN while groups wait. */
	return (int)(intptr_t)ctx;
}

/*
 * An engine writes the responses on the fault FD itself (io_uring WRITE):
 * the kernel's write handler runs as for write(2), same partial-write rule.
 */
static int
fd_write_fd(void *ctx)
{
	return (int)(intptr_t)ctx;
}

/*
 * An engine reads the records from the fault FD itself (io_uring
 * multishot read into provided buffers), whole groups as read(2) returns
 * them. The FD is O_NONBLOCK: without it io_uring's read of a file that
 * has only ->read() always says EAGAIN inline, so every read would go to
 * an io-wq thread (Linux 6.12 io_uring/rw.c, loop_rw_iter()).
 */
static int
fd_read_fd(void *ctx)
{
	return (int)(intptr_t)ctx;
}

const struct pfdk_iommufd_io iommufd_fd_io = {
	.read = fd_read,
	.write = fd_write,
	.readiness_fd = fd_readiness,
	.write_fd = fd_write_fd,
	.read_fd = fd_read_fd,
};

/* "ENOTTY (Inappropriate ioctl for device)" */
const char *
iommufd_err_name(int e, char *buf, size_t len)
{
	const char *n = strerrorname_np(e);

	snprintf(buf, len, "%s (%s)", n ? n : "E?", strerror(e));
	return buf;
}

/*
 * IOMMU_FAULT_QUEUE_ALLOC, then a HWPT that delivers to it. What works on
 * Linux 6.12 is what a VMM does: a nested HWPT (driver data data_type= and
 * data=) over a NEST_PARENT HWPT (pt_id=) of a device (dev_id=) bound in
 * the VMM's iommufd (iommu_fd=). FAULT_ID_VALID on a paging HWPT is
 * EOPNOTSUPP there whatever the IOMMU can do, and a freshly opened
 * /dev/iommu has no device objects: both get a message that says so.
 */
int
iommufd_hw_alloc(struct pfdk_fault_dev *dev, struct iommufd_dev *d)
{
	struct pfdk_iommu_fault_alloc fa = { .size = sizeof(fa) };
	struct pfdk_iommu_hwpt_alloc ha = { .size = sizeof(ha) };
	const struct iommufd_conf *c = &d->conf;
	bool nested = c->data_type <= UINT32_MAX; /* data_type= given */
	const char *why = "";
	char eb[128];
	int e;

	if (c->iommu_path[0] != '\0') {
		d->iommu_fd = open(c->iommu_path, O_RDWR | O_CLOEXEC);
		if (d->iommu_fd < 0) {
			e = errno;
			PFDK_FAULT_LOG(ERR, "%s: open %s: %s%s", dev->name, c->iommu_path,
				       iommufd_err_name(e, eb, sizeof(eb)),
				       e == ENOENT || e == ENODEV ?
				       ": this kernel has no iommufd (CONFIG_IOMMUFD unset or module not loaded)" : "");
			return -e;
		}
		d->own_iommu_fd = 1;
	} else {
		d->iommu_fd = (int)c->iommu_fd;
	}
	if (ioctl(d->iommu_fd, PFDK_IOMMU_FAULT_QUEUE_ALLOC, &fa) < 0) {
		e = errno;
		PFDK_FAULT_LOG(ERR, "%s: IOMMU_FAULT_QUEUE_ALLOC on fd %d: %s%s", dev->name,
			       d->iommu_fd, iommufd_err_name(e, eb, sizeof(eb)),
			       e == ENOTTY ? ": not an iommufd, or a kernel older than 6.11" :
			       e == EBADF ? ": no such open fd" : "");
		return -e;
	}
	d->fault_id = fa.out_fault_id;
	d->fault_fd = (int)fa.out_fault_fd;
	d->own_fault_fd = 1;
	/*
	 * Its read and write never sleep anyway; O_NONBLOCK lets io_uring run
	 * an engine's reads and writes of it inline (see fd_read_fd()).
	 */
	e = fcntl(d->fault_fd, F_GETFL);
	if (e < 0 || fcntl(d->fault_fd, F_SETFL, e | O_NONBLOCK) < 0) {
		e = errno;
		PFDK_FAULT_LOG(ERR, "%s: fault fd %d: cannot make it non-blocking: %s",
			       dev->name, d->fault_fd, iommufd_err_name(e, eb, sizeof(eb)));
		return -e;
	}
	ha.flags = PFDK_IOMMU_HWPT_FAULT_ID_VALID;
	ha.dev_id = (uint32_t)c->hw_dev_id;
	ha.pt_id = (uint32_t)c->pt_id;
	ha.data_type = nested ? (uint32_t)c->data_type : PFDK_IOMMU_HWPT_DATA_NONE;
	ha.data_len = nested ? c->data_len : 0;
	ha.data_uptr = nested && c->data_len != 0 ? (uint64_t)(uintptr_t)c->data : 0;
	ha.fault_id = d->fault_id;
	if (ioctl(d->iommu_fd, PFDK_IOMMU_HWPT_ALLOC, &ha) < 0) {
		e = errno;
		if (e == ENOENT)
			why = d->own_iommu_fd ?
			      ": dev_id or pt_id is not an object of this iommufd; a freshly opened iommufd has no devices: pass the iommufd the device is bound to (VFIO_DEVICE_BIND_IOMMUFD) as iommu_fd=" :
			      ": dev_id or pt_id is not an object of this iommufd";
		else if (e == EOPNOTSUPP && !nested)
			why = ": a paging HWPT cannot take FAULT_ID_VALID (Linux 6.12): give pt_id=<a NEST_PARENT HWPT> with data_type= and data= of the IOMMU driver for a nested HWPT";
		else if (e == EOPNOTSUPP)
			why = ": pt_id is not a NEST_PARENT HWPT (an IOAS is not), or the IOMMU driver does not take this data_type for this device";
		else if (e == EINVAL && nested)
			why = ": pt_id is not a NEST_PARENT HWPT of this device, or data= is not what data_type needs";
		PFDK_FAULT_LOG(ERR, "%s: IOMMU_HWPT_ALLOC (dev_id %u, pt_id %u, fault_id %u, FAULT_ID_VALID, data_type 0x%x, %u byte(s) of data) on fd %d: %s%s",
			       dev->name, ha.dev_id, ha.pt_id, ha.fault_id, ha.data_type,
			       ha.data_len, d->iommu_fd, iommufd_err_name(e, eb, sizeof(eb)), why);
		return -e;
	}
	d->hwpt_id = ha.out_hwpt_id;
	PFDK_FAULT_LOG(INFO, "%s: fault queue %u (fd %d) delivering for HWPT %u",
		       dev->name, d->fault_id, d->fault_fd, d->hwpt_id);
	return 0;
}

static void
destroy_obj(struct pfdk_fault_dev *dev, struct iommufd_dev *d, uint32_t id, const char *what)
{
	struct pfdk_iommu_destroy ds = { .size = sizeof(ds), .id = id };
	char eb[128];
	int e;

	if (id == 0 || ioctl(d->iommu_fd, PFDK_IOMMU_DESTROY, &ds) == 0)
		return;
	e = errno;
	PFDK_FAULT_LOG(WARNING, "%s: IOMMU_DESTROY of %s %u: %s%s", dev->name, what, id,
		       iommufd_err_name(e, eb, sizeof(eb)),
		       e == EBUSY ? ": still in use (a device attached to the HWPT?): it stays in the iommufd" : "");
}

void
iommufd_hw_free(struct pfdk_fault_dev *dev, struct iommufd_dev *d)
{
	if (d->iommu_fd >= 0)
		destroy_obj(dev, d, d->hwpt_id, "HWPT");
	/*
	 * The fault object is busy (EBUSY) while its fd is open: close the fd
	 * first. Destroying the object is what answers the kernel's leftovers.
	 */
	if (d->own_fault_fd && d->fault_fd >= 0)
		close(d->fault_fd);
	d->fault_fd = -1;
	if (d->iommu_fd >= 0 && d->own_fault_fd)
		destroy_obj(dev, d, d->fault_id, "fault queue");
	if (d->own_iommu_fd && d->iommu_fd >= 0)
		close(d->iommu_fd);
	d->hwpt_id = d->fault_id = 0;
}
