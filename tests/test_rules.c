// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * detect/rules.c: when each rule fires and resolves (exit_code_burst, restart_rate,
 * startup_failure_rate, the stable milestone) and the deadlines that drive them, in virtual time
 * (tests/detector_fixture.h): every event carries its own time and ew_detector_advance() moves
 * the clock, so each case states exactly when a finding fires or resolves.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exitwatch/detect/detector.h"
#include "exitwatch/util/util.h"
#include "detector_fixture.h"

/* ---- exit_code_burst ---- */

static const struct scenario burst_cases[] = {
	{"three code-3 exits in 5m: nothing", ALL_RULES,
	 STEPS(X(0, 0, 3), X(0, 60, 3), X(0, 120, 3), ADV(7200)), NONE},
	{"4th at 4m59s fires at that exit, resolves 10m later", ALL_RULES,
	 STEPS(X(0, 0, 3), X(0, 100, 3), X(0, 200, 3), X(0, 299, 3), ADV(7200)),
	 WANTS(W_BURST(299, 4, 0), W_BURST_R(899, 4, 0))},
	{"4th at 4m59.999s fires", RULE(EW_RULE_EXIT_CODE_BURST),
	 STEPS(X(0, 0, 3), X(0, 100, 3), X(0, 200, 3), X(0, 299.999, 3)),
	 WANTS(W_BURST(299.999, 4, 0))},
	{"4th at exactly 5m: the first left the window (now-5m, now]", ALL_RULES,
	 STEPS(X(0, 0, 3), X(0, 100, 3), X(0, 200, 3), X(0, 300, 3), ADV(7200)), NONE},
	{"4 spread over 5m01s: nothing", ALL_RULES,
	 STEPS(X(0, 0, 3), X(0, 120, 3), X(0, 240, 3), X(0, 301, 3), ADV(7200)), NONE},
	{"the window slides: 5th at 5m01s makes 4 in (1s, 301s]", RULE(EW_RULE_EXIT_CODE_BURST),
	 STEPS(X(0, 0, 3), X(0, 100, 3), X(0, 200, 3), X(0, 300, 3), X(0, 301, 3)),
	 WANTS(W_BURST(301, 4, 0))},
	{"code 1 does not count", ALL_RULES,
	 STEPS(X(0, 0, 1), X(0, 10, 1), X(0, 20, 1), X(0, 30, 1), X(0, 40, 1), ADV(7200)), NONE},
	{"signals do not count", ALL_RULES,
	 STEPS(XSIG(0, 0, SIGSEGV), XSIG(0, 10, SIGKILL), XSIG(0, 20, SIGTERM), X(0, 30, 3),
	       X(0, 40, 3), X(0, 50, 3), XSIG(0, 60, SIGABRT), ADV(7200)),
	 NONE},
	{"only code 3 is counted among mixed exits", RULE(EW_RULE_EXIT_CODE_BURST),
	 STEPS(X(0, 0, 3), X(0, 10, 1), X(0, 20, 3), X(0, 30, 1), X(0, 40, 3), X(0, 50, 1),
	       X(0, 60, 3), ADV(7200)),
	 WANTS(W_BURST(60, 4, 0), W_BURST_R(660, 4, 0))},
	{"replicas of one workload count together", RULE(EW_RULE_EXIT_CODE_BURST),
	 STEPS(X(10, 0, 3), X(11, 10, 3), X(12, 20, 3), X(11, 30, 3), ADV(7200)),
	 WANTS(W_BURST(30, 4, 11), W_BURST_R(630, 4, 11))},
	{"two workloads never mix", ALL_RULES,
	 STEPS(X(0, 0, 3), X(1, 10, 3), X(0, 20, 3), X(1, 30, 3), X(10, 40, 3), X(14, 50, 3),
	       X(0, 60, 3), X(1, 70, 3), ADV(7200)),
	 NONE},
	{"a 5th exit extends the episode: one finding, total 5", ALL_RULES,
	 STEPS(X(0, 0, 3), X(0, 60, 3), X(0, 120, 3), X(0, 180, 3), X(0, 480, 3), X(0, 900, 1),
	       ADV(7200)),
	 WANTS(W_BURST(180, 4, 0), W_BURST_R(1080, 5, 0))},
	{"a new burst after the resolution is a new finding", RULE(EW_RULE_EXIT_CODE_BURST),
	 STEPS(X(0, 0, 3), X(0, 60, 3), X(0, 120, 3), X(0, 180, 3), X(0, 1000, 3), X(0, 1010, 3),
	       X(0, 1020, 3), X(0, 1030, 3), ADV(7200)),
	 WANTS(W_BURST(180, 4, 0), W_BURST_R(780, 4, 0), W_BURST(1030, 4, 0),
	       W_BURST_R(1630, 4, 0))},
	{"an exit at the resolution deadline comes after the resolution",
	 RULE(EW_RULE_EXIT_CODE_BURST),
	 STEPS(X(0, 0, 3), X(0, 60, 3), X(0, 120, 3), X(0, 180, 3), X(0, 780, 3), X(0, 790, 3),
	       X(0, 800, 3), X(0, 810, 3), ADV(7200)),
	 WANTS(W_BURST(180, 4, 0), W_BURST_R(780, 4, 0), W_BURST(810, 4, 0),
	       W_BURST_R(1410, 4, 0))},
	{"one ns before the quiet period ends: still open", ALL_RULES,
	 STEPS(X(0, 0, 3), X(0, 60, 3), X(0, 120, 3), X(0, 180, 3), ADV(779.999)),
	 WANTS(W_BURST(180, 4, 0))},
};

static void test_burst_table(void **state)
{
	run_scenarios(*state, burst_cases, ARRAY_SIZE(burst_cases));
}

