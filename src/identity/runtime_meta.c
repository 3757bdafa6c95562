// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Container names from the runtime's own files: where each runtime keeps them, which of them to
 * read for a container, and the pod log directories that complete the Kubernetes names. Files
 * that a broken or hostile runtime (or a container with a host mount) may have left in any
 * shape: ids are validated before they become path components and files are read bounded
 * (meta_file.c), every JSON field is checked for its type (meta_parse.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitwatch/identity/runtime_meta.h"
#include "exitwatch/util/util.h"
#include "identity/meta_int.h"
#include "exitwatch/util/cleanup.h"

#define EW_META_DOCKER_ROOT	    "/var/lib/docker"
#define EW_META_CONTAINERD_ROOT	    "/run/containerd/io.containerd.runtime.v2.task"
#define EW_META_CRIO_ROOT	    "/run/containers/storage/overlay-containers"
#define EW_META_PODS_LOG_ROOT	    "/var/log/pods"
#define EW_META_CONTAINERS_LOG_ROOT "/var/log/containers"
/* Podman keeps the OCI bundle of a container in its graph root, not its run root. */
#define EW_META_LIBPOD_ROOT "/var/lib/containers/storage/overlay-containers"
/* Under containerd's root (its default), where its CRI plugin keeps each container's status. */
#define EW_META_CONTAINERD_CRI_ROOT "/var/lib/containerd/io.containerd.grpc.v1.cri"

#define EW_META_ERR_LEN 512

static int meta_path(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int meta_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	return (size_t)n >= size ? -ENAMETOOLONG : 0;
}

typedef int (*meta_parse_fn)(const char *json, size_t len, struct ew_meta *ret, char *err,
			     size_t errlen);

/* Reads and parses one file; a parser's message gets the path in front of it. */
static int meta_load(const char *path, meta_parse_fn parse, struct ew_meta *ret, char *err,
		     size_t errlen)
{
	_cleanup_free_ char *buf = NULL;
	char msg[EW_META_ERR_LEN];
	size_t len;
	int r;

	r = ew_meta_read_file(path, &buf, &len, err, errlen);
	if (r < 0)
		return r;
	r = parse(buf, len, ret, msg, sizeof(msg));
	if (r < 0)
		return ew_meta_errf(err, errlen, r, "%s: %s", path, msg);
	return 0;
}

bool ew_meta_runtime_has_files(enum ew_runtime rt)
{
	return rt == EW_RT_DOCKER || rt == EW_RT_CONTAINERD || rt == EW_RT_CRIO ||
	       rt == EW_RT_PODMAN;
}

void ew_meta_paths_default(struct ew_meta_paths *p)
{
	if (!p->host_root)
		p->host_root = "";
	if (!p->docker_root)
		p->docker_root = EW_META_DOCKER_ROOT;
	if (!p->containerd_root)
		p->containerd_root = EW_META_CONTAINERD_ROOT;
	if (!p->crio_root)
		p->crio_root = EW_META_CRIO_ROOT;
	if (!p->pods_log_root)
		p->pods_log_root = EW_META_PODS_LOG_ROOT;
	if (!p->containers_log_root)
		p->containers_log_root = EW_META_CONTAINERS_LOG_ROOT;
	if (!p->libpod_root)
		p->libpod_root = EW_META_LIBPOD_ROOT;
	if (!p->containerd_cri_root)
		p->containerd_cri_root = EW_META_CONTAINERD_CRI_ROOT;
}

/* Whether <host root><root>/containers/<id><leaf> exists, for a valid container id. */
static bool meta_container_known(const struct ew_meta_paths *p, const char *root, const char *id,
				 const char *leaf)
{
	char path[PATH_MAX];

	return ew_meta_id_valid(id) &&
	       meta_path(path, sizeof(path), "%s%s/containers/%s%s", p->host_root, root, id,
			 leaf) == 0 &&
	       access(path, F_OK) == 0;
}

bool ew_meta_docker_known(const struct ew_meta_paths *p, const char *id)
{
	return meta_container_known(p, p->docker_root, id, "/config.v2.json");
}

bool ew_meta_cri_known(const struct ew_meta_paths *p, const char *id)
{
	return meta_container_known(p, p->containerd_cri_root, id, "");
}

static int meta_read_docker(const struct ew_meta_paths *p, const char *id, struct ew_meta *ret,
			    char *err, size_t errlen)
{
	char path[PATH_MAX];
	int r;

	r = meta_path(path, sizeof(path), "%s%s/containers/%s/config.v2.json", p->host_root,
		      p->docker_root, id);
	if (r < 0)
		return ew_meta_errf(err, errlen, r, "docker path for %s too long", id);
	r = meta_load(path, ew_meta_parse_docker, ret, err, errlen);
	if (r < 0)
		return r;

	/* The restart policy is a nicety: a missing or broken hostconfig.json costs only it. */
	r = meta_path(path, sizeof(path), "%s%s/containers/%s/hostconfig.json", p->host_root,
		      p->docker_root, id);
	if (r == 0)
		meta_load(path, ew_meta_parse_hostconfig, ret, NULL, 0);
	return 0;
}

static int meta_read_containerd_ns(const struct ew_meta_paths *p, const char *ns, const char *id,
				   struct ew_meta *ret, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int r;

	r = meta_path(path, sizeof(path), "%s%s/%s/%s/config.json", p->host_root,
		      p->containerd_root, ns, id);
	if (r < 0)
		return ew_meta_errf(err, errlen, r, "containerd path for %s too long", id);
	return meta_load(path, ew_meta_parse_oci, ret, err, errlen);
}

/*
 * The namespaces that run containers first (CRI, Docker 23+, ctr), then any other namespace
 * directory: one opendir and a stat per namespace, and a node has a handful of them.
 */
static int meta_read_containerd(const struct ew_meta_paths *p, const char *id, struct ew_meta *ret,
				char *err, size_t errlen)
{
	static const char *const known[] = {"k8s.io", "moby", "default"};
	_cleanup_closedir_ DIR *d = NULL;
	char path[PATH_MAX];
	struct dirent *de;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(known); i++) {
		r = meta_read_containerd_ns(p, known[i], id, ret, err, errlen);
		if (r != -ENOENT)
			return r;
	}

	r = meta_path(path, sizeof(path), "%s%s", p->host_root, p->containerd_root);
	if (r < 0)
		return ew_meta_errf(err, errlen, r, "containerd path too long");
	d = opendir(path);
	if (!d)
		return ew_meta_errf(err, errlen, -ENOENT, "%s/*/%s/config.json: not found", path,
				    id);
	while ((de = readdir(d))) {
		bool seen = false;

		if (!ew_meta_component_valid(de->d_name))
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(known); i++)
			seen = seen || !strcmp(de->d_name, known[i]);
		if (seen)
			continue;
		r = meta_read_containerd_ns(p, de->d_name, id, ret, err, errlen);
		if (r != -ENOENT)
			return r;
	}
	return ew_meta_errf(err, errlen, -ENOENT, "%s/*/%s/config.json: not found", path, id);
}

