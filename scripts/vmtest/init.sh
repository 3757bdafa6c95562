#!/bin/sh
# /init of the vmtest guest (dash, PID 1; busybox for the tools). scripts/vmtest/run.sh packs it with busybox,
# build-vm's binaries and their libraries into an initramfs; /ew/job (a second, per-boot cpio)
# says what to run. Everything goes to the serial console, and the host reads these markers:
#   EW-BOOT <release>            /init is running (the host's boot-timeout and KVM probe)
#   EW-LOAD OK|FAIL ...          the default configuration loaded, or not
#   EW-FEATURES {...}            the agent record's "features"
#   EW-SMOKE PASS|FAIL ...       default config: start, exit, finding records
#   EW-CRUN PASS|FAIL ...        an OCI bundle run with crun, named as a kubelet's container
#   EW-RUNC PASS|FAIL ...        the same with runc
#   EW-SUSPEND PASS|FAIL ...     record times and uptimes across a suspend (S3) of the guest
#   EW-CLOCKSTEP PASS|FAIL ...   record times and rule windows across steps of the wall clock
#   EW-CLOCKSTATE PASS|FAIL ...  the state file across a step of the wall clock and a restart
#   EW-RESULT <test> PASS|FAIL   one line per test binary
#   EW-CMD-RC <n>                the exit status of --shell-cmd
#   EW-DONE                      /init finished; a log without it did not finish
# It never panics the kernel on purpose: run.sh judges the run from the markers and scans the
# console for kernel warnings, and poweroff -f ends QEMU (-no-reboot).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin:/ew/build
export HOME=/root TERM=dumb

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
# What udev would make: test_stderr's helper writes through /dev/stderr.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
# Pure cgroup v2, as on GKE's and Debian 12's nodes: exitwatch and the harness find it at
# /sys/fs/cgroup through mountinfo.
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t bpf bpf /sys/fs/bpf
# test_faults' sinks and the metrics endpoint talk over 127.0.0.1.
ip link set lo up
hostname vmtest
printf "\nEW-BOOT %s\n" "$(uname -r)"

# Make the controllers usable in child cgroups, as a container host's systemd does.
# shellcheck disable=SC2013 # one line, of words
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
	echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
done

# shellcheck source=/dev/null # written by run.sh per boot
. /ew/job
export CI=true BUILD=/ew/build
export EXITWATCH=/ew/build/exitwatch EW_WORKLOAD=/ew/build/tests/helpers/workload
export EW_RECORD_LOG=/tmp/test-records.ndjson
# test_entrant's exec-entrant loop across 6 agent starts, not the host's 20: an agent start under
# emulation takes seconds, and 6 already prove the pid-namespace rule on this kernel.
export EW_ENTRANT_RUNS=6
# test_trace's storm with 2,000 exec'ing children, not the host's 10,000: the guests run side by
# side under emulation (run.sh), where 10,000 execs starved the storm past its wait, and 2,000
# already prove that the kernel side counts every child and drops nothing on this kernel.
export EW_STORM_CHILDREN=2000
# The guests are pure cgroup v2, as GKE's nodes: test_oom's memory.oom.group test, which the
# hybrid development VM cannot run (its memory controller is on v1), must run here.
export EW_NEED_MEMCG_V2=1

finish() {
	# WARN() prints below the console's loglevel (quiet): the host scans this copy for it.
	echo "EW-DMESG-BEGIN"
	dmesg
	echo "EW-DMESG-END"
	echo "EW-DONE"
	sync
	poweroff -f
	sleep 10
}

if [ "$EW_MODE" = cmd ]; then
	echo "EW-CMD-BEGIN"
	sh /ew/cmd 2>&1
	echo "EW-CMD-RC $?"
	finish
fi

# dump_agent: what the failed case's agent wrote ($out, $err), between markers on the console.
dump_agent() {
	echo "EW-STDOUT-BEGIN"
	cat "$out"
	echo "EW-STDOUT-END"
	echo "EW-STDERR-BEGIN"
	cat "$err"
	echo "EW-STDERR-END"
}

