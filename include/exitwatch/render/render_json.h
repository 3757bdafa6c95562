/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Record -> one NDJSON line (schema in docs/schema.md and docs/exitwatch.schema.json). Pure:
 * everything it writes comes from the record and the context.
 */
#ifndef EXITWATCH_SINK_JSON_H
#define EXITWATCH_SINK_JSON_H

#include "exitwatch/core/names.h"
#include "exitwatch/core/record.h"
#include "exitwatch/util/buf.h"

/* 0 when the record has what its type needs (ev and id, finding, agent), else -EINVAL. */
int ew_record_check(const struct ew_record *r);

/* Appends the record and a '\n' to out. Returns 0, -ENOMEM, or -EINVAL on a bad record. */
int ew_render_json(const struct ew_record *r, const struct ew_render_ctx *ctx, struct ew_buf *out);

/*
 * What the identity makes of a record ("container", "pod", "compose", "workload" and its
 * labels: a quarter of a record's rendering) kept for the container's next records, by the
 * identity's revision (ew_identity.rev; 0 is never kept), with the first words of its
 * sentences; what only the record's type and the node make; and the last exit's "exit",
 * "startup" and "children" and its sentence's words for it, with what made them. The
 * bytes are those ew_render_json() writes: only the work is saved. A few dozen identities, the
 * most recent; not thread-safe.
 */
struct ew_render_cache;
struct ew_render_cache *ew_render_cache_new(void);
void ew_render_cache_free(struct ew_render_cache *c);

/* ew_render_json(), reusing and filling c (NULL: none). */
int ew_render_json_cached(const struct ew_record *r, const struct ew_render_ctx *ctx,
			  struct ew_render_cache *c, struct ew_buf *out);

/* The severity a record is emitted with (also used by the text renderer). */
enum ew_severity ew_record_severity(const struct ew_record *r);

/*
 * Deterministic logging.googleapis.com/insertId: the same fact (same node, record type,
 * container, process and time, or the same finding and transition) always gives the same id,
 * so a line delivered twice is stored once. "ew-" and 16 hex digits.
 */
void ew_record_insert_id(const struct ew_record *r, const struct ew_render_ctx *ctx, char out[24]);

/* A record's time as it is shown: as the wall clock said it then (core/record.h, clock). */
uint64_t ew_render_wall(const struct ew_render_ctx *ctx, uint64_t t);

/* The one-sentence "message" of a record. */
void ew_record_message(const struct ew_record *r, const struct ew_render_ctx *ctx, char *out,
		       size_t len);

/*
 * Pieces of a container's sentence that depend on less than the record, kept by a caller
 * (render_json.c's cache) for the records that share them: the sentence is the same bytes as
 * ew_record_message()'s, made with less work.
 */
#define EW_MESSAGE_WHO_LEN  (EW_NAME_LEN + 96)
#define EW_MESSAGE_WHAT_LEN 128
struct ew_message_parts {
	const char *who; /* ew_message_who() of the record's identity, or NULL: made here */
	/*
	 * An exit's, or NULL: made here. What ew_message_exit_what() made of an exit with the
	 * same status word and class, and with it the meaning the class table gives that exit,
	 * made printable by ew_message_printable() (NULL: none).
	 */
	const char *what;
	const char *meaning;
};
void ew_record_message_parts(const struct ew_record *r, const struct ew_render_ctx *ctx,
			     const struct ew_message_parts *parts, char *out, size_t len);
/* "web-1 (docker 1a2b3c4d5e6f)": who a record is about. */
void ew_message_who(const struct ew_identity *id, char *out, size_t len);
/* "exited with code 3 (config_error)": an exit in a few words (EW_MESSAGE_WHAT_LEN). */
void ew_message_exit_what(const struct ew_event *ev, enum ew_exit_class cls, char *out, size_t len);
/* Control bytes and DEL in s become '?', as in every sentence. */
void ew_message_printable(char *s);

#endif
