// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * src/output/filter.c: the options after an output spec's ';' (events=, min_severity=), case by
 * case with the errors named, and which records a filter takes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "exitwatch/detect/detector.h"
#include "exitwatch/output/filter.h"
#include "exitwatch/util/util.h"

#define EV(t) (1u << (t))

static const struct split_case {
	const char *arg;
	int ret;
	const char *spec;
	uint32_t events;
	enum ew_severity min;
	const char *err; /* a part of the message */
} split_cases[] = {
	{"stdout", 0, "stdout", 0, EW_SEV_DEFAULT, NULL},
	{"file:/var/log/ew.ndjson", 0, "file:/var/log/ew.ndjson", 0, EW_SEV_DEFAULT, NULL},
	{"stdout;events=finding,resolved", 0, "stdout", EV(EW_REC_FINDING) | EV(EW_REC_RESOLVED),
	 EW_SEV_DEFAULT, NULL},
	{"tcp://127.0.0.1:5170;min_severity=warning", 0, "tcp://127.0.0.1:5170", 0, EW_SEV_WARNING,
	 NULL},
	{"stdout;events= container_exit , agent;min_severity=NOTICE", 0, "stdout",
	 EV(EW_REC_EXIT) | EV(EW_REC_AGENT), EW_SEV_NOTICE, NULL},
	{"stdout;min_severity=CRITICAL;events=finding", 0, "stdout", EV(EW_REC_FINDING),
	 EW_SEV_CRITICAL, NULL},
	{"stdout;events=findings", -EINVAL, NULL, 0, 0, "'findings' is not a record type"},
	{"stdout;events=", -EINVAL, NULL, 0, 0, "an empty value"},
	{"stdout;events=finding,", -EINVAL, NULL, 0, 0, "'' is not a record type"},
	{"stdout;min_severity=LOUD", -EINVAL, NULL, 0, 0, "'LOUD' is not a severity"},
	{"stdout;colour=1", -EINVAL, NULL, 0, 0, "unknown option 'colour'"},
	{"stdout;events", -EINVAL, NULL, 0, 0, "expected events=LIST"},
	{"stdout;events=finding;events=agent", -EINVAL, NULL, 0, 0, "events given twice"},
	{"stdout;min_severity=INFO;min_severity=ERROR", -EINVAL, NULL, 0, 0,
	 "min_severity given twice"},
	{"stdout;", -EINVAL, NULL, 0, 0, "expected events=LIST"},
};

static void test_split_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(split_cases); i++) {
		const struct split_case *c = &split_cases[i];
		struct ew_output_filter f;
		char spec[128] = "", err[256] = "";
		int r = ew_output_filter_split(c->arg, spec, sizeof(spec), &f, err, sizeof(err));

		if (r != c->ret)
			fail_msg("%s: returned %d, want %d (%s)", c->arg, r, c->ret, err);
		if (r) {
			if (!strstr(err, c->err))
				fail_msg("%s: error '%s' does not say '%s'", c->arg, err, c->err);
			continue;
		}
		assert_string_equal(spec, c->spec);
		assert_int_equal(f.events, c->events);
		assert_int_equal(f.min_severity, c->min);
		assert_int_equal(ew_output_filter_is_all(&f), !c->events && !c->min);
	}
}

/* What a message quotes of the input stays one line of ASCII, whatever bytes the input held. */
static void test_messages_clean(void **state)
{
	static const char *const bad[] = {"st\xff\x01dout;events=\xf7\n", "stdout;\x1b[2Jx=1",
					  "stdout;min_severity=\xe2\x80\xa8", "s\tx;\x7f"};
	struct ew_output_filter f;
	char spec[128], err[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_int_equal(
			ew_output_filter_split(bad[i], spec, sizeof(spec), &f, err, sizeof(err)),
			-EINVAL);
		assert_true(err[0]);
		for (const char *c = err; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
				fail_msg("case %zu: byte 0x%02x in '%s'", i, (unsigned char)*c,
					 err);
	}
}

static void test_split_too_long(void **state)
{
	struct ew_output_filter f;
	char spec[8], err[256] = "";

	(void)state;
	assert_int_equal(
		ew_output_filter_split("file:/var/log/x", spec, sizeof(spec), &f, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "longer than 7 bytes"));
}

/* Which records a filter takes: by type, and by the severity the record is emitted with. */
static void test_take(void **state)
{
	struct ew_output_filter only = {.events = EV(EW_REC_FINDING) | EV(EW_REC_RESOLVED)};
	struct ew_output_filter warn = {.min_severity = EW_SEV_WARNING};
	struct ew_output_filter all = {0};
	struct ew_finding crit = {.severity = EW_SEV_CRITICAL}, info = {.severity = EW_SEV_INFO};
	struct ew_record start = {.type = EW_REC_START},
			 exit3 = {.type = EW_REC_EXIT, .cls = EW_CLASS_CONFIG_ERROR},
			 exit0 = {.type = EW_REC_EXIT, .cls = EW_CLASS_CLEAN},
			 fcrit = {.type = EW_REC_FINDING, .finding = &crit},
			 finfo = {.type = EW_REC_FINDING, .finding = &info},
			 res = {.type = EW_REC_RESOLVED, .finding = &crit};

	(void)state;
	assert_false(ew_output_filter_take(&only, &start));
	assert_false(ew_output_filter_take(&only, &exit3));
	assert_true(ew_output_filter_take(&only, &fcrit));
	assert_true(ew_output_filter_take(&only, &finfo));
	assert_true(ew_output_filter_take(&only, &res));
	/* container_start is INFO, an exit 3 WARNING, a clean exit INFO, a resolution NOTICE. */
	assert_false(ew_output_filter_take(&warn, &start));
	assert_true(ew_output_filter_take(&warn, &exit3));
	assert_false(ew_output_filter_take(&warn, &exit0));
	assert_true(ew_output_filter_take(&warn, &fcrit));
	assert_false(ew_output_filter_take(&warn, &finfo));
	assert_false(ew_output_filter_take(&warn, &res));
	assert_true(ew_output_filter_take(&all, &start));
	assert_true(ew_output_filter_take(&all, &res));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_table),
		cmocka_unit_test(test_messages_clean),
		cmocka_unit_test(test_split_too_long),
		cmocka_unit_test(test_take),
	};

	return cmocka_run_group_tests_name("filter", tests, NULL, NULL);
}
