#!/usr/bin/env bash
# One command from a fresh Debian/Ubuntu machine to a full test run: dependencies, services,
# build, unit tests, then the BPF, Docker and sink tests, then the BPF tests again on each kernel
# of the matrix in QEMU (make vmtest). Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
scripts/services.sh
tests/docker/build-image.sh
make -j"$(nproc)" test-build
make test
# The kernel matrix last: the host's kernel passed first, and a kernel of the matrix failing
# fails the run all the same.
make vmtest
