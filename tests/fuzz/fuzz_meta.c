// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The runtime metadata parsers on any bytes: a container with a host mount, or a broken
 * runtime, may leave anything in config.v2.json or config.json. The first byte chooses the
 * parser (even: Docker, odd: OCI; the seeds use 'D' and 'O') and its bit 1 whether the
 * container is a Kubernetes one for ew_identity_finish(); the rest is the file. The same
 * bytes then go to the parser of the file that holds a failed start's error (Docker's
 * config.v2.json for even, containerd's CRI status for odd).
 */
#include <errno.h>

#include "exitwatch/identity/identity.h"
#include "exitwatch/identity/runtime_meta.h"
#include "fuzz/fuzz.h"

#define EW_FUZZ_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void check_meta(const struct ew_meta *m)
{
	size_t uid = strlen(m->pod_uid);

	EW_FUZZ_TERMINATED(m->name);
	EW_FUZZ_TERMINATED(m->image);
	EW_FUZZ_TERMINATED(m->pod_name);
	EW_FUZZ_TERMINATED(m->pod_namespace);
	EW_FUZZ_TERMINATED(m->pod_uid);
	EW_FUZZ_TERMINATED(m->compose_project);
	EW_FUZZ_TERMINATED(m->compose_service);
	EW_FUZZ_TERMINATED(m->restart_policy);
	EW_FUZZ_CHECK(m->restart_count >= -1, "restart_count %d", m->restart_count);
	/* The uid may become a path component (the pod log directory): only its two shapes. */
	EW_FUZZ_CHECK(uid == 0 || uid == 32 || uid == 36, "pod_uid '%s'", m->pod_uid);
	for (size_t i = 0; i < uid; i++)
		EW_FUZZ_CHECK(strchr("0123456789abcdef-", m->pod_uid[i]), "pod_uid '%s'",
			      m->pod_uid);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ew_identity *id;
	char err[512], cause[64], *json; /* small: the cut at a character is fuzzed too */
	bool oci, k8s;
	int r;

	if (size < 1)
		return 0;
	oci = data[0] & 1;
	k8s = data[0] & 2;
	json = ew_fuzz_dup(data + 1, size - 1);
	id = calloc(1, sizeof(*id));
	if (!json || !id) {
		free(json);
		free(id);
		return 0;
	}
	err[0] = '\0';
	r = oci ? ew_meta_parse_oci(json, size - 1, &id->meta, err, sizeof(err))
		: ew_meta_parse_docker(json, size - 1, &id->meta, err, sizeof(err));
	EW_FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM, "returned %d", r);
	EW_FUZZ_TERMINATED(err);
	if (r < 0) {
		EW_FUZZ_CHECK(err[0], "an error without a message");
		EW_FUZZ_CHECK(ew_fuzz_one_line(err), "message is not one line: %s", err);
	} else {
		check_meta(&id->meta);
		/* What the resolver does next with these names. */
		id->has_meta = true;
		id->cg.runtime = oci ? EW_RT_CONTAINERD : EW_RT_DOCKER;
		ew_strlcpy(id->cg.container_id, EW_FUZZ_ID, sizeof(id->cg.container_id));
		if (k8s) {
			id->cg.kubernetes = true;
			ew_strlcpy(id->cg.pod_uid, "6f2d8a4c-0e1b-4d3f-a5c7-9b1d3f5e7a2c",
				   sizeof(id->cg.pod_uid));
		}
		ew_identity_finish(id);
		EW_FUZZ_TERMINATED(id->key);
		EW_FUZZ_TERMINATED(id->workload);
		EW_FUZZ_TERMINATED(id->display);
		EW_FUZZ_CHECK(id->key[0] && id->workload[0] && id->display[0],
			      "key '%s' workload '%s' display '%s'", id->key, id->workload,
			      id->display);
	}
	/* The same bytes as the file that holds a failed start's error (the CRI status for odd). */
	err[0] = '\0';
	r = oci ? ew_meta_parse_cri_start_error(json, size - 1, cause, sizeof(cause), err,
						sizeof(err))
		: ew_meta_parse_docker_start_error(json, size - 1, cause, sizeof(cause), err,
						   sizeof(err));
	EW_FUZZ_CHECK(r >= 0 || r == -EINVAL || r == -ENOMEM, "start error: returned %d", r);
	EW_FUZZ_TERMINATED(cause);
	EW_FUZZ_CHECK(r < 0 ? !cause[0] : (size_t)r == strlen(cause), "start error: %d for '%s'", r,
		      cause);
	free(json);
	free(id);
	return 0;
}
