#!/usr/bin/env bash
# Churn soak: unique container mains, each in a fresh, uniquely named cgroup (a CronJob's, a CI
# runner's), through the live agent with its default configuration. In steps of STEP, half exit
# 0 and half exit 3; after each half: the agent's RSS, what is charged to its memory cgroup
# (what a DaemonSet's memory limit bounds: anonymous memory, the BPF maps, kernel memory; the
# agent runs in a memory cgroup of its own where the host has the controller), its CPU per
# 1,000 records, and the occupancy of its kernel maps (cgroups, mains, stderr_tails). Prints a
# markdown table.
#
#   bench/churn-soak.sh [TOTAL [STEP]]        (200000 20000; make bench runs it)
#   RESULTS=FILE  also write the table there
#   CHECK=1       the CI test's mode (tests/e2e/churn-soak.sh): the agent's records go to a file
#                 (and it runs in no memory cgroup of its own: that file's page cache would be
#                 charged to it),
#                 and the script fails unless every start and exit of the soak was reported,
#                 with its exit code, no record was lost, the RSS stayed within MAX_RSS_KIB and
#                 the growth per identity within CLEAN_MAX_B and FAIL_MAX_B (measured over the
#                 steps after the first, whose growth the heap freed at start-up absorbs).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "churn-soak: needs root" >&2; exit 1; }

total=${1:-200000}
step=${2:-20000}
half=$((step / 2))
build=${BUILD:-build}
ew=${EXITWATCH:-$build/exitwatch}
check=${CHECK:-0}
max_rss_kib=${MAX_RSS_KIB:-65536}
clean_max=${CLEAN_MAX_B:-300}
fail_max=${FAIL_MAX_B:-1024}
[ -x "$ew" ] || { echo "churn-soak: $ew is not built (make)" >&2; exit 1; }
command -v bpftool >/dev/null || { echo "churn-soak: bpftool is missing" >&2; exit 1; }
work=$(mktemp -d /tmp/ew-churn.XXXXXX)
storm=$work/spawnstorm
gcc -O2 -static -o "$storm" bench/spawnstorm.c
cgroot=$(awk '{ for (i = 1; i < NF; i++) if ($i == "-") {
		if ($(i + 1) == "cgroup2") { print $5; exit } break } }' /proc/self/mountinfo)
[ -n "$cgroot" ] || { echo "churn-soak: no cgroup v2 hierarchy" >&2; exit 1; }
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
tag=ew-churn-$$
cgdir=$cgroot/$tag
mkdir "$cgdir"
ew_pid=
# A memory cgroup for the agent: cgroup v2 where the root delegates the controller (a GKE
# node), else v1's (a hybrid host); none: the column stays empty.
memcg= memcur= mempeak=
if [ "$check" = 1 ]; then
	: # see CHECK above
elif grep -qw memory "$cgroot/cgroup.subtree_control" 2>/dev/null; then
	memcg=$cgroot/$tag-agent memcur=memory.current mempeak=memory.peak
elif [ -d /sys/fs/cgroup/memory ] && [ ! -e /sys/fs/cgroup/memory/cgroup.controllers ]; then
	memcg=/sys/fs/cgroup/memory/$tag-agent memcur=memory.usage_in_bytes
	mempeak=memory.max_usage_in_bytes
fi
cleanup() {
	[ -z "$ew_pid" ] || kill -INT "$ew_pid" 2>/dev/null || true
	[ -z "$ew_pid" ] || wait "$ew_pid" 2>/dev/null || true
	find "$cgdir" -depth -type d -exec rmdir {} + 2>/dev/null || true
	[ -z "$memcg" ] || rmdir "$memcg" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

out=/dev/null
[ "$check" = 1 ] && out=$work/records.ndjson
if [ -n "$memcg" ]; then
	mkdir "$memcg"
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$memcg" \
		"$ew" --config /dev/null --agent-interval 1h >"$out" 2>"$work/ew.err" &
else
	"$ew" --config /dev/null --agent-interval 1h >"$out" 2>"$work/ew.err" &
fi
ew_pid=$!
# Up when its maps are there (the start record goes to $out, which may be /dev/null).
map_ids=
for _ in $(seq 1 100); do
	map_ids=$(for fd in /proc/$ew_pid/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = anon_inode:bpf-map ] || continue
		awk '/^map_id:/ { print $2 }' "/proc/$ew_pid/fdinfo/${fd##*/}"
	done | sort -un | tr '\n' ' ')
	[ -n "$map_ids" ] && grep -q cgroups <(bpftool map show 2>/dev/null) && break
	kill -0 "$ew_pid" 2>/dev/null || { cat "$work/ew.err" >&2; exit 1; }
	sleep 0.1
done
sleep 2 # the start-up scan
declare -A map_of
for id in $map_ids; do
	name=$(bpftool -j map show id "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("name",""))')
	case $name in cgroups | mains | stderr_tails) map_of[$name]=$id ;; esac
