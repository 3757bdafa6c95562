// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests for src/metrics/workloads.c through the metrics API: the per-workload starts, failed
 * starts and exits a cluster's Prometheus sums across nodes. Exact exposition lines: labels,
 * series made at 0 when a workload is first seen, codes folded into "other", the workload cap,
 * idle workloads forgotten (the metrics' clock is the agent status's uptime).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "exitwatch/core/exit_class.h"
#include "exitwatch/metrics/metrics.h"
#include "exitwatch/util/buf.h"
#include "exitwatch/util/util.h"
#include "metrics_fixture.h"

#define MAX_WORKLOADS 200	/* EW_METRICS_MAX_WORKLOADS in metrics.c */
#define IDLE_FORGET   SEC(3600) /* EW_METRICS_WORKLOAD_IDLE_NS in metrics.c */
#define BACKEND	      "k8s:prod/backend/app"
#define LBL_BACKEND   "runtime=\"containerd\",namespace=\"prod\",workload=\"" BACKEND "\""

static void k8s_id(struct ew_identity *id, const char *ns, const char *pod, const char *workload)
{
	make_id(id, EW_RT_CONTAINERD, ns, pod, "app", "app");
	id->cg.kubernetes = true;
	snprintf(id->key, sizeof(id->key), "k8s:uid-%s/app", pod);
	ew_strlcpy(id->workload, workload, sizeof(id->workload));
}

static void start(struct ew_metrics *m, const struct ew_identity *id, bool seeded)
{
	feed_start(m, id, seeded, 0);
}

/* An exit; failed: of a start exitwatch saw that had not succeeded. */
static void exit_(struct ew_metrics *m, const struct ew_identity *id, enum ew_exit_class cls,
		  int code, int sig, bool known, bool succeeded)
{
	struct ew_event ev = {.type = EW_EVENT_EXIT, .status = {.code = code, .signal = sig}};
	struct ew_startup st = {.known = known, .succeeded = succeeded};
	struct ew_record r = {.type = EW_REC_EXIT, .ev = &ev, .id = id, .cls = cls, .startup = &st};

	ew_metrics_record(m, &r);
}

static void test_workload_series(void **state)
{
	static const char *const lines[] = {
		/* Made at first sight, the watched code at 0 before its first exit. */
		"exitwatch_container_starts_total{" LBL_BACKEND "} 3",
		"exitwatch_container_failed_starts_total{" LBL_BACKEND "} 2",
		"exitwatch_container_exits_total{" LBL_BACKEND
		",exit_class=\"config_error\",code=\"3\"} 2",
		"exitwatch_container_exits_total{" LBL_BACKEND
		",exit_class=\"app_error\",code=\"1\"} 1",
		/* Another workload seen only running at start-up: everything at 0. */
		"exitwatch_container_starts_total{runtime=\"containerd\",namespace=\"jobs\","
		"workload=\"k8s:jobs/worker/app\"} 0",
		"exitwatch_container_failed_starts_total{runtime=\"containerd\",namespace=\"jobs\","
		"workload=\"k8s:jobs/worker/app\"} 0",
		"exitwatch_container_exits_total{runtime=\"containerd\",namespace=\"jobs\","
		"workload=\"k8s:jobs/worker/app\",exit_class=\"config_error\",code=\"3\"} 0",
	};
	struct ew_metrics *m = ew_metrics_new("v", false);
	struct ew_identity a, b, w;
	struct ew_buf buf;
	const char *t;

	assert_non_null(m);
	assert_int_equal(ew_metrics_watch_exit(m, EW_CLASS_CONFIG_ERROR, 3), 0);
	assert_int_equal(ew_metrics_watch_exit(m, EW_CLASS_CONFIG_ERROR, 3), 0); /* once */
	assert_int_equal(ew_metrics_watch_exit(m, EW_CLASS__COUNT, 3), -EINVAL);
	assert_int_equal(ew_metrics_watch_exit(m, EW_CLASS_APP_ERROR, 256), -EINVAL);
	k8s_id(&a, "prod", "backend-7d9f8b6c4d-aaaaa", BACKEND);
	k8s_id(&b, "prod", "backend-7d9f8b6c4d-bbbbb", BACKEND);
	k8s_id(&w, "jobs", "worker-0", "k8s:jobs/worker/app");
	start(m, &a, false);
	start(m, &w, true);
	t = render(m, &buf);
	check_lines(t,
		    (const char *const[]){"exitwatch_container_exits_total{" LBL_BACKEND
					  ",exit_class=\"config_error\",code=\"3\"} 0"},
		    1);
	ew_buf_free(&buf);
	exit_(m, &a, EW_CLASS_CONFIG_ERROR, 3, 0, true, false);
	start(m, &b, false); /* a replica: the same series */
	exit_(m, &b, EW_CLASS_CONFIG_ERROR, 3, 0, true, false);
	start(m, &a, false);
	exit_(m, &a, EW_CLASS_APP_ERROR, 1, 0, true, true);   /* after it succeeded: not failed */
	exit_(m, &w, EW_CLASS_APP_ERROR, 1, 0, false, false); /* its start unseen: not failed */
	t = render(m, &buf);
	check_lines(t, lines, ARRAY_SIZE(lines) - 1);
	check_lines(t,
		    (const char *const[]){"exitwatch_container_exits_total{runtime=\"containerd\","
					  "namespace=\"jobs\",workload=\"k8s:jobs/worker/app\","
					  "exit_class=\"app_error\",code=\"1\"} 1"},
		    1);
	assert_int_equal(count_prefix(t, "exitwatch_container_starts_total{"), 2);
	assert_int_equal(count_prefix(t, "exitwatch_container_exits_total{"), 4);
	/* First seen first: a stable exposition. */
	assert_true(strstr(t, BACKEND) < strstr(t, "k8s:jobs/worker/app"));
	ew_buf_free(&buf);
	ew_metrics_free(m);
}

