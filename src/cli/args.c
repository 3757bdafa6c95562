// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The command line. The config file it names is read first (config_file.c), then the flags;
 * every flag that stands for a key, --rule and --set set it through the config file's key
 * table, so a key means the same thing, with the same checks, whichever way it is given.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitwatch/cli/args.h"
#include "exitwatch/cli/config.h"
#include "exitwatch/cli/config_file.h"
#include "exitwatch/util/clock.h"
#include "exitwatch/util/log.h"
#include "exitwatch/util/util.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: exitwatch [OPTION]...\n"
		"       exitwatch replay [OPTION]... RECORDING\n"
		"\n"
		"Trace every container's main process start and exit with eBPF, detect restart\n"
		"loops, and print one JSON object per line on stdout. Needs root (or CAP_BPF and\n"
		"CAP_PERFMON) and a 5.10+ kernel with BTF.\n"
		"\n"
		"  -c, --config PATH        config file (default " EW_DEFAULT_CONFIG
		"; absent is fine)\n"
		"  -o, --output SPEC        stdout, file:PATH, tcp://HOST:PORT or unix:PATH;\n"
		"                           repeatable (default stdout); replaces the config\n"
		"                           file's outputs, not --set's. Filters after ';':\n"
		"                           events=TYPE,... (container_start, container_ready,\n"
		"                           container_exit, finding, resolved, agent) and\n"
		"                           min_severity=SEV, e.g. "
		"'stdout;events=finding,resolved'\n"
		"  -f, --format FMT         json (default) or text, for stdout\n"
		"      --metrics-addr A:P   serve Prometheus /metrics and /healthz on A:P\n"
		"      --node NAME          node name in records (default $NODE_NAME, hostname)\n"
		"      --host-root DIR      prefix of host paths (a DaemonSet mounting / at "
		"/host)\n"
		"      --cgroup-root DIR    cgroup v2 mount (default: <host-root>/sys/fs/cgroup,\n"
		"                           its unified/, else the one in mountinfo)\n"
		"      --proc-root DIR      the host's /proc (default <host-root>/proc)\n"
		"      --cgroup-subtree PATH  only containers in this cgroup subtree (a path\n"
		"                           below the cgroup root, e.g. /kubepods.slice)\n"
		"      --state-file PATH    keep the detector's memory across restarts\n"
		"      --record PATH        write the decoded event stream for `exitwatch replay`\n"
		"      --startup-grace DUR  a start that never listens succeeds after DUR (60s)\n"
		"      --config-error-codes LIST  exit codes classed config_error (3)\n"
		"      --killer-grace DUR   name the sender of a caught SIGTERM/INT/QUIT when\n"
		"                           the exit came within DUR of it (30s)\n"
		"      --stderr-bytes N     stderr tail kept per container, 0..4096 (2048)\n"
		"      --no-stderr          no stderr tail (same as --stderr-bytes 0)\n"
		"      --stderr-kernel      also capture stderr in the kernel, for containers\n"
		"                           without a runtime log file; costs every write() on\n"
		"                           the node (README, \"The stderr tail\"); not with\n"
		"                           --no-stderr\n"
		"      --no-metadata        names from the cgroup only, read no runtime files\n"
		"      --no-scan            do not look for containers already running\n"
		"      --ringbuf-size BYTES kernel ring buffer (4M)\n"
		"      --max-containers N   containers tracked at once (16384)\n"
		"      --agent-interval DUR periodic agent record (60s)\n"
		"      --sweep-interval DUR forget mains gone without a seen exit (60s; 0: off)\n"
		"      --rule RULE.KEY=VAL  set a rule key, as in the config file's [rule.RULE]\n"
		"      --set SECTION.KEY=VAL  set any config file key\n"
		"      --speed X            replay only: X times real time (default 0: at once)\n"
		"  -v, --verbose            more diagnostics on stderr (twice: debug)\n"
		"  -h, --help               this text\n"
		"  -V, --version            the version\n"
		"\n"
		"Durations: 250ms, 30s, 5m, 1h, 2h30m. Rules: exit_code_burst, restart_rate,\n"
		"startup_failure_rate, stable, crash_loop (see README.md and\n"
		"deploy/exitwatch.conf).\n"
		"\n"
		"Examples:\n"
		"  exitwatch                                  # NDJSON on stdout\n"
		"  exitwatch -f text                          # readable lines at a terminal\n"
		"  exitwatch -o tcp://127.0.0.1:5170 --metrics-addr 127.0.0.1:9090\n"
		"  exitwatch -o 'stdout;events=finding,resolved' -o "
		"file:/var/log/exitwatch.ndjson\n"
		"  exitwatch --rule exit_code_burst.window=1m --rule exit_code_burst.resolve=2m\n"
		"  exitwatch --record /tmp/events.ndjson      # later: exitwatch replay "
		"/tmp/events.ndjson\n");
}

