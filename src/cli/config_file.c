// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The config file: [agent], [exit], [meanings] and [rule.NAME] sections in the INI syntax of
 * src/cli/ini.c; deploy/exitwatch.conf documents every key. Strict on purpose: a typo in a key
 * or a value stops the agent with the file, line and key named, rather than letting it run on
 * a default nobody asked for. Only syntax and per-value ranges are checked here; relations
 * between values are ew_config_validate()'s.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitwatch/util/clock.h"
#include "exitwatch/cli/config.h"
#include "exitwatch/cli/config_file.h"
#include "exitwatch/metrics/metrics.h"
#include "cli/ini_int.h"
#include "exitwatch/util/util.h"
#include "exitwatch/util/cleanup.h"

#define EW_CONFIG_MAX_BYTES (1024 * 1024) /* a config file is a few KiB: more is a mistake */

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

static int bad(struct load *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct load *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->why, sizeof(l->why), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* strtoull() alone accepts " 1", "+1" and "-1" (as 2^64 - 1): insist on a digit first. */
static int parse_digits(const char *s, uint64_t *ret, char **end)
{
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, end, 10);
	if (errno)
		return -ERANGE; /* the only errno strtoull sets once a digit is there */
	*ret = v;
	return 0;
}

static int parse_uint(const char *s, uint64_t max, uint64_t *ret)
{
	char *end;
	int r = parse_digits(s, ret, &end);

	if (r < 0)
		return r;
	if (*end)
		return -EINVAL;
	return *ret > max ? -ERANGE : 0;
}

static int set_uint(struct load *l, const struct key_def *k, const char *v, uint64_t *ret)
{
	int r = parse_uint(v, UINT64_MAX, ret);

	if (r == -EINVAL)
		return bad(l, "not a non-negative integer");
	if (r < 0 || *ret < k->min || *ret > k->max)
		return bad(l, "must be between %llu and %llu", (unsigned long long)k->min,
			   (unsigned long long)k->max);
	return 0;
}

static int set_u32(struct load *l, const struct key_def *k, const char *v, void *field)
{
	uint64_t n = 0;
	int r = set_uint(l, k, v, &n);

	if (r == 0)
		*(uint32_t *)field = (uint32_t)n; /* k->max fits */
	return r;
}

static int set_int(struct load *l, const struct key_def *k, const char *v, void *field)
{
	uint64_t n = 0;
	int r = set_uint(l, k, v, &n);

	if (r == 0)
		*(int *)field = (int)n;
	return r;
}

static int set_stderr(struct load *l, const struct key_def *k, const char *v, void *field)
{
	int r = set_u32(l, k, v, field);

	if (r == 0)
		l->cfg->capture_stderr = l->cfg->stderr_bytes > 0;
	return r;
}

static int set_bytes(struct load *l, const struct key_def *k, const char *v, void *field)
{
	uint64_t n = 0, mult = 1;
	char *end;
	int r = parse_digits(v, &n, &end);

	if (r == -EINVAL || (*end && end[1]) || (*end && !strchr("KMG", *end)))
		return bad(l, "not a size (bytes, or a number with a K, M or G suffix)");
	if (*end)
		mult = 1ULL << (*end == 'K' ? 10 : *end == 'M' ? 20 : 30);
	if (r < 0 || n > UINT64_MAX / mult || n * mult < k->min || n * mult > k->max ||
	    ((k->flags & F_POW2) && (n * mult & (n * mult - 1))))
		return bad(l, "must be %sbetween %llu and %llu bytes",
			   k->flags & F_POW2 ? "a power of two " : "", (unsigned long long)k->min,
			   (unsigned long long)k->max);
	*(uint64_t *)field = n * mult;
	return 0;
}

static int set_duration(struct load *l, const struct key_def *k, const char *v, void *field)
{
	uint64_t ns;

	if (ew_duration_parse(v, &ns) < 0)
		return bad(l, "not a duration (e.g. 250ms, 30s, 5m, 2h30m)");
	if (ns < k->min)
		return bad(l, "must be greater than 0");
	*(uint64_t *)field = ns;
	return 0;
}

