// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests for src/core/json_read.c, the one JSON reading helper of recordings, the state file and
 * the runtimes' metadata: the lenient getters (absent or wrong type gives the default), the
 * strict ones (absent, wrong type and out of range told apart), the strict reader that says
 * why in one line (struct ew_json_rd) and the parse of one whole document. Table-driven, the
 * negative cases beside the positive ones.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "exitwatch/core/json_read.h"
#include "exitwatch/util/util.h"

/* One object with a member of every type, and the odd ones. */
static const char doc[] = "{\"s\":\"text\",\"i\":-42,\"u\":18446744073709551615,\"b\":true,"
			  "\"d\":1.5,\"o\":{\"k\":1},\"a\":[1,2],\"n\":null,"
			  "\"big\":99999999999999999999,\"neg\":-99999999999999999999,"
			  "\"h\":9223372036854775808,\"c\":\"a\\u001b[2Jb\\nc\"}";

static int setup(void **state)
{
	struct json_object *o = json_tokener_parse(doc);

	if (!o)
		return -1;
	*state = o;
	return 0;
}

static int teardown(void **state)
{
	json_object_put(*state);
	return 0;
}

static void test_type_names(void **state)
{
	static const struct {
		enum ew_json_type t;
		const char *name;
	} names[] = {
		{EW_JSON_NULL, "null"},	    {EW_JSON_BOOL, "boolean"},	{EW_JSON_DOUBLE, "double"},
		{EW_JSON_INT, "int"},	    {EW_JSON_OBJECT, "object"}, {EW_JSON_ARRAY, "array"},
		{EW_JSON_STRING, "string"},
	};
	struct json_object *o = *state, *v;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		assert_string_equal(ew_json_type_name(names[i].t), names[i].name);
	assert_true(ew_json_is(o, EW_JSON_OBJECT));
	assert_false(ew_json_is(o, EW_JSON_ARRAY));
	assert_true(ew_json_is(NULL, EW_JSON_NULL)); /* json-c's null is a NULL object */
	assert_false(ew_json_is(NULL, EW_JSON_OBJECT));
	assert_true(json_object_object_get_ex(o, "d", &v));
	assert_true(ew_json_is(v, EW_JSON_DOUBLE));
	assert_false(ew_json_is(v, EW_JSON_INT));
}

static void test_lenient(void **state)
{
	struct json_object *o = *state, *s = json_object_new_string("not an object");

	assert_string_equal(ew_json_str(o, "s", "d"), "text");
	assert_string_equal(ew_json_str(o, "i", "d"), "d"); /* wrong type */
	assert_string_equal(ew_json_str(o, "x", "d"), "d"); /* absent */
	assert_null(ew_json_str(o, "n", NULL));		    /* null */
	assert_int_equal(ew_json_i64(o, "i", 7), -42);
	assert_int_equal(ew_json_i64(o, "s", 7), 7);
	assert_int_equal(ew_json_i64(o, "d", 7), 7); /* a double is not an integer */
	assert_true(ew_json_u64(o, "u", 0) == UINT64_MAX);
	assert_int_equal(ew_json_u64(o, "a", 9), 9);
	assert_true(ew_json_bool(o, "b", false));
	assert_false(ew_json_bool(o, "i", false));
	assert_true(ew_json_bool(o, "x", true));
	/* Not an object, or none at all: every member is absent. */
	assert_string_equal(ew_json_str(s, "s", "d"), "d");
	assert_string_equal(ew_json_str(NULL, "s", "d"), "d");
	assert_int_equal(ew_json_i64(NULL, "i", 3), 3);

	assert_non_null(ew_json_get(o, "o", EW_JSON_OBJECT));
	assert_non_null(ew_json_get(o, "a", EW_JSON_ARRAY));
	assert_null(ew_json_get(o, "a", EW_JSON_OBJECT));
	assert_null(ew_json_get(o, "x", EW_JSON_OBJECT));
	assert_null(ew_json_get(s, "o", EW_JSON_OBJECT));
	assert_null(ew_json_get(NULL, "o", EW_JSON_OBJECT));
	assert_true(ew_json_has(o, "n")); /* there, whatever its type */
	assert_true(ew_json_has(o, "s"));
	assert_false(ew_json_has(o, "x"));
	assert_false(ew_json_has(s, "s"));
	json_object_put(s);
}

