// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exitwatch/agent/agent.h"
#include "exitwatch/agent/caps.h"
#include "exitwatch/util/clock.h"
#include "exitwatch/ingest/decode.h"
#include "exitwatch/ingest/loader.h"
#include "exitwatch/util/log.h"
#include "exitwatch/agent/pace.h"
#include "exitwatch/agent/pipeline.h"
#include "exitwatch/agent/replay_run.h"
#include "exitwatch/ingest/procstat.h"
#include "exitwatch/ingest/scan.h"
#include "exitwatch/util/util.h"
#include "exitwatch/output/filter.h"
#include "exitwatch/agent/state_owner.h"

/*
 * The loop sleeps until something needs it: a record (the kernel side wakes the reader when it
 * has caught up, see submit() in the BPF code), the log watch's fd, a stream sink's socket, or
 * the next deadline of the pipeline, the detector or the loop's own timers (stats every
 * second). An idle agent turns about once a second, where a fixed poll would pay a wakeup (tens
 * of us of CPU on a VM) every few ms on every node. This bounds any sleep all the same.
 */
#define EW_SLEEP_MAX_MS	     1000
#define EW_STATS_INTERVAL_NS EW_NSEC_PER_SEC /* drop counters and metrics snapshot */
/*
 * Descriptors: about 33 once running (the BPF programs, maps and links, the ring buffer, the
 * pinned runtime directories, inotify), one per /metrics client (at most 64), per stream output
 * and its spool, and a few for the files read at a start. Below EW_NOFILE_MIN the start fails
 * in ways that blame something else ("this kernel rejected BPF program ..."), or the agent runs
 * with the start-up scan and the runtime metadata failing; EW_NOFILE_WANT is what a soft limit
 * is raised to when the hard one allows it.
 */
#define EW_NOFILE_MIN  128
#define EW_NOFILE_WANT 1024
/*
 * A finding that fires or resolves goes to the state file at the end of the loop's turn that
 * emitted it, not up to checkpoint_interval later: an agent killed in between would fire it
 * again under a new finding_id after its restart, or never resolve it. At most once a second
 * all the same (a later one waits for that): a write is about 1 MB and an fsync for 2,000
 * identities (docs/benchmarks.md, "The state file"), and a storm's findings come by the hundred.
 */
#define EW_CKPT_MIN_NS EW_NSEC_PER_SEC

struct agent {
	const struct ew_config *cfg;
	struct ew_outputs *out;
	struct ew_output_filter filters[EW_MAX_SINKS]; /* per output: what it takes */
	struct ew_metrics *metrics;
	struct ew_metrics_server *server;
	struct ew_recorder *rec;
	struct ew_pipeline *pipe;
	struct ew_loader *loader;
	struct ew_decode_ctx dctx;
	/* The agent's time (the kernel's stamps', the windows') and the wall clock's steps. */
	struct ew_clock clock;
	struct ew_event *ev; /* decode scratch: ~9 KiB, too big for the stack of a callback */
	uint64_t started_mono;
	uint32_t scan_mains;
	struct ew_scan_fences fences; /* cgroups the scan seeded: their earlier records are not */
	uint32_t scan_fixed;	      /* kernel entries the scan found naming an exec entrant */
	bool sweeping;		      /* the sweep runs: on, and /proc shows the host's pids */
	uint64_t stale_swept;	      /* entries the sweep deleted */
	/* ring buffer drops, map full, identities forgotten within their windows */
	struct ew_log_total drops_warned, map_full_warned, forgot_warned;
	bool ckpt_failing; /* the last checkpoint failed: warned once for the streak */
	struct ew_buf mbuf;
	/* The state file: whether this agent owns it, and the boot it was written in. */
	struct ew_state_owner state;
	/* The kernel's counters as last read: what status() shows when a read fails. */
	uint64_t kstats[EW_STAT__MAX];
};

/* The agent's time (util/clock.h): what the kernel's stamps, the windows and deadlines are on. */
static uint64_t agent_now(const struct agent *a)
{
	return ew_clock_now(&a->clock);
}

/*
 * Once per turn: a step of the wall clock since the last is said once, and from now on records
 * show times on the wall clock as it is; windows, deadlines and the order of events stay on the
 * agent's time, which did not step (refreshing the offset instead would have moved new events an
 * hour from the ones before them: a backward step taken for an hour of exits at one instant).
 */
