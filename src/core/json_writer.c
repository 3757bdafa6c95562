// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Streaming JSON writer: structure, names, numbers. Written from scratch rather than copied from
 * bpftool's json_writer.c, whose escaper gets '\' and '\'' wrong and passes arbitrary bytes
 * through. Strings are quoted and escaped by json_string.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "exitwatch/core/json_writer.h"
#include "exitwatch/util/decimal.h"

/* DBL_DECIMAL_DIG: more decimals than this only print the binary expansion's noise. */
#define EW_JSONW_MAX_DECIMALS 17

void ew_jsonw_init(struct ew_jsonw *w, struct ew_buf *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
}

static void jsonw_check(struct ew_jsonw *w, int err)
{
	if (err)
		w->error = true;
}

/*
 * Every value goes through here: it rejects a value where none may stand (inside an object
 * without a name, or a second top-level value) and writes the separating comma.
 */
static bool jsonw_begin_value_slow(struct ew_jsonw *w)
{
	int d = w->depth - 1;

	if (w->error)
		return false;
	if (w->depth == 0) {
		if (w->done)
			w->error = true;
	} else if (w->is_array[d]) {
		if (!w->first[d])
			jsonw_check(w, ew_buf_putc(w->out, ','));
		w->first[d] = false;
	} else if (!w->after_name) {
		w->error = true;
	}
	w->after_name = false;
	return !w->error;
}

/* The common case inline: a member's value, right after its name (only an object has one). */
static inline bool jsonw_begin_value(struct ew_jsonw *w)
{
	if (w->after_name && !w->error) {
		w->after_name = false;
		return true;
	}
	return jsonw_begin_value_slow(w);
}

/* Closes a scalar value: at the top level it is the whole document. */
static inline void jsonw_end_value(struct ew_jsonw *w)
{
	if (w->depth == 0)
		w->done = true;
}

static void jsonw_raw_value(struct ew_jsonw *w, const char *s, size_t len)
{
	if (!jsonw_begin_value(w))
		return;
	jsonw_check(w, ew_buf_append(w->out, s, len));
	jsonw_end_value(w);
}

#define jsonw_raw_literal(w, lit) jsonw_raw_value(w, lit, sizeof(lit) - 1)

static void jsonw_start(struct ew_jsonw *w, bool array)
{
	if (!jsonw_begin_value(w))
		return;
	if (w->depth >= EW_JSONW_MAX_DEPTH) {
		w->error = true;
		return;
	}
	jsonw_check(w, ew_buf_putc(w->out, array ? '[' : '{'));
	w->first[w->depth] = true;
	w->is_array[w->depth] = array;
	w->depth++;
}

static void jsonw_end(struct ew_jsonw *w, bool array)
{
	if (w->error)
		return;
	/* A dangling name, or closing what was not opened, would leave invalid JSON. */
	if (w->depth == 0 || w->is_array[w->depth - 1] != array || w->after_name) {
		w->error = true;
		return;
	}
	jsonw_check(w, ew_buf_putc(w->out, array ? ']' : '}'));
	w->depth--;
	jsonw_end_value(w);
}

void ew_jsonw_start_object(struct ew_jsonw *w)
{
	jsonw_start(w, false);
}

void ew_jsonw_end_object(struct ew_jsonw *w)
{
	jsonw_end(w, false);
}

void ew_jsonw_start_array(struct ew_jsonw *w)
{
	jsonw_start(w, true);
}

void ew_jsonw_end_array(struct ew_jsonw *w)
{
	jsonw_end(w, true);
}

void ew_jsonw_raw_members(struct ew_jsonw *w, const char *members, size_t len)
{
	int d = w->depth - 1;
	bool comma;

	if (w->error)
		return;
	if (d < 0 || w->is_array[d] || w->after_name || (!members && len)) {
		w->error = true;
		return;
	}
	if (!len)
		return;
	comma = !w->first[d];
	w->first[d] = false;
	if (comma)
		jsonw_check(w, ew_buf_putc(w->out, ','));
	jsonw_check(w, ew_buf_append(w->out, members, len));
}

const char *ew_jsonw_members(const char *buf, size_t len, size_t *len_ret)
{
	*len_ret = len >= 2 ? len - 2 : 0;
	return len >= 2 ? buf + 1 : buf;
}

void ew_jsonw_name_n(struct ew_jsonw *w, const char *name, size_t len)
{
	int d = w->depth - 1;
	bool comma;

	if (w->error)
		return;
	if (w->depth == 0 || w->is_array[d] || w->after_name || !name) {
		w->error = true;
		return;
	}
	comma = !w->first[d];
	w->first[d] = false;
	if (comma)
		jsonw_check(w, ew_buf_putc(w->out, ','));
	jsonw_check(w, ew_json_string(w->out, name, len));
	jsonw_check(w, ew_buf_putc(w->out, ':'));
	w->after_name = true;
}

void ew_jsonw_string_n(struct ew_jsonw *w, const char *s, size_t len)
{
	if (!s && len) {
		w->error = true;
		return;
	}
	if (!jsonw_begin_value(w))
		return;
	jsonw_check(w, ew_json_string(w->out, s, len));
	jsonw_end_value(w);
}

