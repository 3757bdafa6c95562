// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitwatch/log.h"
#include "exitwatch/map.h"
#include "exitwatch/resolver.h"
#include "exitwatch/util.h"

struct cached {
	struct ew_subject *subject;
	uint32_t pid;
	char argv0[EW_PATH_LEN];
	char filename[EW_PATH_LEN];
};

struct ew_resolver {
	struct ew_resolver_opts opts;
	struct ew_map *by_cgroup; /* cgroup id -> struct cached */
};

struct ew_resolver *ew_resolver_new(const struct ew_resolver_opts *opts)
{
	struct ew_resolver *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->opts = *opts;
	ew_meta_paths_default(&r->opts.paths);
	r->by_cgroup = ew_map_new();
	if (!r->by_cgroup) {
		free(r);
		return NULL;
	}
	return r;
}

static void free_cached(void *ctx, const void *key, size_t klen, void *val)
{
	struct cached *c = val;

	ew_subject_free(c->subject);
	free(c);
}

void ew_resolver_free(struct ew_resolver *r)
{
	if (!r)
		return;
	ew_map_foreach(r->by_cgroup, free_cached, NULL);
	ew_map_free(r->by_cgroup);
	free(r);
}

static bool runtime_has_files(enum ew_runtime rt)
{
	return rt == EW_RT_DOCKER || rt == EW_RT_CONTAINERD || rt == EW_RT_CRIO ||
	       rt == EW_RT_PODMAN;
}

static void resolve(struct ew_resolver *r, const struct ew_event *ev, struct ew_identity *id)
{
	char err[256] = "";
	int e;

	memset(id, 0, sizeof(*id));
	id->cgroup_id = ev->cgroup_id;
	ew_strlcpy(id->cgroup, ev->cgroup, sizeof(id->cgroup));
	id->meta.restart_count = -1;
	if (ew_cgroup_parse(ev->cgroup, &id->cg))
		id->cg.runtime = EW_RT_CGROUP;
	if (r->opts.read_meta && runtime_has_files(id->cg.runtime)) {
		e = ew_meta_read(&r->opts.paths, &id->cg, &id->meta, err, sizeof(err));
		if (e == 0)
			id->has_meta = true;
		else if (e != -ENOENT) /* once per container: this runs once per start */
			ew_warn("container %.12s: runtime metadata unusable, names from the cgroup "
				"only: %s",
				id->cg.container_id, err[0] ? err : strerror(-e));
		else
			ew_debug("container %.12s: no runtime metadata file", id->cg.container_id);
		if (e)
			memset(&id->meta, 0, sizeof(id->meta)), id->meta.restart_count = -1;
	}
	ew_identity_finish(id);
}

int ew_resolver_start(struct ew_resolver *r, const struct ew_event *ev, struct ew_identity *ret)
{
	struct cached *c = ew_map_get_u64(r->by_cgroup, ev->cgroup_id);

	if (c && c->pid == ev->pid) { /* a re-exec of the main process, or a duplicate */
		if (ev->argv0[0])
			ew_strlcpy(c->argv0, ev->argv0, sizeof(c->argv0));
		if (ev->filename[0])
			ew_strlcpy(c->filename, ev->filename, sizeof(c->filename));
		ew_subject_unpack(c->subject, ret);
		return 0;
	}
	resolve(r, ev, ret);
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return -ENOMEM;
		if (ew_map_put_u64(r->by_cgroup, ev->cgroup_id, c)) {
			free(c);
			return -ENOMEM;
		}
	}
	ew_subject_free(c->subject);
	c->subject = ew_subject_pack(ret);
	if (!c->subject) {
		free(ew_map_del_u64(r->by_cgroup, ev->cgroup_id));
		return -ENOMEM;
	}
	c->pid = ev->pid;
	ew_strlcpy(c->argv0, ev->argv0, sizeof(c->argv0));
	ew_strlcpy(c->filename, ev->filename, sizeof(c->filename));
	return 0;
}

int ew_resolver_lookup(struct ew_resolver *r, uint64_t cgroup_id, struct ew_identity *ret,
		       char *argv0, char *filename)
{
	struct cached *c = ew_map_get_u64(r->by_cgroup, cgroup_id);

	if (c) {
		ew_subject_unpack(c->subject, ret);
		if (argv0)
			ew_strlcpy(argv0, c->argv0, EW_PATH_LEN);
		if (filename)
			ew_strlcpy(filename, c->filename, EW_PATH_LEN);
		return 0;
	}
	memset(ret, 0, sizeof(*ret));
	ret->cgroup_id = cgroup_id;
	ret->cg.runtime = EW_RT_CGROUP;
	ret->meta.restart_count = -1;
	snprintf(ret->key, sizeof(ret->key), "cgroup-id:%llu", (unsigned long long)cgroup_id);
	ew_strlcpy(ret->workload, ret->key, sizeof(ret->workload));
	ew_strlcpy(ret->display, ret->key, sizeof(ret->display));
	if (argv0)
		argv0[0] = '\0';
	if (filename)
		filename[0] = '\0';
	return -ENOENT;
}

void ew_resolver_forget(struct ew_resolver *r, uint64_t cgroup_id)
{
	struct cached *c = ew_map_del_u64(r->by_cgroup, cgroup_id);

	if (c)
		free_cached(NULL, NULL, 0, c);
}

uint32_t ew_resolver_count(const struct ew_resolver *r)
{
	return (uint32_t)ew_map_count(r->by_cgroup);
}
