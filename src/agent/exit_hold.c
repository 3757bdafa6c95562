// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The queue of events behind an exit that waits for its runtime log
 * (include/exitwatch/exit_hold.h): a singly linked FIFO, one allocation per event.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exitwatch/agent/exit_hold.h"

/*
 * An exit's entry has room for the whole tail cap (several KiB): past malloc's per-thread
 * cache, so a storm paid the allocator's slow path twice per exit. Popped exits are kept for
 * the next ones; at most 64 (about 280 KiB) stay kept once a storm is over.
 */
#define EW_HOLD_SPARES 64

struct ew_hold {
	struct ew_held *head, *tail;
	size_t count;
	struct ew_held *spare; /* exit-sized entries, linked by next */
	size_t nspare;
};

struct ew_hold *ew_hold_new(void)
{
	return calloc(1, sizeof(struct ew_hold));
}

static void held_free(struct ew_held *e)
{
	free(e->path);
	free(e);
}

void ew_hold_free(struct ew_hold *h)
{
	if (!h)
		return;
	while (h->head)
		ew_hold_pop(h);
	while (h->spare) {
		struct ew_held *e = h->spare;

		h->spare = e->next;
		free(e);
	}
	free(h);
}

size_t ew_hold_count(const struct ew_hold *h)
{
	return h->count;
}

int ew_hold_push(struct ew_hold *h, const struct ew_event *ev, uint64_t now_ns, uint64_t age_ns)
{
	/* An exit's tail may be replaced by the log's, up to the cap, a failed start's filled by
	 * its runtime's error; others need only theirs. */
	size_t keep = offsetof(struct ew_event, tail) + ev->tail_len;
	bool full = ev->type == EW_EVENT_EXIT || ev->type == EW_EVENT_START_FAILED;
	uint64_t wait;
	struct ew_held *e = full ? h->spare : NULL;

	if (e) {
		h->spare = e->next;
		h->nspare--;
	} else {
		e = malloc(offsetof(struct ew_held, ev) + (full ? sizeof(*ev) : keep));
		if (!e)
			return -ENOMEM;
	}
	memset(e, 0, offsetof(struct ew_held, ev));
	e->full = full;
	memcpy(&e->ev, ev, keep);
	e->arrived_ns = now_ns;
	wait = ev->type == EW_EVENT_START_FAILED ? EW_HOLD_START_ERROR_NS : EW_HOLD_MAX_NS;
	e->deadline_ns = now_ns + (age_ns < wait ? wait - age_ns : 0);
	if (h->tail)
		h->tail->next = e;
	else
		h->head = e;
	h->tail = e;
	h->count++;
	return 0;
}

struct ew_held *ew_hold_head(struct ew_hold *h)
{
	return h->head;
}

struct ew_held *ew_hold_tail(struct ew_hold *h)
{
	return h->tail;
}

void ew_hold_pop(struct ew_hold *h)
{
	struct ew_held *e = h->head;

	if (!e)
		return;
	h->head = e->next;
	if (!h->head)
		h->tail = NULL;
	h->count--;
	if (!e->full || h->nspare >= EW_HOLD_SPARES) {
		held_free(e);
		return;
	}
	free(e->path);
	e->next = h->spare;
	h->spare = e;
	h->nspare++;
}

uint64_t ew_hold_settle(struct ew_held *e, off_t size, uint64_t now_ns)
{
	uint64_t deadline = e->deadline_ns, next;

	if (now_ns >= deadline)
		return 0;
	if (e->last_check_ns && size == e->last_size && now_ns >= e->arrived_ns + EW_HOLD_MIN_NS &&
	    now_ns >= e->last_check_ns + EW_HOLD_QUIET_NS)
		return 0;
	/* Quiet is measured from the last growth seen (or the first look). */
	if (!e->last_check_ns || size != e->last_size) {
		e->last_size = size;
		e->last_check_ns = now_ns;
	}
	next = e->last_check_ns + EW_HOLD_QUIET_NS;
	if (next < e->arrived_ns + EW_HOLD_MIN_NS)
		next = e->arrived_ns + EW_HOLD_MIN_NS;
	return next < deadline ? next : deadline;
}
