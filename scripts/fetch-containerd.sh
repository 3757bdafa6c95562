#!/usr/bin/env bash
# Fetches the containerd versions of the CRI test's matrix (tests/e2e/cri-containerd.sh) from
# Debian's later releases, unpacked to DIR/<name>/usr/bin (containerd, its runc shim, ctr), not
# installed: the host keeps its own containerd. GKE nodes run containerd 1.7 (GKE 1.27 to 1.32)
# and 2.x (1.33 on); Debian 12's own is 1.6. Both are Go programs that run on Debian 12's glibc.
# Already-unpacked versions are kept.
#   scripts/fetch-containerd.sh DIR [NAME...]   NAME: 1.7 (trixie) 2 (forky) (default: both)
set -euo pipefail
. "$(dirname "$0")/lib/debian-fetch.sh"

dir=${1:?usage: $0 DIR [1.7 2]}
shift
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(1.7 2)

suite_of() {
	case $1 in
	1.7) echo trixie ;;
	2) echo forky ;;
	*)
		echo "fetch-containerd: unknown containerd '$1' (1.7 or 2)" >&2
		return 1
		;;
	esac
}

have() { [ -x "$dir/$1/usr/bin/containerd" ]; }
debian_fetch_begin "$dir" suite_of have "${names[@]}"
[ "$debian_fetch_needed" = 1 ] || exit 0

for n in "${names[@]}"; do
	have "$n" && continue
	suite=$(suite_of "$n")
	ver=$(debian_fetch_version containerd "$suite")
	# The suite's version must be the one it stands for here: a release that moved on to
	# another containerd would test another version under this name.
	case $ver in
	"$n".* | "$n"~*) ;;
	*)
		echo "fetch-containerd: $suite holds containerd '${ver:-none}', not $n.x:" \
			"update suite_of() in $0" >&2
		exit 1
		;;
	esac
	rm -rf "$dir/$n.tmp"
	debian_fetch_unpack containerd "$ver" "$dir/$n.tmp"
	"$dir/$n.tmp/usr/bin/containerd" --version >/dev/null
	rm -rf "${dir:?}/$n"
	mv "$dir/$n.tmp" "$dir/$n"
	echo "fetch-containerd: $n is $("$dir/$n/usr/bin/containerd" --version | awk '{print $3}')" \
		"(containerd $ver from $suite)"
done
