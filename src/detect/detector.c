// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The detector's parts: rule defaults and names, the deadline heap, identities and workloads
 * as structs (made, linked, destroyed). Which of them are kept, asleep or forgotten is
 * memory.c's and sleep.c's; the rules themselves are in rules.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detector_int.h"
#include "exitwatch/util/util.h"

#define SEC(n) ((uint64_t)(n)*EW_NSEC_PER_SEC)

static const char *const rule_names[EW_RULE__COUNT] = {
	[EW_RULE_EXIT_CODE_BURST] = "exit_code_burst",
	[EW_RULE_RESTART_RATE] = "restart_rate",
	[EW_RULE_STARTUP_FAILURE_RATE] = "startup_failure_rate",
	[EW_RULE_STABLE] = "stable",
	[EW_RULE_CRASH_LOOP] = "crash_loop",
};

const char *ew_rule_name(enum ew_rule r)
{
	return (unsigned)r < EW_RULE__COUNT ? rule_names[r] : "unknown";
}

int ew_rule_parse(const char *name)
{
	for (int i = 0; i < EW_RULE__COUNT; i++)
		if (!strcmp(name, rule_names[i]))
			return i;
	return -EINVAL;
}

const char *ew_scope_name(enum ew_scope s)
{
	return s == EW_SCOPE_WORKLOAD ? "workload" : "identity";
}

/* The incident report's "Alert Thresholds" and "Success Metrics" (design.md's rule table). */
void ew_detector_config_default(struct ew_detector_config *c)
{
	struct ew_rule_config *r;

	memset(c, 0, sizeof(*c));
	r = &c->rules[EW_RULE_EXIT_CODE_BURST];
	*r = (struct ew_rule_config){.enabled = true,
				     .scope = EW_SCOPE_WORKLOAD,
				     .severity = EW_SEV_CRITICAL,
				     .count = 3,
				     .window_ns = SEC(5 * 60),
				     .resolve_ns = SEC(10 * 60)};
	ew_rule_set_code(r, 3);
	c->rules[EW_RULE_RESTART_RATE] = (struct ew_rule_config){.enabled = true,
								 .scope = EW_SCOPE_IDENTITY,
								 .severity = EW_SEV_WARNING,
								 .count = 3,
								 .window_ns = SEC(3600),
								 .resolve_ns = SEC(3600)};
	c->rules[EW_RULE_STARTUP_FAILURE_RATE] =
		(struct ew_rule_config){.enabled = true,
					.scope = EW_SCOPE_WORKLOAD,
					.severity = EW_SEV_INFO,
					.window_ns = SEC(3600),
					.resolve_ns = SEC(3600),
					.fail_percent = 5.0,
					.resolve_success_percent = 99.0,
					.min_starts = 5};
	c->rules[EW_RULE_STABLE] = (struct ew_rule_config){.enabled = true,
							   .scope = EW_SCOPE_IDENTITY,
							   .severity = EW_SEV_NOTICE,
							   .uptime_ns = SEC(4 * 3600)};
	/*
	 * Not from the incident report: an early signal on top of its rules (README, "Rules"). Its
	 * quiet period is well above the longest wait between two attempts of a loop (the kubelet's
	 * back-off stops at 5 minutes, Docker's at 1 minute): an identity that has not started
	 * for an hour is gone (a rollout, a deleted pod, a recreated service), not backing off.
	 */
	c->rules[EW_RULE_CRASH_LOOP] = (struct ew_rule_config){.enabled = true,
							       .scope = EW_SCOPE_IDENTITY,
							       .severity = EW_SEV_ERROR,
							       .count = 2,
							       .resolve_ns = SEC(3600)};
	c->startup_grace_ns = SEC(60);
	c->max_identities = 100000;
	c->idle_forget_ns = SEC(24 * 3600);
	/* Half the DaemonSet's 128 MiB limit is the agent's whole target: the state gets 24 MiB of
	 * it (docs/benchmarks.md, "Memory at container churn"). */
	c->memory_budget = 24ULL << 20;
	/* json-c reads a state file as a tree of about 8 KiB per identity asleep: 2,000 of them
	 * are a 1.5 MiB file and 17 MiB for the moment it is read (docs/benchmarks.md). */
	c->state_max_asleep = 2000;
	c->tail_max = 2048;
}

