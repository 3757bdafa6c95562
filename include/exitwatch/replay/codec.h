/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Events and identities as JSON objects, for the recording (--record, exitwatch replay) and the
 * state file (persist/). Written with the project's writer, read back with json-c through
 * core/json_read. Byte strings that must survive exactly (the stderr tail) are hex-encoded.
 */
#ifndef EXITWATCH_CODEC_H
#define EXITWATCH_CODEC_H

#include <stddef.h>

#include "exitwatch/core/event.h"
#include "exitwatch/core/hex.h"
#include "exitwatch/core/json_read.h"
#include "exitwatch/identity/identity.h"
#include "exitwatch/core/json_writer.h"

/* Writes the identity as the value of the current member (an object). */
void ew_codec_write_identity(struct ew_jsonw *w, const struct ew_identity *id);
/*
 * Reads it back; missing members stay empty. 0, or -EINVAL with err naming the member
 * ("NAME.key": name is what the object is called where it is read) when o is not an object, a
 * member is of another JSON type or out of range, or the key is missing.
 */
int ew_codec_read_identity(struct json_object *o, const char *name, struct ew_identity *ret,
			   char *err, size_t errlen);

/* The members of an event (no braces: the caller owns the object). */
void ew_codec_write_event_members(struct ew_jsonw *w, const struct ew_event *ev);
/*
 * 0, or -EINVAL with the offending member named in err. An absent member takes its default
 * (older recordings lack some); one of another JSON type or out of its range is an error.
 */
int ew_codec_read_event(struct json_object *o, struct ew_event *ret, char *err, size_t errlen);

/* A recording's {"end":{"time":T}} and {"drops":{"time":T,"total":N}} members, as above. */
int ew_codec_read_end(struct json_object *o, uint64_t *time_ns, char *err, size_t errlen);
int ew_codec_read_drops(struct json_object *o, uint64_t *time_ns, uint64_t *total, char *err,
			size_t errlen);
/* {"clock_step":{"time":T,"step_ns":S}}: from agent time T on, the wall clock was S from it. */
int ew_codec_read_clock_step(struct json_object *o, uint64_t *time_ns, int64_t *step_ns, char *err,
			     size_t errlen);

/*
 * The member key of o if it has that JSON type: 0 and *ret (NULL when absent), or -EINVAL with
 * `member "key" is not of JSON type T` in err.
 */
int ew_codec_member(struct json_object *o, const char *key, enum ew_json_type type,
		    struct json_object **ret, char *err, size_t errlen);

#endif
