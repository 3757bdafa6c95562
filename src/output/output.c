// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Output sinks: spec parsing, and dispatch to stdout and files (batched, then written
 * synchronously: src/sink/file_sink.c) and to the stream sinks of src/sink/stream.c, which never
 * block. Times (now_ns) are CLOCK_MONOTONIC, the clock ew_outputs_drain() reads itself.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "exitwatch/util/clock.h"
#include "exitwatch/util/log.h"
#include "exitwatch/output/output.h"
#include "output/stream_int.h"
#include "exitwatch/util/util.h"
#include "output/output_int.h"

#define OUT_DRAIN_STEP_MS 20 /* drain re-checks back-off timers this often */

/* A record held back by ew_outputs_defer(): its lines, in held_bytes, and who takes them. */
struct held {
	uint32_t sinks;	  /* bit i: sinks[i] takes it */
	uint32_t formats; /* bit f: off[f] and len[f] hold format f's line */
	size_t off[EW_FORMAT__COUNT], len[EW_FORMAT__COUNT];
};

struct ew_outputs {
	struct ew_output_opts opts;
	uint64_t block_stall_ns;	   /* ew_outputs_set_blocking(); 0: never wait */
	const volatile sig_atomic_t *stop; /* blocking: stop waiting when set */
	char *spool_dir;		   /* opts.spool_dir, owned */
	uint32_t n;
	struct sink sinks[EW_MAX_SINKS];
	struct held *held; /* ew_outputs_defer() .. ew_outputs_release() */
	uint32_t nheld, held_cap;
	struct ew_buf held_bytes;
	struct ew_rendered scratch; /* release: a held record's lines, handed to the sinks */
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
	ew_sink_flush(s);
	ew_buf_free(&s->pend);
	if (s->kind == SINK_FILE)
		ew_file_sink_close(s);
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
	free(o->held);
	ew_buf_free(&o->held_bytes);
	ew_rendered_free(&o->scratch);
	free(o->spool_dir);
	free(o);
}

