// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The hash map (src/util/map.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exitwatch/util/map.h"

/* Integers as byte strings (integer keys have ew_map64: test_map64.c). */
static void *get_u64(const struct ew_map *m, uint64_t k)
{
	return ew_map_get(m, &k, sizeof(k));
}

static int put_u64(struct ew_map *m, uint64_t k, void *v)
{
	return ew_map_put(m, &k, sizeof(k), v);
}

static void *del_u64(struct ew_map *m, uint64_t k)
{
	return ew_map_del(m, &k, sizeof(k));
}

/* The map the detector keeps its identities and workloads in. */
static void test_map(void **state)
{
	struct ew_map *m = ew_map_new();
	int vals[5000];

	(void)state;
	assert_non_null(m);
	for (int i = 0; i < 5000; i++) {
		vals[i] = i;
		assert_int_equal(put_u64(m, (uint64_t)i * 7919, &vals[i]), 0);
	}
	assert_int_equal(ew_map_count(m), 5000);
	for (int i = 0; i < 5000; i++)
		assert_ptr_equal(get_u64(m, (uint64_t)i * 7919), &vals[i]);
	assert_null(get_u64(m, 1));
	assert_int_equal(put_u64(m, 0, &vals[1]), 0); /* replace */
	assert_ptr_equal(get_u64(m, 0), &vals[1]);
	assert_int_equal(ew_map_count(m), 5000);
	for (int i = 0; i < 5000; i += 2)
		assert_ptr_equal(del_u64(m, (uint64_t)i * 7919), i ? &vals[i] : &vals[1]);
	assert_int_equal(ew_map_count(m), 2500);
	assert_null(del_u64(m, 0));
	assert_int_equal(ew_map_put(m, "key", 3, &vals[3]), 0);
	assert_ptr_equal(ew_map_get(m, "key", 3), &vals[3]);
	assert_null(ew_map_get(m, "ke", 2));
	ew_map_free(m);
	ew_map_free(NULL);
}

#define NKEYS 600

struct ref {
	bool present[NKEYS];
	int *val[NKEYS];
	size_t seen;
	int vals[NKEYS];
};

/* Key i: a string of 1 to 40 bytes (every tail length of the hash), unique by its prefix. */
static size_t key_of(int i, char *out)
{
	size_t len = 1 + (size_t)(i * 7) % 40;
	int n = snprintf(out, 64, "%d/", i);

	for (size_t k = (size_t)n; k < len; k++)
		out[k] = (char)('a' + (i + (int)k) % 26);
	return len > (size_t)n ? len : (size_t)n;
}

static void count_cb(void *ctx, const void *key, size_t klen, void *val)
{
	struct ref *r = ctx;
	char buf[64];
	int i = (int)((int *)val - r->vals);

	assert_true(i >= 0 && i < NKEYS);
	assert_true(r->present[i]);
	assert_int_equal(klen, key_of(i, buf));
	assert_memory_equal(key, buf, klen);
	r->seen++;
}

/*
 * Random puts, replaces and deletes against a reference, with the map growing through several
 * sizes and draining again: every key stays findable, every deleted one is gone, the count and
 * the iteration agree with the reference, and keys returned by ew_map_put_ref() stay put across
 * growth.
 */
static void test_map_random(void **state)
{
	struct ew_map *m = ew_map_new();
	struct ref *r = calloc(1, sizeof(*r));
	const void *refs[NKEYS] = {0};
	uint64_t x = 88172645463325252ULL;
	size_t count = 0;
	char buf[64];

	(void)state;
	assert_non_null(m);
	assert_non_null(r);
	for (int step = 0; step < 200000; step++) {
		int i, op;
		size_t len;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* Phases that fill and drain, so runs form and break apart. */
		i = (int)(x % ((step / 20000) % 2 ? NKEYS : NKEYS / 8));
		op = (int)(x >> 32) % 10;
		len = key_of(i, buf);
		if (op < 5 - ((step / 20000) % 2) * 2) {
			const void *k;

			assert_int_equal(ew_map_put_ref(m, buf, len, &r->vals[i], &k), 0);
			assert_memory_equal(k, buf, len);
			if (r->present[i])
				assert_ptr_equal(k, refs[i]); /* a replace keeps the map's copy */
			refs[i] = k;
			count += !r->present[i];
			r->present[i] = true;
		} else if (op < 8) {
			assert_ptr_equal(ew_map_del(m, buf, len),
					 r->present[i] ? &r->vals[i] : NULL);
			count -= r->present[i];
			r->present[i] = false;
		} else {
			assert_ptr_equal(ew_map_get(m, buf, len),
					 r->present[i] ? &r->vals[i] : NULL);
		}
		assert_int_equal(ew_map_count(m), count);
		if (step % 5000 == 0) {
			for (int k = 0; k < NKEYS; k++) {
				len = key_of(k, buf);
				assert_ptr_equal(ew_map_get(m, buf, len),
						 r->present[k] ? &r->vals[k] : NULL);
				if (r->present[k])
					assert_memory_equal(refs[k], buf, len);
			}
			r->seen = 0;
			ew_map_foreach(m, count_cb, r);
			assert_int_equal(r->seen, count);
		}
	}
	ew_map_free(m);
	free(r);
}

/*
 * ew_map_move_h() between two maps, keys going back and forth at random as identities go to
 * sleep and wake: each key is in exactly one map (or none) with the value of its last move, the
 * map's copy of a key is the same pointer wherever it moved, and a move that cannot be made
 * (missing from src, already in dst) changes nothing.
 */
