// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * On-disk spool of a stream sink: whole lines appended at the end, consumed from a read
 * position kept in memory. The file holds nothing but the lines, so an operator can read it
 * with any tool, and a spool written by one run is the next run's backlog.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output/spool_int.h"
#include "exitwatch/util/cleanup.h"

/* Read size for peeking and copying; a longer line grows the buffer. */
#define SPOOL_CHUNK_BYTES (64 * 1024)
/*
 * Compaction copies the unread tail. Waiting until the consumed head is at least this large
 * and at least as large as the tail keeps the copying amortised O(1) per spooled byte.
 */
#define SPOOL_COMPACT_MIN_BYTES (1024 * 1024)

struct ew_spool {
	int fd;
	char *path;
	char *tmp_path;	    /* compaction writes here, then renames over path */
	uint64_t max_bytes; /* bound on unread bytes */
	uint64_t size;	    /* file size: consumed head + unread tail */
	uint64_t read_off;  /* first unread byte */
	uint64_t lines;	    /* unread lines */
	char *buf;	    /* read cache: file bytes [buf_pos, buf_pos + buf_len) */
	size_t buf_cap;
	size_t buf_len;
	uint64_t buf_pos;
	size_t peek_len; /* the line ew_spool_peek() returned; 0 when none */
};

