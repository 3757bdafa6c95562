#!/usr/bin/env bash
# The cluster-wide CRITICAL alert in a real Prometheus, for a crash loop no single node sees.
# Two exitwatch agents stand for two nodes: each watches its own cgroup subtree
# (--cgroup-subtree), where one replica of a Compose workload (Docker-style cgroups and
# config.v2.json files in a scratch Docker root) crash-loops: a main process that exits 3 three
# seconds after its start, twice per replica. Each agent sees 2 exits, below exit_code_burst's
# "more than 3": neither has a finding of it. Debian's Prometheus scrapes both every second
# with the shipped rules loaded, scaled by 0.05 (deploy/alerts/gen-alerts.py --scale 0.05: a
# 15 s burst window, a 30 s quiet period, rules evaluated every 1.5 s), and
#   - /api/v1/alerts shows ExitwatchExitCodeBurst firing for the workload, severity critical;
#   - it is still firing 20 s after the last exit (the quiet period is 30 s);
#   - it is gone once the quiet period has passed (within 15 s after it), and the minutes are
#     printed.
# Needs root, BTF, a cgroup v2 mount, python3 with yaml, prometheus and promtool. A missing one
# skips the test, except under CI=true, where it fails it.
set -euo pipefail
cd "$(dirname "$0")/../.."

EW=${EXITWATCH:-build/exitwatch}
WORKLOAD=${EW_WORKLOAD:-build/tests/helpers/workload}
SCALE=0.05
QUIET_S=30 # deploy/alerts' 10 minutes, scaled

. tests/e2e/lib.sh

[ "$(id -u)" = 0 ] || skip "needs root (the BPF programs are loaded for real)"
[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
for tool in python3 prometheus promtool; do
	command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install prometheus python3)"
done
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed"
need_live_agent

tmp=$(mktemp -d /tmp/ew-e2e-alerts.XXXXXX)
project=ewalerts$$
pids=()
cgs=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	for c in "${cgs[@]}"; do
		rmdir "$c" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# 1: two "nodes": a cgroup subtree each, one replica of the workload in each, named by a
# config.v2.json as Docker would (Compose project and service).
for n in a b; do
	id=$(printf '%s' "$project-$n" | sha256sum | cut -c1-64)
	mkdir -p "$tmp/docker/containers/$id"
	cat >"$tmp/docker/containers/$id/config.v2.json" <<EOJ
{"ID":"$id","Name":"/$project-backend-$n","RestartCount":0,
 "Config":{"Image":"registry.example/backend:1.4.2",
  "Labels":{"com.docker.compose.project":"$project","com.docker.compose.service":"backend"}}}
EOJ
	mkdir "$cgroot/$project-$n"
	cgs+=("$cgroot/$project-$n")
	mkdir "$cgroot/$project-$n/docker-$id.scope"
	cgs=("$cgroot/$project-$n/docker-$id.scope" "${cgs[@]}")
	eval "cg_$n=\$cgroot/\$project-\$n/docker-\$id.scope"
	port=$(free_port)
	eval "port_$n=$port"
	EW_ERR_LOG=$tmp/ew-$n.err
	"$EW" --config /dev/null --node "ew-node-$n" --cgroup-subtree "/$project-$n" \
		--metrics-addr "127.0.0.1:$port" --set "agent.docker_root=$tmp/docker" \
		--set "agent.spool_dir=$tmp/spool-$n" >"$tmp/ew-$n.out" 2>"$tmp/ew-$n.err" &
	pids+=($!)
done
EW_ERR_LOG=
for n in a b; do
	eval "port=\$port_$n"
	wait_http_200 "http://127.0.0.1:$port/healthz" 60 "exitwatch $n"
done
echo "agents: ew-node-a on :$port_a (/$project-a), ew-node-b on :$port_b (/$project-b)"

# 2: Prometheus, the shipped rules scaled.
python3 deploy/alerts/gen-alerts.py --scale "$SCALE" --out "$tmp/alerts"
pport=$(free_port)
cat >"$tmp/prometheus.yml" <<EOY
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ['$tmp/alerts/prometheus/rules.yaml']
scrape_configs:
  - job_name: exitwatch
    static_configs:
      - targets: ['127.0.0.1:$port_a', '127.0.0.1:$port_b']
EOY
promtool check config "$tmp/prometheus.yml" >/dev/null || fail "promtool rejects the config"
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
	--web.listen-address="127.0.0.1:$pport" --log.level=warn >"$tmp/prom.log" 2>&1 &
