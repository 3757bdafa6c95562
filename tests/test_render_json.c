// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The JSON renderer: src/render/render_json.c and message.c (one NDJSON line per record). Every
 * line is parsed back with json-c (strict, UTF-8 validated) and its member names are read from
 * the raw text as well, so a duplicate or forged member cannot hide behind json-c's "last one
 * wins". The examples of docs/schema.md that depend only on a record's inputs are rebuilt and
 * compared byte for byte; like the other tests that read tests/fixtures, this one runs from the
 * repository root. The text renderer's tests are in tests/test_render_text.c.
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
#include <json-c/json.h>

#include "exitwatch/render/render_json.h"
#include "exitwatch/render/render_text.h"
#include "exitwatch/util/clock.h"
#include "render_fixture.h"

/*
 * One line: at least "{}\n", exactly one '\n', at the end, no other raw control byte, DEL or
 * U+2028/U+2029, and one strict JSON object that ends right before the '\n'.
 */
static json_object *parse_line(const char *data, size_t len)
{
	struct json_tokener *tok;
	json_object *obj;

	assert_non_null(data);
	assert_true(len >= 3);
	assert_int_equal(strlen(data), len);
	assert_int_equal(data[len - 1], '\n');
	for (size_t i = 0; i + 1 < len; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c < 0x20 || c == 0x7f)
			fail_msg("raw byte 0x%02x at %zu of: %s", c, i, show(data, len));
		if (c == 0xe2 && i + 2 < len && (unsigned char)data[i + 1] == 0x80 &&
		    ((unsigned char)data[i + 2] & 0xfe) == 0xa8)
			fail_msg("raw U+2028/9 at %zu of: %s", i, show(data, len));
	}
	tok = json_tokener_new();
	assert_non_null(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, data, (int)len - 1);
	if (!obj || json_tokener_get_error(tok) != json_tokener_success)
		fail_msg("json-c: %s: %s", json_tokener_error_desc(json_tokener_get_error(tok)),
			 show(data, len));
	assert_int_equal(json_tokener_get_parse_end(tok), len - 1);
	json_tokener_free(tok);
	assert_true(json_object_is_type(obj, json_type_object));
	return obj;
}

/*
 * The member names of a line as written, with its braces, brackets and commas, values left out:
 * {"a":1,"b":{"c":"x"},"d":[{"e":null}]} gives {a,b{c},d[{e}]}. Read from the raw text, so
 * it sees duplicates (json-c keeps the last) and the order the docs promise.
 */
static void shape(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"') {
			size_t start = ++i;

			while (i < n && s[i] != '"')
				i += s[i] == '\\' ? 2 : 1;
			assert_true(i < n);
			if (i + 1 < n && s[i + 1] == ':') {
				assert_true(o + (i - start) + 1 < outlen);
				memcpy(out + o, s + start, i - start);
				o += i - start;
			}
		} else if (strchr("{}[],", s[i])) {
			assert_true(o + 2 < outlen);
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
}

static void assert_shape(const struct ew_buf *b, const char *want)
{
	char got[4096];

	shape(b->data, b->len, got, sizeof(got));
	if (strcmp(got, want))
		fail_msg("members\n got: %s\nwant: %s", got, want);
}

/* o.path..., NULL: the member, which must exist. */
static json_object *vget(json_object *o, va_list ap)
{
	const char *k;

	while ((k = va_arg(ap, const char *))) {
		json_object *v;

		if (!json_object_object_get_ex(o, k, &v))
			fail_msg("no member \"%s\"", k);
		o = v;
	}
	return o;
}

static json_object *get_(json_object *o, ...)
{
	va_list ap;

	va_start(ap, o);
	o = vget(o, ap);
	va_end(ap);
	return o;
}

static const char *str_(json_object *o, ...)
{
	va_list ap;

	va_start(ap, o);
	o = vget(o, ap);
	va_end(ap);
	assert_true(json_object_is_type(o, json_type_string));
	return json_object_get_string(o);
}

static int64_t int_(json_object *o, ...)
{
	va_list ap;

	va_start(ap, o);
	o = vget(o, ap);
	va_end(ap);
	assert_true(json_object_is_type(o, json_type_int));
	return json_object_get_int64(o);
}

#define GET(o, ...) get_(o, __VA_ARGS__, (const char *)NULL)
#define STR(o, ...) str_(o, __VA_ARGS__, (const char *)NULL)
#define INT(o, ...) int_(o, __VA_ARGS__, (const char *)NULL)

static bool has(json_object *o, const char *k)
{
	return json_object_object_get_ex(o, k, NULL);
}

/* A decoded string member equals want[0..len) exactly (NULs included). */
static void assert_string_bytes(json_object *v, const char *want, size_t len)
{
	assert_true(json_object_is_type(v, json_type_string));
	if ((size_t)json_object_get_string_len(v) != len ||
	    memcmp(json_object_get_string(v), want, len))
		fail_msg("string of %d bytes differs from the %zu expected: %s",
			 json_object_get_string_len(v), len,
			 show(json_object_get_string(v), (size_t)json_object_get_string_len(v)));
}

/* An expected string and its length, NULs included. */
#define DEC(a) (a), (sizeof(a) - 1)

static bool insert_id_ok(const char *id)
{
	if (strlen(id) != 19 || strncmp(id, "ew-", 3))
		return false;
	for (int i = 3; i < 19; i++)
		if (!strchr("0123456789abcdef", id[i]))
			return false;
	return true;
}

static void render(struct fx *fx, const struct ew_record *r)
{
	ew_buf_reset(&fx->out);
	assert_int_equal(ew_render_json(r, &fx->ctx, &fx->out), 0);
}

/* ---- docs/schema.md ---- */

/* The example line of docs/schema.md whose "time" is t (malloc'd, without the '\n'). */
static char *doc_example(const char *t)
{
	char prefix[80], *text, *p, *end, *line;
	FILE *fp = fopen(DOCS, "r");
	long size;

	if (!fp)
		fail_msg("%s: run the test from the repository root", DOCS);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	size = ftell(fp);
	assert_true(size > 0);
	rewind(fp);
	text = calloc(1, (size_t)size + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	snprintf(prefix, sizeof(prefix), "\n{\"time\":\"%s\"", t);
	p = strstr(text, prefix);
	if (!p)
		fail_msg("%s has no example with time %s", DOCS, t);
	p++;
	end = strchr(p, '\n');
	assert_non_null(end);
	line = strndup(p, (size_t)(end - p));
	assert_non_null(line);
	free(text);
	return line;
}

/*
 * The rendered line is the documented one, byte for byte. With keep_id false the doc's insertId
 * is not compared (it hashes the process start time, which the doc line does not show).
 */
static void assert_doc_line(const struct ew_buf *b, const char *t, bool keep_id)
{
	char *doc = doc_example(t), *id;
	size_t n = b->len - 1, i;

	if (!keep_id) {
		const char *key = "\"" INSERT_ID "\":\"ew-", *got = strstr(b->data, key);

		id = strstr(doc, key);
		assert_non_null(id);
		assert_non_null(got);
		memcpy(id + strlen(key), got + strlen(key), 16);
	}
	for (i = 0; i < n && doc[i] && doc[i] == b->data[i]; i++)
		;
	if (i != n || doc[i])
		fail_msg("differs from %s at byte %zu\n doc: ...%.160s\n got: ...%.160s", DOCS, i,
			 doc + (i > 40 ? i - 40 : 0), b->data + (i > 40 ? i - 40 : 0));
	free(doc);
}

/* ---- 1. container_exit ---- */

static void test_exit_config_error(void **state)
{
	struct fx *fx = *state;
	struct ew_record r = doc_exit_record(fx);
	json_object *o, *labels;
	char id[24];

	assert_int_equal(r.cls, EW_CLASS_CONFIG_ERROR);
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);

	assert_string_equal(STR(o, "event"), "container_exit");
	assert_string_equal(STR(o, "severity"), "WARNING");
	assert_string_equal(STR(o, "time"), "2026-11-29T12:15:28.853738259Z");
	assert_int_equal(INT(o, "schema"), 1);
	assert_string_equal(STR(o, "node"), "vm");
	assert_int_equal(INT(o, "exit", "code"), 3);
	assert_int_equal(INT(o, "exit", "signal"), 0);
	assert_true(json_object_is_type(GET(o, "exit", "signal_name"), json_type_null));
	assert_string_equal(STR(o, "exit", "class"), "config_error");
	assert_string_equal(STR(o, "exit", "meaning"), EXIT_MEANING);
	assert_int_equal(INT(o, "exit", "status"), 768);
	assert_string_equal(STR(o, "container", "id"), EXIT_CID);
	assert_string_equal(STR(o, "container", "name"), "ewtest-11056-0");
	assert_string_equal(STR(o, "container", "runtime"), "docker");
	assert_string_equal(STR(o, "container", "identity"), "docker:" EXIT_CID);
	assert_string_equal(STR(o, "workload", "key"), "compose:shop/backend");
	assert_string_equal(STR(o, "process", "comm"), "workload");
	assert_false(has(GET(o, "process"), "ppid"));
	assert_false(has(o, "killed_by"));
	assert_string_bytes(GET(o, "stderr_tail"), EXIT_TAIL, sizeof(EXIT_TAIL) - 1);
	assert_string_equal(STR(o, "stderr_source"), "docker-json-file");
	assert_false(has(o, "stderr_bytes"));
	assert_string_equal(
		STR(o, "message"),
		"ewtest-11056-0 (docker 6be817fa19cd) exited with code 3 (config_error) "
		"after 0ms: " EXIT_MEANING "; last stderr: ModuleNotFoundError: No "
		"module named 'app.services.monitoring'");

	labels = GET(o, LABELS);
	assert_int_equal(json_object_object_length(labels), 5);
	assert_string_equal(STR(labels, "node"), "vm");
	assert_string_equal(STR(labels, "event"), "container_exit");
	assert_string_equal(STR(labels, "runtime"), "docker");
	assert_string_equal(STR(labels, "container"), "ewtest-11056-0");
	assert_string_equal(STR(labels, "workload"), "compose:shop/backend");

	assert_true(insert_id_ok(STR(o, INSERT_ID)));
	ew_record_insert_id(&r, &fx->ctx, id);
	assert_string_equal(STR(o, INSERT_ID), id);

	/* The whole line is docs/schema.md's, member order included. */
	assert_doc_line(&fx->out, "2026-11-29T12:15:28.853738259Z", false);
	json_object_put(o);
}

