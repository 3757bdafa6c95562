// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgroup path -> runtime, container id, pod. Pure: no I/O, no allocation, no clock.
 *
 * Runtimes name a container's cgroup "<prefix><64 hex id><suffix>"; a bare id is only an id
 * under a parent that says so ("docker/<id>", "kubepods/<qos>/pod<uid>/<id>"). We match from
 * the leaf upward because the BPF side may have cut the root off ("..."), and the innermost
 * match wins because containers nest (kind and GKE nodes, docker-in-docker).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "exitwatch/identity/identity.h"
#include "exitwatch/util/util.h"

#define EW_CG_ID_HEX	64 /* Docker, containerd, CRI-O and Podman all use 256-bit ids */
#define EW_CG_UID_CHARS 36 /* 8-4-4-4-12 */
#define EW_CG_UID_HEX	32 /* a static pod's: the md5 of its manifest, no dashes */
/* A path shorter than EW_CGROUP_PATH_MAX has fewer names than this, each being >= 1 char + '/'. */
#define EW_CG_MAX_NAMES (EW_CGROUP_PATH_MAX / 2)

struct ew_cg_name {
	const char *s;
	size_t len;
};

enum ew_cg_parent {
	EW_CG_PARENT_ANY,   /* prefix and suffix alone are specific enough */
	EW_CG_PARENT_NAMED, /* a bare id, or a generic prefix, is an id only under this parent */
	EW_CG_PARENT_POD,   /* kubelet cgroupfs driver: kubepods[/<qos>]/pod<uid>/<prefix><id> */
};

struct ew_cg_layout {
	const char *prefix;
	const char *suffix;
	enum ew_cg_parent parent;
	const char *parent_name; /* EW_CG_PARENT_NAMED only */
	enum ew_runtime rt;
};

/*
 * Ids are exactly EW_CG_ID_HEX long, so no two layouts can match the same name: order does not
 * matter. Conmon scopes ("crio-conmon-<id>.scope") fail the id check and so are not containers.
 * CRI-O's cgroupfs manager names a container "crio-<id>" in its pod's cgroup: without the
 * scope's suffix the prefix alone is not specific enough, so the pod parent is required.
 */
static const struct ew_cg_layout ew_cg_layouts[] = {
	{"docker-", ".scope", EW_CG_PARENT_ANY, NULL, EW_RT_DOCKER},
	{"", "", EW_CG_PARENT_NAMED, "docker", EW_RT_DOCKER},
	{"cri-containerd-", ".scope", EW_CG_PARENT_ANY, NULL, EW_RT_CONTAINERD},
	{"", "", EW_CG_PARENT_POD, NULL, EW_RT_CONTAINERD},
	{"crio-", ".scope", EW_CG_PARENT_ANY, NULL, EW_RT_CRIO},
	{"crio-", "", EW_CG_PARENT_POD, NULL, EW_RT_CRIO},
	{"libpod-", ".scope", EW_CG_PARENT_ANY, NULL, EW_RT_PODMAN},
	{"libpod-", "", EW_CG_PARENT_NAMED, "libpod_parent", EW_RT_PODMAN},
};

struct ew_cg_pod {
	char uid[EW_UID_LEN];
	const char *qos;
};

const char *ew_runtime_name(enum ew_runtime rt)
{
	static const char *const names[] = {
		[EW_RT_NONE] = "none",
		[EW_RT_DOCKER] = "docker",
		[EW_RT_CONTAINERD] = "containerd",
		[EW_RT_CRIO] = "cri-o",
		[EW_RT_PODMAN] = "podman",
		[EW_RT_SYSTEMD] = "systemd",
		[EW_RT_CGROUP] = "cgroup",
	};

	/* Callers print it: a value outside the enum still gets a string, never NULL. */
	return (unsigned int)rt < ARRAY_SIZE(names) ? names[rt] : "none";
}

static inline bool ew_cg_name_is(const struct ew_cg_name *n, const char *s)
{
	return n->len == strlen(s) && memcmp(n->s, s, n->len) == 0;
}

static inline bool ew_cg_name_has(const struct ew_cg_name *n, const char *prefix,
				  const char *suffix)
{
	size_t p = strlen(prefix), q = strlen(suffix);

	return n->len >= p + q && memcmp(n->s, prefix, p) == 0 &&
	       memcmp(n->s + n->len - q, suffix, q) == 0;
}

