/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * How often the agent's loop turns. A record wakes the loop at once (a container's start: its
 * log watch must begin before the runtime closes the log, 25 ms or more after a short-lived
 * container's exit), but the loop turns at most once per EW_TURN_MIN_NS, so a burst's records
 * are taken together: a turn costs far more than a record (a wakeup, a sleep and their context
 * switches, and caches cold after them: 90 to 150 us of the agent's CPU on a VM, against 3 us
 * for a record). While records come at a storm's rate, EW_TURN_BUSY_RECORDS per
 * EW_TURN_BUSY_NS (800 a second) or more, turns are EW_TURN_BUSY_NS apart: a quarter of them.
 *
 * The rate is counted over EW_TURN_BUSY_NS at least (the reads since a window began), not per
 * turn: a turn's count follows the turn's own length, so with a count per turn (32) a storm of
 * 1,000 to 3,000 records a second read every 10 ms never reached it and kept the loop at 100
 * turns a second, a third of the agent's CPU in a slow hour (docs/benchmarks.md); and a rate
 * over one 10 ms turn takes a single container's start (runc's bootstrap: ten records within a
 * few milliseconds) for a storm, and holds its exit's finding back by a busy turn.
 *
 * A start watched only after its log closed costs latency, never its tail (the exit waits for
 * the hold's deadline, exit_hold.h), and a storm's detection latency stays under 50 ms. Times
 * are CLOCK_MONOTONIC ns.
 */
#ifndef EXITWATCH_PACE_H
#define EXITWATCH_PACE_H

#include <stdbool.h>
#include <stdint.h>

#define EW_TURN_MIN_NS	     (10ULL * 1000 * 1000)
#define EW_TURN_BUSY_NS	     (40ULL * 1000 * 1000)
#define EW_TURN_BUSY_RECORDS 32ULL

struct ew_pace {
	uint64_t turn_ns;   /* when the last turn began */
	uint64_t window_ns; /* when the rate's window began (a read); 0: before the first read */
	uint64_t taken;	    /* records read since */
	uint64_t gap_ns;    /* the least time from the last turn's start to the next one's */
};

void ew_pace_init(struct ew_pace *p);
/* How long the loop waits at now_ns before its next turn may begin; 0: at once. */
uint64_t ew_pace_rest(const struct ew_pace *p, uint64_t now_ns);
/* A turn begins at now_ns. */
void ew_pace_turn(struct ew_pace *p, uint64_t now_ns);
/* The ring buffer was read at now_ns and gave taken records (negative: an error, none). */
void ew_pace_taken(struct ew_pace *p, int taken, uint64_t now_ns);
/* Whether the last full window's records came at a storm's rate (turns EW_TURN_BUSY_NS apart). */
bool ew_pace_busy(const struct ew_pace *p);

#endif
