// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `exitwatch replay` on any file: recordings travel (attached to tickets, cut with head, edited
 * by hand to tune thresholds). The input goes to ew_replay_read() through a memfd; each event
 * it yields goes where the real replay sends it: the detector, and the JSON renderer, whose
 * every line must be one strict JSON object in valid UTF-8 whatever the recording held.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <json-c/json.h>

#include "exitwatch/util/buf.h"
#include "exitwatch/detect/detector.h"
#include "exitwatch/core/exit_class.h"
#include "exitwatch/replay/recorder.h"
#include "exitwatch/render/render_json.h"
#include "fuzz/fuzz.h"

struct replay {
	struct ew_detector *det;
	struct ew_class_config classes;
	struct ew_render_ctx rctx;
	struct ew_buf out;
	struct ew_identity scratch; /* a finding's subject, unpacked */
	uint64_t last_end;
};

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

static void render(struct replay *rp, const struct ew_record *r)
{
	int err;

	ew_buf_reset(&rp->out);
	err = ew_render_json(r, &rp->rctx, &rp->out);
	EW_FUZZ_CHECK(err == 0 || err == -ENOMEM, "render returned %d", err);
	if (!err)
		check_line(&rp->out);
}

static void on_finding(void *ctx, const struct ew_finding *f)
{
	struct replay *rp = ctx;
	struct ew_record r = {.type = f->resolved ? EW_REC_RESOLVED : EW_REC_FINDING,
			      .time_ns = f->time_ns,
			      .finding = f,
			      .id = &rp->scratch};

	EW_FUZZ_CHECK(f->subject, "a finding without a subject");
	ew_subject_unpack(f->subject, &rp->scratch);
	render(rp, &r);
}

static int on_event(void *ctx, const struct ew_event *ev, const struct ew_identity *id)
{
	struct replay *rp = ctx;
	enum ew_exit_class cls = EW_CLASS_CLEAN;
	struct ew_startup su = {0};
	struct ew_record r = {.time_ns = ev->time_ns, .ev = ev, .id = id, .startup = &su};
	int err;

	EW_FUZZ_CHECK(ev->type == EW_EVENT_START || ev->type == EW_EVENT_EXIT ||
			      ev->type == EW_EVENT_READY,
		      "event type %d", (int)ev->type);
	EW_FUZZ_CHECK(ev->time_ns, "an event without a time");
	EW_FUZZ_CHECK(ev->tail_len <= sizeof(ev->tail), "tail_len %u", ev->tail_len);
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

	/* As ew_pipeline_replay(): classify, seed, observe, then the event's own record. */
	if (ev->type == EW_EVENT_EXIT)
		cls = ew_exit_classify(ev, &rp->classes);
	EW_FUZZ_CHECK((unsigned)cls < EW_CLASS__COUNT, "class %d", (int)cls);
	if (ev->type == EW_EVENT_START && id->meta.restart_count > 0)
		ew_detector_seed_restarts(rp->det, id, (uint32_t)id->meta.restart_count);
	err = ew_detector_observe(rp->det, ev, id, cls, on_finding, rp, &su);
	EW_FUZZ_CHECK(err == 0 || err == -ENOMEM, "observe returned %d", err);
	r.cls = cls;
	r.type = ev->type == EW_EVENT_START   ? EW_REC_START
		 : ev->type == EW_EVENT_READY ? EW_REC_READY
					      : EW_REC_EXIT;
	render(rp, &r);
	return 0;
}

static int on_drops(void *ctx, uint64_t time_ns, uint64_t total)
{
	struct replay *rp = ctx;

	ew_detector_note_drops(rp->det, time_ns, total);
	return 0;
}

static int on_end(void *ctx, uint64_t time_ns)
{
	struct replay *rp = ctx;

	rp->last_end = time_ns;
	ew_detector_advance(rp->det, time_ns, on_finding, rp);
	return 0;
}

static int input_fd(void)
{
	static int fd = -1;

	if (fd < 0)
		fd = memfd_create("fuzz-replay", MFD_CLOEXEC);
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ew_replay_cbs cbs = {on_event, on_drops, on_end};
	struct ew_detector_config dcfg;
	struct replay *rp;
	char path[64], node[256], err[512];
	int fd = input_fd(), r;

	EW_FUZZ_CHECK(fd >= 0, "memfd_create failed");
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rp = calloc(1, sizeof(*rp));
	if (!rp)
		return 0;
	ew_detector_config_default(&dcfg);
	rp->det = ew_detector_new(&dcfg);
	EW_FUZZ_CHECK(rp->det, "ew_detector_new failed");
	ew_class_config_default(&rp->classes);
	rp->rctx.classes = &rp->classes;
	rp->rctx.node = node;

	memset(node, 'x', sizeof(node));
	err[0] = '\0';
	r = ew_replay_read(path, &cbs, rp, node, sizeof(node), err, sizeof(err));
	EW_FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM, "returned %d", r);
	EW_FUZZ_TERMINATED(err);
	if (r < 0) {
		EW_FUZZ_CHECK(r == -ENOMEM || !strncmp(err, path, strlen(path)),
			      "message does not name the file: %s", err);
		EW_FUZZ_CHECK(ew_fuzz_one_line(err), "message is not one line: %s", err);
	} else {
		EW_FUZZ_CHECK(!err[0], "success with a message: %s", err);
		EW_FUZZ_TERMINATED(node);
	}
	ew_detector_free(rp->det);
	ew_buf_free(&rp->out);
	free(rp);
	return 0;
}
