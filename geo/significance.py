"""Is a hotspot more than chance, and is it growing? Getis-Ord Gi* and trend classes.

Significance (:func:`hotspot_significance`)
-------------------------------------------
DBSCAN finds a "cluster" in any scatter of points given a small enough
``min_samples``; Gi* asks whether the place holds more incidents than the
study region's background would put there by chance.

1. Incidents are counted on a square grid of ``cell_m`` metres (EPSG:27700)
   covering the study region: every cell whose centre lies in the region,
   plus every cell holding an incident. The region is the union of the force
   areas the incidents were recorded in when ``areas`` is given, else the
   convex hull of the incidents grown by ``band_m`` (see
   :func:`geo.grids.study_region`). Empty cells count: they are the
   background.
2. Each hotspot is tested at one cell: the region cell holding most of its
   incidents (its DBSCAN members given ``labels``, else the incidents in its
   polygon; the centroid is no good for a sprawling cluster, whose centroid
   can fall in an empty field). Its Gi* (``esda.G_Local`` with ``star=True``,
   binary weights) sums the counts of that cell and of every region cell
   whose centre is within
   ``band_m`` of it (a ``libpysal`` distance band, built only for the tested
   cells: Gi* of a cell depends on its own row of weights and on the mean and
   variance of all cells, so this equals the full-grid value), and ``gi_z``
   is esda's analytic z-score.
3. The p-value is from conditional randomisation (as esda does it): the
   tested cell keeps its count and its neighbours' counts are replaced by
   counts drawn at random, without replacement, from all other cells,
   ``permutations`` times; ``p = (1 + #draws >= observed) / (draws + 1)``
   (one-sided: is the place hotter than chance). A cell that beats nearly
   all of them (fewer than 10 draws at or above it) gets more draws, up to
   ``max_permutations`` in all, so that a strong hotspot's p-value is not
   stuck at ``1 / (permutations + 1)``, which the FDR step over many
   hotspots would push above ``alpha``. esda's own randomisation visits every
   cell of the grid, which for a whole force area (10^5 cells) without numba
   takes minutes, so only the tested cells are randomised here. ``seed``
   makes the draws reproducible.
4. The p-values of all hotspots are adjusted together for the false discovery
   rate (Benjamini-Hochberg, ``scipy.stats.false_discovery_control``): many
   places tested at once will otherwise throw up chance "hotspots". A hotspot
   is ``significant`` when its adjusted ``gi_p <= alpha`` and ``gi_z > 0``.

Limitation: the randomisation compares a place with random sets of cells of
the whole region, and incidents concentrate in few cells, so a random set
sometimes catches a cell of another busy place. A modest place in a season
with a few much busier ones may therefore not come out significant (the test
is conservative), and very dense data take its power away: with 100,000
synthetic incidents in one analysis only 3 of 591 hotspots came out
significant, against all 31 with 50 or more incidents at 10,000. Analyse one
season at a time.

Trend classes (:func:`trend_class`, :func:`hotspot_trends`)
-----------------------------------------------------------
Adapted from the pattern names of ESRI's emerging hot spot analysis, using,
per place, one significance flag per season (the Gi* test above on that
season's incidents, FDR-adjusted across the hotspots within each season) and
a Mann-Kendall test (Kendall's tau of season index against the place's
incident count, ``scipy.stats.kendalltau``) for a rising or falling count.
"Most seasons" means at least 90 % of them. See :data:`TREND_CLASSES`.
Differences from ESRI's tool: the trend test is on counts, not on Gi*
z-scores; cold spots are not tested, so there is no "oscillating" class and
"sporadic" does not check for them; "historical" looks at the seasons before
the last one (ESRI's 90 % of all intervals could only be met with ten or more
seasons). With fewer than five seasons no Mann-Kendall trend can reach
p < 0.05, so "intensifying"/"diminishing" need five or more seasons.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy import stats
from scipy.spatial import cKDTree

from geo.areas import ForceAreas
from geo.grids import CellGrid, grid_over, incident_xy_m, points_in_polygons, study_region
from geo.seasons import season_bounds, season_of

__all__ = [
    "TREND_CLASSES",
    "SIGNIFICANCE_COLUMNS",
    "GiStar",
    "CellFrame",
    "cell_frame",
    "gi_star",
    "hotspot_significance",
    "mann_kendall",
    "trend_class",
    "hotspot_trends",
    "significance_columns",
    "significance_records",
]

#: Trend classes and what they mean (checked in this order; the first that fits wins).
TREND_CLASSES: dict[str, str] = {
    "new": "significant in the last season and in no season before it",
    "consecutive": (
        "significant in an unbroken run of at least two seasons up to the last one, never "
        "before the run, and in fewer than 90 % of seasons"
    ),
    "intensifying": (
        "significant in at least 90 % of seasons including the last, and the count per season "
        "rises (Mann-Kendall p < trend_alpha)"
    ),
    "diminishing": (
        "significant in at least 90 % of seasons including the last, and the count per season "
        "falls (Mann-Kendall p < trend_alpha)"
    ),
    "persistent": "significant in at least 90 % of seasons with no significant rise or fall",
    "sporadic": (
        "significant in the last season and on and off before it, in fewer than 90 % of seasons"
    ),
    "historical": (
        "not significant in the last season but in at least 90 % of the seasons before it"
    ),
    "none": "never significant, or none of the patterns above",
}

#: Extra hotspot columns returned by :func:`significance_columns`.
SIGNIFICANCE_COLUMNS: list[str] = ["gi_z", "gi_p", "significant", "trend"]

_MOST = 0.9
_ADAPT_BELOW = 10  # exceedances under which a tested cell gets more randomisations


# --------------------------------------------------------------------------- grid


@dataclass(frozen=True)
class CellFrame:
    """The region's grid cells (the Gi* population), shared by every season.

    Attributes
    ----------
    grid : CellGrid
    cells : ndarray of int64
        Sorted flat indices of the region's cells.
    """

    grid: CellGrid
    cells: np.ndarray

    def positions(self, xy_m: np.ndarray) -> np.ndarray:
        """Position in ``cells`` of the cell holding each point; -1 if none."""
        flat = self.grid.cell_of(xy_m)
        pos = np.minimum(np.searchsorted(self.cells, flat), len(self.cells) - 1)
        return np.where((flat >= 0) & (self.cells[pos] == flat), pos, -1)

    def counts(self, xy_m: np.ndarray, positions: np.ndarray | None = None) -> np.ndarray:
        """Incidents per region cell (points in no region cell are dropped).

        ``positions``: ``self.positions(xy_m)`` when the caller has it already.
        """
        pos = self.positions(xy_m) if positions is None else positions
        return np.bincount(pos[pos >= 0], minlength=len(self.cells)).astype("float64")

    def peaks(self, xy_m: np.ndarray, members: list[np.ndarray], fallback_m: np.ndarray,
              positions: np.ndarray | None = None):
        """Each hotspot's tested cell: the region cell holding most of its incidents.

        Ties go to the cell nearest the members' mean position; a hotspot with
        no incidents in any region cell is tested at the cell nearest
        ``fallback_m`` (its centroid). ``positions`` as for :meth:`counts`.
        """
        pos = self.positions(xy_m) if positions is None else positions
        centres = self.grid.centres(self.cells)
        out = np.empty(len(members), dtype="int64")
        for i, rows in enumerate(members):  # one per hotspot
            cells, n = np.unique(pos[rows][pos[rows] >= 0], return_counts=True)
            if len(cells) == 0:
                out[i] = int(np.argmin(np.hypot(*(centres - fallback_m[i]).T)))
                continue
            top = cells[n == n.max()]
            mean = xy_m[rows].mean(axis=0)
            out[i] = top[int(np.argmin(np.hypot(*(centres[top] - mean).T)))]
        return out

    def neighbours(self, focal: np.ndarray, band_m: float) -> list[np.ndarray]:
        """Region cells within ``band_m`` (centre to centre) of each focal cell, itself excluded."""
        if len(focal) == 0:
            return []
        centres = self.grid.centres(self.cells)
        near = cKDTree(centres).query_ball_point(centres[focal], band_m * (1 + 1e-9))
        return [
            np.setdiff1d(np.asarray(nb, dtype="int64"), [f])
            for nb, f in zip(near, focal, strict=True)
        ]


def _check_positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    if not (math.isfinite(float(value)) and float(value) > 0):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def _centroids(hotspots: pd.DataFrame) -> np.ndarray:
    if {"centroid_e", "centroid_n"} <= set(hotspots.columns):
        return hotspots[["centroid_e", "centroid_n"]].to_numpy(dtype="float64").reshape(-1, 2)
    if "geometry" in hotspots.columns:
        return shapely.get_coordinates(shapely.centroid(hotspots.geometry.values))
    raise ValueError("hotspots need centroid_e/centroid_n or a geometry (EPSG:27700)")


def _members(
    incidents: pd.DataFrame, xy: np.ndarray, hotspots: pd.DataFrame, labels: pd.Series | None
) -> list[np.ndarray]:
    """Row positions of each hotspot's incidents: by DBSCAN label, else inside its polygon."""
    if labels is not None:
        if "label" not in hotspots.columns:
            raise ValueError("hotspots need a 'label' column to match the DBSCAN labels")
        if isinstance(labels, pd.Series) and not labels.index.equals(incidents.index):
            labels = labels.reindex(incidents.index)
        lab = np.asarray(labels, dtype="float64")
        if len(lab) != len(incidents):
            raise ValueError("labels must have one DBSCAN label per incident")
        order = np.argsort(lab, kind="stable")
        keys = hotspots["label"].to_numpy(dtype="int64")
        sorted_lab = lab[order]  # noise (-1) and missing labels never match a hotspot
        lo = np.searchsorted(sorted_lab, keys, "left")
        hi = np.searchsorted(sorted_lab, keys, "right")
        return [order[a:b] for a, b in zip(lo, hi, strict=True)]
    if "geometry" not in hotspots.columns:
        raise ValueError("hotspots need DBSCAN labels or a polygon geometry")
    return points_in_polygons(hotspots.geometry.values, xy)


