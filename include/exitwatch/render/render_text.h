/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Record -> one aligned line for a person at a terminal (--format text): time, severity, the
 * container, the event, the message and the stderr tail's last line. Control bytes from the
 * workload are replaced, so a container cannot move the cursor or recolour the terminal.
 * Pure.
 */
#ifndef EXITWATCH_SINK_TEXT_H
#define EXITWATCH_SINK_TEXT_H

#include <stdbool.h>

#include "exitwatch/util/buf.h"
#include "exitwatch/core/record.h"

/* Appends the line and '\n'. colour adds ANSI colours by severity. 0, -ENOMEM or -EINVAL. */
int ew_render_text(const struct ew_record *r, const struct ew_render_ctx *ctx, bool colour,
		   struct ew_buf *out);

#endif
