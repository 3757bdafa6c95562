#!/usr/bin/env bash
# Runs the cmocka unit tests given as arguments; non-zero if any fails. No privileges needed.
set -u
cd "$(dirname "$0")/.."
fail=0
for t in "$@"; do
	printf '== %s\n' "$t"
	if ! "$t"; then
		printf 'FAILED: %s\n' "$t"
		fail=1
	fi
done
exit $fail
