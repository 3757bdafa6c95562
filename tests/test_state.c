// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The state file (src/persist/): the detector's state written as JSON and read back, a file
 * written by an earlier agent still read the same, every corrupt or hostile file refused with a
 * message and an empty detector, and the file itself saved atomically and loaded. The detector
 * runs in virtual time (tests/detector_fixture.h); files go to a temporary directory only.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "exitwatch/detect/detector.h"
#include "exitwatch/identity/resolver.h"
#include "exitwatch/persist/state.h"
#include "exitwatch/util/buf.h"
#include "exitwatch/util/util.h"
#include "detector_fixture.h"
#include "harness/unit.h"

#ifndef EW_FIXTURES_DIR
#define EW_FIXTURES_DIR "tests/fixtures"
#endif
/* Written by the agent before the state file had a module of its own (the checkpoint of
 * test_checkpoint_round_trip's first half): the format has not changed since. */
#define GOLDEN EW_FIXTURES_DIR "/state/crash-loop-v2.json"
/* The same run saved before identities slept (issue 15): subjects of the exited ones kept. */
#define GOLDEN_V1 EW_FIXTURES_DIR "/state/crash-loop-v1.json"

/* No wall clock to compare a state with: its times are taken as they are. */
#define NOW UINT64_MAX

static void checkpoint_str(struct ew_detector *d, uint64_t now, struct ew_buf *b)
{
	ew_buf_init(b);
	assert_int_equal(ew_state_write(d, NULL, now, 0, b), 0);
	assert_non_null(b->data);
}

static void test_checkpoint_round_trip(void **state)
{
	struct fx *fx = *state;
	struct step st[128];
	size_t n = crash_loop_then_fix(st), half;
	struct ew_detector *a = det(fx), *b = ew_detector_new(&fx->cfg);
	struct sink ska = {0}, skb = {0};
	struct ew_buf buf, buf2;
	char err[256] = "";

	/* The first half: through the loop's findings (burst, restart_rate, startup). */
	for (half = 0; st[half].ms <= 1000 * 1000; half++)
		;
	run_on(fx, a, &fx->sk, st, half);
	assert_int_equal(count_rule(&fx->sk, EW_RULE_EXIT_CODE_BURST, false), 1);
	assert_int_equal(count_rule(&fx->sk, EW_RULE_RESTART_RATE, false), 1);
	assert_int_equal(count_rule(&fx->sk, EW_RULE_STARTUP_FAILURE_RATE, false), 1);
	assert_int_equal(ew_detector_active(a), 3);

	checkpoint_str(a, AT(1000), &buf);
	assert_int_equal(ew_state_read(b, NULL, buf.data, buf.len, NOW, NULL, err, sizeof(err)), 0);
	assert_int_equal(ew_detector_identities(b), ew_detector_identities(a));
	assert_int_equal(ew_detector_active(b), 3);
	/* The restored detector writes the same checkpoint. */
	checkpoint_str(b, AT(1000), &buf2);
	assert_string_equal(buf.data, buf2.data);
	ew_buf_free(&buf2);

	run_on(fx, a, &ska, st + half, n - half);
	run_on(fx, b, &skb, st + half, n - half);
	check_same_findings("restored", &ska, &skb);
	/* Fired before the checkpoint: resolved after it, never fired again. */
	{
		const struct want w[] = {
			W_RATE(1650, 4, 14),	      /* the slower loop's 4th restart */
			W_START(1652, 5, 14),	      /* and 5th failed start */
			W_BURST_R(2122 + 600, 12, 0), /* the fast loop's last exit + 10m */
			W_RATE_R(2050 + 3600, 5, 14),  W_START_R(2052 + 3600, 6, 14),
			W_START_R(2122 + 3600, 12, 0), /* its last failure ages out */
			W_RATE_R(2422 + 3600, 12, 0),  /* the fixed start was a restart */
			W_STABLE(2422 + 4 * 3600, 0),
		};

		check_wants("after restore", &skb, fx->ids, ALL_RULES, w, ARRAY_SIZE(w));
	}
	assert_int_equal(ew_detector_active(b), 0);
	ew_buf_free(&buf);
	ew_detector_free(b);
	sink_clear(&ska);
	sink_clear(&skb);
}

/* A restored running container, seen again by the start-up scan: the same process. */
static void test_checkpoint_running_rescan(void **state)
{
	struct fx *fx = *state;
	struct ew_detector *a = det(fx), *b = ew_detector_new(&fx->cfg);
	struct ew_buf buf;
	struct ew_startup su;
	char err[256];

	feed(fx, OP_START, 0, 0, 0, 0);
	feed(fx, OP_EXIT, 0, 1, 1, 0);
	feed(fx, OP_START, 0, 10, 0, 0); /* restart 1, running */
	feed(fx, OP_START, 1, 20, 0, 0); /* running, grace pending */
	checkpoint_str(a, AT(30), &buf);
	assert_int_equal(ew_state_read(b, NULL, buf.data, buf.len, NOW, NULL, err, sizeof(err)), 0);

	su = feed_to(fx, b, &fx->sk, OP_RESCAN, 0, AT(40), 0, 0);
	assert_true(su.known);
	assert_int_equal(su.restarts, 1);
	su = feed_to(fx, b, &fx->sk, OP_RESCAN, 1, AT(40), 0, 0);
	assert_int_equal(su.restarts, 0);
	/* The restored start's grace deadline still runs: its exit after it succeeded. */
	assert_int_equal(ew_detector_next_deadline(b), AT(70));
	su = feed_to(fx, b, &fx->sk, OP_EXIT, 1, AT(90), 1, 0);
	assert_true(su.known);
	assert_true(su.succeeded);
	su = feed_to(fx, b, &fx->sk, OP_EXIT, 0, AT(95), 1, 0);
	assert_true(su.known);
	assert_true(su.succeeded);
	su = feed_to(fx, b, &fx->sk, OP_START, 0, AT(100), 0, 0);
	assert_int_equal(su.restarts, 2);
	assert_int_equal(fx->sk.n, 0);
	ew_buf_free(&buf);
	ew_detector_free(b);
}

/* ew_detector_alive_fn for the test below: only the pid in ctx is alive. */
static bool only_alive(void *ctx, uint32_t pid, uint64_t start_ticks)
{
	(void)start_ticks;
	return pid == *(uint32_t *)ctx;
}

/*
 * Restored running starts whose process has gone (it failed while no agent ran): they end
 * unseen, before their grace deadline can take them for successes. Identity 0 loops with
 * crash_loop open; its third start is running when saved, and gone at the restore: the loop's
 * finding stays open through the deadline, and the next failed start is its next step, not a
 * new streak. Identity 1, still alive, keeps its run and its deadline.
 */
static void test_checkpoint_run_gone(void **state)
{
	struct fx *fx = *state;
	struct ew_detector *b;
	struct ew_startup su;
	struct ew_buf buf;
	uint32_t alive_pid;
	char err[256] = "";

	fx->cfg.rules[EW_RULE_CRASH_LOOP].enabled = true;
	b = ew_detector_new(&fx->cfg);
	assert_non_null(b);
	feed(fx, OP_START, 0, 0, 0, 0);
	feed(fx, OP_EXIT, 0, 1, 3, 0);
	feed(fx, OP_START, 0, 2, 0, 0);
	feed(fx, OP_EXIT, 0, 3, 3, 0);
	assert_int_equal(count_rule(&fx->sk, EW_RULE_CRASH_LOOP, false), 1);
	feed(fx, OP_START, 0, 4, 0, 0); /* running when saved; fails unseen */
	feed(fx, OP_START, 1, 4, 0, 0); /* running when saved, and still */
	alive_pid = fx->pid[1];
	checkpoint_str(det(fx), AT(5), &buf);
	assert_int_equal(ew_state_read(b, NULL, buf.data, buf.len, NOW, NULL, err, sizeof(err)), 0);
	ew_buf_free(&buf);
	sink_clear(&fx->sk);

	assert_int_equal(ew_detector_runs_gone(b, only_alive, &alive_pid), 1);
	/* Past both grace deadlines: only the live start's is decided, a success (no record). */
	ew_detector_advance(b, AT(4 + 120), collect, &fx->sk);
	assert_int_equal(fx->sk.n, 0);
	assert_int_equal(ew_detector_active(b), 1);
	su = feed_to(fx, b, &fx->sk, OP_EXIT, 1, AT(200), 1, 0);
	assert_true(su.known);
	assert_true(su.succeeded);
	/* The loop's next attempt: a restart after the one gone, failing: the same episode. */
	su = feed_to(fx, b, &fx->sk, OP_START, 0, AT(300), 0, 0);
	assert_int_equal(su.restarts, 3);
	su = feed_to(fx, b, &fx->sk, OP_EXIT, 0, AT(301), 3, 0);
	assert_true(su.known);
	assert_false(su.succeeded);
	assert_int_equal(count_rule(&fx->sk, EW_RULE_CRASH_LOOP, false), 0);
	assert_int_equal(count_rule(&fx->sk, EW_RULE_CRASH_LOOP, true), 0);
	assert_int_equal(ew_detector_active(b), 1);
	/* Nothing runs any more: a second call finds nothing to end. */
	assert_int_equal(ew_detector_runs_gone(b, only_alive, &alive_pid), 0);
	ew_detector_free(b);
}

