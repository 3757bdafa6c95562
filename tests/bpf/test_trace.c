// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The real BPF programs, loaded by the real binary, against main processes started in cgroups
 * shaped like each runtime's layout. Needs root; under CI=true a skip is a failure.
 */
#include <errno.h>
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

static int setup(void **state)
{
	return ew_h_fixture_setup(state, "test");
}

static int teardown(void **state)
{
	return ew_h_fixture_teardown(state);
}

static void start_agent(struct ew_h_fixture *f, const char *const *extra)
{
	/* Bare cgroups have no runtime log: stderr tails are the kernel capture's. */
	const char *args[32] = {"--agent-interval", "1h", "--stderr-kernel"};
	int n = 3;

	for (; extra && *extra; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	ew_h_agent_start(&f->agent, args);
}

/* Makes <base><layout> and runs argv as its main process; returns the pid. */
static pid_t run_in(struct ew_h_fixture *f, const char *layout, char *const argv[], int stderr_fd,
		    bool core, const char *cwd)
{
	return ew_h_run_in(f->s.base, layout, argv, stderr_fd, core, cwd);
}

static json_object *wait_rec(struct ew_h_fixture *f, const char *event, const char *cgroup_suffix,
			     int ms)
{
	return ew_h_expect(&f->agent, event, cgroup_suffix, ms);
}

static size_t count_rec(struct ew_h_fixture *f, const char *event, const char *cgroup_suffix)
{
	return ew_h_count_rec(&f->agent, event, cgroup_suffix);
}

#define WL EW_H_WL

/* ---- every runtime layout: the record names the runtime and ids from the cgroup ---- */

static void test_layouts(void **state)
{
	struct ew_h_fixture *f = *state;
	char id[65], uid[37], uid_us[37], layout[16][512], *p;
	struct want {
		const char *runtime;
		bool k8s;
		bool has_id;
		const char *unit;
	} want[16];
	int n = 0;

	ew_h_require_bpf();
	ew_h_rand_id(id);
	ew_h_rand_uid(uid);
	strcpy(uid_us, uid);
	for (p = uid_us; (p = strchr(p, '-'));)
		*p = '_';
#define L(rt, k8s, hasid, unit, ...)                                 \
	do {                                                         \
		snprintf(layout[n], sizeof(layout[n]), __VA_ARGS__); \
		want[n] = (struct want){rt, k8s, hasid, unit};       \
		n++;                                                 \
	} while (0)
	L("docker", false, true, NULL, "/docker/%s", id);
	L("docker", false, true, NULL, "/system.slice/docker-%s.scope", id);
	L("containerd", true, true, NULL,
	  "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/"
	  "cri-containerd-%s.scope",
	  uid_us, id);
	L("containerd", true, true, NULL, "/kubepods/besteffort/pod%s/%s", uid, id);
	L("cri-o", true, true, NULL, "/kubepods.slice/kubepods-pod%s.slice/crio-%s.scope", uid_us,
	  id);
	L("podman", false, true, NULL, "/machine.slice/libpod-%s.scope", id);
	L("systemd", false, false, "ewtest-web.service", "/system.slice/ewtest-web.service");
	L("cgroup", false, false, NULL, "/plain/group");
#undef L
	start_agent(f, NULL);
	for (int i = 0; i < n; i++) {
		pid_t pid = run_in(f, layout[i], WL("exit", "0"), -1, false, NULL);
		json_object *s, *e;

		assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 0);
		s = wait_rec(f, "container_start", layout[i], 5000);
		e = wait_rec(f, "container_exit", layout[i], 5000);
		print_message("layout %s -> %s\n", layout[i], ew_h_str(e, "container.identity"));
		assert_string_equal(ew_h_str(s, "container.runtime"), want[i].runtime);
		assert_string_equal(ew_h_str(e, "container.runtime"), want[i].runtime);
		assert_int_equal(ew_h_int(s, "process.pid", 0), pid);
		assert_int_equal(ew_h_int(s, "process.ppid", 0), getpid());
		assert_string_equal(ew_h_str(s, "process.comm"), "workload");
		assert_string_equal(ew_h_str(s, "process.argv0"), ew_h_workload());
		assert_true(ew_h_int(s, "container.cgroup_id", 0) > 1);
		assert_int_equal(ew_h_int(s, "container.cgroup_id", 0),
				 ew_h_int(e, "container.cgroup_id", -1));
		if (want[i].has_id)
			assert_string_equal(ew_h_str(e, "container.id"), id);
		else
			assert_non_null(strstr(ew_h_str(e, "container.id"), layout[i]));
		if (want[i].k8s)
			assert_string_equal(ew_h_str(e, "pod.uid"), uid);
		else
			assert_null(ew_h_get(e, "pod"));
		if (want[i].unit)
			assert_string_equal(ew_h_str(e, "container.unit"), want[i].unit);
		assert_string_equal(ew_h_str(e, "exit.class"), "clean");
		assert_string_equal(ew_h_str(e, "severity"), "INFO");
		assert_int_equal(ew_h_int(e, "exit.code", -1), 0);
		assert_int_equal(ew_h_int(e, "process.pid", 0), pid);
		assert_string_equal(ew_h_str(e, "process.argv0"), ew_h_workload());
		assert_non_null(ew_h_str(e, "message"));
		assert_int_equal(strlen(ew_h_str(e, "time")),
				 strlen("2026-11-29T11:44:14.932347598Z"));
		assert_int_equal(ew_h_int(e, "schema", 0), 1);
		assert_true(json_object_object_get_ex(e, "logging.googleapis.com/insertId", NULL));
		assert_true(json_object_object_get_ex(e, "logging.googleapis.com/labels", NULL));
	}
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/* ---- exit words ---- */

static void test_exit_3(void **state)
{
	struct ew_h_fixture *f = *state;
	json_object *e;
	pid_t pid;

	ew_h_require_bpf();
	start_agent(f, NULL);
	pid = run_in(f, "/system.slice/ewtest-exit3.service", WL("sleep", "200", "3"), -1, false,
		     NULL);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 3);
	e = wait_rec(f, "container_exit", "/ewtest-exit3.service", 5000);
	assert_int_equal(ew_h_int(e, "exit.code", -1), 3);
	assert_int_equal(ew_h_int(e, "exit.signal", -1), 0);
	assert_null(ew_h_str(e, "exit.signal_name"));
	assert_false(ew_h_bool(e, "exit.core_dumped", true));
	assert_string_equal(ew_h_str(e, "exit.class"), "config_error");
	assert_non_null(strstr(ew_h_str(e, "exit.meaning"), "configuration"));
	assert_string_equal(ew_h_str(e, "severity"), "WARNING");
	assert_true(ew_h_double(e, "uptime_s", 0) >= 0.19 && ew_h_double(e, "uptime_s", 9) < 3);
	assert_non_null(strstr(ew_h_str(e, "message"), "exited with code 3"));
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

static void test_segv_core_flag(void **state)
{
	struct ew_h_fixture *f = *state;
	const char *dir = f->s.dir; /* the core, if one is written, lands in the cwd */
	json_object *e;
	pid_t pid;

	ew_h_require_bpf();
	start_agent(f, NULL);
	/* RLIMIT_CORE 0: killed by SIGSEGV, no core. */
	pid = run_in(f, "/segv-nocore", WL("segv"), -1, false, dir);
	assert_true(WIFSIGNALED(ew_h_wait_pid(pid, 5000)));
	e = wait_rec(f, "container_exit", "/segv-nocore", 5000);
	assert_int_equal(ew_h_int(e, "exit.signal", 0), SIGSEGV);
	assert_string_equal(ew_h_str(e, "exit.signal_name"), "SIGSEGV");
	assert_false(ew_h_bool(e, "exit.core_dumped", true));
	assert_string_equal(ew_h_str(e, "exit.class"), "crash");
	assert_string_equal(ew_h_str(e, "severity"), "ERROR");
	/* RLIMIT_CORE unlimited (core_pattern permitting): the core flag is set. */
	pid = run_in(f, "/segv-core", WL("segv"), -1, true, dir);
	{
		int st = ew_h_wait_pid(pid, 10000);

		assert_true(WIFSIGNALED(st));
		e = wait_rec(f, "container_exit", "/segv-core", 10000);
		assert_int_equal(ew_h_bool(e, "exit.core_dumped", false), WCOREDUMP(st) != 0);
		print_message("core dumped per waitpid: %d\n", WCOREDUMP(st) != 0);
	}
	assert_string_equal(ew_h_str(e, "exit.class"), "crash");
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/*
 * The core-dump positive path, whatever the host's core_pattern (a pipe to systemd-coredump or
 * apport, or a bare "core" in a directory the process cannot write): core_pattern points at
 * this test's scratch directory for the time of the two crashes, RLIMIT_CORE is unlimited, and
 * a real core must be written. The host's pattern is put back right after the crashes, and in
 * core_teardown whatever the test's outcome.
 */
#define CORE_PATTERN "/proc/sys/kernel/core_pattern"

static char saved_core_pattern[256]; /* the host's, while the test's is set; else "" */

static int core_pattern_write(const char *pattern)
{
	FILE *p = fopen(CORE_PATTERN, "w");
	int ok = p && fputs(pattern, p) >= 0;

	if (p && fclose(p))
		ok = 0;
	return ok ? 0 : -1;
}

static void core_pattern_restore(void)
{
	if (!saved_core_pattern[0])
		return;
	if (core_pattern_write(saved_core_pattern))
		fprintf(stderr, "test_trace: cannot restore %s to '%s': %s\n", CORE_PATTERN,
			saved_core_pattern, strerror(errno));
	saved_core_pattern[0] = '\0';
}

/* Sets core_pattern to "<dir>/core.%p" after keeping the host's; skips (fails under CI) if the
 * file cannot be read or written, e.g. a read-only /proc/sys in a container. */
static void core_pattern_set(const char *dir)
{
	char host[sizeof(saved_core_pattern)], pattern[128]; /* the kernel's limit: 128 */

	ew_h_need(ew_h_read_file(CORE_PATTERN, host, sizeof(host)) > 0,
		  "cannot read " CORE_PATTERN);
	host[strcspn(host, "\n")] = '\0';
	/* An empty pattern (no core) is written back as such: the kernel takes "\n" for it. */
	if (!host[0])
		strcpy(host, "\n");
	snprintf(pattern, sizeof(pattern), "%s/core.%%p", dir);
	ew_h_need(core_pattern_write(pattern) == 0, "cannot write " CORE_PATTERN);
	strcpy(saved_core_pattern, host);
}

static int core_teardown(void **state)
{
	core_pattern_restore();
	return ew_h_fixture_teardown(state);
}

/* Crashes the workload with mode (segv or abort) in <base><layout>, RLIMIT_CORE unlimited and
 * the scratch directory as its cwd; its pid goes to *pid. waitpid must say: killed by sig, core
 * dumped. */
static void crash_with_core(struct ew_h_fixture *f, const char *layout, const char *mode, int sig,
			    pid_t *pid)
{
	int st;

	*pid = run_in(f, layout, WL((char *)mode), -1, true, f->s.dir);
	st = ew_h_wait_pid(*pid, 10000);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), sig);
	if (!WCOREDUMP(st))
		fail_msg("%s: killed by signal %d but no core dumped (core_pattern %s/core.%%p, "
			 "RLIMIT_CORE unlimited)",
			 mode, sig, f->s.dir);
}

