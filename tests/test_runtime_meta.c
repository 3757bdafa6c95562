// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * identity/runtime_meta.c: the parsers on fixture files shaped like the runtimes' own, then
 * ew_meta_read() through a host-root tree (tests/fixtures/hostroot), then the hostile cases
 * (FIFO, oversized, symlink, directory) in a temporary host root made per test.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "exitwatch/identity/runtime_meta.h"
#include "exitwatch/util/util.h"
#include "harness/unit.h"

#ifndef EW_FIXTURES_DIR
#define EW_FIXTURES_DIR "tests/fixtures"
#endif
#define HOSTROOT EW_FIXTURES_DIR "/hostroot"

/* Blocking on a FIFO would hang the test: this turns a hang into a failure (SIGALRM kills). */
#define EW_TEST_NOBLOCK_S 5

/* tests/fixtures/{docker,containerd,crio} */
#define UID_DOCKERD "0b6d4f2e-8a1c-4e3b-9d7f-5c2a1e0b9f84"
#define UID_CD17    "c3a1e5f7-2b4d-4e6f-8a0c-1e3f5a7b9d2c"
#define UID_CRIO    "6f2d8a4c-0e1b-4d3f-a5c7-9b1d3f5e7a2c"
#define POD_CD	    "checkout-6d5f7c9b8-q4w2x"
#define POD_CD17    "orders-api-7c9d8b6f5-zt8rw"
#define POD_CRIO    "payments-api-7b9c6d5f4-hx8kz"
#define IMG_CRIO    "quay.io/acme/payments-api:2.3.1"

/* tests/fixtures/hostroot */
#define HR_DOCKER   "2a71048cd69e70536efc682e85e6aa728e80acfade54b46648cd30124a2b46e9"
#define HR_CD	    "74d25a3e2adc5cc0b74dee49750a56fe38afe10080de167f8a491dbe55b5a1ca"
#define HR_CD_SB    "5c7efaba64c0c74473dbb90d669890f738897cf5e709623a93d2f63f01fe73bb"
#define HR_BUILDKIT "24fc491eaad8d5d0fb3faf913e6919d59b3b03d173b916b8314990fee0345f40"
#define HR_CRIO	    "d3abec9db34f3c94ce0df55c18f4e306ad291346f9e5adf57c509882333d0cfe"
#define HR_CRIO_SB  "710513703b69d9c707e789bb4baa16b193fd5516f72883b9e6f28c7d0e0deef4"
#define HR_PODMAN   "50d927c36ba098eced42d2f9256e706fe8f8c1de031238d7a2bca12e92010dad"
#define HR_ABSENT   "0000000000000000000000000000000000000000000000000000000000000000"
#define HR_UID_SHOP "1d5b9e3f-7a2c-4f6e-8b0d-2c4e6a8f0b1d"
#define HR_UID_OLD  "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
#define HR_UID_NONE "00000000-1111-4222-8333-444444444444"
#define STATIC_UID  "5d41402abc4b2a76b9719d911017c592"