# start_agent ARGS: exitwatch in the background ($pid), its records in $out and stderr in $err,
# once its first agent record says it runs (60 s at most).
start_agent() {
	"$EXITWATCH" "$@" >"$out" 2>"$err" &
	pid=$!
	i=0
	while [ $i -lt 600 ] && ! grep -q '"event":"agent"' "$out" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
}

# 1. The default configuration: exitwatch with no option, as a user starts it. The first
# agent record says it loaded; without one, the verbose log (libbpf's verifier output) is what
# a BPF engineer needs, so it goes to the console between markers.
smoke() {
	out=/tmp/smoke.out err=/tmp/smoke.err
	"$EXITWATCH" >"$out" 2>"$err" &
	pid=$!
	i=0
	while [ $i -lt 600 ] && ! grep -q '"event":"agent"' "$out" 2>/dev/null; do
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	if ! grep -q '"event":"agent"' "$out"; then
		kill -9 $pid 2>/dev/null
		wait $pid
		rc=$?
		reason=$(grep -m1 -iE 'error|fail|denied|invalid' "$err" |
			sed -e 's/^exitwatch: error: //' -e 's/; run with --verbose.*//' | cut -c1-200)
		echo "EW-LOAD FAIL exit $rc: ${reason:-no agent record in 60 s}"
		echo "EW-STDERR-BEGIN"
		cat "$err"
		echo "EW-STDERR-END"
		# The whole verifier log of the program the kernel rejected: exitwatch --verbose cuts
		# long ones, and the BPF engineer needs all of it.
		prog=$(sed -n 's/.*rejected BPF program \([a-z_0-9]*\).*/\1/p' "$err" | head -1)
		if [ -n "$prog" ] && [ -f /ew/build/obj/exitwatch.bpf.o ]; then
			echo "EW-VERIFIER-BEGIN $prog"
			ew-verifier-log /ew/build/obj/exitwatch.bpf.o "$prog" 2>&1
			echo "EW-VERIFIER-END"
		fi
		echo "EW-SMOKE FAIL default configuration did not load"
		return 1
	fi
	echo "EW-LOAD OK"
	echo "EW-FEATURES $(grep -m1 '"event":"agent"' "$out" | jq -c '.agent.features // .features')"
	# 2. Five runs of one fake container: a cgroup the runc way (the child moves itself in,
	# its parent stays outside) whose main process exits 3. That is more than 3 exits with code
	# 3 in 5 minutes, so exit_code_burst fires on the fourth.
	cg=/sys/fs/cgroup/ewsmoke/app
	mkdir -p $cg
	for _ in 1 2 3 4 5; do
		sh -c "echo \$\$ >$cg/cgroup.procs && exec $EW_WORKLOAD exit 3" 2>/dev/null
		sleep 0.3
	done
	i=0
	while [ $i -lt 100 ]; do
		[ "$(grep -c '"event":"container_exit"' "$out")" -ge 5 ] &&
			grep -q '"event":"finding"' "$out" && break
		sleep 0.1
		i=$((i + 1))
	done
	# Readiness: a container whose main listens on TCP is ready (tp_btf/inet_sock_set_state).
	web=/sys/fs/cgroup/ewsmoke/web
	mkdir -p $web
	sh -c "echo \$\$ >$web/cgroup.procs && exec $EW_WORKLOAD listen 100 3000" 2>/dev/null &
	i=0
	while [ $i -lt 100 ] && ! grep -q '"event":"container_ready".*"/ewsmoke/web"' "$out"; do
		sleep 0.1
		i=$((i + 1))
	done
	wait $!
	ready=$(grep -c '"event":"container_ready".*"/ewsmoke/web"' "$out")
	kill -TERM $pid
	wait $pid
	rc=$?
	starts=$(grep -c '"event":"container_start"' "$out")
	exits=$(grep '"event":"container_exit"' "$out" | grep -c '"/ewsmoke/app"')
	codes=$(grep '"event":"container_exit"' "$out" | grep '"/ewsmoke/app"' | jq -r '.exit.code' |
		sort -u | tr '\n' ' ')
	findings=$(grep '"event":"finding"' "$out" | jq -r '.rule' | sort -u | tr '\n' ' ')
	rmdir $cg $web /sys/fs/cgroup/ewsmoke 2>/dev/null
	if [ "$exits" -ge 5 ] && [ "$codes" = "3 " ] && [ -n "$findings" ] && [ "$ready" = 1 ] &&
		[ $rc = 0 ]; then
		echo "EW-SMOKE PASS starts=$starts exits=$exits ready=$ready findings=${findings% }"
		return 0
	fi
	echo "EW-SMOKE FAIL starts=$starts exits=$exits codes=$codes ready=$ready findings=$findings exit=$rc"
	dump_agent
	return 1
}
smoke

