// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Records as NDJSON, shaped for Cloud Logging's structured logs: severity, message, time,
 * logging.googleapis.com/labels and a deterministic logging.googleapis.com/insertId. Every
 * string that comes from a workload goes through the writer's escaper. The "message" sentence
 * is message.c's (ew_record_message), shared with the text renderer.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "exitwatch/util/clock.h"
#include "exitwatch/detect/detector.h"
#include "exitwatch/core/json_writer.h"
#include "exitwatch/render/render_json.h"
#include "exitwatch/util/util.h"

enum ew_severity ew_record_severity(const struct ew_record *r)
{
	switch (r->type) {
	case EW_REC_START:
	case EW_REC_READY:
		return EW_SEV_INFO;
	case EW_REC_EXIT:
		switch (r->cls) {
		case EW_CLASS_CLEAN:
			return EW_SEV_INFO;
		case EW_CLASS_TERMINATED:
			return EW_SEV_NOTICE;
		case EW_CLASS_CRASH:
		case EW_CLASS_OOM_KILLED:
			return EW_SEV_ERROR;
		default:
			return EW_SEV_WARNING;
		}
	case EW_REC_FINDING:
		return r->finding->severity;
	case EW_REC_RESOLVED:
		return EW_SEV_NOTICE;
	case EW_REC_AGENT:
		return r->agent->drops ? EW_SEV_WARNING : EW_SEV_INFO;
	}
	return EW_SEV_DEFAULT;
}

/* FNV-1a: stable across builds and hosts, which is all an insertId needs. */
void ew_record_insert_id(const struct ew_record *r, const struct ew_render_ctx *ctx, char out[24])
{
	uint32_t t = r->type;
	uint64_t h;

	h = ew_fnv1a(EW_FNV1A_INIT, ctx->node, strlen(ctx->node));
	h = ew_fnv1a(h, &t, sizeof(t));
	if (r->finding) {
		h = ew_fnv1a(h, r->finding->finding_id, strlen(r->finding->finding_id));
	} else if (r->ev) {
		h = ew_fnv1a(h, &r->ev->cgroup_id, sizeof(r->ev->cgroup_id));
		h = ew_fnv1a(h, &r->ev->pid, sizeof(r->ev->pid));
		h = ew_fnv1a(h, &r->ev->start_boot_ns, sizeof(r->ev->start_boot_ns));
	}
	h = ew_fnv1a(h, &r->time_ns, sizeof(r->time_ns));
	memcpy(out, "ew-", 3);
	for (int i = 0; i < 16; i++)
		out[3 + i] = "0123456789abcdef"[(h >> (60 - 4 * i)) & 15];
	out[19] = '\0';
}

static void labels(struct ew_jsonw *w, const struct ew_record *r, const struct ew_render_ctx *ctx)
{
	const struct ew_identity *id = r->id;

	ew_jsonw_name(w, "logging.googleapis.com/labels");
	ew_jsonw_start_object(w);
	ew_jsonw_string_field(w, "node", ctx->node);
	ew_jsonw_string_field(w, "event", ew_record_event_name(r->type));
	if (id) {
		ew_jsonw_string_field(w, "runtime", ew_runtime_name(id->cg.runtime));
		if (id->meta.pod_namespace[0])
			ew_jsonw_string_field(w, "namespace", id->meta.pod_namespace);
		if (id->meta.pod_name[0])
			ew_jsonw_string_field(w, "pod", id->meta.pod_name);
		if (id->meta.name[0])
			ew_jsonw_string_field(w, "container", id->meta.name);
		else if (id->cg.container_id[0])
			ew_jsonw_string_field(w, "container", id->cg.container_id);
		ew_jsonw_string_field(w, "workload", id->workload);
	}
	if (r->finding)
		ew_jsonw_string_field(w, "rule", ew_rule_name(r->finding->rule));
	ew_jsonw_end_object(w);
}

static void opt_string(struct ew_jsonw *w, const char *name, const char *v)
{
	if (v && v[0])
		ew_jsonw_string_field(w, name, v);
}

