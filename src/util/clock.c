// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exitwatch/util/clock.h"
#include "exitwatch/util/decimal.h"
#include "exitwatch/util/util.h"

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

uint64_t ew_clock_boot_ns(void)
{
	return read_clock(CLOCK_BOOTTIME);
}

uint64_t ew_clock_wall_ns(void)
{
	return read_clock(CLOCK_REALTIME);
}

int64_t ew_clock_boot_to_wall(void)
{
	/* Bracket the wall read between two monotonic reads and take the tightest of a few
	 * tries: the offset is then good to well under a microsecond. */
	int64_t best = 0;
	uint64_t best_gap = UINT64_MAX;

	for (int i = 0; i < 5; i++) {
		uint64_t m1 = ew_clock_boot_ns();
		uint64_t w = ew_clock_wall_ns();
		uint64_t m2 = ew_clock_boot_ns();

		if (m2 - m1 < best_gap) {
			best_gap = m2 - m1;
			best = (int64_t)w - (int64_t)(m1 + (m2 - m1) / 2);
		}
	}
	return best;
}

void ew_clock_init(struct ew_clock *c)
{
	memset(c, 0, sizeof(*c));
	c->boot_to_wall = ew_clock_boot_to_wall();
}

uint64_t ew_clock_now(const struct ew_clock *c)
{
	return ew_clock_at(c, ew_clock_boot_ns());
}

uint64_t ew_clock_shift(uint64_t t, int64_t step_ns)
{
	int64_t w;

	if (!t || !step_ns)
		return t;
	w = (int64_t)t + step_ns;
	return w > 0 ? (uint64_t)w : 1;
}

uint64_t ew_clock_to_wall(const struct ew_clock *c, uint64_t t)
{
	/* Newest first: a time shown is almost always after the last step, if there was one. */
	for (uint32_t i = c->nsteps; i-- > 0;)
		if (t >= c->steps[i].at)
			return ew_clock_shift(t, c->steps[i].step_ns);
	return ew_clock_shift(t, c->step_before);
}

static uint64_t distance(int64_t a, int64_t b)
{
	return a > b ? (uint64_t)(a - b) : (uint64_t)(b - a);
}

bool ew_clock_note_offset(struct ew_clock *c, uint64_t now, int64_t boot_to_wall_now,
			  int64_t *delta_ns)
{
	int64_t was = c->boot_to_wall + c->step_ns;

	if (distance(boot_to_wall_now, was) < EW_CLOCK_STEP_MIN_NS)
		return false;
	*delta_ns = boot_to_wall_now - was;
	c->step_ns = boot_to_wall_now - c->boot_to_wall;
	if (c->nsteps == EW_CLOCK_STEPS) {
		c->step_before = c->steps[0].step_ns;
		memmove(c->steps, c->steps + 1, sizeof(c->steps[0]) * (EW_CLOCK_STEPS - 1));
		c->nsteps--;
	}
	c->steps[c->nsteps++] = (struct ew_clock_step){.at = now, .step_ns = c->step_ns};
	return true;
}

bool ew_clock_check_step(struct ew_clock *c, int64_t *delta_ns)
{
	uint64_t b = ew_clock_boot_ns(), w = ew_clock_wall_ns();

	/* The quick look, off by however long this thread was preempted between the reads: only
	 * when it says "moved" is the offset read with care, which decides. */
	if (distance((int64_t)w - (int64_t)b, c->boot_to_wall + c->step_ns) < EW_CLOCK_STEP_MIN_NS)
		return false;
	return ew_clock_note_offset(c, ew_clock_at(c, b), ew_clock_boot_to_wall(), delta_ns);
}

static void put_digits(char *p, uint64_t v, int n)
{
	while (n--) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/*
 * The nine digits of a time's nanoseconds (ns < 10^9), which every record writes: the first by
 * a division, the other eight as one little-endian word, every lane's division by a multiply
 * and shift exact in its range (x * 10486 >> 20 is x / 100 below 10^4 in 32-bit lanes, x * 103
 * >> 10 is x / 10 below 100 in 16-bit lanes, and no lane's product reaches the next lane), where
 * a division per digit took twice the instructions.
 */
static void put_nanos(char *p, uint32_t ns)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint32_t r = ns % 100000000;
	uint64_t x = r / 10000 | (uint64_t)(r % 10000) << 32, q;

	p[0] = (char)('0' + ns / 100000000);
	q = (x * 10486 >> 20) & 0x0000007f0000007fULL;
	x = q | (x - q * 100) << 16;
	q = (x * 103 >> 10) & 0x000f000f000f000fULL;
	x = (q | (x - q * 10) << 8) + 0x3030303030303030ULL;
	memcpy(p + 1, &x, 8);
#else
	put_digits(p, ns, 9);
#endif
}

