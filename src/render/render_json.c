// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Records as NDJSON, shaped for Cloud Logging's structured logs: severity, message, time,
 * logging.googleapis.com/labels and a deterministic logging.googleapis.com/insertId. Every
 * string that comes from a workload goes through the writer's escaper. The "message" sentence
 * is message.c's (ew_record_message), shared with the text renderer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exitwatch/util/decimal.h"
#include "exitwatch/util/clock.h"
#include "exitwatch/detect/detector.h"
#include "exitwatch/core/hex.h"
#include "exitwatch/core/json_writer.h"
#include "exitwatch/render/render_json.h"
#include "exitwatch/util/util.h"

/*
 * Member names here are this file's own literals, written unscanned (json_writer.h,
 * EW_JSONW_KEY()): KEY("pid") is the two arguments of ew_jsonw_name_quoted().
 */
#define KEY(lit) EW_JSONW_KEY(lit)

static inline void field_string(struct ew_jsonw *w, const char *k, size_t kl, const char *s)
{
	ew_jsonw_member_string_n(w, k, kl, s, s ? strlen(s) : 0);
}

/* One of the program's own words: see ew_jsonw_plain_n(). */
static inline void field_plain(struct ew_jsonw *w, const char *k, size_t kl, const char *s)
{
	ew_jsonw_name_quoted(w, k, kl);
	ew_jsonw_plain_n(w, s, strlen(s));
}

static inline void field_string_n(struct ew_jsonw *w, const char *k, size_t kl, const char *s,
				  size_t n)
{
	ew_jsonw_member_string_n(w, k, kl, s, n);
}

static inline void field_uint(struct ew_jsonw *w, const char *k, size_t kl, uint64_t v)
{
	ew_jsonw_name_quoted(w, k, kl);
	ew_jsonw_uint(w, v);
}

static inline void field_int(struct ew_jsonw *w, const char *k, size_t kl, int64_t v)
{
	ew_jsonw_name_quoted(w, k, kl);
	ew_jsonw_int(w, v);
}

static inline void field_bool(struct ew_jsonw *w, const char *k, size_t kl, bool v)
{
	ew_jsonw_name_quoted(w, k, kl);
	ew_jsonw_bool(w, v);
}

static inline void field_double(struct ew_jsonw *w, const char *k, size_t kl, double v,
				int decimals)
{
	ew_jsonw_name_quoted(w, k, kl);
	ew_jsonw_double(w, v, decimals);
}

static inline void field_null(struct ew_jsonw *w, const char *k, size_t kl)
{
	ew_jsonw_name_quoted(w, k, kl);
	ew_jsonw_null(w);
}

/*
 * Container records (start, ready, exit) are most of what a node writes, and their shape is
 * fixed: the renderer below lays them out itself, appending this file's own literals (names
 * and punctuation joined at compile time) and the values, instead of asking the writer for
 * each name, value and brace. Every string from a workload still goes through the writer's
 * escaper (ew_json_string()). The parts that vary seldom are the cache's: the identity's objects
 * and labels (laid out the same way), the heads and an exit's objects (made with the writer).
 * tests/test_render_json.c holds each kind of record to the documented line, byte for byte, and
 * parses every record back.
 */
#define PUT(b, lit) ew_buf_append(b, lit, sizeof(lit) - 1)

/* The string, or null. */
static void put_string(struct ew_buf *b, const char *s)
{
	if (s)
		ew_json_string(b, s, strlen(s));
	else
		PUT(b, "null");
}

/* ,name: then the string: the name's literal appended inline, where its length is a constant
 * (a few moves, not a call to memcpy()). */
#define PUT_STRING(b, lit, s)     \
	do {                      \
		PUT(b, lit);      \
		put_string(b, s); \
	} while (0)

/* The inside of a part kept as "{...}", after a comma. */
static void put_members(struct ew_buf *b, const char *part, size_t len)
{
	if (len < 2)
		return;
	ew_buf_putc(b, ',');
	ew_buf_append(b, part + 1, len - 2);
}

static void put_seconds(struct ew_buf *b, uint64_t ns)
{
	ew_json_fixed(b, (int64_t)((ns + EW_NSEC_PER_MSEC / 2) / EW_NSEC_PER_MSEC), 3);
}

enum ew_severity ew_record_severity(const struct ew_record *r)
{
	switch (r->type) {
	case EW_REC_START:
	case EW_REC_READY:
		return EW_SEV_INFO;
	case EW_REC_EXIT:
		switch (r->cls) {
		case EW_CLASS_CLEAN:
			return EW_SEV_INFO;
		case EW_CLASS_TERMINATED:
			return EW_SEV_NOTICE;
		case EW_CLASS_CRASH:
		case EW_CLASS_OOM_KILLED:
			return EW_SEV_ERROR;
		default:
			return EW_SEV_WARNING;
		}
	case EW_REC_FINDING:
		return r->finding->severity;
	case EW_REC_RESOLVED:
		return EW_SEV_NOTICE;
	case EW_REC_AGENT:
		/* Records lost, containers never tracked (the kernel's map full), identities
		 * forgotten while their windows still counted: each loses detection. */
		return r->agent->drops || r->agent->kstats[EW_STAT_MAP_FULL] ||
				       r->agent->forgotten_in_window
			       ? EW_SEV_WARNING
			       : EW_SEV_INFO;
	}
	return EW_SEV_DEFAULT;
}

/* FNV-1a: stable across builds and hosts, which is all an insertId needs. The node's name
 * comes first, so a node's records all start from the same seed (the cache keeps it). */
