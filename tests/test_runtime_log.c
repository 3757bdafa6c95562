// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * identity/runtime_log.c: the stderr tail from runtime log files. The fixtures in
 * tests/fixtures/runtime-log are real: Docker 20.10 wrote the json-file and local logs of
 * containers of exitwatch-test:latest, and docker-mix.stderr is what that container wrote on
 * stderr (docker attach); the CRI files re-frame the same entries the way containerd and CRI-O
 * do (see the README there). Every test compares exact bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "exitwatch/util/clock.h"
#include "exitwatch/identity/runtime_log.h"
#include "exitwatch/util/util.h"
#include "harness/unit.h"

#ifndef EW_FIXTURES_DIR
#define EW_FIXTURES_DIR "tests/fixtures"
#endif
#define FIX	   EW_FIXTURES_DIR "/runtime-log/"
#define TAIL_BYTES 2048
#define BIG_TAIL   (64 * 1024)

#define TRACEBACK                                        \
	"Traceback (most recent call last):\n"           \
	"  File \"/app/main.py\", line 3, in <module>\n" \
	"    from app.services import monitoring\n"      \
	"ModuleNotFoundError: No module named 'app.services.monitoring'\n"
/* docker-traceback-json.log: the container ran twice; its second start came between these. */
#define TB_BETWEEN "2026-12-04T20:40:50Z"

static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	FILE *f = fopen(path, "rb");

	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(fstat(fileno(f), &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	*len = fread(buf, 1, (size_t)st.st_size, f);
	assert_int_equal(*len, (size_t)st.st_size);
	fclose(f);
	return buf;
}

static void spit(const char *path, const char *buf, size_t len, const char *mode)
{
	FILE *f = fopen(path, mode);

	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static uint64_t ns_of(const char *rfc3339)
{
	uint64_t ns = 0;

	assert_int_equal(ew_runtime_log_parse_time(rfc3339, strlen(rfc3339), &ns), 0);
	return ns;
}

/* Fails with both byte strings' first difference when got != want. */
static void check_bytes(const char *what, const char *got, size_t got_len, const char *want,
			size_t want_len)
{
	size_t i;

	for (i = 0; i < got_len && i < want_len && got[i] == want[i]; i++)
		;
	if (got_len != want_len || i != got_len)
		fail_msg("%s: got %zu bytes, want %zu; first difference at %zu: got '%.40s', "
			 "want '%.40s'",
			 what, got_len, want_len, i, i < got_len ? got + i : "",
			 i < want_len ? want + i : "");
}

/* The tail of a fixture, with its stats; fails on an error. */
static size_t tail_of(const char *path, enum ew_log_format fmt, size_t max, uint64_t since,
		      char *out, struct ew_log_stats *st)
{
	size_t len = SIZE_MAX;
	int r = ew_runtime_log_tail(path, fmt, max, since, out, &len, st);

	if (r)
		fail_msg("%s: ew_runtime_log_tail: %d (%s)", path, r, strerror(-r));
	assert_true(len <= max);
	return len;
}

static const struct time_case {
	const char *s;
	int ret;
	uint64_t ns;
} time_cases[] = {
	{"1970-01-01T00:00:00Z", 0, 0},
	{"2026-12-04T20:40:49.157268552Z", 0, 1796416849157268552ULL},
	/* Go's RFC3339Nano trims trailing zeros (containerd): .45742417 is .457424170 */
	{"2026-12-04T20:41:08.45742417Z", 0, 1796416868457424170ULL},
	{"2026-12-04T20:41:08Z", 0, 1796416868000000000ULL},
	/* CRI-O writes local time with an offset */
	{"2026-12-04T22:41:08.457424170+02:00", 0, 1796416868457424170ULL},
	{"2026-12-04T15:11:08.5-05:30", 0, 1796416868500000000ULL},
	{"2024-02-29T12:00:00Z", 0, 1709208000000000000ULL},
	{"2023-02-29T12:00:00Z", -EINVAL, 0},
	{"2026-13-01T00:00:00Z", -EINVAL, 0},
	{"2026-12-04T24:00:00Z", -EINVAL, 0},
	{"2026-12-04T20:40:60Z", -EINVAL, 0},
	{"2026-12-04T20:40:49.1234567890Z", -EINVAL, 0},
	{"2026-12-04T20:40:49.Z", -EINVAL, 0},
	{"2026-12-04T20:40:49", -EINVAL, 0},
	{"2026-12-04T20:40:49ZZ", -EINVAL, 0},
	{"2026-12-04t20:40:49Z", -EINVAL, 0},
	{"2026-12-04T20:40:49+0200", -EINVAL, 0},
	{"1969-12-31T23:59:59Z", -EINVAL, 0},
	{"1970-01-01T00:30:00+01:00", -EINVAL, 0},
	{"9999-12-31T23:59:59Z", -EINVAL, 0},
	{"", -EINVAL, 0},
};

static void test_parse_time(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(time_cases); i++) {
		const struct time_case *c = &time_cases[i];
		uint64_t ns = 0;
		int r = ew_runtime_log_parse_time(c->s, strlen(c->s), &ns);

		if (r != c->ret || (r == 0 && ns != c->ns))
			fail_msg("'%s': got %d %llu, want %d %llu", c->s, r, (unsigned long long)ns,
				 c->ret, (unsigned long long)c->ns);
	}
	/* What the agent writes (ew_time_format) parses back to the same ns. */
	for (uint64_t ns = 0; ns < 16000000000000000000ULL; ns += 3199999999999997ULL) {
		char buf[EW_TIME_STR_LEN];
		uint64_t back = 0;

		ew_time_format(ns, buf);
		assert_int_equal(ew_runtime_log_parse_time(buf, strlen(buf), &back), 0);
		assert_int_equal(back, ns);
	}
}

/* A Python traceback, twice (the container restarted): since_ns keeps the second. */
static void test_docker_traceback(void **state)
{
	char out[TAIL_BYTES];
	struct ew_log_stats st;
	size_t len;

	(void)state;
	len = tail_of(FIX "docker-traceback-json.log", EW_LOG_DOCKER_JSON, sizeof(out),
		      ns_of(TB_BETWEEN), out, &st);
	check_bytes("second instance", out, len, TRACEBACK, strlen(TRACEBACK));
	assert_true(st.reached_since);
	assert_int_equal(st.entries, 4);
	assert_int_equal(st.malformed, 0);

	/* since_ns 0: both instances, stdout of neither. */
	len = tail_of(FIX "docker-traceback-json.log", EW_LOG_DOCKER_JSON, sizeof(out), 0, out,
		      &st);
	check_bytes("both instances", out, len, TRACEBACK TRACEBACK, 2 * strlen(TRACEBACK));
	assert_false(st.reached_since);
	assert_true(st.reached_start);
	assert_int_equal(st.entries, 8);

	/* A since_ns after every entry: nothing, and that is not an error. */
	len = tail_of(FIX "docker-traceback-json.log", EW_LOG_DOCKER_JSON, sizeof(out),
		      ns_of("2026-12-04T21:00:00Z"), out, &st);
	assert_int_equal(len, 0);
	assert_true(st.reached_since);
}

struct mix_case {
	const char *file;
	enum ew_log_format fmt;
	const char *want;   /* the fixture with the whole stderr stream */
	size_t entries_all; /* stderr entries in the file */
};

static const struct mix_case mix_cases[] = {
	/* json-file: Docker replaced the invalid UTF-8 with U+FFFD (docker logs agrees). */
	{"docker-mix-json.log", EW_LOG_DOCKER_JSON, "docker-mix-json.stderr", 125},
	/* local: the bytes as written, in 16 KiB partial entries */
	{"docker-mix-local.log", EW_LOG_DOCKER_LOCAL, "docker-mix.stderr", 125},
	/* CRI: the bytes as written; the unterminated last line is a P entry */
	{"containerd-mix.log", EW_LOG_CRI, "docker-mix.stderr", 125},
	{"crio-mix.log", EW_LOG_CRI, "docker-mix.stderr", 125},
};

/*
 * Interleaved stdout and stderr (120 lines each), a 40 KiB line, invalid UTF-8 and control
 * bytes, a last line without "\n": the whole stderr stream, exactly, and no stdout byte.
 */
static void test_mix_whole_stream(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(mix_cases); i++) {
		const struct mix_case *c = &mix_cases[i];
		char p[PATH_MAX], *out = malloc(BIG_TAIL), *want;
		struct ew_log_stats st;
		size_t len, want_len;

		assert_non_null(out);
		snprintf(p, sizeof(p), FIX "%s", c->want);
		want = slurp(p, &want_len);
		snprintf(p, sizeof(p), FIX "%s", c->file);
		len = tail_of(p, c->fmt, BIG_TAIL, 0, out, &st);
		check_bytes(c->file, out, len, want, want_len);
		assert_null(memmem(out, len, "out line", 8));
		assert_int_equal(st.entries, c->entries_all);
		assert_int_equal(st.malformed, 0);
		assert_true(st.reached_start);
		assert_false(st.scan_limited);
		free(out);
		free(want);
	}
}

