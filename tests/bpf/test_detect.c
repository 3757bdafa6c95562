// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Detection end to end: the real BPF programs and the real binary, with short windows from a
 * config file, so a crash loop, its finding and its resolution take seconds. Also start-up
 * tracking (listen()), record/replay, and the state file across an agent crash.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness/harness.h"

struct fixture {
	struct ew_h_agent agent;
	struct ew_h_scratch s; /* its cgroup subtree and scratch directory */
	char conf[128];
};

/* Short windows: burst = more than 3 exits with code 3 in 30 s, resolved after 3 s quiet. */
static const char short_windows[] = "[rule.exit_code_burst]\n"
				    "window = 30s\n"
				    "resolve = 3s\n"
				    "[rule.restart_rate]\n"
				    "window = 30s\n"
				    "resolve = 4s\n"
				    "[rule.startup_failure_rate]\n"
				    "enabled = false\n"
				    "[agent]\n"
				    "startup_grace = 2s\n"
				    "checkpoint_interval = 1s\n";

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	ew_h_scratch_make(&f->s, "detect");
	ew_h_scratch_file(&f->s, "exitwatch.conf", short_windows, f->conf, sizeof(f->conf));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ew_h_agent_kill(&f->agent);
	ew_h_scratch_clean(&f->s);
	free(f);
	return 0;
}

/* The harness passes --config /dev/null first; this later --config wins. */
static void start_agent(struct fixture *f, const char *a1, const char *a2)
{
	/* Bare cgroups have no runtime log: stderr tails are the kernel capture's. */
	ew_h_agent_start(&f->agent, (const char *const[]){"--config", f->conf, "--agent-interval",
							  "1h", "--stderr-kernel", a1, a2, NULL});
}

#define WL EW_H_WL

#define U ew_h_unit

static const char *SFX(const char *name)
{
	static char buf[8][100];
	static int i;
	char *b = buf[i++ % 8];

	snprintf(b, sizeof(buf[0]), "/%s", U(name));
	return b;
}

static void run_once(struct fixture *f, const char *unit, char *const argv[])
{
	ew_h_run_unit(f->s.base, unit, argv);
}

/*
 * A record of this test process's services only ("ewtest-<name>-<pid>.service", U()): the
 * agent sees the whole machine, where another run of these tests may loop at the same time.
 */
static bool is_rule(json_object *o, const void *arg)
{
	const char *ev = ew_h_str(o, "event"), *rule = ew_h_str(o, "rule");
	const char *ident = ew_h_str(o, "container.identity");
	const char *const *want = arg; /* { event, rule } */
	char own[32];

	snprintf(own, sizeof(own), "-%d.service", getpid());
	return ev && rule && ident && !strcmp(ev, want[0]) && !strcmp(rule, want[1]) &&
	       strlen(ident) > strlen(own) && !strcmp(ident + strlen(ident) - strlen(own), own);
}

/* A rule's records of one unit's identity only: other tests on the machine crash-loop too. */
static bool is_rule_of(json_object *o, const void *arg)
{
	const char *const *want = arg; /* { event, rule, unit } */
	const char *idn = ew_h_str(o, "container.identity");

	return is_rule(o, arg) && idn && strstr(idn, want[2]);
}

static size_t count_rule_of(struct fixture *f, const char *event, const char *rule,
			    const char *unit)
{
	const char *want[] = {event, rule, unit};

	return ew_h_count(&f->agent, is_rule_of, want);
}

