/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where records go (--output, repeatable; stdout when none is given):
 *   stdout            the process's standard output (JSON, or text with --format text)
 *   file:PATH         appended; rotated by size keeping N files; reopened on SIGHUP
 *   tcp://HOST:PORT   NDJSON stream (Fluent Bit tcp, Vector socket, syslog-ng network(), fluentd)
 *   unix:PATH         the same over a Unix stream socket
 * Only this module does output I/O. No peer can block the event loop: stream sinks are
 * non-blocking, lines wait in a bounded memory queue, spill to a bounded on-disk spool while
 * the peer is down, and are delivered in order once it is back. A line is dropped only when the
 * spool is full, and then it is counted. A caller that may block (a replay) has a full queue
 * waited for instead: ew_outputs_set_blocking().
 *
 * The seam with the renderers: the caller hands over a record (struct ew_rendered), not lines.
 * Each sink has one format (text for stdout with --format text, JSON everywhere else) and a
 * filter, and asks the record for its format only when its filter takes it; the record renders
 * each format once, for all the sinks that want it (render/rendered.h).
 *
 * stdout and file: sinks batch: ew_outputs_emit() appends the line to the sink's batch in
 * memory, and the batch reaches the fd with one write() (more only when the fd takes part of
 * it) at the first of:
 *   - the next ew_outputs_tick(), which the caller makes every loop turn, so that a line is out
 *     in the turn that made it (the agent turns when a record comes); a caller that does not
 *     tick holds lines back until one of the following;
 *   - the batch reaching EW_SINK_BATCH_BYTES, inside the ew_outputs_emit() that filled it;
 *   - a file sink's size rotation (the batch goes to the file being rotated away; no line is
 *     ever split across two files, and a line longer than the limit gets a file of its own);
 *   - ew_outputs_reopen() (to the file logrotate moved), ew_outputs_drain(), ew_outputs_free().
 * These writes may block (stdout is a pipe or a file read by the node's log agent, not a peer
 * that can go away). Lines keep their order per sink; a crash loses the batch. A write that
 * fails delivers the lines written whole before the error and drops the rest, counted; in a
 * regular file, the bytes of a line written in part are cut off again (unless ftruncate()
 * fails too), so that the next line starts a line of its own.
 */
#ifndef EXITWATCH_OUTPUT_H
#define EXITWATCH_OUTPUT_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exitwatch/core/record.h"
#include "exitwatch/render/rendered.h"

/* A stdout or file: batch this big is written at once, without waiting for the tick. */
#define EW_SINK_BATCH_BYTES (64 * 1024)

struct ew_output_opts {
	uint64_t file_max_bytes;   /* rotate file sinks at this size (0: never) */
	uint32_t file_keep;	   /* rotated files kept: PATH.1 .. PATH.N */
	uint32_t queue_max_lines;  /* per stream sink, in memory */
	uint64_t spool_max_bytes;  /* per stream sink, on disk; 0 disables the spool */
	const char *spool_dir;	   /* where spools live (created 0700) */
	uint64_t reconnect_min_ns; /* back-off after a failed connect, doubling ... */
	uint64_t reconnect_max_ns; /* ... up to this */
	bool stdout_text;	   /* stdout gets the text rendering */
};

void ew_output_opts_default(struct ew_output_opts *o);

struct ew_outputs;

struct ew_outputs *ew_outputs_new(const struct ew_output_opts *opts);
void ew_outputs_free(struct ew_outputs *o);

/*
 * Adds a sink from its spec. Returns 0, or a negative errno with a sentence in err (never
 * empty) naming the spec and what is wrong: -EINVAL for the spec itself (unknown scheme,
 * missing port, a host name that does not resolve, given twice, too many outputs), the open's
 * -errno for a file: that cannot be opened (-EACCES, -ENOENT, ...), -ENOMEM.
 */
int ew_outputs_add(struct ew_outputs *o, const char *spec, char *err, size_t errlen);

/*
 * Hands one record to every sink that takes it (its filter, below). Each sink asks rr for its
 * format, so a format is rendered only when some sink takes the record in it, and once whatever
 * the number of such sinks. The line is copied: rr may be reused on return. stdout and file
 * sinks batch the line (above) and write only when the batch is full or a rotation is due;
 * stream sinks queue it. Returning means taken, not written: delivered and dropped count the
 * line once the write was tried. now_ns drives back-off timers. Returns 0, or the first error
 * of a rendering (rendered.h: -ENOMEM, -EINVAL); the sinks that wanted that format do not get
 * the record, the others do.
 */
