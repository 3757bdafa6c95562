// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Main processes that move to another cgroup (docker:dind, kind and systemd in a container move
 * themselves into a child cgroup), and the sweep of the kernel's "cgroups" map. The real binary,
 * the real BPF programs; the test reads the agent's own maps (found through its fds) to check
 * what the kernel keeps. Needs root; under CI=true a skip is a failure.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <cmocka.h>

#include "exitwatch/abi.h"
#include "harness/bpf_map.h"
#include "harness/entrant.h"
#include "harness/harness.h"

static int setup(void **state)
{
	return ew_h_fixture_setup(state, "move");
}

static int teardown(void **state)
{
	unsetenv("EW_NO_CGROUP_MOVE");
	return ew_h_fixture_teardown(state);
}

static bool has_key(int fd, const void *key, size_t value_size)
{
	char v[512];

	assert_true(value_size <= sizeof(v));
	return bpf_map_lookup_elem(fd, key, v) == 0;
}

/* container_start or container_exit records of any cgroup under a prefix (the test's base). */
struct under {
	const char *event;
	const char *prefix;
};

static bool match_under(json_object *o, const void *arg)
{
	const struct under *u = arg;
	const char *ev = ew_h_str(o, "event"), *cg = ew_h_str(o, "container.cgroup");

	return ev && cg && !strcmp(ev, u->event) && strstr(cg, u->prefix);
}

/*
 * A shell as the container's main process: it runs before_cmd, moves itself into <its
 * cgroup>/child (the way dind's entrypoint does), then runs then_cmd ("exit 3", or an exec of
 * another program).
 */
static pid_t run_mover(struct ew_h_fixture *f, const char *layout, const char *before_cmd,
		       const char *then_cmd)
{
	static char script[1024];
	char cg[512];

	snprintf(cg, sizeof(cg), "%s%s%s", ew_h_cgroup_root(), f->s.base, layout);
	snprintf(script, sizeof(script),
		 "%s; mkdir %s/child && echo 0 > %s/child/cgroup.procs || exit 99; %s", before_cmd,
		 cg, cg, then_cmd);
	return ew_h_run_in(f->s.base, layout, (char *const[]){"/bin/sh", "-c", script, NULL}, -1,
			   false, NULL);
}

/*
 * One start and one exit, under the original container: the move neither loses the exit (the
 * kernel looked it up under the new cgroup) nor makes the later exec a new container (its real
 * parent is outside the new cgroup too), and the kernel keeps no entry behind.
 */
static void check_move(void **state, bool reexec)
{
	struct ew_h_fixture *f = *state;
	const char *layout = reexec ? "/system.slice/ewtest-dind-exec.service"
				    : "/system.slice/ewtest-dind.service";
	char rel[256], child[256], then[512];
	struct under starts = {"container_start", f->s.base};
	struct under exits = {"container_exit", f->s.base};
	uint64_t home, moved;
	json_object *s, *e, *stop;
	int cg_fd, mains_fd, tracked;
	pid_t pid;
	__u32 key32;

	ew_h_require_bpf();
	/* A bare cgroup has no runtime log: the tail is the kernel's. */
	ew_h_agent_start(&f->agent,
			 (const char *const[]){"--agent-interval", "1h", "--stderr-kernel", NULL});
	/* The re-exec'd program writes to stderr too: one tail, across the move. */
	if (reexec)
		snprintf(then, sizeof(then), "exec %s stderr 3 after-move", ew_h_workload());
	else
		snprintf(then, sizeof(then), "sleep 0.1; exit 3");
	pid = run_mover(f, layout, "echo before-move >&2", then);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 3);
	snprintf(rel, sizeof(rel), "%s%s", f->s.base, layout);
	snprintf(child, sizeof(child), "%s/child", rel);
	home = ew_h_cgroup_id(rel);
	moved = ew_h_cgroup_id(child);
	assert_true(home > 1 && moved > 1 && home != moved);

	s = ew_h_expect(&f->agent, "container_start", layout, 5000);
	e = ew_h_expect(&f->agent, "container_exit", layout, 5000);
	ew_h_agent_pump(&f->agent, 300);
	assert_int_equal(ew_h_count(&f->agent, match_under, &starts), 1);
	assert_int_equal(ew_h_count(&f->agent, match_under, &exits), 1);
	assert_int_equal(ew_h_int(s, "container.cgroup_id", 0), (int64_t)home);
	assert_int_equal(ew_h_int(e, "container.cgroup_id", 0), (int64_t)home);
	assert_string_equal(ew_h_str(e, "container.unit"),
			    reexec ? "ewtest-dind-exec.service" : "ewtest-dind.service");
	assert_int_equal(ew_h_int(e, "process.pid", 0), pid);
	assert_int_equal(ew_h_int(e, "exit.code", -1), 3);
	assert_string_equal(ew_h_str(e, "exit.class"), "config_error");
	assert_string_equal(ew_h_str(e, "stderr_tail"),
			    reexec ? "before-move\nafter-move\n" : "before-move\n");
	if (reexec)
		assert_string_equal(ew_h_str(e, "process.comm"), "workload");

	/* Nothing left behind in the kernel, under either cgroup or the pid. */
	cg_fd = ew_h_bpf_map(f->agent.pid, "cgroups");
	mains_fd = ew_h_bpf_map(f->agent.pid, "mains");
	key32 = (__u32)pid;
	assert_false(has_key(cg_fd, &home, sizeof(struct ew_cgroup_val)));
	assert_false(has_key(cg_fd, &moved, sizeof(struct ew_cgroup_val)));
	assert_false(has_key(mains_fd, &key32, sizeof(__u64)));
	/* The move put one entry and deleted one, the exit another: what the map holds now is
	 * what the stop record counts (containers_tracked: the programs' puts less deletes). */
	tracked = ew_h_bpf_map_entries(cg_fd);
	close(cg_fd);
	close(mains_fd);

	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
	stop = f->agent.lines[f->agent.nlines - 1];
	assert_string_equal(ew_h_str(stop, "agent.phase"), "stop");
	assert_int_equal(ew_h_int(stop, "agent.containers_tracked", -1), tracked);
	assert_true(ew_h_bool(stop, "agent.features.cgroup_move", false));
	assert_true(ew_h_int(stop, "agent.kernel_events.main_moves", 0) >= 1);
	if (reexec)
		assert_true(ew_h_int(stop, "agent.kernel_events.main_reexecs", 0) >= 1);
}

