// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel's map of containers' main processes ("cgroups", with "mains" by pid), kept from
 * userspace: the start-up scan seeds the mains that were running before the agent, and the
 * sweep forgets those whose exit the kernel could not report. Maps have no compare-and-delete,
 * so every change reads again what it is about to replace or delete.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include <bpf/bpf.h>

#include "exitwatch/ingest/loader.h"
#include "ingest/loader_int.h"

/*
 * Makes *ours the main process of cgroup cgid in the kernel's map. Returns 0 with *was zeroed
 * when the cgroup had no entry, 0 with *was the entry it replaced (an exec entrant that won the
 * race between attach and the scan: `docker exec`, an exec probe; or that went between the
 * lookup and the replace), -EEXIST when the entry names ours already (its own exec after
 * attach, whose record is in the ring buffer), or -errno.
 */
static int put_main(struct ew_loader *l, const struct ew_cgroup_val *ours, uint64_t cgid,
		    struct ew_cgroup_val *was)
{
	int fd = bpf_map__fd(l->skel->maps.cgroups), mfd = bpf_map__fd(l->skel->maps.mains);
	struct ew_cgroup_val cur;
	uint64_t key;

	memset(was, 0, sizeof(*was));
	/* NOEXIST first: a main that exec'd after attach is tracked already, and better. Gone
	 * between two calls (the entrant exited): seed again. */
	for (int tries = 0; tries < 4; tries++) {
		if (!bpf_map_update_elem(fd, &cgid, ours, BPF_NOEXIST)) {
			/* A put, counted as the programs count theirs (containers_tracked). */
			__atomic_fetch_add(&l->skel->bss->cgroups_in, 1, __ATOMIC_RELAXED);
			goto mains;
		}
		if (errno != EEXIST)
			return -errno;
		if (bpf_map_lookup_elem(fd, &cgid, &cur)) {
			if (errno != ENOENT)
				return -errno;
			continue;
		}
		if (cur.main_pid == ours->main_pid &&
		    cur.main_start_ticks == ours->main_start_ticks)
			return -EEXIST;
		/*
		 * Everything the entry holds (exec time, children, killer, stderr file) was the
		 * entrant's: start over as a seeded entry. If the entrant exited meanwhile its exit
		 * record went out, and the agent's fence drops it. EXIST: a replace, which changes
		 * no count; an entry gone since the lookup (the entrant's exit hook deleted it, and
		 * counted that) makes it a put, taken again from the top.
		 */
		*was = cur;
		if (!bpf_map_update_elem(fd, &cgid, ours, BPF_EXIST)) {
			if (!bpf_map_lookup_elem(mfd, &was->main_pid, &key) && key == cgid)
				bpf_map_delete_elem(mfd, &was->main_pid);
			goto mains;
		}
		if (errno != ENOENT)
			return -errno;
	}
	return -EAGAIN;
mains:
	/* So that ew_cgroup_move follows it too; without it (map full) the sweep collects it. */
	bpf_map_update_elem(mfd, &ours->main_pid, &cgid, BPF_ANY);
	return 0;
}

/* Whether the entry of cgid names main *v. */
static bool names(struct ew_loader *l, uint64_t cgid, const struct ew_cgroup_val *v)
{
	struct ew_cgroup_val cur;

	return !bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.cgroups), &cgid, &cur) &&
	       cur.main_pid == v->main_pid && cur.main_start_ticks == v->main_start_ticks;
}

#define EW_SETTLE_MS 200 /* do_exit() of a large process, unmapping its memory, takes this long */

/* Waits (EW_SETTLE_MS at most) until pid is out of do_exit(): its exit hook has run already,
 * or will only read the maps as they are from now on. Returns its last phase. */
static enum ew_proc_phase settle(ew_loader_phase_fn phase, void *ctx, uint32_t pid,
				 uint64_t start_ticks)
{
	const struct timespec ms = {.tv_nsec = 1000000};
	enum ew_proc_phase ph = phase(ctx, pid, start_ticks);

	for (int waited = 0; ph == EW_PROC_EXITING && waited < EW_SETTLE_MS; waited++) {
		nanosleep(&ms, NULL);
		ph = phase(ctx, pid, start_ticks);
	}
	return ph;
}

/*
 * Deletes the entry of cgroup key if it still names main v (no compare-and-delete for maps: read
 * again, so that a new main of the cgroup, made since v was read, is left alone; a window of
 * µs), with its "mains" entry and its stderr ring (8 KiB, under the home id), which nothing else
 * would free. Returns 1 if deleted, else 0.
 */
