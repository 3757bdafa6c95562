// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The resolver (src/identity/resolver.c) over the host-root fixture tree (tests/fixtures/hostroot). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness/unit.h"

#include "exitwatch/identity/identity.h"
#include "exitwatch/identity/resolver.h"
#include "exitwatch/util/util.h"

#define ID64	 "2a71048cd69e70536efc682e85e6aa728e80acfade54b46648cd30124a2b46e9"
#define OTHER64	 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define FIXTURES "tests/fixtures/hostroot"
/* The pause container of the fixture tree's pod 1d5b9e3f-... (containerd, k8s.io). */
#define SANDBOX64 "5c7efaba64c0c74473dbb90d669890f738897cf5e709623a93d2f63f01fe73bb"

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

	/* A Docker-shaped cgroup without a file: names from the cgroup, no failure. Resolved
	 * over leftover bytes (resolve() clears only what is read: ew_identity_clear()), none
	 * of them shows in a string. */
	ev = start_in("/docker/" OTHER64, 11, 200);
	memset(id, 0xa5, sizeof(*id));
	assert_int_equal(ew_resolver_start(r, ev, id), 0);
	assert_int_equal(id->meta.restart_count, -1);
	assert_int_equal(id->cgroup_id, 11);
	assert_string_equal(id->cgroup, "/docker/" OTHER64);
	assert_string_equal(id->key, "docker:" OTHER64);
	assert_string_equal(id->workload, "docker:" OTHER64);
	assert_string_equal(id->cg.container_id, OTHER64);
	assert_string_equal(id->meta.name, "");
	assert_string_equal(id->meta.image, "");
	assert_string_equal(id->meta.pod_uid, "");
	assert_string_equal(id->meta.compose_project, "");
	assert_string_equal(id->meta.restart_policy, "");
	assert_string_equal(id->cg.pod_uid, "");
	assert_string_equal(id->cg.unit, "");
	free(ev);

	/* A plain cgroup never reads a file; resolved where a Docker container with all its
	 * names was, none of them is left (nothing of it clears the runtime's names but
	 * resolve()). */
	ev = start_in("/system.slice/docker-" ID64 ".scope", 13, 400);
	assert_int_equal(ew_resolver_start(r, ev, id), 0);
	assert_true(id->has_meta);
	free(ev);
	ev = start_in("/mygroup", 12, 300);
	assert_int_equal(ew_resolver_start(r, ev, id), 0);
	assert_int_equal(id->cg.runtime, EW_RT_CGROUP);
	assert_string_equal(id->key, "cgroup:/mygroup");
	assert_false(id->has_meta);
	assert_int_equal(id->meta.restart_count, -1);
	assert_string_equal(id->meta.name, "");
	assert_string_equal(id->meta.image, "");
	assert_string_equal(id->meta.compose_project, "");
	assert_string_equal(id->meta.compose_service, "");
	assert_string_equal(id->cg.container_id, "");
	assert_string_equal(id->display, "/mygroup");
	free(ev);
	ew_resolver_free(r);
	free(id);
}

/* kubeadm's etcd: a static pod, whose uid is the md5 of its manifest (32 hex, no dashes). */
#define SUID	  "d41d8cd98f00b204e9800998ecf8427e"
#define ETCD_POD  "etcd-node1"
#define ETCD_LOGS "var/log/pods/kube-system_" ETCD_POD "_" SUID "/etcd/"

/*
 * A static pod's containers are Kubernetes containers like any other: keyed by the pod's uid
 * and the container's name, so that the restarts of one are one identity, in both drivers'
 * layouts; its pod's names and restart count come from the kubelet's log directory, which the
 * uid names.
 */
