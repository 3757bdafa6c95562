// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * detect/crash_loop.c: N failed starts in a row of one identity with one exit code fire an ERROR
 * finding at once, whatever the time between them, and the first successful start resolves it;
 * in virtual time (tests/detector_fixture.h), with only crash_loop compared unless a case says.
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
#include "exitwatch/util/buf.h"
#include "exitwatch/util/util.h"
#include "detector_fixture.h"

#define LOOP RULE(EW_RULE_CRASH_LOOP)

static int setup_loop(void **state)
{
	struct fx *fx;

	setup(state);
	fx = *state;
	fx->cfg.rules[EW_RULE_CRASH_LOOP].enabled = true;
	return 0;
}

/* A failed start: a start, then an exit 20 s later (inside the 60 s grace period). */
#define FAIL(w, s, c) ST(w, s), X(w, (s) + 20, c)

static const struct scenario loop_cases[] = {
	{"one failed start: nothing", LOOP, STEPS(FAIL(0, 0, 3), ADV(100000)), NONE},
	{"two in a row with code 3 fire at the second exit", LOOP,
	 STEPS(FAIL(0, 0, 3), FAIL(0, 420, 3)), WANTS(W_LOOP(440, 2, 0))},
	{"whatever the interval: two failed starts 5 hours apart", LOOP,
	 STEPS(FAIL(0, 0, 3), FAIL(0, 5 * 3600, 3)), WANTS(W_LOOP(5 * 3600 + 20, 2, 0))},
	{"different codes break the streak; the next pair fires", LOOP,
	 STEPS(FAIL(0, 0, 3), FAIL(0, 100, 1), FAIL(0, 200, 1)), WANTS(W_LOOP(220, 2, 0))},
	{"a signal is not a code: SIGSEGV then code 11 do not match", LOOP,
	 STEPS(ST(0, 0), XSIG(0, 20, SIGSEGV), FAIL(0, 100, 11)), NONE},
	{"two SIGSEGV crashes in a row fire", LOOP,
	 STEPS(ST(0, 0), XSIG(0, 20, SIGSEGV), ST(0, 100), XSIG(0, 120, SIGSEGV)),
	 WANTS(W_LOOP(120, 2, 0))},
	/* A start whose command never ran: runc's init exits 1, crun's is SIGKILLed by crun or
	 * exits 1 as their race goes. One way of failing, whichever. */
	{"commands that never ran: the init's exit 1 or SIGKILL alike fire at the second", LOOP,
	 STEPS(SF(0, 0, 1), SFSIG(0, 10, SIGKILL), SF(0, 20, 1)), WANTS(W_LOOP(10, 2, 0))},
	{"a command that never ran and an app's exit 1 are not the same way", LOOP,
	 STEPS(SF(0, 0, 1), FAIL(0, 100, 1), SF(0, 200, 1)), NONE},
	{"a ready start in between resets the streak", LOOP,
	 STEPS(FAIL(0, 0, 3), ST(0, 100), RD(0, 101), X(0, 110, 3), FAIL(0, 200, 3)), NONE},
	{"a start that survives the grace period in between resets it", LOOP,
	 STEPS(FAIL(0, 0, 3), ST(0, 100), X(0, 161, 3), FAIL(0, 200, 3)), NONE},
	{"a clean exit (a job) is a success: no streak", LOOP,
	 STEPS(FAIL(0, 0, 3), FAIL(0, 100, 0), FAIL(0, 200, 3)), NONE},
	{"resolves at the first ready start, counting the episode's failures", LOOP,
	 STEPS(FAIL(0, 0, 3), FAIL(0, 100, 3), FAIL(0, 200, 3), FAIL(0, 300, 3), ST(0, 400),
	       RD(0, 405), ADV(100000)),
	 WANTS(W_LOOP(120, 2, 0), W_LOOP_R(405, 4, 0))},
	{"resolves when a start survives the grace period, at that deadline", LOOP,
	 STEPS(FAIL(0, 0, 3), FAIL(0, 100, 3), ST(0, 400), ADV(100000)),
	 WANTS(W_LOOP(120, 2, 0), W_LOOP_R(460, 2, 0))},
	{"one episode while it goes on, a new one after the fix fails again", LOOP,
	 STEPS(FAIL(0, 0, 3), FAIL(0, 100, 3), FAIL(0, 200, 3), ST(0, 300), RD(0, 301),
	       X(0, 900, 3), FAIL(0, 1000, 3), FAIL(0, 1100, 3)),
	 WANTS(W_LOOP(120, 2, 0), W_LOOP_R(301, 3, 0), W_LOOP(1120, 2, 0))},
	{"identities never mix, replicas of one workload included", LOOP,
	 STEPS(FAIL(10, 0, 3), FAIL(11, 50, 3), FAIL(10, 100, 3)), WANTS(W_LOOP(120, 2, 10))},
	{"a process found running at start-up: its exit decides nothing", LOOP,
	 STEPS(SEEDED(0, 0), X(0, 10, 3), FAIL(0, 100, 3)), NONE},
	/* A loop fixed by new pods (a rollout, kubectl delete pod): its identity never starts
	 * again, and an hour (resolve) after its last exit the episode is over. */
	{"never started again: resolved 1h after its last exit", LOOP,
	 STEPS(FAIL(0, 0, 3), FAIL(0, 100, 3), ADV(100000)),
	 WANTS(W_LOOP(120, 2, 0), W_LOOP_R(120 + 3600, 2, 0))},
	{"a failed start within the hour starts the quiet period again", LOOP,
	 STEPS(FAIL(0, 0, 3), FAIL(0, 100, 3), FAIL(0, 3000, 3), ADV(100000)),
	 WANTS(W_LOOP(120, 2, 0), W_LOOP_R(3020 + 3600, 3, 0))},
	{"running is not quiet: a run found at start-up, then its exit, then the hour", LOOP,
	 STEPS(FAIL(0, 0, 3), FAIL(0, 100, 3), SEEDED(0, 1000), X(0, 5000, 3), ADV(100000)),
	 WANTS(W_LOOP(120, 2, 0), W_LOOP_R(5000 + 3600, 2, 0))},
	{"a start within the hour that succeeds resolves at its success, once", LOOP,
	 STEPS(FAIL(0, 0, 3), FAIL(0, 100, 3), ST(0, 3700), ADV(100000)),
	 WANTS(W_LOOP(120, 2, 0), W_LOOP_R(3760, 2, 0))},
	/* The streak was never broken by a success: the loop is back, at once. */
	{"started again after the quiet resolution and failed: fires again", LOOP,
	 STEPS(FAIL(0, 0, 3), FAIL(0, 100, 3), ADV(5000), FAIL(0, 9000, 3), ADV(100000)),
	 WANTS(W_LOOP(120, 2, 0), W_LOOP_R(3720, 2, 0), W_LOOP(9020, 3, 0),
	       W_LOOP_R(9020 + 3600, 3, 0))},
};

