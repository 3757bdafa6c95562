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

/*
 * A number as Kubernetes prints one (strconv): an Indexed Job's index, a CronJob's minute, or the
 * start of one. Neither has a leading 0 unless it is 0, so "worker-007" is a name someone chose.
 */
static bool is_decimal(const char *s, size_t n)
{
	return all_digits(s, n) && (s[0] != '0' || n == 1);
}

/*
 * names.SimpleNameGenerator (k8s.io/apiserver): a generateName of more than GEN_BASE_MAX characters
 * is cut to that many before the GEN_RANDOM random ones, so that the name stays within 63.
 */
#define GEN_RANDOM   5
#define GEN_BASE_MAX 58
#define GEN_NAME_MAX (GEN_BASE_MAX + GEN_RANDOM)

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

/* The last '-' in s[0, n), or NULL. */
static const char *last_dash(const char *s, size_t n)
{
	while (n--)
		if (s[n] == '-')
			return s + n;
	return NULL;
}

/* How much of pod (n characters) is its owner's name. */
static size_t owner_len(const char *pod, size_t n)
{
	const char *d1 = last_dash(pod, n), *d2;
	size_t tail = d1 ? n - (size_t)(d1 - pod) - 1 : n, hl;

	if (d1 == pod)
		return n;
	if (d1 && tail == GEN_RANDOM && all_generated(d1 + 1, GEN_RANDOM)) {
		/*
		 * <owner>-<5>. A Deployment's pod is <deployment>-<pod-template-hash>-<5> (the
		 * hash 6-10 of the same alphabet), a CronJob's <cronjob>-<its Job's scheduled
		 * minute since the epoch>-<5>, an Indexed Job's <job>-<index>-<5>: the middle part
		 * goes too. A DaemonSet or Job named "<x>-<number>" reads as the Indexed Job <x>:
		 * its pods are the same string.
		 */
		d2 = last_dash(pod, (size_t)(d1 - pod));
		hl = d2 ? (size_t)(d1 - d2) - 1 : 0;
		if (d2 && d2 != pod &&
		    ((hl >= 6 && hl <= 10 && all_generated(d2 + 1, hl)) || is_decimal(d2 + 1, hl)))
			return (size_t)(d2 - pod);
		return (size_t)(d1 - pod);
	}
	if (d1 && all_digits(d1 + 1, tail)) /* <statefulset>-<ordinal>: nothing random */
		return (size_t)(d1 - pod);
	if (n == GEN_NAME_MAX && all_generated(pod + GEN_BASE_MAX, GEN_RANDOM)) {
		/*
		 * generateName was cut to 58, and the dash before the random part with it (a cut
		 * that ends at a dash is the <owner>-<5> above): <deployment>-<the start of the
		 * hash><5> for a Deployment name of 47-56, <cronjob>-<the start of the minute><5>,
		 * <job>-<the start of the index><5>, <daemonset or job cut to 58><5>. A last part
		 * of up to 10 generated characters or digits goes too; a DaemonSet's or Job's
		 * owner is what the pod keeps of its name. A StatefulSet's pod of 63
		 * (<name>-<ordinal>) was taken above, not for a cut one. Left ambiguous: a pod
		 * named by hand, of exactly 63, whose last 5 are of the alphabet with no dash
		 * before them loses them, and such a last part before them; a DaemonSet's or
		 * Job's first 58 that end in such a part lose it. Names that differ only there
		 * are one owner.
		 */
		d2 = last_dash(pod, GEN_BASE_MAX);
		hl = d2 ? (size_t)(pod + GEN_BASE_MAX - d2) - 1 : 0;
		if (d2 && d2 != pod && hl <= 10 &&
		    (all_generated(d2 + 1, hl) || is_decimal(d2 + 1, hl)))
			return (size_t)(d2 - pod);
		return GEN_BASE_MAX;
	}
	return n;
}

void ew_pod_owner(const char *pod, char *out, size_t outlen)
{
	size_t keep = owner_len(pod, strlen(pod));

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
		else if (m->name[0] && (cg->runtime == EW_RT_DOCKER || cg->runtime == EW_RT_PODMAN))
			/* Removed and made again under its name (`docker run --rm --name api` as a
			 * systemd unit's ExecStart, a script's loop), a container is a new id each
			 * time: its name is what stays, and its loop is one workload's. */
			JOIN(id->workload, rt, "-name:", m->name);
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
