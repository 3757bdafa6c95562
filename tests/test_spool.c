// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests for src/output/spool.c, the on-disk queue of a stream output: torn lines, the bound on
 * unread bytes, compaction, framing. A real file in a mkdtemp() directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/uio.h>

#include "output/spool_int.h"
#include "output_fixture.h"

static void test_spool_file(void **state)
{
	struct fixture *f = *state;
	struct ew_spool *s, *s2;
	char path[256], buf[EW_T_MAX_LINE_LEN], *big;
	const char *line;
	struct stat st;
	size_t len;
	FILE *fp;

	/* A torn last line (crash mid-append) is cut off; whole lines survive. */
	assert_int_equal(mkdir(f->spool, 0700), 0);
	snprintf(path, sizeof(path), "%s/t.spool", f->spool);
	fp = fopen(path, "w");
	fputs("{\"a\":1}\n{\"b\":2}\n{\"c\":", fp);
	fclose(fp);
	assert_int_equal(ew_spool_open(f->spool, "t.spool", 1 << 20, &s), 0);
	assert_int_equal(ew_spool_lines(s), 2);
	assert_int_equal(ew_spool_bytes(s), 16);
	assert_int_equal(ew_spool_open(f->spool, "t.spool", 1 << 20, &s2), -EBUSY);
	assert_int_equal(ew_spool_peek(s, &line, &len), 1);
	assert_int_equal(len, 8);
	assert_memory_equal(line, "{\"a\":1}\n", 8);
	ew_spool_pop(s);
	/* Closing with a consumed head keeps only the unread lines, front lines first. */
	struct iovec front[] = {{.iov_base = "{\"q\":0}\n", .iov_len = 8}};
	assert_int_equal(ew_spool_close(s, front, 1), 0);
	assert_int_equal(ew_spool_open(f->spool, "t.spool", 8 << 20, &s), 0);
	assert_int_equal(ew_spool_lines(s), 2);
	assert_int_equal(ew_spool_peek(s, &line, &len), 1);
	assert_memory_equal(line, "{\"q\":0}\n", 8);
	ew_spool_pop(s);
	assert_int_equal(ew_spool_peek(s, &line, &len), 1);
	assert_memory_equal(line, "{\"b\":2}\n", 8);
	ew_spool_pop(s);
	assert_int_equal(ew_spool_peek(s, &line, &len), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);

	/* Bound on unread bytes; the consumed head is compacted away; long lines are fine. */
	for (uint32_t i = 0; i < 3000; i++) {
		len = ew_t_line(buf, i, i == 1234 ? EW_T_MAX_LINE_LEN : 1000);
		assert_int_equal(ew_spool_append(s, buf, len), 0);
	}
	big = malloc(6 << 20);
	assert_non_null(big);
	memset(big, 'x', 6 << 20);
	big[(6 << 20) - 1] = '\n';
	assert_int_equal(ew_spool_append(s, big, 6 << 20), -ENOBUFS);
	free(big);
	/* Framing: one '\n', at the end. */
	assert_int_equal(ew_spool_append(s, "{}", 2), -EINVAL);
	assert_int_equal(ew_spool_append(s, "{}\n{}\n", 6), -EINVAL);
	assert_int_equal(ew_spool_append(s, "", 0), -EINVAL);
	for (uint32_t i = 0; i < 2000; i++) {
		char exp[EW_T_MAX_LINE_LEN];
		size_t n = ew_t_line(exp, i, i == 1234 ? EW_T_MAX_LINE_LEN : 1000);

		assert_int_equal(ew_spool_peek(s, &line, &len), 1);
		assert_int_equal(len, n);
		assert_memory_equal(line, exp, n);
		ew_spool_pop(s);
	}
	assert_int_equal(ew_spool_lines(s), 1000);
	assert_int_equal(ew_spool_bytes(s), 1000 * 1000);
	assert_int_equal(stat(path, &st), 0);
	assert_true((uint64_t)st.st_size < 2 * 1000 * 1000);
	assert_int_equal(ew_spool_peek(s, &line, &len), 1);
	ew_t_line(buf, 2000, 1000);
	assert_memory_equal(line, buf, 1000);
	assert_int_equal(ew_spool_close(s, NULL, 0), 0);
	assert_int_equal(ew_spool_close(NULL, NULL, 0), 0);
}

