// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Streaming JSON writer. Written from scratch rather than copied from bpftool's json_writer.c,
 * whose escaper gets '\' and '\'' wrong and passes arbitrary bytes through.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "exitwatch/core/json_writer.h"

/* DBL_DECIMAL_DIG: more decimals than this only print the binary expansion's noise. */
#define EW_JSONW_MAX_DECIMALS 17

/* 3 raw bytes of U+FFFD REPLACEMENT CHARACTER. */
static const char utf8_replacement[] = "\xef\xbf\xbd";

/*
 * Length of the longest prefix of s[0..len) that can start a well-formed UTF-8 sequence
 * (Unicode Table 3-7), and in *complete whether that prefix is a whole sequence. A result of
 * 0 means s[0] cannot start any sequence. Ill-formed input is then replaced one maximal
 * subpart at a time, as Unicode (3.9, U+FFFD substitution) and the WHATWG decoder do.
 */
static size_t utf8_prefix(const unsigned char *s, size_t len, bool *complete)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need, i;

	*complete = false;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		if (s[0] == 0xe0)
			lo = 0xa0; /* below: overlong */
		else if (s[0] == 0xed)
			hi = 0x9f; /* above: UTF-16 surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		if (s[0] == 0xf0)
			lo = 0x90; /* below: overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f; /* above: beyond U+10FFFF */
	} else {
		/* Stray continuation byte, C0/C1 (always overlong) or F5..FF. */
		return 0;
	}
	/* Only the second byte has a narrowed range; the others are plain continuations. */
	for (i = 1; i < need; i++) {
		if (i >= len || s[i] < lo || s[i] > hi)
			return i;
		lo = 0x80;
		hi = 0xbf;
	}
	*complete = true;
	return need;
}

size_t ew_utf8_char_len(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	bool complete;
	size_t n;

	if (!len)
		return 0;
	if (p[0] < 0x80)
		return 1;
	n = utf8_prefix(p, len, &complete);
	return complete ? n : 0;
}

/* The JSON short form for c, or 0 when c needs \u00XX. */
static char short_escape(unsigned char c)
{
	switch (c) {
	case '"':
		return '"';
	case '\\':
		return '\\';
	case '\b':
		return 'b';
	case '\f':
		return 'f';
	case '\n':
		return 'n';
	case '\r':
		return 'r';
	case '\t':
		return 't';
	default:
		return 0;
	}
}

static int escape_byte(struct ew_buf *out, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
	char s = short_escape(c);

	if (s) {
		esc[1] = s;
		return ew_buf_append(out, esc, 2);
	}
	return ew_buf_append(out, esc, sizeof(esc));
}

/* 1 for a byte that stands for itself inside a JSON string: printable ASCII but '"' and '\\'. */
static const unsigned char plain_byte[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/*
 * Length of the plain prefix of s (bytes that stand for themselves), eight bytes at a time:
 * a word is plain when no byte is below 0x20 or above 0x7e and none is '"' or '\\' (the
 * classic "has a byte less than / more than / equal to" word tricks). Most of a record's
 * bytes are plain ASCII, so this is what rendering mostly does.
 */
static size_t plain_prefix(const unsigned char *p, size_t len)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w, q, b;

		memcpy(&w, p + i, 8);
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		if (((w - ones * 0x20) & ~w & high) ||	      /* a byte < 0x20 */
		    ((w + ones * (127 - 0x7e)) | w) & high || /* a byte > 0x7e */
		    ((q - ones) & ~q & high) || ((b - ones) & ~b & high))
			break;
	}
	while (i < len && plain_byte[p[i]])
		i++;
	return i;
}

