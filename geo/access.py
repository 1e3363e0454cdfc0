"""Who may see what: roles, reveals of one subject, and the ANPR time windows.

Pure policy, no I/O (the roles file is read by :mod:`geo.io.access_file`,
the login is the dashboard's): the dashboard and the CLI ask these functions
and obey the answer.

Roles, lowest first (:data:`ROLES`):

- ``viewer``: briefing and maps; plates and ids always masked.
- ``analyst``: also the analysis pages; may reveal one subject's plate or id
  for :attr:`geo.Settings.reveal_minutes` after giving a reason.
- ``admin``: also users (the roles file), retention and the audit trail.

A user's role comes from the roles file's entry for their e-mail address
when there is one (``"none"`` blocks the user), else from the OIDC claim
(``roles`` or ``groups``): a value naming a role (``analyst``,
``Harewatch.Analyst``) or a group id the roles file maps to a role; the
highest role found wins. Nobody found: no access.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import pandas as pd

from geo.errors import AccessDenied, InputError

__all__ = [
    "VIEWER",
    "ANALYST",
    "ADMIN",
    "NONE",
    "ROLES",
    "MIN_REASON_CHARS",
    "RoleMap",
    "Identity",
    "Grant",
    "parse_role_map",
    "role_map_dict",
    "with_user_role",
    "user_of_claims",
    "role_of",
    "identity_from_claims",
    "has_role",
    "grant",
    "active_grants",
    "revealed_subjects",
    "reads_shown_from",
    "retention_cutoff",
    "drop_reads_before",
]

VIEWER, ANALYST, ADMIN = "viewer", "analyst", "admin"
#: Roles, lowest first.
ROLES: tuple[str, ...] = (VIEWER, ANALYST, ADMIN)
#: The roles file value that blocks a user whatever their claims say.
NONE = "none"
#: A reveal or an authorisation needs a reason of at least this many characters.
MIN_REASON_CHARS = 10
#: Longest reason kept (characters).
MAX_REASON_CHARS = 500
#: Prefix an OIDC app role may carry (Entra ID app roles: ``Harewatch.Analyst``).
ROLE_PREFIX = "harewatch."
#: Grant kinds: reveal one subject; consult ANPR reads older than the authorisation age.
REVEAL, OLD_READS = "reveal", "old_reads"


@dataclass(frozen=True)
class RoleMap:
    """The roles file: e-mail address -> role (or ``"none"``), group id -> role.

    Attributes
    ----------
    users : mapping of str to str
        Lower-case e-mail address -> ``viewer``, ``analyst``, ``admin`` or ``none``.
    groups : mapping of str to str
        Group id (e.g. an Entra ID group object id) or claim value -> role.
    """

    users: Mapping[str, str] = field(default_factory=dict)
    groups: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Identity:
    """The person (or OS account) acting, and their role.

    Attributes
    ----------
    user : str
        E-mail address (OIDC), or ``os:<account>`` (CLI, local dashboard).
    role : str
        One of :data:`ROLES`.
    name : str
        Display name, when the provider gives one.
    """

    user: str
    role: str
    name: str = ""

    @property
    def may_reveal(self) -> bool:
        """Analysts and admins may reveal one subject (with a reason)."""
        return has_role(self, ANALYST)

    @property
    def is_admin(self) -> bool:
        return has_role(self, ADMIN)


@dataclass(frozen=True)
class Grant:
    """A recorded, time-limited permission: a reveal of one subject, or old ANPR reads.

    Attributes
    ----------
    kind : str
        ``"reveal"`` or ``"old_reads"``.
    subject : str
        The plate or id revealed (``""`` for old reads).
    subject_kind : str
        ``"plate"`` or ``"id"`` (``""`` for old reads).
    reason : str
    user : str
    granted_at, expires_at : pandas.Timestamp
        UTC.
    """

    kind: str
    subject: str
    subject_kind: str
    reason: str
    user: str
    granted_at: pd.Timestamp
    expires_at: pd.Timestamp

    def is_active(self, now: pd.Timestamp) -> bool:
        return self.granted_at <= now < self.expires_at


def _role_value(value: object) -> str:
    text = str(value).strip().lower()
    return text[len(ROLE_PREFIX):] if text.startswith(ROLE_PREFIX) else text


def parse_role_map(obj: object) -> RoleMap:
    """A :class:`RoleMap` from the roles file's JSON object.

    ``{"users": {"a@force.example": "analyst"}, "groups": {"<group id>": "viewer"}}``;
    e-mail addresses are compared in lower case.

    Raises
    ------
    InputError
        Not an object of that shape, or an unknown role (named).
    """
    if not isinstance(obj, Mapping) or set(obj) - {"users", "groups"}:
        raise InputError('the roles file must be a JSON object with "users" and/or "groups"')
    out: dict[str, dict[str, str]] = {}
    for part, allowed in (("users", (*ROLES, NONE)), ("groups", ROLES)):
        items = obj.get(part, {})
        if not isinstance(items, Mapping):
            raise InputError(f'"{part}" of the roles file must map names to roles')
        bad = {k: v for k, v in items.items() if _role_value(v) not in allowed}
        if bad:
            key, value = next(iter(bad.items()))
            raise InputError(f"roles file: {part} entry {key!r} has role {value!r}; "
                             f"allowed: {', '.join(allowed)}")
        out[part] = {(str(k).strip().lower() if part == "users" else str(k).strip()): _role_value(v)
                     for k, v in items.items()}
    return RoleMap(users=out["users"], groups=out["groups"])


def role_map_dict(role_map: RoleMap) -> dict[str, dict[str, str]]:
    """The JSON object of a role map (sorted keys)."""
    return {"users": dict(sorted(role_map.users.items())),
            "groups": dict(sorted(role_map.groups.items()))}


def with_user_role(role_map: RoleMap, user: str, role: str | None) -> RoleMap:
    """A copy with ``user``'s entry set to ``role`` (``None`` removes the entry).

    Raises
    ------
    InputError
        Empty user or unknown role.
    """
    email = str(user).strip().lower()
    if not email:
        raise InputError("a user (e-mail address) is needed")
    users = dict(role_map.users)
    if role is None:
        users.pop(email, None)
    else:
        value = _role_value(role)
        if value not in (*ROLES, NONE):
            raise InputError(f"role must be one of {', '.join((*ROLES, NONE))}, got {role!r}")
        users[email] = value
    return replace(role_map, users=users)


def user_of_claims(claims: Mapping[str, object]) -> str:
    """The user's e-mail (``email``, else ``preferred_username``, ``upn``), lower case; else ``sub``."""
    for key in ("email", "preferred_username", "upn"):
        value = claims.get(key)
        if isinstance(value, str) and "@" in value:
            return value.strip().lower()
    sub = claims.get("sub")
    return str(sub).strip() if sub else ""


