#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The deployment files, checked offline:
#   1. `kubectl kustomize` renders deploy/k8s/overlays/default and .../gke;
#   2. every rendered object, and deploy/alerts/prometheus/{prometheusrule,podmonitor}.yaml, is valid against
#      the Kubernetes API schema (kubernetes-models from npm: JSON schemas compiled from the
#      Kubernetes OpenAPI spec, and the prometheus-operator CRDs' for PrometheusRule and
#      PodMonitor), and has
#      no unknown field (what the API server's strict field validation would refuse; found by
#      walking each object along the models' TypeScript types with the TypeScript compiler).
#      A broken copy (a misspelt readOnlyRootFilesystem, a string hostPID) must be refused;
#   3. the DaemonSet grants what the tests prove and nothing more: uid 0, CAP_BPF + CAP_PERFMON,
#      no privilege escalation, read-only root, RuntimeDefault seccomp, every host path
#      read-only but /var/lib/exitwatch, no service account token; and runs where it can:
#      linux/amd64 nodes only, /metrics on every address of the pod (":9090", which IPv6
#      single-stack pods can bind), host mounts that hold later mounts with HostToContainer
#      propagation, images with a version tag (never latest);
#   4. (the alerts' rules are checked by tests/e2e/alerts-promtool.sh);
#   5. exitwatch itself accepts the configuration files the deployments ship;
#   6. `docker-compose -f deploy/docker/compose.yaml config -q` succeeds, and the service has
#      the privileges and read-only mounts the Compose comments describe.
# The npm packages (pinned below) are installed once into build/deploy-validate/ and used
# offline from then on. Needs kubectl, node 18+, npm, promtool, docker-compose and python3.
# A missing one skips the test, except under CI=true, where it fails it.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

EW=${EXITWATCH:-build/exitwatch}
CACHE=$root/build/deploy-validate
NPM_PACKAGES=(kubernetes-models@5.1.0 @kubernetes-models/prometheus-operator@6.0.0
	typescript@5.9.3 yaml@2.9.1)

. tests/e2e/lib.sh

command -v kubectl >/dev/null || skip "kubectl is not installed"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	skip "node and npm are not installed (scripts/deps.sh test installs them)"
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 18 ] || skip "node $node_major is too old (18 or newer)"
for tool in promtool docker-compose python3; do
	command -v "$tool" >/dev/null || skip "$tool is not installed"
done

