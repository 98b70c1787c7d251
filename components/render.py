"""OpenCV drawing: the concept palette, boxes with labels, blended masks.

Images are BGR uint8 arrays (H, W, 3), the upright picture. Every function returns a new array
and leaves its input untouched. `annotate` is the one entry point for drawing a prediction.
Colours come from `components.colors` (kept apart from drawing), so the charts' legend and the
exports use exactly the colours the drawing uses.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from components.colors import Color, color_for, normalise_name, text_color_for
from components.results import Concept, PixelBox, Prediction, Region

FONT = cv2.FONT_HERSHEY_SIMPLEX


def region_name(region: Region) -> str:
    """The concept a region is coloured and labelled by: its top concept ("" if none)."""
    top = region.top_concept
    return top.name if top is not None else ""


def region_color(region: Region) -> Color:
    """The colour a region is drawn in: its top concept's (colors.color_for, with the concept id)."""
    top = region.top_concept
    return color_for(top.name, top.id) if top is not None else color_for("")


def _hidden_names(hidden: Iterable[str] | str) -> frozenset[str]:
    if isinstance(hidden, str):  # one name, not its letters
        hidden = (hidden,)
    return frozenset(normalise_name(n) for n in hidden or ())


# --- sizes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrawStyle:
    """Stroke and text sizes for one picture size: they grow with the picture."""

    line_width: int
    font_scale: float
    font_thickness: int
    padding: int


def style_for(width: int, height: int) -> DrawStyle:
    """Sizes proportional to sqrt(width*height), with minimums for small pictures.

    About 3 px lines and 19 px text on 1920x1080; 7 px and 46 px on 4000x3000.
    """
    scale = math.sqrt(max(width, 1) * max(height, 1)) / 1000.0
    font_scale = max(0.4, 0.6 * scale)
    return DrawStyle(
        line_width=max(2, round(2 * scale)),
        font_scale=font_scale,
        font_thickness=max(1, round(1.5 * font_scale)),
        padding=max(2, round(4 * scale)),
    )


# --- boxes and labels ------------------------------------------------------------------------


def label_text(concept: Concept) -> str:
    """"name 0.93". OpenCV's Hershey font is ASCII-only: accents are dropped, other characters
    become "?"."""
    ascii_name = unicodedata.normalize("NFKD", concept.name).encode("ascii", "ignore").decode()
    if not ascii_name.strip() and concept.name.strip():
        ascii_name = "?" * min(len(concept.name.strip()), 8)
    ascii_name = "".join(ch if ch.isprintable() else "?" for ch in ascii_name.strip())
    return f"{ascii_name} {concept.value:.2f}"


@dataclass(frozen=True)
class Label:
    """A label's text, colours and place. `rect` is (left, top, right, bottom), right/bottom
    exclusive, always inside the picture (unless the label is larger than the picture)."""

    text: str
    color: Color
    text_color: Color
    rect: tuple[int, int, int, int]
    font_scale: float
    font_thickness: int
    padding: int
    baseline: int


LABEL_SEARCH_LIMIT = 300


@dataclass(frozen=True)
class _Detection:
    xyxy: PixelBox
    concept: Concept
    color: Color


def _visible_detections(
    regions: Iterable[Region], width: int, height: int, min_score: float, hidden: Collection[str]
) -> list[_Detection]:
    hidden_names = _hidden_names(hidden)
    found = []
    for region in regions:
        top = region.top_concept
        if top is None or not top.value >= min_score:  # NaN scores are never shown
            continue
        if normalise_name(top.name) in hidden_names:
            continue
        xyxy = region.box.pixels(width, height) if region.box is not None else None
        if xyxy is not None:
            found.append(_Detection(xyxy, top, color_for(top.name, top.id)))
    return found


def _label_size(text: str, style: DrawStyle, width: int) -> tuple[float, int, int, int, int]:
    """(font_scale, font_thickness, label width, label height, baseline); a label wider than the
    picture gets a smaller font."""
    scale, thickness = style.font_scale, style.font_thickness
    (tw, th), baseline = cv2.getTextSize(text, FONT, scale, thickness)
    available = width - 2 * style.padding
    if tw > available and available > 0:
        scale = max(0.25, scale * available / tw)
        thickness = max(1, min(thickness, round(1.5 * scale)))
        (tw, th), baseline = cv2.getTextSize(text, FONT, scale, thickness)
    return scale, thickness, tw + 2 * style.padding, th + baseline + 2 * style.padding, baseline


def _candidate_places(xyxy, label_w, label_h, width, height):
    """Top-left corners to try, best first: above the box, inside its top, below it, inside its
    bottom (left- then right-aligned), then further up and down in label-height steps."""
    x0, y0, x1, y1 = xyxy
    lefts = (x0, x1 + 1 - label_w)
    tops = [y0 - label_h, y0, y1 + 1, y1 + 1 - label_h]
    for step in range(1, 7):
        tops += [y0 - label_h * (step + 1), y0 + label_h * step]
    max_left, max_top = max(width - label_w, 0), max(height - label_h, 0)
    for top in tops:
        if top < 0 or top > max_top:
            continue
        for left in lefts:
            yield min(max(left, 0), max_left), top


