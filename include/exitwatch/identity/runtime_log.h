/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A container's last words on stderr from its runtime's own log file, the way the kubelet's
 * FallbackToLogsOnError gets them: the runtime already stores every byte a container writes,
 * with the stream and a timestamp, so reading the end of that file gives the stderr tail
 * without a syscall tracepoint (which every syscall of every task on the node pays for).
 *
 *   Docker json-file  <root><docker_root>/containers/<id>/<id>-json.log
 *                     {"log":"...","stream":"stderr","time":"<RFC3339Nano>"} per line; a line
 *                     longer than 16 KiB is split into entries of which only the last ends in "\n"
 *   Docker local      <root><docker_root>/containers/<id>/local-logs/container.log
 *                     frames: uint32 BE length, protobuf LogEntry, the same length again
 *   CRI (containerd, CRI-O; what the kubelet reads)
 *                     <root>/var/log/pods/<ns>_<pod>_<uid>/<container>/<restart>.log
 *                     "<RFC3339Nano> <stdout|stderr> <P|F>[:tags] <message>" per line; F ends a
 *                     line (its "\n" is part of the stream), P is continued by the next entry
 *
 * Only the end of the file is read: chunks backwards from the end, at most
 * EW_RUNTIME_LOG_SCAN_MAX bytes per call, so the cost does not depend on the file's size (a
 * chatty container's log may be gigabytes). Files are opened as runtime_meta.c opens them:
 * regular files only, O_NOFOLLOW, never blocking. Time is CLOCK_REALTIME in ns since the epoch,
 * the runtime's clock.
 */
#ifndef EXITWATCH_RUNTIME_LOG_H
#define EXITWATCH_RUNTIME_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "exitwatch/identity/identity.h"
#include "exitwatch/identity/runtime_meta.h"

/*
 * At most this many bytes of one file are read per call: sixteen full 16 KiB entries (two and a
 * half when every byte of them is escaped as \u00XX), so a 2 KiB tail is found behind a lot of
 * stdout chatter, while the worst case (all of it stdout, one json-c parse per line) stays
 * around 2 ms of CPU.
 */
#define EW_RUNTIME_LOG_SCAN_MAX (256 * 1024)

enum ew_log_format {
	EW_LOG_DOCKER_JSON = 1, /* Docker's json-file driver (its default) */
	EW_LOG_CRI,		/* containerd and CRI-O under the kubelet: /var/log/pods */
	EW_LOG_DOCKER_LOCAL,	/* Docker's local driver (binary, protobuf frames) */
};

/* What one call saw; for metrics and tests. */
struct ew_log_stats {
	uint64_t scanned_bytes; /* bytes read from the file(s) */
	uint32_t entries;	/* stderr entries taken into the tail */
	uint32_t malformed;	/* lines (frames) skipped because they do not parse */
	bool reached_since;	/* stopped at an entry older than since_ns */
	bool reached_start;	/* read back to the start of the (oldest) file */
	bool scan_limited;	/* stopped at EW_RUNTIME_LOG_SCAN_MAX with the tail not full */
	bool rotated;		/* also read the file rotated away: "<path>.1", "<path>.<time>" */
};

/*
 * Fills out with the LAST max_bytes bytes of the concatenated stderr stream of the entries
 * whose time is >= since_ns (0: all), exactly as the log file holds them: newlines included,
 * not NUL-terminated, invalid UTF-8 kept as bytes (json-file itself has already replaced it
 * with U+FFFD; the local driver and CRI keep the bytes the container wrote, but containerd
 * drops a "\r" before a "\n"). since_ns should be the start of the container's current
 * instance (its exec): Docker's json-file and local files carry on across restarts of the same
 * container, and entries before since_ns are the previous instance's. Docker's State.StartedAt
 * is too late for this: it is set after the container's first writes are already logged.
 *
 * An incomplete last line (an entry being written) and malformed lines are skipped (counted in
 * stats, which may be NULL). When the file has less than max_bytes of the current instance,
 * the file rotated away is read as well: Docker's "<path>.1" (max-file > 1), or for CRI the
 * kubelet's newest "<path>.<YYYYMMDD-hhmmss>" (the older ones are gzipped and not read).
 *
 * out must hold max_bytes bytes; *out_len gets the length (0 is a valid, empty tail).
 * Returns 0, -ENOENT (no such file), -EINVAL (not a regular file, bad argument),
 * -EPROTONOSUPPORT (unknown format), -EAGAIN (the file was truncated under us three times),
 * -ENOMEM, or another -errno from open/pread.
 */