#define CHECK_STR(what, got, want)                                                                \
	do {                                                                                      \
		if (strcmp((got), (want)))                                                        \
			fail_msg("%s: %s: got \"%s\", want \"%s\"", (what), #got, (got), (want)); \
	} while (0)
#define CHECK_INT(what, got, want)                                                       \
	do {                                                                             \
		if ((long)(got) != (long)(want))                                         \
			fail_msg("%s: %s: got %ld, want %ld", (what), #got, (long)(got), \
				 (long)(want));                                          \
	} while (0)

/* What a case expects in struct ew_meta; NULL strings mean "". */
struct want {
	const char *name, *image, *pod, *ns, *uid, *project, *service, *policy;
	int restart;
	bool sandbox;
};

static void check_meta(const char *what, const struct ew_meta *m, const struct want *w)
{
	CHECK_STR(what, m->name, w->name ? w->name : "");
	CHECK_STR(what, m->image, w->image ? w->image : "");
	CHECK_STR(what, m->pod_name, w->pod ? w->pod : "");
	CHECK_STR(what, m->pod_namespace, w->ns ? w->ns : "");
	CHECK_STR(what, m->pod_uid, w->uid ? w->uid : "");
	CHECK_STR(what, m->compose_project, w->project ? w->project : "");
	CHECK_STR(what, m->compose_service, w->service ? w->service : "");
	CHECK_STR(what, m->restart_policy, w->policy ? w->policy : "");
	CHECK_INT(what, m->restart_count, w->restart);
	CHECK_INT(what, m->sandbox, w->sandbox);
}

/* Every string field terminated within its array: what "never crash" needs downstream. */
static void check_terminated(const char *what, const struct ew_meta *m)
{
	if (strnlen(m->name, sizeof(m->name)) == sizeof(m->name) ||
	    strnlen(m->image, sizeof(m->image)) == sizeof(m->image) ||
	    strnlen(m->pod_name, sizeof(m->pod_name)) == sizeof(m->pod_name) ||
	    strnlen(m->pod_namespace, sizeof(m->pod_namespace)) == sizeof(m->pod_namespace) ||
	    strnlen(m->pod_uid, sizeof(m->pod_uid)) == sizeof(m->pod_uid) ||
	    strnlen(m->compose_project, sizeof(m->compose_project)) == sizeof(m->compose_project) ||
	    strnlen(m->compose_service, sizeof(m->compose_service)) == sizeof(m->compose_service) ||
	    strnlen(m->restart_policy, sizeof(m->restart_policy)) == sizeof(m->restart_policy))
		fail_msg("%s: a field is not NUL-terminated", what);
}

/* Test-only file slurp; the module under test has its own, stricter reader. */
static char *fixture_read(const char *rel, size_t *len)
{
	char path[PATH_MAX];
	struct stat st;
	char *buf;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", EW_FIXTURES_DIR, rel);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("fixture %s: %s", path, strerror(errno));
	assert_int_equal(fstat(fileno(f), &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	*len = fread(buf, 1, (size_t)st.st_size, f);
	assert_int_equal(*len, (size_t)st.st_size);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

enum parser {
	DOCKER,
	OCI
};

static int parse(enum parser p, const char *buf, size_t len, struct ew_meta *m, char *err,
		 size_t errlen)
{
	return p == DOCKER ? ew_meta_parse_docker(buf, len, m, err, errlen)
			   : ew_meta_parse_oci(buf, len, m, err, errlen);
}

static const struct parse_case {
	const char *file;
	enum parser parser;
	int ret;
	const char *err; /* a substring of the message, for failures */
	struct want want;
} parse_cases[] = {
	/* Docker: Compose service with RestartCount; hostconfig.json is a separate file. */
	{"docker/compose-backend.config.v2.json",
	 DOCKER,
	 0,
	 NULL,
	 {.name = "shop-backend-1",
	  .image = "registry.example.com/shop/backend:1.4.2",
	  .project = "shop",
	  .service = "backend",
	  .restart = 4}},
	{"docker/plain.config.v2.json",
	 DOCKER,
	 0,
	 NULL,
	 {.name = "quirky_mayer", .image = "nginx:1.25-alpine", .restart = 0}},
	/* cri-dockerd: names from the io.kubernetes.* labels, count from the kubelet's. */
	{"docker/cri-dockerd.config.v2.json",
	 DOCKER,
	 0,
	 NULL,
	 {.name = "worker",
	  .image = "registry.example.com/jobs/worker@sha256:"
		   "1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d",
	  .pod = "queue-worker-5f7d8c9b6-m2n4p",
	  .ns = "jobs",
	  .uid = UID_DOCKERD,
	  .restart = 3}},
	/* Wrong types are skipped one by one; the one right field survives. */
	{"docker/wrong-types.config.v2.json",
	 DOCKER,
	 0,
	 NULL,
	 {.service = "backend", .restart = -1}},
	{"docker/wrong-shapes.config.v2.json", DOCKER, 0, NULL, {.name = "ok", .restart = -1}},
	{"docker/huge-count.config.v2.json", DOCKER, 0, NULL, {.image = "alpine", .restart = -1}},
	{"docker/float-count.config.v2.json",
	 DOCKER,
	 0,
	 NULL,
	 {.name = "f", .image = "alpine", .restart = -1}},
	{"docker/malformed.config.v2.json",
	 DOCKER,
	 -EINVAL,
	 "quoted object property name expected",
	 {.restart = -1}},
	{"docker/truncated.config.v2.json", DOCKER, -EINVAL, "truncated", {.restart = -1}},
	{"docker/empty.config.v2.json", DOCKER, -EINVAL, "empty", {.restart = -1}},
	{"docker/array.config.v2.json", DOCKER, -EINVAL, "top level is array", {.restart = -1}},
	{"docker/trailing.config.v2.json", DOCKER, -EINVAL, "trailing data", {.restart = -1}},
	/* containerd 1.6: no sandbox-uid annotation. */
	{"containerd/k8s-1.6-container.config.json",
	 OCI,
	 0,
	 NULL,
	 {.name = "backend",
	  .image = "registry.example.com/shop/backend:1.4.2",
	  .pod = POD_CD,
	  .ns = "shop",
	  .restart = -1}},
	{"containerd/k8s-1.7-container.config.json",
	 OCI,
	 0,
	 NULL,
	 {.name = "api",
	  .image = "ghcr.io/acme/orders-api:v2.8.0",
	  .pod = POD_CD17,
	  .ns = "orders",
	  .uid = UID_CD17,
	  .restart = -1}},
	{"containerd/k8s-1.7-sandbox.config.json",
	 OCI,
	 0,
	 NULL,
	 {.image = "registry.k8s.io/pause:3.9",
	  .pod = POD_CD17,
	  .ns = "orders",
	  .uid = UID_CD17,
	  .restart = -1,
	  .sandbox = true}},
	{"containerd/moby.config.json", OCI, 0, NULL, {.restart = -1}},
	/* A traversal attempt as the uid is not a uid: dropped. */
	{"containerd/wrong-types.config.json", OCI, 0, NULL, {.name = "app", .restart = -1}},
	{"containerd/annotations-array.config.json", OCI, 0, NULL, {.restart = -1}},
	{"crio/container.config.json",
	 OCI,
	 0,
	 NULL,
	 {.name = "api",
	  .image = IMG_CRIO,
	  .pod = POD_CRIO,
	  .ns = "payments",
	  .uid = UID_CRIO,
	  .restart = 2}},
	{"crio/sandbox.config.json",
	 OCI,
	 0,
	 NULL,
	 {.name = "POD",
	  .pod = POD_CRIO,
	  .ns = "payments",
	  .uid = UID_CRIO,
	  .restart = -1,
	  .sandbox = true}},
	{"crio/image-only.config.json",
	 OCI,
	 0,
	 NULL,
	 {.name = "api",
	  .image = "quay.io/acme/payments-api:2.3.0",
	  .pod = POD_CRIO,
	  .ns = "payments",
	  .uid = UID_CRIO,
	  .restart = 0}},
	/* The other runtime's file is still a JSON object: nothing of ours in it. */
	{"crio/container.config.json", DOCKER, 0, NULL, {.restart = -1}},
	{"docker/truncated.config.v2.json", OCI, -EINVAL, "truncated", {.restart = -1}},
};

static void test_meta_parse_fixtures(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct ew_meta m;
		char err[512] = "";
		size_t len;
		char *buf = fixture_read(c->file, &len);
		int r;

		/* Garbage first: the parser must clear it, on success and on failure. */
		memset(&m, 'x', sizeof(m));
		r = parse(c->parser, buf, len, &m, err, sizeof(err));
		CHECK_INT(c->file, r, c->ret);
		check_meta(c->file, &m, &c->want);
		if (c->err && !strstr(err, c->err))
			fail_msg("%s: error \"%s\" lacks \"%s\"", c->file, err, c->err);
		if (!c->err && err[0])
			fail_msg("%s: unexpected error \"%s\"", c->file, err);
		free(buf);
	}
}

static const struct bytes_case {
	const char *what;
	const char *json;
	size_t len; /* 0: strlen */
	int ret;
	const char *name;
} bytes_cases[] = {
	{"minimal", "{\"Name\":\"/a\"}", 0, 0, "a"},
	{"whitespace around", " \n\t{\"Name\":\"/a\"}\r\n ", 0, 0, "a"},
	{"NUL after the object", "{\"Name\":\"/a\"}\0{\"Name\":\"/b\"}", 27, -EINVAL, ""},
	{"NUL first", "\0{}", 3, -EINVAL, ""},
	{"length cuts the object", "{\"Name\":\"/abc\"}", 8, -EINVAL, ""},
	{"escaped NUL in a string", "{\"Name\":\"/a\\u0000b\"}", 0, 0, "a"},
	{"name without slash", "{\"Name\":\"plain\"}", 0, 0, "plain"},
	{"just a slash", "{\"Name\":\"/\"}", 0, 0, ""},
	{"null", "null", 0, -EINVAL, ""},
	{"string", "\"{}\"", 0, -EINVAL, ""},
	{"number", "42", 0, -EINVAL, ""},
	{"two objects", "{}{}", 0, -EINVAL, ""},
	{"bad escape", "{\"Name\":\"\\x41\"}", 0, -EINVAL, ""},
	{"duplicate key, last wins", "{\"Name\":\"/a\",\"Name\":\"/b\"}", 0, 0, "b"},
};

static void test_meta_parse_bytes(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(bytes_cases); i++) {
		const struct bytes_case *c = &bytes_cases[i];
		size_t len = c->len ? c->len : strlen(c->json);
		struct ew_meta m;
		char err[256] = "";

		CHECK_INT(c->what, ew_meta_parse_docker(c->json, len, &m, err, sizeof(err)),
			  c->ret);
		CHECK_STR(c->what, m.name, c->name);
		if (c->ret < 0 && !strstr(err, "docker config.v2.json: "))
			fail_msg("%s: error \"%s\" does not say which file kind", c->what, err);
		/* err is optional. */
		CHECK_INT(c->what, ew_meta_parse_oci(c->json, len, &m, NULL, 0), c->ret);
	}
}

/* Nesting far past json-c's depth limit: an error, not a stack overflow. */
static void test_meta_parse_deep_nesting(void **state)
{
	enum {
		DEPTH = 100000
	};
	char *buf = malloc(2 * DEPTH + 16);
	char err[256] = "";
	struct ew_meta m;
	size_t n = 0;

	assert_non_null(buf);
	n += (size_t)sprintf(buf, "{\"a\":");
	memset(buf + n, '[', DEPTH);
	n += DEPTH;
	memset(buf + n, ']', DEPTH);
	n += DEPTH;
	buf[n++] = '}';
	assert_int_equal(ew_meta_parse_oci(buf, n, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, json_tokener_error_desc(json_tokener_error_depth)));
	assert_int_equal(m.restart_count, -1);
	free(buf);
}

static void test_meta_parse_too_long(void **state)
{
	struct ew_meta m;
	char err[256] = "";

	/* Only the length is looked at: the pointer is never read past "{}". */
	assert_int_equal(
		ew_meta_parse_docker("{}", (size_t)EW_META_MAX_BYTES + 1, &m, err, sizeof(err)),
		-EFBIG);
	assert_non_null(strstr(err, "more than"));
	assert_int_equal(ew_meta_parse_docker(NULL, 0, &m, err, sizeof(err)), -EINVAL);
	assert_int_equal(ew_meta_parse_oci(NULL, 5, &m, err, sizeof(err)), -EINVAL);
}

/* Long strings are cut to fit, at a character boundary. */
static void test_meta_parse_truncates(void **state)
{
	static const struct {
		const char *field;
		char fill;
		size_t keep; /* bytes of fill kept: the cut character goes whole */
	} cases[] = {
		{"name", 'a', EW_NAME_LEN - 1},	   /* 300 ASCII */
		{"image", 'b', EW_NAME_LEN - 2},   /* 254 + U+00E9 (2 bytes) */
		{"service", 'c', EW_NAME_LEN - 3}, /* 253 + U+20AC (3 bytes) */
		{"project", 'd', EW_NAME_LEN - 4}, /* 252 + U+1F600 (4 bytes) */
	};
	struct ew_meta m;
	size_t len;
	char *buf = fixture_read("docker/long-names.config.v2.json", &len);

	assert_int_equal(ew_meta_parse_docker(buf, len, &m, NULL, 0), 0);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *got = i == 0   ? m.name
				  : i == 1 ? m.image
				  : i == 2 ? m.compose_service
					   : m.compose_project;
		char want[EW_NAME_LEN];

		memset(want, cases[i].fill, cases[i].keep);
		want[cases[i].keep] = '\0';
		CHECK_STR(cases[i].field, got, want);
	}
	free(buf);
}

/*
 * Every prefix of a real file that ends before its closing brace is truncated JSON, and every single-byte corruption is
 * either still an object (0) or -EINVAL: never anything else, and the fields stay terminated.
 */
static void test_meta_parse_prefixes_and_flips(void **state)
{
	static const char *const files[] = {"docker/compose-backend.config.v2.json",
					    "crio/container.config.json"};
	static const char flips[] = {'"', '{', '}', '[', ']', ',', ':', '\\', '\0', 'x', '\xff'};

	for (size_t f = 0; f < ARRAY_SIZE(files); f++) {
		size_t len;
		char *buf = fixture_read(files[f], &len);
		char *copy = malloc(len);
		struct ew_meta m;
		unsigned ok = 0, bad = 0;
		size_t end = len;

		assert_non_null(copy);
		/* The object ends at its '}': only the whitespace after it may be cut away. */
		while (end > 0 && buf[end - 1] != '}')
			end--;
		for (size_t cut = 0; cut < end; cut++) {
			assert_int_equal(ew_meta_parse_docker(buf, cut, &m, NULL, 0), -EINVAL);
			assert_int_equal(ew_meta_parse_oci(buf, cut, &m, NULL, 0), -EINVAL);
		}
		for (size_t pos = 0; pos < len; pos += 7) {
			memcpy(copy, buf, len);
			copy[pos] = flips[pos % sizeof(flips)];
			int r = ew_meta_parse_oci(copy, len, &m, NULL, 0);

			if (r == 0)
				ok++;
			else if (r == -EINVAL)
				bad++;
			else
				fail_msg("%s: flip at %zu returned %d", files[f], pos, r);
			check_terminated(files[f], &m);
		}
		/* Both outcomes must occur, or the corruption did not reach the parser. */
		assert_true(ok > 0);
		assert_true(bad > 0);
		free(copy);
		free(buf);
	}
}

static struct ew_meta_paths hostroot_paths(const char *root)
{
	struct ew_meta_paths p = {.host_root = root};

	ew_meta_paths_default(&p);
	return p;
}

static const struct read_case {
	const char *what;
	enum ew_runtime rt;
	bool k8s;
	const char *id;
	const char *cg_uid;
	int ret;
	struct want want;
} read_cases[] = {
	/* Docker: config.v2.json plus the restart policy from hostconfig.json. */
	{"docker compose",
	 EW_RT_DOCKER,
	 false,
	 HR_DOCKER,
	 "",
	 0,
	 {.name = "shop-worker-2",
	  .image = "registry.example.com/shop/worker:1.4.2",
	  .project = "shop",
	  .service = "worker",
	  .policy = "unless-stopped",
	  .restart = 9}},
	/*
	 * containerd 1.6 in k8s.io: no uid in the file (the cgroup's), no count (the highest
	 * N.log: 10, not the lexically last 9).
	 */
	{"containerd 1.6 container",
	 EW_RT_CONTAINERD,
	 true,
	 HR_CD,
	 HR_UID_SHOP,
	 0,
	 {.name = "backend",
	  .image = "registry.example.com/shop/backend:1.4.2",
	  .pod = POD_CD,
	  .ns = "shop",
	  .uid = HR_UID_SHOP,
	  .restart = 10}},
	{"containerd 1.6 sandbox",
	 EW_RT_CONTAINERD,
	 true,
	 HR_CD_SB,
	 HR_UID_SHOP,
	 0,
	 {.pod = POD_CD, .ns = "shop", .uid = HR_UID_SHOP, .restart = -1, .sandbox = true}},
	/* A pod whose log directory is gone: the file's names, the cgroup's uid, no count. */
	{"containerd, no pod logs",
	 EW_RT_CONTAINERD,
	 true,
	 HR_CD,
	 HR_UID_NONE,
	 0,
	 {.name = "backend",
	  .image = "registry.example.com/shop/backend:1.4.2",
	  .pod = POD_CD,
	  .ns = "shop",
	  .uid = HR_UID_NONE,
	  .restart = -1}},
	/* A cgroup uid that is not a uid is never used to build a path. */
	{"containerd, bad cgroup uid",
	 EW_RT_CONTAINERD,
	 true,
	 HR_CD,
	 "../../../../etc",
	 0,
	 {.name = "backend",
	  .image = "registry.example.com/shop/backend:1.4.2",
	  .pod = POD_CD,
	  .ns = "shop",
	  .restart = -1}},
	/* Found by scanning the namespace directories. */
	{"containerd buildkit namespace",
	 EW_RT_CONTAINERD,
	 false,
	 HR_BUILDKIT,
	 "",
	 0,
	 {.restart = -1}},
	{"cri-o container",
	 EW_RT_CRIO,
	 true,
	 HR_CRIO,
	 UID_CRIO,
	 0,
	 {.name = "api",
	  .image = IMG_CRIO,
	  .pod = POD_CRIO,
	  .ns = "payments",
	  .uid = UID_CRIO,
	  .restart = 2}},
	{"cri-o sandbox",
	 EW_RT_CRIO,
	 true,
	 HR_CRIO_SB,
	 UID_CRIO,
	 0,
	 {.name = "POD",
	  .pod = POD_CRIO,
	  .ns = "payments",
	  .uid = UID_CRIO,
	  .restart = -1,
	  .sandbox = true}},
	/*
	 * The same file where the cgroup is not a pod's: its annotations are then only what the
	 * workload says of itself, no sandbox and no pod.
	 */
	{"cri-o sandbox outside kubepods",
	 EW_RT_CRIO,
	 false,
	 HR_CRIO_SB,
	 "",
	 0,
	 {.name = "POD", .restart = -1}},
	{"podman", EW_RT_PODMAN, false, HR_PODMAN, "", 0, {.restart = -1}},
	{"docker absent", EW_RT_DOCKER, false, HR_ABSENT, "", -ENOENT, {.restart = -1}},
	{"containerd absent",
	 EW_RT_CONTAINERD,
	 true,
	 HR_ABSENT,
	 HR_UID_SHOP,
	 -ENOENT,
	 {.restart = -1}},
	{"cri-o absent", EW_RT_CRIO, true, HR_ABSENT, UID_CRIO, -ENOENT, {.restart = -1}},
	{"podman absent", EW_RT_PODMAN, false, HR_ABSENT, "", -ENOENT, {.restart = -1}},
	/* A docker id under another runtime is not looked for in Docker's tree. */
	{"docker id as cri-o", EW_RT_CRIO, false, HR_DOCKER, "", -ENOENT, {.restart = -1}},
	{"systemd", EW_RT_SYSTEMD, false, "", "", -ENOENT, {.restart = -1}},
	{"cgroup", EW_RT_CGROUP, false, "", "", -ENOENT, {.restart = -1}},
	{"none", EW_RT_NONE, false, "", "", -ENOENT, {.restart = -1}},
	/* Ids that are not 64 lower-case hex never reach a path. */
	{"traversal id",
	 EW_RT_DOCKER,
	 false,
	 "../../../../../../../../etc/passwd",
	 "",
	 -EINVAL,
	 {.restart = -1}},
	{"traversal id, 64 chars",
	 EW_RT_CRIO,
	 false,
	 "../../../../../../../../../../../../../../../../../../../etc/pass",
	 "",
	 -EINVAL,
	 {.restart = -1}},
	{"upper-case id",
	 EW_RT_DOCKER,
	 false,
	 "2A71048CD69E70536EFC682E85E6AA728E80ACFADE54B46648CD30124A2B46E9",
	 "",
	 -EINVAL,
	 {.restart = -1}},
	{"short id", EW_RT_DOCKER, false, "2a71048cd69e", "", -EINVAL, {.restart = -1}},
	{"empty id", EW_RT_CONTAINERD, false, "", "", -EINVAL, {.restart = -1}},
};

static void test_meta_read_hostroot(void **state)
{
	struct ew_meta_paths p = hostroot_paths(HOSTROOT);

	for (size_t i = 0; i < ARRAY_SIZE(read_cases); i++) {
		const struct read_case *c = &read_cases[i];
		struct ew_cgroup_info cg = {.runtime = c->rt, .kubernetes = c->k8s};
		char err[512] = "";
		struct ew_meta m;

		ew_strlcpy(cg.container_id, c->id, sizeof(cg.container_id));
		ew_strlcpy(cg.pod_uid, c->cg_uid, sizeof(cg.pod_uid));
		memset(&m, 'x', sizeof(m));
		CHECK_INT(c->what, ew_meta_read(&p, &cg, &m, err, sizeof(err)), c->ret);
		check_meta(c->what, &m, &c->want);
		if (c->ret == 0 && err[0])
			fail_msg("%s: unexpected error \"%s\"", c->what, err);
		if (c->ret < 0 && !err[0])
			fail_msg("%s: no error message", c->what);
	}
}

/* The message of a missing file names the path looked at, under the host root. */
static void test_meta_read_enoent_message(void **state)
{
	struct ew_meta_paths p = hostroot_paths(HOSTROOT);
	struct ew_cgroup_info cg = {.runtime = EW_RT_DOCKER, .container_id = HR_ABSENT};
	char err[512];
	struct ew_meta m;
	int rc;

	assert_int_equal(ew_meta_read(&p, &cg, &m, err, sizeof(err)), -ENOENT);
	assert_non_null(
		strstr(err, HOSTROOT "/var/lib/docker/containers/" HR_ABSENT "/config.v2.json"));
	/* err is optional. */
	assert_int_equal(ew_meta_read(&p, &cg, &m, NULL, 0), -ENOENT);
	/* NULL paths are the host's defaults (this id exists on no host). A user who is not root
	 * may not search the host's /var/lib/docker (0710 root): EACCES then, not ENOENT. */
	rc = ew_meta_read(NULL, &cg, &m, err, sizeof(err));
	if (!(rc == -EACCES && geteuid() != 0))
		assert_int_equal(rc, -ENOENT);
	assert_non_null(strstr(err, "/var/lib/docker/containers/" HR_ABSENT "/config.v2.json"));
}

static const struct logs_case {
	const char *what;
	const char *uid;
	const char *container;
	int ret;
	struct want want;
} logs_cases[] = {
	{"highest N.log, numerically",
	 HR_UID_SHOP,
	 "backend",
	 0,
	 {.pod = POD_CD, .ns = "shop", .uid = HR_UID_SHOP, .restart = 10}},
	{"other container",
	 HR_UID_SHOP,
	 "istio-proxy",
	 0,
	 {.pod = POD_CD, .ns = "shop", .uid = HR_UID_SHOP, .restart = 0}},
	{"no container",
	 HR_UID_SHOP,
	 "",
	 0,
	 {.pod = POD_CD, .ns = "shop", .uid = HR_UID_SHOP, .restart = -1}},
	{"NULL container",
	 HR_UID_SHOP,
	 NULL,
	 0,
	 {.pod = POD_CD, .ns = "shop", .uid = HR_UID_SHOP, .restart = -1}},
	{"container without logs",
	 HR_UID_SHOP,
	 "migrate",
	 0,
	 {.pod = POD_CD, .ns = "shop", .uid = HR_UID_SHOP, .restart = -1}},
	{"same pod name, older uid",
	 HR_UID_OLD,
	 "backend",
	 0,
	 {.pod = POD_CD, .ns = "shop", .uid = HR_UID_OLD, .restart = 0}},
	{"cri-o pod",
	 UID_CRIO,
	 "api",
	 0,
	 {.pod = POD_CRIO, .ns = "payments", .uid = UID_CRIO, .restart = 2}},
	{"unknown pod", HR_UID_NONE, "backend", -ENOENT, {.restart = -1}},
	{"static pod uid shape", STATIC_UID, "", -ENOENT, {.restart = -1}},
	{"traversal uid", "../../../etc", "", -EINVAL, {.restart = -1}},
	{"upper-case uid", "1D5B9E3F-7A2C-4F6E-8B0D-2C4E6A8F0B1D", "", -EINVAL, {.restart = -1}},
	{"uid, dashes misplaced",
	 "1d5b9e3f7-a2c-4f6e-8b0d-2c4e6a8f0b1d",
	 "",
	 -EINVAL,
	 {.restart = -1}},
	{"NULL uid", NULL, "", -EINVAL, {.restart = -1}},
	{"traversal container", HR_UID_SHOP, "../backend", -EINVAL, {.restart = -1}},
	{"dot-dot container", HR_UID_SHOP, "..", -EINVAL, {.restart = -1}},
};

static void test_meta_read_pod_logs(void **state)
{
	struct ew_meta_paths p = hostroot_paths(HOSTROOT);

	for (size_t i = 0; i < ARRAY_SIZE(logs_cases); i++) {
		const struct logs_case *c = &logs_cases[i];
		struct ew_meta m = {.restart_count = -1};

		CHECK_INT(c->what, ew_meta_read_pod_logs(&p, c->uid, c->container, &m), c->ret);
		check_meta(c->what, &m, &c->want);
	}
}

/* ---- a writable host root per test, for the files no checkout should hold ---- */

/* mkdir -p of root/rel, root being the test's scratch directory (tests/harness/unit.h);
 * returns root/rel in buf. */
static const char *tmp_mkdirs(const struct ew_t_scratch *t, const char *rel, char *buf, size_t size)
{
	int r = ew_t_mkdirs(ew_t_scratch_path(t, rel, buf, size));

	if (r < 0)
		fail_msg("mkdir -p %s: %s", buf, strerror(-r));
	return buf;
}

static const char *path_join(char *buf, size_t size, const char *dir, const char *name)
{
	if ((size_t)snprintf(buf, size, "%s/%s", dir, name) >= size)
		fail_msg("path %s/%s too long", dir, name);
	return buf;
}

static void tmp_write(const char *dir, const char *name, const char *data)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	fputs(data, f);
	assert_int_equal(fclose(f), 0);
}