tmp=$(mktemp -d /tmp/ew-e2e-manifests.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# 0: the validator's packages, installed when the pinned list changes.
mkdir -p "$CACHE"
stamp="${NPM_PACKAGES[*]}"
if [ "$(cat "$CACHE/.installed" 2>/dev/null)" != "$stamp" ]; then
	echo "npm: installing ${NPM_PACKAGES[*]} into build/deploy-validate"
	rm -rf "$CACHE/node_modules" "$CACHE/package.json" "$CACHE/package-lock.json"
	echo '{ "private": true, "description": "tests/e2e/deploy-manifests.sh" }' >"$CACHE/package.json"
	(cd "$CACHE" && npm install --no-audit --no-fund --loglevel=error --engine-strict=false \
		"${NPM_PACKAGES[@]}" >"$tmp/npm.log" 2>&1) || {
		sed 's/^/  npm: /' "$tmp/npm.log" >&2
		skip "npm could not install the validator (no registry?)"
	}
	echo "$stamp" >"$CACHE/.installed"
fi

cat >"$CACHE/validate.mjs" <<'JSEOF'
// node validate.mjs FILE...       schema + unknown fields of every object in the YAML files
// node validate.mjs --policy FILE  the DaemonSet's privileges (see deploy-manifests.sh, 3)
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import YAML from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
let failed = false;
const bad = (msg) => {
	failed = true;
	console.log("FAIL " + msg);
};

function readDocs(file) {
	const out = [];
	for (const d of YAML.parseAllDocuments(fs.readFileSync(file, "utf8"))) {
		if (d.errors.length) bad(`${file}: YAML: ${d.errors[0].message}`);
		else if (d.contents !== null) out.push(d.toJS());
	}
	return out;
}

function moduleOf(apiVersion) {
	if (apiVersion.startsWith("monitoring.coreos.com/"))
		return "@kubernetes-models/prometheus-operator/" + apiVersion;
	return "kubernetes-models/" + apiVersion;
}

// The models' TypeScript interfaces, one program for all kinds: I<Kind> of <module>/<Kind>.
function typesOf(keys) {
	const virtual = path.join(here, "__kinds.ts");
	const text = keys
		.map((k, i) => {
			const [apiVersion, kind] = k.split("|");
			return `import type { I${kind} as T${i} } from "${moduleOf(apiVersion)}/${kind}";\n` +
				`export declare const v${i}: T${i};\n`;
		})
		.join("");
	const options = {
		module: ts.ModuleKind.ESNext,
		moduleResolution: ts.ModuleResolutionKind.Bundler,
		strict: true,
		noEmit: true,
		skipLibCheck: true,
		types: [],
	};
	const host = ts.createCompilerHost(options);
	const getSourceFile = host.getSourceFile.bind(host);
	host.getSourceFile = (name, ...rest) =>
		name === virtual ? ts.createSourceFile(name, text, rest[0]) : getSourceFile(name, ...rest);
	const fileExists = host.fileExists.bind(host);
	host.fileExists = (name) => name === virtual || fileExists(name);
	const program = ts.createProgram([virtual], options, host);
	const checker = program.getTypeChecker();
	const sf = program.getSourceFile(virtual);
	const types = new Map();
	for (const d of ts.getPreEmitDiagnostics(program, sf))
		bad("no types: " + ts.flattenDiagnosticMessageText(d.messageText, " "));
	for (const stmt of sf.statements) {
		if (!ts.isVariableStatement(stmt)) continue;
		const name = stmt.declarationList.declarations[0].name;
		types.set(keys[Number(name.text.slice(1))], checker.getTypeAtLocation(name));
	}
	return { checker, types };
}

// Fields of value that type t does not have (the OpenAPI schema lets them through).
function unknownFields(checker, value, t, where, out) {
	const isObj = (x) => (x.flags & ts.TypeFlags.Object) !== 0 && !checker.isArrayType(x);
	const fits = (v, x) =>
		Array.isArray(v) ? checker.isArrayType(x) : v !== null && typeof v === "object" ? isObj(x) : true;
	if (value === null || value === undefined) return;
	if (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return;
	if (t.isUnion()) {
		let best = null;
		for (const m of t.types.filter((x) => !(x.flags & ts.TypeFlags.Undefined) && fits(value, x))) {
			const e = [];
			unknownFields(checker, value, m, where, e);
			if (!best || e.length < best.length) best = e;
			if (!e.length) break;
		}
		if (best) out.push(...best);
		return;
	}
	if (Array.isArray(value)) {
		if (checker.isArrayType(t)) {
			const el = checker.getTypeArguments(t)[0];
			value.forEach((v, i) => unknownFields(checker, v, el, `${where}[${i}]`, out));
		}
		return;
	}
	if (typeof value !== "object" || !isObj(t)) return;
	const index = checker.getIndexInfosOfType(t).find((i) => i.keyType.flags & ts.TypeFlags.String);
	for (const [k, v] of Object.entries(value)) {
		const prop = checker.getPropertyOfType(t, k);
		if (prop) unknownFields(checker, v, checker.getTypeOfSymbol(prop), `${where}.${k}`, out);
		else if (index) unknownFields(checker, v, index.type, `${where}.${k}`, out);
		else out.push(`${where}.${k}: unknown field`);
	}
}

async function schemas(files) {
	const docs = files.flatMap((file) => readDocs(file).map((obj) => ({ file, obj })));
	const keys = [...new Set(docs.map(({ obj }) => `${obj.apiVersion}|${obj.kind}`))];
	const { checker, types } = typesOf(keys);
	for (const { file, obj } of docs) {
		const id = `${path.basename(file)}: ${obj.kind}/${obj.metadata?.name} (${obj.apiVersion})`;
		const errors = [];
		const mod = await import(moduleOf(obj.apiVersion)).catch(() => null);
		const Model = mod?.[obj.kind];
		if (!Model) {
			errors.push(`no schema for ${obj.apiVersion} ${obj.kind}`);
		} else {
			try {
				new Model(obj).validate();
			} catch (e) {
				errors.push(...String(e.message).split(", "));
			}
			unknownFields(checker, obj, types.get(`${obj.apiVersion}|${obj.kind}`), "", errors);
		}
		if (errors.length) bad(id + "\n  " + errors.join("\n  "));
		else console.log("ok   " + id);
	}
}

// JSON with sorted keys: kubectl kustomize sorts them, the expectations below do not.
const canon = (v) => JSON.stringify(v, (k, x) =>
	x && typeof x === "object" && !Array.isArray(x)
		? Object.fromEntries(Object.keys(x).sort().map((key) => [key, x[key]]))
		: x);

function expect(what, got, want) {
	const g = canon(got), w = canon(want);
	if (g !== w) bad(`${what}: ${g}, expected ${w}`);
}

function policy(file) {
	const docs = readDocs(file);
	const ds = docs.find((o) => o.kind === "DaemonSet");
	const sa = docs.find((o) => o.kind === "ServiceAccount");
	if (!ds || !sa) return bad(`${file}: no DaemonSet or ServiceAccount`);
	const pod = ds.spec.template.spec;
	const c = pod.containers[0];
	const sc = c.securityContext;
	expect("containers", pod.containers.length, 1);
	expect("hostPID", pod.hostPID, true);
	expect("hostNetwork, hostIPC", [pod.hostNetwork, pod.hostIPC], [undefined, undefined]);
	expect("pod automountServiceAccountToken", pod.automountServiceAccountToken, false);
	expect("serviceaccount automountServiceAccountToken", sa.automountServiceAccountToken, false);
	expect("runAsUser", sc.runAsUser, 0);
	expect("privileged", sc.privileged, false);
	expect("allowPrivilegeEscalation", sc.allowPrivilegeEscalation, false);
	expect("readOnlyRootFilesystem", sc.readOnlyRootFilesystem, true);
	expect("capabilities", sc.capabilities, { drop: ["ALL"], add: ["BPF", "PERFMON"] });
	expect("seccompProfile", sc.seccompProfile, { type: "RuntimeDefault" });
	expect("priorityClassName", pod.priorityClassName, "system-node-critical");
	expect("tolerations", pod.tolerations, [{ operator: "Exists" }]);
	expect("terminationGracePeriodSeconds", pod.terminationGracePeriodSeconds, 30);
	expect("updateStrategy", ds.spec.updateStrategy,
		{ type: "RollingUpdate", rollingUpdate: { maxUnavailable: "10%" } });
	expect("args", c.args.slice(0, 2), ["--metrics-addr", ":9090"]);
	expect("nodeSelector", pod.nodeSelector, { "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64" });
	for (const ct of pod.containers)
		if (!/:[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(ct.image) || /:latest$/.test(ct.image))
			bad(`${file}: image ${ct.image}: a version tag, not latest`);
	for (const m of c.volumeMounts)
		if (["/sys/kernel/tracing", "/host/sys/fs/cgroup", "/host/run/containerd/io.containerd.runtime.v2.task"].includes(m.mountPath))
			expect(`mount ${m.mountPath} mountPropagation`, m.mountPropagation, "HostToContainer");
	expect("probes", [c.livenessProbe.httpGet.path, c.readinessProbe.httpGet.path], ["/healthz", "/healthz"]);
	expect("limits.memory", c.resources.limits.memory, "128Mi");
	const hostPaths = new Map(pod.volumes.filter((v) => v.hostPath).map((v) => [v.name, v.hostPath]));
	for (const m of c.volumeMounts) {
		const hp = hostPaths.get(m.name);
		if (!hp) continue;
		const writable = m.mountPath === "/var/lib/exitwatch";
		expect(`mount ${m.mountPath} readOnly`, m.readOnly ?? false, !writable);
		if (writable) expect("state hostPath", hp, { path: "/var/lib/exitwatch", type: "DirectoryOrCreate" });
		hostPaths.delete(m.name);
	}
	expect("hostPath volumes not mounted", [...hostPaths.keys()], []);
	const quota = docs.find((o) => o.kind === "ResourceQuota");
	if (quota)
		expect("ResourceQuota scope", quota.spec.scopeSelector.matchExpressions[0].values, ["system-node-critical"]);
	if (!failed) console.log(`ok   ${path.basename(file)}: the DaemonSet's privileges and mounts`);
}

const args = process.argv.slice(2);
if (args[0] === "--policy") policy(args[1]);
else await schemas(args);
process.exitCode = failed ? 1 : 0;
JSEOF
validate() { node "$CACHE/validate.mjs" "$@"; }
echo "validator: kubernetes-models $(node -p "require('$CACHE/node_modules/kubernetes-models/package.json').version") on node $(node --version)"

# 1, 2, 3: render, validate, check the privileges.
for overlay in default gke; do
	kubectl kustomize "deploy/k8s/overlays/$overlay" >"$tmp/$overlay.yaml" ||
		fail "kubectl kustomize deploy/k8s/overlays/$overlay"
	echo "rendered deploy/k8s/overlays/$overlay: $(grep -c '^kind:' "$tmp/$overlay.yaml") objects"
done
validate "$tmp/default.yaml" "$tmp/gke.yaml" deploy/alerts/prometheus/prometheusrule.yaml \
	deploy/alerts/prometheus/podmonitor.yaml ||
	fail "the rendered manifests are not valid"
validate --policy "$tmp/default.yaml" || fail "the default overlay's DaemonSet"
validate --policy "$tmp/gke.yaml" || fail "the gke overlay's DaemonSet"
grep -q '^kind: ResourceQuota' "$tmp/gke.yaml" || fail "the gke overlay has no ResourceQuota"
# The validator must refuse what the API server would.
sed -e 's/readOnlyRootFilesystem: true/readOnlyRootFileSystem: true/' \
	-e 's/hostPID: true/hostPID: "true"/' "$tmp/default.yaml" >"$tmp/broken.yaml"
validate "$tmp/broken.yaml" >"$tmp/broken.out" && fail "the validator accepts a broken DaemonSet"
grep -q 'readOnlyRootFileSystem: unknown field' "$tmp/broken.out" ||
	fail "the validator misses an unknown field: $(cat "$tmp/broken.out")"
grep -q 'hostPID must be boolean' "$tmp/broken.out" ||
	fail "the validator misses a wrong type: $(cat "$tmp/broken.out")"
echo "ok   a misspelt field and a wrong type are refused"

# 5: the configuration files, read by exitwatch's own parser (replay parses the config file,
# then stops at the empty recording).
if [ -x "$EW" ]; then
	kubectl kustomize deploy/k8s/overlays/gke |
		python3 -c 'import sys, yaml; [sys.stdout.write(d["data"]["exitwatch.conf"]) for d in yaml.safe_load_all(sys.stdin) if d and d["kind"] == "ConfigMap"]' \
			>"$tmp/k8s.conf"
	for conf in "$tmp/k8s.conf" deploy/docker/demo.conf; do
		rc=0
		"$EW" replay --config "$conf" /dev/null 2>"$tmp/conf.err" || rc=$?
		if [ "$rc" != 2 ] || ! grep -q 'not an exitwatch recording' "$tmp/conf.err"; then
			fail "exitwatch refuses $conf: $(cat "$tmp/conf.err")"
		fi
		echo "ok   exitwatch accepts ${conf#"$tmp/"}"
	done
elif [ "${CI:-}" = true ]; then
	fail "$EW is not built"
else
	echo "SKIP: $EW is not built: the configuration files were not parsed"
fi

# 6: Compose. docker-compose 1.29 reads the seccomp profile relative to the current directory.
(cd deploy/docker && docker-compose -f compose.yaml config -q) || fail "docker-compose config -q"
echo "ok   docker-compose -f deploy/docker/compose.yaml config -q"
if docker compose version >/dev/null 2>&1; then
	docker compose -f deploy/docker/compose.yaml config -q || fail "docker compose config -q"
	echo "ok   docker compose -f deploy/docker/compose.yaml config -q"
fi
compose_check() { # CAPS [VAR=VALUE...]: the exitwatch service as Compose resolves it
	local caps=$1
	shift
	(cd deploy/docker && env -u EXITWATCH_LEGACY_CAP -u EXITWATCH_CGROUP_ROOT "$@" \
		docker-compose -f compose.yaml config) | python3 -c '
import sys, yaml
s = yaml.safe_load(sys.stdin)["services"]["exitwatch"]
want_caps = sys.argv[1].split(",")
errors = []
def expect(what, got, want):
    if got != want:
        errors.append("%s: %r, expected %r" % (what, got, want))
expect("cap_drop", s.get("cap_drop"), ["ALL"])
expect("cap_add", s.get("cap_add"), want_caps)
expect("read_only", s.get("read_only"), True)
expect("pid", s.get("pid"), "host")
expect("privileged", s.get("privileged", False), False)
opts = s.get("security_opt", [])
expect("no-new-privileges", "no-new-privileges:true" in opts, True)
expect("seccomp profile", any(o.startswith("seccomp") and "seccomp-exitwatch.json" in o for o in opts), True)
for v in s["volumes"]:
    src, dst, mode = (v.split(":") + ["rw"])[:3]
    writable = dst == "/var/lib/exitwatch"
    expect("volume %s mode" % dst, mode, "rw" if writable else "ro")
    if writable:
        expect("state volume", src, "exitwatch-state")
if errors:
    print("\n".join(errors))
    sys.exit(1)
' "$caps" || fail "compose.yaml's exitwatch service (cap_add $caps)"
}
compose_check BPF,CAP_PERFMON
compose_check SYS_ADMIN,CAP_SYS_ADMIN EXITWATCH_LEGACY_CAP=SYS_ADMIN
echo "ok   compose.yaml: cap_drop ALL, BPF + PERFMON (SYS_ADMIN with EXITWATCH_LEGACY_CAP), read-only"
echo "PASS: the deployment manifests are valid"
