// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests for src/metrics/metrics.c (counters, histograms, the text exposition). Records are built
 * by hand (metrics_fixture.h); every check compares exact exposition lines. The HTTP endpoint
 * and promtool's lint, which need sockets and an external tool, are integration tests
 * (tests/integration/test_metrics_http.c).
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
#include "metrics_fixture.h"

#define MAX_NAMED 1000 /* EW_METRICS_MAX_NAMED in metrics.c */

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
		"exitwatch_log_watches 0",
		"exitwatch_log_watch_refused_total 0",
		"exitwatch_log_watch_overflows_total 0",
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
		"exitwatch_container_restarts_total{runtime=\"docker\"} 2",
		"exitwatch_container_restarts_total{runtime=\"containerd\"} 0",
		"exitwatch_container_ready_total{runtime=\"docker\"} 1",
		"exitwatch_container_ready_total{runtime=\"containerd\"} 0",
		/* By workload now (tests/test_workloads.c has the rest): a start found running at
		 * start-up names its workload, counted at 0. */
		"exitwatch_container_starts_total{runtime=\"docker\",namespace=\"\",workload="
		"\"web\"} 3",
		"exitwatch_container_starts_total{runtime=\"containerd\",namespace=\"\","
		"workload=\"api\"} 1",
		"exitwatch_container_exits_total{runtime=\"docker\",namespace=\"\",workload="
		"\"web\","
		"exit_class=\"config_error\",code=\"0\"} 3",
	};
	struct ew_metrics *m = ew_metrics_new("v", false);
	struct ew_identity docker, ctrd;
	struct ew_children none = {0};
	struct ew_buf b;
	const char *t;

	make_id(&docker, EW_RT_DOCKER, "", "", "web", "web");
	ew_strlcpy(docker.workload, "web", sizeof(docker.workload));
	make_id(&ctrd, EW_RT_CONTAINERD, "default", "api-1", "api", "api");
	ew_strlcpy(ctrd.workload, "api", sizeof(ctrd.workload));
	feed_start(m, &docker, false, 0);
	feed_start(m, &docker, false, 1);
	feed_start(m, &docker, false, 2);
	feed_start(m, &docker, true, 5); /* found at start-up: neither a start nor a restart */
	feed_start(m, &ctrd, false, 0);
	feed_ready(m, &docker, MSEC(300), false);
	feed_ready(m, &ctrd, MSEC(300), true);
	feed_exit(m, &docker, EW_CLASS_CONFIG_ERROR, SEC(1), none);
	feed_exit(m, &docker, EW_CLASS_CONFIG_ERROR, SEC(1), none);
	feed_exit(m, &docker, EW_CLASS_CONFIG_ERROR, SEC(1), none);
	feed_exit(m, &docker, EW_CLASS__COUNT, SEC(1), none); /* out of range: not counted */

	t = render(m, &b);
	check_lines(t, lines, ARRAY_SIZE(lines));
	check_no_prefix(t, "exitwatch_container_restarts_total{runtime=\"cri-o\"}");
	/* Series of one metric come in runtime order: docker before containerd. */
	assert_true(strstr(t, "exitwatch_container_restarts_total{runtime=\"docker\"}") <
		    strstr(t, "exitwatch_container_restarts_total{runtime=\"containerd\"}"));
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
		"exitwatch_log_watches 4",
		"exitwatch_log_watch_refused_total 6",
		"exitwatch_log_watch_overflows_total 2",
		"exitwatch_containers_tracked 42",
		"exitwatch_identities 17",
		"exitwatch_identities_forgotten_total{reason=\"limit\"} 8",
		"exitwatch_identities_forgotten_in_window_total 3",
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
		/* Quote and newline escaped; a backslash is \\ and a stray byte \xHH (test_label_bytes),
		 * each backslash escaped once more. */
		"exitwatch_container_exits_by_name_total{namespace=\"n\\\\\\\\s\",pod=\"p\\\"q\","
		"container=\"we\\\"ird\\\\\\\\name\\nx\\\\xff\",class=\"killed\"} 1",
		"exitwatch_build_info{version=\"1.0 \\\"beta\\\"\\\\\\\\\\n\"} 1",
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
		/* The per-workload total still counts everything (no workload key: ""). */
		"exitwatch_container_exits_total{runtime=\"containerd\",namespace=\"\",workload="
		"\"\","
		"exit_class=\"crash\",code=\"0\"} 1007",
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