static void test_core_dumped(void **state)
{
	struct ew_h_fixture *f = *state;
	const struct {
		const char *layout, *mode, *signame;
		int sig;
	} crash[] = {
		{"/core-segv", "segv", "SIGSEGV", SIGSEGV},
		{"/core-abort", "abort", "SIGABRT", SIGABRT},
	};
	pid_t pid[2];

	ew_h_require_bpf();
	start_agent(f, NULL);
	core_pattern_set(f->s.dir);
	for (int i = 0; i < 2; i++)
		crash_with_core(f, crash[i].layout, crash[i].mode, crash[i].sig, &pid[i]);
	core_pattern_restore();
	for (int i = 0; i < 2; i++) {
		char core[128];
		struct stat st;
		json_object *e;

		e = wait_rec(f, "container_exit", crash[i].layout, 10000);
		assert_int_equal(ew_h_int(e, "process.pid", 0), pid[i]);
		assert_int_equal(ew_h_int(e, "exit.signal", 0), crash[i].sig);
		assert_string_equal(ew_h_str(e, "exit.signal_name"), crash[i].signame);
		assert_true(ew_h_bool(e, "exit.core_dumped", false));
		assert_string_equal(ew_h_str(e, "exit.class"), "crash");
		assert_string_equal(ew_h_str(e, "severity"), "ERROR");
		assert_non_null(strstr(ew_h_str(e, "message"), "core dumped"));
		snprintf(core, sizeof(core), "%s/core.%d", f->s.dir, pid[i]);
		if (stat(core, &st) || !S_ISREG(st.st_mode) || st.st_size == 0)
			fail_msg("no core at %s: %s", core, strerror(errno));
		print_message("%s: core_dumped true, %s of %lld bytes\n", crash[i].signame, core,
			      (long long)st.st_size);
	}
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

static void test_sigkill_from_another_process(void **state)
{
	struct ew_h_fixture *f = *state;
	char comm[32] = "";
	json_object *e;
	FILE *c;
	pid_t pid;

	ew_h_require_bpf();
	start_agent(f, NULL);
	pid = run_in(f, "/killed", WL("pause"), -1, false, NULL);
	wait_rec(f, "container_start", "/killed", 5000);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_true(WIFSIGNALED(ew_h_wait_pid(pid, 5000)));
	e = wait_rec(f, "container_exit", "/killed", 5000);
	assert_int_equal(ew_h_int(e, "exit.signal", 0), SIGKILL);
	assert_string_equal(ew_h_str(e, "exit.class"), "killed");
	assert_int_equal(ew_h_int(e, "killed_by.pid", 0), getpid());
	assert_string_equal(ew_h_str(e, "killed_by.signal_name"), "SIGKILL");
	assert_int_equal(ew_h_int(e, "killed_by.signal", 0), SIGKILL);
	/* The sender is this test: "host" when it runs in the root cgroup, else its cgroup. */
	{
		char own[256] = "";
		FILE *cg = fopen("/proc/self/cgroup", "r");

		while (cg && fgets(own, sizeof(own), cg) && strncmp(own, "0::", 3))
			;
		if (cg)
			fclose(cg);
		if (!strcmp(own, "0::/\n"))
			assert_string_equal(ew_h_str(e, "killed_by.container"), "host");
		else
			assert_string_not_equal(ew_h_str(e, "killed_by.container"), "unknown");
	}
	c = fopen("/proc/self/comm", "r");
	assert_non_null(fgets(comm, sizeof(comm), c));
	fclose(c);
	comm[strcspn(comm, "\n")] = '\0';
	assert_string_equal(ew_h_str(e, "killed_by.comm"), comm);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/*
 * Waits until pid has a handler for sig (SigCgt in its status): the start record comes at the
 * exec, before the workload's signal() call, and a signal sent in between kills it by default
 * (seen under QEMU's TCG in make vmtest).
 */
static void wait_caught(pid_t pid, int sig)
{
	char path[64], buf[4096];
	unsigned long long cgt = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	for (int i = 0; i < 500; i++) {
		const char *l;

		if (ew_h_read_file(path, buf, sizeof(buf)) > 0 && (l = strstr(buf, "SigCgt:")) &&
		    sscanf(l + strlen("SigCgt:"), "%llx", &cgt) == 1 && (cgt >> (sig - 1)) & 1)
			return;
		usleep(10000);
	}
	fail_msg("pid %d has no handler for signal %d after 5 s", (int)pid, sig);
}

/*
 * A sender is named only when its signal ended the process: a SIGHUP the app trapped (to
 * reload) two seconds before it exited 1 is not its cause; a SIGTERM caught and answered with
 * exit 143 within killer_grace (30 s by default) is.
 */
static void test_killer_only_when_it_ended_it(void **state)
{
	struct ew_h_fixture *f = *state;
	pid_t hup, term;
	json_object *e;

	ew_h_require_bpf();
	start_agent(f, NULL);
	hup = run_in(f, "/trap-hup", WL("trap", "1", "2000", "1"), -1, false, NULL);
	term = run_in(f, "/trap-term", WL("trap", "15", "100", "143"), -1, false, NULL);
	wait_rec(f, "container_start", "/trap-hup", 5000);
	wait_rec(f, "container_start", "/trap-term", 5000);
	wait_caught(hup, SIGHUP);
	wait_caught(term, SIGTERM);
	assert_int_equal(kill(hup, SIGHUP), 0);
	assert_int_equal(kill(term, SIGTERM), 0);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(hup, 5000)), 1);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(term, 5000)), 143);

	e = wait_rec(f, "container_exit", "/trap-hup", 5000);
	assert_int_equal(ew_h_int(e, "exit.code", -1), 1);
	assert_null(ew_h_get(e, "killed_by"));
	assert_string_equal(ew_h_str(e, "exit.class"), "app_error");
	assert_null(strstr(ew_h_str(e, "message"), "SIGHUP"));

	e = wait_rec(f, "container_exit", "/trap-term", 5000);
	assert_int_equal(ew_h_int(e, "exit.code", -1), 143);
	assert_int_equal(ew_h_int(e, "killed_by.pid", 0), getpid());
	assert_int_equal(ew_h_int(e, "killed_by.signal", 0), SIGTERM);
	assert_string_equal(ew_h_str(e, "exit.class"), "terminated");
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/* Starts `workload sigwait CODE [fd]` and returns once it has SIGTERM blocked ("ready"). */
static pid_t run_sigwaiter(struct ew_h_fixture *f, const char *layout, const char *code,
			   bool use_fd)
{
	char buf[16] = "";
	int p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = run_in(f, layout,
		     use_fd ? WL("sigwait", (char *)code, "fd") : WL("sigwait", (char *)code), p[1],
		     false, NULL);
	close(p[1]);
	assert_true(read(p[0], buf, sizeof(buf) - 1) > 0);
	close(p[0]);
	assert_string_equal(buf, "ready\n");
	return pid;
}

