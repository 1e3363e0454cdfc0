"""The dashboard's own layering rules, beyond tests/test_architecture.py.

- ``dashboard/views/``, ``dashboard/state.py``, ``dashboard/palette.py`` and
  ``dashboard/maps/`` never import Streamlit, not even indirectly (checked in
  a fresh interpreter), nor ``dashboard.cache``: they work outside a Streamlit
  run (unit tests, the briefing pack, benchmarks);
- ``dashboard/cache.py`` is the only module with ``st.cache_data`` /
  ``st.cache_resource``.
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


def test_only_the_cache_module_caches():
    for name, path in SOURCES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)} & {"cache_data", "cache_resource"}
        assert not used or name == "dashboard.cache", (name, used)
