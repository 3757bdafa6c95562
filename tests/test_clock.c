// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Time formatting (against the C library), duration parsing and formatting. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "exitwatch/util/clock.h"
#include "exitwatch/util/util.h"

#define NS EW_NSEC_PER_SEC

/*
 * The wall clock's offset from the boot clock, as the agent's loop sees it turn after turn:
 * differences under EW_CLOCK_STEP_MIN_NS (read order, preemption) are no step; an hour forward
 * and back are, each said with its own size, and the agent's time never moves. A time is shown
 * as the wall clock said it then: before a step, with the step before it.
 */
static void test_clock_steps(void **state)
{
	const int64_t off = 1758000000LL * (int64_t)NS, hour = 3600LL * (int64_t)NS;
	const uint64_t t0 = (uint64_t)off; /* agent times: the wall clock's at start */
	struct ew_clock c = {.boot_to_wall = off};
	int64_t d = 0;

	(void)state;
	assert_false(ew_clock_note_offset(&c, t0, off, &d));
	assert_false(ew_clock_note_offset(&c, t0, off + (int64_t)EW_CLOCK_STEP_MIN_NS - 1, &d));
	assert_false(ew_clock_note_offset(&c, t0, off - (int64_t)EW_CLOCK_STEP_MIN_NS + 1, &d));
	assert_int_equal(c.step_ns, 0);
	assert_int_equal(ew_clock_to_wall(&c, t0 + 5), t0 + 5);
	/* An hour forward, seen at t0 + 100 s. */
	assert_true(ew_clock_note_offset(&c, t0 + 100 * NS, off + hour, &d));
	assert_int_equal(d, hour);
	assert_int_equal(c.step_ns, hour);
	assert_int_equal(ew_clock_at(&c, 5 * NS), t0 + 5 * NS);
	assert_int_equal(ew_clock_to_wall(&c, t0 + 100 * NS), t0 + 100 * NS + (uint64_t)hour);
	assert_int_equal(ew_clock_to_wall(&c, t0 + 99 * NS), t0 + 99 * NS);
	assert_int_equal(ew_clock_to_wall(&c, 0), 0);
	assert_false(ew_clock_note_offset(&c, t0 + 150 * NS, off + hour + 1000, &d));
	/* Back by an hour and a microsecond, at t0 + 200 s. */
	assert_true(ew_clock_note_offset(&c, t0 + 200 * NS, off - 1000, &d));
	assert_int_equal(d, -hour - 1000);
	assert_int_equal(c.step_ns, -1000);
	assert_int_equal(c.boot_to_wall, off);
	assert_int_equal(ew_clock_to_wall(&c, t0 + 300 * NS), t0 + 300 * NS - 1000);
	assert_int_equal(ew_clock_to_wall(&c, t0 + 150 * NS), t0 + 150 * NS + (uint64_t)hour);
	assert_int_equal(ew_clock_to_wall(&c, t0 + 50 * NS), t0 + 50 * NS);
	/* More steps than kept: the oldest let go, and what was in force after it stays. */
	for (int i = 1; i <= EW_CLOCK_STEPS; i++)
		assert_true(ew_clock_note_offset(&c, t0 + (uint64_t)(200 + i) * NS,
						 off + i * (int64_t)NS, &d));
	assert_int_equal(c.nsteps, EW_CLOCK_STEPS);
	assert_int_equal(ew_clock_to_wall(&c, t0 + 50 * NS), t0 + 50 * NS - 1000);
	assert_int_equal(ew_clock_to_wall(&c, t0 + 500 * NS), t0 + 500 * NS + EW_CLOCK_STEPS * NS);
	/* A time the step would take before 1970 (tests' small times) is the least, not 0. */
	assert_int_equal(ew_clock_shift(5, -hour), 1);
	assert_int_equal(ew_clock_shift(0, hour), 0);

	/* The live reading: this machine's clock is not stepped, so no step is seen. */
	ew_clock_init(&c);
	for (int i = 0; i < 1000; i++)
		assert_false(ew_clock_check_step(&c, &d));
	assert_true(ew_clock_now(&c) - ew_clock_wall_ns() + NS < 2 * NS);
}

