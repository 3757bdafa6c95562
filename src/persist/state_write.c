// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The detector's export (detector.h) as the state file's JSON. Samples are arrays, [t, ident,
 * code, signal, flags], and the stderr tail is hex, so that its bytes survive exactly. Only
 * open episodes and only what the detector cannot derive are written: deadlines are not. An
 * identity without a subject gets what the resolver knows of its pod instead.
 */
#include <errno.h>
#include <stdlib.h>

#include "exitwatch/core/hex.h"
#include "exitwatch/core/json_writer.h"
#include "exitwatch/persist/state.h"
#include "exitwatch/replay/codec.h"
#include "exitwatch/util/clock.h"

struct writer {
	struct ew_jsonw w;
	int64_t step_ns; /* added to every time: the detector's (the agent's) to the wall clock */
	const struct ew_resolver *resolver; /* may be NULL */
	int r;				    /* -ENOMEM: a tail could not be encoded */
};

/*
 * A time as the file keeps it, on the wall clock as it is now (0, "none", stays 0): all moved
 * alike, so that windows keep their lengths for the next agent.
 */
static uint64_t wall(const struct writer *wr, uint64_t t)
{
	return ew_clock_shift(t, wr->step_ns);
}

static void write_window(struct writer *wr, const char *name, const struct ew_detector_samples *s)
{
	struct ew_jsonw *w = &wr->w;

	ew_jsonw_name(w, name);
	ew_jsonw_start_array(w);
	for (size_t i = 0; i < s->n; i++) {
		const struct ew_detector_sample *x = &s->v[i];

		ew_jsonw_start_array(w);
		ew_jsonw_uint(w, wall(wr, x->t));
		ew_jsonw_uint(w, x->ident);
		ew_jsonw_int(w, x->code);
		ew_jsonw_uint(w, x->signal);
		ew_jsonw_uint(w, x->flags);
		ew_jsonw_end_array(w);
	}
	ew_jsonw_end_array(w);
}

static void write_scope(struct writer *wr, const struct ew_detector_scope *s)
{
	struct ew_jsonw *w = &wr->w;

	ew_jsonw_name(w, "s");
	ew_jsonw_start_object(w);
	write_window(wr, "exits", &s->exits);
	write_window(wr, "restarts", &s->restarts);
	write_window(wr, "outcomes", &s->outcomes);
	ew_jsonw_name(w, "episodes");
	ew_jsonw_start_array(w);
	for (size_t i = 0; i < s->nep; i++) {
		const struct ew_detector_episode *ep = &s->ep[i];

		ew_jsonw_start_object(w);
		ew_jsonw_string_field(w, "rule", ew_rule_name(ep->rule));
		ew_jsonw_string_field(w, "id", ep->id);
		ew_jsonw_uint_field(w, "fired_ns", wall(wr, ep->fired_ns));
		ew_jsonw_uint_field(w, "last_ns", wall(wr, ep->last_ns));
		ew_jsonw_uint_field(w, "total", ep->total);
		ew_jsonw_uint_field(w, "last_ident", ep->last_ident);
		ew_jsonw_end_object(w);
	}
	ew_jsonw_end_array(w);
	ew_jsonw_end_object(w);
}

static void write_subject(struct ew_jsonw *w, const char *name, const struct ew_identity *id)
{
	if (!id)
		return;
	ew_jsonw_name(w, name);
	ew_codec_write_identity(w, id);
}

static void write_tail(struct writer *wr, const char *tail, uint32_t len)
{
	char *hex = malloc(2 * (size_t)len + 1);

	if (!hex) {
		wr->r = -ENOMEM;
		return;
	}
	ew_hex_encode(tail ? tail : "", len, hex);
	ew_jsonw_string_field(&wr->w, "tail_hex", hex);
	free(hex);
}

/*
 * What the resolver knows of an identity's pod, when it has no subject that says it: [namespace,
 * pod name, image]; the pod uid and container name are the key's. An array, as samples are:
 * json-c reads each object of the file as a hash table, four times an array's memory.
 */
static void write_pod(struct writer *wr, const struct ew_detector_ident *id)
{
	struct ew_jsonw *w = &wr->w;
	struct ew_meta m;

	if (id->subject || !wr->resolver || !ew_resolver_recall(wr->resolver, id->key, &m))
		return;
	ew_jsonw_name(w, "pod");
	ew_jsonw_start_array(w);
	ew_jsonw_string(w, m.pod_namespace);
	ew_jsonw_string(w, m.pod_name);
	ew_jsonw_string(w, m.image);
	ew_jsonw_end_array(w);
}

