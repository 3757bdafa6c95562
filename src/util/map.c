// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exitwatch/util/map.h"
#include "exitwatch/util/util.h"

/*
 * 16 bytes, the key and a NUL, allocated once: the key stays put (ew_map_put_ref()) while the slots
 * move. A map entry is per identity, and a node may remember 100,000.
 */
struct entry {
	void *val;
	uint32_t klen;
	unsigned char key[];
};

/*
 * Open addressing, linear probing. A slot keeps the low half of its key's hash beside the entry,
 * so a probe compares hashes within the slot array and touches an entry only when they match: a
 * lookup of a new key (most of a churning node's) reads one or two cache lines of slots and no
 * entry. With chains, every entry a lookup passed was a cache miss of its own (perf over the
 * storm: the chain walk was the agent's costliest function, 7.7% of its time on 1.9% of its
 * instructions).
 */
struct slot {
	struct entry *e; /* NULL: empty */
	uint32_t hash;
};

struct ew_map {
	struct slot *slots;
	size_t nslots; /* a power of two */
	size_t count;
};

/*
 * Eight bytes a step: keys are identity keys and cgroup paths of 20 to 100 bytes, looked up
 * several times per record, and a byte-at-a-time hash (FNV) waited on one multiply per byte.
 * Each word is mixed in with a multiply and a shift; murmur3's finalizer spreads the result over
 * the low bits the buckets use. Unseeded on purpose: iteration order (the state file's) stays a
 * function of the insertion history alone.
 */