/*
 * tini, dumb-init and systemd take SIGTERM with sigwait() or signalfd(): blocked, queued, its
 * handler left at SIG_DFL. `docker stop` then exit 1 is still a stop, and who sent it is named.
 */
static void test_killer_sigwait_signalfd(void **state)
{
	struct ew_h_fixture *f = *state;
	pid_t waiter, fdreader;
	json_object *e;

	ew_h_require_bpf();
	start_agent(f, NULL);
	waiter = run_sigwaiter(f, "/sigwait", "1", false);
	fdreader = run_sigwaiter(f, "/signalfd", "1", true);
	wait_rec(f, "container_start", "/sigwait", 5000);
	wait_rec(f, "container_start", "/signalfd", 5000);
	assert_int_equal(kill(waiter, SIGTERM), 0);
	assert_int_equal(kill(fdreader, SIGTERM), 0);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(waiter, 5000)), 1);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(fdreader, 5000)), 1);
	for (int i = 0; i < 2; i++) {
		e = wait_rec(f, "container_exit", i ? "/signalfd" : "/sigwait", 5000);
		assert_int_equal(ew_h_int(e, "exit.code", -1), 1);
		assert_string_equal(ew_h_str(e, "exit.class"), "terminated");
		assert_int_equal(ew_h_int(e, "killed_by.pid", 0), getpid());
		assert_int_equal(ew_h_int(e, "killed_by.signal", 0), SIGTERM);
	}
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/* --killer-grace: a caught SIGTERM answered within it names its sender, after it not. */
static void test_killer_grace(void **state)
{
	struct ew_h_fixture *f = *state;
	const char *const extra[] = {"--killer-grace", "1s", NULL};
	pid_t soon, late;
	json_object *e;

	ew_h_require_bpf();
	start_agent(f, extra);
	soon = run_in(f, "/grace-soon", WL("trap", "15", "100", "1"), -1, false, NULL);
	late = run_in(f, "/grace-late", WL("trap", "15", "1800", "1"), -1, false, NULL);
	wait_rec(f, "container_start", "/grace-soon", 5000);
	wait_rec(f, "container_start", "/grace-late", 5000);
	wait_caught(soon, SIGTERM);
	wait_caught(late, SIGTERM);
	assert_int_equal(kill(soon, SIGTERM), 0);
	assert_int_equal(kill(late, SIGTERM), 0);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(soon, 5000)), 1);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(late, 5000)), 1);
	e = wait_rec(f, "container_exit", "/grace-soon", 5000);
	assert_int_equal(ew_h_int(e, "killed_by.pid", 0), getpid());
	assert_string_equal(ew_h_str(e, "exit.class"), "terminated");
	e = wait_rec(f, "container_exit", "/grace-late", 5000);
	assert_null(ew_h_get(e, "killed_by"));
	assert_string_equal(ew_h_str(e, "exit.class"), "app_error");
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/* SIGXCPU (what RLIMIT_CPU sends, or anyone with kill) ends a process by default: a fatal
 * signal like any other, whose sender is named. */
