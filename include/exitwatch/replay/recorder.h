/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --record PATH writes the decoded event stream, each event with the identity it resolved to,
 * one JSON object per line; `exitwatch replay PATH` feeds it back to the same detector with the
 * recorded times. The identity travels with the event because the runtime's files it came from
 * are long gone when someone replays a recording to tune thresholds.
 */
#ifndef EXITWATCH_RECORDER_H
#define EXITWATCH_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "exitwatch/core/event.h"
#include "exitwatch/identity/identity.h"

#define EW_RECORD_VERSION 1

struct ew_recorder;

/*
 * Creates path, mode 0600, and writes the header. A non-empty regular file there (the previous
 * run's recording) is first renamed PATH.1, replacing an older one. 0, 1 when it was, 2 when it
 * could not be (overwritten; err says why), or -errno with err: -EBUSY when the file there is
 * another live agent's recording (each recorder holds a flock on its file), left as it is.
 */
int ew_recorder_open(const char *path, const char *node, struct ew_recorder **ret, char *err,
		     size_t errlen);
int ew_recorder_event(struct ew_recorder *r, const struct ew_event *ev,
		      const struct ew_identity *id);
/* The kernel's running total of lost records went up. */
int ew_recorder_drops(struct ew_recorder *r, uint64_t time_ns, uint64_t total);
/*
 * The wall clock stepped, seen at agent time time_ns: from then on it is step_ns from the agent's
 * time (util/clock.h, struct ew_clock's step_ns), and a replay shows records' times so, as the
 * agent did.
 */
int ew_recorder_clock_step(struct ew_recorder *r, uint64_t time_ns, int64_t step_ns);
/* The agent stopped at time_ns: a replay runs the deadlines up to here, like the agent did. */
int ew_recorder_end(struct ew_recorder *r, uint64_t time_ns);
int ew_recorder_flush(struct ew_recorder *r);
void ew_recorder_close(struct ew_recorder *r);

struct ew_replay_cbs {
	int (*event)(void *ctx, const struct ew_event *ev, const struct ew_identity *id);
	int (*drops)(void *ctx, uint64_t time_ns, uint64_t total);
	int (*clock_step)(void *ctx, uint64_t time_ns, int64_t step_ns);
	int (*end)(void *ctx, uint64_t time_ns);
};

/*
 * Reads a recording (a file, or a stream: a pipe, a character device), calling cbs for each
 * line in order. node receives the recorded node name. Returns 0, a callback's negative
 * return, or -EINVAL/-errno (-EISDIR for a directory) with "PATH:LINE: ..." or "PATH: ..." in
 * err.
 */
int ew_replay_read(const char *path, const struct ew_replay_cbs *cbs, void *ctx, char *node,
		   size_t nodelen, char *err, size_t errlen);

#endif
