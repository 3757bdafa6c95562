// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What a pod's earlier containers told (pod_cache_int.h). O(1) per put and fill. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitwatch/util/map.h"
#include "exitwatch/util/util.h"
#include "identity/pod_cache_int.h"

/*
 * Key "<uid>": the pod's names, a the namespace and b the pod name. Key "<uid>/<container>": the
 * container's image, a, and b empty. Both strings in one allocation of their own length: a
 * churning node fills the cache, and two fixed 256-byte names made an entry 512 bytes.
 */
struct pod_entry {
	uint16_t blen; /* b is at s + blen */
	char s[];      /* a, NUL, b, NUL */
};

struct ew_pod_cache {
	struct ew_map *map;
};

struct ew_pod_cache *ew_pod_cache_new(void)
{
	struct ew_pod_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->map = ew_map_new();
	if (!c->map) {
		free(c);
		return NULL;
	}
	return c;
}

static void free_entry(void *ctx, const void *key, size_t klen, void *val)
{
	(void)ctx;
	(void)key;
	(void)klen;
	free(val);
}

static void cache_clear(struct ew_pod_cache *c)
{
	ew_map_foreach(c->map, free_entry, NULL);
	ew_map_free(c->map);
	c->map = ew_map_new();
}

void ew_pod_cache_free(struct ew_pod_cache *c)
{
	if (!c)
		return;
	if (c->map) {
		ew_map_foreach(c->map, free_entry, NULL);
		ew_map_free(c->map);
	}
	free(c);
}

static int cache_set(struct ew_pod_cache *c, const char *key, const char *a, const char *b)
{
	size_t klen = strlen(key), al = strnlen(a, EW_NAME_LEN - 1),
	       bl = strnlen(b, EW_NAME_LEN - 1);
	struct pod_entry *old = ew_map_get(c->map, key, klen), *e;

	if (old && !strcmp(old->s, a) && !strcmp(old->s + old->blen, b))
		return 0;
	if (!old && ew_map_count(c->map) >= EW_POD_CACHE_MAX)
		cache_clear(c);
	if (!c->map)
		return -ENOMEM;
	e = malloc(sizeof(*e) + al + bl + 2);
	if (!e)
		return -ENOMEM;
	e->blen = (uint16_t)(al + 1);
	memcpy(e->s, a, al);
	e->s[al] = '\0';
	memcpy(e->s + al + 1, b, bl);
	e->s[al + 1 + bl] = '\0';
	/* A key present has its value replaced: the map keeps its entry, and old goes. */
	if (ew_map_put(c->map, key, klen, e)) {
		free(e);
		return -ENOMEM;
	}
	free(old);
	return 0;
}

int ew_pod_cache_put(struct ew_pod_cache *c, const char *uid, const struct ew_meta *m)
{
	char key[EW_UID_LEN + 1 + EW_NAME_LEN];
	int r = 0;

	if (!uid[0])
		return 0;
	if (m->pod_namespace[0] && m->pod_name[0])
		r = cache_set(c, uid, m->pod_namespace, m->pod_name);
	if (!r && m->name[0] && m->image[0] && !m->sandbox) {
		snprintf(key, sizeof(key), "%s/%s", uid, m->name);
		r = cache_set(c, key, m->image, "");
	}
	return r;
}

void ew_pod_cache_fill(const struct ew_pod_cache *c, const char *uid, struct ew_meta *m)
{
	char key[EW_UID_LEN + 1 + EW_NAME_LEN];
	const struct pod_entry *e;

	if (!c->map || !uid[0])
		return;
	e = ew_map_get(c->map, uid, strlen(uid));
	if (e && !m->pod_namespace[0] && !m->pod_name[0]) {
		ew_strlcpy(m->pod_namespace, e->s, sizeof(m->pod_namespace));
		ew_strlcpy(m->pod_name, e->s + e->blen, sizeof(m->pod_name));
	}
	if (!m->name[0] || m->image[0])
		return;
	snprintf(key, sizeof(key), "%s/%s", uid, m->name);
	e = ew_map_get(c->map, key, strlen(key));
	if (e)
		ew_strlcpy(m->image, e->s, sizeof(m->image));
}

size_t ew_pod_cache_count(const struct ew_pod_cache *c)
{
	return c->map ? ew_map_count(c->map) : 0;
}
