// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Faults of the world exitwatch watches, against the real binary: a cgroup removed before
 * userspace reads its records, a pid reused by another process of the container, a runtime's
 * metadata file that vanishes or is malformed, a host without tracefs, without BTF or without
 * the capabilities, and an open file limit too low. The host stays untouched: mounts happen in private mount
 * namespaces, capabilities are dropped for the one exec. Needs root; under CI=true a skip is a
 * failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness/harness.h"

static int setup(void **state)
{
	return ew_h_fixture_setup(state, "fenv");
}

static int teardown(void **state)
{
	return ew_h_fixture_teardown(state);
}

#define WL EW_H_WL

static json_object *wait_rec(struct ew_h_fixture *f, const char *event, const char *sfx, int ms)
{
	return ew_h_expect(&f->agent, event, sfx, ms);
}

static size_t count_rec(struct ew_h_fixture *f, const char *event, const char *sfx)
{
	return ew_h_count_rec(&f->agent, event, sfx);
}

static pid_t run_in(struct ew_h_fixture *f, const char *layout, char *const argv[])
{
	return ew_h_run_in(f->s.base, layout, argv, -1, false, NULL);
}

/* Docker's containers/<id>/config.v2.json under the host root, with this body. */
static void write_docker_config(const char *root, const char *id, const char *body)
{
	char path[512];
	FILE *c;

	assert_int_equal(ew_h_sh("mkdir -p '%s/var/lib/docker/containers/%s'", root, id), 0);
	snprintf(path, sizeof(path), "%s/var/lib/docker/containers/%s/config.v2.json", root, id);
	c = fopen(path, "w");
	assert_non_null(c);
	fputs(body, c);
	fclose(c);
}

/* ---- 4. a cgroup removed before userspace reads its records ---- */

static void test_cgroup_removed_first(void **state)
{
	struct ew_h_fixture *f = *state;
	char id[65], uid[37], docker[128], k8s[256], rel[2][384];
	const char *layout[2] = {docker, k8s};
	uint64_t cgid[2];
	json_object *e;

	ew_h_require_bpf();
	ew_h_rand_id(id);
	ew_h_rand_uid(uid);
	snprintf(docker, sizeof(docker), "/docker/%s", id);
	snprintf(k8s, sizeof(k8s), "/kubepods/besteffort/pod%s/%s", uid, id);
	ew_h_agent_start(&f->agent, (const char *const[]){"--agent-interval", "1h", NULL});
	/* Userspace cannot run until the cgroups are gone. */
	assert_int_equal(kill(f->agent.pid, SIGSTOP), 0);
	for (int i = 0; i < 2; i++) {
		pid_t pid = run_in(f, layout[i], WL("exit", "7"));

		snprintf(rel[i], sizeof(rel[i]), "%s%s", f->s.base, layout[i]);
		cgid[i] = ew_h_cgroup_id(rel[i]);
		assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 7);
		ew_h_cgroup_remove_tree(f->s.base);
		assert_int_equal(ew_h_cgroup_id(rel[i]), 0);
	}
	assert_int_equal(kill(f->agent.pid, SIGCONT), 0);
	for (int i = 0; i < 2; i++) {
		e = wait_rec(f, "container_exit", layout[i], 5000);
		assert_string_equal(ew_h_str(e, "container.cgroup"), rel[i]);
		assert_int_equal(ew_h_int(e, "container.cgroup_id", 0), cgid[i]);
		assert_string_equal(ew_h_str(e, "container.runtime"), i ? "containerd" : "docker");
		assert_string_equal(ew_h_str(e, "container.id"), id);
		assert_int_equal(ew_h_int(e, "exit.code", -1), 7);
		if (i)
			assert_string_equal(ew_h_str(e, "pod.uid"), uid);
		assert_int_equal(count_rec(f, "container_start", layout[i]), 1);
	}
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/* ---- 5. a pid reused by a second entrant ---- */

/*
 * Forks a process that gets pid want (ns_last_pid, retried while others take it), joins rel
 * from outside, as `docker exec` does, and execs argv. Returns its pid, or -1.
 */
