/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Exec entrants for the tests that the main process is never one: processes that enter a
 * running container from outside and exec `true` there, again and again, the way `docker exec`,
 * `kubectl exec`, exec probes and `runc exec` do, while exitwatch starts and stops.
 */
#ifndef EW_TEST_ENTRANT_H
#define EW_TEST_ENTRANT_H

#include <stdbool.h>
#include <sys/types.h>

#include "harness/harness.h"

/*
 * Starts argv as pid 1 of a new pid namespace in the cgroup of procs, its parent (the caller)
 * outside, as runc starts a container's init. Returns the pid (in the caller's namespace) once
 * it has exec'd, or -errno.
 */
pid_t ew_h_spawn_pidns(const char *procs, char *const argv[]);

/*
 * Forks a process that makes entrants into the container of main_pid until it is killed: each
 * joins the cgroup whose cgroup.procs is procs and execs /bin/true. via_pidns: as runc exec,
 * it first enters main_pid's pid namespace (setns, then a fork: another pid than 1 there);
 * otherwise it stays in the host's pid namespace. Returns the pid; fails the test if it cannot.
 */
pid_t ew_h_entrant_loop(pid_t main_pid, const char *procs, bool via_pidns);
/* SIGKILLs and reaps a loop (0: none). */
void ew_h_entrant_loop_stop(pid_t *loop);

/*
 * Starts and stops exitwatch runs times (extra args, NULL-terminated) while loops run. Each run
 * must report the container (container.cgroup ending in sfx) exactly once, as already running
 * with main_pid, and no exit, ready or finding of it; the test fails otherwise, showing the
 * records. Returns how many runs corrected an entrant the kernel had taken for the main one.
 */
int ew_h_entrant_runs(struct ew_h_agent *a, int runs, const char *sfx, pid_t main_pid);

/*
 * exitwatch with --no-scan for ms: nothing seeds the container, so the kernel alone must refuse
 * the entrants that come through its pid namespace: no start or exit of it at all.
 */
void ew_h_entrant_no_scan(struct ew_h_agent *a, const char *sfx, int ms);

#endif
