// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests for src/metrics/metrics.c (counters, histograms, the text exposition) and
 * src/metrics/http.c (the server, spoken to with a plain-socket HTTP/1.0 client). Records are
 * built by hand; every check compares exact exposition lines. If promtool is installed (Debian's
 * prometheus package) the rendered text must pass `promtool check metrics`; under CI=true a
 * missing promtool is a failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitwatch/util/buf.h"
#include "exitwatch/metrics/metrics.h"
#include "exitwatch/detect/detector.h"
#include "exitwatch/render/render_json.h"
#include "exitwatch/util/util.h"

#define SEC(n)	       ((uint64_t)(n)*EW_NSEC_PER_SEC)
#define MSEC(n)	       ((uint64_t)(n)*EW_NSEC_PER_MSEC)
#define MAX_NAMED      1000 /* EW_METRICS_MAX_NAMED in metrics.c */
#define PROMTOOL       "/usr/bin/promtool"
#define HTTP_TIMEOUT_S 5

/* ---- helpers ---- */

static void make_id(struct ew_identity *id, enum ew_runtime rt, const char *ns, const char *pod,
		    const char *name, const char *display)
{
	memset(id, 0, sizeof(*id));
	id->cg.runtime = rt;
	ew_strlcpy(id->meta.pod_namespace, ns, sizeof(id->meta.pod_namespace));
	ew_strlcpy(id->meta.pod_name, pod, sizeof(id->meta.pod_name));
	ew_strlcpy(id->meta.name, name, sizeof(id->meta.name));
	ew_strlcpy(id->display, display, sizeof(id->display));
}

static void feed_start(struct ew_metrics *m, const struct ew_identity *id, bool seeded,
		       uint32_t restarts)
{
	struct ew_event ev = {.type = EW_EVENT_START, .seeded = seeded};
	struct ew_startup st = {.known = true, .restarts = restarts};
	struct ew_record r = {.type = EW_REC_START, .ev = &ev, .id = id, .startup = &st};

	ew_metrics_record(m, &r);
}

static void feed_ready(struct ew_metrics *m, const struct ew_identity *id, uint64_t startup_ns,
		       bool seeded)
{
	struct ew_event ev = {.type = EW_EVENT_READY, .startup_ns = startup_ns, .seeded = seeded};
	struct ew_record r = {.type = EW_REC_READY, .ev = &ev, .id = id};

	ew_metrics_record(m, &r);
}

static void feed_exit(struct ew_metrics *m, const struct ew_identity *id, enum ew_exit_class cls,
		      uint64_t uptime_ns, struct ew_children children)
{
	struct ew_event ev = {.type = EW_EVENT_EXIT, .uptime_ns = uptime_ns, .children = children};
	struct ew_record r = {.type = EW_REC_EXIT, .ev = &ev, .id = id, .cls = cls};

	ew_metrics_record(m, &r);
}

static void feed_finding(struct ew_metrics *m, enum ew_rule rule, enum ew_severity sev,
			 bool resolved)
{
	struct ew_finding f = {.rule = rule, .severity = sev, .resolved = resolved};
	struct ew_record r = {.type = resolved ? EW_REC_RESOLVED : EW_REC_FINDING, .finding = &f};

	ew_metrics_record(m, &r);
}

/* Renders into a fresh buffer the caller frees with ew_buf_free(). */
static const char *render(const struct ew_metrics *m, struct ew_buf *b)
{
	ew_buf_init(b);
	assert_int_equal(ew_metrics_render(m, b), 0);
	assert_non_null(b->data);
	assert_int_equal(b->data[b->len - 1], '\n');
	return b->data;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

static size_t count_prefix(const char *text, const char *prefix)
{
	size_t n = 0, plen = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, plen))
			n++;
	return n;
}

static void check_lines(const char *text, const char *const *lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!has_line(text, lines[i]))
			fail_msg("missing line [%zu]: %s\n--- rendered ---\n%s", i, lines[i], text);
}

static void check_no_prefix(const char *text, const char *prefix)
{
	if (count_prefix(text, prefix))
		fail_msg("unexpected line starting with %s\n--- rendered ---\n%s", prefix, text);
}

/* ---- rendering ---- */

