// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitwatch/util/clock.h"
#include "exitwatch/util/log.h"
#include "exitwatch/util/map64.h"
#include "exitwatch/identity/resolver.h"
#include "exitwatch/util/util.h"
#include "identity/meta_int.h"
#include "identity/pod_cache_int.h"

/* How long before its runtime's init a CRI runtime may create a container's log file. */
#define EW_START_LOG_SLACK_NS (10ULL * 1000000000ULL)

struct cached {
	struct ew_subject *subject;
	uint32_t pid;
	struct ew_proc_names names;
};

struct ew_resolver {
	struct ew_resolver_opts opts;
	struct ew_map64 *by_cgroup;	     /* cgroup id -> struct cached */
	struct ew_pod_cache *pods;	     /* pod uid -> what its containers' files said */
	bool told_missing[EW_RT_CGROUP + 1]; /* a missing file was reported for this runtime */
	uint64_t last_rev;		     /* ew_identity.rev of the last one resolved */
};

struct ew_resolver *ew_resolver_new(const struct ew_resolver_opts *opts)
{
	struct ew_resolver *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->opts = *opts;
	ew_meta_paths_default(&r->opts.paths);
	r->by_cgroup = ew_map64_new();
	r->pods = ew_pod_cache_new();
	if (!r->by_cgroup || !r->pods) {
		ew_map64_free(r->by_cgroup);
		ew_pod_cache_free(r->pods);
		free(r);
		return NULL;
	}
	return r;
}

static void free_cached(void *ctx, uint64_t key, void *val)
{
	struct cached *c = val;

	ew_subject_free(c->subject);
	free(c);
}

void ew_resolver_free(struct ew_resolver *r)
{
	if (!r)
		return;
	ew_map64_foreach(r->by_cgroup, free_cached, NULL);
	ew_map64_free(r->by_cgroup);
	ew_pod_cache_free(r->pods);
	free(r);
}

/*
 * A Kubernetes container gone before its start was read (CRI deleted its bundle at the exit)
 * and not yet linked by the kubelet: its log file's names if its birth says which it is, else its
 * pod's names, from its earlier containers or the pod's log directory. Its key is then the pod's
 * (identity.c), never the container id.
 */
static void resolve_pod_only(struct ew_resolver *r, const struct ew_event *ev,
			     struct ew_identity *id)
{
	ew_meta_clear(&id->meta);
	/*
	 * A container whose start failed: CRI deletes its bundle at once, and the kubelet links
	 * only a started one. Or one that ran and was gone before its start was read, and that a
	 * busy kubelet has not linked yet (it links after StartContainer returns): containerd 2.1
	 * deletes the bundle of a container that exits at once 9 to 30 ms after StartContainer
	 * returns (1.6 and 1.7: 27 to 45 ms), within the agent's 40 ms turns. Its log file, made
	 * when its start began, names it: made a little before the runtime's init forks, and
	 * before the init's exit, after which the kubelet may start the pod's next container. A
	 * started one's is looked for up to its init's fork, not its exec: the pod's next
	 * container may be created within milliseconds of that exec, and a file's birth time is
	 * the clock's last tick (never later than the real one). The file's times are the wall
	 * clock's, so the init's start is too, as it says now (the agent's own clock does not
	 * follow its slew). A main found running at the agent's start-up is keyed by its pod, as
	 * before: its init may have forked long before the agent saw it. So is a started one that
	 * CRI no longer has: removed with its log, the newest log of the span would be another
	 * attempt's.
	 */
	if (ev->type == EW_EVENT_START_FAILED ||
	    (ev->type == EW_EVENT_START && !ev->seeded && id->cg.runtime == EW_RT_CONTAINERD &&
	     ew_meta_cri_known(&r->opts.paths, id->cg.container_id))) {
		uint64_t start_wall = ev->start_boot_ns + (uint64_t)ew_clock_boot_to_wall();
		uint64_t until = start_wall + (ev->type == EW_EVENT_START ? 0 : ev->uptime_ns);

		if (!ew_meta_read_pod_log_started(&r->opts.paths, id->cg.pod_uid,
						  start_wall - EW_START_LOG_SLACK_NS, until,
						  &id->meta)) {
			id->has_meta = true;
			ew_pod_cache_fill(r->pods, id->cg.pod_uid, &id->meta);
			return;
		}
		ew_meta_clear(&id->meta);
	}
	ew_pod_cache_fill(r->pods, id->cg.pod_uid, &id->meta);
	if (!id->meta.pod_name[0])
		ew_meta_read_pod_logs(&r->opts.paths, id->cg.pod_uid, "", &id->meta);
	if (r->told_missing[id->cg.runtime]) {
		ew_debug("container %.12s: gone before its files were read, and no kubelet link "
			 "names it: keyed by its pod %s",
			 id->cg.container_id, id->cg.pod_uid);
		return;
	}
	/* Once per runtime, as for a missing file below. */
	r->told_missing[id->cg.runtime] = true;
	ew_warn("%s container %.12s: gone before its files were read, and no kubelet link "
		"(/var/log/containers) names it yet: keyed by its pod (k8s:%s)",
		ew_runtime_name(id->cg.runtime), id->cg.container_id, id->cg.pod_uid);
}

