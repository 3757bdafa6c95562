// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <json-c/json.h>

#include "exitwatch/replay/codec.h"
#include "exitwatch/util/util.h"

/*
 * Reading is strict about types (core/json_read's reader): a member that is absent takes its
 * default (recordings made before it existed lack it), but one of another JSON type, or out of
 * its field's range, is an error naming it, never read as 0 or "". Members are named as
 * "in.key" (in: the object they are in, "" at an event's top). The first error is the one
 * reported.
 */

int ew_codec_member(struct json_object *o, const char *key, enum ew_json_type type,
		    struct json_object **ret, char *err, size_t errlen)
{
	struct ew_json_rd rd = {.err = err, .errlen = errlen};

	*ret = ew_json_rd_member(&rd, o, key, type, false);
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
	struct ew_json_rd rd = {.err = err, .errlen = errlen, .in = name};
	uint64_t rt;

	memset(id, 0, sizeof(*id));
	if (!ew_json_is(o, EW_JSON_OBJECT))
		return ew_json_rd_fail(&rd, -EINVAL, "member \"%s\" is not of JSON type %s", name,
				       ew_json_type_name(EW_JSON_OBJECT));
	/* A runtime this build does not know is still a cgroup. */
	rt = ew_json_rd_uint(&rd, o, "runtime", UINT64_MAX, EW_RT_CGROUP, false);
	id->cg.runtime = rt <= EW_RT_CGROUP ? (enum ew_runtime)rt : EW_RT_CGROUP;
	id->cgroup_id = ew_json_rd_uint(&rd, o, "cgroup_id", UINT64_MAX, 0, false);
	id->cg.kubernetes = ew_json_rd_bool(&rd, o, "kubernetes", false, false);
	id->has_meta = ew_json_rd_bool(&rd, o, "has_meta", false, false);
	id->meta.sandbox = ew_json_rd_bool(&rd, o, "sandbox", false, false);
	id->meta.restart_count =
		(int)ew_json_rd_int(&rd, o, "restart_count", INT_MIN, INT_MAX, -1, false);
	for (size_t i = 0; i < ARRAY_SIZE(id_strings); i++)
		ew_strlcpy((char *)id + id_strings[i].off,
			   ew_json_rd_str(&rd, o, id_strings[i].name, "", false),
			   id_strings[i].size);
	if (!rd.r && !id->key[0])
		return ew_json_rd_fail(&rd, -EINVAL, "member \"%s\" has no key", name);
	return rd.r;
}

static const char *const type_names[] = {
	[EW_EVENT_START] = "start",
	[EW_EVENT_EXIT] = "exit",
	[EW_EVENT_READY] = "ready",
	[EW_EVENT_START_FAILED] = "start_failed",
};

/* A start's cgroup and parent: a failed start has them too. */
static void start_members(struct ew_jsonw *w, const struct ew_event *ev)
{
	ew_jsonw_string_field(w, "cgroup", ev->cgroup);
	ew_jsonw_uint_field(w, "cg_level", ev->cg_level);
	ew_jsonw_uint_field(w, "ppid", ev->ppid);
}

/* hex has room for 2 * EW_STDERR_CAP + 1 bytes. */
static void tail_members(struct ew_jsonw *w, const struct ew_event *ev, char *hex)
{
	ew_hex_encode(ev->tail, ev->tail_len, hex);
	ew_jsonw_string_field(w, "tail_hex", hex);
	if (ew_tail_source_name(ev->tail_source))
		ew_jsonw_string_field(w, "tail_source", ew_tail_source_name(ev->tail_source));
}

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
		start_members(w, ev);
		ew_jsonw_bool_field(w, "reexec", ev->reexec);
		break;
	case EW_EVENT_START_FAILED:
		start_members(w, ev);
		ew_jsonw_uint_field(w, "exit_word", ev->exit_word);
		ew_jsonw_uint_field(w, "uptime_ns", ev->uptime_ns);
		/* Its runtime's error, when the agent found it: a replay reports the same. */
		if (ev->tail_source == EW_TAIL_START_ERROR)
			tail_members(w, ev, hex);
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
		tail_members(w, ev, hex);
		break;
	}
}