/*
 * The same, at a start the kernel timed between two clock ticks (nearly every one): the scan
 * reads it from /proc in ticks, the state holds the kernel's nanoseconds, and it is still the
 * same run. A fix deployed while the agent restarted: the fixed start's grace period ends its
 * crash_loop, and its success counts; it was taken for a new run found running, with no outcome,
 * and the loop's ERROR stayed open for as long as the fixed container ran.
 */
static void test_checkpoint_running_rescan_ticks(void **state)
{
	struct fx *fx = *state;
	struct ew_detector *a, *b;
	struct ew_buf buf;
	struct ew_startup su;
	char err[256];

	fx->cfg.rules[EW_RULE_CRASH_LOOP].enabled = true;
	a = det(fx);
	b = ew_detector_new(&fx->cfg);
	assert_non_null(b);
	feed(fx, OP_START, 0, 0.004, 0, 0);
	feed(fx, OP_EXIT, 0, 0.005, 3, 0);
	feed(fx, OP_START, 0, 10.004, 0, 0);
	feed(fx, OP_EXIT, 0, 10.005, 3, 0);  /* crash_loop fires */
	feed(fx, OP_START, 0, 20.004, 0, 0); /* the fix: it runs */
	assert_int_equal(count_rule(&fx->sk, EW_RULE_CRASH_LOOP, false), 1);
	checkpoint_str(a, AT(30), &buf);
	assert_int_equal(ew_state_read(b, NULL, buf.data, buf.len, NOW, NULL, err, sizeof(err)), 0);
	sink_clear(&fx->sk);

	su = feed_to(fx, b, &fx->sk, OP_RESCAN, 0, AT(40), 0, 0);
	assert_true(su.known);
	assert_int_equal(su.restarts, 2);
	assert_int_equal(ew_detector_next_deadline(b), AT_MS(20004) + fx->cfg.startup_grace_ns);
	ew_detector_advance(b, AT(100), collect, &fx->sk);
	{
		const struct want w[] = {W_LOOP_R(20.004 + 60, 2, 0)};

		check_wants("fixed across a restart", &fx->sk, fx->ids, RULE(EW_RULE_CRASH_LOOP), w,
			    ARRAY_SIZE(w));
	}
	assert_int_equal(ew_detector_active(b), 0);
	ew_buf_free(&buf);
	ew_detector_free(b);
}

/*
 * A restored running container whose process is gone ended while no agent watched: a rollout
 * of the agent in the middle of a crash loop, the attempt then running failing unseen, or the
 * container removed. Its grace period must not count it a success ("started successfully"
 * while it loops); it was, and its crash_loop resolved. One still running (its neighbour) is
 * found again by the scan. A loop removed meanwhile is quiet an hour after its last exit seen.
 */
static void test_checkpoint_running_gone_quiet(void **state)
{
	struct fx *fx = *state;
	struct ew_detector *a, *b;
	struct ew_buf buf;
	struct ew_startup su;
	uint32_t alive_pid;
	char err[256];

	fx->cfg.rules[EW_RULE_CRASH_LOOP].enabled = true;
	a = det(fx);
	b = ew_detector_new(&fx->cfg);
	assert_non_null(b);
	feed(fx, OP_START, 0, 0, 0, 0);
	feed(fx, OP_EXIT, 0, 1, 3, 0);
	feed(fx, OP_START, 0, 10, 0, 0);
	feed(fx, OP_EXIT, 0, 11, 3, 0);	 /* crash_loop fires */
	feed(fx, OP_START, 0, 20, 0, 0); /* runs at the checkpoint; fails unseen */
	feed(fx, OP_START, 1, 20, 0, 0); /* runs, and still does after the restart */
	assert_int_equal(count_rule(&fx->sk, EW_RULE_CRASH_LOOP, false), 1);
	checkpoint_str(a, AT(30), &buf);
	assert_int_equal(ew_state_read(b, NULL, buf.data, buf.len, NOW, NULL, err, sizeof(err)), 0);
	sink_clear(&fx->sk);

	alive_pid = fx->pid[1];
	assert_int_equal(ew_detector_runs_gone(b, only_alive, &alive_pid), 1);
	su = feed_to(fx, b, &fx->sk, OP_RESCAN, 1, AT(40), 0, 0);
	assert_true(su.known);
	assert_int_equal(ew_detector_runs_gone(b, only_alive, &alive_pid), 0);
	ew_detector_advance(b, AT(4000), collect, &fx->sk);
	{
		const struct want w[] = {W_LOOP_R(11 + 3600, 2, 0)};

		check_wants("gone while no agent watched", &fx->sk, fx->ids,
			    RULE(EW_RULE_CRASH_LOOP), w, ARRAY_SIZE(w));
	}
	/* The neighbour's run is the one restored: its grace period decided it, a success. */
	su = feed_to(fx, b, &fx->sk, OP_EXIT, 1, AT(4001), 1, 0);
	assert_true(su.known);
	assert_true(su.succeeded);
	/* The next start of the lost one is a restart. */
	su = feed_to(fx, b, &fx->sk, OP_START, 0, AT(4002), 0, 0);
	assert_int_equal(su.restarts, 3);
	assert_int_equal(ew_detector_active(b), 0);
	ew_buf_free(&buf);
	ew_detector_free(b);
}

/*
 * exit_code_burst's scope changed across a restart (workload to identity): the workload's
 * episode restored is one no event will touch again, since the rule counts per identity now. It
 * resolved resolve after its last exit with "stopped exiting with the burst's codes", the loop
 * going on, and "scope":"identity" on a workload's finding. It ends at the first turn, with the
 * state's time, saying why, in its own scope.
 */
static void test_restore_scope_changed(void **state)
{
	struct fx *fx = *state;
	struct ew_detector *b;
	struct ew_buf buf;
	char err[256] = "";

	for (int i = 0; i < 4; i++) {
		feed(fx, OP_START, 0, 10 * i, 0, 0);
		feed(fx, OP_EXIT, 0, 10 * i + 1, 3, 0);
	}
	assert_int_equal(count_rule(&fx->sk, EW_RULE_EXIT_CODE_BURST, false), 1);
	assert_int_equal(fx->sk.v[0].f.scope, EW_SCOPE_WORKLOAD);
	checkpoint_str(det(fx), AT(40), &buf);
	fx->cfg.rules[EW_RULE_EXIT_CODE_BURST].scope = EW_SCOPE_IDENTITY;
	b = ew_detector_new(&fx->cfg);
	assert_non_null(b);
	assert_int_equal(ew_state_read(b, NULL, buf.data, buf.len, NOW, NULL, err, sizeof(err)), 0);
	ew_buf_free(&buf);
	sink_clear(&fx->sk);

	ew_detector_advance(b, AT(41), collect, &fx->sk);
	assert_int_equal(fx->sk.n, 1);
	assert_true(fx->sk.v[0].f.resolved);
	assert_int_equal(fx->sk.v[0].f.why, EW_RESOLVED_SCOPE_CHANGED);
	assert_int_equal(fx->sk.v[0].f.scope, EW_SCOPE_WORKLOAD);
	assert_int_equal(fx->sk.v[0].f.time_ns, AT(31)); /* the last exit: the state's time */
	assert_int_equal(ew_detector_active(b), 0);
	ew_detector_free(b);
}