static void identity_objects(struct ew_jsonw *w, const struct ew_identity *id)
{
	ew_jsonw_name(w, "container");
	ew_jsonw_start_object(w);
	/* A container whose start was never seen (its record was lost) is named by its key. */
	ew_jsonw_string_field(w, "id",
			      id->cg.container_id[0] ? id->cg.container_id
			      : id->cgroup[0]	     ? id->cgroup
						     : id->key);
	ew_jsonw_string_field(w, "runtime", ew_runtime_name(id->cg.runtime));
	opt_string(w, "cgroup", id->cgroup);
	ew_jsonw_uint_field(w, "cgroup_id", id->cgroup_id);
	opt_string(w, "name", id->meta.name);
	opt_string(w, "image", id->meta.image);
	opt_string(w, "unit", id->cg.unit);
	if (id->meta.sandbox)
		ew_jsonw_bool_field(w, "sandbox", true);
	if (id->meta.restart_policy[0])
		ew_jsonw_string_field(w, "restart_policy", id->meta.restart_policy);
	ew_jsonw_string_field(w, "identity", id->key);
	ew_jsonw_end_object(w);
	if (id->cg.kubernetes || id->meta.pod_name[0]) {
		ew_jsonw_name(w, "pod");
		ew_jsonw_start_object(w);
		opt_string(w, "namespace", id->meta.pod_namespace);
		opt_string(w, "name", id->meta.pod_name);
		opt_string(w, "uid", id->cg.pod_uid[0] ? id->cg.pod_uid : id->meta.pod_uid);
		opt_string(w, "qos", id->cg.qos);
		ew_jsonw_end_object(w);
	}
	if (id->meta.compose_project[0]) {
		ew_jsonw_name(w, "compose");
		ew_jsonw_start_object(w);
		ew_jsonw_string_field(w, "project", id->meta.compose_project);
		opt_string(w, "service", id->meta.compose_service);
		ew_jsonw_end_object(w);
	}
	ew_jsonw_name(w, "workload");
	ew_jsonw_start_object(w);
	ew_jsonw_string_field(w, "key", id->workload);
	ew_jsonw_end_object(w);
}

static void process_object(struct ew_jsonw *w, const struct ew_event *ev)
{
	ew_jsonw_name(w, "process");
	ew_jsonw_start_object(w);
	ew_jsonw_uint_field(w, "pid", ev->pid);
	if (ev->type == EW_EVENT_START)
		ew_jsonw_uint_field(w, "ppid", ev->ppid);
	ew_jsonw_string_field(w, "comm", ev->comm);
	ew_jsonw_string_field(w, "argv0", ev->argv0);
	if (ev->filename[0])
		ew_jsonw_string_field(w, "filename", ev->filename);
	ew_jsonw_end_object(w);
}

/* Seconds with millisecond precision, rounded half up, from integer nanoseconds. */
static void seconds_field(struct ew_jsonw *w, const char *name, uint64_t ns)
{
	ew_jsonw_fixed_field(w, name, (int64_t)((ns + EW_NSEC_PER_MSEC / 2) / EW_NSEC_PER_MSEC), 3);
}

static void time_field(struct ew_jsonw *w, const char *name, uint64_t ns)
{
	char t[EW_TIME_STR_LEN];

	ew_time_format(ns, t);
	ew_jsonw_string_field(w, name, t);
}

