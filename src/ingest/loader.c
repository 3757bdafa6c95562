// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Skeleton open/load/attach, ring buffer and counters. Every way the environment can be wrong
 * is checked before libbpf gets a chance to print a page of diagnostics: the user gets one
 * sentence naming the problem, and libbpf's own output only with --verbose.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/capability.h>
#include <sys/utsname.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "exitwatch.skel.h"
#include "exitwatch/loader.h"
#include "exitwatch/log.h"
#include "exitwatch/util.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define EW_VMLINUX_BTF "/sys/kernel/btf/vmlinux"

struct ew_loader {
	struct ew_bpf *skel;
	struct ring_buffer *rb;
	ew_loader_event_fn fn;
	void *ctx;
	struct ew_loader_features feat;
};

/*
 * libbpf's print callback takes no context, so its state is file-local: whether to pass the
 * messages through, and the last warning, which names the program the verifier rejected.
 */
static bool libbpf_verbose;
static char libbpf_last[512];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (level <= LIBBPF_WARN && strstr(line, "prog '"))
		ew_strlcpy(libbpf_last, line, sizeof(libbpf_last));
	if (libbpf_verbose)
		ew_log(level == LIBBPF_DEBUG ? EW_LOG_DEBUG : EW_LOG_INFO, "libbpf: %s", line);
	return 0;
}

static bool has_cap(cap_t caps, cap_value_t cap)
{
	cap_flag_value_t v = CAP_CLEAR;

	if (!caps || cap_get_flag(caps, cap, CAP_EFFECTIVE, &v))
		return false;
	return v == CAP_SET;
}

static int kernel_version(const char *release)
{
	int major = 0, minor = 0;

	if (sscanf(release, "%d.%d", &major, &minor) != 2)
		return 0;
	return major * 1000 + minor;
}

/*
 * Loading tracing programs needs CAP_BPF + CAP_PERFMON (5.8+) or CAP_SYS_ADMIN. Kernels before
 * 5.11 charge BPF memory to RLIMIT_MEMLOCK, which libbpf raises: that needs CAP_SYS_RESOURCE.
 */
static int check_caps(const char *release, char *err, size_t errlen)
{
	cap_t caps = cap_get_proc();
	char missing[128] = "";
	bool admin = has_cap(caps, CAP_SYS_ADMIN);

	if (!admin && !has_cap(caps, CAP_BPF))
		strcat(missing, ", CAP_BPF");
	if (!admin && !has_cap(caps, CAP_PERFMON))
		strcat(missing, ", CAP_PERFMON");
	if (kernel_version(release) < 5011 && !has_cap(caps, CAP_SYS_RESOURCE))
		strcat(missing, ", CAP_SYS_RESOURCE");
	cap_free(caps);
	if (!missing[0])
		return 0;
	snprintf(err, errlen,
		 "missing capabilities %s: exitwatch needs CAP_BPF and CAP_PERFMON (or "
		 "CAP_SYS_ADMIN) to load its tracepoint programs; run it as root or grant them",
		 missing + 2);
	return -EPERM;
}

static bool tracefs_has(const char *event_dir)
{
	static const char *const roots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
	char path[256];

	for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
		snprintf(path, sizeof(path), "%s/events/%s", roots[i], event_dir);
		if (access(path, R_OK) == 0)
			return true;
	}
	return false;
}

/* sched_process_exit gained a group_dead argument in 6.16: count the raw tracepoint's args. */
static bool exit_has_group_dead(void)
{
	const struct btf_type *t;
	struct btf *btf;
	bool ret = false;
	int id;

	btf = btf__load_vmlinux_btf();
	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, "btf_trace_sched_process_exit", BTF_KIND_TYPEDEF);
	if (id > 0) {
		t = btf__type_by_id(btf, id);
		t = btf__type_by_id(btf, t->type); /* pointer */
		if (t && btf_is_ptr(t))
			t = btf__type_by_id(btf, t->type);
		/* (void *ctx, struct task_struct *p, bool group_dead) */
		ret = t && btf_is_func_proto(t) && btf_vlen(t) >= 3;
	}
	btf__free(btf);
	return ret;
}

