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

/*
 * Entries put into and taken out of "cgroups", by these programs and by the agent (its seeds and
 * sweeps, through the mmapped .bss): their difference is containers_tracked, read every second
 * without a syscall, where walking the map took a syscall per entry and a scan of every bucket,
 * a quarter of the idle agent's CPU. Only a put or a delete that succeeded counts. The results
 * are unused: XADD, on every kernel.
 */
__u64 cgroups_in = 0;
__u64 cgroups_out = 0;

/* tgid of each main process -> its key in "cgroups", for ew_cgroup_move. Preallocated: it is
 * written under cgroup_attach_task's spinlock. Sized like "cgroups" by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} mains SEC(".maps");

/*
 * 8 KiB a value, so far fewer entries than "cgroups": only containers that write to stderr take
 * one. Preallocated, because a tracing program may not allocate at run time (5.7-6.0 print a
 * kernel WARNING for it, 5.10 refuses the program); LRU, so when more containers write than
 * there are entries the one that wrote least recently loses its tail, never the agent its load.
 * Sized by the loader (EW_STDERR_TAILS_MAX).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64); /* cgroup id */
	__type(value, struct ew_tail_val);
} stderr_tails SEC(".maps");

/*
 * A write to a container's stderr between its syscall's entry and exit: the arguments are
 * known at entry, the count written and resident pages only at exit. Keyed by thread (pid_tgid);
 * LRU, so a thread that never returns (killed mid-syscall) cannot leak an entry.
 */
struct ew_pending_write {
	__u64 cgroup_id;
	__u64 buf;    /* the buffer, or the iovec array */
	__u32 iovcnt; /* 0: a plain write(); else the iovec count */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct ew_pending_write);
} pending_writes SEC(".maps");

/* pid (as mark_victim reports it) of recent OOM victims -> bpf_ktime_get_boot_ns() of the mark,
 * so that a later process reusing the pid is not taken for the victim. LRU so host victims, whose
 * exits nobody here consumes, age out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} oom_victims SEC(".maps");

/* A thread group, by (tgid, start_boottime of its leader): a reused pid is another group. */
struct ew_group_key {
	__u32 tgid;
	__u32 pad;
	__u64 start_boottime;
};

/*
 * Child thread groups already counted by ew_exit_live: before 6.16 the last two threads of a group
 * can both see signal->live at zero, and the first BPF_NOEXIST insert decides which one counts.
 * LRU and preallocated (no BPF_F_NO_PREALLOC, which warns on 5.7-6.0 for tracing programs): an
 * entry is only needed for the microseconds the two threads race, so the oldest ones may go.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct ew_group_key);
	__type(value, __u8);
} exited_groups SEC(".maps");

/*
 * Cgroups whose main process has exited, for start_failed(): a runtime's init that fails there is
 * a `runc exec` (an exec probe, `kubectl exec`) that lost the race with the container's exit, not
 * a container that never ran (a container's start makes a new cgroup, and cgroup ids are never
 * reused). The race lasts milliseconds, so only the latest exits matter: a direct-mapped table
 * by the id's low bits, where a later exit takes the slot. A store and a compare, where an LRU
 * hash's update cost a container's exit about a microsecond.
 */
#define EW_ENDED_SLOTS 4096 /* a power of two */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EW_ENDED_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} ended_cgroups SEC(".maps");

static __always_inline void ended_put(__u64 cgid)
{
	__u32 slot = cgid & (EW_ENDED_SLOTS - 1);
	__u64 *v = bpf_map_lookup_elem(&ended_cgroups, &slot);

	if (v)
		*v = cgid;
}

static __always_inline bool ended(__u64 cgid)
{
	__u32 slot = cgid & (EW_ENDED_SLOTS - 1);
	__u64 *v = bpf_map_lookup_elem(&ended_cgroups, &slot);

	return v && *v == cgid;
}

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
 * Records wake the reader only when it has caught up (flags 0: the ring buffer's own rule, the
 * wakeup goes to the first record after a drain), so a storm pays one wakeup per turn of the
 * reader's loop, not one per record, and an idle reader sleeps until a record comes instead of
 * polling. That first record is taken at once, a container's start included: userspace starts
 * watching the container's log file then, and a container that lives a few milliseconds has
 * its log closed by the runtime 25-60 ms after its exit (src/agent/log_watch.c). Past
 * wakeup_bytes of backlog, wake the reader whatever it is doing.
 */
