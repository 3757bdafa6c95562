// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitwatch/util/buf.h"

/* A typical NDJSON record fits here, so most records cost one allocation for the buffer's life. */
#define EW_BUF_MIN_CAP 256

void ew_buf_init(struct ew_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->lim = 0;
	b->failed = false;
}

void ew_buf_free(struct ew_buf *b)
{
	if (!b)
		return;
	free(b->data);
	ew_buf_init(b);
}

void ew_buf_reset(struct ew_buf *b)
{
	ew_buf_truncate(b, 0);
}

void ew_buf_truncate(struct ew_buf *b, size_t len)
{
	b->failed = false;
	b->lim = b->data ? b->cap : 0;
	b->len = len;
	if (b->data)
		b->data[len] = '\0';
}

/* Marks the buffer failed so that the caller's single end check sees the lost bytes. */
static int buf_fail(struct ew_buf *b)
{
	ew_buf_set_failed(b);
	return -ENOMEM;
}

int ew_buf_reserve(struct ew_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->failed)
		return -ENOMEM;
	/* +1 for the terminating NUL, which is never counted in len. */
	if (extra > SIZE_MAX - 1 - b->len)
		return buf_fail(b);
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	/* Doubling keeps appends amortized O(1). */
	cap = b->cap ? b->cap : EW_BUF_MIN_CAP;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	p = realloc(b->data, cap);
	if (!p)
		return buf_fail(b);
	if (!b->data)
		p[0] = '\0';
	b->data = p;
	b->cap = b->lim = cap;
	return 0;
}

int ew_buf_append_slow(struct ew_buf *b, const void *p, size_t n)
{
	int err;

	err = ew_buf_reserve(b, n);
	if (err)
		return err;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int ew_buf_puts(struct ew_buf *b, const char *s)
{
	return ew_buf_append(b, s, strlen(s));
}

int ew_buf_printf(struct ew_buf *b, const char *fmt, ...)
{
	size_t avail;
	va_list ap;
	int n, err;

	if (b->failed)
		return -ENOMEM;
	/* Try the spare room first: most calls then format once and never allocate. */
	avail = b->data ? b->cap - b->len : 0;
	va_start(ap, fmt);
	n = vsnprintf(avail ? b->data + b->len : NULL, avail, fmt, ap);
	va_end(ap);
	if (n < 0) {
		/* Only on a result longer than INT_MAX or a bad wide string: the bytes are lost. */
		err = errno ? -errno : -EOVERFLOW;
		ew_buf_set_failed(b);
		if (b->data)
			b->data[b->len] = '\0';
		return err;
	}
	if ((size_t)n >= avail) {
		err = ew_buf_reserve(b, (size_t)n);
		if (err) {
			if (b->data)
				b->data[b->len] = '\0';
			return err;
		}
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
	return 0;
}