static void test_time_format_fixed_points(void **state)
{
	static const struct {
		uint64_t ns;
		const char *want;
	} cases[] = {
		{0, "1970-01-01T00:00:00.000000000Z"},
		{1, "1970-01-01T00:00:00.000000001Z"},
		{951782400 * NS, "2000-02-29T00:00:00.000000000Z"}, /* a 400-year leap day */
		{1709164799 * NS + 999999999, "2024-02-28T23:59:59.999999999Z"},
		{1709164800 * NS, "2024-02-29T00:00:00.000000000Z"},
		{1796083199 * NS, "2026-11-30T23:59:59.000000000Z"},
		{4107542400 * NS, "2100-03-01T00:00:00.000000000Z"}, /* 2100 is not a leap year */
		{1758002537 * NS + 868096000, "2025-09-16T06:02:17.868096000Z"},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char buf[EW_TIME_STR_LEN];

		ew_time_format(cases[i].ns, buf);
		assert_string_equal(buf, cases[i].want);
	}
}

/* Random instants up to 2100 against gmtime_r() and printf. */
static void test_time_format_matches_libc(void **state)
{
	unsigned seed = 42;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		uint64_t t = (((uint64_t)rand_r(&seed) << 33) ^ ((uint64_t)rand_r(&seed) << 2) ^
			      (uint64_t)rand_r(&seed)) %
			     (4102444800ULL * NS);
		time_t s = (time_t)(t / NS);
		char a[EW_TIME_STR_LEN], b[64];
		struct tm tm;

		ew_time_format(t, a);
		gmtime_r(&s, &tm);
		snprintf(b, sizeof(b), "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (unsigned)(t % NS));
		assert_string_equal(a, b);
	}
}

/*
 * The nanoseconds' nine digits at their edges: every power of ten and the number below it,
 * every digit repeated, each digit alone at each place, and every value below 10^5 and the
 * top of the range (each eight-digit word's lanes through all their values).
 */
static void test_time_format_nanos(void **state)
{
	uint64_t base = 1764500000ULL * NS;
	char a[EW_TIME_STR_LEN], b[16];
	uint32_t vals[64], n = 0, p = 1;

	(void)state;
	for (int k = 0; k <= 9; k++, p *= 10) {
		vals[n++] = p - 1;
		if (p < NS)
			vals[n++] = p;
	}
	for (uint32_t d = 1; d <= 9; d++)
		vals[n++] = d * 111111111u;
	for (uint32_t i = 0; i < n; i++) {
		ew_time_format(base + vals[i], a);
		snprintf(b, sizeof(b), "%09u", vals[i]);
		assert_memory_equal(a + 20, b, 9);
		assert_string_equal(a + 29, "Z");
	}
	for (uint32_t place = 1; place < NS; place *= 10)
		for (uint32_t d = 0; d <= 9; d++) {
			ew_time_format(base + d * place, a);
			snprintf(b, sizeof(b), "%09u", d * place);
			assert_memory_equal(a + 20, b, 9);
		}
	for (uint32_t v = 0; v < 100000; v++) {
		uint32_t w[2] = {v, (uint32_t)NS - 1 - v};

		for (int j = 0; j < 2; j++) {
			ew_time_format(base + w[j], a);
			snprintf(b, sizeof(b), "%09u", w[j]);
			assert_memory_equal(a + 20, b, 9);
		}
	}
}

/*
 * The memo gives what ew_time_format() gives: within a second, across one (forwards and back),
 * at 0, and through random jumps; a memo that kept the nanoseconds or a stale day fails it.
 */
static void test_time_format_memo(void **state)
{
	struct ew_time_memo m = {0};
	uint64_t base = 1764500000ULL * NS + 999999990ULL;
	uint64_t steps[] = {0, 1,	    7, NS - 1, NS, NS + 1, 86400ULL * NS, 86400ULL * NS + 5,
			    3, 2 * NS + 123};
	unsigned seed = 7;
	char a[EW_TIME_STR_LEN], b[EW_TIME_STR_LEN];

	(void)state;
	ew_time_format_memo(&m, 0, a);
	ew_time_format(0, b);
	assert_string_equal(a, b);
	ew_time_format_memo(&m, 5, a); /* second 0 again, now from the memo */
	ew_time_format(5, b);
	assert_string_equal(a, b);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		ew_time_format_memo(&m, base + steps[i], a);
		ew_time_format(base + steps[i], b);
		assert_string_equal(a, b);
	}
	for (int i = 0; i < 100000; i++) {
		uint64_t t = base + (uint64_t)(rand_r(&seed) % 4) * NS / 2 +
			     (uint64_t)rand_r(&seed) % NS;

		if (i % 1000 == 0)
			base += (uint64_t)rand_r(&seed) * NS;
		ew_time_format_memo(&m, t, a);
		ew_time_format(t, b);
		assert_string_equal(a, b);
	}
}