static void test_burst_finding_fields(void **state)
{
	struct fx *fx = *state;
	const struct ew_finding *f;
	char fired_id[24];

	fx->tail = "boot\nModuleNotFoundError: No module named 'x'\n";
	feed(fx, OP_EXIT, 10, 0, 3, 0);
	feed(fx, OP_EXIT, 11, 40, 3, 0);
	feed(fx, OP_EXIT, 10, 100, 3, 0);
	assert_int_equal(fx->sk.n, 0);
	feed(fx, OP_EXIT, 11, 130.5, 3, 0);
	assert_int_equal(fx->sk.n, 1);
	assert_int_equal(ew_detector_active(fx->d), 1);
	f = &fx->sk.v[0].f;
	assert_int_equal(f->rule, EW_RULE_EXIT_CODE_BURST);
	assert_false(f->resolved);
	assert_int_equal(f->severity, EW_SEV_CRITICAL);
	assert_int_equal(f->scope, EW_SCOPE_WORKLOAD);
	assert_true(finding_id_ok(f->finding_id));
	assert_int_equal(f->time_ns, AT_MS(130500));
	assert_string_equal(fx->sk.v[0].key, fx->ids[11].key);
	assert_int_equal(f->identities, 2);
	assert_int_equal(f->count, 4);
	assert_int_equal(f->threshold, 3);
	assert_int_equal(f->window_ns, SEC(300));
	assert_int_equal(f->first_ns, AT(0));
	assert_int_equal(f->last_ns, AT_MS(130500));
	/* Intervals are per identity: 10 at 0 and 100, 11 at 40 and 130.5. */
	assert_int_equal(f->intervals, 2);
	CHECK_DBL("burst", "median", 95.25, f->interval_median_s);
	CHECK_DBL("burst", "min", 90.5, f->interval_min_s);
	CHECK_DBL("burst", "max", 100.0, f->interval_max_s);
	assert_int_equal(f->nhist, 1);
	assert_int_equal(f->hist[0].code, 3);
	assert_int_equal(f->hist[0].signal, 0);
	assert_int_equal(f->hist[0].count, 4);
	assert_true(f->has_last_exit);
	assert_int_equal(f->last_class, EW_CLASS_CONFIG_ERROR);
	assert_int_equal(f->last_code, 3);
	assert_int_equal(f->last_signal, 0);
	assert_int_equal(f->last_exit_ns, AT_MS(130500));
	assert_int_equal(f->tail_len, strlen(fx->tail));
	assert_memory_equal(fx->sk.v[0].tail, fx->tail, f->tail_len);
	assert_false(f->degraded);
	assert_int_equal(f->starts, 0);
	assert_int_equal(f->fired_ns, 0);
	assert_int_equal(f->total, 0);
	ew_strlcpy(fired_id, f->finding_id, sizeof(fired_id));

	/* The quiet period runs from the last counted exit: 130.5 + 600. */
	advance(fx, AT_MS(730500) - 1);
	assert_int_equal(fx->sk.n, 1);
	assert_int_equal(ew_detector_next_deadline(fx->d), AT_MS(730500));
	advance(fx, AT(5000));
	assert_int_equal(fx->sk.n, 2);
	f = &fx->sk.v[1].f;
	assert_true(f->resolved);
	assert_int_equal(f->rule, EW_RULE_EXIT_CODE_BURST);
	assert_int_equal(f->severity, EW_SEV_NOTICE);
	assert_string_equal(f->finding_id, fired_id);
	assert_int_equal(f->time_ns, AT_MS(730500));
	assert_int_equal(f->fired_ns, AT_MS(130500));
	assert_int_equal(f->duration_ns, SEC(600));
	assert_int_equal(f->total, 4);
	assert_int_equal(f->count, 0);
	assert_string_equal(fx->sk.v[1].key, fx->ids[11].key);
	assert_int_equal(ew_detector_active(fx->d), 0);
}

/*
 * Exits alternately 80 s and 130 s apart: the window holds 4 at some exits and 3 at others.
 * Firing needs more than 3 in 5 minutes, resolving needs none for 10: one finding for the hour
 * and one resolution after the exits stop.
 */
static void test_burst_no_flapping(void **state)
{
	struct fx *fx = *state;
	uint64_t t[64];
	size_t n = 0, first = 0;
	int seen3 = 0, seen4 = 0;

	for (uint64_t s = 0; s <= 3600; s += n % 2 ? 80 : 130)
		t[n++] = s;
	for (size_t i = 0; i < n; i++) {
		int in = 0;

		for (size_t j = 0; j <= i; j++)
			in += t[j] + 300 > t[i];
		if (in == 4 && !first)
			first = i;
		seen3 += first && in == 3;
		seen4 += first && in == 4;
		feed(fx, OP_EXIT, 0, (double)t[i], 3, 0);
	}
	assert_int_equal(first, 3); /* 0 80 210 290 */
	assert_true(seen3 > 10);
	assert_true(seen4 > 10);
	advance(fx, AT(t[n - 1] + 600) - 1);
	{
		const struct want w[] = {W_BURST(290, 4, 0)};

		check_wants("alternating", &fx->sk, fx->ids, ALL_RULES, w, ARRAY_SIZE(w));
	}
	advance(fx, AT(t[n - 1] + 7200));
	{
		const struct want w[] = {W_BURST(290, 4, 0),
					 W_BURST_R((double)t[n - 1] + 600, (uint32_t)n, 0)};

		check_wants("alternating", &fx->sk, fx->ids, ALL_RULES, w, ARRAY_SIZE(w));
	}
}

/* A burst, then exits every 2m40s for an hour: the episode stays open until they stop. */
static void test_burst_sustained_2m40s(void **state)
{
	struct fx *fx = *state;
	double last = 0;
	uint32_t n = 0;

	for (int i = 0; i < 4; i++, n++)
		feed(fx, OP_EXIT, 0, 10.0 * i, 3, 0);
	for (double s = 30 + 160; s <= 3630; s += 160, n++)
		feed(fx, OP_EXIT, 0, last = s, 3, 0);
	assert_int_equal(fx->sk.n, 1);
	advance(fx, AT(last + 600) - 1);
	assert_int_equal(fx->sk.n, 1);
	advance(fx, AT(last + 600));
	{
		const struct want w[] = {W_BURST(30, 4, 0), W_BURST_R(last + 600, n, 0)};

		check_wants("2m40s", &fx->sk, fx->ids, ALL_RULES, w, ARRAY_SIZE(w));
	}
	assert_string_equal(fx->sk.v[0].f.finding_id, fx->sk.v[1].f.finding_id);
	assert_int_equal(fx->sk.v[1].f.duration_ns, SEC(last + 600 - 30));
}

