// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The one-sentence "message" of a record (ew_record_message, declared in render_json.h): who it
 * is about, then what happened. Both renderers use it (render_json.c, render_text.c), so a line
 * says the same in either format. Pure, like them: what does not fit the caller's buffer is cut.
 *
 * The sentences of the records every container gives (start, ready, exit) are put together
 * with the small appender below rather than snprintf(), whose format parsing was a quarter of
 * rendering a record; the appender cuts exactly where snprintf() would. So are findings and
 * resolutions, which a crash loop gives as often as exits; the agent's own records, a few an
 * hour, keep snprintf(). Who a record is about, and an exit's summary and meaning, depend on
 * less than the record: the JSON renderer keeps them with its cache and hands them back
 * (struct ew_message_parts), so a container's exit does not make again what its start made.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "exitwatch/util/clock.h"
#include "exitwatch/detect/detector.h"
#include "exitwatch/render/render_json.h"
#include "exitwatch/util/bytes16.h"
#include "exitwatch/util/decimal.h"
#include "exitwatch/util/util.h"

/* Appends to out[0..cap), keeping the NUL: what does not fit is cut, as snprintf() cuts. */
struct sbuf {
	char *out;
	size_t len, cap; /* cap > 0 */
};

static void sb_init(struct sbuf *b, char *out, size_t cap)
{
	*b = (struct sbuf){.out = out, .cap = cap};
	out[0] = '\0';
}

/* Inline, as sb_puts(): most of a sentence is literals, whose strlen() then folds away. */
static inline void sb_put(struct sbuf *b, const char *s, size_t n)
{
	size_t room = b->cap - 1 - b->len;

	if (n > room)
		n = room;
	memcpy(b->out + b->len, s, n);
	b->len += n;
	b->out[b->len] = '\0';
}

static inline void sb_puts(struct sbuf *b, const char *s)
{
	if (!s)
		s = "(null)"; /* what glibc's printf writes for it */
	sb_put(b, s, strlen(s));
}

/* "%u", "%llu" */
static void sb_putu(struct sbuf *b, uint64_t v)
{
	char tmp[EW_DECIMAL_LEN], *p = ew_decimal_u64(v, tmp + sizeof(tmp) - 1);

	sb_put(b, p, (size_t)(tmp + sizeof(tmp) - 1 - p));
}

/* "%d" */
static void sb_putd(struct sbuf *b, int v)
{
	char tmp[EW_DECIMAL_LEN], *p = ew_decimal_i64(v, tmp + sizeof(tmp) - 1);

	sb_put(b, p, (size_t)(tmp + sizeof(tmp) - 1 - p));
}

#ifdef EW_BYTES16
/* Some byte below 0x20 (its top three bits clear), or DEL, among sixteen. */
static inline bool block_control(ew_u8x16 v)
{
	return ew_bytes16_any((ew_s8x16)(((v & 0xe0) == 0) | (v == 0x7f)));
}
#else
/* The same among eight (Hacker's Delight 6-1: exact, no false positive). */
static inline bool has_control(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t del = x ^ (0x7f * ones);

	return ((x - 0x20 * ones) & ~x & highs) | ((del - ones) & ~del & highs);
}
#endif

/*
 * Control bytes and DEL become '?'. Sixteen bytes at a time, the last block overlapping, a
 * string of 4 to 15 bytes as two overlapping words in one block (a word at a time where there
 * are no vectors): the pieces are mostly short (a comm, a name) and almost never hold one, so
 * one passes in a few instructions. Only a hit goes byte by byte.
 */