static void test_sigxcpu_from_another_process(void **state)
{
	struct ew_h_fixture *f = *state;
	json_object *e;
	pid_t pid;

	ew_h_require_bpf();
	start_agent(f, NULL);
	pid = run_in(f, "/xcpu", WL("pause"), -1, false, NULL);
	wait_rec(f, "container_start", "/xcpu", 5000);
	assert_int_equal(kill(pid, SIGXCPU), 0);
	assert_true(WIFSIGNALED(ew_h_wait_pid(pid, 5000)));
	e = wait_rec(f, "container_exit", "/xcpu", 5000);
	assert_int_equal(ew_h_int(e, "exit.signal", 0), SIGXCPU);
	assert_string_equal(ew_h_str(e, "exit.class"), "killed");
	assert_int_equal(ew_h_int(e, "killed_by.pid", 0), getpid());
	assert_int_equal(ew_h_int(e, "killed_by.signal", 0), SIGXCPU);
	assert_string_equal(ew_h_str(e, "killed_by.signal_name"), "SIGXCPU");
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

static void test_exit_group_from_thread(void **state)
{
	struct ew_h_fixture *f = *state;
	json_object *e;
	pid_t pid;

	ew_h_require_bpf();
	start_agent(f, NULL);
	pid = run_in(f, "/group-exit", WL("group-exit", "3"), -1, false, NULL);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 3);
	e = wait_rec(f, "container_exit", "/group-exit", 5000);
	assert_int_equal(ew_h_int(e, "exit.code", -1), 3);
	assert_int_equal(ew_h_int(e, "process.pid", 0), pid);
	/* The other thread's exit must not make a second record. */
	ew_h_agent_pump(&f->agent, 500);
	assert_int_equal(count_rec(f, "container_exit", "/group-exit"), 1);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

static void test_leader_pthread_exit(void **state)
{
	struct ew_h_fixture *f = *state;
	struct ew_h_want w = {"container_exit", "/leader-exit"};
	json_object *e;
	pid_t pid;

	ew_h_require_bpf();
	start_agent(f, NULL);
	pid = run_in(f, "/leader-exit", WL("leader-exit", "800", "5"), -1, false, NULL);
	/* The leader is gone at once; the container is not. */
	assert_null(ew_h_wait(&f->agent, ew_h_match, &w, NULL, 500));
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 5);
	e = wait_rec(f, "container_exit", "/leader-exit", 5000);
	assert_int_equal(ew_h_int(e, "exit.code", -1), 5);
	assert_true(ew_h_double(e, "uptime_s", 0) >= 0.79);
	ew_h_agent_pump(&f->agent, 300);
	assert_int_equal(count_rec(f, "container_exit", "/leader-exit"), 1);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

static void test_children_failing(void **state)
{
	struct ew_h_fixture *f = *state;
	json_object *e;
	pid_t pid;

	ew_h_require_bpf();
	start_agent(f, NULL);
	pid = run_in(f, "/children", WL("children", "40", "7"), -1, false, NULL);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 10000)), 0);
	e = wait_rec(f, "container_exit", "/children", 5000);
	assert_int_equal(ew_h_int(e, "exit.code", -1), 0);
	assert_int_equal(ew_h_int(e, "children.failed", -1), 40);
	assert_int_equal(ew_h_int(e, "children.clean", -1), 0);
	ew_h_agent_pump(&f->agent, 300);
	assert_int_equal(count_rec(f, "container_exit", "/children"), 1);
	assert_int_equal(count_rec(f, "container_start", "/children"), 1);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

