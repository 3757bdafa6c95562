// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Recordings (src/replay/recorder.c, through its codec): every event member and identity
 * survives a write and a read (hostile bytes included), the end, drops and clock-step marks come
 * back in order, and bad recordings are refused with the file and line named.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "exitwatch/identity/identity.h"
#include "exitwatch/replay/recorder.h"
#include "exitwatch/util/util.h"
#include "harness/unit.h"

struct got {
	int events, drops, ends;
	struct ew_event ev[3];
	struct ew_identity id[3];
	uint64_t rev[8];   /* each event's identity's revision */
	bool packed_ok[8]; /* and its packed copy was there, the same as it */
	uint64_t drop_time, drop_total, end_time, step_time;
	int64_t step_ns;
	char order[16];
};

static int on_event(void *ctx, const struct ew_event *ev, const struct ew_identity *id)
{
	struct got *g = ctx;

	if (g->events < 3) {
		g->ev[g->events] = *ev;
		g->id[g->events] = *id;
	}
	if (g->events < 8) {
		g->rev[g->events] = id->rev;
		g->packed_ok[g->events] = id->packed && ew_subject_same(id->packed, id);
	}
	g->events++;
	strcat(g->order, "e");
	return 0;
}

static int on_drops(void *ctx, uint64_t t, uint64_t total)
{
	struct got *g = ctx;

	g->drops++;
	g->drop_time = t;
	g->drop_total = total;
	strcat(g->order, "d");
	return 0;
}

static int on_end(void *ctx, uint64_t t)
{
	struct got *g = ctx;

	g->ends++;
	g->end_time = t;
	strcat(g->order, "x");
	return 0;
}

static int on_clock_step(void *ctx, uint64_t t, int64_t step_ns)
{
	struct got *g = ctx;

	g->step_time = t;
	g->step_ns = step_ns;
	strcat(g->order, "c");
	return 0;
}

static const struct ew_replay_cbs cbs = {
	.event = on_event, .drops = on_drops, .clock_step = on_clock_step, .end = on_end};

static void make_identity(struct ew_identity *id)
{
	memset(id, 0, sizeof(*id));
	id->cgroup_id = 77;
	id->cg.runtime = EW_RT_DOCKER;
	id->has_meta = true;
	id->meta.restart_count = 4;
	strcpy(id->cgroup, "/docker/abc");
	strcpy(id->cg.container_id, "abc");
	strcpy(id->meta.name, "web \"1\"\\");
	strcpy(id->meta.compose_project, "shop");
	strcpy(id->key, "docker:abc");
	strcpy(id->workload, "compose:shop/web");
	strcpy(id->display, "web");
}

