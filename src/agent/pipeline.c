// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Glue between the modules: each event is resolved, classified, shown to the detector, and
 * handed to the outputs as a record, which each output renders in the format it needs
 * (output.h, rendered.h). A container_exit record goes out before the findings its exit caused,
 * so a reader sees the cause first: findings raised during an event are held by the outputs
 * (ew_outputs_defer(), rendered while the finding is valid) and released after the event's own
 * record.
 *
 * An exit's stderr tail comes from the runtime's own log file (identity/runtime_log.c): the
 * exit waits in the hold (exit_hold.h) until that file has caught up, and the events behind
 * it wait with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitwatch/util/clock.h"
#include "exitwatch/detect/detector.h"
#include "exitwatch/core/exit_class.h"
#include "exitwatch/agent/exit_hold.h"
#include "exitwatch/util/log.h"
#include "exitwatch/agent/log_watch.h"
#include "exitwatch/agent/pipeline.h"
#include "exitwatch/identity/resolver.h"
#include "exitwatch/identity/runtime_log.h"
#include "exitwatch/persist/state.h"
#include "exitwatch/render/rendered.h"
#include "exitwatch/util/util.h"

struct ew_pipeline {
	const struct ew_config *cfg;
	struct ew_pipeline_deps deps;
	struct ew_resolver *resolver;
	struct ew_detector *detector;
	struct ew_render_ctx rctx;
	struct ew_clock replay_steps; /* a replay's: the steps its recording says (no offset) */
	char node[256];
	uint64_t root_cgroup_id;

	struct ew_hold *hold;		/* NULL: tails are not read from runtime logs */
	struct ew_meta_paths log_paths; /* where the runtimes keep their logs */
	struct ew_meta_pins *pins;	/* those directories, open since before the caps drop */
	struct ew_logwatch *watch;	/* closes of the log files; NULL: quiet time only */
	uint64_t hold_wake_ns;		/* when the head of the hold wants a look, or 0 */
	bool watch_read;		/* this drain has taken the watch's news */
	/* Logs that could not be watched (inotify limits): counted, and said once per streak. */
	uint64_t watch_refused;
	bool watch_refusing;		      /* the last try failed: a success ends the streak */
	bool watch_streak_said;		      /* this streak was warned of: its end is said too */
	uint64_t watch_warned_mono;	      /* the last such warning (0: none) */
	struct ew_log_total overflows_warned; /* IN_Q_OVERFLOW count at the last warning */
	int log_errno_warned[4]; /* errors said once each (not ENOENT: no log is normal) */
	bool start_error_warned; /* a runtime's file of a failed start could not be read */

	struct ew_rendered rr;	    /* the record going out, rendered as the outputs ask */
	bool defer;		    /* inside an event: findings wait (ew_outputs_defer()) */
	uint64_t event_mono;	    /* inside an event: its records' time for the outputs' timers */
	uint64_t drain_mono;	    /* inside drain(): its clock read, the events' own (0: none) */
	struct ew_identity scratch; /* unpacked subject of a finding */
	struct ew_identity resolved; /* the current event's identity */
	/* An exit's lookup, made by locate() for the exit at the head of the hold and taken over
	 * by process(): an identity is kilobytes to unpack, once is enough. */
	struct ew_proc_names names;
	uint64_t looked_up; /* cgroup id whose lookup resolved/names hold, or 0 */
	int looked_up_rc;
	struct ew_event *ev_copy; /* the current event with the start's names filled in */
	/* Cgroups ew_pipeline_forget() was told of while events of theirs were held. */
	struct ew_lost_main *forgets;
	size_t nforgets, forgets_cap;
	/*
	 * The containers whose exit went by last, oldest overwritten: one that sent a fatal signal
	 * and exited at once has exited before its victim (a SIGKILL to a pid namespace's init
	 * ends the namespace first), and the resolver has forgotten it when the victim's exit asks
	 * who it was. 32 of about 140 bytes.
	 */
	struct {
		uint64_t cgroup_id;
		char key[sizeof(((struct ew_killer_info *)0)->container)];
	} gone[32];
	unsigned gone_next;

	uint64_t starts, exits, readies, findings, resolutions, decode_errors;
};

static void emit(struct ew_pipeline *p, const struct ew_record *r)
{
	int err;

	ew_rendered_set(&p->rr, r);
	if (p->defer)
		err = ew_outputs_defer(p->deps.out, &p->rr);
	else
		err = ew_outputs_emit(p->deps.out, &p->rr,
				      p->event_mono ? p->event_mono : ew_clock_mono_ns());
	ew_rendered_set(&p->rr, NULL); /* r lives on the caller's stack */
	if (err) {
		ew_warn("a %s record could not be rendered (%s)", ew_record_event_name(r->type),
			err == -ENOMEM ? "out of memory" : "incomplete record");
		if (err == -EINVAL)
			return;
	}
	if (p->deps.metrics)
		ew_metrics_record(p->deps.metrics, r);
	switch (r->type) {
	case EW_REC_START:
		p->starts++;
		break;
	case EW_REC_EXIT:
		p->exits++;
		break;
	case EW_REC_READY:
		p->readies++;
		break;
	case EW_REC_FINDING:
		p->findings++;
		break;
	case EW_REC_RESOLVED:
		p->resolutions++;
		break;
	case EW_REC_AGENT:
		break;
	}
}

