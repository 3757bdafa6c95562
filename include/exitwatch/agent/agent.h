/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The run loop: builds the pipeline, loads the BPF programs, finds the containers already
 * running, then polls the ring buffer and runs timed work (deadlines, drop counters, the agent
 * record, checkpoints, metrics) until asked to stop. Also `exitwatch replay`.
 */
#ifndef EXITWATCH_AGENT_H
#define EXITWATCH_AGENT_H

#include <signal.h>

#include "exitwatch/cli/config.h"

struct ew_agent_signals {
	volatile sig_atomic_t *stop; /* SIGINT, SIGTERM */
	volatile sig_atomic_t *hup;  /* SIGHUP: reopen file sinks */
};

/* Returns the process exit status: 0 after a clean stop, 1 when the environment is wrong
 * (the reason already printed), 2 for bad configuration. */
int ew_agent_run(const struct ew_config *cfg, const struct ew_agent_signals *sig);

/* exitwatch replay PATH: the recorded events through the configured detector, to the
 * configured outputs, at once or paced (--speed). A stop request ends it early. Returns 0, 1
 * when an output lost lines or could not be set up (said on stderr), 2 for a bad recording. */
int ew_agent_replay(const struct ew_config *cfg, const struct ew_agent_signals *sig);

#endif
