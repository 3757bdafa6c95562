// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests for src/core/json_writer.c (the buffer it writes into, src/util/buf.c, has
 * tests/test_buf.c). The escaper
 * is checked three ways: hand-computed tables (expected values cross-checked against Python's
 * bytes.decode("utf-8", "replace"), which substitutes maximal subparts the same way), and a
 * property test that parses every record back with json-c and compares the decoded string with
 * an independent, table-built reference of the U+FFFD substitution.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "exitwatch/util/buf.h"
#include "exitwatch/core/json_writer.h"
#include "exitwatch/util/util.h"
#include "harness/unit.h"

/* U+FFFD as raw UTF-8. A separate literal, so that a following hex digit is not swallowed. */
#define R "\xef\xbf\xbd"

struct fixture {
	struct ew_buf buf;
	struct ew_jsonw w;
};

static int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	ew_buf_init(&f->buf);
	ew_jsonw_init(&f->w, &f->buf);
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	ew_buf_free(&f->buf);
	free(f);
	return 0;
}

static const char *buf_str(const struct ew_buf *b)
{
	return b->data ? b->data : "";
}

/* Names the failing case and shows expected vs got, byte-exact. */
static void check_bytes(const char *what, const char *got, size_t got_len, const char *exp,
			size_t exp_len)
{
	if (got_len != exp_len || memcmp(got, exp, exp_len) != 0)
		fail_msg("%s: expected [%.*s] (%zu bytes), got [%.*s] (%zu bytes)", what,
			 (int)exp_len, exp, exp_len, (int)got_len, got, got_len);
}

/* ---- escaper: tables ------------------------------------------------------------------- */

struct esc_case {
	const char *name;
	const char *in;
	size_t len;
	const char *out;
};

#define ESC(name, in, out)                    \
	{                                     \
		name, in, sizeof(in) - 1, out \
	}

static const struct esc_case esc_cases[] = {
	ESC("empty", "", ""),
	ESC("plain ascii", "hello, world", "hello, world"),
	ESC("quote", "a\"b", "a\\\"b"),
	ESC("backslash", "back\\slash", "back\\\\slash"),
	ESC("backslash quote", "\\\"", "\\\\\\\""),
	ESC("trailing backslash", "x\\", "x\\\\"),
	ESC("single quote unchanged", "it's", "it's"),
	ESC("slash unchanged", "/a/b", "/a/b"),
	ESC("newline", "line1\nline2", "line1\\nline2"),
	ESC("crlf", "\r\n", "\\r\\n"),
	ESC("ansi color", "\x1b[31mred\x1b[0m", "\\u001b[31mred\\u001b[0m"),
	ESC("nul inside", "a\0b", "a\\u0000b"),
	ESC("del", "a\x7f", "a\\u007f"),
	/* Valid UTF-8 passes through, including every boundary of Table 3-7. */
	ESC("2-byte e acute", "caf\xc3\xa9", "caf\xc3\xa9"),
	ESC("3-byte euro", "\xe2\x82\xac", "\xe2\x82\xac"),
	ESC("4-byte emoji", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"),
	ESC("U+0080", "\xc2\x80", "\xc2\x80"),
	ESC("U+07FF", "\xdf\xbf", "\xdf\xbf"),
	ESC("U+0800", "\xe0\xa0\x80", "\xe0\xa0\x80"),
	ESC("U+D7FF", "\xed\x9f\xbf", "\xed\x9f\xbf"),
	ESC("U+E000", "\xee\x80\x80", "\xee\x80\x80"),
	ESC("U+FFFD itself", R, R),
	ESC("U+FFFF", "\xef\xbf\xbf", "\xef\xbf\xbf"),
	ESC("U+10000", "\xf0\x90\x80\x80", "\xf0\x90\x80\x80"),
	ESC("U+10FFFF", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"),
	/* Line and paragraph separators end lines in JavaScript: escaped. */
	ESC("U+2028", "a\xe2\x80\xa8z", "a\\u2028z"),
	ESC("U+2029", "\xe2\x80\xa9", "\\u2029"),
	ESC("U+2027 unchanged", "\xe2\x80\xa7", "\xe2\x80\xa7"),
	ESC("U+202A unchanged", "\xe2\x80\xaa", "\xe2\x80\xaa"),
	/* Stray continuation bytes: one U+FFFD each. */
	ESC("stray 80", "\x80", R),
	ESC("stray bf between ascii",
	    "a\xbf"
	    "b",
	    "a" R "b"),
	ESC("two stray", "\x80\x80", R R),
	/* Overlong forms: the lead cannot start a well-formed sequence with that second byte. */
	ESC("overlong C0 80", "\xc0\x80", R R),
	ESC("overlong C1 BF", "\xc1\xbf", R R),
	ESC("overlong E0 80 80", "\xe0\x80\x80", R R R),
	ESC("overlong E0 9F BF", "\xe0\x9f\xbf", R R R),
	ESC("overlong F0 80 80 80", "\xf0\x80\x80\x80", R R R R),
	ESC("overlong F0 8F BF BF", "\xf0\x8f\xbf\xbf", R R R R),
	/* UTF-16 surrogates encoded as UTF-8 (CESU-8). */
	ESC("surrogate ED A0 80", "\xed\xa0\x80", R R R),
	ESC("surrogate ED BF BF", "\xed\xbf\xbf", R R R),
	ESC("surrogate pair", "\xed\xa0\x80\xed\xb0\x80", R R R R R R),
	/* Beyond U+10FFFF and bytes that never start a sequence. */
	ESC("F4 90 80 80", "\xf4\x90\x80\x80", R R R R),
	ESC("F5 80 80 80", "\xf5\x80\x80\x80", R R R R),
	ESC("5-byte F8", "\xf8\x88\x80\x80\x80", R R R R R),
	ESC("FE", "\xfe", R),
	ESC("FF", "a\xff", "a" R),
	/* Truncated sequences: one U+FFFD for the whole maximal subpart. */
	ESC("truncated 2 at end", "\xc3", R),
	ESC("truncated 3 at end", "ab\xe2\x82", "ab" R),
	ESC("truncated 4 at end", "\xf0\x9f\x98", R),
	ESC("truncated 2 before ascii",
	    "\xc3"
	    "A",
	    R "A"),
	ESC("truncated 3 before ascii",
	    "\xe2\x82"
	    "A",
	    R "A"),
	ESC("truncated 3 after lead",
	    "\xe2"
	    "A",
	    R "A"),
	ESC("truncated 4 before ascii",
	    "\xf0\x9f\x98"
	    "A",
	    R "A"),
	ESC("truncated before newline", "\xe2\n", R "\\n"),
	ESC("truncated before quote", "\xc3\"", R "\\\""),
	ESC("truncated before lead", "\xe2\x82\xc3\xa9", R "\xc3\xa9"),
	ESC("truncated 4 before 3", "\xf0\x9f\xe2\x82\xac", R "\xe2\x82\xac"),
	/* Unicode 15, Table 3-8. */
	ESC("table 3-8",
	    "a\xf1\x80\x80\xe1\x80\xc2"
	    "b\x80"
	    "c\x80\xbf"
	    "d",
	    "a" R R R "b" R "c" R R "d"),
};

static void test_escape_table(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(esc_cases); i++) {
		const struct esc_case *c = &esc_cases[i];

		ew_buf_reset(&f->buf);
		assert_int_equal(ew_json_escape(&f->buf, c->in, c->len), 0);
		assert_non_null(f->buf.data);
		check_bytes(c->name, f->buf.data, f->buf.len, c->out, strlen(c->out));
		assert_int_equal(f->buf.data[f->buf.len], '\0');
	}
}

/* Expected escape of every byte 0x00..0x1f. */
static const char *const ctl_escapes[32] = {
	"\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
	"\\b",	   "\\t",     "\\n",	 "\\u000b", "\\f",     "\\r",	  "\\u000e", "\\u000f",
	"\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
	"\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
};

static void test_escape_control_bytes(void **state)
{
	struct fixture *f = *state;
	char exp[16], name[32];

	for (unsigned int c = 0; c <= 0x7f; c++) {
		const char in[3] = {'a', (char)c, 'b'};
		const char *esc;

		if (c < 0x20)
			esc = ctl_escapes[c];
		else if (c == 0x7f)
			esc = "\\u007f";
		else
			continue;
		snprintf(exp, sizeof(exp), "a%sb", esc);
		snprintf(name, sizeof(name), "byte 0x%02x", c);
		ew_buf_reset(&f->buf);
		assert_int_equal(ew_json_escape(&f->buf, in, sizeof(in)), 0);
		check_bytes(name, f->buf.data, f->buf.len, exp, strlen(exp));
	}
}

static void test_escape_rejects_null_with_length(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ew_json_escape(&f->buf, NULL, 1), -EINVAL);
	assert_int_equal(ew_json_escape(&f->buf, NULL, 0), 0);
	assert_int_equal(f->buf.len, 0);
}