/* The findings an event raised go out after the event's record, in the order they came. */
static void flush_pending(struct ew_pipeline *p)
{
	ew_outputs_release(p->deps.out, p->event_mono);
}

/*
 * Which limit an inotify call ran into, for the warning: what to raise. EMFILE from
 * inotify_init1() is the user's instances (fs.inotify.max_user_instances) or the process's own
 * descriptors; an fd that can still be opened says it is not the latter.
 */
static const char *inotify_limit(int err)
{
	int fd;

	switch (err) {
	case -ENOSPC:
		return "the node's watches are used up: raise fs.inotify.max_user_watches";
	case -EMFILE:
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return "the agent's own open file limit: raise ulimit -n (RLIMIT_NOFILE)";
		close(fd);
		return "the user's instances are used up: raise fs.inotify.max_user_instances";
	case -ENFILE:
		return "the node's open files are at fs.file-max";
	default:
		return NULL;
	}
}

/*
 * A container's log could not be watched (path), or no inotify instance could be had (NULL):
 * exits then wait for their file to stop growing instead of the writer's close (settled()), and
 * may miss a last line without a newline. Said once per streak of refusals, with the limit to
 * raise: a node at its limit refuses every start. At most once a minute, though: a node at the
 * edge of its limit refuses one start and accepts the next, each a streak. The caller counts
 * the containers.
 */
static void watch_refused(struct ew_pipeline *p, int err, const char *path)
{
	const char *limit = inotify_limit(err);
	char what[PATH_MAX + 32] = "no inotify instance";

	if (p->watch_refusing)
		return;
	p->watch_refusing = true;
	if (!ew_log_due(&p->watch_warned_mono))
		return;
	p->watch_streak_said = true;
	if (path) {
		char shown[PATH_MAX];

		ew_strlcpy(shown, path, sizeof(shown));
		ew_meta_pins_unpin_msg(p->pins, shown, sizeof(shown));
		snprintf(what, sizeof(what), "cannot watch %s", shown);
	}
	ew_warn("inotify: %s: %s%s%s%s; until watches can be had again, exits wait for their log "
		"file to stop growing (%d ms) and may miss a last line without a newline",
		what, strerror(-err), limit ? " (" : "", limit ? limit : "", limit ? ")" : "",
		(int)(EW_HOLD_QUIET_NS / 1000000));
}

/* A watch was had: the end of a streak of refusals, said so. */
static void watch_had(struct ew_pipeline *p)
{
	if (!p->watch_refusing)
		return;
	p->watch_refusing = false;
	if (!p->watch_streak_said)
		return;
	p->watch_streak_said = false;
	ew_info("inotify: log files are watched again (%llu refused so far)",
		(unsigned long long)p->watch_refused);
}

/*
 * The agent's time (util/clock.h), what events are stamped on (the wall clock without one): for
 * the log watch's and the hold's times, which are compared with the events'.
 */
static uint64_t agent_now(const struct ew_pipeline *p)
{
	return p->deps.clock ? ew_clock_now(p->deps.clock) : ew_clock_wall_ns();
}

/*
 * IN_Q_OVERFLOW: the kernel dropped events of the log watch (more than
 * fs.inotify.max_queued_events before a read). Lost closes make their exits wait the whole
 * hold (90 ms); the watches were checked against their paths again (log_watch.c). Said at
 * most once a minute, with the count.
 */
static void read_watch(struct ew_pipeline *p)
{
	uint64_t n;

	ew_logwatch_read(p->watch, agent_now(p));
	p->watch_read = true;
	n = ew_logwatch_overflows(p->watch);
	if (!ew_log_total_due(&p->overflows_warned, n))
		return;
	ew_warn("inotify: the log watch's event queue overflowed (%llu overflows since start): "
		"exits whose log close was lost wait %d ms; raise fs.inotify.max_queued_events",
		(unsigned long long)n, (int)(EW_HOLD_MAX_NS / 1000000));
}

static void on_finding(void *ctx, const struct ew_finding *f)
{
	struct ew_pipeline *p = ctx;
	struct ew_record r = {.type = f->resolved ? EW_REC_RESOLVED : EW_REC_FINDING,
			      .time_ns = f->time_ns,
			      .finding = f,
			      .id = &p->scratch};

	ew_subject_unpack(f->subject, &p->scratch);
	/* The workload that counted it, as its finding said, even if its subject calls it
	 * otherwise now: a backend pairs a resolution with its finding by their labels. */
	if (f->workload && strcmp(p->scratch.workload, f->workload)) {
		ew_strlcpy(p->scratch.workload, f->workload, sizeof(p->scratch.workload));
		p->scratch.rev = 0; /* no longer what the renderer's cache made of its rev */
	}
	emit(p, &r);
}

