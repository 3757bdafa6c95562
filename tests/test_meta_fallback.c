// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Names where the runtime's own file is not enough (src/identity/runtime_meta.c, meta_pin.c,
 * pod_cache.c, resolver.c), in a scratch host root:
 *   - a Kubernetes container whose bundle containerd already deleted: the kubelet's
 *     /var/log/containers/<pod>_<ns>_<container>-<id>.log link names it (malformed link names
 *     are skipped); with no link, the resolver keys it by its pod, with the pod's names, and
 *     the image comes from an earlier container of the same name;
 *   - Podman: name and image from containers/storage's containers.json (a broken list costs
 *     only the names);
 *   - the runtime roots held open: an existing root becomes /proc/self/fd/<N>, a missing one
 *     stays a plain path, and reads go through either.
 * tests/cri/test_cri.py checks the same against a real containerd.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "exitwatch/identity/identity.h"
#include "exitwatch/identity/resolver.h"
#include "exitwatch/identity/runtime_meta.h"
#include "exitwatch/util/clock.h"
#include "exitwatch/util/util.h"
#include "harness/unit.h"
#include "identity/pod_cache_int.h"

#define ID64   "2a71048cd69e70536efc682e85e6aa728e80acfade54b46648cd30124a2b46e9"
#define OLD64  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define NEW64  "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define UID    "5c1f2e0a-7b3d-4c8e-9f1a-2b3c4d5e6f70"
#define POD    "checkout-6d5f7c9b8-q4w2x"
#define TASKS  "/run/containerd/io.containerd.runtime.v2.task/k8s.io"
#define LIBPOD "/var/lib/containers/storage/overlay-containers"
#define CRI    "var/lib/containerd/io.containerd.grpc.v1.cri/containers"

/* The kubelet's link rel, to its attempt's log, target. */
static void link_to(const struct ew_t_scratch *s, const char *rel, const char *target)
{
	char path[512];

	ew_t_scratch_put(s, "var/log/containers/.keep", "");
	ew_t_scratch_path(s, rel, path, sizeof(path));
	assert_int_equal(symlink(target, path), 0);
}

static void link_at(const struct ew_t_scratch *s, const char *rel)
{
	link_to(s, rel, "/var/log/pods/x/0.log");
}

static struct ew_meta_paths paths_in(const struct ew_t_scratch *s)
{
	struct ew_meta_paths p = {.host_root = s->dir};

	ew_meta_paths_default(&p);
	return p;
}

static void test_k8s_link(void **state)
{
	const struct ew_t_scratch *s = *state;
	struct ew_meta_paths p = paths_in(s);
	struct ew_meta m;

	assert_int_equal(ew_meta_read_k8s_link(&p, ID64, &m), -ENOENT); /* no directory */
	/* Not ours, and malformed: one '_', three '_', an empty part, a bad container name. */
	link_at(s, "var/log/containers/" POD "_shop_backend-" OLD64 ".log");
	link_at(s, "var/log/containers/" POD "_backend-" ID64 ".log");
	link_at(s, "var/log/containers/a_b_c_d-" ID64 ".log");
	link_at(s, "var/log/containers/_shop_backend-" ID64 ".log");
	link_at(s, "var/log/containers/" POD "_shop_.hidden-" ID64 ".log");
	assert_int_equal(ew_meta_read_k8s_link(&p, ID64, &m), -ENOENT);
	link_at(s, "var/log/containers/" POD "_shop_backend-" ID64 ".log");
	assert_int_equal(ew_meta_read_k8s_link(&p, ID64, &m), 0);
	assert_string_equal(m.name, "backend");
	assert_string_equal(m.pod_name, POD);
	assert_string_equal(m.pod_namespace, "shop");
	assert_int_equal(ew_meta_read_k8s_link(&p, "../../etc/passwd", &m), -EINVAL);
}

/*
 * containerd's bundle gone: ew_meta_read() says 1 and names it from the link (its target's
 * name, the restart count) and the pod's logs.
 */
