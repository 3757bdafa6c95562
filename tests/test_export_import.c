// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * detect/export.c and detect/import.c: the detector's state exported and imported as plain
 * values (no file: tests/test_state.c has that), checked against a copy that goes on in step,
 * and every invariant the import checks, case by case.
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
	struct ew_detector_import *im =
		ew_detector_import_begin(d, &x->st, UINT64_MAX, err, errlen);

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

/*
 * A crash_loop episode's deadline is derived too: an hour (resolve) after the identity's last
 * exit while it is not running; none while it runs (its start's outcome will say).
 */
static void test_import_crash_loop_deadline(void **state)
{
	struct fx *fx = *state;
	struct import_fx *x = malloc(sizeof(*x));
	struct ew_detector *d;
	char err[256] = "";

	assert_non_null(x);
	fx->cfg.rules[EW_RULE_CRASH_LOOP].enabled = true;
	import_fx_init(x);
	x->ep[0].rule = EW_RULE_CRASH_LOOP;
	d = ew_detector_new(&fx->cfg);
	assert_non_null(d);
	assert_int_equal(import_fx_run(x, d, err, sizeof(err)), 0);
	assert_int_equal(ew_detector_next_deadline(d), 50 + SEC(3600));
	ew_detector_advance(d, 50 + SEC(3600), collect, &fx->sk);
	assert_int_equal(fx->sk.n, 1);
	assert_true(fx->sk.v[0].f.resolved);
	assert_int_equal(fx->sk.v[0].f.time_ns, 50 + SEC(3600));
	assert_int_equal(ew_detector_active(d), 0);
	ew_detector_free(d);
	sink_clear(&fx->sk);

	import_fx_init(x);
	x->ep[0].rule = EW_RULE_CRASH_LOOP;
	x->id[0].running = true;
	x->id[0].outcome_done = false;
	x->id[0].start_ns = 60;
	d = ew_detector_new(&fx->cfg);
	assert_non_null(d);
	assert_int_equal(import_fx_run(x, d, err, sizeof(err)), 0);
	ew_detector_advance(d, 60 + fx->cfg.startup_grace_ns, collect, &fx->sk);
	assert_int_equal(fx->sk.n, 1);
	assert_int_equal(fx->sk.v[0].f.time_ns, 60 + fx->cfg.startup_grace_ns);
	assert_int_equal(ew_detector_next_deadline(d), UINT64_MAX);
	assert_int_equal(ew_detector_active(d), 0);
	ew_detector_free(d);
	free(x);
}

/*
 * An episode restored for a rule this configuration turns off: nothing would ever resolve it
 * (its rule no longer looks at events), so every rule's resolves at the first advance, at the
 * state's time, and says why. Each rule in its default scope.
 */
static void test_import_rule_off(void **state)
{
	static const enum ew_rule rules[] = {EW_RULE_EXIT_CODE_BURST, EW_RULE_RESTART_RATE,
					     EW_RULE_STARTUP_FAILURE_RATE, EW_RULE_CRASH_LOOP};
	struct fx *fx = *state;
	struct import_fx *x = malloc(sizeof(*x));
	char err[256] = "";

	assert_non_null(x);
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		struct ew_detector_config cfg = fx->cfg;
		const char *ctx = ew_rule_name(rules[i]);
		struct ew_detector *d;
		struct sink sk = {0};

		cfg.rules[EW_RULE_CRASH_LOOP].enabled = true;
		cfg.rules[rules[i]].enabled = false;
		import_fx_init(x);
		x->ep[0].rule = rules[i];
		if (cfg.rules[rules[i]].scope == EW_SCOPE_WORKLOAD &&
		    rules[i] != EW_RULE_CRASH_LOOP) {
			x->wl[0].s.ep = x->ep;
			x->wl[0].s.nep = 1;
			x->id[0].s.nep = 0;
		}
		d = ew_detector_new(&cfg);
		assert_non_null(d);
		CHECK_EQ(ctx, "import", 0, import_fx_run(x, d, err, sizeof(err)));
		CHECK_EQ(ctx, "open", 1, ew_detector_active(d));
		ew_detector_advance(d, 200, collect, &sk);
		CHECK_EQ(ctx, "records", 1, sk.n);
		CHECK_EQ(ctx, "resolved", true, sk.v[0].f.resolved);
		CHECK_EQ(ctx, "rule", rules[i], sk.v[0].f.rule);
		CHECK_EQ(ctx, "time: the state's", 100, sk.v[0].f.time_ns);
		CHECK_EQ(ctx, "why", EW_RESOLVED_RULE_OFF, sk.v[0].f.why);
		CHECK_STR(ctx, "finding_id", "f-0123456789abcdef", sk.v[0].f.finding_id);
		CHECK_EQ(ctx, "total", 4, sk.v[0].f.total);
		CHECK_EQ(ctx, "open after", 0, ew_detector_active(d));
		/* Resolved once: a day later, nothing more. */
		ew_detector_advance(d, 100 + SEC(86400), collect, &sk);
		CHECK_EQ(ctx, "records a day later", 1, sk.n);
		ew_detector_free(d);
		sink_clear(&sk);
	}
	free(x);
}

/*
 * A state saved while the node's clock was an hour ahead (set right by NTP before the agent's
 * restart): its time, taken as it is, would be the detector's, and every later event clamped
 * up to it. Its times move back by the difference: the real clock's 7-minute loop (3 exits in
 * any 5 minutes) is no burst. Within EW_DETECTOR_CLOCK_SLACK_NS nothing moves.
 */