static void test_round_trip(void **state)
{
	char path[] = "/tmp/ew-test-record-XXXXXX", node[64], err[256] = "";
	struct ew_event *start = calloc(1, sizeof(*start)), *exit = calloc(1, sizeof(*exit));
	struct ew_event *failed = calloc(1, sizeof(*failed));
	struct ew_identity id;
	struct ew_recorder *r;
	struct got *g = calloc(1, sizeof(*g));
	int fd = mkstemp(path);

	(void)state;
	close(fd);
	make_identity(&id);
	start->type = EW_EVENT_START;
	start->time_ns = 1000;
	start->cgroup_id = 77;
	start->pid = 42;
	start->ppid = 7;
	start->cg_level = 2;
	start->start_boot_ns = 5;
	strcpy(start->cgroup, "/docker/abc");
	strcpy(start->comm, "sh\x1b[31m");
	strcpy(start->argv0, "/bin/sh");
	exit->type = EW_EVENT_EXIT;
	exit->time_ns = 2000;
	exit->cgroup_id = 77;
	exit->pid = 42;
	exit->exit_word = 3 << 8;
	exit->uptime_ns = 1000;
	exit->oom = true;
	exit->has_killer = true;
	exit->killer =
		(struct ew_killer_info){.pid = 9, .signal = 15, .cgroup_id = 1, .time_ns = 1900};
	strcpy(exit->killer.comm, "runc");
	strcpy(exit->killer.container, "host");
	exit->children = (struct ew_children){1, 2, 3, 2};
	exit->stderr_total = 6;
	exit->tail_len = 6;
	memcpy(exit->tail, "a\0\xff\n\"b", 6); /* a NUL and invalid UTF-8 survive exactly */
	exit->tail_source = EW_TAIL_CRI;
	/* A start that failed: the start's members and the exit's it has. */
	*failed = *start;
	failed->type = EW_EVENT_START_FAILED;
	failed->time_ns = 2500;
	strcpy(failed->comm, "runc:[2:INIT]");
	failed->argv0[0] = '\0';
	failed->exit_word = 1 << 8;
	failed->status = ew_exit_decode(failed->exit_word);
	failed->uptime_ns = 150;
	/* Its runtime's error, as the agent found it: a replay says it again. */
	failed->tail_len = 9;
	memcpy(failed->tail, "exec: \"x\"", 9);
	failed->tail_source = EW_TAIL_START_ERROR;

	assert_int_equal(ew_recorder_open(path, "node-a", &r, err, sizeof(err)), 0);
	assert_int_equal(ew_recorder_event(r, start, &id), 0);
	assert_int_equal(ew_recorder_drops(r, 1500, 7), 0);
	assert_int_equal(ew_recorder_clock_step(r, 1700, -3600000000000LL), 0);
	assert_int_equal(ew_recorder_event(r, exit, &id), 0);
	assert_int_equal(ew_recorder_event(r, failed, &id), 0);
	assert_int_equal(ew_recorder_end(r, 3000), 0);
	ew_recorder_close(r);

	assert_int_equal(ew_replay_read(path, &cbs, g, node, sizeof(node), err, sizeof(err)), 0);
	assert_string_equal(node, "node-a");
	assert_string_equal(g->order, "edceex");
	assert_int_equal(g->step_time, 1700);
	assert_int_equal(g->step_ns, -3600000000000LL);
	assert_int_equal(g->drop_time, 1500);
	assert_int_equal(g->drop_total, 7);
	assert_int_equal(g->end_time, 3000);
	assert_int_equal(g->ev[0].type, EW_EVENT_START);
	assert_int_equal(g->ev[0].pid, 42);
	assert_int_equal(g->ev[0].ppid, 7);
	assert_int_equal(g->ev[0].cg_level, 2);
	assert_string_equal(g->ev[0].comm, "sh\x1b[31m");
	assert_string_equal(g->ev[0].cgroup, "/docker/abc");
	assert_int_equal(g->ev[1].type, EW_EVENT_EXIT);
	assert_int_equal(g->ev[1].status.code, 3);
	assert_true(g->ev[1].oom);
	assert_true(g->ev[1].has_killer);
	assert_int_equal(g->ev[1].killer.signal, 15);
	assert_string_equal(g->ev[1].killer.container, "host");
	assert_int_equal(g->ev[1].children.clean, 1);
	assert_int_equal(g->ev[1].children.failed, 2);
	assert_int_equal(g->ev[1].children.signaled, 3);
	assert_int_equal(g->ev[1].children.oom_killed, 2);
	assert_int_equal(g->ev[1].tail_len, 6);
	assert_memory_equal(g->ev[1].tail, "a\0\xff\n\"b", 6);
	assert_int_equal(g->ev[1].tail_source, EW_TAIL_CRI);
	assert_string_equal(g->id[1].meta.name, "web \"1\"\\");
	assert_string_equal(g->id[1].workload, "compose:shop/web");
	assert_int_equal(g->id[1].meta.restart_count, 4);
	assert_int_equal(g->id[1].cg.runtime, EW_RT_DOCKER);
	assert_int_equal(g->ev[2].type, EW_EVENT_START_FAILED);
	assert_int_equal(g->ev[2].time_ns, 2500);
	assert_int_equal(g->ev[2].ppid, 7);
	assert_int_equal(g->ev[2].cg_level, 2);
	assert_int_equal(g->ev[2].start_boot_ns, 5);
	assert_string_equal(g->ev[2].cgroup, "/docker/abc");
	assert_string_equal(g->ev[2].comm, "runc:[2:INIT]");
	assert_string_equal(g->ev[2].argv0, "");
	assert_int_equal(g->ev[2].status.code, 1);
	assert_int_equal(g->ev[2].uptime_ns, 150);
	assert_int_equal(g->ev[2].tail_len, 9);
	assert_memory_equal(g->ev[2].tail, "exec: \"x\"", 9);
	assert_int_equal(g->ev[2].tail_source, EW_TAIL_START_ERROR);
	unlink(path);
	free(start);
	free(exit);
	free(failed);
	free(g);
}

