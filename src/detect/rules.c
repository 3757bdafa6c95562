// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Rules over container starts and exits, in virtual time. A finding fires on the event that
 * crosses its threshold and its episode stays open until the rule's resolution condition holds:
 * firing and resolving use different conditions (more than N in a window versus none for a quiet
 * period; above 5% failures versus 99% success), so an episode cannot flap. Deadlines
 * (resolutions, grace periods, the stable milestone) run in time order from
 * ew_detector_advance(), and what they report carries the deadline's time.
 */
#include <string.h>

#include "detect/detector_int.h"
#include "exitwatch/util/util.h"

/*
 * The start's success or failure is decided: count it in both scopes' windows, then see what
 * the rate says. Called for events (events.c) and for a grace period's end (a deadline here).
 */
int ew_det_outcome(struct ew_detector *d, struct ident *id, bool ok, uint64_t at, ew_finding_fn fn,
		   void *ctx)
{
	struct ew_sample x = {.t = at, .ident = id->serial, .flags = ok ? EW_SAMPLE_OK : 0};
	int r;

	id->outcome_done = true;
	d->stale_hint++; /* its grace deadline, if any */
	r = ew_window_push(&id->s.outcomes, &x) ?: ew_window_push(&id->wl->s.outcomes, &x);
	if (!r)
		ew_det_eval_startup(d, id, ok, at, fn, ctx);
	ew_det_crash_loop(d, id, ok, at, fn, ctx);
	return r;
}

static struct scope_state *scope_of(struct ident *id, enum ew_rule rule,
				    const struct ew_detector *d, struct workload **wl_out)
{
	if (d->cfg.rules[rule].scope == EW_SCOPE_WORKLOAD) {
		*wl_out = id->wl;
		return &id->wl->s;
	}
	*wl_out = NULL;
	return &id->s;
}

/* exit_code_burst and restart_rate: more than count events in the window. */
void ew_det_eval_count(struct ew_detector *d, struct ident *id, enum ew_rule rule, uint64_t now,
		       ew_finding_fn fn, void *ctx)
{
	const struct ew_rule_config *rc = &d->cfg.rules[rule];
	struct workload *wl;
	struct scope_state *s = scope_of(id, rule, d, &wl);
	struct episode *ep = &s->ep[rule];
	const struct ew_window *w = ew_det_rule_window(s, rule);
	uint32_t count = 0;

	if (!rc->enabled)
		return;
	if (ep->open) { /* one episode: count it, push the resolution back */
		ep->total++;
		ep->last_ns = now;
		ep->last_ident = id->serial;
		ew_det_schedule_episode(d, id, wl, rule);
		return;
	}
	for (uint32_t i = ew_det_first_in(w, now, rc->window_ns); i < w->n; i++)
		count += ew_det_counts(d, rule, ew_window_at(w, i));
	if (count > rc->count)
		ew_det_fire(d, s, wl, id, rule, count, now, fn, ctx);
}

static void startup_rate(const struct ew_detector *d, const struct scope_state *s, uint64_t now,
			 uint32_t *n, uint32_t *failed)
{
	const struct ew_rule_config *rc = &d->cfg.rules[EW_RULE_STARTUP_FAILURE_RATE];
	const struct ew_window *w = &s->outcomes;

	*n = *failed = 0;
	for (uint32_t i = ew_det_first_in(w, now, rc->window_ns); i < w->n; i++) {
		(*n)++;
		*failed += !(ew_window_at(w, i)->flags & EW_SAMPLE_OK);
	}
}

/* Whether the episode is over, and why: the success rate, or no start left to judge. */
static bool startup_resolved(const struct ew_detector *d, const struct scope_state *s, uint64_t now,
			     enum ew_resolution *why)
{
	const struct ew_rule_config *rc = &d->cfg.rules[EW_RULE_STARTUP_FAILURE_RATE];
	uint32_t n, failed;

	startup_rate(d, s, now, &n, &failed);
	*why = n ? EW_RESOLVED_CONDITION : EW_RESOLVED_NO_STARTS;
	return n == 0 || 100.0 * (double)(n - failed) / (double)n >= rc->resolve_success_percent;
}

void ew_det_eval_startup(struct ew_detector *d, struct ident *id, bool ok, uint64_t now,
			 ew_finding_fn fn, void *ctx)
{
	const struct ew_rule_config *rc = &d->cfg.rules[EW_RULE_STARTUP_FAILURE_RATE];
	struct workload *wl;
	struct scope_state *s = scope_of(id, EW_RULE_STARTUP_FAILURE_RATE, d, &wl);
	struct episode *ep = &s->ep[EW_RULE_STARTUP_FAILURE_RATE];
	enum ew_resolution why;
	uint32_t n, failed;

	if (!rc->enabled)
		return;
	if (ep->open) {
		if (!ok) {
			ep->total++;
			ep->last_ns = now;
			ep->last_ident = id->serial;
		}
		if (startup_resolved(d, s, now, &why))
			ew_det_resolve(d, s, wl, id, EW_RULE_STARTUP_FAILURE_RATE, now, why, fn,
				       ctx);
		return;
	}
	startup_rate(d, s, now, &n, &failed);
	if (!ok && n >= rc->min_starts && 100.0 * (double)failed / (double)n > rc->fail_percent)
		ew_det_fire(d, s, wl, id, EW_RULE_STARTUP_FAILURE_RATE, failed, now, fn, ctx);
}

