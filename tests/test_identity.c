// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Identity keys (design.md's table), pod owners, compact subjects, and the resolver over the
 * host-root fixture tree (tests/fixtures/hostroot).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exitwatch/identity/identity.h"
#include "exitwatch/util/map.h"
#include "exitwatch/identity/resolver.h"
#include "exitwatch/util/util.h"

#define ID64	 "2a71048cd69e70536efc682e85e6aa728e80acfade54b46648cd30124a2b46e9"
#define OTHER64	 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define POD_UID	 "1d5b9e3f-7a2c-4f6e-8b0d-2c4e6a8f0b1d"
#define FIXTURES "tests/fixtures/hostroot"

static void test_pod_owner(void **state)
{
	static const struct {
		const char *pod, *owner;
	} cases[] = {
		{"api-7d9f8b6c4d-x2x7k", "api"},	  /* Deployment */
		{"checkout-6d5f7c9b8-q4w2x", "checkout"}, /* Deployment, 9-char hash */
		{"web-0", "web"},			  /* StatefulSet */
		{"kafka-12", "kafka"},			  /* StatefulSet */
		{"node-agent-x2x7k", "node-agent"},	  /* DaemonSet */
		{"migrate-abcde", "migrate"},		  /* Job */
		{"standalone", "standalone"},		  /* a bare pod */
		{"my-app", "my-app"},			  /* nothing to strip */
		{"a-B2x7k", "a-B2x7k"},			  /* upper case: not generated */
		{"-x2x7k", "-x2x7k"},
	};
	char out[64];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		ew_pod_owner(cases[i].pod, out, sizeof(out));
		assert_string_equal(out, cases[i].owner);
	}
	ew_pod_owner("api-7d9f8b6c4d-x2x7k", out, 3);
	assert_string_equal(out, "ap");
}

static struct ew_identity *ident(enum ew_runtime rt, const char *cgroup)
{
	struct ew_identity *id = calloc(1, sizeof(*id));

	id->cg.runtime = rt;
	id->meta.restart_count = -1;
	ew_strlcpy(id->cgroup, cgroup, sizeof(id->cgroup));
	return id;
}

static void test_keys(void **state)
{
	struct ew_identity *id;

	(void)state;
	/* Docker: the container id; a Compose service groups replicas. */
	id = ident(EW_RT_DOCKER, "/docker/" ID64);
	strcpy(id->cg.container_id, ID64);
	ew_identity_finish(id);
	assert_string_equal(id->key, "docker:" ID64);
	assert_string_equal(id->workload, "docker:" ID64);
	assert_string_equal(id->display, "2a71048cd69e");
	strcpy(id->meta.name, "shop-worker-2");
	strcpy(id->meta.compose_project, "shop");
	strcpy(id->meta.compose_service, "worker");
	ew_identity_finish(id);
	assert_string_equal(id->workload, "compose:shop/worker");
	assert_string_equal(id->display, "shop-worker-2");
	free(id);

	/* Kubernetes: pod uid + container name, so a new container id is the same identity. */
	id = ident(EW_RT_CONTAINERD, "/kubepods/pod" POD_UID "/" ID64);
	id->cg.kubernetes = true;
	strcpy(id->cg.container_id, ID64);
	strcpy(id->cg.pod_uid, POD_UID);
	ew_identity_finish(id);
	assert_string_equal(id->key, "k8s:" POD_UID "/" ID64); /* no names yet */
	strcpy(id->meta.name, "backend");
	strcpy(id->meta.pod_name, "checkout-6d5f7c9b8-q4w2x");
	strcpy(id->meta.pod_namespace, "shop");
	ew_identity_finish(id);
	assert_string_equal(id->key, "k8s:" POD_UID "/backend");
	assert_string_equal(id->workload, "k8s:shop/checkout/backend");
	strcpy(id->cg.container_id, OTHER64);
	ew_identity_finish(id);
	assert_string_equal(id->key, "k8s:" POD_UID "/backend");
	/* The pause sandbox has no name: POD, as the kubelet calls it. */
	id->meta.name[0] = '\0';
	id->meta.sandbox = true;
	ew_identity_finish(id);
	assert_string_equal(id->key, "k8s:" POD_UID "/POD");
	free(id);

	id = ident(EW_RT_SYSTEMD, "/system.slice/nginx.service");
	strcpy(id->cg.unit, "nginx.service");
	ew_identity_finish(id);
	assert_string_equal(id->key, "systemd:nginx.service");
	assert_string_equal(id->display, "nginx.service");
	free(id);

	id = ident(EW_RT_CGROUP, "/mygroup/sub");
	ew_identity_finish(id);
	assert_string_equal(id->key, "cgroup:/mygroup/sub");
	assert_string_equal(id->workload, id->key);
	free(id);
}

static void test_subject_round_trip(void **state)
{
	struct ew_identity *a = ident(EW_RT_CONTAINERD, "/kubepods/x"), *b = malloc(sizeof(*b));
	struct ew_subject *s;

	(void)state;
	a->cgroup_id = 4711;
	a->cg.kubernetes = true;
	a->has_meta = true;
	a->meta.sandbox = true;
	a->meta.restart_count = 9;
	strcpy(a->cg.container_id, ID64);
	strcpy(a->cg.pod_uid, POD_UID);
	strcpy(a->cg.qos, "burstable");
	strcpy(a->meta.name, "backend \"quoted\"");
	strcpy(a->meta.image, "registry.example.com/shop/backend:1.4.2");
	strcpy(a->meta.pod_name, "checkout-6d5f7c9b8-q4w2x");
	strcpy(a->meta.pod_namespace, "shop");
	strcpy(a->meta.restart_policy, "Always");
	ew_identity_finish(a);
	s = ew_subject_pack(a);
	assert_non_null(s);
	assert_string_equal(ew_subject_key(s), a->key);
	assert_string_equal(ew_subject_workload(s), a->workload);
	assert_int_equal(ew_subject_cgroup_id(s), 4711);
	ew_subject_unpack(s, b);
	assert_memory_equal(a, b, sizeof(*a)); /* both zero-filled past each string */
	ew_subject_free(s);
	ew_subject_free(NULL);
	free(a);
	free(b);
}