/*
 * A replayed identity gets a revision and a packed copy, as the live resolver gives them (the
 * renderer keeps its parts by the one, the detector holds the other): the same revision while it
 * comes back unchanged, a new one when anything in it changed, never 0 and never one another
 * identity had.
 */
static void test_revisions(void **state)
{
	char path[PATH_MAX], node[64], err[256] = "";
	struct ew_event *ev = calloc(1, sizeof(*ev));
	struct ew_identity a, b, c;
	struct ew_recorder *r;
	struct got *g = calloc(1, sizeof(*g));

	ew_t_scratch_path(*state, "rec", path, sizeof(path));
	make_identity(&a);
	b = a;
	strcpy(b.meta.name, "web-2"); /* its names resolved again: the same key, other names */
	make_identity(&c);
	strcpy(c.key, "docker:def");
	strcpy(c.cg.container_id, "def");
	c.cgroup_id = 78;
	ev->type = EW_EVENT_START;
	ev->time_ns = 1000;
	ev->cgroup_id = 77;
	ev->pid = 42;

	assert_int_equal(ew_recorder_open(path, "node-a", &r, err, sizeof(err)), 0);
	assert_int_equal(ew_recorder_event(r, ev, &a), 0); /* 0: a */
	assert_int_equal(ew_recorder_event(r, ev, &c), 0); /* 1: c, between (another slot) */
	assert_int_equal(ew_recorder_event(r, ev, &a), 0); /* 2: a again */
	assert_int_equal(ew_recorder_event(r, ev, &b), 0); /* 3: a changed */
	assert_int_equal(ew_recorder_event(r, ev, &b), 0); /* 4: that again */
	assert_int_equal(ew_recorder_event(r, ev, &a), 0); /* 5: as it was */
	ew_recorder_close(r);

	assert_int_equal(ew_replay_read(path, &cbs, g, node, sizeof(node), err, sizeof(err)), 0);
	assert_int_equal(g->events, 6);
	for (int i = 0; i < 6; i++) {
		assert_true(g->rev[i] != 0);
		assert_true(g->packed_ok[i]);
	}
	assert_true(g->rev[0] != g->rev[1]);
	assert_int_equal(g->rev[2], g->rev[0]);
	assert_true(g->rev[3] != g->rev[0] && g->rev[3] != g->rev[1]);
	assert_int_equal(g->rev[4], g->rev[3]);
	/* a's own again: whatever its number, never b's or c's */
	assert_true(g->rev[5] != g->rev[3] && g->rev[5] != g->rev[1]);
	free(ev);
	free(g);
}

