// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "exitwatch/util/clock.h"
#include "exitwatch/util/log.h"
#include "exitwatch/util/util.h"

#define EW_LOG_EVERY_NS (60 * EW_NSEC_PER_SEC)

/* File-local, written once by ew_log_init() before anything else runs. */
static enum ew_log_level log_max = EW_LOG_WARN;

void ew_log_init(enum ew_log_level max_level)
{
	log_max = max_level;
}

void ew_log(enum ew_log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	char buf[1024];
	va_list ap;
	size_t n;

	if (lvl > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	/* One write per line, so lines from libbpf callbacks and ours do not interleave. */
	fprintf(stderr, "exitwatch: %s: %s\n", names[lvl], buf);
}

bool ew_log_due(uint64_t *last_mono)
{
	uint64_t now = ew_clock_mono_ns();

	if (*last_mono && now - *last_mono < EW_LOG_EVERY_NS)
		return false;
	*last_mono = now;
	return true;
}

bool ew_log_total_due(struct ew_log_total *t, uint64_t total)
{
	if (total <= t->said || !ew_log_due(&t->mono))
		return false;
	t->said = total;
	return true;
}