/* The last 2 KiB of the same stream, whatever the format: a cut in the middle of a line. */
static void test_mix_last_2k(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(mix_cases); i++) {
		const struct mix_case *c = &mix_cases[i];
		char p[PATH_MAX], out[TAIL_BYTES], *want;
		struct ew_log_stats st;
		size_t len, want_len;

		snprintf(p, sizeof(p), FIX "%s", c->want);
		want = slurp(p, &want_len);
		snprintf(p, sizeof(p), FIX "%s", c->file);
		len = tail_of(p, c->fmt, sizeof(out), 0, out, &st);
		check_bytes(c->file, out, len, want + want_len - TAIL_BYTES, TAIL_BYTES);
		/* The tail begins inside the 40 KiB line: read back no further than needed. */
		assert_false(st.reached_start);
		assert_true(st.scanned_bytes <= 32 * 1024);
		free(want);
	}
}

/* The 40 KiB line, split in 16 KiB entries by every runtime, comes back whole. */
static void test_mix_long_line(void **state)
{
	size_t line_len = strlen("BIGLINE:") + 4000 * 10 + strlen(":END\n"), pos;
	char *line = malloc(line_len + 1), *out = malloc(BIG_TAIL);

	(void)state;
	assert_non_null(line);
	assert_non_null(out);
	pos = (size_t)sprintf(line, "BIGLINE:");
	for (int i = 0; i < 4000; i++)
		pos += (size_t)sprintf(line + pos, "%09d,", i);
	pos += (size_t)sprintf(line + pos, ":END\n");
	assert_int_equal(pos, line_len);

	for (size_t i = 0; i < ARRAY_SIZE(mix_cases); i++) {
		char p[PATH_MAX];
		struct ew_log_stats st;
		size_t len;
		const char *at;

		snprintf(p, sizeof(p), FIX "%s", mix_cases[i].file);
		len = tail_of(p, mix_cases[i].fmt, BIG_TAIL, 0, out, &st);
		at = memmem(out, len, "BIGLINE:", 8);
		if (!at)
			fail_msg("%s: no BIGLINE", p);
		check_bytes(p, at, line_len, line, line_len);
		/* ... and nothing but what follows it in the stream after it. */
		assert_int_equal(memcmp(at + line_len, "bad utf8: ", 10), 0);
	}
	free(line);
	free(out);
}

/*
 * 10 KiB of stderr in lines of varying length, stdout between them: exactly the last 2 KiB,
 * for json-file and CRI, written here with exact expectations.
 */
