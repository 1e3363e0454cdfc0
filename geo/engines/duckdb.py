"""The out-of-core engine: border crossings and the ladder straight from the store's Parquet files with duckdb.

Gives exactly what the pandas engine (:func:`geo.movements.border_crossings`,
:func:`geo.offenders.ladder`) gives on the same reads. Why duckdb and what
was measured: ``docs/scaling.md``.
"""

from __future__ import annotations

import glob as _glob
import os
import tempfile
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geo._config import DEFAULTS
from geo._frames import (
    check_hours_positive,
    distinct_plates,
    gap_us_of,
)
from geo.engines.plan import scan_plan
from geo.errors import InputError
from geo.movements import empty_crossings_raw, finish_crossings
from geo.offenders import ladder_from_crossings, ladder_plates

__all__ = [
    "crossings_from_parquet",
    "crossings_and_latest_reads",
    "offenders_and_latest_reads",
    "LatestReads",
    "offenders_from_store",
]


@dataclass(frozen=True)
class LatestReads:
    """The latest read of each plate a store scan covered.

    Attributes
    ----------
    reads : DataFrame
        ``vrm, read_at, force``, one row per plate with a read, as
        :func:`geo.engines.casework.latest_reads_store` gives them.
    plates : frozenset of str or None
        The plates the scan covered (one of them without a row has no read
        with a force); None: every plate.
    """

    reads: pd.DataFrame
    plates: frozenset[str] | None


#: Columns the parquet scan reads (and nothing else).
_SCAN_COLUMNS = ["vrm", "read_at", "force", "camera_id", "easting", "northing"]


