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
#include <stdint.h>

#include "exitwatch/agent/pipeline.h"
#include "exitwatch/output/output.h"
#include "exitwatch/util/util.h"

/*
 * At --speed 0, the outputs are ticked when this much time has passed since the last tick: stream
 * outputs send while records come, and stdout's batch is written at most 100 times a second, not
 * once a record (a clock read per event, about 20 ns, decides).
 */
#define EW_REPLAY_TICK_NS (10 * EW_NSEC_PER_MSEC)

/* A stream output that takes no line for this long is not waited for (below), unless set. */
#define EW_REPLAY_STALL_NS (5 * EW_NSEC_PER_SEC) /* agent.drain_timeout's default */

struct ew_replay_run_opts {
	double speed;		     /* --speed: recorded time scaled by 1/speed; <= 0: at once */
	volatile sig_atomic_t *stop; /* set: stop before the next event (NULL: never) */
	volatile sig_atomic_t *hup;  /* set: reopen the file outputs (NULL: never) */
	uint64_t stall_ns;	     /* how long a stream output may take nothing; 0: the default */
};

/*
 * Replays the recording at path into pipe. Its outputs out are ticked while pacing, and at
 * --speed 0 every EW_REPLAY_TICK_NS, so that stream outputs connect and send as records come.
 * A replay can afford to block, so it sets out blocking (ew_outputs_set_blocking()): a stream
 * output whose memory queue is full is waited for rather than spooled to or dropped from, until
 * it takes no line for opts->stall_ns; a live receiver gets every record. Returns 0, -EINTR
 * when *stop was set (what was replayed still goes out), or ew_replay_read()'s error with a
 * message in err naming the file.
 */
int ew_replay_run(const char *path, struct ew_pipeline *pipe, struct ew_outputs *out,
		  const struct ew_replay_run_opts *opts, char *err, size_t errlen);

#endif
