"""Shared fixtures. The boundary file comes from HAREWATCH_BOUNDARIES (set by
.ci/run to ../shared/...); it is never copied into the repository."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

SHARED_BOUNDARIES = Path(__file__).resolve().parents[2] / "shared" / "data" / "boundaries" / "police_force_areas_east.geojson"
#: The official ONS BUC file the product ships (data/boundaries/) and its shared copy.
ONS_BUC = Path(__file__).resolve().parents[1] / "data" / "boundaries" / "Police_Force_Areas_December_2023_EW_BUC.geojson"

#: The test run's own ``__main__`` (pytest), restored after every test.
_REAL_MAIN = sys.modules.get("__main__")

# Tests (and the servers and CLIs they start) use the test stand-in unless told otherwise, so
# their known answers do not depend on the product's default file.
if not os.environ.get("HAREWATCH_BOUNDARIES") and SHARED_BOUNDARIES.is_file():
    os.environ["HAREWATCH_BOUNDARIES"] = str(SHARED_BOUNDARIES)


@pytest.fixture(scope="session")
def boundaries_path() -> Path:
    p = Path(os.environ.get("HAREWATCH_BOUNDARIES", SHARED_BOUNDARIES))
    if not p.is_file():
        pytest.fail(f"boundary file not found at {p}: set HAREWATCH_BOUNDARIES")
    return p.resolve()  # README's command gives a relative path


@pytest.fixture(scope="session")
def ons_areas():
    """The official ONS BUC police force areas (all 43 forces), as shipped in data/boundaries/."""
    from geo.io.boundaries import read_boundaries

    if not ONS_BUC.is_file():
        pytest.fail(f"the ONS boundary file is missing at {ONS_BUC}")
    return read_boundaries(ONS_BUC)


@pytest.fixture(scope="session")
def areas(boundaries_path):
    from geo.io.boundaries import read_boundaries

    return read_boundaries(boundaries_path)


@pytest.fixture(autouse=True)
def _restore_main_module():
    """Streamlit's script runner (AppTest) installs the page script as ``__main__``.

    multiprocessing's spawn start method re-runs ``__main__`` in every child
    (dask workers, concurrent-ingest tests), so a page script left there would
    run in them. Put the real one back after each test (the one of the test run itself:
    a module-scoped fixture may run AppTest before this fixture records anything).
    """
    yield
    if sys.modules.get("__main__") is not _REAL_MAIN:
        sys.modules["__main__"] = _REAL_MAIN
