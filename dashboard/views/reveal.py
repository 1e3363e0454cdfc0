"""Reveal, Audit and Users-and-retention pages: table shaping (pure, no Streamlit)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from geo.access import Grant
from geo.privacy import is_vehicle_kind
from geo.schema import LONDON

__all__ = [
    "split_option",
    "subject_kind_of",
    "grant_line",
    "audit_table",
    "roles_table",
    "purge_lines",
    "withheld_reads_line",
]


def split_option(key: str) -> tuple[str, str, str]:
    """``"kind|subject|season"`` (``dashboard.views.hoppers.subject_options``) -> its parts."""
    kind, rest = str(key).split("|", 1)
    subject, season = rest.rsplit("|", 1)
    return kind, subject, season


def subject_kind_of(kind: str) -> str:
    """``"plate"`` for a vehicle ladder subject, else ``"id"``."""
    return "plate" if is_vehicle_kind(str(kind)) else "id"


def _london(ts: pd.Timestamp) -> str:
    return pd.Timestamp(ts).tz_convert(LONDON).strftime("%H:%M")


def grant_line(g: Grant) -> str:
    """One sentence about a running grant (plain text: escape before Markdown)."""
    what = f"{g.subject_kind} {g.subject}" if g.kind == "reveal" else "ANPR reads past the authorisation age"
    return (f"{what}: by {g.user} until {_london(g.expires_at)} London time. Reason: {g.reason}")


def withheld_reads_line(count: int, reads_from: pd.Timestamp, *, keep_days: int,
                        authorise_after_days: int, authorised: bool) -> str:
    """Why ``count`` stored ANPR reads before ``reads_from`` (UTC) are not shown (plain text).

    ``authorised``: every read inside retention may be shown (local mode, or a running
    old-reads authorisation); otherwise the cut is the authorisation age.
    """
    n = f"{count:,} stored ANPR read{'s' if count != 1 else ''}"
    day = pd.Timestamp(reads_from).tz_convert(LONDON).strftime("%d %b %Y")
    if authorised or authorise_after_days >= keep_days:
        return (f"{n} before {day} not shown: past the {keep_days}-day retention "
                "('harewatch store purge' deletes them).")
    return (f"{n} before {day} not shown: reads older than {authorise_after_days} days need a "
            f"recorded authorisation (Reveal page); none older than {keep_days} days is ever shown.")


def audit_table(entries: Iterable[Mapping], *, newest_first: bool = True) -> pd.DataFrame:
    """Audit entries as a display table: seq, at (London), user, action, reason, detail (JSON)."""
    import json

    rows = [{
        "seq": int(e.get("seq", 0)),
        "at": pd.to_datetime(e.get("at"), utc=True, errors="coerce"),
        "user": str(e.get("user", "")),
        "action": str(e.get("action", "")),
        "reason": str(e.get("reason") or ""),
        "detail": json.dumps(e.get("detail", {}), sort_keys=True, ensure_ascii=False),
    } for e in entries]
    cols = ["seq", "at", "user", "action", "reason", "detail"]
    out = pd.DataFrame(rows, columns=cols)
    if len(out):
        out["at"] = out["at"].dt.tz_convert(LONDON).dt.strftime("%Y-%m-%d %H:%M:%S")
    return out.sort_values("seq", ascending=not newest_first).reset_index(drop=True)


def roles_table(role_map) -> pd.DataFrame:
    """The roles file as one table: who (e-mail or group id), kind (user, group), role."""
    rows = [(u, "user", r) for u, r in sorted(role_map.users.items())]
    rows += [(g, "group", r) for g, r in sorted(role_map.groups.items())]
    return pd.DataFrame(rows, columns=["who", "kind", "role"])


def purge_lines(report) -> list[str]:
    """What a purge did or would do (``geo.io.store.retention.PurgeReport``), one line each."""
    verb = "Would remove" if report.dry_run else "Removed"
    months = ", ".join(report.months) or "none"
    return [f"{verb} {report.reads_removed:,} ANPR reads before {report.cutoff[:10]} "
            f"(months {months}).",
            f"{report.alerts_removed:,} alerts on those reads; {len(report.rejects_removed)} old "
            f"rejects files; {report.files_deleted} data files "
            + ("to delete from disk." if report.dry_run else "deleted from disk.")]
