#!/usr/bin/env bash
# Fetches the kernels of the test matrix: Debian's cloud kernels, unpacked to DIR/<name>/.
# apt runs with a private sources list and state under DIR/apt (scripts/lib/debian-fetch.sh),
# so the host's apt configuration is left alone. Already-unpacked kernels are kept.
#   scripts/vmtest/fetch-kernels.sh DIR [NAME...]   NAME: 5.10 6.1 6.12 (default: all)
set -euo pipefail
. "$(dirname "$0")/../lib/debian-fetch.sh"

dir=${1:?usage: $0 DIR [5.10 6.1 6.12]}
shift
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(5.10 6.1 6.12)

suite_of() {
	case $1 in
	5.10) echo bullseye ;;
	6.1) echo bookworm ;;
	6.12) echo bookworm-backports ;;
	*)
		echo "fetch-kernels: unknown kernel '$1' (5.10, 6.1 or 6.12)" >&2
		return 1
		;;
	esac
}

have() { [ -s "$dir/$1/vmlinuz" ]; }
debian_fetch_begin "$dir" suite_of have "${names[@]}"
[ "$debian_fetch_needed" = 1 ] || exit 0

for n in "${names[@]}"; do
	have "$n" && continue
	suite=$(suite_of "$n")
	# The newest linux-image-<n>.*-cloud-amd64-unsigned that suite holds.
	pkg=$(apt-cache "${debian_fetch_opts[@]}" search --names-only "^linux-image-${n//./\\.}\\.[0-9].*-cloud-amd64-unsigned\$" |
		awk '{print $1}' | sort -V | tail -1)
	if [ -z "$pkg" ]; then
		echo "fetch-kernels: no linux-image-$n.*-cloud-amd64-unsigned in $suite" >&2
		exit 1
	fi
	ver=$(debian_fetch_version "$pkg" "$suite")
	rm -rf "$dir/$n.tmp" && mkdir -p "$dir/$n.tmp"
	debian_fetch_unpack "$pkg" "$ver" "$dir/$n.tmp/root"
	cp "$dir/$n.tmp"/root/boot/vmlinuz-* "$dir/$n.tmp/vmlinuz"
	basename "$(ls -d "$dir/$n.tmp"/root/lib/modules/*)" >"$dir/$n.tmp/release"
	# Modules are kept: a matrix kernel may need one the initramfs loads.
	mv "$dir/$n.tmp/root/lib/modules" "$dir/$n.tmp/modules"
	rm -rf "$dir/$n.tmp/root" "${dir:?}/$n"
	mv "$dir/$n.tmp" "$dir/$n"
	echo "fetch-kernels: $n is $(cat "$dir/$n/release") ($pkg $ver)"
done