static int mkdir_parents(const char *dir)
{
	_cleanup_free_ char *p = strdup(dir);

	if (!p)
		return -ENOMEM;
	for (char *c = p + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -errno;
		*c = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int pwrite_all(int fd, const void *p, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p = (const char *)p + n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Reads exactly len bytes at off: the spool only ever asks for bytes it knows are there. */
static int pread_all(int fd, void *p, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p = (char *)p + n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int spool_reserve(struct ew_spool *s, size_t cap)
{
	char *b;

	if (s->buf_cap >= cap)
		return 0;
	b = realloc(s->buf, cap);
	if (!b)
		return -ENOMEM;
	s->buf = b;
	s->buf_cap = cap;
	return 0;
}

static void spool_forget_cache(struct ew_spool *s)
{
	s->buf_len = 0;
	s->buf_pos = 0;
	s->peek_len = 0;
}

/* Counts the lines a previous run left and cuts off a torn last line. O(file size), once. */
static int spool_scan(struct ew_spool *s, uint64_t file_size)
{
	uint64_t off = 0, end = 0;
	int r = spool_reserve(s, SPOOL_CHUNK_BYTES);

	if (r < 0)
		return r;
	while (off < file_size) {
		size_t n =
			file_size - off < SPOOL_CHUNK_BYTES ? file_size - off : SPOOL_CHUNK_BYTES;

		r = pread_all(s->fd, s->buf, n, off);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++) {
			if (s->buf[i] == '\n') {
				s->lines++;
				end = off + i + 1;
			}
		}
		off += n;
	}
	if (end < file_size && ftruncate(s->fd, (off_t)end) < 0)
		return -errno;
	s->size = end;
	return 0;
}

static void spool_free(struct ew_spool *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	free(s->tmp_path);
	free(s->path);
	free(s);
}

int ew_spool_open(const char *dir, const char *name, uint64_t max_bytes, struct ew_spool **ret)
{
	struct ew_spool *s;
	struct stat st;
	int r;

	r = mkdir_parents(dir);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->max_bytes = max_bytes;
	if (asprintf(&s->path, "%s/%s", dir, name) < 0) {
		s->path = NULL;
		r = -ENOMEM;
		goto err;
	}
	if (asprintf(&s->tmp_path, "%s.tmp", s->path) < 0) {
		s->tmp_path = NULL;
		r = -ENOMEM;
		goto err;
	}
	s->fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->fd < 0) {
		r = -errno;
		goto err;
	}
	/* Two agents appending to one spool would interleave and double-deliver. */
	if (flock(s->fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto err;
	}
	if (fstat(s->fd, &st) < 0) {
		r = -errno;
		goto err;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto err;
	}
	r = spool_scan(s, (uint64_t)st.st_size);
	if (r < 0)
		goto err;
	/* A compaction interrupted by a crash left the original intact: drop its copy. */
	unlink(s->tmp_path);
	*ret = s;
	return 0;
err:
	/* Not ew_spool_close(): an empty file here may be another agent's live spool. */
	spool_free(s);
	return r;
}

int ew_spool_append(struct ew_spool *s, const char *line, size_t len)
{
	int r;

	/* The file's framing is the '\n': anything else would desynchronise the line count. */
	if (!len || line[len - 1] != '\n' || memchr(line, '\n', len - 1))
		return -EINVAL;
	/* Not -ENOSPC: that is the disk's, and an operator fixes the two differently. */
	if (ew_spool_bytes(s) + len > s->max_bytes)
		return -ENOBUFS;
	r = pwrite_all(s->fd, line, len, s->size);
	if (r < 0) {
		/* A torn line would glue itself to the next one. */
		if (ftruncate(s->fd, (off_t)s->size) < 0)
			return -errno;
		return r;
	}
	s->size += len;
	s->lines++;
	return 0;
}

int ew_spool_peek(struct ew_spool *s, const char **line, size_t *len)
{
	size_t want = SPOOL_CHUNK_BYTES;

	if (!s->lines)
		return 0;
	for (;;) {
		uint64_t avail = s->size - s->read_off;
		size_t n;
		int r;

		if (s->read_off >= s->buf_pos && s->read_off < s->buf_pos + s->buf_len) {
			size_t start = (size_t)(s->read_off - s->buf_pos);
			char *nl = memchr(s->buf + start, '\n', s->buf_len - start);

			if (nl) {
				*line = s->buf + start;
				*len = (size_t)(nl - *line) + 1;
				s->peek_len = *len;
				return 1;
			}
			if (start == 0) {
				/* Only whole lines are ever written: no '\n' up to the end is damage. */
				if (s->buf_len >= avail)
					return -EIO;
				want = s->buf_len * 2;
			}
		}
		n = avail < want ? (size_t)avail : want;
		if (!n)
			return -EIO;
		r = spool_reserve(s, n);
		if (r < 0)
			return r;
		r = pread_all(s->fd, s->buf, n, s->read_off);
		if (r < 0) {
			spool_forget_cache(s);
			return r;
		}
		s->buf_pos = s->read_off;
		s->buf_len = n;
	}
}

/*
 * Rewrites the file as front + the unread tail, through a temporary file renamed over it, so
 * that a crash leaves either the old or the new spool, never a mix.
 */
static int spool_rewrite(struct ew_spool *s, const struct iovec *front, size_t nfront)
{
	_cleanup_close_ int fd = -1;
	uint64_t off = 0;
	int r;

	r = spool_reserve(s, SPOOL_CHUNK_BYTES);
	if (r < 0)
		return r;
	spool_forget_cache(s);
	fd = open(s->tmp_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < nfront; i++) {
		r = pwrite_all(fd, front[i].iov_base, front[i].iov_len, off);
		if (r < 0)
			goto err;
		off += front[i].iov_len;
	}
	for (uint64_t pos = s->read_off; pos < s->size;) {
		size_t n = s->size - pos < SPOOL_CHUNK_BYTES ? s->size - pos : SPOOL_CHUNK_BYTES;

		r = pread_all(s->fd, s->buf, n, pos);
		if (r < 0)
			goto err;
		r = pwrite_all(fd, s->buf, n, off);
		if (r < 0)
			goto err;
		pos += n;
		off += n;
	}
	/* Locked before it gets the name, so no second agent can take it in between. */
	if (fdatasync(fd) < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 || rename(s->tmp_path, s->path)) {
		r = -errno;
		goto err;
	}
	close(s->fd);
	s->fd = TAKE_FD(fd);
	s->size = off;
	s->read_off = 0;
	s->lines += nfront;
	return 0;
err:
	unlink(s->tmp_path);
	return r;
}

void ew_spool_pop(struct ew_spool *s)
{
	if (!s->peek_len)
		return;
	s->read_off += s->peek_len;
	s->lines--;
	s->peek_len = 0;
	if (!s->lines) {
		/* On failure the bytes stay as a consumed head; the next empty spool retries. */
		if (ftruncate(s->fd, 0) == 0) {
			s->size = 0;
			s->read_off = 0;
			spool_forget_cache(s);
		}
		return;
	}
	/* On failure the consumed head just stays a little longer; a later pop retries. */
	if (s->read_off >= SPOOL_COMPACT_MIN_BYTES && s->read_off >= s->size - s->read_off)
		spool_rewrite(s, NULL, 0);
}

uint64_t ew_spool_bytes(const struct ew_spool *s)
{
	return s->size - s->read_off;
}

uint64_t ew_spool_lines(const struct ew_spool *s)
{
	return s->lines;
}

uint64_t ew_spool_max_bytes(const struct ew_spool *s)
{
	return s->max_bytes;
}

const char *ew_spool_path(const struct ew_spool *s)
{
	return s->path;
}

int ew_spool_close(struct ew_spool *s, const struct iovec *front, size_t nfront)
{
	int r = 0;

	if (!s)
		return 0;
	/* Rewriting also when only the head was consumed: the next run must not resend it. */
	if (nfront || (s->read_off && s->lines))
		r = spool_rewrite(s, front, nfront);
	if (!s->lines)
		unlink(s->path);
	spool_free(s);
	return r;
}
