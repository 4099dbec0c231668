/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Profile writer and builder.
 *
 * The writer prints a struct pfdk_profile as the INI text the loader reads,
 * key for key, so that loading the text gives the same profile back. The
 * builder validates a profile an application filled in C by writing it and
 * loading the text: the checks are the loader's own, not a copy that could
 * drift from them, and the errors name the section and the key.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cfgfile.h>
#include <rte_string_fns.h>

#include "pfdk_profile.h"

/* The loader refuses a text above 1 MiB (PF_MAX_TEXT): so does the writer. */
#define PW_TEXT_MAX (1u << 20)

/* A value the INI text can carry as it is: no line break, no comment. */
static bool
pw_plain(const char *v)
{
	for (; *v != '\0'; v++)
		if (*v == '\n' || *v == '\r' || *v == ';')
			return false;
	return true;
}

struct pw_buf {
	char *buf;
	size_t len;
	size_t off; /* what the text needs, even past len */
};

static void __rte_format_printf(2, 3)
pw_add(struct pw_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->off < b->len ? b->buf + b->off : NULL,
		      b->off < b->len ? b->len - b->off : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->off += (size_t)n;
}

/*
 * Split a device name into PREFIX and the number N it ends with, when
 * "%s%u" of the two gives the name back (no leading zero): the devices a
 * PREFIX[A-B] range names.
 */
static bool
pw_numbered(const char *name, size_t *plen, unsigned long *n)
{
	size_t l = strlen(name), b = l;
	char *end;

	while (b > 0 && name[b - 1] >= '0' && name[b - 1] <= '9')
		b--;
	if (b == l || b == 0 || l - b > 9 || (name[b] == '0' && l - b > 1))
		return false;
	*n = strtoul(name + b, &end, 10);
	*plen = b;
	return true;
}

/* How many entries from @p i name queue Q of devices PREFIX N, N+1, ... */
static unsigned int
pw_dev_run(const struct pfdk_profile *prof, const struct pfdk_profile_lcore *lc,
	   unsigned int i, size_t *plen, unsigned long *first)
{
	const char *name = prof->devices[lc->queues[i].dev].name;
	unsigned int j;
	unsigned long n;
	size_t l;

	if (!pw_numbered(name, plen, first))
		return 1;
	for (j = i + 1; j < lc->nb_queues; j++) {
		const struct pfdk_profile_queue *q = &lc->queues[j];
		const char *nj;

		if (q->dev >= prof->nb_devices || q->queue != lc->queues[i].queue)
			break;
		nj = prof->devices[q->dev].name;
		if (!pw_numbered(nj, &l, &n) || l != *plen ||
		    strncmp(nj, name, l) != 0 || n != *first + (j - i))
			break;
	}
	return j - i;
}

/*
 * A poller's queues = value, in the loader's range forms so that 64 queues
 * fit rte_cfgfile's value: one device's consecutive queues as DEV:A-B,
 * queue Q of consecutively numbered devices as PREFIX[A-B]:Q. The order is
 * kept, so the loader expands the value into the same queues[].
 */
static int
pw_queues(const struct pfdk_profile *prof, const struct pfdk_profile_lcore *lc,
	  char *out, size_t len)
{
	struct pw_buf b = { out, len, 0 };
	unsigned int i, j, k;
	unsigned long first;
	size_t plen;

	out[0] = '\0';
	for (i = 0; i < lc->nb_queues; i = j) {
		const struct pfdk_profile_queue *q = &lc->queues[i];
		const char *name;

		if (q->dev >= prof->nb_devices)
			return -EINVAL;
		name = prof->devices[q->dev].name;
		k = pw_dev_run(prof, lc, i, &plen, &first);
		if (k > 1) {
			pw_add(&b, "%s%.*s[%lu-%lu]:%u", i == 0 ? "" : ",",
			       (int)plen, name, first, first + k - 1, q->queue);
			j = i + k;
			continue;
		}
		for (j = i + 1; j < lc->nb_queues &&
		     lc->queues[j].dev == q->dev &&
		     lc->queues[j].queue == q->queue + (j - i); j++)
			;
		pw_add(&b, "%s%s:%u", i == 0 ? "" : ",", name, q->queue);
		if (j - i > 1)
			pw_add(&b, "-%u", lc->queues[j - 1].queue);
	}
	return b.off < len ? 0 : -ENOSPC;
}