#define TMP_ID	   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DOCKER_DIR "var/lib/docker/containers/" TMP_ID

static int read_docker(const struct ew_t_scratch *t, struct ew_meta *m, char *err, size_t errlen)
{
	struct ew_meta_paths p = hostroot_paths(t->dir);
	struct ew_cgroup_info cg = {.runtime = EW_RT_DOCKER, .container_id = TMP_ID};

	memset(m, 'x', sizeof(*m));
	return ew_meta_read(&p, &cg, m, err, errlen);
}

static void test_meta_read_oversized(void **state)
{
	struct ew_t_scratch *t = *state;
	char dir[PATH_MAX], path[PATH_MAX], err[512] = "";
	struct ew_meta m;
	int fd;

	tmp_mkdirs(t, DOCKER_DIR, dir, sizeof(dir));
	path_join(path, sizeof(path), dir, "config.v2.json");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)EW_META_MAX_BYTES + 1), 0);

	assert_int_equal(read_docker(t, &m, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, path));
	assert_string_equal(m.name, "");
	assert_int_equal(m.restart_count, -1);

	/* At the limit the size is accepted, and the zeros are rejected as JSON instead. */
	assert_int_equal(ftruncate(fd, (off_t)EW_META_MAX_BYTES), 0);
	assert_int_equal(read_docker(t, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, path));
	close(fd);
}