static uint64_t insert_id_seed(const char *node)
{
	return ew_fnv1a(EW_FNV1A_INIT, node, strlen(node));
}

static void insert_id_from(uint64_t h, const struct ew_record *r, char out[24])
{
	uint32_t t = r->type;

	h = ew_fnv1a_u32(h, t);
	if (r->finding) {
		h = ew_fnv1a(h, r->finding->finding_id, strlen(r->finding->finding_id));
	} else if (r->ev) {
		h = ew_fnv1a_u64(h, r->ev->cgroup_id);
		h = ew_fnv1a_u32(h, r->ev->pid);
		h = ew_fnv1a_u64(h, r->ev->start_boot_ns);
	}
	h = ew_fnv1a_u64(h, r->time_ns);
	memcpy(out, "ew-", 3);
	ew_hex_u64(h, out + 3);
	out[19] = '\0';
}

void ew_record_insert_id(const struct ew_record *r, const struct ew_render_ctx *ctx, char out[24])
{
	insert_id_from(insert_id_seed(ctx->node), r, out);
}

/* The labels that come from the identity, as "{...}". */
static void identity_labels(struct ew_buf *b, const struct ew_identity *id)
{
	PUT_STRING(b, "{\"runtime\":", ew_runtime_name(id->cg.runtime));
	if (id->meta.pod_namespace[0])
		PUT_STRING(b, ",\"namespace\":", id->meta.pod_namespace);
	if (id->meta.pod_name[0])
		PUT_STRING(b, ",\"pod\":", id->meta.pod_name);
	if (id->meta.name[0])
		PUT_STRING(b, ",\"container\":", id->meta.name);
	else if (id->cg.container_id[0])
		PUT_STRING(b, ",\"container\":", id->cg.container_id);
	PUT_STRING(b, ",\"workload\":", id->workload);
	ew_buf_putc(b, '}');
}

/* An identity's members, rendered once (ew_render_cache). */
struct frag {
	uint64_t rev;	    /* 0: empty */
	struct ew_buf objs; /* "{...}" of identity_objects() */
	struct ew_buf labs; /* "{...}" of identity_labels() */
	struct ew_buf who;  /* ew_message_who(): the sentence's first words */
};

#define EW_RENDER_CACHE_SLOTS 64 /* a start and its exit are seldom further apart */

/*
 * An exit's "exit", "startup" and "children" objects, which a crash loop or a storm writes the
 * same for exit after exit: sixteen members, the last exit's kept with what made them.
 */
struct exit_key {
	uint32_t word; /* the status word: code, signal, core_dumped, status */
	uint8_t cls;
	uint8_t startup; /* 0: not known, 1: failed, 2: succeeded */
	bool ready;
	struct ew_children children;
	size_t meaning_len; /* SIZE_MAX: none */
};

struct exit_memo {
	bool valid;
	struct exit_key key;
	char *meaning;	    /* a copy: the class table may change between records */
	struct ew_buf objs; /* "{exit,startup,children}" */
	size_t split;	    /* where ",\"startup\":" begins in objs */
	/* The sentence's words for it (struct ew_message_parts): the summary, and the meaning
	 * made printable (NULL: none). */
	char what[EW_MESSAGE_WHAT_LEN];
	char *shown;
};

/*
 * Besides the identities' parts and the last exit's objects, the heads: what only the record's
 * type and the node make, "event", "schema" and "node" after the message and the labels' "node"
 * and "event" (five names, four strings and a number, the same for every record of a type).
 */
struct ew_render_cache {
	struct frag slot[EW_RENDER_CACHE_SLOTS];
	struct exit_memo exit;
	char *node;				 /* what the heads below were made for */
	uint64_t node_seed;			 /* insert_id_seed(node) */
	struct ew_buf head[EW_REC_AGENT + 1];	 /* "{event, schema, node}" */
	struct ew_buf labhead[EW_REC_AGENT + 1]; /* "{node, event}" */
	struct ew_time_memo time;		 /* the records' "time" */
};

/* A part kept in the cache is written as an object of its own, then appended to a record
 * without its braces (raw_frag()). */
static void part_open(struct ew_jsonw *w, struct ew_buf *b)
{
	ew_buf_reset(b);
	ew_jsonw_init(w, b);
	ew_jsonw_start_object(w);
}

static int part_close(struct ew_jsonw *w)
{
	ew_jsonw_end_object(w);
	return ew_jsonw_finish(w);
}

static void raw_frag(struct ew_jsonw *w, const struct ew_buf *b)
{
	size_t n;
	const char *m = ew_jsonw_members(b->data, b->len, &n);

	ew_jsonw_raw_members(w, m, n);
}

static void labhead_members(struct ew_jsonw *w, const struct ew_record *r,
			    const struct ew_render_ctx *ctx)
{
	field_string(w, KEY("node"), ctx->node);
	field_plain(w, KEY("event"), ew_record_event_name(r->type));
}

static void labels(struct ew_jsonw *w, const struct ew_record *r, const struct ew_render_ctx *ctx,
		   const struct frag *f, const struct ew_buf *labhead)
{
	ew_jsonw_name_quoted(w, KEY("logging.googleapis.com/labels"));
	ew_jsonw_start_object(w);
	if (labhead)
		raw_frag(w, labhead);
	else
		labhead_members(w, r, ctx);
	if (f)
		raw_frag(w, &f->labs);
	if (r->finding)
		field_string(w, KEY("rule"), ew_rule_name(r->finding->rule));
	ew_jsonw_end_object(w);
}

