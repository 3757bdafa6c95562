// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What the sweep reads of /proc, over made-up proc trees built in a temporary directory (the
 * live /proc is never read): start times, the pid namespace check, and the alive() verdict that
 * decides whether a kernel entry is deleted.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "exitwatch/ingest/procstat.h"
#include "exitwatch/util/util.h"
#include "harness/unit.h"

struct tree {
	char root[64];
};

/* A stat line whose comm holds spaces and parentheses: state in field 3, flags in 9,
 * num_threads in 20, start time in 22. 4194560 is PF_RANDOMIZE|PF_FORKNOEXEC, 4194564 the same
 * with PF_EXITING (4): in do_exit(). */
#define STATF(pid, comm, state, flags, threads, start)            \
	pid " (" comm ") " state " 1 " pid " " pid " 0 -1 " flags \
	    " 102 0 0 0 0 0 0 0 20 0 " threads " 0 " start        \
	    " 6184960 420 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
#define STATX(pid, comm, state, threads, start)	  STATF(pid, comm, state, "4194560", threads, start)
#define EXITING(pid, comm, state, threads, start) STATF(pid, comm, state, "4194564", threads, start)
#define STAT(pid, comm, start)			  STATX(pid, comm, "S", "1", start)

static void put(const struct tree *t, const char *rel, const char *text)
{
	char path[256], dir[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	ew_strlcpy(dir, path, sizeof(dir));
	*strrchr(dir, '/') = '\0';
	/* Parents first: "host/406/task/407/stat" */
	for (char *sl = strchr(dir + strlen(t->root) + 1, '/'); sl; sl = strchr(sl + 1, '/')) {
		*sl = '\0';
		mkdir(dir, 0755);
		*sl = '/';
	}
	mkdir(dir, 0755);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	char sub[128];

	if (!t)
		return -1;
	snprintf(t->root, sizeof(t->root), "/tmp/ew-procstat-XXXXXX");
	if (!mkdtemp(t->root))
		return -1;
	for (const char *d = "host\0container\0old\0"; *d; d += strlen(d) + 1) {
		snprintf(sub, sizeof(sub), "%s/%s", t->root, d);
		mkdir(sub, 0755);
	}
	put(t, "host/1/status", "Name:\tsystemd\nTgid:\t1\nNSpid:\t1\nNSsid:\t1\n");
	put(t, "host/100/stat", STAT("100", "my (odd) comm) x", "12345"));
	put(t, "host/200/stat", "garbage, not a stat line\n");
	put(t, "host/300/stat", "300 (trunc) S 1 2 3\n");
	/* A zombie whose threads are all gone; a leader that exited while 2 threads live on. */
	put(t, "host/400/stat", STATX("400", "z) Z (", "Z", "1", "500"));
	put(t, "host/401/stat", STATX("401", "leader", "Z", "3", "501"));
	put(t, "host/402/stat", STATX("402", "dead", "X", "1", "502"));
	put(t, "host/403/stat", STATX("403", "threads", "R", "8", "503"));
	/* In do_exit() (PF_EXITING): a leader still running it, one in uninterruptible sleep in
	 * it (unmapping its memory), a zombie leader whose last thread is in it, and a zombie
	 * leader whose other thread lives on. */
	put(t, "host/404/stat", EXITING("404", "exiting", "R", "1", "504"));
	put(t, "host/405/stat", EXITING("405", "unmapping", "D", "1", "505"));
	put(t, "host/406/stat", EXITING("406", "lead", "Z", "2", "506"));
	put(t, "host/406/task/406/stat", EXITING("406", "lead", "Z", "2", "506"));
	put(t, "host/406/task/407/stat", EXITING("407", "last", "R", "2", "507"));
	put(t, "host/408/stat", EXITING("408", "lead", "Z", "2", "508"));
	put(t, "host/408/task/408/stat", EXITING("408", "lead", "Z", "2", "508"));
	put(t, "host/408/task/409/stat", STATX("409", "worker", "S", "2", "509"));
	put(t, "container/1/status", "Name:\tinit\nNSpid:\t4242\t1\n");
	put(t, "old/1/status", "Name:\tinit\nPid:\t1\n");
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;
	int r = ew_t_remove_tree(t->root);

	free(t);
	return r < 0 ? -1 : 0;
}

static void test_start_ticks(void **state)
{
	struct tree *t = *state;
	static const struct {
		const char *sub;
		uint32_t pid;
		int ret;
		uint64_t ticks;
	} cases[] = {
		{"host", 100, 0, 12345},
		{"host", 101, -ESRCH, 0},   /* no such process */
		{"host", 200, -EINVAL, 0},  /* no ')' */
		{"host", 300, -EINVAL, 0},  /* cut short before field 22 */
		{"nowhere", 100, -ESRCH, 0} /* no such proc root at all */
	};
	char root[128];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t ticks = 0;

		snprintf(root, sizeof(root), "%s/%s", t->root, cases[i].sub);
		assert_int_equal(ew_procstat_start_ticks(root, cases[i].pid, &ticks), cases[i].ret);
		if (!cases[i].ret)
			assert_int_equal(ticks, cases[i].ticks);
	}
}

