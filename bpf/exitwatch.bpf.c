// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * exitwatch kernel side: capture facts, decide nothing.
 *
 * A container's main process is the first process that execs in a cgroup while its real parent
 * lives outside that cgroup (runc, crun and systemd all start containers and services this way).
 * Its exec and the death of its whole thread group are streamed to userspace through one ring
 * buffer; every other exit in the cgroup is only counted here. Thresholds, identities and
 * windows live in userspace.
 *
 * Every hook is a tracepoint: tp_btf/ where the raw tracepoint is BTF-typed, tp/ for syscalls
 * and oom, which only exist as classic tracepoints. kprobes and fentry are not stable ABI and
 * are absent on some hosts.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "exitwatch/abi.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define SIGNAL_GROUP_EXIT     0x04 /* include/linux/sched/signal.h, stable since 2.6 */
#define SIGNAL_GROUP_COREDUMP 0x08 /* set instead of GROUP_EXIT for a core dump before 5.16 */

/* Set by the loader before load. */
const volatile __u64 root_cgroup_id = 1; /* host processes live here: never a container */
const volatile bool capture_stderr = false;
const volatile __u64 wakeup_bytes = 0; /* wake the reader early once this much is waiting */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 2 * 1024 * 1024); /* resized by the loader (--ringbuf-size) */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* cgroup id */
	__type(value, struct ew_cgroup_val);
} cgroups SEC(".maps");

/* 8 KiB a value: allocate on demand instead of locking max_entries of them up front. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64); /* cgroup id */
	__type(value, struct ew_tail_val);
} stderr_tails SEC(".maps");

/* pid (as mark_victim reports it) of recent OOM victims; LRU so host victims age out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} oom_victims SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EW_STAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Per-CPU source of a fresh stderr ring for bpf_map_update_elem(): 8 KiB is too big for the
 * BPF stack. Its ring bytes are stale but never read: only the first `total` bytes count. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ew_tail_val);
} tail_scratch SEC(".maps");

struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

/*
 * Records go out without waking the reader, which drains the ring every EW_POLL_MS anyway: a
 * wakeup (irq_work, then a task wakeup) costs ten times the rest of a record's path, and a
 * container storm would pay it per record. Past wakeup_bytes of backlog, wake it at once.
 */
static __always_inline void submit(void *e)
{
	__u64 flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes
			      ? BPF_RB_FORCE_WAKEUP
			      : BPF_RB_NO_WAKEUP;

	bpf_ringbuf_submit(e, flags);
}

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1; /* per-CPU slot: no atomics needed */
}

/* Direct BTF loads, no helper calls: tp_btf programs may walk typed kernel pointers. */
static __always_inline __u64 task_cgroup_id(struct task_struct *t)
{
	return t->cgroups->dfl_cgrp->kn->id;
}

static __always_inline __u64 task_start_ticks(struct task_struct *t)
{
	return t->group_leader->start_boottime / EW_NS_PER_TICK;
}

/* The open file behind a task's fd (0 if none): a pointer we only ever compare. */
static __always_inline __u64 task_fd_file(struct task_struct *t, int fd)
{
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;

	if (fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return (__u64)f;
}

/* kernfs_node::parent became __parent in 6.15; read whichever this kernel has (plain loads:
 * the result stays a typed pointer the next iteration may walk). */
static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return kn->__parent;
	return ((struct kernfs_node___old *)kn)->parent;
}

/* The main process of the cgroup, if p is it: same pid and start, so a reused pid is not. */
static __always_inline struct ew_cgroup_val *main_of(__u64 cgid, struct task_struct *p)
{
	struct ew_cgroup_val *cg = bpf_map_lookup_elem(&cgroups, &cgid);

	if (!cg || cg->main_pid != p->tgid || cg->main_start_ticks != task_start_ticks(p))
		return NULL;
	return cg;
}

/*
 * The wait status the parent will see: wait_task_zombie() takes signal->group_exit_code when
 * the group is exiting as a whole (exit_group(), a fatal signal, a core dump), otherwise the
 * leader's exit_code. So exit_group(3) from a non-leader thread gives 3 << 8 whichever thread
 * dies last.
 */
