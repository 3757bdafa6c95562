// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Log file closes seen through inotify (src/agent/log_watch.c): a close after a write is seen
 * and dated, one watch serves the containers sharing a file, and forgetting the last of them
 * removes it.
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
#include <unistd.h>

#include <cmocka.h>

#include "exitwatch/agent/log_watch.h"

static void append(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	assert_int_equal(close(fd), 0);
}

static void test_close_after_write(void **state)
{
	char path[] = "/tmp/ew-test-logwatch-XXXXXX", other[64];
	struct ew_logwatch *w = ew_logwatch_new();
	int fd = mkstemp(path), ro;

	(void)state;
	assert_non_null(w);
	assert_true(ew_logwatch_fd(w) >= 0);
	assert_true(fd >= 0);
	close(fd);
	ew_logwatch_read(w, 50); /* the mkstemp close came before the watch: not seen */
	assert_int_equal(ew_logwatch_closed(w, 1, 0), -ENOENT);
	assert_int_equal(ew_logwatch_add(w, 1, path, 0, 60), 0);
	assert_int_equal(ew_logwatch_add(w, 2, path, 0, 60),
			 0); /* a restart writes the same file */
	assert_int_equal(ew_logwatch_add(w, 2, path, 0, 60), 0); /* a re-exec: nothing changes */
	assert_int_equal(ew_logwatch_count(w), 2);
	/* The path and tag found at the start come back at the exit. */
	{
		int tag = -1;

		assert_string_equal(ew_logwatch_path(w, 2, &tag), path);
		assert_int_equal(tag, 0);
		assert_null(ew_logwatch_path(w, 99, &tag));
	}
	assert_int_equal(ew_logwatch_closed(w, 1, 70), 0);

	/* A reader's close is not the writer's. */
	ro = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(ro >= 0);
	close(ro);
	ew_logwatch_read(w, 100);
	assert_int_equal(ew_logwatch_closed(w, 1, 70), 0);

	append(path, "last words");
	ew_logwatch_read(w, 200);
	assert_int_equal(ew_logwatch_closed(w, 1, 200), 1);
	assert_int_equal(ew_logwatch_closed(w, 2, 150), 1);
	/* A close before the exit does not count for it. */
	assert_int_equal(ew_logwatch_closed(w, 1, 201), 0);
	/* An exit before the watch began: its close may have been missed. */
	assert_int_equal(ew_logwatch_closed(w, 1, 59), 1);
	append(path, "x");
	ew_logwatch_read(w, 250);
	assert_int_equal(ew_logwatch_closed(w, 1, 255), 0);

	/* The first container goes; the file is still watched for the second. */
	ew_logwatch_forget(w, 1);
	assert_int_equal(ew_logwatch_closed(w, 1, 0), -ENOENT);
	append(path, "more");
	ew_logwatch_read(w, 300);
	assert_int_equal(ew_logwatch_closed(w, 2, 300), 1);

	/* A deleted file will get no more writes: as good as closed. */
	snprintf(other, sizeof(other), "%s.b", path);
	fd = open(other, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ew_logwatch_add(w, 3, other, 0, 350), 0);
	assert_int_equal(ew_logwatch_closed(w, 3, 340), -EAGAIN);
	assert_int_equal(ew_logwatch_closed(w, 3, 360), 0);
	assert_int_equal(unlink(other), 0);
	ew_logwatch_read(w, 400);
	assert_int_equal(ew_logwatch_closed(w, 3, 1000), 1);
	ew_logwatch_forget(w, 3);

	ew_logwatch_forget(w, 2);
	ew_logwatch_forget(w, 2); /* twice is harmless */
	assert_int_equal(ew_logwatch_count(w), 0);
	assert_int_equal(ew_logwatch_add(w, 4, "/nonexistent/ew-log", 0, 1), -ENOENT);
	assert_int_equal(unlink(path), 0);
	ew_logwatch_free(w);
}

/*
 * The kubelet's log rotation of a running container: <n>.log is renamed to
 * <n>.log.<time>, containerd reopens <n>.log (a new inode) and writes on there; at the next
 * rotation the kubelet gzips the old rotated file and removes it. A watch left on the first
 * inode takes its deletion for "the writer is done", and the exit of the container (whose
 * writer, containerd, still has the current <n>.log open) is settled at once.
 */
