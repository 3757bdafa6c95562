// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The runtime directories held open from start-up (runtime_meta.h, ew_meta_paths_pin()).
 * Why: exitwatch drops every capability but CAP_BPF once attached (agent/caps.c), and uid 0
 * without CAP_DAC_READ_SEARCH can no longer walk through a directory that lacks its owner's x
 * bit. Docker's containerd shims create /run/containerd as 0600 (they make /run/containerd/s
 * with MkdirAll(0600)), so a node that ran Docker before containerd has every containerd
 * config.json behind such a directory. Keeping CAP_DAC_READ_SEARCH instead would let the agent
 * read any file of the host, and open_by_handle_at() escape a container's mounts; a directory
 * fd opened before the drop gives exactly the trees it names. "/proc/self/fd/<N>/..." is how
 * such an fd is used with the calls that take only a path (inotify_add_watch(), systemd does
 * the same): the walk starts at the directory the fd holds and checks only what lies below.
 * The DaemonSet mounts each tree at its own mount point and never had to traverse the parent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitwatch/identity/runtime_meta.h"
#include "exitwatch/util/util.h"

#define EW_META_NROOTS 7
/* "/proc/self/fd/" and an int, or a copy of host_root + root. */
#define EW_META_PIN_PATH_MAX 4096

struct ew_meta_pins {
	int fd[EW_META_NROOTS];
	char path[EW_META_NROOTS][EW_META_PIN_PATH_MAX];
	char real[EW_META_NROOTS][EW_META_PIN_PATH_MAX]; /* host_root + root, for messages */
	char host_root[EW_META_PIN_PATH_MAX];
	int opened;
};

int ew_meta_paths_pin(const struct ew_meta_paths *in, struct ew_meta_pins **ret_pins,
		      struct ew_meta_paths *ret)
{
	struct ew_meta_paths p = *in;
	struct ew_meta_pins *pins;
	const char **roots[EW_META_NROOTS] = {
		&ret->docker_root,	   &ret->containerd_root,     &ret->crio_root,
		&ret->pods_log_root,	   &ret->containers_log_root, &ret->libpod_root,
		&ret->containerd_cri_root,
	};

	ew_meta_paths_default(&p);
	pins = calloc(1, sizeof(*pins));
	if (!pins)
		return -ENOMEM;
	*ret = p;
	ew_strlcpy(pins->host_root, p.host_root, sizeof(pins->host_root));
	ret->host_root = "";
	for (int i = 0; i < EW_META_NROOTS; i++) {
		char *path = pins->path[i];
		int fd;

		pins->fd[i] = -1;
		snprintf(path, EW_META_PIN_PATH_MAX, "%s%s", p.host_root, *roots[i]);
		ew_strlcpy(pins->real[i], path, sizeof(pins->real[i]));
		/* O_PATH: no read permission asked of the root itself, only its lookup. */
		fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			pins->fd[i] = fd;
			pins->opened++;
			snprintf(path, EW_META_PIN_PATH_MAX, "/proc/self/fd/%d", fd);
		}
		*roots[i] = path;
	}
	*ret_pins = pins;
	return 0;
}

void ew_meta_pins_unpin_msg(const struct ew_meta_pins *pins, char *msg, size_t len)
{
	char out[1024];

	if (!pins || !len)
		return;
	for (int i = 0; i < EW_META_NROOTS; i++) {
		size_t plen = strlen(pins->path[i]);
		char *at;

		if (pins->fd[i] < 0)
			continue;
		/* "/proc/self/fd/1" must not match inside "/proc/self/fd/12". */
		while ((at = strstr(msg, pins->path[i])) &&
		       (at[plen] == '/' || at[plen] == '\0' || at[plen] == ':')) {
			snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - msg), msg, pins->real[i],
				 at + plen);
			ew_strlcpy(msg, out, len);
		}
	}
}

const char *ew_meta_pins_host_root(const struct ew_meta_pins *pins)
{
	return pins ? pins->host_root : "";
}

int ew_meta_pins_count(const struct ew_meta_pins *pins)
{
	return pins ? pins->opened : 0;
}

void ew_meta_pins_free(struct ew_meta_pins *pins)
{
	if (!pins)
		return;
	for (int i = 0; i < EW_META_NROOTS; i++)
		if (pins->fd[i] >= 0)
			close(pins->fd[i]);
	free(pins);
}
