// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Output sinks: spec parsing, stdout and files (lines batched, then written synchronously with
 * one write() per batch: on a busy node a write() per record was most of the agent's CPU), and
 * dispatch to the stream sinks of src/sink/stream.c, which never block.
 * Times (now_ns) are CLOCK_MONOTONIC, the clock ew_outputs_drain() reads itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "exitwatch/clock.h"
#include "exitwatch/log.h"
#include "exitwatch/buf.h"
#include "exitwatch/output.h"
#include "exitwatch/stream.h"
#include "exitwatch/util.h"

#define OUT_DRAIN_STEP_MS 20 /* drain re-checks back-off timers this often */

enum sink_kind {
	SINK_STDOUT,
	SINK_FILE,
	SINK_TCP,
	SINK_UNIX,
};

struct sink {
	enum sink_kind kind;
	char *spec;		  /* as given: the status name */
	char *path;		  /* file:, unix: */
	char *host;		  /* tcp: without brackets */
	char port[6];		  /* tcp: digits only */
	int fd;			  /* file: -1 when closed */
	bool failing;		  /* stdout, file: the last write failed (one warning per streak) */
	bool rotate_failing;	  /* file: the last rotation failed (one warning per streak) */
	bool regular;		  /* file: a regular file, so rotation applies */
	uint64_t file_size;	  /* file: bytes in the current file, batched ones included */
	dev_t dev;		  /* file: with ino, the file PATH named at open */
	ino_t ino;		  /* file */
	struct ew_stream *stream; /* tcp, unix */
	uint64_t delivered, dropped; /* stdout, file */
	struct ew_buf pend;	     /* stdout, file: the batch, written out at the next flush */
	uint32_t pend_lines;	     /* lines in pend */
};

struct ew_outputs {
	struct ew_output_opts opts;
	char *spool_dir; /* opts.spool_dir, owned */
	uint32_t n;
	struct sink sinks[EW_MAX_SINKS];
};

