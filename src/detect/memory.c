// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What the detector remembers, and for how long: identities and workloads found or made by
 * key (waking those asleep, sleep.c), and forgotten when idle too long or beyond
 * max_identities or memory_budget, the least useful first. Forgetting is counted
 * (ew_detector_memory(), exported as metrics).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detector_int.h"

/* asleep: whether k's sleeper has to be looked for (false: the caller just did). */
static struct workload *workload_get(struct ew_detector *d, const struct det_key *k, bool asleep)
{
	struct workload *wl = ew_map_get_h(d->workloads, k->s, k->len, k->hash);
	struct sleeper *s;

	if (wl)
		return wl;
	/* A workload of one asleep inside its identity (same key): wake both. */
	s = asleep ? ew_det_sleeper_get(d, k) : NULL;
	if (s && !s->wl) {
		struct ident *id = ew_det_wake(d, s);

		return id ? id->wl : NULL;
	}
	return ew_det_workload_add(d, k);
}

struct workload *ew_det_workload_get(struct ew_detector *d, const char *key)
{
	struct det_key k = ew_det_key(key);

	return workload_get(d, &k, true);
}

struct ident *ew_det_ident_get(struct ew_detector *d, const char *key, const char *workload,
			       bool create)
{
	struct det_key k = ew_det_key(key), wk;
	struct ident *id = ew_map_get_h(d->idents, k.s, k.len, k.hash);
	struct workload *wl;
	struct sleeper *s;
	bool same;

	if (id)
		return id;
	s = ew_det_sleeper_get(d, &k);
	if (s)
		return ew_det_wake(d, s);
	if (!create)
		return NULL;
	/*
	 * No sleeper has this key, so none is looked for again when the workload has it too.
	 * Waking the workload's sleeper wakes the identity of the workload's key only: never
	 * this one, which was neither awake nor asleep; it is made now.
	 */
	same = !workload[0] || !strcmp(workload, key);
	wk = same ? k : ew_det_key(workload);
	wl = workload_get(d, &wk, !same);
	if (!wl)
		return NULL;
	id = ew_det_ident_new(d, &k, wl, d->next_serial);
	if (!id) {
		ew_det_workload_maybe_free(d, wl);
		return NULL;
	}
	d->next_serial++;
	ew_det_lru_touch(d, id, d->now_ns);
	return id;
}

void ew_det_ident_free(struct ew_detector *d, struct ident *id)
{
	struct workload *wl = id->wl;

	ew_det_lru_unlink(d, id);
	ew_map_del_h(d->idents, id->key, id->klen, id->khash);
	ew_map64_del(d->serials, id->serial);
	ew_det_ident_destroy(id);
	wl->nidents--;
	ew_det_workload_maybe_free(d, wl);
}

struct ident *ew_det_ident_by_serial(struct ew_detector *d, uint32_t serial)
{
	struct ident *id = ew_map64_get(d->serials, serial);
	struct sleeper *s;

	if (id)
		return id;
	s = ew_map64_get(d->sleeper_serials, serial);
	return s ? ew_det_wake(d, s) : NULL;
}

static uint32_t remembered(const struct ew_detector *d)
{
	return (uint32_t)(ew_map_count(d->idents) + ew_map_count(d->sleepers));
}

static bool over_budget(const struct ew_detector *d)
{
	return d->cfg.memory_budget && ew_det_bytes(d) > d->cfg.memory_budget;
}

/* Over max_identities or memory_budget: which counter the forgotten go to, or NULL. */
static uint64_t *over_limits(struct ew_detector *d)
{
	if (remembered(d) > d->cfg.max_identities)
		return &d->mem.forgotten_limit;
	if (over_budget(d))
		return &d->mem.forgotten_budget;
	return NULL;
}

static bool idle(const struct ew_detector *d, uint64_t last_active_ns, uint64_t now)
{
	return now >= last_active_ns && now - last_active_ns >= d->cfg.idle_forget_ns;
}

static uint64_t *why_forget(struct ew_detector *d, uint64_t last_active_ns, uint64_t now)
{
	return idle(d, last_active_ns, now) ? &d->mem.forgotten_idle : over_limits(d);
}

/*
 * Counts one forgotten for why. Forgetting beyond a limit within the longest rule window is
 * counted apart too: that costs detection (its next start would have counted, and the agent
 * warns of it), where a one-shot job's identity gone after its windows is only memory.
 */