static int set_bool(struct load *l, const struct key_def *k, const char *v, void *field)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(v, yes[i]) || !strcasecmp(v, no[i])) {
			*(bool *)field = !strcasecmp(v, yes[i]);
			return 0;
		}
	}
	return bad(l, "not a boolean (true/false, yes/no, on/off, 1/0)");
}

static int store_str(struct load *l, const char *v, const char **field)
{
	const char *s = ew_config_strdup(l->cfg, v);

	if (!s) {
		snprintf(l->why, sizeof(l->why), "out of memory");
		return -ENOMEM;
	}
	*field = s;
	return 0;
}

static int set_path(struct load *l, const struct key_def *k, const char *v, void *field)
{
	if (!*v && (k->flags & (F_EMPTY_NULL | F_EMPTY_KEEP))) {
		*(const char **)field = k->flags & F_EMPTY_NULL ? NULL : "";
		return 0;
	}
	if (v[0] != '/')
		return bad(l, "must be an absolute path");
	return store_str(l, v, field);
}

static int set_node(struct load *l, const struct key_def *k, const char *v, void *field)
{
	if (strlen(v) >= sizeof(l->cfg->node))
		return bad(l, "longer than %zu bytes", sizeof(l->cfg->node) - 1);
	ew_strlcpy(field, v, sizeof(l->cfg->node));
	return 0;
}

static int set_output(struct load *l, const struct key_def *k, const char *v, void *field)
{
	if (!*v)
		return bad(l, "must not be empty (stdout, file:PATH, tcp://HOST:PORT, unix:PATH)");
	if (l->cfg->noutputs >= EW_MAX_SINKS)
		return bad(l, "more than %d outputs", EW_MAX_SINKS);
	return store_str(l, v, &l->cfg->outputs[l->cfg->noutputs++]);
}

static int set_format(struct load *l, const struct key_def *k, const char *v, void *field)
{
	if (strcmp(v, "json") && strcmp(v, "text"))
		return bad(l, "must be json or text");
	*(bool *)field = !strcmp(v, "text");
	return 0;
}

/* The server's own parser: an address it would refuse at start-up (exit 1) is bad input here. */
static int set_addr(struct load *l, const struct key_def *k, const char *v, void *field)
{
	if (!*v) {
		*(const char **)field = NULL;
		return 0;
	}
	if (!ew_metrics_addr_valid(v))
		return bad(l, "expected [ADDR]:PORT with a numeric address, e.g. :9100, "
			      "127.0.0.1:9100 or [::1]:9100");
	return store_str(l, v, field);
}

static int set_scope(struct load *l, const struct key_def *k, const char *v, void *field)
{
	if (strcmp(v, "identity") && strcmp(v, "workload"))
		return bad(l, "must be identity or workload");
	*(enum ew_scope *)field = !strcmp(v, "workload") ? EW_SCOPE_WORKLOAD : EW_SCOPE_IDENTITY;
	return 0;
}

static int set_severity(struct load *l, const struct key_def *k, const char *v, void *field)
{
	int sev = ew_severity_parse(v);

	if (sev >= 0) {
		*(enum ew_severity *)field = (enum ew_severity)sev;
		return 0;
	}
	return bad(l, "unknown severity (DEFAULT, DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL, "
		      "ALERT, EMERGENCY)");
}

/* Plain decimals only: strtod() would also take "nan", "inf", "1e2" and hex. */
static int set_percent(struct load *l, const struct key_def *k, const char *v, void *field)
{
	size_t ip = strspn(v, "0123456789"), fp = 0;
	const char *p = v + ip;
	char *end;
	double d;

	if (*p == '.') {
		fp = strspn(p + 1, "0123456789");
		p += 1 + fp;
	}
	if (*p || ip + fp == 0)
		return bad(l, "must be a percentage between 0 and 100");
	errno = 0;
	d = strtod(v, &end);
	if (errno || *end || d < 0.0 || d > 100.0)
		return bad(l, "must be a percentage between 0 and 100");
	*(double *)field = d;
	return 0;
}

