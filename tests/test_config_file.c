// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cli/config_file.c (and the cli/ini.c tokenizer under it): every key family loaded over the
 * defaults and compared field by field with the config it must give, every kind of mistake
 * with its exact "FILE:LINE:" prefix, and deploy/exitwatch.conf, which must change nothing and
 * whose documented defaults must be the real ones.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "exitwatch/cli/config.h"
#include "exitwatch/cli/config_file.h"
#include "exitwatch/identity/runtime_meta.h"
#include "exitwatch/util/util.h"
#include "harness/unit.h"

#ifndef EW_DEPLOY_CONF
#define EW_DEPLOY_CONF "deploy/exitwatch.conf"
#endif

#define NAME   "t.conf"
#define X10    "xxxxxxxxxx"
#define X50    X10 X10 X10 X10 X10
#define X95    X50 X10 X10 X10 X10 "xxxxx"  /* the longest meaning */
#define X256   X50 X50 X50 X50 X50 "xxxxxx" /* one byte over a node name */
#define SEC(n) ((uint64_t)(n)*EW_NSEC_PER_SEC)

struct fx {
	struct ew_config want; /* the defaults, then what a case expects */
	struct ew_config got;
	struct ew_t_scratch tmp; /* the files a case writes */
	char err[1024];
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	ew_config_init(&f->want);
	ew_config_init(&f->got);
	if (ew_t_scratch_make(&f->tmp, "config-test") < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	int r = ew_t_scratch_remove(&f->tmp);

	ew_config_free(&f->want);
	ew_config_free(&f->got);
	free(f);
	return r < 0 ? -1 : 0;
}

/* A fresh default config in got, for the next case of a table. */
static void fx_reset(struct fx *f)
{
	ew_config_free(&f->got);
	ew_config_init(&f->got);
	ew_config_free(&f->want);
	ew_config_init(&f->want);
	f->err[0] = '\0';
}

static int load(struct fx *f, const char *text)
{
	return ew_config_load_buffer(&f->got, NAME, text, strlen(text), f->err, sizeof(f->err));
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static char *read_text(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(fp);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 20) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* ---- field-by-field comparison: each mismatch names the field, expected vs got ---- */

static void eq_u(const char *ctx, const char *field, uint64_t want, uint64_t got)
{
	if (want != got)
		fail_msg("%s: %s: expected %llu, got %llu", ctx, field, (unsigned long long)want,
			 (unsigned long long)got);
}

static void eq_d(const char *ctx, const char *field, double want, double got)
{
	if (want != got)
		fail_msg("%s: %s: expected %g, got %g", ctx, field, want, got);
}

static void eq_s(const char *ctx, const char *field, const char *want, const char *got)
{
	if (!want || !got ? want != got : strcmp(want, got) != 0)
		fail_msg("%s: %s: expected %s%s%s, got %s%s%s", ctx, field, want ? "'" : "",
			 want ? want : "NULL", want ? "'" : "", got ? "'" : "", got ? got : "NULL",
			 got ? "'" : "");
}

static void eq_codes(const char *ctx, const char *field, const uint8_t *want, const uint8_t *got)
{
	for (int code = 0; code < 256; code++) {
		bool w = (want[code / 8] >> (code % 8)) & 1, g = (got[code / 8] >> (code % 8)) & 1;

		if (w != g)
			fail_msg("%s: %s: code %d expected %s, got %s", ctx, field, code,
				 w ? "in" : "out", g ? "in" : "out");
	}
}

#define EQ_U(f) eq_u(ctx, #f, (uint64_t)(w->f), (uint64_t)(g->f))
#define EQ_D(f) eq_d(ctx, #f, w->f, g->f)
#define EQ_S(f) eq_s(ctx, #f, w->f, g->f)

static void assert_rule_equal(const char *ctx, int r, const struct ew_rule_config *w,
			      const struct ew_rule_config *g)
{
	static const char *const names[] = {"exit_code_burst", "restart_rate",
					    "startup_failure_rate", "stable", "crash_loop"};
	char c[160];

	snprintf(c, sizeof(c), "%s: rule.%s", ctx, names[r]);
	ctx = c;
	EQ_U(enabled);
	EQ_U(scope);
	EQ_U(severity);
	EQ_U(count);
	EQ_U(window_ns);
	EQ_U(resolve_ns);
	eq_codes(ctx, "codes", w->codes, g->codes);
	EQ_D(fail_percent);
	EQ_D(resolve_success_percent);
	EQ_U(min_starts);
	EQ_U(uptime_ns);
}

static void assert_config_equal(const char *ctx, const struct ew_config *w,
				const struct ew_config *g)
{
	EQ_U(command);
	EQ_S(replay_path);
	EQ_S(config_path);
	EQ_U(verbosity);
	eq_s(ctx, "node", w->node, g->node);
	EQ_S(host_root);
	EQ_S(cgroup_root);
	EQ_S(proc_root);
	EQ_U(ringbuf_bytes);
	EQ_U(max_containers);
	EQ_U(capture_stderr);
	EQ_U(stderr_bytes);
	EQ_U(track_ready);
	EQ_U(track_oom);
	EQ_U(track_signals);
	EQ_U(scan_existing);
	EQ_U(read_meta);
	EQ_S(docker_root);
	EQ_S(containerd_root);
	EQ_S(crio_root);
	EQ_S(pods_log_root);
	EQ_S(containers_log_root);
	EQ_U(noutputs);
	for (uint32_t i = 0; i < w->noutputs; i++)
		EQ_S(outputs[i]);
	EQ_U(format_text);
	EQ_U(out.file_max_bytes);
	EQ_U(out.file_keep);
	EQ_U(out.queue_max_lines);
	EQ_U(out.spool_max_bytes);
	EQ_S(out.spool_dir);
	EQ_U(out.reconnect_min_ns);
	EQ_U(out.reconnect_max_ns);
	EQ_U(out.stdout_text);
	EQ_S(metrics_addr);
	EQ_U(metrics_container_labels);
	EQ_U(agent_interval_ns);
	EQ_U(sweep_interval_ns);
	EQ_S(state_file);
	EQ_U(checkpoint_interval_ns);
	EQ_S(record_path);
	EQ_U(drain_timeout_ns);
	for (int r = 0; r < EW_RULE__COUNT; r++)
		assert_rule_equal(ctx, r, &w->detect.rules[r], &g->detect.rules[r]);
	EQ_U(detect.startup_grace_ns);
	EQ_U(classes.killer_grace_ns);
	EQ_U(detect.max_identities);
	EQ_U(detect.idle_forget_ns);
	EQ_U(detect.tail_max);
	eq_codes(ctx, "classes.config_error_codes", w->classes.config_error_codes,
		 g->classes.config_error_codes);
	for (int code = 0; code < 256; code++) {
		char field[32];

		snprintf(field, sizeof(field), "classes.meanings[%d]", code);
		eq_s(ctx, field, w->classes.meanings[code], g->classes.meanings[code]);
	}
}

/* ---- good files: each family of keys, checked against the whole expected config ---- */

static void x_none(struct ew_config *c)
{
}

static void x_paths(struct ew_config *c)
{
	ew_strlcpy(c->node, "gke-pool-1-abcd", sizeof(c->node));
	c->host_root = "/host";
	c->cgroup_root = "/sys/fs/cgroup/unified";
	c->state_file = "/var/lib/exitwatch/state.json";
	c->record_path = "/var/tmp/events.ndjson";
	c->docker_root = "/data/docker";
	c->containerd_root = "/run/k3s/containerd/io.containerd.runtime.v2.task";
	c->crio_root = "/run/crio/overlay-containers";
	c->pods_log_root = "/logs/pods";
	c->out.spool_dir = "/spool";
	c->metrics_addr = "127.0.0.1:9090";
}

static void x_unset(struct ew_config *c)
{
	c->host_root = "";
	c->cgroup_root = NULL;
	c->state_file = NULL;
	c->metrics_addr = NULL;
	c->docker_root = NULL;
	c->node[0] = '\0';
}

static void x_sizes(struct ew_config *c)
{
	c->ringbuf_bytes = 1ULL << 30;
	c->out.spool_max_bytes = 0;
	c->out.file_max_bytes = 512ULL << 10;
}

static void x_sizes_min(struct ew_config *c)
{
	c->ringbuf_bytes = 8192;
	c->out.spool_max_bytes = 12345;
	c->out.file_max_bytes = 3ULL << 30;
}

static void x_uints(struct ew_config *c)
{
	c->max_containers = 16;
	c->out.queue_max_lines = 1;
	c->out.file_keep = 100;
	c->verbosity = 2;
	c->detect.max_identities = 4294967295u;
	c->detect.tail_max = 0;
}

static void x_uints_max(struct ew_config *c)
{
	c->max_containers = 1048576;
	c->out.file_keep = 1;
	c->detect.tail_max = 4096;
}

static void x_stderr_off(struct ew_config *c)
{
	c->stderr_bytes = 0;
	c->capture_stderr = false;
}

static void x_stderr_on(struct ew_config *c)
{
	c->stderr_bytes = 4096;
	c->capture_stderr = true;
}

static void x_bools_off(struct ew_config *c)
{
	c->track_ready = c->track_oom = c->track_signals = false;
	c->scan_existing = c->read_meta = false;
	c->metrics_container_labels = true;
}

static void x_durations(struct ew_config *c)
{
	c->agent_interval_ns = SEC(2 * 3600 + 30 * 60);
	c->sweep_interval_ns = 0;
	c->checkpoint_interval_ns = 250 * EW_NSEC_PER_MSEC;
	c->drain_timeout_ns = 0;
	c->detect.startup_grace_ns = SEC(90);
	c->detect.idle_forget_ns = SEC(86400);
}

static void x_format_text(struct ew_config *c)
{
	c->format_text = true;
}

static void x_outputs(struct ew_config *c)
{
	c->outputs[0] = "stdout";
	c->outputs[1] = "file:/var/log/exitwatch.ndjson";
	c->outputs[2] = "tcp://127.0.0.1:5170";
	c->noutputs = 3;
}

static void x_exit_codes(struct ew_config *c)
{
	memset(c->classes.config_error_codes, 0, sizeof(c->classes.config_error_codes));
	ew_class_set_config_error(&c->classes, 1, true);
	ew_class_set_config_error(&c->classes, 78, true);
	ew_class_set_config_error(&c->classes, 255, true);
	ew_class_set_config_error(&c->classes, 0, true);
}

static void x_killer_grace(struct ew_config *c)
{
	c->classes.killer_grace_ns = 90 * 1000000000ULL;
}

static void x_killer_grace_off(struct ew_config *c)
{
	c->classes.killer_grace_ns = 0;
}

static void x_exit_none(struct ew_config *c)
{
	memset(c->classes.config_error_codes, 0, sizeof(c->classes.config_error_codes));
}

static void x_meanings(struct ew_config *c)
{
	ew_strlcpy(c->classes.meanings[3], "settings.py missing", EW_MEANING_LEN);
	ew_strlcpy(c->classes.meanings[75], "temporary failure (EX_TEMPFAIL)", EW_MEANING_LEN);
	c->classes.meanings[1][0] = '\0';
	memset(c->classes.meanings[200], 'x', EW_MEANING_LEN - 1);
	c->classes.meanings[200][EW_MEANING_LEN - 1] = '\0';
}

static void x_burst(struct ew_config *c)
{
	struct ew_rule_config *r = &c->detect.rules[EW_RULE_EXIT_CODE_BURST];

	r->enabled = false;
	r->scope = EW_SCOPE_IDENTITY;
	r->severity = EW_SEV_EMERGENCY;
	r->count = 0;
	r->window_ns = SEC(60);
	r->resolve_ns = SEC(120);
	memset(r->codes, 0, sizeof(r->codes));
	ew_rule_set_code(r, 1);
	ew_rule_set_code(r, 3);
	ew_rule_set_code(r, 4);
}

static void x_burst_nocodes(struct ew_config *c)
{
	memset(c->detect.rules[EW_RULE_EXIT_CODE_BURST].codes, 0, 32);
}

static void x_rate(struct ew_config *c)
{
	struct ew_rule_config *r = &c->detect.rules[EW_RULE_RESTART_RATE];

	r->scope = EW_SCOPE_WORKLOAD;
	r->severity = EW_SEV_ERROR;
	r->count = 4294967295u;
	r->window_ns = SEC(1);
	r->resolve_ns = 0;
}

static void x_startup(struct ew_config *c)
{
	struct ew_rule_config *r = &c->detect.rules[EW_RULE_STARTUP_FAILURE_RATE];

	r->fail_percent = 12.5;
	r->resolve_success_percent = 100;
	r->min_starts = 0;
	r->severity = EW_SEV_DEFAULT;
	r->window_ns = SEC(30 * 60);
}

static void x_startup_frac(struct ew_config *c)
{
	c->detect.rules[EW_RULE_STARTUP_FAILURE_RATE].fail_percent = 0.5;
	c->detect.rules[EW_RULE_STARTUP_FAILURE_RATE].resolve_success_percent = 0;
}

static void x_stable(struct ew_config *c)
{
	c->detect.rules[EW_RULE_STABLE].uptime_ns = SEC(30 * 60);
	c->detect.rules[EW_RULE_STABLE].severity = EW_SEV_ALERT;
}

static void x_crash_loop(struct ew_config *c)
{
	c->detect.rules[EW_RULE_CRASH_LOOP].count = 5;
	c->detect.rules[EW_RULE_CRASH_LOOP].enabled = false;
	c->detect.rules[EW_RULE_CRASH_LOOP].severity = EW_SEV_WARNING;
	c->detect.rules[EW_RULE_CRASH_LOOP].resolve_ns = SEC(2 * 3600);
}

static void x_startup_resolve(struct ew_config *c)
{
	c->detect.rules[EW_RULE_STARTUP_FAILURE_RATE].resolve_ns = SEC(120);
}

static void x_last_wins(struct ew_config *c)
{
	c->detect.rules[EW_RULE_RESTART_RATE].count = 9;
	c->max_containers = 32;
}

static void x_quoted(struct ew_config *c)
{
	ew_strlcpy(c->node, "  spaced # not a comment  ", sizeof(c->node));
	c->host_root = "/h";
}

static const struct good_case {
	const char *name;
	const char *text;
	void (*expect)(struct ew_config *c);
} good[] = {
	{"empty file", "", x_none},
	{"comments and blank lines only", "# a\n; b\n\n   # indented\n\t\n", x_none},
	{"empty sections", "[agent]\n[exit]\n[meanings]\n[rule.stable]\n", x_none},
	{"paths and strings",
	 "[agent]\nnode = gke-pool-1-abcd\nhost_root = /host\n"
	 "cgroup_root = /sys/fs/cgroup/unified\nstate_file = /var/lib/exitwatch/state.json\n"
	 "record = /var/tmp/events.ndjson\ndocker_root = /data/docker\n"
	 "containerd_root = /run/k3s/containerd/io.containerd.runtime.v2.task\n"
	 "crio_root = /run/crio/overlay-containers\npods_log_root = /logs/pods\n"
	 "spool_dir = /spool\nmetrics_addr = 127.0.0.1:9090\n",
	 x_paths},
	{"empty values unset",
	 "[agent]\nnode = x\nnode =\nhost_root = /h\nhost_root =\ncgroup_root = /c\n"
	 "cgroup_root =\nstate_file = /s\nstate_file =\nmetrics_addr = :9100\nmetrics_addr =\n"
	 "docker_root = /d\ndocker_root = \"\"\n",
	 x_unset},
	{"sizes", "[agent]\nringbuf_size = 1G\nspool_max_bytes = 0\nfile_max_bytes = 512K\n",
	 x_sizes},
	{"sizes, bytes",
	 "[agent]\nringbuf_size = 8192\nspool_max_bytes = 12345\nfile_max_bytes=3G\n", x_sizes_min},
	{"unsigned ranges, low ends",
	 "[agent]\nmax_containers = 16\nqueue_max_lines = 1\nfile_keep = 100\nverbosity = 2\n"
	 "max_identities = 4294967295\ntail_bytes = 0\n",
	 x_uints},
	{"unsigned ranges, high ends",
	 "[agent]\nmax_containers = 1048576\nfile_keep = 1\ntail_bytes = 4096\n", x_uints_max},
	{"stderr_bytes 0 turns capture off", "[agent]\nstderr_bytes = 0\n", x_stderr_off},
	{"stderr_bytes > 0 turns it on", "[agent]\nstderr_bytes = 0\nstderr_bytes = 4096\n",
	 x_stderr_on},
	{"booleans, every spelling",
	 "[agent]\ntrack_ready = no\ntrack_oom = OFF\ntrack_signals = 0\nscan_existing = false\n"
	 "read_metadata = False\nmetrics_container_labels = no\nmetrics_container_labels = on\n"
	 "metrics_container_labels = 1\nmetrics_container_labels = YES\n"
	 "metrics_container_labels = true\n",
	 x_bools_off},
	{"durations",
	 "[agent]\nagent_interval = 2h30m\nsweep_interval = 0\ncheckpoint_interval = 250ms\n"
	 "drain_timeout = 0\n"
	 "startup_grace = 90\nidle_forget = 1d\n",
	 x_durations},
	{"format text", "[agent]\nformat = text\n", x_format_text},
	{"format json after text", "[agent]\nformat = text\nformat = json\n", x_none},
	{"outputs append in order",
	 "[agent]\noutput = stdout\noutput = file:/var/log/exitwatch.ndjson\n"
	 "output = tcp://127.0.0.1:5170\n",
	 x_outputs},
	{"config_error_codes replaces", "[exit]\nconfig_error_codes = 1, 78,255 ,0\n",
	 x_exit_codes},
	{"config_error_codes empty", "[exit]\nconfig_error_codes =\n", x_exit_none},
	{"killer_grace", "[exit]\nkiller_grace = 1m30s\n", x_killer_grace},
	{"killer_grace 0", "[exit]\nkiller_grace = 0\n", x_killer_grace_off},
	{"meanings",
	 "[meanings]\n3 = settings.py missing\n75 = temporary failure (EX_TEMPFAIL)\n1 =\n"
	 "200 = " X95 "\n",
	 x_meanings},
	{"rule.exit_code_burst",
	 "[rule.exit_code_burst]\nenabled = false\nscope = identity\nseverity = emergency\n"
	 "count = 0\nwindow = 1m\nresolve = 2m\ncodes = 4,1,3\n",
	 x_burst},
	{"rule.exit_code_burst empty codes", "[rule.exit_code_burst]\ncodes =\n", x_burst_nocodes},
	{"rule.restart_rate",
	 "[rule.restart_rate]\nscope = workload\nseverity = Error\ncount = 4294967295\n"
	 "window = 1s\nresolve = 0\n",
	 x_rate},
	{"rule.startup_failure_rate",
	 "[rule.startup_failure_rate]\nfail_percent = 12.5\nresolve_success_percent = 100\n"
	 "min_starts = 0\nseverity = DEFAULT\nwindow = 30m\n",
	 x_startup},
	{"percent forms",
	 "[rule.startup_failure_rate]\nfail_percent = .5\nresolve_success_percent = 0.\n",
	 x_startup_frac},
	{"rule.stable", "[rule.stable]\nuptime = 30m\nenabled = yes\nseverity = ALERT\n", x_stable},
	{"rule.crash_loop",
	 "[rule.crash_loop]\ncount = 5\nenabled = no\nseverity = WARNING\nresolve = 2h\n",
	 x_crash_loop},
	/* Accepted without effect, for the configs that set it (deploy/docker/demo.conf). */
	{"rule.startup_failure_rate resolve", "[rule.startup_failure_rate]\nresolve = 2m\n",
	 x_startup_resolve},
	{"last wins, reopened sections",
	 "[rule.restart_rate]\ncount = 4\n[agent]\nmax_containers = 32\n[rule.restart_rate]\n"
	 "count = 9\n",
	 x_last_wins},
	{"quotes and trailing comments",
	 "[agent]   # the agent\nnode = \"  spaced # not a comment  \"  # trailing\n"
	 "host_root = \"/h\"\n",
	 x_quoted},
	{"CRLF line ends", "[agent]\r\nnode = \"  spaced # not a comment  \"\r\nhost_root = /h\r\n",
	 x_quoted},
	{"BOM, no final newline",
	 "\xef\xbb\xbf[agent]\nnode = \"  spaced # not a comment  \"\n"
	 "host_root = /h",
	 x_quoted},
	{"whitespace around everything",
	 "  [ agent ]  \n\t host_root\t=\t/h \t\n"
	 "node=\"  spaced # not a comment  \"\n",
	 x_quoted},
};

static void test_good_table(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		int r;

		fx_reset(f);
		r = ew_config_load_buffer(&f->got, NAME, good[i].text, strlen(good[i].text), f->err,
					  sizeof(f->err));
		if (r != 0)
			fail_msg("%s: expected 0, got %d (%s)", good[i].name, r, f->err);
		assert_string_equal(f->err, "");
		good[i].expect(&f->want);
		assert_config_equal(good[i].name, &f->want, &f->got);
	}
}

/* ---- bad files: -EINVAL, "t.conf:LINE: " and the key (or section) named ---- */

static const struct bad_case {
	const char *text;
	unsigned line;
	const char *needle; /* the key or section the message must name */
} bad[] = {
	{"[foo]\n", 1, "unknown section [foo]"},
	{"[agent]\n[rule.nope]\n", 2, "unknown section [rule.nope]"},
	{"[Agent]\n", 1, "unknown section [Agent]"},
	{"[rule.]\n", 1, "unknown section [rule.]"},
	{"[]\n", 1, "unknown section []"},
	{"[agent\nnode = x\n", 1, "unterminated section header"},
	{"[agent] x\n", 1, "text after the section header"},
	{"node = x\n", 1, "node: key outside a section"},
	{"[agent]\nnod = x\n", 2, "[agent] nod: unknown key"},
	{"[agent]\nNode = x\n", 2, "Node: unknown key"},
	{"[exit]\ncodes = 3\n", 2, "[exit] codes: unknown key"},
	{"[rule.stable]\nuptme = 4h\n", 2, "uptme: unknown key"},
	{"[agent]\n\n# c\nnode x\n", 4, "expected 'key = value' (got 'node x')"},
	{"[agent]\n= 3\n", 2, "missing key before '='"},
	{"[agent]\nnode = \"abc\n", 2, "node: unterminated quote"},
	{"[agent]\nnode = \"abc\" x\n", 2, "node: text after the closing quote"},
	{"[agent]\nnode = \"abc\" ; x\n", 2, "node: text after the closing quote"},
	{"[agent] ; x\n", 1, "text after the section header"},
	{"[agent]\nagent_interval = 5 minutes\n", 2, "agent_interval: not a duration"},
	{"[agent]\nagent_interval = -3s\n", 2, "agent_interval: not a duration"},
	{"[agent]\nagent_interval =\n", 2, "agent_interval: not a duration"},
	{"[agent]\nagent_interval = 0\n", 2, "agent_interval: must be greater than 0"},
	{"[agent]\ncheckpoint_interval = 0s\n", 2, "checkpoint_interval: must be greater"},
	{"[agent]\nidle_forget = 0\n", 2, "[agent] idle_forget: must be greater than 0"},
	{"[agent]\nstartup_grace = 5x\n", 2, "startup_grace: not a duration"},
	{"[exit]\nkiller_grace = soon\n", 2, "killer_grace: not a duration"},
	{"[agent]\nkiller_grace = 30s\n", 2, "killer_grace: unknown key"},
	{"[rule.restart_rate]\nwindow = 0\n", 2, "[rule.restart_rate] window: must be greater"},
	{"[rule.restart_rate]\ncount = -1\n", 2, "count: not a non-negative integer"},
	{"[rule.restart_rate]\ncount = three\n", 2, "count: not a non-negative integer"},
	{"[rule.restart_rate]\ncount = +3\n", 2, "count: not a non-negative integer"},
	{"[rule.restart_rate]\ncount = 3.0\n", 2, "count: not a non-negative integer"},
	{"[rule.restart_rate]\ncount = 4294967296\n", 2, "count: must be between 0 and 4294967295"},
	{"[rule.restart_rate]\ncount = 99999999999999999999999\n", 2, "count: must be between"},
	{"[rule.restart_rate]\nseverity = SEVERE\n", 2, "severity: unknown severity"},
	{"[rule.restart_rate]\nseverity =\n", 2, "severity: unknown severity"},
	{"[rule.restart_rate]\nscope = pod\n", 2, "scope: must be identity or workload"},
	{"[rule.restart_rate]\nscope = Workload\n", 2, "scope: must be identity or workload"},
	{"[rule.restart_rate]\nenabled = maybe\n", 2, "enabled: not a boolean"},
	{"[rule.startup_failure_rate]\nfail_percent = 100.1\n", 2, "fail_percent: must be a"},
	{"[rule.startup_failure_rate]\nfail_percent = -1\n", 2, "fail_percent: must be a"},
	{"[rule.startup_failure_rate]\nfail_percent = 5%\n", 2, "fail_percent: must be a"},
	{"[rule.startup_failure_rate]\nfail_percent = nan\n", 2, "fail_percent: must be a"},
	{"[rule.startup_failure_rate]\nfail_percent = 1e1\n", 2, "fail_percent: must be a"},
	{"[rule.startup_failure_rate]\nfail_percent = .\n", 2, "fail_percent: must be a"},
	{"[rule.startup_failure_rate]\nresolve_success_percent = 101\n", 2,
	 "resolve_success_percent: must be a"},
	{"[rule.startup_failure_rate]\nmin_starts = x\n", 2, "min_starts: not a non-negative"},
	{"[rule.restart_rate]\ncodes = 3\n", 2,
	 "[rule.restart_rate] codes: only valid in [rule.exit_code_burst]"},
	{"[rule.exit_code_burst]\nuptime = 4h\n", 2, "uptime: only valid in [rule.stable]"},
	{"[rule.stable]\nmin_starts = 3\n", 2,
	 "min_starts: only valid in [rule.startup_failure_rate]"},
	{"[rule.restart_rate]\nfail_percent = 3\n", 2, "fail_percent: only valid in"},
	/* A key a rule does not use is not one of its keys (README, "Configuration"). */
	{"[rule.crash_loop]\nwindow = 5m\n", 2,
	 "[rule.crash_loop] window: not a key of this rule (it takes enabled, severity, count, "
	 "resolve)"},
	{"[rule.crash_loop]\nscope = workload\n", 2, "[rule.crash_loop] scope: not a key of"},
	{"[rule.stable]\nscope = workload\n", 2,
	 "[rule.stable] scope: not a key of this rule (it takes enabled, severity, uptime)"},
	{"[rule.stable]\nscope = identity\n", 2, "[rule.stable] scope: not a key of"},
	{"[rule.stable]\nwindow = 1h\n", 2, "[rule.stable] window: not a key of"},
	{"[rule.stable]\ncount = 1\n", 2, "[rule.stable] count: not a key of"},
	{"[rule.stable]\nresolve = 1h\n", 2, "[rule.stable] resolve: not a key of"},
	{"[rule.startup_failure_rate]\ncount = 3\n", 2,
	 "[rule.startup_failure_rate] count: not a key of this rule (it takes enabled, scope, "
	 "severity, window, resolve, fail_percent, resolve_success_percent, min_starts)"},
	{"[rule.exit_code_burst]\ncodes = 3,,4\n", 2, "codes: not a list of exit codes"},
	{"[rule.exit_code_burst]\ncodes = 3,\n", 2, "codes: not a list of exit codes"},
	{"[rule.exit_code_burst]\ncodes = ,3\n", 2, "codes: not a list of exit codes"},
	{"[rule.exit_code_burst]\ncodes = 256\n", 2, "codes: not a list of exit codes"},
	{"[rule.exit_code_burst]\ncodes = 3 4\n", 2, "codes: not a list of exit codes"},
	{"[rule.exit_code_burst]\ncodes = -1\n", 2, "codes: not a list of exit codes"},
	{"[exit]\nconfig_error_codes = 3;4\n", 2, "config_error_codes: not a list"},
	{"[meanings]\nabc = x\n", 2, "[meanings] abc: not an exit code"},
	{"[meanings]\n256 = x\n", 2, "[meanings] 256: not an exit code"},
	{"[meanings]\n-1 = x\n", 2, "[meanings] -1: not an exit code"},
	{"[meanings]\n3 = " X95 "x\n", 2, "[meanings] 3: longer than 95 bytes"},
	{"[agent]\nringbuf_size = 3000\n", 2, "ringbuf_size: must be a power of two between"},
	{"[agent]\nringbuf_size = 5000\n", 2, "ringbuf_size: must be a power of two"},
	{"[agent]\nringbuf_size = 2G\n", 2, "ringbuf_size: must be a power of two"},
	{"[agent]\nringbuf_size = 4MB\n", 2, "ringbuf_size: not a size"},
	{"[agent]\nringbuf_size = 4 M\n", 2, "ringbuf_size: not a size"},
	{"[agent]\nringbuf_size = 4m\n", 2, "ringbuf_size: not a size"},
	{"[agent]\nspool_max_bytes = 99999999999G\n", 2, "spool_max_bytes: must be between"},
	{"[agent]\nmax_containers = 15\n", 2, "max_containers: must be between 16 and 1048576"},
	{"[agent]\nmax_containers = 1048577\n", 2, "max_containers: must be between"},
	{"[agent]\nstderr_bytes = 4097\n", 2, "stderr_bytes: must be between 0 and 4096"},
	{"[agent]\ntail_bytes = 5000\n", 2, "tail_bytes: must be between 0 and 4096"},
	{"[agent]\nfile_keep = 0\n", 2, "file_keep: must be between 1 and 100"},
	{"[agent]\nfile_keep = 101\n", 2, "file_keep: must be between 1 and 100"},
	{"[agent]\nqueue_max_lines = 0\n", 2, "queue_max_lines: must be between"},
	{"[agent]\nmax_identities = 0\n", 2, "max_identities: must be between"},
	{"[agent]\nverbosity = 3\n", 2, "verbosity: must be between 0 and 2"},
	{"[agent]\ntrack_oom = enable\n", 2, "track_oom: not a boolean"},
	{"[agent]\nformat = xml\n", 2, "format: must be json or text"},
	{"[agent]\nmetrics_addr = localhost\n", 2, "metrics_addr: expected [ADDR]:PORT"},
	{"[agent]\nmetrics_addr = :0\n", 2, "metrics_addr: expected"},
	{"[agent]\nmetrics_addr = :70000\n", 2, "metrics_addr: expected"},
	/* What the server would refuse at start-up (exit 1) is refused here (exit 2). */
	{"[agent]\nmetrics_addr = localhost:9100\n", 2, "metrics_addr: expected [ADDR]:PORT"},
	{"[agent]\nmetrics_addr = ::1:9100\n", 2, "metrics_addr: expected [ADDR]:PORT"},
	{"[agent]\nmetrics_addr = [::1]\n", 2, "metrics_addr: expected [ADDR]:PORT"},
	{"[agent]\nstate_file = var/lib/state\n", 2, "state_file: must be an absolute path"},
	{"[agent]\nhost_root = host\n", 2, "host_root: must be an absolute path"},
	{"[agent]\nspool_dir =\n", 2, "spool_dir: must be an absolute path"},
	{"[agent]\noutput =\n", 2, "output: must not be empty"},
	{"[agent]\n\xef\xbb\xbfnode = x\n", 2, "unknown key"},
	{"[agent]\nnode = a\x01z\n", 2, "control character in line"},
	{"[agent]\nnode = " X256 "\n", 2, "node: longer than 255 bytes"},
};

static void check_bad(const char *name, const struct bad_case *c, int r, const char *err)
{
	char prefix[256];

	snprintf(prefix, sizeof(prefix), "%s:%u: ", name, c->line);
	if (r != -EINVAL)
		fail_msg("'%s': expected -EINVAL, got %d", c->text, r);
	if (strncmp(err, prefix, strlen(prefix)))
		fail_msg("'%s': expected the prefix '%s', got '%s'", c->text, prefix, err);
	if (!strstr(err, c->needle))
		fail_msg("'%s': expected '%s' in '%s'", c->text, c->needle, err);
	if (strchr(err, '\n'))
		fail_msg("'%s': message spans lines: '%s'", c->text, err);
}

static void test_bad_table_buffer(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		fx_reset(f);
		check_bad(NAME, &bad[i], load(f, bad[i].text), f->err);
	}
}

