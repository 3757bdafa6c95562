// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Skeleton open/load/attach, ring buffer and counters. Every way the environment can be wrong
 * is checked before libbpf gets a chance to print a page of diagnostics: the user gets one
 * sentence naming the problem, and libbpf's own output only with --verbose. The kernel's map of
 * containers' main processes, as the start-up scan and the sweep keep it: loader_mains.c.
 */
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "exitwatch/ingest/loader.h"
#include "ingest/loader_int.h"
#include "exitwatch/util/log.h"
#include "exitwatch/util/util.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define EW_VMLINUX_BTF "/sys/kernel/btf/vmlinux"

/*
 * Entries of "stderr_tails" at most: 8 KiB each, preallocated and charged to the agent's memory
 * cgroup (5.11+), so 8 MiB. Only containers that wrote to stderr since their start hold one;
 * past this many, the one that wrote least recently gives its ring up.
 */
#define EW_STDERR_TAILS_MAX 1024U

/*
 * libbpf's print callback takes no context, so its state is file-local: whether to pass the
 * messages through, and the last warning, which names the program the verifier rejected.
 */
static bool libbpf_verbose;
static char libbpf_last[512];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *msg = NULL, *line, *save = NULL;
	va_list copy;
	int n;

	/* A verifier log is one message of many kilobytes: format it whole, log it by lines. */
	va_copy(copy, ap);
	n = vasprintf(&msg, fmt, copy);
	va_end(copy);
	if (n < 0)
		return 0;
	if (level <= LIBBPF_WARN && strstr(msg, "prog '"))
		ew_strlcpy(libbpf_last, msg, sizeof(libbpf_last));
	if (libbpf_verbose) {
		for (line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			ew_log(level == LIBBPF_DEBUG ? EW_LOG_DEBUG : EW_LOG_INFO, "%s", line);
	}
	free(msg);
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

/*
 * The arguments of BTF raw tracepoint btf_trace_<name>, ctx included, from the kernel's BTF;
 * -1 when it has no such tracepoint (or no BTF).
 */
static int raw_tp_nargs(const char *name)
{
	const struct btf_type *t;
	char type[128];
	struct btf *btf;
	int id, n = -1;

	btf = btf__load_vmlinux_btf();
	if (!btf)
		return -1;
	snprintf(type, sizeof(type), "btf_trace_%s", name);
	id = btf__find_by_name_kind(btf, type, BTF_KIND_TYPEDEF);
	if (id > 0) {
		t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type); /* pointer */
		if (t && btf_is_ptr(t))
			t = btf__type_by_id(btf, t->type);
		if (t && btf_is_func_proto(t))
			n = btf_vlen(t);
	}
	btf__free(btf);
	return n;
}

/* sched_process_exit gained group_dead in 6.16: (void *ctx, struct task_struct *p, bool). */
static bool exit_has_group_dead(void)
{
	return raw_tp_nargs("sched_process_exit") >= 3;
}

/* cgroup/cgroup_attach_task with the arguments ew_cgroup_move reads:
 * (void *ctx, struct cgroup *dst, const char *path, struct task_struct *task, bool threadgroup). */
static bool has_cgroup_attach_tp(void)
{
	return raw_tp_nargs("cgroup_attach_task") == 5;
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

/*
 * The programs a kernel may lack or refuse without exitwatch losing its point: each one turns
 * one feature off (with one warning line) instead of failing the start. The exec and exit
 * programs are the core and are not here: without them nothing works.
 */
struct optional_prog {
	const char *prog; /* program name, as libbpf names it in a load failure; "x*": prefix x */
	size_t feat;	  /* offsetof(struct ew_loader_features, <bool>) */
	const char *what; /* what the user loses */
};

static const struct optional_prog optional_progs[] = {
	{"ew_stderr_*", offsetof(struct ew_loader_features, stderr_tail), "stderr tails"},
	{"ew_listen", offsetof(struct ew_loader_features, ready), "readiness (listen) tracking"},
	{"ew_oom", offsetof(struct ew_loader_features, oom), "OOM attribution"},
	{"ew_signal", offsetof(struct ew_loader_features, killer), "killer attribution"},
	{"ew_cgroup_move", offsetof(struct ew_loader_features, cgroup_move),
	 "following a main process that moves to another cgroup"},
};

static bool *feat_flag(struct ew_loader *l, const struct optional_prog *o)
{
	return (bool *)((char *)&l->feat + o->feat);
}

static const struct optional_prog *optional_prog(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(optional_progs); i++) {
		const char *p = optional_progs[i].prog;
		size_t n = strlen(p);

		if (p[n - 1] == '*' ? !strncmp(p, name, n - 1) : !strcmp(p, name))
			return &optional_progs[i];
	}
	return NULL;
}

