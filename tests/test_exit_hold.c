// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The hold an exit waits in for its runtime log (src/agent/exit_hold.c): arrival order, what is
 * copied of each event, and the settle rule's times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exitwatch/agent/exit_hold.h"

#define MS (1000ULL * 1000)

static void test_fifo(void **state)
{
	struct ew_hold *h = ew_hold_new();
	struct ew_event *ev = calloc(1, sizeof(*ev));
	struct ew_held *e;

	(void)state;
	assert_non_null(h);
	assert_non_null(ev);
	assert_int_equal(ew_hold_count(h), 0);
	assert_null(ew_hold_head(h));
	assert_null(ew_hold_tail(h));
	for (uint32_t i = 1; i <= 3; i++) {
		ev->type = i == 2 ? EW_EVENT_START : EW_EVENT_EXIT;
		ev->pid = i;
		ev->tail_len = i;
		memset(ev->tail, 'a' + (int)i, i);
		assert_int_equal(ew_hold_push(h, ev, 1000 * i, 0), 0);
		/* The tail is the one just pushed (the pipeline marks its log found there). */
		assert_int_equal(ew_hold_tail(h)->ev.pid, i);
		assert_int_equal(ew_hold_head(h)->ev.pid, 1);
	}
	assert_int_equal(ew_hold_count(h), 3);
	for (uint32_t i = 1; i <= 3; i++) {
		e = ew_hold_head(h);
		assert_non_null(e);
		assert_int_equal(e->ev.pid, i);
		assert_int_equal(e->arrived_ns, 1000 * i);
		assert_int_equal(e->deadline_ns, 1000 * i + EW_HOLD_MAX_NS);
		assert_int_equal(e->ev.tail_len, i);
		for (uint32_t j = 0; j < i; j++)
			assert_int_equal(e->ev.tail[j], 'a' + (int)i);
		assert_false(e->located);
		assert_int_equal(e->last_check_ns, 0);
		/* An exit has room for a full tail from the log. */
		if (e->ev.type == EW_EVENT_EXIT)
			memset(e->ev.tail, 'z', EW_STDERR_CAP);
		ew_hold_pop(h);
	}
	assert_int_equal(ew_hold_count(h), 0);
	ew_hold_pop(h); /* an empty hold stays empty */
	assert_null(ew_hold_head(h));
	assert_null(ew_hold_tail(h));
	/* Freed with events in it (valgrind and ASan check the rest). */
	assert_int_equal(ew_hold_push(h, ev, 1, 0), 0);
	ew_hold_head(h)->path = strdup("/x");
	ew_hold_free(h);
	free(ev);
}

/*
 * An exit popped is kept for the next one: what the next exit finds in it is its own, none of
 * the last one's (a located log, its path, the settle clock, its tail). Starts are not kept.
 */
static void test_reuse(void **state)
{
	struct ew_hold *h = ew_hold_new();
	struct ew_event *ev = calloc(1, sizeof(*ev));
	struct ew_held *e, *first;

	(void)state;
	assert_non_null(h);
	assert_non_null(ev);
	ev->type = EW_EVENT_EXIT;
	ev->pid = 1;
	ev->tail_len = 3;
	memcpy(ev->tail, "old", 3);
	assert_int_equal(ew_hold_push(h, ev, 10, 0), 0);
	first = e = ew_hold_head(h);
	e->located = e->has_log = true;
	e->path = strdup("/var/log/old.log");
	e->last_size = 99;
	e->last_check_ns = 20;
	memset(e->ev.tail, 'z', EW_STDERR_CAP); /* a log's tail replaced it */
	ew_hold_pop(h);

	ev->pid = 2;
	ev->tail_len = 1;
	ev->tail[0] = 'n';
	assert_int_equal(ew_hold_push(h, ev, 30, 0), 0);
	e = ew_hold_head(h);
	assert_ptr_equal(e, first);
	assert_true(e->full);
	assert_int_equal(e->ev.pid, 2);
	assert_int_equal(e->ev.tail_len, 1);
	assert_int_equal(e->ev.tail[0], 'n');
	assert_int_equal(e->arrived_ns, 30);
	assert_int_equal(e->deadline_ns, 30 + EW_HOLD_MAX_NS);
	assert_false(e->located);
	assert_false(e->has_log);
	assert_null(e->path);
	assert_int_equal(e->last_size, 0);
	assert_int_equal(e->last_check_ns, 0);
	assert_null(e->next);
	/* A start after it gets an entry of its own size, never a spare. */
	ev->type = EW_EVENT_START;
	assert_int_equal(ew_hold_push(h, ev, 40, 0), 0);
	assert_false(e->next->full);
	assert_int_equal(ew_hold_count(h), 2);
	ew_hold_pop(h);
	ew_hold_pop(h);
	assert_int_equal(ew_hold_count(h), 0);
	assert_null(ew_hold_head(h));
	ew_hold_free(h); /* with a spare in it: valgrind and ASan check it goes */
	free(ev);
}