# kubepods_cgroup LAYOUT UID ID: a burstable pod's container's cgroup, as the kubelet lays it out.
kubepods_cgroup() {
	if [ "$1" = systemd ]; then
		echo "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$(echo "$2" |
			tr - _).slice/cri-containerd-$3.scope"
	else
		echo "/kubepods/burstable/pod$2/$3"
	fi
}

# 2b. The OCI runtimes, crun (which the development VM cannot run: it refuses hybrid cgroups)
# and runc (GKE's containerd runs it): for each, five attempts of one pod's container, each a
# new container id, as a kubelet's restarts are, with the bundle where containerd keeps it (its
# config.json has the CRI annotations) and a kubepods cgroup. Every start must be the workload's
# (none of the runtime's own processes taken for a main: crun's init keeps crun's name or a
# memfd's, runc's is "runc:[2:INIT]"), every exit named, one identity k8s:<uid>/backend across
# the five ids, and crash_loop then exit_code_burst must fire. Then a sixth attempt whose command
# is not in the image: the runtime's init cannot exec it, and its one record is a start_failed
# exit of the same identity, with the init's name. Each runtime has its own agent, pod and ids,
# and its own layout of the kubelet's cgroups: crun the cgroupfs driver's
# (kubepods/burstable/pod<uid>/<id>), runc the systemd driver's, as on GKE's nodes
# (kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid, '-' as '_'>.slice/
# cri-containerd-<id>.scope). No systemd runs in the guest: runc's cgroupfs driver makes the
# directories under those names, and the kernel and exitwatch see only the names.
# oci_case RUNTIME UID ID LAYOUT INIT_JQ: the container ids are ID (a hex digit) and 63 more;
# LAYOUT is cgroupfs or systemd; INIT_JQ is a jq test of .process.comm that names RUNTIME's init.
oci_case() {
	rt=$1 uid=$2 idp=$3 layout=$4 init_jq=$5
	command -v $rt >/dev/null || return 0
	out=/tmp/$rt.out err=/tmp/$rt.err marker=$(echo $rt | tr a-z A-Z)
	tasks=/run/containerd/io.containerd.runtime.v2.task/k8s.io
	start_agent --no-scan
	rcs=
	for n in 0 1 2 3 4; do
		id=$(printf '%s%063d' $idp $n)
		b=$tasks/$id
		mkdir -p $b/rootfs/bin
		cp /bin/busybox $b/rootfs/bin/busybox
		cp "$EW_WORKLOAD" $b/rootfs/bin/workload
		(cd $b && $rt spec)
		jq --arg cg "$(kubepods_cgroup $layout $uid $id)" --arg n "$n" --arg rt "$rt" '
			.process.args = ["/bin/workload", "stderr", "3", "ModuleNotFoundError: \($rt)"] |
			.process.terminal = false | .root.readonly = true | .linux.cgroupsPath = $cg |
			.annotations = {
				"io.kubernetes.cri.container-type": "container",
				"io.kubernetes.cri.container-name": "backend",
				"io.kubernetes.cri.sandbox-name": "checkout-6d5f7c9b8-q4w2x",
				"io.kubernetes.cri.sandbox-namespace": "shop",
				"io.kubernetes.cri.sandbox-uid": "'$uid'",
				"io.kubernetes.cri.image-name": "exitwatch-test:latest",
				"io.kubernetes.container.restartCount": $n}' \
			$b/config.json >$b/config.new && mv $b/config.new $b/config.json
		# --no-pivot: the guest's / is the initramfs, where pivot_root(2) is refused (EINVAL).
		$rt run --no-pivot --bundle $b "$id" </dev/null >/dev/null 2>>"$err"
		rcs="$rcs$? "
		# Like containerd after an exit: the task and its bundle are deleted at once.
		$rt delete -f "$id" 2>/dev/null
		sleep 0.3
	done
	i=0
	while [ $i -lt 100 ] && ! grep -q '"rule":"exit_code_burst"' "$out"; do
		sleep 0.1
		i=$((i + 1))
	done
	id=$(printf '%s%063d' $idp 5)
	b=$tasks/$id
	cp -a $tasks/$(printf '%s%063d' $idp 4) $b
	jq --arg cg "$(kubepods_cgroup $layout $uid $id)" '.process.args = ["/no/such/app"] |
		.linux.cgroupsPath = $cg |
		.annotations["io.kubernetes.container.restartCount"] = "5"' \
		$b/config.json >$b/config.new && mv $b/config.new $b/config.json
	$rt run --no-pivot --bundle $b "$id" </dev/null >/dev/null 2>>"$err"
	nocmd_rc=$?
	i=0
	while [ $i -lt 100 ] && ! grep -q '"class":"start_failed"' "$out"; do
		sleep 0.1
		i=$((i + 1))
	done
	$rt delete -f "$id" 2>/dev/null
	kill -TERM $pid
	wait $pid
	exits=$(grep -c '"event":"container_exit"' "$out")
	failed=$(grep '"event":"container_exit"' "$out" | jq -c --arg u "$uid" 'select(
		.exit.class == "start_failed" and .container.identity == "k8s:\($u)/backend" and
		(.process.comm | '"$init_jq"'))' | wc -l)
	# Each exit's cgroup as the layout makes it: what the resolver parsed the ids from.
	cg=$(kubepods_cgroup $layout $uid @)
	good=$(grep '"event":"container_exit"' "$out" | jq -c --arg u "$uid" --arg pre "${cg%@*}" \
		--arg suf "${cg#*@}" 'select(
		.container.cgroup == $pre + .container.id + $suf and
		.container.identity == "k8s:\($u)/backend" and .container.name == "backend" and
		.pod.name == "checkout-6d5f7c9b8-q4w2x" and .exit.code == 3 and
		.process.comm == "workload")' | wc -l)
	starts=$(grep '"event":"container_start"' "$out" | jq -r '.process.comm' | sort | uniq -c |
		tr -s ' \n' ' ')
	# crash_loop speaks at the second failed start, exit_code_burst at the fourth exit (then
	# restart_rate and startup_failure_rate may follow).
	finding=$(grep '"event":"finding"' "$out" | jq -r '"\(.rule) \(.container.identity)"' |
		head -2 | tr '\n' ',')
	if [ "$rcs" = "3 3 3 3 3 " ] && [ "$exits" = 6 ] && [ "$good" = 5 ] && [ "$failed" = 1 ] &&
		[ "$starts" = " 5 workload " ] &&
		[ "$finding" = "crash_loop k8s:$uid/backend,exit_code_burst k8s:$uid/backend," ]; then
		echo "EW-$marker PASS $($rt --version | head -1), the $layout driver's cgroups: 5 runs, 5 named exits (k8s:<uid>/backend), starts:$starts, finding $finding; a missing command ($rt $nocmd_rc): $(grep '"class":"start_failed"' "$out" | jq -r .message)"
		return 0
	fi
	echo "EW-$marker FAIL $rt exit codes: $rcs exits=$exits named=$good starts:$starts finding: $finding; a missing command ($rt $nocmd_rc): $failed start_failed"
	dump_agent
	return 1
}
oci_case crun 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 c cgroupfs \
	'startswith("memfd:crun") or . == "crun" or test("^[0-9]+$")'
