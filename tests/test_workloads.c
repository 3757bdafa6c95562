// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests for src/metrics/workloads.c through the metrics API: the per-workload starts, failed
 * starts and exits a cluster's Prometheus sums across nodes. Exact exposition lines: labels,
 * series made at 0 when a workload is first seen, codes folded into "other", the workload cap.
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

#define MAX_WORKLOADS 200 /* EW_METRICS_MAX_WORKLOADS in metrics.c */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_workload_series),
		cmocka_unit_test(test_code_folding),
		cmocka_unit_test(test_workload_cap),
		cmocka_unit_test(test_hostile_names),
	};

	return cmocka_run_group_tests_name("workloads", tests, NULL, NULL);
}
