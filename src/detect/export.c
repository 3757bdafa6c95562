// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The detector's state handed out as plain values (detector.h): its scalars, then each
 * workload and identity with copies of its windows, for persist/ to write. Deadlines are left
 * out; an import derives them again.
 */
#include <errno.h>
#include <stdlib.h>

#include "detect/detector_int.h"

_Static_assert(EW_SAMPLE_OK == EW_DETECTOR_SAMPLE_OK, "one meaning of a sample's flags");

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
		.tail = id->tail,
		.tail_len = id->tail_len,
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

static int export_map(const struct ew_map *m, ew_map_fn cb, struct exporter *x)
{
	x->subject = malloc(sizeof(*x->subject));
	if (!x->subject)
		return -ENOMEM;
	ew_map_foreach(m, cb, x);
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

	return export_map(d->workloads, workload_cb, &x);
}

int ew_detector_export_idents(const struct ew_detector *d, ew_detector_ident_fn fn, void *ctx)
{
	struct exporter x = {.id_fn = fn, .ctx = ctx};

	return export_map(d->idents, ident_cb, &x);
}