static void test_meta_read_fifo(void **state)
{
	struct ew_t_scratch *t = *state;
	char dir[PATH_MAX], path[PATH_MAX], err[512] = "";
	struct timespec t0, t1;
	struct ew_meta m;

	tmp_mkdirs(t, DOCKER_DIR, dir, sizeof(dir));
	path_join(path, sizeof(path), dir, "config.v2.json");
	assert_int_equal(mkfifo(path, 0644), 0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	alarm(EW_TEST_NOBLOCK_S);
	assert_int_equal(read_docker(t, &m, err, sizeof(err)), -EINVAL);
	alarm(0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < EW_TEST_NOBLOCK_S);
	assert_non_null(strstr(err, "not a regular file"));
}

/* An optional hostconfig.json that is a FIFO costs the policy, not the read, and never blocks. */
static void test_meta_read_fifo_hostconfig(void **state)
{
	struct ew_t_scratch *t = *state;
	char dir[PATH_MAX], path[PATH_MAX], err[512] = "";
	struct ew_meta m;

	tmp_mkdirs(t, DOCKER_DIR, dir, sizeof(dir));
	tmp_write(dir, "config.v2.json",
		  "{\"ID\":\"" TMP_ID "\",\"Name\":\"/web-1\",\"RestartCount\":2,"
		  "\"Config\":{\"Image\":\"nginx:1.25\",\"Labels\":{}}}");
	path_join(path, sizeof(path), dir, "hostconfig.json");
	assert_int_equal(mkfifo(path, 0644), 0);

	alarm(EW_TEST_NOBLOCK_S);
	assert_int_equal(read_docker(t, &m, err, sizeof(err)), 0);
	alarm(0);
	assert_string_equal(m.name, "web-1");
	assert_string_equal(m.image, "nginx:1.25");
	assert_int_equal(m.restart_count, 2);
	assert_string_equal(m.restart_policy, "");
	assert_string_equal(err, "");
}

static void test_meta_read_symlink_and_dir(void **state)
{
	struct ew_t_scratch *t = *state;
	char dir[PATH_MAX], path[PATH_MAX], target[PATH_MAX], err[512] = "";
	struct ew_meta m;

	tmp_mkdirs(t, DOCKER_DIR, dir, sizeof(dir));
	path_join(path, sizeof(path), dir, "config.v2.json");

	/* A symlink to a valid file is still refused: the runtime never writes one. */
	assert_non_null(realpath(EW_FIXTURES_DIR "/docker/compose-backend.config.v2.json", target));
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(read_docker(t, &m, err, sizeof(err)), -EINVAL);
	assert_string_equal(m.name, "");
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(unlink(path), 0);

	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(read_docker(t, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(rmdir(path), 0);

	assert_int_equal(read_docker(t, &m, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
}

/* A parse error through ew_meta_read names the file and carries json-c's words. */
static void test_meta_read_malformed(void **state)
{
	struct ew_t_scratch *t = *state;
	char dir[PATH_MAX], err[512] = "";
	struct ew_meta m;

	tmp_mkdirs(t, DOCKER_DIR, dir, sizeof(dir));
	tmp_write(dir, "config.v2.json", "{\"Name\":\"/web-1\",,}");
	assert_int_equal(read_docker(t, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, dir));
	assert_non_null(
		strstr(err, json_tokener_error_desc(json_tokener_error_parse_object_key_name)));
	/* Nothing half-parsed survives a failure. */
	assert_string_equal(m.name, "");
	assert_int_equal(m.restart_count, -1);

	/* A broken hostconfig.json is only a missing policy. */
	tmp_write(dir, "config.v2.json", "{\"Name\":\"/web-1\"}");
	tmp_write(dir, "hostconfig.json", "{\"RestartPolicy\":{\"Name\":\"always\"");
	assert_int_equal(read_docker(t, &m, err, sizeof(err)), 0);
	assert_string_equal(m.name, "web-1");
	assert_string_equal(m.restart_policy, "");
}

/* containerd: a malformed file in the first namespace is an error, not "try the next one". */
static void test_meta_read_containerd_malformed(void **state)
{
	struct ew_t_scratch *t = *state;
	struct ew_meta_paths p = hostroot_paths(t->dir);
	struct ew_cgroup_info cg = {.runtime = EW_RT_CONTAINERD, .container_id = TMP_ID};
	char dir[PATH_MAX], path[PATH_MAX], err[512] = "";
	struct ew_meta m;

	tmp_mkdirs(t, "run/containerd/io.containerd.runtime.v2.task/k8s.io/" TMP_ID, dir,
		   sizeof(dir));
	tmp_write(dir, "config.json", "[]");
	tmp_mkdirs(t, "run/containerd/io.containerd.runtime.v2.task/moby/" TMP_ID, dir,
		   sizeof(dir));
	tmp_write(dir, "config.json", "{\"ociVersion\":\"1.1.0\"}");
	assert_int_equal(ew_meta_read(&p, &cg, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "k8s.io/" TMP_ID "/config.json"));

	/* Without the k8s.io one, the moby one is found. */
	tmp_mkdirs(t, "run/containerd/io.containerd.runtime.v2.task/k8s.io/" TMP_ID, dir,
		   sizeof(dir));
	path_join(path, sizeof(path), dir, "config.json");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(ew_meta_read(&p, &cg, &m, err, sizeof(err)), 0);
	assert_string_equal(m.name, "");
	assert_false(m.sandbox);
}

/* Other namespaces are scanned; stray files and dot names among them are not namespaces. */
static void test_meta_read_containerd_scan(void **state)
{
	struct ew_t_scratch *t = *state;
	struct ew_meta_paths p = hostroot_paths(t->dir);
	struct ew_cgroup_info cg = {.runtime = EW_RT_CONTAINERD, .container_id = TMP_ID};
	char dir[PATH_MAX], err[512] = "";
	struct ew_meta m;

	tmp_mkdirs(t, "run/containerd/io.containerd.runtime.v2.task", dir, sizeof(dir));
	tmp_write(dir, "a-stray-file", "");
	tmp_write(dir, "zz-stray-file", "");
	assert_int_equal(ew_meta_read(&p, &cg, &m, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, TMP_ID));

	/* Only reachable through ".." if dot names were namespaces: they are not. */
	tmp_mkdirs(t, "run/containerd/" TMP_ID, dir, sizeof(dir));
	tmp_write(dir, "config.json",
		  "{\"annotations\":{\"io.kubernetes.cri.container-name\":\"x\"}}");
	assert_int_equal(ew_meta_read(&p, &cg, &m, err, sizeof(err)), -ENOENT);

	tmp_mkdirs(t, "run/containerd/io.containerd.runtime.v2.task/ci-runner/" TMP_ID, dir,
		   sizeof(dir));
	tmp_write(dir, "config.json",
		  "{\"ociVersion\":\"1.1.0\",\"annotations\":{"
		  "\"io.kubernetes.cri.container-name\":\"job\"}}");
	assert_int_equal(ew_meta_read(&p, &cg, &m, err, sizeof(err)), 0);
	assert_string_equal(m.name, "job");
	assert_string_equal(err, "");
}

/* Directory names split at the first and the last '_'; log names parsed strictly. */
static void test_meta_read_pod_logs_names(void **state)
{
	static const struct {
		const char *dir;
		const char *uid;
		int ret;
		const char *ns, *pod;
	} cases[] = {
		{"kube-system_kube-apiserver-node-1_" STATIC_UID, STATIC_UID, 0, "kube-system",
		 "kube-apiserver-node-1"},
		{"a_b_c_" HR_UID_SHOP, HR_UID_SHOP, 0, "a", "b_c"},
		{"_pod_" HR_UID_OLD, HR_UID_OLD, -ENOENT, "", ""},
		{"ns__" HR_UID_NONE, HR_UID_NONE, -ENOENT, "", ""},
		{"nouid" UID_CRIO, UID_CRIO, -ENOENT, "", ""},
		{"ns_pod-" UID_CD17, UID_CD17, -ENOENT, "", ""},
	};
	static const char *const logs[] = {
		"3.log",
		"12.log",
		"7.log.20240514-091244.gz",
		"13.log.20240514-091244.gz.tmp",
		"x.log",
		"-1.log",
		"4294967296.log",
		"99999999999999999999.log",
		"50.txt",
		"51.logs",
		".log",
		"0x20.log",
	};
	struct ew_t_scratch *t = *state;
	struct ew_meta_paths p = hostroot_paths(t->dir);
	char dir[PATH_MAX], rel[PATH_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(rel, sizeof(rel), "var/log/pods/%s/app", cases[i].dir);
		tmp_mkdirs(t, rel, dir, sizeof(dir));
		for (size_t j = 0; j < ARRAY_SIZE(logs); j++)
			tmp_write(dir, logs[j], "2024-05-14T09:12:44.318226406Z stderr F boom\n");
	}
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ew_meta m = {.restart_count = -1};

		CHECK_INT(cases[i].dir, ew_meta_read_pod_logs(&p, cases[i].uid, "app", &m),
			  cases[i].ret);
		CHECK_STR(cases[i].dir, m.pod_namespace, cases[i].ns);
		CHECK_STR(cases[i].dir, m.pod_name, cases[i].pod);
		CHECK_INT(cases[i].dir, m.restart_count, cases[i].ret == 0 ? 13 : -1);
	}
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Creates <dir>/<name> empty (an empty log's mtime is its creation, where there is no birth
 * time), then waits 20 ms: a coarse file clock still orders the files and the times taken. */
static uint64_t make_log(const char *dir, const char *name)
{
	uint64_t t;

	tmp_write(dir, name, "");
	t = wall_ns();
	usleep(20000);
	return t;
}

/*
 * A failed start's container, by the newest log file made in a span: the pod's containers
 * started one at a time, each attempt's file made as its start began.
 */
static void test_meta_read_pod_log_started(void **state)
{
	struct ew_t_scratch *t = *state;
	struct ew_meta_paths p = hostroot_paths(t->dir);
	char app[PATH_MAX], side[PATH_MAX];
	struct ew_meta m;
	uint64_t t0, t1, t2, t3, t4;

	tmp_mkdirs(t, "var/log/pods/shop_api-7d9f8b6c4d-l2m4n_" HR_UID_SHOP "/app", app,
		   sizeof(app));
	tmp_mkdirs(t, "var/log/pods/shop_api-7d9f8b6c4d-l2m4n_" HR_UID_SHOP "/sidecar", side,
		   sizeof(side));
	tmp_write(app, "junk.txt", "");
	t0 = wall_ns();
	usleep(20000); /* a file's coarse clock may lag t0 */
	t1 = make_log(side, "0.log");
	t2 = make_log(app, "0.log");
	t3 = make_log(app, "1.log");
	t4 = make_log(side, "1.log");

	m = (struct ew_meta){.restart_count = -1};
	assert_int_equal(ew_meta_read_pod_log_started(&p, HR_UID_SHOP, t0, t3, &m), 0);
	assert_string_equal(m.name, "app");
	assert_int_equal(m.restart_count, 1);
	assert_string_equal(m.pod_namespace, "shop");
	assert_string_equal(m.pod_name, "api-7d9f8b6c4d-l2m4n");
	m = (struct ew_meta){.restart_count = -1};
	assert_int_equal(ew_meta_read_pod_log_started(&p, HR_UID_SHOP, t0, t2, &m), 0);
	assert_string_equal(m.name, "app");
	assert_int_equal(m.restart_count, 0);
	m = (struct ew_meta){.restart_count = -1};
	assert_int_equal(ew_meta_read_pod_log_started(&p, HR_UID_SHOP, t0, t1, &m), 0);
	assert_string_equal(m.name, "sidecar");
	assert_int_equal(m.restart_count, 0);
	/* The sidecar's next attempt, made after the span's end, is not taken for it. */
	m = (struct ew_meta){.restart_count = -1};
	assert_int_equal(ew_meta_read_pod_log_started(&p, HR_UID_SHOP, t2, t4, &m), 0);
	assert_string_equal(m.name, "sidecar");
	assert_int_equal(m.restart_count, 1);
	/* Nothing made in the span, another pod, no pods' directory: no name. */
	m = (struct ew_meta){.restart_count = -1};
	assert_int_equal(
		ew_meta_read_pod_log_started(&p, HR_UID_SHOP, t4 + 1, t4 + 1000000000ULL, &m),
		-ENOENT);
	assert_string_equal(m.name, "");
	assert_int_equal(ew_meta_read_pod_log_started(&p, HR_UID_OLD, t0, t4, &m), -ENOENT);
	p.pods_log_root = "/no/such/dir";
	assert_int_equal(ew_meta_read_pod_log_started(&p, HR_UID_SHOP, t0, t4, &m), -ENOENT);
}

static void test_meta_read_pod_logs_no_root(void **state)
{
	struct ew_t_scratch *t = *state;
	struct ew_meta_paths p = hostroot_paths(t->dir);
	struct ew_meta m = {.restart_count = -1};

	assert_int_equal(ew_meta_read_pod_logs(&p, HR_UID_SHOP, "backend", &m), -ENOENT);
	assert_string_equal(m.pod_name, "");
	assert_int_equal(m.restart_count, -1);
}

static void test_meta_paths_default(void **state)
{
	struct ew_meta_paths p = {.docker_root = "/data/docker"};

	ew_meta_paths_default(&p);
	assert_string_equal(p.host_root, "");
	assert_string_equal(p.docker_root, "/data/docker");
	assert_string_equal(p.containerd_root, "/run/containerd/io.containerd.runtime.v2.task");
	assert_string_equal(p.crio_root, "/run/containers/storage/overlay-containers");
	assert_string_equal(p.pods_log_root, "/var/log/pods");
}

/* A test whose state is a scratch directory of its own (tests/harness/unit.h). */
#define TMP(fn) cmocka_unit_test_setup_teardown(fn, ew_t_scratch_setup, ew_t_scratch_teardown)

int main(void)
{
	const struct CMUnitTest parse_tests[] = {
		cmocka_unit_test(test_meta_parse_fixtures),
		cmocka_unit_test(test_meta_parse_bytes),
		cmocka_unit_test(test_meta_parse_deep_nesting),
		cmocka_unit_test(test_meta_parse_too_long),
		cmocka_unit_test(test_meta_parse_truncates),
		cmocka_unit_test(test_meta_parse_prefixes_and_flips),
		cmocka_unit_test(test_meta_paths_default),
	};
	const struct CMUnitTest read_tests[] = {
		cmocka_unit_test(test_meta_read_hostroot),
		cmocka_unit_test(test_meta_read_enoent_message),
		cmocka_unit_test(test_meta_read_pod_logs),
		TMP(test_meta_read_oversized),
		TMP(test_meta_read_fifo),
		TMP(test_meta_read_fifo_hostconfig),
		TMP(test_meta_read_symlink_and_dir),
		TMP(test_meta_read_malformed),
		TMP(test_meta_read_containerd_malformed),
		TMP(test_meta_read_containerd_scan),
		TMP(test_meta_read_pod_logs_names),
		TMP(test_meta_read_pod_logs_no_root),
		TMP(test_meta_read_pod_log_started),
	};
	int r;

	r = cmocka_run_group_tests_name("runtime_meta parsers", parse_tests, NULL, NULL);
	r += cmocka_run_group_tests_name("runtime_meta files", read_tests, NULL, NULL);
	return r;
}
