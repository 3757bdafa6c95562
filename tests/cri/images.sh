#!/usr/bin/env bash
# Puts the images the CRI tests run into the standalone containerd's k8s.io namespace, where
# its CRI plugin looks for them (nothing can be pulled here):
#   exitwatch.local/pause:1                   the pod sandbox: tests/helpers/pause alone
#   docker.io/library/exitwatch-test:latest   busybox and the static helpers
#   docker.io/library/exitwatch-test-python:latest   runs the host's python3 (/usr mounted)
# The last two come from tests/docker/build-image.sh; each is built with docker import, then
# moved with `docker save | ctr -n k8s.io images import`. Importing an image already there is a
# no-op for containerd, so this runs again safely.
#   BUILD=DIR   the build tree whose helpers go into the images (default build)
#   CTR_ADDRESS the containerd socket (default /run/exitwatch-cri/containerd.sock)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
address=${CTR_ADDRESS:-/run/exitwatch-cri/containerd.sock}

tests/docker/build-image.sh >/dev/null
make -s BUILD="$BUILD" "$BUILD/tests/helpers/pause"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
pause=exitwatch.local/pause:1
sum=$(sha256sum <"$BUILD/tests/helpers/pause" | cut -c1-16)
if [ "$(docker image inspect -f '{{index .Config.Labels "ew.sum"}}' "$pause" 2>/dev/null)" != "$sum" ]; then
	cp "$BUILD/tests/helpers/pause" "$root/pause"
	tar -C "$root" -c pause | docker import --change 'ENTRYPOINT ["/pause"]' \
		--change "LABEL ew.sum=$sum" - "$pause" >/dev/null
fi
for image in "$pause" exitwatch-test:latest exitwatch-test-python:latest; do
	docker save "$image" | ctr --address "$address" -n k8s.io images import - >/dev/null
done
ctr --address "$address" -n k8s.io images ls -q
