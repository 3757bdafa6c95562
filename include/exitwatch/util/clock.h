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
 * NTP step rather than its slew) is not followed.
 */
int64_t ew_clock_boot_to_wall(void);

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