/* The name as ew_jsonw_name_quoted() writes it, checks and all; the value straight after it. */
void ew_jsonw_member_string_n(struct ew_jsonw *w, const char *quoted, size_t kl, const char *s,
			      size_t len)
{
	ew_jsonw_name_quoted(w, quoted, kl);
	if (w->error)
		return;
	if (!s) {
		ew_jsonw_null(w);
		return;
	}
	w->after_name = false; /* a member's value: never the top level, nothing to close */
	jsonw_check(w, ew_json_string(w->out, s, len));
}

/* A number, '-' first when neg, straight into the buffer: no copy of a variable length. */
static int json_number(struct ew_buf *b, bool neg, uint64_t v)
{
	size_t n = neg + ew_decimal_digits(v);

	if (!ew_buf_fits(b, n) && ew_buf_reserve(b, n)) {
		ew_buf_set_failed(b);
		return -ENOMEM;
	}
	b->data[b->len] = '-';
	b->len += n;
	ew_decimal_u64(v, b->data + b->len); /* and the NUL */
	return 0;
}

int ew_json_uint(struct ew_buf *b, uint64_t v)
{
	return json_number(b, false, v);
}

int ew_json_int(struct ew_buf *b, int64_t v)
{
	/* -(v + 1) + 1 keeps INT64_MIN in range. */
	return json_number(b, v < 0, v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v);
}

void ew_jsonw_uint(struct ew_jsonw *w, uint64_t v)
{
	if (!jsonw_begin_value(w))
		return;
	jsonw_check(w, ew_json_uint(w->out, v));
	jsonw_end_value(w);
}

void ew_jsonw_int(struct ew_jsonw *w, int64_t v)
{
	if (!jsonw_begin_value(w))
		return;
	jsonw_check(w, ew_json_int(w->out, v));
	jsonw_end_value(w);
}

/*
 * printf's decimal point comes from LC_NUMERIC, which may be ',' or even a multi-byte
 * character. %f never groups digits without the ' flag, so the output is an optional '-',
 * digits, and at most one run of non-digits (the decimal point): rewrite that run as '.'.
 */
static void format_c_locale(char *dst, const char *src)
{
	bool point = false, nonzero = false;
	char *p = dst;

	if (*src == '-')
		*p++ = *src++;
	for (; *src; src++) {
		if (*src >= '0' && *src <= '9') {
			*p++ = *src;
			nonzero |= *src != '0';
		} else if (!point) {
			*p++ = '.';
			point = true;
		}
	}
	*p = '\0';
	/* A value that rounds to zero prints as "-0.000"; drop the sign, as JSON.stringify does. */
	if (dst[0] == '-' && !nonzero)
		memmove(dst, dst + 1, strlen(dst));
}

void ew_jsonw_double(struct ew_jsonw *w, double v, int decimals)
{
	/* DBL_MAX has 309 integer digits; the locale's point may take a few bytes. */
	char tmp[384], num[384];
	int64_t units;
	int n;

	if (decimals < 0 || decimals > EW_JSONW_MAX_DECIMALS) {
		w->error = true;
		return;
	}
	/* JSON has no NaN or infinity; null is what JSON.stringify writes for them. */
	if (!isfinite(v)) {
		jsonw_raw_literal(w, "null");
		return;
	}
	/* The digits printf would give, without it; a value that rounds to zero loses its sign,
	 * as below. */
	if (ew_decimal_round(v, decimals, &units)) {
		n = (int)ew_decimal_fixed(num, units, decimals);
		jsonw_raw_value(w, num, (size_t)n);
		return;
	}
	n = snprintf(tmp, sizeof(tmp), "%.*f", decimals, v);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		w->error = true;
		return;
	}
	format_c_locale(num, tmp);
	jsonw_raw_value(w, num, strlen(num));
}

void ew_jsonw_fixed(struct ew_jsonw *w, int64_t units, int decimals)
{
	char num[EW_DECIMAL_LEN];
	size_t n = ew_decimal_fixed(num, units, decimals);

	if (!n) {
		w->error = true;
		return;
	}
	jsonw_raw_value(w, num, n);
}

int ew_json_fixed(struct ew_buf *b, int64_t units, int decimals)
{
	char num[EW_DECIMAL_LEN];
	size_t n = ew_decimal_fixed(num, units, decimals);

	return n ? ew_buf_append(b, num, n) : -EINVAL;
}

void ew_jsonw_plain_n(struct ew_jsonw *w, const char *s, size_t len)
{
	struct ew_buf *b = w->out;
	char *o;

	if (!jsonw_begin_value(w))
		return;
	if (len > SIZE_MAX / 2 || (!ew_buf_fits(b, len + 2) && ew_buf_reserve(b, len + 2))) {
		w->error = true;
		return;
	}
	o = b->data + b->len;
	*o = '"';
	memcpy(o + 1, s, len);
	o[len + 1] = '"';
	o[len + 2] = '\0';
	b->len += len + 2;
	jsonw_end_value(w);
}

void ew_jsonw_bool(struct ew_jsonw *w, bool v)
{
	if (v)
		jsonw_raw_literal(w, "true");
	else
		jsonw_raw_literal(w, "false");
}

void ew_jsonw_null(struct ew_jsonw *w)
{
	jsonw_raw_literal(w, "null");
}

int ew_jsonw_finish(struct ew_jsonw *w)
{
	if (ew_buf_failed(w->out))
		return -ENOMEM;
	if (w->error || w->depth != 0 || !w->done)
		return -EINVAL;
	return 0;
}
