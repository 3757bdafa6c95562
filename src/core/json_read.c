// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Reading JSON through json-c (include/exitwatch/core/json_read.h). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

#include <json-c/json.h>

#include "exitwatch/core/json_read.h"

static const enum json_type jtypes[] = {
	[EW_JSON_NULL] = json_type_null,     [EW_JSON_BOOL] = json_type_boolean,
	[EW_JSON_DOUBLE] = json_type_double, [EW_JSON_INT] = json_type_int,
	[EW_JSON_OBJECT] = json_type_object, [EW_JSON_ARRAY] = json_type_array,
	[EW_JSON_STRING] = json_type_string,
};

static enum json_type jtype(enum ew_json_type type)
{
	return (unsigned)type < sizeof(jtypes) / sizeof(jtypes[0]) ? jtypes[type] : json_type_null;
}

const char *ew_json_type_name(enum ew_json_type type)
{
	return json_type_to_name(jtype(type));
}

bool ew_json_is(const struct json_object *v, enum ew_json_type type)
{
	return json_object_is_type(v, jtype(type));
}

/* ---- lenient ---- */

struct json_object *ew_json_get(struct json_object *o, const char *key, enum ew_json_type type)
{
	struct json_object *v;

	/* json_object_object_get_ex() is safe on NULL and on other types: member absent. */
	if (!json_object_object_get_ex(o, key, &v) || !ew_json_is(v, type))
		return NULL;
	return v;
}