static void test_empty(void **state)
{
	static const char *const lines[] = {
		"# HELP exitwatch_build_info exitwatch version, always 1.",
		"# TYPE exitwatch_build_info gauge",
		"exitwatch_build_info{version=\"1.2.3\"} 1",
		"# TYPE exitwatch_uptime_seconds gauge",
		"exitwatch_uptime_seconds 0",
		"# TYPE exitwatch_container_starts_total counter",
		"# TYPE exitwatch_container_exits_total counter",
		"# TYPE exitwatch_startup_duration_seconds histogram",
		"exitwatch_startup_duration_seconds_bucket{le=\"0.1\"} 0",
		"exitwatch_startup_duration_seconds_bucket{le=\"+Inf\"} 0",
		"exitwatch_startup_duration_seconds_sum 0",
		"exitwatch_startup_duration_seconds_count 0",
		"exitwatch_container_uptime_seconds_count 0",
		"exitwatch_child_exits_total{result=\"clean\"} 0",
		"exitwatch_child_exits_total{result=\"failed\"} 0",
		"exitwatch_child_exits_total{result=\"signaled\"} 0",
		"exitwatch_child_oom_kills_total 0",
		"exitwatch_findings_total{rule=\"exit_code_burst\",severity=\"DEFAULT\"} 0",
		"exitwatch_findings_total{rule=\"stable\",severity=\"EMERGENCY\"} 0",
		"exitwatch_resolutions_total{rule=\"startup_failure_rate\"} 0",
		"exitwatch_active_findings 0",
		"exitwatch_kernel_events_total{kind=\"main_exec\"} 0",
		"exitwatch_ringbuf_drops_total{kind=\"ready\"} 0",
		"exitwatch_map_full_total 0",
		"exitwatch_stderr_faults_total 0",
		"exitwatch_stderr_map_full_total 0",
		"exitwatch_decode_errors_total 0",
		"exitwatch_stale_swept_total 0",
		"exitwatch_containers_tracked 0",
		"exitwatch_identities 0",
		"# TYPE exitwatch_sink_connected gauge",
	};
	struct ew_metrics *m = ew_metrics_new("1.2.3", false);
	struct ew_buf b;
	const char *t;

	assert_non_null(m);
	t = render(m, &b);
	check_lines(t, lines, ARRAY_SIZE(lines));
	/* No runtime seen: no per-runtime series yet. */
	check_no_prefix(t, "exitwatch_container_starts_total{");
	check_no_prefix(t, "exitwatch_container_exits_total{");
	check_no_prefix(t, "exitwatch_sink_queue_lines{");
	/* Off by default: no per-container series at all. */
	check_no_prefix(t, "# TYPE exitwatch_container_exits_by_name_total");
	assert_int_equal(count_prefix(t, "exitwatch_findings_total{"),
			 EW_RULE__COUNT * EW_SEV__COUNT);
	/* build_info first: the order is fixed. */
	assert_true(!strncmp(t, "# HELP exitwatch_build_info ", 28));
	ew_buf_free(&b);
	ew_metrics_free(m);
	ew_metrics_free(NULL);
}

static void test_starts_exits(void **state)
{
	static const char *const lines[] = {
		"exitwatch_container_starts_total{runtime=\"docker\"} 3",
		"exitwatch_container_starts_total{runtime=\"containerd\"} 1",
		"exitwatch_container_restarts_total{runtime=\"docker\"} 2",
		"exitwatch_container_restarts_total{runtime=\"containerd\"} 0",
		"exitwatch_container_ready_total{runtime=\"docker\"} 1",
		"exitwatch_container_ready_total{runtime=\"containerd\"} 0",
		"exitwatch_container_exits_total{runtime=\"docker\",class=\"config_error\"} 2",
		"exitwatch_container_exits_total{runtime=\"docker\",class=\"crash\"} 1",
		"exitwatch_container_exits_total{runtime=\"docker\",class=\"clean\"} 0",
		"exitwatch_container_exits_total{runtime=\"docker\",class=\"terminated\"} 0",
		"exitwatch_container_exits_total{runtime=\"containerd\",class=\"clean\"} 1",
		"exitwatch_container_exits_total{runtime=\"containerd\",class=\"oom_killed\"} 0",
		"exitwatch_container_exits_total{runtime=\"podman\",class=\"killed\"} 1",
		"exitwatch_container_exits_total{runtime=\"none\",class=\"app_error\"} 1",
	};
	struct ew_metrics *m = ew_metrics_new("v", false);
	struct ew_identity docker, ctrd, podman;
	struct ew_children none = {0};
	struct ew_buf b;
	const char *t;

	make_id(&docker, EW_RT_DOCKER, "", "", "web", "web");
	make_id(&ctrd, EW_RT_CONTAINERD, "default", "api-1", "api", "api");
	make_id(&podman, EW_RT_PODMAN, "", "", "db", "db");
	feed_start(m, &docker, false, 0);
	feed_start(m, &docker, false, 1);
	feed_start(m, &docker, false, 2);
	feed_start(m, &docker, true, 5); /* found at start-up: neither a start nor a restart */
	feed_start(m, &ctrd, false, 0);
	feed_ready(m, &docker, MSEC(300), false);
	feed_ready(m, &ctrd, MSEC(300), true);
	feed_exit(m, &docker, EW_CLASS_CONFIG_ERROR, SEC(1), none);
	feed_exit(m, &docker, EW_CLASS_CONFIG_ERROR, SEC(1), none);
	feed_exit(m, &docker, EW_CLASS_CRASH, SEC(1), none);
	feed_exit(m, &ctrd, EW_CLASS_CLEAN, SEC(1), none);
	feed_exit(m, &podman, EW_CLASS_KILLED, SEC(1), none);
	feed_exit(m, NULL, EW_CLASS_APP_ERROR, SEC(1), none);
	feed_exit(m, &docker, EW_CLASS__COUNT, SEC(1), none); /* out of range: not counted */

	t = render(m, &b);
	check_lines(t, lines, ARRAY_SIZE(lines));
	/* Every class for every runtime seen, none for runtimes never seen. */
	assert_int_equal(count_prefix(t, "exitwatch_container_exits_total{"), 4 * EW_CLASS__COUNT);
	check_no_prefix(t, "exitwatch_container_starts_total{runtime=\"cri-o\"}");
	/* Series of one metric come in runtime order: docker before containerd. */
	assert_true(strstr(t, "exitwatch_container_starts_total{runtime=\"docker\"}") <
		    strstr(t, "exitwatch_container_starts_total{runtime=\"containerd\"}"));
	ew_buf_free(&b);
	ew_metrics_free(m);
}

