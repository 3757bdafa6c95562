#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The container image and the Compose demo, end to end with the real Docker daemon:
#   1. builds exitwatch-base:bookworm (scripts/base-image.sh, debootstrap: no registry), the
#      exitwatch image (deploy/docker/Dockerfile) and the demo app, and checks the image: its
#      version label and --version are the build argument, its entrypoint /usr/sbin/exitwatch;
#   2. starts deploy/docker/compose.yaml under a project name of its own: exitwatch with the
#      file's privileges and read-only mounts, next to the crash-looping `app` service;
#   3. waits for the CRITICAL exit_code_burst finding in `docker-compose logs exitwatch`: it must
#      name the app's container and quote ModuleNotFoundError; checks the agent container runs
#      with the capabilities, no_new_privs and seccomp filter the Compose file sets, and that
#      /healthz and /metrics answer;
#   4. ships the fix (DEMO_FIXED=1 docker-compose up -d app): the app listens (container_ready),
#      answers HTTP, and the finding's `resolved` record follows (demo.conf: 30 s without
#      an exit 3); the state file is in the volume;
#   5. docker-compose down -v.
# Docker before 23.0 cannot grant CAP_BPF/CAP_PERFMON: there the test sets
# EXITWATCH_LEGACY_CAP=SYS_ADMIN, as deploy/docker/compose.yaml documents; on a hybrid cgroup host
# it binds the unified hierarchy (EXITWATCH_CGROUP_ROOT). Needs root, a Docker daemon,
# docker-compose (or `docker compose`), BTF, tracefs and the Debian mirror for the images. A
# missing one skips the test, except under CI=true, where it fails it. Takes 2-3 minutes once
# the images are cached.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

FINDING_TIMEOUT_S=120
RESOLVE_TIMEOUT_S=150
VERSION=e2e-$(git -C "$root" describe --tags --always --dirty 2>/dev/null || echo unknown)
project=ew-e2e-deploy-$$

. tests/e2e/lib.sh
started=
fail() {
	echo "FAIL: $*" >&2
	if [ -n "$started" ]; then
		compose logs --no-color --tail 20 exitwatch 2>&1 | cut -c1-400 | sed 's/^/  /' >&2
		compose ps >&2 || true
	fi
	exit 1
}

[ "$(id -u)" = 0 ] || skip "needs root (Docker, debootstrap)"
[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
if ! command -v docker >/dev/null || ! docker info >/dev/null 2>&1; then
	skip "no Docker daemon (scripts/services.sh)"
fi
if command -v docker-compose >/dev/null; then
	compose_cmd=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
	compose_cmd=(docker compose)
else
	skip "neither docker-compose nor docker compose is installed"
fi
command -v curl >/dev/null || skip "curl is not installed"
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing ||
	skip "cannot mount tracefs on /sys/kernel/tracing"

# docker-compose 1.29 opens the seccomp profile relative to the current directory.
compose() { (cd "$root/deploy/docker" && "${compose_cmd[@]}" -p "$project" -f compose.yaml "$@"); }
tmp=$(mktemp -d /tmp/ew-e2e-deploy.XXXXXX)
cleanup() {
	if [ -n "$started" ]; then
		compose down -v --remove-orphans >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# Host-specific settings, as compose.yaml's comments tell a user to set them.
# Empty ports: any free one (the test finds them with `docker-compose port`).
export EXITWATCH_VERSION=$VERSION EXITWATCH_METRICS_PORT='' DEMO_APP_PORT='' DEMO_FIXED=0
engine=$(docker version -f '{{.Server.Version}}')
if [ "${engine%%.*}" -lt 23 ]; then
	export EXITWATCH_LEGACY_CAP=SYS_ADMIN
	echo "Docker $engine cannot grant CAP_BPF/CAP_PERFMON: EXITWATCH_LEGACY_CAP=SYS_ADMIN"
else
	unset EXITWATCH_LEGACY_CAP
fi
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] &&
	[ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
	export EXITWATCH_CGROUP_ROOT=/sys/fs/cgroup/unified
	echo "hybrid cgroup host: EXITWATCH_CGROUP_ROOT=$EXITWATCH_CGROUP_ROOT"
else
	unset EXITWATCH_CGROUP_ROOT
fi

# 1: the images.
t0=$SECONDS
scripts/base-image.sh || skip "cannot build exitwatch-base:bookworm (debootstrap from the Debian mirror)"
compose build >"$tmp/build.log" 2>&1 || {
	tail -n 30 "$tmp/build.log" >&2
	fail "docker-compose build"
}
image=exitwatch:$VERSION
label=$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}}' "$image")
[ "$label" = "$VERSION" ] || fail "$image: org.opencontainers.image.version is '$label', not $VERSION"
entry=$(docker image inspect -f '{{json .Config.Entrypoint}}' "$image")
[ "$entry" = '["/usr/sbin/exitwatch"]' ] || fail "$image: entrypoint $entry"
got=$(docker run --rm "$image" --version)
[ "$got" = "exitwatch $VERSION" ] || fail "$image --version says '$got'"
size() { docker image inspect -f '{{.Size}}' "$1" | awk '{ printf "%.1f MB", $1 / 1e6 }'; }
echo "images ($((SECONDS - t0)) s): exitwatch-base:bookworm $(size exitwatch-base:bookworm)," \
	"$image $(size "$image"), exitwatch-demo-backend:${EXITWATCH_VERSION:-compose} $(size "exitwatch-demo-backend:${EXITWATCH_VERSION:-compose}")"

