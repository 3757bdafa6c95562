// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests for src/output/file_sink.c that need root or a socket: a write error in the middle of a
 * batch, on a full tmpfs mounted by the test, and a rotation that cannot create the new file, on
 * a tmpfs out of inodes (under CI=true, not being root is a failure); and the batching of the
 * stdout and file sinks, seen through a SOCK_SEQPACKET socket as stdout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statvfs.h>

#include "output_fixture.h"

/*
 * A write error in the middle of a batch: a file on a 64 KiB tmpfs, half of it taken by another
 * file. Lines written whole are delivered, the rest dropped; the part of a line that fitted is
 * cut off the file; the sink's idea of its file's size stays right (the next rotation comes at
 * the limit, not after it). Needs root to mount; skipped otherwise, except under CI=true.
 */
static void test_file_write_error_mid_batch(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	char filler[256], path[256], name[300], spec[300], *buf;
	struct ew_sink_status st;
	struct ew_outputs *o;
	struct capture cap;
	struct statvfs vfs;
	uint32_t k, rot;
	size_t space;
	int fd;

	mount_tmpfs(f, "small", "size=64k,mode=0700");
	snprintf(filler, sizeof(filler), "%s/filler", f->mnt);
	snprintf(path, sizeof(path), "%s/out.log", f->mnt);
	snprintf(spec, sizeof(spec), "file:%s", path);
	buf = malloc(32768);
	assert_non_null(buf);
	memset(buf, 'x', 32768);
	fd = open(filler, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, 32768), 32768);
	close(fd);
	free(buf);
	assert_int_equal(statvfs(f->mnt, &vfs), 0);
	space = (size_t)vfs.f_bavail * vfs.f_frsize;
	/* Room for k whole lines of 1000 bytes and part of the next one. */
	k = (uint32_t)(space / 1000);
	assert_true(k > 0 && k < 50 && space % 1000 != 0);

	opts.file_max_bytes = 52000;
	opts.file_keep = 1;
	o = outputs_with(&opts, spec);
	capture_begin(&cap, f);
	write_range(o, 0, 50, len_fixed1000);
	assert_int_equal(size_of(path), 0);
	assert_int_equal(status_of(o, 0).queued, 50);
	tick(o);
	st = status_of(o, 0);
	assert_int_equal(st.delivered, k);
	assert_int_equal(st.dropped, 50 - k);
	assert_int_equal(st.queued, 0);
	assert_false(st.connected);
	expect_lines(path, 0, k, len_fixed1000);
	/* Still full: the next batch is cut and dropped whole, warned about once. */
	write_turn(o, 50, 55, len_fixed1000);
	assert_int_equal(status_of(o, 0).dropped, 50 - k + 5);
	assert_int_equal(status_of(o, 0).delivered, k);
	expect_lines(path, 0, k, len_fixed1000);
	assert_int_equal(capture_end(&cap, "No space left on device; dropping lines"), 1);

	/* Room again: the next line starts a line of its own. */
	assert_int_equal(unlink(filler), 0);
	write_turn(o, 55, 60, len_fixed1000);
	st = status_of(o, 0);
	assert_true(st.connected);
	assert_int_equal(st.delivered, k + 5);
	{
		const uint32_t ranges[2][2] = {{0, k}, {55, 60}};

		expect_file(path, ranges, 2, len_fixed1000);
	}
	/* 52 lines fit under the limit: the line after them is the first of a new file. */
	rot = 60 + (52 - (k + 5));
	write_turn(o, 60, rot + 5, len_fixed1000);
	snprintf(name, sizeof(name), "%s.1", path);
	{
		const uint32_t ranges[3][2] = {{0, k}, {55, 60}, {60, rot}};

		expect_file(name, ranges, 3, len_fixed1000);
	}
	assert_int_equal(size_of(name), 52000);
	expect_lines(path, rot, rot + 5, len_fixed1000);
	st = status_of(o, 0);
	assert_int_equal(st.delivered, k + 5 + (rot + 5 - 60));
	assert_int_equal(st.dropped, 50 - k + 5);
	ew_outputs_free(o);
	assert_int_equal(umount2(f->mnt, 0), 0);
	f->mnt[0] = '\0';
}

/*
 * A rotation that renames PATH to PATH.1 but cannot create PATH anew: a tmpfs out of inodes
 * (renames need none, a new file does). One warning says what happened, that PATH.1 holds the
 * file and PATH could not be created, and nothing about "appending beyond the limit", which is
 * not what happens: lines are dropped and counted until PATH can be created, which is tried
 * again at every line. Once an inode is free, the next line creates PATH, and the next rotation
 * is an ordinary one. Needs root to mount; skipped otherwise, except under CI=true.
 */