static void exit_fields(struct ew_jsonw *w, const struct ew_record *r,
			const struct ew_render_ctx *ctx)
{
	const struct ew_event *ev = r->ev;
	const char *sig = ew_signal_name(ev->status.signal);
	const char *meaning = ew_exit_meaning(ev, ctx->classes);

	ew_jsonw_name(w, "exit");
	ew_jsonw_start_object(w);
	ew_jsonw_int_field(w, "code", ev->status.code);
	ew_jsonw_int_field(w, "signal", ev->status.signal);
	if (sig)
		ew_jsonw_string_field(w, "signal_name", sig);
	else
		ew_jsonw_null_field(w, "signal_name");
	ew_jsonw_bool_field(w, "core_dumped", ev->status.core_dumped);
	ew_jsonw_string_field(w, "class", ew_exit_class_name(r->cls));
	if (meaning)
		ew_jsonw_string_field(w, "meaning", meaning);
	ew_jsonw_uint_field(w, "status", ev->exit_word);
	ew_jsonw_end_object(w);
	seconds_field(w, "uptime_s", ev->uptime_ns);

	if (ev->has_killer) {
		ew_jsonw_name(w, "killed_by");
		ew_jsonw_start_object(w);
		ew_jsonw_uint_field(w, "pid", ev->killer.pid);
		ew_jsonw_string_field(w, "comm", ev->killer.comm);
		ew_jsonw_int_field(w, "signal", ev->killer.signal);
		ew_jsonw_string_field(w, "signal_name", ew_signal_name(ev->killer.signal));
		ew_jsonw_uint_field(w, "cgroup_id", ev->killer.cgroup_id);
		ew_jsonw_string_field(w, "container",
				      ev->killer.container[0] ? ev->killer.container : "unknown");
		ew_jsonw_end_object(w);
	}

	ew_jsonw_name(w, "startup");
	ew_jsonw_start_object(w);
	ew_jsonw_bool_field(w, "ready", ev->ready);
	if (ev->ready && ev->startup_ns)
		seconds_field(w, "duration_s", ev->startup_ns);
	if (r->startup && r->startup->known)
		ew_jsonw_bool_field(w, "succeeded", r->startup->succeeded);
	ew_jsonw_end_object(w);

	ew_jsonw_name(w, "children");
	ew_jsonw_start_object(w);
	ew_jsonw_uint_field(w, "clean", ev->children.clean);
	ew_jsonw_uint_field(w, "failed", ev->children.failed);
	ew_jsonw_uint_field(w, "signaled", ev->children.signaled);
	ew_jsonw_uint_field(w, "oom_killed", ev->children.oom_killed);
	ew_jsonw_end_object(w);

	if (ev->tail_len && r->cls != EW_CLASS_CLEAN) {
		ew_jsonw_string_n_field(w, "stderr_tail", ev->tail, ev->tail_len);
		if (ew_tail_source_name(ev->tail_source))
			ew_jsonw_string_field(w, "stderr_source",
					      ew_tail_source_name(ev->tail_source));
		/* Only the kernel counts every byte; a log file is read from its end. */
		if (ev->tail_source == EW_TAIL_KERNEL)
			ew_jsonw_uint_field(w, "stderr_bytes", ev->stderr_total);
	}
}

static void finding_fields(struct ew_jsonw *w, const struct ew_finding *f)
{
	ew_jsonw_string_field(w, "finding_id", f->finding_id);
	ew_jsonw_string_field(w, "rule", ew_rule_name(f->rule));
	ew_jsonw_string_field(w, "scope", ew_scope_name(f->scope));
	ew_jsonw_uint_field(w, "count", f->count);
	ew_jsonw_uint_field(w, "threshold", f->threshold);
	ew_jsonw_uint_field(w, "window_s", f->window_ns / EW_NSEC_PER_SEC);
	if (f->first_ns)
		time_field(w, "first_time", f->first_ns);
	if (f->last_ns)
		time_field(w, "last_time", f->last_ns);
	if (f->scope == EW_SCOPE_WORKLOAD)
		ew_jsonw_uint_field(w, "identities", f->identities);
	if (f->rule == EW_RULE_STARTUP_FAILURE_RATE) {
		ew_jsonw_uint_field(w, "starts", f->starts);
		ew_jsonw_uint_field(w, "failed_starts", f->failed_starts);
		ew_jsonw_double_field(w, "failure_percent", f->fail_percent, 2);
		ew_jsonw_double_field(w, "threshold_percent", f->threshold_percent, 2);
	}
	if (f->rule == EW_RULE_STABLE)
		seconds_field(w, "uptime_s", f->uptime_ns);
	ew_jsonw_name(w, "restart_interval_s");
	if (f->intervals) {
		ew_jsonw_start_object(w);
		ew_jsonw_double_field(w, "median", f->interval_median_s, 3);
		ew_jsonw_double_field(w, "min", f->interval_min_s, 3);
		ew_jsonw_double_field(w, "max", f->interval_max_s, 3);
		ew_jsonw_uint_field(w, "samples", f->intervals);
		ew_jsonw_end_object(w);
	} else {
		ew_jsonw_null(w);
	}
	ew_jsonw_name(w, "exit_codes");
	ew_jsonw_start_object(w);
	for (uint32_t i = 0; i < f->nhist; i++) {
		const char *sig = ew_signal_name(f->hist[i].signal);
		char key[24];

		/* Codes by number, signals by name; a signal without a name still gets a unique
		 * key, so the object never holds a member twice. */
		if (f->hist[i].signal && sig)
			snprintf(key, sizeof(key), "%s", sig);
		else if (f->hist[i].signal)
			snprintf(key, sizeof(key), "SIG%d", f->hist[i].signal);
		else
			snprintf(key, sizeof(key), "%d", f->hist[i].code);
		ew_jsonw_uint_field(w, key, f->hist[i].count);
	}
	ew_jsonw_end_object(w);
	ew_jsonw_name(w, "last_exit");
	if (f->has_last_exit) {
		ew_jsonw_start_object(w);
		ew_jsonw_string_field(w, "class", ew_exit_class_name(f->last_class));
		ew_jsonw_int_field(w, "code", f->last_code);
		ew_jsonw_int_field(w, "signal", f->last_signal);
		opt_string(w, "signal_name", ew_signal_name(f->last_signal));
		time_field(w, "time", f->last_exit_ns);
		ew_jsonw_end_object(w);
	} else {
		ew_jsonw_null(w);
	}
	if (f->tail_len)
		ew_jsonw_string_n_field(w, "stderr_tail", f->tail, f->tail_len);
	ew_jsonw_bool_field(w, "degraded", f->degraded);
	if (f->resolved) {
		time_field(w, "fired_time", f->fired_ns);
		seconds_field(w, "duration_s", f->duration_ns);
		ew_jsonw_uint_field(w, "total", f->total);
	}
}

