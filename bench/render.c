// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * render: what rendering one record costs, apart from the rest of the agent. Renders the two
 * records a container of the userspace storm gives (its container_start and its
 * container_exit, code 3, in a plain cgroup) N times each through the pipeline's path
 * (render/rendered.h, JSON only, as with the default stdout) and prints the mean ns per record,
 * then the two lines' sizes in bytes. Built against the tree's core library by bench/run.sh:
 *
 *   render [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exitwatch/core/exit_class.h"
#include "exitwatch/identity/identity.h"
#include "exitwatch/render/rendered.h"
#include "exitwatch/util/clock.h"
#include "exitwatch/util/util.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * EW_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static struct ew_identity id;
	static struct ew_event ev;
	int n = argc > 1 ? atoi(argv[1]) : 200000;
	struct ew_class_config classes;
	struct ew_render_ctx ctx = {.node = "bench-node", .classes = &classes};
	struct ew_startup su = {.known = true};
	struct ew_record r = {
		.time_ns = 1795954528853738259ULL, .ev = &ev, .id = &id, .startup = &su};
	struct ew_rendered rr;
	size_t bytes[2] = {0};
	uint64_t t0, t1;

	if (n <= 0)
		return 2;
	ew_class_config_default(&classes);
	ew_strlcpy(id.cgroup, "/ew-bench/u/c1234", sizeof(id.cgroup));
	id.cgroup_id = 1464165;
	if (ew_cgroup_parse(id.cgroup, &id.cg)) {
		fprintf(stderr, "render: %s: not a cgroup path\n", id.cgroup);
		return 1;
	}
	id.meta.restart_count = -1;
	ew_identity_finish(&id);
	ev = (struct ew_event){.time_ns = r.time_ns,
			       .cgroup_id = id.cgroup_id,
			       .pid = 32452,
			       .ppid = 32451,
			       .exit_word = 3 << 8};
	ev.status.code = 3;
	strcpy(ev.comm, "exe");
	strcpy(ev.argv0, "spawnstorm");
	strcpy(ev.filename, "/proc/self/exe");
	ew_rendered_init(&rr, &ctx, false);

	t0 = mono_ns();
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < 2; k++) {
			const char *line;
			size_t len;

			ev.type = k ? EW_EVENT_EXIT : EW_EVENT_START;
			r.type = k ? EW_REC_EXIT : EW_REC_START;
			r.cls = k ? ew_exit_classify(&ev, &classes) : EW_CLASS_CLEAN;
			ew_rendered_set(&rr, &r);
			if (ew_rendered_get(&rr, EW_FORMAT_JSON, &line, &len)) {
				fprintf(stderr, "render: the record could not be rendered\n");
				return 1;
			}
			bytes[k] = len;
		}
	}
	t1 = mono_ns();
	printf("%.0f %zu %zu\n", (double)(t1 - t0) / (2.0 * n), bytes[0], bytes[1]);
	ew_rendered_free(&rr);
	return 0;
}