static void test_file_rotated_but_not_created(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	char path[256], name[300], spec[300], filler[300], msg[1024];
	struct ew_sink_status st;
	struct ew_outputs *o;
	struct capture cap;
	uint32_t nfill = 0;
	int fd;

	mount_tmpfs(f, "few-inodes", "size=1m,nr_inodes=8,mode=0700");
	snprintf(path, sizeof(path), "%s/out.log", f->mnt);
	snprintf(spec, sizeof(spec), "file:%s", path);
	opts.file_max_bytes = 1000;
	opts.file_keep = 2;
	o = outputs_with(&opts, spec);
	/* Every inode left taken. */
	for (;;) {
		assert_true(nfill < 64);
		snprintf(filler, sizeof(filler), "%s/filler%u", f->mnt, nfill);
		fd = open(filler, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0)
			break;
		close(fd);
		nfill++;
	}
	assert_int_equal(errno, ENOSPC);
	assert_true(nfill >= 2);

	capture_begin(&cap, f);
	write_turn(o, 0, 15, len_fixed100);
	snprintf(msg, sizeof(msg),
		 "output '%s': rotated to %s.1 but cannot create %s: %s; dropping lines until it "
		 "can be created (tried again at every line)",
		 spec, path, path, strerror(ENOSPC));
	{
		/* capture_end() counts one needle: the other two are checked on a copy. */
		size_t len;
		char *data = slurp(cap.path, &len);

		assert_non_null(data);
		data = realloc(data, len + 1);
		data[len] = '\0';
		if (strstr(data, "appending beyond the limit") || strstr(data, "cannot rotate"))
			fail_msg("a warning that the file was not rotated: %s", data);
		free(data);
	}
	assert_int_equal(capture_end(&cap, msg), 1);
	snprintf(name, sizeof(name), "%s.1", path);
	expect_lines(name, 0, 10, len_fixed100);
	assert_int_equal(size_of(path), -1);
	st = status_of(o, 0);
	assert_int_equal(st.delivered, 10);
	assert_int_equal(st.dropped, 5);
	assert_false(st.connected);

	/* An inode free again: the next line creates PATH. */
	snprintf(filler, sizeof(filler), "%s/filler0", f->mnt);
	assert_int_equal(unlink(filler), 0);
	write_turn(o, 15, 20, len_fixed100);
	expect_lines(path, 15, 20, len_fixed100);
	st = status_of(o, 0);
	assert_true(st.connected);
	assert_int_equal(st.delivered, 15);
	assert_int_equal(st.dropped, 5);

	/* With an inode for its new PATH, the next rotation is an ordinary one, without a word. */
	snprintf(filler, sizeof(filler), "%s/filler1", f->mnt);
	assert_int_equal(unlink(filler), 0);
	capture_begin(&cap, f);
	write_turn(o, 20, 27, len_fixed100);
	assert_int_equal(capture_end(&cap, "warning"), 0);
	snprintf(name, sizeof(name), "%s.2", path);
	expect_lines(name, 0, 10, len_fixed100);
	snprintf(name, sizeof(name), "%s.1", path);
	expect_lines(name, 15, 25, len_fixed100);
	expect_lines(path, 25, 27, len_fixed100);
	ew_outputs_free(o);
	assert_int_equal(umount2(f->mnt, 0), 0);
	f->mnt[0] = '\0';
}

/* ---- batching -------------------------------------------------------------------------- */

/*
 * stdout is a SOCK_SEQPACKET socket here: each write() is one message, so the messages show
 * how the sink wrote (a file sink in the same outputs shows the same on disk). Lines of a turn
 * wait for the tick, except when a batch reaches EW_SINK_BATCH_BYTES: the line that fills it
 * writes it, at once.
 */
static const struct batch_case {
	const char *what;
	uint32_t lines;	    /* written in one loop turn */
	size_t len;	    /* bytes per line */
	uint32_t per_batch; /* lines that fill a batch; 0: these never do */
} batch_cases[] = {
	{"a few lines wait for the tick", 10, 100, 0},
	{"just under a batch waits too", 655, 100, 0},
	{"the line that fills a batch writes it", 656, 100, 656},
	{"full batches at once, the rest at the tick", 1500, 100, 656},
	{"a line longer than a batch goes alone", 3, 70000, 1},
};

#define BIG_LINE_LEN 70000

