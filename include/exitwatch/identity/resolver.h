/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cgroup id -> identity. At a container's start the resolver parses the cgroup path the kernel
 * captured, reads the runtime's files (once: they may be gone by the exit), derives the keys,
 * and caches the result by cgroup id until the exit has been reported (or the sweep of the
 * kernel's map found the main gone without one). A re-exec of the same
 * main process reuses the cached identity; a new main process (a restart) reads the files again.
 */
#ifndef EXITWATCH_RESOLVER_H
#define EXITWATCH_RESOLVER_H

#include <stdbool.h>
#include <stdint.h>

#include "exitwatch/core/event.h"
#include "exitwatch/identity/identity.h"
#include "exitwatch/identity/runtime_meta.h"

struct ew_resolver_opts {
	struct ew_meta_paths paths;
	bool read_meta; /* false: names from the cgroup only */
	/* paths are these pinned roots (ew_meta_paths_pin()): messages name the real paths */
	const struct ew_meta_pins *pins;
};

struct ew_resolver;

struct ew_resolver *ew_resolver_new(const struct ew_resolver_opts *opts);
void ew_resolver_free(struct ew_resolver *r);

/*
 * A main process started (or was found running): resolves and caches its identity, and
 * remembers its executable and argv[0] for the exit record. A re-exec only updates those.
 * Returns 0 (identity in *ret) or -ENOMEM.
 */
int ew_resolver_start(struct ew_resolver *r, const struct ew_event *start, struct ew_identity *ret);

/* What the start recorded of the main process, for the records that come after it. */
struct ew_proc_names {
	char comm[EW_COMM_LEN];
	char argv0[EW_PATH_LEN];
	char filename[EW_PATH_LEN];
};

/*
 * The identity of a cgroup seen at its start. For a cgroup never seen (its start record was
 * lost), returns -ENOENT and fills *ret with a stand-in keyed by the cgroup id.
 * names (may be NULL) receives what the start recorded, or empty strings.
 */
int ew_resolver_lookup(struct ew_resolver *r, uint64_t cgroup_id, struct ew_identity *ret,
		       struct ew_proc_names *names);

/*
 * An identity known from before this resolver started (a restored state file): what it says of
 * its pod (namespace, pod name, the image its container of that name ran) names the pod's
 * later containers that are gone before their files are read, as a container read here would.
 * Anything but a Kubernetes identity read from its runtime's files is ignored. 0 or -ENOMEM.
 */
int ew_resolver_learn(struct ew_resolver *r, const struct ew_identity *id);

/*
 * What this resolver knows of the pod of the Kubernetes identity keyed key (ew_identity_key_pod()),
 * for the state file: an identity asleep keeps no names, and its loop's next attempt may be
 * gone before a restarted agent reads it. Fills pod_uid, pod_namespace, pod_name, name (the
 * container's) and image of m, and clears the rest; true when it knows the pod's names or the
 * container's image.
 */
bool ew_resolver_recall(const struct ew_resolver *r, const char *key, struct ew_meta *m);

/*
 * What ew_resolver_recall() gave for key, back from a state file: the pod's namespace and name,
 * and the image of the key's container. 0, -EINVAL (key is not a Kubernetes container's) or
 * -ENOMEM.
 */
int ew_resolver_learn_pod(struct ew_resolver *r, const char *key, const char *pod_namespace,
			  const char *pod_name, const char *image);

/* The exit was reported, or never will be (the sweep): drop the cache entry. */
void ew_resolver_forget(struct ew_resolver *r, uint64_t cgroup_id);

/* Containers cached (one per live main process). */
uint32_t ew_resolver_count(const struct ew_resolver *r);

#endif
