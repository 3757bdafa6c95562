// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The integer-keyed hash map (src/util/map64.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exitwatch/util/map64.h"

/* Serials and cgroup ids as the detector and the resolver keep them. */
static void test_map64(void **state)
{
	struct ew_map64 *m = ew_map64_new();
	static int vals[5000];

	(void)state;
	assert_non_null(m);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(ew_map64_put(m, (uint64_t)i * 7919, &vals[i]), 0);
	assert_int_equal(ew_map64_count(m), 5000);
	for (int i = 0; i < 5000; i++)
		assert_ptr_equal(ew_map64_get(m, (uint64_t)i * 7919), &vals[i]);
	assert_null(ew_map64_get(m, 1));
	assert_int_equal(ew_map64_put(m, 0, &vals[1]), 0); /* replace */
	assert_ptr_equal(ew_map64_get(m, 0), &vals[1]);
	assert_int_equal(ew_map64_count(m), 5000);
	for (int i = 0; i < 5000; i += 2)
		assert_ptr_equal(ew_map64_del(m, (uint64_t)i * 7919), i ? &vals[i] : &vals[1]);
	assert_int_equal(ew_map64_count(m), 2500);
	assert_null(ew_map64_del(m, 0));
	/* The extremes are keys like any other; NULL is not a value. */
	assert_int_equal(ew_map64_put(m, UINT64_MAX, &vals[2]), 0);
	assert_ptr_equal(ew_map64_get(m, UINT64_MAX), &vals[2]);
	assert_int_equal(ew_map64_put(m, 0, &vals[0]), 0);
	assert_ptr_equal(ew_map64_get(m, 0), &vals[0]);
	assert_int_equal(ew_map64_put(m, 42, NULL), -EINVAL);
	assert_null(ew_map64_get(m, 42));
	assert_int_equal(ew_map64_count(m), 2502);
	ew_map64_free(m);
	ew_map64_free(NULL);
}

#define NKEYS 600

struct ref {
	uint64_t key[NKEYS];
	bool present[NKEYS];
	size_t seen;
	int vals[NKEYS];
};

static void count_cb(void *ctx, uint64_t key, void *val)
{
	struct ref *r = ctx;
	int i = (int)((int *)val - r->vals);

	assert_true(i >= 0 && i < NKEYS);
	assert_true(r->present[i]);
	assert_int_equal(key, r->key[i]);
	r->seen++;
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * Random puts, replaces and deletes against a reference, the map growing through several sizes
 * and draining again: every key stays findable, every deleted one is gone, and the count and the
 * iteration agree with the reference. Half the keys are consecutive (serials), half spread over
 * all 64 bits, 0 and UINT64_MAX among them, so that runs form, wrap and break apart.
 */
static void test_map64_random(void **state)
{
	struct ew_map64 *m = ew_map64_new();
	struct ref *r = calloc(1, sizeof(*r));
	uint64_t x = 88172645463325252ULL;
	size_t count = 0;

	(void)state;
	assert_non_null(m);
	assert_non_null(r);
	for (int i = 0; i < NKEYS; i++)
		r->key[i] = i % 2 ? 1000 + (uint64_t)i : xorshift(&x);
	r->key[0] = 0;
	r->key[2] = UINT64_MAX;
	for (int step = 0; step < 200000; step++) {
		uint64_t y = xorshift(&x);
		/* Phases that fill and drain. */
		int i = (int)(y % ((step / 20000) % 2 ? NKEYS : NKEYS / 8));
		int op = (int)(y >> 32) % 10;

		if (op < 5 - ((step / 20000) % 2) * 2) {
			assert_int_equal(ew_map64_put(m, r->key[i], &r->vals[i]), 0);
			count += !r->present[i];
			r->present[i] = true;
		} else if (op < 8) {
			assert_ptr_equal(ew_map64_del(m, r->key[i]),
					 r->present[i] ? &r->vals[i] : NULL);
			count -= r->present[i];
			r->present[i] = false;
		} else {
			assert_ptr_equal(ew_map64_get(m, r->key[i]),
					 r->present[i] ? &r->vals[i] : NULL);
		}
		assert_int_equal(ew_map64_count(m), count);
		if (step % 5000 == 0) {
			for (int k = 0; k < NKEYS; k++)
				assert_ptr_equal(ew_map64_get(m, r->key[k]),
						 r->present[k] ? &r->vals[k] : NULL);
			r->seen = 0;
			ew_map64_foreach(m, count_cb, r);
			assert_int_equal(r->seen, count);
		}
	}
	ew_map64_free(m);
	free(r);
}

/* The same history gives the same iteration order. */
static void order_cb(void *ctx, uint64_t key, void *val)
{
	uint64_t **p = ctx;

	(void)val;
	*(*p)++ = key;
}

static void test_map64_order(void **state)
{
	static uint64_t a[200], b[200];
	static int v;
	uint64_t *p;

	(void)state;
	for (int round = 0; round < 2; round++) {
		struct ew_map64 *m = ew_map64_new();

		assert_non_null(m);
		for (uint64_t i = 0; i < 200; i++)
			assert_int_equal(ew_map64_put(m, i * 0x10001, &v), 0);
		for (uint64_t i = 0; i < 200; i += 3)
			assert_ptr_equal(ew_map64_del(m, i * 0x10001), &v);
		p = round ? b : a;
		ew_map64_foreach(m, order_cb, &p);
		assert_int_equal(p - (round ? b : a), 133);
		ew_map64_free(m);
	}
	assert_memory_equal(a, b, sizeof(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map64),
		cmocka_unit_test(test_map64_random),
		cmocka_unit_test(test_map64_order),
	};

	return cmocka_run_group_tests_name("map64", tests, NULL, NULL);
}