static void test_static_pod(void **state)
{
	struct ew_t_scratch *t = *state;
	struct ew_resolver_opts o = {.paths = {.host_root = t->dir}, .read_meta = true};
	struct ew_identity *id = malloc(sizeof(*id));
	struct ew_resolver *r;
	struct ew_event *ev;

	ew_t_scratch_put(t,
			 "run/containerd/io.containerd.runtime.v2.task/k8s.io/" ID64 "/config.json",
			 "{\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
			 "\"io.kubernetes.cri.container-name\":\"etcd\","
			 "\"io.kubernetes.cri.sandbox-name\":\"" ETCD_POD "\","
			 "\"io.kubernetes.cri.sandbox-namespace\":\"kube-system\","
			 "\"io.kubernetes.cri.image-name\":\"registry.k8s.io/etcd:3.5.9-0\"}}");
	ew_t_scratch_put(t, ETCD_LOGS "3.log", "");
	r = ew_resolver_new(&o);
	assert_non_null(r);

	/* The systemd driver, its bundle read. */
	ev = start_in("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" SUID
		      ".slice/cri-containerd-" ID64 ".scope",
		      20, 500);
	assert_int_equal(ew_resolver_start(r, ev, id), 0);
	assert_true(id->cg.kubernetes);
	assert_string_equal(id->cg.pod_uid, SUID);
	assert_string_equal(id->key, "k8s:" SUID "/etcd");
	assert_string_equal(id->meta.pod_namespace, "kube-system");
	assert_string_equal(id->meta.pod_name, ETCD_POD);
	assert_string_equal(id->meta.pod_uid, SUID);
	assert_int_equal(id->meta.restart_count, 3);
	free(ev);

	/* The cgroupfs driver, the next attempt gone before its bundle was read: its pod's. */
	ev = start_in("/kubepods/burstable/pod" SUID "/" OTHER64, 21, 501);
	assert_int_equal(ew_resolver_start(r, ev, id), 0);
	assert_true(id->cg.kubernetes);
	assert_string_equal(id->cg.pod_uid, SUID);
	assert_string_equal(id->key, "k8s:" SUID);
	assert_string_equal(id->meta.pod_namespace, "kube-system");
	assert_string_equal(id->meta.pod_name, ETCD_POD);
	free(ev);
	ew_resolver_free(r);
	free(id);
}

/* A pod's pause container, under kubepods: the sandbox it says it is (no record of it). */
static void test_kubernetes_sandbox(void **state)
{
	struct ew_resolver_opts o = {.paths = {.host_root = FIXTURES}, .read_meta = true};
	struct ew_resolver *r = ew_resolver_new(&o);
	struct ew_identity *id = malloc(sizeof(*id));
	struct ew_event *ev;

	assert_non_null(r);
	ev = start_in("/kubepods/burstable/pod1d5b9e3f-7a2c-4f6e-8b0d-2c4e6a8f0b1d/" SANDBOX64, 30,
		      600);
	assert_int_equal(ew_resolver_start(r, ev, id), 0);
	assert_true(id->cg.kubernetes);
	assert_true(id->meta.sandbox);
	assert_string_equal(id->meta.pod_namespace, "shop");
	assert_string_equal(id->meta.pod_name, "checkout-6d5f7c9b8-q4w2x");
	assert_string_equal(id->key, "k8s:1d5b9e3f-7a2c-4f6e-8b0d-2c4e6a8f0b1d/POD");
	free(ev);
	ew_resolver_free(r);
	free(id);
}

/*
 * `docker run --cgroup-parent /batch` (the cgroupfs driver; Compose's cgroup_parent, the
 * daemon's cgroup-parent): the container's cgroup is its bare id under a parent the user chose,
 * which no layout names. An id Docker has a container of is that container, with its names; a
 * bare id Docker does not know stays a cgroup.
 */
static void test_docker_cgroup_parent(void **state)
{
	struct ew_t_scratch *t = *state;
	struct ew_resolver_opts o = {.paths = {.host_root = t->dir}, .read_meta = true};
	struct ew_identity *id = malloc(sizeof(*id));
	struct ew_resolver *r;
	struct ew_event *ev;

	ew_t_scratch_put(t, "var/lib/docker/containers/" ID64 "/config.v2.json",
			 "{\"Name\":\"/nightly\",\"Config\":{\"Image\":\"batch:2\"}}");
	r = ew_resolver_new(&o);
	assert_non_null(r);
	ev = start_in("/batch/" ID64, 50, 800);
	assert_int_equal(ew_resolver_start(r, ev, id), 0);
	assert_int_equal(id->cg.runtime, EW_RT_DOCKER);
	assert_string_equal(id->cg.container_id, ID64);
	assert_true(id->has_meta);
	assert_string_equal(id->meta.name, "nightly");
	assert_string_equal(id->meta.image, "batch:2");
	assert_string_equal(id->key, "docker:" ID64);
	assert_string_equal(id->workload, "docker-name:nightly");
	free(ev);

	ev = start_in("/batch/" OTHER64, 51, 801);
	assert_int_equal(ew_resolver_start(r, ev, id), 0);
	assert_int_equal(id->cg.runtime, EW_RT_CGROUP);
	assert_string_equal(id->key, "cgroup:/batch/" OTHER64);
	free(ev);
	ew_resolver_free(r);
	free(id);
}