static void opt_string(struct ew_jsonw *w, const char *k, size_t kl, const char *v)
{
	if (v && v[0])
		field_string(w, k, kl, v);
}

/* An optional member: sep before it ('{' for the first of an object, then ','). */
static void put_opt(struct ew_buf *b, char *sep, const char *name_lit, size_t nl, const char *v)
{
	if (!v || !v[0])
		return;
	ew_buf_putc(b, *sep);
	*sep = ',';
	ew_buf_append(b, name_lit, nl);
	put_string(b, v);
}

#define PUT_OPT(b, sep, lit, v) put_opt(b, sep, lit, sizeof(lit) - 1, v)

/* The identity's objects, as "{...}": container, pod, compose, workload. */
static void identity_objects(struct ew_buf *b, const struct ew_identity *id)
{
	char sep = ','; /* in "container" and "compose" a member always comes first */
	char pod = '{'; /* in "pod" every member is optional */

	/* A container whose start was never seen (its record was lost) is named by its key. */
	PUT_STRING(b, "{\"container\":{\"id\":",
		   id->cg.container_id[0] ? id->cg.container_id
		   : id->cgroup[0]	  ? id->cgroup
					  : id->key);
	PUT_STRING(b, ",\"runtime\":", ew_runtime_name(id->cg.runtime));
	PUT_OPT(b, &sep, "\"cgroup\":", id->cgroup);
	PUT(b, ",\"cgroup_id\":");
	ew_json_uint(b, id->cgroup_id);
	PUT_OPT(b, &sep, "\"name\":", id->meta.name);
	PUT_OPT(b, &sep, "\"image\":", id->meta.image);
	PUT_OPT(b, &sep, "\"unit\":", id->cg.unit);
	if (id->meta.sandbox)
		PUT(b, ",\"sandbox\":true");
	PUT_OPT(b, &sep, "\"restart_policy\":", id->meta.restart_policy);
	if (id->meta.restart_count >= 0) {
		PUT(b, ",\"restart_count\":");
		ew_json_uint(b, (uint64_t)id->meta.restart_count);
	}
	PUT_STRING(b, ",\"identity\":", id->key);
	ew_buf_putc(b, '}');
	if (id->cg.kubernetes || id->meta.pod_name[0]) {
		PUT(b, ",\"pod\":");
		PUT_OPT(b, &pod, "\"namespace\":", id->meta.pod_namespace);
		PUT_OPT(b, &pod, "\"name\":", id->meta.pod_name);
		PUT_OPT(b, &pod, "\"uid\":", id->cg.pod_uid[0] ? id->cg.pod_uid : id->meta.pod_uid);
		PUT_OPT(b, &pod, "\"qos\":", id->cg.qos);
		if (pod == '{') /* none: an empty object */
			ew_buf_putc(b, '{');
		ew_buf_putc(b, '}');
	}
	if (id->meta.compose_project[0]) {
		PUT_STRING(b, ",\"compose\":{\"project\":", id->meta.compose_project);
		PUT_OPT(b, &sep, "\"service\":", id->meta.compose_service);
		ew_buf_putc(b, '}');
	}
	PUT_STRING(b, ",\"workload\":{\"key\":", id->workload);
	PUT(b, "}}");
}

/* Seconds with millisecond precision, rounded half up, from integer nanoseconds. */
static void seconds_field(struct ew_jsonw *w, const char *k, size_t kl, uint64_t ns)
{
	ew_jsonw_name_quoted(w, k, kl);
	ew_jsonw_fixed(w, (int64_t)((ns + EW_NSEC_PER_MSEC / 2) / EW_NSEC_PER_MSEC), 3);
}

uint64_t ew_render_wall(const struct ew_render_ctx *ctx, uint64_t t)
{
	return ctx->clock ? ew_clock_to_wall(ctx->clock, t) : t;
}

/* memo: the cache's, for a record's own time (NULL: none). */
static void time_field(struct ew_jsonw *w, const char *k, size_t kl, uint64_t ns,
		       struct ew_time_memo *memo)
{
	char t[EW_TIME_STR_LEN];

	if (memo)
		ew_time_format_memo(memo, ns, t);
	else
		ew_time_format(ns, t);
	ew_jsonw_name_quoted(w, k, kl);
	ew_jsonw_plain_n(w, t, EW_TIME_LEN);
}

/* "exit": what the status word, the class and the meaning make. */
static void exit_object(struct ew_jsonw *w, const struct ew_record *r, const char *meaning)
{
	const struct ew_event *ev = r->ev;
	const char *sig = ew_signal_name(ev->status.signal);

	ew_jsonw_name_quoted(w, KEY("exit"));
	ew_jsonw_start_object(w);
	field_int(w, KEY("code"), ev->status.code);
	field_int(w, KEY("signal"), ev->status.signal);
	if (sig)
		field_plain(w, KEY("signal_name"), sig);
	else
		field_null(w, KEY("signal_name"));
	field_bool(w, KEY("core_dumped"), ev->status.core_dumped);
	field_plain(w, KEY("class"), ew_exit_class_name(r->cls));
	if (meaning)
		field_string(w, KEY("meaning"), meaning);
	field_uint(w, KEY("status"), ev->exit_word);
	ew_jsonw_end_object(w);
}

