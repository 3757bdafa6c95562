/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The detector in virtual time, shared by its unit tests (tests/test_detector.c, test_rules.c,
 * test_events.c, test_evidence.c, test_export_import.c) and the state file's (test_state.c):
 * identities, a scratch event fed at an explicit time, findings copied out of the callback, the
 * expected records as tables, the runs the state tests checkpoint in the middle of, and the
 * exported state as text. Every event carries its own time and ew_detector_advance() moves the
 * clock, so each case states exactly when a finding fires or resolves. Times are seconds after
 * T0, a realistic wall clock (2025-09-16), except where the case is about small times.
 * Header-only (static inline: each test uses part of it); include after <cmocka.h>.
 */
#ifndef EW_TESTS_DETECTOR_FIXTURE_H
#define EW_TESTS_DETECTOR_FIXTURE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitwatch/detect/detector.h"
#include "exitwatch/util/buf.h"
#include "exitwatch/util/util.h"

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
	struct ew_finding f; /* subject, tail, last_killer cleared: valid during the call only */
	char key[EW_KEY_LEN];
	char tail[EW_STDERR_CAP];
	bool has_killer; /* f.last_killer was set: a copy of it */
	struct ew_killer_info killer;
};

struct sink {
	struct got *v;
	size_t n, cap;
};

static inline void collect(void *ctx, const struct ew_finding *f)
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
	g->f.last_killer = NULL;
	g->has_killer = f->last_killer != NULL;
	if (f->last_killer)
		g->killer = *f->last_killer;
	assert_non_null(f->subject);
	ew_strlcpy(g->key, ew_subject_key(f->subject), sizeof(g->key));
	assert_true(f->tail_len <= sizeof(g->tail));
	if (f->tail_len)
		memcpy(g->tail, f->tail, f->tail_len);
}

static inline void sink_clear(struct sink *s)
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
	OP_DROPS,	 /* code: running total of lost records */
	OP_START_FAILED, /* a new process, the runtime's init, exited with code before its exec */
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
	/* The runtime's error of the next failed starts (EW_TAIL_START_ERROR); NULL: none. */
	const char *start_error;
	int killer;	     /* the next exits follow this signal from another process (0: none) */
	uint32_t killer_pid; /* its sender's pid (0: 4242) */
	bool hostile_killer; /* its sender's comm: 15 bytes of 0xff, not "runc" */
	struct ew_event *ev;
	struct sink sk;
};

static inline void mkid(struct ew_identity *id, int i, const char *workload)
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
static inline int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	ew_detector_config_default(&fx->cfg);
	/* The seed rules' tests count every record: crash_loop, which comes on top of them, is
	 * tested on its own (test_crash_loop.c), which turns it back on. */
	fx->cfg.rules[EW_RULE_CRASH_LOOP].enabled = false;
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

static inline int teardown(void **state)
{
	struct fx *fx = *state;

	ew_detector_free(fx->d);
	sink_clear(&fx->sk);
	free(fx->ids);
	free(fx->ev);
	free(fx);
	return 0;
}

static inline struct ew_detector *det(struct fx *fx)
{
	if (!fx->d)
		fx->d = ew_detector_new(&fx->cfg);
	assert_non_null(fx->d);
	return fx->d;
}

static inline enum ew_exit_class class_of(int code, int sig)
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
static inline struct ew_startup feed_to(struct fx *fx, struct ew_detector *d, struct sink *sk,
					int op, int who, uint64_t t, int code, int sig)
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
	case OP_START_FAILED:
		fx->pid[who] = fx->next_pid++;
		fx->boot[who] = t - T0 / 2;
		ev->type = EW_EVENT_START_FAILED;
		ev->status.code = code;
		ev->status.signal = sig; /* crun's init, SIGKILLed by crun */
		cls = EW_CLASS_START_FAILED;
		ew_strlcpy(ev->cgroup, fx->ids[who].cgroup, sizeof(ev->cgroup));
		if (fx->start_error) {
			ev->tail_len = (uint32_t)strlen(fx->start_error);
			memcpy(ev->tail, fx->start_error, ev->tail_len);
			ev->tail_source = EW_TAIL_START_ERROR;
		}
		break;
	case OP_EXIT:
		ev->type = EW_EVENT_EXIT;
		ev->status.code = code;
		ev->status.signal = sig;
		cls = class_of(code, sig);
		if (fx->killer) {
			/* As the pipeline hands it over: only a sender whose signal ended the
			 * process (it died of it, or caught it and exited soon after) is kept. */
			ev->has_killer = true;
			ev->killer.signal = fx->killer;
			ev->killer.caught = !sig;
			ev->killer.time_ns = t - SEC(1) / 10;
			ev->killer.pid = fx->killer_pid ? fx->killer_pid : 4242;
			ev->killer.cgroup_id = 1;
			ew_strlcpy(ev->killer.comm, "runc", sizeof(ev->killer.comm));
			if (fx->hostile_killer)
				memset(ev->killer.comm, 0xff, sizeof(ev->killer.comm) - 1);
			ew_strlcpy(ev->killer.container, "host", sizeof(ev->killer.container));
			if (!sig && code && code != 3)
				cls = EW_CLASS_TERMINATED; /* an app that caught SIGTERM: 143 */
		}
		ev->tail_len = (uint32_t)strlen(tail);
		memcpy(ev->tail, tail, ev->tail_len);
		break;
	default:
		fail_msg("not an event op: %d", op);
	}
	ev->pid = fx->pid[who];
	ev->start_boot_ns = fx->boot[who];
	/* The start-up scan reads the start from /proc/<pid>/stat, in clock ticks. */
	if (ev->seeded)
		ev->start_boot_ns -= ev->start_boot_ns % EW_NS_PER_TICK;
	assert_int_equal(ew_detector_observe(d, ev, &fx->ids[who], cls, collect, sk, &su), 0);
	return su;
}