static void printable(char *s, size_t n)
{
	uint64_t x;
	uint32_t lo, hi;

#ifdef EW_BYTES16
	if (n >= 16) {
		for (size_t i = 0; i + 16 < n; i += 16)
			if (block_control(ew_bytes16_load(s + i)))
				goto bytes;
		if (!block_control(ew_bytes16_load(s + n - 16)))
			return;
	} else if (n >= 8) {
		uint64_t y;

		memcpy(&x, s, 8);
		memcpy(&y, s + n - 8, 8);
		if (!block_control(ew_bytes16_words(x, y)))
			return;
	} else if (n >= 4) {
		memcpy(&lo, s, 4);
		memcpy(&hi, s + n - 4, 4);
		x = (uint64_t)hi << 32 | lo;
		if (!block_control(ew_bytes16_words(x, x)))
			return;
	}
#else
	if (n >= 8) {
		for (size_t i = 0; i + 8 < n; i += 8) {
			memcpy(&x, s + i, 8);
			if (has_control(x))
				goto bytes;
		}
		memcpy(&x, s + n - 8, 8);
		if (!has_control(x))
			return;
	} else if (n >= 4) {
		memcpy(&lo, s, 4);
		memcpy(&hi, s + n - 4, 4);
		if (!has_control((uint64_t)hi << 32 | lo))
			return;
	}
#endif
bytes:
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = '?';
}

/*
 * A string from the workload or the configuration (a name, a comm, a meaning), made printable
 * as it is appended: the rest of the start, ready and exit sentences is literals, numbers and
 * the tables' names, printable already, and need not be scanned again.
 */
static void sb_put_text_n(struct sbuf *b, const char *s, size_t n)
{
	size_t from = b->len;

	sb_put(b, s, n);
	printable(b->out + from, b->len - from);
}

static void sb_put_text(struct sbuf *b, const char *s)
{
	if (!s)
		s = "(null)"; /* as sb_puts() */
	sb_put_text_n(b, s, strlen(s));
}

/* "SIGTERM was sent by runc (pid 4242, host)": an exit's and its findings' words for it. */
static void sb_killer(struct sbuf *b, const struct ew_killer_info *k)
{
	sb_puts(b, ew_signal_name(k->signal) ?: "the signal");
	sb_puts(b, " was sent by ");
	sb_put_text(b, k->comm);
	sb_puts(b, " (pid ");
	sb_putu(b, k->pid);
	sb_puts(b, ", ");
	sb_put_text(b, k->container[0] ? k->container : "unknown");
	sb_put(b, ")", 1);
}

/* "web-1 (docker 1a2b3c4d5e6f)", "nginx.service", "/mygroup". */
void ew_message_who(const struct ew_identity *id, char *out, size_t len)
{
	struct sbuf b;

	sb_init(&b, out, len);
	if (id->cg.container_id[0]) {
		if (id->meta.name[0]) {
			sb_put_text(&b, id->meta.pod_namespace);
			if (id->meta.pod_namespace[0])
				sb_put(&b, "/", 1);
			sb_put_text(&b, id->meta.name);
			sb_put(&b, " (", 2);
		}
		sb_puts(&b, ew_runtime_name(id->cg.runtime));
		sb_puts(&b, id->meta.name[0] ? " " : " container ");
		/* The short id: its first 12 characters. */
		sb_put_text_n(&b, id->cg.container_id, strnlen(id->cg.container_id, 12));
		if (id->meta.name[0])
			sb_put(&b, ")", 1);
	} else {
		sb_put_text(&b, id->display[0] ? id->display : id->cgroup);
	}
}