static __always_inline __u32 group_exit_word(struct task_struct *p)
{
	struct signal_struct *sig = p->signal;

	if (sig->flags & (SIGNAL_GROUP_EXIT | SIGNAL_GROUP_COREDUMP))
		return (__u32)sig->group_exit_code;
	return (__u32)p->group_leader->exit_code;
}

static __always_inline void count_child(struct ew_cgroup_val *cg, __u32 word)
{
	if (word & 0x7f)
		__sync_fetch_and_add(&cg->children.signaled, 1);
	else if (word >> 8)
		__sync_fetch_and_add(&cg->children.failed, 1);
	else
		__sync_fetch_and_add(&cg->children.clean, 1);
	stat_inc(EW_STAT_EXIT_CHILD);
}

/*
 * runc re-executes itself (/proc/self/exe, then a memfd copy of itself) as `runc init` before
 * it starts the container's process, and under load those execs can land in the container's
 * cgroup. They are runc, not the container: its exit 0 a few ms later would read as a
 * container that started and stopped. Recognised by the exec path (itself, or a descriptor)
 * and a parent that is runc.
 */
static __always_inline bool runtime_bootstrap(struct task_struct *p, struct linux_binprm *bprm)
{
	char path[16], comm[EW_COMM_LEN];

	bpf_probe_read_kernel_str(path, sizeof(path), bprm->filename);
	if (path[0] != '/')
		return false;
	if (path[1] == 'p' && path[2] == 'r' && path[3] == 'o' && path[4] == 'c' &&
	    path[5] == '/' && path[6] == 's' && path[7] == 'e' && path[8] == 'l' &&
	    path[9] == 'f' && path[10] == '/') {
		if (!(path[11] == 'e' && path[12] == 'x' && path[13] == 'e' && path[14] == '\0') &&
		    !(path[11] == 'f' && path[12] == 'd' && path[13] == '/'))
			return false;
	} else if (path[1] != 'd' || path[2] != 'e' || path[3] != 'v' || path[4] != '/' ||
		   path[5] != 'f' || path[6] != 'd' || path[7] != '/') {
		return false;
	}
	bpf_probe_read_kernel(comm, sizeof(comm), p->real_parent->comm);
	return comm[0] == 'r' && comm[1] == 'u' && comm[2] == 'n' && comm[3] == 'c';
}

