"""Labels: stroke and text sizes for a picture, the label font and the text it can draw, where
each box's label goes, and the text's coverage of a label's pixels."""

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
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from components.colors import Color, text_color_for
from components.drawing.regions import visible_detections
from components.results import Concept, PixelBox, Region

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


# --- label text and layout -------------------------------------------------------------------


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
    detections = visible_detections(regions, width, height, min_score, hidden)
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


# Text coverage of recent labels, so redrawing (a slider moved, a row picked) skips the font.
_coverage_cache: cachetools.LRUCache = cachetools.LRUCache(maxsize=32 * 2**20, getsizeof=lambda a: a.nbytes)
_coverage_lock = threading.Lock()


def text_coverage(text: str, font_px: int, page_font: bool, size: tuple[int, int], origin: tuple[int, int]):
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
