#!/usr/bin/env bash
# make bench: exitwatch side by side with its peers on this machine, as root.
# Prints a table and writes it to build/bench/results.md (docs/benchmarks.md explains the
# method and keeps the figures of a reference run). A benchmark, not a test: it asserts
# nothing, it measures.
#
#   ROUNDS=7 SPAWNS=1000 bench/run.sh [section...]
#   sections: overhead syscalls kernel userspace loss latency startup churn (default: all)
#   CHURN_TOTAL=200000 CHURN_STEP=20000: the churn soak's unique containers, and its steps
#   BUILD=build-x: the tree measured (build/ by default), and where results go
#   USERSPACE_ROUNDS=7: rounds of agent, transport floor (bench/floor.patch), the record path
#   without detection or rendering (bench/nodetect.patch), without rendering
#   (bench/norender.patch), agent again, and a crash loop (500 containers started 6 times each);
#   then both workloads recorded and replayed under callgrind (instructions per record)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
# The peers (libbpf-tools, bpftrace), installed when missing.
scripts/deps.sh bench

rounds=${ROUNDS:-7}
spawns=${SPAWNS:-1000}
build=${BUILD:-build}
out=$build/bench
mkdir -p "$out"
res=$out/results.md
storm=$out/spawnstorm
[ -x "$storm" ] || gcc -O2 -static -o "$storm" bench/spawnstorm.c
sysstorm=$out/syscallstorm
[ -x "$sysstorm" ] || gcc -O2 -static -o "$sysstorm" bench/syscallstorm.c
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
ew=$build/exitwatch
[ -x "$ew" ] || make -s BUILD="$build"
cgroot=$(awk '$9 == "cgroup2" && $4 == "/" { print $5; exit }' /proc/self/mountinfo)
cgdir=$cgroot/ew-bench
mkdir -p "$cgdir"
work=$(mktemp -d)
cleanup() {
	pkill -INT -f "$work" 2>/dev/null || true
	rm -rf "$work"
	find "$cgdir" -depth -type d -exec rmdir {} + 2>/dev/null || true
}
trap cleanup EXIT

sections=${*:-overhead syscalls kernel userspace loss latency startup churn}
want() { [[ " $sections " == *" $1 "* ]]; }

{
	echo "# exitwatch benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
	echo
	echo "Machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r), exitwatch $($ew --version | cut -d' ' -f2)."
	echo
} >"$res"

declare -A tracer=(
	[exitwatch]="$ew --config /dev/null --agent-interval 1h"
	[libbpf-tools]="/usr/sbin/exitsnoop & /usr/sbin/execsnoop"
	[bpftrace]="bpftrace bench/peers.bt"
	[exitwatch-stderr-kernel]="$ew --config /dev/null --agent-interval 1h --stderr-kernel"
)
order=(none exitwatch libbpf-tools bpftrace)