int ew_codec_read_event(struct json_object *o, struct ew_event *ev, char *err, size_t errlen)
{
	struct ew_json_rd rd = {.err = err, .errlen = errlen};
	const char *type = ew_json_rd_str(&rd, o, "type", "", false);
	struct json_object *k;
	int n;

	/* tail_len is cleared with the rest: it sits just before tail. */
	memset(ev, 0, offsetof(struct ew_event, tail));
	if (rd.r)
		return rd.r;
	for (size_t t = EW_EVENT_START; t < ARRAY_SIZE(type_names); t++)
		if (!strcmp(type, type_names[t]))
			ev->type = (enum ew_event_type)t;
	/* The message cleans what it quotes of a hostile recording (no line, no escape). */
	if (!ev->type)
		return ew_json_rd_fail(&rd, -EINVAL, "unknown event type '%.32s'", type);
	ev->time_ns = ew_json_rd_uint(&rd, o, "time", UINT64_MAX, 0, false);
	if (!rd.r && !ev->time_ns)
		return ew_json_rd_fail(&rd, -EINVAL, "event without a time");
	ev->cgroup_id = ew_json_rd_uint(&rd, o, "cgroup_id", UINT64_MAX, 0, false);
	ev->pid = (uint32_t)ew_json_rd_uint(&rd, o, "pid", UINT32_MAX, 0, false);
	ev->start_boot_ns = ew_json_rd_uint(&rd, o, "start_boot_ns", UINT64_MAX, 0, false);
	ew_strlcpy(ev->comm, ew_json_rd_str(&rd, o, "comm", "", false), sizeof(ev->comm));
	ev->seeded = ew_json_rd_bool(&rd, o, "seeded", false, false);
	ew_strlcpy(ev->cgroup, ew_json_rd_str(&rd, o, "cgroup", "", false), sizeof(ev->cgroup));
	ev->cg_level = (uint32_t)ew_json_rd_uint(&rd, o, "cg_level", UINT32_MAX, 0, false);
	ev->ppid = (uint32_t)ew_json_rd_uint(&rd, o, "ppid", UINT32_MAX, 0, false);
	ew_strlcpy(ev->filename, ew_json_rd_str(&rd, o, "filename", "", false),
		   sizeof(ev->filename));
	ew_strlcpy(ev->argv0, ew_json_rd_str(&rd, o, "argv0", "", false), sizeof(ev->argv0));
	ev->reexec = ew_json_rd_bool(&rd, o, "reexec", false, false);
	ev->startup_ns = ew_json_rd_uint(&rd, o, "startup_ns", UINT64_MAX, 0, false);
	ev->listener_pid = (uint32_t)ew_json_rd_uint(&rd, o, "listener_pid", UINT32_MAX, 0, false);
	ew_strlcpy(ev->listener_comm, ew_json_rd_str(&rd, o, "listener_comm", "", false),
		   sizeof(ev->listener_comm));
	ev->exit_word = (uint32_t)ew_json_rd_uint(&rd, o, "exit_word", UINT32_MAX, 0, false);
	ev->status = ew_exit_decode(ev->exit_word);
	ev->uptime_ns = ew_json_rd_uint(&rd, o, "uptime_ns", UINT64_MAX, 0, false);
	ev->oom = ew_json_rd_bool(&rd, o, "oom", false, false);
	ev->ready = ew_json_rd_bool(&rd, o, "ready", ev->type == EW_EVENT_READY, false);
	k = ew_json_rd_member(&rd, o, "killer", EW_JSON_OBJECT, false);
	if (k) {
		rd.in = "killer";
		ev->has_killer = true;
		ev->killer.pid = (uint32_t)ew_json_rd_uint(&rd, k, "pid", UINT32_MAX, 0, false);
		ev->killer.signal =
			(int)ew_json_rd_int(&rd, k, "signal", INT_MIN, INT_MAX, 0, false);
		ev->killer.cgroup_id = ew_json_rd_uint(&rd, k, "cgroup_id", UINT64_MAX, 0, false);
		ev->killer.time_ns = ew_json_rd_uint(&rd, k, "time", UINT64_MAX, 0, false);
		ew_strlcpy(ev->killer.comm, ew_json_rd_str(&rd, k, "comm", "", false),
			   sizeof(ev->killer.comm));
		ew_strlcpy(ev->killer.container, ew_json_rd_str(&rd, k, "container", "", false),
			   sizeof(ev->killer.container));
		rd.in = NULL;
	}
	ev->children.clean = ew_json_rd_uint(&rd, o, "children_clean", UINT64_MAX, 0, false);
	ev->children.failed = ew_json_rd_uint(&rd, o, "children_failed", UINT64_MAX, 0, false);
	ev->children.signaled = ew_json_rd_uint(&rd, o, "children_signaled", UINT64_MAX, 0, false);
	/* Optional: recordings made before ABI 2 have no such member. */
	ev->children.oom_killed =
		ew_json_rd_uint(&rd, o, "children_oom_killed", UINT64_MAX, 0, false);
	ev->stderr_total = ew_json_rd_uint(&rd, o, "stderr_total", UINT64_MAX, 0, false);
	n = rd.r ? 0
		 : ew_hex_decode(ew_json_rd_str(&rd, o, "tail_hex", "", false), ev->tail,
				 sizeof(ev->tail));
	if (rd.r)
		return rd.r;
	if (n < 0)
		return ew_json_rd_fail(&rd, -EINVAL,
				       "member \"tail_hex\" is not hex of at most %d bytes",
				       EW_STDERR_CAP);
	ev->tail_len = (uint32_t)n;
	/* Recordings made before tails came from runtime logs have only kernel tails. */
	if (ew_json_has(o, "tail_source")) {
		ev->tail_source =
			ew_tail_source_parse(ew_json_rd_str(&rd, o, "tail_source", "", false));
		if (rd.r)
			return rd.r;
		if (!ev->tail_source)
			return ew_json_rd_fail(&rd, -EINVAL,
					       "member \"tail_source\" is not a known source");
	} else if (n > 0) {
		ev->tail_source = EW_TAIL_KERNEL;
	}
	/* A runtime's start error belongs to a failed start, and a failed start has nothing else. */
	if (n > 0 &&
	    (ev->type == EW_EVENT_START_FAILED) != (ev->tail_source == EW_TAIL_START_ERROR))
		return ew_json_rd_fail(
			&rd, -EINVAL,
			"member \"tail_source\" is \"%s\", not for an event of type %s",
			ew_tail_source_name(ev->tail_source), type_names[ev->type]);
	return 0;
}

