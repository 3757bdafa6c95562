// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A real Docker daemon (started by scripts/services.sh) running the locally built test image
 * (tests/docker/build-image.sh), and the real exitwatch: names from Docker's own files, the
 * stderr tail, OOM, killer attribution, and a crash loop's finding. Plus a Kubernetes-shaped
 * container: a kubepods cgroup with containerd's files in a --host-root tree.
 *
 * The stderr tail, by default, is read from Docker's own log file at the exit (json-file, or the
 * local driver's): every way a program writes its last words (tests/helpers/stderrwriter.c, the
 * kernel capture's cases in test_stderr.c), a real Python traceback (the host's python3 in
 * exitwatch-test-python:latest), and a container restarted by Docker, whose log file carries on
 * across its instances, each give exactly the bytes written since their own start.
 */
#include <poll.h>
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

#include "exitwatch/identity/runtime_log.h"
#include "exitwatch/util/util.h"
#include "harness/entrant.h"
#include "harness/harness.h"
#include "harness/stderr_cases.h"

#define IMAGE	 "exitwatch-test:latest"
#define PY_IMAGE "exitwatch-test-python:latest" /* the host's /usr, mounted read-only */

struct fixture {
	struct ew_h_agent agent;
	struct ew_h_scratch s; /* its cgroup subtree and scratch directory */
	char conf[128];
	char name[64];	/* docker container name of this test */
	char id[128];	/* its id */
	pid_t loops[2]; /* exec entrant loops (test_exec_entrants_never_main) */
};

static const char short_windows[] = "[rule.exit_code_burst]\nwindow = 60s\nresolve = 5s\n"
				    "[agent]\nstartup_grace = 2s\n";

static int setup(void **state)
{
	static int n;
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	ew_h_scratch_make(&f->s, "docker");
	ew_h_scratch_file(&f->s, "exitwatch.conf", short_windows, f->conf, sizeof(f->conf));
	snprintf(f->name, sizeof(f->name), "ewtest-%d-%d", getpid(), n++);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ew_h_entrant_loop_stop(&f->loops[0]);
	ew_h_entrant_loop_stop(&f->loops[1]);
	ew_h_agent_kill(&f->agent);
	ew_h_sh("docker rm -f %s >/dev/null 2>&1", f->name);
	/* The stderr tests' containers, one per case: labelled with the test's name. */
	ew_h_sh("docker ps -aq --filter label=ew.test=%s | xargs -r docker rm -f >/dev/null 2>&1",
		f->name);
	ew_h_scratch_clean(&f->s);
	free(f);
	return 0;
}

static void start_agent(struct fixture *f, const char *a1, const char *a2)
{
	ew_h_agent_start(&f->agent, (const char *const[]){"--config", f->conf, "--agent-interval",
							  "1h", a1, a2, NULL});
}

/* Records of this test's container: container.name == f->name. */
static bool by_name(json_object *o, const void *arg)
{
	const char *const *w = arg; /* { event, name } */
	const char *ev = ew_h_str(o, "event"), *nm = ew_h_str(o, "container.name");

	return ev && nm && !strcmp(ev, w[0]) && !strcmp(nm, w[1]);
}

static bool by_rule(json_object *o, const void *arg)
{
	const char *const *w = arg; /* { event, name, rule } */
	const char *rule = ew_h_str(o, "rule");

	return by_name(o, w) && rule && !strcmp(rule, w[2]);
}

static json_object *wait_named(struct fixture *f, const char *event, size_t *from, int ms)
{
	const char *w[] = {event, f->name};
	json_object *o = ew_h_wait(&f->agent, by_name, w, from, ms);

	if (!o)
		fail_msg("no %s record for container %s within %d ms", event, f->name, ms);
	return o;
}

static void docker_run(struct fixture *f, const char *opts, const char *cmd)
{
	assert_int_equal(ew_h_capture(f->id, sizeof(f->id), "docker run -d --name %s %s %s %s",
				      f->name, opts, IMAGE, cmd),
			 0);
	assert_int_equal(strlen(f->id), 64);
}

/*
 * Whether the exit's stderr_tail is exactly want (its length too: no NUL filling), read from
 * Docker's log (stderr_source), and without stderr_bytes, which only the kernel capture counts.
 * Says what differs when not.
 */