struct ew_pipeline *ew_pipeline_new(const struct ew_config *cfg,
				    const struct ew_pipeline_deps *deps)
{
	struct ew_resolver_opts ro = {.read_meta = cfg->read_meta};
	struct ew_pipeline *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->cfg = cfg;
	p->deps = *deps;
	ro.paths = (struct ew_meta_paths){.host_root = cfg->host_root,
					  .docker_root = cfg->docker_root,
					  .containerd_root = cfg->containerd_root,
					  .containerd_cri_root = cfg->containerd_cri_root,
					  .crio_root = cfg->crio_root,
					  .pods_log_root = cfg->pods_log_root,
					  .containers_log_root = cfg->containers_log_root};
	/* Before the capabilities go (agent.c): see identity/meta_pin.c for why. */
	if (cfg->read_meta) {
		struct ew_meta_paths pinned;

		if (ew_meta_paths_pin(&ro.paths, &p->pins, &pinned)) {
			ew_pipeline_free(p);
			return NULL;
		}
		ro.paths = pinned;
		ro.pins = p->pins;
		ew_debug("runtime directories held open: %d", ew_meta_pins_count(p->pins));
	}
	p->resolver = ew_resolver_new(&ro);
	p->detector = ew_detector_new(&cfg->detect);
	p->ev_copy = malloc(sizeof(*p->ev_copy));
	p->log_paths = ro.paths;
	ew_meta_paths_default(&p->log_paths);
	/* The runtime logs are named from the metadata; without it there is no path to read. */
	if (cfg->capture_stderr && cfg->read_meta) {
		p->hold = ew_hold_new();
		if (!p->hold) {
			ew_pipeline_free(p);
			return NULL;
		}
		p->watch = ew_logwatch_new();
		if (!p->watch)
			watch_refused(p, -errno, NULL);
	}
	if (!p->resolver || !p->detector || !p->ev_copy) {
		ew_pipeline_free(p);
		return NULL;
	}
	ew_pipeline_set_node(p, cfg->node);
	p->rctx.classes = &cfg->classes;
	p->rctx.clock = p->deps.clock;
	ew_rendered_init(&p->rr, &p->rctx, cfg->format_text && isatty(STDOUT_FILENO));
	return p;
}

void ew_pipeline_set_node(struct ew_pipeline *p, const char *node)
{
	ew_strlcpy(p->node, node, sizeof(p->node));
	p->rctx.node = p->node;
}

void ew_pipeline_replay_clock_step(struct ew_pipeline *p, uint64_t t, int64_t step_ns)
{
	int64_t d;

	if (p->deps.clock)
		return;
	/* With no offset (boot_to_wall 0) the step is the whole of it, kept as the agent kept it;
	 * one the same as that in force moves nothing. */
	if (ew_clock_note_offset(&p->replay_steps, t, step_ns, &d))
		p->rctx.clock = &p->replay_steps;
}

void ew_pipeline_set_root_cgroup(struct ew_pipeline *p, uint64_t id)
{
	p->root_cgroup_id = id;
}

/* Who sent the fatal signal: the host, a container we know, or a cgroup by id. */
static void name_killer(struct ew_pipeline *p, struct ew_killer_info *k)
{
	if (k->cgroup_id == p->root_cgroup_id) {
		ew_strlcpy(k->container, "host", sizeof(k->container));
		return;
	}
	/* p->scratch is free here: findings only use it inside the detector's callback. */
	if (ew_resolver_lookup(p->resolver, k->cgroup_id, &p->scratch, NULL) == -ENOENT) {
		for (size_t i = 0; i < ARRAY_SIZE(p->gone); i++) {
			if (p->gone[i].cgroup_id == k->cgroup_id) {
				ew_strlcpy(k->container, p->gone[i].key, sizeof(k->container));
				return;
			}
		}
	}
	ew_strlcpy(k->container, p->scratch.key, sizeof(k->container));
}

/* The exit of cgroup_id, known as key, went by: a victim's exit after it may name it. */
static void remember_gone(struct ew_pipeline *p, uint64_t cgroup_id, const char *key)
{
	unsigned i = p->gone_next++ % ARRAY_SIZE(p->gone);

	p->gone[i].cgroup_id = cgroup_id;
	ew_strlcpy(p->gone[i].key, key, sizeof(p->gone[i].key));
}

void ew_pipeline_free(struct ew_pipeline *p)
{
	if (!p)
		return;
	ew_hold_free(p->hold);
	ew_logwatch_free(p->watch);
	ew_resolver_free(p->resolver);
	ew_meta_pins_free(p->pins);
	ew_detector_free(p->detector);
	ew_rendered_free(&p->rr);
	free(p->ev_copy);
	free(p->forgets);
	free(p);
}

