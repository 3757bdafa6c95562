// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "exitwatch/ingest/scan.h"
#include "exitwatch/util/util.h"
#include "exitwatch/util/cleanup.h"

#define EW_SCAN_MAX_DEPTH 32

struct cg_node {
	uint64_t id;
	uint32_t level;
	char *path; /* relative to the mount: "/docker/<id>" */
};

struct proc_ent {
	uint32_t pid;
	uint32_t cg; /* index into cgs */
};

struct scan {
	const struct ew_scan_opts *opts;
	struct cg_node *cgs;
	size_t ncgs, capcgs;
	struct proc_ent *procs;
	size_t nprocs, capprocs;
};

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap * 2 : 256;
	void *p;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static int add_procs(struct scan *s, int dirfd, uint32_t cg)
{
	_cleanup_fclose_ FILE *f = NULL;
	int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	unsigned long pid;

	if (fd < 0)
		return 0; /* removed under us: nothing to list */
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -errno;
	}
	while (fscanf(f, "%lu", &pid) == 1) {
		if (grow((void **)&s->procs, &s->capprocs, s->nprocs + 1, sizeof(*s->procs)))
			return -ENOMEM;
		s->procs[s->nprocs++] = (struct proc_ent){.pid = (uint32_t)pid, .cg = cg};
	}
	return 0;
}

/* Depth-first over the cgroup tree; cgroups come and go meanwhile, which is not an error. */
static int walk(struct scan *s, int dir_fd, const char *rel, uint32_t level)
{
	_cleanup_close_ int fd = dir_fd; /* ours until the DIR takes it */
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	struct stat st;
	uint32_t me;
	int r;

	if (level > EW_SCAN_MAX_DEPTH || fstat(fd, &st))
		return 0;
	if (grow((void **)&s->cgs, &s->capcgs, s->ncgs + 1, sizeof(*s->cgs)))
		return -ENOMEM;
	me = (uint32_t)s->ncgs;
	s->cgs[me] = (struct cg_node){.id = st.st_ino, .level = level, .path = strdup(rel)};
	if (!s->cgs[me].path)
		return -ENOMEM;
	s->ncgs++;
	r = add_procs(s, fd, me);
	if (r)
		return r;
	d = fdopendir(fd);
	if (!d)
		return 0;
	fd = -1; /* closedir() closes it */
	while ((de = readdir(d))) {
		char child[EW_CGROUP_PATH_MAX];
		int cfd;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(child, sizeof(child), "%s/%s", level ? rel : "", de->d_name) >=
		    sizeof(child))
			continue;
		cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cfd < 0)
			continue;
		r = walk(s, cfd, child, level + 1);
		if (r)
			return r;
	}
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	const struct proc_ent *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static const struct proc_ent *find_proc(const struct scan *s, uint32_t pid)
{
	struct proc_ent key = {.pid = pid};

	return bsearch(&key, s->procs, s->nprocs, sizeof(*s->procs), cmp_pid);
}

struct stat_info {
	uint32_t ppid;
	uint64_t start_ticks;
	char comm[EW_COMM_LEN];
};

/* /proc/<pid>/stat: "pid (comm) state ppid ..." with starttime the 22nd field; comm may hold
 * spaces and parentheses, so parse from the last ')'. */
