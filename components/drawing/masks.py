"""Masks: read as booleans, resized to the picture, painted into one label map and blended into
a picture in their concepts' colours."""

from __future__ import annotations

import math
from collections.abc import Collection

import cv2
import numpy as np

from components.colors import Color, normalise_name, text_color_for
from components.drawing.regions import hidden_names, region_color, region_name
from components.results import Region


def mask_as_bool(mask: np.ndarray | None) -> np.ndarray | None:
    """A 2-D boolean mask (pixels > 0), or None when there is nothing usable.

    3-D masks count a pixel when any colour channel is > 0 (alpha ignored).
    """
    if mask is None:
        return None
    mask = np.asarray(mask)  # a PackedMask unpacks here
    if mask.ndim not in (2, 3) or mask.size == 0 or mask.dtype.kind not in "buif":
        return None
    with np.errstate(invalid="ignore"):
        if mask.ndim == 3:
            mask = (mask[:, :, :3] > 0).any(axis=2)
        elif mask.dtype != np.bool_:
            mask = mask > 0
    return mask


def resize_mask(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    """A boolean mask at (height, width), nearest-neighbour; the same pixels as
    cv2.resize(INTER_NEAREST) on uint8. Everything that draws or exports masks uses this."""
    mask = mask_as_bool(mask)
    if mask is None:
        return np.zeros((height, width), dtype=bool)
    if mask.shape == (height, width):
        return mask
    resized = cv2.resize(np.ascontiguousarray(mask).view(np.uint8), (width, height),
                         interpolation=cv2.INTER_NEAREST)
    return resized.astype(bool)


def _bounding_rect(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x, y, w, h) of the non-zero pixels, None if there are none. Rows first, then columns
    only within those rows: about twice as fast as cv2.boundingRect on a 12 MP mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    y0, y1 = int(rows[0]), int(rows[-1]) + 1
    cols = np.flatnonzero(mask[y0:y1].any(axis=0))
    x0, x1 = int(cols[0]), int(cols[-1]) + 1
    return x0, y0, x1 - x0, y1 - y0


Rect = tuple[int, int, int, int]  # x0, y0, x1, y1; x1/y1 exclusive


def _union(a: Rect | None, b: Rect | None) -> Rect | None:
    if a is None or b is None:
        return a or b
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _paint_masks(label_map: np.ndarray, masks: list[tuple[np.ndarray, int]]) -> Rect | None:
    """Writes each mask's palette slot into the label map, only inside the mask's bounding
    rectangle; returns the rectangle holding them all. All masks have the label map's size;
    later ones overwrite earlier ones."""
    painted = None
    for mask, slot in masks:
        rect = _bounding_rect(mask)
        if rect is None:
            continue
        x, y, w, h = rect
        inside = np.ascontiguousarray(mask[y : y + h, x : x + w]).view(np.uint8)
        # cv2.copyTo with a mask is several times faster than numpy's masked assignment.
        target = label_map[y : y + h, x : x + w]
        written = cv2.copyTo(np.full((h, w), slot, dtype=np.uint8), inside, target)
        if written is not target:
            target[...] = written
        painted = _union(painted, (x, y, x + w, y + h))
    return painted


def _label_map(regions, width, height, hidden) -> tuple[np.ndarray, Rect | None, list[Color]]:
    """(label map, rectangle holding every mask, colours): label k > 0 means colours[k - 1]."""
    hidden_set = hidden_names(hidden)
    slot_of: dict[Color, int] = {}
    runs: list[tuple[tuple[int, int], list[tuple[np.ndarray, int]]]] = []
    for region in regions:
        if normalise_name(region_name(region)) in hidden_set:
            continue
        mask = mask_as_bool(region.mask)
        if mask is None:
            continue
        # color_for yields at most 40 colours (palette and named), far under the 255 slots.
        slot = slot_of.setdefault(region_color(region), len(slot_of) + 1)
        entry = (mask, slot)
        if runs and runs[-1][0] == mask.shape:
            runs[-1][1].append(entry)
        else:
            runs.append((mask.shape, [entry]))

    label_map = np.zeros((height, width), dtype=np.uint8)
    painted = None
    for shape, masks in runs:
        if shape == (height, width):
            painted = _union(painted, _paint_masks(label_map, masks))
            continue
        small = np.zeros(shape, dtype=np.uint8)
        small_rect = _paint_masks(small, masks)
        if small_rect is None:
            continue
        resized = cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)
        # the small rectangle scaled up, with a pixel to spare for rounding
        (sh, sw), (x0, y0, x1, y1) = shape, small_rect
        rect = (
            max(math.floor(x0 * width / sw) - 1, 0), max(math.floor(y0 * height / sh) - 1, 0),
            min(math.ceil(x1 * width / sw) + 1, width), min(math.ceil(y1 * height / sh) + 1, height),
        )
        region = (slice(rect[1], rect[3]), slice(rect[0], rect[2]))
        np.copyto(label_map[region], resized[region], where=resized[region] > 0)
        painted = _union(painted, rect)
    return label_map, painted, list(slot_of)


