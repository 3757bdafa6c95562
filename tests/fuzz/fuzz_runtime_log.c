// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The runtime log tail on any bytes: a container writes what it likes, and a broken runtime or
 * a container with a host mount may leave anything in the log file. The first byte chooses the
 * format (mod 3: json-file, CRI, local), whether the bytes start the file (bit 2) and since_ns
 * (bit 3: 2024-05-01T12:00:00Z, else 0); the rest is the end of a log file. Invariants: the
 * tail stays within max_bytes, and a shorter tail is the end of a longer one.
 */
#include <errno.h>

#include "exitwatch/identity/runtime_log.h"
#include "fuzz/fuzz.h"

#define EW_FUZZ_SINCE_NS 1714564800000000000ULL
#define EW_FUZZ_BIG	 4096
#define EW_FUZZ_SMALL	 100

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum ew_log_format fmts[] = {EW_LOG_DOCKER_JSON, EW_LOG_CRI,
						  EW_LOG_DOCKER_LOCAL};
	char *buf, *big, *small;
	size_t big_len = 0, small_len = 0;
	enum ew_log_format fmt;
	uint64_t since;
	bool at_start;
	int r;

	if (size < 1)
		return 0;
	fmt = fmts[data[0] % 3];
	at_start = data[0] & 4;
	since = data[0] & 8 ? EW_FUZZ_SINCE_NS : 0;
	buf = ew_fuzz_dup(data + 1, size - 1);
	/* Exactly max_bytes each, so that ASan sees a write past the tail. */
	big = malloc(EW_FUZZ_BIG);
	small = malloc(EW_FUZZ_SMALL);
	EW_FUZZ_CHECK(buf && big && small, "out of memory");

	r = ew_runtime_log_tail_buf(buf, size - 1, at_start, fmt, EW_FUZZ_BIG, since, big, &big_len,
				    NULL);
	EW_FUZZ_CHECK(r == 0, "ew_runtime_log_tail_buf: %d", r);
	EW_FUZZ_CHECK(big_len <= EW_FUZZ_BIG, "tail %zu > %d", big_len, EW_FUZZ_BIG);
	r = ew_runtime_log_tail_buf(buf, size - 1, at_start, fmt, EW_FUZZ_SMALL, since, small,
				    &small_len, NULL);
	EW_FUZZ_CHECK(r == 0, "ew_runtime_log_tail_buf: %d", r);
	EW_FUZZ_CHECK(small_len == (big_len < EW_FUZZ_SMALL ? big_len : EW_FUZZ_SMALL),
		      "small tail %zu, big tail %zu", small_len, big_len);
	EW_FUZZ_CHECK(!memcmp(small, big + big_len - small_len, small_len),
		      "the small tail is not the end of the big one");
	free(buf);
	free(big);
	free(small);
	return 0;
}