static void check_clock(struct agent *a)
{
	char by[32];
	int64_t d;

	if (!ew_clock_check_step(&a->clock, &d))
		return;
	/* So that a replay shows the times the records did. */
	if (a->rec && ew_recorder_clock_step(a->rec, a->clock.steps[a->clock.nsteps - 1].at,
					     a->clock.step_ns))
		ew_warn("the recording could not be written: it will be incomplete");
	ew_duration_format(d < 0 ? (uint64_t)-d : (uint64_t)d, by, sizeof(by));
	ew_warn("the wall clock stepped %s by %s (an NTP or chrony step, a VM restored from a "
		"snapshot, date -s): record times follow it; rule windows measure elapsed time "
		"and are not moved",
		d < 0 ? "back" : "forward", by);
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static int on_record(void *ctx, const void *data, size_t size)
{
	struct agent *a = ctx;

	if (ew_decode(data, size, &a->dctx, a->ev)) {
		ew_pipeline_decode_error(a->pipe);
		return 0;
	}
	if (ew_scan_fences_drop(&a->fences, a->ev->cgroup_id, a->ev->time_ns)) {
		ew_debug("cgroup %llu: dropped a record of pid %u from before the start-up scan "
			 "(an exec entrant, not the main process)",
			 (unsigned long long)a->ev->cgroup_id, a->ev->pid);
		return 0;
	}
	if (ew_pipeline_event(a->pipe, a->ev))
		ew_warn("an event was not processed (out of memory)");
	return 0;
}

static int on_scanned(void *ctx, const struct ew_event *start, uint64_t start_ticks)
{
	struct agent *a = ctx;
	uint32_t replaced = 0;
	/* The kernel may have a main for it already: its own exec after we attached (its record
	 * is in the ring buffer), or an exec entrant that execed there before we could seed the
	 * real one (runc exec, an exec probe): then the scan's choice replaces it. */
	int r = ew_loader_seed_scanned(a->loader, start->pid, start_ticks, start->cgroup_id,
				       ew_procstat_phase, (void *)a->cfg->proc_root, &replaced);

	if (r == -EEXIST)
		return 0;
	if (r && r != -ESRCH) {
		ew_warn("container in %s (pid %u) cannot be tracked: %s", start->cgroup, start->pid,
			strerror(-r));
		return 0;
	}
	if (replaced) {
		a->scan_fixed++;
		ew_info("container in %s: the kernel had taken pid %u, an exec entrant, for the "
			"main process (pid %u); corrected",
			start->cgroup, replaced, start->pid);
	}
	/* What the kernel recorded of this cgroup before now named a process that is not its
	 * main one (an entrant that has exited already, or the one just replaced). */
	if (ew_scan_fences_add(&a->fences, start->cgroup_id, agent_now(a)))
		return -ENOMEM;
	/* Exited between the scan's read and the seed: no start to report, and its exit was
	 * lost, counted as the sweep counts such entries. */
	if (r == -ESRCH) {
		a->stale_swept++;
		ew_info("container in %s: its main process (pid %u) exited during the start-up "
			"scan, exit not seen",
			start->cgroup, start->pid);
		return 0;
	}
	a->scan_mains++;
	return ew_pipeline_event(a->pipe, start);
}

/* Fills *st for an agent record or /metrics; returns 0, or -errno when the kernel's counters
 * could not be read (their last values read are kept then). */
static int status(struct agent *a, const char *phase, struct ew_agent_status *st)
{
	const struct ew_loader_features *f = ew_loader_features(a->loader);
	int r;

	memset(st, 0, sizeof(*st));
	st->phase = phase;
	st->version = EW_VERSION;
	st->kernel = f->kernel;
	st->feat_group_dead = f->exit_group_dead;
	/* What the kernel runs: a feature asked for may be off on this kernel (loader.c). */
	st->feat_stderr = f->stderr_tail;
	st->feat_ready = f->ready;
	st->feat_oom = f->oom;
	st->feat_signals = f->killer;
	st->feat_atomic_fetch = f->atomic_fetch;
	st->feat_cgroup_move = f->cgroup_move;
	st->uptime_ns = ew_clock_mono_ns() - a->started_mono;
	r = ew_loader_stats(a->loader, st->kstats);
	/* Zeros would take every kernel counter to 0 and back, a reset (ringbuf drops alert). */
	if (r)
		memcpy(st->kstats, a->kstats, sizeof(st->kstats));
	else
		memcpy(a->kstats, st->kstats, sizeof(a->kstats));
	st->drops = st->kstats[EW_STAT_DROP_EXEC] + st->kstats[EW_STAT_DROP_EXIT] +
		    st->kstats[EW_STAT_DROP_READY];
	st->tracked = (uint32_t)ew_loader_tracked(a->loader);
	st->scan_mains = a->scan_mains;
	st->stale_swept = a->stale_swept;
	/* /metrics shows what the agent record shows, between records too. */
	ew_pipeline_status(a->pipe, st);
	return r;
}

static void publish_metrics(struct agent *a, const struct ew_agent_status *st)
{
	if (!a->metrics)
		return;
	ew_metrics_agent(a->metrics, st);
	if (!a->server)
		return;
	ew_buf_reset(&a->mbuf);
	if (ew_metrics_render(a->metrics, &a->mbuf))
		return;
	ew_metrics_server_publish(a->server, a->mbuf.data, a->mbuf.len,
				  ew_loader_attached(a->loader), "BPF programs not attached");
}

static void emit_agent(struct agent *a, const char *phase)
{
	struct ew_agent_status st;

	status(a, phase, &st);
	ew_pipeline_agent(a->pipe, agent_now(a), &st);
}

/*
 * Reads the kernel's counters into *st and hands the loss total to the detector; a failed read
 * is skipped, not taken for a counter reset. What the kernel lost: records (the ring buffer
 * full) and main processes it could not track (its container map full: their start and exit
 * never come). Both make a finding over them "degraded", and both are said on stderr, at most
 * once a minute while they go on, with the option to raise: the agent record's counters alone
 * went unnoticed. So is the detector forgetting identities at its limits while their windows
 * still count them (their next restart is not counted): forgetting one-shot jobs' identities
 * after their windows is what the limits are for, and says nothing.
 */
static void check_drops(struct agent *a, struct ew_agent_status *st)
{
	uint64_t full;

	if (status(a, "periodic", st))
		return;
	full = st->kstats[EW_STAT_MAP_FULL];
	ew_pipeline_drops(a->pipe, agent_now(a), st->drops + full);
	if (ew_log_total_due(&a->drops_warned, st->drops))
		ew_warn("the kernel's ring buffer was full (ringbuf_size = %llu): %llu records "
			"lost since start (agent.kernel_events.dropped_*), findings over them say "
			"\"degraded\"; raise --ringbuf-size (agent.ringbuf_size)",
			(unsigned long long)a->cfg->ringbuf_bytes, (unsigned long long)st->drops);
	if (ew_log_total_due(&a->map_full_warned, full))
		ew_warn("the kernel's container map is full (max_containers = %u): %llu container "
			"main processes not tracked since start, their starts and exits not "
			"reported; raise --max-containers (agent.max_containers)",
			a->cfg->max_containers, (unsigned long long)full);
	if (ew_log_total_due(&a->forgot_warned, st->forgotten_in_window))
		ew_warn("the detector's memory is full (max_identities = %u, memory_budget = %llu "
			"bytes): %llu container identities forgotten since start while their "
			"rules' windows still counted them (agent.identities_forgotten.in_window); "
			"a "
			"restart of one is not counted and its loop's count starts over; raise "
			"agent.max_identities or agent.memory_budget",
			a->cfg->detect.max_identities,
			(unsigned long long)a->cfg->detect.memory_budget,
			(unsigned long long)st->forgotten_in_window);
}

static void checkpoint(struct agent *a)
{
	static const char forget[] = "forget open episodes until it can be written again";
	static const char restore[] = "restore the older state the file holds: findings fired or "
				      "resolved since it was written would fire or resolve again";
	int r;

	if (!a->cfg->state_file || !ew_state_owner_take_over(&a->state))
		return;
	r = ew_pipeline_save_state(a->pipe, a->cfg->state_file, agent_now(a), a->state.boot_id);
	/*
	 * Once per streak: a full disk would otherwise repeat this every interval. What a restart
	 * would do depends on what the path holds: an older state (this run's first, a read-only
	 * volume's) comes back as it was, findings fired or resolved since included.
	 */
	if (r && !a->ckpt_failing)
		ew_warn("cannot write the state file %s: %s (detection goes on; a restart would "
			"%s)",
			a->cfg->state_file, strerror(-r),
			access(a->cfg->state_file, F_OK) ? forget : restore);
	else if (!r && a->ckpt_failing)
		ew_info("state file %s written again", a->cfg->state_file);
	a->ckpt_failing = r != 0;
}

static int find_cgroup_root(const struct ew_config *c, char *out, size_t len, uint64_t *root_id)
{
	char mi[PATH_MAX];
	struct stat st;
	int r;

	snprintf(mi, sizeof(mi), "%s/self/mountinfo", c->proc_root);
	r = ew_scan_cgroup_root(c->cgroup_root, c->host_root, mi, out, len);
	if (r) {
		ew_err("no cgroup v2 hierarchy found (%s%s/sys/fs/cgroup[/unified], %s): exitwatch "
		       "needs cgroup v2 or a hybrid host's unified hierarchy; use --cgroup-root",
		       c->cgroup_root ? "--cgroup-root, " : "", c->host_root, mi);
		return r;
	}
	if (stat(out, &st)) {
		ew_err("cgroup root %s: %s", out, strerror(errno));
		return -errno;
	}
	*root_id = st.st_ino;
	return 0;
}

/*
 * The sweep compares the kernel's pids with /proc's: only sound when /proc is the host's pid
 * namespace, or every main would look gone. Says why when it stays off.
 */
static bool sweep_possible(const struct ew_config *c)
{
	int r;

	if (!c->sweep_interval_ns)
		return false;
	r = ew_procstat_host_pidns(c->proc_root);
	if (r == 1)
		return true;
	ew_warn("%s %s: stale kernel entries of containers are not swept (use hostPID, or "
		"--proc-root with the host's /proc)",
		c->proc_root,
		r == 0 ? "shows another pid namespace than the host's"
		       : "does not say which pid namespace it shows");
	return false;
}

/* The containers one sweep deleted, to be forgotten once the sweep is over. */
struct swept {
	struct ew_lost_main *v;
	size_t n, cap;
	bool short_of_memory;
};

static void on_swept(void *ctx, const struct ew_lost_main *m)
{
	struct swept *s = ctx;
	struct ew_lost_main *grown;

	if (s->n == s->cap) {
		grown = realloc(s->v, (s->cap ? 2 * s->cap : 64) * sizeof(*grown));
		if (!grown) {
			s->short_of_memory = true;
			return;
		}
		s->v = grown;
		s->cap = s->cap ? 2 * s->cap : 64;
	}
	s->v[s->n++] = *m;
}

/*
 * Deletes the kernel's entries of main processes gone without a seen exit, so that the map
 * does not fill up on a long-lived node, and forgets those containers in userspace: no exit
 * record will free what it keeps of them (their cached identity, their log watch, the
 * detector's "running"), and cgroup ids are never reused. The ring buffer is read first: a swept main's start may still be in
 * it (it was there before the sweep read the entry), and once through it would cache the
 * identity again. O(entries) map reads and /proc stat reads.
 */
static void sweep(struct agent *a)
{
	struct swept s = {0};
	int r = ew_loader_sweep(a->loader, ew_procstat_alive, (void *)a->cfg->proc_root, on_swept,
				&s);

	if (r < 0) {
		ew_warn("sweeping the kernel's container map failed: %s", strerror(-r));
		free(s.v);
		return;
	}
	if (r)
		ew_info("forgot %d container main process(es) gone without a seen exit", r);
	a->stale_swept += (uint64_t)r;
	if (!s.n && !s.short_of_memory)
		return;
	ew_loader_consume(a->loader);
	for (size_t i = 0; i < s.n; i++)
		ew_pipeline_forget(a->pipe, &s.v[i]);
	if (s.short_of_memory)
		ew_warn("out of memory: %zu of %d containers gone without a seen exit stay "
			"remembered",
			(size_t)r - s.n, r);
	free(s.v);
}

static void drop_caps(void)
{
	const char *kept = "none";
	int r = ew_caps_drop_after_attach(&kept);

	if (r)
		ew_warn("could not drop capabilities after attaching: %s", strerror(-r));
	else
		ew_info("capabilities dropped; kept %s", kept);
}

/* Flushes every sink for at most the drain timeout; says what is left and returns its count. */
static uint64_t drain(struct agent *a)
{
	uint64_t undelivered = ew_outputs_drain(a->out, a->cfg->drain_timeout_ns);

	if (undelivered)
		ew_warn("%llu lines could not be delivered within the drain timeout (spooled lines "
			"go out with the next run)",
			(unsigned long long)undelivered);
	return undelivered;
}

static void agent_free(struct agent *a)
{
	ew_scan_fences_free(&a->fences);
	ew_pipeline_free(a->pipe);
	ew_loader_free(a->loader);
	ew_recorder_close(a->rec);
	ew_state_owner_close(&a->state);
	ew_metrics_server_stop(a->server);
	ew_metrics_free(a->metrics);
	ew_outputs_free(a->out);
	ew_buf_free(&a->mbuf);
	free(a->ev);
}

/*
 * The exit codes exit_code_burst counts, in the class the pipeline will give them: every
 * workload's series of them start at 0, so that an alert summing increase() across nodes sees
 * each node's first one.
 */
static void watch_burst_codes(struct ew_metrics *m, const struct ew_config *c)
{
	const struct ew_rule_config *rc = &c->detect.rules[EW_RULE_EXIT_CODE_BURST];

	for (int code = 0; code < 256; code++) {
		struct ew_event ev = {.type = EW_EVENT_EXIT, .status = {.code = code}};

		if (ew_rule_has_code(rc, code) &&
		    ew_metrics_watch_exit(m, ew_exit_classify(&ev, &c->classes), code) == -ENOSPC) {
			ew_warn("metrics: more than 16 exit_code_burst codes; code %d and later "
				"are counted under code=\"other\"",
				code);
			return;
		}
	}
}

/*
 * Outputs, metrics, recording, pipeline: everything but the kernel side. 0, 1 or 2. live: the
 * agent's own files too (the recording it writes, the state file it restores), which a replay
 * never touches.
 */
static int build(struct agent *a, const struct ew_config *c, bool live)
{
	char err[512] = "";

	a->cfg = c;
	a->ev = malloc(sizeof(*a->ev));
	a->out = ew_outputs_new(&c->out);
	if (!a->ev || !a->out)
		return 1;
	for (uint32_t i = 0; i < (c->noutputs ? c->noutputs : 1); i++) {
		char spec[PATH_MAX + 16];

		if (ew_output_filter_split(c->noutputs ? c->outputs[i] : "stdout", spec,
					   sizeof(spec), &a->filters[i], err, sizeof(err)) ||
		    ew_outputs_add(a->out, spec, err, sizeof(err))) {
			ew_err("%s", err);
			return 2;
		}
		if (!ew_output_filter_is_all(&a->filters[i]))
			ew_outputs_set_filter(a->out, i, ew_output_filter_take, &a->filters[i]);
	}
	/* Only /metrics reads them: without it, keeping them is work per record for nobody. */
	if (c->metrics_addr) {
		a->metrics = ew_metrics_new(EW_VERSION, c->metrics_container_labels);
		if (!a->metrics)
			return 1;
		watch_burst_codes(a->metrics, c);
	}
	if (c->metrics_addr &&
	    ew_metrics_server_start(c->metrics_addr, &a->server, err, sizeof(err))) {
		ew_err("%s", err);
		return 1;
	}
	if (live && c->record_path) {
		int r = ew_recorder_open(c->record_path, c->node, &a->rec, err, sizeof(err));

		if (r < 0) {
			ew_err("%s", err);
			return 1;
		}
		if (r == 1)
			ew_info("recording %s: the previous one kept as %s.1", c->record_path,
				c->record_path);
		else if (r == 2)
			ew_warn("recording %s: %s; it is overwritten", c->record_path, err);
	}
	a->pipe = ew_pipeline_new(c, &(struct ew_pipeline_deps){.out = a->out,
								.rec = a->rec,
								.metrics = a->metrics,
								.clock = live ? &a->clock : NULL});
	if (!a->pipe)
		return 1;
	if (live && c->state_file && ew_state_owner_open(&a->state, c->state_file, c->proc_root) &&
	    ew_pipeline_load_state(a->pipe, c->state_file, agent_now(a), a->state.file_boot, err,
				   sizeof(err)))
		ew_warn("ignoring the state file: %s", err);
	return 0;
}

static int attach(struct agent *a, uint64_t root_id)
{
	const struct ew_config *c = a->cfg;
	struct ew_loader_opts lo = {
		.ringbuf_bytes = c->ringbuf_bytes,
		.max_containers = c->max_containers,
		.root_cgroup_id = root_id,
		/* The syscall tracepoints only when asked for: every write() on the node pays. */
		.capture_stderr = c->capture_stderr && c->stderr_kernel,
		.track_ready = c->track_ready,
		.track_oom = c->track_oom,
		.track_signals = c->track_signals,
		.verbose = c->verbosity > 0,
	};
	char err[512] = "";
	int r;

	a->dctx.boot_to_wall_ns = a->clock.boot_to_wall;
	a->dctx.tail_max = c->stderr_bytes;
	r = ew_loader_open(&lo, on_record, a, &a->loader, err, sizeof(err));
	if (r)
		ew_err("%s", err);
	return r;
}

/*
 * The state file's running starts whose main process has gone since it was written: their exits
 * came while no agent ran (an upgrade, an agent killed or OOM-killed, a node's reboot: every
 * process is another then). Before the scan, whose first event would otherwise run their grace
 * deadlines: a start that failed unseen would count as a success, resolving the crash_loop
 * finding of a loop that goes on. Needs the host's pids, as the sweep does; without them the
 * runs stay as saved, and the first exit or start of each tells.
 */
static void restored_runs(struct agent *a)
{
	const struct ew_config *c = a->cfg;
	uint32_t n;

	if (!c->state_file || !a->state.owned)
		return;
	/*
	 * Another boot's file: every process it knew is gone, whatever /proc holds now. A process
	 * of this boot can have a run's pid and start tick (a deterministic boot starts the same
	 * containers in the same order) and would be taken for it.
	 */
	if (ew_state_owner_other_boot(&a->state)) {
		n = ew_pipeline_other_boot(a->pipe);
		ew_info("state file %s was written in another boot (boot id %s): the %u container "
			"main process(es) it held as running ended with it (exits not seen, their "
			"starts not judged)",
			c->state_file, a->state.file_boot, n);
		return;
	}
	if (ew_procstat_host_pidns(c->proc_root) != 1)
		return;
	n = ew_pipeline_runs_gone(a->pipe, ew_procstat_alive, (void *)c->proc_root);
	if (n)
		ew_info("state file %s: %u container main process(es) it held as running exited "
			"while no agent ran (exits not seen, their starts not judged)",
			c->state_file, n);
}

static void scan(struct agent *a, const char *cgroup_root)
{
	const struct ew_config *c = a->cfg;
	struct ew_scan_opts so = {
		.proc_root = c->proc_root,
		.cgroup_root = cgroup_root,
		.now_wall_ns = agent_now(a),
	};
	struct ew_scan_stats st;
	uint64_t t0 = ew_clock_mono_ns();
	int r;

	r = ew_scan_mains(&so, on_scanned, a, &st);
	if (r == -ESRCH)
		ew_warn("none of the %u processes in %s can be read in %s (another pid namespace? "
			"use hostPID or --proc-root): containers already running are not tracked",
			st.processes, cgroup_root, c->proc_root);
	else if (r)
		ew_warn("scanning %s for running containers failed: %s", cgroup_root, strerror(-r));
	ew_info("start-up scan: %u cgroups, %u processes, containers already running: %u (exec "
		"entrants taken for their main process and corrected: %u), %.1f ms",
		st.cgroups, st.processes, st.mains, a->scan_fixed,
		(double)(ew_clock_mono_ns() - t0) / 1e6);
}

/*
 * The open file limit: a soft limit below what the agent wants is raised (up to the hard one,
 * which needs no privilege); a hard limit below what it needs stops it, naming the limit. 0 or 1.
 */
static int check_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	if (rl.rlim_cur < EW_NOFILE_WANT && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < EW_NOFILE_WANT ? rl.rlim_max : EW_NOFILE_WANT;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur >= EW_NOFILE_MIN)
		return 0;
	ew_err("the open file limit is %llu (ulimit -n, RLIMIT_NOFILE; LimitNOFILE= in a systemd "
	       "unit): exitwatch needs at least %d descriptors; raise it",
	       (unsigned long long)rl.rlim_cur, EW_NOFILE_MIN);
	return 1;
}

