"""The Data page's helpers: the upload check (``geo.pipeline.ingest.check_file``) and downloads."""

from __future__ import annotations


def test_validate_upload_counts_and_rejects(areas):
    from geo.pipeline.ingest import check_file

    csv = (
        b"incident_id,occurred_at,lat,lon,vrms,notes\n"
        b"N1,2021-10-02 07:30,52.63,1.10,AB12CDE,ok\n"
        b"N2,not a date,52.63,1.10,,bad time\n"
        b"N3,2021-10-03 08:00,99,1.10,,bad place\n"
        b"N1,2021-10-04 09:00,52.63,1.10,,duplicate id\n"
    )
    out = check_file(csv, areas, name="incidents.csv", kind="incidents")
    assert out.ok, out.error
    c = out.counts()  # FileCheck.counts() also reports duplicates_collapsed (issue 11)
    assert {k: c[k] for k in ("rows", "accepted", "rejected")} == {"rows": 4, "accepted": 1, "rejected": 3}
    rej = out.rejects()
    assert list(rej.columns) == ["row", "id", "reason"]
    assert sorted(rej["row"].tolist()) == [2, 3, 4]
    assert (rej["reason"].str.len() > 0).all()


def test_validate_upload_unreadable_file_is_an_error_not_an_exception(areas):
    from geo.pipeline.ingest import check_file

    out = check_file(b"\x00\x01garbage", areas, name="incidents.pdf", kind="incidents")
    assert not out.ok and out.error
    out = check_file(b"", areas, name="empty.csv", kind="Sightings")
    assert out.kind == "sightings" and out.error


def test_incident_download_is_formula_safe_and_masked():
    import geopandas as gpd

    from dashboard.views.data import incidents_csv

    gdf = gpd.GeoDataFrame(
        {"incident_id": ["=HYPERLINK(1)"], "vrms": ["AB12CDE;XY34ZZZ"], "nominals": ["N1234567"],
         "notes": ["@secret"]},
        geometry=gpd.points_from_xy([600000.0], [300000.0]), crs="EPSG:27700",
    )
    text = incidents_csv(gdf, redact=False).decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text and "'@secret" in text
    masked = incidents_csv(gdf, redact=True).decode("utf-8-sig")
    assert "AB12CDE" not in masked and "AB12 C**" in masked
    assert "N1234567" not in masked and "secret" not in masked
