// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Container names from the runtime's own files. Everything here reads files that a broken or
 * hostile runtime (or a container with a host mount) may have left in any shape, so: ids are
 * validated before they become path components, only regular files no larger than
 * EW_META_MAX_BYTES are read, and every JSON field is taken only when it has the expected type.
 * A wrong field is skipped, never fatal; only bytes that are not a JSON object are an error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "exitwatch/runtime_meta.h"
#include "exitwatch/util.h"
#include "util/cleanup.h"

#define EW_META_DOCKER_ROOT	"/var/lib/docker"
#define EW_META_CONTAINERD_ROOT "/run/containerd/io.containerd.runtime.v2.task"
#define EW_META_CRIO_ROOT	"/run/containers/storage/overlay-containers"
#define EW_META_PODS_LOG_ROOT	"/var/log/pods"
/*
 * Podman keeps the OCI bundle of a container in its graph root, not its run root. Not in
 * struct ew_meta_paths (a contract header): Podman is a fallback, so the default is fixed.
 */
#define EW_META_LIBPOD_ROOT "/var/lib/containers/storage/overlay-containers"

#define EW_META_ERR_LEN 512

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

static int meta_errf(char *err, size_t errlen, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int meta_path(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int meta_errf(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		/* So that "%m" says r, whatever ran since; and strerror() is not thread-safe. */
		errno = -r;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

static void meta_clear(struct ew_meta *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->restart_count = -1;
}

/*
 * Copies with truncation, backing off to a UTF-8 character boundary: a cut name stays valid
 * UTF-8, so the JSON records built from it do too.
 */
static void meta_copy(char *dst, size_t size, const char *src)
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

static bool meta_is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* 64 lower-case hex: the only shape of id that may become a path component. */
static bool meta_id_valid(const char *id)
{
	size_t i;

	for (i = 0; i < EW_ID_LEN - 1; i++)
		if (!meta_is_lower_hex(id[i]))
			return false;
	return id[i] == '\0';
}

/*
 * A pod uid as the kubelet writes it: 8-4-4-4-12 lower-case hex, or 32 hex without dashes,
 * which is what static (manifest) pods get: the hash of their manifest.
 */
static bool meta_uid_valid(const char *uid)
{
	size_t len = strnlen(uid, EW_UID_LEN);

	if (len == 32) {
		for (size_t i = 0; i < len; i++)
			if (!meta_is_lower_hex(uid[i]))
				return false;
		return true;
	}
	if (len != EW_UID_LEN - 1)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? uid[i] != '-' : !meta_is_lower_hex(uid[i]))
			return false;
	}
	return true;
}

/* ASCII only: isalnum() would follow the locale. */
static bool meta_is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

/*
 * A single directory name we may open under a trusted directory: no '/', nothing starting
 * with '.' (so neither "." nor ".."), and only the characters container names and containerd
 * namespaces use.
 */
static bool meta_component_valid(const char *s)
{
	size_t len = strnlen(s, NAME_MAX + 1);

	if (len == 0 || len > NAME_MAX || s[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!meta_is_name_char(s[i]))
			return false;
	return true;
}

static int meta_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	return (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* A non-negative int from a JSON integer, else -1: a double, a string or 2^40 is not a count. */
static int meta_json_count(struct json_object *o)
{
	int64_t v;

	if (!json_object_is_type(o, json_type_int))
		return -1;
	v = json_object_get_int64(o);
	return v >= 0 && v <= INT_MAX ? (int)v : -1;
}

/* The same from a decimal string, as in annotations ("3"); anything else is -1. */
static int meta_str_count(const char *s)
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

static struct json_object *meta_get(struct json_object *obj, const char *key, enum json_type type)
{
	struct json_object *v;

	if (!json_object_is_type(obj, json_type_object) || !json_object_object_get_ex(obj, key, &v))
		return NULL;
	return json_object_is_type(v, type) ? v : NULL;
}

/* The string value of key, or NULL when absent or not a string. */
static const char *meta_get_str(struct json_object *obj, const char *key)
{
	struct json_object *v = meta_get(obj, key, json_type_string);

	return v ? json_object_get_string(v) : NULL;
}

/* Fills dst from obj[key] only when dst is still empty: the first source that has it wins. */
static void meta_fill(char *dst, size_t size, struct json_object *obj, const char *key)
{
	const char *s;

	if (dst[0])
		return;
	s = meta_get_str(obj, key);
	if (s)
		meta_copy(dst, size, s);
}

static void meta_fill_uid(char *dst, struct json_object *obj, const char *key)
{
	const char *s = meta_get_str(obj, key);

	if (!dst[0] && s && meta_uid_valid(s))
		ew_strlcpy(dst, s, EW_UID_LEN);
}

/*
 * Parses len bytes that must hold exactly one JSON object (whitespace around it allowed).
 * json-c's depth limit bounds the recursion on hostile nesting.
 */
static int meta_parse_object(const char *json, size_t len, const char *what,
			     struct json_object **ret, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t end;

	*ret = NULL;
	if (!json && len)
		return meta_errf(err, errlen, -EINVAL, "%s: no data", what);
	if (len > EW_META_MAX_BYTES)
		return meta_errf(err, errlen, -EFBIG, "%s: %zu bytes, more than the %d allowed",
				 what, len, EW_META_MAX_BYTES);
	if (len == 0)
		return meta_errf(err, errlen, -EINVAL, "%s: empty", what);
	tok = json_tokener_new();
	if (!tok)
		return meta_errf(err, errlen, -ENOMEM, "%s: out of memory", what);
	obj = json_tokener_parse_ex(tok, json, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr == json_tokener_continue) {
		json_object_put(obj);
		return meta_errf(err, errlen, -EINVAL,
				 "%s: truncated JSON (unexpected end of data after %zu bytes)",
				 what, len);
	}
	if (jerr != json_tokener_success) {
		json_object_put(obj);
		return meta_errf(err, errlen, -EINVAL, "%s: invalid JSON at byte %zu: %s", what,
				 end, json_tokener_error_desc(jerr));
	}
	for (; end < len; end++) {
		char c = json[end];

		/* JSON's own whitespace; a NUL or anything else after the value is garbage. */
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			json_object_put(obj);
			return meta_errf(err, errlen, -EINVAL,
					 "%s: invalid JSON: trailing data at byte %zu", what, end);
		}
	}
	if (!json_object_is_type(obj, json_type_object)) {
		const char *type = json_type_to_name(json_object_get_type(obj));

		json_object_put(obj);
		return meta_errf(err, errlen, -EINVAL, "%s: top level is %s, not an object", what,
				 type ? type : "unknown");
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
		ret->restart_count = meta_str_count(meta_get_str(kv, K8S_RESTART_COUNT));
}

static void meta_docker_restart_policy(struct ew_meta *ret, struct json_object *hostconfig)
{
	struct json_object *policy = meta_get(hostconfig, "RestartPolicy", json_type_object);
	const char *name = meta_get_str(policy, "Name");

	/* Docker writes "" for "no" when the user gave no policy. */
	if (name && *name)
		meta_copy(ret->restart_policy, sizeof(ret->restart_policy), name);
}

int ew_meta_parse_docker(const char *json, size_t len, struct ew_meta *ret, char *err,
			 size_t errlen)
{
	struct json_object *root, *config, *labels;
	const char *s;
	int r;

	meta_clear(ret);
	r = meta_parse_object(json, len, "docker config.v2.json", &root, err, errlen);
	if (r < 0)
		return r;

	config = meta_get(root, "Config", json_type_object);
	labels = meta_get(config, "Labels", json_type_object);

	/* A Kubernetes container on Docker: its name is the label, not "k8s_<name>_<pod>_...". */
	meta_fill(ret->name, sizeof(ret->name), labels, K8S_CONTAINER_NAME);
	s = meta_get_str(root, "Name");
	if (s && !ret->name[0])
		meta_copy(ret->name, sizeof(ret->name), s[0] == '/' ? s + 1 : s);

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
	ret->restart_count = meta_str_count(meta_get_str(labels, DOCKERSHIM_RESTARTS));
	meta_fill_k8s(ret, labels);
	if (ret->restart_count < 0)
		ret->restart_count = meta_json_count(meta_get(root, "RestartCount", json_type_int));
	s = meta_get_str(labels, DOCKERSHIM_TYPE);
	ret->sandbox = s && !strcmp(s, "podsandbox");

	/* Not in config.v2.json on current Docker (hostconfig.json has it); harmless if it is. */
	meta_docker_restart_policy(ret, meta_get(root, "HostConfig", json_type_object));

	json_object_put(root);
	return 0;
}

static int meta_parse_docker_hostconfig(const char *json, size_t len, struct ew_meta *ret,
					char *err, size_t errlen)
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

	meta_clear(ret);
	r = meta_parse_object(json, len, "OCI config.json", &root, err, errlen);
	if (r < 0)
		return r;

	/* Not a Kubernetes container (Docker's moby namespace, Podman): no names here. */
	ann = meta_get(root, "annotations", json_type_object);
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

	type = meta_get_str(ann, CRI_CONTAINER_TYPE);
	if (!type)
		type = meta_get_str(ann, CRIO_CONTAINER_TYPE);
	ret->sandbox = type && !strcmp(type, "sandbox");

	json_object_put(root);
	return 0;
}

/*
 * Reads a whole regular file into a NUL-terminated buffer. lstat first, so that a device node
 * is never even opened (opening some has side effects); then O_NOFOLLOW|O_NONBLOCK and fstat
 * again, which closes the race with a file swapped in between and keeps a FIFO from blocking.
 */
static int meta_read_file(const char *path, char **ret_buf, size_t *ret_len, char *err,
			  size_t errlen)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t cap, len = 0;

	*ret_buf = NULL;
	*ret_len = 0;
	if (lstat(path, &st) < 0) {
		/* A file where a directory should be (a namespace name that is a file): absent. */
		int r = errno == ENOTDIR ? -ENOENT : -errno;

		return meta_errf(err, errlen, r, "%s: %m", path);
	}
	if (!S_ISREG(st.st_mode))
		return meta_errf(err, errlen, -EINVAL, "%s: not a regular file", path);
	if (st.st_size > EW_META_MAX_BYTES)
		goto too_big;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		/* ELOOP: the file became a symlink after lstat. */
		if (errno == ELOOP)
			return meta_errf(err, errlen, -EINVAL, "%s: not a regular file", path);
		return meta_errf(err, errlen, -errno, "%s: %m", path);
	}
	if (fstat(fd, &st) < 0)
		return meta_errf(err, errlen, -errno, "%s: %m", path);
	if (!S_ISREG(st.st_mode))
		return meta_errf(err, errlen, -EINVAL, "%s: not a regular file", path);
	if (st.st_size > EW_META_MAX_BYTES)
		goto too_big;

	/* st_size is a hint only: the file may grow while we read, up to the limit. */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf)
		return meta_errf(err, errlen, -ENOMEM, "%s: out of memory", path);
	for (;;) {
		ssize_t n;

		if (len == cap - 1) {
			/* + 2: room for one byte past the limit, which proves the file too big. */
			size_t ncap = cap * 2 + 4096;
			char *nbuf;

			if (ncap > EW_META_MAX_BYTES + 2)
				ncap = EW_META_MAX_BYTES + 2;

			if (len > EW_META_MAX_BYTES)
				goto too_big;
			nbuf = realloc(buf, ncap);
			if (!nbuf)
				return meta_errf(err, errlen, -ENOMEM, "%s: out of memory", path);
			buf = nbuf;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return meta_errf(err, errlen, -errno, "%s: %m", path);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > EW_META_MAX_BYTES)
		goto too_big;
	buf[len] = '\0';
	*ret_buf = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
too_big:
	return meta_errf(err, errlen, -EFBIG, "%s: larger than %d bytes", path, EW_META_MAX_BYTES);
}

