// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The one-sentence "message" of a record (ew_record_message, declared in sink_json.h): who it
 * is about, then what happened. Both renderers use it (sink_json.c, sink_text.c), so a line
 * says the same in either format. Pure, like them: what does not fit the caller's buffer is cut.
 */
#include <stdio.h>
#include <string.h>

#include "exitwatch/util/clock.h"
#include "exitwatch/detect/detector.h"
#include "exitwatch/render/render_json.h"
#include "exitwatch/util/util.h"

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

	if (!len)
		return;
	out[0] = '\0'; /* a type without a sentence gets an empty one */
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
				 a->drops ? " (by kind: agent.kernel_events.dropped_*)" : "");
		break;
	}
	/* Names, comm and argv come from the workload: the sentence stays one printable line. */
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}
