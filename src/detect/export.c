// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The detector's state handed out as plain values (detector.h): its scalars, then each
 * workload and identity with copies of its windows, for persist/ to write. Deadlines are left
 * out; an import derives them again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detector_int.h"

_Static_assert(EW_SAMPLE_OK == EW_DETECTOR_SAMPLE_OK, "one meaning of a sample's flags");
_Static_assert(EW_SAMPLE_STOPPED == EW_DETECTOR_SAMPLE_STOPPED, "one meaning of a sample's flags");

/* Scratch reused from one entity to the next: windows are rings, the export is arrays. */
struct exporter {
	struct ew_detector_sample *v[3];
	size_t cap[3];
	struct ew_detector_episode ep[EW_RULE__COUNT];
	struct ew_identity *subject;
	int r; /* -ENOMEM: the rest is not reported */
	ew_detector_workload_fn wl_fn;
	ew_detector_ident_fn id_fn;
	void *ctx;
};

static void sample_out(const struct ew_sample *x, struct ew_detector_sample *ret)
{
	*ret = (struct ew_detector_sample){.t = x->t,
					   .ident = x->ident,
					   .code = x->code,
					   .signal = x->signal,
					   .flags = x->flags};
}

static int window_out(struct exporter *x, int k, const struct ew_window *w,
		      struct ew_detector_samples *ret)
{
	if (w->n > x->cap[k]) {
		struct ew_detector_sample *v = realloc(x->v[k], w->n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		x->v[k] = v;
		x->cap[k] = w->n;
	}
	for (uint32_t i = 0; i < w->n; i++)
		sample_out(ew_window_at(w, i), &x->v[k][i]);
	ret->v = x->v[k];
	ret->n = w->n;
	return 0;
}

static int scope_out(struct exporter *x, const struct scope_state *s, struct ew_detector_scope *ret)
{
	int r = window_out(x, 0, &s->exits, &ret->exits);

	if (!r)
		r = window_out(x, 1, &s->restarts, &ret->restarts);
	if (!r)
		r = window_out(x, 2, &s->outcomes, &ret->outcomes);
	ret->ep = x->ep;
	ret->nep = 0;
	/* In rule order: the same state always exports the same way. */
	for (int rule = 0; rule < EW_RULE__COUNT; rule++) {
		const struct episode *ep = &s->ep[rule];

		if (!ep->open)
			continue;
		x->ep[ret->nep++] = (struct ew_detector_episode){.rule = (enum ew_rule)rule,
								 .id = ep->id,
								 .fired_ns = ep->fired_ns,
								 .last_ns = ep->last_ns,
								 .total = ep->total,
								 .last_ident = ep->last_ident};
	}
	return r;
}

static const struct ew_identity *subject_out(struct exporter *x, const struct ew_subject *s)
{
	if (!s)
		return NULL;
	ew_subject_unpack(s, x->subject);
	return x->subject;
}

static void workload_cb(void *ctx, const void *k, size_t kl, void *v)
{
	struct exporter *x = ctx;
	const struct workload *wl = v;
	struct ew_detector_workload out = {.key = wl->key};

	if (x->r)
		return;
	x->r = scope_out(x, &wl->s, &out.s);
	if (x->r)
		return;
	out.last_subject = subject_out(x, wl->last_subject);
	x->wl_fn(x->ctx, &out);
}

static void ident_cb(void *ctx, const void *k, size_t kl, void *v)
{
	struct exporter *x = ctx;
	const struct ident *id = v;
	struct ew_detector_ident out = {
		.key = id->key,
		.workload = id->wl->key,
		.serial = id->serial,
		.restarts = id->restarts,
		.exited_before = id->exited_before,
		.looping = id->looping,
		.fail_streak = id->fail_streak,
		.streak_first_ns = id->streak_first_ns,
		.streak_code = id->streak_code,
		.streak_signal = id->streak_signal,
		.line_repeats = id->line_repeats,
		.line_hash = id->line_hash,
		.running = id->running,
		.seeded = id->seeded,
		.ready = id->ready,
		.outcome_done = id->outcome_done,
		.pid = id->pid,
		.start_boot_ns = id->start_boot_ns,
		.start_ns = id->start_ns,
		.last_active_ns = id->last_active_ns,
		.has_last_exit = id->has_last_exit,
		.killer = id->killer,
		.tail = id->tail,
		.tail_len = id->tail_len,
		.tail_start_error = id->tail_start_error,
	};

	if (x->r)
		return;
	x->r = scope_out(x, &id->s, &out.s);
	if (x->r)
		return;
	if (id->has_last_exit)
		sample_out(&id->last_exit, &out.last_exit);
	out.subject = subject_out(x, id->subject);
	x->id_fn(x->ctx, &out);
}

/* A sleeper's windows, as its awake identity's (and its own workload's) were. */
static int sleeper_scope_out(struct exporter *x, const struct sleeper *s,
			     struct ew_detector_scope *ret)
{
	struct ew_detector_samples *w[3] = {&ret->exits, &ret->restarts, &ret->outcomes};

