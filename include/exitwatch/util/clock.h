/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The agent's clocks, read only by the run loop; everything downstream is handed times. */
#ifndef EXITWATCH_CLOCK_H
#define EXITWATCH_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

uint64_t ew_clock_mono_ns(void); /* CLOCK_MONOTONIC: intervals, timers */
uint64_t ew_clock_boot_ns(void); /* CLOCK_BOOTTIME: bpf_ktime_get_boot_ns()'s clock */
uint64_t ew_clock_wall_ns(void); /* CLOCK_REALTIME */

/*
 * wall - boot, sampled as close together as the kernel allows. Both clocks count a suspend
 * (CLOCK_MONOTONIC stops), so it holds across one; a step of the wall clock (settimeofday, an
 * NTP step rather than its slew) changes it, and struct ew_clock follows that.
 */
int64_t ew_clock_boot_to_wall(void);

/*
 * The agent's clock: CLOCK_BOOTTIME plus the wall clock's offset as read once at start, so it is
 * the wall clock's time at start and runs on through a suspend (as the wall clock does), but
 * never steps. The kernel's stamps, the rules' windows and deadlines and the state's times are on
 * it: they measure elapsed time. The wall clock may step since (an NTP or chrony step after a
 * boot with a wrong RTC, a VM restored from a snapshot, `date -s`): step_ns is how far it is
 * from the agent's time now, and the latest steps are kept with the agent's time each was seen
 * at, so that a time is shown as the wall clock said it then (records), or compared with another
 * program's stamps of that time (a runtime's log lines).
 */
#define EW_CLOCK_STEPS 8

struct ew_clock_step {
	uint64_t at;	 /* agent time the step was seen at */
	int64_t step_ns; /* wall - agent time from then on */
};

struct ew_clock {
	int64_t boot_to_wall; /* agent time = boot time + this, for the agent's life */
	int64_t step_ns;      /* wall time now = agent time now + this: the steps so far */
	int64_t step_before;  /* in force before steps[0] (older steps are let go) */
	uint32_t nsteps;
	struct ew_clock_step steps[EW_CLOCK_STEPS]; /* oldest first */
};

/* Steps smaller than this are let be: a wall read between two boot reads preempted costs more. */
#define EW_CLOCK_STEP_MIN_NS (20ULL * 1000000ULL)

void ew_clock_init(struct ew_clock *c); /* reads the offset; no step */

static inline uint64_t ew_clock_at(const struct ew_clock *c, uint64_t boot_ns)
{
	return (uint64_t)((int64_t)boot_ns + c->boot_to_wall);
}

uint64_t ew_clock_now(const struct ew_clock *c); /* agent time now */

/* Agent time t as the wall clock said it at t: the step in force then (0 stays 0: "none"). */
uint64_t ew_clock_to_wall(const struct ew_clock *c, uint64_t t);

/* t moved by step_ns (0 stays 0; before 1970, tests' small times: the least). Pure. */
uint64_t ew_clock_shift(uint64_t t, int64_t step_ns);

/*
 * Whether the wall clock stepped since the last look, given the agent time now and the wall
 * clock's offset from the boot clock now (wall - boot): by EW_CLOCK_STEP_MIN_NS or more from
 * the offset the steps so far give. Then the step is kept (at now), step_ns takes it, and
 * *delta_ns says by how much it moved this time (forward: positive). Pure.
 */
bool ew_clock_note_offset(struct ew_clock *c, uint64_t now, int64_t boot_to_wall_now,
			  int64_t *delta_ns);

/*
 * The same, reading the clocks: once per turn of the agent's loop, not per record. One wall and
 * one boot read (vDSO, no syscall) when nothing moved; a careful reading when they disagree.
 */
bool ew_clock_check_step(struct ew_clock *c, int64_t *delta_ns);

#define EW_TIME_STR_LEN 40
#define EW_TIME_LEN	30 /* what ew_time_format() writes: a uint64 of ns ends in year 2554 */
/* RFC 3339 UTC with nanoseconds: "2026-11-29T11:44:14.932347598Z". Pure. */
void ew_time_format(uint64_t wall_ns, char buf[EW_TIME_STR_LEN]);

/*
 * The same, keeping the date and time of day ("2026-11-29T11:44:14.") of the last second
 * formatted: records come in bursts within a second, and the calendar arithmetic was most of a
 * record's time stamp. Zero-initialize; secs 0 is formatted afresh like any other.
 */
struct ew_time_memo {
	uint64_t secs;
	bool valid;
	char head[20];
};
void ew_time_format_memo(struct ew_time_memo *m, uint64_t wall_ns, char buf[EW_TIME_STR_LEN]);

/*
 * Parses "250ms", "30s", "5m", "1h", "2h30m", "1d" (or a bare number of seconds) into
 * nanoseconds. Returns 0 or -EINVAL (empty, unknown unit, negative, overflow).
 */
int ew_duration_parse(const char *s, uint64_t *ret_ns);

/* "7m", "1h2m", "45s", "2.1s", "350ms": compact, for messages. Pure. */
void ew_duration_format(uint64_t ns, char *buf, size_t len);

#endif
