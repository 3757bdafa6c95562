/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The on-disk spool of one stream sink (used only by src/sink/output.c): a FIFO of whole
 * NDJSON lines in one file, bounded in unread bytes, that survives a restart. Lines are
 * appended at the end and consumed from a read position kept in memory; the file is truncated
 * when fully consumed and compacted (copy of the unread tail, then rename) when the consumed
 * head outgrows the unread tail, so its size stays within about twice the bound.
 * Delivery is at least once: after a crash, lines consumed since the last compaction are
 * delivered again (records carry an insertId so the log backend stores them once).
 */
#ifndef EXITWATCH_SPOOL_H
#define EXITWATCH_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct ew_spool;

/*
 * Opens DIR/NAME (DIR created 0700 with its parents, the file 0600), locked against a second
 * agent using the same spool (-EBUSY). Lines left by a previous run are kept, a torn last line
 * (crash mid-append) is cut off. Returns 0 or -errno.
 */
int ew_spool_open(const char *dir, const char *name, uint64_t max_bytes, struct ew_spool **ret);

/*
 * Appends one line: one '\n', at its end (else -EINVAL). Returns 0, -ENOBUFS when the unread
 * bytes would pass max_bytes, or the write's -errno (-ENOSPC: the disk is full; nothing partial
 * is left in the file).
 */
int ew_spool_append(struct ew_spool *s, const char *line, size_t len);

/*
 * The oldest unread line: returns 1 with *line and *len set (valid until the next call on s),
 * 0 when the spool is empty, -errno on a read error.
 */
int ew_spool_peek(struct ew_spool *s, const char **line, size_t *len);

/* Consumes the line the last ew_spool_peek() returned. */
void ew_spool_pop(struct ew_spool *s);

uint64_t ew_spool_bytes(const struct ew_spool *s);     /* unread bytes */
uint64_t ew_spool_lines(const struct ew_spool *s);     /* unread lines */
uint64_t ew_spool_max_bytes(const struct ew_spool *s); /* the bound on unread bytes */
const char *ew_spool_path(const struct ew_spool *s);   /* DIR/NAME, for messages */

/*
 * Closes s. The front lines (older than the spooled ones: a memory queue at shutdown) are
 * saved ahead of them, even past max_bytes, so that the next run delivers them first; the file
 * is removed when nothing is left. Returns 0, or -errno when front could not be saved.
 * NULL is a no-op.
 */
int ew_spool_close(struct ew_spool *s, const struct iovec *front, size_t nfront);

#endif