/* The same table through real files: the prefix is the path as given. */
static void test_bad_table_file(void **state)
{
	struct fx *f = *state;
	char path[128];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int r;

		fx_reset(f);
		snprintf(path, sizeof(path), "%s/bad-%zu.conf", f->tmp.dir, i);
		write_file(path, bad[i].text, strlen(bad[i].text));
		r = ew_config_load_file(&f->got, path, f->err, sizeof(f->err));
		check_bad(path, &bad[i], r, f->err);
	}
}

/* Whole messages, where the shape itself is the contract. */
static void test_exact_messages(void **state)
{
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
		{"[foo]\n", NAME ":1: unknown section [foo]"},
		{"[agent]\nagent_interval = 5 minutes\n",
		 NAME ":2: [agent] agent_interval: not a duration (e.g. 250ms, 30s, 5m, 2h30m) "
		      "(got '5 minutes')"},
		{"# x\n[rule.restart_rate]\ncount = 4294967296\n",
		 NAME ":3: [rule.restart_rate] count: must be between 0 and 4294967295 "
		      "(got '4294967296')"},
		{"node = x\n", NAME ":1: node: key outside a section (add a [section] header above "
				    "it) (got 'x')"},
		{"[agent]\nnode = \"a # b\n",
		 NAME ":2: [agent] node: unterminated quote (got '\"a # b')"},
		{"[agent]\nnode = a\x1b[31mred\n",
		 NAME ":2: control character in line (got 'node = a?[31mred')"},
		/* echoes stop at 64 bytes, and never inside a UTF-8 sequence */
		{"[rule.stable]\nuptime = "
		 "0123456789012345678901234567890123456789012345678901234567"
		 "89abcdefgh\n",
		 NAME ":2: [rule.stable] uptime: not a duration (e.g. 250ms, 30s, 5m, 2h30m) (got "
		      "'012345678901234567890123456789012345678901234567890123456789abcd...')"},
		{"[agent]\nformat = "
		 "012345678901234567890123456789012345678901234567890123456789012\xc3\xa9"
		 "z\n",
		 NAME ":2: [agent] format: must be json or text (got "
		      "'012345678901234567890123456789012345678901234567890123456789012...')"},
		{"[\x07oops]\n", NAME ":1: control character in line (got '[?oops]')"},
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		fx_reset(f);
		assert_int_equal(load(f, cases[i].text), -EINVAL);
		assert_string_equal(f->err, cases[i].err);
	}
}

