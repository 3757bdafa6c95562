// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The main process is never an exec entrant. `docker exec`, `kubectl exec`, exec probes and
 * `runc exec` put a process into a running container's cgroup from outside and exec it; when
 * that happens while the kernel has no entry for the cgroup (between attach and the start-up
 * scan) it must not pass for the container: no start, no exit, no finding of its own.
 *
 * Here the container is the harness's: a process that is pid 1 of a pid namespace of its own,
 * in a cgroup of the host's tree, so the test needs no Docker and runs in the kernel matrix's
 * VMs too (test_docker has the same test against a real Docker container). Needs root; under
 * CI=true a skip is a failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness/entrant.h"
#include "harness/harness.h"

/*
 * Agent starts: 20, the bar. EW_ENTRANT_RUNS may lower it where an agent start is slow
 * (the kernel matrix's emulated guests, which still prove the kernel side on each kernel).
 */
static int entrant_runs(void)
{
	const char *v = getenv("EW_ENTRANT_RUNS");
	int n = v ? atoi(v) : 0;

	return n > 0 ? n : 20;
}

struct fixture {
	struct ew_h_agent agent;
	struct ew_h_scratch s;
	pid_t main_pid;
	pid_t loops[2];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	ew_h_scratch_make(&f->s, "entrant");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ew_h_entrant_loop_stop(&f->loops[0]);
	ew_h_entrant_loop_stop(&f->loops[1]);
	ew_h_agent_kill(&f->agent);
	if (f->main_pid > 0) {
		kill(f->main_pid, SIGKILL);
		waitpid(f->main_pid, NULL, 0);
	}
	ew_h_scratch_clean(&f->s);
	free(f);
	return 0;
}

/*
 * Entrants through the container's pid namespace (as runc exec makes them) are refused by the
 * kernel itself, scan or not; entrants that only join its cgroup (host pid namespace) are
 * corrected by the start-up scan. Across entrant_runs() agent starts: not one spurious record.
 */
static void test_entrants_pidns_container(void **state)
{
	struct fixture *f = *state;
	char rel[256], procs[4096];
	int corrected;

	ew_h_require_bpf();
	snprintf(rel, sizeof(rel), "%s/entrant-pidns", f->s.base);
	assert_int_equal(ew_h_cgroup_make(rel), 0);
	snprintf(procs, sizeof(procs), "%s%s/cgroup.procs", ew_h_cgroup_root(), rel);
	f->main_pid = ew_h_spawn_pidns(procs, EW_H_WL("pause"));
	assert_true(f->main_pid > 0);
	usleep(20000);
	assert_int_equal(kill(f->main_pid, 0), 0);

	f->loops[0] = ew_h_entrant_loop(f->main_pid, procs, true);
	ew_h_entrant_no_scan(&f->agent, "/entrant-pidns", 1500);
	f->loops[1] = ew_h_entrant_loop(f->main_pid, procs, false);
	corrected = ew_h_entrant_runs(&f->agent, entrant_runs(), "/entrant-pidns", f->main_pid);
	print_message("pid-namespace container: %d agent runs, %d corrected an entrant\n",
		      entrant_runs(), corrected);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_entrants_pidns_container, setup, teardown),
	};

	return cmocka_run_group_tests_name("entrant", tests, NULL, NULL);
}