/*
 * Outside kubepods the io.kubernetes.* labels and annotations are the workload's own (an image
 * LABEL, `docker run -l`, `podman --annotation`): they make no sandbox, whose records the agent
 * drops, and no pod. The container is what its cgroup says, with its own names.
 */
static void test_labels_outside_kubernetes(void **state)
{
	struct ew_t_scratch *t = *state;
	struct ew_resolver_opts o = {.paths = {.host_root = t->dir}, .read_meta = true};
	struct ew_identity *id = malloc(sizeof(*id));
	struct ew_resolver *r;
	struct ew_event *ev;

	ew_t_scratch_put(t, "var/lib/docker/containers/" ID64 "/config.v2.json",
			 "{\"Name\":\"/web\",\"Config\":{\"Image\":\"web:1\",\"Labels\":{"
			 "\"io.kubernetes.docker.type\":\"podsandbox\","
			 "\"io.kubernetes.pod.namespace\":\"kube-system\","
			 "\"io.kubernetes.pod.name\":\"kube-apiserver-node1\","
			 "\"io.kubernetes.pod.uid\":\"1d5b9e3f-7a2c-4f6e-8b0d-2c4e6a8f0b1d\"}}}");
	ew_t_scratch_put(
		t, "var/lib/containers/storage/overlay-containers/" OTHER64 "/userdata/config.json",
		"{\"ociVersion\":\"1.0.2\",\"annotations\":{"
		"\"io.kubernetes.cri-o.ContainerType\":\"sandbox\","
		"\"io.kubernetes.cri.sandbox-name\":\"etcd-node1\","
		"\"io.kubernetes.cri.sandbox-namespace\":\"kube-system\"}}");
	r = ew_resolver_new(&o);
	assert_non_null(r);

	ev = start_in("/system.slice/docker-" ID64 ".scope", 40, 700);
	assert_int_equal(ew_resolver_start(r, ev, id), 0);
	assert_true(id->has_meta);
	assert_false(id->cg.kubernetes);
	assert_false(id->meta.sandbox);
	assert_string_equal(id->meta.name, "web");
	assert_string_equal(id->meta.image, "web:1");
	assert_string_equal(id->meta.pod_namespace, "");
	assert_string_equal(id->meta.pod_name, "");
	assert_string_equal(id->meta.pod_uid, "");
	assert_string_equal(id->key, "docker:" ID64);
	assert_string_equal(id->workload, "docker-name:web"); /* its own name, no pod's */
	free(ev);

	ev = start_in("/machine.slice/libpod-" OTHER64 ".scope", 41, 701);
	assert_int_equal(ew_resolver_start(r, ev, id), 0);
	assert_true(id->has_meta);
	assert_false(id->cg.kubernetes);
	assert_false(id->meta.sandbox);
	assert_string_equal(id->meta.pod_namespace, "");
	assert_string_equal(id->meta.pod_name, "");
	assert_string_equal(id->key, "podman:" OTHER64);
	free(ev);
	ew_resolver_free(r);
	free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolver),
		cmocka_unit_test(test_kubernetes_sandbox),
		cmocka_unit_test_setup_teardown(test_docker_cgroup_parent, ew_t_scratch_setup,
						ew_t_scratch_teardown),
		cmocka_unit_test_setup_teardown(test_labels_outside_kubernetes, ew_t_scratch_setup,
						ew_t_scratch_teardown),
		cmocka_unit_test_setup_teardown(test_static_pod, ew_t_scratch_setup,
						ew_t_scratch_teardown),
	};

	return cmocka_run_group_tests_name("resolver", tests, NULL, NULL);
}
