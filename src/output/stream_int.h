/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One stream sink (tcp://HOST:PORT or unix:PATH) of src/sink/output.c, which parses the spec
 * and is this module's only user. Nothing here blocks, except getaddrinfo() for a host name
 * (numeric hosts never block): a connection state machine driven by write and tick, a bounded
 * FIFO of lines in memory and a spool on disk behind it (include/exitwatch/spool.h), and a
 * resend window of the lines sent last (below). Times are CLOCK_MONOTONIC nanoseconds.
 */
#ifndef EXITWATCH_STREAM_H
#define EXITWATCH_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exitwatch/output/output.h"

/*
 * The resend window. TCP and Unix stream sockets carry no application-level acknowledgement: a
 * successful send() only means that our kernel took the bytes. When a receiver stops (syslog-ng
 * or Fluent Bit restarted, its pod rescheduled), the lines it had not yet read from its socket
 * are discarded with the socket, and so are lines it had read but not yet stored; nothing tells
 * the sender how many. So each stream sink keeps the most recent lines it handed whole to the
 * kernel, up to this many bytes, and after a lost connection is re-established it sends them
 * again, in order, before anything still queued. Delivery is at least once, and a line may
 * arrive twice: receivers de-duplicate on the record's "logging.googleapis.com/insertId", which
 * is deterministic, and a line sent again is byte-identical. Cloud Logging does this natively:
 * entries of one project with the same timestamp and insertId are duplicates and are removed
 * from query results (log exports are not de-duplicated). Elsewhere, a step keyed on insertId
 * does it (a unique key in a database, a de-duplicating filter in the log pipeline).
 *
 * The window must exceed what a restart can lose: the receiver's unread receive queue, what it
 * had read but not stored, and what our own send queue still held.
 *  - Unix stream sockets: a receiver's unread bytes stay charged to the sender's socket buffer,
 *    at most net.core.wmem_default (208 KiB unless raised).
 *  - TCP: a receive buffer starts at tcp_rmem[1] (128 KiB); autotuning grows it, up to
 *    tcp_rmem[2] (6 MiB by default), only while the reader keeps up with a fast sender. About
 *    half of it holds payload (tcp_adv_win_scale = 1; from Linux 6.6 the kernel measures the
 *    ratio, often higher), so a receiver that stalls holds from 64 KiB up to 3-5 MiB of unread
 *    lines. Our unacknowledged send queue adds to that; it autotunes up to tcp_wmem[2], 4 MiB.
 * 4 MiB covers the usual case (default buffers, a receiver that was keeping up when it stopped)
 * many times over, and most of the worst case at default limits, at a bounded cost: 4 MiB of
 * memory per stream sink (at most EW_MAX_SINKS) and at most 4 MiB of lines sent twice after each
 * reconnect, whether or not anything was lost (a peer that closes idle connections gets the
 * window again each time). A receiver with raised buffers that stalls with them full can still
 * lose lines older than the window; only a transport with acknowledgements closes that gap.
 */
#define EW_STREAM_RESEND_BYTES (4u << 20)

struct ew_stream;

/*
 * TCP: host (no brackets) and numeric port, path NULL; Unix: path, host and port NULL. A host
 * name is resolved now (and again on every reconnect): a name that does not exist is -EINVAL
 * with a sentence in err. The spool (opts->spool_dir, named after spec) is opened now and a
 * previous run's spooled lines are delivered first; when it cannot be opened, a warning says
 * so and the sink runs without one. The spec is the sink's name in logs and status. Returns 0,
 * that -EINVAL, or -ENOMEM with err left as it was (ew_outputs_add() words it).
 */
int ew_stream_new(const char *spec, const char *host, const char *port, const char *path,
		  const struct ew_output_opts *opts, struct ew_stream **ret, char *err,
		  size_t errlen);

/*
 * Closes. Lines still waiting in memory (the resend window when a lost connection has not been
 * re-established, then the queue) are saved ahead of the spool for the next run.
 */
void ew_stream_free(struct ew_stream *s);

/* Queues (or spools, or drops and counts) one line ending with '\n', then sends what it can. */
void ew_stream_write(struct ew_stream *s, const char *line, size_t len, uint64_t now_ns);

/* Connects when due, detects a closed peer, sends, refills the queue from the spool. */
void ew_stream_tick(struct ew_stream *s, uint64_t now_ns);

/*
 * Lines not yet delivered: queued, spooled, and lines of the resend window still to be sent
 * again after a reconnect (a drain waits for those too).
 */
uint64_t ew_stream_pending(const struct ew_stream *s);

/*
 * true when a line written now goes straight into the memory queue: the queue below its bound
 * and no spooled line ahead of it. What a caller that may block waits for.
 */
bool ew_stream_has_room(const struct ew_stream *s);

/*
 * Lines handed whole to the kernel so far, resent ones included: it grows while the peer reads,
 * also during a resend, when delivered does not. A waiting caller's sign of progress.
 */
uint64_t ew_stream_progress(const struct ew_stream *s);

/*
 * For a drain loop: the fd to poll for POLLOUT (connecting, or lines waiting on a full socket),
 * or -1; then *wait_ns is lowered to the time left until the next connect attempt.
 */
int ew_stream_poll_fd(const struct ew_stream *s, uint64_t now_ns, uint64_t *wait_ns);

/*
 * queued counts the lines in memory waiting to be sent: the queue, and the resend window's lines
 * still to be sent again; delivered counts each line once, when first handed whole to the kernel.
 */
void ew_stream_status(const struct ew_stream *s, struct ew_sink_status *st);

#endif