def cell_frame(
    xy_m: np.ndarray,
    *,
    cell_m: float,
    band_m: float,
    areas: ForceAreas | None = None,
    present_forces: Sequence[str] | None = None,
) -> CellFrame:
    """The region's grid cells: every cell whose centre is in the region or that holds an incident.

    Parameters
    ----------
    xy_m : ndarray, shape (n, 2)
        All incidents considered (metres, EPSG:27700), n >= 1.
    cell_m : float
        Cell side in metres.
    band_m : float
        Margin of the incidents' hull when there are no ``areas``.
    areas, present_forces
        Region from force areas (see :func:`geo.grids.study_region`).
    """
    region = study_region(xy_m, buffer_m=band_m, areas=areas, present_forces=present_forces)
    b = np.asarray(shapely.bounds(region), dtype="float64").reshape(2, 2)
    corners = np.vstack([xy_m, b]) if np.isfinite(b).all() else xy_m
    grid = grid_over(corners, cell_m)
    every = np.arange(grid.n_cells, dtype="int64")
    centres = grid.centres(every)
    inside = shapely.contains_xy(region, centres[:, 0], centres[:, 1])
    inside[grid.cell_of(xy_m)] = True
    return CellFrame(grid, every[inside])


# --------------------------------------------------------------------------- Gi*


