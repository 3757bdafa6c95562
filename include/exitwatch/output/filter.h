/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Per-output filters from the output spec: "SPEC;events=LIST;min_severity=SEV". events lists
 * record types (container_start, container_ready, container_exit, finding, resolved, agent),
 * comma-separated; min_severity drops records below a Cloud Logging severity (DEFAULT DEBUG
 * INFO NOTICE WARNING ERROR CRITICAL ALERT EMERGENCY). Either may be left out: a sink takes
 * every record by default. Example: stdout (into Cloud Logging) with findings and resolutions
 * only, a file with everything:
 *   -o 'stdout;events=finding,resolved' -o file:/var/log/exitwatch.ndjson
 * A spec whose path holds ';' cannot be given. Pure: no I/O.
 */
#ifndef EXITWATCH_OUTPUT_FILTER_H
#define EXITWATCH_OUTPUT_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exitwatch/core/record.h"

struct ew_output_filter {
	uint32_t events;	       /* bit (1 << enum ew_record_type) per type taken; 0: all */
	enum ew_severity min_severity; /* EW_SEV_DEFAULT: any */
};

/*
 * Splits "SPEC;key=value;..." into the spec (copied into spec, len bytes) and the filter.
 * 0, or -EINVAL with a sentence in err naming the option and what is wrong (an unknown key or
 * record type or severity, an empty list, a key given twice, a spec too long).
 */
int ew_output_filter_split(const char *arg, char *spec, size_t len, struct ew_output_filter *ret,
			   char *err, size_t errlen);

/* true when the filter takes nothing away (no options given). */
bool ew_output_filter_is_all(const struct ew_output_filter *f);

/* An ew_output_filter_fn (output.h): arg is a struct ew_output_filter. */
bool ew_output_filter_take(void *arg, const struct ew_record *r);

#endif
