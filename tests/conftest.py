"""Shared fixtures. The boundary file comes from HAREWATCH_BOUNDARIES (set by
.ci/run to ../shared/...); it is never copied into the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_BOUNDARIES = Path(__file__).resolve().parents[2] / "shared" / "data" / "boundaries" / "police_force_areas_east.geojson"


@pytest.fixture(scope="session")
def boundaries_path() -> Path:
    p = Path(os.environ.get("HAREWATCH_BOUNDARIES", SHARED_BOUNDARIES))
    if not p.is_file():
        pytest.fail(f"boundary file not found at {p}: set HAREWATCH_BOUNDARIES")
    return p.resolve()  # README's command gives a relative path


@pytest.fixture(scope="session")
def areas(boundaries_path):
    from geo.boundaries import read_boundaries

    return read_boundaries(boundaries_path)