/* JSON's whitespace around a line's object is no text after it (a CRLF file, padding). */
static void test_whitespace_around(void **state)
{
	static const char text[] = "  {\"exitwatch_record\":1}\t\r\n"
				   "{\"end\":{\"time\":9}} \t \r\n";
	char path[] = "/tmp/ew-test-record-XXXXXX", node[64], err[256] = "";
	struct got g = {0};
	int fd = mkstemp(path);

	(void)state;
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	assert_int_equal(ew_replay_read(path, &cbs, &g, node, sizeof(node), err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(g.ends, 1);
	assert_int_equal(g.end_time, 9);
	unlink(path);
}

/* A recording made before children_oom_killed existed still replays, with 0 there. */
static void test_recording_without_oom_killed(void **state)
{
	static const char text[] =
		"{\"exitwatch_record\":1}\n"
		"{\"event\":{\"type\":\"exit\",\"time\":2000,\"cgroup_id\":77,\"pid\":42,"
		"\"exit_word\":0,\"children_clean\":4,\"children_failed\":5,"
		"\"children_signaled\":6,\"tail_hex\":\"\"},\"identity\":{\"key\":\"k\"}}\n"
		/* Before runtime logs, every tail was the kernel's. */
		"{\"event\":{\"type\":\"exit\",\"time\":2001,\"cgroup_id\":77,\"pid\":43,"
		"\"exit_word\":768,\"stderr_total\":2,\"tail_hex\":\"6f0a\"},\"identity\":{"
		"\"key\":\"k\"}}\n";
	char path[] = "/tmp/ew-test-record-XXXXXX", node[64], err[256] = "";
	struct got *g = calloc(1, sizeof(*g));
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_non_null(g);
	close(fd);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	assert_int_equal(ew_replay_read(path, &cbs, g, node, sizeof(node), err, sizeof(err)), 0);
	assert_int_equal(g->events, 2);
	assert_int_equal(g->ev[0].tail_source, EW_TAIL_NONE);
	assert_int_equal(g->ev[1].tail_source, EW_TAIL_KERNEL);
	assert_int_equal(g->ev[1].tail_len, 2);
	assert_int_equal(g->ev[0].children.clean, 4);
	assert_int_equal(g->ev[0].children.failed, 5);
	assert_int_equal(g->ev[0].children.signaled, 6);
	assert_int_equal(g->ev[0].children.oom_killed, 0);
	unlink(path);
	free(g);
}

/* A recording's header, an exit event with extra members M, an identity: for bad cases. */
#define H     "{\"exitwatch_record\":1}\n"
#define EV(m) "{\"event\":{\"type\":\"exit\",\"time\":1" m "},"
#define ID    "\"identity\":{\"key\":\"k\"}"

static void test_bad_recordings(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{"", "empty file"},
		{"{\"exitwatch_record\":2}\n", ":1: not an exitwatch recording"},
		{"[1,2]\n", ":1: not a JSON object"},
		{"{\"exitwatch_record\":1}\n{\"event\":{\"type\":\"start\"}}\n",
		 ":2: a line without"},
		{"{\"exitwatch_record\":1}\n{oops\n", ":2: not a JSON object"},
		{"{\"exitwatch_record\":1}\n\n", ":2: not a JSON object"},
		/* One object a line: a second one, or anything but whitespace, after it is refused. */
		{"{\"exitwatch_record\":1}\n{\"end\":{\"time\":1}} {\"end\":{\"time\":2}}\n",
		 ":2: text after the JSON object (at column 20)"},
		{"{\"exitwatch_record\":1}\n{\"end\":{\"time\":1}}}\n",
		 ":2: text after the JSON object (at column 19)"},
		{"{\"exitwatch_record\":1} x\n", ":1: text after the JSON object (at column 24)"},
		{"{\"exitwatch_record\":1}\n{\"event\":{\"type\":\"boom\x1b\"},\"identity\":{"
		 "\"key\":\"k\"}}\n",
		 ":2: unknown event type 'boom?'"},
		{"{\"exitwatch_record\":1}\n{\"event\":{\"type\":\"exit\",\"time\":1,\"tail_hex\":"
		 "\"zz\"},"
		 "\"identity\":{\"key\":\"k\"}}\n",
		 ":2: member \"tail_hex\" is not hex"},
		{"{\"exitwatch_record\":1}\n{\"event\":{\"type\":\"exit\",\"time\":1,\"tail_hex\":"
		 "\"6f\",\"tail_source\":\"syslog\"},\"identity\":{\"key\":\"k\"}}\n",
		 ":2: member \"tail_source\" is not a known source"},
		/* A runtime's start error belongs to a failed start, and only it to one. */
		{"{\"exitwatch_record\":1}\n{\"event\":{\"type\":\"exit\",\"time\":1,\"tail_hex\":"
		 "\"6f\",\"tail_source\":\"start-error\"},\"identity\":{\"key\":\"k\"}}\n",
		 ":2: member \"tail_source\" is \"start-error\", not for an event of type exit"},
		{"{\"exitwatch_record\":1}\n{\"event\":{\"type\":\"start_failed\",\"time\":1,"
		 "\"tail_hex\":\"6f\",\"tail_source\":\"cri\"},\"identity\":{\"key\":\"k\"}}\n",
		 ":2: member \"tail_source\" is \"cri\", not for an event of type start_failed"},
		{"{\"exitwatch_record\":1}\n{\"event\":{\"type\":\"start_failed\",\"time\":1,"
		 "\"tail_hex\":\"6f\"},\"identity\":{\"key\":\"k\"}}\n",
		 ":2: member \"tail_source\" is \"kernel\", not for an event of type start_failed"},
		/* A member of the wrong type is refused, named, not read as its default. */
		{H "{\"event\":{\"type\":\"exit\",\"time\":\"123\"}," ID "}\n",
		 ":2: member \"time\" is not of JSON type int"},
		{H "{\"event\":{\"type\":\"exit\",\"time\":0}," ID "}\n",
		 ":2: event without a time"},
		{H "{\"end\":{\"time\":\"x\"}}\n",
		 ":2: member \"end.time\" is not of JSON type int"},
		{H "{\"end\":{}}\n", ":2: member \"end.time\" is missing"},
		{H "{\"end\":[1]}\n", ":2: member \"end\" is not of JSON type object"},
		{H "{\"drops\":5}\n", ":2: member \"drops\" is not of JSON type object"},
		{H "{\"clock_step\":[]}\n", ":2: member \"clock_step\" is not of JSON type object"},
		{H "{\"clock_step\":{\"time\":1}}\n",
		 ":2: member \"clock_step.step_ns\" is missing"},
		{H "{\"clock_step\":{\"step_ns\":1}}\n",
		 ":2: member \"clock_step.time\" is missing"},
		{H "{\"clock_step\":{\"time\":1,\"step_ns\":1.5}}\n",
		 ":2: member \"clock_step.step_ns\" is not of JSON type int"},
		{H "{\"clock_step\":{\"time\":1,\"step_ns\":-9223372036854775809}}\n",
		 ":2: member \"clock_step.step_ns\" is out of range"},
		{H "{\"drops\":{\"time\":1}}\n", ":2: member \"drops.total\" is missing"},
		{H "{\"drops\":{\"time\":1,\"total\":-1}}\n",
		 ":2: member \"drops.total\" is out of range (-1 not in 0..18446744073709551615)"},
		{H "{\"event\":5," ID "}\n", ":2: member \"event\" is not of JSON type object"},
		{H "{\"event\":{\"type\":5}," ID "}\n",
		 ":2: member \"type\" is not of JSON type string"},
		{H EV(",\"pid\":\"42\"") ID "}\n", ":2: member \"pid\" is not of JSON type int"},
		{H EV(",\"pid\":4294967296") ID "}\n",
		 ":2: member \"pid\" is out of range (4294967296 not in 0..4294967295)"},
		{H EV(",\"uptime_ns\":-5") ID "}\n", ":2: member \"uptime_ns\" is out of range"},
		{H EV(",\"oom\":1") ID "}\n", ":2: member \"oom\" is not of JSON type boolean"},
		{H EV(",\"comm\":5") ID "}\n", ":2: member \"comm\" is not of JSON type string"},
		{H EV(",\"tail_hex\":null") ID "}\n",
		 ":2: member \"tail_hex\" is not of JSON type string"},
		{H EV(",\"tail_hex\":\"6f\",\"tail_source\":1") ID "}\n",
		 ":2: member \"tail_source\" is not of JSON type string"},
		{H EV(",\"killer\":5") ID "}\n",
		 ":2: member \"killer\" is not of JSON type object"},
		{H EV(",\"killer\":{\"signal\":\"TERM\"}") ID "}\n",
		 ":2: member \"killer.signal\" is not of JSON type int"},
		{H EV("") "\"identity\":{\"key\":\"k\",\"runtime\":\"docker\"}}\n",
		 ":2: member \"identity.runtime\" is not of JSON type int"},
		{H EV("") "\"identity\":{\"key\":5}}\n",
		 ":2: member \"identity.key\" is not of JSON type string"},
		{H EV("") "\"identity\":{\"name\":\"x\"}}\n", ":2: member \"identity\" has no key"},
		{H EV("") "\"identity\":[]}\n",
		 ":2: member \"identity\" is not of JSON type object"},
		{"{\"exitwatch_record\":1,\"node\":5}\n",
		 ":1: member \"node\" is not of JSON type string"},
	};
	char path[] = "/tmp/ew-test-record-XXXXXX", node[64];
	int fd = mkstemp(path);

	(void)state;
	close(fd);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct got g = {0};
		char err[256] = "";
		FILE *f = fopen(path, "w");

		fputs(cases[i].text, f);
		fclose(f);
		assert_int_equal(
			ew_replay_read(path, &cbs, &g, node, sizeof(node), err, sizeof(err)),
			-EINVAL);
		if (!strstr(err, cases[i].err))
			fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i].err);
		assert_non_null(strstr(err, path));
	}
	/* A line longer than a record can be: refused without reading it into memory. */
	{
		struct got g = {0};
		char err[256] = "";
		FILE *f = fopen(path, "w");

		fputs("{\"exitwatch_record\":1}\n", f);
		for (int i = 0; i < 70000; i++)
			fputc('a', f);
		fclose(f);
		assert_int_equal(
			ew_replay_read(path, &cbs, &g, node, sizeof(node), err, sizeof(err)),
			-EINVAL);
		assert_non_null(strstr(err, ":2: line longer than"));
	}
	/* Exactly the limit is a line; one byte more is not. */
	for (int extra = 0; extra < 2; extra++) {
		static const char head[] = "{\"end\":{\"time\":7},\"pad\":\"";
		struct got g = {0};
		char err[256] = "";
		FILE *f = fopen(path, "w");
		size_t pad = 65536 - (sizeof(head) - 1) - 2 + (size_t)extra;

		fputs("{\"exitwatch_record\":1}\n", f);
		fputs(head, f);
		for (size_t i = 0; i < pad; i++)
			fputc('a', f);
		fputs("\"}\n", f);
		fclose(f);
		assert_int_equal(
			ew_replay_read(path, &cbs, &g, node, sizeof(node), err, sizeof(err)),
			extra ? -EINVAL : 0);
		if (extra)
			assert_non_null(strstr(err, ":2: line longer than 65536 bytes"));
		else
			assert_int_equal(g.end_time, 7);
	}
	/* A NUL byte is one, wherever it is, with or without a newline after it. */
	{
		static const struct {
			const char *text;
			size_t len;
			const char *err;
		} nul[] = {
#define NUL_CASE(text, err) {text, sizeof(text) - 1, err}
			NUL_CASE("{\"exitwatch_record\":1}\n{\"end\":{\"time\":7}}\0x\n",
				 ":2: NUL byte in line"),
			NUL_CASE("{\"exitwatch_record\":1}\n{\"end\":{\"time\":7}}\0",
				 ":2: NUL byte in line"),
			NUL_CASE("{\"exitwatch_record\":1}\0\n", ":1: NUL byte in line"),
			NUL_CASE("\0\n", ":1: NUL byte in line"),
#undef NUL_CASE
		};

		for (size_t i = 0; i < ARRAY_SIZE(nul); i++) {
			struct got g = {0};
			char err[256] = "";
			FILE *f = fopen(path, "w");

			assert_int_equal(fwrite(nul[i].text, 1, nul[i].len, f), nul[i].len);
			fclose(f);
			assert_int_equal(ew_replay_read(path, &cbs, &g, node, sizeof(node), err,
							sizeof(err)),
					 -EINVAL);
			if (!strstr(err, nul[i].err))
				fail_msg("NUL case %zu: '%s' does not say '%s'", i, err,
					 nul[i].err);
			assert_int_equal(g.ends, 0);
		}
	}
	unlink(path);
	{
		char err[256] = "";
		struct got g = {0};

		assert_int_equal(ew_replay_read("/nonexistent/rec", &cbs, &g, node, sizeof(node),
						err, sizeof(err)),
				 -ENOENT);
	}
}

