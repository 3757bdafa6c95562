// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The state file (state_write.c) read back into the detector through its import. This side
 * checks the JSON: every member the writer always writes must be there with its type, and
 * each number must fit what it is read into; the import checks what the detector relies on
 * (times, serials, episodes). The first problem is the error, in one line, and the detector is
 * left empty. json-c asserts on arrays of the wrong type, so every type is checked before use.
 * The identities' pods go to the resolver only once the whole file is accepted.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "exitwatch/core/hex.h"
#include "exitwatch/core/json_read.h"
#include "exitwatch/persist/state.h"
#include "exitwatch/replay/codec.h"

/* The windows of a scope, in the order they are read. */
enum {
	W_EXITS,
	W_RESTARTS,
	W_OUTCOMES,
	W__COUNT
};

/* An identity's pod (state_write.c's write_pod()): strings of the parsed tree. */
struct pod_ref {
	const char *key, *ns, *name, *image;
};

/* Sticky: the first problem is the error, and every read after it is a no-op. */
struct reader {
	char *err;
	size_t errlen;
	int r; /* first error */
	struct ew_detector_import *im;

	/* Scratch for one workload or identity at a time: the import copies what it keeps. */
	struct ew_detector_sample *v[W__COUNT];
	size_t cap[W__COUNT];
	struct ew_detector_episode *ep;
	size_t epcap;
	struct ew_identity *subject;
	char tail[EW_STDERR_CAP];

	struct ew_resolver *resolver; /* may be NULL: pods are checked, not kept */
	struct pod_ref *pods;
	size_t npods, podcap;
};

