"""``harewatch audit``, ``harewatch store purge``, ``harewatch users`` and the CLI's own audit.

Every command that reads or writes personal data is recorded in the audit
trail (``<data_dir>/audit/``) with the operating-system user before it runs
(:func:`audit_command`); when the entry cannot be written the command is
refused (exit 2).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from geo.cli._common import EXIT_OK, EXIT_REJECTS, err, settings_from
from geo.errors import InputError

__all__ = [
    "AUDITED_COMMANDS",
    "audit_command",
    "cmd_audit_show",
    "cmd_audit_repair",
    "cmd_audit_verify",
    "cmd_store_purge",
    "cmd_users_list",
    "cmd_users_set",
]

#: Command (``command`` or ``command action``) -> audit action. Commands not here touch no
#: personal data (boundaries, demo, camera register, store metadata) or audit themselves
#: (``store purge``, ``users set``).
AUDITED_COMMANDS: dict[str, str] = {
    "validate": "read",
    "ingest": "ingest",
    "hotspots": "read",
    "offenders": "read",
    "watch": "ingest",
    "dashboard": "read",
    "store upgrade": "alter",
    "store compact": "alter",
    "store vacuum": "alter",
    "audit show": "audit_read",
    "plan": "read",
    "case": "read",
    "plates": "read",
    "interactions import": "ingest",
}


def _name(args: argparse.Namespace) -> str:
    action = getattr(args, "action", None)
    return f"{args.command} {action}" if isinstance(action, str) else str(args.command)


def _safe_args(args: argparse.Namespace) -> dict:
    """The command's options as JSON values (no function objects; paths as text)."""
    out = {}
    for k, v in vars(args).items():
        if k in ("func", "command", "action") or v is None or callable(v):
            continue
        out[k] = [str(x) for x in v] if isinstance(v, list | tuple) else (
            v if isinstance(v, bool | int | float) else str(v))
    return out


#: Commands that only work on an existing store: with no store they touch no data (and
#: the audit must not create one).
_STORE_ONLY = ("store upgrade", "store compact", "store vacuum", "audit show")


def _touches_data(name: str, args: argparse.Namespace, data_dir: Path) -> bool:
    """Whether the command will get to personal data (a store to read, a folder to watch)."""
    if name in _STORE_ONLY:
        return data_dir.is_dir()
    if name == "watch":
        return Path(args.incoming).is_dir()
    return True


def audit_command(args: argparse.Namespace) -> None:
    """Record a CLI command that reads or writes personal data (before it runs).

    Raises
    ------
    AuditError
        The entry cannot be written: the command must not run.
    """
    name = _name(args)
    action = AUDITED_COMMANDS.get(name)
    settings = settings_from(args)
    if action is None or not _touches_data(name, args, settings.data_dir):
        return
    from geo.io.audit import os_user, record

    record(settings.audit_dir, user=os_user(), action=action,
           detail={"via": "cli", "command": f"harewatch {name}", "options": _safe_args(args)})


def _since(text: str | None):
    import pandas as pd

    if not text:
        return None
    try:
        ts = pd.Timestamp(text)
    except ValueError as exc:
        raise InputError(f"--since must be a date or time such as 2025-01-31, got {text!r}") from exc
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts


def _entry_line(e: dict) -> str:
    reason = f" reason={json.dumps(e.get('reason'))}" if e.get("reason") else ""
    detail = json.dumps(e.get("detail", {}), sort_keys=True, ensure_ascii=False)
    return f"{e.get('seq')}\t{e.get('at')}\t{e.get('user')}\t{e.get('action')}\t{detail}{reason}"


def cmd_audit_show(args) -> int:
    """Entries of the audit trail (filtered), JSON list or one line each."""
    from geo.io.audit import filter_entries, read_entries

    entries = filter_entries(read_entries(settings_from(args).audit_dir), user=args.user,
                             since=_since(args.since), action=args.only_action)
    if args.format == "json":
        print(json.dumps(entries, indent=2, ensure_ascii=False))
    else:
        for e in entries:
            print(_entry_line(e))
        err(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}")
    return EXIT_OK


def cmd_audit_verify(args) -> int:
    """Check the hash chain: exit 0 intact, 1 naming the first altered/removed/reordered entry."""
    from geo.io.audit import verify_trail

    check = verify_trail(settings_from(args).audit_dir)
    if args.format == "json":
        print(json.dumps(check.to_dict(), indent=2))
    elif check.ok:
        print(f"audit trail intact: {check.entries} entries; head {check.head}")
    else:
        print(f"audit trail NOT intact: {check.problem}")
    return EXIT_OK if check.ok else EXIT_REJECTS


def cmd_audit_repair(args) -> int:
    """Set aside an unfinished last write of the trail (power cut, full disk); exit 1 when
    the trail has another problem (nothing changed)."""
    from geo.io.audit import os_user, repair_trail

    out = repair_trail(settings_from(args).audit_dir, user=os_user())
    if args.format == "json":
        print(json.dumps(out, indent=2))
    elif out["repaired"]:
        print(f"set aside {out['bytes']} bytes of an unfinished write to {out['set_aside']} "
              f"(SHA-256 {out['sha256']}); recorded as entry {out['entry']}")
    else:
        print(f"nothing repaired: {out['problem']}" if out["problem"]
              else "nothing to repair: the trail ends in a whole entry")
    return EXIT_REJECTS if out["problem"] else EXIT_OK


def cmd_store_purge(args) -> int:
    """Apply the ANPR retention policy: a dry run unless ``--apply``; audited before and after."""
    import pandas as pd

    from geo.io.audit import os_user
    from geo.pipeline.retention import run_purge

    settings = settings_from(args)
    keep = settings.anpr_keep_days if args.keep_days is None else args.keep_days
    report = run_purge(settings, user=os_user(), via="cli", apply=args.apply, keep_days=keep)
    cutoff = pd.Timestamp(report.cutoff)
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2))
        return EXIT_OK
    verb = "would remove" if report.dry_run else "removed"
    print(f"ANPR reads before {cutoff:%Y-%m-%d} (kept {keep} days): {verb} "
          f"{report.reads_removed:,} read(s) in {len(report.months)} month(s) "
          f"{', '.join(report.months)}; {report.alerts_removed} alert(s); "
          f"{len(report.rejects_removed)} rejects file(s); {report.files_deleted} data file(s) "
          f"and {report.derived_removed} derived result file(s) (cache/) "
          f"{'to delete' if report.dry_run else 'deleted'}")
    if report.dry_run:
        err("dry run: nothing was changed; run again with --apply to purge")
    return EXIT_OK


def cmd_users_list(args) -> int:
    """The roles file's users and groups (JSON)."""
    from geo.access import role_map_dict
    from geo.io.roles import read_role_map

    settings = settings_from(args)
    print(json.dumps(role_map_dict(read_role_map(settings.roles_path)), indent=2))
    err(f"roles file: {settings.roles_path}")
    return EXIT_OK


def cmd_users_set(args) -> int:
    """Set (or remove) one user's role in the roles file; audited first."""
    from geo.io.audit import os_user
    from geo.io.roles import change_role

    settings = settings_from(args)
    role = None if args.role == "remove" else args.role
    change_role(settings.roles_path, settings.audit_dir, by=os_user(), user=args.email, role=role,
                via="cli")
    err(f"{args.email}: {'entry removed' if role is None else role} ({Path(settings.roles_path)})")
    return EXIT_OK
