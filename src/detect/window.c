// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect/window_int.h"

void ew_window_init(struct ew_window *w, uint32_t max)
{
	memset(w, 0, sizeof(*w));
	w->max = max;
}

void ew_window_free(struct ew_window *w)
{
	free(w->v);
	memset(w, 0, sizeof(*w));
}

static int grow(struct ew_window *w)
{
	uint32_t ncap = w->cap > 1 ? w->cap * 2 : w->cap ? 4 : 1;
	struct ew_sample *v;

	if (ncap == 1) { /* the first sample: in the window itself */
		w->cap = 1;
		w->head = 0;
		return 0;
	}
	v = malloc(ncap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; i < w->n; i++)
		v[i] = *ew_window_at(w, i);
	free(w->v);
	w->v = v;
	w->head = 0;
	w->cap = ncap;
	return 0;
}

int ew_window_push(struct ew_window *w, const struct ew_sample *s)
{
	/* The time, not a pointer: grow() frees the array the last sample is in. */
	uint64_t last_t = w->n ? ew_window_last(w)->t : 0;
	struct ew_sample *slot;

	if (w->max && w->n >= w->max) { /* bounded: forget the oldest */
		w->head = (w->head + 1) & (w->cap - 1);
		w->n--;
	}
	if (w->n == w->cap && grow(w))
		return -ENOMEM;
	slot = w->v ? &w->v[(w->head + w->n) & (w->cap - 1)] : &w->one;
	*slot = *s;
	if (slot->t < last_t) /* keep the ring sorted: binary search relies on it */
		slot->t = last_t;
	w->n++;
	return 0;
}

uint32_t ew_window_first_after(const struct ew_window *w, uint64_t cutoff)
{
	uint32_t lo = 0, hi = w->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (ew_window_at(w, mid)->t <= cutoff)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void ew_window_prune(struct ew_window *w, uint64_t cutoff)
{
	uint32_t k = ew_window_first_after(w, cutoff);

	if (!k)
		return;
	w->head = (w->head + k) & (w->cap - 1);
	w->n -= k;
	/* Give memory back once a burst has aged out. */
	if (w->n == 0 && w->cap > 4) {
		free(w->v);
		w->v = NULL;
		w->cap = 0;
		w->head = 0;
	}
}