static void test_burst_new_episode_new_id(void **state)
{
	struct fx *fx = *state;

	for (int i = 0; i < 4; i++)
		feed(fx, OP_EXIT, 0, 10.0 * i, 3, 0);
	advance(fx, AT(1000));
	for (int i = 0; i < 4; i++)
		feed(fx, OP_EXIT, 0, 1000 + 10.0 * i, 3, 0);
	advance(fx, AT(5000));
	assert_int_equal(fx->sk.n, 4);
	assert_string_equal(fx->sk.v[0].f.finding_id, fx->sk.v[1].f.finding_id);
	assert_string_equal(fx->sk.v[2].f.finding_id, fx->sk.v[3].f.finding_id);
	assert_string_not_equal(fx->sk.v[0].f.finding_id, fx->sk.v[2].f.finding_id);
	assert_true(finding_id_ok(fx->sk.v[2].f.finding_id));
	assert_int_equal(fx->sk.v[2].f.time_ns, AT(1030));
	assert_int_equal(fx->sk.v[3].f.time_ns, AT(1630));
}

/* Virtual time may start at 0 (replays, tests): windows must not wrap below it. */
static void test_burst_near_time_zero(void **state)
{
	struct fx *fx = *state;
	struct ew_detector *d = det(fx);

	for (int i = 1; i <= 4; i++)
		feed_to(fx, d, &fx->sk, OP_EXIT, 0, SEC(30 * i), 3, 0);
	assert_int_equal(fx->sk.n, 1);
	assert_int_equal(fx->sk.v[0].f.time_ns, SEC(120));
	assert_int_equal(fx->sk.v[0].f.count, 4);
	assert_int_equal(fx->sk.v[0].f.first_ns, SEC(30));
	ew_detector_advance(d, SEC(7200), collect, &fx->sk);
	assert_int_equal(fx->sk.n, 2);
	assert_true(fx->sk.v[1].f.resolved);
	assert_int_equal(fx->sk.v[1].f.time_ns, SEC(720));
}

static void test_burst_disabled_and_custom_codes(void **state)
{
	struct fx *fx = *state;
	const struct scenario cases[] = {
		{"codes 3 and 4 both count", RULE(EW_RULE_EXIT_CODE_BURST),
		 STEPS(X(0, 0, 3), X(0, 10, 4), X(0, 20, 3), X(0, 30, 4)),
		 WANTS(W_BURST(30, 4, 0))},
	};

	fx->cfg.rules[EW_RULE_EXIT_CODE_BURST].enabled = false;
	fx->cfg.rules[EW_RULE_RESTART_RATE].enabled = false;
	fx->cfg.rules[EW_RULE_STARTUP_FAILURE_RATE].enabled = false;
	for (int i = 0; i < 8; i++)
		feed(fx, OP_EXIT, 0, 10.0 * i, 3, 0);
	advance(fx, AT(7200));
	assert_int_equal(fx->sk.n, 0);
	assert_int_equal(ew_detector_active(fx->d), 0);

	ew_detector_config_default(&fx->cfg);
	ew_rule_set_code(&fx->cfg.rules[EW_RULE_EXIT_CODE_BURST], 4);
	run_scenarios(fx, cases, ARRAY_SIZE(cases));
}

/* ---- restart_rate ---- */

static const struct scenario rate_cases[] = {
	{"3 restarts in an hour: nothing", RULE(EW_RULE_RESTART_RATE),
	 STEPS(ST(0, 0), RD(0, 1), X(0, 5, 1), ST(0, 100), RD(0, 101), X(0, 105, 1), ST(0, 200),
	       RD(0, 201), X(0, 205, 1), ST(0, 300), ADV(9000)),
	 NONE},
	{"4th restart at 59m59s fires; resolves 1h after the last", RULE(EW_RULE_RESTART_RATE),
	 STEPS(ST(0, 0), X(0, 5, 1), ST(0, 100), X(0, 105, 1), ST(0, 200), X(0, 205, 1), ST(0, 300),
	       X(0, 305, 1), ST(0, 3699), ADV(9000)),
	 WANTS(W_RATE(3699, 4, 0), W_RATE_R(7299, 4, 0))},
	{"4th restart one hour after the first: nothing", RULE(EW_RULE_RESTART_RATE),
	 STEPS(ST(0, 0), X(0, 5, 1), ST(0, 100), X(0, 105, 1), ST(0, 200), X(0, 205, 1), ST(0, 300),
	       X(0, 305, 1), ST(0, 3700), ADV(9000)),
	 NONE},
	{"a seeded start is not a restart", RULE(EW_RULE_RESTART_RATE),
	 STEPS(SEEDED(0, 0), X(0, 5, 1), ST(0, 100), X(0, 105, 1), ST(0, 200), X(0, 205, 1),
	       ST(0, 300), X(0, 305, 1), ST(0, 400), ADV(9000)),
	 WANTS(W_RATE(400, 4, 0), W_RATE_R(4000, 4, 0))},
	{"an exit never seen starting still makes the next start a restart",
	 RULE(EW_RULE_RESTART_RATE),
	 STEPS(X(0, 5, 1), ST(0, 100), X(0, 105, 1), ST(0, 200), X(0, 205, 1), ST(0, 300),
	       X(0, 305, 1), ST(0, 400), ADV(9000)),
	 WANTS(W_RATE(400, 4, 0), W_RATE_R(4000, 4, 0))},
	{"a start over a running process (its exit was lost) is a restart",
	 RULE(EW_RULE_RESTART_RATE),
	 STEPS(ST(0, 0), ST(0, 100), ST(0, 200), ST(0, 300), ST(0, 400), ADV(9000)),
	 WANTS(W_RATE(400, 4, 0), W_RATE_R(4000, 4, 0))},
	{"identity scope: replicas restarting 3 times each do not add up",
	 RULE(EW_RULE_RESTART_RATE),
	 STEPS(ST(10, 0), X(10, 5, 1), ST(11, 10), X(11, 15, 1), ST(10, 100), X(10, 105, 1),
	       ST(11, 110), X(11, 115, 1), ST(10, 200), X(10, 205, 1), ST(11, 210), X(11, 215, 1),
	       ST(10, 300), X(10, 305, 1), ST(11, 310), X(11, 315, 1), ST(10, 400), ADV(9000)),
	 WANTS(W_RATE(400, 4, 10), W_RATE_R(4000, 4, 10))},
	{"an hour without a restart resolves; the next loop fires anew", RULE(EW_RULE_RESTART_RATE),
	 STEPS(ST(0, 0), ST(0, 10), ST(0, 20), ST(0, 30), ST(0, 40), ST(0, 3641), ST(0, 3642),
	       ST(0, 3643), ST(0, 3644), ST(0, 3645), ADV(20000)),
	 WANTS(W_RATE(40, 4, 0), W_RATE_R(3640, 4, 0), W_RATE(3644, 4, 0), W_RATE_R(7245, 5, 0))},
};

