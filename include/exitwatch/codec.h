/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Events and identities as JSON objects, for the recording (--record, exitwatch replay) and the
 * detector's checkpoint. Written with the project's writer, read back with json-c. Byte strings
 * that must survive exactly (the stderr tail) are hex-encoded.
 */
#ifndef EXITWATCH_CODEC_H
#define EXITWATCH_CODEC_H

#include <stddef.h>

#include <json-c/json.h>

#include "exitwatch/event.h"
#include "exitwatch/identity.h"
#include "exitwatch/json_writer.h"

/* Writes the identity as the value of the current member (an object). */
void ew_codec_write_identity(struct ew_jsonw *w, const struct ew_identity *id);
/* Reads it back; missing members stay empty. 0 or -EINVAL (not an object, key missing). */
int ew_codec_read_identity(struct json_object *o, struct ew_identity *ret);

/* The members of an event (no braces: the caller owns the object). */
void ew_codec_write_event_members(struct ew_jsonw *w, const struct ew_event *ev);
/* 0, or -EINVAL with the offending member named in err. */
int ew_codec_read_event(struct json_object *o, struct ew_event *ret, char *err, size_t errlen);

/* Hex helpers: out must hold 2 * n + 1 bytes; ew_hex_decode returns bytes or -EINVAL. */
void ew_hex_encode(const char *in, size_t n, char *out);
int ew_hex_decode(const char *in, char *out, size_t outlen);

/* Typed getters over json-c that tolerate absent members (return the default). */
const char *ew_json_str(struct json_object *o, const char *key, const char *dflt);
uint64_t ew_json_u64(struct json_object *o, const char *key, uint64_t dflt);
int64_t ew_json_i64(struct json_object *o, const char *key, int64_t dflt);
bool ew_json_bool(struct json_object *o, const char *key, bool dflt);

#endif