@dataclass(frozen=True)
class GiStar:
    """Gi* at the tested cells: statistic, analytic z and one-sided permutation p."""

    gi: np.ndarray
    z: np.ndarray
    p_raw: np.ndarray


def _esda_gi_star(y: np.ndarray, focal: np.ndarray, neighbours: list[np.ndarray]):
    """esda's Gi* and z at the focal cells.

    Binary weights with the self-weight 1 given explicitly (Gi*): every cell
    has its self-loop, the focal cells also their distance-band neighbours.
    Rows of the other cells are never read.
    """
    from esda import G_Local
    from libpysal.graph import Graph

    n = len(y)
    cells = np.arange(n, dtype="int64")
    src = np.concatenate([cells, np.repeat(focal, [len(nb) for nb in neighbours])])
    dst = np.concatenate([cells, *neighbours]).astype("int64")
    # canonical order (focal, then neighbour; ids 0..n-1 all present through the
    # self-loops), so libpysal may skip its own re-sort (a MultiIndex reindex
    # that took 0.25 s of 0.3 s on a 188k-cell grid)
    order = np.lexsort((dst, src))
    graph = Graph.from_arrays(src[order], dst[order], np.ones(len(src)), is_sorted=True)
    g = G_Local(y, graph, transform="B", star=True, permutations=0)
    return np.asarray(g.Gs)[focal], np.asarray(g.Zs)[focal]


