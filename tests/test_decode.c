// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ring buffer records -> events: the wait status, record validation, cgroup paths joined from
 * the captured names, the stderr ring unrolled; and the exit classes decided from them.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exitwatch/ingest/decode.h"
#include "exitwatch/core/exit_class.h"
#include "exitwatch/util/util.h"

/* The layout of <sys/wait.h>, built by hand so the test does not trust the code under test. */
#define EXITED(code)  ((uint32_t)(code) << 8)
#define SIGNALED(sig) ((uint32_t)(sig))
#define DUMPED(sig)   ((uint32_t)(sig) | 0x80)

static void test_exit_word(void **state)
{
	static const struct {
		uint32_t word;
		int code, signal;
		bool core;
	} cases[] = {
		{EXITED(0), 0, 0, false},
		{EXITED(3), 3, 0, false},
		{EXITED(255), 255, 0, false},
		{EXITED(137), 137, 0, false},
		{SIGNALED(SIGKILL), 0, SIGKILL, false},
		{SIGNALED(SIGTERM), 0, SIGTERM, false},
		{DUMPED(SIGSEGV), 0, SIGSEGV, true},
		{DUMPED(SIGABRT), 0, SIGABRT, true},
		{SIGNALED(SIGSEGV), 0, SIGSEGV, false},
		{SIGNALED(64), 0, 64, false},
		/* bit 7 without a signal is not a core dump */
		{EXITED(1) | 0x80, 1, 0, false},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ew_exit_status st = ew_exit_decode(cases[i].word);

		assert_int_equal(st.code, cases[i].code);
		assert_int_equal(st.signal, cases[i].signal);
		assert_int_equal(st.core_dumped, cases[i].core);
	}
}

static void test_signal_names(void **state)
{
	(void)state;
	assert_string_equal(ew_signal_name(SIGSEGV), "SIGSEGV");
	assert_string_equal(ew_signal_name(SIGKILL), "SIGKILL");
	assert_string_equal(ew_signal_name(SIGSYS), "SIGSYS");
	assert_null(ew_signal_name(0));
	assert_null(ew_signal_name(-1));
	assert_null(ew_signal_name(40));
}

static void test_cgroup_join(void **state)
{
	char names[EW_CG_LEVELS][EW_CG_NAME_LEN] = {"c", "b", "a"};
	char out[EW_CGROUP_PATH_MAX];

	(void)state;
	ew_cgroup_join(names, EW_CG_LEVELS, 3, out, sizeof(out));
	assert_string_equal(out, "/a/b/c");
	ew_cgroup_join(names, EW_CG_LEVELS, 1, out, sizeof(out));
	assert_string_equal(out, "/c");
	ew_cgroup_join(names, EW_CG_LEVELS, 0, out, sizeof(out));
	assert_string_equal(out, "/");
	/* Deeper than the levels captured: the ancestors are unknown. */
	for (int i = 0; i < EW_CG_LEVELS; i++)
		names[i][0] = (char)('f' - i), names[i][1] = '\0';
	ew_cgroup_join(names, EW_CG_LEVELS, 9, out, sizeof(out));
	assert_string_equal(out, ".../a/b/c/d/e/f");
	/* A small buffer truncates at a name boundary, never mid-name. */
	ew_cgroup_join(names, EW_CG_LEVELS, 9, out, 9);
	assert_string_equal(out, ".../a/b");
}

static void test_tail_unroll(void **state)
{
	static char ring[EW_STDERR_CAP];
	char out[EW_STDERR_CAP];
	uint32_t n;

	(void)state;
	/* Byte i of the stream at i % CAP: write a stream of 6000 bytes, stream[i] = i % 251. */
	for (uint64_t i = 0; i < 6000; i++)
		ring[i % EW_STDERR_CAP] = (char)(i % 251);
	n = ew_tail_unroll(ring, 6000, 2048, out);
	assert_int_equal(n, 2048);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal((unsigned char)out[i], (6000 - 2048 + i) % 251);
	n = ew_tail_unroll(ring, 6000, 9999, out); /* capped at the ring */
	assert_int_equal(n, EW_STDERR_CAP);
	assert_int_equal((unsigned char)out[0], (6000 - EW_STDERR_CAP) % 251);
	n = ew_tail_unroll(ring, 10, 2048, out); /* less written than asked */
	assert_int_equal(n, 10);
	assert_int_equal(ew_tail_unroll(ring, 0, 2048, out), 0);
	assert_int_equal(ew_tail_unroll(ring, 6000, 0, out), 0);
}

