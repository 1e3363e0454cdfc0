"""Data page: an upload's outcome, adding it to the store, downloads of the incidents in view.

Reading and validating a file is ``geo.pipeline.ingest.check_file`` (the one
read-and-validate path, shared with the CLI and the watcher); this module
only shapes its :class:`~geo.pipeline.ingest.FileCheck` for the page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from dashboard.views.format import fmt_int
from geo.privacy import mask_frame

if TYPE_CHECKING:
    from geo.pipeline.ingest import FileCheck

__all__ = [
    "by_force_table",
    "incidents_csv",
    "incidents_geojson",
    "ingest_outcome",
    "KIND_CHOICES",
    "kind_of_choice",
    "check_summary",
    "safe_csv",
    "upload_token",
]


def by_force_table(outcome: FileCheck) -> pd.DataFrame:
    """Accepted rows per force of an upload."""
    if not outcome.ok:
        return pd.DataFrame({"force": [], "accepted": []})
    by = dict(outcome.result.by_force)
    return pd.DataFrame({"force": list(by), "accepted": [int(v) for v in by.values()]})


#: Choices of the Data page's "Kind" control; the first detects the kind from the file.
KIND_CHOICES: tuple[str, ...] = ("Detect from the file", "Incidents", "Sightings")


def kind_of_choice(choice: str) -> str | None:
    """The ``kind`` to validate an upload as (None: detect it from the file)."""
    return None if choice == KIND_CHOICES[0] else str(choice).lower()


def check_summary(outcome: FileCheck) -> list[str]:
    """What a person should know about a checked file, one sentence each (said once)."""
    if not outcome.ok:
        return []
    report = outcome.result.to_report()
    lines = [f"Read as {outcome.read_as}."] if outcome.read_as else []
    if report.get("duplicates_collapsed"):
        lines.append(f"{fmt_int(report['duplicates_collapsed'])} exact repeats of an earlier row "
                     "were collapsed (counted once).")
    if report.get("force_mismatches"):
        lines.append(f"{fmt_int(report['force_mismatches'])} rows are reported by another force "
                     "than the one their location lies in (normal near borders; kept as written).")
    if report.get("nearest_force"):
        lines.append(f"{fmt_int(report['nearest_force'])} rows lie just off the generalised coast "
                     "and were given the nearest force.")
    month_only = (report.get("time_precision") or {}).get("month", 0)
    if month_only:
        lines.append(f"{fmt_int(month_only)} rows give a month only: no day or hour is known, so "
                     "weekday and hour figures leave them out.")
    lines += [f"Note: {n}" for n in report.get("notes", [])]
    return lines


def upload_token(data: bytes, name: str, kind: str) -> str:
    """Identity of an upload (to refuse adding the same file twice from one session)."""
    import hashlib

    return hashlib.sha256(data).hexdigest()[:16] + f"|{kind}|{name}"


def ingest_outcome(outcome: FileCheck, data_dir: Any) -> str:
    """Add an upload's accepted rows to the store (``geo.pipeline.ingest.ingest_check``, which
    logs the ingest's provenance); a plain-text summary of what happened."""
    from geo.pipeline.ingest import ingest_check

    rep = ingest_check(outcome, data_dir)
    return (f"Added {fmt_int(rep['rows_added'])} {outcome.kind} to the store "
            f"({fmt_int(rep['rows_already_stored'])} already there, {fmt_int(rep['rows_rejected'])} rejected)."
            + (" Marked as synthetic demo data." if outcome.synthetic else ""))


def safe_csv(df: pd.DataFrame) -> bytes:
    """Formula-injection-safe CSV bytes (``geo.export.to_safe_csv``)."""
    from geo.io.export import to_safe_csv

    return to_safe_csv(df)


def incidents_csv(incidents: gpd.GeoDataFrame, *, redact: bool) -> bytes:
    """The incidents in view as safe CSV (lat/lon added), masked when redacting."""
    return safe_csv(_masked_geo(incidents, redact))


def incidents_geojson(incidents: gpd.GeoDataFrame, *, redact: bool) -> str:
    """The incidents in view as GeoJSON (WGS84), masked when redacting."""
    from geo.io.export import to_geojson

    return to_geojson(_masked_geo(incidents, redact))


def _masked_geo(gdf: gpd.GeoDataFrame, redact: bool) -> gpd.GeoDataFrame:
    if not redact:
        return gdf
    masked = mask_frame(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), True)
    return gpd.GeoDataFrame(masked, geometry=gdf.geometry.values, crs=gdf.crs)