	for (int k = 0; k < 3; k++) {
		if (s->n[k] > x->cap[k]) {
			struct ew_detector_sample *v = realloc(x->v[k], s->n[k] * sizeof(*v));

			if (!v)
				return -ENOMEM;
			x->v[k] = v;
			x->cap[k] = s->n[k];
		}
		for (uint32_t i = 0; i < s->n[k]; i++) {
			struct ew_sample smp = ew_det_sleeper_sample(s, k, i);

			sample_out(&smp, &x->v[k][i]);
		}
		w[k]->v = x->v[k];
		w[k]->n = s->n[k];
	}
	ret->ep = x->ep;
	ret->nep = 0; /* asleep: no open episode */
	return 0;
}

static void sleeper_workload_out(struct exporter *x, const struct sleeper *s)
{
	struct ew_detector_workload out = {.key = s->key};

	if (x->r || s->wl)
		return;
	x->r = sleeper_scope_out(x, s, &out.s);
	if (!x->r)
		x->wl_fn(x->ctx, &out);
}

static void sleeper_ident_out(struct exporter *x, const struct sleeper *s)
{
	struct ew_killer_info killer;
	struct sleeper_streak k;
	const char *key = s->key;
	struct ew_detector_ident out = {
		.key = key,
		.workload = s->wl ? s->wl->key : key,
		.serial = s->serial,
		.restarts = s->restarts,
		.exited_before = s->exited_before,
		.last_active_ns = s->last_active_ns,
		.has_last_exit = s->has_last_exit,
		.tail = s->tail_len ? ew_det_sleeper_tail(s) : NULL,
		.tail_len = s->tail_len,
		.tail_start_error = s->tail_start_error,
	};

	if (x->r)
		return;
	x->r = sleeper_scope_out(x, s, &out.s);
	if (x->r)
		return;
	if (s->has_last_exit)
		sample_out(&s->last_exit, &out.last_exit);
	if (ew_det_sleeper_streak(s, &k)) {
		out.fail_streak = k.fail;
		out.streak_first_ns = k.first_ns;
		out.streak_code = k.code;
		out.streak_signal = k.signal;
		out.line_repeats = k.line_repeats;
		out.line_hash = k.line_hash;
	}
	if (ew_det_sleeper_killer(s, &killer))
		out.killer = &killer;
	x->id_fn(x->ctx, &out);
}

/*
 * The oldest sleeper an export keeps: at most state_max_asleep of them, the latest asleep. A
 * state file is read whole (json-c builds it as a tree, several times its size), so what it
 * holds of a busy node's churn is bounded, and by what matters most: a later start of an
 * identity asleep longest is the least likely.
 */
static const struct sleeper *first_kept(const struct ew_detector *d)
{
	const struct sleeper *s = d->sleep_tail;

	if (!s || !d->cfg.state_max_asleep)
		return NULL;
	for (uint32_t n = 1; n < d->cfg.state_max_asleep && s->prev; n++)
		s = s->prev;
	return s;
}

/* A map's entries, gathered to be sorted. */
struct entries {
	struct entry_ref {
		const char *key;
		size_t klen;
		void *val;
	} * v;
	size_t n;
};

static void gather(void *ctx, const void *key, size_t klen, void *val)
{
	struct entries *e = ctx;

	e->v[e->n++] = (struct entry_ref){.key = key, .klen = klen, .val = val};
}

static int by_key(const void *a, const void *b)
{
	const struct entry_ref *x = a, *y = b;
	int c = memcmp(x->key, y->key, x->klen < y->klen ? x->klen : y->klen);

	return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

/*
 * The awake entities of the map in key order, then those asleep kept, longest asleep first.
 * Not in the map's slot order: with linear probing that depends on the order keys went in and
 * wraps around the table's end, so a detector imported from this export (keys in that order)
 * could lay them out otherwise and write its state in another order (tests/fuzz/fuzz_state.c
 * found two workloads swapped). The sort costs a checkpoint n log n comparisons of keys.
 */
static int export_map(const struct ew_detector *d, const struct ew_map *m, ew_map_fn cb,
		      struct exporter *x)
{
	struct entries e = {.v = malloc((ew_map_count(m) + 1) * sizeof(*e.v))};

	x->subject = malloc(sizeof(*x->subject));
	if (!x->subject || !e.v) {
		free(x->subject);
		free(e.v);
		return -ENOMEM;
	}
	ew_map_foreach(m, gather, &e);
	qsort(e.v, e.n, sizeof(*e.v), by_key);
	for (size_t i = 0; i < e.n; i++)
		cb(x, e.v[i].key, e.v[i].klen, e.v[i].val);
	free(e.v);
	for (const struct sleeper *s = first_kept(d); s; s = s->next) {
		if (x->wl_fn)
			sleeper_workload_out(x, s);
		else
			sleeper_ident_out(x, s);
	}
	for (int k = 0; k < 3; k++)
		free(x->v[k]);
	free(x->subject);
	return x->r;
}

void ew_detector_export_state(const struct ew_detector *d, struct ew_detector_state *ret)
{
	*ret = (struct ew_detector_state){.now_ns = d->now_ns,
					  .next_serial = d->next_serial,
					  .drops_total = d->drops_total,
					  .last_drop_ns = d->last_drop_ns};
}

int ew_detector_export_workloads(const struct ew_detector *d, ew_detector_workload_fn fn, void *ctx)
{
	struct exporter x = {.wl_fn = fn, .ctx = ctx};

	return export_map(d, d->workloads, workload_cb, &x);
}

int ew_detector_export_idents(const struct ew_detector *d, ew_detector_ident_fn fn, void *ctx)
{
	struct exporter x = {.id_fn = fn, .ctx = ctx};

	return export_map(d, d->idents, ident_cb, &x);
}
