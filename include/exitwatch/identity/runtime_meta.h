/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Container names from the runtime's own files on the host, read-only, parsed with json-c:
 *   Docker      <root>/var/lib/docker/containers/<id>/config.v2.json
 *   containerd  <root>/run/containerd/io.containerd.runtime.v2.task/<ns>/<id>/config.json
 *               (OCI spec; Kubernetes names in io.kubernetes.cri.* annotations)
 *   CRI-O       <root>/run/containers/storage/overlay-containers/<id>/userdata/config.json
 *               (io.kubernetes.container.name, io.kubernetes.pod.* annotations)
 *   Kubernetes  <root>/var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log
 *   containerd's CRI plugin  <root>/var/lib/containerd/io.containerd.grpc.v1.cri/containers/<id>/
 *               status (a failed start's error: ew_meta_read_start_error())
 * <root> is --host-root ("" on the host, "/host" in the DaemonSet). Files larger than
 * EW_META_MAX_BYTES are refused: a runtime file that big is not one we understand.
 */
#ifndef EXITWATCH_RUNTIME_META_H
#define EXITWATCH_RUNTIME_META_H

#include <stdbool.h>
#include <stddef.h>

#include "exitwatch/identity/identity.h"

#define EW_META_MAX_BYTES (4 * 1024 * 1024)

struct ew_meta_paths {
	const char *host_root;	     /* "" or a prefix such as "/host"; never NULL */
	const char *docker_root;     /* default "/var/lib/docker" */
	const char *containerd_root; /* default "/run/containerd/io.containerd.runtime.v2.task" */
	const char *crio_root;	     /* default "/run/containers/storage/overlay-containers" */
	const char *pods_log_root;   /* default "/var/log/pods" */
	/* The kubelet's <pod>_<ns>_<container>-<id>.log links; default "/var/log/containers" */
	const char *containers_log_root;
	/* Podman's bundles; default "/var/lib/containers/storage/overlay-containers" */
	const char *libpod_root;
	/* containerd's CRI plugin state; default "/var/lib/containerd/io.containerd.grpc.v1.cri" */
	const char *containerd_cri_root;
};

/* Fills the defaults for NULL members. */
void ew_meta_paths_default(struct ew_meta_paths *p);

/*
 * The runtime directories, opened once while the agent may still traverse anything: a state
 * directory may lack its owner's x bit (Docker's shims create /run/containerd 0600), and uid 0
 * without CAP_DAC_READ_SEARCH, as exitwatch runs once attached, cannot walk through it. Each
 * root that exists becomes "/proc/self/fd/<N>" in *ret (host_root folded in, so ret->host_root
 * is ""): a lookup from there checks only the directories below the root, and every path-based
 * call (open, opendir, inotify_add_watch) takes it. A root that does not exist yet stays a
 * plain path. Returns 0 or -ENOMEM; *ret points into *pins, which outlives every use of it.
 */
struct ew_meta_pins;
int ew_meta_paths_pin(const struct ew_meta_paths *in, struct ew_meta_pins **pins,
		      struct ew_meta_paths *ret);
/*
 * Rewrites each "/proc/self/fd/<N>" of a pinned root in msg (in place, bounded by len) as the
 * root's own path, for the messages a user reads. pins may be NULL.
 */
void ew_meta_pins_unpin_msg(const struct ew_meta_pins *pins, char *msg, size_t len);
/* The host_root the pinned paths were made from ("" for NULL pins). */
const char *ew_meta_pins_host_root(const struct ew_meta_pins *pins);
/* How many roots were opened (the rest stay plain paths). */
int ew_meta_pins_count(const struct ew_meta_pins *pins);
void ew_meta_pins_free(struct ew_meta_pins *pins);

/* Docker, containerd, CRI-O and Podman keep files ew_meta_read() reads; other runtimes none. */
bool ew_meta_runtime_has_files(enum ew_runtime rt);

/*
 * Pure parsers of one file's bytes (not NUL-terminated necessarily). Return 0 and fill what
 * the file has (ret is cleared first, restart_count -1 when absent), -EINVAL when the bytes are
 * not JSON of the expected shape (the message is in err, if err is not NULL).
 */
int ew_meta_parse_docker(const char *json, size_t len, struct ew_meta *ret, char *err,
			 size_t errlen);
int ew_meta_parse_oci(const char *json, size_t len, struct ew_meta *ret, char *err, size_t errlen);
/*
 * A failed start's error in buf (NUL-terminated, cut at a UTF-8 boundary to size - 1 bytes):
 * Docker's config.v2.json State.Error, or containerd's CRI status Message when its Reason is
 * "StartError". Return its length, 0 when the file holds none, -EINVAL as the parsers above.
 */
int ew_meta_parse_docker_start_error(const char *json, size_t len, char *buf, size_t size,
				     char *err, size_t errlen);
int ew_meta_parse_cri_start_error(const char *json, size_t len, char *buf, size_t size, char *err,
				  size_t errlen);

/*
 * Whether Docker has a container of that id (its config.v2.json exists): a bare id under a
 * parent no layout names (`docker run --cgroup-parent`) is Docker's if so.
 */
bool ew_meta_docker_known(const struct ew_meta_paths *paths, const char *id);

/*
 * Whether containerd's CRI plugin still has a container of that id (its directory under the CRI
 * root, made at CreateContainer, removed at RemoveContainer): until then its log file is there
 * too, whatever became of its bundle.
 */
bool ew_meta_cri_known(const struct ew_meta_paths *paths, const char *id);

/*
 * Reads the metadata of the container cg names, from the files of cg->runtime, then completes
 * Kubernetes names from the pod log directory when the runtime file lacks them. Only a
 * container whose cgroup is a pod's (cg->kubernetes) has pod names or is a sandbox: elsewhere
 * the files' io.kubernetes.* labels are the workload's own, and are dropped. Returns 0;
 * 1 when a Kubernetes container's file was gone (CRI deletes the bundle of a task at its exit)
 * and the kubelet's /var/log/containers link named it instead (no image then);
 * -ENOENT when no file exists for it (not a runtime container, or already gone), -EFBIG for an
 * oversized file, -EINVAL for a malformed one, or another -errno; on an error *ret is left
 * cleared (as by ew_meta_parse_*). Never blocks on a FIFO or a device: only regular files are
 * opened (O_NONBLOCK, fstat check).
 */
int ew_meta_read(const struct ew_meta_paths *paths, const struct ew_cgroup_info *cg,
		 struct ew_meta *ret, char *err, size_t errlen);

/*
 * Names from the kubelet's <containers_log_root>/<pod>_<ns>_<container>-<id>.log link of
 * container id: fills name, pod_name and pod_namespace. 0, -ENOENT (no link), -EINVAL (not an
 * id), or -errno of the directory.
 */
int ew_meta_read_k8s_link(const struct ew_meta_paths *paths, const char *id, struct ew_meta *ret);

/*
 * Scans <root>/var/log/pods for the directory of pod_uid and, when container is non-empty,
 * the highest <restart>.log under it. Fills pod_namespace, pod_name, pod_uid and restart_count.
 * Returns 0, -ENOENT, or -errno.
 */
int ew_meta_read_pod_logs(const struct ew_meta_paths *paths, const char *pod_uid,
			  const char *container, struct ew_meta *ret);

/*
 * The container of pod_uid whose start failed between from_ns and to_ns (wall clock), by its
 * log file: a CRI runtime creates <pod log dir>/<container>/<attempt>.log when it starts the
 * container, before it forks the runtime's init, and the kubelet starts a pod's containers one
 * at a time, so the newest log file made in that span is that container's. Made: its birth
 * time, or its mtime where the filesystem keeps none (an empty log's is its creation). Fills
 * what ew_meta_read_pod_logs() does, plus name and restart_count (the attempt). Returns 0,
 * -ENOENT (no such log file), or -errno.
 */
int ew_meta_read_pod_log_started(const struct ew_meta_paths *paths, const char *pod_uid,
				 uint64_t from_ns, uint64_t to_ns, struct ew_meta *ret);

/*
 * Why the container cg names never ran, in its runtime's words (start_error.c): Docker's
 * State.Error, written at or after since_wall_ns (the runtime's init's fork on the wall clock:
 * an older one is an earlier start's), or containerd's CRI status of a StartError. Returns the
 * length in buf (> 0); 0 when the file holds no such error yet (the runtime writes it tens of
 * milliseconds after its init's exit: ask again); -ENOENT when the runtime keeps no such file
 * or it is gone; -EFBIG, -EINVAL or another -errno with the path and the reason in err.
 */
int ew_meta_read_start_error(const struct ew_meta_paths *paths, const struct ew_cgroup_info *cg,
			     uint64_t since_wall_ns, char *buf, size_t size, char *err,
			     size_t errlen);

#endif
