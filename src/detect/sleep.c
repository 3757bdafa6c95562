// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Identities asleep. Most containers on a churning node (CronJobs, CI runners, batch tasks)
 * start, run and exit once; until forgotten, a later event can still refer to such an
 * identity only through what its windows, counts and last exit hold, and only while nothing
 * of it is open. So when an identity exits and neither it nor its workload is in an open
 * episode or has a deadline, it is packed into one allocation (struct sleeper) holding just
 * that, and the awake struct ident (with its windows, episode slots and names) is freed. A
 * workload of its own, under the same key and with the very same samples, sleeps inside it.
 *
 * Waking is exact: the identity (and such a workload) is rebuilt with the same serial, counts,
 * samples and tail, so the rules see what they would have seen had it stayed awake. What is
 * not kept is its subject (names): any event of its own brings them again (events.c), and a
 * finding about a workload names the workload's last subject.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detector_int.h"
#include "exitwatch/util/util.h"

/*
 * Estimated bytes per awake identity and per workload, beyond what sleepers count exactly:
 * the structs, their keys twice (the map's and the struct's), the map entries, the subject,
 * the rings of a typical identity, and malloc's overhead (massif, docs/benchmarks.md, "Memory
 * at container churn").
 */
#define AWAKE_IDENT_BYTES 1100
#define WORKLOAD_BYTES	  700
/* A sleeper's map entries (key and, for one with an awake workload, serial) and buckets. */
#define SLEEPER_MAP_BYTES(klen) (48 + (klen))
#define SLEEPER_SERIAL_BYTES	64

/*
 * Most sleepers are clean ones with two samples (an exit and an outcome). With malloc's size
 * word they must fit its 128-byte chunk: eight bytes more of struct sleeper cost sixteen per
 * identity asleep (the next chunk is 144 bytes), as a fifth bool once did.
 */
_Static_assert(sizeof(struct sleeper) + 2 * sizeof(struct ew_sample) + sizeof(size_t) <= 128,
	       "a clean sleeper no longer fits malloc's 128-byte chunk");

static const struct ew_window *ident_window(const struct ident *id, int k)
{
	return k == 0 ? &id->s.exits : k == 1 ? &id->s.restarts : &id->s.outcomes;
}

static struct ew_window *scope_window(struct scope_state *s, int k)
{
	return k == 0 ? &s->exits : k == 1 ? &s->restarts : &s->outcomes;
}

/* The workload holds nothing but this identity's samples: it can sleep inside it. */
static bool mirrors(const struct ident *id, const struct workload *wl)
{
	if (wl->nidents != 1 || strcmp(wl->key, id->key) || wl->last_subject != NULL)
		return false;
	for (int k = 0; k < 3; k++) {
		const struct ew_window *a = ident_window(id, k),
				       *b = scope_window((void *)&wl->s, k);

		if (a->n != b->n)
			return false;
		for (uint32_t i = 0; i < a->n; i++)
			if (memcmp(ew_window_at(a, i), ew_window_at(b, i),
				   sizeof(struct ew_sample)))
				return false;
	}
	return true;
}

static void list_append(struct ew_detector *d, struct sleeper *s)
{
	s->next = NULL;
	s->prev = d->sleep_tail;
	if (d->sleep_tail)
		d->sleep_tail->next = s;
	else
		d->sleep_head = s;
	d->sleep_tail = s;
}

static void list_unlink(struct ew_detector *d, struct sleeper *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		d->sleep_head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		d->sleep_tail = s->prev;
	s->prev = s->next = NULL;
}

const char *ew_det_sleeper_tail(const struct sleeper *s)
{
	return s->data + (size_t)(s->n[0] + s->n[1] + s->n[2]) * sizeof(struct ew_sample);
}

bool ew_det_sleeper_streak(const struct sleeper *s, struct sleeper_streak *k)
{
	if (s->has_streak)
		memcpy(k, ew_det_sleeper_tail(s) + s->tail_len, sizeof(*k));
	return s->has_streak;
}

/* Bytes of the streak after the tail, when there is one. */
static size_t streak_size(const struct sleeper *s)
{
	return s->has_streak ? sizeof(struct sleeper_streak) : 0;
}

bool ew_det_sleeper_killer(const struct sleeper *s, struct ew_killer_info *k)
{
	if (s->has_killer)
		memcpy(k, ew_det_sleeper_tail(s) + s->tail_len + streak_size(s), sizeof(*k));
	return s->has_killer;
}

static void streak_in(const struct sleeper *s, struct ident *id)
{
	struct sleeper_streak k;

	if (!ew_det_sleeper_streak(s, &k))
		return;
	id->fail_streak = k.fail;
	id->streak_first_ns = k.first_ns;
	id->streak_code = k.code;
	id->streak_signal = k.signal;
	id->line_repeats = k.line_repeats;
	id->line_hash = k.line_hash;
}

struct sleeper *ew_det_sleeper_get(const struct ew_detector *d, const struct det_key *k)
{
	return ew_map_get_h(d->sleepers, k->s, k->len, k->hash);
}