int ew_json_escape(struct ew_buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, n;
	bool complete;
	int err;

	if (!s)
		return len ? -EINVAL : ew_buf_reserve(out, 0);
	/* Worst case grows more than this, but most strings then need no further allocation. */
	err = ew_buf_reserve(out, len);
	if (err)
		return err;
	while (i < len) {
		unsigned char c;

		i += plain_prefix(p + i, len - i);
		if (i == len)
			break;
		c = p[i];
		complete = false;
		n = 0;
		if (c >= 0x80) {
			n = utf8_prefix(p + i, len - i, &complete);
			/*
			 * U+2028/U+2029 are valid JSON but end a line for JavaScript and some log
			 * shippers, so they get the escaped form.
			 */
			if (complete && !(n == 3 && c == 0xe2 && p[i + 1] == 0x80 &&
					  (p[i + 2] == 0xa8 || p[i + 2] == 0xa9))) {
				i += n;
				continue;
			}
		}
		/* Flush the clean run before the byte(s) that need rewriting. */
		err = ew_buf_append(out, s + run, i - run);
		if (err)
			return err;
		if (c < 0x80) {
			err = escape_byte(out, c);
			i++;
		} else if (complete) {
			err = ew_buf_puts(out, p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029");
			i += n;
		} else {
			err = ew_buf_append(out, utf8_replacement, sizeof(utf8_replacement) - 1);
			i += n ? n : 1;
		}
		if (err)
			return err;
		run = i;
	}
	return ew_buf_append(out, s + run, len - run);
}

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
static bool jsonw_begin_value(struct ew_jsonw *w)
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

/* Closes a scalar value: at the top level it is the whole document. */
static void jsonw_end_value(struct ew_jsonw *w)
{
	if (w->depth == 0)
		w->done = true;
}

static void jsonw_raw_value(struct ew_jsonw *w, const char *s)
{
	if (!jsonw_begin_value(w))
		return;
	jsonw_check(w, ew_buf_puts(w->out, s));
	jsonw_end_value(w);
}

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

/*
 * '"', s escaped, then tail ("\"" or "\":"). Short plain strings (names, ids) are copied and
 * checked in one pass; the rest goes through the escaper, which copies plain runs whole.
 */
static void jsonw_quoted(struct ew_jsonw *w, const char *s, size_t len, const char *tail)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t tl = tail[1] ? 2 : 1, i;
	struct ew_buf *b = w->out;

	if (len < 48 && !ew_buf_reserve(b, len + tl + 1)) {
		char *o = b->data + b->len;

		*o++ = '"';
		for (i = 0; i < len && plain_byte[p[i]]; i++)
			o[i] = (char)p[i];
		if (i == len) {
			memcpy(o + len, tail, tl + 1); /* with the NUL */
			b->len += 1 + len + tl;
			return;
		}
	}
	jsonw_check(w, ew_buf_putc(b, '"'));
	jsonw_check(w, ew_json_escape(b, s, len));
	jsonw_check(w, ew_buf_append(b, tail, tl));
}

void ew_jsonw_name(struct ew_jsonw *w, const char *name)
{
	int d = w->depth - 1;

	if (w->error)
		return;
	if (w->depth == 0 || w->is_array[d] || w->after_name || !name) {
		w->error = true;
		return;
	}
	if (!w->first[d])
		jsonw_check(w, ew_buf_putc(w->out, ','));
	w->first[d] = false;
	jsonw_quoted(w, name, strlen(name), "\":");
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
	jsonw_quoted(w, s, len, "\"");
	jsonw_end_value(w);
}

void ew_jsonw_string(struct ew_jsonw *w, const char *s)
{
	if (!s)
		jsonw_raw_value(w, "null");
	else
		ew_jsonw_string_n(w, s, strlen(s));
}

/* Digits by hand: a record holds dozens of numbers, and printf's machinery was a tenth of the
 * agent's time per record. Writes the NUL-terminated decimal of v ending at end[-1]. */
