"""dashboard.views.map: what a click on the map picks."""

from __future__ import annotations


def test_clicked_details_prefers_markers_then_hotspots():
    import geopandas as gpd
    from pyproj import Transformer
    from shapely.geometry import Point

    from dashboard.views.map import clicked_details

    to_wgs = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    inc = gpd.GeoDataFrame(
        {"incident_id": ["A", "B"], "easting": [600000.0, 603000.0], "northing": [300000.0, 300000.0]},
        geometry=gpd.points_from_xy([600000.0, 603000.0], [300000.0, 300000.0]), crs="EPSG:27700",
    )
    hs = gpd.GeoDataFrame({"hotspot_id": ["H001"]}, geometry=[Point(600000, 300000).buffer(1000)],
                          crs="EPSG:27700")

    def click(e, n):
        lon, lat = to_wgs.transform(e, n)
        return {"lat": lat, "lng": lon}

    kind, row = clicked_details(click(600005, 300005), hs, inc)
    assert (kind, row["incident_id"].iloc[0]) == ("incident", "A")
    kind, row = clicked_details(click(600500, 300000), hs, inc)
    assert (kind, row["hotspot_id"].iloc[0]) == ("hotspot", "H001")
    kind, row = clicked_details(click(603500, 300000), hs, inc)
    assert (kind, row["incident_id"].iloc[0]) == ("incident", "B")
    assert clicked_details(click(650000, 300000), hs, inc) is None
    assert clicked_details({"lat": "x", "lng": None}, hs, inc) is None
    assert clicked_details(None, hs, inc) is None


def test_incident_origin_is_where_and_when_a_plate_search_centres():
    from factories import incidents

    from dashboard.views.map import incident_origin

    row = incidents(1, occurred_at=["2021-10-02T21:15:00+01:00"], easting=[545000.0],
                    northing=[258000.0])
    assert incident_origin(row) == (545000.0, 258000.0, "2021-10-02T20:15:00+00:00")