static void test_started_before_exitwatch(void **state)
{
	struct ew_h_fixture *f = *state;
	json_object *s, *e;
	pid_t pid;

	ew_h_require_bpf();
	pid = run_in(f,
		     "/system.slice/docker-"
		     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope",
		     WL("pause"), -1, false, NULL);
	usleep(100000);
	start_agent(f, NULL);
	s = wait_rec(f, "container_start", "0123456789abcdef.scope", 5000);
	assert_true(ew_h_bool(s, "already_running", false));
	assert_int_equal(ew_h_int(s, "process.pid", 0), pid);
	assert_string_equal(ew_h_str(s, "container.runtime"), "docker");
	for (size_t i = 0; i < f->agent.nlines; i++)
		if (ew_h_str(f->agent.lines[i], "agent.phase"))
			assert_true(ew_h_int(f->agent.lines[i], "agent.already_running", 0) >= 1);
	kill(pid, SIGTERM);
	assert_true(WIFSIGNALED(ew_h_wait_pid(pid, 5000)));
	e = wait_rec(f, "container_exit", "0123456789abcdef.scope", 5000);
	assert_int_equal(ew_h_int(e, "exit.signal", 0), SIGTERM);
	assert_string_equal(ew_h_str(e, "exit.class"), "terminated");
	assert_int_equal(ew_h_int(e, "killed_by.pid", 0), getpid());
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

static void test_reexec_is_one_start(void **state)
{
	struct ew_h_fixture *f = *state;
	json_object *e;
	pid_t pid;

	ew_h_require_bpf();
	start_agent(f, NULL);
	pid = run_in(f, "/reexec", WL("reexec", "sleep", "200", "4"), -1, false, NULL);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 4);
	e = wait_rec(f, "container_exit", "/reexec", 5000);
	assert_int_equal(ew_h_int(e, "exit.code", -1), 4);
	assert_int_equal(count_rec(f, "container_start", "/reexec"), 1);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

static void test_stderr_tail(void **state)
{
	struct ew_h_fixture *f = *state;
	const char *tail;
	json_object *e;
	pid_t pid;

	ew_h_require_bpf();
	start_agent(f, NULL);
	pid = run_in(f, "/stderr",
		     WL("stderr", "3", "Traceback (most recent call last):",
			"ModuleNotFoundError: No module named 'app.services.monitoring'"),
		     -2, false, NULL);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 3);
	e = wait_rec(f, "container_exit", "/stderr", 5000);
	tail = ew_h_str(e, "stderr_tail");
	assert_non_null(tail);
	assert_string_equal(tail,
			    "Traceback (most recent call last):\n"
			    "ModuleNotFoundError: No module named 'app.services.monitoring'\n");
	assert_non_null(strstr(ew_h_str(e, "message"), "ModuleNotFoundError"));
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/* Bytes no workload should be able to smuggle into a record. */
static void test_hostile_stderr(void **state)
{
	struct ew_h_fixture *f = *state;
	struct ew_h_want forged = {"forged", NULL};
	const char *tail;
	size_t len;
	json_object *e;
	pid_t pid;

	ew_h_require_bpf();
	start_agent(f, NULL);
	pid = run_in(f, "/hostile\"name", WL("hostile", "1"), -2, false, NULL);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 1);
	e = wait_rec(f, "container_exit", "/hostile\"name", 5000);
	tail = ew_h_str(e, "stderr_tail");
	assert_non_null(tail);
	/* The tail holds a NUL (escaped as \u0000): search it by length. */
	len = (size_t)json_object_get_string_len(ew_h_get(e, "stderr_tail"));
	assert_non_null(memmem(tail, len, "nul:\0:after", 11));
	assert_non_null(memmem(tail, len, "\"}\n{\"event\":\"forged\"", 20));
	assert_non_null(memmem(tail, len, "\x1b[31mred", 8));
	assert_non_null(memmem(tail, len, "\xef\xbf\xbd", 3)); /* bad UTF-8 became U+FFFD */
	assert_non_null(memmem(tail, len, "No module named 'app.services.monitoring'\n", 42));
	assert_int_equal(ew_h_count(&f->agent, ew_h_match, &forged), 0);
	for (size_t i = 0; i < f->agent.nlines; i++)
		for (const char *p = f->agent.raw[i]; *p; p++)
			assert_true((unsigned char)*p >= 0x20);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/* A container_exit record of a cgroup under base. */
static bool exit_under(json_object *o, const void *base)
{
	const char *ev = ew_h_str(o, "event"), *cg = ew_h_str(o, "container.cgroup");

	return ev && cg && !strcmp(ev, "container_exit") && strstr(cg, base);
}

/*
 * The storm's children: 10,000. EW_STORM_CHILDREN may lower it where an exec is slow: the kernel
 * matrix's emulated guests, where every child counted and nothing dropped is proven by fewer, and
 * where three guests share two cores (with 10,000 that starved the storm past its wait).
 */
static int storm_children(void)
{
	const char *v = getenv("EW_STORM_CHILDREN");
	int n = v ? atoi(v) : 0;

	return n > 0 ? n : 10000;
}

/*
 * 10,000 short-lived children in one cgroup while 200 main processes start and exit in fresh
 * cgroups: every main exit reported, children only counted, nothing dropped.
 */
static void test_storm(void **state)
{
	struct ew_h_fixture *f = *state;
	enum {
		MAINS = 200
	};
	const int children = storm_children();
	json_object *stop, *e;
	pid_t storm, pids[MAINS];
	char layout[64], sfx[64], nchildren[16];
	size_t before;

	ew_h_require_bpf();
	start_agent(f, NULL);
	snprintf(nchildren, sizeof(nchildren), "%d", children);
	storm = run_in(f, "/storm", WL("children", nchildren, "0", "exec"), -1, false, NULL);
	for (int i = 0; i < MAINS; i++) {
		char code[8];

		snprintf(layout, sizeof(layout), "/mains/m%d", i);
		snprintf(code, sizeof(code), "%d", i % 100);
		pids[i] = run_in(f, layout, WL("exit", code), -1, false, NULL);
	}
	for (int i = 0; i < MAINS; i++)
		assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pids[i], 10000)), i % 100);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(storm, 120000)), 0);
	e = wait_rec(f, "container_exit", "/storm", 10000);
	assert_int_equal(ew_h_int(e, "children.clean", -1), children);
	for (int i = 0; i < MAINS; i++) {
		snprintf(sfx, sizeof(sfx), "/mains/m%d", i);
		e = wait_rec(f, "container_exit", sfx, 10000);
		assert_int_equal(ew_h_int(e, "exit.code", -1), i % 100);
		assert_int_equal(count_rec(f, "container_exit", sfx), 1);
	}
	/* Exits of this test's cgroups only: other tests may run containers on the host. */
	before = ew_h_count(&f->agent, exit_under, f->s.base);
	assert_int_equal(before, MAINS + 1);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
	stop = f->agent.lines[f->agent.nlines - 1];
	assert_string_equal(ew_h_str(stop, "agent.phase"), "stop");
	assert_int_equal(ew_h_int(stop, "agent.drops", -1), 0);
	/* Host-wide: other tracked containers' children may add to it. */
	assert_true(ew_h_int(stop, "agent.kernel_events.child_exits", -1) >= children);
	assert_int_equal(count_rec(f, "container_start", "/storm"), 1);
	print_message("storm: %d mains and %d children; %zu exit records, drops %lld\n", MAINS,
		      children, before, (long long)ew_h_int(stop, "agent.drops", -1));
}

