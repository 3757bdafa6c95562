#!/usr/bin/env bash
# make vmtest: boots each kernel of the matrix in QEMU and runs exitwatch's BPF integration tests
# inside it, so a verifier rejection or a missing hook on a kernel we support shows up here
# rather than on a customer's node. The host's own kernel is `make test`'s.
#   scripts/vmtest/run.sh [--kernel NAME]...            the matrix (default: $KERNELS or all)
#   scripts/vmtest/run.sh --kernel 6.1 --shell-cmd CMD  boot one kernel, run CMD, print its output
# NAME: 5.10 (bullseye), 6.1 (bookworm), 6.12 (bookworm-backports); Debian's cloud kernels.
# Environment:
#   BUILD=DIR             the build tree whose binaries run in the guest (default build)
#   KERNELS="6.1 6.12"    the kernels, when no --kernel is given
#   EW_VMTEST_CACHE=DIR   unpacked kernels (default /var/cache/exitwatch-vmtest; fetched if absent)
#   EW_VMTEST_TESTS="test_trace ..."  the test binaries to run (default: the kernel-facing ones,
#                         see below; "all": every one that needs no Docker)
#   EW_VMTEST_ACCEL=kvm|tcg  skip the KVM probe
#   EW_VMTEST_CPU=MODEL   the TCG CPU (default max,-cx16,-la57, see boot() below)
#   EW_VMTEST_JOBS=N      kernels booted at once (default: all under TCG, 1 under KVM)
#   EW_VMTEST_TIMEOUT=S   per-kernel limit in seconds (default 900)
# Logs: BUILD/vmtest/<release>.log (the whole serial console); the summary goes to stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=scripts/vmtest

BUILD=${BUILD:-build}
cache=${EW_VMTEST_CACHE:-/var/cache/exitwatch-vmtest}
# A hang's guard, not a speed target: under TCG a kernel of the matrix took 429 to 564 s on the
# 2-core runner in one afternoon (three guests side by side, runc's case included), so 600 s was
# within a slow hour of failing a passing kernel.
timeout_s=${EW_VMTEST_TIMEOUT:-900}
boot_timeout_s=30
out=$BUILD/vmtest
kernels=()
shell_cmd=
shell=0

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--kernel)
		kernels+=("${2:?--kernel needs a name}")
		shift 2
		;;
	--shell-cmd)
		shell_cmd=${2?--shell-cmd needs a command}
		shell=1
		shift 2
		;;
	-h | --help) usage ;;
	*) usage ;;
	esac
