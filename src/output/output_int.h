/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Internal to the output module, not a public header: one sink of struct ew_outputs, shared by
 * output.c (spec parsing, the public API, dispatch) and file_sink.c (the batched writes of
 * stdout and file: sinks, and a file's rotation and reopening).
 */
#ifndef EXITWATCH_OUTPUT_INT_H
#define EXITWATCH_OUTPUT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "exitwatch/util/buf.h"
#include "exitwatch/output/output.h"
#include "output/stream_int.h"

enum sink_kind {
	SINK_STDOUT,
	SINK_FILE,
	SINK_TCP,
	SINK_UNIX,
};

struct sink {
	enum sink_kind kind;
	enum ew_format format;	    /* what it asks a record for */
	ew_output_filter_fn filter; /* NULL: takes every record */
	void *filter_arg;
	char *spec;		  /* as given: the status name */
	char *path;		  /* file:, unix: */
	char *host;		  /* tcp: without brackets */
	char port[6];		  /* tcp: digits only */
	int fd;			  /* file: -1 when closed */
	bool failing;		  /* stdout, file: the last write failed (one warning per streak) */
	bool rotate_failing;	  /* file: the last rotation failed (one warning per streak) */
	bool regular;		  /* file: a regular file, so rotation applies */
	uint64_t file_size;	  /* file: bytes in the current file, batched ones included */
	dev_t dev;		  /* file: with ino, the file PATH named at open */
	ino_t ino;		  /* file */
	struct ew_stream *stream; /* tcp, unix */
	bool stalled;		  /* tcp, unix, blocking: gave up waiting; not waited for ... */
	uint64_t stalled_at;	  /* ... until its progress passes this (ew_stream_progress()) */
	uint64_t delivered, dropped; /* stdout, file */
	struct ew_buf pend;	     /* stdout, file: the batch, written out at the next flush */
	uint32_t pend_lines;	     /* lines in pend */
};

/*
 * stdout and file: sinks. ew_sink_queue() adds one whole line to the batch (writing it out when
 * it reaches EW_SINK_BATCH_BYTES); ew_sink_flush() writes the batch out now. A failed write is
 * counted in dropped and warned about once per streak.
 */
void ew_sink_queue(struct sink *s, const char *line, size_t len);
void ew_sink_flush(struct sink *s);

/*
 * Opens s->path for appending and notes what it is (regular, size, dev/ino). 0, or -errno with
 * s->fd -1 and the other fields as they were.
 */
int ew_file_sink_open(struct sink *s);
void ew_file_sink_close(struct sink *s);
/*
 * Queues one line, opening the file first if needed, and rotating it first when the line would
 * take it past opts->file_max_bytes.
 */
void ew_file_sink_write(const struct ew_output_opts *opts, struct sink *s, const char *line,
			size_t len);
/* SIGHUP: writes the batch to the file open now, then opens PATH anew. */
void ew_file_sink_reopen(struct sink *s);

#endif
