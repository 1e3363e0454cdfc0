"""Border crossings and the escalation ladder on a dask.distributed cluster.

The same answers as the embedded (duckdb) engine,
:func:`geo.movements.crossings_from_parquet` and
:func:`geo.offenders.offenders_from_store`, row for row, computed by the
workers of a dask cluster straight from the partitioned sightings store.

How it works (no shuffle): the store puts every read of a plate in the same
plate-hash *bucket* (``<data_dir>/sightings/season=*/month=*/bucket=NN/``),
so a plate's trips can be cut within one bucket. The engine builds a dask
DataFrame with one partition per bucket (:func:`dask.dataframe.from_map` over
:func:`geo.store.sightings_partitions`), each task reading only ``vrm,
read_at, force, camera_id, easting, northing`` of its bucket's files, already
restricted to the scanned time window and plates; it then maps the pandas
engine (:func:`geo.movements.border_crossings`, identical to the duckdb
engine) over the partitions. Only crossings travel back to the client; no
read ever moves between workers.

Cluster requirements: functions shipped to the workers live in this module,
so every worker needs harewatch installed (same version) and must see the
store at the same absolute path (a shared filesystem such as NFS/Lustre, or a
local disk for a :class:`distributed.LocalCluster`). See ``docs/scaling.md``.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from geo._config import DEFAULTS
from geo._frames import as_text, distinct_plates, gap_us_of, utc_us
from geo.errors import InputError
from geo.movements import border_crossings, empty_crossings_raw, finish_crossings, vehicle_points
from geo.schema import UTC_US

__all__ = [
    "READ_COLUMNS",
    "dask_client",
    "crossings_dask",
    "write_crossings_dask",
    "offenders_dask",
    "read_bucket",
    "bucket_crossings",
]

#: Columns a scan task reads from the sightings files (and nothing else).
READ_COLUMNS: list[str] = ["vrm", "read_at", "force", "camera_id", "easting", "northing"]


# --------------------------------------------------------------------------- cluster


@contextmanager
def dask_client(
    scheduler: str | None = None,
    *,
    n_workers: int = 2,
    threads_per_worker: int = 1,
    memory_limit: str | float | None = "3GB",
) -> Iterator:
    """A :class:`distributed.Client`: to a running cluster, or to a local one started here.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler, e.g. ``"tcp://10.0.0.5:8786"``. When
        given, ``n_workers``, ``threads_per_worker`` and ``memory_limit`` are
        ignored (the cluster's own settings apply).
    n_workers : int, default 2
        Worker processes of the local cluster.
    threads_per_worker : int, default 1
        Threads per local worker.
    memory_limit : str or float, default "3GB"
        Memory limit per local worker (dask pauses a worker at 80 % and
        restarts it at 95 % of this).

    Yields
    ------
    distributed.Client
        Closed on exit, together with the local cluster if one was started.
    """
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=int(n_workers),
            threads_per_worker=int(threads_per_worker),
            memory_limit=memory_limit,
            processes=True,
            dashboard_address=None,
            # no dashboard; the scheduler's small HTTP server (health, metrics) on a free port
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@contextmanager
def _use_client(client) -> Iterator:
    """``client`` if given, else the current default client, else a local cluster."""
    if client is not None:
        yield client
        return
    from distributed import default_client

    try:
        current = default_client()
    except ValueError:  # no client in this process
        current = None
    if current is not None:
        yield current
        return
    with dask_client() as started:
        yield started


# --------------------------------------------------------------------------- worker tasks


def _empty_reads() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "vrm": pd.Series([], dtype="str"),
            "read_at": pd.Series([], dtype=UTC_US),
            "force": pd.Series([], dtype="str"),
            "camera_id": pd.Series([], dtype="str"),
            "easting": pd.Series([], dtype="float64"),
            "northing": pd.Series([], dtype="float64"),
        }
    )


def _read_file(path: str, lo_us: int | None, hi_us: int | None, plates: list[str] | None):
    """One sightings file as an arrow table of :data:`READ_COLUMNS` in canonical types,
    restricted to ``lo_us <= read_at < hi_us`` (microseconds) and to ``plates``."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from geo.errors import StoreCorrupt

    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise StoreCorrupt(f"stored file {path} cannot be read ({exc})", (path,)) from exc
    missing = [c for c in READ_COLUMNS if c not in schema.names]
    if missing:
        raise InputError(f"{path}: sightings parquet lacks required column(s): {', '.join(missing)}")
    rtype = schema.field("read_at").type
    if not pa.types.is_timestamp(rtype) or rtype.tz is None:
        raise InputError(f"{path}: read_at must be a timezone-aware (UTC) timestamp, got {rtype}")
    try:
        table = pq.read_table(path, columns=READ_COLUMNS, page_checksum_verification=True)
    except (OSError, pa.ArrowInvalid) as exc:
        raise StoreCorrupt(f"stored file {path} cannot be read ({exc})", (path,)) from exc
    ts = pa.timestamp("us", tz="UTC")
    # microseconds, sub-microsecond parts truncated (as both other engines do)
    cols = {
        "vrm": table["vrm"].cast(pa.string()),
        "read_at": table["read_at"].cast(ts, safe=False),
        "force": table["force"].cast(pa.string()),
        "camera_id": table["camera_id"].cast(pa.string()),
        "easting": table["easting"].cast(pa.float64()),
        "northing": table["northing"].cast(pa.float64()),
    }
    table = pa.table(cols)
    mask = None
    if lo_us is not None:
        at = table["read_at"]
        mask = pc.and_(
            pc.greater_equal(at, pa.scalar(lo_us, type=ts)),
            pc.less(at, pa.scalar(hi_us, type=ts)),
        )
    if plates is not None:
        hit = pc.is_in(table["vrm"], value_set=pa.array(plates, type=pa.string()))
        mask = hit if mask is None else pc.and_(mask, hit)
    if mask is not None:
        table = table.filter(pc.fill_null(mask, False))
    return table


def read_bucket(task: tuple) -> pd.DataFrame:
    """The reads of one plate bucket (a dask task; runs on a worker).

    Each file is first checked against the SHA-256 its name records, and
    pyarrow checks every page's CRC: a damaged or missing file raises
    :class:`geo.errors.StoreCorrupt` naming it (re-raised on the client).

    Parameters
    ----------
    task : tuple
        ``(bucket, files, lo_us, hi_us, plates)``: bucket number, absolute
        paths of its parquet files, the time window ``lo_us <= read_at <
        hi_us`` in microseconds since the epoch (both None: no window) and
        the plates to keep (None: all).

    Returns
    -------
    DataFrame
        Columns :data:`READ_COLUMNS` (``read_at`` as ``datetime64[us, UTC]``,
        strings as ``str``), in file order.
    """
    import pyarrow as pa

    from geo.io.store.verify import check_named_files

    bucket, files, lo_us, hi_us, plates = task
    check_named_files(files, f"plate bucket {bucket}")
    tables = [_read_file(str(f), lo_us, hi_us, plates) for f in files]
    tables = [t for t in tables if t.num_rows]
    if not tables:
        return _empty_reads()
    df = pa.concat_tables(tables).to_pandas()
    return df.astype({"vrm": "str", "force": "str", "camera_id": "str", "read_at": UTC_US})


def _read_points(reads: pd.DataFrame) -> pd.DataFrame:
    """``vehicle_points(None, reads)`` without its sort (``border_crossings`` sorts by the
    same keys again); ``reads`` as :func:`read_bucket` returns them."""
    if reads.empty:
        return vehicle_points(None, None)
    return pd.DataFrame(
        {
            "vrm": as_text(reads["vrm"]),
            "at": utc_us(reads["read_at"], "read_at"),
            "easting": reads["easting"].astype("float64"),
            "northing": reads["northing"].astype("float64"),
            "force": as_text(reads["force"]),
            "kind": pd.Series("read", index=reads.index, dtype="str"),
            "ref": as_text(reads["camera_id"]),
        }
    )


def bucket_crossings(reads: pd.DataFrame, max_gap_h: float, start_us: int | None) -> pd.DataFrame:
    """Border crossings of one bucket's reads (a dask task; runs on a worker).

    Parameters
    ----------
    reads : DataFrame
        Output of :func:`read_bucket`: every read of each plate it holds (in
        the scanned window).
    max_gap_h : float
        Trip gap in hours (> 0).
    start_us : int or None
        Season start in microseconds since the epoch: crossings before it
        (in the ``max_gap_h`` margin) are dropped. None keeps all.

    Returns
    -------
    DataFrame
        Columns :data:`geo.movements.CROSSING_COLUMNS`, sorted by plate and time.
    """
    out = border_crossings(_read_points(reads), max_gap_h=max_gap_h)
    if start_us is not None and len(out):
        start = pd.Timestamp(start_us, unit="us", tz="UTC")
        out = out[out["at"] >= start].reset_index(drop=True)
    return out


# --------------------------------------------------------------------------- public API


def _window(season: str | None, start_month: int, gap_us: int):
    """(scan start, season end, season start) as UTC Timestamps, or Nones."""
    if season is None:
        return None, None, None
    from geo.seasons import season_bounds

    start, end = season_bounds(season, start_month)
    return start - pd.Timedelta(microseconds=gap_us), end, start


def _epoch_us(t: pd.Timestamp | None) -> int | None:
    return None if t is None else int(t.value // 1000)  # .value is always in ns


def _tasks(
    data_dir: Path,
    season: str | None,
    start_month: int,
    max_gap_h: float,
    window: tuple[int | None, int | None],
    plate_list: list[str] | None,
) -> list[tuple]:
    """One :func:`read_bucket` task per bucket with files (plates split by bucket)."""
    from geo.io.store.layout import PLATE_HASH, plate_buckets, sightings_layout
    from geo.io.store.read import sightings_partitions

    parts = sightings_partitions(  # the workers verify the files they read
        data_dir, season=season, start_month=start_month, plates=plate_list, margin_h=max_gap_h,
        verify=False,
    )
    by_bucket: dict[int, list[str]] | None = None
    layout = sightings_layout(data_dir)
    if plate_list is not None and layout.hash == PLATE_HASH:
        by_bucket = {}
        for plate, b in zip(plate_list, plate_buckets(plate_list, layout.buckets).tolist(),
                            strict=True):
            by_bucket.setdefault(int(b), []).append(plate)
    tasks = []
    for bucket, paths in sorted(parts.items()):
        plates = plate_list if by_bucket is None else by_bucket.get(int(bucket), [])
        if not paths or (plates is not None and not plates):
            continue
        files = [str(Path(f).resolve()) for f in paths]
        tasks.append((int(bucket), files, *window, plates))
    return tasks


def _crossings_graph(data_dir, max_gap_h, plates, season, start_month):
    """The lazy dask DataFrame of crossings (one partition per bucket), or None when no
    file or plate can match; validates the arguments."""
    import dask.dataframe as dd

    gap_us = gap_us_of(max_gap_h)
    plate_list = None if plates is None else distinct_plates(plates)
    lo, hi, start = _window(season, start_month, gap_us)
    if plate_list is not None and not plate_list:
        return None
    root = Path(data_dir).expanduser().resolve()
    window = (_epoch_us(lo), _epoch_us(hi))
    tasks = _tasks(root, season, start_month, float(max_gap_h), window, plate_list)
    if not tasks:
        return None
    reads = dd.from_map(
        read_bucket, tasks, meta=_empty_reads(), label="harewatch-read-bucket", enforce_metadata=False
    )
    return reads.map_partitions(
        bucket_crossings, float(max_gap_h), _epoch_us(start),
        meta=finish_crossings(empty_crossings_raw()), enforce_metadata=False,
    )


def crossings_dask(
    data_dir: str | os.PathLike,
    *,
    max_gap_h: float = DEFAULTS.max_gap_h,
    plates: Iterable[str] | None = None,
    season: str | None = None,
    start_month: int = DEFAULTS.start_month,
    client=None,
) -> pd.DataFrame:
    """Border crossings of the stored ANPR reads, computed on a dask cluster.

    Row for row the result of :func:`geo.movements.crossings_from_parquet`
    on ``geo.store.sightings_paths(data_dir)`` with the same arguments: same
    rows, order, trip numbers and dtypes.

    Parameters
    ----------
    data_dir : path
        Store root (partitioned sightings under ``<data_dir>/sightings``),
        at the same absolute path on every worker.
    max_gap_h : float, default 6.0
        Trip gap in hours (> 0).
    plates : iterable of str, optional
        Only these plates (normalised: upper case, no spaces); only the
        buckets holding them are read. An empty iterable gives no crossings.
    season : str, optional
        Only crossings whose ``at`` lies in this season; reads from
        ``max_gap_h`` before its start are scanned too and trip numbers count
        from there (as in the duckdb engine).
    start_month : int, default 9
        Month seasons start in.
    client : distributed.Client, optional
        Cluster to run on; default: the current default client, else a local
        cluster (:func:`dask_client`) started and closed for this call. Not
        needed (and not started) when nothing matches.

    Returns
    -------
    DataFrame
        Columns :data:`geo.movements.CROSSING_COLUMNS`, sorted by plate and time.

    Raises
    ------
    ValueError
        ``max_gap_h <= 0``, bad season label, a file lacking a column or
        with naive ``read_at`` (message names the file).
    StoreCorrupt
        A stored file is damaged or missing (named).
    """
    empty = finish_crossings(empty_crossings_raw())
    crossings = _crossings_graph(data_dir, max_gap_h, plates, season, start_month)
    if crossings is None:
        return empty
    with _use_client(client) as c:
        pieces = _gather_partitions(c, crossings)
    pieces = [p for p in pieces if len(p)]
    if not pieces:
        return empty
    raw = pd.concat(pieces, ignore_index=True)
    del pieces
    # plates never span buckets and each bucket's rows are sorted by plate and time,
    # so a stable sort by plate gives the duckdb engine's order (plate, then time ...)
    raw = raw.sort_values("vrm", kind="stable")
    return finish_crossings(raw)


def write_crossings_dask(
    data_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    max_gap_h: float = DEFAULTS.max_gap_h,
    plates: Iterable[str] | None = None,
    season: str | None = None,
    start_month: int = DEFAULTS.start_month,
    client=None,
) -> int:
    """Border crossings computed on a dask cluster and written by the workers as Parquet.

    For scans whose result does not fit the client, e.g. every plate of a
    national store: each worker writes its buckets' crossings to ``out_dir``
    (one ``part.N.parquet`` per bucket, sorted by plate and time within the
    file; a plate is in one file only) and nothing but a row count comes back.
    Reading the files and sorting them by plate (stable) gives
    :func:`crossings_dask`'s frame.

    Parameters
    ----------
    data_dir : path
        Store root, as in :func:`crossings_dask`.
    out_dir : path
        New or empty folder, at the same absolute path on every worker.
    max_gap_h, plates, season, start_month, client
        As in :func:`crossings_dask`.

    Returns
    -------
    int
        Number of crossings written.

    Raises
    ------
    ValueError
        ``out_dir`` exists and is not empty; as :func:`crossings_dask`.
    """
    out = Path(out_dir).expanduser().resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out} exists and is not an empty folder")
    crossings = _crossings_graph(data_dir, max_gap_h, plates, season, start_month)
    out.mkdir(parents=True, exist_ok=True)
    if crossings is None:
        finish_crossings(empty_crossings_raw()).to_parquet(out / "part.0.parquet", index=False)
        return 0
    counts = crossings.map_partitions(_write_part, str(out), meta=("rows", "int64"),
                                      enforce_metadata=False, align_dataframes=False)
    with _use_client(client) as c:
        return int(c.compute(counts.sum()).result())


def _write_part(part: pd.DataFrame, out_dir: str, partition_info=None) -> pd.Series:
    """Write one partition's crossings (a dask task; runs on a worker); its row count."""
    number = 0 if partition_info is None else int(partition_info["number"])
    path = Path(out_dir) / f"part.{number}.parquet"
    tmp = path.with_name(f".tmp-{path.name}")
    part.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return pd.Series([len(part)], dtype="int64")


def _gather_partitions(client, frame) -> list[pd.DataFrame]:
    """Compute every partition of ``frame`` and fetch each to the client as it finishes.

    Unlike ``frame.compute()`` no worker concatenates all the partitions, and
    each result leaves worker memory as soon as the client has it.
    """
    from distributed import as_completed

    futures = client.compute(frame.to_delayed())
    done = as_completed(futures, with_results=True)
    del futures
    return [part for _future, part in done]


def offenders_dask(
    incidents: pd.DataFrame,
    data_dir: str | os.PathLike,
    *,
    season: str | None = None,
    start_month: int = DEFAULTS.start_month,
    max_gap_h: float = DEFAULTS.max_gap_h,
    window_h: float = DEFAULTS.window_h,
    forces: Collection[str] | str | None = None,
    plates: Iterable[str] | None = None,
    all_plates: bool = False,
    client=None,
) -> pd.DataFrame:
    """The escalation ladder with border crossings scanned on a dask cluster.

    Same result as :func:`geo.offenders.offenders_from_store` with the same
    arguments (``data_dir=data_dir``); only the crossing scan runs on the
    cluster (:func:`crossings_dask`), the ladder itself on the client.

    Parameters
    ----------
    incidents : (Geo)DataFrame
        Accepted incidents (see :func:`geo.offenders.ladder`). Not modified.
    data_dir : path
        Store root holding the partitioned sightings.
    season, start_month, max_gap_h, window_h, forces
        As in :func:`geo.offenders.offenders_from_store`.
    plates : iterable of str, optional
        Scan these plates instead of the ones linked to counted incidents.
    all_plates : bool, default False
        Scan every plate (same ladder, more work; for checks and benchmarks).
    client : distributed.Client, optional
        As in :func:`crossings_dask`.

    Returns
    -------
    DataFrame
        As :func:`geo.offenders.ladder`.
    """
    from geo.engines.plan import scan_plan
    from geo.offenders import ladder_from_crossings

    inc, scan = scan_plan(incidents, season, start_month, window_h, plates, all_plates)
    crossings = crossings_dask(
        data_dir,
        max_gap_h=max_gap_h,
        plates=scan,
        season=season,
        start_month=start_month,
        client=client,
    )
    return ladder_from_crossings(
        incidents, inc, crossings, start_month=start_month, window_h=window_h, forces=forces
    )
