// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The pure parsers of the runtimes' own JSON files: Docker's config.v2.json and hostconfig.json,
 * and the OCI config.json of containerd and CRI-O (Kubernetes names in its annotations). The
 * bytes may be in any shape, so every field is taken only when it has the expected type: a
 * wrong field is skipped, never fatal; only bytes that are not a JSON object are an error.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "exitwatch/core/json_read.h"
#include "exitwatch/util/util.h"
#include "identity/meta_int.h"

/* Docker labels of Kubernetes containers made by dockershim / cri-dockerd. */
#define K8S_CONTAINER_NAME  "io.kubernetes.container.name"
#define K8S_POD_NAME	    "io.kubernetes.pod.name"
#define K8S_POD_NAMESPACE   "io.kubernetes.pod.namespace"
#define K8S_POD_UID	    "io.kubernetes.pod.uid"
#define K8S_RESTART_COUNT   "io.kubernetes.container.restartCount"
#define DOCKERSHIM_TYPE	    "io.kubernetes.docker.type"
#define DOCKERSHIM_RESTARTS "annotation.io.kubernetes.container.restartCount"

/* containerd CRI plugin (pkg/cri/annotations). sandbox-uid appeared in 1.7. */
#define CRI_CONTAINER_TYPE    "io.kubernetes.cri.container-type"
#define CRI_CONTAINER_NAME    "io.kubernetes.cri.container-name"
#define CRI_SANDBOX_NAME      "io.kubernetes.cri.sandbox-name"
#define CRI_SANDBOX_NAMESPACE "io.kubernetes.cri.sandbox-namespace"
#define CRI_SANDBOX_UID	      "io.kubernetes.cri.sandbox-uid"
#define CRI_IMAGE_NAME	      "io.kubernetes.cri.image-name"
#define CRI_SANDBOX_IMAGE     "io.kubernetes.cri.podsandbox.image-name"

/* CRI-O (pkg/annotations); the io.kubernetes.* ones above are also set by CRI-O. */
#define CRIO_CONTAINER_TYPE "io.kubernetes.cri-o.ContainerType"
#define CRIO_IMAGE_NAME	    "io.kubernetes.cri-o.ImageName"
#define CRIO_IMAGE	    "io.kubernetes.cri-o.Image"

void ew_meta_clear(struct ew_meta *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->restart_count = -1;
}

/*
 * Copies with truncation, backing off to a UTF-8 character boundary: a cut name stays valid
 * UTF-8, so the JSON records built from it do too.
 */
void ew_meta_copy(char *dst, size_t size, const char *src)
{
	size_t len = ew_strlcpy(dst, src, size);
	size_t n;

	if (!size || len < size)
		return;
	n = size - 1;
	/* src[n] is the first byte dropped: a continuation byte means a character was cut. */
	if (((unsigned char)src[n] & 0xc0) != 0x80)
		return;
	while (n > 0 && ((unsigned char)dst[n - 1] & 0xc0) == 0x80)
		n--;
	if (n > 0 && ((unsigned char)dst[n - 1] & 0xc0) == 0xc0)
		n--;
	dst[n] = '\0';
}

/* A non-negative int from a JSON integer, else -1: a double, a string or 2^40 is not a count. */
static int meta_json_count(struct json_object *o)
{
	int64_t v;

	return ew_json_int_in(o, 0, INT_MAX, &v) ? -1 : (int)v;
}

