#!/usr/bin/env bash
# Builds exitwatch-test:latest, the image the Docker tests run: busybox from Debian's
# busybox-static plus the static workload helper. Nothing is pulled: the rootfs is made here
# and imported. Rebuilt only when the helper changed.
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s build/tests/helpers/workload
image=exitwatch-test:latest
sum=$(cat build/tests/helpers/workload /bin/busybox | sha256sum | cut -c1-16)
if [ "$(docker image inspect -f '{{index .Config.Labels "ew.sum"}}' "$image" 2>/dev/null)" = "$sum" ]; then
	exit 0
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/bin "$root"/usr/local/bin "$root"/tmp "$root"/etc
cp /bin/busybox "$root"/bin/busybox
for applet in $("$root"/bin/busybox --list); do
	[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
cp build/tests/helpers/workload "$root"/usr/local/bin/workload
echo 'root:x:0:0:root:/root:/bin/sh' >"$root"/etc/passwd
chmod 1777 "$root"/tmp
tar -C "$root" -c . | docker import \
	--change 'CMD ["/bin/sh"]' --change "LABEL ew.sum=$sum" \
	--change 'ENV PATH=/usr/local/bin:/bin' - "$image" >/dev/null
echo "built $image"
