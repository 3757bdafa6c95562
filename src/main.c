// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* exitwatch: wiring only. Configuration -> agent (or replay) -> exit status. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "exitwatch/agent/agent.h"
#include "exitwatch/cli/args.h"
#include "exitwatch/cli/config.h"
#include "exitwatch/util/log.h"

/* The only globals: what the signal handlers may touch. */
static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reopen_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	reopen_requested = 1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL); /* what Kubernetes sends */
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL); /* a closed stdout or socket is an error, not a death */
}

int main(int argc, char **argv)
{
	struct ew_agent_signals sig = {&stop_requested, &reopen_requested};
	struct ew_config cfg;
	int r;

	/* Step 1: configuration (defaults, file, flags). Bad input exits 2 before anything. */
	ew_config_init(&cfg);
	r = ew_config_parse(&cfg, argc, argv);
	if (r <= 0) {
		ew_config_free(&cfg);
		return r < 0 ? 2 : EXIT_SUCCESS;
	}
	ew_log_init(cfg.verbosity >= 2 ? EW_LOG_DEBUG : cfg.verbosity ? EW_LOG_INFO : EW_LOG_WARN);

	/* Step 2: signals before anything is attached, so a SIGTERM never kills us mid-way. */
	install_signals();

	/* Step 3: run until stopped, or replay a recording. */
	if (cfg.command == EW_CMD_REPLAY)
		r = ew_agent_replay(&cfg, &sig);
	else
		r = ew_agent_run(&cfg, &sig);

	ew_config_free(&cfg);
	return r;
}
