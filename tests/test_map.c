// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The hash map (src/util/map.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exitwatch/util/map.h"

/* The map the resolver and the detector keep their state in. */
static void test_map(void **state)
{
	struct ew_map *m = ew_map_new();
	int vals[5000];

	(void)state;
	assert_non_null(m);
	for (int i = 0; i < 5000; i++) {
		vals[i] = i;
		assert_int_equal(ew_map_put_u64(m, (uint64_t)i * 7919, &vals[i]), 0);
	}
	assert_int_equal(ew_map_count(m), 5000);
	for (int i = 0; i < 5000; i++)
		assert_ptr_equal(ew_map_get_u64(m, (uint64_t)i * 7919), &vals[i]);
	assert_null(ew_map_get_u64(m, 1));
	assert_int_equal(ew_map_put_u64(m, 0, &vals[1]), 0); /* replace */
	assert_ptr_equal(ew_map_get_u64(m, 0), &vals[1]);
	assert_int_equal(ew_map_count(m), 5000);
	for (int i = 0; i < 5000; i += 2)
		assert_ptr_equal(ew_map_del_u64(m, (uint64_t)i * 7919), i ? &vals[i] : &vals[1]);
	assert_int_equal(ew_map_count(m), 2500);
	assert_null(ew_map_del_u64(m, 0));
	assert_int_equal(ew_map_put(m, "key", 3, &vals[3]), 0);
	assert_ptr_equal(ew_map_get(m, "key", 3), &vals[3]);
	assert_null(ew_map_get(m, "ke", 2));
	ew_map_free(m);
	ew_map_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map),
	};

	return cmocka_run_group_tests_name("map", tests, NULL, NULL);
}