/*
 * execve() -> bprm_execve() -> exec_binprm() -> trace_sched_process_exec(), after the new image
 * is installed: comm, mm->arg_start and the cgroup are those of the new program. Fires for every
 * exec on the host; the fast path is one compare of the exec'ing task's cgroup with its
 * parent's, both read with plain loads.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(ew_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct ew_cgroup_val *cg, new_cg = {};
	struct ew_exec_event *e;
	struct kernfs_node *kn;
	__u64 cgid, now, ticks;
	__u8 flags = 0;
	__u32 level;
	int i;

	cgid = task_cgroup_id(p);
	if (cgid == root_cgroup_id || cgid == task_cgroup_id(p->real_parent))
		return 0;

	ticks = task_start_ticks(p);
	now = bpf_ktime_get_ns();
	cg = bpf_map_lookup_elem(&cgroups, &cgid);
	if (cg) {
		/* `docker exec` and friends: a second entrant while the main process lives. */
		if (cg->main_pid != p->tgid || cg->main_start_ticks != ticks)
			return 0;
		flags = EW_EXEC_REEXEC;
	} else {
		if (runtime_bootstrap(p, bprm))
			return 0;
		new_cg.main_pid = p->tgid;
		new_cg.main_start_ticks = ticks;
		new_cg.exec_ns = now;
		/*
		 * A write to fd 1 or 2 counts as stderr when it goes to the file the main process
		 * had as fd 2 at exec, so `echo oops >&2` (a write to fd 1 dup'ed from 2) is caught
		 * and a separate stdout is not. The ring itself is made at the first such write.
		 */
		if (capture_stderr)
			new_cg.stderr_file = task_fd_file(p, 2);
		/* NOEXIST: of two racing first execs in one cgroup, exactly one is the main. */
		if (bpf_map_update_elem(&cgroups, &cgid, &new_cg, BPF_NOEXIST)) {
			if (!bpf_map_lookup_elem(&cgroups, &cgid))
				stat_inc(EW_STAT_MAP_FULL);
			return 0;
		}
	}

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(EW_STAT_DROP_EXEC);
		return 0;
	}
	e->hdr.kind = EW_EV_EXEC;
	e->hdr.flags = flags;
	e->hdr.size = sizeof(*e);
	e->hdr.pid = p->tgid;
	e->hdr.ts_ns = now;
	e->hdr.cgroup_id = cgid;
	e->ppid = p->real_parent->tgid;
	e->start_ns = p->start_boottime;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), bprm->filename);
	bpf_probe_read_user_str(e->argv0, sizeof(e->argv0), (void *)p->mm->arg_start);

	/* The identity lives in the cgroup's name and its ancestors': capture them now, the
	 * cgroup may be gone by the time userspace looks. Only as many as the cgroup is deep. */
	level = p->cgroups->dfl_cgrp->level;
	e->cg_level = level;
	kn = p->cgroups->dfl_cgrp->kn;
	for (i = 0; i < EW_CG_LEVELS; i++) {
		if (!kn || i >= level) {
			e->cg_names[i][0] = '\0';
			continue;
		}
		bpf_probe_read_kernel_str(e->cg_names[i], EW_CG_NAME_LEN, kn->name);
		kn = kn_parent(kn);
	}
	submit(e);
	stat_inc(flags ? EW_STAT_EXEC_REEXEC : EW_STAT_EXEC_MAIN);
	return 0;
}

static __always_inline int emit_main_exit(struct task_struct *p, __u64 cgid,
					  struct ew_cgroup_val *cg)
{
	struct ew_exit_tail_event *te = NULL;
	struct ew_tail_val *tail = NULL;
	struct ew_cgroup_val v = *cg; /* copy before the delete frees the element */
	struct ew_exit_event *e;
	__u32 tgid = p->tgid;
	__u64 now = bpf_ktime_get_ns();
	__u8 flags = 0;
	bool oom;

	/* Without group_dead, two last threads can both see signal->live == 0: the delete picks
	 * exactly one of them. */
	if (bpf_map_delete_elem(&cgroups, &cgid))
		return 0;

	/* The OOM killer marks the whole group through signal->oom_mm; the tracepoint's pid may
	 * name any of its threads, so it is the fallback. */
	oom = p->signal->oom_mm != NULL;
	if (!oom && bpf_map_lookup_elem(&oom_victims, &tgid)) {
		oom = true;
		bpf_map_delete_elem(&oom_victims, &tgid);
	}

	if (capture_stderr)
		tail = bpf_map_lookup_elem(&stderr_tails, &cgid);
	if (tail && tail->total) {
		te = bpf_ringbuf_reserve(&events, sizeof(*te), 0);
		e = te ? &te->ex : NULL;
	} else {
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	}
	if (!e) {
		stat_inc(EW_STAT_DROP_EXIT);
		goto out;
	}

	e->hdr.kind = EW_EV_EXIT;
	e->hdr.size = te ? sizeof(*te) : sizeof(*e);
	e->hdr.pid = tgid;
	e->hdr.ts_ns = now;
	e->hdr.cgroup_id = cgid;
	e->exit_word = group_exit_word(p);
	e->tid = p->pid;
	e->start_ns = p->group_leader->start_boottime;
	if (v.exec_ns) {
		e->uptime_ns = now - v.exec_ns;
	} else {
		e->uptime_ns = now - p->group_leader->start_time;
		flags |= EW_EXIT_SEEDED;
	}
	e->ready_ns = v.ready_ns;
	if (v.ready_ns)
		flags |= EW_EXIT_READY;
	e->children = v.children;
	e->killer = v.killer;
	if (v.killer.sig)
		flags |= EW_EXIT_KILLER;
	if (oom)
		flags |= EW_EXIT_OOM;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->stderr_total = 0;
	if (te && tail) {
		e->stderr_total = tail->total;
		bpf_probe_read_kernel(te->stderr_ring, sizeof(te->stderr_ring), tail->ring);
		flags |= EW_EXIT_TAIL;
	}
	e->hdr.flags = flags;
	submit(e);
	stat_inc(EW_STAT_EXIT_MAIN);
out:
	if (tail)
		bpf_map_delete_elem(&stderr_tails, &cgid);
	return 0;
}