bool ew_json_has(struct json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

const char *ew_json_str(struct json_object *o, const char *key, const char *dflt)
{
	struct json_object *v = ew_json_get(o, key, EW_JSON_STRING);

	return v ? json_object_get_string(v) : dflt;
}

uint64_t ew_json_u64(struct json_object *o, const char *key, uint64_t dflt)
{
	struct json_object *v = ew_json_get(o, key, EW_JSON_INT);

	return v ? json_object_get_uint64(v) : dflt;
}

int64_t ew_json_i64(struct json_object *o, const char *key, int64_t dflt)
{
	struct json_object *v = ew_json_get(o, key, EW_JSON_INT);

	return v ? json_object_get_int64(v) : dflt;
}

bool ew_json_bool(struct json_object *o, const char *key, bool dflt)
{
	struct json_object *v = ew_json_get(o, key, EW_JSON_BOOL);

	return v ? json_object_get_boolean(v) : dflt;
}

/* ---- strict ---- */

int ew_json_member(struct json_object *o, const char *key, enum ew_json_type type,
		   struct json_object **ret)
{
	struct json_object *v;

	*ret = NULL;
	if (!json_object_object_get_ex(o, key, &v))
		return -ENOENT;
	if (!ew_json_is(v, type))
		return -EINVAL;
	*ret = v;
	return 0;
}

int ew_json_int_in(const struct json_object *v, int64_t min, int64_t max, int64_t *ret)
{
	int64_t x;

	*ret = 0;
	if (!json_object_is_type(v, json_type_int))
		return -EINVAL;
	x = json_object_get_int64(v);
	*ret = x;
	return x < min || x > max ? -ERANGE : 0;
}

/* ---- the strict reader ---- */

/* The first error: `member "in.key" ` (when key is given) and the formatted rest, cleaned. */
static int rd_vfail(struct ew_json_rd *rd, int r, const char *key, const char *fmt, va_list ap)
{
	const char *in = rd->in ? rd->in : "";
	int n = 0;

	if (rd->r)
		return rd->r;
	rd->r = r;
	if (!rd->errlen)
		return r;
	if (key)
		n = snprintf(rd->err, rd->errlen, "member \"%s%s%s\" ", in, in[0] ? "." : "", key);
	if (n >= 0 && (size_t)n < rd->errlen)
		vsnprintf(rd->err + n, rd->errlen - (size_t)n, fmt, ap);
	rd->err[rd->errlen - 1] = '\0'; /* terminated whatever snprintf made of it */
	/* Messages quote the file: its bytes must not start a line or a terminal escape. */
	for (char *c = rd->err; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return r;
}

int ew_json_rd_fail(struct ew_json_rd *rd, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r = rd_vfail(rd, r, NULL, fmt, ap);
	va_end(ap);
	return r;
}

static void rd_bad(struct ew_json_rd *rd, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void rd_bad(struct ew_json_rd *rd, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rd_vfail(rd, -EINVAL, key, fmt, ap);
	va_end(ap);
}

struct json_object *ew_json_rd_member(struct ew_json_rd *rd, struct json_object *o, const char *key,
				      enum ew_json_type type, bool required)
{
	struct json_object *v;
	int r;

	if (rd->r)
		return NULL;
	r = ew_json_member(o, key, type, &v);
	if (r == -EINVAL)
		rd_bad(rd, key, "is not of JSON type %s", ew_json_type_name(type));
	else if (r == -ENOENT && required)
		rd_bad(rd, key, "is missing");
	return v;
}

int64_t ew_json_rd_int(struct ew_json_rd *rd, struct json_object *o, const char *key, int64_t min,
		       int64_t max, int64_t dflt, bool required)
{
	struct json_object *v = ew_json_rd_member(rd, o, key, EW_JSON_INT, required);
	int64_t x;

	if (!v)
		return dflt;
	if (ew_json_int_in(v, min, max, &x)) {
		rd_bad(rd, key, "is out of range (%lld not in %lld..%lld)", (long long)x,
		       (long long)min, (long long)max);
		return dflt;
	}
	return x;
}

uint64_t ew_json_rd_uint(struct ew_json_rd *rd, struct json_object *o, const char *key,
			 uint64_t max, uint64_t dflt, bool required)
{
	struct json_object *v = ew_json_rd_member(rd, o, key, EW_JSON_INT, required);
	int64_t s;
	uint64_t x;

	if (!v)
		return dflt;
	/* json-c keeps integers above INT64_MAX as unsigned: get_uint64 has them exactly. */
	s = json_object_get_int64(v);
	x = json_object_get_uint64(v);
	if (s < 0) {
		rd_bad(rd, key, "is out of range (%lld not in 0..%llu)", (long long)s,
		       (unsigned long long)max);
		return dflt;
	}
	if (x > max) {
		rd_bad(rd, key, "is out of range (%llu not in 0..%llu)", (unsigned long long)x,
		       (unsigned long long)max);
		return dflt;
	}
	return x;
}

bool ew_json_rd_bool(struct ew_json_rd *rd, struct json_object *o, const char *key, bool dflt,
		     bool required)
{
	struct json_object *v = ew_json_rd_member(rd, o, key, EW_JSON_BOOL, required);

	return v ? json_object_get_boolean(v) : dflt;
}

const char *ew_json_rd_str(struct ew_json_rd *rd, struct json_object *o, const char *key,
			   const char *dflt, bool required)
{
	struct json_object *v = ew_json_rd_member(rd, o, key, EW_JSON_STRING, required);

	return v ? json_object_get_string(v) : dflt;
}

int64_t ew_json_rd_int_value(struct ew_json_rd *rd, const struct json_object *v, const char *what,
			     int64_t min, int64_t max)
{
	int64_t x;
	int r;

	if (rd->r)
		return 0;
	r = ew_json_int_in(v, min, max, &x);
	if (r == -EINVAL)
		ew_json_rd_fail(rd, -EINVAL, "%s is not an integer", what);
	else if (r)
		ew_json_rd_fail(rd, -EINVAL, "%s is out of range (%lld not in %lld..%lld)", what,
				(long long)x, (long long)min, (long long)max);
	return r ? 0 : x;
}

/* ---- parsing ---- */

static int parse_fail(struct ew_json_parse_status *st, enum ew_json_parse_error e, size_t at,
		      const char *desc, int r)
{
	if (st) {
		st->error = e;
		st->at = at;
		st->desc = desc;
	}
	return r;
}

int ew_json_parse(const char *json, size_t len, struct json_object **ret,
		  struct ew_json_parse_status *st)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t end;

	*ret = NULL;
	if (len > INT_MAX)
		return parse_fail(st, EW_JSON_PARSE_TOO_LARGE, 0, NULL, -EFBIG);
	tok = json_tokener_new();
	if (!tok)
		return parse_fail(st, EW_JSON_PARSE_NOMEM, 0, NULL, -ENOMEM);
	obj = json_tokener_parse_ex(tok, json, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr == json_tokener_continue) {
		json_object_put(obj);
		return parse_fail(st, EW_JSON_PARSE_TRUNCATED, len, NULL, -EINVAL);
	}
	if (jerr != json_tokener_success) {
		json_object_put(obj);
		return parse_fail(st, EW_JSON_PARSE_INVALID, end, json_tokener_error_desc(jerr),
				  -EINVAL);
	}
	for (; end < len; end++) {
		char c = json[end];

		/* JSON's own whitespace; a NUL or anything else after the value is garbage. */
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			json_object_put(obj);
			return parse_fail(st, EW_JSON_PARSE_TRAILING, end, NULL, -EINVAL);
		}
	}
	*ret = obj;
	return parse_fail(st, EW_JSON_PARSE_OK, len, NULL, 0);
}
