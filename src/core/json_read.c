// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Typed getters over json-c (include/exitwatch/core/json_read.h). */
#include <json-c/json.h>

#include "exitwatch/core/json_read.h"

const char *ew_json_str(struct json_object *o, const char *key, const char *dflt)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return dflt;
	return json_object_get_string(v);
}

uint64_t ew_json_u64(struct json_object *o, const char *key, uint64_t dflt)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return dflt;
	return json_object_get_uint64(v);
}

int64_t ew_json_i64(struct json_object *o, const char *key, int64_t dflt)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return dflt;
	return json_object_get_int64(v);
}

bool ew_json_bool(struct json_object *o, const char *key, bool dflt)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_boolean))
		return dflt;
	return json_object_get_boolean(v);
}