static struct ew_decode_ctx ctx = {.boot_to_wall_ns = 1000000000000000000LL, .tail_max = 2048};

/*
 * ew_event_clear() over an event full of an earlier one's bytes: every member zero and every
 * string empty; only the long strings' bodies past their first byte, and the tail's bytes, may
 * keep what was there. An exit decoded over a start's event names nothing of the start.
 */
static void test_event_clear(void **state)
{
	struct ew_event *ev = malloc(sizeof(*ev));
	struct ew_exit_event x = {0};
	char *zero = calloc(1, offsetof(struct ew_event, tail));

	(void)state;
	memset(ev, 0xa5, sizeof(*ev));
	ew_event_clear(ev);
	assert_int_equal(ev->tail_len, 0);
	assert_string_equal(ev->cgroup, "");
	assert_string_equal(ev->filename, "");
	assert_string_equal(ev->argv0, "");
	/* The bodies left alone, the rest (padding included) must be zero. */
	memset(ev->cgroup + 1, 0, sizeof(ev->cgroup) - 1);
	memset(ev->filename + 1, 0, sizeof(ev->filename) - 1);
	memset(ev->argv0 + 1, 0, sizeof(ev->argv0) - 1);
	assert_memory_equal(ev, zero, offsetof(struct ew_event, tail));

	memset(ev, 0xa5, sizeof(*ev));
	x.hdr = (struct ew_hdr){.kind = EW_EV_EXIT, .size = sizeof(x), .pid = 9, .cgroup_id = 77};
	memcpy(x.comm, "sh", 3);
	assert_int_equal(ew_decode(&x, sizeof(x), &ctx, ev), 0);
	assert_int_equal(ev->type, EW_EVENT_EXIT);
	assert_string_equal(ev->comm, "sh");
	assert_string_equal(ev->cgroup, "");
	assert_string_equal(ev->filename, "");
	assert_string_equal(ev->argv0, "");
	assert_string_equal(ev->listener_comm, "");
	assert_string_equal(ev->killer.container, "");
	assert_false(ev->has_killer);
	assert_int_equal(ev->tail_len, 0);
	assert_int_equal(ev->listener_pid, 0);
	free(zero);
	free(ev);
}

/* An exec record of pid 42 in /docker/abc (id 77), its parent 7, at boot time ts_ns. */
static void exec_record(struct ew_exec_event *e, uint8_t kind, uint16_t size, uint64_t ts_ns,
			const char *comm)
{
	e->hdr = (struct ew_hdr){
		.kind = kind, .size = size, .pid = 42, .ts_ns = ts_ns, .cgroup_id = 77};
	e->ppid = 7;
	e->cg_level = 2;
	e->start_ns = 123;
	ew_strlcpy(e->comm, comm, sizeof(e->comm));
	strcpy(e->cg_names[0], "abc");
	strcpy(e->cg_names[1], "docker");
}

/* What every decoded exec record says: exec_record()'s. */
static void assert_exec_decoded(const struct ew_event *ev, enum ew_event_type type, uint64_t ts_ns,
				const char *comm)
{
	assert_int_equal(ev->type, type);
	assert_int_equal(ev->time_ns, 1000000000000000000ULL + ts_ns);
	assert_int_equal(ev->pid, 42);
	assert_int_equal(ev->ppid, 7);
	assert_int_equal(ev->cgroup_id, 77);
	assert_int_equal(ev->start_boot_ns, 123);
	assert_string_equal(ev->cgroup, "/docker/abc");
	assert_string_equal(ev->comm, comm);
	assert_false(ev->reexec);
}

static void test_decode_exec(void **state)
{
	struct ew_exec_event e = {0};
	struct ew_event *ev = malloc(sizeof(*ev));

	(void)state;
	exec_record(&e, EW_EV_EXEC, sizeof(e), 5, "sh");
	memcpy(e.filename, "/bin/sh", 8);
	memcpy(e.argv0, "sh", 3);
	assert_int_equal(ew_decode(&e, sizeof(e), &ctx, ev), 0);
	assert_exec_decoded(ev, EW_EVENT_START, 5, "sh");
	e.hdr.flags = EW_EXEC_REEXEC;
	assert_int_equal(ew_decode(&e, sizeof(e), &ctx, ev), 0);
	assert_true(ev->reexec);
	/* A comm the kernel filled to the last byte is still terminated. */
	memset(e.comm, 'x', sizeof(e.comm));
	assert_int_equal(ew_decode(&e, sizeof(e), &ctx, ev), 0);
	assert_int_equal(strlen(ev->comm), EW_COMM_LEN - 1);
	free(ev);
}

