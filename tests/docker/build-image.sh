#!/usr/bin/env bash
# Builds the images the Docker tests run. Nothing is pulled: each rootfs is made here and
# imported, and rebuilt only when its content changed (the ew.sum label).
#   exitwatch-test:latest         busybox from Debian's busybox-static plus the static helpers
#                                 (workload, stderrwriter)
#   exitwatch-test-python:latest  an empty merged-/usr rootfs (bin, lib, lib64 -> usr/...) that
#                                 runs the host's own python3 with `-v /usr:/usr:ro`
#   BUILD=DIR   the build tree whose helpers go into the image (default build)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
helpers="$BUILD/tests/helpers/workload $BUILD/tests/helpers/stderrwriter"
# shellcheck disable=SC2086 # two paths
make -s BUILD="$BUILD" $helpers

# import IMAGE SUM ROOT [CHANGES...]: tar ROOT into IMAGE labelled ew.sum=SUM.
import() {
	local image=$1 sum=$2 root=$3
	shift 3
	tar -C "$root" -c . | docker import "$@" --change "LABEL ew.sum=$sum" - "$image" >/dev/null
	echo "built $image"
}

# current IMAGE SUM: whether IMAGE already has label ew.sum=SUM.
current() {
	[ "$(docker image inspect -f '{{index .Config.Labels "ew.sum"}}' "$1" 2>/dev/null)" = "$2" ]
}

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

image=exitwatch-test:latest
# shellcheck disable=SC2086
sum=$(cat $helpers /bin/busybox | sha256sum | cut -c1-16)
if ! current "$image" "$sum"; then
	mkdir -p "$root"/bin "$root"/usr/local/bin "$root"/tmp "$root"/etc
	cp /bin/busybox "$root"/bin/busybox
	for applet in $("$root"/bin/busybox --list); do
		[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
	done
	for h in $helpers; do
		cp "$h" "$root"/usr/local/bin/
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$root"/etc/passwd
	chmod 1777 "$root"/tmp
	import "$image" "$sum" "$root" \
		--change 'CMD ["/bin/sh"]' --change 'ENV PATH=/usr/local/bin:/bin'
fi

# No file of its own but /etc/passwd: the layout below is the whole image, so it is its sum.
image=exitwatch-test-python:latest
layout='bin->usr/bin lib->usr/lib lib64->usr/lib64 /tmp /etc/passwd root:x:0:0'
sum=$(echo "$layout" | sha256sum | cut -c1-16)
if ! current "$image" "$sum"; then
	rm -rf "${root:?}"/* && mkdir -p "$root"/tmp "$root"/etc
	ln -s usr/bin "$root"/bin
	ln -s usr/lib "$root"/lib
	ln -s usr/lib64 "$root"/lib64
	echo 'root:x:0:0:root:/root:/bin/sh' >"$root"/etc/passwd
	chmod 1777 "$root"/tmp
	import "$image" "$sum" "$root" \
		--change 'CMD ["/usr/bin/python3"]' --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin'
fi