/* ---- writer: structure ----------------------------------------------------------------- */

static void test_writer_nested(void **state)
{
	static const char exp[] = "{\"schema\":1,\"a\\\"b\":[1,-2,{\"c\":[]},[],\"x\",null],"
				  "\"d\":{},\"e\":{\"f\":null,\"g\":true,\"h\":false,\"i\":\"v\"},"
				  "\"n\":\"a\\u0000b\",\"z\":1.50}";
	struct fixture *f = *state;
	struct ew_jsonw *w = &f->w;
	json_object *obj, *v;

	ew_jsonw_start_object(w);
	ew_jsonw_uint_field(w, "schema", 1);
	ew_jsonw_name(w, "a\"b");
	ew_jsonw_start_array(w);
	ew_jsonw_uint(w, 1);
	ew_jsonw_int(w, -2);
	ew_jsonw_start_object(w);
	ew_jsonw_name(w, "c");
	ew_jsonw_start_array(w);
	ew_jsonw_end_array(w);
	ew_jsonw_end_object(w);
	ew_jsonw_start_array(w);
	ew_jsonw_end_array(w);
	ew_jsonw_string(w, "x");
	ew_jsonw_null(w);
	ew_jsonw_end_array(w);
	ew_jsonw_name(w, "d");
	ew_jsonw_start_object(w);
	ew_jsonw_end_object(w);
	ew_jsonw_name(w, "e");
	ew_jsonw_start_object(w);
	ew_jsonw_null_field(w, "f");
	ew_jsonw_bool_field(w, "g", true);
	ew_jsonw_bool_field(w, "h", false);
	ew_jsonw_string_field(w, "i", "v");
	ew_jsonw_end_object(w);
	ew_jsonw_string_n_field(w, "n", "a\0b", 3);
	ew_jsonw_double_field(w, "z", 1.5, 2);
	ew_jsonw_end_object(w);

	assert_int_equal(ew_jsonw_finish(w), 0);
	assert_int_equal(w->depth, 0);
	check_bytes("nested", f->buf.data, f->buf.len, exp, sizeof(exp) - 1);

	/* And a real parser agrees on the structure. */
	obj = json_tokener_parse(f->buf.data);
	assert_non_null(obj);
	assert_true(json_object_object_get_ex(obj, "a\"b", &v));
	assert_int_equal(json_object_array_length(v), 6);
	assert_true(json_object_object_get_ex(obj, "n", &v));
	assert_int_equal(json_object_get_string_len(v), 3);
	assert_memory_equal(json_object_get_string(v), "a\0b", 3);
	json_object_put(obj);
}

struct num_case {
	const char *name;
	enum {
		NUM_UINT,
		NUM_INT,
		NUM_DOUBLE
	} kind;
	uint64_t u;
	int64_t i;
	double d;
	int decimals;
	const char *out;
};

static const struct num_case num_cases[] = {
	{"uint 0", NUM_UINT, 0, 0, 0, 0, "0"},
	{"uint 42", NUM_UINT, 42, 0, 0, 0, "42"},
	{"uint max", NUM_UINT, UINT64_MAX, 0, 0, 0, "18446744073709551615"},
	{"int 0", NUM_INT, 0, 0, 0, 0, "0"},
	{"int -1", NUM_INT, 0, -1, 0, 0, "-1"},
	{"int min", NUM_INT, 0, INT64_MIN, 0, 0, "-9223372036854775808"},
	{"int max", NUM_INT, 0, INT64_MAX, 0, 0, "9223372036854775807"},
	{"double 0 dec", NUM_DOUBLE, 0, 0, 3.75, 0, "4"},
	{"double zero", NUM_DOUBLE, 0, 0, 0.0, 0, "0"},
	{"double 3 dec", NUM_DOUBLE, 0, 0, 3.14159, 3, "3.142"},
	{"double 9 dec", NUM_DOUBLE, 0, 0, 1234.5678, 9, "1234.567800000"},
	{"double ns", NUM_DOUBLE, 0, 0, 1.000000001, 9, "1.000000001"},
	{"double negative", NUM_DOUBLE, 0, 0, -0.5, 3, "-0.500"},
	{"double tiny negative", NUM_DOUBLE, 0, 0, -0.0001, 3, "0.000"},
	{"double minus zero", NUM_DOUBLE, 0, 0, -0.0, 0, "0"},
	{"double large", NUM_DOUBLE, 0, 0, 1e20, 0, "100000000000000000000"},
	{"double NaN", NUM_DOUBLE, 0, 0, NAN, 3, "null"},
	{"double inf", NUM_DOUBLE, 0, 0, INFINITY, 3, "null"},
	{"double -inf", NUM_DOUBLE, 0, 0, -INFINITY, 0, "null"},
};

