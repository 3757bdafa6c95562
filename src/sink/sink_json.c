// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Records as NDJSON, shaped for Cloud Logging's structured logs: severity, message, time,
 * logging.googleapis.com/labels and a deterministic logging.googleapis.com/insertId. Every
 * string that comes from a workload goes through the writer's escaper.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "exitwatch/clock.h"
#include "exitwatch/detector.h"
#include "exitwatch/json_writer.h"
#include "exitwatch/sink_json.h"
#include "exitwatch/util.h"

static const char *const severity_names[EW_SEV__COUNT] = {
	"DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY",
};

const char *ew_severity_name(enum ew_severity s)
{
	return (unsigned)s < EW_SEV__COUNT ? severity_names[s] : "DEFAULT";
}

int ew_severity_parse(const char *name)
{
	for (int i = 0; i < EW_SEV__COUNT; i++)
		if (!strcasecmp(name, severity_names[i]))
			return i;
	return -EINVAL;
}

const char *ew_record_event_name(enum ew_record_type t)
{
	static const char *const names[] = {
		[EW_REC_START] = "container_start", [EW_REC_READY] = "container_ready",
		[EW_REC_EXIT] = "container_exit",   [EW_REC_FINDING] = "finding",
		[EW_REC_RESOLVED] = "resolved",	    [EW_REC_AGENT] = "agent",
	};

	return (unsigned)t < ARRAY_SIZE(names) ? names[t] : "unknown";
}

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

/* FNV-1a, 64 bits: stable across builds and hosts, which is all an insertId needs. */
static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void ew_record_insert_id(const struct ew_record *r, const struct ew_render_ctx *ctx, char out[24])
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint32_t t = r->type;

	h = fnv1a(h, ctx->node, strlen(ctx->node));
	h = fnv1a(h, &t, sizeof(t));
	if (r->finding) {
		h = fnv1a(h, r->finding->finding_id, strlen(r->finding->finding_id));
	} else if (r->ev) {
		h = fnv1a(h, &r->ev->cgroup_id, sizeof(r->ev->cgroup_id));
		h = fnv1a(h, &r->ev->pid, sizeof(r->ev->pid));
		h = fnv1a(h, &r->ev->start_boot_ns, sizeof(r->ev->start_boot_ns));
	}
	h = fnv1a(h, &r->time_ns, sizeof(r->time_ns));
	memcpy(out, "ew-", 3);
	for (int i = 0; i < 16; i++)
		out[3 + i] = "0123456789abcdef"[(h >> (60 - 4 * i)) & 15];
	out[19] = '\0';
}

static const char *short_id(const struct ew_identity *id, char buf[16])
{
	ew_strlcpy(buf, id->cg.container_id, 13);
	return buf;
}

/* "web-1 (docker 1a2b3c4d5e6f)", "nginx.service", "/mygroup". */
static void describe(const struct ew_identity *id, char *out, size_t len)
{
	char sid[16];

	if (id->cg.container_id[0] && id->meta.name[0])
		snprintf(out, len, "%s%s%s (%s %s)", id->meta.pod_namespace,
			 id->meta.pod_namespace[0] ? "/" : "", id->meta.name,
			 ew_runtime_name(id->cg.runtime), short_id(id, sid));
	else if (id->cg.container_id[0])
		snprintf(out, len, "%s container %s", ew_runtime_name(id->cg.runtime),
			 short_id(id, sid));
	else
		snprintf(out, len, "%s", id->display[0] ? id->display : id->cgroup);
}

