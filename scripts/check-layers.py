#!/usr/bin/env python3
"""The layering README.md's layout section states, checked (make check).

Reads the "layers:" line of README.md, lowest layer first, then:
  1. every header sits in include/exitwatch/<layer>/ (abi.h alone at the top: the kernel/user
     contract); internal headers (*_int.h) sit in src/<layer>/;
  2. every #include of a file in src/<layer>/ or include/exitwatch/<layer>/ names a header of
     its own layer or a lower one, and an internal header only of its own layer;
  3. with OBJDIR given, no two object files depend on each other, directly or round a loop
     (a symbol one defines that the other uses): the modules form a graph without cycles.
Prints each violation and exits 1 if there is any.
Usage: check-layers.py [OBJDIR]
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
errors = []


def layers_from_readme():
    with open(os.path.join(ROOT, "README.md")) as f:
        for line in f:
            m = re.match(r"^layers:\s*(.+)$", line.strip())
            if m:
                return [x.strip() for x in m.group(1).split("<")]
    sys.exit("check-layers: README.md has no 'layers: a < b < ...' line")


def layer_of_include(inc):
    """(layer, internal) of a quoted include, or (None, None) when it is not ours."""
    if inc == "exitwatch/abi.h":
        return "abi", False
    m = re.match(r"^exitwatch/([a-z_]+)/[a-z_0-9]+\.h$", inc)
    if m:
        return m.group(1), False
    m = re.match(r"^([a-z_]+)/[a-z_0-9]+_int\.h$", inc)
    if m:
        return m.group(1), True
    return None, None


def check_file(path, layer, rank):
    with open(os.path.join(ROOT, path)) as f:
        text = f.read()
    for inc in INCLUDE_RE.findall(text):
        if inc == "exitwatch.skel.h":
            if path != "src/ingest/loader_int.h":
                errors.append(f"{path}: includes the BPF skeleton; only the loader's "
                              "internal header may")
            continue
        inc_layer, internal = layer_of_include(inc)
        if inc_layer is None:
            errors.append(f"{path}: includes \"{inc}\", which is no module's header")
        elif inc_layer not in rank:
            errors.append(f"{path}: includes \"{inc}\" of layer '{inc_layer}', not in README's layers")
        elif internal and inc_layer != layer:
            errors.append(f"{path} ({layer}): includes \"{inc}\", internal to '{inc_layer}'")
        elif rank[inc_layer] > rank[layer]:
            errors.append(f"{path} ({layer}): includes \"{inc}\" of '{inc_layer}', a layer above it")


def check_tree(layers):
    rank = {name: i for i, name in enumerate(layers)}
    inc_root = os.path.join(ROOT, "include", "exitwatch")
    for entry in sorted(os.listdir(inc_root)):
        full = os.path.join(inc_root, entry)
        if os.path.isdir(full):
            if entry not in rank:
                errors.append(f"include/exitwatch/{entry}/: not a layer in README's layers")
                continue
            for h in sorted(os.listdir(full)):
                if h.endswith("_int.h"):
                    errors.append(f"include/exitwatch/{entry}/{h}: internal headers live in src/{entry}/")
                check_file(f"include/exitwatch/{entry}/{h}", entry, rank)
        elif entry == "abi.h":
            check_file("include/exitwatch/abi.h", "abi", rank)
        else:
            errors.append(f"include/exitwatch/{entry}: headers live in include/exitwatch/<layer>/")
    for dirpath, _, names in os.walk(os.path.join(ROOT, "src")):
        rel = os.path.relpath(dirpath, ROOT)
        for n in sorted(names):
            if not n.endswith((".c", ".h")):
                continue
            path = os.path.join(rel, n)
            if rel == "src":
                layer = os.path.splitext(n)[0]
            else:
                layer = rel.split(os.sep)[1]
            if layer not in rank:
                errors.append(f"{path}: '{layer}' is not a layer in README's layers")
                continue
            if n.endswith(".h") and not n.endswith("_int.h"):
                errors.append(f"{path}: a header in src/ is internal: name it *_int.h")
            check_file(path, layer, rank)


def check_cycles(objdir):
    defs, uses, objs = {}, {}, []
    for dirpath, _, names in os.walk(objdir):
        if os.path.relpath(dirpath, objdir).split(os.sep)[0] == "tests":
            continue
        for n in names:
            if n.endswith(".o") and not n.endswith(".bpf.o"):
                o = os.path.join(dirpath, n)
                # Only objects of sources that exist: a build tree keeps those of moved files.
                src = os.path.join(ROOT, "src", os.path.relpath(o, objdir)[:-2] + ".c")
                if os.path.exists(src):
                    objs.append(o)
    for o in objs:
        out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
        uses[o] = set()
        for line in out.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in "TDBRC":
                defs[p[2]] = o
            elif len(p) == 2 and p[0] == "U":
                uses[o].add(p[1])
    graph = {o: {defs[s] for s in uses[o] if s in defs and defs[s] != o} for o in objs}
    # Tarjan's strongly connected components, iteratively.
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                elif nxt in on:
                    low[v] = min(low[v], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    comps.append(sorted(os.path.relpath(c, objdir) for c in comp))
    for comp in comps:
        errors.append("modules that depend on each other: " + " <-> ".join(comp))
    return len(objs)


def main():
    layers = layers_from_readme()
    check_tree(layers)
    nobj = check_cycles(sys.argv[1]) if len(sys.argv) > 1 else 0
    for e in errors:
        print("check-layers: " + e, file=sys.stderr)
    if errors:
        sys.exit(1)
    print(f"check-layers: {len(layers)} layers ({' < '.join(layers)}); includes point down"
          + (f"; {nobj} objects, no cycle" if nobj else ""))


if __name__ == "__main__":
    main()
