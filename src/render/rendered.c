// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A record rendered on demand, once per format (rendered.h). The renderers are the pure
 * functions of render_json.c and render_text.c; this only decides when they run.
 */
#include <errno.h>
#include <string.h>

#include "exitwatch/render/render_json.h"
#include "exitwatch/render/render_text.h"
#include "exitwatch/render/rendered.h"

void ew_rendered_init(struct ew_rendered *rr, const struct ew_render_ctx *ctx, bool colour)
{
	memset(rr, 0, sizeof(*rr));
	rr->ctx = ctx;
	rr->colour = colour;
}

void ew_rendered_free(struct ew_rendered *rr)
{
	if (!rr)
		return;
	for (int f = 0; f < EW_FORMAT__COUNT; f++)
		ew_buf_free(&rr->buf[f]);
	ew_render_cache_free(rr->cache);
	rr->cache = NULL;
	rr->rec = NULL;
	memset(rr->state, 0, sizeof(rr->state));
}

void ew_rendered_set(struct ew_rendered *rr, const struct ew_record *r)
{
	rr->rec = r;
	memset(rr->state, 0, sizeof(rr->state));
}

void ew_rendered_set_line(struct ew_rendered *rr, enum ew_format f, const char *line, size_t len)
{
	rr->state[f] = 1;
	rr->line[f] = line;
	rr->len[f] = len;
}

static int render(struct ew_rendered *rr, enum ew_format f)
{
	struct ew_buf *b = &rr->buf[f];

	if (!rr->rec)
		return -ENODATA;
	ew_buf_reset(b);
	rr->renders[f]++;
	if (f == EW_FORMAT_TEXT)
		return ew_render_text(rr->rec, rr->ctx, rr->colour, b);
	/* Without memory for a cache, records are rendered whole: the same bytes. */
	if (!rr->cache)
		rr->cache = ew_render_cache_new();
	return ew_render_json_cached(rr->rec, rr->ctx, rr->cache, b);
}

int ew_rendered_get(struct ew_rendered *rr, enum ew_format f, const char **line, size_t *len)
{
	if ((unsigned)f >= EW_FORMAT__COUNT)
		return -EINVAL;
	if (!rr->state[f]) {
		int err = render(rr, f);

		rr->state[f] = err ? err : 1;
		rr->line[f] = rr->buf[f].data;
		rr->len[f] = err ? 0 : rr->buf[f].len;
	}
	if (rr->state[f] < 0)
		return rr->state[f];
	*line = rr->line[f];
	*len = rr->len[f];
	return 0;
}