static void tick_at(struct ew_metrics *m, uint64_t uptime_ns)
{
	struct ew_agent_status a = {.phase = "periodic", .uptime_ns = uptime_ns};

	ew_metrics_agent(m, &a);
}

/*
 * Pod names change with every rollout and every Job: a series with no exit for an hour (as
 * long as the workloads' series are kept, and the alerts' longest window) is forgotten, so the
 * cap holds the containers of the last hour, not the first 1,000 the node ever saw. The overflow
 * series are forgotten the same way.
 */
static void test_label_forgotten_when_idle(void **state)
{
	struct ew_metrics *m = ew_metrics_new("v", true);
	struct ew_children none = {0};
	struct ew_identity id;
	struct ew_buf b;
	const char *t;

	tick_at(m, SEC(1));
	for (int i = 0; i < MAX_NAMED; i++) {
		char pod[32];

		snprintf(pod, sizeof(pod), "job-%d", i);
		make_id(&id, EW_RT_CONTAINERD, "ns", pod, "c", "c");
		feed_exit(m, &id, EW_CLASS_CLEAN, SEC(1), none);
	}
	make_id(&id, EW_RT_CONTAINERD, "ns", "late", "c", "c");
	feed_exit(m, &id, EW_CLASS_CLEAN, SEC(1), none); /* the cap is full: _other_ */
	tick_at(m, SEC(1800));
	make_id(&id, EW_RT_CONTAINERD, "ns", "job-7", "c", "c");
	feed_exit(m, &id, EW_CLASS_CLEAN, SEC(1), none); /* still looping half an hour later */
	tick_at(m, SEC(3600));				 /* an hour: not yet */
	t = render(m, &b);
	assert_int_equal(count_prefix(t, "exitwatch_container_exits_by_name_total{"),
			 MAX_NAMED + 1);
	ew_buf_free(&b);

	tick_at(m, SEC(3602));
	make_id(&id, EW_RT_CONTAINERD, "ns", "next", "c", "c");
	feed_exit(m, &id, EW_CLASS_CLEAN, SEC(1), none);
	t = render(m, &b);
	check_no_prefix(t,
			"exitwatch_container_exits_by_name_total{namespace=\"ns\",pod=\"job-0\"");
	check_no_prefix(t, "exitwatch_container_exits_by_name_total{namespace=\"_other_\"");
	check_lines(
		t,
		(const char *const[]){
			"exitwatch_container_exits_by_name_total{namespace=\"ns\",pod=\"job-7\","
			"container=\"c\",class=\"clean\"} 2",
			"exitwatch_container_exits_by_name_total{namespace=\"ns\",pod=\"next\","
			"container=\"c\",class=\"clean\"} 1"},
		2);
	assert_int_equal(count_prefix(t, "exitwatch_container_exits_by_name_total{"), 2);
	ew_buf_free(&b);

	tick_at(m, SEC(3 * 3600));
	t = render(m, &b);
	check_no_prefix(t, "exitwatch_container_exits_by_name_total{");
	ew_buf_free(&b);
	ew_metrics_free(m);
}

/*
 * Label values are reversible: names that differ only in a byte that is not UTF-8, or in such a
 * byte against its own spelling as text, stay different series (Prometheus drops all but one of
 * identical label sets). A byte that is not UTF-8 is the text \xHH, a backslash is \\: in the
 * exposition both backslashes are escaped once more.
 */
static void test_label_bytes(void **state)
{
	static const struct {
		const char *name, *label;
	} cases[] = {
		{"app\xff", "app\\\\xff"},
		{"app\xfe", "app\\\\xfe"},
		{"app\\xff", "app\\\\\\\\xff"}, /* the text \xff, not the byte */
		{"a\\b", "a\\\\\\\\b"},
		{"caf\xc3\xa9", "caf\xc3\xa9"},	     /* valid UTF-8 as it is */
		{"x\xc3", "x\\\\xc3"},		     /* a truncated sequence */
		{"\xe2\x82\x28", "\\\\xe2\\\\x82("}, /* an invalid continuation: byte by byte */
	};
	struct ew_metrics *m = ew_metrics_new("v", false);
	struct ew_buf b;
	const char *t;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ew_identity id;

		make_id(&id, EW_RT_DOCKER, "", "", "c", "c");
		ew_strlcpy(id.workload, cases[i].name, sizeof(id.workload));
		feed_start(m, &id, false, 0);
	}
	t = render(m, &b);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char line[160];

		snprintf(line, sizeof(line),
			 "exitwatch_container_starts_total{runtime=\"docker\",namespace=\"\","
			 "workload=\"%s\"} 1",
			 cases[i].label);
		check_lines(t, (const char *const[]){line}, 1);
	}
	assert_int_equal(count_prefix(t, "exitwatch_container_starts_total{"), ARRAY_SIZE(cases));
	ew_buf_free(&b);
	ew_metrics_free(m);
}

