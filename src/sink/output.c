// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Output sinks: spec parsing, stdout and files (written synchronously, whole lines at a time),
 * and dispatch to the stream sinks of src/sink/stream.c, which never block.
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
	uint64_t file_size;	  /* file: bytes in the current file */
	struct ew_stream *stream; /* tcp, unix */
	uint64_t delivered, dropped; /* stdout, file */
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

static void sink_failed(struct sink *s, int err, const char *what)
{
	s->dropped++;
	if (!s->failing)
		ew_warn("output '%s': %s: %s; dropping lines until it recovers", s->spec, what,
			strerror(-err));
	s->failing = true;
}

static void sink_wrote(struct sink *s)
{
	s->delivered++;
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
	return 0;
}

static void file_close(struct sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* PATH.(keep-1) -> PATH.keep, ..., PATH -> PATH.1: the oldest is overwritten. */
static int file_rotate(const struct ew_outputs *o, struct sink *s)
{
	char from[PATH_MAX], to[PATH_MAX];

	for (uint32_t i = o->opts.file_keep; i > 1; i--) {
		if ((size_t)snprintf(from, sizeof(from), "%s.%u", s->path, i - 1) >= sizeof(from) ||
		    (size_t)snprintf(to, sizeof(to), "%s.%u", s->path, i) >= sizeof(to))
			return -ENAMETOOLONG;
		if (rename(from, to) < 0 && errno != ENOENT)
			return -errno;
	}
	if (o->opts.file_keep) {
		if ((size_t)snprintf(to, sizeof(to), "%s.1", s->path) >= sizeof(to))
			return -ENAMETOOLONG;
		if (rename(s->path, to) < 0)
			return -errno;
	} else if (unlink(s->path) < 0) {
		return -errno;
	}
	file_close(s);
	return file_open(s);
}

static void file_write(const struct ew_outputs *o, struct sink *s, const char *line, size_t len)
{
	struct stat st;
	size_t done;
	int r;

	if (s->fd < 0) {
		r = file_open(s);
		if (r < 0) {
			sink_failed(s, r, "cannot open");
			return;
		}
	}
	if (o->opts.file_max_bytes && s->regular && s->file_size &&
	    s->file_size + len > o->opts.file_max_bytes) {
		/* The tracked size is stale after a copytruncate: ask the file. */
		if (fstat(s->fd, &st) == 0)
			s->file_size = (uint64_t)st.st_size;
		if (s->file_size && s->file_size + len > o->opts.file_max_bytes) {
			r = file_rotate(o, s);
			if (r < 0 && !s->rotate_failing)
				ew_warn("output '%s': cannot rotate: %s; appending beyond the "
					"limit",
					s->spec, strerror(-r));
			s->rotate_failing = r < 0;
			if (s->fd < 0) {
				sink_failed(s, r, "cannot reopen after rotation");
				return;
			}
		}
	}
	r = write_full(s->fd, line, len, &done);
	if (r < 0) {
		/* Cut the partial line off, so that the next line starts a line of its own. */
		if (done && s->regular && fstat(s->fd, &st) == 0 && (uint64_t)st.st_size >= done &&
		    ftruncate(s->fd, st.st_size - (off_t)done) < 0)
			ew_debug("output '%s': cannot cut a partial line: %s", s->spec,
				 strerror(errno));
		sink_failed(s, r, "write failed");
		return;
	}
	s->file_size += len;
	sink_wrote(s);
}

static void stdout_write(struct sink *s, const char *line, size_t len)
{
	size_t done;
	int r = write_full(STDOUT_FILENO, line, len, &done);

	if (r < 0)
		sink_failed(s, r, "write failed");
	else
		sink_wrote(s);
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
	}
}

void ew_outputs_reopen(struct ew_outputs *o)
{
	for (uint32_t i = 0; i < o->n; i++) {
		struct sink *s = &o->sinks[i];
		int r;

		if (s->kind != SINK_FILE)
			continue;
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
