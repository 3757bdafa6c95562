#!/usr/bin/env bash
# The tests that need root and real parts: the kernel's BPF, a Docker daemon, syslog-ng,
# Prometheus. Each binary skips what it cannot run, except under CI=true, where a skip is a
# failure. Run from the repository root (make test does).
#   BUILD=DIR     the build tree to test (default build; make test SANITIZE=... BUILD=build-asan)
# The harness and the e2e scripts find its binaries through EXITWATCH and EW_WORKLOAD, exported
# here unless already set.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case $BUILD in
/*) build_abs=$BUILD ;;
*) build_abs=$PWD/$BUILD ;;
esac
export BUILD
export EXITWATCH=${EXITWATCH:-$build_abs/exitwatch}
export EW_WORKLOAD=${EW_WORKLOAD:-$build_abs/tests/helpers/workload}
# A sanitizer build fails loudly: an error or a leak aborts the binary, which fails its test.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fail=0
run() {
	printf '== %s\n' "$*"
	if ! "$@"; then
		printf 'FAILED: %s\n' "$*"
		fail=1
	fi
}

if [ "$(id -u)" != 0 ]; then
	if [ "${CI:-}" = true ]; then
		echo "CI=true but not root: the BPF and Docker tests must run" >&2
		exit 1
	fi
	echo "skipping the BPF, Docker and sink tests: they need root (sudo make test)"
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
for t in "$BUILD"/tests/bpf/test_*; do
	run_x "$t"
done
for t in tests/e2e/*.sh; do
	case $t in */lib.sh | */validate-schema.sh) continue ;; esac
	run_x "$t"
done
run_x tests/e2e/validate-schema.sh "$EW_RECORD_LOG"
exit $fail
