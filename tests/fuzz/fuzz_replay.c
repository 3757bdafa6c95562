// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `exitwatch replay` on any file: recordings travel (attached to tickets, cut with head, edited
 * by hand to tune thresholds). The input goes through a memfd to the real replay driver,
 * ew_replay_run() (src/agent/replay_run.c), which drives the real pipeline (detector, hold,
 * renderers) into a file output on another memfd: every line written there must be one strict
 * JSON object in valid UTF-8 whatever the recording held. A first pass through ew_replay_read()
 * alone checks what the reader hands its callbacks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <json-c/json.h>

#include "exitwatch/agent/pipeline.h"
#include "exitwatch/agent/replay_run.h"
#include "exitwatch/cli/config.h"
#include "exitwatch/output/output.h"
#include "exitwatch/replay/recorder.h"
#include "exitwatch/util/buf.h"
#include "exitwatch/util/log.h"
#include "fuzz/fuzz.h"

static void check_line(const struct ew_buf *b)
{
	struct json_tokener *tok;
	struct json_object *o;

	EW_FUZZ_CHECK(b->len && b->data[b->len - 1] == '\n', "a record without its newline");
	EW_FUZZ_CHECK(memchr(b->data, '\n', b->len) == b->data + b->len - 1,
		      "a record of more than one line: %s", b->data);
	EW_FUZZ_CHECK(ew_fuzz_utf8(b->data, b->len), "a record in invalid UTF-8: %s", b->data);
	tok = json_tokener_new();
	EW_FUZZ_CHECK(tok, "json_tokener_new failed");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, b->data, (int)b->len - 1);
	EW_FUZZ_CHECK(o && json_tokener_get_error(tok) == json_tokener_success &&
			      json_tokener_get_parse_end(tok) == b->len - 1 &&
			      json_object_is_type(o, json_type_object),
		      "a record that is not one JSON object: %s", b->data);
	json_object_put(o);
	json_tokener_free(tok);
}

/* Every line of the output file, each checked on its own. */
static void check_lines(int fd)
{
	struct ew_buf line = EW_BUF_INIT;
	off_t size = lseek(fd, 0, SEEK_END);
	char *data;
	size_t off = 0;

	EW_FUZZ_CHECK(size >= 0, "lseek failed");
	if (!size)
		return;
	data = malloc((size_t)size);
	EW_FUZZ_CHECK(data, "out of memory");
	EW_FUZZ_CHECK(pread(fd, data, (size_t)size, 0) == size, "short read of the output");
	EW_FUZZ_CHECK(data[size - 1] == '\n', "output ends in the middle of a line");
	while (off < (size_t)size) {
		const char *nl = memchr(data + off, '\n', (size_t)size - off);
		size_t len = (size_t)(nl - (data + off)) + 1;

		ew_buf_reset(&line);
		EW_FUZZ_CHECK(ew_buf_append(&line, data + off, len) == 0, "out of memory");
		check_line(&line);
		off += len;
	}
	ew_buf_free(&line);
	free(data);
}

/* The reader's contract: what it hands the pipeline is well formed. */
static int on_event(void *ctx, const struct ew_event *ev, const struct ew_identity *id)
{
	(void)ctx;
	EW_FUZZ_CHECK(ev->type == EW_EVENT_START || ev->type == EW_EVENT_EXIT ||
			      ev->type == EW_EVENT_READY || ev->type == EW_EVENT_START_FAILED,
		      "event type %d", (int)ev->type);
	EW_FUZZ_CHECK(ev->time_ns, "an event without a time");
	EW_FUZZ_CHECK(ev->tail_len <= sizeof(ev->tail), "tail_len %u", ev->tail_len);
	/* A runtime's start error is a failed start's tail, and a failed start has no other. */
	EW_FUZZ_CHECK(!ev->tail_len || (ev->type == EW_EVENT_START_FAILED) ==
					       (ev->tail_source == EW_TAIL_START_ERROR),
		      "tail source %d in an event of type %d", (int)ev->tail_source, (int)ev->type);
	EW_FUZZ_TERMINATED(ev->comm);
	EW_FUZZ_TERMINATED(ev->cgroup);
	EW_FUZZ_TERMINATED(ev->filename);
	EW_FUZZ_TERMINATED(ev->argv0);
	EW_FUZZ_TERMINATED(ev->listener_comm);
	EW_FUZZ_TERMINATED(ev->killer.comm);
	EW_FUZZ_CHECK(id->key[0], "an identity without a key");
	EW_FUZZ_CHECK(id->cg.runtime <= EW_RT_CGROUP, "runtime %d", (int)id->cg.runtime);
	EW_FUZZ_TERMINATED(id->cgroup);
	EW_FUZZ_TERMINATED(id->key);
	EW_FUZZ_TERMINATED(id->workload);
	EW_FUZZ_TERMINATED(id->display);
	EW_FUZZ_TERMINATED(id->cg.container_id);
	EW_FUZZ_TERMINATED(id->meta.name);
	return 0;
}

