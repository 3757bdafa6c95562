/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Internal to the config file's reader: config_file.c holds the sections and the table of
 * keys, config_value.c parses one value of each kind into its field. The public header is
 * include/exitwatch/cli/config_file.h.
 */
#ifndef EXITWATCH_CONFIG_FILE_INT_H
#define EXITWATCH_CONFIG_FILE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "exitwatch/cli/config.h"

enum section {
	SEC_NONE,
	SEC_AGENT,
	SEC_EXIT,
	SEC_MEANINGS,
	SEC_RULE,
};

struct load {
	struct ew_config *cfg;
	enum section sec;
	int rule; /* enum ew_rule, in SEC_RULE */
	char why[160];
};

struct key_def;
typedef int (*set_fn)(struct load *l, const struct key_def *k, const char *v, void *field);

#define F_EMPTY_NULL 0x1u /* an empty value unsets the key (NULL: built-in behaviour) */
#define F_EMPTY_KEEP 0x2u /* an empty value is a value ("") */
#define F_POW2	     0x4u
/* Rule keys: valid in the rules whose bits are set (none set: in every rule). */
#define F_IN(rule) (1u << (8 + (rule)))
#define F_IN_ANY   (((1u << EW_RULE__COUNT) - 1) << 8)
#define F_COUNTING (F_IN(EW_RULE_EXIT_CODE_BURST) | F_IN(EW_RULE_RESTART_RATE))

struct key_def {
	const char *name;
	set_fn set;
	size_t off; /* of the field, in struct ew_config or struct ew_rule_config */
	uint64_t min, max;
	unsigned flags;
};

/* Says why the value is wrong, in l->why (the caller adds where). Returns -EINVAL. */
int ew_cfgv_bad(struct load *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One value of key k into field (in struct ew_config or struct ew_rule_config, as the key's
 * table says): 0, or -EINVAL with l->why set. */
int ew_cfgv_u32(struct load *l, const struct key_def *k, const char *v, void *field);
int ew_cfgv_int(struct load *l, const struct key_def *k, const char *v, void *field);
int ew_cfgv_stderr(struct load *l, const struct key_def *k, const char *v, void *field);
int ew_cfgv_bytes(struct load *l, const struct key_def *k, const char *v, void *field);
int ew_cfgv_duration(struct load *l, const struct key_def *k, const char *v, void *field);
int ew_cfgv_bool(struct load *l, const struct key_def *k, const char *v, void *field);
int ew_cfgv_path(struct load *l, const struct key_def *k, const char *v, void *field);
int ew_cfgv_node(struct load *l, const struct key_def *k, const char *v, void *field);
int ew_cfgv_output(struct load *l, const struct key_def *k, const char *v, void *field);
int ew_cfgv_format(struct load *l, const struct key_def *k, const char *v, void *field);
int ew_cfgv_addr(struct load *l, const struct key_def *k, const char *v, void *field);
int ew_cfgv_scope(struct load *l, const struct key_def *k, const char *v, void *field);
int ew_cfgv_severity(struct load *l, const struct key_def *k, const char *v, void *field);
int ew_cfgv_percent(struct load *l, const struct key_def *k, const char *v, void *field);
int ew_cfgv_codes(struct load *l, const struct key_def *k, const char *v, void *field);
int ew_cfgv_meaning(struct load *l, const char *key, const char *v);

#endif