static int ringbuf_cb(void *ctx, void *data, size_t size)
{
	struct ew_loader *l = ctx;

	return l->fn(l->ctx, data, size);
}

static void describe_load_error(int err, char *buf, size_t len)
{
	char prog[64] = "";
	const char *p = strstr(libbpf_last, "prog '");

	if (p)
		sscanf(p, "prog '%63[^']'", prog);
	if (prog[0])
		snprintf(buf, len,
			 "the kernel rejected BPF program %s (%s); run with --verbose for the "
			 "verifier log",
			 prog, strerror(-err));
	else
		snprintf(buf, len,
			 "loading the BPF programs failed (%s); run with --verbose for details",
			 strerror(-err));
}

static int attach_one(struct bpf_program *prog, struct bpf_link **link, char *err, size_t errlen)
{
	if (!bpf_program__autoload(prog))
		return 0;
	*link = bpf_program__attach(prog);
	if (!*link) {
		int e = -errno;

		snprintf(err, errlen, "attaching BPF program %s failed (%s)",
			 bpf_program__name(prog), strerror(-e));
		return e;
	}
	return 0;
}

static int configure(struct ew_loader *l, const struct ew_loader_opts *o)
{
	struct ew_bpf *s = l->skel;
	int err;

	s->rodata->root_cgroup_id = o->root_cgroup_id;
	s->rodata->capture_stderr = o->capture_stderr;
	s->rodata->wakeup_bytes = o->ringbuf_bytes / 8; /* early wakeup at 1/8 full */
	err = bpf_map__set_max_entries(s->maps.events, o->ringbuf_bytes);
	err = err ?: bpf_map__set_max_entries(s->maps.cgroups, o->max_containers);
	err = err ?: bpf_map__set_max_entries(s->maps.stderr_tails, o->max_containers);
	if (err)
		return err;
	/* One exit program per kernel flavour; the other would not even verify. */
	bpf_program__set_autoload(s->progs.ew_exit_group_dead, l->feat.exit_group_dead);
	bpf_program__set_autoload(s->progs.ew_exit_live, !l->feat.exit_group_dead);
	bpf_program__set_autoload(s->progs.ew_write, o->capture_stderr);
	bpf_program__set_autoload(s->progs.ew_listen, o->track_ready);
	bpf_program__set_autoload(s->progs.ew_oom, o->track_oom);
	bpf_program__set_autoload(s->progs.ew_signal, o->track_signals);
	return 0;
}

static int attach_all(struct ew_loader *l, char *err, size_t errlen)
{
	struct ew_bpf *s = l->skel;
	int r;

	r = attach_one(s->progs.ew_exec, &s->links.ew_exec, err, errlen);
	r = r ?: attach_one(s->progs.ew_exit_group_dead, &s->links.ew_exit_group_dead, err, errlen);
	r = r ?: attach_one(s->progs.ew_exit_live, &s->links.ew_exit_live, err, errlen);
	r = r ?: attach_one(s->progs.ew_signal, &s->links.ew_signal, err, errlen);
	r = r ?: attach_one(s->progs.ew_oom, &s->links.ew_oom, err, errlen);
	r = r ?: attach_one(s->progs.ew_listen, &s->links.ew_listen, err, errlen);
	r = r ?: attach_one(s->progs.ew_write, &s->links.ew_write, err, errlen);
	return r;
}

int ew_loader_open(const struct ew_loader_opts *opts, ew_loader_event_fn fn, void *ctx,
		   struct ew_loader **ret, char *err, size_t errlen)
{
	bool need_tracefs = opts->capture_stderr || opts->track_ready || opts->track_oom;
	struct ew_loader *l;
	struct utsname u;
	int r;

	libbpf_verbose = opts->verbose;
	libbpf_last[0] = '\0';
	libbpf_set_print(libbpf_print);