static void test_histograms(void **state)
{
	static const char *const lines[] = {
		"exitwatch_startup_duration_seconds_bucket{le=\"0.1\"} 2",
		"exitwatch_startup_duration_seconds_bucket{le=\"0.25\"} 2",
		"exitwatch_startup_duration_seconds_bucket{le=\"0.5\"} 3",
		"exitwatch_startup_duration_seconds_bucket{le=\"1\"} 3",
		"exitwatch_startup_duration_seconds_bucket{le=\"2.5\"} 3",
		"exitwatch_startup_duration_seconds_bucket{le=\"5\"} 3",
		"exitwatch_startup_duration_seconds_bucket{le=\"10\"} 4",
		"exitwatch_startup_duration_seconds_bucket{le=\"30\"} 4",
		"exitwatch_startup_duration_seconds_bucket{le=\"60\"} 4",
		"exitwatch_startup_duration_seconds_bucket{le=\"120\"} 4",
		"exitwatch_startup_duration_seconds_bucket{le=\"300\"} 4",
		"exitwatch_startup_duration_seconds_bucket{le=\"+Inf\"} 5",
		"exitwatch_startup_duration_seconds_sum 507.45",
		"exitwatch_startup_duration_seconds_count 5",
		"exitwatch_container_uptime_seconds_bucket{le=\"1\"} 2",
		"exitwatch_container_uptime_seconds_bucket{le=\"5\"} 3",
		"exitwatch_container_uptime_seconds_bucket{le=\"10\"} 3",
		"exitwatch_container_uptime_seconds_bucket{le=\"30\"} 3",
		"exitwatch_container_uptime_seconds_bucket{le=\"60\"} 3",
		"exitwatch_container_uptime_seconds_bucket{le=\"300\"} 3",
		"exitwatch_container_uptime_seconds_bucket{le=\"900\"} 3",
		"exitwatch_container_uptime_seconds_bucket{le=\"3600\"} 4",
		"exitwatch_container_uptime_seconds_bucket{le=\"14400\"} 4",
		"exitwatch_container_uptime_seconds_bucket{le=\"86400\"} 4",
		"exitwatch_container_uptime_seconds_bucket{le=\"+Inf\"} 5",
		"exitwatch_container_uptime_seconds_sum 103604.500000001",
		"exitwatch_container_uptime_seconds_count 5",
		"exitwatch_child_exits_total{result=\"clean\"} 11",
		"exitwatch_child_exits_total{result=\"failed\"} 2",
		"exitwatch_child_exits_total{result=\"signaled\"} 4",
		"# TYPE exitwatch_child_oom_kills_total counter",
		"exitwatch_child_oom_kills_total 2",
	};
	struct ew_metrics *m = ew_metrics_new("v", false);
	struct ew_identity id;
	struct ew_children none = {0};
	struct ew_buf b;
	const char *t;

	make_id(&id, EW_RT_DOCKER, "", "", "web", "web");
	feed_ready(m, &id, MSEC(50), false);
	feed_ready(m, &id, MSEC(100), false); /* on a bound: le is inclusive */
	feed_ready(m, &id, MSEC(300), false);
	feed_ready(m, &id, SEC(7), false);
	feed_ready(m, &id, SEC(500), false); /* above every bound: +Inf only */
	feed_ready(m, &id, SEC(1), true);    /* seeded: its start was not seen */
	feed_exit(m, &id, EW_CLASS_CLEAN, MSEC(500), (struct ew_children){1, 2, 3, 2});
	feed_exit(m, &id, EW_CLASS_CLEAN, SEC(1), (struct ew_children){10, 0, 1, 0});
	feed_exit(m, &id, EW_CLASS_CLEAN, SEC(3) + 1, none);
	feed_exit(m, &id, EW_CLASS_CLEAN, SEC(3600), none);
	feed_exit(m, &id, EW_CLASS_CLEAN, SEC(100000), none);

	t = render(m, &b);
	check_lines(t, lines, ARRAY_SIZE(lines));
	ew_buf_free(&b);
	ew_metrics_free(m);
}

