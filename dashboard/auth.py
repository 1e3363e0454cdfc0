"""Login, roles and the record of what each user sees: the only module that calls
``st.login``, ``st.logout`` and ``st.user``.

Local mode (the default, ``geo.Settings.auth`` off): nothing changes, no
login, the masking toggle is the analyst's own.

Shared mode (``harewatch dashboard --auth`` or ``HAREWATCH_AUTH=1``):
:func:`gate`, run by ``dashboard/app.py`` before anything else, stops the
run with a login page until the user has logged in through OpenID Connect
(Streamlit's ``st.login``, configured in ``.streamlit/secrets.toml``
``[auth]``), and with a "no access" page when their role is unknown. Then
plates and ids are always masked (:attr:`Access.redact`) except subjects an
analyst revealed with a reason (:func:`ask_grant`), and every page view,
reveal, download and ingest is written to the audit trail first
(:func:`record`); when it cannot be written nothing is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from geo import Settings
from geo.access import (
    ADMIN,
    OLD_READS,
    REVEAL,
    Grant,
    Identity,
    active_grants,
    grant,
    identity_from_claims,
    reads_shown_from,
    revealed_subjects,
)
from geo.errors import AuditError, HarewatchError

__all__ = [
    "Access",
    "gate",
    "record",
    "record_view",
    "audited_download",
    "ask_grant",
    "running_grants",
    "logout_button",
]

#: Session keys of this module (bookkeeping, never widgets).
_GRANTS = "_hw_grants"
_LOGIN_RECORDED = "_hw_login_recorded"
_LAST_VIEW = "_hw_last_view"
_DENIED_RECORDED = "_hw_denied_recorded"
#: Streamlit options shared mode refuses to run without (option -> required value): XSRF
#: checks on, no agent API, and no identity taken from request headers (a client could
#: forge them).
_REQUIRED_OPTIONS: dict[str, object] = {
    "server.enableXsrfProtection": True,
    "server.enableAgentApi": False,
    "server.trustedUserHeaders": {},
}


@dataclass(frozen=True)
class Access:
    """Who is looking in this run and what they may see.

    Attributes
    ----------
    shared : bool
        Shared mode (login, roles, audit) or local mode.
    identity : Identity
    settings : Settings
    now : Timestamp
        UTC time of this run (grants are judged at it).
    grants : tuple of Grant
        Reveals and old-reads authorisations running now (shared mode).
    reads_from : Timestamp
        Earliest ANPR read shown (never past retention; older than the
        authorisation age only with a running authorisation).
    """

    shared: bool
    identity: Identity
    settings: Settings
    now: pd.Timestamp
    grants: tuple[Grant, ...] = field(default=())
    reads_from: pd.Timestamp | None = None

    @property
    def masking_locked(self) -> bool:
        """Shared mode: masking is always on (only reveals show a subject)."""
        return self.shared

    @property
    def unmasked(self) -> frozenset[str]:
        """Plates and ids revealed now."""
        return revealed_subjects(self.grants, self.now)

    @property
    def old_reads(self) -> Grant | None:
        """The running authorisation to see ANPR reads past the authorisation age, if any."""
        running = active_grants(self.grants, self.now, OLD_READS)
        return running[-1] if running else None


def _local_access(settings: Settings, now: pd.Timestamp) -> Access:
    from geo.io.audit import os_user

    reads_from = reads_shown_from(now, keep_days=settings.anpr_keep_days,
                                  authorise_after_days=settings.anpr_authorise_after_days,
                                  authorised=True)
    return Access(False, Identity(os_user(), ADMIN), settings, now, (), reads_from)


def _stop_with(message: str) -> None:
    st.error(message, icon=":material/lock:")
    st.stop()


def _check_setup(settings: Settings) -> None:
    """Shared mode needs ``[auth]`` (or ``[auth.NAME]``) secrets and XSRF protection on."""
    try:
        section = st.secrets.get("auth")
    except Exception:  # no secrets file at all
        section = None
    if not isinstance(section, Mapping) or (settings.auth_provider
                                            and settings.auth_provider not in section):
        where = f"[auth.{settings.auth_provider}]" if settings.auth_provider else "[auth]"
        _stop_with(f"Shared mode needs an OpenID Connect login configured in "
                   f".streamlit/secrets.toml {where} (see the README, 'Shared mode'). "
                   "Nothing is shown until it is.")
    for option, wanted in _REQUIRED_OPTIONS.items():
        if st.get_option(option) not in (wanted, str(wanted)):
            _stop_with(f"Shared mode refuses to run with the Streamlit option {option} = "
                       f"{st.get_option(option)!r}; start it with `harewatch dashboard --auth`.")
    st.set_option("client.disableDataExport", True)  # table exports bypass the audit


def _login_page(settings: Settings) -> None:
    st.title("Harewatch")
    st.write("This dashboard holds personal data. Log in with your force account to continue.")
    if st.button("Log in", type="primary"):
        if settings.auth_provider:
            st.login(settings.auth_provider)
        else:
            st.login()
    st.stop()


def _no_access_page(settings: Settings, claims: Mapping[str, object]) -> None:
    from geo.access import user_of_claims

    who = user_of_claims(claims) or "unknown user"
    if not st.session_state.get(_DENIED_RECORDED):
        _write(settings, who, "denied", {"roles_claim": settings.roles_claim})
        st.session_state[_DENIED_RECORDED] = True
    st.title("No access")
    st.error("Your account has no Harewatch role. Ask your force's Harewatch administrator "
             "to give you one.", icon=":material/block:")
    if st.button("Log out"):
        st.logout()
    st.stop()


def _write(settings: Settings, user: str, action: str, detail: Mapping[str, object],
           reason: str | None = None) -> None:
    from geo.io.audit import record as write_entry

    try:
        write_entry(settings.audit_dir, user=user, action=action, detail=dict(detail),
                    reason=reason)
    except AuditError as exc:
        _stop_with(f"The audit trail cannot be written, so nothing is shown: {exc}")


def gate(settings: Settings) -> Access:
    """Who is looking; stops the run (login page, no-access page, setup error) when nobody may.

    Local mode returns the operating-system user (nothing changes). Shared
    mode: login first, then the role (claim or roles file); the login is
    recorded once per session.
    """
    now = pd.Timestamp.now(tz="UTC")
    if not settings.auth:
        return _local_access(settings, now)
    _check_setup(settings)
    if not st.user.is_logged_in:
        _login_page(settings)
    claims = st.user.to_dict()
    from geo.io.roles import read_role_map

    try:
        role_map = read_role_map(settings.roles_path)
    except HarewatchError as exc:
        _stop_with(f"The roles file cannot be used: {exc}")
    identity = identity_from_claims(claims, role_map, settings.roles_claim)
    if identity is None:
        _no_access_page(settings, claims)
    if st.session_state.get(_LOGIN_RECORDED) != (identity.user, identity.role):
        _write(settings, identity.user, "login", {"role": identity.role})
        st.session_state[_LOGIN_RECORDED] = (identity.user, identity.role)
    grants = active_grants(st.session_state.get(_GRANTS, ()), now)
    st.session_state[_GRANTS] = grants  # expired grants are forgotten
    authorised = bool(active_grants(grants, now, OLD_READS))
    reads_from = reads_shown_from(now, keep_days=settings.anpr_keep_days,
                                  authorise_after_days=settings.anpr_authorise_after_days,
                                  authorised=authorised)
    return Access(True, identity, settings, now, grants, reads_from)


def record(access: Access, action: str, detail: Mapping[str, object],
           reason: str | None = None) -> None:
    """Write one audit entry (shared mode); stop the run when it cannot be written."""
    if access.shared:
        _write(access.settings, access.identity.user, action, detail, reason)


def record_view(access: Access, page: str, filters: Mapping[str, str]) -> None:
    """Record a page view with its filters, once per change of page or filters."""
    if not access.shared:
        return
    key = (page, tuple(sorted(filters.items())), tuple(sorted(access.unmasked)))
    if st.session_state.get(_LAST_VIEW) == key:
        return
    record(access, "view", {"page": page, "filters": dict(filters),
                            "revealed": sorted(access.unmasked)})
    st.session_state[_LAST_VIEW] = key


def audited_download(access: Access, what: Mapping[str, object],
                     make: Callable[[], bytes | str]) -> Callable[[], bytes | str]:
    """``make`` for ``st.download_button(data=...)``, recorded before the file is made.

    The entry names the file and what it holds (``what``: rows, masked...). When
    the entry cannot be written the download fails (nothing is sent).
    """
    if not access.shared:
        return make
    settings, user, detail = access.settings, access.identity.user, dict(what)

    def audited() -> bytes | str:
        from geo.io.audit import record as write_entry

        write_entry(settings.audit_dir, user=user, action="download", detail=detail)
        return make()

    return audited


def ask_grant(access: Access, kind: str, reason: str, *, subject: str = "",
              subject_kind: str = "") -> Grant:
    """Grant a reveal (``"reveal"``) or old-reads authorisation (``"old_reads"``), recorded first.

    Raises
    ------
    AccessDenied
        A viewer (or local mode, where nothing is masked by force) asked.
    InputError
        No or a short reason; no subject.
    AuditError
        Not recorded: nothing granted.
    """
    from geo.errors import AccessDenied
    from geo.io.audit import record as write_entry

    if not access.shared:
        raise AccessDenied("reveals are for the shared mode; locally, use the masking toggle")
    g = grant(access.identity, kind, reason, now=pd.Timestamp.now(tz="UTC"),
              minutes=access.settings.reveal_minutes, subject=subject, subject_kind=subject_kind)
    detail = ({"subject": g.subject, "subject_kind": g.subject_kind} if kind == REVEAL
              else {"reads_older_than_days": access.settings.anpr_authorise_after_days})
    write_entry(access.settings.audit_dir, user=access.identity.user,
                action="reveal" if kind == REVEAL else "authorise",
                detail={**detail, "until": g.expires_at.isoformat()}, reason=g.reason)
    st.session_state[_GRANTS] = (*st.session_state.get(_GRANTS, ()), g)
    return g


def running_grants(kind: str | None = None) -> tuple[Grant, ...]:
    """This session's grants still running now (of ``kind`` when given); for fragments that
    rerun without the frame (``Access.grants`` is as of the run's start)."""
    return active_grants(st.session_state.get(_GRANTS, ()), pd.Timestamp.now(tz="UTC"), kind)


def logout_button(access: Access) -> None:
    """The signed-in user and a log-out button in the sidebar (shared mode)."""
    if not access.shared:
        return
    from dashboard.views.format import md_escape

    st.sidebar.caption(f"Signed in as {md_escape(access.identity.user)} "
                       f"({access.identity.role})")
    if st.sidebar.button("Log out", key="w_logout"):
        st.logout()
