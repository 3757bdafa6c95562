/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the renderer tests share (tests/test_render_json.c, tests/test_render_text.c): the
 * records of docs/schema.md's examples built as the pipeline builds them, workload strings that
 * try everything, and a fixture with a render context and an output buffer. Include after
 * <cmocka.h>.
 */
#ifndef EW_TESTS_RENDER_FIXTURE_H
#define EW_TESTS_RENDER_FIXTURE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitwatch/core/exit_class.h"
#include "exitwatch/core/record.h"
#include "exitwatch/detect/detector.h"
#include "exitwatch/identity/identity.h"
#include "exitwatch/util/buf.h"
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
#define NOCMD_T	  1796613373664821161ULL /* 2026-12-07T03:16:13.664821161Z */
#define NOCMD_CID "0d3c5e1a7b9f2468ace013579bdf2468ace013579bdf2468ace013579bdf2468"
/* The same container's next `docker start`, its runtime's error found (docs/schema.md). */
#define NOCMD_T2 1796620244834026307ULL /* 2026-12-07T05:10:44.834026307Z */
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

static inline int setup(void **state)
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

static inline int teardown(void **state)
{
	struct fx *fx = *state;

	ew_buf_free(&fx->out);
	free(fx);
	return 0;
}

/* ---- building records as the pipeline does ---- */

/* A Docker identity as the resolver makes it: the cgroup path parsed, then the runtime's names. */
static inline void docker_identity(struct ew_identity *id, const char *cgroup, uint64_t cgroup_id,
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

static inline void shop_identity(struct ew_identity *id)
{
	docker_identity(id, "/system.slice/docker-" SHOP_CID ".scope", 8871, "shop-backend-1",
			"ghcr.io/acme/shop-backend:2.4.1", "always", "shop", "backend");
}

/* An EXIT event with the start's names filled in, as the pipeline hands it over. */
static inline void exit_event(struct ew_event *ev, uint64_t t, uint64_t cgroup_id, uint32_t pid,
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

static inline void set_tail(struct ew_event *ev, const char *tail, size_t len)
{
	memcpy(ev->tail, tail, len);
	ev->tail_len = (uint32_t)len;
	ev->stderr_total = len;
	ev->tail_source = EW_TAIL_KERNEL;
}

/* The doc's config_error exit: docker, code 3 after <1ms, stderr, no killer. */
static inline struct ew_record doc_exit_record(struct fx *fx)
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
static inline void burst_finding(struct ew_finding *f, const struct ew_subject *subject)
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

/* The same loop as a restart_rate of the one identity, in an hour. */
static inline void rate_finding(struct ew_finding *f, const struct ew_subject *subject)
{
	burst_finding(f, subject);
	f->rule = EW_RULE_RESTART_RATE;
	f->severity = EW_SEV_WARNING;
	f->scope = EW_SCOPE_IDENTITY;
	f->window_ns = SEC(3600);
}

/* The record on_finding() in src/agent/pipeline.c makes: the subject unpacked into scratch. */
static inline struct ew_record finding_record(struct fx *fx)
{
	ew_subject_unpack(fx->f.subject, &fx->scratch);
	return (struct ew_record){.type = fx->f.resolved ? EW_REC_RESOLVED : EW_REC_FINDING,
				  .time_ns = fx->f.time_ns,
				  .finding = &fx->f,
				  .id = &fx->scratch};
}

static inline void doc_agent(struct ew_agent_status *a)
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
static inline const char *show(const char *s, size_t n)
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

/* ---- 4. hostile workload strings ---- */

static inline void hostile_identity(struct ew_identity *id)
{
	docker_identity(id, "/docker/" EXIT_CID, 34510, hostile_name, "img:1", "", "", "");
}

static inline void hostile_exit(struct fx *fx, struct ew_record *r)
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

static inline void hostile_start(struct fx *fx, struct ew_record *r)
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

/* Records no renderer may write: a part missing, or a type none knows. Returns how many. */
#define EW_BAD_RECORDS 8
static inline size_t bad_records(struct fx *fx, const struct ew_record *ok, struct ew_record *bad)
{
	size_t n = 0;

	bad[n] = *ok; /* EXIT without its event */
	bad[n++].ev = NULL;
	bad[n] = *ok; /* EXIT without its identity */
	bad[n++].id = NULL;
	bad[n] = *ok; /* START without its event */
	bad[n].type = EW_REC_START;
	bad[n++].ev = NULL;
	bad[n] = *ok; /* READY without its identity */
	bad[n].type = EW_REC_READY;
	bad[n++].id = NULL;
	bad[n++] = (struct ew_record){.type = EW_REC_FINDING, .time_ns = 1, .id = &fx->id};
	bad[n++] = (struct ew_record){.type = EW_REC_RESOLVED, .time_ns = 1, .id = &fx->id};
	bad[n++] = (struct ew_record){.type = EW_REC_AGENT, .time_ns = 1};
	bad[n] = *ok; /* a type no renderer knows */
	bad[n++].type = (enum ew_record_type)42;
	return n;
}

#endif /* EW_TESTS_RENDER_FIXTURE_H */
