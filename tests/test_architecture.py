"""The import layers of docs/architecture.md, enforced.

Every import statement in ``geo/`` and ``dashboard/`` (module level or inside a
function: a lazy import is still a dependency) is read with ``ast``:

1. no import cycle between modules;
2. layers only point down: the pure core (``geo`` top-level modules) imports
   nothing from ``geo.io``, ``geo.engines``, ``geo.pipeline``, ``geo.datasets``
   or ``geo.cli``; ``geo.io`` imports nothing above it; engines, pipeline and
   datasets do not import the CLI; nothing in ``geo`` imports ``dashboard``;
3. nothing under ``geo/`` imports streamlit; ``dashboard/views/`` imports
   neither streamlit nor ``dashboard.cache``;
4. no module imports another module's underscore names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("geo", "dashboard")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for p in (ROOT / pkg).rglob("*.py"):
            if "static" not in p.parts:
                out[_module_name(p)] = p
    return out


MODULES = _modules()


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(imported module, names imported from it, line) for every import statement."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, [a.name for a in node.names], node.lineno))
    return out


def _resolve(target: str, names: list[str]) -> list[str]:
    """Project modules an import statement depends on (``from pkg import submodule`` too)."""
    found = []
    if target in MODULES:
        found.append(target)
    for n in names:
        if f"{target}.{n}" in MODULES:
            found.append(f"{target}.{n}")
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for mod, path in MODULES.items():
        for target, names, _ in _imports(path):
            for dep in _resolve(target, names):
                if dep != mod and not mod.startswith(dep + "."):  # a package's own __init__
                    graph[mod].add(dep)
    return graph


def _layer(mod: str) -> int:
    if mod.startswith(("geo.cli", "dashboard")):
        return 3
    if mod.startswith(("geo.engines", "geo.pipeline", "geo.datasets")):
        return 2
    if mod.startswith("geo.io"):
        return 1
    return 0


def test_the_graph_is_real() -> None:
    # The checks below can fail: the graph holds the dependencies we know exist.
    graph = _graph()
    assert "geo.hotspots" in graph["geo.cli.analyse"]
    assert "geo.areas" in graph["geo.io.boundaries"]
    assert "dashboard.cache" in graph["dashboard.app_pages.map"] or any(
        d.startswith("dashboard.") for d in graph["dashboard.app_pages.map"])


def test_no_import_cycle() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycle = stack[stack.index(d):] + [d]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_layers_point_down() -> None:
    bad = []
    for mod, deps in _graph().items():
        if mod == "geo":  # the lazy public API re-exports every layer by name
            continue
        for d in deps:
            if d == "geo":
                continue
            if mod.startswith("geo") and d.startswith("dashboard"):
                bad.append(f"{mod} -> {d} (geo must not import dashboard)")
            elif mod.startswith("geo") and _layer(d) > _layer(mod):
                bad.append(f"{mod} (layer {_layer(mod)}) -> {d} (layer {_layer(d)})")
    assert not bad, "\n".join(sorted(bad))


def test_geo_never_imports_streamlit() -> None:
    bad = [f"{m}:{line}" for m, p in MODULES.items() if m.startswith("geo")
           for target, _, line in _imports(p) if target.split(".")[0] in ("streamlit", "streamlit_folium")]
    assert not bad


def test_pure_views_import_neither_streamlit_nor_the_cache() -> None:
    views = {m: p for m, p in MODULES.items() if m.startswith("dashboard.views")}
    assert views, "dashboard/views/ is missing"
    bad = []
    for m, p in views.items():
        for target, names, line in _imports(p):
            deps = {target, *(f"{target}.{n}" for n in names)}
            if target.split(".")[0] in ("streamlit", "streamlit_folium") or "dashboard.cache" in deps:
                bad.append(f"{m}:{line} imports {target}")
    assert not bad, "\n".join(bad)


def test_no_module_imports_anothers_underscore_names() -> None:
    bad = []
    for m, p in MODULES.items():
        for target, names, line in _imports(p):
            if not (target in MODULES or target.split(".")[0] in PACKAGES):
                continue
            for n in names:
                if n.startswith("_") and not n.startswith("__"):
                    bad.append(f"{m}:{line} imports {n} from {target}")
    assert not bad, "\n".join(bad)
