/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The only module that touches libbpf: preflight checks, skeleton open/load/attach, the ring
 * buffer, the drop counters, and seeding the maps with containers found at start-up.
 */
#ifndef EXITWATCH_LOADER_H
#define EXITWATCH_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exitwatch/abi.h"
#include "exitwatch/core/event.h"
#include "exitwatch/ingest/procstat.h"

struct ew_loader;

/* Called for every ring buffer record; return < 0 to stop the current consume. */
typedef int (*ew_loader_event_fn)(void *ctx, const void *data, size_t size);

struct ew_loader_opts {
	size_t ringbuf_bytes;	 /* power of two, >= page size */
	uint32_t max_containers; /* entries of "cgroups" and "stderr_tails" */
	uint64_t root_cgroup_id; /* id of the v2 root: never a container */
	bool capture_stderr;	 /* sys_enter_write program and stderr rings */
	bool track_ready;	 /* sys_enter_listen program */
	bool track_oom;		 /* oom/mark_victim program */
	bool track_signals;	 /* signal_generate program */
	bool verbose;		 /* libbpf's own messages on stderr */
};

struct ew_loader_features {
	bool exit_group_dead; /* sched_process_exit passes group_dead (6.16+) */
	bool cgroup_move;     /* cgroup_attach_task attached: mains that move are followed */
	/* What runs, not what was asked for: a feature this kernel cannot have is off. */
	bool stderr_tail;  /* a stderr program attached */
	bool ready;	   /* sys_enter_listen attached */
	bool oom;	   /* oom/mark_victim attached */
	bool killer;	   /* signal_generate attached */
	bool atomic_fetch; /* BPF_FETCH (5.12+): concurrent stderr writers keep their order */
	char kernel[128];  /* uname -r */
};

/*
 * Checks the environment, loads and attaches everything. On failure returns -errno and writes
 * one sentence a person can act on into err (not root, missing capabilities by name, no BTF,
 * tracefs missing, a program the verifier rejected, ...).
 */
int ew_loader_open(const struct ew_loader_opts *opts, ew_loader_event_fn fn, void *ctx,
		   struct ew_loader **ret, char *err, size_t errlen);
void ew_loader_free(struct ew_loader *l);

/* An fd that polls readable when records wait; then call ew_loader_consume(). */
int ew_loader_fd(const struct ew_loader *l);
/* Drains the ring buffer through fn. Returns records consumed or -errno. */
int ew_loader_consume(struct ew_loader *l);

/* Sums the per-CPU counters of "stats" into out[EW_STAT__MAX]. 0, or -errno with out left as
 * it was (a counter that cannot be read is not 0). */
int ew_loader_stats(struct ew_loader *l, uint64_t out[EW_STAT__MAX]);

/*
 * The sweep of "cgroups": deletes every entry whose main process alive() says is gone, i.e. no
 * longer in /proc or another process under its pid (a different start). Such an entry is stale:
 * the kernel exit hook runs in do_exit() before the task is a zombie, and a zombie is still in
 * /proc, so a main that is exiting right now has either been seen exiting already or still
 * counts as alive. Entries go stale when the exit hook could not see the exit (a main that
 * moved where the kernel cannot follow it) or its record was lost (ring buffer full). swept (may
 * be NULL) is told each deleted entry's main: its pid and start, and its container by the cgroup
 * id its records carry (where the main exec'd, if it moved since): no exit record will come for
 * it, and what userspace keeps of it until that record would stay for good. Returns the entries deleted, or -errno.
 * O(n) map reads plus one alive() call per entry.
 */
typedef bool (*ew_loader_alive_fn)(void *ctx, uint32_t pid, uint64_t start_ticks);
typedef void (*ew_loader_swept_fn)(void *ctx, const struct ew_lost_main *m);
int ew_loader_sweep(struct ew_loader *l, ew_loader_alive_fn alive, void *ctx,
		    ew_loader_swept_fn swept, void *swept_ctx);

/* Where process (pid, start_ticks) stands against the kernel's exit hook: ew_procstat_phase(). */
typedef enum ew_proc_phase (*ew_loader_phase_fn)(void *ctx, uint32_t pid, uint64_t start_ticks);

/*
 * For the start-up scan: tells the kernel about a main process it found running, so that its
 * exit is reported. When the kernel has an entry for the cgroup already, it names either that
 * main (its own exec after attach: -EEXIST) or an exec entrant that exec'd there between attach
 * and the scan (`docker exec`, an exec probe), which is replaced, its pid put in *ret_replaced;
 * and, since the map has no compare-and-delete, the entry is checked again once that entrant
 * is past its exit hook (phase()), which may have deleted ours. Then, once the main itself is out
 * of do_exit(): one that exited after the scan read it but before the seed left no record and
 * must leave no entry, or the cgroup's next main would pass for a second entrant; that entry is
 * deleted as the sweep does. Waits 200 ms at most for each process in do_exit(). Returns 0 when
 * the main is tracked (or exited after the seed: its exit record is on its way), -EEXIST when
 * it was already, -ESRCH when it exited unseen and is not tracked, -EAGAIN when entrants kept
 * taking the entry, or -errno.
 */
int ew_loader_seed_scanned(struct ew_loader *l, uint32_t pid, uint64_t start_ticks,
			   uint64_t cgroup_id, ew_loader_phase_fn phase, void *ctx,
			   uint32_t *ret_replaced);

/* Number of cgroups with a live main process: the puts into the kernel's map less its deletes,
 * counted by the programs and the loader alike (no syscall). */
int ew_loader_tracked(struct ew_loader *l);

const struct ew_loader_features *ew_loader_features(const struct ew_loader *l);

/* True for an open loader: ew_loader_open() returns one only with every program attached. */
bool ew_loader_attached(const struct ew_loader *l);

#endif