/*
 * The bound on unread bytes is -ENOBUFS, exactly at max_bytes, and room comes back as lines are
 * consumed; a write that fails is the write's -errno, never -ENOBUFS (the stream says "the spool
 * reached agent.spool_max_bytes" for the one, "cannot write the spool" for the other). The write
 * error comes from RLIMIT_FSIZE (EFBIG), the one way to fail a regular file's write without
 * root; a full disk (ENOSPC) is in tests/integration/test_stream.c. A line cut by it is cut off
 * the file again.
 */
static void test_spool_limit_and_write_error(void **state)
{
	struct fixture *f = *state;
	struct rlimit saved, lim;
	char path[256], buf[EW_T_MAX_LINE_LEN];
	const char *line;
	struct ew_spool *s;
	void (*saved_sig)(int);
	size_t len;
	uint32_t i;

	assert_int_equal(ew_spool_open(f->spool, "l.spool", 1000, &s), 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(ew_spool_append(s, buf, ew_t_line(buf, i, 100)), 0);
	assert_int_equal(ew_spool_append(s, buf, ew_t_line(buf, 10, 100)), -ENOBUFS);
	assert_int_equal(ew_spool_append(s, buf, ew_t_line(buf, 10, 40)), -ENOBUFS);
	assert_int_equal(ew_spool_bytes(s), 1000);
	assert_int_equal(ew_spool_peek(s, &line, &len), 1);
	ew_spool_pop(s);
	assert_int_equal(ew_spool_append(s, buf, ew_t_line(buf, 10, 100)), 0);
	assert_int_equal(ew_spool_append(s, buf, ew_t_line(buf, 11, 40)), -ENOBUFS);
	assert_int_equal(ew_spool_close(s, NULL, 0), 0);

	/* The file may not grow past 250 bytes: two lines of 100, then one cut at 50. */
	snprintf(path, sizeof(path), "%s/w.spool", f->spool);
	assert_int_equal(ew_spool_open(f->spool, "w.spool", 1 << 20, &s), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
	lim = saved;
	lim.rlim_cur = 250;
	saved_sig = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(ew_spool_append(s, buf, ew_t_line(buf, 0, 100)), 0);
	assert_int_equal(ew_spool_append(s, buf, ew_t_line(buf, 1, 100)), 0);
	assert_int_equal(ew_spool_append(s, buf, ew_t_line(buf, 2, 100)), -EFBIG);
	assert_int_equal(ew_spool_append(s, buf, ew_t_line(buf, 2, 100)), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
	signal(SIGXFSZ, saved_sig);
	assert_int_equal(size_of(path), 200);
	assert_int_equal(ew_spool_lines(s), 2);
	assert_int_equal(ew_spool_bytes(s), 200);
	/* Room again: the next line follows the last whole one. */
	assert_int_equal(ew_spool_append(s, buf, ew_t_line(buf, 2, 100)), 0);
	for (i = 0; i < 3; i++) {
		char exp[EW_T_MAX_LINE_LEN];

		assert_int_equal(ew_spool_peek(s, &line, &len), 1);
		assert_int_equal(len, ew_t_line(exp, i, 100));
		assert_memory_equal(line, exp, len);
		ew_spool_pop(s);
	}
	assert_int_equal(ew_spool_close(s, NULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spool_file, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_spool_limit_and_write_error, fixture_setup,
						fixture_teardown),
	};

	/* As the agent does: a closed reader is an EPIPE to count, not a death. */
	signal(SIGPIPE, SIG_IGN);
	umask(022);
	/* Expected warnings would bury a failure; tests that check them turn them on. */
	ew_log_init(EW_LOG_ERROR);
	return cmocka_run_group_tests_name("spool", tests, NULL, NULL);
}