/* The same from a decimal string, as in annotations ("3"); anything else is -1. */
int ew_meta_str_count(const char *s)
{
	int v = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (INT_MAX - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

/* Fills dst from obj[key] only when dst is still empty: the first source that has it wins. */
static void meta_fill(char *dst, size_t size, struct json_object *obj, const char *key)
{
	const char *s;

	if (dst[0])
		return;
	s = ew_json_str(obj, key, NULL);
	if (s)
		ew_meta_copy(dst, size, s);
}

static void meta_fill_uid(char *dst, struct json_object *obj, const char *key)
{
	const char *s = ew_json_str(obj, key, NULL);

	if (!dst[0] && s && ew_meta_uid_valid(s))
		ew_strlcpy(dst, s, EW_UID_LEN);
}

/*
 * Parses len bytes that must hold exactly one JSON object (whitespace around it allowed).
 * json-c's depth limit bounds the recursion on hostile nesting.
 */
static int meta_parse_json(const char *json, size_t len, const char *what, bool array_ok,
			   struct json_object **ret, char *err, size_t errlen);

static int meta_parse_object(const char *json, size_t len, const char *what,
			     struct json_object **ret, char *err, size_t errlen)
{
	return meta_parse_json(json, len, what, false, ret, err, errlen);
}

static int meta_parse_object_or_array(const char *json, size_t len, const char *what,
				      struct json_object **ret, char *err, size_t errlen)
{
	return meta_parse_json(json, len, what, true, ret, err, errlen);
}

static int meta_parse_json(const char *json, size_t len, const char *what, bool array_ok,
			   struct json_object **ret, char *err, size_t errlen)
{
	struct ew_json_parse_status st;
	struct json_object *obj;
	int r;

	*ret = NULL;
	if (!json && len)
		return ew_meta_errf(err, errlen, -EINVAL, "%s: no data", what);
	if (len > EW_META_MAX_BYTES)
		return ew_meta_errf(err, errlen, -EFBIG, "%s: %zu bytes, more than the %d allowed",
				    what, len, EW_META_MAX_BYTES);
	if (len == 0)
		return ew_meta_errf(err, errlen, -EINVAL, "%s: empty", what);
	r = ew_json_parse(json, len, &obj, &st);
	switch (st.error) {
	case EW_JSON_PARSE_OK:
		break;
	case EW_JSON_PARSE_TRUNCATED:
		return ew_meta_errf(err, errlen, -EINVAL,
				    "%s: truncated JSON (unexpected end of data after %zu bytes)",
				    what, len);
	case EW_JSON_PARSE_INVALID:
		return ew_meta_errf(err, errlen, -EINVAL, "%s: invalid JSON at byte %zu: %s", what,
				    st.at, st.desc);
	case EW_JSON_PARSE_TRAILING:
		return ew_meta_errf(err, errlen, -EINVAL,
				    "%s: invalid JSON: trailing data at byte %zu", what, st.at);
	default: /* out of memory (EW_META_MAX_BYTES is far below json-c's limit) */
		return ew_meta_errf(err, errlen, r, "%s: out of memory", what);
	}
	if (!ew_json_is(obj, EW_JSON_OBJECT) && !(array_ok && ew_json_is(obj, EW_JSON_ARRAY))) {
		const char *type = json_type_to_name(json_object_get_type(obj));

		json_object_put(obj);
		return ew_meta_errf(err, errlen, -EINVAL, "%s: top level is %s, not an object",
				    what, type ? type : "unknown");
	}
	*ret = obj;
	return 0;
}

/* Kubernetes names in the io.kubernetes.* keys that dockershim, cri-dockerd and CRI-O set. */
static void meta_fill_k8s(struct ew_meta *ret, struct json_object *kv)
{
	meta_fill(ret->pod_name, sizeof(ret->pod_name), kv, K8S_POD_NAME);
	meta_fill(ret->pod_namespace, sizeof(ret->pod_namespace), kv, K8S_POD_NAMESPACE);
	meta_fill_uid(ret->pod_uid, kv, K8S_POD_UID);
	if (ret->restart_count < 0)
		ret->restart_count = ew_meta_str_count(ew_json_str(kv, K8S_RESTART_COUNT, NULL));
}

static void meta_docker_restart_policy(struct ew_meta *ret, struct json_object *hostconfig)
{
	struct json_object *policy = ew_json_get(hostconfig, "RestartPolicy", EW_JSON_OBJECT);
	const char *name = ew_json_str(policy, "Name", NULL);

	/* Docker writes "" for "no" when the user gave no policy. */
	if (name && *name)
		ew_meta_copy(ret->restart_policy, sizeof(ret->restart_policy), name);
}

int ew_meta_parse_docker(const char *json, size_t len, struct ew_meta *ret, char *err,
			 size_t errlen)
{
	struct json_object *root, *config, *labels;
	const char *s;
	int r;

	ew_meta_clear(ret);
	r = meta_parse_object(json, len, "docker config.v2.json", &root, err, errlen);
	if (r < 0)
		return r;

	config = ew_json_get(root, "Config", EW_JSON_OBJECT);
	labels = ew_json_get(config, "Labels", EW_JSON_OBJECT);

	/* A Kubernetes container on Docker: its name is the label, not "k8s_<name>_<pod>_...". */
	meta_fill(ret->name, sizeof(ret->name), labels, K8S_CONTAINER_NAME);
	s = ew_json_str(root, "Name", NULL);
	if (s && !ret->name[0])
		ew_meta_copy(ret->name, sizeof(ret->name), s[0] == '/' ? s + 1 : s);

	/* Config.Image is the reference as the user typed it; top-level Image is the digest. */
	meta_fill(ret->image, sizeof(ret->image), config, "Image");
	meta_fill(ret->compose_project, sizeof(ret->compose_project), labels,
		  "com.docker.compose.project");
	meta_fill(ret->compose_service, sizeof(ret->compose_service), labels,
		  "com.docker.compose.service");

	/*
	 * Docker's RestartCount counts its own restarts of this container; under Kubernetes the
	 * kubelet makes a new container per restart and says which attempt it is in a label.
	 */
	ret->restart_count = ew_meta_str_count(ew_json_str(labels, DOCKERSHIM_RESTARTS, NULL));
	meta_fill_k8s(ret, labels);
	if (ret->restart_count < 0)
		ret->restart_count =
			meta_json_count(ew_json_get(root, "RestartCount", EW_JSON_INT));
	s = ew_json_str(labels, DOCKERSHIM_TYPE, NULL);
	ret->sandbox = s && !strcmp(s, "podsandbox");

	/* Not in config.v2.json on current Docker (hostconfig.json has it); harmless if it is. */
	meta_docker_restart_policy(ret, ew_json_get(root, "HostConfig", EW_JSON_OBJECT));

	json_object_put(root);
	return 0;
}

int ew_meta_parse_hostconfig(const char *json, size_t len, struct ew_meta *ret, char *err,
			     size_t errlen)
{
	struct json_object *root;
	int r;

	r = meta_parse_object(json, len, "docker hostconfig.json", &root, err, errlen);
	if (r < 0)
		return r;
	meta_docker_restart_policy(ret, root);
	json_object_put(root);
	return 0;
}

int ew_meta_parse_oci(const char *json, size_t len, struct ew_meta *ret, char *err, size_t errlen)
{
	struct json_object *root, *ann;
	const char *type;
	int r;

	ew_meta_clear(ret);
	r = meta_parse_object(json, len, "OCI config.json", &root, err, errlen);
	if (r < 0)
		return r;

	/* Not a Kubernetes container (Docker's moby namespace, Podman): no names here. */
	ann = ew_json_get(root, "annotations", EW_JSON_OBJECT);
	if (!ann) {
		json_object_put(root);
		return 0;
	}

	/* containerd CRI first; CRI-O's keys fill whatever is still empty. */
	meta_fill(ret->name, sizeof(ret->name), ann, CRI_CONTAINER_NAME);
	meta_fill(ret->pod_name, sizeof(ret->pod_name), ann, CRI_SANDBOX_NAME);
	meta_fill(ret->pod_namespace, sizeof(ret->pod_namespace), ann, CRI_SANDBOX_NAMESPACE);
	meta_fill_uid(ret->pod_uid, ann, CRI_SANDBOX_UID);
	meta_fill(ret->image, sizeof(ret->image), ann, CRI_IMAGE_NAME);
	meta_fill(ret->image, sizeof(ret->image), ann, CRI_SANDBOX_IMAGE);

	meta_fill(ret->name, sizeof(ret->name), ann, K8S_CONTAINER_NAME);
	meta_fill(ret->image, sizeof(ret->image), ann, CRIO_IMAGE_NAME);
	meta_fill(ret->image, sizeof(ret->image), ann, CRIO_IMAGE);
	meta_fill_k8s(ret, ann);

	type = ew_json_str(ann, CRI_CONTAINER_TYPE, NULL);
	if (!type)
		type = ew_json_str(ann, CRIO_CONTAINER_TYPE, NULL);
	ret->sandbox = type && !strcmp(type, "sandbox");

	json_object_put(root);
	return 0;
}

/*
 * containers/storage's container list (<graph root>/overlay-containers/containers.json), where
 * Podman's names are: [{"id": ..., "names": ["web"], "metadata": "{\"image-name\": ...}"}].
 * The OCI config.json of a Podman container has neither name nor image. Fills name and image
 * of the entry with id, if any; 0 (whether or not it was there) or -EINVAL.
 */
int ew_meta_parse_libpod_list(const char *json, size_t len, const char *id, struct ew_meta *ret,
			      char *err, size_t errlen)
{
	struct json_object *root, *names, *md = NULL;
	size_t n;
	int r;

	r = meta_parse_object_or_array(json, len, "containers.json", &root, err, errlen);
	if (r < 0)
		return r;
	if (!ew_json_is(root, EW_JSON_ARRAY)) {
		json_object_put(root);
		return ew_meta_errf(err, errlen, -EINVAL, "containers.json: not an array");
	}
	n = json_object_array_length(root);
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(root, i);
		const char *cid = ew_json_str(c, "id", NULL), *mds;

		if (!cid || strcmp(cid, id))
			continue;
		names = ew_json_get(c, "names", EW_JSON_ARRAY);
		if (names && json_object_array_length(names) > 0 && !ret->name[0]) {
			struct json_object *first = json_object_array_get_idx(names, 0);

			if (ew_json_is(first, EW_JSON_STRING))
				ew_meta_copy(ret->name, sizeof(ret->name),
					     json_object_get_string(first));
		}
		/* metadata is a JSON document in a string: parsed on its own, bounded above. */
		mds = ew_json_str(c, "metadata", NULL);
		if (mds && !meta_parse_object(mds, strlen(mds), "containers.json metadata", &md,
					      NULL, 0)) {
			meta_fill(ret->image, sizeof(ret->image), md, "image-name");
			json_object_put(md);
		}
		break;
	}
	json_object_put(root);
	return 0;
}

/*
 * A failed start's error, as the runtime keeps it for `docker inspect` or the kubelet. Copied
 * whole (cut at a UTF-8 boundary when longer than size); its length, 0 when there is none.
 */
static int start_error_copy(const char *s, char *buf, size_t size)
{
	if (!s || !s[0] || !size) {
		if (size)
			buf[0] = '\0';
		return 0;
	}
	ew_meta_copy(buf, size, s);
	return (int)strlen(buf);
}

int ew_meta_parse_docker_start_error(const char *json, size_t len, char *buf, size_t size,
				     char *err, size_t errlen)
{
	struct json_object *root;
	int r;

	if (size)
		buf[0] = '\0';
	r = meta_parse_object(json, len, "docker config.v2.json", &root, err, errlen);
	if (r < 0)
		return r;
	/* State.Error: dockerd's error of the container's last start, "" once one succeeds. */
	r = start_error_copy(ew_json_str(ew_json_get(root, "State", EW_JSON_OBJECT), "Error", NULL),
			     buf, size);
	json_object_put(root);
	return r;
}

int ew_meta_parse_cri_start_error(const char *json, size_t len, char *buf, size_t size, char *err,
				  size_t errlen)
{
	struct json_object *root;
	const char *reason;
	int r = 0;

	if (size)
		buf[0] = '\0';
	r = meta_parse_object(json, len, "containerd CRI status", &root, err, errlen);
	if (r < 0)
		return r;
	/*
	 * {"Version":"v1","Reason":"StartError","Message":"failed to create containerd task:
	 * ...","ExitCode":128,...}: Message is the start's error only with that reason (an exit's
	 * reason is "Error", "OOMKilled" or "Completed").
	 */
	reason = ew_json_str(root, "Reason", NULL);
	if (reason && !strcmp(reason, "StartError"))
		r = start_error_copy(ew_json_str(root, "Message", NULL), buf, size);
	json_object_put(root);
	return r;
}