	/* Step 1: the environment, each problem named. */
	uname(&u);
	r = check_caps(u.release, err, errlen);
	if (r)
		return r;
	if (access(EW_VMLINUX_BTF, R_OK)) {
		snprintf(err, errlen,
			 "this kernel (%s) exposes no BTF at " EW_VMLINUX_BTF
			 ": exitwatch needs a 5.8+ kernel built with CONFIG_DEBUG_INFO_BTF=y",
			 u.release);
		return -ENOENT;
	}
	if (need_tracefs && !tracefs_has("sched")) {
		snprintf(err, errlen,
			 "tracefs is not mounted (needed for the listen, write and oom "
			 "tracepoints): mount -t tracefs nodev /sys/kernel/tracing");
		return -ENOENT;
	}
	if ((opts->capture_stderr || opts->track_ready) &&
	    !tracefs_has("syscalls/sys_enter_write")) {
		snprintf(
			err, errlen,
			"this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS): run with "
			"--no-stderr and --startup-grace only, or use a kernel that has them");
		return -ENOENT;
	}

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->fn = fn;
	l->ctx = ctx;
	ew_strlcpy(l->feat.kernel, u.release, sizeof(l->feat.kernel));
	l->feat.exit_group_dead = exit_has_group_dead();

	/* Step 2: open, size the maps, pick the programs, load. */
	l->skel = ew_bpf__open();
	if (!l->skel) {
		r = -errno;
		snprintf(err, errlen, "opening the BPF object failed (%s)", strerror(-r));
		goto err_free;
	}
	r = configure(l, opts);
	if (r) {
		snprintf(err, errlen, "sizing the BPF maps failed (%s)", strerror(-r));
		goto err_free;
	}
	r = ew_bpf__load(l->skel);
	if (r) {
		describe_load_error(r, err, errlen);
		goto err_free;
	}

	/* Step 3: attach, then open the ring buffer. */
	r = attach_all(l, err, errlen);
	if (r)
		goto err_free;
	l->rb = ring_buffer__new(bpf_map__fd(l->skel->maps.events), ringbuf_cb, l, NULL);
	if (!l->rb) {
		r = -errno;
		snprintf(err, errlen, "opening the ring buffer failed (%s)", strerror(-r));
		goto err_free;
	}
	*ret = l;
	return 0;

err_free:
	ew_loader_free(l);
	return r;
}

void ew_loader_free(struct ew_loader *l)
{
	if (!l)
		return;
	ring_buffer__free(l->rb);
	ew_bpf__destroy(l->skel);
	free(l);
}

int ew_loader_fd(const struct ew_loader *l)
{
	return ring_buffer__epoll_fd(l->rb);
}

int ew_loader_consume(struct ew_loader *l)
{
	return ring_buffer__consume(l->rb);
}

int ew_loader_stats(struct ew_loader *l, uint64_t out[EW_STAT__MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(l->skel->maps.stats);
	uint64_t *vals;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (uint32_t k = 0; k < EW_STAT__MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
	return 0;
}

int ew_loader_seed(struct ew_loader *l, uint32_t pid, uint64_t start_ticks, uint64_t cgroup_id)
{
	struct ew_cgroup_val cg = {.main_pid = pid, .main_start_ticks = start_ticks};

	/* NOEXIST: a cgroup whose main exec'd after attach is already tracked, and better. exec_ns
	 * 0 marks it seeded; its stderr file is unknown (0): its writes to fd 2 count from now. */
	if (bpf_map_update_elem(bpf_map__fd(l->skel->maps.cgroups), &cgroup_id, &cg, BPF_NOEXIST))
		return -errno;
	return 0;
}

int ew_loader_tracked(struct ew_loader *l)
{
	int fd = bpf_map__fd(l->skel->maps.cgroups);
	uint64_t key, next;
	void *prev = NULL;
	int n = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

const struct ew_loader_features *ew_loader_features(const struct ew_loader *l)
{
	return &l->feat;
}

bool ew_loader_attached(const struct ew_loader *l)
{
	return l != NULL;
}