def _draw_ids(rng: np.random.Generator, pool: int, k: int, rows: int) -> np.ndarray:
    """``rows`` x ``k`` indices into ``range(pool)``, each row without repeats.

    Uniform over ordered distinct k-tuples (i.i.d. draws conditioned on no
    repeat: rows with a repeat are redrawn), as ``rng.choice(pool, k,
    replace=False)`` per row but vectorised.
    """
    if k == 0:
        return np.zeros((rows, 0), dtype="int64")
    if k * (k - 1) > pool:  # repeats likely (tiny grids): draw row by row
        return np.stack([rng.choice(pool, size=k, replace=False) for _ in range(rows)])
    ids = rng.integers(0, pool, size=(rows, k))
    redo = np.arange(rows)
    while redo.size:
        srt = np.sort(ids[redo], axis=1)
        redo = redo[(np.diff(srt, axis=1) == 0).any(axis=1)]
        ids[redo] = rng.integers(0, pool, size=(redo.size, k))
    return ids


def _exceedances(y, focal, neighbours, observed, draws) -> np.ndarray:
    """How many random neighbour sets sum to at least the observed neighbour sum."""
    out = np.zeros(len(focal), dtype="int64")
    for i, (f, nb) in enumerate(zip(focal, neighbours, strict=True)):  # one per tested cell
        ids = draws[:, : len(nb)]
        simulated = y[ids + (ids >= f)].sum(axis=1)  # indices skip the focal cell itself
        out[i] = np.count_nonzero(simulated >= observed[i])
    return out


def _conditional_p(
    y: np.ndarray,
    focal: np.ndarray,
    neighbours: list[np.ndarray],
    permutations: int,
    max_permutations: int,
    seed,
) -> np.ndarray:
    """One-sided conditional-randomisation p of each focal cell's neighbourhood sum.

    The focal cell keeps its count (it is in both sums, so only the
    neighbours are compared). Cells with fewer than 10 of ``permutations``
    random sums at or above theirs get more draws, up to ``max_permutations``
    in all, so their p-value is not stuck at ``1 / (permutations + 1)``.
    """
    rng = np.random.default_rng(seed)
    pool = len(y) - 1
    observed = np.array([y[nb].sum() for nb in neighbours])
    kmax = min(max((len(nb) for nb in neighbours), default=0), pool)
    exceed = _exceedances(y, focal, neighbours, observed, _draw_ids(rng, pool, kmax, permutations))
    total = np.full(len(focal), permutations, dtype="int64")
    rare = np.flatnonzero(exceed < _ADAPT_BELOW)
    extra = max_permutations - permutations
    if extra > 0 and rare.size:
        nbs = [neighbours[i] for i in rare]
        k = min(max(len(nb) for nb in nbs), pool)
        draws = _draw_ids(rng, pool, k, extra)
        exceed[rare] += _exceedances(y, focal[rare], nbs, observed[rare], draws)
        total[rare] += extra
    return (1.0 + exceed) / (1.0 + total)


