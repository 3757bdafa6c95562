// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Compact subjects (src/identity/subject.c): an identity packed and unpacked again. */
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
#define POD_UID "1d5b9e3f-7a2c-4f6e-8b0d-2c4e6a8f0b1d"

static struct ew_identity *ident(enum ew_runtime rt, const char *cgroup)
{
	struct ew_identity *id = calloc(1, sizeof(*id));

	id->cg.runtime = rt;
	id->meta.restart_count = -1;
	ew_strlcpy(id->cgroup, cgroup, sizeof(id->cgroup));
	return id;
}

/* Every member of two identities, strings up to their NUL: what an identity means. */
static void assert_identity_equal(const struct ew_identity *a, const struct ew_identity *b)
{
	assert_int_equal(a->cgroup_id, b->cgroup_id);
	assert_string_equal(a->cgroup, b->cgroup);
	assert_int_equal(a->cg.runtime, b->cg.runtime);
	assert_int_equal(a->cg.kubernetes, b->cg.kubernetes);
	assert_string_equal(a->cg.container_id, b->cg.container_id);
	assert_string_equal(a->cg.pod_uid, b->cg.pod_uid);
	assert_string_equal(a->cg.qos, b->cg.qos);
	assert_string_equal(a->cg.unit, b->cg.unit);
	assert_string_equal(a->meta.name, b->meta.name);
	assert_string_equal(a->meta.image, b->meta.image);
	assert_string_equal(a->meta.pod_name, b->meta.pod_name);
	assert_string_equal(a->meta.pod_namespace, b->meta.pod_namespace);
	assert_string_equal(a->meta.pod_uid, b->meta.pod_uid);
	assert_string_equal(a->meta.compose_project, b->meta.compose_project);
	assert_string_equal(a->meta.compose_service, b->meta.compose_service);
	assert_string_equal(a->meta.restart_policy, b->meta.restart_policy);
	assert_int_equal(a->meta.restart_count, b->meta.restart_count);
	assert_int_equal(a->meta.sandbox, b->meta.sandbox);
	assert_int_equal(a->has_meta, b->has_meta);
	assert_string_equal(a->key, b->key);
	assert_string_equal(a->workload, b->workload);
	assert_string_equal(a->display, b->display);
	assert_int_equal(a->rev, b->rev);
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
	/* Unpacked over an identity's leftovers (unpack clears nothing it does not set): every
	 * member is the packed one, the old bytes show through none of them. */
	memset(b, 'x', sizeof(*b));
	b->packed = (struct ew_subject *)b;
	a->rev = 77;
	ew_subject_free(s);
	s = ew_subject_pack(a);
	assert_non_null(s);
	ew_subject_unpack(s, b);
	assert_identity_equal(a, b);
	assert_null(b->packed);
	assert_string_equal(b->cg.unit, "");
	assert_string_equal(b->meta.compose_project, "");
	ew_subject_free(s);
	ew_subject_free(NULL);
	free(a);
	free(b);
}

#define FILL(m, c)                               \
	do {                                     \
		memset((m), (c), sizeof(m) - 1); \
		(m)[sizeof(m) - 1] = '\0';       \
	} while (0)

/*
 * Every string at its buffer's full length, then every one but the key empty: each comes back
 * whole over an identity's leftovers, and an empty one comes back empty.
 */
static void test_subject_full_and_empty(void **state)
{
	struct ew_identity *a = calloc(1, sizeof(*a)), *b = malloc(sizeof(*b));
	struct ew_subject *s;

	(void)state;
	FILL(a->cgroup, 'a');
	FILL(a->cg.container_id, 'b');
	FILL(a->cg.pod_uid, 'c');
	FILL(a->cg.qos, 'd');
	FILL(a->cg.unit, 'e');
	FILL(a->meta.name, 'f');
	FILL(a->meta.image, 'g');
	FILL(a->meta.pod_name, 'h');
	FILL(a->meta.pod_namespace, 'i');
	FILL(a->meta.pod_uid, 'j');
	FILL(a->meta.compose_project, 'k');
	FILL(a->meta.compose_service, 'l');
	FILL(a->meta.restart_policy, 'm');
	FILL(a->key, 'n');
	FILL(a->workload, 'o');
	FILL(a->display, 'p');
	a->meta.restart_count = -1;
	s = ew_subject_pack(a);
	assert_non_null(s);
	memset(b, 'x', sizeof(*b));
	ew_subject_unpack(s, b);
	assert_identity_equal(a, b);
	ew_subject_free(s);

	memset(a, 0, sizeof(*a));
	strcpy(a->key, "cgroup:/k");
	s = ew_subject_pack(a);
	assert_non_null(s);
	memset(b, 'x', sizeof(*b));
	ew_subject_unpack(s, b);
	assert_identity_equal(a, b);
	assert_string_equal(b->cgroup, "");
	assert_string_equal(b->display, "");
	ew_subject_free(s);
	free(a);
	free(b);
}

