#!/usr/bin/env bash
# Start-up scan: how long exitwatch takes to find C containers of P processes each that were
# running before it started. Usage: startup.sh EXITWATCH CGDIR C P
set -euo pipefail
ew=$1 dir=$2 c=$3 p=$4
mkdir -p "$dir"
for ((i = 0; i < c; i++)); do
	mkdir -p "$dir/c$i"
	# A main (its parent, this shell, stays outside) with P-1 children.
	sh -c "echo \$\$ > $dir/c$i/cgroup.procs; for j in \$(seq 2 $p); do sleep 600 & done; exec sleep 600" &
done
sleep 2
procs=$(cat "$dir"/c*/cgroup.procs | wc -l)
t0=$(date +%s%N)
log=$(mktemp)
$ew --config /dev/null -v --agent-interval 1h >"$log.out" 2>"$log" &
pid=$!
while ! grep -q '"phase":"start"' "$log.out" 2>/dev/null; do sleep 0.01; done
t1=$(date +%s%N)
kill -INT $pid
wait $pid || true
scan=$(grep -o 'start-up scan: .*' "$log" | head -1)
found=$(grep -c '"already_running":true' "$log.out" || true)
for ((i = 0; i < c; i++)); do
	for q in $(cat "$dir/c$i/cgroup.procs"); do kill "$q" 2>/dev/null || true; done
done
wait 2>/dev/null || true
for ((i = 0; i < c; i++)); do rmdir "$dir/c$i" 2>/dev/null || true; done
rm -f "$log" "$log.out"
echo "$procs processes in $c cgroups were running; exitwatch found $found containers."
echo
echo "| measure | value | target |"
echo "|---|---:|---:|"
echo "| the scan itself ($scan) | $(echo "$scan" | grep -o '[0-9.]* ms$') | <= 1 s |"
awk -v d=$((t1 - t0)) 'BEGIN { printf "| exitwatch start to its agent record (load, attach, scan, seed) | %.0f ms | |\n", d / 1e6 }'
