// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cli/config.c: the cross-field checks of ew_config_validate(), case by case over the defaults
 * (which pass): each rule's windows and quiet periods, crash_loop's count and quiet period, and
 * a disabled rule, whose values nothing reads.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "exitwatch/cli/config.h"
#include "exitwatch/util/util.h"

enum spoil {
	S_NONE,
	S_BURST_WINDOW_0,
	S_BURST_RESOLVE_0,
	S_RATE_RESOLVE_0,
	S_STARTUP_FLAPS,
	S_STABLE_UPTIME_0,
	S_LOOP_COUNT_0,
	S_LOOP_RESOLVE_0,
	S_LOOP_RESOLVE_0_OFF,
	S_CHECKPOINT_0,
};

static void spoil(struct ew_config *c, enum spoil s)
{
	struct ew_rule_config *r = c->detect.rules;

	switch (s) {
	case S_NONE:
		break;
	case S_BURST_WINDOW_0:
		r[EW_RULE_EXIT_CODE_BURST].window_ns = 0;
		break;
	case S_BURST_RESOLVE_0:
		r[EW_RULE_EXIT_CODE_BURST].resolve_ns = 0;
		break;
	case S_RATE_RESOLVE_0:
		r[EW_RULE_RESTART_RATE].resolve_ns = 0;
		break;
	case S_STARTUP_FLAPS:
		r[EW_RULE_STARTUP_FAILURE_RATE].resolve_success_percent = 90;
		break;
	case S_STABLE_UPTIME_0:
		r[EW_RULE_STABLE].uptime_ns = 0;
		break;
	case S_LOOP_COUNT_0:
		r[EW_RULE_CRASH_LOOP].count = 0;
		break;
	case S_LOOP_RESOLVE_0:
		r[EW_RULE_CRASH_LOOP].resolve_ns = 0;
		break;
	case S_LOOP_RESOLVE_0_OFF:
		r[EW_RULE_CRASH_LOOP].resolve_ns = 0;
		r[EW_RULE_CRASH_LOOP].enabled = false;
		break;
	case S_CHECKPOINT_0:
		c->checkpoint_interval_ns = 0;
		break;
	}
}

static void test_validate_table(void **state)
{
	static const struct {
		enum spoil s;
		const char *msg; /* NULL: valid */
	} cases[] = {
		{S_NONE, NULL},
		{S_BURST_WINDOW_0, "[rule.exit_code_burst] window: must be longer than 0"},
		{S_BURST_RESOLVE_0, "[rule.exit_code_burst] resolve: must be longer than 0"},
		{S_RATE_RESOLVE_0, "[rule.restart_rate] resolve: must be longer than 0"},
		{S_STARTUP_FLAPS, "[rule.startup_failure_rate] resolve_success_percent: 90.0 would "
				  "resolve while the failure rate still exceeds fail_percent 5.0"},
		{S_STABLE_UPTIME_0, "[rule.stable] uptime: must be longer than 0"},
		{S_LOOP_COUNT_0,
		 "[rule.crash_loop] count: must be at least 1 (failed starts in a row)"},
		{S_LOOP_RESOLVE_0, "[rule.crash_loop] resolve: must be longer than 0"},
		{S_LOOP_RESOLVE_0_OFF, NULL},
		{S_CHECKPOINT_0, "[agent] checkpoint_interval: must be longer than 0"},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ew_config c;
		char err[256] = "";
		int r;

		ew_config_init(&c);
		spoil(&c, cases[i].s);
		r = ew_config_validate(&c, err, sizeof(err));
		if (!cases[i].msg) {
			if (r)
				fail_msg("case %zu: want valid, got %d (%s)", i, r, err);
		} else {
			if (r != -EINVAL)
				fail_msg("case %zu: want -EINVAL, got %d", i, r);
			if (!strstr(err, cases[i].msg))
				fail_msg("case %zu: want \"%s\", got \"%s\"", i, cases[i].msg, err);
		}
		ew_config_free(&c);
	}
}

/* The defaults' crash_loop quiet period: an hour, above any runtime's restart back-off. */
static void test_crash_loop_default_resolve(void **state)
{
	struct ew_config c;

	(void)state;
	ew_config_init(&c);
	assert_int_equal(c.detect.rules[EW_RULE_CRASH_LOOP].resolve_ns, 3600ULL * EW_NSEC_PER_SEC);
	ew_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate_table),
		cmocka_unit_test(test_crash_loop_default_resolve),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