static json_object *wait_rule_of(struct fixture *f, const char *event, const char *rule,
				 const char *unit, int ms)
{
	const char *want[] = {event, rule, unit};
	json_object *o = ew_h_wait(&f->agent, is_rule_of, want, NULL, ms);

	if (!o)
		fail_msg("no %s of rule %s for %s within %d ms", event, rule, unit, ms);
	return o;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Four exits with code 3: one CRITICAL finding, then one resolution. */
static void test_burst_fires_once_then_resolves(void **state)
{
	struct fixture *f = *state;
	json_object *fi, *re;
	double t_exit;

	ew_h_require_bpf();
	start_agent(f, NULL, NULL);
	for (int i = 0; i < 3; i++)
		run_once(f, U("loop"),
			 WL("stderr", "3", "Traceback (most recent call last):",
			    "ModuleNotFoundError: No module named 'app'"));
	ew_h_agent_pump(&f->agent, 300);
	assert_int_equal(count_rule_of(f, "finding", "exit_code_burst", U("loop")), 0);
	run_once(f, U("loop"),
		 WL("stderr", "3", "Traceback (most recent call last):",
		    "ModuleNotFoundError: No module named 'app'"));
	t_exit = now_s();
	fi = wait_rule_of(f, "finding", "exit_code_burst", U("loop"), 5000);
	print_message("detection latency (exit reaped -> finding line read): %.1f ms\n",
		      (now_s() - t_exit) * 1e3);
	assert_string_equal(ew_h_str(fi, "severity"), "CRITICAL");
	assert_int_equal(ew_h_int(fi, "count", 0), 4);
	assert_int_equal(ew_h_int(fi, "threshold", 0), 3);
	assert_int_equal(ew_h_int(fi, "window_s", 0), 30);
	assert_int_equal(ew_h_int(fi, "exit_codes.3", 0), 4);
	assert_string_equal(ew_h_str(fi, "last_exit.class"), "config_error");
	{
		char want[128];

		snprintf(want, sizeof(want), "systemd:%s", U("loop"));
		assert_string_equal(ew_h_str(fi, "container.identity"), want);
	}
	assert_non_null(strstr(ew_h_str(fi, "stderr_tail"), "ModuleNotFoundError"));
	assert_non_null(strstr(ew_h_str(fi, "message"), "ModuleNotFoundError"));
	print_message("finding: %s\n", ew_h_str(fi, "message"));
	assert_non_null(strstr(ew_h_str(fi, "message"), "exited 4 times with code 3 in 30s"));
	assert_false(ew_h_bool(fi, "degraded", true));
	assert_int_equal(ew_h_int(fi, "restart_interval_s.samples", 0), 3);
	/* A fifth exit in the episode is counted, not fired again. */
	run_once(f, U("loop"), WL("exit", "3"));
	re = wait_rule_of(f, "resolved", "exit_code_burst", U("loop"), 10000);
	assert_string_equal(ew_h_str(re, "finding_id"), ew_h_str(fi, "finding_id"));
	assert_int_equal(ew_h_int(re, "total", 0), 5);
	assert_true(ew_h_double(re, "duration_s", 0) >= 3.0);
	assert_int_equal(count_rule_of(f, "finding", "exit_code_burst", U("loop")), 1);
	/* restart_rate (more than 3 restarts in 30 s) fired too, on the 4th restart. */
	assert_int_equal(count_rule_of(f, "finding", "restart_rate", U("loop")), 1);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
	assert_int_equal(count_rule_of(f, "resolved", "exit_code_burst", U("loop")), 1);
}

/* A long-running main whose children exit 3 hundreds of times: no finding. */
static void test_children_never_count(void **state)
{
	struct fixture *f = *state;
	struct ew_h_want w = {"container_exit", NULL};
	json_object *e;

	ew_h_require_bpf();
	w.cgroup = SFX("parent");
	start_agent(f, NULL, NULL);
	run_once(f, U("parent"), WL("children", "300", "3"));
	e = ew_h_wait(&f->agent, ew_h_match, &w, NULL, 10000);
	assert_non_null(e);
	assert_int_equal(ew_h_int(e, "children.failed", 0), 300);
	ew_h_agent_pump(&f->agent, 500);
	assert_int_equal(count_rule_of(f, "finding", "exit_code_burst", U("parent")), 0);
	assert_int_equal(count_rule_of(f, "finding", "restart_rate", U("parent")), 0);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

static void test_listen_is_ready(void **state)
{
	struct fixture *f = *state;
	struct ew_h_want r = {"container_ready", NULL};
	struct ew_h_want x = {"container_exit", NULL};
	json_object *rd, *e;
	double d;

	ew_h_require_bpf();
	r.cgroup = x.cgroup = SFX("web");
	start_agent(f, NULL, NULL);
	run_once(f, U("web"), WL("listen", "300", "200"));
	rd = ew_h_wait(&f->agent, ew_h_match, &r, NULL, 5000);
	assert_non_null(rd);
	d = ew_h_double(rd, "startup.duration_s", -1);
	print_message("start-up duration: %.3f s\n", d);
	assert_true(d >= 0.29 && d < 2.0);
	assert_string_equal(ew_h_str(rd, "startup.listener_comm"), "workload");
	e = ew_h_wait(&f->agent, ew_h_match, &x, NULL, 5000);
	assert_non_null(e);
	assert_true(ew_h_bool(e, "startup.ready", false));
	assert_true(ew_h_bool(e, "startup.succeeded", false));
	assert_true(ew_h_double(e, "startup.duration_s", -1) >= 0.29);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return buf;
}

/* --record, then `exitwatch replay` twice: byte-identical, and the same findings as live. */
static void test_record_replay(void **state)
{
	struct fixture *f = *state;
	char rec[256], out1[256], out2[256];
	char *a, *b;
	json_object *live;

	ew_h_require_bpf();
	snprintf(rec, sizeof(rec), "%s/events.ndjson", f->s.dir);
	start_agent(f, "--record", rec);
	for (int i = 0; i < 4; i++)
		run_once(f, U("rec"), WL("stderr", "3", "bad \"config\"\x01"));
	live = wait_rule_of(f, "finding", "exit_code_burst", U("rec"), 5000);
	wait_rule_of(f, "resolved", "exit_code_burst", U("rec"), 10000);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);

	snprintf(out1, sizeof(out1), "%s/replay1", f->s.dir);
	snprintf(out2, sizeof(out2), "%s/replay2", f->s.dir);
	assert_int_equal(ew_h_sh("%s replay --config '%s' '%s' > '%s'", ew_h_exitwatch(), f->conf,
				 rec, out1),
			 0);
	assert_int_equal(ew_h_sh("%s replay --config '%s' '%s' > '%s'", ew_h_exitwatch(), f->conf,
				 rec, out2),
			 0);
	a = slurp(out1);
	b = slurp(out2);
	assert_string_equal(a, b);
	/* The live finding, to the byte: same id, same time, same evidence. */
	{
		const char *line = NULL;

		for (size_t i = 0; i < f->agent.nlines; i++)
			if (f->agent.lines[i] == live)
				line = f->agent.raw[i];
		assert_non_null(line);
		assert_non_null(strstr(a, line));
	}
	assert_int_equal(ew_h_sh("grep -c '\"event\":\"resolved\"' '%s' | grep -qx 1", out1), 0);
	free(a);
	free(b);
	/* Bad input: a clear error, exit status 2. */
	assert_int_equal(ew_h_sh("echo '{\"nope\":1}' > '%s/bad' && %s replay '%s/bad' 2>/dev/null",
				 f->s.dir, ew_h_exitwatch(), f->s.dir),
			 2);
}

/* An agent killed mid-loop and restarted with its state file: no second finding, and the
 * resolution still comes. */
static void test_state_file_survives_kill(void **state)
{
	struct fixture *f = *state;
	char st[256];
	json_object *fi, *re;
	char id[64];

	ew_h_require_bpf();
	/*
	 * The fifth exit must come within the quiet period of the fourth, across a checkpoint, a
	 * kill and a start-up (BPF load and /proc scan): 3 s is not enough on a loaded machine.
	 */
	ew_h_scratch_file(&f->s, "state.conf",
			  "[rule.exit_code_burst]\nwindow = 60s\nresolve = 10s\n"
			  "[rule.startup_failure_rate]\nenabled = false\n"
			  "[agent]\ncheckpoint_interval = 1s\n",
			  f->conf, sizeof(f->conf));
	snprintf(st, sizeof(st), "%s/state.json", f->s.dir);
	start_agent(f, "--state-file", st);
	for (int i = 0; i < 4; i++)
		run_once(f, U("state"), WL("exit", "3"));
	fi = wait_rule_of(f, "finding", "exit_code_burst", U("state"), 5000);
	snprintf(id, sizeof(id), "%s", ew_h_str(fi, "finding_id"));
	/* A crash, not a clean stop: only the periodic checkpoint (1 s here) has run, and one of
	 * them after the finding (the file holds its episode), however slow the machine. */
	for (int i = 0; i < 100 && !ew_h_file_has(st, id); i++)
		ew_h_agent_pump(&f->agent, 100);
	assert_int_equal(access(st, F_OK), 0);
	if (!ew_h_file_has(st, id))
		fail_msg("no checkpoint of %s holds the open episode %s within 10 s", st, id);
	kill(f->agent.pid, SIGKILL);
	waitpid(f->agent.pid, NULL, 0);
	f->agent.pid = 0;
	ew_h_agent_free(&f->agent);

	start_agent(f, "--state-file", st);
	run_once(f, U("state"), WL("exit", "3"));
	re = wait_rule_of(f, "resolved", "exit_code_burst", U("state"), 20000);
	assert_string_equal(ew_h_str(re, "finding_id"), id);
	assert_int_equal(ew_h_int(re, "total", 0), 5);
	assert_int_equal(count_rule_of(f, "finding", "exit_code_burst", U("state")), 0);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/* The container_start record of one process (arg: its pid). */
static bool is_start_of(json_object *o, const void *arg)
{
	const char *ev = ew_h_str(o, "event");

	return ev && !strcmp(ev, "container_start") &&
	       ew_h_int(o, "process.pid", -1) == *(const pid_t *)arg;
}

/*
 * A crash loop's identity running when the agent stops, its state file read by the next agent.
 * Still running then (the fix deployed), the start-up scan finds the same run, and its grace
 * period ends the loop: "started successfully". Gone meanwhile (it failed, or was removed while
 * no agent watched), it is no success: the loop ends by crash_loop's quiet period. Before, the
 * first never resolved while it ran (the scan's start, in clock ticks, was not the checkpoint's
 * in nanoseconds) and the second resolved as started successfully.
 */
static void test_state_file_running_across_restart(void **state)
{
	struct fixture *f = *state;
	const char *fixed = U("fixed"), *gone = U("gone");
	char st[256], layout[2][128];
	pid_t pid[2];
	json_object *re;

	ew_h_require_bpf();
	ew_h_scratch_file(&f->s, "state.conf",
			  "[rule.startup_failure_rate]\nenabled = false\n"
			  "[rule.crash_loop]\nresolve = 10s\n"
			  "[agent]\nstartup_grace = 8s\ncheckpoint_interval = 1s\n",
			  f->conf, sizeof(f->conf));
	snprintf(st, sizeof(st), "%s/state.json", f->s.dir);
	start_agent(f, "--state-file", st);
	for (int i = 0; i < 2; i++) {
		run_once(f, fixed, WL("exit", "3"));
		run_once(f, gone, WL("exit", "3"));
	}
	wait_rule_of(f, "finding", "crash_loop", fixed, 5000);
	wait_rule_of(f, "finding", "crash_loop", gone, 5000);
	for (int i = 0; i < 2; i++) {
		snprintf(layout[i], sizeof(layout[i]), "/system.slice/%s", i ? gone : fixed);
		pid[i] = ew_h_run_in(f->s.base, layout[i], WL("sleep", "60000"), -1, false, NULL);
		assert_true(pid[i] > 0);
		if (!ew_h_wait(&f->agent, is_start_of, &pid[i], NULL, 5000))
			fail_msg("no container_start of pid %d", (int)pid[i]);
	}
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
	ew_h_agent_free(&f->agent);
	kill(pid[1], SIGKILL);
	assert_true(ew_h_wait_pid(pid[1], 5000) >= 0);

	start_agent(f, "--state-file", st);
	re = wait_rule_of(f, "resolved", "crash_loop", fixed, 15000);
	if (!strstr(ew_h_str(re, "message"), "started successfully"))
		fail_msg("the fixed run: %s", ew_h_str(re, "message"));
	re = wait_rule_of(f, "resolved", "crash_loop", gone, 15000);
	if (!strstr(ew_h_str(re, "message"), "has not started again"))
		fail_msg("the run gone while no agent watched: %s", ew_h_str(re, "message"));
	kill(pid[0], SIGKILL);
	assert_true(ew_h_wait_pid(pid[0], 5000) >= 0);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/*
 * A finding's state is written when it fires and when it resolves, not up to checkpoint_interval
 * later (an hour here, so only that can write it): an agent killed a moment after the finding
 * neither fires it again nor loses its resolution.
 */
static void test_state_file_at_finding(void **state)
{
	struct fixture *f = *state;
	json_object *fi, *re;
	char st[256], id[64];
	int i;

	ew_h_require_bpf();
	ew_h_scratch_file(&f->s, "state.conf",
			  "[rule.exit_code_burst]\nwindow = 60s\nresolve = 10s\n"
			  "[rule.startup_failure_rate]\nenabled = false\n"
			  "[agent]\ncheckpoint_interval = 1h\n",
			  f->conf, sizeof(f->conf));
	snprintf(st, sizeof(st), "%s/state.json", f->s.dir);
	start_agent(f, "--state-file", st);
	for (i = 0; i < 4; i++)
		run_once(f, U("ckpt"), WL("exit", "3"));
	fi = wait_rule_of(f, "finding", "exit_code_burst", U("ckpt"), 5000);
	snprintf(id, sizeof(id), "%s", ew_h_str(fi, "finding_id"));
	/* Within a second of it (and a loaded machine's slack), never an hour. */
	for (i = 0; i < 50 && !ew_h_file_has(st, id); i++)
		ew_h_agent_pump(&f->agent, 100);
	if (!ew_h_file_has(st, id))
		fail_msg("the state file %s does not hold the finding %s 5 s after it fired", st,
			 id);
	kill(f->agent.pid, SIGKILL);
	waitpid(f->agent.pid, NULL, 0);
	f->agent.pid = 0;
	ew_h_agent_free(&f->agent);

	start_agent(f, "--state-file", st);
	run_once(f, U("ckpt"), WL("exit", "3"));
	re = wait_rule_of(f, "resolved", "exit_code_burst", U("ckpt"), 20000);
	assert_string_equal(ew_h_str(re, "finding_id"), id);
	assert_int_equal(ew_h_int(re, "total", 0), 5);
	assert_int_equal(count_rule_of(f, "finding", "exit_code_burst", U("ckpt")), 0);
	assert_int_equal(count_rule_of(f, "finding", "crash_loop", U("ckpt")), 0);
	/* Resolved: the file forgets the episode as soon. */
	for (i = 0; i < 50 && ew_h_file_has(st, id); i++)
		ew_h_agent_pump(&f->agent, 100);
	if (ew_h_file_has(st, id))
		fail_msg("the state file %s still holds the finding %s 5 s after its resolution",
			 st, id);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/*
 * A start the state file holds as running, whose main process failed (exit 3) while no agent
 * ran (an upgrade's gap, an agent killed, a node's reboot): the next agent must not take it for
 * a start that survived its grace period. It did: "started successfully" resolved the loop's
 * crash_loop finding, and the loop's next failed start began a new streak, so the loop that went
 * on had no open finding at all.
 */
static void test_state_file_run_gone(void **state)
{
	struct fixture *f = *state;
	char st[256], layout[128], id[64];
	json_object *fi;
	pid_t pid;
	int i;

	ew_h_require_bpf();
	ew_h_scratch_file(&f->s, "state.conf",
			  "[agent]\nstartup_grace = 2s\ncheckpoint_interval = 1h\n"
			  "[rule.exit_code_burst]\nenabled = false\n"
			  "[rule.restart_rate]\nenabled = false\n"
			  "[rule.startup_failure_rate]\nenabled = false\n",
			  f->conf, sizeof(f->conf));
	snprintf(st, sizeof(st), "%s/state.json", f->s.dir);
	snprintf(layout, sizeof(layout), "/system.slice/%s", U("gone"));
	start_agent(f, "--state-file", st);
	for (i = 0; i < 2; i++)
		run_once(f, U("gone"), WL("exit", "3"));
	fi = wait_rule_of(f, "finding", "crash_loop", U("gone"), 5000);
	snprintf(id, sizeof(id), "%s", ew_h_str(fi, "finding_id"));
	/* The third attempt runs when the agent stops (its last checkpoint holds it running)... */
	pid = ew_h_run_in(f->s.base, layout, WL("sleep", "1500", "3"), -1, false, NULL);
	for (i = 0; i < 50 && ew_h_count_rec(&f->agent, "container_start", SFX("gone")) < 3; i++)
		ew_h_agent_pump(&f->agent, 100);
	assert_int_equal(ew_h_count_rec(&f->agent, "container_start", SFX("gone")), 3);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
	ew_h_agent_free(&f->agent);
	/* ... and fails before the next one starts. */
	assert_true(ew_h_wait_pid(pid, 10000) >= 0);

	start_agent(f, "--state-file", st);
	/* Past the gone start's grace deadline, which the first turn of the loop would run. */
	ew_h_agent_pump(&f->agent, 3000);
	run_once(f, U("gone"), WL("exit", "3"));
	ew_h_expect(&f->agent, "container_exit", SFX("gone"), 5000);
	ew_h_agent_pump(&f->agent, 500);
	assert_int_equal(count_rule_of(f, "resolved", "crash_loop", U("gone")), 0);
	assert_int_equal(count_rule_of(f, "finding", "crash_loop", U("gone")), 0);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
	/* The loop's finding is still the one open. */
	if (!ew_h_file_has(st, id))
		fail_msg("the state file %s no longer holds the open finding %s", st, id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_burst_fires_once_then_resolves, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_children_never_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listen_is_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_file_survives_kill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_file_at_finding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_file_run_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_file_running_across_restart, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("bpf_detect", tests, NULL, NULL);
}
