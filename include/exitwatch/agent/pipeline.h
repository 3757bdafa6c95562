/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * decoded event -> identity -> detector -> records -> sinks, and the metrics as they go. One
 * function call per arrow; the same path serves the live agent and `exitwatch replay`.
 */
#ifndef EXITWATCH_PIPELINE_H
#define EXITWATCH_PIPELINE_H

#include <stdint.h>

#include "exitwatch/cli/config.h"
#include "exitwatch/core/event.h"
#include "exitwatch/detect/detector.h"
#include "exitwatch/metrics/metrics.h"
#include "exitwatch/output/output.h"
#include "exitwatch/persist/state.h"
#include "exitwatch/replay/recorder.h"
#include "exitwatch/util/clock.h"

struct ew_pipeline;

struct ew_pipeline_deps {
	struct ew_outputs *out;	    /* required */
	struct ew_recorder *rec;    /* --record, or NULL */
	struct ew_metrics *metrics; /* or NULL */
	/* The agent's clock, which the events are stamped on and whose steps the records and the
	 * state file follow (util/clock.h); NULL (a replay): the wall clock's, no step. */
	const struct ew_clock *clock;
};

struct ew_pipeline *ew_pipeline_new(const struct ew_config *cfg,
				    const struct ew_pipeline_deps *deps);
void ew_pipeline_free(struct ew_pipeline *p);

/*
 * A live event: resolves its identity, then as ew_pipeline_replay(). An exit of a container
 * with a runtime log waits for that log to settle (exit_hold.h), and the events after it with
 * it: ew_pipeline_tick() lets them through, ew_pipeline_wake() says when.
 */
int ew_pipeline_event(struct ew_pipeline *p, const struct ew_event *ev);
/*
 * When (CLOCK_MONOTONIC ns) the pipeline next wants ew_pipeline_tick(): a held exit's look at
 * its log, or the detector's next deadline (a grace period, a resolution), on the agent's clock
 * (util/clock.h), now_wall given with now_mono; now_mono when the detector has work left from the last tick;
 * UINT64_MAX when nothing waits. Between two such times only a record or the fd can bring news.
 */
uint64_t ew_pipeline_wake(const struct ew_pipeline *p, uint64_t now_mono, uint64_t now_wall);
/* An fd to poll() with the ring buffer: readable, it wants ew_pipeline_tick() (-1: none). */
int ew_pipeline_fd(const struct ew_pipeline *p);
/* An event with its identity already known (a recording). */
int ew_pipeline_replay(struct ew_pipeline *p, const struct ew_event *ev,
		       const struct ew_identity *id);
/* Lets held events through, and runs the detector's deadlines up to now (resolutions, grace
 * periods), or up to the time of an exit still held. */
void ew_pipeline_tick(struct ew_pipeline *p, uint64_t now_ns);
/* The agent stops at now: held events go at once, deadlines up to now, the recording's end. */
void ew_pipeline_finish(struct ew_pipeline *p, uint64_t now_ns);
/* The kernel's running total of lost records; findings over a loss say degraded. */
void ew_pipeline_drops(struct ew_pipeline *p, uint64_t now_ns, uint64_t total);
/* Fills the pipeline's own counters into *a: records emitted, decode errors, identities,
 * active findings, sinks. The kernel's part is the agent's. */
void ew_pipeline_status(const struct ew_pipeline *p, struct ew_agent_status *a);
/* Emits an agent record of *a, filled by the agent and ew_pipeline_status(). */
void ew_pipeline_agent(struct ew_pipeline *p, uint64_t now_ns, const struct ew_agent_status *a);
/* Counts a record the decoder rejected. */
void ew_pipeline_decode_error(struct ew_pipeline *p);
/*
 * The main process m is gone and its exit will never be reported (the sweep found it so,
 * ew_loader_sweep()): drops what the exit would have, the cached identity and the log watch,
 * once the events of it still held have gone through (else its start, let through later, would
 * cache it again), and tells the detector that run ended (ew_detector_main_lost()), so that an
 * identity no longer running can be forgotten when idle. Cgroup ids are never reused: kept,
 * they would be kept for good.
 */
void ew_pipeline_forget(struct ew_pipeline *p, const struct ew_lost_main *m);
/*
 * After a state was loaded, before any event: the runs it holds as running whose main process
 * alive() says is gone end unseen (ew_detector_runs_gone()). Returns how many.
 */
uint32_t ew_pipeline_runs_gone(struct ew_pipeline *p, ew_detector_alive_fn alive, void *ctx);
/* The restored state was written in another boot: ew_detector_other_boot(). Returns how many. */
uint32_t ew_pipeline_other_boot(struct ew_pipeline *p);
/* The start-up scan is over (or did not run): ew_detector_scan_done(). */
void ew_pipeline_scan_done(struct ew_pipeline *p);
/* Finding and resolved records emitted so far: a change is one for the state file. */
uint64_t ew_pipeline_episode_records(const struct ew_pipeline *p);

/* Checkpoint of the detector into path (temp file, fsync, rename), its times on the wall
 * clock, written in boot boot_id (may be NULL: not said). 0 or -errno. */
int ew_pipeline_save_state(struct ew_pipeline *p, const char *path, uint64_t now_ns,
			   const char *boot_id);
/*
 * Loads a checkpoint at now_ns, the wall clock (the agent's time at its start); a missing file is 0, a bad one -EINVAL with err
 * (the caller warns). A file saved while the clock was ahead is moved back, with a warning.
 * boot_id (may be NULL): the boot the file says it was written in, "" when it does not.
 */
int ew_pipeline_load_state(struct ew_pipeline *p, const char *path, uint64_t now_ns,
			   char boot_id[EW_BOOT_ID_LEN], char *err, size_t errlen);

/* Node name records carry (replay takes the recording's). */
void ew_pipeline_set_node(struct ew_pipeline *p, const char *node);
/*
 * A replay: the recording says the agent saw the wall clock step at agent time t, to step_ns from
 * its time. Records of events from t on show their times so, as the agent's did; the rules'
 * windows are not moved, as they were not live. A pipeline with the agent's clock keeps to it.
 */
void ew_pipeline_replay_clock_step(struct ew_pipeline *p, uint64_t t, int64_t step_ns);
/* The root cgroup's id: a signal sent from there came from the host. */
void ew_pipeline_set_root_cgroup(struct ew_pipeline *p, uint64_t id);

#endif
