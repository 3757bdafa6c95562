/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Internal to the metrics module, not a public header: the histogram that metrics.c counts
 * into, and the Prometheus text-format writer (exposition.c) that metrics.c renders with.
 */
#ifndef EXITWATCH_METRICS_INT_H
#define EXITWATCH_METRICS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "exitwatch/util/buf.h"

struct bucket {
	uint64_t le_ns;
	const char *le;
};

#define EW_HIST_BUCKETS 16

struct hist {
	uint64_t counts[EW_HIST_BUCKETS]; /* per bucket, not cumulative; +Inf is count */
	uint64_t count;
	uint64_t sum_s, sum_ns; /* split so that the sum cannot overflow in any agent's life */
};

/*
 * The exposition format 0.0.4, one piece at a time; ew_buf remembers a failed allocation, so
 * the caller checks ew_buf_failed() once at the end. Label values are escaped and made valid
 * UTF-8 here: every caller may pass a workload's names as they are.
 */

/* "# HELP name help" and "# TYPE name type". */
void ew_prom_header(struct ew_buf *b, const char *name, const char *type, const char *help);
/* One sample; labels: key, value, key, value, ..., NULL (NULL or empty: no labels). */
void ew_prom_sample(struct ew_buf *b, const char *name, const char *const *labels, uint64_t v);
/* Seconds from whole seconds and nanoseconds, exact: "12", "0.25", "3.000000001". */
void ew_prom_seconds(struct ew_buf *b, uint64_t s, uint64_t ns);
/* A metric with one unlabelled sample: its header, then the sample. */
void ew_prom_metric(struct ew_buf *b, const char *name, const char *type, const char *help,
		    uint64_t v);
/* A histogram: header, cumulative name_bucket{le} up to +Inf, name_sum (seconds), name_count. */
void ew_prom_hist(struct ew_buf *b, const char *name, const char *help, const struct hist *h,
		  const struct bucket *bk, size_t nb);

#endif
