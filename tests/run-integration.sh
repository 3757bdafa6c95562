#!/usr/bin/env bash
# The tests that need root and real parts: the kernel's BPF, a Docker daemon, syslog-ng,
# Prometheus. Each binary skips what it cannot run, except under CI=true, where a skip is a
# failure; every skip is listed at the end, and the last line counts them ("SKIPPED: ...", see
# tests/skips.sh). Run from the repository root (make test does).
#   BUILD=DIR     the build tree to test (default build; make test SANITIZE=... BUILD=build-asan)
#   EW_SKIP_LOG=FILE   the run's list of skips (make test: the unit tests' are already in it);
#                 default BUILD/test-skips.log, emptied first
# The harness and the e2e scripts find its binaries through EXITWATCH and EW_WORKLOAD, exported
# here unless already set.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/skips.sh
BUILD=${BUILD:-build}
case $BUILD in
/*) build_abs=$BUILD ;;
*) build_abs=$PWD/$BUILD ;;
esac
export BUILD
if [ -z "${EW_SKIP_LOG:-}" ]; then
	EW_SKIP_LOG=$build_abs/test-skips.log
	: >"$EW_SKIP_LOG"
fi
export EW_SKIP_LOG
export EXITWATCH=${EXITWATCH:-$build_abs/exitwatch}
export EW_WORKLOAD=${EW_WORKLOAD:-$build_abs/tests/helpers/workload}
# A sanitizer build fails loudly: an error or a leak aborts the binary, which fails its test.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fail=0
# Each test's wall time is printed after it ("-- 12 s: ..."): CI's budget is the sum.
run() {
	local t0=$SECONDS

	printf '== %s\n' "$*"
	if ! "$@"; then
		printf 'FAILED: %s\n' "$*"
		fail=1
	fi
	printf -- '-- %d s: %s\n' $((SECONDS - t0)) "$*"
}

if [ "$(id -u)" != 0 ]; then
	if [ "${CI:-}" = true ]; then
		echo "CI=true but not root: the BPF and Docker tests must run" >&2
		exit 1
	fi
	# Not run, so not even started: each test of each binary (its cmocka_unit_test entries
	# in its source) and each script is listed as skipped.
	for t in "$BUILD"/tests/integration/test_* "$BUILD"/tests/bpf/test_*; do
		dir=${t%/*}
		src=tests/${dir##*/}/${t##*/}.c
		n=$(grep -c 'cmocka_unit_test' "$src" 2>/dev/null) || n=1
		for _ in $(seq "$n"); do
			echo "${dir##*/} $t: not root (sudo make test)"
		done
	done >>"$EW_SKIP_LOG"
	for t in tests/e2e/*.sh; do
		case $t in */lib.sh | */validate-schema.sh) continue ;; esac
		echo "e2e ${t##*/}: not root (sudo make test)"
	done >>"$EW_SKIP_LOG"
	echo "not root: the BPF, Docker and sink tests were not run (sudo make test)"
	skips_summary "$EW_SKIP_LOG"
	exit 0
fi

# tp/syscalls/* and tp/oom/* attach through tracefs.
mountpoint -q /sys/kernel/tracing 2>/dev/null || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true

# Every record the tests see is collected here and checked against the schema last.
export EW_RECORD_LOG=$build_abs/test-records.ndjson
rm -f "$EW_RECORD_LOG"

# A test that is not there is a failure, not a pass: an unbuilt tree (the glob then stays
# unexpanded) or a script that lost its x bit would otherwise run nothing, silently.
run_x() {
	if [ -x "$1" ]; then
		run "$@"
	else
		printf 'FAILED: %s is not there or not executable (make test-build)\n' "$1"
		fail=1
	fi
}
# Two lanes. Host-wide tests run one at a time: each one that loads BPF sees the whole node, and
# some count its every event (test_faults' drops, test_move's sweeps, test_trace's wakeups), so
# another test's cgroups or containers would be theirs. The quiet lane runs beside them: tests
# that load no BPF and make no cgroup or container (replay and the sinks it feeds, fuzzing,
# promtool, kustomize, the ASan build and its unit tests), whose processes stay in the runner's
# own cgroup. make test used a quarter of the 2-core runner's CPU with everything in one lane.
# The quiet lane keeps its own record log and its own output, printed when the host-wide lane
# is done; a failure in it fails the run.
quiet_lane="tests/e2e/sanitizers.sh --unit
tests/e2e/fuzz.sh
tests/e2e/sink-syslog-ng.sh
tests/e2e/alerts-promtool.sh
tests/e2e/deploy-manifests.sh
tests/e2e/sink-file.sh
tests/e2e/replay-cli.sh
tests/e2e/replay-seed.sh
tests/e2e/replay-stream.sh
tests/e2e/output-filters.sh"
in_quiet_lane() {
	grep -qxF -- "$1" <<<"$quiet_lane"
}
quiet_records=$build_abs/test-records-quiet.ndjson
quiet_log=$build_abs/test-quiet-lane.log
quiet_rc=$build_abs/test-quiet-lane.rc
rm -f "$quiet_records" "$quiet_rc"
(
	export EW_RECORD_LOG=$quiet_records
	while read -r t; do
		# shellcheck disable=SC2086 # a test and its arguments
		run_x $t
	done <<<"$quiet_lane"
	echo $fail >"$quiet_rc"
) >"$quiet_log" 2>&1 &
quiet_pid=$!
# quiet_wait: the quiet lane's end, its output and its verdict (once).
quiet_wait() {
	[ -n "$quiet_pid" ] || return 0
	wait "$quiet_pid"
	quiet_pid=
	printf '== the quiet lane (run beside the tests above):\n'
	cat "$quiet_log"
	[ "$(cat "$quiet_rc" 2>/dev/null)" = 0 ] || {
		printf 'FAILED: the quiet lane (%s)\n' "$quiet_log"
		fail=1
	}
}

for t in "$BUILD"/tests/integration/test_* "$BUILD"/tests/bpf/test_*; do
	run_x "$t"
done
for t in tests/e2e/*.sh; do
	case $t in */lib.sh | */validate-schema.sh) continue ;; esac
	in_quiet_lane "$t" && continue
	if [ "$t" = tests/e2e/sanitizers.sh ]; then
		# Its build is the quiet lane's, which must be finished first.
		quiet_wait
		run_x "$t" --bpf
		continue
	fi
	run_x "$t"
done
quiet_wait
run_x tests/e2e/validate-schema.sh "$EW_RECORD_LOG" "$quiet_records"
skips_summary "$EW_SKIP_LOG"
exit $fail