static void test_findings(void **state)
{
	static const char *const lines[] = {
		"exitwatch_findings_total{rule=\"exit_code_burst\",severity=\"CRITICAL\"} 2",
		"exitwatch_findings_total{rule=\"exit_code_burst\",severity=\"WARNING\"} 0",
		"exitwatch_findings_total{rule=\"restart_rate\",severity=\"WARNING\"} 1",
		"exitwatch_findings_total{rule=\"stable\",severity=\"NOTICE\"} 1",
		"exitwatch_resolutions_total{rule=\"exit_code_burst\"} 0",
		"exitwatch_resolutions_total{rule=\"restart_rate\"} 1",
		"exitwatch_resolutions_total{rule=\"stable\"} 0",
	};
	struct ew_metrics *m = ew_metrics_new("v", false);
	struct ew_record no_finding = {.type = EW_REC_FINDING};
	struct ew_buf b;
	const char *t;

	feed_finding(m, EW_RULE_EXIT_CODE_BURST, EW_SEV_CRITICAL, false);
	feed_finding(m, EW_RULE_EXIT_CODE_BURST, EW_SEV_CRITICAL, false);
	feed_finding(m, EW_RULE_RESTART_RATE, EW_SEV_WARNING, false);
	feed_finding(m, EW_RULE_RESTART_RATE, EW_SEV_WARNING, true);
	feed_finding(m, EW_RULE_STABLE, EW_SEV_NOTICE, false);
	/* Out of range or missing: ignored, never an out-of-bounds write. */
	feed_finding(m, EW_RULE__COUNT, EW_SEV_NOTICE, false);
	feed_finding(m, EW_RULE_STABLE, EW_SEV__COUNT, false);
	feed_finding(m, EW_RULE__COUNT, EW_SEV_NOTICE, true);
	ew_metrics_record(m, &no_finding);

	t = render(m, &b);
	check_lines(t, lines, ARRAY_SIZE(lines));
	ew_buf_free(&b);
	ew_metrics_free(m);
}

/* The copies in metrics.c against the real ew_rule_name() and ew_severity_name(). */
static void test_names_match(void **state)
{
	struct ew_metrics *m;
	struct ew_buf b;
	const char *t;

	m = ew_metrics_new("v", false);
	t = render(m, &b);
	for (int r = 0; r < EW_RULE__COUNT; r++) {
		char line[160];

		for (int s = 0; s < EW_SEV__COUNT; s++) {
			snprintf(line, sizeof(line),
				 "exitwatch_findings_total{rule=\"%s\",severity=\"%s\"} 0",
				 ew_rule_name(r), ew_severity_name(s));
			check_lines(t, (const char *const[]){line}, 1);
		}
		snprintf(line, sizeof(line), "exitwatch_resolutions_total{rule=\"%s\"} 0",
			 ew_rule_name(r));
		check_lines(t, (const char *const[]){line}, 1);
	}
	ew_buf_free(&b);
	ew_metrics_free(m);
}

static void fill_agent(struct ew_agent_status *a)
{
	memset(a, 0, sizeof(*a));
	a->phase = "periodic";
	a->uptime_ns = SEC(12) + MSEC(500);
	for (int i = 0; i < EW_STAT__MAX; i++)
		a->kstats[i] = 100 + (uint64_t)i; /* each counter its own value */
	a->decode_errors = 7;
	a->stale_swept = 5;
	a->tracked = 42;
	a->identities = 17;
	a->active_findings = 3;
	a->nsinks = 3;
	a->sinks[0] = (struct ew_sink_status){"stdout", true, 0, 0, 1000, 0};
	a->sinks[1] = (struct ew_sink_status){"tcp:collector:5170", false, 12, 4096, 900, 5};
	a->sinks[2] = (struct ew_sink_status){"stdout", true, 1, 0, 2, 0};
}

static void test_agent(void **state)
{
	static const char *const lines[] = {
		"exitwatch_uptime_seconds 12.5",
		"exitwatch_active_findings 3",
		"exitwatch_kernel_events_total{kind=\"main_exec\"} 100",
		"exitwatch_kernel_events_total{kind=\"main_reexec\"} 101",
		"exitwatch_kernel_events_total{kind=\"main_exit\"} 102",
		"exitwatch_kernel_events_total{kind=\"child_exit\"} 103",
		"exitwatch_kernel_events_total{kind=\"ready\"} 104",
		"exitwatch_kernel_events_total{kind=\"fatal_signal\"} 110",
		"exitwatch_kernel_events_total{kind=\"oom_victim\"} 111",
		"exitwatch_kernel_events_total{kind=\"main_move\"} 113",
		"exitwatch_ringbuf_drops_total{kind=\"exec\"} 105",
		"exitwatch_ringbuf_drops_total{kind=\"exit\"} 106",
		"exitwatch_ringbuf_drops_total{kind=\"ready\"} 107",
		"exitwatch_map_full_total 108",
		"exitwatch_stderr_faults_total 109",
		"exitwatch_stderr_map_full_total 112",
		"exitwatch_decode_errors_total 7",
		"exitwatch_stale_swept_total 5",
		"exitwatch_containers_tracked 42",
		"exitwatch_identities 17",
		"exitwatch_sink_queue_lines{sink=\"stdout\"} 0",
		"exitwatch_sink_queue_lines{sink=\"tcp:collector:5170\"} 12",
		"exitwatch_sink_spooled_bytes{sink=\"tcp:collector:5170\"} 4096",
		"exitwatch_sink_dropped_lines_total{sink=\"tcp:collector:5170\"} 5",
		"exitwatch_sink_delivered_lines_total{sink=\"stdout\"} 1000",
		"exitwatch_sink_delivered_lines_total{sink=\"tcp:collector:5170\"} 900",
		"exitwatch_sink_connected{sink=\"stdout\"} 1",
		"exitwatch_sink_connected{sink=\"tcp:collector:5170\"} 0",
		/* Two identical specs stay two series. */
		"exitwatch_sink_delivered_lines_total{sink=\"stdout#3\"} 2",
		"# TYPE exitwatch_sink_dropped_lines_total counter",
		"# TYPE exitwatch_sink_queue_lines gauge",
	};
	struct ew_metrics *m = ew_metrics_new("v", false);
	struct ew_agent_status a;
	struct ew_record r = {.type = EW_REC_AGENT, .agent = &a};
	struct ew_buf b;
	const char *t;

	/* The latest status wins: totals are the agent's, not summed here. */
	fill_agent(&a);
	a.decode_errors = 1;
	ew_metrics_agent(m, &a);
	fill_agent(&a);
	ew_metrics_record(m, &r);

	t = render(m, &b);
	check_lines(t, lines, ARRAY_SIZE(lines));
	assert_int_equal(count_prefix(t, "exitwatch_sink_connected{"), 3);
	ew_buf_free(&b);

	/* Fewer sinks later: the gone ones go. */
	a.nsinks = 1;
	ew_metrics_agent(m, &a);
	t = render(m, &b);
	assert_int_equal(count_prefix(t, "exitwatch_sink_connected{"), 1);
	ew_buf_free(&b);
	ew_metrics_free(m);
}

