#!/usr/bin/env bash
# The unit tests and the BPF integration tests test_trace and test_detect (the others are left
# to `make sanitize-test`, to keep CI time sane), built with ASan+UBSan into ASAN_BUILD (default
# build-asan/): build/ is neither rebuilt nor written to. Any sanitizer report, and any leak,
# aborts the binary and fails its test. The BPF tests need root: the harness skips them without
# it, except under CI=true. Needs clang (the BPF object) and a C compiler with the ASan and UBSan
# runtimes (gcc's libasan and libubsan): without them the test is skipped, except under CI=true,
# where that is a failure.
#   tests/e2e/sanitizers.sh          the build, the unit tests and the BPF tests
#   tests/e2e/sanitizers.sh --unit   the build and the unit tests (no root, no BPF)
#   tests/e2e/sanitizers.sh --bpf    the build and the BPF tests
# tests/run-integration.sh runs --unit in its quiet lane, beside the host-wide tests, and --bpf
# among them once that lane is done (the build is then up to date).
set -euo pipefail
cd "$(dirname "$0")/../.."
part=all
case ${1:-} in
'') ;;
--unit) part=unit ;;
--bpf) part=bpf ;;
*)
	echo "usage: $0 [--unit | --bpf]" >&2
	exit 2
	;;
esac

. tests/e2e/lib.sh

# Inside `make test SANITIZE=...` everything already runs sanitized: nothing to add.
if [ -n "${SANITIZE:-}" ]; then
	not_applicable "this run is already a sanitizer build (SANITIZE=$SANITIZE)"
fi
cc=${CC:-cc}
command -v "$cc" >/dev/null 2>&1 || skip "no C compiler: $cc (scripts/deps.sh build)"
command -v "${CLANG:-clang}" >/dev/null 2>&1 ||
	skip "${CLANG:-clang} is not installed: the BPF object needs it (scripts/deps.sh build)"
# The runtimes: a program built with them must link and run.
probe=$(mktemp /tmp/ew-sanitizers-probe.XXXXXX)
if ! printf 'int main(void) { return 0; }\n' |
	"$cc" -fsanitize=address,undefined -x c - -o "$probe" 2>/dev/null || ! "$probe"; then
	rm -f "$probe"
	skip "$cc cannot build and run an ASan+UBSan program (libasan, libubsan: scripts/deps.sh build)"
fi
rm -f "$probe"
ab=${ASAN_BUILD:-build-asan}
case $ab in
/*) abs=$ab ;;
*) abs=$PWD/$ab ;;
esac

make -j"$(nproc)" --no-print-directory test-build SANITIZE=address,undefined BUILD="$ab" \
	OUTPUT="$ab/obj"

# run-integration.sh exported the paths of build/: this run uses its own binaries and log.
export BUILD=$ab
export EXITWATCH=$abs/exitwatch
export EW_WORKLOAD=$abs/tests/helpers/workload
export EW_RECORD_LOG=${EW_RECORD_LOG:-$abs/test-records.ndjson}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

fail=0
[ $part = bpf ] || tests/run-unit.sh || fail=1
[ $part = unit ] && exit $fail
for t in test_trace test_detect; do
	printf '== %s/tests/bpf/%s (ASan+UBSan)\n' "$ab" "$t"
	if ! "$ab/tests/bpf/$t"; then
		printf 'FAILED: %s/tests/bpf/%s\n' "$ab" "$t"
		fail=1
	fi
done
exit $fail