/* The agent's voluntary context switches so far: each is a sleep it woke from. */
static long agent_wakeups(pid_t pid)
{
	char path[64], buf[4096], *p;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	n = ew_h_read_file(path, buf, sizeof(buf));
	assert_true(n > 0);
	p = strstr(buf, "\nvoluntary_ctxt_switches:");
	assert_non_null(p);
	return strtol(p + strlen("\nvoluntary_ctxt_switches:"), NULL, 10);
}

/*
 * Nothing happening, the agent sleeps: it wakes for records, its fds and its deadlines (the
 * stats, once a second), not on a poll timer. A container running quietly changes nothing;
 * its exit wakes the agent at once (the BPF side's wakeup, tests/bpf/test_loader.c).
 */
static void test_idle_agent_sleeps(void **state)
{
	struct ew_h_fixture *f = *state;
	long before, after;
	pid_t pid;

	ew_h_require_bpf();
	start_agent(f, NULL);
	pid = run_in(f, "/quiet", WL("sleep", "4000", "0"), -1, false, NULL);
	wait_rec(f, "container_start", "/quiet", 5000);
	before = agent_wakeups(f->agent.pid);
	usleep(3000 * 1000);
	after = agent_wakeups(f->agent.pid);
	print_message("idle agent: %ld wakeups in 3 s\n", after - before);
	/* About 3 (the stats); a fixed 40 ms poll made 75. */
	assert_true(after - before <= 10);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 0);
	assert_int_equal(ew_h_int(wait_rec(f, "container_exit", "/quiet", 5000), "exit.code", -1),
			 0);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/* A record's "time" (RFC 3339, UTC, nanoseconds) in seconds since the epoch. */