int ew_pipeline_replay(struct ew_pipeline *p, const struct ew_event *ev,
		       const struct ew_identity *id)
{
	enum ew_exit_class cls = EW_CLASS_CLEAN;
	struct ew_startup su;
	struct ew_record r = {.time_ns = ev->time_ns, .ev = ev, .id = id, .startup = &su};
	int err;

	if (p->deps.rec && ew_recorder_event(p->deps.rec, ev, id))
		ew_warn("the recording could not be written: it will be incomplete");
	/* One clock read for the event's records: the outputs' back-off timers want no better.
	 * A held exit drained now takes drain()'s read, microseconds old: one vDSO call fewer. */
	p->event_mono = p->drain_mono ? p->drain_mono : ew_clock_mono_ns();
	if (ev->type == EW_EVENT_EXIT || ev->type == EW_EVENT_START_FAILED)
		cls = ew_exit_classify(ev, &p->cfg->classes);
	r.cls = cls;

	/* Deadlines due before this event first, so their records come out in time order. */
	ew_detector_advance(p->detector, ev->time_ns, on_finding, p);

	/*
	 * The runtime's own restart count (Docker's RestartCount, the kubelet's) tells a detector
	 * that has never seen this identity how many restarts came before: a start it watches is
	 * the count-th restart, a container found running has had count of them.
	 */
	if ((ev->type == EW_EVENT_START || ev->type == EW_EVENT_START_FAILED) && !ev->reexec &&
	    id->meta.restart_count > 0)
		ew_detector_seed_restarts(p->detector, id,
					  (uint32_t)id->meta.restart_count - !ev->seeded);

	p->defer = true;
	err = ew_detector_observe(p->detector, ev, id, cls, on_finding, p, &su);
	p->defer = false;
	if (err)
		ew_warn("the detector is out of memory: an event was not counted");

	switch (ev->type) {
	case EW_EVENT_START:
		if (ev->reexec) /* the same container still: no record of its own */
			break;
		r.type = EW_REC_START;
		emit(p, &r);
		break;
	case EW_EVENT_READY:
		r.type = EW_REC_READY;
		emit(p, &r);
		break;
	case EW_EVENT_EXIT:
	case EW_EVENT_START_FAILED: /* its exit record says it never ran */
		r.type = EW_REC_EXIT;
		emit(p, &r);
		break;
	}
	flush_pending(p);
	p->event_mono = 0;
	return 0;
}

static void warn_log_error(struct ew_pipeline *p, const char *path, int err);

/* A container with a log file: watch for its writer's close from the start (log_watch.h). */
static void watch_log(struct ew_pipeline *p)
{
	char path[PATH_MAX];
	enum ew_log_format fmt;
	int r = ew_runtime_log_locate(&p->log_paths, &p->resolved, path, sizeof(path), &fmt);

	if (r < 0) {
		if (r != -ENOENT)
			warn_log_error(p, path, r);
		return;
	}
	/* No instance at the start (a limit): one may be had now, the limit raised or freed. */
	if (!p->watch) {
		p->watch = ew_logwatch_new();
		if (!p->watch) {
			p->watch_refused++;
			watch_refused(p, -errno, NULL);
			return;
		}
	}
	r = ew_logwatch_add(p->watch, p->resolved.cgroup_id, path, (int)fmt, agent_now(p));
	if (r == 0) {
		watch_had(p);
	} else if (r != -ENOENT) {
		p->watch_refused++;
		watch_refused(p, r, path);
	}
}

/* The identity and names of an exit's or ready's cgroup, into p->resolved and p->names. */
static int look_up(struct ew_pipeline *p, uint64_t cgroup_id)
{
	if (p->looked_up != cgroup_id || !cgroup_id) {
		p->looked_up_rc =
			ew_resolver_lookup(p->resolver, cgroup_id, &p->resolved, &p->names);
		p->looked_up = cgroup_id;
	}
	return p->looked_up_rc;
}

/*
 * --cgroup-subtree: the agent answers for the containers under one cgroup only, as if the rest
 * of the machine were another node's (two agents on one host stand for two nodes). A path
 * matches itself and what is below it, never a sibling that shares its prefix.
 */
static bool outside_subtree(const struct ew_pipeline *p, const char *cgroup)
{
	const char *sub = p->cfg->cgroup_subtree;
	size_t n;

	if (!sub)
		return false;
	n = strlen(sub);
	while (n > 1 && sub[n - 1] == '/')
		n--;
	return strncmp(cgroup, sub, n) || (cgroup[n] && cgroup[n] != '/' && n > 1);
}

static int process(struct ew_pipeline *p, const struct ew_event *ev)
{
	struct ew_event *use = p->ev_copy;
	const struct ew_proc_names *names = &p->names;
	int err;

	if (ev->type == EW_EVENT_START || ev->type == EW_EVENT_START_FAILED) {
		err = ew_resolver_start(p->resolver, ev, &p->resolved);
		if (err)
			return err;
		if (outside_subtree(p, p->resolved.cgroup)) {
			ew_resolver_forget(p->resolver, ev->cgroup_id);
			return 0;
		}
		/* A failed start has no log to watch: nothing ran to write one. */
		if (p->hold && ev->type == EW_EVENT_START && !ev->reexec)
			watch_log(p);
		use = (struct ew_event *)ev;
	} else {
		/* Exit and ready records show what the start recorded of the main process. The
		 * tail is the only large part of an event: copy just the bytes it holds. */
		memcpy(use, ev, offsetof(struct ew_event, tail) + ev->tail_len);
		if (look_up(p, ev->cgroup_id) == -ENOENT)
			ew_debug("cgroup %llu: its start was not seen; named by id",
				 (unsigned long long)ev->cgroup_id);
		if (outside_subtree(p, p->resolved.cgroup)) {
			if (ev->type == EW_EVENT_EXIT)
				ew_resolver_forget(p->resolver, ev->cgroup_id);
			p->looked_up = 0;
			return 0;
		}
		ew_strlcpy(use->argv0, names->argv0, sizeof(use->argv0));
		ew_strlcpy(use->filename, names->filename, sizeof(use->filename));
		/* A sender is named only when its signal ended the process: not a SIGHUP it
		 * trapped an hour ago. Decided before the recording, so a replay agrees. */
		if (use->has_killer && !ew_killer_attributable(use, &p->cfg->classes))
			use->has_killer = false;
		if (use->has_killer)
			name_killer(p, &use->killer);
		if (ev->type == EW_EVENT_READY)
			ew_strlcpy(use->comm, names->comm, sizeof(use->comm));
	}
	p->looked_up = 0; /* p->resolved is this event's now, and the resolver may change */
	/*
	 * A pod's sandbox (pause) only holds the pod's namespaces: it is not a workload, and a
	 * new sandbox is not a container restart. Its start and exit stay in the resolver (so the
	 * exit is known for what it is) and go no further.
	 */
	if (p->resolved.meta.sandbox)
		err = 0;
	else
		err = ew_pipeline_replay(p, use, &p->resolved);
	if (ev->type == EW_EVENT_EXIT || ev->type == EW_EVENT_START_FAILED) {
		remember_gone(p, ev->cgroup_id, p->resolved.key);
		ew_resolver_forget(p->resolver, ev->cgroup_id);
		if (p->watch)
			ew_logwatch_forget(p->watch, ev->cgroup_id);
	}
	return err;
}

