"""Every colour of the dashboard, the map and the briefing pack (one copy).

Qualitative colours are Okabe & Ito (2008), distinguishable with the common
colour-vision deficiencies; the sequential hotspot ramps are ColorBrewer
YlOrRd (screen) and viridis (projector and print), rank 1 darkest.
"""

from __future__ import annotations

from geo.schema import SEVEN_FORCES

__all__ = [
    "OKABE_ITO",
    "FORCE_COLOURS",
    "TRAIL_COLOURS",
    "SEQ_NORMAL",
    "SEQ_BRIEFING",
    "GREY",
    "hotspot_colours",
]

#: Okabe & Ito (2008) colour-blind-safe qualitative palette.
OKABE_ITO: dict[str, str] = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
#: One Okabe-Ito colour per force of the agreement (canonical order).
FORCE_COLOURS: dict[str, str] = dict(
    zip(
        SEVEN_FORCES.values(),
        [OKABE_ITO[c] for c in ("blue", "orange", "green", "vermillion", "purple", "sky", "black")],
        strict=True,
    )
)
#: Trail colours: Okabe-Ito without yellow (too faint on a light background).
TRAIL_COLOURS: list[str] = [
    OKABE_ITO[c] for c in ("blue", "vermillion", "green", "purple", "orange", "sky", "black")
]
#: Sequential, colour-blind-safe: ColorBrewer YlOrRd (rank 1 darkest).
SEQ_NORMAL: list[str] = ["#bd0026", "#f03b20", "#fd8d3c", "#fecc5c", "#ffffb2"]
#: For briefings: viridis (rank 1 darkest; strongest light/dark contrast).
SEQ_BRIEFING: list[str] = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"]
#: Neighbouring (non-agreement) forces in print.
GREY = "#6e6e6e"


def hotspot_colours(ranks, *, briefing: bool = False) -> list[str]:
    """Sequential colour-blind-safe fill for each hotspot rank (1 = darkest).

    Ranks 1-4 get their own step; rank 5 and below share the lightest.
    """
    import numpy as np

    pal = SEQ_BRIEFING if briefing else SEQ_NORMAL
    r = np.clip(np.asarray(ranks, dtype="int64"), 1, len(pal)) - 1
    return [pal[i] for i in r.tolist()]