static __always_inline int on_group_exit(struct task_struct *p)
{
	__u64 cgid = task_cgroup_id(p);
	struct ew_cgroup_val *cg;

	if (cgid == root_cgroup_id)
		return 0;
	cg = bpf_map_lookup_elem(&cgroups, &cgid);
	if (!cg)
		return 0;
	if (cg->main_pid == p->tgid && cg->main_start_ticks == task_start_ticks(p))
		return emit_main_exit(p, cgid, cg);
	count_child(cg, group_exit_word(p));
	return 0;
}

/*
 * do_exit() -> trace_sched_process_exit(), once per thread, after exit_code is set and
 * signal->live is decremented. Kernels since 6.16 pass group_dead; the loader picks this
 * program there and ew_exit_live elsewhere. A host process pays two loads and a compare.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(ew_exit_group_dead, struct task_struct *p, bool group_dead)
{
	if (!group_dead)
		return 0;
	return on_group_exit(p);
}

/* Older kernels: the last thread out sees signal->live at zero. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(ew_exit_live, struct task_struct *p)
{
	if (p->signal->live.counter)
		return 0;
	return on_group_exit(p);
}

/* Signals whose default action ends the process: everything but CHLD, CONT, STOP, TSTP, TTIN,
 * TTOU, URG and WINCH (and the real-time ones, which runtimes do not use to stop). */
#define EW_FATAL_SIGNALS (((1UL << 32) - 2) & ~(0xFFUL << 17) & ~(1UL << 28))

/*
 * kill()/tgkill() -> send_signal_locked() -> trace_signal_generate(), in the sender's context.
 * Remember the last fatal signal another process delivered to a main process: the kubelet after
 * a failed probe, runc on `docker stop`, a person with kill.
 */
SEC("tp_btf/signal_generate")
int BPF_PROG(ew_signal, int sig, struct kernel_siginfo *info, struct task_struct *t, int group,
	     int result)
{
	struct ew_cgroup_val *cg;
	__u32 sender;
	__u64 cgid;

	if (sig <= 0 || sig >= 32 || !((EW_FATAL_SIGNALS >> sig) & 1) || result != 0)
		return 0;
	sender = bpf_get_current_pid_tgid() >> 32;
	if (sender == t->tgid) /* a fault, abort() or raise(): the exit says it all */
		return 0;
	cgid = task_cgroup_id(t);
	if (cgid == root_cgroup_id)
		return 0;
	cg = main_of(cgid, t);
	if (!cg)
		return 0;
	cg->killer.pid = sender;
	cg->killer.sig = sig;
	cg->killer.cgroup_id = bpf_get_current_cgroup_id();
	cg->killer.ts_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(cg->killer.comm, sizeof(cg->killer.comm));
	stat_inc(EW_STAT_SIGNALS);
	return 0;
}

/* oom_kill_process() -> __oom_kill_process() -> mark_oom_victim() -> trace_mark_victim(). */
SEC("tp/oom/mark_victim")
int ew_oom(struct trace_event_raw_mark_victim *ctx)
{
	__u32 pid = ctx->pid;
	__u64 now = bpf_ktime_get_ns();

	bpf_map_update_elem(&oom_victims, &pid, &now, BPF_ANY);
	stat_inc(EW_STAT_OOM_VICTIMS);
	return 0;
}

