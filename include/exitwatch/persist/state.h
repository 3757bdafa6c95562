/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The state file (--state-file): the detector's memory as JSON, so that a DaemonSet rollout or
 * an agent crash in the middle of a crash loop neither forgets the loop nor fires its finding
 * twice. Written from the detector's export and read back through its import (detector.h);
 * the format is the detector's state, member for member, under {"exitwatch_state":1, ...}.
 * With a resolver, an identity without a subject (asleep) also carries what the resolver
 * knows of its pod ("pod": [namespace, pod name, image], resolver.h's ew_resolver_recall()),
 * so that its loop's next attempt, gone before the new agent reads it, still has its image.
 *
 * Reading is strict: every member the writer always writes must be there with its type and
 * range, or the whole file is refused. A refused file costs the detector's memory (it is left
 * empty) and a warning, never the agent.
 */
#ifndef EXITWATCH_PERSIST_STATE_H
#define EXITWATCH_PERSIST_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "exitwatch/detect/detector.h"
#include "exitwatch/identity/resolver.h"
#include "exitwatch/util/buf.h"

#define EW_STATE_VERSION 1 /* "exitwatch_state": another version is refused */

/* A state file is read whole: one larger than this is refused. */
#define EW_STATE_MAX_BYTES (256 * 1024 * 1024)

/*
 * The boot a state file was written in (/proc/sys/kernel/random/boot_id, "boot_id"): the pids and
 * start ticks of its running starts mean nothing in another boot, where a process of the same
 * pid and tick is another run. 36 characters and the NUL; "" when unknown (a file of an older
 * release has none).
 */
#define EW_BOOT_ID_LEN 37

/*
 * Appends the detector's state as one JSON object to out; saved_ns says when. res (may be NULL)
 * gives the pods of the identities asleep. The file's times are on the wall clock, the next
 * agent's time at its start: step_ns is added to every time (saved_ns's too), the wall clock's
 * steps since the detector's clock was read (util/clock.h; 0: none). 0 or -ENOMEM.
 */
int ew_state_write(const struct ew_detector *d, const struct ew_resolver *res, uint64_t saved_ns,
		   int64_t step_ns, struct ew_buf *out);
/* As ew_state_write(), the file's boot id too (boot_id: NULL or "" writes none). */
int ew_state_write_boot(const struct ew_detector *d, const struct ew_resolver *res,
			uint64_t saved_ns, int64_t step_ns, const char *boot_id,
			struct ew_buf *out);

/*
 * Replaces the detector's state with the one in json[0..len). On any error d is left empty (but
 * when memory runs out before the read begins) and err says why in one line, the bytes of the
 * file it quotes made printable: -EINVAL for a file that is not a state of this version, or
 * -ENOMEM. What the file says of pods goes to r (may be NULL) once the whole file is accepted.
 * now_ns is the wall clock now (UINT64_MAX: none to compare with): a state saved while the clock
 * was ahead has its times moved back (detector.h, ew_detector_import_begin()), by *shifted_ns
 * (may be NULL; 0 when they are not).
 */
int ew_state_read(struct ew_detector *d, struct ew_resolver *r, const char *json, size_t len,
		  uint64_t now_ns, uint64_t *shifted_ns, char *err, size_t errlen);
/* As ew_state_read(), and the file's boot id in boot_id ("" when it has none; may be NULL). */
int ew_state_read_boot(struct ew_detector *d, struct ew_resolver *r, const char *json, size_t len,
		       uint64_t now_ns, uint64_t *shifted_ns, char boot_id[EW_BOOT_ID_LEN],
		       char *err, size_t errlen);

/* Writes the state file at path, boot_id in it (may be NULL): a temporary file, fsync, rename,
 * so that a crash leaves the old state or the new, never half; its times as ew_state_write().
 * 0 or -errno. */
int ew_state_save(const struct ew_detector *d, const struct ew_resolver *r, const char *path,
		  uint64_t saved_ns, int64_t step_ns, const char *boot_id);

/*
 * Loads the state file at path into d, as ew_state_read() at now_ns (*shifted_ns, may be NULL,
 * as there). A missing file is 0 and leaves d as it is. Otherwise "path: why" is in err and the
 * return is -errno (it cannot be opened), -EINVAL (not a regular file of at most
 * EW_STATE_MAX_BYTES, or its content refused by ew_state_read(), d then empty) or -ENOMEM (no
 * room to read it; no message). boot_id (may be NULL): the file's, as ew_state_read_boot().
 */
int ew_state_load(struct ew_detector *d, struct ew_resolver *r, const char *path, uint64_t now_ns,
		  uint64_t *shifted_ns, char boot_id[EW_BOOT_ID_LEN], char *err, size_t errlen);

#endif
