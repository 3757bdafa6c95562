// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * stdout and file: sinks. Lines are batched, then written synchronously with one write() per
 * batch: on a busy node a write() per record was most of the agent's CPU. A file sink also
 * rotates by size and follows PATH when logrotate moved it away.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitwatch/util/log.h"
#include "output/output_int.h"

/*
 * Writes len bytes, looping over partial writes. Blocking is accepted here (stdout is a pipe
 * or a file read by the node's log agent); an fd left O_NONBLOCK by our parent is waited on.
 */
static int write_full(int fd, const char *p, size_t len, size_t *done)
{
	*done = 0;
	while (*done < len) {
		ssize_t n = write(fd, p + *done, len - *done);

		if (n > 0) {
			*done += (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};

			poll(&pfd, 1, -1);
		} else if (n == 0 || errno != EINTR) {
			return n < 0 ? -errno : -EIO;
		}
	}
	return 0;
}

static void sink_failed(struct sink *s, uint64_t lines, int err, const char *what)
{
	s->dropped += lines;
	if (!s->failing)
		ew_warn("output '%s': %s: %s; dropping lines until it recovers", s->spec, what,
			strerror(-err));
	s->failing = true;
}

static void sink_wrote(struct sink *s, uint64_t lines)
{
	s->delivered += lines;
	if (s->failing)
		ew_info("output '%s': writing again", s->spec);
	s->failing = false;
}

int ew_file_sink_open(struct sink *s)
{
	struct stat st;

	s->fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (s->fd < 0)
		return -errno;
	if (fstat(s->fd, &st) < 0) {
		int r = -errno;

		close(s->fd);
		s->fd = -1;
		return r;
	}
	/* Never rename a device (file:/dev/stderr) or a FIFO away. */
	s->regular = S_ISREG(st.st_mode);
	s->file_size = s->regular ? (uint64_t)st.st_size : 0;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return 0;
}

