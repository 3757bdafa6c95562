// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * detect/window.c: the sample window, a ring kept sorted, pruned from the front, bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exitwatch/util/util.h"
#include "detect/window_int.h"

static void test_window(void **state)
{
	struct ew_window w;
	static const uint64_t in[] = {10, 20, 15, 30, 40, 50, 60, 70, 80, 90, 100};
	static const uint64_t want[] = {10, 20, 20, 30, 40, 50, 60, 70, 80, 90, 100};
	static const struct {
		uint64_t cutoff;
		uint32_t first;
	} after[] = {{0, 0}, {10, 1}, {19, 1}, {20, 3}, {95, 10}, {100, 11}};

	(void)state;
	ew_window_init(&w, 0);
	assert_null(ew_window_last(&w));
	assert_int_equal(ew_window_first_after(&w, 0), 0);
	for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
		struct ew_sample x = {.t = in[i], .ident = (uint32_t)i, .code = 3};

		assert_int_equal(ew_window_push(&w, &x), 0);
	}
	assert_int_equal(w.n, ARRAY_SIZE(want));
	for (uint32_t i = 0; i < w.n; i++) /* an older time is clamped: the ring stays sorted */
		assert_int_equal(ew_window_at(&w, i)->t, want[i]);
	for (size_t i = 0; i < ARRAY_SIZE(after); i++)
		assert_int_equal(ew_window_first_after(&w, after[i].cutoff), after[i].first);

	/* Pruned from the front, then grown again while the ring wraps. */
	ew_window_prune(&w, 50);
	assert_int_equal(w.n, 5);
	assert_int_equal(ew_window_at(&w, 0)->t, 60);
	for (uint64_t t = 110; t <= 300; t += 10) {
		struct ew_sample x = {.t = t};

		assert_int_equal(ew_window_push(&w, &x), 0);
	}
	assert_int_equal(w.n, 25);
	for (uint32_t i = 0; i < w.n; i++)
		assert_int_equal(ew_window_at(&w, i)->t, 60 + 10 * i);
	assert_int_equal(ew_window_last(&w)->t, 300);
	ew_window_prune(&w, 300);
	assert_int_equal(w.n, 0);
	assert_int_equal(w.cap, 0); /* memory given back */
	ew_window_free(&w);

	/* Bounded: the oldest go. */
	ew_window_init(&w, 4);
	for (uint64_t t = 1; t <= 6; t++) {
		struct ew_sample x = {.t = t};

		assert_int_equal(ew_window_push(&w, &x), 0);
	}
	assert_int_equal(w.n, 4);
	assert_int_equal(ew_window_at(&w, 0)->t, 3);
	assert_int_equal(ew_window_last(&w)->t, 6);
	ew_window_free(&w);
	assert_int_equal(w.n, 0);
}

/* The first sample lives in the window itself; the second moves both to an array. */
static void test_window_one(void **state)
{
	struct ew_sample a = {.t = 5, .ident = 1, .code = 3}, b = {.t = 7, .ident = 2, .signal = 9};
	struct ew_window w;

	(void)state;
	ew_window_init(&w, 0);
	assert_int_equal(ew_window_push(&w, &a), 0);
	assert_null(w.v); /* nothing allocated for one sample */
	assert_int_equal(w.n, 1);
	assert_memory_equal(ew_window_at(&w, 0), &a, sizeof(a));
	assert_ptr_equal(ew_window_last(&w), ew_window_at(&w, 0));
	assert_int_equal(ew_window_first_after(&w, 4), 0);
	assert_int_equal(ew_window_first_after(&w, 5), 1);
	ew_window_prune(&w, 5); /* aged out, then another first sample */
	assert_int_equal(w.n, 0);
	assert_null(ew_window_last(&w));
	assert_int_equal(ew_window_push(&w, &b), 0);
	assert_null(w.v);
	assert_memory_equal(ew_window_last(&w), &b, sizeof(b));
	a.t = 6; /* older than b: clamped as in an array */
	assert_int_equal(ew_window_push(&w, &a), 0);
	assert_non_null(w.v);
	assert_int_equal(w.n, 2);
	assert_int_equal(ew_window_at(&w, 0)->ident, 2);
	assert_int_equal(ew_window_at(&w, 1)->ident, 1);
	assert_int_equal(ew_window_at(&w, 1)->t, 7);
	ew_window_free(&w);

	/* Bounded to one: each sample replaces the last, in place. */
	ew_window_init(&w, 1);
	for (uint64_t t = 1; t <= 3; t++) {
		struct ew_sample x = {.t = t};

		assert_int_equal(ew_window_push(&w, &x), 0);
		assert_int_equal(w.n, 1);
		assert_int_equal(ew_window_last(&w)->t, t);
	}
	assert_null(w.v);
	ew_window_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_window_one),
	};

	return cmocka_run_group_tests_name("window", tests, NULL, NULL);
}