static void feature_off(struct ew_loader *l, const struct optional_prog *o, const char *why)
{
	*feat_flag(l, o) = false;
	ew_warn("%s off: %s; exitwatch goes on reporting container starts and exits", o->what, why);
}

/*
 * Whether the verifier takes BPF_FETCH (atomic fetch-and-add, 5.12+): a five-instruction
 * socket filter that does one on its stack. Any failure reads as "no": the fallback works
 * everywhere.
 */
static bool probe_atomic_fetch(void)
{
	const struct bpf_insn insns[] = {
		{.code = BPF_ST | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_10, .off = -8, .imm = 0},
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1, .imm = 1},
		{.code = BPF_STX | BPF_ATOMIC | BPF_DW,
		 .dst_reg = BPF_REG_10,
		 .src_reg = BPF_REG_1,
		 .off = -8,
		 .imm = BPF_ADD | BPF_FETCH},
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", insns, ARRAY_SIZE(insns),
			       NULL);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* tracefs, mounted by us if nobody did: a DaemonSet's /sys often comes without it. */
static bool tracefs_ready(void)
{
	if (tracefs_has("sched"))
		return true;
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0)
		ew_info("mounted tracefs at /sys/kernel/tracing");
	return tracefs_has("sched");
}

/* Which features this kernel can have, before anything is loaded. */
static void probe_features(struct ew_loader *l, const struct ew_loader_opts *o)
{
	l->feat.stderr_tail = o->capture_stderr;
	l->feat.ready = o->track_ready;
	l->feat.oom = o->track_oom;
	l->feat.killer = o->track_signals;
	l->feat.atomic_fetch = probe_atomic_fetch();

	/*
	 * Only the stderr and OOM programs are classic tracepoints, attached through tracefs. The
	 * warning names only what was on: tails from the runtimes' log files need no tracefs.
	 */
	if ((l->feat.stderr_tail || l->feat.oom) && !tracefs_ready()) {
		ew_warn("tracefs is not mounted and cannot be (mount -t tracefs nodev "
			"/sys/kernel/tracing): %s off; exitwatch goes on reporting container "
			"starts and exits",
			!l->feat.oom	      ? "the kernel stderr capture (--stderr-kernel)"
			: l->feat.stderr_tail ? "the kernel stderr capture (--stderr-kernel) and "
						"OOM attribution"
					      : "OOM attribution");
		l->feat.stderr_tail = l->feat.oom = false;
	}
	if (l->feat.stderr_tail && !tracefs_has("syscalls/sys_enter_write")) {
		ew_warn("this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS): the "
			"kernel stderr capture (--stderr-kernel) off; exitwatch goes on reporting "
			"container starts and exits");
		l->feat.stderr_tail = false;
	}
}

/*
 * The stderr programs: every ew_stderr_enter_*, and of each ew_stderr_exit_* pair the one this
 * kernel takes: the _nofetch twin where BPF_FETCH is refused (before 5.12), since the verifier
 * rejects that instruction even in a program that would never run it.
 */