static void write_num(struct ew_jsonw *w, const struct num_case *c)
{
	switch (c->kind) {
	case NUM_UINT:
		ew_jsonw_uint(w, c->u);
		break;
	case NUM_INT:
		ew_jsonw_int(w, c->i);
		break;
	case NUM_DOUBLE:
		ew_jsonw_double(w, c->d, c->decimals);
		break;
	}
}

static void test_writer_numbers(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(num_cases); i++) {
		const struct num_case *c = &num_cases[i];
		char exp[64];

		/* As the top-level value... */
		ew_buf_reset(&f->buf);
		ew_jsonw_init(&f->w, &f->buf);
		write_num(&f->w, c);
		assert_int_equal(ew_jsonw_finish(&f->w), 0);
		check_bytes(c->name, f->buf.data, f->buf.len, c->out, strlen(c->out));

		/* ...and as the second member of an object (comma, no spaces). */
		ew_buf_reset(&f->buf);
		ew_jsonw_init(&f->w, &f->buf);
		ew_jsonw_start_object(&f->w);
		ew_jsonw_bool_field(&f->w, "a", true);
		ew_jsonw_name(&f->w, "v");
		write_num(&f->w, c);
		ew_jsonw_end_object(&f->w);
		assert_int_equal(ew_jsonw_finish(&f->w), 0);
		snprintf(exp, sizeof(exp), "{\"a\":true,\"v\":%s}", c->out);
		check_bytes(c->name, f->buf.data, f->buf.len, exp, strlen(exp));
	}
}

/* Fixed-point numbers from integers: exact, and checked against printf of the same value. */
static void test_writer_fixed(void **state)
{
	static const struct {
		int64_t units;
		int decimals;
		const char *out;
	} cases[] = {
		{0, 3, "0.000"},
		{5, 3, "0.005"},
		{50, 3, "0.050"},
		{1234567, 3, "1234.567"},
		{-5, 3, "-0.005"},
		{-1234567, 3, "-1234.567"},
		{7, 0, "7"},
		{-7, 0, "-7"},
		{1000, 3, "1.000"},
		{INT64_MAX, 3, "9223372036854775.807"},
		{INT64_MIN, 3, "-9223372036854775.808"},
		{42, 18, "0.000000000000000042"},
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		ew_buf_reset(&f->buf);
		ew_jsonw_init(&f->w, &f->buf);
		ew_jsonw_fixed(&f->w, cases[i].units, cases[i].decimals);
		assert_int_equal(ew_jsonw_finish(&f->w), 0);
		assert_string_equal(f->buf.data, cases[i].out);
	}
	/* Against printf for a million millisecond values (exactly representable over 1000). */
	for (int64_t ms = -500000; ms < 500000; ms += 7) {
		char want[32];

		snprintf(want, sizeof(want), "%s%lld.%03lld", ms < 0 ? "-" : "",
			 (long long)(ms < 0 ? -ms : ms) / 1000,
			 (long long)(ms < 0 ? -ms : ms) % 1000);
		ew_buf_reset(&f->buf);
		ew_jsonw_init(&f->w, &f->buf);
		ew_jsonw_fixed(&f->w, ms, 3);
		assert_int_equal(ew_jsonw_finish(&f->w), 0);
		assert_string_equal(f->buf.data, want);
	}
	ew_buf_reset(&f->buf);
	ew_jsonw_init(&f->w, &f->buf);
	ew_jsonw_fixed(&f->w, 1, 19);
	assert_int_equal(ew_jsonw_finish(&f->w), -EINVAL);
}

/* The decimal point must not follow LC_NUMERIC. Needs a comma locale; skipped without one
 * except under CI=true. */
static void test_writer_double_ignores_locale(void **state)
{
	static const char *const locales[] = {"de_DE.UTF-8", "de_DE.utf8",  "fr_FR.UTF-8",
					      "fr_FR.utf8",  "ps_AF.UTF-8", "ps_AF.utf8"};
	struct fixture *f = *state;
	locale_t loc = (locale_t)0, old;
	char probe[16];

	/* A thread locale, not setlocale(): the process-wide locale stays "C" for json-c. */
	for (size_t i = 0; i < ARRAY_SIZE(locales) && !loc; i++)
		loc = newlocale(LC_NUMERIC_MASK, locales[i], (locale_t)0);
	/* CI generates de_DE.UTF-8 (scripts/deps.sh test): there this test must run. */
	ew_t_need(loc != (locale_t)0,
		  "no comma-decimal locale (apt-get install locales; locale-gen de_DE.UTF-8)");
	old = uselocale(loc);
	snprintf(probe, sizeof(probe), "%.1f", 1.5);
	ew_jsonw_start_array(&f->w);
	ew_jsonw_double(&f->w, 3.5, 2);
	ew_jsonw_double(&f->w, -1234.25, 1);
	ew_jsonw_double(&f->w, 7.0, 0);
	ew_jsonw_end_array(&f->w);
	uselocale(old);
	freelocale(loc);

	assert_string_not_equal(probe, "1.5");
	assert_int_equal(ew_jsonw_finish(&f->w), 0);
	assert_string_equal(f->buf.data, "[3.50,-1234.2,7]");
}

/* ---- writer: misuse -------------------------------------------------------------------- */

static void drive_value_without_name(struct ew_jsonw *w)
{
	ew_jsonw_start_object(w);
	ew_jsonw_uint(w, 1);
	ew_jsonw_uint_field(w, "a", 2);
	ew_jsonw_end_object(w);
}

static void drive_value_after_value_in_object(struct ew_jsonw *w)
{
	ew_jsonw_start_object(w);
	ew_jsonw_uint_field(w, "a", 1);
	ew_jsonw_string(w, "b");
	ew_jsonw_end_object(w);
}

static void drive_name_in_array(struct ew_jsonw *w)
{
	ew_jsonw_start_array(w);
	ew_jsonw_uint(w, 1);
	ew_jsonw_name(w, "a");
	ew_jsonw_uint(w, 2);
	ew_jsonw_end_array(w);
}

static void drive_name_at_top(struct ew_jsonw *w)
{
	ew_jsonw_name(w, "a");
}

static void drive_name_after_name(struct ew_jsonw *w)
{
	ew_jsonw_start_object(w);
	ew_jsonw_name(w, "a");
	ew_jsonw_name(w, "b");
	ew_jsonw_uint(w, 1);
	ew_jsonw_end_object(w);
}

static void drive_null_name(struct ew_jsonw *w)
{
	ew_jsonw_start_object(w);
	ew_jsonw_name(w, NULL);
}

