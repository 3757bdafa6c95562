// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * detect/detector.c, the facade: the configuration's defaults and the names, identities seeded
 * with the runtime's restart count, the memory bounds (eviction, idle identities forgotten), an
 * empty detector, and determinism (the same events twice give the same findings and state). In
 * virtual time (tests/detector_fixture.h); the rules, events, evidence, window and the state's
 * export and import have their own files.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exitwatch/detect/detector.h"
#include "exitwatch/util/buf.h"
#include "exitwatch/util/util.h"
#include "detector_fixture.h"

/* ---- seeded restart counts ---- */

static void test_seed_restarts(void **state)
{
	struct fx *fx = *state;
	struct ew_startup su;

	ew_detector_seed_restarts(det(fx), &fx->ids[0], 0); /* nothing to say */
	su = feed(fx, OP_START, 0, 0, 0, 0);
	assert_true(su.known);
	assert_int_equal(su.restarts, 0);

	ew_detector_seed_restarts(det(fx), &fx->ids[1], 2);
	su = feed(fx, OP_START, 1, 10, 0, 0);
	assert_true(su.known);
	assert_int_equal(su.restarts, 3);
	feed(fx, OP_EXIT, 1, 11, 1, 0);
	feed(fx, OP_START, 1, 20, 0, 0);
	feed(fx, OP_EXIT, 1, 21, 1, 0);
	feed(fx, OP_START, 1, 30, 0, 0);
	feed(fx, OP_EXIT, 1, 31, 1, 0);
	assert_int_equal(count_rule(&fx->sk, EW_RULE_RESTART_RATE, false), 0);
	su = feed(fx, OP_START, 1, 40, 0, 0);
	assert_int_equal(su.restarts, 6);
	assert_int_equal(count_rule(&fx->sk, EW_RULE_RESTART_RATE, false), 1);

	/* A seeded start is found running: not a restart, even when the runtime counted some. */
	ew_detector_seed_restarts(det(fx), &fx->ids[2], 5);
	su = feed(fx, OP_SEEDED, 2, 50, 0, 0);
	assert_false(su.known);
	assert_int_equal(su.restarts, 5);
	su = feed(fx, OP_EXIT, 2, 60, 1, 0);
	assert_false(su.known);
	su = feed(fx, OP_START, 2, 70, 0, 0);
	assert_true(su.known);
	assert_int_equal(su.restarts, 6);
}

/* ---- memory bounds ---- */

static void test_eviction_bounded(void **state)
{
	struct fx *fx = *state;
	struct ew_startup su;

	fx->cfg.max_identities = 10;
	for (int i = 0; i < 50; i++) {
		feed(fx, OP_EXIT, 20 + i, (double)i, 1, 0);
		CHECK_EQ("idle", "identities", i < 10 ? (uint32_t)i + 1 : 10,
			 ew_detector_identities(fx->d));
	}
	/* The 10 most recent are remembered: their next start is a restart. */
	su = feed(fx, OP_START, 20 + 49, 100, 0, 0);
	assert_int_equal(su.restarts, 1);
	su = feed(fx, OP_START, 20 + 40, 101, 0, 0);
	assert_int_equal(su.restarts, 1);
	su = feed(fx, OP_START, 20 + 5, 102, 0, 0);
	assert_int_equal(su.restarts, 0);
	assert_int_equal(ew_detector_identities(fx->d), 10);
}

static void test_eviction_keeps_busy(void **state)
{
	struct fx *fx = *state;
	struct ew_startup su;

	fx->cfg.max_identities = 10;
	for (int i = 0; i < 5; i++)
		feed(fx, OP_START, i, 0, 0, 0); /* running */
	for (int i = 0; i < 5; i++) {		/* restart_rate opens an episode */
		feed(fx, OP_START, 5, 1 + 10.0 * i, 0, 0);
		feed(fx, OP_READY, 5, 2 + 10.0 * i, 0, 0);
		feed(fx, OP_EXIT, 5, 3 + 10.0 * i, 1, 0);
	}
	assert_int_equal(ew_detector_active(fx->d), 1);
	for (int i = 0; i < 50; i++)
		feed(fx, OP_EXIT, 20 + i, 100 + (double)i, 1, 0);
	assert_int_equal(ew_detector_identities(fx->d), 10);
	for (int i = 0; i < 5; i++) {
		su = feed(fx, OP_EXIT, i, 200, 1, 0);
		assert_true(su.known);
		assert_true(su.succeeded);
	}
	advance(fx, AT(10 * 3600));
	{
		const struct want w[] = {W_RATE(41, 4, 5), W_RATE_R(3641, 4, 5)};

		check_wants("busy", &fx->sk, fx->ids, ALL_RULES, w, ARRAY_SIZE(w));
	}
}

