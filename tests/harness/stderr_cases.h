/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What tests/helpers/stderrwriter writes in each of its modes, as the exact stderr tail of
 * EW_H_TAIL_BYTES a capture must give: one table for the kernel capture (tests/bpf/test_stderr.c),
 * Docker's log files (test_docker.c) and a CRI log (test_cri_log.c). And containerd's files
 * for a CRI-shaped container, which test_docker.c and test_cri_log.c both write.
 */
#ifndef EW_TESTS_STDERR_CASES_H
#define EW_TESTS_STDERR_CASES_H

#include <stddef.h>

#define EW_H_TAIL_BYTES 2048 /* --stderr-bytes' default */

struct ew_h_stderr_case {
	const char *mode; /* stderrwriter's argument */
	const char *want; /* the exact tail */
};

/* The six modes, in stderrwriter's order; *n gets their count. */
const struct ew_h_stderr_case *ew_h_stderr_cases(size_t *n);
/* The tail one mode must give; fails the test for a mode it does not know. */
const char *ew_h_stderr_want(const char *mode);
/* The stderrwriter helper, beside the workload helper. */
const char *ew_h_stderrwriter(void);

/*
 * containerd's OCI config.json for CRI container id under <root>/run/containerd/..., with the
 * annotations the kubelet's CRI sets: pod name, namespace and uid, container name, an image
 * named after the container.
 */
void ew_h_write_cri_config(const char *root, const char *id, const char *uid, const char *pod,
			   const char *ns, const char *cname);

#endif
