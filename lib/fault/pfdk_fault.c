/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fault device class: driver registry, devargs, device life cycle and the
 * fast-path object table (the dmadev pattern).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_spinlock.h>
#include <rte_telemetry.h>

#include "pfdk_counter.h"
#include "pfdk_fault.h"
#include "pfdk_fault_driver.h"

/* "pfdk.fault"; the drivers' are "pfdk.fault.<driver>" (DPDK's lib.<name>) */
#define RTE_LOG_DEFAULT_LOGTYPE pfdk
RTE_LOG_REGISTER_SUFFIX(pfdk_fault_logtype, fault, INFO);

static TAILQ_HEAD(, pfdk_fault_driver) drivers =
	TAILQ_HEAD_INITIALIZER(drivers);

/*
 * Devices are created and destroyed from the control thread only; the
 * lock keeps the telemetry thread from reading a device being freed.
 */
static struct pfdk_fault_dev *devs[PFDK_FAULT_MAX_DEVS];
static uint16_t nb_devs;
static rte_spinlock_t devs_lock = RTE_SPINLOCK_INITIALIZER;

static struct pfdk_fault_fp_object fp_objs[PFDK_FAULT_MAX_DEVS];
struct pfdk_fault_fp_object *pfdk_fault_fp_objs = fp_objs;

static uint16_t
dummy_burst(void *queue, struct pfdk_fault **faults, uint16_t nb)
{
	RTE_SET_USED(queue);
	RTE_SET_USED(faults);
	RTE_SET_USED(nb);
	return 0;
}

static uint16_t
dummy_parse(void *queue, const void *buf, uint32_t len,
	    struct pfdk_fault **faults, uint16_t nb, uint32_t *consumed)
{
	RTE_SET_USED(queue);
	RTE_SET_USED(buf);
	RTE_SET_USED(len);
	RTE_SET_USED(faults);
	RTE_SET_USED(nb);
	*consumed = 0;
	return 0;
}

static uint32_t
dummy_service(void *queue, bool read)
{
	RTE_SET_USED(queue);
	RTE_SET_USED(read);
	return 0;
}

static int32_t
dummy_write_take(void *queue, const void **buf)
{
	RTE_SET_USED(queue);
	RTE_SET_USED(buf);
	return -ENOTSUP;
}

static void
dummy_write_done(void *queue, int32_t res)
{
	RTE_SET_USED(queue);
	RTE_SET_USED(res);
}

/* Queue pointers of stopped or absent devices: never dereferenced. */
static void *dummy_queues[PFDK_FAULT_MAX_QUEUES];

static void
fp_object_reset(uint16_t dev_id)
{
	fp_objs[dev_id].queues = dummy_queues;
	fp_objs[dev_id].recv = dummy_burst;
	fp_objs[dev_id].respond = dummy_burst;
	fp_objs[dev_id].parse_burst = dummy_parse;
	fp_objs[dev_id].service = dummy_service;
	fp_objs[dev_id].write_take = dummy_write_take;
	fp_objs[dev_id].write_done = dummy_write_done;
}

RTE_INIT(pfdk_fault_init_fp)
{
	uint16_t i;

	for (i = 0; i < PFDK_FAULT_MAX_DEVS; i++)
		fp_object_reset(i);
}

void
pfdk_fault_driver_register(struct pfdk_fault_driver *drv)
{
	TAILQ_INSERT_TAIL(&drivers, drv, next);
}

/* "sim12" -> the driver named "sim": the name minus its trailing digits. */
static const struct pfdk_fault_driver *
driver_for_name(const char *devname)
{
	const struct pfdk_fault_driver *drv;
	size_t len = strlen(devname);

	while (len > 0 && isdigit((unsigned char)devname[len - 1]))
		len--;
	TAILQ_FOREACH(drv, &drivers, next) {
		if (strlen(drv->name) == len &&
		    strncmp(drv->name, devname, len) == 0)
			return drv;
	}
	return NULL;
}

const char *
pfdk_fault_driver_params(const char *driver)
{
	const struct pfdk_fault_driver *drv;

	TAILQ_FOREACH(drv, &drivers, next)
		if (strcmp(drv->name, driver) == 0)
			return drv->params;
	return NULL;
}

