#!/usr/bin/env bash
# One command from a fresh Debian/Ubuntu machine to a full test run: dependencies, services,
# build, unit tests, then the BPF, Docker and sink tests, then the BPF tests again on each kernel
# of the matrix in QEMU (make vmtest). Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each step's wall time, when it ends ("-- step: N s"): CI has a budget, and this says where it
# goes.
step() {
	local t0=$SECONDS

	"$@"
	printf -- '-- step %s: %d s\n' "$*" $((SECONDS - t0))
}
step scripts/deps.sh test
step scripts/services.sh
step tests/docker/build-image.sh
step make -j"$(nproc)" test-build
# The checked-in format, the include layers, cppcheck and the bench patches, before any test.
step make check
step make test
# The kernel matrix last: the host's kernel passed first, and a kernel of the matrix failing
# fails the run all the same.
step make vmtest
