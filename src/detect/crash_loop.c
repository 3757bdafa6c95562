// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * crash_loop: N failed starts in a row of one identity, each ending with the same exit code (or
 * signal), fire at once, whatever the time between them. The seed rules count in windows, so a
 * loop slower than their windows (the incident's 7-minute cycle against a 5-minute burst window)
 * shows late or never; this rule needs no window and speaks at the second failure. It resolves
 * at the first successful start (ready, the grace period survived, or a clean exit), or when the
 * identity has not started again for the rule's quiet period (resolve) after its last exit: a
 * loop is most often fixed by new pods (a rollout, kubectl delete pod, a recreated service), and
 * then the looping identity never starts again. While it runs it is not quiet: that start's
 * outcome decides. The quiet end does not break the streak, which only a success does: if the
 * identity comes back and fails the same way, the loop is back and fires again at once. Always
 * per identity: one container's starts are what follow each other.
 */
#include <stdint.h>
#include <string.h>

#include "detect/detector_int.h"
#include "exitwatch/util/util.h"

/*
 * FNV-1a of the last line of the stderr tail with text on it (its trailing newline and
 * carriage return left out); 0 when there is none. The hash never is 0 for a line: 0 means "no
 * line", so two exits without stderr never count as a repeat.
 */
static uint64_t last_line_hash(const char *tail, uint32_t len)
{
	uint32_t end = len, start;
	uint64_t h;

	while (end && (tail[end - 1] == '\n' || tail[end - 1] == '\r' || tail[end - 1] == ' '))
		end--;
	if (!end)
		return 0;
	start = end;
	while (start && tail[start - 1] != '\n')
		start--;
	/* 63 bits: the state file keeps it as a non-negative JSON integer. */
	h = ew_fnv1a(EW_FNV1A_INIT, tail + start, end - start) & INT64_MAX;
	return h ? h : 1;
}

/*
 * What makes two failed starts fail "the same way": their exit code or signal. A start whose
 * command never ran is one way of its own, whatever its runtime's init ended with: crun's exits
 * 1 or is SIGKILLed by crun, as the race between them goes.
 */
static void failure_key(const struct ew_sample *x, int16_t *code, uint8_t *signal)
{
	if (x->flags >> 4 == EW_CLASS_START_FAILED) {
		*code = EW_STREAK_START_FAILED;
		*signal = 0;
		return;
	}
	*code = x->code;
	*signal = x->signal;
}

void ew_det_crash_loop(struct ew_detector *d, struct ident *id, bool ok, uint64_t at,
		       ew_finding_fn fn, void *ctx)
{
	const struct ew_rule_config *rc = &d->cfg.rules[EW_RULE_CRASH_LOOP];
	struct episode *ep = &id->s.ep[EW_RULE_CRASH_LOOP];
	const struct ew_sample *x = &id->last_exit;
	uint8_t signal;
	int16_t code;
	uint64_t h;

	if (!rc->enabled) /* nothing kept: the state file stays what it was without the rule */
		return;
	if (ok) {
		/* Resolved first, so that the record still describes the streak it ends. */
		if (ep->open)
			ew_det_resolve(d, &id->s, NULL, id, EW_RULE_CRASH_LOOP, at,
				       EW_RESOLVED_CONDITION, fn, ctx);
		id->fail_streak = 0;
		id->line_repeats = 0;
		id->line_hash = 0;
		return;
	}
	/* A failed start is decided only at its exit, so last_exit is this start's. */
	if (!id->has_last_exit)
		return;
	h = last_line_hash(id->tail, id->tail_len);
	failure_key(x, &code, &signal);
	/* The streak's code is kept here, not looked up in a window: the loop may be slower than
	 * any window keeps samples. */
	if (id->fail_streak && id->streak_code == code && id->streak_signal == signal) {
		id->fail_streak++;
		id->line_repeats = h && h == id->line_hash ? id->line_repeats + 1 : (h ? 1 : 0);
	} else {
		id->fail_streak = 1;
		id->streak_first_ns = x->t;
		id->streak_code = code;
		id->streak_signal = signal;
		id->line_repeats = h ? 1 : 0;
	}
	id->line_hash = h;
	if (ep->open) { /* the loop goes on: one episode, counted, quiet from this exit on */
		ep->total++;
		ep->last_ns = at;
		ep->last_ident = id->serial;
		ew_det_schedule_episode(d, id, NULL, EW_RULE_CRASH_LOOP);
		return;
	}
	if (id->fail_streak >= rc->count)
		ew_det_fire(d, &id->s, NULL, id, EW_RULE_CRASH_LOOP, id->fail_streak, at, fn, ctx);
}