/* A log error other than "no such file" is said once per kind: a tail is then missing. */
static void warn_log_error(struct ew_pipeline *p, const char *path, int err)
{
	char shown[PATH_MAX];
	size_t n = sizeof(p->log_errno_warned) / sizeof(p->log_errno_warned[0]);

	for (size_t i = 0; i < n; i++) {
		if (p->log_errno_warned[i] == err)
			return;
		if (!p->log_errno_warned[i]) {
			p->log_errno_warned[i] = err;
			break;
		}
	}
	ew_strlcpy(shown, path, sizeof(shown));
	ew_meta_pins_unpin_msg(p->pins, shown, sizeof(shown));
	ew_warn("%s: %s: stderr tails from such logs will be missing", shown, strerror(-err));
}

/*
 * Looks for the log of an exit at the head of the hold, or of one that would be there: only
 * there, because the events before it (its container's start, say) have all been through the
 * resolver by then. The path into path[0..len) and its format into *fmt; false: no log.
 */
static bool find_log(struct ew_pipeline *p, uint64_t cgroup_id, char *path, size_t len,
		     enum ew_log_format *fmt)
{
	const char *watched;
	int r, tag;

	path[0] = '\0';
	/* Looked for at the start already, when the container's log is watched. */
	watched = p->watch ? ew_logwatch_path(p->watch, cgroup_id, &tag) : NULL;
	if (watched) {
		*fmt = (enum ew_log_format)tag;
		return ew_strlcpy(path, watched, len) < len;
	}
	look_up(p, cgroup_id);
	r = ew_runtime_log_locate(&p->log_paths, &p->resolved, path, len, fmt);
	if (r < 0) {
		if (r != -ENOENT)
			warn_log_error(p, path[0] ? path : p->resolved.key, r);
		return false;
	}
	return true;
}

static void found_log(struct ew_held *e, const char *path, enum ew_log_format fmt)
{
	e->located = true;
	e->fmt = fmt;
	e->path = strdup(path);
	e->has_log = e->path != NULL;
}

static void locate(struct ew_pipeline *p, struct ew_held *e)
{
	char path[PATH_MAX]; /* not "= {0}": that is a 4 KiB memset for every exit */
	enum ew_log_format fmt;

	e->located = true;
	if (find_log(p, e->ev.cgroup_id, path, sizeof(path), &fmt))
		found_log(e, path, fmt);
}

/* Whether the head exit may go now; if not, hold_wake_ns says when to look again. */
static bool settled(struct ew_pipeline *p, struct ew_held *e, uint64_t now)
{
	off_t size;

	if (!e->located)
		locate(p, e);
	if (!e->has_log)
		return true;
	/* The writer's close after the exit says the last line is in (log_watch.h). */
	if (p->watch) {
		int closed;

		if (!p->watch_read)
			read_watch(p);
		closed = ew_logwatch_closed(p->watch, e->ev.cgroup_id, e->ev.time_ns);
		if (closed == 1)
			return true;
		/*
		 * Not closed yet, or a watch begun only after the exit (a container that lived a
		 * millisecond: its start was handled after it died), which may have missed a close
		 * in between: wait for a close until the deadline. A missed close costs latency,
		 * never the last line.
		 */
		if (closed == 0 || closed == -EAGAIN) {
			p->hold_wake_ns = e->deadline_ns;
			return now >= p->hold_wake_ns;
		}
	}
	/* No watch (inotify refused, or no log at the start): the file's quiet time. */
	if (ew_runtime_log_size(e->path, &size) < 0)
		return true;
	p->hold_wake_ns = ew_hold_settle(e, size, now);
	return p->hold_wake_ns == 0;
}

/*
 * Whether the failed start at the head of the hold may go now: its runtime's error was found
 * (into the event's tail, source EW_TAIL_START_ERROR), or will not come (no such file, or the
 * deadline passed). If not, hold_wake_ns says when to look again: the runtime writes it with
 * no event of ours to say so.
 */
