/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * When a container's runtime has finished writing its log. The runtime's log writer (dockerd's
 * json-file and local loggers, containerd's CRI writer, CRI-O's conmon) closes the file once the
 * container's output streams have drained, and only then writes a last line that had no
 * newline: measured with Docker, 25-60 ms after the exit, while complete lines land within 2 ms.
 * So an exit's tail is complete when its log file has been closed after a write since the exit:
 * inotify's IN_CLOSE_WRITE, on a watch added when the container started. A watch added only
 * after the exit (a container that lived less than a turn of the agent's loop: its start and
 * exit arrive together) may have missed the close, and says so.
 *
 * A watch is on a file, not a path, and a log rotation (the kubelet's <n>.log.<time>, Docker's
 * <id>-json.log.1) renames the file the runtime wrote and has it open a new one at the path:
 * the watch follows the path to the new file (IN_MOVE_SELF, or the rotated file's deletion),
 * so neither the reopen's close of the old file nor the old file's removal passes for the
 * writer's last close. Only a file deleted with nothing left at its path does.
 *
 * One inotify instance for all containers; a file several containers share (Docker's restarts
 * of one container write one file) has one watch. Times are wall-clock ns, as events' are.
 */
#ifndef EXITWATCH_LOG_WATCH_H
#define EXITWATCH_LOG_WATCH_H

#include <stdint.h>

struct ew_logwatch;

/* NULL with errno set when inotify cannot be had (the caller falls back to waiting). */
struct ew_logwatch *ew_logwatch_new(void);
void ew_logwatch_free(struct ew_logwatch *w);
/* The inotify fd, for poll(): readable when a watched file was closed. */
int ew_logwatch_fd(const struct ew_logwatch *w);
/* Watches path, the log of the container of cgroup_id, from now_wall on; tag is the caller's
 * (the log's format), given back by ew_logwatch_path(). 0 or -errno (-ENOSPC: the node's
 * fs.inotify.max_user_watches is used up; -ENOMEM). */
int ew_logwatch_add(struct ew_logwatch *w, uint64_t cgroup_id, const char *path, int tag,
		    uint64_t now_wall);
/* The path the container's watch was added with (its tag in *tag), or NULL: no watch. Found at
 * the start, so the exit need not look for the log again. */
const char *ew_logwatch_path(const struct ew_logwatch *w, uint64_t cgroup_id, int *tag);
/* Takes what the kernel queued; a close seen now is dated now_wall. */
void ew_logwatch_read(struct ew_logwatch *w, uint64_t now_wall);
/* 1: the container's log was closed after a write at or after since_wall (or deleted, nothing
 * left at its path); 0: not yet; -EAGAIN: not yet, but the watch began after since_wall, so the
 * close may have come before it; -ENOENT: the container has no watch, or lost it (the new file
 * after a rotation could not be watched: -ENOSPC, say). */
int ew_logwatch_closed(const struct ew_logwatch *w, uint64_t cgroup_id, uint64_t since_wall);
/* The container's exit has been reported, or never will be (ew_pipeline_forget()): its watch
 * goes when no other container shares it. */
void ew_logwatch_forget(struct ew_logwatch *w, uint64_t cgroup_id);
/* IN_Q_OVERFLOW seen since ew_logwatch_new(): the kernel queued more than
 * fs.inotify.max_queued_events and dropped the rest (closes, rotations) before a read. */
uint64_t ew_logwatch_overflows(const struct ew_logwatch *w);
/* Containers watched. */
uint32_t ew_logwatch_count(const struct ew_logwatch *w);

#endif
