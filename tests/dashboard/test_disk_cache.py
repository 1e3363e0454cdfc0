"""The dashboard's results kept on disk (``dashboard.cache``: crossings, ladder, hotspots)
give the same frames as computing them again, and any changed input is a new key
(issue 17: a new server process reads them instead of recomputing)."""

from __future__ import annotations

import pandas as pd
import pytest
from factories import casework_store

from dashboard.state import Scope

SEVEN = ("Cambridgeshire", "Norfolk", "Suffolk", "Bedfordshire", "Hertfordshire", "Essex", "Kent")
SCOPE = Scope(season="2021-22", start_month=9, forces=SEVEN, date_from=None, date_to=None,
              hours=(0, 23), days=(), crime_types=())


def _incidents() -> list[tuple]:
    """Twelve incidents 300 m apart (one hotspot), plates seen in two forces."""
    rows = []
    for i in range(12):
        force = "Cambridgeshire" if i % 2 else "Suffolk"
        plate = ("AB12CDE", "XY34ZZZ", "")[i % 3]
        rows.append((f"INC-{i:02d}", f"2021-{10 + i % 3:02d}-{3 + i:02d}T21:00:00+00:00", force,
                     plate, "", 560000.0 + 300.0 * i, 260000.0))
    return rows


def _reads() -> list[tuple]:
    """AB12CDE read alternately in Cambridgeshire and Suffolk: border crossings."""
    return [("AB12CDE", f"2021-10-{3 + i // 4:02d}T{20 + i % 4:02d}:00:00+00:00",
             "Cambridgeshire" if i % 2 else "Suffolk", f"CAM-{i % 2}", 560000.0 + 500.0 * i, 260000.0)
            for i in range(16)]


