// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The detector in virtual time: every event carries its own time and ew_detector_advance() moves
 * the clock, so each case states exactly when a finding fires or resolves. Times are seconds
 * after T0, a realistic wall clock (2025-09-16), except where the case is about small times.
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

#define T0	  (1758000000ULL * EW_NSEC_PER_SEC)
#define SEC(x)	  ((uint64_t)(x)*EW_NSEC_PER_SEC)
#define AT(s)	  (T0 + SEC(s))
#define MSEC(s)	  ((int64_t)((s)*1000.0 + ((s) >= 0 ? 0.5 : -0.5)))
#define AT_MS(ms) ((uint64_t)((int64_t)T0 + (int64_t)(ms) * (int64_t)EW_NSEC_PER_MSEC))
#define NIDS	  80
#define WL_API	  "compose:shop/api"
#define WL_WORKER "compose:shop/worker"
#define DEF_TAIL                                                                    \
	"Traceback (most recent call last):\nModuleNotFoundError: No module named " \
	"'netra_backend.app.services.monitoring'\n"
#define ALL_RULES 0xfu
#define RULE(r)	  (1u << (r))

/* ---- findings, copied out of the callback ---- */

struct got {
	struct ew_finding f; /* subject and tail cleared: they are valid during the call only */
	char key[EW_KEY_LEN];
	char tail[EW_STDERR_CAP];
};

struct sink {
	struct got *v;
	size_t n, cap;
};

static void collect(void *ctx, const struct ew_finding *f)
{
	struct sink *s = ctx;
	struct got *g;

	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		assert_non_null(s->v);
	}
	g = &s->v[s->n++];
	memset(g, 0, sizeof(*g));
	g->f = *f;
	g->f.subject = NULL;
	g->f.tail = NULL;
	assert_non_null(f->subject);
	ew_strlcpy(g->key, ew_subject_key(f->subject), sizeof(g->key));
	assert_true(f->tail_len <= sizeof(g->tail));
	if (f->tail_len)
		memcpy(g->tail, f->tail, f->tail_len);
}

static void sink_clear(struct sink *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ---- fixture: identities, one scratch event, the detector under test ---- */

enum op {
	OP_START = 1, /* exec of the main process */
	OP_SEEDED,    /* found running at agent start: a new process */
	OP_RESCAN,    /* found running at agent start: the process last started */
	OP_REEXEC,    /* the main process exec'd again */
	OP_READY,
	OP_EXIT,
	OP_ADVANCE,
	OP_DROPS, /* code: running total of lost records */
};

struct step {
	uint8_t op;
	uint8_t who;
	int16_t code;
	uint8_t sig;
	int64_t ms; /* after T0 */
};

struct fx {
	struct ew_detector_config cfg;
	struct ew_detector *d;
	struct ew_identity *ids;
	uint32_t pid[NIDS];
	uint64_t boot[NIDS];
	uint32_t next_pid;
	const char *tail; /* stderr of the next exits; NULL: DEF_TAIL */
	struct ew_event *ev;
	struct sink sk;
};

static void mkid(struct ew_identity *id, int i, const char *workload)
{
	memset(id, 0, sizeof(*id));
	id->cgroup_id = 5000 + (uint64_t)i;
	id->cg.runtime = EW_RT_DOCKER;
	snprintf(id->cg.container_id, sizeof(id->cg.container_id), "%064x",
		 (unsigned)(0xc0de00 + i));
	snprintf(id->cgroup, sizeof(id->cgroup), "/system.slice/docker-%s.scope",
		 id->cg.container_id);
	id->has_meta = true;
	id->meta.restart_count = -1;
	snprintf(id->meta.name, sizeof(id->meta.name), "svc-%02d", i);
	snprintf(id->key, sizeof(id->key), "docker:%s", id->cg.container_id);
	ew_strlcpy(id->workload, workload ? workload : id->key, sizeof(id->workload));
	ew_strlcpy(id->display, id->meta.name, sizeof(id->display));
}

/* 0-9 and 20-79: a workload each; 10-13: WL_API replicas; 14-15: WL_WORKER replicas. */
static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	ew_detector_config_default(&fx->cfg);
	fx->ids = calloc(NIDS, sizeof(*fx->ids));
	fx->ev = calloc(1, sizeof(*fx->ev));
	assert_non_null(fx->ids);
	assert_non_null(fx->ev);
	for (int i = 0; i < NIDS; i++)
		mkid(&fx->ids[i], i,
		     i >= 10 && i <= 13	  ? WL_API
		     : i >= 14 && i <= 15 ? WL_WORKER
					  : NULL);
	fx->next_pid = 1000;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	ew_detector_free(fx->d);
	sink_clear(&fx->sk);
	free(fx->ids);
	free(fx->ev);
	free(fx);
	return 0;
}