void ew_file_sink_close(struct sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/*
 * Whether PATH still names the file we write. Between logrotate's rename and the SIGHUP that
 * follows it, PATH is gone (or a new file made by logrotate's "create"): rotating then would
 * renumber PATH.1..N and fail to rename PATH, on every line, until the oldest files are
 * overwritten. A stat() that fails for another reason than ENOENT is no evidence of a move.
 */
static bool file_moved(const struct sink *s)
{
	struct stat st;

	if (stat(s->path, &st) < 0)
		return errno == ENOENT;
	return st.st_dev != s->dev || st.st_ino != s->ino;
}

/*
 * Opens PATH anew, as a SIGHUP would. When that fails, the moved file stays open: appending to it
 * beyond the limit loses nothing, dropping would. (A failed open changes nothing but s->fd.)
 */
static int file_follow(struct sink *s)
{
	int fd = s->fd;
	int r = ew_file_sink_open(s);

	if (r < 0) {
		s->fd = fd;
		return r;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

/*
 * PATH.(keep-1) -> PATH.keep, ..., PATH -> PATH.1: the oldest is overwritten. PATH is taken first,
 * under a name of ours: when logrotate moves it between file_moved() and here, nothing has been
 * renumbered yet. Returns 0; 1 when PATH turned out not to be the sink's file (follow it
 * instead); -errno, either not rotated (the file back at PATH and still open) or rotated with
 * PATH not opened again (fd -1).
 */
static int file_rotate(const struct ew_output_opts *opts, struct sink *s)
{
	char tmp[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
	struct stat st;
	int r = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.rotating", s->path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	if (rename(s->path, tmp) < 0)
		return errno == ENOENT ? 1 : -errno;
	if (stat(tmp, &st) < 0 || st.st_dev != s->dev || st.st_ino != s->ino) {
		rename(tmp, s->path); /* a new PATH made meanwhile: not ours to rotate */
		return 1;
	}
	for (uint32_t i = opts->file_keep; i > 1 && !r; i--) {
		if ((size_t)snprintf(from, sizeof(from), "%s.%u", s->path, i - 1) >= sizeof(from) ||
		    (size_t)snprintf(to, sizeof(to), "%s.%u", s->path, i) >= sizeof(to))
			r = -ENAMETOOLONG;
		else if (rename(from, to) < 0 && errno != ENOENT)
			r = -errno;
	}
	if (!r && opts->file_keep) {
		if ((size_t)snprintf(to, sizeof(to), "%s.1", s->path) >= sizeof(to))
			r = -ENAMETOOLONG;
		else if (rename(tmp, to) < 0)
			r = -errno;
	} else if (!r && unlink(tmp) < 0) {
		r = -errno;
	}
	if (r < 0) {
		rename(tmp, s->path); /* keep appending to it, beyond the limit */
		return r;
	}
	ew_file_sink_close(s);
	return ew_file_sink_open(s);
}

/*
 * Writes nlines whole lines (data, len bytes, already counted in file_size) and counts them. On
 * an error, the lines written in full are delivered and the others dropped; the bytes of a line
 * written in part are cut off a regular file so that the next line starts a line of its own
 * (stdout is left alone: it may be a pipe, or a file whose offset truncation would not move).
 */
static void sink_write_out(struct sink *s, const char *data, size_t len, uint32_t nlines)
{
	int fd = s->kind == SINK_STDOUT ? STDOUT_FILENO : s->fd;
	size_t done = 0, whole = 0, kept;
	uint32_t lines = 0;
	struct stat st;
	int r;

	r = fd < 0 ? -EBADF : write_full(fd, data, len, &done);
	if (!r) {
		sink_wrote(s, nlines);
		return;
	}
	/* Each line ends with its only '\n', and the last one was not written: lines < nlines. */
	for (size_t i = 0; i < done; i++) {
		if (data[i] == '\n') {
			lines++;
			whole = i + 1;
		}
	}
	if (lines >= nlines) /* a line holding a '\n' of its own: never count more than we had */
		lines = nlines ? nlines - 1 : 0;
	kept = done;
	if (done > whole && s->kind == SINK_FILE && s->regular) {
		if (fstat(fd, &st) == 0 && (uint64_t)st.st_size >= done - whole &&
		    ftruncate(fd, st.st_size - (off_t)(done - whole)) == 0)
			kept = whole;
		else
			ew_debug("output '%s': cannot cut a partial line: %s", s->spec,
				 strerror(errno));
	}
	if (s->kind == SINK_FILE)
		s->file_size -= len - kept;
	s->delivered += lines;
	sink_failed(s, nlines - lines, r, "write failed");
}

/* Writes the batch out with one write() (more only when the fd takes part of it). */
void ew_sink_flush(struct sink *s)
{
	if (!s->pend.len)
		return;
	sink_write_out(s, s->pend.data, s->pend.len, s->pend_lines);
	ew_buf_reset(&s->pend);
	s->pend_lines = 0;
}

void ew_sink_queue(struct sink *s, const char *line, size_t len)
{
	s->file_size += len;
	if (ew_buf_append(&s->pend, line, len)) {
		/* Out of memory: what is batched goes out, then this line on its own. */
		ew_sink_flush(s);
		sink_write_out(s, line, len, 1);
		return;
	}
	s->pend_lines++;
	if (s->pend.len >= EW_SINK_BATCH_BYTES)
		ew_sink_flush(s);
}

/*
 * The next line (len bytes) would take the file past its size limit: writes the batch out, then
 * rotates, unless PATH is no longer the file (moved or deleted, the SIGHUP still to come): then
 * PATH is opened anew and the moved file and PATH.1..N stay as they are. Returns 0, or -errno
 * when no file is open any more.
 */
static int file_limit(const struct ew_output_opts *opts, struct sink *s, size_t len)
{
	struct stat st;
	int r;

	ew_sink_flush(s);
	if (!file_moved(s)) {
		/* The tracked size is stale after a copytruncate: ask the file. */
		if (fstat(s->fd, &st) == 0)
			s->file_size = (uint64_t)st.st_size;
		if (!s->file_size || s->file_size + len <= opts->file_max_bytes)
			return 0;
		r = file_rotate(opts, s);
		if (r < 0 && s->fd < 0) {
			/*
			 * Rotated, and only the new PATH could not be made (out of inodes, say):
			 * ew_file_sink_write() tries to open it again at every line.
			 */
			if (!s->failing)
				ew_warn("output '%s': rotated %s%s%s but cannot create %s: %s; "
					"dropping lines until it can be created (tried again at "
					"every line)",
					s->spec, opts->file_keep ? "to " : "away (file_keep 0)",
					opts->file_keep ? s->path : "", opts->file_keep ? ".1" : "",
					s->path, strerror(-r));
			s->failing = true;
			s->rotate_failing = false;
			return r;
		}
		if (r <= 0) {
			if (r < 0 && !s->rotate_failing)
				ew_warn("output '%s': cannot rotate: %s; "
					"appending beyond the limit",
					s->spec, strerror(-r));
			s->rotate_failing = r < 0;
			return 0;
		}
	}
	/* The batch went to the moved file, as it would have before the move. */
	r = file_follow(s);
	if (r < 0 && !s->rotate_failing)
		ew_warn("output '%s': %s was moved away and cannot be opened again: %s; appending "
			"to the moved file",
			s->spec, s->path, strerror(-r));
	s->rotate_failing = r < 0;
	return 0;
}

void ew_file_sink_write(const struct ew_output_opts *opts, struct sink *s, const char *line,
			size_t len)
{
	int r;

	if (s->fd < 0) {
		r = ew_file_sink_open(s);
		if (r < 0) {
			sink_failed(s, 1, r, "cannot open");
			return;
		}
	}
	/* Rotation is decided line by line, before the line joins the batch: no line is ever
	 * split across two files. */
	if (opts->file_max_bytes && s->regular && s->file_size &&
	    s->file_size + len > opts->file_max_bytes) {
		r = file_limit(opts, s, len);
		if (r < 0) {
			sink_failed(s, 1, r, "cannot open"); /* file_limit() said why */
			return;
		}
	}
	ew_sink_queue(s, line, len);
}

void ew_file_sink_reopen(struct sink *s)
{
	int r;

	ew_sink_flush(s); /* what was batched belongs to the file logrotate moved */
	ew_file_sink_close(s);
	r = ew_file_sink_open(s);
	if (r < 0 && !s->failing)
		ew_warn("output '%s': cannot reopen %s: %s; retrying on the next line", s->spec,
			s->path, strerror(-r));
	s->failing = r < 0;
}