static void test_container_labels(void **state)
{
	static const char *const lines[] = {
		"# TYPE exitwatch_container_exits_by_name_total counter",
		"exitwatch_container_exits_by_name_total{namespace=\"prod\",pod=\"api-7d9f-x2\","
		"container=\"api\",class=\"config_error\"} 2",
		"exitwatch_container_exits_by_name_total{namespace=\"prod\",pod=\"api-7d9f-x2\","
		"container=\"api\",class=\"crash\"} 1",
		/* No runtime name: the display name. */
		"exitwatch_container_exits_by_name_total{namespace=\"\",pod=\"\","
		"container=\"3f2a9c\",class=\"clean\"} 1",
		/* Quote, backslash and newline escaped; a stray byte becomes U+FFFD. */
		"exitwatch_container_exits_by_name_total{namespace=\"n\\\\s\",pod=\"p\\\"q\","
		"container=\"we\\\"ird\\\\name\\nx\xef\xbf\xbd\",class=\"killed\"} 1",
		"exitwatch_build_info{version=\"1.0 \\\"beta\\\"\\\\\\n\"} 1",
	};
	struct ew_metrics *m = ew_metrics_new("1.0 \"beta\"\\\n", true);
	struct ew_identity api, anon, weird;
	struct ew_children none = {0};
	struct ew_buf b;
	const char *t;

	make_id(&api, EW_RT_CONTAINERD, "prod", "api-7d9f-x2", "api", "api");
	make_id(&anon, EW_RT_DOCKER, "", "", "", "3f2a9c");
	make_id(&weird, EW_RT_DOCKER, "n\\s", "p\"q", "we\"ird\\name\nx\xff", "");
	feed_exit(m, &api, EW_CLASS_CONFIG_ERROR, SEC(1), none);
	feed_exit(m, &api, EW_CLASS_CONFIG_ERROR, SEC(1), none);
	feed_exit(m, &api, EW_CLASS_CRASH, SEC(1), none);
	feed_exit(m, &anon, EW_CLASS_CLEAN, SEC(1), none);
	feed_exit(m, &weird, EW_CLASS_KILLED, SEC(1), none);

	t = render(m, &b);
	check_lines(t, lines, ARRAY_SIZE(lines));
	/* Only classes that happened, in first-seen order. */
	assert_int_equal(count_prefix(t, "exitwatch_container_exits_by_name_total{"), 4);
	assert_true(strstr(t, "class=\"config_error\"} 2") < strstr(t, "class=\"crash\"} 1"));
	/* No overflow series while under the cap. */
	assert_null(strstr(t, "_other_\","));
	ew_buf_free(&b);
	ew_metrics_free(m);
}