static void drive_dangling_name(struct ew_jsonw *w)
{
	ew_jsonw_start_object(w);
	ew_jsonw_name(w, "a");
	ew_jsonw_end_object(w);
}

static void drive_end_object_without_start(struct ew_jsonw *w)
{
	ew_jsonw_end_object(w);
}

static void drive_end_array_without_start(struct ew_jsonw *w)
{
	ew_jsonw_end_array(w);
}

static void drive_extra_end(struct ew_jsonw *w)
{
	ew_jsonw_start_array(w);
	ew_jsonw_end_array(w);
	ew_jsonw_end_array(w);
}

static void drive_object_closed_as_array(struct ew_jsonw *w)
{
	ew_jsonw_start_object(w);
	ew_jsonw_end_array(w);
}

static void drive_array_closed_as_object(struct ew_jsonw *w)
{
	ew_jsonw_start_array(w);
	ew_jsonw_end_object(w);
}

static void drive_unclosed(struct ew_jsonw *w)
{
	ew_jsonw_start_object(w);
	ew_jsonw_uint_field(w, "a", 1);
}

static void drive_nothing(struct ew_jsonw *w)
{
}

static void drive_two_documents(struct ew_jsonw *w)
{
	ew_jsonw_start_object(w);
	ew_jsonw_end_object(w);
	ew_jsonw_start_object(w);
	ew_jsonw_end_object(w);
}

static void drive_two_scalars(struct ew_jsonw *w)
{
	ew_jsonw_uint(w, 1);
	ew_jsonw_uint(w, 2);
}

static void drive_depth(struct ew_jsonw *w, int depth)
{
	for (int i = 0; i < depth; i++)
		ew_jsonw_start_array(w);
	for (int i = 0; i < depth; i++)
		ew_jsonw_end_array(w);
}

static void drive_max_depth(struct ew_jsonw *w)
{
	drive_depth(w, EW_JSONW_MAX_DEPTH);
}

static void drive_too_deep(struct ew_jsonw *w)
{
	drive_depth(w, EW_JSONW_MAX_DEPTH + 1);
}

static void drive_string_null_len(struct ew_jsonw *w)
{
	ew_jsonw_start_array(w);
	ew_jsonw_string_n(w, NULL, 3);
	ew_jsonw_end_array(w);
}

static void drive_string_null(struct ew_jsonw *w)
{
	ew_jsonw_start_array(w);
	ew_jsonw_string(w, NULL);
	ew_jsonw_string_n(w, NULL, 0);
	ew_jsonw_end_array(w);
}

static void drive_negative_decimals(struct ew_jsonw *w)
{
	ew_jsonw_start_array(w);
	ew_jsonw_double(w, 1.0, -1);
	ew_jsonw_end_array(w);
}

static void drive_too_many_decimals(struct ew_jsonw *w)
{
	ew_jsonw_start_array(w);
	ew_jsonw_double(w, 1.0, 18);
	ew_jsonw_end_array(w);
}

static void drive_top_level_string(struct ew_jsonw *w)
{
	ew_jsonw_string(w, "x");
}

#define DEEP_OK "[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]"

static const struct misuse_case {
	const char *name;
	void (*drive)(struct ew_jsonw *w);
	int ret;
	const char *out; /* everything written: nothing more after the first misuse */
} misuse_cases[] = {
	{"value without name", drive_value_without_name, -EINVAL, "{"},
	{"value after value in object", drive_value_after_value_in_object, -EINVAL, "{\"a\":1"},
	{"name in array", drive_name_in_array, -EINVAL, "[1"},
	{"name at top level", drive_name_at_top, -EINVAL, ""},
	{"name after name", drive_name_after_name, -EINVAL, "{\"a\":"},
	{"NULL name", drive_null_name, -EINVAL, "{"},
	{"dangling name", drive_dangling_name, -EINVAL, "{\"a\":"},
	{"end_object without start", drive_end_object_without_start, -EINVAL, ""},
	{"end_array without start", drive_end_array_without_start, -EINVAL, ""},
	{"extra end", drive_extra_end, -EINVAL, "[]"},
	{"object closed as array", drive_object_closed_as_array, -EINVAL, "{"},
	{"array closed as object", drive_array_closed_as_object, -EINVAL, "["},
	{"unclosed object", drive_unclosed, -EINVAL, "{\"a\":1"},
	{"empty document", drive_nothing, -EINVAL, ""},
	{"two documents", drive_two_documents, -EINVAL, "{}"},
	{"two scalars", drive_two_scalars, -EINVAL, "1"},
	{"max depth", drive_max_depth, 0, DEEP_OK},
	{"too deep", drive_too_deep, -EINVAL, "[[[[[[[[[[[[[[[["},
	{"string_n NULL with length", drive_string_null_len, -EINVAL, "["},
	{"string NULL is null", drive_string_null, 0, "[null,\"\"]"},
	{"negative decimals", drive_negative_decimals, -EINVAL, "["},
	{"too many decimals", drive_too_many_decimals, -EINVAL, "["},
	{"top-level string", drive_top_level_string, 0, "\"x\""},
};

static void test_writer_misuse(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(misuse_cases); i++) {
		const struct misuse_case *c = &misuse_cases[i];
		int r;

		ew_buf_reset(&f->buf);
		ew_jsonw_init(&f->w, &f->buf);
		c->drive(&f->w);
		r = ew_jsonw_finish(&f->w);
		if (r != c->ret)
			fail_msg("%s: expected finish %d, got %d", c->name, c->ret, r);
		check_bytes(c->name, buf_str(&f->buf), f->buf.len, c->out, strlen(c->out));
	}
}

/*
 * Members made by one writer and appended by another (ew_jsonw_raw_members(), the renderer's
 * cache): commas as if written in place, nothing for an empty inside, and refused in an array,
 * after a name and outside any object.
 */