static void test_crash_loop_table(void **state)
{
	run_scenarios(*state, loop_cases, ARRAY_SIZE(loop_cases));
}

static void test_crash_loop_count_and_disabled(void **state)
{
	struct fx *fx = *state;
	static const struct want three[] = {W_LOOP(240, 3, 0)};

	fx->cfg.rules[EW_RULE_CRASH_LOOP].count = 3;
	for (int k = 0; k < 3; k++) {
		feed(fx, OP_START, 0, 100.0 * k, 0, 0);
		feed(fx, OP_EXIT, 0, 100.0 * k + 40, 3, 0);
	}
	check_wants("count 3", &fx->sk, fx->ids, LOOP, three, ARRAY_SIZE(three));

	ew_detector_free(fx->d);
	fx->d = NULL;
	sink_clear(&fx->sk);
	fx->cfg.rules[EW_RULE_CRASH_LOOP].enabled = false;
	for (int k = 0; k < 5; k++) {
		feed(fx, OP_START, 0, 100.0 * k, 0, 0);
		feed(fx, OP_EXIT, 0, 100.0 * k + 40, 3, 0);
	}
	assert_int_equal(count_rule(&fx->sk, EW_RULE_CRASH_LOOP, false), 0);
}

/*
 * [rule.crash_loop] resolve is the quiet period: the resolution carries its deadline's time,
 * exactly that long after the last exit, and describes the streak it ends.
 */