/* The next message on fd is lines from..to-1 (len bytes each), whole. */
static void expect_message(int fd, uint32_t from, uint32_t to, size_t len, const char *what)
{
	size_t want = (to - from) * len, cap = 2 * EW_SINK_BATCH_BYTES;
	char *msg = malloc(cap), *exp = malloc(BIG_LINE_LEN);
	ssize_t n;

	assert_true(msg && exp && want < cap);
	n = recv(fd, msg, cap, MSG_DONTWAIT | MSG_TRUNC);
	if (n != (ssize_t)want)
		fail_msg("%s: a write() of %zd bytes, want lines %u..%u (%zu bytes)", what, n, from,
			 to - 1, want);
	for (uint32_t seq = from; seq < to; seq++) {
		ew_t_line(exp, seq, len);
		if (memcmp(msg + (seq - from) * len, exp, len) != 0)
			fail_msg("%s: line %u differs", what, seq);
	}
	free(msg);
	free(exp);
}

static void expect_no_message(int fd, const char *what)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT | MSG_TRUNC);

	if (n >= 0 || errno != EAGAIN)
		fail_msg("%s: an unexpected write() of %zd bytes", what, n);
}

static void test_batching(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	char *line = malloc(BIG_LINE_LEN);

	assert_non_null(line);
	assert_int_equal(EW_SINK_BATCH_BYTES, 64 * 1024);
	opts.file_max_bytes = 0;
	for (size_t i = 0; i < ARRAY_SIZE(batch_cases); i++) {
		const struct batch_case *tc = &batch_cases[i];
		char spec[256];
		struct ew_outputs *o;
		uint32_t written = 0;
		int sp[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
		snprintf(f->path, sizeof(f->path), "%s/batch%zu.log", f->dir, i);
		snprintf(spec, sizeof(spec), "file:%s", f->path);
		o = outputs_with(&opts, "stdout");
		assert_int_equal(ew_outputs_add(o, spec, NULL, 0), 0);
		stdout_to(f, sp[0]);
		for (uint32_t seq = 0; seq < tc->lines; seq++) {
			ew_t_line(line, seq, tc->len);
			put_line(o, line, tc->len, ew_clock_mono_ns());
			if (tc->per_batch && (seq + 1) % tc->per_batch == 0) {
				expect_message(sp[1], written, seq + 1, tc->len, tc->what);
				written = seq + 1;
			}
			expect_no_message(sp[1], tc->what);
			assert_int_equal(size_of(f->path), (off_t)(written * tc->len));
			for (uint32_t s = 0; s < 2; s++) {
				struct ew_sink_status st = status_of(o, s);

				if (st.queued != seq + 1 - written || st.delivered != written)
					fail_msg("%s: line %u: sink %u: queued %" PRIu64
						 ", delivered %" PRIu64,
						 tc->what, seq, s, st.queued, st.delivered);
			}
		}
		/* The tick: what is left, in one write(). */
		tick(o);
		if (written < tc->lines)
			expect_message(sp[1], written, tc->lines, tc->len, tc->what);
		expect_no_message(sp[1], tc->what);
		assert_int_equal(size_of(f->path), (off_t)(tc->lines * tc->len));
		for (uint32_t s = 0; s < 2; s++) {
			struct ew_sink_status st = status_of(o, s);

			assert_int_equal(st.queued, 0);
			assert_int_equal(st.delivered, tc->lines);
			assert_int_equal(st.dropped, 0);
			assert_true(st.connected);
		}
		/* A turn without lines writes nothing (an empty write() would be a message). */
		tick(o);
		expect_no_message(sp[1], tc->what);
		ew_outputs_free(o);
		expect_no_message(sp[1], tc->what);
		stdout_restore(f);
		{
			char *data;
			size_t len;

			data = slurp(f->path, &len);
			assert_int_equal(len, tc->lines * tc->len);
			for (uint32_t seq = 0; seq < tc->lines; seq++) {
				ew_t_line(line, seq, tc->len);
				assert_memory_equal(data + seq * tc->len, line, tc->len);
			}
			free(data);
		}
		close(sp[0]);
		close(sp[1]);
	}
	free(line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_write_error_mid_batch, fixture_setup,
						mount_teardown),
		cmocka_unit_test_setup_teardown(test_file_rotated_but_not_created, fixture_setup,
						mount_teardown),
		cmocka_unit_test_setup_teardown(test_batching, fixture_setup, fixture_teardown),
	};

	/* As the agent does: a closed reader is an EPIPE to count, not a death. */
	signal(SIGPIPE, SIG_IGN);
	umask(022);
	/* Expected warnings would bury a failure; tests that check them turn them on. */
	ew_log_init(EW_LOG_ERROR);
	return cmocka_run_group_tests_name("file_sink (integration)", tests, NULL, NULL);
}
