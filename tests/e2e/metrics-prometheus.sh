#!/usr/bin/env bash
# End to end: the live agent's /metrics, checked by Prometheus's own tools. Starts
# exitwatch --metrics-addr 127.0.0.1:PORT (BPF programs loaded for real), waits for /healthz,
# runs a container main process the way runc does (a shell outside the cgroup moves itself into
# a fresh cgroup v2 directory and execs the workload, which exits 3), then:
#   - the agent's stdout has the container_exit record of that cgroup, class config_error;
#   - /metrics passes `promtool check metrics` and has
#     exitwatch_container_exits_total{runtime="cgroup",namespace="",workload="cgroup:/<cgroup>",
#     exit_class="config_error",code="3"} >= 1;
#   - a real Prometheus server scraping the agent every second answers the queries
#     exitwatch_container_exits_total{exit_class="config_error"} (the cgroup's series >= 1),
#     exitwatch_build_info and up{job="exitwatch"} == 1 within 30 s;
#   - exitwatch exits 0 on SIGTERM.
# Needs root, BTF (/sys/kernel/btf/vmlinux), a cgroup v2 mount, python3, prometheus and promtool
# (Debian: prometheus). A missing one skips the test, except under CI=true, where it
# fails it. EXITWATCH=PATH and EW_WORKLOAD=PATH test other binaries.
set -euo pipefail
cd "$(dirname "$0")/../.."

EW=${EXITWATCH:-build/exitwatch}
WORKLOAD=${EW_WORKLOAD:-build/tests/helpers/workload}
QUERY_TIMEOUT_S=30

. tests/e2e/lib.sh

[ "$(id -u)" = 0 ] || skip "needs root (the BPF programs are loaded for real)"
[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
for tool in python3 prometheus promtool; do
	command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install prometheus python3)"
done
need_live_agent