static void test_crash_loop_quiet_period(void **state)
{
	struct fx *fx = *state;
	const struct got *g;

	fx->cfg.rules[EW_RULE_CRASH_LOOP].resolve_ns = SEC(600);
	feed(fx, OP_START, 0, 0, 0, 0);
	feed(fx, OP_EXIT, 0, 40, 3, 0);
	feed(fx, OP_START, 0, 100, 0, 0);
	feed(fx, OP_EXIT, 0, 140, 3, 0);
	advance(fx, AT(739));
	assert_int_equal(count_rule(&fx->sk, EW_RULE_CRASH_LOOP, true), 0);
	assert_int_equal(ew_detector_active(fx->d), 1);
	advance(fx, AT(740));
	assert_int_equal(fx->sk.n, 2);
	g = &fx->sk.v[1];
	assert_true(g->f.resolved);
	assert_int_equal(g->f.why, EW_RESOLVED_QUIET);
	assert_int_equal(g->f.rule, EW_RULE_CRASH_LOOP);
	assert_int_equal(g->f.time_ns, AT(740));
	assert_string_equal(g->f.finding_id, fx->sk.v[0].f.finding_id);
	assert_int_equal(g->f.fired_ns, AT(140));
	assert_int_equal(g->f.duration_ns, SEC(600));
	assert_int_equal(g->f.total, 2);
	assert_int_equal(g->f.count, 2);
	assert_true(g->f.has_last_exit);
	assert_int_equal(g->f.last_exit_ns + SEC(600), g->f.time_ns);
	assert_int_equal(ew_detector_active(fx->d), 0);

	/* A start that succeeds says so: the other way an episode ends. */
	feed(fx, OP_START, 0, 1000, 0, 0);
	feed(fx, OP_EXIT, 0, 1010, 3, 0);
	feed(fx, OP_START, 0, 1100, 0, 0);
	feed(fx, OP_READY, 0, 1101, 0, 0);
	assert_int_equal(fx->sk.n, 4);
	g = &fx->sk.v[3];
	assert_true(g->f.resolved);
	assert_int_equal(g->f.why, EW_RESOLVED_CONDITION);
	assert_int_equal(g->f.time_ns, AT(1101));
}

/* What the finding says: severity, scope, count, the streak's span and whether stderr repeated. */
static void test_crash_loop_finding_fields(void **state)
{
	struct fx *fx = *state;
	const struct got *g;

	feed(fx, OP_START, 0, 0, 0, 0);
	feed(fx, OP_EXIT, 0, 40, 3, 0);
	feed(fx, OP_START, 0, 420, 0, 0);
	feed(fx, OP_EXIT, 0, 460, 3, 0);
	assert_int_equal(fx->sk.n, 1);
	g = &fx->sk.v[0];
	assert_int_equal(g->f.rule, EW_RULE_CRASH_LOOP);
	assert_int_equal(g->f.severity, EW_SEV_ERROR);
	assert_int_equal(g->f.scope, EW_SCOPE_IDENTITY);
	assert_int_equal(g->f.count, 2);
	assert_int_equal(g->f.threshold, 2);
	assert_int_equal(g->f.line_repeats, 2);
	assert_int_equal(g->f.first_ns, AT(40));
	assert_int_equal(g->f.last_ns, AT(460));
	assert_int_equal(g->f.window_ns, SEC(420) + 1);
	assert_int_equal(g->f.intervals, 1);
	CHECK_DBL("loop", "median", 420, g->f.interval_median_s);
	assert_true(g->f.has_last_exit);
	assert_int_equal(g->f.last_code, 3);
	assert_int_equal(g->f.last_class, EW_CLASS_CONFIG_ERROR);
	assert_int_equal(g->f.tail_len, strlen(DEF_TAIL));
	assert_true(finding_id_ok(g->f.finding_id));
	assert_false(g->f.resolved);
	assert_int_equal(ew_detector_active(fx->d), 1);
}

static const struct tail_case {
	const char *name;
	const char *tails[3];
	uint32_t repeats;
} tail_cases[] = {
	{"the same last line", {"boot\nImportError: x\n", "boot 2\nImportError: x\n", NULL}, 2},
	{"a different last line", {"ImportError: x\n", "ImportError: y\n", NULL}, 1},
	{"trailing blank lines and CR do not matter",
	 {"ImportError: x\r\n\n", "ImportError: x\n", NULL},
	 2},
	{"no stderr at all", {"", "", NULL}, 0},
	{"changed, then the same twice", {"a\n", "b\n", "b\n"}, 2},
};

