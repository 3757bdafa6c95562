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

/*
 * One key, as the line "key = value" in [section] of a file would set it, for a flag (--set,
 * --rule, --node, ...): the same checks, and on error "NAME: [section] key: why (got 'VALUE')"
 * in err, with no line number. The value is taken as it is (no quotes, comments or trimming);
 * a control character in it is an error, as in a file. 0, -EINVAL or -ENOMEM.
 */
int ew_config_set_key(struct ew_config *cfg, const char *name, const char *section, const char *key,
		      const char *value, char *err, size_t errlen);

#endif
