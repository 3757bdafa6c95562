/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Container starts and exits -> findings and resolutions. Pure: reads no clock and opens no
 * file; every time comes from the events or from ew_detector_advance(), so tests and replay run
 * in virtual time and the same input always gives the same output.
 *
 * Time-based transitions (a resolution after a quiet period, a start that survived its grace
 * period, the "stable" milestone) are deadlines. They are processed in time order before any
 * event that comes after them, and a record made at a deadline carries the deadline's time, not
 * the time the agent got round to it: live runs and replays agree to the nanosecond.
 */
#ifndef EXITWATCH_DETECTOR_H
#define EXITWATCH_DETECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "exitwatch/util/buf.h"
#include "exitwatch/core/event.h"
#include "exitwatch/identity/identity.h"
#include "exitwatch/core/record.h"

enum ew_rule {
	EW_RULE_EXIT_CODE_BURST = 0,  /* exits with given codes, more than N in a window */
	EW_RULE_RESTART_RATE,	      /* restarts, more than N in a window */
	EW_RULE_STARTUP_FAILURE_RATE, /* failed starts above a percentage, with a minimum sample */
	EW_RULE_STABLE,		      /* milestone: a looping identity stayed up long enough */
	EW_RULE__COUNT
};

enum ew_scope {
	EW_SCOPE_IDENTITY = 0, /* one container identity (survives restarts) */
	EW_SCOPE_WORKLOAD,     /* every identity of one workload (replicas together) */
};

struct ew_rule_config {
	bool enabled;
	enum ew_scope scope;
	enum ew_severity severity;
	uint32_t count;			/* bursts and rates: fires when MORE than count in window */
	uint64_t window_ns;		/* counting window */
	uint64_t resolve_ns;		/* burst: quiet period; rate: window with no restart */
	uint8_t codes[256 / 8];		/* exit_code_burst: exit codes that count (bitmap) */
	double fail_percent;		/* startup_failure_rate: fires when failed% > this */
	double resolve_success_percent; /* startup_failure_rate: resolves when success% >= this */
	uint32_t min_starts;		/* startup_failure_rate: starts needed in the window */
	uint64_t uptime_ns;		/* stable: uptime that ends a loop */
};

struct ew_detector_config {
	struct ew_rule_config rules[EW_RULE__COUNT];
	uint64_t startup_grace_ns; /* a start that never listens succeeds after this */
	uint32_t max_identities;   /* idle identities beyond this are forgotten, oldest first */
	uint64_t idle_forget_ns;   /* an identity idle this long is forgotten */
	uint32_t tail_max;	   /* stderr bytes kept per identity for findings */
};

void ew_detector_config_default(struct ew_detector_config *c);
const char *ew_rule_name(enum ew_rule r);
int ew_rule_parse(const char *name); /* -EINVAL if unknown */
const char *ew_scope_name(enum ew_scope s);
static inline bool ew_rule_has_code(const struct ew_rule_config *rc, int code)
{
	return code >= 0 && code < 256 && (rc->codes[code / 8] >> (code % 8)) & 1;
}
static inline void ew_rule_set_code(struct ew_rule_config *rc, int code)
{
	if (code >= 0 && code < 256)
		rc->codes[code / 8] |= (uint8_t)(1u << (code % 8));
}

#define EW_HIST_MAX 8

struct ew_exit_hist {
	int code;   /* exit code, when signal == 0 */
	int signal; /* terminating signal */
	uint32_t count;
};

struct ew_finding {
	enum ew_rule rule;
	bool resolved; /* a `resolved` record, for the episode finding_id names */
	enum ew_severity severity;
	enum ew_scope scope;
	char finding_id[24];
	uint64_t time_ns;		  /* the crossing event's time, or the deadline's */
	const struct ew_subject *subject; /* the identity; for workload scope the last involved */
	uint32_t identities;		  /* workload scope: identities with counted events */

	uint32_t count;	    /* events counted in the window */
	uint32_t threshold; /* rule count (fires when count > threshold) */
	uint64_t window_ns;
	uint64_t first_ns, last_ns; /* first and last counted event in the window */

	uint32_t starts, failed_starts;		/* startup_failure_rate */
	double fail_percent, threshold_percent; /* startup_failure_rate */

	uint32_t intervals; /* restart intervals measured (0: none, the fields below unset) */
	double interval_median_s, interval_min_s, interval_max_s;

	uint32_t nhist; /* exit codes in the window, most frequent first */
	struct ew_exit_hist hist[EW_HIST_MAX];

	bool has_last_exit;
	enum ew_exit_class last_class;
	int last_code, last_signal;
	uint64_t last_exit_ns;
	const char *tail; /* stderr tail of the last failed exit (not NUL-terminated) */
	uint32_t tail_len;

	bool degraded; /* the kernel dropped events inside the window */

	uint64_t uptime_ns; /* stable: how long it has been up */

	/* resolved */
	uint64_t fired_ns;    /* when the episode's finding fired */
	uint64_t duration_ns; /* episode length */
	uint32_t total;	      /* events counted over the whole episode */
};

/* Called for each finding or resolution, in time order; f is valid during the call only. */
typedef void (*ew_finding_fn)(void *ctx, const struct ew_finding *f);

struct ew_detector;

struct ew_detector *ew_detector_new(const struct ew_detector_config *cfg);
void ew_detector_free(struct ew_detector *d);

/* Processes every deadline up to now_ns, in time order. */
void ew_detector_advance(struct ew_detector *d, uint64_t now_ns, ew_finding_fn fn, void *ctx);

/*
 * Feeds a START, READY or EXIT event with its resolved identity (and, for EXIT, its class).
 * Advances to the event's time first. Findings the event causes are reported through fn before
 * it returns. *ret (may be NULL) says what the detector knows of the start: for START whether it
 * is a restart and how many, for EXIT whether the start had succeeded. Returns 0 or -ENOMEM.
 */
int ew_detector_observe(struct ew_detector *d, const struct ew_event *ev,
			const struct ew_identity *id, enum ew_exit_class cls, ew_finding_fn fn,
			void *ctx, struct ew_startup *ret);

/*
 * Tells the detector how many kernel records were lost so far (a running total). Findings
 * whose window holds a loss say degraded.
 */
void ew_detector_note_drops(struct ew_detector *d, uint64_t now_ns, uint64_t total_drops);

/*
 * Tells the detector that an identity it has no history of had already exited and restarted
 * this many times (the runtime's own count): its next start is a restart, and messages count
 * from there. An identity the detector knows keeps its own count.
 */
void ew_detector_seed_restarts(struct ew_detector *d, const struct ew_identity *id,
			       uint32_t restarts);

uint32_t ew_detector_identities(const struct ew_detector *d);
uint32_t ew_detector_active(const struct ew_detector *d);	 /* open episodes */
uint64_t ew_detector_next_deadline(const struct ew_detector *d); /* UINT64_MAX if none */

/*
 * Checkpoint: the detector's windows, episodes and running starts as JSON text, and back.
 * ew_detector_restore() replaces the state of a fresh detector; on any error it leaves the
 * detector empty and says why in err (a corrupt or foreign file is reported, never fatal).
 */
int ew_detector_checkpoint(const struct ew_detector *d, uint64_t now_ns, struct ew_buf *out);
int ew_detector_restore(struct ew_detector *d, const char *json, size_t len, char *err,
			size_t errlen);

#endif
