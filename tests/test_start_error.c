// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A failed start's error from its runtime's files (src/identity/start_error.c and the parsers
 * in src/identity/meta_parse.c): Docker's config.v2.json State.Error, containerd's CRI status.
 * The files are copies of what Docker 28 and containerd 1.6 wrote on this machine for a
 * `docker run` and a CRI StartContainer of a command not in the image.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "exitwatch/identity/runtime_meta.h"
#include "harness/unit.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define RUNC_ERR                                                                                \
	"failed to create shim task: OCI runtime create failed: runc create failed: unable to " \
	"start container process: exec: \\\"/nosuch\\\": stat /nosuch: no such file or "        \
	"directory: unknown"
#define RUNC_ERR_TEXT                                                                           \
	"failed to create shim task: OCI runtime create failed: runc create failed: unable to " \
	"start container process: exec: \"/nosuch\": stat /nosuch: no such file or directory: " \
	"unknown"

static const char docker_failed[] =
	"{\"StreamConfig\":{},\"State\":{\"Running\":false,\"Paused\":false,\"Restarting\":false,"
	"\"OOMKilled\":false,\"RemovalInProgress\":false,\"Dead\":false,\"Pid\":0,"
	"\"ExitCode\":127,\"Error\":\"" RUNC_ERR "\",\"StartedAt\":\"0001-01-01T00:00:00Z\","
	"\"FinishedAt\":\"0001-01-01T00:00:00Z\",\"Health\":null},\"ID\":\"" ID "\","
	"\"Config\":{\"Image\":\"exitwatch-test\",\"Cmd\":[\"/nosuch\"]},\"Name\":\"/bad1\"}";
static const char docker_ran[] =
	"{\"State\":{\"Running\":true,\"Pid\":4242,\"ExitCode\":0,\"Error\":\"\"},"
	"\"ID\":\"" ID "\",\"Name\":\"/web\"}";
static const char cri_failed[] =
	"{\"Version\":\"v1\",\"Pid\":0,\"CreatedAt\":1796620191368417791,\"StartedAt\":0,"
	"\"FinishedAt\":1796620191433649548,\"ExitCode\":128,\"Reason\":\"StartError\","
	"\"Message\":\"failed to create containerd task: " RUNC_ERR
	"\",\"Resources\":{\"linux\":{}}}";
static const char cri_created[] =
	"{\"Version\":\"v1\",\"Pid\":0,\"CreatedAt\":1796620191368417791,\"StartedAt\":0,"
	"\"FinishedAt\":0,\"ExitCode\":0,\"Reason\":\"\",\"Message\":\"\",\"Resources\":{}}";
static const char cri_exited[] =
	"{\"Version\":\"v1\",\"Pid\":4242,\"ExitCode\":3,\"Reason\":\"Error\","
	"\"Message\":\"ModuleNotFoundError\"}";

