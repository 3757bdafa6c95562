// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Identity keys (design.md's table) and pod owners (src/identity/identity.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exitwatch/identity/identity.h"
#include "exitwatch/util/util.h"

#define ID64	"2a71048cd69e70536efc682e85e6aa728e80acfade54b46648cd30124a2b46e9"
#define OTHER64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define POD_UID "1d5b9e3f-7a2c-4f6e-8b0d-2c4e6a8f0b1d"

static void test_pod_owner(void **state)
{
	static const struct {
		const char *pod, *owner;
	} cases[] = {
		{"api-7d9f8b6c4d-x2x7k", "api"},		    /* Deployment */
		{"checkout-6d5f7c9b8-q4w2x", "checkout"},	    /* Deployment, 9-char hash */
		{"node-exporter-5f7d8c9b6-m2n4p", "node-exporter"}, /* Deployment */
		{"web-0", "web"},				    /* StatefulSet */
		{"kafka-12", "kafka"},				    /* StatefulSet */
		{"node-agent-x2x7k", "node-agent"},		    /* DaemonSet */
		/* DaemonSets whose name ends in a 6-10 letter word: not a template hash */
		{"node-exporter-7xk2p", "node-exporter"},
		{"log-collector-9zq4w", "log-collector"},
		{"log-shipper-5kz8t", "log-shipper"},
		{"migrate-x7k2p", "migrate"},		  /* Job */
		{"backup-28234560-x7k2p", "backup"},	  /* CronJob: its Job's scheduled minute */
		{"standalone", "standalone"},		  /* a bare pod */
		{"my-app", "my-app"},			  /* nothing to strip */
		{"etcd-node1", "etcd-node1"},		  /* static pod: named after its node */
		{"migrate-abcde", "migrate-abcde"},	  /* a, e: no generated name has them */
		{"my-app-abcdef-x7k2p", "my-app-abcdef"}, /* nor a template hash */
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

/*
 * names.SimpleNameGenerator cuts generateName to 58 characters before it adds the five random
 * ones (a name has at most 63): a ReplicaSet name ("<deployment>-<hash>") of 58 or more (a
 * Deployment name of 47 or more) loses the dash before them and part of the hash, a DaemonSet's
 * or Job's name of 58 or more its end. An Indexed Job's pods are <job>-<index>-<5>.
 */
static void test_pod_owner_generated_cut(void **state)
{
	static const struct {
		const char *pod, *owner;
	} cases[] = {
		/* Deployment "payments-reconciliation-service-gateway-europe-w1" (49): 8 of the hash */
		{"payments-reconciliation-service-gateway-europe-w1-7d9f8b6cx7k2p",
		 "payments-reconciliation-service-gateway-europe-w1"},
		{"payments-reconciliation-service-gateway-europe-w1-7d9f8b6cq4w2x",
		 "payments-reconciliation-service-gateway-europe-w1"},
		/* Deployments of 47 (all of the hash, no dash after it) and 56 (1 of the hash) */
		{"inventory-reservation-api-canary-europe-west1-b-7d9f8b6c4dx7k2p",
		 "inventory-reservation-api-canary-europe-west1-b"},
		{"inventory-reservation-api-canary-europe-west1-b-shard-07-7x7k2p",
		 "inventory-reservation-api-canary-europe-west1-b-shard-07"},
		/* 63 but not cut: a Deployment of 57 (none of the hash), of 46 (nothing lost) */
		{"inventory-reservation-api-canary-europe-west1-b-shard-one-x7k2p",
		 "inventory-reservation-api-canary-europe-west1-b-shard-one"},
		{"inventory-reservation-api-canary-europe-west-c-7d9f8b6c4d-x7k2p",
		 "inventory-reservation-api-canary-europe-west-c"},
		/* DaemonSets of 63 and 62: the owner is what the pod name keeps of them */
		{"prometheus-node-exporter-for-the-europe-west1-b-gpu-nodepox7k2p",
		 "prometheus-node-exporter-for-the-europe-west1-b-gpu-nodepo"},
		{"prometheus-node-exporter-for-the-europe-west1-b-gpu-nodes-x7k2p",
		 "prometheus-node-exporter-for-the-europe-west1-b-gpu-nodes"},
		/* CronJob of 52 (the most it may have), its Job's minute 28234560 cut to 28234 */
		{"nightly-ledger-reconciliation-report-europe-west1-ab-28234x7k2p",
		 "nightly-ledger-reconciliation-report-europe-west1-ab"},
		/* Indexed Job of 55, index 12 */
		{"render-frames-for-the-quarterly-marketing-videos-europe-12x7k2p",
		 "render-frames-for-the-quarterly-marketing-videos-europe"},
		/* StatefulSets: 63 with an ordinal, no random part */
		{"ledger-replicas-for-the-quarterly-reporting-europe-west1-245678",
		 "ledger-replicas-for-the-quarterly-reporting-europe-west1"},
		{"ledger-replicas-for-the-quarterly-reporting-europe-west1a-24567",
		 "ledger-replicas-for-the-quarterly-reporting-europe-west1a"},
		/* a bare pod of 63 that does not end in five generated characters */
		{"debug-shell-for-the-inventory-reservation-api-europe-west1-anna",
		 "debug-shell-for-the-inventory-reservation-api-europe-west1-anna"},
		/* 62: nothing was cut, so five generated characters with no dash are a name's */
		{"inventory-reservation-api-canary-europe-west1-b-shard-onex7k2p",
		 "inventory-reservation-api-canary-europe-west1-b-shard-onex7k2p"},
		/* Indexed Job "render": any index */
		{"render-0-x7k2p", "render"},
		{"render-1-q4w2x", "render"},
		{"render-12345-q4w2x", "render"},
		/* an index or a minute has no leading zero: "007" is a name's */
		{"gpu-feeder-007-x7k2p", "gpu-feeder-007"},
	};
	char out[256];
	int bad = 0;

	(void)state;
	/* every mismatch printed, not only the first */
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		ew_pod_owner(cases[i].pod, out, sizeof(out));
		if (strcmp(out, cases[i].owner)) {
			print_error("owner(%s) = %s, want %s\n", cases[i].pod, out, cases[i].owner);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
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
	/* No names yet: the pod, never the container id (a restart is a new id). */
	assert_string_equal(id->key, "k8s:" POD_UID);
	assert_string_equal(id->workload, "k8s:" POD_UID);
	strcpy(id->meta.pod_name, "checkout-6d5f7c9b8-q4w2x");
	strcpy(id->meta.pod_namespace, "shop");
	ew_identity_finish(id);
	assert_string_equal(id->key, "k8s:" POD_UID);
	assert_string_equal(id->workload, "k8s:shop/checkout");
	strcpy(id->meta.name, "backend");
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

/* The pod uid and container back from a Kubernetes identity key; any other key is not one. */
static void test_key_pod(void **state)
{
	static const char *const not_pods[] = {
		"docker:2a71048cd69e",
		"k8s:",
		"k8s:/backend",
		"k8s:shop/checkout/backend",
		"k8s:5c1f2e0a-7b3d-4c8e-9f1a-2b3c4d5e6f70/",
		"k8s:5c1f2e0a/a/b",
		"k8s:5c1f2e0a-7b3d-4c8e-9f1a-2b3c4d5e6f70-5c1f2e0a/backend", /* uid too long */
		"K8S:5c1f2e0a/backend",
	};
	char uid[EW_UID_LEN], container[EW_NAME_LEN], key[EW_NAME_LEN + 64];

	(void)state;
	assert_true(ew_identity_key_pod("k8s:5c1f2e0a-7b3d-4c8e-9f1a-2b3c4d5e6f70/backend", uid,
					container));
	assert_string_equal(uid, "5c1f2e0a-7b3d-4c8e-9f1a-2b3c4d5e6f70");
	assert_string_equal(container, "backend");
	assert_true(
		ew_identity_key_pod("k8s:5c1f2e0a-7b3d-4c8e-9f1a-2b3c4d5e6f70", uid, container));
	assert_string_equal(uid, "5c1f2e0a-7b3d-4c8e-9f1a-2b3c4d5e6f70");
	assert_string_equal(container, "");
	for (size_t i = 0; i < sizeof(not_pods) / sizeof(not_pods[0]); i++)
		if (ew_identity_key_pod(not_pods[i], uid, container))
			fail_msg("\"%s\" taken for a pod's key", not_pods[i]);
	/* A container name as long as a name may be, and one byte longer. */
	snprintf(key, sizeof(key), "k8s:5c1f2e0a/%0*d", EW_NAME_LEN - 1, 0);
	assert_true(ew_identity_key_pod(key, uid, container));
	assert_int_equal(strlen(container), EW_NAME_LEN - 1);
	snprintf(key, sizeof(key), "k8s:5c1f2e0a/%0*d", EW_NAME_LEN, 0);
	assert_false(ew_identity_key_pod(key, uid, container));
}

/*
 * `docker rm` and a new `docker run --name api` (a systemd unit's `ExecStart=docker run --rm
 * --name api`, a script's loop): the same named container, re-created with a new id after each
 * failure. Its exits must meet in one workload, or no workload rule ever sees the loop.
 */
static void test_docker_recreated_same_name(void **state)
{
	static const char id2[] =
		"9b3e1f0c2d4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c";
	struct ew_identity *a = ident(EW_RT_DOCKER, "/docker/" ID64);
	struct ew_identity *b = ident(EW_RT_DOCKER, "/docker/9b3e1f0c2d4a5b6c7d8e9f0a1b2c3d4e"
						    "5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c");

	(void)state;
	strcpy(a->cg.container_id, ID64);
	strcpy(b->cg.container_id, id2);
	strcpy(a->meta.name, "api");
	strcpy(b->meta.name, "api");
	ew_identity_finish(a);
	ew_identity_finish(b);
	assert_string_equal(a->workload, "docker-name:api");
	assert_string_equal(b->workload, "docker-name:api");
	/* Two containers, as before: their identities (restart counts, crash_loop) stay apart. */
	assert_string_equal(a->key, "docker:" ID64);
	assert_string_equal(
		b->key, "docker:9b3e1f0c2d4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c");
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pod_owner),
		cmocka_unit_test(test_pod_owner_generated_cut),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_key_pod),
		cmocka_unit_test(test_docker_recreated_same_name),
	};

	return cmocka_run_group_tests_name("identity", tests, NULL, NULL);
}
