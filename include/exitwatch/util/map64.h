/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A hash map from 64-bit integers (cgroup ids, serials, watch descriptors) to borrowed, non-NULL
 * pointers. Open addressing with linear probing, resized at load 3/4, the key and the value in
 * the slot itself: unlike ew_map (byte-string keys, each entry an allocation of its own), a put
 * allocates nothing but a larger table and a delete frees nothing. Iteration order depends only
 * on the history of puts and deletes, as ew_map's.
 */
#ifndef EXITWATCH_MAP64_H
#define EXITWATCH_MAP64_H

#include <stddef.h>
#include <stdint.h>

struct ew_map64;

struct ew_map64 *ew_map64_new(void);
/* Frees the map; values are the caller's (free them first, e.g. with ew_map64_foreach()). */
void ew_map64_free(struct ew_map64 *m);
void *ew_map64_get(const struct ew_map64 *m, uint64_t key);
/* Inserts or replaces. Returns 0, -EINVAL for a NULL val (NULL is what get says of no key), or
 * -ENOMEM. */
int ew_map64_put(struct ew_map64 *m, uint64_t key, void *val);
/* Removes the key; returns its value or NULL. */
void *ew_map64_del(struct ew_map64 *m, uint64_t key);
size_t ew_map64_count(const struct ew_map64 *m);

/* Calls fn for each entry; fn must not insert or delete (a delete shifts later entries back). */
typedef void (*ew_map64_fn)(void *ctx, uint64_t key, void *val);
void ew_map64_foreach(const struct ew_map64 *m, ew_map64_fn fn, void *ctx);

#endif