static void test_writer_raw_members(void **state)
{
	struct fixture *f = *state;
	struct ew_buf part;
	struct ew_jsonw w;
	const char *m;
	size_t n;

	ew_buf_init(&part);
	ew_jsonw_init(&w, &part);
	ew_jsonw_start_object(&w);
	ew_jsonw_string_field(&w, "a", "x\"y");
	ew_jsonw_name(&w, "o");
	ew_jsonw_start_object(&w);
	ew_jsonw_uint_field(&w, "n", 1);
	ew_jsonw_end_object(&w);
	ew_jsonw_end_object(&w);
	assert_int_equal(ew_jsonw_finish(&w), 0);
	m = ew_jsonw_members(part.data, part.len, &n);
	check_bytes("members", m, n, "\"a\":\"x\\\"y\",\"o\":{\"n\":1}", 22);

	/* First member, then after one, then an empty inside, then a member after it. */
	ew_jsonw_init(&f->w, &f->buf);
	ew_jsonw_start_object(&f->w);
	ew_jsonw_raw_members(&f->w, m, n);
	ew_jsonw_uint_field(&f->w, "b", 2);
	ew_jsonw_raw_members(&f->w, m, n);
	ew_jsonw_raw_members(&f->w, "", 0);
	ew_jsonw_bool_field(&f->w, "c", true);
	ew_jsonw_end_object(&f->w);
	assert_int_equal(ew_jsonw_finish(&f->w), 0);
	check_bytes("appended", buf_str(&f->buf), f->buf.len,
		    "{\"a\":\"x\\\"y\",\"o\":{\"n\":1},\"b\":2,\"a\":\"x\\\"y\",\"o\":{\"n\":1},"
		    "\"c\":true}",
		    62);
	json_object_put(json_tokener_parse(buf_str(&f->buf)));

	/* Misplaced: in an array, after a name, at the top level. */
	ew_buf_reset(&f->buf);
	ew_jsonw_init(&f->w, &f->buf);
	ew_jsonw_start_array(&f->w);
	ew_jsonw_raw_members(&f->w, m, n);
	assert_int_equal(ew_jsonw_finish(&f->w), -EINVAL);
	ew_buf_reset(&f->buf);
	ew_jsonw_init(&f->w, &f->buf);
	ew_jsonw_start_object(&f->w);
	ew_jsonw_name(&f->w, "k");
	ew_jsonw_raw_members(&f->w, m, n);
	assert_int_equal(ew_jsonw_finish(&f->w), -EINVAL);
	ew_buf_reset(&f->buf);
	ew_jsonw_init(&f->w, &f->buf);
	ew_jsonw_raw_members(&f->w, m, n);
	assert_int_equal(ew_jsonw_finish(&f->w), -EINVAL);
	ew_buf_free(&part);
}

/* Bytes that need rewriting: each is put at every position of a plain string in turn. */
static const char *const block_specials[] = {"\"",	 "\\",	 "\x01",	 "\x1f", "\x7f",
					     "\xc3\xa9", "\xff", "\xe2\x80\xa8", "\x80"};

typedef void block_check(struct fixture *f, const char *in, size_t len, const char *name);

/*
 * Calls check for every plain printable string of up to max_len bytes with each of
 * block_specials at each position where it fits, and with none.
 */
static void for_each_block_case(struct fixture *f, size_t max_len, block_check *check)
{
	char in[64], name[96];

	assert_true(max_len <= sizeof(in));
	for (size_t len = 0; len <= max_len; len++) {
		for (size_t k = 0; k < ARRAY_SIZE(block_specials); k++) {
			size_t sl = strlen(block_specials[k]);

			for (size_t pos = 0; pos <= len; pos++) {
				if (pos < len && pos + sl > len)
					continue;
				for (size_t i = 0; i < len; i++)
					in[i] = (char)('a' + (i * 7 + len) % 26);
				if (pos < len)
					memcpy(in + pos, block_specials[k], sl);
				snprintf(name, sizeof(name), "len %zu, %zu at %zu", len, k, pos);
				check(f, in, len, name);
			}
		}
	}
}

/*
 * Plain bytes are copied in blocks of 4, 8 and 16 (overlapping at the end) and checked a block
 * at a time: every length up to three blocks, with a byte that needs rewriting at every
 * position (or none), must give exactly what the escaper gives, as a value and as a name.
 */
static void name_and_value(struct fixture *f, const char *in, size_t n, const char *name)
{
	struct ew_buf exp = EW_BUF_INIT;

	assert_int_equal(ew_buf_puts(&exp, "{\""), 0);
	assert_int_equal(ew_json_escape(&exp, in, n), 0);
	assert_int_equal(ew_buf_puts(&exp, "\":\""), 0);
	assert_int_equal(ew_json_escape(&exp, in, n), 0);
	assert_int_equal(ew_buf_puts(&exp, "\"}"), 0);

	ew_buf_reset(&f->buf);
	ew_jsonw_init(&f->w, &f->buf);
	ew_jsonw_start_object(&f->w);
	ew_jsonw_name_n(&f->w, in, n);
	ew_jsonw_string_n(&f->w, in, n);
	ew_jsonw_end_object(&f->w);
	assert_int_equal(ew_jsonw_finish(&f->w), 0);
	check_bytes(name, f->buf.data, f->buf.len, exp.data, exp.len);
	ew_buf_free(&exp);
}

static void test_writer_block_boundaries(void **state)
{
	for_each_block_case(*state, 50, name_and_value);
}

/* Where a member may not stand: in an array, after a name, at the top level. put writes one;
 * the writer fails and writes nothing of it. */
static void member_misuse(struct fixture *f, void (*put)(struct ew_jsonw *w))
{
	ew_buf_reset(&f->buf);
	ew_jsonw_init(&f->w, &f->buf);
	ew_jsonw_start_array(&f->w);
	put(&f->w);
	assert_int_equal(ew_jsonw_finish(&f->w), -EINVAL);
	assert_string_equal(f->buf.data, "[");
	ew_buf_reset(&f->buf);
	ew_jsonw_init(&f->w, &f->buf);
	ew_jsonw_start_object(&f->w);
	ew_jsonw_name_quoted(&f->w, EW_JSONW_KEY("a"));
	put(&f->w);
	assert_int_equal(ew_jsonw_finish(&f->w), -EINVAL);
	assert_string_equal(f->buf.data, "{\"a\":");
	ew_buf_reset(&f->buf);
	ew_jsonw_init(&f->w, &f->buf);
	put(&f->w);
	assert_int_equal(ew_jsonw_finish(&f->w), -EINVAL);
	assert_int_equal(f->buf.len, 0);
}

static void put_name(struct ew_jsonw *w)
{
	ew_jsonw_name_quoted(w, EW_JSONW_KEY("b"));
}

static void put_member(struct ew_jsonw *w)
{
	ew_jsonw_member_string_n(w, EW_JSONW_KEY("b"), "x", 1);
}

