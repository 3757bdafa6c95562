/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One stream sink (tcp://HOST:PORT or unix:PATH) of src/sink/output.c, which parses the spec
 * and is this module's only user. Nothing here blocks, except getaddrinfo() for a host name
 * (numeric hosts never block): a connection state machine driven by write and tick, a bounded
 * FIFO of lines in memory and a spool on disk behind it (include/exitwatch/spool.h).
 * Times are CLOCK_MONOTONIC nanoseconds.
 */
#ifndef EXITWATCH_STREAM_H
#define EXITWATCH_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "exitwatch/output.h"

struct ew_stream;

/*
 * TCP: host (no brackets) and numeric port, path NULL; Unix: path, host and port NULL. A host
 * name is resolved now (and again on every reconnect): a name that does not exist is -EINVAL
 * with a sentence in err. The spool (opts->spool_dir, named after spec) is opened now and a
 * previous run's spooled lines are delivered first; when it cannot be opened, a warning says
 * so and the sink runs without one. The spec is the sink's name in logs and status.
 */
int ew_stream_new(const char *spec, const char *host, const char *port, const char *path,
		  const struct ew_output_opts *opts, struct ew_stream **ret, char *err,
		  size_t errlen);

/* Closes; lines still queued in memory are saved ahead of the spool for the next run. */
void ew_stream_free(struct ew_stream *s);

/* Queues (or spools, or drops and counts) one line ending with '\n', then sends what it can. */
void ew_stream_write(struct ew_stream *s, const char *line, size_t len, uint64_t now_ns);

/* Connects when due, detects a closed peer, sends, refills the queue from the spool. */
void ew_stream_tick(struct ew_stream *s, uint64_t now_ns);

/* Lines not yet delivered: queued plus spooled. */
uint64_t ew_stream_pending(const struct ew_stream *s);

/*
 * For a drain loop: the fd to poll for POLLOUT (connecting, or lines waiting on a full socket),
 * or -1; then *wait_ns is lowered to the time left until the next connect attempt.
 */
int ew_stream_poll_fd(const struct ew_stream *s, uint64_t now_ns, uint64_t *wait_ns);

void ew_stream_status(const struct ew_stream *s, struct ew_sink_status *st);

#endif