static struct ew_held *held_at(uint64_t arrived)
{
	struct ew_held *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->arrived_ns = arrived;
	e->deadline_ns = arrived + EW_HOLD_MAX_NS;
	return e;
}

/* A log that does not grow goes after the quiet time. */
static void test_settle_quiet(void **state)
{
	uint64_t t0 = 1000 * MS;
	struct ew_held *e = held_at(t0);

	(void)state;
	assert_int_equal(ew_hold_settle(e, 100, t0), t0 + EW_HOLD_QUIET_NS);
	/* Woken early (the poll returned for another event): still waits. */
	assert_int_equal(ew_hold_settle(e, 100, t0 + 5 * MS), t0 + EW_HOLD_QUIET_NS);
	assert_int_equal(ew_hold_settle(e, 100, t0 + EW_HOLD_QUIET_NS), 0);
	free(e);
}

/* The last line lands after the first look: quiet counts from the growth. */
static void test_settle_growth(void **state)
{
	uint64_t t0 = 1000 * MS;
	struct ew_held *e = held_at(t0);

	(void)state;
	assert_int_equal(ew_hold_settle(e, 100, t0), t0 + 20 * MS);
	assert_int_equal(ew_hold_settle(e, 180, t0 + 20 * MS), t0 + 40 * MS);
	assert_int_equal(ew_hold_settle(e, 180, t0 + 30 * MS), t0 + 40 * MS);
	assert_int_equal(ew_hold_settle(e, 180, t0 + 40 * MS), 0);
	free(e);
}

/* A file that keeps growing (a child still writing) goes at the deadline, never later. */
static void test_settle_deadline(void **state)
{
	uint64_t t0 = 1000 * MS, now = t0, next;
	struct ew_held *e = held_at(t0);
	off_t size = 0;

	(void)state;
	while ((next = ew_hold_settle(e, size += 10, now))) {
		assert_true(next > now);
		assert_true(next <= t0 + EW_HOLD_MAX_NS);
		now = next;
	}
	assert_int_equal(now, t0 + EW_HOLD_MAX_NS);
	/* A file that shrank (rotated) counts as a change, too. */
	free(e);
	e = held_at(t0);
	assert_int_equal(ew_hold_settle(e, 500, t0 + 1 * MS), t0 + 21 * MS);
	assert_int_equal(ew_hold_settle(e, 10, t0 + 21 * MS), t0 + 41 * MS);
	free(e);
}

/* The wait counts from the exit, not from its arrival: a late record waits less. */
static void test_deadline_from_exit(void **state)
{
	struct ew_hold *h = ew_hold_new();
	struct ew_event *ev = calloc(1, sizeof(*ev));
	uint64_t t0 = 1000 * MS;

	(void)state;
	assert_non_null(h);
	assert_non_null(ev);
	ev->type = EW_EVENT_EXIT;
	assert_int_equal(ew_hold_push(h, ev, t0, 30 * MS), 0);
	assert_int_equal(ew_hold_head(h)->deadline_ns, t0 + EW_HOLD_MAX_NS - 30 * MS);
	/* It keeps growing: it goes at that deadline. */
	assert_int_equal(ew_hold_settle(ew_hold_head(h), 1, t0), t0 + 20 * MS);
	assert_int_equal(ew_hold_settle(ew_hold_head(h), 2, t0 + EW_HOLD_MAX_NS - 30 * MS), 0);
	ew_hold_pop(h);
	/* Older than the longest wait already: it goes at once. */
	assert_int_equal(ew_hold_push(h, ev, t0, EW_HOLD_MAX_NS + 1), 0);
	assert_int_equal(ew_hold_head(h)->deadline_ns, t0);
	assert_int_equal(ew_hold_settle(ew_hold_head(h), 1, t0), 0);
	ew_hold_free(h);
	free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_settle_quiet),
		cmocka_unit_test(test_settle_growth),
		cmocka_unit_test(test_settle_deadline),
		cmocka_unit_test(test_deadline_from_exit),
	};

	return cmocka_run_group_tests_name("exit_hold", tests, NULL, NULL);
}
