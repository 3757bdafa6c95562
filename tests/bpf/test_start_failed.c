// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A container whose command never ran, against the real BPF programs. runc's init joins the
 * container's cgroup from outside, names itself "runc:[2:INIT]" and would exec the command; when
 * it cannot (not found, not executable, a bad working directory), it exits 1 instead, having
 * exec'd nothing, and runc removes the cgroup. Here the test plays runc: a child that joins a
 * service-shaped cgroup, takes that name, starts a few threads as runc's Go runtime has, and
 * exits. No Docker, so the kernel matrix's guests run it too (test_docker has a real `docker run`
 * of a missing command, tests/cri/lifecycle.py the kubelet's RunContainerError loop). Needs root;
 * under CI=true a skip is a failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "exitwatch/util/util.h"
#include "harness/harness.h"

#define RUNC_INIT "runc:[2:INIT]"

static int setup(void **state)
{
	return ew_h_fixture_setup(state, "startfail");
}

static int teardown(void **state)
{
	return ew_h_fixture_teardown(state);
}

static void start_agent(struct ew_h_fixture *f)
{
	ew_h_agent_start(&f->agent, (const char *const[]){"--agent-interval", "1h", NULL});
}

/* "<base>/system.slice/<unit>": a unit's identity is its name, the same at each attempt. */
static void unit_cgroup(const struct ew_h_fixture *f, const char *unit, char *rel, size_t len)
{
	snprintf(rel, len, "%s/system.slice/%s", f->s.base, unit);
	assert_int_equal(ew_h_cgroup_make(rel), 0);
}

static void *block(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

enum init_end {
	END_EXIT_1,
	END_EXIT_0,
	END_SIGKILL
};

/*
 * A runtime's init in cgroup rel: joins it from outside (its parent, this test, stays where it
 * is), takes comm (RUNC_INIT, or another name), starts three threads, then ends as told, the
 * threads with it (exit_group()). Waits for it.
 */
static void fake_init(const char *rel, const char *comm, enum init_end end)
{
	char procs[512];
	pid_t pid;
	int st;

	snprintf(procs, sizeof(procs), "%s%s/cgroup.procs", ew_h_cgroup_root(), rel);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(procs, O_WRONLY);
		pthread_t t;

		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(100);
		close(fd);
		prctl(PR_SET_NAME, comm);
		for (int i = 0; i < 3; i++)
			pthread_create(&t, NULL, block, NULL);
		if (end == END_SIGKILL)
			raise(SIGKILL);
		exit(end == END_EXIT_1 ? 1 : 0);
	}
	st = ew_h_wait_pid(pid, 10000);
	if (end == END_SIGKILL)
		assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	else
		assert_int_equal(WEXITSTATUS(st), end == END_EXIT_1 ? 1 : 0);
}

#define CRUN_MEMFD "memfd:crun_clon" /* crun running its sealed copy: "memfd:crun_cloned" */

/*
 * crun's way: a process named as crun makes the init, named as crun too, in cgroup rel, where
 * it waits. by_parent: crun is told its init failed and SIGKILLs it. Else crun leaves it
 * created, as `crun create` does (its parent is then another process: the reaper), and a
 * `crun delete -f` of the container never started SIGKILLs it: this test.
 */
static void fake_crun(const char *rel, bool by_parent)
{
	char procs[512], path[64];
	int gate[2], out[2], st;
	pid_t crun, init = 0;

	snprintf(procs, sizeof(procs), "%s%s/cgroup.procs", ew_h_cgroup_root(), rel);
	assert_int_equal(pipe(out), 0);
	crun = fork();
	assert_true(crun >= 0);
	if (crun == 0) {
		char c;
		int fd;

		prctl(PR_SET_NAME, CRUN_MEMFD);
		if (pipe(gate))
			_exit(100);
		init = fork();
		if (init < 0)
			_exit(101);
		if (init == 0) {
			fd = open(procs, O_WRONLY);
			if (fd < 0 || write(fd, "0", 1) != 1)
				_exit(102);
			close(fd);
			close(gate[0]);
			close(gate[1]); /* in the cgroup */
			for (;;)
				pause();
		}
		close(gate[1]);
		if (read(gate[0], &c, 1) != 0)
			_exit(103);
		if (by_parent) {
			kill(init, SIGKILL);
			waitpid(init, &st, 0);
			_exit(1);
		}
		if (write(out[1], &init, sizeof(init)) != sizeof(init))
			_exit(104);
		_exit(0);
	}
	close(out[1]);
	st = ew_h_wait_pid(crun, 10000);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), by_parent ? 1 : 0);
	if (!by_parent) {
		assert_int_equal(read(out[0], &init, sizeof(init)), sizeof(init));
		assert_int_equal(kill(init, SIGKILL), 0);
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)init);
		for (int i = 0; i < 2000 && access(path, F_OK) == 0; i++)
			usleep(5000);
	}
	close(out[0]);
}