/* A literal name (EW_JSONW_KEY) writes what ew_jsonw_name() writes, and is refused where it is. */
static void test_writer_literal_key(void **state)
{
	struct fixture *f = *state;

	ew_jsonw_start_object(&f->w);
	ew_jsonw_name_quoted(&f->w, EW_JSONW_KEY("a"));
	ew_jsonw_uint(&f->w, 1);
	ew_jsonw_name_quoted(&f->w, EW_JSONW_KEY("logging.googleapis.com/labels"));
	ew_jsonw_start_array(&f->w);
	ew_jsonw_end_array(&f->w);
	ew_jsonw_end_object(&f->w);
	assert_int_equal(ew_jsonw_finish(&f->w), 0);
	assert_string_equal(f->buf.data, "{\"a\":1,\"logging.googleapis.com/labels\":[]}");

	/* In an array, after a name, at the top level: misuse, as with ew_jsonw_name(). */
	member_misuse(f, put_name);

	/* The slow path (a buffer without room yet) writes the same. */
	ew_buf_free(&f->buf);
	ew_buf_init(&f->buf);
	ew_jsonw_init(&f->w, &f->buf);
	ew_jsonw_start_object(&f->w);
	ew_buf_free(&f->buf); /* no data: the next name takes the slow path */
	ew_buf_init(&f->buf);
	ew_jsonw_name_quoted(&f->w, EW_JSONW_KEY("k"));
	ew_jsonw_null(&f->w);
	assert_string_equal(f->buf.data, "\"k\":null");
}

/* One member as ew_jsonw_member_string_n() writes it, after a first one; room: leave the buffer
 * without data before it, so that the member's name takes the writer's slow path. */
static void member_line(struct fixture *f, const char *s, size_t n, bool slow)
{
	ew_buf_free(&f->buf);
	ew_buf_init(&f->buf);
	ew_jsonw_init(&f->w, &f->buf);
	ew_jsonw_start_object(&f->w);
	ew_jsonw_name_quoted(&f->w, EW_JSONW_KEY("first"));
	ew_jsonw_uint(&f->w, 1);
	if (slow) {
		ew_buf_free(&f->buf); /* no data: the member's first check fails */
		ew_buf_init(&f->buf);
	}
	ew_jsonw_member_string_n(&f->w, EW_JSONW_KEY("k"), s, n);
	ew_jsonw_end_object(&f->w);
}

/*
 * A member in one step writes what a literal name and a string write in two, byte for byte,
 * whatever the string holds and wherever its first special byte is (the fast path hands the
 * rest to the escaper there); NULL is null; misuse and a failed buffer are refused as the two
 * steps refuse them.
 */
static void member_both_paths(struct fixture *f, const char *in, size_t len, const char *name)
{
	struct ew_buf exp = EW_BUF_INIT;

	assert_int_equal(ew_buf_puts(&exp, "{\"first\":1,\"k\":\""), 0);
	assert_int_equal(ew_json_escape(&exp, in, len), 0);
	assert_int_equal(ew_buf_puts(&exp, "\"}"), 0);
	member_line(f, in, len, false);
	assert_int_equal(ew_jsonw_finish(&f->w), 0);
	check_bytes(name, f->buf.data, f->buf.len, exp.data, exp.len);
	/* The slow path's buffer starts after the first member. */
	member_line(f, in, len, true);
	assert_int_equal(ew_jsonw_finish(&f->w), 0);
	check_bytes(name, f->buf.data, f->buf.len, exp.data + 10, exp.len - 10);
	ew_buf_free(&exp);
}

static void test_writer_member_string(void **state)
{
	struct fixture *f = *state;

	for_each_block_case(f, 40, member_both_paths);

	/* The first member has no comma; NULL is null, in both paths. */
	ew_buf_reset(&f->buf);
	ew_jsonw_init(&f->w, &f->buf);
	ew_jsonw_start_object(&f->w);
	ew_jsonw_member_string_n(&f->w, EW_JSONW_KEY("a"), "x", 1);
	ew_jsonw_member_string_n(&f->w, EW_JSONW_KEY("b"), NULL, 0);
	ew_jsonw_end_object(&f->w);
	assert_int_equal(ew_jsonw_finish(&f->w), 0);
	assert_string_equal(f->buf.data, "{\"a\":\"x\",\"b\":null}");
	member_line(f, NULL, 0, true);
	assert_int_equal(ew_jsonw_finish(&f->w), 0);
	assert_string_equal(f->buf.data, ",\"k\":null}");

	/* In an array, after a name, at the top level: misuse, nothing written. */
	member_misuse(f, put_member);

	/* A failed buffer stays failed. */
	ew_buf_reset(&f->buf);
	ew_jsonw_init(&f->w, &f->buf);
	ew_jsonw_start_object(&f->w);
	assert_int_equal(ew_buf_reserve(&f->buf, SIZE_MAX), -ENOMEM);
	ew_jsonw_member_string_n(&f->w, EW_JSONW_KEY("a"), "x", 1);
	ew_jsonw_end_object(&f->w);
	assert_int_equal(ew_jsonw_finish(&f->w), -ENOMEM);
}

/* The program's own words, unscanned: between quotes as they are, commas as for any value. */
static void test_writer_plain(void **state)
{
	struct fixture *f = *state;

	ew_jsonw_start_object(&f->w);
	ew_jsonw_name_quoted(&f->w, EW_JSONW_KEY("severity"));
	ew_jsonw_plain_n(&f->w, "WARNING", 7);
	ew_jsonw_name_quoted(&f->w, EW_JSONW_KEY("e"));
	ew_jsonw_plain_n(&f->w, "", 0);
	ew_jsonw_name_quoted(&f->w, EW_JSONW_KEY("a"));
	ew_jsonw_start_array(&f->w);
	ew_jsonw_plain_n(&f->w, "x", 1);
	ew_jsonw_plain_n(&f->w, "yz", 2);
	ew_jsonw_end_array(&f->w);
	ew_jsonw_end_object(&f->w);
	assert_int_equal(ew_jsonw_finish(&f->w), 0);
	assert_string_equal(f->buf.data,
			    "{\"severity\":\"WARNING\",\"e\":\"\",\"a\":[\"x\",\"yz\"]}");

	/* A value without a name is misuse, as for every value. */
	ew_buf_reset(&f->buf);
	ew_jsonw_init(&f->w, &f->buf);
	ew_jsonw_start_object(&f->w);
	ew_jsonw_plain_n(&f->w, "x", 1);
	assert_int_equal(ew_jsonw_finish(&f->w), -EINVAL);

	/* A buffer without room grows; one that failed stays failed. */
	ew_buf_free(&f->buf);
	ew_buf_init(&f->buf);
	ew_jsonw_init(&f->w, &f->buf);
	ew_jsonw_plain_n(&f->w, "2026-12-05T05:42:23.030023066Z", 30);
	assert_int_equal(ew_jsonw_finish(&f->w), 0);
	assert_string_equal(f->buf.data, "\"2026-12-05T05:42:23.030023066Z\"");
	ew_buf_reset(&f->buf);
	assert_int_equal(ew_buf_reserve(&f->buf, SIZE_MAX), -ENOMEM);
	ew_jsonw_init(&f->w, &f->buf);
	ew_jsonw_plain_n(&f->w, "x", 1);
	assert_int_equal(ew_jsonw_finish(&f->w), -ENOMEM);
}

