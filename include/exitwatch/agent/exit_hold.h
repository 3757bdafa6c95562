/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Exits wait here until their container's runtime log has caught up. The container's last
 * words reach its log file through the runtime's copier (runc's pipe, containerd's shim,
 * dockerd or the CRI's log writer), a few milliseconds after the kernel has reported the exit:
 * reading the file at once would miss exactly the last line. An exit is let through when the
 * file's writer has closed it (log_watch.h), or, without a watch, when the file has not grown
 * for EW_HOLD_QUIET_NS (and EW_HOLD_MIN_NS has passed); and at EW_HOLD_MAX_NS after the exit
 * itself whatever the file does.
 *
 * Events queue in arrival order: while an exit waits, every event behind it waits too, so the
 * detector sees them in the order the kernel reported them. Times are CLOCK_MONOTONIC ns.
 */
#ifndef EXITWATCH_EXIT_HOLD_H
#define EXITWATCH_EXIT_HOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "exitwatch/core/event.h"
#include "exitwatch/identity/runtime_log.h"

/* Docker's copier writes within a millisecond on an idle node; 20 ms is a busy node's lag. */
#define EW_HOLD_MIN_NS	 (20ULL * 1000 * 1000)
#define EW_HOLD_QUIET_NS (20ULL * 1000 * 1000)
/*
 * The longest an exit waits, counted from the exit (the kernel's time), not from its arrival:
 * records reach userspace up to a turn of the agent's loop late (40 ms in a storm), and
 * exit-to-finding latency must stay under 100 ms. Docker closes a log 25-60 ms after the exit.
 */
#define EW_HOLD_MAX_NS (90ULL * 1000 * 1000)
/*
 * A failed start waits for its runtime's error (runtime_meta.h, ew_meta_read_start_error()),
 * which comes with no event to wake the loop: it looks again this often until its deadline.
 */
#define EW_HOLD_POLL_NS (10ULL * 1000 * 1000)
/*
 * The longest a failed start waits for it, from its init's exit. Docker and containerd write it
 * 15-30 ms after the exit on an idle node; a loaded one may take longer, and failed starts are
 * rare enough that waiting for them costs the rest nothing. A runtime that keeps no such file
 * is not waited for at all.
 */
#define EW_HOLD_START_ERROR_NS (500ULL * 1000 * 1000)
/* Events held at most; past it the oldest exit is read at once (a storm of exits). */
#define EW_HOLD_MAX_EVENTS 1024

struct ew_held {
	struct ew_held *next;
	uint64_t arrived_ns;
	/* EW_HOLD_MAX_NS after the exit (a failed start's: EW_HOLD_START_ERROR_NS), on the
	 * monotonic clock */
	uint64_t deadline_ns;
	bool full; /* room for a whole ew_event: an exit's, a failed start's */
	/* The log was looked for (only at the head: see the .c); a failed start's error was
	 * found or will not come. */
	bool located;
	bool has_log; /* path and fmt are valid */
	enum ew_log_format fmt;
	char *path;
	off_t last_size;	/* at last_check_ns */
	uint64_t last_check_ns; /* 0: never looked */
	/* An exit or a failed start holds EW_STDERR_CAP tail bytes; other events only theirs. */
	struct ew_event ev;
};

struct ew_hold;

struct ew_hold *ew_hold_new(void);
/* Frees the hold and every event still in it. */
void ew_hold_free(struct ew_hold *h);
size_t ew_hold_count(const struct ew_hold *h);
/* Copies ev to the end of the queue; age_ns is how long ago it happened. 0 or -ENOMEM. */
int ew_hold_push(struct ew_hold *h, const struct ew_event *ev, uint64_t now_ns, uint64_t age_ns);
/* The oldest held event, or NULL. */
struct ew_held *ew_hold_head(struct ew_hold *h);
/* The newest (the one ew_hold_push() just queued), or NULL. */
struct ew_held *ew_hold_tail(struct ew_hold *h);
/* Drops the head. */
void ew_hold_pop(struct ew_hold *h);

/*
 * The settle rule for an exit whose log is size bytes long at now: returns 0 when it is time to
 * read the log, else when to look again (monotonic ns). Pure but for e's bookkeeping.
 */
uint64_t ew_hold_settle(struct ew_held *e, off_t size, uint64_t now_ns);

#endif