static void test_alive(void **state)
{
	struct tree *t = *state;
	char root[128];

	snprintf(root, sizeof(root), "%s/host", t->root);
	assert_true(ew_procstat_alive(root, 100, 12345));
	/* The pid is another process now (a different start): the entry's main is gone. */
	assert_false(ew_procstat_alive(root, 100, 12346));
	assert_false(ew_procstat_alive(root, 101, 12345));
	/* Unreadable or unparsable: no evidence, so it counts as alive. */
	assert_true(ew_procstat_alive(root, 200, 1));
	assert_true(ew_procstat_alive(root, 300, 1));
}

/* The start-up scan's re-check: whether the kernel's exit hook has run, may be running, or has
 * not yet begun. */
static void test_phase(void **state)
{
	struct tree *t = *state;
	static const struct {
		uint32_t pid;
		uint64_t ticks;
		enum ew_proc_phase phase;
	} cases[] = {
		{100, 12345, EW_PROC_RUNNING}, /* sleeping */
		{100, 12346, EW_PROC_EXITED},  /* another process has the pid */
		{101, 12345, EW_PROC_EXITED},  /* gone */
		{400, 500, EW_PROC_EXITED},    /* a zombie: every thread has exited */
		{401, 501, EW_PROC_RUNNING}, /* the leader exited, its threads have not begun to */
		{402, 502, EW_PROC_EXITED},  /* being reaped */
		{403, 503, EW_PROC_RUNNING}, /* running, 8 threads */
		{404, 504, EW_PROC_EXITING}, /* in do_exit() */
		{405, 505, EW_PROC_EXITING}, /* in do_exit(), sleeping there */
		{406, 506, EW_PROC_EXITING}, /* its last thread is in do_exit() */
		{408, 508, EW_PROC_RUNNING}, /* its other thread lives on */
		{404, 1, EW_PROC_EXITED},    /* in do_exit(), but another process than asked */
		{200, 1, EW_PROC_RUNNING},   /* unparsable: no evidence, running */
		{300, 1, EW_PROC_RUNNING},   /* cut short: no evidence, running */
	};
	char root[128];

	snprintf(root, sizeof(root), "%s/host", t->root);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		enum ew_proc_phase got = ew_procstat_phase(root, cases[i].pid, cases[i].ticks);

		if (got != cases[i].phase)
			fail_msg("pid %u start %llu: phase %d, want %d", cases[i].pid,
				 (unsigned long long)cases[i].ticks, got, cases[i].phase);
	}
	/* The sweep's verdict on a zombie stays "alive": it may not have been reaped yet. */
	assert_true(ew_procstat_alive(root, 400, 500));
}

static void test_host_pidns(void **state)
{
	struct tree *t = *state;
	static const struct {
		const char *sub;
		int ret;
	} cases[] = {
		{"host", 1},	      /* NSpid with one entry */
		{"container", 0},     /* the container's init: two entries */
		{"old", -ENOENT},     /* no NSpid line (before 4.1) */
		{"nowhere", -ENOENT}, /* no such file */
	};
	char root[128];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(root, sizeof(root), "%s/%s", t->root, cases[i].sub);
		assert_int_equal(ew_procstat_host_pidns(root), cases[i].ret);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_ticks),
		cmocka_unit_test(test_alive),
		cmocka_unit_test(test_phase),
		cmocka_unit_test(test_host_pidns),
	};

	return cmocka_run_group_tests_name("procstat", tests, setup, teardown);
}
