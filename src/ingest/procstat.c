// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitwatch/ingest/procstat.h"
#include "exitwatch/util/cleanup.h"

/* Reads a small file whole into buf (NUL-terminated). Returns its length or -errno; a process
 * that died between open and read gives -ESRCH. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

/* The fields of <proc_root>/<pid>/stat the sweep and the scan's re-check need. */
struct stat_fields {
	char state;		  /* field 3: R, S, ..., Z (zombie), X (dead) */
	unsigned int flags;	  /* field 9: the task's PF_* flags */
	long threads;		  /* field 20: num_threads, those not yet released */
	unsigned long long start; /* field 22: starttime, in clock ticks */
};

/* PF_EXITING, include/linux/sched.h (the same bit since 2.6): set by exit_signals() at the top
 * of do_exit(), before the exit tracepoint. */
#define EW_PF_EXITING 0x00000004u

static int read_stat_at(const char *path, struct stat_fields *ret)
{
	char buf[1024], *close_p;
	ssize_t n;

	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	/* "pid (comm) state ppid ...": comm may hold spaces and ')', so from the last ')'. After
	 * it, field 3 of the line (state), then 9 (flags), 20 (num_threads), 22 (starttime). */
	close_p = strrchr(buf, ')');
	if (!close_p || close_p[1] != ' ' ||
	    sscanf(close_p + 2,
		   "%c %*d %*d %*d %*d %*d %u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %ld %*d "
		   "%llu",
		   &ret->state, &ret->flags, &ret->threads, &ret->start) != 4)
		return -EINVAL;
	return 0;
}

static int read_stat(const char *proc_root, uint32_t pid, struct stat_fields *ret)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%u/stat", proc_root, pid);
	return read_stat_at(path, ret);
}

int ew_procstat_start_ticks(const char *proc_root, uint32_t pid, uint64_t *ret)
{
	struct stat_fields f;
	int r = read_stat(proc_root, pid, &f);

	if (r)
		return r;
	*ret = f.start;
	return 0;
}

int ew_procstat_host_pidns(const char *proc_root)
{
	char path[PATH_MAX], buf[4096], *line;
	ssize_t n;
	int fields = 0;

	snprintf(path, sizeof(path), "%s/1/status", proc_root);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return n == -ESRCH ? -ENOENT : (int)n;
	line = strstr(buf, "\nNSpid:");
	if (!line)
		return -ENOENT;
	line += strlen("\nNSpid:");
	line[strcspn(line, "\n")] = '\0';
	for (char *sp, *tok = strtok_r(line, " \t", &sp); tok; tok = strtok_r(NULL, " \t", &sp))
		fields++;
	if (!fields)
		return -EINVAL;
	return fields == 1;
}

bool ew_procstat_alive(void *proc_root, uint32_t pid, uint64_t start_ticks)
{
	uint64_t now = 0;
	int r = ew_procstat_start_ticks(proc_root, pid, &now);

	if (r == -ESRCH)
		return false;
	if (r)
		return true;
	return now == start_ticks;
}

static bool zombie(const struct stat_fields *f)
{
	return f->state == 'Z' || f->state == 'X';
}

/* Whether a thread of pid other than its leader is in do_exit() now. */
static bool thread_exiting(const char *proc_root, uint32_t pid)
{
	_cleanup_closedir_ DIR *d = NULL;
	char path[PATH_MAX];
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/%u/task", proc_root, pid);
	d = opendir(path);
	if (!d)
		return false; /* gone meanwhile: nothing is exiting any more */
	while ((de = readdir(d))) {
		struct stat_fields f;

		if (de->d_name[0] == '.' || strtoul(de->d_name, NULL, 10) == pid)
			continue;
		snprintf(path, sizeof(path), "%s/%u/task/%s/stat", proc_root, pid, de->d_name);
		if (!read_stat_at(path, &f) && (f.flags & EW_PF_EXITING) && !zombie(&f))
			return true;
	}
	return false;
}

enum ew_proc_phase ew_procstat_phase(void *proc_root, uint32_t pid, uint64_t start_ticks)
{
	struct stat_fields f;
	int r = read_stat(proc_root, pid, &f);

	if (r == -ESRCH)
		return EW_PROC_EXITED;
	if (r)
		return EW_PROC_RUNNING;
	if (f.start != start_ticks)
		return EW_PROC_EXITED;
	/*
	 * A zombie leader (Z) still counts its group's threads that have not been released, and
	 * do_exit() releases a thread only after trace_sched_process_exit: with itself the only one
	 * left, every thread of the group is past the exit hook.
	 */
	if (zombie(&f) && f.threads <= 1)
		return EW_PROC_EXITED;
	/* The hook runs in the group's last thread to exit, once every thread (the leader too)
	 * has set PF_EXITING: a leader without it holds the group alive. */
	if (!(f.flags & EW_PF_EXITING))
		return EW_PROC_RUNNING;
	if (!zombie(&f))
		return EW_PROC_EXITING;
	/* The leader exited before its threads, which live on (or are in do_exit now). */
	return thread_exiting(proc_root, pid) ? EW_PROC_EXITING : EW_PROC_RUNNING;
}