def _color_lut(colors: list[Color]) -> np.ndarray:
    """cv2.applyColorMap's table: label k > 0 becomes colors[k - 1]."""
    lut = np.zeros((256, 1, 3), dtype=np.uint8)
    if colors:
        lut[1 : len(colors) + 1, 0] = colors
    return lut


# A mask tinted in a colour close to the pixels under it (a colour model's "sky blue" segment on
# the sky) would hardly change them. Such a mask is hatched: stripes in black or white, whichever
# contrasts with its colour, so every segment shows whatever model made it and whatever its colour.
CLOSE_DELTA = 48  # a pixel within this (0–255, per channel) of the mask's colour barely changes
CLOSE_SHARE = 0.5  # a mask with this share of such pixels under it is hatched
HATCH_PERIOD = 48  # stripes per longer side of the picture, about
_SAMPLE_STEP = 4  # every 4th row and column are enough to tell whether a mask is close


def blend_into(
    canvas: np.ndarray, regions: list[Region], opacity: float, hidden: Collection[str], outline_width: int = 0
) -> None:
    """Tints each mask's pixels in its colour at `opacity`. With `outline_width`, each mask also
    gets an outline that wide along the inside of its edge (not along the picture's border), in
    black or white, whichever contrasts more with the pixels there, and a mask close in colour to
    the pixels under it is hatched; pixels under no mask are never touched."""
    if opacity == 0.0:
        return
    height, width = canvas.shape[:2]
    label_map, rect, slot_colors = _label_map(regions, width, height, hidden)
    if rect is None:
        return
    x0, y0, x1, y1 = rect
    labels = label_map[y0:y1, x0:x1]
    picture = canvas[y0:y1, x0:x1]
    hatched = _close_slots(labels, picture, slot_colors) if outline_width > 0 else []
    colors = cv2.applyColorMap(labels, _color_lut(slot_colors))
    blended = cv2.addWeighted(picture, 1.0 - opacity, colors, opacity, 0.0)
    if hatched:
        period = max(6, round(max(width, height) / HATCH_PERIOD))
        ys, xs = np.arange(y0, y1) % period, np.arange(x0, x1) % period
        stripes = (ys[:, None] + xs[None, :]) % period < period * 2 // 5
        inks = [text_color_for(color) for color in slot_colors]
        ink_lut = _color_lut([ink if slot + 1 in hatched else color for slot, (ink, color) in
                              enumerate(zip(inks, slot_colors))])
        on_stripe = stripes & np.isin(labels, hatched)
        inked = cv2.addWeighted(picture, 1.0 - opacity, cv2.applyColorMap(labels, ink_lut), opacity, 0.0)
        blended[on_stripe] = inked[on_stripe]
    if outline_width > 0:
        _outline(blended, labels, _edges(label_map, rect, outline_width), len(slot_colors))
    written = cv2.copyTo(blended, labels, picture)  # only where a label is set, into canvas
    if written is not picture:
        picture[...] = written


def _close_slots(labels: np.ndarray, picture: np.ndarray, colors: list[Color]) -> list[int]:
    """The labels whose colour is within CLOSE_DELTA of most of the pixels under them."""
    step = _SAMPLE_STEP
    sample_labels = labels[::step, ::step].ravel()
    sample = picture[::step, ::step].reshape(-1, 3).astype(np.int16)
    lut = np.zeros((len(colors) + 1, 3), np.int16)
    lut[1:] = colors
    close = (np.abs(sample - lut[sample_labels]).max(axis=1) < CLOSE_DELTA).astype(np.float64)
    count = np.bincount(sample_labels, minlength=len(colors) + 1)
    share = np.bincount(sample_labels, close, minlength=len(colors) + 1) / np.maximum(count, 1)
    return [slot for slot in range(1, len(colors) + 1) if count[slot] and share[slot] >= CLOSE_SHARE]


def _edges(label_map: np.ndarray, rect: Rect, width: int) -> np.ndarray:
    """Inside `rect`, the labelled pixels within `width` of a pixel with another label or none
    (the picture's border is not an edge)."""
    height, full_width = label_map.shape
    x0, y0, x1, y1 = rect
    ex0, ey0, ex1, ey1 = max(x0 - width, 0), max(y0 - width, 0), min(x1 + width, full_width), min(y1 + width, height)
    around = label_map[ey0:ey1, ex0:ex1]
    kernel = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
    edge = (cv2.dilate(around, kernel) != around) | (cv2.erode(around, kernel) != around)
    inside = (slice(y0 - ey0, y1 - ey0), slice(x0 - ex0, x1 - ex0))
    return edge[inside] & (around[inside] > 0)


def _outline(blended: np.ndarray, labels: np.ndarray, edge: np.ndarray, slots: int) -> None:
    """Paints each label's `edge` pixels black or white, whichever contrasts more with their mean
    colour in `blended`."""
    if not edge.any():
        return
    on_edge = labels[edge]
    count = np.maximum(np.bincount(on_edge, minlength=slots + 1), 1)
    means = np.stack([np.bincount(on_edge, blended[..., c][edge], minlength=slots + 1) for c in range(3)], 1)
    inks = np.array([text_color_for(mean) for mean in means / count[:, None]], np.uint8)
    blended[edge] = inks[on_edge]