static void test_idle_forget(void **state)
{
	struct fx *fx = *state;

	for (int i = 0; i < 5; i++)
		feed(fx, OP_EXIT, 20 + i, 0, 1, 0);
	feed(fx, OP_START, 0, 0, 0, 0);
	feed(fx, OP_START, 1, 0, 0, 0);
	advance(fx, AT(24 * 3600) - 1);
	assert_int_equal(ew_detector_identities(fx->d), 7);
	advance(fx, AT(24 * 3600));
	assert_int_equal(ew_detector_identities(fx->d), 2);
	assert_true(feed(fx, OP_EXIT, 0, 24 * 3600 + 1, 1, 0).known);
}

/* ---- determinism ---- */

static size_t random_steps(struct step *st, size_t max, uint64_t seed)
{
	static const int16_t codes[] = {3, 3, 3, 1, 0, 2, 3, 137};
	bool running[16] = {false};
	int64_t t = 0;
	size_t n = 0;

	while (n + 2 < max) {
		int who = (int)(rng_next(&seed) % 6) + (rng_next(&seed) % 2 ? 10 : 0);

		t += (int64_t)(rng_next(&seed) % 90000);
		toggle_step(st, &n, running, who, &t, &seed, 4, codes, ARRAY_SIZE(codes));
	}
	st[n++] = (struct step){OP_ADVANCE, 0, 0, 0, t + 30LL * 3600 * 1000};
	return n;
}

static void test_determinism(void **state)
{
	struct fx *fx = *state;
	static struct step st[2000];
	size_t n = random_steps(st, ARRAY_SIZE(st), 42);
	struct ew_detector *a = ew_detector_new(&fx->cfg), *b = ew_detector_new(&fx->cfg);
	struct sink ska = {0}, skb = {0};
	struct ew_buf ba, bb;
	uint32_t per_rule[EW_RULE__COUNT] = {0};

	run_on(fx, a, &ska, st, n);
	fx->next_pid = 1000;
	run_on(fx, b, &skb, st, n);
	check_same_findings("twice", &ska, &skb);
	for (size_t i = 0; i < ska.n; i++)
		per_rule[ska.v[i].f.rule]++;
	assert_true(per_rule[EW_RULE_EXIT_CODE_BURST] >= 2);
	assert_true(per_rule[EW_RULE_RESTART_RATE] >= 2);
	assert_true(per_rule[EW_RULE_STARTUP_FAILURE_RATE] >= 2);
	state_dump(a, &ba);
	state_dump(b, &bb);
	assert_string_equal(ba.data, bb.data);
	ew_buf_free(&ba);
	ew_buf_free(&bb);
	ew_detector_free(a);
	ew_detector_free(b);
	sink_clear(&ska);
	sink_clear(&skb);
}

/* ---- configuration and names ---- */

