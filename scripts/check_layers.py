#!/usr/bin/env python3
"""Checks the dependency rule of docs/design.md over every #include "..." in the tree.

The core is grouped by layer; a file may include its own folder, the layers below its own,
and, inside a layer that has parts, only the parts the rule lists. Outside the core, plugins
and the client programs see the SDK and libs/ only; only the composition root (core/gateway)
and the gateway program (apps/gateway) see everything.

Usage: check_layers.py [--root DIR]   exit 0 when every include is allowed, 1 with one line
per forbidden include (file:line: what it includes, and why that is not allowed).
"""

import argparse
import os
import re
import sys

# The core's layers, lowest first. A layer may include any layer before it.
LAYERS = ["runtime", "config", "storage", "services", "host", "cluster", "protocols", "gateway"]

# Inside a layer with parts (its subfolders): which other parts each part may include. Files
# at the layer's own root may include every part; a part never includes the root, except
# where listed as "." (protocols' dialects share the method table and frame helpers there).
PARTS = {
    "services": {
        "identity": set(),
        "nodes": set(),
        "node_hosts": {"nodes"},
        "dispatch": {"nodes"},
        "sessions": {"identity", "nodes", "dispatch"},
        "workflows": {"identity", "dispatch"},
    },
    "host": {
        "plugins": set(),
        "connections": {"plugins"},
        "netbind": {"plugins"},
        "discovery": {"plugins"},
        "bus": {"plugins"},
        "tls": set(),
    },
    "protocols": {
        "bridge": {"."},
        "node": {"."},
        "client": {"."},
        "operator": {"."},
        "rest": {"."},
    },
}

# Trees outside core/ that must not reach into it: they build against the SDK (plugins), or
# are programs and libraries that talk to a gateway over the wire.
OUTSIDE_CORE = ["plugins", "apps/cli", "apps/agent", "apps/worker", "libs", "sdk"]

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def part_of(rel_path):
    """(layer, part) of a path relative to core/; part is '.' at the layer's root."""
    segs = rel_path.split("/")
    layer = segs[0]
    part = segs[1] if len(segs) > 2 and layer in PARTS else "."
    return layer, part


def core_target(include):
    """The core layer an include names, or None when it names something else."""
    first = include.split("/")[0]
    return first if "/" in include and first in LAYERS else None


def check_core_file(rel, include):
    """None when `include` is allowed in core/<rel>, else the reason."""
    target_layer = core_target(include)
    if target_layer is None:
        return None
    layer, part = part_of(rel)
    if layer not in LAYERS:
        return f"core/{layer} is not a layer of the rule (add it to docs/design.md and here)"
    li, ti = LAYERS.index(layer), LAYERS.index(target_layer)
    if ti > li:
        return f"{layer} may not use {target_layer} (a higher layer)"
    if ti < li:
        return None
    # The same layer: parts.
    _, tpart = part_of(include)
    if part == tpart or layer not in PARTS:
        return None
    if part == ".":
        return None  # a layer's root composes its parts
    allowed = PARTS[layer].get(part)
    if allowed is None:
        return f"{layer}/{part} is not a part of the rule (add it to docs/design.md and here)"
    if tpart in allowed:
        return None
    where = f"{layer}/{tpart}" if tpart != "." else f"the root of {layer}"
    return f"{layer}/{part} may not use {where}"


def sources(top):
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d not in ("build", ".git", "node_modules")]
        for f in sorted(files):
            if f.endswith((".c", ".cc", ".cpp", ".h", ".hpp")):
                yield os.path.join(root, f)


def includes(path):
    with open(path, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            m = INCLUDE.match(line)
            if m:
                yield n, m.group(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), ".."))
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    problems = []

    core = os.path.join(root, "core")
    for path in sources(core):
        rel = os.path.relpath(path, core)
        for n, inc in includes(path):
            why = check_core_file(rel, inc)
            if why:
                problems.append(f"core/{rel}:{n}: includes \"{inc}\": {why}")

    for tree in OUTSIDE_CORE:
        top = os.path.join(root, tree)
        if not os.path.isdir(top):
            continue
        for path in sources(top):
            for n, inc in includes(path):
                if core_target(inc) and not os.path.exists(os.path.join(os.path.dirname(path), inc)):
                    rel = os.path.relpath(path, root)
                    problems.append(
                        f"{rel}:{n}: includes \"{inc}\": {tree} may not use the core "
                        "(plugins see the SDK, programs and libs/ talk to the gateway over the wire)")

    for p in problems:
        print(p)
    if problems:
        print(f"check_layers: {len(problems)} forbidden include(s); the rule is in docs/design.md",
              file=sys.stderr)
        return 1
    print("check_layers: every include follows the dependency rule")
    return 0


if __name__ == "__main__":
    sys.exit(main())