static struct ew_detector *det(struct fx *fx)
{
	if (!fx->d)
		fx->d = ew_detector_new(&fx->cfg);
	assert_non_null(fx->d);
	return fx->d;
}

static enum ew_exit_class class_of(int code, int sig)
{
	if (sig == SIGKILL)
		return EW_CLASS_KILLED;
	if (sig == SIGTERM || sig == SIGINT)
		return EW_CLASS_TERMINATED;
	if (sig)
		return EW_CLASS_CRASH;
	if (code == 0)
		return EW_CLASS_CLEAN;
	return code == 3 ? EW_CLASS_CONFIG_ERROR : EW_CLASS_APP_ERROR;
}

/* Feeds one event at absolute time t to detector d; returns what the detector said. */
static struct ew_startup feed_to(struct fx *fx, struct ew_detector *d, struct sink *sk, int op,
				 int who, uint64_t t, int code, int sig)
{
	struct ew_event *ev = fx->ev;
	enum ew_exit_class cls = EW_CLASS_CLEAN;
	struct ew_startup su;
	const char *tail = fx->tail ? fx->tail : DEF_TAIL;

	memset(ev, 0, offsetof(struct ew_event, tail));
	ev->tail_len = 0;
	ev->time_ns = t;
	ev->cgroup_id = fx->ids[who].cgroup_id;
	switch (op) {
	case OP_START:
	case OP_SEEDED:
	case OP_RESCAN:
	case OP_REEXEC:
		if (op == OP_START || op == OP_SEEDED) { /* a new process */
			fx->pid[who] = fx->next_pid++;
			fx->boot[who] = t - T0 / 2;
		}
		ev->type = EW_EVENT_START;
		ev->seeded = op == OP_SEEDED || op == OP_RESCAN;
		ev->reexec = op == OP_REEXEC;
		ew_strlcpy(ev->cgroup, fx->ids[who].cgroup, sizeof(ev->cgroup));
		break;
	case OP_READY:
		ev->type = EW_EVENT_READY;
		ev->listener_pid = fx->pid[who];
		break;
	case OP_EXIT:
		ev->type = EW_EVENT_EXIT;
		ev->status.code = code;
		ev->status.signal = sig;
		cls = class_of(code, sig);
		ev->tail_len = (uint32_t)strlen(tail);
		memcpy(ev->tail, tail, ev->tail_len);
		break;
	default:
		fail_msg("not an event op: %d", op);
	}
	ev->pid = fx->pid[who];
	ev->start_boot_ns = fx->boot[who];
	assert_int_equal(ew_detector_observe(d, ev, &fx->ids[who], cls, collect, sk, &su), 0);
	return su;
}

static struct ew_startup feed(struct fx *fx, int op, int who, double s, int code, int sig)
{
	return feed_to(fx, det(fx), &fx->sk, op, who, AT_MS(MSEC(s)), code, sig);
}

static void advance(struct fx *fx, uint64_t t)
{
	ew_detector_advance(det(fx), t, collect, &fx->sk);
}