static void set_stderr_autoload(struct ew_loader *l)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, l->skel->obj)
	{
		const char *name = bpf_program__name(prog);
		bool on = l->feat.stderr_tail;
		size_t n = strlen(name);

		if (strncmp(name, "ew_stderr_", 10))
			continue;
		if (!strncmp(name, "ew_stderr_exit_", 15))
			on = on &&
			     (n > 8 && !strcmp(name + n - 8, "_nofetch")) != l->feat.atomic_fetch;
		bpf_program__set_autoload(prog, on);
	}
}

static int configure(struct ew_loader *l, const struct ew_loader_opts *o)
{
	struct ew_bpf *s = l->skel;
	uint32_t tails =
		o->max_containers < EW_STDERR_TAILS_MAX ? o->max_containers : EW_STDERR_TAILS_MAX;
	int err;

	s->rodata->root_cgroup_id = o->root_cgroup_id;
	s->rodata->capture_stderr = l->feat.stderr_tail;
	s->rodata->wakeup_bytes = o->ringbuf_bytes / 8; /* early wakeup at 1/8 full */
	err = bpf_map__set_max_entries(s->maps.events, o->ringbuf_bytes);
	err = err ?: bpf_map__set_max_entries(s->maps.cgroups, o->max_containers);
	err = err ?: bpf_map__set_max_entries(s->maps.mains, o->max_containers);
	err = err ?: bpf_map__set_max_entries(s->maps.stderr_tails, tails ? tails : 1);
	/* Only ew_exit_live uses it: 1 entry, not 4096 preallocated, where group_dead exists. */
	if (l->feat.exit_group_dead)
		err = err ?: bpf_map__set_max_entries(s->maps.exited_groups, 1);
	if (err)
		return err;
	/* One exit program per kernel flavour; the other would not even verify. */
	bpf_program__set_autoload(s->progs.ew_exit_group_dead, l->feat.exit_group_dead);
	bpf_program__set_autoload(s->progs.ew_exit_live, !l->feat.exit_group_dead);
	set_stderr_autoload(l);
	bpf_program__set_autoload(s->progs.ew_listen, l->feat.ready);
	bpf_program__set_autoload(s->progs.ew_oom, l->feat.oom);
	bpf_program__set_autoload(s->progs.ew_signal, l->feat.killer);
	bpf_program__set_autoload(s->progs.ew_cgroup_move, l->feat.cgroup_move);
	return 0;
}

/*
 * Opens and loads the skeleton. When the verifier rejects an optional program, that feature
 * goes off and the load is tried again without it; a rejected core program is fatal.
 */
static int load(struct ew_loader *l, const struct ew_loader_opts *opts, char *err, size_t errlen)
{
	for (size_t attempt = 0; attempt <= ARRAY_SIZE(optional_progs); attempt++) {
		const struct optional_prog *o;
		char prog[64] = "", why[160];
		const char *p;
		int r;

		l->skel = ew_bpf__open();
		if (!l->skel) {
			r = -errno;
			snprintf(err, errlen, "opening the BPF object failed (%s)", strerror(-r));
			return r;
		}
		r = configure(l, opts);
		if (r) {
			snprintf(err, errlen, "sizing the BPF maps failed (%s)", strerror(-r));
			return r;
		}
		libbpf_last[0] = '\0';
		r = ew_bpf__load(l->skel);
		if (!r)
			return 0;
		describe_load_error(r, err, errlen);
		p = strstr(libbpf_last, "prog '");
		if (p)
			sscanf(p, "prog '%63[^']'", prog);
		o = optional_prog(prog);
		if (!o || !*feat_flag(l, o))
			return r;
		snprintf(why, sizeof(why), "this kernel rejected BPF program %s (%s)", prog,
			 strerror(-r));
		feature_off(l, o, why);
		ew_bpf__destroy(l->skel);
		l->skel = NULL;
	}
	return -EINVAL;
}