static void test_read_gone(void **state)
{
	const struct ew_t_scratch *s = *state;
	struct ew_meta_paths p = paths_in(s);
	struct ew_cgroup_info cg = {.runtime = EW_RT_CONTAINERD, .kubernetes = true};
	char err[256];
	struct ew_meta m;

	strcpy(cg.container_id, ID64);
	strcpy(cg.pod_uid, UID);
	ew_t_scratch_put(s, TASKS "/.keep", "");
	assert_int_equal(ew_meta_read(&p, &cg, &m, err, sizeof(err)), -ENOENT);
	ew_t_scratch_put(s, "var/log/pods/shop_" POD "_" UID "/backend/6.log", "");
	link_to(s, "var/log/containers/" POD "_shop_backend-" ID64 ".log",
		"/var/log/pods/shop_" POD "_" UID "/backend/6.log");
	assert_int_equal(ew_meta_read(&p, &cg, &m, err, sizeof(err)), 1);
	assert_string_equal(m.name, "backend");
	assert_string_equal(m.pod_name, POD);
	assert_string_equal(m.pod_uid, UID);
	assert_int_equal(m.restart_count, 6);
	assert_string_equal(m.image, ""); /* only a file had it */
	assert_string_equal(err, "");
	/* Read late, with the next attempt begun: the link's target is still this one's. */
	ew_t_scratch_put(s, "var/log/pods/shop_" POD "_" UID "/backend/7.log", "");
	assert_int_equal(ew_meta_read(&p, &cg, &m, err, sizeof(err)), 1);
	assert_int_equal(m.restart_count, 6);
	/* A link whose target names no attempt: the pod's newest log. */
	strcpy(cg.container_id, NEW64);
	link_to(s, "var/log/containers/" POD "_shop_backend-" NEW64 ".log",
		"/var/log/pods/elsewhere/current");
	assert_int_equal(ew_meta_read(&p, &cg, &m, err, sizeof(err)), 1);
	assert_int_equal(m.restart_count, 7);
}

static struct ew_event *start_of(const char *id, uint64_t cgroup_id)
{
	struct ew_event *ev = calloc(1, sizeof(*ev));

	ev->type = EW_EVENT_START;
	ev->cgroup_id = cgroup_id;
	ev->pid = (uint32_t)cgroup_id;
	snprintf(ev->cgroup, sizeof(ev->cgroup), "/kubepods/burstable/pod%s/%s", UID, id);
	return ev;
}

/* A start of container cid in cgroup cgroup_id, resolved into *id. */
static void start(struct ew_resolver *r, const char *cid, uint64_t cgroup_id,
		  struct ew_identity *id)
{
	struct ew_event *ev = start_of(cid, cgroup_id);

	assert_int_equal(ew_resolver_start(r, ev, id), 0);
	free(ev);
}

/*
 * The same, with the kernel's times: the init's start boot_ns on the boot clock and the exec at
 * wall_ns; seeded: found running at start-up.
 */
static void start_timed(struct ew_resolver *r, const char *cid, uint64_t cgroup_id,
			uint64_t boot_ns, uint64_t wall_ns, bool seeded, struct ew_identity *id)
{
	struct ew_event *ev = start_of(cid, cgroup_id);

	ev->start_boot_ns = boot_ns;
	ev->time_ns = wall_ns;
	ev->seeded = seeded;
	assert_int_equal(ew_resolver_start(r, ev, id), 0);
	free(ev);
}

/* containerd's bundle of the pod's "backend" container (OLD64), as CRI writes it. */
static void backend_bundle(const struct ew_t_scratch *s)
{
	ew_t_scratch_put(
		s, TASKS "/" OLD64 "/config.json",
		"{\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
		"\"io.kubernetes.cri.container-name\":\"backend\","
		"\"io.kubernetes.cri.sandbox-name\":\"" POD "\","
		"\"io.kubernetes.cri.sandbox-namespace\":\"shop\","
		"\"io.kubernetes.cri.image-name\":\"registry.example.com/shop/backend:1.4.2\"}}");
}

/*
 * The resolver: a read container teaches the pod cache its image; a later one gone and linked
 * gets it; one gone and unlinked is keyed by its pod, with the pod's names.
 */