def gi_star(
    y: np.ndarray,
    focal: np.ndarray,
    neighbours: list[np.ndarray],
    *,
    permutations: int = 999,
    max_permutations: int = 9999,
    seed: int | Sequence[int] = 0,
) -> GiStar:
    """Gi* of cell counts ``y`` at the ``focal`` cells.

    Parameters
    ----------
    y : ndarray of float
        Incident count of every region cell.
    focal : ndarray of int
        Cells tested (positions in ``y``).
    neighbours : list of ndarray of int
        Each focal cell's neighbours (positions in ``y``, itself excluded).
    permutations : int, default 999
        Conditional randomisations for every tested cell (at least 19).
    max_permutations : int, default 9999
        Randomisations in all for a cell whose first ``permutations`` gave
        fewer than 10 sums at or above its own (so a strong hotspot gets a
        p-value down to ``1 / (max_permutations + 1)``, small enough to
        survive the false-discovery-rate adjustment over many hotspots).
    seed : int or sequence of int
        Seed of the random draws (same seed, same p-values).

    Returns
    -------
    GiStar
        ``gi`` and ``z`` from ``esda.G_Local`` (``star=True``, binary
        weights), ``p_raw`` one-sided permutation p (1.0 and NaN z when every
        count is zero).
    """
    y = np.asarray(y, dtype="float64")
    focal = np.asarray(focal, dtype="int64")
    if len(focal) == 0 or y.sum() <= 0:
        nan = np.full(len(focal), np.nan)
        return GiStar(nan, nan.copy(), np.ones(len(focal)))
    uniq, back = np.unique(focal, return_inverse=True)
    first = [neighbours[int(np.flatnonzero(back == u)[0])] for u in range(len(uniq))]
    gi, z = _esda_gi_star(y, uniq, first)
    p = _conditional_p(y, uniq, first, permutations, max(max_permutations, permutations), seed)
    return GiStar(gi[back], z[back], p[back])