static void test_crash_loop_stderr_repeats(void **state)
{
	struct fx *fx = *state;

	fx->cfg.rules[EW_RULE_CRASH_LOOP].count = 0; /* set per case below */
	for (size_t i = 0; i < ARRAY_SIZE(tail_cases); i++) {
		const struct tail_case *c = &tail_cases[i];
		uint32_t n = c->tails[2] ? 3 : 2;

		ew_detector_free(fx->d);
		fx->d = NULL;
		sink_clear(&fx->sk);
		fx->cfg.rules[EW_RULE_CRASH_LOOP].count = n;
		for (uint32_t k = 0; k < n; k++) {
			fx->tail = c->tails[k];
			feed(fx, OP_START, 1, 100.0 * k, 0, 0);
			feed(fx, OP_EXIT, 1, 100.0 * k + 10, 3, 0);
		}
		fx->tail = NULL;
		CHECK_EQ(c->name, "findings", 1, fx->sk.n);
		CHECK_EQ(c->name, "line_repeats", c->repeats, fx->sk.v[0].f.line_repeats);
	}
}

/*
 * The steps before, then an agent restart (export, import), then the steps after in the restored
 * detector: the streak crossed (its dump holds streak, the same on both sides) when the failure
 * after fires there.
 */
static void streak_across_restart(struct fx *fx, const struct step *before, size_t nb,
				  const struct step *after, size_t na, const char *streak)
{
	struct ew_detector *b = ew_detector_new(&fx->cfg);
	struct sink skb = {0};
	struct ew_buf da, db;
	char err[256] = "";

	assert_non_null(b);
	run_on(fx, det(fx), &fx->sk, before, nb);
	assert_int_equal(state_copy(det(fx), b, err, sizeof(err)), 0);
	state_dump(det(fx), &da);
	state_dump(b, &db);
	if (!strstr(da.data, streak))
		fail_msg("no \"%s\" in the dump:\n%s", streak, da.data);
	assert_string_equal(da.data, db.data);
	run_on(fx, b, &skb, after, na);
	assert_int_equal(count_rule(&skb, EW_RULE_CRASH_LOOP, false), 1);
	ew_buf_free(&da);
	ew_buf_free(&db);
	ew_detector_free(b);
	sink_clear(&skb);
}

/* The streak survives an agent restart: the next failure still fires. */
static void test_crash_loop_streak_survives_restart(void **state)
{
	static const struct step before[] = {FAIL(0, 0, 3)}, after[] = {FAIL(0, 420, 3)};

	streak_across_restart(*state, before, ARRAY_SIZE(before), after, ARRAY_SIZE(after),
			      " streak [1 ");
}

/* So does a streak of starts whose command never ran, as such: a SIGKILLed init goes on one
 * that exited 1. */
static void test_crash_loop_start_failed_streak_survives_restart(void **state)
{
	static const struct step before[] = {SF(0, 0, 1)}, after[] = {SFSIG(0, 420, SIGKILL)};
	char streak[64];

	/* [streak, first exit, code, signal, ...]: the first exit at 0 s. */
	snprintf(streak, sizeof(streak), " streak [1 %llu %d 0 ", (unsigned long long)T0,
		 EW_STREAK_START_FAILED);
	streak_across_restart(*state, before, ARRAY_SIZE(before), after, ARRAY_SIZE(after), streak);
}

/*
 * A loop open in a state file, crash_loop turned off in the new agent's configuration, and the
 * container fixed: no start would resolve it any more, so the episode is resolved at the first
 * advance after the import, once.
 */
static void test_crash_loop_restored_rule_off(void **state)
{
	struct fx *fx = *state;
	struct ew_detector_config off = fx->cfg;
	struct ew_detector *b;
	struct sink sk = {0};
	char err[256] = "";

	feed(fx, OP_START, 0, 0, 0, 0);
	feed(fx, OP_EXIT, 0, 1, 3, 0);
	feed(fx, OP_START, 0, 11, 0, 0);
	feed(fx, OP_EXIT, 0, 12, 3, 0);
	assert_int_equal(count_rule(&fx->sk, EW_RULE_CRASH_LOOP, false), 1);
	off.rules[EW_RULE_CRASH_LOOP].enabled = false;
	b = ew_detector_new(&off);
	assert_non_null(b);
	assert_int_equal(state_copy(det(fx), b, err, sizeof(err)), 0);
	assert_int_equal(ew_detector_active(b), 1);
	feed_to(fx, b, &sk, OP_START, 0, AT(100), 0, 0);
	feed_to(fx, b, &sk, OP_READY, 0, AT(102), 0, 0);
	ew_detector_advance(b, AT(3 * 86400), collect, &sk);
	assert_int_equal(count_rule(&sk, EW_RULE_CRASH_LOOP, true), 1);
	assert_int_equal(sk.n, 1);
	assert_string_equal(sk.v[0].f.finding_id, fx->sk.v[0].f.finding_id);
	assert_int_equal(sk.v[0].f.time_ns, AT(12)); /* the state's time */
	assert_int_equal(sk.v[0].f.why, EW_RESOLVED_RULE_OFF);
	assert_int_equal(ew_detector_active(b), 0);
	ew_detector_free(b);
	sink_clear(&sk);
}

