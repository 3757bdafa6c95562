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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_after_write),
	};

	return cmocka_run_group_tests_name("log_watch", tests, NULL, NULL);
}
