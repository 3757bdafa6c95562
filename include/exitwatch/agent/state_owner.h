/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The agent's hold on its state file: whether it owns the file (persist/state_lock.h: one agent
 * at a time restores and writes it), and the boot it runs in against the one the file was
 * written in (persist/state.h, "boot_id").
 */
#ifndef EXITWATCH_AGENT_STATE_OWNER_H
#define EXITWATCH_AGENT_STATE_OWNER_H
#include <stdbool.h>

#include "exitwatch/persist/state.h"
#include "exitwatch/persist/state_lock.h"

struct ew_state_owner {
	const char *path;
	struct ew_state_lock *lock;	/* PATH.lock, held or tried again */
	bool owned;			/* this agent restores and writes the file */
	char boot_id[EW_BOOT_ID_LEN];	/* this boot's; "" when unknown */
	char file_boot[EW_BOOT_ID_LEN]; /* the restored file's; "" when it says none */
};

/*
 * Reads this boot's id (under proc_root) and tries to take the file at path. true: this agent
 * owns it (or no lock could be opened at all: a read-only directory, as before locks). false:
 * another agent holds it, said once in a warning naming its pid.
 */
bool ew_state_owner_open(struct ew_state_owner *o, const char *path, const char *proc_root);
/* Whether the agent owns the file now: one that did not takes it once the other has gone. */
bool ew_state_owner_take_over(struct ew_state_owner *o);
/* Whether the restored file was written in another boot (both ids known and different). */
bool ew_state_owner_other_boot(const struct ew_state_owner *o);
void ew_state_owner_close(struct ew_state_owner *o);
#endif