static void test_label_cap(void **state)
{
	static const char *const lines[] = {
		"exitwatch_container_exits_by_name_total{namespace=\"ns\",pod=\"pod-0\","
		"container=\"c0\",class=\"crash\"} 2",
		"exitwatch_container_exits_by_name_total{namespace=\"ns\",pod=\"pod-999\","
		"container=\"c999\",class=\"crash\"} 1",
		"exitwatch_container_exits_by_name_total{namespace=\"_other_\",pod=\"_other_\","
		"container=\"_other_\",class=\"crash\"} 6",
		/* A new class of a known container is a new series: over the cap too. */
		"exitwatch_container_exits_by_name_total{namespace=\"_other_\",pod=\"_other_\","
		"container=\"_other_\",class=\"clean\"} 1",
		/* The per-runtime total still counts everything. */
		"exitwatch_container_exits_total{runtime=\"containerd\",class=\"crash\"} 1007",
	};
	struct ew_metrics *m = ew_metrics_new("v", true);
	struct ew_identity id, other;
	struct ew_children none = {0};
	struct ew_buf b;
	const char *t;

	for (int i = 0; i < MAX_NAMED + 5; i++) {
		char pod[32], name[32];

		snprintf(pod, sizeof(pod), "pod-%d", i);
		snprintf(name, sizeof(name), "c%d", i);
		make_id(&id, EW_RT_CONTAINERD, "ns", pod, name, name);
		feed_exit(m, &id, EW_CLASS_CRASH, SEC(1), none);
	}
	make_id(&id, EW_RT_CONTAINERD, "ns", "pod-0", "c0", "c0");
	feed_exit(m, &id, EW_CLASS_CRASH, SEC(1), none); /* known: still its own series */
	feed_exit(m, &id, EW_CLASS_CLEAN, SEC(1), none);
	/* A container named like the overflow series joins it instead of duplicating it. */
	make_id(&other, EW_RT_CONTAINERD, "_other_", "_other_", "_other_", "");
	feed_exit(m, &other, EW_CLASS_CRASH, SEC(1), none);

	t = render(m, &b);
	check_lines(t, lines, ARRAY_SIZE(lines));
	assert_int_equal(count_prefix(t, "exitwatch_container_exits_by_name_total{"),
			 MAX_NAMED + 2);
	check_no_prefix(t, "exitwatch_container_exits_by_name_total{namespace=\"ns\","
			   "pod=\"pod-1000\"");
	ew_buf_free(&b);
	ew_metrics_free(m);
}

/* A registry-sized exposition of everything above, for promtool and the HTTP tests. */
static struct ew_metrics *rich_metrics(void)
{
	struct ew_metrics *m = ew_metrics_new("0.1.0-test \"q\"", true);
	struct ew_identity a, c;
	struct ew_agent_status st;

	assert_non_null(m);
	make_id(&a, EW_RT_DOCKER, "", "", "we\"b\\\n\xff", "web");
	make_id(&c, EW_RT_CRIO, "kube-system", "dns-abc", "coredns", "coredns");
	feed_start(m, &a, false, 0);
	feed_start(m, &a, false, 1);
	feed_ready(m, &a, MSEC(1234), false);
	feed_exit(m, &a, EW_CLASS_CONFIG_ERROR, SEC(2), (struct ew_children){1, 1, 1, 1});
	feed_exit(m, &c, EW_CLASS_OOM_KILLED, SEC(86401), (struct ew_children){0});
	feed_finding(m, EW_RULE_EXIT_CODE_BURST, EW_SEV_CRITICAL, false);
	feed_finding(m, EW_RULE_EXIT_CODE_BURST, EW_SEV_CRITICAL, true);
	fill_agent(&st);
	ew_metrics_agent(m, &st);
	return m;
}

static void test_promtool(void **state)
{
	char in[] = "/tmp/ew_metrics_XXXXXX", out[] = "/tmp/ew_promtool_XXXXXX";
	char cmd[256], log[4096] = "";
	const char *ci = getenv("CI");
	struct ew_metrics *m;
	struct ew_buf b;
	const char *t;
	int fd, ofd, status;
	ssize_t n;

	if (access(PROMTOOL, X_OK) != 0) {
		if (ci && !strcmp(ci, "true"))
			fail_msg("CI=true but %s is missing (Debian package prometheus)", PROMTOOL);
		print_message("%s not found (Debian package prometheus): lint skipped\n", PROMTOOL);
		skip();
	}
	m = rich_metrics();
	t = render(m, &b);
	fd = mkstemp(in);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, t, b.len), (ssize_t)b.len);
	close(fd);
	ofd = mkstemp(out);
	assert_true(ofd >= 0);
	snprintf(cmd, sizeof(cmd), "%s check metrics < %s > %s 2>&1", PROMTOOL, in, out);
	status = system(cmd);
	n = read(ofd, log, sizeof(log) - 1);
	log[n > 0 ? n : 0] = '\0';
	close(ofd);
	unlink(in);
	unlink(out);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("promtool check metrics failed (status %d):\n%s\n--- input ---\n%s",
			 status, log, t);
	/* Lint problems are printed even on exit 0: there must be none. */
	assert_string_equal(log, "");
	ew_buf_free(&b);
	ew_metrics_free(m);
}

/* ---- HTTP ---- */

struct http_reply {
	int status;
	char content_type[128];
	char allow[64];
	char *body;
	size_t body_len;
};

static void header_value(const char *head, const char *name, char *out, size_t len)
{
	size_t n = strlen(name);

	out[0] = '\0';
	for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
		if (!strncasecmp(p + 2, name, n) && p[2 + n] == ':') {
			const char *v = p + 3 + n, *e;

			while (*v == ' ')
				v++;
			e = strstr(v, "\r\n");
			ew_strlcpy_n(out, len, v, e ? (size_t)(e - v) : strlen(v));
			return;
		}
	}
}

/* One HTTP/1.0 request over a plain socket; the server closes after the reply. */
static int http_request(int family, uint16_t port, const char *method, const char *path,
			struct http_reply *ret)
{
	struct timeval tv = {.tv_sec = HTTP_TIMEOUT_S};
	struct sockaddr_storage ss = {0};
	socklen_t slen;
	struct ew_buf resp = EW_BUF_INIT;
	char req[256], chunk[4096], *sep;
	int fd, err = 0;
	ssize_t n;

