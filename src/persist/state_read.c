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

/*
 * core/json_read's strict reader (sticky: the first problem is the error, and every read after
 * it is a no-op), with the scratch of this file's reading.
 */
struct reader {
	struct ew_json_rd jr; /* every member is required, unless said otherwise */
	struct ew_detector_import *im;

	/* Scratch for one workload or identity at a time: the import copies what it keeps. */
	struct ew_detector_sample *v[W__COUNT];
	size_t cap[W__COUNT];
	struct ew_detector_episode *ep;
	size_t epcap;
	struct ew_identity *subject;
	char tail[EW_STDERR_CAP];
	struct ew_killer_info killer;

	char *boot_id;		      /* may be NULL: the file's boot id goes here */
	struct ew_resolver *resolver; /* may be NULL: pods are checked, not kept */
	struct pod_ref *pods;
	size_t npods, podcap;
};

static void nomem(struct reader *rd)
{
	ew_json_rd_fail(&rd->jr, -ENOMEM, "out of memory");
}

/* The import said why (in err): its error is the reader's. */
static void imported(struct reader *rd, int r)
{
	if (r && !rd->jr.r)
		rd->jr.r = r;
}

/* A time or a count of the detector's: a non-negative 64-bit JSON integer. */
static uint64_t req_u64(struct reader *rd, struct json_object *o, const char *key)
{
	return (uint64_t)ew_json_rd_int(&rd->jr, o, key, 0, INT64_MAX, 0, true);
}

static uint32_t req_u32(struct reader *rd, struct json_object *o, const char *key)
{
	return (uint32_t)ew_json_rd_int(&rd->jr, o, key, 0, UINT32_MAX, 0, true);
}

/* ---- scopes: windows and episodes ---- */

/* [t, code, signal, flags] after the first `skip` elements of a sample array. */
static void read_sample(struct reader *rd, struct json_object *e, size_t skip,
			struct ew_detector_sample *x)
{
	x->t = (uint64_t)ew_json_rd_int_value(&rd->jr, json_object_array_get_idx(e, 0),
					      "a sample's time", 0, INT64_MAX);
	x->code = (int16_t)ew_json_rd_int_value(&rd->jr, json_object_array_get_idx(e, skip + 1),
						"an exit code", INT16_MIN, INT16_MAX);
	x->signal = (uint8_t)ew_json_rd_int_value(&rd->jr, json_object_array_get_idx(e, skip + 2),
						  "a signal", 0, UINT8_MAX);
	x->flags = (uint8_t)ew_json_rd_int_value(&rd->jr, json_object_array_get_idx(e, skip + 3),
						 "sample flags", 0, UINT8_MAX);
}

static void read_window(struct reader *rd, struct json_object *so, const char *name, int k,
			struct ew_detector_samples *ret)
{
	struct json_object *arr = ew_json_rd_member(&rd->jr, so, name, EW_JSON_ARRAY, true);
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
	for (size_t i = 0; i < n && !rd->jr.r; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		struct ew_detector_sample *x = &rd->v[k][i];

		if (!ew_json_is(e, EW_JSON_ARRAY) || json_object_array_length(e) != 5) {
			ew_json_rd_fail(&rd->jr, -EINVAL,
					"window \"%s\" holds a sample that is not "
					"[t, ident, code, signal, flags]",
					name);
			return;
		}
		read_sample(rd, e, 1, x);
		x->ident = (uint32_t)ew_json_rd_int_value(&rd->jr, json_object_array_get_idx(e, 1),
							  "a sample's identity", 0, UINT32_MAX);
	}
	ret->v = rd->v[k];
	ret->n = n;
}

static void read_episode(struct reader *rd, struct json_object *e, struct ew_detector_episode *ep)
{
	const char *name = ew_json_rd_str(&rd->jr, e, "rule", NULL, true);
	int rule;

	ep->id = ew_json_rd_str(&rd->jr, e, "id", NULL, true);
	ep->fired_ns = req_u64(rd, e, "fired_ns");
	ep->last_ns = req_u64(rd, e, "last_ns");
	ep->total = req_u32(rd, e, "total");
	ep->last_ident = req_u32(rd, e, "last_ident");
	if (rd->jr.r)
		return;
	rule = ew_rule_parse(name);
	if (rule < 0)
		ew_json_rd_fail(&rd->jr, -EINVAL, "an episode of unknown rule '%.32s'", name);
	ep->rule = rule < 0 ? EW_RULE__COUNT : (enum ew_rule)rule;
}