def _adjust(p_raw: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (scipy)."""
    if len(p_raw) == 0:
        return p_raw.copy()
    return stats.false_discovery_control(p_raw, method="bh")


def _check_args(cell_m, band_m, permutations, alpha) -> tuple[float, float, int, float]:
    cell = _check_positive(cell_m, "cell_m")
    band = _check_positive(band_m, "band_m")
    if (
        isinstance(permutations, bool)
        or not isinstance(permutations, int | np.integer)
        or (permutations < 19)
    ):
        raise ValueError(f"permutations must be a whole number >= 19, got {permutations!r}")
    if not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    return cell, band, int(permutations), float(alpha)


def _present_forces(incidents: pd.DataFrame) -> list[str]:
    """Distinct force names of the incidents, sorted (missing ones left out)."""
    if "force" not in incidents:
        return []
    return sorted({str(v) for v in pd.unique(incidents["force"].dropna())})


def hotspot_significance(
    incidents: pd.DataFrame,
    hotspots: pd.DataFrame,
    labels: pd.Series | None = None,
    *,
    cell_m: float = 500.0,
    band_m: float = 1500.0,
    permutations: int = 999,
    max_permutations: int = 9999,
    alpha: float = 0.05,
    seed: int = 0,
    areas: ForceAreas | None = None,
) -> pd.DataFrame:
    """Getis-Ord Gi* at each hotspot's busiest cell, FDR-adjusted.

    Parameters
    ----------
    incidents : DataFrame
        The incidents the hotspots were found in (``easting``/``northing``
        metres, EPSG:27700). Not modified.
    hotspots : DataFrame
        ``find_hotspots(...).hotspots`` (``label``, ``centroid_e``/
        ``centroid_n``, polygon ``geometry``; ``hotspot_id`` if present).
    labels : Series, optional
        ``HotspotResult.labels`` (DBSCAN label per incident, aligned to
        ``incidents.index``); without it a hotspot's incidents are those in
        its polygon.
    cell_m : float, default 500
        Grid cell side in metres.
    band_m : float, default 1500
        Gi* neighbourhood radius in metres (cell centre to cell centre).
    permutations : int, default 999
        Conditional randomisations per hotspot.
    max_permutations : int, default 9999
        Randomisations in all for a hotspot that beat nearly all of the first
        ``permutations`` (see :func:`gi_star`).
    alpha : float, default 0.05
        False discovery rate.
    seed : int, default 0
        Seed of the randomisations.
    areas : ForceAreas, optional
        Force boundaries for the study region.

    Returns
    -------
    DataFrame
        Index of ``hotspots``; ``hotspot_id`` (when given), ``gi_star``,
        ``gi_z``, ``gi_p_raw`` (permutation p), ``gi_p`` (after
        Benjamini-Hochberg), ``significant`` (``gi_p <= alpha`` and
        ``gi_z > 0``).
    """
    cell, band, perms, alpha = _check_args(cell_m, band_m, permutations, alpha)
    if len(hotspots) == 0 or len(incidents) == 0:
        nan = np.full(len(hotspots), np.nan)
        return _significance_frame(hotspots, GiStar(nan, nan.copy(), np.ones(len(nan))), alpha)
    xy = incident_xy_m(incidents)
    frame = cell_frame(
        xy, cell_m=cell, band_m=band, areas=areas, present_forces=_present_forces(incidents)
    )
    pos = frame.positions(xy)
    focal = frame.peaks(xy, _members(incidents, xy, hotspots, labels), _centroids(hotspots), pos)
    result = gi_star(
        frame.counts(xy, pos),
        focal,
        frame.neighbours(focal, band),
        permutations=perms,
        max_permutations=max_permutations,
        seed=seed,
    )
    return _significance_frame(hotspots, result, alpha)


def _significance_frame(hotspots: pd.DataFrame, result: GiStar, alpha: float) -> pd.DataFrame:
    p_adj = _adjust(result.p_raw)
    out = pd.DataFrame(
        {
            "gi_star": result.gi,
            "gi_z": result.z,
            "gi_p_raw": result.p_raw,
            "gi_p": p_adj,
            "significant": (p_adj <= alpha) & (result.z > 0),  # NaN z compares False
        },
        index=hotspots.index,
    )
    if "hotspot_id" in hotspots.columns:
        out.insert(0, "hotspot_id", hotspots["hotspot_id"].to_numpy())
    return out


# --------------------------------------------------------------------------- trends


def mann_kendall(counts: Sequence[float]) -> tuple[float, float]:
    """Kendall's tau of season index against count, and its two-sided p.

    Returns ``(0.0, 1.0)`` for fewer than three seasons or constant counts.
    """
    y = np.asarray(counts, dtype="float64")
    if len(y) < 3 or np.all(y == y[0]):
        return 0.0, 1.0
    res = stats.kendalltau(np.arange(len(y)), y)
    tau, p = float(res.statistic), float(res.pvalue)
    return (0.0, 1.0) if not (math.isfinite(tau) and math.isfinite(p)) else (tau, p)


def _final_run(flags: Sequence[bool]) -> int:
    run = 0
    for flag in reversed(flags):
        if not flag:
            break
        run += 1
    return run


def trend_class(
    counts_by_season: Sequence[float],
    significant_by_season: Sequence[bool],
    *,
    trend_alpha: float = 0.05,
) -> str:
    """Trend class of one place (see :data:`TREND_CLASSES`), oldest season first.

    Raises
    ------
    ValueError
        No seasons, or the two sequences differ in length.
    """
    sig = [bool(s) for s in significant_by_season]
    if not sig or len(sig) != len(counts_by_season):
        raise ValueError("need one count and one significance flag per season (at least one)")
    n, hits, last = len(sig), sum(sig), sig[-1]
    tau, p = mann_kendall(counts_by_season)
    rising, falling = tau > 0 and p < trend_alpha, tau < 0 and p < trend_alpha
    run = _final_run(sig)
    if hits == 0:
        return "none"
    if last and hits == 1:
        return "new"
    if last and run >= 2 and run == hits and hits / n < _MOST:
        return "consecutive"
    if hits / n >= _MOST:
        if last and rising:
            return "intensifying"
        if last and falling:
            return "diminishing"
        if not (rising or falling):
            return "persistent"
    if last and hits / n < _MOST:
        return "sporadic"
    if not last and n > 1 and sum(sig[:-1]) / (n - 1) >= _MOST:
        return "historical"
    return "none"


def _season_range(labels: pd.Series, start_month: int) -> list[str]:
    """Every season from the first to the last present, gaps included."""
    present = sorted({str(v) for v in labels.dropna().unique()})
    if not present:
        return []
    out = [present[0]]
    while out[-1] != present[-1]:
        nxt = season_of(pd.Series([season_bounds(out[-1], start_month)[1]]), start_month)
        out.append(str(nxt.iloc[0]))
    return out


def hotspot_trends(
    incidents: pd.DataFrame,
    hotspots: pd.DataFrame,
    labels: pd.Series | None = None,
    *,
    start_month: int = 9,
    cell_m: float = 500.0,
    band_m: float = 1500.0,
    permutations: int = 999,
    max_permutations: int = 9999,
    alpha: float = 0.05,
    trend_alpha: float = 0.05,
    seed: int = 0,
    areas: ForceAreas | None = None,
) -> pd.DataFrame:
    """Trend class of each hotspot across every season in ``incidents``.

    Parameters
    ----------
    incidents : DataFrame
        Incidents of all the seasons to compare (tz-aware ``occurred_at``,
        ``easting``/``northing``). Not modified.
    hotspots : GeoDataFrame
        Hotspots (polygon ``geometry`` in EPSG:27700, ``centroid_e``/
        ``centroid_n``; ``hotspot_id`` if present).
    labels : Series, optional
        DBSCAN labels aligned to ``incidents.index`` (when the hotspots were
        found in these very incidents); otherwise a hotspot's incidents are
        those inside its polygon, in every season.
    start_month, cell_m, band_m, permutations, max_permutations, alpha, seed, areas
        As for :func:`hotspot_significance`; each season is tested at the
        same cell (the hotspot's busiest over all seasons).
    trend_alpha : float, default 0.05
        Level of the Mann-Kendall test.

    Returns
    -------
    DataFrame
        Index of ``hotspots``; ``hotspot_id`` (when given), ``seasons``,
        ``counts`` (the hotspot's incidents per season),
        ``significant_by_season`` (lists, oldest first, every season from the
        first to the last in the data), ``trend_tau``, ``trend_p``, ``trend``.
    """
    cell, band, perms, alpha = _check_args(cell_m, band_m, permutations, alpha)
    labels_s = season_of(incidents["occurred_at"].reset_index(drop=True), start_month)
    seasons = _season_range(labels_s, start_month)
    k, n_s = len(hotspots), len(seasons)
    if k == 0 or n_s == 0:
        return _trend_frame(
            hotspots, seasons, np.zeros((k, n_s), "int64"), np.zeros((k, n_s), bool), trend_alpha
        )
    xy = incident_xy_m(incidents)
    season_idx = pd.Categorical(labels_s, categories=seasons).codes.astype("int64")
    members = _members(incidents, xy, hotspots, labels)
    counts = np.array(
        [np.bincount(season_idx[m][season_idx[m] >= 0], minlength=n_s) for m in members],
        dtype="int64",
    ).reshape(k, n_s)
    frame = cell_frame(
        xy, cell_m=cell, band_m=band, areas=areas, present_forces=_present_forces(incidents)
    )
    pos = frame.positions(xy)
    focal = frame.peaks(xy, members, _centroids(hotspots), pos)
    neighbours = frame.neighbours(focal, band)
    sig = np.zeros((k, n_s), dtype=bool)
    for s in range(n_s):  # one Gi* per season
        in_season = season_idx == s
        g = gi_star(
            frame.counts(xy[in_season], pos[in_season]),
            focal,
            neighbours,
            permutations=perms,
            max_permutations=max_permutations,
            seed=[seed, s],
        )
        sig[:, s] = (_adjust(g.p_raw) <= alpha) & (g.z > 0)
    return _trend_frame(hotspots, seasons, counts, sig, trend_alpha)


def _trend_frame(hotspots, seasons, counts, sig, trend_alpha) -> pd.DataFrame:
    rows = []
    for c, s in zip(counts.tolist(), sig.tolist(), strict=True):  # one per hotspot
        tau, p = mann_kendall(c) if c else (0.0, 1.0)
        rows.append(
            {
                "seasons": list(seasons),
                "counts": c,
                "significant_by_season": s,
                "trend_tau": tau,
                "trend_p": p,
                "trend": trend_class(c, s, trend_alpha=trend_alpha) if c else "none",
            }
        )
    out = pd.DataFrame(
        rows,
        index=hotspots.index,
        columns=["seasons", "counts", "significant_by_season", "trend_tau", "trend_p", "trend"],
    )
    if "hotspot_id" in hotspots.columns:
        out.insert(0, "hotspot_id", hotspots["hotspot_id"].to_numpy())
    return out


# --------------------------------------------------------------------------- output


def significance_columns(
    hotspots: pd.DataFrame,
    incidents: pd.DataFrame,
    labels: pd.Series | None = None,
    *,
    history: pd.DataFrame | None = None,
    **options,
) -> pd.DataFrame:
    """The extra hotspot columns ``gi_z``, ``gi_p``, ``significant``, ``trend``.

    Parameters
    ----------
    hotspots : GeoDataFrame
        ``find_hotspots(...).hotspots``.
    incidents : DataFrame
        The incidents the hotspots were found in (Gi*).
    labels : Series, optional
        ``HotspotResult.labels`` for ``incidents``.
    history : DataFrame, optional
        Incidents of every season for the trend (default ``incidents``; the
        hotspots' incidents in it are those inside their polygons unless it
        is ``incidents`` itself and ``labels`` is given).
    **options
        ``cell_m``, ``band_m``, ``permutations``, ``max_permutations``,
        ``alpha``, ``seed``, ``areas`` for both; ``start_month`` and ``trend_alpha`` for the trend.

    Returns
    -------
    DataFrame
        Index of ``hotspots``, columns :data:`SIGNIFICANCE_COLUMNS`.
    """
    trend_only = {k: options.pop(k) for k in ("start_month", "trend_alpha") if k in options}
    sig = hotspot_significance(incidents, hotspots, labels, **options)
    if history is None:
        trend = hotspot_trends(incidents, hotspots, labels, **options, **trend_only)
    else:
        trend = hotspot_trends(history, hotspots, None, **options, **trend_only)
    return pd.concat([sig[["gi_z", "gi_p", "significant"]], trend[["trend"]]], axis=1)


def significance_records(columns: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of :func:`significance_columns` as JSON dicts (NaN -> None), in order.

    Each is ``{"gi_z": float | None, "gi_p": float, "significant": bool,
    "trend": str}``, to be merged into the matching hotspot record.
    """
    out = []
    for rec in columns[SIGNIFICANCE_COLUMNS].to_dict("records"):  # one per hotspot
        z, p = float(rec["gi_z"]), float(rec["gi_p"])
        out.append(
            {
                "gi_z": round(z, 3) if math.isfinite(z) else None,
                "gi_p": round(p, 4) if math.isfinite(p) else None,
                "significant": bool(rec["significant"]),
                "trend": str(rec["trend"]),
            }
        )
    return out
