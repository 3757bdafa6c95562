// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "exitwatch/identity/identity.h"
#include "exitwatch/replay/codec.h"
#include "exitwatch/replay/recorder.h"
#include "exitwatch/util/util.h"
#include "exitwatch/util/cleanup.h"

/* A line holds at most one event: the hex tail (8 KiB) plus a few hundred bytes of fields. */
#define EW_RECORD_LINE_MAX (64 * 1024)

struct ew_recorder {
	FILE *f;
	struct ew_buf line;
};

static int write_line(struct ew_recorder *r)
{
	if (ew_buf_failed(&r->line))
		return -ENOMEM;
	if (fwrite(r->line.data, 1, r->line.len, r->f) != r->line.len)
		return -EIO;
	return 0;
}

/* Whether the regular file at path is the live recording of another agent (its flock held). */
static bool recording_busy(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode))
		return false;
	return flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

int ew_recorder_open(const char *path, const char *node, struct ew_recorder **ret, char *err,
		     size_t errlen)
{
	struct ew_recorder *r;
	struct ew_jsonw w;
	char prev[PATH_MAX];
	struct stat st;
	int fd, kept = 0;

	/*
	 * A recording another agent is writing now (an operator's run beside the DaemonSet with
	 * the same configuration): moving it aside would leave that agent writing into PATH.1,
	 * which the next start replaces, and the two recordings each hold half a story.
	 */
	if (recording_busy(path)) {
		snprintf(err, errlen,
			 "the recording %s is being written by another exitwatch agent: give this "
			 "one another --record path",
			 path);
		return -EBUSY;
	}
	/*
	 * An agent restarted on the same path (its config file's record, a rollout, a crash) would
	 * truncate the run before it, the one that held what is to be replayed: kept as PATH.1
	 * (replacing an older one). Streams (a pipe, /dev/stdout) and empty files are not.
	 */
	if (!stat(path, &st) && S_ISREG(st.st_mode) && st.st_size > 0) {
		snprintf(prev, sizeof(prev), "%s.1", path);
		/* Not kept (a directory the agent may not write): overwritten, as said in err,
		 * rather than no recording at all. */
		kept = rename(path, prev) ? 2 : 1;
		if (kept == 2)
			snprintf(err, errlen, "could not keep the previous recording as %s (%s)",
				 prev, strerror(errno));
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = -errno;

		snprintf(err, errlen, "cannot create the recording %s: %s", path, strerror(-e));
		return e;
	}
	/* Held for the agent's life (the kernel drops it at its exit): recording_busy(). */
	if (!fstat(fd, &st) && S_ISREG(st.st_mode))
		(void)flock(fd, LOCK_EX | LOCK_NB);
	r = calloc(1, sizeof(*r));
	if (!r || !(r->f = fdopen(fd, "w"))) {
		free(r);
		close(fd);
		return -ENOMEM;
	}
	ew_jsonw_init(&w, &r->line);
	ew_jsonw_start_object(&w);
	ew_jsonw_uint_field(&w, "exitwatch_record", EW_RECORD_VERSION);
	ew_jsonw_string_field(&w, "node", node);
	ew_jsonw_end_object(&w);
	ew_buf_putc(&r->line, '\n');
	if (ew_jsonw_finish(&w) || write_line(r)) {
		snprintf(err, errlen, "cannot write the recording %s", path);
		ew_recorder_close(r);
		return -EIO;
	}
	*ret = r;
	return kept;
}

int ew_recorder_event(struct ew_recorder *r, const struct ew_event *ev,
		      const struct ew_identity *id)
{
	struct ew_jsonw w;

	ew_buf_reset(&r->line);
	ew_jsonw_init(&w, &r->line);
	ew_jsonw_start_object(&w);
	ew_jsonw_name(&w, "event");
	ew_jsonw_start_object(&w);
	ew_codec_write_event_members(&w, ev);
	ew_jsonw_end_object(&w);
	ew_jsonw_name(&w, "identity");
	ew_codec_write_identity(&w, id);
	ew_jsonw_end_object(&w);
	if (ew_jsonw_finish(&w))
		return -EINVAL;
	ew_buf_putc(&r->line, '\n');
	return write_line(r);
}

int ew_recorder_drops(struct ew_recorder *r, uint64_t time_ns, uint64_t total)
{
	ew_buf_reset(&r->line);
	ew_buf_printf(&r->line, "{\"drops\":{\"time\":%llu,\"total\":%llu}}\n",
		      (unsigned long long)time_ns, (unsigned long long)total);
	return write_line(r);
}

int ew_recorder_clock_step(struct ew_recorder *r, uint64_t time_ns, int64_t step_ns)
{
	ew_buf_reset(&r->line);
	ew_buf_printf(&r->line, "{\"clock_step\":{\"time\":%llu,\"step_ns\":%lld}}\n",
		      (unsigned long long)time_ns, (long long)step_ns);
	return write_line(r);
}

