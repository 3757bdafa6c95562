/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Internal to the metrics module, not a public header: the histogram that metrics.c counts
 * into, and the Prometheus text-format writer (exposition.c) that metrics.c renders with.
 */
#ifndef EXITWATCH_METRICS_INT_H
#define EXITWATCH_METRICS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exitwatch/util/buf.h"
#include "exitwatch/core/exit_class.h"

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

/* workloads.c: per-workload starts, failed starts and exits (bounded; see there). */
struct ew_identity;
struct ew_finding;
struct ew_wl_metrics;
/* forget_ns: a workload with no start or exit for this long, and not busy, is forgotten. */
struct ew_wl_metrics *ew_wlm_new(uint32_t max_workloads, uint64_t forget_ns);
void ew_wlm_free(struct ew_wl_metrics *m);
/* Every workload gets this (exit_class, code) series at 0 when first seen. 0, -EINVAL, -ENOSPC. */
int ew_wlm_watch(struct ew_wl_metrics *m, enum ew_exit_class cls, int code);
/* counted: a start exitwatch saw (not one found running at start-up, which only names it). */
void ew_wlm_start(struct ew_wl_metrics *m, const struct ew_identity *id, bool counted);
void ew_wlm_exit(struct ew_wl_metrics *m, const struct ew_identity *id, enum ew_exit_class cls,
		 int code, int sig, bool failed_start);
void ew_wlm_render(const struct ew_wl_metrics *m, struct ew_buf *b);
/* Whether the workload (its key) must be kept however idle: it has a finding open. */
typedef bool (*ew_wlm_busy_fn)(const char *workload, void *ctx);
/*
 * The metrics' clock moves to now_ns (monotonic: the agent's uptime), which stamps the starts
 * and exits that follow; workloads idle for forget_ns that busy() does not keep are forgotten.
 */
void ew_wlm_tick(struct ew_wl_metrics *m, uint64_t now_ns, ew_wlm_busy_fn busy, void *ctx);

/* active.c: exitwatch_finding_active, one series per (rule, workload, identity). */
struct ew_active_set;
struct ew_active_set *ew_active_new(void);
void ew_active_free(struct ew_active_set *s);
void ew_active_note(struct ew_active_set *s, const struct ew_finding *f,
		    const struct ew_identity *id);
void ew_active_render(const struct ew_active_set *s, struct ew_buf *b);
/* Whether a finding of this workload is open. O(series). */
bool ew_active_open(const struct ew_active_set *s, const char *workload);

#endif