/* The text into @p buf; its full length, even past @p len; or -EINVAL. */
static long
pw_text(const struct pfdk_profile *prof, char *buf, size_t len)
{
	struct pw_buf b = { buf, len, 0 };
	char q[CFG_VALUE_LEN];
	unsigned int i;

	if (!pw_plain(prof->name))
		return -EINVAL;
	pw_add(&b, "[pfdk]\n");
	if (prof->name[0] != '\0')
		pw_add(&b, "name = %s\n", prof->name);
	pw_add(&b, "layout = %s\nburst = %u\nmain_cpu = %d\n",
	       pfdk_layout_name(prof->layout), prof->burst, prof->main_cpu);
	for (i = 0; i < prof->nb_nodes && i < PFDK_PROFILE_MAX_NODES; i++) {
		const struct pfdk_profile_node *nd = &prof->nodes[i];

		pw_add(&b, "\n[node.%d]\npool_size = %u\npool_cache = %u\nring_size = %u\n",
		       nd->node, nd->pool_size, nd->pool_cache, nd->ring_size);
	}
	for (i = 0; i < prof->nb_devices && i < PFDK_PROFILE_MAX_DEVICES; i++) {
		const struct pfdk_profile_device *d = &prof->devices[i];

		if (!pw_plain(d->name) || !pw_plain(d->devargs))
			return -EINVAL;
		pw_add(&b, "\n[device.%s]\n", d->name);
		if (d->devargs[0] != '\0')
			pw_add(&b, "devargs = %s\n", d->devargs);
		pw_add(&b, "queues = %u\n", d->nb_queues);
	}
	for (i = 0; i < prof->nb_lcores && i < PFDK_PROFILE_MAX_LCORES; i++) {
		const struct pfdk_profile_lcore *lc = &prof->lcores[i];

		if (lc->implied)
			continue; /* layout = inthread adds it again on load */
		pw_add(&b, "\n[lcore.%u]\nrole = %s\ncpu = %d\nnode = %d\n",
		       lc->lcore_id, pfdk_role_name(lc->role), lc->cpu,
		       lc->node);
		if (lc->role != PFDK_ROLE_POLLER)
			continue;
		pw_add(&b, "engine = %s\n", pfdk_engine_name(lc->engine));
		/* -1 is "not given"; the loader refuses it on a uring poller */
		if (lc->sqpoll_cpu >= 0 || pfdk_engine_sqpoll(lc->engine))
			pw_add(&b, "sqpoll_cpu = %d\n", lc->sqpoll_cpu);
		if (lc->nb_queues > PFDK_PROFILE_MAX_QUEUES)
			return -EINVAL;
		if (pw_queues(prof, lc, q, sizeof(q)) < 0)
			return -EINVAL;
		if (lc->nb_queues > 0)
			pw_add(&b, "queues = %s\n", q);
	}
	return b.off > PW_TEXT_MAX ? -EINVAL : (long)b.off;
}

int
pfdk_profile_format(const struct pfdk_profile *prof, char *buf, size_t len)
{
	long n;

	if (prof == NULL || (buf == NULL && len != 0))
		return -EINVAL;
	n = pw_text(prof, buf, len);
	if (n < 0)
		return (int)n;
	return (size_t)n < len ? (int)n : -ENOSPC;
}

int
pfdk_profile_write(const struct pfdk_profile *prof, FILE *f)
{
	char *text;
	long n;
	int ret;

	if (prof == NULL || f == NULL)
		return -EINVAL;
	n = pw_text(prof, NULL, 0);
	if (n < 0)
		return (int)n;
	text = malloc((size_t)n + 1);
	if (text == NULL)
		return -ENOMEM;
	pw_text(prof, text, (size_t)n + 1);
	ret = fwrite(text, 1, (size_t)n, f) == (size_t)n ? (int)n : -EIO;
	free(text);
	return ret;
}

int
pfdk_profile_validate(struct pfdk_profile *prof,
		      const struct pfdk_profile_check *check,
		      char *err, size_t errlen)
{
	struct pfdk_profile *out;
	const char *name;
	char *text;
	int n, ret;
	unsigned int i;

	if (errlen > 0)
		err[0] = '\0';
	if (prof == NULL)
		return -EINVAL;
	name = prof->path[0] != '\0' ? prof->path : "(built profile)";
	text = malloc(PW_TEXT_MAX);
	out = malloc(sizeof(*out));
	if (text == NULL || out == NULL) {
		free(text);
		free(out);
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	n = pfdk_profile_format(prof, text, PW_TEXT_MAX);
	if (n < 0) {
		snprintf(err, errlen,
			 "%s: cannot be written as a profile: %s (a name or devargs with ';' or a line break, or a queue of an unknown device)",
			 name, n == -ENOSPC ? "too large" : "bad value");
		ret = -EINVAL;
		goto out;
	}
	ret = pfdk_profile_load_string(name, text, (size_t)n, out, check,
				       err, errlen);
	if (ret < 0)
		goto out;
	/* what the text cannot carry: spaces the loader trims */
	if (prof->name[0] != '\0' && strcmp(out->name, prof->name) != 0) {
		snprintf(err, errlen, "%s: [pfdk] name: '%s' does not survive being written (leading or trailing spaces)",
			 name, prof->name);
		ret = -EINVAL;
		goto out;
	}
	for (i = 0; i < prof->nb_devices; i++)
		if (prof->devices[i].devargs[0] != '\0' &&
		    strcmp(out->devices[i].devargs, prof->devices[i].devargs) != 0) {
			snprintf(err, errlen, "%s: [device.%s] devargs: '%s' does not survive being written (leading or trailing spaces)",
				 name, prof->devices[i].name,
				 prof->devices[i].devargs);
			ret = -EINVAL;
			goto out;
		}
	memcpy(out->path, prof->path, sizeof(out->path));
	*prof = *out;
out:
	free(text);
	free(out);
	return ret;
}