static bool tail_ok(json_object *e, const char *what, const char *source, const char *want)
{
	json_object *t = ew_h_get(e, "stderr_tail");
	const char *tail = ew_h_str(e, "stderr_tail"), *src = ew_h_str(e, "stderr_source");
	size_t len = t ? (size_t)json_object_get_string_len(t) : 0, wlen = strlen(want), at = 0;
	bool ok = true;

	if (!tail || len != wlen || memcmp(tail, want, len)) {
		/* cmocka cuts a long message: the lengths, where they part and how each ends */
		while (tail && at < len && at < wlen && tail[at] == want[at])
			at++;
		print_error("%s: stderr_tail (%zu bytes) differs from the expected (%zu bytes) at "
			    "byte %zu:\n[%.200s]\nnot\n[%.200s]\nending\n[%s]\nnot\n[%s]\n",
			    what, len, wlen, at, tail ? tail + at : "(none)", want + at,
			    tail ? tail + (len > 120 ? len - 120 : 0) : "(none)",
			    want + (wlen > 120 ? wlen - 120 : 0));
		ok = false;
	}
	if (!src || strcmp(src, source)) {
		print_error("%s: stderr_source is %s, not %s\n", what, src ? src : "(none)",
			    source);
		ok = false;
	}
	if (ew_h_get(e, "stderr_bytes")) {
		print_error("%s: stderr_bytes (%lld) without the kernel capture\n", what,
			    (long long)ew_h_int(e, "stderr_bytes", -1));
		ok = false;
	}
	return ok;
}

static void check_tail(json_object *e, const char *what, const char *source, const char *want)
{
	if (!tail_ok(e, what, source, want))
		fail_msg("%s: not the exact stderr tail from Docker's log", what);
}

/*
 * A command that is not in the image, and one that is not executable: runc's init cannot exec
 * it, `docker run` fails (127, 126) and leaves the container Created. Each try is a
 * container_exit of class start_failed named by Docker's files, with no container_start and
 * with runc's error as Docker kept it; tried again with `docker start`, the same identity's
 * second failed start is a crash loop.
 */
static void test_command_not_found_is_start_failed(void **state)
{
	struct fixture *f = *state;
	static const char *const cmds[] = {"/no/such/app", "/etc/passwd"};
	char cause[160];
	size_t from = 0;
	json_object *e;

	ew_h_require_docker();
	start_agent(f, NULL, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		int rc = ew_h_sh("docker run --name %s %s %s >/dev/null 2>&1", f->name, IMAGE,
				 cmds[i]);

		assert_int_equal(rc, i == 0 ? 127 : 126);
		e = wait_named(f, "container_exit", &from, 20000);
		assert_string_equal(ew_h_str(e, "exit.class"), "start_failed");
		assert_string_equal(ew_h_str(e, "severity"), "WARNING");
		assert_int_equal(ew_h_int(e, "exit.code", -1), 1);
		assert_string_equal(ew_h_str(e, "process.comm"), "runc:[2:INIT]");
		assert_string_equal(ew_h_str(e, "container.runtime"), "docker");
		assert_string_equal(ew_h_str(e, "container.image"), IMAGE);
		assert_false(ew_h_bool(e, "startup.succeeded", true));
		assert_null(ew_h_get(e, "stderr_tail"));
		assert_non_null(strstr(ew_h_str(e, "message"), " failed to start: "));
		assert_string_equal(ew_h_label(e, "container"), f->name);
		/* Why, in runc's words as Docker kept them (State.Error), its cause in the message. */
		snprintf(cause, sizeof(cause), "its command never ran: exec: \"%s\": %s", cmds[i],
			 i == 0 ? "stat /no/such/app: no such file or directory"
				: "permission denied");
		assert_non_null(ew_h_str(e, "start_error"));
		assert_non_null(strstr(ew_h_str(e, "start_error"), "runc create failed: "));
		if (!strstr(ew_h_str(e, "message"), cause))
			fail_msg("not \"%s\" in: %s", cause, ew_h_str(e, "message"));
		if (i == 0) {
			/* Tried again: the same container, the same identity. */
			assert_int_equal(ew_h_sh("docker start %s >/dev/null 2>&1", f->name), 1);
			e = wait_named(f, "container_exit", &from, 20000);
			assert_string_equal(ew_h_str(e, "exit.class"), "start_failed");
			/* This start's error, not the first's kept from before (the same words). */
			assert_non_null(strstr(ew_h_str(e, "message"), cause));
			e = ew_h_wait(&f->agent, by_rule,
				      (const char *[]){"finding", f->name, "crash_loop"}, NULL,
				      20000);
			assert_non_null(e);
			/* The alert says why too: the runtime's error, as such. */
			assert_non_null(ew_h_str(e, "start_error"));
			assert_null(ew_h_get(e, "stderr_tail"));
			if (!strstr(ew_h_str(e, "message"),
				    cause + strlen("its command never ran: ")))
				fail_msg("not the cause in: %s", ew_h_str(e, "message"));
			assert_int_equal(ew_h_sh("docker rm -f %s >/dev/null 2>&1", f->name), 0);
		}
	}
	ew_h_agent_pump(&f->agent, 300);
	assert_int_equal(
		ew_h_count(&f->agent, by_name, (const char *[]){"container_start", f->name}), 0);
	assert_int_equal(
		ew_h_count(&f->agent, by_name, (const char *[]){"container_exit", f->name}), 3);
}