static void test_writer_out_of_memory(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ew_buf_reserve(&f->buf, SIZE_MAX), -ENOMEM);
	ew_jsonw_start_object(&f->w);
	ew_jsonw_string_field(&f->w, "a", "b");
	ew_jsonw_end_object(&f->w);
	assert_int_equal(ew_jsonw_finish(&f->w), -ENOMEM);
	assert_int_equal(f->buf.len, 0);

	/* The same buffer works again after a reset. */
	ew_buf_reset(&f->buf);
	ew_jsonw_init(&f->w, &f->buf);
	ew_jsonw_start_object(&f->w);
	ew_jsonw_string_field(&f->w, "a", "b");
	ew_jsonw_end_object(&f->w);
	assert_int_equal(ew_jsonw_finish(&f->w), 0);
	assert_string_equal(f->buf.data, "{\"a\":\"b\"}");

	/* The direct writers ask the buffer's one fast test: a failed buffer with room in its
	 * allocation is refused all the same, its bytes untouched, until truncated back. */
	ew_buf_reset(&f->buf);
	assert_int_equal(ew_json_uint(&f->buf, 12), 0);
	assert_int_equal(ew_buf_reserve(&f->buf, SIZE_MAX), -ENOMEM);
	assert_int_equal(ew_json_string(&f->buf, "abc", 3), -ENOMEM);
	assert_int_equal(ew_json_string(&f->buf, "a\"c", 3), -ENOMEM);
	assert_int_equal(ew_json_uint(&f->buf, 7), -ENOMEM);
	assert_int_equal(ew_json_int(&f->buf, -7), -ENOMEM);
	assert_int_equal(f->buf.len, 2);
	assert_string_equal(f->buf.data, "12");
	ew_buf_truncate(&f->buf, 1);
	assert_int_equal(ew_json_int(&f->buf, -7), 0);
	assert_int_equal(ew_json_string(&f->buf, "a\"c", 3), 0);
	assert_false(ew_buf_failed(&f->buf));
	assert_string_equal(f->buf.data, "1-7\"a\\\"c\"");
}

/* ---- property test --------------------------------------------------------------------- */

/*
 * Reference for U+FFFD substitution, built from data rather than rules: every code point is
 * encoded with the textbook encoder, and every prefix of every encoding is recorded. A byte
 * string is then well-formed iff it is a recorded whole encoding, and the maximal subpart at
 * a position is its longest recorded prefix.
 */
struct utf8_ref {
	uint8_t prefix1[256], full1[256];
	uint8_t prefix2[1 << 16], full2[1 << 16];
	uint8_t prefix3[1 << 21], full3[1 << 21]; /* bit sets over 24-bit keys */
};

#define BIT_SET(a, k) ((a)[(k) >> 3] |= (uint8_t)(1u << ((k)&7)))
#define BIT_GET(a, k) (((a)[(k) >> 3] >> ((k)&7)) & 1)