static int forget(struct ew_loader *l, uint64_t key, const struct ew_cgroup_val *v)
{
	int fd = bpf_map__fd(l->skel->maps.cgroups), mfd = bpf_map__fd(l->skel->maps.mains);
	struct ew_cgroup_val again;
	uint64_t mkey;

	if (bpf_map_lookup_elem(fd, &key, &again) || again.main_pid != v->main_pid ||
	    again.main_start_ticks != v->main_start_ticks)
		return 0;
	if (bpf_map_delete_elem(fd, &key))
		return 0;
	__atomic_fetch_add(&l->skel->bss->cgroups_out, 1, __ATOMIC_RELAXED);
	if (!bpf_map_lookup_elem(mfd, &v->main_pid, &mkey) && mkey == key)
		bpf_map_delete_elem(mfd, &v->main_pid);
	mkey = v->home_cgroup_id ? v->home_cgroup_id : key;
	bpf_map_delete_elem(bpf_map__fd(l->skel->maps.stderr_tails), &mkey);
	return 1;
}

int ew_loader_seed_scanned(struct ew_loader *l, uint32_t pid, uint64_t start_ticks,
			   uint64_t cgroup_id, ew_loader_phase_fn phase, void *ctx,
			   uint32_t *ret_replaced)
{
	/* exec_ns 0 marks it seeded; its stderr file is unknown (0): its writes to fd 2 count
	 * from now. */
	const struct ew_cgroup_val ours = {.main_pid = pid, .main_start_ticks = start_ticks};
	struct ew_cgroup_val was;
	int r;

	*ret_replaced = 0;
	for (int tries = 0;; tries++) {
		r = put_main(l, &ours, cgroup_id, &was);
		if (r == -EEXIST && tries)
			break; /* ours since an earlier turn */
		if (r)
			return r;
		if (!was.main_pid)
			break;
		if (!*ret_replaced)
			*ret_replaced = was.main_pid;
		/*
		 * The map has no compare-and-delete: an entrant in do_exit() now may have read its
		 * entry before our update and delete ours after it (emit_main_exit()), leaving the
		 * container untracked, and the next entrant taken for its main. Once it is past its
		 * exit hook, check; put ours back if it went (or another entrant took it since).
		 */
		settle(phase, ctx, was.main_pid, was.main_start_ticks);
		if (names(l, cgroup_id, &ours))
			break;
		if (tries == 3)
			return -EAGAIN;
	}
	/*
	 * The scan read the main's /proc entry a while ago (all of them, then it seeds): if the
	 * main exited since, its exit hook may have found no entry, and the seeded one is for a
	 * dead process. Left there, it would take the cgroup's next main for a second entrant,
	 * unreported, until the sweep. Once it is out of do_exit(): an exit hook that ran after the
	 * seed deleted the entry itself and went out as a record; one before it left ours.
	 */
	if (settle(phase, ctx, pid, start_ticks) != EW_PROC_EXITED)
		return 0;
	return forget(l, cgroup_id, &ours) ? -ESRCH : 0;
}

int ew_loader_sweep(struct ew_loader *l, ew_loader_alive_fn alive, void *ctx,
		    ew_loader_swept_fn swept, void *swept_ctx)
{
	int fd = bpf_map__fd(l->skel->maps.cgroups);
	size_t n = 0, cap = bpf_map__max_entries(l->skel->maps.cgroups);
	uint64_t *keys, next;
	void *prev = NULL;
	int n_swept = 0;

	/* Keys first: deleting while walking restarts get_next_key from the first key. */
	keys = calloc(cap ? cap : 1, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	while (n < cap && bpf_map_get_next_key(fd, prev, &next) == 0) {
		keys[n] = next;
		prev = &keys[n++];
	}
	for (size_t i = 0; i < n; i++) {
		struct ew_cgroup_val v;

		if (bpf_map_lookup_elem(fd, &keys[i], &v))
			continue; /* its exit came meanwhile */
		if (alive(ctx, v.main_pid, v.main_start_ticks))
			continue;
		if (!forget(l, keys[i], &v))
			continue;
		n_swept++;
		if (swept)
			swept(swept_ctx,
			      &(struct ew_lost_main){
				      .cgroup_id = v.home_cgroup_id ? v.home_cgroup_id : keys[i],
				      .pid = v.main_pid,
				      .start_ticks = v.main_start_ticks});
	}
	free(keys);
	return n_swept;
}

int ew_loader_tracked(struct ew_loader *l)
{
	/* out first (acquire: in is read after it): what came in and went out since is counted
	 * in, so the difference is never negative. */
	uint64_t out = __atomic_load_n(&l->skel->bss->cgroups_out, __ATOMIC_ACQUIRE);
	uint64_t in = __atomic_load_n(&l->skel->bss->cgroups_in, __ATOMIC_RELAXED);

	return (int)(in - out);
}
