/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Internal to the runtime log module, not a public header (that is
 * include/exitwatch/runtime_log.h). runtime_log_parse.c parses one entry of each format, pure;
 * runtime_log.c finds the entries in a file, newest first, and keeps the tail;
 * runtime_log_path.c names the files.
 */
#ifndef EXITWATCH_RUNTIME_LOG_INT_H
#define EXITWATCH_RUNTIME_LOG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "exitwatch/identity/runtime_log.h"

/* One entry: data points into the parsed bytes (json-file: into the object handed back). */
struct ew_rl_entry {
	uint64_t time_ns; /* the runtime's timestamp, ns since the epoch */
	const char *data; /* the entry's bytes in the stream, without a newline added below */
	size_t len;
	bool is_stderr;
	bool newline; /* the stream has a "\n" after data (CRI F, local's end of a line) */
};

/* A CRI line without its "\n". 0 or -EINVAL. */
int ew_rl_parse_cri(const char *p, size_t n, struct ew_rl_entry *ret);

/*
 * A json-file line without its "\n", through tok (reset here). 0 with *ret_obj holding what
 * ret->data points into (the caller puts it after use), or -EINVAL with *ret_obj NULL.
 */
int ew_rl_parse_json(json_tokener *tok, const char *p, size_t n, struct ew_rl_entry *ret,
		     json_object **ret_obj);

/* One local-driver LogEntry message (the bytes between its two lengths). 0 or -EINVAL. */
int ew_rl_parse_local(const char *p, size_t n, struct ew_rl_entry *ret);

/*
 * The file the runtime's log rotation moved the older entries of path to: Docker's "<path>.1"
 * (max-file > 1, uncompressed for json-file), the kubelet's newest "<path>.<time>". 0, -ENOENT
 * (no rotated file), -ENAMETOOLONG.
 */
int ew_rl_rotated_path(const char *path, enum ew_log_format fmt, char *out, size_t len);

#endif