/*
 * listen() -> __sys_listen() at syscall entry: the first listen() in a tracked cgroup marks the
 * container ready. Untracked processes pay one hash lookup; listen() is rare anyway.
 */
SEC("tp/syscalls/sys_enter_listen")
int ew_listen(struct trace_event_raw_sys_enter *ctx)
{
	__u64 cgid = bpf_get_current_cgroup_id();
	struct ew_cgroup_val *cg;
	struct ew_ready_event *e;
	__u64 now;

	cg = bpf_map_lookup_elem(&cgroups, &cgid);
	if (!cg || cg->ready_ns)
		return 0;
	now = bpf_ktime_get_ns();
	cg->ready_ns = now; /* a racing second listen() may emit twice; userspace keeps the first */

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(EW_STAT_DROP_READY);
		return 0;
	}
	e->hdr.kind = EW_EV_READY;
	e->hdr.flags = 0;
	e->hdr.size = sizeof(*e);
	e->hdr.pid = cg->main_pid;
	e->hdr.ts_ns = now;
	e->hdr.cgroup_id = cgid;
	e->exec_ns = cg->exec_ns;
	e->listener_pid = bpf_get_current_pid_tgid() >> 32;
	e->pad = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	submit(e);
	stat_inc(EW_STAT_READY);
	return 0;
}

/* The container's stderr ring, made at its first write. */
static __always_inline struct ew_tail_val *tail_of(__u64 cgid)
{
	struct ew_tail_val *t = bpf_map_lookup_elem(&stderr_tails, &cgid);
	__u32 zero = 0;

	if (t)
		return t;
	t = bpf_map_lookup_elem(&tail_scratch, &zero);
	if (!t)
		return NULL;
	t->total = 0;
	bpf_map_update_elem(&stderr_tails, &cgid, t, BPF_NOEXIST);
	return bpf_map_lookup_elem(&stderr_tails, &cgid);
}

/*
 * write(1 or 2, ...) at syscall entry, in a tracked cgroup, to the file the main process had as
 * fd 2: keep the last EW_STDERR_CAP bytes in the container's ring. A write to any other fd pays
 * a compare; to fd 1 or 2 outside containers, one lookup. Loaded only when capture is on.
 */
SEC("tp/syscalls/sys_enter_write")
int ew_write(struct trace_event_raw_sys_enter *ctx)
{
	const char *buf = (const char *)ctx->args[1];
	__u64 n = ctx->args[2], pos, first, cgid;
	int fd = (int)ctx->args[0];
	struct ew_cgroup_val *cg;
	struct ew_tail_val *t;
	__u32 off;

	if ((fd != 1 && fd != 2) || n == 0)
		return 0;
	cgid = bpf_get_current_cgroup_id();
	cg = bpf_map_lookup_elem(&cgroups, &cgid);
	if (!cg)
		return 0;
	/* Seeded containers have no recorded file: their fd 2 only. */
	if (cg->stderr_file ? task_fd_file((struct task_struct *)bpf_get_current_task(), fd) !=
				      cg->stderr_file
			    : fd != 2)
		return 0;
	t = tail_of(cgid);
	if (!t)
		return 0;
	/* Reserve [pos, pos + n) of the stream atomically, so concurrent writers keep order. */
	pos = __sync_fetch_and_add(&t->total, n);
	if (n > EW_STDERR_CAP) {
		buf += n - EW_STDERR_CAP;
		pos += n - EW_STDERR_CAP;
		n = EW_STDERR_CAP;
	}
	off = pos & (EW_STDERR_CAP - 1);
	first = EW_STDERR_CAP - off;
	if (first > n)
		first = n;
	if (first > EW_STDERR_CAP) /* already true; tells the verifier */
		return 0;
	if (bpf_probe_read_user(&t->ring[off], first, buf))
		stat_inc(EW_STAT_TAIL_FAULT);
	n -= first;
	if (n > 0 && n <= EW_STDERR_CAP && bpf_probe_read_user(&t->ring[0], n, buf + first))
		stat_inc(EW_STAT_TAIL_FAULT);
	return 0;
}
