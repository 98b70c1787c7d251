"""Boxes read from a model's answer to the detection prompt, in the forms models write them:
Qwen's pixels, 0–1, 0–1000, Gemini's box_2d as [ymin, xmin, ymax, xmax], corner or size keys,
lists keyed by label. One form is decided for the whole answer; boxes are put the right way round,
clipped to the image and labelled in the user's spelling. The reader never raises: a result has
either regions or a `problem` sentence, and `notes` say what was assumed or left out."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from components.results import Box, Concept, Region
from components.vlm.labels import LABEL_KEYS, MAX_LABEL_CHARS, LabelMatcher, clean_label, count, label_key, quoted, unique
from components.vlm.lenient_json import (
    MAX_ITEMS,
    Found,
    answered_empty,
    containers,
    first,
    json_values,
    mapping,
    number,
    reading_notes,
)
from components.vlm.scores import SCORE_KEYS, fill_missing, read_scores

COORDINATE_FORMS = ("pixels", "0-1", "0-1000")

_BOX_KEYS = ("bbox_2d", "bbox", "box", "box_2d", "bounding_box", "boundingbox", "bbox_xyxy", "coordinates")
_CORNER_KEYS = (
    ("x1", "y1", "x2", "y2"),
    ("xmin", "ymin", "xmax", "ymax"),
    ("x_min", "y_min", "x_max", "y_max"),
    ("left", "top", "right", "bottom"),
    ("x0", "y0", "x1", "y1"),
)
_SIZE_KEYS = (("x", "y", "width", "height"), ("x", "y", "w", "h"))
PIXEL_SLACK = 1.03  # pixel boxes may overshoot the image a little (models resize to multiples of 28)


@dataclass(frozen=True)
class ParsedBoxes:
    """Boxes read from a VLM's answer: one concept per region, boxes inside 0–1 with positive area."""

    regions: tuple[Region, ...] = ()
    coordinate_form: str = ""  # "pixels", "0-1" or "0-1000"; "" when no box was read
    notes: tuple[str, ...] = ()
    problem: str = ""  # "" when at least one box was read


@dataclass(frozen=True)
class RawBox:
    x0: float
    y0: float
    x1: float
    y1: float
    label: Any
    score: Any
    gemini: bool  # came as Gemini's box_2d: [ymin, xmin, ymax, xmax]


def parse_boxes(text: str, width: int, height: int, things: Sequence[str] = ()) -> ParsedBoxes:
    """Boxes from a VLM's answer to `detection_prompt(things)`; width x height is the image as
    sent to the model. Never raises."""
    try:
        return _parse_boxes(text, width, height, things)
    except Exception as error:  # a bug here must not cost the page its answer
        return ParsedBoxes(problem=f"The model's answer could not be read ({type(error).__name__}).")


def _parse_boxes(text: str, width: int, height: int, things: Sequence[str]) -> ParsedBoxes:
    text = text if isinstance(text, str) else ""
    if not text.strip():
        return ParsedBoxes(problem="The model's answer is empty.")
    found = json_values(text)
    picked = _first_boxes(found)
    if picked is None:
        return ParsedBoxes(problem=_no_boxes_problem(found))
    chosen, boxes, unreadable = picked
    notes = reading_notes(text, chosen, "boxes")
    if unreadable:
        notes.append(f"Left out {count(unreadable, 'box', 'boxes')} whose coordinates are not four numbers.")

    has_size = is_size(width) and is_size(height)
    form, form_notes = coordinate_form(boxes, width if has_size else 0, height if has_size else 0)
    notes += form_notes
    if form == "pixels" and not has_size:
        return ParsedBoxes(
            notes=tuple(notes),
            problem="The model gave boxes in pixels, but the size of the image sent to it is unknown.",
        )

    placed, placed_notes = placed_boxes(boxes, form, width, height)
    notes += placed_notes
    if not placed:
        return ParsedBoxes(
            coordinate_form=form,
            notes=tuple(notes),
            problem=f"No box lies inside the image: the model gave {count(len(boxes), 'box', 'boxes')}, "
            "all outside it or with no area.",
        )

    labels, label_notes = _box_labels([raw.label for _, raw in placed], things)
    notes += label_notes
    scores, score_notes = read_scores([raw.score for _, raw in placed], "score")
    notes += score_notes
    values, fill_notes = fill_missing(scores, "score", "box")
    notes += fill_notes

    regions, region_notes = _regions(placed, labels, values)
    notes += region_notes
    return ParsedBoxes(regions=tuple(regions), coordinate_form=form, notes=tuple(notes))