static void test_move_then_exit(void **state)
{
	check_move(state, false);
}

static void test_move_then_reexec(void **state)
{
	check_move(state, true);
}

/* Whether pid's v2 cgroup path (from /proc/<pid>/cgroup) ends in sfx and its comm is comm. */
static bool in_cgroup_as(pid_t pid, const char *sfx, const char *comm)
{
	char path[64], buf[4096], name[32] = "";
	char *v2;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (ew_h_read_file(path, name, sizeof(name)) <= 0 || strncmp(name, comm, strlen(comm)))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	if (ew_h_read_file(path, buf, sizeof(buf)) <= 0 || !(v2 = strstr(buf, "0::")))
		return false;
	v2[strcspn(v2, "\n")] = '\0';
	return strlen(v2) >= strlen(sfx) && !strcmp(v2 + strlen(v2) - strlen(sfx), sfx);
}

/*
 * The main is pid 1 of a pid namespace of its own and moves itself into a child cgroup (dind,
 * kind, systemd in a container); then `docker exec`/`runc exec` enters the pid namespace and
 * execs in the container's own cgroup, which no longer has a kernel entry (it went with the
 * main). Those execs are entrants, not a new main: no restart, no exit of theirs, and the main's
 * exit is reported once, under the container.
 */
/*
 * A main process that moves into a cgroup that has a main process of its own: its entry stays
 * where it was (the sweep's, once it exits). The kernel counted that as "map_full", and the
 * agent then warned that its container map was full and to raise --max-containers, with the
 * map nearly empty.
 */
static void test_move_into_tracked_cgroup(void **state)
{
	struct ew_h_fixture *f = *state;
	const char *host = "/system.slice/ewtest-move-host.service";
	char cg[512], script[1024], err[1 << 14];
	json_object *stop;
	pid_t other, pid;

	ew_h_require_bpf();
	ew_h_agent_start(&f->agent, (const char *const[]){"--agent-interval", "1h", NULL});
	other = ew_h_run_in(f->s.base, host, EW_H_WL("sleep", "1500", "0"), -1, false, NULL);
	assert_non_null(ew_h_expect(&f->agent, "container_start", host, 5000));
	snprintf(cg, sizeof(cg), "%s%s%s", ew_h_cgroup_root(), f->s.base, host);
	snprintf(script, sizeof(script), "echo 0 > %s/cgroup.procs || exit 99; sleep 0.1; exit 3",
		 cg);
	pid = ew_h_run_in(f->s.base, "/system.slice/ewtest-move-in.service",
			  (char *const[]){"/bin/sh", "-c", script, NULL}, -1, false, NULL);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(pid, 5000)), 3);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(other, 5000)), 0);
	assert_non_null(ew_h_expect(&f->agent, "container_exit", host, 5000));
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
	stop = f->agent.lines[f->agent.nlines - 1];
	assert_string_equal(ew_h_str(stop, "agent.phase"), "stop");
	assert_int_equal(ew_h_int(stop, "agent.kernel_events.map_full", -1), 0);
	ew_h_agent_stderr(&f->agent, err, sizeof(err));
	if (strstr(err, "container map is full"))
		fail_msg("a full map said with the map nearly empty: %s", err);
}

