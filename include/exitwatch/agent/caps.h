/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Least privilege after start-up. Loading and attaching needs CAP_BPF + CAP_PERFMON; running
 * needs only bpf() on the maps we already hold, which kernels before 6.5 still gate on
 * CAP_BPF when kernel.unprivileged_bpf_disabled is set. So CAP_BPF (or CAP_SYS_ADMIN where it
 * stood in for it) stays, and every other capability goes: effective, permitted, inheritable,
 * ambient, and the bounding set when CAP_SETPCAP allows.
 */
#ifndef EXITWATCH_CAPS_H
#define EXITWATCH_CAPS_H

/* Returns 0, or -errno when the process's capabilities could not be lowered. On success,
 * kept receives "CAP_BPF", "CAP_SYS_ADMIN" or "none". */
int ew_caps_drop_after_attach(const char **kept);

#endif
