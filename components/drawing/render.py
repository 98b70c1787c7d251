"""OpenCV drawing: the concept palette, boxes with labels, blended masks.

Images are BGR uint8 arrays (H, W, 3), the upright picture. Every function returns a new array
and leaves its input untouched. `annotate` is the one entry point for drawing a prediction.
Colours come from `components.colors` (kept apart from drawing), so the charts' legend and the
exports use exactly the colours the drawing uses.
"""

from __future__ import annotations

import importlib.util
import math
import threading
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cachetools
import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from components.colors import Color, color_for, normalise_name, text_color_for
from components.results import Concept, PixelBox, Prediction, Region


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

# A result picture is shown as wide as its column: about 550 CSS px on a 1440 px desktop, about
# 326 on a 390 px phone (measured in Chromium), 296 on a 360 px phone. Labels and lines are sized
# for the narrowest of these, so they read on a phone; on a desktop they come out about 1.7x larger.
SMALLEST_DISPLAY_PX = 320  # CSS px the picture's width is assumed to be shown at, at least
LABEL_TEXT_PX = 12  # CSS px of label text (its font size) at that width
LINE_PX = 3  # CSS px of a box's coloured line at that width
MIN_FONT_PX = 10  # picture px: a tiny picture still gets text a font can draw


@dataclass(frozen=True)
class DrawStyle:
    """Stroke and text sizes for one picture, in the picture's own pixels."""

    line_width: int
    font_px: int  # the label font's size (its em)
    padding: int  # around label text, left and right; half of it above and below


def display_scale(width: int) -> float:
    """Picture pixels per CSS pixel when a picture `width` px wide is shown SMALLEST_DISPLAY_PX wide."""
    return max(width, 1) / SMALLEST_DISPLAY_PX


def style_for(width: int, height: int) -> DrawStyle:
    """Sizes that come out LABEL_TEXT_PX and LINE_PX on the smallest display: they follow the
    picture's width, which is what the browser scales to the column (the height follows it).

    A 1024 px wide picture gets 39 px text and 10 px lines; a 4000 px one 150 px and 38 px, the
    same proportions, so an exported picture looks like the one on the page.
    """
    scale = display_scale(width)
    font_px = max(MIN_FONT_PX, math.ceil(LABEL_TEXT_PX * scale))
    return DrawStyle(
        line_width=max(2, math.ceil(LINE_PX * scale)),
        font_px=font_px,
        padding=max(2, round(0.3 * font_px)),
    )


# --- label font ------------------------------------------------------------------------------

LABEL_FONT_WEIGHT = 600  # semibold: thin strokes blur when the browser scales the picture down
# One FreeType face per font size is shared by every session's thread: use it under this lock.
_font_lock = threading.RLock()
_PAGE_FONT_GLOB = "static/static/media/SourceSansVF-Upright*.woff2"
_ABSENT_CHARACTER = "\U000ffffd"  # a private-use code point no font draws: its glyph is the "missing" box


@lru_cache(maxsize=1)
def page_font_path() -> Path | None:
    """Source Sans, the font Streamlit draws the page in, from the installed streamlit package
    (found without importing it); None if this Streamlit no longer ships it there."""
    spec = importlib.util.find_spec("streamlit")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        found = sorted(Path(folder).glob(_PAGE_FONT_GLOB))
        if found:
            return found[0]
    return None


@lru_cache(maxsize=64)
def label_font(size_px: int, page_font: bool = True) -> ImageFont.FreeTypeFont:
    """The label font at `size_px`: the page's Source Sans (semibold) when `page_font` and it is
    installed, else Pillow's built-in scalable font (Latin letters without accents only)."""
    path = page_font_path() if page_font else None
    with _font_lock:
        if path is not None:
            font = ImageFont.truetype(str(path), size_px)
            font.set_variation_by_axes([LABEL_FONT_WEIGHT])
            return font
        return ImageFont.load_default(size=size_px)


@lru_cache(maxsize=4096)
def _has_glyph(font: ImageFont.FreeTypeFont, character: str) -> bool:
    if character.isspace():
        return True
    return _glyph_bitmap(font, character) != _glyph_bitmap(font, _ABSENT_CHARACTER)


