// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * OOM kills against the real BPF programs, without Docker: a memory cgroup of the test's own
 * (v1 on a hybrid host, the container's v2 cgroup otherwise), a process that allocates until the
 * OOM killer chooses it, and, for pid reuse, clone3() with set_tid to give a new main process the
 * exact pid of an earlier victim. Needs root; under CI=true a skip is a failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness/harness.h"
#include "harness/unit.h"

#define WL	    EW_H_WL
#define OOM_WAIT_MS 60000
#define MEMCG_LIMIT "64M"
#define V1_MEMCG    "/sys/fs/cgroup/memory"

/* A memory cgroup limited to MEMCG_LIMIT without swap, and the cgroup.procs to join it by. */
struct memcg {
	char dir[1024];	  /* a v1 directory to remove at the end; "" for v2 (the scratch's) */
	char procs[1100]; /* where "0" moves the writer in */
};

struct fx {
	struct ew_h_fixture h;
	struct memcg mc;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	ew_h_scratch_make(&f->h.s, "oom");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ew_h_agent_kill(&f->h.agent);
	ew_h_scratch_clean(&f->h.s);
	/* The victims are reaped by now; a v1 memory cgroup goes once it is empty. */
	if (f->mc.dir[0])
		rmdir(f->mc.dir);
	free(f);
	return 0;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		r = -errno;
	close(fd);
	return r;
}

/* This process's v1 memory cgroup ("/" or "/a/b"), from /proc/self/cgroup. */
static bool own_v1_memcg(char *out, size_t len)
{
	char line[1024];
	FILE *f = fopen("/proc/self/cgroup", "r");
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f)) {
		char *c = strstr(line, ":memory:");

		if (c) {
			c[strcspn(c, "\n")] = '\0';
			snprintf(out, len, "%s", c + strlen(":memory:"));
			found = true;
		}
	}
	if (f)
		fclose(f);
	return found;
}

/*
 * Hybrid hosts keep the memory controller on v1: there the cgroup is a child of this process's
 * own v1 memory cgroup, and joining it leaves the v2 cgroup (the container) as it is. On a pure
 * v2 host the memory controller is enabled down to v2_rel, which gets the limit itself.
 */
static void memcg_make(struct fx *f, const char *v2_rel)
{
	struct memcg *m = &f->mc;
	char own[512], path[1200];

	if (own_v1_memcg(own, sizeof(own)) &&
	    access(V1_MEMCG "/memory.limit_in_bytes", F_OK) == 0) {
		snprintf(m->dir, sizeof(m->dir), V1_MEMCG "%s/ew-oom-%d",
			 strcmp(own, "/") ? own : "", (int)getpid());
		if (mkdir(m->dir, 0755) && errno != EEXIST)
			fail_msg("mkdir %s: %s", m->dir, strerror(errno));
		snprintf(path, sizeof(path), "%s/memory.limit_in_bytes", m->dir);
		assert_int_equal(write_str(path, MEMCG_LIMIT), 0);
		/* No swap to escape to (only with swap accounting; without it, no swap here). */
		snprintf(path, sizeof(path), "%s/memory.memsw.limit_in_bytes", m->dir);
		if (access(path, F_OK) == 0)
			assert_int_equal(write_str(path, MEMCG_LIMIT), 0);
		snprintf(m->procs, sizeof(m->procs), "%s/cgroup.procs", m->dir);
		return;
	}
	/* cgroup v2: "+memory" in the subtree_control of every ancestor of v2_rel. */
	assert_int_equal(ew_h_cgroup_make(v2_rel), 0);
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", ew_h_cgroup_root());
	if (write_str(path, "+memory"))
		fail_msg("cgroup v2 without a memory controller, and no v1 one at " V1_MEMCG);
	for (const char *p = v2_rel + 1; (p = strchr(p, '/')); p++) {
		snprintf(path, sizeof(path), "%s%.*s/cgroup.subtree_control", ew_h_cgroup_root(),
			 (int)(p - v2_rel), v2_rel);
		assert_int_equal(write_str(path, "+memory"), 0);
	}
	snprintf(path, sizeof(path), "%s%s/memory.max", ew_h_cgroup_root(), v2_rel);
	assert_int_equal(write_str(path, MEMCG_LIMIT), 0);
	snprintf(path, sizeof(path), "%s%s/memory.swap.max", ew_h_cgroup_root(), v2_rel);
	if (access(path, F_OK) == 0)
		assert_int_equal(write_str(path, "0"), 0);
	snprintf(m->procs, sizeof(m->procs), "%s%s/cgroup.procs", ew_h_cgroup_root(), v2_rel);
}