/* Is @key one of the "key=<form>" words of @params? */
static int
param_known(const char *params, const char *key)
{
	size_t klen = strlen(key);
	const char *p = params;

	while (p != NULL && *p != '\0') {
		while (*p == ' ')
			p++;
		if (strncmp(p, key, klen) == 0 && p[klen] == '=')
			return 1;
		p = strchr(p, ' ');
	}
	return 0;
}

/* Is @key one of the space-separated words of @list (NULL: none)? */
static int
word_in(const char *list, const char *key)
{
	size_t klen = strlen(key);
	const char *p = list;

	while (p != NULL && *p != '\0') {
		while (*p == ' ')
			p++;
		if (strncmp(p, key, klen) == 0 && (p[klen] == ' ' || p[klen] == '\0'))
			return 1;
		p = strchr(p, ' ');
	}
	return 0;
}

int
pfdk_fault_kv_uint(const struct rte_kvargs *kv, const char *key,
		   uint64_t *val, uint64_t min, uint64_t max, char *err,
		   size_t errlen)
{
	const char *s = rte_kvargs_get(kv, key);
	unsigned long long v;
	char *end;

	if (s == NULL) {
		unsigned int i;

		/* Present without a value is an error; absent is fine. */
		for (i = 0; i < kv->count; i++)
			if (strcmp(kv->pairs[i].key, key) == 0)
				goto bad;
		return 0;
	}
	if (!isdigit((unsigned char)s[0]))
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		goto bad;
	*val = v;
	return 0;
bad:
	snprintf(err, errlen, "%s=%s: expected an integer in %" PRIu64
		 "..%" PRIu64, key, s ? s : "", min, max);
	return -EINVAL;
}

/* What the devargs promise (pfdk_fault_devargs_info()); parse has passed. */
static void
devargs_info_fill(const struct pfdk_fault_driver *drv,
		  const struct rte_kvargs *kv, const void *conf,
		  struct pfdk_fault_devargs_info *info)
{
	uint64_t v = 0;
	char e[8];

	info->driver = drv->name;
	if (drv->conf_max_queues != NULL) {
		info->max_queues = drv->conf_max_queues(conf);
	} else if (param_known(drv->params, "queues")) {
		v = PFDK_FAULT_MAX_QUEUES;
		pfdk_fault_kv_uint(kv, "queues", &v, 1, PFDK_FAULT_MAX_QUEUES,
				   e, sizeof(e));
		info->max_queues = (uint16_t)v;
	} else {
		info->max_queues = 1; /* what pfdk_fault_info_get() assumes */
	}
	v = 0;
	info->inthread = param_known(drv->params, "sigbus") &&
		pfdk_fault_kv_uint(kv, "sigbus", &v, 0, 1, e, sizeof(e)) == 0 &&
		v == 1;
}

/*
 * Split "<name>[,kv...]", find the driver, check every key against its
 * parameter string and let it parse the values into @conf (allocated here,
 * freed by the caller).
 */
static int
devargs_parse(const char *devargs, char *name,
	      const struct pfdk_fault_driver **pdrv, void **pconf,
	      struct pfdk_fault_devargs_info *info, char *err, size_t errlen)
{
	const struct pfdk_fault_driver *drv;
	struct rte_kvargs *kv = NULL;
	const char *comma;
	size_t nlen;
	unsigned int i;
	void *conf = NULL;
	int ret;