static uint64_t sleeper_cost(const struct sleeper *s)
{
	return s->size + SLEEPER_MAP_BYTES(strlen(s->key)) + (s->wl ? SLEEPER_SERIAL_BYTES : 0);
}

/*
 * In place of the awake id in the maps, and into the list; 0 or -ENOMEM (then s is in none of
 * them, and id where it was).
 */
static int hook(struct ew_detector *d, struct sleeper *s, struct ident *id)
{
	const void *ref;

	/* The awake identity's entry becomes the sleeper's, key and all (no allocation), and the
	 * sleeper names itself by the map's copy of its key (a C string). */
	if (ew_map_move_h(d->sleepers, d->idents, id->key, id->klen, id->khash, s, &ref))
		return -ENOMEM;
	s->key = ref;
	if (s->wl && ew_map64_put(d->sleeper_serials, s->serial, s)) {
		/* Back where it was: the room it left is there. */
		ew_map_move_h(d->idents, d->sleepers, id->key, id->klen, id->khash, id, NULL);
		return -ENOMEM;
	}
	list_append(d, s);
	d->sleeper_bytes += sleeper_cost(s);
	return 0;
}

/* Out of the maps and the list: s->key is gone with it. */
static void unhook(struct ew_detector *d, struct sleeper *s)
{
	d->sleeper_bytes -= sleeper_cost(s);
	list_unlink(d, s);
	if (s->wl)
		ew_map64_del(d->sleeper_serials, s->serial);
	ew_map_del(d->sleepers, s->key, strlen(s->key));
	s->key = NULL;
}

void ew_det_try_sleep(struct ew_detector *d, struct ident *id)
{
	struct workload *wl = id->wl;
	size_t nsamples = 0, size;
	struct sleeper *s;
	bool own;
	char *p;

	/* Looping identities keep their windows awake: the stable milestone watches them. */
	if (d->cfg.keep_awake || id->running || id->looping || !ew_det_scope_quiet(&id->s) ||
	    !ew_det_scope_quiet(&wl->s))
		return;
	/* A workload of one names its findings by its identity: it may sleep with it, and its
	 * names come back with the identity's next event. */
	if (wl->last_subject && wl->nidents == 1 && !strcmp(wl->key, id->key) &&
	    !strcmp(ew_subject_key(wl->last_subject), id->key)) {
		ew_subject_free(wl->last_subject);
		wl->last_subject = NULL;
	}
	own = mirrors(id, wl);
	for (int k = 0; k < 3; k++)
		nsamples += ident_window(id, k)->n;
	/* A streak of failed starts goes to sleep too: the loop may be slower than any window
	 * (crash_loop.c), and a clean identity pays nothing for it. */
	size = sizeof(*s) + nsamples * sizeof(struct ew_sample) + id->tail_len +
	       (id->fail_streak ? sizeof(struct sleeper_streak) : 0) +
	       (id->killer ? sizeof(*id->killer) : 0);
	s = malloc(size);
	if (!s)
		return; /* it stays awake: nothing is lost */
	*s = (struct sleeper){.wl = own ? NULL : wl,
			      .last_active_ns = id->last_active_ns,
			      .last_exit = id->last_exit,
			      .serial = id->serial,
			      .restarts = id->restarts,
			      .tail_len = id->tail_len,
			      .size = (uint32_t)size,
			      .exited_before = id->exited_before,
			      .has_last_exit = id->has_last_exit,
			      .has_streak = id->fail_streak != 0,
			      .has_killer = id->killer != NULL,
			      .tail_start_error = id->tail_start_error};
	p = s->data;
	for (int k = 0; k < 3; k++) {
		const struct ew_window *w = ident_window(id, k);

		s->n[k] = w->n;
		for (uint32_t i = 0; i < w->n; i++, p += sizeof(struct ew_sample))
			memcpy(p, ew_window_at(w, i), sizeof(struct ew_sample));
	}
	if (id->tail_len)
		memcpy(p, id->tail, id->tail_len);
	if (s->has_streak) {
		struct sleeper_streak k = {.first_ns = id->streak_first_ns,
					   .line_hash = id->line_hash,
					   .fail = id->fail_streak,
					   .line_repeats = id->line_repeats,
					   .code = id->streak_code,
					   .signal = id->streak_signal};

		memcpy(p + id->tail_len, &k, sizeof(k));
	}
	if (id->killer)
		memcpy(p + id->tail_len + streak_size(s), id->killer, sizeof(*id->killer));
	if (hook(d, s, id)) {
		free(s);
		return;
	}
	/* The awake identity goes; a shared workload counts the sleeper among its identities. */
	ew_det_lru_unlink(d, id);
	ew_map64_del(d->serials, id->serial);
	ew_det_ident_destroy(id);
	if (own) {
		ew_map_del_h(d->workloads, wl->key, wl->klen, wl->khash);
		ew_det_workload_destroy(wl);
	}
}

