// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "exitwatch/agent/state_owner.h"
#include "exitwatch/util/log.h"

/* The kernel's id of this boot (a UUID, not namespaced), or "" when it cannot be read. */
static void read_boot_id(const char *proc_root, char out[EW_BOOT_ID_LEN])
{
	char path[PATH_MAX], buf[64] = "";
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/sys/kernel/random/boot_id", proc_root);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f) && strlen(buf) >= EW_BOOT_ID_LEN - 1) {
		memcpy(out, buf, EW_BOOT_ID_LEN - 1);
		out[EW_BOOT_ID_LEN - 1] = '\0';
	}
	fclose(f);
}

/*
 * Another agent holding the lock runs now with the same file: restoring its last checkpoint
 * and writing over its next ones would resolve its findings twice and lose what each wrote. So
 * this one goes without the file while the other runs, and says so once.
 */
bool ew_state_owner_open(struct ew_state_owner *o, const char *path, const char *proc_root)
{
	uint32_t pid = 0;
	int r;

	*o = (struct ew_state_owner){.path = path};
	read_boot_id(proc_root, o->boot_id);
	r = ew_state_lock_open(path, &o->lock, &pid);
	if (r == -EBUSY) {
		ew_warn("state file %s is in use by another exitwatch agent (pid %u, which "
			"holds %s.lock): this one neither restores nor writes it while that one "
			"runs (what it detects starts from what it sees), and writes it once that "
			"one is gone; give each agent its own --state-file to keep both",
			path, pid, path);
		return false;
	}
	if (r)
		ew_debug("state file %s: cannot lock %s.lock (%s): another agent sharing the file "
			 "would not be told",
			 path, path, strerror(-r));
	o->owned = true;
	return true;
}

/*
 * An agent that started beside another one on the same file takes it over once the other has
 * gone (its lock goes with its process): from then on its checkpoints are the file. What the
 * other knew and this one did not see (episodes it opened before this one started) is not taken
 * over: its last checkpoint is overwritten, as a restart without the file would.
 */
bool ew_state_owner_take_over(struct ew_state_owner *o)
{
	if (o->owned)
		return true;
	if (!o->lock || ew_state_lock_retry(o->lock, NULL))
		return false;
	o->owned = true;
	ew_warn("state file %s: the agent that held it is gone; this one writes it from now on, "
		"with what it saw itself (the other's open episodes are not taken over)",
		o->path);
	return true;
}

bool ew_state_owner_other_boot(const struct ew_state_owner *o)
{
	return o->boot_id[0] && o->file_boot[0] && strcmp(o->boot_id, o->file_boot);
}

void ew_state_owner_close(struct ew_state_owner *o)
{
	ew_state_lock_close(o->lock);
	o->lock = NULL;
	o->owned = false;
}
