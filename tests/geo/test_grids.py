"""``geo.grids.points_in_polygons`` against shapely's own STRtree query (the reference)."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import Polygon, box

from geo.grids import points_in_polygons


def _reference(polys, xy):
    tree = shapely.STRtree(shapely.points(xy))
    poly_i, point_i = tree.query(polys, predicate="intersects")
    return [np.sort(point_i[poly_i == i]) for i in range(len(polys))]


def test_same_points_as_an_strtree_query_edges_included():
    rng = np.random.default_rng(7)
    xy = np.round(rng.uniform(0, 1000, size=(5000, 2)), 0)  # whole metres: many on edges
    polys = np.array([box(100, 100, 300, 400), Polygon([(500, 500), (900, 520), (700, 950)]),
                      box(-50, -50, -10, -10), box(0, 0, 1000, 1000).buffer(-490)], dtype=object)
    got = points_in_polygons(polys, xy)
    want = _reference(polys, xy)
    assert [g.tolist() for g in got] == [w.tolist() for w in want]
    assert len(got[2]) == 0 and len(got[0]) > 0
    assert all(g.dtype == np.int64 for g in got)


def test_no_points_or_no_polygons():
    assert points_in_polygons(np.array([box(0, 0, 1, 1)], dtype=object), np.empty((0, 2)))[0].size == 0
    assert points_in_polygons(np.array([], dtype=object), np.zeros((3, 2))) == []
