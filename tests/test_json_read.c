// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests for src/core/json_read.c, the one JSON reading helper of recordings, the state file and
 * the runtimes' metadata: the lenient getters (absent or wrong type gives the default), the
 * strict ones (absent, wrong type and out of range told apart) and the parse of one whole
 * document. Table-driven, the negative cases beside the positive ones.
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
			  "\"big\":99999999999999999999,\"neg\":-99999999999999999999}";

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
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests_name("json_read", tests, NULL, NULL);
}
