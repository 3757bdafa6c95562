/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Internal to the runtime metadata module, not a public header (that is
 * include/exitwatch/runtime_meta.h). Shared by meta_file.c (which names may become path
 * components, and the bounded read of one regular file), meta_parse.c (the pure parsers of the
 * runtimes' JSON) and runtime_meta.c (where the files are, pod logs, ew_meta_read()).
 */
#ifndef EXITWATCH_META_INT_H
#define EXITWATCH_META_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "exitwatch/identity/runtime_meta.h"

/*
 * Formats the message into err (when err is not NULL and errlen not 0), with errno set to -r
 * so that "%m" says r; returns r.
 */
int ew_meta_errf(char *err, size_t errlen, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* 64 lower-case hex: the only shape of container id that may become a path component. */
bool ew_meta_id_valid(const char *id);
/* A pod uid as the kubelet writes it: 8-4-4-4-12 lower-case hex, or 32 hex (static pods). */
bool ew_meta_uid_valid(const char *uid);
/* One directory name we may open under a trusted directory (no '/', no leading '.'). */
bool ew_meta_component_valid(const char *s);

/*
 * Reads a whole regular file of at most EW_META_MAX_BYTES into a NUL-terminated buffer the
 * caller frees. Never opens anything else, never blocks. 0, -ENOENT, -EINVAL (not a regular
 * file), -EFBIG, or -errno, with the path and the reason in err.
 */
int ew_meta_read_file(const char *path, char **ret_buf, size_t *ret_len, char *err, size_t errlen);

/* Clears ret: every name empty, restart_count -1 (unknown). */
void ew_meta_clear(struct ew_meta *ret);
/* ew_strlcpy() that never cuts a UTF-8 character in two. */
void ew_meta_copy(char *dst, size_t size, const char *src);
/* A non-negative decimal count ("3") that fits an int, else -1. */
int ew_meta_str_count(const char *s);
/* "<N>.log" (rotated: also "<N>.log.<suffix>") -> N, else -1. */
int ew_meta_log_attempt(const char *name, bool rotated);
/* Docker's hostconfig.json: fills only ret->restart_policy. 0 or -EINVAL. */
int ew_meta_parse_hostconfig(const char *json, size_t len, struct ew_meta *ret, char *err,
			     size_t errlen);

/*
 * containers/storage's containers.json (Podman): name and image of container id, filled only
 * where still empty. 0 (also when id is not listed) or -EINVAL.
 */
int ew_meta_parse_libpod_list(const char *json, size_t len, const char *id, struct ew_meta *ret,
			      char *err, size_t errlen);

#endif