int ew_agent_run(const struct ew_config *c, const struct ew_agent_signals *sig)
{
	uint64_t next_agent, next_ckpt, next_stats, next_sweep, root_id = 0;
	uint64_t last_ckpt = 0, ckpt_records = 0, records;
	struct ew_pace pace;
	int taken;
	struct agent a = {.started_mono = ew_clock_mono_ns()};
	struct ew_agent_status st;
	char cgroup_root[PATH_MAX];
	int r;

	/* The agent's time is the wall clock's now; the state file's times are read on it. */
	ew_clock_init(&a.clock);
	ew_pace_init(&pace);

	/* Step 1: everything that can fail on configuration, before touching the kernel. */
	r = check_nofile();
	if (r)
		goto out;
	r = build(&a, c, true);
	if (r)
		goto out;
	if (find_cgroup_root(c, cgroup_root, sizeof(cgroup_root), &root_id)) {
		r = 1;
		goto out;
	}
	ew_pipeline_set_root_cgroup(a.pipe, root_id);
	/* Step 2: load and attach; from here on no container start or exit is missed. */
	if (attach(&a, root_id)) {
		r = 1;
		goto out;
	}
	/* Step 3: containers that were already running; then keep only what running needs. */
	restored_runs(&a);
	if (c->scan_existing)
		scan(&a, cgroup_root);
	ew_pipeline_scan_done(a.pipe);
	drop_caps();
	emit_agent(&a, "start");
	status(&a, "periodic", &st);
	publish_metrics(&a, &st);
	/* The scan's records and the start record now, not after the loop's first sleep. */
	ew_outputs_tick(a.out, ew_clock_mono_ns());
#ifdef __GLIBC__
	/* Loading parsed the kernel's BTF (megabytes, freed since): hand those pages back, so the
	 * agent's RSS is what it holds, not the high-water mark of its start. */
	malloc_trim(0);
#endif

	/* Step 4: the loop. */
	next_agent = ew_clock_mono_ns() + c->agent_interval_ns;
	a.sweeping = sweep_possible(c);
	next_sweep = ew_clock_mono_ns() + c->sweep_interval_ns;
	next_ckpt = ew_clock_mono_ns() + c->checkpoint_interval_ns;
	next_stats = ew_clock_mono_ns() + EW_STATS_INTERVAL_NS;
	while (!*sig->stop) {
		struct pollfd pfd[2 + EW_MAX_SINKS] = {
			{.fd = ew_loader_fd(a.loader), .events = POLLIN},
			{.fd = ew_pipeline_fd(a.pipe), .events = POLLIN}}; /* -1: poll() skips it */
		uint64_t mono = ew_clock_mono_ns(), wake, wait_ns, rest;
		nfds_t n = 2;

		/* A burst's records are taken together (pace.h). */
		rest = ew_pace_rest(&pace, mono);
		if (rest) {
			struct timespec ts = {.tv_nsec = (long)rest};

			nanosleep(&ts, NULL); /* a signal cuts it short: the loop checks stop */
		}
		mono = ew_clock_mono_ns();
		ew_pace_turn(&pace, mono);

		/* Sleep until the first thing that wants the loop. */
		wake = ew_pipeline_wake(a.pipe, mono, agent_now(&a));
		wake = earliest(wake, earliest(next_stats, earliest(next_agent, next_ckpt)));
		if (a.sweeping)
			wake = earliest(wake, next_sweep);
		wait_ns = wake > mono ? wake - mono : 0;
		n += ew_outputs_poll(a.out, pfd + 2, EW_MAX_SINKS, mono, &wait_ns);
		if (wait_ns > (uint64_t)EW_SLEEP_MAX_MS * EW_NSEC_PER_MSEC)
			wait_ns = (uint64_t)EW_SLEEP_MAX_MS * EW_NSEC_PER_MSEC;
		/* Rounded up: waking before the deadline would only turn again for nothing. */
		if (poll(pfd, n, (int)((wait_ns + EW_NSEC_PER_MSEC - 1) / EW_NSEC_PER_MSEC)) < 0 &&
		    errno != EINTR) {
			ew_err("poll: %s", strerror(errno));
			break;
		}
		check_clock(&a);
		taken = ew_loader_consume(a.loader);
		if (taken < 0 && taken != -EINTR)
			ew_warn("ring buffer: %s", strerror(-taken));
		ew_pipeline_tick(a.pipe, agent_now(&a));
		mono = ew_clock_mono_ns();
		ew_pace_taken(&pace, taken, mono);
		if (mono >= next_stats) {
			check_drops(&a, &st); /* one read of the counters for both */
			publish_metrics(&a, &st);
			next_stats = mono + EW_STATS_INTERVAL_NS;
		}
		if (*sig->hup) {
			*sig->hup = 0;
			ew_outputs_reopen(a.out);
		}
		if (a.sweeping && mono >= next_sweep) {
			sweep(&a);
			next_sweep = mono + c->sweep_interval_ns;
		}
		if (mono >= next_agent) {
			emit_agent(&a, "periodic");
			next_agent = mono + c->agent_interval_ns;
		}
		/*
		 * Everything this turn made, in one write per output, before the loop sleeps (a
		 * record left behind would wait for the next wakeup, up to a second) and before a
		 * checkpoint counts its findings as said.
		 */
		ew_outputs_tick(a.out, mono);
		records = ew_pipeline_episode_records(a.pipe);
		if (records != ckpt_records) { /* a finding fired or resolved this turn */
			ckpt_records = records;
			next_ckpt = earliest(next_ckpt, last_ckpt + EW_CKPT_MIN_NS);
		}
		if (mono >= next_ckpt) {
			checkpoint(&a);
			last_ckpt = mono;
			next_ckpt = mono + c->checkpoint_interval_ns;
		}
	}

	/* Step 5: what is in the ring buffer still, the last word, the checkpoint, the sinks. */
	check_clock(&a);
	ew_loader_consume(a.loader);
	check_drops(&a, &st);
	ew_pipeline_finish(a.pipe, agent_now(&a));
	emit_agent(&a, "stop");
	checkpoint(&a);
	drain(&a);
	r = 0;
out:
	agent_free(&a);
	return r;
}

