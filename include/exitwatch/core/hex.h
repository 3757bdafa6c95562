/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Hex for byte strings that must survive JSON exactly: a stderr tail in a recording or a state
 * file holds NULs and invalid UTF-8. */
#ifndef EXITWATCH_HEX_H
#define EXITWATCH_HEX_H

#include <stddef.h>
#include <stdint.h>

/* out must hold 2 * n + 1 bytes; ew_hex_decode returns bytes or -EINVAL. */
void ew_hex_encode(const char *in, size_t n, char *out);
int ew_hex_decode(const char *in, char *out, size_t outlen);
/* v as 16 lowercase hex digits, most significant first, as "%016" PRIx64; no NUL. */
void ew_hex_u64(uint64_t v, char out[16]);

#endif
