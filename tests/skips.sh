# shellcheck shell=bash
# Sourced by tests/run-unit.sh and tests/run-integration.sh: the run's list of skipped tests,
# so that a run which skipped tests does not end on a line that looks green.
#
# $EW_SKIP_LOG holds one line per skipped test, "<kind> <where>: <why>": kind is unit (cmocka's
# list, read by run-unit.sh), integration or bpf (ew_t_need_logged() in
# tests/harness/unit_skip.c, or the not-root listing of run-integration.sh) or e2e
# (tests/e2e/lib.sh, one line per script). `make test` gives both runners the same log; a runner
# started alone makes its own.

# skips_summary LOG: each distinct skip with how many tests it covers, then one line of totals,
# last: "SKIPPED: 1 unit test, 16 BPF tests, 2 e2e scripts", or "SKIPPED: none". Lines of kind
# vmtest (ew_t_run_elsewhere(): tests this machine cannot have, which make vmtest's guests run)
# are no skip: listed before it, apart.
skips_summary() {
	if grep -q '^vmtest ' "$1" 2>/dev/null; then
		echo "== not run here, run by make vmtest instead (not a skip):"
		grep '^vmtest ' "$1" | sort | uniq -c | sed 's/^ *\([0-9]*\) vmtest /  \1x /'
	fi
	if ! grep -qv '^vmtest ' "$1" 2>/dev/null; then
		echo "SKIPPED: none"
		return
	fi
	echo "== skipped (a skip fails the run only under CI=true):"
	grep -v '^vmtest ' "$1" | sort | uniq -c | sed 's/^ *\([0-9]*\) /  \1x /'
	awk '{ n[$1]++ }
	function say(k, one, many) {
		if (!n[k])
			return
		out = out (out == "" ? "" : ", ") n[k] " " (n[k] == 1 ? one : many)
	}
	END {
		say("unit", "unit test", "unit tests")
		say("integration", "integration test", "integration tests")
		say("bpf", "BPF test", "BPF tests")
		say("e2e", "e2e script", "e2e scripts")
		print "SKIPPED: " out
	}' "$1"
}