static pid_t spawn_as_pid(const char *rel, pid_t want, char *const argv[])
{
	char procs[4096], last[16];

	snprintf(procs, sizeof(procs), "%s%s/cgroup.procs", ew_h_cgroup_root(), rel);
	snprintf(last, sizeof(last), "%d", want - 1);
	for (int tries = 0; tries < 50; tries++) {
		int gate[2], fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
		pid_t pid;
		char c;

		if (fd < 0 || pipe2(gate, O_CLOEXEC))
			return -1;
		(void)!write(fd, last, strlen(last));
		close(fd);
		pid = fork();
		if (pid < 0)
			return -1;
		if (pid == 0) {
			int nul = open("/dev/null", O_RDWR);

			close(gate[1]);
			if (read(gate[0], &c, 1) != 1) /* not the pid wanted: leave quietly */
				_exit(0);
			fd = open(procs, O_WRONLY);
			if (fd < 0 || write(fd, "0", 1) != 1)
				_exit(120);
			dup2(nul, 0);
			dup2(nul, 1);
			dup2(nul, 2);
			execv(argv[0], argv);
			_exit(127);
		}
		close(gate[0]);
		if (pid == want) {
			(void)!write(gate[1], "g", 1);
			close(gate[1]);
			return pid;
		}
		close(gate[1]);
		waitpid(pid, NULL, 0);
	}
	return -1;
}

static bool exit_of_pid(json_object *o, const void *arg)
{
	const int64_t *w = arg; /* { pid, code or -1 } */
	const char *ev = ew_h_str(o, "event");

	return ev && !strcmp(ev, "container_exit") && ew_h_int(o, "process.pid", 0) == w[0] &&
	       (w[1] < 0 || ew_h_int(o, "exit.code", -1) == w[1]);
}

static void test_pid_reused(void **state)
{
	struct ew_h_fixture *f = *state;
	char c[96], rel[256];
	json_object *e;
	pid_t p, m2, again;
	size_t from = 0;

	ew_h_require_bpf();
	snprintf(c, sizeof(c), "/system.slice/ewfaults-reuse-%d.service", getpid());
	snprintf(rel, sizeof(rel), "%s%s", f->s.base, c);
	ew_h_agent_start(&f->agent, (const char *const[]){"--agent-interval", "1h", NULL});
	p = run_in(f, c, WL("pause"));
	wait_rec(f, "container_start", c, 5000);
	assert_int_equal(kill(p, SIGKILL), 0);
	assert_true(WIFSIGNALED(ew_h_wait_pid(p, 5000)));
	e = ew_h_wait(&f->agent, ew_h_match, &(struct ew_h_want){"container_exit", c}, &from, 5000);
	assert_non_null(e);
	assert_int_equal(ew_h_int(e, "process.pid", 0), p);

	m2 = run_in(f, c, WL("pause"));
	assert_true(m2 != p);
	assert_non_null(ew_h_wait(&f->agent, ew_h_match, &(struct ew_h_want){"container_start", c},
				  NULL, 5000));
	again = spawn_as_pid(rel, p, WL("exit", "5"));
	if (again != p)
		fail_msg("could not get pid %d again", p);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(again, 5000)), 5);
	ew_h_agent_pump(&f->agent, 500);
	assert_int_equal(ew_h_count(&f->agent, exit_of_pid, (int64_t[]){p, 5}), 0);
	assert_int_equal(ew_h_count(&f->agent, exit_of_pid, (int64_t[]){p, -1}), 1);
	assert_int_equal(count_rec(f, "container_start", c), 2);

	assert_int_equal(kill(m2, SIGKILL), 0);
	assert_true(WIFSIGNALED(ew_h_wait_pid(m2, 5000)));
	e = ew_h_wait(&f->agent, ew_h_match, &(struct ew_h_want){"container_exit", c}, &from, 5000);
	assert_non_null(e);
	assert_int_equal(ew_h_int(e, "process.pid", 0), m2);
	assert_string_equal(ew_h_str(e, "exit.class"), "killed");
	assert_int_equal(ew_h_int(e, "children.failed", -1), 1);
	assert_int_equal(ew_h_int(e, "children.clean", -1), 0);
	assert_int_equal(ew_h_int(e, "children.signaled", -1), 0);
	ew_h_agent_pump(&f->agent, 300);
	assert_int_equal(ew_h_count(&f->agent, exit_of_pid, (int64_t[]){m2, -1}), 1);
	assert_int_equal(count_rec(f, "container_exit", c), 2);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/* ---- 6. metadata that vanishes, metadata that is malformed ---- */