/* "3, 4,126": replaces the whole set; "" is the empty set. */
static int set_codes(struct load *l, const struct key_def *k, const char *v, void *field)
{
	uint8_t set[256 / 8] = {0};
	const char *p = v;

	while (*p) {
		char item[16];
		size_t n = strcspn(p, ",");
		size_t a = strspn(p, " \t"), b = n;
		uint64_t code = 0;

		while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t'))
			b--;
		if (b - a >= sizeof(item) || b == a)
			return bad(l, "not a list of exit codes (0..255, comma-separated)");
		memcpy(item, p + a, b - a);
		item[b - a] = '\0';
		if (parse_uint(item, 255, &code) < 0)
			return bad(l, "not a list of exit codes (0..255, comma-separated)");
		set[code / 8] |= (uint8_t)(1u << (code % 8));
		p += n;
		if (*p == ',' && !*++p)
			return bad(l, "not a list of exit codes (0..255, comma-separated)");
	}
	memcpy(field, set, sizeof(set));
	return 0;
}

static int set_meaning(struct load *l, const char *key, const char *v)
{
	uint64_t code = 0;

	if (parse_uint(key, 255, &code) < 0)
		return bad(l, "not an exit code (0..255)");
	if (strlen(v) >= EW_MEANING_LEN)
		return bad(l, "longer than %d bytes", EW_MEANING_LEN - 1);
	ew_strlcpy(l->cfg->classes.meanings[code], v, EW_MEANING_LEN);
	return 0;
}

#define CFG(f)	offsetof(struct ew_config, f)
#define RULE(f) offsetof(struct ew_rule_config, f)
static const struct key_def agent_keys[] = {
	{"node", set_node, CFG(node), 0, 0, 0},
	{"host_root", set_path, CFG(host_root), 0, 0, F_EMPTY_KEEP},
	{"cgroup_root", set_path, CFG(cgroup_root), 0, 0, F_EMPTY_NULL},
	{"cgroup_subtree", set_path, CFG(cgroup_subtree), 0, 0, F_EMPTY_NULL},
	{"proc_root", set_path, CFG(proc_root), 0, 0, F_EMPTY_NULL},
	/* 8K: an exit record with its stderr tail is 4248 bytes and must fit. */
	{"ringbuf_size", set_bytes, CFG(ringbuf_bytes), 8192, 1ULL << 30, F_POW2},
	{"max_containers", set_u32, CFG(max_containers), 16, 1048576, 0},
	{"stderr_bytes", set_stderr, CFG(stderr_bytes), 0, 4096, 0},
	{"stderr_kernel", set_bool, CFG(stderr_kernel), 0, 0, 0},
	{"track_ready", set_bool, CFG(track_ready), 0, 0, 0},
	{"track_oom", set_bool, CFG(track_oom), 0, 0, 0},
	{"track_signals", set_bool, CFG(track_signals), 0, 0, 0},
	{"scan_existing", set_bool, CFG(scan_existing), 0, 0, 0},
	{"read_metadata", set_bool, CFG(read_meta), 0, 0, 0},
	{"agent_interval", set_duration, CFG(agent_interval_ns), 1, 0, 0},
	{"sweep_interval", set_duration, CFG(sweep_interval_ns), 0, 0, 0},
	{"state_file", set_path, CFG(state_file), 0, 0, F_EMPTY_NULL},
	{"checkpoint_interval", set_duration, CFG(checkpoint_interval_ns), 1, 0, 0},
	{"record", set_path, CFG(record_path), 0, 0, F_EMPTY_NULL},
	{"drain_timeout", set_duration, CFG(drain_timeout_ns), 0, 0, 0},
	{"docker_root", set_path, CFG(docker_root), 0, 0, F_EMPTY_NULL},
	{"containerd_root", set_path, CFG(containerd_root), 0, 0, F_EMPTY_NULL},
	{"crio_root", set_path, CFG(crio_root), 0, 0, F_EMPTY_NULL},
	{"pods_log_root", set_path, CFG(pods_log_root), 0, 0, F_EMPTY_NULL},
	{"containers_log_root", set_path, CFG(containers_log_root), 0, 0, F_EMPTY_NULL},
	{"output", set_output, 0, 0, 0, 0},
	{"format", set_format, CFG(format_text), 0, 0, 0},
	{"metrics_addr", set_addr, CFG(metrics_addr), 0, 0, 0},
	{"metrics_container_labels", set_bool, CFG(metrics_container_labels), 0, 0, 0},
	{"spool_dir", set_path, CFG(out.spool_dir), 0, 0, 0},
	{"spool_max_bytes", set_bytes, CFG(out.spool_max_bytes), 0, UINT64_MAX, 0},
	{"queue_max_lines", set_u32, CFG(out.queue_max_lines), 1, UINT32_MAX, 0},
	{"file_max_bytes", set_bytes, CFG(out.file_max_bytes), 0, UINT64_MAX, 0},
	{"file_keep", set_u32, CFG(out.file_keep), 1, 100, 0},
	{"verbosity", set_int, CFG(verbosity), 0, 2, 0},
	{"startup_grace", set_duration, CFG(detect.startup_grace_ns), 0, 0, 0},
	{"max_identities", set_u32, CFG(detect.max_identities), 1, UINT32_MAX, 0},
	/* 0 would forget every identity at its exit: no rule could count a second event of it. The
	 * floor that matters, the longest rule window, is ew_config_validate()'s. */
	{"idle_forget", set_duration, CFG(detect.idle_forget_ns), 1, 0, 0},
	{"memory_budget", set_bytes, CFG(detect.memory_budget), 0, UINT64_MAX, 0},
	{"tail_bytes", set_u32, CFG(detect.tail_max), 0, 4096, 0},
};