static void test_move_then_exec_entrant(void **state)
{
	struct ew_h_fixture *f = *state;
	const char *layout = "/system.slice/ewtest-dind-ns.service";
	struct under starts = {"container_start", f->s.base};
	struct under exits = {"container_exit", f->s.base};
	char rel[256], cg[512], procs[600], script[1400];
	pid_t main_pid, loop;
	json_object *e;
	int i;

	ew_h_require_bpf();
	ew_h_agent_start(&f->agent, (const char *const[]){"--agent-interval", "1h", NULL});
	snprintf(rel, sizeof(rel), "%s%s", f->s.base, layout);
	assert_int_equal(ew_h_cgroup_make(rel), 0);
	snprintf(cg, sizeof(cg), "%s%s", ew_h_cgroup_root(), rel);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	snprintf(script, sizeof(script),
		 "mkdir %s/child && echo 0 > %s/child/cgroup.procs || exit 99; exec %s term 3", cg,
		 cg, ew_h_workload());
	main_pid = ew_h_spawn_pidns(procs, (char *const[]){"/bin/sh", "-c", script, NULL});
	assert_true(main_pid > 0);
	ew_h_expect(&f->agent, "container_start", layout, 5000);
	for (i = 0; i < 100 && !in_cgroup_as(main_pid, "/child", "workload"); i++)
		usleep(20000);
	assert_true(in_cgroup_as(main_pid, "/child", "workload"));

	/* Entrants through its pid namespace into the container's cgroup, as runc exec makes. */
	loop = ew_h_entrant_loop(main_pid, procs, true);
	ew_h_agent_pump(&f->agent, 1000);
	ew_h_entrant_loop_stop(&loop);
	assert_int_equal(kill(main_pid, SIGTERM), 0);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(main_pid, 5000)), 3);
	e = ew_h_expect(&f->agent, "container_exit", layout, 5000);
	ew_h_agent_pump(&f->agent, 300);
	if (ew_h_count(&f->agent, match_under, &starts) != 1 ||
	    ew_h_count(&f->agent, match_under, &exits) != 1) {
		for (size_t k = 0; k < f->agent.nlines; k++)
			if (strstr(f->agent.raw[k], f->s.base))
				print_message("%s\n", f->agent.raw[k]);
		fail_msg("%zu starts and %zu exits (want 1 and 1): the entrants were taken for a "
			 "new main",
			 ew_h_count(&f->agent, match_under, &starts),
			 ew_h_count(&f->agent, match_under, &exits));
	}
	assert_int_equal(ew_h_int(e, "process.pid", 0), main_pid);
	assert_int_equal(ew_h_int(e, "exit.code", -1), 3);
	assert_int_equal(ew_h_int(e, "container.cgroup_id", 0), (int64_t)ew_h_cgroup_id(rel));
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
}

/* The metric's value in a /metrics body, or -1. */
static int64_t metric(const char *body, const char *name)
{
	for (const char *l = body; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, name, strlen(name)) && l[strlen(name)] == ' ')
			return strtoll(l + strlen(name) + 1, NULL, 10);
	return -1;
}

/*
 * A stale entry made for real: with the move hook off (as on a kernel without the tracepoint), a
 * main that moves and exits leaves its entry behind. The sweep deletes it, counts it once, and
 * leaves a live container alone: its exit is still reported after several sweeps. The agent
 * forgets the swept container as its exit would have had it (its cached identity, its log
 * watch), and says so at debug level (-vv): cgroup ids are never reused, so what it kept of each
 * lost exit was kept for good.
 */
