"""The text a model read in a picture, line by line, in the forms models write it: DeepSeek-OCR's
grounding markup (`<|ref|>text<|/ref|><|det|>[[x1, y1, x2, y2]]<|/det|>` on a 0–999 grid), a JSON
list of {"bbox_2d": [...], "text": ...} (Qwen's form, which the app's prompt asks for), or plain
text, one line per line. Each line's text is kept whole (bounded only in total size); its box is
read as the box reader reads boxes. The reader never raises."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from components.results import TEXT_CONCEPT, Box, Concept, Region
from components.vlm.boxes import RawBox, box_from_dict, coordinate_form, is_size, placed_boxes
from components.vlm.labels import count
from components.vlm.lenient_json import MAX_ANSWER_CHARS, containers, first, json_values, mapping

MAX_LINES = 1_000  # lines kept from one answer
MAX_LINE_CHARS = 2_000  # of one line
DEEPSEEK_GRID = 999  # DeepSeek-OCR's boxes are on a 0–999 grid
TEXT_KEYS = ("text", "content", "line", "transcription", "words", "value")

REF, END_REF, DET, END_DET = "<|ref|>", "<|/ref|>", "<|det|>", "<|/det|>"
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]+")
_FENCE = re.compile(r"^\s*```[\w-]*\s*$")


@dataclass(frozen=True)
class ParsedText:
    """Lines read from a model's answer: one region per line, its text whole, its box or None."""

    regions: tuple[Region, ...] = ()
    notes: tuple[str, ...] = ()
    problem: str = ""  # "" when text was read, or the model said there is none


def parse_text_lines(text: str, width: int, height: int) -> ParsedText:
    """Lines from a model's answer about a width x height picture (as sent). Never raises."""
    try:
        return _parse(text if isinstance(text, str) else "", width, height)
    except Exception as error:  # a bug here must not cost the page its answer
        return ParsedText(problem=f"The model's answer could not be read ({type(error).__name__}).")


def _parse(text: str, width: int, height: int) -> ParsedText:
    notes = []
    if len(text) > MAX_ANSWER_CHARS:
        notes.append(f"Read the first {MAX_ANSWER_CHARS:,} of {len(text):,} characters of the answer.")
        text = text[:MAX_ANSWER_CHARS]
    if not text.strip():
        return ParsedText(notes=tuple(notes))
    for reader in (_grounded_lines, _json_lines):
        found = reader(text, width, height)
        if found is not None:
            regions, reader_notes = found
            return _bounded(regions, [*notes, *reader_notes])
    lines = [Region((Concept(TEXT_CONCEPT, 1.0),), text=line) for line in _plain_lines(text)]
    return _bounded(lines, notes)


def _bounded(regions: list[Region], notes: list[str]) -> ParsedText:
    if len(regions) > MAX_LINES:
        notes.append(f"Kept the first {MAX_LINES:,} of {len(regions):,} lines.")
        regions = regions[:MAX_LINES]
    return ParsedText(regions=tuple(regions), notes=tuple(notes))


def clean_line(text: Any) -> str:
    """One line as shown: its own characters, control characters and runs of spaces tidied, cut
    only past MAX_LINE_CHARS."""
    line = _CONTROL.sub(" ", str(text)).replace("\t", " ")
    line = re.sub(r" {2,}", " ", line).strip()
    return line[:MAX_LINE_CHARS]


def _plain_lines(text: str) -> list[str]:
    lines = (clean_line(line) for line in text.splitlines() if not _FENCE.match(line))
    return [line for line in lines if line]


def _grounded_lines(text: str, width: int, height: int) -> tuple[list[Region], list[str]] | None:
    """DeepSeek-OCR's grounding markup, or None when the answer has none."""
    if REF not in text:
        return None
    regions = []
    unplaced = 0
    for chunk in text.split(REF)[1:]:
        written, closed, rest = chunk.partition(END_REF)
        line = clean_line(written) if closed else ""
        if not line:
            continue
        rest = rest.lstrip()
        boxes = rest[len(DET) :].partition(END_DET)[0][:400] if rest.startswith(DET) else ""
        numbers = [float(n) for n in _NUMBER.findall(boxes)[:4]]
        box = None
        if len(numbers) == 4:
            box = Box.from_normalized_xyxy(*numbers, scale=DEEPSEEK_GRID).clipped()
        unplaced += box is None
        regions.append(Region((Concept(TEXT_CONCEPT, 1.0),), box=box, text=line))
    notes = [f"{count(unplaced, 'line', capital=True)} came with no usable box."] if unplaced else []
    return regions, notes


def _json_lines(text: str, width: int, height: int) -> tuple[list[Region], list[str]] | None:
    """A JSON list of lines with their boxes, or None when the answer holds none."""
    for candidate in json_values(text):
        for value in containers(candidate.value):
            items = _line_items(value)
            if items:
                return _placed_lines(items, width, height)
    return None


def _line_items(value: Any) -> list[tuple[str, RawBox | None]]:
    """(text, box or None) for each object in a list that holds text."""
    if not isinstance(value, list):
        return []
    items = []
    for element in value:
        if not isinstance(element, dict):
            continue
        line = first(mapping(element), TEXT_KEYS)
        if not isinstance(line, (str, int, float)) or not clean_line(line):
            continue
        raw, _ = box_from_dict({k: v for k, v in element.items() if str(k).lower() not in TEXT_KEYS})
        items.append((clean_line(line), raw))
    return items


def _placed_lines(items: Sequence[tuple[str, RawBox | None]], width: int, height: int) -> tuple[list[Region], list[str]]:
    raws = [raw for _, raw in items if raw is not None]
    notes: list[str] = []
    boxes: dict[int, Box] = {}
    if raws:
        has_size = is_size(width) and is_size(height)
        form, form_notes = coordinate_form(raws, width if has_size else 0, height if has_size else 0)
        if form != "pixels" or has_size:
            placed, _ = placed_boxes(raws, form, width, height)
            by_raw = {id(raw): box for box, raw in placed}
            boxes = {index: by_raw[id(raw)] for index, (_, raw) in enumerate(items) if raw is not None and id(raw) in by_raw}
    regions = [
        Region((Concept(TEXT_CONCEPT, 1.0),), box=boxes.get(index), text=line) for index, (line, _) in enumerate(items)
    ]
    unplaced = sum(1 for region in regions if region.box is None)
    if unplaced and raws:
        notes.append(f"{count(unplaced, 'line', capital=True)} came with no usable box.")
    return regions, notes


def in_reading_order(regions: Sequence[Region]) -> tuple[Region, ...]:
    """Lines top to bottom and, on one line, left to right; as given when any line has no box."""
    if not regions or any(region.box is None for region in regions):
        return tuple(regions)
    rows: list[list[Region]] = []
    for region in sorted(regions, key=lambda r: r.box.top):
        centre = (region.box.top + region.box.bottom) / 2
        if rows and rows[-1][0].box.top <= centre <= rows[-1][0].box.bottom:
            rows[-1].append(region)
        else:
            rows.append([region])
    return tuple(region for row in rows for region in sorted(row, key=lambda r: r.box.left))
