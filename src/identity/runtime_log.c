// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The stderr tail from the runtime's log file (include/exitwatch/runtime_log.h). The file is
 * read from its end backwards, in chunks that double from RL_CHUNK_MIN, into one buffer filled
 * from its end, so that a line that spans two chunks is contiguous and no byte is read twice;
 * entries are met newest first and their stderr bytes are prepended to the tail, so the walk
 * stops as soon as the tail is full or an entry older than since_ns comes. Cost: O(bytes read),
 * at most EW_RUNTIME_LOG_SCAN_MAX per call, whatever the file's size. One entry is parsed by
 * runtime_log_parse.c (json-file lines through json-c, the project's JSON parser; CRI lines and
 * the local driver's protobuf by hand, bounds-checked byte by byte). The bytes come from a
 * container: nothing in them is trusted. Where a container's file is, and its rotated one:
 * runtime_log_path.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "exitwatch/identity/runtime_log.h"
#include "identity/runtime_log_int.h"
#include "exitwatch/util/cleanup.h"

/* The first read: a 2 KiB tail is in the last 16 KiB of almost any log. Doubles after. */
#define RL_CHUNK_MIN (16 * 1024)
/* A file truncated under the read is read again from its new end, this many times at most. */
#define RL_RETRIES 3
/* Bytes of local-driver frames parsed per file, at most: 4 times what a clean walk parses. */
#define RL_LOCAL_WORK_MAX (4 * EW_RUNTIME_LOG_SCAN_MAX)
/* A json-file entry is flat, its "attrs" one level deeper: anything deeper is not Docker's. */
#define RL_JSON_DEPTH 8

enum {
	RL_GO,
	RL_DONE
};

/* The tail, filled from its end: entries come newest first. */
struct rl_acc {
	char *out;
	size_t max;
	size_t have; /* bytes at out + max - have */
};

struct rl_ctx {
	struct rl_acc acc;
	uint64_t since_ns;
	struct ew_log_stats *stats;
	json_tokener *tok; /* json-file only */
};

/* The bytes held, [lo, hi), at the end of buf; lo only moves down, so pointers stay valid. */
struct rl_src {
	const char *lo, *hi;
	bool at_start; /* lo is the file's first byte */
	int fd;	       /* -1: a buffer in memory, nothing more to read */
	char *buf;
	uint64_t off; /* file offset of lo */
	size_t chunk;
	struct ew_log_stats *stats;
};

/* Prepends the last bytes of p that fit. Returns true when the tail is full. */
static bool rl_prepend(struct rl_acc *a, const char *p, size_t n)
{
	size_t room = a->max - a->have, take = n < room ? n : room;

	if (take) {
		memcpy(a->out + room - take, p + n - take, take);
		a->have += take;
	}
	return a->have == a->max;
}

/*
 * Reads the next chunk before lo. 1 when bytes came, 0 when none can (the file's start, or the
 * buffer, sized to the scan budget, is full), -EAGAIN when the file shrank (truncated), -errno.
 */
static int rl_more(struct rl_src *s)
{
	size_t room, n, got = 0;
	char *dst;

	if (s->fd < 0 || s->at_start)
		return 0;
	room = (size_t)(s->lo - s->buf);
	n = room < s->chunk ? room : s->chunk;
	if (n > s->off)
		n = (size_t)s->off;
	if (n == 0)
		return 0;
	dst = s->buf + room - n;
	while (got < n) {
		ssize_t r = pread(s->fd, dst + got, n - got, (off_t)(s->off - n + got));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EAGAIN;
		got += (size_t)r;
	}
	s->lo -= n;
	s->off -= n;
	s->at_start = s->off == 0;
	s->chunk *= 2;
	s->stats->scanned_bytes += n;
	return 1;
}

/* The entry's verdict once its time and stream are known; prepends its bytes when stderr. */
static int rl_entry(struct rl_ctx *c, const struct ew_rl_entry *e)
{
	if (e->time_ns < c->since_ns) {
		/* Files are appended in time order: all before this is the previous instance. */
		c->stats->reached_since = true;
		return RL_DONE;
	}
	if (!e->is_stderr)
		return RL_GO;
	c->stats->entries++;
	if (e->newline && rl_prepend(&c->acc, "\n", 1))
		return RL_DONE;
	return rl_prepend(&c->acc, e->data, e->len) ? RL_DONE : RL_GO;
}

static int rl_cri_line(struct rl_ctx *c, const char *p, size_t n)
{
	struct ew_rl_entry e;

	if (ew_rl_parse_cri(p, n, &e) < 0) {
		c->stats->malformed++;
		return RL_GO;
	}
	return rl_entry(c, &e);
}

static int rl_json_line(struct rl_ctx *c, const char *p, size_t n)
{
	struct ew_rl_entry e;
	json_object *o;
	int r;

	if (ew_rl_parse_json(c->tok, p, n, &e, &o) < 0) {
		c->stats->malformed++;
		return RL_GO;
	}
	r = rl_entry(c, &e);
	json_object_put(o);
	return r;
}

typedef int (*rl_line_fn)(struct rl_ctx *c, const char *p, size_t n);

/*
 * Lines newest first. The last line, without its "\n" yet, is an entry being written and is
 * not taken; nor is the first line held when it does not start at the file's start.
 */
static int rl_walk_lines(struct rl_src *s, struct rl_ctx *c, rl_line_fn fn)
{
	const char *e = NULL, *scan_end = s->hi, *nl;
	int r;

	for (;;) {
		nl = scan_end > s->lo ? memrchr(s->lo, '\n', (size_t)(scan_end - s->lo)) : NULL;
		if (!nl) {
			/* [lo, scan_end) has no newline: search only what the next read brings. */
			scan_end = s->lo;
			r = rl_more(s);
			if (r < 0)
				return r;
			if (r > 0)
				continue;
			if (!s->at_start) {
				c->stats->scan_limited = c->acc.have < c->acc.max;
				return 0;
			}
			c->stats->reached_start = true;
			if (e)
				fn(c, s->lo, (size_t)(e - 1 - s->lo));
			return 0;
		}
		if (e && fn(c, nl + 1, (size_t)(e - 1 - (nl + 1))) == RL_DONE)
			return 0;
		e = nl + 1;
		scan_end = nl;
	}
}

static uint32_t rl_be32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

/*
 * Frames newest first: the trailing length leads back to the frame's start. A frame that does
 * not check out (the last one half-written, or junk) is skipped a byte at a time until a
 * consistent frame ends there again; that costs O(1) per byte (two lengths to compare) and
 * counts once as malformed. The local driver stores lines without their "\n": a line ends
 * where an entry is not partial, or is the last part of a partial line.
 */
static int rl_walk_frames(struct rl_src *s, struct rl_ctx *c)
{
	const char *e = s->hi;
	bool chained = false, resyncing = false;
	size_t work = 0;
	int r;

	for (;;) {
		size_t held = (size_t)(e - s->lo);
		struct ew_rl_entry pe;
		uint32_t len = held >= 4 ? rl_be32(e - 4) : 0;

		if (held < 8 || held - 8 < len) {
			/* A frame longer than the budget cannot be read: junk, or never ours. */
			r = len <= EW_RUNTIME_LOG_SCAN_MAX - 8 ? rl_more(s) : 0;
			if (r < 0)
				return r;
			if (r > 0)
				continue;
			if (held < 8) {
				if (!s->at_start)
					c->stats->scan_limited = c->acc.have < c->acc.max;
				else
					c->stats->reached_start = true;
				if (s->at_start && held && !resyncing)
					c->stats->malformed++;
				return 0;
			}
			/*
			 * After a good frame, a plausible length that reaches past what the budget
			 * let us read is a frame we cannot have; anything else does not frame.
			 */
			if (chained && !s->at_start && len <= EW_RUNTIME_LOG_SCAN_MAX - 8) {
				c->stats->scan_limited = c->acc.have < c->acc.max;
				return 0;
			}
			goto mismatch;
		}
		if (rl_be32(e - 8 - len) != len)
			goto mismatch;
		/*
		 * A chain parses each byte once; only crafted junk, consistent lengths around
		 * long almost-valid messages, could make the resync parse much more: cap it.
		 */
		work += len;
		if (work > RL_LOCAL_WORK_MAX) {
			c->stats->malformed++;
			return 0;
		}
		if (ew_rl_parse_local(e - 4 - len, len, &pe) < 0)
			goto mismatch;
		chained = true;
		resyncing = false;
		if (rl_entry(c, &pe) == RL_DONE)
			return 0;
		e -= (size_t)len + 8;
		continue;
	mismatch:
		if (!resyncing)
			c->stats->malformed++;
		resyncing = true;
		chained = false;
		e--;
	}
}

static int rl_walk(struct rl_src *s, enum ew_log_format fmt, struct rl_ctx *c)
{
	switch (fmt) {
	case EW_LOG_DOCKER_JSON:
		return rl_walk_lines(s, c, rl_json_line);
	case EW_LOG_CRI:
		return rl_walk_lines(s, c, rl_cri_line);
	case EW_LOG_DOCKER_LOCAL:
		return rl_walk_frames(s, c);
	}
	return -EPROTONOSUPPORT;
}

static bool rl_format_valid(enum ew_log_format fmt)
{
	return fmt == EW_LOG_DOCKER_JSON || fmt == EW_LOG_CRI || fmt == EW_LOG_DOCKER_LOCAL;
}

static int rl_ctx_init(struct rl_ctx *c, enum ew_log_format fmt, size_t max_bytes,
		       uint64_t since_ns, char *out, struct ew_log_stats *stats)
{
	*c = (struct rl_ctx){
		.acc = {.out = out, .max = max_bytes}, .since_ns = since_ns, .stats = stats};
	if (fmt != EW_LOG_DOCKER_JSON)
		return 0;
	c->tok = json_tokener_new_ex(RL_JSON_DEPTH);
	if (!c->tok)
		return -ENOMEM;
	json_tokener_set_flags(c->tok, JSON_TOKENER_STRICT);
	return 0;
}

/* Moves the tail, built at the end of out, to its start. */
static void rl_ctx_finish(struct rl_ctx *c, size_t *out_len)
{
	if (c->acc.have && c->acc.have < c->acc.max)
		memmove(c->acc.out, c->acc.out + c->acc.max - c->acc.have, c->acc.have);
	*out_len = c->acc.have;
	if (c->tok)
		json_tokener_free(c->tok);
	c->tok = NULL;
}

int ew_runtime_log_tail_buf(const char *buf, size_t len, bool at_start, enum ew_log_format fmt,
			    size_t max_bytes, uint64_t since_ns, char *out, size_t *out_len,
			    struct ew_log_stats *stats)
{
	struct ew_log_stats dummy = {0};
	struct rl_src s = {.lo = buf, .hi = buf + len, .at_start = at_start, .fd = -1};
	struct rl_ctx c;
	int r;

	if (!out_len || (len && !buf) || (max_bytes && !out))
		return -EINVAL;
	*out_len = 0;
	if (!rl_format_valid(fmt))
		return -EPROTONOSUPPORT;
	if (!max_bytes)
		return 0;
	s.stats = stats ? stats : &dummy;
	r = rl_ctx_init(&c, fmt, max_bytes, since_ns, out, s.stats);
	if (r < 0)
		return r;
	r = rl_walk(&s, fmt, &c);
	rl_ctx_finish(&c, out_len);
	return r;
}

/* As ew_meta_read_file() opens: lstat first so no device is ever opened, then never block. */
static int rl_open(const char *path)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return errno == ENOTDIR ? -ENOENT : -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return errno == ELOOP ? -EINVAL : -errno;
	if (fstat(fd, &st) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* One file, at most budget bytes of it, into c. A file that shrinks meanwhile is read again. */
static int rl_tail_file(const char *path, enum ew_log_format fmt, struct rl_ctx *c, size_t budget)
{
	_cleanup_close_ int fd = rl_open(path);
	size_t have0 = c->acc.have;
	struct ew_log_stats stats0 = *c->stats;

	if (fd < 0)
		return fd;
	for (int attempt = 0; attempt < RL_RETRIES; attempt++) {
		_cleanup_free_ char *buf = NULL;
		struct stat st;
		size_t cap;
		int r;

		if (fstat(fd, &st) < 0)
			return -errno;
		cap = (uint64_t)st.st_size < budget ? (size_t)st.st_size : budget;
		buf = malloc(cap ? cap : 1);
		if (!buf)
			return -ENOMEM;
		struct rl_src s = {.lo = buf + cap,
				   .hi = buf + cap,
				   .at_start = st.st_size == 0,
				   .fd = fd,
				   .buf = buf,
				   .off = (uint64_t)st.st_size,
				   .chunk = RL_CHUNK_MIN,
				   .stats = c->stats};
		off_t size0 = st.st_size;

		r = rl_walk(&s, fmt, c);
		/* Truncated under us (copytruncate, or a new instance): what we read may be mixed. */
		if (r == 0 && fstat(fd, &st) == 0 && st.st_size < size0)
			r = -EAGAIN;
		if (r != -EAGAIN)
			return r;
		c->acc.have = have0;
		*c->stats = stats0;
	}
	return -EAGAIN;
}

int ew_runtime_log_tail(const char *path, enum ew_log_format fmt, size_t max_bytes,
			uint64_t since_ns, char *out, size_t *out_len, struct ew_log_stats *stats)
{
	struct ew_log_stats dummy;
	char rotated[PATH_MAX];
	struct rl_ctx c;
	int r;

	if (!out_len)
		return -EINVAL;
	*out_len = 0;
	if (!stats)
		stats = &dummy;
	*stats = (struct ew_log_stats){0};
	if (!path || !*path || (max_bytes && !out))
		return -EINVAL;
	if (!rl_format_valid(fmt))
		return -EPROTONOSUPPORT;
	r = rl_ctx_init(&c, fmt, max_bytes, since_ns, out, stats);
	if (r < 0)
		return r;
	if (max_bytes == 0) {
		/* Nothing to read, but the caller learns whether the file is there. */
		r = rl_open(path);
		if (r >= 0)
			close(r);
		rl_ctx_finish(&c, out_len);
		return r < 0 ? r : 0;
	}
	r = rl_tail_file(path, fmt, &c, EW_RUNTIME_LOG_SCAN_MAX);
	/*
	 * A file rotated a moment ago may hold only the last few lines, the rest of the current
	 * instance's are in the rotated one: Docker's and the kubelet's rotations alike.
	 */
	if (r == 0 && c.acc.have < c.acc.max && stats->reached_start && !stats->reached_since &&
	    stats->scanned_bytes < EW_RUNTIME_LOG_SCAN_MAX &&
	    ew_rl_rotated_path(path, fmt, rotated, sizeof(rotated)) == 0) {
		stats->reached_start = false;
		r = rl_tail_file(rotated, fmt, &c,
				 EW_RUNTIME_LOG_SCAN_MAX - (size_t)stats->scanned_bytes);
		stats->rotated = r == 0;
		/* Without a readable rotated file, the current one's tail is the answer. */
		if (r < 0 && r != -ENOMEM) {
			stats->reached_start = r == -ENOENT;
			r = 0;
		}
	}
	rl_ctx_finish(&c, out_len);
	if (r < 0)
		*out_len = 0;
	return r;
}
