// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Hex for byte strings that must survive JSON exactly (include/exitwatch/core/hex.h). */
#include <errno.h>
#include <string.h>

#include "exitwatch/core/hex.h"

void ew_hex_encode(const char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[(unsigned char)in[i] >> 4];
		out[2 * i + 1] = hex[(unsigned char)in[i] & 15];
	}
	out[2 * n] = '\0';
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/*
 * Eight hex digits of v, as the bytes of a little-endian word: every record's insertId has
 * sixteen, and a byte-pair table took about a hundred instructions for them where this takes
 * about fifty. The nibbles are spread one to a byte (three shift-or-mask steps), put most
 * significant first, then made ASCII in all eight bytes at once: '0' + n, and 'a' - '0' - 10
 * more where n is 10 or above (n + 6 carries into the byte's fifth bit exactly then).
 */
static uint64_t hex8_le(uint32_t v)
{
	uint64_t x = v;

	x = (x | x << 16) & 0x0000ffff0000ffffULL;
	x = (x | x << 8) & 0x00ff00ff00ff00ffULL;
	x = (x | x << 4) & 0x0f0f0f0f0f0f0f0fULL;
	x = __builtin_bswap64(x);
	return x + 0x3030303030303030ULL +
	       (((x + 0x0606060606060606ULL) >> 4) & 0x0101010101010101ULL) * ('a' - '0' - 10);
}

void ew_hex_u64(uint64_t v, char out[16])
{
	uint64_t w[2] = {hex8_le((uint32_t)(v >> 32)), hex8_le((uint32_t)v)};

	memcpy(out, w, 16);
}
#else
void ew_hex_u64(uint64_t v, char out[16])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++)
		out[i] = hex[(v >> (60 - 4 * i)) & 15];
}
#endif

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int ew_hex_decode(const char *in, char *out, size_t outlen)
{
	size_t n = strlen(in);

	if (n % 2 || n / 2 > outlen)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = nibble(in[2 * i]), lo = nibble(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (char)(hi << 4 | lo);
	}
	return (int)(n / 2);
}