static void test_kubelet_rotation(void **state)
{
	char path[] = "/tmp/ew-test-logrot-XXXXXX", rot[64];
	struct ew_logwatch *w = ew_logwatch_new();
	int fd = mkstemp(path), cur;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ew_logwatch_add(w, 1, path, 0, 100), 0); /* the container starts */
	append(path, "line 1\n");
	/* rotation: rename, containerd reopens the path (a new file) and keeps writing */
	snprintf(rot, sizeof(rot), "%s.20240501-120000", path);
	assert_int_equal(rename(path, rot), 0);
	cur = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	assert_true(cur >= 0);
	/* the next rotation compresses and removes the old rotated file */
	assert_int_equal(unlink(rot), 0);
	ew_logwatch_read(w, 300);
	/* the container exits at 400; containerd has not written its last line nor closed */
	ew_logwatch_read(w, 410);
	assert_int_equal(ew_logwatch_closed(w, 1, 400), 0);
	/* The watch followed the path: containerd's close of the new file is the one that counts. */
	assert_int_equal(write(cur, "last\n", 5), 5);
	close(cur);
	ew_logwatch_read(w, 450);
	assert_int_equal(ew_logwatch_closed(w, 1, 400), 1);
	unlink(path);
	ew_logwatch_read(w, 500); /* the current file deleted too: still closed */
	assert_int_equal(ew_logwatch_closed(w, 1, 400), 1);
	ew_logwatch_forget(w, 1);
	assert_int_equal(ew_logwatch_count(w), 0);
	ew_logwatch_free(w);
}

/*
 * The rename seen before the runtime reopens the path: the writer's close of the rotated file
 * is the reopen's, not the last one, when a new file has taken the path; with no new file, the
 * writer is done (the container died before the reopen).
 */
static void test_rotation_before_reopen(void **state)
{
	char path[] = "/tmp/ew-test-logreopen-XXXXXX", rot[64];
	struct ew_logwatch *w = ew_logwatch_new();
	int fd = mkstemp(path), cur;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ew_logwatch_add(w, 1, path, 0, 100), 0);
	snprintf(rot, sizeof(rot), "%s.20240501-120000", path);
	assert_int_equal(rename(path, rot), 0);
	ew_logwatch_read(w, 200); /* moved, and nothing at the path yet */
	assert_int_equal(ew_logwatch_closed(w, 1, 150), 0);
	cur = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	assert_true(cur >= 0);
	close(fd); /* the reopen closes the rotated file */
	ew_logwatch_read(w, 300);
	assert_int_equal(ew_logwatch_closed(w, 1, 250), 0);
	close(cur);
	ew_logwatch_read(w, 350);
	assert_int_equal(ew_logwatch_closed(w, 1, 250), 1);

	/* Rotated again, and the writer closes with no new file at the path: its last close. */
	assert_int_equal(unlink(rot), 0);
	cur = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(cur >= 0);
	assert_int_equal(rename(path, rot), 0);
	ew_logwatch_read(w, 400);
	close(cur);
	ew_logwatch_read(w, 500);
	assert_int_equal(ew_logwatch_closed(w, 1, 450), 1);
	ew_logwatch_forget(w, 1);
	assert_int_equal(unlink(rot), 0);
	ew_logwatch_free(w);
}

/*
 * Two containers writing one file (Docker's restarts) can hold two watches of one path when
 * the second came after a rotation the first had not seen yet: following the path, the first
 * joins the second's, and each container's forget still removes exactly one use.
 */
static void test_rotation_joins_watch(void **state)
{
	char path[] = "/tmp/ew-test-logjoin-XXXXXX", rot[64];
	struct ew_logwatch *w = ew_logwatch_new();
	int fd = mkstemp(path), tag;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ew_logwatch_add(w, 1, path, 7, 100), 0);
	snprintf(rot, sizeof(rot), "%s.1", path);
	assert_int_equal(rename(path, rot), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ew_logwatch_add(w, 2, path, 7, 150), 0); /* before the move is read */
	ew_logwatch_read(w, 200);
	assert_int_equal(ew_logwatch_closed(w, 1, 180), 0);
	assert_int_equal(ew_logwatch_closed(w, 2, 180), 0);
	close(fd);
	ew_logwatch_read(w, 300);
	assert_int_equal(ew_logwatch_closed(w, 1, 250), 1);
	assert_int_equal(ew_logwatch_closed(w, 2, 250), 1);
	assert_string_equal(ew_logwatch_path(w, 1, &tag), path);
	assert_int_equal(tag, 7);
	ew_logwatch_forget(w, 1);
	append(path, "more");
	ew_logwatch_read(w, 400);
	assert_int_equal(ew_logwatch_closed(w, 2, 350), 1);
	ew_logwatch_forget(w, 2);
	assert_int_equal(ew_logwatch_count(w), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(unlink(rot), 0);
	ew_logwatch_free(w);
}

/*
 * Docker's json-file rotation (max-size, max-file): <log> is renamed <log>.1 and a new <log> is
 * written; at the next rotation <log>.1 is renamed over or deleted. The container's exit after
 * that must wait for the close of the file the writer writes now, <log>: the watch follows
 * inodes, not the path.
 */