void ew_output_opts_default(struct ew_output_opts *o)
{
	*o = (struct ew_output_opts){
		.file_max_bytes = 100ULL << 20,
		.file_keep = 5,
		.queue_max_lines = 10000,
		.spool_max_bytes = 64ULL << 20,
		.spool_dir = "/var/lib/exitwatch/spool",
		.reconnect_min_ns = 100 * EW_NSEC_PER_MSEC,
		.reconnect_max_ns = 30 * EW_NSEC_PER_SEC,
		.stdout_text = false,
	};
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- stdout and files ------------------------------------------------------------------ */

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

static int file_open(struct sink *s)
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

static void file_close(struct sink *s)
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
 * beyond the limit loses nothing, dropping would.
 */
static int file_follow(struct sink *s)
{
	int fd = s->fd;
	bool regular = s->regular;
	uint64_t size = s->file_size;
	dev_t dev = s->dev;
	ino_t ino = s->ino;
	int r = file_open(s);

	if (r < 0) {
		s->fd = fd;
		s->regular = regular;
		s->file_size = size;
		s->dev = dev;
		s->ino = ino;
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
static int file_rotate(const struct ew_outputs *o, struct sink *s)
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
	for (uint32_t i = o->opts.file_keep; i > 1 && !r; i--) {
		if ((size_t)snprintf(from, sizeof(from), "%s.%u", s->path, i - 1) >= sizeof(from) ||
		    (size_t)snprintf(to, sizeof(to), "%s.%u", s->path, i) >= sizeof(to))
			r = -ENAMETOOLONG;
		else if (rename(from, to) < 0 && errno != ENOENT)
			r = -errno;
	}
	if (!r && o->opts.file_keep) {
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
	file_close(s);
	return file_open(s);
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
static void sink_flush(struct sink *s)
{
	if (!s->pend.len)
		return;
	sink_write_out(s, s->pend.data, s->pend.len, s->pend_lines);
	ew_buf_reset(&s->pend);
	s->pend_lines = 0;
}

static void sink_queue(struct sink *s, const char *line, size_t len)
{
	s->file_size += len;
	if (ew_buf_append(&s->pend, line, len)) {
		/* Out of memory: what is batched goes out, then this line on its own. */
		sink_flush(s);
		sink_write_out(s, line, len, 1);
		return;
	}
	s->pend_lines++;
	if (s->pend.len >= EW_SINK_BATCH_BYTES)
		sink_flush(s);
}

/*
 * The next line (len bytes) would take the file past its size limit: writes the batch out, then
 * rotates, unless PATH is no longer the file (moved or deleted, the SIGHUP still to come): then
 * PATH is opened anew and the moved file and PATH.1..N stay as they are. Returns 0, or -errno
 * when no file is open any more.
 */
static int file_limit(const struct ew_outputs *o, struct sink *s, size_t len)
{
	struct stat st;
	int r;

	sink_flush(s);
	if (!file_moved(s)) {
		/* The tracked size is stale after a copytruncate: ask the file. */
		if (fstat(s->fd, &st) == 0)
			s->file_size = (uint64_t)st.st_size;
		if (!s->file_size || s->file_size + len <= o->opts.file_max_bytes)
			return 0;
		r = file_rotate(o, s);
		if (r <= 0) {
			if (r < 0 && !s->rotate_failing)
				ew_warn("output '%s': cannot rotate: %s; "
					"appending beyond the limit",
					s->spec, strerror(-r));
			s->rotate_failing = r < 0;
			return s->fd < 0 ? r : 0;
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

static void file_write(const struct ew_outputs *o, struct sink *s, const char *line, size_t len)
{
	int r;

	if (s->fd < 0) {
		r = file_open(s);
		if (r < 0) {
			sink_failed(s, 1, r, "cannot open");
			return;
		}
	}
	/* Rotation is decided line by line, before the line joins the batch: no line is ever
	 * split across two files. */
	if (o->opts.file_max_bytes && s->regular && s->file_size &&
	    s->file_size + len > o->opts.file_max_bytes) {
		r = file_limit(o, s, len);
		if (r < 0) {
			sink_failed(s, 1, r, "cannot reopen after rotation");
			return;
		}
	}
	sink_queue(s, line, len);
}

static void stdout_write(struct sink *s, const char *line, size_t len)
{
	sink_queue(s, line, len);
}

/* ---- specs ----------------------------------------------------------------------------- */

static int parse_tcp(struct sink *s, const char *spec, const char *rest, char *err, size_t errlen)
{
	const char *host = rest, *host_end, *port;
	char *end;
	unsigned long num;

	if (rest[0] == '[') {
		host = rest + 1;
		host_end = strchr(host, ']');
		if (!host_end) {
			set_err(err, errlen, "output '%s': missing ']' after the IPv6 address",
				spec);
			return -EINVAL;
		}
		port = host_end[1] == ':' ? host_end + 2 : NULL;
	} else {
		host_end = strrchr(rest, ':');
		port = host_end ? host_end + 1 : NULL;
		if (host_end && memchr(rest, ':', (size_t)(host_end - rest))) {
			set_err(err, errlen,
				"output '%s': put an IPv6 address in brackets: tcp://[ADDR]:PORT",
				spec);
			return -EINVAL;
		}
	}
	if (!port || !*port) {
		set_err(err, errlen, "output '%s': missing port: use tcp://HOST:PORT", spec);
		return -EINVAL;
	}
	if (host_end == host) {
		set_err(err, errlen, "output '%s': missing host: use tcp://HOST:PORT", spec);
		return -EINVAL;
	}
	errno = 0;
	num = strtoul(port, &end, 10);
	if (port[0] < '0' || port[0] > '9' || *end || errno || num < 1 || num > 65535) {
		set_err(err, errlen, "output '%s': port must be a number from 1 to 65535", spec);
		return -EINVAL;
	}
	s->host = strndup(host, (size_t)(host_end - host));
	if (!s->host)
		return -ENOMEM;
	snprintf(s->port, sizeof(s->port), "%lu", num);
	s->kind = SINK_TCP;
	return 0;
}

static int parse_spec(struct sink *s, const char *spec, char *err, size_t errlen)
{
	struct sockaddr_un sun;

	if (!strcmp(spec, "stdout") || !strcmp(spec, "-")) {
		s->kind = SINK_STDOUT;
		return 0;
	}
	if (!strncmp(spec, "tcp://", 6))
		return parse_tcp(s, spec, spec + 6, err, errlen);
	if (!strncmp(spec, "file:", 5)) {
		s->kind = SINK_FILE;
	} else if (!strncmp(spec, "unix:", 5)) {
		s->kind = SINK_UNIX;
		if (strlen(spec + 5) >= sizeof(sun.sun_path)) {
			set_err(err, errlen, "output '%s': socket path longer than %zu bytes", spec,
				sizeof(sun.sun_path) - 1);
			return -EINVAL;
		}
	} else {
		set_err(err, errlen,
			"unknown output '%s': use stdout, file:PATH, tcp://HOST:PORT or unix:PATH",
			spec);
		return -EINVAL;
	}
	if (!spec[5]) {
		set_err(err, errlen, "output '%s': missing PATH", spec);
		return -EINVAL;
	}
	s->path = strdup(spec + 5);
	return s->path ? 0 : -ENOMEM;
}

static void sink_release(struct sink *s)
{
	sink_flush(s);
	ew_buf_free(&s->pend);
	if (s->kind == SINK_FILE)
		file_close(s);
	ew_stream_free(s->stream);
	free(s->spec);
	free(s->path);
	free(s->host);
}

/* ---- public API ------------------------------------------------------------------------ */

struct ew_outputs *ew_outputs_new(const struct ew_output_opts *opts)
{
	struct ew_outputs *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	if (opts)
		o->opts = *opts;
	else
		ew_output_opts_default(&o->opts);
	if (o->opts.spool_dir) {
		o->spool_dir = strdup(o->opts.spool_dir);
		if (!o->spool_dir) {
			free(o);
			errno = ENOMEM;
			return NULL;
		}
	}
	o->opts.spool_dir = o->spool_dir;
	return o;
}

void ew_outputs_free(struct ew_outputs *o)
{
	if (!o)
		return;
	for (uint32_t i = 0; i < o->n; i++)
		sink_release(&o->sinks[i]);
	free(o->spool_dir);
	free(o);
}

int ew_outputs_add(struct ew_outputs *o, const char *spec, char *err, size_t errlen)
{
	struct sink *s;
	int r;

	if (o->n >= EW_MAX_SINKS) {
		set_err(err, errlen, "output '%s': too many outputs (at most %d)", spec,
			EW_MAX_SINKS);
		return -EINVAL;
	}
	s = &o->sinks[o->n];
	*s = (struct sink){.fd = -1};
	r = parse_spec(s, spec, err, errlen);
	if (r < 0)
		goto err;
	for (uint32_t i = 0; i < o->n; i++) {
		if (!strcmp(o->sinks[i].spec, spec) ||
		    (s->kind == SINK_STDOUT && o->sinks[i].kind == SINK_STDOUT)) {
			set_err(err, errlen, "output '%s': given twice", spec);
			r = -EINVAL;
			goto err;
		}
	}
	s->spec = strdup(spec);
	if (!s->spec) {
		r = -ENOMEM;
		goto err;
	}
	if (s->kind == SINK_FILE) {
		r = file_open(s);
		if (r < 0) {
			set_err(err, errlen, "output '%s': cannot open %s: %s", spec, s->path,
				strerror(-r));
			goto err;
		}
	} else if (s->kind == SINK_TCP || s->kind == SINK_UNIX) {
		r = ew_stream_new(spec, s->host, s->host ? s->port : NULL, s->path, &o->opts,
				  &s->stream, err, errlen);
		if (r < 0)
			goto err;
	}
	o->n++;
	return 0;
err:
	sink_release(s);
	return r;
}

void ew_outputs_write(struct ew_outputs *o, const char *json, size_t json_len, const char *text,
		      size_t text_len, uint64_t now_ns)
{
	if (!json_len)
		return;
	for (uint32_t i = 0; i < o->n; i++) {
		struct sink *s = &o->sinks[i];

		switch (s->kind) {
		case SINK_STDOUT:
			if (o->opts.stdout_text && text)
				stdout_write(s, text, text_len);
			else
				stdout_write(s, json, json_len);
			break;
		case SINK_FILE:
			file_write(o, s, json, json_len);
			break;
		case SINK_TCP:
		case SINK_UNIX:
			ew_stream_write(s->stream, json, json_len, now_ns);
			break;
		}
	}
}

void ew_outputs_tick(struct ew_outputs *o, uint64_t now_ns)
{
	for (uint32_t i = 0; i < o->n; i++) {
		if (o->sinks[i].stream)
			ew_stream_tick(o->sinks[i].stream, now_ns);
		else
			sink_flush(&o->sinks[i]);
	}
}

void ew_outputs_reopen(struct ew_outputs *o)
{
	for (uint32_t i = 0; i < o->n; i++) {
		struct sink *s = &o->sinks[i];
		int r;

		if (s->kind != SINK_FILE)
			continue;
		sink_flush(s); /* what was batched belongs to the file logrotate moved */
		file_close(s);
		r = file_open(s);
		if (r < 0 && !s->failing)
			ew_warn("output '%s': cannot reopen %s: %s; retrying on the next line",
				s->spec, s->path, strerror(-r));
		s->failing = r < 0;
	}
}

static uint64_t outputs_pending(const struct ew_outputs *o)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < o->n; i++) {
		if (o->sinks[i].stream)
			n += ew_stream_pending(o->sinks[i].stream);
	}
	return n;
}

uint64_t ew_outputs_drain(struct ew_outputs *o, uint64_t timeout_ns)
{
	uint64_t start = ew_clock_mono_ns(), now = start;

	/* The first tick writes every batch out, whatever the timeout. */
	for (;;) {
		struct pollfd pfds[EW_MAX_SINKS];
		uint64_t pending, wait_ns;
		nfds_t n = 0;

		ew_outputs_tick(o, now);
		pending = outputs_pending(o);
		if (!pending || now - start >= timeout_ns)
			return pending;
		wait_ns = timeout_ns - (now - start);
		for (uint32_t i = 0; i < o->n; i++) {
			int fd = o->sinks[i].stream
					 ? ew_stream_poll_fd(o->sinks[i].stream, now, &wait_ns)
					 : -1;

			if (fd >= 0)
				pfds[n++] = (struct pollfd){.fd = fd, .events = POLLOUT};
		}
		if (wait_ns > OUT_DRAIN_STEP_MS * EW_NSEC_PER_MSEC)
			wait_ns = OUT_DRAIN_STEP_MS * EW_NSEC_PER_MSEC;
		poll(pfds, n, (int)((wait_ns + EW_NSEC_PER_MSEC - 1) / EW_NSEC_PER_MSEC));
		now = ew_clock_mono_ns();
	}
}

uint32_t ew_outputs_status(const struct ew_outputs *o, struct ew_sink_status *out, uint32_t max)
{
	uint32_t i;

	for (i = 0; i < o->n && i < max; i++) {
		const struct sink *s = &o->sinks[i];

		if (s->stream) {
			ew_stream_status(s->stream, &out[i]);
			continue;
		}
		out[i] = (struct ew_sink_status){
			.name = s->spec,
			.connected = !s->failing,
			.queued = s->pend_lines,
			.delivered = s->delivered,
			.dropped = s->dropped,
		};
	}
	return i;
}

bool ew_outputs_want_text(const struct ew_outputs *o)
{
	if (!o->opts.stdout_text)
		return false;
	for (uint32_t i = 0; i < o->n; i++) {
		if (o->sinks[i].kind == SINK_STDOUT)
			return true;
	}
	return false;
}