def layout_labels(
    regions: Iterable[Region],
    width: int,
    height: int,
    min_score: float = 0.0,
    hidden: Collection[str] = frozenset(),
) -> list[Label]:
    """Where each shown box's label goes, highest score first.

    Greedy: each label takes the first candidate place that stays inside the picture and does
    not overlap a label placed before it; if none is free, the first place inside the picture.
    Past LABEL_SEARCH_LIMIT labels (a wall of text by then) the first place is taken unsearched,
    which keeps thousands of regions fast.
    """
    style = style_for(width, height)
    detections = _visible_detections(regions, width, height, min_score, hidden)
    detections.sort(key=lambda d: d.concept.value, reverse=True)
    occupied = np.zeros((max(height, 1), max(width, 1)), dtype=bool)
    labels = []
    for rank, det in enumerate(detections):
        text = label_text(det.concept)
        scale, thickness, label_w, label_h, baseline = _label_size(text, style, width)
        chosen = None
        for left, top in _candidate_places(det.xyxy, label_w, label_h, width, height):
            if chosen is None:
                chosen = (left, top)  # fallback: inside the picture, may overlap
                if rank >= LABEL_SEARCH_LIMIT:
                    break
            if not occupied[top : top + label_h, left : left + label_w].any():
                chosen = (left, top)
                break
        if chosen is None:  # label nearly as tall as the picture: as close above as fits
            x0, y0 = det.xyxy[:2]
            chosen = (min(max(x0, 0), max(width - label_w, 0)), min(max(y0 - label_h, 0), max(height - label_h, 0)))
        left, top = chosen
        occupied[top : top + label_h, left : left + label_w] = True
        rect = (left, top, min(left + label_w, width), min(top + label_h, height))
        labels.append(
            Label(text, det.color, text_color_for(det.color), rect, scale, thickness, style.padding, baseline)
        )
    return labels


def _as_bgr(image: np.ndarray) -> np.ndarray:
    """A new BGR uint8 (H, W, 3) array: copies BGR, expands grey, drops alpha."""
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


def _draw_label(canvas: np.ndarray, label: Label) -> None:
    left, top, right, bottom = label.rect
    _fill(canvas, left, top, right - 1, bottom - 1, label.color)
    origin = (left + label.padding, bottom - label.padding - label.baseline)
    cv2.putText(
        canvas, label.text, origin, FONT, label.font_scale, label.text_color,
        label.font_thickness, cv2.LINE_AA,
    )


def draw_detections(
    image: np.ndarray,
    regions: Iterable[Region],
    min_score: float = 0.0,
    hidden: Collection[str] = frozenset(),
    show_labels: bool = True,
) -> np.ndarray:
    """A copy of the picture with a box per region whose top concept scores >= min_score.

    Boxes take their top concept's colour; labels "name 0.93" sit on a filled rectangle of that
    colour with black or white text, inside the picture, drawn after every box so no box
    covers a label. Regions without a usable box (segments, NaN, zero size) are skipped.
    """
    canvas = _as_bgr(image)
    height, width = canvas.shape[:2]
    if width == 0 or height == 0:
        return canvas
    regions = list(regions)
    style = style_for(width, height)
    detections = _visible_detections(regions, width, height, min_score, hidden)
    for det in sorted(detections, key=lambda d: d.concept.value):  # best box on top
        _draw_box(canvas, det.xyxy, det.color, style.line_width)
    if show_labels:
        for label in reversed(layout_labels(regions, width, height, min_score, hidden)):
            _draw_label(canvas, label)
    return canvas


# --- masks -----------------------------------------------------------------------------------


def mask_as_bool(mask: np.ndarray | None) -> np.ndarray | None:
    """A 2-D boolean mask (pixels > 0), or None when there is nothing usable.

    3-D masks count a pixel when any colour channel is > 0 (alpha ignored).
    """
    if mask is None:
        return None
    mask = np.asarray(mask)
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
    hidden_names = _hidden_names(hidden)
    slot_of: dict[Color, int] = {}
    runs: list[tuple[tuple[int, int], list[tuple[np.ndarray, int]]]] = []
    for region in regions:
        if normalise_name(region_name(region)) in hidden_names:
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


def blend_masks(
    image: np.ndarray,
    regions: Iterable[Region],
    opacity: float = 0.5,
    hidden: Collection[str] = frozenset(),
) -> np.ndarray:
    """A copy of the picture with each region's mask painted in its concept's colour.

    Each masked pixel becomes (1 - opacity) * picture + opacity * colour; pixels under no mask
    stay exactly as they were. Masks of any size are resized to the picture (nearest-neighbour).
    Where masks overlap, the later region wins. Concepts named in `hidden` are not painted.
    One label map, one colour lookup and one blend, limited to the rectangle holding any mask.
    """
    canvas = _as_bgr(image)
    height, width = canvas.shape[:2]
    opacity = float(opacity) if math.isfinite(float(opacity)) else 0.5
    opacity = min(max(opacity, 0.0), 1.0)
    if width == 0 or height == 0 or opacity == 0.0:
        return canvas
    label_map, rect, slot_colors = _label_map(regions, width, height, hidden)
    if rect is None:
        return canvas
    x0, y0, x1, y1 = rect
    labels = label_map[y0:y1, x0:x1]
    picture = canvas[y0:y1, x0:x1]
    colors = cv2.applyColorMap(labels, _color_lut(slot_colors))
    blended = cv2.addWeighted(picture, 1.0 - opacity, colors, opacity, 0.0)
    written = cv2.copyTo(blended, labels, picture)  # only where a label is set, into canvas
    if written is not picture:
        picture[...] = written
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
) -> np.ndarray:
    """A copy of the picture with a prediction drawn on it: its masks blended (`masks`), then
    its boxes and labels (`boxes`) on top. Everything that draws a prediction comes here."""
    if prediction is None or not prediction.regions or not (masks or boxes):
        return _as_bgr(image)
    picture = blend_masks(image, prediction.regions, opacity=opacity, hidden=hidden) if masks else image
    if boxes:
        return draw_detections(picture, prediction.regions, min_score=min_score, hidden=hidden)
    return picture
