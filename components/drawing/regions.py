"""Which concept a region is drawn as: its name and colour, the names hidden from the picture,
and the boxes shown at a score."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from components.colors import Color, color_for, normalise_name
from components.results import Concept, PixelBox, Region


def region_name(region: Region) -> str:
    """The concept a region is coloured and labelled by: its top concept ("" if none)."""
    top = region.top_concept
    return top.name if top is not None else ""


def region_color(region: Region) -> Color:
    """The colour a region is drawn in: its top concept's (colors.color_for, with the concept id)."""
    top = region.top_concept
    return color_for(top.name, top.id) if top is not None else color_for("")


def hidden_names(hidden: Iterable[str] | str) -> frozenset[str]:
    if isinstance(hidden, str):  # one name, not its letters
        hidden = (hidden,)
    return frozenset(normalise_name(n) for n in hidden or ())


@dataclass(frozen=True)
class _Detection:
    index: int
    xyxy: PixelBox
    concept: Concept
    color: Color


def visible_detections(
    regions: Iterable[Region], width: int, height: int, min_score: float, hidden: Collection[str]
) -> list[_Detection]:
    hidden_set = hidden_names(hidden)
    found = []
    for index, region in enumerate(regions):
        top = region.top_concept
        if top is None or not top.value >= min_score:  # NaN scores are never shown
            continue
        if normalise_name(top.name) in hidden_set:
            continue
        xyxy = region.box.pixels(width, height) if region.box is not None else None
        if xyxy is not None:
            found.append(_Detection(index, xyxy, top, color_for(top.name, top.id)))
    return found
