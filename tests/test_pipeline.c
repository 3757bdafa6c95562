// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * src/agent/pipeline.c, through ew_pipeline_replay() (the live agent's path once an event's
 * identity is known): records reach the outputs in the order a reader needs, a finding after
 * the record of the exit that raised it, and each record is rendered once per format.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "harness/unit.h"

#include "exitwatch/agent/exit_hold.h"
#include "exitwatch/agent/pipeline.h"
#include "exitwatch/identity/identity.h"
#include "exitwatch/metrics/metrics.h"
#include "exitwatch/util/buf.h"
#include "exitwatch/util/clock.h"
#include "exitwatch/util/log.h"
#include "exitwatch/util/util.h"

#define T0 1795954528853738259ULL

struct fx {
	struct ew_t_scratch scratch;
	char spec[2][128];
	struct ew_config cfg;
	struct ew_outputs *out;
	struct ew_pipeline *p;
	struct ew_identity id;
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	char err[256];

	if (!x || ew_t_scratch_make(&x->scratch, "test-pipeline"))
		return -1;
	ew_config_init(&x->cfg);
	ew_strlcpy(x->cfg.node, "node-1", sizeof(x->cfg.node));
	x->cfg.read_meta = false; /* no runtime files: nothing waits for a log */
	x->cfg.capture_stderr = false;
	x->out = ew_outputs_new(&x->cfg.out);
	if (!x->out)
		return -1;
	for (int i = 0; i < 2; i++) {
		snprintf(x->spec[i], sizeof(x->spec[i]), "file:%s/%c.log", x->scratch.dir, 'a' + i);
		if (ew_outputs_add(x->out, x->spec[i], err, sizeof(err)))
			return -1;
	}
	x->p = ew_pipeline_new(&x->cfg, &(struct ew_pipeline_deps){.out = x->out});
	if (!x->p)
		return -1;
	ew_strlcpy(x->id.cgroup, "/ew-test/web", sizeof(x->id.cgroup));
	x->id.cgroup_id = 4242;
	if (ew_cgroup_parse(x->id.cgroup, &x->id.cg))
		return -1;
	x->id.meta.restart_count = -1;
	ew_identity_finish(&x->id);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	ew_pipeline_free(x->p);
	ew_outputs_free(x->out);
	assert_int_equal(ew_t_scratch_remove(&x->scratch), 0);
	free(x);
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *data = NULL;
	size_t cap = 0, n;

	assert_non_null(f);
	*len = 0;
	do {
		if (*len + 4096 + 1 > cap) {
			cap = 2 * cap + 4096 + 1;
			data = realloc(data, cap);
			assert_non_null(data);
		}
		n = fread(data + *len, 1, cap - *len - 1, f);
		*len += n;
	} while (n);
	fclose(f);
	data[*len] = '\0';
	return data;
}

static void event(struct fx *x, enum ew_event_type type, uint64_t t, uint32_t pid)
{
	struct ew_event ev = {.type = type, .time_ns = t, .cgroup_id = 4242, .pid = pid};

	strcpy(ev.comm, "web");
	strcpy(ev.argv0, "/srv/web");
	if (type == EW_EVENT_EXIT) {
		ev.exit_word = 3 << 8;
		ev.status.code = 3;
		ev.uptime_ns = EW_NSEC_PER_SEC;
	}
	assert_int_equal(ew_pipeline_replay(x->p, &ev, &x->id), 0);
}

/*
 * A container that exits with code 3 a second after each start, five times: the fourth exit
 * crosses exit_code_burst (more than 3 in 5 minutes), the fifth start restart_rate, and so on.
 * The detector raises each finding before the pipeline has emitted the record of the event
 * that caused it; each must be written after that record, at its time, in both outputs, which
 * hold the same bytes.
 */
static void test_findings_after_their_exit(void **state)
{
	struct fx *x = *state;
	size_t alen, blen, nlines = 0, nfindings = 0;
	char path[128], prev[16] = "", prev_time[64] = "", *a, *b, *line, *save = NULL;

	for (uint32_t i = 0; i < 5; i++) {
		uint64_t t = T0 + i * 10 * EW_NSEC_PER_SEC;

		event(x, EW_EVENT_START, t, 100 + i);
		event(x, EW_EVENT_EXIT, t + EW_NSEC_PER_SEC, 100 + i);
	}
	ew_outputs_drain(x->out, 0);

	a = slurp(ew_t_scratch_path(&x->scratch, "a.log", path, sizeof(path)), &alen);
	b = slurp(ew_t_scratch_path(&x->scratch, "b.log", path, sizeof(path)), &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);

	for (line = strtok_r(a, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(line), *ev, *tm;
		const char *name, *time;

		assert_non_null(o);
		assert_true(json_object_object_get_ex(o, "event", &ev));
		assert_true(json_object_object_get_ex(o, "time", &tm));
		name = json_object_get_string(ev);
		time = json_object_get_string(tm);
		/* Time order throughout: the timestamps are fixed-width, they sort as strings. */
		assert_true(strcmp(prev_time, time) <= 0);
		if (!strcmp(name, "finding")) {
			/* Right behind the record of the event that raised it (or another finding
			 * it raised), at that event's time. */
			if (!prev[0] || !strcmp(prev, "agent"))
				fail_msg("a finding after a %s record", prev[0] ? prev : "no");
			assert_string_equal(time, prev_time);
			nfindings++;
		}
		ew_strlcpy(prev, name, sizeof(prev));
		ew_strlcpy(prev_time, time, sizeof(prev_time));
		nlines++;
		json_object_put(o);
	}
	assert_true(nfindings >= 1);
	assert_int_equal(nlines, 10 + nfindings);
	free(a);
	free(b);
}

/* Replays a fleet of 70 containers, 5 rounds of each starting then exiting 3, through a new
 * pipeline writing to path; with revs or without (the identity's revision, ew_identity.rev). */
static void fleet(struct fx *x, const char *path, bool revs)
{
	struct ew_config cfg = x->cfg;
	struct ew_outputs *out = ew_outputs_new(&cfg.out);
	struct ew_pipeline *p;
	struct ew_identity *ids = calloc(70, sizeof(*ids));
	char spec[160], err[256];

	assert_non_null(out);
	assert_non_null(ids);
	snprintf(spec, sizeof(spec), "file:%s", path);
	assert_int_equal(ew_outputs_add(out, spec, err, sizeof(err)), 0);
	p = ew_pipeline_new(&cfg, &(struct ew_pipeline_deps){.out = out});
	assert_non_null(p);
	for (int i = 0; i < 70; i++) {
		snprintf(ids[i].cgroup, sizeof(ids[i].cgroup), "/ew-test/w%d", i);
		ids[i].cgroup_id = 5000 + (uint64_t)i;
		assert_int_equal(ew_cgroup_parse(ids[i].cgroup, &ids[i].cg), 0);
		ids[i].meta.restart_count = -1;
		ew_identity_finish(&ids[i]);
		ids[i].rev = revs ? (uint64_t)i + 1 : 0;
	}
	for (int round = 0; round < 5; round++) {
		for (int half = 0; half < 2; half++) {
			for (int i = 0; i < 70; i++) {
				uint64_t t = T0 + (uint64_t)(round * 140 + half * 70 + i) *
							  EW_NSEC_PER_MSEC;
				struct ew_event ev = {.type = half ? EW_EVENT_EXIT : EW_EVENT_START,
						      .time_ns = t,
						      .cgroup_id = ids[i].cgroup_id,
						      .pid = 100 + (uint32_t)(round * 70 + i)};

				strcpy(ev.comm, "web");
				strcpy(ev.argv0, "/srv/web");
				if (half) {
					ev.exit_word = 3 << 8;
					ev.status.code = 3;
					ev.uptime_ns = 70 * EW_NSEC_PER_MSEC;
				}
				assert_int_equal(ew_pipeline_replay(p, &ev, &ids[i]), 0);
			}
		}
	}
	ew_outputs_drain(out, 0);
	ew_pipeline_free(p);
	ew_outputs_free(out);
	free(ids);
}

/*
 * When the agent's loop may sleep until: nothing waits, then a start's grace deadline (on the
 * wall clock, returned on the monotonic one), then nothing again once it has run.
 */
static void test_wake_follows_the_detector(void **state)
{
	struct fx *x = *state;
	uint64_t grace = x->cfg.detect.startup_grace_ns, mono = 5 * EW_NSEC_PER_SEC;

	assert_true(grace > EW_NSEC_PER_SEC);
	assert_int_equal(ew_pipeline_wake(x->p, mono, T0), UINT64_MAX);
	event(x, EW_EVENT_START, T0, 100);
	/* A second later on both clocks: the deadline is grace - 1 s away. */
	assert_int_equal(ew_pipeline_wake(x->p, mono, T0 + EW_NSEC_PER_SEC),
			 mono + grace - EW_NSEC_PER_SEC);
	/* Due or past: at once. */
	assert_int_equal(ew_pipeline_wake(x->p, mono, T0 + grace), mono);
	assert_int_equal(ew_pipeline_wake(x->p, mono, T0 + 2 * grace), mono);
	ew_pipeline_tick(x->p, T0 + grace);
	assert_int_equal(ew_pipeline_wake(x->p, mono, T0 + grace), UINT64_MAX);
}

/*
 * The renderer keeps what it made of an identity for its next records (render_json.h, by
 * ew_identity.rev): more identities than it keeps, starts far from their exits, findings made
 * from the detector's copy. Every byte is what the pipeline writes without it.
 */
static void test_render_cache_same_lines(void **state)
{
	struct fx *x = *state;
	char plain[128], cached[128], *a, *b;
	size_t alen, blen;

	ew_t_scratch_path(&x->scratch, "plain.log", plain, sizeof(plain));
	ew_t_scratch_path(&x->scratch, "cached.log", cached, sizeof(cached));
	fleet(x, plain, false);
	fleet(x, cached, true);
	a = slurp(plain, &alen);
	b = slurp(cached, &blen);
	assert_true(alen > 700 * 1000); /* 700 container records and the findings */
	assert_non_null(strstr(a, "\"event\":\"finding\""));
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);
}

