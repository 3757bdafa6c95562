/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The detector's state, shared by detector.c (identities, workloads, deadlines, memory),
 * events.c (what each event changes), rules.c (the windowed rules and deadlines), episode.c
 * (firing and resolving), crash_loop.c (the streak rule), evidence.c (what a finding says),
 * export.c and import.c (the state as plain values, and back). Not a public
 * header.
 */
#ifndef EXITWATCH_DETECTOR_INT_H
#define EXITWATCH_DETECTOR_INT_H

#include <string.h>

#include "exitwatch/detect/detector.h"
#include "exitwatch/util/map.h"
#include "exitwatch/util/map64.h"
#include "detect/window_int.h"

/* A window never needs more samples than this to decide anything; beyond it the oldest go. */
#define EW_WINDOW_MAX_SAMPLES 65536
/*
 * A start stopped by another process before it was decided is a failed one when its identity
 * starts again within this: restart policies back off at most 5 minutes (the kubelet) or 1
 * (Docker); a start later than that is an operator's.
 */
#define EW_STOPPED_RESTART_NS (10 * 60 * 1000000000ULL)

struct episode {
	bool open;
	char id[24];	     /* finding_id */
	uint64_t fired_ns;   /* when the finding fired */
	uint64_t last_ns;    /* last counted event: resolution clocks run from it */
	uint32_t total;	     /* events counted over the episode */
	uint32_t last_ident; /* serial of the identity last involved */
	uint32_t gen;	     /* bumped on every change: stale deadlines are skipped */
};

/* What both an identity and a workload count: each rule reads the one its scope names. */
struct scope_state {
	struct ew_window exits;	   /* main-process exits (code, signal, class) */
	struct ew_window restarts; /* restarts */
	struct ew_window outcomes; /* start outcomes (EW_SAMPLE_OK or failed) */
	struct episode ep[EW_RULE__COUNT];
	uint32_t
		pending; /* workloads: deadlines in the heap that point here: not freed while > 0 */
};

/* An identity and a workload are one allocation each, their key at the end. */
struct workload {
	struct scope_state s;
	struct ew_subject *last_subject; /* the identity last involved, to name findings */
	uint32_t nidents;
	uint32_t klen, khash; /* strlen(key), ew_map_hash() of it: for the maps */
	char key[];
};

struct ident {
	struct scope_state s;
	struct workload *wl;
	struct ew_subject *subject;
	uint32_t serial;
	uint32_t restarts;  /* restarts seen, the runtime's earlier count included */
	bool exited_before; /* the next start is a restart */
	bool looping;	    /* was part of a fired loop: watch for the stable milestone */
	bool stable_armed;  /* the current run has its stable deadline */

	/* crash_loop (crash_loop.c): the failed starts in a row that ended with one exit code. */
	uint32_t fail_streak;	  /* how many; 0 after a successful start */
	uint64_t streak_first_ns; /* the first one's exit */
	int16_t streak_code;	  /* their exit code; EW_STREAK_START_FAILED: never ran */
	uint8_t streak_signal;	  /* their terminating signal */
	uint32_t line_repeats;	  /* of them, those whose last stderr line was the latest's */
	uint64_t line_hash;	  /* FNV-1a of the latest one's last stderr line; 0: none */

	/* The current run. */
	bool running;
	bool seeded; /* found running at start-up: its start was not seen */
	bool ready;
	bool outcome_done; /* success or failure of this start is decided */
	uint32_t pid;
	uint64_t start_boot_ns;
	uint64_t start_ns;
	uint32_t run_gen; /* bumped per start: stale grace/stable deadlines are skipped */

	bool has_last_exit;
	struct ew_sample last_exit;
	/* Who sent the signal that ended the last exit (the event's killed_by), or NULL: kept
	 * apart, as most exits have none, so that its findings can name the killer too. */
	struct ew_killer_info *killer;
	char *tail; /* stderr tail of the last failed exit */
	uint32_t tail_len;
	/* The tail is a failed start's runtime error (EW_TAIL_START_ERROR), not its stderr. */
	bool tail_start_error;

	uint64_t last_active_ns;
	struct ident *lru_prev, *lru_next; /* least recently active first */
	uint32_t klen, khash;		   /* strlen(key), ew_map_hash() of it: for the maps */
	char key[];
};

/*
 * A sleeping identity (sleep.c): one that has exited, is in no open episode and whose
 * workload has none, packed into one allocation with what a later event can still refer to:
 * its counts, its last exit, its window samples and stderr tail. Names (the subject) are not
 * kept: the next start brings them again. Its workload stays awake when others share it (wl);
 * a workload of its own with the very same samples sleeps inside it (wl NULL).
 */
