"""Throwaway Streamlit app for the browser tests: build_map + st_folium only.

Hostile strings on purpose (notes, ids, camera ids, a force name); a "Forces"
multiselect so a test can time a filter change reaching the map.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from dashboard.maps import MapLayers, build_map
from geo.areas import ATTRIBUTION, display_boundaries
from geo.io.boundaries import read_boundaries, resolve_boundaries_path
from geo.schema import BNG

XSS = "<img src=x onerror=alert(1)>"


@st.cache_resource
def base():
    areas = read_boundaries(resolve_boundaries_path())
    b = display_boundaries(areas)
    b.loc[len(b) - 1, "force"] = XSS  # a neighbour with a hostile name
    rng = np.random.default_rng(0)
    pts = areas.seven.sample_points(60, rng=rng)
    xy = np.vstack([np.array([[p.x, p.y] for p in mp.geoms]) for mp in pts])
    force = np.repeat(areas.seven["force"].to_numpy(), 60)
    import geopandas as gpd

    inc = gpd.GeoDataFrame(
        {
            "incident_id": [f"INC{i}" for i in range(len(xy))],
            "occurred_at": pd.Timestamp("2024-10-01", tz="UTC")
            + pd.to_timedelta(np.arange(len(xy)), unit="h"),
            "easting": xy[:, 0],
            "northing": xy[:, 1],
            "force": force,
            "vrms": "AB12CDE",
            "nominals": "N1234567",
            "notes": XSS,
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=BNG,
    )
    cams = pd.DataFrame(
        {
            "camera_id": [XSS, "CAM2"],
            "easting": [600000.0, 560000.0],
            "northing": [300000.0, 250000.0],
            "force": ["Norfolk", "Suffolk"],
        }
    )
    trails = pd.DataFrame(
        {
            "vrm": ["AB12CDE"] * 3,
            "at": pd.to_datetime(
                ["2024-10-02 01:00", "2024-10-02 02:00", "2024-10-02 03:00"], utc=True
            ),
            "easting": [600000.0, 610000.0, 620000.0],
            "northing": [300000.0, 280000.0, 250000.0],
            "force": ["Norfolk", "Suffolk", "Suffolk"],
            "kind": ["read", "incident", "read"],
            "ref": [XSS, "INC1", "CAM2"],
            "trip": [0, 0, 0],
        }
    )
    cx = pd.DataFrame(
        {
            "vrm": ["AB12CDE"],
            "trip": [0],
            "from_force": ["Norfolk"],
            "to_force": [XSS],
            "from_at": trails["at"].iloc[[0]].to_numpy(),
            "at": trails["at"].iloc[[1]].to_numpy(),
            "camera_id": [XSS],
            "easting": [605000.0],
            "northing": [290000.0],
        }
    )
    return areas, b, inc, cams, trails, cx


areas, b, inc, cams, trails, cx = base()
forces = st.sidebar.multiselect("Forces", list(areas.names), default=list(areas.names))
redact = st.sidebar.toggle("Mask plates and ids", value=False)
shown = inc[inc["force"].isin(forces)]
st.metric("Incidents", len(shown))
m = build_map(
    MapLayers(
        boundaries=b,
        incidents=shown,
        cameras=cams,
        trails=trails,
        crossings=cx,
        attribution=ATTRIBUTION,
    ),
    redact=redact,
)
st_folium(
    m,
    key="map",
    height=600,
    use_container_width=True,
    returned_objects=["last_object_clicked_tooltip"],
)
