/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel's side as the tests see it: a BPF map of a running exitwatch (or of the test's
 * own loader), found through the process's file descriptors, so that a test can check what the
 * kernel keeps, or do to a map what a racing BPF program does.
 */
#ifndef EW_TEST_BPF_MAP_H
#define EW_TEST_BPF_MAP_H

#include <sys/types.h>

/* An fd of process pid's BPF map called name, through the map ids in its fdinfo; fails the
 * test if it has none. */
int ew_h_bpf_map(pid_t pid, const char *name);
/* The entries of the hash map fd, walked with get_next_key (what containers_tracked counts). */
int ew_h_bpf_map_entries(int fd);

#endif
