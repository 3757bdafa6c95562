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
	bool failed; /* an allocation failed: contents are incomplete */
};

#define EW_BUF_INIT               \
	{                         \
		NULL, 0, 0, false \
	}

void ew_buf_init(struct ew_buf *b);
void ew_buf_free(struct ew_buf *b);
void ew_buf_reset(struct ew_buf *b); /* len = 0, keeps the allocation, clears failed */
int ew_buf_reserve(struct ew_buf *b, size_t extra); /* 0 or -ENOMEM */
int ew_buf_append_slow(struct ew_buf *b, const void *p, size_t n);

/* Inline while the bytes fit: rendering a record appends a few hundred small pieces. */
static inline int ew_buf_append(struct ew_buf *b, const void *p, size_t n)
{
	if (b->data && !b->failed && b->len + n < b->cap) {
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