tmp=$(mktemp -d /tmp/ew-e2e-metrics.XXXXXX)
EW_ERR_LOG=$tmp/ew.err
cgname=ew-e2e-metrics-$$
cg=$cgroot/$cgname
ew_pid=
prom_pid=
cleanup() {
	[ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null
	[ -n "$ew_pid" ] && kill "$ew_pid" 2>/dev/null && wait "$ew_pid" 2>/dev/null
	[ -d "$cg" ] && rmdir "$cg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# 1: the agent.
mport=$(free_port)
"$EW" --config /dev/null --metrics-addr "127.0.0.1:$mport" --set "agent.spool_dir=$tmp/spool" \
	>"$tmp/ew.out" 2>"$tmp/ew.err" &
ew_pid=$!
wait_http_200 "http://127.0.0.1:$mport/healthz" 30 "exitwatch"
echo "exitwatch: /healthz 200 on 127.0.0.1:$mport"

# 2: a container main process that exits 3; its parent (this shell) stays outside the cgroup.
mkdir "$cg"
rc=0
run_in_cgroup "$cg" "$WORKLOAD" exit 3 || rc=$?
[ "$rc" = 3 ] || fail "the workload exited $rc, not 3"
sample="exitwatch_container_exits_total{runtime=\"cgroup\",namespace=\"\",workload=\"cgroup:/$cgname\",exit_class=\"config_error\",code=\"3\"}"
value=
for _ in $(seq 1 100); do
	http_get "http://127.0.0.1:$mport/metrics" >"$tmp/metrics.txt" || true
	value=$(awk -v s="$sample" '$1 == s { print $2 }' "$tmp/metrics.txt")
	[ -n "$value" ] && python3 -c "import sys; sys.exit(float('$value') < 1)" && break
	value=
	sleep 0.1
done
[ -n "$value" ] || fail "/metrics never showed $sample >= 1"
echo "/metrics: $sample $value"
# Between agent records too, /metrics carries the pipeline's state: the identity just seen
# and the stdout sink's series.
identities=$(awk '$1 == "exitwatch_identities" { print $2 }' "$tmp/metrics.txt")
[ -n "$identities" ] && [ "$identities" -ge 1 ] ||
	fail "/metrics: exitwatch_identities is '$identities', not >= 1 after a container exited"
grep -q '^exitwatch_sink_connected{sink="stdout"} 1$' "$tmp/metrics.txt" ||
	fail "/metrics: no exitwatch_sink_connected{sink=\"stdout\"} 1"
echo "/metrics: exitwatch_identities $identities; the stdout sink's series are there"
grep -q "\"event\":\"container_exit\".*\"cgroup\":\"/$cgname\".*\"class\":\"config_error\"" \
	"$tmp/ew.out" || fail "no container_exit record, class config_error, for /$cgname on stdout"
echo "stdout: the container_exit record of /$cgname, class config_error"
promtool check metrics <"$tmp/metrics.txt" || fail "promtool check metrics rejects /metrics"
echo "promtool check metrics: ok ($(grep -c '^# TYPE' "$tmp/metrics.txt") metric families)"

# 3: Prometheus scraping the agent every second.
pport=$(free_port)
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: exitwatch
    static_configs:
      - targets: ['127.0.0.1:$mport']
EOF
promtool check config "$tmp/prometheus.yml" >/dev/null || fail "promtool rejects the config"
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
	--web.listen-address="127.0.0.1:$pport" --log.level=warn >"$tmp/prom.log" 2>&1 &
prom_pid=$!
wait_http_200 "http://127.0.0.1:$pport/-/ready" 30 "prometheus"
echo "prometheus: ready on 127.0.0.1:$pport, scraping every 1s"

query() { # PROMQL: prints the result vector as "labels value" lines
	http_get "http://127.0.0.1:$pport/api/v1/query" "$1" |
		python3 -c '
import json, sys
r = json.load(sys.stdin)
if r.get("status") != "success":
    sys.exit(1)
for s in r["data"]["result"]:
    print(json.dumps(s["metric"], sort_keys=True), s["value"][1])
'
}
check_query() { # PROMQL PYTHON-CONDITION-ON-(metric, value) WHAT
	local end=$((SECONDS + QUERY_TIMEOUT_S)) out
	while :; do
		out=$(query "$1" || true)
		if [ -n "$out" ] && python3 -c "
import json, sys
ok = False
for line in sys.argv[1].splitlines():
    labels, value = line.rsplit(' ', 1)
    metric, value = json.loads(labels), float(value)
    ok = ok or ($2)
sys.exit(not ok)" "$out"; then
			echo "prometheus: $1 -> $(echo "$out" | tr '\n' ' ' | cut -c1-400)"
			return 0
		fi
		[ "$SECONDS" -lt "$end" ] || fail "prometheus: $1 -> '$out': not $3 within ${QUERY_TIMEOUT_S}s"
		sleep 0.5
	done
}
check_query 'exitwatch_container_exits_total{exit_class="config_error"}' \
	"metric.get('workload') == 'cgroup:/$cgname' and metric.get('code') == '3' and value >= 1" \
	"the cgroup's series >= 1"
check_query 'exitwatch_build_info' 'value == 1 and metric.get("version")' "a series with a version"
check_query 'up{job="exitwatch"}' 'value == 1' "1"

# 4: stop everything; exitwatch exits 0 on SIGTERM.
kill -TERM "$prom_pid"
wait "$prom_pid" || true
prom_pid=
kill -TERM "$ew_pid"
rc=0
wait "$ew_pid" || rc=$?
ew_pid=
[ "$rc" = 0 ] || fail "exitwatch exited $rc on SIGTERM"
# Kept for tests/e2e/validate-schema.sh, which run-integration.sh runs last.
if [ -n "${EW_RECORD_LOG:-}" ]; then
	cat "$tmp/ew.out" >>"$EW_RECORD_LOG"
fi
echo "PASS: /metrics is valid for promtool and Prometheus; exitwatch exited 0 on SIGTERM"
