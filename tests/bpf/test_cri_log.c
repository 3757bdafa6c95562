// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The stderr tail of a Kubernetes container comes from the kubelet's CRI log, read at its exit:
 * <host_root>/var/log/pods/<ns>_<pod>_<uid>/<container>/<attempt>.log, the highest attempt.
 * Each case is one restart of the same container (a fresh container id, the next attempt's
 * file) in a kubepods-shaped cgroup, with containerd's config.json under --host-root for the
 * pod's names, and tests/helpers/crishim.c in the shim's place: the main process writes its
 * stdout and stderr to pipes, the shim (outside the cgroup) appends them to the log as CRI
 * entries. The tail is exactly the last bytes of the current attempt's stderr (the same bytes
 * tests/bpf/test_stderr.c expects of the kernel capture), "stderr_source" says "cri", and there
 * is no "stderr_bytes" (a log read from its end cannot count them all). Also: an attempt that
 * writes nothing to stderr has no tail, whatever the previous attempt's file holds; a line
 * written in two pieces (a "P" entry, then an "F") is one line; and a real Python traceback.
 * Needs root; under CI=true a skip is a failure.
 */
#include <fcntl.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness/harness.h"
#include "harness/stderr_cases.h"

#define POD_NS	  "shop"
#define POD_NAME  "checkout-6d5f7c9b8-q4w2x"
#define CONTAINER "backend"
#define EXPECT_MS 5000

static int setup(void **state)
{
	return ew_h_fixture_setup(state, "cri");
}

static int teardown(void **state)
{
	return ew_h_fixture_teardown(state);
}

/* A helper beside the workload helper. */
static const char *helper(const char *name)
{
	static char path[2][4096];
	static int which;
	char dir[4096];

	which ^= 1;
	snprintf(dir, sizeof(dir), "%s", ew_h_workload());
	snprintf(path[which], sizeof(path[which]), "%s/%s", dirname(dir), name);
	return path[which];
}

static void require_helpers(void)
{
	ew_h_require_bpf();
	ew_h_need(access(helper("crishim"), X_OK) == 0, "the crishim helper is not built");
	ew_h_need(access(helper("stderrwriter"), X_OK) == 0,
		  "the stderrwriter helper is not built");
}

/* The one pod every attempt belongs to. */
struct pod {
	char root[128]; /* --host-root */
	char uid[37];
	char uid_us[37]; /* as the systemd cgroup driver spells it */
	char logdir[512];
	int attempt; /* the next one */
};

static void pod_init(struct pod *p, const struct ew_h_scratch *s)
{
	snprintf(p->root, sizeof(p->root), "%s/host", s->dir);
	assert_int_equal(ew_h_sh("mkdir -p '%s' && ln -s /proc '%s/proc'", p->root, p->root), 0);
	ew_h_rand_uid(p->uid);
	strcpy(p->uid_us, p->uid);
	for (char *c = p->uid_us; (c = strchr(c, '-'));)
		*c = '_';
	snprintf(p->logdir, sizeof(p->logdir), "%s/var/log/pods/%s_%s_%s/%s", p->root, POD_NS,
		 POD_NAME, p->uid, CONTAINER);
	assert_int_equal(ew_h_sh("mkdir -p '%s'", p->logdir), 0);
	p->attempt = 0;
}

/*
 * The kubelet starts the container's next attempt: a new container id and its config.json, a
 * kubepods cgroup, and the shim running cmd there with its output in <logdir>/<attempt>.log.
 * Waits for the shim (it exits with cmd's code, which must be code), then for the agent's
 * container_exit of that cgroup. log gets the attempt's log file.
 */
static json_object *run_attempt(struct ew_h_fixture *f, struct pod *p, char *const cmd[], int code,
				char *log, size_t loglen)
{
	char id[65], rel[512], procs[4096], sfx[80];
	char *argv[16] = {(char *)helper("crishim"), log, procs, "--"};
	size_t n = 4;
	pid_t pid;
	int st;

	ew_h_rand_id(id);
	ew_h_write_cri_config(p->root, id, p->uid, POD_NAME, POD_NS, CONTAINER);
	snprintf(rel, sizeof(rel),
		 "%s/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/"
		 "cri-containerd-%s.scope",
		 f->s.base, p->uid_us, id);
	assert_int_equal(ew_h_cgroup_make(rel), 0);
	snprintf(procs, sizeof(procs), "%s%s/cgroup.procs", ew_h_cgroup_root(), rel);
	snprintf(log, loglen, "%s/%d.log", p->logdir, p->attempt++);
	snprintf(sfx, sizeof(sfx), "%s.scope", id);
	for (; *cmd && n < sizeof(argv) / sizeof(argv[0]) - 1; cmd++)
		argv[n++] = *cmd;
	argv[n] = NULL;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		dup2(nul, 0);
		dup2(nul, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	st = ew_h_wait_pid(pid, 20000);
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != code)
		fail_msg("%s: crishim status 0x%x, not exit code %d", argv[4], (unsigned)st, code);
	return ew_h_expect(&f->agent, "container_exit", sfx, EXPECT_MS);
}