static void test_config_defaults_and_names(void **state)
{
	struct ew_detector_config c;
	static const struct {
		enum ew_rule rule;
		const char *name;
		enum ew_scope scope;
		enum ew_severity sev;
	} rules[] = {
		{EW_RULE_EXIT_CODE_BURST, "exit_code_burst", EW_SCOPE_WORKLOAD, EW_SEV_CRITICAL},
		{EW_RULE_RESTART_RATE, "restart_rate", EW_SCOPE_IDENTITY, EW_SEV_WARNING},
		{EW_RULE_STARTUP_FAILURE_RATE, "startup_failure_rate", EW_SCOPE_WORKLOAD,
		 EW_SEV_INFO},
		{EW_RULE_STABLE, "stable", EW_SCOPE_IDENTITY, EW_SEV_NOTICE},
	};

	(void)state;
	ew_detector_config_default(&c);
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		assert_string_equal(ew_rule_name(rules[i].rule), rules[i].name);
		assert_int_equal(ew_rule_parse(rules[i].name), rules[i].rule);
		assert_true(c.rules[rules[i].rule].enabled);
		assert_int_equal(c.rules[rules[i].rule].scope, rules[i].scope);
		assert_int_equal(c.rules[rules[i].rule].severity, rules[i].sev);
	}
	assert_int_equal(ew_rule_parse("restart-rate"), -EINVAL);
	assert_int_equal(ew_rule_parse(""), -EINVAL);
	assert_string_equal(ew_rule_name(EW_RULE__COUNT), "unknown");
	assert_string_equal(ew_scope_name(EW_SCOPE_WORKLOAD), "workload");
	assert_string_equal(ew_scope_name(EW_SCOPE_IDENTITY), "identity");
	assert_int_equal(c.rules[EW_RULE_EXIT_CODE_BURST].count, 3);
	assert_int_equal(c.rules[EW_RULE_EXIT_CODE_BURST].window_ns, SEC(300));
	assert_int_equal(c.rules[EW_RULE_EXIT_CODE_BURST].resolve_ns, SEC(600));
	assert_true(ew_rule_has_code(&c.rules[EW_RULE_EXIT_CODE_BURST], 3));
	assert_false(ew_rule_has_code(&c.rules[EW_RULE_EXIT_CODE_BURST], 1));
	assert_false(ew_rule_has_code(&c.rules[EW_RULE_EXIT_CODE_BURST], -1));
	assert_false(ew_rule_has_code(&c.rules[EW_RULE_EXIT_CODE_BURST], 256));
	assert_int_equal(c.rules[EW_RULE_RESTART_RATE].count, 3);
	assert_int_equal(c.rules[EW_RULE_RESTART_RATE].window_ns, SEC(3600));
	assert_int_equal(c.rules[EW_RULE_RESTART_RATE].resolve_ns, SEC(3600));
	CHECK_DBL("defaults", "fail%", 5, c.rules[EW_RULE_STARTUP_FAILURE_RATE].fail_percent);
	CHECK_DBL("defaults", "success%", 99,
		  c.rules[EW_RULE_STARTUP_FAILURE_RATE].resolve_success_percent);
	assert_int_equal(c.rules[EW_RULE_STARTUP_FAILURE_RATE].min_starts, 5);
	assert_int_equal(c.rules[EW_RULE_STARTUP_FAILURE_RATE].window_ns, SEC(3600));
	assert_int_equal(c.rules[EW_RULE_STABLE].uptime_ns, SEC(4 * 3600));
	assert_int_equal(c.startup_grace_ns, SEC(60));
	assert_int_equal(c.tail_max, 2048);
}

static void test_empty_detector(void **state)
{
	struct fx *fx = *state;
	struct ew_buf da, db;
	struct ew_detector *b = ew_detector_new(&fx->cfg);
	char err[128] = "";

	assert_int_equal(ew_detector_identities(det(fx)), 0);
	assert_int_equal(ew_detector_active(fx->d), 0);
	assert_int_equal(ew_detector_next_deadline(fx->d), UINT64_MAX);
	advance(fx, AT(1e6));
	assert_int_equal(fx->sk.n, 0);
	assert_int_equal(state_copy(fx->d, b, err, sizeof(err)), 0);
	state_dump(fx->d, &da);
	state_dump(b, &db);
	assert_string_equal(da.data, db.data);
	assert_empty_and_usable(fx, b, "imported empty");
	ew_detector_free(NULL);
	ew_buf_free(&da);
	ew_buf_free(&db);
	ew_detector_free(b);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_seed_restarts),	T(test_eviction_bounded), T(test_eviction_keeps_busy),
		T(test_idle_forget),	T(test_determinism),	  T(test_config_defaults_and_names),
		T(test_empty_detector),
	};

	return cmocka_run_group_tests_name("detector", tests, NULL, NULL);
}