static void test_resolver_gone(void **state)
{
	const struct ew_t_scratch *s = *state;
	struct ew_resolver_opts o = {.paths = paths_in(s), .read_meta = true};
	struct ew_resolver *r = ew_resolver_new(&o);
	struct ew_identity *id = malloc(sizeof(*id));

	backend_bundle(s);
	ew_t_scratch_put(s, "var/log/pods/shop_" POD "_" UID "/backend/0.log", "");
	start(r, OLD64, 1, id);
	assert_string_equal(id->key, "k8s:" UID "/backend");

	link_at(s, "var/log/containers/" POD "_shop_backend-" ID64 ".log");
	start(r, ID64, 2, id);
	assert_string_equal(id->key, "k8s:" UID "/backend");
	assert_string_equal(id->workload, "k8s:shop/checkout/backend");
	assert_string_equal(id->meta.image, "registry.example.com/shop/backend:1.4.2");

	start(r, NEW64, 3, id);
	assert_string_equal(id->key, "k8s:" UID);
	assert_string_equal(id->workload, "k8s:shop/checkout");
	assert_string_equal(id->meta.pod_name, POD);
	assert_string_equal(id->meta.name, "");
	free(id);
	ew_resolver_free(r);
}

/*
 * A container that ran for a millisecond, read after CRI deleted its bundle and before the
 * kubelet linked it (a busy kubelet; containerd 2.1 deletes it soonest): its log file, born just
 * before its init started, names it, restart count and all. Not a log born after its init (the
 * pod's next container's: born a file-system tick later, since a birth time is the last
 * tick's), nor one from before the slack; a main found running at start-up, or one CRI has
 * removed (its log with it), stays keyed by its pod.
 */
static void test_resolver_gone_log(void **state)
{
	const struct ew_t_scratch *s = *state;
	struct ew_resolver_opts o = {.paths = paths_in(s), .read_meta = true};
	struct ew_resolver *r = ew_resolver_new(&o);
	struct ew_identity *id = malloc(sizeof(*id));
	const uint64_t ms = 1000000ULL;
	uint64_t boot, wall;

	ew_t_scratch_put(s, "var/log/pods/shop_" POD "_" UID "/backend/0.log", "");
	ew_t_scratch_put(s, "var/log/pods/shop_" POD "_" UID "/backend/1.log", "");
	/* CRI has them all but ID64 (removed, log and all). */
	ew_t_scratch_put(s, CRI "/" NEW64 "/status", "{}");
	ew_t_scratch_put(s, CRI "/" OLD64 "/status", "{}");
	usleep(2000);
	boot = ew_clock_boot_ns();
	wall = ew_clock_wall_ns();
	start_timed(r, NEW64, 4, boot, wall + ms, false, id);
	assert_string_equal(id->key, "k8s:" UID "/backend");
	assert_string_equal(id->workload, "k8s:shop/checkout/backend");
	assert_string_equal(id->meta.pod_name, POD);
	assert_int_equal(id->meta.restart_count, 1);

	/* Its init started before any of the logs: they are later containers'. */
	start_timed(r, OLD64, 5, boot - 30000 * ms, wall - 30000 * ms, false, id);
	assert_string_equal(id->key, "k8s:" UID);
	assert_string_equal(id->meta.name, "");

	/* Seeded: its init may be older than any log. */
	start_timed(r, NEW64, 6, boot, wall + ms, true, id);
	assert_string_equal(id->key, "k8s:" UID);
	assert_string_equal(id->meta.name, "");

	/* Removed from CRI, its log with it: the span's newest log is another attempt's. */
	start_timed(r, ID64, 8, boot, wall + ms, false, id);
	assert_string_equal(id->key, "k8s:" UID);
	assert_string_equal(id->meta.name, "");

	/* A log born after the init's start is the pod's next container's, not this one's. */
	usleep(25000);
	ew_t_scratch_put(s, "var/log/pods/shop_" POD "_" UID "/sidecar/0.log", "");
	start_timed(r, NEW64, 7, boot, wall + ms, false, id);
	assert_string_equal(id->key, "k8s:" UID "/backend");
	free(id);
	ew_resolver_free(r);
}

/*
 * An agent restarted in the middle of a loop: its resolver has read nothing yet, and the
 * container's next attempt is gone before its start is read. The identity restored from the
 * state file (ew_resolver_learn()) gives the image the kubelet's link does not; what is not a
 * Kubernetes identity read from its files teaches nothing.
 */