typedef int (*meta_parse_fn)(const char *json, size_t len, struct ew_meta *ret, char *err,
			     size_t errlen);

/* Reads and parses one file; a parser's message gets the path in front of it. */
static int meta_load(const char *path, meta_parse_fn parse, struct ew_meta *ret, char *err,
		     size_t errlen)
{
	_cleanup_free_ char *buf = NULL;
	char msg[EW_META_ERR_LEN];
	size_t len;
	int r;

	r = meta_read_file(path, &buf, &len, err, errlen);
	if (r < 0)
		return r;
	r = parse(buf, len, ret, msg, sizeof(msg));
	if (r < 0)
		return meta_errf(err, errlen, r, "%s: %s", path, msg);
	return 0;
}

void ew_meta_paths_default(struct ew_meta_paths *p)
{
	if (!p->host_root)
		p->host_root = "";
	if (!p->docker_root)
		p->docker_root = EW_META_DOCKER_ROOT;
	if (!p->containerd_root)
		p->containerd_root = EW_META_CONTAINERD_ROOT;
	if (!p->crio_root)
		p->crio_root = EW_META_CRIO_ROOT;
	if (!p->pods_log_root)
		p->pods_log_root = EW_META_PODS_LOG_ROOT;
}

static int meta_read_docker(const struct ew_meta_paths *p, const char *id, struct ew_meta *ret,
			    char *err, size_t errlen)
{
	_cleanup_free_ char *buf = NULL;
	char path[PATH_MAX];
	size_t len;
	int r;

	r = meta_path(path, sizeof(path), "%s%s/containers/%s/config.v2.json", p->host_root,
		      p->docker_root, id);
	if (r < 0)
		return meta_errf(err, errlen, r, "docker path for %s too long", id);
	r = meta_load(path, ew_meta_parse_docker, ret, err, errlen);
	if (r < 0)
		return r;

	/* The restart policy is a nicety: a missing or broken hostconfig.json costs only it. */
	r = meta_path(path, sizeof(path), "%s%s/containers/%s/hostconfig.json", p->host_root,
		      p->docker_root, id);
	if (r == 0 && meta_read_file(path, &buf, &len, NULL, 0) == 0)
		meta_parse_docker_hostconfig(buf, len, ret, NULL, 0);
	return 0;
}

