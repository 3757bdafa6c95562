// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The detector's memory as JSON, so a DaemonSet rollout or an agent crash in the middle of a
 * crash loop neither forgets the loop nor fires its finding twice: windows, open episodes and
 * running starts. Deadlines are not written; restore (state.c) derives them again.
 */
#include <stdlib.h>

#include "detect/detector_int.h"
#include "exitwatch/replay/codec.h"

static void write_window(struct ew_jsonw *w, const char *name, const struct ew_window *win)
{
	ew_jsonw_name(w, name);
	ew_jsonw_start_array(w);
	for (uint32_t i = 0; i < win->n; i++) {
		const struct ew_sample *x = ew_window_at(win, i);

		ew_jsonw_start_array(w);
		ew_jsonw_uint(w, x->t);
		ew_jsonw_uint(w, x->ident);
		ew_jsonw_int(w, x->code);
		ew_jsonw_uint(w, x->signal);
		ew_jsonw_uint(w, x->flags);
		ew_jsonw_end_array(w);
	}
	ew_jsonw_end_array(w);
}

static void write_scope(struct ew_jsonw *w, const struct scope_state *s)
{
	ew_jsonw_name(w, "s");
	ew_jsonw_start_object(w);
	write_window(w, "exits", &s->exits);
	write_window(w, "restarts", &s->restarts);
	write_window(w, "outcomes", &s->outcomes);
	ew_jsonw_name(w, "episodes");
	ew_jsonw_start_array(w);
	for (int r = 0; r < EW_RULE__COUNT; r++) {
		const struct episode *ep = &s->ep[r];

		if (!ep->open)
			continue;
		ew_jsonw_start_object(w);
		ew_jsonw_string_field(w, "rule", ew_rule_name(r));
		ew_jsonw_string_field(w, "id", ep->id);
		ew_jsonw_uint_field(w, "fired_ns", ep->fired_ns);
		ew_jsonw_uint_field(w, "last_ns", ep->last_ns);
		ew_jsonw_uint_field(w, "total", ep->total);
		ew_jsonw_uint_field(w, "last_ident", ep->last_ident);
		ew_jsonw_end_object(w);
	}
	ew_jsonw_end_array(w);
	ew_jsonw_end_object(w);
}

static void write_subject(struct ew_jsonw *w, const char *name, const struct ew_subject *s)
{
	struct ew_identity *id;

	if (!s)
		return;
	id = malloc(sizeof(*id));
	if (!id)
		return;
	ew_subject_unpack(s, id);
	ew_jsonw_name(w, name);
	ew_codec_write_identity(w, id);
	free(id);
}

static void write_ident(void *ctx, const void *k, size_t kl, void *v)
{
	struct ew_jsonw *w = ctx;
	const struct ident *id = v;
	char *hex = malloc(2 * (size_t)id->tail_len + 1);

	ew_jsonw_start_object(w);
	ew_jsonw_string_field(w, "key", id->key);
	ew_jsonw_string_field(w, "workload", id->wl->key);
	ew_jsonw_uint_field(w, "serial", id->serial);
	ew_jsonw_uint_field(w, "restarts", id->restarts);
	ew_jsonw_bool_field(w, "exited_before", id->exited_before);
	ew_jsonw_bool_field(w, "looping", id->looping);
	ew_jsonw_bool_field(w, "running", id->running);
	ew_jsonw_bool_field(w, "seeded", id->seeded);
	ew_jsonw_bool_field(w, "ready", id->ready);
	ew_jsonw_bool_field(w, "outcome_done", id->outcome_done);
	ew_jsonw_uint_field(w, "pid", id->pid);
	ew_jsonw_uint_field(w, "start_boot_ns", id->start_boot_ns);
	ew_jsonw_uint_field(w, "start_ns", id->start_ns);
	ew_jsonw_uint_field(w, "last_active_ns", id->last_active_ns);
	if (id->has_last_exit) {
		ew_jsonw_name(w, "last_exit");
		ew_jsonw_start_array(w);
		ew_jsonw_uint(w, id->last_exit.t);
		ew_jsonw_int(w, id->last_exit.code);
		ew_jsonw_uint(w, id->last_exit.signal);
		ew_jsonw_uint(w, id->last_exit.flags);
		ew_jsonw_end_array(w);
	}
	if (hex) {
		ew_hex_encode(id->tail ? id->tail : "", id->tail_len, hex);
		ew_jsonw_string_field(w, "tail_hex", hex);
		free(hex);
	}
	write_subject(w, "subject", id->subject);
	write_scope(w, &id->s);
	ew_jsonw_end_object(w);
}

static void write_workload(void *ctx, const void *k, size_t kl, void *v)
{
	struct ew_jsonw *w = ctx;
	const struct workload *wl = v;

	ew_jsonw_start_object(w);
	ew_jsonw_string_field(w, "key", wl->key);
	write_subject(w, "last_subject", wl->last_subject);
	write_scope(w, &wl->s);
	ew_jsonw_end_object(w);
}

int ew_detector_checkpoint(const struct ew_detector *d, uint64_t now_ns, struct ew_buf *out)
{
	struct ew_jsonw w;

	ew_jsonw_init(&w, out);
	ew_jsonw_start_object(&w);
	ew_jsonw_uint_field(&w, "exitwatch_state", EW_DET_STATE_VERSION);
	ew_jsonw_uint_field(&w, "saved_ns", now_ns);
	ew_jsonw_uint_field(&w, "now_ns", d->now_ns);
	ew_jsonw_uint_field(&w, "next_serial", d->next_serial);
	ew_jsonw_uint_field(&w, "drops_total", d->drops_total);
	ew_jsonw_uint_field(&w, "last_drop_ns", d->last_drop_ns);
	/* Workloads first: restoring an identity attaches it to its workload. */
	ew_jsonw_name(&w, "workloads");
	ew_jsonw_start_array(&w);
	ew_map_foreach(d->workloads, write_workload, &w);
	ew_jsonw_end_array(&w);
	ew_jsonw_name(&w, "identities");
	ew_jsonw_start_array(&w);
	ew_map_foreach(d->idents, write_ident, &w);
	ew_jsonw_end_array(&w);
	ew_jsonw_end_object(&w);
	return ew_jsonw_finish(&w);
}