@pytest.fixture
def disk(tmp_path, boundaries_path, monkeypatch):
    """A small store and an empty user cache; the Streamlit caches cleared before and after."""
    from dashboard import cache

    store = casework_store(tmp_path / "store", _incidents(), _reads())
    for k, v in {"HAREWATCH_BOUNDARIES": str(boundaries_path), "HAREWATCH_DATA_DIR": str(store),
                 "HAREWATCH_NO_FETCH": "1", "HAREWATCH_CACHE_DIR": str(tmp_path / "cache")}.items():
        monkeypatch.setenv(k, v)
    cache.clear_store_caches()
    yield cache.data_key(cache.boundary_key()), store / "cache" / "dashboard"
    cache.clear_store_caches()


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal frames, and equal Python objects (lists stay lists) in object columns."""
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    for c in a.columns:
        if a[c].dtype == object:
            assert [repr(v) for v in a[c]] == [repr(v) for v in b[c]], c


def _results(cache, dkey):
    return (cache.crossings(dkey), cache.ladder(dkey, 9),
            cache.hotspots(dkey, SCOPE, 1500.0, 3))


def _assert_same_results(got, want) -> None:
    (cr, lad, hs), (cr0, lad0, hs0) = got, want
    _same(cr, cr0)
    _same(lad, lad0)
    _same(hs.hotspots, hs0.hotspots)
    assert hs.hotspots.crs == hs0.hotspots.crs
    pd.testing.assert_series_equal(hs.labels, hs0.labels, check_exact=True)
    assert (hs.noise, hs.params) == (hs0.noise, hs0.params)


def test_disk_hit_equals_recompute(disk, monkeypatch):
    import geo.io.cache
    from dashboard import cache

    dkey, folder = disk
    first = _results(cache, dkey)  # computed, then stored
    assert len(first[0]) and len(first[1]) and len(first[2].hotspots)
    assert len(list(folder.glob("*.names"))) == 3

    cache.clear_store_caches()
    import geo.hotspots
    import geo.movements
    import geo.offenders

    def fail(*_a, **_k):
        raise AssertionError("recomputed: the disk cache was not used")

    with monkeypatch.context() as m:  # a hit must not compute anything
        m.setattr(geo.movements, "border_crossings", fail)
        m.setattr(geo.offenders, "ladder", fail)
        m.setattr(geo.hotspots, "hotspots_with_trend", fail)
        hit = _results(cache, dkey)

    cache.clear_store_caches()
    monkeypatch.setattr(cache, "_disk_folder", lambda *_a, **_k: (None, None))
    recomputed = _results(cache, dkey)  # nowhere to keep results at all
    _assert_same_results(hit, recomputed)
    _assert_same_results(first, recomputed)


def test_corrupt_entries_are_recomputed(disk):
    from dashboard import cache

    dkey, folder = disk
    want = _results(cache, dkey)
    for f in folder.glob("*.parquet"):
        f.write_bytes(b"not parquet")
    cache.clear_store_caches()
    _assert_same_results(_results(cache, dkey), want)


def test_changed_inputs_change_the_key(disk, tmp_path, boundaries_path):
    from dashboard import cache
    from geo.io.store.layout import store_root
    from geo.io.store.table import table_dir

    dkey, _ = disk
    key = cache.disk_key("ladder", dkey, {"start_month": 9})
    assert cache.disk_key("ladder", dkey, {"start_month": 9}) == key  # stable
    other_file = tmp_path / "b.geojson"
    other_file.write_bytes(boundaries_path.read_bytes() + b"\n")  # same path and mtime: content
    changed = [
        cache.disk_key("ladder", dkey, {"start_month": 8}),
        cache.disk_key("crossings", dkey, {"start_month": 9}),
        cache.disk_key("ladder", dkey._replace(seed=1), {"start_month": 9}),
        cache.disk_key("ladder", dkey._replace(reads_from="2021-01-01T00:00:00+00:00"),
                       {"start_month": 9}),
        cache.disk_key("ladder", dkey._replace(boundaries=dkey.boundaries._replace(
            path=str(other_file))), {"start_month": 9}),
    ]
    assert len({key, *changed}) == len(changed) + 1
    # a new commit in the store (an ingest, a purge): a new key, and none for the old data
    log = table_dir(store_root(dkey.data_dir), "incidents") / "_delta_log"
    newest = max(int(p.name[:20]) for p in log.glob("*.json"))
    (log / f"{newest + 1:020d}.json").write_text("{}")
    assert cache.disk_key("ladder", dkey, {"start_month": 9}) is None
    new = cache.data_key(cache.boundary_key())
    assert cache.disk_key("ladder", new, {"start_month": 9}) not in (None, key)


def test_settings_and_code_are_in_the_key(disk, monkeypatch):
    import geo.io.cache
    from dashboard import cache

    dkey, _ = disk
    key = cache.disk_key("crossings", dkey, {})
    monkeypatch.setenv("HAREWATCH_ANPR_KEEP_DAYS", "30")
    assert cache.disk_key("crossings", dkey, {}) != key
    monkeypatch.delenv("HAREWATCH_ANPR_KEEP_DAYS")
    assert cache.disk_key("crossings", dkey, {}) == key
    monkeypatch.setattr(geo.io.cache, "source_digest", lambda *roots: "edited")
    assert cache.disk_key("crossings", dkey, {}) != key


def test_display_boundaries_from_disk_equal_recompute(disk, monkeypatch):
    import geo.areas
    from dashboard import cache

    dkey, folder = disk
    bkey = dkey.boundaries
    cache.display_boundaries.clear()  # an earlier test's value: this one's cache is empty
    first = cache.display_boundaries(bkey)  # computed, then stored
    cache.display_boundaries.clear()
    with monkeypatch.context() as m:
        m.setattr(geo.areas, "display_boundaries", lambda *_a, **_k: pytest.fail("recomputed"))
        hit = cache.display_boundaries(bkey)
    want = geo.areas.display_boundaries(cache.boundaries(bkey))
    for got in (first, hit):
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        assert got.crs == want.crs and got.geometry.name == want.geometry.name
        assert got.geometry.geom_equals_exact(want.geometry, 0).all()
    assert cache.disk_key("display-boundaries", bkey, {}) != cache.disk_key(
        "display-boundaries", bkey._replace(path=str(cache.boundary_key().path) + ".missing"), {})


def test_a_real_stores_results_stay_with_the_store_and_a_purge_deletes_them(disk, tmp_path):
    """Plates, ids and movements derived from the store are personal data: they are kept
    in the store's own folder (not the user cache), for the owner only, and
    'harewatch store purge' deletes them with the old reads."""
    from dashboard import cache
    from geo.io.store.retention import purge_reads

    dkey, folder = disk
    _results(cache, dkey)
    assert len(list(folder.glob("*.names"))) == 3
    assert folder.parent.parent == tmp_path / "store" and (folder.stat().st_mode & 0o077) == 0
    assert not list((tmp_path / "cache").rglob("*.parquet"))  # nothing in the user cache
    n_files = len([p for p in folder.parent.rglob("*") if p.is_file()])
    cutoff = pd.Timestamp("2000-01-01", tz="UTC")  # no read is that old: only the copies go
    dry = purge_reads(dkey.data_dir, cutoff=cutoff, dry_run=True)
    assert dry.derived_removed == n_files and folder.is_dir()
    done = purge_reads(dkey.data_dir, cutoff=cutoff)
    assert done.derived_removed == n_files and done.reads_removed == 0
    assert not folder.parent.exists()


def test_the_demo_and_the_boundaries_use_the_user_cache(disk, tmp_path):
    from dashboard import cache

    dkey, _ = disk
    demo = dkey._replace(store_sig=())  # an empty store shows the demo
    assert cache._disk_folder(demo) == (tmp_path / "cache" / "dashboard-demo", None)
    assert cache._disk_folder(dkey.boundaries) == (tmp_path / "cache" / "dashboard", None)
    assert cache._disk_folder(dkey) == (tmp_path / "store" / "cache" / "dashboard",
                                        cache.DISK_MAX_AGE_S)


def _map_request(cache, dkey, **kw):
    return cache.MapRequest(dkey=dkey, scope=SCOPE, eps_m=1500.0, min_samples=3, **kw)


def _map_script(cache, req) -> str:
    """What st_folium sends of the main map (element ids made stable, as st_folium does)."""
    from streamlit_folium import generate_leaflet_string

    fmap = cache.overview_map(req)
    fmap.get_root().render()
    return generate_leaflet_string(fmap)


def test_map_payloads_from_disk_give_the_same_map(disk, monkeypatch):
    """The main map drawn from the layers' payloads kept on disk is the map drawn afresh,
    masked or not; a hit makes no payload."""
    import dashboard.maps.layers as layers
    from dashboard import cache

    dkey, folder = disk
    for redact in (False, True):
        req = _map_request(cache, dkey, redact=redact)
        first = _map_script(cache, req)  # drawn, payloads stored
        cache.clear_store_caches()
        with monkeypatch.context() as m:
            for name in ("_incident_data", "_hotspot_data", "_crossing_data"):
                m.setattr(layers, name, lambda *_a, **_k: pytest.fail("payload made again"))
            hit = _map_script(cache, req)
        cache.clear_store_caches()
        with monkeypatch.context() as m:
            m.setattr(cache, "_disk_folder", lambda *_a, **_k: (None, None))
            fresh = _map_script(cache, req)  # nowhere to keep anything: drawn
        cache.clear_store_caches()
        assert "AB12CDE" in fresh if not redact else "AB12CDE" not in fresh
        assert first == hit == fresh
    assert "Hotspot #1" in fresh and "crossing" in fresh


def test_map_payload_key_has_every_map_input(disk):
    """Masking (redact) and every other map option is a new key, never a kept payload."""
    from dashboard import cache

    dkey, _ = disk
    base = _map_request(cache, dkey)

    def key(req):
        return cache.disk_key("overview-map", req.dkey, cache._map_params(req))

    other_scope = SCOPE._replace(season="2020-21")
    changed = [_map_request(cache, dkey, redact=True), _map_request(cache, dkey, briefing=True),
               _map_request(cache, dkey, tiles=True), _map_request(cache, dkey, plates=("AB12CDE",)),
               _map_request(cache, dkey, show=("incidents",)),
               cache.MapRequest(dkey=dkey, scope=other_scope, eps_m=1500.0, min_samples=3),
               cache.MapRequest(dkey=dkey, scope=SCOPE, eps_m=1000.0, min_samples=3),
               cache.MapRequest(dkey=dkey, scope=SCOPE, eps_m=1500.0, min_samples=4),
               _map_request(cache, dkey._replace(seed=1))]
    keys = {key(base), *map(key, changed)}
    assert key(base) == key(_map_request(cache, dkey)) and len(keys) == len(changed) + 1


def test_a_real_stores_map_payloads_stay_with_the_store(disk, tmp_path):
    """Map payloads (plates in tooltips) of a real store: in its folder, not the user cache."""
    from dashboard import cache

    dkey, folder = disk
    _map_script(cache, _map_request(cache, dkey))
    assert any("payloads" in p.name for p in folder.glob("*.parquet"))
    assert not list((tmp_path / "cache").rglob("*payloads*"))


def _same_areas(got, want) -> None:
    import numpy as np

    from geo.areas import assign_force

    pd.testing.assert_frame_equal(pd.DataFrame(got.gdf).drop(columns="geometry"),
                                  pd.DataFrame(want.gdf).drop(columns="geometry"), check_exact=True)
    assert list(got.gdf.columns) == list(want.gdf.columns) and got.gdf.crs == want.gdf.crs
    assert got.gdf.geometry.geom_equals_exact(want.gdf.geometry, 0).all()
    assert (got.source, got.attribution) == (want.source, want.attribution)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(480_000, 660_000, 2000), rng.uniform(150_000, 350_000, 2000)
    assert (assign_force(got, x, y) == assign_force(want, x, y)).all()


def test_force_areas_from_disk_equal_a_fresh_read(disk, monkeypatch):
    import geo.io.boundaries
    from dashboard import cache

    dkey, _ = disk
    bkey = dkey.boundaries
    cache.boundaries.clear()
    first = cache.boundaries(bkey)  # read, then stored
    cache.boundaries.clear()
    with monkeypatch.context() as m:
        m.setattr(geo.io.boundaries, "load_boundaries", lambda *_a, **_k: pytest.fail("read again"))
        hit = cache.boundaries(bkey)
    cache.boundaries.clear()
    want = geo.io.boundaries.load_boundaries(bkey.path, allow_fetch=False, log=lambda *_: None)
    _same_areas(first, want)
    _same_areas(hit, want)
    other = bkey._replace(path=str(bkey.path) + ".missing")
    assert cache.disk_key("force-areas", bkey, {}) != cache.disk_key("force-areas", other, {})


def test_force_areas_that_warn_are_read_each_time(disk, tmp_path, boundaries_path):
    """A boundary file whose reading warns is never served from disk: it warns every time."""
    import geopandas as gpd
    import shapely

    from dashboard import cache

    raw = gpd.read_file(boundaries_path)
    raw.loc[raw.index[-1], raw.geometry.name] = shapely.LineString([(0.1, 52.0), (0.2, 52.1)])
    path = tmp_path / "warns.geojson"
    raw.to_file(path, driver="GeoJSON")
    bkey = cache.BoundaryKey(str(path.resolve()), path.stat().st_mtime_ns)
    for _ in range(2):
        cache.boundaries.clear()
        with pytest.warns(UserWarning, match="unusable"):
            areas = cache.boundaries(bkey)
        assert areas.source == str(path.resolve())
    cache.boundaries.clear()