/* "startup" and "children". */
static void outcome_objects(struct ew_jsonw *w, const struct ew_record *r)
{
	const struct ew_event *ev = r->ev;

	ew_jsonw_name_quoted(w, KEY("startup"));
	ew_jsonw_start_object(w);
	field_bool(w, KEY("ready"), ev->ready);
	if (ev->ready && ev->startup_ns)
		seconds_field(w, KEY("duration_s"), ev->startup_ns);
	if (r->startup && r->startup->known)
		field_bool(w, KEY("succeeded"), r->startup->succeeded);
	ew_jsonw_end_object(w);

	ew_jsonw_name_quoted(w, KEY("children"));
	ew_jsonw_start_object(w);
	field_uint(w, KEY("clean"), ev->children.clean);
	field_uint(w, KEY("failed"), ev->children.failed);
	field_uint(w, KEY("signaled"), ev->children.signaled);
	field_uint(w, KEY("oom_killed"), ev->children.oom_killed);
	ew_jsonw_end_object(w);
}

/* What an exit's "exit", "startup" and "children" were made from: see struct exit_memo. */
static struct exit_key exit_key_of(const struct ew_record *r, const char *meaning)
{
	const struct ew_event *ev = r->ev;

	return (struct exit_key){
		.word = ev->exit_word,
		.cls = (uint8_t)r->cls,
		.ready = ev->ready,
		.startup = !r->startup || !r->startup->known ? 0
			   : r->startup->succeeded	     ? 2
							     : 1,
		.children = ev->children,
		.meaning_len = meaning ? strlen(meaning) : SIZE_MAX,
	};
}

static bool exit_key_equal(const struct exit_key *a, const struct exit_key *b)
{
	return a->word == b->word && a->cls == b->cls && a->ready == b->ready &&
	       a->startup == b->startup && a->meaning_len == b->meaning_len &&
	       !memcmp(&a->children, &b->children, sizeof(a->children));
}

/* "{exit,startup,children}" into b, and in *split where ",\"startup\":" begins. */
static int memo_render(struct ew_buf *b, const struct ew_record *r, const char *meaning,
		       size_t *split)
{
	struct ew_jsonw w;

	part_open(&w, b);
	exit_object(&w, r, meaning);
	*split = b->len;
	outcome_objects(&w, r);
	return part_close(&w);
}

/*
 * The memo for r, made now if it was for another exit; NULL: write them. A startup duration
 * differs from one exit to the next: such an exit is never kept.
 */
static const struct exit_memo *exit_memo_get(struct ew_render_cache *c, const struct ew_record *r,
					     const char *meaning)
{
	struct exit_memo *m;
	struct exit_key k;

	if (!c || (r->ev->ready && r->ev->startup_ns))
		return NULL;
	m = &c->exit;
	k = exit_key_of(r, meaning);
	if (m->valid && exit_key_equal(&m->key, &k) &&
	    (!meaning || !memcmp(m->meaning, meaning, k.meaning_len)))
		return m;
	m->valid = false;
	if (meaning) {
		char *copy = realloc(m->meaning, k.meaning_len + 1), *shown;

		if (!copy)
			return NULL;
		memcpy(copy, meaning, k.meaning_len + 1);
		m->meaning = copy;
		shown = realloc(m->shown, k.meaning_len + 1);
		if (!shown)
			return NULL;
		memcpy(shown, meaning, k.meaning_len + 1);
		ew_message_printable(shown);
		m->shown = shown;
	}
	ew_message_exit_what(r->ev, r->cls, m->what, sizeof(m->what));
	/* "exit" ends where "startup" begins: uptime_s and killed_by go in between. */
	if (memo_render(&m->objs, r, meaning, &m->split))
		return NULL;
	m->key = k;
	m->valid = true;
	return m;
}

static void container_killer(struct ew_buf *b, const struct ew_killer_info *k);

/*
 * A finding's last exit's sender: a container_exit's "killed_by", made by the same code (it
 * writes ",\"killed_by\":{...}" straight into a buffer) and appended as a member. A finding is
 * rare: one small allocation. Out of memory fails the writer (NULL members), as it would.
 */
static void finding_killer(struct ew_jsonw *w, const struct ew_killer_info *k)
{
	struct ew_buf b = EW_BUF_INIT;

	container_killer(&b, k);
	if (ew_buf_failed(&b) || b.len < 1)
		ew_jsonw_raw_members(w, NULL, 1);
	else
		ew_jsonw_raw_members(w, b.data + 1, b.len - 1); /* after its leading ',' */
	ew_buf_free(&b);
}

