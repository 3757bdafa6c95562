/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The start-up scan: containers whose main process was running before exitwatch attached.
 * The cgroup v2 tree gives every process's cgroup (with the host's paths, whatever cgroup
 * namespace the agent runs in) and each cgroup's id; /proc gives parents and start times. A
 * main process is, as in the kernel, a process whose parent lives in another cgroup; where a
 * cgroup has several (docker exec), the oldest is the main one.
 */
#ifndef EXITWATCH_SCAN_H
#define EXITWATCH_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "exitwatch/core/event.h"

struct ew_scan_opts {
	const char *proc_root;	 /* "/proc" */
	const char *cgroup_root; /* mount point of cgroup v2, e.g. "/sys/fs/cgroup/unified" */
	uint64_t now_wall_ns;	 /* stamped on the START events */
};

struct ew_scan_stats {
	uint32_t cgroups;   /* cgroup directories walked */
	uint32_t processes; /* processes listed in them */
	uint32_t mains;	    /* main processes found */
};

/*
 * Called once per main process found, with a START event (seeded = true) and its start time
 * in clock ticks, the key the kernel uses. Return < 0 to stop the scan with that error.
 */
typedef int (*ew_scan_fn)(void *ctx, const struct ew_event *start, uint64_t start_ticks);

/* Returns 0, or -errno when the cgroup root cannot be read (the error names what failed). */
int ew_scan_mains(const struct ew_scan_opts *opts, ew_scan_fn fn, void *ctx,
		  struct ew_scan_stats *stats);

/*
 * A cgroup the scan seeded or corrected: the kernel's records of it stamped before until_ns
 * (the wall-clock time right after the seed) name a process that is not its main one (an exec
 * entrant that execed between attach and the scan), and are dropped.
 */
struct ew_scan_fence {
	uint64_t cgroup_id;
	uint64_t until_ns;
};
struct ew_scan_fences {
	struct ew_scan_fence *v;
	size_t n, cap;
	bool sorted;
};
/* Adds a fence; 0 or -ENOMEM. A cgroup is fenced at most once (the scan seeds it once). */
int ew_scan_fences_add(struct ew_scan_fences *f, uint64_t cgroup_id, uint64_t until_ns);
/* Whether a record of cgroup_id stamped time_ns is behind a fence. O(log n) (sorts once). */
bool ew_scan_fences_drop(struct ew_scan_fences *f, uint64_t cgroup_id, uint64_t time_ns);
void ew_scan_fences_free(struct ew_scan_fences *f);

/*
 * Finds the cgroup v2 mount point in a mountinfo file ("/proc/self/mountinfo"): the pure v2
 * /sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts. Returns 0, -ENOENT when there is
 * none, -ENAMETOOLONG when out is too small, or -errno when the file cannot be opened.
 */
int ew_scan_find_cgroup2(const char *mountinfo_path, char *out, size_t outlen);

/*
 * Where the host's cgroup v2 hierarchy is: the explicit root if given, else the first of
 * <host_root>/sys/fs/cgroup and <host_root>/sys/fs/cgroup/unified that is a cgroup2 mount
 * (statfs), else the cgroup2 mount of the mountinfo file. Host paths, whatever cgroup
 * namespace the agent runs in, as long as the host's cgroupfs is mounted there.
 */
int ew_scan_cgroup_root(const char *explicit_root, const char *host_root, const char *mountinfo,
			char *out, size_t outlen);

#endif
