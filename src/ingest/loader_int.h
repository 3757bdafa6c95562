/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Internal to the loader (the public header is include/exitwatch/ingest/loader.h): loader.c
 * opens, loads and attaches the skeleton and reads the ring buffer and counters; loader_mains.c
 * keeps the kernel's map of containers' main processes (the start-up scan's seeds, the sweep).
 */
#ifndef EXITWATCH_LOADER_INT_H
#define EXITWATCH_LOADER_INT_H

#include <stddef.h>

#include <bpf/libbpf.h>

#include "exitwatch.skel.h"
#include "exitwatch/ingest/loader.h"

struct ew_loader {
	struct ew_bpf *skel;
	struct ring_buffer *rb;
	ew_loader_event_fn fn;
	void *ctx;
	struct ew_loader_features feat;
	struct bpf_link *links[16]; /* one per attached program */
	size_t nlinks;
};

#endif