/* A minimal valid state at t = 100 ns, and the workloads and identities in it. */
#define ROOT(version, now, wls, ids)                                                              \
	"{\"exitwatch_state\":" version ",\"saved_ns\":100,\"now_ns\":" now ",\"next_serial\":1," \
	"\"drops_total\":0,\"last_drop_ns\":0,\"workloads\":" wls ",\"identities\":" ids "}"
#define STATE(ids) ROOT("1", "100", "[]", "[" ids "]")
#define SCOPE(exits, eps) \
	"{\"exits\":" exits ",\"restarts\":[],\"outcomes\":[],\"episodes\":" eps "}"
#define WL(key, scope) "{\"key\":\"" key "\",\"s\":" scope "}"
#define WLS(wls)       ROOT("1", "100", "[" wls "]", "[]")
#define IDENT_FULL(key, serial, extra, exits, eps)                                             \
	"{\"key\":\"" key "\",\"workload\":\"w\",\"serial\":" serial ",\"restarts\":0,"        \
	"\"exited_before\":true,\"looping\":false,\"running\":false,\"seeded\":false,"         \
	"\"ready\":false,\"outcome_done\":true,\"pid\":7,\"start_boot_ns\":5,\"start_ns\":40," \
	"\"last_active_ns\":50" extra ",\"s\":" SCOPE(exits, eps) "}"
#define IDENT(key, serial, extra) IDENT_FULL(key, serial, extra, "[]", "[]")
#define IDENT_S(key, exits, eps)  IDENT_FULL(key, "1", "", exits, eps)
/* An identity of a Kubernetes container asleep, and what the resolver knew of its pod. */
#define K8S_UID	   "5c1f2e0a-7b3d-4c8e-9f1a-2b3c4d5e6f70"
#define K8S_KEY	   "k8s:" K8S_UID "/backend"
#define POD(image) ",\"pod\":[\"shop\",\"checkout-1\",\"" image "\"]"
#define KILLER(sig, comm, container)                                                       \
	",\"last_killer\":{\"pid\":4242,\"signal\":" sig ",\"cgroup_id\":1,\"comm\":" comm \
	",\"container\":" container "}"
#define EP(rule, fired, last)                                                      \
	"{\"rule\":\"" rule "\",\"id\":\"f-0123456789abcdef\",\"fired_ns\":" fired \
	",\"last_ns\":" last ",\"total\":4,\"last_ident\":1}"

/* The building blocks above are valid as such: each corrupt case fails for its own reason. */
static const char *const valid_cases[] = {
	STATE(""),
	STATE(IDENT("a", "1", "")),
	STATE(IDENT("a", "1", "") "," IDENT("b", "2", "")),
	STATE(IDENT("a", "1",
		    ",\"tail_hex\":\"6f6b0a\",\"subject\":{\"key\":\"a\"},"
		    "\"last_exit\":[50,3,0,16]")),
	STATE(IDENT_S("a", "[[50,1,3,0,16]]", "[" EP("restart_rate", "10", "20") "]")),
	WLS(WL("w", SCOPE("[[50,1,3,0,16]]", "[]")) "," WL("v", SCOPE("[]", "[]"))),
	STATE(IDENT(K8S_KEY, "1", POD("shop/backend:1.4.2"))),
	STATE(IDENT("k8s:" K8S_UID, "1", POD(""))), /* keyed by its pod */
	STATE(IDENT("a", "1", ",\"tail_hex\":\"6f6b0a\",\"tail_start_error\":true")),
};

static const char *const corrupt_cases[] = {
	"",
	"{",
	"null",
	"[]",
	"42",
	"{\"x\":1}",
	"{\"exitwatch_state\":1,\"now_ns\":100",	/* truncated */
	ROOT("2", "100", "[]", "[]"),			/* another version */
	ROOT("\"1\"", "100", "[]", "[]"),		/* the version as a string */
	ROOT("1", "\"soon\"", "[]", "[]"),		/* a time as a string */
	ROOT("1", "-5", "[]", "[]"),			/* a negative time */
	ROOT("1", "100", "5", "[]"),			/* workloads not an array */
	ROOT("1", "100", "[]", "{\"a\":1}"),		/* identities not an array */
	ROOT("1", "100", "[7]", "[]"),			/* a workload not an object */
	ROOT("1", "100", "[]", "[null]"),		/* an identity not an object */
	WLS(WL("w", SCOPE("[]", "{}"))),		/* episodes not an array */
	WLS(WL("w", "[]")),				/* windows not an object */
	WLS(WL("w", SCOPE("[[1,1,3,0]]", "[]"))),	/* a sample of 4 */
	WLS(WL("w", SCOPE("[[1,1,3,0,\"x\"]]", "[]"))), /* a sample member as a string */
	WLS(WL("w", SCOPE("[7]", "[]"))),		/* a sample not an array */
	WLS(WL("w", SCOPE("[[500,1,3,0,16]]", "[]"))),	/* a sample after the checkpoint */
	WLS(WL("w", SCOPE("[]", "[" EP("nope", "10", "20") "]"))), /* an unknown rule */
	WLS(WL("w", SCOPE("[]", "[7]"))),			   /* an episode not an object */
	WLS(WL("w", SCOPE("[]", "[]")) "," WL("w", SCOPE("[]", "[]"))), /* a workload twice */
	WLS(WL("", SCOPE("[]", "[]"))),			    /* a workload without a key */
	STATE("{\"workload\":\"w\"}"),			    /* an identity without a key */
	ROOT("1", "100", "[]", "[]") " trailing",	    /* data after the object */
	STATE(IDENT("k", "1", "") "," IDENT("k", "2", "")), /* the same key twice */
	STATE(IDENT("a", "1", "") "," IDENT("b", "1", "")), /* the same serial twice */
	STATE(IDENT("a", "0", "")),			    /* serials start at 1 */
	STATE(IDENT("a", "4294967296", "")),		    /* beyond 32 bits */
	STATE(IDENT("a", "1", ",\"tail_hex\":\"zz\"")),	    /* not hex */
	STATE(IDENT("a", "1", ",\"tail_hex\":\"6f\",\"tail_start_error\":1")), /* not a bool */
	STATE(IDENT("a", "1", ",\"subject\":{\"key\":\"b\"}")),		       /* someone else */
	STATE(IDENT("a", "1", ",\"subject\":{\"display\":\"x\"}")),	       /* no key */
	STATE(IDENT("a", "1", ",\"last_exit\":[50,3,0,240]")),		       /* exit class 15 */
	STATE(IDENT("a", "1", ",\"last_exit\":[150,3,0,16]")), /* after the checkpoint */
	STATE(IDENT_S("a", "[[50,1,70000,0,16]]", "[]")),      /* code beyond 16 bits */
	STATE(IDENT_S("a", "[[50,1,3,256,16]]", "[]")),	       /* signal beyond 8 bits */
	STATE(IDENT_S("a", "[[50,1,3,0,16]]",
		      "[" EP("restart_rate", "10", "20") "," EP("restart_rate", "10",
								"20") "]")), /* twice */
	STATE(IDENT_S("a", "[]", "[" EP("restart_rate", "30", "20") "]")),   /* fired after last */
	STATE(IDENT_S("a", "[]", "[" EP("stable", "10", "20") "]")), /* a milestone has none */
	STATE(IDENT_S("a", "[]",
		      "[{\"rule\":\"restart_rate\",\"id\":\"\",\"fired_ns\":1,"
		      "\"last_ns\":1,\"total\":4,\"last_ident\":1}]")),	    /* no id */
	STATE(IDENT_S("a", "[]", "[" EP("restart_rate", "10", "-20") "]")), /* negative time */
	STATE(IDENT("a", "1", POD("x"))),				    /* no Kubernetes key */
	STATE(IDENT("k8s:shop/checkout/backend", "1", POD("x"))),	    /* a workload's key */
	STATE(IDENT(K8S_KEY, "1", ",\"pod\":[\"shop\",\"checkout-1\"]")),   /* two of three */
	STATE(IDENT(K8S_KEY, "1", ",\"pod\":[\"shop\",\"checkout-1\",7]")), /* not a string */
	STATE(IDENT(K8S_KEY, "1", ",\"pod\":{\"name\":\"checkout-1\"}")),   /* not an array */
};