# 2: up.
t0=$SECONDS
started=1
compose up -d >"$tmp/up.log" 2>&1 || {
	cat "$tmp/up.log" >&2
	fail "docker-compose up -d"
}
ew_id=$(compose ps -q exitwatch)
app_name=$(docker inspect -f '{{.Name}}' "$(compose ps -q app)")
app_name=${app_name#/}
echo "up: $project, app container $app_name"

# 3: the finding.
logs() { compose logs --no-color exitwatch 2>/dev/null | sed 's/^[^|]*| //'; }
end=$((SECONDS + FINDING_TIMEOUT_S))
until logs | grep '"event":"finding"' | grep '"rule":"exit_code_burst"' |
	grep -F "\"compose\":{\"project\":\"$project\",\"service\":\"app\"}" >"$tmp/finding"; do
	[ "$(docker inspect -f '{{.State.Running}}' "$ew_id")" = true ] || fail "exitwatch stopped"
	[ "$SECONDS" -lt "$end" ] || fail "no exit_code_burst finding for $app_name in $FINDING_TIMEOUT_S s"
	sleep 1
done
finding=$(head -n 1 "$tmp/finding")
echo "finding after $((SECONDS - t0)) s: $(echo "$finding" | grep -o '"message":"[^"]*"' | cut -c1-200)..."
python3 - "$finding" "$app_name" <<'PYEOF' || fail "the finding is not what the demo should give"
import json, sys
f, name = json.loads(sys.argv[1]), sys.argv[2]
assert f["severity"] == "CRITICAL", f["severity"]
assert f["container"]["name"] == name, f["container"]
assert f["container"]["runtime"] == "docker" and f["container"]["restart_policy"] == "always"
assert f["count"] == 4 and f["exit_codes"].get("3") == 4, (f["count"], f["exit_codes"])
assert f["last_exit"]["class"] == "config_error", f["last_exit"]
tail = "ModuleNotFoundError: No module named 'app.services.monitoring'"
assert tail in f["stderr_tail"] and tail in f["message"], f["stderr_tail"]
# Every exit of the app is its main process's code 3. Any other code (a clean exit after a few
# ms) means runc's own "runc init", which execs inside the new cgroup, was taken for the
# container's main process: a wrong record, so a failure.
if set(f["exit_codes"]) != {"3"}:
    sys.exit("FAIL: the finding's exit codes are %s, not only 3: runc's bootstrap was taken "
             "for a main process" % f["exit_codes"])
PYEOF
logs >"$tmp/logs"
grep '"event":"container_exit"' "$tmp/logs" | grep -F "\"name\":\"$app_name\"" |
	grep 'ModuleNotFoundError' >/dev/null || fail "no container_exit record quoting ModuleNotFoundError"
# The same for every container_exit record of the app so far, not only those the finding counts.
python3 - "$tmp/logs" "$app_name" <<'PYEOF' || fail "a container_exit record of $app_name is not its main process's"
import json, sys
n, bad = 0, []
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("event") != "container_exit" or r.get("container", {}).get("name") != sys.argv[2]:
        continue
    n += 1
    if r["exit"].get("code") != 3 or r["exit"].get("signal"):
        bad.append("exit %s signal %s, pid %s comm %r argv0 %r, uptime %ss" % (
            r["exit"].get("code"), r["exit"].get("signal"), r["process"].get("pid"),
            r["process"].get("comm"), r["process"].get("argv0"), r.get("uptime_s")))
if bad:
    sys.exit("FAIL: runc's bootstrap taken for a main process? container_exit records of %s "
             "that are not the app's exit 3:\n  %s" % (sys.argv[2], "\n  ".join(bad)))
print("exits: %d container_exit records of %s, each its main process's exit 3" % (n, sys.argv[2]))
PYEOF
echo "finding: CRITICAL, names $app_name, 4 exits with code 3, quotes ModuleNotFoundError"

pid=$(docker inspect -f '{{.State.Pid}}' "$ew_id")
want_eff=0000008000000000 # CAP_BPF, all exitwatch keeps after attaching
[ -n "${EXITWATCH_LEGACY_CAP:-}" ] && want_eff=0000000000200000 # CAP_SYS_ADMIN
eff=$(awk '$1 == "CapEff:" { print $2 }' "/proc/$pid/status")
bnd=$(awk '$1 == "CapBnd:" { print $2 }' "/proc/$pid/status")
if [ "$eff" != "$want_eff" ] || [ "$bnd" != "$want_eff" ]; then
	fail "the agent's CapEff/CapBnd are $eff/$bnd, not $want_eff"
fi
grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$pid/status" || fail "the agent runs without no_new_privs"
grep -q '^Seccomp:[[:space:]]*2' "/proc/$pid/status" || fail "the agent runs without a seccomp filter"
[ "$(docker inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$ew_id")" = true ] || fail "root file system is writable"
echo "agent: CapEff $eff, no_new_privs, seccomp filter, read-only root"
mport=$(compose port exitwatch 9090 | sed 's/.*://')
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/healthz")" = 200 ] ||
	fail "/healthz does not answer 200"
curl -s -o "$tmp/metrics" "http://127.0.0.1:$mport/metrics" || fail "/metrics does not answer"
grep -q '^exitwatch_findings_total{rule="exit_code_burst",severity="CRITICAL"} [1-9]' "$tmp/metrics" ||
	fail "/metrics does not count the CRITICAL finding"
echo "metrics: /healthz 200, exitwatch_findings_total{rule=\"exit_code_burst\",severity=\"CRITICAL\"} >= 1"

# 4: the fix, then the resolution.
t0=$SECONDS
id=$(echo "$finding" | grep -o '"finding_id":"[^"]*"')
DEMO_FIXED=1 compose up -d app >"$tmp/fix.log" 2>&1 || {
	cat "$tmp/fix.log" >&2
	fail "DEMO_FIXED=1 docker-compose up -d app"
}
new_id=$(compose ps -q app)
end=$((SECONDS + RESOLVE_TIMEOUT_S))
until logs >"$tmp/logs" && grep '"event":"resolved"' "$tmp/logs" | grep -F "$id" >"$tmp/resolved"; do
	[ "$SECONDS" -lt "$end" ] || fail "no resolved record for $id in $RESOLVE_TIMEOUT_S s"
	sleep 2
done
echo "resolved after $((SECONDS - t0)) s: $(grep -o '"message":"[^"]*"' "$tmp/resolved")"
grep '"event":"container_ready"' "$tmp/logs" | grep "\"id\":\"$new_id" >/dev/null ||
	fail "no container_ready record for the fixed app"
aport=$(compose port app 8080 | sed 's/.*://')
[ "$(curl -s "http://127.0.0.1:$aport/")" = ok ] || fail "the fixed app does not answer"
echo "fixed app: container_ready, answers HTTP"
vol=$(docker volume ls -q --filter "label=com.docker.compose.project=$project" | head -n 1)
docker run --rm -v "$vol:/state:ro" exitwatch-base:bookworm test -s /state/state.json ||
	fail "no state file in the volume $vol"
echo "state: /var/lib/exitwatch/state.json in volume $vol"

# 5: down (the trap does it too, on failure).
compose down -v --remove-orphans >/dev/null 2>&1 || fail "docker-compose down -v"
started=
echo "PASS: the image and the Compose demo work"
