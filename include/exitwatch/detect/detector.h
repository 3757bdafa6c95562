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
#include <stddef.h>
#include <stdint.h>

#include "exitwatch/core/event.h"
#include "exitwatch/identity/identity.h"
#include "exitwatch/core/record.h"

enum ew_rule {
	EW_RULE_EXIT_CODE_BURST = 0,  /* exits with given codes, more than N in a window */
	EW_RULE_RESTART_RATE,	      /* restarts, more than N in a window */
	EW_RULE_STARTUP_FAILURE_RATE, /* failed starts above a percentage, with a minimum sample */
	EW_RULE_STABLE,		      /* milestone: a looping identity stayed up long enough */
	EW_RULE_CRASH_LOOP,	      /* N failed starts in a row with one exit code, at once */
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
	uint32_t count;			/* bursts and rates: fires when MORE than count in window;
					 * crash_loop: fires at count failed starts in a row */
	uint64_t window_ns;		/* counting window */
	uint64_t resolve_ns;		/* burst: quiet period; rate: window with no restart;
					 * crash_loop: no start for this long after the last exit */
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
	uint64_t memory_budget;	   /* bytes of identity state (estimated) before idle ones are
				    * forgotten, asleep and oldest first; 0: no limit */
	uint32_t tail_max;	   /* stderr bytes kept per identity for findings */
	uint32_t state_max_asleep; /* identities asleep an export keeps (the latest): 2,000 */
	bool keep_awake;	   /* identities never sleep: the reference a sleeping detector is
				    * checked against (tests/test_memory.c); not a config file key */
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

/* crash_loop's streak code of starts whose command never ran (class start_failed), whatever
 * their runtime's init ended with: no exit code is negative. */
#define EW_STREAK_START_FAILED (-1)

/* What ended an episode: a resolved record's message says which. */
enum ew_resolution {
	/* The rule's own condition held (crash_loop: a start succeeded). */
	EW_RESOLVED_CONDITION = 0,
	/* crash_loop: no start for resolve after the last exit: the container was removed,
	 * replaced or stopped, and no fix was seen. */
	EW_RESOLVED_QUIET,
	/* The rule is off in this configuration: an episode restored from a state file that no
	 * rule will resolve any more ends at the first advance after the import. */
	EW_RESOLVED_RULE_OFF,
	/* The rule counts in the other scope in this configuration (per identity versus per
	 * workload): an episode restored in the scope it no longer counts in, which no event will
	 * touch again, ends at the first advance after the import. */
	EW_RESOLVED_SCOPE_CHANGED,
	/* startup_failure_rate: no start succeeded or failed in the window any more, none of them
	 * a success seen (the container was removed, replaced or stopped). */
	EW_RESOLVED_NO_STARTS,
};

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
	/*
	 * The workload the episode counts in, whose key names the finding: the subject's own
	 * may differ, when the identity's workload was named anew after the episode began (an agent
	 * upgrade changed the key, a runtime's files read late); its finding and its resolution must
	 * carry the same.
	 */
	const char *workload;
	uint32_t identities; /* workload scope: identities with counted events */

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
	/* Who sent the signal that ended the last exit (its container_exit's killed_by), or NULL:
	 * the subject's own, as the last exit is. */
	const struct ew_killer_info *last_killer;
	const char *tail; /* stderr tail of the last failed exit (not NUL-terminated) */
	uint32_t tail_len;
	bool tail_start_error; /* the tail is that exit's runtime error: it never ran */

	bool degraded; /* the kernel dropped events inside the window */

	uint64_t uptime_ns; /* stable: how long it has been up */

	/* crash_loop: of the failed starts in a row (count), how many ended with the same last
	 * stderr line as the latest one (1..count); 0 when the latest had no stderr line. */
	uint32_t line_repeats;

