// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * detect/events.c: what each event changes and what ew_detector_observe() says of it (a seeded
 * start, a re-exec, the start-up outcome, events out of order), in virtual time
 * (tests/detector_fixture.h).
 */
#include <setjmp.h>
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

/* ---- events: seeded, re-exec, what observe says ---- */

/*
 * A container whose command never ran is a start and a failed one at once, a restart when it
 * had run before: restart_rate, startup_failure_rate and crash_loop count it. exit_code_burst
 * does not, even with the init's code among its codes: that code is the runtime's.
 */
static void test_start_failed(void **state)
{
	struct fx *fx = *state;
	struct ew_startup su;

	fx->cfg.rules[EW_RULE_CRASH_LOOP].enabled = true;
	ew_rule_set_code(&fx->cfg.rules[EW_RULE_EXIT_CODE_BURST], 1);
	su = feed(fx, OP_START_FAILED, 0, 0, 1, 0);
	assert_true(su.known);
	assert_false(su.succeeded);
	assert_int_equal(su.restarts, 0);
	for (int i = 1; i <= 5; i++) {
		su = feed(fx, OP_START_FAILED, 0, 10 * i, 1, 0);
		assert_true(su.known);
		assert_false(su.succeeded);
		assert_int_equal(su.restarts, i);
	}
	assert_int_equal(count_rule(&fx->sk, EW_RULE_CRASH_LOOP, false), 1);
	assert_int_equal(count_rule(&fx->sk, EW_RULE_RESTART_RATE, false), 1);
	assert_int_equal(count_rule(&fx->sk, EW_RULE_STARTUP_FAILURE_RATE, false), 1);
	assert_int_equal(count_rule(&fx->sk, EW_RULE_EXIT_CODE_BURST, false), 0);
	for (size_t i = 0; i < fx->sk.n; i++)
		assert_int_equal(fx->sk.v[i].f.last_class, EW_CLASS_START_FAILED);
	/* Nothing is left running: no grace deadline fires a success later. */
	advance(fx, AT(50 + 7200));
	assert_int_equal(count_rule(&fx->sk, EW_RULE_STABLE, false), 0);
	/* The same code from the application's exits counts. */
	feed(fx, OP_START, 1, 7300, 0, 0);
	for (int i = 0; i < 4; i++) {
		feed(fx, OP_EXIT, 1, 7301 + 2 * i, 1, 0);
		feed(fx, OP_START, 1, 7302 + 2 * i, 0, 0);
	}
	assert_int_equal(count_rule(&fx->sk, EW_RULE_EXIT_CODE_BURST, false), 1);
}

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

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_start_failed),
		T(test_seeded_and_reexec),
		T(test_startup_ret_table),
		T(test_out_of_order_events),
	};

	return cmocka_run_group_tests_name("events", tests, NULL, NULL);
}