static void test_restart_rate_table(void **state)
{
	run_scenarios(*state, rate_cases, ARRAY_SIZE(rate_cases));
}

/* The same replicas with restart_rate configured per workload: now they add up. */
static void test_restart_rate_workload_scope(void **state)
{
	struct fx *fx = *state;
	const struct scenario cases[] = {
		{"workload scope: two replicas' restarts add up", RULE(EW_RULE_RESTART_RATE),
		 STEPS(ST(10, 0), X(10, 5, 1), ST(11, 10), X(11, 15, 1), ST(10, 100), X(10, 105, 1),
		       ST(11, 110), X(11, 115, 1), ST(10, 200), X(10, 205, 1), ST(11, 210),
		       ADV(9000)),
		 WANTS(W_RATE(210, 4, 11), W_RATE_R(3810, 4, 11))},
	};

	fx->cfg.rules[EW_RULE_RESTART_RATE].scope = EW_SCOPE_WORKLOAD;
	run_scenarios(fx, cases, ARRAY_SIZE(cases));
}

static void test_restart_rate_kubelet_backoff(void **state)
{
	struct fx *fx = *state;
	struct step st[64];
	size_t n = kubelet_steps(st, 0, 5, 3);
	const struct ew_finding *f;
	const struct want w[] = {W_BURST(74, 4, 0), W_RATE(154, 4, 0), W_START(155, 5, 0)};

	/* starts 0 11 32 73 154, exits 1 s later: restarts at 11 32 73 154 */
	run_on(fx, det(fx), &fx->sk, st, n);
	check_wants("kubelet", &fx->sk, fx->ids, ALL_RULES, w, ARRAY_SIZE(w));

	f = &fx->sk.v[0].f; /* exits 1 12 33 74 */
	assert_int_equal(f->intervals, 3);
	CHECK_DBL("burst", "median", 21, f->interval_median_s);
	CHECK_DBL("burst", "min", 11, f->interval_min_s);
	CHECK_DBL("burst", "max", 41, f->interval_max_s);

	f = &fx->sk.v[1].f;
	assert_int_equal(f->severity, EW_SEV_WARNING);
	assert_int_equal(f->scope, EW_SCOPE_IDENTITY);
	assert_int_equal(f->threshold, 3);
	assert_int_equal(f->window_ns, SEC(3600));
	assert_int_equal(f->first_ns, AT(11));
	assert_int_equal(f->last_ns, AT(154));
	assert_int_equal(f->identities, 1);
	assert_int_equal(f->intervals, 3);
	CHECK_DBL("rate", "median", 41, f->interval_median_s);
	CHECK_DBL("rate", "min", 21, f->interval_min_s);
	CHECK_DBL("rate", "max", 81, f->interval_max_s);
	assert_int_equal(f->nhist, 1);
	assert_int_equal(f->hist[0].count, 4);
	assert_true(f->has_last_exit);
	assert_int_equal(f->last_exit_ns, AT(74));
	assert_int_equal(f->last_class, EW_CLASS_CONFIG_ERROR);
	assert_int_equal(f->tail_len, strlen(DEF_TAIL));
	assert_memory_equal(fx->sk.v[1].tail, DEF_TAIL, f->tail_len);

	f = &fx->sk.v[2].f; /* failed starts at 1 12 33 74 155 */
	assert_int_equal(f->severity, EW_SEV_INFO);
	assert_int_equal(f->scope, EW_SCOPE_WORKLOAD);
	assert_int_equal(f->starts, 5);
	assert_int_equal(f->failed_starts, 5);
	CHECK_DBL("startup", "fail%", 100, f->fail_percent);
	CHECK_DBL("startup", "threshold%", 5, f->threshold_percent);
	assert_int_equal(f->first_ns, AT(1));
	assert_int_equal(f->last_ns, AT(155));
	CHECK_DBL("startup", "median", 31, f->interval_median_s);
	/* The finding fired on this exit describes this exit, not the one before. */
	assert_int_equal(f->last_exit_ns, AT(155));
	assert_int_equal(f->last_code, 3);
}

/*
 * The incident: start, exit(3) after 20 s, the next start 7 minutes after the last, nine times
 * in the hour; then the fix, and the container stays up.
 */