static void test_member(void **state)
{
	static const struct {
		const char *key;
		enum ew_json_type type;
		int ret;
	} cases[] = {
		{"s", EW_JSON_STRING, 0},	{"i", EW_JSON_INT, 0},
		{"b", EW_JSON_BOOL, 0},		{"o", EW_JSON_OBJECT, 0},
		{"a", EW_JSON_ARRAY, 0},	{"d", EW_JSON_DOUBLE, 0},
		{"s", EW_JSON_INT, -EINVAL},	{"i", EW_JSON_STRING, -EINVAL},
		{"d", EW_JSON_INT, -EINVAL},	{"a", EW_JSON_OBJECT, -EINVAL},
		{"n", EW_JSON_OBJECT, -EINVAL}, /* null is present, of another type */
		{"x", EW_JSON_STRING, -ENOENT}, {"", EW_JSON_STRING, -ENOENT},
	};
	struct json_object *o = *state, *arr, *v = o;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int r = ew_json_member(o, cases[i].key, cases[i].type, &v);

		if (r != cases[i].ret)
			fail_msg("case %zu (\"%s\" as %s): want %d, got %d", i, cases[i].key,
				 ew_json_type_name(cases[i].type), cases[i].ret, r);
		if (r)
			assert_null(v);
		else
			assert_true(ew_json_is(v, cases[i].type));
	}
	/* Inside an array or NULL: no member is there. */
	assert_int_equal(ew_json_member(o, "a", EW_JSON_ARRAY, &arr), 0);
	assert_int_equal(ew_json_member(arr, "0", EW_JSON_INT, &v), -ENOENT);
	assert_int_equal(ew_json_member(NULL, "s", EW_JSON_STRING, &v), -ENOENT);
	assert_null(v);
}

static void test_int_in(void **state)
{
	static const struct {
		const char *key;
		int64_t min, max;
		int ret;
		int64_t val;
	} cases[] = {
		{"i", -42, -42, 0, -42},
		{"i", INT64_MIN, 0, 0, -42},
		{"i", -41, 100, -ERANGE, -42}, /* the value still told, for the message */
		{"i", -100, -43, -ERANGE, -42},
		{"i", 0, INT64_MAX, -ERANGE, -42},
		{"big", 0, INT64_MAX, 0, INT64_MAX}, /* beyond 64 bits: clamped */
		{"big", 0, UINT32_MAX, -ERANGE, INT64_MAX},
		{"neg", INT64_MIN, 0, 0, INT64_MIN},
		{"s", 0, 10, -EINVAL, 0},
		{"d", 0, 10, -EINVAL, 0},
		{"b", 0, 10, -EINVAL, 0},
		{"n", 0, 10, -EINVAL, 0},
	};
	struct json_object *o = *state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct json_object *v = NULL;
		int64_t x = 12345;
		int r;

		json_object_object_get_ex(o, cases[i].key, &v);
		r = ew_json_int_in(v, cases[i].min, cases[i].max, &x);
		if (r != cases[i].ret || x != cases[i].val)
			fail_msg("case %zu (\"%s\"): want %d and %lld, got %d and %lld", i,
				 cases[i].key, cases[i].ret, (long long)cases[i].val, r,
				 (long long)x);
	}
}

/* ---- the strict reader ---- */

/* A reader with a fresh message buffer, its members named in `in`. */
#define RD(buf, in_) ((struct ew_json_rd){.err = (buf), .errlen = sizeof(buf), .in = (in_)})