static void finding_fields(struct ew_jsonw *w, const struct ew_finding *f,
			   const struct ew_render_ctx *ctx)
{
	field_string(w, KEY("finding_id"), f->finding_id);
	field_string(w, KEY("rule"), ew_rule_name(f->rule));
	field_string(w, KEY("scope"), ew_scope_name(f->scope));
	field_uint(w, KEY("count"), f->count);
	field_uint(w, KEY("threshold"), f->threshold);
	field_uint(w, KEY("window_s"), f->window_ns / EW_NSEC_PER_SEC);
	if (f->first_ns)
		time_field(w, KEY("first_time"), ew_render_wall(ctx, f->first_ns), NULL);
	if (f->last_ns)
		time_field(w, KEY("last_time"), ew_render_wall(ctx, f->last_ns), NULL);
	if (f->scope == EW_SCOPE_WORKLOAD)
		field_uint(w, KEY("identities"), f->identities);
	if (f->rule == EW_RULE_STARTUP_FAILURE_RATE) {
		field_uint(w, KEY("starts"), f->starts);
		field_uint(w, KEY("failed_starts"), f->failed_starts);
		field_double(w, KEY("failure_percent"), f->fail_percent, 2);
		field_double(w, KEY("threshold_percent"), f->threshold_percent, 2);
	}
	if (f->rule == EW_RULE_STABLE)
		seconds_field(w, KEY("uptime_s"), f->uptime_ns);
	if (f->rule == EW_RULE_CRASH_LOOP && !f->resolved) {
		/* Whether the loop says the same thing each time: null without stderr. */
		ew_jsonw_name_quoted(w, KEY("last_line_repeats"));
		if (f->tail_len)
			ew_jsonw_uint(w, f->line_repeats);
		else
			ew_jsonw_null(w);
	}
	ew_jsonw_name_quoted(w, KEY("restart_interval_s"));
	if (f->intervals) {
		ew_jsonw_start_object(w);
		field_double(w, KEY("median"), f->interval_median_s, 3);
		field_double(w, KEY("min"), f->interval_min_s, 3);
		field_double(w, KEY("max"), f->interval_max_s, 3);
		field_uint(w, KEY("samples"), f->intervals);
		ew_jsonw_end_object(w);
	} else {
		ew_jsonw_null(w);
	}
	ew_jsonw_name_quoted(w, KEY("exit_codes"));
	ew_jsonw_start_object(w);
	for (uint32_t i = 0; i < f->nhist; i++) {
		const char *sig = ew_signal_name(f->hist[i].signal);
		char key[EW_DECIMAL_LEN], *p = key + sizeof(key) - 1;

		/* Codes by number, signals by name; a signal without a name still gets a unique
		 * key, so the object never holds a member twice. */
		if (f->hist[i].signal && sig) {
			ew_jsonw_uint_field(w, sig, f->hist[i].count);
			continue;
		}
		p = ew_decimal_i64(f->hist[i].signal ? f->hist[i].signal : f->hist[i].code, p);
		if (f->hist[i].signal) {
			p -= 3;
			memcpy(p, "SIG", 3);
		}
		ew_jsonw_uint_field(w, p, f->hist[i].count);
	}
	ew_jsonw_end_object(w);
	ew_jsonw_name_quoted(w, KEY("last_exit"));
	if (f->has_last_exit) {
		ew_jsonw_start_object(w);
		field_string(w, KEY("class"), ew_exit_class_name(f->last_class));
		field_int(w, KEY("code"), f->last_code);
		field_int(w, KEY("signal"), f->last_signal);
		opt_string(w, KEY("signal_name"), ew_signal_name(f->last_signal));
		time_field(w, KEY("time"), ew_render_wall(ctx, f->last_exit_ns), NULL);
		if (f->last_killer)
			finding_killer(w, f->last_killer);
		ew_jsonw_end_object(w);
	} else {
		ew_jsonw_null(w);
	}
	/* Why the last exit's start failed, in its runtime's words; else its last stderr. */
	if (f->tail_len && f->tail_start_error)
		field_string_n(w, KEY("start_error"), f->tail, f->tail_len);
	else if (f->tail_len)
		field_string_n(w, KEY("stderr_tail"), f->tail, f->tail_len);
	field_bool(w, KEY("degraded"), f->degraded);
	if (f->resolved) {
		time_field(w, KEY("fired_time"), ew_render_wall(ctx, f->fired_ns), NULL);
		seconds_field(w, KEY("duration_s"), f->duration_ns);
		field_uint(w, KEY("total"), f->total);
	}
}