/* The doc's docker stop: code 143 after runc's SIGTERM, killed_by present. */
static void test_exit_docker_stop(void **state)
{
	struct fx *fx = *state;
	struct ew_record r;
	json_object *o, *k;

	docker_identity(&fx->id, "/docker/" STOP_CID, 34643, "ewtest-11056-2",
			"exitwatch-test:latest", "no", "", "");
	exit_event(&fx->ev, STOP_T, 34643, 11761, 143 << 8, MS(79));
	fx->ev.has_killer = true;
	fx->ev.killer = (struct ew_killer_info){.pid = 11801, .signal = SIGTERM, .cgroup_id = 1};
	strcpy(fx->ev.killer.comm, "runc");
	strcpy(fx->ev.killer.container, "host");
	fx->startup = (struct ew_startup){.known = true};
	r = (struct ew_record){.type = EW_REC_EXIT,
			       .time_ns = STOP_T,
			       .ev = &fx->ev,
			       .id = &fx->id,
			       .cls = ew_exit_classify(&fx->ev, &fx->classes),
			       .startup = &fx->startup};
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);

	assert_string_equal(STR(o, "severity"), "NOTICE");
	assert_string_equal(STR(o, "exit", "class"), "terminated");
	assert_int_equal(INT(o, "exit", "code"), 143);
	assert_int_equal(INT(o, "exit", "status"), 36608);
	k = GET(o, "killed_by");
	assert_int_equal(json_object_object_length(k), 6);
	assert_int_equal(INT(k, "pid"), 11801);
	assert_string_equal(STR(k, "comm"), "runc");
	assert_int_equal(INT(k, "signal"), 15);
	assert_string_equal(STR(k, "signal_name"), "SIGTERM");
	assert_int_equal(INT(k, "cgroup_id"), 1);
	assert_string_equal(STR(k, "container"), "host");
	/* No stderr: no stderr_tail, no stderr_bytes. */
	assert_false(has(o, "stderr_tail"));
	assert_false(has(o, "stderr_bytes"));
	assert_false(has(GET(o, LABELS), "namespace"));
	/* The sentence names the sender and where it runs. */
	assert_string_equal(
		STR(o, "message"),
		"ewtest-11056-2 (docker b1b97b2fd58b) exited with code 143 (terminated) "
		"after 79ms: terminated: SIGTERM as a shell or runtime reports it "
		"(128+15); SIGTERM was sent by runc (pid 11801, host)");
	json_object_put(o);
}

/* A failed start of NOCMD_CID at t (docs/schema.md's examples): runc's init, pid, its parent. */
static struct ew_record start_failed_record(struct fx *fx, uint64_t t, uint32_t pid, uint32_t ppid,
					    uint64_t uptime_ns)
{
	docker_identity(&fx->id, "/docker/" NOCMD_CID, 34712, "ewtest-12040-0",
			"exitwatch-test:latest", "no", "", "");
	exit_event(&fx->ev, t, 34712, pid, 1 << 8, uptime_ns);
	fx->ev.type = EW_EVENT_START_FAILED;
	strcpy(fx->ev.comm, "runc:[2:INIT]");
	fx->ev.argv0[0] = fx->ev.filename[0] = '\0';
	fx->ev.ppid = ppid;
	fx->startup = (struct ew_startup){.known = true, .succeeded = false};
	fx->ctx.node = "vm";
	return (struct ew_record){.type = EW_REC_EXIT,
				  .time_ns = t,
				  .ev = &fx->ev,
				  .id = &fx->id,
				  .cls = ew_exit_classify(&fx->ev, &fx->classes),
				  .startup = &fx->startup};
}

/*
 * A failed start whose runtime's error was found (Docker's State.Error): start_error holds it
 * whole, the message its innermost cause; no stderr_tail (nothing of the container wrote it).
 * Another shape of error is quoted whole, its first line, with control bytes made printable.
 */
static void test_exit_start_error(void **state)
{
	static const char runc_err[] =
		"failed to create shim task: OCI runtime create failed: runc create failed: "
		"unable to start container process: exec: \"/app/server\": stat /app/server: no "
		"such file or directory: unknown";
	static const char other[] = "error mounting \"/srv\" to rootfs\x01 at \"/data\"\nmore";
	struct fx *fx = *state;
	struct ew_record r;
	json_object *o;

	r = start_failed_record(fx, NOCMD_T2, 12290, 12271, MS(161));
	memcpy(fx->ev.tail, runc_err, sizeof(runc_err) - 1);
	fx->ev.tail_len = sizeof(runc_err) - 1;
	fx->ev.tail_source = EW_TAIL_START_ERROR;
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_string_equal(STR(o, "exit", "class"), "start_failed");
	assert_string_equal(STR(o, "start_error"), runc_err);
	assert_false(has(o, "stderr_tail"));
	assert_false(has(o, "stderr_source"));
	assert_string_equal(
		STR(o, "message"),
		"ewtest-12040-0 (docker 0d3c5e1a7b9f) failed to start: its runtime's "
		"init exited with code 1 (start_failed) after 161ms: its command never "
		"ran: exec: \"/app/server\": stat /app/server: no such file or directory");
	/* The meaning member stays the class's own. */
	assert_non_null(strstr(STR(o, "exit", "meaning"), "the runtime could not start it"));
	assert_doc_line(&fx->out, "2026-12-07T05:10:44.834026307Z", false);
	json_object_put(o);

	memcpy(fx->ev.tail, other, sizeof(other) - 1);
	fx->ev.tail_len = sizeof(other) - 1;
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_string_equal(STR(o, "start_error"), other);
	assert_non_null(strstr(STR(o, "message"),
			       "its command never ran: error mounting \"/srv\" to rootfs? at "
			       "\"/data\""));
	assert_null(strstr(STR(o, "message"), "more"));
	json_object_put(o);
}

/*
 * A container whose command never ran (docs/schema.md's example): runc's init as the process,
 * its code, class start_failed whatever the code means elsewhere, a failed start, no tail.
 */
static void test_exit_start_failed(void **state)
{
	struct fx *fx = *state;
	struct ew_record r;
	json_object *o;

	r = start_failed_record(fx, NOCMD_T, 12188, 12170, MS(173));
	assert_int_equal(r.cls, EW_CLASS_START_FAILED);
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_string_equal(STR(o, "event"), "container_exit");
	assert_string_equal(STR(o, "severity"), "WARNING");
	assert_string_equal(STR(o, "exit", "class"), "start_failed");
	assert_int_equal(INT(o, "exit", "code"), 1);
	assert_int_equal(INT(o, "exit", "status"), 256);
	assert_non_null(strstr(STR(o, "exit", "meaning"), "never ran"));
	assert_string_equal(STR(o, "process", "comm"), "runc:[2:INIT]");
	assert_string_equal(STR(o, "process", "argv0"), "");
	assert_false(has(GET(o, "process"), "ppid"));
	assert_false(has(GET(o, "process"), "filename"));
	assert_false(json_object_get_boolean(GET(o, "startup", "succeeded")));
	assert_false(has(o, "stderr_tail"));
	assert_string_equal(STR(o, "message"),
			    "ewtest-12040-0 (docker 0d3c5e1a7b9f) failed to start: its runtime's "
			    "init exited with code 1 (start_failed) after 173ms: its command never "
			    "ran: the runtime could not start it (not found or not executable, a "
			    "missing working directory or user, a failed mount)");
	assert_doc_line(&fx->out, "2026-12-07T03:16:13.664821161Z", false);
	json_object_put(o);
	/* crun's: its init SIGKILLed by crun. The class, and the meaning said all the same. */
	fx->ev.exit_word = SIGKILL;
	fx->ev.status = ew_exit_decode(SIGKILL);
	strcpy(fx->ev.comm, "memfd:crun_clon");
	r.cls = ew_exit_classify(&fx->ev, &fx->classes);
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_string_equal(STR(o, "exit", "class"), "start_failed");
	assert_int_equal(INT(o, "exit", "signal"), SIGKILL);
	assert_string_equal(
		STR(o, "message"),
		"ewtest-12040-0 (docker 0d3c5e1a7b9f) failed to start: its runtime killed "
		"its init with SIGKILL (start_failed) after 173ms: its command never ran: "
		"the runtime could not start it (not found or not executable, a missing "
		"working directory or user, a failed mount)");
	json_object_put(o);
	/* The same word from the application's exit, rendered next: not the memo of this one. */
	fx->ev.type = EW_EVENT_EXIT;
	r.cls = ew_exit_classify(&fx->ev, &fx->classes);
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_string_equal(STR(o, "exit", "class"), "killed");
	json_object_put(o);
}

/* The kernel's child counts, each in its member; OOM kills are a subset of signaled. */
static void test_exit_children(void **state)
{
	struct fx *fx = *state;
	struct ew_record r;
	json_object *o, *c;

	docker_identity(&fx->id, "/docker/" STOP_CID, 34643, "ewtest-11056-2",
			"exitwatch-test:latest", "no", "", "");
	exit_event(&fx->ev, STOP_T, 34643, 11761, 0, MS(79));
	fx->ev.children =
		(struct ew_children){.clean = 5, .failed = 4, .signaled = 3, .oom_killed = 2};
	r = (struct ew_record){.type = EW_REC_EXIT,
			       .time_ns = STOP_T,
			       .ev = &fx->ev,
			       .id = &fx->id,
			       .cls = ew_exit_classify(&fx->ev, &fx->classes)};
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_string_equal(STR(o, "exit", "class"), "clean");
	c = GET(o, "children");
	assert_int_equal(json_object_object_length(c), 4);
	assert_int_equal(INT(c, "clean"), 5);
	assert_int_equal(INT(c, "failed"), 4);
	assert_int_equal(INT(c, "signaled"), 3);
	assert_int_equal(INT(c, "oom_killed"), 2);
	json_object_put(o);
}

/* ---- 2. severities, as docs/schema.md lists them per record type and exit class ---- */

static struct ew_record exit_record(struct fx *fx, uint32_t word, bool oom, int killer_sig)
{
	docker_identity(&fx->id, "/docker/" EXIT_CID, 34510, "api", "api:1", "always", "", "");
	exit_event(&fx->ev, EXIT_T, 34510, 4242, word, SEC(90));
	fx->ev.oom = oom;
	if (killer_sig) {
		fx->ev.has_killer = true;
		fx->ev.killer = (struct ew_killer_info){.pid = 7, .signal = killer_sig};
		strcpy(fx->ev.killer.comm, "containerd-shim");
	}
	set_tail(&fx->ev, "panic: boom\n", 12);
	return (struct ew_record){.type = EW_REC_EXIT,
				  .time_ns = EXIT_T,
				  .ev = &fx->ev,
				  .id = &fx->id,
				  .cls = ew_exit_classify(&fx->ev, &fx->classes)};
}

