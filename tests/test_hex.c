// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * src/core/hex.c: byte strings to hex and back (recordings and state files carry stderr tails
 * so), and a 64-bit word to its sixteen digits (every record's insertId).
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "exitwatch/core/hex.h"

static void test_hex_round_trip(void **state)
{
	char in[256], hex[2 * 256 + 1], out[256];

	(void)state;
	for (int i = 0; i < 256; i++)
		in[i] = (char)i;
	ew_hex_encode(in, sizeof(in), hex);
	assert_int_equal(strlen(hex), 512);
	assert_memory_equal(hex, "000102", 6);
	assert_string_equal(hex + 506, "fdfeff");
	assert_int_equal(ew_hex_decode(hex, out, sizeof(out)), 256);
	assert_memory_equal(in, out, sizeof(in));
	ew_hex_encode(in, 0, hex);
	assert_string_equal(hex, "");
	assert_int_equal(ew_hex_decode("", out, sizeof(out)), 0);
}

static void test_hex_decode_errors(void **state)
{
	char out[4];

	(void)state;
	assert_int_equal(ew_hex_decode("abc", out, sizeof(out)), -EINVAL);	  /* odd */
	assert_int_equal(ew_hex_decode("0g", out, sizeof(out)), -EINVAL);	  /* not hex */
	assert_int_equal(ew_hex_decode("AB", out, sizeof(out)), -EINVAL);	  /* upper case */
	assert_int_equal(ew_hex_decode("0011223344", out, sizeof(out)), -EINVAL); /* too long */
	assert_int_equal(ew_hex_decode("00112233", out, sizeof(out)), 4);
}

static void check_u64(uint64_t v)
{
	char got[17], want[17];

	got[16] = '\0';
	ew_hex_u64(v, got);
	snprintf(want, sizeof(want), "%016" PRIx64, v);
	assert_string_equal(got, want);
}

/*
 * Every nibble value at every position, each bit alone and all but it, the ends, and random
 * words: the sixteen digits are printf()'s, so an insertId is what it was.
 */
static void test_hex_u64(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	char out[18];

	(void)state;
	for (int pos = 0; pos < 16; pos++)
		for (uint64_t n = 0; n < 16; n++)
			check_u64(n << (4 * pos));
	for (int i = 0; i < 64; i++) {
		check_u64(1ULL << i);
		check_u64(~(1ULL << i));
	}
	check_u64(0);
	check_u64(UINT64_MAX);
	check_u64(0x0123456789abcdefULL);
	for (int i = 0; i < 100000; i++)
		check_u64(x = x * 6364136223846793005ULL + 1442695040888963407ULL);
	/* Sixteen bytes and no more. */
	memset(out, '#', sizeof(out));
	ew_hex_u64(0xffULL, out + 1);
	assert_int_equal(out[0], '#');
	assert_int_equal(out[17], '#');
	assert_memory_equal(out + 1, "00000000000000ff", 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_round_trip),
		cmocka_unit_test(test_hex_decode_errors),
		cmocka_unit_test(test_hex_u64),
	};

	return cmocka_run_group_tests_name("hex", tests, NULL, NULL);
}
