"""Count the imports that run against the layers (core ← pipeline ← storage ← services ← shell) and the cycles
between modules, from the source alone (AST: imports inside functions count too, since they still tie modules).

    python scripts/import_graph.py            # the figures
    python scripts/import_graph.py --list     # and every upward import and cycle
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Lowest first; a module may import its own layer or any lower one.
LAYERS = [("core",), ("pipeline",), ("storage",), ("integrations", "billing"), ("onno", "bots")]
PACKAGES = {pkg: rank for rank, names in enumerate(LAYERS) for pkg in names}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


def imported(path: Path, name: str, known: dict[str, Path]) -> set[str]:
    """The project modules `path` imports (by absolute or relative name), as their module names."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def rank(module: str) -> int:
    return PACKAGES[module.split(".")[0]]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(10_000)

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print every upward import and cycle")
    args = parser.parse_args()
    known = modules()
    graph = {name: imported(path, name, known) for name, path in known.items()}
    upward = sorted((a, b) for a, targets in graph.items() for b in targets if rank(b) > rank(a))
    loops = cycles(graph)
    print(f"modules: {len(known)}  imports: {sum(map(len, graph.values()))}")
    print(f"upward imports: {len(upward)}")
    print(f"cycles: {len(loops)} ({sum(map(len, loops))} modules in them)")
    if args.list:
        for a, b in upward:
            print(f"  up: {a} -> {b}")
        for loop in loops:
            print("  cycle: " + " <-> ".join(loop))


if __name__ == "__main__":
    main()
