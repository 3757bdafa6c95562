/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Numbers as decimal text without printf's format machinery, which was a third of a finding's
 * rendering: each gives exactly the bytes snprintf() gives in the C locale.
 */
#ifndef EXITWATCH_DECIMAL_H
#define EXITWATCH_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for any of the below: a sign, 20 digits, a point, a NUL, and to spare. */
#define EW_DECIMAL_LEN 48

/* v's digits ("%llu") ending at end[-1], and a NUL at end[0]; returns the first. */
char *ew_decimal_u64(uint64_t v, char *end);
/* The same for "%lld", '-' first when v is negative. */
char *ew_decimal_i64(int64_t v, char *end);
/* How many digits v has. */
size_t ew_decimal_digits(uint64_t v);

/*
 * v rounded to decimals (0 to 9) places, as units of 10^-decimals, when that is certain to be
 * what printf's "%.*f" rounds it to: the exact binary value, to nearest, ties to even. False
 * when v is not finite, too large (2^40 units or more) or within 2^-12 of a tie, where the
 * product's own rounding could decide it: the caller then asks snprintf().
 */
bool ew_decimal_round(double v, int decimals, int64_t *units);

/*
 * units / 10^decimals as "%.*f" would print it ("-0.05", "12.500"), decimals 0 to 18, into
 * out (EW_DECIMAL_LEN bytes, NUL-terminated); its length, or 0 for decimals out of range.
 */
size_t ew_decimal_fixed(char *out, int64_t units, int decimals);

/* snprintf(out, EW_DECIMAL_LEN, "%.*f", decimals, v), decimals 0 to 9; its length. */
size_t ew_decimal_double(char *out, double v, int decimals);

#endif
