"""Tables and charts behind the result views: pandas DataFrames, highest score first, and the
Vega-Lite bar chart drawn from them.

The `color` columns are the drawing's own colours (colors.color_for, with each concept's id) as
"#rrggbb"; `bar_chart_spec` paints each bar with its row's colour, so the chart, the table and
the picture agree. The UI shows the spec with `st.vega_lite_chart` and the tables with `st.dataframe`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from components.colors import Color, color_for, contrast_ratio, text_color_for
from components.drawing.masks import mask_as_bool
from components.drawing.regions import region_color
from components.results import Concept, Region

CONCEPT_COLUMNS = ["concept", "score", "color"]
REGION_COLUMNS = ["concept", "score", "x0", "y0", "x1", "y1", "color", "region"]
COVERAGE_COLUMNS = ["concept", "share", "color", "region"]


def _finite(value: float) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return math.nan
    return value


def concepts_frame(
    concepts: Iterable[Concept], min_value: float = 0.0, max_concepts: int | None = None
) -> pd.DataFrame:
    """[concept, score, color]: concepts scoring >= min_value, best first, at most max_concepts."""
    rows = [(c.name, _finite(c.value), color_for(c.name, c.id).hex) for c in concepts]
    rows = [row for row in rows if row[1] >= min_value]  # drops NaN too
    rows.sort(key=lambda row: row[1], reverse=True)
    if max_concepts is not None:
        rows = rows[: max(int(max_concepts), 0)]
    return pd.DataFrame(rows, columns=CONCEPT_COLUMNS).astype({"score": float})


def regions_frame(
    regions: Iterable[Region], width: int, height: int, min_score: float = 0.0
) -> pd.DataFrame:
    """[concept, score, x0, y0, x1, y1, color, region]: one row per box that
    `render.draw_detections` would draw (same score filter, same skipped boxes), box in inclusive
    pixels of a width x height picture, best first; `region` is the region's index in `regions`."""
    rows = []
    for index, region in enumerate(regions):
        top = region.top_concept
        if top is None or not _finite(top.value) >= min_score:
            continue
        xyxy = region.box.pixels(width, height) if region.box is not None else None
        if xyxy is None:
            continue
        rows.append((top.name, _finite(top.value), *xyxy, color_for(top.name, top.id).hex, index))
    rows.sort(key=lambda row: row[1], reverse=True)
    frame = pd.DataFrame(rows, columns=REGION_COLUMNS)
    return frame.astype({"score": float, "x0": int, "y0": int, "x1": int, "y1": int, "region": int})


def _mask_share(mask: np.ndarray | None) -> float:
    mask = mask_as_bool(mask)
    return float(mask.mean()) if mask is not None else 0.0


def coverage_frame(regions: Iterable[Region]) -> pd.DataFrame:
    """[concept, share, color, region] for segmentation: the share (0–1) of the picture each
    segment covers, largest first; `region` is the segment's index in `regions`.

    The share is Clarifai's concept value (a segment carries one concept); where that is
    missing, zero or not a number, it is the mask's own fraction of true pixels.
    """
    rows = []
    for index, region in enumerate(regions):
        top = region.top_concept  # the concept render colours the mask by
        if top is None and region.mask is None:
            continue
        name = top.name if top is not None else ""
        share = _finite(top.value) if top is not None else math.nan
        if not (share > 0.0):
            share = _mask_share(region.mask)
        rows.append((name, min(max(share, 0.0), 1.0), region_color(region).hex, index))
    rows.sort(key=lambda row: row[1], reverse=True)
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS).astype({"share": float, "region": int})


# --- bar charts ------------------------------------------------------------------------------

BAR_STEP_PX = 26  # a row per bar: room for a 12 px label and a gap at any bar count
LABEL_LIMIT_PX = 120  # longer names end in "…" on the axis; the tooltip has the full name
VALUE_INSIDE_FROM = 0.75  # bars at least this long print their value inside, near the end
LABEL_FONT_PX = 12
LABEL_PADDING_PX = 6
PERCENT_TICK = "replace(format(datum.value, '.0%'), '%', ' %')"  # "25 %", written as the bars' values are


def format_value(value: float, percent: bool = False) -> str:
    """How a bar's value is printed: "0.93" for a score, "42 %" for a share ("<1 %" for a sliver)."""
    value = _finite(value)
    if math.isnan(value):
        return "–"
    if not percent:
        return f"{value:.2f}"
    if 0.0 < value < 0.005:
        return "<1 %"
    return f"{round(value * 100)} %"


def _unique_labels(names: Iterable[str]) -> list[str]:
    """Names as bar labels: blank names say so, repeated ones get " (2)", " (3)"... so each bar
    keeps its own row (Vega-Lite would stack bars that share a label)."""
    seen: dict[str, int] = {}
    labels = []
    for name in names:
        label = str(name).strip() or "(no name)"
        count = seen.get(label, 0) + 1
        seen[label] = count
        labels.append(label if count == 1 else f"{label} ({count})")
    return labels