static int on_drops(void *ctx, uint64_t time_ns, uint64_t total)
{
	(void)ctx;
	(void)time_ns;
	(void)total;
	return 0;
}

/* A step is kept as the agent keeps it: any value read is one the pipeline takes. */
static int on_clock_step(void *ctx, uint64_t time_ns, int64_t step_ns)
{
	(void)ctx;
	(void)time_ns;
	EW_FUZZ_CHECK(step_ns != INT64_MIN && step_ns != INT64_MAX, "step %lld",
		      (long long)step_ns);
	return 0;
}

static int on_end(void *ctx, uint64_t time_ns)
{
	(void)ctx;
	(void)time_ns;
	return 0;
}

static int memfd(const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	EW_FUZZ_CHECK(fd >= 0, "memfd_create failed");
	return fd;
}

/* The reader's errors: one line, naming the file. */
static void check_result(int r, const char *err, size_t errlen, const char *path)
{
	EW_FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM, "returned %d", r);
	EW_FUZZ_CHECK(strnlen(err, errlen) < errlen, "err not terminated");
	if (r < 0) {
		EW_FUZZ_CHECK(r == -ENOMEM || !strncmp(err, path, strlen(path)),
			      "message does not name the file: %s", err);
		EW_FUZZ_CHECK(ew_fuzz_one_line(err), "message is not one line: %s", err);
	} else {
		EW_FUZZ_CHECK(!err[0], "success with a message: %s", err);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ew_replay_cbs cbs = {
		.event = on_event, .drops = on_drops, .clock_step = on_clock_step, .end = on_end};
	static int in_fd = -1, out_fd = -1;
	const struct ew_replay_run_opts ro = {0}; /* at once, never stopped */
	struct ew_config *cfg;
	struct ew_outputs *out;
	struct ew_pipeline *pipe;
	char path[64], spec[80], node[256], err[512];
	int r, r2;

	if (in_fd < 0) {
		in_fd = memfd("fuzz-replay");
		out_fd = memfd("fuzz-replay-out");
		ew_log_init(EW_LOG_ERROR); /* the pipeline's warnings are expected here */
	}
	if (ftruncate(in_fd, 0) || pwrite(in_fd, data, size, 0) != (ssize_t)size ||
	    ftruncate(out_fd, 0))
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", in_fd);
	snprintf(spec, sizeof(spec), "file:/proc/self/fd/%d", out_fd);

	memset(node, 'x', sizeof(node));
	err[0] = '\0';
	r = ew_replay_read(path, &cbs, NULL, node, sizeof(node), err, sizeof(err));
	check_result(r, err, sizeof(err), path);
	if (!r)
		EW_FUZZ_TERMINATED(node);

	/* As ew_agent_replay(): outputs, the pipeline over them, the run, the drain. */
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return 0;
	ew_config_init(cfg);
	cfg->out.file_max_bytes = 0; /* one file, never rotated */
	out = ew_outputs_new(&cfg->out);
	EW_FUZZ_CHECK(out, "ew_outputs_new failed");
	EW_FUZZ_CHECK(ew_outputs_add(out, spec, err, sizeof(err)) == 0, "add %s: %s", spec, err);
	pipe = ew_pipeline_new(cfg, &(struct ew_pipeline_deps){.out = out});
	EW_FUZZ_CHECK(pipe, "ew_pipeline_new failed");
	err[0] = '\0';
	r2 = ew_replay_run(path, pipe, out, &ro, err, sizeof(err));
	check_result(r2, err, sizeof(err), path);
	EW_FUZZ_CHECK(r2 == r || r2 == -ENOMEM || r == -ENOMEM,
		      "ew_replay_run returned %d, ew_replay_read %d", r2, r);
	ew_outputs_drain(out, 0);
	ew_pipeline_free(pipe);
	ew_outputs_free(out);
	check_lines(out_fd);
	ew_config_free(cfg);
	free(cfg);
	return 0;
}
