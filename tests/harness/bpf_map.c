// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <cmocka.h>

#include "harness/bpf_map.h"

int ew_h_bpf_map(pid_t pid, const char *name)
{
	char dir[64], path[128], line[128];
	struct dirent *de;
	int found = -1;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", pid);
	d = opendir(dir);
	assert_non_null(d);
	while (found < 0 && (de = readdir(d))) {
		unsigned int id = 0;
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "map_id: %u", &id) == 1)
				break;
		fclose(f);
		if (id) {
			struct bpf_map_info info = {0};
			__u32 len = sizeof(info);
			int fd = bpf_map_get_fd_by_id(id);

			if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) &&
			    !strcmp(info.name, name))
				found = fd;
			else if (fd >= 0)
				close(fd);
		}
	}
	closedir(d);
	if (found < 0)
		fail_msg("process %d has no BPF map named %s", (int)pid, name);
	return found;
}

int ew_h_bpf_map_entries(int fd)
{
	uint64_t key, next; /* "cgroups" and "mains" have keys of 8 bytes at most */
	void *prev = NULL;
	int n = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}
