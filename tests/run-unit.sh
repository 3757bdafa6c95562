#!/usr/bin/env bash
# Runs the cmocka unit tests given as arguments (none: every one in ${BUILD:-build}/tests);
# non-zero if any fails. No privileges needed.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
# A sanitizer build fails loudly: an error or a leak aborts the test binary.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if [ $# -eq 0 ]; then
	set -- "$BUILD"/tests/test_*
fi
fail=0
for t in "$@"; do
	printf '== %s\n' "$t"
	if ! "$t"; then
		printf 'FAILED: %s\n' "$t"
		fail=1
	fi
done
exit $fail