/*
 * `docker run --cgroup-parent /batch` with the cgroupfs driver (Compose's cgroup_parent, the
 * daemon's cgroup-parent): the container's cgroup is its bare id under a parent of the user's
 * choosing, which the layouts cannot tell from any other cgroup. Docker's own file for that id
 * can: one access() for a main in a cgroup whose name is a container id, which is rare.
 */
static void docker_under_own_parent(struct ew_resolver *r, const char *cgroup,
				    struct ew_cgroup_info *cg)
{
	const char *leaf = strrchr(cgroup, '/');

	/* ew_meta_docker_known() takes only a container id's 64 lower-case hex digits. */
	if (!leaf || !ew_meta_docker_known(&r->opts.paths, leaf + 1))
		return;
	cg->runtime = EW_RT_DOCKER;
	ew_strlcpy(cg->container_id, leaf + 1, sizeof(cg->container_id));
}

static void resolve(struct ew_resolver *r, const struct ew_event *ev, struct ew_identity *id)
{
	char err[256];
	int e;

	err[0] = '\0';
	ew_identity_clear(id);
	id->cgroup_id = ev->cgroup_id;
	ew_strlcpy(id->cgroup, ev->cgroup, sizeof(id->cgroup));
	id->meta.restart_count = -1;
	if (ew_cgroup_parse(ev->cgroup, &id->cg))
		id->cg.runtime = EW_RT_CGROUP;
	if (id->cg.runtime == EW_RT_CGROUP && r->opts.read_meta)
		docker_under_own_parent(r, ev->cgroup, &id->cg);
	if (r->opts.read_meta && ew_meta_runtime_has_files(id->cg.runtime)) {
		e = ew_meta_read(&r->opts.paths, &id->cg, &id->meta, err, sizeof(err));
		if (e >= 0) {
			id->has_meta = true;
			/* e == 1: named by the kubelet's link; the image is an earlier read's. */
			if (id->cg.kubernetes && e == 1)
				ew_pod_cache_fill(r->pods, id->cg.pod_uid, &id->meta);
			else if (id->cg.kubernetes &&
				 ew_pod_cache_put(r->pods, id->cg.pod_uid, &id->meta))
				ew_debug("pod cache: out of memory");
		} else if (e == -ENOENT && id->cg.kubernetes && id->cg.pod_uid[0]) {
			resolve_pod_only(r, ev, id);
		} else if (e !=
			   -ENOENT) { /* per start, not per event: a re-exec reuses the cache */
			ew_meta_pins_unpin_msg(r->opts.pins, err, sizeof(err));
			ew_warn("container %.12s: runtime metadata unusable, names from the cgroup "
				"only: %s",
				id->cg.container_id, err[0] ? err : strerror(-e));
		} else if (!r->told_missing[id->cg.runtime]) {
			/* Once per runtime: on a node where the files are mounted elsewhere every
			 * container would say the same. */
			r->told_missing[id->cg.runtime] = true;
			ew_warn("no %s metadata for container %.12s (host root '%s'): names come "
				"from the cgroup; check --host-root and the runtime paths",
				ew_runtime_name(id->cg.runtime), id->cg.container_id,
				r->opts.pins ? ew_meta_pins_host_root(r->opts.pins)
					     : r->opts.paths.host_root);
		} else {
			ew_debug("container %.12s: no runtime metadata file", id->cg.container_id);
		}
	}
	ew_identity_finish(id);
}

