"""Tables behind the result views: plain pandas DataFrames, highest score first.

The UI feeds them to `st.bar_chart` / `st.dataframe`; the `color` columns are the drawing's own
colours (colors.color_for) as "#rrggbb", so a legend matches the picture.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from components import render
from components.colors import color_for
from components.results import Concept, Region

CONCEPT_COLUMNS = ["concept", "score"]
REGION_COLUMNS = ["concept", "score", "x0", "y0", "x1", "y1", "color"]
COVERAGE_COLUMNS = ["concept", "share", "color"]


def _finite(value: float) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return math.nan
    return value


def concepts_frame(
    concepts: Iterable[Concept], min_value: float = 0.0, max_concepts: int | None = None
) -> pd.DataFrame:
    """[concept, score]: concepts scoring >= min_value, best first, at most max_concepts."""
    rows = [(c.name, _finite(c.value)) for c in concepts]
    rows = [row for row in rows if row[1] >= min_value]  # drops NaN too
    rows.sort(key=lambda row: row[1], reverse=True)
    if max_concepts is not None:
        rows = rows[: max(int(max_concepts), 0)]
    return pd.DataFrame(rows, columns=CONCEPT_COLUMNS).astype({"score": float})


def regions_frame(
    regions: Iterable[Region], width: int, height: int, min_score: float = 0.0
) -> pd.DataFrame:
    """[concept, score, x0, y0, x1, y1, color]: one row per box that `render.draw_detections`
    would draw (same score filter, same skipped boxes), box in inclusive pixels of a
    width x height picture, best first."""
    rows = []
    for region in regions:
        top = region.top_concept
        if top is None or not _finite(top.value) >= min_score:
            continue
        xyxy = region.box.pixels(width, height) if region.box is not None else None
        if xyxy is None:
            continue
        rows.append((top.name, _finite(top.value), *xyxy, color_for(top.name).hex))
    rows.sort(key=lambda row: row[1], reverse=True)
    frame = pd.DataFrame(rows, columns=REGION_COLUMNS)
    return frame.astype({"score": float, "x0": int, "y0": int, "x1": int, "y1": int})


def _mask_share(mask: np.ndarray | None) -> float:
    mask = render.mask_as_bool(mask)
    return float(mask.mean()) if mask is not None else 0.0


def coverage_frame(regions: Iterable[Region]) -> pd.DataFrame:
    """[concept, share, color] for segmentation: the share (0–1) of the picture each segment
    covers, largest first.

    The share is Clarifai's concept value (a segment carries one concept); where that is
    missing, zero or not a number, it is the mask's own fraction of true pixels.
    """
    rows = []
    for region in regions:
        top = region.top_concept  # the concept render colours the mask by
        if top is None and region.mask is None:
            continue
        name = top.name if top is not None else ""
        share = _finite(top.value) if top is not None else math.nan
        if not (share > 0.0):
            share = _mask_share(region.mask)
        rows.append((name, min(max(share, 0.0), 1.0), color_for(name).hex))
    rows.sort(key=lambda row: row[1], reverse=True)
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS).astype({"share": float})