static void run_on(struct fx *fx, struct ew_detector *d, struct sink *sk, const struct step *st,
		   size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t t = AT_MS(st[i].ms);

		if (st[i].op == OP_ADVANCE)
			ew_detector_advance(d, t, collect, sk);
		else if (st[i].op == OP_DROPS)
			ew_detector_note_drops(d, t, (uint64_t)st[i].code);
		else
			feed_to(fx, d, sk, st[i].op, st[i].who, t, st[i].code, st[i].sig);
	}
}

/* ---- expectations ---- */

struct want {
	enum ew_rule rule;
	bool resolved;
	int64_t ms; /* record time after T0 */
	uint32_t n; /* finding: count in window; resolved: total over the episode */
	int who;    /* subject */
};

#define CHECK_EQ(ctx, what, want, got)                                              \
	do {                                                                        \
		unsigned long long w_ = (unsigned long long)(want),                 \
				   g_ = (unsigned long long)(got);                  \
		if (w_ != g_)                                                       \
			fail_msg("%s: %s: want %llu, got %llu", ctx, what, w_, g_); \
	} while (0)

#define CHECK_DBL(ctx, what, want, got)                                             \
	do {                                                                        \
		double w_ = (want), g_ = (got);                                     \
		if (w_ - g_ > 1e-9 || g_ - w_ > 1e-9)                               \
			fail_msg("%s: %s: want %.9f, got %.9f", ctx, what, w_, g_); \
	} while (0)

#define CHECK_STR(ctx, what, want, got)                                                        \
	do {                                                                                   \
		if (strcmp((want), (got)))                                                     \
			fail_msg("%s: %s: want \"%s\", got \"%s\"", ctx, what, (want), (got)); \
	} while (0)

static void dump(const struct sink *sk)
{
	for (size_t i = 0; i < sk->n; i++) {
		const struct ew_finding *f = &sk->v[i].f;

		print_message("  [%zu] %s%s t=%+.3fs count=%u total=%u key=...%s\n", i,
			      ew_rule_name(f->rule), f->resolved ? " resolved" : "",
			      ((double)f->time_ns - (double)T0) / 1e9, f->count, f->total,
			      sk->v[i].key + strlen(sk->v[i].key) - 4);
	}
}

/* Compares the findings of the rules in mask, in order, with the wanted ones. */
static void check_wants(const char *ctx, const struct sink *sk, const struct ew_identity *ids,
			unsigned mask, const struct want *w, size_t nw)
{
	size_t k = 0;

	for (size_t i = 0; i < sk->n; i++) {
		const struct got *g = &sk->v[i];
		char c[160];

		if (!(mask & RULE(g->f.rule)))
			continue;
		snprintf(c, sizeof(c), "%s: record %zu", ctx, k);
		if (k == nw) {
			dump(sk);
			fail_msg("%s: unexpected %s%s at %+.3fs", c, ew_rule_name(g->f.rule),
				 g->f.resolved ? " resolved" : "",
				 ((double)g->f.time_ns - (double)T0) / 1e9);
		}
		if (g->f.rule != w[k].rule || g->f.resolved != w[k].resolved)
			dump(sk);
		CHECK_STR(c, "rule", ew_rule_name(w[k].rule), ew_rule_name(g->f.rule));
		CHECK_EQ(c, "resolved", w[k].resolved, g->f.resolved);
		CHECK_EQ(c, "time_ns", AT_MS(w[k].ms), g->f.time_ns);
		if (w[k].resolved)
			CHECK_EQ(c, "total", w[k].n, g->f.total);
		else if (w[k].rule != EW_RULE_STABLE)
			CHECK_EQ(c, "count", w[k].n, g->f.count);
		if (w[k].who >= 0)
			CHECK_STR(c, "subject", ids[w[k].who].key, g->key);
		k++;
	}
	if (k != nw) {
		dump(sk);
		fail_msg("%s: want %zu records, got %zu", ctx, nw, k);
	}
}