/* A live event (its identity resolved from its cgroup path, as the agent's). */
static void live(struct fx *x, enum ew_event_type type, uint64_t cgid, const char *cgroup,
		 uint64_t t, uint32_t pid)
{
	struct ew_event ev = {.type = type, .time_ns = t, .cgroup_id = cgid, .pid = pid};

	strcpy(ev.comm, "web");
	ew_strlcpy(ev.cgroup, cgroup, sizeof(ev.cgroup));
	if (type == EW_EVENT_EXIT) {
		ev.exit_word = 3 << 8;
		ev.status.code = 3;
		ev.uptime_ns = EW_NSEC_PER_SEC;
	}
	assert_int_equal(ew_pipeline_event(x->p, &ev), 0);
}

/*
 * --cgroup-subtree /node-a: the agent answers for /node-a and what is below it only, as if the
 * rest of the machine were another node's; a sibling that shares the prefix (/node-ab) is not
 * below it.
 */
static void test_cgroup_subtree(void **state)
{
	static const char *const cgroups[] = {"/node-a/web", "/node-ab/web", "/node-b/web",
					      "/node-a", "/system.slice/node-a/web"};
	static const bool inside[] = {true, false, false, true, false};
	struct fx *x = *state;
	char path[128], *a, *line, *save = NULL;
	size_t alen, starts = 0, exits = 0;

	ew_pipeline_free(x->p);
	x->cfg.cgroup_subtree = "/node-a/";
	x->p = ew_pipeline_new(&x->cfg, &(struct ew_pipeline_deps){.out = x->out});
	assert_non_null(x->p);
	for (uint32_t i = 0; i < ARRAY_SIZE(cgroups); i++) {
		live(x, EW_EVENT_START, 7000 + i, cgroups[i], T0 + i * EW_NSEC_PER_SEC, 200 + i);
		live(x, EW_EVENT_EXIT, 7000 + i, cgroups[i], T0 + i * EW_NSEC_PER_SEC + 1000,
		     200 + i);
	}
	ew_outputs_drain(x->out, 0);
	a = slurp(ew_t_scratch_path(&x->scratch, "a.log", path, sizeof(path)), &alen);
	for (line = strtok_r(a, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(line), *ev, *ctr, *cg;
		bool ok = false;

		assert_non_null(o);
		assert_true(json_object_object_get_ex(o, "event", &ev));
		if (!strcmp(json_object_get_string(ev), "agent")) {
			json_object_put(o);
			continue;
		}
		assert_true(json_object_object_get_ex(o, "container", &ctr));
		assert_true(json_object_object_get_ex(ctr, "cgroup", &cg));
		for (size_t i = 0; i < ARRAY_SIZE(cgroups); i++)
			ok |= inside[i] && !strcmp(json_object_get_string(cg), cgroups[i]);
		if (!ok)
			fail_msg("a record of %s, outside /node-a", json_object_get_string(cg));
		starts += !strcmp(json_object_get_string(ev), "container_start");
		exits += !strcmp(json_object_get_string(ev), "container_exit");
		json_object_put(o);
	}
	assert_int_equal(starts, 2);
	assert_int_equal(exits, 2);
	free(a);
}

/*
 * The string member obj.member of the container_exit record of cgroup cgid in a.log, into out
 * ("" when there is none): container.id, killed_by.container; with obj NULL, a member of the
 * record itself (start_error, message).
 */
static void exit_member(struct fx *x, uint64_t cgid, const char *obj, const char *member, char *out,
			size_t len)
{
	char path[128], *a, *line, *save = NULL;
	size_t alen;

	out[0] = '\0';
	ew_outputs_drain(x->out, 0);
	a = slurp(ew_t_scratch_path(&x->scratch, "a.log", path, sizeof(path)), &alen);
	for (line = strtok_r(a, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(line), *ev, *ctr, *v, *m = o;

		assert_non_null(o);
		if (json_object_object_get_ex(o, "event", &ev) &&
		    !strcmp(json_object_get_string(ev), "container_exit") &&
		    json_object_object_get_ex(o, "container", &ctr) &&
		    json_object_object_get_ex(ctr, "cgroup_id", &v) &&
		    (uint64_t)json_object_get_int64(v) == cgid &&
		    (!obj || json_object_object_get_ex(o, obj, &m)) &&
		    json_object_object_get_ex(m, member, &v))
			ew_strlcpy(out, json_object_get_string(v), len);
		json_object_put(o);
	}
	free(a);
}

/* A member of cgroup cgid's container_exit record itself. */
static void record_member(struct fx *x, uint64_t cgid, const char *member, char *out, size_t len)
{
	exit_member(x, cgid, NULL, member, out, len);
}

/*
 * A container the sweep found gone without a seen exit is forgotten as its exit would have had
 * it: the resolver no longer knows it (an exit of it now, which never comes for real, would be
 * named by its cgroup id, as one whose start was not seen), and a container still running is
 * left alone. Without this every lost exit kept its identity for the agent's life.
 */
static void test_forget_swept(void **state)
{
	struct fx *x = *state;
	struct ew_agent_status st = {0};
	char id[128];

	live(x, EW_EVENT_START, 7100, "/ew-test/gone", T0, 300);
	live(x, EW_EVENT_START, 7101, "/ew-test/kept", T0, 301);
	ew_pipeline_status(x->p, &st);
	assert_int_equal(st.identities_asleep, 0);
	ew_pipeline_forget(x->p, &(struct ew_lost_main){.cgroup_id = 7100, .pid = 300});
	/* The detector's run of it ended: with nothing open, it sleeps (and may be forgotten
	 * when idle, where a running one was kept for good). */
	ew_pipeline_status(x->p, &st);
	assert_int_equal(st.identities_asleep, 1);
	live(x, EW_EVENT_EXIT, 7100, "/ew-test/gone", T0 + EW_NSEC_PER_SEC, 300);
	live(x, EW_EVENT_EXIT, 7101, "/ew-test/kept", T0 + EW_NSEC_PER_SEC, 301);
	exit_member(x, 7100, "container", "id", id, sizeof(id));
	assert_string_equal(id, "cgroup-id:7100");
	exit_member(x, 7101, "container", "id", id, sizeof(id));
	assert_string_equal(id, "/ew-test/kept");
}

#define HELD64 "4e1d4e1d4e1d4e1d4e1d4e1d4e1d4e1d4e1d4e1d4e1d4e1d4e1d4e1d4e1d4e1d"

/* A Docker container named name with an empty json-file log under the scratch host root. */
static void docker_with_log(struct fx *x, const char *id, const char *name)
{
	char rel[256], cfg[128];

	snprintf(rel, sizeof(rel), "var/lib/docker/containers/%s/config.v2.json", id);
	snprintf(cfg, sizeof(cfg), "{\"Name\":\"/%s\",\"Config\":{\"Image\":\"app:1\"}}", name);
	ew_t_scratch_put(&x->scratch, rel, cfg);
	snprintf(rel, sizeof(rel), "var/lib/docker/containers/%s/%s-json.log", id, id);
	ew_t_scratch_put(&x->scratch, rel, "");
}

/* The pipeline made again to read the runtimes' files under the scratch root and their logs. */
static void pipeline_reading_logs(struct fx *x)
{
	ew_pipeline_free(x->p);
	x->cfg.host_root = x->scratch.dir;
	x->cfg.read_meta = true;
	x->cfg.capture_stderr = true;
	x->p = ew_pipeline_new(&x->cfg, &(struct ew_pipeline_deps){.out = x->out});
	assert_non_null(x->p);
}

/*
 * The start of a container the sweep forgets may still wait in the hold, behind another
 * container's exit whose log has not caught up: forgotten at once, its identity would be
 * cached again when the start goes through, for good. The forgetting waits for it. (The exit
 * is held 90 ms at most: a test stalled that long forgets with nothing held, and passes.)
 */
static void test_forget_swept_after_held(void **state)
{
	struct fx *x = *state;
	char id[128];

	docker_with_log(x, HELD64, "held");
	pipeline_reading_logs(x);
	live(x, EW_EVENT_START, 7200, "/docker/" HELD64, ew_clock_wall_ns(), 400);
	/* Held: its log is there and has not been closed since. */
	live(x, EW_EVENT_EXIT, 7200, "/docker/" HELD64, ew_clock_wall_ns(), 400);
	live(x, EW_EVENT_START, 7201, "/ew-test/late", ew_clock_wall_ns(), 401);
	ew_pipeline_forget(x->p, &(struct ew_lost_main){.cgroup_id = 7201, .pid = 401});
	ew_pipeline_finish(x->p, ew_clock_wall_ns());
	live(x, EW_EVENT_EXIT, 7201, "/ew-test/late", ew_clock_wall_ns(), 401);
	exit_member(x, 7200, "container", "id", id, sizeof(id));
	assert_string_equal(id, HELD64);
	exit_member(x, 7201, "container", "id", id, sizeof(id));
	assert_string_equal(id, "cgroup-id:7201");
}

#define NOCMD64 "5f0c5f0c5f0c5f0c5f0c5f0c5f0c5f0c5f0c5f0c5f0c5f0c5f0c5f0c5f0c5f0c"

/* A failed start's event, as the kernel reports runc's init failing in cgroup. */
static struct ew_event start_failed_event(uint64_t cgid, const char *cgroup, uint32_t pid)
{
	struct ew_event ev = {.type = EW_EVENT_START_FAILED, .cgroup_id = cgid, .pid = pid};

	ev.time_ns = ew_clock_wall_ns();
	strcpy(ev.comm, "runc:[2:INIT]");
	ew_strlcpy(ev.cgroup, cgroup, sizeof(ev.cgroup));
	ev.exit_word = 1 << 8;
	ev.status = ew_exit_decode(ev.exit_word);
	ev.uptime_ns = 150 * EW_NSEC_PER_MSEC;
	return ev;
}

/*
 * A failed start waits for its runtime's error, which Docker writes into config.v2.json tens of
 * milliseconds after the init's exit with nothing to wake the agent: the record comes out once
 * the file has it, with start_error and the cause in its message. One whose runtime never says
 * goes at its deadline without.
 */
static void test_start_error_waited_for(void **state)
{
	struct fx *x = *state;
	struct ew_event ev = start_failed_event(7300, "/docker/" NOCMD64, 402);
	struct ew_event ev2 = start_failed_event(7400, "/docker/" HELD64, 403);
	char got[512];

	docker_with_log(x, NOCMD64, "nocmd");
	docker_with_log(x, HELD64, "quiet");
	pipeline_reading_logs(x);
	assert_int_equal(ew_pipeline_event(x->p, &ev), 0);
	ew_pipeline_tick(x->p, ew_clock_wall_ns());
	exit_member(x, 7300, "exit", "class", got, sizeof(got));
	assert_string_equal(got, ""); /* held: the file has no error yet */
	ew_t_scratch_put(&x->scratch, "var/lib/docker/containers/" NOCMD64 "/config.v2.json",
			 "{\"Name\":\"/nocmd\",\"State\":{\"ExitCode\":127,\"Error\":\"failed to "
			 "create shim task: OCI runtime create failed: runc create failed: unable "
			 "to start container process: exec: \\\"/app\\\": stat /app: no such file "
			 "or directory: unknown\"}}");
	usleep(EW_HOLD_POLL_NS / 1000 + 1000);
	ew_pipeline_tick(x->p, ew_clock_wall_ns());
	exit_member(x, 7300, "exit", "class", got, sizeof(got));
	assert_string_equal(got, "start_failed");
	record_member(x, 7300, "start_error", got, sizeof(got));
	assert_string_equal(got, "failed to create shim task: OCI runtime create failed: runc "
				 "create failed: unable to start container process: exec: "
				 "\"/app\": stat /app: no such file or directory: unknown");
	record_member(x, 7300, "message", got, sizeof(got));
	assert_non_null(strstr(got, "(start_failed) after 150ms: its command never ran: exec: "
				    "\"/app\": stat /app: no such file or directory"));
	record_member(x, 7300, "stderr_tail", got, sizeof(got));
	assert_string_equal(got, "");

	/* Docker never says: out at the deadline, with the meaning only. */
	assert_int_equal(ew_pipeline_event(x->p, &ev2), 0);
	ew_pipeline_tick(x->p, ew_clock_wall_ns());
	exit_member(x, 7400, "exit", "class", got, sizeof(got));
	assert_string_equal(got, "");
	usleep(EW_HOLD_START_ERROR_NS / 1000 + 5000);
	ew_pipeline_tick(x->p, ew_clock_wall_ns());
	exit_member(x, 7400, "exit", "class", got, sizeof(got));
	assert_string_equal(got, "start_failed");
	record_member(x, 7400, "start_error", got, sizeof(got));
	assert_string_equal(got, "");
	record_member(x, 7400, "message", got, sizeof(got));
	assert_non_null(strstr(got, "its command never ran: the runtime could not start it"));
}

/*
 * A failed start waits in the hold behind a held exit, as a start would, and goes through as
 * one container_exit named by its start's cgroup and files (no container_start), with nothing
 * of it left behind: its cgroup's next exit is one whose start was not seen.
 */
static void test_start_failed(void **state)
{
	struct fx *x = *state;
	struct ew_event ev = {.type = EW_EVENT_START_FAILED, .cgroup_id = 7300, .pid = 402};
	char got[128], path[128], *a, *held, *nocmd;
	size_t alen;

	docker_with_log(x, HELD64, "held");
	docker_with_log(x, NOCMD64, "nocmd");
	pipeline_reading_logs(x);
	live(x, EW_EVENT_START, 7200, "/docker/" HELD64, ew_clock_wall_ns(), 400);
	live(x, EW_EVENT_EXIT, 7200, "/docker/" HELD64, ew_clock_wall_ns(), 400);
	ev.time_ns = ew_clock_wall_ns();
	strcpy(ev.comm, "runc:[2:INIT]");
	strcpy(ev.cgroup, "/docker/" NOCMD64);
	ev.exit_word = 1 << 8;
	ev.status = ew_exit_decode(ev.exit_word);
	ev.uptime_ns = 150 * EW_NSEC_PER_MSEC;
	assert_int_equal(ew_pipeline_event(x->p, &ev), 0);
	ew_pipeline_finish(x->p, ew_clock_wall_ns());
	exit_member(x, 7300, "container", "name", got, sizeof(got));
	assert_string_equal(got, "nocmd");
	exit_member(x, 7300, "exit", "class", got, sizeof(got));
	assert_string_equal(got, "start_failed");
	exit_member(x, 7300, "process", "comm", got, sizeof(got));
	assert_string_equal(got, "runc:[2:INIT]");
	a = slurp(ew_t_scratch_path(&x->scratch, "a.log", path, sizeof(path)), &alen);
	/* The held exit first, then the failed start, the order they came in; no start of it. */
	held = strstr(a, "\"id\":\"" HELD64);
	nocmd = strstr(a, "\"id\":\"" NOCMD64);
	assert_non_null(held);
	assert_non_null(nocmd);
	assert_true(strstr(held, "\"event\":\"container_exit\"") < nocmd);
	/* Its one record, the exit above (its id would follow "id" in a start's too). */
	assert_null(strstr(nocmd + 1, "\"id\":\"" NOCMD64));
	free(a);
	live(x, EW_EVENT_EXIT, 7300, "", ew_clock_wall_ns(), 402);
	exit_member(x, 7300, "container", "id", got, sizeof(got));
	assert_string_equal(got, "cgroup-id:7300");
}

#define LIMIT64A "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
#define LIMIT64B "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"

/*
 * No inotify instance at the start (EMFILE: here the process's open file limit, on a node
 * fs.inotify.max_user_instances): the agent said "Too many open files" and never tried again, so
 * every exit for the rest of its life waited for its log's quiet time, even after the limit was
 * raised, and nothing counted the containers. Now the warning names the limit to raise, each
 * container start with a log tries again, the refusals are counted (log_watch.refused), and
 * one line says when watches work again.
 */
static void test_log_watch_instance_limit(void **state)
{
	struct fx *x = *state;
	struct ew_agent_status st = {0};
	struct rlimit saved, low;
	char logp[128];
	size_t len;
	char *log;
	int fd, k, saved_err;

	docker_with_log(x, LIMIT64A, "limited");
	docker_with_log(x, LIMIT64B, "limited");
	/* The fd the watch takes when nothing stops it: the limit is set just below it. */
	pipeline_reading_logs(x);
	k = ew_pipeline_fd(x->p);
	assert_true(k >= 0);
	ew_pipeline_free(x->p);

	ew_t_scratch_path(&x->scratch, "stderr.log", logp, sizeof(logp));
	fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	saved_err = dup(STDERR_FILENO);
	assert_true(saved_err >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	ew_log_init(EW_LOG_INFO);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	low = saved;
	low.rlim_cur = (rlim_t)k;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	x->p = ew_pipeline_new(&x->cfg, &(struct ew_pipeline_deps){.out = x->out});
	/* A start under the limit: still no watch, counted. */
	if (x->p)
		live(x, EW_EVENT_START, 7300, "/docker/" LIMIT64A, ew_clock_wall_ns(), 500);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	assert_non_null(x->p);
	assert_int_equal(ew_pipeline_fd(x->p), -1);
	/* The limit gone, the next start has its log watched. */
	live(x, EW_EVENT_START, 7301, "/docker/" LIMIT64B, ew_clock_wall_ns(), 501);
	ew_log_init(EW_LOG_ERROR);
	fflush(stderr);
	assert_int_equal(dup2(saved_err, STDERR_FILENO), STDERR_FILENO);
	close(saved_err);

	assert_true(ew_pipeline_fd(x->p) >= 0);
	ew_pipeline_status(x->p, &st);
	assert_int_equal(st.log_watches, 1);
	assert_int_equal(st.log_watch_refused, 1);
	assert_int_equal(st.log_watch_overflows, 0);
	log = slurp(logp, &len);
	/* (Under that limit the start's metadata could not be read either, and says so.) */
	if (!strstr(log, "warning: inotify: no inotify instance: Too many open files (the agent's "
			 "own open file limit: raise ulimit -n") ||
	    strstr(strstr(log, "warning: inotify") + 1, "warning: inotify") ||
	    !strstr(log, "log files are watched again (1 refused so far)"))
		fail_msg("want one warning naming the open file limit, then the recovery; got:\n%s",
			 log);
	free(log);
	/* Both exits go, the first on its log's quiet time, the second on its close. */
	live(x, EW_EVENT_EXIT, 7300, "/docker/" LIMIT64A, ew_clock_wall_ns(), 500);
	live(x, EW_EVENT_EXIT, 7301, "/docker/" LIMIT64B, ew_clock_wall_ns(), 501);
	ew_pipeline_finish(x->p, ew_clock_wall_ns());
	ew_pipeline_status(x->p, &st);
	assert_int_equal(st.exits, 2);
	assert_int_equal(st.log_watches, 0);
}

/*
 * A container that kills another and exits at once (`docker run --rm --pid=host ... kill -9`, a
 * job's clean-up step) has exited before its victim: a SIGKILL to a pid namespace's init ends
 * the namespace first. The victim's killed_by still names it; it said cgroup-id:<n>, with the
 * killer's own container_start and container_exit just before it.
 */
static void test_killer_gone_first(void **state)
{
	struct fx *x = *state;
	struct ew_event ev = {.type = EW_EVENT_EXIT,
			      .time_ns = T0 + 3 * EW_NSEC_PER_SEC,
			      .cgroup_id = 7301,
			      .pid = 501,
			      .exit_word = SIGKILL,
			      .status = {.signal = SIGKILL},
			      .uptime_ns = EW_NSEC_PER_SEC,
			      .has_killer = true,
			      .killer = {.pid = 500, .signal = SIGKILL, .cgroup_id = 7300}};
	char who[128];

	live(x, EW_EVENT_START, 7301, "/ew-test/victim", T0, 501);
	live(x, EW_EVENT_START, 7300, "/ew-test/killer", T0 + EW_NSEC_PER_SEC, 500);
	live(x, EW_EVENT_EXIT, 7300, "/ew-test/killer", T0 + 2 * EW_NSEC_PER_SEC, 500);
	strcpy(ev.comm, "web");
	strcpy(ev.killer.comm, "kill");
	ew_strlcpy(ev.cgroup, "/ew-test/victim", sizeof(ev.cgroup));
	ev.killer.time_ns = ev.time_ns;
	assert_int_equal(ew_pipeline_event(x->p, &ev), 0);
	exit_member(x, 7301, "killed_by", "container", who, sizeof(who));
	assert_string_equal(who, "cgroup:/ew-test/killer");
}

/* What the agent checkpoints on: each finding and resolved record, and nothing else. */
static void test_episode_records(void **state)
{
	struct fx *x = *state;

	for (uint32_t i = 0; i < 3; i++) {
		uint64_t t = T0 + i * 10 * EW_NSEC_PER_SEC;

		event(x, EW_EVENT_START, t, 100 + i);
		event(x, EW_EVENT_EXIT, t + EW_NSEC_PER_SEC, 100 + i);
	}
	/* Three failed starts with code 3: crash_loop at the second, nothing else yet. */
	assert_int_equal(ew_pipeline_episode_records(x->p), 1);
	event(x, EW_EVENT_START, T0 + 30 * EW_NSEC_PER_SEC, 103);
	event(x, EW_EVENT_EXIT, T0 + 31 * EW_NSEC_PER_SEC, 103);
	/* The fourth: exit_code_burst (3 restarts are no restart_rate yet). */
	assert_int_equal(ew_pipeline_episode_records(x->p), 2);
	ew_pipeline_tick(x->p, T0 + 31 * EW_NSEC_PER_SEC + 600 * EW_NSEC_PER_SEC);
	assert_int_equal(ew_pipeline_episode_records(x->p), 3); /* exit_code_burst resolved */
}

/* The "time" and, when there is one, the "first_time" of line n (0 based) of text. */
static void line_times(const char *text, int n, char time[EW_TIME_STR_LEN],
		       char first[EW_TIME_STR_LEN])
{
	const char *l = text, *p;

	while (n-- > 0) {
		l = strchr(l, '\n');
		assert_non_null(l);
		l++;
	}
	p = strstr(l, "\"time\":\"");
	assert_non_null(p);
	memcpy(time, p + 8, EW_TIME_LEN);
	time[EW_TIME_LEN] = '\0';
	first[0] = '\0';
	p = strstr(l, "\"first_time\":\"");
	if (p && p < strchr(l, '\n')) {
		memcpy(first, p + 14, EW_TIME_LEN);
		first[EW_TIME_LEN] = '\0';
	}
}

/*
 * A replay shows times as the recording's agent did across a step of its wall clock: the
 * records of events before the step on the clock as it was, those after an hour ahead, and a
 * finding after it whose episode began before it both ways (its time ahead, its first_time
 * not). The rules' windows do not move: the crash loop counts the exits on both sides.
 */
static void test_replay_clock_step(void **state)
{
	struct fx *x = *state;
	const uint64_t s = EW_NSEC_PER_SEC, hour = 3600 * s;
	char want[EW_TIME_STR_LEN], time[EW_TIME_STR_LEN], first[EW_TIME_STR_LEN];
	size_t len;
	char *text;

	event(x, EW_EVENT_START, T0, 100);
	event(x, EW_EVENT_EXIT, T0 + s, 100);
	ew_pipeline_replay_clock_step(x->p, T0 + 5 * s, (int64_t)hour);
	/* A step the same as that in force moves nothing. */
	ew_pipeline_replay_clock_step(x->p, T0 + 6 * s, (int64_t)hour);
	event(x, EW_EVENT_START, T0 + 10 * s, 101);
	event(x, EW_EVENT_EXIT, T0 + 11 * s, 101);
	ew_outputs_drain(x->out, 0);
	text = slurp(x->spec[0] + strlen("file:"), &len);
	/* start, exit, start, exit, then the crash_loop finding of the second exit */
	line_times(text, 0, time, first);
	ew_time_format(T0, want);
	assert_string_equal(time, want);
	line_times(text, 1, time, first);
	ew_time_format(T0 + s, want);
	assert_string_equal(time, want);
	line_times(text, 2, time, first);
	ew_time_format(T0 + 10 * s + hour, want);
	assert_string_equal(time, want);
	line_times(text, 4, time, first);
	assert_non_null(strstr(text, "\"rule\":\"crash_loop\""));
	ew_time_format(T0 + 11 * s + hour, want);
	assert_string_equal(time, want);
	ew_time_format(T0 + s, want);
	assert_string_equal(first, want);
	free(text);
}

/*
 * A state file saved while the clock was ahead: loaded at the real time, it is moved back, and
 * one warning on stderr names the file and by how much (stderr taken into a file meanwhile).
 */
static void test_state_clock_ahead_warns(void **state)
{
	struct fx *x = *state;
	struct ew_pipeline *q;
	char path[128], logp[128], err[256] = "";
	size_t len, lines;
	char *log;
	int saved, fd;

	event(x, EW_EVENT_START, T0, 100);
	ew_t_scratch_path(&x->scratch, "state.json", path, sizeof(path));
	assert_int_equal(ew_pipeline_save_state(x->p, path, T0 + EW_NSEC_PER_SEC, NULL), 0);
	q = ew_pipeline_new(&x->cfg, &(struct ew_pipeline_deps){.out = x->out});
	assert_non_null(q);
	ew_t_scratch_path(&x->scratch, "stderr.log", logp, sizeof(logp));
	fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	ew_log_init(EW_LOG_WARN); /* main() keeps the others' quiet */
	/* Within a minute: nothing said. Then the clock 2 hours behind the file's. */
	assert_int_equal(
		ew_pipeline_load_state(q, path, T0 - 59 * EW_NSEC_PER_SEC, NULL, err, sizeof(err)),
		0);
	assert_int_equal(ew_pipeline_load_state(q, path, T0 - 7200 * EW_NSEC_PER_SEC, NULL, err,
						sizeof(err)),
			 0);
	ew_log_init(EW_LOG_ERROR);
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	close(fd);
	log = slurp(logp, &len);
	lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += log[i] == '\n';
	if (lines != 1 || !strstr(log, path) || !strstr(log, " 2h "))
		fail_msg("want one warning naming %s and the 2h shift, got:\n%s", path, log);
	free(log);
	ew_pipeline_free(q);
}

/*
 * A finding open in a state file shows in exitwatch_finding_active as soon as the state is
 * loaded: no record will say it again before its resolution, and an alert follows the gauge.
 */
static void test_restored_findings_active(void **state)
{
	struct fx *x = *state;
	struct ew_metrics *m = ew_metrics_new("v", false);
	struct ew_pipeline *q;
	struct ew_buf b;
	char path[128], err[256] = "";

	assert_non_null(m);
	for (uint32_t i = 0; i < 5; i++) {
		uint64_t t = T0 + i * 10 * EW_NSEC_PER_SEC;

		event(x, EW_EVENT_START, t, 100 + i);
		event(x, EW_EVENT_EXIT, t + EW_NSEC_PER_SEC, 100 + i);
	}
	ew_t_scratch_path(&x->scratch, "state.json", path, sizeof(path));
	assert_int_equal(ew_pipeline_save_state(x->p, path, T0 + 60 * EW_NSEC_PER_SEC, NULL), 0);
	q = ew_pipeline_new(&x->cfg, &(struct ew_pipeline_deps){.out = x->out, .metrics = m});
	assert_non_null(q);
	assert_int_equal(
		ew_pipeline_load_state(q, path, T0 + 60 * EW_NSEC_PER_SEC, NULL, err, sizeof(err)),
		0);
	ew_buf_init(&b);
	assert_int_equal(ew_metrics_render(m, &b), 0);
	/* exit_code_burst (workload: identity empty) and restart_rate (identity), both open. */
	if (!strstr(b.data,
		    "exitwatch_finding_active{rule=\"exit_code_burst\",severity=\"CRITICAL\","
		    "workload=\"cgroup:/ew-test/web\",identity=\"\"} 1\n"))
		fail_msg("no open exit_code_burst in:\n%s", b.data);
	if (!strstr(b.data,
		    "exitwatch_finding_active{rule=\"restart_rate\",severity=\"WARNING\","
		    "workload=\"cgroup:/ew-test/web\",identity=\"cgroup:/ew-test/web\"} 1\n"))
		fail_msg("no open restart_rate in:\n%s", b.data);
	/* Restored, not fired: no counter moved. */
	assert_null(strstr(b.data, "exitwatch_findings_total{rule=\"exit_code_burst\","
				   "severity=\"CRITICAL\"} 1"));
	ew_buf_free(&b);
	ew_pipeline_free(q);
	ew_metrics_free(m);
}

#define UID   "5c1f2e0a-7b3d-4c8e-9f1a-2b3c4d5e6f70"
#define POD   "checkout-6d5f7c9b8-q4w2x"
#define OLD64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define NEW64 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define IMAGE "registry.example.com/shop/backend:1.4.2"
/* Another pod of the same Deployment. */
#define REPLICA_UID "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
#define REPLICA	    "checkout-6d5f7c9b8-z9x8w"
#define REPLICA64   "aaaabbbbccccddddeeeeffff00001111aaaabbbbccccddddeeeeffff00001111"

/* One start and its exit 3 a second later, of x->id as it is now, into pipeline p. */
static void loop_turn(struct fx *x, struct ew_pipeline *p, uint64_t t, uint32_t pid)
{
	struct ew_event ev = {.type = EW_EVENT_START, .time_ns = t, .cgroup_id = 4242, .pid = pid};

	strcpy(ev.comm, "web");
	assert_int_equal(ew_pipeline_replay(p, &ev, &x->id), 0);
	ev.type = EW_EVENT_EXIT;
	ev.time_ns = t + EW_NSEC_PER_SEC;
	ev.exit_word = 3 << 8;
	ev.status.code = 3;
	ev.uptime_ns = EW_NSEC_PER_SEC;
	assert_int_equal(ew_pipeline_replay(p, &ev, &x->id), 0);
}

/*
 * The same container's workload named anew after an agent restart: an upgrade changed the key
 * (plain Docker's docker:<id> became docker-name:<name>), or the runtime's files named it only
 * later. A finding keeps the workload it counted in: its resolved record and the gauge of
 * exitwatch_finding_active name the workload its finding named. They took the identity's new
 * name, so a backend pairing them by labels kept the finding open, and the gauge's series of the
 * old name stayed at 1 for good.
 */
static void test_workload_renamed_across_restart(void **state)
{
	struct fx *x = *state;
	struct ew_metrics *m = ew_metrics_new("v", false);
	struct ew_pipeline *q;
	struct ew_buf b;
	char path[128], log[128], err[256] = "", *data, *line;
	size_t len, resolved = 0;

	assert_non_null(m);
	ew_strlcpy(x->id.workload, "docker:" OLD64, sizeof(x->id.workload));
	for (uint32_t i = 0; i < 5; i++)
		loop_turn(x, x->p, T0 + i * 10 * EW_NSEC_PER_SEC, 100 + i);
	ew_t_scratch_path(&x->scratch, "state.json", path, sizeof(path));
	assert_int_equal(ew_pipeline_save_state(x->p, path, T0 + 60 * EW_NSEC_PER_SEC, NULL), 0);
	q = ew_pipeline_new(&x->cfg, &(struct ew_pipeline_deps){.out = x->out, .metrics = m});
	assert_non_null(q);
	assert_int_equal(
		ew_pipeline_load_state(q, path, T0 + 60 * EW_NSEC_PER_SEC, NULL, err, sizeof(err)),
		0);
	ew_strlcpy(x->id.workload, "docker-name:web", sizeof(x->id.workload));
	x->id.rev = 77; /* as a resolver's: the renderer keeps what it made of it */
	loop_turn(x, q, T0 + 70 * EW_NSEC_PER_SEC, 200);
	ew_pipeline_tick(q, T0 + 3 * 3600 * EW_NSEC_PER_SEC);
	ew_outputs_drain(x->out, 0);

	snprintf(log, sizeof(log), "%s/a.log", x->scratch.dir);
	data = slurp(log, &len);
	for (line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strstr(line, "\"event\":\"resolved\""))
			continue;
		resolved++;
		if (!strstr(line, "\"workload\":{\"key\":\"docker:" OLD64 "\""))
			fail_msg("a resolution under another workload than its finding's: %s",
				 line);
	}
	free(data);
	/* exit_code_burst, restart_rate, startup_failure_rate, crash_loop. */
	assert_int_equal(resolved, 4);
	ew_buf_init(&b);
	assert_int_equal(ew_metrics_render(m, &b), 0);
	for (char *l = strtok(b.data, "\n"); l; l = strtok(NULL, "\n"))
		if (!strncmp(l, "exitwatch_finding_active{", 25) && strstr(l, "} 1"))
			fail_msg("still open after its resolution: %s", l);
	ew_buf_free(&b);
	ew_pipeline_free(q);
	ew_metrics_free(m);
}

static void k8s_event(struct ew_pipeline *p, enum ew_event_type type, uint64_t t, uint32_t pid,
		      const char *uid, const char *container_id)
{
	struct ew_event ev = {.type = type, .time_ns = t, .cgroup_id = pid, .pid = pid};

	snprintf(ev.cgroup, sizeof(ev.cgroup), "/kubepods/burstable/pod%s/%s", uid, container_id);
	strcpy(ev.comm, "python3");
	if (type == EW_EVENT_EXIT) {
		ev.exit_word = 3 << 8;
		ev.status.code = 3;
		ev.uptime_ns = EW_NSEC_PER_SEC;
	}
	assert_int_equal(ew_pipeline_event(p, &ev), 0);
}

/* A containerd bundle of the pod's "backend" container, as CRI writes it. */
static void k8s_bundle(const struct ew_t_scratch *s, const char *container_id, const char *pod)
{
	char rel[256], text[1024];

	snprintf(rel, sizeof(rel),
		 "run/containerd/io.containerd.runtime.v2.task/k8s.io/%s/config.json",
		 container_id);
	snprintf(text, sizeof(text),
		 "{\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
		 "\"io.kubernetes.cri.container-name\":\"backend\","
		 "\"io.kubernetes.cri.sandbox-name\":\"%s\","
		 "\"io.kubernetes.cri.sandbox-namespace\":\"shop\","
		 "\"io.kubernetes.cri.image-name\":\"" IMAGE "\"}}",
		 pod);
	ew_t_scratch_put(s, rel, text);
}

/* How the state file at path names the loop's pod: 's' by its subject, 'p' by its pod, 0 not. */
static char loop_in_state(const char *path)
{
	json_object *root = json_object_from_file(path), *ids, *v;
	char how = 0;

	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "identities", &ids));
	for (size_t i = 0; i < json_object_array_length(ids); i++) {
		json_object *id = json_object_array_get_idx(ids, i);

		assert_true(json_object_object_get_ex(id, "key", &v));
		if (strcmp(json_object_get_string(v), "k8s:" UID "/backend"))
			continue;
		if (json_object_object_get_ex(id, "subject", &v))
			how = 's';
		else if (json_object_object_get_ex(id, "pod", &v) &&
			 json_object_array_length(v) == 3 &&
			 !strcmp(json_object_get_string(json_object_array_get_idx(v, 2)), IMAGE))
			how = 'p';
	}
	json_object_put(root);
	return how;
}

