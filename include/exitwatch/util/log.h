/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Diagnostics go to stderr, never stdout: stdout carries records only. The level is a value
 * in the caller's struct, passed to ew_log_init(), not a global other files can write.
 */
#ifndef EXITWATCH_LOG_H
#define EXITWATCH_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum ew_log_level {
	EW_LOG_ERROR = 0,
	EW_LOG_WARN = 1,
	EW_LOG_INFO = 2,
	EW_LOG_DEBUG = 3,
};

/* Sets the threshold for this process (default EW_LOG_WARN). Call once, before threads. */
void ew_log_init(enum ew_log_level max_level);
/*
 * Cold: a diagnostic is rare on the record path, so the compiler moves the blocks that call it
 * out of the hot functions (.text.unlikely), which keeps their common paths together.
 */
void ew_log(enum ew_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), cold));

#define ew_err(...)   ew_log(EW_LOG_ERROR, __VA_ARGS__)
#define ew_warn(...)  ew_log(EW_LOG_WARN, __VA_ARGS__)
#define ew_info(...)  ew_log(EW_LOG_INFO, __VA_ARGS__)
#define ew_debug(...) ew_log(EW_LOG_DEBUG, __VA_ARGS__)

/*
 * A warning that would repeat for as long as its cause goes on (a limit refusing every start, a
 * loss counter growing) is said at most once a minute. *last_mono is when it was last said on
 * the monotonic clock (0: never); true means say it now, and records now.
 */
bool ew_log_due(uint64_t *last_mono);

/* A warning about a running total: due when the total grew since it was last said, and then at
 * most once a minute (ew_log_due()). */
struct ew_log_total {
	uint64_t said; /* the total the last warning gave */
	uint64_t mono; /* when (0: never) */
};
bool ew_log_total_due(struct ew_log_total *t, uint64_t total);

#endif