static void check_severity(struct fx *fx, const struct ew_record *r, const char *want,
			   const char *what)
{
	json_object *o;

	if (strcmp(ew_severity_name(ew_record_severity(r)), want))
		fail_msg("%s: ew_record_severity %s, docs say %s", what,
			 ew_severity_name(ew_record_severity(r)), want);
	assert_int_equal(ew_record_severity(r), ew_severity_parse(want));
	render(fx, r);
	o = parse_line(fx->out.data, fx->out.len);
	if (strcmp(STR(o, "severity"), want))
		fail_msg("%s: rendered severity %s, docs say %s", what, STR(o, "severity"), want);
	assert_string_equal(STR(o, "event"), ew_record_event_name(r->type));
	assert_string_equal(STR(o, LABELS, "event"), ew_record_event_name(r->type));
	json_object_put(o);
}

static void test_severity_exit_classes(void **state)
{
	/* docs/schema.md, container_exit: clean INFO; terminated NOTICE; crash, oom_killed ERROR;
	 * config_error, app_error, not_executable, not_found, killed WARNING. */
	static const struct {
		const char *what;
		uint32_t word;
		bool oom;
		int killer;
		const char *cls, *sev, *signal_name;
		bool core, tail;
	} cases[] = {
		{"exit 0", 0, false, 0, "clean", "INFO", NULL, false, false},
		{"exit 3", 3 << 8, false, 0, "config_error", "WARNING", NULL, false, true},
		{"exit 1", 1 << 8, false, 0, "app_error", "WARNING", NULL, false, true},
		{"exit 126", 126 << 8, false, 0, "not_executable", "WARNING", NULL, false, true},
		{"exit 127", 127 << 8, false, 0, "not_found", "WARNING", NULL, false, true},
		{"SIGSEGV, core", SIGSEGV | 0x80, false, 0, "crash", "ERROR", "SIGSEGV", true,
		 true},
		{"SIGABRT", SIGABRT, false, 0, "crash", "ERROR", "SIGABRT", false, true},
		{"exit 139", 139 << 8, false, 0, "crash", "ERROR", NULL, false, true},
		{"OOM", SIGKILL, true, 0, "oom_killed", "ERROR", "SIGKILL", false, true},
		{"SIGKILL", SIGKILL, false, 0, "killed", "WARNING", "SIGKILL", false, true},
		{"exit 137", 137 << 8, false, 0, "killed", "WARNING", NULL, false, true},
		{"exit 143", 143 << 8, false, 0, "terminated", "NOTICE", NULL, false, true},
		{"SIGTERM", SIGTERM, false, 0, "terminated", "NOTICE", "SIGTERM", false, true},
		{"SIGINT", SIGINT, false, 0, "terminated", "NOTICE", "SIGINT", false, true},
		{"exit 1 after SIGTERM", 1 << 8, false, SIGTERM, "terminated", "NOTICE", NULL,
		 false, true},
		{"SIGRTMIN+2", 36, false, 0, "killed", "WARNING", NULL, false, true},
	};
	struct fx *fx = *state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ew_record r = exit_record(fx, cases[i].word, cases[i].oom, cases[i].killer);
		json_object *o, *sn;

		if (strcmp(ew_exit_class_name(r.cls), cases[i].cls))
			fail_msg("%s: class %s, docs say %s", cases[i].what,
				 ew_exit_class_name(r.cls), cases[i].cls);
		check_severity(fx, &r, cases[i].sev, cases[i].what);
		o = parse_line(fx->out.data, fx->out.len);
		assert_string_equal(STR(o, "exit", "class"), cases[i].cls);
		assert_int_equal(json_object_get_boolean(GET(o, "exit", "core_dumped")),
				 cases[i].core);
		sn = GET(o, "exit", "signal_name");
		if (cases[i].signal_name)
			assert_string_equal(json_object_get_string(sn), cases[i].signal_name);
		else
			assert_true(json_object_is_type(sn, json_type_null));
		/* stderr_tail: "unless clean, when it wrote to stderr". */
		assert_int_equal(has(o, "stderr_tail"), cases[i].tail);
		assert_int_equal(has(o, "stderr_bytes"), cases[i].tail);
		assert_int_equal(has(o, "killed_by"), cases[i].killer != 0);
		json_object_put(o);
	}
}

static void test_severity_other_records(void **state)
{
	/* docs/schema.md, finding: "the rule's configured severity (defaults: exit_code_burst
	 * CRITICAL, restart_rate WARNING, startup_failure_rate INFO, stable NOTICE)". */
	static const struct {
		enum ew_rule rule;
		const char *sev;
	} rules[] = {
		{EW_RULE_EXIT_CODE_BURST, "CRITICAL"},
		{EW_RULE_RESTART_RATE, "WARNING"},
		{EW_RULE_STARTUP_FAILURE_RATE, "INFO"},
		{EW_RULE_STABLE, "NOTICE"},
	};
	struct fx *fx = *state;
	struct ew_detector_config dc;
	struct ew_subject *subject;
	struct ew_record r;

	/* container_start and container_ready: always INFO. */
	docker_identity(&fx->id, "/docker/" EXIT_CID, 34510, "api", "api:1", "always", "", "");
	exit_event(&fx->ev, EXIT_T, 34510, 4242, 0, 0);
	fx->ev.type = EW_EVENT_START;
	r = (struct ew_record){
		.type = EW_REC_START, .time_ns = EXIT_T, .ev = &fx->ev, .id = &fx->id};
	check_severity(fx, &r, "INFO", "container_start");
	fx->ev.type = EW_EVENT_READY;
	fx->ev.startup_ns = MS(300);
	fx->ev.listener_pid = 4242;
	strcpy(fx->ev.listener_comm, "api");
	r.type = EW_REC_READY;
	check_severity(fx, &r, "INFO", "container_ready");

	/* finding: the rule's severity as the detector's defaults configure it. */
	ew_detector_config_default(&dc);
	shop_identity(&fx->id);
	subject = ew_subject_pack(&fx->id);
	assert_non_null(subject);
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		burst_finding(&fx->f, subject);
		fx->f.rule = rules[i].rule;
		fx->f.severity = dc.rules[rules[i].rule].severity;
		r = finding_record(fx);
		check_severity(fx, &r, rules[i].sev, ew_rule_name(rules[i].rule));

		/* resolved: always NOTICE, whatever the finding's was. */
		if (rules[i].rule == EW_RULE_STABLE)
			continue;
		fx->f.resolved = true;
		fx->f.time_ns = RESOLVED_T;
		fx->f.fired_ns = FIND_T;
		fx->f.duration_ns = RESOLVED_T - FIND_T;
		r = finding_record(fx);
		check_severity(fx, &r, "NOTICE", "resolved");
		fx->f.severity = EW_SEV_CRITICAL; /* even if a caller left the finding's */
		check_severity(fx, &r, "NOTICE", "resolved, CRITICAL rule");
	}
	ew_subject_free(subject);

	/* agent: WARNING when the kernel lost records, else INFO. */
	doc_agent(&fx->agent);
	r = (struct ew_record){.type = EW_REC_AGENT, .time_ns = AGENT_T, .agent = &fx->agent};
	check_severity(fx, &r, "INFO", "agent");
	fx->agent.drops = 1;
	check_severity(fx, &r, "WARNING", "agent with drops");
	/* ... or the detector forgot identities whose windows still counted them. */
	fx->agent.drops = 0;
	fx->agent.forgotten[0] = 5;
	fx->agent.forgotten[1] = 5;
	check_severity(fx, &r, "INFO", "agent with identities forgotten after their windows");
	fx->agent.forgotten_in_window = 1;
	check_severity(fx, &r, "WARNING", "agent with identities forgotten within windows");
}

/* ---- 3. insertId ---- */

/*
 * The insertId's words hashed without the byte loop give FNV-1a over their bytes in memory, so
 * the ids stay what they were: every bit of each word set alone, and words of mixed bytes.
 */
static void test_insert_id_fnv_words(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (int i = 0; i < 64 + 100; i++) {
		uint64_t v = i < 64 ? 1ULL << i : (x = x * 6364136223846793005ULL + 1);
		uint32_t w = (uint32_t)(v >> 16);

		assert_true(ew_fnv1a_u64(EW_FNV1A_INIT, v) == ew_fnv1a(EW_FNV1A_INIT, &v, 8));
		assert_true(ew_fnv1a_u32(x, w) == ew_fnv1a(x, &w, 4));
	}
}

static void test_insert_id_deterministic(void **state)
{
	struct fx *fx = *state;
	struct ew_record r = doc_exit_record(fx);
	struct ew_render_ctx other = fx->ctx;
	struct ew_subject *subject;
	char ids[12][24], again[24], *first;
	json_object *o;
	size_t n = 0;

	/* The same record twice: the same line, byte for byte. */
	render(fx, &r);
	first = strdup(fx->out.data);
	assert_non_null(first);
	render(fx, &r);
	assert_string_equal(fx->out.data, first);
	free(first);
	o = parse_line(fx->out.data, fx->out.len);
	ew_record_insert_id(&r, &fx->ctx, ids[n]);
	assert_string_equal(STR(o, INSERT_ID), ids[n]);
	json_object_put(o);
	n++;

	/* What the line says beyond the fact (stderr, names, class) does not change the id... */
	set_tail(&fx->ev, "other\n", 6);
	strcpy(fx->id.meta.name, "renamed");
	r.cls = EW_CLASS_APP_ERROR;
	ew_record_insert_id(&r, &fx->ctx, again);
	assert_string_equal(again, ids[0]);

	/* ...each part of the fact does: pid, process start, cgroup, time, node, record type. */
	fx->ev.pid++;
	ew_record_insert_id(&r, &fx->ctx, ids[n++]);
	fx->ev.pid--;
	fx->ev.start_boot_ns++;
	ew_record_insert_id(&r, &fx->ctx, ids[n++]);
	fx->ev.start_boot_ns--;
	fx->ev.cgroup_id++;
	ew_record_insert_id(&r, &fx->ctx, ids[n++]);
	fx->ev.cgroup_id--;
	r.time_ns++;
	ew_record_insert_id(&r, &fx->ctx, ids[n++]);
	r.time_ns--;
	other.node = "gke-prod-pool-1-7f3b";
	ew_record_insert_id(&r, &other, ids[n++]);
	r.type = EW_REC_START;
	ew_record_insert_id(&r, &fx->ctx, ids[n++]);
	r.type = EW_REC_EXIT;
	ew_record_insert_id(&r, &fx->ctx, again);
	assert_string_equal(again, ids[0]);

	/* Findings: the finding id, its time and finding versus resolved. */
	shop_identity(&fx->id);
	subject = ew_subject_pack(&fx->id);
	assert_non_null(subject);
	burst_finding(&fx->f, subject);
	r = finding_record(fx);
	ew_record_insert_id(&r, &fx->ctx, ids[n++]);
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_string_equal(STR(o, INSERT_ID), ids[n - 1]);
	json_object_put(o);
	ew_record_insert_id(&r, &fx->ctx, again);
	assert_string_equal(again, ids[n - 1]);
	fx->f.finding_id[17] ^= 1;
	ew_record_insert_id(&r, &fx->ctx, ids[n++]);
	fx->f.finding_id[17] ^= 1;
	r.time_ns++;
	ew_record_insert_id(&r, &fx->ctx, ids[n++]);
	r.time_ns--;
	r.type = EW_REC_RESOLVED;
	ew_record_insert_id(&r, &fx->ctx, ids[n++]);
	ew_subject_free(subject);

	for (size_t i = 0; i < n; i++) {
		if (!insert_id_ok(ids[i]))
			fail_msg("insertId %zu: \"%s\"", i, ids[i]);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(ids[i], ids[j]))
				fail_msg("insertIds %zu and %zu are both %s", j, i, ids[i]);
	}
}