static int meta_read_overlay(const struct ew_meta_paths *p, const char *root, const char *id,
			     struct ew_meta *ret, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int r;

	r = meta_path(path, sizeof(path), "%s%s/%s/userdata/config.json", p->host_root, root, id);
	if (r < 0)
		return ew_meta_errf(err, errlen, r, "overlay-containers path for %s too long", id);
	return meta_load(path, ew_meta_parse_oci, ret, err, errlen);
}

/*
 * Podman's name and image: not in its config.json, but in containers/storage's list of the
 * graph root's containers (one read of a file that grows with the containers on the host,
 * bounded by EW_META_MAX_BYTES). A missing or broken list costs only the names.
 */
static void meta_read_libpod_list(const struct ew_meta_paths *p, const char *id,
				  struct ew_meta *ret)
{
	_cleanup_free_ char *buf = NULL;
	char path[PATH_MAX];
	size_t len;

	if (meta_path(path, sizeof(path), "%s%s/containers.json", p->host_root, p->libpod_root))
		return;
	if (ew_meta_read_file(path, &buf, &len, NULL, 0))
		return;
	ew_meta_parse_libpod_list(buf, len, id, ret, NULL, 0);
}

/*
 * Is name "<N>.log" (or, with rotated, also a rotated "<N>.log.<timestamp>[.gz]")? Returns N,
 * else -1. The kubelet's attempt number: runtime_meta counts restarts by it, runtime_log reads
 * the current file of the highest.
 */
int ew_meta_log_attempt(const char *name, bool rotated)
{
	const char *dot = strchr(name, '.');
	char digits[11];
	size_t n;

	if (!dot || strncmp(dot, ".log", 4) || (dot[4] != '\0' && !(rotated && dot[4] == '.')))
		return -1;
	n = (size_t)(dot - name);
	if (n == 0 || n >= sizeof(digits))
		return -1;
	memcpy(digits, name, n);
	digits[n] = '\0';
	return ew_meta_str_count(digits);
}

