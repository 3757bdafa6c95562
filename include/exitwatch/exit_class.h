/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * "Crash versus configuration": the class and the known meaning of an exit. Which codes are
 * configuration errors, and the meanings table, are configurable (config file [exit] and
 * [meanings] sections); the defaults are design.md's.
 */
#ifndef EXITWATCH_EXIT_CLASS_H
#define EXITWATCH_EXIT_CLASS_H

#include <stdbool.h>
#include <stdint.h>

#include "exitwatch/event.h"

#define EW_MEANING_LEN 96

struct ew_class_config {
	uint8_t config_error_codes[256 / 8]; /* bitmap of exit codes classed config_error */
	char meanings[256][EW_MEANING_LEN];  /* "" when the code has no known meaning */
};

void ew_class_config_default(struct ew_class_config *c);
static inline bool ew_class_is_config_error(const struct ew_class_config *c, int code)
{
	return code >= 0 && code < 256 && (c->config_error_codes[code / 8] >> (code % 8)) & 1;
}
void ew_class_set_config_error(struct ew_class_config *c, int code, bool on);

/* Pure: the class of an EXIT event (oom, signal, killer and code all count). */
enum ew_exit_class ew_exit_classify(const struct ew_event *ev, const struct ew_class_config *c);

/* "clean", "config_error", ... */
const char *ew_exit_class_name(enum ew_exit_class cls);
/* Parses a class name; returns the class or -EINVAL. */
int ew_exit_class_parse(const char *name);

/* The known meaning of the exit ("command not found", "killed by SIGKILL"), or NULL. */
const char *ew_exit_meaning(const struct ew_event *ev, const struct ew_class_config *c);

#endif
