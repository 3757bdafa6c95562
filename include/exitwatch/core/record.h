/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One output record, before it is rendered: what happened (event, finding or agent status) and
 * to whom. The renderers (render/render_json.c, render_text.c) turn it into one line; nothing
 * here owns memory, every pointer is borrowed for the duration of the render call.
 */
#ifndef EXITWATCH_RECORD_H
#define EXITWATCH_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "exitwatch/abi.h"
#include "exitwatch/core/event.h"
#include "exitwatch/core/exit_class.h"

#define EW_SCHEMA_VERSION 1

enum ew_record_type {
	EW_REC_START,	 /* container_start */
	EW_REC_READY,	 /* container_ready */
	EW_REC_EXIT,	 /* container_exit */
	EW_REC_FINDING,	 /* finding */
	EW_REC_RESOLVED, /* resolved */
	EW_REC_AGENT,	 /* agent */
};

/* Cloud Logging's LogSeverity names, in its order. */
enum ew_severity {
	EW_SEV_DEFAULT = 0,
	EW_SEV_DEBUG,
	EW_SEV_INFO,
	EW_SEV_NOTICE,
	EW_SEV_WARNING,
	EW_SEV_ERROR,
	EW_SEV_CRITICAL,
	EW_SEV_ALERT,
	EW_SEV_EMERGENCY,
	EW_SEV__COUNT
};

const char *ew_severity_name(enum ew_severity s);
int ew_severity_parse(const char *name); /* case-insensitive; -EINVAL if unknown */

/* The record's "event" name: "container_start", ... */
const char *ew_record_event_name(enum ew_record_type t);

/* What the detector knows of a start when the container exits (issue: start-up tracking). */
struct ew_startup {
	bool known;	      /* decided: false for containers found at start-up, and for a
			       * start another process stopped before it succeeded */
	bool ready;	      /* it listen()ed */
	bool succeeded;	      /* ready, or survived the grace period */
	uint64_t duration_ns; /* exec to ready */
	uint32_t restarts;    /* restarts of this identity seen so far (this start included) */
	bool unseen; /* found at start-up, a restart since the state file's last run of it */
};

struct ew_sink_status {
	const char *name;	/* the --output spec */
	bool connected;		/* stream sinks: a connection is up; others: true */
	uint64_t queued;	/* lines in memory */
	uint64_t spooled_bytes; /* bytes in the on-disk spool */
	uint64_t delivered;	/* lines written */
	uint64_t dropped;	/* lines lost: spool full, or a write error */
};

#define EW_MAX_SINKS 8

struct ew_agent_status {
	const char *phase; /* "start", "periodic", "stop" */
	const char *version;
	const char *kernel;
	bool feat_group_dead;	/* sched_process_exit passes group_dead */
	bool feat_stderr;	/* stderr capture on */
	bool feat_ready;	/* listen() tracking on */
	bool feat_oom;		/* OOM attribution on */
	bool feat_signals;	/* killer attribution on */
	bool feat_atomic_fetch; /* BPF_FETCH: concurrent stderr writers keep their order */
	bool feat_cgroup_move;	/* mains that move to another cgroup are followed */
	uint64_t uptime_ns;	/* since the agent started */
	uint64_t kstats[EW_STAT__MAX];
	uint64_t drops; /* sum of the kernel's ring buffer drop counters */
	uint64_t decode_errors;
	uint64_t starts, exits, readies; /* records emitted by type */
	uint64_t findings, resolutions;
	uint32_t tracked;	    /* cgroups with a live main process (kernel map) */
	uint32_t identities;	    /* identities the detector remembers */
	uint32_t identities_asleep; /* of those, asleep: packed after an exit with nothing open */
	uint64_t state_bytes;	    /* the detector's state, estimated: what memory_budget bounds */
	uint64_t forgotten[3];	    /* identities forgotten: idle_forget, max_identities, budget */
	uint64_t forgotten_in_window; /* of the last two: active within the longest rule window */
	uint32_t active_findings;
	uint32_t scan_mains;	    /* start: containers found already running */
	uint64_t stale_swept;	    /* kernel entries of mains gone unseen, deleted by the sweep or
			       * right after the start-up scan seeded them */
	uint32_t log_watches;	    /* running containers whose log file inotify watches */
	uint64_t log_watch_refused; /* logs that could not be watched (inotify limits) */
	uint64_t log_watch_overflows; /* IN_Q_OVERFLOW on the log watch */
	uint32_t nsinks;
	struct ew_sink_status sinks[EW_MAX_SINKS];
};

struct ew_finding;
struct ew_identity;
struct ew_clock;

struct ew_record {
	enum ew_record_type type;
	uint64_t time_ns;
	const struct ew_event *ev;	     /* START, READY, EXIT */
	const struct ew_identity *id;	     /* START, READY, EXIT, FINDING, RESOLVED */
	enum ew_exit_class cls;		     /* EXIT */
	const struct ew_startup *startup;    /* EXIT (may be NULL), START (restarts) */
	const struct ew_finding *finding;    /* FINDING, RESOLVED */
	const struct ew_agent_status *agent; /* AGENT */
};

struct ew_render_ctx {
	const char *node;		       /* node name: labels and every record */
	const struct ew_class_config *classes; /* exit meanings */
	/* Records' times are the agent's (util/clock.h), which does not step: each is shown as
	 * the wall clock said it then, after the steps this clock saw (NULL: as they are). */
	const struct ew_clock *clock;
};

#endif