static void test_output_limit(void **state)
{
	struct fx *f = *state;
	char text[1024] = "[agent]\n";

	for (int i = 0; i < EW_MAX_SINKS; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "output = file:/o%d\n",
			 i);
	assert_int_equal(load(f, text), 0);
	assert_int_equal(f->got.noutputs, EW_MAX_SINKS);
	assert_string_equal(f->got.outputs[0], "file:/o0");
	assert_string_equal(f->got.outputs[EW_MAX_SINKS - 1], "file:/o7");

	fx_reset(f);
	strcat(text, "output = stdout\n");
	assert_int_equal(load(f, text), -EINVAL);
	assert_string_equal(f->err, NAME ":10: [agent] output: more than 8 outputs (got 'stdout')");
	assert_int_equal(f->got.noutputs, EW_MAX_SINKS);
}

/* Quoting and comment rules, value by value. */
static void test_values(void **state)
{
	static const struct {
		const char *line;
		const char *node;
	} cases[] = {
		{"node = a#b", "a#b"},
		{"node = a #b", "a"},
		{"node = a\t# b", "a"},
		{"node = #b", ""},
		{"node = a ;b", "a ;b"},
		{"node = \"\"", ""},
		{"node = \"a\\\"", "a\\"},
		{"node = say \"hi\"", "say \"hi\""},
		{"node = \"#\" # x", "#"},
		{"node = a = b", "a = b"},
		{"node = caf\xc3\xa9", "caf\xc3\xa9"},
	};
	struct fx *f = *state;
	char text[256];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		fx_reset(f);
		snprintf(text, sizeof(text), "[agent]\n%s\n", cases[i].line);
		if (load(f, text))
			fail_msg("'%s': %s", cases[i].line, f->err);
		assert_string_equal(f->got.node, cases[i].node);
	}
}

