// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The detector's memory as JSON, so a DaemonSet rollout or an agent crash in the middle of a
 * crash loop neither forgets the loop nor fires its finding twice. Restore builds a fresh
 * detector and swaps it in only when the whole file made sense: a corrupt or foreign file
 * leaves an empty detector and a message, never half a state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detector_int.h"
#include "exitwatch/codec.h"
#include "exitwatch/util.h"

#define EW_STATE_VERSION 1

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

struct write_ctx {
	struct ew_jsonw *w;
};

static void write_ident(void *ctx, const void *k, size_t kl, void *v)
{
	struct ew_jsonw *w = ((struct write_ctx *)ctx)->w;
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
	struct ew_jsonw *w = ((struct write_ctx *)ctx)->w;
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
	struct write_ctx ctx = { &w };

	ew_jsonw_init(&w, out);
	ew_jsonw_start_object(&w);
	ew_jsonw_uint_field(&w, "exitwatch_state", EW_STATE_VERSION);
	ew_jsonw_uint_field(&w, "saved_ns", now_ns);
	ew_jsonw_uint_field(&w, "now_ns", d->now_ns);
	ew_jsonw_uint_field(&w, "next_serial", d->next_serial);
	ew_jsonw_uint_field(&w, "drops_total", d->drops_total);
	ew_jsonw_uint_field(&w, "last_drop_ns", d->last_drop_ns);
	/* Workloads first: restoring an identity attaches it to its workload. */
	ew_jsonw_name(&w, "workloads");
	ew_jsonw_start_array(&w);
	ew_map_foreach(d->workloads, write_workload, &ctx);
	ew_jsonw_end_array(&w);
	ew_jsonw_name(&w, "identities");
	ew_jsonw_start_array(&w);
	ew_map_foreach(d->idents, write_ident, &ctx);
	ew_jsonw_end_array(&w);
	ew_jsonw_end_object(&w);
	return ew_jsonw_finish(&w);
}

/* ---- restore ---- */

static int read_window(struct json_object *s, const char *name, struct ew_window *win,
		       char *err, size_t errlen)
{
	struct json_object *arr;
	size_t n;

	if (!json_object_object_get_ex(s, name, &arr))
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		goto bad;
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		struct ew_sample x;

		if (!json_object_is_type(e, json_type_array) || json_object_array_length(e) != 5)
			goto bad;
		x.t = json_object_get_uint64(json_object_array_get_idx(e, 0));
		x.ident = (uint32_t)json_object_get_uint64(json_object_array_get_idx(e, 1));
		x.code = (int16_t)json_object_get_int(json_object_array_get_idx(e, 2));
		x.signal = (uint8_t)json_object_get_int(json_object_array_get_idx(e, 3));
		x.flags = (uint8_t)json_object_get_int(json_object_array_get_idx(e, 4));
		if (ew_window_push(win, &x))
			return -ENOMEM;
	}
	return 0;
bad:
	snprintf(err, errlen, "window \"%s\" is not an array of samples", name);
	return -EINVAL;
}

static int read_scope(struct ew_detector *d, struct json_object *o, struct scope_state *s,
		      struct ident *id, struct workload *wl, char *err, size_t errlen)
{
	struct json_object *so, *eps;
	int r;

	if (!json_object_object_get_ex(o, "s", &so) || !json_object_is_type(so, json_type_object)) {
		snprintf(err, errlen, "an entry without its windows");
		return -EINVAL;
	}
	r = read_window(so, "exits", &s->exits, err, errlen);
	r = r ?: read_window(so, "restarts", &s->restarts, err, errlen);
	r = r ?: read_window(so, "outcomes", &s->outcomes, err, errlen);
	if (r)
		return r;
	if (!json_object_object_get_ex(so, "episodes", &eps))
		return 0;
	for (size_t i = 0; i < json_object_array_length(eps); i++) {
		struct json_object *e = json_object_array_get_idx(eps, i);
		int rule = ew_rule_parse(ew_json_str(e, "rule", ""));
		struct episode *ep;

		if (rule < 0 || rule == EW_RULE_STABLE) {
			snprintf(err, errlen, "an episode of unknown rule '%.32s'",
				 ew_json_str(e, "rule", ""));
			return -EINVAL;
		}
		ep = &s->ep[rule];
		ep->open = true;
		ew_strlcpy(ep->id, ew_json_str(e, "id", ""), sizeof(ep->id));
		ep->fired_ns = ew_json_u64(e, "fired_ns", 0);
		ep->last_ns = ew_json_u64(e, "last_ns", 0);
		ep->total = (uint32_t)ew_json_u64(e, "total", 0);
		ep->last_ident = (uint32_t)ew_json_u64(e, "last_ident", 0);
		d->active++;
		ew_det_schedule_episode(d, s, id, wl, (enum ew_rule)rule);
	}
	return 0;
}

static struct ew_subject *read_subject(struct json_object *o, const char *name)
{
	struct json_object *so;
	struct ew_identity *id;
	struct ew_subject *s = NULL;

	if (!json_object_object_get_ex(o, name, &so))
		return NULL;
	id = malloc(sizeof(*id));
	if (id && !ew_codec_read_identity(so, id))
		s = ew_subject_pack(id);
	free(id);
	return s;
}