/* [exit] killer_grace: 0 names a sender only when its very signal ended the process. */
static const struct key_def exit_grace_key = {"killer_grace", set_duration, 0, 0, 0, 0};

/*
 * Each rule takes the keys it reads (src/detect/), and only those: a key it would ignore is a
 * mistake to say, not a setting to drop. stable and crash_loop always watch one identity and
 * count in no window; crash_loop resolves at a successful start or after its quiet period
 * (resolve) without one, stable never. Their order here
 * is the order a message lists a rule's keys in.
 */
static const struct key_def rule_keys[] = {
	{"enabled", set_bool, RULE(enabled), 0, 0, 0},
	{"scope", set_scope, RULE(scope), 0, 0, F_COUNTING | F_IN(EW_RULE_STARTUP_FAILURE_RATE)},
	{"severity", set_severity, RULE(severity), 0, 0, 0},
	{"count", set_u32, RULE(count), 0, UINT32_MAX, F_COUNTING | F_IN(EW_RULE_CRASH_LOOP)},
	{"window", set_duration, RULE(window_ns), 1, 0,
	 F_COUNTING | F_IN(EW_RULE_STARTUP_FAILURE_RATE)},
	/* startup_failure_rate resolves on resolve_success_percent: resolve is accepted there
	 * without effect, because shipped configs set it (deploy/docker/demo.conf). */
	{"resolve", set_duration, RULE(resolve_ns), 0, 0,
	 F_COUNTING | F_IN(EW_RULE_STARTUP_FAILURE_RATE) | F_IN(EW_RULE_CRASH_LOOP)},
	{"codes", set_codes, RULE(codes), 0, 0, F_IN(EW_RULE_EXIT_CODE_BURST)},
	{"fail_percent", set_percent, RULE(fail_percent), 0, 0, F_IN(EW_RULE_STARTUP_FAILURE_RATE)},
	{"resolve_success_percent", set_percent, RULE(resolve_success_percent), 0, 0,
	 F_IN(EW_RULE_STARTUP_FAILURE_RATE)},
	{"min_starts", set_u32, RULE(min_starts), 0, UINT32_MAX,
	 F_IN(EW_RULE_STARTUP_FAILURE_RATE)},
	{"uptime", set_duration, RULE(uptime_ns), 0, 0, F_IN(EW_RULE_STABLE)},
};