/*
 * The seed's timeline: a start every 7 minutes that exits 3 forty seconds in, 9 times, then the
 * fix at minute 63 that stays up. crash_loop fires at the second exit (minute 7.67, 7 minutes
 * after the first), resolves when the fix survives its grace period (minute 64), and the four
 * seed rules say exactly what they say without it.
 */
static void test_crash_loop_seed_timeline(void **state)
{
	struct fx *fx = *state;
	const struct want w[] = {
		W_LOOP(460, 2, 0),
		W_RATE(1680, 4, 0),
		W_START(1720, 5, 0),
		W_LOOP_R(3840, 9, 0),
		W_START_R(3400 + 3600, 9, 0),
		W_RATE_R(3780 + 3600, 9, 0),
		W_STABLE(3780 + 4 * 3600, 0),
	};

	for (int k = 0; k < 9; k++) {
		feed(fx, OP_START, 0, 420.0 * k, 0, 0);
		feed(fx, OP_EXIT, 0, 420.0 * k + 40, 3, 0);
	}
	feed(fx, OP_START, 0, 3780, 0, 0);
	advance(fx, AT(30 * 3600));
	check_wants("seed", &fx->sk, fx->ids, ALL_RULES | LOOP, w, ARRAY_SIZE(w));
	assert_int_equal(ew_detector_active(fx->d), 0);
}

/*
 * Starts that never ran, each with its runtime's error: the finding quotes it as such (not as
 * stderr), counts it as their last words (the same each time), and the identity keeps it asleep
 * between them and across an agent restart; an application's failed exit with stderr replaces
 * it, as stderr.
 */
static void test_crash_loop_start_error(void **state)
{
	static const char why[] = "exec: \"/app\": stat /app: no such file or directory";
	static const struct step before[] = {SF(0, 0, 1)}, after[] = {SF(0, 420, 1)};
	struct fx *fx = *state;
	struct ew_buf dump;

	fx->start_error = why;
	streak_across_restart(fx, before, ARRAY_SIZE(before), after, ARRAY_SIZE(after),
			      " tail 50 start_error:exec: ");
	/* The same in one detector: asleep between the two (nothing open after the first). */
	run_on(fx, det(fx), &fx->sk, after, ARRAY_SIZE(after));
	assert_int_equal(fx->sk.n, 1);
	assert_int_equal(fx->sk.v[0].f.rule, EW_RULE_CRASH_LOOP);
	assert_true(fx->sk.v[0].f.tail_start_error);
	assert_int_equal(fx->sk.v[0].f.tail_len, strlen(why));
	assert_memory_equal(fx->sk.v[0].tail, why, strlen(why));
	assert_int_equal(fx->sk.v[0].f.line_repeats, 2);
	/* An application's failure after them: its stderr is the tail now. */
	fx->start_error = NULL;
	feed(fx, OP_START, 0, 500, 0, 0);
	feed(fx, OP_EXIT, 0, 510, 3, 0);
	state_dump(det(fx), &dump);
	if (strstr(dump.data, "start_error"))
		fail_msg("a stderr tail still marked as a start error:\n%s", dump.data);
	ew_buf_free(&dump);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_loop, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_crash_loop_table),
		T(test_crash_loop_count_and_disabled),
		T(test_crash_loop_quiet_period),
		T(test_crash_loop_finding_fields),
		T(test_crash_loop_stderr_repeats),
		T(test_crash_loop_streak_survives_restart),
		T(test_crash_loop_seed_timeline),
		T(test_crash_loop_restored_rule_off),
		T(test_crash_loop_start_failed_streak_survives_restart),
		T(test_crash_loop_start_error),
	};

	return cmocka_run_group_tests_name("crash_loop", tests, NULL, NULL);
}