/*
 * ew_subject_same(): an identity is the same as its packed copy whatever lies past its strings'
 * NULs, and its revision is not compared; any member that differs, every string and scalar in
 * turn (one byte more, one byte less, one byte other), makes it another.
 */
static void test_subject_same(void **state)
{
	struct ew_identity *a = calloc(1, sizeof(*a)), *b = malloc(sizeof(*b));
	char *strs[] = {a->cgroup,
			a->cg.container_id,
			a->cg.pod_uid,
			a->cg.qos,
			a->cg.unit,
			a->meta.name,
			a->meta.image,
			a->meta.pod_name,
			a->meta.pod_namespace,
			a->meta.pod_uid,
			a->meta.compose_project,
			a->meta.compose_service,
			a->meta.restart_policy,
			a->key,
			a->workload,
			a->display};
	struct ew_subject *s;

	(void)state;
	a->cgroup_id = 7;
	a->cg.runtime = EW_RT_DOCKER;
	a->meta.restart_count = 2;
	for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
		snprintf(strs[i], 8, "s%zu", i);
	s = ew_subject_pack(a);
	assert_non_null(s);
	assert_true(ew_subject_same(s, a));
	/* The same identity over other leftovers, and another revision. */
	memset(b, 'x', sizeof(*b));
	ew_subject_unpack(s, b);
	b->rev = 99;
	assert_true(ew_subject_same(s, b));

	for (size_t i = 0; i < ARRAY_SIZE(strs); i++) {
		char keep[8];
		size_t n = strlen(strs[i]);

		memcpy(keep, strs[i], n + 1);
		strs[i][n] = 'y'; /* longer: "s3" -> "s3y", the NUL after it from calloc() */
		assert_false(ew_subject_same(s, a));
		strs[i][n] = '\0';
		strs[i][n - 1] = '\0'; /* shorter */
		assert_false(ew_subject_same(s, a));
		strs[i][n - 1] = 'z'; /* as long, one byte other */
		assert_false(ew_subject_same(s, a));
		memcpy(strs[i], keep, n + 1);
		assert_true(ew_subject_same(s, a));
	}
	a->cgroup_id = 8;
	assert_false(ew_subject_same(s, a));
	a->cgroup_id = 7;
	a->meta.restart_count = 3;
	assert_false(ew_subject_same(s, a));
	a->meta.restart_count = 2;
	a->cg.runtime = EW_RT_CONTAINERD;
	assert_false(ew_subject_same(s, a));
	a->cg.runtime = EW_RT_DOCKER;
	a->cg.kubernetes = true;
	assert_false(ew_subject_same(s, a));
	a->cg.kubernetes = false;
	a->has_meta = true;
	assert_false(ew_subject_same(s, a));
	a->has_meta = false;
	a->meta.sandbox = true;
	assert_false(ew_subject_same(s, a));
	a->meta.sandbox = false;
	assert_true(ew_subject_same(s, a));
	ew_subject_free(s);
	free(a);
	free(b);
}

/* Cleared over leftovers, an identity reads as a zeroed one in every member. */
static void test_identity_clear(void **state)
{
	struct ew_identity *a = calloc(1, sizeof(*a)), *b = malloc(sizeof(*b));

	(void)state;
	memset(b, 0xa5, sizeof(*b));
	ew_identity_clear(b);
	assert_identity_equal(a, b);
	assert_null(b->packed);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subject_round_trip),
		cmocka_unit_test(test_subject_full_and_empty),
		cmocka_unit_test(test_identity_clear),
		cmocka_unit_test(test_subject_same),
	};

	return cmocka_run_group_tests_name("subject", tests, NULL, NULL);
}