static void test_incident_seven_minute_cycle(void **state)
{
	struct fx *fx = *state;
	const struct ew_finding *f;
	const struct want w[] = {
		W_RATE(1680, 4, 0),	      /* 4th restart */
		W_START(1700, 5, 0),	      /* 5th failed start */
		W_START_R(6980, 9, 0),	      /* last failure (3380) + 1h */
		W_RATE_R(7380, 9, 0),	      /* last restart (3780) + 1h */
		W_STABLE(3780 + 4 * 3600, 0), /* up 4 hours */
	};

	for (int k = 0; k < 9; k++) {
		feed(fx, OP_START, 0, 420.0 * k, 0, 0);
		feed(fx, OP_EXIT, 0, 420.0 * k + 20, 3, 0);
	}
	assert_int_equal(count_rule(&fx->sk, EW_RULE_EXIT_CODE_BURST, false), 0);
	feed(fx, OP_START, 0, 3780, 0, 0);
	feed(fx, OP_READY, 0, 3790, 0, 0);
	advance(fx, AT(30 * 3600));
	check_wants("incident", &fx->sk, fx->ids, ALL_RULES, w, ARRAY_SIZE(w));

	f = &fx->sk.v[0].f;
	assert_int_equal(f->intervals, 3);
	CHECK_DBL("rate", "median", 420, f->interval_median_s);
	CHECK_DBL("rate", "min", 420, f->interval_min_s);
	CHECK_DBL("rate", "max", 420, f->interval_max_s);
	assert_int_equal(f->last_exit_ns, AT(1280)); /* the exit before the 4th restart */
	f = &fx->sk.v[1].f;
	assert_int_equal(f->starts, 5);
	CHECK_DBL("startup", "median", 420, f->interval_median_s);
	f = &fx->sk.v[2].f;
	assert_int_equal(f->fired_ns, AT(1700));
	assert_int_equal(f->duration_ns, SEC(6980 - 1700));
	f = &fx->sk.v[3].f;
	assert_int_equal(f->fired_ns, AT(1680));
	assert_int_equal(f->duration_ns, SEC(7380 - 1680));
	assert_int_equal(f->severity, EW_SEV_NOTICE);
	f = &fx->sk.v[4].f;
	assert_int_equal(f->severity, EW_SEV_NOTICE);
	assert_false(f->resolved);
	assert_int_equal(f->uptime_ns, SEC(4 * 3600));
	assert_true(finding_id_ok(f->finding_id));
	assert_int_equal(ew_detector_active(fx->d), 0);
}

/* ---- startup_failure_rate ---- */

enum ok_kind {
	OK_READY, /* READY, then an error exit */
	OK_GRACE, /* error exit after the grace period */
	OK_CLEAN, /* exit 0 before the grace period: a job finishing */
};

static const struct startup_case {
	const char *name;
	enum ok_kind kind;
	int nok, nfail; /* successes first, then failures, 100 s apart */
	bool fires;
	uint32_t starts, failed;
} startup_cases[] = {
	{"4 failed starts: below the minimum sample", OK_READY, 0, 4, false, 0, 0},
	{"5 failed starts fire", OK_READY, 0, 5, true, 5, 5},
	{"1 ready + 4 failed: 80% of 5", OK_READY, 1, 4, true, 5, 4},
	{"19 ready + 1 failed: 5% is not more than 5%", OK_READY, 19, 1, false, 0, 0},
	{"19 ready + 2 failed: 9.5%", OK_READY, 19, 2, true, 21, 2},
	{"19 past the grace period + 1 failed", OK_GRACE, 19, 1, false, 0, 0},
	{"19 past the grace period + 2 failed", OK_GRACE, 19, 2, true, 21, 2},
	{"19 clean exits (jobs) + 1 failed", OK_CLEAN, 19, 1, false, 0, 0},
	{"19 clean exits (jobs) + 2 failed", OK_CLEAN, 19, 2, true, 21, 2},
};

static void test_startup_table(void **state)
{
	struct fx *fx = *state;

	for (size_t c = 0; c < ARRAY_SIZE(startup_cases); c++) {
		const struct startup_case *sc = &startup_cases[c];
		struct ew_detector *d = ew_detector_new(&fx->cfg);
		struct sink sk = {0};
		uint64_t t = 0, last_fail = 0;

		for (int i = 0; i < sc->nok + sc->nfail; i++, t += 100) {
			bool ok = i < sc->nok;
			struct ew_startup su;

			feed_to(fx, d, &sk, OP_START, 0, AT(t), 0, 0);
			if (ok && sc->kind == OK_READY)
				feed_to(fx, d, &sk, OP_READY, 0, AT(t + 2), 0, 0);
			if (ok && sc->kind == OK_GRACE)
				su = feed_to(fx, d, &sk, OP_EXIT, 0, AT(t + 61), 1, 0);
			else if (ok && sc->kind == OK_CLEAN)
				su = feed_to(fx, d, &sk, OP_EXIT, 0, AT(t + 5), 0, 0);
			else
				su = feed_to(fx, d, &sk, OP_EXIT, 0, AT(t + 5), 1, 0);
			CHECK_EQ(sc->name, "known", true, su.known);
			CHECK_EQ(sc->name, "succeeded", ok, su.succeeded);
			CHECK_EQ(sc->name, "ready", ok && sc->kind == OK_READY, su.ready);
			if (!ok)
				last_fail = t + 5;
		}
		if (sc->fires) {
			const struct want w[] = {W_START((double)last_fail, sc->failed, 0)};
			const struct ew_finding *f = &sk.v[sk.n - 1].f;

			check_wants(sc->name, &sk, fx->ids, RULE(EW_RULE_STARTUP_FAILURE_RATE), w,
				    1);
			CHECK_EQ(sc->name, "starts", sc->starts, f->starts);
			CHECK_EQ(sc->name, "failed_starts", sc->failed, f->failed_starts);
			CHECK_DBL(sc->name, "fail%", 100.0 * sc->failed / sc->starts,
				  f->fail_percent);
		} else {
			check_wants(sc->name, &sk, fx->ids, RULE(EW_RULE_STARTUP_FAILURE_RATE),
				    NULL, 0);
		}
		ew_detector_free(d);
		sink_clear(&sk);
	}
}