int ew_recorder_end(struct ew_recorder *r, uint64_t time_ns)
{
	ew_buf_reset(&r->line);
	ew_buf_printf(&r->line, "{\"end\":{\"time\":%llu}}\n", (unsigned long long)time_ns);
	return write_line(r);
}

int ew_recorder_flush(struct ew_recorder *r)
{
	return fflush(r->f) ? -errno : 0;
}

void ew_recorder_close(struct ew_recorder *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	ew_buf_free(&r->line);
	free(r);
}

/*
 * A recording keeps each event's identity whole, without the revision the live agent's resolver
 * gave it (ew_identity.rev: the renderer keeps an identity's rendered parts by it). A replay
 * gives one the same way: a new revision to each identity that differs from the last one seen
 * under its key's slot, the same one to an identity seen again unchanged. So a container's exit
 * reuses its start's parts, as it does live, and a changed identity (its names resolved, a
 * restart count) is rendered anew. A slot's identity is kept packed, a few hundred bytes, and
 * handed on as the identity's packed copy (ew_identity.packed), as the resolver hands on its own.
 */
#define REV_SLOTS 256

struct revisions {
	struct {
		struct ew_subject *subject;
		uint64_t rev;
	} slot[REV_SLOTS];
	uint64_t last;
};

static void revision_give(struct revisions *rv, struct ew_identity *id)
{
	size_t i = ew_fnv1a(EW_FNV1A_INIT, id->key, strnlen(id->key, sizeof(id->key))) % REV_SLOTS;

	if (!rv->slot[i].subject || !ew_subject_same(rv->slot[i].subject, id)) {
		ew_subject_free(rv->slot[i].subject);
		id->rev = ++rv->last; /* packed with it, as the resolver packs its own */
		rv->slot[i].subject = ew_subject_pack(id);
		/* Out of memory: no revision, so nothing is reused (rendered whole). */
		rv->slot[i].rev = rv->slot[i].subject ? id->rev : 0;
	}
	id->rev = rv->slot[i].rev;
	/* The detector takes a hold of it instead of packing its own, as it does live. */
	id->packed = rv->slot[i].subject;
}

static void revisions_freep(struct revisions **rv)
{
	for (size_t i = 0; *rv && i < REV_SLOTS; i++)
		ew_subject_free((*rv)->slot[i].subject);
	free(*rv);
}

static int replay_line(struct json_object *o, const struct ew_replay_cbs *cbs, void *ctx,
		       struct revisions *rv, char *msg, size_t msglen)
{
	struct json_object *ev_o, *id_o, *mark;
	uint64_t t, total;
	int64_t step;
	struct ew_identity id;
	struct ew_event *ev;
	int r;

	if ((r = ew_codec_member(o, "end", EW_JSON_OBJECT, &mark, msg, msglen)) || mark) {
		r = r ?: ew_codec_read_end(mark, &t, msg, msglen);
		return r || !cbs->end ? r : cbs->end(ctx, t);
	}
	if ((r = ew_codec_member(o, "drops", EW_JSON_OBJECT, &mark, msg, msglen)) || mark) {
		r = r ?: ew_codec_read_drops(mark, &t, &total, msg, msglen);
		return r || !cbs->drops ? r : cbs->drops(ctx, t, total);
	}
	if ((r = ew_codec_member(o, "clock_step", EW_JSON_OBJECT, &mark, msg, msglen)) || mark) {
		r = r ?: ew_codec_read_clock_step(mark, &t, &step, msg, msglen);
		return r || !cbs->clock_step ? r : cbs->clock_step(ctx, t, step);
	}
	if (!ew_json_has(o, "event") || !ew_json_has(o, "identity")) {
		snprintf(msg, msglen, "a line without \"event\" and \"identity\"");
		return -EINVAL;
	}
	r = ew_codec_member(o, "event", EW_JSON_OBJECT, &ev_o, msg, msglen);
	if (!r) {
		json_object_object_get_ex(o, "identity", &id_o);
		r = ew_codec_read_identity(id_o, "identity", &id, msg, msglen);
	}
	if (r)
		return r;
	revision_give(rv, &id);
	ev = malloc(sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	r = ew_codec_read_event(ev_o, ev, msg, msglen);
	if (!r)
		r = cbs->event(ctx, ev, &id);
	free(ev);
	return r;
}

/*
 * Reads one line of at most EW_RECORD_LINE_MAX bytes into buf (EW_RECORD_LINE_MAX + 1 bytes;
 * NUL-terminated, newline dropped) and its length, NUL bytes in it included, into *len.
 * Returns 1 for a line, 0 at the end, -E2BIG for a longer line (its rest is not read into
 * memory), or -errno. A byte at a time from stdio's buffer: fgets() cannot say where a line
 * with a NUL in it ends (strlen() stops at the NUL), and getline() has no cap, so a file with no
 * newline would be read whole into memory.
 */
static int read_line(FILE *f, char *buf, size_t *len)
{
	size_t n = 0;
	int c;

	errno = 0;
	while ((c = getc_unlocked(f)) != EOF && c != '\n') {
		if (n == EW_RECORD_LINE_MAX)
			return -E2BIG;
		buf[n++] = (char)c;
	}
	if (c == EOF && ferror(f))
		return -(errno ? errno : EIO);
	if (c == EOF && !n)
		return 0;
	buf[n] = '\0';
	*len = n; /* an empty line is still a line (and not valid JSON) */
	return 1;
}

/*
 * One line, one JSON object: a line with a second event after the first, or anything but
 * whitespace, is refused rather than read in part. 0 and *ret, or -errno with msg.
 */
static int parse_line(const char *line, size_t len, struct json_object **ret, char *msg,
		      size_t msglen)
{
	struct ew_json_parse_status st;
	int r = ew_json_parse(line, len, ret, &st);

	if (r == -ENOMEM)
		return r;
	if (r) {
		if (st.error == EW_JSON_PARSE_TRAILING)
			snprintf(msg, msglen, "text after the JSON object (at column %zu)",
				 st.at + 1);
		else
			snprintf(msg, msglen, "not a JSON object (%s)",
				 st.error == EW_JSON_PARSE_INVALID ? st.desc
								   : "unexpected end of data");
		return -EINVAL;
	}
	if (!json_object_is_type(*ret, json_type_object)) {
		snprintf(msg, msglen, "not a JSON object (wrong type)");
		json_object_put(*ret);
		*ret = NULL;
		return -EINVAL;
	}
	return 0;
}

/*
 * A recording is read front to back once, so a stream does as well as a file: a pipe
 * (`exitwatch replay <(zcat rec.gz)`, /dev/stdin) or a character device (/dev/null, an empty
 * one). A directory opens (fopen() does not refuse one) but cannot be read; anything else (a
 * block device) is not a recording. 0, or -errno with "PATH: why" in err.
 */
static int not_a_recording_file(FILE *f, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fileno(f), &st)) {
		int r = -errno;

		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: is a directory, not a recording", path);
		return -EISDIR;
	}
	if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file, pipe or character device", path);
		return -EINVAL;
	}
	return 0;
}

