/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Streaming JSON writer (bpftool's jsonw shape) into an ew_buf. Output is always valid JSON
 * whatever bytes the strings hold: '"' and '\' are escaped, every byte < 0x20 and 0x7f becomes
 * \n, \t, \r, \b, \f or \u00XX, U+2028/U+2029 become \u2028/\u2029, and every byte that is not
 * part of well-formed UTF-8 (overlong forms, surrogates, > U+10FFFF, truncated sequences)
 * becomes U+FFFD. So a workload's stderr can never end a line or forge a second record.
 */
#ifndef EXITWATCH_JSON_WRITER_H
#define EXITWATCH_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "exitwatch/util/buf.h"

#define EW_JSONW_MAX_DEPTH 16

struct ew_jsonw {
	struct ew_buf *out;
	int depth;
	bool first[EW_JSONW_MAX_DEPTH];	   /* no member written yet at this depth */
	bool is_array[EW_JSONW_MAX_DEPTH]; /* container at this depth is [], else {} */
	bool after_name;		   /* a name was written, its value is next */
	bool done;			   /* the top-level value is complete */
	bool error;			   /* misuse (unbalanced, too deep) or out of memory */
};

void ew_jsonw_init(struct ew_jsonw *w, struct ew_buf *out);
void ew_jsonw_start_object(struct ew_jsonw *w);
void ew_jsonw_end_object(struct ew_jsonw *w);
void ew_jsonw_start_array(struct ew_jsonw *w);
void ew_jsonw_end_array(struct ew_jsonw *w);
/* A member's name: name[0..len), any bytes, escaped as a string's are. */
void ew_jsonw_name_n(struct ew_jsonw *w, const char *name, size_t len);

void ew_jsonw_string_n(struct ew_jsonw *w, const char *s, size_t len); /* may hold NULs */
void ew_jsonw_uint(struct ew_jsonw *w, uint64_t v);
void ew_jsonw_int(struct ew_jsonw *w, int64_t v);
void ew_jsonw_double(struct ew_jsonw *w, double v, int decimals); /* NaN/inf write null */
/* units / 10^decimals exactly, from an integer: 1234567 with 3 gives 1234.567. No rounding,
 * no floating point, no locale: what durations in nanoseconds want. */
void ew_jsonw_fixed(struct ew_jsonw *w, int64_t units, int decimals);
void ew_jsonw_bool(struct ew_jsonw *w, bool v);
/*
 * A string the caller knows needs no escaping, written as it is between quotes: only for the
 * program's own words (severity, event, class and signal names, timestamps, insertIds), never
 * for anything a workload or a configuration wrote. It saves the escaper's look at strings
 * that cannot need it; the renderers' tests parse every record back.
 */
void ew_jsonw_plain_n(struct ew_jsonw *w, const char *s, size_t len);
void ew_jsonw_null(struct ew_jsonw *w);

/*
 * The rest is inline, so that the length of a literal name is a constant where it is used: a
 * record is about 60 names, and a strlen() call each was a tenth of rendering one.
 */
static inline void ew_jsonw_name(struct ew_jsonw *w, const char *name)
{
	ew_jsonw_name_n(w, name, name ? strlen(name) : 0); /* NULL: an error, as misuse */
}

/*
 * A member name the caller spells out as a string literal, for a renderer's own names:
 * EW_JSONW_KEY("pid") gives the two arguments of ew_jsonw_name_quoted(), the name with its
 * quotes and colon pasted on at compile time (only a literal compiles), and its length. It is
 * written as it is, without the escaper's look, so it must be plain ASCII: no '"', '\\' or
 * control bytes (the renderers' tests parse every record back). A record has about 40 names,
 * and scanning each was a quarter of rendering one.
 */
#define EW_JSONW_KEY(lit) "\"" lit "\":", sizeof(lit) + 2

/* The slow path and the checks of a misplaced name are ew_jsonw_name_n()'s. */
static inline void ew_jsonw_name_quoted(struct ew_jsonw *w, const char *quoted, size_t len)
{
	struct ew_buf *b = w->out;
	int d = w->depth - 1;
	char *o;

	if (w->error || d < 0 || w->is_array[d] || w->after_name || !b->data || b->failed ||
	    b->cap - b->len <= len + 1) {
		ew_jsonw_name_n(w, quoted + 1, len - 3);
		return;
	}
	o = b->data + b->len;
	*o = ',';
	o += !w->first[d];
	memcpy(o, quoted, len);
	o[len] = '\0';
	b->len = (size_t)(o + len - b->data);
	w->first[d] = false;
	w->after_name = true;
}

/*
 * A member whose name is a KEY() literal and whose value is a string: what
 * ew_jsonw_name_quoted() then ew_jsonw_string_n() write, the value without a second round of
 * the writer's checks (a record's strings are most of its members). NULL s writes null.
 */
void ew_jsonw_member_string_n(struct ew_jsonw *w, const char *quoted, size_t kl, const char *s,
			      size_t len);

/* NULL writes null. */
static inline void ew_jsonw_string(struct ew_jsonw *w, const char *s)
{
	if (s)
		ew_jsonw_string_n(w, s, strlen(s));
	else
		ew_jsonw_null(w);
}

static inline void ew_jsonw_string_field(struct ew_jsonw *w, const char *name, const char *s)
{
	ew_jsonw_name(w, name);
	ew_jsonw_string(w, s);
}

static inline void ew_jsonw_string_n_field(struct ew_jsonw *w, const char *name, const char *s,
					   size_t len)
{
	ew_jsonw_name(w, name);
	ew_jsonw_string_n(w, s, len);
}

static inline void ew_jsonw_uint_field(struct ew_jsonw *w, const char *name, uint64_t v)
{
	ew_jsonw_name(w, name);
	ew_jsonw_uint(w, v);
}

static inline void ew_jsonw_int_field(struct ew_jsonw *w, const char *name, int64_t v)
{
	ew_jsonw_name(w, name);
	ew_jsonw_int(w, v);
}

static inline void ew_jsonw_double_field(struct ew_jsonw *w, const char *name, double v,
					 int decimals)
{
	ew_jsonw_name(w, name);
	ew_jsonw_double(w, v, decimals);
}

static inline void ew_jsonw_fixed_field(struct ew_jsonw *w, const char *name, int64_t units,
					int decimals)
{
	ew_jsonw_name(w, name);
	ew_jsonw_fixed(w, units, decimals);
}

static inline void ew_jsonw_bool_field(struct ew_jsonw *w, const char *name, bool v)
{
	ew_jsonw_name(w, name);
	ew_jsonw_bool(w, v);
}

static inline void ew_jsonw_null_field(struct ew_jsonw *w, const char *name)
{
	ew_jsonw_name(w, name);
	ew_jsonw_null(w);
}

/* 0 when the document is complete and balanced, -ENOMEM, or -EINVAL on misuse. */
int ew_jsonw_finish(struct ew_jsonw *w);

/*
 * Appends members an earlier writer made (the inside of an object it wrote, without the braces:
 * see ew_jsonw_members()) to the object being written, as they are. Only where a name could go.
 */
void ew_jsonw_raw_members(struct ew_jsonw *w, const char *members, size_t len);

/* The inside of the one object in buf[0..len) ("{...}"): *len_ret bytes at the return value. */
const char *ew_jsonw_members(const char *buf, size_t len, size_t *len_ret);

/*
 * The length of the well-formed UTF-8 sequence at s[0..len), or 0 when s[0] does not start
 * one (a stray continuation, an overlong form, a surrogate, a truncated sequence). Shared
 * with the text renderer, which must not pass broken sequences to a terminal either, and the
 * Prometheus exposition, whose label values must be valid UTF-8.
 */
size_t ew_utf8_char_len(const char *s, size_t len);

/* Appends s[0..len) to out as the inside of a JSON string (no quotes), escaped as above. */
int ew_json_escape(struct ew_buf *out, const char *s, size_t len);

/*
 * Values appended to a buffer outside any writer, for a renderer that lays out a record's
 * fixed parts itself: a string quoted and escaped as the writer escapes it, a number, units /
 * 10^decimals as ew_jsonw_fixed() writes it. 0, -ENOMEM (the buffer is failed) or -EINVAL.
 */
int ew_json_string(struct ew_buf *b, const char *s, size_t len);
int ew_json_uint(struct ew_buf *b, uint64_t v);
int ew_json_int(struct ew_buf *b, int64_t v);
int ew_json_fixed(struct ew_buf *b, int64_t units, int decimals);

#endif
