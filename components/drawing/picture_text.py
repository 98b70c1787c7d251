"""What an annotated picture shows, in words: its alt text and the line shown under it.

Labels drawn on a picture are pixels. These strings put the same names and scores on the page
as text, for screen readers, the browser's find-in-page and tests; they come from the same
tables (`charts`) and the same label layout (`labels`) as the drawing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

import pandas as pd

from components.drawing.charts import format_value
from components.text import plain

LISTED = 60  # values listed before "and N more"


@dataclass(frozen=True)
class PictureText:
    """`alt`: the picture's alternative text (plain). `caption`: markdown shown under the
    picture, "" for none."""

    alt: str = ""
    caption: str = ""


def listing(items: Iterable[tuple[str, str]], limit: int = LISTED, markdown: bool = False) -> str:
    """Names with their values, grouped by name in first-seen order:
    "person 0.93, 0.71 · dog 0.81". Past `limit` values: "… and 12 more"."""
    grouped: dict[str, list[str]] = {}
    items = list(items)
    for name, value in items[:limit]:
        grouped.setdefault(" ".join(str(name).split()) or "(no name)", []).append(value)
    parts = [f"{plain(name) if markdown else name} {', '.join(values)}" for name, values in grouped.items()]
    text = " · ".join(parts)
    if len(items) > limit:
        text += f" … and {len(items) - limit} more"
    return text


def boxes_text(frame: pd.DataFrame, labelled: Collection[int], picked: Collection[int] = ()) -> PictureText:
    """Alt text and caption for boxes drawn from `frame` (charts.regions_frame): every box's name
    and score; with boxes picked out, which ones; otherwise how many labels found no room on the
    picture (`labelled`: the region indexes that got a label)."""
    if frame.empty:
        return PictureText(alt="No boxes drawn.")
    items = [(name, format_value(score)) for name, score in frame[["concept", "score"]].itertuples(index=False)]
    count = len(items)
    alt = f"{count} box{'es' if count != 1 else ''} drawn: {listing(items)}."
    caption = f"**Boxes:** {listing(items, markdown=True)}"
    chosen = frame[frame["region"].isin(set(picked))]
    if not chosen.empty:
        picked_items = [(n, format_value(s)) for n, s in chosen[["concept", "score"]].itertuples(index=False)]
        alt += f" Picked out: {listing(picked_items)}."
        caption += f"  \n**Picked out:** {listing(picked_items, markdown=True)}; the rest are dimmed."
    else:
        left_off = count - len(set(frame["region"]) & set(labelled))
        if left_off:
            caption += (
                f"  \n{left_off} label{'s' if left_off != 1 else ''} did not fit on the picture "
                "without covering another: the line above names every box."
            )
    return PictureText(alt=alt, caption=caption)


def masks_text(frame: pd.DataFrame, picked: Collection[int] = ()) -> PictureText:
    """Alt text for segments painted from `frame` (charts.coverage_frame): each one's name and
    share, in the chart's own form ("39 %"). No caption: the chart beside the picture says it."""
    if frame.empty:
        return PictureText(alt="No segments painted.")
    items = segment_items(frame)
    alt = f"{len(items)} segment{'s' if len(items) != 1 else ''} painted: {listing(items)}."
    chosen = frame[frame["region"].isin(set(picked))]
    if not chosen.empty:
        alt += f" Picked out: {listing(segment_items(chosen))}."
    return PictureText(alt=alt)


def segment_items(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return [(name, format_value(share, percent=True)) for name, share in frame[["concept", "share"]].itertuples(index=False)]