/* ---- time ---- */

static void run_resolve(struct ew_detector *d, const struct timer *t, struct ident *id,
			ew_finding_fn fn, void *ctx)
{
	const struct ew_rule_config *rc = &d->cfg.rules[t->rule];
	struct scope_state *s = t->wl ? &t->wl->s : &id->s;
	struct episode *ep = &s->ep[t->rule];
	enum ew_resolution why;
	uint64_t at;

	if (!ep->open || ep->gen != t->gen)
		return;
	if (!rc->enabled) {
		ew_det_resolve(d, s, t->wl, id, t->rule, t->at, EW_RESOLVED_RULE_OFF, fn, ctx);
		return;
	}
	if (!ew_det_scope_counted(d, t->rule, t->wl)) {
		ew_det_resolve(d, s, t->wl, id, t->rule, t->at, EW_RESOLVED_SCOPE_CHANGED, fn, ctx);
		return;
	}
	if (t->rule == EW_RULE_STARTUP_FAILURE_RATE) {
		if (startup_resolved(d, s, t->at, &why))
			ew_det_resolve(d, s, t->wl, id, t->rule, t->at, why, fn, ctx);
		else
			ew_det_schedule_episode(d, id, t->wl, t->rule);
		return;
	}
	if (t->rule == EW_RULE_CRASH_LOOP) {
		/* A start since the deadline was set stopped the quiet clock (UINT64_MAX). */
		at = ew_det_crash_loop_quiet_end(d, id, ep);
		if (at <= t->at)
			ew_det_resolve(d, s, t->wl, id, t->rule, at, EW_RESOLVED_QUIET, fn, ctx);
		return;
	}
	at = ew_det_add_sat(ep->last_ns, rc->resolve_ns);
	if (at <= t->at)
		ew_det_resolve(d, s, t->wl, id, t->rule, at, EW_RESOLVED_CONDITION, fn, ctx);
}

static void run_stable(struct ew_detector *d, const struct timer *t, struct ident *id,
		       ew_finding_fn fn, void *ctx)
{
	if (!id->running || id->run_gen != t->gen || !id->looping ||
	    !d->cfg.rules[EW_RULE_STABLE].enabled)
		return;
	id->looping = false;
	ew_det_evidence(d, EW_RULE_STABLE, &id->s, NULL, id, t->at);
	d->f.uptime_ns = t->at - id->start_ns;
	ew_det_episode_id(EW_RULE_STABLE, id->key, t->at, d->f.finding_id);
	if (fn && d->f.subject)
		fn(ctx, &d->f);
}

static void run_timer(struct ew_detector *d, const struct timer *t, ew_finding_fn fn, void *ctx)
{
	/* Not woken: an identity asleep or forgotten has no run and no open episode of its own,
	 * so a deadline that names it is stale. */
	struct ident *id = t->wl ? NULL : ew_map64_get(d->serials, t->serial);

	if (!t->wl && !id)
		return;
	switch (t->kind) {
	case T_GRACE:
		if (id->running && id->run_gen == t->gen && !id->outcome_done)
			ew_det_outcome(d, id, true, t->at, fn, ctx);
		break;
	case T_STABLE:
		run_stable(d, t, id, fn, ctx);
		break;
	case T_RESOLVE:
		run_resolve(d, t, id, fn, ctx);
		break;
	}
}

/* Whether a deadline can still do anything: what run_timer() would not skip. */
static bool timer_live(struct ew_detector *d, const struct timer *t)
{
	struct ident *id = t->wl ? NULL : ew_map64_get(d->serials, t->serial);
	const struct episode *ep;

	if (!t->wl && !id)
		return false;
	switch (t->kind) {
	case T_GRACE:
		return id->running && id->run_gen == t->gen && !id->outcome_done;
	case T_STABLE:
		return id->running && id->run_gen == t->gen;
	case T_RESOLVE:
		ep = &(t->wl ? &t->wl->s : &id->s)->ep[t->rule];
		return ep->open && ep->gen == t->gen;
	}
	return true;
}

/*
 * Most grace deadlines go stale: the start was decided before its grace period (the container
 * exited or listened). In a storm of short-lived containers the heap would hold one per start
 * of the last minute; dropped once stale ones may be half of it, it holds the undecided starts
 * only, at O(1) per event amortized.
 */
void ew_det_timers_tidy(struct ew_detector *d)
{
	if (d->nheap < 256 || d->stale_hint < d->nheap / 2)
		return;
	d->stale_hint = 0;
	ew_det_timer_filter(d, timer_live);
}

void ew_detector_advance(struct ew_detector *d, uint64_t now_ns, ew_finding_fn fn, void *ctx)
{
	/* Events from different CPUs may arrive slightly out of order: time never goes back. */
	if (now_ns < d->now_ns)
		now_ns = d->now_ns;
	while (d->nheap && d->heap[0].at <= now_ns) {
		struct timer t = ew_det_timer_pop(d);

		if (t.at > d->now_ns)
			d->now_ns = t.at;
		run_timer(d, &t, fn, ctx);
		if (t.wl) {
			t.wl->s.pending--;
			ew_det_workload_maybe_free(d, t.wl);
		}
	}
	d->now_ns = now_ns;
	if (d->sleep_scan)
		ew_det_sleep_all(d);
	ew_det_evict(d, now_ns);
}