	*pconf = NULL;
	if (devargs == NULL || devargs[0] == '\0') {
		snprintf(err, errlen, "empty devargs");
		return -EINVAL;
	}
	comma = strchr(devargs, ',');
	nlen = comma ? (size_t)(comma - devargs) : strlen(devargs);
	if (nlen == 0 || nlen >= PFDK_FAULT_NAME_LEN) {
		snprintf(err, errlen, "'%s': device name must be 1..%d characters",
			 devargs, PFDK_FAULT_NAME_LEN - 1);
		return -EINVAL;
	}
	memcpy(name, devargs, nlen);
	name[nlen] = '\0';
	for (i = 0; i < nlen; i++) {
		if (!isalnum((unsigned char)name[i]) && name[i] != '_') {
			snprintf(err, errlen, "'%s': device name may hold only letters, digits and '_'",
				 name);
			return -EINVAL;
		}
	}
	drv = driver_for_name(name);
	if (drv == NULL) {
		snprintf(err, errlen, "'%s': no fault driver for this name (name = driver + number, e.g. sim0)",
			 name);
		return -EINVAL;
	}
	if (comma != NULL) {
		kv = rte_kvargs_parse(comma + 1, NULL);
		if (kv == NULL) {
			snprintf(err, errlen, "'%s': malformed key=value list (or more than %d keys)",
				 comma + 1, RTE_KVARGS_MAX);
			return -EINVAL;
		}
		for (i = 0; i < kv->count; i++) {
			const char *key = kv->pairs[i].key;
			unsigned int j;

			if (!param_known(drv->params, key)) {
				snprintf(err, errlen, "%s: unknown key '%s' (driver %s takes: %s)",
					 name, key, drv->name, drv->params);
				ret = -EINVAL;
				goto out;
			}
			/* rte_kvargs_get() would return the first silently */
			if (word_in(drv->repeatable, key))
				continue;
			for (j = 0; j < i; j++) {
				if (strcmp(kv->pairs[j].key, key) == 0) {
					snprintf(err, errlen, "%s: key '%s' given twice (%s=%s, then %s=%s)",
						 name, key, key,
						 kv->pairs[j].value ? kv->pairs[j].value : "",
						 key, kv->pairs[i].value ? kv->pairs[i].value : "");
					ret = -EINVAL;
					goto out;
				}
			}
		}
	} else {
		/* Let parse see an empty list, so defaults live in one place. */
		kv = rte_kvargs_parse("", NULL);
		if (kv == NULL) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	conf = calloc(1, drv->conf_size ? drv->conf_size : 1);
	if (conf == NULL) {
		snprintf(err, errlen, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	ret = drv->parse_devargs(kv, conf, err, errlen);
	if (ret < 0) {
		free(conf);
		goto out;
	}
	if (info != NULL)
		devargs_info_fill(drv, kv, conf, info);
	*pdrv = drv;
	*pconf = conf;
	ret = 0;
out:
	rte_kvargs_free(kv);
	return ret;
}

int
pfdk_fault_devargs_check(const char *devargs, char *err, size_t errlen)
{
	const struct pfdk_fault_driver *drv;
	char name[PFDK_FAULT_NAME_LEN];
	void *conf;
	int ret;

	ret = devargs_parse(devargs, name, &drv, &conf, NULL, err, errlen);
	free(conf);
	return ret;
}

int
pfdk_fault_devargs_info(const char *devargs,
			struct pfdk_fault_devargs_info *info,
			char *err, size_t errlen)
{
	const struct pfdk_fault_driver *drv;
	void *conf;
	int ret;

	if (info == NULL) {
		snprintf(err, errlen, "no info to fill");
		return -EINVAL;
	}
	memset(info, 0, sizeof(*info));
	ret = devargs_parse(devargs, info->name, &drv, &conf, info, err,
			    errlen);
	free(conf);
	return ret;
}

static struct pfdk_fault_dev *
dev_lookup(uint16_t dev_id)
{
	if (dev_id >= PFDK_FAULT_MAX_DEVS)
		return NULL;
	return devs[dev_id];
}

struct pfdk_fault_dev *
pfdk_fault_dev_get(uint16_t dev_id)
{
	return dev_lookup(dev_id);
}

int
pfdk_fault_get_dev_id(const char *name)
{
	uint16_t i;

	for (i = 0; i < PFDK_FAULT_MAX_DEVS; i++)
		if (devs[i] != NULL && strcmp(devs[i]->name, name) == 0)
			return i;
	return -ENODEV;
}

uint16_t
pfdk_fault_count(void)
{
	return nb_devs;
}

int
pfdk_fault_dev_create(const char *devargs)
{
	const struct pfdk_fault_driver *drv;
	char name[PFDK_FAULT_NAME_LEN];
	char err[256];
	struct pfdk_fault_dev *dev;
	void *conf;
	int id, ret;

	ret = devargs_parse(devargs, name, &drv, &conf, NULL, err, sizeof(err));
	if (ret < 0) {
		PFDK_FAULT_LOG(ERR, "devargs %s: %s", devargs ? devargs : "(null)", err);
		return ret;
	}
	if (pfdk_fault_get_dev_id(name) >= 0) {
		PFDK_FAULT_LOG(ERR, "device %s exists", name);
		ret = -EEXIST;
		goto out;
	}
	for (id = 0; id < PFDK_FAULT_MAX_DEVS; id++)
		if (devs[id] == NULL)
			break;
	if (id == PFDK_FAULT_MAX_DEVS) {
		PFDK_FAULT_LOG(ERR, "%s: all %d device slots in use", name,
			       PFDK_FAULT_MAX_DEVS);
		ret = -ENOSPC;
		goto out;
	}
	dev = rte_zmalloc("pfdk_fault_dev", sizeof(*dev), RTE_CACHE_LINE_SIZE);
	if (dev == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	strcpy(dev->name, name);
	dev->dev_id = id;
	dev->driver = drv;
	dev->socket_id = SOCKET_ID_ANY;
	ret = drv->probe(dev, conf);
	if (ret < 0) {
		PFDK_FAULT_LOG(ERR, "%s: probe failed: %s", name, strerror(-ret));
		rte_free(dev);
		goto out;
	}
	dev->state = PFDK_FAULT_DEV_CREATED;
	rte_spinlock_lock(&devs_lock);
	devs[id] = dev;
	nb_devs++;
	fp_objs[id].dev_private = dev->dev_private;
	__atomic_store_n(&fp_objs[id].driver, drv, __ATOMIC_RELEASE);
	rte_spinlock_unlock(&devs_lock);
	PFDK_FAULT_LOG(DEBUG, "%s: created as device %d (driver %s) from '%s'",
		       name, id, drv->name, devargs);
	ret = id;
out:
	free(conf);
	return ret;
}

int
pfdk_fault_info_get(uint16_t dev_id, struct pfdk_fault_info *info)
{
	struct pfdk_fault_dev *dev = dev_lookup(dev_id);

	if (dev == NULL)
		return -ENODEV;
	if (info == NULL)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	info->driver_name = dev->driver->name;
	info->dev_name = dev->name;
	info->nb_queues = dev->nb_queues;
	info->socket_id = dev->socket_id;
	info->max_queues = 1;
	info->max_group_records = 1;
	dev->ops->dev_info_get(dev, info);
	return 0;
}

static void
queues_release(struct pfdk_fault_dev *dev)
{
	uint16_t q;

	for (q = 0; q < PFDK_FAULT_MAX_QUEUES; q++) {
		if (dev->queues[q] != NULL) {
			dev->queue_stats[q] = NULL;
			dev->ops->queue_release(dev, q);
			dev->queues[q] = NULL;
		}
	}
}

/* Sum the queues' class-owned counters, then let the driver add its own. */
static void
stats_sum(const struct pfdk_fault_dev *dev, struct pfdk_fault_stats *st)
{
	uint16_t q;

	memset(st, 0, sizeof(*st));
	for (q = 0; q < dev->nb_queues; q++) {
		const struct pfdk_fault_queue_stats *qs = dev->queue_stats[q];

		if (qs == NULL)
			continue;
		st->received += pfdk_counter_read(&qs->received);
		st->responded += pfdk_counter_read(&qs->responded);
		st->groups += pfdk_counter_read(&qs->groups);
		st->invalid += pfdk_counter_read(&qs->invalid);
		st->nodesc += pfdk_counter_read(&qs->nodesc);
		st->full += pfdk_counter_read(&qs->full);
		st->errors += pfdk_counter_read(&qs->errors);
		st->aborted += pfdk_counter_read(&qs->aborted);
		st->outstanding += pfdk_counter_read(&qs->outstanding);
	}
	if (dev->ops->stats_get != NULL)
		dev->ops->stats_get(dev, st);
}

int
pfdk_fault_configure(uint16_t dev_id, const struct pfdk_fault_conf *conf)
{
	struct pfdk_fault_dev *dev = dev_lookup(dev_id);
	struct pfdk_fault_info info;
	int ret;

	if (dev == NULL)
		return -ENODEV;
	if (conf == NULL)
		return -EINVAL;
	if (dev->state == PFDK_FAULT_DEV_STARTED) {
		PFDK_FAULT_LOG(ERR, "%s: configure while started", dev->name);
		return -EBUSY;
	}
	pfdk_fault_info_get(dev_id, &info);
	if (conf->nb_queues == 0 || conf->nb_queues > info.max_queues ||
	    conf->nb_queues > PFDK_FAULT_MAX_QUEUES) {
		PFDK_FAULT_LOG(ERR, "%s: %u queues asked, 1..%u possible",
			       dev->name, conf->nb_queues, info.max_queues);
		return -EINVAL;
	}
	/* Reconfiguring drops the old queues: their pools may change. */
	queues_release(dev);
	/* Most drivers size everything per queue: configure is optional. */
	ret = dev->ops->dev_configure ? dev->ops->dev_configure(dev, conf) : 0;
	if (ret < 0)
		return ret;
	dev->nb_queues = conf->nb_queues;
	dev->state = PFDK_FAULT_DEV_CONFIGURED;
	PFDK_FAULT_LOG(DEBUG, "%s: configured, %u queue(s)", dev->name,
		       conf->nb_queues);
	return 0;
}

int
pfdk_fault_queue_setup(uint16_t dev_id, uint16_t queue_id,
		       const struct pfdk_fault_queue_conf *conf)
{
	struct pfdk_fault_dev *dev = dev_lookup(dev_id);
	int ret;

	if (dev == NULL)
		return -ENODEV;
	if (dev->state != PFDK_FAULT_DEV_CONFIGURED) {
		PFDK_FAULT_LOG(ERR, "%s: queue setup needs a configured, stopped device",
			       dev->name);
		return dev->state == PFDK_FAULT_DEV_STARTED ? -EBUSY : -EINVAL;
	}
	if (queue_id >= dev->nb_queues || conf == NULL || conf->pool == NULL) {
		PFDK_FAULT_LOG(ERR, "%s: queue %u: bad queue id or no pool",
			       dev->name, queue_id);
		return -EINVAL;
	}
	if (conf->pool->elt_size < sizeof(struct pfdk_fault)) {
		PFDK_FAULT_LOG(ERR, "%s: queue %u: pool %s holds %u-byte elements, descriptors need %zu",
			       dev->name, queue_id, conf->pool->name,
			       conf->pool->elt_size, sizeof(struct pfdk_fault));
		return -EINVAL;
	}
	if (dev->queues[queue_id] != NULL) {
		dev->queue_stats[queue_id] = NULL;
		dev->ops->queue_release(dev, queue_id);
		dev->queues[queue_id] = NULL;
	}
	ret = dev->ops->queue_setup(dev, queue_id, conf);
	PFDK_FAULT_LOG(DEBUG, "%s: queue %u set up on socket %d, pool %s: %s",
		       dev->name, queue_id, conf->socket_id, conf->pool->name,
		       ret < 0 ? strerror(-ret) : "ok");
	return ret;
}

int
pfdk_fault_start(uint16_t dev_id)
{
	struct pfdk_fault_dev *dev = dev_lookup(dev_id);
	uint16_t q;
	int ret;

	if (dev == NULL)
		return -ENODEV;
	if (dev->state == PFDK_FAULT_DEV_STARTED)
		return -EBUSY;
	if (dev->state != PFDK_FAULT_DEV_CONFIGURED) {
		PFDK_FAULT_LOG(ERR, "%s: start before configure", dev->name);
		return -EINVAL;
	}
	for (q = 0; q < dev->nb_queues; q++) {
		if (dev->queues[q] == NULL) {
			PFDK_FAULT_LOG(ERR, "%s: queue %u not set up", dev->name, q);
			return -EINVAL;
		}
	}
	ret = dev->ops->dev_start(dev);
	if (ret < 0)
		return ret;
	fp_objs[dev_id].queues = dev->queues;
	fp_objs[dev_id].recv = dev->ops->recv;
	fp_objs[dev_id].respond = dev->ops->respond;
	fp_objs[dev_id].parse_burst = dev->ops->parse_burst != NULL ?
				       dev->ops->parse_burst : dummy_parse;
	fp_objs[dev_id].service = dev->ops->service != NULL ? dev->ops->service :
		dummy_service;
	fp_objs[dev_id].write_take = dev->ops->write_take != NULL ?
		dev->ops->write_take : dummy_write_take;
	fp_objs[dev_id].write_done = dev->ops->write_done != NULL ?
		dev->ops->write_done : dummy_write_done;
	dev->state = PFDK_FAULT_DEV_STARTED;
	PFDK_FAULT_LOG(DEBUG, "%s: started", dev->name);
	return 0;
}

int
pfdk_fault_stop(uint16_t dev_id)
{
	struct pfdk_fault_dev *dev = dev_lookup(dev_id);
	struct pfdk_fault_stats st = { 0 };
	uint64_t aborted;
	int ret;

	if (dev == NULL)
		return -ENODEV;
	if (dev->state != PFDK_FAULT_DEV_STARTED)
		return 0;
	stats_sum(dev, &st);
	aborted = st.aborted;
	/*
	 * Detach the fast path first, so nothing is received after the
	 * driver has answered what is outstanding. The caller has stopped
	 * the lcores that poll it (pfdk_pipeline_stop() does): a burst
	 * running on another lcore is not waited for.
	 */
	fp_object_reset(dev_id);
	dev->state = PFDK_FAULT_DEV_CONFIGURED;
	ret = dev->ops->dev_stop(dev);
	stats_sum(dev, &st);
	if (st.aborted > aborted)
		PFDK_FAULT_LOG(WARNING, "%s: stop answered %" PRIu64 " outstanding group(s) INVALID",
			       dev->name, st.aborted - aborted);
	PFDK_FAULT_LOG(DEBUG, "%s: stopped: received %" PRIu64 ", responded %" PRIu64 "%s%s",
		       dev->name, st.received, st.responded,
		       ret < 0 ? ", " : "", ret < 0 ? strerror(-ret) : "");
	return ret;
}

int
pfdk_fault_close(uint16_t dev_id)
{
	struct pfdk_fault_dev *dev = dev_lookup(dev_id);

	if (dev == NULL)
		return -ENODEV;
	pfdk_fault_stop(dev_id);
	queues_release(dev);
	rte_spinlock_lock(&devs_lock);
	devs[dev_id] = NULL;
	nb_devs--;
	__atomic_store_n(&fp_objs[dev_id].driver, NULL, __ATOMIC_RELEASE);
	fp_objs[dev_id].dev_private = NULL;
	rte_spinlock_unlock(&devs_lock);
	dev->ops->dev_close(dev);
	PFDK_FAULT_LOG(DEBUG, "%s: closed (device %u)", dev->name, dev_id);
	rte_free(dev);
	return 0;
}

int
pfdk_fault_stats_get(uint16_t dev_id, struct pfdk_fault_stats *stats)
{
	struct pfdk_fault_dev *dev = dev_lookup(dev_id);

	if (dev == NULL)
		return -ENODEV;
	if (stats == NULL)
		return -EINVAL;
	stats_sum(dev, stats);
	return 0;
}

int
pfdk_fault_stats_reset(uint16_t dev_id)
{
	struct pfdk_fault_dev *dev = dev_lookup(dev_id);
	uint16_t q;

	if (dev == NULL)
		return -ENODEV;
	for (q = 0; q < dev->nb_queues; q++) {
		struct pfdk_fault_queue_stats *qs = dev->queue_stats[q];
		uint64_t out;

		if (qs == NULL)
			continue;
		/* Outstanding is state, not a counter: it survives the reset. */
		out = qs->outstanding;
		memset(qs, 0, sizeof(*qs));
		qs->outstanding = out;
	}
	if (dev->ops->stats_reset != NULL)
		dev->ops->stats_reset(dev);
	return 0;
}

int
pfdk_fault_queue_fd(uint16_t dev_id, uint16_t queue_id)
{
	struct pfdk_fault_dev *dev = dev_lookup(dev_id);

	if (dev == NULL)
		return -ENODEV;
	if (queue_id >= dev->nb_queues || dev->queues[queue_id] == NULL)
		return -EINVAL;
	if (dev->ops->queue_fd == NULL)
		return -ENOTSUP;
	return dev->ops->queue_fd(dev, queue_id);
}

int
pfdk_fault_queue_read_info(uint16_t dev_id, uint16_t queue_id,
			   struct pfdk_fault_read_info *info)
{
	struct pfdk_fault_dev *dev = dev_lookup(dev_id);

	if (dev == NULL)
		return -ENODEV;
	if (info == NULL || queue_id >= dev->nb_queues || dev->queues[queue_id] == NULL)
		return -EINVAL;
	if (dev->ops->queue_read_info == NULL || dev->ops->parse_burst == NULL)
		return -ENOTSUP;
	return dev->ops->queue_read_info(dev, queue_id, info);
}

int
pfdk_fault_queue_write_handoff(uint16_t dev_id, uint16_t queue_id, bool on,
			       struct pfdk_fault_write_info *info)
{
	struct pfdk_fault_dev *dev = dev_lookup(dev_id);

	if (dev == NULL)
		return -ENODEV;
	if ((on && info == NULL) || queue_id >= dev->nb_queues ||
	    dev->queues[queue_id] == NULL)
		return -EINVAL;
	if (dev->ops->queue_write_handoff == NULL || dev->ops->write_take == NULL ||
	    dev->ops->write_done == NULL)
		return -ENOTSUP;
	return dev->ops->queue_write_handoff(dev, queue_id, on, info);
}

int
pfdk_fault_inthread_set(uint16_t dev_id, bool enable)
{
	struct pfdk_fault_dev *dev = dev_lookup(dev_id);

	if (dev == NULL)
		return -ENODEV;
	if (dev->ops->inthread_set == NULL)
		return -ENOTSUP;
	return dev->ops->inthread_set(dev, enable);
}

static const char *
state_name(enum pfdk_fault_dev_state s)
{
	switch (s) {
	case PFDK_FAULT_DEV_CREATED: return "created";
	case PFDK_FAULT_DEV_CONFIGURED: return "configured";
	case PFDK_FAULT_DEV_STARTED: return "started";
	default: return "unused";
	}
}

int
pfdk_fault_dump(uint16_t dev_id, FILE *f)
{
	struct pfdk_fault_dev *dev = dev_lookup(dev_id);
	struct pfdk_fault_stats st;

	if (dev == NULL)
		return -ENODEV;
	pfdk_fault_stats_get(dev_id, &st);
	fprintf(f, "fault device %u: %s (driver %s), %s, %u queue(s)\n",
		dev_id, dev->name, dev->driver->name, state_name(dev->state),
		dev->nb_queues);
	fprintf(f, "  received %" PRIu64 " responded %" PRIu64 " groups %" PRIu64
		" invalid %" PRIu64 " nodesc %" PRIu64 " full %" PRIu64
		" errors %" PRIu64 " aborted %" PRIu64 " outstanding %" PRIu64 "\n",
		st.received, st.responded, st.groups, st.invalid, st.nodesc,
		st.full, st.errors, st.aborted, st.outstanding);
	if (dev->ops->dump != NULL)
		dev->ops->dump(dev, f);
	return 0;
}

struct rte_mempool *
pfdk_fault_pool_create(const char *name, unsigned int n,
		       unsigned int cache_size, int socket_id)
{
	return rte_mempool_create(name, n, sizeof(struct pfdk_fault),
				  cache_size, 0, NULL, NULL, NULL, NULL,
				  socket_id, 0);
}

/* Telemetry: /pfdk/devs and /pfdk/stats,<dev_id>, for dpdk-telemetry.py. */
static int
telemetry_devs(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint16_t i;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
	rte_spinlock_lock(&devs_lock);
	for (i = 0; i < PFDK_FAULT_MAX_DEVS; i++)
		if (devs[i] != NULL)
			rte_tel_data_add_array_int(d, i);
	rte_spinlock_unlock(&devs_lock);
	return 0;
}

static int
telemetry_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct pfdk_fault_stats st;
	struct pfdk_fault_dev *dev;
	char *end;
	long id;

	RTE_SET_USED(cmd);
	if (params == NULL || !isdigit((unsigned char)params[0]))
		return -EINVAL;
	id = strtol(params, &end, 10);
	if (*end != '\0' || id >= PFDK_FAULT_MAX_DEVS)
		return -EINVAL;
	rte_spinlock_lock(&devs_lock);
	dev = devs[id];
	if (dev == NULL) {
		rte_spinlock_unlock(&devs_lock);
		return -ENODEV;
	}
	stats_sum(dev, &st);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", dev->name);
	rte_tel_data_add_dict_string(d, "driver", dev->driver->name);
	rte_tel_data_add_dict_string(d, "state", state_name(dev->state));
	rte_tel_data_add_dict_int(d, "queues", dev->nb_queues);
	rte_spinlock_unlock(&devs_lock);
#define TEL_U64(f) rte_tel_data_add_dict_u64(d, #f, st.f)
	TEL_U64(received);
	TEL_U64(responded);
	TEL_U64(groups);
	TEL_U64(invalid);
	TEL_U64(nodesc);
	TEL_U64(full);
	TEL_U64(errors);
	TEL_U64(aborted);
	TEL_U64(outstanding);
#undef TEL_U64
	return 0;
}

RTE_INIT(pfdk_fault_init_telemetry)
{
	rte_telemetry_register_cmd("/pfdk/devs", telemetry_devs,
		"Returns the ids of the fault devices. Takes no parameters");
	rte_telemetry_register_cmd("/pfdk/stats", telemetry_stats,
		"Returns a fault device's counters. Parameters: int dev_id");
}