static void agent_fields(struct ew_jsonw *w, const struct ew_agent_status *a)
{
	static const char *const kstat_names[EW_STAT__MAX] = {
		[EW_STAT_EXEC_MAIN] = "main_execs",
		[EW_STAT_EXEC_REEXEC] = "main_reexecs",
		[EW_STAT_EXIT_MAIN] = "main_exits",
		[EW_STAT_EXIT_CHILD] = "child_exits",
		[EW_STAT_READY] = "ready",
		[EW_STAT_DROP_EXEC] = "dropped_execs",
		[EW_STAT_DROP_EXIT] = "dropped_exits",
		[EW_STAT_DROP_READY] = "dropped_ready",
		[EW_STAT_MAP_FULL] = "map_full",
		[EW_STAT_TAIL_FAULT] = "stderr_faults",
		[EW_STAT_SIGNALS] = "fatal_signals",
		[EW_STAT_OOM_VICTIMS] = "oom_victims",
		[EW_STAT_TAIL_FULL] = "stderr_map_full",
		[EW_STAT_MAIN_MOVES] = "main_moves",
	};

	ew_jsonw_name(w, "agent");
	ew_jsonw_start_object(w);
	ew_jsonw_string_field(w, "phase", a->phase);
	ew_jsonw_string_field(w, "version", a->version);
	ew_jsonw_string_field(w, "kernel", a->kernel);
	seconds_field(w, "uptime_s", a->uptime_ns);
	ew_jsonw_name(w, "features");
	ew_jsonw_start_object(w);
	ew_jsonw_bool_field(w, "exit_group_dead", a->feat_group_dead);
	ew_jsonw_bool_field(w, "stderr_tail", a->feat_stderr);
	ew_jsonw_bool_field(w, "ready_tracking", a->feat_ready);
	ew_jsonw_bool_field(w, "oom", a->feat_oom);
	ew_jsonw_bool_field(w, "killer", a->feat_signals);
	ew_jsonw_bool_field(w, "atomic_fetch", a->feat_atomic_fetch);
	ew_jsonw_bool_field(w, "cgroup_move", a->feat_cgroup_move);
	ew_jsonw_end_object(w);
	ew_jsonw_name(w, "kernel_events");
	ew_jsonw_start_object(w);
	for (int i = 0; i < EW_STAT__MAX; i++)
		ew_jsonw_uint_field(w, kstat_names[i], a->kstats[i]);
	ew_jsonw_end_object(w);
	ew_jsonw_uint_field(w, "drops", a->drops);
	ew_jsonw_uint_field(w, "decode_errors", a->decode_errors);
	ew_jsonw_name(w, "records");
	ew_jsonw_start_object(w);
	ew_jsonw_uint_field(w, "container_start", a->starts);
	ew_jsonw_uint_field(w, "container_exit", a->exits);
	ew_jsonw_uint_field(w, "container_ready", a->readies);
	ew_jsonw_uint_field(w, "finding", a->findings);
	ew_jsonw_uint_field(w, "resolved", a->resolutions);
	ew_jsonw_end_object(w);
	ew_jsonw_uint_field(w, "containers_tracked", a->tracked);
	ew_jsonw_uint_field(w, "stale_swept", a->stale_swept);
	ew_jsonw_uint_field(w, "identities", a->identities);
	ew_jsonw_uint_field(w, "active_findings", a->active_findings);
	if (!strcmp(a->phase, "start"))
		ew_jsonw_uint_field(w, "already_running", a->scan_mains);
	ew_jsonw_name(w, "sinks");
	ew_jsonw_start_array(w);
	for (uint32_t i = 0; i < a->nsinks; i++) {
		const struct ew_sink_status *s = &a->sinks[i];

		ew_jsonw_start_object(w);
		ew_jsonw_string_field(w, "name", s->name);
		ew_jsonw_bool_field(w, "connected", s->connected);
		ew_jsonw_uint_field(w, "queued", s->queued);
		ew_jsonw_uint_field(w, "spooled_bytes", s->spooled_bytes);
		ew_jsonw_uint_field(w, "delivered", s->delivered);
		ew_jsonw_uint_field(w, "dropped", s->dropped);
		ew_jsonw_end_object(w);
	}
	ew_jsonw_end_array(w);
	ew_jsonw_end_object(w);
}