static void test_decode_exit_with_tail(void **state)
{
	struct ew_exit_tail_event *t = calloc(1, sizeof(*t));
	struct ew_event *ev = malloc(sizeof(*ev));

	(void)state;
	t->ex.hdr = (struct ew_hdr){.kind = EW_EV_EXIT,
				    .flags = EW_EXIT_TAIL | EW_EXIT_READY | EW_EXIT_KILLER |
					     EW_EXIT_OOM,
				    .size = sizeof(*t),
				    .pid = 9,
				    .ts_ns = 10000,
				    .cgroup_id = 5};
	t->ex.exit_word = SIGNALED(SIGKILL);
	t->ex.uptime_ns = 4000; /* exec at 6000 */
	t->ex.ready_ns = 7000;
	t->ex.killer = (struct ew_killer){.pid = 1, .sig = SIGKILL, .cgroup_id = 1, .ts_ns = 9000};
	t->ex.stderr_total = 5;
	t->ex.children =
		(struct ew_children){.clean = 4, .failed = 3, .signaled = 2, .oom_killed = 1};
	memcpy(t->stderr_ring, "oops\n", 5);
	assert_int_equal(ew_decode(t, sizeof(*t), &ctx, ev), 0);
	assert_int_equal(ev->type, EW_EVENT_EXIT);
	assert_int_equal(ev->status.signal, SIGKILL);
	assert_true(ev->oom);
	assert_true(ev->ready);
	assert_int_equal(ev->startup_ns, 1000);
	assert_true(ev->has_killer);
	assert_int_equal(ev->killer.signal, SIGKILL);
	assert_false(ev->killer.caught);
	assert_int_equal(ev->tail_len, 5);
	assert_memory_equal(ev->tail, "oops\n", 5);
	assert_int_equal(ev->children.clean, 4);
	assert_int_equal(ev->children.failed, 3);
	assert_int_equal(ev->children.signaled, 2);
	assert_int_equal(ev->children.oom_killed, 1);
	/* The tail flag with the short size, or the long size without it: rejected. */
	t->ex.hdr.size = sizeof(t->ex);
	assert_int_equal(ew_decode(t, sizeof(t->ex), &ctx, ev), -EINVAL);
	t->ex.hdr.flags &= (uint8_t)~EW_EXIT_TAIL;
	t->ex.hdr.size = sizeof(*t);
	assert_int_equal(ew_decode(t, sizeof(*t), &ctx, ev), -EINVAL);
	/* The kernel's "the target had a handler" flag crosses as killer.caught. */
	t->ex.hdr.flags |= EW_EXIT_TAIL;
	t->ex.killer.sig = SIGTERM;
	t->ex.killer.flags = EW_KILLER_CAUGHT;
	assert_int_equal(ew_decode(t, sizeof(*t), &ctx, ev), 0);
	assert_int_equal(ev->killer.signal, SIGTERM);
	assert_true(ev->killer.caught);
	free(t);
	free(ev);
}

/*
 * A runtime's init that exited before its exec: the exec record's layout (the cgroup's names, the
 * init's comm) and its exit; classed start_failed whatever its code or configuration, with a
 * meaning of its own rather than the code's.
 */