/* Upper case is rejected: runtimes print lower case, so anything else is not their id. */
static bool ew_cg_is_id(const char *s, size_t len)
{
	return len == EW_CG_ID_HEX && strspn(s, "0123456789abcdef") >= len;
}

/*
 * The systemd driver escapes '-' (its slice hierarchy separator) as '_', the cgroupfs driver
 * keeps dashes: sep says which one to expect, so a mixed form is rejected. The kubelet gives a
 * static (manifest) pod a uid of 32 hex digits, the hash of its manifest: kubeadm's control
 * plane and some GKE node images run their system pods so, and a uid of either shape is a pod.
 */
static bool ew_cg_uid_parse(const char *s, size_t len, char sep, char out[EW_UID_LEN])
{
	if (len != EW_CG_UID_CHARS && len != EW_CG_UID_HEX)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool dash = len == EW_CG_UID_CHARS && (i == 8 || i == 13 || i == 18 || i == 23);

		/* ASCII sets, not <ctype.h>: a caller's locale must not change the answer. */
		if (dash ? s[i] != sep : !s[i] || !strchr("0123456789abcdefABCDEF", s[i]))
			return false;
		/* Kubernetes prints uids in lower case; '|' 0x20 lowers A-F and keeps digits. */
		out[i] = dash ? '-' : (char)(s[i] | 0x20);
	}
	out[len] = '\0';
	return true;
}

/* cgroupfs driver: "pod<uid>" under "kubepods" (guaranteed) or "kubepods/<qos>". */
static bool ew_cg_pod_cgroupfs(const struct ew_cg_name *names, int i, struct ew_cg_pod *pod)
{
	if (i < 1 || !ew_cg_name_has(&names[i], "pod", "") ||
	    !ew_cg_uid_parse(names[i].s + 3, names[i].len - 3, '-', pod->uid))
		return false;
	if (ew_cg_name_is(&names[i - 1], "kubepods")) {
		pod->qos = "guaranteed";
		return true;
	}
	if (i < 2 || !ew_cg_name_is(&names[i - 2], "kubepods"))
		return false;
	if (ew_cg_name_is(&names[i - 1], "burstable"))
		pod->qos = "burstable";
	else if (ew_cg_name_is(&names[i - 1], "besteffort"))
		pod->qos = "besteffort";
	else
		return false;
	return true;
}

/*
 * systemd driver: "[<outer>-]kubepods[-<qos>]-pod<uid>.slice". The name spells its whole
 * ancestry, so it needs no parent: what matters under "..." truncation. The outer part is the
 * kind/GKE nesting ("kubelet-kubepods-...").
 */
static bool ew_cg_pod_systemd(const struct ew_cg_name *n, struct ew_cg_pod *pod)
{
	static const char key[] = "kubepods-";
	const char *s = n->s, *end, *k = NULL;

	if (!ew_cg_name_has(n, "", ".slice"))
		return false;
	end = s + n->len - strlen(".slice");
	for (const char *p = s; p + strlen(key) <= end; p++) {
		if ((p == s || p[-1] == '-') && memcmp(p, key, strlen(key)) == 0) {
			k = p + strlen(key);
			break;
		}
	}
	if (!k)
		return false;
	pod->qos = "guaranteed";
	if (end - k >= 10 && memcmp(k, "burstable-", 10) == 0) {
		pod->qos = "burstable";
		k += 10;
	} else if (end - k >= 11 && memcmp(k, "besteffort-", 11) == 0) {
		pod->qos = "besteffort";
		k += 11;
	}
	if (end - k < 3 || memcmp(k, "pod", 3) != 0)
		return false;
	return ew_cg_uid_parse(k + 3, (size_t)(end - k - 3), '_', pod->uid);
}

static bool ew_cg_pod_parse(const struct ew_cg_name *names, int i, struct ew_cg_pod *pod)
{
	return i >= 0 && (ew_cg_pod_systemd(&names[i], pod) || ew_cg_pod_cgroupfs(names, i, pod));
}

/* Returns the id inside names[i] when it is a container of layout l, else NULL. */
static const char *ew_cg_layout_match(const struct ew_cg_name *names, int i,
				      const struct ew_cg_layout *l)
{
	const struct ew_cg_name *n = &names[i];
	size_t p = strlen(l->prefix), q = strlen(l->suffix);
	struct ew_cg_pod pod;

	if (!ew_cg_name_has(n, l->prefix, l->suffix) || !ew_cg_is_id(n->s + p, n->len - p - q))
		return NULL;
	switch (l->parent) {
	case EW_CG_PARENT_ANY:
		break;
	case EW_CG_PARENT_NAMED:
		if (i < 1 || !ew_cg_name_is(&names[i - 1], l->parent_name))
			return NULL;
		break;
	case EW_CG_PARENT_POD:
		if (!ew_cg_pod_cgroupfs(names, i - 1, &pod))
			return NULL;
		break;
	}
	return n->s + p;
}