def _outline(bar: Color, background: Color) -> str:
    """A bar's outline: its own colour, or grey when it would vanish into the background
    (a white bar on a white page)."""
    return bar.hex if contrast_ratio(bar, background) >= 1.3 else "#8a8a8a"


def bar_chart_spec(
    frame: pd.DataFrame,
    value: str,
    value_title: str,
    *,
    percent: bool = False,
    text_color: str = "#18202b",
    background: str = "#ffffff",
) -> dict[str, Any]:
    """A Vega-Lite spec: one horizontal bar per row of `frame`, largest first.

    `frame` has a "concept" column, the `value` column (0–1) and a "color" column ("#rrggbb");
    each bar is painted in its row's colour directly (no colour scale in between), so the chart
    shows the drawing's colours. The value is printed on each bar ("0.93", or "42 %" with
    `percent`): inside a long bar in black or white, whichever reads on it, otherwise just after
    the bar in `text_color`, as are the names and the axis. The axis is 0–1 on every chart, so charts compare. The height grows
    with the number of bars; every label is shown (never thinned out), long ones cut with "…"
    and whole in the tooltip. Drawn as SVG, so bars and labels are in the page.
    """
    page = Color.from_hex(background)
    rows = []
    ordered = frame.assign(_value=[_finite(v) for v in frame[value]])
    ordered = ordered[ordered["_value"].notna()].sort_values("_value", ascending=False, kind="stable")
    for label, (name, number, color) in zip(
        _unique_labels(ordered["concept"]), ordered[["concept", "_value", "color"]].itertuples(index=False)
    ):
        number = min(max(float(number), 0.0), 1.0)
        bar = Color.from_hex(color)
        inside = number >= VALUE_INSIDE_FROM
        rows.append({
            "label": label,
            "concept": str(name),
            "value": number,
            "text": format_value(number, percent),
            "color": bar.hex,
            "outline": _outline(bar, page),
            "inside": inside,
            "text_color": text_color_for(bar).hex if inside else text_color,
            "summary": f"{name}: {format_value(number, percent)}",
        })
    labels = [row["label"] for row in rows]
    count = max(len(rows), 1)
    value_text = {
        # aria: the bar already tells a screen reader its value
        "mark": {"type": "text", "baseline": "middle", "fontSize": LABEL_FONT_PX, "fontWeight": "bold", "aria": False},
        "encoding": {
            "text": {"field": "text", "type": "nominal"},
            "color": {"field": "text_color", "type": "nominal", "scale": None, "legend": None},
        },
    }
    return {
        "description": f"Bar chart of {value_title}: " + ", ".join(f"{r['concept']} {r['text']}" for r in rows),
        "data": {"values": rows},
        "height": count * BAR_STEP_PX,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "usermeta": {"embedOptions": {"renderer": "svg"}},
        "encoding": {
            "y": {
                "field": "label",
                "type": "nominal",
                "sort": labels,
                "title": None,
                "scale": {"paddingInner": 0.25, "paddingOuter": 0.15},
                "axis": {
                    "labelLimit": LABEL_LIMIT_PX,
                    "labelOverlap": False,
                    "labelFontSize": LABEL_FONT_PX,
                    "labelPadding": LABEL_PADDING_PX,
                    # the same label column on every card, so the 0–1 axes line up down the page
                    "minExtent": LABEL_LIMIT_PX + LABEL_PADDING_PX,
                    "maxExtent": LABEL_LIMIT_PX + LABEL_PADDING_PX,
                    "ticks": False,
                    "domain": False,
                },
            },
            "x": {
                "field": "value",
                "type": "quantitative",
                "scale": {"domain": [0, 1], "nice": False, "clamp": True, "zero": True},
                "title": value_title,
                "axis": {
                    "values": [0, 0.25, 0.5, 0.75, 1],
                    "labelExpr": PERCENT_TICK if percent else "format(datum.value, '.2~f')",
                    "labelFlush": True,
                    "grid": True,
                },
            },
            "tooltip": [
                {"field": "concept", "type": "nominal", "title": "Concept"},
                {"field": "text", "type": "nominal", "title": value_title.capitalize()},
            ],
        },
        "layer": [
            {
                "mark": {"type": "bar", "cornerRadiusEnd": 3, "strokeWidth": 1},
                "encoding": {
                    "color": {"field": "color", "type": "nominal", "scale": None, "legend": None},
                    "stroke": {"field": "outline", "type": "nominal", "scale": None, "legend": None},
                    "description": {"field": "summary", "type": "nominal"},  # what a screen reader says
                },
            },
            {
                **value_text,
                "transform": [{"filter": "datum.inside"}],
                "mark": {**value_text["mark"], "align": "right", "dx": -5},
            },
            {
                **value_text,
                "transform": [{"filter": "!datum.inside"}],
                "mark": {**value_text["mark"], "align": "left", "dx": 5},
            },
        ],
        # the names and ticks in the page's text colour: Streamlit's grey reads at 3.7:1 on white
        "config": {"view": {"stroke": None}, "axis": {"labelColor": text_color, "titleColor": text_color}},
    }
