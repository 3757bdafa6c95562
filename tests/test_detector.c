// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The detector in virtual time (tests/detector_fixture.h): every event carries its own time and
 * ew_detector_advance() moves the clock, so each case states exactly when a finding fires or
 * resolves. Its state exported and imported as plain values is tested here; as a file, in
 * tests/test_state.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exitwatch/util/buf.h"
#include "exitwatch/detect/detector.h"
#include "exitwatch/util/util.h"
#include "detect/window_int.h"
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

/* ---- events: seeded, re-exec, what observe says ---- */

static void test_seeded_and_reexec(void **state)
{
	struct fx *fx = *state;
	struct ew_startup su;

	su = feed(fx, OP_SEEDED, 0, 0, 0, 0);
	assert_false(su.known);
	assert_int_equal(su.restarts, 0);
	/* No start-up outcome: neither a grace deadline nor a failure when it dies. */
	assert_int_equal(ew_detector_next_deadline(fx->d), UINT64_MAX);
	su = feed(fx, OP_EXIT, 0, 5, 1, 0);
	assert_false(su.known);
	assert_false(su.succeeded);
	for (int i = 0; i < 4; i++) {
		feed(fx, OP_SEEDED, 10 + i, 10, 0, 0);
		feed(fx, OP_EXIT, 10 + i, 11, 1, 0);
	}
	feed(fx, OP_SEEDED, 10, 20, 0, 0);
	feed(fx, OP_EXIT, 10, 21, 1, 0);
	advance(fx, AT(7200));
	assert_int_equal(fx->sk.n, 0);

	/* A re-exec of the main process is the same start. */
	su = feed(fx, OP_START, 1, 100, 0, 0);
	assert_true(su.known);
	su = feed(fx, OP_REEXEC, 1, 101, 0, 0);
	assert_false(su.known);
	assert_int_equal(su.restarts, 0);
	su = feed(fx, OP_REEXEC, 1, 102, 0, 0);
	su = feed(fx, OP_EXIT, 1, 103, 1, 0);
	assert_true(su.known);
	assert_false(su.succeeded);
	assert_int_equal(su.restarts, 0);
	su = feed(fx, OP_START, 1, 104, 0, 0);
	assert_int_equal(su.restarts, 1);
	assert_int_equal(fx->sk.n, 0);
}

static const struct ret_case {
	const char *name;
	uint8_t op;
	int16_t code;
	double at;
	bool known, ready, succeeded;
	uint32_t restarts;
} ret_cases[] = {
	{"first start", OP_START, 0, 0, true, false, false, 0},
	{"exit before ready: failed", OP_EXIT, 1, 5, true, false, false, 0},
	{"restart", OP_START, 0, 10, true, false, false, 1},
	{"ready", OP_READY, 0, 12, false, false, false, 0},
	{"exit after ready: succeeded", OP_EXIT, 1, 20, true, true, true, 1},
	{"exit again, never started", OP_EXIT, 1, 25, false, false, false, 1},
	{"restart 2", OP_START, 0, 30, true, false, false, 2},
	{"clean exit before grace: succeeded", OP_EXIT, 0, 35, true, false, true, 2},
	{"restart 3", OP_START, 0, 40, true, false, false, 3},
	{"exit after grace: succeeded", OP_EXIT, 137, 100, true, false, true, 3},
	{"seeded: not a restart", OP_SEEDED, 0, 110, false, false, false, 3},
	{"exit of a seeded run: unknown start", OP_EXIT, 1, 115, false, false, false, 3},
	{"restart 4", OP_START, 0, 120, true, false, false, 4},
};

static void test_startup_ret_table(void **state)
{
	struct fx *fx = *state;

	for (size_t i = 0; i < ARRAY_SIZE(ret_cases); i++) {
		const struct ret_case *c = &ret_cases[i];
		struct ew_startup su = feed(fx, c->op, 0, c->at, c->code, 0);

		CHECK_EQ(c->name, "known", c->known, su.known);
		CHECK_EQ(c->name, "ready", c->ready, su.ready);
		CHECK_EQ(c->name, "succeeded", c->succeeded, su.succeeded);
		CHECK_EQ(c->name, "restarts", c->restarts, su.restarts);
	}
}