static void test_metadata_vanishes_or_is_malformed(void **state)
{
	struct ew_h_fixture *f = *state;
	char root[128], id1[65], id2[65], l1[80], l2[80], name[64], body[1024];
	static char err[1 << 16];
	json_object *s, *e;
	pid_t pid;

	ew_h_require_bpf();
	snprintf(root, sizeof(root), "%s/host", f->s.dir);
	assert_int_equal(ew_h_sh("mkdir -p '%s' && ln -s /proc '%s/proc'", root, root), 0);
	ew_h_rand_id(id1);
	ew_h_rand_id(id2);
	snprintf(l1, sizeof(l1), "/docker/%s", id1);
	snprintf(l2, sizeof(l2), "/docker/%s", id2);
	snprintf(name, sizeof(name), "ewfaults-web-%d", getpid());
	snprintf(body, sizeof(body),
		 "{\"ID\":\"%s\",\"Name\":\"/%s\",\"RestartCount\":0,"
		 "\"Config\":{\"Image\":\"example.com/shop/web:2.0\",\"Labels\":{"
		 "\"com.docker.compose.project\":\"shop\",\"com.docker.compose.service\":\"web\"}}}"
		 "\n",
		 id1, name);
	write_docker_config(root, id1, body);
	write_docker_config(root, id2, "{\"ID\":\"broken\",\"Name\":\"/half\",\"Config\":{\n");
	ew_h_agent_start(&f->agent, (const char *const[]){"--host-root", root, "--agent-interval",
							  "1h", NULL});

	/* The names are read at the start; the file is gone by the exit. */
	pid = run_in(f, l1, WL("pause"));
	s = wait_rec(f, "container_start", l1, 5000);
	assert_string_equal(ew_h_str(s, "container.name"), name);
	assert_int_equal(ew_h_sh("rm -rf '%s/var/lib/docker/containers/%s'", root, id1), 0);
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_true(WIFSIGNALED(ew_h_wait_pid(pid, 5000)));
	e = wait_rec(f, "container_exit", l1, 5000);
	assert_string_equal(ew_h_str(e, "container.name"), name);
	assert_string_equal(ew_h_str(e, "container.image"), "example.com/shop/web:2.0");
	assert_string_equal(ew_h_str(e, "compose.project"), "shop");
	assert_string_equal(ew_h_str(e, "workload.key"), "compose:shop/web");
	assert_string_equal(ew_h_str(e, "container.identity"), ew_h_str(s, "container.identity"));
	assert_string_equal(ew_h_str(e, "exit.class"), "terminated");

	/* Malformed: what the cgroup says, and one warning. */
	pid = run_in(f, l2, WL("exit", "3"));
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 3);
	for (int i = 0; i < 2; i++) {
		e = wait_rec(f, i ? "container_exit" : "container_start", l2, 5000);
		assert_string_equal(ew_h_str(e, "container.runtime"), "docker");
		assert_string_equal(ew_h_str(e, "container.id"), id2);
		assert_string_equal(ew_h_str(e, "workload.key"), ew_h_str(e, "container.identity"));
		assert_null(ew_h_get(e, "container.name"));
		assert_null(ew_h_get(e, "container.image"));
		assert_null(ew_h_get(e, "compose"));
	}
	snprintf(body, sizeof(body), "docker:%s", id2);
	assert_string_equal(ew_h_str(e, "container.identity"), body);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
	ew_h_agent_stderr(&f->agent, err, sizeof(err));
	print_message("stderr:\n%s", err);
	snprintf(l1, sizeof(l1), "%.12s", id1);
	snprintf(l2, sizeof(l2), "%.12s", id2);
	assert_int_equal(ew_h_count_lines(err, (const char *[]){l2, NULL}), 1);
	assert_int_equal(ew_h_count_lines(err, (const char *[]){l2, "metadata", NULL}), 1);
	assert_int_equal(ew_h_count_lines(err, (const char *[]){l1, NULL}), 0);
}

