/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The command line (src/cli/args.c). */
#ifndef EXITWATCH_ARGS_H
#define EXITWATCH_ARGS_H

#include "exitwatch/cli/config.h"

/*
 * Parses argv (and the config file it names or the default one). Returns 1 to run, 0 when
 * done (--help, --version printed to stdout), or a negative errno after printing one sentence
 * to stderr naming the problem. The caller exits 2 on a bad config file or option.
 */
int ew_config_parse(struct ew_config *cfg, int argc, char **argv);

#endif
