// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Tests for src/output/file_sink.c, the stdout and file: sinks: rotation by size, reopening after
 * logrotate, files moved or deleted before the SIGHUP, write errors, a reader gone away. Real
 * files in a mkdtemp() directory. A write error in the middle of a batch (a full tmpfs) and the
 * batching seen through a socket are in tests/integration/test_file_sink.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>

#include "output_fixture.h"

/* ---- files ----------------------------------------------------------------------------- */

static void test_file_rotation_under_load(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	const uint32_t total = 20000, keep = 200;
	char spec[256], name[256];
	struct ew_sink_status sst;
	struct ew_outputs *o;
	struct stat st;
	uint32_t seq = 0, nfiles = 0, full_batches = 0;

	opts.file_max_bytes = 64 * 1024;
	opts.file_keep = keep;
	snprintf(spec, sizeof(spec), "file:%s/load.log", f->dir);
	o = outputs_with(&opts, spec);
	/*
	 * As in the agent: a burst of records per loop turn, then the tick. Bursts of 1 to 500
	 * lines: batches written at the tick, batches full before it, and rotations inside both.
	 */
	for (uint32_t turn = 0; seq < total; turn++) {
		uint32_t n = 1 + (turn * 7919u) % 500;

		if (n > total - seq)
			n = total - seq;
		write_range(o, seq, seq + n, len_varying);
		sst = status_of(o, 0);
		assert_int_equal(sst.delivered + sst.queued, seq + n);
		full_batches += bytes_of_range(seq, seq + n, len_varying) >= EW_SINK_BATCH_BYTES;
		tick(o);
		seq += n;
		sst = status_of(o, 0);
		assert_int_equal(sst.queued, 0);
		assert_int_equal(sst.delivered, seq);
	}
	assert_true(full_batches > 10);
	assert_int_equal(status_of(o, 0).delivered, total);
	assert_int_equal(status_of(o, 0).dropped, 0);
	assert_true(status_of(o, 0).connected);
	ew_outputs_free(o);

	/* The oldest rotated file has the highest number. */
	for (uint32_t i = keep; i >= 1; i--) {
		snprintf(name, sizeof(name), "%s/load.log.%u", f->dir, i);
		if (stat(name, &st) == 0 && !nfiles)
			nfiles = i;
	}
	assert_true(nfiles > 40 && nfiles < keep);
	seq = 0;
	for (uint32_t i = nfiles; i <= nfiles; i--) {
		size_t len;
		char *data;
		uint32_t n;

		if (i)
			snprintf(name, sizeof(name), "%s/load.log.%u", f->dir, i);
		else
			snprintf(name, sizeof(name), "%s/load.log", f->dir);
		assert_int_equal(stat(name, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0640);
		data = slurp(name, &len);
		assert_non_null(data);
		assert_true(len <= opts.file_max_bytes);
		/* Full, unless the next line would not have fitted. */
		if (i)
			assert_true(len + len_varying(seq + count_whole_lines(name, data, len)) >
				    opts.file_max_bytes);
		n = count_whole_lines(name, data, len);
		seq = check_lines(name, data, len, seq, seq + n, len_varying);
		free(data);
	}
	assert_int_equal(seq, total);
}

static void test_file_rotation_keep(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	char spec[256], name[256], big[EW_T_MAX_LINE_LEN];
	struct ew_outputs *o;
	size_t len;
	char *data;

	/* 10 lines of 100 bytes per file; 2 kept: lines 0..29 leave .2 = 10..19, .1 = 20..29. */
	opts.file_max_bytes = 1000;
	opts.file_keep = 2;
	snprintf(spec, sizeof(spec), "file:%s/k.log", f->dir);
	o = outputs_with(&opts, spec);
	write_range(o, 0, 40, len_fixed100);
	snprintf(name, sizeof(name), "%s/k.log.3", f->dir);
	assert_int_equal(access(name, F_OK), -1);
	/* A rotation writes the batch to the file it moves away first: .2 and .1 are whole already,
	 * the lines of the new file wait for the tick. */
	for (uint32_t i = 2; i >= 1; i--) {
		snprintf(name, sizeof(name), "%s/k.log.%u", f->dir, i);
		expect_lines(name, 30 - 10 * i, 40 - 10 * i, len_fixed100);
	}
	snprintf(name, sizeof(name), "%s/k.log", f->dir);
	assert_int_equal(size_of(name), 0);
	assert_int_equal(status_of(o, 0).queued, 10);
	assert_int_equal(status_of(o, 0).delivered, 30);
	tick(o);
	expect_lines(name, 30, 40, len_fixed100);
	assert_int_equal(status_of(o, 0).queued, 0);
	assert_int_equal(status_of(o, 0).delivered, 40);
	/* A line longer than the limit gets a file of its own, whole. */
	len = ew_t_line(big, 40, 3000);
	put_line(o, big, len, 0);
	write_seq(o, 41, len_fixed100);
	tick(o);
	snprintf(name, sizeof(name), "%s/k.log.1", f->dir);
	data = slurp(name, &len);
	assert_int_equal(len, 3000);
	assert_memory_equal(data, big, 3000);
	free(data);
	snprintf(name, sizeof(name), "%s/k.log.2", f->dir);
	expect_lines(name, 30, 40, len_fixed100);
	snprintf(name, sizeof(name), "%s/k.log", f->dir);
	expect_lines(name, 41, 42, len_fixed100);
	assert_int_equal(status_of(o, 0).delivered, 42);
	/* The name PATH is rotated through is gone again. */
	snprintf(name, sizeof(name), "%s/k.log.rotating", f->dir);
	assert_int_equal(access(name, F_OK), -1);
	ew_outputs_free(o);

	/* keep = 0: the file starts over. Freeing writes the last batch out. */
	opts.file_keep = 0;
	snprintf(spec, sizeof(spec), "file:%s/z.log", f->dir);
	o = outputs_with(&opts, spec);
	write_range(o, 0, 25, len_fixed100);
	ew_outputs_free(o);
	snprintf(name, sizeof(name), "%s/z.log", f->dir);
	expect_lines(name, 20, 25, len_fixed100);
	snprintf(name, sizeof(name), "%s/z.log.1", f->dir);
	assert_int_equal(access(name, F_OK), -1);
}

static void test_file_reopen(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	char spec[512], path[256], moved[256];
	struct ew_outputs *o;
	size_t len;
	char *data;

	snprintf(path, sizeof(path), "%s/app.log", f->dir);
	snprintf(moved, sizeof(moved), "%s/app.log-20260101", f->dir);
	snprintf(spec, sizeof(spec), "file:%s", path);
	/* Appends to what is there. */
	data = "{\"seq\":0,\"old\":true}\n";
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(data, fp);
	fclose(fp);
	o = outputs_with(&opts, spec);
	write_turn(o, 1, 10, len_varying);
	/*
	 * logrotate's default: rename, then SIGHUP; lines in between go to the moved file, those of
	 * the turn the SIGHUP arrives in too: the reopen writes the batch to the old file first.
	 */
	assert_int_equal(rename(path, moved), 0);
	write_turn(o, 10, 13, len_varying);
	write_range(o, 13, 15, len_varying);
	assert_int_equal(status_of(o, 0).queued, 2);
	ew_outputs_reopen(o);
	assert_int_equal(status_of(o, 0).queued, 0);
	assert_int_equal(status_of(o, 0).delivered, 14);
	assert_int_equal(size_of(path), 0);
	write_turn(o, 15, 20, len_varying);
	assert_int_equal(status_of(o, 0).delivered, 19);
	assert_int_equal(status_of(o, 0).dropped, 0);

	data = slurp(moved, &len);
	assert_non_null(data);
	assert_memory_equal(data, "{\"seq\":0,\"old\":true}\n", 21);
	check_lines(moved, data + 21, len - 21, 1, 15, len_varying);
	free(data);
	expect_lines(path, 15, 20, len_varying);
	ew_outputs_free(o);
	expect_lines(path, 15, 20, len_varying);
}

/*
 * logrotate moved (or deleted) PATH and the SIGHUP has not come yet when the sink reaches its
 * size limit: PATH is no longer the sink's file, so the sink must not rotate (that renumbered
 * PATH.1..N and then failed to move PATH, on every line, until the oldest files were
 * overwritten) but open PATH anew. 10 lines of 100 bytes per file.
 */
enum move_how {
	MOVE_RENAME,
	MOVE_RENAME_CREATE, /* logrotate's "create": a new empty PATH */
	MOVE_DELETE,
};

static const struct moved_case {
	const char *what;
	enum move_how how;
	uint32_t keep;
} moved_cases[] = {
	{"renamed", MOVE_RENAME, 3},
	{"renamed, then created again", MOVE_RENAME_CREATE, 3},
	{"deleted", MOVE_DELETE, 3},
	{"renamed, nothing kept", MOVE_RENAME, 0},
};

static void test_file_moved_before_hup(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);

	opts.file_max_bytes = 1000;
	for (size_t i = 0; i < ARRAY_SIZE(moved_cases); i++) {
		const struct moved_case *tc = &moved_cases[i];
		char dir[128], path[192], moved[192], name[256], spec[256];
		struct ew_sink_status st;
		struct ew_outputs *o;
		struct capture cap;
		int fd;

		snprintf(dir, sizeof(dir), "%s/moved%zu", f->dir, i);
		snprintf(path, sizeof(path), "%s/m.log", dir);
		snprintf(moved, sizeof(moved), "%s/m.log-moved", dir);
		snprintf(spec, sizeof(spec), "file:%s", path);
		assert_int_equal(mkdir(dir, 0700), 0);
		opts.file_keep = tc->keep;
		o = outputs_with(&opts, spec);
		capture_begin(&cap, f);
		/* keep 3: .2 = 0..9, .1 = 10..19, PATH = 20..24. */
		for (uint32_t seq = 0; seq < 25; seq += 5)
			write_turn(o, seq, seq + 5, len_fixed100);
		if (tc->how == MOVE_DELETE)
			assert_int_equal(unlink(path), 0);
		else
			assert_int_equal(rename(path, moved), 0);
		if (tc->how == MOVE_RENAME_CREATE) {
			fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0640);
			assert_true(fd >= 0);
			close(fd);
		}
		/* No SIGHUP: 25..29 go to the moved file; 30 reaches the limit and opens PATH. */
		for (uint32_t seq = 25; seq < 40; seq += 5)
			write_turn(o, seq, seq + 5, len_fixed100);
		if (tc->how != MOVE_DELETE)
			expect_lines(moved, 20, 30, len_fixed100);
		expect_lines(path, 30, 40, len_fixed100);
		for (uint32_t n = 1; n <= 3; n++) {
			snprintf(name, sizeof(name), "%s.%u", path, n);
			if (n > tc->keep || n == 3)
				assert_int_equal(size_of(name), -1);
			else
				expect_lines(name, 20 - 10 * n, 30 - 10 * n, len_fixed100);
		}
		/* PATH is the sink's file again: the next limit rotates it as usual. */
		write_turn(o, 40, 45, len_fixed100);
		expect_lines(path, 40, 45, len_fixed100);
		if (tc->keep) {
			snprintf(name, sizeof(name), "%s.1", path);
			expect_lines(name, 30, 40, len_fixed100);
			snprintf(name, sizeof(name), "%s.2", path);
			expect_lines(name, 10, 20, len_fixed100);
			snprintf(name, sizeof(name), "%s.3", path);
			expect_lines(name, 0, 10, len_fixed100);
		} else {
			snprintf(name, sizeof(name), "%s.1", path);
			assert_int_equal(size_of(name), -1);
		}
		if (tc->how != MOVE_DELETE)
			expect_lines(moved, 20, 30, len_fixed100);
		st = status_of(o, 0);
		if (st.delivered != 45 || st.dropped != 0 || st.queued != 0 || !st.connected)
			fail_msg("%s: delivered %" PRIu64 ", dropped %" PRIu64 ", queued %" PRIu64,
				 tc->what, st.delivered, st.dropped, st.queued);
		if (capture_end(&cap, "output '") != 0)
			fail_msg("%s: a warning", tc->what);
		ew_outputs_free(o);
	}
}

