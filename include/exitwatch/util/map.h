/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A hash map from byte-string keys (copied) to borrowed pointers. Open addressing with linear
 * probing, resized at load 3/4: O(1) expected per operation. Iteration order depends only on the
 * history of puts and deletes (no random seed), so a detector fed the same events behaves the
 * same.
 */
#ifndef EXITWATCH_MAP_H
#define EXITWATCH_MAP_H

#include <stddef.h>
#include <stdint.h>

struct ew_map;

struct ew_map *ew_map_new(void);
/* Frees the map; values are the caller's (free them first, e.g. with ew_map_foreach). */
void ew_map_free(struct ew_map *m);
void *ew_map_get(const struct ew_map *m, const void *key, size_t klen);
/* Inserts or replaces. Returns 0 or -ENOMEM. */
int ew_map_put(struct ew_map *m, const void *key, size_t klen, void *val);
/*
 * The same, and *ret_key points to the map's own copy of the key, followed by a NUL, valid
 * until the key is deleted: a value may name itself by it rather than keep a second copy.
 */
int ew_map_put_ref(struct ew_map *m, const void *key, size_t klen, void *val, const void **ret_key);
/* Removes the key; returns its value or NULL. */
void *ew_map_del(struct ew_map *m, const void *key, size_t klen);

/*
 * The same calls with the key's hash given (ew_map_hash()): a caller that looks one key up in
 * several maps, or keeps a key's hash beside it, hashes it once. h must be ew_map_hash()'s.
 */
uint32_t ew_map_hash(const void *key, size_t klen);
void *ew_map_get_h(const struct ew_map *m, const void *key, size_t klen, uint32_t h);
int ew_map_put_h(struct ew_map *m, const void *key, size_t klen, uint32_t h, void *val,
		 const void **ret_key);
void *ew_map_del_h(struct ew_map *m, const void *key, size_t klen, uint32_t h);
/*
 * Moves key's entry from src to dst, with val its value there: no allocation, and the map's copy
 * of the key (ew_map_put_ref()) stays valid, now dst's. An identity that goes to sleep changes
 * maps this way at every container's exit. 0; -ENOENT (not in src), -EEXIST (already in dst) or
 * -ENOMEM (dst could not grow), each changing nothing.
 */
int ew_map_move_h(struct ew_map *dst, struct ew_map *src, const void *key, size_t klen, uint32_t h,
		  void *val, const void **ret_key);
size_t ew_map_count(const struct ew_map *m);

/* Calls fn for each entry; fn must not insert or delete. */
typedef void (*ew_map_fn)(void *ctx, const void *key, size_t klen, void *val);
void ew_map_foreach(const struct ew_map *m, ew_map_fn fn, void *ctx);

#endif