static uint32_t count_rule(const struct sink *sk, enum ew_rule r, bool resolved)
{
	uint32_t n = 0;

	for (size_t i = 0; i < sk->n; i++)
		n += sk->v[i].f.rule == r && sk->v[i].f.resolved == resolved;
	return n;
}

static bool finding_id_ok(const char *id)
{
	if (strlen(id) != 18 || strncmp(id, "f-", 2))
		return false;
	for (int i = 2; i < 18; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return true;
}

/* ---- scenario tables ---- */

/* One step or one expected record per line: the scenarios read as tables. */
/* clang-format off */
#define ST(w, s)	{ OP_START, w, 0, 0, MSEC(s) }
#define SEEDED(w, s)	{ OP_SEEDED, w, 0, 0, MSEC(s) }
#define RD(w, s)	{ OP_READY, w, 0, 0, MSEC(s) }
#define X(w, s, c)	{ OP_EXIT, w, c, 0, MSEC(s) }
#define XSIG(w, s, g)	{ OP_EXIT, w, 0, g, MSEC(s) }
#define ADV(s)		{ OP_ADVANCE, 0, 0, 0, MSEC(s) }
#define DROPS(s, tot)	{ OP_DROPS, 0, tot, 0, MSEC(s) }

#define W_BURST(s, n, who)	{ EW_RULE_EXIT_CODE_BURST, false, MSEC(s), n, who }
#define W_BURST_R(s, n, who)	{ EW_RULE_EXIT_CODE_BURST, true, MSEC(s), n, who }
#define W_RATE(s, n, who)	{ EW_RULE_RESTART_RATE, false, MSEC(s), n, who }
#define W_RATE_R(s, n, who)	{ EW_RULE_RESTART_RATE, true, MSEC(s), n, who }
#define W_START(s, n, who)	{ EW_RULE_STARTUP_FAILURE_RATE, false, MSEC(s), n, who }
#define W_START_R(s, n, who)	{ EW_RULE_STARTUP_FAILURE_RATE, true, MSEC(s), n, who }
#define W_STABLE(s, who)	{ EW_RULE_STABLE, false, MSEC(s), 0, who }
/* clang-format on */

struct scenario {
	const char *name;
	unsigned mask; /* rules compared */
	const struct step *steps;
	size_t nsteps;
	const struct want *wants;
	size_t nwants;
};

#define STEPS(...) \
	(const struct step[]){__VA_ARGS__}, ARRAY_SIZE(((const struct step[]){__VA_ARGS__}))
#define WANTS(...) \
	(const struct want[]){__VA_ARGS__}, ARRAY_SIZE(((const struct want[]){__VA_ARGS__}))
#define NONE NULL, 0

static void run_scenarios(struct fx *fx, const struct scenario *sc, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct ew_detector *d = ew_detector_new(&fx->cfg);
		struct sink sk = {0};

		assert_non_null(d);
		run_on(fx, d, &sk, sc[i].steps, sc[i].nsteps);
		check_wants(sc[i].name, &sk, fx->ids, sc[i].mask, sc[i].wants, sc[i].nwants);
		ew_detector_free(d);
		sink_clear(&sk);
	}
}

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

