/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Small helpers every module may use. Header-only, no state. */
#ifndef EXITWATCH_UTIL_H
#define EXITWATCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define EW_NSEC_PER_SEC	 1000000000ULL
#define EW_NSEC_PER_MSEC 1000000ULL

#define EW_FNV1A_INIT 0xcbf29ce484222325ULL

/*
 * calloc(1, n) for what is made and freed per container. glibc's calloc() never takes a chunk
 * from the thread cache that free() just filled: it goes to _int_malloc() every time, 200 to
 * 400 instructions where malloc() from the cache is about 40 (callgrind over the spawn storm).
 */
static inline void *ew_zalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		return NULL;
	/* GCC turns malloc() then memset(0) back into calloc(): hide where p came from. */
	__asm__ volatile("" : "+r"(p));
	return memset(p, 0, n);
}

/* FNV-1a, 64 bits, continuing from h (EW_FNV1A_INIT to start): stable across builds and hosts. */
static inline uint64_t ew_fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * ew_fnv1a() over the bytes of v as they lie in memory, without the byte loop: an insertId
 * hashes four such words a record, and the loop's compare and branch doubled each byte's cost.
 */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define EW_FNV1A_BYTE(h, v, i) (((h) ^ (((v) >> (8 * (i))) & 0xff)) * 0x100000001b3ULL)

static inline uint64_t ew_fnv1a_u32(uint64_t h, uint32_t v)
{
	h = EW_FNV1A_BYTE(h, v, 0);
	h = EW_FNV1A_BYTE(h, v, 1);
	h = EW_FNV1A_BYTE(h, v, 2);
	return EW_FNV1A_BYTE(h, v, 3);
}

static inline uint64_t ew_fnv1a_u64(uint64_t h, uint64_t v)
{
	h = ew_fnv1a_u32(h, (uint32_t)v);
	return ew_fnv1a_u32(h, (uint32_t)(v >> 32));
}
#else
static inline uint64_t ew_fnv1a_u32(uint64_t h, uint32_t v)
{
	return ew_fnv1a(h, &v, sizeof(v));
}

static inline uint64_t ew_fnv1a_u64(uint64_t h, uint64_t v)
{
	return ew_fnv1a(h, &v, sizeof(v));
}
#endif

/* Copies at most size - 1 bytes and always terminates; returns strlen(src) like strlcpy. */
static inline size_t ew_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

/* Like ew_strlcpy for a source that may lack a terminator within srcsize (kernel char[]). */
static inline void ew_strlcpy_n(char *dst, size_t size, const char *src, size_t srcsize)
{
	size_t n = strnlen(src, srcsize);

	if (!size)
		return;
	if (n > size - 1)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

#endif