static void test_restore_corrupt_table(void **state)
{
	struct fx *fx = *state;

	for (size_t i = 0; i < ARRAY_SIZE(valid_cases); i++) {
		struct ew_detector *d = ew_detector_new(&fx->cfg);
		char err[256] = "";
		int r = ew_state_read(d, NULL, valid_cases[i], strlen(valid_cases[i]), NOW, NULL,
				      err, sizeof(err));

		if (r)
			fail_msg("valid case %zu: %d (%s)", i, r, err);
		CHECK_EQ("valid", "active", i == 4, ew_detector_active(d));
		ew_detector_free(d);
	}

	for (size_t i = 0; i < ARRAY_SIZE(corrupt_cases); i++) {
		struct ew_detector *d = ew_detector_new(&fx->cfg);
		char err[256] = "", ctx[64];
		int r;

		assert_non_null(d);
		snprintf(ctx, sizeof(ctx), "corrupt case %zu", i);
		r = ew_state_read(d, NULL, corrupt_cases[i], strlen(corrupt_cases[i]), NOW, NULL,
				  err, sizeof(err));
		if (r != -EINVAL)
			fail_msg("%s: want -EINVAL, got %d (%s)", ctx, r, corrupt_cases[i]);
		if (!err[0])
			fail_msg("%s: no message", ctx);
		assert_empty_and_usable(fx, d, ctx);
		ew_detector_free(d);
	}
}

/*
 * What a refusal says, through core/json_read's reader: the member named, how it is wrong, and
 * nothing of the file's control bytes.
 */
static void test_restore_messages(void **state)
{
	static const struct {
		const char *json, *err;
	} cases[] = {
		{ROOT("1", "-5", "[]", "[]"),
		 "member \"now_ns\" is out of range (-5 not in 0..9223372036854775807)"},
		{ROOT("1", "\"soon\"", "[]", "[]"), "member \"now_ns\" is not of JSON type int"},
		{STATE(IDENT("a", "4294967296", "")),
		 "member \"serial\" is out of range (4294967296 not in 0..4294967295)"},
		{STATE("{\"workload\":\"w\"}"), "member \"key\" is missing"},
		{ROOT("1", "100", "[]", "{\"a\":1}"),
		 "member \"identities\" is not of JSON type array"},
		{WLS(WL("w", SCOPE("[[1,1,3,0,\"x\"]]", "[]"))), "sample flags is not an integer"},
		{STATE(IDENT_S("a", "[[50,1,3,256,16]]", "[]")),
		 "a signal is out of range (256 not in 0..255)"},
		{WLS(WL("w", SCOPE("[]", "[" EP("no\\u001b[2Jpe", "10", "20") "]"))),
		 "an episode of unknown rule 'no?[2Jpe'"},
		{STATE(IDENT("a", "1", KILLER("0", "\"runc\"", "\"host\""))),
		 "member \"last_killer.signal\" is out of range (0 not in 1..64)"},
		{STATE(IDENT("a", "1", KILLER("15", "\"runc\"", "7"))),
		 "member \"last_killer.container\" is not of JSON type string"},
		{STATE(IDENT("a", "1", ",\"last_killer\":[4242]")),
		 "member \"last_killer\" is not of JSON type object"},
	};
	struct fx *fx = *state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ew_detector *d = ew_detector_new(&fx->cfg);
		char err[256] = "";
		int r;

		assert_non_null(d);
		r = ew_state_read(d, NULL, cases[i].json, strlen(cases[i].json), NOW, NULL, err,
				  sizeof(err));
		if (r != -EINVAL || strcmp(err, cases[i].err))
			fail_msg("case %zu: want -EINVAL '%s', got %d '%s'", i, cases[i].err, r,
				 err);
		ew_detector_free(d);
	}
}

static struct ew_resolver *resolver(void)
{
	struct ew_resolver_opts o = {.read_meta = false};
	struct ew_resolver *r = ew_resolver_new(&o);

	assert_non_null(r);
	return r;
}

/*
 * An identity asleep keeps no names: the resolver's knowledge of its pod goes into the file
 * ("pod") and back into the next agent's resolver, but only from a file read whole; one that
 * is refused teaches nothing.
 */
static void test_state_pods(void **state)
{
	struct fx *fx = *state;
	static const char asleep[] = STATE(IDENT(K8S_KEY, "1", ""));
	static const char refused[] =
		STATE(IDENT(K8S_KEY, "1", POD("shop/backend:1.4.2")) "," IDENT(K8S_KEY, "2", ""));
	struct ew_resolver *r1 = resolver(), *r2 = resolver(), *r3 = resolver();
	struct ew_detector *d1 = ew_detector_new(&fx->cfg), *d2 = ew_detector_new(&fx->cfg);
	struct ew_buf with = EW_BUF_INIT, without = EW_BUF_INIT;
	struct ew_meta m;
	char err[256] = "", *big;
	size_t n;

	assert_int_equal(
		ew_resolver_learn_pod(r1, K8S_KEY, "shop", "checkout-1", "shop/backend:1.4.2"), 0);
	assert_int_equal(
		ew_state_read(d1, NULL, asleep, strlen(asleep), NOW, NULL, err, sizeof(err)), 0);

	assert_int_equal(ew_state_write(d1, r1, 100, 0, &with), 0);
	assert_non_null(strstr(with.data, POD("shop/backend:1.4.2")));
	assert_int_equal(ew_state_write(d1, NULL, 100, 0, &without), 0);
	assert_null(strstr(without.data, "\"pod\""));
	/* What the resolver does not know is not written. */
	ew_buf_reset(&without);
	assert_int_equal(ew_state_write(d1, r2, 100, 0, &without), 0);
	assert_null(strstr(without.data, "\"pod\""));

	assert_false(ew_resolver_recall(r2, K8S_KEY, &m));
	assert_int_equal(ew_state_read(d2, r2, with.data, with.len, NOW, NULL, err, sizeof(err)),
			 0);
	assert_true(ew_resolver_recall(r2, K8S_KEY, &m));
	assert_string_equal(m.pod_namespace, "shop");
	assert_string_equal(m.pod_name, "checkout-1");
	assert_string_equal(m.image, "shop/backend:1.4.2");
	/* The pod's other containers have no image of this one's. */
	assert_true(ew_resolver_recall(r2, "k8s:" K8S_UID "/sidecar", &m));
	assert_string_equal(m.image, "");

	assert_int_equal(
		ew_state_read(d2, r3, refused, strlen(refused), NOW, NULL, err, sizeof(err)),
		-EINVAL);
	assert_false(ew_resolver_recall(r3, K8S_KEY, &m));

	/* A name longer than the resolver keeps: refused, and said. */
	n = strlen(asleep) + EW_NAME_LEN + 256;
	big = malloc(n);
	assert_non_null(big);
	snprintf(big, n, "%.*s,\"pod\":[\"%0*d\",\"p\",\"\"]%s",
		 (int)(strstr(asleep, ",\"s\":") - asleep), asleep, EW_NAME_LEN, 0,
		 strstr(asleep, ",\"s\":"));
	assert_int_equal(ew_state_read(d2, r3, big, strlen(big), NOW, NULL, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "has a name of 256 bytes or more"));
	assert_false(ew_resolver_recall(r3, K8S_KEY, &m));

	free(big);
	ew_buf_free(&with);
	ew_buf_free(&without);
	ew_detector_free(d1);
	ew_detector_free(d2);
	ew_resolver_free(r1);
	ew_resolver_free(r2);
	ew_resolver_free(r3);
}

