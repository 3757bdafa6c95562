// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What a finding says: the counted events in the rule's window, how often the container
 * restarts (intervals between one identity's consecutive counted events), the exit codes seen,
 * the last exit and its stderr, and whether the kernel lost events meanwhile. O(samples in the
 * window), once per finding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detector_int.h"
#include "exitwatch/core/hex.h"
#include "exitwatch/util/util.h"

#define MAX_TRACKED_IDENTS 64

const struct ew_window *ew_det_rule_window(struct scope_state *s, enum ew_rule rule)
{
	switch (rule) {
	case EW_RULE_RESTART_RATE:
		return &s->restarts;
	case EW_RULE_STARTUP_FAILURE_RATE:
		return &s->outcomes;
	default:
		return &s->exits;
	}
}

bool ew_det_counts(const struct ew_detector *d, enum ew_rule rule, const struct ew_sample *x)
{
	switch (rule) {
	case EW_RULE_EXIT_CODE_BURST:
		return !x->signal && ew_rule_has_code(&d->cfg.rules[rule], x->code);
	case EW_RULE_STARTUP_FAILURE_RATE:
		return !(x->flags & EW_SAMPLE_OK);
	default:
		return true;
	}
}

void ew_det_episode_id(enum ew_rule rule, const char *key, uint64_t fired_ns, char out[24])
{
	const char *name = ew_rule_name(rule);
	unsigned char t[8];
	uint64_t h;

	/* fired_ns little-endian whatever the host, so an id means the same on every node. */
	for (int i = 0; i < 8; i++)
		t[i] = (unsigned char)(fired_ns >> (8 * i));
	h = ew_fnv1a(EW_FNV1A_INIT, name, strlen(name));
	h = ew_fnv1a(h, key, strlen(key));
	h = ew_fnv1a(h, t, sizeof(t));
	memcpy(out, "f-", 2);
	ew_hex_u64(h, out + 2); /* "f-%016llx", as a finding per restart asks it often */
	out[18] = '\0';
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct seen {
	uint32_t ident;
	uint64_t last_t;
};

/* Counted samples in (now - window, now]: count, first/last, identities and intervals. */
static void count_window(struct ew_detector *d, enum ew_rule rule, const struct ew_window *w,
			 uint32_t start)
{
	struct ew_finding *f = &d->f;
	struct seen seen[MAX_TRACKED_IDENTS];
	uint32_t nseen = 0;
	double *iv = malloc(sizeof(double) * (w->n - start + 1));
	uint32_t niv = 0;

	for (uint32_t i = start; i < w->n; i++) {
		const struct ew_sample *x = ew_window_at(w, i);
		uint32_t k;

		if (!ew_det_counts(d, rule, x))
			continue;
		if (!f->count)
			f->first_ns = x->t;
		f->last_ns = x->t;
		f->count++;
		for (k = 0; k < nseen && seen[k].ident != x->ident; k++)
			;
		if (k < nseen) {
			if (iv)
				iv[niv++] = (double)(x->t - seen[k].last_t) / 1e9;
			seen[k].last_t = x->t;
		} else if (nseen < MAX_TRACKED_IDENTS) {
			seen[nseen++] = (struct seen){.ident = x->ident, .last_t = x->t};
		}
	}
	f->identities = nseen;
	if (niv) {
		qsort(iv, niv, sizeof(*iv), cmp_double);
		f->intervals = niv;
		f->interval_min_s = iv[0];
		f->interval_max_s = iv[niv - 1];
		f->interval_median_s = niv % 2 ? iv[niv / 2] : (iv[niv / 2 - 1] + iv[niv / 2]) / 2;
	}
	free(iv);
}

static void histogram(struct ew_finding *f, const struct ew_window *w, uint32_t start)
{
	struct ew_exit_hist all[64];
	uint32_t n = 0;

	for (uint32_t i = start; i < w->n; i++) {
		const struct ew_sample *x = ew_window_at(w, i);
		uint32_t k;

		for (k = 0; k < n; k++)
			if (all[k].code == x->code && all[k].signal == x->signal)
				break;
		if (k == n) {
			if (n == ARRAY_SIZE(all))
				continue;
			all[n++] = (struct ew_exit_hist){.code = x->code, .signal = x->signal};
		}
		all[k].count++;
	}
	/* Most frequent first; ties by first appearance (insertion sort is stable). */
	for (uint32_t i = 1; i < n; i++) {
		struct ew_exit_hist h = all[i];
		uint32_t j = i;

		for (; j > 0 && all[j - 1].count < h.count; j--)
			all[j] = all[j - 1];
		all[j] = h;
	}
	f->nhist = n < EW_HIST_MAX ? n : EW_HIST_MAX;
	/* cppcheck-suppress uninitvar ; only the first n entries are copied, all written above */
	memcpy(f->hist, all, f->nhist * sizeof(*all));
}

void ew_det_evidence(struct ew_detector *d, enum ew_rule rule, struct scope_state *s,
		     struct workload *wl, struct ident *subject, uint64_t now)
{
	const struct ew_rule_config *rc = &d->cfg.rules[rule];
	struct ew_finding *f = &d->f;
	uint64_t window = rule == EW_RULE_STABLE ? rc->uptime_ns : rc->window_ns;
	const struct ew_sample *last;

	/* crash_loop has no window: its evidence spans the streak, from its first exit. */
	if (rule == EW_RULE_CRASH_LOOP)
		window = subject && subject->fail_streak && now >= subject->streak_first_ns
				 ? now - subject->streak_first_ns + 1
				 : 1;

	memset(f, 0, sizeof(*f));
	f->rule = rule;
	f->severity = rc->severity;
	/* stable always watches one identity and counts nothing, whatever its section says. */
	f->scope = wl && rule != EW_RULE_STABLE && rule != EW_RULE_CRASH_LOOP ? EW_SCOPE_WORKLOAD
									      : EW_SCOPE_IDENTITY;
	f->time_ns = now;
	f->subject = subject ? subject->subject : NULL;
	if (!f->subject && wl)
		f->subject = wl->last_subject;
	f->workload = wl ? wl->key : subject ? subject->wl->key : NULL;
	f->window_ns = window;
	f->threshold = rule == EW_RULE_STABLE ? 0 : rc->count;
	if (rule != EW_RULE_STABLE) {
		const struct ew_window *w = ew_det_rule_window(s, rule);

		count_window(d, rule, w, ew_det_first_in(w, now, window));
	}
	if (rule == EW_RULE_CRASH_LOOP && subject) {
		f->count = subject->fail_streak;
		f->line_repeats = subject->line_repeats;
	}
	if (rule == EW_RULE_STARTUP_FAILURE_RATE) {
		const struct ew_window *w = &s->outcomes;

		f->starts = w->n - ew_det_first_in(w, now, window);
		f->failed_starts = f->count;
		f->fail_percent = f->starts ? 100.0 * f->count / f->starts : 0;
		f->threshold_percent = rc->fail_percent;
		f->threshold = (uint32_t)rc->fail_percent;
	}
	histogram(f, &s->exits, ew_det_first_in(&s->exits, now, window));
	/* The last exit and the stderr tail both describe the subject, so a message never pairs
	 * one replica's exit code with another's last words. */
	last = subject && subject->has_last_exit ? &subject->last_exit : ew_window_last(&s->exits);
	if (last) {
		f->has_last_exit = true;
		f->last_class = (enum ew_exit_class)(last->flags >> 4);
		f->last_code = last->code;
		f->last_signal = last->signal;
		f->last_exit_ns = last->t;
	}
	f->last_killer = subject && subject->has_last_exit ? subject->killer : NULL;
	if (subject && subject->tail_len) {
		f->tail = subject->tail;
		f->tail_len = subject->tail_len;
		f->tail_start_error = subject->tail_start_error;
	}
	f->degraded = d->last_drop_ns && (now < window || d->last_drop_ns > now - window);
}
