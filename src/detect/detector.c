// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Rules over container starts and exits, in virtual time. Every event first advances the clock
 * to its own time (processing due deadlines in order), then updates the identity's and the
 * workload's windows and evaluates the rules that event can move. A finding fires on the event
 * that crosses its threshold and its episode stays open until the rule's resolution condition
 * holds: firing and resolving use different conditions (more than N in a window versus none for
 * a quiet period; above 5% failures versus 99% success), so an episode cannot flap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detector_int.h"
#include "exitwatch/exit_class.h"
#include "exitwatch/util.h"

#define SEC(n) ((uint64_t)(n) * EW_NSEC_PER_SEC)

static const char *const rule_names[EW_RULE__COUNT] = {
	[EW_RULE_EXIT_CODE_BURST] = "exit_code_burst",
	[EW_RULE_RESTART_RATE] = "restart_rate",
	[EW_RULE_STARTUP_FAILURE_RATE] = "startup_failure_rate",
	[EW_RULE_STABLE] = "stable",
};

const char *ew_rule_name(enum ew_rule r)
{
	return (unsigned)r < EW_RULE__COUNT ? rule_names[r] : "unknown";
}

int ew_rule_parse(const char *name)
{
	for (int i = 0; i < EW_RULE__COUNT; i++)
		if (!strcmp(name, rule_names[i]))
			return i;
	return -EINVAL;
}

const char *ew_scope_name(enum ew_scope s)
{
	return s == EW_SCOPE_WORKLOAD ? "workload" : "identity";
}

/* The incident report's "Alert Thresholds" and "Success Metrics" (design.md's rule table). */
void ew_detector_config_default(struct ew_detector_config *c)
{
	struct ew_rule_config *r;

	memset(c, 0, sizeof(*c));
	r = &c->rules[EW_RULE_EXIT_CODE_BURST];
	*r = (struct ew_rule_config){ .enabled = true,
				      .scope = EW_SCOPE_WORKLOAD,
				      .severity = EW_SEV_CRITICAL,
				      .count = 3,
				      .window_ns = SEC(5 * 60),
				      .resolve_ns = SEC(10 * 60) };
	ew_rule_set_code(r, 3);
	c->rules[EW_RULE_RESTART_RATE] = (struct ew_rule_config){ .enabled = true,
								  .scope = EW_SCOPE_IDENTITY,
								  .severity = EW_SEV_WARNING,
								  .count = 3,
								  .window_ns = SEC(3600),
								  .resolve_ns = SEC(3600) };
	c->rules[EW_RULE_STARTUP_FAILURE_RATE] =
		(struct ew_rule_config){ .enabled = true,
					 .scope = EW_SCOPE_WORKLOAD,
					 .severity = EW_SEV_INFO,
					 .window_ns = SEC(3600),
					 .resolve_ns = SEC(3600),
					 .fail_percent = 5.0,
					 .resolve_success_percent = 99.0,
					 .min_starts = 5 };
	c->rules[EW_RULE_STABLE] = (struct ew_rule_config){ .enabled = true,
							    .scope = EW_SCOPE_IDENTITY,
							    .severity = EW_SEV_NOTICE,
							    .uptime_ns = SEC(4 * 3600) };
	c->startup_grace_ns = SEC(60);
	c->max_identities = 100000;
	c->idle_forget_ns = SEC(24 * 3600);
	c->tail_max = 2048;
}

/* ---- the deadline heap: (at, seq) order, stale entries skipped by generation ---- */