/* ---- 4. hostile workload strings ---- */

/* The message is one printable line: no control byte or DEL once decoded. */
static void assert_one_line(const char *msg)
{
	for (const char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			fail_msg("message holds byte 0x%02x at %td", (unsigned char)*p, p - msg);
}

static void test_hostile_json(void **state)
{
	struct fx *fx = *state;
	struct ew_record r;
	json_object *o;
	const char *msg;

	hostile_exit(fx, &r);
	assert_int_equal(r.cls, EW_CLASS_TERMINATED);
	render(fx, &r);
	/* One line, one object, exactly the members of a container_exit, once each. */
	o = parse_line(fx->out.data, fx->out.len);
	assert_shape(&fx->out,
		     "{time,severity,message,event,schema,node,container{id,runtime,"
		     "cgroup,cgroup_id,name,image,identity},workload{key},process{pid,"
		     "comm,argv0,filename},exit{code,signal,signal_name,core_dumped,"
		     "class,meaning,status},uptime_s,killed_by{pid,comm,signal,"
		     "signal_name,cgroup_id,container},startup{ready,succeeded},"
		     "children{clean,failed,signaled,oom_killed},stderr_tail,stderr_source,stderr_"
		     "bytes," LABELS "{node,event,runtime,container,workload}," INSERT_ID "}");
	assert_null(strstr(fx->out.data, "\"event\":\"forged\""));
	assert_string_equal(STR(o, "event"), "container_exit");
	assert_int_equal(json_object_object_length(o), 19);

	/* Every workload string decodes to its bytes, the invalid UTF-8 as U+FFFD. */
	assert_string_bytes(GET(o, "container", "name"), DEC(hostile_name_dec));
	assert_string_bytes(GET(o, LABELS, "container"), DEC(hostile_name_dec));
	assert_string_bytes(GET(o, "process", "comm"), DEC(hostile_comm_dec));
	assert_string_bytes(GET(o, "process", "argv0"), DEC(hostile_argv0_dec));
	assert_string_bytes(GET(o, "process", "filename"), DEC(hostile_argv0_dec));
	assert_string_bytes(GET(o, "killed_by", "comm"), DEC(hostile_killer));
	assert_string_bytes(GET(o, "stderr_tail"), DEC(hostile_tail_dec));
	assert_int_equal(INT(o, "stderr_bytes"), sizeof(hostile_tail) - 1);

	/* The message is one line; what it quotes of the stderr keeps its printable bytes. */
	msg = STR(o, "message");
	assert_one_line(msg);
	/* The workload's control bytes show as '?' (the stderr line's as ' '), the invalid
	 * UTF-8 as U+FFFD once the writer has escaped the message. */
	assert_string_equal(msg, "w??[31m??" FORGE "\\" R "x" R "end (docker 6be817fa19cd) exited "
				 "with code 2 (terminated) after 1.5s: misuse of a shell builtin "
				 "or invalid arguments; SIGTERM was sent by k?[0m??\"}{ (pid "
				 "4343, host); last stderr: " FORGE " [2J boom " R " \\ \"q\"  z");
	json_object_put(o);

	/* container_start quotes comm in its message. */
	hostile_start(fx, &r);
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_shape(&fx->out, "{time,severity,message,event,schema,node,container{id,runtime,"
			       "cgroup,cgroup_id,name,image,identity},workload{key},process{pid,"
			       "ppid,comm,argv0,filename},already_running,restarts," LABELS
			       "{node,event,runtime,container,workload}," INSERT_ID "}");
	assert_string_equal(STR(o, "event"), "container_start");
	assert_string_bytes(GET(o, "process", "comm"), DEC(hostile_comm_dec));
	assert_string_bytes(GET(o, "process", "argv0"), DEC(hostile_argv0_dec));
	msg = STR(o, "message");
	assert_one_line(msg);
	assert_string_equal(msg, "w??[31m??" FORGE "\\" R "x" R "end (docker 6be817fa19cd) "
				 "restarted (restart 2): x\"\\??[31m??" R " (pid 4242)");
	json_object_put(o);
}

/*
 * A pod object holds what is known of the pod, each member optional: from the cgroup alone its
 * uid and QoS class, then less, down to an empty object, always between "container" and
 * "workload".
 */
#define UID "5c1f2e0a-7b3d-4c8e-9f1a-2b3c4d5e6f70"

static void test_pod_object(void **state)
{
	static const struct {
		const char *uid, *qos, *want;
	} cases[] = {
		{UID, "burstable",
		 ",\"pod\":{\"uid\":\"" UID "\",\"qos\":\"burstable\"},\"workload\":"},
		{UID, "", ",\"pod\":{\"uid\":\"" UID "\"},\"workload\":"},
		{"", "besteffort", ",\"pod\":{\"qos\":\"besteffort\"},\"workload\":"},
		{"", "", ",\"pod\":{},\"workload\":"},
	};
	struct fx *fx = *state;
	struct ew_record r = doc_exit_record(fx);

	memset(&fx->id.meta, 0, sizeof(fx->id.meta));
	fx->id.meta.restart_count = -1;
	fx->id.cg.kubernetes = true;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		strcpy(fx->id.cg.pod_uid, cases[i].uid);
		strcpy(fx->id.cg.qos, cases[i].qos);
		render(fx, &r);
		json_object_put(parse_line(fx->out.data, fx->out.len));
		if (!strstr(fx->out.data, cases[i].want))
			fail_msg("case %zu: no %s in %s", i, cases[i].want, fx->out.data);
	}
}

/* No control byte but the final '\n' and, with colour, the renderer's own two SGR sequences. */
/* ---- 5. finding and resolved ---- */

static void test_finding_burst(void **state)
{
	struct fx *fx = *state;
	struct ew_subject *subject;
	struct ew_record r;
	json_object *o, *iv;

	shop_identity(&fx->id);
	subject = ew_subject_pack(&fx->id);
	assert_non_null(subject);
	burst_finding(&fx->f, subject);
	r = finding_record(fx);
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);

	assert_string_equal(STR(o, "event"), "finding");
	assert_string_equal(STR(o, "severity"), "CRITICAL");
	assert_string_equal(STR(o, "finding_id"), BURST_ID);
	assert_string_equal(STR(o, "rule"), "exit_code_burst");
	assert_string_equal(STR(o, LABELS, "rule"), "exit_code_burst");
	assert_string_equal(STR(o, "scope"), "workload");
	assert_int_equal(INT(o, "count"), 4);
	assert_int_equal(INT(o, "threshold"), 3);
	assert_int_equal(INT(o, "window_s"), 300);
	assert_int_equal(INT(o, "identities"), 1);
	/* Since when: the first and last counted exit of the window. */
	assert_string_equal(STR(o, "first_time"), "2025-03-14T09:26:55.334118529Z");
	assert_string_equal(STR(o, "last_time"), "2025-03-14T09:28:15.355118529Z");
	iv = GET(o, "restart_interval_s");
	assert_int_equal(INT(iv, "samples"), 3);
	assert_true(json_object_get_double(GET(iv, "median")) == 23.007);
	assert_int_equal(INT(o, "exit_codes", "3"), 4);
	assert_string_equal(STR(o, "last_exit", "class"), "config_error");
	assert_string_bytes(GET(o, "stderr_tail"), SHOP_TAIL, sizeof(SHOP_TAIL) - 1);
	/* The message names the container and quotes its last words. */
	assert_string_equal(STR(o, "message"),
			    "shop-backend-1 (docker 3f9a1c0e7b2d) exited 4 times with code 3 in 5m "
			    "(threshold: more than 3); it restarts every ~23.0s (min 12.0s, max "
			    "45.0s); last exit: code 3 (config_error): ModuleNotFoundError: No "
			    "module named 'shop.settings'");
	json_object_put(o);
	/* docs/schema.md's finding, insertId included (it hashes only node, id and time). */
	assert_doc_line(&fx->out, "2025-03-14T09:28:15.355118529Z", true);

	/* The stable milestone after the loop. */
	burst_finding(&fx->f, subject);
	fx->f.rule = EW_RULE_STABLE;
	fx->f.severity = EW_SEV_NOTICE;
	fx->f.scope = EW_SCOPE_IDENTITY;
	strcpy(fx->f.finding_id, STABLE_ID);
	fx->f.time_ns = STABLE_T;
	fx->f.identities = fx->f.count = fx->f.threshold = fx->f.intervals = fx->f.nhist = 0;
	fx->f.first_ns = fx->f.last_ns = 0;
	fx->f.window_ns = fx->f.uptime_ns = SEC(4 * 3600);
	fx->f.last_exit_ns = LAST_EXIT_T;
	r = finding_record(fx);
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_string_equal(STR(o, "message"), "shop-backend-1 (docker 3f9a1c0e7b2d) is stable "
					       "again: up 4h after a restart loop");
	assert_false(has(o, "first_time"));
	assert_true(json_object_is_type(GET(o, "restart_interval_s"), json_type_null));
	assert_int_equal(json_object_object_length(GET(o, "exit_codes")), 0);
	json_object_put(o);
	assert_doc_line(&fx->out, "2025-03-14T13:32:43.204118529Z", true);
	ew_subject_free(subject);
}

/* fx->f rendered as on_finding() has it, parsed. */
static json_object *render_finding(struct fx *fx)
{
	struct ew_record r = finding_record(fx);

	render(fx, &r);
	return parse_line(fx->out.data, fx->out.len);
}

/*
 * A restart_rate of liveness kills: the last exit names its sender, with the members of a
 * container_exit's killed_by, and the message says it in the same words. A sender's name is a
 * workload's bytes: quoted in the JSON, made printable in the message.
 */