static int meta_read_containerd_ns(const struct ew_meta_paths *p, const char *ns, const char *id,
				   struct ew_meta *ret, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int r;

	r = meta_path(path, sizeof(path), "%s%s/%s/%s/config.json", p->host_root,
		      p->containerd_root, ns, id);
	if (r < 0)
		return meta_errf(err, errlen, r, "containerd path for %s too long", id);
	return meta_load(path, ew_meta_parse_oci, ret, err, errlen);
}

/*
 * The namespaces that run containers first (CRI, Docker 23+, ctr), then any other namespace
 * directory: one opendir and a stat per namespace, and a node has a handful of them.
 */
static int meta_read_containerd(const struct ew_meta_paths *p, const char *id, struct ew_meta *ret,
				char *err, size_t errlen)
{
	static const char *const known[] = {"k8s.io", "moby", "default"};
	_cleanup_closedir_ DIR *d = NULL;
	char path[PATH_MAX];
	struct dirent *de;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(known); i++) {
		r = meta_read_containerd_ns(p, known[i], id, ret, err, errlen);
		if (r != -ENOENT)
			return r;
	}

	r = meta_path(path, sizeof(path), "%s%s", p->host_root, p->containerd_root);
	if (r < 0)
		return meta_errf(err, errlen, r, "containerd path too long");
	d = opendir(path);
	if (!d)
		return meta_errf(err, errlen, -ENOENT, "%s/*/%s/config.json: not found", path, id);
	while ((de = readdir(d))) {
		bool seen = false;

		if (!meta_component_valid(de->d_name))
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(known); i++)
			seen = seen || !strcmp(de->d_name, known[i]);
		if (seen)
			continue;
		r = meta_read_containerd_ns(p, de->d_name, id, ret, err, errlen);
		if (r != -ENOENT)
			return r;
	}
	return meta_errf(err, errlen, -ENOENT, "%s/*/%s/config.json: not found", path, id);
}

