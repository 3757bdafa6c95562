// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Per-workload container counters: what a cluster's Prometheus sums across nodes, since one
 * node sees only the replicas it runs. exitwatch_container_starts_total,
 * exitwatch_container_failed_starts_total and exitwatch_container_exits_total, labelled with
 * runtime, namespace and workload (the records' workload.key, the same on every node), and for
 * exits exit_class and code.
 *
 * Bounded: at most max workloads (then workload="_other_"), and code is one of a small set
 * (common exit codes, the watched ones, common signal names), else "other". A workload is
 * created with its starts, its failed starts and every watched (exit_class, code) at 0, so that
 * increase() sees the first exit a node has of it: a series that appears at 1 shows no increase.
 *
 * A workload with no start or exit for forget_ns and no open finding is forgotten, and its
 * series with it, so that churn (docker run, CI jobs, transient units) does not fill the cap
 * with containers long gone and push every new workload under "_other_": only workloads active
 * within forget_ns count against it. A series that disappears is not a counter reset to
 * Prometheus: it ends (a staleness marker), and increase() over a window still counts the
 * samples it had. If the workload comes back, its series start again from 0 (a new series),
 * like a workload the node sees for the first time. The price: the first record of a workload
 * back after forget_ns, if an exit, shows at 1, which increase() cannot count. "_other_" is
 * forgotten the same way. O(workloads) memory, O(1) map lookup per record, O(workloads) per
 * tick (once a second).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitwatch/core/event.h"
#include "exitwatch/core/exit_class.h"
#include "exitwatch/identity/identity.h"
#include "exitwatch/util/map.h"
#include "exitwatch/util/util.h"
#include "metrics/metrics_int.h"

#define OTHER	    "_other_"
#define CODE_OTHER  (-1)
#define CODE_SIG(s) (256 + (s))
#define MAX_WATCHED 16

/* Exit codes with a meaning of their own (README, "What it records"); any other is "other". */
static const int kept_codes[] = {0, 1, 2, 3, 4, 78, 126, 127, 130, 134, 137, 139, 143};
/* Signals a container commonly dies of; any other is "other". */
static const int kept_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGILL,  SIGABRT,
				   SIGBUS, SIGFPE, SIGKILL, SIGSEGV, SIGTERM};

struct code_count {
	uint8_t cls;
	int16_t code; /* 0..255, CODE_SIG(n), CODE_OTHER */
	uint64_t n;
};

struct wl {
	char *runtime, *ns, *key;
	uint64_t last_ns; /* the last start or exit, on the metrics' clock */
	uint64_t starts, failed;
	struct code_count *v;
	uint32_t n, cap;
};

struct ew_wl_metrics {
	uint32_t max;
	uint64_t forget_ns;   /* idle this long, and no open finding: forgotten */
	uint64_t now_ns;      /* the latest ew_wlm_tick() */
	uint64_t overflow;    /* starts and exits counted under "_other_" for want of room */
	struct ew_map *index; /* key -> struct wl */
	struct wl **order;    /* first seen first: a stable exposition */
	uint32_t n;
	struct wl *other; /* past the cap, or out of memory */
	struct code_count watched[MAX_WATCHED];
	uint32_t nwatched;
};

static void wl_free(struct wl *w)
{
	if (!w)
		return;
	free(w->runtime);
	free(w->ns);
	free(w->key);
	free(w->v);
	free(w);
}

static struct code_count *count_of(struct wl *w, uint8_t cls, int16_t code)
{
	for (uint32_t i = 0; i < w->n; i++)
		if (w->v[i].cls == cls && w->v[i].code == code)
			return &w->v[i];
	if (w->n == w->cap) {
		uint32_t ncap = w->cap ? 2 * w->cap : 8;
		struct code_count *v = realloc(w->v, ncap * sizeof(*v));

		if (!v)
			return NULL;
		w->v = v;
		w->cap = ncap;
	}
	w->v[w->n] = (struct code_count){.cls = cls, .code = code};
	return &w->v[w->n++];
}