static bool is_unit_exit(json_object *o, const void *arg)
{
	const char *ev = ew_h_str(o, "event"), *idn = ew_h_str(o, "container.identity");

	return ev && idn && !strcmp(ev, "container_exit") && strstr(idn, (const char *)arg);
}

static bool is_unit_start(json_object *o, const void *arg)
{
	const char *ev = ew_h_str(o, "event"), *idn = ew_h_str(o, "container.identity");

	return ev && idn && !strcmp(ev, "container_start") && strstr(idn, (const char *)arg);
}

static bool is_unit_crash_loop(json_object *o, const void *arg)
{
	const char *ev = ew_h_str(o, "event"), *rule = ew_h_str(o, "rule");
	const char *idn = ew_h_str(o, "container.identity");

	return ev && rule && idn && !strcmp(ev, "finding") && !strcmp(rule, "crash_loop") &&
	       strstr(idn, (const char *)arg);
}

/*
 * Four attempts of one unit whose init exits 1, as a restart policy retries a missing command:
 * one container_exit each (its threads do not make it several), of class start_failed, with the
 * init's name and code (runc's, then crun's, which keeps its own); no container_start; and the
 * crash loop they make fires. Then crun's other way: its init SIGKILLed by crun.
 */
static void test_init_exit_is_failed_start(void **state)
{
	struct ew_h_fixture *f = *state;
	const char *unit = ew_h_unit("nocmd");
	char rel[512], unit_id[128];
	size_t from = 0;

	snprintf(unit_id, sizeof(unit_id), "%s", unit);
	start_agent(f);
	unit_cgroup(f, unit_id, rel, sizeof(rel));
	/* runc's init; crun's as "crun", and as an exec from descriptor 3 is named before 6.x. */
	static const char *const comms[] = {RUNC_INIT, RUNC_INIT, "crun", "3"};

	for (size_t i = 0; i < ARRAY_SIZE(comms); i++) {
		const char *comm = comms[i];
		json_object *o;

		fake_init(rel, comm, END_EXIT_1);
		o = ew_h_wait(&f->agent, is_unit_exit, unit_id, &from, 10000);
		if (!o)
			fail_msg("attempt %zu: no container_exit of %s", i, unit_id);
		assert_string_equal(ew_h_str(o, "exit.class"), "start_failed");
		assert_int_equal(ew_h_int(o, "exit.code", -1), 1);
		assert_int_equal(ew_h_int(o, "exit.signal", -1), 0);
		assert_string_equal(ew_h_str(o, "severity"), "WARNING");
		assert_string_equal(ew_h_str(o, "process.comm"), comm);
		assert_false(ew_h_bool(o, "startup.succeeded", true));
		assert_true(ew_h_double(o, "uptime_s", -1) >= 0);
		assert_non_null(strstr(ew_h_str(o, "message"), " failed to start: its runtime's "
							       "init exited with code 1"));
		assert_null(ew_h_get(o, "stderr_tail"));
		/* The cgroup goes at once, as runc removes it: the names were the kernel's. */
		ew_h_cgroup_remove_tree(rel);
		assert_int_equal(ew_h_cgroup_make(rel), 0);
	}
	if (!ew_h_wait(&f->agent, is_unit_crash_loop, unit_id, NULL, 10000))
		fail_msg("no crash_loop finding of %s", unit_id);
	{
		json_object *o;

		fake_crun(rel, true);
		o = ew_h_wait(&f->agent, is_unit_exit, unit_id, &from, 10000);
		if (!o)
			fail_msg("crun: no container_exit of %s", unit_id);
		assert_string_equal(ew_h_str(o, "exit.class"), "start_failed");
		assert_int_equal(ew_h_int(o, "exit.signal", -1), SIGKILL);
		assert_string_equal(ew_h_str(o, "process.comm"), CRUN_MEMFD);
		assert_non_null(strstr(ew_h_str(o, "message"),
				       " failed to start: its runtime killed its init with SIGKILL "
				       "(start_failed) after "));
		assert_non_null(strstr(ew_h_str(o, "message"), "its command never ran"));
		assert_null(ew_h_get(o, "killed_by"));
		ew_h_cgroup_remove_tree(rel);
	}
	ew_h_agent_pump(&f->agent, 300);
	assert_int_equal(ew_h_count(&f->agent, is_unit_exit, unit_id), 5);
	assert_int_equal(ew_h_count(&f->agent, is_unit_start, unit_id), 0);
	ew_h_cgroup_remove_tree(rel);
}