/* A tail taken from the CRI log: exactly want, its source "cri", no kernel byte count. */
static void check_tail(json_object *e, const char *what, int code, const char *want)
{
	const char *tail = ew_h_str(e, "stderr_tail");

	assert_int_equal(ew_h_int(e, "exit.code", -1), code);
	assert_string_equal(ew_h_str(e, "container.name"), CONTAINER);
	assert_string_equal(ew_h_str(e, "pod.name"), POD_NAME);
	if (!tail || strcmp(tail, want))
		fail_msg("%s: stderr_tail is\n[%s]\nnot\n[%s]", what, tail ? tail : "(none)", want);
	if (!ew_h_str(e, "stderr_source") || strcmp(ew_h_str(e, "stderr_source"), "cri"))
		fail_msg("%s: stderr_source is %s, not cri", what,
			 ew_h_str(e, "stderr_source") ? ew_h_str(e, "stderr_source") : "(none)");
	if (ew_h_get(e, "stderr_bytes"))
		fail_msg("%s: stderr_bytes %lld in a tail from the CRI log", what,
			 (long long)ew_h_int(e, "stderr_bytes", -1));
}

/* An attempt that wrote nothing to stderr: no tail (or an empty one), nothing from before. */
static void check_no_tail(json_object *e, const char *what, int code)
{
	const char *tail = ew_h_str(e, "stderr_tail");

	assert_int_equal(ew_h_int(e, "exit.code", -1), code);
	if (tail && tail[0])
		fail_msg("%s: stderr_tail is\n[%s]\nthough this attempt wrote no stderr", what,
			 tail);
	if (ew_h_get(e, "stderr_bytes"))
		fail_msg("%s: stderr_bytes %lld without a tail", what,
			 (long long)ew_h_int(e, "stderr_bytes", -1));
}

/* The log file holds a line with needle: the shim logged what the case means to test. */
static void check_log_has(const char *log, const char *needle)
{
	static char text[1 << 16];

	assert_true(ew_h_read_file(log, text, sizeof(text)) >= 0);
	if (!strstr(text, needle))
		fail_msg("%s has no [%s]; it holds:\n%s", log, needle, text);
}

static void test_cri_tails(void **state)
{
	struct ew_h_fixture *f = *state;
	size_t ncases;
	const struct ew_h_stderr_case *writer_cases = ew_h_stderr_cases(&ncases);
	struct pod p;
	char log[600], prev[600];
	json_object *e;

	require_helpers();
	pod_init(&p, &f->s);
	ew_h_agent_start(&f->agent, (const char *const[]){"--agent-interval", "1h", "--host-root",
							  p.root, NULL});

	for (size_t i = 0; i < ncases; i++) {
		const char *mode = writer_cases[i].mode;

		e = run_attempt(f, &p,
				(char *const[]){(char *)helper("stderrwriter"), (char *)mode, NULL},
				3, log, sizeof(log));
		check_tail(e, mode, 3, writer_cases[i].want);
	}

	/* The previous attempt's file ends in stderr lines; this one writes only stdout. */
	snprintf(prev, sizeof(prev), "%s", log);
	check_log_has(prev, " stderr F main: worker died, giving up\n");
	e = run_attempt(f, &p,
			(char *const[]){"/bin/sh", "-c", "echo 'listening on :8080'; exit 3", NULL},
			3, log, sizeof(log));
	check_log_has(log, " stdout F listening on :8080\n");
	check_no_tail(e, "stdout only, after an attempt with stderr", 3);

	/* One line in two write()s 200 ms apart: the shim logs a P entry, then the F. */
	e = run_attempt(f, &p,
			(char *const[]){"/bin/sh", "-c",
					"printf 'part one, ' >&2; sleep 0.2; "
					"printf 'part two\\n' >&2; exit 3",
					NULL},
			3, log, sizeof(log));
	check_log_has(log, " stderr P part one, \n");
	check_log_has(log, " stderr F part two\n");
	check_tail(e, "partial line", 3, "part one, part two\n");

	/* An attempt that writes nothing at all (an empty log), after one with stderr. */
	e = run_attempt(f, &p, (char *const[]){(char *)ew_h_workload(), "exit", "3", NULL}, 3, log,
			sizeof(log));
	check_no_tail(e, "silent, after an attempt with stderr", 3);

	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/* The host's python3 failing to import a module: the tail is exactly what it writes to stderr
 * when run the same way on the host. */
static void test_cri_python_traceback(void **state)
{
	struct ew_h_fixture *f = *state;
	static const char code[] = "import app.services.monitoring";
	static char want[8192];
	char py[4096], expected[256], log[600];
	struct pod p;
	json_object *e;
	int rc;

	require_helpers();
	/* The interpreter itself, not a wrapper (pyenv's shims are shell scripts). */
	ew_h_need(ew_h_capture(py, sizeof(py),
			       "python3 -c 'import sys; print(sys.executable)' 2>/dev/null") == 0 &&
			  py[0] && access(py, X_OK) == 0,
		  "no python3 on the host");
	snprintf(expected, sizeof(expected), "%s/python.stderr", f->s.dir);
	rc = ew_h_sh("'%s' -c '%s' 2>'%s' >/dev/null", py, code, expected);
	assert_int_equal(rc, 1);
	assert_true(ew_h_read_file(expected, want, sizeof(want)) > 0);
	assert_non_null(strstr(want, "ModuleNotFoundError: No module named 'app'"));

	pod_init(&p, &f->s);
	ew_h_agent_start(&f->agent, (const char *const[]){"--agent-interval", "1h", "--host-root",
							  p.root, NULL});
	e = run_attempt(f, &p, (char *const[]){py, "-c", (char *)code, NULL}, 1, log, sizeof(log));
	check_tail(e, "python3", 1, want);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cri_tails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cri_python_traceback, setup, teardown),
	};

	return cmocka_run_group_tests_name("bpf_cri_log", tests, NULL, NULL);
}