static void test_finding_last_killer(void **state)
{
	struct fx *fx = *state;
	struct ew_killer_info k = {.pid = 4242, .signal = SIGKILL, .cgroup_id = 1};
	struct ew_subject *subject;
	json_object *o, *kb;

	ew_strlcpy(k.comm, "runc", sizeof(k.comm));
	ew_strlcpy(k.container, "host", sizeof(k.container));
	shop_identity(&fx->id);
	subject = ew_subject_pack(&fx->id);
	assert_non_null(subject);
	rate_finding(&fx->f, subject);
	fx->f.intervals = 0;
	fx->f.last_class = EW_CLASS_KILLED;
	fx->f.last_code = 0;
	fx->f.last_signal = SIGKILL;
	fx->f.tail = NULL;
	fx->f.tail_len = 0;
	fx->f.last_killer = &k;
	o = render_finding(fx);
	assert_string_equal(
		STR(o, "message"),
		"shop-backend-1 (docker 3f9a1c0e7b2d) restarted 4 times in 1h "
		"(threshold: more than 3); last exit: SIGKILL (killed), SIGKILL was sent "
		"by runc (pid 4242, host)");
	assert_shape(&fx->out, "{time,severity,message,event,schema,node,container{id,runtime,"
			       "cgroup,cgroup_id,name,image,restart_policy,identity},compose{"
			       "project,service},workload{key},finding_id,rule,scope,count,"
			       "threshold,window_s,first_time,last_time,restart_interval_s,"
			       "exit_codes{3},last_exit{class,code,signal,signal_name,time,"
			       "killed_by{pid,comm,signal,signal_name,cgroup_id,container}},"
			       "degraded," LABELS
			       "{node,event,runtime,container,workload,rule}," INSERT_ID "}");
	kb = GET(o, "last_exit", "killed_by");
	assert_int_equal(INT(kb, "pid"), 4242);
	assert_string_equal(STR(kb, "comm"), "runc");
	assert_int_equal(INT(kb, "signal"), SIGKILL);
	assert_string_equal(STR(kb, "signal_name"), "SIGKILL");
	assert_int_equal(INT(kb, "cgroup_id"), 1);
	assert_string_equal(STR(kb, "container"), "host");
	json_object_put(o);

	/* A hostile sender, in another container, with a code exit after its SIGTERM, a tail. */
	memcpy(k.comm, "a\"b\n\x1b[2J", 9);
	k.signal = SIGTERM;
	k.cgroup_id = 777;
	ew_strlcpy(k.container, "docker:abc", sizeof(k.container));
	fx->f.last_class = EW_CLASS_TERMINATED;
	fx->f.last_code = 143;
	fx->f.last_signal = 0;
	fx->f.tail = SHOP_TAIL;
	fx->f.tail_len = sizeof(SHOP_TAIL) - 1;
	o = render_finding(fx);
	assert_string_equal(
		STR(o, "message"),
		"shop-backend-1 (docker 3f9a1c0e7b2d) restarted 4 times in 1h "
		"(threshold: more than 3); last exit: code 143 (terminated), SIGTERM was "
		"sent by a\"b??[2J (pid 4242, docker:abc): ModuleNotFoundError: No module "
		"named 'shop.settings'");
	kb = GET(o, "last_exit", "killed_by");
	assert_string_equal(STR(kb, "comm"), "a\"b\n\x1b[2J");
	assert_string_equal(STR(kb, "container"), "docker:abc");
	json_object_put(o);
	ew_subject_free(subject);
}

static void test_resolved(void **state)
{
	struct fx *fx = *state;
	struct ew_subject *subject;
	struct ew_record r;
	json_object *o;

	shop_identity(&fx->id);
	subject = ew_subject_pack(&fx->id);
	assert_non_null(subject);
	/* emit(): the window as it is at the resolution, plus the episode. */
	burst_finding(&fx->f, subject);
	fx->f.resolved = true;
	fx->f.severity = EW_SEV_NOTICE;
	fx->f.time_ns = RESOLVED_T;
	fx->f.identities = fx->f.count = fx->f.intervals = fx->f.nhist = 0;
	fx->f.first_ns = fx->f.last_ns = 0;
	fx->f.last_exit_ns = LAST_EXIT_T;
	fx->f.fired_ns = FIND_T;
	fx->f.duration_ns = RESOLVED_T - FIND_T;
	fx->f.total = 5;
	r = finding_record(fx);
	assert_int_equal(r.type, EW_REC_RESOLVED);
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);

	assert_string_equal(STR(o, "event"), "resolved");
	assert_string_equal(STR(o, "severity"), "NOTICE");
	assert_string_equal(STR(o, "finding_id"), BURST_ID);
	assert_string_equal(STR(o, "rule"), "exit_code_burst");
	assert_string_equal(STR(o, LABELS, "rule"), "exit_code_burst");
	assert_int_equal(INT(o, "count"), 0);
	assert_int_equal(INT(o, "total"), 5);
	assert_string_equal(STR(o, "fired_time"), "2025-03-14T09:28:15.355118529Z");
	assert_true(json_object_get_double(GET(o, "duration_s")) == 690.007);
	assert_string_equal(STR(o, "last_exit", "time"), "2025-03-14T09:29:45.362118529Z");
	assert_string_equal(STR(o, "message"), "Resolved: shop-backend-1 (docker 3f9a1c0e7b2d) "
					       "stopped exiting with the burst's codes after "
					       "11m30s (5 events in the episode)");
	json_object_put(o);
	assert_doc_line(&fx->out, "2025-03-14T09:39:45.362118529Z", true);
	ew_subject_free(subject);
}

