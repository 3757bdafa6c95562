// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The keys that say "same container, restarted" and "same workload" (design.md "Identity"). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "exitwatch/identity/identity.h"
#include "exitwatch/util/util.h"

/*
 * The alphabet of what the controllers generate in a pod's name (k8s.io/apimachinery's
 * util/rand): generateName's 5-character suffix, and the pod-template-hash (SafeEncodeString()
 * of the template's hash). It has no vowels and no 0, 1 or 3, so that nothing generated spells
 * a word: a part with any other character is a name someone chose ("node-exporter"), not one
 * to strip.
 */
static const char k8s_alphanums[] = "bcdfghjklmnpqrstvwxz2456789";

static bool all_generated(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr(k8s_alphanums, s[i]))
			return false;
	return n > 0;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return n > 0;
}

bool ew_identity_key_pod(const char *key, char uid[EW_UID_LEN], char container[EW_NAME_LEN])
{
	const char *u, *slash;
	size_t ul;

	if (strncmp(key, "k8s:", 4))
		return false;
	u = key + 4;
	slash = strchr(u, '/');
	ul = slash ? (size_t)(slash - u) : strlen(u);
	/* A pod uid is hex and dashes: a workload key ("k8s:<ns>/<owner>/...") is not one. */
	if (!ul || ul >= EW_UID_LEN || strspn(u, "0123456789abcdef-") != ul)
		return false;
	if (slash && (!slash[1] || strchr(slash + 1, '/') ||
		      ew_strlcpy(container, slash + 1, EW_NAME_LEN) >= EW_NAME_LEN))
		return false;
	if (!slash)
		container[0] = '\0';
	memcpy(uid, u, ul);
	uid[ul] = '\0';
	return true;
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
		if (tail == 5 && all_generated(d1 + 1, 5)) {
			/*
			 * <owner>-<5>. A Deployment's pod is <deployment>-<pod-template-hash>-<5>
			 * (the hash 6-10 of the same alphabet), a CronJob's <cronjob>-<its Job's
			 * scheduled minute since the epoch, decimal>-<5>: the middle part goes too.
			 */
			size_t hl = d2 ? (size_t)(d1 - d2) - 1 : 0;

			keep = (size_t)(d1 - pod);
			if (d2 && hl >= 6 && hl <= 10 &&
			    (all_generated(d2 + 1, hl) || all_digits(d2 + 1, hl)))
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

/*
 * out = the concatenation of the strings up to NULL, cut to fit as snprintf() cuts: the keys
 * are built for every container start, and printf's format parsing cost more than the rest.
 */
static void join(char *out, size_t len, const char *const *parts)
{
	size_t o = 0;

	if (!len)
		return;
	for (; *parts; parts++) {
		size_t n = strlen(*parts);

		if (n > len - 1 - o)
			n = len - 1 - o;
		memcpy(out + o, *parts, n);
		o += n;
	}
	out[o] = '\0';
}

/* join(out, len, "a", b, ...): the parts end at the NULL the macro adds. */
#define JOIN(out, ...) join(out, sizeof(out), (const char *const[]){__VA_ARGS__, NULL})

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
			JOIN(id->key, "k8s:", cg->pod_uid, "/", cname);
		else
			JOIN(id->key, "k8s:", cg->pod_uid);
		if (m->pod_namespace[0] && m->pod_name[0]) {
			ew_pod_owner(m->pod_name, owner, sizeof(owner));
			if (cname)
				JOIN(id->workload, "k8s:", m->pod_namespace, "/", owner, "/",
				     cname);
			else
				JOIN(id->workload, "k8s:", m->pod_namespace, "/", owner);
		} else {
			ew_strlcpy(id->workload, id->key, sizeof(id->workload));
		}
	} else if (cg->container_id[0]) {
		JOIN(id->key, rt, ":", cg->container_id);
		if (m->compose_project[0] && m->compose_service[0])
			JOIN(id->workload, "compose:", m->compose_project, "/", m->compose_service);
		else
			ew_strlcpy(id->workload, id->key, sizeof(id->workload));
	} else if (cg->runtime == EW_RT_SYSTEMD) {
		JOIN(id->key, "systemd:", cg->unit);
		ew_strlcpy(id->workload, id->key, sizeof(id->workload));
	} else {
		JOIN(id->key, "cgroup:", id->cgroup);
		ew_strlcpy(id->workload, id->key, sizeof(id->workload));
	}

	if (m->name[0])
		ew_strlcpy(id->display, m->name, sizeof(id->display));
	else if (cg->container_id[0])
		ew_strlcpy_n(id->display, sizeof(id->display), cg->container_id, 12);
	else if (cg->unit[0])
		ew_strlcpy(id->display, cg->unit, sizeof(id->display));
	else
		ew_strlcpy(id->display, id->cgroup, sizeof(id->display));
}