/*
 * A replay's records are its whole result: when an output lost some (stdout on a full disk, a
 * file that could not be written, a stream peer that never took them), the run failed, and
 * says how many and where; the sink's own warning names only the first failed write. 0 or 1.
 */
static int replay_losses(struct agent *a, uint64_t undelivered)
{
	struct ew_sink_status st[EW_MAX_SINKS];
	uint32_t n = ew_outputs_status(a->out, st, EW_MAX_SINKS);
	uint64_t lost = undelivered, total = undelivered;
	char where[512] = "";
	size_t off = 0;

	for (uint32_t i = 0; i < n; i++) {
		lost += st[i].dropped;
		total += st[i].delivered + st[i].dropped;
		if (st[i].dropped && off < sizeof(where))
			off += (size_t)snprintf(where + off, sizeof(where) - off, "%s%s: %llu",
						off ? ", " : "", st[i].name,
						(unsigned long long)st[i].dropped);
	}
	if (undelivered && off < sizeof(where))
		snprintf(where + off, sizeof(where) - off, "%sundelivered: %llu", off ? ", " : "",
			 (unsigned long long)undelivered);
	if (!lost)
		return 0;
	ew_err("replay: %llu of %llu output lines were lost (%s)", (unsigned long long)lost,
	       (unsigned long long)total, where);
	return 1;
}