/* Index just past the JSON value starting at s[at]. */
static size_t json_value_end(const char *s, size_t at)
{
	int depth = 0;

	for (size_t k = at; s[k]; k++) {
		switch (s[k]) {
		case '"':
			for (k++; s[k] && s[k] != '"'; k++)
				k += s[k] == '\\';
			if (!depth)
				return k + 1;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (--depth <= 0)
				return k + 1;
			break;
		case ',':
			if (!depth)
				return k;
			break;
		}
	}
	return strlen(s);
}

/* Each member of a real checkpoint given a value of the wrong type. */
static void test_restore_wrong_types(void **state)
{
	struct fx *fx = *state;
	/* Members of the detector's own objects (identities nested in them are the codec's). */
	static const struct {
		const char *after, *member;
	} cases[] = {
		{"", "\"now_ns\":"},
		{"", "\"saved_ns\":"},
		{"", "\"next_serial\":"},
		{"", "\"drops_total\":"},
		{"", "\"last_drop_ns\":"},
		{"", "\"workloads\":"},
		{"", "\"identities\":"},
		{"\"workloads\":", "\"key\":"},
		{"\"workloads\":", "\"last_subject\":"},
		{"\"workloads\":", "\"episodes\":"},
		{"\"identities\":", "\"key\":"},
		{"\"identities\":", "\"workload\":"},
		{"\"identities\":", "\"serial\":"},
		{"\"identities\":", "\"restarts\":"},
		{"\"identities\":", "\"exited_before\":"},
		{"\"identities\":", "\"looping\":"},
		{"\"identities\":", "\"running\":"},
		{"\"identities\":", "\"seeded\":"},
		{"\"identities\":", "\"ready\":"},
		{"\"identities\":", "\"outcome_done\":"},
		{"\"identities\":", "\"pid\":"},
		{"\"identities\":", "\"start_boot_ns\":"},
		{"\"identities\":", "\"start_ns\":"},
		{"\"identities\":", "\"last_active_ns\":"},
		{"\"identities\":", "\"last_exit\":"},
		{"\"identities\":", "\"tail_hex\":"},
		{"\"identities\":", "\"subject\":"},
		{"\"identities\":", "\"s\":"},
		{"\"identities\":", "\"exits\":"},
		{"\"identities\":", "\"restarts\":["},
		{"\"identities\":", "\"outcomes\":"},
		{"\"identities\":", "\"episodes\":"},
		{"\"identities\":", "\"rule\":"},
		{"\"identities\":", "\"id\":"},
		{"\"identities\":", "\"fired_ns\":"},
		{"\"identities\":", "\"last_ns\":"},
		{"\"identities\":", "\"total\":"},
		{"\"identities\":", "\"last_ident\":"},
	};
	struct step st[128];
	size_t half;
	struct ew_buf buf;

	crash_loop_then_fix(st);
	for (half = 0; st[half].ms <= 1000 * 1000; half++)
		;
	run_on(fx, det(fx), &fx->sk, st, half);
	checkpoint_str(fx->d, AT(1000), &buf);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *from = strstr(buf.data, cases[i].after);
		const char *p = from ? strstr(from, cases[i].member) : NULL;
		struct ew_detector *d = ew_detector_new(&fx->cfg);
		struct ew_buf bad;
		char err[256] = "", ctx[96];
		size_t at;

		snprintf(ctx, sizeof(ctx), "%s after %s", cases[i].member, cases[i].after);
		if (!p)
			fail_msg("%s: not in the checkpoint", ctx);
		at = (size_t)(p - buf.data) + strlen(cases[i].member);
		if (cases[i].member[strlen(cases[i].member) - 1] == '[')
			at--;
		ew_buf_init(&bad);
		ew_buf_append(&bad, buf.data, at);
		ew_buf_puts(&bad, buf.data[at] == '{' || buf.data[at] == '[' ? "-1" : "{\"a\":[]}");
		ew_buf_puts(&bad, buf.data + json_value_end(buf.data, at));
		if (ew_state_read(d, NULL, bad.data, bad.len, NOW, NULL, err, sizeof(err)) !=
		    -EINVAL)
			fail_msg("%s: the wrong type was accepted", ctx);
		if (!err[0])
			fail_msg("%s: no message", ctx);
		assert_empty_and_usable(fx, d, ctx);
		ew_buf_free(&bad);
		ew_detector_free(d);
	}
	ew_buf_free(&buf);
}

/* 2000 random mutations of a real checkpoint: each restores or is refused, and never breaks. */
static void test_restore_fuzz(void **state)
{
	struct fx *fx = *state;
	static const char alphabet[] = "0123456789{}[]\",:-.eEtrufalsn x\\";
	struct step st[128];
	size_t n = crash_loop_then_fix(st), half;
	struct ew_buf buf;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	int ok = 0, refused = 0;

	for (half = 0; st[half].ms <= 1000 * 1000; half++)
		;
	run_on(fx, det(fx), &fx->sk, st, half);
	checkpoint_str(fx->d, AT(1000), &buf);
	for (int iter = 0; iter < 2000; iter++) {
		size_t len = buf.len, cap = 2 * buf.len + 64, muts = 1 + rng_next(&seed) % 3;
		char *m = malloc(cap), err[256] = "";
		struct ew_detector *d = ew_detector_new(&fx->cfg);
		struct sink sk = {0};
		int r;

		assert_non_null(m);
		assert_non_null(d);
		memcpy(m, buf.data, buf.len);
		for (size_t k = 0; k < muts && len > 1; k++) {
			size_t at = rng_next(&seed) % len, span = 1 + rng_next(&seed) % 24;

			if (span > len - at)
				span = len - at;
			switch (rng_next(&seed) % 5) {
			case 0: /* a byte replaced */
				m[at] = alphabet[rng_next(&seed) % (sizeof(alphabet) - 1)];
				break;
			case 1: /* truncated */
				len = at + 1;
				break;
			case 2: /* a span deleted */
				memmove(m + at, m + at + span, len - at - span);
				len -= span;
				break;
			case 3: /* a span duplicated */
				if (len + span <= cap) {
					memmove(m + at + span, m + at, len - at);
					len += span;
				}
				break;
			default: /* a number made huge */
				if (m[at] >= '0' && m[at] <= '9' && len + 20 <= cap) {
					memmove(m + at + 20, m + at, len - at);
					memset(m + at, '9', 20);
					len += 20;
				}
				break;
			}
		}
		r = ew_state_read(d, NULL, m, len, NOW, NULL, err, sizeof(err));
		if (r != 0 && r != -EINVAL)
			fail_msg("mutation %d: restore returned %d", iter, r);
		if (r) {
			refused++;
			if (!err[0])
				fail_msg("mutation %d: refused without a message", iter);
			CHECK_EQ("refused", "identities", 0, ew_detector_identities(d));
			CHECK_EQ("refused", "active", 0, ew_detector_active(d));
			CHECK_EQ("refused", "deadline", UINT64_MAX, ew_detector_next_deadline(d));
		} else {
			ok++;
		}
		/* Whatever it holds runs: the rest of the loop, then a day. */
		run_on(fx, d, &sk, st + half, n - half);
		ew_detector_free(d);
		sink_clear(&sk);
		free(m);
	}
	print_message("fuzz: %d restored, %d refused\n", ok, refused);
	assert_true(ok >= 100);
	assert_true(refused >= 1000);
	assert_int_equal(ok + refused, 2000);
	ew_buf_free(&buf);
}

/* A failed restore over a detector with state leaves it empty (the contract), and usable. */
static void test_restore_failure_empties(void **state)
{
	struct fx *fx = *state;
	struct ew_buf buf;
	char err[256];

	loop_then(fx, 0, 0);
	checkpoint_str(fx->d, AT(100), &buf);
	assert_int_equal(ew_state_read(fx->d, NULL, buf.data, buf.len, NOW, NULL, err, sizeof(err)),
			 0);
	assert_int_equal(ew_detector_identities(fx->d), 1);
	assert_int_equal(ew_detector_active(fx->d), 2);
	assert_int_equal(
		ew_state_read(fx->d, NULL, buf.data, buf.len / 2, NOW, NULL, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "JSON"));
	assert_empty_and_usable(fx, fx->d, "after a failed restore");
	ew_buf_free(&buf);
}