static void test_line_length(void **state)
{
	struct fx *f = *state;
	char *text = malloc(8192);

	assert_non_null(text);
	/* a 4096-byte line is fine, with or without a CR after it */
	memset(text, 'x', 8192);
	memcpy(text, "[agent]\n# ", 10);
	text[8 + 4096] = '\n';
	assert_int_equal(
		ew_config_load_buffer(&f->got, NAME, text, 8 + 4096 + 1, f->err, sizeof(f->err)),
		0);
	text[8 + 4096] = '\r';
	text[8 + 4097] = '\n';
	assert_int_equal(
		ew_config_load_buffer(&f->got, NAME, text, 8 + 4097 + 1, f->err, sizeof(f->err)),
		0);
	/* 4097 bytes is too long */
	text[8 + 4096] = 'x';
	assert_int_equal(
		ew_config_load_buffer(&f->got, NAME, text, 8 + 4097 + 1, f->err, sizeof(f->err)),
		-EINVAL);
	assert_non_null(strstr(f->err, NAME ":2: line longer than 4096 bytes"));
	/* a NUL inside the buffer */
	fx_reset(f);
	memcpy(text, "[agent]\nnode = a\0b\n", 19);
	assert_int_equal(ew_config_load_buffer(&f->got, NAME, text, 19, f->err, sizeof(f->err)),
			 -EINVAL);
	assert_string_equal(f->err, NAME ":2: NUL byte in line (got 'node = a')");
	free(text);
}