/*
 * What is not a recording file: a directory is said to be one (it was "PATH:1: Input/output
 * error"); a stream (a pipe, `exitwatch replay <(zcat rec.gz)`, /dev/stdin) is read like a file.
 */
static void test_not_a_file(void **state)
{
	static const char rec[] = "{\"exitwatch_record\":1,\"node\":\"n\"}\n"
				  "{\"end\":{\"time\":5}}\n";
	char dir[] = "/tmp/ew-test-record-dir-XXXXXX", node[64], err[256] = "", want[300], path[64];
	struct got g = {0};
	int p[2];

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(ew_replay_read(dir, &cbs, &g, node, sizeof(node), err, sizeof(err)),
			 -EISDIR);
	snprintf(want, sizeof(want), "%s: is a directory, not a recording", dir);
	assert_string_equal(err, want);
	assert_int_equal(rmdir(dir), 0);

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], rec, sizeof(rec) - 1), (ssize_t)sizeof(rec) - 1);
	close(p[1]);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	err[0] = '\0';
	assert_int_equal(ew_replay_read(path, &cbs, &g, node, sizeof(node), err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(node, "n");
	assert_int_equal(g.ends, 1);
	assert_int_equal(g.end_time, 5);
	close(p[0]);

	/* A character device is a stream too: /dev/null is an empty one. */
	assert_int_equal(
		ew_replay_read("/dev/null", &cbs, &g, node, sizeof(node), err, sizeof(err)),
		-EINVAL);
	assert_string_equal(err, "/dev/null: empty file, not an exitwatch recording");
}

/*
 * An agent restarted with the same recording path (a config file's [agent] record, a DaemonSet
 * rollout, a crash): the previous run's recording is kept as PATH.1, and the open says so
 * (1). It was truncated, so the run that held the loop to tune on was gone with nothing said.
 */
static void test_previous_kept(void **state)
{
	char dir[] = "/tmp/ew-test-record-prev-XXXXXX", path[96], prev[100], node[64],
	     err[256] = "";
	struct got *g = calloc(1, sizeof(*g));
	struct ew_recorder *r;

	(void)state;
	assert_non_null(g);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rec.ndjson", dir);
	snprintf(prev, sizeof(prev), "%s.1", path);
	/* The first run: nothing there before it. */
	assert_int_equal(ew_recorder_open(path, "node-a", &r, err, sizeof(err)), 0);
	assert_int_equal(ew_recorder_drops(r, 1500, 7), 0);
	assert_int_equal(ew_recorder_end(r, 3000), 0);
	ew_recorder_close(r);
	/* The next one keeps it aside. */
	assert_int_equal(ew_recorder_open(path, "node-a", &r, err, sizeof(err)), 1);
	assert_int_equal(ew_recorder_end(r, 9000), 0);
	ew_recorder_close(r);
	assert_int_equal(ew_replay_read(prev, &cbs, g, node, sizeof(node), err, sizeof(err)), 0);
	assert_int_equal(g->drops, 1);
	assert_int_equal(g->end_time, 3000);
	memset(g, 0, sizeof(*g));
	assert_int_equal(ew_replay_read(path, &cbs, g, node, sizeof(node), err, sizeof(err)), 0);
	assert_int_equal(g->drops, 0);
	assert_int_equal(g->end_time, 9000);
	/* Where it cannot be kept (PATH.1 a directory here), it is overwritten, and err says so. */
	assert_int_equal(unlink(prev), 0);
	assert_int_equal(mkdir(prev, 0700), 0);
	assert_int_equal(ew_recorder_open(path, "node-a", &r, err, sizeof(err)), 2);
	assert_non_null(strstr(err, "could not keep the previous recording as"));
	ew_recorder_close(r);
	assert_int_equal(rmdir(prev), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test_setup_teardown(test_revisions, ew_t_scratch_setup,
						ew_t_scratch_teardown),
		cmocka_unit_test(test_recording_without_oom_killed),
		cmocka_unit_test(test_whitespace_around),
		cmocka_unit_test(test_bad_recordings),
		cmocka_unit_test(test_not_a_file),
		cmocka_unit_test(test_previous_kept),
	};

	return cmocka_run_group_tests_name("recorder", tests, NULL, NULL);
}