static void test_resolver_learn(void **state)
{
	const struct ew_t_scratch *s = *state;
	struct ew_resolver_opts o = {.paths = paths_in(s), .read_meta = true};
	struct ew_resolver *r = ew_resolver_new(&o);
	struct ew_identity *id = malloc(sizeof(*id)), *old = calloc(1, sizeof(*old));

	ew_t_scratch_put(s, TASKS "/.keep", "");
	ew_t_scratch_put(s, "var/log/pods/shop_" POD "_" UID "/backend/3.log", "");
	link_to(s, "var/log/containers/" POD "_shop_backend-" ID64 ".log",
		"/var/log/pods/shop_" POD "_" UID "/backend/3.log");
	link_at(s, "var/log/containers/" POD "_shop_sidecar-" NEW64 ".log");

	/* What a state file gives back: the subject of an earlier attempt, read from its files. */
	ew_strlcpy(old->cgroup, "/kubepods/burstable/pod" UID "/" OLD64, sizeof(old->cgroup));
	assert_int_equal(ew_cgroup_parse(old->cgroup, &old->cg), 0);
	old->has_meta = true;
	strcpy(old->meta.name, "backend");
	strcpy(old->meta.image, "registry.example.com/shop/backend:1.4.2");
	strcpy(old->meta.pod_name, POD);
	strcpy(old->meta.pod_namespace, "shop");
	ew_identity_finish(old);

	/* Not Kubernetes, or not read from its files: ignored. */
	old->cg.kubernetes = false;
	assert_int_equal(ew_resolver_learn(r, old), 0);
	old->cg.kubernetes = true;
	old->has_meta = false;
	assert_int_equal(ew_resolver_learn(r, old), 0);
	assert_int_equal(ew_resolver_learn(r, NULL), 0);
	start(r, ID64, 1, id);
	assert_string_equal(id->key, "k8s:" UID "/backend");
	assert_string_equal(id->meta.image, "");

	old->has_meta = true;
	assert_int_equal(ew_resolver_learn(r, old), 0);
	start(r, ID64, 2, id);
	assert_string_equal(id->key, "k8s:" UID "/backend");
	assert_string_equal(id->meta.image, "registry.example.com/shop/backend:1.4.2");
	assert_int_equal(id->meta.restart_count, 3);
	/* The image is the container name's: the pod's other container has none. */
	start(r, NEW64, 3, id);
	assert_string_equal(id->key, "k8s:" UID "/sidecar");
	assert_string_equal(id->meta.pod_name, POD);
	assert_string_equal(id->meta.image, "");
	free(old);
	free(id);
	ew_resolver_free(r);
}

static void test_podman_list(void **state)
{
	const struct ew_t_scratch *s = *state;
	struct ew_meta_paths p = paths_in(s);
	struct ew_cgroup_info cg = {.runtime = EW_RT_PODMAN};
	struct ew_meta m;

	strcpy(cg.container_id, ID64);
	ew_t_scratch_put(s, LIBPOD "/" ID64 "/userdata/config.json",
			 "{\"annotations\":{\"io.container.manager\":\"libpod\"}}");
	ew_t_scratch_put(s, LIBPOD "/containers.json",
			 "[{\"id\":\"" OLD64 "\",\"names\":[\"other\"]},");
	/* A broken list: the names only are lost. */
	assert_int_equal(ew_meta_read(&p, &cg, &m, NULL, 0), 0);
	assert_string_equal(m.name, "");
	ew_t_scratch_put(s, LIBPOD "/containers.json",
			 "[{\"id\":\"" OLD64 "\",\"names\":[\"other\"]},{\"id\":\"" ID64
			 "\",\"names\":[\"web\",\"alias\"],\"metadata\":\"{\\\"image-name\\\":"
			 "\\\"localhost/exitwatch-test:latest\\\",\\\"name\\\":\\\"web\\\"}\"}]");
	assert_int_equal(ew_meta_read(&p, &cg, &m, NULL, 0), 0);
	assert_string_equal(m.name, "web");
	assert_string_equal(m.image, "localhost/exitwatch-test:latest");
	/* A metadata string that is not JSON, names of the wrong type: skipped. */
	ew_t_scratch_put(s, LIBPOD "/containers.json",
			 "[{\"id\":\"" ID64 "\",\"names\":[7],\"metadata\":\"{not json\"}]");
	assert_int_equal(ew_meta_read(&p, &cg, &m, NULL, 0), 0);
	assert_string_equal(m.name, "");
	assert_string_equal(m.image, "");
}

