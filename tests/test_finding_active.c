// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests for src/metrics/active.c through the metrics API: exitwatch_finding_active is 1 while a
 * finding is open and 0 once it resolved, one series per (rule, workload, identity), bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "exitwatch/metrics/metrics.h"
#include "exitwatch/util/buf.h"
#include "exitwatch/util/util.h"
#include "metrics_fixture.h"

#define MAX_ACTIVE 1000 /* EW_ACTIVE_MAX in active.c */

static void ident(struct ew_identity *id, const char *key, const char *wl)
{
	make_id(id, EW_RT_DOCKER, "", "", "c", "c");
	ew_strlcpy(id->key, key, sizeof(id->key));
	ew_strlcpy(id->workload, wl, sizeof(id->workload));
}

static void note(struct ew_metrics *m, const struct ew_identity *id, enum ew_rule rule,
		 enum ew_scope scope, enum ew_severity sev, bool resolved)
{
	struct ew_finding f = {.rule = rule,
			       .scope = scope,
			       .severity = resolved ? EW_SEV_NOTICE : sev,
			       .resolved = resolved};
	struct ew_record r = {
		.type = resolved ? EW_REC_RESOLVED : EW_REC_FINDING, .id = id, .finding = &f};

	ew_metrics_record(m, &r);
}

static void test_open_then_resolved(void **state)
{
	struct ew_metrics *m = ew_metrics_new("v", false);
	struct ew_identity a, b;
	struct ew_buf buf;
	const char *t;

	ident(&a, "docker:aaa", "compose:shop/api");
	ident(&b, "docker:bbb", "compose:shop/api");
	note(m, &a, EW_RULE_RESTART_RATE, EW_SCOPE_IDENTITY, EW_SEV_WARNING, false);
	note(m, &b, EW_RULE_EXIT_CODE_BURST, EW_SCOPE_WORKLOAD, EW_SEV_CRITICAL, false);
	note(m, &a, EW_RULE_STABLE, EW_SCOPE_IDENTITY, EW_SEV_NOTICE, false);	/* a milestone */
	note(m, &b, EW_RULE_CRASH_LOOP, EW_SCOPE_IDENTITY, EW_SEV_ERROR, true); /* never open */
	t = render(m, &buf);
	check_lines(
		t,
		(const char *const[]){
			"# TYPE exitwatch_finding_active gauge",
			"exitwatch_finding_active{rule=\"restart_rate\",severity=\"WARNING\","
			"workload=\"compose:shop/api\",identity=\"docker:aaa\"} 1",
			/* Workload scope: the subject changes, the series does not. */
			"exitwatch_finding_active{rule=\"exit_code_burst\",severity=\"CRITICAL\","
			"workload=\"compose:shop/api\",identity=\"\"} 1",
			"exitwatch_finding_active_dropped_total 0",
		},
		4);
	assert_int_equal(count_prefix(t, "exitwatch_finding_active{"), 2);
	ew_buf_free(&buf);

	/* Resolved: 0, with the severity it fired with; a new episode is 1 again. */
	note(m, &a, EW_RULE_RESTART_RATE, EW_SCOPE_IDENTITY, EW_SEV_WARNING, true);
	note(m, &a, EW_RULE_EXIT_CODE_BURST, EW_SCOPE_WORKLOAD, EW_SEV_CRITICAL, true);
	t = render(m, &buf);
	check_lines(
		t,
		(const char *const[]){
			"exitwatch_finding_active{rule=\"restart_rate\",severity=\"WARNING\","
			"workload=\"compose:shop/api\",identity=\"docker:aaa\"} 0",
			"exitwatch_finding_active{rule=\"exit_code_burst\",severity=\"CRITICAL\","
			"workload=\"compose:shop/api\",identity=\"\"} 0",
		},
		2);
	ew_buf_free(&buf);
	note(m, &a, EW_RULE_RESTART_RATE, EW_SCOPE_IDENTITY, EW_SEV_WARNING, false);
	t = render(m, &buf);
	check_lines(t,
		    (const char *const[]){
			    "exitwatch_finding_active{rule=\"restart_rate\",severity=\"WARNING\","
			    "workload=\"compose:shop/api\",identity=\"docker:aaa\"} 1"},
		    1);
	assert_int_equal(count_prefix(t, "exitwatch_finding_active{"), 2);
	ew_buf_free(&buf);
	ew_metrics_free(m);
}

/* Bounded: a resolved series makes room; when all are open, the new one is counted dropped. */
static void test_cap(void **state)
{
	struct ew_metrics *m = ew_metrics_new("v", false);
	struct ew_identity id;
	struct ew_buf buf;
	const char *t;
	char key[32];

	for (int i = 0; i < MAX_ACTIVE; i++) {
		snprintf(key, sizeof(key), "docker:%d", i);
		ident(&id, key, key);
		note(m, &id, EW_RULE_CRASH_LOOP, EW_SCOPE_IDENTITY, EW_SEV_ERROR, false);
	}
	ident(&id, "docker:new", "docker:new");
	note(m, &id, EW_RULE_CRASH_LOOP, EW_SCOPE_IDENTITY, EW_SEV_ERROR, false);
	t = render(m, &buf);
	check_lines(t, (const char *const[]){"exitwatch_finding_active_dropped_total 1"}, 1);
	check_no_prefix(t, "exitwatch_finding_active{rule=\"crash_loop\",severity=\"ERROR\","
			   "workload=\"docker:new\"");
	ew_buf_free(&buf);

	ident(&id, "docker:7", "docker:7");
	note(m, &id, EW_RULE_CRASH_LOOP, EW_SCOPE_IDENTITY, EW_SEV_ERROR, true);
	ident(&id, "docker:new", "docker:new");
	note(m, &id, EW_RULE_CRASH_LOOP, EW_SCOPE_IDENTITY, EW_SEV_ERROR, false);
	t = render(m, &buf);
	assert_int_equal(count_prefix(t, "exitwatch_finding_active{"), MAX_ACTIVE);
	check_no_prefix(t, "exitwatch_finding_active{rule=\"crash_loop\",severity=\"ERROR\","
			   "workload=\"docker:7\"");
	check_lines(t,
		    (const char *const[]){
			    "exitwatch_finding_active{rule=\"crash_loop\",severity=\"ERROR\","
			    "workload=\"docker:new\",identity=\"docker:new\"} 1",
			    "exitwatch_finding_active_dropped_total 1"},
		    2);
	ew_buf_free(&buf);
	ew_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_then_resolved),
		cmocka_unit_test(test_cap),
	};

	return cmocka_run_group_tests_name("finding_active", tests, NULL, NULL);
}
