/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading JSON parsed by json-c, the one set of getters for recordings, the state file and the
 * runtimes' metadata. json-c's own getters turn a member of the wrong type into 0 or "" (and
 * assert on arrays), so every getter here checks the type first. json-c's header is not
 * included: a caller that parses includes it itself.
 */
#ifndef EXITWATCH_JSON_READ_H
#define EXITWATCH_JSON_READ_H

#include <stdbool.h>
#include <stdint.h>

struct json_object;

/* Typed getters over json-c that tolerate absent members (return the default). */
const char *ew_json_str(struct json_object *o, const char *key, const char *dflt);
uint64_t ew_json_u64(struct json_object *o, const char *key, uint64_t dflt);
int64_t ew_json_i64(struct json_object *o, const char *key, int64_t dflt);
bool ew_json_bool(struct json_object *o, const char *key, bool dflt);

#endif
