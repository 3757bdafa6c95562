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

#include "exitwatch/core/event.h"

#define EW_MEANING_LEN 96

struct ew_class_config {
	uint8_t config_error_codes[256 / 8]; /* bitmap of exit codes classed config_error */
	char meanings[256][EW_MEANING_LEN];  /* "" when the code has no known meaning */
	uint64_t killer_grace_ns; /* a caught stop signal explains an exit this soon after it */
};

void ew_class_config_default(struct ew_class_config *c);
static inline bool ew_class_is_config_error(const struct ew_class_config *c, int code)
{
	return code >= 0 && code < 256 && (c->config_error_codes[code / 8] >> (code % 8)) & 1;
}
void ew_class_set_config_error(struct ew_class_config *c, int code, bool on);

/* Pure: the class of an EXIT event (oom, signal, killer and code all count). */
enum ew_exit_class ew_exit_classify(const struct ew_event *ev, const struct ew_class_config *c);

/*
 * Pure: whether the last fatal signal another process sent (ev->killer) ended the process, so
 * that its sender may be named. Yes when the process died of that very signal; also when it was
 * a stop signal (SIGTERM, SIGINT, SIGQUIT: what runtimes and people send to stop a container)
 * that the process caught, and it exited within c->killer_grace_ns after it. A signal trapped
 * for something else (SIGHUP to reload, SIGUSR1) and an exit long after a caught stop signal
 * are not: the sender is then history, not the cause.
 */
bool ew_killer_attributable(const struct ew_event *ev, const struct ew_class_config *c);

/* "clean", "config_error", ... */
const char *ew_exit_class_name(enum ew_exit_class cls);
/* Parses a class name; returns the class or -EINVAL. */
int ew_exit_class_parse(const char *name);

/* The known meaning of the exit ("command not found", "killed by SIGKILL"), or NULL. */
const char *ew_exit_meaning(const struct ew_event *ev, const struct ew_class_config *c);

#endif
