// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The record renderers: src/sink/sink_json.c and message.c (one NDJSON line per record) and
 * src/sink/sink_text.c (one terminal line). Every JSON line is parsed back with json-c (strict,
 * UTF-8 validated) and its member names are read from the raw text as well, so a duplicate or
 * forged member cannot hide behind json-c's "last one wins". The examples of docs/schema.md that
 * depend only on a record's inputs are rebuilt and compared byte for byte; like the other tests
 * that read tests/fixtures, this one runs from the repository root.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "exitwatch/util/buf.h"
#include "exitwatch/detect/detector.h"
#include "exitwatch/core/exit_class.h"
#include "exitwatch/identity/identity.h"
#include "exitwatch/core/record.h"
#include "exitwatch/render/render_json.h"
#include "exitwatch/render/render_text.h"
#include "exitwatch/util/util.h"

#define DOCS	  "docs/schema.md"
#define NODE	  "gke-prod-pool-1-7f3a"
#define LABELS	  "logging.googleapis.com/labels"
#define INSERT_ID "logging.googleapis.com/insertId"
#define SEC(x)	  ((uint64_t)(x)*EW_NSEC_PER_SEC)
#define MS(x)	  ((uint64_t)(x)*EW_NSEC_PER_MSEC)
/* U+FFFD as raw UTF-8; a literal of its own, so a following hex digit is not swallowed. */
#define R "\xef\xbf\xbd"

/* docs/schema.md, container_exit: "A configuration error with its stderr". */
#define EXIT_T	 1795954528853738259ULL /* 2026-11-29T12:15:28.853738259Z */
#define EXIT_CID "6be817fa19cdb834a3af1dab14c0fceb097d222f12951af55f15c4898294139e"
#define EXIT_TAIL                                                                            \
	"Traceback (most recent call last):\n  File \"/app/main.py\", line 3, in <module>\n" \
	"ModuleNotFoundError: No module named 'app.services.monitoring'\n"
#define EXIT_MEANING \
	"configuration or dependency error at start-up (gunicorn: worker failed to boot)"
/* docs/schema.md, container_exit: "Stopped by docker stop". */
#define STOP_T	 1795954532664844472ULL /* 2026-11-29T12:15:32.664844472Z */
#define STOP_CID "b1b97b2fd58b5699e8c4c128ed1d5254346e10051fa4062d3b468a7adbe6a227"
/* docs/schema.md, finding / stable / resolved: the shop-backend crash loop. */
#define SHOP_CID    "3f9a1c0e7b2d4a6f8e1b9c3d5a7f0e2b4c6d8a1f3e5b7c9d0a2f4e6b8c1d3a5f"
#define FIRST_T	    1741944415334118529ULL /* 09:26:55.334118529 */
#define FIND_T	    1741944495355118529ULL /* 09:28:15.355118529 */
#define LAST_EXIT_T 1741944585362118529ULL /* 09:29:45.362118529 */
#define RESOLVED_T  1741945185362118529ULL /* 09:39:45.362118529 */
#define STABLE_T    1741959163204118529ULL /* 13:32:43.204118529 */
#define BURST_ID    "f-b78bbb8bbaa00614"
#define STABLE_ID   "f-ba09ce844b538965"
#define SHOP_TAIL                                                                                 \
	"Traceback (most recent call last):\n  File \"/app/shop/wsgi.py\", line 4, in <module>\n" \
	"    from shop.settings import load\nModuleNotFoundError: No module named "               \
	"'shop.settings'\n"
/* docs/schema.md, agent. */
#define AGENT_T 1795954587496169065ULL /* 2026-11-29T12:16:27.496169065Z */

/* Workload strings that try everything: quotes, backslashes, control bytes, escape sequences,
 * CR/LF, invalid UTF-8 (a lone 0xff, a truncated euro sign) and closing the string to start a
 * second record. Each has its expected decoding: the same bytes, U+FFFD for the invalid ones. */
#define FORGE "\"}{\"event\":\"forged\"}"
static const char hostile_name[] = "w\x01\x1b[31m\r\n" FORGE "\\\xff"
				   "x\xe2\x82"
				   "end";
