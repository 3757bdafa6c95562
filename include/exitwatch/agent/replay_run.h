/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * `exitwatch replay`'s driver: reads a recording (replay/recorder.h) and drives the pipeline
 * with it, as the live agent would have: each event through ew_pipeline_replay() (the recorded
 * node name set before the first), the recorded drops, and the pipeline's tick at the end. The
 * caller builds the pipeline and its outputs, and drains them after. No libbpf: the fuzzer
 * (tests/fuzz/fuzz_replay.c) runs this very code.
 */
#ifndef EXITWATCH_REPLAY_RUN_H
#define EXITWATCH_REPLAY_RUN_H

#include <signal.h>
#include <stddef.h>

#include "exitwatch/agent/pipeline.h"
#include "exitwatch/output/output.h"

struct ew_replay_run_opts {
	double speed;		     /* --speed: recorded time scaled by 1/speed; <= 0: at once */
	volatile sig_atomic_t *stop; /* set: stop before the next event (NULL: never) */
	volatile sig_atomic_t *hup;  /* set: reopen the file outputs while pacing (NULL: never) */
};

/*
 * Replays the recording at path into pipe, whose outputs out are ticked while pacing. Returns
 * 0, -EINTR when *stop was set (what was replayed still goes out), or ew_replay_read()'s error
 * with a message in err naming the file.
 */
int ew_replay_run(const char *path, struct ew_pipeline *pipe, struct ew_outputs *out,
		  const struct ew_replay_run_opts *opts, char *err, size_t errlen);

#endif
