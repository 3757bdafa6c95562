// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * detect/evidence.c: what a finding says (the exit histogram, the stderr tail, the subject's
 * last exit, degraded when records were lost in its window), in virtual time
 * (tests/detector_fixture.h).
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

/*
 * The last exit's sender: a finding names the one of the exit it describes (its container_exit's
 * killed_by), and none once a later exit had none.
 */
static void test_evidence_last_killer(void **state)
{
	struct fx *fx = *state;
	const struct got *g;

	/* An app that catches the runtime's SIGTERM and exits 3, four times in a minute. */
	fx->killer = SIGTERM;
	for (int i = 0; i < 4; i++) {
		fx->killer_pid = 4000 + (uint32_t)i;
		feed(fx, OP_EXIT, 0, 10.0 * i, 3, 0);
	}
	assert_int_equal(fx->sk.n, 1);
	g = &fx->sk.v[0];
	assert_int_equal(g->f.rule, EW_RULE_EXIT_CODE_BURST);
	assert_true(g->has_killer);
	assert_int_equal(g->killer.pid, 4003); /* the last exit's, not the first's */
	assert_int_equal(g->killer.signal, SIGTERM);
	assert_int_equal(g->killer.cgroup_id, 1);
	assert_string_equal(g->killer.comm, "runc");
	assert_string_equal(g->killer.container, "host");

	/* Then it exits on its own: the resolution describes that exit, with no sender. */
	fx->killer = 0;
	feed(fx, OP_EXIT, 0, 40, 3, 0);
	advance(fx, AT(7200));
	assert_int_equal(fx->sk.n, 2);
	g = &fx->sk.v[1];
	assert_true(g->f.resolved);
	assert_int_equal(g->f.last_exit_ns, AT(40));
	assert_false(g->has_killer);

	/* A workload's finding names its subject's sender, not another replica's. */
	fx->killer = SIGKILL;
	fx->killer_pid = 777;
	feed(fx, OP_EXIT, 10, 8000, 0, SIGKILL);
	fx->killer = 0;
	for (int i = 0; i < 4; i++)
		feed(fx, OP_EXIT, 11, 8010 + 10.0 * i, 3, 0);
	assert_int_equal(fx->sk.n, 3);
	g = &fx->sk.v[2];
	assert_string_equal(g->key, fx->ids[11].key);
	assert_false(g->has_killer);
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

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_evidence_histogram),   T(test_evidence_tail),
		T(test_evidence_last_killer), T(test_evidence_subject_last_exit),
		T(test_degraded_table),
	};

	return cmocka_run_group_tests_name("evidence", tests, NULL, NULL);
}