static struct wl *wl_make(struct ew_wl_metrics *m, const char *rt, const char *ns, const char *key)
{
	struct wl *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->runtime = strdup(rt);
	w->ns = strdup(ns);
	w->key = strdup(key);
	if (!w->runtime || !w->ns || !w->key) {
		wl_free(w);
		return NULL;
	}
	for (uint32_t i = 0; i < m->nwatched; i++)
		count_of(w, m->watched[i].cls, m->watched[i].code);
	return w;
}

struct ew_wl_metrics *ew_wlm_new(uint32_t max_workloads, uint64_t forget_ns)
{
	struct ew_wl_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->max = max_workloads;
	m->forget_ns = forget_ns;
	m->index = ew_map_new();
	m->order = calloc(max_workloads ? max_workloads : 1, sizeof(*m->order));
	if (!m->index || !m->order) {
		ew_wlm_free(m);
		return NULL;
	}
	return m;
}

void ew_wlm_free(struct ew_wl_metrics *m)
{
	if (!m)
		return;
	for (uint32_t i = 0; i < m->n; i++)
		wl_free(m->order[i]);
	wl_free(m->other);
	ew_map_free(m->index);
	free(m->order);
	free(m);
}

/*
 * The code's label: a common code or signal, or a watched code (in any class: exit_code_burst
 * counts the code whatever its class), else "other". O(kept + watched).
 */
static int16_t code_label(const struct ew_wl_metrics *m, int code, int sig)
{
	if (sig) {
		for (size_t i = 0; i < ARRAY_SIZE(kept_signals); i++)
			if (kept_signals[i] == sig)
				return CODE_SIG(sig);
		return CODE_OTHER;
	}
	for (size_t i = 0; i < ARRAY_SIZE(kept_codes); i++)
		if (kept_codes[i] == code)
			return (int16_t)code;
	for (uint32_t i = 0; i < m->nwatched; i++)
		if (m->watched[i].code == code)
			return (int16_t)code;
	return CODE_OTHER;
}

int ew_wlm_watch(struct ew_wl_metrics *m, enum ew_exit_class cls, int code)
{
	if ((unsigned)cls >= EW_CLASS__COUNT || code < 0 || code > 255)
		return -EINVAL;
	for (uint32_t i = 0; i < m->nwatched; i++)
		if (m->watched[i].cls == cls && m->watched[i].code == code)
			return 0;
	if (m->nwatched == MAX_WATCHED)
		return -ENOSPC;
	m->watched[m->nwatched++] = (struct code_count){.cls = (uint8_t)cls, .code = (int16_t)code};
	return 0;
}

/* The workload's entry, made on first sight; "_other_" past the cap or out of memory. */
static struct wl *wl_get(struct ew_wl_metrics *m, const struct ew_identity *id)
{
	const char *key = id && id->workload[0] ? id->workload : id ? id->key : "";
	const char *ns = id && id->cg.kubernetes ? id->meta.pod_namespace : "";
	const char *rt = ew_runtime_name(id ? id->cg.runtime : EW_RT_NONE);
	struct wl *w = ew_map_get(m->index, key, strlen(key));

	if (!w && strcmp(key, OTHER)) {
		if (m->n < m->max) {
			w = wl_make(m, rt, ns, key);
			if (w && !ew_map_put(m->index, key, strlen(key), w)) {
				m->order[m->n++] = w;
			} else {
				wl_free(w);
				w = NULL;
			}
		}
		if (!w)
			m->overflow++;
	}
	if (!w) {
		if (!m->other)
			m->other = wl_make(m, OTHER, OTHER, OTHER);
		w = m->other;
	}
	if (w)
		w->last_ns = m->now_ns;
	return w;
}

/* Retried this long after a workload was kept for an open finding: not every tick. */
#define RECHECK_NS (60 * EW_NSEC_PER_SEC)

static bool idle(const struct ew_wl_metrics *m, const struct wl *w)
{
	return m->now_ns >= w->last_ns && m->now_ns - w->last_ns >= m->forget_ns;
}

