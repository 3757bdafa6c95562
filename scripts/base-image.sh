#!/usr/bin/env bash
# Builds exitwatch-base:bookworm, the base of deploy/docker/Dockerfile and of the Compose
# demo: a Debian 12 minbase root file system made here with debootstrap from the Debian
# mirror and imported into Docker. Nothing is pulled from a container registry.
#
#   scripts/base-image.sh            build it unless the image exists
#   scripts/base-image.sh --force    build it again (e.g. for security updates)
#
# EW_BASE_IMAGE (default exitwatch-base:bookworm) and EW_MIRROR
# (default http://deb.debian.org/debian) override the image name and the mirror. Needs root.
set -euo pipefail

image=${EW_BASE_IMAGE:-exitwatch-base:bookworm}
mirror=${EW_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
force=0
case ${1:-} in
--force) force=1 ;;
'') ;;
*)
	echo "usage: $0 [--force]" >&2
	exit 2
	;;
esac

if [ "$force" = 0 ] && docker image inspect "$image" >/dev/null 2>&1; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "exitwatch: building $image needs root (debootstrap)" >&2
	exit 1
fi
if ! command -v debootstrap >/dev/null 2>&1; then
	echo "exitwatch: installing debootstrap" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

root=$(mktemp -d /var/tmp/exitwatch-base.XXXXXX)
# debootstrap leaves bind mounts (proc, sys) behind when it fails half-way: unmount before
# removing, or rm would walk into the host's /proc.
cleanup() {
	for m in proc sys dev/pts dev; do
		mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"
	done
	rm -rf --one-file-system "$root"
	rm -f "$root.log"
}
trap cleanup EXIT

echo "exitwatch: debootstrap $suite from $mirror (a minute or two)" >&2
debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$root.log" 2>&1 || {
	tail -n 20 "$root.log" >&2
	exit 1
}

# Security and point-release updates too, so images built on this base get fixed libraries.
cat >"$root"/etc/apt/sources.list <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb ${mirror%/debian}/debian-security $suite-security main
EOF
# What Debian's own container images do: no documentation, manual pages or translations in
# packages installed later, and no package cache left in a layer.
cat >"$root"/etc/dpkg/dpkg.cfg.d/01-exitwatch-nodoc <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
cat >"$root"/etc/apt/apt.conf.d/01-exitwatch-clean <<'EOF'
APT::Install-Recommends "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
find "$root"/usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete
find "$root"/usr/share/doc -mindepth 1 -type d -empty -delete
rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
	"$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/log/*.log \
	"$root"/var/log/apt/* "$root"/tmp/* "$root"/var/tmp/*
: >"$root"/etc/machine-id

version=$(cat "$root"/etc/debian_version)
tar --numeric-owner --xattrs -C "$root" -c . | docker import \
	--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	--change 'ENV LANG=C.UTF-8' \
	--change 'CMD ["/bin/bash"]' \
	--change 'LABEL org.opencontainers.image.title="exitwatch-base"' \
	--change "LABEL org.opencontainers.image.description=\"Debian $version minbase (debootstrap from $mirror)\"" \
	--change "LABEL org.opencontainers.image.version=\"$version\"" \
	- "$image" >/dev/null
echo "built $image (Debian $version, $(docker image inspect -f '{{.Size}}' "$image" |
	awk '{ printf "%.0f MB", $1 / 1e6 }'))"