def _resolve_paths(paths_or_glob: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    """Parquet files from a file, a directory (its ``*.parquet`` at any depth, hidden
    files and folders skipped; a store table: the files of its current version,
    verified), a glob, or a list of these."""
    items = [paths_or_glob] if isinstance(paths_or_glob, str | os.PathLike) else list(paths_or_glob)
    files: list[str] = []
    for item in items:
        text = os.fspath(item)
        p = Path(text)
        if p.is_dir() and (p / "_delta_log").is_dir():
            files.extend(str(f) for f in _table_files(p))
        elif p.is_dir():
            # recursive (the store's season=/month=/bucket= folders); skip hidden files and
            # folders, e.g. the store's ".tmp-*.parquet" being written
            files.extend(
                sorted(
                    str(f)
                    for f in p.rglob("*.parquet")
                    if not any(part.startswith(".") for part in f.relative_to(p).parts)
                )
            )
        elif any(ch in text for ch in "*?["):
            files.extend(sorted(_glob.glob(text)))
        elif p.is_file():
            files.append(text)
        else:
            raise InputError(f"no parquet file or directory at {text}")
    return files


def _table_files(table: Path) -> list[Path]:
    """Verified files of the current version of a store table (never replaced ones)."""
    from geo.io.store.read import read_snapshot_files

    return read_snapshot_files(table)


def _scan_sql(read_at: str, where: list[str], gap_us: int, *, season_start: bool,
              latest: bool = False, positions: bool = True) -> str:
    """The duckdb query of :func:`crossings_from_parquet` (one ``?`` for the file list,
    then the ``where`` parameters, then the season start when ``season_start``).

    ``latest`` (not with ``season_start``): each plate's last read (in the window order)
    comes back too, flagged ``is_last``; crossings are flagged ``is_crossing``. Without it
    only crossings come back. ``positions=False``: easting and northing are not read (NULL)
    nor used to order reads of a plate taken at the same time, camera and force (their
    crossings and last reads are the same whichever comes first).
    """
    if latest and season_start:
        raise ValueError("latest reads need the whole scan, not a season's")
    order = "read_at, camera_id, force" + (", easting, northing" if positions else "")
    xy = ("CAST(easting AS DOUBLE) AS easting, CAST(northing AS DOUBLE) AS northing"
          if positions else "NULL::DOUBLE AS easting, NULL::DOUBLE AS northing")
    crossing = f"NOT brk {'AND read_at >= ?' if season_start else ''}"
    if latest:  # a last read that is no crossing has brk false or NULL: the trips do not change
        crossing = f"coalesce(force <> from_force AND {crossing}, false)"
    return f"""
    WITH src AS (
        SELECT vrm, {read_at} AS read_at, force, coalesce(camera_id, '') AS camera_id,
               {xy}
        FROM read_parquet(?, union_by_name = true)
        WHERE {" AND ".join(where)}
    ),
    w AS (
        SELECT *,
               lag(force) OVER win AS from_force,
               lag(read_at) OVER win AS from_at,
               lag(camera_id) OVER win AS from_ref,
               epoch_us(read_at) - epoch_us(lag(read_at) OVER win) AS gap_us,
               row_number() OVER win AS rn
               {", lead(read_at) OVER win IS NULL AS is_last" if latest else ""}
        FROM src
        WINDOW win AS (PARTITION BY vrm ORDER BY {order})
    ),
    ev AS (  -- trip breaks and crossings only: a small fraction of the reads
        SELECT *, gap_us > {gap_us} AS brk
        FROM w
        WHERE gap_us > {gap_us} OR force <> from_force {"OR is_last" if latest else ""}
    ),
    t AS (
        SELECT *, CAST(sum(CAST(brk AS INTEGER)) OVER (  -- BIGINT, not a 128-bit decimal
            PARTITION BY vrm ORDER BY rn ROWS UNBOUNDED PRECEDING) AS BIGINT) AS trip
        FROM ev
    )
    SELECT vrm, trip, from_force, force AS to_force, from_at, read_at AS "at", camera_id,
           easting, northing, from_ref, camera_id AS ref
           {f", {crossing} AS is_crossing, is_last" if latest else ""}
    FROM t
    WHERE {f"({crossing}) OR is_last" if latest else crossing}
    ORDER BY vrm, rn
    """


def crossings_from_parquet(
    paths_or_glob: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    max_gap_h: float = DEFAULTS.max_gap_h,
    plates: Iterable[str] | None = None,
    season: str | None = None,
    start_month: int = DEFAULTS.start_month,
    threads: int | None = None,
    memory_limit: str | None = None,
) -> pd.DataFrame:
    """Border crossings of ANPR reads scanned straight from GeoParquet files (duckdb engine).

    Reads only ``vrm, read_at, force, camera_id, easting, northing``; the
    sort and the ``LAG`` window over ``PARTITION BY vrm ORDER BY read_at``
    run inside duckdb (parallel, spilling to disk past ``memory_limit``) and
    only crossings come back. Gives the same rows as
    ``border_crossings(vehicle_points(None, reads), max_gap_h)`` on the same
    reads.

    Parameters
    ----------
    paths_or_glob : str, path, or sequence of them
        Parquet files, directories (their ``*.parquet`` at any depth; for a
        store table such as ``"<data_dir>/tables/sightings"`` the verified
        files of its current version) or glob patterns, e.g.
        ``geo.io.store.sightings_paths(data_dir)`` (pruned and verified).
    max_gap_h : float, default 6.0
        Trip gap in hours (> 0), see :func:`trips`.
    plates : iterable of str, optional
        Only these plates (normalised: upper case, no spaces). An empty
        iterable gives no crossings.
    season : str, optional
        Only crossings whose ``at`` lies in this season (label as in
        :func:`geo.seasons.season_bounds`). Reads from ``max_gap_h`` before
        the season start are scanned too, so a crossing just after the start
        is not lost; trip numbers then count from that point, not from the
        plate's first read ever.
    start_month : int, default 9
        Month seasons start in.
    threads : int, optional
        duckdb worker threads (default: all cores).
    memory_limit : str, optional
        duckdb memory limit such as ``"2GB"`` (default: duckdb's own, 80 % of RAM).

    Returns
    -------
    DataFrame
        Columns :data:`CROSSING_COLUMNS` (``camera_id == ref``), sorted by plate
        and time.

    Raises
    ------
    ValueError
        No such files, missing columns, naive ``read_at``, ``max_gap_h <= 0``,
        bad season label.
    StoreCorrupt
        A file cannot be read by duckdb (named).
    """
    crossings, _ = crossings_and_latest_reads(
        paths_or_glob, max_gap_h=max_gap_h, plates=plates, season=season,
        start_month=start_month, threads=threads, memory_limit=memory_limit, latest=False,
    )
    return crossings


def crossings_and_latest_reads(
    paths_or_glob: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    max_gap_h: float = DEFAULTS.max_gap_h,
    plates: Iterable[str] | None = None,
    season: str | None = None,
    start_month: int = DEFAULTS.start_month,
    threads: int | None = None,
    memory_limit: str | None = None,
    latest: bool = True,
    positions: bool = True,
    keep: Iterable[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """:func:`crossings_from_parquet` and, from the same scan, each plate's latest read.

    Parameters are those of :func:`crossings_from_parquet`; ``latest=False``
    skips the latest reads. ``positions=False``: the crossings' ``easting``
    and ``northing`` are NaN (not read; the ladder does not use them), which
    saves reading and sorting them. ``keep``: only the crossings of these plates
    come back (the scan, its trips and the latest reads still cover ``plates``); they
    are dropped before they become pandas rows.

    Returns
    -------
    (DataFrame, DataFrame or None)
        The crossings, and ``vrm, read_at, force`` of the last read (by time) of
        every scanned plate with a read, as
        :func:`geo.engines.casework.latest_reads_store` gives them (sorted by
        plate). None without ``latest`` or with ``season`` (the scan then
        does not see every read).
    """
    import duckdb

    gap_us = gap_us_of(max_gap_h)
    files = _resolve_paths(paths_or_glob)
    plate_list = None if plates is None else distinct_plates(plates)
    latest = latest and season is None
    if not files or (plate_list is not None and not plate_list):
        return finish_crossings(empty_crossings_raw()), (_no_reads() if latest else None)
    con = _connect(threads, memory_limit)
    try:
        sql, params = _scan_query(con, files, plate_list, gap_us, season, start_month,
                                  latest=latest, positions=positions)
        try:
            raw = con.sql(sql, params=params).to_arrow_table()
        except (duckdb.IOException, duckdb.InvalidInputException) as exc:
            raise _unreadable(exc, files) from exc
    finally:
        con.close()
    if not latest:
        return finish_crossings(_kept(raw, keep).to_pandas()), None
    return _split_latest(raw, keep)


def _connect(threads: int | None, memory_limit: str | None):
    """A duckdb connection for the scan (threads, memory limit, spill folder)."""
    import duckdb

    con = duckdb.connect()
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit is not None:
        con.execute("SET memory_limit = ?", [str(memory_limit)])
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    # spill (if the sort outgrows memory_limit) to the system temp dir, not the cwd
    con.execute(
        "SET temp_directory = ?", [os.path.join(tempfile.gettempdir(), "harewatch-duckdb")]
    )
    return con


def _read_at_sql(con, files: list[str]) -> str:
    """The scan's ``read_at`` expression (UTC microseconds), after checking the columns."""
    schema = _describe(con, files)
    types = {row[0]: str(row[1]) for row in schema}
    missing = [c for c in _SCAN_COLUMNS if c not in types]
    if missing:
        raise InputError(f"sightings parquet lacks required column(s): {', '.join(missing)}")
    rtype = types["read_at"].upper()
    if rtype == "TIMESTAMP WITH TIME ZONE":
        return "read_at"
    if rtype in ("TIMESTAMP_NS WITH TIME ZONE", "TIMESTAMPTZ_NS"):
        # truncate to microseconds, as the pandas engine does
        return "make_timestamptz(epoch_ns(read_at) // 1000)"
    raise InputError(f"read_at must be a timezone-aware (UTC) timestamp, got {types['read_at']}")


def _scan_query(con, files: list[str], plate_list: list[str] | None, gap_us: int,
                season: str | None, start_month: int, *, latest: bool,
                positions: bool) -> tuple[str, list]:
    """The scan's SQL and parameters (registers the plates on ``con``)."""
    read_at = _read_at_sql(con, files)
    where = ["vrm IS NOT NULL", "vrm <> ''", "read_at IS NOT NULL", "force IS NOT NULL",
             "force <> ''"]
    params: list = [files]
    start = None
    if season is not None:
        from geo.seasons import season_bounds

        start, hi = season_bounds(season, start_month)
        where.append("read_at >= ? AND read_at < ?")
        params += [(start - pd.Timedelta(microseconds=gap_us)).to_pydatetime(),
                   hi.to_pydatetime()]
    if plate_list is not None:
        con.register("_plates", pd.DataFrame({"vrm": pd.Series(plate_list, dtype="str")}))
        where.append("vrm IN (SELECT vrm FROM _plates)")
    sql = _scan_sql(read_at, where, gap_us, season_start=start is not None, latest=latest,
                    positions=positions)
    if start is not None:
        params.append(start.to_pydatetime())
    return sql, params


def _no_reads() -> pd.DataFrame:
    return pd.DataFrame({"vrm": pd.Series([], dtype="str"),
                         "read_at": pd.Series([], dtype="datetime64[us, UTC]"),
                         "force": pd.Series([], dtype="str")})


def _kept(raw, keep: Iterable[str] | None):
    """The rows of a scan's pyarrow table whose ``vrm`` is in ``keep`` (None: all)."""
    if keep is None:
        return raw
    import pyarrow as pa
    import pyarrow.compute as pc

    values = pa.array(distinct_plates(keep), type=pa.string()).cast(raw.schema.field("vrm").type)
    return raw.filter(pc.is_in(raw["vrm"], value_set=values))


def _split_latest(raw, keep: Iterable[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(crossings of ``keep``'s plates, latest reads) from the rows of a ``latest`` scan
    (a pyarrow table)."""
    crossing = _kept(raw.filter(raw["is_crossing"]), keep).drop_columns(["is_crossing", "is_last"])
    last = raw.filter(raw["is_last"]).select(["vrm", "at", "to_force"])
    reads = last.rename_columns(["vrm", "read_at", "force"]).to_pandas()  # by plate already
    reads["read_at"] = pd.to_datetime(reads["read_at"], utc=True).dt.as_unit("us")
    return finish_crossings(crossing.to_pandas()), reads.astype({"vrm": "str", "force": "str"})


def _unreadable(exc: Exception, files: list[str]) -> Exception:
    """duckdb's error on a damaged file as :class:`StoreCorrupt` naming it when it can."""
    from geo.errors import StoreCorrupt

    text = str(exc)
    named = [f for f in files if f in text]
    return StoreCorrupt(f"a parquet file cannot be read: {text.splitlines()[0]}",
                        tuple(named))


def _describe(con, files: list[str]) -> list[tuple]:
    import duckdb

    try:
        return con.execute(
            "DESCRIBE SELECT * FROM read_parquet(?, union_by_name = true)", [files]
        ).fetchall()
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:
        raise _unreadable(exc, files) from exc


def offenders_from_store(
    incidents: pd.DataFrame,
    sightings_paths: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    *,
    data_dir: str | os.PathLike | None = None,
    season: str | None = None,
    start_month: int = DEFAULTS.start_month,
    max_gap_h: float = DEFAULTS.max_gap_h,
    window_h: float = DEFAULTS.window_h,
    forces: Collection[str] | str | None = None,
    plates: Iterable[str] | None = None,
    all_plates: bool = False,
    threads: int | None = None,
    memory_limit: str | None = None,
) -> pd.DataFrame:
    """The ladder with each vehicle's border crossings scanned from the sightings store.

    Only the plates linked to counted incidents (in the season, if given)
    are scanned: the crossings of other plates could never appear in the
    ladder. The duckdb scan (:func:`geo.movements.crossings_from_parquet`)
    reads only the columns it needs, and a semi-join drops the other plates'
    reads before the sort. On 10M reads (200,000 plates, 20,000 incidents
    linking 5,000 plates; ``benchmarks/bench_offenders.py``) this takes
    about 2.2 s including loading the incidents (4.5 M reads/s, peak RSS
    0.4 GB) on 2 shared cores. Scanning every plate gives the same ladder
    (the benchmark checks that too) but takes 6-7 times the CPU, because all
    10M reads are sorted. :func:`geo.dask_engine.offenders_dask` gives the
    same result on a dask cluster.

    Parameters
    ----------
    incidents : (Geo)DataFrame
        Accepted incidents (see :func:`ladder`). Not modified.
    sightings_paths : str, path or sequence, optional
        Sightings parquet files, directory or glob. Give this or ``data_dir``.
    data_dir : path, optional
        Store root: its partitioned sightings are scanned, pruned to the
        season's months (plus the ``max_gap_h`` margin) and to the buckets of
        the scanned plates (:func:`geo.store.sightings_paths`).
    season : str, optional
        Only this season (label such as ``"2021-22"``): incidents and crossings.
    start_month : int, default 9
        Month seasons start in.
    max_gap_h : float, default 6.0
        Trip gap in hours (> 0).
    window_h : float, default 3.0
        Hours (>= 0) either side of a linked incident for ``near_incident``
        (all linked incidents, neighbour forces included).
    forces : collection of str or str, optional
        Passed to :func:`ladder`.
    plates : iterable of str, optional
        Scan these plates instead of the linked ones.
    all_plates : bool, default False
        Scan every plate (same ladder, more work; for checks and benchmarks).
    threads : int, optional
        duckdb threads.
    memory_limit : str, optional
        duckdb memory limit, e.g. ``"2GB"``.

    Returns
    -------
    DataFrame
        As :func:`ladder`.
    """
    ladder, _ = offenders_and_latest_reads(
        incidents, sightings_paths, data_dir=data_dir, season=season, start_month=start_month,
        max_gap_h=max_gap_h, window_h=window_h, forces=forces, plates=plates,
        all_plates=all_plates, threads=threads, memory_limit=memory_limit, latest=False,
    )
    return ladder


def offenders_and_latest_reads(
    incidents: pd.DataFrame,
    sightings_paths: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    *,
    data_dir: str | os.PathLike | None = None,
    season: str | None = None,
    start_month: int = DEFAULTS.start_month,
    max_gap_h: float = DEFAULTS.max_gap_h,
    window_h: float = DEFAULTS.window_h,
    forces: Collection[str] | str | None = None,
    plates: Iterable[str] | None = None,
    all_plates: bool = False,
    threads: int | None = None,
    memory_limit: str | None = None,
    latest: bool = True,
) -> tuple[pd.DataFrame, LatestReads | None]:
    """:func:`offenders_from_store` and, from the same scan, each scanned plate's latest read.

    Parameters
    ----------
    incidents, sightings_paths, data_dir, season, start_month, max_gap_h, window_h, forces, \
plates, all_plates, threads, memory_limit
        As :func:`offenders_from_store`.
    latest : bool, default True
        Also return the latest reads (``False``: None instead).

    Returns
    -------
    (DataFrame, LatestReads or None)
        The ladder, and the latest read of each scanned plate
        (:func:`crossings_and_latest_reads`; None with a ``season`` or
        without ``latest``). Saves a second scan
        (:func:`geo.engines.casework.latest_reads_store`) for those plates.
    """
    if (sightings_paths is None) == (data_dir is None):
        raise InputError("give either sightings_paths or data_dir")
    inc, scan = scan_plan(incidents, season, start_month, window_h, plates, all_plates)
    if data_dir is not None:
        sightings_paths = _store_paths(data_dir, season, start_month, max_gap_h, scan)
    crossings, reads = crossings_and_latest_reads(
        sightings_paths, max_gap_h=max_gap_h, plates=scan, season=season,
        start_month=start_month, threads=threads, memory_limit=memory_limit, latest=latest,
        positions=False,  # the ladder lists crossings without their positions
        keep=None if scan is not None else ladder_plates(inc),  # every plate's: the ladder's
    )
    ladder = ladder_from_crossings(incidents, inc, crossings, start_month=start_month,
                                   window_h=window_h, forces=forces)
    if reads is None:
        return ladder, None
    return ladder, LatestReads(reads, None if scan is None else frozenset(distinct_plates(scan)))


def _store_paths(
    data_dir: str | os.PathLike,
    season: str | None,
    start_month: int,
    max_gap_h: float,
    plates: list[str] | None,
) -> list:
    """Sightings files of the store that can hold reads of the scan (months of the season
    and of the ``max_gap_h`` margin before its start, buckets of ``plates``)."""
    from geo.io.store.read import sightings_paths

    max_gap_h = check_hours_positive(max_gap_h, "max_gap_h")
    plate_list = None if plates is None else distinct_plates(plates)
    return sightings_paths(
        data_dir, season=season, start_month=start_month, plates=plate_list, margin_h=max_gap_h
    )