/* Events from different CPUs may arrive slightly out of order: counted at the time reached. */
static void test_out_of_order_events(void **state)
{
	struct fx *fx = *state;

	feed(fx, OP_EXIT, 0, 100, 3, 0);
	feed(fx, OP_EXIT, 0, 110, 3, 0);
	feed(fx, OP_EXIT, 0, 120, 3, 0);
	feed(fx, OP_EXIT, 0, 119, 3, 0);
	assert_int_equal(fx->sk.n, 1);
	assert_int_equal(fx->sk.v[0].f.time_ns, AT(120));
	assert_int_equal(fx->sk.v[0].f.last_ns, AT(120));
	advance(fx, AT(10)); /* backwards: nothing happens */
	advance(fx, AT(720));
	assert_int_equal(fx->sk.n, 2);
	assert_int_equal(fx->sk.v[1].f.time_ns, AT(720));
}

/* ---- evidence ---- */

static void test_evidence_histogram(void **state)
{
	struct fx *fx = *state;
	static const struct step seq[] = {X(0, 0, 1),  X(0, 10, 3),	     X(0, 20, 2),
					  X(0, 30, 3), XSIG(0, 40, SIGSEGV), X(0, 50, 1),
					  X(0, 60, 3), X(0, 70, 3)};
	static const struct ew_exit_hist want[] = {
		{3, 0, 4}, {1, 0, 2}, {2, 0, 1}, {0, SIGSEGV, 1}};
	const struct ew_finding *f;

	run_on(fx, det(fx), &fx->sk, seq, ARRAY_SIZE(seq));
	assert_int_equal(fx->sk.n, 1);
	f = &fx->sk.v[0].f;
	assert_int_equal(f->count, 4);
	assert_int_equal(f->nhist, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		char c[32];

		snprintf(c, sizeof(c), "hist[%zu]", i);
		CHECK_EQ(c, "code", want[i].code, f->hist[i].code);
		CHECK_EQ(c, "signal", want[i].signal, f->hist[i].signal);
		CHECK_EQ(c, "count", want[i].count, f->hist[i].count);
	}

	/* More distinct exits than EW_HIST_MAX: the most frequent are kept. */
	ew_detector_free(fx->d);
	fx->d = NULL;
	sink_clear(&fx->sk);
	for (int i = 0; i < 12; i++)
		feed(fx, OP_EXIT, 1, 10.0 * i, 10 + i, 0);
	for (int i = 0; i < 4; i++)
		feed(fx, OP_EXIT, 1, 120 + 5.0 * i, 3, 0);
	assert_int_equal(fx->sk.n, 1);
	f = &fx->sk.v[0].f;
	assert_int_equal(f->nhist, EW_HIST_MAX);
	assert_int_equal(f->hist[0].code, 3);
	assert_int_equal(f->hist[0].count, 4);
	for (int i = 1; i < EW_HIST_MAX; i++) {
		assert_int_equal(f->hist[i].code, 10 + i - 1);
		assert_int_equal(f->hist[i].count, 1);
	}
}

static void test_evidence_tail(void **state)
{
	struct fx *fx = *state;
	const char *t4 = "line one\nModuleNotFoundError: No module named 'mon'\n";
	const struct ew_finding *f;

	fx->cfg.tail_max = 16;
	fx->tail = "first\n";
	feed(fx, OP_EXIT, 0, 0, 3, 0);
	feed(fx, OP_EXIT, 0, 10, 3, 0);
	feed(fx, OP_EXIT, 0, 20, 3, 0);
	fx->tail = t4;
	feed(fx, OP_EXIT, 0, 30, 3, 0);
	assert_int_equal(fx->sk.n, 1);
	f = &fx->sk.v[0].f;
	assert_int_equal(f->tail_len, 16);
	assert_memory_equal(fx->sk.v[0].tail, t4 + strlen(t4) - 16, 16);

	/* A clean exit keeps the last failed exit's stderr; a short one is kept whole. */
	fx->tail = "bye\n";
	feed(fx, OP_EXIT, 0, 40, 0, 0);
	advance(fx, AT(7200));
	assert_int_equal(fx->sk.n, 2);
	f = &fx->sk.v[1].f;
	assert_true(f->resolved);
	assert_int_equal(f->tail_len, 16);
	assert_memory_equal(fx->sk.v[1].tail, t4 + strlen(t4) - 16, 16);
	assert_int_equal(f->last_exit_ns, AT(40));
	assert_int_equal(f->last_class, EW_CLASS_CLEAN);

	fx->tail = "oops\n";
	for (int i = 0; i < 4; i++)
		feed(fx, OP_EXIT, 1, 8000 + 10.0 * i, 3, 0);
	assert_int_equal(fx->sk.n, 3);
	assert_int_equal(fx->sk.v[2].f.tail_len, 5);
	assert_memory_equal(fx->sk.v[2].tail, "oops\n", 5);

	/* tail_max 0 keeps none. */
	ew_detector_free(fx->d);
	fx->d = NULL;
	fx->cfg.tail_max = 0;
	sink_clear(&fx->sk);
	for (int i = 0; i < 4; i++)
		feed(fx, OP_EXIT, 1, 10.0 * i, 3, 0);
	assert_int_equal(fx->sk.n, 1);
	assert_int_equal(fx->sk.v[0].f.tail_len, 0);
}