/* err may be absent or tiny: the return value alone still says what happened. */
static void test_err_buffer(void **state)
{
	struct fx *f = *state;
	char small[11];

	assert_int_equal(ew_config_load_buffer(&f->got, NAME, "[x]\n", 4, NULL, 0), -EINVAL);
	assert_int_equal(ew_config_load_buffer(&f->got, NAME, "[x]\n", 4, small, sizeof(small)),
			 -EINVAL);
	assert_string_equal(small, NAME ":1: ");
}

/* ---- deploy/exitwatch.conf ---- */

static void test_deploy_changes_nothing(void **state)
{
	struct fx *f = *state;
	int r = ew_config_load_file(&f->got, EW_DEPLOY_CONF, f->err, sizeof(f->err));

	if (r)
		fail_msg("%s: %d (%s)", EW_DEPLOY_CONF, r, f->err);
	assert_config_equal(EW_DEPLOY_CONF, &f->want, &f->got);
}

/* What NULL means for the paths and outputs: the config a file that spells it out gives. */
static void effective(struct ew_config *c)
{
	struct ew_meta_paths p = {
		.host_root = c->host_root,
		.docker_root = c->docker_root,
		.containerd_root = c->containerd_root,
		.crio_root = c->crio_root,
		.pods_log_root = c->pods_log_root,
		.containers_log_root = c->containers_log_root,
	};

	ew_meta_paths_default(&p);
	c->docker_root = p.docker_root;
	c->containerd_root = p.containerd_root;
	c->crio_root = p.crio_root;
	c->pods_log_root = p.pods_log_root;
	c->containers_log_root = p.containers_log_root;
	if (!c->noutputs)
		c->outputs[c->noutputs++] = "stdout";
}