static char *format_u64(uint64_t v, char *end)
{
	*--end = '\0';
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

void ew_jsonw_uint(struct ew_jsonw *w, uint64_t v)
{
	char tmp[24];

	jsonw_raw_value(w, format_u64(v, tmp + sizeof(tmp)));
}

void ew_jsonw_int(struct ew_jsonw *w, int64_t v)
{
	char tmp[24], *p;

	/* -(v + 1) + 1 keeps INT64_MIN in range. */
	p = format_u64(v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v, tmp + sizeof(tmp));
	if (v < 0)
		*--p = '-';
	jsonw_raw_value(w, p);
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
	int n;

	if (decimals < 0 || decimals > EW_JSONW_MAX_DECIMALS) {
		w->error = true;
		return;
	}
	/* JSON has no NaN or infinity; null is what JSON.stringify writes for them. */
	if (!isfinite(v)) {
		jsonw_raw_value(w, "null");
		return;
	}
	n = snprintf(tmp, sizeof(tmp), "%.*f", decimals, v);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		w->error = true;
		return;
	}
	format_c_locale(num, tmp);
	jsonw_raw_value(w, num);
}

void ew_jsonw_fixed(struct ew_jsonw *w, int64_t units, int decimals)
{
	char tmp[48], num[48], *p, *q = num;
	size_t digits;

	if (decimals < 0 || decimals > 18) {
		w->error = true;
		return;
	}
	p = format_u64(units < 0 ? (uint64_t)(-(units + 1)) + 1 : (uint64_t)units,
		       tmp + sizeof(tmp));
	digits = strlen(p);
	if (units < 0)
		*q++ = '-';
	if (digits <= (size_t)decimals) { /* 0.0xy: the integer part and leading zeros */
		*q++ = '0';
		if (decimals)
			*q++ = '.';
		for (size_t i = digits; i < (size_t)decimals; i++)
			*q++ = '0';
		memcpy(q, p, digits + 1);
	} else {
		memcpy(q, p, digits - (size_t)decimals);
		q += digits - (size_t)decimals;
		if (decimals)
			*q++ = '.';
		memcpy(q, p + digits - (size_t)decimals, (size_t)decimals + 1);
	}
	jsonw_raw_value(w, num);
}

void ew_jsonw_fixed_field(struct ew_jsonw *w, const char *name, int64_t units, int decimals)
{
	ew_jsonw_name(w, name);
	ew_jsonw_fixed(w, units, decimals);
}

void ew_jsonw_bool(struct ew_jsonw *w, bool v)
{
	jsonw_raw_value(w, v ? "true" : "false");
}

void ew_jsonw_null(struct ew_jsonw *w)
{
	jsonw_raw_value(w, "null");
}

void ew_jsonw_string_field(struct ew_jsonw *w, const char *name, const char *s)
{
	ew_jsonw_name(w, name);
	ew_jsonw_string(w, s);
}

void ew_jsonw_string_n_field(struct ew_jsonw *w, const char *name, const char *s, size_t len)
{
	ew_jsonw_name(w, name);
	ew_jsonw_string_n(w, s, len);
}

void ew_jsonw_uint_field(struct ew_jsonw *w, const char *name, uint64_t v)
{
	ew_jsonw_name(w, name);
	ew_jsonw_uint(w, v);
}

void ew_jsonw_int_field(struct ew_jsonw *w, const char *name, int64_t v)
{
	ew_jsonw_name(w, name);
	ew_jsonw_int(w, v);
}

void ew_jsonw_double_field(struct ew_jsonw *w, const char *name, double v, int decimals)
{
	ew_jsonw_name(w, name);
	ew_jsonw_double(w, v, decimals);
}

void ew_jsonw_bool_field(struct ew_jsonw *w, const char *name, bool v)
{
	ew_jsonw_name(w, name);
	ew_jsonw_bool(w, v);
}

void ew_jsonw_null_field(struct ew_jsonw *w, const char *name)
{
	ew_jsonw_name(w, name);
	ew_jsonw_null(w);
}

int ew_jsonw_finish(struct ew_jsonw *w)
{
	if (ew_buf_failed(w->out))
		return -ENOMEM;
	if (w->error || w->depth != 0 || !w->done)
		return -EINVAL;
	return 0;
}
