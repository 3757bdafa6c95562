/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A strict INI tokenizer, and the one-line messages that point into its input (pure: works on
 * buffers, opens nothing). It knows the syntax only; which sections and keys exist is the
 * caller's business (src/cli/config_file.c).
 *
 *   # comment            ; comment            (full line; '#' may touch the text: "#key = 1")
 *   [section]            # trailing comment
 *   key = value          # a trailing comment needs whitespace before its '#'
 *   key = "  value # kept  "                  (quotes keep spaces and '#'; no escapes)
 *
 * Whitespace (space, tab) around sections, keys and values is trimmed; a UTF-8 BOM at the
 * start and a '\r' before each '\n' are skipped. Lines are at most EW_INI_LINE_MAX bytes; NUL
 * and control bytes other than tab are errors, so every value is a clean C string.
 */
#ifndef EXITWATCH_INI_H
#define EXITWATCH_INI_H

#include <stddef.h>

#define EW_INI_LINE_MAX 4096
#define EW_INI_ECHO_MAX 64 /* bytes of a key or value quoted back in a message */

enum ew_ini_item {
	EW_INI_END = 0,	    /* no more lines */
	EW_INI_SECTION = 1, /* a "[name]" line: section holds the name */
	EW_INI_KEY = 2,	    /* a "key = value" line: key and value hold them */
};

struct ew_ini {
	const char *p, *end;		   /* text not read yet */
	unsigned line;			   /* 1-based number of the line last returned */
	const char *why;		   /* after an error: what is wrong, a static string */
	char section[EW_INI_LINE_MAX + 1]; /* current section ("" before the first header) */
	char key[EW_INI_LINE_MAX + 1];	   /* after an error: the key, or "" if none was read */
	char value[EW_INI_LINE_MAX + 1];   /* after an error: the offending text, for the echo */
	char buf[EW_INI_LINE_MAX + 1];	   /* scratch: the current line */
};

/* text need not be NUL-terminated; it must outlive the iteration. */
void ew_ini_init(struct ew_ini *ini, const char *text, size_t len);

/*
 * Reads up to the next section header or key line. Returns an enum ew_ini_item, or -EINVAL
 * with why, key and value set (unterminated quote or header, missing '=', long line, ...).
 */
int ew_ini_next(struct ew_ini *ini);

/*
 * Appends s at *p (which moves on; *left shrinks; the text stays terminated): control bytes as
 * '?', and past max bytes cut, never inside a UTF-8 sequence, with "..." after it. For quoting
 * file text in one-line messages.
 */
void ew_ini_put(char **p, size_t *left, const char *s, size_t max);

/*
 * Writes "NAME:LINE: [section] key: why (got 'echo')" into err (nothing if err is NULL).
 * "[section] " is left out without a key, "key: " without a key, the echo when NULL, and
 * ":LINE" when line is 0 ("NAME: why"). Every part goes through ew_ini_put().
 */
void ew_ini_message(char *err, size_t errlen, const char *name, unsigned line, const char *section,
		    const char *key, const char *why, const char *echo);

#endif
