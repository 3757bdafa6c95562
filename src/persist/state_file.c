// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The state file on disk: written whole to a temporary file, synced and renamed over the old
 * one, so that a crash or a full disk leaves the old state or the new, never half; read whole,
 * at most EW_STATE_MAX_BYTES, from a regular file only; one refused is renamed PATH.rejected.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitwatch/persist/state.h"
#include "exitwatch/util/cleanup.h"

int ew_state_save(const struct ew_detector *d, const struct ew_resolver *r, const char *path,
		  uint64_t saved_ns, int64_t step_ns, const char *boot_id)
{
	struct ew_buf b = EW_BUF_INIT;
	char tmp[PATH_MAX];
	int fd, err = 0;

	if (ew_state_write_boot(d, r, saved_ns, step_ns, boot_id, &b)) {
		ew_buf_free(&b);
		return -ENOMEM;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	/* Temp file, fsync, rename: a crash leaves the old state or the new, never half. */
	for (size_t off = 0; off < b.len;) {
		ssize_t n = write(fd, b.data + off, b.len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
out:
	ew_buf_free(&b);
	return err;
}

int ew_state_load(struct ew_detector *d, struct ew_resolver *r, const char *path, uint64_t now_ns,
		  uint64_t *shifted_ns, char boot_id[EW_BOOT_ID_LEN], char *err, size_t errlen)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *data = NULL;
	struct stat st;
	size_t off = 0;

	if (shifted_ns)
		*shifted_ns = 0;
	if (boot_id)
		boot_id[0] = '\0';
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > EW_STATE_MAX_BYTES) {
		snprintf(err, errlen, "%s: not a regular file of a sane size", path);
		return -EINVAL;
	}
	data = malloc((size_t)st.st_size + 1);
	if (!data)
		return -ENOMEM;
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, data + off, (size_t)st.st_size - off);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		off += (size_t)n;
	}
	if (ew_state_read_boot(d, r, data, off, now_ns, shifted_ns, boot_id, err, errlen)) {
		char msg[256], kept[PATH_MAX];

		snprintf(msg, sizeof(msg), "%s", err);
		/*
		 * The next checkpoint writes path anew: kept aside, a newer release's file (a
		 * rollback) or a corrupt one is still there to look into or to restore.
		 */
		snprintf(kept, sizeof(kept), "%s.rejected", path);
		if (!rename(path, kept))
			snprintf(err, errlen, "%s: %s; kept as %s", path, msg, kept);
		else
			snprintf(err, errlen,
				 "%s: %s; it could not be kept aside as %s (%s), the next "
				 "checkpoint overwrites it",
				 path, msg, kept, strerror(errno));
		return -EINVAL;
	}
	return 0;
}