static int meta_read_overlay(const struct ew_meta_paths *p, const char *root, const char *id,
			     struct ew_meta *ret, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int r;

	r = meta_path(path, sizeof(path), "%s%s/%s/userdata/config.json", p->host_root, root, id);
	if (r < 0)
		return meta_errf(err, errlen, r, "overlay-containers path for %s too long", id);
	return meta_load(path, ew_meta_parse_oci, ret, err, errlen);
}

/* Is name "<N>.log", or a rotated "<N>.log.<timestamp>[.gz]"? Returns N, else -1. */
static int meta_log_attempt(const char *name)
{
	const char *dot = strchr(name, '.');
	char digits[11];
	size_t n;

	if (!dot || strncmp(dot, ".log", 4) || (dot[4] != '\0' && dot[4] != '.'))
		return -1;
	n = (size_t)(dot - name);
	if (n == 0 || n >= sizeof(digits))
		return -1;
	memcpy(digits, name, n);
	digits[n] = '\0';
	return meta_str_count(digits);
}

/*
 * The highest attempt number among <poddir>/<container>/<N>.log. The kubelet names each
 * attempt's log after its restart count; if it has already started attempt N+1 when we look,
 * we get N+1: the count is as of the read, not as of the exit.
 */
static int meta_pod_log_restarts(int pods_fd, const char *pod_dir, const char *container)
{
	_cleanup_closedir_ DIR *d = NULL;
	char rel[PATH_MAX];
	struct dirent *de;
	int fd, best = -1;

	if (meta_path(rel, sizeof(rel), "%s/%s", pod_dir, container) < 0)
		return -ENAMETOOLONG;
	fd = openat(pods_fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		int r = -errno;

		close(fd);
		return r;
	}
	while ((de = readdir(d))) {
		int n = meta_log_attempt(de->d_name);

		if (n > best)
			best = n;
	}
	return best;
}