static bool timer_before(const struct timer *a, const struct timer *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void heap_swap(struct timer *h, size_t i, size_t j)
{
	struct timer t = h[i];

	h[i] = h[j];
	h[j] = t;
}

int ew_det_timer_add(struct ew_detector *d, const struct timer *t)
{
	size_t i;

	if (d->nheap == d->capheap) {
		size_t ncap = d->capheap ? d->capheap * 2 : 64;
		struct timer *h = realloc(d->heap, ncap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		d->heap = h;
		d->capheap = ncap;
	}
	i = d->nheap++;
	d->heap[i] = *t;
	d->heap[i].seq = d->seq++;
	if (!d->heap[i].s)
		d->heap[i].s = t->wl ? &t->wl->s : &t->id->s;
	d->heap[i].s->pending++;
	while (i && timer_before(&d->heap[i], &d->heap[(i - 1) / 2])) {
		heap_swap(d->heap, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	return 0;
}

static struct timer heap_pop(struct ew_detector *d)
{
	struct timer top = d->heap[0];
	size_t i = 0;

	d->heap[0] = d->heap[--d->nheap];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < d->nheap && timer_before(&d->heap[l], &d->heap[m]))
			m = l;
		if (r < d->nheap && timer_before(&d->heap[r], &d->heap[m]))
			m = r;
		if (m == i)
			break;
		heap_swap(d->heap, i, m);
		i = m;
	}
	return top;
}

/* ---- identities, workloads, eviction ---- */

struct workload *ew_det_workload_get(struct ew_detector *d, const char *key)
{
	struct workload *wl = ew_map_get(d->workloads, key, strlen(key));

	if (wl)
		return wl;
	wl = calloc(1, sizeof(*wl));
	if (!wl)
		return NULL;
	wl->key = strdup(key);
	ew_window_init(&wl->s.exits, EW_WINDOW_MAX_SAMPLES);
	ew_window_init(&wl->s.restarts, EW_WINDOW_MAX_SAMPLES);
	ew_window_init(&wl->s.outcomes, EW_WINDOW_MAX_SAMPLES);
	if (!wl->key || ew_map_put(d->workloads, key, strlen(key), wl)) {
		free(wl->key);
		free(wl);
		return NULL;
	}
	return wl;
}

static void scope_free(struct scope_state *s)
{
	ew_window_free(&s->exits);
	ew_window_free(&s->restarts);
	ew_window_free(&s->outcomes);
}

static bool scope_quiet(const struct scope_state *s)
{
	for (int r = 0; r < EW_RULE__COUNT; r++)
		if (s->ep[r].open)
			return false;
	return s->pending == 0;
}

static void workload_maybe_free(struct ew_detector *d, struct workload *wl)
{
	if (wl->nidents || !scope_quiet(&wl->s))
		return;
	ew_map_del(d->workloads, wl->key, strlen(wl->key));
	scope_free(&wl->s);
	ew_subject_free(wl->last_subject);
	free(wl->key);
	free(wl);
}

static void lru_unlink(struct ew_detector *d, struct ident *id)
{
	if (id->lru_prev)
		id->lru_prev->lru_next = id->lru_next;
	else
		d->lru_head = id->lru_next;
	if (id->lru_next)
		id->lru_next->lru_prev = id->lru_prev;
	else
		d->lru_tail = id->lru_prev;
	id->lru_prev = id->lru_next = NULL;
}

void ew_det_lru_touch(struct ew_detector *d, struct ident *id, uint64_t now)
{
	if (d->lru_tail != id) {
		if (id->lru_prev || id->lru_next || d->lru_head == id)
			lru_unlink(d, id);
		id->lru_prev = d->lru_tail;
		if (d->lru_tail)
			d->lru_tail->lru_next = id;
		else
			d->lru_head = id;
		d->lru_tail = id;
	}
	id->last_active_ns = now;
}

struct ident *ew_det_ident_get(struct ew_detector *d, const char *key, const char *workload,
			       bool create)
{
	struct ident *id = ew_map_get(d->idents, key, strlen(key));
	uint64_t serial;

	if (id || !create)
		return id;
	id = calloc(1, sizeof(*id));
	if (!id)
		return NULL;
	id->key = strdup(key);
	id->wl = ew_det_workload_get(d, workload[0] ? workload : key);
	id->serial = d->next_serial++;
	serial = id->serial;
	ew_window_init(&id->s.exits, EW_WINDOW_MAX_SAMPLES);
	ew_window_init(&id->s.restarts, EW_WINDOW_MAX_SAMPLES);
	ew_window_init(&id->s.outcomes, EW_WINDOW_MAX_SAMPLES);
	if (!id->key || !id->wl || ew_map_put(d->idents, key, strlen(key), id)) {
		free(id->key);
		free(id);
		return NULL;
	}
	if (ew_map_put(d->serials, &serial, sizeof(serial), id)) {
		ew_map_del(d->idents, key, strlen(key));
		free(id->key);
		free(id);
		return NULL;
	}
	id->wl->nidents++;
	ew_det_lru_touch(d, id, d->now_ns);
	return id;
}

static void ident_free(struct ew_detector *d, struct ident *id)
{
	uint64_t serial = id->serial;
	struct workload *wl = id->wl;

	lru_unlink(d, id);
	ew_map_del(d->idents, id->key, strlen(id->key));
	ew_map_del(d->serials, &serial, sizeof(serial));
	scope_free(&id->s);
	ew_subject_free(id->subject);
	free(id->tail);
	free(id->key);
	free(id);
	wl->nidents--;
	workload_maybe_free(d, wl);
}

/* Forget identities idle too long, or the least recently active beyond the limit. Bounded
 * work per call: busy identities at the front are rotated to the back. */
static void evict(struct ew_detector *d, uint64_t now)
{
	for (int steps = 0; steps < 16 && d->lru_head; steps++) {
		struct ident *id = d->lru_head;
		bool over = ew_map_count(d->idents) > d->cfg.max_identities;
		bool idle = now - id->last_active_ns >= d->cfg.idle_forget_ns;

		if (!over && !idle)
			return;
		if (id->running || !scope_quiet(&id->s)) {
			ew_det_lru_touch(d, id, id->running ? now : id->last_active_ns);
			continue;
		}
		ident_free(d, id);
	}
}

struct ew_detector *ew_detector_new(const struct ew_detector_config *cfg)
{
	struct ew_detector *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->cfg = *cfg;
	d->idents = ew_map_new();
	d->workloads = ew_map_new();
	d->serials = ew_map_new();
	d->next_serial = 1;
	if (!d->idents || !d->workloads || !d->serials) {
		ew_detector_free(d);
		return NULL;
	}
	return d;
}

static void free_ident_cb(void *ctx, const void *k, size_t kl, void *v)
{
	struct ident *id = v;

	scope_free(&id->s);
	ew_subject_free(id->subject);
	free(id->tail);
	free(id->key);
	free(id);
}

static void free_wl_cb(void *ctx, const void *k, size_t kl, void *v)
{
	struct workload *wl = v;

	scope_free(&wl->s);
	ew_subject_free(wl->last_subject);
	free(wl->key);
	free(wl);
}

void ew_detector_free(struct ew_detector *d)
{
	if (!d)
		return;
	if (d->idents)
		ew_map_foreach(d->idents, free_ident_cb, NULL);
	if (d->workloads)
		ew_map_foreach(d->workloads, free_wl_cb, NULL);
	ew_map_free(d->idents);
	ew_map_free(d->workloads);
	ew_map_free(d->serials);
	free(d->heap);
	free(d);
}

/* ---- episodes ---- */

static struct ident *ident_by_serial(struct ew_detector *d, uint32_t serial)
{
	uint64_t k = serial;

	return ew_map_get(d->serials, &k, sizeof(k));
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

/* The next time an open episode's resolution can change. */
void ew_det_schedule_episode(struct ew_detector *d, struct scope_state *s, struct ident *id,
			     struct workload *wl, enum ew_rule rule)
{
	const struct ew_rule_config *rc = &d->cfg.rules[rule];
	struct episode *ep = &s->ep[rule];
	struct timer t = { .kind = T_RESOLVE, .rule = rule, .s = s, .gen = ++ep->gen };
	uint32_t i;

	/* The timer names its owner, so a workload can be freed once its last one has run. */
	if (wl)
		t.wl = wl;
	else
		t.id = id;
	if (rule == EW_RULE_STARTUP_FAILURE_RATE) {
		/* The rate changes when the oldest start in the window ages out. */
		i = ew_window_first_after(&s->outcomes, d->now_ns - rc->window_ns);
		t.at = i < s->outcomes.n ? ew_window_at(&s->outcomes, i)->t + rc->window_ns :
					   d->now_ns;
	} else {
		t.at = ep->last_ns + rc->resolve_ns;
	}
	ew_det_timer_add(d, &t);
}

/* Marks the identities counted in a crossing window: they are "looping" until stable. */
static void mark_looping(struct ew_detector *d, const struct ew_window *w, uint64_t since)
{
	for (uint32_t i = ew_window_first_after(w, since); i < w->n; i++) {
		struct ident *x = ident_by_serial(d, ew_window_at(w, i)->ident);

		if (x)
			x->looping = true;
	}
}

static struct ident *subject_of(struct ew_detector *d, struct episode *ep, struct ident *fallback)
{
	struct ident *x = ident_by_serial(d, ep->last_ident);

	return x ? x : fallback;
}

static void emit(struct ew_detector *d, enum ew_rule rule, struct scope_state *s,
		 struct workload *wl, struct ident *subject, uint64_t at, bool resolved,
		 ew_finding_fn fn, void *ctx)
{
	struct episode *ep = &s->ep[rule];

	ew_det_evidence(d, rule, s, wl, subject, at);
	d->f.resolved = resolved;
	if (!d->f.subject && wl)
		d->f.subject = wl->last_subject;
	ew_strlcpy(d->f.finding_id, ep->id, sizeof(d->f.finding_id));
	if (resolved) {
		d->f.severity = EW_SEV_NOTICE;
		d->f.fired_ns = ep->fired_ns;
		d->f.duration_ns = at - ep->fired_ns;
		d->f.total = ep->total;
	}
	if (fn && d->f.subject)
		fn(ctx, &d->f);
}

static void resolve(struct ew_detector *d, struct scope_state *s, struct workload *wl,
		    enum ew_rule rule, uint64_t at, ew_finding_fn fn, void *ctx)
{
	struct episode *ep = &s->ep[rule];

	emit(d, rule, s, wl, subject_of(d, ep, NULL), at, true, fn, ctx);
	ep->open = false;
	ep->gen++;
	d->active--;
}

static void fire(struct ew_detector *d, struct scope_state *s, struct workload *wl,
		 struct ident *id, enum ew_rule rule, uint32_t count, uint64_t now,
		 ew_finding_fn fn, void *ctx)
{
	struct episode *ep = &s->ep[rule];
	const struct ew_rule_config *rc = &d->cfg.rules[rule];
	const struct ew_window *w = ew_det_rule_window(s, rule);

	ep->open = true;
	ep->fired_ns = now;
	ep->last_ns = now;
	ep->total = count;
	ep->last_ident = id->serial;
	ew_det_episode_id(rule, wl ? wl->key : id->key, now, ep->id);
	d->active++;
	mark_looping(d, w, now - rc->window_ns);
	id->looping = true;
	emit(d, rule, s, wl, id, now, false, fn, ctx);
	ew_det_schedule_episode(d, s, id, wl, rule);
}

/* exit_code_burst and restart_rate: more than count events in the window. */
static void eval_count_rule(struct ew_detector *d, struct ident *id, enum ew_rule rule,
			    uint64_t now, ew_finding_fn fn, void *ctx)
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
		ew_det_schedule_episode(d, s, id, wl, rule);
		return;
	}
	for (uint32_t i = ew_window_first_after(w, now - rc->window_ns); i < w->n; i++)
		count += ew_det_counts(d, rule, ew_window_at(w, i));
	if (count > rc->count)
		fire(d, s, wl, id, rule, count, now, fn, ctx);
}

static void startup_rate(const struct ew_detector *d, const struct scope_state *s, uint64_t now,
			 uint32_t *n, uint32_t *failed)
{
	const struct ew_rule_config *rc = &d->cfg.rules[EW_RULE_STARTUP_FAILURE_RATE];
	const struct ew_window *w = &s->outcomes;

	*n = *failed = 0;
	for (uint32_t i = ew_window_first_after(w, now - rc->window_ns); i < w->n; i++) {
		(*n)++;
		*failed += !(ew_window_at(w, i)->flags & EW_SAMPLE_OK);
	}
}

static bool startup_resolved(const struct ew_detector *d, const struct scope_state *s,
			     uint64_t now)
{
	const struct ew_rule_config *rc = &d->cfg.rules[EW_RULE_STARTUP_FAILURE_RATE];
	uint32_t n, failed;

	startup_rate(d, s, now, &n, &failed);
	return n == 0 || 100.0 * (double)(n - failed) / (double)n >= rc->resolve_success_percent;
}

static void eval_startup(struct ew_detector *d, struct ident *id, bool ok, uint64_t now,
			 ew_finding_fn fn, void *ctx)
{
	const struct ew_rule_config *rc = &d->cfg.rules[EW_RULE_STARTUP_FAILURE_RATE];
	struct workload *wl;
	struct scope_state *s = scope_of(id, EW_RULE_STARTUP_FAILURE_RATE, d, &wl);
	struct episode *ep = &s->ep[EW_RULE_STARTUP_FAILURE_RATE];
	uint32_t n, failed;

	if (!rc->enabled)
		return;
	if (ep->open) {
		if (!ok) {
			ep->total++;
			ep->last_ns = now;
			ep->last_ident = id->serial;
		}
		if (startup_resolved(d, s, now))
			resolve(d, s, wl, EW_RULE_STARTUP_FAILURE_RATE, now, fn, ctx);
		return;
	}
	startup_rate(d, s, now, &n, &failed);
	if (!ok && n >= rc->min_starts && 100.0 * (double)failed / (double)n > rc->fail_percent)
		fire(d, s, wl, id, EW_RULE_STARTUP_FAILURE_RATE, failed, now, fn, ctx);
}

static int push_both(struct ident *id, struct ew_window *(*pick)(struct scope_state *),
		     const struct ew_sample *x)
{
	int r = ew_window_push(pick(&id->s), x);

	return r ?: ew_window_push(pick(&id->wl->s), x);
}

static struct ew_window *pick_exits(struct scope_state *s)
{
	return &s->exits;
}

static struct ew_window *pick_restarts(struct scope_state *s)
{
	return &s->restarts;
}

static struct ew_window *pick_outcomes(struct scope_state *s)
{
	return &s->outcomes;
}

static void outcome(struct ew_detector *d, struct ident *id, bool ok, uint64_t at,
		    ew_finding_fn fn, void *ctx)
{
	struct ew_sample x = { .t = at, .ident = id->serial, .flags = ok ? EW_SAMPLE_OK : 0 };

	id->outcome_done = true;
	if (push_both(id, pick_outcomes, &x))
		return;
	eval_startup(d, id, ok, at, fn, ctx);
}

/* ---- time ---- */

static void run_resolve(struct ew_detector *d, const struct timer *t, ew_finding_fn fn, void *ctx)
{
	const struct ew_rule_config *rc = &d->cfg.rules[t->rule];
	struct scope_state *s = t->s;
	struct episode *ep = &s->ep[t->rule];

	if (!ep->open || ep->gen != t->gen)
		return;
	if (t->rule == EW_RULE_STARTUP_FAILURE_RATE) {
		if (startup_resolved(d, s, t->at))
			resolve(d, s, t->wl, t->rule, t->at, fn, ctx);
		else
			ew_det_schedule_episode(d, s, t->id, t->wl, t->rule);
	} else if (ep->last_ns + rc->resolve_ns <= t->at) {
		resolve(d, s, t->wl, t->rule, ep->last_ns + rc->resolve_ns, fn, ctx);
	}
}

static void run_timer(struct ew_detector *d, const struct timer *t, ew_finding_fn fn, void *ctx)
{
	struct ident *id = t->id;

	switch (t->kind) {
	case T_GRACE:
		if (id->running && id->run_gen == t->gen && !id->outcome_done)
			outcome(d, id, true, t->at, fn, ctx);
		break;
	case T_STABLE:
		if (id->running && id->run_gen == t->gen && id->looping &&
		    d->cfg.rules[EW_RULE_STABLE].enabled) {
			id->looping = false;
			ew_det_evidence(d, EW_RULE_STABLE, &id->s, NULL, id, t->at);
			d->f.uptime_ns = t->at - id->start_ns;
			ew_det_episode_id(EW_RULE_STABLE, id->key, t->at, d->f.finding_id);
			if (fn && d->f.subject)
				fn(ctx, &d->f);
		}
		break;
	case T_RESOLVE:
		run_resolve(d, t, fn, ctx);
		break;
	}
}

void ew_detector_advance(struct ew_detector *d, uint64_t now_ns, ew_finding_fn fn, void *ctx)
{
	if (now_ns < d->now_ns)
		now_ns = d->now_ns; /* events from different CPUs may arrive slightly out of order */
	while (d->nheap && d->heap[0].at <= now_ns) {
		struct timer t = heap_pop(d);

		if (t.at > d->now_ns)
			d->now_ns = t.at;
		run_timer(d, &t, fn, ctx);
		t.s->pending--;
		if (t.wl)
			workload_maybe_free(d, t.wl);
	}
	d->now_ns = now_ns;
	evict(d, now_ns);
}

/* ---- events ---- */

static void prune(struct ew_detector *d, struct ident *id, uint64_t now)
{
	uint64_t keep = 0;

	for (int r = 0; r < EW_RULE__COUNT; r++)
		if (d->cfg.rules[r].window_ns > keep)
			keep = d->cfg.rules[r].window_ns;
	if (now <= keep)
		return;
	for (int i = 0; i < 2; i++) {
		struct scope_state *s = i ? &id->wl->s : &id->s;

		ew_window_prune(&s->exits, now - keep);
		ew_window_prune(&s->restarts, now - keep);
		ew_window_prune(&s->outcomes, now - keep);
	}
}

static void on_start(struct ew_detector *d, struct ident *id, const struct ew_event *ev,
		     uint64_t now, ew_finding_fn fn, void *ctx, struct ew_startup *ret)
{
	const struct ew_detector_config *c = &d->cfg;
	bool same = id->running && id->pid == ev->pid && id->start_boot_ns == ev->start_boot_ns;
	bool restart;

	if (same) /* already known (a checkpoint carried it across an agent restart) */
		goto out;
	/* Running with another process means its exit was missed: it restarted all the same. */
	restart = id->exited_before || id->running;
	id->running = true;
	id->seeded = ev->seeded;
	id->ready = false;
	id->outcome_done = ev->seeded;
	id->pid = ev->pid;
	id->start_boot_ns = ev->start_boot_ns;
	id->start_ns = now;
	id->run_gen++;
	if (restart) {
		struct ew_sample x = { .t = now, .ident = id->serial };

		id->restarts++;
		if (!push_both(id, pick_restarts, &x))
			eval_count_rule(d, id, EW_RULE_RESTART_RATE, now, fn, ctx);
	}
	if (!ev->seeded) {
		struct timer t = { .at = now + c->startup_grace_ns, .kind = T_GRACE, .id = id,
				   .gen = id->run_gen };

		ew_det_timer_add(d, &t);
	}
	if (id->looping) {
		struct timer t = { .at = now + c->rules[EW_RULE_STABLE].uptime_ns,
				   .kind = T_STABLE, .id = id, .gen = id->run_gen };

		ew_det_timer_add(d, &t);
	}
out:
	if (ret) {
		ret->known = !id->seeded;
		ret->restarts = id->restarts;
	}
}

static void on_ready(struct ew_detector *d, struct ident *id, uint64_t now, ew_finding_fn fn,
		     void *ctx)
{
	if (!id->running || id->ready)
		return;
	id->ready = true;
	if (!id->outcome_done)
		outcome(d, id, true, now, fn, ctx);
}

static void keep_tail(struct ew_detector *d, struct ident *id, const struct ew_event *ev)
{
	uint32_t n = ev->tail_len < d->cfg.tail_max ? ev->tail_len : d->cfg.tail_max;
	char *t;

	if (!n)
		return;
	t = malloc(n);
	if (!t)
		return;
	memcpy(t, ev->tail + ev->tail_len - n, n);
	free(id->tail);
	id->tail = t;
	id->tail_len = n;
}

static void on_main_exit(struct ew_detector *d, struct ident *id, const struct ew_event *ev,
		    enum ew_exit_class cls, uint64_t now, ew_finding_fn fn, void *ctx,
		    struct ew_startup *ret)
{
	struct ew_sample x = { .t = now,
			       .ident = id->serial,
			       .code = (int16_t)ev->status.code,
			       .signal = (uint8_t)ev->status.signal,
			       .flags = (uint8_t)(cls << 4) };
	bool was_running = id->running && !id->seeded;

	/* A completed run (exit 0) before the grace period is a job finishing, not a failed
	 * start; any other exit before success is a failed start. */
	if (id->running && !id->outcome_done)
		outcome(d, id, cls == EW_CLASS_CLEAN, now, fn, ctx);
	if (ret) {
		ret->known = was_running;
		ret->ready = id->ready;
		ret->succeeded = was_running && (id->ready || cls == EW_CLASS_CLEAN ||
						 now - id->start_ns >= d->cfg.startup_grace_ns);
		ret->restarts = id->restarts;
	}
	id->running = false;
	id->exited_before = true;
	id->has_last_exit = true;
	id->last_exit = x;
	if (cls != EW_CLASS_CLEAN)
		keep_tail(d, id, ev);
	if (push_both(id, pick_exits, &x))
		return;
	if (!ev->status.signal && ew_rule_has_code(&d->cfg.rules[EW_RULE_EXIT_CODE_BURST],
						   ev->status.code))
		eval_count_rule(d, id, EW_RULE_EXIT_CODE_BURST, now, fn, ctx);
}

int ew_detector_observe(struct ew_detector *d, const struct ew_event *ev,
			const struct ew_identity *idn, enum ew_exit_class cls, ew_finding_fn fn,
			void *ctx, struct ew_startup *ret)
{
	struct ident *id;
	uint64_t now;

	if (ret)
		memset(ret, 0, sizeof(*ret));
	if (ev->type == EW_EVENT_START && ev->reexec)
		return 0; /* the same main process, a new image: not a new start */
	ew_detector_advance(d, ev->time_ns, fn, ctx);
	now = d->now_ns;
	id = ew_det_ident_get(d, idn->key, idn->workload, true);
	if (!id)
		return -ENOMEM;
	if (!id->subject || ev->type == EW_EVENT_START) {
		struct ew_subject *s = ew_subject_pack(idn);

		if (s) {
			ew_subject_free(id->subject);
			id->subject = s;
			s = ew_subject_pack(idn);
			if (s) {
				ew_subject_free(id->wl->last_subject);
				id->wl->last_subject = s;
			}
		}
	}
	ew_det_lru_touch(d, id, now);
	prune(d, id, now);
	switch (ev->type) {
	case EW_EVENT_START:
		on_start(d, id, ev, now, fn, ctx, ret);
		break;
	case EW_EVENT_READY:
		on_ready(d, id, now, fn, ctx);
		break;
	case EW_EVENT_EXIT:
		on_main_exit(d, id, ev, cls, now, fn, ctx, ret);
		break;
	}
	return 0;
}

void ew_detector_note_drops(struct ew_detector *d, uint64_t now_ns, uint64_t total_drops)
{
	if (total_drops > d->drops_total) {
		d->drops_total = total_drops;
		d->last_drop_ns = now_ns > d->now_ns ? now_ns : d->now_ns;
	}
}

void ew_detector_seed_restarts(struct ew_detector *d, const struct ew_identity *idn,
			       uint32_t restarts)
{
	struct ident *id;

	if (!restarts)
		return;
	id = ew_det_ident_get(d, idn->key, idn->workload, true);
	if (!id)
		return;
	id->exited_before = true;
	if (id->restarts < restarts)
		id->restarts = restarts;
}

uint32_t ew_detector_identities(const struct ew_detector *d)
{
	return (uint32_t)ew_map_count(d->idents);
}

uint32_t ew_detector_active(const struct ew_detector *d)
{
	return d->active;
}

uint64_t ew_detector_next_deadline(const struct ew_detector *d)
{
	return d->nheap ? d->heap[0].at : UINT64_MAX;
}