int ew_replay_read(const char *path, const struct ew_replay_cbs *cbs, void *ctx, char *node,
		   size_t nodelen, char *err, size_t errlen)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *line = NULL;
	__attribute__((cleanup(revisions_freep))) struct revisions *rv = NULL;
	size_t lineno = 0, len = 0;
	int n, r = 0;

	if (!f) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	r = not_a_recording_file(f, path, err, errlen);
	if (r)
		/* cppcheck-suppress resourceLeak ; _cleanup_fclose_ closes f */
		return r;
	line = malloc(EW_RECORD_LINE_MAX + 1);
	rv = calloc(1, sizeof(*rv));
	if (!line || !rv)
		/* cppcheck-suppress resourceLeak ; _cleanup_fclose_ closes f */
		return -ENOMEM;
	while ((n = read_line(f, line, &len)) > 0) {
		char msg[160] = "";
		struct json_object *o, *v;

		lineno++;
		if (memchr(line, '\0', len)) {
			snprintf(err, errlen, "%s:%zu: NUL byte in line", path, lineno);
			return -EINVAL;
		}
		r = parse_line(line, len, &o, msg, sizeof(msg));
		if (r) {
			if (msg[0])
				snprintf(err, errlen, "%s:%zu: %s", path, lineno, msg);
			return r;
		}
		if (lineno == 1) {
			if (ew_json_u64(o, "exitwatch_record", 0) != EW_RECORD_VERSION) {
				snprintf(err, errlen,
					 "%s:1: not an exitwatch recording (version %d expected)",
					 path, EW_RECORD_VERSION);
				json_object_put(o);
				return -EINVAL;
			}
			r = ew_codec_member(o, "node", EW_JSON_STRING, &v, msg, sizeof(msg));
			ew_strlcpy(node, v ? json_object_get_string(v) : "", nodelen);
			json_object_put(o);
			if (r) {
				snprintf(err, errlen, "%s:1: %s", path, msg);
				return r;
			}
			continue;
		}
		r = replay_line(o, cbs, ctx, rv, msg, sizeof(msg));
		json_object_put(o);
		if (r) {
			if (msg[0])
				snprintf(err, errlen, "%s:%zu: %s", path, lineno, msg);
			return r;
		}
	}
	if (n == -E2BIG) {
		snprintf(err, errlen, "%s:%zu: line longer than %d bytes", path, lineno + 1,
			 EW_RECORD_LINE_MAX);
		return -EINVAL;
	}
	if (n < 0) {
		snprintf(err, errlen, "%s:%zu: %s", path, lineno + 1, strerror(-n));
		return n;
	}
	if (lineno == 0) {
		snprintf(err, errlen, "%s: empty file, not an exitwatch recording", path);
		return -EINVAL;
	}
	return 0;
}