/* "#key = value" lines (no space after '#') document a default: uncommented, they load. */
static char *uncomment_defaults(const char *text)
{
	char *out = malloc(strlen(text) + 1), *o = out;

	assert_non_null(out);
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);

		if (p[0] == '#' && ((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= '0' && p[1] <= '9'))) {
			p++;
			len--;
		}
		memcpy(o, p, len);
		o += len;
		p += len;
	}
	*o = '\0';
	return out;
}

static void test_deploy_documents_defaults(void **state)
{
	struct fx *f = *state;
	char *text = read_text(EW_DEPLOY_CONF);
	char *active = uncomment_defaults(text);
	int r;

	r = ew_config_load_buffer(&f->got, "uncommented " EW_DEPLOY_CONF, active, strlen(active),
				  f->err, sizeof(f->err));
	if (r)
		fail_msg("%d (%s)", r, f->err);
	effective(&f->want);
	effective(&f->got);
	assert_config_equal("uncommented " EW_DEPLOY_CONF, &f->want, &f->got);
	free(active);
	free(text);
}

/* The first "#key =" (a documented default) or "key =" line after text, or NULL. */
static char *find_key_line(char *text, const char *key)
{
	char want[128];
	char *a, *b;

	snprintf(want, sizeof(want), "\n#%s =", key);
	a = strstr(text, want);
	snprintf(want, sizeof(want), "\n%s =", key);
	b = strstr(text, want);
	return !a || (b && b < a) ? b : a;
}

