/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The INI config file (src/cli/config_file.c); deploy/exitwatch.conf lists every key. */
#ifndef EXITWATCH_CONFIG_FILE_H
#define EXITWATCH_CONFIG_FILE_H

#include <stddef.h>

#include "exitwatch/cli/config.h"

/*
 * Reads an INI-style config file into cfg. Returns 0, -ENOENT when the file does not exist,
 * or -EINVAL with "PATH:LINE: ..." in err naming the key and what is wrong with it.
 */
int ew_config_load_file(struct ew_config *cfg, const char *path, char *err, size_t errlen);

/* Same, from a buffer (name is used in messages). */
int ew_config_load_buffer(struct ew_config *cfg, const char *name, const char *text, size_t len,
			  char *err, size_t errlen);

#endif