/* Workload scope: the last exit and the tail both describe the subject identity. */
static void test_evidence_subject_last_exit(void **state)
{
	struct fx *fx = *state;
	const struct ew_finding *f;

	fx->tail = "api-10 failed\n";
	feed(fx, OP_EXIT, 10, 0, 3, 0);
	feed(fx, OP_EXIT, 10, 10, 3, 0);
	feed(fx, OP_EXIT, 10, 20, 3, 0);
	feed(fx, OP_EXIT, 10, 30, 3, 0);
	fx->tail = "api-11 crashed\n";
	feed(fx, OP_EXIT, 11, 40, 0, SIGSEGV);
	advance(fx, AT(7200));
	assert_int_equal(fx->sk.n, 2);
	f = &fx->sk.v[1].f;
	assert_true(f->resolved);
	assert_string_equal(fx->sk.v[1].key, fx->ids[10].key);
	assert_int_equal(f->last_exit_ns, AT(30));
	assert_int_equal(f->last_code, 3);
	assert_int_equal(f->last_signal, 0);
	assert_int_equal(f->tail_len, strlen("api-10 failed\n"));
	assert_memory_equal(fx->sk.v[1].tail, "api-10 failed\n", f->tail_len);
}

static const struct degraded_case {
	const char *name;
	struct step drops[3];
	size_t n;
	bool degraded;
} degraded_cases[] = {
	{"no loss", {{0}}, 0, false},
	{"loss inside the window", {DROPS(100, 5)}, 1, true},
	{"loss older than the window", {DROPS(-400, 5)}, 1, false},
	{"loss just inside (now - 5m, now]", {DROPS(-119.999, 5)}, 1, true},
	{"loss at the window's open edge", {DROPS(-120, 5)}, 1, false},
	{"the same total again is no new loss", {DROPS(-400, 5), DROPS(100, 5)}, 2, false},
	{"a higher total is", {DROPS(-400, 5), DROPS(100, 6)}, 2, true},
	{"counters restarted with the agent: a lower total is new loss",
	 {DROPS(-400, 500), DROPS(100, 2)},
	 2,
	 true},
};

static void test_degraded_table(void **state)
{
	struct fx *fx = *state;

	for (size_t i = 0; i < ARRAY_SIZE(degraded_cases); i++) {
		const struct degraded_case *c = &degraded_cases[i];
		struct ew_detector *d = ew_detector_new(&fx->cfg);
		struct sink sk = {0};
		static const struct step burst[] = {X(0, 0, 3), X(0, 60, 3), X(0, 120, 3)};
		static const struct step last[] = {X(0, 180, 3)};

		run_on(fx, d, &sk, c->drops, c->n);
		run_on(fx, d, &sk, burst, ARRAY_SIZE(burst));
		run_on(fx, d, &sk, last, 1);
		CHECK_EQ(c->name, "findings", 1, sk.n);
		CHECK_EQ(c->name, "degraded", c->degraded, sk.v[0].f.degraded);
		ew_detector_free(d);
		sink_clear(&sk);
	}
}

/* ---- the state exported and imported (no file: persist/'s tests have that) ---- */

/* Everything an export says, as text: two detectors in the same state give the same text. */
static void dump_samples(struct ew_buf *b, const char *name, const struct ew_detector_samples *s)
{
	ew_buf_printf(b, " %s:", name);
	for (size_t i = 0; i < s->n; i++)
		ew_buf_printf(b, " [%llu %u %d %u %u]", (unsigned long long)s->v[i].t,
			      s->v[i].ident, s->v[i].code, s->v[i].signal, s->v[i].flags);
}