	/* resolved */
	enum ew_resolution why; /* what ended the episode */
	uint64_t fired_ns;	/* when the episode's finding fired */
	uint64_t duration_ns;	/* episode length */
	uint32_t total;		/* events counted over the whole episode */
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

/*
 * The run of identity id whose main process is (pid, start_ticks: its start in clock ticks since
 * boot, as /proc says it) ended without an exit the detector will be told of: the kernel's
 * record of it was lost, and the sweep of the kernel's map found the process gone. It counts as
 * no exit and decides no start, but the identity no longer runs, so it may sleep and be
 * forgotten as idle (a running identity is kept for good), and its next start is a restart.
 * Another run of the identity (a start since) is left alone.
 */
void ew_detector_main_lost(struct ew_detector *d, const struct ew_identity *id, uint32_t pid,
			   uint64_t start_ticks);

/* Whether process (pid, start_ticks) still runs: ew_procstat_alive() in the agent. */
typedef bool (*ew_detector_alive_fn)(void *ctx, uint32_t pid, uint64_t start_ticks);

/*
 * For a state just restored (ew_state_read()): every run it holds as running whose main process
 * alive() says is gone ended while no agent watched (an agent stopped or killed, then the
 * container's exit; a node's reboot), as ew_detector_main_lost() says. Else its grace deadline
 * would take the failed start for a successful one (crash_loop resolved, its streak lost) and
 * the identity would run for good. Call it before the first event or advance. Returns how many.
 */
uint32_t ew_detector_runs_gone(struct ew_detector *d, ew_detector_alive_fn alive, void *ctx);
/*
 * For a state just restored that was written in another boot (the node rebooted since): every
 * run it holds as running ended with that boot, as ew_detector_runs_gone() ends one, whatever
 * process of this boot has its pid and start tick; and no start tick it holds compares with
 * this boot's, so no process found running is taken for a restart after one of its runs
 * (ew_startup's unseen). Call it before the first event or advance. Returns the runs ended.
 */
uint32_t ew_detector_other_boot(struct ew_detector *d);
/*
 * The start-up scan is over: identities whose run ew_detector_runs_gone() ended were kept awake
 * for it (their last run's start is what tells a process it finds a restart since, and an
 * identity asleep keeps none); those still idle may sleep now.
 */
void ew_detector_scan_done(struct ew_detector *d);

uint32_t ew_detector_identities(const struct ew_detector *d); /* awake and asleep */

/*
 * What the detector's memory holds. An identity that has exited and is in no open episode
 * sleeps: packed into one allocation of what a later event can still need (about 200 bytes
 * for a clean one). Under max_identities, idle_forget and memory_budget, identities are
 * forgotten: asleep ones first, longest asleep first, then idle awake ones, least recently
 * active first; never one that runs or is in an open episode.
 */
struct ew_detector_memory {
	uint32_t awake;	   /* identities kept in full */
	uint32_t sleeping; /* identities asleep */
	uint32_t workloads;
	uint32_t deadlines;	   /* entries in the deadline heap */
	uint64_t bytes;		   /* the state's estimated size, what memory_budget bounds */
	uint64_t forgotten_idle;   /* identities forgotten after idle_forget */
	uint64_t forgotten_limit;  /* ... beyond max_identities */
	uint64_t forgotten_budget; /* ... beyond memory_budget */
	/* Of those beyond max_identities or memory_budget: the ones active within the longest rule
	 * window, whose next start would still have counted (a restart, a loop's next exit). */
	uint64_t forgotten_in_window;
};
void ew_detector_memory(const struct ew_detector *d, struct ew_detector_memory *ret);
uint32_t ew_detector_active(const struct ew_detector *d);	 /* open episodes */
uint64_t ew_detector_next_deadline(const struct ew_detector *d); /* UINT64_MAX if none */
/*
 * Whether the next ew_detector_advance() has work that no deadline stands for: forgetting was
 * cut short at its bound, or an episode closed and the identities it kept awake may sleep. A
 * caller that sleeps until the next deadline calls it again soon instead.
 */
bool ew_detector_has_work(const struct ew_detector *d);

/*
 * ---- The detector's state as plain values, out and back in ----
 *
 * What a restart of the agent must not forget: windows, open episodes, running starts. The
 * export walks it, the import builds it again; persist/ turns it into a file. Deadlines are not
 * part of it: the import derives them again from the times it is given. Every struct below is
 * plain data; what an export hands out is valid during the callback only.
 */

/* One sample of a window. */
struct ew_detector_sample {
	uint64_t t;	/* ns, not later than the state's now_ns */
	uint32_t ident; /* serial of the identity it belongs to */
	int16_t code;	/* exit code */
	uint8_t signal; /* terminating signal */
	uint8_t flags;	/* outcomes: EW_DETECTOR_SAMPLE_OK; exits: the exit class << 4 */
};

#define EW_DETECTOR_SAMPLE_OK 0x01 /* an outcome: the start succeeded */
/* An identity's last exit: another process stopped the start before it was decided */
#define EW_DETECTOR_SAMPLE_STOPPED 0x02

struct ew_detector_samples {
	const struct ew_detector_sample *v; /* oldest first */
	size_t n;
};

/* An open episode: a finding that fired and has not resolved yet. */
struct ew_detector_episode {
	enum ew_rule rule;   /* any but EW_RULE_STABLE, a milestone without an episode */
	const char *id;	     /* finding_id: "f-" and 16 lower-case hex digits */
	uint64_t fired_ns;   /* when the finding fired */
	uint64_t last_ns;    /* last counted event (fired_ns..now_ns): resolution runs from it */
	uint32_t total;	     /* events counted over the episode */
	uint32_t last_ident; /* serial of the identity last involved */
};

/* What an identity and a workload both count. */
struct ew_detector_scope {
	struct ew_detector_samples exits;     /* main-process exits */
	struct ew_detector_samples restarts;  /* restarts */
	struct ew_detector_samples outcomes;  /* start outcomes */
	const struct ew_detector_episode *ep; /* open episodes, one per rule at most */
	size_t nep;
};

struct ew_detector_workload {
	const char *key;			/* not empty, once per state */
	const struct ew_identity *last_subject; /* the identity last involved, or NULL */
	struct ew_detector_scope s;
};

struct ew_detector_ident {
	const char *key;		   /* not empty, once per state */
	const char *workload;		   /* its workload's key ("": its own key) */
	const struct ew_identity *subject; /* what findings name it by (key: the same), or NULL */
	uint32_t serial;		   /* 1..UINT32_MAX - 1, once per state */
	uint32_t restarts;		   /* restarts seen, the runtime's earlier count included */
	bool exited_before;		   /* the next start is a restart */
	bool looping;			   /* was part of a fired loop: watch for stable */
	/* crash_loop: the failed starts in a row that ended alike (0: none since a success). */
	uint32_t fail_streak;	  /* failed starts in a row with the same code and signal */
	uint64_t streak_first_ns; /* the first of them's exit, not later than now_ns */
	int16_t streak_code;	  /* their exit code; EW_STREAK_START_FAILED: never ran */
	uint8_t streak_signal;	  /* their terminating signal */
	uint32_t line_repeats;	  /* of them, those whose last stderr line was the latest's */
	uint64_t line_hash;	  /* FNV-1a of the latest one's last stderr line (0: none) */
	/* The current run. */
	bool running;
	bool seeded; /* found running at start-up: its start was not seen */
	bool ready;
	bool outcome_done; /* success or failure of this start is decided */
	uint32_t pid;
	uint64_t start_boot_ns;
	uint64_t start_ns;	 /* not later than now_ns */
	uint64_t last_active_ns; /* not later than now_ns */
	bool has_last_exit;
	struct ew_detector_sample last_exit; /* its ident is not used: the identity's serial */
	const struct ew_killer_info *killer; /* who ended the last exit, or NULL */
	const char *tail;		     /* stderr tail of the last failed exit (bytes) */
	uint32_t tail_len;
	bool tail_start_error; /* the tail is a failed start's runtime error */
	struct ew_detector_scope s;
};

/* The detector as a whole. */
struct ew_detector_state {
	uint64_t now_ns;       /* the time it reached: nothing in the state is later */
	uint32_t next_serial;  /* at least 1; an import raises it past every serial it got */
	uint64_t drops_total;  /* kernel records lost so far (ew_detector_note_drops()) */
	uint64_t last_drop_ns; /* a loss happened at or before this time */
};

typedef void (*ew_detector_workload_fn)(void *ctx, const struct ew_detector_workload *wl);
typedef void (*ew_detector_ident_fn)(void *ctx, const struct ew_detector_ident *id);

void ew_detector_export_state(const struct ew_detector *d, struct ew_detector_state *ret);
/*
 * Calls fn for every workload, or every identity: those awake in key order, then those asleep
 * that an export keeps, longest asleep first. A detector imported from it exports the same.
 * Export the workloads first: importing an identity attaches it to its workload. 0, or -ENOMEM
 * when a scratch copy could not be had (the entities after it are not reported).
 */
int ew_detector_export_workloads(const struct ew_detector *d, ew_detector_workload_fn fn,
				 void *ctx);
int ew_detector_export_idents(const struct ew_detector *d, ew_detector_ident_fn fn, void *ctx);

/*
 * An import builds a fresh state beside d, from the state, then its workloads, then its
 * identities, and checks the detector's invariants on the way (times not later than now_ns,
 * serials, episode ids and rules, exit classes, keys given once). The first problem is the
 * error: it is written into err (one line, what was wrong and where), every later call is a
 * no-op that returns it. The state is copied: nothing given must outlive the call.
 */
struct ew_detector_import;

/*
 * A state's times are on the clock the detector was given (the wall clock) as it read when the
 * state was saved. A state later than that clock now by more than this was saved while the
 * clock was ahead, set right since (NTP): kept as it is, it would be the detector's time, and
 * every later event would be taken for one at that time (a 7-minute loop, squashed into an
 * instant, a burst). Within it, a difference is the clocks' own drift and read order.
 */
#define EW_DETECTOR_CLOCK_SLACK_NS (60ULL * 1000000000ULL)

/*
 * NULL only when out of memory. err (errlen bytes) receives the import's message. now_ns is the
 * clock now (UINT64_MAX: no clock to compare with): a state later than it by more than
 * EW_DETECTOR_CLOCK_SLACK_NS has every time moved back by the difference, so that it ends now
 * (ew_detector_import_shift() says by how much); the checks are the state's own, before it.
 */
struct ew_detector_import *ew_detector_import_begin(const struct ew_detector *d,
						    const struct ew_detector_state *st,
						    uint64_t now_ns, char *err, size_t errlen);
/* How far back the state's times are moved (0: not at all). */
uint64_t ew_detector_import_shift(const struct ew_detector_import *im);
/* 0, -EINVAL (the message is in err) or -ENOMEM. */
int ew_detector_import_workload(struct ew_detector_import *im,
				const struct ew_detector_workload *wl);
int ew_detector_import_ident(struct ew_detector_import *im, const struct ew_detector_ident *id);
/*
 * Ends the import and frees im. When commit is true and every step succeeded, d takes the
 * imported state (its deadlines derived again) and 0 is returned. Otherwise d is left empty,
 * never half a state, and the import's error is returned (-ECANCELED when only the caller
 * gave up: its own message stands).
 */
int ew_detector_import_end(struct ew_detector_import *im, struct ew_detector *d, bool commit);

#endif
