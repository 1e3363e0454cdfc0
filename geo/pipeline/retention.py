"""Applying the ANPR retention policy, recorded: the one place a purge is audited.

``harewatch store purge`` and the dashboard's retention panel both call
:func:`run_purge`: an audit entry before the purge (refused when it cannot
be written) and one after it with what went.
"""

from __future__ import annotations

import pandas as pd

from geo._config import Settings
from geo.access import retention_cutoff
from geo.io.audit import record
from geo.io.store.retention import PurgeReport, purge_reads

__all__ = ["run_purge"]


def run_purge(settings: Settings, *, user: str, via: str, apply: bool,
              keep_days: int | None = None, now: pd.Timestamp | None = None) -> PurgeReport:
    """Purge (or with ``apply=False`` count) the ANPR reads past retention, audited.

    Parameters
    ----------
    settings : Settings
        ``data_dir``, ``audit_dir`` and ``anpr_keep_days``.
    user : str
        Who runs it (OS account or the admin's e-mail).
    via : str
        ``"cli"`` or ``"dashboard"``.
    apply : bool
        False: a dry run (nothing changes).
    keep_days : int, optional
        Overrides ``settings.anpr_keep_days``.
    now : Timestamp, optional
        Tz-aware (default: now).

    Raises
    ------
    AuditError
        Not recorded: nothing purged.
    """
    keep = settings.anpr_keep_days if keep_days is None else keep_days
    cutoff = retention_cutoff(pd.Timestamp.now(tz="UTC") if now is None else now, keep)
    base = {"via": via, "keep_days": keep, "cutoff": cutoff.isoformat(), "dry_run": not apply}
    record(settings.audit_dir, user=user, action="purge", detail={**base, "stage": "start"})
    report = purge_reads(settings.data_dir, cutoff=cutoff, dry_run=not apply)
    outcome = {k: v for k, v in report.to_dict().items() if k not in ("cutoff", "dry_run")}
    record(settings.audit_dir, user=user, action="purge", detail={**base, "stage": "done", **outcome})
    return report
