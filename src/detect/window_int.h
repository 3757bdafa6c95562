/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A sliding window of timed samples: a ring that grows while its samples span the window and
 * is pruned from the front as they age out. Memory follows the events actually in the window
 * (an idle container holds none; a container crashing every second for an hour holds 3600),
 * and counts are exact. Pure.
 */
#ifndef EXITWATCH_WINDOW_H
#define EXITWATCH_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

struct ew_sample {
	uint64_t t;	/* wall-clock ns */
	uint32_t ident; /* serial of the identity it belongs to */
	int16_t code;	/* exit code */
	uint8_t signal; /* terminating signal */
	uint8_t flags;	/* outcomes: EW_SAMPLE_OK; exits: the exit class << 4 */
};

#define EW_SAMPLE_OK 0x01 /* outcomes: the start succeeded */
/* An identity's last exit: its start was stopped by another process before it was decided
 * (events.c); a restart soon after makes it a failed start. */
#define EW_SAMPLE_STOPPED 0x02

/*
 * A window's first sample is kept in the window itself (cap 1, v NULL): most identities exit
 * once or a few times, and a storm of containers that each live once paid an allocation and a
 * free per window with a sample (four per container: exits and outcomes, the identity's and its
 * workload's) for a single sample. From the second on, v holds them.
 */
struct ew_window {
	struct ew_sample *v;
	uint32_t head; /* index of the oldest sample */
	uint32_t n;
	uint32_t cap; /* a power of two, or 0; 1: the sample is one */
	uint32_t max; /* samples kept at most: the oldest are dropped beyond it */
	struct ew_sample one;
};

void ew_window_init(struct ew_window *w, uint32_t max);
void ew_window_free(struct ew_window *w);
/* Appends a sample (times must not go backwards; an older one is clamped). 0 or -ENOMEM. */
int ew_window_push(struct ew_window *w, const struct ew_sample *s);
/* Drops samples with t <= cutoff. */
void ew_window_prune(struct ew_window *w, uint64_t cutoff);
/* The i-th sample, oldest first (i < n). */
static inline const struct ew_sample *ew_window_at(const struct ew_window *w, uint32_t i)
{
	return w->v ? &w->v[(w->head + i) & (w->cap - 1)] : &w->one;
}
static inline const struct ew_sample *ew_window_last(const struct ew_window *w)
{
	return w->n ? ew_window_at(w, w->n - 1) : (const struct ew_sample *)0;
}
/* Index of the first sample with t > cutoff (n if none): samples in (cutoff, now]. */
uint32_t ew_window_first_after(const struct ew_window *w, uint64_t cutoff);

#endif
