// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * src/util/buf.c: the growable byte buffer every renderer and output writes into. It doubles,
 * keeps a NUL after its bytes, and a failed allocation is sticky until a reset, so a writer
 * checks once at the end.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exitwatch/util/buf.h"

static void test_buf_init_free(void **state)
{
	struct ew_buf b = EW_BUF_INIT;

	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_false(ew_buf_failed(&b));
	/* An empty append still allocates, so data is a valid empty C string afterwards. */
	assert_int_equal(ew_buf_append(&b, NULL, 0), 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	ew_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.cap, 0);
	ew_buf_free(&b);
	ew_buf_free(NULL);
}

static void test_buf_growth_doubles(void **state)
{
	struct ew_buf b = EW_BUF_INIT;
	size_t old_cap = 0, grows = 0;

	for (size_t i = 0; i < 5000; i++) {
		assert_int_equal(ew_buf_putc(&b, (char)('a' + i % 26)), 0);
		if (b.cap != old_cap) {
			if (old_cap)
				assert_int_equal(b.cap, 2 * old_cap);
			old_cap = b.cap;
			grows++;
		}
		assert_true(b.cap >= b.len + 1);
		assert_int_equal(b.data[b.len], '\0');
	}
	assert_int_equal(b.len, 5000);
	for (size_t i = 0; i < 5000; i++)
		assert_int_equal(b.data[i], 'a' + i % 26);
	/* Doubling: ~log2(5000) reallocations, not one per byte. */
	assert_in_range(grows, 2, 14);
	ew_buf_free(&b);
}

static void test_buf_append_puts_printf(void **state)
{
	struct ew_buf b = EW_BUF_INIT;
	char big[3000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(ew_buf_append(&b, "ab\0c", 4), 0);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "ab\0c", 5);
	assert_int_equal(ew_buf_puts(&b, "de"), 0);
	assert_int_equal(ew_buf_printf(&b, "%d|%s|%.2f", -42, "z", 0.5), 0);
	assert_int_equal(b.len, 4 + 2 + 10);
	assert_memory_equal(b.data, "ab\0cde-42|z|0.50", b.len + 1);
	/* Longer than the spare room: formatted again after growing. */
	assert_int_equal(ew_buf_printf(&b, "<%s>", big), 0);
	assert_int_equal(b.len, 16 + 2 + 2999);
	assert_int_equal(b.data[16], '<');
	assert_int_equal(b.data[17 + 2998], 'x');
	assert_int_equal(b.data[b.len - 1], '>');
	assert_int_equal(b.data[b.len], '\0');
	assert_true(b.cap >= b.len + 1);
	ew_buf_free(&b);
}

static void test_buf_failed_is_sticky(void **state)
{
	struct ew_buf b = EW_BUF_INIT;
	char *data;
	size_t cap;

	assert_int_equal(ew_buf_puts(&b, "abc"), 0);
	data = b.data;
	cap = b.cap;
	/* len + SIZE_MAX + 1 overflows: the allocation "fails" without asking malloc. */
	assert_int_equal(ew_buf_reserve(&b, SIZE_MAX), -ENOMEM);
	assert_true(ew_buf_failed(&b));
	assert_int_equal(ew_buf_reserve(&b, 1), -ENOMEM);
	assert_int_equal(ew_buf_append(&b, "d", 1), -ENOMEM);
	assert_int_equal(ew_buf_putc(&b, 'd'), -ENOMEM);
	assert_int_equal(ew_buf_puts(&b, "d"), -ENOMEM);
	assert_int_equal(ew_buf_printf(&b, "%d", 1), -ENOMEM);
	assert_true(ew_buf_failed(&b));
	assert_int_equal(b.len, 3);
	assert_string_equal(b.data, "abc");

	/* reset clears failed, empties, and keeps the allocation. */
	ew_buf_reset(&b);
	assert_false(ew_buf_failed(&b));
	assert_int_equal(b.len, 0);
	assert_ptr_equal(b.data, data);
	assert_int_equal(b.cap, cap);
	assert_string_equal(b.data, "");
	assert_int_equal(ew_buf_puts(&b, "z"), 0);
	assert_string_equal(b.data, "z");
	ew_buf_free(&b);
}

/* An append undone: the bytes before it, failed cleared, and the fast path usable again. */
static void test_buf_truncate(void **state)
{
	struct ew_buf b = EW_BUF_INIT;

	(void)state;
	ew_buf_truncate(&b, 0); /* no allocation yet: still none */
	assert_null(b.data);
	assert_false(ew_buf_fits(&b, 0));
	assert_int_equal(ew_buf_puts(&b, "abc"), 0);
	assert_true(ew_buf_fits(&b, b.cap - b.len - 1));
	assert_false(ew_buf_fits(&b, b.cap - b.len));
	assert_int_equal(ew_buf_reserve(&b, SIZE_MAX), -ENOMEM);
	/* Failed: no room for a byte, whatever the allocation holds. */
	assert_false(ew_buf_fits(&b, 0));
	assert_int_equal(ew_buf_append(&b, "d", 1), -ENOMEM);
	assert_int_equal(b.len, 3);
	ew_buf_truncate(&b, 1);
	assert_false(ew_buf_failed(&b));
	assert_int_equal(b.len, 1);
	assert_string_equal(b.data, "a");
	assert_true(ew_buf_fits(&b, 1));
	assert_int_equal(ew_buf_putc(&b, 'z'), 0);
	assert_int_equal(ew_buf_printf(&b, "%d", 42), 0);
	assert_string_equal(b.data, "az42");
	/* A failed printf() is sticky too, and a reset clears it. */
	assert_int_equal(ew_buf_reserve(&b, SIZE_MAX), -ENOMEM);
	assert_int_equal(ew_buf_printf(&b, "%d", 1), -ENOMEM);
	ew_buf_reset(&b);
	assert_true(ew_buf_fits(&b, 1));
	assert_int_equal(ew_buf_putc(&b, 'y'), 0);
	assert_string_equal(b.data, "y");
	ew_buf_free(&b);
	assert_false(ew_buf_fits(&b, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_init_free),
		cmocka_unit_test(test_buf_growth_doubles),
		cmocka_unit_test(test_buf_append_puts_printf),
		cmocka_unit_test(test_buf_failed_is_sticky),
		cmocka_unit_test(test_buf_truncate),
	};

	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