/* ---- docs/schema.md, "Prometheus metrics" ---- */

#define DOCS	     "docs/schema.md"
#define MAX_NAMES    128
#define DOCS_SECTION "\n## Prometheus metrics\n"

struct names {
	char *v[MAX_NAMES];
	size_t n;
};

static void names_add(struct names *ns, const char *s, size_t len)
{
	for (size_t i = 0; i < ns->n; i++)
		if (strlen(ns->v[i]) == len && !strncmp(ns->v[i], s, len))
			return;
	assert_true(ns->n < MAX_NAMES);
	ns->v[ns->n] = strndup(s, len);
	assert_non_null(ns->v[ns->n]);
	ns->n++;
}

static bool names_has(const struct names *ns, const char *s)
{
	for (size_t i = 0; i < ns->n; i++)
		if (!strcmp(ns->v[i], s))
			return true;
	return false;
}

static void names_free(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	ns->n = 0;
}

/* The names in the first column of the section's table: `exitwatch_...`, one or more a row. */
static void doc_names(struct names *ret)
{
	char *text = NULL, *p, *end;
	size_t size = 0;
	FILE *fp = fopen(DOCS, "r");

	if (!fp)
		fail_msg("%s: run the test from the repository root", DOCS);
	assert_int_equal(getdelim(&text, &size, '\0', fp) > 0, 1);
	fclose(fp);
	p = strstr(text, DOCS_SECTION);
	if (!p)
		fail_msg("%s has no section \"Prometheus metrics\"", DOCS);
	p += strlen(DOCS_SECTION);
	end = strstr(p, "\n## ");
	if (end)
		*end = '\0';
	for (char *line = p; line && *line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		char *cell_end;

		if (strncmp(line, "| `exitwatch_", 13))
			continue;
		cell_end = strchr(line + 1, '|');
		assert_non_null(cell_end);
		for (char *q = line; (q = strstr(q, "`exitwatch_")) && q < cell_end;) {
			char *close = strchr(q + 1, '`');

			assert_non_null(close);
			names_add(ret, q + 1, (size_t)(close - q - 1));
			q = close + 1;
		}
	}
	free(text);
}

/*
 * Every metric the agent can export is in docs/schema.md's table, and every metric there is one
 * it exports: an exposition with every optional part (per-container labels, sinks, a workload)
 * against the table's first column.
 */
static void test_schema_names(void **state)
{
	struct ew_metrics *m = rich_metrics();
	struct names code = {0}, docs = {0};
	struct ew_buf b;
	const char *t;

	t = render(m, &b);
	for (const char *p = t; (p = strstr(p, "# TYPE ")); p++) {
		const char *name = p + 7, *sp = strchr(name, ' ');

		assert_non_null(sp);
		names_add(&code, name, (size_t)(sp - name));
	}
	doc_names(&docs);
	assert_true(code.n > 30);
	for (size_t i = 0; i < code.n; i++)
		if (!names_has(&docs, code.v[i]))
			fail_msg("%s is exported but not in %s, \"Prometheus metrics\"", code.v[i],
				 DOCS);
	for (size_t i = 0; i < docs.n; i++)
		if (!names_has(&code, docs.v[i]))
			fail_msg("%s is in %s, \"Prometheus metrics\", but never exported",
				 docs.v[i], DOCS);
	names_free(&code);
	names_free(&docs);
	ew_buf_free(&b);
	ew_metrics_free(m);
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
		cmocka_unit_test(test_label_forgotten_when_idle),
		cmocka_unit_test(test_label_bytes),
		cmocka_unit_test(test_schema_names),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
