// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "exitwatch/util/decimal.h"

static const char digit_pairs[] = "00010203040506070809101112131415161718192021222324"
				  "25262728293031323334353637383940414243444546474849"
				  "50515253545556575859606162636465666768697071727374"
				  "75767778798081828384858687888990919293949596979899";

/* Two digits at a time: a record holds dozens of numbers. */
char *ew_decimal_u64(uint64_t v, char *end)
{
	*end = '\0';
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		end -= 2;
		memcpy(end, digit_pairs + 2 * r, 2);
	}
	if (v >= 10) {
		end -= 2;
		memcpy(end, digit_pairs + 2 * v, 2);
	} else {
		*--end = (char)('0' + v);
	}
	return end;
}

char *ew_decimal_i64(int64_t v, char *end)
{
	/* -(v + 1) + 1 keeps INT64_MIN in range. */
	char *p = ew_decimal_u64(v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v, end);

	if (v < 0)
		*--p = '-';
	return p;
}

size_t ew_decimal_digits(uint64_t v)
{
	size_t n = 1;

	for (; v >= 10000; v /= 10000)
		n += 4;
	return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/*
 * s = v * 10^d is one rounding of the exact product (10^d is exact for d <= 22), so below 2^40
 * it is within 2^-13 of it. A fraction further than 2^-12 from one half then rounds the same
 * way in both, and printf rounds the exact value: the same integer.
 */
bool ew_decimal_round(double v, int decimals, int64_t *units)
{
	static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
	double s, fl, frac;

	if (decimals < 0 || decimals > 9 || !isfinite(v))
		return false;
	s = v * pow10[decimals];
	if (!(fabs(s) < 0x1p40))
		return false;
	fl = floor(s);
	frac = s - fl; /* exact (Sterbenz), or for -1 < s < 0 within 2^-53: far inside the margin */
	if (fabs(frac - 0.5) <= 0x1p-12)
		return false;
	*units = (int64_t)fl + (frac > 0.5);
	return true;
}

size_t ew_decimal_fixed(char *out, int64_t units, int decimals)
{
	char tmp[EW_DECIMAL_LEN], *p, *q = out;
	size_t digits;

	if (decimals < 0 || decimals > 18)
		return 0;
	/* -(units + 1) + 1 keeps INT64_MIN in range. */
	p = ew_decimal_u64(units < 0 ? (uint64_t)(-(units + 1)) + 1 : (uint64_t)units,
			   tmp + sizeof(tmp) - 1);
	digits = (size_t)(tmp + sizeof(tmp) - 1 - p);
	if (units < 0)
		*q++ = '-';
	if (digits <= (size_t)decimals) { /* 0.0xy: the integer part and leading zeros */
		*q++ = '0';
		if (decimals)
			*q++ = '.';
		for (size_t i = digits; i < (size_t)decimals; i++)
			*q++ = '0';
		memcpy(q, p, digits + 1);
		return (size_t)(q - out) + digits;
	}
	memcpy(q, p, digits - (size_t)decimals);
	q += digits - (size_t)decimals;
	if (decimals)
		*q++ = '.';
	memcpy(q, p + digits - (size_t)decimals, (size_t)decimals + 1);
	return (size_t)(q - out) + (size_t)decimals;
}

size_t ew_decimal_double(char *out, double v, int decimals)
{
	int64_t units;
	int n;

	/* A negative value that rounds to zero prints as "-0.0": left to printf, as a tie is. */
	if (ew_decimal_round(v, decimals, &units) && (units || !signbit(v)))
		return ew_decimal_fixed(out, units, decimals);
	n = snprintf(out, EW_DECIMAL_LEN, "%.*f", decimals, v);
	return n < 0 ? 0 : (size_t)n < EW_DECIMAL_LEN ? (size_t)n : EW_DECIMAL_LEN - 1;
}
