// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The config file: [agent], [exit], [meanings] and [rule.NAME] sections in the INI syntax of
 * src/cli/ini.c; deploy/exitwatch.conf documents every key. Strict on purpose: a typo in a key
 * or a value stops the agent with the file, line and key named, rather than letting it run on
 * a default nobody asked for. Only syntax and per-value ranges are checked here; relations
 * between values are ew_config_validate()'s. Each kind of value is parsed by config_value.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitwatch/cli/config.h"
#include "exitwatch/cli/config_file.h"
#include "cli/config_file_int.h"
#include "cli/ini_int.h"
#include "exitwatch/util/util.h"
#include "exitwatch/util/cleanup.h"

#define EW_CONFIG_MAX_BYTES (1024 * 1024) /* a config file is a few KiB: more is a mistake */

#define CFG(f)	offsetof(struct ew_config, f)
#define RULE(f) offsetof(struct ew_rule_config, f)
static const struct key_def agent_keys[] = {
	{"node", ew_cfgv_node, CFG(node), 0, 0, 0},
	{"host_root", ew_cfgv_path, CFG(host_root), 0, 0, F_EMPTY_KEEP},
	{"cgroup_root", ew_cfgv_path, CFG(cgroup_root), 0, 0, F_EMPTY_NULL},
	{"cgroup_subtree", ew_cfgv_path, CFG(cgroup_subtree), 0, 0, F_EMPTY_NULL},
	{"proc_root", ew_cfgv_path, CFG(proc_root), 0, 0, F_EMPTY_NULL},
	/* 8K: an exit record with its stderr tail is 4248 bytes and must fit. */
	{"ringbuf_size", ew_cfgv_bytes, CFG(ringbuf_bytes), 8192, 1ULL << 30, F_POW2},
	{"max_containers", ew_cfgv_u32, CFG(max_containers), 16, 1048576, 0},
	{"stderr_bytes", ew_cfgv_stderr, CFG(stderr_bytes), 0, 4096, 0},
	{"stderr_kernel", ew_cfgv_bool, CFG(stderr_kernel), 0, 0, 0},
	{"track_ready", ew_cfgv_bool, CFG(track_ready), 0, 0, 0},
	{"track_oom", ew_cfgv_bool, CFG(track_oom), 0, 0, 0},
	{"track_signals", ew_cfgv_bool, CFG(track_signals), 0, 0, 0},
	{"scan_existing", ew_cfgv_bool, CFG(scan_existing), 0, 0, 0},
	{"read_metadata", ew_cfgv_bool, CFG(read_meta), 0, 0, 0},
	{"agent_interval", ew_cfgv_duration, CFG(agent_interval_ns), 1, 0, 0},
	{"sweep_interval", ew_cfgv_duration, CFG(sweep_interval_ns), 0, 0, 0},
	{"state_file", ew_cfgv_path, CFG(state_file), 0, 0, F_EMPTY_NULL},
	{"checkpoint_interval", ew_cfgv_duration, CFG(checkpoint_interval_ns), 1, 0, 0},
	{"record", ew_cfgv_path, CFG(record_path), 0, 0, F_EMPTY_NULL},
	{"drain_timeout", ew_cfgv_duration, CFG(drain_timeout_ns), 0, 0, 0},
	{"docker_root", ew_cfgv_path, CFG(docker_root), 0, 0, F_EMPTY_NULL},
	{"containerd_root", ew_cfgv_path, CFG(containerd_root), 0, 0, F_EMPTY_NULL},
	{"containerd_cri_root", ew_cfgv_path, CFG(containerd_cri_root), 0, 0, F_EMPTY_NULL},
	{"crio_root", ew_cfgv_path, CFG(crio_root), 0, 0, F_EMPTY_NULL},
	{"pods_log_root", ew_cfgv_path, CFG(pods_log_root), 0, 0, F_EMPTY_NULL},
	{"containers_log_root", ew_cfgv_path, CFG(containers_log_root), 0, 0, F_EMPTY_NULL},
	{"output", ew_cfgv_output, 0, 0, 0, 0},
	{"format", ew_cfgv_format, CFG(format_text), 0, 0, 0},
	{"metrics_addr", ew_cfgv_addr, CFG(metrics_addr), 0, 0, 0},
	{"metrics_container_labels", ew_cfgv_bool, CFG(metrics_container_labels), 0, 0, 0},
	{"spool_dir", ew_cfgv_path, CFG(out.spool_dir), 0, 0, 0},
	{"spool_max_bytes", ew_cfgv_bytes, CFG(out.spool_max_bytes), 0, UINT64_MAX, 0},
	{"queue_max_lines", ew_cfgv_u32, CFG(out.queue_max_lines), 1, UINT32_MAX, 0},
	{"file_max_bytes", ew_cfgv_bytes, CFG(out.file_max_bytes), 0, UINT64_MAX, 0},
	{"file_keep", ew_cfgv_u32, CFG(out.file_keep), 1, 100, 0},
	{"verbosity", ew_cfgv_int, CFG(verbosity), 0, 2, 0},
	{"startup_grace", ew_cfgv_duration, CFG(detect.startup_grace_ns), 0, 0, 0},
	{"max_identities", ew_cfgv_u32, CFG(detect.max_identities), 1, UINT32_MAX, 0},
	/* 0 would forget every identity at its exit: no rule could count a second event of it. The
	 * floor that matters, the longest rule window, is ew_config_validate()'s. */
	{"idle_forget", ew_cfgv_duration, CFG(detect.idle_forget_ns), 1, 0, 0},
	{"memory_budget", ew_cfgv_bytes, CFG(detect.memory_budget), 0, UINT64_MAX, 0},
	{"tail_bytes", ew_cfgv_u32, CFG(detect.tail_max), 0, 4096, 0},
};