oci_case runc 1e2d3c4b-5a69-7887-96a5-b4c3d2e1f001 b systemd '. == "runc:[2:INIT]"'

# 2c. A suspend (S3, woken by the RTC alarm 8 s later), as a laptop's lid: CLOCK_MONOTONIC
# stands still while the machine sleeps, the wall clock and CLOCK_BOOTTIME do not. A container
# that exits after the resume must carry the wall time of its exit, and one that slept through
# it the uptime it had: records stamped on the monotonic clock are off by the sleep until the
# agent restarts (they were: 7.4 s of 8 behind).
suspend_case() {
	out=/tmp/suspend.out err=/tmp/suspend.err cg=/sys/fs/cgroup/ewsuspend
	if ! grep -qw mem /sys/power/state 2>/dev/null || [ ! -e /sys/class/rtc/rtc0/wakealarm ]; then
		echo "EW-SUSPEND FAIL no S3 (/sys/power/state: $(cat /sys/power/state 2>&1)) or no RTC alarm"
		return 1
	fi
	start_agent --no-scan
	mkdir -p $cg/before $cg/after
	sh -c "echo \$\$ >$cg/before/cgroup.procs && exec $EW_WORKLOAD pause" 2>/dev/null &
	sleeper=$!
	sleep 1
	echo 0 >/sys/class/rtc/rtc0/wakealarm
	echo +8 >/sys/class/rtc/rtc0/wakealarm
	b0=$(cut -d' ' -f1 /proc/uptime)
	echo mem >/sys/power/state
	slept=$(awk -v a="$b0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.1f", b - a }')
	sleep 1
	before=$(date +%s)
	sh -c "echo \$\$ >$cg/after/cgroup.procs && exec $EW_WORKLOAD exit 3" 2>/dev/null
	after=$(date +%s)
	kill $sleeper
	wait $sleeper 2>/dev/null
	i=0
	while [ $i -lt 100 ] && [ "$(grep -c '"event":"container_exit"' "$out")" -lt 2 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -TERM $pid
	wait $pid
	# The exit's time in whole seconds, and the sleeper's uptime (it lived 1 + slept + 1 s).
	t=$(grep '"event":"container_exit"' "$out" | grep '"/ewsuspend/after"' |
		jq -r '.time | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601')
	up=$(grep '"event":"container_exit"' "$out" | grep '"/ewsuspend/before"' | jq -r '.uptime_s')
	rmdir $cg/before $cg/after $cg 2>/dev/null
	if [ -n "$t" ] && [ "$t" -ge $((before - 1)) ] && [ "$t" -le $((after + 1)) ] &&
		awk -v u="$up" -v s="$slept" 'BEGIN { exit !(u != "" && u >= s + 1.5 && u <= s + 5) }'; then
		echo "EW-SUSPEND PASS slept ${slept} s: exit at $t (wall $before-$after), uptime ${up} s across it"
		return 0
	fi
	echo "EW-SUSPEND FAIL slept ${slept} s: exit time ${t:-none} (wall $before-$after), uptime of one that slept through it ${up:-none} s (want about $slept + 2)"
	dump_agent
	return 1
}
suspend_case

# 2d. Steps of the wall clock while the agent runs, as NTP or chrony makes after a boot with a
# wrong RTC, a VM restored from a snapshot, or `date -s`: an hour forward, then an hour back
# (here, in the guest, where no one else's clock moves). Every record's `time` must follow the
# wall clock after each step, and the rules' windows must measure elapsed time across them: a
# burst that straddles the forward step fires (2 exits before it, 3 after, within seconds: more
# than 3 in 20 s), and exits 8 s apart after the backward step never fire (at most 3 in any
# 20 s) however the step moved the clock (a naive refresh of the offset, tried, missed the first
# and fired the second: count 4, clamped to one instant). Before, times stayed on the wall clock
# of the agent's start (an hour behind after the first step); the agent says each step on
# stderr, once.
#
# A pod's container (named as the crun case's is, its bundle's config.json written here) has its
# stderr tail read from its CRI log, which the test writes as the kubelet would: a line stamped
# 30 s before the attempt started (what the tail's cut by time must leave out: an earlier
# attempt's), then the attempt's own. After each step exactly the attempt's own line must be the
# tail: the runtime stamps on the wall clock, and the cut must compare on it too (before, after
# the forward step the cut was an hour behind the lines and let the earlier line in). The first
# attempt exits just before the backward step: its record and its cut are on the wall clock as
# it was at its exit.
k8s_attempt() {
	id=$(printf 'd%063d' "$1")
	kcg=/sys/fs/cgroup/kubepods/burstable/pod$kuid/$id
	mkdir -p "$ktasks/$id" "$kcg" "$klogs"
	printf '{"ociVersion":"1.0.2","annotations":{"io.kubernetes.cri.container-type":"container","io.kubernetes.cri.container-name":"backend","io.kubernetes.cri.sandbox-name":"clock-7d9f6","io.kubernetes.cri.sandbox-namespace":"shop","io.kubernetes.cri.sandbox-uid":"%s","io.kubernetes.cri.image-name":"exitwatch-test:latest","io.kubernetes.container.restartCount":"%s"}}\n' \
		"$kuid" "$1" >"$ktasks/$id/config.json"
	echo "$(date -u -d "@$(($(date +%s) - 30))" +%Y-%m-%dT%H:%M:%S.000000000Z) stderr F earlier attempt" \
		>"$klogs/$1.log"
	# Busybox's date has no %N: the attempt's line is stamped at the next second.
	sh -c "echo \$\$ >$kcg/cgroup.procs && echo \"\$(date -u -d @\$((\$(date +%s) + 1)) +%Y-%m-%dT%H:%M:%S.000000000Z) stderr F ModuleNotFoundError: $2\" >>$klogs/$1.log && exec $EW_WORKLOAD exit 3" 2>/dev/null
}

clockstep_case() {
	out=/tmp/clock.out err=/tmp/clock.err cg=/sys/fs/cgroup/ewclock
	kuid=5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b
	ktasks=/run/containerd/io.containerd.runtime.v2.task/k8s.io
	klogs=/var/log/pods/shop_clock-7d9f6_$kuid/backend
	start_agent --no-scan --rule exit_code_burst.window=20s --record /tmp/clock.rec
	mkdir -p $cg/fwd $cg/back
	sh -c "echo \$\$ >$cg/fwd/cgroup.procs && exec $EW_WORKLOAD exit 3" 2>/dev/null
	sleep 1
	sh -c "echo \$\$ >$cg/fwd/cgroup.procs && exec $EW_WORKLOAD exit 3" 2>/dev/null
	sleep 1
	date -s "@$(($(date +%s) + 3600))" >/dev/null
	sleep 1
	f0=$(date +%s)
	for _ in 1 2 3; do
		sh -c "echo \$\$ >$cg/fwd/cgroup.procs && exec $EW_WORKLOAD exit 3" 2>/dev/null
		sleep 1
	done
	f1=$(date +%s)
	k8s_attempt 0 forward
	date -s "@$(($(date +%s) - 3600))" >/dev/null
	sleep 1
	k8s_attempt 1 back
	sleep 1
	b0=$(date +%s)
	for n in 1 2 3 4; do
		[ $n = 1 ] || sleep 8
		sh -c "echo \$\$ >$cg/back/cgroup.procs && exec $EW_WORKLOAD exit 3" 2>/dev/null
	done
	b1=$(date +%s)
	i=0
	while [ $i -lt 100 ] && [ "$(grep -c '"event":"container_exit"' "$out")" -lt 11 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep 1
	kill -TERM $pid
	wait $pid
	# The exits after each step, in whole seconds, each within its stretch of the wall clock.
	fwd=$(grep '"event":"container_exit"' "$out" | grep '"/ewclock/fwd"' | tail -3 |
		jq -r '.time | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601' | tr '\n' ' ')
	back=$(grep '"event":"container_exit"' "$out" | grep '"/ewclock/back"' |
		jq -r '.time | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601' | tr '\n' ' ')
	bad=0
	for t in $fwd; do
		[ "$t" -ge $((f0 - 1)) ] && [ "$t" -le $((f1 + 1)) ] || bad=1
	done
	for t in $back; do
		[ "$t" -ge $((b0 - 1)) ] && [ "$t" -le $((b1 + 1)) ] || bad=1
	done
	ffind=$(grep '"event":"finding"' "$out" | grep '"/ewclock/fwd"' | jq -r 'select(.rule ==
		"exit_code_burst") | .time | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601')
	bfind=$(grep '"event":"finding"' "$out" | grep '"/ewclock/back"' |
		jq -r 'select(.rule == "exit_code_burst") | .count' | tr '\n' ' ')
	said=$(grep -c 'wall clock stepped' "$err")
	# Its replay shows every time as the live records did: the recording holds the steps.
	# The records of containers and findings, [event, time, first_time] each, one a line.
	times='select(.event != "agent") | [.event, .time, .first_time] | @json'
	live_times=$(jq -r "$times" "$out")
	replay_times=$("$EXITWATCH" replay --config /dev/null --rule exit_code_burst.window=20s \
		/tmp/clock.rec 2>/dev/null | jq -r "$times")
	replayed=no
	[ -n "$live_times" ] && [ "$live_times" = "$replay_times" ] && replayed=yes
	tails=$(grep '"event":"container_exit"' "$out" | grep "\"k8s:$kuid/backend\"" |
		jq -c '.stderr_tail' | tr '\n' ' ')
	rmdir $cg/fwd $cg/back $cg /sys/fs/cgroup/kubepods/burstable/pod$kuid/* \
		/sys/fs/cgroup/kubepods/burstable/pod$kuid 2>/dev/null
	if [ $bad = 0 ] && [ "$(echo $fwd | wc -w)" = 3 ] && [ "$(echo $back | wc -w)" = 4 ] &&
		[ -n "$ffind" ] && [ "$ffind" -ge $((f0 - 1)) ] && [ "$ffind" -le $((f1 + 1)) ] &&
		[ -z "$bfind" ] && [ "$said" = 2 ] && [ $replayed = yes ] &&
		[ "$tails" = '"ModuleNotFoundError: forward\n" "ModuleNotFoundError: back\n" ' ]; then
		# printf: dash's echo would turn the tails' \n into line breaks.
		printf '%s\n' "EW-CLOCKSTEP PASS +1h: exits at ${fwd}(wall $f0-$f1), exit_code_burst at $ffind; -1h: exits at ${back}(wall $b0-$b1), no exit_code_burst; 2 steps said; its replay's times the live ones ($(echo "$live_times" | wc -l) records); CRI log tails cut on the wall clock: $tails"
		return 0
	fi
	printf '%s\n' "EW-CLOCKSTEP FAIL +1h: exits at ${fwd}(wall $f0-$f1), exit_code_burst at ${ffind:-none}; -1h: exits at ${back}(wall $b0-$b1), exit_code_burst count ${bfind:-none} (want none); steps said on stderr: $said (want 2); replay's times the live ones: $replayed; CRI log tails after each step: ${tails:-none} (want each attempt's own line only)"
	dump_agent
	if [ $replayed = no ]; then
		echo "EW-REPLAY-TIMES-BEGIN"
		echo "$live_times" >/tmp/clock.live
		echo "$replay_times" >/tmp/clock.replay
		diff /tmp/clock.live /tmp/clock.replay || true
		echo "EW-REPLAY-TIMES-END"
	fi
	return 1
}
clockstep_case

# 2e. The state file across a step and a restart: a container exits 3 twice, the clock steps an
# hour forward, it exits once more, the agent stops (its last checkpoint) and a new one starts
# with the same state file, and the container exits twice more: 5 exits in well under the
# window (2m; an agent start under emulation takes seconds), so the new agent must fire
# exit_code_burst. The new agent's time starts on the wall clock as it is: the file must hold
# the windows there. Before, the file kept the old agent's time, an hour behind, and the new
# agent took its exits for an hour old: no finding. The clock is stepped back at the end.
clockstate_case() {
	out=/tmp/cstate1.out err=/tmp/cstate1.err cg=/sys/fs/cgroup/ewcstate st=/tmp/cstate.json
	rm -f $st
	mkdir -p $cg
	start_agent --no-scan --state-file $st --rule exit_code_burst.window=2m
	for n in 1 2 3; do
		[ $n != 3 ] || date -s "@$(($(date +%s) + 3600))" >/dev/null
		sh -c "echo \$\$ >$cg/cgroup.procs && exec $EW_WORKLOAD exit 3" 2>/dev/null
		sleep 1
	done
	kill -TERM $pid
	wait $pid
	first=$(grep -c '"event":"container_exit"' "$out")
	err1=$err out=/tmp/cstate2.out err=/tmp/cstate2.err
	start_agent --no-scan --state-file $st --rule exit_code_burst.window=2m
	for _ in 1 2; do
		sh -c "echo \$\$ >$cg/cgroup.procs && exec $EW_WORKLOAD exit 3" 2>/dev/null
		sleep 1
	done
	i=0
	while [ $i -lt 50 ] && ! grep -q '"rule":"exit_code_burst"' "$out"; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -TERM $pid
	wait $pid
	date -s "@$(($(date +%s) - 3600))" >/dev/null
	rmdir $cg 2>/dev/null
	burst=$(grep '"event":"finding"' "$out" | jq -r 'select(.rule == "exit_code_burst") |
		"count \(.count) from \(.first_time) to \(.last_time)"')
	if [ "$first" = 3 ] && [ -n "$burst" ] && ! grep -q 'state file' "$err"; then
		echo "EW-CLOCKSTATE PASS 3 exits, +1h, restart, 2 exits: exit_code_burst $burst"
		return 0
	fi
	echo "EW-CLOCKSTATE FAIL 3 exits (seen: $first), +1h, restart, 2 exits: exit_code_burst ${burst:-none} (want one); the new agent on the state file: $(grep 'state file' "$err" | head -1)"
	out=/tmp/cstate2.out
	dump_agent
	echo "EW-STDERR-FIRST-BEGIN"
	cat "$err1"
	echo "EW-STDERR-FIRST-END"
	return 1
}
clockstate_case

# 3. The integration tests, one binary at a time, each under a timeout so one hang costs that
# test and not the kernel's whole run.
cd /ew || finish
for t in $EW_TESTS; do
	echo "EW-TEST-BEGIN $t"
	start=$(cut -d' ' -f1 /proc/uptime)
	timeout "${EW_TEST_TIMEOUT:-450}" "/ew/build/tests/bpf/$t" 2>&1
	rc=$?
	end=$(cut -d' ' -f1 /proc/uptime)
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%d", b - a }')
	if [ $rc = 0 ]; then
		echo "EW-RESULT $t PASS ${secs}s"
	else
		echo "EW-RESULT $t FAIL exit $rc ${secs}s"
	fi
done
finish
