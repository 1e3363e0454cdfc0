"""The scan plan shared by the duckdb and dask engines: which plates and which season window to read.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from geo._frames import (
    check_hours_positive,
    explode_multi,
    require_columns,
)
from geo.errors import InputError
from geo.offenders import INCIDENT_REQUIRED

__all__ = [
    "scan_plan",
]


def scan_plan(
    incidents: pd.DataFrame,
    season: str | None,
    start_month: int,
    window_h: float,
    plates: Iterable[str] | None,
    all_plates: bool,
) -> tuple[pd.DataFrame, list[str] | None]:
    """Validated inputs of a store scan: (incidents of the season, plates to scan).

    Shared by :func:`offenders_from_store` and :func:`geo.dask_engine.offenders_dask`
    so both engines scan the same plates. Plates to scan: ``plates`` when
    given, None (every plate) when ``all_plates``, else the plates linked to
    counted incidents (of the season, if given).
    """
    require_columns(incidents, INCIDENT_REQUIRED, "incidents")
    check_hours_positive(window_h, "window_h", allow_zero=True)
    if plates is not None and all_plates:
        raise InputError("pass either plates or all_plates=True, not both")
    inc = incidents
    if season is not None:
        from geo.seasons import filter_incidents

        inc = filter_incidents(incidents, season=season, start_month=start_month)
    if all_plates:
        return inc, None
    if plates is None:
        counted = inc[inc["in_agreement"].astype("boolean").fillna(False).to_numpy(dtype=bool)]
        plates = explode_multi(counted["vrms"]).unique().tolist()
    return inc, list(plates)
