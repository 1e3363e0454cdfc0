"""Settings: the one place Harewatch reads its configuration and defines its defaults.

:meth:`Settings.from_env` is the only reader of ``HAREWATCH_*`` environment
variables in the code base (geopandas' ``_config`` registry is the model);
every default (DBSCAN radius and size, season start month, trip gap, window
around incidents, folders) is defined once here, in :data:`DEFAULTS`.

==========================  =======================================  ==========================
variable                    setting                                  default
==========================  =======================================  ==========================
``HAREWATCH_BOUNDARIES``    ``boundaries``: police force area file   ``data/boundaries/`` file
``HAREWATCH_DATA_DIR``      ``data_dir``: the store                  ``data/incidents/``
``HAREWATCH_DEMO_SEED``     ``demo_seed``: seed of the demo data     0
``HAREWATCH_NO_FETCH``      ``allow_fetch`` (``1`` turns it off)     fetch allowed
``HAREWATCH_CACHE_DIR``     ``cache_dir``: rebuildable files         ``$XDG_CACHE_HOME/harewatch``
                            (force index, demo, verified files),     (else ``~/.cache/harewatch``)
                            ``off`` for none
``HAREWATCH_AUTH``          ``auth``: shared mode, login required    off (local mode)
``HAREWATCH_AUTH_PROVIDER`` ``auth_provider``: ``[auth.NAME]``       ``""`` (the ``[auth]`` keys)
``HAREWATCH_ROLES_CLAIM``   ``roles_claim``: OIDC claim of roles     ``roles``
``HAREWATCH_ROLES_FILE``    ``roles_file``: e-mail/group -> role     ``<data_dir>/access/roles.json``
``HAREWATCH_REVEAL_MINUTES`` ``reveal_minutes``: a reveal lasts      15
``HAREWATCH_ANPR_KEEP_DAYS`` ``anpr_keep_days``: reads kept          365
``HAREWATCH_ANPR_AUTHORISE_AFTER_DAYS`` ``anpr_authorise_after_days``  90
==========================  =======================================  ==========================

The ANPR defaults follow the National ANPR Standards for Policing and Law
Enforcement (NASPLE): reads are kept for at most 12 months, and reads older
than 90 days are consulted only with a recorded authorisation.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

__all__ = ["REPO_ROOT", "Settings", "DEFAULTS"]

#: The checkout (or install) root: ``data/boundaries`` and ``data/incidents`` live below it.
REPO_ROOT = Path(__file__).resolve().parent.parent

ENV_PREFIX = "HAREWATCH_"


@dataclass(frozen=True)
class Settings:
    """Configuration of one run.

    Attributes
    ----------
    boundaries : Path or None
        Police force area file; None means "look in ``boundaries_dir``".
    boundaries_dir : Path
        Folder searched for a boundary file (and where a fetch saves it).
    data_dir : Path
        The store.
    demo_seed : int
        Seed of the synthetic demo scenario.
    allow_fetch : bool
        Whether a missing boundary file may be downloaded on first run.
    eps_m : float
        DBSCAN neighbourhood radius, metres.
    min_samples : int
        DBSCAN minimum incidents in a neighbourhood (the point included).
    start_month : int
        First month of a coursing season (1-12).
    max_gap_h : float
        Gap between two reads of a plate that starts a new trip, hours.
    window_h : float
        A crossing within this many hours of a linked incident is flagged.
    coastal_tolerance_m : float
        A located row outside every force area but at most this far from one
        is given the nearest force (generalised boundaries cut the coast;
        ``benchmarks/coastal_tolerance.py`` measured 35-395 m for shore-side
        places of the seven forces on the ONS BUC file).
    max_field_chars : int
        Longest field read, in characters (Excel's own cell limit); a row
        with a longer one is rejected.
    max_file_bytes : int
        Largest input file read.
    max_unpacked_bytes : int
        Largest uncompressed content of a compressed input (an .xlsx is a
        zip): a zip bomb is refused before it is unpacked.
    max_rows : int
        Most data rows read from one file.
    cache_dir : Path or None
        The user cache: files rebuilt from their inputs when missing (the
        force index of a boundary file, the demo data), keyed by a hash of
        what they are made from, and the record of store files whose SHA-256
        was checked (:mod:`geo.io.store.verify`); never in the repository.
        None: no cache.
    earliest_year : int
        Dates before 1 January of this year are rejected as implausible.
    future_tolerance_h : float
        Dates more than this many hours after now are rejected as implausible.
    auth : bool
        Shared mode: the dashboard requires an OpenID Connect login
        (``st.login``) and enforces roles; False is the local mode.
    auth_provider : str
        Name of the provider section ``[auth.NAME]`` of ``.streamlit/secrets.toml``
        to log in with; ``""`` uses the keys of ``[auth]`` itself.
    roles_claim : str
        OIDC claim holding the user's roles or groups (``roles``; ``groups`` for
        Entra ID security groups).
    roles_file : Path or None
        JSON file mapping e-mail addresses and group ids to roles; None means
        ``<data_dir>/access/roles.json``.
    reveal_minutes : float
        How long an analyst's reveal of one plate or id lasts, minutes.
    anpr_keep_days : int
        ANPR reads older than this many days are purged and never shown.
    anpr_authorise_after_days : int
        ANPR reads older than this many days are shown only with a recorded
        authorisation (shared mode).
    """

    boundaries: Path | None = None
    boundaries_dir: Path = REPO_ROOT / "data" / "boundaries"
    data_dir: Path = REPO_ROOT / "data" / "incidents"
    demo_seed: int = 0
    allow_fetch: bool = True
    eps_m: float = 1500.0
    min_samples: int = 6
    start_month: int = 9
    max_gap_h: float = 6.0
    window_h: float = 3.0
    coastal_tolerance_m: float = 1000.0
    max_field_chars: int = 32_767
    max_file_bytes: int = 2 * 1024**3
    max_unpacked_bytes: int = 512 * 1024**2
    max_rows: int = 20_000_000
    cache_dir: Path | None = None
    earliest_year: int = 2000
    future_tolerance_h: float = 24.0
    auth: bool = False
    auth_provider: str = ""
    roles_claim: str = "roles"
    roles_file: Path | None = None
    reveal_minutes: float = 15.0
    anpr_keep_days: int = 365
    anpr_authorise_after_days: int = 90

    @property
    def audit_dir(self) -> Path:
        """``<data_dir>/audit``: the hash-chained audit trail."""
        return self.data_dir / "audit"

    @property
    def roles_path(self) -> Path:
        """The roles file: ``roles_file``, else ``<data_dir>/access/roles.json``."""
        return self.roles_file if self.roles_file is not None else self.data_dir / "access" / "roles.json"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Defaults overridden by ``HAREWATCH_*`` variables of ``env`` (default ``os.environ``)."""
        env = os.environ if env is None else env
        out = cls()
        if env.get("HAREWATCH_BOUNDARIES"):
            out = replace(out, boundaries=Path(env["HAREWATCH_BOUNDARIES"]).expanduser())
        if env.get("HAREWATCH_DATA_DIR"):
            out = replace(out, data_dir=Path(env["HAREWATCH_DATA_DIR"]).expanduser())
        seed = (env.get("HAREWATCH_DEMO_SEED") or "").strip()
        if seed.lstrip("-").isdigit():
            out = replace(out, demo_seed=int(seed))
        if env.get("HAREWATCH_NO_FETCH", "") not in ("", "0"):
            out = replace(out, allow_fetch=False)
        return _access_from_env(replace(out, cache_dir=_cache_dir(env)), env)

    def to_env(self) -> dict[str, str]:
        """The ``HAREWATCH_*`` variables that reproduce these settings in a child process."""
        env = {"HAREWATCH_DATA_DIR": str(self.data_dir), "HAREWATCH_DEMO_SEED": str(self.demo_seed),
               "HAREWATCH_NO_FETCH": "0" if self.allow_fetch else "1"}
        if self.boundaries is not None:
            env["HAREWATCH_BOUNDARIES"] = str(self.boundaries)
        env["HAREWATCH_CACHE_DIR"] = "off" if self.cache_dir is None else str(self.cache_dir)
        env.update({"HAREWATCH_AUTH": "1" if self.auth else "0",
                    "HAREWATCH_AUTH_PROVIDER": self.auth_provider,
                    "HAREWATCH_ROLES_CLAIM": self.roles_claim,
                    "HAREWATCH_REVEAL_MINUTES": repr(float(self.reveal_minutes)),
                    "HAREWATCH_ANPR_KEEP_DAYS": str(self.anpr_keep_days),
                    "HAREWATCH_ANPR_AUTHORISE_AFTER_DAYS": str(self.anpr_authorise_after_days)})
        if self.roles_file is not None:
            env["HAREWATCH_ROLES_FILE"] = str(self.roles_file)
        return env


