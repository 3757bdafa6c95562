// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The configuration's life: defaults, strings it owns, cross-field validation. The config file
 * reader is config_file.c, the command line args.c; both fill what this file defines.
 */
#include <errno.h>
#include <limits.h>
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
	if (c->ringbuf_bytes < 8192 || (c->ringbuf_bytes & (c->ringbuf_bytes - 1))) {
		snprintf(err, errlen, "ring buffer size %llu: must be a power of two >= 8192",
			 (unsigned long long)c->ringbuf_bytes);
		return -EINVAL;
	}
	if (c->stderr_bytes > EW_STDERR_CAP) {
		snprintf(err, errlen, "stderr_bytes %u: at most %d", c->stderr_bytes,
			 EW_STDERR_CAP);
		return -EINVAL;
	}
	for (int r = 0; r < EW_RULE__COUNT; r++) {
		const struct ew_rule_config *rc = &d->rules[r];

		if (!rc->enabled)
			continue;
		if (r == EW_RULE_CRASH_LOOP) {
			if (!rc->count) {
				snprintf(err, errlen,
					 "rule crash_loop: count (failed starts in a row) must be "
					 "at least 1");
				return -EINVAL;
			}
			/* No window; its quiet period (resolve) ends a loop not seen again. */
			if (!rc->resolve_ns) {
				snprintf(err, errlen,
					 "rule crash_loop: resolve must be longer than 0");
				return -EINVAL;
			}
			continue;
		}
		if (r != EW_RULE_STABLE && !rc->window_ns) {
			snprintf(err, errlen, "rule %s: window must be longer than 0",
				 ew_rule_name(r));
			return -EINVAL;
		}
		if ((r == EW_RULE_EXIT_CODE_BURST || r == EW_RULE_RESTART_RATE) &&
		    !rc->resolve_ns) {
			snprintf(err, errlen, "rule %s: resolve must be longer than 0",
				 ew_rule_name(r));
			return -EINVAL;
		}
		if (r == EW_RULE_STARTUP_FAILURE_RATE &&
		    rc->resolve_success_percent < 100.0 - rc->fail_percent) {
			snprintf(err, errlen,
				 "rule %s: resolve_success_percent %.1f would resolve while the "
				 "failure rate still exceeds fail_percent %.1f (it would flap)",
				 ew_rule_name(r), rc->resolve_success_percent, rc->fail_percent);
			return -EINVAL;
		}
		if (r == EW_RULE_STABLE && !rc->uptime_ns) {
			snprintf(err, errlen, "rule stable: uptime must be longer than 0");
			return -EINVAL;
		}
	}
	if (!c->agent_interval_ns || !c->checkpoint_interval_ns) {
		snprintf(err, errlen,
			 "agent_interval and checkpoint_interval must be longer than 0");
		return -EINVAL;
	}
	return 0;
}