/*
 * ---- 7. no BTF, no capabilities: one sentence, exit 1, nothing on stdout ----
 * These are the core's needs. A missing tracefs is not: it turns its features off
 * (tests/e2e/degrade.sh).
 */

#define CAP_BIT(n) (1ULL << (n))
#define SYS_ADMIN  CAP_BIT(21) /* CAP_SYS_ADMIN would do instead of the two below */
#define PERFMON	   CAP_BIT(38)
#define BPF	   CAP_BIT(39)

static const struct env_case {
	const char *what;
	const char *mounts; /* run in a private mount namespace before exitwatch ($0) */
	const char *drop;   /* setpriv --bounding-set for exitwatch's exec */
	uint64_t gone;	    /* capabilities that must then be out of its effective set */
	const char *want;   /* in its one line on stderr */
} env_cases[] = {
	{"no BTF", "mount -t tmpfs none /sys/kernel/btf; [ -e /sys/kernel/btf/vmlinux ] && exit 99",
	 NULL, 0, "exposes no BTF at /sys/kernel/btf/vmlinux"},
	{"no CAP_BPF", NULL, "-bpf,-sys_admin", BPF | SYS_ADMIN, "missing capabilities CAP_BPF: "},
	{"no CAP_PERFMON", NULL, "-perfmon,-sys_admin", PERFMON | SYS_ADMIN,
	 "missing capabilities CAP_PERFMON: "},
	{"neither", NULL, "-bpf,-perfmon,-sys_admin", BPF | PERFMON | SYS_ADMIN,
	 "missing capabilities CAP_BPF, CAP_PERFMON: "},
};

/* The prefix that puts exitwatch (or cmd) into the case's environment. */
static void env_cmd(const struct env_case *c, const char *cmd, char *out, size_t len)
{
	if (c->mounts)
		snprintf(out, len, "unshare -m sh -c '%s; exec \"$0\" \"$@\"' %s", c->mounts, cmd);
	else
		snprintf(out, len, "setpriv --bounding-set=%s --inh-caps=-all -- %s", c->drop, cmd);
}

static void test_missing_btf_caps(void **state)
{
	struct ew_h_fixture *f = *state;
	char cmd[2048], run[1024], path[128], out[4096], err[4096], status[4096];

	ew_h_require_bpf();
	for (size_t i = 0; i < sizeof(env_cases) / sizeof(env_cases[0]); i++) {
		const struct env_case *c = &env_cases[i];
		const char *eff;
		int st;

		if (c->drop) { /* as root the bounding set limits what exec gives: check it did */
			env_cmd(c, "cat /proc/self/status", cmd, sizeof(cmd));
			assert_int_equal(ew_h_capture(status, sizeof(status), "%s", cmd), 0);
			eff = strstr(status, "CapEff:");
			assert_non_null(eff);
			if (strtoull(eff + 7, NULL, 16) & c->gone)
				fail_msg("%s: still in the effective set: %s", c->what, eff);
		}
		snprintf(run, sizeof(run), "%s --config /dev/null --agent-interval 1h",
			 ew_h_exitwatch());
		env_cmd(c, run, cmd, sizeof(cmd));
		st = ew_h_sh("%s >'%s/out' 2>'%s/err'", cmd, f->s.dir, f->s.dir);
		snprintf(path, sizeof(path), "%s/out", f->s.dir);
		ew_h_read_file(path, out, sizeof(out));
		snprintf(path, sizeof(path), "%s/err", f->s.dir);
		ew_h_read_file(path, err, sizeof(err));
		print_message("%s: exit %d: %s", c->what, st, err);
		if (st == 99)
			fail_msg("%s: the fault could not be set up", c->what);
		assert_int_equal(st, 1);
		assert_string_equal(out, "");
		/* One line, ours, naming what is missing. */
		assert_int_equal(ew_h_count_lines(err, (const char *[]){"", NULL}), 1);
		assert_int_equal(strncmp(err, "exitwatch: error: ", 18), 0);
		if (!strstr(err, c->want))
			fail_msg("%s: stderr does not say '%s'", c->what, c->want);
	}
}