static void test_pin(void **state)
{
	const struct ew_t_scratch *s = *state;
	struct ew_meta_paths p = paths_in(s), pinned;
	struct ew_cgroup_info cg = {.runtime = EW_RT_PODMAN};
	struct ew_meta_pins *pins = NULL;
	char want[600], msg[600];
	struct ew_meta m;

	strcpy(cg.container_id, ID64);
	ew_t_scratch_put(s, LIBPOD "/" ID64 "/userdata/config.json", "{}");
	ew_t_scratch_put(s, LIBPOD "/containers.json",
			 "[{\"id\":\"" ID64 "\",\"names\":[\"web\"]}]");
	assert_int_equal(ew_meta_paths_pin(&p, &pins, &pinned), 0);
	assert_int_equal(ew_meta_pins_count(pins), 1); /* only the libpod root exists */
	assert_string_equal(pinned.host_root, "");
	assert_true(!strncmp(pinned.libpod_root, "/proc/self/fd/", 14));
	snprintf(want, sizeof(want), "%s/var/lib/docker", s->dir);
	assert_string_equal(pinned.docker_root, want);
	assert_int_equal(ew_meta_read(&pinned, &cg, &m, NULL, 0), 0);
	assert_string_equal(m.name, "web");
	/* Messages name the real paths, never the descriptors. */
	snprintf(msg, sizeof(msg), "%s/x/config.json: Permission denied", pinned.libpod_root);
	ew_meta_pins_unpin_msg(pins, msg, sizeof(msg));
	snprintf(want, sizeof(want), "%s" LIBPOD "/x/config.json: Permission denied", s->dir);
	assert_string_equal(msg, want);
	assert_string_equal(ew_meta_pins_host_root(pins), s->dir);
	ew_meta_pins_free(pins);
	ew_meta_pins_free(NULL);
}

/*
 * What the resolver knows of a pod, by an identity's key (for the state file), and the same
 * given to a new resolver: its container gone before its start is read, and linked, has the
 * image the first resolver read.
 */
static void test_resolver_recall(void **state)
{
	const struct ew_t_scratch *s = *state;
	struct ew_resolver_opts o = {.paths = paths_in(s), .read_meta = true};
	struct ew_resolver *r = ew_resolver_new(&o), *r2 = ew_resolver_new(&o);
	struct ew_identity *id = malloc(sizeof(*id));
	struct ew_meta m;

	backend_bundle(s);
	ew_t_scratch_put(s, "var/log/pods/shop_" POD "_" UID "/backend/2.log", "");
	link_at(s, "var/log/containers/" POD "_shop_backend-" ID64 ".log");

	assert_false(ew_resolver_recall(r, "k8s:" UID "/backend", &m));
	start(r, OLD64, 1, id);
	assert_true(ew_resolver_recall(r, id->key, &m));
	assert_string_equal(m.pod_uid, UID);
	assert_string_equal(m.pod_namespace, "shop");
	assert_string_equal(m.pod_name, POD);
	assert_string_equal(m.name, "backend");
	assert_string_equal(m.image, "registry.example.com/shop/backend:1.4.2");
	/* Keyed by its pod: the pod's names, no container's image. */
	assert_true(ew_resolver_recall(r, "k8s:" UID, &m));
	assert_string_equal(m.pod_name, POD);
	assert_string_equal(m.image, "");
	assert_false(ew_resolver_recall(r, "k8s:9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a/backend", &m));
	assert_false(ew_resolver_recall(r, "docker:" OLD64, &m));
	assert_false(ew_resolver_recall(r, "k8s:shop/checkout/backend", &m));

	/* The next agent: only the link names the next attempt; the image is the recalled one. */
	assert_true(ew_resolver_recall(r, "k8s:" UID "/backend", &m));
	start(r2, ID64, 2, id);
	assert_string_equal(id->meta.image, "");
	ew_resolver_forget(r2, 2);
	assert_int_equal(ew_resolver_learn_pod(r2, "k8s:shop/checkout/backend", m.pod_namespace,
					       m.pod_name, m.image),
			 -EINVAL);
	assert_int_equal(ew_resolver_learn_pod(r2, "k8s:" UID "/backend", m.pod_namespace,
					       m.pod_name, m.image),
			 0);
	start(r2, ID64, 3, id);
	assert_string_equal(id->key, "k8s:" UID "/backend");
	assert_string_equal(id->meta.image, "registry.example.com/shop/backend:1.4.2");
	free(id);
	ew_resolver_free(r);
	ew_resolver_free(r2);
}