int ew_runtime_log_tail(const char *path, enum ew_log_format fmt, size_t max_bytes,
			uint64_t since_ns, char *out, size_t *out_len, struct ew_log_stats *stats);

/*
 * The same on bytes in memory: buf holds the end of a log file, at_start says whether buf
 * starts at the file's first byte (else its first line is assumed cut and skipped). Pure: the
 * parser of hostile bytes, for tests and the fuzzer. stats is not cleared first, so that a call
 * per file adds up. Returns 0, -EINVAL or -EPROTONOSUPPORT.
 */
int ew_runtime_log_tail_buf(const char *buf, size_t len, bool at_start, enum ew_log_format fmt,
			    size_t max_bytes, uint64_t since_ns, char *out, size_t *out_len,
			    struct ew_log_stats *stats);

/*
 * RFC 3339 with optional fraction (up to 9 digits) and a Z or +hh:mm/-hh:mm offset, the
 * layout Go's time.RFC3339Nano parses, to ns since the epoch. 0, or -EINVAL (also for times
 * before 1970).
 */
int ew_runtime_log_parse_time(const char *s, size_t len, uint64_t *ret_ns);

/*
 * <host_root><docker_root>/containers/<id>/<id>-json.log (EW_LOG_DOCKER_JSON) or
 * .../<id>/local-logs/container.log (EW_LOG_DOCKER_LOCAL). host_root NULL or "" for the host,
 * docker_root NULL for /var/lib/docker. The id must be 64 lower-case hex (it becomes a path
 * component). 0, -EINVAL or -ENAMETOOLONG; no file is looked at.
 */
int ew_runtime_log_docker_path(const char *host_root, const char *docker_root,
			       const char *container_id, enum ew_log_format fmt, char *out,
			       size_t len);

/*
 * <host_root><pods_root>/<ns>_<pod>_<uid>/<container>/<restart>.log, pods_root NULL for
 * /var/log/pods. With restart_count < 0 (unknown) the directory is read and the highest
 * <n>.log is taken: the kubelet names each attempt's file after its restart count, so that is
 * the newest attempt (rotated "<n>.log.<time>" files are not candidates). Names are validated
 * before they become path components. 0, -EINVAL, -ENAMETOOLONG, -ENOENT (no <n>.log) or
 * -errno from opendir.
 */
int ew_runtime_log_cri_path(const char *host_root, const char *pods_root, const char *pod_ns,
			    const char *pod_name, const char *pod_uid, const char *container,
			    int restart_count, char *out, size_t len);

/*
 * The log file of the container an identity names, as the runtime keeps it under paths:
 *   Docker       json-file when <id>-json.log is there, else the local driver's file;
 *   Kubernetes   (containerd, CRI-O) the pod's <container>/<n>.log with the highest n, the
 *                current attempt's: the kubelet only makes the next one after a back-off.
 * path gets it (len bytes), *fmt its format. Returns 0, -ENOENT when the container has no log
 * file this module reads (not a container of those runtimes, another Docker log driver such as
 * journald or none, pod names unknown), or another -errno from looking (-EACCES, ...).
 */
int ew_runtime_log_locate(const struct ew_meta_paths *paths, const struct ew_identity *id,
			  char *path, size_t len, enum ew_log_format *fmt);

/* The file's size now (lstat: regular files only), or -errno. For waiting until it settles. */
int ew_runtime_log_size(const char *path, off_t *ret);

/* "docker-json-file", "docker-local", "cri"; NULL for anything else. */
const char *ew_log_format_name(enum ew_log_format fmt);

#endif
