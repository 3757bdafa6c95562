/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the tests of the output layer share (src/output/: output.c, file_sink.c, stream.c,
 * spool.c): a mkdtemp() directory per test with its spool, stdout and stderr redirected, lines
 * of chosen bytes handed to the sinks (tests/harness/unit.h generates them), and the checks of
 * what files hold. Used by tests/test_{output,file_sink,spool}.c and
 * tests/integration/test_{file_sink,stream}.c. Include after <cmocka.h>.
 */
#ifndef EW_TESTS_OUTPUT_FIXTURE_H
#define EW_TESTS_OUTPUT_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitwatch/output/output.h"
#include "exitwatch/render/rendered.h"
#include "exitwatch/util/clock.h"
#include "exitwatch/util/log.h"
#include "exitwatch/util/util.h"
#include "harness/unit.h"

struct fixture {
	char dir[64];
	char spool[128];
	char path[192];	  /* scratch */
	char mnt[192];	  /* a tmpfs mounted by the test (tests/integration/test_file_sink.c) */
	int saved_stdout; /* the real stdout while a test redirects it, else -1 */
	int saved_stderr; /* the real stderr while a test captures it, else -1 */
};

static inline int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/ew-test-output-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->spool, sizeof(f->spool), "%s/spool", f->dir);
	f->saved_stdout = -1;
	f->saved_stderr = -1;
	*state = f;
	return 0;
}

/* Points stdout at fd (the sink writes there) until stdout_restore() or the teardown. */
static inline void stdout_to(struct fixture *f, int fd)
{
	fflush(stdout);
	if (f->saved_stdout < 0)
		f->saved_stdout = dup(STDOUT_FILENO);
	assert_true(f->saved_stdout >= 0);
	assert_int_equal(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
}

static inline void stdout_restore(struct fixture *f)
{
	if (f->saved_stdout < 0)
		return;
	dup2(f->saved_stdout, STDOUT_FILENO);
	close(f->saved_stdout);
	f->saved_stdout = -1;
}

/*
 * stderr into a file, warnings on, to count them: one per streak, not one per line. A test that
 * fails meanwhile has its message in the file: the teardown ends the capture and shows it.
 */
struct capture {
	struct fixture *f;
	char path[256];
};

static inline void capture_begin(struct capture *c, struct fixture *f)
{
	int fd;

	c->f = f;
	snprintf(c->path, sizeof(c->path), "%s/stderr.txt", f->dir);
	fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	f->saved_stderr = dup(STDERR_FILENO);
	assert_true(fd >= 0 && f->saved_stderr >= 0);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	close(fd);
	ew_log_init(EW_LOG_WARN);
}

static inline void capture_stop(struct fixture *f)
{
	ew_log_init(EW_LOG_ERROR);
	fflush(stderr);
	dup2(f->saved_stderr, STDERR_FILENO);
	close(f->saved_stderr);
	f->saved_stderr = -1;
}

static inline int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	stdout_restore(f);
	if (f->saved_stderr >= 0) {
		char path[256], buf[4096];
		ssize_t n;
		int fd;

		capture_stop(f);
		snprintf(path, sizeof(path), "%s/stderr.txt", f->dir);
		fd = open(path, O_RDONLY);
		while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
			fwrite(buf, 1, (size_t)n, stderr);
		if (fd >= 0)
			close(fd);
	}
	ew_t_remove_tree(f->dir);
	free(f);
	return 0;
}

/*
 * A tmpfs of those mount options at <dir>/<name>, kept in f->mnt for mount_teardown(): the
 * integration tests' full disks and inode shortages. Needs root: skipped otherwise, except under
 * CI=true, where that fails the test.
 */
static inline void mount_tmpfs(struct fixture *f, const char *name, const char *options)
{
	int r;

	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
	assert_int_equal(mkdir(f->path, 0700), 0);
	r = mount("tmpfs", f->path, "tmpfs", MS_NOSUID | MS_NODEV, options);
	ew_t_need_logged("integration", r == 0, "cannot mount a tmpfs (this test needs root): %s",
			 r == 0 ? "" : strerror(errno));
	ew_strlcpy(f->mnt, f->path, sizeof(f->mnt));
}

/* The fixture's teardown, after unmounting the test's tmpfs if it is still there. */
static inline int mount_teardown(void **state)
{
	struct fixture *f = *state;

	if (f->mnt[0])
		umount2(f->mnt, MNT_DETACH);
	return fixture_teardown(state);
}

static inline struct ew_output_opts test_opts(const struct fixture *f)
{
	struct ew_output_opts o;

	ew_output_opts_default(&o);
	o.spool_dir = f->spool;
	o.reconnect_min_ns = EW_NSEC_PER_MSEC;
	o.reconnect_max_ns = 20 * EW_NSEC_PER_MSEC;
	return o;
}

static inline struct ew_outputs *outputs_with(const struct ew_output_opts *opts, const char *spec)
{
	struct ew_outputs *o = ew_outputs_new(opts);
	char err[256] = "";

	assert_non_null(o);
	if (ew_outputs_add(o, spec, err, sizeof(err)) != 0)
		fail_msg("add %s: %s", spec, err);
	return o;
}

/*
 * Hands the sinks a line rendered already: json (and text, or NULL) as a record's renderings.
 * The transport tests need lines of chosen bytes, not records. Returns ew_outputs_emit()'s.
 */
