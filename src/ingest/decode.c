// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "exitwatch/ingest/decode.h"
#include "exitwatch/util/util.h"

void ew_cgroup_join(const char names[][EW_CG_NAME_LEN], uint32_t nnames, uint32_t level, char *out,
		    size_t outlen)
{
	uint32_t n = level < nnames ? level : nnames;
	size_t pos = 0;

	if (!outlen)
		return;
	out[0] = '\0';
	if (level == 0) {
		ew_strlcpy(out, "/", outlen);
		return;
	}
	if (level > n)
		pos = ew_strlcpy(out, "...", outlen);
	/* names[0] is the leaf: write from the outermost captured ancestor down. */
	for (uint32_t i = n; i-- > 0;) {
		size_t len = strnlen(names[i], EW_CG_NAME_LEN);

		if (pos + 1 + len + 1 > outlen)
			break;
		out[pos++] = '/';
		memcpy(out + pos, names[i], len);
		pos += len;
		out[pos] = '\0';
	}
}

uint32_t ew_tail_unroll(const char *ring, uint64_t total, uint32_t max, char *out)
{
	uint64_t n = total;
	uint64_t start;
	uint32_t i;

	if (max > EW_STDERR_CAP)
		max = EW_STDERR_CAP;
	if (n > max)
		n = max;
	start = total - n;
	for (i = 0; i < n; i++)
		out[i] = ring[(start + i) & (EW_STDERR_CAP - 1)];
	return (uint32_t)n;
}

static uint64_t to_wall(const struct ew_decode_ctx *ctx, uint64_t boot_ns)
{
	return (uint64_t)((int64_t)boot_ns + ctx->boot_to_wall_ns);
}

static void decode_exec(const struct ew_exec_event *e, struct ew_event *ev)
{
	ev->type = EW_EVENT_START;
	ev->reexec = e->hdr.flags & EW_EXEC_REEXEC;
	ev->ppid = e->ppid;
	ev->cg_level = e->cg_level;
	ev->start_boot_ns = e->start_ns;
	ew_strlcpy_n(ev->comm, sizeof(ev->comm), e->comm, sizeof(e->comm));
	ew_strlcpy_n(ev->filename, sizeof(ev->filename), e->filename, sizeof(e->filename));
	ew_strlcpy_n(ev->argv0, sizeof(ev->argv0), e->argv0, sizeof(e->argv0));
	ew_cgroup_join(e->cg_names, EW_CG_LEVELS, e->cg_level, ev->cgroup, sizeof(ev->cgroup));
}

static void decode_start_failed(const struct ew_start_failed_event *e, struct ew_event *ev)
{
	decode_exec(&e->ex, ev);
	ev->type = EW_EVENT_START_FAILED;
	ev->reexec = false;
	ev->exit_word = e->exit_word;
	ev->status = ew_exit_decode(e->exit_word);
	ev->uptime_ns = e->uptime_ns;
}

static void decode_exit(const struct ew_exit_event *e, const char *ring,
			const struct ew_decode_ctx *ctx, struct ew_event *ev)
{
	uint8_t fl = e->hdr.flags;
	uint64_t exec_boot = e->hdr.ts_ns - e->uptime_ns;

	ev->type = EW_EVENT_EXIT;
	ev->exit_word = e->exit_word;
	ev->status = ew_exit_decode(e->exit_word);
	ev->start_boot_ns = e->start_ns;
	ev->uptime_ns = e->uptime_ns;
	ev->seeded = fl & EW_EXIT_SEEDED;
	ev->oom = fl & EW_EXIT_OOM;
	ev->ready = (fl & EW_EXIT_READY) && e->ready_ns;
	if (ev->ready && !ev->seeded && e->ready_ns >= exec_boot)
		ev->startup_ns = e->ready_ns - exec_boot;
	ev->has_killer = fl & EW_EXIT_KILLER;
	if (ev->has_killer) {
		ev->killer.pid = e->killer.pid;
		ev->killer.signal = (int)e->killer.sig;
		ev->killer.cgroup_id = e->killer.cgroup_id;
		ev->killer.time_ns = to_wall(ctx, e->killer.ts_ns);
		ev->killer.caught = e->killer.flags & EW_KILLER_CAUGHT;
		ew_strlcpy_n(ev->killer.comm, sizeof(ev->killer.comm), e->killer.comm,
			     sizeof(e->killer.comm));
	}
	ev->children = e->children;
	ew_strlcpy_n(ev->comm, sizeof(ev->comm), e->comm, sizeof(e->comm));
	ev->stderr_total = e->stderr_total;
	if (ring) {
		ev->tail_len = ew_tail_unroll(ring, e->stderr_total, ctx->tail_max, ev->tail);
		ev->tail_source = EW_TAIL_KERNEL;
	}
}

static void decode_ready(const struct ew_ready_event *e, struct ew_event *ev)
{
	ev->type = EW_EVENT_READY;
	ev->ready = true;
	if (e->exec_ns && e->hdr.ts_ns >= e->exec_ns)
		ev->startup_ns = e->hdr.ts_ns - e->exec_ns;
	else
		ev->seeded = true;
	ev->listener_pid = e->listener_pid;
	ew_strlcpy_n(ev->listener_comm, sizeof(ev->listener_comm), e->comm, sizeof(e->comm));
}

int ew_decode(const void *data, size_t size, const struct ew_decode_ctx *ctx, struct ew_event *ret)
{
	const struct ew_hdr *h = data;

	if (size < sizeof(*h) || h->size != size)
		return -EINVAL;
	ew_event_clear(ret);
	switch (h->kind) {
	case EW_EV_EXEC:
		if (size != sizeof(struct ew_exec_event))
			return -EINVAL;
		decode_exec(data, ret);
		break;
	case EW_EV_EXIT:
		if (size == sizeof(struct ew_exit_tail_event) && (h->flags & EW_EXIT_TAIL))
			decode_exit(data, ((const struct ew_exit_tail_event *)data)->stderr_ring,
				    ctx, ret);
		else if (size == sizeof(struct ew_exit_event) && !(h->flags & EW_EXIT_TAIL))
			decode_exit(data, NULL, ctx, ret);
		else
			return -EINVAL;
		break;
	case EW_EV_START_FAILED:
		if (size != sizeof(struct ew_start_failed_event))
			return -EINVAL;
		decode_start_failed(data, ret);
		break;
	case EW_EV_READY:
		if (size != sizeof(struct ew_ready_event))
			return -EINVAL;
		decode_ready(data, ret);
		break;
	default:
		return -EINVAL;
	}
	ret->time_ns = to_wall(ctx, h->ts_ns);
	ret->cgroup_id = h->cgroup_id;
	ret->pid = h->pid;
	return 0;
}