/* [exit] killer_grace: 0 names a sender only when its very signal ended the process. */
static const struct key_def exit_grace_key = {"killer_grace", ew_cfgv_duration, 0, 0, 0, 0};

/*
 * Each rule takes the keys it reads (src/detect/), and only those: a key it would ignore is a
 * mistake to say, not a setting to drop. stable and crash_loop always watch one identity and
 * count in no window; crash_loop resolves at a successful start or after its quiet period
 * (resolve) without one, stable never. Their order here
 * is the order a message lists a rule's keys in.
 */
static const struct key_def rule_keys[] = {
	{"enabled", ew_cfgv_bool, RULE(enabled), 0, 0, 0},
	{"scope", ew_cfgv_scope, RULE(scope), 0, 0,
	 F_COUNTING | F_IN(EW_RULE_STARTUP_FAILURE_RATE)},
	{"severity", ew_cfgv_severity, RULE(severity), 0, 0, 0},
	{"count", ew_cfgv_u32, RULE(count), 0, UINT32_MAX, F_COUNTING | F_IN(EW_RULE_CRASH_LOOP)},
	{"window", ew_cfgv_duration, RULE(window_ns), 1, 0,
	 F_COUNTING | F_IN(EW_RULE_STARTUP_FAILURE_RATE)},
	/* startup_failure_rate resolves on resolve_success_percent: resolve is accepted there
	 * without effect, because shipped configs set it (deploy/docker/demo.conf). */
	{"resolve", ew_cfgv_duration, RULE(resolve_ns), 0, 0,
	 F_COUNTING | F_IN(EW_RULE_STARTUP_FAILURE_RATE) | F_IN(EW_RULE_CRASH_LOOP)},
	{"codes", ew_cfgv_codes, RULE(codes), 0, 0, F_IN(EW_RULE_EXIT_CODE_BURST)},
	{"fail_percent", ew_cfgv_percent, RULE(fail_percent), 0, 0,
	 F_IN(EW_RULE_STARTUP_FAILURE_RATE)},
	{"resolve_success_percent", ew_cfgv_percent, RULE(resolve_success_percent), 0, 0,
	 F_IN(EW_RULE_STARTUP_FAILURE_RATE)},
	{"min_starts", ew_cfgv_u32, RULE(min_starts), 0, UINT32_MAX,
	 F_IN(EW_RULE_STARTUP_FAILURE_RATE)},
	{"uptime", ew_cfgv_duration, RULE(uptime_ns), 0, 0, F_IN(EW_RULE_STABLE)},
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
		return ew_cfgv_bad(l, "only valid in [rule.%s]", ew_rule_name(only));
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
			return ew_cfgv_duration(l, &exit_grace_key, v,
						&l->cfg->classes.killer_grace_ns);
		if (strcmp(key, "config_error_codes"))
			break;
		return ew_cfgv_codes(l, NULL, v, l->cfg->classes.config_error_codes);
	case SEC_MEANINGS:
		return ew_cfgv_meaning(l, key, v);
	case SEC_RULE:
		k = find_key(rule_keys, ARRAY_SIZE(rule_keys), key);
		if (!k)
			break;
		if ((k->flags & F_IN_ANY) && !(k->flags & F_IN(l->rule)))
			return wrong_rule(l, k);
		return k->set(l, k, v, (char *)&l->cfg->detect.rules[l->rule] + k->off);
	case SEC_NONE:
		return ew_cfgv_bad(l, "key outside a section (add a [section] header above it)");
	}
	return ew_cfgv_bad(l, "unknown key");
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
	r = strlen(value) > EW_INI_LINE_MAX
		    ? ew_cfgv_bad(&l, "longer than %d bytes", EW_INI_LINE_MAX)
		    : 0;
	for (const char *c = value; !r && *c; c++)
		if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
			r = ew_cfgv_bad(&l, "control character in value");
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