static void bad(struct reader *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad(struct reader *rd, const char *fmt, ...)
{
	va_list ap;

	if (rd->r)
		return;
	rd->r = -EINVAL;
	if (!rd->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(rd->err, rd->errlen, fmt, ap);
	va_end(ap);
	/* Messages quote the file: its bytes must not start a line or a terminal escape. */
	for (char *c = rd->err; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
}

static void nomem(struct reader *rd)
{
	if (rd->r)
		return;
	rd->r = -ENOMEM;
	if (rd->errlen)
		snprintf(rd->err, rd->errlen, "out of memory");
}

/* The import said why (in err): its error is the reader's. */
static void imported(struct reader *rd, int r)
{
	if (r && !rd->r)
		rd->r = r;
}

/* ---- typed members over core/json_read, with the reader's messages ---- */

static struct json_object *member(struct reader *rd, struct json_object *o, const char *key,
				  enum ew_json_type type, bool required)
{
	struct json_object *v;
	int r;

	if (rd->r)
		return NULL;
	r = ew_json_member(o, key, type, &v);
	if (r == -ENOENT && required)
		bad(rd, "member \"%s\" is missing", key);
	else if (r == -EINVAL)
		bad(rd, "member \"%s\" is not of JSON type %s", key, ew_json_type_name(type));
	return v;
}

static int64_t int_in(struct reader *rd, struct json_object *v, const char *what, int64_t min,
		      int64_t max)
{
	int64_t x;
	int r;

	if (rd->r)
		return 0;
	r = ew_json_int_in(v, min, max, &x);
	if (r == -EINVAL)
		bad(rd, "%s is not an integer", what);
	else if (r)
		bad(rd, "%s is out of range (%lld not in %lld..%lld)", what, (long long)x,
		    (long long)min, (long long)max);
	return r ? 0 : x;
}

static int64_t rd_int(struct reader *rd, struct json_object *o, const char *key, int64_t min,
		      int64_t max)
{
	struct json_object *v = member(rd, o, key, EW_JSON_INT, true);

	return v ? int_in(rd, v, key, min, max) : 0;
}

/* A time or a count of the detector's: a non-negative 64-bit JSON integer. */
static uint64_t rd_u64(struct reader *rd, struct json_object *o, const char *key)
{
	return (uint64_t)rd_int(rd, o, key, 0, INT64_MAX);
}

static uint32_t rd_u32(struct reader *rd, struct json_object *o, const char *key)
{
	return (uint32_t)rd_int(rd, o, key, 0, UINT32_MAX);
}

static bool rd_bool(struct reader *rd, struct json_object *o, const char *key)
{
	struct json_object *v = member(rd, o, key, EW_JSON_BOOL, true);

	return v && json_object_get_boolean(v);
}

static const char *rd_str(struct reader *rd, struct json_object *o, const char *key, bool required)
{
	struct json_object *v = member(rd, o, key, EW_JSON_STRING, required);

	return v ? json_object_get_string(v) : NULL;
}

/* ---- scopes: windows and episodes ---- */

/* [t, code, signal, flags] after the first `skip` elements of a sample array. */
static void read_sample(struct reader *rd, struct json_object *e, size_t skip,
			struct ew_detector_sample *x)
{
	x->t = (uint64_t)int_in(rd, json_object_array_get_idx(e, 0), "a sample's time", 0,
				INT64_MAX);
	x->code = (int16_t)int_in(rd, json_object_array_get_idx(e, skip + 1), "an exit code",
				  INT16_MIN, INT16_MAX);
	x->signal = (uint8_t)int_in(rd, json_object_array_get_idx(e, skip + 2), "a signal", 0,
				    UINT8_MAX);
	x->flags = (uint8_t)int_in(rd, json_object_array_get_idx(e, skip + 3), "sample flags", 0,
				   UINT8_MAX);
}

static void read_window(struct reader *rd, struct json_object *so, const char *name, int k,
			struct ew_detector_samples *ret)
{
	struct json_object *arr = member(rd, so, name, EW_JSON_ARRAY, true);
	size_t n = arr ? json_object_array_length(arr) : 0;

	ret->v = NULL;
	ret->n = 0;
	if (n > rd->cap[k]) {
		struct ew_detector_sample *v = realloc(rd->v[k], n * sizeof(*v));

		if (!v) {
			nomem(rd);
			return;
		}
		rd->v[k] = v;
		rd->cap[k] = n;
	}
	for (size_t i = 0; i < n && !rd->r; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		struct ew_detector_sample *x = &rd->v[k][i];

		if (!ew_json_is(e, EW_JSON_ARRAY) || json_object_array_length(e) != 5) {
			bad(rd,
			    "window \"%s\" holds a sample that is not [t, ident, code, signal, "
			    "flags]",
			    name);
			return;
		}
		read_sample(rd, e, 1, x);
		x->ident = (uint32_t)int_in(rd, json_object_array_get_idx(e, 1),
					    "a sample's identity", 0, UINT32_MAX);
	}
	ret->v = rd->v[k];
	ret->n = n;
}

static void read_episode(struct reader *rd, struct json_object *e, struct ew_detector_episode *ep)
{
	const char *name = rd_str(rd, e, "rule", true);
	int rule;

	ep->id = rd_str(rd, e, "id", true);
	ep->fired_ns = rd_u64(rd, e, "fired_ns");
	ep->last_ns = rd_u64(rd, e, "last_ns");
	ep->total = rd_u32(rd, e, "total");
	ep->last_ident = rd_u32(rd, e, "last_ident");
	if (rd->r)
		return;
	rule = ew_rule_parse(name);
	if (rule < 0)
		bad(rd, "an episode of unknown rule '%.32s'", name);
	ep->rule = rule < 0 ? EW_RULE__COUNT : (enum ew_rule)rule;
}

static void read_scope(struct reader *rd, struct json_object *o, struct ew_detector_scope *ret)
{
	struct json_object *so = member(rd, o, "s", EW_JSON_OBJECT, true), *eps;
	size_t n;

	read_window(rd, so, "exits", W_EXITS, &ret->exits);
	read_window(rd, so, "restarts", W_RESTARTS, &ret->restarts);
	read_window(rd, so, "outcomes", W_OUTCOMES, &ret->outcomes);
	eps = member(rd, so, "episodes", EW_JSON_ARRAY, true);
	n = eps ? json_object_array_length(eps) : 0;
	ret->ep = NULL;
	ret->nep = 0;
	if (n > rd->epcap) {
		struct ew_detector_episode *ep = realloc(rd->ep, n * sizeof(*ep));

		if (!ep) {
			nomem(rd);
			return;
		}
		rd->ep = ep;
		rd->epcap = n;
	}
	for (size_t i = 0; i < n && !rd->r; i++) {
		struct json_object *e = json_object_array_get_idx(eps, i);

		if (!ew_json_is(e, EW_JSON_OBJECT))
			bad(rd, "an episode is not an object");
		else
			read_episode(rd, e, &rd->ep[i]);
	}
	ret->ep = rd->ep;
	ret->nep = n;
}

/* ---- workloads and identities ---- */

/* An identity object, when present: absent is NULL, present and wrong is an error. */
static const struct ew_identity *read_subject(struct reader *rd, struct json_object *o,
					      const char *name)
{
	struct json_object *so = member(rd, o, name, EW_JSON_OBJECT, false);
	char why[160];

	if (!so)
		return NULL;
	if (ew_codec_read_identity(so, name, rd->subject, why, sizeof(why))) {
		bad(rd, "member \"%s\" is not an identity: %s", name, why);
		return NULL;
	}
	return rd->subject;
}

static void read_last_exit(struct reader *rd, struct json_object *o, struct ew_detector_ident *id)
{
	struct json_object *le = member(rd, o, "last_exit", EW_JSON_ARRAY, false);

	if (!le)
		return;
	if (json_object_array_length(le) != 4) {
		bad(rd, "member \"last_exit\" is not [t, code, signal, flags]");
		return;
	}
	read_sample(rd, le, 0, &id->last_exit);
	id->has_last_exit = !rd->r;
}

static void read_tail(struct reader *rd, struct json_object *o, struct ew_detector_ident *id)
{
	const char *hex = rd_str(rd, o, "tail_hex", false);
	int n;

	if (!hex)
		return;
	n = ew_hex_decode(hex, rd->tail, sizeof(rd->tail));
	if (n < 0) {
		bad(rd, "member \"tail_hex\" is not hex of at most %d bytes", EW_STDERR_CAP);
		return;
	}
	id->tail = rd->tail;
	id->tail_len = (uint32_t)n;
}

/* crash_loop's streak: optional, so that a state file written before the rule still loads. */
static void read_streak(struct reader *rd, struct json_object *o, struct ew_detector_ident *id)
{
	struct json_object *c = member(rd, o, "crash_loop", EW_JSON_OBJECT, false);

	if (!c)
		return;
	id->fail_streak = (uint32_t)rd_int(rd, c, "streak", 1, UINT32_MAX);
	id->streak_first_ns = rd_u64(rd, c, "first_ns");
	id->streak_code = (int16_t)rd_int(rd, c, "code", INT16_MIN, INT16_MAX);
	id->streak_signal = (uint8_t)rd_int(rd, c, "signal", 0, UINT8_MAX);
	id->line_repeats = rd_u32(rd, c, "line_repeats");
	id->line_hash = rd_u64(rd, c, "line_hash");
}

/* The pod of the identity keyed key (state_write.c's write_pod()): optional. */
static void read_pod(struct reader *rd, struct json_object *o, const char *key)
{
	struct json_object *po = member(rd, o, "pod", EW_JSON_ARRAY, false);
	char uid[EW_UID_LEN], container[EW_NAME_LEN];
	const char *v[3];

	if (!po)
		return;
	if (json_object_array_length(po) != 3) {
		bad(rd, "member \"pod\" is not [namespace, name, image]");
		return;
	}
	for (size_t i = 0; i < 3; i++) {
		struct json_object *e = json_object_array_get_idx(po, i);

		if (!ew_json_is(e, EW_JSON_STRING)) {
			bad(rd, "member \"pod\" is not [namespace, name, image]");
			return;
		}
		v[i] = json_object_get_string(e);
		if (strlen(v[i]) >= EW_NAME_LEN) {
			bad(rd,
			    "member \"pod\" of identity \"%.128s\" has a name of %d bytes or more",
			    key, EW_NAME_LEN);
			return;
		}
	}
	if (!ew_identity_key_pod(key, uid, container)) {
		bad(rd, "member \"pod\" on identity \"%.128s\", not a Kubernetes container's", key);
		return;
	}
	if (!rd->resolver)
		return;
	if (rd->npods == rd->podcap) {
		size_t cap = rd->podcap ? 2 * rd->podcap : 16;
		struct pod_ref *nv = realloc(rd->pods, cap * sizeof(*nv));

		if (!nv) {
			nomem(rd);
			return;
		}
		rd->pods = nv;
		rd->podcap = cap;
	}
	rd->pods[rd->npods++] =
		(struct pod_ref){.key = key, .ns = v[0], .name = v[1], .image = v[2]};
}

/*
 * The pods, to the resolver. Its pod cache is a hint (it names a container gone before it was
 * read): one it has no room for costs an image name in a record, never the file.
 */
static void learn_pods(struct reader *rd)
{
	for (size_t i = 0; i < rd->npods; i++) {
		const struct pod_ref *p = &rd->pods[i];

		if (ew_resolver_learn_pod(rd->resolver, p->key, p->ns, p->name, p->image))
			return;
	}
}

/* Members in the order the writer writes them: the first problem is the one reported. */
static void read_ident(struct reader *rd, struct json_object *o)
{
	struct ew_detector_ident id = {0};

	id.key = rd_str(rd, o, "key", true);
	id.workload = rd_str(rd, o, "workload", true);
	id.serial = rd_u32(rd, o, "serial");
	id.restarts = rd_u32(rd, o, "restarts");
	id.exited_before = rd_bool(rd, o, "exited_before");
	id.looping = rd_bool(rd, o, "looping");
	read_streak(rd, o, &id);
	id.running = rd_bool(rd, o, "running");
	id.seeded = rd_bool(rd, o, "seeded");
	id.ready = rd_bool(rd, o, "ready");
	id.outcome_done = rd_bool(rd, o, "outcome_done");
	id.pid = rd_u32(rd, o, "pid");
	id.start_boot_ns = rd_u64(rd, o, "start_boot_ns");
	id.start_ns = rd_u64(rd, o, "start_ns");
	id.last_active_ns = rd_u64(rd, o, "last_active_ns");
	read_last_exit(rd, o, &id);
	read_tail(rd, o, &id);
	id.subject = read_subject(rd, o, "subject");
	if (!id.subject)
		read_pod(rd, o, id.key);
	read_scope(rd, o, &id.s);
	if (!rd->r)
		imported(rd, ew_detector_import_ident(rd->im, &id));
}

static void read_workload(struct reader *rd, struct json_object *o)
{
	struct ew_detector_workload wl = {.key = rd_str(rd, o, "key", true)};

	wl.last_subject = read_subject(rd, o, "last_subject");
	read_scope(rd, o, &wl.s);
	if (!rd->r)
		imported(rd, ew_detector_import_workload(rd->im, &wl));
}

static void read_list(struct reader *rd, struct json_object *arr, const char *what,
		      void (*one)(struct reader *, struct json_object *))
{
	size_t n = arr ? json_object_array_length(arr) : 0;

	for (size_t i = 0; i < n && !rd->r; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);

		if (!ew_json_is(o, EW_JSON_OBJECT))
			bad(rd, "an entry of \"%s\" is not an object", what);
		else
			one(rd, o);
	}
}

/* ---- the file ---- */

static struct json_object *parse(struct reader *rd, const char *json, size_t len)
{
	struct ew_json_parse_status st;
	struct json_object *root;

	if (!ew_json_parse(json, len, &root, &st))
		return root;
	switch (st.error) {
	case EW_JSON_PARSE_TRUNCATED:
		bad(rd, "not valid JSON (it ends too early)");
		break;
	case EW_JSON_PARSE_INVALID:
		bad(rd, "not valid JSON (%s)", st.desc);
		break;
	case EW_JSON_PARSE_TRAILING:
		bad(rd, "not valid JSON (data after the object)");
		break;
	case EW_JSON_PARSE_TOO_LARGE:
		bad(rd, "a state file of %zu bytes is too large", len);
		break;
	default:
		nomem(rd);
		break;
	}
	return NULL;
}

/* The detector's own members, and where its workloads and identities are. */
static void read_top(struct reader *rd, struct json_object *root, struct ew_detector_state *st,
		     struct json_object **wls, struct json_object **ids)
{
	struct json_object *v;
	int64_t version;

	if (rd->r)
		return;
	if (ew_json_member(root, "exitwatch_state", EW_JSON_INT, &v) ||
	    ew_json_int_in(v, EW_STATE_VERSION, EW_STATE_VERSION, &version)) {
		bad(rd, "not an exitwatch state file of version %d", EW_STATE_VERSION);
		return;
	}
	st->now_ns = rd_u64(rd, root, "now_ns");
	rd_u64(rd, root, "saved_ns");
	st->next_serial = rd_u32(rd, root, "next_serial");
	st->drops_total = rd_u64(rd, root, "drops_total");
	st->last_drop_ns = rd_u64(rd, root, "last_drop_ns");
	*wls = member(rd, root, "workloads", EW_JSON_ARRAY, true);
	*ids = member(rd, root, "identities", EW_JSON_ARRAY, true);
}

int ew_state_read(struct ew_detector *d, struct ew_resolver *r, const char *json, size_t len,
		  uint64_t now_ns, uint64_t *shifted_ns, char *err, size_t errlen)
{
	struct reader rd = {.err = err, .errlen = errlen, .resolver = r};
	struct ew_detector_state st = {0};
	struct json_object *root, *wls = NULL, *ids = NULL;
	int ret;

	rd.subject = malloc(sizeof(*rd.subject));
	if (!rd.subject) {
		nomem(&rd);
		return rd.r;
	}
	root = parse(&rd, json, len);
	read_top(&rd, root, &st, &wls, &ids);
	/* Begun even after an error: ending it unused is what empties d. */
	if (shifted_ns)
		*shifted_ns = 0;
	rd.im = ew_detector_import_begin(d, &st, now_ns, err, errlen);
	if (rd.im) {
		uint64_t shift = ew_detector_import_shift(rd.im);

		/* Workloads first: importing an identity attaches it to its workload. */
		read_list(&rd, wls, "workloads", read_workload);
		read_list(&rd, ids, "identities", read_ident);
		ret = ew_detector_import_end(rd.im, d, !rd.r);
		if (!rd.r && !ret) {
			learn_pods(&rd);
			if (shifted_ns)
				*shifted_ns = shift;
		}
	} else {
		ret = -ENOMEM;
		nomem(&rd);
	}
	json_object_put(root);
	for (int k = 0; k < W__COUNT; k++)
		free(rd.v[k]);
	free(rd.ep);
	free(rd.subject);
	free(rd.pods);
	return rd.r ? rd.r : ret;
}