static bool start_error_settled(struct ew_pipeline *p, struct ew_held *e, uint64_t now)
{
	struct ew_event *ev = &e->ev;
	struct ew_cgroup_info cg;
	uint64_t since = ev->time_ns > ev->uptime_ns ? ev->time_ns - ev->uptime_ns : 0;
	char err[512];
	int r;

	if (e->located)
		return true;
	if (ew_cgroup_parse(ev->cgroup, &cg) < 0) {
		e->located = true;
		return true;
	}
	/* The runtime's file is stamped on the wall clock: the init's fork as it said it then. */
	if (p->deps.clock)
		since = ew_clock_to_wall(p->deps.clock, since);
	r = ew_meta_read_start_error(&p->log_paths, &cg, since, ev->tail, sizeof(ev->tail), err,
				     sizeof(err));
	if (r > 0) {
		ev->tail_len = (uint32_t)r;
		ev->tail_source = EW_TAIL_START_ERROR;
	} else if (r < 0 && r != -ENOENT && !p->start_error_warned) {
		p->start_error_warned = true;
		ew_meta_pins_unpin_msg(p->pins, err, sizeof(err));
		ew_warn("%s: failed starts will go without their runtime's error", err);
	}
	if (r != 0 || now >= e->deadline_ns) {
		e->located = true;
		return true;
	}
	p->hold_wake_ns =
		now + EW_HOLD_POLL_NS < e->deadline_ns ? now + EW_HOLD_POLL_NS : e->deadline_ns;
	return false;
}

static const enum ew_tail_source log_sources[] = {
	[EW_LOG_DOCKER_JSON] = EW_TAIL_DOCKER_JSON,
	[EW_LOG_CRI] = EW_TAIL_CRI,
	[EW_LOG_DOCKER_LOCAL] = EW_TAIL_DOCKER_LOCAL,
};

/*
 * The tail from the log: what the container's stderr held since its main process started
 * (Docker's files carry on across restarts). A log that cannot be read leaves the kernel's tail,
 * if it captured one.
 */
static void take_log_tail(struct ew_pipeline *p, struct ew_held *e)
{
	struct ew_event *ev = &e->ev;
	uint64_t since = ev->time_ns > ev->uptime_ns ? ev->time_ns - ev->uptime_ns : 0;
	size_t len = 0;
	int r;

	/* The runtime stamps its lines on the wall clock: the start as the wall clock said it. */
	if (p->deps.clock)
		since = ew_clock_to_wall(p->deps.clock, since);

	if (!e->located)
		locate(p, e);
	if (!e->has_log)
		return;
	r = ew_runtime_log_tail(e->path, e->fmt, p->cfg->stderr_bytes, since, ev->tail, &len, NULL);
	if (r < 0) {
		if (r != -ENOENT)
			warn_log_error(p, e->path, r);
		return;
	}
	ev->tail_len = (uint32_t)len;
	ev->tail_source = len ? log_sources[e->fmt] : EW_TAIL_NONE;
}

/* Whether an event of cgroup_id waits in the hold. O(held): at most EW_HOLD_MAX_EVENTS. */
static bool held(struct ew_pipeline *p, uint64_t cgroup_id)
{
	for (const struct ew_held *e = p->hold ? ew_hold_head(p->hold) : NULL; e; e = e->next)
		if (e->ev.cgroup_id == cgroup_id)
			return true;
	return false;
}

/* What process() drops at an exit, for a container whose exit will not come. */
static void forget_now(struct ew_pipeline *p, const struct ew_lost_main *m)
{
	uint64_t cgroup_id = m->cgroup_id;

	/* Its identity, as its start named it: the detector's run of it ends. */
	if (!ew_resolver_lookup(p->resolver, cgroup_id, &p->scratch, NULL))
		ew_detector_main_lost(p->detector, &p->scratch, m->pid, m->start_ticks);
	ew_resolver_forget(p->resolver, cgroup_id);
	if (p->watch)
		ew_logwatch_forget(p->watch, cgroup_id);
	if (p->looked_up == cgroup_id)
		p->looked_up = 0; /* p->resolved was its identity */
	ew_debug("cgroup %llu: forgotten, its main process gone without a seen exit",
		 (unsigned long long)cgroup_id);
}

uint32_t ew_pipeline_runs_gone(struct ew_pipeline *p, ew_detector_alive_fn alive, void *ctx)
{
	return ew_detector_runs_gone(p->detector, alive, ctx);
}

uint32_t ew_pipeline_other_boot(struct ew_pipeline *p)
{
	return ew_detector_other_boot(p->detector);
}

void ew_pipeline_scan_done(struct ew_pipeline *p)
{
	ew_detector_scan_done(p->detector);
}

/* The forgetting that waited for held events of its cgroup, once they have gone through. */
static void forget_pending(struct ew_pipeline *p)
{
	size_t kept = 0;

	for (size_t i = 0; i < p->nforgets; i++) {
		if (held(p, p->forgets[i].cgroup_id))
			p->forgets[kept++] = p->forgets[i];
		else
			forget_now(p, &p->forgets[i]);
	}
	p->nforgets = kept;
}