/* What the doc examples do not show: workload-wide subjects, the other rules, signals. */
static void test_finding_variants(void **state)
{
	struct fx *fx = *state;
	struct ew_subject *subject;
	struct ew_record r;
	json_object *o, *le;

	shop_identity(&fx->id);
	subject = ew_subject_pack(&fx->id);
	assert_non_null(subject);

	/* Two replicas, events lost, no intervals, codes and signals in the histogram. */
	burst_finding(&fx->f, subject);
	fx->f.identities = 2;
	fx->f.count = 5;
	fx->f.intervals = 0;
	fx->f.degraded = true;
	fx->f.nhist = 3;
	fx->f.hist[0] = (struct ew_exit_hist){.code = 3, .count = 5};
	fx->f.hist[1] = (struct ew_exit_hist){.signal = SIGSEGV, .count = 2};
	fx->f.hist[2] = (struct ew_exit_hist){.signal = 40, .count = 1};
	fx->f.last_class = EW_CLASS_CRASH;
	fx->f.last_code = 0;
	fx->f.last_signal = SIGSEGV;
	fx->f.tail = NULL;
	fx->f.tail_len = 0;
	r = finding_record(fx);
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_string_equal(
		STR(o, "message"),
		"Workload compose:shop/backend (2 containers) exited 5 times with code 3 "
		"in 5m (threshold: more than 3); last exit: SIGSEGV (crash); events "
		"were lost in this window");
	assert_int_equal(INT(o, "identities"), 2);
	assert_true(json_object_get_boolean(GET(o, "degraded")));
	assert_true(json_object_is_type(GET(o, "restart_interval_s"), json_type_null));
	assert_false(has(o, "stderr_tail"));
	/*
	 * Codes by number, signals by name, an unnamed signal as "SIG<n>" (docs/schema.md).
	 */
	assert_shape(&fx->out, "{time,severity,message,event,schema,node,container{id,runtime,"
			       "cgroup,cgroup_id,name,image,restart_policy,identity},compose{"
			       "project,service},workload{key},finding_id,rule,scope,count,"
			       "threshold,window_s,first_time,last_time,identities,"
			       "restart_interval_s,exit_codes{3,SIGSEGV,SIG40},last_exit{class,"
			       "code,signal,signal_name,time},degraded," LABELS
			       "{node,event,runtime,container,workload,rule}," INSERT_ID "}");
	assert_int_equal(INT(o, "exit_codes", "SIGSEGV"), 2);
	assert_int_equal(INT(o, "exit_codes", "SIG40"), 1);
	le = GET(o, "last_exit");
	assert_string_equal(STR(le, "signal_name"), "SIGSEGV");
	assert_int_equal(INT(le, "signal"), SIGSEGV);
	json_object_put(o);

	/* restart_rate of one identity: no identities member; never exited: last_exit null. */
	rate_finding(&fx->f, subject);
	fx->f.has_last_exit = false;
	fx->f.tail_len = 0;
	r = finding_record(fx);
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_string_equal(STR(o, "message"),
			    "shop-backend-1 (docker 3f9a1c0e7b2d) restarted 4 times in 1h "
			    "(threshold: more than 3); it restarts every ~23.0s (min 12.0s, max "
			    "45.0s)");
	assert_false(has(o, "identities"));
	assert_true(json_object_is_type(GET(o, "last_exit"), json_type_null));
	assert_int_equal(INT(o, "window_s"), 3600);
	json_object_put(o);

	/* startup_failure_rate: its own counts, two decimals; threshold is the whole part. */
	burst_finding(&fx->f, subject);
	fx->f.rule = EW_RULE_STARTUP_FAILURE_RATE;
	fx->f.severity = EW_SEV_INFO;
	fx->f.window_ns = SEC(3600);
	fx->f.count = fx->f.failed_starts = 2;
	fx->f.starts = 7;
	fx->f.fail_percent = 100.0 * 2 / 7;
	fx->f.threshold_percent = 5.0;
	fx->f.threshold = 5;
	fx->f.intervals = 0;
	r = finding_record(fx);
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_int_equal(INT(o, "starts"), 7);
	assert_int_equal(INT(o, "failed_starts"), 2);
	assert_non_null(
		strstr(fx->out.data, "\"failure_percent\":28.57,\"threshold_percent\":5.00,"));
	assert_string_equal(STR(o, "message"),
			    "shop-backend-1 (docker 3f9a1c0e7b2d): 2 of 7 starts failed in 1h "
			    "(28.6%, threshold 5.0%); last exit: code 3 (config_error): "
			    "ModuleNotFoundError: No module named 'shop.settings'");
	json_object_put(o);

	/* A resolved restart_rate and startup_failure_rate say what stopped. */
	fx->f.resolved = true;
	fx->f.duration_ns = SEC(3600);
	fx->f.total = 9;
	r = finding_record(fx);
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_string_equal(STR(o, "message"), "Resolved: shop-backend-1 (docker 3f9a1c0e7b2d) "
					       "starts successfully again after 1h (9 events in "
					       "the episode)");
	json_object_put(o);
	/* ... or, with no start left in the window, that none came. */
	fx->f.why = EW_RESOLVED_NO_STARTS;
	r = finding_record(fx);
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_string_equal(STR(o, "message"), "Resolved: shop-backend-1 (docker 3f9a1c0e7b2d) "
					       "had no start succeed or fail for 1h (removed, "
					       "replaced or stopped) after 1h (9 events in the "
					       "episode)");
	json_object_put(o);
	fx->f.why = EW_RESOLVED_CONDITION;
	fx->f.rule = EW_RULE_RESTART_RATE;
	r = finding_record(fx);
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_non_null(strstr(STR(o, "message"), " stopped restarting after 1h "));
	json_object_put(o);

	/*
	 * crash_loop says how it ended: a successful start, or no start for its quiet period (the
	 * time from last_exit to the record's), which is not a fix seen.
	 */
	fx->f.rule = EW_RULE_CRASH_LOOP;
	fx->f.severity = EW_SEV_NOTICE;
	fx->f.has_last_exit = true;
	fx->f.last_exit_ns = LAST_EXIT_T;
	fx->f.time_ns = LAST_EXIT_T + SEC(3600);
	fx->f.duration_ns = SEC(3690);
	fx->f.total = 2;
	fx->f.why = EW_RESOLVED_QUIET;
	r = finding_record(fx);
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_string_equal(STR(o, "message"), "Resolved: shop-backend-1 (docker 3f9a1c0e7b2d) "
					       "has not started again for 1h since its last exit "
					       "(removed, replaced or stopped) after 1h1m (2 "
					       "events in the episode)");
	json_object_put(o);
	fx->f.why = EW_RESOLVED_CONDITION;
	r = finding_record(fx);
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_string_equal(STR(o, "message"), "Resolved: shop-backend-1 (docker 3f9a1c0e7b2d) "
					       "started successfully after 1h1m (2 events in the "
					       "episode)");
	json_object_put(o);
	/* Restored into an agent that runs the rule no more: any rule says it the same way. */
	fx->f.why = EW_RESOLVED_RULE_OFF;
	r = finding_record(fx);
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_string_equal(STR(o, "message"),
			    "Resolved: shop-backend-1 (docker 3f9a1c0e7b2d) "
			    "is no longer watched: rule crash_loop is turned off "
			    "after 1h1m (2 events in the episode)");
	json_object_put(o);
	fx->f.rule = EW_RULE_EXIT_CODE_BURST;
	r = finding_record(fx);
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_non_null(strstr(STR(o, "message"), " rule exit_code_burst is turned off after "));
	json_object_put(o);
	/*
	 * crash_loop says what its failed starts shared: a code, a signal, or that the command
	 * never ran (the runtime's init's code or signal is not the loop's).
	 */
	{
		static const struct {
			enum ew_exit_class cls;
			int code, signal;
			const char *how;
		} loops[] = {
			{EW_CLASS_CONFIG_ERROR, 3, 0,
			 "failed 2 starts in a row, each ending with code 3, over "},
			{EW_CLASS_CRASH, 0, SIGSEGV,
			 "failed 2 starts in a row, each ending with SIGSEGV, over "},
			{EW_CLASS_START_FAILED, 1, 0,
			 "failed 2 starts in a row, without running its command, over "},
			{EW_CLASS_START_FAILED, 0, SIGKILL,
			 "failed 2 starts in a row, without running its command, over "},
		};

		for (size_t i = 0; i < ARRAY_SIZE(loops); i++) {
			burst_finding(&fx->f, subject);
			fx->f.rule = EW_RULE_CRASH_LOOP;
			fx->f.severity = EW_SEV_ERROR;
			fx->f.scope = EW_SCOPE_IDENTITY;
			fx->f.count = 2;
			fx->f.last_class = loops[i].cls;
			fx->f.last_code = loops[i].code;
			fx->f.last_signal = loops[i].signal;
			r = finding_record(fx);
			render(fx, &r);
			o = parse_line(fx->out.data, fx->out.len);
			if (!strstr(STR(o, "message"), loops[i].how))
				fail_msg("crash_loop %zu: \"%s\" lacks \"%s\"", i,
					 STR(o, "message"), loops[i].how);
			json_object_put(o);
		}
	}
	/*
	 * A loop of starts that never ran, with their runtime's error: start_error, not
	 * stderr_tail, and the message compares and quotes that error's cause.
	 */
	{
		static const char err[] =
			"OCI runtime create failed: runc create failed: unable to "
			"start container process: exec: \"/app\": stat /app: "
			"no such file or directory: unknown";

		burst_finding(&fx->f, subject);
		fx->f.rule = EW_RULE_CRASH_LOOP;
		fx->f.severity = EW_SEV_ERROR;
		fx->f.scope = EW_SCOPE_IDENTITY;
		fx->f.count = 3;
		fx->f.line_repeats = 3;
		fx->f.last_class = EW_CLASS_START_FAILED;
		fx->f.last_code = 1;
		fx->f.last_signal = 0;
		fx->f.tail = err;
		fx->f.tail_len = sizeof(err) - 1;
		fx->f.tail_start_error = true;
		r = finding_record(fx);
		render(fx, &r);
		o = parse_line(fx->out.data, fx->out.len);
		assert_string_equal(STR(o, "start_error"), err);
		assert_false(has(o, "stderr_tail"));
		assert_non_null(
			strstr(STR(o, "message"),
			       "failed 3 starts in a row, without running its command, over "));
		assert_non_null(strstr(STR(o, "message"), "; the runtime's error was the same each "
							  "time; last exit: code 1 (start_failed): "
							  "exec: \"/app\": stat /app: no such file "
							  "or directory"));
		json_object_put(o);
		/* The same bytes as a stderr tail: said as stderr. */
		fx->f.tail_start_error = false;
		r = finding_record(fx);
		render(fx, &r);
		o = parse_line(fx->out.data, fx->out.len);
		assert_false(has(o, "start_error"));
		assert_string_equal(STR(o, "stderr_tail"), err);
		assert_non_null(strstr(STR(o, "message"), "the last stderr line was the same"));
		json_object_put(o);
	}

	ew_subject_free(subject);
}

/* ---- 6. agent, and records that cannot be rendered ---- */

static void test_agent(void **state)
{
	/* docs/schema.md's order of agent.kernel_events, one name per enum ew_stat. */
	static const char *const kstats[EW_STAT__MAX] = {
		"main_execs",	   "main_reexecs",  "main_exits",     "child_exits",
		"ready",	   "dropped_execs", "dropped_exits",  "dropped_ready",
		"map_full",	   "stderr_faults", "fatal_signals",  "oom_victims",
		"stderr_map_full", "main_moves",    "start_failures",
	};
	struct fx *fx = *state;
	struct ew_record r = {.type = EW_REC_AGENT, .time_ns = AGENT_T, .agent = &fx->agent};
	json_object *o, *a, *ke, *sinks, *s;

	doc_agent(&fx->agent);
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_false(has(o, "container"));
	assert_false(has(o, "process"));
	assert_int_equal(json_object_object_length(GET(o, LABELS)), 2);
	json_object_put(o);
	assert_doc_line(&fx->out, "2026-11-29T12:16:27.496169065Z", true);

	/* A periodic report: every counter in its place, each sink in order. */
	fx->agent.phase = "periodic";
	for (int i = 0; i < EW_STAT__MAX; i++)
		fx->agent.kstats[i] = 1000 + (uint64_t)i;
	fx->agent.drops = 7;
	fx->agent.tracked = 3;
	fx->agent.stale_swept = 2;
	fx->agent.log_watches = 4;
	fx->agent.log_watch_refused = 6;
	fx->agent.log_watch_overflows = 1;
	fx->agent.forgotten[0] = 9;
	fx->agent.forgotten[1] = 8;
	fx->agent.forgotten[2] = 5;
	fx->agent.forgotten_in_window = 4;
	fx->agent.nsinks = 2;
	fx->agent.sinks[1] = (struct ew_sink_status){.name = "tcp://collector:5170",
						     .connected = false,
						     .queued = 12,
						     .spooled_bytes = 4096,
						     .delivered = 80,
						     .dropped = 3};
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_string_equal(STR(o, "severity"), "WARNING");
	a = GET(o, "agent");
	assert_string_equal(STR(a, "phase"), "periodic");
	assert_false(has(a, "already_running"));
	assert_int_equal(INT(a, "drops"), 7);
	assert_int_equal(INT(a, "containers_tracked"), 3);
	assert_int_equal(INT(a, "stale_swept"), 2);
	assert_int_equal(INT(GET(a, "log_watch"), "watched"), 4);
	assert_int_equal(INT(GET(a, "log_watch"), "refused"), 6);
	assert_int_equal(INT(GET(a, "log_watch"), "overflows"), 1);
	assert_int_equal(json_object_object_length(GET(a, "identities_forgotten")), 4);
	assert_int_equal(INT(GET(a, "identities_forgotten"), "idle"), 9);
	assert_int_equal(INT(GET(a, "identities_forgotten"), "limit"), 8);
	assert_int_equal(INT(GET(a, "identities_forgotten"), "budget"), 5);
	assert_int_equal(INT(GET(a, "identities_forgotten"), "in_window"), 4);
	ke = GET(a, "kernel_events");
	assert_int_equal(json_object_object_length(ke), EW_STAT__MAX);
	for (int i = 0; i < EW_STAT__MAX; i++)
		assert_int_equal(INT(ke, kstats[i]), 1000 + i);
	sinks = GET(a, "sinks");
	assert_true(json_object_is_type(sinks, json_type_array));
	assert_int_equal(json_object_array_length(sinks), 2);
	s = json_object_array_get_idx(sinks, 0);
	assert_string_equal(STR(s, "name"), "stdout");
	assert_true(json_object_get_boolean(GET(s, "connected")));
	assert_int_equal(INT(s, "delivered"), 1);
	s = json_object_array_get_idx(sinks, 1);
	assert_int_equal(json_object_object_length(s), 6);
	assert_string_equal(STR(s, "name"), "tcp://collector:5170");
	assert_false(json_object_get_boolean(GET(s, "connected")));
	assert_int_equal(INT(s, "queued"), 12);
	assert_int_equal(INT(s, "spooled_bytes"), 4096);
	assert_int_equal(INT(s, "delivered"), 80);
	assert_int_equal(INT(s, "dropped"), 3);
	assert_non_null(strstr(STR(o, "message"), "3 containers tracked, 7 records lost"));
	/* The sentence points at the members that break the count down. */
	assert_non_null(strstr(STR(o, "message"), "(by kind: agent.kernel_events.dropped_*)"));
	assert_non_null(
		strstr(STR(o, "message"),
		       ", 4 identities forgotten within their rules' windows (the "
		       "detector's memory is full: raise max_identities or memory_budget)"));
	json_object_put(o);

	/* No sinks: an empty array, not a missing member. */
	fx->agent.nsinks = 0;
	fx->agent.phase = "stop";
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_int_equal(json_object_array_length(GET(o, "agent", "sinks")), 0);
	assert_non_null(strstr(STR(o, "message"), "exitwatch stopping: "));
	json_object_put(o);
}