pids+=($!)
wait_http_200 "http://127.0.0.1:$pport/-/ready" 30 "prometheus"
up=0
for _ in $(seq 1 100); do
	up=$(http_get "http://127.0.0.1:$pport/api/v1/query" 'sum(up{job="exitwatch"})' |
		python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)') || up=0
	[ "$up" = 2 ] && break
	sleep 0.2
done
[ "$up" = 2 ] || fail "prometheus: both agents not up (sum(up) = $up)"
echo "prometheus: 127.0.0.1:$pport scrapes both agents every second; rules scaled by $SCALE"

# alerts: "STATE SEVERITY" of ExitwatchExitCodeBurst for the workload, or nothing.
alert_state() {
	http_get "http://127.0.0.1:$pport/api/v1/alerts" | python3 -c '
import json, sys
for a in json.load(sys.stdin)["data"]["alerts"]:
    l = a["labels"]
    if l.get("alertname") == "ExitwatchExitCodeBurst" and l.get("workload") == sys.argv[1]:
        print(a["state"], l.get("severity"))' "compose:$project/backend"
}

# 3: the loop: each replica starts, exits 3 three seconds later, twice; b a second behind a.
loop_start=$(date +%s.%N)
for round in 1 2; do
	run_in_cgroup "$cg_a" "$WORKLOAD" sleep 3000 3 &
	ra=$!
	sleep 1
	run_in_cgroup "$cg_b" "$WORKLOAD" sleep 3000 3 &
	rb=$!
	wait "$ra" || [ $? = 3 ] || fail "replica a exited $?, not 3"
	wait "$rb" || [ $? = 3 ] || fail "replica b exited $?, not 3"
done
last_exit=$(date +%s.%N)
echo "loop: 2 exits 3 on each node between +0 and +$(python3 -c "print('%.1f' % ($last_exit - $loop_start))")s"

state=
end=$((SECONDS + 20))
until [ "$state" = "firing critical" ]; do
	[ "$SECONDS" -lt "$end" ] || fail "no firing ExitwatchExitCodeBurst within 20 s of the last exit (got '$state')"
	sleep 0.5
	state=$(alert_state)
done
fired=$(date +%s.%N)
echo "prometheus: ExitwatchExitCodeBurst firing, critical, for compose:$project/backend, $(python3 -c "print('%.1f' % ($fired - $last_exit))") s after the last exit"

# Neither node saw a burst of its own: 2 exits each, and no exit_code_burst finding.
for n in a b; do
	exits=$(grep -c '"event":"container_exit".*"workload":{"key":"compose:'"$project"'/backend"}' "$tmp/ew-$n.out" || true)
	[ "$exits" = 2 ] || fail "agent $n reported $exits exits of the workload, not 2"
	! grep -q '"rule":"exit_code_burst"' "$tmp/ew-$n.out" || fail "agent $n had an exit_code_burst of its own"
done
echo "agents: 2 exits each, no exit_code_burst on either node"

# 4: quiet. Still firing 20 s after the last exit; gone after the 30 s quiet period.
sleep "$(python3 -c "import time; print(max(0, $last_exit + 20 - time.time()))")"
state=$(alert_state)
[ "$state" = "firing critical" ] || fail "the alert did not stay firing 20 s after the last exit (got '$state')"
echo "prometheus: still firing 20 s after the last exit"
end=$((SECONDS + QUIET_S))
while [ -n "$(alert_state)" ]; do
	[ "$SECONDS" -lt "$end" ] || fail "ExitwatchExitCodeBurst still there 45 s after the last exit"
	sleep 0.5
done
gone=$(date +%s.%N)
after=$(python3 -c "print('%.1f' % ($gone - $last_exit))")
python3 -c "import sys; sys.exit(not ($gone - $last_exit >= $QUIET_S))" ||
	fail "the alert resolved $after s after the last exit, before the $QUIET_S s quiet period"
echo "prometheus: resolved $after s after the last exit (quiet period $QUIET_S s)"
if [ -n "${EW_RECORD_LOG:-}" ]; then
	cat "$tmp/ew-a.out" "$tmp/ew-b.out" >>"$EW_RECORD_LOG"
fi
echo "PASS: the cluster-wide CRITICAL fires for a loop split over two agents and resolves after the quiet period"
