// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Where a container's runtime log is (include/exitwatch/runtime_log.h): Docker's json-file and
 * local files and its dual logging cache, the kubelet's CRI files under /var/log/pods and
 * Podman's k8s-file, and the file a rotation moved the older entries to. Only names, lstat()
 * and readdir(): reading the entries is runtime_log.c's.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "exitwatch/identity/runtime_log.h"
#include "identity/meta_int.h"
#include "identity/runtime_log_int.h"
#include "exitwatch/util/cleanup.h"

#define RL_DOCKER_ROOT	 "/var/lib/docker"
#define RL_PODS_LOG_ROOT "/var/log/pods"

static bool rl_has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len > n && !memcmp(s + len - n, suffix, n);
}

/*
 * The kubelet's newest rotated file of a CRI log "<dir>/<base>": "<base>.<YYYYMMDD-hhmmss>",
 * the greatest such name, into out. The kubelet gzips every rotated file but the newest
 * ("<base>.<time>.gz", written as "<base>.<time>.tmp" first): those are skipped. Cost: one
 * readdir of the container's log directory, a handful of names. 0 or -ENOENT, -ENAMETOOLONG.
 */
static int rl_cri_rotated(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	size_t dir_len = (size_t)(base - path), base_len = strlen(base);
	char best[NAME_MAX + 1] = "";
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int n;

	/* The directory, slash included, in out: its name is needed again for the result. */
	n = snprintf(out, len, "%.*s", (int)dir_len, path);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	d = opendir(dir_len ? out : ".");
	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		size_t name_len = strlen(name);

		if (name_len <= base_len + 1 || memcmp(name, base, base_len) ||
		    name[base_len] != '.' || rl_has_suffix(name, name_len, ".gz") ||
		    rl_has_suffix(name, name_len, ".tmp"))
			continue;
		if (strcmp(name, best) > 0)
			memcpy(best, name, name_len + 1);
	}
	if (!best[0])
		return -ENOENT;
	n = snprintf(out, len, "%.*s%s", (int)dir_len, path, best);
	return n >= 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