enum {
	OPT_NODE = 256,
	OPT_HOST_ROOT,
	OPT_CGROUP_ROOT,
	OPT_PROC_ROOT,
	OPT_CGROUP_SUBTREE,
	OPT_STATE_FILE,
	OPT_RECORD,
	OPT_METRICS_ADDR,
	OPT_GRACE,
	OPT_CODES,
	OPT_KILLER_GRACE,
	OPT_STDERR_BYTES,
	OPT_NO_STDERR,
	OPT_STDERR_KERNEL,
	OPT_NO_META,
	OPT_NO_SCAN,
	OPT_RINGBUF,
	OPT_MAX_CONTAINERS,
	OPT_AGENT_INTERVAL,
	OPT_SWEEP_INTERVAL,
	OPT_RULE,
	OPT_SET,
	OPT_SPEED,
};

static const struct option long_opts[] = {
	{"config", required_argument, NULL, 'c'},
	{"output", required_argument, NULL, 'o'},
	{"format", required_argument, NULL, 'f'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{"node", required_argument, NULL, OPT_NODE},
	{"host-root", required_argument, NULL, OPT_HOST_ROOT},
	{"cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT},
	{"proc-root", required_argument, NULL, OPT_PROC_ROOT},
	{"state-file", required_argument, NULL, OPT_STATE_FILE},
	{"record", required_argument, NULL, OPT_RECORD},
	{"metrics-addr", required_argument, NULL, OPT_METRICS_ADDR},
	{"startup-grace", required_argument, NULL, OPT_GRACE},
	{"config-error-codes", required_argument, NULL, OPT_CODES},
	{"killer-grace", required_argument, NULL, OPT_KILLER_GRACE},
	{"stderr-bytes", required_argument, NULL, OPT_STDERR_BYTES},
	{"no-stderr", no_argument, NULL, OPT_NO_STDERR},
	{"stderr-kernel", no_argument, NULL, OPT_STDERR_KERNEL},
	{"no-metadata", no_argument, NULL, OPT_NO_META},
	{"no-scan", no_argument, NULL, OPT_NO_SCAN},
	{"cgroup-subtree", required_argument, NULL, OPT_CGROUP_SUBTREE},
	{"ringbuf-size", required_argument, NULL, OPT_RINGBUF},
	{"max-containers", required_argument, NULL, OPT_MAX_CONTAINERS},
	{"agent-interval", required_argument, NULL, OPT_AGENT_INTERVAL},
	{"sweep-interval", required_argument, NULL, OPT_SWEEP_INTERVAL},
	{"rule", required_argument, NULL, OPT_RULE},
	{"set", required_argument, NULL, OPT_SET},
	{"speed", required_argument, NULL, OPT_SPEED},
	{NULL, 0, NULL, 0},
};

/* One config key from a flag: the key's own checks and messages (config_file.c). */
static int set_option(struct ew_config *c, const char *section, const char *key, const char *value,
		      const char *opt)
{
	char err[512];

	if (ew_config_set_key(c, opt, section, key, value, err, sizeof(err))) {
		fprintf(stderr, "exitwatch: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

/*
 * "--set agent.key=value" or "--rule name.key=value": the key in [agent] or [rule.name], so a
 * key means the same thing whichever way it is given.
 */
static int apply_setting(struct ew_config *c, const char *prefix, const char *arg, const char *opt)
{
	const char *dot = strchr(arg, '.'), *eq = strchr(arg, '=');
	char section[128], key[128];

	if (!dot || !eq || dot > eq || dot == arg || eq == dot + 1) {
		fprintf(stderr, "exitwatch: %s '%s': expected %s.KEY=VALUE\n", opt, arg,
			prefix[0] ? "RULE" : "SECTION");
		return -EINVAL;
	}
	/* Cut names read as unknown ones: no section or key is this long. */
	snprintf(section, sizeof(section), "%s%.*s", prefix, (int)(dot - arg), arg);
	snprintf(key, sizeof(key), "%.*s", (int)(eq - dot - 1), dot + 1);
	return set_option(c, section, key, eq + 1, opt);
}

/*
 * The option string: '+' stops at the first operand (replay's RECORDING: options go before it),
 * ':' makes a missing value ':' rather than '?', so that the two are told apart.
 */
#define SHORT_OPTS "+:c:o:f:vhV"

/* The long option val stands for, or NULL (a short option's letter that is no long one's). */
static const struct option *long_opt(int val)
{
	for (const struct option *o = long_opts; o->name; o++)
		if (o->val == val)
			return o;
	return NULL;
}

/*
 * getopt_long() said '?' or ':' (opterr is 0: it printed nothing). It names neither the option
 * as written nor why: a long option's own text is the argument it was in (argv[optind - 1],
 * which it has stepped past), a short one is optopt, and ambiguity looks like an unknown name.
 */
static void option_error(int o, char **argv)
{
	const char *arg = argv[optind - 1];
	bool is_long = !strncmp(arg, "--", 2) && (!optopt || long_opt(optopt));
	size_t len = is_long ? strcspn(arg, "=") : 0;
	char names[256] = "";
	int n = 0;

	if (o == ':' && is_long) {
		fprintf(stderr, "exitwatch: option '%.*s' needs a value\n", (int)len, arg);
	} else if (o == ':') {
		fprintf(stderr, "exitwatch: option '-%c' needs a value\n", optopt);
	} else if (is_long && optopt) {
		fprintf(stderr, "exitwatch: option '%.*s' takes no value (got '%s')\n", (int)len,
			arg, arg);
	} else if (is_long) {
		for (const struct option *p = long_opts; p->name; p++) {
			size_t used = strlen(names);

			if (strncmp(p->name, arg + 2, len - 2) || used >= sizeof(names))
				continue;
			snprintf(names + used, sizeof(names) - used, "%s--%s", n++ ? ", " : "",
				 p->name);
		}
		if (n > 1)
			fprintf(stderr, "exitwatch: option '%.*s' is ambiguous (%s)\n", (int)len,
				arg, names);
		else
			fprintf(stderr, "exitwatch: unknown option '%s'\n", arg);
	} else {
		fprintf(stderr, "exitwatch: unknown option '-%c'\n", optopt);
	}
	fprintf(stderr, "Try 'exitwatch --help'.\n");
}

/* What the first pass over argv finds, for reading the config file before the flags. */
struct first {
	const char *config_path;
	bool explicit_cfg; /* --config given: a missing file is an error */
	bool outputs;	   /* --output given: the file's outputs are dropped */
};

static int first_pass(int argc, char **argv, struct first *ret)
{
	int o;

	opterr = 0;
	optind = 0; /* 0, not 1: also forgets where a previous parse stopped inside "-vc" */
	while ((o = getopt_long(argc, argv, SHORT_OPTS, long_opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			ret->config_path = optarg;
			ret->explicit_cfg = true;
			break;
		case 'o':
			ret->outputs = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("exitwatch %s\n", EW_VERSION);
			return 0;
		case '?':
		case ':':
			option_error(o, argv);
			return -EINVAL;
		default:
			break;
		}
	}
	return 1;
}

static int second_pass(struct ew_config *c, int argc, char **argv)
{
	int o, r = 0;

	optind = 0;
	while (!r && (o = getopt_long(argc, argv, SHORT_OPTS, long_opts, NULL)) != -1) {
		switch (o) {
		case 'o':
			r = set_option(c, "agent", "output", optarg, "--output");
			break;
		case 'f':
			r = set_option(c, "agent", "format", optarg, "--format");
			break;
		case 'v':
			c->verbosity++;
			break;
		case OPT_NODE:
			r = set_option(c, "agent", "node", optarg, "--node");
			break;
		case OPT_HOST_ROOT:
			r = set_option(c, "agent", "host_root", optarg, "--host-root");
			break;
		case OPT_CGROUP_ROOT:
			r = set_option(c, "agent", "cgroup_root", optarg, "--cgroup-root");
			break;
		case OPT_PROC_ROOT:
			r = set_option(c, "agent", "proc_root", optarg, "--proc-root");
			break;
		case OPT_CGROUP_SUBTREE:
			r = set_option(c, "agent", "cgroup_subtree", optarg, "--cgroup-subtree");
			break;
		case OPT_STATE_FILE:
			r = set_option(c, "agent", "state_file", optarg, "--state-file");
			break;
		case OPT_RECORD:
			r = set_option(c, "agent", "record", optarg, "--record");
			break;
		case OPT_METRICS_ADDR:
			r = set_option(c, "agent", "metrics_addr", optarg, "--metrics-addr");
			break;
		case OPT_GRACE:
			r = set_option(c, "agent", "startup_grace", optarg, "--startup-grace");
			break;
		case OPT_KILLER_GRACE:
			r = set_option(c, "exit", "killer_grace", optarg, "--killer-grace");
			break;
		case OPT_CODES:
			r = set_option(c, "exit", "config_error_codes", optarg,
				       "--config-error-codes");
			break;
		case OPT_STDERR_BYTES:
			r = set_option(c, "agent", "stderr_bytes", optarg, "--stderr-bytes");
			break;
		case OPT_NO_STDERR:
			r = set_option(c, "agent", "stderr_bytes", "0", "--no-stderr");
			break;
		case OPT_STDERR_KERNEL:
			r = set_option(c, "agent", "stderr_kernel", "true", "--stderr-kernel");
			break;
		case OPT_NO_META:
			r = set_option(c, "agent", "read_metadata", "false", "--no-metadata");
			break;
		case OPT_NO_SCAN:
			r = set_option(c, "agent", "scan_existing", "false", "--no-scan");
			break;
		case OPT_RINGBUF:
			r = set_option(c, "agent", "ringbuf_size", optarg, "--ringbuf-size");
			break;
		case OPT_MAX_CONTAINERS:
			r = set_option(c, "agent", "max_containers", optarg, "--max-containers");
			break;
		case OPT_AGENT_INTERVAL:
			r = set_option(c, "agent", "agent_interval", optarg, "--agent-interval");
			break;
		case OPT_SWEEP_INTERVAL:
			r = set_option(c, "agent", "sweep_interval", optarg, "--sweep-interval");
			break;
		case OPT_RULE:
			r = apply_setting(c, "rule.", optarg, "--rule");
			break;
		case OPT_SET:
			r = apply_setting(c, "", optarg, "--set");
			break;
		case OPT_SPEED: {
			char *end;

			if (c->command != EW_CMD_REPLAY) {
				fprintf(stderr,
					"exitwatch: --speed applies to `exitwatch replay` only\n");
				return -EINVAL;
			}
			errno = 0;
			c->replay_speed = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(c->replay_speed >= 0)) {
				fprintf(stderr,
					"exitwatch: --speed '%s': expected a factor >= 0 "
					"(1: real time, 0: at once)\n",
					optarg);
				return -EINVAL;
			}
			break;
		}
		default:
			break;
		}
	}
	return r;
}

/*
 * What getopt left after the options: "exitwatch replay [OPTION]... RECORDING". Options stop at
 * the first operand (the '+' of the option string, as the synopsis has it), so one after the
 * RECORDING is said to be misplaced rather than counted as a second recording. After "--" every
 * argument is an operand, options too.
 */
static int replay_operands(struct ew_config *c, int argc, char **argv)
{
	bool dashdash = optind > 1 && !strcmp(argv[optind - 1], "--");
	const char *next;

	if (optind >= argc) {
		fprintf(stderr, "exitwatch: replay needs a RECORDING (exitwatch replay [OPTION]... "
				"RECORDING)\n");
		return -EINVAL;
	}
	if (optind + 1 < argc) {
		next = argv[optind + 1];
		if (!dashdash && next[0] == '-' && next[1])
			fprintf(stderr, "exitwatch: options go before RECORDING (got '%s')\n",
				next);
		else
			fprintf(stderr,
				"exitwatch: unexpected argument '%s' after RECORDING '%s'\n", next,
				argv[optind]);
		return -EINVAL;
	}
	c->replay_path = argv[optind];
	return 0;
}

static void default_node(struct ew_config *c)
{
	const char *env = getenv("NODE_NAME");

	if (c->node[0])
		return;
	if (env && env[0])
		ew_strlcpy(c->node, env, sizeof(c->node));
	else if (gethostname(c->node, sizeof(c->node) - 1))
		ew_strlcpy(c->node, "unknown", sizeof(c->node));
}

int ew_config_parse(struct ew_config *c, int argc, char **argv)
{
	struct first first = {.config_path = EW_DEFAULT_CONFIG};
	char err[512] = "";
	int r;

	if (argc > 1 && !strcmp(argv[1], "replay")) {
		c->command = EW_CMD_REPLAY;
		argv++;
		argc--;
	}
	r = first_pass(argc, argv, &first);
	if (r <= 0)
		return r;
	/* The file first, then every flag over it. --config /dev/null: defaults and flags only. */
	r = strcmp(first.config_path, "/dev/null")
		    ? ew_config_load_file(c, first.config_path, err, sizeof(err))
		    : 0;
	if (r == -ENOENT && !first.explicit_cfg) {
		r = 0;
	} else if (r) {
		fprintf(stderr, "exitwatch: %s\n", err[0] ? err : strerror(-r));
		return r;
	} else {
		c->config_path = first.config_path;
	}
	/*
	 * --output replaces the file's outputs, and only those: the outputs of --output and of
	 * --set agent.output= all stay, in the order given, wherever they stand on the line.
	 */
	if (first.outputs)
		c->noutputs = 0;
	r = second_pass(c, argc, argv);
	if (r)
		return r;
	if (c->command == EW_CMD_REPLAY) {
		r = replay_operands(c, argc, argv);
		if (r)
			return r;
	} else if (optind < argc) {
		fprintf(stderr, "exitwatch: unexpected argument '%s' (try --help)\n", argv[optind]);
		return -EINVAL;
	}
	default_node(c);
	if (!c->proc_root) {
		char proc[4096];

		snprintf(proc, sizeof(proc), "%s/proc", c->host_root);
		c->proc_root = ew_config_strdup(c, proc);
	}
	c->out.stdout_text = c->format_text;
	r = ew_config_validate(c, err, sizeof(err));
	if (r) {
		fprintf(stderr, "exitwatch: %s\n", err);
		return r;
	}
	return 1;
}