/* The first half of crash_loop_then_fix(), run on fx's detector: the state tests start there. */
static size_t first_half(struct fx *fx, struct step *st, size_t *n)
{
	size_t half;

	*n = crash_loop_then_fix(st);
	for (half = 0; st[half].ms <= 1000 * 1000; half++)
		;
	run_on(fx, det(fx), &fx->sk, st, half);
	return half;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *p;
	long n;

	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return p;
}

/*
 * A file an earlier agent wrote: it loads, and the same run writes it again byte for byte (the
 * same members in the same order), so files written before and after this version mix. The
 * file of the version before sleeping identities loads too, and is written again as this
 * version writes the run: the exited identity asleep, without its names.
 */
static void test_state_golden_file(void **state)
{
	struct fx *fx = *state;
	struct step st[128];
	size_t n, len;
	char *golden = slurp(GOLDEN, &len), err[256] = "";
	struct ew_detector *b = ew_detector_new(&fx->cfg);
	struct ew_buf buf;

	first_half(fx, st, &n);
	checkpoint_str(fx->d, AT(1000), &buf);
	CHECK_EQ("golden", "length", len, buf.len);
	assert_string_equal(buf.data, golden);
	assert_int_equal(ew_state_read(b, NULL, golden, len, NOW, NULL, err, sizeof(err)), 0);
	assert_int_equal(ew_detector_identities(b), 3);
	assert_int_equal(ew_detector_active(b), 3);
	ew_buf_free(&buf);
	checkpoint_str(b, AT(1000), &buf);
	assert_string_equal(buf.data, golden);
	ew_buf_free(&buf);
	ew_detector_free(b);
	free(golden);

	golden = slurp(GOLDEN_V1, &len);
	b = ew_detector_new(&fx->cfg);
	assert_int_equal(ew_state_read(b, NULL, golden, len, NOW, NULL, err, sizeof(err)), 0);
	assert_int_equal(ew_detector_identities(b), 3);
	assert_int_equal(ew_detector_active(b), 3);
	free(golden);
	golden = slurp(GOLDEN, &len);
	checkpoint_str(b, AT(1000), &buf);
	assert_string_equal(buf.data, golden);
	ew_buf_free(&buf);
	ew_detector_free(b);
	free(golden);
}

/*
 * a's checkpoint at 100 s into buf, read into b, which writes the same; then both advanced two
 * hours: the same resolutions, made on either side of the file.
 */
static void cross_the_file(struct ew_detector *a, struct ew_detector *b, struct sink *ska,
			   struct sink *skb, struct ew_buf *buf)
{
	struct ew_buf buf2;
	char err[256] = "";

	checkpoint_str(a, AT(100), buf);
	assert_int_equal(ew_state_read(b, NULL, buf->data, buf->len, NOW, NULL, err, sizeof(err)),
			 0);
	checkpoint_str(b, AT(100), &buf2);
	assert_string_equal(buf->data, buf2.data);
	ew_buf_free(&buf2);
	ew_detector_advance(a, AT(7200), collect, ska);
	ew_detector_advance(b, AT(7200), collect, skb);
	check_same_findings("through the file", ska, skb);
}

/*
 * The sender of an identity's last exit crosses the file: the resolution made after the
 * restore describes that exit, and names it, as the agent that saw it would have.
 */
static void test_checkpoint_last_killer(void **state)
{
	struct fx *fx = *state;
	struct ew_detector *a = det(fx), *b = ew_detector_new(&fx->cfg);
	struct sink ska = {0}, skb = {0};
	struct ew_buf buf;

	assert_non_null(b);
	fx->killer = SIGTERM; /* caught, then exit 3: the runtime stopping a failing app */
	for (int i = 0; i < 4; i++) {
		fx->killer_pid = 4000 + (uint32_t)i;
		feed(fx, OP_EXIT, 0, 10.0 * i, 3, 0);
	}
	fx->killer = 0;
	assert_int_equal(count_rule(&fx->sk, EW_RULE_EXIT_CODE_BURST, false), 1);
	cross_the_file(a, b, &ska, &skb, &buf);
	assert_non_null(strstr(buf.data,
			       "\"last_killer\":{\"pid\":4003,\"signal\":15,"
			       "\"cgroup_id\":1,\"comm\":\"runc\",\"container\":\"host\"}"));
	CHECK_EQ("through the file", "resolutions", 1, skb.n);
	assert_true(skb.v[0].f.resolved);
	assert_true(skb.v[0].has_killer);
	assert_int_equal(skb.v[0].killer.pid, 4003);
	ew_buf_free(&buf);
	ew_detector_free(b);
	sink_clear(&ska);
	sink_clear(&skb);
}

/*
 * A failed start's runtime error crosses the file as such (not as stderr): the resolution made
 * after the restore quotes it as the agent that saw it would have. A file without the member
 * reads the tail as stderr, as before.
 */
static void test_checkpoint_start_error(void **state)
{
	struct fx *fx = *state;
	struct ew_detector *a, *b;
	struct sink ska = {0}, skb = {0};
	struct ew_buf buf, buf2;
	char err[256] = "", *at;

	fx->cfg.rules[EW_RULE_CRASH_LOOP].enabled = true;
	a = det(fx);
	b = ew_detector_new(&fx->cfg);
	assert_non_null(b);
	fx->start_error = "exec: \"/app\": permission denied";
	feed(fx, OP_START_FAILED, 0, 0, 1, 0);
	feed(fx, OP_START_FAILED, 0, 10, 1, 0);
	assert_int_equal(count_rule(&fx->sk, EW_RULE_CRASH_LOOP, false), 1);
	cross_the_file(a, b, &ska, &skb, &buf);
	assert_non_null(strstr(buf.data, "\"tail_start_error\":true"));
	assert_true(skb.n >= 1 && skb.v[0].f.resolved && skb.v[0].f.tail_start_error);
	/* Without the member (a file of an agent before it): the same tail, as stderr. */
	at = strstr(buf.data, ",\"tail_start_error\":true");
	memmove(at, at + strlen(",\"tail_start_error\":true"),
		strlen(at + strlen(",\"tail_start_error\":true")) + 1);
	ew_detector_free(b);
	b = ew_detector_new(&fx->cfg);
	assert_int_equal(
		ew_state_read(b, NULL, buf.data, strlen(buf.data), NOW, NULL, err, sizeof(err)), 0);
	checkpoint_str(b, AT(100), &buf2);
	assert_null(strstr(buf2.data, "tail_start_error"));
	assert_non_null(strstr(buf2.data, "\"tail_hex\":\"65786563"));
	fx->start_error = NULL;
	ew_buf_free(&buf);
	ew_buf_free(&buf2);
	ew_detector_free(b);
	sink_clear(&ska);
	sink_clear(&skb);
}

/*
 * A sender's comm is any 15 bytes a process chose: invalid UTF-8 is written as U+FFFD, three
 * bytes each, and the file still reads, the name cut at a character to fit. A longer name than
 * a field holds (a file edited by hand) is cut the same way.
 */
static void test_checkpoint_hostile_killer(void **state)
{
	static const char cut[] =
		STATE(IDENT("a", "1",
			    KILLER("9", "\"runc\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"",
				   "\"host\"")));
	struct fx *fx = *state;
	struct ew_detector *b = ew_detector_new(&fx->cfg);
	struct ew_buf buf;
	char err[256] = "";

	assert_non_null(b);
	fx->killer = SIGKILL;
	fx->hostile_killer = true;
	feed(fx, OP_EXIT, 0, 0, 0, SIGKILL);
	fx->killer = 0;
	checkpoint_str(det(fx), AT(100), &buf);
	assert_non_null(strstr(buf.data, "\"comm\":\"\xef\xbf\xbd\xef\xbf\xbd"));
	assert_int_equal(ew_state_read(b, NULL, buf.data, buf.len, NOW, NULL, err, sizeof(err)), 0);
	ew_buf_free(&buf);
	ew_detector_free(b);
	/* Cut at a character: "runc" and five 2-byte "é" fit in 15 bytes with the NUL, not six. */
	b = ew_detector_new(&fx->cfg);
	assert_non_null(b);
	assert_int_equal(ew_state_read(b, NULL, cut, strlen(cut), NOW, NULL, err, sizeof(err)), 0);
	checkpoint_str(b, AT(100), &buf);
	assert_non_null(
		strstr(buf.data, "\"comm\":\"runc\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\","));
	ew_buf_free(&buf);
	ew_detector_free(b);
}