static void read_scope(struct reader *rd, struct json_object *o, struct ew_detector_scope *ret)
{
	struct json_object *so = ew_json_rd_member(&rd->jr, o, "s", EW_JSON_OBJECT, true), *eps;
	size_t n;

	read_window(rd, so, "exits", W_EXITS, &ret->exits);
	read_window(rd, so, "restarts", W_RESTARTS, &ret->restarts);
	read_window(rd, so, "outcomes", W_OUTCOMES, &ret->outcomes);
	eps = ew_json_rd_member(&rd->jr, so, "episodes", EW_JSON_ARRAY, true);
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
	for (size_t i = 0; i < n && !rd->jr.r; i++) {
		struct json_object *e = json_object_array_get_idx(eps, i);

		if (!ew_json_is(e, EW_JSON_OBJECT))
			ew_json_rd_fail(&rd->jr, -EINVAL, "an episode is not an object");
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
	struct json_object *so = ew_json_rd_member(&rd->jr, o, name, EW_JSON_OBJECT, false);
	char why[160];

	if (!so)
		return NULL;
	if (ew_codec_read_identity(so, name, rd->subject, why, sizeof(why))) {
		ew_json_rd_fail(&rd->jr, -EINVAL, "member \"%s\" is not an identity: %s", name,
				why);
		return NULL;
	}
	return rd->subject;
}

static void read_last_exit(struct reader *rd, struct json_object *o, struct ew_detector_ident *id)
{
	struct json_object *le = ew_json_rd_member(&rd->jr, o, "last_exit", EW_JSON_ARRAY, false);

	if (!le)
		return;
	if (json_object_array_length(le) != 4) {
		ew_json_rd_fail(&rd->jr, -EINVAL,
				"member \"last_exit\" is not [t, code, signal, flags]");
		return;
	}
	read_sample(rd, le, 0, &id->last_exit);
	id->has_last_exit = !rd->jr.r;
}

/*
 * A name (a task's comm, a container's key) into len bytes with its NUL, cut at a character
 * if longer. Not refused: a name of invalid UTF-8 (a comm is any 15 bytes a process chose)
 * comes back from the writer as U+FFFD, three bytes each, and the agent's own file must read.
 */
static void read_name(struct reader *rd, struct json_object *o, const char *key, char *out,
		      size_t len)
{
	const char *s = ew_json_rd_str(&rd->jr, o, key, "", true);
	size_t n = strlen(s);

	if (n >= len) {
		n = len - 1;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80) /* s[n] continues a character */
			n--;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

/* Who ended the last exit, when it was another process's signal: optional (files before it). */
static void read_killer(struct reader *rd, struct json_object *o, struct ew_detector_ident *id)
{
	struct json_object *k = ew_json_rd_member(&rd->jr, o, "last_killer", EW_JSON_OBJECT, false);
	struct ew_killer_info *ki = &rd->killer;

	if (!k)
		return;
	*ki = (struct ew_killer_info){0};
	rd->jr.in = "last_killer";
	ki->pid = (uint32_t)ew_json_rd_uint(&rd->jr, k, "pid", UINT32_MAX, 0, true);
	ki->signal = (int)ew_json_rd_int(&rd->jr, k, "signal", 1, 64, 0, true);
	ki->cgroup_id = ew_json_rd_uint(&rd->jr, k, "cgroup_id", UINT64_MAX, 0, true);
	read_name(rd, k, "comm", ki->comm, sizeof(ki->comm));
	read_name(rd, k, "container", ki->container, sizeof(ki->container));
	rd->jr.in = NULL;
	if (!rd->jr.r)
		id->killer = ki;
}

static void read_tail(struct reader *rd, struct json_object *o, struct ew_detector_ident *id)
{
	const char *hex = ew_json_rd_str(&rd->jr, o, "tail_hex", NULL, false);
	int n;

	if (!hex)
		return;
	n = ew_hex_decode(hex, rd->tail, sizeof(rd->tail));
	if (n < 0) {
		ew_json_rd_fail(&rd->jr, -EINVAL,
				"member \"tail_hex\" is not hex of at most %d bytes",
				EW_STDERR_CAP);
		return;
	}
	id->tail = rd->tail;
	id->tail_len = (uint32_t)n;
	id->tail_start_error =
		n > 0 && ew_json_rd_bool(&rd->jr, o, "tail_start_error", false, false);
}

/* crash_loop's streak: optional, so that a state file written before the rule still loads. */
static void read_streak(struct reader *rd, struct json_object *o, struct ew_detector_ident *id)
{
	struct json_object *c = ew_json_rd_member(&rd->jr, o, "crash_loop", EW_JSON_OBJECT, false);

	if (!c)
		return;
	id->fail_streak = (uint32_t)ew_json_rd_int(&rd->jr, c, "streak", 1, UINT32_MAX, 0, true);
	id->streak_first_ns = req_u64(rd, c, "first_ns");
	id->streak_code =
		(int16_t)ew_json_rd_int(&rd->jr, c, "code", INT16_MIN, INT16_MAX, 0, true);
	id->streak_signal = (uint8_t)ew_json_rd_int(&rd->jr, c, "signal", 0, UINT8_MAX, 0, true);
	id->line_repeats = req_u32(rd, c, "line_repeats");
	id->line_hash = req_u64(rd, c, "line_hash");
}

/* The pod of the identity keyed key (state_write.c's write_pod()): optional. */
static void read_pod(struct reader *rd, struct json_object *o, const char *key)
{
	struct json_object *po = ew_json_rd_member(&rd->jr, o, "pod", EW_JSON_ARRAY, false);
	char uid[EW_UID_LEN], container[EW_NAME_LEN];
	const char *v[3];

	if (!po)
		return;
	if (json_object_array_length(po) != 3) {
		ew_json_rd_fail(&rd->jr, -EINVAL, "member \"pod\" is not [namespace, name, image]");
		return;
	}
	for (size_t i = 0; i < 3; i++) {
		struct json_object *e = json_object_array_get_idx(po, i);

		if (!ew_json_is(e, EW_JSON_STRING)) {
			ew_json_rd_fail(&rd->jr, -EINVAL,
					"member \"pod\" is not [namespace, name, image]");
			return;
		}
		v[i] = json_object_get_string(e);
		if (strlen(v[i]) >= EW_NAME_LEN) {
			ew_json_rd_fail(&rd->jr, -EINVAL,
					"member \"pod\" of identity \"%.128s\" has a name of %d "
					"bytes or more",
					key, EW_NAME_LEN);
			return;
		}
	}
	if (!ew_identity_key_pod(key, uid, container)) {
		ew_json_rd_fail(
			&rd->jr, -EINVAL,
			"member \"pod\" on identity \"%.128s\", not a Kubernetes container's", key);
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

	id.key = ew_json_rd_str(&rd->jr, o, "key", NULL, true);
	id.workload = ew_json_rd_str(&rd->jr, o, "workload", NULL, true);
	id.serial = req_u32(rd, o, "serial");
	id.restarts = req_u32(rd, o, "restarts");
	id.exited_before = ew_json_rd_bool(&rd->jr, o, "exited_before", false, true);
	id.looping = ew_json_rd_bool(&rd->jr, o, "looping", false, true);
	read_streak(rd, o, &id);
	id.running = ew_json_rd_bool(&rd->jr, o, "running", false, true);
	id.seeded = ew_json_rd_bool(&rd->jr, o, "seeded", false, true);
	id.ready = ew_json_rd_bool(&rd->jr, o, "ready", false, true);
	id.outcome_done = ew_json_rd_bool(&rd->jr, o, "outcome_done", false, true);
	id.pid = req_u32(rd, o, "pid");
	id.start_boot_ns = req_u64(rd, o, "start_boot_ns");
	id.start_ns = req_u64(rd, o, "start_ns");
	id.last_active_ns = req_u64(rd, o, "last_active_ns");
	read_last_exit(rd, o, &id);
	read_killer(rd, o, &id);
	read_tail(rd, o, &id);
	id.subject = read_subject(rd, o, "subject");
	if (!id.subject)
		read_pod(rd, o, id.key);
	read_scope(rd, o, &id.s);
	if (!rd->jr.r)
		imported(rd, ew_detector_import_ident(rd->im, &id));
}

static void read_workload(struct reader *rd, struct json_object *o)
{
	struct ew_detector_workload wl = {.key = ew_json_rd_str(&rd->jr, o, "key", NULL, true)};

	wl.last_subject = read_subject(rd, o, "last_subject");
	read_scope(rd, o, &wl.s);
	if (!rd->jr.r)
		imported(rd, ew_detector_import_workload(rd->im, &wl));
}

static void read_list(struct reader *rd, struct json_object *arr, const char *what,
		      void (*one)(struct reader *, struct json_object *))
{
	size_t n = arr ? json_object_array_length(arr) : 0;

	for (size_t i = 0; i < n && !rd->jr.r; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);

		if (!ew_json_is(o, EW_JSON_OBJECT))
			ew_json_rd_fail(&rd->jr, -EINVAL, "an entry of \"%s\" is not an object",
					what);
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
		ew_json_rd_fail(&rd->jr, -EINVAL, "not valid JSON (it ends too early)");
		break;
	case EW_JSON_PARSE_INVALID:
		ew_json_rd_fail(&rd->jr, -EINVAL, "not valid JSON (%s)", st.desc);
		break;
	case EW_JSON_PARSE_TRAILING:
		ew_json_rd_fail(&rd->jr, -EINVAL, "not valid JSON (data after the object)");
		break;
	case EW_JSON_PARSE_TOO_LARGE:
		ew_json_rd_fail(&rd->jr, -EINVAL, "a state file of %zu bytes is too large", len);
		break;
	default:
		nomem(rd);
		break;
	}
	return NULL;
}

/*
 * "boot_id", optional (a file of an older release has none): a UUID as the kernel prints it, or
 * the file is refused, as for any member of the wrong shape.
 */
static void read_boot_id(struct reader *rd, struct json_object *root)
{
	struct json_object *v;
	const char *s;
	size_t n;

	if (ew_json_member(root, "boot_id", EW_JSON_STRING, &v) == -ENOENT)
		return;
	s = v ? json_object_get_string(v) : "";
	n = strlen(s);
	if (!v || n != EW_BOOT_ID_LEN - 1 || strspn(s, "0123456789abcdef-") != n) {
		ew_json_rd_fail(&rd->jr, -EINVAL, "member \"boot_id\" is not a boot id");
		return;
	}
	if (rd->boot_id)
		memcpy(rd->boot_id, s, n + 1);
}

/* The detector's own members, and where its workloads and identities are. */
static void read_top(struct reader *rd, struct json_object *root, struct ew_detector_state *st,
		     struct json_object **wls, struct json_object **ids)
{
	struct json_object *v;
	int64_t version;

	if (rd->jr.r)
		return;
	if (ew_json_member(root, "exitwatch_state", EW_JSON_INT, &v)) {
		ew_json_rd_fail(&rd->jr, -EINVAL, "not an exitwatch state file of version %d",
				EW_STATE_VERSION);
		return;
	}
	/* A rollback reads a newer release's file: say so, not "not a state file". */
	if (ew_json_int_in(v, EW_STATE_VERSION, EW_STATE_VERSION, &version)) {
		ew_json_rd_fail(
			&rd->jr, -EINVAL,
			"written by another exitwatch release (state version %lld; this one "
			"reads version %d)",
			(long long)json_object_get_int64(v), EW_STATE_VERSION);
		return;
	}
	read_boot_id(rd, root);
	st->now_ns = req_u64(rd, root, "now_ns");
	req_u64(rd, root, "saved_ns");
	st->next_serial = req_u32(rd, root, "next_serial");
	st->drops_total = req_u64(rd, root, "drops_total");
	st->last_drop_ns = req_u64(rd, root, "last_drop_ns");
	*wls = ew_json_rd_member(&rd->jr, root, "workloads", EW_JSON_ARRAY, true);
	*ids = ew_json_rd_member(&rd->jr, root, "identities", EW_JSON_ARRAY, true);
}

int ew_state_read(struct ew_detector *d, struct ew_resolver *r, const char *json, size_t len,
		  uint64_t now_ns, uint64_t *shifted_ns, char *err, size_t errlen)
{
	return ew_state_read_boot(d, r, json, len, now_ns, shifted_ns, NULL, err, errlen);
}

int ew_state_read_boot(struct ew_detector *d, struct ew_resolver *r, const char *json, size_t len,
		       uint64_t now_ns, uint64_t *shifted_ns, char boot_id[EW_BOOT_ID_LEN],
		       char *err, size_t errlen)
{
	struct reader rd = {
		.jr = {.err = err, .errlen = errlen}, .resolver = r, .boot_id = boot_id};
	struct ew_detector_state st = {0};
	struct json_object *root, *wls = NULL, *ids = NULL;
	int ret;

	if (boot_id)
		boot_id[0] = '\0';
	rd.subject = malloc(sizeof(*rd.subject));
	if (!rd.subject) {
		nomem(&rd);
		return rd.jr.r;
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
		ret = ew_detector_import_end(rd.im, d, !rd.jr.r);
		if (!rd.jr.r && !ret) {
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
	return rd.jr.r ? rd.jr.r : ret;
}