int ew_codec_read_end(struct json_object *o, uint64_t *time_ns, char *err, size_t errlen)
{
	struct ew_json_rd rd = {.err = err, .errlen = errlen, .in = "end"};

	*time_ns = ew_json_rd_uint(&rd, o, "time", UINT64_MAX, 0, true);
	return rd.r;
}

int ew_codec_read_drops(struct json_object *o, uint64_t *time_ns, uint64_t *total, char *err,
			size_t errlen)
{
	struct ew_json_rd rd = {.err = err, .errlen = errlen, .in = "drops"};

	*time_ns = ew_json_rd_uint(&rd, o, "time", UINT64_MAX, 0, true);
	*total = ew_json_rd_uint(&rd, o, "total", UINT64_MAX, 0, true);
	return rd.r;
}

int ew_codec_read_clock_step(struct json_object *o, uint64_t *time_ns, int64_t *step_ns, char *err,
			     size_t errlen)
{
	struct ew_json_rd rd = {.err = err, .errlen = errlen, .in = "clock_step"};

	*time_ns = ew_json_rd_uint(&rd, o, "time", UINT64_MAX, 0, true);
	/* Beyond INT64_MIN and INT64_MAX json-c reads them at the bound: refused as out of range. */
	*step_ns = ew_json_rd_int(&rd, o, "step_ns", INT64_MIN + 1, INT64_MAX - 1, 0, true);
	return rd.r;
}