int ew_outputs_emit(struct ew_outputs *o, struct ew_rendered *rr, uint64_t now_ns);

/*
 * Holds a record back until ew_outputs_release(): a finding waits for the record of the event
 * that raised it, so that a reader sees the cause first. The filters run and the formats the
 * sinks that take it want are rendered now, while the record's pointers are valid; what is kept
 * is those lines (copied, with their lengths) and which sinks take them. rr may be reused on
 * return. Records emitted meanwhile go out before the held ones. Returns as ew_outputs_emit();
 * on -ENOMEM nothing is kept.
 */
int ew_outputs_defer(struct ew_outputs *o, struct ew_rendered *rr);

/* Hands the held records to their sinks, in the order they were deferred, and forgets them. */
void ew_outputs_release(struct ew_outputs *o, uint64_t now_ns);

/*
 * Per-output filters. A filter decides from the record alone (its type, severity, rule,
 * identity...) whether sink i (in the order of ew_outputs_add()) takes it: true takes it. It
 * runs once per record and sink, before anything is rendered for that sink, so a record no
 * sink takes costs no rendering at all; it must be pure and cheap. A sink without a filter
 * takes every record, and so do all sinks for a line handed in without a record
 * (ew_rendered_set_line()). The configuration that builds filters (events=, min_severity=) is
 * not here: it sets them through this. 0, or -EINVAL for no such sink.
 */
typedef bool (*ew_output_filter_fn)(void *arg, const struct ew_record *r);
int ew_outputs_set_filter(struct ew_outputs *o, uint32_t i, ew_output_filter_fn fn, void *arg);

/*
 * Writes the stdout and file batches out; reconnects stream sinks and sends their queues and
 * spools as far as the peers take them. Call it every loop turn: nothing else writes a batch
 * that is not full.
 */
void ew_outputs_tick(struct ew_outputs *o, uint64_t now_ns);

/*
 * What a caller that sleeps between ticks waits for, so that it need not tick on a timer: the fds
 * of stream sinks with lines to send or a connect under way (POLLOUT, into pfds, at most max;
 * returns how many), and, lowered into *wait_ns, the time until a sink that is down tries to
 * connect again. stdout and file: sinks want nothing: a tick writes their batches out whole.
 */
uint32_t ew_outputs_poll(const struct ew_outputs *o, struct pollfd *pfds, uint32_t max,
			 uint64_t now_ns, uint64_t *wait_ns);

/*
 * For a caller that can afford to wait (`exitwatch replay`), never the live agent, whose event
 * loop no peer may block: from now on a stream sink that cannot take a line into its memory
 * queue (the queue full, or spooled lines ahead of it) is ticked and waited for inside
 * ew_outputs_emit() and ew_outputs_release() until it can, so that a receiver that keeps reading
 * gets every line, however fast they come, without spool or drops. The wait gives up when the
 * sink hands nothing to its kernel for stall_ns (the peer down, or not reading), or when *stop
 * (may be NULL) is set: that line, and the ones after it, go to the spool or are dropped as they
 * would without blocking, until the sink delivers a line again; then it is waited for again.
 * stall_ns 0 turns blocking off (the default).
 */
void ew_outputs_set_blocking(struct ew_outputs *o, uint64_t stall_ns,
			     const volatile sig_atomic_t *stop);

/*
 * SIGHUP: reopen file sinks (after logrotate moved them); each one's batch is written to the
 * old file first. A file sink that reaches its size limit while PATH no longer names its file
 * (moved or deleted, the SIGHUP not handled yet) opens PATH anew instead of rotating, leaving the
 * moved file and PATH.1..N as they are.
 */
void ew_outputs_reopen(struct ew_outputs *o);

/*
 * At shutdown: writes the stdout and file batches out (whatever timeout_ns), then keeps flushing
 * stream sinks until everything is delivered or timeout_ns passes. Returns the number of lines
 * still undelivered (spooled lines stay in the spool for the next run); stdout and file lines
 * never count there (written, or dropped and counted).
 */
uint64_t ew_outputs_drain(struct ew_outputs *o, uint64_t timeout_ns);

/*
 * Copies each sink's state into out (at most max); returns the number of sinks. For stdout and
 * file sinks: queued is the lines batched and not yet written (0 right after a tick), delivered
 * the lines the fd took whole, dropped the lines a write or an open failed for, connected false
 * from a failed write or open until a write (or a SIGHUP reopen) succeeds. Stream sinks: see
 * include/exitwatch/stream.h.
 */
uint32_t ew_outputs_status(const struct ew_outputs *o, struct ew_sink_status *out, uint32_t max);

#endif