struct sleeper {
	struct sleeper *prev, *next; /* asleep longest first: the first forgotten */
	const char *key;	     /* the sleepers map's copy (a C string) */
	struct workload *wl;	     /* its awake workload, or NULL: its own, asleep here */
	uint64_t last_active_ns;
	struct ew_sample last_exit;
	uint32_t serial, restarts;
	uint32_t n[3];	   /* samples: exits, restarts, outcomes */
	uint32_t tail_len; /* bytes of stderr tail after the samples */
	uint32_t size;	   /* bytes of this allocation (the budget counts it) */
	/*
	 * A bit each: as five bools they took the struct from 88 bytes to 96, and a clean
	 * sleeper with its two samples from malloc's 128-byte chunk to its 144-byte one.
	 */
	bool exited_before : 1, has_last_exit : 1;
	bool has_streak : 1;	   /* a struct sleeper_streak follows the tail */
	bool has_killer : 1;	   /* a struct ew_killer_info follows them: the last exit's */
	bool tail_start_error : 1; /* as struct ident's */
	char data[]; /* samples (struct ew_sample), the tail, the streak, the killer */
};

/* crash_loop's streak of a sleeper whose last starts failed (struct ident's fields). */
struct sleeper_streak {
	uint64_t first_ns, line_hash;
	uint32_t fail, line_repeats;
	int16_t code;
	uint8_t signal;
};

/*
 * An identity's or workload's key with its length and map hash, found once: a new container's
 * key is looked up in three maps (awake, asleep, workloads), put in two and deleted from three,
 * and hashing it for each was 2.6% of a record's instructions (docs/benchmarks.md).
 */
struct det_key {
	const char *s;
	size_t len;
	uint32_t hash;
};

static inline struct det_key ew_det_key(const char *s)
{
	size_t len = strlen(s);

	return (struct det_key){.s = s, .len = len, .hash = ew_map_hash(s, len)};
}

enum timer_kind {
	T_RESOLVE, /* re-check an open episode's resolution */
	T_GRACE,   /* a start survived its grace period */
	T_STABLE,  /* a looping identity's run reached the stable uptime */
};

struct timer {
	uint64_t at;
	uint64_t seq; /* insertion order: ties are processed first-in first-out */
	enum timer_kind kind;
	enum ew_rule rule;
	/*
	 * T_GRACE, T_STABLE, T_RESOLVE on an identity: the identity by serial, not by pointer, so
	 * that a deadline made stale by an exit never keeps an identity awake or in memory (the
	 * serial of one forgotten or asleep finds nothing and the deadline is skipped).
	 */
	uint32_t serial;
	uint32_t gen;
	struct workload *wl; /* T_RESOLVE on a workload (holds it: wl->s.pending) */
};

struct ew_detector {
	struct ew_detector_config cfg;
	struct ew_map *idents;	  /* key -> struct ident */
	struct ew_map *workloads; /* key -> struct workload */
	struct ew_map64 *serials; /* serial -> struct ident */
	uint32_t next_serial;
	struct ident *lru_head, *lru_tail;
	uint32_t gen_seq;    /* run and episode generations: never reused, even across a sleep */
	uint32_t stale_hint; /* deadlines made stale since the last filter, about */

	/* Sleeping identities (sleep.c). */
	struct ew_map *sleepers;	  /* key -> struct sleeper */
	struct ew_map64 *sleeper_serials; /* serial -> sleeper, when its workload is awake */
	struct sleeper *sleep_head, *sleep_tail;
	uint64_t sleeper_bytes; /* their allocations */
	bool sleep_scan;	/* an episode closed: identities it kept awake may sleep */
	bool evict_more;	/* ew_det_evict() stopped at its bound with more to forget */
	struct ew_detector_memory mem;

	struct timer *heap;
	size_t nheap, capheap;
	uint64_t seq;
	uint64_t now_ns;  /* time reached: never goes backwards */
	uint64_t keep_ns; /* the longest rule window: older samples are pruned */

	uint64_t drops_total;
	uint64_t last_drop_ns; /* a loss happened at or before this time */
	uint32_t active;       /* open episodes */

	/* Scratch for the finding handed to the callback. */
	struct ew_finding f;
};

/*
 * Index of the first sample in the window (now - window, now]. Virtual time may start near 0
 * (replays, tests): when now < window every sample is inside, rather than none after a wrap.
 */
static inline uint32_t ew_det_first_in(const struct ew_window *w, uint64_t now, uint64_t window)
{
	return now >= window ? ew_window_first_after(w, now - window) : 0;
}

/* detector.c */
/* A new workload of a key known not to be in d->workloads (asleep ones are memory.c's job). */
struct workload *ew_det_workload_add(struct ew_detector *d, const struct det_key *k);
/* A new identity in wl, with that serial, in the maps (not yet in the LRU list). */
struct ident *ew_det_ident_new(struct ew_detector *d, const struct det_key *k, struct workload *wl,
			       uint32_t serial);

/* memory.c */
struct workload *ew_det_workload_get(struct ew_detector *d, const char *key);
struct ident *ew_det_ident_get(struct ew_detector *d, const char *key, const char *workload,
			       bool create);
int ew_det_timer_add(struct ew_detector *d, const struct timer *t);
struct timer ew_det_timer_pop(struct ew_detector *d);
/* Drops the deadlines keep() says are stale, O(n): what runs later runs in the same order. */
void ew_det_timer_filter(struct ew_detector *d,
			 bool (*keep)(struct ew_detector *d, const struct timer *t));
