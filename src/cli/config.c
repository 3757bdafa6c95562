// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The configuration's life: defaults, strings it owns, cross-field validation. The config file
 * reader is config_file.c, the command line args.c; both fill what this file defines.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitwatch/util/clock.h"
#include "exitwatch/cli/config.h"
#include "exitwatch/output/filter.h"
#include "exitwatch/util/log.h"
#include "exitwatch/util/util.h"

#define SEC(n) ((uint64_t)(n)*EW_NSEC_PER_SEC)

void ew_config_init(struct ew_config *c)
{
	memset(c, 0, sizeof(*c));
	c->command = EW_CMD_RUN;
	c->host_root = "";
	c->proc_root = NULL; /* <host_root>/proc once parsed */
	c->ringbuf_bytes = 4 * 1024 * 1024;
	c->max_containers = 16384;
	c->capture_stderr = true;
	c->stderr_bytes = 2048;
	c->track_ready = true;
	c->track_oom = true;
	c->track_signals = true;
	c->scan_existing = true;
	c->read_meta = true;
	ew_output_opts_default(&c->out);
	c->agent_interval_ns = SEC(60);
	c->sweep_interval_ns = SEC(60);
	c->checkpoint_interval_ns = SEC(30);
	c->drain_timeout_ns = SEC(5);
	ew_detector_config_default(&c->detect);
	ew_class_config_default(&c->classes);
}

void ew_config_free(struct ew_config *c)
{
	for (size_t i = 0; i < c->nowned; i++)
		free(c->owned[i]);
	free(c->owned);
	c->owned = NULL;
	c->nowned = 0;
}

const char *ew_config_strdup(struct ew_config *c, const char *s)
{
	char **n = realloc(c->owned, (c->nowned + 1) * sizeof(*n));
	char *d;

	if (!n)
		return NULL;
	c->owned = n;
	d = strdup(s);
	if (!d)
		return NULL;
	c->owned[c->nowned++] = d;
	return d;
}

/*
 * A value wrong only next to another, or in a config put together by hand: "[section] key: why",
 * the shape of the config file's messages without "PATH:LINE: ", since either value may have
 * come from a flag. Returns -EINVAL.
 */
static int invalid(char *err, size_t errlen, const char *section, const char *key, const char *fmt,
		   ...) __attribute__((format(printf, 5, 6)));
static int invalid(char *err, size_t errlen, const char *section, const char *key, const char *fmt,
		   ...)
{
	int n = snprintf(err, errlen, "[%s] %s: ", section, key);
	va_list ap;

	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/*
 * idle_forget forgets an identity that has not run for that long, its windows and crash_loop's
 * streak with it (and, with a workload's last identity, the workload's windows): shorter than
 * an enabled rule's window, that rule could never count what its window spans, e.g. 4 restarts
 * 20 minutes apart in restart_rate's hour, and it would quietly stop detecting. So the longest
 * window of an enabled rule is its floor. Every window is > 0, so 0 is refused here too (and
 * by the key itself, for when no windowed rule is on and crash_loop alone remembers).
 */
static int check_idle_forget(const struct ew_detector_config *d, char *err, size_t errlen)
{
	int longest = -1;
	char have[32], need[32];

	for (int r = 0; r < EW_RULE__COUNT; r++)
		if (d->rules[r].enabled && d->rules[r].window_ns &&
		    (longest < 0 || d->rules[r].window_ns > d->rules[longest].window_ns))
			longest = r;
	if (longest < 0 || d->idle_forget_ns >= d->rules[longest].window_ns)
		return 0;
	ew_duration_format(d->idle_forget_ns, have, sizeof(have));
	ew_duration_format(d->rules[longest].window_ns, need, sizeof(need));
	snprintf(err, errlen,
		 "[agent] idle_forget: %s is shorter than [rule.%s] window %s: an identity idle "
		 "that "
		 "long is forgotten, and the rule could not count its events (make idle_forget at "
		 "least the longest window of an enabled rule)",
		 have, ew_rule_name(longest), need);
	return -EINVAL;
}

int ew_config_validate(const struct ew_config *c, char *err, size_t errlen)
{
	const struct ew_detector_config *d = &c->detect;

	/* Each output's filter options (";events=...;min_severity=..."), before anything runs. */
	for (uint32_t i = 0; i < c->noutputs; i++) {
		struct ew_output_filter f;
		char spec[PATH_MAX + 16];

		if (ew_output_filter_split(c->outputs[i], spec, sizeof(spec), &f, err, errlen))
			return -EINVAL;
	}

	/* An exit record with its stderr tail (4248 bytes) must fit. */
	if (c->ringbuf_bytes < 8192 || (c->ringbuf_bytes & (c->ringbuf_bytes - 1)))
		return invalid(err, errlen, "agent", "ringbuf_size",
			       "must be a power of two of at least 8192 bytes (got '%llu')",
			       (unsigned long long)c->ringbuf_bytes);
	/* Either alone is a setting; together they say two things, and neither would hold. */
	if (c->stderr_kernel && !c->stderr_bytes) {
		snprintf(err, errlen,
			 "[agent] stderr_kernel: true needs stderr_bytes above 0 (--stderr-kernel "
			 "with --no-stderr or stderr_bytes = 0): the kernel capture would keep "
			 "nothing");
		return -EINVAL;
	}
	if (c->stderr_bytes > EW_STDERR_CAP)
		return invalid(err, errlen, "agent", "stderr_bytes", "at most %d (got '%u')",
			       EW_STDERR_CAP, c->stderr_bytes);
	for (int r = 0; r < EW_RULE__COUNT; r++) {
		const struct ew_rule_config *rc = &d->rules[r];
		char sec[32];

		if (!rc->enabled)
			continue;
		snprintf(sec, sizeof(sec), "rule.%s", ew_rule_name(r));
		if (r == EW_RULE_CRASH_LOOP) {
			if (!rc->count)
				return invalid(err, errlen, sec, "count",
					       "must be at least 1 (failed starts in a row) (got "
					       "'0')");
			/* No window; its quiet period (resolve) ends a loop not seen again. */
			if (!rc->resolve_ns)
				return invalid(err, errlen, sec, "resolve",
					       "must be longer than 0 (got '0')");
			continue;
		}
		if (r != EW_RULE_STABLE && !rc->window_ns)
			return invalid(err, errlen, sec, "window",
				       "must be longer than 0 (got '0')");
		if ((r == EW_RULE_EXIT_CODE_BURST || r == EW_RULE_RESTART_RATE) && !rc->resolve_ns)
			return invalid(err, errlen, sec, "resolve",
				       "must be longer than 0 (got '0')");
		if (r == EW_RULE_STARTUP_FAILURE_RATE &&
		    rc->resolve_success_percent < 100.0 - rc->fail_percent)
			return invalid(err, errlen, sec, "resolve_success_percent",
				       "%.1f would resolve while the failure rate still exceeds "
				       "fail_percent %.1f (it would flap)",
				       rc->resolve_success_percent, rc->fail_percent);
		if (r == EW_RULE_STABLE && !rc->uptime_ns)
			return invalid(err, errlen, sec, "uptime",
				       "must be longer than 0 (got '0')");
	}
	if (check_idle_forget(d, err, errlen))
		return -EINVAL;
	if (!c->agent_interval_ns)
		return invalid(err, errlen, "agent", "agent_interval",
			       "must be longer than 0 (got '0')");
	if (!c->checkpoint_interval_ns)
		return invalid(err, errlen, "agent", "checkpoint_interval",
			       "must be longer than 0 (got '0')");
	return 0;
}
