// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The queue of events behind an exit that waits for its runtime log
 * (include/exitwatch/exit_hold.h): a singly linked FIFO, one allocation per event.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exitwatch/agent/exit_hold.h"

struct ew_hold {
	struct ew_held *head, *tail;
	size_t count;
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
	free(h);
}

size_t ew_hold_count(const struct ew_hold *h)
{
	return h->count;
}

int ew_hold_push(struct ew_hold *h, const struct ew_event *ev, uint64_t now_ns, uint64_t age_ns)
{
	/* An exit's tail may be replaced by the log's, up to the cap; others need only theirs. */
	size_t keep = offsetof(struct ew_event, tail) + ev->tail_len;
	size_t room = ev->type == EW_EVENT_EXIT ? sizeof(*ev) : keep;
	struct ew_held *e = malloc(offsetof(struct ew_held, ev) + room);

	if (!e)
		return -ENOMEM;
	memset(e, 0, offsetof(struct ew_held, ev));
	memcpy(&e->ev, ev, keep);
	e->arrived_ns = now_ns;
	e->deadline_ns = now_ns + (age_ns < EW_HOLD_MAX_NS ? EW_HOLD_MAX_NS - age_ns : 0);
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

void ew_hold_pop(struct ew_hold *h)
{
	struct ew_held *e = h->head;

	if (!e)
		return;
	h->head = e->next;
	if (!h->head)
		h->tail = NULL;
	h->count--;
	held_free(e);
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
