/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Records fed to the metrics by hand, shared by the unit tests of the exposition
 * (tests/test_metrics.c) and the integration tests of the HTTP endpoint and promtool
 * (tests/integration/test_metrics_http.c). Include after <cmocka.h>.
 */
#ifndef EW_TESTS_METRICS_FIXTURE_H
#define EW_TESTS_METRICS_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "exitwatch/detect/detector.h"
#include "exitwatch/identity/identity.h"
#include "exitwatch/metrics/metrics.h"
#include "exitwatch/render/render_json.h"
#include "exitwatch/util/buf.h"
#include "exitwatch/util/util.h"

#define SEC(n)	((uint64_t)(n)*EW_NSEC_PER_SEC)
#define MSEC(n) ((uint64_t)(n)*EW_NSEC_PER_MSEC)

/* ---- helpers ---- */

static inline void make_id(struct ew_identity *id, enum ew_runtime rt, const char *ns,
			   const char *pod, const char *name, const char *display)
{
	memset(id, 0, sizeof(*id));
	id->cg.runtime = rt;
	ew_strlcpy(id->meta.pod_namespace, ns, sizeof(id->meta.pod_namespace));
	ew_strlcpy(id->meta.pod_name, pod, sizeof(id->meta.pod_name));
	ew_strlcpy(id->meta.name, name, sizeof(id->meta.name));
	ew_strlcpy(id->display, display, sizeof(id->display));
}

static inline void feed_start(struct ew_metrics *m, const struct ew_identity *id, bool seeded,
			      uint32_t restarts)
{
	struct ew_event ev = {.type = EW_EVENT_START, .seeded = seeded};
	struct ew_startup st = {.known = true, .restarts = restarts};
	struct ew_record r = {.type = EW_REC_START, .ev = &ev, .id = id, .startup = &st};

	ew_metrics_record(m, &r);
}

static inline void feed_ready(struct ew_metrics *m, const struct ew_identity *id,
			      uint64_t startup_ns, bool seeded)
{
	struct ew_event ev = {.type = EW_EVENT_READY, .startup_ns = startup_ns, .seeded = seeded};
	struct ew_record r = {.type = EW_REC_READY, .ev = &ev, .id = id};

	ew_metrics_record(m, &r);
}

static inline void feed_exit(struct ew_metrics *m, const struct ew_identity *id,
			     enum ew_exit_class cls, uint64_t uptime_ns,
			     struct ew_children children)
{
	struct ew_event ev = {.type = EW_EVENT_EXIT, .uptime_ns = uptime_ns, .children = children};
	struct ew_record r = {.type = EW_REC_EXIT, .ev = &ev, .id = id, .cls = cls};

	ew_metrics_record(m, &r);
}

static inline void feed_finding(struct ew_metrics *m, enum ew_rule rule, enum ew_severity sev,
				bool resolved)
{
	struct ew_finding f = {.rule = rule, .severity = sev, .resolved = resolved};
	struct ew_record r = {.type = resolved ? EW_REC_RESOLVED : EW_REC_FINDING, .finding = &f};

	ew_metrics_record(m, &r);
}

/* ---- the exposition, line by line ---- */

static inline bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

static inline size_t count_prefix(const char *text, const char *prefix)
{
	size_t n = 0, plen = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, plen))
			n++;
	return n;
}

static inline void check_lines(const char *text, const char *const *lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!has_line(text, lines[i]))
			fail_msg("missing line [%zu]: %s\n--- rendered ---\n%s", i, lines[i], text);
}

static inline void check_no_prefix(const char *text, const char *prefix)
{
	if (count_prefix(text, prefix))
		fail_msg("unexpected line starting with %s\n--- rendered ---\n%s", prefix, text);
}

/* Renders into a fresh buffer the caller frees with ew_buf_free(). */
static inline const char *render(const struct ew_metrics *m, struct ew_buf *b)
{
	ew_buf_init(b);
	assert_int_equal(ew_metrics_render(m, b), 0);
	assert_non_null(b->data);
	assert_int_equal(b->data[b->len - 1], '\n');
	return b->data;
}

static inline void fill_agent(struct ew_agent_status *a)
{
	memset(a, 0, sizeof(*a));
	a->phase = "periodic";
	a->uptime_ns = SEC(12) + MSEC(500);
	for (int i = 0; i < EW_STAT__MAX; i++)
		a->kstats[i] = 100 + (uint64_t)i; /* each counter its own value */
	a->decode_errors = 7;
	a->stale_swept = 5;
	a->log_watches = 4;
	a->log_watch_refused = 6;
	a->log_watch_overflows = 2;
	a->tracked = 42;
	a->identities = 17;
	a->forgotten[1] = 8;
	a->forgotten_in_window = 3;
	a->active_findings = 3;
	a->nsinks = 3;
	a->sinks[0] = (struct ew_sink_status){"stdout", true, 0, 0, 1000, 0};
	a->sinks[1] = (struct ew_sink_status){"tcp:collector:5170", false, 12, 4096, 900, 5};
	a->sinks[2] = (struct ew_sink_status){"stdout", true, 1, 0, 2, 0};
}

/* A registry-sized exposition of everything above, for promtool and the HTTP tests. */
static inline struct ew_metrics *rich_metrics(void)
{
	struct ew_metrics *m = ew_metrics_new("0.1.0-test \"q\"", true);
	struct ew_identity a, a2, c;
	struct ew_agent_status st;

	assert_non_null(m);
	make_id(&a, EW_RT_DOCKER, "", "", "we\"b\\\n\xff", "web");
	/* The same name but for a byte that is not UTF-8: a series of its own. */
	make_id(&a2, EW_RT_DOCKER, "", "", "we\"b\\\n\xfe", "web");
	ew_strlcpy(a.workload, "web\xff", sizeof(a.workload));
	ew_strlcpy(a2.workload, "web\xfe", sizeof(a2.workload));
	make_id(&c, EW_RT_CRIO, "kube-system", "dns-abc", "coredns", "coredns");
	feed_start(m, &a, false, 0);
	feed_start(m, &a, false, 1);
	feed_ready(m, &a, MSEC(1234), false);
	feed_exit(m, &a, EW_CLASS_CONFIG_ERROR, SEC(2), (struct ew_children){1, 1, 1, 1});
	feed_exit(m, &a2, EW_CLASS_CONFIG_ERROR, SEC(3), (struct ew_children){0});
	feed_exit(m, &c, EW_CLASS_OOM_KILLED, SEC(86401), (struct ew_children){0});
	feed_finding(m, EW_RULE_EXIT_CODE_BURST, EW_SEV_CRITICAL, false);
	feed_finding(m, EW_RULE_EXIT_CODE_BURST, EW_SEV_CRITICAL, true);
	fill_agent(&st);
	ew_metrics_agent(m, &st);
	return m;
}

#endif
