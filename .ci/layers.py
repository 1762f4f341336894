"""The frame, read from the code's own imports: no package imports one above it, no module circle.

Packages from the roof down (DESIGN.md): ops wires the process; mcp_server holds the tools; the
business wing (provisioning, then profiles) sits beside them; then the warehouse, the providers,
and citation at the floor. An import of a package above the importer is an upward edge. A circle
is a cycle among modules, counting imports made inside functions (they hide circles, not break
them). Prints the package edges and exits 1 on any upward edge or circle.

    python .ci/layers.py
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("ops", "mcp_server", "provisioning", "profiles", "warehouse", "providers", "citation")
RANK = {name: rank for rank, name in enumerate(LAYERS)}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The project modules `path` imports (`from a import b` counts a.b when b is a module)."""
    found = set()
    package = _module(path) if path.name == "__init__.py" else _module(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = {f"{base}.{alias.name}" for alias in node.names}
            found.update(names)
            if not names <= modules:  # a name from the module itself, not only its submodules
                found.add(base)
    own = _module(path)
    # A module's own packages run before it whatever it imports: an edge to them is no circle.
    return {name for name in found if name in modules and not own.startswith(name + ".")}


def graph() -> dict[str, set[str]]:
    files = [f for layer in LAYERS for f in (ROOT / layer).rglob("*.py")]
    modules = {_module(f) for f in files}
    return {_module(f): _imports(f, modules) - {_module(f)} for f in files}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def main() -> int:
    edges = graph()
    packages: dict[tuple[str, str], list[str]] = defaultdict(list)
    for source, targets in edges.items():
        for target in targets:
            a, b = source.split(".")[0], target.split(".")[0]
            if a != b:
                packages[(a, b)].append(f"{source} -> {target}")
    upward = {pair: why for pair, why in packages.items() if RANK[pair[1]] < RANK[pair[0]]}
    loops = circles(edges)
    print(f"{len(packages)} package edges, {len(upward)} upward, {len(loops)} module circles")
    for (a, b), why in sorted(upward.items()):
        print(f"upward {a} -> {b}: " + "; ".join(sorted(why)))
    for loop in loops:
        print("circle: " + " <-> ".join(loop))
    return 1 if upward or loops else 0


if __name__ == "__main__":
    raise SystemExit(main())