/* Per workload: replicas' failed starts add up, another workload's never do. */
static void test_startup_workload_scope(void **state)
{
	struct fx *fx = *state;
	static const int who[] = {10, 14, 11, 15, 12, 14, 10}; /* 10-13 api, 14-15 worker */
	const struct ew_finding *f;

	for (size_t i = 0; i < ARRAY_SIZE(who); i++) {
		feed(fx, OP_START, who[i], 10.0 * (double)i, 0, 0);
		feed(fx, OP_EXIT, who[i], 10.0 * (double)i + 2, 1, 0);
	}
	/* api: 10 11 12 10 (4 failed starts); worker: 14 15 14 (3) */
	assert_int_equal(fx->sk.n, 0);
	feed(fx, OP_START, 14, 100, 0, 0);
	feed(fx, OP_EXIT, 14, 102, 1, 0);
	feed(fx, OP_START, 13, 110, 0, 0);
	feed(fx, OP_EXIT, 13, 112, 1, 0);
	{
		const struct want w[] = {W_START(112, 5, 13)};

		check_wants("api", &fx->sk, fx->ids, ALL_RULES, w, 1);
	}
	f = &fx->sk.v[0].f;
	assert_int_equal(f->identities, 4);
	assert_int_equal(f->starts, 5);
	assert_int_equal(f->scope, EW_SCOPE_WORKLOAD);
	assert_int_equal(f->intervals, 1); /* 10 failed twice: at 2 and 62 */
	CHECK_DBL("api", "median", 60, f->interval_median_s);
}

/* The grace deadline is processed before an exit at the same instant. */
static void test_startup_grace_exact(void **state)
{
	struct fx *fx = *state;
	struct ew_startup su;

	feed(fx, OP_START, 0, 0, 0, 0);
	assert_int_equal(ew_detector_next_deadline(fx->d), AT(60));
	su = feed(fx, OP_EXIT, 0, 60, 1, 0);
	assert_true(su.known);
	assert_true(su.succeeded);
	assert_false(su.ready);

	feed(fx, OP_START, 1, 100, 0, 0);
	su = feed(fx, OP_EXIT, 1, 159.999, 1, 0);
	assert_true(su.known);
	assert_false(su.succeeded);

	/* One identity: four failures, then a start that survives its grace period. The failure
	 * rate counts decided starts only: 4 of 4 is below the minimum sample. */
	for (int i = 0; i < 4; i++) {
		feed(fx, OP_START, 2, 1000 + 100.0 * i, 0, 0);
		feed(fx, OP_EXIT, 2, 1000 + 100.0 * i + 1, 1, 0);
	}
	feed(fx, OP_START, 2, 1400, 0, 0);
	advance(fx, AT(1460) - 1);
	assert_int_equal(count_rule(&fx->sk, EW_RULE_STARTUP_FAILURE_RATE, false), 0);
	advance(fx, AT(1460));
	/* The 5th start succeeded at 1460: 4 of 5 failed (80%) but the rule fires on a failure. */
	assert_int_equal(count_rule(&fx->sk, EW_RULE_STARTUP_FAILURE_RATE, false), 0);
	su = feed(fx, OP_EXIT, 2, 1500, 1, 0);
	assert_true(su.succeeded);
	feed(fx, OP_START, 2, 1600, 0, 0);
	feed(fx, OP_EXIT, 2, 1601, 1, 0);
	{
		const struct want w[] = {W_START(1601, 5, 2)};

		check_wants("grace", &fx->sk, fx->ids, RULE(EW_RULE_STARTUP_FAILURE_RATE), w, 1);
	}
	assert_int_equal(fx->sk.v[fx->sk.n - 1].f.starts, 6);
}

/*
 * A start that another process stopped before it succeeded is neither a success nor a failure:
 * a Deployment's rollout (the kubelet's StopContainer: SIGTERM, an app that exits 143, or SIGKILL
 * after the grace period), `kubectl delete pod`, `docker stop`, a liveness probe's kill. Real
 * containerd (tests/cri) gave "Workload k8s:shop/worker/worker (2 containers): 2 of 5 starts
 * failed" for two rollouts in a row, whose middle pods were stopped within the start-up grace.
 */
static void test_startup_stopped(void **state)
{
	struct fx *fx = *state;
	struct ew_startup su;

	fx->cfg.rules[EW_RULE_CRASH_LOOP].enabled = true;
	/* Eight pods of one Deployment, each stopped 5 s after its start by the runtime. */
	for (int i = 0; i < 8; i++) {
		mkid(&fx->ids[20 + i], 20 + i, WL_API);
		feed(fx, OP_START, 20 + i, 10.0 * i, 0, 0);
		fx->killer = i % 2 ? SIGKILL : SIGTERM;
		su = feed(fx, OP_EXIT, 20 + i, 10.0 * i + 5, i % 2 ? 0 : 143, i % 2 ? SIGKILL : 0);
		fx->killer = 0;
		CHECK_EQ("rollout", "decided", false, su.known);
		CHECK_EQ("rollout", "succeeded", false, su.succeeded);
	}
	check_wants("rollout", &fx->sk, fx->ids, ALL_RULES | RULE(EW_RULE_CRASH_LOOP), NULL, 0);

	/*
	 * A liveness probe's kill every 40 s, 30 s into each start, before it listened: each
	 * exit decides nothing, but the restart policy starting it again makes the stopped start
	 * a failed one. The second in a row is a crash loop (at the restart that decides it),
	 * the fourth restart a restart_rate finding.
	 */
	fx->killer = SIGKILL;
	for (int i = 0; i < 5; i++) {
		feed(fx, OP_START, 0, 1000 + 40.0 * i, 0, 0);
		su = feed(fx, OP_EXIT, 0, 1000 + 40.0 * i + 30, 0, SIGKILL);
		CHECK_EQ("liveness", "decided", false, su.known);
	}
	fx->killer = 0;
	{
		const struct want w[] = {W_LOOP(1080, 2, 0), W_RATE(1160, 4, 0)};

		check_wants("liveness", &fx->sk, fx->ids, ALL_RULES | RULE(EW_RULE_CRASH_LOOP), w,
			    2);
	}

	/* Stopped twice, each started again by hand 20 minutes later: no failed start. */
	fx->killer = SIGTERM;
	for (int i = 0; i < 3; i++) {
		feed(fx, OP_START, 2, 1500 + 1200.0 * i, 0, 0);
		feed(fx, OP_EXIT, 2, 1500 + 1200.0 * i + 5, 143, 0);
	}
	fx->killer = 0;
	assert_int_equal(count_rule(&fx->sk, EW_RULE_CRASH_LOOP, false), 1);
	sink_clear(&fx->sk);

	/* The same exits with nobody's signal before them are the app's own: failed starts. */
	for (int i = 0; i < 5; i++) {
		feed(fx, OP_START, 1, 2000 + 40.0 * i, 0, 0);
		su = feed(fx, OP_EXIT, 1, 2000 + 40.0 * i + 5, 143, 0);
		CHECK_EQ("own exit", "decided", true, su.known);
		CHECK_EQ("own exit", "succeeded", false, su.succeeded);
	}
	assert_int_equal(count_rule(&fx->sk, EW_RULE_STARTUP_FAILURE_RATE, false), 1);
	assert_int_equal(count_rule(&fx->sk, EW_RULE_CRASH_LOOP, false), 1);
}