/*
 * ---- 8. a low open file limit (ulimit -n) ----
 * exitwatch holds about 33 descriptors once running (its BPF programs, maps and links, the ring
 * buffer, the runtime directories it pins, inotify), and more for /metrics clients (up to 64),
 * streams and spools. Before, a hard limit of 24 gave "the kernel rejected BPF program ew_exec
 * (Invalid argument)" after four warnings that "this kernel rejected" each optional program;
 * one of 36 started with the start-up scan failed ("Too many open files": containers already
 * running not tracked) and every container's metadata unreadable. A soft limit below the hard
 * one is raised; a hard one too low is one error naming it.
 */
static void test_fd_limit(void **state)
{
	struct ew_h_fixture *f = *state;
	static const char *const hard[] = {"24", "36"};
	char path[128], out[1 << 14], err[1 << 14];
	int st;

	ew_h_require_bpf();
	for (size_t i = 0; i < sizeof(hard) / sizeof(hard[0]); i++) {
		st = ew_h_sh(
			"sh -c 'ulimit -n %s && exec \"$0\" --config /dev/null --agent-interval "
			"1h' %s >'%s/out' 2>'%s/err'",
			hard[i], ew_h_exitwatch(), f->s.dir, f->s.dir);
		snprintf(path, sizeof(path), "%s/out", f->s.dir);
		ew_h_read_file(path, out, sizeof(out));
		snprintf(path, sizeof(path), "%s/err", f->s.dir);
		ew_h_read_file(path, err, sizeof(err));
		print_message("ulimit -n %s: exit %d: %s", hard[i], st, err);
		assert_int_equal(st, 1);
		assert_string_equal(out, "");
		assert_int_equal(ew_h_count_lines(err, (const char *[]){"", NULL}), 1);
		assert_int_equal(strncmp(err, "exitwatch: error: ", 18), 0);
		if (!strstr(err, "open file limit") || !strstr(err, "ulimit -n"))
			fail_msg("ulimit -n %s: stderr does not name the open file limit", hard[i]);
	}

	/* Only the soft limit low (a shell's ulimit -S, a unit's LimitNOFILE=36:524288): raised. */
	/* Stopped after 3 s with SIGTERM, its exit status kept (busybox's timeout, in the
	 * vmtest guest, has no --preserve-status). */
	st = ew_h_sh("sh -c 'ulimit -S -n 36 || exit 9; \"$0\" --config /dev/null --agent-interval "
		     "1h & p=$!; sleep 3; kill -TERM $p; wait $p' %s >'%s/out' 2>'%s/err'",
		     ew_h_exitwatch(), f->s.dir, f->s.dir);
	snprintf(path, sizeof(path), "%s/out", f->s.dir);
	ew_h_read_file(path, out, sizeof(out));
	snprintf(path, sizeof(path), "%s/err", f->s.dir);
	ew_h_read_file(path, err, sizeof(err));
	print_message("ulimit -S -n 36: exit %d: %s", st, err);
	assert_int_equal(st, 0);
	assert_non_null(strstr(out, "\"phase\":\"start\""));
	if (strstr(err, "Too many open files"))
		fail_msg("ulimit -S -n 36: %s", err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cgroup_removed_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pid_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metadata_vanishes_or_is_malformed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_btf_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_limit, setup, teardown),
	};

	return cmocka_run_group_tests_name("bpf_faults_env", tests, NULL, NULL);
}
