/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Ring buffer bytes -> struct ew_event. Pure: validates kind and size, reads nothing else. */
#ifndef EXITWATCH_DECODE_H
#define EXITWATCH_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "exitwatch/core/event.h"

struct ew_decode_ctx {
	int64_t boot_to_wall_ns; /* add to a CLOCK_BOOTTIME stamp to get wall-clock ns */
	uint32_t tail_max;	 /* keep at most this many stderr bytes (<= EW_STDERR_CAP) */
};

/*
 * Decodes one record. Returns 0 and fills *ret, or -EINVAL for a record whose size does not
 * match its kind (or an unknown kind): the caller counts it, it never crashes anything.
 */
int ew_decode(const void *data, size_t size, const struct ew_decode_ctx *ctx, struct ew_event *ret);

/*
 * Joins the leaf-first names the kernel captured into an absolute path. level is the cgroup's
 * depth; when it exceeds the levels captured the path starts with "..." (ancestors unknown).
 */
void ew_cgroup_join(const char names[][EW_CG_NAME_LEN], uint32_t nnames, uint32_t level, char *out,
		    size_t outlen);

/*
 * Unrolls the kernel's stderr ring (byte i of the stream at i % EW_STDERR_CAP) into the last
 * min(total, max, EW_STDERR_CAP) bytes in order. Returns the number of bytes written to out.
 */
uint32_t ew_tail_unroll(const char *ring, uint64_t total, uint32_t max, char *out);

#endif