static void start_agent(struct fx *f)
{
	const char *args[] = {"--agent-interval", "1h", NULL};

	ew_h_agent_start(&f->h.agent, args);
}

/*
 * A host process (not in any tracked container, and never a main: it execs in its parent's
 * cgroup and only then joins the memory cgroup) that the OOM killer chooses. Returns its pid,
 * reaped: free for reuse, and left in the kernel's victim map by nobody's exit.
 */
static pid_t oom_host_victim(struct fx *f)
{
	char *const argv[] = {(char *)ew_h_workload(), "oom", f->mc.procs, NULL};
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	st = ew_h_wait_pid(pid, OOM_WAIT_MS);
	if (st == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("the OOM killer did not end pid %d in %d ms", (int)pid, OOM_WAIT_MS);
	}
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
	return pid;
}

/*
 * Starts argv as the main process of cgroup rel (relative to the v2 root) with exactly the pid
 * `want`: clone3() with set_tid (5.5+, CAP_SYS_ADMIN), then as ew_h_spawn_in(): join, exec.
 */
static pid_t spawn_with_pid(const char *rel, pid_t want, char *const argv[])
{
	struct clone_args ca = {0};
	char procs[4096], c;
	int gate[2];
	pid_t pid;

	snprintf(procs, sizeof(procs), "%s%s/cgroup.procs", ew_h_cgroup_root(), rel);
	assert_int_equal(pipe2(gate, O_CLOEXEC), 0);
	ca.exit_signal = SIGCHLD;
	ca.set_tid = (uintptr_t)&want;
	ca.set_tid_size = 1;
	pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid < 0)
		fail_msg("clone3(set_tid=%d): %s", (int)want, strerror(errno));
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		close(gate[0]);
		if (write_str(procs, "0"))
			_exit(120);
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(gate[1]);
	(void)!read(gate[0], &c, 1); /* EOF once the child has exec'd (or died) */
	close(gate[0]);
	return pid;
}

/*
 * Issue 10: the victim map is keyed by pid alone. A main process that later gets the pid of an
 * earlier OOM victim and exits 0 must be clean, not oom_killed.
 */
static void test_reused_victim_pid_is_not_oom(void **state)
{
	struct fx *f = *state;
	char layout[256];
	json_object *e;
	pid_t victim, pid;

	ew_h_require_bpf();
	snprintf(layout, sizeof(layout), "%s/oom-host", f->h.s.base);
	memcg_make(f, layout);
	start_agent(f);
	victim = oom_host_victim(f);
	snprintf(layout, sizeof(layout), "%s/reuse", f->h.s.base);
	assert_int_equal(ew_h_cgroup_make(layout), 0);
	pid = spawn_with_pid(layout, victim, WL("exit", "0"));
	assert_int_equal(pid, victim);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 0);
	e = ew_h_expect(&f->h.agent, "container_exit", layout, 5000);
	print_message("victim pid %d reused by a main: %s\n", (int)victim,
		      ew_h_str(e, "exit.class"));
	assert_int_equal(ew_h_int(e, "process.pid", 0), victim);
	assert_int_equal(ew_h_int(e, "exit.code", -1), 0);
	assert_string_equal(ew_h_str(e, "exit.class"), "clean");
	assert_string_equal(ew_h_str(e, "severity"), "INFO");
	assert_int_equal(ew_h_agent_stop(&f->h.agent), 0);
}

