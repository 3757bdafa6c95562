// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `exitwatch replay`'s driver (include/exitwatch/agent/replay_run.h): the recorder's callbacks
 * turned into pipeline calls, paced by --speed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "exitwatch/agent/replay_run.h"
#include "exitwatch/replay/recorder.h"
#include "exitwatch/util/clock.h"
#include "exitwatch/util/util.h"

struct replay_ctx {
	struct ew_pipeline *pipe;
	struct ew_outputs *out;
	const struct ew_replay_run_opts *opts;
	bool node_set;
	char node[256];
	uint64_t first_ns, start_mono; /* pacing: recorded time 0 and when we began */
	uint64_t ticked;	       /* --speed 0: the last tick (0: none yet, tick at once) */
};

static void reopen_if_asked(struct replay_ctx *rc)
{
	const struct ew_replay_run_opts *o = rc->opts;

	if (o->hup && *o->hup) { /* logrotate moved a file sink */
		*o->hup = 0;
		ew_outputs_reopen(rc->out);
	}
}

/*
 * --speed 0: the records come as fast as the pipeline makes them; the outputs are ticked every
 * EW_REPLAY_TICK_NS, as the agent's loop would, so that a stream output connects at the start
 * and sends as it goes (a full queue then waits: ew_outputs_set_blocking()).
 */
static int pace_none(struct replay_ctx *rc)
{
	const struct ew_replay_run_opts *o = rc->opts;
	uint64_t now = ew_clock_mono_ns();

	if (o->stop && *o->stop)
		return -EINTR;
	if (now - rc->ticked < EW_REPLAY_TICK_NS)
		return 0;
	reopen_if_asked(rc);
	ew_outputs_tick(rc->out, now);
	rc->ticked = now;
	return 0;
}

/* --speed: wait until the event's recorded time, scaled, has come; sinks keep flushing. */
static int pace(struct replay_ctx *rc, uint64_t t)
{
	const struct ew_replay_run_opts *o = rc->opts;
	double speed = o->speed;
	uint64_t due, now;

	if (speed <= 0)
		return pace_none(rc);
	if (!rc->first_ns) {
		rc->first_ns = t;
		rc->start_mono = ew_clock_mono_ns();
	}
	due = rc->start_mono + (uint64_t)((double)(t - rc->first_ns) / speed);
	while ((now = ew_clock_mono_ns()) < due) {
		uint64_t step =
			due - now < 50 * EW_NSEC_PER_MSEC ? due - now : 50 * EW_NSEC_PER_MSEC;
		struct timespec ts = {0, (long)step};

		if (o->stop && *o->stop)
			return -EINTR;
		reopen_if_asked(rc);
		nanosleep(&ts, NULL);
		ew_outputs_tick(rc->out, ew_clock_mono_ns());
	}
	ew_outputs_tick(rc->out, now);
	return 0;
}

static int replay_event(void *ctx, const struct ew_event *ev, const struct ew_identity *id)
{
	struct replay_ctx *rc = ctx;
	int r = pace(rc, ev->time_ns);

	if (r)
		return r;
	if (!rc->node_set && rc->node[0]) {
		ew_pipeline_set_node(rc->pipe, rc->node);
		rc->node_set = true;
	}
	return ew_pipeline_replay(rc->pipe, ev, id);
}

static int replay_clock_step(void *ctx, uint64_t t, int64_t step_ns)
{
	struct replay_ctx *rc = ctx;

	ew_pipeline_replay_clock_step(rc->pipe, t, step_ns);
	return 0;
}

static int replay_end(void *ctx, uint64_t t)
{
	struct replay_ctx *rc = ctx;

	ew_pipeline_tick(rc->pipe, t);
	return 0;
}

static int replay_drops(void *ctx, uint64_t t, uint64_t total)
{
	struct replay_ctx *rc = ctx;

	ew_pipeline_drops(rc->pipe, t, total);
	return 0;
}

int ew_replay_run(const char *path, struct ew_pipeline *pipe, struct ew_outputs *out,
		  const struct ew_replay_run_opts *opts, char *err, size_t errlen)
{
	struct replay_ctx rc = {.pipe = pipe, .out = out, .opts = opts};
	struct ew_replay_cbs cbs = {.event = replay_event,
				    .drops = replay_drops,
				    .clock_step = replay_clock_step,
				    .end = replay_end};
	int r;

	ew_outputs_set_blocking(out, opts->stall_ns ? opts->stall_ns : EW_REPLAY_STALL_NS,
				opts->stop);
	r = ew_replay_read(path, &cbs, &rc, rc.node, sizeof(rc.node), err, errlen);
	/* The outputs are the caller's: what it emits after the replay is not waited for. */
	ew_outputs_set_blocking(out, 0, NULL);
	return r;
}