static __always_inline void submit(void *e)
{
	bpf_ringbuf_submit(e, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes
				      ? BPF_RB_FORCE_WAKEUP
				      : 0);
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

/*
 * The inode behind a task's fd (0 if none): a pointer we only ever compare. An inode, not the
 * open file, so that a reopened /dev/stderr or /proc/self/fd/2 (a new file on the same pipe,
 * pty or log file) is still the container's stderr.
 */
static __always_inline __u64 task_fd_inode(struct task_struct *t, int fd)
{
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;

	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f)
		return 0;
	return (__u64)BPF_CORE_READ(f, f_inode);
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

/* The container's cgroup id, what records carry: where the main exec'd, wherever it is now. */
static __always_inline __u64 home_of(const struct ew_cgroup_val *cg, __u64 cgid)
{
	return cg->home_cgroup_id ? cg->home_cgroup_id : cgid;
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

/*
 * Whether the OOM killer chose p's thread group. mark_oom_victim() sets signal->oom_mm for the
 * whole group, and it stays set until the signal_struct is freed. The victim map, keyed by pid
 * alone, is the fallback: its entry counts only if the mark is not older than the group's start,
 * so a pid reused since is not the victim. The entry is consumed either way.
 */
static __always_inline bool oom_chosen(struct task_struct *p)
{
	bool oom = p->signal->oom_mm != NULL;
	__u32 tgid = p->tgid;
	__u64 *marked;

	marked = bpf_map_lookup_elem(&oom_victims, &tgid);
	if (marked) {
		if (*marked >= p->group_leader->start_boottime)
			oom = true;
		bpf_map_delete_elem(&oom_victims, &tgid);
	}
	return oom;
}

static __always_inline void count_child(struct ew_cgroup_val *cg, struct task_struct *p)
{
	__u32 word = group_exit_word(p);

	if (word & 0x7f) {
		__sync_fetch_and_add(&cg->children.signaled, 1);
		/* An OOM kill is a SIGKILL: counted in signaled too. */
		if (oom_chosen(p))
			__sync_fetch_and_add(&cg->children.oom_killed, 1);
	} else if (word >> 8) {
		__sync_fetch_and_add(&cg->children.failed, 1);
	} else {
		__sync_fetch_and_add(&cg->children.clean, 1);
	}
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

#define EW_MAX_PID_NS_LEVEL 32 /* MAX_PID_NS_LEVEL, include/linux/pid_namespace.h */
#define EW_REAPER_CG_DEPTH  8  /* cgroups walked up from the init's: dind moves it one down */

/* kn_parent() for a pointer read with BPF_CORE_READ (not a typed one a program may walk). */
static __always_inline struct kernfs_node *kn_parent_read(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

/* Whether cgroup id cgid is the cgroup of kernfs node kn or one of its ancestors, up to
 * EW_REAPER_CG_DEPTH levels up. */
static __always_inline bool kn_within(struct kernfs_node *kn, __u64 cgid)
{
	for (int i = 0; i < EW_REAPER_CG_DEPTH; i++) {
		if (!kn)
			return false;
		if (BPF_CORE_READ(kn, id) == cgid)
			return true;
		kn = kn_parent_read(kn);
	}
	return false;
}

/*
 * Whether p, exec'ing in cgroup cgid, may become its main process. Decided from what the
 * kernel knows now, not only from "first entrant": an exec entrant (`docker exec`, `kubectl
 * exec`, exec probes, `runc exec`) that execs while the cgroup has no entry (between attach and
 * the start-up scan) must not pass for the container.
 * - In a pid namespace of its own (every Docker and Kubernetes container) only the namespace's
 *   init, pid 1 there, may: entrants setns() into the namespace and are forked as another pid.
 * - When that init lives in another cgroup (a pod with shareProcessNamespace, its init being
 *   the pause container; `docker run --pid=container:X`), no one in this cgroup is pid 1:
 *   the first entrant rule applies. Unless the init lives below this cgroup: a main that moved
 *   itself into a child cgroup (dind, kind, systemd in a container; its entry went with it),
 *   and an exec here through its pid namespace (`runc exec` into the container's cgroup) is
 *   an entrant of that container, not a new one.
 * - In the host's pid namespace (services, hostPID pods) the first entrant rule applies.
 * struct upid is { int nr; struct pid_namespace *ns; } on every kernel since 2.6.24.
 */
static __always_inline bool may_be_main(struct task_struct *p, __u64 cgid)
{
	struct pid *pid = BPF_CORE_READ(p, thread_pid); /* read, not walked: indexed below */
	struct task_struct *reaper;
	struct upid up = {};
	unsigned int level;

	level = BPF_CORE_READ(pid, level);
	if (level == 0)
		return true;
	if (level > EW_MAX_PID_NS_LEVEL)
		return false;
	if (bpf_core_read(&up, sizeof(up), &pid->numbers[level & 63]))
		return false;
	if (up.nr == 1)
		return true;
	reaper = BPF_CORE_READ(up.ns, child_reaper);
	return reaper && !kn_within(BPF_CORE_READ(reaper, cgroups, dfl_cgrp, kn), cgid);
}

/*
 * What an exec event says of the process and its cgroup, p being the current task. The identity
 * lives in the cgroup's name and its ancestors': capture them now, the cgroup may be gone by the
 * time userspace looks. Only as many as the cgroup is deep.
 */
static __always_inline void fill_exec(struct ew_exec_event *e, struct task_struct *p)
{
	struct kernfs_node *kn = p->cgroups->dfl_cgrp->kn;
	__u32 level = p->cgroups->dfl_cgrp->level;

	e->hdr.pid = p->tgid;
	e->ppid = p->real_parent->tgid;
	e->start_ns = p->group_leader->start_boottime;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->cg_level = level;
	for (int i = 0; i < EW_CG_LEVELS; i++) {
		if (!kn || i >= level) {
			e->cg_names[i][0] = '\0';
			continue;
		}
		bpf_probe_read_kernel_str(e->cg_names[i], EW_CG_NAME_LEN, kn->name);
		kn = kn_parent(kn);
	}
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
	__u64 cgid, now, ticks, home;
	__u32 tgid = p->tgid;
	__u8 flags = 0;

	cgid = task_cgroup_id(p);
	if (cgid == root_cgroup_id || cgid == task_cgroup_id(p->real_parent))
		return 0;
	home = cgid;

	ticks = task_start_ticks(p);
	now = bpf_ktime_get_boot_ns();
	cg = bpf_map_lookup_elem(&cgroups, &cgid);
	if (cg) {
		/* `docker exec` and friends: a second entrant while the main process lives. */
		if (cg->main_pid != p->tgid || cg->main_start_ticks != ticks)
			return 0;
		flags = EW_EXEC_REEXEC;
		home = home_of(cg, cgid); /* it moved since its first exec: the same container */
	} else {
		if (runtime_bootstrap(p, bprm) || !may_be_main(p, cgid))
			return 0;
		new_cg.main_pid = p->tgid;
		new_cg.main_start_ticks = ticks;
		new_cg.exec_ns = now;
		/*
		 * A write counts as stderr when it goes to what the main process had as fd 2 at
		 * exec, on whatever fd: `echo oops >&2` (fd 1 dup'ed from 2) and `> /dev/stderr` (a
		 * reopened fd 2) are caught, a separate stdout is not. The ring itself is made at
		 * the first such write.
		 */
		if (capture_stderr)
			new_cg.stderr_inode = task_fd_inode(p, 2);
		/* NOEXIST: of two racing first execs in one cgroup, exactly one is the main. */
		if (bpf_map_update_elem(&cgroups, &cgid, &new_cg, BPF_NOEXIST)) {
			if (!bpf_map_lookup_elem(&cgroups, &cgid))
				stat_inc(EW_STAT_MAP_FULL);
			return 0;
		}
		__sync_fetch_and_add(&cgroups_in, 1);
		/* Full: its entry stays put if it moves (the sweep collects it then). */
		bpf_map_update_elem(&mains, &tgid, &cgid, BPF_ANY);
	}

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(EW_STAT_DROP_EXEC);
		return 0;
	}
	e->hdr.kind = EW_EV_EXEC;
	e->hdr.flags = flags;
	e->hdr.size = sizeof(*e);
	e->hdr.ts_ns = now;
	e->hdr.cgroup_id = home;
	fill_exec(e, p);
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), bprm->filename);
	bpf_probe_read_user_str(e->argv0, sizeof(e->argv0), (void *)p->mm->arg_start);
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
	__u64 now = bpf_ktime_get_boot_ns(), home;
	__u8 flags = 0;
	bool oom;

	/* Without group_dead, two last threads can both see signal->live == 0: the delete picks
	 * exactly one of them. */
	if (bpf_map_delete_elem(&cgroups, &cgid))
		return 0;
	__sync_fetch_and_add(&cgroups_out, 1);
	bpf_map_delete_elem(&mains, &tgid);
	home = home_of(&v, cgid);
	ended_put(cgid);
	if (home != cgid)
		ended_put(home);

	oom = oom_chosen(p);

	if (capture_stderr)
		tail = bpf_map_lookup_elem(&stderr_tails, &home);
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
	e->hdr.cgroup_id = home;
	e->exit_word = group_exit_word(p);
	e->tid = p->pid;
	e->start_ns = p->group_leader->start_boottime;
	if (v.exec_ns) {
		e->uptime_ns = now - v.exec_ns;
	} else {
		e->uptime_ns = now - p->group_leader->start_boottime;
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
		bpf_map_delete_elem(&stderr_tails, &home);
	return 0;
}

/* Whether this thread is the first of its group to count the group's exit (see exited_groups). */
static __always_inline bool first_out(struct task_struct *p)
{
	struct ew_group_key k = {
		.tgid = p->tgid,
		.start_boottime = p->group_leader->start_boottime,
	};
	__u8 one = 1;

	return bpf_map_update_elem(&exited_groups, &k, &one, BPF_NOEXIST) == 0;
}

enum runtime_init {
	INIT_NONE,
	INIT_RUNC,
	INIT_CRUN
};

/*
 * The runtime's process that becomes the container's main by exec'ing its command, by its name:
 * runc's init names itself "runc:[2:INIT]" (libcontainer/nsenter); crun's keeps crun's, which is
 * "crun", or, where crun runs a sealed copy of itself from a memfd as runc does, the name the
 * kernel gives an exec from a descriptor: "memfd:crun_clon" (the memfd's, 6.x) or the
 * descriptor's number ("3", older kernels). The exec of the command renames either.
 */
static __always_inline enum runtime_init runtime_init(const char *comm)
{
	static const char runc[] = "runc:[2:INIT]", memfd[] = "memfd:crun";
	int i;

	if (comm[0] == 'c' && comm[1] == 'r' && comm[2] == 'u' && comm[3] == 'n' && !comm[4])
		return INIT_CRUN;
	if (comm[0] >= '0' && comm[0] <= '9') {
		for (i = 1; i < EW_COMM_LEN && comm[i]; i++)
			if (comm[i] < '0' || comm[i] > '9')
				return INIT_NONE;
		return INIT_CRUN;
	}
	if (comm[0] == 'm') {
		for (i = 0; i < sizeof(memfd) - 1; i++)
			if (comm[i] != memfd[i])
				return INIT_NONE;
		return INIT_CRUN;
	}
	for (i = 0; i < sizeof(runc); i++)
		if (comm[i] != runc[i])
			return INIT_NONE;
	return INIT_RUNC;
}

/*
 * A container that never ran. The runtime's init is the process that becomes the container's
 * main by exec'ing its command; when it exits instead, with a code, in a cgroup with no main,
 * the command never started: not found or not executable, a working directory or user that does
 * not exist, a mount the runtime could not make. runc then removes the cgroup, and the runtime
 * reports a failed start (Docker's 126 and 127, the kubelet's StartError and RunContainerError,
 * which its back-off turns into a CrashLoopBackOff): no exec, so no main, so nothing else here
 * would say so. crun's init may not exit on its own: crun, its parent, SIGKILLs it once told of
 * the failure. Not an init killed otherwise (`runc delete` and `crun delete` SIGKILL a container
 * created and never started, when the init's parent is no longer the runtime that made it), nor
 * one whose runtime lives in the same cgroup (runc inside a container), nor one in a cgroup
 * whose main has exited (ended_cgroups).
 */
static __always_inline int start_failed(struct task_struct *p, __u64 cgid, bool racy)
{
	char comm[EW_COMM_LEN], parent[EW_COMM_LEN];
	struct ew_start_failed_event *e;
	enum runtime_init init;
	__u32 word;
	__u64 now;

	bpf_probe_read_kernel(comm, sizeof(comm), p->comm);
	init = runtime_init(comm);
	if (!init)
		return 0;
	word = group_exit_word(p);
	if (init == INIT_CRUN && (word & 0x7f) == 9 /* SIGKILL */) {
		/* By crun itself: its parent, the same program under the same name. */
		bpf_probe_read_kernel(parent, sizeof(parent), p->real_parent->comm);
		for (int i = 0; i < EW_COMM_LEN; i++)
			if (parent[i] != comm[i])
				return 0;
	} else if ((word & 0x7f) || !(word >> 8)) {
		return 0;
	}
	if (cgid == task_cgroup_id(p->real_parent) || ended(cgid))
		return 0;
	if (racy && !first_out(p))
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(EW_STAT_DROP_EXIT);
		return 0;
	}
	now = bpf_ktime_get_boot_ns();
	e->ex.hdr.kind = EW_EV_START_FAILED;
	e->ex.hdr.flags = 0;
	e->ex.hdr.size = sizeof(*e);
	e->ex.hdr.ts_ns = now;
	e->ex.hdr.cgroup_id = cgid;
	fill_exec(&e->ex, p);
	e->ex.filename[0] = '\0';
	e->ex.argv0[0] = '\0';
	e->exit_word = word;
	e->pad = 0;
	e->uptime_ns = now - p->group_leader->start_boottime;
	submit(e);
	stat_inc(EW_STAT_START_FAILED);
	return 0;
}

/* racy: the caller may run twice for one group (ew_exit_live); child counts must not. */
static __always_inline int on_group_exit(struct task_struct *p, bool racy)
{
	__u64 cgid = task_cgroup_id(p);
	struct ew_cgroup_val *cg;

	if (cgid == root_cgroup_id)
		return 0;
	cg = bpf_map_lookup_elem(&cgroups, &cgid);
	if (!cg)
		return start_failed(p, cgid, racy);
	if (cg->main_pid == p->tgid && cg->main_start_ticks == task_start_ticks(p))
		return emit_main_exit(p, cgid, cg);
	if (racy && !first_out(p))
		return 0;
	count_child(cg, p);
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
	return on_group_exit(p, false);
}

/* Older kernels: the last thread out sees signal->live at zero, and so may the one before it
 * (it decremented live, then the last one did, before it got here). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(ew_exit_live, struct task_struct *p)
{
	if (p->signal->live.counter)
		return 0;
	return on_group_exit(p, true);
}

/* Signals whose default action ends the process: everything but CHLD, CONT, STOP, TSTP, TTIN,
 * TTOU, URG (17 to 23) and WINCH (28) (and the real-time ones, which runtimes do not use to
 * stop). XCPU (24) and XFSZ (25) dump core by default: they are fatal. */
#define EW_FATAL_SIGNALS (((1UL << 32) - 2) & ~(0x7FUL << 17) & ~(1UL << 28))

/*
 * kill()/tgkill() -> send_signal_locked() -> trace_signal_generate(), in the sender's context.
 * Remember the last fatal signal another process delivered to a main process: the kubelet after
 * a failed probe, runc on `docker stop`, a person with kill. Not one the kernel sent.
 */
SEC("tp_btf/signal_generate")
int BPF_PROG(ew_signal, int sig, struct kernel_siginfo *info, struct task_struct *t, int group,
	     int result)
{
	struct ew_cgroup_val *cg;
	struct sighand_struct *sh;
	void *handler = NULL;
	unsigned long blocked;
	__u32 sender;
	__u64 cgid;

	if (sig <= 0 || sig >= 32 || !((EW_FATAL_SIGNALS >> sig) & 1) || result != 0)
		return 0;
	/*
	 * SEND_SIG_PRIV ((void *)1, si_code SI_KERNEL as the tracepoint's own format has it): the
	 * kernel sent it, in the context of whichever task was running. The OOM killer's SIGKILL
	 * comes so from the task that ran the memory cgroup out (a worker of the same container,
	 * or any process on the node): no process to name. The exit's class says OOM.
	 */
	if ((unsigned long)info == 1)
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
	/* Whether the target has a handler for it (not SIG_DFL 0; SIG_IGN 1 ends above, ignored):
	 * a caught signal need not be what ended the process, and userspace decides whether it
	 * was (a SIGHUP trapped to reload is not; a SIGTERM caught, then exit 143, is). */
	sh = BPF_CORE_READ(t, sighand); /* a scalar: the index below needs no verifier bounds */
	bpf_core_read(&handler, sizeof(handler), &sh->action[(sig - 1) & 31].sa.sa_handler);
	/*
	 * Or whether it has the signal blocked: tini, dumb-init and systemd keep SIG_DFL and block
	 * SIGTERM to take it with sigwait()/signalfd(); prepare_signal() does not drop a blocked
	 * signal, complete_signal() does not act on it, it waits in the queue for the program.
	 * While sigtimedwait() sleeps, do_sigtimedwait() has unblocked the awaited signals in
	 * ->blocked and keeps the mask it restores after in ->real_blocked (empty otherwise).
	 * Bits are sig - 1 of the first word (signals 1-31 here; sigset_t is 64 bits or more).
	 * The target's own mask only: a sibling thread with it unblocked would let it kill the
	 * group, which the exit status then says (died of the signal).
	 */
	blocked = BPF_CORE_READ(t, blocked.sig[0]) | BPF_CORE_READ(t, real_blocked.sig[0]);
	cg->killer.pid = sender;
	cg->killer.sig = sig;
	cg->killer.flags =
		(__u64)handler > 1 || ((blocked >> (sig - 1)) & 1) ? EW_KILLER_CAUGHT : 0;
	cg->killer.cgroup_id = bpf_get_current_cgroup_id();
	cg->killer.ts_ns = bpf_ktime_get_boot_ns();
	bpf_get_current_comm(cg->killer.comm, sizeof(cg->killer.comm));
	stat_inc(EW_STAT_SIGNALS);
	return 0;
}

/*
 * A write to cgroup.procs -> __cgroup_procs_write() -> cgroup_attach_task() -> cgroup_migrate(),
 * then trace_cgroup_attach_task() with the task already in its new cgroup, still under
 * cgroup_threadgroup_rwsem: exit_signals() takes that too, so the task cannot have begun to exit
 * since it moved, and its exit hook runs after this. It fires for moves in v1 hierarchies too,
 * and for a task the migration skipped (already exiting): what counts is whether the task's v2
 * cgroup changed. A main process that moved (docker:dind, kind and systemd in a container move
 * themselves into a child cgroup) has its entry re-keyed to its new cgroup, keeping the
 * container's id in home_cgroup_id: a re-exec there is a re-exec, and its exit is found and
 * reported as the container's. Every other move pays one lookup. Loaded where the tracepoint
 * attaches; without it such an entry is left behind and the sweep collects it.
 */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(ew_cgroup_move, struct cgroup *dst_cgrp, const char *path, struct task_struct *task,
	     bool threadgroup)
{
	__u32 tgid = task->tgid;
	struct ew_cgroup_val *cg, v;
	__u64 *key, old, cgid;

	/* A single thread (cgroup.threads) leaves its group where it was. */
	if (!threadgroup)
		return 0;
	key = bpf_map_lookup_elem(&mains, &tgid);
	if (!key)
		return 0;
	old = *key;
	cgid = task_cgroup_id(task);
	if (cgid == old)
		return 0;
	cg = main_of(old, task);
	if (!cg) { /* another process that had this pid: its entry went with its exit */
		bpf_map_delete_elem(&mains, &tgid);
		return 0;
	}
	v = *cg;
	if (!v.home_cgroup_id)
		v.home_cgroup_id = old;
	/* Into the root, it is a host process now: no longer tracked, like any there. */
	if (cgid != root_cgroup_id && bpf_map_update_elem(&cgroups, &cgid, &v, BPF_NOEXIST)) {
		/* The new cgroup has a main of its own, or the map is full: the old entry stays,
		 * stale once the main exits, for the sweep. Only a full map is "map_full" (the
		 * agent warns to raise max_containers on it), as at exec. */
		if (!bpf_map_lookup_elem(&cgroups, &cgid))
			stat_inc(EW_STAT_MAP_FULL);
		return 0;
	}
	if (cgid != root_cgroup_id)
		__sync_fetch_and_add(&cgroups_in, 1);
	if (!bpf_map_delete_elem(&cgroups, &old))
		__sync_fetch_and_add(&cgroups_out, 1);
	if (cgid == root_cgroup_id)
		bpf_map_delete_elem(&mains, &tgid);
	else
		bpf_map_update_elem(&mains, &tgid, &cgid, BPF_ANY);
	stat_inc(EW_STAT_MAIN_MOVES);
	return 0;
}

/* oom_kill_process() -> __oom_kill_process() -> mark_oom_victim() -> trace_mark_victim(). */
SEC("tp/oom/mark_victim")
int ew_oom(struct trace_event_raw_mark_victim *ctx)
{
	__u32 pid = ctx->pid;
	__u64 now = bpf_ktime_get_boot_ns(); /* the clock of task->start_boottime; 5.8+ */

	bpf_map_update_elem(&oom_victims, &pid, &now, BPF_ANY);
	stat_inc(EW_STAT_OOM_VICTIMS);
	return 0;
}

#define EW_TCP_LISTEN 10 /* include/net/tcp_states.h, stable ABI of the tracepoint */

/*
 * listen() -> inet_csk_listen_start() -> inet_sk_state_store(sk, TCP_LISTEN) ->
 * trace_inet_sock_set_state(), in the listener's context: the first listening socket in a
 * tracked cgroup marks the container ready. A BTF raw tracepoint on TCP state changes, not a
 * syscall tracepoint: it runs only when a TCP socket changes state, not on the syscalls of
 * every task on the node, and returns at the first compare unless the socket starts
 * listening. With --no-stderr exitwatch attaches no syscall tracepoint. TCP over IPv4 and IPv6;
 * a Unix-socket listener has no such hook and is left to the start-up grace period.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(ew_listen, const struct sock *sk, const int oldstate, const int newstate)
{
	struct ew_cgroup_val *cg;
	struct ew_ready_event *e;
	__u64 now, cgid;

	if (newstate != EW_TCP_LISTEN)
		return 0;
	cgid = bpf_get_current_cgroup_id();
	cg = bpf_map_lookup_elem(&cgroups, &cgid);
	if (!cg || cg->ready_ns)
		return 0;
	now = bpf_ktime_get_boot_ns();
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
	e->hdr.cgroup_id = home_of(cg, cgid);
	e->exec_ns = cg->exec_ns;
	e->listener_pid = bpf_get_current_pid_tgid() >> 32;
	e->pad = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	submit(e);
	stat_inc(EW_STAT_READY);
	return 0;
}

#define EW_EEXIST 17 /* include/uapi/asm-generic/errno-base.h; vmlinux.h has no macros */

/* The container's stderr ring, made at its first write. */
static __always_inline struct ew_tail_val *tail_of(__u64 cgid)
{
	struct ew_tail_val *t = bpf_map_lookup_elem(&stderr_tails, &cgid);
	__u32 zero = 0;
	long err;

	if (t)
		return t;
	t = bpf_map_lookup_elem(&tail_scratch, &zero);
	if (!t)
		return NULL;
	t->total = 0;
	/* -EEXIST: a racing first write made it. Anything else (no free element: -E2BIG from a
	 * full hash, -ENOMEM from an LRU with none to give up): this container's tail is lost. */
	err = bpf_map_update_elem(&stderr_tails, &cgid, t, BPF_NOEXIST);
	if (err && err != -EW_EEXIST)
		stat_inc(EW_STAT_TAIL_FULL);
	return bpf_map_lookup_elem(&stderr_tails, &cgid);
}

/*
 * Copies buf[0, n) to the ring at stream position pos. The masks change no value (off < CAP,
 * first <= n <= CAP, so rest < CAP): they are there for verifiers before 6.2, which do not
 * carry a bound through `rest = n - first` and would reject the second copy.
 */
static __always_inline void tail_copy(struct ew_tail_val *t, __u64 pos, const char *buf, __u64 n)
{
	__u64 off, first, rest;

	if (n > EW_STDERR_CAP) {
		buf += n - EW_STDERR_CAP;
		pos += n - EW_STDERR_CAP;
		n = EW_STDERR_CAP;
	}
	off = pos & (EW_STDERR_CAP - 1);
	first = EW_STDERR_CAP - off;
	if (first > n)
		first = n;
	first &= 2 * EW_STDERR_CAP - 1;
	if (bpf_probe_read_user(&t->ring[off], first, buf))
		stat_inc(EW_STAT_TAIL_FAULT);
	rest = (n - first) & (2 * EW_STDERR_CAP - 1);
	if (rest && bpf_probe_read_user(&t->ring[0], rest, buf + first))
		stat_inc(EW_STAT_TAIL_FAULT);
}

/*
 * At a write's entry: if it goes to a tracked container's stderr, remember it for its exit.
 * A write outside containers pays one lookup; inside, a walk to the fd's inode.
 */
static __always_inline int stderr_enter(int fd, __u64 buf, __u32 iovcnt)
{
	struct ew_pending_write pw = {.buf = buf, .iovcnt = iovcnt};
	__u64 cgid = bpf_get_current_cgroup_id(), tid;
	struct ew_cgroup_val *cg = bpf_map_lookup_elem(&cgroups, &cgid);
	__u64 ino;

	if (!cg)
		return 0;
	if (cg->stderr_inode) {
		ino = task_fd_inode((struct task_struct *)bpf_get_current_task(), fd);
		if (ino != cg->stderr_inode)
			return 0;
	} else if (fd != 2) { /* seeded at start-up: its fd 2 is unknown, so fd 2 only */
		return 0;
	}
	/* The ring's key: the container's home id, also after its main moved (ew_cgroup_move),
	 * so that the exit (which reads it under that id) sees what was written before and after. */
	pw.cgroup_id = home_of(cg, cgid);
	tid = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&pending_writes, &tid, &pw, BPF_ANY);
	return 0;
}