static void test_decode_start_failed(void **state)
{
	struct ew_start_failed_event e = {0};
	struct ew_event *ev = malloc(sizeof(*ev));
	struct ew_class_config c;

	(void)state;
	exec_record(&e.ex, EW_EV_START_FAILED, sizeof(e), 900, "runc:[2:INIT]");
	e.exit_word = EXITED(1);
	e.uptime_ns = 777;
	assert_int_equal(ew_decode(&e, sizeof(e), &ctx, ev), 0);
	assert_exec_decoded(ev, EW_EVENT_START_FAILED, 900, "runc:[2:INIT]");
	assert_string_equal(ev->argv0, "");
	assert_int_equal(ev->exit_word, EXITED(1));
	assert_int_equal(ev->status.code, 1);
	assert_int_equal(ev->uptime_ns, 777);
	assert_false(ev->reexec);
	/* Its flags are none of the exec's: a set one is not a re-exec. */
	e.ex.hdr.flags = EW_EXEC_REEXEC;
	assert_int_equal(ew_decode(&e, sizeof(e), &ctx, ev), 0);
	assert_false(ev->reexec);

	ew_class_config_default(&c);
	ew_class_set_config_error(&c, 1, true);
	assert_int_equal(ew_exit_classify(ev, &c), EW_CLASS_START_FAILED);
	assert_string_equal(ew_exit_class_name(EW_CLASS_START_FAILED), "start_failed");
	assert_int_equal(ew_exit_class_parse("start_failed"), EW_CLASS_START_FAILED);
	assert_non_null(strstr(ew_exit_meaning(ev, &c), "never ran"));
	/* The same code from an exit is the application's. */
	ev->type = EW_EVENT_EXIT;
	assert_int_equal(ew_exit_classify(ev, &c), EW_CLASS_CONFIG_ERROR);

	/* An exec record's size, or one byte more, under its kind: refused. */
	e.ex.hdr.size = sizeof(e.ex);
	assert_int_equal(ew_decode(&e, sizeof(e.ex), &ctx, ev), -EINVAL);
	e.ex.hdr.size = sizeof(e) + 1;
	assert_int_equal(ew_decode(&e, sizeof(e) + 1, &ctx, ev), -EINVAL);
	free(ev);
}

/* Whatever bytes arrive, a record either decodes or is refused: never a crash or overread. */
static void test_decode_rejects_bad_records(void **state)
{
	struct ew_event *ev = malloc(sizeof(*ev));
	unsigned char buf[sizeof(struct ew_exit_tail_event)] = {0};
	struct ew_hdr *h = (struct ew_hdr *)buf;

	(void)state;
	assert_int_equal(ew_decode(buf, 3, &ctx, ev), -EINVAL); /* shorter than a header */
	h->kind = 99;
	h->size = sizeof(struct ew_hdr);
	assert_int_equal(ew_decode(buf, sizeof(struct ew_hdr), &ctx, ev), -EINVAL);
	h->kind = EW_EV_EXEC;
	h->size = 100; /* the header lies about the size */
	assert_int_equal(ew_decode(buf, sizeof(struct ew_exec_event), &ctx, ev), -EINVAL);
	h->size = 100;
	assert_int_equal(ew_decode(buf, 100, &ctx, ev), -EINVAL); /* wrong size for its kind */
	h->kind = EW_EV_READY;
	h->size = sizeof(struct ew_ready_event) + 1;
	assert_int_equal(ew_decode(buf, sizeof(struct ew_ready_event) + 1, &ctx, ev), -EINVAL);
	free(ev);
}

static struct ew_event *exit_event(uint32_t word)
{
	struct ew_event *ev = calloc(1, sizeof(*ev));

	ev->type = EW_EVENT_EXIT;
	ev->exit_word = word;
	ev->status = ew_exit_decode(word);
	return ev;
}