int ew_agent_replay(const struct ew_config *c, const struct ew_agent_signals *sig)
{
	struct agent a = {0};
	struct ew_replay_run_opts ro = {
		.speed = c->replay_speed, .stop = sig->stop, .hup = sig->hup};
	char err[512] = "";
	int r;

	/*
	 * A replay reads its recording and its configuration, nothing else, and writes only its
	 * outputs: so it is the same run after run. Recording what it replays would at best copy
	 * its input, and --record naming the input itself would truncate it before it is read. The
	 * state file is the live agent's memory: restored, it would change the records (open
	 * episodes, drop counts, windows from another time); and a replay never checkpoints
	 * (nothing here calls checkpoint()), so the live agent's file is never overwritten either.
	 */
	if (c->record_path)
		ew_warn("replay does not record: ignoring [agent] record = %s", c->record_path);
	if (c->state_file)
		ew_warn("replay does not use the state file: ignoring [agent] state_file = %s",
			c->state_file);
	r = build(&a, c, false);
	if (r)
		goto out;
	r = ew_replay_run(c->replay_path, a.pipe, a.out, &ro, err, sizeof(err));
	if (r == -EINTR) {
		r = 0; /* asked to stop: what was replayed still goes out */
	} else if (r) {
		ew_err("%s", err[0] ? err : strerror(-r));
		r = 2;
		goto out;
	}
	r = replay_losses(&a, drain(&a));
out:
	agent_free(&a);
	return r;
}
