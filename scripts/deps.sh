#!/usr/bin/env bash
# Installs what exitwatch needs on Debian 12+ or Ubuntu 22.04+, and only what is missing.
#   scripts/deps.sh build   compiler, libbpf, bpftool, libraries (enough for `make`)
#   scripts/deps.sh test    build + cmocka, Docker, syslog-ng, Prometheus, jsonschema, QEMU
#                           (make vmtest: qemu-system-x86 holds qemu-system-x86_64), containerd
#                           and a CRI client's gRPC and protobuf (tests/cri), Podman, crun, ...
#   scripts/deps.sh bench   test + the peers: libbpf-tools, bpftrace
# Needs root (apt-get). Safe to run again: installed packages are skipped.
set -euo pipefail

what=${1:-build}
# llvm: llvm-strip, which drops the BPF object's DWARF before it is embedded. gcc brings libasan
# and libubsan (tests/e2e/sanitizers.sh), clang the BPF target; valgrind is for
# tests/e2e/valgrind.sh; clang-format and cppcheck are make check's; debian-archive-keyring
# verifies the Debian releases the kernel matrix and the CRI test's containerd versions come from
# (scripts/lib/debian-fetch.sh; Ubuntu does not install it by default). A test whose tool is
# missing fails under CI=true, so CI gets them all.
build_pkgs=(make gcc clang llvm pkg-config libbpf-dev libelf-dev zlib1g-dev libjson-c-dev
	libmicrohttpd-dev libcap-dev)
test_pkgs=(libcmocka-dev docker.io busybox-static syslog-ng-core prometheus debootstrap
	python3 python3-jsonschema python3-yaml locales libcap2-bin iproute2 procps util-linux
	valgrind libclang-rt-14-dev docker-compose jq curl qemu-system-x86 cpio
	containerd runc python3-grpcio python3-protobuf python3-websocket protobuf-compiler podman crun
	clang-format cppcheck debian-archive-keyring)
bench_pkgs=(libbpf-tools bpftrace)

pkgs=("${build_pkgs[@]}")
case $what in
build) ;;
test) pkgs+=("${test_pkgs[@]}") ;;
bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
*)
	echo "usage: $0 build|test|bench" >&2
	exit 2
	;;
esac

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# bpftool: its own package on Debian and newer Ubuntu, linux-tools on older Ubuntu.
if ! command -v bpftool >/dev/null 2>&1 && [ ! -x /usr/sbin/bpftool ]; then
	if apt-cache show bpftool >/dev/null 2>&1; then
		pkgs+=(bpftool)
	else
		pkgs+=(linux-tools-common "linux-tools-$(uname -r)")
	fi
fi

missing=()
for p in "${pkgs[@]}"; do
	installed "$p" || missing+=("$p")
done
# Tools the manifest test needs that a machine may already have from elsewhere (NodeSource's
# nodejs bundles npm; Google's kubectl package): Debian's are installed only when the command
# is missing, since its npm would conflict with NodeSource's nodejs.
if [ "$what" != build ]; then
	command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
	command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
fi
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "exitwatch: these packages are missing and installing them needs root: ${missing[*]}" >&2
		exit 1
	fi
	echo "exitwatch: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# A comma-decimal locale proves the JSON writer ignores LC_NUMERIC (checked on every run, not
# only when packages were missing).
if [ "$what" != build ] && [ "$(id -u)" = 0 ] && ! locale -a 2>/dev/null | grep -qi '^de_DE.utf8$'; then
	sed -i 's/^# *de_DE.UTF-8 UTF-8/de_DE.UTF-8 UTF-8/' /etc/locale.gen
	grep -q '^de_DE.UTF-8 UTF-8' /etc/locale.gen || echo 'de_DE.UTF-8 UTF-8' >>/etc/locale.gen
	locale-gen >/dev/null
fi