/* A rotation that fails leaves the file at PATH and keeps appending to it; the next one works. */
static void test_file_rotate_fails(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	char path[192], name[256], inner[300], spec[256];
	struct ew_outputs *o;
	struct capture cap;
	int fd;

	opts.file_max_bytes = 1000;
	opts.file_keep = 2;
	snprintf(path, sizeof(path), "%s/r.log", f->dir);
	snprintf(spec, sizeof(spec), "file:%s", path);
	/* PATH.2 is a directory with a file in it: PATH.1 cannot be renamed onto it. */
	snprintf(name, sizeof(name), "%s.2", path);
	snprintf(inner, sizeof(inner), "%s/x", name);
	assert_int_equal(mkdir(name, 0700), 0);
	fd = open(inner, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	o = outputs_with(&opts, spec);
	capture_begin(&cap, f);
	for (uint32_t seq = 0; seq < 30; seq += 5)
		write_turn(o, seq, seq + 5, len_fixed100);
	assert_int_equal(capture_end(&cap, "cannot rotate: Is a directory; appending beyond"), 1);
	expect_lines(path, 10, 30, len_fixed100);
	snprintf(name, sizeof(name), "%s.1", path);
	expect_lines(name, 0, 10, len_fixed100);
	snprintf(name, sizeof(name), "%s.rotating", path);
	assert_int_equal(access(name, F_OK), -1);
	assert_int_equal(status_of(o, 0).delivered, 30);
	assert_int_equal(status_of(o, 0).dropped, 0);

	assert_int_equal(unlink(inner), 0);
	snprintf(name, sizeof(name), "%s.2", path);
	assert_int_equal(rmdir(name), 0);
	write_turn(o, 30, 35, len_fixed100);
	expect_lines(path, 30, 35, len_fixed100);
	snprintf(name, sizeof(name), "%s.1", path);
	expect_lines(name, 10, 30, len_fixed100);
	snprintf(name, sizeof(name), "%s.2", path);
	expect_lines(name, 0, 10, len_fixed100);
	assert_int_equal(status_of(o, 0).delivered, 35);
	ew_outputs_free(o);
}

/* PATH cannot be opened again (its directory was moved too): the moved file takes the lines. */
static void test_file_moved_no_reopen(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	char dir[128], old[128], path[192], name[256], spec[256];
	struct ew_sink_status st;
	struct ew_outputs *o;
	struct capture cap;

	opts.file_max_bytes = 1000;
	opts.file_keep = 3;
	snprintf(dir, sizeof(dir), "%s/logs", f->dir);
	snprintf(old, sizeof(old), "%s/logs.old", f->dir);
	snprintf(path, sizeof(path), "%s/m.log", dir);
	snprintf(spec, sizeof(spec), "file:%s", path);
	assert_int_equal(mkdir(dir, 0700), 0);
	o = outputs_with(&opts, spec);
	for (uint32_t seq = 0; seq < 25; seq += 5)
		write_turn(o, seq, seq + 5, len_fixed100);
	assert_int_equal(rename(dir, old), 0);
	/* Appended beyond the limit rather than dropped, warned about once. */
	capture_begin(&cap, f);
	for (uint32_t seq = 25; seq < 40; seq += 5)
		write_turn(o, seq, seq + 5, len_fixed100);
	assert_int_equal(capture_end(&cap, "was moved away and cannot be opened again"), 1);
	snprintf(name, sizeof(name), "%s/m.log", old);
	expect_lines(name, 20, 40, len_fixed100);
	snprintf(name, sizeof(name), "%s/m.log.1", old);
	expect_lines(name, 10, 20, len_fixed100);
	snprintf(name, sizeof(name), "%s/m.log.2", old);
	expect_lines(name, 0, 10, len_fixed100);
	snprintf(name, sizeof(name), "%s/m.log.3", old);
	assert_int_equal(size_of(name), -1);
	/* Back: the next line over the limit opens PATH anew. */
	assert_int_equal(mkdir(dir, 0700), 0);
	write_turn(o, 40, 45, len_fixed100);
	expect_lines(path, 40, 45, len_fixed100);
	snprintf(name, sizeof(name), "%s.1", path);
	assert_int_equal(size_of(name), -1);
	snprintf(name, sizeof(name), "%s/m.log", old);
	expect_lines(name, 20, 40, len_fixed100);
	st = status_of(o, 0);
	assert_int_equal(st.delivered, 45);
	assert_int_equal(st.dropped, 0);
	assert_true(st.connected);
	ew_outputs_free(o);
}

static void test_file_errors(void **state)
{
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	char spec[512], sub[200], subold[200], path[256];
	struct capture cap;
	struct ew_outputs *o;

	/*
	 * A write error with nothing written (ENOSPC) drops the whole batch and counts it, with one
	 * warning for the streak; the device is never rotated away.
	 */
	opts.file_max_bytes = 10;
	o = outputs_with(&opts, "file:/dev/full");
	capture_begin(&cap, f);
	write_range(o, 0, 3, len_varying);
	assert_int_equal(status_of(o, 0).queued, 3);
	assert_int_equal(status_of(o, 0).dropped, 0);
	assert_true(status_of(o, 0).connected);
	tick(o);
	assert_int_equal(status_of(o, 0).dropped, 3);
	write_turn(o, 3, 5, len_varying);
	assert_int_equal(capture_end(&cap, "No space left on device; dropping lines"), 1);
	assert_int_equal(status_of(o, 0).dropped, 5);
	assert_int_equal(status_of(o, 0).delivered, 0);
	assert_int_equal(status_of(o, 0).queued, 0);
	assert_false(status_of(o, 0).connected);
	ew_outputs_free(o);
	assert_int_equal(access("/dev/full.1", F_OK), -1);

	/* Directory gone at reopen: lines are dropped, then written once it is back. */
	opts.file_max_bytes = 0;
	snprintf(sub, sizeof(sub), "%s/logs", f->dir);
	snprintf(subold, sizeof(subold), "%s/logs.old", f->dir);
	snprintf(path, sizeof(path), "%s/x.log", sub);
	snprintf(spec, sizeof(spec), "file:%s", path);
	assert_int_equal(mkdir(sub, 0700), 0);
	o = outputs_with(&opts, spec);
	write_turn(o, 0, 2, len_varying);
	assert_int_equal(rename(sub, subold), 0);
	ew_outputs_reopen(o);
	assert_false(status_of(o, 0).connected);
	/* No file to batch for: each line is dropped at once. */
	write_range(o, 2, 4, len_varying);
	assert_int_equal(status_of(o, 0).dropped, 2);
	assert_int_equal(status_of(o, 0).queued, 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	/* Open again, batched; writing again once the tick has written them. */
	write_range(o, 4, 6, len_varying);
	assert_int_equal(status_of(o, 0).queued, 2);
	assert_false(status_of(o, 0).connected);
	tick(o);
	assert_true(status_of(o, 0).connected);
	assert_int_equal(status_of(o, 0).delivered, 4);
	assert_int_equal(status_of(o, 0).dropped, 2);
	ew_outputs_free(o);
	expect_lines(path, 4, 6, len_varying);
	snprintf(path, sizeof(path), "%s/x.log", subold);
	expect_lines(path, 0, 2, len_varying);
}

/* ---- stdout ---------------------------------------------------------------------------- */

static void test_stdout(void **state)
{
	static const char json[] = "{\"event\":\"container_exit\"}\n";
	static const char text[] = "container_exit web code=3\n";
	struct fixture *f = *state;
	struct ew_output_opts opts = test_opts(f);
	struct ew_outputs *o, *t;
	int fd, pfd[2];
	char path[256];
	size_t len;
	char *data;

	snprintf(path, sizeof(path), "%s/stdout.txt", f->dir);
	o = outputs_with(&opts, "stdout");
	opts.stdout_text = true;
	t = outputs_with(&opts, "-");

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	stdout_to(f, fd);
	assert_int_equal(put_lines(o, json, strlen(json), text, strlen(text), 0), 0);
	assert_int_equal(put_lines(t, json, strlen(json), text, strlen(text), 0), 0);
	/* A text sink asks for text: a record without it is not written, and that is said. */
	assert_int_equal(put_lines(t, json, strlen(json), NULL, 0, 0), -ENODATA);
	assert_int_equal(size_of(path), 0);
	assert_int_equal(status_of(o, 0).queued, 1);
	assert_int_equal(status_of(t, 0).queued, 1);
	tick(o);
	tick(t);

	/* A reader gone away: EPIPE (SIGPIPE is ignored, as the agent does), counted. */
	assert_int_equal(pipe(pfd), 0);
	close(pfd[0]);
	stdout_to(f, pfd[1]);
	close(pfd[1]);
	put_line(o, json, strlen(json), 0);
	tick(o);
	stdout_restore(f);
	close(fd);

	data = slurp(path, &len);
	assert_int_equal(len, strlen(json) + strlen(text));
	assert_memory_equal(data, json, strlen(json));
	assert_memory_equal(data + strlen(json), text, strlen(text));
	free(data);
	assert_int_equal(status_of(o, 0).delivered, 1);
	assert_int_equal(status_of(o, 0).dropped, 1);
	assert_int_equal(status_of(o, 0).queued, 0);
	assert_false(status_of(o, 0).connected);
	assert_int_equal(status_of(t, 0).delivered, 1);
	assert_int_equal(status_of(t, 0).queued, 0);
	assert_true(status_of(t, 0).connected);
	ew_outputs_free(o);
	ew_outputs_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_rotation_under_load, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_file_rotation_keep, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_file_reopen, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_file_moved_before_hup, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_file_moved_no_reopen, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_file_rotate_fails, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_file_errors, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_stdout, fixture_setup, fixture_teardown),
	};

	/* As the agent does: a closed reader is an EPIPE to count, not a death. */
	signal(SIGPIPE, SIG_IGN);
	umask(022);
	/* Expected warnings would bury a failure; tests that check them turn them on. */
	ew_log_init(EW_LOG_ERROR);
	return cmocka_run_group_tests_name("file_sink", tests, NULL, NULL);
}
