"""OpenCV drawing: boxes with labels, blended masks, and `annotate`, the one entry point for
drawing a prediction.

Images are BGR uint8 arrays (H, W, 3), the upright picture. Every function returns a new array
and leaves its input untouched. Colours come from `components.colors` (kept apart from drawing),
so the charts' legend and the exports use exactly the colours the drawing uses.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable

import cv2
import numpy as np

from components.colors import Color, normalise_name, text_color_for
from components.drawing.labels import Label, layout_labels, style_for, text_coverage
from components.drawing.masks import blend_into, mask_as_bool, resize_mask
from components.drawing.regions import hidden_names, region_color, region_name, visible_detections
from components.results import PixelBox, Prediction, Region


def _bgr_copy(image: np.ndarray) -> np.ndarray:
    """A new uint8 BGR (H, W, 3) array, never the input itself, of a uint8 grey, BGR or BGRA
    picture (grey expanded, alpha dropped): other dtypes raise TypeError, other shapes ValueError."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise TypeError(f"expected a uint8 image, got {image.dtype}")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 1:
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return np.ascontiguousarray(image[:, :, :3])
    if image.ndim == 3 and image.shape[2] == 3:
        return image.copy()
    raise ValueError(f"expected an (H, W, 3) BGR image, got shape {image.shape}")


def _fill(canvas: np.ndarray, x0: int, y0: int, x1: int, y1: int, color: Color) -> None:
    """Fills the inclusive pixel rectangle; exact pixels (no anti-aliasing fringe)."""
    cv2.rectangle(canvas, (x0, y0), (x1, y1), color, cv2.FILLED, cv2.LINE_8)


def _draw_box(canvas: np.ndarray, xyxy: PixelBox, color: Color, line_width: int) -> None:
    """A box of `line_width` in `color`, with a thin black or white rim just inside it.

    The rim keeps the box visible over a mask (or a photo) of the same colour: it contrasts with
    the box colour at >= 4.5:1, as label text does.
    """
    _draw_frame(canvas, xyxy, color, line_width)
    x0, y0, x1, y1 = xyxy
    inset = line_width
    if x1 - x0 > 2 * inset and y1 - y0 > 2 * inset:
        rim = (x0 + inset, y0 + inset, x1 - inset, y1 - inset)
        _draw_frame(canvas, rim, text_color_for(color), rim_width(line_width))


def rim_width(line_width: int) -> int:
    """The contrasting rim inside a box: a third of the line, at least a pixel."""
    return max(1, round(line_width / 3))


def _draw_frame(canvas: np.ndarray, xyxy: PixelBox, color: Color, line_width: int) -> None:
    # Four filled strips rather than one thick cv2.rectangle outline: a thick outline is
    # centred on the edge (half of it outside the box, lost at the picture border), and
    # LINE_AA only adds a faint fringe to axis-aligned edges. Strips lie exactly inside the box.
    x0, y0, x1, y1 = xyxy
    inner = line_width - 1
    _fill(canvas, x0, y0, x1, min(y0 + inner, y1), color)
    _fill(canvas, x0, max(y1 - inner, y0), x1, y1, color)
    _fill(canvas, x0, y0, min(x0 + inner, x1), y1, color)
    _fill(canvas, max(x1 - inner, x0), y0, x1, y1, color)


def _draw_label(canvas: np.ndarray, label: Label, page_font: bool = True) -> None:
    """A filled rectangle in the label's colour with its text, anti-aliased, clipped to the rectangle."""
    left, top, right, bottom = label.rect
    origin = (label.text_origin[0] - left, label.text_origin[1] - top)
    coverage = text_coverage(label.text, label.font_px, page_font, (right - left, bottom - top), origin)
    # colour = fill + (ink - fill) * coverage, as a lookup table: uint8 work only
    steps = np.arange(256, dtype=np.float32)[:, None] / 255.0
    fill, ink = np.array(label.color, np.float32), np.array(label.text_color, np.float32)
    table = np.rint(fill + (ink - fill) * steps).astype(np.uint8).reshape(256, 1, 3)
    canvas[top:bottom, left:right] = cv2.LUT(cv2.merge((coverage, coverage, coverage)), table)


DIMMED = 0.45  # brightness of the picture around picked-out boxes