/*
 * exitwatch restarted with its state file in the middle of a crash loop on containerd, and the
 * loop's next attempt is gone (bundle deleted) before the new agent reads its start: only the
 * kubelet's link names it. Its exit still names the image the earlier attempts ran, which the
 * first agent knew and its state file carries. attempts: the loop's attempts before the
 * restart (5: findings open, the identity awake, its subject in the file; 1: nothing open, the
 * identity asleep, its pod in the file). replica: another pod of the same Deployment ran after
 * them, so the workload's last subject is not the loop's pod.
 */
static void restored_pod_names_image(struct fx *x, uint32_t attempts, bool replica)
{
	struct ew_config cfg = x->cfg;
	struct ew_outputs *out;
	struct ew_pipeline *p;
	char path[256], err[256] = "", *data, *line, *save = NULL;
	const char *image = NULL;
	json_object *last = NULL;
	size_t len;
	uint64_t t = T0;

	cfg.host_root = x->scratch.dir;
	cfg.read_meta = true;
	k8s_bundle(&x->scratch, OLD64, POD);
	k8s_bundle(&x->scratch, REPLICA64, REPLICA);
	ew_t_scratch_put(&x->scratch, "var/log/pods/shop_" POD "_" UID "/backend/5.log", "");
	ew_t_scratch_path(&x->scratch, "var/log/containers", path, sizeof(path));
	assert_int_equal(ew_t_mkdirs(path), 0);
	ew_t_scratch_path(&x->scratch, "var/log/containers/" POD "_shop_backend-" NEW64 ".log",
			  path, sizeof(path));
	assert_int_equal(symlink("/var/log/pods/x/5.log", path), 0);

	/* The first agent: the loop's attempts read from their bundle. */
	p = ew_pipeline_new(&cfg, &(struct ew_pipeline_deps){.out = x->out});
	assert_non_null(p);
	for (uint32_t i = 0; i < attempts; i++, t += 10 * EW_NSEC_PER_SEC) {
		k8s_event(p, EW_EVENT_START, t, 100 + i, UID, OLD64);
		k8s_event(p, EW_EVENT_EXIT, t + EW_NSEC_PER_SEC, 100 + i, UID, OLD64);
	}
	if (replica) {
		k8s_event(p, EW_EVENT_START, t, 300, REPLICA_UID, REPLICA64);
		k8s_event(p, EW_EVENT_EXIT, t + EW_NSEC_PER_SEC, 300, REPLICA_UID, REPLICA64);
	}
	ew_t_scratch_path(&x->scratch, "state.json", path, sizeof(path));
	assert_int_equal(ew_pipeline_save_state(p, path, T0 + 60 * EW_NSEC_PER_SEC, NULL), 0);
	ew_pipeline_free(p);
	assert_true(loop_in_state(path) == (attempts > 1 ? 's' : 'p'));

	/* The second: its first read of the loop is an attempt named by the link alone. */
	ew_t_scratch_path(&x->scratch, "c.log", path, sizeof(path));
	memmove(path + 5, path, strlen(path) + 1);
	memcpy(path, "file:", 5);
	out = ew_outputs_new(&cfg.out);
	assert_non_null(out);
	assert_int_equal(ew_outputs_add(out, path, err, sizeof(err)), 0);
	p = ew_pipeline_new(&cfg, &(struct ew_pipeline_deps){.out = out});
	assert_non_null(p);
	ew_t_scratch_path(&x->scratch, "state.json", path, sizeof(path));
	assert_int_equal(
		ew_pipeline_load_state(p, path, T0 + 70 * EW_NSEC_PER_SEC, NULL, err, sizeof(err)),
		0);
	k8s_event(p, EW_EVENT_START, T0 + 70 * EW_NSEC_PER_SEC, 200, UID, NEW64);
	k8s_event(p, EW_EVENT_EXIT, T0 + 71 * EW_NSEC_PER_SEC, 200, UID, NEW64);
	ew_pipeline_finish(p, T0 + 72 * EW_NSEC_PER_SEC);
	ew_outputs_drain(out, 0);

	data = slurp(ew_t_scratch_path(&x->scratch, "c.log", path, sizeof(path)), &len);
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(line), *ev;

		assert_non_null(o);
		assert_true(json_object_object_get_ex(o, "event", &ev));
		if (strcmp(json_object_get_string(ev), "container_exit")) {
			json_object_put(o);
			continue;
		}
		json_object_put(last);
		last = o;
	}
	assert_non_null(last);
	{
		json_object *c, *v;

		assert_true(json_object_object_get_ex(last, "container", &c));
		assert_true(json_object_object_get_ex(c, "id", &v));
		assert_string_equal(json_object_get_string(v), NEW64);
		assert_true(json_object_object_get_ex(c, "restart_count", &v));
		assert_int_equal(json_object_get_int(v), 5);
		if (json_object_object_get_ex(c, "image", &v))
			image = json_object_get_string(v);
		assert_non_null(image);
		assert_string_equal(image, IMAGE);
	}
	json_object_put(last);
	free(data);
	ew_pipeline_free(p);
	ew_outputs_free(out);
}