static void test_classes(void **state)
{
	static const struct {
		uint32_t word;
		bool oom;
		int killer_sig;
		enum ew_exit_class cls;
		uint64_t child_oom; /* children.oom_killed in the run */
	} cases[] = {
		{EXITED(0), false, 0, EW_CLASS_CLEAN, 0},
		{EXITED(3), false, 0, EW_CLASS_CONFIG_ERROR, 0},
		{EXITED(1), false, 0, EW_CLASS_APP_ERROR, 0},
		{EXITED(126), false, 0, EW_CLASS_NOT_EXECUTABLE, 0},
		{EXITED(127), false, 0, EW_CLASS_NOT_FOUND, 0},
		{EXITED(137), false, 0, EW_CLASS_KILLED, 0},
		{EXITED(143), false, 0, EW_CLASS_TERMINATED, 0},
		{EXITED(130), false, 0, EW_CLASS_TERMINATED, 0},
		{EXITED(139), false, 0, EW_CLASS_CRASH, 0},
		{SIGNALED(SIGSEGV), false, 0, EW_CLASS_CRASH, 0},
		{DUMPED(SIGABRT), false, 0, EW_CLASS_CRASH, 0},
		{DUMPED(SIGQUIT), false, 0, EW_CLASS_CRASH, 0},
		{SIGNALED(SIGQUIT), false, 0, EW_CLASS_TERMINATED, 0},
		{SIGNALED(SIGTERM), false, 0, EW_CLASS_TERMINATED, 0},
		{SIGNALED(SIGKILL), false, 0, EW_CLASS_KILLED, 0},
		{SIGNALED(SIGPIPE), false, 0, EW_CLASS_KILLED, 0},
		{SIGNALED(SIGKILL), true, 0, EW_CLASS_OOM_KILLED, 0},
		{EXITED(1), false, SIGTERM, EW_CLASS_TERMINATED, 0},   /* exits 1 after a stop */
		{EXITED(3), false, SIGTERM, EW_CLASS_CONFIG_ERROR, 0}, /* still a config error */
		{EXITED(1), false, SIGUSR1, EW_CLASS_APP_ERROR, 0},
		/* An init wrapper (tini, dumb-init) reports its OOM-killed child as 128+9. */
		{EXITED(137), false, 0, EW_CLASS_OOM_KILLED, 1},
		{EXITED(137), false, SIGTERM, EW_CLASS_OOM_KILLED, 1},
		{SIGNALED(SIGKILL), false, 0, EW_CLASS_OOM_KILLED, 2},
		/* ... but not when another process SIGKILLed the main itself, or the code is not
		 * 137: its children's OOM kills did not end it. */
		{SIGNALED(SIGKILL), false, SIGKILL, EW_CLASS_KILLED, 1},
		{EXITED(0), false, 0, EW_CLASS_CLEAN, 1},
		{EXITED(1), false, 0, EW_CLASS_APP_ERROR, 1},
		{EXITED(143), false, 0, EW_CLASS_TERMINATED, 1},
		{SIGNALED(SIGTERM), false, 0, EW_CLASS_TERMINATED, 1},
	};
	struct ew_class_config c;

	(void)state;
	ew_class_config_default(&c);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ew_event *ev = exit_event(cases[i].word);

		ev->oom = cases[i].oom;
		ev->has_killer = cases[i].killer_sig != 0;
		ev->killer.signal = cases[i].killer_sig;
		ev->children.oom_killed = cases[i].child_oom;
		ev->children.signaled = cases[i].child_oom;
		if (ew_exit_classify(ev, &c) != cases[i].cls)
			fail_msg("case %zu (status %#x, child OOM kills %llu): class %s, want %s",
				 i, cases[i].word, (unsigned long long)cases[i].child_oom,
				 ew_exit_class_name(ew_exit_classify(ev, &c)),
				 ew_exit_class_name(cases[i].cls));
		free(ev);
	}
	/* Configured codes: 4 becomes a config error, 3 stops being one. */
	ew_class_set_config_error(&c, 4, true);
	ew_class_set_config_error(&c, 3, false);
	{
		struct ew_event *a = exit_event(EXITED(4)), *b = exit_event(EXITED(3));

		assert_int_equal(ew_exit_classify(a, &c), EW_CLASS_CONFIG_ERROR);
		assert_int_equal(ew_exit_classify(b, &c), EW_CLASS_APP_ERROR);
		free(a);
		free(b);
	}
	assert_string_equal(ew_exit_class_name(EW_CLASS_OOM_KILLED), "oom_killed");
	assert_int_equal(ew_exit_class_parse("not_found"), EW_CLASS_NOT_FOUND);
	assert_int_equal(ew_exit_class_parse("nope"), -EINVAL);
}

#define S(n) ((uint64_t)(n)*1000000000ULL)

