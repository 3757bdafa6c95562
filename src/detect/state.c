// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The detector's checkpoint (checkpoint.c) read back. Restore builds a fresh detector and swaps
 * it in only when the whole file made sense: a corrupt or foreign file leaves an empty detector
 * and a message, never half a state. The reader is strict: every member the writer always
 * writes must be there with its type and range, and nothing counted may be later than the
 * detector's time in the file. json-c asserts on arrays of the wrong type, so every type is
 * checked before use.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "detect/detector_int.h"
#include "exitwatch/replay/codec.h"
#include "exitwatch/util/util.h"

/* Sticky: the first problem is the error, and every read after it is a no-op. */
struct reader {
	char *err;
	size_t errlen;
	int r;		     /* first error */
	uint64_t now;	     /* the detector's time in the file */
	uint64_t max_serial; /* highest identity serial read */
};

static void bad(struct reader *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad(struct reader *rd, const char *fmt, ...)
{
	va_list ap;

	if (rd->r)
		return;
	rd->r = -EINVAL;
	va_start(ap, fmt);
	vsnprintf(rd->err, rd->errlen, fmt, ap);
	va_end(ap);
	/* Messages quote the file: its bytes must not start a line or a terminal escape. */
	for (char *c = rd->err; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
}

/* What ew_det_episode_id() makes: "f-" and 16 lower-case hex digits. */
static bool episode_id_ok(const char *id)
{
	if (strncmp(id, "f-", 2) || strlen(id) != 18)
		return false;
	for (int i = 2; i < 18; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return true;
}

static void nomem(struct reader *rd)
{
	if (!rd->r) {
		rd->r = -ENOMEM;
		snprintf(rd->err, rd->errlen, "out of memory");
	}
}

static struct json_object *member(struct reader *rd, struct json_object *o, const char *key,
				  enum json_type type, bool required)
{
	struct json_object *v;

	if (rd->r)
		return NULL;
	if (!json_object_object_get_ex(o, key, &v)) {
		if (required)
			bad(rd, "member \"%s\" is missing", key);
		return NULL;
	}
	if (!json_object_is_type(v, type)) {
		bad(rd, "member \"%s\" is not of JSON type %s", key, json_type_to_name(type));
		return NULL;
	}
	return v;
}

static int64_t int_in(struct reader *rd, struct json_object *v, const char *what, int64_t min,
		      int64_t max)
{
	int64_t x;

	if (rd->r)
		return 0;
	if (!json_object_is_type(v, json_type_int)) {
		bad(rd, "%s is not an integer", what);
		return 0;
	}
	x = json_object_get_int64(v);
	if (x < min || x > max) {
		bad(rd, "%s is out of range (%lld not in %lld..%lld)", what, (long long)x,
		    (long long)min, (long long)max);
		return 0;
	}
	return x;
}

static int64_t rd_int(struct reader *rd, struct json_object *o, const char *key, int64_t min,
		      int64_t max)
{
	struct json_object *v = member(rd, o, key, json_type_int, true);

	return v ? int_in(rd, v, key, min, max) : 0;
}

static bool rd_bool(struct reader *rd, struct json_object *o, const char *key)
{
	struct json_object *v = member(rd, o, key, json_type_boolean, true);

	return v && json_object_get_boolean(v);
}

static const char *rd_str(struct reader *rd, struct json_object *o, const char *key, bool required)
{
	struct json_object *v = member(rd, o, key, json_type_string, required);

	return v ? json_object_get_string(v) : NULL;
}

/* [t, code, signal, flags] after the first `skip` elements of a sample array. */
static void read_sample(struct reader *rd, struct json_object *e, size_t skip, struct ew_sample *x)
{
	x->t = (uint64_t)int_in(rd, json_object_array_get_idx(e, 0), "a sample's time", 0,
				(int64_t)rd->now);
	x->code = (int16_t)int_in(rd, json_object_array_get_idx(e, skip + 1), "an exit code",
				  INT16_MIN, INT16_MAX);
	x->signal = (uint8_t)int_in(rd, json_object_array_get_idx(e, skip + 2), "a signal", 0,
				    UINT8_MAX);
	x->flags = (uint8_t)int_in(rd, json_object_array_get_idx(e, skip + 3), "sample flags", 0,
				   UINT8_MAX);
	if (!rd->r && x->flags >> 4 >= EW_CLASS__COUNT)
		bad(rd, "a sample of unknown exit class %d", x->flags >> 4);
}

static void read_window(struct reader *rd, struct json_object *so, const char *name,
			struct ew_window *win)
{
	struct json_object *arr = member(rd, so, name, json_type_array, true);
	size_t n = arr ? json_object_array_length(arr) : 0;

	for (size_t i = 0; i < n && !rd->r; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		struct ew_sample x;

		if (!json_object_is_type(e, json_type_array) || json_object_array_length(e) != 5) {
			bad(rd,
			    "window \"%s\" holds a sample that is not [t, ident, code, signal, "
			    "flags]",
			    name);
			return;
		}
		read_sample(rd, e, 1, &x);
		x.ident = (uint32_t)int_in(rd, json_object_array_get_idx(e, 1),
					   "a sample's identity", 0, UINT32_MAX);
		if (!rd->r && ew_window_push(win, &x))
			nomem(rd);
	}
}

static void read_episode(struct ew_detector *d, struct reader *rd, struct json_object *e,
			 struct scope_state *s, struct ident *id, struct workload *wl)
{
	const char *name = rd_str(rd, e, "rule", true), *fid = rd_str(rd, e, "id", true);
	int64_t fired = rd_int(rd, e, "fired_ns", 0, (int64_t)rd->now);
	int64_t last = rd_int(rd, e, "last_ns", fired, (int64_t)rd->now);
	uint32_t total = (uint32_t)rd_int(rd, e, "total", 0, UINT32_MAX);
	uint32_t who = (uint32_t)rd_int(rd, e, "last_ident", 0, UINT32_MAX);
	struct episode *ep;
	int rule;

	if (rd->r)
		return;
	rule = ew_rule_parse(name);
	if (rule < 0 || rule == EW_RULE_STABLE) {
		bad(rd, "an episode of unknown rule '%.32s'", name);
		return;
	}
	ep = &s->ep[rule];
	if (ep->open || !episode_id_ok(fid)) {
		bad(rd, "an episode of %s that is repeated or whose id is not f-<16 hex>", name);
		return;
	}
	ep->open = true;
	ew_strlcpy(ep->id, fid, sizeof(ep->id));
	ep->fired_ns = (uint64_t)fired;
	ep->last_ns = (uint64_t)last;
	ep->total = total;
	ep->last_ident = who;
	d->active++;
	ew_det_schedule_episode(d, id, wl, (enum ew_rule)rule);
}

static void read_scope(struct ew_detector *d, struct reader *rd, struct json_object *o,
		       struct scope_state *s, struct ident *id, struct workload *wl)
{
	struct json_object *so = member(rd, o, "s", json_type_object, true), *eps;
	size_t n;

	read_window(rd, so, "exits", &s->exits);
	read_window(rd, so, "restarts", &s->restarts);
	read_window(rd, so, "outcomes", &s->outcomes);
	eps = member(rd, so, "episodes", json_type_array, true);
	n = eps ? json_object_array_length(eps) : 0;
	for (size_t i = 0; i < n && !rd->r; i++) {
		struct json_object *e = json_object_array_get_idx(eps, i);

		if (!json_object_is_type(e, json_type_object))
			bad(rd, "an episode is not an object");
		else
			read_episode(d, rd, e, s, id, wl);
	}
}

/* An identity object, when present: absent is NULL, present and wrong is an error. */
static struct ew_subject *read_subject(struct reader *rd, struct json_object *o, const char *name)
{
	struct json_object *so = member(rd, o, name, json_type_object, false);
	struct ew_identity *id;
	struct ew_subject *s = NULL;

	if (!so)
		return NULL;
	id = malloc(sizeof(*id));
	if (!id)
		nomem(rd);
	else if (ew_codec_read_identity(so, id))
		bad(rd, "member \"%s\" is not an identity", name);
	else if (!(s = ew_subject_pack(id)))
		nomem(rd);
	free(id);
	return s;
}

static void read_last_exit(struct reader *rd, struct json_object *o, struct ident *id)
{
	struct json_object *le = member(rd, o, "last_exit", json_type_array, false);

	if (!le)
		return;
	if (json_object_array_length(le) != 4) {
		bad(rd, "member \"last_exit\" is not [t, code, signal, flags]");
		return;
	}
	read_sample(rd, le, 0, &id->last_exit);
	id->last_exit.ident = id->serial;
	id->has_last_exit = !rd->r;
}

static void read_tail(struct reader *rd, struct json_object *o, struct ident *id)
{
	const char *hex = rd_str(rd, o, "tail_hex", false);
	char tail[EW_STDERR_CAP];
	int n;

	if (!hex)
		return;
	n = ew_hex_decode(hex, tail, sizeof(tail));
	if (n < 0) {
		bad(rd, "member \"tail_hex\" is not hex of at most %d bytes", EW_STDERR_CAP);
	} else if (n > 0) {
		id->tail = malloc((size_t)n);
		if (!id->tail) {
			nomem(rd);
			return;
		}
		memcpy(id->tail, tail, (size_t)n);
		id->tail_len = (uint32_t)n;
	}
}

static void read_ident(struct ew_detector *d, struct reader *rd, struct json_object *o)
{
	const char *key = rd_str(rd, o, "key", true), *wlkey = rd_str(rd, o, "workload", true);
	uint64_t serial = (uint64_t)rd_int(rd, o, "serial", 1, UINT32_MAX - 1);
	struct ident *id;

	if (rd->r)
		return;
	if (!key[0] || ew_map_get(d->idents, key, strlen(key)) ||
	    ew_map_get_u64(d->serials, serial)) {
		bad(rd, "an identity without a key, or repeated ('%.64s', serial %llu)", key,
		    (unsigned long long)serial);
		return;
	}
	d->next_serial = (uint32_t)serial;
	id = ew_det_ident_get(d, key, wlkey, true);
	if (!id) {
		nomem(rd);
		return;
	}
	if (serial > rd->max_serial)
		rd->max_serial = serial;
	id->restarts = (uint32_t)rd_int(rd, o, "restarts", 0, UINT32_MAX);
	id->exited_before = rd_bool(rd, o, "exited_before");
	id->looping = rd_bool(rd, o, "looping");
	id->running = rd_bool(rd, o, "running");
	id->seeded = rd_bool(rd, o, "seeded");
	id->ready = rd_bool(rd, o, "ready");
	id->outcome_done = rd_bool(rd, o, "outcome_done");
	id->pid = (uint32_t)rd_int(rd, o, "pid", 0, UINT32_MAX);
	id->start_boot_ns = (uint64_t)rd_int(rd, o, "start_boot_ns", 0, INT64_MAX);
	id->start_ns = (uint64_t)rd_int(rd, o, "start_ns", 0, (int64_t)rd->now);
	id->last_active_ns = (uint64_t)rd_int(rd, o, "last_active_ns", 0, (int64_t)rd->now);
	read_last_exit(rd, o, id);
	read_tail(rd, o, id);
	id->subject = read_subject(rd, o, "subject");
	if (id->subject && strcmp(ew_subject_key(id->subject), key))
		bad(rd, "identity '%.64s' has another's subject", key);
	read_scope(d, rd, o, &id->s, id, NULL);
	if (rd->r || !id->running)
		return;
	id->run_gen++;
	if (!id->outcome_done && !id->seeded) {
		struct timer t = {.kind = T_GRACE,
				  .id = id,
				  .gen = id->run_gen,
				  .at = ew_det_add_sat(id->start_ns, d->cfg.startup_grace_ns)};

		if (ew_det_timer_add(d, &t))
			nomem(rd);
	}
	ew_det_arm_stable(d, id);
}

static void read_workload(struct ew_detector *d, struct reader *rd, struct json_object *o)
{
	const char *key = rd_str(rd, o, "key", true);
	struct workload *wl;

	if (rd->r)
		return;
	if (!key[0] || ew_map_get(d->workloads, key, strlen(key))) {
		bad(rd, "a workload without a key, or repeated ('%.64s')", key);
		return;
	}
	wl = ew_det_workload_get(d, key);
	if (!wl) {
		nomem(rd);
		return;
	}
	wl->last_subject = read_subject(rd, o, "last_subject");
	read_scope(d, rd, o, &wl->s, NULL, wl);
}

static void read_list(struct ew_detector *d, struct reader *rd, struct json_object *arr,
		      const char *what,
		      void (*one)(struct ew_detector *, struct reader *, struct json_object *))
{
	size_t n = arr ? json_object_array_length(arr) : 0;

	for (size_t i = 0; i < n && !rd->r; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(o, json_type_object))
			bad(rd, "an entry of \"%s\" is not an object", what);
		else
			one(d, rd, o);
	}
}

static void restore_into(struct ew_detector *d, struct reader *rd, struct json_object *root)
{
	struct json_object *v, *wls, *ids;
	uint64_t next;

	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "exitwatch_state", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) != EW_DET_STATE_VERSION) {
		bad(rd, "not an exitwatch state file of version %d", EW_DET_STATE_VERSION);
		return;
	}
	rd->now = (uint64_t)rd_int(rd, root, "now_ns", 0, INT64_MAX);
	d->now_ns = rd->now;
	rd_int(rd, root, "saved_ns", 0, INT64_MAX);
	next = (uint64_t)rd_int(rd, root, "next_serial", 1, UINT32_MAX);
	d->drops_total = (uint64_t)rd_int(rd, root, "drops_total", 0, INT64_MAX);
	d->last_drop_ns = (uint64_t)rd_int(rd, root, "last_drop_ns", 0, INT64_MAX);
	/* Workloads first: restoring an identity attaches it to its workload. */
	wls = member(rd, root, "workloads", json_type_array, true);
	ids = member(rd, root, "identities", json_type_array, true);
	read_list(d, rd, wls, "workloads", read_workload);
	read_list(d, rd, ids, "identities", read_ident);
	if (next <= rd->max_serial)
		next = rd->max_serial + 1;
	d->next_serial = (uint32_t)next;
}