static void test_duration_parse(void **state)
{
	static const struct {
		const char *in;
		int ret;
		uint64_t ns;
	} cases[] = {
		{"30s", 0, 30 * NS},
		{"5m", 0, 300 * NS},
		{"1h", 0, 3600 * NS},
		{"2h30m", 0, 9000 * NS},
		{"250ms", 0, 250 * EW_NSEC_PER_MSEC},
		{"1d", 0, 86400 * NS},
		{"45", 0, 45 * NS},
		{"0s", 0, 0},
		{"", -EINVAL, 0},
		{"5 minutes", -EINVAL, 0},
		{"-3s", -EINVAL, 0},
		{"3x", -EINVAL, 0},
		{"m", -EINVAL, 0},
		{"1h5", -EINVAL, 0},
		{"99999999999999999999s", -EINVAL, 0},
		{"18446744073h", -EINVAL, 0},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t ns = 12345;
		int r = ew_duration_parse(cases[i].in, &ns);

		assert_int_equal(r, cases[i].ret);
		if (!r)
			assert_int_equal(ns, cases[i].ns);
	}
	assert_int_equal(ew_duration_parse(NULL, &(uint64_t){0}), -EINVAL);
}

static void test_duration_format(void **state)
{
	static const struct {
		uint64_t ns;
		const char *want;
	} cases[] = {
		{350 * EW_NSEC_PER_MSEC, "350ms"},
		{30 * NS, "30s"},
		{2100 * EW_NSEC_PER_MSEC, "2.1s"},
		{420 * NS, "7m"},
		{410 * NS, "6m50s"},
		{3600 * NS, "1h"},
		{3720 * NS, "1h2m"},
		{90000 * NS, "1d1h"},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char buf[32];

		ew_duration_format(cases[i].ns, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].want);
	}
}

/* The format as it was written with snprintf(): what ew_duration_format() must still give. */
static void duration_printf(uint64_t ns, char *buf, size_t len)
{
	unsigned long long s = ns / NS;

	if (ns < NS)
		snprintf(buf, len, "%llums", (unsigned long long)(ns / EW_NSEC_PER_MSEC));
	else if (s < 60 && ns % NS == 0)
		snprintf(buf, len, "%llus", s);
	else if (s < 60)
		snprintf(buf, len, "%.1fs", (double)ns / (double)NS);
	else if (s < 3600)
		snprintf(buf, len, s % 60 ? "%llum%llus" : "%llum", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, (s % 3600) / 60 ? "%lluh%llum" : "%lluh", s / 3600,
			 (s % 3600) / 60);
	else
		snprintf(buf, len, "%llud%lluh", s / 86400, (s % 86400) / 3600);
}

/* Every branch, the tenths' ties (1.05 s, 59.95 s), and cuts at every length. */
static void test_duration_format_matches_printf(void **state)
{
	uint64_t seed = 88172645463325252ULL, ns;

	(void)state;
	for (int i = 0; i < 300000; i++) {
		char want[40], got[40];
		size_t len = i % 7 ? sizeof(got) : (size_t)(i / 7) % 12;

		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		switch (i % 5) {
		case 0:
			ns = seed % (2 * NS);
			break;
		case 1: /* seconds with tenths and hundredths, ties included */
			ns = (seed % 6000) * 10 * EW_NSEC_PER_MSEC + (seed >> 40) % 3 - 1;
			break;
		case 2:
			ns = seed % (60 * NS);
			break;
		case 3:
			ns = (seed % (90000 * 4)) * NS / 4;
			break;
		default:
			ns = seed % (1000ULL * 86400 * NS);
		}
		memset(want, 'x', sizeof(want));
		memset(got, 'x', sizeof(got));
		duration_printf(ns, want, len);
		ew_duration_format(ns, got, len);
		if (memcmp(got, want, sizeof(got)))
			fail_msg("%llu ns, %zu bytes: \"%.*s\", printf \"%.*s\"",
				 (unsigned long long)ns, len, (int)len, got, (int)len, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_format_fixed_points),
		cmocka_unit_test(test_time_format_matches_libc),
		cmocka_unit_test(test_time_format_nanos),
		cmocka_unit_test(test_time_format_memo),
		cmocka_unit_test(test_duration_parse),
		cmocka_unit_test(test_duration_format),
		cmocka_unit_test(test_duration_format_matches_printf),
		cmocka_unit_test(test_clock_steps),
	};

	return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
