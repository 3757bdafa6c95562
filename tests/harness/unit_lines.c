// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The generated lines of the output tests (tests/harness/unit.h). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness/unit.h"

size_t ew_t_line(char *buf, uint32_t seq, size_t total)
{
	int n = snprintf(buf, EW_T_MAX_LINE_LEN, "{\"seq\":%u,\"pad\":\"", seq);
	size_t pad = total - (size_t)n - 3;

	memset(buf + n, 'a' + (int)(seq % 26), pad);
	memcpy(buf + (size_t)n + pad, "\"}\n", 3);
	return total;
}

long ew_t_line_seq(const char *data, size_t len)
{
	char buf[32];
	size_t m = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;
	unsigned int seq;
	int n = 0;

	memcpy(buf, data, m);
	buf[m] = '\0';
	if (sscanf(buf, "{\"seq\":%u,%n", &seq, &n) != 1 || n == 0)
		return -1;
	return (long)seq;
}