static double record_time(json_object *o)
{
	struct tm tm = {0};
	char frac[10] = "0";
	const char *t = ew_h_str(o, "time");
	double scale = 1;

	assert_non_null(t);
	assert_true(sscanf(t, "%d-%d-%dT%d:%d:%d.%9[0-9]Z", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, frac) >= 6);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	for (size_t i = 0; frac[i]; i++)
		scale *= 10;
	return (double)timegm(&tm) + strtod(frac, NULL) / scale;
}

/*
 * The agent's start record, and the scan's records of the containers already running, are
 * written when they are made, not at the loop's first wakeup: before, they sat in the output
 * buffer through the first sleep (until the stats tick, a second later), so every agent start
 * looked a second slower than it was, and a container found running was reported a second late.
 */
static void test_start_records_at_once(void **state)
{
	struct ew_h_fixture *f = *state;
	json_object *start;
	struct timespec now;
	double late;
	pid_t pid;

	ew_h_require_bpf();
	/* Running through the agent's start, however slow (seconds under emulation), and exec'd
	 * into its cgroup before it (a main that execs after the attach is the ring buffer's
	 * record, not the scan's). */
	pid = run_in(f, "/running", WL("sleep", "60000", "0"), -1, false, NULL);
	for (int i = 0; i < 1000; i++) {
		char path[64], comm[32] = "";

		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		if (ew_h_read_file(path, comm, sizeof(comm)) > 0 && !strncmp(comm, "workload", 8))
			break;
		usleep(10 * 1000);
	}
	start_agent(f, NULL);
	clock_gettime(CLOCK_REALTIME, &now);
	start = ew_h_wait(&f->agent, ew_h_match, &(struct ew_h_want){"agent", NULL}, NULL, 0);
	assert_non_null(start);
	late = (double)now.tv_sec + now.tv_nsec / 1e9 - record_time(start);
	print_message("agent start record read %.0f ms after it was made\n", late * 1e3);
	/* The scan's record came with it, in the same write. */
	assert_true(count_rec(f, "container_start", "/running") == 1);
	/* Made to read is a few ms; the stats tick is 1000 ms after the record. */
	assert_true(late < 0.5);
	kill(pid, SIGKILL);
	assert_true(ew_h_wait_pid(pid, 5000) >= 0);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_layouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_records_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_segv_core_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_dumped, setup, core_teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_from_another_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killer_only_when_it_ended_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killer_grace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killer_sigwait_signalfd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigxcpu_from_another_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_group_from_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leader_pthread_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_children_failing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_started_before_exitwatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reexec_is_one_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stderr_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_stderr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_agent_sleeps, setup, teardown),
	};

	return cmocka_run_group_tests_name("bpf_trace", tests, NULL, NULL);
}