static int read_ident(struct ew_detector *d, struct json_object *o, char *err, size_t errlen)
{
	const char *key = ew_json_str(o, "key", NULL), *wlkey = ew_json_str(o, "workload", "");
	struct json_object *le;
	struct ident *id;
	char tail[EW_STDERR_CAP];
	int n;

	if (!key || !key[0]) {
		snprintf(err, errlen, "an identity without a key");
		return -EINVAL;
	}
	d->next_serial = (uint32_t)ew_json_u64(o, "serial", d->next_serial);
	id = ew_det_ident_get(d, key, wlkey, true);
	if (!id)
		return -ENOMEM;
	id->restarts = (uint32_t)ew_json_u64(o, "restarts", 0);
	id->exited_before = ew_json_bool(o, "exited_before", false);
	id->looping = ew_json_bool(o, "looping", false);
	id->running = ew_json_bool(o, "running", false);
	id->seeded = ew_json_bool(o, "seeded", false);
	id->ready = ew_json_bool(o, "ready", false);
	id->outcome_done = ew_json_bool(o, "outcome_done", true);
	id->pid = (uint32_t)ew_json_u64(o, "pid", 0);
	id->start_boot_ns = ew_json_u64(o, "start_boot_ns", 0);
	id->start_ns = ew_json_u64(o, "start_ns", 0);
	id->last_active_ns = ew_json_u64(o, "last_active_ns", d->now_ns);
	if (json_object_object_get_ex(o, "last_exit", &le) &&
	    json_object_is_type(le, json_type_array) && json_object_array_length(le) == 4) {
		id->has_last_exit = true;
		id->last_exit.t = json_object_get_uint64(json_object_array_get_idx(le, 0));
		id->last_exit.code = (int16_t)json_object_get_int(json_object_array_get_idx(le, 1));
		id->last_exit.signal = (uint8_t)json_object_get_int(json_object_array_get_idx(le, 2));
		id->last_exit.flags = (uint8_t)json_object_get_int(json_object_array_get_idx(le, 3));
		id->last_exit.ident = id->serial;
	}
	n = ew_hex_decode(ew_json_str(o, "tail_hex", ""), tail, sizeof(tail));
	if (n > 0 && (id->tail = malloc((size_t)n))) {
		memcpy(id->tail, tail, (size_t)n);
		id->tail_len = (uint32_t)n;
	}
	id->subject = read_subject(o, "subject");
	if (id->running) {
		struct timer t = { .id = id, .gen = ++id->run_gen };

		if (!id->outcome_done && !id->seeded) {
			t.kind = T_GRACE;
			t.at = id->start_ns + d->cfg.startup_grace_ns;
			ew_det_timer_add(d, &t);
		}
		if (id->looping) {
			t.kind = T_STABLE;
			t.at = id->start_ns + d->cfg.rules[EW_RULE_STABLE].uptime_ns;
			ew_det_timer_add(d, &t);
		}
	}
	return read_scope(d, o, &id->s, id, NULL, err, errlen);
}

static int read_workload(struct ew_detector *d, struct json_object *o, char *err, size_t errlen)
{
	const char *key = ew_json_str(o, "key", NULL);
	struct workload *wl;

	if (!key || !key[0]) {
		snprintf(err, errlen, "a workload without a key");
		return -EINVAL;
	}
	wl = ew_det_workload_get(d, key);
	if (!wl)
		return -ENOMEM;
	wl->last_subject = read_subject(o, "last_subject");
	return read_scope(d, o, &wl->s, NULL, wl, err, errlen);
}

static int restore_into(struct ew_detector *d, struct json_object *root, char *err, size_t errlen)
{
	struct json_object *arr;
	uint32_t next;
	int r;

	if (!json_object_is_type(root, json_type_object) ||
	    ew_json_u64(root, "exitwatch_state", 0) != EW_STATE_VERSION) {
		snprintf(err, errlen, "not an exitwatch state file (version %d)", EW_STATE_VERSION);
		return -EINVAL;
	}
	d->now_ns = ew_json_u64(root, "now_ns", 0);
	next = (uint32_t)ew_json_u64(root, "next_serial", 1);
	d->drops_total = ew_json_u64(root, "drops_total", 0);
	d->last_drop_ns = ew_json_u64(root, "last_drop_ns", 0);
	if (json_object_object_get_ex(root, "workloads", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			r = read_workload(d, json_object_array_get_idx(arr, i), err, errlen);
			if (r)
				return r;
		}
	if (json_object_object_get_ex(root, "identities", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			r = read_ident(d, json_object_array_get_idx(arr, i), err, errlen);
			if (r)
				return r;
		}
	d->next_serial = next > d->next_serial ? next : d->next_serial;
	return 0;
}

int ew_detector_restore(struct ew_detector *d, const char *json, size_t len, char *err,
			size_t errlen)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root = NULL;
	struct ew_detector *fresh, tmp;
	int r;

	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, json, (int)len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success) {
		snprintf(err, errlen, "not valid JSON (%s)",
			 json_tokener_error_desc(json_tokener_get_error(tok)));
		json_tokener_free(tok);
		json_object_put(root);
		return -EINVAL;
	}
	json_tokener_free(tok);
	fresh = ew_detector_new(&d->cfg);
	if (!fresh) {
		json_object_put(root);
		return -ENOMEM;
	}
	r = restore_into(fresh, root, err, errlen);
	json_object_put(root);
	if (r) {
		ew_detector_free(fresh);
		return r;
	}
	/* Swap: d takes the restored state, fresh takes the old one and is freed. */
	tmp = *d;
	*d = *fresh;
	*fresh = tmp;
	ew_detector_free(fresh);
	return 0;
}