static void test_parse_docker(void **state)
{
	char buf[1024], err[256];

	(void)state;
	assert_int_equal(ew_meta_parse_docker_start_error(docker_failed, strlen(docker_failed), buf,
							  sizeof(buf), err, sizeof(err)),
			 (int)strlen(RUNC_ERR_TEXT));
	assert_string_equal(buf, RUNC_ERR_TEXT);
	/* A start that succeeded, no State, State of another type: no error. */
	assert_int_equal(ew_meta_parse_docker_start_error(docker_ran, strlen(docker_ran), buf,
							  sizeof(buf), err, sizeof(err)),
			 0);
	assert_string_equal(buf, "");
	assert_int_equal(
		ew_meta_parse_docker_start_error("{}", 2, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_int_equal(ew_meta_parse_docker_start_error("{\"State\":\"x\"}", 13, buf, sizeof(buf),
							  err, sizeof(err)),
			 0);
	assert_int_equal(ew_meta_parse_docker_start_error("{\"State\":{\"Error\":7}}", 21, buf,
							  sizeof(buf), err, sizeof(err)),
			 0);
	/* Not a JSON object: an error that names the file. */
	assert_int_equal(
		ew_meta_parse_docker_start_error("[1]", 3, buf, sizeof(buf), err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "config.v2.json"));
	assert_int_equal(ew_meta_parse_docker_start_error("{\"State\":", 9, buf, sizeof(buf), err,
							  sizeof(err)),
			 -EINVAL);
}

static void test_parse_cri(void **state)
{
	char buf[1024], err[256];

	(void)state;
	assert_int_equal(ew_meta_parse_cri_start_error(cri_failed, strlen(cri_failed), buf,
						       sizeof(buf), err, sizeof(err)),
			 (int)strlen("failed to create containerd task: " RUNC_ERR_TEXT));
	assert_string_equal(buf, "failed to create containerd task: " RUNC_ERR_TEXT);
	/* Created and not yet failed; an application's exit (its reason is not a start's). */
	assert_int_equal(ew_meta_parse_cri_start_error(cri_created, strlen(cri_created), buf,
						       sizeof(buf), err, sizeof(err)),
			 0);
	assert_int_equal(ew_meta_parse_cri_start_error(cri_exited, strlen(cri_exited), buf,
						       sizeof(buf), err, sizeof(err)),
			 0);
	assert_string_equal(buf, "");
	assert_int_equal(ew_meta_parse_cri_start_error("", 0, buf, sizeof(buf), err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "CRI status"));
}

/* A long error is cut to the buffer, never inside a UTF-8 character. */
static void test_parse_cut(void **state)
{
	static const char json[] = "{\"Reason\":\"StartError\",\"Message\":\"ab\xc3\xa9\xc3\xa9\"}";
	char buf[4], err[256];

	(void)state;
	/* "ab" and the first half of an e-acute fit in 3: the half is dropped. */
	assert_int_equal(ew_meta_parse_cri_start_error(json, strlen(json), buf, sizeof(buf), err,
						       sizeof(err)),
			 2);
	assert_string_equal(buf, "ab");
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static struct ew_cgroup_info cg_of(enum ew_runtime rt, const char *id)
{
	struct ew_cgroup_info cg = {.runtime = rt};

	snprintf(cg.container_id, sizeof(cg.container_id), "%s", id);
	return cg;
}

static void test_read_docker(void **state)
{
	struct ew_t_scratch *t = *state;
	struct ew_meta_paths p = {.host_root = t->dir};
	struct ew_cgroup_info cg = cg_of(EW_RT_DOCKER, ID);
	char buf[1024], err[256], path[4096];
	struct timespec old[2] = {{.tv_sec = 1000000}, {.tv_sec = 1000000}};
	uint64_t before;

	ew_meta_paths_default(&p);
	/* No file: not Docker's (or gone). */
	assert_int_equal(ew_meta_read_start_error(&p, &cg, 0, buf, sizeof(buf), err, sizeof(err)),
			 -ENOENT);
	before = wall_ns() - 1000000000ULL; /* a file's coarse clock may lag */
	ew_t_scratch_put(t, "var/lib/docker/containers/" ID "/config.v2.json", docker_failed);
	assert_int_equal(
		ew_meta_read_start_error(&p, &cg, before, buf, sizeof(buf), err, sizeof(err)),
		(int)strlen(RUNC_ERR_TEXT));
	assert_string_equal(buf, RUNC_ERR_TEXT);
	/* Written before this start's init was forked: an earlier start's error, not this one's. */
	assert_int_equal(
		utimensat(AT_FDCWD,
			  ew_t_scratch_path(t, "var/lib/docker/containers/" ID "/config.v2.json",
					    path, sizeof(path)),
			  old, 0),
		0);
	assert_int_equal(
		ew_meta_read_start_error(&p, &cg, before, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(buf, "");
	/* Rewritten since, with no error (yet): 0, ask again. */
	ew_t_scratch_put(t, "var/lib/docker/containers/" ID "/config.v2.json", docker_ran);
	assert_int_equal(
		ew_meta_read_start_error(&p, &cg, before, buf, sizeof(buf), err, sizeof(err)), 0);
	/* Broken: the error names the file. */
	ew_t_scratch_put(t, "var/lib/docker/containers/" ID "/config.v2.json", "{");
	assert_int_equal(
		ew_meta_read_start_error(&p, &cg, before, buf, sizeof(buf), err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "config.v2.json"));
}

static void test_read_cri(void **state)
{
	struct ew_t_scratch *t = *state;
	struct ew_meta_paths p = {.host_root = t->dir};
	struct ew_cgroup_info cg = cg_of(EW_RT_CONTAINERD, ID);
	char buf[1024], err[256];

	ew_meta_paths_default(&p);
	assert_int_equal(ew_meta_read_start_error(&p, &cg, 0, buf, sizeof(buf), err, sizeof(err)),
			 -ENOENT);
	ew_t_scratch_put(t, "var/lib/containerd/io.containerd.grpc.v1.cri/containers/" ID "/status",
			 cri_created);
	assert_int_equal(ew_meta_read_start_error(&p, &cg, 0, buf, sizeof(buf), err, sizeof(err)),
			 0);
	ew_t_scratch_put(t, "var/lib/containerd/io.containerd.grpc.v1.cri/containers/" ID "/status",
			 cri_failed);
	/* A CRI container is one attempt: its status is read whatever its time. */
	assert_int_equal(
		ew_meta_read_start_error(&p, &cg, UINT64_MAX, buf, sizeof(buf), err, sizeof(err)),
		(int)strlen("failed to create containerd task: " RUNC_ERR_TEXT));
	/* Elsewhere when configured so (containerd's root moved). */
	p.containerd_cri_root = "/elsewhere";
	assert_int_equal(ew_meta_read_start_error(&p, &cg, 0, buf, sizeof(buf), err, sizeof(err)),
			 -ENOENT);
}

/* Read as the agent reads it: through the root it opened before it dropped its capabilities. */
static void test_read_pinned(void **state)
{
	struct ew_t_scratch *t = *state;
	struct ew_meta_paths p = {.host_root = t->dir}, pinned;
	struct ew_cgroup_info cg = cg_of(EW_RT_CONTAINERD, ID);
	struct ew_meta_pins *pins = NULL;
	char buf[1024], err[256];

	ew_t_scratch_put(t, "var/lib/containerd/io.containerd.grpc.v1.cri/containers/" ID "/status",
			 cri_failed);
	assert_int_equal(ew_meta_paths_pin(&p, &pins, &pinned), 0);
	assert_int_equal(ew_meta_pins_count(pins), 1); /* only the CRI root exists */
	assert_true(!strncmp(pinned.containerd_cri_root, "/proc/self/fd/", 14));
	assert_true(ew_meta_read_start_error(&pinned, &cg, 0, buf, sizeof(buf), err, sizeof(err)) >
		    0);
	assert_non_null(strstr(buf, "runc create failed"));
	ew_meta_pins_free(pins);
}

/* Runtimes that keep no such file, and ids that may not become a path. */
static void test_read_none(void **state)
{
	struct ew_t_scratch *t = *state;
	struct ew_meta_paths p = {.host_root = t->dir};
	struct ew_cgroup_info cg;
	char buf[64], err[256];

	ew_meta_paths_default(&p);
	ew_t_scratch_put(t, "var/lib/docker/containers/" ID "/config.v2.json", docker_failed);
	cg = cg_of(EW_RT_CRIO, ID);
	assert_int_equal(ew_meta_read_start_error(&p, &cg, 0, buf, sizeof(buf), err, sizeof(err)),
			 -ENOENT);
	cg = cg_of(EW_RT_CGROUP, "");
	assert_int_equal(ew_meta_read_start_error(&p, &cg, 0, buf, sizeof(buf), err, sizeof(err)),
			 -ENOENT);
	cg = cg_of(EW_RT_DOCKER, "../../../../etc");
	assert_int_equal(ew_meta_read_start_error(&p, &cg, 0, buf, sizeof(buf), err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(buf, "");
}

#define TMP(fn) cmocka_unit_test_setup_teardown(fn, ew_t_scratch_setup, ew_t_scratch_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_docker),
		cmocka_unit_test(test_parse_cri),
		cmocka_unit_test(test_parse_cut),
		TMP(test_read_docker),
		TMP(test_read_cri),
		TMP(test_read_pinned),
		TMP(test_read_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
