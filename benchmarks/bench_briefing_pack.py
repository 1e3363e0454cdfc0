"""Time the briefing pack on the demo, built as the Briefing page builds it.

    python benchmarks/bench_briefing_pack.py [--repeat 3]

Prints the seconds per pack (zip of PDF + PNG + HTML) and per part. Target:
under 3 s on two cores (0.2.0 took 12.6 s). Needs HAREWATCH_BOUNDARIES.
"""

from __future__ import annotations

import argparse
import time

from dashboard import briefing
from dashboard.maps import MapLayers, build_map, standalone_html
from dashboard.views.briefing import BRIEFING_HOPPER_COLUMNS, briefing_hoppers, briefing_hotspots
from dashboard.views.hoppers import hoppers_table, hoppers_view
from dashboard.views.hotspots import hotspot_table
from geo.areas import display_boundaries
from geo.datasets.demo import demo_result
from geo.hotspots import hotspots_with_trend
from geo.io.boundaries import load_boundaries
from geo.movements import border_crossings, vehicle_points
from geo.offenders import ladder, latest_force


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    areas = load_boundaries(None, allow_fetch=False, log=lambda *_: None)
    inc_res, sig_res = demo_result(areas)
    inc, sig = inc_res.accepted, sig_res.accepted
    hs = hotspots_with_trend(inc, season="2021-22", areas=areas)
    lad = ladder(inc, crossings=border_crossings(vehicle_points(inc, sig)))
    lad = lad.assign(latest_force=latest_force(lad, inc))
    top = briefing_hotspots(hotspot_table(hs.hotspots, areas))
    hop = briefing_hoppers(hoppers_table(hoppers_view(lad, season="2021-22", min_stage=2)))
    layers = MapLayers(boundaries=display_boundaries(areas), incidents=inc, hotspots=hs.hotspots,
                       attribution=areas.attribution)
    kw = dict(layers=layers, figures={"Incidents this season": "1,415"}, top_hotspots=top,
              hoppers=hop[BRIEFING_HOPPER_COLUMNS], title="Hare coursing briefing · 2021-22", redact=True,
              filters_text="2021-22 · all 7 forces · every day · all day", synthetic=True)
    for i in range(args.repeat):
        t0 = time.perf_counter()
        pack = briefing.briefing_pack(**kw)
        total = time.perf_counter() - t0
        t1 = time.perf_counter()
        briefing.map_png(layers, title=kw["title"])
        t_png = time.perf_counter() - t1
        t2 = time.perf_counter()
        standalone_html(build_map(layers, redact=True, briefing=True))
        t_html = time.perf_counter() - t2
        print(f"run {i + 1}: pack {total:.2f} s ({len(pack) / 1e6:.2f} MB); alone: PNG {t_png:.2f} s, "
              f"HTML {t_html:.2f} s")


if __name__ == "__main__":
    main()