static int push_samples(struct ew_window *w, const char *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++, p += sizeof(struct ew_sample)) {
		struct ew_sample x;

		memcpy(&x, p, sizeof(x));
		if (ew_window_push(w, &x))
			return -ENOMEM;
	}
	return 0;
}

static int scope_in(struct scope_state *sc, const struct sleeper *s)
{
	const char *p = s->data;
	int r = 0;

	for (int k = 0; k < 3 && !r; k++) {
		r = push_samples(scope_window(sc, k), p, s->n[k]);
		p += (size_t)s->n[k] * sizeof(struct ew_sample);
	}
	return r;
}

static void ident_discard(struct ident *id)
{
	ew_window_free(&id->s.exits);
	ew_window_free(&id->s.restarts);
	ew_window_free(&id->s.outcomes);
	free(id->killer);
	free(id->tail);
	free(id);
}

struct ident *ew_det_wake(struct ew_detector *d, struct sleeper *s)
{
	struct det_key k = ew_det_key(s->key);
	struct ident *id = ew_zalloc(sizeof(*id) + k.len + 1);
	struct workload *wl = s->wl;

	if (!id)
		return NULL;
	memcpy(id->key, s->key, k.len + 1);
	id->klen = (uint32_t)k.len;
	id->khash = k.hash;
	id->tail_len = s->tail_len;
	id->tail_start_error = s->tail_start_error;
	if (s->tail_len) {
		id->tail = malloc(s->tail_len);
		if (id->tail)
			memcpy(id->tail, ew_det_sleeper_tail(s), s->tail_len);
	}
	if (s->has_killer) {
		id->killer = malloc(sizeof(*id->killer));
		if (id->killer)
			ew_det_sleeper_killer(s, id->killer);
	}
	ew_window_init(&id->s.exits, EW_WINDOW_MAX_SAMPLES);
	ew_window_init(&id->s.restarts, EW_WINDOW_MAX_SAMPLES);
	ew_window_init(&id->s.outcomes, EW_WINDOW_MAX_SAMPLES);
	if ((s->tail_len && !id->tail) || (s->has_killer && !id->killer) || scope_in(&id->s, s)) {
		ident_discard(id); /* it sleeps on: nothing is lost for want of memory */
		return NULL;
	}
	if (!wl) {
		/* Its own workload, asleep with it: rebuilt from the same samples. */
		wl = ew_map_get_h(d->workloads, k.s, k.len, k.hash);
		if (!wl)
			wl = ew_det_workload_add(d, &k);
		if (!wl || scope_in(&wl->s, s)) {
			if (wl)
				ew_det_workload_maybe_free(d, wl);
			ident_discard(id);
			return NULL;
		}
		wl->nidents++; /* the sleeper did not count: its workload slept with it */
	}
	unhook(d, s);
	id->wl = wl;
	id->serial = s->serial;
	id->restarts = s->restarts;
	id->exited_before = s->exited_before;
	id->has_last_exit = s->has_last_exit;
	id->last_exit = s->last_exit;
	streak_in(s, id);
	if (ew_map_put_h(d->idents, id->key, id->klen, id->khash, id, NULL) ||
	    ew_map64_put(d->serials, id->serial, id)) {
		/* Out of memory half-way: the identity is forgotten, as eviction would. */
		ew_map_del_h(d->idents, id->key, id->klen, id->khash);
		free(s);
		ew_det_ident_destroy(id);
		wl->nidents--;
		ew_det_workload_maybe_free(d, wl);
		return NULL;
	}
	ew_det_lru_touch(d, id, s->last_active_ns);
	free(s);
	return id;
}

static void collect(void *ctx, const void *k, size_t kl, void *v)
{
	struct ident ***p = ctx;

	*(*p)++ = v;
}

void ew_det_sleep_all(struct ew_detector *d)
{
	size_t n = ew_map_count(d->idents);
	struct ident **v, **p;

	d->sleep_scan = false;
	if (!n)
		return;
	/* The map cannot change under a walk: collect first. */
	v = malloc(n * sizeof(*v));
	if (!v)
		return;
	p = v;
	ew_map_foreach(d->idents, collect, &p);
	for (size_t i = 0; i < n; i++)
		ew_det_try_sleep(d, v[i]);
	free(v);
}

void ew_det_sleeper_forget(struct ew_detector *d, struct sleeper *s)
{
	struct workload *wl = s->wl;

	unhook(d, s);
	free(s);
	if (wl) {
		wl->nidents--;
		ew_det_workload_maybe_free(d, wl);
	}
}

void ew_det_sleepers_free(struct ew_detector *d)
{
	while (d->sleep_head) {
		struct sleeper *s = d->sleep_head;

		list_unlink(d, s);
		free(s);
	}
	d->sleeper_bytes = 0;
}

uint64_t ew_det_bytes(const struct ew_detector *d)
{
	return d->sleeper_bytes + (uint64_t)ew_map_count(d->idents) * AWAKE_IDENT_BYTES +
	       (uint64_t)ew_map_count(d->workloads) * WORKLOAD_BYTES +
	       (uint64_t)d->capheap * sizeof(struct timer);
}