static void test_invalid_records(void **state)
{
	static const char before[] = "{\"earlier\":\"line\"}\n";
	struct fx *fx = *state;
	struct ew_record ok = doc_exit_record(fx);
	struct ew_record bad[EW_BAD_RECORDS];
	size_t n = bad_records(fx, &ok, bad);

	for (size_t i = 0; i < n; i++) {
		ew_buf_reset(&fx->out);
		assert_int_equal(ew_buf_puts(&fx->out, before), 0);
		if (ew_render_json(&bad[i], &fx->ctx, &fx->out) != -EINVAL)
			fail_msg("bad record %zu: not -EINVAL; wrote: %s", i,
				 show(fx->out.data, fx->out.len));
		/* Nothing written: what was in the buffer is untouched. */
		assert_int_equal(fx->out.len, sizeof(before) - 1);
		assert_string_equal(fx->out.data, before);
	}

	/* Appending: a good record after the earlier line adds exactly one line. */
	assert_int_equal(ew_render_json(&ok, &fx->ctx, &fx->out), 0);
	assert_memory_equal(fx->out.data, before, sizeof(before) - 1);
	json_object_put(
		parse_line(fx->out.data + sizeof(before) - 1, fx->out.len - (sizeof(before) - 1)));
}

/* r rendered with the cache c (NULL: none), as a string to free. */
static char *render_with(struct fx *fx, const struct ew_record *r, struct ew_render_cache *c)
{
	char *line;

	ew_buf_reset(&fx->out);
	assert_int_equal(ew_render_json_cached(r, &fx->ctx, c, &fx->out), 0);
	line = strdup(fx->out.data);
	assert_non_null(line);
	return line;
}

/* With the cache, first (a miss) and again (a hit): the bytes of the uncached rendering. */
static void assert_cached_same(struct fx *fx, const struct ew_record *r, struct ew_render_cache *c)
{
	char *want = render_with(fx, r, NULL);

	for (int pass = 0; pass < 2; pass++) {
		char *got = render_with(fx, r, c);

		assert_string_equal(got, want);
		free(got);
	}
	free(want);
}

/*
 * The identity's parts kept by revision (ew_render_cache) change no byte: every kind of record,
 * hostile names, two identities in one slot, and rev 0, which is never kept.
 */
static void test_cache_same_bytes(void **state)
{
	struct fx *fx = *state;
	struct ew_render_cache *c = ew_render_cache_new();
	struct ew_subject *subject;
	struct ew_record r, exit_r;
	struct ew_identity other;
	char *a, *b;

	assert_non_null(c);
	exit_r = doc_exit_record(fx);
	fx->id.rev = 7;
	assert_cached_same(fx, &exit_r, c);

	/* Another identity in the same slot (7 + 64), then the first again. */
	other = fx->id;
	docker_identity(&other, "/docker/" STOP_CID, 777, "other-1", "img:2", "no", "", "");
	other.rev = 7 + 64;
	exit_r.id = &other;
	assert_cached_same(fx, &exit_r, c);
	exit_r.id = &fx->id;
	assert_cached_same(fx, &exit_r, c);
	a = render_with(fx, &exit_r, c);
	assert_non_null(strstr(a, "\"name\":\"ewtest-11056-0\""));
	assert_null(strstr(a, "other-1"));
	free(a);

	hostile_exit(fx, &r);
	fx->id.rev = 8;
	assert_cached_same(fx, &r, c);
	hostile_start(fx, &r);
	fx->id.rev = 8;
	assert_cached_same(fx, &r, c);

	/* A finding: its identity comes from the subject, with the rev it was packed with. */
	shop_identity(&fx->id);
	fx->id.rev = 9;
	subject = ew_subject_pack(&fx->id);
	assert_non_null(subject);
	burst_finding(&fx->f, subject);
	r = finding_record(fx);
	assert_int_equal(fx->scratch.rev, 9);
	assert_cached_same(fx, &r, c);
	fx->f.resolved = true;
	r = finding_record(fx);
	assert_cached_same(fx, &r, c);
	ew_subject_free(subject);

	/* The heads (event, schema, node; the labels' node and event) follow the node, hostile
	 * bytes included, and come back for the first one. */
	exit_r = doc_exit_record(fx);
	fx->id.rev = 10;
	fx->ctx.node = "gke-prod-pool-1-7f3b";
	assert_cached_same(fx, &exit_r, c);
	fx->ctx.node = "n\"o\\de\n\xff";
	assert_cached_same(fx, &exit_r, c);
	a = render_with(fx, &exit_r, c);
	assert_non_null(strstr(a, "\"node\":\"n\\\"o\\\\de\\n\xef\xbf\xbd\""));
	free(a);
	fx->ctx.node = NODE;
	assert_cached_same(fx, &exit_r, c);

	/* rev 0: rendered each time from what the identity holds now. */
	exit_r = doc_exit_record(fx);
	fx->id.rev = 0;
	a = render_with(fx, &exit_r, c);
	ew_strlcpy(fx->id.meta.name, "renamed-0", sizeof(fx->id.meta.name));
	b = render_with(fx, &exit_r, c);
	assert_non_null(strstr(a, "ewtest-11056-0"));
	assert_non_null(strstr(b, "\"name\":\"renamed-0\""));
	free(a);
	free(b);
	ew_render_cache_free(c);
}

/* exit_r's exit with the status word w, its class as the pipeline would give it. */
static void set_word(struct fx *fx, struct ew_record *r, uint32_t w)
{
	fx->ev.exit_word = w;
	fx->ev.status = ew_exit_decode(w);
	r->cls = ew_exit_classify(&fx->ev, &fx->classes);
}

/*
 * An exit's "exit", "startup" and "children" kept from the last exit (struct exit_memo) change
 * no byte: each input that makes them changed alone, back again, a meaning rewritten in place in
 * the class table, a killer and a tail around them, and a startup duration, never kept.
 */
static void test_cache_exit_memo(void **state)
{
	struct fx *fx = *state;
	struct ew_render_cache *c = ew_render_cache_new();
	struct ew_record r;
	char *a;

	assert_non_null(c);
	r = doc_exit_record(fx);
	fx->id.rev = 21;
	assert_cached_same(fx, &r, c);
	set_word(fx, &r, 1 << 8);
	assert_cached_same(fx, &r, c);
	set_word(fx, &r, 3 << 8);
	assert_cached_same(fx, &r, c);
	set_word(fx, &r, 0);
	assert_cached_same(fx, &r, c);
	set_word(fx, &r, SIGSEGV | 0x80); /* core dumped */
	assert_cached_same(fx, &r, c);
	set_word(fx, &r, SIGSEGV);
	assert_cached_same(fx, &r, c);
	set_word(fx, &r, 64); /* a signal without a name or a meaning */
	assert_cached_same(fx, &r, c);
	fx->ev.oom = true;
	set_word(fx, &r, SIGKILL);
	assert_cached_same(fx, &r, c);
	fx->ev.oom = false;
	set_word(fx, &r, SIGKILL);
	assert_cached_same(fx, &r, c);

	/* The same code, its meaning rewritten where it is (a reloaded class table). */
	set_word(fx, &r, 3 << 8);
	assert_cached_same(fx, &r, c);
	strcpy(fx->classes.meanings[3], "bad \"config\"\nsee runbook");
	assert_cached_same(fx, &r, c);
	a = render_with(fx, &r, c);
	assert_non_null(strstr(a, "\"meaning\":\"bad \\\"config\\\"\\nsee runbook\""));
	free(a);
	strcpy(fx->classes.meanings[3], "bad config, see runbook");
	assert_cached_same(fx, &r, c);
	strcpy(fx->classes.meanings[3], "bad CONFIG, see runbook"); /* the same length */
	assert_cached_same(fx, &r, c);
	fx->classes.meanings[3][0] = '\0';
	assert_cached_same(fx, &r, c);

	/* Startup and children, one at a time. */
	fx->startup.succeeded = true;
	assert_cached_same(fx, &r, c);
	fx->startup.known = false;
	assert_cached_same(fx, &r, c);
	r.startup = NULL;
	assert_cached_same(fx, &r, c);
	r.startup = &fx->startup;
	fx->ev.ready = true;
	assert_cached_same(fx, &r, c);
	fx->ev.startup_ns = 1234567890;
	assert_cached_same(fx, &r, c);
	/* Made for this exit alone, in its place: after "uptime_s", before "children". */
	a = render_with(fx, &r, c);
	assert_non_null(strstr(a, ",\"uptime_s\":"));
	assert_true(strstr(a, ",\"uptime_s\":") <
		    strstr(a, ",\"startup\":{\"ready\":true,\"duration_s\":1.235},\"children\":{"));
	free(a);
	fx->ev.startup_ns = 1234567;
	assert_cached_same(fx, &r, c);
	fx->ev.ready = false;
	fx->ev.startup_ns = 0;
	fx->ev.children.clean = 2;
	assert_cached_same(fx, &r, c);
	fx->ev.children.failed = 1;
	assert_cached_same(fx, &r, c);
	fx->ev.children.signaled = 1;
	fx->ev.children.oom_killed = 1;
	assert_cached_same(fx, &r, c);

	/* A killer and a tail go between and after the kept objects. */
	fx->ev.has_killer = true;
	fx->ev.killer.pid = 1;
	fx->ev.killer.signal = SIGTERM;
	strcpy(fx->ev.killer.comm, "runc");
	set_word(fx, &r, SIGTERM);
	assert_cached_same(fx, &r, c);
	set_tail(&fx->ev, "oops\n", 5);
	set_word(fx, &r, 3 << 8);
	assert_cached_same(fx, &r, c);
	ew_render_cache_free(c);
}

/*
 * The message's control bytes and DEL become '?' wherever they fall (message.c looks at eight
 * bytes at a time): each position of a name, and bytes next to the ones that pass (0x20, 0x7e,
 * 0x80, 0xff stay).
 */
