/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the profile loader: any bytes, as if they were a
 * profile file, must give 0 or an error message, never a crash, a leak or
 * an unterminated message. Checked against a 16-CPU, 2-node host so that
 * the cross-lcore rules are reachable.
 *
 * Each input goes through the real file loader, pfdk_profile_load(), from a
 * memfd opened by path (its read loop grows its buffer past 4 KiB), twice:
 * as it is, and with comment lines appended to take it over 8 KiB. Both must
 * agree with each other and with pfdk_profile_load_string() on the same
 * text: same result, same message, same profile.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create() */
#endif
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pfdk_profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAD_LINES 96 /* 96 lines of 96 bytes: 9 KiB of comments */

/* ~60 KiB each: not on the stack */
static struct pfdk_profile prof_str, prof_file, prof_pad;

static const struct pfdk_profile_check check = { .ncpus = 16, .nnodes = 2 };

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Load @p data (+ padding) from a file; the path is its name in messages. */
static int
load_file(const uint8_t *data, size_t size, bool pad, char *path,
	  struct pfdk_profile *prof, char *err, size_t errlen)
{
	char line[96];
	int fd, ret, i;

	fd = memfd_create("fuzz-profile", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (write_all(fd, data, size) < 0)
		abort();
	if (pad) {
		/* a newline first: the input's last line stays what it was */
		memset(line, ';', sizeof(line));
		line[0] = '\n';
		for (i = 0; i < PAD_LINES; i++)
			if (write_all(fd, line, sizeof(line)) < 0)
				abort();
		if (write_all(fd, "\n", 1) < 0)
			abort();
	}
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	ret = pfdk_profile_load(path, prof, &check, err, errlen);
	close(fd);
	return ret;
}

static void
check_result(int ret, const char *err, size_t errlen)
{
	/* every failure explains itself, in a terminated string */
	if (ret != 0 && ((ret != -EINVAL && ret != -ENOMEM) ||
			 memchr(err, '\0', errlen) == NULL || err[0] == '\0'))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err_str[512], err_file[512], err_pad[512], eal[4096];
	char path[64], path_pad[64];
	int ret_str, ret_file, ret_pad;
	unsigned int i;

	memset(err_file, 0x55, sizeof(err_file));
	ret_file = load_file(data, size, false, path, &prof_file, err_file,
			     sizeof(err_file));
	check_result(ret_file, err_file, sizeof(err_file));
	/* the same text by the in-memory loader, under the same name */
	memset(err_str, 0x55, sizeof(err_str));
	ret_str = pfdk_profile_load_string(path, (const char *)data, size,
					   &prof_str, &check, err_str,
					   sizeof(err_str));
	check_result(ret_str, err_str, sizeof(err_str));
	if (ret_str != ret_file ||
	    (ret_str != 0 && strcmp(err_str, err_file) != 0) ||
	    (ret_str == 0 && memcmp(&prof_str, &prof_file, sizeof(prof_str)) != 0))
		abort();
	/*
	 * Over 8 KiB. Comments change nothing but the size, unless the
	 * padding pushes it past the 1 MiB limit.
	 */
	memset(err_pad, 0x55, sizeof(err_pad));
	ret_pad = load_file(data, size, true, path_pad, &prof_pad, err_pad,
			    sizeof(err_pad));
	check_result(ret_pad, err_pad, sizeof(err_pad));
	if (size + PAD_LINES * 96 + 1 <= (1u << 20) && size <= (1u << 20) &&
	    ret_pad != ret_file)
		abort();
	if (ret_file != 0)
		return 0;
	/* a loaded profile is usable: it maps to EAL lcores and its nodes */
	if (pfdk_profile_eal_lcores(&prof_file, eal, sizeof(eal)) <= 0)
		abort();
	for (i = 0; i < prof_file.nb_lcores; i++)
		if (pfdk_profile_node(&prof_file, prof_file.lcores[i].node) == NULL)
			abort();
	return 0;
}
