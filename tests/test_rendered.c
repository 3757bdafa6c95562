// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * src/render/rendered.c: a record rendered on demand, each format at most once, the bytes those
 * of the renderers (render_json.c, render_text.c) called directly.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exitwatch/core/exit_class.h"
#include "exitwatch/identity/identity.h"
#include "exitwatch/render/render_json.h"
#include "exitwatch/render/render_text.h"
#include "exitwatch/render/rendered.h"
#include "exitwatch/util/util.h"

struct fx {
	struct ew_class_config classes;
	struct ew_render_ctx ctx;
	struct ew_identity id;
	struct ew_event ev;
	struct ew_record start, exit;
	struct ew_rendered rr;
	struct ew_buf exp;
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	if (!x)
		return -1;
	ew_class_config_default(&x->classes);
	x->ctx = (struct ew_render_ctx){.node = "node-1", .classes = &x->classes};
	ew_strlcpy(x->id.cgroup, "/ew-test/web", sizeof(x->id.cgroup));
	x->id.cgroup_id = 4242;
	if (ew_cgroup_parse(x->id.cgroup, &x->id.cg)) {
		free(x);
		return -1;
	}
	x->id.meta.restart_count = -1;
	ew_identity_finish(&x->id);
	x->ev = (struct ew_event){.type = EW_EVENT_START,
				  .time_ns = 1795954528853738259ULL,
				  .cgroup_id = 4242,
				  .pid = 77,
				  .ppid = 1};
	strcpy(x->ev.comm, "web");
	strcpy(x->ev.argv0, "/srv/web");
	x->start = (struct ew_record){
		.type = EW_REC_START, .time_ns = x->ev.time_ns, .ev = &x->ev, .id = &x->id};
	x->exit = x->start;
	x->exit.type = EW_REC_EXIT;
	ew_rendered_init(&x->rr, &x->ctx, false);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	ew_rendered_free(&x->rr);
	ew_buf_free(&x->exp);
	free(x);
	return 0;
}

/* Format f of rr is the renderer's own rendering of r, byte for byte. */
static void expect_line(struct fx *x, const struct ew_record *r, enum ew_format f, bool colour)
{
	const char *line;
	size_t len;

	ew_buf_reset(&x->exp);
	if (f == EW_FORMAT_TEXT)
		assert_int_equal(ew_render_text(r, &x->ctx, colour, &x->exp), 0);
	else
		assert_int_equal(ew_render_json(r, &x->ctx, &x->exp), 0);
	assert_int_equal(ew_rendered_get(&x->rr, f, &line, &len), 0);
	assert_int_equal(len, x->exp.len);
	assert_memory_equal(line, x->exp.data, len);
}

static void test_lazy_once_per_format(void **state)
{
	struct fx *x = *state;
	const char *a, *b;
	size_t alen, blen;

	ew_rendered_set(&x->rr, &x->start);
	assert_int_equal(x->rr.renders[EW_FORMAT_JSON], 0); /* nothing before it is asked */
	assert_int_equal(x->rr.renders[EW_FORMAT_TEXT], 0);
	assert_int_equal(ew_rendered_get(&x->rr, EW_FORMAT_JSON, &a, &alen), 0);
	assert_int_equal(ew_rendered_get(&x->rr, EW_FORMAT_JSON, &b, &blen), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(alen, blen);
	assert_int_equal(x->rr.renders[EW_FORMAT_JSON], 1);
	assert_int_equal(x->rr.renders[EW_FORMAT_TEXT], 0);
	expect_line(x, &x->start, EW_FORMAT_JSON, false);
	expect_line(x, &x->start, EW_FORMAT_TEXT, false);
	expect_line(x, &x->start, EW_FORMAT_TEXT, false);
	assert_int_equal(x->rr.renders[EW_FORMAT_JSON], 1);
	assert_int_equal(x->rr.renders[EW_FORMAT_TEXT], 1);

	/* A new record is rendered anew, into the same buffers. */
	ew_rendered_set(&x->rr, &x->exit);
	expect_line(x, &x->exit, EW_FORMAT_JSON, false);
	assert_int_equal(x->rr.renders[EW_FORMAT_JSON], 2);
	assert_int_equal(x->rr.renders[EW_FORMAT_TEXT], 1);
}

static void test_colour(void **state)
{
	struct fx *x = *state;

	ew_rendered_free(&x->rr);
	ew_rendered_init(&x->rr, &x->ctx, true);
	ew_rendered_set(&x->rr, &x->exit);
	expect_line(x, &x->exit, EW_FORMAT_TEXT, true);
	expect_line(x, &x->exit, EW_FORMAT_JSON, false); /* JSON has no colours */
}

/* Lines given, no record: what deferred records are when they are written. */
static void test_given_lines(void **state)
{
	static const char json[] = "{\"event\":\"finding\"}\n";
	struct fx *x = *state;
	const char *line;
	size_t len;

	ew_rendered_set(&x->rr, NULL);
	ew_rendered_set_line(&x->rr, EW_FORMAT_JSON, json, sizeof(json) - 1);
	assert_int_equal(ew_rendered_get(&x->rr, EW_FORMAT_JSON, &line, &len), 0);
	assert_ptr_equal(line, json);
	assert_int_equal(len, sizeof(json) - 1);
	assert_int_equal(ew_rendered_get(&x->rr, EW_FORMAT_TEXT, &line, &len), -ENODATA);
	assert_int_equal(x->rr.renders[EW_FORMAT_JSON], 0);
	assert_int_equal(x->rr.renders[EW_FORMAT_TEXT], 0);

	/* A record set afterwards replaces the given lines. */
	ew_rendered_set(&x->rr, &x->start);
	expect_line(x, &x->start, EW_FORMAT_JSON, false);
}

/* A record that cannot be rendered says so for every asker, and is tried once. */
static void test_errors(void **state)
{
	struct fx *x = *state;
	struct ew_record bad = x->exit;
	const char *line = NULL;
	size_t len = 0;

	bad.id = NULL;
	ew_rendered_set(&x->rr, &bad);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ew_rendered_get(&x->rr, EW_FORMAT_JSON, &line, &len), -EINVAL);
		assert_int_equal(ew_rendered_get(&x->rr, EW_FORMAT_TEXT, &line, &len), -EINVAL);
	}
	assert_null(line);
	assert_int_equal(x->rr.renders[EW_FORMAT_JSON], 1);
	assert_int_equal(x->rr.renders[EW_FORMAT_TEXT], 1);
	assert_int_equal(ew_rendered_get(&x->rr, EW_FORMAT__COUNT, &line, &len), -EINVAL);
	assert_int_equal(ew_rendered_get(&x->rr, (enum ew_format) - 1, &line, &len), -EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_lazy_once_per_format),
		T(test_colour),
		T(test_given_lines),
		T(test_errors),
	};

	return cmocka_run_group_tests_name("rendered", tests, NULL, NULL);
}