#define EW_IOV_MAX 16 /* iovecs followed per writev(); glibc's own messages use fewer */

struct ew_iovec {
	__u64 base;
	__u64 len;
};

/*
 * At the write's exit, with what it really wrote (ret): copy those bytes into the ring. The
 * kernel has just read them from user memory, so the pages are resident and the copy cannot
 * fault, unlike at entry, where a string in a page not yet touched reads as nothing.
 * fetch: reserve the range with BPF_FETCH (5.12+), so concurrent writers keep their order;
 * without it, read then add, and two writers in the same instant may overlap in the ring.
 */
static __always_inline int stderr_exit(long ret, bool fetch)
{
	__u64 tid = bpf_get_current_pid_tgid(), pos, left, n;
	struct ew_pending_write *pw = bpf_map_lookup_elem(&pending_writes, &tid);
	struct ew_pending_write w;
	struct ew_tail_val *t;
	struct ew_iovec iov;

	if (!pw)
		return 0;
	w = *pw;
	bpf_map_delete_elem(&pending_writes, &tid);
	if (ret <= 0)
		return 0;
	t = tail_of(w.cgroup_id);
	if (!t)
		return 0;
	if (fetch) {
		pos = __sync_fetch_and_add(&t->total, ret);
	} else {
		pos = t->total;
		__sync_fetch_and_add(&t->total, ret); /* result unused: XADD, not BPF_FETCH */
	}
	if (!w.iovcnt) {
		tail_copy(t, pos, (const char *)w.buf, ret);
		return 0;
	}
	/* writev(): the iovecs in order, up to what was written. */
	left = ret;
	for (int i = 0; i < EW_IOV_MAX; i++) {
		if (i >= w.iovcnt || !left)
			break;
		if (bpf_probe_read_user(&iov, sizeof(iov), (void *)(w.buf + i * sizeof(iov))))
			break;
		n = iov.len < left ? iov.len : left;
		tail_copy(t, pos, (const char *)iov.base, n);
		pos += n;
		left -= n;
	}
	return 0;
}

