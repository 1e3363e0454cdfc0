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
                            (force index, demo), ``off`` for none    (else ``~/.cache/harewatch``)
==========================  =======================================  ==========================
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
        what they are made from; never in the repository. None: no cache.
    earliest_year : int
        Dates before 1 January of this year are rejected as implausible.
    future_tolerance_h : float
        Dates more than this many hours after now are rejected as implausible.
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
        return replace(out, cache_dir=_cache_dir(env))

    def to_env(self) -> dict[str, str]:
        """The ``HAREWATCH_*`` variables that reproduce these settings in a child process."""
        env = {"HAREWATCH_DATA_DIR": str(self.data_dir), "HAREWATCH_DEMO_SEED": str(self.demo_seed),
               "HAREWATCH_NO_FETCH": "0" if self.allow_fetch else "1"}
        if self.boundaries is not None:
            env["HAREWATCH_BOUNDARIES"] = str(self.boundaries)
        env["HAREWATCH_CACHE_DIR"] = "off" if self.cache_dir is None else str(self.cache_dir)
        return env


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
