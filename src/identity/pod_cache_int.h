/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Internal to the resolver: what earlier containers of a pod told about it, by pod uid. A
 * container that lived a millisecond may be gone, bundle and all, before its start is read
 * (CRI deletes the task at the exit); the kubelet's link still names it, and this cache gives
 * the rest: the pod's namespace and name, and the image its container of that name ran.
 */
#ifndef EXITWATCH_POD_CACHE_INT_H
#define EXITWATCH_POD_CACHE_INT_H

#include "exitwatch/identity/identity.h"

/*
 * At most this many entries (one per pod, one per pod's container name); past it the cache is
 * emptied and refills from the next reads: a node churning through pods never grows it.
 */
#define EW_POD_CACHE_MAX 8192

struct ew_pod_cache;

struct ew_pod_cache *ew_pod_cache_new(void);
void ew_pod_cache_free(struct ew_pod_cache *c);
/* Remembers the pod's names and the image of the container m names. 0 or -ENOMEM. */
int ew_pod_cache_put(struct ew_pod_cache *c, const char *pod_uid, const struct ew_meta *m);
/* Fills what m lacks: namespace, pod name, and the image of its container name. */
void ew_pod_cache_fill(const struct ew_pod_cache *c, const char *pod_uid, struct ew_meta *m);
size_t ew_pod_cache_count(const struct ew_pod_cache *c);

#endif