def _glyph_bitmap(font: ImageFont.FreeTypeFont, character: str) -> tuple:
    with _font_lock:
        bitmap = font.getmask(character)
        return bitmap.size, bytes(bitmap)


def drawable_text(text: str, font: ImageFont.FreeTypeFont) -> str:
    """The text as the font can draw it: a character it lacks becomes its letter without accent
    when the font has that ("é" in a font without accents), else "?". Control characters go."""
    out = []
    for character in text:
        if not character.isprintable():
            continue
        if _has_glyph(font, character):
            out.append(character)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", character) if not unicodedata.combining(c))
        out.append(base if base and all(_has_glyph(font, c) for c in base) else "?")
    return "".join(out)


@dataclass(frozen=True)
class _TextMetrics:
    ascent: int  # baseline to the top of the tallest lower-case letters
    descent: int  # baseline to the bottom of descenders


@lru_cache(maxsize=64)
def _text_metrics(font: ImageFont.FreeTypeFont) -> _TextMetrics:
    # The letters' own extent, not the font's line spacing (which leaves room for stacked accents).
    with _font_lock:
        _, top, _, _ = font.getbbox("Hbdfhkl", anchor="ls")
        _, _, _, bottom = font.getbbox("gjpqy", anchor="ls")
    return _TextMetrics(ascent=-top, descent=bottom)


# --- boxes and labels ------------------------------------------------------------------------


def label_text(concept: Concept) -> str:
    """"name 0.93": the concept's name (trimmed, on one line) and its score."""
    name = " ".join(str(concept.name).split())
    return f"{name} {concept.value:.2f}"


@dataclass(frozen=True)
class Label:
    """A label's text, colours and place, in pixels of the picture.

    `rect` is (left, top, right, bottom), right/bottom exclusive, always inside the picture.
    `region` is the labelled region's index in the regions given; `shortened` says the text is
    less than the full "name 0.93" (the score left off, or the name cut with "…") to find room.
    """

    region: int
    text: str
    color: Color
    text_color: Color
    rect: tuple[int, int, int, int]
    font_px: int
    text_origin: tuple[int, int]  # left end of the text's baseline
    shortened: bool = False


LABEL_SEARCH_LIMIT = 300  # past this many labels the picture is a wall of text: the rest are left off
ELLIPSIS = "…"
MIN_SHORT_NAME = 3  # characters kept before "…" when a name is cut to fit


@dataclass(frozen=True)
class _Detection:
    index: int
    xyxy: PixelBox
    concept: Concept
    color: Color


def _visible_detections(
    regions: Iterable[Region], width: int, height: int, min_score: float, hidden: Collection[str]
) -> list[_Detection]:
    hidden_names = _hidden_names(hidden)
    found = []
    for index, region in enumerate(regions):
        top = region.top_concept
        if top is None or not top.value >= min_score:  # NaN scores are never shown
            continue
        if normalise_name(top.name) in hidden_names:
            continue
        xyxy = region.box.pixels(width, height) if region.box is not None else None
        if xyxy is not None:
            found.append(_Detection(index, xyxy, top, color_for(top.name, top.id)))
    return found


@lru_cache(maxsize=8192)
def _text_width(font: ImageFont.FreeTypeFont, text: str) -> float:
    with _font_lock:
        return font.getlength(text)