/*
 * crash_loop's quiet period through the file: it is no member of its own, but derived again
 * from the identity's last exit, so a checkpoint in the middle of it resolves the loop at the
 * same nanosecond; and a file of an agent that kept such a loop open for days (before the
 * quiet period) resolves it at the first advance, at its deadline's time.
 */
static void test_checkpoint_crash_loop_quiet(void **state)
{
	struct fx *fx = *state;
	struct ew_detector_config old = fx->cfg;
	struct ew_detector *a, *b, *c;
	struct sink ska = {0}, skb = {0}, skc = {0};
	struct ew_buf buf;
	char err[256] = "";

	fx->cfg.rules[EW_RULE_CRASH_LOOP].enabled = true;
	a = det(fx);
	b = ew_detector_new(&fx->cfg);
	assert_non_null(b);
	feed(fx, OP_START, 0, 0, 0, 0);
	feed(fx, OP_EXIT, 0, 10, 3, 0);
	feed(fx, OP_START, 0, 20, 0, 0);
	feed(fx, OP_EXIT, 0, 30, 3, 0);
	advance(fx, AT(1000));
	checkpoint_str(a, AT(1000), &buf);
	assert_int_equal(ew_state_read(b, NULL, buf.data, buf.len, NOW, NULL, err, sizeof(err)), 0);
	ew_buf_free(&buf);
	assert_int_equal(ew_detector_next_deadline(b), AT(30 + 3600));
	ew_detector_advance(a, AT(86400), collect, &ska);
	ew_detector_advance(b, AT(86400), collect, &skb);
	check_same_findings("through the file", &ska, &skb);
	CHECK_EQ("through the file", "resolutions", 1, skb.n);
	CHECK_EQ("through the file", "time", AT(30 + 3600), skb.v[0].f.time_ns);
	assert_int_equal(ew_detector_active(b), 0);

	/* An agent that never resolved it (an hour is forever here), saved 3 days later. */
	old.rules[EW_RULE_CRASH_LOOP].enabled = true;
	old.rules[EW_RULE_CRASH_LOOP].resolve_ns = UINT64_MAX;
	ew_detector_free(fx->d);
	fx->d = ew_detector_new(&old);
	c = ew_detector_new(&fx->cfg);
	assert_non_null(c);
	feed(fx, OP_START, 0, 0, 0, 0);
	feed(fx, OP_EXIT, 0, 10, 3, 0);
	feed(fx, OP_START, 0, 20, 0, 0);
	feed(fx, OP_EXIT, 0, 30, 3, 0);
	advance(fx, AT(3 * 86400));
	assert_int_equal(ew_detector_active(fx->d), 1);
	checkpoint_str(fx->d, AT(3 * 86400), &buf);
	assert_int_equal(ew_state_read(c, NULL, buf.data, buf.len, NOW, NULL, err, sizeof(err)), 0);
	ew_buf_free(&buf);
	ew_detector_advance(c, AT(3 * 86400 + 1), collect, &skc);
	CHECK_EQ("kept open for days", "resolutions", 1, skc.n);
	assert_true(skc.v[0].f.resolved);
	CHECK_EQ("kept open for days", "time", AT(30 + 3600), skc.v[0].f.time_ns);
	assert_int_equal(ew_detector_active(c), 0);
	ew_detector_free(b);
	ew_detector_free(c);
	sink_clear(&ska);
	sink_clear(&skb);
	sink_clear(&skc);
}

/*
 * A file saved while the node's clock was ahead, read at the real time: its times move back by
 * the difference, and the caller is told how much (it warns); read at a time within a minute
 * of it, or with no clock, it is taken as it is.
 */
