// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests for src/output/output.c, the seam between the renderers and the sinks: output specs and
 * options, each record rendered once per format for the sinks that ask, findings held until
 * their cause is written, per-output filters. Real files in a mkdtemp() directory; no sockets
 * (the stream outputs are tested in tests/integration/test_stream.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>

#include "exitwatch/core/exit_class.h"
#include "exitwatch/detect/detector.h"
#include "exitwatch/identity/identity.h"
#include "exitwatch/render/render_json.h"
#include "exitwatch/render/render_text.h"
#include "output_fixture.h"

/* ---- specs and options ----------------------------------------------------------------- */

static const struct spec_case {
	const char *spec; /* '@' is replaced by the test directory */
	int ret;
	const char *err; /* exact, '@' replaced likewise */
} spec_cases[] = {
	{"stdout", 0, ""},
	{"-", 0, ""},
	{"file:@/out.log", 0, ""},
	{"tcp://127.0.0.1:5170", 0, ""},
	{"tcp://[::1]:24224", 0, ""},
	{"tcp://localhost:9000", 0, ""},
	{"unix:@/fluent.sock", 0, ""},
	{"", -EINVAL, "unknown output '': use stdout, file:PATH, tcp://HOST:PORT or unix:PATH"},
	{"foo", -EINVAL,
	 "unknown output 'foo': use stdout, file:PATH, tcp://HOST:PORT or unix:PATH"},
	{"udp://127.0.0.1:514", -EINVAL,
	 "unknown output 'udp://127.0.0.1:514': use stdout, file:PATH, tcp://HOST:PORT or "
	 "unix:PATH"},
	{"tcp:127.0.0.1:5170", -EINVAL,
	 "unknown output 'tcp:127.0.0.1:5170': use stdout, file:PATH, tcp://HOST:PORT or "
	 "unix:PATH"},
	{"Stdout", -EINVAL,
	 "unknown output 'Stdout': use stdout, file:PATH, tcp://HOST:PORT or unix:PATH"},
	{"tcp://", -EINVAL, "output 'tcp://': missing port: use tcp://HOST:PORT"},
	{"tcp://collector", -EINVAL, "output 'tcp://collector': missing port: use tcp://HOST:PORT"},
	{"tcp://127.0.0.1:", -EINVAL,
	 "output 'tcp://127.0.0.1:': missing port: use tcp://HOST:PORT"},
	{"tcp://:5170", -EINVAL, "output 'tcp://:5170': missing host: use tcp://HOST:PORT"},
	{"tcp://[]:5170", -EINVAL, "output 'tcp://[]:5170': missing host: use tcp://HOST:PORT"},
	{"tcp://127.0.0.1:0", -EINVAL,
	 "output 'tcp://127.0.0.1:0': port must be a number from 1 to 65535"},
	{"tcp://127.0.0.1:65536", -EINVAL,
	 "output 'tcp://127.0.0.1:65536': port must be a number from 1 to 65535"},
	{"tcp://127.0.0.1:51x", -EINVAL,
	 "output 'tcp://127.0.0.1:51x': port must be a number from 1 to 65535"},
	{"tcp://127.0.0.1:+80", -EINVAL,
	 "output 'tcp://127.0.0.1:+80': port must be a number from 1 to 65535"},
	{"tcp://127.0.0.1:syslog", -EINVAL,
	 "output 'tcp://127.0.0.1:syslog': port must be a number from 1 to 65535"},
	{"tcp://::1:5170", -EINVAL,
	 "output 'tcp://::1:5170': put an IPv6 address in brackets: tcp://[ADDR]:PORT"},
	{"tcp://[::1:5170", -EINVAL,
	 "output 'tcp://[::1:5170': missing ']' after the IPv6 address"},
	{"tcp://[::1]", -EINVAL, "output 'tcp://[::1]': missing port: use tcp://HOST:PORT"},
	{"file:", -EINVAL, "output 'file:': missing PATH"},
	{"unix:", -EINVAL, "output 'unix:': missing PATH"},
	{"unix:/run/"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaa.sock",
	 -EINVAL,
	 "output "
	 "'unix:/run/"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaa.sock': socket path longer than 107 bytes"},
	{"file:@/missing/out.log", -ENOENT,
	 "output 'file:@/missing/out.log': cannot open @/missing/out.log: No such file or "
	 "directory"},
};

static void subst(char *dst, size_t size, const char *tmpl, const char *dir)
{
	size_t n = 0;

	for (const char *p = tmpl; *p && n + 1 < size; p++) {
		if (*p == '@')
			n += ew_strlcpy(dst + n, dir, size - n);
		else
			dst[n++] = *p;
	}
	dst[n < size ? n : size - 1] = '\0';
}

static void test_spec_table(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);

	for (size_t i = 0; i < ARRAY_SIZE(spec_cases); i++) {
		struct ew_outputs *o = ew_outputs_new(&opts);
		char spec[512], exp[512], err[512] = "";
		int r;

		assert_non_null(o);
		subst(spec, sizeof(spec), spec_cases[i].spec, f->dir);
		subst(exp, sizeof(exp), spec_cases[i].err, f->dir);
		r = ew_outputs_add(o, spec, err, sizeof(err));
		if (r != spec_cases[i].ret || strcmp(err, exp) != 0)
			fail_msg("%s: expected %d [%s], got %d [%s]", spec, spec_cases[i].ret, exp,
				 r, err);
		assert_int_equal(ew_outputs_status(o, NULL, 0), 0);
		if (r == 0) {
			struct ew_sink_status st = status_of(o, 0);

			assert_string_equal(st.name, spec);
			assert_int_equal(st.delivered, 0);
			assert_int_equal(st.dropped, 0);
		}
		ew_outputs_free(o);
	}
}

static void test_add_limits(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct ew_outputs *o = ew_outputs_new(&opts);
	struct ew_sink_status st[EW_MAX_SINKS];
	char spec[256], err[256] = "";

	assert_int_equal(ew_outputs_add(o, "stdout", err, sizeof(err)), 0);
	assert_int_equal(ew_outputs_add(o, "-", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "output '-': given twice");
	snprintf(spec, sizeof(spec), "file:%s/a.log", f->dir);
	assert_int_equal(ew_outputs_add(o, spec, err, sizeof(err)), 0);
	assert_int_equal(ew_outputs_add(o, spec, err, sizeof(err)), -EINVAL);
	for (int i = 2; i < EW_MAX_SINKS; i++) {
		snprintf(spec, sizeof(spec), "file:%s/%d.log", f->dir, i);
		assert_int_equal(ew_outputs_add(o, spec, err, sizeof(err)), 0);
	}
	snprintf(spec, sizeof(spec), "file:%s/one-too-many.log", f->dir);
	assert_int_equal(ew_outputs_add(o, spec, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too many outputs (at most 8)"));
	/* A NULL err is allowed. */
	assert_int_equal(ew_outputs_add(o, "bogus", NULL, 0), -EINVAL);
	assert_int_equal(ew_outputs_status(o, st, EW_MAX_SINKS), EW_MAX_SINKS);
	assert_int_equal(ew_outputs_status(o, st, 3), 3);
	assert_string_equal(st[0].name, "stdout");
	ew_outputs_free(o);
	ew_outputs_free(NULL);
}

/*
 * Out of memory while adding an output: glibc lets a program replace malloc, calloc, realloc and
 * free, calls from inside libc included (strdup, getaddrinfo), so these fail the allocation
 * fail_in counts down to, and pass the rest to glibc's. Not with ASan, whose allocator these
 * would bypass, nor on another libc: the test is then not built.
 */
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
#define HAVE_ALLOC_FAILURES 1

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

static long fail_in = -1; /* 0: the next allocation fails; -1: none does */

static bool alloc_fails(void)
{
	if (fail_in < 0 || fail_in-- > 0)
		return false;
	errno = ENOMEM;
	return true;
}

void *malloc(size_t n)
{
	return alloc_fails() ? NULL : __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	return alloc_fails() ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	return alloc_fails() ? NULL : __libc_realloc(p, n);
}

void free(void *p)
{
	__libc_free(p);
}

/*
 * Each allocation of ew_outputs_add() fails in turn, for each kind of output: an error is a
 * negative errno (-ENOMEM, or -EINVAL when the resolver reports its own out of memory) with a
 * sentence in err naming the output, never an empty one (the agent printed "exitwatch: error: "
 * and nothing); a spool that cannot be allocated is a warning, and the output is added.
 */
static void test_add_out_of_memory(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	const char *specs[] = {"tcp://127.0.0.1:5170", "unix:@/fluent.sock", "file:@/out.log",
			       "stdout"};
	void *(*volatile alloc)(size_t) = malloc; /* a call the compiler cannot elide */
	void *probe;

	fail_in = 0;
	probe = alloc(1);
	fail_in = -1;
	free(probe);
	ew_t_need(!probe, "malloc cannot be replaced in this process (under valgrind?)");
	for (size_t i = 0; i < ARRAY_SIZE(specs); i++) {
		char spec[512];
		long n;

		subst(spec, sizeof(spec), specs[i], f->dir);
		for (n = 0;; n++) {
			struct ew_outputs *o = ew_outputs_new(&opts);
			char err[512] = "";
			int r;

			assert_non_null(o);
			fail_in = n;
			r = ew_outputs_add(o, spec, err, sizeof(err));
			if (fail_in >= 0) { /* fewer allocations than n: all were tried */
				fail_in = -1;
				assert_int_equal(r, 0);
				ew_outputs_free(o);
				break;
			}
			if (r < 0 && (err[0] == '\0' || (r != -ENOMEM && r != -EINVAL)))
				fail_msg("%s, allocation %ld failing: %d [%s]", spec, n, r, err);
			if (r < 0 && strncmp(err, "output '", 8) != 0)
				fail_msg("%s, allocation %ld failing: [%s] names no output", spec,
					 n, err);
			ew_outputs_free(o);
		}
		assert_true(n > 0);
	}
}
#endif

static void test_opts_default(void **state)
{
	struct ew_output_opts o;

	(void)state;
	memset(&o, 0xff, sizeof(o));
	ew_output_opts_default(&o);
	assert_int_equal(o.file_max_bytes, 100 * 1024 * 1024);
	assert_int_equal(o.file_keep, 5);
	assert_int_equal(o.queue_max_lines, 10000);
	assert_int_equal(o.spool_max_bytes, 64 * 1024 * 1024);
	assert_string_equal(o.spool_dir, "/var/lib/exitwatch/spool");
	assert_int_equal(o.reconnect_min_ns, 100 * EW_NSEC_PER_MSEC);
	assert_int_equal(o.reconnect_max_ns, 30 * EW_NSEC_PER_SEC);
	assert_false(o.stdout_text);
}

/* ---- records: the seam with the renderers ---------------------------------------------- */

/*
 * A container's exit and the two findings it raised, as the pipeline hands them over. The
 * expected lines come from the renderers themselves, called directly: the outputs must write
 * exactly those bytes, and ask for each format once per record.
 */
struct recs {
	struct ew_class_config classes;
	struct ew_render_ctx ctx;
	struct ew_identity id;
	struct ew_event ev;
	struct ew_startup su;
	struct ew_finding f[2];
	struct ew_record exit, finding[2];
};

static void recs_init(struct recs *x)
{
	memset(x, 0, sizeof(*x));
	ew_class_config_default(&x->classes);
	x->ctx = (struct ew_render_ctx){.node = "node-1", .classes = &x->classes};
	ew_strlcpy(x->id.cgroup, "/ew-test/web", sizeof(x->id.cgroup));
	x->id.cgroup_id = 4242;
	assert_int_equal(ew_cgroup_parse(x->id.cgroup, &x->id.cg), 0);
	x->id.meta.restart_count = -1;
	ew_identity_finish(&x->id);
	x->ev = (struct ew_event){.type = EW_EVENT_EXIT,
				  .time_ns = 1795954528853738259ULL,
				  .cgroup_id = 4242,
				  .pid = 77,
				  .exit_word = 3 << 8,
				  .uptime_ns = 2 * EW_NSEC_PER_SEC};
	x->ev.status.code = 3;
	strcpy(x->ev.comm, "web");
	strcpy(x->ev.argv0, "/srv/web");
	x->exit = (struct ew_record){.type = EW_REC_EXIT,
				     .time_ns = x->ev.time_ns,
				     .ev = &x->ev,
				     .id = &x->id,
				     .cls = ew_exit_classify(&x->ev, &x->classes),
				     .startup = &x->su};
	for (int i = 0; i < 2; i++) {
		struct ew_finding *f = &x->f[i];

		*f = (struct ew_finding){.rule = i ? EW_RULE_RESTART_RATE : EW_RULE_EXIT_CODE_BURST,
					 .severity = i ? EW_SEV_WARNING : EW_SEV_CRITICAL,
					 .scope = EW_SCOPE_IDENTITY,
					 .time_ns = x->ev.time_ns,
					 .count = 4,
					 .threshold = 3,
					 .window_ns = 300 * EW_NSEC_PER_SEC};
		snprintf(f->finding_id, sizeof(f->finding_id), "f-%016d", i + 1);
		x->finding[i] = (struct ew_record){
			.type = EW_REC_FINDING, .time_ns = f->time_ns, .finding = f, .id = &x->id};
	}
}

/* What the renderer makes of r in format f: the bytes a sink must write. */
static char *expected(const struct recs *x, const struct ew_record *r, enum ew_format f,
		      size_t *len)
{
	struct ew_buf b = EW_BUF_INIT;

	if (f == EW_FORMAT_TEXT)
		assert_int_equal(ew_render_text(r, &x->ctx, false, &b), 0);
	else
		assert_int_equal(ew_render_json(r, &x->ctx, &b), 0);
	*len = b.len;
	return b.data;
}

/* Whether data[0..len) is exactly the renderings of recs[0..n) in format f, in that order. */
static void expect_records(const struct recs *x, const char *data, size_t len,
			   const struct ew_record *const *recs, size_t n, enum ew_format f)
{
	size_t off = 0;

	for (size_t i = 0; i < n; i++) {
		size_t elen;
		char *e = expected(x, recs[i], f, &elen);

		assert_true(off + elen <= len);
		assert_memory_equal(data + off, e, elen);
		off += elen;
		free(e);
	}
	assert_int_equal(off, len);
}

/* stdout (text), file:a.log and file:b.log (JSON): two JSON outputs and a text one. */
static struct ew_outputs *three_outputs(struct fixture *f, bool stdout_text)
{
	struct ew_output_opts opts = test_opts(f);
	const char *names[] = {"a.log", "b.log"};
	struct ew_outputs *o;
	char spec[256], err[256] = "";

	opts.stdout_text = stdout_text;
	o = outputs_with(&opts, "stdout");
	for (int i = 0; i < 2; i++) {
		snprintf(spec, sizeof(spec), "file:%s/%s", f->dir, names[i]);
		if (ew_outputs_add(o, spec, err, sizeof(err)))
			fail_msg("add %s: %s", spec, err);
	}
	return o;
}

static char *file_of(struct fixture *f, const char *name, size_t *len)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	return slurp(path, len);
}

/* Points stdout at DIR/stdout.txt for the test's outputs. */
static int stdout_to_file(struct fixture *f)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/stdout.txt", f->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	stdout_to(f, fd);
	return fd;
}

static void test_render_once_per_format(void **state)
{
	struct fixture *f = *state;
	const struct ew_record *recs[1];
	struct ew_outputs *o;
	struct ew_rendered rr;
	struct recs *x = malloc(sizeof(*x));
	size_t len;
	char *data;
	int fd;

	assert_non_null(x);
	recs_init(x);
	recs[0] = &x->exit;
	fd = stdout_to_file(f);
	o = three_outputs(f, true);
	ew_rendered_init(&rr, &x->ctx, false);
	ew_rendered_set(&rr, &x->exit);
	assert_int_equal(ew_outputs_emit(o, &rr, 0), 0);
	/* Two JSON outputs and a text one: one rendering each. */
	assert_int_equal(rr.renders[EW_FORMAT_JSON], 1);
	assert_int_equal(rr.renders[EW_FORMAT_TEXT], 1);
	ew_outputs_free(o);
	stdout_restore(f);
	close(fd);

	data = file_of(f, "a.log", &len);
	expect_records(x, data, len, recs, 1, EW_FORMAT_JSON);
	free(data);
	data = file_of(f, "b.log", &len);
	expect_records(x, data, len, recs, 1, EW_FORMAT_JSON);
	free(data);
	data = file_of(f, "stdout.txt", &len);
	expect_records(x, data, len, recs, 1, EW_FORMAT_TEXT);
	free(data);
	ew_rendered_free(&rr);
	free(x);
}

static void test_no_text_without_text_output(void **state)
{
	struct fixture *f = *state;
	struct ew_outputs *o;
	struct ew_rendered rr;
	struct recs *x = malloc(sizeof(*x));
	int fd;

	assert_non_null(x);
	recs_init(x);
	fd = stdout_to_file(f);
	o = three_outputs(f, false); /* stdout is JSON too */
	ew_rendered_init(&rr, &x->ctx, false);
	for (int i = 0; i < 3; i++) {
		ew_rendered_set(&rr, &x->exit);
		assert_int_equal(ew_outputs_emit(o, &rr, 0), 0);
	}
	assert_int_equal(rr.renders[EW_FORMAT_JSON], 3);
	assert_int_equal(rr.renders[EW_FORMAT_TEXT], 0);
	ew_outputs_free(o);
	stdout_restore(f);
	close(fd);
	ew_rendered_free(&rr);
	free(x);
}

/*
 * The findings an exit raised are handed over during the exit, before its own record: they are
 * held, rendered while they are valid (the detector's finding is gone by the time they are
 * written), and come out after the exit, in order, byte for byte, in both formats.
 */
static void test_deferred_after_cause(void **state)
{
	struct fixture *f = *state;
	const struct ew_record *recs[3];
	struct ew_outputs *o;
	struct ew_rendered rr;
	struct recs *x = malloc(sizeof(*x));
	const char *names[] = {"a.log", "b.log"};
	size_t len;
	char *data;
	int fd;

	assert_non_null(x);
	recs_init(x);
	recs[0] = &x->exit;
	recs[1] = &x->finding[0];
	recs[2] = &x->finding[1];
	fd = stdout_to_file(f);
	o = three_outputs(f, true);
	ew_rendered_init(&rr, &x->ctx, false);
	for (int i = 0; i < 2; i++) {
		struct ew_finding copy = x->f[i];

		ew_rendered_set(&rr, &x->finding[i]);
		assert_int_equal(ew_outputs_defer(o, &rr), 0);
		/* The detector reuses its finding: what was held must not change with it. */
		memset(&x->f[i], 0x5a, sizeof(x->f[i]));
		x->f[i] = copy;
		x->f[i].count = 99;
	}
	tick(o);
	assert_int_equal(status_of(o, 1).delivered, 0); /* held, not written */
	ew_rendered_set(&rr, &x->exit);
	assert_int_equal(ew_outputs_emit(o, &rr, 0), 0);
	ew_outputs_release(o, 0);
	ew_outputs_release(o, 0); /* nothing twice */
	/* Each record rendered once per format, held ones included. */
	assert_int_equal(rr.renders[EW_FORMAT_JSON], 3);
	assert_int_equal(rr.renders[EW_FORMAT_TEXT], 3);
	ew_outputs_free(o);
	stdout_restore(f);
	close(fd);

	for (int i = 0; i < 2; i++)
		x->f[i].count = 4; /* as they were when held */
	for (int i = 0; i < 2; i++) {
		data = file_of(f, names[i], &len);
		expect_records(x, data, len, recs, 3, EW_FORMAT_JSON);
		free(data);
	}
	data = file_of(f, "stdout.txt", &len);
	expect_records(x, data, len, recs, 3, EW_FORMAT_TEXT);
	free(data);
	ew_rendered_free(&rr);
	free(x);
}

static bool only_findings(void *arg, const struct ew_record *r)
{
	(*(int *)arg)++;
	return r->type == EW_REC_FINDING || r->type == EW_REC_RESOLVED;
}

static bool nothing(void *arg, const struct ew_record *r)
{
	(void)r;
	(*(int *)arg)++;
	return false;
}

/*
 * Per-output filters: a sink takes what its filter takes, held records included, and a format
 * no sink takes a record in is not rendered for it.
 */
static void test_filters(void **state)
{
	struct fixture *f = *state;
	const struct ew_record *recs[3];
	struct ew_outputs *o;
	struct ew_rendered rr;
	struct recs *x = malloc(sizeof(*x));
	int calls_a = 0, calls_stdout = 0;
	size_t len;
	char *data;
	int fd;

	assert_non_null(x);
	recs_init(x);
	fd = stdout_to_file(f);
	o = three_outputs(f, true);
	assert_int_equal(ew_outputs_set_filter(o, 3, nothing, NULL), -EINVAL);
	assert_int_equal(ew_outputs_set_filter(o, 0, nothing, &calls_stdout), 0);
	assert_int_equal(ew_outputs_set_filter(o, 1, only_findings, &calls_a), 0);
	ew_rendered_init(&rr, &x->ctx, false);

	ew_rendered_set(&rr, &x->finding[0]);
	assert_int_equal(ew_outputs_defer(o, &rr), 0);
	ew_rendered_set(&rr, &x->exit);
	assert_int_equal(ew_outputs_emit(o, &rr, 0), 0);
	ew_outputs_release(o, 0);
	/* Text is asked for by stdout alone, which takes nothing. */
	assert_int_equal(rr.renders[EW_FORMAT_TEXT], 0);
	assert_int_equal(rr.renders[EW_FORMAT_JSON], 2);
	/* Once per record and sink: the held finding's filters ran when it was held. */
	assert_int_equal(calls_a, 2);
	assert_int_equal(calls_stdout, 2);

	/* No sink takes it: not rendered at all. */
	assert_int_equal(ew_outputs_set_filter(o, 2, nothing, &calls_stdout), 0);
	ew_rendered_set(&rr, &x->exit);
	assert_int_equal(ew_outputs_emit(o, &rr, 0), 0);
	assert_int_equal(rr.renders[EW_FORMAT_JSON], 2);
	ew_outputs_free(o);
	stdout_restore(f);
	close(fd);

	recs[0] = &x->exit;
	recs[1] = &x->finding[0];
	data = file_of(f, "a.log", &len);
	expect_records(x, data, len, recs + 1, 1, EW_FORMAT_JSON);
	free(data);
	data = file_of(f, "b.log", &len);
	expect_records(x, data, len, recs, 2, EW_FORMAT_JSON);
	free(data);
	data = file_of(f, "stdout.txt", &len);
	assert_int_equal(len, 0);
	free(data);
	ew_rendered_free(&rr);
	free(x);
}

/* A record that cannot be rendered reaches no sink, held or not, and says why. */
static void test_render_error(void **state)
{
	struct fixture *f = *state;
	struct ew_outputs *o;
	struct ew_rendered rr;
	struct recs *x = malloc(sizeof(*x));
	struct ew_record bad;
	size_t len;
	char *data;
	int fd;

	assert_non_null(x);
	recs_init(x);
	bad = x->finding[0];
	bad.finding = NULL;
	fd = stdout_to_file(f);
	o = three_outputs(f, true);
	ew_rendered_init(&rr, &x->ctx, false);
	ew_rendered_set(&rr, &bad);
	assert_int_equal(ew_outputs_defer(o, &rr), -EINVAL);
	assert_int_equal(ew_outputs_emit(o, &rr, 0), -EINVAL);
	/* Each format tried once for the record, not once per sink. */
	assert_int_equal(rr.renders[EW_FORMAT_JSON], 1);
	assert_int_equal(rr.renders[EW_FORMAT_TEXT], 1);
	ew_outputs_release(o, 0);
	ew_outputs_free(o);
	stdout_restore(f);
	close(fd);
	data = file_of(f, "a.log", &len);
	assert_int_equal(len, 0);
	free(data);
	data = file_of(f, "stdout.txt", &len);
	assert_int_equal(len, 0);
	free(data);
	ew_rendered_free(&rr);
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spec_table, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_add_limits, fixture_setup, fixture_teardown),
#ifdef HAVE_ALLOC_FAILURES
		cmocka_unit_test_setup_teardown(test_add_out_of_memory, fixture_setup,
						fixture_teardown),
#endif
		cmocka_unit_test(test_opts_default),
		cmocka_unit_test_setup_teardown(test_render_once_per_format, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_no_text_without_text_output, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_deferred_after_cause, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_filters, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_render_error, fixture_setup, fixture_teardown),
	};

	/* As the agent does: a closed reader is an EPIPE to count, not a death. */
	signal(SIGPIPE, SIG_IGN);
	umask(022);
	/* Expected warnings would bury a failure; tests that check them turn them on. */
	ew_log_init(EW_LOG_ERROR);
	return cmocka_run_group_tests_name("output", tests, NULL, NULL);
}