def _fit(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> str:
    """The longest start of `text` that, with "…" added, is at most max_width wide ("" if none)."""
    if _text_width(font, text) <= max_width:
        return text
    low, high = 0, len(text) - 1  # binary search on the number of characters kept
    while low < high:
        middle = (low + high + 1) // 2
        if _text_width(font, text[:middle].rstrip() + ELLIPSIS) <= max_width:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + ELLIPSIS if low else ""


def _text_choices(concept: Concept, font: ImageFont.FreeTypeFont, box_width: int, max_text_width: int):
    """Texts to try for a label, best first, with whether each is shortened: "name 0.93", "name",
    then the name cut with "…" to the box's width. Each at most max_text_width wide (the
    picture's width less padding). Made one at a time: most labels take the first."""
    name = drawable_text(" ".join(str(concept.name).split()), font) or "?"
    full = f"{name} {concept.value:.2f}"
    if _text_width(font, full) <= max_text_width:  # never cut through the score
        yield full, False
    tried = {full}
    for width in (max_text_width, max(box_width, font.size * 3)):
        text = _fit(name, font, min(width, max_text_width))
        if len(text.rstrip(ELLIPSIS)) < min(MIN_SHORT_NAME, len(name)) or text in tried:
            continue
        tried.add(text)
        yield text, True


def _candidate_places(xyxy: PixelBox, label_w: int, label_h: int, width: int, height: int):
    """Top-left corners to try, best first, each touching the box: above it, inside its top,
    below it, inside its bottom; left-aligned then right-aligned (moved inside the picture)."""
    x0, y0, x1, y1 = xyxy
    max_left, max_top = width - label_w, height - label_h
    if max_left < 0:
        return
    for top in (y0 - label_h, y0, y1 + 1, y1 + 1 - label_h):
        if 0 <= top <= max_top:
            for left in (x0, x1 + 1 - label_w):
                yield min(max(left, 0), max_left), top


def layout_labels(
    regions: Iterable[Region],
    width: int,
    height: int,
    min_score: float = 0.0,
    hidden: Collection[str] = frozenset(),
    highlighted: Collection[int] = frozenset(),
    *,
    page_font: bool = True,
) -> list[Label]:
    """Where each shown box's label goes: picked-out (`highlighted`) boxes first, then highest
    score first. With boxes picked out, only theirs are labelled.

    Greedy: each label takes the first place touching its box that stays inside the picture and
    overlaps no label placed before it, trying the full text, then shorter ones. A label that
    finds no room is left off (its box is still drawn; the page lists every box as text).
    """
    if width <= 0 or height <= 0:
        return []
    style = style_for(width, height)
    font = label_font(style.font_px, page_font)
    metrics = _text_metrics(font)
    label_h = 2 * (style.padding // 2) + metrics.ascent + metrics.descent
    if label_h > height:
        return []
    detections = _visible_detections(regions, width, height, min_score, hidden)
    picked = frozenset(highlighted) & {d.index for d in detections}
    if picked:
        detections = [d for d in detections if d.index in picked]
    detections.sort(key=lambda d: -d.concept.value)  # stable: equal scores keep the response's order
    occupied = np.zeros((height, width), dtype=bool)
    labels = []
    for det in detections[:LABEL_SEARCH_LIMIT]:
        box_width = det.xyxy.x1 - det.xyxy.x0 + 1
        placed = None
        for text, shortened in _text_choices(det.concept, font, box_width, width - 2 * style.padding):
            label_w = math.ceil(_text_width(font, text)) + 2 * style.padding
            for left, top in _candidate_places(det.xyxy, label_w, label_h, width, height):
                if not occupied[top : top + label_h, left : left + label_w].any():
                    placed = (text, shortened, (left, top, left + label_w, top + label_h))
                    break
            if placed:
                break
        if placed is None:
            continue
        text, shortened, rect = placed
        left, top, right, bottom = rect
        occupied[top:bottom, left:right] = True
        origin = (left + style.padding, top + style.padding // 2 + metrics.ascent)
        labels.append(
            Label(det.index, text, det.color, text_color_for(det.color), rect, style.font_px, origin, shortened)
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


# Text coverage of recent labels, so redrawing (a slider moved, a row picked) skips the font.
_coverage_cache: cachetools.LRUCache = cachetools.LRUCache(maxsize=32 * 2**20, getsizeof=lambda a: a.nbytes)
_coverage_lock = threading.Lock()


def _text_coverage(text: str, font_px: int, page_font: bool, size: tuple[int, int], origin: tuple[int, int]):
    """How much of each pixel of a (width, height) label the text covers, 0–255 (uint8, read-only)."""
    key = (text, font_px, page_font, size, origin)
    with _coverage_lock:
        coverage = _coverage_cache.get(key)
    if coverage is None:
        picture = Image.new("L", size, 0)
        with _font_lock:
            ImageDraw.Draw(picture).text(origin, text, font=label_font(font_px, page_font), fill=255, anchor="ls")
        coverage = np.asarray(picture)
        with _coverage_lock:
            _coverage_cache[key] = coverage
    return coverage


def _draw_label(canvas: np.ndarray, label: Label, page_font: bool = True) -> None:
    """A filled rectangle in the label's colour with its text, anti-aliased, clipped to the rectangle."""
    left, top, right, bottom = label.rect
    origin = (label.text_origin[0] - left, label.text_origin[1] - top)
    coverage = _text_coverage(label.text, label.font_px, page_font, (right - left, bottom - top), origin)
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
    canvas = _as_bgr(image)
    height, width = canvas.shape[:2]
    if width == 0 or height == 0:
        return canvas
    regions = list(regions)
    style = style_for(width, height)
    detections = _visible_detections(regions, width, height, min_score, hidden)
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


FADED = 0.35  # share of the opacity left to the other masks when segments are picked out
PICKED_MIN_OPACITY = 0.6


def blend_masks(
    image: np.ndarray,
    regions: Iterable[Region],
    opacity: float = 0.5,
    hidden: Collection[str] = frozenset(),
    highlighted: Collection[int] = frozenset(),
) -> np.ndarray:
    """A copy of the picture with each region's mask painted in its concept's colour.

    Each masked pixel becomes (1 - opacity) * picture + opacity * colour; pixels under no mask
    stay exactly as they were. Masks of any size are resized to the picture (nearest-neighbour).
    Where masks overlap, the later region wins. Concepts named in `hidden` are not painted.
    One label map, one colour lookup and one blend, limited to the rectangle holding any mask.

    `highlighted` (indexes into `regions`) picks segments out: they are painted on top, at
    least PICKED_MIN_OPACITY opaque and outlined in black or white; the rest of the picture is
    dimmed and the other masks fade.
    """
    canvas = _as_bgr(image)
    height, width = canvas.shape[:2]
    opacity = float(opacity) if math.isfinite(float(opacity)) else 0.5
    opacity = min(max(opacity, 0.0), 1.0)
    if width == 0 or height == 0:
        return canvas
    regions = list(regions)
    hidden_names = _hidden_names(hidden)
    picked = [
        index for index in sorted(set(highlighted))
        if 0 <= index < len(regions)
        and mask_as_bool(regions[index].mask) is not None
        and normalise_name(region_name(regions[index])) not in hidden_names
    ]
    if not picked:
        _blend_into(canvas, regions, opacity, hidden)
        return canvas
    others = [region for index, region in enumerate(regions) if index not in picked]
    chosen = [regions[index] for index in picked]
    masks = [resize_mask(region.mask, width, height) for region in chosen]
    original = canvas.copy()
    _blend_into(canvas, others, opacity * FADED, hidden)
    canvas = cv2.convertScaleAbs(canvas, alpha=DIMMED)
    inside = np.logical_or.reduce(masks)
    canvas[inside] = original[inside]
    _blend_into(canvas, chosen, max(opacity, PICKED_MIN_OPACITY), hidden)
    outline_width = rim_width(style_for(width, height).line_width)
    for region, mask in zip(chosen, masks):
        contours, _ = cv2.findContours(mask.view(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(canvas, contours, -1, text_color_for(region_color(region)), outline_width, cv2.LINE_AA)
    return canvas


def _blend_into(canvas: np.ndarray, regions: list[Region], opacity: float, hidden: Collection[str]) -> None:
    if opacity == 0.0:
        return
    height, width = canvas.shape[:2]
    label_map, rect, slot_colors = _label_map(regions, width, height, hidden)
    if rect is None:
        return
    x0, y0, x1, y1 = rect
    labels = label_map[y0:y1, x0:x1]
    picture = canvas[y0:y1, x0:x1]
    colors = cv2.applyColorMap(labels, _color_lut(slot_colors))
    blended = cv2.addWeighted(picture, 1.0 - opacity, colors, opacity, 0.0)
    written = cv2.copyTo(blended, labels, picture)  # only where a label is set, into canvas
    if written is not picture:
        picture[...] = written


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
        return _as_bgr(image)
    picture = image
    if masks:
        picture = blend_masks(image, prediction.regions, opacity=opacity, hidden=hidden, highlighted=highlighted)
    if boxes:
        return draw_detections(
            picture, prediction.regions, min_score=min_score, hidden=hidden, highlighted=highlighted,
            page_font=page_font,
        )
    return picture