static void dump_scope(struct ew_buf *b, const struct ew_detector_scope *s)
{
	dump_samples(b, "exits", &s->exits);
	dump_samples(b, "restarts", &s->restarts);
	dump_samples(b, "outcomes", &s->outcomes);
	for (size_t i = 0; i < s->nep; i++)
		ew_buf_printf(b, " episode %s %s %llu %llu %u %u", ew_rule_name(s->ep[i].rule),
			      s->ep[i].id, (unsigned long long)s->ep[i].fired_ns,
			      (unsigned long long)s->ep[i].last_ns, s->ep[i].total,
			      s->ep[i].last_ident);
}

static void dump_subject(struct ew_buf *b, const char *name, const struct ew_identity *id)
{
	if (id)
		ew_buf_printf(b, " %s: %s %s %s %llu", name, id->key, id->workload, id->display,
			      (unsigned long long)id->cgroup_id);
}

static void dump_workload(void *ctx, const struct ew_detector_workload *wl)
{
	struct ew_buf *b = ctx;

	ew_buf_printf(b, "workload %s", wl->key);
	dump_subject(b, "last_subject", wl->last_subject);
	dump_scope(b, &wl->s);
	ew_buf_puts(b, "\n");
}

static void dump_ident(void *ctx, const struct ew_detector_ident *id)
{
	struct ew_buf *b = ctx;

	ew_buf_printf(b,
		      "ident %s wl %s serial %u restarts %u flags %d%d%d%d%d%d pid %u boot %llu "
		      "start %llu active %llu",
		      id->key, id->workload, id->serial, id->restarts, id->exited_before,
		      id->looping, id->running, id->seeded, id->ready, id->outcome_done, id->pid,
		      (unsigned long long)id->start_boot_ns, (unsigned long long)id->start_ns,
		      (unsigned long long)id->last_active_ns);
	if (id->has_last_exit)
		ew_buf_printf(b, " last_exit [%llu %d %u %u]", (unsigned long long)id->last_exit.t,
			      id->last_exit.code, id->last_exit.signal, id->last_exit.flags);
	ew_buf_printf(b, " tail %u:", id->tail_len);
	ew_buf_append(b, id->tail ? id->tail : "", id->tail_len);
	dump_subject(b, "subject", id->subject);
	dump_scope(b, &id->s);
	ew_buf_puts(b, "\n");
}

static void state_dump(const struct ew_detector *d, struct ew_buf *b)
{
	struct ew_detector_state st;

	ew_buf_init(b);
	ew_detector_export_state(d, &st);
	ew_buf_printf(b, "now %llu next_serial %u drops %llu at %llu\n",
		      (unsigned long long)st.now_ns, st.next_serial,
		      (unsigned long long)st.drops_total, (unsigned long long)st.last_drop_ns);
	assert_int_equal(ew_detector_export_workloads(d, dump_workload, b), 0);
	assert_int_equal(ew_detector_export_idents(d, dump_ident, b), 0);
	assert_int_equal(ew_buf_putc(b, '\0'), 0);
}

/* An export fed straight into an import. */
struct copier {
	struct ew_detector_import *im;
	int r;
};

static void copy_workload(void *ctx, const struct ew_detector_workload *wl)
{
	struct copier *c = ctx;

	if (!c->r)
		c->r = ew_detector_import_workload(c->im, wl);
}

static void copy_ident(void *ctx, const struct ew_detector_ident *id)
{
	struct copier *c = ctx;

	if (!c->r)
		c->r = ew_detector_import_ident(c->im, id);
}

static int state_copy(const struct ew_detector *from, struct ew_detector *to, char *err,
		      size_t errlen)
{
	struct ew_detector_state st;
	struct copier c = {0};

	ew_detector_export_state(from, &st);
	c.im = ew_detector_import_begin(to, &st, err, errlen);
	assert_non_null(c.im);
	assert_int_equal(ew_detector_export_workloads(from, copy_workload, &c), 0);
	assert_int_equal(ew_detector_export_idents(from, copy_ident, &c), 0);
	return ew_detector_import_end(c.im, to, true);
}

