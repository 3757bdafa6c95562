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
