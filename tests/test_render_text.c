// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The text renderer: src/render/render_text.c (one terminal line per record, for -f text):
 * exact lines of docs/schema.md's records with and without colour, and workload strings that
 * must not reach a terminal as controls.
 */
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

#include "exitwatch/render/render_text.h"
#include "render_fixture.h"

static void check_text_line(const struct ew_buf *b, bool colour, const char *sgr)
{
	size_t esc = 0;

	assert_true(b->len > 25);
	assert_int_equal(strlen(b->data), b->len);
	assert_int_equal(b->data[b->len - 1], '\n');
	assert_ptr_equal(strchr(b->data, '\n'), b->data + b->len - 1);
	assert_null(strchr(b->data, '\r'));
	for (size_t i = 0; i + 1 < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];

		if (c == 0x1b && colour) {
			esc++;
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			fail_msg("raw byte 0x%02x at %zu: %s", c, i, show(b->data, b->len));
	}
	if (colour) {
		const char *reset = strstr(b->data, "\033[0m");

		assert_int_equal(esc, 2);
		/* "<time> <colour>SEVERITY<reset> ": both right around the severity column. */
		assert_memory_equal(b->data + 25, sgr, strlen(sgr));
		assert_ptr_equal(reset, b->data + 25 + strlen(sgr) + 8);
		assert_ptr_equal(strchr(b->data, 0x1b), b->data + 25);
		assert_ptr_equal(strchr(b->data + 26, 0x1b), reset);
	}
}

static void test_hostile_text(void **state)
{
	struct fx *fx = *state;
	struct ew_record r;

	hostile_exit(fx, &r);
	for (int colour = 0; colour < 2; colour++) {
		ew_buf_reset(&fx->out);
		assert_int_equal(ew_render_text(&r, &fx->ctx, colour, &fx->out), 0);
		check_text_line(&fx->out, colour, "\033[36m"); /* NOTICE */
		/* The container column: the name's first 24 bytes, control bytes as '?'. */
		assert_non_null(
			strstr(fx->out.data, " w??[31m??\"}{\"event\":\"for container_exit  "));
		assert_non_null(strstr(fx->out.data, "; last stderr: " FORGE " [2J boom "));
	}
	hostile_start(fx, &r);
	for (int colour = 0; colour < 2; colour++) {
		ew_buf_reset(&fx->out);
		assert_int_equal(ew_render_text(&r, &fx->ctx, colour, &fx->out), 0);
		check_text_line(&fx->out, colour, "\033[2m"); /* INFO */
		assert_non_null(strstr(fx->out.data, " container_start "));
	}
}

/*
 * What a terminal could still act on after the C0 controls: C1 controls sent as UTF-8 (U+009B
 * is CSI to a terminal that takes 8-bit controls), broken UTF-8, and a character the
 * 24-byte container column cuts in half. Well-formed text (here "é", U+00E9) passes.
 */
static void test_text_terminal_safe(void **state)
{
	struct fx *fx = *state;
	struct ew_record r = doc_exit_record(fx);

	/* 23 bytes, then the 2-byte "é" across the column's end. */
	docker_identity(&fx->id, "/docker/" EXIT_CID, 34510,
			"caf\xc3\xa9-\xc2\x9b"
			"31m-\xc3(-abcdefgh\xc3\xa9",
			"img:1", "", "", "");
	for (int colour = 0; colour < 2; colour++) {
		ew_buf_reset(&fx->out);
		assert_int_equal(ew_render_text(&r, &fx->ctx, colour, &fx->out), 0);
		check_text_line(&fx->out, colour, "\033[33m"); /* WARNING */
		assert_null(strstr(fx->out.data, "\xc2\x9b"));
		/* The column: é kept, CSI and the stray lead byte shown as '?', the cut é as '?'. */
		assert_non_null(
			strstr(fx->out.data, " caf\xc3\xa9-?31m-?(-abcdefgh? container_exit "));
		/* The message keeps the name whole, with the same replacements. */
		assert_non_null(
			strstr(fx->out.data, " caf\xc3\xa9-?31m-?(-abcdefgh\xc3\xa9 (docker "));
	}
}

/* The text line of the doc's exit, exactly, without and with colour. */
static void test_text_exact(void **state)
{
	struct fx *fx = *state;
	struct ew_record r = doc_exit_record(fx);
	const char *msg = "ewtest-11056-0 (docker 6be817fa19cd) exited with code 3 (config_error) "
			  "after 0ms: " EXIT_MEANING "; last stderr: ModuleNotFoundError: No "
			  "module named 'app.services.monitoring'\n";
	char want[2048];

	assert_int_equal(ew_render_text(&r, &fx->ctx, false, &fx->out), 0);
	snprintf(want, sizeof(want), "2026-11-29T12:15:28.853Z WARNING  %-24s %-15s %s",
		 "ewtest-11056-0", "container_exit", msg);
	assert_string_equal(fx->out.data, want);
	check_text_line(&fx->out, false, NULL);

	ew_buf_reset(&fx->out);
	assert_int_equal(ew_render_text(&r, &fx->ctx, true, &fx->out), 0);
	snprintf(want, sizeof(want),
		 "2026-11-29T12:15:28.853Z \033[33mWARNING \033[0m %-24s %-15s %s",
		 "ewtest-11056-0", "container_exit", msg);
	assert_string_equal(fx->out.data, want);
	check_text_line(&fx->out, true, "\033[33m");
}

/* The records the JSON renderer refuses: the text renderer refuses them too, writing nothing. */
static void test_invalid_records(void **state)
{
	struct fx *fx = *state;
	struct ew_record ok = doc_exit_record(fx);
	struct ew_record bad[EW_BAD_RECORDS];
	size_t n = bad_records(fx, &ok, bad);

	for (size_t i = 0; i < n; i++) {
		ew_buf_reset(&fx->out);
		assert_int_equal(ew_render_text(&bad[i], &fx->ctx, false, &fx->out), -EINVAL);
		assert_int_equal(fx->out.len, 0);
	}
	assert_int_equal(ew_render_text(&ok, &fx->ctx, false, &fx->out), 0);
	check_text_line(&fx->out, false, NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_hostile_text),
		T(test_text_terminal_safe),
		T(test_text_exact),
		T(test_invalid_records),
	};

	return cmocka_run_group_tests_name("render_text", tests, NULL, NULL);
}