/* systemd unit name characters (unit-name.c); '@' for template instances. */
static bool ew_cg_is_service(const struct ew_cg_name *n)
{
	if (!ew_cg_name_has(n, "", ".service") || n->len == strlen(".service") ||
	    n->len >= EW_NAME_LEN)
		return false;
	return strspn(n->s,
		      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@") >=
	       n->len - strlen(".service");
}

static void ew_cg_classify(const struct ew_cg_name *names, int n, struct ew_cgroup_info *ret)
{
	for (int i = n - 1; i >= 0; i--) {
		/* Every layout's name holds a whole id: shorter names (most of a path) skip them. */
		for (size_t k = 0; names[i].len >= EW_CG_ID_HEX && k < ARRAY_SIZE(ew_cg_layouts);
		     k++) {
			const char *id = ew_cg_layout_match(names, i, &ew_cg_layouts[k]);
			struct ew_cg_pod pod;

			if (!id)
				continue;
			ret->runtime = ew_cg_layouts[k].rt;
			ew_strlcpy_n(ret->container_id, sizeof(ret->container_id), id,
				     EW_CG_ID_HEX);
			/* A bad or missing pod uid leaves a container that is not known to be k8s. */
			if (ew_cg_pod_parse(names, i - 1, &pod)) {
				ret->kubernetes = true;
				ew_strlcpy(ret->pod_uid, pod.uid, sizeof(ret->pod_uid));
				ew_strlcpy(ret->qos, pod.qos, sizeof(ret->qos));
			}
			return;
		}
		if (ew_cg_is_service(&names[i])) {
			ret->runtime = EW_RT_SYSTEMD;
			ew_strlcpy_n(ret->unit, sizeof(ret->unit), names[i].s, names[i].len);
			return;
		}
		/*
		 * Any other scope (session-2.scope, init.scope, a conmon) is a unit of its own:
		 * what is under it does not belong to an enclosing container or service. Slices
		 * and plain directories are walked through.
		 */
		if (ew_cg_name_has(&names[i], "", ".scope"))
			break;
	}
	ret->runtime = EW_RT_CGROUP;
}

/* /proc/<pid>/cgroup lines ("0::/x", "1:name=systemd:/x") carry the path after the 2nd ':'. */
static const char *ew_cg_strip_hierarchy(const char *path)
{
	const char *p = path;
	size_t ctl;

	while (*p >= '0' && *p <= '9')
		p++;
	if (p == path || *p != ':')
		return path;
	ctl = strcspn(p + 1, ":/");
	return p[1 + ctl] == ':' ? p + 2 + ctl : path;
}

int ew_cgroup_parse(const char *path, struct ew_cgroup_info *ret)
{
	struct ew_cg_name names[EW_CG_MAX_NAMES];
	bool truncated = false;
	size_t len;
	int n = 0;

	if (!ret)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	if (!path)
		return -EINVAL;
	len = strnlen(path, EW_CGROUP_PATH_MAX);
	if (len == 0 || len >= EW_CGROUP_PATH_MAX)
		return -EINVAL;
	path = ew_cg_strip_hierarchy(path);
	/* "..." stands for the ancestors the kernel did not capture: never a name. */
	if (strncmp(path, ".../", 4) == 0) {
		truncated = true;
		path += 3;
	}
	if (path[0] != '/')
		return -EINVAL;
	/* Empty names ("//", a trailing '/') are skipped the way path resolution does. */
	for (const char *p = path; *p;) {
		/* strchrnul(), not strcspn(): a set of one byte, without the set's table (a third
		 * of a parse, once per container). */
		size_t l = (size_t)(strchrnul(p, '/') - p);

		if (l) {
			if (n == EW_CG_MAX_NAMES)
				return -EINVAL;
			names[n].s = p;
			names[n++].len = l;
		}
		p += l;
		p += *p == '/';
	}
	if (n == 0)
		return truncated ? -EINVAL : -ENOENT;
	ew_cg_classify(names, n, ret);
	return 0;
}
