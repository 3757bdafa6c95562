// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Why a container never ran, in its runtime's words (runtime_meta.h,
 * ew_meta_read_start_error()). The runtime's init exits before the command's exec, so nothing
 * of the container wrote a line; what failed (a command not in the image, a missing working
 * directory) is the error runc gave its caller, which Docker and containerd's CRI plugin keep
 * in a file of the container for `docker inspect` and the kubelet's `kubectl describe`:
 *   Docker       <docker_root>/containers/<id>/config.v2.json   State.Error
 *   containerd   <cri_root>/containers/<id>/status               Message, Reason "StartError"
 * Both are written a few tens of milliseconds after the init's exit (the runtime's error
 * travels back through the shim first), so the caller asks again until its deadline.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "exitwatch/identity/runtime_meta.h"
#include "identity/meta_int.h"

typedef int (*start_error_parse_fn)(const char *json, size_t len, char *buf, size_t size, char *err,
				    size_t errlen);

static int read_one(const char *path, start_error_parse_fn parse, char *buf, size_t size, char *err,
		    size_t errlen)
{
	char msg[256];
	char *json;
	size_t len;
	int r;

	r = ew_meta_read_file(path, &json, &len, err, errlen);
	if (r < 0)
		return r;
	r = parse(json, len, buf, size, msg, sizeof(msg));
	free(json);
	if (r < 0)
		return ew_meta_errf(err, errlen, r, "%s: %s", path, msg);
	return r;
}

int ew_meta_read_start_error(const struct ew_meta_paths *paths, const struct ew_cgroup_info *cg,
			     uint64_t since_wall_ns, char *buf, size_t size, char *err,
			     size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;
	int n;

	if (size)
		buf[0] = '\0';
	if (!ew_meta_id_valid(cg->container_id))
		return -ENOENT;
	switch (cg->runtime) {
	case EW_RT_DOCKER:
		n = snprintf(path, sizeof(path), "%s%s/containers/%s/config.v2.json",
			     paths->host_root, paths->docker_root, cg->container_id);
		if (n < 0 || (size_t)n >= sizeof(path))
			return -ENAMETOOLONG;
		/*
		 * Docker keeps one file across `docker start`s, and State.Error until a start
		 * succeeds: an error from before this start (its init's fork) is an earlier one.
		 * dockerd writes the file whole, under a new name, so its mtime is the write's.
		 */
		if (stat(path, &st) < 0)
			return -errno;
		if ((uint64_t)st.st_mtim.tv_sec * 1000000000ULL + (uint64_t)st.st_mtim.tv_nsec <
		    since_wall_ns)
			return 0;
		return read_one(path, ew_meta_parse_docker_start_error, buf, size, err, errlen);
	case EW_RT_CONTAINERD:
		/* A CRI container is made anew for each attempt: its status is its own. */
		n = snprintf(path, sizeof(path), "%s%s/containers/%s/status", paths->host_root,
			     paths->containerd_cri_root, cg->container_id);
		if (n < 0 || (size_t)n >= sizeof(path))
			return -ENAMETOOLONG;
		return read_one(path, ew_meta_parse_cri_start_error, buf, size, err, errlen);
	default:
		return -ENOENT;
	}
}