def _first_boxes(found: Sequence[Found]) -> tuple[Found, list[RawBox], int] | None:
    """The first JSON value holding boxes, its boxes and how many of its box-like items had
    unusable coordinates; None when no value holds any."""
    for candidate in found:
        for value in containers(candidate.value):
            boxes, unreadable = _box_items(value)
            if boxes:
                return candidate, boxes, unreadable
    return None


def _no_boxes_problem(found: Sequence[Found]) -> str:
    if answered_empty(found):
        return "The model answered with an empty list: it found nothing to box."
    if found:
        return (
            "The model's answer holds JSON, but no boxes could be read from it "
            '(expected a list of {"bbox_2d": [x1, y1, x2, y2], "label": ...}).'
        )
    return "The model's answer holds no JSON list of boxes."


def placed_boxes(boxes: Sequence[RawBox], form: str, width: int, height: int) -> tuple[list[tuple[Box, RawBox]], list[str]]:
    """Each box as fractions of the image in `form`, the right way round and clipped to the image;
    boxes lying outside it or with no area are left out."""
    placed: list[tuple[Box, RawBox]] = []
    inverted = clipped = outside = 0
    for raw in boxes:
        if raw.x0 > raw.x1 or raw.y0 > raw.y1:
            inverted += 1
        if form == "pixels":
            box = Box.from_xyxy(raw.x0, raw.y0, raw.x1, raw.y1, width, height)
        else:
            box = Box.from_normalized_xyxy(raw.x0, raw.y0, raw.x1, raw.y1, 1000.0 if form == "0-1000" else 1.0)
        inside = box.clipped()
        if inside is None:
            outside += 1
            continue
        clipped += inside != box
        placed.append((inside, raw))
    notes = []
    if inverted:
        notes.append(f"Put {count(inverted, 'inverted box', 'inverted boxes')} the right way round.")
    if clipped:
        notes.append(f"Clipped {count(clipped, 'box', 'boxes')} reaching past the edge of the image.")
    if outside:
        notes.append(f"Left out {count(outside, 'box', 'boxes')} lying outside the image or having no area.")
    return placed, notes


def _regions(
    placed: Sequence[tuple[Box, RawBox]], labels: Sequence[str], values: Sequence[float]
) -> tuple[list[Region], list[str]]:
    """One region per placed box, repeats (same label, same place) kept once, at most MAX_ITEMS."""
    regions: list[Region] = []
    seen: set[tuple[Any, ...]] = set()
    repeats = 0
    for (box, raw), label, value in zip(placed, labels, values, strict=True):
        key = (label_key(label), raw.x0, raw.y0, raw.x1, raw.y1)
        if key in seen:
            repeats += 1
            continue
        seen.add(key)
        regions.append(Region(concepts=(Concept(label, value),), box=box))
    notes = []
    if repeats:
        notes.append(f"Left out {count(repeats, 'repeated box', 'repeated boxes')} (same label, same place).")
    if len(regions) > MAX_ITEMS:
        notes.append(f"Kept the first {MAX_ITEMS} of {len(regions)} boxes.")
        regions = regions[:MAX_ITEMS]
    return regions, notes