done
[ -n "${map_of[cgroups]:-}" ] || { echo "churn-soak: the agent's cgroups map not found" >&2; exit 1; }
entries() { bpftool -j map dump id "$1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$ew_pid/status"; }
charged() { # MiB charged to the agent's memory cgroup, or nothing
	[ -n "$memcg" ] && awk '{ printf "%.1f MiB", $1 / 1048576 }' "$memcg/${1:-$memcur}"
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$ew_pid/stat"; }
hz=$(getconf CLK_TCK)
calc() { awk "BEGIN { print $1 }"; }
# The agent has taken every event up to now: its loop turns at least every 10 ms when busy.
settle() { sleep 1; }

rss0=$(rss)
cg0=$(entries "${map_of[cgroups]}")
{
	echo "| unique containers | RSS | memory cgroup | agent CPU per 1,000 records | cgroups | mains | stderr_tails |"
	echo "|---:|---:|---:|---:|---:|---:|---:|"
	printf '| 0 (idle) | %.1f MiB | %s | | %d | %d | %d |\n' "$(calc "$rss0 / 1024")" "$(charged)" "$cg0" \
		"$(entries "${map_of[mains]}")" "$(entries "${map_of[stderr_tails]}")"
} | tee "$work/table"

done_n=0 round=0 clean_b=0 clean_n=0 fail_b=0 fail_n=0 max_rss=$rss0
while [ "$done_n" -lt "$total" ]; do
	round=$((round + 1))
	t0=$(cpu_ticks)
	for code in 0 3; do
		r0=$(rss)
		mkdir "$cgdir/r$round-$code"
		"$storm" "$half" "$code" "$cgdir/r$round-$code" >/dev/null
		rmdir "$cgdir/r$round-$code"
		settle
		r1=$(rss)
		[ "$r1" -gt "$max_rss" ] && max_rss=$r1
		# Growth while remembered: after the first step, and while the count is below
		# max_identities (100,000 by default: past it, the oldest are forgotten).
		if [ "$round" -gt 1 ] && [ $((done_n + step)) -le 100000 ]; then
			if [ "$code" = 0 ]; then
				clean_b=$((clean_b + (r1 - r0) * 1024)) clean_n=$((clean_n + half))
			else
				fail_b=$((fail_b + (r1 - r0) * 1024)) fail_n=$((fail_n + half))
			fi
		fi
	done
	t1=$(cpu_ticks)
	done_n=$((done_n + step))
	printf '| %d | %.1f MiB | %s | %.2f ms | %d | %d | %d |\n' "$done_n" "$(calc "$(rss) / 1024")" "$(charged)" \
		"$(calc "($t1 - $t0) * 1000 / $hz / ($step * 2 / 1000)")" \
		"$(entries "${map_of[cgroups]}")" "$(entries "${map_of[mains]}")" \
		"$(entries "${map_of[stderr_tails]}")" | tee -a "$work/table"
done
clean_per=$([ "$clean_n" -gt 0 ] && echo $((clean_b / clean_n)) || echo -)
fail_per=$([ "$fail_n" -gt 0 ] && echo $((fail_b / fail_n)) || echo -)
{
	echo
	echo "RSS growth per identity while remembered (steps 2 on, up to 100,000): clean $clean_per B, failing $fail_per B; peak RSS $((max_rss / 1024)) MiB${memcg:+, peak memory cgroup charge $(charged "$mempeak")}."
} | tee -a "$work/table"

kill -INT "$ew_pid"
wait "$ew_pid" || { echo "churn-soak: exitwatch exited $? on SIGINT" >&2; cat "$work/ew.err" >&2; exit 1; }
ew_pid=
[ -n "${RESULTS:-}" ] && cp "$work/table" "$RESULTS"

[ "$check" = 1 ] || exit 0
# Every start and exit of the soak reported, with its code; no record lost.
python3 - "$out" "/$tag/" "$total" <<'EOF' || exit 1
import json, sys
path, prefix, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
starts, exits, bad, stop = set(), {}, 0, None
for line in open(path):
    r = json.loads(line)
    if r["event"] == "agent" and r["agent"]["phase"] == "stop":
        stop = r["agent"]
    cg = r.get("container", {}).get("cgroup", "")
    if prefix not in cg:
        continue
    if r["event"] == "container_start":
        starts.add(cg)
    elif r["event"] == "container_exit":
        want = 0 if "-0/" in cg else 3
        exits[cg] = r["exit"]["code"]
        bad += r["exit"]["code"] != want
problems = []
if len(starts) != total:
    problems.append(f"{len(starts)} starts of {total}")
if len(exits) != total:
    problems.append(f"{len(exits)} exits of {total}")
if bad:
    problems.append(f"{bad} exits with the wrong code")
if stop is None:
    problems.append("no agent stop record")
elif stop["drops"] or stop["decode_errors"]:
    problems.append(f"drops {stop['drops']}, decode errors {stop['decode_errors']}")
if problems:
    print("churn-soak: " + "; ".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"churn-soak: {total} starts and exits reported, codes right, nothing dropped")
EOF
ok=1
[ "$max_rss" -le "$max_rss_kib" ] || { echo "churn-soak: peak RSS $max_rss KiB > $max_rss_kib KiB" >&2; ok=0; }
[ "$clean_per" != - ] && [ "$clean_per" -le "$clean_max" ] ||
	{ echo "churn-soak: $clean_per B per clean identity > $clean_max B" >&2; ok=0; }
[ "$fail_per" != - ] && [ "$fail_per" -le "$fail_max" ] ||
	{ echo "churn-soak: $fail_per B per failing identity > $fail_max B" >&2; ok=0; }
cg1=$(tail -n 3 "$work/table" | head -n 1 | awk -F'|' '{ print $6 + 0 }')
[ "$cg1" -le $((cg0 + 64)) ] ||
	{ echo "churn-soak: the cgroups map holds $cg1 entries after the soak, $cg0 before" >&2; ok=0; }
[ "$ok" = 1 ]