static void test_rd_member(void **state)
{
	static const struct {
		const char *in, *key;
		enum ew_json_type type;
		bool required, found;
		const char *err; /* "": none */
	} cases[] = {
		{NULL, "o", EW_JSON_OBJECT, true, true, ""},
		{"", "s", EW_JSON_STRING, false, true, ""},
		{NULL, "x", EW_JSON_OBJECT, false, false, ""}, /* absent, optional */
		{NULL, "x", EW_JSON_OBJECT, true, false, "member \"x\" is missing"},
		{"", "x", EW_JSON_INT, true, false, "member \"x\" is missing"},
		{"end", "x", EW_JSON_INT, true, false, "member \"end.x\" is missing"},
		{"end", "x", EW_JSON_INT, false, false, ""},
		{NULL, "s", EW_JSON_INT, false, false, "member \"s\" is not of JSON type int"},
		{"drops", "a", EW_JSON_OBJECT, true, false,
		 "member \"drops.a\" is not of JSON type object"},
		{NULL, "n", EW_JSON_STRING, false, false, /* null is there, of another type */
		 "member \"n\" is not of JSON type string"},
		{NULL, "d", EW_JSON_INT, false, false, "member \"d\" is not of JSON type int"},
	};
	struct json_object *o = *state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char err[128] = "";
		struct ew_json_rd rd = RD(err, cases[i].in);
		struct json_object *v =
			ew_json_rd_member(&rd, o, cases[i].key, cases[i].type, cases[i].required);

		if ((v != NULL) != cases[i].found || rd.r != (cases[i].err[0] ? -EINVAL : 0) ||
		    strcmp(err, cases[i].err))
			fail_msg("case %zu (\"%s\"): want %s, %d, '%s'; got %s, %d, '%s'", i,
				 cases[i].key, cases[i].found ? "found" : "NULL",
				 cases[i].err[0] ? -EINVAL : 0, cases[i].err, v ? "found" : "NULL",
				 rd.r, err);
		if (v)
			assert_true(ew_json_is(v, cases[i].type));
	}
}

/* The first error is the one kept; every read after it gives its default and says nothing. */
static void test_rd_sticky(void **state)
{
	struct json_object *o = *state;
	char err[128] = "";
	struct ew_json_rd rd = RD(err, "in");

	assert_int_equal(ew_json_rd_int(&rd, o, "i", INT64_MIN, 0, 1, true), -42);
	assert_int_equal(rd.r, 0);
	assert_int_equal(ew_json_rd_uint(&rd, o, "s", UINT64_MAX, 5, false), 5);
	assert_int_equal(rd.r, -EINVAL);
	assert_string_equal(err, "member \"in.s\" is not of JSON type int");
	/* Later errors of every kind, and good members too: defaults, the message unchanged. */
	assert_int_equal(ew_json_rd_int(&rd, o, "i", 0, 10, 3, true), 3);
	assert_int_equal(ew_json_rd_int(&rd, o, "i", INT64_MIN, 0, 4, true), 4);
	assert_true(ew_json_rd_uint(&rd, o, "u", UINT64_MAX, 6, true) == 6);
	assert_true(ew_json_rd_bool(&rd, o, "b", false, true) == false);
	assert_string_equal(ew_json_rd_str(&rd, o, "s", "dflt", true), "dflt");
	assert_null(ew_json_rd_str(&rd, o, "x", NULL, true));
	assert_null(ew_json_rd_member(&rd, o, "o", EW_JSON_OBJECT, true));
	assert_int_equal(ew_json_rd_int_value(&rd, NULL, "a thing", 0, 1), 0);
	assert_int_equal(ew_json_rd_fail(&rd, -ENOMEM, "out of memory"), -EINVAL);
	assert_int_equal(rd.r, -EINVAL);
	assert_string_equal(err, "member \"in.s\" is not of JSON type int");

	/* The reader's own errors, any -errno: the first wins, returned by each later one. */
	rd = RD(err, NULL);
	assert_int_equal(ew_json_rd_fail(&rd, -ENOMEM, "out of memory"), -ENOMEM);
	assert_int_equal(ew_json_rd_fail(&rd, -EINVAL, "second %d", 2), -ENOMEM);
	assert_null(ew_json_rd_member(&rd, o, "x", EW_JSON_INT, true));
	assert_int_equal(rd.r, -ENOMEM);
	assert_string_equal(err, "out of memory");
}

