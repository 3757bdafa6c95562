/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A growable byte buffer. Allocation failure is sticky: check ew_buf_failed() once at the end. */
#ifndef EXITWATCH_BUF_H
#define EXITWATCH_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct ew_buf {
	char *data; /* always NUL-terminated when data != NULL */
	size_t len;
	size_t cap;
	/* cap while the buffer has memory and has not failed, else 0: the inline appends, which
	 * run a few dozen times a record, then ask one question (ew_buf_fits()), not three. */
	size_t lim;
	bool failed; /* an allocation failed: contents are incomplete */
};

#define EW_BUF_INIT                  \
	{                            \
		NULL, 0, 0, 0, false \
	}

void ew_buf_init(struct ew_buf *b);
void ew_buf_free(struct ew_buf *b);
void ew_buf_reset(struct ew_buf *b); /* len = 0, keeps the allocation, clears failed */
int ew_buf_reserve(struct ew_buf *b, size_t extra); /* 0 or -ENOMEM */
int ew_buf_append_slow(struct ew_buf *b, const void *p, size_t n);

/* Whether n more bytes and the NUL fit the allocation of a buffer that has not failed. */
static inline bool ew_buf_fits(const struct ew_buf *b, size_t n)
{
	return b->len + n < b->lim;
}

/* Marks the bytes lost (sticky until ew_buf_reset() or ew_buf_truncate()). */
static inline void ew_buf_set_failed(struct ew_buf *b)
{
	b->failed = true;
	b->lim = 0;
}

/* Back to the first len bytes (len <= b->len), failed cleared: an append undone. */
void ew_buf_truncate(struct ew_buf *b, size_t len);

/* Inline while the bytes fit: rendering a record appends a few hundred small pieces. */
static inline int ew_buf_append(struct ew_buf *b, const void *p, size_t n)
{
	if (ew_buf_fits(b, n)) {
		memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = '\0';
		return 0;
	}
	return ew_buf_append_slow(b, p, n);
}

static inline int ew_buf_putc(struct ew_buf *b, char c)
{
	return ew_buf_append(b, &c, 1);
}
int ew_buf_puts(struct ew_buf *b, const char *s);
int ew_buf_printf(struct ew_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline bool ew_buf_failed(const struct ew_buf *b)
{
	return b->failed;
}

#endif