/*
 * A stopped start's decision waits for the identity's next start, across what may come
 * between: the identity asleep (nothing open after its first stop) and an agent restart
 * (the detector's state exported and imported).
 */
static void test_startup_stopped_across_restore(void **state)
{
	struct fx *fx = *state;
	struct ew_detector *d;
	char err[256] = "";

	fx->cfg.rules[EW_RULE_CRASH_LOOP].enabled = true;
	fx->killer = SIGKILL;
	feed(fx, OP_START, 0, 10, 0, 0);
	feed(fx, OP_EXIT, 0, 40, 0, SIGKILL);
	feed(fx, OP_START, 0, 50, 0, 0);
	feed(fx, OP_EXIT, 0, 80, 0, SIGKILL);
	d = ew_detector_new(&fx->cfg);
	assert_non_null(d);
	assert_int_equal(state_copy(fx->d, d, err, sizeof(err)), 0);
	ew_detector_free(fx->d);
	fx->d = d;
	feed(fx, OP_START, 0, 90, 0, 0);
	fx->killer = 0;
	{
		const struct want w[] = {W_LOOP(90, 2, 0)};

		check_wants("restored", &fx->sk, fx->ids, ALL_RULES | RULE(EW_RULE_CRASH_LOOP), w,
			    1);
	}
}

/* Resolution: when the failures age out of the hour (no starts left), or at 99% success. */
static void test_startup_resolution(void **state)
{
	struct fx *fx = *state;
	struct ew_detector *d;
	int i;

	for (i = 0; i < 5; i++) {
		feed(fx, OP_START, 10 + i % 4, 10.0 * i, 0, 0);
		feed(fx, OP_EXIT, 10 + i % 4, 10.0 * i + 1, 1, 0);
	}
	advance(fx, AT(41 + 3600) - 1);
	assert_int_equal(count_rule(&fx->sk, EW_RULE_STARTUP_FAILURE_RATE, true), 0);
	advance(fx, AT(41 + 3600));
	{
		const struct want w[] = {W_START(41, 5, 10), W_START_R(3641, 5, 10)};

		check_wants("aging", &fx->sk, fx->ids, RULE(EW_RULE_STARTUP_FAILURE_RATE), w, 2);
	}
	assert_int_equal(fx->sk.v[fx->sk.n - 1].f.starts, 0);
	/* No start left to judge is no success seen: the message must not say "starts
	 * successfully again" of a container that has not started for an hour. */
	assert_int_equal(fx->sk.v[fx->sk.n - 1].f.why, EW_RESOLVED_NO_STARTS);

	/* 5 failures, then ready starts in the same workload: the 495th success makes 99%. */
	d = ew_detector_new(&fx->cfg);
	sink_clear(&fx->sk);
	for (i = 0; i < 5; i++) {
		feed_to(fx, d, &fx->sk, OP_START, 10 + i % 4, AT(i), 0, 0);
		feed_to(fx, d, &fx->sk, OP_EXIT, 10 + i % 4, AT(i) + 1, 1, 0);
	}
	for (i = 0; i < 495; i++) {
		feed_to(fx, d, &fx->sk, OP_START, 13, AT(100 + 5 * i), 0, 0);
		feed_to(fx, d, &fx->sk, OP_READY, 13, AT(100 + 5 * i) + 1, 0, 0);
		if (i == 493)
			assert_int_equal(count_rule(&fx->sk, EW_RULE_STARTUP_FAILURE_RATE, true),
					 0);
		feed_to(fx, d, &fx->sk, OP_EXIT, 13, AT(100 + 5 * i + 3), 0, 0);
	}
	assert_int_equal(count_rule(&fx->sk, EW_RULE_STARTUP_FAILURE_RATE, true), 1);
	{
		const struct ew_finding *f = &fx->sk.v[fx->sk.n - 1].f;

		assert_int_equal(f->rule, EW_RULE_STARTUP_FAILURE_RATE);
		assert_true(f->resolved);
		assert_int_equal(f->time_ns, AT(100 + 5 * 494) + 1);
		assert_int_equal(f->starts, 500);
		assert_int_equal(f->failed_starts, 5);
		assert_int_equal(f->total, 5);
		assert_int_equal(f->why, EW_RESOLVED_CONDITION);
		/* Named by the identity whose failure counted last. */
		assert_string_equal(fx->sk.v[fx->sk.n - 1].key, fx->ids[10].key);
	}
	ew_detector_free(d);
}

/* ---- stable ---- */