int ew_outputs_add(struct ew_outputs *o, const char *spec, char *err, size_t errlen)
{
	struct sink *s;
	int r;

	if (err && errlen)
		err[0] = '\0'; /* filled at the end if nothing more precise is said */
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
	s->format = s->kind == SINK_STDOUT && o->opts.stdout_text ? EW_FORMAT_TEXT : EW_FORMAT_JSON;
	s->spec = strdup(spec);
	if (!s->spec) {
		r = -ENOMEM;
		goto err;
	}
	if (s->kind == SINK_FILE) {
		r = ew_file_sink_open(s);
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
	/* Out of memory says nothing of its own: the caller prints err as it is. */
	if (err && errlen && !err[0])
		set_err(err, errlen, "output '%s': %s", spec, strerror(-r));
	sink_release(s);
	return r;
}

/*
 * Blocking mode: ticks the stream sink s, polling its socket, until its memory queue takes a line.
 * Gives up when it hands nothing to its kernel for block_stall_ns, or on *stop; it is then not
 * waited for until it makes progress again (it may be down for good: a wait per line would
 * stall the caller for block_stall_ns on every line). Returns the time it is now.
 */
static uint64_t stream_wait_room(struct ew_outputs *o, struct sink *s, uint64_t now_ns)
{
	uint64_t mark = ew_stream_progress(s->stream), since = now_ns;

	if (s->stalled && mark == s->stalled_at)
		return now_ns;
	s->stalled = false;
	for (;;) {
		struct pollfd pfd = {.fd = -1, .events = POLLOUT};
		uint64_t wait_ns;

		ew_stream_tick(s->stream, now_ns);
		if (ew_stream_has_room(s->stream))
			return now_ns;
		if (ew_stream_progress(s->stream) != mark) {
			mark = ew_stream_progress(s->stream);
			since = now_ns;
		}
		if (now_ns - since >= o->block_stall_ns || (o->stop && *o->stop))
			break;
		wait_ns = o->block_stall_ns - (now_ns - since);
		pfd.fd = ew_stream_poll_fd(s->stream, now_ns, &wait_ns);
		/* Not the whole wait: *stop is only seen between polls. */
		if (wait_ns > OUT_DRAIN_STEP_MS * EW_NSEC_PER_MSEC)
			wait_ns = OUT_DRAIN_STEP_MS * EW_NSEC_PER_MSEC;
		poll(&pfd, pfd.fd >= 0, (int)((wait_ns + EW_NSEC_PER_MSEC - 1) / EW_NSEC_PER_MSEC));
		now_ns = ew_clock_mono_ns();
	}
	if (!(o->stop && *o->stop))
		ew_warn("output '%s': took no line for %" PRIu64 " ms; not waiting for it until it "
			"takes lines again",
			s->spec, (uint64_t)(o->block_stall_ns / EW_NSEC_PER_MSEC));
	s->stalled = true;
	s->stalled_at = mark;
	return now_ns;
}

/* One line to one sink, in the sink's format. */
static void sink_put(struct ew_outputs *o, struct sink *s, const char *line, size_t len,
		     uint64_t now_ns)
{
	switch (s->kind) {
	case SINK_STDOUT:
		ew_sink_queue(s, line, len);
		break;
	case SINK_FILE:
		ew_file_sink_write(&o->opts, s, line, len);
		break;
	case SINK_TCP:
	case SINK_UNIX:
		if (o->block_stall_ns && !ew_stream_has_room(s->stream))
			now_ns = stream_wait_room(o, s, now_ns);
		ew_stream_write(s->stream, line, len, now_ns);
		break;
	}
}

/* The sinks that take rr's record: a bit each. A line without a record goes to all. */
static uint32_t takers(const struct ew_outputs *o, const struct ew_rendered *rr)
{
	uint32_t mask = 0;

	for (uint32_t i = 0; i < o->n; i++) {
		const struct sink *s = &o->sinks[i];

		if (!s->filter || !rr->rec || s->filter(s->filter_arg, rr->rec))
			mask |= 1u << i;
	}
	return mask;
}

/* Each sink in mask gets rr in its format; the first rendering error is returned. */
static int deliver(struct ew_outputs *o, struct ew_rendered *rr, uint32_t mask, uint64_t now_ns)
{
	int first = 0;

	for (uint32_t i = 0; i < o->n; i++) {
		struct sink *s = &o->sinks[i];
		const char *line;
		size_t len;
		int err;

		if (!(mask & (1u << i)))
			continue;
		err = ew_rendered_get(rr, s->format, &line, &len);
		if (err) {
			if (!first)
				first = err;
			continue;
		}
		if (len)
			sink_put(o, s, line, len, now_ns);
	}
	return first;
}

int ew_outputs_emit(struct ew_outputs *o, struct ew_rendered *rr, uint64_t now_ns)
{
	return deliver(o, rr, takers(o, rr), now_ns);
}

int ew_outputs_defer(struct ew_outputs *o, struct ew_rendered *rr)
{
	struct held h = {.sinks = takers(o, rr)};
	size_t mark = o->held_bytes.len;
	int first = 0;

	if (!h.sinks)
		return 0;
	if (o->nheld == o->held_cap) {
		uint32_t cap = o->held_cap ? 2 * o->held_cap : 8;
		struct held *n = realloc(o->held, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		o->held = n;
		o->held_cap = cap;
	}
	for (uint32_t i = 0; i < o->n; i++) {
		enum ew_format f = o->sinks[i].format;
		const char *line;
		size_t len;
		int err;

		if (!(h.sinks & (1u << i)) || (h.formats & (1u << f)))
			continue;
		err = ew_rendered_get(rr, f, &line, &len);
		if (err) {
			/* As ew_outputs_emit(): the sinks of a format that failed go without. */
			h.sinks &= ~(1u << i);
			if (!first)
				first = err;
			continue;
		}
		h.formats |= 1u << f;
		h.off[f] = o->held_bytes.len;
		h.len[f] = len;
		if (ew_buf_append(&o->held_bytes, line, len)) {
			/* The lines held before this record stay as they were. */
			ew_buf_truncate(&o->held_bytes, mark);
			return -ENOMEM;
		}
	}
	if (h.sinks)
		o->held[o->nheld++] = h;
	return first;
}

void ew_outputs_release(struct ew_outputs *o, uint64_t now_ns)
{
	for (uint32_t k = 0; k < o->nheld; k++) {
		const struct held *h = &o->held[k];

		ew_rendered_set(&o->scratch, NULL);
		for (int f = 0; f < EW_FORMAT__COUNT; f++) {
			if (h->formats & (1u << f))
				ew_rendered_set_line(&o->scratch, f, o->held_bytes.data + h->off[f],
						     h->len[f]);
		}
		deliver(o, &o->scratch, h->sinks, now_ns);
	}
	o->nheld = 0;
	ew_buf_reset(&o->held_bytes);
}

int ew_outputs_set_filter(struct ew_outputs *o, uint32_t i, ew_output_filter_fn fn, void *arg)
{
	if (i >= o->n)
		return -EINVAL;
	o->sinks[i].filter = fn;
	o->sinks[i].filter_arg = arg;
	return 0;
}

void ew_outputs_set_blocking(struct ew_outputs *o, uint64_t stall_ns,
			     const volatile sig_atomic_t *stop)
{
	o->block_stall_ns = stall_ns;
	o->stop = stop;
}

void ew_outputs_tick(struct ew_outputs *o, uint64_t now_ns)
{
	for (uint32_t i = 0; i < o->n; i++) {
		if (o->sinks[i].stream)
			ew_stream_tick(o->sinks[i].stream, now_ns);
		else
			ew_sink_flush(&o->sinks[i]);
	}
}

void ew_outputs_reopen(struct ew_outputs *o)
{
	for (uint32_t i = 0; i < o->n; i++) {
		if (o->sinks[i].kind == SINK_FILE)
			ew_file_sink_reopen(&o->sinks[i]);
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

uint32_t ew_outputs_poll(const struct ew_outputs *o, struct pollfd *pfds, uint32_t max,
			 uint64_t now_ns, uint64_t *wait_ns)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < o->n && n < max; i++) {
		int fd = o->sinks[i].stream ? ew_stream_poll_fd(o->sinks[i].stream, now_ns, wait_ns)
					    : -1;

		if (fd >= 0)
			pfds[n++] = (struct pollfd){.fd = fd, .events = POLLOUT};
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
		n = ew_outputs_poll(o, pfds, EW_MAX_SINKS, now, &wait_ns);
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
