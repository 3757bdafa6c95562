// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ew_cgroup_parse() on any bytes: the kernel hands us cgroup names that any process allowed
 * to mkdir under the cgroup root chose. The result then goes through ew_identity_finish(), as
 * the resolver does with every path.
 */
#include <errno.h>

#include "exitwatch/identity/identity.h"
#include "fuzz/fuzz.h"

static bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* 8-4-4-4-12, or a static pod's 32 hex digits. */
static void check_uid(const char *uid)
{
	size_t len = strlen(uid);

	EW_FUZZ_CHECK(len == 36 || len == 32, "pod_uid '%s' is neither 36 nor 32 characters", uid);
	for (size_t i = 0; i < len; i++) {
		bool dash = len == 36 && (i == 8 || i == 13 || i == 18 || i == 23);

		EW_FUZZ_CHECK(dash ? uid[i] == '-' : is_lower_hex(uid + i, 1),
			      "pod_uid '%s' is not lower-case hex in its shape", uid);
	}
}

static void check_info(const char *path, const struct ew_cgroup_info *cg)
{
	size_t idlen = strnlen(cg->container_id, sizeof(cg->container_id));

	EW_FUZZ_TERMINATED(cg->container_id);
	EW_FUZZ_TERMINATED(cg->pod_uid);
	EW_FUZZ_TERMINATED(cg->qos);
	EW_FUZZ_TERMINATED(cg->unit);
	EW_FUZZ_CHECK(cg->runtime >= EW_RT_DOCKER && cg->runtime <= EW_RT_CGROUP,
		      "runtime %d after success", (int)cg->runtime);
	EW_FUZZ_CHECK(idlen == 0 || (idlen == 64 && is_lower_hex(cg->container_id, 64)),
		      "container_id '%s' is neither empty nor 64 lower-case hex", cg->container_id);
	switch (cg->runtime) {
	case EW_RT_DOCKER:
	case EW_RT_CONTAINERD:
	case EW_RT_CRIO:
	case EW_RT_PODMAN:
		EW_FUZZ_CHECK(idlen == 64, "a %s container without an id",
			      ew_runtime_name(cg->runtime));
		EW_FUZZ_CHECK(strstr(path, cg->container_id), "id '%s' is not in the path",
			      cg->container_id);
		EW_FUZZ_CHECK(!cg->unit[0], "a container with a unit");
		break;
	case EW_RT_SYSTEMD:
		EW_FUZZ_CHECK(idlen == 0 && !cg->kubernetes, "a systemd unit with container ids");
		EW_FUZZ_CHECK(strlen(cg->unit) > strlen(".service") &&
				      !strcmp(cg->unit + strlen(cg->unit) - strlen(".service"),
					      ".service"),
			      "unit '%s' is not a service", cg->unit);
		EW_FUZZ_CHECK(strstr(path, cg->unit), "unit '%s' is not in the path", cg->unit);
		break;
	default:
		EW_FUZZ_CHECK(idlen == 0 && !cg->kubernetes && !cg->unit[0],
			      "a plain cgroup with container fields");
		break;
	}
	if (cg->kubernetes) {
		check_uid(cg->pod_uid);
		EW_FUZZ_CHECK(!strcmp(cg->qos, "guaranteed") || !strcmp(cg->qos, "burstable") ||
				      !strcmp(cg->qos, "besteffort"),
			      "qos '%s'", cg->qos);
	} else {
		EW_FUZZ_CHECK(!cg->pod_uid[0] && !cg->qos[0], "pod fields outside Kubernetes");
	}
}

/* A /proc/<pid>/cgroup line says the same as the path it carries ("0::/x" is "/x"). */
static void check_proc_line(const char *path, int r, const struct ew_cgroup_info *cg)
{
	struct ew_cgroup_info again;
	char line[EW_CGROUP_PATH_MAX];
	int r2;

	if (path[0] != '/' || strlen(path) + 3 >= sizeof(line))
		return;
	snprintf(line, sizeof(line), "0::%s", path);
	r2 = ew_cgroup_parse(line, &again);
	EW_FUZZ_CHECK(r2 == r, "'%s' returned %d, '%s' %d", path, r, line, r2);
	EW_FUZZ_CHECK(!memcmp(&again, cg, sizeof(again)), "'%s' and '%s' differ", path, line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ew_identity *id = calloc(1, sizeof(*id));
	char *path = ew_fuzz_strdup(data, size);
	int r;

	if (!id || !path) {
		free(id);
		free(path);
		return 0;
	}
	r = ew_cgroup_parse(path, &id->cg);
	EW_FUZZ_CHECK(r == 0 || r == -ENOENT || r == -EINVAL, "returned %d", r);
	check_proc_line(path, r, &id->cg);
	if (r == 0) {
		check_info(path, &id->cg);
		ew_strlcpy(id->cgroup, path, sizeof(id->cgroup));
		ew_identity_finish(id);
		EW_FUZZ_TERMINATED(id->key);
		EW_FUZZ_TERMINATED(id->workload);
		EW_FUZZ_TERMINATED(id->display);
		EW_FUZZ_CHECK(strchr(id->key, ':') && id->workload[0], "key '%s' workload '%s'",
			      id->key, id->workload);
	} else {
		EW_FUZZ_CHECK(id->cg.runtime == EW_RT_NONE && !id->cg.container_id[0] &&
				      !id->cg.kubernetes && !id->cg.unit[0],
			      "a failed parse left fields set");
	}
	free(path);
	free(id);
	return 0;
}