static void test_sweep_stale_entry(void **state)
{
	struct ew_h_fixture *f = *state;
	/* All of it (ew_h_http_get() reads at most 1 MiB): series per workload come first. */
	static char body[1 << 20], err[1 << 20];
	char rel[256], live_rel[256], maddr[64], forgot[128];
	uint16_t port = ew_h_free_port();
	uint64_t stale_id, live_id;
	json_object *e, *stop;
	pid_t mover, live;
	int cg_fd, i;

	ew_h_require_bpf();
	snprintf(maddr, sizeof(maddr), "127.0.0.1:%u", port);
	setenv("EW_NO_CGROUP_MOVE", "1", 1);
	ew_h_agent_start(&f->agent,
			 (const char *const[]){"--agent-interval", "1h", "--sweep-interval", "2s",
					       "--metrics-addr", maddr, "-vv", NULL});
	for (i = 0; i < (int)f->agent.nlines; i++)
		if (ew_h_str(f->agent.lines[i], "agent.phase"))
			assert_false(
				ew_h_bool(f->agent.lines[i], "agent.features.cgroup_move", true));
	cg_fd = ew_h_bpf_map(f->agent.pid, "cgroups");

	live = ew_h_run_in(f->s.base, "/live", EW_H_WL("term", "0"), -1, false, NULL);
	ew_h_expect(&f->agent, "container_start", "/live", 5000);
	mover = run_mover(f, "/mover", "true", "exit 3");
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(mover, 5000)), 3);
	snprintf(rel, sizeof(rel), "%s/mover", f->s.base);
	snprintf(live_rel, sizeof(live_rel), "%s/live", f->s.base);
	stale_id = ew_h_cgroup_id(rel);
	live_id = ew_h_cgroup_id(live_rel);
	/* Before the first sweep (2 s after the start): the exit was lost, the entry is stale. */
	assert_true(has_key(cg_fd, &stale_id, sizeof(struct ew_cgroup_val)));
	assert_int_equal(ew_h_count_rec(&f->agent, "container_exit", "/mover"), 0);

	for (i = 0; i < 50 && has_key(cg_fd, &stale_id, sizeof(struct ew_cgroup_val)); i++)
		ew_h_agent_pump(&f->agent, 100);
	assert_false(has_key(cg_fd, &stale_id, sizeof(struct ew_cgroup_val)));
	/* Two more sweeps: the live container stays tracked. */
	ew_h_agent_pump(&f->agent, 4500);
	assert_true(has_key(cg_fd, &live_id, sizeof(struct ew_cgroup_val)));
	assert_int_equal(ew_h_http_get(port, "/metrics", body, sizeof(body)), 200);
	assert_int_equal(metric(body, "exitwatch_stale_swept_total"), 1);
	/* The sweep's delete is counted: containers_tracked is what the map holds. */
	assert_int_equal(metric(body, "exitwatch_containers_tracked"), ew_h_bpf_map_entries(cg_fd));
	ew_h_agent_stderr(&f->agent, err, sizeof(err));
	snprintf(forgot, sizeof(forgot), "cgroup %llu: forgotten", (unsigned long long)stale_id);
	if (ew_h_count_lines(err, (const char *[]){forgot, NULL}) != 1)
		fail_msg("want one line \"%s\" on the agent's stderr, got:\n%s", forgot, err);
	snprintf(forgot, sizeof(forgot), "cgroup %llu: forgotten", (unsigned long long)live_id);
	assert_int_equal(ew_h_count_lines(err, (const char *[]){forgot, NULL}), 0);

	assert_int_equal(kill(live, SIGTERM), 0);
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(live, 5000)), 0);
	e = ew_h_expect(&f->agent, "container_exit", "/live", 5000);
	assert_int_equal(ew_h_int(e, "process.pid", 0), live);
	assert_int_equal(ew_h_int(e, "container.cgroup_id", 0), (int64_t)live_id);
	assert_false(has_key(cg_fd, &live_id, sizeof(struct ew_cgroup_val)));
	close(cg_fd);

	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
	stop = f->agent.lines[f->agent.nlines - 1];
	assert_string_equal(ew_h_str(stop, "agent.phase"), "stop");
	assert_int_equal(ew_h_int(stop, "agent.stale_swept", -1), 1);
}

/* --sweep-interval 0: nothing is swept, the stale entry stays (and the count says 0). */
static void test_sweep_off(void **state)
{
	struct ew_h_fixture *f = *state;
	char rel[256];
	uint64_t stale_id;
	json_object *stop;
	pid_t mover;
	int cg_fd;

	ew_h_require_bpf();
	setenv("EW_NO_CGROUP_MOVE", "1", 1);
	ew_h_agent_start(&f->agent, (const char *const[]){"--agent-interval", "1h",
							  "--sweep-interval", "0", NULL});
	cg_fd = ew_h_bpf_map(f->agent.pid, "cgroups");
	mover = run_mover(f, "/mover", "true", "exit 3");
	assert_int_equal(WEXITSTATUS(ew_h_wait_pid(mover, 5000)), 3);
	snprintf(rel, sizeof(rel), "%s/mover", f->s.base);
	stale_id = ew_h_cgroup_id(rel);
	ew_h_agent_pump(&f->agent, 1500);
	assert_true(has_key(cg_fd, &stale_id, sizeof(struct ew_cgroup_val)));
	close(cg_fd);
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);
	stop = f->agent.lines[f->agent.nlines - 1];
	assert_int_equal(ew_h_int(stop, "agent.stale_swept", -1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_move_then_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_then_reexec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_into_tracked_cgroup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_then_exec_entrant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_stale_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_off, setup, teardown),
	};

	return cmocka_run_group_tests_name("bpf_move", tests, NULL, NULL);
}
