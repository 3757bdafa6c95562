// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A state given as plain values (detector.h), built into a fresh detector that is swapped in
 * only when all of it made sense: a corrupt or foreign state leaves an empty detector and a
 * message, never half a state. What is checked here is what the detector relies on: nothing
 * later than the state's own time, serials and keys given once, episodes of a rule that has
 * them with an id of the detector's shape, known exit classes. Deadlines are derived again, in
 * the order the state gives its entities, so an import is deterministic. An episode of a rule
 * this configuration turns off is kept all the same, and resolved at the first advance (its
 * finding still gets its one resolved, saying why), whatever the rule.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detector_int.h"
#include "exitwatch/util/util.h"

struct ew_detector_import {
	struct ew_detector *fresh;
	char *err;
	size_t errlen;
	int r;		     /* first error: every call after it is a no-op */
	uint64_t now;	     /* the state's time, as saved: what its checks compare with */
	uint64_t shift;	     /* every time moves back by this: its clock was ahead */
	uint32_t next;	     /* the state's next_serial */
	uint64_t max_serial; /* highest identity serial imported */
};

static void bad(struct ew_detector_import *im, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void bad(struct ew_detector_import *im, const char *fmt, ...)
{
	va_list ap;

	if (im->r)
		return;
	im->r = -EINVAL;
	if (!im->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(im->err, im->errlen, fmt, ap);
	va_end(ap);
	/* Messages quote keys from a file: their bytes must not start a line or an escape. */
	for (char *c = im->err; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
}

static void nomem(struct ew_detector_import *im)
{
	if (im->r)
		return;
	im->r = -ENOMEM;
	if (im->errlen)
		snprintf(im->err, im->errlen, "out of memory");
}

/* A time of the state as the detector takes it: moved back if its clock was ahead. */
static uint64_t back(const struct ew_detector_import *im, uint64_t t)
{
	return t > im->shift ? t - im->shift : 0;
}

/* A time of the state: in min..now. */
static void time_in(struct ew_detector_import *im, const char *what, uint64_t t, uint64_t min)
{
	if (t < min || t > im->now)
		bad(im, "%s is out of range (%llu not in %llu..%llu)", what, (unsigned long long)t,
		    (unsigned long long)min, (unsigned long long)im->now);
}

/* What ew_det_episode_id() makes: "f-" and 16 lower-case hex digits. */
static bool episode_id_ok(const char *id)
{
	if (!id || strncmp(id, "f-", 2) || strlen(id) != 18)
		return false;
	for (int i = 2; i < 18; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return true;
}

static bool sample_in(struct ew_detector_import *im, const struct ew_detector_sample *x,
		      struct ew_sample *ret)
{
	time_in(im, "a sample's time", x->t, 0);
	if (!im->r && x->flags >> 4 >= EW_CLASS__COUNT)
		bad(im, "a sample of unknown exit class %d", x->flags >> 4);
	*ret = (struct ew_sample){.t = back(im, x->t),
				  .ident = x->ident,
				  .code = x->code,
				  .signal = x->signal,
				  .flags = x->flags};
	return !im->r;
}

static void window_in(struct ew_detector_import *im, const struct ew_detector_samples *src,
		      struct ew_window *w)
{
	for (size_t i = 0; i < src->n && !im->r; i++) {
		struct ew_sample x;

		if (sample_in(im, &src->v[i], &x) && ew_window_push(w, &x))
			nomem(im);
	}
}

static void episode_in(struct ew_detector_import *im, const struct ew_detector_episode *src,
		       struct scope_state *s, struct ident *id, struct workload *wl)
{
	struct ew_detector *d = im->fresh;
	const char *name = ew_rule_name(src->rule);
	struct episode *ep;

	time_in(im, "fired_ns", src->fired_ns, 0);
	time_in(im, "last_ns", src->last_ns, src->fired_ns);
	if (im->r)
		return;
	if ((unsigned)src->rule >= EW_RULE__COUNT || src->rule == EW_RULE_STABLE) {
		bad(im, "an episode of unknown rule '%.32s'", name);
		return;
	}
	ep = &s->ep[src->rule];
	if (ep->open || !episode_id_ok(src->id)) {
		bad(im, "an episode of %s that is repeated or whose id is not f-<16 hex>", name);
		return;
	}
	ep->open = true;
	ew_strlcpy(ep->id, src->id, sizeof(ep->id));
	ep->fired_ns = back(im, src->fired_ns);
	ep->last_ns = back(im, src->last_ns);
	ep->total = src->total;
	ep->last_ident = src->last_ident;
	d->active++;
	ew_det_schedule_episode(d, id, wl, src->rule);
}

/* Windows first: an episode's deadline is derived from them. */
static void scope_in(struct ew_detector_import *im, const struct ew_detector_scope *src,
		     struct scope_state *s, struct ident *id, struct workload *wl)
{
	window_in(im, &src->exits, &s->exits);
	window_in(im, &src->restarts, &s->restarts);
	window_in(im, &src->outcomes, &s->outcomes);
	for (size_t i = 0; i < src->nep && !im->r; i++)
		episode_in(im, &src->ep[i], s, id, wl);
}

static struct ew_subject *subject_in(struct ew_detector_import *im, const struct ew_identity *src)
{
	struct ew_subject *s;

	if (!src || im->r)
		return NULL;
	s = ew_subject_pack(src);
	if (!s)
		nomem(im);
	return s;
}

struct ew_detector_import *ew_detector_import_begin(const struct ew_detector *d,
						    const struct ew_detector_state *st,
						    uint64_t now_ns, char *err, size_t errlen)
{
	struct ew_detector_import *im = calloc(1, sizeof(*im));

	if (!im)
		return NULL;
	im->fresh = ew_detector_new(&d->cfg);
	if (!im->fresh) {
		free(im);
		return NULL;
	}
	im->err = err;
	im->errlen = errlen;
	im->now = st->now_ns;
	im->next = st->next_serial;
	/*
	 * Saved later than now: its clock was ahead then. Moved back to end now, it keeps every
	 * interval it holds, and the events to come follow it, instead of being clamped up to its
	 * time (the detector's time never goes back).
	 */
	if (st->now_ns > now_ns && st->now_ns - now_ns > EW_DETECTOR_CLOCK_SLACK_NS)
		im->shift = st->now_ns - now_ns;
	im->fresh->now_ns = back(im, st->now_ns);
	im->fresh->drops_total = st->drops_total;
	/* 0 is "no loss": a loss moved back stays one. */
	im->fresh->last_drop_ns =
		st->last_drop_ns && !back(im, st->last_drop_ns) ? 1 : back(im, st->last_drop_ns);
	return im;
}

uint64_t ew_detector_import_shift(const struct ew_detector_import *im)
{
	return im->shift;
}

int ew_detector_import_workload(struct ew_detector_import *im,
				const struct ew_detector_workload *src)
{
	struct ew_detector *d = im->fresh;
	struct workload *wl;

	if (im->r)
		return im->r;
	if (!src->key || !src->key[0] || ew_map_get(d->workloads, src->key, strlen(src->key))) {
		bad(im, "a workload without a key, or repeated ('%.64s')",
		    src->key ? src->key : "");
		return im->r;
	}
	wl = ew_det_workload_get(d, src->key);
	if (!wl) {
		nomem(im);
		return im->r;
	}
	wl->last_subject = subject_in(im, src->last_subject);
	scope_in(im, &src->s, &wl->s, NULL, wl);
	return im->r;
}

/* A running start's deadlines, as when it was seen: its grace period, the stable milestone. */
static void run_in(struct ew_detector_import *im, struct ident *id)
{
	struct ew_detector *d = im->fresh;

	id->run_gen = ++d->gen_seq;
	if (!id->outcome_done && !id->seeded) {
		struct timer t = {.kind = T_GRACE,
				  .serial = id->serial,
				  .gen = id->run_gen,
				  .at = ew_det_add_sat(id->start_ns, d->cfg.startup_grace_ns)};

		if (ew_det_timer_add(d, &t))
			nomem(im);
	}
	ew_det_arm_stable(d, id);
}

int ew_detector_import_ident(struct ew_detector_import *im, const struct ew_detector_ident *src)
{
	struct ew_detector *d = im->fresh;
	const char *key = src->key ? src->key : "";
	struct ident *id;

	if (im->r)
		return im->r;
	if (src->serial < 1 || src->serial > UINT32_MAX - 1) {
		bad(im, "serial is out of range (%u not in 1..%u)", src->serial, UINT32_MAX - 1);
		return im->r;
	}
	if (!key[0] || ew_map_get(d->idents, key, strlen(key)) ||
	    ew_map64_get(d->serials, src->serial)) {
		bad(im, "an identity without a key, or repeated ('%.64s', serial %u)", key,
		    src->serial);
		return im->r;
	}
	/* The identity takes the serial it had. */
	d->next_serial = src->serial;
	id = ew_det_ident_get(d, key, src->workload ? src->workload : "", true);
	if (!id) {
		nomem(im);
		return im->r;
	}
	if (src->serial > im->max_serial)
		im->max_serial = src->serial;
	time_in(im, "start_ns", src->start_ns, 0);
	time_in(im, "last_active_ns", src->last_active_ns, 0);
	id->restarts = src->restarts;
	id->exited_before = src->exited_before;
	id->looping = src->looping;
	if (src->fail_streak) {
		time_in(im, "streak_first_ns", src->streak_first_ns, 0);
		id->fail_streak = src->fail_streak;
		id->streak_first_ns = back(im, src->streak_first_ns);
		id->streak_code = src->streak_code;
		id->streak_signal = src->streak_signal;
		id->line_repeats = src->line_repeats;
		id->line_hash = src->line_hash;
	}
	id->running = src->running;
	id->seeded = src->seeded;
	id->ready = src->ready;
	id->outcome_done = src->outcome_done;
	id->pid = src->pid;
	id->start_boot_ns = src->start_boot_ns; /* the boot clock's: it names the process */
	id->start_ns = back(im, src->start_ns);
	id->last_active_ns = back(im, src->last_active_ns);
	if (src->has_last_exit && sample_in(im, &src->last_exit, &id->last_exit)) {
		id->last_exit.ident = id->serial;
		id->has_last_exit = true;
	}
	if (src->killer && !im->r) {
		id->killer = malloc(sizeof(*id->killer));
		if (!id->killer) {
			nomem(im);
			return im->r;
		}
		*id->killer = *src->killer;
	}
	if (src->tail_len && !im->r) {
		id->tail = malloc(src->tail_len);
		if (!id->tail) {
			nomem(im);
			return im->r;
		}
		memcpy(id->tail, src->tail, src->tail_len);
		id->tail_len = src->tail_len;
		id->tail_start_error = src->tail_start_error;
	}
	if (src->subject && !im->r && strcmp(src->subject->key, key))
		bad(im, "identity '%.64s' has another's subject", key);
	id->subject = subject_in(im, src->subject);
	scope_in(im, &src->s, &id->s, id, NULL);
	if (!im->r && id->running)
		run_in(im, id);
	return im->r;
}

int ew_detector_import_end(struct ew_detector_import *im, struct ew_detector *d, bool commit)
{
	struct ew_detector *fresh = im->fresh, tmp;
	int r;

	if (commit && im->next < 1)
		bad(im, "next_serial is out of range (%u not in 1..%u)", im->next, UINT32_MAX);
	r = im->r ? im->r : commit ? 0 : -ECANCELED;

	if (!r) {
		/* A serial given out after the import must be new. */
		fresh->next_serial =
			im->next > im->max_serial ? im->next : (uint32_t)(im->max_serial + 1);
	} else {
		/* Nothing half-imported: d is left empty. */
		ew_detector_free(fresh);
		fresh = ew_detector_new(&d->cfg);
	}
	free(im);
	if (!fresh)
		return r;
	/* Swap: d takes the new state, fresh takes the old one and is freed. */
	tmp = *d;
	*d = *fresh;
	*fresh = tmp;
	ew_detector_free(fresh);
	/* What was asleep when saved sleeps again (and whatever else may). */
	if (!r)
		ew_det_sleep_all(d);
	return r;
}