/*
 * O(pods on the node): the directory name holds the namespace and pod name we are looking
 * for, so it cannot be built from the uid alone.
 */
int ew_meta_read_pod_logs(const struct ew_meta_paths *paths, const char *pod_uid,
			  const char *container, struct ew_meta *ret)
{
	struct ew_meta_paths p = paths ? *paths : (struct ew_meta_paths){0};
	_cleanup_closedir_ DIR *d = NULL;
	char path[PATH_MAX];
	size_t uid_len;
	struct dirent *de;
	int r;

	if (!pod_uid || !meta_uid_valid(pod_uid))
		return -EINVAL;
	if (container && *container && !meta_component_valid(container))
		return -EINVAL;
	ew_meta_paths_default(&p);
	r = meta_path(path, sizeof(path), "%s%s", p.host_root, p.pods_log_root);
	if (r < 0)
		return r;
	d = opendir(path);
	if (!d)
		return -errno;

	uid_len = strlen(pod_uid);
	while ((de = readdir(d))) {
		const char *name = de->d_name, *first, *last;
		size_t len = strlen(name);

		/* <namespace>_<pod>_<uid>: neither name may hold '_', but split robustly anyway. */
		if (len < uid_len + 4 || strcmp(name + len - uid_len, pod_uid))
			continue;
		last = name + len - uid_len - 1;
		first = strchr(name, '_');
		if (*last != '_' || first >= last || first == name || first + 1 == last)
			continue;

		ew_strlcpy_n(ret->pod_namespace, sizeof(ret->pod_namespace), name,
			     (size_t)(first - name));
		ew_strlcpy_n(ret->pod_name, sizeof(ret->pod_name), first + 1,
			     (size_t)(last - first - 1));
		ew_strlcpy(ret->pod_uid, pod_uid, sizeof(ret->pod_uid));
		if (container && *container) {
			r = meta_pod_log_restarts(dirfd(d), name, container);
			if (r >= 0)
				ret->restart_count = r;
		}
		return 0;
	}
	return -ENOENT;
}

