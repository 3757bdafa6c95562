// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One value of the config file (config_file.c) into its field: numbers with their ranges,
 * sizes, durations, booleans, paths, addresses, severities, percentages, exit codes and their
 * meanings. Strict: a value is all digits, a known word or a known unit, or it is refused with
 * what was wrong.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exitwatch/util/clock.h"
#include "exitwatch/cli/config.h"
#include "exitwatch/metrics/metrics.h"
#include "cli/config_file_int.h"
#include "cli/ini_int.h"
#include "exitwatch/util/util.h"

int ew_cfgv_bad(struct load *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->why, sizeof(l->why), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* strtoull() alone accepts " 1", "+1" and "-1" (as 2^64 - 1): insist on a digit first. */
static int parse_digits(const char *s, uint64_t *ret, char **end)
{
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, end, 10);
	if (errno)
		return -ERANGE; /* the only errno strtoull sets once a digit is there */
	*ret = v;
	return 0;
}

static int parse_uint(const char *s, uint64_t max, uint64_t *ret)
{
	char *end;
	int r = parse_digits(s, ret, &end);

	if (r < 0)
		return r;
	if (*end)
		return -EINVAL;
	return *ret > max ? -ERANGE : 0;
}

static int set_uint(struct load *l, const struct key_def *k, const char *v, uint64_t *ret)
{
	int r = parse_uint(v, UINT64_MAX, ret);

	if (r == -EINVAL)
		return ew_cfgv_bad(l, "not a non-negative integer");
	if (r < 0 || *ret < k->min || *ret > k->max)
		return ew_cfgv_bad(l, "must be between %llu and %llu", (unsigned long long)k->min,
				   (unsigned long long)k->max);
	return 0;
}

int ew_cfgv_u32(struct load *l, const struct key_def *k, const char *v, void *field)
{
	uint64_t n = 0;
	int r = set_uint(l, k, v, &n);

	if (r == 0)
		*(uint32_t *)field = (uint32_t)n; /* k->max fits */
	return r;
}

int ew_cfgv_int(struct load *l, const struct key_def *k, const char *v, void *field)
{
	uint64_t n = 0;
	int r = set_uint(l, k, v, &n);

	if (r == 0)
		*(int *)field = (int)n;
	return r;
}

int ew_cfgv_stderr(struct load *l, const struct key_def *k, const char *v, void *field)
{
	int r = ew_cfgv_u32(l, k, v, field);

	if (r == 0)
		l->cfg->capture_stderr = l->cfg->stderr_bytes > 0;
	return r;
}

int ew_cfgv_bytes(struct load *l, const struct key_def *k, const char *v, void *field)
{
	uint64_t n = 0, mult = 1;
	char *end;
	int r = parse_digits(v, &n, &end);

	if (r == -EINVAL || (*end && end[1]) || (*end && !strchr("KMG", *end)))
		return ew_cfgv_bad(l, "not a size (bytes, or a number with a K, M or G suffix)");
	if (*end)
		mult = 1ULL << (*end == 'K' ? 10 : *end == 'M' ? 20 : 30);
	if (r < 0 || n > UINT64_MAX / mult || n * mult < k->min || n * mult > k->max ||
	    ((k->flags & F_POW2) && (n * mult & (n * mult - 1))))
		return ew_cfgv_bad(l, "must be %sbetween %llu and %llu bytes",
				   k->flags & F_POW2 ? "a power of two " : "",
				   (unsigned long long)k->min, (unsigned long long)k->max);
	*(uint64_t *)field = n * mult;
	return 0;
}

int ew_cfgv_duration(struct load *l, const struct key_def *k, const char *v, void *field)
{
	uint64_t ns;

	if (ew_duration_parse(v, &ns) < 0)
		return ew_cfgv_bad(l, "not a duration (e.g. 250ms, 30s, 5m, 2h30m)");
	if (ns < k->min)
		return ew_cfgv_bad(l, "must be greater than 0");
	*(uint64_t *)field = ns;
	return 0;
}

int ew_cfgv_bool(struct load *l, const struct key_def *k, const char *v, void *field)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(v, yes[i]) || !strcasecmp(v, no[i])) {
			*(bool *)field = !strcasecmp(v, yes[i]);
			return 0;
		}
	}
	return ew_cfgv_bad(l, "not a boolean (true/false, yes/no, on/off, 1/0)");
}

static int store_str(struct load *l, const char *v, const char **field)
{
	const char *s = ew_config_strdup(l->cfg, v);

	if (!s) {
		snprintf(l->why, sizeof(l->why), "out of memory");
		return -ENOMEM;
	}
	*field = s;
	return 0;
}

int ew_cfgv_path(struct load *l, const struct key_def *k, const char *v, void *field)
{
	if (!*v && (k->flags & (F_EMPTY_NULL | F_EMPTY_KEEP))) {
		*(const char **)field = k->flags & F_EMPTY_NULL ? NULL : "";
		return 0;
	}
	if (v[0] != '/')
		return ew_cfgv_bad(l, "must be an absolute path");
	return store_str(l, v, field);
}