/* The last non-empty line of a stderr tail, printable, for a one-line message. */
static void tail_last_line(const char *tail, uint32_t len, char *out, size_t outlen)
{
	uint32_t end = len, start;
	size_t o = 0;

	while (end && (tail[end - 1] == '\n' || tail[end - 1] == '\r' || tail[end - 1] == ' '))
		end--;
	start = end;
	while (start && tail[start - 1] != '\n')
		start--;
	for (uint32_t i = start; i < end && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)tail[i];

		out[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	out[o] = '\0';
}

static void exit_summary(const struct ew_event *ev, enum ew_exit_class cls, char *out, size_t len)
{
	const char *sig = ew_signal_name(ev->status.signal);

	if (cls == EW_CLASS_OOM_KILLED)
		snprintf(out, len, "was killed by the OOM killer");
	else if (ev->status.signal)
		snprintf(out, len, "was killed by %s%s (%s)", sig ? sig : "a signal",
			 ev->status.core_dumped ? ", core dumped" : "", ew_exit_class_name(cls));
	else
		snprintf(out, len, "exited with code %d (%s)", ev->status.code,
			 ew_exit_class_name(cls));
}

static void message_exit(const struct ew_record *r, const struct ew_render_ctx *ctx,
			 const char *who, char *out, size_t len)
{
	const struct ew_event *ev = r->ev;
	const char *meaning = ew_exit_meaning(ev, ctx->classes);
	char what[128], up[32], line[160] = "", killer[224] = "";

	exit_summary(ev, r->cls, what, sizeof(what));
	ew_duration_format(ev->uptime_ns, up, sizeof(up));
	if (ev->has_killer)
		snprintf(killer, sizeof(killer), "; %s was sent by %s (pid %u, %s)",
			 ew_signal_name(ev->killer.signal) ?: "the signal", ev->killer.comm,
			 ev->killer.pid,
			 ev->killer.container[0] ? ev->killer.container : "unknown");
	if (r->cls != EW_CLASS_CLEAN && ev->tail_len)
		tail_last_line(ev->tail, ev->tail_len, line, sizeof(line));
	/* The meaning of a signal is already in "killed by SIGx"; a code's is not. */
	snprintf(out, len, "%s %s after %s%s%s%s%s%s", who, what, up,
		 meaning && !ev->status.signal ? ": " : "",
		 meaning && !ev->status.signal ? meaning : "", killer,
		 line[0] ? "; last stderr: " : "", line);
}

static void message_finding(const struct ew_record *r, const char *who, char *out, size_t len)
{
	const struct ew_finding *f = r->finding;
	char win[32], med[32], lo[32], hi[32], every[128] = "", last[192] = "", line[160] = "";
	const char *sig = ew_signal_name(f->last_signal);

	ew_duration_format(f->window_ns, win, sizeof(win));
	if (f->intervals) {
		ew_duration_format((uint64_t)(f->interval_median_s * 1e9), med, sizeof(med));
		ew_duration_format((uint64_t)(f->interval_min_s * 1e9), lo, sizeof(lo));
		ew_duration_format((uint64_t)(f->interval_max_s * 1e9), hi, sizeof(hi));
		snprintf(every, sizeof(every), "; it restarts every ~%s (min %s, max %s)", med, lo,
			 hi);
	}
	if (f->tail_len)
		tail_last_line(f->tail, f->tail_len, line, sizeof(line));
	if (f->has_last_exit) {
		if (f->last_signal)
			snprintf(last, sizeof(last), "; last exit: %s (%s)%s%s",
				 sig ? sig : "signal", ew_exit_class_name(f->last_class),
				 line[0] ? ": " : "", line);
		else
			snprintf(last, sizeof(last), "; last exit: code %d (%s)%s%s", f->last_code,
				 ew_exit_class_name(f->last_class), line[0] ? ": " : "", line);
	}
	switch (f->rule) {
	case EW_RULE_EXIT_CODE_BURST:
		snprintf(out, len,
			 "%s exited %u times with code %d in %s (threshold: more than %u)%s%s%s",
			 who, f->count, f->nhist ? f->hist[0].code : f->last_code, win,
			 f->threshold, every, last,
			 f->degraded ? "; events were lost in this window" : "");
		break;
	case EW_RULE_RESTART_RATE:
		snprintf(out, len, "%s restarted %u times in %s (threshold: more than %u)%s%s%s",
			 who, f->count, win, f->threshold, every, last,
			 f->degraded ? "; events were lost in this window" : "");
		break;
	case EW_RULE_STARTUP_FAILURE_RATE:
		snprintf(out, len,
			 "%s: %u of %u starts failed in %s (%.1f%%, threshold %.1f%%)%s%s%s", who,
			 f->failed_starts, f->starts, win, f->fail_percent, f->threshold_percent,
			 every, last, f->degraded ? "; events were lost in this window" : "");
		break;
	case EW_RULE_STABLE:
		ew_duration_format(f->uptime_ns, win, sizeof(win));
		snprintf(out, len, "%s is stable again: up %s after a restart loop", who, win);
		break;
	default:
		snprintf(out, len, "%s: finding", who);
	}
}

static void message_resolved(const struct ew_record *r, const char *who, char *out, size_t len)
{
	const struct ew_finding *f = r->finding;
	char dur[32];

	ew_duration_format(f->duration_ns, dur, sizeof(dur));
	snprintf(out, len, "Resolved: %s %s after %s (%u events in the episode)", who,
		 f->rule == EW_RULE_EXIT_CODE_BURST ? "stopped exiting with the burst's codes"
		 : f->rule == EW_RULE_RESTART_RATE  ? "stopped restarting"
						    : "starts successfully again",
		 dur, f->total);
}

void ew_record_message(const struct ew_record *r, const struct ew_render_ctx *ctx, char *out,
		       size_t len)
{
	char who[EW_NAME_LEN + 96] = "exitwatch", dur[32];
	const struct ew_agent_status *a = r->agent;
	const char *wl;

	if (r->id)
		describe(r->id, who, sizeof(who));
	switch (r->type) {
	case EW_REC_START:
		if (r->ev->seeded)
			snprintf(out, len, "%s is running: %s (pid %u), found at start-up", who,
				 r->ev->comm, r->ev->pid);
		else if (r->startup && r->startup->restarts)
			snprintf(out, len, "%s restarted (restart %u): %s (pid %u)", who,
				 r->startup->restarts, r->ev->comm, r->ev->pid);
		else
			snprintf(out, len, "%s started: %s (pid %u)", who, r->ev->comm, r->ev->pid);
		break;
	case EW_REC_READY:
		ew_duration_format(r->ev->startup_ns, dur, sizeof(dur));
		if (r->ev->seeded)
			snprintf(out, len, "%s is listening (%s, pid %u)", who,
				 r->ev->listener_comm, r->ev->listener_pid);
		else
			snprintf(out, len, "%s is ready: %s listened %s after start", who,
				 r->ev->listener_comm, dur);
		break;
	case EW_REC_EXIT:
		message_exit(r, ctx, who, out, len);
		break;
	case EW_REC_FINDING:
		wl = r->finding->scope == EW_SCOPE_WORKLOAD && r->id ? r->id->workload : NULL;
		if (wl && strcmp(wl, r->id->key) && r->finding->identities > 1)
			snprintf(who, sizeof(who), "Workload %s (%u containers)", wl,
				 r->finding->identities);
		message_finding(r, who, out, len);
		break;
	case EW_REC_RESOLVED:
		message_resolved(r, who, out, len);
		break;
	case EW_REC_AGENT:
		if (!strcmp(a->phase, "start"))
			snprintf(out, len,
				 "exitwatch %s started on kernel %s: %u containers already "
				 "running",
				 a->version, a->kernel, a->scan_mains);
		else
			snprintf(out, len,
				 "exitwatch %s: %u containers tracked, %llu records lost "
				 "in the kernel%s",
				 !strcmp(a->phase, "stop") ? "stopping" : "status", a->tracked,
				 (unsigned long long)a->drops,
				 a->drops ? " (see kernel.drops)" : "");
		break;
	}
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
	ew_jsonw_fixed_field(w, name, (int64_t)((ns + 500000) / 1000000), 3);
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
	ew_jsonw_end_object(w);

	if (ev->tail_len && r->cls != EW_CLASS_CLEAN) {
		ew_jsonw_string_n_field(w, "stderr_tail", ev->tail, ev->tail_len);
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
	ew_jsonw_uint_field(w, "window_s", f->window_ns / 1000000000ULL);
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
		if (ew_signal_name(f->last_signal))
			ew_jsonw_string_field(w, "signal_name", ew_signal_name(f->last_signal));
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

int ew_render_json(const struct ew_record *r, const struct ew_render_ctx *ctx, struct ew_buf *out)
{
	char msg[1024], insert_id[24];
	struct ew_jsonw w;
	int err;

	if ((r->type <= EW_REC_EXIT && (!r->ev || !r->id)) ||
	    ((r->type == EW_REC_FINDING || r->type == EW_REC_RESOLVED) && !r->finding) ||
	    (r->type == EW_REC_AGENT && !r->agent))
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