/*
 * What is not a failed start: an init killed by a signal (`runc delete` of a container never
 * started), one that exits 0, crun's init SIGKILLed when crun is no longer its parent (`crun
 * delete -f` after `crun create`), another program's exit 1 in a cgroup without a main, an init's
 * exit 1 in a running container's cgroup (a failed `runc exec`: a child's exit), and one in the
 * cgroup of a container whose main has just exited (a `runc exec`, an exec probe, that lost the
 * race with the exit: no main any more, but one ran there). Then one real failure as a marker:
 * once its record is in, the others would have been too.
 */
static void test_what_is_not_a_failed_start(void **state)
{
	struct ew_h_fixture *f = *state;
	const char *units[] = {ew_h_unit("initkill"), ew_h_unit("initzero"), ew_h_unit("other"),
			       ew_h_unit("crundel"),  ew_h_unit("running"),  ew_h_unit("ended"),
			       ew_h_unit("marker")};
	char rel[7][512], names[7][128];
	json_object *o;
	pid_t main_pid;
	int st;

	for (int i = 0; i < 7; i++)
		snprintf(names[i], sizeof(names[i]), "%s", units[i]);
	start_agent(f);
	for (int i = 0; i < 7; i++)
		unit_cgroup(f, names[i], rel[i], sizeof(rel[i]));
	fake_init(rel[0], RUNC_INIT, END_SIGKILL);
	fake_init(rel[1], RUNC_INIT, END_EXIT_0);
	fake_init(rel[2], "runc:[1:CHILD]", END_EXIT_1);
	fake_crun(rel[3], false);

	main_pid = ew_h_spawn_in(rel[4], EW_H_WL("pause"), -1, false, NULL);
	assert_true(main_pid > 0);
	if (!ew_h_wait(&f->agent, is_unit_start, names[4], NULL, 10000))
		fail_msg("no container_start of %s", names[4]);
	fake_init(rel[4], RUNC_INIT, END_EXIT_1);
	kill(main_pid, SIGTERM);
	st = ew_h_wait_pid(main_pid, 10000);
	assert_true(WIFSIGNALED(st) || WIFEXITED(st));
	o = ew_h_wait(&f->agent, is_unit_exit, names[4], NULL, 10000);
	if (!o)
		fail_msg("no container_exit of %s", names[4]);
	assert_string_equal(ew_h_str(o, "process.comm"), "workload");
	assert_string_not_equal(ew_h_str(o, "exit.class"), "start_failed");
	assert_int_equal(ew_h_int(o, "children.failed", -1), 1);

	main_pid = ew_h_spawn_in(rel[5], EW_H_WL("exit", "0"), -1, false, NULL);
	assert_true(main_pid > 0);
	assert_true(ew_h_wait_pid(main_pid, 10000) >= 0);
	if (!ew_h_wait(&f->agent, is_unit_exit, names[5], NULL, 10000))
		fail_msg("no container_exit of %s", names[5]);
	fake_init(rel[5], RUNC_INIT, END_EXIT_1);

	fake_init(rel[6], RUNC_INIT, END_EXIT_1);
	if (!ew_h_wait(&f->agent, is_unit_exit, names[6], NULL, 10000))
		fail_msg("no container_exit of the marker %s", names[6]);
	ew_h_agent_pump(&f->agent, 300);
	for (int i = 0; i < 4; i++) {
		if (ew_h_count(&f->agent, is_unit_exit, names[i]) ||
		    ew_h_count(&f->agent, is_unit_start, names[i]))
			fail_msg("%s: a record, for what is not a container", names[i]);
	}
	assert_int_equal(ew_h_count(&f->agent, is_unit_exit, names[4]), 1);
	assert_int_equal(ew_h_count(&f->agent, is_unit_exit, names[5]), 1);
	for (int i = 0; i < 7; i++)
		ew_h_cgroup_remove_tree(rel[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_exit_is_failed_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_what_is_not_a_failed_start, setup, teardown),
	};

	ew_h_require_bpf();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
