// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The resolver (src/identity/resolver.c) over the host-root fixture tree (tests/fixtures/hostroot). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exitwatch/identity/identity.h"
#include "exitwatch/identity/resolver.h"
#include "exitwatch/util/util.h"

#define ID64	 "2a71048cd69e70536efc682e85e6aa728e80acfade54b46648cd30124a2b46e9"
#define OTHER64	 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define FIXTURES "tests/fixtures/hostroot"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolver),
	};

	return cmocka_run_group_tests_name("resolver", tests, NULL, NULL);
}
