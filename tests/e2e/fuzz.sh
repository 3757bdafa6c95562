#!/usr/bin/env bash
# The libFuzzer targets of tests/fuzz/ (cgroup paths, runtime metadata, config file, detector
# state, recordings), each from its checked-in seeds, then for FUZZ_SECONDS of mutation (default
# 6 here, for CI's time budget; `make fuzz` alone runs 20 s, or as long as asked): `make fuzz`,
# built with clang 14 and ASan+UBSan into ${BUILD:-build}/fuzz/. A crash, a leak or a timeout
# fails, naming the reproducer. No root needed. Without clang 14 and libFuzzer the test is
# skipped, except under CI=true, where that is a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

. tests/e2e/lib.sh

cc=${FUZZ_CC:-clang-14}
if ! command -v "$cc" >/dev/null 2>&1 ||
	[ ! -e "$("$cc" -print-file-name="libclang_rt.fuzzer-$(uname -m).a")" ]; then
	skip "fuzz: no $cc with libFuzzer (apt-get install clang-14 libclang-rt-14-dev)"
fi
exec make --no-print-directory fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-6}"