static size_t ref_encode(uint32_t cp, unsigned char *b)
{
	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (unsigned char)(0xf0 | cp >> 18);
	b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	b[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

static void ref_build(struct utf8_ref *r)
{
	for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
		unsigned char b[4];
		size_t n;
		uint32_t k2, k3;

		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		n = ref_encode(cp, b);
		k2 = (uint32_t)b[0] << 8 | b[1];
		k3 = k2 << 8 | b[2];
		r->prefix1[b[0]] = 1;
		if (n == 1)
			r->full1[b[0]] = 1;
		if (n >= 2)
			r->prefix2[k2] = 1;
		if (n == 2)
			r->full2[k2] = 1;
		if (n >= 3)
			BIT_SET(r->prefix3, k3);
		if (n == 3)
			BIT_SET(r->full3, k3);
	}
}

/* Is s[0..k) a prefix (full: a whole encoding) of some code point's encoding? */
static bool ref_match(const struct utf8_ref *r, const unsigned char *s, size_t k, bool full)
{
	uint32_t k2 = k >= 2 ? (uint32_t)s[0] << 8 | s[1] : 0;
	uint32_t k3 = k >= 3 ? k2 << 8 | s[2] : 0;

	switch (k) {
	case 1:
		return full ? r->full1[s[0]] : r->prefix1[s[0]];
	case 2:
		return full ? r->full2[k2] : r->prefix2[k2];
	case 3:
		return full ? BIT_GET(r->full3, k3) : BIT_GET(r->prefix3, k3);
	default:
		/* A recorded 3-byte prefix that is not whole continues with any continuation byte. */
		return BIT_GET(r->prefix3, k3) && !BIT_GET(r->full3, k3) && (s[3] & 0xc0) == 0x80;
	}
}

/* What a decoder must get back from the escaped string: input with U+FFFD substituted. */
static size_t ref_sanitize(const struct utf8_ref *r, const unsigned char *s, size_t len,
			   unsigned char *out, bool *valid)
{
	size_t i = 0, o = 0, k;

	*valid = true;
	while (i < len) {
		for (k = 0; k < 4 && i + k < len && ref_match(r, s + i, k + 1, false); k++)
			;
		if (k && ref_match(r, s + i, k, true)) {
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
			continue;
		}
		*valid = false;
		memcpy(out + o, R, 3);
		o += 3;
		i += k ? k : 1;
	}
	return o;
}

static int ref_setup(void **state)
{
	struct utf8_ref *r = calloc(1, sizeof(*r));

	if (!r)
		return -1;
	ref_build(r);
	*state = r;
	return 0;
}

static int ref_teardown(void **state)
{
	free(*state);
	return 0;
}

/* xorshift64*: fixed seed, so a failure names a reproducible iteration. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static uint32_t gen_code_point(uint64_t *rng, bool controls)
{
	static const uint32_t specials[] = {'"', '\\', '/', '\'', 0x2028, 0x2029, 0xfffd, 0xfeff};
	uint64_t r = rng_next(rng);
	uint32_t cp;

	switch (r % 8) {
	case 0:
	case 1:
	case 2:
		return 0x20 + (uint32_t)(r >> 8) % 0x5f;
	case 3:
		cp = (uint32_t)(r >> 8) % 0x80;
		if (!controls && (cp < 0x20 || cp == 0x7f))
			cp = 'c';
		return cp;
	case 4:
		return 0x80 + (uint32_t)(r >> 8) % 0x780;
	case 5:
		cp = 0x800 + (uint32_t)(r >> 8) % 0xf800;
		return cp >= 0xd800 && cp <= 0xdfff ? 0x2028 : cp;
	case 6:
		return 0x10000 + (uint32_t)(r >> 8) % 0x100000;
	default:
		return specials[(r >> 8) % ARRAY_SIZE(specials)];
	}
}

static size_t gen_utf8(uint64_t *rng, unsigned char *buf, size_t max, bool controls)
{
	size_t len = 0;

	for (;;) {
		unsigned char b[4];
		size_t n = ref_encode(gen_code_point(rng, controls), b);

		if (len + n > max)
			return len;
		memcpy(buf + len, b, n);
		len += n;
	}
}

/* Mode 0: any bytes; 1: valid UTF-8 without controls; 2: with controls; 3: damaged UTF-8. */
static size_t gen_input(uint64_t *rng, unsigned int mode, unsigned char *buf)
{
	size_t max = rng_next(rng) % 301, len;

	switch (mode) {
	case 0:
		for (len = 0; len < max; len++)
			buf[len] = (unsigned char)(rng_next(rng) >> 24);
		return len;
	case 1:
	case 2:
		return gen_utf8(rng, buf, max, mode == 2);
	default:
		len = gen_utf8(rng, buf, max, true);
		for (unsigned int m = rng_next(rng) % 4; m && len; m--) {
			uint64_t r = rng_next(rng);

			if (r & 1)
				buf[(r >> 8) % len] = (unsigned char)(r >> 32);
			else
				len = (r >> 8) % len; /* may cut a sequence */
		}
		return len;
	}
}

#define PROP_ITERATIONS 20000
#define PROP_MAX_LEN	300

static void test_escape_property_json_c(void **state)
{
	const struct utf8_ref *ref = *state;
	unsigned char in[PROP_MAX_LEN], exp[3 * PROP_MAX_LEN];
	struct ew_buf buf = EW_BUF_INIT;
	uint64_t rng = 0x6578697477617463ULL; /* "exitwatc" */
	unsigned int clean_checked = 0, invalid_seen = 0;
	struct json_tokener *tok;

	tok = json_tokener_new();
	assert_non_null(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);

	for (unsigned int it = 0; it < PROP_ITERATIONS; it++) {
		size_t len = gen_input(&rng, it % 4, in), exp_len, dec_len;
		json_object *obj, *s;
		struct ew_jsonw w;
		const char *dec;
		bool valid, clean;

		ew_buf_reset(&buf);
		ew_jsonw_init(&w, &buf);
		ew_jsonw_start_object(&w);
		ew_jsonw_string_n_field(&w, "s", (const char *)in, len);
		ew_jsonw_end_object(&w);
		if (ew_jsonw_finish(&w) != 0)
			fail_msg("iteration %u: finish failed", it);

		/* No raw control byte, DEL or line separator can split or forge a record. */
		for (size_t i = 0; i < buf.len; i++) {
			unsigned char c = (unsigned char)buf.data[i];

			if (c < 0x20 || c == 0x7f)
				fail_msg("iteration %u: raw byte 0x%02x at %zu", it, c, i);
			if (c == 0xe2 && i + 2 < buf.len &&
			    (unsigned char)buf.data[i + 1] == 0x80 &&
			    ((unsigned char)buf.data[i + 2] & 0xfe) == 0xa8)
				fail_msg("iteration %u: raw U+2028/9 at %zu", it, i);
		}

		json_tokener_reset(tok);
		obj = json_tokener_parse_ex(tok, buf.data, (int)buf.len);
		if (!obj || json_tokener_get_error(tok) != json_tokener_success)
			fail_msg("iteration %u: json-c: %s: %s", it,
				 json_tokener_error_desc(json_tokener_get_error(tok)), buf.data);
		assert_int_equal(json_tokener_get_parse_end(tok), buf.len);
		assert_true(json_object_is_type(obj, json_type_object));
		assert_int_equal(json_object_object_length(obj), 1);
		assert_true(json_object_object_get_ex(obj, "s", &s));
		assert_true(json_object_is_type(s, json_type_string));
		dec = json_object_get_string(s);
		dec_len = (size_t)json_object_get_string_len(s);

		/* The decoded string is exactly the input with maximal subparts replaced... */
		exp_len = ref_sanitize(ref, in, len, exp, &valid);
		check_bytes("decoded vs reference", dec, dec_len, (const char *)exp, exp_len);
		/* ...so it is valid UTF-8 (sanitizing it again changes nothing)... */
		{
			unsigned char again[3 * 3 * PROP_MAX_LEN];
			bool dec_valid;

			assert_true(dec_len <= 3 * PROP_MAX_LEN);
			ref_sanitize(ref, (const unsigned char *)dec, dec_len, again, &dec_valid);
			assert_true(dec_valid);
		}
		/* ...and clean input comes back byte for byte. */
		clean = valid;
		for (size_t i = 0; i < len && clean; i++)
			clean = in[i] >= 0x20 && in[i] != 0x7f;
		if (clean) {
			check_bytes("clean input round trip", dec, dec_len, (const char *)in, len);
			clean_checked++;
		}
		invalid_seen += !valid;
		json_object_put(obj);
	}
	/* The generator must exercise both sides, or the checks above prove little. */
	assert_true(clean_checked >= PROP_ITERATIONS / 4);
	assert_true(invalid_seen >= PROP_ITERATIONS / 4);
	json_tokener_free(tok);
	ew_buf_free(&buf);
}

/* The reference itself, on the Unicode example, so the property test has a checked oracle. */
static void test_reference_table_3_8(void **state)
{
	static const unsigned char in[] = "a\xf1\x80\x80\xe1\x80\xc2"
					  "b\x80"
					  "c\x80\xbf"
					  "d";
	static const char exp[] = "a" R R R "b" R "c" R R "d";
	const struct utf8_ref *ref = *state;
	unsigned char out[64];
	bool valid;
	size_t n;

	n = ref_sanitize(ref, in, sizeof(in) - 1, out, &valid);
	assert_false(valid);
	check_bytes("reference", (const char *)out, n, exp, sizeof(exp) - 1);
	n = ref_sanitize(ref, (const unsigned char *)"\xf4\x8f\xbf\xbf\xed\x9f\xbf", 7, out,
			 &valid);
	assert_true(valid);
	assert_int_equal(n, 7);
}

int main(void)
{
	const struct CMUnitTest writer_tests[] = {
		cmocka_unit_test_setup_teardown(test_escape_table, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_escape_control_bytes, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_escape_rejects_null_with_length, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_writer_nested, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_writer_numbers, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_writer_fixed, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_writer_double_ignores_locale, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_writer_misuse, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_writer_block_boundaries, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_writer_raw_members, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_writer_literal_key, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_writer_member_string, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_writer_plain, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_writer_out_of_memory, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_reference_table_3_8, ref_setup, ref_teardown),
		cmocka_unit_test_setup_teardown(test_escape_property_json_c, ref_setup,
						ref_teardown),
	};

	return cmocka_run_group_tests_name("json_writer", writer_tests, NULL, NULL);
}
