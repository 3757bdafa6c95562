#!/usr/bin/env bash
# Runs the cmocka unit tests given as arguments (none: every one in ${BUILD:-build}/tests);
# non-zero if any fails. No privileges needed.
#   EW_SKIP_LOG=FILE   append the skipped tests there (tests/skips.sh) and leave the summary to
#                      the caller (make test: tests/run-integration.sh prints it last); without
#                      it this script prints it.
set -u
cd "$(dirname "$0")/.."
. tests/skips.sh
BUILD=${BUILD:-build}
# A sanitizer build fails loudly: an error or a leak aborts the test binary.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if [ $# -eq 0 ]; then
	set -- "$BUILD"/tests/test_*
fi
errlog=$(mktemp /tmp/ew-unit-stderr.XXXXXX)
own_log=
if [ -z "${EW_SKIP_LOG:-}" ]; then
	own_log=$(mktemp /tmp/ew-unit-skips.XXXXXX)
	EW_SKIP_LOG=$own_log
fi
trap 'rm -f "$errlog" $own_log' EXIT
fail=0
for t in "$@"; do
	printf '== %s\n' "$t"
	# Only stderr goes through tee (stdout is left as it is): cmocka lists the skipped tests
	# there, one "[  SKIPPED ] <test>" line each after a "[  SKIPPED ] N test(s), ..." line.
	{
		"$t" 2>&1 1>&3 3>&- | tee "$errlog" >&2
		st=${PIPESTATUS[0]}
	} 3>&1
	if [ "$st" != 0 ]; then
		printf 'FAILED: %s\n' "$t"
		fail=1
	fi
	sed -n 's/^\[  SKIPPED \] //p' "$errlog" | grep -v ' test(s), listed below:$' |
		sed "s|^|unit $t: |" >>"$EW_SKIP_LOG"
done
if [ -n "$own_log" ]; then
	skips_summary "$own_log"
fi
exit $fail