void ew_pipeline_forget(struct ew_pipeline *p, const struct ew_lost_main *m)
{
	struct ew_lost_main *grown;
	size_t cap;

	if (!held(p, m->cgroup_id)) {
		forget_now(p, m);
		return;
	}
	if (p->nforgets == p->forgets_cap) {
		cap = p->forgets_cap ? 2 * p->forgets_cap : 16;
		grown = realloc(p->forgets, cap * sizeof(*grown));
		/* Out of memory: at once, then. Its start, let through later, is cached again. */
		if (!grown) {
			forget_now(p, m);
			return;
		}
		p->forgets = grown;
		p->forgets_cap = cap;
	}
	p->forgets[p->nforgets++] = *m;
}

/*
 * Lets through every held event that may go; with force, all of them (the agent stops). The
 * watch's news are read when an exit with a log asks (settled()), not for every exit that
 * arrives: most have no log, and the read is a syscall. read_watch_now reads them anyway: the
 * tick does, so that the fd poll()s quiet again.
 */
static int drain(struct ew_pipeline *p, uint64_t now, bool force, bool read_watch_now)
{
	struct ew_held *e;
	int err = 0;

	p->hold_wake_ns = 0;
	p->watch_read = false;
	if (p->watch && read_watch_now)
		read_watch(p);
	p->drain_mono = now;
	while ((e = ew_hold_head(p->hold))) {
		if (e->ev.type == EW_EVENT_START_FAILED) {
			/* Looked for even when forced: once more costs one read. */
			if (!start_error_settled(p, e, now) && !force &&
			    ew_hold_count(p->hold) <= EW_HOLD_MAX_EVENTS)
				break;
		} else if (e->ev.type == EW_EVENT_EXIT) {
			if (!force && ew_hold_count(p->hold) <= EW_HOLD_MAX_EVENTS &&
			    !settled(p, e, now))
				break;
			take_log_tail(p, e);
			if (e->has_log)
				ew_debug("cgroup %llu: exit held %.1f ms for its log (exit %.1f ms "
					 "ago)",
					 (unsigned long long)e->ev.cgroup_id,
					 (double)(now - e->arrived_ns) / 1e6,
					 (double)(agent_now(p) - e->ev.time_ns) / 1e6);
		}
		if (process(p, &e->ev))
			err = -ENOMEM;
		ew_hold_pop(p->hold);
	}
	p->drain_mono = 0;
	if (p->nforgets)
		forget_pending(p);
	return err;
}

int ew_pipeline_event(struct ew_pipeline *p, const struct ew_event *ev)
{
	char path[PATH_MAX];
	enum ew_log_format fmt;
	bool probed = false;

	/* A failed start waits too, for its runtime's error (start_error_settled()). */
	if (!p->hold || (ev->type != EW_EVENT_EXIT && ev->type != EW_EVENT_START_FAILED &&
			 !ew_hold_count(p->hold)))
		return process(p, ev);
	/*
	 * An exit with nothing held before it and no log to wait for goes now, as drain() would
	 * let it, without its copy into the hold and out: a bare cgroup's, a unit's, a container's
	 * whose runtime logs are not mounted here. One with a log waits as before.
	 */
	if (ev->type == EW_EVENT_EXIT && !ew_hold_count(p->hold)) {
		if (!find_log(p, ev->cgroup_id, path, sizeof(path), &fmt))
			return process(p, ev);
		probed = true;
	}
	uint64_t now = agent_now(p), mono = ew_clock_mono_ns();

	if (ew_hold_push(p->hold, ev, mono, now > ev->time_ns ? now - ev->time_ns : 0)) {
		/* No room to wait: everything held goes now, then this, in order. */
		drain(p, mono, true, false);
		return process(p, ev);
	}
	if (probed) /* at the head: what locate() would find, found */
		found_log(ew_hold_tail(p->hold), path, fmt);
	return drain(p, mono, false, false);
}

int ew_pipeline_fd(const struct ew_pipeline *p)
{
	return p->watch ? ew_logwatch_fd(p->watch) : -1;
}

uint64_t ew_pipeline_wake(const struct ew_pipeline *p, uint64_t now_mono, uint64_t now_wall)
{
	const struct ew_held *head = p->hold ? ew_hold_head(p->hold) : NULL;
	uint64_t wake = UINT64_MAX, at;

	if (ew_detector_has_work(p->detector))
		return now_mono;
	/* drain() leaves a wake time with every exit it holds; none would be a bug, and a look
	 * soon is what it costs. */
	if (head)
		wake = p->hold_wake_ns ? p->hold_wake_ns : now_mono + EW_HOLD_QUIET_NS;
	at = ew_detector_next_deadline(p->detector);
	/* A deadline after a held exit waits for it (ew_pipeline_tick()): the hold's wake runs it. */
	if (at == UINT64_MAX || (head && at >= head->ev.time_ns))
		return wake;
	/* On the agent's clock, slept on the monotonic one. */
	at = at <= now_wall ? now_mono : now_mono + (at - now_wall);
	return at < wake ? at : wake;
}

void ew_pipeline_tick(struct ew_pipeline *p, uint64_t now_ns)
{
	struct ew_held *head;

	if (p->hold) {
		drain(p, ew_clock_mono_ns(), false, true);
		/* Deadlines stop at a held exit: it happened before them. */
		head = ew_hold_head(p->hold);
		if (head && head->ev.time_ns < now_ns)
			now_ns = head->ev.time_ns;
	}
	ew_detector_advance(p->detector, now_ns, on_finding, p);
}

