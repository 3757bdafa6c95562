// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * inotify watches on runtime log files (include/exitwatch/log_watch.h): cgroup id -> watch
 * descriptor -> the last close-after-write seen.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "exitwatch/agent/log_watch.h"
#include "exitwatch/util/map64.h"

struct file_watch {
	int wd;
	uint32_t refs;	      /* containers writing this file */
	uint64_t closed_wall; /* the last IN_CLOSE_WRITE seen, 0: none */
	bool gone;	      /* IN_IGNORED: deleted or unmounted; no more writes will come */
	int tag;	      /* the caller's, given back with the path */
	char path[];	      /* as first added */
};

/* One container's use of a file. */
struct cg_watch {
	struct file_watch *f;
	uint64_t added_wall;
};

struct ew_logwatch {
	int fd;
	struct ew_map64 *by_cgroup; /* cgroup id -> struct cg_watch */
	struct ew_map64 *by_wd;	    /* wd -> struct file_watch */
};

struct ew_logwatch *ew_logwatch_new(void)
{
	struct ew_logwatch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	w->by_cgroup = ew_map64_new();
	w->by_wd = ew_map64_new();
	if (w->fd < 0 || !w->by_cgroup || !w->by_wd) {
		int err = w->fd < 0 ? errno : ENOMEM;

		ew_logwatch_free(w);
		errno = err;
		return NULL;
	}
	return w;
}

static void free_watch(void *ctx, uint64_t key, void *val)
{
	(void)ctx;
	(void)key;
	free(val);
}

void ew_logwatch_free(struct ew_logwatch *w)
{
	if (!w)
		return;
	if (w->by_wd)
		ew_map64_foreach(w->by_wd, free_watch, NULL);
	if (w->by_cgroup)
		ew_map64_foreach(w->by_cgroup, free_watch, NULL);
	ew_map64_free(w->by_wd);
	ew_map64_free(w->by_cgroup);
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}

int ew_logwatch_fd(const struct ew_logwatch *w)
{
	return w->fd;
}

static void release(struct ew_logwatch *w, struct file_watch *f)
{
	if (--f->refs)
		return;
	ew_map64_del(w->by_wd, (uint64_t)f->wd);
	if (!f->gone)
		inotify_rm_watch(w->fd, f->wd);
	free(f);
}

int ew_logwatch_add(struct ew_logwatch *w, uint64_t cgroup_id, const char *path, int tag,
		    uint64_t now_wall)
{
	struct cg_watch *c = ew_map64_get(w->by_cgroup, cgroup_id);
	struct file_watch *f, *old = c ? c->f : NULL;
	int wd = inotify_add_watch(w->fd, path, IN_CLOSE_WRITE | IN_DONT_FOLLOW);

	if (wd < 0)
		return -errno;
	f = ew_map64_get(w->by_wd, (uint64_t)wd);
	if (old == f && f) /* the same file again (a re-exec) */
		return 0;
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c || ew_map64_put(w->by_cgroup, cgroup_id, c)) {
			free(c);
			if (!f)
				inotify_rm_watch(w->fd, wd);
			return -ENOMEM;
		}
	}
	if (!f) {
		f = calloc(1, sizeof(*f) + strlen(path) + 1);
		if (!f || ew_map64_put(w->by_wd, (uint64_t)wd, f)) {
			free(f);
			inotify_rm_watch(w->fd, wd);
			if (!old)
				free(ew_map64_del(w->by_cgroup, cgroup_id));
			return -ENOMEM;
		}
		f->wd = wd;
		f->tag = tag;
		strcpy(f->path, path);
	}
	f->refs++;
	c->f = f;
	c->added_wall = now_wall;
	if (old)
		release(w, old);
	return 0;
}

void ew_logwatch_read(struct ew_logwatch *w, uint64_t now_wall)
{
	alignas(struct inotify_event) char buf[4096];

	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof(buf));

		if (n <= 0)
			return; /* EAGAIN: all read */
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *)p;
			struct file_watch *f = ew_map64_get(w->by_wd, (uint64_t)e->wd);

			p += sizeof(*e) + e->len;
			if (!f)
				continue;
			if (e->mask & IN_CLOSE_WRITE)
				f->closed_wall = now_wall;
			if (e->mask & IN_IGNORED)
				f->gone = true;
		}
	}
}

int ew_logwatch_closed(const struct ew_logwatch *w, uint64_t cgroup_id, uint64_t since_wall)
{
	const struct cg_watch *c = ew_map64_get(w->by_cgroup, cgroup_id);

	if (!c)
		return -ENOENT;
	if (c->f->gone || (c->f->closed_wall && c->f->closed_wall >= since_wall))
		return 1;
	return c->added_wall > since_wall ? -EAGAIN : 0;
}

const char *ew_logwatch_path(const struct ew_logwatch *w, uint64_t cgroup_id, int *tag)
{
	const struct cg_watch *c = ew_map64_get(w->by_cgroup, cgroup_id);

	if (!c)
		return NULL;
	*tag = c->f->tag;
	return c->f->path;
}

void ew_logwatch_forget(struct ew_logwatch *w, uint64_t cgroup_id)
{
	struct cg_watch *c = ew_map64_del(w->by_cgroup, cgroup_id);

	if (c) {
		release(w, c->f);
		free(c);
	}
}

uint32_t ew_logwatch_count(const struct ew_logwatch *w)
{
	return (uint32_t)ew_map64_count(w->by_cgroup);
}
