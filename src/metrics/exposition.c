// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The Prometheus text exposition format 0.0.4, written piece by piece into an ew_buf: headers,
 * samples with escaped labels, exact seconds, histograms. What the series are is metrics.c's
 * business; this file only knows the format.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "exitwatch/core/json_writer.h"
#include "metrics/metrics_int.h"

/*
 * A label value as the exposition format wants it: '\', '"' and newline escaped, and valid
 * UTF-8 (Prometheus rejects the whole scrape otherwise). Container names come from workloads:
 * never trust them.
 *
 * The value is also reversible, so that names differing only in bytes that are not UTF-8 stay
 * different series (identical label sets would make Prometheus keep one and drop the others):
 * each byte that does not start a well-formed sequence is the text \xHH (two lower-case hex
 * digits), and a backslash is \\, so the text "\xff" (\\xff) and the byte 0xff (\xff) differ.
 * Both backslashes are escaped once more for the format: the byte is "\\xff" on the wire, a
 * backslash "\\\\". The records' JSON replaces such a byte with U+FFFD instead (json_writer.c):
 * docs/schema.md, "Prometheus metrics", says where the two differ.
 */
static void put_label_value(struct ew_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *end = s + strlen(s);

	while (s < end) {
		size_t n = ew_utf8_char_len(s, (size_t)(end - s));
		unsigned char c = (unsigned char)*s;

		if (c == '\\')
			ew_buf_puts(b, "\\\\\\\\");
		else if (c == '"')
			ew_buf_puts(b, "\\\"");
		else if (c == '\n')
			ew_buf_puts(b, "\\n");
		else if (n)
			ew_buf_append(b, s, n);
		else
			ew_buf_append(b, (const char[]){'\\', '\\', 'x', hex[c >> 4], hex[c & 15]},
				      5);
		s += n ? n : 1;
	}
}

void ew_prom_header(struct ew_buf *b, const char *name, const char *type, const char *help)
{
	ew_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* labels: key, value, key, value, ..., NULL. */
static void put_name(struct ew_buf *b, const char *name, const char *const *labels)
{
	ew_buf_puts(b, name);
	if (!labels || !labels[0])
		return;
	ew_buf_putc(b, '{');
	for (size_t i = 0; labels[i]; i += 2) {
		ew_buf_printf(b, "%s%s=\"", i ? "," : "", labels[i]);
		put_label_value(b, labels[i + 1]);
		ew_buf_putc(b, '"');
	}
	ew_buf_putc(b, '}');
}

void ew_prom_sample(struct ew_buf *b, const char *name, const char *const *labels, uint64_t v)
{
	put_name(b, name, labels);
	ew_buf_printf(b, " %" PRIu64 "\n", v);
}

/* Seconds from whole seconds and nanoseconds, exact: "12", "0.25", "3.000000001". */
void ew_prom_seconds(struct ew_buf *b, uint64_t s, uint64_t ns)
{
	char frac[16];
	size_t n;

	if (!ns) {
		ew_buf_printf(b, "%" PRIu64, s);
		return;
	}
	n = (size_t)snprintf(frac, sizeof(frac), "%09" PRIu64, ns);
	while (n && frac[n - 1] == '0')
		frac[--n] = '\0';
	ew_buf_printf(b, "%" PRIu64 ".%s", s, frac);
}

void ew_prom_metric(struct ew_buf *b, const char *name, const char *type, const char *help,
		    uint64_t v)
{
	ew_prom_header(b, name, type, help);
	ew_prom_sample(b, name, NULL, v);
}

void ew_prom_hist(struct ew_buf *b, const char *name, const char *help, const struct hist *h,
		  const struct bucket *bk, size_t nb)
{
	char series[96];
	uint64_t cum = 0;

	ew_prom_header(b, name, "histogram", help);
	snprintf(series, sizeof(series), "%s_bucket", name);
	for (size_t i = 0; i < nb; i++) {
		cum += h->counts[i];
		ew_prom_sample(b, series, (const char *[]){"le", bk[i].le, NULL}, cum);
	}
	ew_prom_sample(b, series, (const char *[]){"le", "+Inf", NULL}, h->count);
	ew_buf_printf(b, "%s_sum ", name);
	ew_prom_seconds(b, h->sum_s, h->sum_ns);
	ew_buf_printf(b, "\n%s_count %" PRIu64 "\n", name, h->count);
}
