// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "exitwatch/replay/codec.h"
#include "exitwatch/util/util.h"

/*
 * Reading is strict about types: a member that is absent takes its default (recordings made
 * before it existed lack it), but one of another JSON type, or out of its field's range, is an
 * error naming it, never read as 0 or "". Members are named as "in.key" (in: the object they
 * are in, "" at an event's top). The first error is the one reported.
 */
struct rd {
	const char *in;
	char *err;
	size_t errlen;
	int r;
};

static void rd_fail(struct rd *rd, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void rd_fail(struct rd *rd, const char *key, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (rd->r)
		return;
	rd->r = -EINVAL;
	n = snprintf(rd->err, rd->errlen, "member \"%s%s%s\" ", rd->in, rd->in[0] ? "." : "", key);
	if (n < 0 || (size_t)n >= rd->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(rd->err + n, rd->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* The member of that type; NULL when absent (or after an error). */
static struct json_object *rd_member(struct rd *rd, struct json_object *o, const char *key,
				     enum ew_json_type type, bool required)
{
	struct json_object *v;
	int r;

	if (rd->r)
		return NULL;
	r = ew_json_member(o, key, type, &v);
	if (r == -EINVAL)
		rd_fail(rd, key, "is not of JSON type %s", ew_json_type_name(type));
	else if (r == -ENOENT && required)
		rd_fail(rd, key, "is missing");
	return v;
}

/* An unsigned integer up to max; JSON integers above INT64_MAX are read exactly. */
static uint64_t rd_uint(struct rd *rd, struct json_object *o, const char *key, uint64_t max,
			uint64_t dflt, bool required)
{
	struct json_object *v = rd_member(rd, o, key, EW_JSON_INT, required);
	uint64_t x;

	if (!v)
		return dflt;
	x = json_object_get_uint64(v);
	if (json_object_get_int64(v) < 0 || x > max) {
		rd_fail(rd, key, "is out of range (%s not in 0..%llu)",
			json_object_to_json_string(v), (unsigned long long)max);
		return dflt;
	}
	return x;
}

static uint64_t rd_u64(struct rd *rd, struct json_object *o, const char *key)
{
	return rd_uint(rd, o, key, UINT64_MAX, 0, false);
}

static uint32_t rd_u32(struct rd *rd, struct json_object *o, const char *key)
{
	return (uint32_t)rd_uint(rd, o, key, UINT32_MAX, 0, false);
}

static int rd_int(struct rd *rd, struct json_object *o, const char *key, int dflt)
{
	struct json_object *v = rd_member(rd, o, key, EW_JSON_INT, false);
	int64_t x;

	if (!v)
		return dflt;
	if (ew_json_int_in(v, INT_MIN, INT_MAX, &x)) {
		rd_fail(rd, key, "is out of range (%lld not in %d..%d)", (long long)x, INT_MIN,
			INT_MAX);
		return dflt;
	}
	return (int)x;
}

static bool rd_bool(struct rd *rd, struct json_object *o, const char *key, bool dflt)
{
	struct json_object *v = rd_member(rd, o, key, EW_JSON_BOOL, false);

	return v ? json_object_get_boolean(v) : dflt;
}

static const char *rd_str(struct rd *rd, struct json_object *o, const char *key)
{
	struct json_object *v = rd_member(rd, o, key, EW_JSON_STRING, false);

	return v ? json_object_get_string(v) : "";
}

int ew_codec_member(struct json_object *o, const char *key, enum ew_json_type type,
		    struct json_object **ret, char *err, size_t errlen)
{
	struct rd rd = {.in = "", .err = err, .errlen = errlen};

	*ret = rd_member(&rd, o, key, type, false);
	return rd.r;
}

/* One table drives both directions, so they cannot drift apart. */
#define ID_STR(name, member)                                      \
	{                                                         \
		name, offsetof(struct ew_identity, member),       \
			sizeof(((struct ew_identity *)0)->member) \
	}
static const struct {
	const char *name;
	size_t off, size;
} id_strings[] = {
	ID_STR("cgroup", cgroup),
	ID_STR("container_id", cg.container_id),
	ID_STR("pod_uid", cg.pod_uid),
	ID_STR("qos", cg.qos),
	ID_STR("unit", cg.unit),
	ID_STR("name", meta.name),
	ID_STR("image", meta.image),
	ID_STR("pod_name", meta.pod_name),
	ID_STR("pod_namespace", meta.pod_namespace),
	ID_STR("meta_pod_uid", meta.pod_uid),
	ID_STR("compose_project", meta.compose_project),
	ID_STR("compose_service", meta.compose_service),
	ID_STR("restart_policy", meta.restart_policy),
	ID_STR("key", key),
	ID_STR("workload", workload),
	ID_STR("display", display),
};

void ew_codec_write_identity(struct ew_jsonw *w, const struct ew_identity *id)
{
	ew_jsonw_start_object(w);
	ew_jsonw_uint_field(w, "runtime", id->cg.runtime);
	ew_jsonw_uint_field(w, "cgroup_id", id->cgroup_id);
	ew_jsonw_bool_field(w, "kubernetes", id->cg.kubernetes);
	ew_jsonw_bool_field(w, "has_meta", id->has_meta);
	ew_jsonw_bool_field(w, "sandbox", id->meta.sandbox);
	ew_jsonw_int_field(w, "restart_count", id->meta.restart_count);
	for (size_t i = 0; i < ARRAY_SIZE(id_strings); i++)
		ew_jsonw_string_field(w, id_strings[i].name, (const char *)id + id_strings[i].off);
	ew_jsonw_end_object(w);
}

int ew_codec_read_identity(struct json_object *o, const char *name, struct ew_identity *id,
			   char *err, size_t errlen)
{
	struct rd rd = {.in = name, .err = err, .errlen = errlen};
	uint64_t rt;

	memset(id, 0, sizeof(*id));
	if (!ew_json_is(o, EW_JSON_OBJECT)) {
		snprintf(err, errlen, "member \"%s\" is not of JSON type %s", name,
			 ew_json_type_name(EW_JSON_OBJECT));
		return -EINVAL;
	}
	/* A runtime this build does not know is still a cgroup. */
	rt = rd_uint(&rd, o, "runtime", UINT64_MAX, EW_RT_CGROUP, false);
	id->cg.runtime = rt <= EW_RT_CGROUP ? (enum ew_runtime)rt : EW_RT_CGROUP;
	id->cgroup_id = rd_u64(&rd, o, "cgroup_id");
	id->cg.kubernetes = rd_bool(&rd, o, "kubernetes", false);
	id->has_meta = rd_bool(&rd, o, "has_meta", false);
	id->meta.sandbox = rd_bool(&rd, o, "sandbox", false);
	id->meta.restart_count = rd_int(&rd, o, "restart_count", -1);
	for (size_t i = 0; i < ARRAY_SIZE(id_strings); i++)
		ew_strlcpy((char *)id + id_strings[i].off, rd_str(&rd, o, id_strings[i].name),
			   id_strings[i].size);
	if (!rd.r && !id->key[0]) {
		snprintf(err, errlen, "member \"%s\" has no key", name);
		return -EINVAL;
	}
	return rd.r;
}

static const char *const type_names[] = {
	[EW_EVENT_START] = "start", [EW_EVENT_EXIT] = "exit", [EW_EVENT_READY] = "ready"};

void ew_codec_write_event_members(struct ew_jsonw *w, const struct ew_event *ev)
{
	char hex[2 * EW_STDERR_CAP + 1];

	ew_jsonw_string_field(w, "type", type_names[ev->type]);
	ew_jsonw_uint_field(w, "time", ev->time_ns);
	ew_jsonw_uint_field(w, "cgroup_id", ev->cgroup_id);
	ew_jsonw_uint_field(w, "pid", ev->pid);
	ew_jsonw_uint_field(w, "start_boot_ns", ev->start_boot_ns);
	ew_jsonw_string_field(w, "comm", ev->comm);
	ew_jsonw_bool_field(w, "seeded", ev->seeded);
	/* Every type: exit and ready records show what the start recorded of the process. */
	ew_jsonw_string_field(w, "filename", ev->filename);
	ew_jsonw_string_field(w, "argv0", ev->argv0);
	switch (ev->type) {
	case EW_EVENT_START:
		ew_jsonw_string_field(w, "cgroup", ev->cgroup);
		ew_jsonw_uint_field(w, "cg_level", ev->cg_level);
		ew_jsonw_uint_field(w, "ppid", ev->ppid);
		ew_jsonw_bool_field(w, "reexec", ev->reexec);
		break;
	case EW_EVENT_READY:
		ew_jsonw_uint_field(w, "startup_ns", ev->startup_ns);
		ew_jsonw_uint_field(w, "listener_pid", ev->listener_pid);
		ew_jsonw_string_field(w, "listener_comm", ev->listener_comm);
		break;
	case EW_EVENT_EXIT:
		ew_jsonw_uint_field(w, "exit_word", ev->exit_word);
		ew_jsonw_uint_field(w, "uptime_ns", ev->uptime_ns);
		ew_jsonw_bool_field(w, "oom", ev->oom);
		ew_jsonw_bool_field(w, "ready", ev->ready);
		ew_jsonw_uint_field(w, "startup_ns", ev->startup_ns);
		if (ev->has_killer) {
			ew_jsonw_name(w, "killer");
			ew_jsonw_start_object(w);
			ew_jsonw_uint_field(w, "pid", ev->killer.pid);
			ew_jsonw_int_field(w, "signal", ev->killer.signal);
			ew_jsonw_uint_field(w, "cgroup_id", ev->killer.cgroup_id);
			ew_jsonw_uint_field(w, "time", ev->killer.time_ns);
			ew_jsonw_string_field(w, "comm", ev->killer.comm);
			ew_jsonw_string_field(w, "container", ev->killer.container);
			ew_jsonw_end_object(w);
		}
		ew_jsonw_uint_field(w, "children_clean", ev->children.clean);
		ew_jsonw_uint_field(w, "children_failed", ev->children.failed);
		ew_jsonw_uint_field(w, "children_signaled", ev->children.signaled);
		ew_jsonw_uint_field(w, "children_oom_killed", ev->children.oom_killed);
		ew_jsonw_uint_field(w, "stderr_total", ev->stderr_total);
		ew_hex_encode(ev->tail, ev->tail_len, hex);
		ew_jsonw_string_field(w, "tail_hex", hex);
		if (ew_tail_source_name(ev->tail_source))
			ew_jsonw_string_field(w, "tail_source",
					      ew_tail_source_name(ev->tail_source));
		break;
	}
}

/*
 * A member quoted back in a message, at most size - 1 bytes: control bytes become '?', so that a
 * hostile recording cannot start a new line or a terminal escape on whoever reads the message.
 */
static void echo_clean(char *out, size_t size, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < size; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[i] = '\0';
}

int ew_codec_read_event(struct json_object *o, struct ew_event *ev, char *err, size_t errlen)
{
	struct rd rd = {.in = "", .err = err, .errlen = errlen};
	const char *type = rd_str(&rd, o, "type");
	struct json_object *k;
	char echo[33];
	int n;

	/* tail_len is cleared with the rest: it sits just before tail. */
	memset(ev, 0, offsetof(struct ew_event, tail));
	if (rd.r)
		return rd.r;
	for (size_t t = EW_EVENT_START; t < ARRAY_SIZE(type_names); t++)
		if (!strcmp(type, type_names[t]))
			ev->type = (enum ew_event_type)t;
	if (!ev->type) {
		echo_clean(echo, sizeof(echo), type);
		snprintf(err, errlen, "unknown event type '%s'", echo);
		return -EINVAL;
	}
	ev->time_ns = rd_u64(&rd, o, "time");
	if (!rd.r && !ev->time_ns) {
		snprintf(err, errlen, "event without a time");
		return -EINVAL;
	}
	ev->cgroup_id = rd_u64(&rd, o, "cgroup_id");
	ev->pid = rd_u32(&rd, o, "pid");
	ev->start_boot_ns = rd_u64(&rd, o, "start_boot_ns");
	ew_strlcpy(ev->comm, rd_str(&rd, o, "comm"), sizeof(ev->comm));
	ev->seeded = rd_bool(&rd, o, "seeded", false);
	ew_strlcpy(ev->cgroup, rd_str(&rd, o, "cgroup"), sizeof(ev->cgroup));
	ev->cg_level = rd_u32(&rd, o, "cg_level");
	ev->ppid = rd_u32(&rd, o, "ppid");
	ew_strlcpy(ev->filename, rd_str(&rd, o, "filename"), sizeof(ev->filename));
	ew_strlcpy(ev->argv0, rd_str(&rd, o, "argv0"), sizeof(ev->argv0));
	ev->reexec = rd_bool(&rd, o, "reexec", false);
	ev->startup_ns = rd_u64(&rd, o, "startup_ns");
	ev->listener_pid = rd_u32(&rd, o, "listener_pid");
	ew_strlcpy(ev->listener_comm, rd_str(&rd, o, "listener_comm"), sizeof(ev->listener_comm));
	ev->exit_word = rd_u32(&rd, o, "exit_word");
	ev->status = ew_exit_decode(ev->exit_word);
	ev->uptime_ns = rd_u64(&rd, o, "uptime_ns");
	ev->oom = rd_bool(&rd, o, "oom", false);
	ev->ready = rd_bool(&rd, o, "ready", ev->type == EW_EVENT_READY);
	k = rd_member(&rd, o, "killer", EW_JSON_OBJECT, false);
	if (k) {
		struct rd kr = {.in = "killer", .err = err, .errlen = errlen};

		ev->has_killer = true;
		ev->killer.pid = rd_u32(&kr, k, "pid");
		ev->killer.signal = rd_int(&kr, k, "signal", 0);
		ev->killer.cgroup_id = rd_u64(&kr, k, "cgroup_id");
		ev->killer.time_ns = rd_u64(&kr, k, "time");
		ew_strlcpy(ev->killer.comm, rd_str(&kr, k, "comm"), sizeof(ev->killer.comm));
		ew_strlcpy(ev->killer.container, rd_str(&kr, k, "container"),
			   sizeof(ev->killer.container));
		rd.r = kr.r;
	}
	ev->children.clean = rd_u64(&rd, o, "children_clean");
	ev->children.failed = rd_u64(&rd, o, "children_failed");
	ev->children.signaled = rd_u64(&rd, o, "children_signaled");
	/* Optional: recordings made before ABI 2 have no such member. */
	ev->children.oom_killed = rd_u64(&rd, o, "children_oom_killed");
	ev->stderr_total = rd_u64(&rd, o, "stderr_total");
	n = rd.r ? 0 : ew_hex_decode(rd_str(&rd, o, "tail_hex"), ev->tail, sizeof(ev->tail));
	if (rd.r)
		return rd.r;
	if (n < 0) {
		snprintf(err, errlen, "member \"tail_hex\" is not hex of at most %d bytes",
			 EW_STDERR_CAP);
		return -EINVAL;
	}
	ev->tail_len = (uint32_t)n;
	/* Recordings made before tails came from runtime logs have only kernel tails. */
	if (ew_json_has(o, "tail_source")) {
		ev->tail_source = ew_tail_source_parse(rd_str(&rd, o, "tail_source"));
		if (rd.r)
			return rd.r;
		if (!ev->tail_source) {
			snprintf(err, errlen, "member \"tail_source\" is not a known source");
			return -EINVAL;
		}
	} else if (n > 0) {
		ev->tail_source = EW_TAIL_KERNEL;
	}
	return 0;
}

int ew_codec_read_end(struct json_object *o, uint64_t *time_ns, char *err, size_t errlen)
{
	struct rd rd = {.in = "end", .err = err, .errlen = errlen};

	*time_ns = rd_uint(&rd, o, "time", UINT64_MAX, 0, true);
	return rd.r;
}

int ew_codec_read_drops(struct json_object *o, uint64_t *time_ns, uint64_t *total, char *err,
			size_t errlen)
{
	struct rd rd = {.in = "drops", .err = err, .errlen = errlen};

	*time_ns = rd_uint(&rd, o, "time", UINT64_MAX, 0, true);
	*total = rd_uint(&rd, o, "total", UINT64_MAX, 0, true);
	return rd.r;
}