/*
 * write(), writev(), pwritev() and pwritev2() to a container's stderr. Syscall tracepoints,
 * loaded only when capture is on: they run for every write of every task on the node, if only
 * to find the writer in no tracked container (docs/benchmarks.md, "Syscall tax", has the cost).
 */
SEC("tp/syscalls/sys_enter_write")
int ew_stderr_enter_write(struct trace_event_raw_sys_enter *ctx)
{
	return stderr_enter((int)ctx->args[0], ctx->args[1], 0);
}

SEC("tp/syscalls/sys_enter_writev")
int ew_stderr_enter_writev(struct trace_event_raw_sys_enter *ctx)
{
	return ctx->args[2] ? stderr_enter((int)ctx->args[0], ctx->args[1], ctx->args[2]) : 0;
}

SEC("tp/syscalls/sys_enter_pwritev")
int ew_stderr_enter_pwritev(struct trace_event_raw_sys_enter *ctx)
{
	return ctx->args[2] ? stderr_enter((int)ctx->args[0], ctx->args[1], ctx->args[2]) : 0;
}

SEC("tp/syscalls/sys_enter_pwritev2")
int ew_stderr_enter_pwritev2(struct trace_event_raw_sys_enter *ctx)
{
	return ctx->args[2] ? stderr_enter((int)ctx->args[0], ctx->args[1], ctx->args[2]) : 0;
}

/* Each exit twice: with BPF_FETCH, and _nofetch for kernels before 5.12, which reject the
 * instruction even in a program they never run; the loader loads one of the two. */
#define EW_STDERR_EXIT(name, tp)                                 \
	SEC("tp/syscalls/" tp)                                   \
	int name(struct trace_event_raw_sys_exit *ctx)           \
	{                                                        \
		return stderr_exit(ctx->ret, true);              \
	}                                                        \
	SEC("tp/syscalls/" tp)                                   \
	int name##_nofetch(struct trace_event_raw_sys_exit *ctx) \
	{                                                        \
		return stderr_exit(ctx->ret, false);             \
	}

EW_STDERR_EXIT(ew_stderr_exit_write, "sys_exit_write")
EW_STDERR_EXIT(ew_stderr_exit_writev, "sys_exit_writev")
EW_STDERR_EXIT(ew_stderr_exit_pwritev, "sys_exit_pwritev")
EW_STDERR_EXIT(ew_stderr_exit_pwritev2, "sys_exit_pwritev2")
