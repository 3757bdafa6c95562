// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* ew_cgroup_parse(): every runtime layout, each next to the near misses that must not match. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "exitwatch/identity/identity.h"
#include "exitwatch/util/util.h"

#define ID	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID_OUT	"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define ID63	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"
#define ID65	ID "0"
#define ID_UC	"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID_NHX	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg"
#define UID	"1b4e28ba-2fa1-11d2-883f-0016d3cca427"
#define UID_SD	"1b4e28ba_2fa1_11d2_883f_0016d3cca427" /* systemd's escaping of '-' */
#define UID_UC	"1B4E28BA_2FA1_11D2_883F_0016D3CCA427"
#define UID_BAD "1b4e28ba_2fa1_11d2_883f_0016d3cca42" /* 35 chars */
/* A static (manifest) pod's uid: the md5 of its manifest, 32 hex digits, nothing to escape. */
#define SUID	"d41d8cd98f00b204e9800998ecf8427e"
#define SUID_UC "D41D8CD98F00B204E9800998ECF8427E"
#define SUID31	"d41d8cd98f00b204e9800998ecf8427"
#define SUID33	SUID "0"
#define SUID_NX "d41d8cd98f00b204e9800998ecf8427g"

#define KP_BU  "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
#define KP_BE  "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
#define KIND   "/system.slice/docker-" ID_OUT ".scope/kubelet.slice/kubelet-kubepods.slice"
#define KIND_T ".../docker-" ID_OUT ".scope/kubelet.slice/kubelet-kubepods.slice"
#define KIND_P "/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod"
#define UMGR   "/user.slice/user-1000.slice/user@1000.service"

enum {
	NO = 0,
	K8S = 1
};

