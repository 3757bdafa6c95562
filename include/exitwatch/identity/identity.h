/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a container is: the runtime and ids its cgroup path names (identity/cgroup.c, pure),
 * the names its runtime's files give (identity/runtime_meta.c), and the keys that say "the same
 * container, restarted" and "the same workload" (identity/resolver.c).
 */
#ifndef EXITWATCH_IDENTITY_H
#define EXITWATCH_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exitwatch/abi.h"
#include "exitwatch/core/names.h"

enum ew_runtime {
	EW_RT_NONE = 0,	  /* not a container: the root cgroup, bad input */
	EW_RT_DOCKER,	  /* docker/<id>, docker-<id>.scope */
	EW_RT_CONTAINERD, /* cri-containerd-<id>.scope, kubepods/<qos>/pod<uid>/<id> */
	EW_RT_CRIO,	  /* crio-<id>.scope, kubepods/<qos>/pod<uid>/crio-<id> */
	EW_RT_PODMAN,	  /* libpod-<id>.scope, libpod_parent/libpod-<id> */
	EW_RT_SYSTEMD,	  /* <unit>.service */
	EW_RT_CGROUP,	  /* anything else: the cgroup path is the identity */
};

/* "docker", "containerd", "cri-o", "podman", "systemd", "cgroup", "none". */
const char *ew_runtime_name(enum ew_runtime rt);

/* What the cgroup path alone says. */
struct ew_cgroup_info {
	enum ew_runtime runtime;
	bool kubernetes;	      /* under kubepods: pod_uid is set */
	char container_id[EW_ID_LEN]; /* lower-case hex; empty for systemd/cgroup */
	char pod_uid[EW_UID_LEN];     /* as the API server shows it (static pods: 32 hex) */
	char qos[16];		      /* "guaranteed", "burstable", "besteffort" */
	char unit[EW_NAME_LEN];	      /* systemd unit ("nginx.service"), else empty */
};

/*
 * Parses an absolute cgroup v2 path (or the v1/hybrid name=systemd path) into *ret.
 * Returns 0 on success, -ENOENT for the root cgroup "/", -EINVAL for anything that is not an
 * absolute path (empty, relative, too long). Pure: reads nothing but its arguments. A path that
 * starts with "..." (ancestors not captured) is accepted: matching works from the leaf up.
 */
int ew_cgroup_parse(const char *path, struct ew_cgroup_info *ret);

/* Names from the runtime's own files; every field may be empty. */
struct ew_meta {
	char name[EW_NAME_LEN];		   /* container name (Docker: without the leading '/') */
	char image[EW_NAME_LEN];	   /* image reference as the user gave it */
	char pod_name[EW_NAME_LEN];	   /* Kubernetes */
	char pod_namespace[EW_NAME_LEN];   /* Kubernetes */
	char pod_uid[EW_UID_LEN];	   /* Kubernetes */
	char compose_project[EW_NAME_LEN]; /* com.docker.compose.project */
	char compose_service[EW_NAME_LEN]; /* com.docker.compose.service */
	char restart_policy[32];	   /* Docker HostConfig.RestartPolicy.Name */
	int restart_count;		   /* runtime's own count; -1 when unknown */
	bool sandbox;			   /* Kubernetes pause/infra container */
};

/* Everything the rest of the agent knows about a container. */
struct ew_identity {
	uint64_t cgroup_id;
	char cgroup[EW_CGROUP_PATH_MAX];
	struct ew_cgroup_info cg;
	struct ew_meta meta;
	bool has_meta;	      /* meta came from the runtime's files */
	char key[EW_KEY_LEN]; /* survives restarts: "docker:<id>", "k8s:<pod uid>/<name>", ... */
	char workload[EW_KEY_LEN]; /* groups replicas: "k8s:<ns>/<owner>/<container>", ... */
	char display[EW_NAME_LEN]; /* short name for messages: container name or short id */
	/* The resolver's number for this content (0: none given): two identities with the same
	 * rev from one resolver are equal, so a renderer may reuse what it made of one. */
	uint64_t rev;
	/*
	 * The resolver's packed copy of exactly this identity, or NULL: whoever keeps the
	 * identity takes a hold of it (ew_subject_ref()) instead of packing a copy of its own.
	 * Valid while the resolver has it cached, i.e. during the call it is passed to.
	 */
	struct ew_subject *packed;
};

