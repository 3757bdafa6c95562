# Sourced by the tests in tests/e2e/: how they skip and fail.
# A missing tool or privilege skips a test (exit 0), except under CI=true, where CI must run
# everything and a skip is a failure. fail() prints the agent's stderr when $EW_ERR_LOG names
# a non-empty file.

skip() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL: $* (CI=true: a missing tool is a failure)" >&2
		exit 1
	fi
	echo "SKIP: $*"
	exit 0
}

fail() {
	echo "FAIL: $*" >&2
	if [ -n "${EW_ERR_LOG:-}" ] && [ -s "$EW_ERR_LOG" ]; then
		sed 's/^/  exitwatch: /' "$EW_ERR_LOG" >&2
	fi
	exit 1
}
