// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Two agents at once on one node, and the hand-over from one to the next: a DaemonSet rolled out
 * with maxSurge (the new pod starts before the old one stops), or an operator running the binary
 * by hand beside the DaemonSet with the deployed configuration. The real BPF programs and the
 * real binary, twice.
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
#include <unistd.h>

#include <cmocka.h>

#include "harness/harness.h"

struct fixture {
	struct ew_h_agent a, b;
	struct ew_h_scratch s;
	char conf[128];
	char state[256];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	ew_h_scratch_make(&f->s, "overlap");
	ew_h_scratch_file(&f->s, "exitwatch.conf",
			  "[rule.exit_code_burst]\nwindow = 60s\nresolve = 3s\n"
			  "[rule.restart_rate]\nenabled = false\n"
			  "[rule.startup_failure_rate]\nenabled = false\n"
			  "[agent]\nstartup_grace = 2s\ncheckpoint_interval = 1s\n",
			  f->conf, sizeof(f->conf));
	snprintf(f->state, sizeof(f->state), "%s/state.json", f->s.dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ew_h_agent_kill(&f->a);
	ew_h_agent_kill(&f->b);
	ew_h_scratch_clean(&f->s);
	free(f);
	return 0;
}

/* extra: one more argument, or NULL. */
static void start_with(struct fixture *f, struct ew_h_agent *a, const char *extra)
{
	ew_h_agent_start(a, (const char *const[]){"--config", f->conf, "--agent-interval", "1h",
						  "--state-file", f->state, extra, NULL});
}

static void start(struct fixture *f, struct ew_h_agent *a)
{
	start_with(f, a, NULL);
}

#define WL EW_H_WL

#define U ew_h_unit

static void run_once(struct fixture *f, const char *unit, char *const argv[])
{
	ew_h_run_unit(f->s.base, unit, argv);
}

/* { event, rule, finding_id } */
static bool is_episode(json_object *o, const void *arg)
{
	const char *const *want = arg;
	const char *ev = ew_h_str(o, "event"), *rule = ew_h_str(o, "rule");
	const char *id = ew_h_str(o, "finding_id");

	return ev && rule && id && !strcmp(ev, want[0]) && !strcmp(rule, want[1]) &&
	       (!want[2] || !strcmp(id, want[2]));
}

/* { event, rule, unit } */
static bool is_rule_of(json_object *o, const void *arg)
{
	const char *const *want = arg;
	const char *ev = ew_h_str(o, "event"), *rule = ew_h_str(o, "rule");
	const char *idn = ew_h_str(o, "container.identity");

	return ev && rule && idn && !strcmp(ev, want[0]) && !strcmp(rule, want[1]) &&
	       strstr(idn, want[2]);
}

static size_t stderr_lines(const struct ew_h_agent *a, const char *const *needles)
{
	static char buf[1 << 16];

	ew_h_agent_stderr(a, buf, sizeof(buf));
	return ew_h_count_lines(buf, needles);
}

/*
 * A second agent on the state file of a running one. Before, it restored the first one's last
 * checkpoint and both then resolved the first one's finding (one finding_id, two `resolved`
 * records), and each one's rename of PATH.tmp failed whenever the other had renamed it first
 * ("cannot write the state file ...: No such file or directory", by hand with Docker). Now the
 * second runs without the file while the first holds it, says so once naming the first one's
 * pid, and writes the file once the first has gone.
 */
static void test_state_file_two_agents(void **state)
{
	struct fixture *f = *state;
	const char *busy[] = {"warning: state file", "is in use by another exitwatch agent", NULL};
	const char *gone[] = {"the agent that held it is gone", NULL};
	const char *cannot[] = {"cannot write the state file", NULL};
	char id[64], pid[32];
	const char *want[3];
	json_object *fi;
	struct stat st0, st1;
	int i;

	ew_h_require_bpf();
	start(f, &f->a);
	for (i = 0; i < 4; i++)
		run_once(f, U("two"), WL("exit", "3"));
	want[0] = "finding", want[1] = "exit_code_burst", want[2] = U("two");
	fi = ew_h_wait(&f->a, is_rule_of, want, NULL, 5000);
	assert_non_null(fi);
	snprintf(id, sizeof(id), "%s", ew_h_str(fi, "finding_id"));
	for (i = 0; i < 50 && !ew_h_file_has(f->state, id); i++)
		ew_h_agent_pump(&f->a, 100);
	assert_true(ew_h_file_has(f->state, id));

	start(f, &f->b);

	/* The loop is quiet: the first agent resolves its finding, the second must not. */
	want[0] = "resolved", want[2] = id;
	assert_non_null(ew_h_wait(&f->a, is_episode, want, NULL, 10000));
	for (i = 0; i < 30; i++) { /* 3 s of both running: several checkpoints each */
		ew_h_agent_pump(&f->a, 50);
		ew_h_agent_pump(&f->b, 50);
	}
	assert_int_equal(ew_h_count(&f->b, is_episode, want), 0);
	snprintf(pid, sizeof(pid), "(pid %d,", (int)f->a.pid);
	assert_int_equal(stderr_lines(&f->b, (const char *const[]){busy[1], pid, NULL}), 1);
	assert_int_equal(stderr_lines(&f->a, cannot), 0);
	assert_int_equal(stderr_lines(&f->b, cannot), 0);
	assert_int_equal(stderr_lines(&f->b, busy), 1);

	/* The first one goes: the second takes the file over at its next checkpoint. */
	assert_int_equal(ew_h_agent_stop(&f->a), 0);
	assert_int_equal(stat(f->state, &st0), 0);
	for (i = 0; i < 50 && !stderr_lines(&f->b, gone); i++)
		ew_h_agent_pump(&f->b, 100);
	assert_int_equal(stderr_lines(&f->b, gone), 1);
	for (i = 0; i < 30; i++) {
		ew_h_agent_pump(&f->b, 100);
		if (!stat(f->state, &st1) && st1.st_ino != st0.st_ino)
			break;
	}
	assert_int_not_equal(st1.st_ino, st0.st_ino); /* rewritten (renamed over) by b */
	assert_int_equal(ew_h_agent_stop(&f->b), 0);
	assert_int_equal(stderr_lines(&f->b, cannot), 0);
	ew_h_agent_free(&f->a);
	ew_h_agent_free(&f->b);

	/* One agent again: it owns the file at once, no warning. */
	start(f, &f->a);
	assert_int_equal(stderr_lines(&f->a, busy), 0);
	assert_int_equal(ew_h_agent_stop(&f->a), 0);
}

/* Runs a second exitwatch with args to its end (it is expected to refuse); its stderr in err. */
static int run_second(struct fixture *f, const char *args, char *err, size_t len)
{
	char cmd[1024], path[256];
	int st;

	snprintf(path, sizeof(path), "%s/second.err", f->s.dir);
	snprintf(cmd, sizeof(cmd), "timeout 20 %s --config /dev/null %s >/dev/null 2>%s",
		 ew_h_exitwatch(), args, path);
	st = system(cmd);
	if (ew_h_read_file(path, err, len) < 0)
		err[0] = '\0';
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * The other things two agents can share. The metrics address: the second one stops at once,
 * naming it. The recording: before, the second moved the first one's live recording aside to
 * PATH.1 (the first went on writing there, and the next start would have replaced it) and wrote
 * its own at PATH; now it stops, naming the path, and the first one's is left where it is. A
 * file: sink: both append, every line whole (one write() per batch, O_APPEND).
 */
static void test_same_paths(void **state)
{
	struct fixture *f = *state;
	char rec[256], sink[256], prev[300], args[1024], out[600], err[4096];
	char tcp[64], spool[300];
	static char text[8 << 20];
	uint16_t port = ew_h_free_port();
	ssize_t n;
	size_t lines = 0;
	struct stat st;
	int i;

	ew_h_require_bpf();
	snprintf(rec, sizeof(rec), "%s/rec.ndjson", f->s.dir);
	snprintf(prev, sizeof(prev), "%s.1", rec);
	snprintf(sink, sizeof(sink), "%s/sink.ndjson", f->s.dir);
	snprintf(out, sizeof(out), "file:%s", sink);
	snprintf(args, sizeof(args), "127.0.0.1:%u", port);
	snprintf(tcp, sizeof(tcp), "tcp://127.0.0.1:%u", ew_h_free_port());
	snprintf(spool, sizeof(spool), "agent.spool_dir=%s/spool", f->s.dir);
	ew_h_agent_start(&f->a, (const char *const[]){"--config", f->conf, "--metrics-addr", args,
						      "--record", rec, "-o", "stdout", "-o", out,
						      "-o", tcp, "--set", spool, NULL});

	snprintf(args, sizeof(args), "--metrics-addr 127.0.0.1:%u", port);
	assert_int_equal(run_second(f, args, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "Address already in use"));

	snprintf(args, sizeof(args), "--record %s", rec);
	assert_int_equal(run_second(f, args, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "is being written by another exitwatch agent"));
	assert_int_equal(stat(prev, &st), -1); /* not moved aside */

	/* The same file: sink (and the same stream output, whose spool is the first one's). */
	ew_h_agent_start(&f->b, (const char *const[]){"--config", f->conf, "-o", "stdout", "-o",
						      out, "-o", tcp, "--set", spool, NULL});
	assert_int_equal(stderr_lines(&f->b, (const char *const[]){"cannot use the spool",
								   "another exitwatch agent with "
								   "this output uses it",
								   NULL}),
			 1);
	for (i = 0; i < 40; i++)
		run_once(f, U("sink"), WL("exit", "1"));
	ew_h_agent_pump(&f->a, 500);
	assert_int_equal(ew_h_agent_stop(&f->b), 0);
	assert_int_equal(ew_h_agent_stop(&f->a), 0);
	assert_int_equal(stat(prev, &st), -1);
	n = ew_h_read_file(sink, text, sizeof(text));
	assert_true(n > 0 && text[n - 1] == '\n');
	for (char *l = text, *e; *l; l = e + 1) {
		json_object *o;

		e = strchr(l, '\n');
		*e = '\0';
		o = json_tokener_parse(l);
		if (!o || !ew_h_str(o, "event"))
			fail_msg("a cut or mixed line in the shared file sink: %.200s", l);
		json_object_put(o);
		lines++;
	}
	/* Each agent's 40 starts and 40 exits of the loop at least. */
	assert_true(lines >= 160);
}

static bool is_start_of(json_object *o, const void *arg)
{
	const char *ev = ew_h_str(o, "event");

	return ev && !strcmp(ev, "container_start") &&
	       ew_h_int(o, "process.pid", -1) == *(const pid_t *)arg;
}

/* Sets the state file's top-level "boot_id" to id, as a file of another boot would have it. */
static void set_boot_id(const char *path, const char *id)
{
	json_object *o = json_object_from_file(path);

	assert_non_null(o);
	json_object_object_add(o, "boot_id", json_object_new_string(id));
	assert_int_equal(json_object_to_file_ext(path, o, JSON_C_TO_STRING_PLAIN), 0);
	json_object_put(o);
}

/*
 * A state file written before a reboot, restored after it. Its running starts are gone with the
 * boot, but the agent matched them to /proc by pid and start tick alone: after a reboot a
 * process with the same pid and tick (a deterministic boot starting the same containers in the
 * same order) was taken for the same run, whose grace period went on and "started successfully"
 * resolved a crash loop that nobody saw start. Simulated here with the state file of a live
 * process given another boot's id: before, the restored run went on (a crash_loop resolved as
 * "started successfully" once its grace ran out); now the file's boot id says the run ended.
 */
static void test_state_file_other_boot(void **state)
{
	struct fixture *f = *state;
	const char *other[] = {"was written in another boot", NULL};
	const char *unit = U("boot"), *want[3] = {"resolved", "crash_loop", unit};
	char layout[128];
	json_object *re;
	pid_t pid;

	ew_h_require_bpf();
	ew_h_scratch_file(&f->s, "boot.conf",
			  "[rule.startup_failure_rate]\nenabled = false\n"
			  "[rule.crash_loop]\nresolve = 10s\n"
			  "[agent]\nstartup_grace = 6s\ncheckpoint_interval = 1s\n",
			  f->conf, sizeof(f->conf));
	start(f, &f->a);
	for (int i = 0; i < 2; i++)
		run_once(f, unit, WL("exit", "3"));
	want[0] = "finding";
	assert_non_null(ew_h_wait(&f->a, is_rule_of, want, NULL, 5000));
	snprintf(layout, sizeof(layout), "/system.slice/%s", unit);
	pid = ew_h_run_in(f->s.base, layout, WL("sleep", "60000"), -1, false, NULL);
	assert_true(pid > 0);
	assert_non_null(ew_h_wait(&f->a, is_start_of, &pid, NULL, 5000));
	assert_int_equal(ew_h_agent_stop(&f->a), 0);
	ew_h_agent_free(&f->a);

	set_boot_id(f->state, "00000000-0000-4000-8000-000000000000");
	start_with(f, &f->a, "-v");
	want[0] = "resolved";
	re = ew_h_wait(&f->a, is_rule_of, want, NULL, 12000);
	if (re && strstr(ew_h_str(re, "message"), "started successfully"))
		fail_msg("a run of another boot went on: %s", ew_h_str(re, "message"));
	assert_int_equal(stderr_lines(&f->a, other), 1);
	kill(pid, SIGKILL);
	assert_true(ew_h_wait_pid(pid, 5000) >= 0);
	assert_int_equal(ew_h_agent_stop(&f->a), 0);
}

/* The container_start of pid, waited for. */
static json_object *start_of(struct ew_h_agent *a, pid_t pid)
{
	json_object *o = ew_h_wait(a, is_start_of, &pid, NULL, 5000);

	if (!o)
		fail_msg("no container_start of pid %d", (int)pid);
	return o;
}

/*
 * A restart while no agent ran: the agent stopped with the identity's main running, the main
 * exited, the runtime started it again (Docker's restart policy), then the next agent started.
 * Its start-up scan took the new main for a first sight: restarts stayed where they were, and
 * restart_rate lost one restart per agent restart (real Docker, `--restart always`, a container
 * exiting 1 every 11 s: RestartCount 5, the agents' count 4, and no restart_rate at count = 4).
 * The state file holds the last run (pid and start tick), and the new main began after it: a
 * restart, dated from the two starts. Not when the main found is the run the file holds, nor
 * when the agent saw the restart itself.
 */
static void test_restart_while_no_agent(void **state)
{
	struct fixture *f = *state;
	const char *unit = U("away");
	char layout[128];
	json_object *o;
	pid_t pid[3];

	ew_h_require_bpf();
	ew_h_scratch_file(&f->s, "away.conf",
			  "[rule.exit_code_burst]\nenabled = false\n"
			  "[rule.startup_failure_rate]\nenabled = false\n"
			  "[rule.crash_loop]\nenabled = false\n"
			  "[rule.restart_rate]\ncount = 2\n"
			  "[agent]\nstartup_grace = 1s\ncheckpoint_interval = 1s\n",
			  f->conf, sizeof(f->conf));
	snprintf(layout, sizeof(layout), "/system.slice/%s", unit);
	start(f, &f->a);
	run_once(f, unit, WL("exit", "1"));
	pid[0] = ew_h_run_in(f->s.base, layout, WL("sleep", "60000"), -1, false, NULL);
	assert_int_equal(ew_h_int(start_of(&f->a, pid[0]), "restarts", -1), 1);
	assert_int_equal(ew_h_agent_stop(&f->a), 0);
	ew_h_agent_free(&f->a);

	/* No agent: the main exits, the next one starts. */
	kill(pid[0], SIGKILL);
	assert_true(ew_h_wait_pid(pid[0], 5000) >= 0);
	pid[1] = ew_h_run_in(f->s.base, layout, WL("sleep", "60000"), -1, false, NULL);
	usleep(50 * 1000);

	start(f, &f->a);
	o = start_of(&f->a, pid[1]);
	assert_true(ew_h_bool(o, "already_running", false));
	assert_int_equal(ew_h_int(o, "restarts", -1), 2);
	if (!strstr(ew_h_str(o, "message"), "restarted while no agent ran (restart 2)"))
		fail_msg("%s", ew_h_str(o, "message"));
	/* Seen from here on: the third restart is the third, and restart_rate (more than 2) fires. */
	kill(pid[1], SIGKILL);
	assert_true(ew_h_wait_pid(pid[1], 5000) >= 0);
	pid[2] = ew_h_run_in(f->s.base, layout, WL("sleep", "60000"), -1, false, NULL);
	assert_int_equal(ew_h_int(start_of(&f->a, pid[2]), "restarts", -1), 3);
	{
		const char *want[] = {"finding", "restart_rate", unit};

		o = ew_h_wait(&f->a, is_rule_of, want, NULL, 5000);
		assert_non_null(o);
		assert_int_equal(ew_h_int(o, "count", 0), 3);
	}
	assert_int_equal(ew_h_agent_stop(&f->a), 0);
	ew_h_agent_free(&f->a);

	/* The same run across the next restart of the agent: no restart of its own. */
	start(f, &f->a);
	o = start_of(&f->a, pid[2]);
	assert_int_equal(ew_h_int(o, "restarts", -1), 3);
	assert_null(strstr(ew_h_str(o, "message"), "while no agent ran"));
	/* Its exit seen, the restart not: one restart, not two. */
	kill(pid[2], SIGKILL);
	assert_true(ew_h_wait_pid(pid[2], 5000) >= 0);
	ew_h_expect(&f->a, "container_exit", layout, 5000);
	assert_int_equal(ew_h_agent_stop(&f->a), 0);
	ew_h_agent_free(&f->a);
	pid[0] = ew_h_run_in(f->s.base, layout, WL("sleep", "60000"), -1, false, NULL);
	usleep(50 * 1000);
	start(f, &f->a);
	o = start_of(&f->a, pid[0]);
	assert_int_equal(ew_h_int(o, "restarts", -1), 4);
	kill(pid[0], SIGKILL);
	assert_true(ew_h_wait_pid(pid[0], 5000) >= 0);
	assert_int_equal(ew_h_agent_stop(&f->a), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_state_file_two_agents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_file_other_boot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_while_no_agent, setup, teardown),
	};

	return cmocka_run_group_tests_name("bpf_overlap", tests, NULL, NULL);
}
