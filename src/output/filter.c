// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Per-output filters (include/exitwatch/output/filter.h): the options after a spec's ';', and
 * the test each record passes before any sink renders it. Why: every start and exit is a
 * billed Cloud Logging entry when stdout carries them all; a sink that only wants findings
 * says so here, and a file next to it can still keep everything.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "exitwatch/output/filter.h"
#include "exitwatch/render/render_json.h"
#include "exitwatch/util/util.h"

/* The records' "event" member, by type. */
static const char *const event_names[] = {
	[EW_REC_START] = "container_start", [EW_REC_READY] = "container_ready",
	[EW_REC_EXIT] = "container_exit",   [EW_REC_FINDING] = "finding",
	[EW_REC_RESOLVED] = "resolved",	    [EW_REC_AGENT] = "agent",
};

/*
 * At most n bytes of s for a message, at most size - 1: control bytes and bytes past ASCII
 * become '?', so that a message stays one line of valid UTF-8 whatever the input held.
 */
static const char *clean(char *out, size_t size, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s[i] && i + 1 < size; i++)
		out[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f ? '?' : s[i];
	out[i] = '\0';
	return out;
}

static int event_parse(const char *s, size_t n)
{
	for (size_t i = 0; i < ARRAY_SIZE(event_names); i++)
		if (event_names[i] && strlen(event_names[i]) == n && !strncmp(s, event_names[i], n))
			return (int)i;
	return -EINVAL;
}

static int parse_events(const char *spec, const char *v, uint32_t *ret, char *err, size_t errlen)
{
	*ret = 0;
	for (const char *p = v;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		int t;

		while (n && *p == ' ')
			p++, n--;
		while (n && p[n - 1] == ' ')
			n--;
		t = event_parse(p, n);
		if (t < 0) {
			char a[65], b[65];

			snprintf(err, errlen,
				 "output '%s': events: '%s' is not a record type (container_start, "
				 "container_ready, container_exit, finding, resolved, agent)",
				 clean(a, sizeof(a), spec, 64), clean(b, sizeof(b), p, n));
			return -EINVAL;
		}
		*ret |= 1u << t;
		if (!end)
			return 0;
		p = end + 1;
	}
}

int ew_output_filter_split(const char *arg, char *spec, size_t len, struct ew_output_filter *ret,
			   char *err, size_t errlen)
{
	const char *semi = strchr(arg, ';');
	size_t n = semi ? (size_t)(semi - arg) : strlen(arg);
	bool have_events = false, have_sev = false;
	char cs[65], co[65]; /* the spec and an option, cleaned for messages */

	memset(ret, 0, sizeof(*ret));
	if (n >= len) {
		snprintf(err, errlen, "output '%s...': longer than %zu bytes",
			 clean(cs, sizeof(cs), arg, 64), len - 1);
		return -EINVAL;
	}
	memcpy(spec, arg, n);
	spec[n] = '\0';
	clean(cs, sizeof(cs), spec, 64);
	for (const char *p = semi; p; p = strchr(p + 1, ';')) {
		const char *opt = p + 1, *next = strchr(opt, ';'), *eq = strchr(opt, '=');
		size_t on = next ? (size_t)(next - opt) : strlen(opt);
		char val[256];
		size_t kn, vn;

		if (!eq || (next && eq > next)) {
			snprintf(err, errlen,
				 "output '%s': option '%s': expected events=LIST or "
				 "min_severity=SEV",
				 cs, clean(co, sizeof(co), opt, on));
			return -EINVAL;
		}
		kn = (size_t)(eq - opt);
		vn = on - kn - 1;
		if (!vn || vn >= sizeof(val)) {
			snprintf(err, errlen, "output '%s': option '%s': %s value", cs,
				 clean(co, sizeof(co), opt, kn), vn ? "too long a" : "an empty");
			return -EINVAL;
		}
		memcpy(val, eq + 1, vn);
		val[vn] = '\0';
		if (kn == 6 && !strncmp(opt, "events", 6)) {
			if (have_events) {
				snprintf(err, errlen, "output '%s': events given twice", cs);
				return -EINVAL;
			}
			have_events = true;
			if (parse_events(spec, val, &ret->events, err, errlen))
				return -EINVAL;
		} else if (kn == 12 && !strncmp(opt, "min_severity", 12)) {
			int s = ew_severity_parse(val);

			if (have_sev) {
				snprintf(err, errlen, "output '%s': min_severity given twice", cs);
				return -EINVAL;
			}
			have_sev = true;
			if (s < 0) {
				snprintf(
					err, errlen,
					"output '%s': min_severity: '%s' is not a severity "
					"(DEFAULT "
					"DEBUG INFO NOTICE WARNING ERROR CRITICAL ALERT EMERGENCY)",
					cs, clean(co, sizeof(co), val, vn));
				return -EINVAL;
			}
			ret->min_severity = (enum ew_severity)s;
		} else {
			snprintf(err, errlen,
				 "output '%s': unknown option '%s' (events, min_severity)", cs,
				 clean(co, sizeof(co), opt, kn));
			return -EINVAL;
		}
	}
	return 0;
}

bool ew_output_filter_is_all(const struct ew_output_filter *f)
{
	return !f->events && f->min_severity == EW_SEV_DEFAULT;
}

bool ew_output_filter_take(void *arg, const struct ew_record *r)
{
	const struct ew_output_filter *f = arg;

	if (f->events && ((unsigned)r->type >= 32 || !(f->events & (1u << r->type))))
		return false;
	return f->min_severity == EW_SEV_DEFAULT || ew_record_severity(r) >= f->min_severity;
}