/* Who sent the last fatal signal is named only when that signal ended the process. */
static void test_killer_attribution(void **state)
{
	static const struct {
		const char *what;
		uint32_t word;
		int sig;
		bool caught;
		uint64_t after_ns; /* exit this long after the signal */
		bool named;
	} cases[] = {
		{"died of the SIGKILL", SIGNALED(SIGKILL), SIGKILL, false, S(3600), true},
		{"died of an uncaught SIGHUP", SIGNALED(SIGHUP), SIGHUP, false, S(1), true},
		{"died of SIGXCPU", DUMPED(SIGXCPU), SIGXCPU, false, S(0), true},
		{"SIGHUP trapped, exit 1 2s later", EXITED(1), SIGHUP, true, S(2), false},
		{"SIGUSR1 trapped, exit 0", EXITED(0), SIGUSR1, true, 0, false},
		{"SIGTERM caught, exit 143 in the grace", EXITED(143), SIGTERM, true, S(2), true},
		{"SIGINT caught, exit 1 in the grace", EXITED(1), SIGINT, true, S(29), true},
		{"SIGQUIT caught, exit 0 in the grace", EXITED(0), SIGQUIT, true, S(1), true},
		{"SIGTERM caught, exit at the grace", EXITED(1), SIGTERM, true, S(30), true},
		{"SIGTERM caught, exit past the grace", EXITED(1), SIGTERM, true, S(30) + 1, false},
		{"SIGTERM caught an hour ago", EXITED(143), SIGTERM, true, S(3600), false},
		{"SIGTERM not caught, exit by code", EXITED(1), SIGTERM, false, S(1), false},
		{"SIGTERM caught, then a crash", SIGNALED(SIGSEGV), SIGTERM, true, S(1), true},
		{"SIGHUP trapped, then SIGSEGV", SIGNALED(SIGSEGV), SIGHUP, true, S(1), false},
	};
	struct ew_class_config c;

	(void)state;
	ew_class_config_default(&c);
	assert_int_equal(c.killer_grace_ns, S(30));
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ew_event *ev = exit_event(cases[i].word);

		ev->time_ns = S(10000) + cases[i].after_ns;
		ev->has_killer = true;
		ev->killer.signal = cases[i].sig;
		ev->killer.caught = cases[i].caught;
		ev->killer.time_ns = S(10000);
		if (ew_killer_attributable(ev, &c) != cases[i].named)
			fail_msg("%s: named %d, want %d", cases[i].what, !cases[i].named,
				 cases[i].named);
		free(ev);
	}
	/* No killer, or a stamp after the exit: nothing to name. */
	{
		struct ew_event *ev = exit_event(EXITED(1));

		assert_false(ew_killer_attributable(ev, &c));
		ev->has_killer = true;
		ev->killer =
			(struct ew_killer_info){.signal = SIGTERM, .caught = true, .time_ns = S(5)};
		ev->time_ns = S(4);
		assert_false(ew_killer_attributable(ev, &c));
		/* killer_grace = 0: a caught stop signal never explains an exit by code. */
		ev->time_ns = S(5);
		assert_true(ew_killer_attributable(ev, &c));
		c.killer_grace_ns = 0;
		assert_false(ew_killer_attributable(ev, &c));
		ev->status = ew_exit_decode(SIGNALED(SIGTERM));
		assert_true(ew_killer_attributable(ev, &c));
		free(ev);
	}
}

static void test_meanings(void **state)
{
	struct ew_class_config c;
	struct ew_event *ev = exit_event(EXITED(3));

	(void)state;
	ew_class_config_default(&c);
	assert_non_null(strstr(ew_exit_meaning(ev, &c), "configuration"));
	ev->status = ew_exit_decode(SIGNALED(SIGSEGV));
	assert_string_equal(ew_exit_meaning(ev, &c), "segmentation fault (SIGSEGV)");
	ev->oom = true;
	assert_non_null(strstr(ew_exit_meaning(ev, &c), "OOM"));
	ev->oom = false;
	/* 137 from an init wrapper whose child the OOM killer chose: the OOM kill, and by whom. */
	ev->status = ew_exit_decode(EXITED(137));
	assert_non_null(strstr(ew_exit_meaning(ev, &c), "SIGKILL as a shell"));
	ev->children.oom_killed = 1;
	assert_non_null(strstr(ew_exit_meaning(ev, &c), "OOM killer"));
	assert_non_null(strstr(ew_exit_meaning(ev, &c), "tini"));
	ev->children.oom_killed = 0;
	ev->status = ew_exit_decode(EXITED(42));
	assert_null(ew_exit_meaning(ev, &c));
	strcpy(c.meanings[42], "the answer");
	assert_string_equal(ew_exit_meaning(ev, &c), "the answer");
	free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_word),
		cmocka_unit_test(test_signal_names),
		cmocka_unit_test(test_cgroup_join),
		cmocka_unit_test(test_tail_unroll),
		cmocka_unit_test(test_event_clear),
		cmocka_unit_test(test_decode_exec),
		cmocka_unit_test(test_decode_exit_with_tail),
		cmocka_unit_test(test_decode_start_failed),
		cmocka_unit_test(test_decode_rejects_bad_records),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_killer_attribution),
		cmocka_unit_test(test_meanings),
	};

	return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