static uint64_t hash_bytes(const void *p, size_t n)
{
	const uint64_t k = 0x9e3779b97f4a7c15ULL;
	const unsigned char *b = p;
	uint64_t h = n * k, w;
	uint32_t x, y;

	for (; n > 8; b += 8, n -= 8) {
		memcpy(&w, b, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	/* The last 1 to 8 bytes in one word: two overlapping loads when shorter than 8. */
	if (n == 8) {
		memcpy(&w, b, 8);
	} else if (n >= 4) {
		memcpy(&x, b, 4);
		memcpy(&y, b + n - 4, 4);
		w = (uint64_t)x << 32 | y;
	} else if (n) {
		w = (uint64_t)b[0] << 16 | (uint64_t)b[n / 2] << 8 | b[n - 1];
	} else {
		w = 0;
	}
	h = (h ^ w) * k;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

struct ew_map *ew_map_new(void)
{
	struct ew_map *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->nslots = 64;
	m->slots = calloc(m->nslots, sizeof(*m->slots));
	if (!m->slots) {
		free(m);
		return NULL;
	}
	return m;
}

void ew_map_free(struct ew_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nslots; i++)
		free(m->slots[i].e);
	free(m->slots);
	free(m);
}

/* The key's slot, or the empty slot that ends its probe. */
static struct slot *find(const struct ew_map *m, const void *key, size_t klen, uint32_t h)
{
	size_t mask = m->nslots - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct slot *s = &m->slots[i];

		if (!s->e || (s->hash == h && s->e->klen == klen && !memcmp(s->e->key, key, klen)))
			return s;
	}
}

uint32_t ew_map_hash(const void *key, size_t klen)
{
	return (uint32_t)hash_bytes(key, klen);
}

void *ew_map_get_h(const struct ew_map *m, const void *key, size_t klen, uint32_t h)
{
	struct slot *s = find(m, key, klen, h);

	return s->e ? s->e->val : NULL;
}

void *ew_map_get(const struct ew_map *m, const void *key, size_t klen)
{
	return ew_map_get_h(m, key, klen, ew_map_hash(key, klen));
}

/*
 * Twice the slots. The old slots are walked in order and each entry goes to the first free slot
 * from its home: the new layout, like the old, is a function of the history alone.
 */
static int grow(struct ew_map *m)
{
	size_t n = m->nslots * 2;
	struct slot *s = calloc(n, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < m->nslots; i++) {
		size_t j;

		if (!m->slots[i].e)
			continue;
		for (j = m->slots[i].hash & (n - 1); s[j].e; j = (j + 1) & (n - 1))
			;
		s[j] = m->slots[i];
	}
	free(m->slots);
	m->slots = s;
	m->nslots = n;
	return 0;
}

int ew_map_put(struct ew_map *m, const void *key, size_t klen, void *val)
{
	return ew_map_put_ref(m, key, klen, val, NULL);
}

int ew_map_put_ref(struct ew_map *m, const void *key, size_t klen, void *val, const void **ret_key)
{
	return ew_map_put_h(m, key, klen, ew_map_hash(key, klen), val, ret_key);
}

/*
 * The empty slot a key missing from m goes to, m grown first if one more entry would make it
 * more than 3/4 full (a probe for a missing key stays a few slots long); NULL: no room to grow.
 * s is find()'s empty slot for the key.
 */
static struct slot *slot_for_new(struct ew_map *m, struct slot *s, const void *key, size_t klen,
				 uint32_t h)
{
	if ((m->count + 1) * 4 <= m->nslots * 3)
		return s;
	return grow(m) ? NULL : find(m, key, klen, h);
}

/* e into the empty slot s of m. */
static void fill_slot(struct ew_map *m, struct slot *s, struct entry *e, uint32_t h)
{
	*s = (struct slot){.e = e, .hash = h};
	m->count++;
}

int ew_map_put_h(struct ew_map *m, const void *key, size_t klen, uint32_t h, void *val,
		 const void **ret_key)
{
	struct slot *s;
	struct entry *e;

	if (klen > UINT32_MAX)
		return -EINVAL;
	s = find(m, key, klen, h);
	if (s->e) {
		s->e->val = val;
		if (ret_key)
			*ret_key = s->e->key;
		return 0;
	}
	s = slot_for_new(m, s, key, klen, h);
	if (!s)
		return -ENOMEM;
	/* The key and a NUL: a string key's copy is a C string (ew_map_put_ref()). */
	e = malloc(sizeof(*e) + klen + 1);
	if (!e)
		return -ENOMEM;
	e->val = val;
	e->klen = (uint32_t)klen;
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	fill_slot(m, s, e, h);
	if (ret_key)
		*ret_key = e->key;
	return 0;
}

/*
 * Deletion shifts back the rest of the run (no tombstones): each later slot of the run whose home
 * is not between the hole and itself moves into the hole, which moves on to it. Every key stays
 * reachable from its home, and probes never lengthen with churn.
 */
void *ew_map_del(struct ew_map *m, const void *key, size_t klen)
{
	return ew_map_del_h(m, key, klen, ew_map_hash(key, klen));
}

/* Takes slot s's entry out of m, shifting the rest of its run back; returns the entry. */
static struct entry *unlink_slot(struct ew_map *m, struct slot *s)
{
	size_t mask = m->nslots - 1, hole = (size_t)(s - m->slots), j;
	struct entry *e = s->e;

	for (j = (hole + 1) & mask; m->slots[j].e; j = (j + 1) & mask) {
		size_t home = m->slots[j].hash & mask;

		/* home in (hole, j], cyclically: it stays. */
		if (((j - home) & mask) < ((j - hole) & mask))
			continue;
		m->slots[hole] = m->slots[j];
		hole = j;
	}
	m->slots[hole] = (struct slot){0};
	m->count--;
	return e;
}

void *ew_map_del_h(struct ew_map *m, const void *key, size_t klen, uint32_t h)
{
	struct slot *s = find(m, key, klen, h);
	void *val;

	if (!s->e)
		return NULL;
	val = s->e->val;
	free(unlink_slot(m, s));
	return val;
}

int ew_map_move_h(struct ew_map *dst, struct ew_map *src, const void *key, size_t klen, uint32_t h,
		  void *val, const void **ret_key)
{
	struct slot *from = find(src, key, klen, h), *to;
	struct entry *e;

	if (!from->e)
		return -ENOENT;
	to = find(dst, key, klen, h);
	if (to->e)
		return -EEXIST;
	to = slot_for_new(dst, to, key, klen, h);
	if (!to)
		return -ENOMEM;
	e = unlink_slot(src, from);
	e->val = val;
	fill_slot(dst, to, e, h);
	if (ret_key)
		*ret_key = e->key;
	return 0;
}

size_t ew_map_count(const struct ew_map *m)
{
	return m->count;
}

void ew_map_foreach(const struct ew_map *m, ew_map_fn fn, void *ctx)
{
	for (size_t i = 0; i < m->nslots; i++)
		if (m->slots[i].e)
			fn(ctx, m->slots[i].e->key, m->slots[i].e->klen, m->slots[i].e->val);
}