def _claim_values(claims: Mapping[str, object], claim: str) -> list[str]:
    raw = claims.get(claim)
    if raw is None:
        return []
    if isinstance(raw, str):
        return [v for v in raw.replace(",", " ").split() if v]
    if isinstance(raw, Iterable):
        return [str(v) for v in raw]
    return [str(raw)]


def role_of(user: str, claim_values: Iterable[str], role_map: RoleMap) -> str | None:
    """The role of a user: their roles-file entry, else the highest role their claim gives.

    Returns
    -------
    str or None
        One of :data:`ROLES`; None for no access (unknown, or ``"none"`` in the file).
    """
    entry = role_map.users.get(str(user).strip().lower())
    if entry is not None:
        return None if entry == NONE else entry
    found = set()
    for value in claim_values:
        role = _role_value(value)
        found.add(role if role in ROLES else role_map.groups.get(str(value).strip()))
    ranked = [r for r in ROLES if r in found]
    return ranked[-1] if ranked else None


def identity_from_claims(claims: Mapping[str, object], role_map: RoleMap,
                         roles_claim: str = "roles") -> Identity | None:
    """The :class:`Identity` of a logged-in user, None when they have no access."""
    user = user_of_claims(claims)
    if not user:
        return None
    role = role_of(user, _claim_values(claims, roles_claim), role_map)
    if role is None:
        return None
    name = claims.get("name")
    return Identity(user=user, role=role, name=str(name) if isinstance(name, str) else "")


def has_role(identity: Identity, needed: str) -> bool:
    """Whether ``identity``'s role is ``needed`` or higher."""
    if needed not in ROLES:
        raise InputError(f"unknown role {needed!r}")
    return identity.role in ROLES and ROLES.index(identity.role) >= ROLES.index(needed)