/* Kubelet back-off: 10 s doubling to 5 minutes; each run exits 1 s after its start. */
static size_t kubelet_steps(struct step *out, int who, int cycles, int code)
{
	static const int backoff[] = {10, 20, 40, 80, 160};
	int64_t t = 0;
	size_t n = 0;

	for (int i = 0; i < cycles; i++) {
		out[n++] = (struct step){OP_START, (uint8_t)who, 0, 0, t * 1000};
		out[n++] = (struct step){OP_EXIT, (uint8_t)who, (int16_t)code, 0, (t + 1) * 1000};
		t += 1 + (i < (int)ARRAY_SIZE(backoff) ? backoff[i] : 300);
	}
	return n;
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

static void loop_then(struct fx *fx, int who, double t)
{
	for (int i = 0; i < 5; i++) {
		feed(fx, OP_START, who, t + 10.0 * i, 0, 0);
		feed(fx, OP_EXIT, who, t + 10.0 * i + 1, 1, 0);
	}
}

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

/* ---- checkpoint and restore ---- */

/* A kubelet crash loop, then the fix: the container stays up. */
static size_t crash_loop_then_fix(struct step *st)
{
	size_t n = kubelet_steps(st, 0, 12, 3);
	int64_t t = st[n - 1].ms + 300000;

	st[n++] = (struct step){OP_START, 0, 0, 0, t};
	st[n++] = (struct step){OP_READY, 0, 0, 0, t + 3000};
	/* A replica of another workload with a slower loop, and a neighbour that just runs. */
	for (int i = 0; i < 6; i++) {
		st[n++] = (struct step){OP_START, 14, 0, 0, 50000 + 400000 * i};
		st[n++] = (struct step){OP_EXIT, 14, 2, 0, 52000 + 400000 * i};
	}
	st[n++] = (struct step){OP_START, 5, 0, 0, 60000};
	st[n++] = (struct step){OP_DROPS, 0, 7, 0, 900000};
	st[n++] = (struct step){OP_ADVANCE, 0, 0, 0, 30LL * 3600 * 1000};
	/* Sorted by time, stably (the advance is last). */
	for (size_t i = 1; i < n; i++) {
		struct step x = st[i];
		size_t j = i;

		for (; j > 0 && st[j - 1].ms > x.ms; j--)
			st[j] = st[j - 1];
		st[j] = x;
	}
	return n;
}

static void check_same_findings(const char *ctx, const struct sink *a, const struct sink *b)
{
	CHECK_EQ(ctx, "number of findings", a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct ew_finding *x = &a->v[i].f, *y = &b->v[i].f;
		char c[96];

		snprintf(c, sizeof(c), "%s: record %zu", ctx, i);
		CHECK_EQ(c, "rule", x->rule, y->rule);
		CHECK_EQ(c, "resolved", x->resolved, y->resolved);
		CHECK_EQ(c, "severity", x->severity, y->severity);
		CHECK_EQ(c, "scope", x->scope, y->scope);
		CHECK_STR(c, "finding_id", x->finding_id, y->finding_id);
		CHECK_STR(c, "subject", a->v[i].key, b->v[i].key);
		CHECK_EQ(c, "time_ns", x->time_ns, y->time_ns);
		CHECK_EQ(c, "identities", x->identities, y->identities);
		CHECK_EQ(c, "count", x->count, y->count);
		CHECK_EQ(c, "threshold", x->threshold, y->threshold);
		CHECK_EQ(c, "window_ns", x->window_ns, y->window_ns);
		CHECK_EQ(c, "first_ns", x->first_ns, y->first_ns);
		CHECK_EQ(c, "last_ns", x->last_ns, y->last_ns);
		CHECK_EQ(c, "starts", x->starts, y->starts);
		CHECK_EQ(c, "failed_starts", x->failed_starts, y->failed_starts);
		CHECK_DBL(c, "fail_percent", x->fail_percent, y->fail_percent);
		CHECK_DBL(c, "threshold_percent", x->threshold_percent, y->threshold_percent);
		CHECK_EQ(c, "intervals", x->intervals, y->intervals);
		CHECK_DBL(c, "median", x->interval_median_s, y->interval_median_s);
		CHECK_DBL(c, "min", x->interval_min_s, y->interval_min_s);
		CHECK_DBL(c, "max", x->interval_max_s, y->interval_max_s);
		CHECK_EQ(c, "nhist", x->nhist, y->nhist);
		for (uint32_t k = 0; k < x->nhist; k++) {
			CHECK_EQ(c, "hist code", x->hist[k].code, y->hist[k].code);
			CHECK_EQ(c, "hist signal", x->hist[k].signal, y->hist[k].signal);
			CHECK_EQ(c, "hist count", x->hist[k].count, y->hist[k].count);
		}
		CHECK_EQ(c, "has_last_exit", x->has_last_exit, y->has_last_exit);
		CHECK_EQ(c, "last_class", x->last_class, y->last_class);
		CHECK_EQ(c, "last_code", x->last_code, y->last_code);
		CHECK_EQ(c, "last_signal", x->last_signal, y->last_signal);
		CHECK_EQ(c, "last_exit_ns", x->last_exit_ns, y->last_exit_ns);
		CHECK_EQ(c, "tail_len", x->tail_len, y->tail_len);
		if (memcmp(a->v[i].tail, b->v[i].tail, x->tail_len))
			fail_msg("%s: tail differs", c);
		CHECK_EQ(c, "degraded", x->degraded, y->degraded);
		CHECK_EQ(c, "uptime_ns", x->uptime_ns, y->uptime_ns);
		CHECK_EQ(c, "fired_ns", x->fired_ns, y->fired_ns);
		CHECK_EQ(c, "duration_ns", x->duration_ns, y->duration_ns);
		CHECK_EQ(c, "total", x->total, y->total);
	}
}

static void checkpoint_str(struct ew_detector *d, uint64_t now, struct ew_buf *b)
{
	ew_buf_init(b);
	assert_int_equal(ew_detector_checkpoint(d, now, b), 0);
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
	assert_int_equal(ew_detector_restore(b, buf.data, buf.len, err, sizeof(err)), 0);
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
	assert_int_equal(ew_detector_restore(b, buf.data, buf.len, err, sizeof(err)), 0);

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

static void assert_empty_and_usable(struct fx *fx, struct ew_detector *d, const char *ctx)
{
	struct sink sk = {0};

	CHECK_EQ(ctx, "identities", 0, ew_detector_identities(d));
	CHECK_EQ(ctx, "active", 0, ew_detector_active(d));
	CHECK_EQ(ctx, "next deadline", UINT64_MAX, ew_detector_next_deadline(d));
	for (int i = 0; i < 4; i++)
		feed_to(fx, d, &sk, OP_EXIT, 0, AT(100000 + 10 * i), 3, 0);
	CHECK_EQ(ctx, "usable: a burst fires", 1, sk.n);
	sink_clear(&sk);
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
	WLS(WL("", SCOPE("[]", "[]"))),				    /* a workload without a key */
	STATE("{\"workload\":\"w\"}"),				    /* an identity without a key */
	ROOT("1", "100", "[]", "[]") " trailing",		    /* data after the object */
	STATE(IDENT("k", "1", "") "," IDENT("k", "2", "")),	    /* the same key twice */
	STATE(IDENT("a", "1", "") "," IDENT("b", "1", "")),	    /* the same serial twice */
	STATE(IDENT("a", "0", "")),				    /* serials start at 1 */
	STATE(IDENT("a", "4294967296", "")),			    /* beyond 32 bits */
	STATE(IDENT("a", "1", ",\"tail_hex\":\"zz\"")),		    /* not hex */
	STATE(IDENT("a", "1", ",\"subject\":{\"key\":\"b\"}")),	    /* someone else */
	STATE(IDENT("a", "1", ",\"subject\":{\"display\":\"x\"}")), /* no key */
	STATE(IDENT("a", "1", ",\"last_exit\":[50,3,0,240]")),	    /* exit class 15 */
	STATE(IDENT("a", "1", ",\"last_exit\":[150,3,0,16]")),	    /* after the checkpoint */
	STATE(IDENT_S("a", "[[50,1,70000,0,16]]", "[]")),	    /* code beyond 16 bits */
	STATE(IDENT_S("a", "[[50,1,3,256,16]]", "[]")),		    /* signal beyond 8 bits */
	STATE(IDENT_S("a", "[[50,1,3,0,16]]",
		      "[" EP("restart_rate", "10", "20") "," EP("restart_rate", "10",
								"20") "]")), /* twice */
	STATE(IDENT_S("a", "[]", "[" EP("restart_rate", "30", "20") "]")),   /* fired after last */
	STATE(IDENT_S("a", "[]", "[" EP("stable", "10", "20") "]")), /* a milestone has none */
	STATE(IDENT_S("a", "[]",
		      "[{\"rule\":\"restart_rate\",\"id\":\"\",\"fired_ns\":1,"
		      "\"last_ns\":1,\"total\":4,\"last_ident\":1}]")),	    /* no id */
	STATE(IDENT_S("a", "[]", "[" EP("restart_rate", "10", "-20") "]")), /* negative time */
};

static void test_restore_corrupt_table(void **state)
{
	struct fx *fx = *state;

	for (size_t i = 0; i < ARRAY_SIZE(valid_cases); i++) {
		struct ew_detector *d = ew_detector_new(&fx->cfg);
		char err[256] = "";
		int r = ew_detector_restore(d, valid_cases[i], strlen(valid_cases[i]), err,
					    sizeof(err));

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
		r = ew_detector_restore(d, corrupt_cases[i], strlen(corrupt_cases[i]), err,
					sizeof(err));
		if (r != -EINVAL)
			fail_msg("%s: want -EINVAL, got %d (%s)", ctx, r, corrupt_cases[i]);
		if (!err[0])
			fail_msg("%s: no message", ctx);
		assert_empty_and_usable(fx, d, ctx);
		ew_detector_free(d);
	}
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
		if (ew_detector_restore(d, bad.data, bad.len, err, sizeof(err)) != -EINVAL)
			fail_msg("%s: the wrong type was accepted", ctx);
		if (!err[0])
			fail_msg("%s: no message", ctx);
		assert_empty_and_usable(fx, d, ctx);
		ew_buf_free(&bad);
		ew_detector_free(d);
	}
	ew_buf_free(&buf);
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
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
		r = ew_detector_restore(d, m, len, err, sizeof(err));
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
	assert_int_equal(ew_detector_restore(fx->d, buf.data, buf.len, err, sizeof(err)), 0);
	assert_int_equal(ew_detector_identities(fx->d), 1);
	assert_int_equal(ew_detector_active(fx->d), 2);
	assert_int_equal(ew_detector_restore(fx->d, buf.data, buf.len / 2, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "JSON"));
	assert_empty_and_usable(fx, fx->d, "after a failed restore");
	ew_buf_free(&buf);
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
	checkpoint_str(a, AT(0), &ba);
	checkpoint_str(b, AT(0), &bb);
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
	struct ew_buf buf;
	struct ew_detector *b = ew_detector_new(&fx->cfg);
	char err[128];

	assert_int_equal(ew_detector_identities(det(fx)), 0);
	assert_int_equal(ew_detector_active(fx->d), 0);
	assert_int_equal(ew_detector_next_deadline(fx->d), UINT64_MAX);
	advance(fx, AT(1e6));
	assert_int_equal(fx->sk.n, 0);
	checkpoint_str(fx->d, AT(1e6), &buf);
	assert_int_equal(ew_detector_restore(b, buf.data, buf.len, err, sizeof(err)), 0);
	assert_empty_and_usable(fx, b, "restored empty");
	ew_detector_free(NULL);
	ew_buf_free(&buf);
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
		T(test_checkpoint_round_trip),
		T(test_checkpoint_running_rescan),
		T(test_restore_corrupt_table),
		T(test_restore_wrong_types),
		T(test_restore_fuzz),
		T(test_restore_failure_empties),
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