/* The last non-empty line of a stderr tail, printable, for a one-line message. */
static void tail_last_line(const char *tail, uint32_t len, char *out, size_t outlen)
{
	uint32_t end = len, start;
	size_t o = 0;

	while (end && (tail[end - 1] == '\n' || tail[end - 1] == '\r' || tail[end - 1] == ' '))
		end--;
	start = end;
	while (start && tail[start - 1] != '\n')
		start--;
	for (uint32_t i = start; i < end && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)tail[i];

		out[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	out[o] = '\0';
}

/*
 * What a failed start's runtime error says went wrong, without the layers it went through:
 * runc's "failed to create shim task: OCI runtime create failed: runc create failed: unable to
 * start container process: exec: \"/app\": stat /app: no such file or directory: unknown"
 * says "exec: \"/app\": stat /app: no such file or directory". An error of another shape is
 * kept whole (its first line). Control bytes become '?'. The record's start_error has all of
 * it.
 */
static void start_error_cause(const char *s, uint32_t len, char *out, size_t outlen)
{
	static const char mark[] = "container process: ", unknown[] = ": unknown";
	const size_t ml = sizeof(mark) - 1, ul = sizeof(unknown) - 1;
	uint32_t from = 0, end;

	for (uint32_t i = 0; i + ml <= len; i++)
		if (!memcmp(s + i, mark, ml))
			from = i + (uint32_t)ml;
	for (end = from; end < len && s[end] != '\n'; end++)
		;
	while (end > from && (s[end - 1] == ' ' || s[end - 1] == '\r'))
		end--;
	if (end - from > ul && !memcmp(s + end - ul, unknown, ul))
		end -= (uint32_t)ul;
	if (end - from >= outlen)
		end = from + (uint32_t)outlen - 1;
	for (uint32_t i = from; i < end; i++)
		out[i - from] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[end - from] = '\0';
}

void ew_message_exit_what(const struct ew_event *ev, enum ew_exit_class cls, char *out, size_t len)
{
	const char *sig = ew_signal_name(ev->status.signal);
	struct sbuf b;

	sb_init(&b, out, len);
	if (cls == EW_CLASS_OOM_KILLED) {
		sb_puts(&b, "was killed by the OOM killer");
		return;
	}
	if (cls == EW_CLASS_START_FAILED) {
		/* crun may SIGKILL its init when it fails; runc's exits. */
		if (ev->status.signal) {
			sb_puts(&b, "failed to start: its runtime killed its init with ");
			sb_puts(&b, sig ? sig : "a signal");
		} else {
			sb_puts(&b, "failed to start: its runtime's init exited with code ");
			sb_putd(&b, ev->status.code);
		}
		sb_puts(&b, " (start_failed)");
		return;
	}
	if (ev->status.signal) {
		sb_puts(&b, "was killed by ");
		sb_puts(&b, sig ? sig : "a signal");
		sb_puts(&b, ev->status.core_dumped ? ", core dumped (" : " (");
	} else {
		sb_puts(&b, "exited with code ");
		sb_putd(&b, ev->status.code);
		sb_put(&b, " (", 2);
	}
	sb_puts(&b, ew_exit_class_name(cls));
	sb_put(&b, ")", 1);
}

void ew_message_printable(char *s)
{
	printable(s, strlen(s));
}

static void message_exit(const struct ew_record *r, const struct ew_render_ctx *ctx,
			 const char *who, const struct ew_message_parts *parts, char *out,
			 size_t len)
{
	const struct ew_event *ev = r->ev;
	const char *meaning, *what;
	char own_what[EW_MESSAGE_WHAT_LEN], up[32], line[160], killer[224], cause[320];
	struct sbuf b;
	bool kept = parts && parts->what;

	/* Set by hand, not "= \"\"": that clears the whole array, every exit. */
	line[0] = killer[0] = cause[0] = '\0';

	/* Kept: the caller's, made by the two functions below from an exit with the same status
	 * word, class and meaning, the meaning already printable. */
	meaning = kept ? parts->meaning : ew_exit_meaning(ev, ctx->classes);
	what = kept ? parts->what : own_what;
	if (!kept)
		ew_message_exit_what(ev, r->cls, own_what, sizeof(own_what));
	ew_duration_format(ev->uptime_ns, up, sizeof(up));
	if (ev->has_killer) {
		sb_init(&b, killer, sizeof(killer));
		sb_puts(&b, "; ");
		sb_killer(&b, &ev->killer);
	}
	if (ev->tail_source == EW_TAIL_START_ERROR)
		start_error_cause(ev->tail, ev->tail_len, cause, sizeof(cause));
	else if (r->cls != EW_CLASS_CLEAN && ev->tail_len)
		tail_last_line(ev->tail, ev->tail_len, line, sizeof(line));
	/* The meaning of a signal is already in "killed by SIGx"; a code's, a failed start's not. */
	sb_init(&b, out, len);
	sb_puts(&b, who);
	sb_put(&b, " ", 1);
	sb_puts(&b, what);
	sb_puts(&b, " after ");
	sb_puts(&b, up);
	if (cause[0]) { /* the runtime's own words for what its init could not do */
		sb_puts(&b, ": its command never ran: ");
		sb_puts(&b, cause); /* made printable by start_error_cause(), as line is */
	} else if (meaning && (!ev->status.signal || r->cls == EW_CLASS_START_FAILED)) {
		sb_put(&b, ": ", 2);
		if (kept)
			sb_puts(&b, meaning);
		else
			sb_put_text(&b, meaning);
	}
	sb_puts(&b, killer);
	if (line[0]) {
		sb_puts(&b, "; last stderr: ");
		sb_puts(&b, line);
	}
}

/* "%.*f" */
static void sb_putf(struct sbuf *b, double v, int decimals)
{
	char tmp[EW_DECIMAL_LEN];

	sb_put(b, tmp, ew_decimal_double(tmp, v, decimals));
}

/* "; last exit: SIGKILL (killed), SIGKILL was sent by ...: <line>" into last. */
static void finding_last_exit(const struct ew_finding *f, const char *killer, const char *line,
			      char *last, size_t len)
{
	const char *sig = ew_signal_name(f->last_signal);
	struct sbuf b;

	sb_init(&b, last, len);
	if (f->last_signal) {
		sb_puts(&b, "; last exit: ");
		sb_puts(&b, sig ? sig : "signal");
	} else {
		sb_puts(&b, "; last exit: code ");
		sb_putd(&b, f->last_code);
	}
	sb_puts(&b, " (");
	sb_puts(&b, ew_exit_class_name(f->last_class));
	sb_put(&b, ")", 1);
	sb_puts(&b, killer);
	if (line[0]) {
		sb_put(&b, ": ", 2);
		sb_puts(&b, line);
	}
}

/* What a windowed rule's sentence ends with: the restart intervals, the last exit, the loss. */
static void window_rest(struct sbuf *b, const struct ew_finding *f, const char *every,
			const char *last)
{
	sb_puts(b, every);
	sb_puts(b, last);
	if (f->degraded)
		sb_puts(b, "; events were lost in this window");
}

/* " in 5m (threshold: more than 3)" and the rest, after a count. */
static void count_rest(struct sbuf *b, const struct ew_finding *f, const char *win,
		       const char *every, const char *last)
{
	sb_puts(b, " in ");
	sb_puts(b, win);
	sb_puts(b, " (threshold: more than ");
	sb_putu(b, f->threshold);
	sb_put(b, ")", 1);
	window_rest(b, f, every, last);
}

/*
 * Put together with the appender, as the exit's sentence is: in a crash loop findings come with
 * the restarts, and snprintf() was a third of rendering one. The pieces go through buffers of
 * the sizes they always had, so each is cut where it was.
 */
static void message_finding(const struct ew_record *r, const char *who, char *out, size_t len)
{
	const struct ew_finding *f = r->finding;
	char win[32], med[32], lo[32], hi[32], every[128] = "", last[448] = "", line[160] = "";
	char killer[240] = "";
	const char *sig = ew_signal_name(f->last_signal);
	struct sbuf b;

	ew_duration_format(f->window_ns, win, sizeof(win));
	if (f->intervals) {
		ew_duration_format((uint64_t)(f->interval_median_s * 1e9), med, sizeof(med));
		ew_duration_format((uint64_t)(f->interval_min_s * 1e9), lo, sizeof(lo));
		ew_duration_format((uint64_t)(f->interval_max_s * 1e9), hi, sizeof(hi));
		sb_init(&b, every, sizeof(every));
		sb_puts(&b, "; it restarts every ~");
		sb_puts(&b, med);
		sb_puts(&b, " (min ");
		sb_puts(&b, lo);
		sb_puts(&b, ", max ");
		sb_puts(&b, hi);
		sb_put(&b, ")", 1);
	}
	if (f->tail_len && f->tail_start_error)
		start_error_cause(f->tail, f->tail_len, line, sizeof(line));
	else if (f->tail_len)
		tail_last_line(f->tail, f->tail_len, line, sizeof(line));
	if (f->last_killer) { /* "; last exit: SIGKILL (killed), SIGKILL was sent by ..." */
		sb_init(&b, killer, sizeof(killer));
		sb_puts(&b, ", ");
		sb_killer(&b, f->last_killer);
	}
	if (f->has_last_exit)
		finding_last_exit(f, killer, line, last, sizeof(last));
	sb_init(&b, out, len);
	sb_puts(&b, who);
	switch (f->rule) {
	case EW_RULE_EXIT_CODE_BURST:
		sb_puts(&b, " exited ");
		sb_putu(&b, f->count);
		sb_puts(&b, " times with code ");
		sb_putd(&b, f->nhist ? f->hist[0].code : f->last_code);
		count_rest(&b, f, win, every, last);
		break;
	case EW_RULE_RESTART_RATE:
		sb_puts(&b, " restarted ");
		sb_putu(&b, f->count);
		sb_puts(&b, " times");
		count_rest(&b, f, win, every, last);
		break;
	case EW_RULE_STARTUP_FAILURE_RATE:
		sb_put(&b, ": ", 2);
		sb_putu(&b, f->failed_starts);
		sb_puts(&b, " of ");
		sb_putu(&b, f->starts);
		sb_puts(&b, " starts failed in ");
		sb_puts(&b, win);
		sb_puts(&b, " (");
		sb_putf(&b, f->fail_percent, 1);
		sb_puts(&b, "%, threshold ");
		sb_putf(&b, f->threshold_percent, 1);
		sb_puts(&b, "%)");
		window_rest(&b, f, every, last);
		break;
	case EW_RULE_CRASH_LOOP:
		sb_puts(&b, " failed ");
		sb_putu(&b, f->count);
		sb_puts(&b, " starts in a row, ");
		/* A failed start's runtime's code or signal is not what the streak shares. */
		if (f->last_class == EW_CLASS_START_FAILED) {
			sb_puts(&b, "without running its command");
		} else if (f->last_signal) {
			sb_puts(&b, "each ending with ");
			sb_puts(&b, sig ? sig : "a signal");
		} else {
			sb_puts(&b, "each ending with code ");
			sb_putd(&b, f->last_code);
		}
		sb_puts(&b, ", over ");
		sb_puts(&b, win);
		sb_puts(&b, every);
		/* What their last words are: stderr, or the runtime's error of starts that never
		 * ran. */
		if (!f->tail_len)
			sb_puts(&b, "; no stderr to compare");
		else
			sb_puts(&b, f->tail_start_error ? "; the runtime's error "
							: "; the last stderr line ");
		if (f->tail_len)
			sb_puts(&b, f->line_repeats >= f->count ? "was the same each time"
				    : f->line_repeats > 1	? "repeated, not every time"
								: "changed");
		sb_puts(&b, last);
		if (f->degraded)
			sb_puts(&b, "; events were lost meanwhile");
		break;
	case EW_RULE_STABLE:
		ew_duration_format(f->uptime_ns, win, sizeof(win));
		sb_puts(&b, " is stable again: up ");
		sb_puts(&b, win);
		sb_puts(&b, " after a restart loop");
		break;
	default:
		sb_puts(&b, ": finding");
	}
}

static void message_resolved(const struct ew_record *r, const char *who, char *out, size_t len)
{
	const struct ew_finding *f = r->finding;
	char dur[32], quiet[32], what[128];
	struct sbuf b;

	ew_duration_format(f->duration_ns, dur, sizeof(dur));
	sb_init(&b, what, sizeof(what));
	if (f->why == EW_RESOLVED_QUIET) {
		/* Not a fix seen: the container is gone or stopped. The quiet period is the time
		 * since the last exit, which the record carries. */
		ew_duration_format(f->has_last_exit && f->time_ns > f->last_exit_ns
					   ? f->time_ns - f->last_exit_ns
					   : 0,
				   quiet, sizeof(quiet));
		sb_puts(&b, "has not started again for ");
		sb_puts(&b, quiet);
		sb_puts(&b, " since its last exit (removed, replaced or stopped)");
	} else if (f->why == EW_RESOLVED_NO_STARTS) {
		/* The failures aged out of the window with no start after them: not a fix seen
		 * either. */
		ew_duration_format(f->window_ns, quiet, sizeof(quiet));
		sb_puts(&b, "had no start succeed or fail for ");
		sb_puts(&b, quiet);
		sb_puts(&b, " (removed, replaced or stopped)");
	} else if (f->why == EW_RESOLVED_RULE_OFF) {
		/* Restored from a state file into an agent that no longer runs the rule. */
		sb_puts(&b, "is no longer watched: rule ");
		sb_puts(&b, ew_rule_name(f->rule));
		sb_puts(&b, " is turned off");
	} else if (f->why == EW_RESOLVED_SCOPE_CHANGED) {
		/* Restored into an agent whose rule counts in the other scope: a finding of that
		 * scope may follow, under another finding_id. */
		sb_puts(&b, "is no longer watched per ");
		sb_puts(&b, f->scope == EW_SCOPE_WORKLOAD ? "workload" : "identity");
		sb_puts(&b, ": rule ");
		sb_puts(&b, ew_rule_name(f->rule));
		sb_puts(&b, " counts per ");
		sb_puts(&b, f->scope == EW_SCOPE_WORKLOAD ? "identity" : "workload");
		sb_puts(&b, " now");
	} else {
		sb_puts(&b, f->rule == EW_RULE_EXIT_CODE_BURST
				    ? "stopped exiting with the burst's codes"
			    : f->rule == EW_RULE_RESTART_RATE ? "stopped restarting"
			    : f->rule == EW_RULE_CRASH_LOOP   ? "started successfully"
							      : "starts successfully again");
	}
	sb_init(&b, out, len);
	sb_puts(&b, "Resolved: ");
	sb_puts(&b, who);
	sb_put(&b, " ", 1);
	sb_puts(&b, what);
	sb_puts(&b, " after ");
	sb_puts(&b, dur);
	sb_puts(&b, " (");
	sb_putu(&b, f->total);
	sb_puts(&b, " events in the episode)");
}

void ew_record_message(const struct ew_record *r, const struct ew_render_ctx *ctx, char *out,
		       size_t len)
{
	ew_record_message_parts(r, ctx, NULL, out, len);
}

void ew_record_message_parts(const struct ew_record *r, const struct ew_render_ctx *ctx,
			     const struct ew_message_parts *parts, char *out, size_t len)
{
	char own_who[EW_MESSAGE_WHO_LEN], dur[32];
	const struct ew_agent_status *a = r->agent;
	const char *wl, *who = own_who;
	struct sbuf b;

	if (!len)
		return;
	out[0] = '\0'; /* a type without a sentence gets an empty one */
	if (r->id && parts && parts->who)
		who = parts->who;
	else if (r->id)
		ew_message_who(r->id, own_who, sizeof(own_who));
	else
		memcpy(own_who, "exitwatch", sizeof("exitwatch"));
	switch (r->type) {
	case EW_REC_START:
		sb_init(&b, out, len);
		sb_puts(&b, who);
		if (r->ev->seeded) {
			sb_puts(&b, " is running: ");
		} else if (r->startup && r->startup->restarts) {
			sb_puts(&b, " restarted (restart ");
			sb_putu(&b, r->startup->restarts);
			sb_puts(&b, "): ");
		} else {
			sb_puts(&b, " started: ");
		}
		sb_put_text(&b, r->ev->comm);
		sb_puts(&b, " (pid ");
		sb_putu(&b, r->ev->pid);
		sb_puts(&b, r->ev->seeded ? "), found at start-up" : ")");
		if (r->startup && r->startup->unseen) {
			sb_puts(&b, "; it restarted while no agent ran (restart ");
			sb_putu(&b, r->startup->restarts);
			sb_put(&b, ")", 1);
		}
		break;
	case EW_REC_READY:
		sb_init(&b, out, len);
		sb_puts(&b, who);
		if (r->ev->seeded) {
			sb_puts(&b, " is listening (");
			sb_put_text(&b, r->ev->listener_comm);
			sb_puts(&b, ", pid ");
			sb_putu(&b, r->ev->listener_pid);
			sb_put(&b, ")", 1);
		} else {
			ew_duration_format(r->ev->startup_ns, dur, sizeof(dur));
			sb_puts(&b, " is ready: ");
			sb_put_text(&b, r->ev->listener_comm);
			sb_puts(&b, " listened ");
			sb_puts(&b, dur);
			sb_puts(&b, " after start");
		}
		break;
	case EW_REC_EXIT:
		message_exit(r, ctx, who, parts, out, len);
		break;
	case EW_REC_FINDING:
		wl = r->finding->scope == EW_SCOPE_WORKLOAD && r->id ? r->id->workload : NULL;
		if (wl && strcmp(wl, r->id->key) && r->finding->identities > 1) {
			sb_init(&b, own_who, sizeof(own_who));
			who = own_who;
			sb_puts(&b, "Workload ");
			sb_puts(&b, wl);
			sb_puts(&b, " (");
			sb_putu(&b, r->finding->identities);
			sb_puts(&b, " containers)");
		}
		message_finding(r, who, out, len);
		break;
	case EW_REC_RESOLVED:
		message_resolved(r, who, out, len);
		break;
	case EW_REC_AGENT:
		if (!strcmp(a->phase, "start"))
			snprintf(out, len,
				 "exitwatch %s started on kernel %s: %u containers already "
				 "running",
				 a->version, a->kernel, a->scan_mains);
		else {
			int n = snprintf(out, len,
					 "exitwatch %s: %u containers tracked, %llu records lost "
					 "in the kernel%s",
					 !strcmp(a->phase, "stop") ? "stopping" : "status",
					 a->tracked, (unsigned long long)a->drops,
					 a->drops ? " (by kind: agent.kernel_events.dropped_*)"
						  : "");

			if (a->kstats[EW_STAT_MAP_FULL] && n > 0 && (size_t)n < len)
				n += snprintf(out + n, len - (size_t)n,
					      ", %llu container main processes not tracked (the "
					      "kernel's container map is full: raise "
					      "--max-containers)",
					      (unsigned long long)a->kstats[EW_STAT_MAP_FULL]);
			if (a->forgotten_in_window && n > 0 && (size_t)n < len)
				snprintf(out + n, len - (size_t)n,
					 ", %llu identities forgotten within their rules' windows "
					 "(the detector's memory is full: raise max_identities or "
					 "memory_budget)",
					 (unsigned long long)a->forgotten_in_window);
		}
		break;
	}
	/* Names, comm and argv come from the workload: the sentence stays one printable line. The
	 * start, ready and exit sentences made their workload's strings printable as they went
	 * (sb_put_text()); the rest, made by snprintf(), are scanned whole. */
	if (r->type == EW_REC_FINDING || r->type == EW_REC_RESOLVED || r->type == EW_REC_AGENT)
		printable(out, strlen(out));
}