static const char hostile_name_dec[] = "w\x01\x1b[31m\r\n" FORGE "\\" R "x" R "end";
static const char hostile_comm[] = "x\"\\\x01\x1b[31m\r\n\xff"; /* 12 bytes: fits comm */
static const char hostile_comm_dec[] = "x\"\\\x01\x1b[31m\r\n" R;
static const char hostile_argv0[] = "/bin/" FORGE "\x1b]0;pwned\x07\r\n\xc3\xa9\xe2\x82";
static const char hostile_argv0_dec[] = "/bin/" FORGE "\x1b]0;pwned\x07\r\n\xc3\xa9" R;
static const char hostile_killer[] = "k\x1b[0m\r\n\"}{";
/* A NUL, U+2028 and the forged record; the last line is what the message quotes. */
static const char hostile_tail[] = "first line\xe2\x80\xa8\n" FORGE "\x1b[2J\r"
				   "boom \xff \\ \"q\"\x01\0z\n";
static const char hostile_tail_dec[] = "first line\xe2\x80\xa8\n" FORGE "\x1b[2J\r"
				       "boom " R " \\ \"q\"\x01\0z\n";

struct fx {
	struct ew_class_config classes;
	struct ew_render_ctx ctx;
	struct ew_identity id, scratch;
	struct ew_event ev;
	struct ew_startup startup;
	struct ew_finding f;
	struct ew_agent_status agent;
	struct ew_buf out;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	ew_class_config_default(&fx->classes);
	fx->ctx = (struct ew_render_ctx){.node = NODE, .classes = &fx->classes};
	ew_buf_init(&fx->out);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	ew_buf_free(&fx->out);
	free(fx);
	return 0;
}

/* ---- building records as the pipeline does ---- */

/* A Docker identity as the resolver makes it: the cgroup path parsed, then the runtime's names. */
static void docker_identity(struct ew_identity *id, const char *cgroup, uint64_t cgroup_id,
			    const char *name, const char *image, const char *policy,
			    const char *project, const char *service)
{
	memset(id, 0, sizeof(*id));
	ew_strlcpy(id->cgroup, cgroup, sizeof(id->cgroup));
	id->cgroup_id = cgroup_id;
	assert_int_equal(ew_cgroup_parse(id->cgroup, &id->cg), 0);
	assert_int_equal(id->cg.runtime, EW_RT_DOCKER);
	id->has_meta = true;
	id->meta.restart_count = -1;
	ew_strlcpy(id->meta.name, name, sizeof(id->meta.name));
	ew_strlcpy(id->meta.image, image, sizeof(id->meta.image));
	ew_strlcpy(id->meta.restart_policy, policy, sizeof(id->meta.restart_policy));
	ew_strlcpy(id->meta.compose_project, project, sizeof(id->meta.compose_project));
	ew_strlcpy(id->meta.compose_service, service, sizeof(id->meta.compose_service));
	ew_identity_finish(id);
}

static void shop_identity(struct ew_identity *id)
{
	docker_identity(id, "/system.slice/docker-" SHOP_CID ".scope", 8871, "shop-backend-1",
			"ghcr.io/acme/shop-backend:2.4.1", "always", "shop", "backend");
}

/* An EXIT event with the start's names filled in, as the pipeline hands it over. */
static void exit_event(struct ew_event *ev, uint64_t t, uint64_t cgroup_id, uint32_t pid,
		       uint32_t word, uint64_t uptime_ns)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = EW_EVENT_EXIT;
	ev->time_ns = t;
	ev->cgroup_id = cgroup_id;
	ev->pid = pid;
	ev->start_boot_ns = 5 * EW_NSEC_PER_SEC + pid;
	ev->exit_word = word;
	ev->status = ew_exit_decode(word);
	ev->uptime_ns = uptime_ns;
	strcpy(ev->comm, "workload");
	strcpy(ev->argv0, "workload");
	strcpy(ev->filename, "/usr/local/bin/workload");
}

static void set_tail(struct ew_event *ev, const char *tail, size_t len)
{
	memcpy(ev->tail, tail, len);
	ev->tail_len = (uint32_t)len;
	ev->stderr_total = len;
	ev->tail_source = EW_TAIL_KERNEL;
}

