# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Packages of other Debian releases, fetched and unpacked without installing them: the kernels of
# the vmtest matrix (scripts/vmtest/fetch-kernels.sh) and the containerd versions of the CRI test
# (scripts/fetch-containerd.sh). apt runs with a private sources list and state under a directory
# of the caller's, so the host's apt configuration and its installed packages are left alone.
# Sourced; the caller sets -euo pipefail.
#
#   debian_fetch_begin DIR SUITE_OF HAVE NAME...
#                                    for the names a caller fetches: sources of the suites the
#                                    function SUITE_OF gives them, under DIR/apt, updated unless
#                                    the function HAVE says every name is there already; sets
#                                    debian_fetch_needed to 1 if not (else 0)
#   debian_fetch_init DIR SUITE...   sources and state under DIR/apt; sets debian_fetch_opts
#   debian_fetch_update              apt-get update of those suites
#   debian_fetch_version PKG SUITE   the version of PKG that SUITE holds (empty: none)
#   debian_fetch_unpack PKG VER DEST PKG=VER downloaded to DIR/debs and unpacked into DEST
#
# EW_DEBIAN_MIRROR overrides the mirror (default http://deb.debian.org/debian).

debian_fetch_init() {
	local s

	debian_fetch_dir=${1:?debian_fetch_init DIR SUITE...}
	shift
	local apt_dir=$debian_fetch_dir/apt mirror=${EW_DEBIAN_MIRROR:-http://deb.debian.org/debian}

	mkdir -p "$apt_dir"/{lists/partial,cache/archives/partial,etc/preferences.d} \
		"$debian_fetch_dir/debs"
	: >"$apt_dir/status"
	for s in $(printf '%s\n' "$@" | sort -u); do
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $s main"
	done >"$apt_dir/etc/sources.list"
	debian_fetch_opts=(-o "Dir::Etc::SourceList=$apt_dir/etc/sources.list"
		-o "Dir::Etc::SourceParts=/dev/null" -o "Dir::Etc::Preferences=/dev/null"
		-o "Dir::Etc::PreferencesParts=$apt_dir/etc/preferences.d" -o "Dir::State=$apt_dir"
		-o "Dir::State::Lists=$apt_dir/lists" -o "Dir::State::status=$apt_dir/status"
		-o "Dir::Cache=$apt_dir/cache" -o "APT::Architecture=amd64" -o "Debug::NoLocking=1"
		-o "Acquire::Languages=none" -o "APT::Sandbox::User=root")
}

debian_fetch_update() {
	apt-get "${debian_fetch_opts[@]}" -qq update
}

debian_fetch_begin() {
	local dir=$1 suite_of=$2 have=$3 n suite suites=()

	shift 3
	debian_fetch_needed=0
	for n in "$@"; do
		suite=$("$suite_of" "$n")
		suites+=("$suite")
		"$have" "$n" || debian_fetch_needed=1
	done
	debian_fetch_init "$dir" "${suites[@]}"
	if [ "$debian_fetch_needed" = 1 ]; then
		debian_fetch_update
	fi
}

# The version listed under SUITE/main in apt-cache policy: with several suites in the sources,
# the candidate may be another suite's.
debian_fetch_version() {
	local pkg=$1 suite=$2 ver

	ver=$(apt-cache "${debian_fetch_opts[@]}" policy "$pkg" | awk -v s="$suite" '
		/^     [^ *]/ || /^ \*\*\* / { v = ($1 == "***") ? $2 : $1 }
		$0 ~ " "s"/main" && v != "" { print v; exit }')
	[ -n "$ver" ] || ver=$(apt-cache "${debian_fetch_opts[@]}" show "$pkg" 2>/dev/null |
		awk '/^Version:/ {print $2; exit}')
	echo "$ver"
}

debian_fetch_unpack() {
	local pkg=$1 ver=$2 dest=$3 deb

	(cd "$debian_fetch_dir/debs" && apt-get "${debian_fetch_opts[@]}" -qq download "$pkg=$ver")
	deb=$(find "$debian_fetch_dir/debs" -name "${pkg}_*.deb" | sort -V | tail -1)
	[ -n "$deb" ] || {
		echo "debian-fetch: $pkg=$ver was not downloaded" >&2
		return 1
	}
	mkdir -p "$dest"
	dpkg-deb -x "$deb" "$dest"
}