static void write_ident(void *ctx, const struct ew_detector_ident *id)
{
	struct writer *wr = ctx;
	struct ew_jsonw *w = &wr->w;

	ew_jsonw_start_object(w);
	ew_jsonw_string_field(w, "key", id->key);
	ew_jsonw_string_field(w, "workload", id->workload);
	ew_jsonw_uint_field(w, "serial", id->serial);
	ew_jsonw_uint_field(w, "restarts", id->restarts);
	ew_jsonw_bool_field(w, "exited_before", id->exited_before);
	ew_jsonw_bool_field(w, "looping", id->looping);
	if (id->fail_streak) { /* crash_loop's streak; absent in files written before it */
		ew_jsonw_name(w, "crash_loop");
		ew_jsonw_start_object(w);
		ew_jsonw_uint_field(w, "streak", id->fail_streak);
		ew_jsonw_uint_field(w, "first_ns", wall(wr, id->streak_first_ns));
		ew_jsonw_int_field(w, "code", id->streak_code);
		ew_jsonw_uint_field(w, "signal", id->streak_signal);
		ew_jsonw_uint_field(w, "line_repeats", id->line_repeats);
		ew_jsonw_uint_field(w, "line_hash", id->line_hash);
		ew_jsonw_end_object(w);
	}
	ew_jsonw_bool_field(w, "running", id->running);
	ew_jsonw_bool_field(w, "seeded", id->seeded);
	ew_jsonw_bool_field(w, "ready", id->ready);
	ew_jsonw_bool_field(w, "outcome_done", id->outcome_done);
	ew_jsonw_uint_field(w, "pid", id->pid);
	ew_jsonw_uint_field(w, "start_boot_ns", id->start_boot_ns);
	ew_jsonw_uint_field(w, "start_ns", wall(wr, id->start_ns));
	ew_jsonw_uint_field(w, "last_active_ns", wall(wr, id->last_active_ns));
	if (id->has_last_exit) {
		ew_jsonw_name(w, "last_exit");
		ew_jsonw_start_array(w);
		ew_jsonw_uint(w, wall(wr, id->last_exit.t));
		ew_jsonw_int(w, id->last_exit.code);
		ew_jsonw_uint(w, id->last_exit.signal);
		ew_jsonw_uint(w, id->last_exit.flags);
		ew_jsonw_end_array(w);
	}
	if (id->killer) { /* its findings name it; absent in files written before it */
		ew_jsonw_name(w, "last_killer");
		ew_jsonw_start_object(w);
		ew_jsonw_uint_field(w, "pid", id->killer->pid);
		ew_jsonw_int_field(w, "signal", id->killer->signal);
		ew_jsonw_uint_field(w, "cgroup_id", id->killer->cgroup_id);
		ew_jsonw_string_field(w, "comm", id->killer->comm);
		ew_jsonw_string_field(w, "container", id->killer->container);
		ew_jsonw_end_object(w);
	}
	write_tail(wr, id->tail, id->tail_len);
	/* Absent (false) in files written before failed starts' errors were kept. */
	if (id->tail_len && id->tail_start_error)
		ew_jsonw_bool_field(w, "tail_start_error", true);
	write_subject(w, "subject", id->subject);
	write_pod(wr, id);
	write_scope(wr, &id->s);
	ew_jsonw_end_object(w);
}

static void write_workload(void *ctx, const struct ew_detector_workload *wl)
{
	struct writer *wr = ctx;
	struct ew_jsonw *w = &wr->w;

	ew_jsonw_start_object(w);
	ew_jsonw_string_field(w, "key", wl->key);
	write_subject(w, "last_subject", wl->last_subject);
	write_scope(wr, &wl->s);
	ew_jsonw_end_object(w);
}

int ew_state_write(const struct ew_detector *d, const struct ew_resolver *res, uint64_t saved_ns,
		   int64_t step_ns, struct ew_buf *out)
{
	return ew_state_write_boot(d, res, saved_ns, step_ns, NULL, out);
}

int ew_state_write_boot(const struct ew_detector *d, const struct ew_resolver *res,
			uint64_t saved_ns, int64_t step_ns, const char *boot_id, struct ew_buf *out)
{
	struct writer wr = {.resolver = res, .step_ns = step_ns};
	struct ew_detector_state st;
	int r, r2, r3;

	ew_detector_export_state(d, &st);
	ew_jsonw_init(&wr.w, out);
	ew_jsonw_start_object(&wr.w);
	ew_jsonw_uint_field(&wr.w, "exitwatch_state", EW_STATE_VERSION);
	ew_jsonw_uint_field(&wr.w, "saved_ns", wall(&wr, saved_ns));
	if (boot_id && boot_id[0])
		ew_jsonw_string_field(&wr.w, "boot_id", boot_id);
	ew_jsonw_uint_field(&wr.w, "now_ns", wall(&wr, st.now_ns));
	ew_jsonw_uint_field(&wr.w, "next_serial", st.next_serial);
	ew_jsonw_uint_field(&wr.w, "drops_total", st.drops_total);
	ew_jsonw_uint_field(&wr.w, "last_drop_ns", wall(&wr, st.last_drop_ns));
	/* Workloads first: reading an identity attaches it to its workload. */
	ew_jsonw_name(&wr.w, "workloads");
	ew_jsonw_start_array(&wr.w);
	r = ew_detector_export_workloads(d, write_workload, &wr);
	ew_jsonw_end_array(&wr.w);
	ew_jsonw_name(&wr.w, "identities");
	ew_jsonw_start_array(&wr.w);
	r2 = ew_detector_export_idents(d, write_ident, &wr);
	ew_jsonw_end_array(&wr.w);
	ew_jsonw_end_object(&wr.w);
	r3 = ew_jsonw_finish(&wr.w);
	return r ? r : r2 ? r2 : wr.r ? wr.r : r3;
}
