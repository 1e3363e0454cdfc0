"""The dashboard's import rules (docs/architecture.md), checked on the source.

- ``dashboard/views/``, ``dashboard/state.py``, ``dashboard/palette.py`` and
  ``dashboard/maps/`` never import Streamlit (not even indirectly), and
  ``dashboard/views/`` never imports ``dashboard.cache``;
- ``dashboard/cache.py`` is the only module with ``st.cache_data`` /
  ``st.cache_resource``;
- no module imports another module's underscore-prefixed names;
- the dashboard's modules import each other without a cycle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "dashboard"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {module_name(p): p for p in sorted(DASHBOARD.rglob("*.py")) if "static" not in p.parts}


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, imported names) of every import statement, nested ones included."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, [a.name for a in node.names]))
    return out


def test_rules_see_every_module():
    assert {"dashboard.cache", "dashboard.views.format", "dashboard.maps", "dashboard.maps.layers"} <= set(SOURCES)


@pytest.mark.parametrize("package", ["dashboard.views", "dashboard.state", "dashboard.palette", "dashboard.maps"])
def test_pure_modules_never_import_streamlit(package):
    mods = [m for m in SOURCES if m == package or m.startswith(package + ".")]
    code = ("import sys\n" + "".join(f"import {m}\n" for m in mods)
            + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'streamlit_folium'))\n"
            + "assert not bad, bad\nassert 'dashboard.cache' not in sys.modules\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]


def test_views_never_import_the_cache():
    for name, path in SOURCES.items():
        if name.startswith("dashboard.views"):
            for module, names in imports(path):
                assert module != "dashboard.cache" and not (module == "dashboard" and "cache" in names), name


def test_only_the_cache_module_caches():
    for name, path in SOURCES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)} & {"cache_data", "cache_resource"}
        assert not used or name == "dashboard.cache", (name, used)


def test_no_module_imports_private_names_of_another():
    for name, path in SOURCES.items():
        for module, names in imports(path):
            if module == "__future__":
                continue
            private = [n for n in names if n.startswith("_")]
            assert not private, f"{name} imports {private} from {module}"


def test_no_import_cycle():
    graph = {}
    for name, path in SOURCES.items():
        deps = set()
        for module, names in imports(path):
            deps |= {module} | {f"{module}.{n}" for n in names}
        graph[name] = {d for d in deps if d in SOURCES and d != name}

    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*trail, node, dep]))
            if dep not in state:
                visit(dep, [*trail, node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
