// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cli/args.c: ew_config_parse() over argv as the binary gets it, the config file it names
 * included: what the flags make of the configuration, in which order they override the file,
 * and, for every mistake, the return value and the one sentence on stderr.
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
#include <unistd.h>

#include <cmocka.h>

#include "exitwatch/cli/args.h"
#include "exitwatch/cli/config.h"
#include "exitwatch/util/clock.h"
#include "exitwatch/util/util.h"
#include "harness/unit.h"

#define MAX_ARGS 32
#define X10	 "xxxxxxxxxx"
#define X50	 X10 X10 X10 X10 X10
#define NODE256	 X50 X50 X50 X50 X50 "xxxxxx" /* one byte over a node name */

struct fx {
	struct ew_config cfg;
	struct ew_t_scratch tmp; /* config files a case writes */
	char err[4096];		 /* what the last parse printed on stderr */
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	ew_config_init(&f->cfg);
	if (ew_t_scratch_make(&f->tmp, "args-test") < 0) {
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

	ew_config_free(&f->cfg);
	free(f);
	return r < 0 ? -1 : 0;
}

/*
 * ew_config_parse() over a fresh config and { "exitwatch", args..., NULL }, with what it prints
 * on stderr in f->err (stdout is left alone). Returns what it returns.
 */
static int parse(struct fx *f, const char *const *args)
{
	char *argv[MAX_ARGS + 2] = {"exitwatch"};
	char path[128];
	int argc = 1, fd, saved, r;
	ssize_t n;

	for (; args[argc - 1]; argc++) {
		assert_true(argc <= MAX_ARGS);
		argv[argc] = (char *)args[argc - 1]; /* getopt moves pointers, never the strings */
	}
	ew_config_free(&f->cfg);
	ew_config_init(&f->cfg);
	snprintf(path, sizeof(path), "%s/stderr", f->tmp.dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	r = ew_config_parse(&f->cfg, argc, argv);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	n = pread(fd, f->err, sizeof(f->err) - 1, 0);
	assert_true(n >= 0);
	f->err[n] = '\0';
	close(fd);
	return r;
}

#define PARSE(f, ...) parse(f, (const char *const[]){__VA_ARGS__, NULL})

/* <scratch>/<name> holding text; returns the path (in buf). */
static const char *conf(struct fx *f, const char *name, const char *text, char *buf, size_t len)
{
	FILE *fp;

	ew_t_scratch_path(&f->tmp, name, buf, len);
	fp = fopen(buf, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

static void expect_outputs(const char *ctx, const struct ew_config *c, const char *const *want)
{
	uint32_t n = 0;

	while (want[n])
		n++;
	if (c->noutputs != n)
		fail_msg("%s: expected %u outputs, got %u", ctx, n, c->noutputs);
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(c->outputs[i], want[i]))
			fail_msg("%s: output %u: expected '%s', got '%s'", ctx, i, want[i],
				 c->outputs[i]);
}

#define OUTPUTS(...) ((const char *const[]){__VA_ARGS__, NULL})

/*
 * -o replaces the config file's outputs, and only those: outputs given on the command line,
 * by --set agent.output or by -o, all stay, in the order given.
 */
static void test_outputs_order(void **state)
{
	struct fx *f = *state;
	char path[128];

	conf(f, "outputs.conf", "[agent]\noutput = file:/f1\noutput = stdout\n", path,
	     sizeof(path));
	assert_int_equal(PARSE(f, "-c", path), 1);
	expect_outputs("the file's", &f->cfg, OUTPUTS("file:/f1", "stdout"));
	assert_int_equal(PARSE(f, "-c", path, "--set", "agent.output=file:/a"), 1);
	expect_outputs("--set adds to the file's", &f->cfg,
		       OUTPUTS("file:/f1", "stdout", "file:/a"));
	assert_int_equal(PARSE(f, "-c", path, "--set", "agent.output=file:/a", "-o", "file:/b"), 1);
	expect_outputs("--set, then -o", &f->cfg, OUTPUTS("file:/a", "file:/b"));
	assert_int_equal(PARSE(f, "-c", path, "-o", "file:/b", "--set", "agent.output=file:/a"), 1);
	expect_outputs("-o, then --set", &f->cfg, OUTPUTS("file:/b", "file:/a"));
	assert_int_equal(PARSE(f, "-c", "/dev/null", "--set", "agent.output=file:/a", "-o",
			       "file:/b", "--output", "stdout", "--set", "agent.output=unix:/d"),
			 1);
	expect_outputs("mixed, no file", &f->cfg,
		       OUTPUTS("file:/a", "file:/b", "stdout", "unix:/d"));
	assert_string_equal(f->err, "");
}

/* The file's outputs do not count against the limit once -o replaces them; the flags' do. */
static void test_outputs_limit(void **state)
{
	struct fx *f = *state;
	char path[128];

	conf(f, "eight.conf",
	     "[agent]\noutput = file:/1\noutput = file:/2\noutput = file:/3\noutput = file:/4\n"
	     "output = file:/5\noutput = file:/6\noutput = file:/7\noutput = file:/8\n",
	     path, sizeof(path));
	assert_int_equal(PARSE(f, "-c", path, "-o", "stdout"), 1);
	expect_outputs("-o over eight", &f->cfg, OUTPUTS("stdout"));
	assert_int_equal(PARSE(f, "-c", path, "--set", "agent.output=file:/a", "-o", "stdout"), 1);
	expect_outputs("--set and -o over eight", &f->cfg, OUTPUTS("file:/a", "stdout"));
	assert_int_equal(PARSE(f, "-c", path, "--set", "agent.output=stdout"), -EINVAL);
	assert_non_null(strstr(f->err, "more than 8 outputs"));
	assert_int_equal(PARSE(f, "-c", "/dev/null", "-o", "file:/1", "-o", "file:/2", "-o",
			       "file:/3", "-o", "file:/4", "-o", "file:/5", "-o", "file:/6", "-o",
			       "file:/7", "--set", "agent.output=file:/8", "-o", "stdout"),
			 -EINVAL);
	assert_string_equal(
		f->err,
		"exitwatch: --output: [agent] output: more than 8 outputs (got 'stdout')\n");
	assert_int_equal(PARSE(f, "-c", "/dev/null", "-o", ""), -EINVAL);
	assert_string_equal(f->err, "exitwatch: --output: [agent] output: must not be empty "
				    "(stdout, file:PATH, tcp://HOST:PORT, unix:PATH) (got '')\n");
}

/*
 * idle_forget forgets an identity (and with the last one its workload's windows) idle that
 * long: shorter than a rule's window, the rule could never count what the window spans. The
 * longest window of an enabled rule is its floor.
 */
static void test_idle_forget(void **state)
{
	struct fx *f = *state;

	assert_int_equal(PARSE(f, "-c", "/dev/null", "--set", "agent.idle_forget=0"), -EINVAL);
	assert_non_null(strstr(f->err, "[agent] idle_forget: must be greater than 0"));
	assert_int_equal(PARSE(f, "-c", "/dev/null", "--set", "agent.idle_forget=59m"), -EINVAL);
	assert_string_equal(f->err,
			    "exitwatch: [agent] idle_forget: 59m is shorter than "
			    "[rule.restart_rate] window 1h: an identity idle that long is "
			    "forgotten, and the rule could not count its events (make "
			    "idle_forget at least the longest window of an enabled rule)\n");
	assert_int_equal(PARSE(f, "-c", "/dev/null", "--set", "agent.idle_forget=1h"), 1);
	assert_int_equal(f->cfg.detect.idle_forget_ns, 3600 * EW_NSEC_PER_SEC);
	/* A rule's window beyond the default 24h needs idle_forget raised with it. */
	assert_int_equal(PARSE(f, "-c", "/dev/null", "--rule", "startup_failure_rate.window=25h"),
			 -EINVAL);
	assert_non_null(strstr(f->err, "idle_forget: 1d0h is shorter than "
				       "[rule.startup_failure_rate] window 1d1h"));
	assert_int_equal(PARSE(f, "-c", "/dev/null", "--rule", "startup_failure_rate.window=25h",
			       "--set", "agent.idle_forget=25h"),
			 1);
	/* Only enabled rules count: without the hour-long ones, exit_code_burst's 5m is it. */
	assert_int_equal(PARSE(f, "-c", "/dev/null", "--rule", "restart_rate.enabled=false",
			       "--rule", "startup_failure_rate.enabled=false", "--set",
			       "agent.idle_forget=5m"),
			 1);
	assert_int_equal(PARSE(f, "-c", "/dev/null", "--rule", "restart_rate.enabled=false",
			       "--rule", "startup_failure_rate.enabled=false", "--set",
			       "agent.idle_forget=4m"),
			 -EINVAL);
	assert_non_null(strstr(f->err, "[rule.exit_code_burst] window 5m"));
}

/*
 * A flag's mistake is the key's, named after the flag as given, with no line number: the
 * flags are no file (they were "--stderr-bytes:2:", a line of a buffer made up to parse them).
 */
static void test_flag_messages(void **state)
{
	static const struct {
		const char *args[4];
		const char *err;
	} cases[] = {
		{{"--stderr-bytes", "9999"},
		 "exitwatch: --stderr-bytes: [agent] stderr_bytes: must be between 0 and 4096 (got "
		 "'9999')\n"},
		{{"--startup-grace", "soon"},
		 "exitwatch: --startup-grace: [agent] startup_grace: not a duration (e.g. 250ms, "
		 "30s, "
		 "5m, 2h30m) (got 'soon')\n"},
		{{"--killer-grace", "-1s"},
		 "exitwatch: --killer-grace: [exit] killer_grace: not a duration (e.g. 250ms, 30s, "
		 "5m, 2h30m) (got '-1s')\n"},
		{{"--set", "agent.nod=x"},
		 "exitwatch: --set: [agent] nod: unknown key (got 'x')\n"},
		{{"--set", "agents.node=x"}, "exitwatch: --set: unknown section [agents]\n"},
		{{"--rule", "nope.count=1"}, "exitwatch: --rule: unknown section [rule.nope]\n"},
		{{"--rule", "restart_rate.count=-1"},
		 "exitwatch: --rule: [rule.restart_rate] count: not a non-negative integer (got "
		 "'-1')\n"},
		{{"--set", "agent.node=a\x1b[31m"},
		 "exitwatch: --set: [agent] node: control character in value (got 'a?[31m')\n"},
		{{"--set", "agent.node"},
		 "exitwatch: --set 'agent.node': expected SECTION.KEY=VALUE\n"},
		{{"--rule", "count=3"}, "exitwatch: --rule 'count=3': expected RULE.KEY=VALUE\n"},
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(PARSE(f, "-c", "/dev/null", cases[i].args[0], cases[i].args[1]),
				 -EINVAL);
		assert_string_equal(f->err, cases[i].err);
	}
	/* The value is taken as it is, as the config file takes a quoted one. */
	assert_int_equal(PARSE(f, "-c", "/dev/null", "--set", "agent.node= say \"hi\" # x"), 1);
	assert_string_equal(f->cfg.node, " say \"hi\" # x");
}

/* The flags that stand for a key get the key's checks (they were assigned unchecked). */
static void test_flags_are_keys(void **state)
{
	static const struct {
		const char *flag, *value, *err;
	} bad[] = {
		{"--node", NODE256,
		 "exitwatch: --node: [agent] node: longer than 255 bytes (got '"},
		{"--host-root", "rel",
		 "exitwatch: --host-root: [agent] host_root: must be an absolute path (got "
		 "'rel')\n"},
		{"--cgroup-root", "sys/fs/cgroup",
		 "exitwatch: --cgroup-root: [agent] cgroup_root: must be an absolute path (got "
		 "'sys/fs/cgroup')\n"},
		{"--proc-root", "proc",
		 "exitwatch: --proc-root: [agent] proc_root: must be an absolute path (got "
		 "'proc')\n"},
		{"--state-file", "rel",
		 "exitwatch: --state-file: [agent] state_file: must be an absolute path (got "
		 "'rel')\n"},
		{"--record", "events.ndjson",
		 "exitwatch: --record: [agent] record: must be an absolute path (got "
		 "'events.ndjson')\n"},
		{"--metrics-addr", "foo",
		 "exitwatch: --metrics-addr: [agent] metrics_addr: expected [ADDR]:PORT with a "
		 "numeric address, e.g. :9100, 127.0.0.1:9100 or [::1]:9100 (got 'foo')\n"},
		{"--metrics-addr", "localhost:9100",
		 "exitwatch: --metrics-addr: [agent] metrics_addr: expected [ADDR]:PORT"},
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = PARSE(f, "-c", "/dev/null", bad[i].flag, bad[i].value);

		if (r != -EINVAL)
			fail_msg("%s '%.20s': expected -EINVAL, got %d", bad[i].flag, bad[i].value,
				 r);
		if (strncmp(f->err, bad[i].err, strlen(bad[i].err)))
			fail_msg("%s: expected '%s', got '%s'", bad[i].flag, bad[i].err, f->err);
	}
	/* What each sets, and their empty values: as the keys' ("" host root; unset others). */
	assert_int_equal(PARSE(f, "-c", "/dev/null", "--node", NODE256 + 1, "--host-root", "/host",
			       "--cgroup-root", "/cg", "--proc-root", "/p", "--state-file",
			       "/s.json", "--record", "/r.ndjson", "--metrics-addr", "[::1]:9100"),
			 1);
	assert_string_equal(f->cfg.node, NODE256 + 1);
	assert_string_equal(f->cfg.host_root, "/host");
	assert_string_equal(f->cfg.cgroup_root, "/cg");
	assert_string_equal(f->cfg.proc_root, "/p");
	assert_string_equal(f->cfg.state_file, "/s.json");
	assert_string_equal(f->cfg.record_path, "/r.ndjson");
	assert_string_equal(f->cfg.metrics_addr, "[::1]:9100");
	assert_int_equal(PARSE(f, "-c", "/dev/null", "--host-root", "", "--state-file", "",
			       "--metrics-addr", ""),
			 1);
	assert_string_equal(f->cfg.host_root, "");
	assert_string_equal(f->cfg.proc_root, "/proc");
	assert_null(f->cfg.state_file);
	assert_null(f->cfg.metrics_addr);
	/* The switches: what their keys give. */
	assert_int_equal(PARSE(f, "-c", "/dev/null", "--no-stderr", "--no-metadata", "--no-scan"),
			 1);
	assert_false(f->cfg.capture_stderr);
	assert_int_equal(f->cfg.stderr_bytes, 0);
	assert_false(f->cfg.read_meta);
	assert_false(f->cfg.scan_existing);
	assert_int_equal(PARSE(f, "-c", "/dev/null", "--stderr-kernel"), 1);
	assert_true(f->cfg.stderr_kernel);
}

/* An option that cannot apply is a mistake, not something to ignore. */
static void test_options_that_do_not_apply(void **state)
{
	struct fx *f = *state;

	assert_int_equal(PARSE(f, "-c", "/dev/null", "--speed", "2"), -EINVAL);
	assert_string_equal(f->err, "exitwatch: --speed applies to `exitwatch replay` only\n");
	assert_int_equal(PARSE(f, "replay", "-c", "/dev/null", "--speed", "2", "rec.ndjson"), 1);
	assert_true(f->cfg.replay_speed == 2.0);
	assert_string_equal(f->cfg.replay_path, "rec.ndjson");

	/* The kernel capture of nothing: with --no-stderr, or a stderr_bytes of 0, in any order. */
	static const char *const want =
		"exitwatch: [agent] stderr_kernel: true needs stderr_bytes above 0 "
		"(--stderr-kernel "
		"with --no-stderr or stderr_bytes = 0): the kernel capture would keep nothing\n";
	assert_int_equal(PARSE(f, "-c", "/dev/null", "--stderr-kernel", "--no-stderr"), -EINVAL);
	assert_string_equal(f->err, want);
	assert_int_equal(PARSE(f, "-c", "/dev/null", "--no-stderr", "--stderr-kernel"), -EINVAL);
	assert_string_equal(f->err, want);
	assert_int_equal(PARSE(f, "-c", "/dev/null", "--stderr-bytes", "0", "--set",
			       "agent.stderr_kernel=yes"),
			 -EINVAL);
	assert_string_equal(f->err, want);
	assert_int_equal(PARSE(f, "-c", "/dev/null", "--no-stderr"), 1);
	assert_int_equal(PARSE(f, "-c", "/dev/null", "--stderr-kernel", "--stderr-bytes", "16"), 1);
}

/* The synopsis: exitwatch replay [OPTION]... RECORDING. What stands where, and what is said. */
static void test_replay_operands(void **state)
{
	static const struct {
		const char *args[8];
		const char *err; /* NULL: parses, the recording is path */
		const char *path;
	} cases[] = {
		{{"replay", "-c", "/dev/null", "rec", "--speed", "10"},
		 "exitwatch: options go before RECORDING (got '--speed')\n",
		 NULL},
		{{"replay", "-c", "/dev/null", "rec", "-v"},
		 "exitwatch: options go before RECORDING (got '-v')\n",
		 NULL},
		{{"replay", "-c", "/dev/null"},
		 "exitwatch: replay needs a RECORDING (exitwatch replay [OPTION]... RECORDING)\n",
		 NULL},
		{{"replay", "-c", "/dev/null", "a", "b"},
		 "exitwatch: unexpected argument 'b' after RECORDING 'a'\n",
		 NULL},
		{{"replay", "-c", "/dev/null", "--", "a", "--speed"},
		 "exitwatch: unexpected argument '--speed' after RECORDING 'a'\n",
		 NULL},
		{{"replay", "-c", "/dev/null", "--", "-rec"}, NULL, "-rec"},
		{{"replay", "--speed", "10", "-c", "/dev/null", "rec"}, NULL, "rec"},
		{{"-c", "/dev/null", "foo"},
		 "exitwatch: unexpected argument 'foo' (try --help)\n",
		 NULL},
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int r = parse(f, cases[i].args);

		if (cases[i].err) {
			assert_int_equal(r, -EINVAL);
			assert_string_equal(f->err, cases[i].err);
		} else {
			assert_int_equal(r, 1);
			assert_string_equal(f->cfg.replay_path, cases[i].path);
		}
	}
}

/* Every option mistake names the option as written, and what is wrong with it. */
static void test_option_messages(void **state)
{
	static const struct {
		const char *args[4];
		const char *err; /* the line before "Try 'exitwatch --help'." */
	} cases[] = {
		{{"--help=x"}, "exitwatch: option '--help' takes no value (got '--help=x')"},
		{{"--verbose=3"},
		 "exitwatch: option '--verbose' takes no value (got '--verbose=3')"},
		{{"--version=1"},
		 "exitwatch: option '--version' takes no value (got '--version=1')"},
		{{"--verb=2"}, "exitwatch: option '--verb' takes no value (got '--verb=2')"},
		{{"--no-scan=yes"},
		 "exitwatch: option '--no-scan' takes no value (got '--no-scan=yes')"},
		{{"--no"},
		 "exitwatch: option '--no' is ambiguous (--node, --no-stderr, --no-metadata, "
		 "--no-scan)"},
		{{"--stderr=1"},
		 "exitwatch: option '--stderr' is ambiguous (--stderr-bytes, --stderr-kernel)"},
		{{"--config"}, "exitwatch: option '--config' needs a value"},
		{{"--output"}, "exitwatch: option '--output' needs a value"},
		{{"--conf"},
		 "exitwatch: option '--conf' is ambiguous (--config, --config-error-codes)"},
		{{"--cgroup-sub"}, "exitwatch: option '--cgroup-sub' needs a value"},
		{{"--node"}, "exitwatch: option '--node' needs a value"},
		{{"-c"}, "exitwatch: option '-c' needs a value"},
		{{"-vo"}, "exitwatch: option '-o' needs a value"},
		{{"--foo"}, "exitwatch: unknown option '--foo'"},
		{{"--foo=1"}, "exitwatch: unknown option '--foo=1'"},
		{{"-x"}, "exitwatch: unknown option '-x'"},
		{{"-vx", "-c", "/dev/null"}, "exitwatch: unknown option '-x'"},
	};
	struct fx *f = *state;
	char want[256];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(parse(f, cases[i].args), -EINVAL);
		snprintf(want, sizeof(want), "%s\nTry 'exitwatch --help'.\n", cases[i].err);
		assert_string_equal(f->err, want);
	}
	/* An unambiguous prefix is the option. */
	assert_int_equal(PARSE(f, "-c", "/dev/null", "--nod", "n1", "--no-sc"), 1);
	assert_string_equal(f->cfg.node, "n1");
	assert_false(f->cfg.scan_existing);
}

/*
 * Values wrong only together with another (ew_config_validate()) are named by section and key
 * like any other, without a file or a line: either value may have come from a flag.
 */
static void test_cross_field_messages(void **state)
{
	static const struct {
		const char *args[6];
		const char *err;
	} cases[] = {
		{{"--rule", "crash_loop.count=0"},
		 "exitwatch: [rule.crash_loop] count: must be at least 1 (failed starts in a row) "
		 "(got '0')\n"},
		{{"--rule", "exit_code_burst.resolve=0"},
		 "exitwatch: [rule.exit_code_burst] resolve: must be longer than 0 (got '0')\n"},
		{{"--rule", "restart_rate.resolve=0s"},
		 "exitwatch: [rule.restart_rate] resolve: must be longer than 0 (got '0')\n"},
		{{"--rule", "stable.uptime=0"},
		 "exitwatch: [rule.stable] uptime: must be longer than 0 (got '0')\n"},
		{{"--rule", "startup_failure_rate.fail_percent=15", "--rule",
		  "startup_failure_rate.resolve_success_percent=80"},
		 "exitwatch: [rule.startup_failure_rate] resolve_success_percent: 80.0 would "
		 "resolve "
		 "while the failure rate still exceeds fail_percent 15.0 (it would flap)\n"},
	};
	struct fx *f = *state;
	char path[128];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *args[10] = {"-c", "/dev/null"};

		for (size_t j = 0; cases[i].args[j]; j++)
			args[2 + j] = cases[i].args[j];
		assert_int_equal(parse(f, args), -EINVAL);
		assert_string_equal(f->err, cases[i].err);
	}
	/* From a file, the same words. */
	conf(f, "flap.conf",
	     "[rule.startup_failure_rate]\nfail_percent = 15\nresolve_success_percent = 80\n", path,
	     sizeof(path));
	assert_int_equal(PARSE(f, "-c", path), -EINVAL);
	assert_string_equal(f->err, cases[ARRAY_SIZE(cases) - 1].err);
	/* A rule that is off is not checked: its values do nothing. */
	assert_int_equal(PARSE(f, "-c", "/dev/null", "--rule", "crash_loop.count=0", "--rule",
			       "crash_loop.enabled=false"),
			 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_outputs_order),	 T(test_outputs_limit),	  T(test_idle_forget),
		T(test_flag_messages),	 T(test_flags_are_keys),  T(test_options_that_do_not_apply),
		T(test_replay_operands), T(test_option_messages), T(test_cross_field_messages),
	};

	return cmocka_run_group_tests_name("args", tests, NULL, NULL);
}
