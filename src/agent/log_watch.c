// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * inotify watches on runtime log files (include/exitwatch/log_watch.h): cgroup id -> watch
 * descriptor -> the last close-after-write seen. A watch is on an inode, and a log rotation
 * (the kubelet's, Docker's) moves the inode away and puts a new file at the path: the watch
 * follows the path, so that it stays on the file the runtime writes.
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

/* IN_MOVE_SELF: a rotation renamed the file; IN_IGNORED (always sent): it was deleted. */
#define LW_MASK (IN_CLOSE_WRITE | IN_MOVE_SELF | IN_DONT_FOLLOW)

struct file_watch {
	int wd;		      /* -1: no watch any more (gone, or the path could not be watched) */
	uint32_t refs;	      /* containers writing this file */
	uint64_t closed_wall; /* the last IN_CLOSE_WRITE seen, 0: none */
	bool moved;	      /* IN_MOVE_SELF, and no new file at the path yet: a rotation */
	bool gone;	      /* deleted or unmounted, and the path is empty: no more writes */
	int tag;	      /* the caller's, given back with the path */
	char path[];	      /* as first added, and followed after a rotation */
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
	uint64_t overflows;	    /* IN_Q_OVERFLOW seen */
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

/* Each file watch is held by its containers' (refs), gone ones too: no longer in by_wd. */
static void free_watch(void *ctx, uint64_t key, void *val)
{
	struct cg_watch *c = val;

	(void)ctx;
	(void)key;
	if (!--c->f->refs)
		free(c->f);
	free(c);
}

void ew_logwatch_free(struct ew_logwatch *w)
{
	if (!w)
		return;
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

/* Ends f's watch; live: the kernel still has it (not after IN_IGNORED). */
static void unwatch(struct ew_logwatch *w, struct file_watch *f, bool live)
{
	if (f->wd < 0)
		return;
	ew_map64_del(w->by_wd, (uint64_t)f->wd);
	if (live)
		inotify_rm_watch(w->fd, f->wd);
	f->wd = -1;
}

static void release(struct ew_logwatch *w, struct file_watch *f)
{
	if (--f->refs)
		return;
	unwatch(w, f, true);
	free(f);
}

int ew_logwatch_add(struct ew_logwatch *w, uint64_t cgroup_id, const char *path, int tag,
		    uint64_t now_wall)
{
	struct cg_watch *c = ew_map64_get(w->by_cgroup, cgroup_id);
	struct file_watch *f, *old = c ? c->f : NULL;
	int wd = inotify_add_watch(w->fd, path, LW_MASK);

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

struct lw_join {
	struct file_watch *from, *to;
};

static void repoint(void *ctx, uint64_t key, void *val)
{
	const struct lw_join *j = ctx;
	struct cg_watch *c = val;

	(void)key;
	if (c->f == j->from)
		c->f = j->to;
}

/*
 * f's path now names a file another watch has (a container added it after the rotation): f's
 * containers join that watch, and f goes. O(containers watched), once per such rotation.
 */
static void join(struct ew_logwatch *w, struct file_watch *f, struct file_watch *to)
{
	struct lw_join j = {.from = f, .to = to};

	ew_map64_foreach(w->by_cgroup, repoint, &j);
	to->refs += f->refs;
	free(f);
}

/*
 * Watches what f's path names now, in place of f's inode (live: the kernel still watches it).
 * 1: a new file is watched (f may have been freed into another watch: *fp says which is left);
 * 0: the same file; -ENOENT: nothing at the path; another -errno (-ENOSPC): not watchable.
 */
static int follow(struct ew_logwatch *w, struct file_watch **fp, bool live)
{
	struct file_watch *f = *fp, *other;
	int wd = inotify_add_watch(w->fd, f->path, LW_MASK);

	if (wd < 0)
		return errno == ENOTDIR ? -ENOENT : -errno;
	if (wd == f->wd) { /* renamed back: the kubelet undoes a rotation whose reopen failed */
		f->moved = false;
		return 0;
	}
	other = ew_map64_get(w->by_wd, (uint64_t)wd);
	if (!other && ew_map64_put(w->by_wd, (uint64_t)wd, f)) {
		inotify_rm_watch(w->fd, wd);
		return -ENOMEM; /* the old watch stays */
	}
	unwatch(w, f, live);
	if (other) {
		join(w, f, other);
		*fp = other;
		return 1;
	}
	f->wd = wd;
	f->moved = false;
	f->gone = false;
	return 1;
}

/*
 * One inotify event on f's inode; the kernel sends each of these in an event of its own. A
 * rotation renames the file, then the runtime opens a new one at the path and closes the old:
 * the watch moves to the new file as soon as there is one, and the old file's closes and
 * deletion say nothing of the writer's last close.
 */
static void on_event(struct ew_logwatch *w, struct file_watch *f, uint32_t mask, uint64_t now_wall)
{
	int r;

	if (mask & IN_MOVE_SELF) {
		f->moved = true;
		follow(w, &f, true); /* nothing at the path yet: the next event tries again */
	} else if (mask & IN_CLOSE_WRITE) {
		/* After a rotation, the writer's reopen; unless no new file came: its last. */
		if (!f->moved || follow(w, &f, true) != 1)
			f->closed_wall = now_wall;
	} else if (mask & IN_IGNORED) {
		/* The inode is gone: a rotated file compressed, or the log deleted. */
		r = follow(w, &f, false);
		if (r == 1)
			return;
		/* Nothing at the path: the writer is done. Not watchable: no watch, as before. */
		f->gone = r == -ENOENT;
		unwatch(w, f, false);
	}
}

static void collect(void *ctx, uint64_t key, void *val)
{
	struct file_watch ***next = ctx;

	(void)key;
	*(*next)++ = val;
}

/*
 * After IN_Q_OVERFLOW: some events were dropped, a rotation's IN_MOVE_SELF among them may be,
 * and a watch left on the rotated file never sees its writer's close again. Each watch is
 * checked against what its path names now. A lost close cannot be had back: its exit waits
 * for its deadline. A lost deletion leaves a watch on a gone file, as a rename would: taken
 * for a move, so that the next event on it looks at the path again.
 */
static void resync(struct ew_logwatch *w)
{
	size_t n = ew_map64_count(w->by_wd);
	struct file_watch **all = n ? calloc(n, sizeof(*all)) : NULL, **next = all;

	if (!all)
		return; /* out of memory: the watches stay as they were */
	ew_map64_foreach(w->by_wd, collect, &next);
	/* A follow may join a watch into one later in the list (freeing the first), never the
	 * other way round: each entry is valid when its turn comes. */
	for (size_t i = 0; i < n; i++) {
		struct file_watch *f = all[i];

		if (follow(w, &f, true) == -ENOENT)
			f->moved = true;
	}
	free(all);
}

void ew_logwatch_read(struct ew_logwatch *w, uint64_t now_wall)
{
	alignas(struct inotify_event) char buf[4096];
	bool overflow = false;

	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof(buf));

		if (n <= 0)
			break; /* EAGAIN: all read */
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *)p;
			struct file_watch *f = ew_map64_get(w->by_wd, (uint64_t)e->wd);

			p += sizeof(*e) + e->len;
			if (e->mask & IN_Q_OVERFLOW) { /* wd -1 */
				w->overflows++;
				overflow = true;
			} else if (f) {
				on_event(w, f, e->mask, now_wall);
			}
		}
	}
	if (overflow)
		resync(w);
}

int ew_logwatch_closed(const struct ew_logwatch *w, uint64_t cgroup_id, uint64_t since_wall)
{
	const struct cg_watch *c = ew_map64_get(w->by_cgroup, cgroup_id);

	if (!c)
		return -ENOENT;
	if (c->f->gone || (c->f->closed_wall && c->f->closed_wall >= since_wall))
		return 1;
	if (c->f->wd < 0)
		return -ENOENT; /* lost after a rotation: as if never watched */
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

uint64_t ew_logwatch_overflows(const struct ew_logwatch *w)
{
	return w->overflows;
}
