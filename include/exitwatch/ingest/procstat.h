/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What /proc says of one process, for the sweep of the kernel's "cgroups" map: whether the main
 * process an entry names (pid, start in clock ticks) is still there. Reads files under a
 * configurable proc root (--proc-root), so the tests run on fixture trees.
 */
#ifndef EXITWATCH_PROCSTAT_H
#define EXITWATCH_PROCSTAT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The start time of pid (field 22 of <proc_root>/<pid>/stat, in clock ticks since boot).
 * Returns 0, -ESRCH when there is no such process (no such file, or it died while read),
 * -EINVAL when the file is not a stat line, or another -errno (EACCES, EMFILE, ...).
 */
int ew_procstat_start_ticks(const char *proc_root, uint32_t pid, uint64_t *ret);

/*
 * Whether proc_root shows the initial pid namespace, whose pids the kernel's maps hold: its pid
 * 1's "NSpid:" line in status has one entry there, more in a container's namespace. Returns 1,
 * 0, or -errno when it cannot tell (no such file, no NSpid line: kernels before 4.1).
 */
int ew_procstat_host_pidns(const char *proc_root);

/*
 * An ew_loader_alive_fn, ctx the proc root: false only when the process is gone or another one
 * has its pid (a different start). Any other failure to read says alive: an entry is only
 * deleted on evidence.
 */
bool ew_procstat_alive(void *proc_root, uint32_t pid, uint64_t start_ticks);

/*
 * Where a process stands against the kernel's exit hook (trace_sched_process_exit, which runs
 * in do_exit() of its group's last thread, before that thread is a zombie): what the start-up
 * scan must know before it trusts an entry it has just written.
 */
enum ew_proc_phase {
	EW_PROC_RUNNING, /* before the hook: it will read the maps as they are from now on */
	EW_PROC_EXITING, /* in do_exit() (PF_EXITING): the hook may be running right now */
	EW_PROC_EXITED,	 /* past it: gone, a zombie with no thread left, or another process */
};

/*
 * An ew_loader_phase_fn, ctx the proc root. From <pid>/stat's state, flags (PF_EXITING) and
 * thread count, and its threads' when the leader is a zombie whose threads live on. Unreadable
 * or unparsable says running, as above: no evidence.
 */
enum ew_proc_phase ew_procstat_phase(void *proc_root, uint32_t pid, uint64_t start_ticks);

#endif