done
# shellcheck disable=SC2206 # KERNELS is a space-separated list on purpose
[ ${#kernels[@]} -gt 0 ] || kernels=(${KERNELS:-5.10 6.1 6.12})
if [ $shell = 1 ] && [ ${#kernels[@]} != 1 ]; then
	echo "vmtest: --shell-cmd boots one kernel: give exactly one --kernel" >&2
	exit 2
fi
if [ "$(id -u)" != 0 ] && [ ! -w /dev/kvm ] && [ ! -d "$cache" ]; then
	echo "vmtest: needs root the first time (it fetches kernels into $cache)" >&2
	exit 1
fi
command -v qemu-system-x86_64 >/dev/null || {
	echo "vmtest: qemu-system-x86_64 is missing (scripts/deps.sh test installs qemu-system-x86)" >&2
	exit 1
}

for k in "${kernels[@]}"; do
	[ -s "$cache/$k/vmlinuz" ] || "$here/fetch-kernels.sh" "$cache" "${kernels[@]}"
done

# Which test binaries run in the guest. Under TCG (no usable KVM here) a guest runs the suite
# many times slower than the host, and every test binary that exists took ~9 minutes per kernel
# (measured on the 2-core runner), so by default only those whose subject is the kernel run:
# the hooks (trace, threads, oom, move, stderr, start_failed), the ring buffer's wakeups
# (loader), what BPF captures of hostile names, the start-up checks of BTF and capabilities, and test_entrant (an
# agent restarted against containers entering a pid namespace, a race in the /proc scan: 6
# starts in the guest, init.sh's EW_ENTRANT_RUNS, against the host's 20). Left out by default,
# each covered by make test on the host: test_detect and test_faults (the detector's rules and
# the sinks' back-pressure: userspace, no kernel difference).
# test_docker never runs: it needs a Docker daemon and its image, which have no place in an
# initramfs. EW_VMTEST_TESTS=all runs every binary but test_docker.
default_tests="test_trace test_loader test_threads test_oom test_move test_stderr test_start_failed test_hostile test_faults_env test_entrant"
case ${EW_VMTEST_TESTS:-} in
"") want=$default_tests ;;
all)
	want=
	for t in "$BUILD"/tests/bpf/test_*; do
		[ "${t##*/}" = test_docker ] || want="$want ${t##*/}"
	done
	;;
*) want=$EW_VMTEST_TESTS ;;
esac
# A default test that is not built is left out with a note (a tree older than the test); one
# asked for by name must be there.
tests=
for t in $want; do
	if [ -x "$BUILD/tests/bpf/$t" ]; then
		tests="$tests${tests:+ }$t"
	elif [ -z "${EW_VMTEST_TESTS:-}" ]; then
		echo "vmtest: $BUILD/tests/bpf/$t is not built; left out" >&2
	else
		echo "vmtest: $BUILD/tests/bpf/$t is not built (make BUILD=$BUILD test-build)" >&2
		exit 1
	fi
done
for f in "$BUILD/exitwatch" "$BUILD/tests/helpers/workload"; do
	[ -x "$f" ] || {
		echo "vmtest: $f is not built (make BUILD=$BUILD test-build)" >&2
		exit 1
	}
done

# ---- the initramfs: one base archive per run, plus a tiny per-boot one with /ew/job --------
# The kernel unpacks concatenated newc archives in order, so the job file needs no rebuild of
# the ~30 MB base. Uncompressed: TCG decompresses gzip slower than it reads the bytes.
mkdir -p "$out"
# Staging and archives live in a directory of this run's own, so a --shell-cmd started while the
# matrix runs (or another --shell-cmd) cannot swap the archive under it. Logs stay in $out.
work=$(mktemp -d "$out/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
bins=()
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,root,etc,ew/build/tests/bpf,ew/build/tests/helpers}
cp /bin/busybox "$root/bin/busybox"
! ldd /bin/busybox >/dev/null 2>&1 || {
	echo "vmtest: /bin/busybox is not static (apt-get install busybox-static)" >&2
	exit 1
}
# dash is /bin/sh, as on the host: Debian's busybox sh runs its own applets before PATH, so the
# tests' `setpriv ...` and `unshare ...` would get busybox's, which lack options they use.
cp /bin/dash "$root/bin/sh"
bins+=("$root/bin/sh")
for a in $("$root/bin/busybox" --list); do
	[ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
done
cp "$here/init.sh" "$root/init"
chmod 755 "$root/init"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
cp "$BUILD/exitwatch" "$root/ew/build/"
cp "$BUILD"/tests/helpers/* "$root/ew/build/tests/helpers/"
bins+=("$root/ew/build/exitwatch")
for t in $tests; do
	cp "$BUILD/tests/bpf/$t" "$root/ew/build/tests/bpf/"
	bins+=("$root/ew/build/tests/bpf/$t")
done
# jq: the smoke test reads records with it, as test_hostile does. bpftool and the BPF object:
# `bpftool -d prog loadall` prints a program's whole verifier log, for --shell-cmd debugging.
cp "$(command -v jq)" "$root/usr/bin/jq"
bins+=("$root/usr/bin/jq")
# util-linux's setpriv and unshare: test_faults_env drops capabilities and unmounts BTF with
# options busybox's applets lack. They replace busybox's links of the same name.
for tool in setpriv unshare; do
	rm -f "$root/bin/$tool"
	cp "$(command -v $tool)" "$root/usr/bin/$tool"
	bins+=("$root/usr/bin/$tool")
done
# crun and runc: /init runs an OCI bundle with each (crun refuses the development VM's hybrid
# cgroups; a pure cgroup v2 guest is where it can run). runc is what GKE's containerd runs, and
# the development VM's Docker; its bootstrap (a sealed copy of itself, "runc:[2:INIT]") is not
# crun's, and the exec and exit programs tell the two apart. Their shared libraries come with
# them, below.
for rt in crun runc; do
	if command -v $rt >/dev/null; then
		cp "$(command -v $rt)" "$root/usr/bin/$rt"
		bins+=("$root/usr/bin/$rt")
	fi
done
bpftool=$(command -v bpftool || echo /usr/sbin/bpftool)
if [ -x "$bpftool" ]; then
	cp "$bpftool" "$root/usr/sbin/bpftool"
	bins+=("$root/usr/sbin/bpftool")
fi
if [ -f "$BUILD/obj/exitwatch.bpf.o" ]; then
	mkdir -p "$root/ew/build/obj"
	cp "$BUILD/obj/exitwatch.bpf.o" "$root/ew/build/obj/"
fi
# ew-verifier-log: one program's whole verifier log (see verifier-log.c).
${CC:-cc} -O2 -Wall -Werror "$here/verifier-log.c" -lbpf -o "$root/usr/bin/ew-verifier-log"
bins+=("$root/usr/bin/ew-verifier-log")
# Python for test_hostile's second decoder: the interpreter and the standard library, without
# the parts no test imports (tests, GUI, installers), which keeps the archive ~15 MB smaller.
py=$(readlink -f /usr/bin/python3 2>/dev/null || true)
if [ -x "$py" ]; then
	pylib=/usr/lib/$(basename "$py")
	cp "$py" "$root/usr/bin/$(basename "$py")"
	ln -s "$(basename "$py")" "$root/usr/bin/python3"
	mkdir -p "$root$pylib"
	tar -C "$pylib" --exclude=./test --exclude=./idlelib --exclude=./tkinter --exclude=./lib2to3 \
		--exclude=./ensurepip --exclude='./config-*' --exclude=./turtledemo --exclude=./pydoc_data \
		--exclude=./site-packages --exclude=./dist-packages -cf - . | tar -C "$root$pylib" -xf -
	bins+=("$root/usr/bin/$(basename "$py")" "$root$pylib"/lib-dynload/*.so)
fi
# Each dynamic binary's libraries at the path ldd resolves them to, and the loader.
for b in "${bins[@]}"; do
	ldd "$b" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
(cd "$root" && find . -print0 | sort -z | cpio --null -o -H newc -R 0:0 --quiet) >"$work/base.cpio"

# ---- running one kernel ----------------------------------------------------------------------
# job_cpio FILE MODE: the per-boot archive holding /ew/job (and /ew/cmd for --shell-cmd).
job_cpio() {
	local d
	d=$(mktemp -d "$work/job.XXXXXX")
	mkdir -p "$d/ew"
	{
		echo "EW_MODE=$2"
		echo "EW_TESTS='$tests'"
	} >"$d/ew/job"
	[ "$2" != cmd ] || printf '%s\n' "$shell_cmd" >"$d/ew/cmd"
	(cd "$d" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) >"$1.job"
	cat "$work/base.cpio" "$1.job" >"$1"
	rm -rf "$d" "$1.job"
}

# boot NAME ACCEL LOG INITRD LIMIT: QEMU with the console in LOG, killed after LIMIT seconds.
# TCG's -cpu max without CX16: QEMU 7.2's TCG leaves garbage in EFLAGS after a gs-prefixed
# cmpxchg16b, which 6.12's SLUB runs on every allocation, and the guest double-faults within
# seconds (seen 2 of 4 boots with max, with or without la57 or a named model; 0 of 6 without
# cx16). SLUB falls back to its locked path. Without la57 too: 4-level page tables, as on most
# cloud hosts, and TCG's page walks are shorter (test_trace's 10,000-exec storm took 70 s
# instead of 76 s on one core; its test allows 120 s). One vCPU per guest, so that kernels run
# side by side on a 2-core runner.
boot() {
	local name=$1 accel=$2 log=$3 initrd=$4 limit=$5 a
	if [ "$accel" = kvm ]; then
		a=(-accel kvm -cpu host -smp 2)
	else
		# shellcheck disable=SC2054 # -cpu takes a comma-separated list
		a=(-accel tcg -cpu "${EW_VMTEST_CPU:-max,-cx16,-la57}" -smp 1)
	fi
	timeout -k 5 "$limit" qemu-system-x86_64 "${a[@]}" -m 1G -nographic -no-reboot \
		-kernel "$cache/$name/vmlinuz" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 quiet loglevel=4 rdinit=/init" \
		</dev/null >"$log" 2>&1
}

# The KVM probe: /dev/kvm exists here, yet a guest has been seen to hang in firmware, so KVM
# counts only if /init prints EW-BOOT within boot_timeout_s. The answer holds for the run.
accel=${EW_VMTEST_ACCEL:-}
if [ -z "$accel" ]; then
	accel=tcg
	if [ -w /dev/kvm ]; then
		saved=$shell_cmd
		shell_cmd=true
		job_cpio "$work/probe.cpio" cmd
		shell_cmd=$saved
		# In a subshell: when QEMU aborts, bash's "Aborted" report goes to /dev/null with it.
		(boot "${kernels[0]}" kvm "$out/kvm-probe.log" "$work/probe.cpio" $boot_timeout_s) \
			2>/dev/null || true
		if grep -q 'EW-BOOT' "$out/kvm-probe.log"; then accel=kvm; fi
		rm -f "$work/probe.cpio"
	fi
fi

if [ $shell = 1 ]; then
	k=${kernels[0]}
	# The console goes to the work directory first: two --shell-cmd runs at once each read their
	# own, and the last to finish leaves its console as shell-<kernel>.log.
	log=$work/shell.log
	job_cpio "$work/shell.cpio" cmd
	rc=0
	boot "$k" "$accel" "$log" "$work/shell.cpio" "$timeout_s" || rc=$?
	rm -f "$work/shell.cpio"
	mv "$log" "$out/shell-$k.log"
	log=$out/shell-$k.log
	sed -n '/^EW-CMD-BEGIN/,/^EW-CMD-RC/p' "$log" | tr -d '\r' | sed -e '1d' -e '$d'
	cmd_rc=$(tr -d '\r' <"$log" | sed -n 's/^EW-CMD-RC //p')
	if [ -z "$cmd_rc" ]; then
		echo "vmtest: $k did not finish the command (qemu exit $rc, $accel); console: $log" >&2
		tail -30 "$log" >&2
		exit 1
	fi
	echo "vmtest: $k ($accel) exit $cmd_rc; console: $log" >&2
	exit "$cmd_rc"
fi

# ---- the matrix ------------------------------------------------------------------------------
# Under TCG every kernel at once: a guest mostly waits (its tests sleep for records, windows and
# deadlines), and three one-vCPU guests on the 2-core runner kept 1.3 cores busy. Two then one
# took 591 s (each guest 276 to 315 s); all three at once 301 s, every test passing, once
# test_trace's storm in the guests was cut to 2,000 children (init.sh: with 10,000, three at once
# had starved the storm past its 120 s wait). Under KVM one at a time is quick enough and keeps
# the tests' timing undisturbed.
if [ "$accel" = kvm ]; then jobs_dflt=1; else jobs_dflt=${#kernels[@]}; fi
jobs=${EW_VMTEST_JOBS:-$jobs_dflt}
# What the guest's console must never say. A test that makes the kernel warn fails the run even
# when its own assertions pass: that is a kernel bug exitwatch's BPF can trigger on a node.
bad_re='WARNING:|BUG:|Oops|Call Trace|general protection fault|Kernel panic|kernel panic'

# kernel_bad LOG: the console lines that fail a kernel. The OOM killer's report (test_oom
# provokes one on purpose) carries a "Call Trace:" of the allocating task, which is expected: it
# is skipped from "invoked oom-killer" to the kill. A WARNING, BUG or Oops inside it still counts.
kernel_bad() {
	awk -v re="$bad_re" '
		/invoked oom-killer/ { oom = 1 }
		/Killed process|oom_reaper:|Out of memory:|Memory cgroup out of memory/ { oom = 0 }
		$0 ~ re && !(oom && /Call Trace/) { print }' "$1"
}

# judge NAME LOG SECS: one summary line on stdout; returns 1 if the kernel failed.
judge() {
	local k=$1 log=$2 secs=$3 rel booted reasons=() ok=1 results npass ntotal failed feat
	rel=$(cat "$cache/$k/release")
	tr -d '\r' <"$log" >"$log.txt" && mv "$log.txt" "$log"
	grep -q 'EW-BOOT' "$log" && booted=1 || booted=0
	if [ $booted = 0 ]; then
		reasons+=("did not boot to /init")
		ok=0
	elif ! grep -q '^EW-DONE' "$log"; then
		reasons+=("did not finish in ${timeout_s} s (EW_VMTEST_TIMEOUT) or the guest died")
		ok=0
	fi
	if grep -q '^EW-LOAD OK' "$log"; then
		reasons+=("default config loaded")
	elif [ $booted = 1 ]; then
		reasons+=("default config FAILED to load: $(sed -n 's/^EW-LOAD FAIL //p' "$log" | head -1)")
		ok=0
	fi
	# crun and runc are required when the host has them (CI installs both: scripts/deps.sh test).
	for rt in crun runc; do
		local m=EW-${rt^^}
		if grep -q "^$m PASS" "$log"; then
			reasons+=("$rt: $(sed -n "s/^$m PASS //p" "$log" | head -1)")
		elif command -v $rt >/dev/null && [ $booted = 1 ]; then
			reasons+=("$rt FAILED: $(sed -n "s/^$m FAIL //p" "$log" | head -1)")
			ok=0
		fi
	done
	if grep -q '^EW-SUSPEND PASS' "$log"; then
		reasons+=("suspend: $(sed -n 's/^EW-SUSPEND PASS //p' "$log" | head -1)")
	elif grep -q '^EW-LOAD OK' "$log"; then
		reasons+=("suspend FAILED: $(sed -n 's/^EW-SUSPEND FAIL //p' "$log" | head -1)")
		ok=0
	fi
	if grep -q '^EW-CLOCKSTEP PASS' "$log"; then
		reasons+=("clock steps: $(sed -n 's/^EW-CLOCKSTEP PASS //p' "$log" | head -1)")
	elif grep -q '^EW-LOAD OK' "$log"; then
		reasons+=("clock steps FAILED: $(sed -n 's/^EW-CLOCKSTEP FAIL //p' "$log" | head -1)")
		ok=0
	fi
	if grep -q '^EW-CLOCKSTATE PASS' "$log"; then
		reasons+=("state across a step: $(sed -n 's/^EW-CLOCKSTATE PASS //p' "$log" | head -1)")
	elif grep -q '^EW-LOAD OK' "$log"; then
		reasons+=("state across a step FAILED: $(sed -n 's/^EW-CLOCKSTATE FAIL //p' "$log" | head -1)")
		ok=0
	fi
	if grep -q '^EW-SMOKE PASS' "$log"; then
		reasons+=("smoke: $(sed -n 's/^EW-SMOKE PASS //p' "$log" | head -1)")
	elif grep -q '^EW-SMOKE FAIL' "$log" && grep -q '^EW-LOAD OK' "$log"; then
		reasons+=("smoke FAILED: $(sed -n 's/^EW-SMOKE FAIL //p' "$log" | head -1)")
		ok=0
	fi
	results=$(grep '^EW-RESULT ' "$log" || true)
	ntotal=$(wc -w <<<"$tests")
	npass=$(grep -c ' PASS' <<<"$results" || true)
	# Each failed binary with its failed cmocka tests: "test_trace(test_storm)".
	failed=$(awk '
		/^EW-TEST-BEGIN / { t = $2; sub_ = ""; n = 0 }
		/^\[  FAILED  \] test_/ && !seen[t, $4]++ { sub_ = sub_ (n++ ? "," : "") $4 }
		/^EW-RESULT / && $3 == "FAIL" {
			printf "%s%s%s", sep, $2, (sub_ != "" ? "(" sub_ ")" : ""); sep = " "
		}' "$log")
	if [ "$npass" = "$ntotal" ]; then
		reasons+=("$npass/$ntotal tests")
	else
		reasons+=("$npass/$ntotal tests${failed:+ (failed: $failed)}")
		ok=0
	fi
	if kernel_bad "$log" | grep -q .; then
		reasons+=("KERNEL WARNING: $(kernel_bad "$log" | head -1 | grep -oE "($bad_re).{0,70}")")
		ok=0
	else
		reasons+=("no kernel warning")
	fi
	feat=$(sed -n 's/^EW-FEATURES //p' "$log" | head -1)
	[ -z "$feat" ] || reasons+=("features: $feat")
	local IFS=';'
	if [ $ok = 1 ]; then
		printf 'vmtest %s: PASS (%s) %s s\n' "$rel" "${reasons[*]/#/ }" "$secs" | sed 's/( /(/'
		return 0
	fi
	printf 'vmtest %s: FAIL (%s) %s s\n' "$rel" "${reasons[*]/#/ }" "$secs" | sed 's/( /(/'
	return 1
}

# run_kernel NAME: boots it with the suite and leaves its summary line in $out/<name>.result
# and the console in $out/<release>.log.
run_kernel() {
	local k=$1 rel log t0 rc=0
	rel=$(cat "$cache/$k/release")
	log=$out/$rel.log
	job_cpio "$work/$k.cpio" suite
	t0=$(date +%s)
	boot "$k" "$accel" "$log" "$work/$k.cpio" "$timeout_s" || rc=$?
	rm -f "$work/$k.cpio"
	echo "qemu exit $rc" >>"$log"
	# A rejected program's whole verifier log, on its own for the BPF engineer.
	rm -f "$out/$rel.verifier.log"
	if grep -q '^EW-VERIFIER-BEGIN' "$log"; then
		tr -d '\r' <"$log" | sed -n '/^EW-VERIFIER-BEGIN/,/^EW-VERIFIER-END/p' >"$out/$rel.verifier.log"
	fi
	if judge "$k" "$log" $(($(date +%s) - t0)) >"$out/$k.result"; then
		echo 0 >"$out/$k.rc"
	else
		echo 1 >"$out/$k.rc"
	fi
}

echo "vmtest: ${kernels[*]} with $accel, $jobs at a time, tests: $tests" >&2
t_all=$(date +%s)
pids=()
for k in "${kernels[@]}"; do
	rm -f "$out/$k.result" "$out/$k.rc"
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n || true
	done
	run_kernel "$k" &
	pids+=($!)
done
wait || true

fail=0
for k in "${kernels[@]}"; do
	rel=$(cat "$cache/$k/release")
	if [ ! -s "$out/$k.result" ]; then
		echo "vmtest $rel: FAIL (the runner itself failed; see $out/$rel.log)"
		fail=1
		continue
	fi
	cat "$out/$k.result"
	if [ "$(cat "$out/$k.rc")" != 0 ]; then
		fail=1
		log=$out/$rel.log
		# The verifier's word and the test failures first: that is what the reader needs. A
		# subshell without pipefail: head closing a pipe early is not a failure here.
		(
			set +o pipefail
			echo "---- $rel: console log $log; its failing part:"
			if grep -q '^EW-LOAD FAIL' "$log"; then
				sed -n '/^EW-STDERR-BEGIN/,/^EW-STDERR-END/p' "$log" | sed '1d;$d' | tail -15
				[ ! -s "$out/$rel.verifier.log" ] ||
					echo "the whole verifier log: $out/$rel.verifier.log"
			fi
			grep -E '^\[  FAILED  \]|^\[  ERROR   \]|^EW-RESULT .* FAIL|^EW-[A-Z]+ FAIL' "$log" | head -20
			first=$(kernel_bad "$log" | head -1)
			[ -z "$first" ] || grep -m1 -B2 -A12 -F -- "$first" "$log"
			grep -q '^EW-DONE' "$log" || tail -25 "$log"
			echo "----"
		) >&2
	fi
done
echo "vmtest: the host's own kernel ($(uname -r)) is not in the matrix: make test covers it" \
	"on the host"
echo "vmtest: $((${#kernels[@]})) kernels in $(($(date +%s) - t_all)) s; logs in $out/"
exit $fail