/* A child of a main OOM-killed: children.oom_killed and .signaled 1, the main itself clean. */
static void test_child_oom_killed(void **state)
{
	struct fx *f = *state;
	char layout[256];
	json_object *e;
	pid_t pid;

	ew_h_require_bpf();
	snprintf(layout, sizeof(layout), "%s/oom-child", f->h.s.base);
	memcg_make(f, layout);
	start_agent(f);
	pid = ew_h_run_in(f->h.s.base, "/oom-child", WL("oom-child", f->mc.procs), -1, false, NULL);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, OOM_WAIT_MS)), 0);
	e = ew_h_expect(&f->h.agent, "container_exit", layout, 5000);
	assert_string_equal(ew_h_str(e, "exit.class"), "clean");
	assert_int_equal(ew_h_int(e, "children.oom_killed", -1), 1);
	assert_int_equal(ew_h_int(e, "children.signaled", -1), 1);
	assert_int_equal(ew_h_int(e, "children.clean", -1), 0);
	assert_int_equal(ew_h_int(e, "children.failed", -1), 0);
	assert_int_equal(ew_h_agent_stop(&f->h.agent), 0);
}

/*
 * Runs `workload MODE PROCS` as the main of cgroup NAME under its memory limit (group: with
 * memory.oom.group set, v2 only), which the OOM killer ends with SIGKILL; returns its exit.
 */
static json_object *oom_main_exit(struct fx *f, const char *name, const char *mode, bool group)
{
	char layout[256], path[1200], rel[64];
	pid_t pid;
	int st;

	ew_h_require_bpf();
	snprintf(layout, sizeof(layout), "%s/%s", f->h.s.base, name);
	snprintf(rel, sizeof(rel), "/%s", name);
	memcg_make(f, layout);
	if (group) {
		assert_string_equal(f->mc.dir, ""); /* main() runs it only where memory is on v2 */
		snprintf(path, sizeof(path), "%s%s/memory.oom.group", ew_h_cgroup_root(), layout);
		assert_int_equal(write_str(path, "1"), 0);
	}
	start_agent(f);
	/* With the group, "-": the cgroup is the main's own, no v1 memory cgroup to join. */
	pid = ew_h_run_in(f->h.s.base, rel, WL((char *)mode, group ? "-" : f->mc.procs), -1, false,
			  NULL);
	st = ew_h_wait_pid(pid, OOM_WAIT_MS);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	return ew_h_expect(&f->h.agent, "container_exit", layout, 5000);
}

/* The main itself OOM-killed (no Docker): oom_killed, through signal->oom_mm or the map. */
static void test_main_oom_killed(void **state)
{
	struct fx *f = *state;
	json_object *e = oom_main_exit(f, "oom-main", "oom", false);

	assert_string_equal(ew_h_str(e, "exit.class"), "oom_killed");
	assert_string_equal(ew_h_str(e, "severity"), "ERROR");
	assert_int_equal(ew_h_int(e, "children.oom_killed", -1), 0);
	assert_int_equal(ew_h_agent_stop(&f->h.agent), 0);
}

/*
 * The main chosen by the OOM killer while another process of its container (its child) was the
 * one allocating: the kernel sends the SIGKILL in that process's context. The kernel sent it,
 * not the child: oom_killed, and no "killed_by" naming the child.
 */
static void test_main_oom_killed_in_another_context(void **state)
{
	struct fx *f = *state;
	json_object *e = oom_main_exit(f, "oom-other", "oom-main", false);

	print_message("main OOM-killed in its child's context: %s, killed_by %s\n",
		      ew_h_str(e, "exit.class"), ew_h_str(e, "killed_by.comm"));
	assert_string_equal(ew_h_str(e, "exit.class"), "oom_killed");
	assert_null(ew_h_get(e, "killed_by"));
	assert_non_null(strstr(ew_h_str(e, "message"), "OOM killer"));
	assert_null(strstr(ew_h_str(e, "message"), "was sent by"));
	assert_int_equal(ew_h_agent_stop(&f->h.agent), 0);
}

