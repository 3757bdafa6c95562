// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * src/util/decimal.c: numbers as decimal text without printf. Each function must give the bytes
 * snprintf() gives, so each is checked against it: fixed points, the ties and near-ties where
 * the fast path must hand over, and a few million values from a fixed seed.
 */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "exitwatch/util/decimal.h"

/* xorshift64*: the same values on every run and every machine. */
static uint64_t next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static void check_double(double v, int decimals)
{
	char want[EW_DECIMAL_LEN], got[EW_DECIMAL_LEN];
	int n = snprintf(want, sizeof(want), "%.*f", decimals, v);
	size_t len = ew_decimal_double(got, v, decimals);

	if (n < 0 || (size_t)n >= sizeof(want))
		n = (int)sizeof(want) - 1;
	if (strcmp(got, want) || len != (size_t)n)
		fail_msg("%.17g with %d decimals: \"%s\" (%zu), printf \"%s\" (%d)", v, decimals,
			 got, len, want, n);
}

static void test_u64(void **state)
{
	static const uint64_t cases[] = {0,
					 1,
					 9,
					 10,
					 99,
					 100,
					 999,
					 1000,
					 9999,
					 10000,
					 12345678,
					 4294967295ULL,
					 10000000000000000000ULL,
					 UINT64_MAX};
	char buf[EW_DECIMAL_LEN], want[EW_DECIMAL_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = ew_decimal_u64(cases[i], buf + sizeof(buf) - 1);

		snprintf(want, sizeof(want), "%" PRIu64, cases[i]);
		assert_string_equal(p, want);
		assert_int_equal(ew_decimal_digits(cases[i]), strlen(want));
	}
}

static void test_i64(void **state)
{
	static const int64_t cases[] = {0,	   1,	     -1, 9, -10, 2147483647, -2147483648LL,
					INT64_MAX, INT64_MIN};
	char buf[EW_DECIMAL_LEN], want[EW_DECIMAL_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(want, sizeof(want), "%" PRId64, cases[i]);
		assert_string_equal(ew_decimal_i64(cases[i], buf + sizeof(buf) - 1), want);
	}
}

static void test_fixed(void **state)
{
	static const struct {
		int64_t units;
		int decimals;
		const char *want;
	} cases[] = {
		{0, 0, "0"},
		{0, 3, "0.000"},
		{5, 2, "0.05"},
		{-5, 2, "-0.05"},
		{12500, 3, "12.500"},
		{-12500, 3, "-12.500"},
		{7, 0, "7"},
		{1, 18, "0.000000000000000001"},
		{INT64_MIN, 0, "-9223372036854775808"},
		{INT64_MAX, 3, "9223372036854775.807"},
	};
	char buf[EW_DECIMAL_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = ew_decimal_fixed(buf, cases[i].units, cases[i].decimals);

		assert_string_equal(buf, cases[i].want);
		assert_int_equal(n, strlen(cases[i].want));
	}
	assert_int_equal(ew_decimal_fixed(buf, 1, 19), 0);
	assert_int_equal(ew_decimal_fixed(buf, 1, -1), 0);
}

/* Values whose rounding is decided by the last bits: exact ties, one ulp either side of them,
 * the decimal fractions no double holds (0.15, 2.675), negatives that round to zero. */
static void test_double_edges(void **state)
{
	static const double values[] = {0.0,
					-0.0,
					0.5,
					1.5,
					2.5,
					-0.5,
					-2.5,
					0.05,
					0.15,
					0.25,
					0.35,
					2.675,
					1.005,
					1.0005,
					-0.04,
					-0.0001,
					1e-300,
					99.95,
					99.949,
					99.951,
					0.125,
					0.375,
					1234.5,
					1e11,
					1e12,
					1e15,
					1e20,
					-1e20,
					1.7976931348623157e308};
	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		for (int d = 0; d <= 9; d++) {
			check_double(values[i], d);
			check_double(nextafter(values[i], INFINITY), d);
			check_double(nextafter(values[i], -INFINITY), d);
		}
	check_double(NAN, 1);
	check_double(INFINITY, 1);
	check_double(-INFINITY, 3);
}

static void test_double_random(void **state)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (int i = 0; i < 2000000; i++) {
		uint64_t r = next(&seed);
		int d = (int)(r % 10);
		double v;

		switch ((r >> 8) % 4) {
		case 0: /* seconds as a detector gives them: ns / 1e9 */
			v = (double)(next(&seed) % 100000000000000ULL) / 1e9;
			break;
		case 1: /* percentages */
			v = 100.0 * (double)(next(&seed) % 100000) /
			    (double)(1 + next(&seed) % 100000);
			break;
		case 2: /* a tie at d decimals, or a neighbour of one */
			v = ((double)(next(&seed) % 2000000) + 0.5) / pow(10, d);
			v = (r >> 16) % 3 ? nextafter(v, (r >> 18) % 2 ? INFINITY : -INFINITY) : v;
			break;
		default: { /* any finite double of moderate exponent, either sign */
			uint64_t bits = next(&seed);

			bits = (bits & 0x800fffffffffffffULL) |
			       ((uint64_t)(1023 - 40 + (bits >> 52) % 80) << 52);
			memcpy(&v, &bits, sizeof(v));
		}
		}
		check_double(v, d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),	      cmocka_unit_test(test_i64),
		cmocka_unit_test(test_fixed),	      cmocka_unit_test(test_double_edges),
		cmocka_unit_test(test_double_random),
	};

	return cmocka_run_group_tests_name("decimal", tests, NULL, NULL);
}