static inline struct ew_startup feed(struct fx *fx, int op, int who, double s, int code, int sig)
{
	return feed_to(fx, det(fx), &fx->sk, op, who, AT_MS(MSEC(s)), code, sig);
}

static inline void advance(struct fx *fx, uint64_t t)
{
	ew_detector_advance(det(fx), t, collect, &fx->sk);
}

static inline void run_on(struct fx *fx, struct ew_detector *d, struct sink *sk,
			  const struct step *st, size_t n)
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

static inline void dump(const struct sink *sk)
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
static inline void check_wants(const char *ctx, const struct sink *sk,
			       const struct ew_identity *ids, unsigned mask, const struct want *w,
			       size_t nw)
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

static inline uint32_t count_rule(const struct sink *sk, enum ew_rule r, bool resolved)
{
	uint32_t n = 0;

	for (size_t i = 0; i < sk->n; i++)
		n += sk->v[i].f.rule == r && sk->v[i].f.resolved == resolved;
	return n;
}

static inline bool finding_id_ok(const char *id)
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
#define SF(w, s, c)	{ OP_START_FAILED, w, c, 0, MSEC(s) }
#define SFSIG(w, s, g)	{ OP_START_FAILED, w, 0, g, MSEC(s) }
#define DROPS(s, tot)	{ OP_DROPS, 0, tot, 0, MSEC(s) }

#define W_BURST(s, n, who)	{ EW_RULE_EXIT_CODE_BURST, false, MSEC(s), n, who }
#define W_BURST_R(s, n, who)	{ EW_RULE_EXIT_CODE_BURST, true, MSEC(s), n, who }
#define W_RATE(s, n, who)	{ EW_RULE_RESTART_RATE, false, MSEC(s), n, who }
#define W_RATE_R(s, n, who)	{ EW_RULE_RESTART_RATE, true, MSEC(s), n, who }
#define W_START(s, n, who)	{ EW_RULE_STARTUP_FAILURE_RATE, false, MSEC(s), n, who }
#define W_START_R(s, n, who)	{ EW_RULE_STARTUP_FAILURE_RATE, true, MSEC(s), n, who }
#define W_STABLE(s, who)	{ EW_RULE_STABLE, false, MSEC(s), 0, who }
#define W_LOOP(s, n, who)	{ EW_RULE_CRASH_LOOP, false, MSEC(s), n, who }
#define W_LOOP_R(s, n, who)	{ EW_RULE_CRASH_LOOP, true, MSEC(s), n, who }
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

static inline void run_scenarios(struct fx *fx, const struct scenario *sc, size_t n)
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

/* Kubelet back-off: 10 s doubling to 5 minutes; each run exits 1 s after its start. */
static inline size_t kubelet_steps(struct step *out, int who, int cycles, int code)
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

static inline void loop_then(struct fx *fx, int who, double t)
{
	for (int i = 0; i < 5; i++) {
		feed(fx, OP_START, who, t + 10.0 * i, 0, 0);
		feed(fx, OP_EXIT, who, t + 10.0 * i + 1, 1, 0);
	}
}

/* ---- for checkpoints and restores ---- */

/* A kubelet crash loop, then the fix: the container stays up. */
static inline size_t crash_loop_then_fix(struct step *st)
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

static inline void check_same_findings(const char *ctx, const struct sink *a, const struct sink *b)
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
		CHECK_EQ(c, "tail_start_error", x->tail_start_error, y->tail_start_error);
		CHECK_EQ(c, "last exit's killer", a->v[i].has_killer, b->v[i].has_killer);
		if (a->v[i].has_killer) {
			const struct ew_killer_info *p = &a->v[i].killer, *q = &b->v[i].killer;

			CHECK_EQ(c, "killer pid", p->pid, q->pid);
			CHECK_EQ(c, "killer signal", p->signal, q->signal);
			CHECK_EQ(c, "killer cgroup_id", p->cgroup_id, q->cgroup_id);
			CHECK_STR(c, "killer comm", p->comm, q->comm);
			CHECK_STR(c, "killer container", p->container, q->container);
		}
		CHECK_EQ(c, "degraded", x->degraded, y->degraded);
		CHECK_EQ(c, "uptime_ns", x->uptime_ns, y->uptime_ns);
		CHECK_EQ(c, "fired_ns", x->fired_ns, y->fired_ns);
		CHECK_EQ(c, "duration_ns", x->duration_ns, y->duration_ns);
		CHECK_EQ(c, "total", x->total, y->total);
	}
}

