/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ew-verifier-log OBJ [PROG...]: loads the named programs of a BPF object (default: each one,
 * one at a time) and prints each one's whole verifier log. exitwatch's --verbose cuts a long log
 * at its line buffer, and bpftool's loadall stops at the first program a kernel rejects (one of
 * ew_exit_group_dead/ew_exit_live always is, by design), so neither shows a late program's log.
 * scripts/vmtest/run.sh builds it into the guest for --shell-cmd debugging.
 * Exit status: 0 if every program loaded, 1 if any was rejected, 2 on a usage or open error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#define LOG_SIZE (64u << 20) /* the verifier's log of a large program runs to megabytes */

static int load_one(const char *path, const char *name, char *log)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *p, *want = NULL;
	int err;

	if (!obj) {
		fprintf(stderr, "ew-verifier-log: open %s: %s\n", path, strerror(errno));
		return -2;
	}
	bpf_object__for_each_program(p, obj)
	{
		bool me = strcmp(bpf_program__name(p), name) == 0;

		bpf_program__set_autoload(p, me);
		if (me)
			want = p;
	}
	if (!want) {
		fprintf(stderr, "ew-verifier-log: no program %s in %s\n", name, path);
		bpf_object__close(obj);
		return -2;
	}
	log[0] = '\0';
	bpf_program__set_log_buf(want, log, LOG_SIZE);
	bpf_program__set_log_level(want, 1 | 4); /* the whole walk, then the stats */
	err = bpf_object__load(obj);
	printf("=== %s: %s (%d)\n", name, err ? "REJECTED" : "loaded", err);
	fputs(log, stdout);
	printf("=== end of %s\n", name);
	bpf_object__close(obj);
	return err ? -1 : 0;
}

int main(int argc, char **argv)
{
	char *log;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s OBJ [PROG...]\n", argv[0]);
		return 2;
	}
	log = malloc(LOG_SIZE);
	if (!log)
		return 2;
	if (argc > 2) {
		for (int i = 2; i < argc; i++) {
			int r = load_one(argv[1], argv[i], log);

			if (r == -2)
				return 2;
			if (r)
				rc = 1;
		}
	} else {
		struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
		struct bpf_program *p;

		if (!obj) {
			fprintf(stderr, "ew-verifier-log: open %s: %s\n", argv[1], strerror(errno));
			return 2;
		}
		bpf_object__for_each_program(p, obj)
		{
			if (load_one(argv[1], bpf_program__name(p), log))
				rc = 1;
		}
		bpf_object__close(obj);
	}
	free(log);
	return rc;
}