static bool only_space(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
			return false;
	return true;
}

static void parse_and_restore(struct ew_detector *d, struct reader *rd, const char *json,
			      size_t len)
{
	struct json_tokener *tok;
	struct json_object *root;
	enum json_tokener_error jerr;
	size_t end;

	if (len > INT_MAX) {
		bad(rd, "a state file of %zu bytes is too large", len);
		return;
	}
	tok = json_tokener_new();
	if (!tok) {
		nomem(rd);
		return;
	}
	root = json_tokener_parse_ex(tok, json, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue)
		bad(rd, "not valid JSON (it ends too early)");
	else if (jerr != json_tokener_success)
		bad(rd, "not valid JSON (%s)", json_tokener_error_desc(jerr));
	else if (end > len || !only_space(json + end, len - end))
		bad(rd, "not valid JSON (data after the object)");
	else
		restore_into(d, rd, root);
	json_object_put(root);
	json_tokener_free(tok);
}

int ew_detector_restore(struct ew_detector *d, const char *json, size_t len, char *err,
			size_t errlen)
{
	struct reader rd = {.err = err, .errlen = errlen};
	struct ew_detector *fresh = ew_detector_new(&d->cfg), tmp;

	if (!fresh)
		return -ENOMEM;
	parse_and_restore(fresh, &rd, json, len);
	if (rd.r) {
		/* Nothing half-restored: d is left empty. */
		ew_detector_free(fresh);
		fresh = ew_detector_new(&d->cfg);
		if (!fresh)
			return rd.r;
	}
	/* Swap: d takes the new state, fresh takes the old one and is freed. */
	tmp = *d;
	*d = *fresh;
	*fresh = tmp;
	ew_detector_free(fresh);
	return rd.r;
}
