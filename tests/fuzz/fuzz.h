/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared by the libFuzzer targets in tests/fuzz/: invariant checks that abort with a message
 * (libFuzzer then saves the input as a crash reproducer), and the checks every target makes of
 * the strings a parser hands back. Header-only: each target is one translation unit.
 */
#ifndef EW_FUZZ_H
#define EW_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitwatch/util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant broken: say which, then abort so that libFuzzer keeps the input. */
#define EW_FUZZ_CHECK(cond, ...)                                                             \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: invariant broken: %s: ", __FILE__, __LINE__, \
				#cond);                                                      \
			fprintf(stderr, __VA_ARGS__);                                        \
			fputc('\n', stderr);                                                 \
			abort();                                                             \
		}                                                                            \
	} while (0)

/* A fixed char[] that the parser filled: terminated inside its size. */
#define EW_FUZZ_TERMINATED(field) \
	EW_FUZZ_CHECK(strnlen(field, sizeof(field)) < sizeof(field), "%s not terminated", #field)

/* A copy that ends exactly at size, so that ASan sees a read past the input. */
static inline char *ew_fuzz_dup(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1);

	if (p && size)
		memcpy(p, data, size);
	return p;
}

/* The same, NUL-terminated (the input's own NULs stay: the string just ends there). */
static inline char *ew_fuzz_strdup(const uint8_t *data, size_t size)
{
	char *p = malloc(size + 1);

	if (p) {
		if (size)
			memcpy(p, data, size);
		p[size] = '\0';
	}
	return p;
}

/* A message meant for one log line: no newline, no other control byte. */
static inline bool ew_fuzz_one_line(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF. */
static inline bool ew_fuzz_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned char c = *p;
		size_t len = c < 0x80		  ? 1
			     : (c & 0xe0) == 0xc0 ? 2
			     : (c & 0xf0) == 0xe0 ? 3
			     : (c & 0xf8) == 0xf0 ? 4
						  : 0;
		uint32_t cp;

		if (!len || (size_t)(end - p) < len)
			return false;
		cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
		for (size_t i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += len;
	}
	return true;
}

#endif
