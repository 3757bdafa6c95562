// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Episodes: a finding fires once, stays open while its rule says so, and resolves once. What
 * every rule shares (rules.c for the windowed ones, crash_loop.c): firing, resolving, the
 * resolution deadline, and the identities a fired loop marks for the stable milestone.
 */
#include <string.h>

#include "detect/detector_int.h"
#include "exitwatch/util/util.h"

/* Events of an identity asleep may be in a workload's window: it wakes to be marked. */
static struct ident *ident_by_serial(struct ew_detector *d, uint32_t serial)
{
	return ew_det_ident_by_serial(d, serial);
}

/*
 * crash_loop's quiet end: resolve after the identity's last exit, whether or not that exit
 * decided a start (one found running at start-up decides none); none while it runs, since that
 * start's outcome will decide. A workload never has such an episode but in a foreign state
 * file: its last counted event stands in.
 */
uint64_t ew_det_crash_loop_quiet_end(const struct ew_detector *d, const struct ident *id,
				     const struct episode *ep)
{
	uint64_t from = ep->last_ns;

	if (id && id->running)
		return UINT64_MAX;
	if (id && id->has_last_exit && id->last_exit.t > from)
		from = id->last_exit.t;
	return ew_det_add_sat(from, d->cfg.rules[EW_RULE_CRASH_LOOP].resolve_ns);
}

bool ew_det_scope_counted(const struct ew_detector *d, enum ew_rule rule, const struct workload *wl)
{
	if (rule == EW_RULE_CRASH_LOOP || rule == EW_RULE_STABLE)
		return !wl; /* per identity, whatever the section says */
	return !!wl == (d->cfg.rules[rule].scope == EW_SCOPE_WORKLOAD);
}

/*
 * The next time an open episode's resolution can change. The timer names its owner (the workload
 * when wl is set, else the identity), so a workload can be freed once its last one has run.
 */
void ew_det_schedule_episode(struct ew_detector *d, struct ident *id, struct workload *wl,
			     enum ew_rule rule)
{
	const struct ew_rule_config *rc = &d->cfg.rules[rule];
	struct timer t = {.kind = T_RESOLVE, .rule = rule, .serial = wl ? 0 : id->serial, .wl = wl};
	struct scope_state *s = wl ? &wl->s : &id->s;
	struct episode *ep = &s->ep[rule];

	t.gen = ep->gen = ++d->gen_seq;
	if (!rc->enabled || !ew_det_scope_counted(d, rule, wl)) {
		/* Restored for a rule this configuration turns off: nothing else would end it.
		 * Now, the state's time: before every deadline derived from the state. */
		t.at = d->now_ns;
	} else if (rule == EW_RULE_CRASH_LOOP) {
		/* None while it runs: that start's success resolves it, its exit schedules again. */
		t.at = ew_det_crash_loop_quiet_end(d, id, ep);
		if (t.at == UINT64_MAX)
			return;
	} else if (rule == EW_RULE_STARTUP_FAILURE_RATE) {
		/* The rate changes when the oldest start in the window ages out. */
		uint32_t i = ew_det_first_in(&s->outcomes, d->now_ns, rc->window_ns);

		if (i == s->outcomes.n) {
			t.at = d->now_ns;
		} else {
			t.at = ew_det_add_sat(ew_window_at(&s->outcomes, i)->t, rc->window_ns);
			if (t.at <= d->now_ns)
				return; /* only a corrupt restored time gets here: no progress */
		}
	} else {
		t.at = ew_det_add_sat(ep->last_ns, rc->resolve_ns);
	}
	ew_det_timer_add(d, &t);
}

/* A looping identity that is up may reach the stable milestone: one deadline per run. */
void ew_det_arm_stable(struct ew_detector *d, struct ident *id)
{
	const struct ew_rule_config *rc = &d->cfg.rules[EW_RULE_STABLE];
	struct timer t = {.kind = T_STABLE, .serial = id->serial, .gen = id->run_gen};

	if (!rc->enabled || !id->running || !id->looping || id->stable_armed)
		return;
	t.at = ew_det_add_sat(id->start_ns, rc->uptime_ns);
	if (t.at < d->now_ns)
		t.at = d->now_ns;
	if (!ew_det_timer_add(d, &t))
		id->stable_armed = true;
}

/* The identities with counted events in a crossing window are "looping" until stable. */
static void mark_looping(struct ew_detector *d, enum ew_rule rule, const struct ew_window *w,
			 uint64_t now)
{
	for (uint32_t i = ew_det_first_in(w, now, d->cfg.rules[rule].window_ns); i < w->n; i++) {
		const struct ew_sample *x = ew_window_at(w, i);
		struct ident *id;

		if (!ew_det_counts(d, rule, x))
			continue;
		id = ident_by_serial(d, x->ident);
		if (id) {
			id->looping = true;
			ew_det_arm_stable(d, id);
		}
	}
}

static struct ident *subject_of(struct ew_detector *d, struct episode *ep, struct ident *fallback)
{
	struct ident *x = ident_by_serial(d, ep->last_ident);

	return x ? x : fallback;
}

static void emit(struct ew_detector *d, enum ew_rule rule, struct scope_state *s,
		 struct workload *wl, struct ident *subject, uint64_t at, bool resolved,
		 enum ew_resolution why, ew_finding_fn fn, void *ctx)
{
	struct episode *ep = &s->ep[rule];

	ew_det_evidence(d, rule, s, wl, subject, at);
	d->f.resolved = resolved;
	ew_strlcpy(d->f.finding_id, ep->id, sizeof(d->f.finding_id));
	if (resolved) {
		d->f.why = why;
		d->f.severity = EW_SEV_NOTICE;
		d->f.fired_ns = ep->fired_ns;
		d->f.duration_ns = at - ep->fired_ns;
		d->f.total = ep->total;
	}
	if (fn && d->f.subject)
		fn(ctx, &d->f);
}

void ew_det_resolve(struct ew_detector *d, struct scope_state *s, struct workload *wl,
		    struct ident *owner, enum ew_rule rule, uint64_t at, enum ew_resolution why,
		    ew_finding_fn fn, void *ctx)
{
	struct episode *ep = &s->ep[rule];

	emit(d, rule, s, wl, subject_of(d, ep, owner), at, true, why, fn, ctx);
	ep->open = false;
	ep->gen = ++d->gen_seq;
	d->active--;
	d->sleep_scan = true;
}

void ew_det_fire(struct ew_detector *d, struct scope_state *s, struct workload *wl,
		 struct ident *id, enum ew_rule rule, uint32_t count, uint64_t now,
		 ew_finding_fn fn, void *ctx)
{
	struct episode *ep = &s->ep[rule];

	ep->open = true;
	ep->fired_ns = now;
	ep->last_ns = now;
	ep->total = count;
	ep->last_ident = id->serial;
	ew_det_episode_id(rule, wl ? wl->key : id->key, now, ep->id);
	d->active++;
	/* crash_loop comes on top of the seed rules and leaves their milestone alone: stable
	 * follows the loops they found, as it did before it existed. */
	if (rule != EW_RULE_CRASH_LOOP) {
		id->looping = true;
		mark_looping(d, rule, ew_det_rule_window(s, rule), now);
		ew_det_arm_stable(d, id);
	}
	emit(d, rule, s, wl, id, now, false, EW_RESOLVED_CONDITION, fn, ctx);
	ew_det_schedule_episode(d, id, wl, rule);
}
