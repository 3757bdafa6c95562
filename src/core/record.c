// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Names of the record vocabulary (include/exitwatch/core/record.h): severities, record types. */
#include <errno.h>
#include <strings.h>

#include "exitwatch/core/record.h"
#include "exitwatch/util/util.h"

static const char *const severity_names[EW_SEV__COUNT] = {
	"DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY",
};

const char *ew_severity_name(enum ew_severity s)
{
	return (unsigned)s < EW_SEV__COUNT ? severity_names[s] : "DEFAULT";
}

int ew_severity_parse(const char *name)
{
	for (int i = 0; i < EW_SEV__COUNT; i++)
		if (!strcasecmp(name, severity_names[i]))
			return i;
	return -EINVAL;
}

const char *ew_record_event_name(enum ew_record_type t)
{
	static const char *const names[] = {
		[EW_REC_START] = "container_start", [EW_REC_READY] = "container_ready",
		[EW_REC_EXIT] = "container_exit",   [EW_REC_FINDING] = "finding",
		[EW_REC_RESOLVED] = "resolved",	    [EW_REC_AGENT] = "agent",
	};

	return (unsigned)t < ARRAY_SIZE(names) ? names[t] : "unknown";
}