static void test_docker_rotation(void **state)
{
	char path[] = "/tmp/ew-test-logrot-XXXXXX", rot[64], rot2[64];
	struct ew_logwatch *w = ew_logwatch_new();
	int fd = mkstemp(path), cur;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	snprintf(rot, sizeof(rot), "%s.1", path);
	snprintf(rot2, sizeof(rot2), "%s.2", path);
	assert_int_equal(ew_logwatch_add(w, 1, path, 0, 100), 0);

	/* Rotation 1 at 200: the writer closes the old file after the rename, opens a new one. */
	assert_int_equal(rename(path, rot), 0);
	append(rot, "before rotation");
	cur = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	assert_true(cur >= 0);
	/* max-file=2: the next rotation renames <log> over <log>.1 (the watched inode goes). */
	assert_int_equal(rename(path, rot2), 0);
	assert_int_equal(rename(rot2, rot), 0);
	close(cur);
	cur = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	assert_true(cur >= 0);
	assert_int_equal(write(cur, "x", 1), 1);
	ew_logwatch_read(w, 250);

	/* The main process exits at 300; the writer still has <log> open: not closed yet. */
	assert_int_equal(ew_logwatch_closed(w, 1, 300), 0);
	close(cur);
	ew_logwatch_read(w, 330);
	assert_int_equal(ew_logwatch_closed(w, 1, 300), 1);

	ew_logwatch_forget(w, 1);
	unlink(path);
	unlink(rot);
	ew_logwatch_free(w);
}

/* The kernel's limit on the events an inotify instance queues (read at ew_logwatch_new()). */
static long max_queued_events(void)
{
	FILE *f = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/*
 * More closes than fs.inotify.max_queued_events before the agent reads: the kernel drops the
 * rest and queues IN_Q_OVERFLOW, and a rotation among the lost events leaves the watch on the
 * rotated file, whose writer is done with it: every exit of the container waited its full
 * 90 ms for a close the watch could not see, until the next rotation. The overflow is counted,
 * and every watch is checked against its path again.
 */
static void test_queue_overflow(void **state)
{
	char dir[] = "/tmp/ew-test-logovf-XXXXXX", path[64], rot[64], b[64], c[64];
	struct ew_logwatch *w = ew_logwatch_new();
	long max = max_queued_events();
	int fd;

	(void)state;
	if (max <= 0 || max > (1L << 20))
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/0.log", dir);
	snprintf(rot, sizeof(rot), "%s/0.log.1", dir);
	snprintf(b, sizeof(b), "%s/b.log", dir);
	snprintf(c, sizeof(c), "%s/c.log", dir);
	for (const char *const *f = (const char *const[]){path, b, c, NULL}; *f; f++) {
		fd = open(*f, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		close(fd);
	}
	assert_int_equal(ew_logwatch_add(w, 1, path, 0, 100), 0);
	assert_int_equal(ew_logwatch_add(w, 2, b, 0, 100), 0);
	assert_int_equal(ew_logwatch_add(w, 3, c, 0, 100), 0);
	assert_int_equal(ew_logwatch_overflows(w), 0);
	/* Alternating files: the kernel merges an event only with the same one queued last. */
	for (long i = 0; i <= max; i++)
		append(i % 2 ? b : c, "x");
	/* A rotation of container 1's log while the queue is full: its IN_MOVE_SELF is lost. */
	assert_int_equal(rename(path, rot), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	ew_logwatch_read(w, 200);
	assert_int_equal(ew_logwatch_overflows(w), 1);
	/* Container 1 exits at 300; its writer closes the file at the path. */
	assert_int_equal(write(fd, "last", 4), 4);
	close(fd);
	ew_logwatch_read(w, 350);
	assert_int_equal(ew_logwatch_closed(w, 1, 300), 1);
	/* The other watches still work, and a read with no overflow counts none. */
	append(b, "y");
	ew_logwatch_read(w, 450);
	assert_int_equal(ew_logwatch_closed(w, 2, 400), 1);
	assert_int_equal(ew_logwatch_closed(w, 3, 400), 0);
	assert_int_equal(ew_logwatch_overflows(w), 1);
	for (uint64_t id = 1; id <= 3; id++)
		ew_logwatch_forget(w, id);
	assert_int_equal(ew_logwatch_count(w), 0);
	ew_logwatch_free(w);
	for (const char *const *f = (const char *const[]){path, rot, b, c, NULL}; *f; f++)
		assert_int_equal(unlink(*f), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_after_write),
		cmocka_unit_test(test_kubelet_rotation),
		cmocka_unit_test(test_rotation_before_reopen),
		cmocka_unit_test(test_rotation_joins_watch),
		cmocka_unit_test(test_docker_rotation),
		cmocka_unit_test(test_queue_overflow),
	};

	return cmocka_run_group_tests_name("log_watch", tests, NULL, NULL);
}