/* A rule key in a rule that does not take it: the one rule that does, or what this one takes. */
static int wrong_rule(struct load *l, const struct key_def *k)
{
	char *p = l->why;
	size_t left = sizeof(l->why);
	int only = -1, n = 0;

	for (int r = 0; r < EW_RULE__COUNT; r++)
		if (k->flags & F_IN(r)) {
			only = r;
			n++;
		}
	if (n == 1)
		return bad(l, "only valid in [rule.%s]", ew_rule_name(only));
	ew_ini_put(&p, &left, "not a key of this rule (it takes ", SIZE_MAX);
	for (size_t i = 0, first = 1; i < ARRAY_SIZE(rule_keys); i++) {
		if ((rule_keys[i].flags & F_IN_ANY) && !(rule_keys[i].flags & F_IN(l->rule)))
			continue;
		ew_ini_put(&p, &left, first ? "" : ", ", SIZE_MAX);
		ew_ini_put(&p, &left, rule_keys[i].name, SIZE_MAX);
		first = 0;
	}
	ew_ini_put(&p, &left, ")", SIZE_MAX);
	return -EINVAL;
}

static const struct key_def *find_key(const struct key_def *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

static int enter_section(struct load *l, const char *name)
{
	l->sec = SEC_NONE;
	if (!strcmp(name, "agent")) {
		l->sec = SEC_AGENT;
	} else if (!strcmp(name, "exit")) {
		l->sec = SEC_EXIT;
	} else if (!strcmp(name, "meanings")) {
		l->sec = SEC_MEANINGS;
	} else if (!strncmp(name, "rule.", 5)) {
		int r = ew_rule_parse(name + 5);

		if (r >= 0) {
			l->sec = SEC_RULE;
			l->rule = r;
		}
	}
	return l->sec == SEC_NONE ? -EINVAL : 0;
}

static int apply_key(struct load *l, const char *key, const char *v)
{
	const struct key_def *k;

	switch (l->sec) {
	case SEC_AGENT:
		k = find_key(agent_keys, ARRAY_SIZE(agent_keys), key);
		if (!k)
			break;
		return k->set(l, k, v, (char *)l->cfg + k->off);
	case SEC_EXIT:
		if (!strcmp(key, "killer_grace"))
			return set_duration(l, &exit_grace_key, v,
					    &l->cfg->classes.killer_grace_ns);
		if (strcmp(key, "config_error_codes"))
			break;
		return set_codes(l, NULL, v, l->cfg->classes.config_error_codes);
	case SEC_MEANINGS:
		return set_meaning(l, key, v);
	case SEC_RULE:
		k = find_key(rule_keys, ARRAY_SIZE(rule_keys), key);
		if (!k)
			break;
		if ((k->flags & F_IN_ANY) && !(k->flags & F_IN(l->rule)))
			return wrong_rule(l, k);
		return k->set(l, k, v, (char *)&l->cfg->detect.rules[l->rule] + k->off);
	case SEC_NONE:
		return bad(l, "key outside a section (add a [section] header above it)");
	}
	return bad(l, "unknown key");
}

int ew_config_load_buffer(struct ew_config *cfg, const char *name, const char *text, size_t len,
			  char *err, size_t errlen)
{
	_cleanup_free_ struct ew_ini *ini = malloc(sizeof(*ini)); /* 16 KiB of line buffers */
	struct load l = {.cfg = cfg, .sec = SEC_NONE};
	int r;

	if (err && errlen)
		err[0] = '\0';
	if (!ini) {
		ew_ini_message(err, errlen, name, 0, NULL, NULL, "out of memory", NULL);
		return -ENOMEM;
	}
	ew_ini_init(ini, text, len);
	while ((r = ew_ini_next(ini)) > 0) {
		if (r == EW_INI_SECTION && enter_section(&l, ini->section) < 0) {
			char *p = l.why;
			size_t left = sizeof(l.why);

			ew_ini_put(&p, &left, "unknown section [", SIZE_MAX);
			ew_ini_put(&p, &left, ini->section, EW_INI_ECHO_MAX);
			ew_ini_put(&p, &left, "]", 1);
			ew_ini_message(err, errlen, name, ini->line, NULL, NULL, l.why, NULL);
			return -EINVAL;
		}
		if (r == EW_INI_KEY && (r = apply_key(&l, ini->key, ini->value)) < 0) {
			ew_ini_message(err, errlen, name, ini->line, ini->section, ini->key, l.why,
				       r == -ENOMEM ? NULL : ini->value);
			return r;
		}
	}
	if (r < 0)
		ew_ini_message(err, errlen, name, ini->line, ini->section, ini->key, ini->why,
			       ini->value);
	return r;
}

int ew_config_set_key(struct ew_config *cfg, const char *name, const char *section, const char *key,
		      const char *value, char *err, size_t errlen)
{
	struct load l = {.cfg = cfg, .sec = SEC_NONE};
	int r;

	if (err && errlen)
		err[0] = '\0';
	if (enter_section(&l, section) < 0) {
		char *p = l.why;
		size_t left = sizeof(l.why);

		ew_ini_put(&p, &left, "unknown section [", SIZE_MAX);
		ew_ini_put(&p, &left, section, EW_INI_ECHO_MAX);
		ew_ini_put(&p, &left, "]", 1);
		ew_ini_message(err, errlen, name, 0, NULL, NULL, l.why, NULL);
		return -EINVAL;
	}
	/* What a file's line could not hold, a flag's value may not either. */
	r = strlen(value) > EW_INI_LINE_MAX ? bad(&l, "longer than %d bytes", EW_INI_LINE_MAX) : 0;
	for (const char *c = value; !r && *c; c++)
		if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
			r = bad(&l, "control character in value");
	if (!r)
		r = apply_key(&l, key, value);
	if (r < 0)
		ew_ini_message(err, errlen, name, 0, section, key, l.why,
			       r == -ENOMEM ? NULL : value);
	return r;
}

static int file_fail(int r, const char *path, const char *what, char *err, size_t errlen)
{
	ew_ini_message(err, errlen, path, 0, NULL, NULL, what, NULL);
	return r;
}

int ew_config_load_file(struct ew_config *cfg, const char *path, char *err, size_t errlen)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap;
	struct stat st;

	if (!path || !*path)
		return file_fail(-EINVAL, "", "empty config file path", err, errlen);
	/* O_NONBLOCK: a FIFO put in the file's place must not hang the agent at start-up. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0)
		return file_fail(-errno, path, strerror(errno), err, errlen);
	if (!S_ISREG(st.st_mode))
		return file_fail(-EINVAL, path, "not a regular file", err, errlen);
	if (st.st_size > EW_CONFIG_MAX_BYTES)
		return file_fail(-EFBIG, path, "larger than 1 MiB", err, errlen);
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf)
		return file_fail(-ENOMEM, path, "out of memory", err, errlen);
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return file_fail(-errno, path, strerror(errno), err, errlen);
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > EW_CONFIG_MAX_BYTES) /* it grew after fstat() */
			return file_fail(-EFBIG, path, "larger than 1 MiB", err, errlen);
		if (len == cap) {
			char *nbuf;

			cap = cap * 2 > EW_CONFIG_MAX_BYTES + 1 ? EW_CONFIG_MAX_BYTES + 1 : cap * 2;
			nbuf = realloc(buf, cap);
			if (!nbuf)
				return file_fail(-ENOMEM, path, "out of memory", err, errlen);
			buf = nbuf;
		}
	}
	return ew_config_load_buffer(cfg, path, buf, len, err, errlen);
}