static int read_stat(const char *proc_root, uint32_t pid, struct stat_info *ret)
{
	char path[64 + PATH_MAX], buf[1024], *lp, *close_p;
	unsigned long long start = 0;
	unsigned long ppid = 0;
	int fd, n;

	snprintf(path, sizeof(path), "%s/%u/stat", proc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	lp = strchr(buf, '(');
	close_p = strrchr(buf, ')');
	if (!lp || !close_p || close_p < lp)
		return -EINVAL;
	ew_strlcpy_n(ret->comm, sizeof(ret->comm), lp + 1, (size_t)(close_p - lp - 1));
	/* fields after ')': state(3) ppid(4) ... starttime(22) */
	if (sscanf(close_p + 2,
		   "%*c %lu %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
		   "%*d %*d %*d %llu",
		   &ppid, &start) != 2)
		return -EINVAL;
	ret->ppid = (uint32_t)ppid;
	ret->start_ticks = start;
	return 0;
}

static void read_argv0(const char *proc_root, uint32_t pid, char *out, size_t len)
{
	char path[64 + PATH_MAX];
	ssize_t n;
	int fd;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/%u/cmdline", proc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, out, len - 1);
	close(fd);
	out[n > 0 ? n : 0] = '\0';
}

static void read_exe(const char *proc_root, uint32_t pid, char *out, size_t len)
{
	char path[64 + PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/exe", proc_root, pid);
	n = readlink(path, out, len - 1);
	out[n > 0 ? n : 0] = '\0';
}

static int report(struct scan *s, const struct proc_ent *p, const struct stat_info *si,
		  ew_scan_fn fn, void *ctx)
{
	const struct ew_scan_opts *o = s->opts;
	const struct cg_node *cg = &s->cgs[p->cg];
	struct ew_event *ev = calloc(1, sizeof(*ev));
	int r;

	if (!ev)
		return -ENOMEM;
	ev->type = EW_EVENT_START;
	ev->seeded = true;
	ev->time_ns = o->now_wall_ns;
	ev->cgroup_id = cg->id;
	ev->cg_level = cg->level;
	ew_strlcpy(ev->cgroup, cg->path, sizeof(ev->cgroup));
	ev->pid = p->pid;
	ev->ppid = si->ppid;
	ev->start_boot_ns = si->start_ticks * EW_NS_PER_TICK;
	ew_strlcpy(ev->comm, si->comm, sizeof(ev->comm));
	read_argv0(o->proc_root, p->pid, ev->argv0, sizeof(ev->argv0));
	read_exe(o->proc_root, p->pid, ev->filename, sizeof(ev->filename));
	r = fn(ctx, ev, si->start_ticks);
	free(ev);
	return r;
}

/* Per cgroup, the oldest process whose parent lives elsewhere (ties: the lowest pid). */
static int pick_mains(struct scan *s, ew_scan_fn fn, void *ctx, struct ew_scan_stats *st)
{
	struct stat_info *best;
	uint32_t *best_pid, readable = 0, listed = 0;
	int r = 0;

	best = calloc(s->ncgs, sizeof(*best));
	best_pid = calloc(s->ncgs, sizeof(*best_pid));
	if (!best || !best_pid) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct proc_ent *p = &s->procs[i], *parent;
		struct stat_info si;

		if (s->cgs[p->cg].level == 0) /* the root: host processes */
			continue;
		listed++;
		if (read_stat(s->opts->proc_root, p->pid, &si))
			continue; /* exited since the walk */
		readable++;
		/* runc's own bootstrap ("runc:[0:PARENT]", "runc:[2:INIT]") while it creates a
		 * container: not the container's main process, which execs later. */
		if (!strncmp(si.comm, "runc", 4))
			continue;
		parent = find_proc(s, si.ppid);
		if (parent && parent->cg == p->cg)
			continue;
		if (best_pid[p->cg] &&
		    (si.start_ticks > best[p->cg].start_ticks ||
		     (si.start_ticks == best[p->cg].start_ticks && p->pid > best_pid[p->cg])))
			continue;
		best[p->cg] = si;
		best_pid[p->cg] = p->pid;
	}
	/* Processes listed but none readable: the wrong /proc (another pid namespace, or none
	 * mounted where --proc-root says), not a host without containers. */
	if (listed && !readable) {
		r = -ESRCH;
		goto out;
	}
	for (size_t c = 0; c < s->ncgs && !r; c++) {
		struct proc_ent p = {.pid = best_pid[c], .cg = (uint32_t)c};

		if (!best_pid[c])
			continue;
		r = report(s, &p, &best[c], fn, ctx);
		st->mains++;
	}
out:
	free(best);
	free(best_pid);
	return r;
}

int ew_scan_mains(const struct ew_scan_opts *opts, ew_scan_fn fn, void *ctx,
		  struct ew_scan_stats *stats)
{
	struct scan s = {.opts = opts};
	struct ew_scan_stats st = {0};
	int fd, r;

	fd = open(opts->cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = walk(&s, fd, "/", 0);
	if (!r) {
		qsort(s.procs, s.nprocs, sizeof(*s.procs), cmp_pid);
		st.cgroups = (uint32_t)s.ncgs;
		st.processes = (uint32_t)s.nprocs;
		r = pick_mains(&s, fn, ctx, &st);
	}
	for (size_t i = 0; i < s.ncgs; i++)
		free(s.cgs[i].path);
	free(s.cgs);
	free(s.procs);
	if (stats)
		*stats = st;
	return r;
}

int ew_scan_cgroup_root(const char *explicit_root, const char *host_root, const char *mountinfo,
			char *out, size_t outlen)
{
	static const char *const tries[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
	struct statfs sf;

	if (explicit_root) {
		ew_strlcpy(out, explicit_root, outlen);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(tries); i++) {
		snprintf(out, outlen, "%s%s", host_root, tries[i]);
		if (!statfs(out, &sf) && sf.f_type == CGROUP2_SUPER_MAGIC)
			return 0;
	}
	return ew_scan_find_cgroup2(mountinfo, out, outlen);
}

int ew_scan_find_cgroup2(const char *mountinfo_path, char *out, size_t outlen)
{
	_cleanup_fclose_ FILE *f = fopen(mountinfo_path, "re");
	char line[4096];

	if (!f)
		return -errno;
	/* "36 35 0:31 / /sys/fs/cgroup/unified rw,... - cgroup2 cgroup2 rw" */
	while (fgets(line, sizeof(line), f)) {
		char root[PATH_MAX], mnt[PATH_MAX];
		const char *sep = strstr(line, " - ");
		char fstype[32];

		if (!sep || sscanf(sep + 3, "%31s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*u %*u %*s %4095s %4095s", root, mnt) != 2)
			continue;
		if (strcmp(root, "/")) /* a bind of a subtree: ids fine, paths not host paths */
			continue;
		if (strlen(mnt) >= outlen)
			return -ENAMETOOLONG;
		ew_strlcpy(out, mnt, outlen);
		return 0;
	}
	return -ENOENT;
}