static void test_10k_keeps_last_2k(void **state)
{
	char path[PATH_MAX], out[TAIL_BYTES], line[256];
	char *want = malloc(16 * 1024);
	FILE *fj, *fc;
	size_t want_len = 0;
	struct ew_log_stats st;
	size_t len;
	int i;

	assert_non_null(want);
	fj = fopen(ew_t_scratch_path(*state, "x-json.log", path, sizeof(path)), "w");
	fc = fopen(ew_t_scratch_path(*state, "0.log", path, sizeof(path)), "w");
	assert_non_null(fj);
	assert_non_null(fc);
	for (i = 0; want_len < 10 * 1024; i++) {
		int n = snprintf(line, sizeof(line), "E%04d %.*s", i, 5 + i % 60,
				 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

		fprintf(fj,
			"{\"log\":\"out %d\\n\",\"stream\":\"stdout\","
			"\"time\":\"2026-12-04T10:00:%02d.%09dZ\"}\n",
			i, i % 60, i);
		fprintf(fj,
			"{\"log\":\"%s\\n\",\"stream\":\"stderr\","
			"\"time\":\"2026-12-04T10:00:%02d.%09dZ\"}\n",
			line, i % 60, i + 1);
		fprintf(fc, "2026-12-04T10:00:%02d.%dZ stdout F out %d\n", i % 60, i, i);
		fprintf(fc, "2026-12-04T10:00:%02d.%dZ stderr F %s\n", i % 60, i + 1, line);
		memcpy(want + want_len, line, (size_t)n);
		want_len += (size_t)n;
		want[want_len++] = '\n';
	}
	assert_int_equal(fclose(fj), 0);
	assert_int_equal(fclose(fc), 0);
	assert_true(want_len >= 10 * 1024);

	len = tail_of(ew_t_scratch_path(*state, "x-json.log", path, sizeof(path)),
		      EW_LOG_DOCKER_JSON, sizeof(out), 0, out, &st);
	check_bytes("json-file", out, len, want + want_len - TAIL_BYTES, TAIL_BYTES);
	assert_int_equal(st.malformed, 0);
	len = tail_of(ew_t_scratch_path(*state, "0.log", path, sizeof(path)), EW_LOG_CRI,
		      sizeof(out), 0, out, &st);
	check_bytes("cri", out, len, want + want_len - TAIL_BYTES, TAIL_BYTES);
	assert_int_equal(st.malformed, 0);
	free(want);
}

/* CRI partial entries, extra tags after ':', and an empty F line (a bare "\n"). */
static void test_cri_partial(void **state)
{
	static const char log[] = "2024-05-01T12:00:00.1Z stderr P first half, \n"
				  "2024-05-01T12:00:00.2Z stdout F interleaved stdout\n"
				  "2024-05-01T12:00:00.3Z stderr P:x second part, \n"
				  "2024-05-01T12:00:00.4Z stderr F:x end\n"
				  "2024-05-01T12:00:00.5Z stderr F \n"
				  "2024-05-01T12:00:00.6Z stderr P no newline yet\n";
	static const char want[] = "first half, second part, end\n\nno newline yet";
	char out[256];
	size_t len = 0;
	struct ew_log_stats st = {0};

	(void)state;
	assert_int_equal(ew_runtime_log_tail_buf(log, strlen(log), true, EW_LOG_CRI, sizeof(out), 0,
						 out, &len, &st),
			 0);
	check_bytes("cri P/F", out, len, want, strlen(want));
	assert_int_equal(st.entries, 5);
	assert_int_equal(st.malformed, 0);

	/* since_ns cuts at the entry boundary, in the middle of a P+F line. */
	len = 0;
	assert_int_equal(ew_runtime_log_tail_buf(log, strlen(log), true, EW_LOG_CRI, sizeof(out),
						 ns_of("2024-05-01T12:00:00.25Z"), out, &len, NULL),
			 0);
	check_bytes("cri since", out, len, "second part, end\n\nno newline yet",
		    strlen("second part, end\n\nno newline yet"));
}

/*
 * An entry being written (no "\n" yet, or half a frame) is not taken: the tail is what it was
 * before the write began.
 */
static void test_truncated_last_line(void **state)
{
	static const struct {
		const char *file, *partial;
		size_t partial_len;
		enum ew_log_format fmt;
	} cases[] = {
		{"docker-traceback-json.log", "{\"log\":\"half a li", 17, EW_LOG_DOCKER_JSON},
		{"docker-traceback-json.log",
		 "{\"log\":\"complete JSON, no newline\\n\",\"stream\":\"stderr\","
		 "\"time\":\"2026-12-04T20:41:00Z\"}",
		 0, EW_LOG_DOCKER_JSON},
		{"containerd-mix.log", "2026-12-04T20:41:09Z stderr F half", 0, EW_LOG_CRI},
		/* a frame header announcing 62 bytes, and 10 of them */
		{"docker-mix-local.log", "\0\0\0\x3e\x0a\x06stderr\x10\x01", 14,
		 EW_LOG_DOCKER_LOCAL},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char path[PATH_MAX], src[PATH_MAX], *buf, *out = malloc(BIG_TAIL),
							  *before = malloc(BIG_TAIL);
		size_t len, blen,
			plen = cases[i].partial_len ? cases[i].partial_len
						    : strlen(cases[i].partial);
		struct ew_log_stats st;

		assert_non_null(out);
		assert_non_null(before);
		snprintf(src, sizeof(src), FIX "%s", cases[i].file);
		blen = tail_of(src, cases[i].fmt, BIG_TAIL, 0, before, &st);
		buf = slurp(src, &len);
		ew_t_scratch_path(*state, "partial.log", path, sizeof(path));
		spit(path, buf, len, "w");
		spit(path, cases[i].partial, plen, "a");
		len = tail_of(path, cases[i].fmt, BIG_TAIL, 0, out, &st);
		check_bytes(cases[i].file, out, len, before, blen);
		/* A half-written frame is skipped by resynchronising: it counts as malformed. */
		assert_int_equal(st.malformed, cases[i].fmt == EW_LOG_DOCKER_LOCAL ? 1 : 0);
		free(buf);
		free(out);
		free(before);
	}
}

/* Lines that are not entries are skipped and counted; the entries around them are kept. */
static void test_malformed_lines(void **state)
{
	static const char json[] =
		"{\"log\":\"one\\n\",\"stream\":\"stderr\",\"time\":\"2024-05-01T12:00:00Z\"}\n"
		"not json at all\n"
		"[\"an\",\"array\"]\n"
		"{\"log\":\"no stream\\n\",\"time\":\"2024-05-01T12:00:00Z\"}\n"
		"{\"log\":\"bad time\\n\",\"stream\":\"stderr\",\"time\":\"yesterday\"}\n"
		"{\"log\":42,\"stream\":\"stderr\",\"time\":\"2024-05-01T12:00:00Z\"}\n"
		"{\"log\":\"x\\n\",\"stream\":\"stdin\",\"time\":\"2024-05-01T12:00:00Z\"}\n"
		"{\"log\":\"x\\n\",\"stream\":\"stderr\",\"time\":\"2024-05-01T12:00:00Z\"} junk\n"
		"{\"log\":\"single 'quotes'\",'stream':'stderr'}\n"
		"{\"log\":\"nul\\u0000byte\\n\",\"stream\":\"stderr\",\"time\":\"2024-05-01T12:00:"
		"01Z\","
		"\"attrs\":{\"tag\":\"x\"}}\n"
		"{\"stream\":\"stderr\",\"time\":\"2024-05-01T12:00:01Z\"}\n"
		"{\"log\":\"no time\\n\",\"stream\":\"stderr\"}\n"
		"\n"
		"\x01\xff\xfe\x00binary\n"
		"{\"log\":\"two\\n\",\"stream\":\"stderr\",\"time\":\"2024-05-01T12:00:02Z\"}\n";
	static const char want_json[] = "one\nnul\0byte\ntwo\n";
	static const char cri[] = "2024-05-01T12:00:00Z stderr F one\n"
				  "garbage\n"
				  "2024-05-01T12:00:00Z stdin F wrong stream\n"
				  "2024-05-01T12:00:00Z stderr\n"
				  "2024-05-01T12:00:00Z stderr F\n"
				  "yesterday stderr F bad time\n"
				  "\n"
				  "2024-05-01T12:00:00Z stderr F two\n";
	char out[256];
	struct ew_log_stats st = {0};
	size_t len = 0;

	(void)state;
	assert_int_equal(ew_runtime_log_tail_buf(json, sizeof(json) - 1, true, EW_LOG_DOCKER_JSON,
						 sizeof(out), 0, out, &len, &st),
			 0);
	check_bytes("json", out, len, want_json, sizeof(want_json) - 1);
	/* The entry without "log" (Docker's omitempty) is an empty one, not a malformed one. */
	assert_int_equal(st.entries, 4);
	assert_int_equal(st.malformed, 11);

	memset(&st, 0, sizeof(st));
	assert_int_equal(ew_runtime_log_tail_buf(cri, sizeof(cri) - 1, true, EW_LOG_CRI,
						 sizeof(out), 0, out, &len, &st),
			 0);
	check_bytes("cri", out, len, "one\ntwo\n", 8);
	assert_int_equal(st.malformed, 6);
}

/* Junk between the local driver's frames: skipped, the frames on both sides kept. */
static void test_local_junk(void **state)
{
	char path[PATH_MAX], *buf, out[BIG_TAIL / 4], before[BIG_TAIL / 4];
	size_t len, blen, cut;
	struct ew_log_stats st;

	buf = slurp(FIX "docker-mix-local.log", &len);
	blen = tail_of(FIX "docker-mix-local.log", EW_LOG_DOCKER_LOCAL, 600, 0, before, &st);
	/* The last two frames (bad utf8, no newline at exit) are 81 + 110 + 16 bytes. */
	cut = len - (81 + 8) - (110 + 8);
	ew_t_scratch_path(*state, "container.log", path, sizeof(path));
	spit(path, buf, cut, "w");
	spit(path, "\x00\x00\x00\x05junk!\x00\x00\x00\x07\xff\xff\xff", 15, "a");
	spit(path, buf + cut, len - cut, "a");
	len = tail_of(path, EW_LOG_DOCKER_LOCAL, 600, 0, out, &st);
	check_bytes("local with junk", out, len, before, blen);
	assert_int_equal(st.malformed, 1);
	free(buf);
}

static void test_empty_and_missing(void **state)
{
	char path[PATH_MAX], out[64];
	struct ew_log_stats st;
	size_t len = 99;
	enum ew_log_format fmts[] = {EW_LOG_DOCKER_JSON, EW_LOG_CRI, EW_LOG_DOCKER_LOCAL};

	for (size_t i = 0; i < ARRAY_SIZE(fmts); i++) {
		ew_t_scratch_path(*state, "empty.log", path, sizeof(path));
		spit(path, "", 0, "w");
		assert_int_equal(ew_runtime_log_tail(path, fmts[i], sizeof(out), 0, out, &len, &st),
				 0);
		assert_int_equal(len, 0);
		assert_true(st.reached_start);
		assert_int_equal(st.scanned_bytes, 0);

		len = 99;
		ew_t_scratch_path(*state, "missing.log", path, sizeof(path));
		assert_int_equal(ew_runtime_log_tail(path, fmts[i], sizeof(out), 0, out, &len, &st),
				 -ENOENT);
		assert_int_equal(len, 0);
		assert_int_equal(ew_runtime_log_tail(path, fmts[i], 0, 0, NULL, &len, NULL),
				 -ENOENT);
	}
	assert_int_equal(ew_runtime_log_tail(FIX "docker-mix-json.log", (enum ew_log_format)99,
					     sizeof(out), 0, out, &len, NULL),
			 -EPROTONOSUPPORT);
	assert_int_equal(ew_runtime_log_tail(NULL, EW_LOG_CRI, sizeof(out), 0, out, &len, NULL),
			 -EINVAL);
	/* A path through a regular file is missing, not an error. */
	assert_int_equal(ew_runtime_log_tail(FIX "docker-mix-json.log/x", EW_LOG_DOCKER_JSON,
					     sizeof(out), 0, out, &len, NULL),
			 -ENOENT);
}

/* Never opened: a FIFO (would block), a directory, a symlink (may point anywhere). */
static void test_not_regular(void **state)
{
	char path[PATH_MAX], target[PATH_MAX], out[64];
	size_t len;

	assert_int_equal(mkfifo(ew_t_scratch_path(*state, "fifo.log", path, sizeof(path)), 0600),
			 0);
	assert_int_equal(ew_runtime_log_tail(path, EW_LOG_CRI, sizeof(out), 0, out, &len, NULL),
			 -EINVAL);
	assert_int_equal(mkdir(ew_t_scratch_path(*state, "dir.log", path, sizeof(path)), 0700), 0);
	assert_int_equal(ew_runtime_log_tail(path, EW_LOG_CRI, sizeof(out), 0, out, &len, NULL),
			 -EINVAL);
	assert_non_null(realpath(FIX "containerd-mix.log", target));
	assert_int_equal(symlink(target, ew_t_scratch_path(*state, "link.log", path, sizeof(path))),
			 0);
	assert_int_equal(ew_runtime_log_tail(path, EW_LOG_CRI, sizeof(out), 0, out, &len, NULL),
			 -EINVAL);
}

/*
 * A big file: only its end is read. 8 MiB of stdout, then the traceback: the tail is exact
 * and fewer than 16 KiB were read. Then 300 KiB of stdout after the traceback: the scan stops
 * at its budget and says so.
 */
static void test_big_file_bounded(void **state)
{
	static const char so[] = "{\"log\":\"GET /healthz 200 0.3ms\\n\",\"stream\":\"stdout\","
				 "\"time\":\"2026-12-04T09:00:00.000000001Z\"}\n";
	char path[PATH_MAX], out[TAIL_BYTES], *tb, *chatter;
	size_t tb_len, len, n = (8u << 20) / (sizeof(so) - 1);
	struct ew_log_stats st;

	chatter = malloc(n * (sizeof(so) - 1));
	assert_non_null(chatter);
	for (size_t i = 0; i < n; i++)
		memcpy(chatter + i * (sizeof(so) - 1), so, sizeof(so) - 1);
	tb = slurp(FIX "docker-traceback-json.log", &tb_len);
	ew_t_scratch_path(*state, "big-json.log", path, sizeof(path));
	spit(path, chatter, n * (sizeof(so) - 1), "w");
	spit(path, tb, tb_len, "a");
	len = tail_of(path, EW_LOG_DOCKER_JSON, sizeof(out), ns_of(TB_BETWEEN), out, &st);
	check_bytes("big file", out, len, TRACEBACK, strlen(TRACEBACK));
	assert_true(st.scanned_bytes <= 16 * 1024);

	spit(path, chatter, 300 * 1024 / (sizeof(so) - 1) * (sizeof(so) - 1), "a");
	len = tail_of(path, EW_LOG_DOCKER_JSON, sizeof(out), 0, out, &st);
	assert_int_equal(len, 0);
	assert_true(st.scan_limited);
	assert_int_equal(st.scanned_bytes, EW_RUNTIME_LOG_SCAN_MAX);
	free(chatter);
	free(tb);
}

/* Docker rotated the file (max-file > 1) just before the exit: the tail spans both files. */
static void test_docker_rotated(void **state)
{
	char path[PATH_MAX], rot[PATH_MAX], out[TAIL_BYTES], *buf;
	size_t len, cut;
	struct ew_log_stats st;

	buf = slurp(FIX "docker-traceback-json.log", &len);
	/* The last entry (stdout "loading config") alone in the new file. */
	cut = (size_t)((const char *)memrchr(buf, '\n', len - 1) - buf) + 1;
	ew_t_scratch_path(*state, "c-json.log", path, sizeof(path));
	snprintf(rot, sizeof(rot), "%s.1", path);
	spit(rot, buf, cut, "w");
	spit(path, buf + cut, len - cut, "w");
	len = tail_of(path, EW_LOG_DOCKER_JSON, sizeof(out), ns_of(TB_BETWEEN), out, &st);
	check_bytes("rotated", out, len, TRACEBACK, strlen(TRACEBACK));
	assert_true(st.rotated);
	assert_true(st.reached_since);

	/* An unreadable rotated file costs only its part of the tail. */
	assert_int_equal(unlink(rot), 0);
	assert_int_equal(mkdir(rot, 0700), 0);
	len = tail_of(path, EW_LOG_DOCKER_JSON, sizeof(out), ns_of(TB_BETWEEN), out, &st);
	assert_int_equal(len, 0);
	assert_false(st.rotated);
	assert_int_equal(rmdir(rot), 0);
	free(buf);
}

/*
 * The kubelet rotated the CRI log (containerLogMaxSize, checked every 10 s): it renames <n>.log
 * to <n>.log.<YYYYMMDD-hhmmss>, gzips the older rotated files and has containerd reopen <n>.log.
 * A container that dies right after a rotation has its last words in the newest rotated file.
 */
static void test_cri_kubelet_rotated(void **state)
{
	static const char before[] =
		"2024-05-01T12:00:00.1Z stderr F Traceback (most recent call last):\n"
		"2024-05-01T12:00:00.2Z stderr F   File \"/app/main.py\", line 3, in <module>\n"
		"2024-05-01T12:00:00.3Z stderr F ValueError: bad config\n";
	static const char after[] = "2024-05-01T12:00:00.4Z stderr F exiting\n";
	static const char want[] = "Traceback (most recent call last):\n"
				   "  File \"/app/main.py\", line 3, in <module>\n"
				   "ValueError: bad config\n"
				   "exiting\n";
	/* Wrong picks: an older rotation, and names that sort after the newest one. */
	static const char *const decoys[] = {
		"0.log.20240501-110000",
		"0.log.20240501-130000.gz",  /* gzip data in real life; never newest, but skipped */
		"0.log.20240501-130000.tmp", /* a compression under way */
		"1.log.20240501-140000",     /* another attempt's */
	};
	static const char decoy[] = "2024-05-01T12:00:00.05Z stderr F decoy\n";
	static const char older[] = "2024-05-01T11:59:59Z stderr F the previous instance\n";
	char path[PATH_MAX], rot[PATH_MAX], other[PATH_MAX], out[TAIL_BYTES];
	struct ew_log_stats st;
	size_t len;

	ew_t_scratch_path(*state, "0.log", path, sizeof(path));
	snprintf(rot, sizeof(rot), "%s.20240501-120000", path);
	spit(rot, before, strlen(before), "w");
	spit(path, after, strlen(after), "w");
	for (size_t i = 0; i < ARRAY_SIZE(decoys); i++)
		spit(ew_t_scratch_path(*state, decoys[i], other, sizeof(other)), decoy,
		     strlen(decoy), "w");
	len = tail_of(path, EW_LOG_CRI, sizeof(out), ns_of("2024-05-01T12:00:00Z"), out, &st);
	check_bytes("cri rotated", out, len, want, strlen(want));
	assert_true(st.rotated);
	assert_false(st.reached_since);

	/* The current file reaches back past the start: the rotated one is not read. */
	spit(path, older, strlen(older), "w");
	spit(path, after, strlen(after), "a");
	len = tail_of(path, EW_LOG_CRI, sizeof(out), ns_of("2024-05-01T12:00:00Z"), out, &st);
	check_bytes("cri since in current", out, len, "exiting\n", strlen("exiting\n"));
	assert_false(st.rotated);
	assert_true(st.reached_since);

	/* Only compressed rotations left: the current file's tail is the answer. */
	assert_int_equal(unlink(rot), 0);
	assert_int_equal(unlink(ew_t_scratch_path(*state, decoys[0], other, sizeof(other))), 0);
	spit(path, after, strlen(after), "w");
	len = tail_of(path, EW_LOG_CRI, sizeof(out), ns_of("2024-05-01T12:00:00Z"), out, &st);
	check_bytes("cri gz only", out, len, "exiting\n", strlen("exiting\n"));
	assert_false(st.rotated);
	assert_true(st.reached_start);
}

/*
 * A rotation between the parts of one long line (the kubelet's P entries, Docker's json-file
 * entries without their "\n": both runtimes split lines of 16 KiB and more) leaves the line's
 * start in the rotated file and its end in the current one: the tail joins them, in order.
 */
static void test_rotation_splits_partial_line(void **state)
{
	static const char cri_rot[] = "2024-05-01T12:00:00.1Z stderr F first\n"
				      "2024-05-01T12:00:00.2Z stderr P panic: a long li\n";
	static const char cri_cur[] = "2024-05-01T12:00:00.2Z stderr P ne that was split\n"
				      "2024-05-01T12:00:00.2Z stderr F  in three\n";
	static const char json_rot[] =
		"{\"log\":\"first\\n\",\"stream\":\"stderr\",\"time\":\"2024-05-01T12:00:00.1Z\"}\n"
		"{\"log\":\"panic: a long "
		"li\",\"stream\":\"stderr\",\"time\":\"2024-05-01T12:00:00.2Z\"}\n";
	static const char json_cur[] =
		"{\"log\":\"ne that was "
		"split\",\"stream\":\"stderr\",\"time\":\"2024-05-01T12:00:00.2Z\"}\n"
		"{\"log\":\" in "
		"three\\n\",\"stream\":\"stderr\",\"time\":\"2024-05-01T12:00:00.2Z\"}\n";
	static const char want[] = "first\npanic: a long line that was split in three\n";
	char path[PATH_MAX], rot[PATH_MAX], out[TAIL_BYTES];
	struct ew_log_stats st;
	size_t len;

	ew_t_scratch_path(*state, "0.log", path, sizeof(path));
	snprintf(rot, sizeof(rot), "%s.20240501-120000", path);
	spit(rot, cri_rot, strlen(cri_rot), "w");
	spit(path, cri_cur, strlen(cri_cur), "w");
	len = tail_of(path, EW_LOG_CRI, sizeof(out), ns_of("2024-05-01T12:00:00Z"), out, &st);
	check_bytes("cri split", out, len, want, strlen(want));
	assert_true(st.rotated);

	ew_t_scratch_path(*state, "c-json.log", path, sizeof(path));
	snprintf(rot, sizeof(rot), "%s.1", path);
	spit(rot, json_rot, strlen(json_rot), "w");
	spit(path, json_cur, strlen(json_cur), "w");
	len = tail_of(path, EW_LOG_DOCKER_JSON, sizeof(out), ns_of("2024-05-01T12:00:00Z"), out,
		      &st);
	check_bytes("json-file split", out, len, want, strlen(want));
	assert_true(st.rotated);
}

/* The first line of a buffer that does not start the file is cut: never taken. */
static void test_buf_not_at_start(void **state)
{
	static const char log[] = "stderr F cut line\n"
				  "2024-05-01T12:00:00Z stderr F whole\n";
	char out[64];
	size_t len;
	struct ew_log_stats st = {0};

	(void)state;
	assert_int_equal(ew_runtime_log_tail_buf(log + 9, sizeof(log) - 10, false, EW_LOG_CRI,
						 sizeof(out), 0, out, &len, &st),
			 0);
	check_bytes("not at start", out, len, "whole\n", 6);
	assert_int_equal(st.malformed, 0);
	assert_true(st.scan_limited);
	assert_int_equal(ew_runtime_log_tail_buf(log, sizeof(log) - 1, true, EW_LOG_CRI, 3, 0, out,
						 &len, NULL),
			 0);
	check_bytes("3 bytes", out, len, "le\n", 3);
}

/*
 * Hostile bytes: random ones, and the real fixtures with random bytes flipped and cut at
 * random places, in every format; the tail stays within its bounds. (Run under
 * SANITIZE=address,undefined for the memory checks.)
 */
static void test_hostile_bytes(void **state)
{
	static const char *const files[] = {"docker-mix-json.log", "docker-mix-local.log",
					    "containerd-mix.log"};
	enum ew_log_format fmts[] = {EW_LOG_DOCKER_JSON, EW_LOG_DOCKER_LOCAL, EW_LOG_CRI};
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	char out[TAIL_BYTES + 16];

	(void)state;
	for (size_t f = 0; f < ARRAY_SIZE(files); f++) {
		char p[PATH_MAX], *orig, *buf;
		size_t len;

		snprintf(p, sizeof(p), FIX "%s", files[f]);
		orig = slurp(p, &len);
		buf = malloc(len);
		assert_non_null(buf);
		for (int iter = 0; iter < 300; iter++) {
			size_t off, n, olen = SIZE_MAX;

			memcpy(buf, orig, len);
			for (int k = 0; k < 1 + iter % 40; k++) {
				seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
				buf[(seed >> 20) % len] = (char)(seed >> 56);
			}
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			off = (seed >> 16) % len;
			n = len - off;
			if (iter % 3 == 0)
				for (size_t k = off; k < len; k++)
					buf[k] = (char)(k * 2654435761u >> 13);
			memset(out + TAIL_BYTES, 0x5a, 16);
			for (size_t g = 0; g < ARRAY_SIZE(fmts); g++) {
				int r = ew_runtime_log_tail_buf(
					iter % 2 ? buf : buf + off, iter % 2 ? len : n, iter % 2,
					fmts[g], TAIL_BYTES, 0, out, &olen, NULL);

				assert_int_equal(r, 0);
				assert_true(olen <= TAIL_BYTES);
			}
			for (int k = 0; k < 16; k++)
				assert_int_equal(out[TAIL_BYTES + k], 0x5a);
			/* A shorter tail is the end of the longer one. */
			{
				char small[100];
				size_t slen = SIZE_MAX;

				assert_int_equal(ew_runtime_log_tail_buf(buf, len, true, fmts[f],
									 sizeof(small), 0, small,
									 &slen, NULL),
						 0);
				assert_int_equal(ew_runtime_log_tail_buf(buf, len, true, fmts[f],
									 TAIL_BYTES, 0, out, &olen,
									 NULL),
						 0);
				assert_int_equal(slen, olen < sizeof(small) ? olen : sizeof(small));
				assert_memory_equal(small, out + olen - slen, slen);
			}
		}
		free(buf);
		free(orig);
	}
}

static void test_paths(void **state)
{
	static const char id[] = "6d36969a2615e45137df91c4bd9da7362f44526df02d0bf1ba594f82e9b81750";
	static const char uid[] = "1d5b9e3f-7a2c-4f6e-8b0d-2c4e6a8f0b1d";
	struct ew_t_scratch *t = *state;
	char out[PATH_MAX], dir[PATH_MAX], want[PATH_MAX], small[40];
	static const char *const names[] = {"0.log",
					    "1.log",
					    "9.log",
					    "10.log",
					    "11.log.20240501-120000",
					    "12.log.20240501-120000.gz",
					    "x.log",
					    ".log",
					    "13.log.tmp"};

	assert_int_equal(
		ew_runtime_log_docker_path(NULL, NULL, id, EW_LOG_DOCKER_JSON, out, sizeof(out)),
		0);
	assert_string_equal(out, "/var/lib/docker/containers/"
				 "6d36969a2615e45137df91c4bd9da7362f44526df02d0bf1ba594f82e9b81750"
				 "/"
				 "6d36969a2615e45137df91c4bd9da7362f44526df02d0bf1ba594f82e9b81750"
				 "-json.log");
	assert_int_equal(ew_runtime_log_docker_path("/host", "/data/docker", id,
						    EW_LOG_DOCKER_LOCAL, out, sizeof(out)),
			 0);
	assert_string_equal(out, "/host/data/docker/containers/"
				 "6d36969a2615e45137df91c4bd9da7362f44526df02d0bf1ba594f82e9b81750"
				 "/local-logs/container.log");
	assert_int_equal(ew_runtime_log_docker_path(NULL, NULL, "../../etc/shadow",
						    EW_LOG_DOCKER_JSON, out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(ew_runtime_log_docker_path(NULL, NULL, id, EW_LOG_CRI, out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(ew_runtime_log_docker_path(NULL, NULL, id, EW_LOG_DOCKER_JSON, small,
						    sizeof(small)),
			 -ENAMETOOLONG);

	assert_int_equal(ew_runtime_log_cri_path("/host", NULL, "shop", "api-7d9f8b6c4d-x2x7k", uid,
						 "backend", 3, out, sizeof(out)),
			 0);
	assert_string_equal(out, "/host/var/log/pods/shop_api-7d9f8b6c4d-x2x7k_"
				 "1d5b9e3f-7a2c-4f6e-8b0d-2c4e6a8f0b1d/backend/3.log");
	assert_int_equal(ew_runtime_log_cri_path(NULL, NULL, "..", "api", uid, "backend", 0, out,
						 sizeof(out)),
			 -EINVAL);
	assert_int_equal(ew_runtime_log_cri_path(NULL, NULL, "shop", "api", "not-a-uid", "backend",
						 0, out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(
		ew_runtime_log_cri_path(NULL, NULL, "shop", "api", uid, "a/b", 0, out, sizeof(out)),
		-EINVAL);

	/* The finder: the highest <n>.log; rotated and foreign names are not candidates. */
	snprintf(dir, sizeof(dir), "%s/pods", t->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/pods/shop_api_%s", t->dir, uid);
	assert_int_equal(mkdir(dir, 0700), 0);
	strcat(dir, "/backend");
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(ew_runtime_log_cri_path(t->dir, "/pods", "shop", "api", uid, "backend", -1,
						 out, sizeof(out)),
			 -ENOENT);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(want, sizeof(want), "%s/%s", dir, names[i]);
		spit(want, "", 0, "w");
	}
	assert_int_equal(ew_runtime_log_cri_path(t->dir, "/pods", "shop", "api", uid, "backend", -1,
						 out, sizeof(out)),
			 0);
	snprintf(want, sizeof(want), "%s/10.log", dir);
	assert_string_equal(out, want);
	assert_int_equal(ew_runtime_log_cri_path(t->dir, "/pods", "shop", "api", uid, "frontend",
						 -1, out, sizeof(out)),
			 -ENOENT);
}

/* Where an identity's log is: Docker by file present, Kubernetes by names, nothing else. */
static void test_locate(void **state)
{
	static const char id[] = "6d36969a2615e45137df91c4bd9da7362f44526df02d0bf1ba594f82e9b81750";
	static const char uid[] = "1d5b9e3f-7a2c-4f6e-8b0d-2c4e6a8f0b1d";
	struct ew_t_scratch *t = *state;
	struct ew_meta_paths paths = {.host_root = t->dir};
	struct ew_identity ident;
	enum ew_log_format fmt = 0;
	char out[PATH_MAX], want[PATH_MAX], dir[PATH_MAX];

	ew_meta_paths_default(&paths);

	/* Docker: json-file when its file is there, else the local driver's, else none. */
	memset(&ident, 0, sizeof(ident));
	ident.cg.runtime = EW_RT_DOCKER;
	strcpy(ident.cg.container_id, id);
	assert_int_equal(ew_runtime_log_locate(&paths, &ident, out, sizeof(out), &fmt), -ENOENT);
	snprintf(dir, sizeof(dir), "%s/var/lib/docker/containers/%s/local-logs", t->dir, id);
	assert_int_equal(ew_t_mkdirs(dir), 0);
	snprintf(want, sizeof(want), "%s/container.log", dir);
	spit(want, "", 0, "w");
	assert_int_equal(ew_runtime_log_locate(&paths, &ident, out, sizeof(out), &fmt), 0);
	assert_int_equal(fmt, EW_LOG_DOCKER_LOCAL);
	assert_string_equal(out, want);
	snprintf(want, sizeof(want), "%s/var/lib/docker/containers/%s/%s-json.log", t->dir, id, id);
	spit(want, "", 0, "w");
	assert_int_equal(ew_runtime_log_locate(&paths, &ident, out, sizeof(out), &fmt), 0);
	assert_int_equal(fmt, EW_LOG_DOCKER_JSON);
	assert_string_equal(out, want);
	/* A directory where the file should be is no log. */
	snprintf(want, sizeof(want), "%s/var/lib/docker/containers/%s/%s-json.log", t->dir, id, id);
	assert_int_equal(remove(want), 0);
	assert_int_equal(mkdir(want, 0700), 0);
	assert_int_equal(ew_runtime_log_locate(&paths, &ident, out, sizeof(out), &fmt), -ENOENT);

	/* Podman without its k8s-file log (no userdata/ctr.log here), bare cgroups: no file. */
	ident.cg.runtime = EW_RT_PODMAN;
	assert_int_equal(ew_runtime_log_locate(&paths, &ident, out, sizeof(out), &fmt), -ENOENT);
	ident.cg.runtime = EW_RT_CGROUP;
	ident.cg.container_id[0] = '\0';
	assert_int_equal(ew_runtime_log_locate(&paths, &ident, out, sizeof(out), &fmt), -ENOENT);

	/* Kubernetes: the pod's directory, the highest attempt. */
	memset(&ident, 0, sizeof(ident));
	ident.cg.runtime = EW_RT_CONTAINERD;
	ident.cg.kubernetes = true;
	strcpy(ident.cg.container_id, id);
	strcpy(ident.cg.pod_uid, uid);
	strcpy(ident.meta.pod_namespace, "shop");
	strcpy(ident.meta.pod_name, "checkout-6d5f7c9b8-q4w2x");
	strcpy(ident.meta.name, "backend");
	snprintf(dir, sizeof(dir), "%s/var/log/pods/shop_checkout-6d5f7c9b8-q4w2x_%s/backend",
		 t->dir, uid);
	assert_int_equal(ew_runtime_log_locate(&paths, &ident, out, sizeof(out), &fmt), -ENOENT);
	assert_int_equal(ew_t_mkdirs(dir), 0);
	for (int n = 0; n < 3; n++) {
		snprintf(want, sizeof(want), "%s/%d.log", dir, n);
		spit(want, "", 0, "w");
	}
	assert_int_equal(ew_runtime_log_locate(&paths, &ident, out, sizeof(out), &fmt), 0);
	assert_int_equal(fmt, EW_LOG_CRI);
	assert_string_equal(out, want);
	/* The sandbox, or a container whose name is unknown, has none. */
	ident.meta.sandbox = true;
	assert_int_equal(ew_runtime_log_locate(&paths, &ident, out, sizeof(out), &fmt), -ENOENT);
	ident.meta.sandbox = false;
	ident.meta.name[0] = '\0';
	assert_int_equal(ew_runtime_log_locate(&paths, &ident, out, sizeof(out), &fmt), -ENOENT);
	/* A name that cannot be a path component is no path, not an escape. */
	strcpy(ident.meta.name, "../../etc");
	assert_int_equal(ew_runtime_log_locate(&paths, &ident, out, sizeof(out), &fmt), -ENOENT);
	/* A static pod's uid (32 hex digits, kubeadm's etcd) names its directory as well. */
	strcpy(ident.cg.pod_uid, "d41d8cd98f00b204e9800998ecf8427e");
	strcpy(ident.meta.pod_namespace, "kube-system");
	strcpy(ident.meta.pod_name, "etcd-node1");
	strcpy(ident.meta.name, "etcd");
	snprintf(dir, sizeof(dir), "%s/var/log/pods/kube-system_etcd-node1_%s/etcd", t->dir,
		 ident.cg.pod_uid);
	assert_int_equal(ew_t_mkdirs(dir), 0);
	snprintf(want, sizeof(want), "%s/0.log", dir);
	spit(want, "", 0, "w");
	assert_int_equal(ew_runtime_log_locate(&paths, &ident, out, sizeof(out), &fmt), 0);
	assert_int_equal(fmt, EW_LOG_CRI);
	assert_string_equal(out, want);

	assert_string_equal(ew_log_format_name(EW_LOG_CRI), "cri");
	assert_string_equal(ew_log_format_name(EW_LOG_DOCKER_JSON), "docker-json-file");
	assert_string_equal(ew_log_format_name(EW_LOG_DOCKER_LOCAL), "docker-local");
	assert_null(ew_log_format_name(0));
}

/*
 * Docker 20.10+ "dual logging": a container of any driver that cannot be read back (journald,
 * the default of Fedora's and RHEL's Docker; syslog, fluentd, gelf, ...) keeps a local-format
 * cache at <docker root>/containers/<id>/container-cached.log (what `docker logs` reads). The
 * fixture is that file, written by this machine's Docker 20.10 for a --log-driver syslog
 * container that wrote "syslog line\n" on stderr.
 */
static void test_locate_dual_logging(void **state)
{
	static const char id[] = "6d36969a2615e45137df91c4bd9da7362f44526df02d0bf1ba594f82e9b81750";
	struct ew_t_scratch *t = *state;
	struct ew_meta_paths paths = {.host_root = t->dir};
	struct ew_identity ident;
	enum ew_log_format fmt = 0;
	char out[PATH_MAX], dir[PATH_MAX], want[PATH_MAX], tail[TAIL_BYTES], *buf;
	size_t len;

	/* The format is the one this module reads already. */
	len = tail_of(EW_FIXTURES_DIR "/runtime-log/docker-syslog-container-cached.log",
		      EW_LOG_DOCKER_LOCAL, sizeof(tail), 0, tail, NULL);
	check_bytes("cached", tail, len, "syslog line\n", 12);

	ew_meta_paths_default(&paths);
	memset(&ident, 0, sizeof(ident));
	ident.cg.runtime = EW_RT_DOCKER;
	strcpy(ident.cg.container_id, id);
	snprintf(dir, sizeof(dir), "%s/var/lib/docker/containers/%s", t->dir, id);
	assert_int_equal(ew_t_mkdirs(dir), 0);
	snprintf(want, sizeof(want), "%s/container-cached.log", dir);
	buf = slurp(EW_FIXTURES_DIR "/runtime-log/docker-syslog-container-cached.log", &len);
	spit(want, buf, len, "w");
	free(buf);
	assert_int_equal(ew_runtime_log_locate(&paths, &ident, out, sizeof(out), &fmt), 0);
	assert_int_equal(fmt, EW_LOG_DOCKER_LOCAL);
	assert_string_equal(out, want);
}

/* A test whose state is a scratch directory of its own (tests/harness/unit.h). */
#define TMP(fn) cmocka_unit_test_setup_teardown(fn, ew_t_scratch_setup, ew_t_scratch_teardown)

int main(void)
{
	const struct CMUnitTest parse_tests[] = {
		cmocka_unit_test(test_parse_time),	 cmocka_unit_test(test_docker_traceback),
		cmocka_unit_test(test_mix_whole_stream), cmocka_unit_test(test_mix_last_2k),
		cmocka_unit_test(test_mix_long_line),	 cmocka_unit_test(test_cri_partial),
		cmocka_unit_test(test_malformed_lines),	 cmocka_unit_test(test_buf_not_at_start),
		cmocka_unit_test(test_hostile_bytes),
	};
	const struct CMUnitTest file_tests[] = {
		TMP(test_10k_keeps_last_2k),
		TMP(test_truncated_last_line),
		TMP(test_local_junk),
		TMP(test_empty_and_missing),
		TMP(test_not_regular),
		TMP(test_big_file_bounded),
		TMP(test_docker_rotated),
		TMP(test_cri_kubelet_rotated),
		TMP(test_rotation_splits_partial_line),
		TMP(test_paths),
		TMP(test_locate),
		TMP(test_locate_dual_logging),
	};
	int r;

	r = cmocka_run_group_tests_name("runtime_log parsers", parse_tests, NULL, NULL);
	r += cmocka_run_group_tests_name("runtime_log files", file_tests, NULL, NULL);
	return r;
}