void ew_pipeline_finish(struct ew_pipeline *p, uint64_t now_ns)
{
	if (p->hold)
		drain(p, ew_clock_mono_ns(), true, true);
	ew_pipeline_tick(p, now_ns);
	if (p->deps.rec) {
		ew_recorder_end(p->deps.rec, now_ns);
		ew_recorder_flush(p->deps.rec);
	}
}

void ew_pipeline_drops(struct ew_pipeline *p, uint64_t now_ns, uint64_t total)
{
	ew_detector_note_drops(p->detector, now_ns, total);
	if (p->deps.rec)
		ew_recorder_drops(p->deps.rec, now_ns, total);
}

void ew_pipeline_decode_error(struct ew_pipeline *p)
{
	p->decode_errors++;
}

uint64_t ew_pipeline_episode_records(const struct ew_pipeline *p)
{
	return p->findings + p->resolutions;
}

void ew_pipeline_status(const struct ew_pipeline *p, struct ew_agent_status *a)
{
	a->starts = p->starts;
	a->exits = p->exits;
	a->readies = p->readies;
	a->findings = p->findings;
	a->resolutions = p->resolutions;
	a->decode_errors = p->decode_errors;
	a->identities = ew_detector_identities(p->detector);
	{
		struct ew_detector_memory mem;

		ew_detector_memory(p->detector, &mem);
		a->identities_asleep = mem.sleeping;
		a->state_bytes = mem.bytes;
		a->forgotten[0] = mem.forgotten_idle;
		a->forgotten[1] = mem.forgotten_limit;
		a->forgotten[2] = mem.forgotten_budget;
		a->forgotten_in_window = mem.forgotten_in_window;
	}
	a->active_findings = ew_detector_active(p->detector);
	a->log_watches = p->watch ? ew_logwatch_count(p->watch) : 0;
	a->log_watch_refused = p->watch_refused;
	a->log_watch_overflows = p->watch ? ew_logwatch_overflows(p->watch) : 0;
	a->nsinks = ew_outputs_status(p->deps.out, a->sinks, EW_MAX_SINKS);
}

void ew_pipeline_agent(struct ew_pipeline *p, uint64_t now_ns, const struct ew_agent_status *a)
{
	struct ew_record r = {.type = EW_REC_AGENT, .time_ns = now_ns, .agent = a};

	emit(p, &r); /* the metrics take *a from the record, as every record's */
	if (p->deps.rec)
		ew_recorder_flush(p->deps.rec);
}

int ew_pipeline_save_state(struct ew_pipeline *p, const char *path, uint64_t now_ns,
			   const char *boot_id)
{
	/* On the wall clock: the next agent's time starts there, whatever this one's did. */
	return ew_state_save(p->detector, p->resolver, path, now_ns,
			     p->deps.clock ? p->deps.clock->step_ns : 0, boot_id);
}

/*
 * What a restored state tells: its open episodes, for exitwatch_finding_active (no record says
 * them again), and its identities' pods, for the resolver: a crash-looping container gone before
 * this agent read its files is named by the kubelet's link alone, and its image is the one its
 * earlier attempts ran (identity/pod_cache_int.h).
 */
static void restored(struct ew_pipeline *p, const struct ew_detector_scope *s,
		     const struct ew_identity *id, const char *wl_key, bool workload)
{
	if (id && ew_resolver_learn(p->resolver, id))
		ew_debug("pod cache: out of memory");
	if (!p->deps.metrics || !s->nep)
		return;
	/* Named as their resolution will be (on_finding()): by the workload that counts them. */
	if (id && strcmp(id->workload, wl_key)) {
		p->scratch = *id;
		ew_strlcpy(p->scratch.workload, wl_key, sizeof(p->scratch.workload));
		p->scratch.rev = 0;
		id = &p->scratch;
	}
	for (size_t i = 0; i < s->nep; i++) {
		const struct ew_rule_config *rc = &p->cfg->detect.rules[s->ep[i].rule];

		ew_metrics_finding_open(p->deps.metrics, s->ep[i].rule, rc->severity,
					workload ? EW_SCOPE_WORKLOAD : EW_SCOPE_IDENTITY, id);
	}
}

static void restored_workload(void *ctx, const struct ew_detector_workload *wl)
{
	restored(ctx, &wl->s, wl->last_subject, wl->key, true);
}

static void restored_ident(void *ctx, const struct ew_detector_ident *id)
{
	restored(ctx, &id->s, id->subject, id->workload[0] ? id->workload : id->key, false);
}

int ew_pipeline_load_state(struct ew_pipeline *p, const char *path, uint64_t now_ns,
			   char boot_id[EW_BOOT_ID_LEN], char *err, size_t errlen)
{
	uint64_t shifted = 0;
	int r = ew_state_load(p->detector, p->resolver, path, now_ns, &shifted, boot_id, err,
			      errlen);
	char ahead[32];

	if (!r && shifted) {
		ew_duration_format(shifted, ahead, sizeof(ahead));
		ew_warn("state file %s: saved while the clock was %s ahead of now; its times are "
			"moved back by that much",
			path, ahead);
	}
	/* Workloads first: an identity's subject is newer than its workload's last. */
	if (!r) {
		ew_detector_export_workloads(p->detector, restored_workload, p);
		ew_detector_export_idents(p->detector, restored_ident, p);
	}
	return r;
}