/*
 * Every record carries one or more of these: done with integer arithmetic instead of
 * gmtime_r() and snprintf(). Days to civil date after Howard Hinnant's days_from_civil
 * inverse (proleptic Gregorian, valid for every time a uint64 of ns can hold).
 */
void ew_time_format(uint64_t wall_ns, char buf[EW_TIME_STR_LEN])
{
	uint64_t secs = wall_ns / EW_NSEC_PER_SEC, days = secs / 86400, sod = secs % 86400;
	uint64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	uint64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	uint64_t y = yoe + era * 400 + (m <= 2);

	/* "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" */
	memcpy(buf, "0000-00-00T00:00:00.000000000Z", 31);
	put_digits(buf, y, 4);
	put_digits(buf + 5, m, 2);
	put_digits(buf + 8, d, 2);
	put_digits(buf + 11, sod / 3600, 2);
	put_digits(buf + 14, sod / 60 % 60, 2);
	put_digits(buf + 17, sod % 60, 2);
	put_nanos(buf + 20, (uint32_t)(wall_ns % EW_NSEC_PER_SEC));
}

void ew_time_format_memo(struct ew_time_memo *m, uint64_t wall_ns, char buf[EW_TIME_STR_LEN])
{
	uint64_t secs = wall_ns / EW_NSEC_PER_SEC;

	if (!m->valid || m->secs != secs) {
		ew_time_format(wall_ns, buf);
		memcpy(m->head, buf, sizeof(m->head));
		m->secs = secs;
		m->valid = true;
		return;
	}
	memcpy(buf, m->head, sizeof(m->head));
	put_nanos(buf + 20, (uint32_t)(wall_ns % EW_NSEC_PER_SEC));
	memcpy(buf + 29, "Z", 2);
}

int ew_duration_parse(const char *s, uint64_t *ret_ns)
{
	static const struct {
		const char *unit;
		uint64_t ns;
	} units[] = {
		{"ms", EW_NSEC_PER_MSEC},	{"s", EW_NSEC_PER_SEC},
		{"m", 60 * EW_NSEC_PER_SEC},	{"h", 3600 * EW_NSEC_PER_SEC},
		{"d", 86400 * EW_NSEC_PER_SEC},
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

/* "%llu" and a unit at p; returns the end. */
static char *put_units(char *p, uint64_t v, const char *unit, size_t ulen)
{
	char tmp[EW_DECIMAL_LEN], *d = ew_decimal_u64(v, tmp + sizeof(tmp) - 1);
	size_t n = (size_t)(tmp + sizeof(tmp) - 1 - d);

	memcpy(p, d, n);
	memcpy(p + n, unit, ulen);
	return p + n + ulen;
}

#define PUT_UNITS(p, v, unit) put_units(p, v, unit, sizeof(unit) - 1)

/*
 * Without printf's format machinery: every exit's message says its uptime, and a finding's says
 * four durations. The same bytes as snprintf("%llus", "%.1fs", "%llum%llus", ...) would write,
 * and cut at len as it cuts.
 */
void ew_duration_format(uint64_t ns, char *buf, size_t len)
{
	char tmp[2 * EW_DECIMAL_LEN], *p = tmp;
	uint64_t s = ns / EW_NSEC_PER_SEC;

	if (ns < EW_NSEC_PER_SEC) {
		p = PUT_UNITS(p, ns / EW_NSEC_PER_MSEC, "ms");
	} else if (s < 60 && ns % EW_NSEC_PER_SEC == 0) {
		p = PUT_UNITS(p, s, "s");
	} else if (s < 60) {
		p += ew_decimal_double(p, (double)ns / (double)EW_NSEC_PER_SEC, 1);
		*p++ = 's';
	} else if (s < 3600) {
		p = PUT_UNITS(p, s / 60, "m");
		if (s % 60)
			p = PUT_UNITS(p, s % 60, "s");
	} else if (s < 86400) {
		p = PUT_UNITS(p, s / 3600, "h");
		if ((s % 3600) / 60)
			p = PUT_UNITS(p, (s % 3600) / 60, "m");
	} else {
		p = PUT_UNITS(p, s / 86400, "d");
		p = PUT_UNITS(p, (s % 86400) / 3600, "h");
	}
	*p = '\0';
	ew_strlcpy(buf, tmp, len);
}
