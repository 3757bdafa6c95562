// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The config file reader on any bytes. The file is the operator's, not an attacker's, but a
 * truncated write, a binary dropped in its place or a copy-paste from a web page must still
 * end in one clear line on stderr, never a crash or a half-read config.
 */
#include <errno.h>

#include "exitwatch/cli/config.h"
#include "exitwatch/cli/config_file.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ew_config cfg;
	char err[512], verr[512];
	char *text = ew_fuzz_dup(data, size);
	int r;

	if (!text)
		return 0;
	ew_config_init(&cfg);
	memset(err, 'x', sizeof(err));
	r = ew_config_load_buffer(&cfg, "fuzz.conf", text, size, err, sizeof(err));
	EW_FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM, "returned %d", r);
	EW_FUZZ_TERMINATED(err);
	EW_FUZZ_CHECK(ew_fuzz_one_line(err), "message is not one line: %s", err);
	if (r < 0) {
		EW_FUZZ_CHECK(!strncmp(err, "fuzz.conf", 9), "message does not name the file: %s",
			      err);
		EW_FUZZ_CHECK(ew_fuzz_utf8(err, strlen(err)) || !ew_fuzz_utf8(text, size),
			      "message cut a UTF-8 character: %s", err);
	} else {
		EW_FUZZ_CHECK(!err[0], "success with a message: %s", err);
		EW_FUZZ_CHECK(cfg.noutputs <= EW_MAX_SINKS, "%u outputs", cfg.noutputs);
		for (uint32_t i = 0; i < cfg.noutputs; i++)
			EW_FUZZ_CHECK(cfg.outputs[i] && cfg.outputs[i][0], "output %u empty", i);
		EW_FUZZ_TERMINATED(cfg.node);
		/* Every path key insists on an absolute path (host_root may also be ""). */
		EW_FUZZ_CHECK(cfg.host_root && (!cfg.host_root[0] || cfg.host_root[0] == '/'),
			      "host_root '%s'", cfg.host_root ? cfg.host_root : "(null)");
		EW_FUZZ_CHECK(!cfg.cgroup_root || cfg.cgroup_root[0] == '/', "cgroup_root '%s'",
			      cfg.cgroup_root);
		EW_FUZZ_CHECK(!cfg.state_file || cfg.state_file[0] == '/', "state_file '%s'",
			      cfg.state_file);
		EW_FUZZ_CHECK(!cfg.docker_root || cfg.docker_root[0] == '/', "docker_root '%s'",
			      cfg.docker_root);
		EW_FUZZ_CHECK(cfg.stderr_bytes <= 4096 &&
				      cfg.capture_stderr == (cfg.stderr_bytes > 0),
			      "stderr_bytes %u capture %d", cfg.stderr_bytes, cfg.capture_stderr);
		EW_FUZZ_CHECK(cfg.verbosity >= 0 && cfg.verbosity <= 2, "verbosity %d",
			      cfg.verbosity);
		for (int i = 0; i < 256; i++)
			EW_FUZZ_TERMINATED(cfg.classes.meanings[i]);
		/* What the agent does next: the cross-field checks, with their own message. */
		verr[0] = '\0';
		r = ew_config_validate(&cfg, verr, sizeof(verr));
		EW_FUZZ_CHECK(r == 0 || r == -EINVAL, "validate returned %d", r);
		EW_FUZZ_CHECK(r == 0 || (verr[0] && ew_fuzz_one_line(verr)),
			      "validate message: '%s'", verr);
	}
	ew_config_free(&cfg);
	free(text);
	return 0;
}
