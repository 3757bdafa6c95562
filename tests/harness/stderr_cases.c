// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The stderrwriter cases and containerd's CRI files (tests/harness/stderr_cases.h). */
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness/harness.h"
#include "harness/stderr_cases.h"

/* What `stderrwriter big` writes (10 KiB in 1000-byte writes, a line every 100 bytes, no
 * newline at the end), its last EW_H_TAIL_BYTES. */
static const char *big_tail(void)
{
	static char all[10240], tail[EW_H_TAIL_BYTES + 1];

	if (tail[0])
		return tail;
	for (int i = 0; i < 11; i++) {
		size_t n = i == 10 ? 240 : 1000;

		for (size_t j = 0; j < n; j++)
			all[i * 1000 + j] =
				(j % 100 == 99) ? '\n' : (char)('a' + (i * 1000 + j) % 26);
	}
	memcpy(tail, all + sizeof(all) - EW_H_TAIL_BYTES, EW_H_TAIL_BYTES);
	tail[EW_H_TAIL_BYTES] = '\0';
	return tail;
}

const struct ew_h_stderr_case *ew_h_stderr_cases(size_t *n)
{
	static struct ew_h_stderr_case cases[] = {
		{"cold", "Traceback (most recent call last):\n"
			 "  File \"/app/main.py\", line 3, in <module>\n"
			 "ModuleNotFoundError: No module named 'app.services.monitoring'\n"},
		{"writev", "free(): double free detected in tcache 2\n"},
		{"devstderr",
		 "nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)\n"
		 "nginx: [emerg] still could not bind()\n"},
		{"big", NULL},
		{"interleave",
		 "err 0\nerr 1\nerr 2\nerr 3\nerr 4\nerr 5\nerr 6\nerr 7\nerr 8\nerr 9\n"},
		{"child", "main: starting worker\n"
			  "worker: connect() to db:5432 failed: Connection refused\n"
			  "main: worker died, giving up\n"},
	};

	cases[3].want = big_tail();
	*n = sizeof(cases) / sizeof(cases[0]);
	return cases;
}

const char *ew_h_stderr_want(const char *mode)
{
	size_t n;
	const struct ew_h_stderr_case *c = ew_h_stderr_cases(&n);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(c[i].mode, mode))
			return c[i].want;
	fail_msg("stderrwriter has no mode %s", mode);
	return NULL;
}

const char *ew_h_stderrwriter(void)
{
	static char path[4096];
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s", ew_h_workload());
	snprintf(path, sizeof(path), "%s/stderrwriter", dirname(dir));
	return path;
}

void ew_h_write_cri_config(const char *root, const char *id, const char *uid, const char *pod,
			   const char *ns, const char *cname)
{
	char dir[512], path[600];
	FILE *c;

	snprintf(dir, sizeof(dir), "%s/run/containerd/io.containerd.runtime.v2.task/k8s.io/%s",
		 root, id);
	assert_int_equal(ew_h_sh("mkdir -p '%s'", dir), 0);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	c = fopen(path, "w");
	assert_non_null(c);
	fprintf(c,
		"{\"ociVersion\":\"1.1.0\",\"process\":{\"args\":[\"/app/server\"],\"cwd\":\"/\"},"
		"\"root\":{\"path\":\"rootfs\"},\"annotations\":{"
		"\"io.kubernetes.cri.container-type\":\"container\","
		"\"io.kubernetes.cri.container-name\":\"%s\","
		"\"io.kubernetes.cri.image-name\":\"registry.example.com/shop/%s:1.4.2\","
		"\"io.kubernetes.cri.sandbox-name\":\"%s\","
		"\"io.kubernetes.cri.sandbox-namespace\":\"%s\","
		"\"io.kubernetes.cri.sandbox-uid\":\"%s\"},"
		"\"linux\":{\"cgroupsPath\":\"kubepods-burstable-pod%s.slice:cri-containerd:%s\"}}"
		"\n",
		cname, cname, pod, ns, uid, uid, id);
	assert_int_equal(fclose(c), 0);
}