/*
 * memory.oom.group (cgroup v2, what the kubelet sets on a container's cgroup since Kubernetes
 * 1.28): the OOM killer chooses the allocating child and then kills every process of the
 * cgroup, the main too, each SIGKILL sent in the child's context. The container was OOM-killed:
 * the main's exit is oom_killed, not a SIGKILL from the child.
 */
static void test_oom_group_kills_main(void **state)
{
	struct fx *f = *state;
	json_object *e = oom_main_exit(f, "oom-group", "oom-child", true);

	/* The main's own exit says it: the chosen child, with 64 MiB to unmap, often exits after
	 * it, so "children" (exits before the main's) need not count it. */
	print_message("memory.oom.group: the main %s, killed_by %s\n", ew_h_str(e, "exit.class"),
		      ew_h_str(e, "killed_by.comm"));
	assert_string_equal(ew_h_str(e, "exit.class"), "oom_killed");
	assert_int_equal(ew_h_int(e, "exit.signal", -1), SIGKILL);
	assert_null(ew_h_get(e, "killed_by"));
	assert_string_equal(ew_h_str(e, "severity"), "ERROR");
	assert_int_equal(ew_h_agent_stop(&f->h.agent), 0);
}

/* Whether the memory controller is on cgroup v2 here (a pure v2 host: GKE, the vmtest guests). */
static bool memcg_on_v2(void)
{
	return access(V1_MEMCG "/memory.limit_in_bytes", F_OK) != 0;
}

/*
 * The main is an init wrapper (`docker run --init`, tini, dumb-init): its child is the OOM
 * victim, and it exits 137 as those wrappers do. The container was OOM-killed all the same.
 */
static void test_init_wrapper_child_oom_killed(void **state)
{
	struct fx *f = *state;
	char layout[256];
	json_object *e;
	pid_t pid;

	ew_h_require_bpf();
	snprintf(layout, sizeof(layout), "%s/oom-init", f->h.s.base);
	memcg_make(f, layout);
	start_agent(f);
	pid = ew_h_run_in(f->h.s.base, "/oom-init", WL("oom-init", f->mc.procs), -1, false, NULL);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, OOM_WAIT_MS)), 128 + SIGKILL);
	e = ew_h_expect(&f->h.agent, "container_exit", layout, 5000);
	assert_int_equal(ew_h_int(e, "exit.code", -1), 137);
	assert_int_equal(ew_h_int(e, "children.oom_killed", -1), 1);
	assert_string_equal(ew_h_str(e, "exit.class"), "oom_killed");
	assert_non_null(strstr(ew_h_str(e, "exit.meaning"), "OOM killer"));
	assert_string_equal(ew_h_str(e, "severity"), "ERROR");
	assert_int_equal(ew_h_agent_stop(&f->h.agent), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reused_victim_pid_is_not_oom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_oom_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_main_oom_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_main_oom_killed_in_another_context, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_init_wrapper_child_oom_killed, setup,
						teardown),
	};

	const struct CMUnitTest v2_tests[] = {
		cmocka_unit_test_setup_teardown(test_oom_group_kills_main, setup, teardown),
	};
	int failed = cmocka_run_group_tests_name("bpf_oom", tests, NULL, NULL);

	/*
	 * memory.oom.group exists only where the memory controller is on v2. A hybrid host (the
	 * development VM) has it on v1: there `make vmtest` runs it, in guests that must have it
	 * (EW_NEED_MEMCG_V2, set by scripts/vmtest/init.sh), on every kernel of the matrix.
	 */
	if (memcg_on_v2())
		return failed + cmocka_run_group_tests_name("bpf_oom_v2", v2_tests, NULL, NULL);
	if (getenv("EW_NEED_MEMCG_V2")) {
		fprintf(stderr, "bpf_oom_v2: EW_NEED_MEMCG_V2 is set, but the memory controller is "
				"not on cgroup v2 here\n");
		return failed + 1;
	}
	ew_t_run_elsewhere("bpf_oom_v2 (memory.oom.group): the memory controller is on cgroup v1 "
			   "here; make vmtest runs it");
	return failed;
}