/* Every key, in its section (the rule keys under the rules that use them). */
static void test_deploy_lists_every_key(void **state)
{
	static const char *const agent[] = {
		"node",
		"host_root",
		"cgroup_root",
		"proc_root",
		"ringbuf_size",
		"max_containers",
		"stderr_bytes",
		"track_ready",
		"track_oom",
		"track_signals",
		"scan_existing",
		"read_metadata",
		"agent_interval",
		"sweep_interval",
		"state_file",
		"checkpoint_interval",
		"record",
		"drain_timeout",
		"docker_root",
		"containerd_root",
		"crio_root",
		"pods_log_root",
		"containers_log_root",
		"output",
		"format",
		"metrics_addr",
		"metrics_container_labels",
		"spool_dir",
		"spool_max_bytes",
		"queue_max_lines",
		"file_max_bytes",
		"file_keep",
		"verbosity",
		"startup_grace",
		"max_identities",
		"idle_forget",
		"memory_budget",
		"tail_bytes",
	};
	static const struct {
		const char *section;
		const char *keys;
	} rules[] = {
		{"[rule.exit_code_burst]", "enabled scope severity count window resolve codes"},
		{"[rule.restart_rate]", "enabled scope severity count window resolve"},
		{"[rule.startup_failure_rate]",
		 "enabled scope severity window fail_percent resolve_success_percent min_starts"},
		{"[rule.stable]", "enabled severity uptime"},
		{"[rule.crash_loop]", "enabled severity count resolve"},
		{"[exit]", "config_error_codes killer_grace"},
	};
	char *text = read_text(EW_DEPLOY_CONF);
	char *sec_agent = strstr(text, "\n[agent]\n");

	(void)state;
	assert_non_null(sec_agent);
	for (size_t i = 0; i < ARRAY_SIZE(agent); i++) {
		char *hit;

		hit = find_key_line(sec_agent, agent[i]);
		if (!hit || hit > strstr(sec_agent, "\n[exit]\n"))
			fail_msg("[agent] %s is not documented", agent[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		char sec[64], keys[256], *save = NULL, *end;
		char *start;

		snprintf(sec, sizeof(sec), "\n%s\n", rules[i].section);
		start = strstr(text, sec);
		if (!start)
			fail_msg("%s is not documented", rules[i].section);
		end = strstr(start + 1, "\n[");
		ew_strlcpy(keys, rules[i].keys, sizeof(keys));
		for (char *k = strtok_r(keys, " ", &save); k; k = strtok_r(NULL, " ", &save)) {
			char *hit;

			hit = find_key_line(start, k);
			if (!hit || (end && hit > end))
				fail_msg("%s %s is not documented", rules[i].section, k);
		}
	}
	free(text);
}

/* ---- files that are not config files ---- */

static void test_file_errors(void **state)
{
	struct fx *f = *state;
	char path[128], want[256];
	char *big;

	snprintf(path, sizeof(path), "%s/absent.conf", f->tmp.dir);
	assert_int_equal(ew_config_load_file(&f->got, path, f->err, sizeof(f->err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(f->err, want);

	assert_int_equal(ew_config_load_file(&f->got, f->tmp.dir, f->err, sizeof(f->err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: not a regular file", f->tmp.dir);
	assert_string_equal(f->err, want);

	/* a FIFO must be refused, not waited on */
	snprintf(path, sizeof(path), "%s/fifo.conf", f->tmp.dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(ew_config_load_file(&f->got, path, f->err, sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, "not a regular file"));

	snprintf(path, sizeof(path), "%s/dir/x.conf", f->tmp.dir);
	assert_int_equal(ew_config_load_file(&f->got, path, f->err, sizeof(f->err)), -ENOENT);
	snprintf(path, sizeof(path), "%s/absent.conf/x", f->tmp.dir);
	assert_int_equal(ew_config_load_file(&f->got, path, f->err, sizeof(f->err)), -ENOENT);
	assert_int_equal(ew_config_load_file(&f->got, "", f->err, sizeof(f->err)), -EINVAL);

	/* 1 MiB is the limit: exactly that loads, one byte more does not */
	big = malloc((1 << 20) + 1);
	assert_non_null(big);
	memset(big, '#', (1 << 20) + 1);
	for (size_t i = 63; i < (1 << 20) + 1; i += 64)
		big[i] = '\n';
	snprintf(path, sizeof(path), "%s/big.conf", f->tmp.dir);
	write_file(path, big, 1 << 20);
	assert_int_equal(ew_config_load_file(&f->got, path, f->err, sizeof(f->err)), 0);
	write_file(path, big, (1 << 20) + 1);
	assert_int_equal(ew_config_load_file(&f->got, path, f->err, sizeof(f->err)), -EFBIG);
	snprintf(want, sizeof(want), "%s: larger than 1 MiB", path);
	assert_string_equal(f->err, want);
	free(big);
}

/* Through a symlink (as a Kubernetes ConfigMap mounts it), with a BOM and a value. */
static void test_file_good(void **state)
{
	struct fx *f = *state;
	static const char text[] = "\xef\xbb\xbf# exitwatch\n[agent]\nmax_containers = 64\n"
				   "output = unix:/run/x.sock\n";
	char path[128], link[128];

	snprintf(path, sizeof(path), "%s/real.conf", f->tmp.dir);
	snprintf(link, sizeof(link), "%s/link.conf", f->tmp.dir);
	write_file(path, text, sizeof(text) - 1);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(ew_config_load_file(&f->got, link, f->err, sizeof(f->err)), 0);
	assert_string_equal(f->err, "");
	f->want.max_containers = 64;
	f->want.outputs[0] = "unix:/run/x.sock";
	f->want.noutputs = 1;
	assert_config_equal(link, &f->want, &f->got);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_good_table),
		T(test_bad_table_buffer),
		T(test_bad_table_file),
		T(test_exact_messages),
		T(test_output_limit),
		T(test_values),
		T(test_line_length),
		T(test_err_buffer),
		T(test_deploy_changes_nothing),
		T(test_deploy_documents_defaults),
		T(test_deploy_lists_every_key),
		T(test_file_errors),
		T(test_file_good),
	};

	return cmocka_run_group_tests_name("config_file", tests, NULL, NULL);
}
