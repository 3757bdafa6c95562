// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * JSON strings for the writer (include/exitwatch/core/json_writer.h): bytes from workloads
 * (names, stderr) quoted, escaped and made valid UTF-8 (ill-formed sequences replaced by U+FFFD
 * one maximal subpart at a time). Plain runs are copied 16 or 8 bytes at a time: most of a
 * record's strings need no escape at all.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "exitwatch/core/json_writer.h"
#include "exitwatch/util/bytes16.h"

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

/* Whether the 8 bytes of w hold one that does not stand for itself: below 0x20, above 0x7e, '"'
 * or '\\' (the classic "has a byte less than / more than / equal to" word tricks, exact as to
 * whether there is one). */
static inline bool word_special(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');

	return ((w - ones * 0x20) & ~w & high) || ((w + ones * (127 - 0x7e)) | w) & high ||
	       ((q - ones) & ~q & high) || ((b - ones) & ~b & high);
}

#ifdef EW_BYTES16
/*
 * The same test on 16 bytes at once. As signed bytes, 0x80-0xff are negative: "below 0x20"
 * takes them with the control bytes, and "above 0x7e" leaves only 0x7f, so one signed compare
 * and three equalities tell the five kinds.
 */
static inline bool block_special(ew_u8x16 v)
{
	ew_s8x16 s = (ew_s8x16)v;

	return ew_bytes16_any((s < 0x20) | (s == 0x7f) | (s == '"') | (s == '\\'));
}
#endif

/* Whether words a and b hold a byte that does not stand for itself: one block test where the
 * machine has them (a short string is two overlapping words), else the word test twice. */
static inline bool words_special(uint64_t a, uint64_t b)
{
#ifdef EW_BYTES16
	return block_special(ew_bytes16_words(a, b));
#else
	return word_special(a) || word_special(b);
#endif
}

/* The plain prefix of p[0..len) copied to o, a byte at a time: the slow path. */
static size_t copy_plain_bytes(char *o, const unsigned char *p, size_t len, size_t i)
{
	for (; i < len && plain_byte[p[i]]; i++)
		o[i] = (char)p[i];
	return i;
}

/*
 * Copies the plain prefix of p[0..len) (bytes that stand for themselves) to o and returns its
 * length, writing nothing past o[len). Most of a record's strings are plain through, and short
 * (names, ids): those are checked and copied with two overlapping loads (4, 8 or 16 bytes)
 * whatever their length, longer ones 16 bytes at a time. Only a string that needs escaping
 * goes byte by byte, from the block where that starts.
 */
static size_t copy_plain(char *o, const unsigned char *p, size_t len)
{
	uint64_t a, b;
	uint32_t x, y;
	size_t i = 0;

	if (len >= 16) {
#ifdef EW_BYTES16
		ew_u8x16 v;

		for (; i + EW_BYTES16 < len; i += EW_BYTES16) {
			v = ew_bytes16_load(p + i);
			if (block_special(v))
				return copy_plain_bytes(o, p, len, i);
			memcpy(o + i, &v, sizeof(v));
		}
		v = ew_bytes16_load(p + len - EW_BYTES16);
		if (block_special(v))
			return copy_plain_bytes(o, p, len, i);
		memcpy(o + len - EW_BYTES16, &v, sizeof(v));
		return len;
#else
		for (; i + 8 < len; i += 8) {
			memcpy(&a, p + i, 8);
			if (word_special(a))
				return copy_plain_bytes(o, p, len, i);
			memcpy(o + i, &a, 8);
		}
		memcpy(&a, p + len - 8, 8);
		if (word_special(a))
			return copy_plain_bytes(o, p, len, i);
		memcpy(o + len - 8, &a, 8);
		return len;
#endif
	}
	if (len >= 8) {
		memcpy(&a, p, 8);
		memcpy(&b, p + len - 8, 8);
		if (words_special(a, b))
			return copy_plain_bytes(o, p, len, 0);
		memcpy(o, &a, 8);
		memcpy(o + len - 8, &b, 8);
		return len;
	}
	if (len >= 4) {
		memcpy(&x, p, 4);
		memcpy(&y, p + len - 4, 4);
		a = (uint64_t)x << 32 | y;
		if (words_special(a, a))
			return copy_plain_bytes(o, p, len, 0);
		memcpy(o, &x, 4);
		memcpy(o + len - 4, &y, 4);
		return len;
	}
	return copy_plain_bytes(o, p, len, 0);
}

/* Length of the plain prefix of s, as copy_plain() without the copy. */
static size_t plain_prefix(const unsigned char *p, size_t len)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		if (word_special(w))
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

int ew_json_string(struct ew_buf *b, const char *s, size_t len)
{
	size_t n;
	char *o;
	int err;

	if (!s && len)
		return -EINVAL;
	if (len > SIZE_MAX / 2 || !ew_buf_fits(b, len + 2)) {
		if (len > SIZE_MAX / 2 || ew_buf_reserve(b, len + 2)) {
			ew_buf_set_failed(b);
			return -ENOMEM;
		}
	}
	o = b->data + b->len;
	*o++ = '"';
	n = len ? copy_plain(o, (const unsigned char *)s, len) : 0;
	if (n == len) {
		o[len] = '"';
		o[len + 1] = '\0';
		b->len += len + 2;
		return 0;
	}
	b->len += 1 + n;
	b->data[b->len] = '\0';
	err = ew_json_escape(b, s + n, len - n);
	return err ? err : ew_buf_putc(b, '"');
}