static const struct fold_case {
	int code, sig;
	enum ew_exit_class cls;
	const char *label;
} fold_cases[] = {
	{0, 0, EW_CLASS_CLEAN, "0"},
	{3, 0, EW_CLASS_CONFIG_ERROR, "3"},
	{127, 0, EW_CLASS_NOT_FOUND, "127"},
	{137, 0, EW_CLASS_APP_ERROR, "137"},
	{42, 0, EW_CLASS_APP_ERROR, "other"},
	{255, 0, EW_CLASS_APP_ERROR, "other"},
	{0, SIGSEGV, EW_CLASS_CRASH, "SIGSEGV"},
	{0, SIGKILL, EW_CLASS_KILLED, "SIGKILL"},
	{0, SIGTERM, EW_CLASS_TERMINATED, "SIGTERM"},
	{0, SIGUSR1, EW_CLASS_CRASH, "other"},
	{0, 40, EW_CLASS_CRASH, "other"},
};

/* Codes past a small set fold into "other": the series per workload stay few. */
static void test_code_folding(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(fold_cases); i++) {
		const struct fold_case *c = &fold_cases[i];
		struct ew_metrics *m = ew_metrics_new("v", false);
		struct ew_identity id;
		struct ew_buf buf;
		char line[256];
		const char *t;

		k8s_id(&id, "prod", "p", BACKEND);
		exit_(m, &id, c->cls, c->code, c->sig, true, false);
		exit_(m, &id, c->cls, c->code, c->sig, true, false);
		snprintf(line, sizeof(line),
			 "exitwatch_container_exits_total{" LBL_BACKEND
			 ",exit_class=\"%s\",code=\"%s\"} 2",
			 ew_exit_class_name(c->cls), c->label);
		t = render(m, &buf);
		check_lines(t, (const char *const[]){line}, 1);
		assert_int_equal(count_prefix(t, "exitwatch_container_exits_total{"), 1);
		ew_buf_free(&buf);
		ew_metrics_free(m);
	}
}

/*
 * A watched code (an exit_code_burst code) that is none of the common ones keeps its own label:
 * its series, made at 0 when the workload is first seen, is the one its exits count in, not
 * "other" (an alert on code="42" would otherwise never see one). In any class: the rule counts
 * the code whatever the class.
 */
static void test_watched_code_kept(void **state)
{
	static const char *const lines[] = {
		"exitwatch_container_exits_total{" LBL_BACKEND
		",exit_class=\"config_error\",code=\"42\"} 2",
		"exitwatch_container_exits_total{" LBL_BACKEND
		",exit_class=\"terminated\",code=\"42\"} 1",
		"exitwatch_container_exits_total{" LBL_BACKEND
		",exit_class=\"app_error\",code=\"other\"} 1",
	};
	struct ew_metrics *m = ew_metrics_new("v", false);
	struct ew_identity id;
	struct ew_buf buf;
	const char *t;

	assert_non_null(m);
	assert_int_equal(ew_metrics_watch_exit(m, EW_CLASS_CONFIG_ERROR, 42), 0);
	k8s_id(&id, "prod", "p", BACKEND);
	start(m, &id, false);
	exit_(m, &id, EW_CLASS_CONFIG_ERROR, 42, 0, true, false);
	exit_(m, &id, EW_CLASS_CONFIG_ERROR, 42, 0, true, false);
	exit_(m, &id, EW_CLASS_TERMINATED, 42, 0, true, false);
	exit_(m, &id, EW_CLASS_APP_ERROR, 43, 0, true, false); /* not watched: folded */
	t = render(m, &buf);
	check_lines(t, lines, ARRAY_SIZE(lines));
	assert_int_equal(count_prefix(t, "exitwatch_container_exits_total{"), 3);
	ew_buf_free(&buf);
	ew_metrics_free(m);
}

