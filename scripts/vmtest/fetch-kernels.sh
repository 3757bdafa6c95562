#!/usr/bin/env bash
# Fetches the kernels of the test matrix: Debian's cloud kernels, unpacked to DIR/<name>/.
# apt runs with a private sources list and state under DIR/apt, so the host's apt
# configuration is left alone. Already-unpacked kernels are kept.
#   scripts/vmtest/fetch-kernels.sh DIR [NAME...]   NAME: 5.10 6.1 6.12 (default: all)
set -euo pipefail

dir=${1:?usage: $0 DIR [5.10 6.1 6.12]}
shift
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(5.10 6.1 6.12)
mirror=${EW_DEBIAN_MIRROR:-http://deb.debian.org/debian}

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

apt_dir=$dir/apt
mkdir -p "$apt_dir"/{lists/partial,cache/archives/partial,etc/preferences.d} "$dir/debs"
: >"$apt_dir/status"
suites=()
for n in "${names[@]}"; do
	suites+=("$(suite_of "$n")")
done
{
	for s in $(printf '%s\n' "${suites[@]}" | sort -u); do
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $s main"
	done
} >"$apt_dir/etc/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/etc/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=$apt_dir/etc/preferences.d"
	-o "Dir::State=$apt_dir" -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::State::status=$apt_dir/status"
	-o "Dir::Cache=$apt_dir/cache" -o "APT::Architecture=amd64" -o "Debug::NoLocking=1"
	-o "Acquire::Languages=none" -o "APT::Sandbox::User=root")

need_update=0
for n in "${names[@]}"; do
	[ -s "$dir/$n/vmlinuz" ] || need_update=1
done
[ $need_update = 1 ] || exit 0
apt-get "${apt_opts[@]}" -qq update

for n in "${names[@]}"; do
	[ -s "$dir/$n/vmlinuz" ] && continue
	suite=$(suite_of "$n")
	# The newest linux-image-<n>.*-cloud-amd64-unsigned that suite holds.
	pkg=$(apt-cache "${apt_opts[@]}" search --names-only "^linux-image-${n//./\\.}\\.[0-9].*-cloud-amd64-unsigned\$" |
		awk '{print $1}' | sort -V | tail -1)
	if [ -z "$pkg" ]; then
		echo "fetch-kernels: no linux-image-$n.*-cloud-amd64-unsigned in $suite" >&2
		exit 1
	fi
	ver=$(apt-cache "${apt_opts[@]}" policy "$pkg" | awk -v s="$suite" '
		/^     [^ *]/ || /^ \*\*\* / { v = ($1 == "***") ? $2 : $1 }
		$0 ~ s"/main" && v != "" { print v; exit }')
	[ -n "$ver" ] || ver=$(apt-cache "${apt_opts[@]}" show "$pkg" | awk '/^Version:/ {print $2; exit}')
	(cd "$dir/debs" && apt-get "${apt_opts[@]}" -qq download "$pkg=$ver")
	deb=$(find "$dir/debs" -name "${pkg}_*.deb" | sort -V | tail -1)
	rm -rf "$dir/$n.tmp" && mkdir -p "$dir/$n.tmp"
	dpkg-deb -x "$deb" "$dir/$n.tmp/root"
	cp "$dir/$n.tmp"/root/boot/vmlinuz-* "$dir/$n.tmp/vmlinuz"
	basename "$(ls -d "$dir/$n.tmp"/root/lib/modules/*)" >"$dir/$n.tmp/release"
	# Modules are kept: a matrix kernel may need one the initramfs loads.
	mv "$dir/$n.tmp/root/lib/modules" "$dir/$n.tmp/modules"
	rm -rf "$dir/$n.tmp/root" "${dir:?}/$n"
	mv "$dir/$n.tmp" "$dir/$n"
	echo "fetch-kernels: $n is $(cat "$dir/$n/release") ($pkg $ver)"
done