static void agent_fields(struct ew_jsonw *w, const struct ew_agent_status *a)
{
	static const char *const kstat_names[EW_STAT__MAX] = {
		[EW_STAT_EXEC_MAIN] = "main_execs",
		[EW_STAT_EXEC_REEXEC] = "main_reexecs",
		[EW_STAT_EXIT_MAIN] = "main_exits",
		[EW_STAT_EXIT_CHILD] = "child_exits",
		[EW_STAT_READY] = "ready",
		[EW_STAT_DROP_EXEC] = "dropped_execs",
		[EW_STAT_DROP_EXIT] = "dropped_exits",
		[EW_STAT_DROP_READY] = "dropped_ready",
		[EW_STAT_MAP_FULL] = "map_full",
		[EW_STAT_TAIL_FAULT] = "stderr_faults",
		[EW_STAT_SIGNALS] = "fatal_signals",
		[EW_STAT_OOM_VICTIMS] = "oom_victims",
		[EW_STAT_TAIL_FULL] = "stderr_map_full",
		[EW_STAT_MAIN_MOVES] = "main_moves",
		[EW_STAT_START_FAILED] = "start_failures",
	};

	ew_jsonw_name_quoted(w, KEY("agent"));
	ew_jsonw_start_object(w);
	field_string(w, KEY("phase"), a->phase);
	field_string(w, KEY("version"), a->version);
	field_string(w, KEY("kernel"), a->kernel);
	seconds_field(w, KEY("uptime_s"), a->uptime_ns);
	ew_jsonw_name_quoted(w, KEY("features"));
	ew_jsonw_start_object(w);
	field_bool(w, KEY("exit_group_dead"), a->feat_group_dead);
	field_bool(w, KEY("stderr_tail"), a->feat_stderr);
	field_bool(w, KEY("ready_tracking"), a->feat_ready);
	field_bool(w, KEY("oom"), a->feat_oom);
	field_bool(w, KEY("killer"), a->feat_signals);
	field_bool(w, KEY("atomic_fetch"), a->feat_atomic_fetch);
	field_bool(w, KEY("cgroup_move"), a->feat_cgroup_move);
	ew_jsonw_end_object(w);
	ew_jsonw_name_quoted(w, KEY("kernel_events"));
	ew_jsonw_start_object(w);
	for (int i = 0; i < EW_STAT__MAX; i++)
		ew_jsonw_uint_field(w, kstat_names[i], a->kstats[i]);
	ew_jsonw_end_object(w);
	field_uint(w, KEY("drops"), a->drops);
	field_uint(w, KEY("decode_errors"), a->decode_errors);
	ew_jsonw_name_quoted(w, KEY("records"));
	ew_jsonw_start_object(w);
	field_uint(w, KEY("container_start"), a->starts);
	field_uint(w, KEY("container_exit"), a->exits);
	field_uint(w, KEY("container_ready"), a->readies);
	field_uint(w, KEY("finding"), a->findings);
	field_uint(w, KEY("resolved"), a->resolutions);
	ew_jsonw_end_object(w);
	field_uint(w, KEY("containers_tracked"), a->tracked);
	field_uint(w, KEY("stale_swept"), a->stale_swept);
	ew_jsonw_name_quoted(w, KEY("log_watch"));
	ew_jsonw_start_object(w);
	field_uint(w, KEY("watched"), a->log_watches);
	field_uint(w, KEY("refused"), a->log_watch_refused);
	field_uint(w, KEY("overflows"), a->log_watch_overflows);
	ew_jsonw_end_object(w);
	field_uint(w, KEY("identities"), a->identities);
	ew_jsonw_name_quoted(w, KEY("identities_forgotten"));
	ew_jsonw_start_object(w);
	field_uint(w, KEY("idle"), a->forgotten[0]);
	field_uint(w, KEY("limit"), a->forgotten[1]);
	field_uint(w, KEY("budget"), a->forgotten[2]);
	field_uint(w, KEY("in_window"), a->forgotten_in_window);
	ew_jsonw_end_object(w);
	field_uint(w, KEY("active_findings"), a->active_findings);
	if (!strcmp(a->phase, "start"))
		field_uint(w, KEY("already_running"), a->scan_mains);
	ew_jsonw_name_quoted(w, KEY("sinks"));
	ew_jsonw_start_array(w);
	for (uint32_t i = 0; i < a->nsinks; i++) {
		const struct ew_sink_status *s = &a->sinks[i];

		ew_jsonw_start_object(w);
		field_string(w, KEY("name"), s->name);
		field_bool(w, KEY("connected"), s->connected);
		field_uint(w, KEY("queued"), s->queued);
		field_uint(w, KEY("spooled_bytes"), s->spooled_bytes);
		field_uint(w, KEY("delivered"), s->delivered);
		field_uint(w, KEY("dropped"), s->dropped);
		ew_jsonw_end_object(w);
	}
	ew_jsonw_end_array(w);
	ew_jsonw_end_object(w);
}

int ew_record_check(const struct ew_record *r)
{
	if ((unsigned)r->type > EW_REC_AGENT || (r->type <= EW_REC_EXIT && (!r->ev || !r->id)) ||
	    ((r->type == EW_REC_FINDING || r->type == EW_REC_RESOLVED) && !r->finding) ||
	    (r->type == EW_REC_AGENT && !r->agent))
		return -EINVAL;
	return 0;
}

struct ew_render_cache *ew_render_cache_new(void)
{
	return calloc(1, sizeof(struct ew_render_cache));
}

void ew_render_cache_free(struct ew_render_cache *c)
{
	if (!c)
		return;
	for (int i = 0; i < EW_RENDER_CACHE_SLOTS; i++) {
		ew_buf_free(&c->slot[i].objs);
		ew_buf_free(&c->slot[i].labs);
		ew_buf_free(&c->slot[i].who);
	}
	for (int i = 0; i <= EW_REC_AGENT; i++) {
		ew_buf_free(&c->head[i]);
		ew_buf_free(&c->labhead[i]);
	}
	free(c->node);
	free(c->exit.meaning);
	free(c->exit.shown);
	ew_buf_free(&c->exit.objs);
	free(c);
}

/* One of the identity's parts as "{...}" in b. */
static int frag_render(struct ew_buf *b, const struct ew_identity *id,
		       void (*part)(struct ew_buf *, const struct ew_identity *))
{
	ew_buf_reset(b);
	part(b, id);
	return ew_buf_failed(b) ? -ENOMEM : 0;
}

static void who_part(struct ew_buf *b, const struct ew_identity *id)
{
	char who[EW_MESSAGE_WHO_LEN];

	ew_message_who(id, who, sizeof(who));
	ew_buf_puts(b, who);
}

/* The identity's parts, made into part: for an identity the cache does not keep. */
static const struct frag *frag_make(struct frag *part, const struct ew_identity *id)
{
	if (frag_render(&part->objs, id, identity_objects) ||
	    frag_render(&part->labs, id, identity_labels) || frag_render(&part->who, id, who_part))
		return NULL;
	return part;
}

/* The identity's parts, from the cache or rendered into it; NULL: not kept (frag_make()). */
static const struct frag *frag_get(struct ew_render_cache *c, const struct ew_identity *id)
{
	struct frag *f;

	if (!c || !id || !id->rev)
		return NULL;
	f = &c->slot[id->rev % EW_RENDER_CACHE_SLOTS];
	if (f->rev == id->rev)
		return f;
	f->rev = 0;
	if (!frag_make(f, id))
		return NULL;
	f->rev = id->rev;
	return f;
}

static void head_members(struct ew_jsonw *w, const struct ew_record *r,
			 const struct ew_render_ctx *ctx)
{
	field_plain(w, KEY("event"), ew_record_event_name(r->type));
	field_uint(w, KEY("schema"), EW_SCHEMA_VERSION);
	field_string(w, KEY("node"), ctx->node);
}