/* At most MAX_WORKLOADS workloads; the rest, and one that calls itself _other_, are _other_. */
static void test_workload_cap(void **state)
{
	static const char *const lines[] = {
		"exitwatch_container_starts_total{runtime=\"containerd\",namespace=\"ns\","
		"workload=\"wl-0\"} 1",
		"exitwatch_container_starts_total{runtime=\"containerd\",namespace=\"ns\","
		"workload=\"wl-199\"} 1",
		"exitwatch_container_starts_total{runtime=\"_other_\",namespace=\"_other_\","
		"workload=\"_other_\"} 6",
		"exitwatch_container_exits_total{runtime=\"_other_\",namespace=\"_other_\","
		"workload=\"_other_\",exit_class=\"config_error\",code=\"3\"} 1",
	};
	struct ew_metrics *m = ew_metrics_new("v", false);
	struct ew_identity id;
	struct ew_buf buf;
	const char *t;

	ew_metrics_watch_exit(m, EW_CLASS_CONFIG_ERROR, 3);
	for (int i = 0; i < MAX_WORKLOADS + 5; i++) {
		char wl[32];

		snprintf(wl, sizeof(wl), "wl-%d", i);
		k8s_id(&id, "ns", wl, wl);
		start(m, &id, false);
	}
	k8s_id(&id, "ns", "x", "_other_");
	start(m, &id, false);
	exit_(m, &id, EW_CLASS_CONFIG_ERROR, 3, 0, true, false);
	t = render(m, &buf);
	check_lines(t, lines, ARRAY_SIZE(lines));
	assert_int_equal(count_prefix(t, "exitwatch_container_starts_total{"), MAX_WORKLOADS + 1);
	/* The cap says so: 5 starts past it (the one that calls itself _other_ is not). */
	check_lines(t,
		    (const char *const[]){"# TYPE exitwatch_workloads gauge",
					  "exitwatch_workloads 200",
					  "# TYPE exitwatch_workloads_overflow_total counter",
					  "exitwatch_workloads_overflow_total 5"},
		    4);
	check_no_prefix(t,
			"exitwatch_container_starts_total{runtime=\"containerd\",namespace=\"ns\","
			"workload=\"wl-200\"}");
	ew_buf_free(&buf);
	ew_metrics_free(m);
}

/* A workload's strings are escaped: a quote or a newline cannot forge a series; a backslash
 * is \\ (tests/test_metrics.c, test_label_bytes), escaped once more. */
static void test_hostile_names(void **state)
{
	struct ew_metrics *m = ew_metrics_new("v", false);
	struct ew_identity id;
	struct ew_buf buf;
	const char *t;

	k8s_id(&id, "n\"s", "p", "k8s:a\"b\nc\\d");
	start(m, &id, false);
	t = render(m, &buf);
	check_lines(t,
		    (const char *const[]){
			    "exitwatch_container_starts_total{runtime=\"containerd\","
			    "namespace=\"n\\\"s\",workload=\"k8s:a\\\"b\\nc\\\\\\\\d\"} 1"},
		    1);
	ew_buf_free(&buf);
	ew_metrics_free(m);
}

/* The metrics' clock: the agent's uptime, from its status once a second. */
static void tick(struct ew_metrics *m, uint64_t now_ns)
{
	struct ew_agent_status a = {.phase = "periodic", .uptime_ns = now_ns};

	ew_metrics_agent(m, &a);
}

static void finding(struct ew_metrics *m, const struct ew_identity *id, bool resolved)
{
	struct ew_finding f = {.rule = EW_RULE_CRASH_LOOP,
			       .scope = EW_SCOPE_IDENTITY,
			       .severity = resolved ? EW_SEV_NOTICE : EW_SEV_ERROR,
			       .resolved = resolved};
	struct ew_record r = {
		.type = resolved ? EW_REC_RESOLVED : EW_REC_FINDING, .id = id, .finding = &f};

	ew_metrics_record(m, &r);
}