static struct ew_event *start_in(const char *cgroup, uint64_t cgroup_id, uint32_t pid)
{
	struct ew_event *ev = calloc(1, sizeof(*ev));

	ev->type = EW_EVENT_START;
	ev->cgroup_id = cgroup_id;
	ev->pid = pid;
	ew_strlcpy(ev->cgroup, cgroup, sizeof(ev->cgroup));
	strcpy(ev->comm, "worker");
	strcpy(ev->argv0, "/usr/bin/worker");
	return ev;
}

static void test_resolver(void **state)
{
	struct ew_resolver_opts o = {.paths = {.host_root = FIXTURES}, .read_meta = true};
	struct ew_resolver *r = ew_resolver_new(&o);
	struct ew_identity *id = malloc(sizeof(*id));
	struct ew_proc_names names;
	struct ew_event *ev;

	(void)state;
	assert_non_null(r);
	/* A Docker container with its config.v2.json in the fixture tree. */
	ev = start_in("/system.slice/docker-" ID64 ".scope", 10, 100);
	assert_int_equal(ew_resolver_start(r, ev, id), 0);
	assert_true(id->has_meta);
	assert_string_equal(id->meta.name, "shop-worker-2");
	assert_string_equal(id->meta.image, "registry.example.com/shop/worker:1.4.2");
	assert_int_equal(id->meta.restart_count, 9);
	assert_string_equal(id->key, "docker:" ID64);
	assert_string_equal(id->workload, "compose:shop/worker");
	/* Its exit finds it by cgroup id, with what the start recorded. */
	memset(id, 0, sizeof(*id));
	assert_int_equal(ew_resolver_lookup(r, 10, id, &names), 0);
	assert_string_equal(id->meta.name, "shop-worker-2");
	assert_string_equal(names.comm, "worker");
	assert_string_equal(names.argv0, "/usr/bin/worker");
	/* A re-exec of the same process keeps the identity and updates the names. */
	strcpy(ev->argv0, "/usr/bin/python3");
	ev->reexec = true;
	assert_int_equal(ew_resolver_start(r, ev, id), 0);
	assert_int_equal(ew_resolver_lookup(r, 10, id, &names), 0);
	assert_string_equal(names.argv0, "/usr/bin/python3");
	assert_int_equal(ew_resolver_count(r), 1);
	ew_resolver_forget(r, 10);
	assert_int_equal(ew_resolver_count(r), 0);
	/* Forgotten (or never seen): a stand-in named by the cgroup id. */
	assert_int_equal(ew_resolver_lookup(r, 10, id, &names), -ENOENT);
	assert_string_equal(id->key, "cgroup-id:10");
	assert_string_equal(names.argv0, "");
	free(ev);

	/* A Docker-shaped cgroup without a file: names from the cgroup, no failure. */
	ev = start_in("/docker/" OTHER64, 11, 200);
	assert_int_equal(ew_resolver_start(r, ev, id), 0);
	assert_false(id->has_meta);
	assert_string_equal(id->key, "docker:" OTHER64);
	assert_string_equal(id->meta.name, "");
	free(ev);

	/* A plain cgroup never reads a file. */
	ev = start_in("/mygroup", 12, 300);
	assert_int_equal(ew_resolver_start(r, ev, id), 0);
	assert_int_equal(id->cg.runtime, EW_RT_CGROUP);
	assert_string_equal(id->key, "cgroup:/mygroup");
	free(ev);
	ew_resolver_free(r);
	free(id);
}

/* The map the resolver and the detector keep their state in. */
static void test_map(void **state)
{
	struct ew_map *m = ew_map_new();
	int vals[5000];

	(void)state;
	assert_non_null(m);
	for (int i = 0; i < 5000; i++) {
		vals[i] = i;
		assert_int_equal(ew_map_put_u64(m, (uint64_t)i * 7919, &vals[i]), 0);
	}
	assert_int_equal(ew_map_count(m), 5000);
	for (int i = 0; i < 5000; i++)
		assert_ptr_equal(ew_map_get_u64(m, (uint64_t)i * 7919), &vals[i]);
	assert_null(ew_map_get_u64(m, 1));
	assert_int_equal(ew_map_put_u64(m, 0, &vals[1]), 0); /* replace */
	assert_ptr_equal(ew_map_get_u64(m, 0), &vals[1]);
	assert_int_equal(ew_map_count(m), 5000);
	for (int i = 0; i < 5000; i += 2)
		assert_ptr_equal(ew_map_del_u64(m, (uint64_t)i * 7919), i ? &vals[i] : &vals[1]);
	assert_int_equal(ew_map_count(m), 2500);
	assert_null(ew_map_del_u64(m, 0));
	assert_int_equal(ew_map_put(m, "key", 3, &vals[3]), 0);
	assert_ptr_equal(ew_map_get(m, "key", 3), &vals[3]);
	assert_null(ew_map_get(m, "ke", 2));
	ew_map_free(m);
	ew_map_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pod_owner),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_subject_round_trip),
		cmocka_unit_test(test_resolver),
		cmocka_unit_test(test_map),
	};

	return cmocka_run_group_tests_name("identity", tests, NULL, NULL);
}