static const struct cg_case {
	const char *path;
	int ret;
	enum ew_runtime rt;
	const char *id; /* also uid, qos, unit: NULL means "" */
	int kube;
	const char *uid;
	const char *qos;
	const char *unit;
} cases[] = {
	/* Docker: cgroupfs driver, nested cgroupfs, systemd driver, rootless */
	{"/docker/" ID, 0, EW_RT_DOCKER, ID, NO, NULL, NULL, NULL},
	{"/system.slice/containerd.service/docker/" ID, 0, EW_RT_DOCKER, ID, NO, NULL, NULL, NULL},
	{"/docker/" ID "/app", 0, EW_RT_DOCKER, ID, NO, NULL, NULL, NULL},
	{"/docker/" ID_OUT "/docker/" ID, 0, EW_RT_DOCKER, ID, NO, NULL, NULL, NULL},
	{"/system.slice/docker-" ID ".scope", 0, EW_RT_DOCKER, ID, NO, NULL, NULL, NULL},
	{UMGR "/docker-" ID ".scope", 0, EW_RT_DOCKER, ID, NO, NULL, NULL, NULL},
	{"/docker/" ID63, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/docker/" ID65, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/docker/" ID_UC, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/docker/" ID_NHX, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/dockerd/" ID, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/" ID, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/system.slice/docker-" ID ".slice", 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/system.slice/docker-" ID, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/system.slice/docker-" ID63 ".scope", 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/system.slice/docker-" ID_UC ".scope", 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	/* a valid unit name that merely looks like a container: the service it says it is */
	{"/system.slice/docker-" ID ".service", 0, EW_RT_SYSTEMD, NULL, NO, NULL, NULL,
	 "docker-" ID ".service"},

	/* Kubernetes + containerd, systemd driver: each QoS class */
	{KP_BU UID_SD ".slice/cri-containerd-" ID ".scope", 0, EW_RT_CONTAINERD, ID, K8S, UID,
	 "burstable", NULL},
	{KP_BE UID_SD ".slice/cri-containerd-" ID ".scope", 0, EW_RT_CONTAINERD, ID, K8S, UID,
	 "besteffort", NULL},
	{"/kubepods.slice/kubepods-pod" UID_SD ".slice/cri-containerd-" ID ".scope", 0,
	 EW_RT_CONTAINERD, ID, K8S, UID, "guaranteed", NULL},
	{KP_BU UID_UC ".slice/cri-containerd-" ID ".scope", 0, EW_RT_CONTAINERD, ID, K8S, UID,
	 "burstable", NULL},
	/* the pod slice names its own ancestry: a cut-off root does not matter */
	{".../kubepods-burstable-pod" UID_SD ".slice/cri-containerd-" ID ".scope", 0,
	 EW_RT_CONTAINERD, ID, K8S, UID, "burstable", NULL},
	/* kind/GKE: kubepods under the node container; the innermost container wins */
	{KIND KIND_P UID_SD ".slice/cri-containerd-" ID ".scope", 0, EW_RT_CONTAINERD, ID, K8S, UID,
	 "besteffort", NULL},
	{KIND_T KIND_P UID_SD ".slice/cri-containerd-" ID ".scope", 0, EW_RT_CONTAINERD, ID, K8S,
	 UID, "besteffort", NULL},
	/* bad or missing pod uid: still a containerd container, the pod part is ignored */
	{KP_BU ".slice/cri-containerd-" ID ".scope", 0, EW_RT_CONTAINERD, ID, NO, NULL, NULL, NULL},
	{KP_BU UID_BAD ".slice/cri-containerd-" ID ".scope", 0, EW_RT_CONTAINERD, ID, NO, NULL,
	 NULL, NULL},
	{KP_BU UID ".slice/cri-containerd-" ID ".scope", 0, EW_RT_CONTAINERD, ID, NO, NULL, NULL,
	 NULL},
	{"/kubepods.slice/kubepods-burstable.slice/cri-containerd-" ID ".scope", 0,
	 EW_RT_CONTAINERD, ID, NO, NULL, NULL, NULL},
	{"/system.slice/cri-containerd-" ID ".scope", 0, EW_RT_CONTAINERD, ID, NO, NULL, NULL,
	 NULL},
	{KP_BU UID_SD ".slice/cri-containerd-" ID63 ".scope", 0, EW_RT_CGROUP, NULL, NO, NULL, NULL,
	 NULL},
	{KP_BU UID_SD ".slice", 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	/* static pods (kubeadm's etcd, kube-apiserver): 32 hex digits, lower-cased like a uid */
	{KP_BU SUID ".slice/cri-containerd-" ID ".scope", 0, EW_RT_CONTAINERD, ID, K8S, SUID,
	 "burstable", NULL},
	{"/kubepods.slice/kubepods-pod" SUID ".slice/cri-containerd-" ID ".scope", 0,
	 EW_RT_CONTAINERD, ID, K8S, SUID, "guaranteed", NULL},
	{KP_BU SUID_UC ".slice/cri-containerd-" ID ".scope", 0, EW_RT_CONTAINERD, ID, K8S, SUID,
	 "burstable", NULL},
	{KP_BU SUID31 ".slice/cri-containerd-" ID ".scope", 0, EW_RT_CONTAINERD, ID, NO, NULL, NULL,
	 NULL},
	{KP_BU SUID33 ".slice/cri-containerd-" ID ".scope", 0, EW_RT_CONTAINERD, ID, NO, NULL, NULL,
	 NULL},
	{KP_BU SUID_NX ".slice/cri-containerd-" ID ".scope", 0, EW_RT_CONTAINERD, ID, NO, NULL,
	 NULL, NULL},

	/* Kubernetes + containerd, cgroupfs driver */
	{"/kubepods/burstable/pod" UID "/" ID, 0, EW_RT_CONTAINERD, ID, K8S, UID, "burstable",
	 NULL},
	{"/kubepods/besteffort/pod" UID "/" ID, 0, EW_RT_CONTAINERD, ID, K8S, UID, "besteffort",
	 NULL},
	{"/kubepods/pod" UID "/" ID, 0, EW_RT_CONTAINERD, ID, K8S, UID, "guaranteed", NULL},
	{"/kubepods/burstable/pod" UID_SD "/" ID, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/kubepods/burstable/pod/" ID, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/kubepods/guaranteed/pod" UID "/" ID, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/burstable/pod" UID "/" ID, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{".../pod" UID "/" ID, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/kubepods/burstable/pod" UID "/" ID63, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	/* static pods */
	{"/kubepods/burstable/pod" SUID "/" ID, 0, EW_RT_CONTAINERD, ID, K8S, SUID, "burstable",
	 NULL},
	{"/kubepods/pod" SUID "/" ID, 0, EW_RT_CONTAINERD, ID, K8S, SUID, "guaranteed", NULL},
	{"/kubepods/besteffort/pod" SUID_UC "/" ID, 0, EW_RT_CONTAINERD, ID, K8S, SUID,
	 "besteffort", NULL},
	{"/kubepods/burstable/pod" SUID31 "/" ID, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/kubepods/burstable/pod" SUID33 "/" ID, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/kubepods/burstable/pod" SUID_NX "/" ID, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},

	/* Kubernetes + CRI-O; its conmon scope is not a container */
	{KP_BU UID_SD ".slice/crio-" ID ".scope", 0, EW_RT_CRIO, ID, K8S, UID, "burstable", NULL},
	{"/kubepods.slice/kubepods-pod" UID_SD ".slice/crio-" ID ".scope", 0, EW_RT_CRIO, ID, K8S,
	 UID, "guaranteed", NULL},
	{KP_BU UID_SD ".slice/crio-conmon-" ID ".scope", 0, EW_RT_CGROUP, NULL, NO, NULL, NULL,
	 NULL},
	{KP_BU UID_SD ".slice/crio-" ID_UC ".scope", 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	/* CRI-O's cgroupfs manager: crio-<id>, no .scope, in the pod's cgroup */
	{"/kubepods/burstable/pod" UID "/crio-" ID, 0, EW_RT_CRIO, ID, K8S, UID, "burstable", NULL},
	{"/kubepods/pod" UID "/crio-" ID, 0, EW_RT_CRIO, ID, K8S, UID, "guaranteed", NULL},
	{"/kubepods/besteffort/pod" SUID "/crio-" ID, 0, EW_RT_CRIO, ID, K8S, SUID, "besteffort",
	 NULL},
	{"/kubepods/burstable/pod" UID "/crio-conmon-" ID, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL,
	 NULL},
	{"/kubepods/burstable/pod" UID "/crio-" ID63, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/kubepods/burstable/pod" UID "/crio-" ID_UC, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/kubepods/burstable/crio-" ID, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/system.slice/crio-" ID, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/crio-" ID, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},

	/* Podman: systemd, rootless, cgroupfs; its conmon scope is not a container */
	{"/machine.slice/libpod-" ID ".scope", 0, EW_RT_PODMAN, ID, NO, NULL, NULL, NULL},
	{"/machine.slice/libpod-" ID ".scope/container", 0, EW_RT_PODMAN, ID, NO, NULL, NULL, NULL},
	{UMGR "/user.slice/libpod-" ID ".scope", 0, EW_RT_PODMAN, ID, NO, NULL, NULL, NULL},
	{"/libpod_parent/libpod-" ID, 0, EW_RT_PODMAN, ID, NO, NULL, NULL, NULL},
	{"/machine.slice/libpod-conmon-" ID ".scope", 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/machine.slice/libpod-" ID, 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/libpod_parent/conmon", 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},

	/* systemd services; other scopes and slices are plain cgroups */
	{"/system.slice/nginx.service", 0, EW_RT_SYSTEMD, NULL, NO, NULL, NULL, "nginx.service"},
	{"/system.slice/system-getty.slice/getty@tty1.service", 0, EW_RT_SYSTEMD, NULL, NO, NULL,
	 NULL, "getty@tty1.service"},
	{UMGR "/app.slice/foo.service", 0, EW_RT_SYSTEMD, NULL, NO, NULL, NULL, "foo.service"},
	{UMGR, 0, EW_RT_SYSTEMD, NULL, NO, NULL, NULL, "user@1000.service"},
	{"/system.slice/nginx.service/worker", 0, EW_RT_SYSTEMD, NULL, NO, NULL, NULL,
	 "nginx.service"},
	/* a service of the systemd inside a kind node: innermost wins here too */
	{"/system.slice/docker-" ID_OUT ".scope/system.slice/containerd.service", 0, EW_RT_SYSTEMD,
	 NULL, NO, NULL, NULL, "containerd.service"},
	{UMGR "/init.scope", 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/user.slice/user-1000.slice/session-2.scope", 0, EW_RT_CGROUP, NULL, NO, NULL, NULL,
	 NULL},
	{"/init.scope", 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/system.slice", 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/system.slice/.service", 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/system.slice/ngi nx.service", 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},

	/* cgroup v1/hybrid: the name=systemd path, bare or as a /proc/<pid>/cgroup line */
	{"1:name=systemd:/docker/" ID, 0, EW_RT_DOCKER, ID, NO, NULL, NULL, NULL},
	{"1:name=systemd:/system.slice/docker-" ID ".scope", 0, EW_RT_DOCKER, ID, NO, NULL, NULL,
	 NULL},
	{"0::/system.slice/nginx.service", 0, EW_RT_SYSTEMD, NULL, NO, NULL, NULL, "nginx.service"},
	{"1:name=systemd:docker/" ID, -EINVAL, EW_RT_NONE, NULL, NO, NULL, NULL, NULL},
	{":/docker/" ID, -EINVAL, EW_RT_NONE, NULL, NO, NULL, NULL, NULL},

	/* anything else, the root, and what is not an absolute path */
	{"/mygroup/sub", 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{".../sub", 0, EW_RT_CGROUP, NULL, NO, NULL, NULL, NULL},
	{"/", -ENOENT, EW_RT_NONE, NULL, NO, NULL, NULL, NULL},
	{"//", -ENOENT, EW_RT_NONE, NULL, NO, NULL, NULL, NULL},
	{"0::/", -ENOENT, EW_RT_NONE, NULL, NO, NULL, NULL, NULL},
	{"", -EINVAL, EW_RT_NONE, NULL, NO, NULL, NULL, NULL},
	{NULL, -EINVAL, EW_RT_NONE, NULL, NO, NULL, NULL, NULL},
	{"docker/" ID, -EINVAL, EW_RT_NONE, NULL, NO, NULL, NULL, NULL},
	{"...", -EINVAL, EW_RT_NONE, NULL, NO, NULL, NULL, NULL},
	{".../", -EINVAL, EW_RT_NONE, NULL, NO, NULL, NULL, NULL},
	{"..../docker/" ID, -EINVAL, EW_RT_NONE, NULL, NO, NULL, NULL, NULL},
};

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static void test_cgroup_parse_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct cg_case *c = &cases[i];
		struct ew_cgroup_info info;
		int r;

		memset(&info, 0xa5, sizeof(info)); /* the parser must zero it itself */
		r = ew_cgroup_parse(c->path, &info);
		if (r != c->ret || info.runtime != c->rt ||
		    strcmp(info.container_id, or_empty(c->id)) || info.kubernetes != c->kube ||
		    strcmp(info.pod_uid, or_empty(c->uid)))
			print_error("case %zu: \"%s\": ret %d runtime %s id \"%s\" k8s %d uid "
				    "\"%s\"\n",
				    i, or_empty(c->path), r, ew_runtime_name(info.runtime),
				    info.container_id, info.kubernetes, info.pod_uid);
		assert_int_equal(r, c->ret);
		assert_int_equal(info.runtime, c->rt);
		assert_int_equal(info.kubernetes, c->kube);
		assert_string_equal(info.container_id, or_empty(c->id));
		assert_string_equal(info.pod_uid, or_empty(c->uid));
		assert_string_equal(info.qos, or_empty(c->qos));
		assert_string_equal(info.unit, or_empty(c->unit));
	}
}

/* On every error *ret is all zero bytes, not only its strings empty. */
static void test_cgroup_parse_error_zeroes(void **state)
{
	static const char *const bad[] = {"/", "", NULL, "docker/" ID};
	struct ew_cgroup_info info, zero;

	memset(&zero, 0, sizeof(zero));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&info, 0xa5, sizeof(info));
		assert_true(ew_cgroup_parse(bad[i], &info) < 0);
		assert_memory_equal(&info, &zero, sizeof(info));
	}
	assert_int_equal(ew_cgroup_parse("/docker/" ID, NULL), -EINVAL);
}

/* EW_CGROUP_PATH_MAX - 1 bytes is the longest path the joiner can produce. */
static void test_cgroup_parse_length(void **state)
{
	char path[EW_CGROUP_PATH_MAX + 1];
	struct ew_cgroup_info info;
	size_t n = EW_CGROUP_PATH_MAX - 1 - strlen("/docker/" ID);

	path[0] = '/';
	memset(path + 1, 'a', n - 1);
	strcpy(path + n, "/docker/" ID);
	assert_int_equal(strlen(path), EW_CGROUP_PATH_MAX - 1);
	assert_int_equal(ew_cgroup_parse(path, &info), 0);
	assert_int_equal(info.runtime, EW_RT_DOCKER);
	assert_string_equal(info.container_id, ID);

	path[0] = '/';
	memset(path + 1, 'a', n);
	strcpy(path + n + 1, "/docker/" ID);
	assert_int_equal(strlen(path), EW_CGROUP_PATH_MAX);
	assert_int_equal(ew_cgroup_parse(path, &info), -EINVAL);
	assert_int_equal(info.runtime, EW_RT_NONE);
	assert_string_equal(info.container_id, "");

	/* the most names a path can hold: "/a/a/.../a" */
	n = (EW_CGROUP_PATH_MAX - 1) & ~(size_t)1;
	for (size_t i = 0; i < n; i += 2)
		memcpy(path + i, "/a", 2);
	path[n] = '\0';
	assert_int_equal(ew_cgroup_parse(path, &info), 0);
	assert_int_equal(info.runtime, EW_RT_CGROUP);
}

static void test_runtime_name(void **state)
{
	static const struct {
		enum ew_runtime rt;
		const char *name;
	} names[] = {
		{EW_RT_DOCKER, "docker"},   {EW_RT_CONTAINERD, "containerd"},
		{EW_RT_CRIO, "cri-o"},	    {EW_RT_PODMAN, "podman"},
		{EW_RT_SYSTEMD, "systemd"}, {EW_RT_CGROUP, "cgroup"},
		{EW_RT_NONE, "none"},	    {(enum ew_runtime)99, "none"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		assert_string_equal(ew_runtime_name(names[i].rt), names[i].name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup_parse_table),
		cmocka_unit_test(test_cgroup_parse_error_zeroes),
		cmocka_unit_test(test_cgroup_parse_length),
		cmocka_unit_test(test_runtime_name),
	};

	return cmocka_run_group_tests_name("cgroup", tests, NULL, NULL);
}
