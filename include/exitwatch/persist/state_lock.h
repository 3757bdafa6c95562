/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Who owns a state file: an advisory lock (flock) on PATH.lock, held for the agent's life and
 * released by the kernel when it exits, however it exits. The state file itself cannot carry
 * the lock: every checkpoint renames a new file over it. Two agents sharing one state file (a
 * DaemonSet rolled out with maxSurge, an operator running the binary by hand with the deployed
 * configuration) would otherwise write over each other's checkpoints, fail each other's
 * rename of PATH.tmp, and resolve the same finding twice after one restored the other's.
 */
#ifndef EXITWATCH_PERSIST_STATE_LOCK_H
#define EXITWATCH_PERSIST_STATE_LOCK_H
#include <stdint.h>

struct ew_state_lock;

/*
 * Opens PATH.lock for the state file at path (created if missing) and tries to take it.
 * 0: taken, this process's pid written in it. -EBUSY: another process holds it, *holder is the
 * pid that process wrote (0 when unreadable); *ret is set all the same, for
 * ew_state_lock_retry(). Another -errno (*ret NULL): no lock could be opened (a read-only
 * directory, for example).
 */
int ew_state_lock_open(const char *path, struct ew_state_lock **ret, uint32_t *holder);
/* Tries again to take a lock that was busy. 0 (taken now or before) or -EBUSY. */
int ew_state_lock_retry(struct ew_state_lock *l, uint32_t *holder);
/* Releases it (if held) and frees it; NULL is fine. */
void ew_state_lock_close(struct ew_state_lock *l);
#endif