int ew_cfgv_node(struct load *l, const struct key_def *k, const char *v, void *field)
{
	if (strlen(v) >= sizeof(l->cfg->node))
		return ew_cfgv_bad(l, "longer than %zu bytes", sizeof(l->cfg->node) - 1);
	ew_strlcpy(field, v, sizeof(l->cfg->node));
	return 0;
}

int ew_cfgv_output(struct load *l, const struct key_def *k, const char *v, void *field)
{
	if (!*v)
		return ew_cfgv_bad(
			l, "must not be empty (stdout, file:PATH, tcp://HOST:PORT, unix:PATH)");
	if (l->cfg->noutputs >= EW_MAX_SINKS)
		return ew_cfgv_bad(l, "more than %d outputs", EW_MAX_SINKS);
	return store_str(l, v, &l->cfg->outputs[l->cfg->noutputs++]);
}

int ew_cfgv_format(struct load *l, const struct key_def *k, const char *v, void *field)
{
	if (strcmp(v, "json") && strcmp(v, "text"))
		return ew_cfgv_bad(l, "must be json or text");
	*(bool *)field = !strcmp(v, "text");
	return 0;
}

/* The server's own parser: an address it would refuse at start-up (exit 1) is bad input here. */
int ew_cfgv_addr(struct load *l, const struct key_def *k, const char *v, void *field)
{
	if (!*v) {
		*(const char **)field = NULL;
		return 0;
	}
	if (!ew_metrics_addr_valid(v))
		return ew_cfgv_bad(l, "expected [ADDR]:PORT with a numeric address, e.g. :9100, "
				      "127.0.0.1:9100 or [::1]:9100");
	return store_str(l, v, field);
}

int ew_cfgv_scope(struct load *l, const struct key_def *k, const char *v, void *field)
{
	if (strcmp(v, "identity") && strcmp(v, "workload"))
		return ew_cfgv_bad(l, "must be identity or workload");
	*(enum ew_scope *)field = !strcmp(v, "workload") ? EW_SCOPE_WORKLOAD : EW_SCOPE_IDENTITY;
	return 0;
}

int ew_cfgv_severity(struct load *l, const struct key_def *k, const char *v, void *field)
{
	int sev = ew_severity_parse(v);

	if (sev >= 0) {
		*(enum ew_severity *)field = (enum ew_severity)sev;
		return 0;
	}
	return ew_cfgv_bad(
		l, "unknown severity (DEFAULT, DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL, "
		   "ALERT, EMERGENCY)");
}

/* Plain decimals only: strtod() would also take "nan", "inf", "1e2" and hex. */
int ew_cfgv_percent(struct load *l, const struct key_def *k, const char *v, void *field)
{
	size_t ip = strspn(v, "0123456789"), fp = 0;
	const char *p = v + ip;
	char *end;
	double d;

	if (*p == '.') {
		fp = strspn(p + 1, "0123456789");
		p += 1 + fp;
	}
	if (*p || ip + fp == 0)
		return ew_cfgv_bad(l, "must be a percentage between 0 and 100");
	errno = 0;
	d = strtod(v, &end);
	if (errno || *end || d < 0.0 || d > 100.0)
		return ew_cfgv_bad(l, "must be a percentage between 0 and 100");
	*(double *)field = d;
	return 0;
}

/* "3, 4,126": replaces the whole set; "" is the empty set. */
int ew_cfgv_codes(struct load *l, const struct key_def *k, const char *v, void *field)
{
	uint8_t set[256 / 8] = {0};
	const char *p = v;

	while (*p) {
		char item[16];
		size_t n = strcspn(p, ",");
		size_t a = strspn(p, " \t"), b = n;
		uint64_t code = 0;

		while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t'))
			b--;
		if (b - a >= sizeof(item) || b == a)
			return ew_cfgv_bad(l, "not a list of exit codes (0..255, comma-separated)");
		memcpy(item, p + a, b - a);
		item[b - a] = '\0';
		if (parse_uint(item, 255, &code) < 0)
			return ew_cfgv_bad(l, "not a list of exit codes (0..255, comma-separated)");
		set[code / 8] |= (uint8_t)(1u << (code % 8));
		p += n;
		if (*p == ',' && !*++p)
			return ew_cfgv_bad(l, "not a list of exit codes (0..255, comma-separated)");
	}
	memcpy(field, set, sizeof(set));
	return 0;
}

int ew_cfgv_meaning(struct load *l, const char *key, const char *v)
{
	uint64_t code = 0;

	if (parse_uint(key, 255, &code) < 0)
		return ew_cfgv_bad(l, "not an exit code (0..255)");
	if (strlen(v) >= EW_MEANING_LEN)
		return ew_cfgv_bad(l, "longer than %d bytes", EW_MEANING_LEN - 1);
	ew_strlcpy(l->cfg->classes.meanings[code], v, EW_MEANING_LEN);
	return 0;
}
