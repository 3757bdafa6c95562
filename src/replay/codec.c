// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "exitwatch/replay/codec.h"
#include "exitwatch/util/util.h"

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

int ew_codec_read_identity(struct json_object *o, struct ew_identity *id)
{
	uint64_t rt;

	memset(id, 0, sizeof(*id));
	if (!ew_json_is(o, EW_JSON_OBJECT))
		return -EINVAL;
	rt = ew_json_u64(o, "runtime", EW_RT_CGROUP);
	id->cg.runtime = rt <= EW_RT_CGROUP ? (enum ew_runtime)rt : EW_RT_CGROUP;
	id->cgroup_id = ew_json_u64(o, "cgroup_id", 0);
	id->cg.kubernetes = ew_json_bool(o, "kubernetes", false);
	id->has_meta = ew_json_bool(o, "has_meta", false);
	id->meta.sandbox = ew_json_bool(o, "sandbox", false);
	id->meta.restart_count = (int)ew_json_i64(o, "restart_count", -1);
	for (size_t i = 0; i < ARRAY_SIZE(id_strings); i++)
		ew_strlcpy((char *)id + id_strings[i].off, ew_json_str(o, id_strings[i].name, ""),
			   id_strings[i].size);
	return id->key[0] ? 0 : -EINVAL;
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
	const char *type = ew_json_str(o, "type", "");
	struct json_object *k;
	char echo[33];
	int n;

	/* tail_len is cleared with the rest: it sits just before tail. */
	memset(ev, 0, offsetof(struct ew_event, tail));
	for (size_t t = EW_EVENT_START; t < ARRAY_SIZE(type_names); t++)
		if (!strcmp(type, type_names[t]))
			ev->type = (enum ew_event_type)t;
	if (!ev->type) {
		echo_clean(echo, sizeof(echo), type);
		snprintf(err, errlen, "unknown event type '%s'", echo);
		return -EINVAL;
	}
	ev->time_ns = ew_json_u64(o, "time", 0);
	if (!ev->time_ns) {
		snprintf(err, errlen, "event without a time");
		return -EINVAL;
	}
	ev->cgroup_id = ew_json_u64(o, "cgroup_id", 0);
	ev->pid = (uint32_t)ew_json_u64(o, "pid", 0);
	ev->start_boot_ns = ew_json_u64(o, "start_boot_ns", 0);
	ew_strlcpy(ev->comm, ew_json_str(o, "comm", ""), sizeof(ev->comm));
	ev->seeded = ew_json_bool(o, "seeded", false);
	ew_strlcpy(ev->cgroup, ew_json_str(o, "cgroup", ""), sizeof(ev->cgroup));
	ev->cg_level = (uint32_t)ew_json_u64(o, "cg_level", 0);
	ev->ppid = (uint32_t)ew_json_u64(o, "ppid", 0);
	ew_strlcpy(ev->filename, ew_json_str(o, "filename", ""), sizeof(ev->filename));
	ew_strlcpy(ev->argv0, ew_json_str(o, "argv0", ""), sizeof(ev->argv0));
	ev->reexec = ew_json_bool(o, "reexec", false);
	ev->startup_ns = ew_json_u64(o, "startup_ns", 0);
	ev->listener_pid = (uint32_t)ew_json_u64(o, "listener_pid", 0);
	ew_strlcpy(ev->listener_comm, ew_json_str(o, "listener_comm", ""),
		   sizeof(ev->listener_comm));
	ev->exit_word = (uint32_t)ew_json_u64(o, "exit_word", 0);
	ev->status = ew_exit_decode(ev->exit_word);
	ev->uptime_ns = ew_json_u64(o, "uptime_ns", 0);
	ev->oom = ew_json_bool(o, "oom", false);
	ev->ready = ew_json_bool(o, "ready", ev->type == EW_EVENT_READY);
	k = ew_json_get(o, "killer", EW_JSON_OBJECT);
	if (k) {
		ev->has_killer = true;
		ev->killer.pid = (uint32_t)ew_json_u64(k, "pid", 0);
		ev->killer.signal = (int)ew_json_i64(k, "signal", 0);
		ev->killer.cgroup_id = ew_json_u64(k, "cgroup_id", 0);
		ev->killer.time_ns = ew_json_u64(k, "time", 0);
		ew_strlcpy(ev->killer.comm, ew_json_str(k, "comm", ""), sizeof(ev->killer.comm));
		ew_strlcpy(ev->killer.container, ew_json_str(k, "container", ""),
			   sizeof(ev->killer.container));
	}
	ev->children.clean = ew_json_u64(o, "children_clean", 0);
	ev->children.failed = ew_json_u64(o, "children_failed", 0);
	ev->children.signaled = ew_json_u64(o, "children_signaled", 0);
	/* Optional: recordings made before ABI 2 have no such member. */
	ev->children.oom_killed = ew_json_u64(o, "children_oom_killed", 0);
	ev->stderr_total = ew_json_u64(o, "stderr_total", 0);
	n = ew_hex_decode(ew_json_str(o, "tail_hex", ""), ev->tail, sizeof(ev->tail));
	if (n < 0) {
		snprintf(err, errlen, "member tail_hex is not hex of at most %d bytes",
			 EW_STDERR_CAP);
		return -EINVAL;
	}
	ev->tail_len = (uint32_t)n;
	/* Recordings made before tails came from runtime logs have only kernel tails. */
	if (ew_json_has(o, "tail_source")) {
		ev->tail_source = ew_tail_source_parse(ew_json_str(o, "tail_source", ""));
		if (!ev->tail_source) {
			snprintf(err, errlen, "member tail_source is not a known source");
			return -EINVAL;
		}
	} else if (n > 0) {
		ev->tail_source = EW_TAIL_KERNEL;
	}
	return 0;
}