static void test_restored_pods_name_images(void **state)
{
	restored_pod_names_image(*state, 5, false);
}

/*
 * The same with the loop asleep at the restart (two attempts, nothing open): the identity in
 * the state file has no subject, and the workload's last subject is another replica's.
 */
static void test_restored_pods_name_images_asleep(void **state)
{
	restored_pod_names_image(*state, 1, true);
}

#define LABELLED64 "1abe11ed1abe11ed1abe11ed1abe11ed1abe11ed1abe11ed1abe11ed1abe11ed"
#define PAUSE64	   "9a0590a0590a0590a0590a0590a0590a0590a0590a0590a0590a0590a0590a05"

/*
 * A pod's pause container gives no record, and a plain Docker container whose image or `docker
 * run -l` carries the sandbox label and pod labels is not one: its start and exit are reported,
 * with no pod. Only the cgroup says what is a pod.
 */
static void test_sandbox_only_under_kubepods(void **state)
{
	struct fx *x = *state;
	char path[128], *a, *line, *save = NULL;
	size_t alen, labelled = 0, pause = 0;

	ew_t_scratch_put(&x->scratch, "var/lib/docker/containers/" LABELLED64 "/config.v2.json",
			 "{\"Name\":\"/labelled\",\"Config\":{\"Image\":\"app:1\",\"Labels\":{"
			 "\"io.kubernetes.docker.type\":\"podsandbox\","
			 "\"io.kubernetes.pod.namespace\":\"kube-system\","
			 "\"io.kubernetes.pod.name\":\"kube-apiserver-node1\"}}}");
	ew_t_scratch_put(&x->scratch,
			 "run/containerd/io.containerd.runtime.v2.task/k8s.io/" PAUSE64
			 "/config.json",
			 "{\"annotations\":{\"io.kubernetes.cri.container-type\":\"sandbox\","
			 "\"io.kubernetes.cri.sandbox-name\":\"" POD "\","
			 "\"io.kubernetes.cri.sandbox-namespace\":\"shop\"}}");
	ew_pipeline_free(x->p);
	x->cfg.host_root = x->scratch.dir;
	x->cfg.read_meta = true;
	x->p = ew_pipeline_new(&x->cfg, &(struct ew_pipeline_deps){.out = x->out});
	assert_non_null(x->p);
	for (uint32_t i = 0; i < 3; i++) {
		uint64_t t = T0 + i * 10 * EW_NSEC_PER_SEC;

		live(x, EW_EVENT_START, 8000 + i, "/docker/" LABELLED64, t, 300 + i);
		live(x, EW_EVENT_EXIT, 8000 + i, "/docker/" LABELLED64, t + EW_NSEC_PER_SEC,
		     300 + i);
		live(x, EW_EVENT_START, 9000 + i, "/kubepods/burstable/pod" UID "/" PAUSE64, t,
		     400 + i);
		live(x, EW_EVENT_EXIT, 9000 + i, "/kubepods/burstable/pod" UID "/" PAUSE64,
		     t + EW_NSEC_PER_SEC, 400 + i);
	}
	ew_pipeline_finish(x->p, T0 + 60 * EW_NSEC_PER_SEC);
	ew_outputs_drain(x->out, 0);
	a = slurp(ew_t_scratch_path(&x->scratch, "a.log", path, sizeof(path)), &alen);
	for (line = strtok_r(a, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(line), *ctr, *v;
		const char *id;

		assert_non_null(o);
		if (!json_object_object_get_ex(o, "container", &ctr)) {
			json_object_put(o);
			continue;
		}
		assert_true(json_object_object_get_ex(ctr, "id", &v));
		id = json_object_get_string(v);
		pause += !strcmp(id, PAUSE64);
		if (!strcmp(id, LABELLED64)) {
			labelled++;
			assert_false(json_object_object_get_ex(ctr, "sandbox", &v));
			if (json_object_object_get_ex(o, "pod", &v))
				fail_msg("a pod for a Docker container: %s", line);
		}
		json_object_put(o);
	}
	assert_int_equal(pause, 0);
	/* Each attempt's start and exit, and the findings its exits raised. */
	assert_true(labelled >= 6);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_findings_after_their_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_cache_same_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wake_follows_the_detector, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_subtree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_swept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_swept_after_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_failed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_error_waited_for, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killer_gone_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restored_findings_active, setup, teardown),
		cmocka_unit_test_setup_teardown(test_workload_renamed_across_restart, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_state_clock_ahead_warns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_watch_instance_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_clock_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_episode_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restored_pods_name_images, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restored_pods_name_images_asleep, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sandbox_only_under_kubepods, setup, teardown),
	};

	ew_log_init(EW_LOG_ERROR);
	return cmocka_run_group_tests_name("pipeline", tests, NULL, NULL);
}
