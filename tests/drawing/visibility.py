"""How visible drawn masks are, in pixels: per segment, the share of its pixels the drawing
changed by more than VISIBLE_DELTA (on 0–255, the largest of the three channels), and the share
of its edge pixels (inside the segment, within a pixel of another segment or of none, not on the
picture's border) changed that much."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from components.drawing.masks import resize_mask
from components.results import Region

VISIBLE_DELTA = 24


@dataclass(frozen=True)
class SegmentVisibility:
    name: str
    area: float  # share of the picture
    changed: float  # share of its pixels changed by more than VISIBLE_DELTA
    outlined: float  # share of its edge pixels changed by more than VISIBLE_DELTA


def visibility(original: np.ndarray, drawn: np.ndarray, regions: list[Region]) -> list[SegmentVisibility]:
    height, width = original.shape[:2]
    changed = np.abs(drawn.astype(np.int16) - original.astype(np.int16)).max(axis=2) > VISIBLE_DELTA
    owner = np.zeros((height, width), np.int32)  # the later mask wins, as drawing does
    masks = [resize_mask(region.mask, width, height) for region in regions]
    for index, mask in enumerate(masks, start=1):
        owner[mask] = index
    found = []
    ring = np.ones((3, 3), np.uint8)
    for index, region in enumerate(regions, start=1):
        own = owner == index
        if not own.any():
            continue
        padded = cv2.copyMakeBorder(own.view(np.uint8), 1, 1, 1, 1, cv2.BORDER_REPLICATE)
        edge = own & ~(cv2.erode(padded, ring)[1:-1, 1:-1] > 0)
        found.append(SegmentVisibility(
            region.top_concept.name,
            float(own.mean()),
            float(changed[own].mean()),
            float(changed[edge].mean()) if edge.any() else 1.0,
        ))
    return found
