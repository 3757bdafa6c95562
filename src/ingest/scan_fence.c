// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fences the start-up scan puts up: the records of a cgroup it seeded that the kernel stamped
 * before the seed. Between attach and the scan the kernel knows no main process for a
 * container already running, so the first process to exec there from outside (`docker exec`,
 * an exec probe, `runc exec` in a host-pid-namespace container) passes for it: its exec,
 * ready and exit records are in the ring buffer, unread, when the scan seeds (or corrects) the
 * real main. They describe a process that was never the container's main one.
 */
#include <errno.h>
#include <stdlib.h>

#include "exitwatch/ingest/scan.h"

static int cmp_fence(const void *a, const void *b)
{
	const struct ew_scan_fence *x = a, *y = b;

	return (x->cgroup_id > y->cgroup_id) - (x->cgroup_id < y->cgroup_id);
}

int ew_scan_fences_add(struct ew_scan_fences *f, uint64_t cgroup_id, uint64_t until_ns)
{
	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 64;
		struct ew_scan_fence *v = realloc(f->v, ncap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		f->v = v;
		f->cap = ncap;
	}
	f->v[f->n++] = (struct ew_scan_fence){.cgroup_id = cgroup_id, .until_ns = until_ns};
	f->sorted = false;
	return 0;
}

bool ew_scan_fences_drop(struct ew_scan_fences *f, uint64_t cgroup_id, uint64_t time_ns)
{
	struct ew_scan_fence key = {.cgroup_id = cgroup_id}, *hit;

	if (!f->n)
		return false;
	if (!f->sorted) {
		qsort(f->v, f->n, sizeof(*f->v), cmp_fence);
		f->sorted = true;
	}
	hit = bsearch(&key, f->v, f->n, sizeof(*f->v), cmp_fence);
	return hit && time_ns < hit->until_ns;
}

void ew_scan_fences_free(struct ew_scan_fences *f)
{
	free(f->v);
	*f = (struct ew_scan_fences){0};
}