/*
 * The highest attempt number among <poddir>/<container>/<N>.log. The kubelet names each
 * attempt's log after its restart count; if it has already started attempt N+1 when we look,
 * we get N+1: the count is as of the read, not as of the exit.
 */
static int meta_pod_log_restarts(int pods_fd, const char *pod_dir, const char *container)
{
	_cleanup_closedir_ DIR *d = NULL;
	char rel[PATH_MAX];
	struct dirent *de;
	int fd, best = -1;

	if (meta_path(rel, sizeof(rel), "%s/%s", pod_dir, container) < 0)
		return -ENAMETOOLONG;
	fd = openat(pods_fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		int r = -errno;

		close(fd);
		return r;
	}
	while ((de = readdir(d))) {
		int n = ew_meta_log_attempt(de->d_name, true);

		if (n > best)
			best = n;
	}
	return best;
}

/*
 * O(pods on the node): the directory name holds the namespace and pod name we are looking
 * for, so it cannot be built from the uid alone.
 */
int ew_meta_read_pod_logs(const struct ew_meta_paths *paths, const char *pod_uid,
			  const char *container, struct ew_meta *ret)
{
	struct ew_meta_paths p = paths ? *paths : (struct ew_meta_paths){0};
	_cleanup_closedir_ DIR *d = NULL;
	char path[PATH_MAX];
	size_t uid_len;
	struct dirent *de;
	int r;

	if (!pod_uid || !ew_meta_uid_valid(pod_uid))
		return -EINVAL;
	if (container && *container && !ew_meta_component_valid(container))
		return -EINVAL;
	ew_meta_paths_default(&p);
	r = meta_path(path, sizeof(path), "%s%s", p.host_root, p.pods_log_root);
	if (r < 0)
		return r;
	d = opendir(path);
	if (!d)
		return -errno;

	uid_len = strlen(pod_uid);
	while ((de = readdir(d))) {
		const char *name = de->d_name, *first, *last;
		size_t len = strlen(name);

		/* <namespace>_<pod>_<uid>: neither name may hold '_', but split robustly anyway. */
		if (len < uid_len + 4 || strcmp(name + len - uid_len, pod_uid))
			continue;
		last = name + len - uid_len - 1;
		first = strchr(name, '_');
		if (*last != '_' || first >= last || first == name || first + 1 == last)
			continue;

		ew_strlcpy_n(ret->pod_namespace, sizeof(ret->pod_namespace), name,
			     (size_t)(first - name));
		ew_strlcpy_n(ret->pod_name, sizeof(ret->pod_name), first + 1,
			     (size_t)(last - first - 1));
		ew_strlcpy(ret->pod_uid, pod_uid, sizeof(ret->pod_uid));
		if (container && *container) {
			r = meta_pod_log_restarts(dirfd(d), name, container);
			if (r >= 0)
				ret->restart_count = r;
		}
		return 0;
	}
	return -ENOENT;
}

/* When a log file was made: its birth time where the filesystem keeps one, else its mtime. */
static uint64_t meta_born_ns(int dir_fd, const char *name)
{
	struct statx st;

	if (statx(dir_fd, name, AT_SYMLINK_NOFOLLOW, STATX_BTIME | STATX_MTIME, &st) ||
	    !S_ISREG(st.stx_mode))
		return 0;
	if (st.stx_mask & STATX_BTIME)
		return (uint64_t)st.stx_btime.tv_sec * 1000000000ULL + st.stx_btime.tv_nsec;
	return (uint64_t)st.stx_mtime.tv_sec * 1000000000ULL + st.stx_mtime.tv_nsec;
}

/* The newest <N>.log of <poddir>/<container> made in [from_ns, to_ns]: its time, N in *attempt. */
static uint64_t meta_newest_log(int pods_fd, const char *pod_dir, const char *container,
				uint64_t from_ns, uint64_t to_ns, int *attempt)
{
	_cleanup_closedir_ DIR *d = NULL;
	char rel[PATH_MAX];
	struct dirent *de;
	uint64_t best = 0;
	int fd;

	if (!ew_meta_component_valid(container) ||
	    meta_path(rel, sizeof(rel), "%s/%s", pod_dir, container) < 0)
		return 0;
	fd = openat(pods_fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d))) {
		int n = ew_meta_log_attempt(de->d_name, false);
		uint64_t t;

		if (n < 0)
			continue;
		t = meta_born_ns(dirfd(d), de->d_name);
		if (t >= from_ns && t <= to_ns && t > best) {
			best = t;
			*attempt = n;
		}
	}
	return best;
}

