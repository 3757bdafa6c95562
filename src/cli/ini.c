// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The INI syntax of include/exitwatch/ini.h. One line at a time, copied into a fixed buffer,
 * so a hostile file costs O(size) time and no allocation.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli/ini_int.h"
#include "exitwatch/util/util.h"

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static char *trim(char *s)
{
	size_t n;

	while (is_ws(*s))
		s++;
	n = strlen(s);
	while (n && is_ws(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* What may follow a closing ']' or '"': nothing, or a '#' comment (as after a value). */
static bool only_comment(const char *s)
{
	while (is_ws(*s))
		s++;
	return !*s || *s == '#';
}

static int fail(struct ew_ini *ini, const char *why, const char *key, const char *echo)
{
	ini->why = why;
	if (key != ini->key)
		ew_strlcpy(ini->key, key, sizeof(ini->key));
	ew_strlcpy(ini->value, echo, sizeof(ini->value));
	return -EINVAL;
}

void ew_ini_init(struct ew_ini *ini, const char *text, size_t len)
{
	ini->p = text;
	ini->end = text + len;
	ini->line = 0;
	ini->why = NULL;
	ini->section[0] = ini->key[0] = ini->value[0] = '\0';
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		ini->p += 3;
}

/*
 * s starts after the opening quote. No escapes: the value is everything up to the next quote,
 * so a trailing backslash (a Windows-style path, a regex) needs no doubling.
 */
static int parse_quoted(struct ew_ini *ini, const char *s, const char *raw)
{
	const char *close = strchr(s, '"');

	if (!close)
		return fail(ini, "unterminated quote", ini->key, raw);
	if (!only_comment(close + 1))
		return fail(ini, "text after the closing quote", ini->key, raw);
	memcpy(ini->value, s, (size_t)(close - s));
	ini->value[close - s] = '\0';
	return EW_INI_KEY;
}

static int parse_key(struct ew_ini *ini, char *s)
{
	char *eq = strchr(s, '='), *v;

	if (!eq)
		return fail(ini, "expected 'key = value'", "", s);
	*eq = '\0';
	ew_strlcpy(ini->key, trim(s), sizeof(ini->key));
	v = eq + 1;
	while (is_ws(*v))
		v++;
	if (!ini->key[0])
		return fail(ini, "missing key before '='", "", v);
	if (*v == '"')
		return parse_quoted(ini, v + 1, v);
	/* A '#' starts a comment only after whitespace: "a#b" is a value, "a #b" is "a". */
	for (char *c = v; *c; c++) {
		if (*c == '#' && (c == v || is_ws(c[-1]))) {
			*c = '\0';
			break;
		}
	}
	ew_strlcpy(ini->value, trim(v), sizeof(ini->value));
	return EW_INI_KEY;
}

static int parse_section(struct ew_ini *ini, char *s)
{
	char *close = strchr(s, ']');

	if (!close)
		return fail(ini, "unterminated section header", "", s);
	if (!only_comment(close + 1))
		return fail(ini, "text after the section header", "", s);
	*close = '\0';
	ew_strlcpy(ini->section, trim(s + 1), sizeof(ini->section));
	return EW_INI_SECTION;
}

int ew_ini_next(struct ew_ini *ini)
{
	while (ini->p < ini->end) {
		const char *nl = memchr(ini->p, '\n', (size_t)(ini->end - ini->p));
		size_t len = nl ? (size_t)(nl - ini->p) : (size_t)(ini->end - ini->p);
		const char *line = ini->p;
		char *s;

		ini->p = nl ? nl + 1 : ini->end;
		ini->line++;
		ini->key[0] = '\0';
		if (len && line[len - 1] == '\r')
			len--;
		if (len > EW_INI_LINE_MAX) {
			memcpy(ini->buf, line, EW_INI_LINE_MAX);
			ini->buf[EW_INI_LINE_MAX] = '\0';
			return fail(ini, "line longer than 4096 bytes", "", ini->buf);
		}
		memcpy(ini->buf, line, len);
		ini->buf[len] = '\0';
		for (size_t i = 0; i < len; i++) {
			if (is_ctl((unsigned char)line[i]))
				return fail(ini,
					    line[i] ? "control character in line"
						    : "NUL byte in line",
					    "", ini->buf);
		}
		s = trim(ini->buf);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[')
			return parse_section(ini, s);
		return parse_key(ini, s);
	}
	return EW_INI_END;
}

void ew_ini_put(char **p, size_t *left, const char *s, size_t max)
{
	size_t n = strlen(s), cut = n;

	if (!*left)
		return;
	if (n > max) {
		cut = max;
		while (cut && ((unsigned char)s[cut] & 0xc0) == 0x80) /* keep UTF-8 whole */
			cut--;
	}
	for (size_t i = 0; i < cut + (n > max ? 3 : 0) && *left > 1; i++) {
		unsigned char c = i < cut ? (unsigned char)s[i] : '.';

		*(*p)++ = c < 0x20 || c == 0x7f ? '?' : (char)c;
		(*left)--;
	}
	**p = '\0';
}

void ew_ini_message(char *err, size_t errlen, const char *name, unsigned line, const char *section,
		    const char *key, const char *why, const char *echo)
{
	char num[32];

	if (!err || !errlen)
		return;
	err[0] = '\0';
	snprintf(num, sizeof(num), ":%u: ", line);
	ew_ini_put(&err, &errlen, name, 1024);
	ew_ini_put(&err, &errlen, line ? num : ": ", SIZE_MAX);
	if (section && *section && key && *key) {
		ew_ini_put(&err, &errlen, "[", 1);
		ew_ini_put(&err, &errlen, section, EW_INI_ECHO_MAX);
		ew_ini_put(&err, &errlen, "] ", 2);
	}
	if (key && *key) {
		ew_ini_put(&err, &errlen, key, EW_INI_ECHO_MAX);
		ew_ini_put(&err, &errlen, ": ", 2);
	}
	ew_ini_put(&err, &errlen, why, SIZE_MAX);
	if (echo) {
		ew_ini_put(&err, &errlen, " (got '", 7);
		ew_ini_put(&err, &errlen, echo, EW_INI_ECHO_MAX);
		ew_ini_put(&err, &errlen, "')", 2);
	}
}
