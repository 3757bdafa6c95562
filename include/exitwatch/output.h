/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where rendered lines go (--output, repeatable; stdout when none is given):
 *   stdout            the process's standard output (JSON, or text with --format text)
 *   file:PATH         appended; rotated by size keeping N files; reopened on SIGHUP
 *   tcp://HOST:PORT   NDJSON stream (Fluent Bit tcp, Vector socket, syslog-ng network(), fluentd)
 *   unix:PATH         the same over a Unix stream socket
 * Only this module does output I/O. Nothing here blocks the event loop: stream sinks are
 * non-blocking, lines wait in a bounded memory queue, spill to a bounded on-disk spool while
 * the peer is down, and are delivered in order once it is back. A line is dropped only when the
 * spool is full, and then it is counted.
 */
#ifndef EXITWATCH_OUTPUT_H
#define EXITWATCH_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exitwatch/record.h"

struct ew_output_opts {
	uint64_t file_max_bytes;     /* rotate file sinks at this size (0: never) */
	uint32_t file_keep;	     /* rotated files kept: PATH.1 .. PATH.N */
	uint32_t queue_max_lines;    /* per stream sink, in memory */
	uint64_t spool_max_bytes;    /* per stream sink, on disk; 0 disables the spool */
	const char *spool_dir;	     /* where spools live (created 0700) */
	uint64_t reconnect_min_ns;   /* back-off after a failed connect, doubling ... */
	uint64_t reconnect_max_ns;   /* ... up to this */
	bool stdout_text;	     /* stdout gets the text rendering */
};

void ew_output_opts_default(struct ew_output_opts *o);

struct ew_outputs;

struct ew_outputs *ew_outputs_new(const struct ew_output_opts *opts);
void ew_outputs_free(struct ew_outputs *o);

/*
 * Adds a sink from its spec. Returns 0, or -EINVAL with a sentence in err naming the spec
 * and what is wrong with it (unknown scheme, missing port, unopenable file, ...).
 */
int ew_outputs_add(struct ew_outputs *o, const char *spec, char *err, size_t errlen);

/*
 * Hands one record to every sink: json is the NDJSON line, text the text rendering (NULL when
 * no sink wants text). Both end with '\n'. Never blocks; now_ns drives back-off timers.
 */
void ew_outputs_write(struct ew_outputs *o, const char *json, size_t json_len, const char *text,
		      size_t text_len, uint64_t now_ns);

/* Reconnects, flushes queues and spools as far as the peers take them. Call every loop turn. */
void ew_outputs_tick(struct ew_outputs *o, uint64_t now_ns);

/* SIGHUP: reopen file sinks (after logrotate moved them). */
void ew_outputs_reopen(struct ew_outputs *o);

/*
 * At shutdown: keeps flushing until everything is delivered or timeout_ns passes. Returns the
 * number of lines still undelivered (spooled lines stay in the spool for the next run).
 */
uint64_t ew_outputs_drain(struct ew_outputs *o, uint64_t timeout_ns);

/* Copies each sink's state into out (at most max); returns the number of sinks. */
uint32_t ew_outputs_status(const struct ew_outputs *o, struct ew_sink_status *out, uint32_t max);

/* True when some sink wants the text rendering. */
bool ew_outputs_want_text(const struct ew_outputs *o);

#endif