/* Half a crash loop copied into a second detector: both then say the same, to the nanosecond. */
static void test_export_import_round_trip(void **state)
{
	struct fx *fx = *state;
	struct step st[128];
	size_t n = crash_loop_then_fix(st), half;
	struct ew_detector *a = det(fx), *b = ew_detector_new(&fx->cfg);
	struct sink ska = {0}, skb = {0};
	struct ew_buf da, db;
	char err[256] = "";

	for (half = 0; st[half].ms <= 1000 * 1000; half++)
		;
	run_on(fx, a, &fx->sk, st, half);
	assert_int_equal(ew_detector_active(a), 3);
	assert_int_equal(state_copy(a, b, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(ew_detector_identities(b), ew_detector_identities(a));
	assert_int_equal(ew_detector_active(b), 3);
	state_dump(a, &da);
	state_dump(b, &db);
	assert_string_equal(da.data, db.data);
	/* What the export holds: the loop's tail, its subject, its open episodes. */
	assert_non_null(strstr(da.data, "ModuleNotFoundError"));
	assert_non_null(strstr(da.data, "subject: docker:"));
	assert_non_null(strstr(da.data, "episode exit_code_burst f-"));
	assert_non_null(strstr(da.data, "drops 7"));
	ew_buf_free(&da);
	ew_buf_free(&db);

	run_on(fx, a, &ska, st + half, n - half);
	run_on(fx, b, &skb, st + half, n - half);
	check_same_findings("copied", &ska, &skb);
	assert_true(skb.n >= 8);
	assert_int_equal(count_rule(&skb, EW_RULE_EXIT_CODE_BURST, false), 0);
	assert_int_equal(count_rule(&skb, EW_RULE_EXIT_CODE_BURST, true), 1);
	assert_int_equal(ew_detector_active(b), 0);
	ew_detector_free(b);
	sink_clear(&ska);
	sink_clear(&skb);
}

/* A valid state at now = 100 ns: one workload, one identity, as the cases below spoil it. */
struct import_fx {
	struct ew_detector_state st;
	struct ew_detector_sample samples[2];
	struct ew_detector_episode ep[2];
	struct ew_identity subject;
	struct ew_detector_workload wl[2];
	size_t nwl;
	struct ew_detector_ident id[2];
	size_t nid;
};

static void import_fx_init(struct import_fx *x)
{
	memset(x, 0, sizeof(*x));
	x->st = (struct ew_detector_state){.now_ns = 100, .next_serial = 1};
	x->samples[0] = (struct ew_detector_sample){
		.t = 50, .ident = 1, .code = 3, .flags = EW_CLASS_CONFIG_ERROR << 4};
	x->samples[1] = (struct ew_detector_sample){.t = 60, .ident = 1, .code = 1, .flags = 0x10};
	x->ep[0] = (struct ew_detector_episode){.rule = EW_RULE_RESTART_RATE,
						.id = "f-0123456789abcdef",
						.fired_ns = 10,
						.last_ns = 20,
						.total = 4,
						.last_ident = 1};
	x->ep[1] = x->ep[0];
	x->ep[1].rule = EW_RULE_EXIT_CODE_BURST;
	snprintf(x->subject.key, sizeof(x->subject.key), "a");
	snprintf(x->subject.workload, sizeof(x->subject.workload), "w");
	x->wl[0] = (struct ew_detector_workload){.key = "w", .s.exits = {x->samples, 2}};
	x->wl[1] = (struct ew_detector_workload){.key = "v"};
	x->nwl = 1;
	x->id[0] = (struct ew_detector_ident){
		.key = "a",
		.workload = "w",
		.subject = &x->subject,
		.serial = 1,
		.exited_before = true,
		.outcome_done = true,
		.pid = 7,
		.start_boot_ns = 5,
		.start_ns = 40,
		.last_active_ns = 50,
		.has_last_exit = true,
		.last_exit = x->samples[0],
		.tail = "ok\n",
		.tail_len = 3,
		.s = {.exits = {x->samples, 2}, .ep = x->ep, .nep = 1},
	};
	x->id[1] = x->id[0];
	x->id[1].key = "b";
	x->id[1].serial = 2;
	x->id[1].subject = NULL;
	x->id[1].s.nep = 0;
	x->nid = 1;
}

static int import_fx_run(struct import_fx *x, struct ew_detector *d, char *err, size_t errlen)
{
	struct ew_detector_import *im = ew_detector_import_begin(d, &x->st, err, errlen);

	assert_non_null(im);
	for (size_t i = 0; i < x->nwl; i++)
		ew_detector_import_workload(im, &x->wl[i]);
	for (size_t i = 0; i < x->nid; i++)
		ew_detector_import_ident(im, &x->id[i]);
	return ew_detector_import_end(im, d, true);
}

enum spoil {
	S_NONE,
	S_NEXT_SERIAL_0,
	S_WL_KEY_EMPTY,
	S_WL_TWICE,
	S_WL_SAMPLE_LATE,
	S_SAMPLE_CLASS,
	S_SERIAL_0,
	S_SERIAL_MAX,
	S_KEY_EMPTY,
	S_KEY_TWICE,
	S_SERIAL_TWICE,
	S_START_LATE,
	S_ACTIVE_LATE,
	S_LAST_EXIT_LATE,
	S_LAST_EXIT_CLASS,
	S_SUBJECT_OTHER,
	S_EP_STABLE,
	S_EP_RULE_RANGE,
	S_EP_TWICE,
	S_EP_ID_SHORT,
	S_EP_ID_UPPER,
	S_EP_ID_NULL,
	S_EP_FIRED_LATE,
	S_EP_LAST_BEFORE_FIRED,
	S_EP_LAST_LATE,
};

static void spoil(struct import_fx *x, enum spoil s)
{
	struct ew_detector_ident *id = &x->id[0];

	switch (s) {
	case S_NONE:
		break;
	case S_NEXT_SERIAL_0:
		x->st.next_serial = 0;
		break;
	case S_WL_KEY_EMPTY:
		x->wl[0].key = "";
		break;
	case S_WL_TWICE:
		x->wl[1].key = "w";
		x->nwl = 2;
		break;
	case S_WL_SAMPLE_LATE:
		x->samples[1].t = 101;
		id->has_last_exit = false;
		break;
	case S_SAMPLE_CLASS:
		x->samples[1].flags = EW_CLASS__COUNT << 4;
		break;
	case S_SERIAL_0:
		id->serial = 0;
		break;
	case S_SERIAL_MAX:
		id->serial = UINT32_MAX;
		break;
	case S_KEY_EMPTY:
		id->key = "";
		break;
	case S_KEY_TWICE:
		x->id[1].key = "a";
		x->nid = 2;
		break;
	case S_SERIAL_TWICE:
		x->id[1].serial = 1;
		x->nid = 2;
		break;
	case S_START_LATE:
		id->start_ns = 101;
		break;
	case S_ACTIVE_LATE:
		id->last_active_ns = 101;
		break;
	case S_LAST_EXIT_LATE:
		id->last_exit.t = 101;
		break;
	case S_LAST_EXIT_CLASS:
		id->last_exit.flags = 0xf0;
		break;
	case S_SUBJECT_OTHER:
		snprintf(x->subject.key, sizeof(x->subject.key), "b");
		break;
	case S_EP_STABLE:
		x->ep[0].rule = EW_RULE_STABLE;
		break;
	case S_EP_RULE_RANGE:
		x->ep[0].rule = EW_RULE__COUNT;
		break;
	case S_EP_TWICE:
		x->ep[1].rule = x->ep[0].rule;
		id->s.nep = 2;
		break;
	case S_EP_ID_SHORT:
		x->ep[0].id = "f-0123";
		break;
	case S_EP_ID_UPPER:
		x->ep[0].id = "f-0123456789ABCDEF";
		break;
	case S_EP_ID_NULL:
		x->ep[0].id = NULL;
		break;
	case S_EP_FIRED_LATE:
		x->ep[0].fired_ns = 101;
		x->ep[0].last_ns = 101;
		break;
	case S_EP_LAST_BEFORE_FIRED:
		x->ep[0].fired_ns = 30;
		break;
	case S_EP_LAST_LATE:
		x->ep[0].last_ns = 101;
		break;
	}
}

/* What the import checks, case by case: each spoils the valid state in one way. */
static void test_import_invariants(void **state)
{
	struct fx *fx = *state;
	static const struct {
		enum spoil s;
		const char *msg; /* part of the message */
	} cases[] = {
		{S_NEXT_SERIAL_0, "next_serial is out of range (0 not in 1..4294967295)"},
		{S_WL_KEY_EMPTY, "a workload without a key, or repeated ('')"},
		{S_WL_TWICE, "a workload without a key, or repeated ('w')"},
		{S_WL_SAMPLE_LATE, "a sample's time is out of range (101 not in 0..100)"},
		{S_SAMPLE_CLASS, "a sample of unknown exit class"},
		{S_SERIAL_0, "serial is out of range (0 not in 1..4294967294)"},
		{S_SERIAL_MAX, "serial is out of range (4294967295 not in 1..4294967294)"},
		{S_KEY_EMPTY, "an identity without a key, or repeated ('', serial 1)"},
		{S_KEY_TWICE, "an identity without a key, or repeated ('a', serial 2)"},
		{S_SERIAL_TWICE, "an identity without a key, or repeated ('b', serial 1)"},
		{S_START_LATE, "start_ns is out of range (101 not in 0..100)"},
		{S_ACTIVE_LATE, "last_active_ns is out of range (101 not in 0..100)"},
		{S_LAST_EXIT_LATE, "a sample's time is out of range (101 not in 0..100)"},
		{S_LAST_EXIT_CLASS, "a sample of unknown exit class 15"},
		{S_SUBJECT_OTHER, "identity 'a' has another's subject"},
		{S_EP_STABLE, "an episode of unknown rule 'stable'"},
		{S_EP_RULE_RANGE, "an episode of unknown rule 'unknown'"},
		{S_EP_TWICE, "an episode of restart_rate that is repeated"},
		{S_EP_ID_SHORT, "whose id is not f-<16 hex>"},
		{S_EP_ID_UPPER, "whose id is not f-<16 hex>"},
		{S_EP_ID_NULL, "whose id is not f-<16 hex>"},
		{S_EP_FIRED_LATE, "fired_ns is out of range (101 not in 0..100)"},
		{S_EP_LAST_BEFORE_FIRED, "last_ns is out of range (20 not in 30..100)"},
		{S_EP_LAST_LATE, "last_ns is out of range (101 not in 10..100)"},
	};
	struct import_fx *x = malloc(sizeof(*x));
	struct ew_detector *d = ew_detector_new(&fx->cfg);
	char err[256] = "";

	assert_non_null(x);
	assert_non_null(d);
	import_fx_init(x);
	assert_int_equal(import_fx_run(x, d, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(ew_detector_identities(d), 1);
	assert_int_equal(ew_detector_active(d), 1);
	/* The episode's deadline is derived again: its last event + the rule's resolve time. */
	assert_int_equal(ew_detector_next_deadline(d),
			 20 + fx->cfg.rules[EW_RULE_RESTART_RATE].resolve_ns);
	ew_detector_free(d);

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char ctx[64];

		snprintf(ctx, sizeof(ctx), "case %zu", i);
		import_fx_init(x);
		spoil(x, cases[i].s);
		d = ew_detector_new(&fx->cfg);
		assert_non_null(d);
		err[0] = '\0';
		CHECK_EQ(ctx, "error", -EINVAL, import_fx_run(x, d, err, sizeof(err)));
		if (!strstr(err, cases[i].msg))
			fail_msg("%s: want a message with \"%s\", got \"%s\"", ctx, cases[i].msg,
				 err);
		assert_empty_and_usable(fx, d, ctx);
		ew_detector_free(d);
	}
	free(x);
}

/* What the import derives: serials go on after the highest imported, a running start's grace. */
static void test_import_derives(void **state)
{
	struct fx *fx = *state;
	struct import_fx *x = malloc(sizeof(*x));
	struct ew_detector *d = ew_detector_new(&fx->cfg);
	struct ew_buf b;
	char err[256] = "";

	assert_non_null(x);
	assert_non_null(d);
	import_fx_init(x);
	x->id[0].serial = 41;
	x->id[0].s.nep = 0;
	x->id[0].running = true;
	x->id[0].outcome_done = false;
	x->nid = 2; /* b: serial 2 */
	assert_int_equal(import_fx_run(x, d, err, sizeof(err)), 0);
	assert_int_equal(ew_detector_next_deadline(d), 40 + fx->cfg.startup_grace_ns);
	state_dump(d, &b);
	assert_non_null(strstr(b.data, "next_serial 42"));
	ew_buf_free(&b);
	/* The next identity seen gets serial 42, not one of the imported. */
	feed_to(fx, d, &fx->sk, OP_EXIT, 0, 200, 1, 0);
	state_dump(d, &b);
	assert_non_null(strstr(b.data, " serial 42 "));
	assert_non_null(strstr(b.data, " serial 41 "));
	assert_non_null(strstr(b.data, " serial 2 "));
	ew_buf_free(&b);
	ew_detector_free(d);
	free(x);
}

/* An import its caller gives up on: the detector is left empty, the caller's message stands. */
static void test_import_cancelled(void **state)
{
	struct fx *fx = *state;
	struct import_fx *x = malloc(sizeof(*x));
	struct ew_detector_import *im;
	char err[64] = "the caller's";

	assert_non_null(x);
	import_fx_init(x);
	loop_then(fx, 0, 0);
	assert_int_equal(ew_detector_identities(fx->d), 1);
	im = ew_detector_import_begin(fx->d, &x->st, err, sizeof(err));
	assert_non_null(im);
	assert_int_equal(ew_detector_import_workload(im, &x->wl[0]), 0);
	assert_int_equal(ew_detector_import_ident(im, &x->id[0]), 0);
	assert_int_equal(ew_detector_import_end(im, fx->d, false), -ECANCELED);
	assert_string_equal(err, "the caller's");
	assert_empty_and_usable(fx, fx->d, "cancelled");
	free(x);
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
		if (!running[who]) {
			st[n++] = (struct step){OP_START, (uint8_t)who, 0, 0, t};
			if (rng_next(&seed) % 4 == 0)
				st[n++] = (struct step){OP_READY, (uint8_t)who, 0, 0, t + 500};
		} else {
			st[n++] = (struct step){OP_EXIT, (uint8_t)who,
						codes[rng_next(&seed) % ARRAY_SIZE(codes)], 0,
						t + 1000};
			t += 1000;
		}
		running[who] = !running[who];
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

/* ---- the window ---- */

static void test_window(void **state)
{
	struct ew_window w;
	static const uint64_t in[] = {10, 20, 15, 30, 40, 50, 60, 70, 80, 90, 100};
	static const uint64_t want[] = {10, 20, 20, 30, 40, 50, 60, 70, 80, 90, 100};
	static const struct {
		uint64_t cutoff;
		uint32_t first;
	} after[] = {{0, 0}, {10, 1}, {19, 1}, {20, 3}, {95, 10}, {100, 11}};

	(void)state;
	ew_window_init(&w, 0);
	assert_null(ew_window_last(&w));
	assert_int_equal(ew_window_first_after(&w, 0), 0);
	for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
		struct ew_sample x = {.t = in[i], .ident = (uint32_t)i, .code = 3};

		assert_int_equal(ew_window_push(&w, &x), 0);
	}
	assert_int_equal(w.n, ARRAY_SIZE(want));
	for (uint32_t i = 0; i < w.n; i++) /* an older time is clamped: the ring stays sorted */
		assert_int_equal(ew_window_at(&w, i)->t, want[i]);
	for (size_t i = 0; i < ARRAY_SIZE(after); i++)
		assert_int_equal(ew_window_first_after(&w, after[i].cutoff), after[i].first);

	/* Pruned from the front, then grown again while the ring wraps. */
	ew_window_prune(&w, 50);
	assert_int_equal(w.n, 5);
	assert_int_equal(ew_window_at(&w, 0)->t, 60);
	for (uint64_t t = 110; t <= 300; t += 10) {
		struct ew_sample x = {.t = t};

		assert_int_equal(ew_window_push(&w, &x), 0);
	}
	assert_int_equal(w.n, 25);
	for (uint32_t i = 0; i < w.n; i++)
		assert_int_equal(ew_window_at(&w, i)->t, 60 + 10 * i);
	assert_int_equal(ew_window_last(&w)->t, 300);
	ew_window_prune(&w, 300);
	assert_int_equal(w.n, 0);
	assert_int_equal(w.cap, 0); /* memory given back */
	ew_window_free(&w);

	/* Bounded: the oldest go. */
	ew_window_init(&w, 4);
	for (uint64_t t = 1; t <= 6; t++) {
		struct ew_sample x = {.t = t};

		assert_int_equal(ew_window_push(&w, &x), 0);
	}
	assert_int_equal(w.n, 4);
	assert_int_equal(ew_window_at(&w, 0)->t, 3);
	assert_int_equal(ew_window_last(&w)->t, 6);
	ew_window_free(&w);
	assert_int_equal(w.n, 0);
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
		T(test_seed_restarts),
		T(test_startup_table),
		T(test_startup_workload_scope),
		T(test_startup_grace_exact),
		T(test_startup_resolution),
		T(test_stable_once),
		T(test_stable_ignores_scope_and_count),
		T(test_stable_needs_a_loop_and_4h),
		T(test_stable_for_running_replica),
		T(test_seeded_and_reexec),
		T(test_startup_ret_table),
		T(test_out_of_order_events),
		T(test_evidence_histogram),
		T(test_evidence_tail),
		T(test_evidence_subject_last_exit),
		T(test_degraded_table),
		T(test_export_import_round_trip),
		T(test_import_invariants),
		T(test_import_derives),
		T(test_import_cancelled),
		T(test_eviction_bounded),
		T(test_eviction_keeps_busy),
		T(test_idle_forget),
		T(test_determinism),
		T(test_window),
		T(test_config_defaults_and_names),
		T(test_empty_detector),
	};

	return cmocka_run_group_tests_name("detector", tests, NULL, NULL);
}