static void test_state_clock_ahead(void **state)
{
	struct fx *fx = *state;
	struct step st[128];
	struct ew_detector *b = ew_detector_new(&fx->cfg);
	struct ew_detector_state ds;
	uint64_t shifted = 1, saved_now;
	struct ew_buf buf, again;
	char err[256] = "";
	size_t n;

	assert_non_null(b);
	first_half(fx, st, &n);
	ew_detector_export_state(fx->d, &ds);
	saved_now = ds.now_ns;
	checkpoint_str(fx->d, AT(1000), &buf);
	assert_int_equal(ew_state_read(b, NULL, buf.data, buf.len, saved_now - SEC(600), &shifted,
				       err, sizeof(err)),
			 0);
	assert_int_equal(shifted, SEC(600));
	ew_detector_export_state(b, &ds);
	assert_int_equal(ds.now_ns, saved_now - SEC(600));
	assert_int_equal(ew_detector_active(b), 3);
	assert_int_equal(ew_state_read(b, NULL, buf.data, buf.len, saved_now - SEC(60), &shifted,
				       err, sizeof(err)),
			 0);
	assert_int_equal(shifted, 0);
	checkpoint_str(b, AT(1000), &again);
	assert_string_equal(buf.data, again.data);
	ew_buf_free(&again);
	shifted = 1;
	assert_int_equal(ew_state_read(b, NULL, buf.data, buf.len / 2, saved_now - SEC(600),
				       &shifted, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(shifted, 0);
	ew_buf_free(&buf);
	ew_detector_free(b);
}

/*
 * The agent's time does not step; the file is on the wall clock (persist/state.h). Written after
 * a step either way, every time in it (and nothing else: pids, counts, boot-clock starts) is
 * moved by the step, so that the next agent, whose time starts on the wall clock, reads windows
 * and episodes where they were; read back and written with the opposite step, it is the file
 * written without one, byte for byte.
 */
static void test_state_wall_step(void **state)
{
	struct fx *fx = *state;
	struct step st[128];
	const int64_t steps[] = {(int64_t)SEC(3600), -(int64_t)SEC(3600)};
	struct ew_buf plain, moved, back;
	char err[256] = "";
	size_t n;

	first_half(fx, st, &n);
	checkpoint_str(fx->d, AT(1000), &plain);
	for (size_t k = 0; k < ARRAY_SIZE(steps); k++) {
		struct ew_detector *b = ew_detector_new(&fx->cfg);
		const char *p = plain.data, *q;
		size_t times = 0;

		assert_non_null(b);
		ew_buf_init(&moved);
		assert_int_equal(ew_state_write(fx->d, NULL, AT(1000), steps[k], &moved), 0);
		q = moved.data;
		/* The same text but for numbers; each number a time (after T0 - 1 day) moved by
		 * the step, every other one as it was. */
		while (*p && *q) {
			if (*p >= '0' && *p <= '9') {
				char *pe, *qe;
				uint64_t a = strtoull(p, &pe, 10), m = strtoull(q, &qe, 10);

				if (a > T0 - SEC(86400)) {
					assert_int_equal((int64_t)(m - a), steps[k]);
					times++;
				} else {
					assert_int_equal(m, a);
				}
				p = pe;
				q = qe;
				continue;
			}
			assert_int_equal(*p, *q);
			p++;
			q++;
		}
		assert_int_equal(*p, *q);
		assert_true(times > 20);
		assert_int_equal(
			ew_state_read(b, NULL, moved.data, moved.len, NOW, NULL, err, sizeof(err)),
			0);
		ew_buf_init(&back);
		assert_int_equal(
			ew_state_write(b, NULL, AT(1000) + (uint64_t)steps[k], -steps[k], &back),
			0);
		assert_string_equal(back.data, plain.data);
		ew_buf_free(&back);
		ew_buf_free(&moved);
		ew_detector_free(b);
	}
	ew_buf_free(&plain);
}

/* ---- the file ---- */

struct tmpdir {
	char dir[64];
	char path[128];
};

static void tmpdir_make(struct tmpdir *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/ew-test-state.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/state.json", t->dir);
}

static void tmpdir_remove(struct tmpdir *t)
{
	assert_int_equal(ew_t_remove_tree(t->dir), 0);
}

static void write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fputs(data, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Saved atomically (no temporary file left), loaded back into a second detector. */
static void test_state_file_save_load(void **state)
{
	struct fx *fx = *state;
	struct step st[128];
	struct tmpdir t;
	struct ew_detector *b = ew_detector_new(&fx->cfg);
	struct ew_buf want, got;
	char err[512] = "", tmp[160];
	uint64_t shifted = 1;
	struct stat sb;
	size_t n;

	tmpdir_make(&t);
	first_half(fx, st, &n);
	assert_int_equal(ew_state_save(fx->d, NULL, t.path, AT(1000), 0, NULL), 0);
	assert_int_equal(stat(t.path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(tmp, sizeof(tmp), "%s.tmp", t.path);
	assert_int_equal(access(tmp, F_OK), -1);
	/* Saved again over it: the rename replaces the old file. */
	assert_int_equal(ew_state_save(fx->d, NULL, t.path, AT(1000), 0, NULL), 0);
	assert_int_equal(ew_state_load(b, NULL, t.path, NOW, NULL, NULL, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(ew_detector_active(b), 3);
	checkpoint_str(fx->d, AT(1000), &want);
	checkpoint_str(b, AT(1000), &got);
	assert_string_equal(want.data, got.data);
	ew_buf_free(&want);
	ew_buf_free(&got);
	/* Loaded at a clock behind the file's time (AT(918)): moved back, and said. */
	assert_int_equal(ew_state_load(b, NULL, t.path, AT(0), &shifted, NULL, err, sizeof(err)),
			 0);
	assert_int_equal(shifted, SEC(918));
	ew_detector_free(b);
	tmpdir_remove(&t);
}

/* No file is no state (a first start); anything else that is wrong is said with the path. */
static void test_state_file_errors(void **state)
{
	struct fx *fx = *state;
	struct tmpdir t;
	char err[512], want[256];

	tmpdir_make(&t);
	loop_then(fx, 0, 0);

	err[0] = '\0';
	assert_int_equal(ew_state_load(fx->d, NULL, t.path, NOW, NULL, NULL, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(ew_detector_identities(fx->d), 1); /* left as it was */

	assert_int_equal(ew_state_load(fx->d, NULL, t.dir, NOW, NULL, NULL, err, sizeof(err)),
			 -EINVAL);
	snprintf(want, sizeof(want), "%s: not a regular file of a sane size", t.dir);
	assert_string_equal(err, want);

	write_file(t.path, "{\"exitwatch_state\":1,");
	assert_int_equal(ew_state_load(fx->d, NULL, t.path, NOW, NULL, NULL, err, sizeof(err)),
			 -EINVAL);
	snprintf(want, sizeof(want), "%s: not valid JSON (it ends too early); kept as %s.rejected",
		 t.path, t.path);
	assert_string_equal(err, want);
	assert_empty_and_usable(fx, fx->d, "after a corrupt file");

	write_file(t.path, "{\"exitwatch_state\":\"1\"}");
	assert_int_equal(ew_state_load(fx->d, NULL, t.path, NOW, NULL, NULL, err, sizeof(err)),
			 -EINVAL);
	snprintf(want, sizeof(want),
		 "%s: not an exitwatch state file of version 1; kept as %s.rejected", t.path,
		 t.path);
	assert_string_equal(err, want);

	/* A directory that is not there: the save fails and says so, and leaves nothing. */
	snprintf(want, sizeof(want), "%s/none/state.json", t.dir);
	assert_int_equal(ew_state_save(fx->d, NULL, want, AT(1), 0, NULL), -ENOENT);
	tmpdir_remove(&t);
}

/*
 * A state file refused at load is kept aside as PATH.rejected, and the message says so: the next
 * checkpoint writes PATH anew, and a file of a newer release (a rollback) or one an operator
 * would look into was overwritten with nothing said but "ignoring". The version found is named.
 */
static void test_state_file_rejected_kept(void **state)
{
	struct fx *fx = *state;
	const char *future = "{\"exitwatch_state\":2,\"saved_ns\":1}";
	struct tmpdir t;
	char err[1024], want[512], kept[192], data[64] = "";
	FILE *f;

	det(fx);
	tmpdir_make(&t);
	snprintf(kept, sizeof(kept), "%s.rejected", t.path);
	write_file(t.path, future);
	assert_int_equal(ew_state_load(fx->d, NULL, t.path, NOW, NULL, NULL, err, sizeof(err)),
			 -EINVAL);
	snprintf(want, sizeof(want),
		 "%s: written by another exitwatch release (state version 2; this one reads "
		 "version 1); kept as %s",
		 t.path, kept);
	assert_string_equal(err, want);
	f = fopen(kept, "re");
	assert_non_null(f);
	assert_non_null(fgets(data, sizeof(data), f));
	fclose(f);
	assert_string_equal(data, future);
	assert_int_equal(access(t.path, F_OK), -1);

	/* A second bad file replaces the one kept: the latest is the one to look into. */
	write_file(t.path, "{\"exitwatch_state\":1,");
	assert_int_equal(ew_state_load(fx->d, NULL, t.path, NOW, NULL, NULL, err, sizeof(err)),
			 -EINVAL);
	snprintf(want, sizeof(want), "%s: not valid JSON (it ends too early); kept as %s", t.path,
		 kept);
	assert_string_equal(err, want);
	tmpdir_remove(&t);
}

/*
 * The boot a file was written in: read back as written; a file without it (an older release's)
 * reads as before, with no boot id; one of another shape is refused.
 */
static void test_state_boot_id(void **state)
{
	struct fx *fx = *state;
	static const char id[] = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
	struct ew_detector *b = ew_detector_new(&fx->cfg);
	struct ew_buf with = EW_BUF_INIT, without = EW_BUF_INIT;
	char got[EW_BOOT_ID_LEN] = "x", err[512] = "", *bad;
	struct step st[128];
	size_t n;

	first_half(fx, st, &n);
	assert_int_equal(ew_state_write_boot(fx->d, NULL, AT(1000), 0, id, &with), 0);
	assert_int_equal(ew_state_write(fx->d, NULL, AT(1000), 0, &without), 0);
	assert_int_equal(
		ew_state_read_boot(b, NULL, with.data, with.len, NOW, NULL, got, err, sizeof(err)),
		0);
	assert_string_equal(got, id);
	assert_int_equal(ew_detector_active(b), 3);
	assert_int_equal(ew_state_read_boot(b, NULL, without.data, without.len, NOW, NULL, got, err,
					    sizeof(err)),
			 0);
	assert_string_equal(got, "");
	assert_int_equal(ew_detector_active(b), 3);
	bad = strstr(with.data, id);
	assert_non_null(bad);
	bad[0] = 'X';
	assert_int_equal(
		ew_state_read_boot(b, NULL, with.data, with.len, NOW, NULL, got, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "boot_id"));
	ew_buf_free(&with);
	ew_buf_free(&without);
	ew_detector_free(b);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_checkpoint_round_trip),
		T(test_checkpoint_running_rescan),
		T(test_checkpoint_run_gone),
		T(test_checkpoint_running_rescan_ticks),
		T(test_checkpoint_running_gone_quiet),
		T(test_restore_scope_changed),
		T(test_restore_corrupt_table),
		T(test_restore_messages),
		T(test_restore_wrong_types),
		T(test_restore_fuzz),
		T(test_restore_failure_empties),
		T(test_state_golden_file),
		/* The file on disk. */
		T(test_state_file_save_load),
		T(test_state_file_errors),
		T(test_state_file_rejected_kept),
		T(test_state_pods),
		T(test_checkpoint_crash_loop_quiet),
		T(test_checkpoint_last_killer),
		T(test_checkpoint_start_error),
		T(test_checkpoint_hostile_killer),
		T(test_state_clock_ahead),
		T(test_state_wall_step),
		T(test_state_boot_id),
	};

	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
