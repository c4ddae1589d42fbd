"""The packages import each other in one direction, and no module imports itself back.

Read with ``ast``: an import at module level runs when the module loads, so those edges must
form no cycle. Any import, even inside a function, counts for the layering rules below.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.packaging.imports import ROOT, first_party, imports_in, module_of, source_files

PACKAGES = first_party()

# (importer package, imported package, the one place allowed to do it lazily, why).
FORBIDDEN: list[tuple[str, str, str | None]] = [
    ("agents", "orchestrator", None),
    ("orchestrator", "agents", "orchestrator.launcher"),  # builds the specialists in-process, on demand
    ("mcp_servers", "agents", None),
    ("mcp_servers", "orchestrator", None),
    ("mcp_servers", "gateway", None),
    ("gateway", "agents", None),
    ("gateway", "orchestrator", None),
    *[("shared", other, None) for other in ("agents", "orchestrator", "mcp_servers", "gateway")],
]


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    where: str
    eager: bool


def _modules() -> dict[str, Path]:
    return {module_of(path): path for path in source_files(PACKAGES)}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The first-party module an import loads: the longest prefix that is a module."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def edges() -> Iterator[Edge]:
    modules = _modules()
    for module, path in modules.items():
        for name, line, eager in imports_in(path):
            if name.split(".")[0] not in PACKAGES:
                continue
            target = _resolve(name, modules)
            if target is not None and target != module:
                yield Edge(module, target, f"{path.relative_to(ROOT)}:{line}", eager)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles_at_load_time() -> None:
    graph: dict[str, set[str]] = {}
    for edge in edges():
        if edge.eager:
            graph.setdefault(edge.source, set()).add(edge.target)
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_packages_import_in_one_direction() -> None:
    broken = []
    for edge in edges():
        for importer, imported, allowed_lazily_in in FORBIDDEN:
            if edge.source.split(".")[0] != importer or edge.target.split(".")[0] != imported:
                continue
            if edge.source == allowed_lazily_in and not edge.eager:
                continue
            broken.append(f"{edge.where}: {edge.source} imports {edge.target}")
    assert broken == []


def test_importing_the_dataset_does_not_load_the_servers() -> None:
    import subprocess
    import sys

    probe = "import sys, mcp_servers.dataset; print(sorted(m for m in sys.modules if m.startswith('mcp_servers')))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert "mcp_servers._app" not in loaded.stdout and ".server'" not in loaded.stdout, loaded.stdout