def grant(identity: Identity, kind: str, reason: str, *, now: pd.Timestamp, minutes: float,
          subject: str = "", subject_kind: str = "") -> Grant:
    """A reveal of one subject (``kind="reveal"``) or of old ANPR reads (``"old_reads"``).

    Parameters
    ----------
    identity : Identity
        Who asks; analysts and admins only.
    kind : str
        ``"reveal"`` or ``"old_reads"``.
    reason : str
        Why, at least :data:`MIN_REASON_CHARS` characters (kept to
        :data:`MAX_REASON_CHARS`).
    now : Timestamp
        Tz-aware.
    minutes : float
        How long it lasts (> 0).
    subject, subject_kind : str
        For a reveal: the plate or id and ``"plate"`` / ``"id"``.

    Raises
    ------
    AccessDenied
        A viewer asked.
    InputError
        No reason, a short one, no subject, or a bad kind or duration.
    """
    if not identity.may_reveal:
        raise AccessDenied(f"{identity.user} is a {identity.role}: only analysts and admins "
                           "may reveal plates or ids, or consult old ANPR reads")
    if kind not in (REVEAL, OLD_READS):
        raise InputError(f"grant kind must be {REVEAL!r} or {OLD_READS!r}, got {kind!r}")
    text = " ".join(str(reason or "").split())[:MAX_REASON_CHARS]
    if len(text) < MIN_REASON_CHARS:
        raise InputError(f"give a reason of at least {MIN_REASON_CHARS} characters "
                         "(e.g. the incident or operation it is for)")
    if kind == REVEAL and (not str(subject).strip() or subject_kind not in ("plate", "id")):
        raise InputError("a reveal needs one subject: a plate or an id")
    if not (minutes > 0 and minutes < 24 * 60):
        raise InputError(f"a grant lasts more than 0 and less than 1440 minutes, got {minutes!r}")
    start = pd.Timestamp(now).tz_convert("UTC")
    return Grant(kind, str(subject).strip() if kind == REVEAL else "",
                 subject_kind if kind == REVEAL else "", text, identity.user,
                 start, start + pd.Timedelta(minutes=float(minutes)))


def active_grants(grants: Iterable[Grant], now: pd.Timestamp, kind: str | None = None) -> tuple[Grant, ...]:
    """The grants still running at ``now`` (of ``kind`` when given), oldest first."""
    return tuple(g for g in grants if g.is_active(now) and (kind is None or g.kind == kind))


def revealed_subjects(grants: Iterable[Grant], now: pd.Timestamp) -> frozenset[str]:
    """Plates and ids revealed at ``now``."""
    return frozenset(g.subject for g in active_grants(grants, now, REVEAL))


def _next_midnight(ts: pd.Timestamp) -> pd.Timestamp:
    """The first UTC midnight after ``ts`` (so a day's cut-off hides a little more, never less)."""
    return pd.Timestamp(ts).tz_convert("UTC").floor("D") + pd.Timedelta(days=1)


def retention_cutoff(now: pd.Timestamp, keep_days: int) -> pd.Timestamp:
    """Reads before this instant are past retention: ``keep_days`` before the next UTC midnight.

    Whole days keep the cut-off (and the dashboard's caches) stable for a day;
    rounding up means a read is never kept or shown past ``keep_days``.

    Raises
    ------
    InputError
        ``keep_days`` is not a positive whole number.
    """
    if isinstance(keep_days, bool) or int(keep_days) != keep_days or keep_days < 1:
        raise InputError(f"ANPR reads must be kept a whole number of days >= 1, got {keep_days!r}")
    return _next_midnight(now) - pd.Timedelta(days=int(keep_days))


def reads_shown_from(now: pd.Timestamp, *, keep_days: int, authorise_after_days: int,
                     authorised: bool) -> pd.Timestamp:
    """Earliest read time the dashboard may show (whole UTC days, so caches keep for a day).

    Past retention never; older than ``authorise_after_days`` only when
    ``authorised`` (a recorded authorisation is running, or local mode).
    """
    days = keep_days if authorised else min(authorise_after_days, keep_days)
    return retention_cutoff(now, days)


def drop_reads_before(frame: pd.DataFrame | None, since: pd.Timestamp | None,
                      time_col: str = "read_at") -> pd.DataFrame | None:
    """The rows of ``frame`` read at or after ``since`` (a new frame; None and no limit pass).

    Rows without a time are dropped too: their age cannot be shown to be inside the window.
    """
    if frame is None or since is None or time_col not in frame.columns:
        return frame
    times = pd.to_datetime(frame[time_col], utc=True, errors="coerce")
    return frame[(times >= pd.Timestamp(since).tz_convert("UTC")).to_numpy()].copy()
