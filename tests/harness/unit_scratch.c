// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Scratch directories and the file-tree helpers of tests/harness/unit.h. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "harness/unit.h"

#define TAG_MAX	 24 /* of the binary's name, in a scratch directory's */
#define OPEN_FDS 16 /* nftw's directory descriptors at most */

int ew_t_scratch_make(struct ew_t_scratch *s, const char *tag)
{
	if ((size_t)snprintf(s->dir, sizeof(s->dir), "/tmp/ew-%s-XXXXXX", tag) >= sizeof(s->dir))
		return -ENAMETOOLONG;
	return mkdtemp(s->dir) ? 0 : -errno;
}

int ew_t_scratch_remove(const struct ew_t_scratch *s)
{
	return ew_t_remove_tree(s->dir);
}

int ew_t_scratch_setup(void **state)
{
	struct ew_t_scratch *s = calloc(1, sizeof(*s));
	const char *name = program_invocation_short_name;
	char tag[TAG_MAX + 1];

	if (!s)
		return -1;
	if (!strncmp(name, "test_", 5))
		name += 5;
	snprintf(tag, sizeof(tag), "%s", name);
	if (ew_t_scratch_make(s, tag) < 0) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

int ew_t_scratch_teardown(void **state)
{
	struct ew_t_scratch *s = *state;
	int r = ew_t_scratch_remove(s);

	if (r < 0)
		print_error("cannot remove %s: %s\n", s->dir, strerror(-r));
	free(s);
	return r < 0 ? -1 : 0;
}

const char *ew_t_scratch_path(const struct ew_t_scratch *s, const char *rel, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/%s", s->dir, rel) >= len)
		fail_msg("path %s/%s is longer than %zu bytes", s->dir, rel, len - 1);
	return buf;
}

void ew_t_scratch_put(const struct ew_t_scratch *s, const char *rel, const char *text)
{
	char path[PATH_MAX], *slash;
	FILE *f;
	int r;

	ew_t_scratch_path(s, rel, path, sizeof(path));
	slash = strrchr(path, '/');
	*slash = '\0';
	r = ew_t_mkdirs(path);
	if (r)
		fail_msg("cannot make %s: %s", path, strerror(-r));
	*slash = '/';
	f = fopen(path, "w");
	if (!f)
		fail_msg("cannot write %s: %s", path, strerror(errno));
	fputs(text, f);
	if (fclose(f))
		fail_msg("cannot write %s: %s", path, strerror(errno));
}

/* Depth first, so a directory comes after what it holds; a symbolic link is itself removed. */
static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -errno : 0;
}

int ew_t_remove_tree(const char *path)
{
	int r = nftw(path, rm_entry, OPEN_FDS, FTW_DEPTH | FTW_PHYS);

	if (r == -1) /* nftw's own failure, errno set (an entry's failure is -errno too) */
		return errno == ENOENT ? 0 : -errno;
	return r;
}

int ew_t_mkdirs(const char *path)
{
	char buf[PATH_MAX];

	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -errno : 0;
}