/*
 * Fills key, workload and display from cg and meta (design.md's identity table). Pure.
 *   Kubernetes  key "k8s:<pod uid>/<container name>" ("k8s:<pod uid>" while no file named the
 *               container: never its id, which a restart changes),
 *               workload "k8s:<namespace>/<owner>/<container name>" ("k8s:<ns>/<owner>")
 *   Docker      key "docker:<id>", workload "compose:<project>/<service>" or the key
 *   Podman, CRI-O and containerd outside Kubernetes: "<runtime>:<id>"
 *   systemd     "systemd:<unit>"; anything else "cgroup:<path>"
 */
void ew_identity_finish(struct ew_identity *id);

/*
 * The pod uid and container name in a Kubernetes identity key: "k8s:<pod uid>/<container>", or
 * "k8s:<pod uid>" for a container keyed by its pod (container then empty). False for any other
 * key, or a part too long for its field. Pure.
 */
bool ew_identity_key_pod(const char *key, char uid[EW_UID_LEN], char container[EW_NAME_LEN]);

/*
 * The owning workload's name guessed from a pod name, as the controllers generate them, from
 * Kubernetes' alphabet of generated names ("bcdfghjklmnpqrstvwxz2456789"):
 * "api-7d9f8b6c4d-x2x7k" (Deployment) -> "api", "web-0" (StatefulSet) -> "web",
 * "node-agent-x2x7k", "node-exporter-7xk2p" (DaemonSet, Job) -> "node-agent", "node-exporter",
 * "backup-28234560-x7k2p" (CronJob), "render-0-x7k2p" (Indexed Job) -> "backup", "render"; a
 * name of 63 whose generateName was cut to 58 (no dash before the 5 random characters),
 * "<deployment of 49>-7d9f8b6cx7k2p" -> "<deployment of 49>"; any other name is its own. Pure.
 */
void ew_pod_owner(const char *pod_name, char *out, size_t outlen);

/*
 * A compact, immutable copy of an identity in one allocation: what the resolver caches and the
 * detector keeps per identity (an ew_identity is kilobytes of fixed buffers; this is what it
 * holds). Immutable, so shared: ew_subject_ref() takes another hold of it (the detector's
 * identity and its workload's last subject are one), ew_subject_free() lets one go.
 */
struct ew_subject;
struct ew_subject *ew_subject_pack(const struct ew_identity *id);
/* Sets every member of *ret (packed: NULL); the bytes past each string's NUL are not cleared. */
void ew_subject_unpack(const struct ew_subject *s, struct ew_identity *ret);
/*
 * *ret as memset(0) would leave it, member by member, as far as anyone reads it: every scalar
 * 0 or NULL and every string empty, the bytes past its NUL left as they were. An identity is
 * 4.7 KiB of buffers; clearing them all was half of resolving a start (callgrind).
 */
void ew_identity_clear(struct ew_identity *ret);
/* Whether unpacking s would give id, member by member (its revision and packed aside). */
bool ew_subject_same(const struct ew_subject *s, const struct ew_identity *id);
const char *ew_subject_key(const struct ew_subject *s);
const char *ew_subject_workload(const struct ew_subject *s);
uint64_t ew_subject_cgroup_id(const struct ew_subject *s);
struct ew_subject *ew_subject_ref(struct ew_subject *s); /* s, held once more; NULL: NULL */
void ew_subject_free(struct ew_subject *s);		 /* the last hold frees it */

#endif