static bool has_workload(const struct ew_metrics *m, const char *wl)
{
	char prefix[128];
	struct ew_buf buf;
	bool ret;

	snprintf(prefix, sizeof(prefix),
		 "exitwatch_container_starts_total{runtime=\"containerd\",namespace=\"ns\","
		 "workload=\"%s\"}",
		 wl);
	ret = count_prefix(render(m, &buf), prefix) == 1;
	ew_buf_free(&buf);
	return ret;
}

/*
 * A workload with no start or exit for IDLE_FORGET and no open finding is forgotten: its series
 * go (Prometheus ends them; a later start begins them again), so that churn does not fill the
 * cap with containers long gone.
 */
static void test_workload_forget(void **state)
{
	struct ew_metrics *m = ew_metrics_new("v", false);
	struct ew_identity a, b, c;
	struct ew_buf buf;
	const char *t;

	k8s_id(&a, "ns", "a", "wl-a");
	k8s_id(&b, "ns", "b", "wl-b");
	k8s_id(&c, "ns", "c", "wl-c");
	tick(m, SEC(10));
	start(m, &a, false);
	start(m, &b, false);
	start(m, &c, false);
	finding(m, &c, false); /* c's crash_loop is open */
	tick(m, SEC(1800));
	exit_(m, &b, EW_CLASS_APP_ERROR, 1, 0, true, true); /* b was busy later */
	tick(m, SEC(10) + IDLE_FORGET - 1);
	assert_true(has_workload(m, "wl-a"));
	tick(m, SEC(10) + IDLE_FORGET);
	assert_false(has_workload(m, "wl-a")); /* idle an hour: gone */
	assert_true(has_workload(m, "wl-b"));
	assert_true(has_workload(m, "wl-c"));
	t = render(m, &buf);
	check_lines(t, (const char *const[]){"exitwatch_workloads 2"}, 1);
	check_no_prefix(t, "exitwatch_container_exits_total{runtime=\"containerd\","
			   "namespace=\"ns\",workload=\"wl-a\"");
	ew_buf_free(&buf);
	tick(m, SEC(1800) + IDLE_FORGET);
	assert_false(has_workload(m, "wl-b"));
	assert_true(has_workload(m, "wl-c")); /* its finding is still open */
	tick(m, SEC(4 * 3600));
	assert_true(has_workload(m, "wl-c"));
	finding(m, &c, true);
	tick(m, SEC(4 * 3600) + SEC(61));
	assert_false(has_workload(m, "wl-c")); /* resolved, idle for hours: gone */

	/* Seen again: a new series, from its first start. */
	start(m, &a, false);
	t = render(m, &buf);
	check_lines(t,
		    (const char *const[]){"exitwatch_container_starts_total{runtime=\"containerd\","
					  "namespace=\"ns\",workload=\"wl-a\"} 1",
					  "exitwatch_workloads 1"},
		    2);
	ew_buf_free(&buf);
	ew_metrics_free(m);
}

/* Churn past the cap: the gone ones make room, so new workloads get series of their own. */
static void test_workload_churn(void **state)
{
	struct ew_metrics *m = ew_metrics_new("v", false);
	struct ew_identity id;
	struct ew_buf buf;
	const char *t;

	for (int round = 0; round < 3; round++) {
		tick(m, (uint64_t)round * (IDLE_FORGET + SEC(1)));
		for (int i = 0; i < MAX_WORKLOADS; i++) {
			char wl[32];

			snprintf(wl, sizeof(wl), "r%d-%d", round, i);
			k8s_id(&id, "ns", wl, wl);
			start(m, &id, false);
			exit_(m, &id, EW_CLASS_APP_ERROR, 1, 0, true, false);
		}
	}
	t = render(m, &buf);
	check_no_prefix(t, "exitwatch_container_starts_total{runtime=\"_other_\"");
	assert_int_equal(count_prefix(t, "exitwatch_container_starts_total{"), MAX_WORKLOADS);
	assert_true(has_line(t, "exitwatch_container_starts_total{runtime=\"containerd\","
				"namespace=\"ns\",workload=\"r2-199\"} 1"));
	check_lines(t,
		    (const char *const[]){"exitwatch_workloads 200",
					  "exitwatch_workloads_overflow_total 0"},
		    2);
	ew_buf_free(&buf);
	ew_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_workload_series),	  cmocka_unit_test(test_code_folding),
		cmocka_unit_test(test_watched_code_kept), cmocka_unit_test(test_workload_cap),
		cmocka_unit_test(test_hostile_names),	  cmocka_unit_test(test_workload_forget),
		cmocka_unit_test(test_workload_churn),
	};

	return cmocka_run_group_tests_name("workloads", tests, NULL, NULL);
}