def draw_detections(
    image: np.ndarray,
    regions: Iterable[Region],
    min_score: float = 0.0,
    hidden: Collection[str] = frozenset(),
    show_labels: bool = True,
    highlighted: Collection[int] = frozenset(),
    *,
    page_font: bool = True,
) -> np.ndarray:
    """A copy of the picture with a box per region whose top concept scores >= min_score.

    Boxes take their top concept's colour; labels "name 0.93" sit on a filled rectangle of that
    colour with black or white text, inside the picture, drawn after every box so no box
    covers a label; labels that find no room are left off (see `layout_labels`). Regions
    without a usable box (segments, NaN, zero size) are skipped.

    `highlighted` (indexes into `regions`) picks boxes out: the picture around them is dimmed,
    other boxes are drawn thin and unlabelled.
    """
    canvas = _bgr_copy(image)
    height, width = canvas.shape[:2]
    if width == 0 or height == 0:
        return canvas
    regions = list(regions)
    style = style_for(width, height)
    detections = visible_detections(regions, width, height, min_score, hidden)
    picked = frozenset(highlighted) & {d.index for d in detections}
    if picked:
        original = canvas.copy()
        canvas = cv2.convertScaleAbs(canvas, alpha=DIMMED)
        for det in detections:
            if det.index in picked:
                x0, y0, x1, y1 = det.xyxy
                canvas[y0 : y1 + 1, x0 : x1 + 1] = original[y0 : y1 + 1, x0 : x1 + 1]
    for det in sorted(detections, key=lambda d: (d.index in picked, d.concept.value)):  # best on top
        if picked and det.index not in picked:
            _draw_frame(canvas, det.xyxy, det.color, rim_width(style.line_width))
        else:
            _draw_box(canvas, det.xyxy, det.color, style.line_width)
    if show_labels:
        labels = layout_labels(regions, width, height, min_score, hidden, picked, page_font=page_font)
        for label in reversed(labels):
            _draw_label(canvas, label, page_font)
    return canvas


FADED = 0.35  # share of the opacity left to the other masks when segments are picked out
PICKED_MIN_OPACITY = 0.6


def blend_masks(
    image: np.ndarray,
    regions: Iterable[Region],
    opacity: float = 0.5,
    hidden: Collection[str] = frozenset(),
    highlighted: Collection[int] = frozenset(),
    outlined: bool = False,
) -> np.ndarray:
    """A copy of the picture with each region's mask painted in its concept's colour.

    Each masked pixel becomes (1 - opacity) * picture + opacity * colour; pixels under no mask
    stay exactly as they were. Masks of any size are resized to the picture (nearest-neighbour).
    Where masks overlap, the later region wins. Concepts named in `hidden` are not painted.
    One label map, one colour lookup and one blend, limited to the rectangle holding any mask.

    `highlighted` (indexes into `regions`) picks segments out: they are painted on top, at
    least PICKED_MIN_OPACITY opaque and outlined in black or white; the rest of the picture is
    dimmed and the other masks fade.

    `outlined` (as `annotate` draws) outlines every mask in black or white and hatches a mask
    whose colour is close to the pixels under it, so each segment shows on any picture: a
    colour model's "sky blue" on the sky, "green" on grass (see `masks.blend_into`).
    """
    canvas = _bgr_copy(image)
    height, width = canvas.shape[:2]
    opacity = float(opacity) if math.isfinite(float(opacity)) else 0.5
    opacity = min(max(opacity, 0.0), 1.0)
    if width == 0 or height == 0:
        return canvas
    regions = list(regions)
    hidden_set = hidden_names(hidden)
    picked = [
        index for index in sorted(set(highlighted))
        if 0 <= index < len(regions)
        and mask_as_bool(regions[index].mask) is not None
        and normalise_name(region_name(regions[index])) not in hidden_set
    ]
    outline_width = rim_width(style_for(width, height).line_width)
    edges = outline_width if outlined else 0
    if not picked:
        blend_into(canvas, regions, opacity, hidden, edges)
        return canvas
    others = [region for index, region in enumerate(regions) if index not in picked]
    chosen = [regions[index] for index in picked]
    masks = [resize_mask(region.mask, width, height) for region in chosen]
    original = canvas.copy()
    blend_into(canvas, others, opacity * FADED, hidden, edges)
    canvas = cv2.convertScaleAbs(canvas, alpha=DIMMED)
    inside = np.logical_or.reduce(masks)
    canvas[inside] = original[inside]
    blend_into(canvas, chosen, max(opacity, PICKED_MIN_OPACITY), hidden, edges)
    for region, mask in zip(chosen, masks):
        contours, _ = cv2.findContours(mask.view(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(canvas, contours, -1, text_color_for(region_color(region)), outline_width, cv2.LINE_AA)
    return canvas


def annotate(
    image: np.ndarray,
    prediction: Prediction | None,
    min_score: float = 0.0,
    opacity: float = 0.5,
    hidden: Collection[str] = frozenset(),
    *,
    masks: bool = True,
    boxes: bool = True,
    highlighted: Collection[int] = frozenset(),
    page_font: bool = True,
) -> np.ndarray:
    """A copy of the picture with a prediction drawn on it: its masks blended (`masks`), then
    its boxes and labels (`boxes`) on top, the regions at the `highlighted` indexes of
    `prediction.regions` picked out. Everything that draws a prediction comes here."""
    if prediction is None or not prediction.regions or not (masks or boxes):
        return _bgr_copy(image)
    picture = image
    if masks:
        picture = blend_masks(
            image, prediction.regions, opacity=opacity, hidden=hidden, highlighted=highlighted, outlined=True
        )
    if boxes:
        return draw_detections(
            picture, prediction.regions, min_score=min_score, hidden=hidden, highlighted=highlighted,
            page_font=page_font,
        )
    return picture