static void test_rd_int(void **state)
{
	static const struct {
		const char *key;
		int64_t min, max, dflt;
		bool required;
		int64_t val;
		const char *err;
	} cases[] = {
		{"i", -42, -42, 7, true, -42, ""},
		{"i", INT32_MIN, INT32_MAX, 7, false, -42, ""},
		{"x", 0, 10, 7, false, 7, ""}, /* absent: the default */
		{"x", 0, 10, 7, true, 7, "member \"x\" is missing"},
		{"s", 0, 10, 7, false, 7, "member \"s\" is not of JSON type int"},
		{"d", 0, 10, 7, true, 7, "member \"d\" is not of JSON type int"},
		{"i", 0, INT64_MAX, 7, true, 7,
		 "member \"i\" is out of range (-42 not in 0..9223372036854775807)"},
		{"i", -41, 10, 0, true, 0, "member \"i\" is out of range (-42 not in -41..10)"},
		{"u", INT32_MIN, INT32_MAX, -1, false, -1, /* json-c clamps it */
		 "member \"u\" is out of range (9223372036854775807 not in "
		 "-2147483648..2147483647)"},
		{"big", 0, INT64_MAX, 0, true, INT64_MAX, ""}, /* beyond 64 bits: clamped */
		{"neg", INT64_MIN, 0, 0, true, INT64_MIN, ""},
	};
	struct json_object *o = *state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char err[128] = "";
		struct ew_json_rd rd = RD(err, NULL);
		int64_t x = ew_json_rd_int(&rd, o, cases[i].key, cases[i].min, cases[i].max,
					   cases[i].dflt, cases[i].required);

		if (x != cases[i].val || rd.r != (cases[i].err[0] ? -EINVAL : 0) ||
		    strcmp(err, cases[i].err))
			fail_msg("case %zu (\"%s\"): want %lld, '%s'; got %lld, %d, '%s'", i,
				 cases[i].key, (long long)cases[i].val, cases[i].err, (long long)x,
				 rd.r, err);
	}
}

static void test_rd_uint(void **state)
{
	static const struct {
		const char *key;
		uint64_t max, dflt;
		bool required;
		uint64_t val;
		const char *err;
	} cases[] = {
		/* The full range: above INT64_MAX, read exactly. */
		{"u", UINT64_MAX, 0, true, UINT64_MAX, ""},
		{"h", UINT64_MAX, 0, true, (uint64_t)INT64_MAX + 1, ""},
		{"h", INT64_MAX, 3, true, 3,
		 "member \"h\" is out of range (9223372036854775808 not in "
		 "0..9223372036854775807)"},
		{"u", UINT32_MAX, 3, false, 3,
		 "member \"u\" is out of range (18446744073709551615 not in 0..4294967295)"},
		{"big", UINT64_MAX, 0, true, UINT64_MAX, ""}, /* beyond 64 bits: clamped */
		{"i", UINT64_MAX, 3, false, 3,
		 "member \"i\" is out of range (-42 not in 0..18446744073709551615)"},
		{"neg", UINT64_MAX, 3, false, 3,
		 "member \"neg\" is out of range (-9223372036854775808 not in "
		 "0..18446744073709551615)"},
		{"x", UINT64_MAX, 9, false, 9, ""},
		{"x", UINT64_MAX, 9, true, 9, "member \"x\" is missing"},
		{"b", UINT64_MAX, 9, false, 9, "member \"b\" is not of JSON type int"},
		{"n", UINT64_MAX, 9, true, 9, "member \"n\" is not of JSON type int"},
	};
	struct json_object *o = *state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char err[128] = "";
		struct ew_json_rd rd = RD(err, NULL);
		uint64_t x = ew_json_rd_uint(&rd, o, cases[i].key, cases[i].max, cases[i].dflt,
					     cases[i].required);

		if (x != cases[i].val || rd.r != (cases[i].err[0] ? -EINVAL : 0) ||
		    strcmp(err, cases[i].err))
			fail_msg("case %zu (\"%s\"): want %llu, '%s'; got %llu, %d, '%s'", i,
				 cases[i].key, (unsigned long long)cases[i].val, cases[i].err,
				 (unsigned long long)x, rd.r, err);
	}
}

