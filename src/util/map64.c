// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>

#include "exitwatch/util/map64.h"

/* val NULL: empty. 16 bytes: four slots a cache line, and a probe reads no other memory. */
struct slot {
	uint64_t key;
	void *val;
};

struct ew_map64 {
	struct slot *slots;
	size_t nslots; /* a power of two */
	size_t count;
	unsigned shift; /* 64 - log2(nslots) */
};

/*
 * Fibonacci hashing: the key times 2^64 / phi, its top bits the home slot. Sequential keys
 * (serials, cgroup ids handed out in order) land far apart, and a multiply is all it costs.
 */
static size_t home(const struct ew_map64 *m, uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> m->shift);
}

struct ew_map64 *ew_map64_new(void)
{
	struct ew_map64 *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->nslots = 64;
	m->shift = 64 - 6;
	m->slots = calloc(m->nslots, sizeof(*m->slots));
	if (!m->slots) {
		free(m);
		return NULL;
	}
	return m;
}

void ew_map64_free(struct ew_map64 *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

/* The key's slot, or the empty slot that ends its probe. */
static struct slot *find(const struct ew_map64 *m, uint64_t key)
{
	size_t mask = m->nslots - 1;

	for (size_t i = home(m, key);; i = (i + 1) & mask) {
		struct slot *s = &m->slots[i];

		if (!s->val || s->key == key)
			return s;
	}
}

void *ew_map64_get(const struct ew_map64 *m, uint64_t key)
{
	return find(m, key)->val;
}

/* Twice the slots, each entry moved to the first free slot from its new home, in the old
 * slots' order: the layout stays a function of the history alone. */
static int grow(struct ew_map64 *m)
{
	struct ew_map64 n = {.nslots = m->nslots * 2, .shift = m->shift - 1, .count = m->count};

	n.slots = calloc(n.nslots, sizeof(*n.slots));
	if (!n.slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->nslots; i++)
		if (m->slots[i].val)
			*find(&n, m->slots[i].key) = m->slots[i];
	free(m->slots);
	*m = n;
	return 0;
}

int ew_map64_put(struct ew_map64 *m, uint64_t key, void *val)
{
	struct slot *s;

	if (!val)
		return -EINVAL;
	s = find(m, key);
	if (s->val) {
		s->val = val;
		return 0;
	}
	/* At most 3/4 full: a probe for a missing key stays a few slots long. */
	if ((m->count + 1) * 4 > m->nslots * 3) {
		if (grow(m))
			return -ENOMEM;
		s = find(m, key);
	}
	*s = (struct slot){.key = key, .val = val};
	m->count++;
	return 0;
}

/*
 * Deletion shifts back the rest of the run (no tombstones), as ew_map_del(): each later slot of
 * the run whose home is not between the hole and itself moves into the hole, which moves on to
 * it. Every key stays reachable from its home, and probes never lengthen with churn.
 */
void *ew_map64_del(struct ew_map64 *m, uint64_t key)
{
	size_t mask = m->nslots - 1, hole, j;
	struct slot *s = find(m, key);
	void *val = s->val;

	if (!val)
		return NULL;
	hole = (size_t)(s - m->slots);
	for (j = (hole + 1) & mask; m->slots[j].val; j = (j + 1) & mask) {
		size_t h = home(m, m->slots[j].key);

		/* h in (hole, j], cyclically: it stays. */
		if (((j - h) & mask) < ((j - hole) & mask))
			continue;
		m->slots[hole] = m->slots[j];
		hole = j;
	}
	m->slots[hole] = (struct slot){0};
	m->count--;
	return val;
}

size_t ew_map64_count(const struct ew_map64 *m)
{
	return m->count;
}

void ew_map64_foreach(const struct ew_map64 *m, ew_map64_fn fn, void *ctx)
{
	for (size_t i = 0; i < m->nslots; i++)
		if (m->slots[i].val)
			fn(ctx, m->slots[i].key, m->slots[i].val);
}