/* The record type's heads for ctx's node, from the cache or made into it; false: write them. */
static bool heads_get(struct ew_render_cache *c, const struct ew_record *r,
		      const struct ew_render_ctx *ctx)
{
	struct ew_buf *head, *labhead;
	struct ew_jsonw w;
	int err;

	if (!c || !ctx->node)
		return false;
	if (!c->node || strcmp(c->node, ctx->node)) {
		free(c->node);
		c->node = strdup(ctx->node);
		c->node_seed = insert_id_seed(ctx->node);
		for (int i = 0; i <= EW_REC_AGENT; i++) {
			ew_buf_reset(&c->head[i]);
			ew_buf_reset(&c->labhead[i]);
		}
		if (!c->node)
			return false;
	}
	head = &c->head[r->type];
	labhead = &c->labhead[r->type];
	if (head->len && labhead->len)
		return true;
	part_open(&w, head);
	head_members(&w, r, ctx);
	err = part_close(&w);
	if (!err) {
		part_open(&w, labhead);
		labhead_members(&w, r, ctx);
		err = part_close(&w);
	}
	if (err) {
		ew_buf_reset(head);
		ew_buf_reset(labhead);
		return false;
	}
	return true;
}

static void container_process(struct ew_buf *b, const struct ew_event *ev)
{
	PUT(b, ",\"process\":{\"pid\":");
	ew_json_uint(b, ev->pid);
	if (ev->type == EW_EVENT_START) {
		PUT(b, ",\"ppid\":");
		ew_json_uint(b, ev->ppid);
	}
	PUT_STRING(b, ",\"comm\":", ev->comm);
	PUT_STRING(b, ",\"argv0\":", ev->argv0);
	if (ev->filename[0])
		PUT_STRING(b, ",\"filename\":", ev->filename);
	ew_buf_putc(b, '}');
}

static void container_killer(struct ew_buf *b, const struct ew_killer_info *k)
{
	PUT(b, ",\"killed_by\":{\"pid\":");
	ew_json_uint(b, k->pid);
	PUT_STRING(b, ",\"comm\":", k->comm);
	PUT(b, ",\"signal\":");
	ew_json_int(b, k->signal);
	PUT_STRING(b, ",\"signal_name\":", ew_signal_name(k->signal));
	PUT(b, ",\"cgroup_id\":");
	ew_json_uint(b, k->cgroup_id);
	PUT_STRING(b, ",\"container\":", k->container[0] ? k->container : "unknown");
	ew_buf_putc(b, '}');
}

/* An exit's own members: "exit", uptime, killer, "startup", "children", the tail. */
static int container_exit(struct ew_buf *b, const struct ew_record *r, const char *meaning,
			  const struct exit_memo *m)
{
	const struct ew_event *ev = r->ev;
	struct ew_buf own = EW_BUF_INIT;
	const char *objs;
	size_t len, split;

	if (m) {
		objs = m->objs.data;
		len = m->objs.len;
		split = m->split;
	} else {
		/* Not kept (a startup duration of its own): made for this exit alone. */
		if (memo_render(&own, r, meaning, &split)) {
			ew_buf_free(&own);
			return -ENOMEM;
		}
		objs = own.data;
		len = own.len;
	}
	put_members(b, objs, split + 1); /* "exit": from after '{' to the comma at split */
	PUT(b, ",\"uptime_s\":");
	put_seconds(b, ev->uptime_ns);
	if (ev->has_killer)
		container_killer(b, &ev->killer);
	ew_buf_append(b, objs + split, len - split - 1); /* ,"startup":{...},"children":{...} */
	ew_buf_free(&own);

	if (ev->tail_len && ev->tail_source == EW_TAIL_START_ERROR) {
		/* A failed start's: its runtime's error, not anything the container wrote. */
		PUT(b, ",\"start_error\":");
		ew_json_string(b, ev->tail, ev->tail_len);
	} else if (ev->tail_len && r->cls != EW_CLASS_CLEAN) {
		PUT(b, ",\"stderr_tail\":");
		ew_json_string(b, ev->tail, ev->tail_len);
		if (ew_tail_source_name(ev->tail_source))
			PUT_STRING(b, ",\"stderr_source\":", ew_tail_source_name(ev->tail_source));
		/* Only the kernel counts every byte; a log file is read from its end. */
		if (ev->tail_source == EW_TAIL_KERNEL) {
			PUT(b, ",\"stderr_bytes\":");
			ew_json_uint(b, ev->stderr_total);
		}
	}
	return 0;
}

static void container_ready(struct ew_buf *b, const struct ew_event *ev)
{
	PUT(b, ",\"startup\":{");
	if (!ev->seeded) {
		PUT(b, "\"duration_s\":");
		put_seconds(b, ev->startup_ns);
		ew_buf_putc(b, ',');
	}
	PUT(b, "\"listener_pid\":");
	ew_json_uint(b, ev->listener_pid);
	PUT_STRING(b, ",\"listener_comm\":", ev->listener_comm);
	ew_buf_putc(b, '}');
}

/* A container record into out, from c's parts (c: not NULL, its heads made for ctx). */
static int container_json(const struct ew_record *r, const struct ew_render_ctx *ctx,
			  struct ew_render_cache *c, const struct frag *f, struct ew_buf *out)
{
	const struct ew_event *ev = r->ev;
	char msg[1024], t[EW_TIME_STR_LEN], insert_id[24];
	const char *sev = ew_severity_name(ew_record_severity(r));
	struct ew_message_parts parts = {.who = f->who.data};
	const struct exit_memo *m = NULL;
	const char *meaning = NULL;
	int err = 0;