static void test_stable_once(void **state)
{
	struct fx *fx = *state;
	const struct ew_finding *f;

	loop_then(fx, 0, 0); /* restart_rate fires at 40 */
	assert_int_equal(count_rule(&fx->sk, EW_RULE_RESTART_RATE, false), 1);
	feed(fx, OP_START, 0, 100, 0, 0);
	advance(fx, AT(100 + 4 * 3600) - 1);
	assert_int_equal(count_rule(&fx->sk, EW_RULE_STABLE, false), 0);
	advance(fx, AT(100 + 4 * 3600));
	assert_int_equal(count_rule(&fx->sk, EW_RULE_STABLE, false), 1);
	f = &fx->sk.v[fx->sk.n - 1].f;
	assert_int_equal(f->rule, EW_RULE_STABLE);
	assert_false(f->resolved);
	assert_int_equal(f->severity, EW_SEV_NOTICE);
	assert_int_equal(f->time_ns, AT(100 + 4 * 3600));
	assert_int_equal(f->uptime_ns, SEC(4 * 3600));
	assert_true(finding_id_ok(f->finding_id));
	assert_string_equal(fx->sk.v[fx->sk.n - 1].key, fx->ids[0].key);
	advance(fx, AT(48 * 3600));
	assert_int_equal(count_rule(&fx->sk, EW_RULE_STABLE, false), 1);
	assert_int_equal(count_rule(&fx->sk, EW_RULE_STABLE, true), 0);
	/* It stayed up: a restart much later is not followed by another milestone. */
	feed(fx, OP_EXIT, 0, 48 * 3600 + 1, 0, 0);
	feed(fx, OP_START, 0, 48 * 3600 + 2, 0, 0);
	advance(fx, AT(60 * 3600));
	assert_int_equal(count_rule(&fx->sk, EW_RULE_STABLE, false), 1);
}

/* stable watches one identity and counts nothing: a scope or count in its section is ignored. */
static void test_stable_ignores_scope_and_count(void **state)
{
	struct fx *fx = *state;
	const struct ew_finding *f;

	fx->cfg.rules[EW_RULE_STABLE].scope = EW_SCOPE_WORKLOAD;
	fx->cfg.rules[EW_RULE_STABLE].count = 7;
	loop_then(fx, 0, 0);
	feed(fx, OP_START, 0, 100, 0, 0);
	advance(fx, AT(100 + 4 * 3600));
	assert_int_equal(count_rule(&fx->sk, EW_RULE_STABLE, false), 1);
	f = &fx->sk.v[fx->sk.n - 1].f;
	assert_int_equal(f->rule, EW_RULE_STABLE);
	assert_int_equal(f->scope, EW_SCOPE_IDENTITY);
	assert_int_equal(f->threshold, 0);
	assert_string_equal(fx->sk.v[fx->sk.n - 1].key, fx->ids[0].key);
}

static void test_stable_needs_a_loop_and_4h(void **state)
{
	struct fx *fx = *state;
	const struct want w[] = {W_RATE(40, 4, 1), W_RATE_R(3700, 5, 1),
				 W_STABLE(14500 + 4 * 3600, 1)};

	/* Never looped: no milestone. */
	feed(fx, OP_START, 0, 0, 0, 0);
	feed(fx, OP_EXIT, 0, 1, 1, 0);
	feed(fx, OP_START, 0, 10, 0, 0);
	/* Looped, then up 3h59m, exits, restarts: the milestone counts from the last start. */
	loop_then(fx, 1, 0);
	feed(fx, OP_START, 1, 100, 0, 0);
	feed(fx, OP_EXIT, 1, 100 + 4 * 3600 - 60, 1, 0);
	feed(fx, OP_START, 1, 14500, 0, 0);
	advance(fx, AT(24 * 3600));
	check_wants("stable", &fx->sk, fx->ids, RULE(EW_RULE_RESTART_RATE) | RULE(EW_RULE_STABLE),
		    w, ARRAY_SIZE(w));
}

/*
 * A replica whose exits were counted in a workload burst that fired while it was running: it was
 * part of the loop, and its current run is watched for the milestone (as after a restore).
 */
static void test_stable_for_running_replica(void **state)
{
	struct fx *fx = *state;
	const struct want w[] = {W_BURST(30, 4, 10), W_BURST_R(630, 4, 10),
				 W_STABLE(15 + 4 * 3600, 11), W_STABLE(40 + 4 * 3600, 10)};

	feed(fx, OP_EXIT, 11, 0, 3, 0);
	feed(fx, OP_EXIT, 11, 10, 3, 0);
	feed(fx, OP_START, 11, 15, 0, 0);
	feed(fx, OP_EXIT, 10, 20, 3, 0);
	feed(fx, OP_EXIT, 10, 30, 3, 0);
	feed(fx, OP_START, 10, 40, 0, 0);
	advance(fx, AT(24 * 3600));
	check_wants("replica", &fx->sk, fx->ids,
		    RULE(EW_RULE_EXIT_CODE_BURST) | RULE(EW_RULE_STABLE), w, ARRAY_SIZE(w));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_burst_table),
		T(test_burst_finding_fields),
		T(test_burst_no_flapping),
		T(test_burst_sustained_2m40s),
		T(test_burst_new_episode_new_id),
		T(test_burst_near_time_zero),
		T(test_burst_disabled_and_custom_codes),
		T(test_restart_rate_table),
		T(test_restart_rate_workload_scope),
		T(test_restart_rate_kubelet_backoff),
		T(test_incident_seven_minute_cycle),
		T(test_startup_table),
		T(test_startup_workload_scope),
		T(test_startup_grace_exact),
		T(test_startup_stopped),
		T(test_startup_stopped_across_restore),
		T(test_startup_resolution),
		T(test_stable_once),
		T(test_stable_ignores_scope_and_count),
		T(test_stable_needs_a_loop_and_4h),
		T(test_stable_for_running_replica),
	};

	return cmocka_run_group_tests_name("rules", tests, NULL, NULL);
}