static void test_map_move(void **state)
{
	struct ew_map *m[2] = {ew_map_new(), ew_map_new()};
	static const void *refs[NKEYS];
	static int where[NKEYS], vals[2][NKEYS]; /* where: 0 none, 1 m[0], 2 m[1] */
	uint64_t x = 0x2545f4914f6cdd1dULL;
	size_t count[2] = {0, 0};
	char buf[64];

	(void)state;
	assert_non_null(m[0]);
	assert_non_null(m[1]);
	for (int step = 0; step < 100000; step++) {
		int i, op, a;
		size_t len;
		uint32_t h;
		const void *k = NULL;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		i = (int)(x % NKEYS);
		op = (int)((x >> 32) % 8);
		len = key_of(i, buf);
		h = ew_map_hash(buf, len);
		if (!where[i] || op == 0) {
			/* Put into one of them (or, when it is in one, delete it). */
			if (where[i]) {
				assert_ptr_equal(ew_map_del_h(m[where[i] - 1], buf, len, h),
						 &vals[where[i] - 1][i]);
				count[where[i] - 1]--;
				where[i] = 0;
				continue;
			}
			a = (int)(x >> 40) & 1;
			assert_int_equal(ew_map_put_ref(m[a], buf, len, &vals[a][i], &refs[i]), 0);
			count[a]++;
			where[i] = a + 1;
		} else {
			a = where[i] - 1;
			/* The wrong way: not in the other map, already in its own. */
			assert_int_equal(ew_map_move_h(m[a], m[!a], buf, len, h, NULL, &k),
					 -ENOENT);
			assert_int_equal(ew_map_move_h(m[a], m[a], buf, len, h, NULL, &k), -EEXIST);
			assert_null(k);
			assert_int_equal(ew_map_move_h(m[!a], m[a], buf, len, h, &vals[!a][i], &k),
					 0);
			assert_ptr_equal(k, refs[i]);
			count[a]--;
			count[!a]++;
			where[i] = !a + 1;
		}
		assert_int_equal(ew_map_count(m[0]), count[0]);
		assert_int_equal(ew_map_count(m[1]), count[1]);
		if (step % 5000 == 0) {
			for (int j = 0; j < NKEYS; j++) {
				len = key_of(j, buf);
				for (a = 0; a < 2; a++)
					assert_ptr_equal(ew_map_get(m[a], buf, len),
							 where[j] == a + 1 ? &vals[a][j] : NULL);
			}
		}
	}
	ew_map_free(m[0]);
	ew_map_free(m[1]);
}

/*
 * The _h calls with ew_map_hash()'s hash are the plain calls: a key put one way is found,
 * replaced and deleted the other. The map's copy of a key is a C string (the sleepers name
 * themselves by it), whatever bytes follow the key in the caller's buffer.
 */
static void test_map_hashed(void **state)
{
	struct ew_map *m = ew_map_new();
	char buf[] = "docker:abcdefXYZ";
	const char *k = "docker:abcdef";
	size_t kl = strlen(k);
	uint32_t h = ew_map_hash(k, kl);
	const void *ref;
	int a, b;

	(void)state;
	assert_non_null(m);
	assert_int_equal(h, ew_map_hash(buf, kl)); /* a function of the bytes only */
	assert_int_equal(ew_map_put_h(m, buf, kl, h, &a, &ref), 0);
	assert_string_equal(ref, k);
	assert_ptr_equal(ew_map_get(m, k, kl), &a);
	assert_ptr_equal(ew_map_get_h(m, k, kl, h), &a);
	assert_null(ew_map_get_h(m, buf, kl + 1, ew_map_hash(buf, kl + 1)));
	assert_int_equal(ew_map_put(m, k, kl, &b), 0); /* a replace, the same entry */
	assert_ptr_equal(ew_map_get_h(m, k, kl, h), &b);
	assert_int_equal(ew_map_count(m), 1);
	assert_ptr_equal(ew_map_del_h(m, k, kl, h), &b);
	assert_null(ew_map_get(m, k, kl));
	assert_int_equal(ew_map_put_ref(m, k, kl, &a, &ref), 0);
	assert_string_equal(ref, k);
	assert_ptr_equal(ew_map_del(m, buf, kl), &a);
	assert_int_equal(ew_map_count(m), 0);
	ew_map_free(m);
}

/* The same history gives the same iteration order: what the state file is written in. */
static void order_cb(void *ctx, const void *key, size_t klen, void *val)
{
	char **p = ctx;

	(void)val;
	memcpy(*p, key, klen);
	*p += klen;
	*(*p)++ = ',';
}

static void test_map_order(void **state)
{
	char a[8192], b[8192], *p;

	(void)state;
	for (int round = 0; round < 2; round++) {
		struct ew_map *m = ew_map_new();
		char key[64];

		assert_non_null(m);
		for (int i = 0; i < 200; i++)
			assert_int_equal(ew_map_put(m, key, key_of(i, key), NULL), 0);
		for (int i = 0; i < 200; i += 3)
			ew_map_del(m, key, key_of(i, key));
		p = round ? b : a;
		ew_map_foreach(m, order_cb, &p);
		*p = '\0';
		ew_map_free(m);
	}
	assert_string_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map),	  cmocka_unit_test(test_map_random),
		cmocka_unit_test(test_map_move),  cmocka_unit_test(test_map_hashed),
		cmocka_unit_test(test_map_order),
	};

	return cmocka_run_group_tests_name("map", tests, NULL, NULL);
}
