// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exitwatch/clock.h"
#include "exitwatch/util.h"

static uint64_t read_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * EW_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t ew_clock_mono_ns(void)
{
	return read_clock(CLOCK_MONOTONIC);
}

uint64_t ew_clock_wall_ns(void)
{
	return read_clock(CLOCK_REALTIME);
}

uint64_t ew_clock_boot_ns(void)
{
	return read_clock(CLOCK_BOOTTIME);
}

int64_t ew_clock_mono_to_wall(void)
{
	/* Bracket the wall read between two monotonic reads and take the tightest of a few
	 * tries: the offset is then good to well under a microsecond. */
	int64_t best = 0;
	uint64_t best_gap = UINT64_MAX;

	for (int i = 0; i < 5; i++) {
		uint64_t m1 = ew_clock_mono_ns();
		uint64_t w = ew_clock_wall_ns();
		uint64_t m2 = ew_clock_mono_ns();

		if (m2 - m1 < best_gap) {
			best_gap = m2 - m1;
			best = (int64_t)w - (int64_t)(m1 + (m2 - m1) / 2);
		}
	}
	return best;
}

void ew_time_format(uint64_t wall_ns, char buf[EW_TIME_STR_LEN])
{
	time_t sec = (time_t)(wall_ns / EW_NSEC_PER_SEC);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(buf, EW_TIME_STR_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(wall_ns % EW_NSEC_PER_SEC));
}

int ew_duration_parse(const char *s, uint64_t *ret_ns)
{
	static const struct {
		const char *unit;
		uint64_t ns;
	} units[] = {
		{ "ms", EW_NSEC_PER_MSEC }, { "s", EW_NSEC_PER_SEC },
		{ "m", 60 * EW_NSEC_PER_SEC }, { "h", 3600 * EW_NSEC_PER_SEC },
		{ "d", 86400 * EW_NSEC_PER_SEC },
	};
	uint64_t total = 0;
	bool any = false;

	if (!s || !*s)
		return -EINVAL;
	while (*s) {
		char *end;
		unsigned long long v;
		uint64_t mult = 0;
		size_t ulen = 0;

		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno)
			return -EINVAL;
		if (!*end && !any) { /* a bare number: seconds */
			mult = EW_NSEC_PER_SEC;
		} else {
			for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
				size_t l = strlen(units[i].unit);

				/* "ms" before "m": longest match first within the table order. */
				if (!strncmp(end, units[i].unit, l) && l > ulen &&
				    !isalpha((unsigned char)end[l])) {
					mult = units[i].ns;
					ulen = l;
				}
			}
			if (!mult)
				return -EINVAL;
		}
		if (v > UINT64_MAX / mult || total > UINT64_MAX - v * mult)
			return -EINVAL;
		total += v * mult;
		s = end + ulen;
		any = true;
	}
	*ret_ns = total;
	return 0;
}

void ew_duration_format(uint64_t ns, char *buf, size_t len)
{
	uint64_t s = ns / EW_NSEC_PER_SEC;

	if (ns < EW_NSEC_PER_SEC)
		snprintf(buf, len, "%llums", (unsigned long long)(ns / EW_NSEC_PER_MSEC));
	else if (s < 60 && ns % EW_NSEC_PER_SEC == 0)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 60)
		snprintf(buf, len, "%.1fs", (double)ns / (double)EW_NSEC_PER_SEC);
	else if (s < 3600)
		snprintf(buf, len, s % 60 ? "%llum%llus" : "%llum", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, (s % 3600) / 60 ? "%lluh%llum" : "%lluh",
			 (unsigned long long)(s / 3600), (unsigned long long)((s % 3600) / 60));
	else
		snprintf(buf, len, "%llud%lluh", (unsigned long long)(s / 86400),
			 (unsigned long long)((s % 86400) / 3600));
}
