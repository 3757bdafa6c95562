// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exitwatch/util/map.h"
#include "exitwatch/util/util.h"

/* 24 bytes and the key: a map entry is per identity, and a node may remember 100,000. */
struct entry {
	struct entry *next;
	void *val;
	uint32_t hash; /* the low half of the key's hash: enough for 2^32 buckets */
	uint32_t klen;
	unsigned char key[];
};

struct ew_map {
	struct entry **buckets;
	size_t nbuckets; /* a power of two */
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
	m->nbuckets = 64;
	m->buckets = calloc(m->nbuckets, sizeof(*m->buckets));
	if (!m->buckets) {
		free(m);
		return NULL;
	}
	return m;
}

void ew_map_free(struct ew_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct entry *e = m->buckets[i];

		while (e) {
			struct entry *n = e->next;

			free(e);
			e = n;
		}
	}
	free(m->buckets);
	free(m);
}

static struct entry **find(const struct ew_map *m, const void *key, size_t klen, uint32_t h)
{
	struct entry **pp = &m->buckets[h & (m->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->klen == klen && !memcmp((*pp)->key, key, klen))
			return pp;
	return pp;
}

void *ew_map_get(const struct ew_map *m, const void *key, size_t klen)
{
	struct entry **pp = find(m, key, klen, (uint32_t)hash_bytes(key, klen));

	return *pp ? (*pp)->val : NULL;
}

static int grow(struct ew_map *m)
{
	size_t n = m->nbuckets * 2;
	struct entry **b = calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct entry *e = m->buckets[i];

		while (e) {
			struct entry *next = e->next;
			struct entry **slot = &b[e->hash & (n - 1)];

			/* Append, keeping each chain's order: iteration stays a function of the
			 * insertion history alone. */
			while (*slot)
				slot = &(*slot)->next;
			e->next = NULL;
			*slot = e;
			e = next;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
	return 0;
}

int ew_map_put(struct ew_map *m, const void *key, size_t klen, void *val)
{
	return ew_map_put_ref(m, key, klen, val, NULL);
}

int ew_map_put_ref(struct ew_map *m, const void *key, size_t klen, void *val, const void **ret_key)
{
	uint32_t h = (uint32_t)hash_bytes(key, klen);
	struct entry **pp;
	struct entry *e;

	if (klen > UINT32_MAX)
		return -EINVAL;
	pp = find(m, key, klen, h);
	if (*pp) {
		(*pp)->val = val;
		if (ret_key)
			*ret_key = (*pp)->key;
		return 0;
	}
	if ((m->count + 1) * 4 > m->nbuckets * 3) {
		if (grow(m))
			return -ENOMEM;
		pp = find(m, key, klen, h);
	}
	e = malloc(sizeof(*e) + klen);
	if (!e)
		return -ENOMEM;
	e->next = NULL;
	e->hash = h;
	e->val = val;
	e->klen = (uint32_t)klen;
	memcpy(e->key, key, klen);
	*pp = e;
	m->count++;
	if (ret_key)
		*ret_key = e->key;
	return 0;
}

void *ew_map_del(struct ew_map *m, const void *key, size_t klen)
{
	struct entry **pp = find(m, key, klen, (uint32_t)hash_bytes(key, klen));
	struct entry *e = *pp;
	void *val;

	if (!e)
		return NULL;
	*pp = e->next;
	val = e->val;
	free(e);
	m->count--;
	return val;
}

size_t ew_map_count(const struct ew_map *m)
{
	return m->count;
}

void ew_map_foreach(const struct ew_map *m, ew_map_fn fn, void *ctx)
{
	for (size_t i = 0; i < m->nbuckets; i++)
		for (struct entry *e = m->buckets[i]; e; e = e->next)
			fn(ctx, e->key, e->klen, e->val);
}