/* ---- the deadline heap: (at, seq) order, stale entries skipped by generation ---- */

static bool timer_before(const struct timer *a, const struct timer *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void heap_swap(struct timer *h, size_t i, size_t j)
{
	struct timer t = h[i];

	h[i] = h[j];
	h[j] = t;
}

int ew_det_timer_add(struct ew_detector *d, const struct timer *t)
{
	size_t i;

	if (d->nheap == d->capheap) {
		size_t ncap = d->capheap ? d->capheap * 2 : 64;
		struct timer *h = realloc(d->heap, ncap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		d->heap = h;
		d->capheap = ncap;
	}
	i = d->nheap++;
	d->heap[i] = *t;
	d->heap[i].seq = d->seq++;
	if (t->wl)
		t->wl->s.pending++;
	while (i && timer_before(&d->heap[i], &d->heap[(i - 1) / 2])) {
		heap_swap(d->heap, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	return 0;
}

static void sift_down(struct ew_detector *d, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < d->nheap && timer_before(&d->heap[l], &d->heap[m]))
			m = l;
		if (r < d->nheap && timer_before(&d->heap[r], &d->heap[m]))
			m = r;
		if (m == i)
			break;
		heap_swap(d->heap, i, m);
		i = m;
	}
}

/* A storm's deadlines are gone a minute later: give the memory back. */
static void heap_shrink(struct ew_detector *d)
{
	while (d->capheap > 1024 && d->nheap < d->capheap / 4) {
		struct timer *h = realloc(d->heap, d->capheap / 2 * sizeof(*h));

		if (!h)
			return;
		d->heap = h;
		d->capheap /= 2;
	}
}

struct timer ew_det_timer_pop(struct ew_detector *d)
{
	struct timer top = d->heap[0];

	d->heap[0] = d->heap[--d->nheap];
	heap_shrink(d);
	sift_down(d, 0);
	return top;
}

void ew_det_timer_filter(struct ew_detector *d,
			 bool (*keep)(struct ew_detector *d, const struct timer *t))
{
	size_t n = 0;

	for (size_t i = 0; i < d->nheap; i++) {
		if (keep(d, &d->heap[i])) {
			d->heap[n++] = d->heap[i];
			continue;
		}
		if (d->heap[i].wl) {
			d->heap[i].wl->s.pending--;
			ew_det_workload_maybe_free(d, d->heap[i].wl);
		}
	}
	d->nheap = n;
	/* Heapify: (at, seq) is a total order, so the pops come in the order they would have. */
	for (size_t i = n / 2; i-- > 0;)
		sift_down(d, i);
	heap_shrink(d);
}

/* ---- identities, workloads, eviction ---- */

static void scope_init(struct scope_state *s)
{
	ew_window_init(&s->exits, EW_WINDOW_MAX_SAMPLES);
	ew_window_init(&s->restarts, EW_WINDOW_MAX_SAMPLES);
	ew_window_init(&s->outcomes, EW_WINDOW_MAX_SAMPLES);
}

static void scope_free(struct scope_state *s)
{
	ew_window_free(&s->exits);
	ew_window_free(&s->restarts);
	ew_window_free(&s->outcomes);
}

void ew_det_workload_destroy(struct workload *wl)
{
	scope_free(&wl->s);
	ew_subject_free(wl->last_subject);
	free(wl);
}

void ew_det_ident_destroy(struct ident *id)
{
	scope_free(&id->s);
	ew_subject_free(id->subject);
	free(id->killer);
	free(id->tail);
	free(id);
}

struct workload *ew_det_workload_add(struct ew_detector *d, const struct det_key *k)
{
	struct workload *wl = ew_zalloc(sizeof(*wl) + k->len + 1);

	if (!wl)
		return NULL;
	memcpy(wl->key, k->s, k->len + 1);
	wl->klen = (uint32_t)k->len;
	wl->khash = k->hash;
	scope_init(&wl->s);
	if (ew_map_put_h(d->workloads, wl->key, k->len, k->hash, wl, NULL)) {
		ew_det_workload_destroy(wl);
		return NULL;
	}
	return wl;
}

struct ident *ew_det_ident_new(struct ew_detector *d, const struct det_key *k, struct workload *wl,
			       uint32_t serial)
{
	struct ident *id = ew_zalloc(sizeof(*id) + k->len + 1);

	if (!id)
		return NULL;
	memcpy(id->key, k->s, k->len + 1);
	id->klen = (uint32_t)k->len;
	id->khash = k->hash;
	id->wl = wl;
	id->serial = serial;
	scope_init(&id->s);
	if (ew_map_put_h(d->idents, id->key, k->len, k->hash, id, NULL)) {
		ew_det_ident_destroy(id);
		return NULL;
	}
	if (ew_map64_put(d->serials, id->serial, id)) {
		ew_map_del_h(d->idents, id->key, id->klen, id->khash);
		ew_det_ident_destroy(id);
		return NULL;
	}
	wl->nidents++;
	return id;
}

bool ew_det_scope_quiet(const struct scope_state *s)
{
	for (int r = 0; r < EW_RULE__COUNT; r++)
		if (s->ep[r].open)
			return false;
	return s->pending == 0;
}

void ew_det_workload_maybe_free(struct ew_detector *d, struct workload *wl)
{
	if (wl->nidents || !ew_det_scope_quiet(&wl->s))
		return;
	ew_map_del_h(d->workloads, wl->key, wl->klen, wl->khash);
	ew_det_workload_destroy(wl);
}

void ew_det_lru_unlink(struct ew_detector *d, struct ident *id)
{
	if (id->lru_prev)
		id->lru_prev->lru_next = id->lru_next;
	else
		d->lru_head = id->lru_next;
	if (id->lru_next)
		id->lru_next->lru_prev = id->lru_prev;
	else
		d->lru_tail = id->lru_prev;
	id->lru_prev = id->lru_next = NULL;
}

void ew_det_lru_touch(struct ew_detector *d, struct ident *id, uint64_t now)
{
	if (d->lru_tail != id) {
		if (id->lru_prev || id->lru_next || d->lru_head == id)
			ew_det_lru_unlink(d, id);
		id->lru_prev = d->lru_tail;
		if (d->lru_tail)
			d->lru_tail->lru_next = id;
		else
			d->lru_head = id;
		d->lru_tail = id;
	}
	id->last_active_ns = now;
}

/* Why the next one is forgotten, or 0: nothing need be. */
struct ew_detector *ew_detector_new(const struct ew_detector_config *cfg)
{
	struct ew_detector *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->cfg = *cfg;
	for (int r = 0; r < EW_RULE__COUNT; r++)
		if (cfg->rules[r].window_ns > d->keep_ns)
			d->keep_ns = cfg->rules[r].window_ns;
	d->idents = ew_map_new();
	d->workloads = ew_map_new();
	d->serials = ew_map64_new();
	d->sleepers = ew_map_new();
	d->sleeper_serials = ew_map64_new();
	d->next_serial = 1;
	if (!d->idents || !d->workloads || !d->serials || !d->sleepers || !d->sleeper_serials) {
		/* All empty: nothing but the maps to free (ew_detector_free() is memory.c's). */
		ew_map_free(d->idents);
		ew_map_free(d->workloads);
		ew_map64_free(d->serials);
		ew_map_free(d->sleepers);
		ew_map64_free(d->sleeper_serials);
		free(d);
		return NULL;
	}
	return d;
}

void ew_detector_note_drops(struct ew_detector *d, uint64_t now_ns, uint64_t total_drops)
{
	/* A lower total means the kernel's counters started again (a new agent after a restore):
	 * everything it reports is new loss. */
	if (total_drops < d->drops_total)
		d->drops_total = 0;
	if (total_drops > d->drops_total) {
		d->drops_total = total_drops;
		d->last_drop_ns = now_ns > d->now_ns ? now_ns : d->now_ns;
	}
}

uint32_t ew_detector_active(const struct ew_detector *d)
{
	return d->active;
}

uint64_t ew_detector_next_deadline(const struct ew_detector *d)
{
	return d->nheap ? d->heap[0].at : UINT64_MAX;
}

bool ew_detector_has_work(const struct ew_detector *d)
{
	return d->evict_more || d->sleep_scan;
}
