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
/* Reads it back; missing members stay empty. 0 or -EINVAL (not an object, key missing). */
int ew_codec_read_identity(struct json_object *o, struct ew_identity *ret);

/* The members of an event (no braces: the caller owns the object). */
void ew_codec_write_event_members(struct ew_jsonw *w, const struct ew_event *ev);
/* 0, or -EINVAL with the offending member named in err. */
int ew_codec_read_event(struct json_object *o, struct ew_event *ret, char *err, size_t errlen);

#endif
