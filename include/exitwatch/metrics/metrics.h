/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Prometheus metrics. The event loop owns struct ew_metrics and updates it as records go out
 * (metrics/metrics.c keeps the counters and histograms; metrics/exposition.c renders them
 * as the text exposition format; both pure).
 * The HTTP endpoint (metrics/http.c, libmicrohttpd in its own thread) only ever serves the last
 * snapshot the loop published, under a mutex: the two threads share nothing else.
 */
#ifndef EXITWATCH_METRICS_H
#define EXITWATCH_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exitwatch/util/buf.h"
#include "exitwatch/core/record.h"

struct ew_metrics;
struct ew_identity;

/*
 * container_labels: label per-container series with the container name/namespace too. Off by
 * default: label cardinality stays bounded by runtimes, classes, rules and severities.
 */
struct ew_metrics *ew_metrics_new(const char *version, bool container_labels);
void ew_metrics_free(struct ew_metrics *m);

/*
 * Every workload gets the exits series of this exit class and code at 0 when first seen: the
 * codes alerts count (exit_code_burst's), so that a node's first such exit is an increase.
 * 0, -EINVAL (no such class or code), -ENOSPC (16 already).
 */
int ew_metrics_watch_exit(struct ew_metrics *m, enum ew_exit_class cls, int code);

/* Counts one emitted record (starts and exits by class, start-up and uptime histograms,
 * findings by rule and severity, resolutions). */
void ew_metrics_record(struct ew_metrics *m, const struct ew_record *r);

/*
 * A finding that is open without a record saying so now: one restored from a state file. Only
 * exitwatch_finding_active learns of it (1); no counter moves. id names it as its records do.
 */
void ew_metrics_finding_open(struct ew_metrics *m, int rule, enum ew_severity sev, int scope,
			     const struct ew_identity *id);

/* Copies the agent's gauges and the kernel's counters (drops, child exits, sinks, ...). */
void ew_metrics_agent(struct ew_metrics *m, const struct ew_agent_status *a);

/* Renders the Prometheus text exposition format (version 0.0.4). 0 or -ENOMEM. */
int ew_metrics_render(const struct ew_metrics *m, struct ew_buf *out);

struct ew_metrics_server;

/* Whether ew_metrics_server_start() takes addr as an address (it may still fail to listen). */
bool ew_metrics_addr_valid(const char *addr);

/*
 * Serves GET /metrics and GET /healthz on addr ("127.0.0.1:9090", "[::1]:9090", ":9090" for
 * every address). Returns 0 or -errno with a sentence in err (bad address, port in use).
 */
int ew_metrics_server_start(const char *addr, struct ew_metrics_server **ret, char *err,
			    size_t errlen);
/*
 * Publishes a new snapshot: text is served by /metrics until the next publish; healthy decides
 * /healthz (200 "ok" or 503 with the reason). The loop publishes every second: a snapshot older
 * than 10 s makes /healthz answer 503 (the event loop stopped turning).
 */
void ew_metrics_server_publish(struct ew_metrics_server *s, const char *text, size_t len,
			       bool healthy, const char *reason);
void ew_metrics_server_stop(struct ew_metrics_server *s);

#endif
