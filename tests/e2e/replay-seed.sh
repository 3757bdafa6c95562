#!/usr/bin/env bash
# The incident's own timeline through `exitwatch replay` (the recordings are in
# tests/fixtures/replay/, written by tests/e2e/gen-seed-timeline.py, which this test runs again
# to show they are what it writes). With the default rules:
#   - one replica (seed-1): crash_loop ERROR at minute 7.67, 7 minutes after the first exit (the
#     issue asks for at most 8), then the seed rules at the minutes the issue documents: 28.0
#     WARNING restart_rate, 28.7 INFO startup_failure_rate, resolutions at 116.7 and 123.0, 303.0
#     NOTICE stable; crash_loop resolves at minute 64, when the fix survives its grace period;
#   - 6 replicas on one node: exit_code_burst CRITICAL at minute 4.17;
#   - the same 6 replicas on 6 nodes: no node ever has an exit_code_burst, while each node's
#     crash_loop fires 7 minutes after its replica's first exit.
# Needs python3 and the built binary; no root.
set -euo pipefail
cd "$(dirname "$0")/../.."

EW=${EXITWATCH:-build/exitwatch}
. tests/e2e/lib.sh
[ -x "$EW" ] || skip "$EW is not built (make)"
command -v python3 >/dev/null || skip "python3 is not installed"

tmp=$(mktemp -d /tmp/ew-e2e-seed.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

python3 tests/e2e/gen-seed-timeline.py "$tmp/gen"
for f in tests/fixtures/replay/seed-*.ndjson; do
	cmp -s "$f" "$tmp/gen/${f##*/}" ||
		fail "$f is not what tests/e2e/gen-seed-timeline.py writes: regenerate it"
done
[ "$(ls "$tmp/gen" | wc -l)" = "$(ls tests/fixtures/replay/seed-*.ndjson | wc -l)" ] ||
	fail "tests/fixtures/replay/ lacks a recording the generator writes"

# replay FILE: one line per finding or resolution, "MINUTE SEVERITY EVENT RULE REPLICA", the
# minute after 00:43:00Z with two decimals, REPLICA the last digit of the pod uid; then one
# "first_exit MINUTE" line.
minutes() {
	"$EW" replay --config /dev/null "$1" >"$tmp/out.ndjson" 2>"$tmp/err" ||
		{ cat "$tmp/err" >&2; fail "exitwatch replay $1 failed"; }
	# Kept for tests/e2e/validate-schema.sh, which run-integration.sh runs last.
	if [ -n "${EW_RECORD_LOG:-}" ]; then
		cat "$tmp/out.ndjson" >>"$EW_RECORD_LOG"
	fi
	python3 - "$tmp/out.ndjson" <<'PY'
import json, sys
from datetime import datetime
BASE = 1757983380
first = None
for line in open(sys.argv[1]):
    r = json.loads(line)
    t = datetime.fromisoformat(r["time"][:26] + "+00:00").timestamp()
    m = (t - BASE) / 60
    if r["event"] == "container_exit" and first is None:
        first = m
    if r["event"] in ("finding", "resolved"):
        print("%.2f %s %s %s %s" % (m, r["severity"], r["event"], r["rule"],
                                    r["container"]["identity"].split("/")[0][-1]))
print("first_exit %.2f" % first)
PY
}

expect() { # WHAT FILE: compares the records with the lines on stdin
	local want got
	want=$(cat)
	got=$(minutes "$2")
	if [ "$want" != "$got" ]; then
		diff <(echo "$want") <(echo "$got") >&2 || true
		fail "$1: the records differ from the seed's documented minutes (< want, > got)"
	fi
	echo "$1: as documented"
	echo "$got" | sed 's/^/  /'
}

expect "one replica" tests/fixtures/replay/seed-1.ndjson <<'EOF2'
7.67 ERROR finding crash_loop 0
28.00 WARNING finding restart_rate 0
28.67 INFO finding startup_failure_rate 0
64.00 NOTICE resolved crash_loop 0
116.67 NOTICE resolved startup_failure_rate 0
123.00 NOTICE resolved restart_rate 0
303.00 NOTICE finding stable 0
first_exit 0.67
EOF2

# 6 replicas on one node: the burst of the four first exits (0.67, 1.83, 3.00, 4.17).
got=$(minutes tests/fixtures/replay/seed-6-one-node.ndjson)
echo "$got" | grep -qx '4.17 CRITICAL finding exit_code_burst 3' ||
	fail "6 replicas on one node: no exit_code_burst CRITICAL at minute 4.17: $got"
[ "$(echo "$got" | grep -c ' finding crash_loop ')" = 6 ] ||
	fail "6 replicas on one node: not one crash_loop per replica"
echo "6 replicas, one node: exit_code_burst CRITICAL at 4.17, a crash_loop per replica"

# The same replicas on 6 nodes: each node has the single-replica timeline, shifted by 70 s.
for i in 0 1 2 3 4 5; do
	got=$(minutes "tests/fixtures/replay/seed-6-node-$i.ndjson")
	! echo "$got" | grep -q exit_code_burst ||
		fail "node $i alone must never see an exit_code_burst: $got"
	python3 - "$i" "$got" <<'PY' || fail "node $i: crash_loop is not 7 minutes after the first exit"
import sys
i, lines = int(sys.argv[1]), sys.argv[2].splitlines()
first = float(lines[-1].split()[1])
loop = [float(l.split()[0]) for l in lines if " finding crash_loop " in l]
assert abs(first - (0.67 + i * 70 / 60)) < 0.01, first
assert len(loop) == 1 and abs(loop[0] - first - 7.0) < 0.01, (loop, first)
PY
done
echo "6 replicas, 6 nodes: no node sees exit_code_burst; crash_loop 7.00 min after each first exit"
echo "PASS: the seed timeline replays to its documented minutes; crash_loop within 8 minutes"