	memset(ret, 0, sizeof(*ret));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		slen = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		in6->sin6_addr = in6addr_loopback;
		slen = sizeof(*in6);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, slen) < 0) {
		err = -errno;
		goto out;
	}
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: test\r\n%s\r\n", method, path,
		     strcmp(method, "POST") ? "" : "Content-Length: 3\r\n");
	if (!strcmp(method, "POST"))
		n += snprintf(req + n, sizeof(req) - (size_t)n, "a=b");
	if (write(fd, req, (size_t)n) != n) {
		err = -EIO;
		goto out;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		ew_buf_append(&resp, chunk, (size_t)n);
	if (n < 0 || !resp.data) {
		err = n < 0 ? -errno : -EPROTO;
		goto out;
	}
	sep = strstr(resp.data, "\r\n\r\n");
	if (!sep || sscanf(resp.data, "HTTP/1.%*d %d", &ret->status) != 1) {
		err = -EPROTO;
		goto out;
	}
	sep[2] = '\0'; /* headers end with their own CRLF */
	header_value(resp.data, "Content-Type", ret->content_type, sizeof(ret->content_type));
	header_value(resp.data, "Allow", ret->allow, sizeof(ret->allow));
	ret->body_len = resp.len - (size_t)(sep + 4 - resp.data);
	ret->body = malloc(ret->body_len + 1);
	assert_non_null(ret->body);
	memcpy(ret->body, sep + 4, ret->body_len);
	ret->body[ret->body_len] = '\0';
out:
	ew_buf_free(&resp);
	close(fd);
	return err;
}

/* A port the kernel just handed out; another process may take it first, hence the retries. */
static uint16_t free_port(int family)
{
	struct sockaddr_storage ss = {0};
	socklen_t len =
		family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	int fd = socket(family, SOCK_STREAM, 0);
	uint16_t port;

	assert_true(fd >= 0);
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
				       : ((struct sockaddr_in6 *)&ss)->sin6_port);
	close(fd);
	return port;
}

/* fmt has one %u for the port. */
static struct ew_metrics_server *start_server(int family, const char *fmt, uint16_t *port)
{
	struct ew_metrics_server *s = NULL;
	char addr[64], err[256];
	int r = -EADDRINUSE;

	for (int i = 0; i < 5 && r == -EADDRINUSE; i++) {
		*port = free_port(family);
		snprintf(addr, sizeof(addr), fmt, *port);
		err[0] = '\0';
		r = ew_metrics_server_start(addr, &s, err, sizeof(err));
	}
	if (r)
		fail_msg("ew_metrics_server_start(%s) = %d: %s", addr, r, err);
	assert_non_null(s);
	return s;
}

static void check_get(int family, uint16_t port, const char *method, const char *path, int status,
		      const char *content_type, const char *body)
{
	struct http_reply rep;
	int r = http_request(family, port, method, path, &rep);

	if (r)
		fail_msg("%s %s: %s", method, path, strerror(-r));
	if (rep.status != status)
		fail_msg("%s %s: status %d, expected %d", method, path, rep.status, status);
	assert_string_equal(rep.content_type, content_type);
	assert_string_equal(rep.body, body);
	free(rep.body);
}

static void test_http(void **state)
{
	struct ew_metrics *m = rich_metrics();
	struct ew_metrics_server *s;
	struct http_reply rep;
	struct ew_buf b;
	const char *t;
	uint16_t port;

	s = start_server(AF_INET, "127.0.0.1:%u", &port);
	/* Nothing published yet. */
	check_get(AF_INET, port, "GET", "/metrics", 503, "text/plain; charset=utf-8",
		  "not ready\n");
	check_get(AF_INET, port, "GET", "/healthz", 503, "text/plain; charset=utf-8",
		  "not ready\n");

	t = render(m, &b);
	ew_metrics_server_publish(s, t, b.len, true, NULL);
	check_get(AF_INET, port, "GET", "/metrics", 200, "text/plain; version=0.0.4; charset=utf-8",
		  t);
	check_get(AF_INET, port, "HEAD", "/metrics", 200,
		  "text/plain; version=0.0.4; charset=utf-8", "");
	check_get(AF_INET, port, "GET", "/healthz", 200, "text/plain; charset=utf-8", "ok\n");
	check_get(AF_INET, port, "GET", "/nope", 404, "text/plain; charset=utf-8", "not found\n");
	check_get(AF_INET, port, "GET", "/metrics/", 404, "text/plain; charset=utf-8",
		  "not found\n");
	check_get(AF_INET, port, "POST", "/metrics", 405, "text/plain; charset=utf-8",
		  "method not allowed\n");
	assert_int_equal(http_request(AF_INET, port, "DELETE", "/healthz", &rep), 0);
	assert_int_equal(rep.status, 405);
	assert_string_equal(rep.allow, "GET, HEAD");
	free(rep.body);

	/* A new snapshot replaces the old one; health follows the latest publish. */
	ew_metrics_server_publish(s, "exitwatch_x 1\n", 14, false, "ring buffer stalled");
	check_get(AF_INET, port, "GET", "/metrics", 200, "text/plain; version=0.0.4; charset=utf-8",
		  "exitwatch_x 1\n");
	check_get(AF_INET, port, "GET", "/healthz", 503, "text/plain; charset=utf-8",
		  "ring buffer stalled\n");
	ew_metrics_server_publish(s, "exitwatch_x 2\n", 14, true, "");
	check_get(AF_INET, port, "GET", "/healthz", 200, "text/plain; charset=utf-8", "ok\n");

	ew_metrics_server_stop(s);
	/* Stopped: the port is closed. */
	assert_int_equal(http_request(AF_INET, port, "GET", "/metrics", &rep), -ECONNREFUSED);
	ew_metrics_server_stop(NULL);
	ew_buf_free(&b);
	ew_metrics_free(m);
}