static void count_forgotten(struct ew_detector *d, uint64_t *why, uint64_t last_active_ns,
			    uint64_t now)
{
	(*why)++;
	if (why != &d->mem.forgotten_idle &&
	    (now < last_active_ns || now - last_active_ns < d->keep_ns))
		d->mem.forgotten_in_window++;
}

/*
 * Forgets identities idle too long, or beyond max_identities or memory_budget: the least useful
 * first. Those asleep go first, longest asleep first (clean and old: they hold no open window
 * of their own); then awake ones, least recently active first. Running identities and those an
 * open episode needs are kept: a finding never loses its episode. Bounded work per call: busy
 * identities at the front are rotated to the back. Not inlined into ew_det_evict(): its loops'
 * saved registers would be every call's.
 */
static __attribute__((noinline)) void evict(struct ew_detector *d, uint64_t now)
{
	uint64_t *why;
	int steps, forgot = 0;

	for (steps = 0; steps < 64 && d->sleep_head; steps++) {
		why = why_forget(d, d->sleep_head->last_active_ns, now);
		if (!why)
			break;
		count_forgotten(d, why, d->sleep_head->last_active_ns, now);
		ew_det_sleeper_forget(d, d->sleep_head);
	}
	/* A bound cut it short: the next advance goes on (ew_detector_has_work()). */
	d->evict_more = steps == 64;
	for (steps = 0; steps < 16 && d->lru_head; steps++) {
		struct ident *id = d->lru_head;

		why = why_forget(d, id->last_active_ns, now);
		if (!why)
			return;
		if (id->running || !ew_det_scope_quiet(&id->s)) {
			ew_det_lru_touch(d, id, id->running ? now : id->last_active_ns);
			continue;
		}
		count_forgotten(d, why, id->last_active_ns, now);
		ew_det_ident_free(d, id);
		forgot++;
	}
	/* Only rotations (identities that must stay): no sooner than the next event or tick. */
	if (steps == 16 && forgot)
		d->evict_more = true;
}

/*
 * Called for every event: the common case, nothing to forget, is told by asking what evict()
 * would ask the heads of its two lists first, without its loops' set-up: whether the older of
 * the two is idle (idleness only grows with age), and the limits, once.
 */
void ew_det_evict(struct ew_detector *d, uint64_t now)
{
	uint64_t oldest;

	if (!d->sleep_head && !d->lru_head) {
		d->evict_more = false;
		return;
	}
	oldest = d->sleep_head ? d->sleep_head->last_active_ns : UINT64_MAX;
	if (d->lru_head && d->lru_head->last_active_ns < oldest)
		oldest = d->lru_head->last_active_ns;
	if (idle(d, oldest, now) || over_limits(d)) {
		evict(d, now);
		return;
	}
	d->evict_more = false;
}

static void free_ident_cb(void *ctx, const void *k, size_t kl, void *v)
{
	ew_det_ident_destroy(v);
}

static void free_wl_cb(void *ctx, const void *k, size_t kl, void *v)
{
	ew_det_workload_destroy(v);
}

void ew_detector_free(struct ew_detector *d)
{
	if (!d)
		return;
	ew_det_sleepers_free(d);
	if (d->idents)
		ew_map_foreach(d->idents, free_ident_cb, NULL);
	if (d->workloads)
		ew_map_foreach(d->workloads, free_wl_cb, NULL);
	ew_map_free(d->idents);
	ew_map_free(d->workloads);
	ew_map64_free(d->serials);
	ew_map_free(d->sleepers);
	ew_map64_free(d->sleeper_serials);
	free(d->heap);
	free(d);
}

void ew_detector_seed_restarts(struct ew_detector *d, const struct ew_identity *idn,
			       uint32_t restarts)
{
	struct ident *id;

	if (ew_det_ident_get(d, idn->key, idn->workload, false))
		return;
	id = ew_det_ident_get(d, idn->key, idn->workload, true);
	if (!id)
		return;
	id->exited_before = true;
	id->restarts = restarts;
}

uint32_t ew_detector_identities(const struct ew_detector *d)
{
	return remembered(d);
}

void ew_detector_memory(const struct ew_detector *d, struct ew_detector_memory *ret)
{
	*ret = d->mem;
	ret->awake = (uint32_t)ew_map_count(d->idents);
	ret->sleeping = (uint32_t)ew_map_count(d->sleepers);
	ret->workloads = (uint32_t)ew_map_count(d->workloads);
	ret->deadlines = (uint32_t)d->nheap;
	ret->bytes = ew_det_bytes(d);
}