static void test_crash_loop_names_and_finding(void **state)
{
	struct fixture *f = *state;
	json_object *e = NULL, *fi, *lo;
	size_t from = 0;

	ew_h_require_docker();
	start_agent(f, NULL, NULL);
	docker_run(f,
		   "--restart=always --label com.docker.compose.project=shop "
		   "--label com.docker.compose.service=backend",
		   "workload stderr 3 'Traceback (most recent call last):' "
		   "'  File \"/app/main.py\", line 3, in <module>' "
		   "\"ModuleNotFoundError: No module named 'app.services.monitoring'\"");
	/* Each exit's tail is its own instance's three lines, never the previous ones' too:
	 * the json-file log carries on across restarts. */
	for (int i = 0; i < 4; i++) {
		e = wait_named(f, "container_exit", &from, 20000);
		check_tail(e, "crash loop", "docker-json-file",
			   "Traceback (most recent call last):\n"
			   "  File \"/app/main.py\", line 3, in <module>\n"
			   "ModuleNotFoundError: No module named 'app.services.monitoring'\n");
	}
	assert_string_equal(ew_h_str(e, "container.id"), f->id);
	assert_string_equal(ew_h_str(e, "container.runtime"), "docker");
	assert_string_equal(ew_h_str(e, "container.image"), IMAGE);
	assert_string_equal(ew_h_str(e, "container.restart_policy"), "always");
	assert_string_equal(ew_h_str(e, "compose.project"), "shop");
	assert_string_equal(ew_h_str(e, "compose.service"), "backend");
	assert_string_equal(ew_h_str(e, "workload.key"), "compose:shop/backend");
	assert_string_equal(ew_h_str(e, "exit.class"), "config_error");
	assert_int_equal(ew_h_int(e, "exit.code", 0), 3);
	assert_string_equal(ew_h_label(e, "container"), f->name);
	assert_string_equal(ew_h_label(e, "workload"), "compose:shop/backend");
	fi = ew_h_wait(&f->agent, by_rule, (const char *[]){"finding", f->name, "exit_code_burst"},
		       NULL, 20000);
	assert_non_null(fi);
	/* crash_loop spoke first, at the second failed start: the same code, the same last line. */
	lo = ew_h_wait(&f->agent, by_rule, (const char *[]){"finding", f->name, "crash_loop"}, NULL,
		       0);
	assert_non_null(lo);
	print_message("crash_loop: %s\n", ew_h_str(lo, "message"));
	assert_string_equal(ew_h_str(lo, "severity"), "ERROR");
	assert_int_equal(ew_h_int(lo, "count", 0), 2);
	assert_int_equal(ew_h_int(lo, "last_line_repeats", 0), 2);
	assert_non_null(strstr(ew_h_str(lo, "message"),
			       "failed 2 starts in a row, each ending with code 3"));
	assert_non_null(
		strstr(ew_h_str(lo, "message"), "the last stderr line was the same each time"));
	print_message("finding: %s\n", ew_h_str(fi, "message"));
	assert_string_equal(ew_h_str(fi, "rule"), "exit_code_burst");
	assert_string_equal(ew_h_str(fi, "severity"), "CRITICAL");
	assert_non_null(
		strstr(ew_h_str(fi, "message"), "No module named 'app.services.monitoring'"));
	assert_non_null(strstr(ew_h_str(fi, "stderr_tail"), "ModuleNotFoundError"));
	assert_string_equal(ew_h_str(fi, "workload.key"), "compose:shop/backend");
	/* Docker keeps the id across restarts: later starts are restarts of one identity. */
	e = wait_named(f, "container_start", NULL, 5000);
	assert_string_equal(ew_h_str(e, "container.identity"), ew_h_str(fi, "container.identity"));
	ew_h_sh("docker rm -f %s >/dev/null 2>&1", f->name);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/*
 * `docker run --rm --name api` as a systemd unit's ExecStart (Restart=always) or a script's
 * loop: each run is a new container, with a new id, under one name. The runs are one workload
 * (docker-name:<name>), so that the loop's exits with code 3 reach exit_code_burst; each run
 * stays an identity of its own.
 */
static void test_recreated_same_name_is_one_workload(void **state)
{
	struct fixture *f = *state;
	char ids[4][80];
	json_object *e, *fi;
	size_t from = 0;
	char want[160];

	ew_h_require_docker();
	start_agent(f, NULL, NULL);
	snprintf(want, sizeof(want), "docker-name:%s", f->name);
	for (int i = 0; i < 4; i++) {
		ew_h_sh("docker run --rm --name %s %s workload exit 3 >/dev/null 2>&1", f->name,
			IMAGE);
		e = wait_named(f, "container_exit", &from, 20000);
		assert_string_equal(ew_h_str(e, "workload.key"), want);
		ew_strlcpy(ids[i], ew_h_str(e, "container.identity"), sizeof(ids[i]));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(ids[i], ids[j]);
	}
	fi = ew_h_wait(&f->agent, by_rule, (const char *[]){"finding", f->name, "exit_code_burst"},
		       NULL, 20000);
	if (!fi)
		fail_msg("4 runs of %s exiting 3 within a minute: no exit_code_burst", f->name);
	assert_string_equal(ew_h_str(fi, "workload.key"), want);
	assert_string_equal(ew_h_str(fi, "severity"), "CRITICAL");
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/*
 * `docker run --cgroup-parent /<parent>` with the cgroupfs driver: the container's cgroup is its
 * bare id under a parent of the user's choosing. It is still Docker's container, named as one,
 * with its tail from Docker's log.
 */
static void test_cgroup_parent(void **state)
{
	struct fixture *f = *state;
	char parent[64];
	json_object *e;

	ew_h_require_docker();
	start_agent(f, NULL, NULL);
	snprintf(parent, sizeof(parent), "/ewparent-%d", (int)getpid());
	ew_h_sh("docker run --rm --cgroup-parent %s --name %s %s workload stderr 3 'no config' "
		">/dev/null 2>&1",
		parent, f->name, IMAGE);
	e = wait_named(f, "container_exit", NULL, 20000);
	assert_string_equal(ew_h_str(e, "container.runtime"), "docker");
	assert_string_equal(ew_h_str(e, "container.image"), IMAGE);
	assert_non_null(strstr(ew_h_str(e, "container.cgroup"), parent));
	check_tail(e, "--cgroup-parent", "docker-json-file", "no config\n");
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
	ew_h_sh("rmdir %s%s 2>/dev/null", ew_h_cgroup_root(), parent);
}

static void test_oom_killed(void **state)
{
	struct fixture *f = *state;
	json_object *e;

	ew_h_require_docker();
	start_agent(f, NULL, NULL);
	docker_run(f, "--memory 64m --memory-swap 64m", "workload oom");
	e = wait_named(f, "container_exit", NULL, 30000);
	assert_string_equal(ew_h_str(e, "exit.class"), "oom_killed");
	assert_int_equal(ew_h_int(e, "exit.signal", 0), SIGKILL);
	assert_string_equal(ew_h_str(e, "severity"), "ERROR");
	assert_non_null(strstr(ew_h_str(e, "exit.meaning"), "OOM"));
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

static void test_docker_stop_terminated(void **state)
{
	struct fixture *f = *state;
	json_object *e;

	ew_h_require_docker();
	start_agent(f, NULL, NULL);
	docker_run(f, "", "workload term 143");
	wait_named(f, "container_start", NULL, 10000);
	assert_int_equal(ew_h_sh("docker stop -t 10 %s >/dev/null", f->name), 0);
	e = wait_named(f, "container_exit", NULL, 15000);
	print_message("docker stop: %s\n", ew_h_str(e, "message"));
	assert_string_equal(ew_h_str(e, "exit.class"), "terminated");
	assert_int_equal(ew_h_int(e, "exit.code", 0), 143);
	assert_string_equal(ew_h_str(e, "killed_by.signal_name"), "SIGTERM");
	assert_true(ew_h_int(e, "killed_by.pid", 0) > 0);
	/* runc sends it from the runtime's cgroup (the root one where dockerd was started by
	 * hand, containerd.service under systemd): never from the container itself. */
	assert_non_null(ew_h_str(e, "killed_by.container"));
	assert_string_not_equal(ew_h_str(e, "killed_by.container"),
				ew_h_str(e, "container.identity"));
	assert_non_null(ew_h_str(e, "killed_by.comm"));
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

static void test_docker_kill_killed(void **state)
{
	struct fixture *f = *state;
	json_object *e;

	ew_h_require_docker();
	start_agent(f, NULL, NULL);
	docker_run(f, "", "workload pause");
	wait_named(f, "container_start", NULL, 10000);
	assert_int_equal(ew_h_sh("docker kill -s KILL %s >/dev/null", f->name), 0);
	e = wait_named(f, "container_exit", NULL, 15000);
	print_message("docker kill: %s\n", ew_h_str(e, "message"));
	assert_string_equal(ew_h_str(e, "exit.class"), "killed");
	assert_int_equal(ew_h_int(e, "exit.signal", 0), SIGKILL);
	assert_string_equal(ew_h_str(e, "killed_by.signal_name"), "SIGKILL");
	assert_true(ew_h_int(e, "killed_by.pid", 0) > 0);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/*
 * The main process is never an exec entrant: a loop that enters the running container the way
 * runc exec does (its pid namespace, then its cgroup, then exec `true`) and one that only joins
 * its cgroup, while exitwatch starts and stops 20 times: every run reports the container once,
 * as already running with its real main process, and no start, exit or finding of an entrant.
 */
static void test_exec_entrants_never_main(void **state)
{
	struct fixture *f = *state;
	char pid[32], path[64], line[4096], procs[4096] = "", sfx[128] = "";
	pid_t main_pid;
	int corrected;
	FILE *fp;

	ew_h_require_docker();
	docker_run(f, "", "sleep 100000");
	assert_int_equal(
		ew_h_capture(pid, sizeof(pid), "docker inspect -f '{{.State.Pid}}' %s", f->name),
		0);
	main_pid = atoi(pid);
	assert_true(main_pid > 0);
	/* Its cgroup, as the kernel has it: "0::/docker/<id>" (or a systemd driver's scope). */
	snprintf(path, sizeof(path), "/proc/%d/cgroup", main_pid);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp))
		if (!strncmp(line, "0::/", 4)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(procs, sizeof(procs), "%s%s/cgroup.procs", ew_h_cgroup_root(),
				 line + 3);
			snprintf(sfx, sizeof(sfx), "%s", strrchr(line, '/'));
		}
	fclose(fp);
	assert_non_null(strstr(sfx, f->id));

	f->loops[0] = ew_h_entrant_loop(main_pid, procs, true);
	ew_h_entrant_no_scan(&f->agent, sfx, 1500);
	f->loops[1] = ew_h_entrant_loop(main_pid, procs, false);
	corrected = ew_h_entrant_runs(&f->agent, 20, sfx, main_pid);
	ew_h_entrant_loop_stop(&f->loops[0]);
	ew_h_entrant_loop_stop(&f->loops[1]);
	/* A real `docker exec` still works, and the container was never disturbed. */
	assert_int_equal(ew_h_sh("docker exec %s true", f->name), 0);
	assert_int_equal(kill(main_pid, 0), 0);
	print_message("docker: 20 agent runs, %d corrected an entrant\n", corrected);
}

/* The tests' images must hold what they run: a stale image (built before stderrwriter was
 * added) is a setup fault, a skip (under CI=true a failure) that names the script to run. */
static void require_stderr_images(void)
{
	ew_h_require_docker();
	ew_h_need(
		!ew_h_sh("docker run --rm --log-driver none %s test -x /usr/local/bin/stderrwriter",
			 IMAGE),
		IMAGE " has no /usr/local/bin/stderrwriter (tests/docker/build-image.sh)");
	ew_h_need(!ew_h_sh("docker image inspect %s >/dev/null 2>&1", PY_IMAGE),
		  "no " PY_IMAGE " (tests/docker/build-image.sh)");
	ew_h_need(!access("/usr/bin/python3", X_OK), "no /usr/bin/python3 on the host");
}

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Creates container name (labelled for the teardown) and starts it in the background, so that
 * the test is already waiting when its exit's record comes. docker start's output goes to
 * <scratch>/<name>.start, for the failure message.
 */
static void docker_start_bg(struct fixture *f, const char *name, const char *opts,
			    const char *image, const char *cmd)
{
	char id[128];

	assert_int_equal(ew_h_capture(id, sizeof(id),
				      "docker create --name %s --label ew.test=%s %s %s %s", name,
				      f->name, opts, image, cmd),
			 0);
	assert_int_equal(strlen(id), 64);
	assert_int_equal(ew_h_sh("docker start %s >'%s/%s.start' 2>&1 &", name, f->s.dir, name), 0);
}

/*
 * Waits up to ms for the next container_exit of container name, from line *from on. *lat_ms
 * gets the time from the exit (the record's "time": the kernel hook's) to the line reaching
 * this test (the poll() wake that brought its last bytes), or -1 when it had already been
 * read before this call.
 */
static json_object *wait_exit_timed(struct fixture *f, const char *name, size_t *from, int ms,
				    double *lat_ms)
{
	const char *w[] = {"container_exit", name};
	int64_t end = realtime_ns() + (int64_t)ms * 1000000, arrived = 0;
	char out[1024] = "", path[256];
	json_object *o;
	uint64_t t;

	for (;;) {
		struct pollfd p = {.fd = f->agent.out_fd, .events = POLLIN};
		int64_t left = (end - realtime_ns()) / 1000000;

		o = ew_h_wait(&f->agent, by_name, w, from, 0); /* only looks at what was read */
		if (o)
			break;
		if (left <= 0 || f->agent.eof) {
			snprintf(path, sizeof(path), "%s/%s.start", f->s.dir, name);
			ew_h_read_file(path, out, sizeof(out));
			fail_msg("no container_exit of %s within %d ms (docker start: %s)", name,
				 ms, out);
		}
		if (poll(&p, 1, (int)left) > 0) {
			arrived = realtime_ns();
			ew_h_agent_pump(&f->agent, 0);
		}
	}
	*lat_ms = -1;
	if (arrived && ew_h_str(o, "time") &&
	    !ew_runtime_log_parse_time(ew_h_str(o, "time"), strlen(ew_h_str(o, "time")), &t))
		*lat_ms = (double)(arrived - (int64_t)t) / 1e6;
	return o;
}

/*
 * Every way stderrwriter writes its last words (the cases of test_stderr.c, which the kernel
 * capture passes) gives exactly those bytes from Docker's json-file log, and from the local
 * driver's: stdout (interleave) goes to the same file with "stream":"stdout" and never shows.
 * A driver Docker cannot read back (syslog here; journald, fluentd, gelf alike) gives them from
 * the cache Docker 20.10+ keeps for `docker logs` (dual logging), in the local driver's format.
 * That cache is lossy: under the syslog driver Docker (20.10.24 here) left one of the first
 * lines out of it in about one run in fifteen, and `docker logs` lacks it too; for those cases
 * the tail must be exactly what `docker logs` has on stderr.
 */
static void test_stderr_tail_docker_logs(void **state)
{
	struct fixture *f = *state;
	int bad = 0;
	const struct {
		const char *mode;
		const char *driver; /* --log-driver */
		const char *source; /* the stderr_source it gives */
		bool cache;	    /* read from the dual logging cache: as `docker logs` shows */
	} cases[] = {
		{"cold", "json-file", "docker-json-file", false},
		{"writev", "json-file", "docker-json-file", false},
		{"devstderr", "json-file", "docker-json-file", false},
		{"big", "json-file", "docker-json-file", false},
		{"interleave", "json-file", "docker-json-file", false},
		{"child", "json-file", "docker-json-file", false},
		{"writev", "local", "docker-local", false},
		{"big", "local", "docker-local", false},
		{"interleave", "local", "docker-local", false},
		/* UDP: sent whether or not anything listens. */
		{"writev", "syslog --log-opt syslog-address=udp://127.0.0.1:5514", "docker-local",
		 true},
		{"interleave", "syslog --log-opt syslog-address=udp://127.0.0.1:5514",
		 "docker-local", true},
	};

	require_stderr_images();
	start_agent(f, NULL, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[96], opts[128], cmd[64], what[64], code[16], driver[16], logs[256];
		static char docker_logs[EW_H_TAIL_BYTES + 1];
		const char *want = ew_h_stderr_want(cases[i].mode);
		size_t from = 0;
		json_object *e;
		double lat;

		snprintf(driver, sizeof(driver), "%.*s", (int)strcspn(cases[i].driver, " "),
			 cases[i].driver);
		snprintf(name, sizeof(name), "%s-%s-%s", f->name, cases[i].mode, driver);
		snprintf(opts, sizeof(opts), "--log-driver %s", cases[i].driver);
		snprintf(cmd, sizeof(cmd), "stderrwriter %s", cases[i].mode);
		snprintf(what, sizeof(what), "%s (%s)", cases[i].mode, driver);
		docker_start_bg(f, name, opts, IMAGE, cmd);
		e = wait_exit_timed(f, name, &from, 20000, &lat);
		print_message("%-22s container_exit %6.1f ms after the exit\n", what, lat);
		assert_int_equal(ew_h_int(e, "exit.code", -1), 3);
		if (cases[i].cache) {
			snprintf(logs, sizeof(logs), "%s/%s.logs", f->s.dir, name);
			assert_int_equal(ew_h_sh("docker logs %s >/dev/null 2>'%s'", name, logs),
					 0);
			assert_true(ew_h_read_file(logs, docker_logs, sizeof(docker_logs)) > 0);
			if (strcmp(docker_logs, want))
				print_message(
					"%s: Docker's cache lost some of it: docker logs shows "
					"[%s]\n",
					what, docker_logs);
			want = docker_logs;
		}
		/* Every case runs, so that one run shows every wrong tail. */
		if (!tail_ok(e, what, cases[i].source, want))
			bad++;
		assert_int_equal(ew_h_capture(code, sizeof(code), "docker wait %s", name), 0);
		assert_string_equal(code, "3");
	}
	if (bad)
		fail_msg("%d of %zu cases gave a stderr tail other than the bytes written", bad,
			 sizeof(cases) / sizeof(cases[0]));
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/*
 * A real Python traceback: the host's python3 runs in the container (its /usr mounted) a
 * script that prints to stdout, warns on stderr, then dies of an import in a function. The
 * expected tail is what the same python3 writes to stderr for the same script on the host:
 * the traceback's text (source lines, carets) depends on its version.
 */
static void test_stderr_tail_python_traceback(void **state)
{
	struct fixture *f = *state;
	static const char script[] =
		"import sys\n"
		"\n"
		"print('starting shop backend', flush=True)\n"
		"sys.stderr.write('WARNING: no SENTRY_DSN, errors go to stderr\\n')\n"
		"\n"
		"\n"
		"def load_plugins():\n"
		"    import app.services.monitoring\n"
		"\n"
		"\n"
		"def main():\n"
		"    load_plugins()\n"
		"\n"
		"\n"
		"main()\n";
	char py[128], expect_path[160], opts[256], cmd[256], name[96], code[16];
	static char want[8192];
	size_t from = 0;
	json_object *e;
	ssize_t n;
	double lat;

	require_stderr_images();
	ew_h_scratch_file(&f->s, "main.py", script, py, sizeof(py));
	snprintf(expect_path, sizeof(expect_path), "%s/expected.stderr", f->s.dir);
	assert_int_equal(ew_h_sh("/usr/bin/python3 -I '%s' >/dev/null 2>'%s'", py, expect_path), 1);
	n = ew_h_read_file(expect_path, want, sizeof(want));
	assert_true(n > 0 && n < EW_H_TAIL_BYTES);
	assert_non_null(strstr(want, "Traceback (most recent call last):\n"));
	assert_non_null(strstr(want, "ModuleNotFoundError: No module named 'app'\n"));
	print_message("python3 on the host wrote %zd bytes to stderr\n", n);

	start_agent(f, NULL, NULL);
	snprintf(name, sizeof(name), "%s-python", f->name);
	snprintf(opts, sizeof(opts), "-v /usr:/usr:ro -v '%s:%s:ro'", f->s.dir, f->s.dir);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -I '%s'", py);
	docker_start_bg(f, name, opts, PY_IMAGE, cmd);
	e = wait_exit_timed(f, name, &from, 20000, &lat);
	print_message("python traceback       container_exit %6.1f ms after the exit\n", lat);
	assert_int_equal(ew_h_int(e, "exit.code", -1), 1);
	check_tail(e, "python", "docker-json-file", want);
	assert_int_equal(ew_h_capture(code, sizeof(code), "docker wait %s", name), 0);
	assert_string_equal(code, "1");
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/*
 * Docker restarts a failing container (on-failure:2: three instances); its json-file log
 * carries on across them. Each instance writes lines of its own number (the count survives in
 * the container's /tmp), and each container_exit's tail holds only its own instance's.
 */
static void test_stderr_tail_per_restart(void **state)
{
	struct fixture *f = *state;
	char name[96], want[128], what[32], restarts[16];
	size_t from = 0;
	json_object *e;
	double lat;

	require_stderr_images();
	start_agent(f, NULL, NULL);
	snprintf(name, sizeof(name), "%s-restart", f->name);
	docker_start_bg(f, name, "--restart on-failure:2", IMAGE,
			"sh -c 'n=$(cat /tmp/n 2>/dev/null || echo 0); n=$((n + 1)); "
			"echo $n >/tmp/n; echo \"instance $n: starting\" >&2; "
			"echo \"instance $n: stdout\"; "
			"echo \"instance $n: cannot connect, giving up\" >&2; exit 3'");
	for (int i = 1; i <= 3; i++) {
		e = wait_exit_timed(f, name, &from, 20000, &lat);
		snprintf(what, sizeof(what), "instance %d", i);
		print_message("restart, %-12s container_exit %6.1f ms after the exit\n", what, lat);
		assert_int_equal(ew_h_int(e, "exit.code", -1), 3);
		snprintf(want, sizeof(want),
			 "instance %d: starting\ninstance %d: cannot connect, giving up\n", i, i);
		check_tail(e, what, "docker-json-file", want);
	}
	/* Docker gave up after the second restart: no fourth instance. */
	assert_int_equal(ew_h_capture(restarts, sizeof(restarts),
				      "docker wait %s >/dev/null && docker inspect -f "
				      "'{{.RestartCount}}' %s",
				      name, name),
			 0);
	assert_string_equal(restarts, "2");
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/* A kubepods-shaped cgroup, containerd's files under --host-root: pod names, and a restart
 * with a new container id is the same identity. */
static void test_kubernetes_shaped(void **state)
{
	struct fixture *f = *state;
	char root[128], uid[37], uid_us[37], id1[65], id2[65], layout[384], *p, sfx1[80], sfx2[80];
	json_object *s1, *s2, *e;
	pid_t pid;

	ew_h_require_bpf();
	snprintf(root, sizeof(root), "%s/host", f->s.dir);
	assert_int_equal(ew_h_sh("mkdir -p '%s' && ln -s /proc '%s/proc'", root, root), 0);
	ew_h_rand_uid(uid);
	strcpy(uid_us, uid);
	for (p = uid_us; (p = strchr(p, '-'));)
		*p = '_';
	ew_h_rand_id(id1);
	ew_h_rand_id(id2);
	snprintf(sfx1, sizeof(sfx1), "%s.scope", id1);
	snprintf(sfx2, sizeof(sfx2), "%s.scope", id2);
	ew_h_write_cri_config(root, id1, uid, "checkout-6d5f7c9b8-q4w2x", "shop", "backend");
	ew_h_write_cri_config(root, id2, uid, "checkout-6d5f7c9b8-q4w2x", "shop", "backend");
	start_agent(f, "--host-root", root);

	snprintf(layout, sizeof(layout),
		 "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/"
		 "cri-containerd-%s.scope",
		 uid_us, id1);
	pid = ew_h_run_in(f->s.base, layout, EW_H_WL("exit", "3"), -1, false, NULL);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 3);
	s1 = ew_h_wait(&f->agent, ew_h_match, &(struct ew_h_want){"container_start", sfx1}, NULL,
		       5000);
	assert_non_null(s1);
	assert_string_equal(ew_h_str(s1, "pod.namespace"), "shop");
	assert_string_equal(ew_h_str(s1, "pod.name"), "checkout-6d5f7c9b8-q4w2x");
	assert_string_equal(ew_h_str(s1, "pod.uid"), uid);
	assert_string_equal(ew_h_str(s1, "pod.qos"), "burstable");
	assert_string_equal(ew_h_str(s1, "container.name"), "backend");
	assert_string_equal(ew_h_str(s1, "container.image"),
			    "registry.example.com/shop/backend:1.4.2");
	assert_string_equal(ew_h_str(s1, "workload.key"), "k8s:shop/checkout/backend");
	assert_string_equal(ew_h_label(s1, "namespace"), "shop");
	assert_string_equal(ew_h_label(s1, "pod"), "checkout-6d5f7c9b8-q4w2x");

	/* The kubelet restarts it: a new container id, the same pod and name. */
	snprintf(layout, sizeof(layout),
		 "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/"
		 "cri-containerd-%s.scope",
		 uid_us, id2);
	pid = ew_h_run_in(f->s.base, layout, EW_H_WL("exit", "3"), -1, false, NULL);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 3);
	s2 = ew_h_wait(&f->agent, ew_h_match, &(struct ew_h_want){"container_start", sfx2}, NULL,
		       5000);
	assert_non_null(s2);
	assert_string_equal(ew_h_str(s2, "container.identity"), ew_h_str(s1, "container.identity"));
	assert_int_equal(ew_h_int(s2, "restarts", 0), 1);
	e = ew_h_wait(&f->agent, ew_h_match, &(struct ew_h_want){"container_exit", sfx2}, NULL,
		      5000);
	assert_non_null(e);
	assert_string_equal(ew_h_str(e, "container.name"), "backend");
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_crash_loop_names_and_finding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_not_found_is_start_failed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_oom_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_docker_stop_terminated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_docker_kill_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stderr_tail_docker_logs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recreated_same_name_is_one_workload, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_parent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stderr_tail_python_traceback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stderr_tail_per_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kubernetes_shaped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_entrants_never_main, setup, teardown),
	};

	return cmocka_run_group_tests_name("bpf_docker", tests, NULL, NULL);
}