int ew_rl_rotated_path(const char *path, enum ew_log_format fmt, char *out, size_t len)
{
	int n;

	if (fmt == EW_LOG_CRI)
		return rl_cri_rotated(path, out, len);
	n = snprintf(out, len, "%s.1", path);
	return n >= 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

int ew_runtime_log_docker_path(const char *host_root, const char *docker_root,
			       const char *container_id, enum ew_log_format fmt, char *out,
			       size_t len)
{
	int n;

	if (!container_id || !out || !len || !ew_meta_id_valid(container_id))
		return -EINVAL;
	host_root = host_root ? host_root : "";
	docker_root = docker_root ? docker_root : RL_DOCKER_ROOT;
	if (fmt == EW_LOG_DOCKER_JSON)
		n = snprintf(out, len, "%s%s/containers/%s/%s-json.log", host_root, docker_root,
			     container_id, container_id);
	else if (fmt == EW_LOG_DOCKER_LOCAL)
		n = snprintf(out, len, "%s%s/containers/%s/local-logs/container.log", host_root,
			     docker_root, container_id);
	else
		return -EINVAL;
	if (n < 0)
		return -EINVAL;
	return (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int ew_runtime_log_cri_path(const char *host_root, const char *pods_root, const char *pod_ns,
			    const char *pod_name, const char *pod_uid, const char *container,
			    int restart_count, char *out, size_t len)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int n, m, best = -1;

	if (!pod_ns || !pod_name || !pod_uid || !container || !out || !len ||
	    !ew_meta_component_valid(pod_ns) || !ew_meta_component_valid(pod_name) ||
	    !ew_meta_uid_valid(pod_uid) || !ew_meta_component_valid(container))
		return -EINVAL;
	host_root = host_root ? host_root : "";
	pods_root = pods_root ? pods_root : RL_PODS_LOG_ROOT;
	if (restart_count >= 0)
		n = snprintf(out, len, "%s%s/%s_%s_%s/%s/%d.log", host_root, pods_root, pod_ns,
			     pod_name, pod_uid, container, restart_count);
	else
		n = snprintf(out, len, "%s%s/%s_%s_%s/%s", host_root, pods_root, pod_ns, pod_name,
			     pod_uid, container);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= len)
		return -ENAMETOOLONG;
	if (restart_count >= 0)
		return 0;

	d = opendir(out);
	if (!d)
		return errno == ENOTDIR ? -ENOENT : -errno;
	while ((de = readdir(d))) {
		int a = ew_meta_log_attempt(de->d_name,
					    false); /* the current file, not a rotated one */

		if (a > best)
			best = a;
	}
	if (best < 0)
		return -ENOENT;
	m = snprintf(out + n, len - (size_t)n, "/%d.log", best);
	return m < 0 || (size_t)m >= len - (size_t)n ? -ENAMETOOLONG : 0;
}

/* Docker's dual logging cache of a container (its id checked by the caller already). */
static int rl_docker_cached_path(const struct ew_meta_paths *paths, const char *id, char *out,
				 size_t len)
{
	int n = snprintf(out, len, "%s%s/containers/%s/container-cached.log",
			 paths->host_root ? paths->host_root : "",
			 paths->docker_root ? paths->docker_root : RL_DOCKER_ROOT, id);

	if (n < 0)
		return -EINVAL;
	return (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int ew_runtime_log_locate(const struct ew_meta_paths *paths, const struct ew_identity *id,
			  char *path, size_t len, enum ew_log_format *fmt)
{
	const struct ew_meta *m = &id->meta;
	const char *uid = m->pod_uid[0] ? m->pod_uid : id->cg.pod_uid;
	struct stat st;
	int r;

	if (id->cg.kubernetes) {
		/* The sandbox (pause) writes nothing worth reading; names unknown, no path. */
		if (m->sandbox || !m->pod_namespace[0] || !m->pod_name[0] || !uid[0] || !m->name[0])
			return -ENOENT;
		*fmt = EW_LOG_CRI;
		r = ew_runtime_log_cri_path(paths->host_root, paths->pods_log_root,
					    m->pod_namespace, m->pod_name, uid, m->name, -1, path,
					    len);
		return r == -EINVAL ? -ENOENT : r;
	}
	if (id->cg.runtime == EW_RT_PODMAN) {
		/* Podman's k8s-file driver (its default without systemd): conmon writes the CRI
		 * format to the container's userdata, one file across its restarts. */
		if (!ew_meta_id_valid(id->cg.container_id))
			return -ENOENT;
		r = snprintf(path, len, "%s%s/%s/userdata/ctr.log", paths->host_root,
			     paths->libpod_root, id->cg.container_id);
		if (r < 0 || (size_t)r >= len)
			return -ENAMETOOLONG;
		if (lstat(path, &st) < 0)
			return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
		*fmt = EW_LOG_CRI;
		return S_ISREG(st.st_mode) ? 0 : -ENOENT;
	}
	if (id->cg.runtime != EW_RT_DOCKER)
		return -ENOENT;
	/*
	 * json-file is Docker's default driver, local its own file; a container of any other
	 * driver (journald, the default of Fedora's and RHEL's Docker; syslog, fluentd, gelf, ...)
	 * has, from Docker 20.10 on, the cache of "dual logging" that `docker logs` reads, in the
	 * local driver's format (unless the daemon turned it off: then no file).
	 */
	for (int i = 0; i < 3; i++) {
		enum ew_log_format f = i ? EW_LOG_DOCKER_LOCAL : EW_LOG_DOCKER_JSON;

		if (i < 2)
			r = ew_runtime_log_docker_path(paths->host_root, paths->docker_root,
						       id->cg.container_id, f, path, len);
		else
			r = rl_docker_cached_path(paths, id->cg.container_id, path, len);
		if (r == -EINVAL)
			return -ENOENT;
		if (r < 0)
			return r;
		if (lstat(path, &st) == 0) {
			*fmt = f;
			return S_ISREG(st.st_mode) ? 0 : -ENOENT;
		}
		if (errno != ENOENT && errno != ENOTDIR)
			return -errno;
	}
	return -ENOENT;
}

int ew_runtime_log_size(const char *path, off_t *ret)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	*ret = st.st_size;
	return 0;
}

const char *ew_log_format_name(enum ew_log_format fmt)
{
	switch (fmt) {
	case EW_LOG_DOCKER_JSON:
		return "docker-json-file";
	case EW_LOG_DOCKER_LOCAL:
		return "docker-local";
	case EW_LOG_CRI:
		return "cri";
	}
	return NULL;
}