/* The doc's config_error exit: docker, code 3 after <1ms, stderr, no killer. */
static struct ew_record doc_exit_record(struct fx *fx)
{
	docker_identity(&fx->id, "/docker/" EXIT_CID, 34510, "ewtest-11056-0",
			"exitwatch-test:latest", "always", "shop", "backend");
	exit_event(&fx->ev, EXIT_T, 34510, 11117, 3 << 8, 612345);
	set_tail(&fx->ev, EXIT_TAIL, sizeof(EXIT_TAIL) - 1);
	/* The default: Docker's json-file log, which does not count every byte. */
	fx->ev.tail_source = EW_TAIL_DOCKER_JSON;
	fx->startup = (struct ew_startup){.known = true, .succeeded = false};
	fx->ctx.node = "vm"; /* the example's node */
	return (struct ew_record){.type = EW_REC_EXIT,
				  .time_ns = fx->ev.time_ns,
				  .ev = &fx->ev,
				  .id = &fx->id,
				  .cls = ew_exit_classify(&fx->ev, &fx->classes),
				  .startup = &fx->startup};
}

/* The doc's exit_code_burst finding, filled in as ew_det_evidence() and emit() do. */
static void burst_finding(struct ew_finding *f, const struct ew_subject *subject)
{
	memset(f, 0, sizeof(*f));
	f->rule = EW_RULE_EXIT_CODE_BURST;
	f->severity = EW_SEV_CRITICAL;
	f->scope = EW_SCOPE_WORKLOAD;
	strcpy(f->finding_id, BURST_ID);
	f->time_ns = FIND_T;
	f->subject = subject;
	f->identities = 1;
	f->count = 4;
	f->threshold = 3;
	f->window_ns = SEC(300);
	f->first_ns = FIRST_T;
	f->last_ns = FIND_T;
	f->intervals = 3;
	f->interval_median_s = 23.007;
	f->interval_min_s = 12.007;
	f->interval_max_s = 45.007;
	f->nhist = 1;
	f->hist[0] = (struct ew_exit_hist){.code = 3, .signal = 0, .count = 4};
	f->has_last_exit = true;
	f->last_class = EW_CLASS_CONFIG_ERROR;
	f->last_code = 3;
	f->last_exit_ns = FIND_T;
	f->tail = SHOP_TAIL;
	f->tail_len = sizeof(SHOP_TAIL) - 1;
}

/* The record on_finding() in src/agent/pipeline.c makes: the subject unpacked into scratch. */
static struct ew_record finding_record(struct fx *fx)
{
	ew_subject_unpack(fx->f.subject, &fx->scratch);
	return (struct ew_record){.type = fx->f.resolved ? EW_REC_RESOLVED : EW_REC_FINDING,
				  .time_ns = fx->f.time_ns,
				  .finding = &fx->f,
				  .id = &fx->scratch};
}

static void doc_agent(struct ew_agent_status *a)
{
	memset(a, 0, sizeof(*a));
	a->phase = "start";
	a->version = "6af892c-dirty";
	a->kernel = "6.18.44-fc-v669";
	a->feat_group_dead = a->feat_stderr = a->feat_ready = a->feat_oom = a->feat_signals = true;
	a->feat_cgroup_move = true;
	a->uptime_ns = MS(88);
	a->starts = 1;
	a->tracked = 1;
	a->identities = 1;
	a->scan_mains = 1;
	a->nsinks = 1;
	a->sinks[0] = (struct ew_sink_status){.name = "stdout", .connected = true, .delivered = 1};
}

/* ---- reading a rendered line back ---- */