static int attach_all(struct ew_loader *l, char *err, size_t errlen)
{
	struct bpf_program *prog;
	struct bpf_link *link;

	bpf_object__for_each_program(prog, l->skel->obj)
	{
		const struct optional_prog *o = optional_prog(bpf_program__name(prog));
		char why[160];
		int e;

		if (!bpf_program__autoload(prog))
			continue;
		if (l->nlinks == ARRAY_SIZE(l->links)) { /* a program added without growing links */
			snprintf(err, errlen,
				 "more BPF programs to attach than the loader holds (%zu)",
				 ARRAY_SIZE(l->links));
			return -E2BIG;
		}
		link = bpf_program__attach(prog);
		if (link) {
			l->links[l->nlinks++] = link;
			continue;
		}
		e = errno;
		if (!o) {
			snprintf(err, errlen, "attaching BPF program %s failed (%s)",
				 bpf_program__name(prog), strerror(e));
			return -e;
		}
		snprintf(why, sizeof(why), "attaching BPF program %s failed (%s)",
			 bpf_program__name(prog), strerror(e));
		feature_off(l, o, why);
	}
	return 0;
}

int ew_loader_open(const struct ew_loader_opts *opts, ew_loader_event_fn fn, void *ctx,
		   struct ew_loader **ret, char *err, size_t errlen)
{
	const char *force_live, *no_move;
	struct ew_loader *l;
	struct utsname u;
	int r;

	libbpf_verbose = opts->verbose;
	libbpf_last[0] = '\0';
	libbpf_set_print(libbpf_print);

	/* Step 1: the core's needs, each problem named; without them nothing works. */
	uname(&u);
	r = check_caps(u.release, err, errlen);
	if (r)
		return r;
	if (access(EW_VMLINUX_BTF, R_OK)) {
		snprintf(err, errlen,
			 "this kernel (%s) exposes no BTF at " EW_VMLINUX_BTF
			 ": exitwatch needs a 5.10+ kernel built with CONFIG_DEBUG_INFO_BTF=y",
			 u.release);
		return -ENOENT;
	}

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->fn = fn;
	l->ctx = ctx;
	ew_strlcpy(l->feat.kernel, u.release, sizeof(l->feat.kernel));
	/*
	 * EW_FORCE_EXIT_LIVE=1 is diagnostic, for the tests: it loads ew_exit_live where group_dead
	 * exists too, so the pre-6.16 exit path runs on any host. The agent record's
	 * features.exit_group_dead says which program ran.
	 */
	force_live = getenv("EW_FORCE_EXIT_LIVE");
	l->feat.exit_group_dead =
		exit_has_group_dead() && !(force_live && !strcmp(force_live, "1"));
	/* EW_NO_CGROUP_MOVE=1, diagnostic too: runs without ew_cgroup_move, as a kernel without
	 * the tracepoint would. */
	no_move = getenv("EW_NO_CGROUP_MOVE");
	l->feat.cgroup_move = has_cgroup_attach_tp() && !(no_move && !strcmp(no_move, "1"));

	/* Step 2: what else this kernel has; a missing piece turns its feature off. */
	probe_features(l, opts);

	/* Step 3: load (optional programs the verifier refuses go off), attach, ring buffer. */
	r = load(l, opts, err, errlen);
	if (r)
		goto err_free;
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
	while (l->nlinks)
		bpf_link__destroy(l->links[--l->nlinks]);
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

/* All or nothing: a counter that failed to read is not 0, which would read as a reset. */
int ew_loader_stats(struct ew_loader *l, uint64_t out[EW_STAT__MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(l->skel->maps.stats);
	uint64_t sum[EW_STAT__MAX] = {0};
	uint64_t *vals;
	int err = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (uint32_t k = 0; k < EW_STAT__MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals)) {
			err = -errno;
			goto out;
		}
		for (int c = 0; c < ncpu; c++)
			sum[k] += vals[c];
	}
	memcpy(out, sum, sizeof(sum));
out:
	free(vals);
	return err;
}

const struct ew_loader_features *ew_loader_features(const struct ew_loader *l)
{
	return &l->feat;
}

bool ew_loader_attached(const struct ew_loader *l)
{
	return l != NULL;
}
