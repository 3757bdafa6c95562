// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What each event changes. Every event first advances the clock to its own time (processing due
 * deadlines in order), then updates the identity's and the workload's windows, then evaluates
 * the rules that event can move (rules.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detector_int.h"
#include "exitwatch/util/util.h"

enum sample_kind {
	K_EXITS,
	K_RESTARTS,
};

static struct ew_window *window_of(struct scope_state *s, enum sample_kind k)
{
	return k == K_EXITS ? &s->exits : &s->restarts;
}

/* Both scopes count every sample; each rule reads the one it is configured for. */
static int push_both(struct ident *id, enum sample_kind k, const struct ew_sample *x)
{
	int r = ew_window_push(window_of(&id->s, k), x);

	return r ?: ew_window_push(window_of(&id->wl->s, k), x);
}

static void prune_scope(struct scope_state *s, uint64_t cutoff)
{
	ew_window_prune(&s->exits, cutoff);
	ew_window_prune(&s->restarts, cutoff);
	ew_window_prune(&s->outcomes, cutoff);
}

/* Samples older than the longest rule window can no longer count. */
static void prune(struct ew_detector *d, struct ident *id, uint64_t now)
{
	if (now <= d->keep_ns)
		return;
	prune_scope(&id->s, now - d->keep_ns);
	prune_scope(&id->wl->s, now - d->keep_ns);
}

/*
 * Whether a start names the run the identity already has. The start-up scan reads the start from
 * /proc/<pid>/stat, in clock ticks, and the kernel's exec event gave nanoseconds: a run a
 * checkpoint carried across an agent restart is compared at the scan's resolution.
 */
static bool same_run(const struct ident *id, const struct ew_event *ev)
{
	if (!id->running || id->pid != ev->pid)
		return false;
	if (ev->seeded)
		return id->start_boot_ns / EW_NS_PER_TICK == ev->start_boot_ns / EW_NS_PER_TICK;
	return id->start_boot_ns == ev->start_boot_ns;
}

/*
 * Whether a process found running at agent start is a restart that came while no agent ran: the
 * identity's last run (the state file's, its start known in this boot: ew_detector_other_boot()
 * forgets those of another) has ended, its exit seen or its process gone at the restore
 * (ew_detector_runs_gone()), and this one began after it. A container's main is one process at
 * a time, so at least one restart came in between; more cannot be told. An identity the file
 * does not know, or knows asleep (no start kept), tells nothing: the process may be its first
 * run.
 */
static bool restarted_unseen(const struct ident *id, const struct ew_event *ev)
{
	return ev->seeded && id->start_boot_ns && id->exited_before && !id->running &&
	       ev->start_boot_ns / EW_NS_PER_TICK > id->start_boot_ns / EW_NS_PER_TICK;
}

/*
 * When that restart came: the last run's start plus the time between the two starts on the
 * boot-time clock, never after now (a last run found running itself has the scan's time as its
 * start, later than its real one).
 */
static uint64_t unseen_at(const struct ident *id, const struct ew_event *ev, uint64_t now)
{
	uint64_t t = ew_det_add_sat(id->start_ns, ev->start_boot_ns - id->start_boot_ns);

	return t < now ? t : now;
}

static int on_start(struct ew_detector *d, struct ident *id, const struct ew_event *ev,
		    uint64_t now, ew_finding_fn fn, void *ctx, struct ew_startup *ret)
{
	bool restart, unseen = false;
	uint64_t at = now;
	int r = 0;

	if (same_run(id, ev)) /* already known (a checkpoint carried it across an agent restart) */
		goto out;
	/*
	 * A process found running at agent start began at an unknown time: it is neither a
	 * restart nor a start whose outcome can be judged, unless the state file's last run of
	 * its identity proves it a later one. A start over a running process means that one's
	 * exit was missed: a restart all the same.
	 */
	unseen = restarted_unseen(id, ev);
	if (unseen)
		at = unseen_at(id, ev, now);
	restart = unseen || (!ev->seeded && (id->exited_before || id->running));
	if (id->last_exit.flags & EW_SAMPLE_STOPPED) {
		/*
		 * The last run was stopped by another process before its start was decided. A
		 * restart policy starting it again (a liveness probe's kill, the kubelet's back-off
		 * at most 5 minutes, Docker's at most 1) makes that a failed start; no start since
		 * (a rollout, a deleted pod, `docker stop`) or one long after (an operator's) none.
		 */
		id->last_exit.flags &= (uint8_t)~EW_SAMPLE_STOPPED;
		if (restart && now - id->last_exit.t <= EW_STOPPED_RESTART_NS)
			r = ew_det_outcome(d, id, false, now, fn, ctx);
	}
	id->running = true;
	id->seeded = ev->seeded;
	id->ready = false;
	id->outcome_done = ev->seeded;
	id->pid = ev->pid;
	id->start_boot_ns = ev->start_boot_ns;
	id->start_ns = now;
	id->run_gen = ++d->gen_seq;
	id->stable_armed = false;
	if (restart) {
		struct ew_sample x = {.t = at, .ident = id->serial};
		int p;

		id->restarts++;
		p = push_both(id, K_RESTARTS, &x);
		if (!p)
			ew_det_eval_count(d, id, EW_RULE_RESTART_RATE, now, fn, ctx);
		/* cppcheck-suppress selfAssignment ; GNU "a ?: b", not r = r */
		r = p ?: r;
	}
	if (!ev->seeded) {
		struct timer t = {.at = ew_det_add_sat(now, d->cfg.startup_grace_ns),
				  .kind = T_GRACE,
				  .serial = id->serial,
				  .gen = id->run_gen};

		/* cppcheck-suppress selfAssignment ; GNU "a ?: b", not r = r */
		r = ew_det_timer_add(d, &t) ?: r;
	}
	ew_det_arm_stable(d, id);
out:
	if (ret) {
		ret->known = !id->seeded;
		ret->restarts = id->restarts;
		ret->unseen = unseen;
	}
	return r;
}

static int on_ready(struct ew_detector *d, struct ident *id, uint64_t now, ew_finding_fn fn,
		    void *ctx)
{
	if (!id->running || id->ready)
		return 0;
	id->ready = true;
	return id->outcome_done ? 0 : ew_det_outcome(d, id, true, now, fn, ctx);
}

/* Keeps the last tail_max bytes: the end of stderr says why it died (a failed start's runtime
 * error, why it never ran). */
static void keep_tail(struct ew_detector *d, struct ident *id, const struct ew_event *ev)
{
	uint32_t len = ev->tail_len < EW_STDERR_CAP ? ev->tail_len : EW_STDERR_CAP;
	uint32_t n = len < d->cfg.tail_max ? len : d->cfg.tail_max;
	char *t;

	if (!n)
		return;
	t = malloc(n);
	if (!t)
		return;
	memcpy(t, ev->tail + len - n, n);
	free(id->tail);
	id->tail = t;
	id->tail_len = n;
	id->tail_start_error = ev->tail_source == EW_TAIL_START_ERROR;
}

/* The last exit's killer, or none: a finding names the one of the exit it describes. */
static void keep_killer(struct ident *id, const struct ew_event *ev)
{
	if (!ev->has_killer) {
		free(id->killer);
		id->killer = NULL;
		return;
	}
	if (!id->killer)
		id->killer = malloc(sizeof(*id->killer));
	if (id->killer) /* without memory, a finding names no killer: nothing else is lost */
		*id->killer = ev->killer;
}

static int on_main_exit(struct ew_detector *d, struct ident *id, const struct ew_event *ev,
			enum ew_exit_class cls, uint64_t now, ew_finding_fn fn, void *ctx,
			struct ew_startup *ret)
{
	struct ew_sample x = {.t = now,
			      .ident = id->serial,
			      .code = (int16_t)ev->status.code,
			      .signal = (uint8_t)ev->status.signal,
			      .flags = (uint8_t)(cls << 4)};
	/*
	 * Stopped by another process before it could succeed (its signal, in ev->killer, is what
	 * ended it): a rollout, `kubectl delete pod`, `docker stop`, a liveness probe's kill. The
	 * start is not decided here: a restart soon after makes it a failed one (on_start()).
	 */
	bool stopped = ev->has_killer && (cls == EW_CLASS_TERMINATED || cls == EW_CLASS_KILLED);
	bool open = id->running && !id->outcome_done, decide = open && !stopped;
	bool known = id->running && !id->seeded && (id->outcome_done || decide);
	int r;

	if (ret) {
		ret->known = known;
		ret->ready = id->running && id->ready;
		/* Before the exit only a success can be decided (ready, grace period); a completed
		 * run (exit 0) is a job finishing, any other exit a failed start. */
		ret->succeeded = known && (id->outcome_done || cls == EW_CLASS_CLEAN);
		ret->restarts = id->restarts;
	}
	id->running = false;
	id->exited_before = true;
	id->has_last_exit = true;
	id->last_exit = x;
	if (open && stopped)
		id->last_exit.flags |= EW_SAMPLE_STOPPED;
	keep_killer(id, ev);
	if (cls != EW_CLASS_CLEAN)
		keep_tail(d, id, ev);
	/* The sample, class and tail go in first: findings this exit causes describe it. */
	r = push_both(id, K_EXITS, &x);
	/* A failed start's code is its runtime's, not one the application chose. */
	if (!r && !ev->status.signal && cls != EW_CLASS_START_FAILED &&
	    ew_rule_has_code(&d->cfg.rules[EW_RULE_EXIT_CODE_BURST], ev->status.code))
		ew_det_eval_count(d, id, EW_RULE_EXIT_CODE_BURST, now, fn, ctx);
	if (open && !decide)
		d->stale_hint++; /* its grace deadline, as a decided start's (ew_det_outcome) */
	if (decide)
		/* cppcheck-suppress selfAssignment ; GNU "a ?: b", not r = r */
		r = ew_det_outcome(d, id, cls == EW_CLASS_CLEAN, now, fn, ctx) ?: r;
	else if (id->s.ep[EW_RULE_CRASH_LOOP].open)
		/* An exit that decides no start (of one found running at start-up, or stopped):
		 * crash_loop's quiet period starts from it all the same. */
		ew_det_schedule_episode(d, id, NULL, EW_RULE_CRASH_LOOP);
	return r;
}

/*
 * One packed copy, held by the identity and by its workload as the last one involved: the
 * resolver's own when it hands one over (a running container's names are kept once).
 */
static void update_subject(struct ident *id, const struct ew_identity *idn)
{
	struct ew_subject *s = idn->packed ? ew_subject_ref(idn->packed) : ew_subject_pack(idn);

	if (!s)
		return;
	ew_subject_free(id->subject);
	id->subject = s;
	ew_subject_free(id->wl->last_subject);
	id->wl->last_subject = ew_subject_ref(s);
}

/*
 * The run of id ended unseen: no exit, no outcome, but it runs no more. asleep: whether the
 * identity may go to sleep now (asleep it keeps no start of its runs).
 */
static void run_lost(struct ew_detector *d, struct ident *id, bool asleep)
{
	id->running = false;
	id->exited_before = true;
	/* crash_loop's quiet period no longer waits for this run's outcome. */
	if (id->s.ep[EW_RULE_CRASH_LOOP].open)
		ew_det_schedule_episode(d, id, NULL, EW_RULE_CRASH_LOOP);
	if (asleep)
		ew_det_try_sleep(d, id);
}

void ew_detector_main_lost(struct ew_detector *d, const struct ew_identity *idn, uint32_t pid,
			   uint64_t start_ticks)
{
	struct det_key k = ew_det_key(idn->key);
	/* Awake only: one asleep or forgotten does not run. */
	struct ident *id = ew_map_get_h(d->idents, k.s, k.len, k.hash);

	if (!id || !id->running || id->pid != pid ||
	    id->start_boot_ns / EW_NS_PER_TICK != start_ticks)
		return;
	run_lost(d, id, true);
}

/* Which awake identities a walk takes: all, those running, those not. */
enum pick {
	PICK_ALL,
	PICK_RUNNING,
	PICK_IDLE
};

struct picker {
	struct ident **end;
	enum pick which;
};

static void pick_one(void *ctx, const void *k, size_t kl, void *v)
{
	struct picker *pk = ctx;
	struct ident *id = v;

	(void)k;
	(void)kl;
	if (pk->which == PICK_ALL || (pk->which == PICK_RUNNING) == id->running)
		*pk->end++ = id;
}

/*
 * The awake identities which picks, in an array the caller frees, their number in *n; NULL
 * when none or out of memory. The map cannot change under a walk (run_lost() and
 * ew_det_try_sleep() may put one to sleep): the callers collect first, then act.
 */
static struct ident **pick_idents(struct ew_detector *d, enum pick which, size_t *n)
{
	size_t max = ew_map_count(d->idents);
	struct picker pk = {.which = which};
	struct ident **v;

	*n = 0;
	if (!max)
		return NULL;
	v = malloc(max * sizeof(*v));
	if (!v)
		return NULL;
	pk.end = v;
	ew_map_foreach(d->idents, pick_one, &pk);
	*n = (size_t)(pk.end - v);
	return v;
}

uint32_t ew_detector_runs_gone(struct ew_detector *d, ew_detector_alive_fn alive, void *ctx)
{
	size_t n;
	struct ident **v = pick_idents(d, PICK_RUNNING, &n);
	uint32_t gone = 0;

	for (size_t i = 0; i < n; i++) {
		if (alive(ctx, v[i]->pid, v[i]->start_boot_ns / EW_NS_PER_TICK))
			continue;
		/* Awake until the scan (ew_detector_scan_done()): its start tells a restart. */
		run_lost(d, v[i], false);
		gone++;
	}
	free(v);
	return gone;
}

uint32_t ew_detector_other_boot(struct ew_detector *d)
{
	size_t n;
	struct ident **v = pick_idents(d, PICK_ALL, &n);
	uint32_t gone = 0;

	for (size_t i = 0; i < n; i++) {
		v[i]->start_boot_ns = 0; /* another boot's clock: compares with nothing now */
		if (!v[i]->running)
			continue;
		run_lost(d, v[i], true);
		gone++;
	}
	free(v);
	return gone;
}

void ew_detector_scan_done(struct ew_detector *d)
{
	size_t n;
	/* Out of memory (NULL): they sleep at their next exit. */
	struct ident **v = pick_idents(d, PICK_IDLE, &n);

	for (size_t i = 0; i < n; i++)
		ew_det_try_sleep(d, v[i]);
	free(v);
}

int ew_detector_observe(struct ew_detector *d, const struct ew_event *ev,
			const struct ew_identity *idn, enum ew_exit_class cls, ew_finding_fn fn,
			void *ctx, struct ew_startup *ret)
{
	struct ident *id;
	uint64_t now;
	int r = 0;

	if (ret)
		memset(ret, 0, sizeof(*ret));
	if (ev->type == EW_EVENT_START && ev->reexec)
		return 0; /* the same main process, a new image: not a new start */
	ew_detector_advance(d, ev->time_ns, fn, ctx);
	now = d->now_ns;
	id = ew_det_ident_get(d, idn->key, idn->workload, true);
	if (!id)
		return -ENOMEM;
	if (!id->subject || ev->type == EW_EVENT_START || ev->type == EW_EVENT_START_FAILED)
		update_subject(id, idn);
	ew_det_lru_touch(d, id, now);
	prune(d, id, now);
	switch (ev->type) {
	case EW_EVENT_START:
		r = on_start(d, id, ev, now, fn, ctx, ret);
		break;
	case EW_EVENT_READY:
		r = on_ready(d, id, now, fn, ctx);
		break;
	case EW_EVENT_EXIT:
		r = on_main_exit(d, id, ev, cls, now, fn, ctx, ret);
		break;
	case EW_EVENT_START_FAILED:
		/* A start, a restart if it had run before, and a failed one at once. */
		r = on_start(d, id, ev, now, fn, ctx, NULL);
		/* cppcheck-suppress selfAssignment ; GNU "a ?: b", not r = r */
		r = on_main_exit(d, id, ev, cls, now, fn, ctx, ret) ?: r;
		break;
	}
	/* An exit that leaves nothing open: what it needs from now on is packed (sleep.c). */
	ew_det_timers_tidy(d);
	if (d->sleep_scan)
		ew_det_sleep_all(d);
	else if (ev->type == EW_EVENT_EXIT || ev->type == EW_EVENT_START_FAILED)
		ew_det_try_sleep(d, id);
	/* A new identity may have taken the count over the limit: the bound holds after each
	 * event, not only at the next one. */
	ew_det_evict(d, now);
	return r;
}
