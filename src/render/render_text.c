// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>

#include "exitwatch/util/clock.h"
#include "exitwatch/core/json_writer.h"
#include "exitwatch/render/render_json.h"
#include "exitwatch/render/render_text.h"
#include "exitwatch/util/util.h"
#include "exitwatch/identity/identity.h"

static const char *colour_of(enum ew_severity s)
{
	if (s >= EW_SEV_ERROR)
		return "\033[1;31m"; /* bold red */
	if (s == EW_SEV_WARNING)
		return "\033[33m";
	if (s == EW_SEV_NOTICE)
		return "\033[36m";
	return "\033[2m"; /* dim */
}

/*
 * Appends s[0..n) with every byte a terminal could act on shown as '?': C0 controls and DEL,
 * C1 controls (U+0080..U+009F: U+009B is CSI to terminals that take 8-bit controls), and
 * bytes that are not well-formed UTF-8 (which includes a sequence the column width cut).
 * The terminal stays ours.
 */
static void put_clean(struct ew_buf *b, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i]) {
		unsigned char c = (unsigned char)s[i];
		size_t k = ew_utf8_char_len(s + i, n - i);

		if (k == 0 || (k == 1 && (c < 0x20 || c == 0x7f)) ||
		    (k == 2 && c == 0xc2 && (unsigned char)s[i + 1] < 0xa0)) {
			ew_buf_putc(b, '?');
			i += k ? k : 1;
			continue;
		}
		ew_buf_append(b, s + i, k);
		i += k;
	}
}

static void pad(struct ew_buf *b, const char *s, size_t width)
{
	size_t n = strlen(s);

	put_clean(b, s, n > width ? width : n);
	for (; n < width; n++)
		ew_buf_putc(b, ' ');
}

int ew_render_text(const struct ew_record *r, const struct ew_render_ctx *ctx, bool colour,
		   struct ew_buf *out)
{
	char t[EW_TIME_STR_LEN], msg[1024], who[40] = "-";
	enum ew_severity sev;

	if (ew_record_check(r))
		return -EINVAL;
	sev = ew_record_severity(r);
	/* As the wall clock said it then, as the JSON record's (core/record.h, clock). */
	ew_time_format(ew_render_wall(ctx, r->time_ns), t);
	t[23] = 'Z'; /* milliseconds are plenty on a terminal */
	t[24] = '\0';
	ew_record_message(r, ctx, msg, sizeof(msg));
	if (r->id)
		ew_strlcpy(who, r->id->display[0] ? r->id->display : r->id->key, sizeof(who));

	ew_buf_puts(out, t);
	ew_buf_putc(out, ' ');
	if (colour)
		ew_buf_puts(out, colour_of(sev));
	pad(out, ew_severity_name(sev), 8);
	if (colour)
		ew_buf_puts(out, "\033[0m");
	ew_buf_putc(out, ' ');
	pad(out, who, 24);
	ew_buf_putc(out, ' ');
	pad(out, ew_record_event_name(r->type), 15);
	ew_buf_putc(out, ' ');
	put_clean(out, msg, strlen(msg));
	ew_buf_putc(out, '\n');
	return ew_buf_failed(out) ? -ENOMEM : 0;
}