int ew_meta_read_pod_log_started(const struct ew_meta_paths *paths, const char *pod_uid,
				 uint64_t from_ns, uint64_t to_ns, struct ew_meta *ret)
{
	struct ew_meta_paths p = paths ? *paths : (struct ew_meta_paths){0};
	_cleanup_closedir_ DIR *pd = NULL;
	_cleanup_close_ int root_fd = -1;
	char path[PATH_MAX], pod_dir[PATH_MAX];
	uint64_t best = 0;
	struct dirent *de;
	int r, fd;

	ew_meta_paths_default(&p);
	r = ew_meta_read_pod_logs(&p, pod_uid, "", ret);
	if (r < 0)
		return r;
	r = meta_path(pod_dir, sizeof(pod_dir), "%s_%s_%s", ret->pod_namespace, ret->pod_name,
		      pod_uid);
	if (!r)
		r = meta_path(path, sizeof(path), "%s%s", p.host_root, p.pods_log_root);
	if (r < 0)
		return r;
	root_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return -errno;
	fd = openat(root_fd, pod_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	pd = fdopendir(fd);
	if (!pd) {
		r = -errno;
		close(fd);
		return r;
	}
	while ((de = readdir(pd))) {
		int n = -1;
		uint64_t t;

		if (de->d_name[0] == '.')
			continue;
		t = meta_newest_log(root_fd, pod_dir, de->d_name, from_ns, to_ns, &n);
		if (t > best) {
			best = t;
			ew_strlcpy(ret->name, de->d_name, sizeof(ret->name));
			ret->restart_count = n;
		}
	}
	return best ? 0 : -ENOENT;
}

/* Kubernetes names the runtime file lacks (containerd 1.6 has no uid, none has the count). */
static void meta_complete_k8s(const struct ew_meta_paths *p, const struct ew_cgroup_info *cg,
			      struct ew_meta *ret)
{
	struct ew_meta logs;
	const char *uid;

	/* The cgroup path is the kernel's word on which pod this is; the file only a claim. */
	uid = ew_meta_uid_valid(cg->pod_uid) ? cg->pod_uid : ret->pod_uid;
	if (!ret->pod_uid[0] && ew_meta_uid_valid(cg->pod_uid))
		ew_strlcpy(ret->pod_uid, cg->pod_uid, sizeof(ret->pod_uid));
	if (ret->pod_namespace[0] && ret->pod_name[0] && (ret->restart_count >= 0 || ret->sandbox))
		return;
	if (!ew_meta_uid_valid(uid))
		return;

	ew_meta_clear(&logs);
	if (ew_meta_read_pod_logs(p, uid, ret->sandbox ? "" : ret->name, &logs) < 0)
		return;
	if (!ret->pod_namespace[0])
		ew_meta_copy(ret->pod_namespace, sizeof(ret->pod_namespace), logs.pod_namespace);
	if (!ret->pod_name[0])
		ew_meta_copy(ret->pod_name, sizeof(ret->pod_name), logs.pod_name);
	if (ret->restart_count < 0)
		ret->restart_count = logs.restart_count;
}

/*
 * A container outside kubepods is not a pod's, whatever its file says: the io.kubernetes.*
 * labels and annotations there are the workload's own (an image's LABEL, `docker run -l`,
 * `podman --annotation`), and the cgroup is the kernel's word. Believed, they would make a
 * plain container a sandbox, whose starts and exits the agent drops, and give it a pod.
 */
static void meta_drop_k8s(struct ew_meta *ret)
{
	ret->sandbox = false;
	ret->pod_name[0] = '\0';
	ret->pod_namespace[0] = '\0';
	ret->pod_uid[0] = '\0';
}

/* The <N> of the link's target ".../<N>.log", or -1. */
static int link_attempt(int dir_fd, const char *name)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n = readlinkat(dir_fd, name, target, sizeof(target) - 1);

	if (n <= 0)
		return -1;
	target[n] = '\0';
	base = strrchr(target, '/');
	return ew_meta_log_attempt(base ? base + 1 : target, false);
}

