/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading JSON parsed by json-c, the one set of helpers for recordings, the state file and the
 * runtimes' metadata. json-c's own getters turn a member of the wrong type into 0 or "" (and
 * assert on arrays), so every getter here checks the type first. json-c's header is not
 * included: a caller that parses includes it itself.
 *
 * Two ways to read: lenient (a member that is absent or of the wrong type gives the default,
 * for files of any shape, e.g. a runtime's metadata) and strict (absent, wrong type and out of
 * range are told apart, so that a reader that must refuse a bad file can say why). The strict
 * reader (struct ew_json_rd) puts that why into a message, for recordings and the state file.
 */
#ifndef EXITWATCH_JSON_READ_H
#define EXITWATCH_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/* The JSON types a member is asked for (json-c's, without its header). */
enum ew_json_type {
	EW_JSON_NULL = 0,
	EW_JSON_BOOL,
	EW_JSON_DOUBLE,
	EW_JSON_INT,
	EW_JSON_OBJECT,
	EW_JSON_ARRAY,
	EW_JSON_STRING,
};

/* json-c's name of the type, as messages quote it: "boolean", "int", "object", ... */
const char *ew_json_type_name(enum ew_json_type type);
/* Whether v (NULL is JSON null) is of the type. */
bool ew_json_is(const struct json_object *v, enum ew_json_type type);

/* ---- lenient: absent or of the wrong type gives the default ---- */

/* Typed getters over json-c that tolerate absent members (return the default). o may be NULL
 * or not an object: every member is then absent. */
const char *ew_json_str(struct json_object *o, const char *key, const char *dflt);
uint64_t ew_json_u64(struct json_object *o, const char *key, uint64_t dflt);
int64_t ew_json_i64(struct json_object *o, const char *key, int64_t dflt);
bool ew_json_bool(struct json_object *o, const char *key, bool dflt);
/* The member when it is there with that type, else NULL. */
struct json_object *ew_json_get(struct json_object *o, const char *key, enum ew_json_type type);
/* Whether the member is there, whatever its type (JSON null included). */
bool ew_json_has(struct json_object *o, const char *key);

/* ---- strict: absent, wrong type and out of range told apart ---- */

/*
 * The member key of o with its type: 0 and *ret, -ENOENT when it is absent (or o is not an
 * object), -EINVAL when it has another type (JSON null included). *ret is NULL on error.
 */
int ew_json_member(struct json_object *o, const char *key, enum ew_json_type type,
		   struct json_object **ret);
/*
 * An integer in min..max: 0 and *ret; -EINVAL when v is not a JSON integer (*ret 0); -ERANGE
 * when it is outside (*ret holds it, for the message). Integers beyond 64 bits read as
 * INT64_MIN or INT64_MAX (json-c clamps them).
 */
int ew_json_int_in(const struct json_object *v, int64_t min, int64_t max, int64_t *ret);

/* ---- the strict reader: typed members, the first error told in one line ---- */

/*
 * Sticky: the first error is the one kept (r and err), and every read after it is a no-op that
 * gives its default. Messages name a member as `member "in.key" ...` (in: the object it is in,
 * NULL or "" for none); control bytes in a message become '?', so that a file's bytes quoted
 * back cannot start a line or a terminal escape on whoever reads it. err may be NULL when
 * errlen is 0 (r still says what happened); a message longer than errlen - 1 is cut.
 */
struct ew_json_rd {
	char *err;	/* the first error's message */
	size_t errlen;	/* size of err */
	int r;		/* 0, or the first error (-errno) */
	const char *in; /* the object read, for messages; NULL or "" at the top */
};

/*
 * The error r (< 0) with a message, unless the reader has one already; the message is fmt as
 * it is, with no member named. Returns the reader's error: the first one.
 */
int ew_json_rd_fail(struct ew_json_rd *rd, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * The member key of o with that type, or NULL: when it is absent (an error if required: `is
 * missing`), of another type (an error: `is not of JSON type T`, JSON null included), or after
 * an error.
 */
struct json_object *ew_json_rd_member(struct ew_json_rd *rd, struct json_object *o, const char *key,
				      enum ew_json_type type, bool required);

/*
 * Typed members, as ew_json_rd_member(): dflt when absent, of another type, out of range (`is
 * out of range (V not in MIN..MAX)`) or after an error. Integers beyond 64 bits are clamped by
 * json-c: ew_json_rd_int() reads them as INT64_MIN or INT64_MAX, ew_json_rd_uint() (which reads
 * JSON integers above INT64_MAX exactly) as UINT64_MAX.
 */
int64_t ew_json_rd_int(struct ew_json_rd *rd, struct json_object *o, const char *key, int64_t min,
		       int64_t max, int64_t dflt, bool required);
uint64_t ew_json_rd_uint(struct ew_json_rd *rd, struct json_object *o, const char *key,
			 uint64_t max, uint64_t dflt, bool required);
bool ew_json_rd_bool(struct ew_json_rd *rd, struct json_object *o, const char *key, bool dflt,
		     bool required);
/* The string lives as long as o. */
const char *ew_json_rd_str(struct ew_json_rd *rd, struct json_object *o, const char *key,
			   const char *dflt, bool required);
/*
 * A value that is no member (an array's element, NULL for JSON null) as an integer in
 * min..max, named `what` in messages: `WHAT is not an integer`, `WHAT is out of range (V not in
 * MIN..MAX)`. 0 on error.
 */
int64_t ew_json_rd_int_value(struct ew_json_rd *rd, const struct json_object *v, const char *what,
			     int64_t min, int64_t max);

/* ---- parsing a whole document ---- */

enum ew_json_parse_error {
	EW_JSON_PARSE_OK = 0,
	EW_JSON_PARSE_TRUNCATED, /* the data ends inside the value (or is empty) */
	EW_JSON_PARSE_INVALID,	 /* not JSON: desc says why, at where it stopped */
	EW_JSON_PARSE_TRAILING,	 /* something but whitespace after the value, at `at` */
	EW_JSON_PARSE_TOO_LARGE, /* more bytes than json-c takes (INT_MAX) */
	EW_JSON_PARSE_NOMEM,
};

struct ew_json_parse_status {
	enum ew_json_parse_error error;
	size_t at;	  /* INVALID: where the parser stopped; TRAILING: the first byte after */
	const char *desc; /* INVALID: json-c's description (static) */
};

/*
 * Parses len bytes that must hold exactly one JSON value, with nothing but JSON's whitespace
 * (space, tab, newline, carriage return) after it; a NUL inside is not whitespace. The value
 * may be of any type: the caller checks it. json-c's depth limit bounds the recursion on
 * hostile nesting. Returns 0 and *ret (the caller puts it), or -EINVAL, -EFBIG or -ENOMEM with
 * *st saying what went wrong (st may be NULL).
 */
int ew_json_parse(const char *json, size_t len, struct json_object **ret,
		  struct ew_json_parse_status *st);

#endif