/* s[0..n) fit for a failure message: control bytes, DEL and non-ASCII as \xNN, cut short. */
static const char *show(const char *s, size_t n)
{
	static char buf[2048];
	size_t o = 0;

	for (size_t i = 0; i < n && o + 8 < sizeof(buf); i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

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
}

/* ---- 3. insertId ---- */

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

static void hostile_identity(struct ew_identity *id)
{
	docker_identity(id, "/docker/" EXIT_CID, 34510, hostile_name, "img:1", "", "", "");
}

static void hostile_exit(struct fx *fx, struct ew_record *r)
{
	hostile_identity(&fx->id);
	exit_event(&fx->ev, EXIT_T, 34510, 4242, 2 << 8, MS(1500));
	strcpy(fx->ev.comm, hostile_comm);
	strcpy(fx->ev.argv0, hostile_argv0);
	strcpy(fx->ev.filename, hostile_argv0);
	fx->ev.has_killer = true;
	fx->ev.killer = (struct ew_killer_info){.pid = 4343, .signal = SIGTERM, .cgroup_id = 1};
	strcpy(fx->ev.killer.comm, hostile_killer);
	strcpy(fx->ev.killer.container, "host");
	set_tail(&fx->ev, hostile_tail, sizeof(hostile_tail) - 1);
	fx->startup = (struct ew_startup){.known = true, .succeeded = true};
	*r = (struct ew_record){.type = EW_REC_EXIT,
				.time_ns = EXIT_T,
				.ev = &fx->ev,
				.id = &fx->id,
				.cls = ew_exit_classify(&fx->ev, &fx->classes),
				.startup = &fx->startup};
}

static void hostile_start(struct fx *fx, struct ew_record *r)
{
	hostile_identity(&fx->id);
	exit_event(&fx->ev, EXIT_T, 34510, 4242, 0, 0);
	fx->ev.type = EW_EVENT_START;
	fx->ev.ppid = 4200;
	strcpy(fx->ev.comm, hostile_comm);
	strcpy(fx->ev.argv0, hostile_argv0);
	strcpy(fx->ev.filename, hostile_argv0);
	fx->startup = (struct ew_startup){.restarts = 2};
	*r = (struct ew_record){.type = EW_REC_START,
				.time_ns = EXIT_T,
				.ev = &fx->ev,
				.id = &fx->id,
				.startup = &fx->startup};
}

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

/* No control byte but the final '\n' and, with colour, the renderer's own two SGR sequences. */
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
	burst_finding(&fx->f, subject);
	fx->f.rule = EW_RULE_RESTART_RATE;
	fx->f.severity = EW_SEV_WARNING;
	fx->f.scope = EW_SCOPE_IDENTITY;
	fx->f.window_ns = SEC(3600);
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
	fx->f.rule = EW_RULE_RESTART_RATE;
	r = finding_record(fx);
	render(fx, &r);
	o = parse_line(fx->out.data, fx->out.len);
	assert_non_null(strstr(STR(o, "message"), " stopped restarting after 1h "));
	json_object_put(o);
	ew_subject_free(subject);
}

/* ---- 6. agent, and records that cannot be rendered ---- */

static void test_agent(void **state)
{
	/* docs/schema.md's order of agent.kernel_events, one name per enum ew_stat. */
	static const char *const kstats[EW_STAT__MAX] = {
		"main_execs",	 "main_reexecs",  "main_exits",	     "child_exits", "ready",
		"dropped_execs", "dropped_exits", "dropped_ready",   "map_full",    "stderr_faults",
		"fatal_signals", "oom_victims",	  "stderr_map_full", "main_moves",
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
	struct ew_record bad[8];
	size_t n = 0;

	bad[n] = ok; /* EXIT without its event */
	bad[n++].ev = NULL;
	bad[n] = ok; /* EXIT without its identity */
	bad[n++].id = NULL;
	bad[n] = ok; /* START without its event */
	bad[n].type = EW_REC_START;
	bad[n++].ev = NULL;
	bad[n] = ok; /* READY without its identity */
	bad[n].type = EW_REC_READY;
	bad[n++].id = NULL;
	bad[n++] = (struct ew_record){.type = EW_REC_FINDING, .time_ns = 1, .id = &fx->id};
	bad[n++] = (struct ew_record){.type = EW_REC_RESOLVED, .time_ns = 1, .id = &fx->id};
	bad[n++] = (struct ew_record){.type = EW_REC_AGENT, .time_ns = 1};
	bad[n] = ok; /* a type no renderer knows */
	bad[n++].type = (enum ew_record_type)42;

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

	/* The text renderer refuses the same records, and writes nothing either. */
	for (size_t i = 0; i < n; i++) {
		ew_buf_reset(&fx->out);
		assert_int_equal(ew_render_text(&bad[i], &fx->ctx, false, &fx->out), -EINVAL);
		assert_int_equal(fx->out.len, 0);
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_exit_config_error),
		T(test_exit_docker_stop),
		T(test_exit_children), /* the kernel's child counts */
		T(test_severity_exit_classes),
		T(test_severity_other_records),
		T(test_insert_id_deterministic),
		T(test_hostile_json),
		T(test_hostile_text),
		T(test_text_terminal_safe),
		T(test_text_exact),
		T(test_finding_burst),
		T(test_resolved),
		T(test_finding_variants),
		T(test_agent),
		T(test_invalid_records),
	};

	return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