/*
 * The kubelet's link for container id: <containers_log_root>/<pod>_<ns>_<container>-<id>.log
 * (pod names, namespaces and container names are DNS labels: no '_' in any of them). The link
 * is made after StartContainer returns and removed with the container, so it outlives a task
 * whose bundle CRI deleted at its exit. Its target is the attempt's own log,
 * <pod log dir>/<container>/<restart count>.log: the count is this container's, where the pod's
 * newest log may be a later attempt's by the time it is read. O(containers on the node): one
 * readdir, no stat; one readlink for the match.
 */
int ew_meta_read_k8s_link(const struct ew_meta_paths *paths, const char *id, struct ew_meta *ret)
{
	struct ew_meta_paths p = paths ? *paths : (struct ew_meta_paths){0};
	_cleanup_closedir_ DIR *d = NULL;
	char path[PATH_MAX], suffix[EW_ID_LEN + 8];
	size_t slen;
	struct dirent *de;

	if (!ew_meta_id_valid(id))
		return -EINVAL;
	ew_meta_paths_default(&p);
	if (meta_path(path, sizeof(path), "%s%s", p.host_root, p.containers_log_root) < 0)
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return -errno;
	slen = (size_t)snprintf(suffix, sizeof(suffix), "-%s.log", id);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char stem[NAME_MAX + 1], *u1, *u2;

		if (len <= slen || strcmp(de->d_name + len - slen, suffix))
			continue;
		/* "<pod>_<ns>_<container>": exactly two '_', no part empty. */
		memcpy(stem, de->d_name, len - slen);
		stem[len - slen] = '\0';
		u1 = strchr(stem, '_');
		u2 = u1 ? strchr(u1 + 1, '_') : NULL;
		if (!u2 || strchr(u2 + 1, '_') || u1 == stem || u2 == u1 + 1 || !u2[1] ||
		    !ew_meta_component_valid(u2 + 1))
			continue;
		*u1 = *u2 = '\0';
		ew_meta_clear(ret);
		ew_meta_copy(ret->pod_name, sizeof(ret->pod_name), stem);
		ew_meta_copy(ret->pod_namespace, sizeof(ret->pod_namespace), u1 + 1);
		ew_meta_copy(ret->name, sizeof(ret->name), u2 + 1);
		ret->restart_count = link_attempt(dirfd(d), de->d_name);
		return 0;
	}
	return -ENOENT;
}

int ew_meta_read(const struct ew_meta_paths *paths, const struct ew_cgroup_info *cg,
		 struct ew_meta *ret, char *err, size_t errlen)
{
	struct ew_meta_paths p = paths ? *paths : (struct ew_meta_paths){0};
	const char *id = cg->container_id;
	int r;

	ew_meta_clear(ret);
	if (err && errlen)
		err[0] = '\0';
	ew_meta_paths_default(&p);

	if (!ew_meta_runtime_has_files(cg->runtime))
		return ew_meta_errf(err, errlen, -ENOENT, "runtime %d keeps no metadata files",
				    (int)cg->runtime);
	/* The id becomes a path component: nothing but 64 hex digits gets that far. */
	if (!ew_meta_id_valid(id))
		return ew_meta_errf(err, errlen, -EINVAL, "invalid container id");

	switch (cg->runtime) {
	case EW_RT_DOCKER:
		r = meta_read_docker(&p, id, ret, err, errlen);
		break;
	case EW_RT_CONTAINERD:
		r = meta_read_containerd(&p, id, ret, err, errlen);
		break;
	case EW_RT_CRIO:
		r = meta_read_overlay(&p, p.crio_root, id, ret, err, errlen);
		break;
	default:
		r = meta_read_overlay(&p, p.crio_root, id, ret, err, errlen);
		if (r == -ENOENT)
			r = meta_read_overlay(&p, p.libpod_root, id, ret, err, errlen);
		if (r == 0)
			meta_read_libpod_list(&p, id, ret);
		break;
	}
	if (r == -ENOENT && cg->kubernetes && ew_meta_read_k8s_link(&p, id, ret) == 0) {
		/* Gone already (CRI deletes the bundle at the exit): the kubelet's link names it. */
		meta_complete_k8s(&p, cg, ret);
		if (err && errlen)
			err[0] = '\0';
		return 1;
	}
	if (r < 0) {
		/* A parser may have filled part of ret before failing: leave nothing half-made. */
		ew_meta_clear(ret);
		return r;
	}
	if (cg->kubernetes)
		meta_complete_k8s(&p, cg, ret);
	else
		meta_drop_k8s(ret);
	/* Namespaces tried before the one that had the file left their ENOENT behind. */
	if (err && errlen)
		err[0] = '\0';
	return 0;
}