static void test_import_clock_ahead(void **state)
{
	struct fx *fx = *state;
	struct ew_detector *b = ew_detector_new(&fx->cfg), *c = ew_detector_new(&fx->cfg);
	struct ew_detector_state st;
	struct sink sk = {0};
	struct ew_buf da, db;
	uint64_t shift = 1;
	char err[256] = "";

	assert_non_null(b);
	assert_non_null(c);
	/* Neighbours, at the fast clock: one exited, one running. */
	feed(fx, OP_START, 6, 3500, 0, 0);
	feed(fx, OP_EXIT, 6, 3540, 3, 0);
	feed(fx, OP_START, 5, 3600, 0, 0);
	assert_int_equal(state_copy_at(det(fx), b, AT(0), &shift, err, sizeof(err)), 0);
	ew_detector_export_state(b, &st);
	state_dump(b, &db);
	for (int i = 0; i < 6; i++) {
		feed_to(fx, b, &sk, OP_START, 0, AT(420 * i), 0, 0);
		feed_to(fx, b, &sk, OP_EXIT, 0, AT(420 * i + 40), 3, 0);
	}
	CHECK_EQ("an hour ahead", "exit_code_burst findings", 0,
		 count_rule(&sk, EW_RULE_EXIT_CODE_BURST, false));
	CHECK_EQ("an hour ahead", "restart_rate findings", 1,
		 count_rule(&sk, EW_RULE_RESTART_RATE, false));
	CHECK_EQ("an hour ahead", "the restart_rate finding's time", AT(420 * 4),
		 sk.v[0].f.time_ns);

	assert_int_equal(shift, SEC(3600));
	assert_int_equal(st.now_ns, AT(0));
	assert_non_null(strstr(db.data, " start 1758000000000000000 ")); /* 3600 - 3600 */
	assert_non_null(strstr(db.data, " last_exit [1757999940000000000 3 0 "));
	ew_buf_free(&db);
	/* A minute ahead at most: the clocks' own difference, nothing moved. */
	assert_int_equal(state_copy_at(det(fx), c, AT(3600) - EW_DETECTOR_CLOCK_SLACK_NS, &shift,
				       err, sizeof(err)),
			 0);
	assert_int_equal(shift, 0);
	state_dump(det(fx), &da);
	state_dump(c, &db);
	assert_string_equal(da.data, db.data);
	ew_buf_free(&da);
	ew_buf_free(&db);
	ew_detector_free(b);
	ew_detector_free(c);
	sink_clear(&sk);
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
	im = ew_detector_import_begin(fx->d, &x->st, UINT64_MAX, err, sizeof(err));
	assert_non_null(im);
	assert_int_equal(ew_detector_import_workload(im, &x->wl[0]), 0);
	assert_int_equal(ew_detector_import_ident(im, &x->id[0]), 0);
	assert_int_equal(ew_detector_import_end(im, fx->d, false), -ECANCELED);
	assert_string_equal(err, "the caller's");
	assert_empty_and_usable(fx, fx->d, "cancelled");
	free(x);
}

struct keys {
	char v[NIDS][EW_KEY_LEN];
	size_t n;
};

static void key_of_ident(void *ctx, const struct ew_detector_ident *id)
{
	struct keys *k = ctx;

	assert_true(k->n < NIDS);
	ew_strlcpy(k->v[k->n++], id->key, EW_KEY_LEN);
}

static void key_of_workload(void *ctx, const struct ew_detector_workload *wl)
{
	struct keys *k = ctx;

	assert_true(k->n < NIDS);
	ew_strlcpy(k->v[k->n++], wl->key, EW_KEY_LEN);
}

/*
 * Awake identities and workloads go out in key order, whatever order they came in and however
 * the map laid them out: a copy imported in that order writes the same state (with the map's
 * own slot order, two keys that wrapped around its end came out swapped from the copy).
 */
static void test_export_key_order(void **state)
{
	struct fx *fx = *state;
	struct keys *k = calloc(1, sizeof(*k));
	const int who[] = {37, 3, 61, 14, 20, 0, 79, 11, 45, 28, 10, 52};

	assert_non_null(k);
	for (size_t i = 0; i < ARRAY_SIZE(who); i++) /* running: awake */
		feed(fx, OP_START, who[i], (double)i, 0, 0);
	assert_int_equal(ew_detector_export_idents(det(fx), key_of_ident, k), 0);
	assert_int_equal(k->n, ARRAY_SIZE(who));
	for (size_t i = 1; i < k->n; i++)
		if (strcmp(k->v[i - 1], k->v[i]) >= 0)
			fail_msg("identity %zu '%s' after '%s'", i, k->v[i], k->v[i - 1]);
	k->n = 0;
	assert_int_equal(ew_detector_export_workloads(det(fx), key_of_workload, k), 0);
	assert_true(k->n >= 2);
	for (size_t i = 1; i < k->n; i++)
		if (strcmp(k->v[i - 1], k->v[i]) >= 0)
			fail_msg("workload %zu '%s' after '%s'", i, k->v[i], k->v[i - 1]);
	free(k);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_export_import_round_trip), T(test_import_invariants),
		T(test_import_derives),		  T(test_import_crash_loop_deadline),
		T(test_import_cancelled),	  T(test_import_rule_off),
		T(test_import_clock_ahead),	  T(test_export_key_order),
	};

	return cmocka_run_group_tests_name("export_import", tests, NULL, NULL);
}