/* Kubernetes names the runtime file lacks (containerd 1.6 has no uid, none has the count). */
static void meta_complete_k8s(const struct ew_meta_paths *p, const struct ew_cgroup_info *cg,
			      struct ew_meta *ret)
{
	struct ew_meta logs;
	const char *uid;

	/* The cgroup path is the kernel's word on which pod this is; the file only a claim. */
	uid = meta_uid_valid(cg->pod_uid) ? cg->pod_uid : ret->pod_uid;
	if (!ret->pod_uid[0] && meta_uid_valid(cg->pod_uid))
		ew_strlcpy(ret->pod_uid, cg->pod_uid, sizeof(ret->pod_uid));
	if (ret->pod_namespace[0] && ret->pod_name[0] && (ret->restart_count >= 0 || ret->sandbox))
		return;
	if (!meta_uid_valid(uid))
		return;

	meta_clear(&logs);
	if (ew_meta_read_pod_logs(p, uid, ret->sandbox ? "" : ret->name, &logs) < 0)
		return;
	if (!ret->pod_namespace[0])
		meta_copy(ret->pod_namespace, sizeof(ret->pod_namespace), logs.pod_namespace);
	if (!ret->pod_name[0])
		meta_copy(ret->pod_name, sizeof(ret->pod_name), logs.pod_name);
	if (ret->restart_count < 0)
		ret->restart_count = logs.restart_count;
}

int ew_meta_read(const struct ew_meta_paths *paths, const struct ew_cgroup_info *cg,
		 struct ew_meta *ret, char *err, size_t errlen)
{
	struct ew_meta_paths p = paths ? *paths : (struct ew_meta_paths){0};
	const char *id = cg->container_id;
	int r;

	meta_clear(ret);
	if (err && errlen)
		err[0] = '\0';
	ew_meta_paths_default(&p);

	switch (cg->runtime) {
	case EW_RT_DOCKER:
	case EW_RT_CONTAINERD:
	case EW_RT_CRIO:
	case EW_RT_PODMAN:
		break;
	default:
		return meta_errf(err, errlen, -ENOENT, "runtime %d keeps no metadata files",
				 (int)cg->runtime);
	}
	/* The id becomes a path component: nothing but 64 hex digits gets that far. */
	if (!meta_id_valid(id))
		return meta_errf(err, errlen, -EINVAL, "invalid container id");

	switch (cg->runtime) {
	case EW_RT_DOCKER:
		r = meta_read_docker(&p, id, ret, err, errlen);
		break;
	case EW_RT_CONTAINERD:
		r = meta_read_containerd(&p, id, ret, err, errlen);
		break;
	case EW_RT_CRIO:
		r = meta_read_overlay(&p, p.crio_root, id, ret, err, errlen);
		break;
	default:
		r = meta_read_overlay(&p, p.crio_root, id, ret, err, errlen);
		if (r == -ENOENT)
			r = meta_read_overlay(&p, EW_META_LIBPOD_ROOT, id, ret, err, errlen);
		break;
	}
	if (r < 0) {
		/* A parser may have filled part of ret before failing: leave nothing half-made. */
		meta_clear(ret);
		return r;
	}
	if (cg->kubernetes)
		meta_complete_k8s(&p, cg, ret);
	/* Namespaces tried before the one that had the file left their ENOENT behind. */
	if (err && errlen)
		err[0] = '\0';
	return 0;
}