static bool have_ipv6_loopback(void)
{
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	bool ok;

	if (fd < 0)
		return false;
	ok = bind(fd, (struct sockaddr *)&in6, sizeof(in6)) == 0;
	close(fd);
	return ok;
}

static void test_http_families(void **state)
{
	struct ew_metrics_server *s;
	struct http_reply rep;
	uint16_t port;

	/* ":PORT" is every address: IPv4 loopback reaches it. */
	s = start_server(AF_INET, ":%u", &port);
	ew_metrics_server_publish(s, "a 1\n", 4, true, NULL);
	check_get(AF_INET, port, "GET", "/metrics", 200, "text/plain; version=0.0.4; charset=utf-8",
		  "a 1\n");
	if (have_ipv6_loopback())
		check_get(AF_INET6, port, "GET", "/healthz", 200, "text/plain; charset=utf-8",
			  "ok\n");
	ew_metrics_server_stop(s);

	if (!have_ipv6_loopback()) {
		const char *ci = getenv("CI");

		if (ci && !strcmp(ci, "true"))
			fail_msg("CI=true but no IPv6 loopback: [::1]:PORT must be tested");
		print_message("no IPv6 loopback here: [::1]:PORT not tested\n");
		skip();
	}
	/* "[::1]:PORT" binds IPv6 only: nothing listens on 127.0.0.1 at that port. */
	s = start_server(AF_INET6, "[::1]:%u", &port);
	ew_metrics_server_publish(s, "b 2\n", 4, true, NULL);
	check_get(AF_INET6, port, "GET", "/metrics", 200,
		  "text/plain; version=0.0.4; charset=utf-8", "b 2\n");
	assert_int_equal(http_request(AF_INET, port, "GET", "/metrics", &rep), -ECONNREFUSED);
	ew_metrics_server_stop(s);
}

static void test_http_bad_address(void **state)
{
	static const char *const bad[] = {
		"nonsense",
		"",
		"127.0.0.1",
		"127.0.0.1:",
		"127.0.0.1:0",
		"127.0.0.1:65536",
		"127.0.0.1:-1",
		"127.0.0.1:80a",
		"127.0.0.1:123456",
		"localhost:9090",
		"::1:9090",
		"[::1]9090",
		"[::1",
		"[127.0.0.1]:9090",
		"[]:9090",
		"1.2.3:9090",
		"[::1]:",
		"999.0.0.1:9090",
		" 127.0.0.1:9090",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct ew_metrics_server *s = (void *)1;
		char err[256] = "";
		int r = ew_metrics_server_start(bad[i], &s, err, sizeof(err));

		if (r != -EINVAL)
			fail_msg("\"%s\": %d, expected -EINVAL", bad[i], r);
		assert_null(s);
		assert_non_null(strstr(err, "is not HOST:PORT"));
		assert_non_null(strstr(err, bad[i]));
	}
}

static void test_http_port_in_use(void **state)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	socklen_t len = sizeof(in);
	struct ew_metrics_server *s, *s2 = (void *)1;
	char addr[64], err[256] = "", want[128];
	uint16_t port;
	int fd, r;

	/* Someone else listening. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&in, &len), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(in.sin_port));
	r = ew_metrics_server_start(addr, &s2, err, sizeof(err));
	assert_int_equal(r, -EADDRINUSE);
	assert_null(s2);
	snprintf(want, sizeof(want), "cannot listen on %s for metrics: %s", addr,
		 strerror(EADDRINUSE));
	assert_string_equal(err, want);
	close(fd);

	/* Ourselves, twice. */
	s = start_server(AF_INET, "127.0.0.1:%u", &port);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	s2 = (void *)1;
	assert_int_equal(ew_metrics_server_start(addr, &s2, err, sizeof(err)), -EADDRINUSE);
	assert_null(s2);
	ew_metrics_server_stop(s);

	/* An address this host does not have. */
	r = ew_metrics_server_start("192.0.2.1:9", &s2, err, sizeof(err));
	assert_int_equal(r, -EADDRNOTAVAIL);
	assert_non_null(strstr(err, "192.0.2.1:9"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_starts_exits),
		cmocka_unit_test(test_histograms),
		cmocka_unit_test(test_findings),
		cmocka_unit_test(test_names_match),
		cmocka_unit_test(test_agent),
		cmocka_unit_test(test_container_labels),
		cmocka_unit_test(test_label_cap),
		cmocka_unit_test(test_promtool),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_http_families),
		cmocka_unit_test(test_http_bad_address),
		cmocka_unit_test(test_http_port_in_use),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