void ew_det_lru_touch(struct ew_detector *d, struct ident *id, uint64_t now);
void ew_det_workload_maybe_free(struct ew_detector *d, struct workload *wl);
void ew_det_evict(struct ew_detector *d, uint64_t now);
void ew_det_ident_free(struct ew_detector *d, struct ident *id);
void ew_det_ident_destroy(struct ident *id);
void ew_det_workload_destroy(struct workload *wl);
bool ew_det_scope_quiet(const struct scope_state *s);
void ew_det_lru_unlink(struct ew_detector *d, struct ident *id);
/* The identity with that serial, woken if it sleeps; NULL if forgotten. */
struct ident *ew_det_ident_by_serial(struct ew_detector *d, uint32_t serial);

/* sleep.c */
void ew_det_try_sleep(struct ew_detector *d, struct ident *id);
/* Every identity that may sleep does: after an episode closed (O(awake identities), rare). */
void ew_det_sleep_all(struct ew_detector *d);
struct ident *ew_det_wake(struct ew_detector *d, struct sleeper *s);
void ew_det_sleeper_forget(struct ew_detector *d, struct sleeper *s);
void ew_det_sleepers_free(struct ew_detector *d);
/* The sleeper of that identity key, or NULL. */
struct sleeper *ew_det_sleeper_get(const struct ew_detector *d, const struct det_key *k);
const char *ew_det_sleeper_tail(const struct sleeper *s);
/* Its crash_loop streak into *k: false when its last start did not fail. */
bool ew_det_sleeper_streak(const struct sleeper *s, struct sleeper_streak *k);
/* The killer of its last exit, copied out (the packed bytes are not aligned), if it has one. */
bool ew_det_sleeper_killer(const struct sleeper *s, struct ew_killer_info *k);
/* Sample i of window k (0 exits, 1 restarts, 2 outcomes) of a sleeper. */
static inline struct ew_sample ew_det_sleeper_sample(const struct sleeper *s, int k, uint32_t i)
{
	struct ew_sample x;
	uint32_t skip = i;

	for (int j = 0; j < k; j++)
		skip += s->n[j];
	__builtin_memcpy(&x, s->data + (size_t)skip * sizeof(x), sizeof(x));
	return x;
}
/* Bytes the detector's state takes, estimated (ew_detector_memory()). */
uint64_t ew_det_bytes(const struct ew_detector *d);

static inline uint64_t ew_det_add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* episode.c */
/* When an open crash_loop episode ends for quiet: UINT64_MAX while its identity runs. */
uint64_t ew_det_crash_loop_quiet_end(const struct ew_detector *d, const struct ident *id,
				     const struct episode *ep);
/*
 * Whether rule counts in this scope (wl: a workload's, NULL: an identity's) in this
 * configuration: an episode restored from a state file written under another may be in the
 * other one.
 */
bool ew_det_scope_counted(const struct ew_detector *d, enum ew_rule rule,
			  const struct workload *wl);
void ew_det_schedule_episode(struct ew_detector *d, struct ident *id, struct workload *wl,
			     enum ew_rule rule);
void ew_det_arm_stable(struct ew_detector *d, struct ident *id);
void ew_det_fire(struct ew_detector *d, struct scope_state *s, struct workload *wl,
		 struct ident *id, enum ew_rule rule, uint32_t count, uint64_t now,
		 ew_finding_fn fn, void *ctx);
void ew_det_resolve(struct ew_detector *d, struct scope_state *s, struct workload *wl,
		    struct ident *owner, enum ew_rule rule, uint64_t at, enum ew_resolution why,
		    ew_finding_fn fn, void *ctx);

/* rules.c */
void ew_det_timers_tidy(struct ew_detector *d);
void ew_det_eval_count(struct ew_detector *d, struct ident *id, enum ew_rule rule, uint64_t now,
		       ew_finding_fn fn, void *ctx);
void ew_det_eval_startup(struct ew_detector *d, struct ident *id, bool ok, uint64_t now,
			 ew_finding_fn fn, void *ctx);
int ew_det_outcome(struct ew_detector *d, struct ident *id, bool ok, uint64_t at, ew_finding_fn fn,
		   void *ctx);

/* crash_loop.c: a start's outcome, after the other rules have seen it. */
void ew_det_crash_loop(struct ew_detector *d, struct ident *id, bool ok, uint64_t at,
		       ew_finding_fn fn, void *ctx);

/* evidence.c: fills d->f for a rule on a scope at time now. */
void ew_det_evidence(struct ew_detector *d, enum ew_rule rule, struct scope_state *s,
		     struct workload *wl, struct ident *subject, uint64_t now);
/* The window a rule counts in. */
const struct ew_window *ew_det_rule_window(struct scope_state *s, enum ew_rule rule);
bool ew_det_counts(const struct ew_detector *d, enum ew_rule rule, const struct ew_sample *x);
void ew_det_episode_id(enum ew_rule rule, const char *key, uint64_t fired_ns, char out[24]);

#endif
