#!/usr/bin/env bash
# Per-output filters (';events=...;min_severity=...' after an --output spec), through
# `exitwatch replay` of the seed timeline on one node (tests/fixtures/replay/
# seed-6-one-node.ndjson), three outputs at once:
#   stdout;events=finding,resolved      only findings and resolutions (what Cloud Logging bills)
#   file:ALL                            everything
#   file:WARN;min_severity=WARNING      records of severity WARNING and above
# Each filtered output must hold exactly the records of the full one that its filter takes, in
# the same order, byte for byte. Bad options stop exitwatch with status 2 and a message naming
# the option. Prints the bytes per record type (README, "What the defaults cost").
# Needs python3 and the built binary; no root.
set -euo pipefail
cd "$(dirname "$0")/../.."

EW=${EXITWATCH:-build/exitwatch}
. tests/e2e/lib.sh
[ -x "$EW" ] || skip "$EW is not built (make)"
command -v python3 >/dev/null || skip "python3 is not installed"

tmp=$(mktemp -d /tmp/ew-e2e-filters.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
rec=tests/fixtures/replay/seed-6-one-node.ndjson

"$EW" replay --config /dev/null -o 'stdout;events=finding,resolved' -o "file:$tmp/all.ndjson" \
	-o "file:$tmp/warn.ndjson;min_severity=WARNING" "$rec" >"$tmp/stdout.ndjson" 2>"$tmp/err" ||
	fail "exitwatch replay with filters: $(cat "$tmp/err")"
python3 - "$tmp" <<'PY' || fail "a filtered output is not the full one filtered"
import json, sys
tmp = sys.argv[1]
SEV = ["DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY"]
read = lambda f: open("%s/%s.ndjson" % (tmp, f), "rb").read().splitlines()
full = read("all")
events = [json.loads(l)["event"] for l in full]
want_stdout = [l for l, e in zip(full, events) if e in ("finding", "resolved")]
want_warn = [l for l in full if SEV.index(json.loads(l)["severity"]) >= SEV.index("WARNING")]
assert read("stdout") == want_stdout, "stdout"
assert read("warn") == want_warn, "min_severity=WARNING"
assert len(want_stdout) > 0 and len(want_warn) < len(full) and len(want_stdout) < len(full)
kinds = {}
for l, e in zip(full, events):
    kinds.setdefault(e, []).append(len(l) + 1)
print("ok   %d records in all; stdout;events=finding,resolved took %d, min_severity=WARNING %d"
      % (len(full), len(want_stdout), len(want_warn)))
for e, v in sorted(kinds.items()):
    print("     %-16s %3d records, %5.0f bytes each on average" % (e, len(v), sum(v) / len(v)))
PY
for opt in 'events=findings' 'min_severity=LOUD' 'colour=1' 'events=finding;events=agent'; do
	rc=0
	"$EW" replay --config /dev/null -o "stdout;$opt" /dev/null >/dev/null 2>"$tmp/err" || rc=$?
	[ "$rc" = 2 ] || fail "-o 'stdout;$opt' exited $rc, not 2"
	grep -q "output 'stdout'" "$tmp/err" || fail "-o 'stdout;$opt': the message names no output: $(cat "$tmp/err")"
done
echo "ok   bad filter options exit 2, naming the output and the option"
echo "PASS: per-output filters take exactly what they say"