def is_size(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 1


def _box_items(value: Any) -> tuple[list[RawBox], int]:
    """Boxes in a JSON value, and how many box-like items had unusable coordinates."""
    boxes: list[RawBox] = []
    unreadable = 0
    if isinstance(value, dict):
        raw, box_like = box_from_dict(value)
        if raw is not None:
            return [raw], 0
        if box_like:
            return [], 1
        for label, inner in value.items():  # {"person": [x1, y1, x2, y2] or [[...], ...]}
            for corners in _corner_lists(inner):
                boxes.append(_raw_box(corners, label, None, gemini=False))
        return boxes, 0
    if not isinstance(value, list):
        return [], 0
    corners = _four_numbers(value)
    if corners is not None:  # one bare box
        return [_raw_box(corners, None, None, gemini=False)], 0
    for element in value:
        if isinstance(element, dict):
            raw, box_like = box_from_dict(element)
            if raw is not None:
                boxes.append(raw)
            elif box_like:
                unreadable += 1
        elif isinstance(element, list):
            corners = _four_numbers(element)
            if corners is not None:
                boxes.append(_raw_box(corners, None, None, gemini=False))
    return boxes, unreadable


def box_from_dict(item: dict[str, Any]) -> tuple[RawBox | None, bool]:
    """A box from one answer object, and whether the object looked like a box at all."""
    lowered = mapping(item)
    label = first(lowered, LABEL_KEYS)
    score = first(lowered, SCORE_KEYS[:-1])  # "value" is no score name for a box
    for key in _BOX_KEYS:
        if key in lowered:
            coordinates = lowered[key]
            if isinstance(coordinates, dict):
                corners = _corners_from_dict(mapping(coordinates))
            else:
                corners = _four_numbers(coordinates)
            if corners is None:
                return None, True
            return _raw_box(corners, label, score, gemini=key == "box_2d"), True
    corners = _corners_from_dict(lowered)
    if corners is not None:
        return _raw_box(corners, label, score, gemini=False), True
    return None, False


def _corners_from_dict(mapping: dict[str, Any]) -> tuple[float, float, float, float] | None:
    for keys in _CORNER_KEYS:
        if all(key in mapping for key in keys):
            values = [number(mapping[key]) for key in keys]
            return None if None in values else tuple(values)
    for keys in _SIZE_KEYS:
        if all(key in mapping for key in keys):
            x, y, w, h = (number(mapping[key]) for key in keys)
            if None in (x, y, w, h):
                return None
            return x, y, x + w, y + h
    return None


def _four_numbers(value: Any) -> tuple[float, float, float, float] | None:
    """[a, b, c, d] or [[a, b], [c, d]] as four finite numbers."""
    if isinstance(value, list) and len(value) == 2 and all(isinstance(p, list) and len(p) == 2 for p in value):
        value = value[0] + value[1]
    if not isinstance(value, list) or len(value) != 4:
        return None
    numbers = [number(v) for v in value]
    return None if None in numbers else tuple(numbers)


def _corner_lists(value: Any) -> list[tuple[float, float, float, float]]:
    corners = _four_numbers(value)
    if corners is not None:
        return [corners]
    if isinstance(value, list):
        return [c for c in (_four_numbers(v) for v in value[:MAX_ITEMS]) if c is not None]
    return []


def _raw_box(corners: Sequence[float], label: Any, score: Any, gemini: bool) -> RawBox:
    if gemini:  # Gemini: [ymin, xmin, ymax, xmax]
        y0, x0, y1, x1 = corners
    else:
        x0, y0, x1, y1 = corners
    return RawBox(x0, y0, x1, y1, label, score, gemini)


def coordinate_form(boxes: Sequence[RawBox], width: int, height: int) -> tuple[str, list[str]]:
    """How this answer writes coordinates, decided from all its boxes at once.

    - every value at most 1.5: "0-1" (a pixel box inside 1.5 px is no answer);
    - else some value above 1000: "pixels" (the 0-1000 scale stops at 1000);
    - else if the x values pass the image width or the y values its height (beyond 3 %),
      or the boxes came as Gemini's box_2d: "0-1000";
    - else both readings fit: "pixels", the form the prompt asks for, and a note says so.
    """
    notes = []
    if any(b.gemini for b in boxes):
        notes.append("Boxes given as box_2d were read as [ymin, xmin, ymax, xmax], Gemini's order.")
    xs = [v for b in boxes for v in (b.x0, b.x1)]
    ys = [v for b in boxes for v in (b.y0, b.y1)]
    largest = max(xs + ys)
    if largest <= 1.5:
        return "0-1", notes
    if largest > 1000:
        return "pixels", notes
    fits_pixels = width > 0 and max(xs) <= width * PIXEL_SLACK and max(ys) <= height * PIXEL_SLACK
    if not fits_pixels or any(b.gemini for b in boxes):
        return "0-1000", notes
    notes.append(
        f"Every coordinate fits both the pixels of this {width}x{height} image and a 0–1000 scale; "
        "they were read as pixels, the form the prompt asks for."
    )
    return "pixels", notes


def _box_labels(raws: Sequence[Any], things: Sequence[str]) -> tuple[list[str], list[str]]:
    """Each box's label: the user's spelling when it names one of `things`, else the model's own
    (cleaned); the single thing asked for, or "object", when the model gave none."""
    matcher = LabelMatcher(things)
    fallback = matcher.labels[0] if len(matcher.labels) == 1 else "object"
    labels, unlabelled, others = [], 0, []
    for raw in raws:
        label = clean_label(raw)[:MAX_LABEL_CHARS]
        if not label:
            unlabelled += 1
            labels.append(fallback)
            continue
        match = matcher.match(label) if matcher.labels else label
        if match is None:
            others.append(label)
            match = label
        labels.append(match)
    notes = []
    if unlabelled:
        notes.append(f"{count(unlabelled, 'box', 'boxes', capital=True)} came with no label: shown as \"{fallback}\".")
    if others:
        notes.append(f"The model also used labels you did not name: {quoted(unique(others))}.")
    return labels, notes