static void remember(struct cached *c, const struct ew_event *ev)
{
	if (ev->comm[0])
		ew_strlcpy(c->names.comm, ev->comm, sizeof(c->names.comm));
	if (ev->argv0[0])
		ew_strlcpy(c->names.argv0, ev->argv0, sizeof(c->names.argv0));
	if (ev->filename[0])
		ew_strlcpy(c->names.filename, ev->filename, sizeof(c->names.filename));
}

int ew_resolver_start(struct ew_resolver *r, const struct ew_event *ev, struct ew_identity *ret)
{
	struct cached *c = ew_map64_get(r->by_cgroup, ev->cgroup_id);

	if (c && c->pid == ev->pid) { /* a re-exec of the main process, or a duplicate */
		remember(c, ev);
		ew_subject_unpack(c->subject, ret);
		ret->packed = c->subject;
		return 0;
	}
	resolve(r, ev, ret);
	ret->rev = ++r->last_rev;
	if (!c) {
		/* Not calloc(): the names are strings, and clearing their 500 bytes was a tenth of
		 * a start's cost here. */
		c = malloc(sizeof(*c));
		if (!c)
			return -ENOMEM;
		c->subject = NULL;
		c->names.comm[0] = c->names.argv0[0] = c->names.filename[0] = '\0';
		if (ew_map64_put(r->by_cgroup, ev->cgroup_id, c)) {
			free(c);
			return -ENOMEM;
		}
	}
	ew_subject_free(c->subject);
	c->subject = ew_subject_pack(ret);
	if (!c->subject) {
		free(ew_map64_del(r->by_cgroup, ev->cgroup_id));
		return -ENOMEM;
	}
	ret->packed = c->subject;
	c->pid = ev->pid;
	remember(c, ev);
	return 0;
}

int ew_resolver_lookup(struct ew_resolver *r, uint64_t cgroup_id, struct ew_identity *ret,
		       struct ew_proc_names *names)
{
	struct cached *c = ew_map64_get(r->by_cgroup, cgroup_id);

	if (c) {
		ew_subject_unpack(c->subject, ret);
		ret->packed = c->subject;
		if (names)
			*names = c->names;
		return 0;
	}
	memset(ret, 0, sizeof(*ret));
	ret->cgroup_id = cgroup_id;
	ret->cg.runtime = EW_RT_CGROUP;
	ret->meta.restart_count = -1;
	snprintf(ret->key, sizeof(ret->key), "cgroup-id:%llu", (unsigned long long)cgroup_id);
	ew_strlcpy(ret->workload, ret->key, sizeof(ret->workload));
	ew_strlcpy(ret->display, ret->key, sizeof(ret->display));
	if (names)
		memset(names, 0, sizeof(*names));
	return -ENOENT;
}

int ew_resolver_learn(struct ew_resolver *r, const struct ew_identity *id)
{
	/* A container named by the kubelet's link alone has its image from this cache (if any):
	 * putting it back changes nothing, and its pod's names are as good as a read's. */
	if (!id || !id->cg.kubernetes || !id->has_meta || !id->cg.pod_uid[0])
		return 0;
	return ew_pod_cache_put(r->pods, id->cg.pod_uid, &id->meta);
}

bool ew_resolver_recall(const struct ew_resolver *r, const char *key, struct ew_meta *m)
{
	ew_meta_clear(m);
	if (!ew_identity_key_pod(key, m->pod_uid, m->name))
		return false;
	ew_pod_cache_fill(r->pods, m->pod_uid, m);
	return m->pod_name[0] || m->image[0];
}

int ew_resolver_learn_pod(struct ew_resolver *r, const char *key, const char *pod_namespace,
			  const char *pod_name, const char *image)
{
	struct ew_meta m;

	ew_meta_clear(&m);
	if (!ew_identity_key_pod(key, m.pod_uid, m.name))
		return -EINVAL;
	ew_strlcpy(m.pod_namespace, pod_namespace, sizeof(m.pod_namespace));
	ew_strlcpy(m.pod_name, pod_name, sizeof(m.pod_name));
	ew_strlcpy(m.image, image, sizeof(m.image));
	return ew_pod_cache_put(r->pods, m.pod_uid, &m);
}

void ew_resolver_forget(struct ew_resolver *r, uint64_t cgroup_id)
{
	struct cached *c = ew_map64_del(r->by_cgroup, cgroup_id);

	if (c)
		free_cached(NULL, 0, c);
}

uint32_t ew_resolver_count(const struct ew_resolver *r)
{
	return (uint32_t)ew_map64_count(r->by_cgroup);
}