static inline int put_lines(struct ew_outputs *o, const char *json, size_t json_len,
			    const char *text, size_t text_len, uint64_t now_ns)
{
	struct ew_rendered rr;
	int r;

	ew_rendered_init(&rr, NULL, false);
	ew_rendered_set(&rr, NULL);
	ew_rendered_set_line(&rr, EW_FORMAT_JSON, json, json_len);
	if (text)
		ew_rendered_set_line(&rr, EW_FORMAT_TEXT, text, text_len);
	r = ew_outputs_emit(o, &rr, now_ns);
	ew_rendered_free(&rr);
	return r;
}

static inline void put_line(struct ew_outputs *o, const char *line, size_t len, uint64_t now_ns)
{
	assert_int_equal(put_lines(o, line, len, NULL, 0, now_ns), 0);
}

static inline struct ew_sink_status status_of(const struct ew_outputs *o, uint32_t i)
{
	struct ew_sink_status st[EW_MAX_SINKS];

	assert_true(ew_outputs_status(o, st, EW_MAX_SINKS) > i);
	return st[i];
}

static inline char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *data = NULL;
	size_t cap = 0;

	*len = 0;
	if (!fp)
		return NULL;
	for (;;) {
		if (cap - *len < 65536) {
			cap = cap ? cap * 2 : 65536;
			data = realloc(data, cap);
			assert_non_null(data);
		}
		size_t n = fread(data + *len, 1, cap - *len, fp);

		*len += n;
		if (n == 0)
			break;
	}
	fclose(fp);
	return data;
}

/* Ends the capture; returns how often needle was logged. */
static inline size_t capture_end(struct capture *c, const char *needle)
{
	size_t len, n = 0;
	char *data;

	capture_stop(c->f);
	data = slurp(c->path, &len);
	assert_non_null(data);
	data = realloc(data, len + 1);
	data[len] = '\0';
	for (const char *p = data; (p = strstr(p, needle)); p++)
		n++;
	free(data);
	unlink(c->path);
	return n;
}

static inline size_t len_varying(uint32_t seq)
{
	return 40 + (seq * 7919u) % 260;
}

static inline size_t len_fixed100(uint32_t seq)
{
	(void)seq;
	return 100;
}

/* Prime-ish and varying, so that a full socket buffer rarely ends on a line boundary. */
static inline size_t len_big(uint32_t seq)
{
	return 10007 + (seq % 13) * 101;
}

static inline size_t len_fixed1000(uint32_t seq)
{
	(void)seq;
	return 1000;
}

static inline void write_seq(struct ew_outputs *o, uint32_t seq, ew_t_len_fn len_of)
{
	char buf[EW_T_MAX_LINE_LEN];
	size_t len = ew_t_line(buf, seq, len_of(seq));

	put_line(o, buf, len, ew_clock_mono_ns());
}

static inline void write_range(struct ew_outputs *o, uint32_t from, uint32_t to, ew_t_len_fn len_of)
{
	for (uint32_t seq = from; seq < to; seq++)
		write_seq(o, seq, len_of);
}

static inline uint64_t bytes_of_range(uint32_t from, uint32_t to, ew_t_len_fn len_of)
{
	uint64_t n = 0;

	for (uint32_t seq = from; seq < to; seq++)
		n += len_of(seq);
	return n;
}

/* Checks that data holds exactly the lines from..to-1; returns to. */
static inline uint32_t check_lines(const char *what, const char *data, size_t len, uint32_t from,
				   uint32_t to, ew_t_len_fn len_of)
{
	char exp[EW_T_MAX_LINE_LEN];
	size_t off = 0;

	for (uint32_t seq = from; seq < to; seq++) {
		size_t n = ew_t_line(exp, seq, len_of(seq));

		if (off + n > len || memcmp(data + off, exp, n) != 0)
			fail_msg("%s: byte %zu is not line %u", what, off, seq);
		off += n;
	}
	if (off != len)
		fail_msg("%s: %zu bytes after line %u", what, len - off, to - 1);
	return to;
}

/* Counts the '\n's in data, and fails if data does not end with one. */
static inline uint32_t count_whole_lines(const char *what, const char *data, size_t len)
{
	uint32_t n = 0;

	if (len && data[len - 1] != '\n')
		fail_msg("%s: ends in the middle of a line", what);
	for (size_t i = 0; i < len; i++)
		n += data[i] == '\n';
	return n;
}

/* Checks that path holds exactly the lines of ranges [from, to), one range after the other. */
static inline void expect_file(const char *path, const uint32_t (*ranges)[2], size_t nranges,
			       ew_t_len_fn len_of)
{
	char exp[EW_T_MAX_LINE_LEN];
	size_t len, off = 0;
	char *data = slurp(path, &len);

	if (!data)
		fail_msg("%s: missing", path);
	for (size_t r = 0; r < nranges; r++) {
		for (uint32_t seq = ranges[r][0]; seq < ranges[r][1]; seq++) {
			size_t n = ew_t_line(exp, seq, len_of(seq));

			if (off + n > len || memcmp(data + off, exp, n) != 0)
				fail_msg("%s: byte %zu is not line %u", path, off, seq);
			off += n;
		}
	}
	if (off != len)
		fail_msg("%s: %zu bytes after the expected lines", path, len - off);
	free(data);
}

static inline void expect_lines(const char *path, uint32_t from, uint32_t to, ew_t_len_fn len_of)
{
	const uint32_t range[1][2] = {{from, to}};

	expect_file(path, range, 1, len_of);
}

/* The size of path, -1 when it does not exist. */
static inline off_t size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static inline void tick(struct ew_outputs *o)
{
	ew_outputs_tick(o, ew_clock_mono_ns());
}

/* One turn of the agent's loop: the turn's records, then the tick. */
static inline void write_turn(struct ew_outputs *o, uint32_t from, uint32_t to, ew_t_len_fn len_of)
{
	write_range(o, from, to, len_of);
	tick(o);
}

#endif