static void test_pod_cache(void **state)
{
	struct ew_pod_cache *c = ew_pod_cache_new();
	struct ew_meta m = {.restart_count = -1}, got = {.restart_count = -1};

	(void)state;
	strcpy(m.name, "backend");
	strcpy(m.image, "img:1");
	strcpy(m.pod_name, POD);
	strcpy(m.pod_namespace, "shop");
	assert_int_equal(ew_pod_cache_put(c, UID, &m), 0);
	ew_pod_cache_fill(c, UID, &got);
	assert_string_equal(got.pod_name, POD);
	assert_string_equal(got.image, ""); /* no name, no image */
	strcpy(got.name, "backend");
	ew_pod_cache_fill(c, UID, &got);
	assert_string_equal(got.image, "img:1");
	strcpy(got.name, "sidecar");
	got.image[0] = '\0';
	ew_pod_cache_fill(c, UID, &got);
	assert_string_equal(got.image, "");
	/* A newer read replaces what an older one told, names and image. */
	strcpy(m.image, "img:2");
	strcpy(m.pod_name, "checkout-2");
	assert_int_equal(ew_pod_cache_put(c, UID, &m), 0);
	assert_int_equal(ew_pod_cache_count(c), 2);
	memset(&got, 0, sizeof(got));
	strcpy(got.name, "backend");
	ew_pod_cache_fill(c, UID, &got);
	assert_string_equal(got.pod_namespace, "shop");
	assert_string_equal(got.pod_name, "checkout-2");
	assert_string_equal(got.image, "img:2");
	/* Names as long as a name may be come back whole. */
	memset(m.pod_namespace, 'n', EW_NAME_LEN - 1);
	memset(m.pod_name, 'p', EW_NAME_LEN - 1);
	memset(m.image, 'i', EW_NAME_LEN - 1);
	m.pod_namespace[EW_NAME_LEN - 1] = m.pod_name[EW_NAME_LEN - 1] = m.image[EW_NAME_LEN - 1] =
		'\0';
	assert_int_equal(ew_pod_cache_put(c, UID, &m), 0);
	memset(&got, 0, sizeof(got));
	strcpy(got.name, "backend");
	ew_pod_cache_fill(c, UID, &got);
	assert_memory_equal(got.pod_namespace, m.pod_namespace, EW_NAME_LEN);
	assert_memory_equal(got.pod_name, m.pod_name, EW_NAME_LEN);
	assert_memory_equal(got.image, m.image, EW_NAME_LEN);
	/* Bounded: past the limit it starts again, with the newest entry. */
	for (int i = 0; i < EW_POD_CACHE_MAX + 10; i++) {
		char uid[EW_UID_LEN];

		snprintf(uid, sizeof(uid), "00000000-0000-0000-0000-%012d", i);
		assert_int_equal(ew_pod_cache_put(c, uid, &m), 0);
		assert_true(ew_pod_cache_count(c) <= EW_POD_CACHE_MAX);
	}
	ew_pod_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_k8s_link, ew_t_scratch_setup,
						ew_t_scratch_teardown),
		cmocka_unit_test_setup_teardown(test_read_gone, ew_t_scratch_setup,
						ew_t_scratch_teardown),
		cmocka_unit_test_setup_teardown(test_resolver_gone, ew_t_scratch_setup,
						ew_t_scratch_teardown),
		cmocka_unit_test_setup_teardown(test_resolver_gone_log, ew_t_scratch_setup,
						ew_t_scratch_teardown),
		cmocka_unit_test_setup_teardown(test_podman_list, ew_t_scratch_setup,
						ew_t_scratch_teardown),
		cmocka_unit_test_setup_teardown(test_pin, ew_t_scratch_setup,
						ew_t_scratch_teardown),
		cmocka_unit_test_setup_teardown(test_resolver_learn, ew_t_scratch_setup,
						ew_t_scratch_teardown),
		cmocka_unit_test_setup_teardown(test_resolver_recall, ew_t_scratch_setup,
						ew_t_scratch_teardown),
		cmocka_unit_test(test_pod_cache),
	};

	return cmocka_run_group_tests_name("meta_fallback", tests, NULL, NULL);
}
