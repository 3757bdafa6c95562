// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Where the runtime metadata module meets the file system. The files were written by a runtime
 * that may be broken or hostile (or by a container with a host mount), so: only ids and names of
 * the shapes below become path components, and only regular files no larger than
 * EW_META_MAX_BYTES are read, without ever blocking.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "identity/meta_int.h"
#include "exitwatch/util/cleanup.h"

int ew_meta_errf(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		/* So that "%m" says r, whatever ran since; and strerror() is not thread-safe. */
		errno = -r;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

static bool meta_is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* 64 lower-case hex: the only shape of id that may become a path component. */
bool ew_meta_id_valid(const char *id)
{
	size_t i;

	for (i = 0; i < EW_ID_LEN - 1; i++)
		if (!meta_is_lower_hex(id[i]))
			return false;
	return id[i] == '\0';
}

/*
 * A pod uid as the kubelet writes it: 8-4-4-4-12 lower-case hex, or 32 hex without dashes,
 * which is what static (manifest) pods get: the hash of their manifest.
 */
bool ew_meta_uid_valid(const char *uid)
{
	size_t len = strnlen(uid, EW_UID_LEN);

	if (len == 32) {
		for (size_t i = 0; i < len; i++)
			if (!meta_is_lower_hex(uid[i]))
				return false;
		return true;
	}
	if (len != EW_UID_LEN - 1)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? uid[i] != '-' : !meta_is_lower_hex(uid[i]))
			return false;
	}
	return true;
}

/* ASCII only: isalnum() would follow the locale. */
static bool meta_is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

/*
 * A single directory name we may open under a trusted directory: no '/', nothing starting
 * with '.' (so neither "." nor ".."), and only the characters container names and containerd
 * namespaces use.
 */
bool ew_meta_component_valid(const char *s)
{
	size_t len = strnlen(s, NAME_MAX + 1);

	if (len == 0 || len > NAME_MAX || s[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!meta_is_name_char(s[i]))
			return false;
	return true;
}

/*
 * Reads a whole regular file into a NUL-terminated buffer. lstat first, so that a device node
 * is never even opened (opening some has side effects); then O_NOFOLLOW|O_NONBLOCK and fstat
 * again, which closes the race with a file swapped in between and keeps a FIFO from blocking.
 */
int ew_meta_read_file(const char *path, char **ret_buf, size_t *ret_len, char *err, size_t errlen)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t cap, len = 0;

	*ret_buf = NULL;
	*ret_len = 0;
	if (lstat(path, &st) < 0) {
		/* A file where a directory should be (a namespace name that is a file): absent. */
		int r = errno == ENOTDIR ? -ENOENT : -errno;

		return ew_meta_errf(err, errlen, r, "%s: %m", path);
	}
	if (!S_ISREG(st.st_mode))
		return ew_meta_errf(err, errlen, -EINVAL, "%s: not a regular file", path);
	if (st.st_size > EW_META_MAX_BYTES)
		goto too_big;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		/* ELOOP: the file became a symlink after lstat. */
		if (errno == ELOOP)
			return ew_meta_errf(err, errlen, -EINVAL, "%s: not a regular file", path);
		return ew_meta_errf(err, errlen, -errno, "%s: %m", path);
	}
	if (fstat(fd, &st) < 0)
		return ew_meta_errf(err, errlen, -errno, "%s: %m", path);
	if (!S_ISREG(st.st_mode))
		return ew_meta_errf(err, errlen, -EINVAL, "%s: not a regular file", path);
	if (st.st_size > EW_META_MAX_BYTES)
		goto too_big;

	/* st_size is a hint only: the file may grow while we read, up to the limit. */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf)
		return ew_meta_errf(err, errlen, -ENOMEM, "%s: out of memory", path);
	for (;;) {
		ssize_t n;

		if (len == cap - 1) {
			/* + 2: room for one byte past the limit, which proves the file too big. */
			size_t ncap = cap * 2 + 4096;
			char *nbuf;

			if (ncap > EW_META_MAX_BYTES + 2)
				ncap = EW_META_MAX_BYTES + 2;

			if (len > EW_META_MAX_BYTES)
				goto too_big;
			nbuf = realloc(buf, ncap);
			if (!nbuf)
				return ew_meta_errf(err, errlen, -ENOMEM, "%s: out of memory",
						    path);
			buf = nbuf;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ew_meta_errf(err, errlen, -errno, "%s: %m", path);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > EW_META_MAX_BYTES)
		goto too_big;
	buf[len] = '\0';
	*ret_buf = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
too_big:
	return ew_meta_errf(err, errlen, -EFBIG, "%s: larger than %d bytes", path,
			    EW_META_MAX_BYTES);
}
