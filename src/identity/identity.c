// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The keys that say "same container, restarted" and "same workload" (design.md "Identity"). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "exitwatch/identity/identity.h"
#include "exitwatch/util/util.h"

static bool all_alnum_lower(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i])))
			return false;
	return true;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return n > 0;
}

void ew_pod_owner(const char *pod, char *out, size_t outlen)
{
	size_t n = strlen(pod);
	const char *d1 = strrchr(pod, '-');
	size_t keep = n;

	if (d1 && d1 != pod) {
		size_t tail = n - (size_t)(d1 - pod) - 1;
		const char *d2 = NULL;

		for (const char *p = d1 - 1; p > pod; p--)
			if (*p == '-') {
				d2 = p;
				break;
			}
		if (tail == 5 && all_alnum_lower(d1 + 1, 5)) {
			/* <deployment>-<pod-template-hash>-<5>: the hash is 6-10 alnum chars. */
			size_t hl = d2 ? (size_t)(d1 - d2) - 1 : 0;

			keep = (size_t)(d1 - pod);
			if (d2 && hl >= 6 && hl <= 10 && all_alnum_lower(d2 + 1, hl))
				keep = (size_t)(d2 - pod);
		} else if (all_digits(d1 + 1, tail)) { /* <statefulset>-<ordinal> */
			keep = (size_t)(d1 - pod);
		}
	}
	if (keep >= outlen)
		keep = outlen - 1;
	memcpy(out, pod, keep);
	out[keep] = '\0';
}

void ew_identity_finish(struct ew_identity *id)
{
	const struct ew_cgroup_info *cg = &id->cg;
	const struct ew_meta *m = &id->meta;
	const char *rt = ew_runtime_name(cg->runtime);
	char owner[EW_NAME_LEN];

	if (cg->kubernetes) {
		/* The pause sandbox has no container name: call it POD, as the kubelet does. */
		const char *cname = m->name[0] ? m->name : m->sandbox ? "POD" : NULL;

		/*
		 * A container whose name no file gave (gone before it was read, and no kubelet
		 * link for it yet) is keyed by its pod: a restart is a new container id, so a key
		 * by id would make every restart a new identity, and a crash loop invisible.
		 */
		if (cname)
			snprintf(id->key, sizeof(id->key), "k8s:%s/%s", cg->pod_uid, cname);
		else
			snprintf(id->key, sizeof(id->key), "k8s:%s", cg->pod_uid);
		if (m->pod_namespace[0] && m->pod_name[0]) {
			ew_pod_owner(m->pod_name, owner, sizeof(owner));
			if (cname)
				snprintf(id->workload, sizeof(id->workload), "k8s:%s/%s/%s",
					 m->pod_namespace, owner, cname);
			else
				snprintf(id->workload, sizeof(id->workload), "k8s:%s/%s",
					 m->pod_namespace, owner);
		} else {
			ew_strlcpy(id->workload, id->key, sizeof(id->workload));
		}
	} else if (cg->container_id[0]) {
		snprintf(id->key, sizeof(id->key), "%s:%s", rt, cg->container_id);
		if (m->compose_project[0] && m->compose_service[0])
			snprintf(id->workload, sizeof(id->workload), "compose:%s/%s",
				 m->compose_project, m->compose_service);
		else
			ew_strlcpy(id->workload, id->key, sizeof(id->workload));
	} else if (cg->runtime == EW_RT_SYSTEMD) {
		snprintf(id->key, sizeof(id->key), "systemd:%s", cg->unit);
		ew_strlcpy(id->workload, id->key, sizeof(id->workload));
	} else {
		snprintf(id->key, sizeof(id->key), "cgroup:%s", id->cgroup);
		ew_strlcpy(id->workload, id->key, sizeof(id->workload));
	}

	if (m->name[0])
		ew_strlcpy(id->display, m->name, sizeof(id->display));
	else if (cg->container_id[0])
		snprintf(id->display, sizeof(id->display), "%.12s", cg->container_id);
	else if (cg->unit[0])
		ew_strlcpy(id->display, cg->unit, sizeof(id->display));
	else
		ew_strlcpy(id->display, id->cgroup, sizeof(id->display));
}
