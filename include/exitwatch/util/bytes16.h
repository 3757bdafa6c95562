/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Sixteen bytes tested at once, for the scanners that look at every byte a record's strings
 * hold (the JSON escaper, the message's printable check): GCC and clang vector extensions, one
 * instruction per compare on SSE2 and NEON, and on x86 a movemask to answer for all sixteen.
 * EW_BYTES16 is defined where they exist; elsewhere the callers keep their word-at-a-time tests.
 */
#ifndef EXITWATCH_UTIL_BYTES16_H
#define EXITWATCH_UTIL_BYTES16_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#define EW_BYTES16 16

typedef unsigned char ew_u8x16 __attribute__((vector_size(16)));
typedef signed char ew_s8x16 __attribute__((vector_size(16)));
typedef unsigned long long ew_u64x2 __attribute__((vector_size(16)));

static inline ew_u8x16 ew_bytes16_load(const void *p)
{
	ew_u8x16 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Two words as one block: a string of 8 to 15 bytes is two overlapping words. */
static inline ew_u8x16 ew_bytes16_words(uint64_t a, uint64_t b)
{
	ew_u64x2 ab = {a, b};

	return (ew_u8x16)ab;
}

/* Whether any lane of a comparison's result (0 or all ones per byte) is set. */
static inline bool ew_bytes16_any(ew_s8x16 m)
{
#ifdef __SSE2__
	return _mm_movemask_epi8((__m128i)m) != 0;
#else
	ew_u64x2 q = (ew_u64x2)m;

	return (q[0] | q[1]) != 0;
#endif
}
#endif

#endif