static void test_message_printable(void **state)
{
	struct fx *fx = *state;
	static const unsigned char bad[] = {0x01, 0x09, 0x0a, 0x1b, 0x1f, 0x7f};
	struct ew_record r = doc_exit_record(fx);
	char name[40], want[40], msg[1024];

	for (size_t pos = 0; pos < 24; pos++) {
		for (size_t k = 0; k < sizeof(bad); k++) {
			memset(name, 'a', 24);
			name[24] = '\0';
			name[(pos + 5) % 24] = (char)(k % 2 ? 0x7e : 0x20);
			name[(pos + 9) % 24] = (char)(k % 2 ? 0x80 : 0xff);
			memcpy(want, name, sizeof(name));
			name[pos] = (char)bad[k];
			want[pos] = '?';
			ew_strlcpy(fx->id.meta.name, name, sizeof(fx->id.meta.name));
			ew_record_message(&r, &fx->ctx, msg, sizeof(msg));
			if (strncmp(msg, want, 24) || msg[24] != ' ')
				fail_msg("byte 0x%02x at %zu: %s", bad[k], pos, show(msg, 40));
		}
	}
}

/*
 * Where a sentence's pieces are cut (message.c makes each in a buffer of its own): who it is
 * about at EW_NAME_LEN + 95 bytes, the last stderr line at 159; what follows a cut piece is
 * still written, and a sentence that does not fit the caller's buffer ends where it does.
 */
static void test_message_cuts(void **state)
{
	struct fx *fx = *state;
	struct ew_record r = doc_exit_record(fx);
	const size_t who = EW_NAME_LEN + 95;
	char msg[2048], tail[300];

	memset(fx->id.meta.pod_namespace, 'n', EW_NAME_LEN - 1);
	fx->id.meta.pod_namespace[EW_NAME_LEN - 1] = '\0';
	memset(fx->id.meta.name, 'm', EW_NAME_LEN - 1);
	fx->id.meta.name[EW_NAME_LEN - 1] = '\0';
	memset(tail, 'e', sizeof(tail));
	tail[0] = '\n'; /* the line starts after it: 299 bytes */
	set_tail(&fx->ev, tail, sizeof(tail));
	ew_record_message(&r, &fx->ctx, msg, sizeof(msg));
	assert_int_equal(strspn(msg, "n"), EW_NAME_LEN - 1);
	assert_int_equal(msg[EW_NAME_LEN - 1], '/');
	assert_int_equal(strspn(msg + EW_NAME_LEN, "m"), who - EW_NAME_LEN);
	assert_memory_equal(msg + who, " exited with code 3 (", strlen(" exited with code 3 ("));
	assert_non_null(strstr(msg, "; last stderr: "));
	assert_int_equal(strlen(strstr(msg, "; last stderr: ") + strlen("; last stderr: ")), 159);
	assert_int_equal(strspn(strstr(msg, "; last stderr: ") + strlen("; last stderr: "), "e"),
			 159);

	/* A buffer that ends inside who: the sentence is that much of it. */
	ew_record_message(&r, &fx->ctx, msg, 300);
	assert_int_equal(strlen(msg), 299);
	assert_int_equal(strspn(msg + EW_NAME_LEN, "m"), 299 - EW_NAME_LEN);
}

/*
 * The start, ready and exit sentences make printable only what comes from a workload or the
 * configuration (message.c, sb_put_text()): each such string in turn holds a control byte and
 * a DEL, and each sentence that quotes it shows them as '?'. A piece put in without the check
 * fails here.
 */
static void set_hostile(char *dst, size_t len)
{
	ew_strlcpy(dst, "x\x01y\x7fz", len);
}

static void assert_sentence(struct fx *fx, const struct ew_record *r, const char *what)
{
	char msg[1024];

	ew_record_message(r, &fx->ctx, msg, sizeof(msg));
	for (const char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			fail_msg("%s: byte 0x%02x in \"%s\"", what, (unsigned char)*p,
				 show(msg, strlen(msg)));
	if (!strstr(msg, "x?y?z"))
		fail_msg("%s: not quoted as x?y?z: \"%s\"", what, show(msg, strlen(msg)));
}

static void test_message_pieces_printable(void **state)
{
	struct fx *fx = *state;
	struct ew_record r;

	/* Who: a plain cgroup's display name, its cgroup, a pod's namespace, a name, an id. */
	for (int k = 0; k < 5; k++) {
		r = doc_exit_record(fx);
		fx->ev.tail_len = 0;
		if (k < 2) {
			memset(fx->id.cg.container_id, 0, sizeof(fx->id.cg.container_id));
			if (k == 0) {
				set_hostile(fx->id.display, sizeof(fx->id.display));
			} else {
				fx->id.display[0] = '\0';
				set_hostile(fx->id.cgroup, sizeof(fx->id.cgroup));
			}
		} else if (k == 2) {
			set_hostile(fx->id.meta.pod_namespace, sizeof(fx->id.meta.pod_namespace));
		} else if (k == 3) {
			set_hostile(fx->id.meta.name, sizeof(fx->id.meta.name));
		} else {
			set_hostile(fx->id.cg.container_id, sizeof(fx->id.cg.container_id));
		}
		assert_sentence(fx, &r, "exit's who");
		r.type = EW_REC_START;
		fx->ev.type = EW_EVENT_START;
		assert_sentence(fx, &r, "start's who");
	}

	/* A start's comm, a ready's listener (found running, and seen starting). */
	hostile_start(fx, &r);
	shop_identity(&fx->id);
	set_hostile(fx->ev.comm, sizeof(fx->ev.comm));
	assert_sentence(fx, &r, "start's comm");
	r.type = EW_REC_READY;
	fx->ev.type = EW_EVENT_READY;
	set_hostile(fx->ev.listener_comm, sizeof(fx->ev.listener_comm));
	for (int seeded = 0; seeded < 2; seeded++) {
		fx->ev.seeded = seeded;
		assert_sentence(fx, &r,
				seeded ? "ready's listener, found running" : "ready's listener");
	}

	/* An exit's configured meaning, its killer's comm and container. */
	for (int k = 0; k < 3; k++) {
		r = doc_exit_record(fx);
		fx->ev.tail_len = 0;
		if (k == 0) {
			set_hostile(fx->classes.meanings[3], sizeof(fx->classes.meanings[3]));
		} else {
			fx->ev.has_killer = true;
			fx->ev.killer = (struct ew_killer_info){.pid = 7, .signal = SIGTERM};
			strcpy(fx->ev.killer.comm, "kill");
			if (k == 1)
				set_hostile(fx->ev.killer.comm, sizeof(fx->ev.killer.comm));
			else
				set_hostile(fx->ev.killer.container,
					    sizeof(fx->ev.killer.container));
		}
		assert_sentence(fx, &r,
				k == 0	 ? "meaning"
				: k == 1 ? "killer's comm"
					 : "killer's container");
	}
}

/* The time member of a line, as a string to compare. */
static void time_of(const struct ew_buf *b, const char *const *path, char out[EW_TIME_STR_LEN])
{
	json_object *o = parse_line(b->data, b->len), *v = o;

	for (; *path; path++)
		assert_true(json_object_object_get_ex(v, *path, &v));
	snprintf(out, EW_TIME_STR_LEN, "%s", json_object_get_string(v));
	json_object_put(o);
}

/*
 * After a step of the wall clock (an hour back here, as NTP after a boot with the RTC ahead),
 * every time a record shows is as the wall clock said it then: the record's, a finding's last
 * and its last exit's (after the step) an hour earlier; its first and a resolution's
 * fired_time (before it) as they were; with and without the cache, and in text. The insertId
 * stays the one of the agent's own time: the record is the same record.
 */
static void test_wall_step(void **state)
{
	static const char *const paths[][3] = {
		{"time"}, {"first_time"}, {"last_time"}, {"last_exit", "time"}, {"fired_time"},
	};
	struct fx *fx = *state;
	struct ew_render_cache *c = ew_render_cache_new();
	struct ew_clock clk = {.boot_to_wall = 0};
	struct ew_subject *subject;
	struct ew_record r;
	char want[EW_TIME_STR_LEN], got[EW_TIME_STR_LEN], id[24], id2[24];
	int64_t d;

	assert_non_null(c);
	shop_identity(&fx->id);
	subject = ew_subject_pack(&fx->id);
	assert_non_null(subject);
	burst_finding(&fx->f, subject);
	fx->f.resolved = true;
	fx->f.fired_ns = FIND_T - SEC(2);
	r = finding_record(fx);
	ew_record_insert_id(&r, &fx->ctx, id);
	assert_true(ew_clock_note_offset(&clk, FIND_T - SEC(1), -(int64_t)SEC(3600), &d));
	fx->ctx.clock = &clk;
	render(fx, &r);
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		uint64_t t = i == 0   ? r.time_ns
			     : i == 1 ? fx->f.first_ns
			     : i == 2 ? fx->f.last_ns
			     : i == 3 ? fx->f.last_exit_ns
				      : fx->f.fired_ns;

		ew_time_format(i == 1 || i == 4 ? t : t - SEC(3600), want);
		time_of(&fx->out, paths[i], got);
		assert_string_equal(got, want);
	}
	ew_record_insert_id(&r, &fx->ctx, id2);
	assert_string_equal(id, id2);
	assert_non_null(strstr(fx->out.data, id));

	/* A container record, cached (twice: the time memo) and not, and its text line. */
	fx->ctx.clock = NULL;
	r = doc_exit_record(fx);
	fx->ctx.clock = &clk;
	assert_true(ew_clock_note_offset(&clk, r.time_ns, -(int64_t)SEC(7200), &d));
	ew_time_format(r.time_ns - SEC(7200), want);
	for (int i = 0; i < 3; i++) {
		char *line = render_with(fx, &r, i < 2 ? c : NULL);

		time_of(&fx->out, paths[0], got);
		assert_string_equal(got, want);
		free(line);
	}
	ew_buf_reset(&fx->out);
	assert_int_equal(ew_render_text(&r, &fx->ctx, false, &fx->out), 0);
	want[23] = '\0';
	assert_non_null(strstr(fx->out.data, want));
	ew_render_cache_free(c);
	ew_subject_free(subject);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_exit_config_error),
		T(test_exit_docker_stop),
		T(test_exit_start_failed),
		T(test_exit_start_error),
		T(test_exit_children), /* the kernel's child counts */
		T(test_severity_exit_classes),
		T(test_severity_other_records),
		T(test_insert_id_fnv_words),
		T(test_insert_id_deterministic),
		T(test_hostile_json),
		T(test_pod_object),
		T(test_finding_burst),
		T(test_resolved),
		T(test_finding_variants),
		T(test_finding_last_killer),
		T(test_agent),
		T(test_invalid_records),
		T(test_cache_same_bytes),
		T(test_cache_exit_memo),
		T(test_message_printable),
		T(test_message_cuts),
		T(test_message_pieces_printable),
		T(test_wall_step),
	};

	return cmocka_run_group_tests_name("render_json", tests, NULL, NULL);
}