static inline void assert_empty_and_usable(struct fx *fx, struct ew_detector *d, const char *ctx)
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

static inline uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Random streams' next event of who at *t: a start (and a ready, one time in ready_in) when it
 * is not running, else an exit a second later with a code drawn from codes.
 */
static inline void toggle_step(struct step *st, size_t *n, bool *running, int who, int64_t *t,
			       uint64_t *seed, unsigned ready_in, const int16_t *codes,
			       size_t ncodes)
{
	if (!running[who]) {
		st[(*n)++] = (struct step){OP_START, (uint8_t)who, 0, 0, *t};
		if (rng_next(seed) % ready_in == 0)
			st[(*n)++] = (struct step){OP_READY, (uint8_t)who, 0, 0, *t + 500};
	} else {
		st[(*n)++] = (struct step){OP_EXIT, (uint8_t)who, codes[rng_next(seed) % ncodes], 0,
					   *t + 1000};
		*t += 1000;
	}
	running[who] = !running[who];
}

/* ---- the state exported: as text, and into a second detector ---- */

/* Everything an export says, as text: two detectors in the same state give the same text. */
static inline void dump_samples(struct ew_buf *b, const char *name,
				const struct ew_detector_samples *s)
{
	ew_buf_printf(b, " %s:", name);
	for (size_t i = 0; i < s->n; i++)
		ew_buf_printf(b, " [%llu %u %d %u %u]", (unsigned long long)s->v[i].t,
			      s->v[i].ident, s->v[i].code, s->v[i].signal, s->v[i].flags);
}

static inline void dump_scope(struct ew_buf *b, const struct ew_detector_scope *s)
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

static inline void dump_subject(struct ew_buf *b, const char *name, const struct ew_identity *id)
{
	if (id)
		ew_buf_printf(b, " %s: %s %s %s %llu", name, id->key, id->workload, id->display,
			      (unsigned long long)id->cgroup_id);
}

static inline void dump_workload(void *ctx, const struct ew_detector_workload *wl)
{
	struct ew_buf *b = ctx;

	ew_buf_printf(b, "workload %s", wl->key);
	dump_subject(b, "last_subject", wl->last_subject);
	dump_scope(b, &wl->s);
	ew_buf_puts(b, "\n");
}

static inline void dump_ident(void *ctx, const struct ew_detector_ident *id)
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
	if (id->fail_streak)
		ew_buf_printf(b, " streak [%u %llu %d %u %u %llx]", id->fail_streak,
			      (unsigned long long)id->streak_first_ns, id->streak_code,
			      id->streak_signal, id->line_repeats,
			      (unsigned long long)id->line_hash);
	ew_buf_printf(b, " tail %u%s:", id->tail_len, id->tail_start_error ? " start_error" : "");
	ew_buf_append(b, id->tail ? id->tail : "", id->tail_len);
	dump_subject(b, "subject", id->subject);
	dump_scope(b, &id->s);
	ew_buf_puts(b, "\n");
}

static inline void state_dump(const struct ew_detector *d, struct ew_buf *b)
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

static inline void copy_workload(void *ctx, const struct ew_detector_workload *wl)
{
	struct copier *c = ctx;

	if (!c->r)
		c->r = ew_detector_import_workload(c->im, wl);
}

static inline void copy_ident(void *ctx, const struct ew_detector_ident *id)
{
	struct copier *c = ctx;

	if (!c->r)
		c->r = ew_detector_import_ident(c->im, id);
}

/*
 * The copy at the wall clock's now_ns (UINT64_MAX: none to compare with); *shift (may be NULL)
 * says how far back its times were moved.
 */
static inline int state_copy_at(const struct ew_detector *from, struct ew_detector *to,
				uint64_t now_ns, uint64_t *shift, char *err, size_t errlen)
{
	struct ew_detector_state st;
	struct copier c = {0};

	ew_detector_export_state(from, &st);
	c.im = ew_detector_import_begin(to, &st, now_ns, err, errlen);
	assert_non_null(c.im);
	if (shift)
		*shift = ew_detector_import_shift(c.im);
	assert_int_equal(ew_detector_export_workloads(from, copy_workload, &c), 0);
	assert_int_equal(ew_detector_export_idents(from, copy_ident, &c), 0);
	return ew_detector_import_end(c.im, to, true);
}

static inline int state_copy(const struct ew_detector *from, struct ew_detector *to, char *err,
			     size_t errlen)
{
	return state_copy_at(from, to, UINT64_MAX, NULL, err, errlen);
}

#endif
