/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Configuration: defaults, then the config file (--config, default /etc/exitwatch/exitwatch.conf,
 * absent is fine), then the command line, which overrides the file. No globals: everything
 * lands in one struct ew_config that the caller owns.
 */
#ifndef EXITWATCH_CONFIG_H
#define EXITWATCH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exitwatch/detect/detector.h"
#include "exitwatch/core/exit_class.h"
#include "exitwatch/output/output.h"
#include "exitwatch/core/record.h"

#define EW_DEFAULT_CONFIG "/etc/exitwatch/exitwatch.conf"

enum ew_command {
	EW_CMD_RUN = 0, /* trace (the default) */
	EW_CMD_REPLAY,	/* exitwatch replay PATH */
};

struct ew_config {
	enum ew_command command;
	const char *replay_path;
	double replay_speed; /* replay paced at this many times real time; 0: at once */

	const char *config_path; /* file read, or NULL when none */
	int verbosity;		 /* 0 warnings, 1 info (+ libbpf), 2 debug */
	char node[256];		 /* node name in every record: --node, $NODE_NAME, hostname */
	const char *host_root;	 /* prefix of every host path ("" on the host) */
	const char *cgroup_root; /* cgroup v2 mount; NULL: found in /proc/self/mountinfo */
	const char *proc_root;	 /* --proc-root; NULL until parsed: <host_root>/proc */
	const char
		*cgroup_subtree; /* only containers under this cgroup (below the root); NULL: all */

	/* Kernel side */
	uint64_t ringbuf_bytes;
	uint32_t max_containers;
	bool capture_stderr; /* stderr_bytes > 0: a tail from the runtime's log */
	uint32_t stderr_bytes;
	bool stderr_kernel; /* also the kernel capture (syscall tracepoints), opt-in */
	bool track_ready;
	bool track_oom;
	bool track_signals;
	bool scan_existing; /* find containers already running at start-up */

	/* Runtime metadata */
	bool read_meta;
	const char *docker_root;
	const char *containerd_root;
	const char *containerd_cri_root; /* a failed start's error (the CRI plugin's status) */
	const char *crio_root;
	const char *pods_log_root;
	const char *containers_log_root; /* the kubelet's /var/log/containers links */

	/* Output */
	const char *outputs[EW_MAX_SINKS]; /* --output specs; none: stdout */
	uint32_t noutputs;
	bool format_text; /* --format text */
	struct ew_output_opts out;
	const char *metrics_addr;      /* --metrics-addr ADDR:PORT; NULL: no endpoint */
	bool metrics_container_labels; /* container names as metric labels */

	/* Agent */
	uint64_t agent_interval_ns; /* periodic agent record */
	uint64_t sweep_interval_ns; /* sweep of stale kernel map entries; 0: never */
	const char *state_file;	    /* --state-file */
	uint64_t checkpoint_interval_ns;
	const char *record_path;   /* --record */
	uint64_t drain_timeout_ns; /* at SIGTERM, for network sinks */

	/* Detection */
	struct ew_detector_config detect;
	struct ew_class_config classes;

	/* Storage for strings that came from the file (the argv ones are borrowed). */
	char **owned;
	size_t nowned;
};

void ew_config_init(struct ew_config *cfg);
void ew_config_free(struct ew_config *cfg);

/*
 * Cross-field checks (windows > 0, percentages in range, sizes). 0, or -EINVAL with err naming
 * the key as "[section] key: what is wrong" (no file or line: a value may come from a flag).
 */
int ew_config_validate(const struct ew_config *cfg, char *err, size_t errlen);

/* Keeps a copy of s for the life of cfg; returns it, or NULL on ENOMEM. */
const char *ew_config_strdup(struct ew_config *cfg, const char *s);

#endif