int ew_record_check(const struct ew_record *r)
{
	if ((unsigned)r->type > EW_REC_AGENT || (r->type <= EW_REC_EXIT && (!r->ev || !r->id)) ||
	    ((r->type == EW_REC_FINDING || r->type == EW_REC_RESOLVED) && !r->finding) ||
	    (r->type == EW_REC_AGENT && !r->agent))
		return -EINVAL;
	return 0;
}

int ew_render_json(const struct ew_record *r, const struct ew_render_ctx *ctx, struct ew_buf *out)
{
	char msg[1024], insert_id[24];
	struct ew_jsonw w;
	int err;

	if (ew_record_check(r))
		return -EINVAL;
	ew_record_message(r, ctx, msg, sizeof(msg));
	ew_record_insert_id(r, ctx, insert_id);

	ew_jsonw_init(&w, out);
	ew_jsonw_start_object(&w);
	time_field(&w, "time", r->time_ns);
	ew_jsonw_string_field(&w, "severity", ew_severity_name(ew_record_severity(r)));
	ew_jsonw_string_field(&w, "message", msg);
	ew_jsonw_string_field(&w, "event", ew_record_event_name(r->type));
	ew_jsonw_uint_field(&w, "schema", EW_SCHEMA_VERSION);
	ew_jsonw_string_field(&w, "node", ctx->node);
	if (r->id)
		identity_objects(&w, r->id);
	if (r->ev)
		process_object(&w, r->ev);

	switch (r->type) {
	case EW_REC_START:
		ew_jsonw_bool_field(&w, "already_running", r->ev->seeded);
		if (r->startup)
			ew_jsonw_uint_field(&w, "restarts", r->startup->restarts);
		break;
	case EW_REC_READY:
		ew_jsonw_name(&w, "startup");
		ew_jsonw_start_object(&w);
		if (!r->ev->seeded)
			seconds_field(&w, "duration_s", r->ev->startup_ns);
		ew_jsonw_uint_field(&w, "listener_pid", r->ev->listener_pid);
		ew_jsonw_string_field(&w, "listener_comm", r->ev->listener_comm);
		ew_jsonw_end_object(&w);
		break;
	case EW_REC_EXIT:
		exit_fields(&w, r, ctx);
		break;
	case EW_REC_FINDING:
	case EW_REC_RESOLVED:
		finding_fields(&w, r->finding);
		break;
	case EW_REC_AGENT:
		agent_fields(&w, r->agent);
		break;
	}
	labels(&w, r, ctx);
	ew_jsonw_string_field(&w, "logging.googleapis.com/insertId", insert_id);
	ew_jsonw_end_object(&w);
	err = ew_jsonw_finish(&w);
	if (err)
		return err;
	return ew_buf_putc(out, '\n');
}
