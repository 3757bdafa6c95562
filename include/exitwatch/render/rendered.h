/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One record on its way to the outputs, rendered lazily: each format the first time an output
 * asks for it, and at most once per record, the line kept for the other outputs of that format.
 * A format no output asks for (text without a text output, any format when every output's
 * filter turns the record away) is never rendered. The object is reused from record to record:
 * its buffers keep their allocation, so rendering allocates nothing in the steady state.
 *
 *   ew_rendered_set(&rr, &record);             new record: nothing rendered yet
 *   ew_rendered_get(&rr, EW_FORMAT_JSON, ...); renders JSON (first call), then the same bytes
 *
 * The record's pointers are borrowed: they must stay valid until the next ew_rendered_set().
 */
#ifndef EXITWATCH_RENDERED_H
#define EXITWATCH_RENDERED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exitwatch/core/record.h"
#include "exitwatch/render/render_json.h"
#include "exitwatch/util/buf.h"

enum ew_format {
	EW_FORMAT_JSON, /* render_json.h: the NDJSON line */
	EW_FORMAT_TEXT, /* render_text.h: the terminal line */
	EW_FORMAT__COUNT
};

struct ew_rendered {
	const struct ew_record *rec;	 /* NULL: lines given by ew_rendered_set_line() only */
	const struct ew_render_ctx *ctx; /* node, exit meanings */
	bool colour;			 /* text: ANSI colours by severity */
	int state[EW_FORMAT__COUNT];	 /* 0 not asked yet, 1 line[] holds it, or -errno */
	const char *line[EW_FORMAT__COUNT];
	size_t len[EW_FORMAT__COUNT];
	struct ew_buf buf[EW_FORMAT__COUNT]; /* owned: the renderings */
	uint64_t renders[EW_FORMAT__COUNT];  /* renderer calls over the object's life */
	struct ew_render_cache *cache;	     /* owned, made at the first JSON rendering */
};

/* ctx is borrowed for the object's life. */
void ew_rendered_init(struct ew_rendered *rr, const struct ew_render_ctx *ctx, bool colour);
void ew_rendered_free(struct ew_rendered *rr);

/* Starts on record r: every earlier rendering is forgotten. r may be NULL (see below). */
void ew_rendered_set(struct ew_rendered *rr, const struct ew_record *r);

/*
 * Gives format f a line rendered earlier (deferred lines, tests): line[0..len), its one '\n'
 * last, borrowed until the next ew_rendered_set(). After ew_rendered_set(rr, NULL) the object
 * holds only such lines, and a format without one is -ENODATA.
 */
void ew_rendered_set_line(struct ew_rendered *rr, enum ew_format f, const char *line, size_t len);

/*
 * The record as format f: *line (not NUL-terminated for a given line) and *len, its '\n'
 * included. Renders on the first call for f, then returns the same bytes. 0, or -ENOMEM (and
 * again on later calls: a failed rendering is not retried for the same record), -EINVAL for a
 * record its type's fields are missing from, -ENODATA (no record, no line given).
 */
int ew_rendered_get(struct ew_rendered *rr, enum ew_format f, const char **line, size_t *len);

#endif