static void test_rd_bool_str(void **state)
{
	static const struct {
		const char *key;
		bool required;
		const char *err;
	} cases[] = {
		{"x", false, ""},
		{"x", true, "member \"k.x\" is missing"},
		{"i", false, "member \"k.i\" is not of JSON type %s"},
		{"n", true, "member \"k.n\" is not of JSON type %s"},
	};
	struct json_object *o = *state;
	char err[128] = "", want[128];
	struct ew_json_rd rd = RD(err, "k");

	assert_true(ew_json_rd_bool(&rd, o, "b", false, true));
	assert_string_equal(ew_json_rd_str(&rd, o, "s", NULL, true), "text");
	assert_int_equal(rd.r, 0);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		for (int t = 0; t < 2; t++) {
			const char *tname = t ? "string" : "boolean";

			err[0] = '\0';
			rd = RD(err, "k");
			if (t)
				assert_string_equal(ew_json_rd_str(&rd, o, cases[i].key, "dflt",
								   cases[i].required),
						    "dflt");
			else
				assert_true(ew_json_rd_bool(&rd, o, cases[i].key, true,
							    cases[i].required));
			snprintf(want, sizeof(want), cases[i].err, tname);
			if (rd.r != (want[0] ? -EINVAL : 0) || strcmp(err, want))
				fail_msg("case %zu (\"%s\" as %s): want '%s', got %d, '%s'", i,
					 cases[i].key, tname, want, rd.r, err);
		}
	}
}

/* A value that is no member (an array's element): named by what it is. */
static void test_rd_int_value(void **state)
{
	struct json_object *o = *state, *a = ew_json_get(o, "a", EW_JSON_ARRAY);
	char err[128] = "";
	struct ew_json_rd rd = RD(err, "ignored");

	assert_non_null(a);
	assert_int_equal(
		ew_json_rd_int_value(&rd, json_object_array_get_idx(a, 1), "a signal", 0, 255), 2);
	assert_int_equal(rd.r, 0);
	assert_int_equal(
		ew_json_rd_int_value(&rd, json_object_array_get_idx(a, 1), "a signal", 3, 255), 0);
	assert_int_equal(rd.r, -EINVAL);
	assert_string_equal(err, "a signal is out of range (2 not in 3..255)");
	rd = RD(err, NULL);
	assert_int_equal(ew_json_rd_int_value(&rd, NULL, "a sample's time", 0, 9), 0);
	assert_string_equal(err, "a sample's time is not an integer");
	rd = RD(err, NULL);
	assert_int_equal(ew_json_rd_int_value(&rd, ew_json_get(o, "s", EW_JSON_STRING),
					      "an exit code", 0, 9),
			 0);
	assert_string_equal(err, "an exit code is not an integer");
}

/* What a message quotes of a file cannot start a line or a terminal escape. */
static void test_rd_clean(void **state)
{
	struct json_object *o = *state;
	char err[128] = "";
	struct ew_json_rd rd = RD(err, NULL);
	const char *c = ew_json_rd_str(&rd, o, "c", "", true);

	assert_string_equal(c, "a\x1b[2Jb\nc"); /* the value itself is untouched */
	assert_int_equal(ew_json_rd_fail(&rd, -EINVAL, "unknown rule '%s'\x7f\t", c), -EINVAL);
	assert_string_equal(err, "unknown rule 'a?[2Jb?c'??");
	/* In a member's name as well: the in-prefix comes from the caller, may come from a file. */
	rd = RD(err, "q\r");
	assert_null(ew_json_rd_member(&rd, o, "x\x01", EW_JSON_INT, true));
	assert_string_equal(err, "member \"q?.x?\" is missing");
}