void ew_wlm_tick(struct ew_wl_metrics *m, uint64_t now_ns, ew_wlm_busy_fn busy, void *ctx)
{
	uint32_t kept = 0;

	m->now_ns = now_ns;
	for (uint32_t i = 0; i < m->n; i++) {
		struct wl *w = m->order[i];

		if (idle(m, w) && busy && busy(w->key, ctx))
			/* Looked at again in a minute, not every second: busy() costs O(findings). */
			w->last_ns = now_ns - m->forget_ns + RECHECK_NS;
		if (!idle(m, w)) {
			m->order[kept++] = w; /* in place: the order stays first seen first */
			continue;
		}
		ew_map_del(m->index, w->key, strlen(w->key));
		wl_free(w);
	}
	m->n = kept;
	if (m->other && idle(m, m->other)) {
		wl_free(m->other);
		m->other = NULL;
	}
}

void ew_wlm_start(struct ew_wl_metrics *m, const struct ew_identity *id, bool counted)
{
	struct wl *w = wl_get(m, id);

	if (w && counted)
		w->starts++;
}

void ew_wlm_exit(struct ew_wl_metrics *m, const struct ew_identity *id, enum ew_exit_class cls,
		 int code, int sig, bool failed_start)
{
	struct wl *w = wl_get(m, id);
	struct code_count *c;

	if (!w || (unsigned)cls >= EW_CLASS__COUNT)
		return;
	c = count_of(w, (uint8_t)cls, code_label(m, code, sig));
	if (c)
		c->n++;
	if (failed_start)
		w->failed++;
}

static void code_str(int16_t code, char *out, size_t len)
{
	if (code == CODE_OTHER)
		snprintf(out, len, "other");
	else if (code >= 256)
		snprintf(out, len, "%s", ew_signal_name(code - 256) ?: "other");
	else
		snprintf(out, len, "%d", code);
}

static void put_counts(struct ew_buf *b, const struct ew_wl_metrics *m, const char *name,
		       size_t off)
{
	for (uint32_t i = 0; i <= m->n; i++) {
		const struct wl *w = i < m->n ? m->order[i] : m->other;
		uint64_t v;

		if (!w)
			continue;
		memcpy(&v, (const char *)w + off, sizeof(v));
		ew_prom_sample(b, name,
			       (const char *[]){"runtime", w->runtime, "namespace", w->ns,
						"workload", w->key, NULL},
			       v);
	}
}

void ew_wlm_render(const struct ew_wl_metrics *m, struct ew_buf *b)
{
	const char *name = "exitwatch_container_exits_total";

	ew_prom_header(b, "exitwatch_container_starts_total", "counter",
		       "Container main-process starts (not those found running at start-up), by "
		       "workload.");
	put_counts(b, m, "exitwatch_container_starts_total", offsetof(struct wl, starts));
	ew_prom_header(b, "exitwatch_container_failed_starts_total", "counter",
		       "Starts whose main process exited (not 0) before it was ready or outlived "
		       "the start-up grace period, not stopped by another process, by workload.");
	put_counts(b, m, "exitwatch_container_failed_starts_total", offsetof(struct wl, failed));
	ew_prom_header(b, name, "counter",
		       "Container main-process exits by workload, exit class and code (a signal "
		       "name for a signal; uncommon ones are \"other\").");
	for (uint32_t i = 0; i <= m->n; i++) {
		const struct wl *w = i < m->n ? m->order[i] : m->other;

		for (uint32_t k = 0; w && k < w->n; k++) {
			char code[16];

			code_str(w->v[k].code, code, sizeof(code));
			ew_prom_sample(b, name,
				       (const char *[]){"runtime", w->runtime, "namespace", w->ns,
							"workload", w->key, "exit_class",
							ew_exit_class_name(w->v[k].cls), "code",
							code, NULL},
				       w->v[k].n);
		}
	}
	ew_prom_metric(b, "exitwatch_workloads", "gauge",
		       "Workloads with series of their own: seen within the last hour, or with a "
		       "finding open.",
		       m->n);
	ew_prom_metric(b, "exitwatch_workloads_overflow_total", "counter",
		       "Starts and exits counted under workload=\"_other_\" because the node had "
		       "as many workloads as it keeps series for.",
		       m->overflow);
}
