"""The roles file: which e-mail address (or group id) has which role, read and changed.

``<data_dir>/access/roles.json`` by default (``HAREWATCH_ROLES_FILE``)::

    {"users": {"a.analyst@essex.police.uk": "analyst", "left@essex.police.uk": "none"},
     "groups": {"6f1c2a0e-...": "viewer"}}

A change is recorded in the audit trail first (refused when it cannot be),
then written atomically (temporary file, flush, rename).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from geo.access import RoleMap, parse_role_map, role_map_dict, with_user_role
from geo.errors import InputError
from geo.io.audit import record

__all__ = ["read_role_map", "write_role_map", "change_role"]


def read_role_map(path: str | os.PathLike) -> RoleMap:
    """The roles file at ``path``; an empty map when there is none.

    Raises
    ------
    InputError
        The file is not valid JSON of the documented shape (names it).
    """
    p = Path(path)
    if not p.exists():
        return RoleMap()
    try:
        obj = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"the roles file {p} cannot be read: {exc}") from exc
    try:
        return parse_role_map(obj)
    except InputError as exc:
        raise InputError(f"{p}: {exc}") from exc


def write_role_map(path: str | os.PathLike, role_map: RoleMap) -> None:
    """Write the roles file atomically (readable by its owner and group only)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(role_map_dict(role_map), fh, indent=2)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, p)


def change_role(roles_path: str | os.PathLike, audit_dir: str | os.PathLike, *, by: str,
                user: str, role: str | None, via: str) -> RoleMap:
    """Set (or with ``role=None`` remove) ``user``'s entry; audited before it is written.

    Parameters
    ----------
    roles_path, audit_dir : path
    by : str
        Who makes the change (admin e-mail or OS account).
    user : str
        Whose role changes (e-mail address).
    role : str or None
        ``viewer``, ``analyst``, ``admin``, ``none`` (blocked) or None (entry removed).
    via : str
        ``"dashboard"`` or ``"cli"``.

    Returns
    -------
    RoleMap
        The new map.

    Raises
    ------
    InputError
        Bad user or role. :class:`geo.errors.AuditError`: not recorded, not changed.
    """
    before = read_role_map(roles_path)
    after = with_user_role(before, user, role)
    email = str(user).strip().lower()
    record(audit_dir, user=by, action="role_change",
           detail={"subject_user": email, "from": before.users.get(email), "to": role, "via": via})
    write_role_map(roles_path, after)
    return after