/* No room for a message, or little: the error is still told by r, the message cut. */
static void test_rd_errlen(void **state)
{
	struct json_object *o = *state;
	struct ew_json_rd rd = {.err = NULL, .errlen = 0};
	char small[12], one[1] = {'x'}, fit[40];

	assert_int_equal(ew_json_rd_uint(&rd, o, "i", 10, 4, true), 4);
	assert_int_equal(rd.r, -EINVAL);
	rd = (struct ew_json_rd){.err = NULL, .errlen = 0};
	assert_int_equal(ew_json_rd_fail(&rd, -ENOMEM, "out of %s", "memory"), -ENOMEM);

	/* The member's name alone is longer than the buffer. */
	memset(small, 'x', sizeof(small));
	rd = RD(small, "drops");
	assert_null(ew_json_rd_member(&rd, o, "total", EW_JSON_INT, true));
	assert_int_equal(rd.r, -EINVAL);
	assert_string_equal(small, "member \"dro");
	/* The name fits, the rest is cut. */
	rd = RD(fit, "drops");
	assert_null(ew_json_rd_member(&rd, o, "total", EW_JSON_INT, true));
	assert_string_equal(fit, "member \"drops.total\" is missing");
	rd = RD(small, NULL);
	ew_json_rd_fail(&rd, -EINVAL, "%s", "a message of more than twelve bytes");
	assert_string_equal(small, "a message o");
	rd = RD(one, NULL);
	assert_null(ew_json_rd_member(&rd, o, "x", EW_JSON_INT, true));
	assert_int_equal(rd.r, -EINVAL);
	assert_int_equal(one[0], '\0');
}

static void test_parse(void **state)
{
	static const struct {
		const char *json;
		size_t len; /* 0: strlen */
		int ret;
		enum ew_json_parse_error error;
		size_t at;
		enum ew_json_type type;
	} cases[] = {
		{"{\"a\":1}", 0, 0, EW_JSON_PARSE_OK, 7, EW_JSON_OBJECT},
		{" [1,2] \n\t\r ", 0, 0, EW_JSON_PARSE_OK, 11, EW_JSON_ARRAY},
		{"null ", 0, 0, EW_JSON_PARSE_OK, 5, EW_JSON_NULL},
		{"42\n", 0, 0, EW_JSON_PARSE_OK, 3, EW_JSON_INT},
		/* A bare scalar at the very end: json-c cannot tell 42 from 420 yet. */
		{"42", 0, -EINVAL, EW_JSON_PARSE_TRUNCATED, 2, EW_JSON_NULL},
		{"null", 0, -EINVAL, EW_JSON_PARSE_TRUNCATED, 4, EW_JSON_NULL},
		{"", 0, -EINVAL, EW_JSON_PARSE_TRUNCATED, 0, EW_JSON_NULL},
		{"{\"a\":", 0, -EINVAL, EW_JSON_PARSE_TRUNCATED, 5, EW_JSON_NULL},
		{"{]", 0, -EINVAL, EW_JSON_PARSE_INVALID, 1, EW_JSON_NULL},
		{"{} x", 0, -EINVAL, EW_JSON_PARSE_TRAILING, 3, EW_JSON_NULL},
		{"{}{}", 0, -EINVAL, EW_JSON_PARSE_TRAILING, 2, EW_JSON_NULL},
		{"{}\0 ", 4, -EINVAL, EW_JSON_PARSE_TRAILING, 2,
		 EW_JSON_NULL}, /* a NUL is not space */
		{"{\"a\":1} trailing", 7, 0, EW_JSON_PARSE_OK, 7,
		 EW_JSON_OBJECT}, /* only len bytes */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].json);
		struct ew_json_parse_status st = {.at = 12345};
		struct json_object *o = (struct json_object *)&st;
		int r = ew_json_parse(cases[i].json, len, &o, &st);

		if (r != cases[i].ret || st.error != cases[i].error || st.at != cases[i].at)
			fail_msg("case %zu: want %d (%d at %zu), got %d (%d at %zu)", i,
				 cases[i].ret, cases[i].error, cases[i].at, r, st.error, st.at);
		if (r) {
			assert_null(o);
		} else {
			assert_true(ew_json_is(o, cases[i].type));
		}
		if (st.error == EW_JSON_PARSE_INVALID)
			assert_true(st.desc && st.desc[0]);
		json_object_put(o);
	}
	/* The status is optional. */
	{
		struct json_object *o;

		assert_int_equal(ew_json_parse("{", 1, &o, NULL), -EINVAL);
		assert_null(o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_type_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lenient, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member, setup, teardown),
		cmocka_unit_test_setup_teardown(test_int_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rd_member, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rd_sticky, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rd_int, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rd_uint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rd_bool_str, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rd_int_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rd_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rd_errlen, setup, teardown),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests_name("json_read", tests, NULL, NULL);
}