	if (r->type == EW_REC_EXIT) {
		meaning = ew_exit_meaning(ev, ctx->classes);
		m = exit_memo_get(c, r, meaning);
		if (m) {
			parts.what = m->what;
			parts.meaning = meaning ? m->shown : NULL;
		}
	}
	ew_record_message_parts(r, ctx, &parts, msg, sizeof(msg));
	insert_id_from(c->node_seed, r, insert_id);
	ew_time_format_memo(&c->time, ew_render_wall(ctx, r->time_ns), t);

	PUT(out, "{\"time\":\"");
	ew_buf_append(out, t, EW_TIME_LEN);
	PUT(out, "\",\"severity\":\"");
	ew_buf_append(out, sev, strlen(sev));
	PUT(out, "\",\"message\":");
	ew_json_string(out, msg, strlen(msg));
	put_members(out, c->head[r->type].data, c->head[r->type].len);
	put_members(out, f->objs.data, f->objs.len);
	container_process(out, ev);
	switch (r->type) {
	case EW_REC_START:
		if (ev->seeded)
			PUT(out, ",\"already_running\":true");
		else
			PUT(out, ",\"already_running\":false");
		if (r->startup) {
			PUT(out, ",\"restarts\":");
			ew_json_uint(out, r->startup->restarts);
		}
		break;
	case EW_REC_READY:
		container_ready(out, ev);
		break;
	default:
		err = container_exit(out, r, meaning, m);
		break;
	}
	PUT(out, ",\"logging.googleapis.com/labels\":{");
	ew_buf_append(out, c->labhead[r->type].data + 1, c->labhead[r->type].len - 2);
	put_members(out, f->labs.data, f->labs.len);
	PUT(out, "},\"logging.googleapis.com/insertId\":\"");
	ew_buf_append(out, insert_id, strlen(insert_id));
	PUT(out, "\"}\n");
	if (err)
		return err;
	return ew_buf_failed(out) ? -ENOMEM : 0;
}

/*
 * A container record from c's parts, or, without a cache (or an identity without a revision,
 * which the cache cannot key), from parts made for this record alone: the same bytes.
 */
static int container_render(const struct ew_record *r, const struct ew_render_ctx *ctx,
			    struct ew_render_cache *c, struct ew_buf *out)
{
	struct ew_render_cache *own = NULL;
	struct frag part = {0};
	const struct frag *f;
	int err = -ENOMEM;

	if (!ctx->node)
		return -EINVAL;
	if (!c && !(c = own = ew_render_cache_new()))
		return -ENOMEM;
	if (!heads_get(c, r, ctx))
		goto out;
	f = frag_get(c, r->id);
	if (!f && !(f = frag_make(&part, r->id)))
		goto out;
	err = container_json(r, ctx, c, f, out);
out:
	ew_buf_free(&part.objs);
	ew_buf_free(&part.labs);
	ew_buf_free(&part.who);
	ew_render_cache_free(own);
	return err;
}

int ew_render_json(const struct ew_record *r, const struct ew_render_ctx *ctx, struct ew_buf *out)
{
	return ew_render_json_cached(r, ctx, NULL, out);
}

int ew_render_json_cached(const struct ew_record *r, const struct ew_render_ctx *ctx,
			  struct ew_render_cache *c, struct ew_buf *out)
{
	struct frag part = {0};
	const struct frag *f;
	char msg[1024], insert_id[24];
	struct ew_jsonw w;
	bool heads;
	int err;

	if (ew_record_check(r))
		return -EINVAL;
	if (r->type <= EW_REC_EXIT)
		return container_render(r, ctx, c, out);
	f = frag_get(c, r->id);
	if (!f && r->id && !(f = frag_make(&part, r->id))) {
		err = -ENOMEM;
		goto out;
	}
	heads = heads_get(c, r, ctx);
	ew_record_message_parts(r, ctx, &(struct ew_message_parts){.who = f ? f->who.data : NULL},
				msg, sizeof(msg));
	/* heads (only with a cache): c->node is ctx's, and its seed too. */
	insert_id_from(c && heads ? c->node_seed : insert_id_seed(ctx->node), r, insert_id);

	ew_jsonw_init(&w, out);
	ew_jsonw_start_object(&w);
	time_field(&w, KEY("time"), ew_render_wall(ctx, r->time_ns), c ? &c->time : NULL);
	field_plain(&w, KEY("severity"), ew_severity_name(ew_record_severity(r)));
	field_string(&w, KEY("message"), msg);
	if (heads)
		raw_frag(&w, &c->head[r->type]);
	else
		head_members(&w, r, ctx);
	if (f)
		raw_frag(&w, &f->objs);

	switch (r->type) {
	case EW_REC_FINDING:
	case EW_REC_RESOLVED:
		finding_fields(&w, r->finding, ctx);
		break;
	case EW_REC_AGENT:
		agent_fields(&w, r->agent);
		break;
	default: /* container records: container_render() */
		break;
	}
	labels(&w, r, ctx, f, heads ? &c->labhead[r->type] : NULL);
	field_plain(&w, KEY("logging.googleapis.com/insertId"), insert_id);
	ew_jsonw_end_object(&w);
	err = ew_jsonw_finish(&w);
	if (!err)
		err = ew_buf_putc(out, '\n');
out:
	ew_buf_free(&part.objs);
	ew_buf_free(&part.labs);
	ew_buf_free(&part.who);
	return err;
}