# One storm under one tracer; prints ns/spawn. Tracers run in their own session so the
# whole group can be stopped.
run_storm() { # name n cgdir
	local name=$1 n=$2 dir=${3:-} pid="" ns
	if [ "$name" != none ]; then
		setsid bash -c "exec -a $work/$name bash -c '${tracer[$name]}'" >"$work/$name.log" 2>&1 &
		pid=$!
		sleep "${READY_S:-3}"
	fi
	ns=$("$storm" "$n" 3 $dir)
	if [ -n "$pid" ]; then
		kill -INT -- -"$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	echo "$ns"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

overhead() { # title dir
	local title=$1 dir=${2:-} r name
	: >"$work/overhead"
	for ((r = 1; r <= rounds; r++)); do
		for name in "${order[@]}"; do
			echo "$name $(run_storm "$name" "$spawns" "$dir")" >>"$work/overhead"
		done
	done
	local base
	base=$(awk '$1 == "none" { print $2 }' "$work/overhead" | median)
	{
		echo "### Spawn-storm overhead: $title"
		echo
		echo "$spawns spawns a round, $rounds rounds alternating configurations; median wall time per spawn+exit."
		echo
		echo "| tracer | ns/spawn (median) | vs none |"
		echo "|---|---:|---:|"
		for name in "${order[@]}"; do
			local m
			m=$(awk -v n="$name" '$1 == n { print $2 }' "$work/overhead" | median)
			awk -v n="$name" -v m="$m" -v b="$base" 'BEGIN { printf "| %s | %d | %+.2f%% |\n", n, m, (m / b - 1) * 100 }'
		done
		echo
	} | tee -a "$res"
}

# BPF programs and links held by the processes of session $1 (a tracer started with setsid):
# a tracer "ran" only if it holds some. Each such fd's fdinfo names its prog_id.
session_progs() {
	local p n=0
	for p in $(pgrep -s "$1"); do
		n=$((n + $(cat /proc/"$p"/fdinfo/* 2>/dev/null | grep -c '^prog_id:' || true)))
	done
	echo "$n"
}

# What a tracer adds to every syscall of every task on the node: a syscall tracepoint, once
# attached, sends all of them through the tracing slow path. Cheap syscalls under each tracer,
# rounds alternating configurations; a tracer that loaded no program fails the run rather than
# pass for free.
syscall_tax() {
	local n=${SYSCALLS:-2000000} r name pid
	local cfgs=(none exitwatch exitwatch-stderr-kernel libbpf-tools bpftrace)
	# The storm on the last CPU, each tracer's userspace on the first: a tracer's own wakeups
	# then do not preempt the storm, and what is left is what its programs add to a syscall.
	local cpu_storm=() cpu_tracer=() last=$(($(nproc) - 1))
	if [ "$last" -gt 0 ]; then
		cpu_storm=(taskset -c "$last")
		cpu_tracer=(taskset -c 0)
	fi
	: >"$work/sys"
	for ((r = 1; r <= ${SYS_ROUNDS:-9}; r++)); do
		for name in "${cfgs[@]}"; do
			pid=""
			if [ "$name" != none ]; then
				setsid "${cpu_tracer[@]}" bash -c "exec -a $work/$name bash -c '${tracer[$name]}'" >"$work/$name.log" 2>&1 &
				pid=$!
				sleep "${READY_S:-3}"
				if ! kill -0 "$pid" 2>/dev/null || [ "$(session_progs "$pid")" -eq 0 ]; then
					echo "bench: $name did not run (no BPF program loaded); see $work/$name.log" >&2
					cat "$work/$name.log" >&2
					exit 1
				fi
			fi
			echo "$name getppid $("${cpu_storm[@]}" "$sysstorm" "$n" getppid 2>&1 >/dev/null)" >>"$work/sys"
			echo "$name write1 $("${cpu_storm[@]}" "$sysstorm" "$n" write1 2>&1 >/dev/null)" >>"$work/sys"
			if [ -n "$pid" ]; then
				kill -INT -- -"$pid" 2>/dev/null || true
				wait "$pid" 2>/dev/null || true
			fi
		done
	done
	{
		echo "### Syscall tax: what every syscall on the node pays"
		echo
		echo "bench/syscallstorm.c, $n calls a run, ${SYS_ROUNDS:-9} rounds alternating configurations; median ns per syscall, and the ratio to no tracer. ${cpu_storm[*]:+The storm runs on CPU $last, each tracer on CPU 0. }Each tracer was checked to have loaded its BPF programs before it was measured."
		echo
		echo "| tracer | getppid() ns | vs none | write(1, 1 byte) to /dev/null ns | vs none |"
		echo "|---|---:|---:|---:|---:|"
		local bg bw mg mw
		bg=$(awk '$1 == "none" && $2 == "getppid" { print $3 }' "$work/sys" | median)
		bw=$(awk '$1 == "none" && $2 == "write1" { print $3 }' "$work/sys" | median)
		for name in "${cfgs[@]}"; do
			mg=$(awk -v n="$name" '$1 == n && $2 == "getppid" { print $3 }' "$work/sys" | median)
			mw=$(awk -v n="$name" '$1 == n && $2 == "write1" { print $3 }' "$work/sys" | median)
			awk -v n="$name" -v g="$mg" -v w="$mw" -v bg="$bg" -v bw="$bw" \
				'BEGIN { printf "| %s | %.1f | %.2fx | %.1f | %.2fx |\n", n, g, g / bg, w, w / bw }'
		done
		echo
		# The default configuration attaches no syscall tracepoint: it must stay at the floor.
		mg=$(awk '$1 == "exitwatch" && $2 == "getppid" { print $3 }' "$work/sys" | median)
		mw=$(awk '$1 == "exitwatch" && $2 == "write1" { print $3 }' "$work/sys" | median)
		awk -v g="$mg" -v w="$mw" -v bg="$bg" -v bw="$bw" 'BEGIN {
			ok = g / bg <= 1.02 && w / bw <= 1.02
			printf "Target, default configuration at most 1.02x on both: %s (%.2fx, %.2fx).\n",
				ok ? "met" : "NOT MET", g / bg, w / bw }'
		echo
	} | tee -a "$res"
}

kernel_cost() {
	local old dir=$cgdir/k
	old=$(sysctl -n kernel.bpf_stats_enabled)
	setsid bash -c "exec -a $work/kcost bash -c '(${tracer[exitwatch-stderr-kernel]}) >/dev/null 2>&1 & (${tracer[libbpf-tools]}) >/dev/null 2>&1 & wait'" >/dev/null 2>&1 &
	local pid=$!
	sleep 3
	sysctl -q kernel.bpf_stats_enabled=1
	snap() { bpftool -j prog show | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("name"): print(p["id"], p["name"], p.get("run_cnt", 0), p.get("run_time_ns", 0))'; }
	snap >"$work/k0"
	"$storm" "$spawns" 3 >/dev/null
	snap >"$work/k1"
	mkdir -p "$dir"
	"$storm" "$spawns" 3 "$dir" >/dev/null
	snap >"$work/k2"
	sysctl -q kernel.bpf_stats_enabled="$old"
	kill -INT -- -"$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	{
		echo "### Kernel cost per event (kernel.bpf_stats_enabled)"
		echo
		echo "Mean run time per invocation, exitwatch and libbpf-tools loaded at once, over a storm of plain spawns (every exit is a non-main process: exitwatch's fast path) and over a storm where every spawn is a container main process in a fresh cgroup (exitwatch's full path)."
		echo
		python3 - "$work/k0" "$work/k1" "$work/k2" <<'PY'
import sys
def load(p):
    return {(l.split()[0], l.split()[1]): (int(l.split()[2]), int(l.split()[3])) for l in open(p)}
a, b, c = (load(p) for p in sys.argv[1:])
names = {"ew_exec": "exitwatch exec", "ew_exit_group_dead": "exitwatch exit", "ew_exit_live": "exitwatch exit",
         "ew_signal": "exitwatch signal", "ew_listen": "exitwatch readiness (TCP state)",
         "ew_stderr_enter": "exitwatch stderr, write entry", "ew_stderr_exit": "exitwatch stderr, write exit",
         "sched_process_exit": "exitsnoop exit", "tracepoint__syscalls__sys_enter_execve": "execsnoop enter",
         "tracepoint__syscalls__sys_exit_execve": "execsnoop exit"}
print("| program | plain spawns: runs | ns/run | container mains: runs | ns/run |")
print("|---|---:|---:|---:|---:|")
# The kernel keeps 15 characters of a program's name: the stderr programs match by prefix.
def name_of(n):
    return names.get(n) or next((v for p, v in names.items() if p.startswith("ew_stderr") and n.startswith(p)), None)
for k, v in sorted(b.items(), key=lambda kv: kv[0][1]):
    if not name_of(k[1]): continue
    r1 = v[0] - a.get(k, (0, 0))[0]; t1 = v[1] - a.get(k, (0, 0))[1]
    w = c.get(k, v); r2 = w[0] - v[0]; t2 = w[1] - v[1]
    if r1 <= 0 and r2 <= 0: continue
    f = lambda t, r: str(t // r) if r > 0 else "-"
    print("| %s (`%s`) | %d | %s | %d | %s |" % (name_of(k[1]), k[1], r1, f(t1, r1), r2, f(t2, r2)))
PY
		echo
	} | tee -a "$res"
}

# The CPU time in ns (schedstat: user and kernel) and the voluntary context switches of the process
# $1, over all its threads: a thread's work is the agent's as much as the main loop's. Prints
# "ns switches threads" (its thread count: the caller checks that no thread came or went, whose
# time the sum would miss).
proc_cpu() {
	local t ns=0 sw=0 n=0 a v

	for t in /proc/"$1"/task/*; do
		read -r a _ <"$t/schedstat" || continue
		v=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "$t/status") || continue
		ns=$((ns + a)) sw=$((sw + v)) n=$((n + 1))
	done
	echo "$ns $sw $n"
}

# As in the syscall tax, the agent runs on the first CPU and its workload on the last: the
# storm's processes preempting the agent, and its migrations, made single runs range over 40%.
last_cpu=$(($(nproc) - 1))
pin_agent=() pin_storm=()
if [ "$last_cpu" -gt 0 ]; then
	pin_agent=(taskset -c 0)
	pin_storm=(taskset -c "$last_cpu")
fi

# The agent $1's CPU time in ns (proc_cpu: all its threads) and the turns of its loop (its
# voluntary context switches: each turn sleeps once), its records in $2, over the workload the
# function $3 runs (and the second after it, for the records in its hold); more arguments are
# the agent's. Prints "ns turns faults" (faults: its minor page faults, the heap growing).
agent_cpu_ns() {
	local bin=$1 records=$2 workload=$3 pid t0 t1 c0 c1 f0 f1 n0 n1

	"${pin_agent[@]}" $bin --config /dev/null --agent-interval 1h "${@:4}" >"$records" 2>/dev/null &
	pid=$!
	sleep 2
	read -r t0 c0 n0 < <(proc_cpu $pid)
	f0=$(awk '{ print $10 }' /proc/$pid/stat)
	"$workload"
	sleep 1
	read -r t1 c1 n1 < <(proc_cpu $pid)
	f1=$(awk '{ print $10 }' /proc/$pid/stat)
	[ "$n0" = "$n1" ] || echo "bench: the agent's threads went from $n0 to $n1 during the storm: its CPU misses theirs" >&2
	kill -INT $pid
	wait $pid || true
	echo $((t1 - t0)) $((c1 - c0)) $((f1 - f0))
}

storm_once() {
	"${pin_storm[@]}" "$storm" "$storm_n" 3 "$cgdir/u" >/dev/null
}

# The agent's CPU time over a storm of $2 container mains in fresh cgroups, with $1 as the agent;
# prints "ms-per-1000-records records turns-per-1000-records faults-per-1000-records
# bytes-per-1000-records" (the bytes of its container records).
cpu_per_1000() {
	local bin=$1 t turns faults events bytes

	storm_n=$2
	mkdir -p "$cgdir/u"
	read -r t turns faults < <(agent_cpu_ns "$bin" "$work/u.out" storm_once)
	events=$(grep -c '"event":"container_\(start\|exit\)"' "$work/u.out")
	bytes=$(grep '"event":"container_\(start\|exit\)"' "$work/u.out" | wc -c)
	find "$cgdir/u" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
	awk -v t="$t" -v e="$events" -v n="$turns" -v f="$faults" -v b="$bytes" \
		'BEGIN { printf "%.2f %d %.1f %.1f %d\n", t / e / 1000, e, n * 1000 / e, f * 1000 / e, b * 1000 / e }'
}

loop_storms() {
	local i

	for ((i = 0; i < loop_k; i++)); do
		"${pin_storm[@]}" "$storm" "$storm_n" 3 "$cgdir/loop" >/dev/null
		find "$cgdir/loop" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}

# The agent's CPU time over a crash loop: $2 containers, each started $3 times in the same
# cgroup (spawnstorm's mains exit with code 3 at once), so that the rules fire as a looping
# node's would and findings come with the restarts; prints "ms-per-1000-records records
# findings", all the records counted (container_start, container_exit, finding, resolved).
cpu_loop_per_1000() {
	local bin=$1 t

	storm_n=$2 loop_k=$3
	mkdir -p "$cgdir/loop"
	read -r t _ < <(agent_cpu_ns "$bin" "$work/loop.out" loop_storms)
	awk -v t="$t" '
		/"event":"(container_start|container_exit|finding|resolved)"/ { r++ }
		/"event":"finding"/ { f++ }
		END { printf "%.2f %d %d\n", t / r / 1000, r, f }' "$work/loop.out"
}

# The pipeline's instructions per record over the recording $1, replayed: callgrind counting
# inside ew_pipeline_replay() and ew_pipeline_tick() only (detection, rendering, the outputs;
# not the ring buffer, the decoder or the resolver, which a replay has no use for). A replay
# gives identities their revisions and packed copies as the resolver does (replay/recorder.c),
# so an identity's parts are rendered once, as live. The same count whatever the VM's hour, so
# the figure to compare trees by; prints "per-record records".
pipeline_instructions() {
	local rec=$1 n

	valgrind --tool=callgrind --toggle-collect=ew_pipeline_replay \
		--toggle-collect=ew_pipeline_tick --callgrind-out-file=/dev/null \
		"$ew" replay --config /dev/null "$rec" >"$work/replay.out" 2>"$work/cg.err" || return 1
	n=$(grep -cE '"event":"(container_start|container_exit|finding|resolved)"' "$work/replay.out")
	awk -v n="$n" '/Collected :/ { printf "%d %d\n", $4 / n, n }' "$work/cg.err"
}

# This tree's agent with bench/<name>.patch applied for each name given, in order, built in a
# copy of the tree named after the last; prints the binary's path. floor: each record decoded and
# a fixed line of a storm record's length handed to the same outputs, nothing else (the transport
# floor). norender: everything but the rendering of container_start and container_exit, which
# hand the outputs that same fixed line. nodetect, after norender: no detector either.
patched_build() {
	local src=$work/${*: -1}-src p
	mkdir -p "$src"
	tar -C . --exclude='./build*' --exclude=./.git -cf - . | tar -C "$src" -xf -
	for p in "$@"; do
		if ! (cd "$src" && git apply "bench/$p.patch") >&2; then
			echo "bench: bench/$p.patch does not apply to this tree: update it" >&2
			return 1
		fi
	done
	make -s -C "$src" -j"$(nproc)" build/exitwatch >/dev/null 2>&1 || return 1
	echo "$src/build/exitwatch"
}

# The agent idle for 10 s, after the function $1 (or :) ran beside it for 2 s: sets idle_result
# to "resident-KiB cpu-ns wakeups" (its RSS before $1; its CPU and voluntary switches over the
# 10 s). Not in a subshell: $1 may start what the caller stops.
idle_agent() {
	local pid rss t0 t1 c0 c1

	$ew --config /dev/null --agent-interval 1h >/dev/null 2>&1 &
	pid=$!
	sleep 2
	rss=$(awk '/VmRSS/ { print $2 }' /proc/$pid/status)
	if [ "$1" != : ]; then
		"$1"
		sleep 2
	fi
	read -r t0 c0 _ < <(proc_cpu $pid)
	sleep 10
	read -r t1 c1 _ < <(proc_cpu $pid)
	kill -INT $pid
	wait $pid || true
	idle_result="$rss $((t1 - t0)) $((c1 - c0))"
}

# 100 container mains asleep in their own cgroups under $cgdir/idle, in sleepers (the caller's).
idle_sleepers() {
	local i

	for ((i = 0; i < 100; i++)); do
		mkdir -p "$cgdir/idle/c$i"
		sh -c "echo \$\$ >$cgdir/idle/c$i/cgroup.procs && exec sleep 60" &
		sleepers+=($!)
	done
}

userspace() {
	local n=2000 rss floor="" norender="" nodetect="" r a a2 f g h c0 t0
	local ra=() rf=() aa=() ab=() ar=() rg=() rh=() ri=() rd=() rr=() rl=() rt=() l lr lf ta ta2
	local rpf=() rby=() fa fa2 ba ba2
	local rounds_u=${USERSPACE_ROUNDS:-7}
	floor=$(patched_build floor) || floor=""
	[ -z "$floor" ] || norender=$(patched_build norender) || norender=""
	[ -z "$norender" ] || nodetect=$(patched_build norender nodetect) || nodetect=""
	# The agent, the floor, the record path without detection or rendering, without rendering,
	# the agent again, round by round:
	# the VM's speed drifts by a third within an hour, so only runs side by side compare, and the
	# builds between two runs of the agent have neither's warmed caches nor the next minute's
	# drift to themselves. The two runs of the same binary say what the measurement itself
	# spreads (the A/A row).
	for ((r = 0; r < rounds_u; r++)); do
		read -r a _ ta fa ba < <(cpu_per_1000 "$ew" "$n")
		if [ -n "$floor" ]; then
			read -r f _ < <(cpu_per_1000 "$floor" "$n")
			rf+=("$f")
		fi
		if [ -n "$nodetect" ]; then
			read -r h _ < <(cpu_per_1000 "$nodetect" "$n")
			rh+=("$h")
		fi
		if [ -n "$norender" ]; then
			read -r g _ < <(cpu_per_1000 "$norender" "$n")
			rg+=("$g")
		fi
		read -r a2 _ ta2 fa2 ba2 < <(cpu_per_1000 "$ew" "$n")
		rt+=("$ta" "$ta2")
		rpf+=("$fa" "$fa2")
		rby+=("$ba" "$ba2")
		# Where the record work goes, each build above the one below it: identity (the
		# resolver, the hold, metrics: the build without detection or rendering above the
		# floor), detection (the build without rendering above that), rendering (the agent
		# above the build without rendering).
		if [ -n "$nodetect" ]; then
			ri+=("$(awk -v h="$h" -v f="$f" 'BEGIN { printf "%.2f", h - f }')")
			rd+=("$(awk -v g="$g" -v h="$h" 'BEGIN { printf "%.2f", g - h }')")
		fi
		if [ -n "$norender" ]; then
			rr+=("$(awk -v x="$a" -v y="$a2" -v g="$g" 'BEGIN { printf "%.2f", (x + y) / 2 - g }')")
		fi
		# The record work itself: the VM's phase moves the agent and the floor together, so
		# what the agent pays above the floor of its own round moves less than either.
		if [ -n "$floor" ]; then
			ab+=("$(awk -v x="$a" -v y="$a2" -v f="$f" 'BEGIN { printf "%.2f", (x + y) / 2 - f }')")
			ar+=("$(awk -v x="$a" -v y="$a2" -v f="$f" 'BEGIN { printf "%.2f", (x + y) / 2 / f }')")
		fi
		ra+=("$a" "$a2")
		# A crash loop, the node's bad hour this tool is for: findings come with restarts.
		read -r l lr lf < <(cpu_loop_per_1000 "$ew" 500 6)
		rl+=("$l")
		aa+=("$(awk -v x="$a" -v y="$a2" 'BEGIN { d = x - y; if (d < 0) d = -d; printf "%.1f", 200 * d / (x + y) }')")
	done
	# What this machine charges any process for a sleep and its wake, a page fault and the page
	# cache's copy of 1,000 records' bytes (back to back, and in the agent's turns, each after
	# a sleep: the write path cold), pinned as the agent is: with the agent's turns, faults and
	# bytes, the share of its CPU that is the machine's prices, not its code.
	local machine="| this machine's prices (bench/machine.c) | not built | |" share="" mw mf mo mc
	local turns faults bytes
	turns=$(printf '%s\n' "${rt[@]}" | median)
	faults=$(printf '%s\n' "${rpf[@]}" | median)
	bytes=$(printf '%s\n' "${rby[@]}" | median)
	if gcc -O2 -std=c11 -o "$out/machine" bench/machine.c 2>/dev/null &&
		read -r mw mf mo mc < <("${pin_agent[@]}" "$out/machine" "${bytes%.*}" "$work" "$turns"); then
		machine="| this machine's prices, pinned as the agent (bench/machine.c): the CPU of a sleep and its wake / of a page fault / of writing 1,000 container records' $((${bytes%.*} / 1024)) KiB to a file in 64 KiB batches, back to back / the same in $turns turns, each after a 40 ms sleep, as the agent writes them | $mw us / $mf us / $mo ms / $mc ms | |"
		share=$(awk -v a="$(printf '%s\n' "${ra[@]}" | median)" -v t="$turns" -v f="$faults" \
			-v w="$mw" -v pf="$mf" -v o="$mc" 'BEGIN {
			m = t * w / 1000 + f * pf / 1000 + o
			printf "| of the agent'"'"'s CPU per 1,000 container records, those prices: %.1f turns x %.1f us + %.1f faults x %.2f us + %.3f ms of writing in turns | %.2f ms (%.0f%% of the agent'"'"'s %.2f ms); the rest %.2f ms | |", t, w, f, pf, o, m, 100 * m / a, a, a - m }')
	fi
	# Idle: nothing happening for 10 s; what every node pays between container events.
	local busy_idle ti sleepers=() idle_result
	idle_agent :
	read -r rss t0 c0 <<<"$idle_result"
	# Idle beside 100 running containers (mains asleep in their own cgroups, started after the
	# agent): what a node full of pods pays between their events, containers_tracked included.
	mkdir -p "$cgdir/idle"
	idle_agent idle_sleepers
	read -r _ ti _ <<<"$idle_result"
	kill "${sleepers[@]}" 2>/dev/null || true
	wait "${sleepers[@]}" 2>/dev/null || true
	find "$cgdir/idle" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
	busy_idle=$(awk -v t="$ti" 'BEGIN { printf "%.0f us/s (%.3f%% of a CPU)", t / 10 / 1000, t / 10 / 1e7 }')
	# Rendering alone, against this tree's core library (rebuilt: the library changes with it;
	# a tree from before render/rendered.h has no such figure).
	local render="| rendering one record, JSON (bench/render.c) | not built | |"
	if gcc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Isrc -o "$out/render" bench/render.c \
		"$build/obj/libexitwatch.a" $(pkg-config --libs json-c libmicrohttpd) -lm 2>/dev/null; then
		render=$("$out/render" 200000 | awk '{ printf "| rendering one record, JSON (bench/render.c: a container_start of %d bytes and a container_exit of %d) | %d ns | |", $2, $3, $1 }')
	fi
	# The two workloads recorded (the agent's CPU not measured), for pipeline_instructions().
	local ipr_storm="not measured (valgrind)" ipr_loop="not measured (valgrind)" ipr
	if command -v valgrind >/dev/null; then
		storm_n=$n
		mkdir -p "$cgdir/u"
		agent_cpu_ns "$ew" /dev/null storm_once --record "$work/storm.rec" >/dev/null
		find "$cgdir/u" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
		storm_n=500 loop_k=6
		mkdir -p "$cgdir/loop"
		agent_cpu_ns "$ew" /dev/null loop_storms --record "$work/loop.rec" >/dev/null
		ipr=$(pipeline_instructions "$work/storm.rec") &&
			ipr_storm=$(echo "$ipr" | awk '{ printf "%d (%d records)", $1, $2 }')
		ipr=$(pipeline_instructions "$work/loop.rec") &&
			ipr_loop=$(echo "$ipr" | awk '{ printf "%d (%d records)", $1, $2 }')
	fi
	python3 bench/gen-identities.py 10000 >"$work/ids.ndjson"
	local maxrss
	maxrss=$(python3 -c '
import os, subprocess, sys, resource
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, st, ru = os.wait4(p.pid, 0)
print(ru.ru_maxrss)' $ew replay --config /dev/null "$work/ids.ndjson")
	{
		echo "### Userspace cost"
		echo
		echo "| measure | value | target |"
		echo "|---|---:|---:|"
		echo "| agent CPU per 1,000 container records (storm of $n container mains, schedstat of all its threads, median of $((2 * rounds_u)) runs) | $(printf '%s\n' "${ra[@]}" | median) ms (${ra[*]}) | <= 2 ms |"
		echo "| the turns of the agent's loop per 1,000 container records, the same runs (its voluntary context switches: a turn sleeps once; agent/pace.h turns once per 40 ms while records come at 800 a second or more) | $(printf '%s\n' "${rt[@]}" | median) (${rt[*]}) | |"
		echo "| the agent's minor page faults per 1,000 container records, the same runs (its heap growing by what the storm leaves: 2,000 identities asleep) | $faults (${rpf[*]}) | |"
		echo "$machine"
		[ -z "$share" ] || echo "$share"
		echo "| the same binary against itself (A/A: the two runs of each round, difference in % of their mean) | median $(printf '%s\n' "${aa[@]}" | median)%, largest $(printf '%s\n' "${aa[@]}" | sort -n | tail -1)% (${aa[*]}) | |"
		if [ -n "$floor" ]; then
			echo "| the transport floor alone (bench/floor.patch: decode, a fixed line of the same length, the same outputs; between the two runs of the agent in each round) | $(printf '%s\n' "${rf[@]}" | median) ms (${rf[*]}) | |"
			echo "| the record work above the floor (each round: the mean of the agent's two runs minus the floor between them) | $(printf '%s\n' "${ab[@]}" | median) ms (${ab[*]}) | |"
			echo "| the agent over the floor (each round's ratio) | $(printf '%s\n' "${ar[@]}" | median) (${ar[*]}) | |"
			if [ -n "$norender" ]; then
				echo "| the record path without rendering (bench/norender.patch: resolver, detector, metrics, the same outputs; container records a fixed line of the same length) | $(printf '%s\n' "${rg[@]}" | median) ms (${rg[*]}) | |"
				if [ -n "$nodetect" ]; then
					echo "| the record path without detection or rendering (bench/nodetect.patch after bench/norender.patch: the same, and no detector) | $(printf '%s\n' "${rh[@]}" | median) ms (${rh[*]}) | |"
					echo "| of the record work: identity, the hold and metrics (each round: the build without detection or rendering minus the floor) | $(printf '%s\n' "${ri[@]}" | median) ms (${ri[*]}) | |"
					echo "| of the record work: detection (each round: the build without rendering minus the build without detection or rendering) | $(printf '%s\n' "${rd[@]}" | median) ms (${rd[*]}) | |"
				else
					echo "| the record path without detection or rendering (bench/nodetect.patch) | not built | |"
				fi
				echo "| of the record work: rendering (each round: the mean of the agent's two runs minus the build without rendering) | $(printf '%s\n' "${rr[@]}" | median) ms (${rr[*]}) | |"
			else
				echo "| the record path without rendering (bench/norender.patch) | not built | |"
			fi
		else
			echo "| the transport floor alone (bench/floor.patch) | not built | |"
		fi
		echo "| agent CPU per 1,000 records in a crash loop (500 containers each started 6 times in its cgroup, exit code 3: $lr records, $lf of them findings; median of $rounds_u runs, one a round) | $(printf '%s\n' "${rl[@]}" | median) ms (${rl[*]}) | |"
		echo "| the pipeline's instructions per record, the storm recorded and replayed (callgrind inside ew_pipeline_replay() and ew_pipeline_tick(): detection, rendering, the outputs; the same whatever the hour) | $ipr_storm | |"
		echo "| the same, the crash loop recorded and replayed | $ipr_loop | |"
		echo "$render"
		awk -v t="$t0" -v c="$c0" 'BEGIN { printf "| agent CPU idle (10 s, nothing happening) | %.0f us/s (%.3f%% of a CPU), %.1f wakeups/s | |\n", t / 10 / 1000, t / 10 / 1e7, c / 10 }'
		echo "| agent CPU idle beside 100 running containers (10 s) | $busy_idle | |"
		echo "| agent resident memory, idle, 4 MiB ring buffer | $((rss / 1024)) MiB | |"
		echo "| resident memory with 10,000 identities tracked (replay, peak RSS) | $((maxrss / 1024)) MiB | <= 20 MiB |"
		echo
	} | tee -a "$res"
}

# Generated minus reported equals what the kernel says it dropped, exactly. The smallest ring
# (8 KiB: seven exec records) is overrun by eight storms at once; the default one is not.
loss() {
	local dir=$cgdir/l n=2000 pid ring par
	mkdir -p "$dir"
	: >"$work/loss"
	for ring in 8192 4194304; do
		for par in 2 8; do
			$ew --config /dev/null --agent-interval 1h --ringbuf-size $ring --no-stderr \
				>"$work/l.out" 2>/dev/null &
			pid=$!
			sleep 2
			local t0 t1 pids=() i
			t0=$(date +%s%N)
			for ((i = 0; i < par; i++)); do
				mkdir -p "$dir/s$i"
				"$storm" $((n / par)) 3 "$dir/s$i" >/dev/null &
				pids+=($!)
			done
			wait "${pids[@]}"
			t1=$(date +%s%N)
			sleep 1
			kill -INT $pid
			wait $pid || true
			python3 - "$work/l.out" "$n" "$ring" "$t0" "$t1" "$par" >>"$work/loss" <<'PY'
import json, sys
path, n, ring, t0, t1, par = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
starts = exits = 0; stop = None
for line in open(path):
    r = json.loads(line)
    comm = r.get("process", {}).get("comm")
    if r["event"] == "container_start" and comm == "exe" and not r["already_running"]: starts += 1
    # An exit whose start was lost is named by its cgroup id; its comm is still the task's.
    elif r["event"] == "container_exit" and comm == "exe": exits += 1
    elif r["event"] == "agent" and r["agent"]["phase"] == "stop": stop = r["agent"]
k = stop["kernel_events"]
dropped = k["dropped_execs"] + k["dropped_exits"]
gen = 2 * n
rate = gen / ((t1 - t0) / 1e9)
print("| %s | %s | %d | %d | %d | %d | %s | %.0f/s |" % (
    "%d KiB" % (ring >> 10) if ring < 1 << 20 else "%d MiB" % (ring >> 20), par, gen, starts + exits,
    dropped, gen - (starts + exits), "exact" if gen - (starts + exits) == dropped else "MISMATCH", rate))
PY
		done
	done
	{
		echo "### Zero loss, and exact accounting above it"
		echo
		echo "$n container main processes (fresh cgroups; 2 or 8 storms in parallel) each give a start and an exit record. Where the ring buffer is overrun, generated minus printed must equal the drops the agent reports, exactly."
		echo
		echo "| ring buffer | storms | records generated | printed | kernel drops | missing | accounting | container records/s |"
		echo "|---|---:|---:|---:|---:|---:|---|---:|"
		cat "$work/loss"
		echo
	} | tee -a "$res"
}

latency() {
	{
		echo "### Detection latency"
		echo
		python3 bench/latency.py "$ew" "$storm" "$cgdir/lat" 300
		echo
		# Docker containers: each exit waits for Docker's log file (README, "The stderr tail").
		tests/docker/build-image.sh >/dev/null
		python3 bench/latency.py "$ew" docker - "${DOCKER_EPISODES:-100}"
		echo
	} | tee -a "$res"
}

startup() {
	{
		echo "### Start-up scan"
		echo
		bash bench/startup.sh "$ew" "$cgdir/s" 1000 10
		echo
	} | tee -a "$res"
}

# Memory at container churn: unique container mains, clean and failing (bench/churn-soak.sh).
churn() {
	{
		echo "### Churn soak: ${CHURN_TOTAL:-200000} unique container mains, half exiting 0, half 3"
		echo
		EXITWATCH=$ew BUILD=$build bash bench/churn-soak.sh "${CHURN_TOTAL:-200000}" \
			"${CHURN_STEP:-20000}"
		echo
	} | tee -a "$res"
}

want overhead && overhead "plain spawns (host processes)"
want overhead && { mkdir -p "$cgdir/o"; overhead "every spawn a container main process in a fresh cgroup" "$cgdir/o"; }
want syscalls && syscall_tax
want kernel && kernel_cost
want userspace && userspace
want loss && loss
want latency && latency
want startup && startup
want churn && churn
echo "written to $res"