def _positive(text: str | None, default: float) -> float:
    """A positive finite number from text; ``default`` for anything else."""
    try:
        value = float((text or "").strip())
    except ValueError:
        return default
    return value if 0 < value < float("inf") else default


def _access_from_env(out: Settings, env: Mapping[str, str]) -> Settings:
    """The shared-mode, roles, reveal and ANPR retention settings of ``env``."""
    changes: dict[str, object] = {}
    if env.get("HAREWATCH_AUTH", "") not in ("", "0"):
        changes["auth"] = True
    if env.get("HAREWATCH_AUTH_PROVIDER", "").strip():
        changes["auth_provider"] = env["HAREWATCH_AUTH_PROVIDER"].strip()
    if env.get("HAREWATCH_ROLES_CLAIM", "").strip():
        changes["roles_claim"] = env["HAREWATCH_ROLES_CLAIM"].strip()
    if env.get("HAREWATCH_ROLES_FILE", "").strip():
        changes["roles_file"] = Path(env["HAREWATCH_ROLES_FILE"].strip()).expanduser()
    changes["reveal_minutes"] = _positive(env.get("HAREWATCH_REVEAL_MINUTES"), out.reveal_minutes)
    keep = max(1, int(_positive(env.get("HAREWATCH_ANPR_KEEP_DAYS"), out.anpr_keep_days)))
    changes["anpr_keep_days"] = keep
    after = max(1, int(_positive(env.get("HAREWATCH_ANPR_AUTHORISE_AFTER_DAYS"),
                                 out.anpr_authorise_after_days)))
    changes["anpr_authorise_after_days"] = min(after, keep)
    return replace(out, **changes)


def _cache_dir(env: Mapping[str, str]) -> Path | None:
    """``HAREWATCH_CACHE_DIR`` (``off``: none), else ``$XDG_CACHE_HOME/harewatch``, else
    ``~/.cache/harewatch``."""
    own = (env.get("HAREWATCH_CACHE_DIR") or "").strip()
    if own.lower() in ("off", "none", "0"):
        return None
    if own:
        return Path(own).expanduser()
    xdg = (env.get("XDG_CACHE_HOME") or "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "harewatch"


#: The built-in defaults (no environment read).
DEFAULTS = Settings()
