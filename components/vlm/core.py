"""Prompts for vision-language models (VLMs) and lenient readers of their answers.

A VLM answers in free text. The prompt builders ask for JSON, with the user's labels inserted as
a JSON list so that quotes, newlines or markup in them cannot bend the instruction. The parsers
turn whatever comes back (fenced, wrapped in prose, single-quoted, cut off, as a dict, in pixels
or normalised) into the app's result types. They never raise: a result has either items or a
`problem` sentence, and `notes` say what was assumed or left out.

JSON is read by a small bounded reader of our own rather than `json_repair`: json_repair takes
quadratic time on some inputs (20,000 characters of `["` took 25 s), which a model stuck in a
loop can produce. This reader reads at most MAX_ANSWER_CHARS in one pass, nests at most
MAX_DEPTH deep and keeps at most MAX_ITEMS items.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from components.results import Box, Concept, Region

MAX_LABELS = 50  # labels a user may list for one run
MAX_LABEL_CHARS = 60
MAX_LABEL_INPUT_CHARS = 20_000  # of a typed label list
MAX_ANSWER_CHARS = 50_000  # of a model's answer that is read
MAX_ITEMS = 200  # concepts or boxes kept from one answer
MAX_DEPTH = 16  # JSON nesting followed; deeper containers are skipped
MAX_CANDIDATES = 64  # separate JSON values looked at in one answer
MAX_WALK = 256  # containers looked into, nested ones included, in one JSON value
DEFAULT_MAX_PROMPT_CHARS = 4_000

COORDINATE_FORMS = ("pixels", "0-1", "0-1000")


# --- prompts ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PromptPreset:
    """A named prompt that fills the prompt box; the user may edit it before running."""

    name: str
    prompt: str
    help: str = ""


CAPTION_PRESETS: tuple[PromptPreset, ...] = (
    PromptPreset("One-line caption", "Write a one-sentence caption for this image."),
    PromptPreset(
        "Detailed description",
        "Describe this image in detail: the main subjects and what they are doing, the setting, "
        "the colours and any notable details.",
    ),
    PromptPreset(
        "Alt text",
        "Write alt text for this image for someone using a screen reader: one or two plain "
        "sentences on what matters in it. Do not start with 'Image of' or 'Picture of'.",
        help="Short, plain text that describes the picture for people who cannot see it.",
    ),
    PromptPreset(
        "Read the text",
        "Read all the text visible in this image and write it out exactly as it appears, line by "
        "line. If there is no text, say so.",
    ),
    PromptPreset(
        "Ask a question",
        "What is happening in this image?",
        help="Replace this question with your own.",
    ),
)


def check_prompt(text: str, max_chars: int = DEFAULT_MAX_PROMPT_CHARS) -> str:
    """A message for a prompt that cannot be sent as it is, "" when it is fine."""
    stripped = (text or "").strip()
    if not stripped:
        return "The prompt is empty: type what the model should do, or pick a preset."
    if len(stripped) > max_chars:
        excess = len(stripped) - max_chars
        return (
            f"The prompt is {len(stripped):,} characters long; this model takes at most {max_chars:,}. "
            f"Shorten it by {excess:,} characters."
        )
    return ""


def classification_prompt(labels: Sequence[str]) -> str:
    """Ask for [{"label", "confidence"}], choosing only from `labels` (cleaned), or open-ended when none."""
    chosen, _ = _tidy_labels(labels)
    answer_form = '[{"label": "%s", "confidence": <your confidence from 0 to 1>}]'
    if chosen:
        return (
            "Classify this image using only the labels in this JSON list:\n"
            f"{_json_list(chosen)}\n"
            "Answer with a JSON list holding one object for each label that applies to the image, "
            "most likely first:\n"
            + answer_form % "<a label from the list, spelled exactly as given>"
            + "\nUse no other labels. If none applies, answer []. "
            "Answer with the JSON list only, no other text."
        )
    return (
        "List the main things this image shows (objects, animals, people, the scene, activities), "
        "at most 10.\n"
        "Answer with a JSON list, most likely first:\n"
        + answer_form % "<a short name of one to three words>"
        + "\nAnswer with the JSON list only, no other text."
    )


def detection_prompt(things: Sequence[str], image_size: tuple[int, int] | None = None) -> str:
    """Ask for [{"bbox_2d": [x1, y1, x2, y2], "label"}] for each instance of `things` (cleaned), in
    Qwen2.5-VL's grounding form; every object when `things` is empty. `image_size` (width, height)
    of the image as sent, when given, is stated so that models other than Qwen know the pixel scale."""
    chosen, _ = _tidy_labels(things)
    size = ""
    if image_size and all(isinstance(v, int) and v > 0 for v in image_size):
        size = f", which is {image_size[0]}x{image_size[1]} pixels"
    if chosen:
        target = (
            "Find every instance of each thing named in this JSON list:\n"
            f"{_json_list(chosen)}\n"
            "Outline the position of each one and output all the coordinates in JSON format, "
        )
        label = "<the name from the list>"
    else:
        target = (
            "Find every distinct object in this image.\n"
            "Outline the position of each one and output all the coordinates in JSON format, "
        )
        label = "<a short name of the object>"
    return (
        target
        + "as a JSON list holding one object per instance:\n"
        + f'[{{"bbox_2d": [x1, y1, x2, y2], "label": "{label}"}}]\n'
        + "where (x1, y1) is the top-left corner and (x2, y2) the bottom-right corner of the box, "
        f"in pixels of the image{size}.\n"
        "If there is none, answer []. Answer with the JSON list only, no other text."
    )


def parse_label_list(text: str) -> tuple[tuple[str, ...], str]:
    """Labels typed as "people, bags, buses" or one per line: cleaned, deduplicated
    case-insensitively (first spelling kept), capped; with a message when any were left out."""
    text = text if isinstance(text, str) else ""
    messages = []
    if len(text) > MAX_LABEL_INPUT_CHARS:
        messages.append(f"Only the first {MAX_LABEL_INPUT_CHARS:,} characters of the list were read.")
        text = text[:MAX_LABEL_INPUT_CHARS]
    labels, tidy_messages = _tidy_labels(re.split(r"[,\r\n]+", text))
    return labels, " ".join(messages + tidy_messages)


def _json_list(labels: Sequence[str]) -> str:
    # JSON escapes quotes, backslashes and control characters: the labels stay data.
    return json.dumps(list(labels), ensure_ascii=False)


def _tidy_labels(raw: Iterable[Any]) -> tuple[tuple[str, ...], list[str]]:
    labels: list[str] = []
    seen: set[str] = set()
    too_long: list[str] = []
    repeats: list[str] = []
    over = 0
    for item in raw:
        label = clean_label(item)
        if not label:
            continue
        if len(label) > MAX_LABEL_CHARS:
            too_long.append(label)
            continue
        key = _label_key(label)
        if key in seen:
            repeats.append(label)
            continue
        if len(labels) >= MAX_LABELS:
            over += 1
            continue
        seen.add(key)
        labels.append(label)
    messages = []
    if too_long:
        messages.append(
            f"Left out {_count(len(too_long), 'label')} longer than {MAX_LABEL_CHARS} characters: "
            f"{_quoted(label[:30] + '…' for label in too_long)}."
        )
    if repeats:
        messages.append(f"Left out {_count(len(repeats), 'repeated label')}: {_quoted(repeats)}.")
    if over:
        messages.append(f"Kept the first {MAX_LABELS} labels; left out {over} more.")
    return tuple(labels), messages


# --- labels -----------------------------------------------------------------------------------------

_TAG = re.compile(r"<[^<>]{0,200}>")
_MARKDOWN_LINK = re.compile(r"!?\[([^\[\]]{0,200})\]\([^()]{0,500}\)")
_MARKDOWN_MARKS = re.compile(r"[*`~#|\\]+")
_LIST_MARKER = re.compile(r"^\s*(?:[-+•>]+|\d{1,3}[.)])\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]+")
_SPACES = re.compile(r"\s+")
_END_PUNCTUATION = " \t'\"“”‘’.,;:!?()[]{}-_"

_IRREGULAR_SINGULARS = {
    "people": "person", "men": "man", "women": "woman", "children": "child", "mice": "mouse",
    "geese": "goose", "teeth": "tooth", "feet": "foot", "oxen": "ox", "knives": "knife",
    "leaves": "leaf", "wolves": "wolf", "shelves": "shelf",
}


def clean_label(text: Any) -> str:
    """A label as plain text: HTML entities decoded, tags, markdown and list markers removed,
    underscores and runs of white space made single spaces, stray end punctuation trimmed."""
    if not isinstance(text, str):
        if isinstance(text, bool) or text is None or not isinstance(text, (int, float)):
            return ""
        text = str(text)
    text = html.unescape(text[: MAX_LABEL_CHARS * 8])
    text = _TAG.sub(" ", text)
    text = _MARKDOWN_LINK.sub(r"\1", text)
    text = _CONTROL.sub(" ", text)
    text = _LIST_MARKER.sub("", text)
    text = _MARKDOWN_MARKS.sub("", text).replace("_", " ")
    return _SPACES.sub(" ", text).strip(_END_PUNCTUATION)


def _label_key(label: str) -> str:
    return _SPACES.sub(" ", label.replace("_", " ")).strip().casefold()


def _singular(key: str) -> str:
    """A rough English singular, used only to match a model's label to the user's."""
    words = key.split(" ")
    last = words[-1]
    if last in _IRREGULAR_SINGULARS:
        last = _IRREGULAR_SINGULARS[last]
    elif len(last) > 4 and last.endswith("ies"):
        last = last[:-3] + "y"
    elif len(last) > 3 and last.endswith(("ses", "xes", "zes", "ches", "shes")):
        last = last[:-2]
    elif len(last) > 2 and last.endswith("s") and not last.endswith(("ss", "us", "is")):
        last = last[:-1]
    return " ".join(words[:-1] + [last])


class _LabelMatcher:
    """Finds the user's spelling of a model's label: same letters ignoring case, or a plural of it."""

    def __init__(self, labels: Sequence[str]) -> None:
        self.labels, _ = _tidy_labels(labels)
        self._exact = {}
        self._singular = {}
        for label in self.labels:
            key = _label_key(label)
            self._exact.setdefault(key, label)
            self._singular.setdefault(_singular(key), label)

    def match(self, label: str) -> str | None:
        key = _label_key(label)
        return self._exact.get(key) or self._singular.get(_singular(key))


# --- lenient JSON -----------------------------------------------------------------------------------

# Possessive quantifiers keep every token match linear, also on an unterminated string.
_TOKEN = re.compile(
    r"""(?P<string>"(?:[^"\\]++|\\.)*+"|'(?:[^'\\]++|\\.)*+')"""
    r"""|(?P<number>[-+]?(?:\d++(?:\.\d*+)?|\.\d++)(?:[eE][-+]?\d++)?+%?+|-Infinity)"""
    r"""|(?P<word>[^\W\d][\w-]*+(?:[ \t]++[^\W\d][\w-]*+)*+)"""
    r"""|(?P<punct>[\[\]{}:,])"""
    r"""|(?P<open>["'])"""
    r"""|(?P<skip>\s++|.)""",
    re.DOTALL,
)
_OPENER = re.compile(r"[\[{]")
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_WORDS = {
    "true": True, "false": False, "null": None, "none": None,
    "nan": math.nan, "infinity": math.inf, "inf": math.inf,
}


class _Skipped:
    """A value not kept: a container nested deeper than MAX_DEPTH."""


_SKIPPED = _Skipped()


@dataclass(frozen=True)
class _Found:
    value: Any
    complete: bool  # False: the text ended inside it (a cut-off answer)
    capped: bool  # some list in it had more than MAX_ITEMS items


class _Reader:
    """Reads one JSON-ish value leniently: single quotes, trailing or missing commas, bare words,
    Python's True/None, NaN; stops at the end of the text and says the value was cut there."""

    def __init__(self, text: str, start: int) -> None:
        self.text = text
        self.pos = start
        self.capped = False
        self._peeked: tuple[str, str, int] | None = None

    def peek(self) -> tuple[str, str] | None:
        if self._peeked is None:
            pos = self.pos
            while True:
                match = _TOKEN.match(self.text, pos)
                if match is None:
                    return None
                pos = match.end()
                if match.lastgroup != "skip":
                    self._peeked = (match.lastgroup, match.group(), pos)
                    break
        return self._peeked[0], self._peeked[1]

    def take(self) -> tuple[str, str] | None:
        token = self.peek()
        if token is not None:
            self.pos = self._peeked[2]
            self._peeked = None
        return token

    def value(self, depth: int) -> tuple[Any, bool]:
        token = self.take()
        if token is None:
            return None, False
        kind, text = token
        if kind == "punct" and text in "[{":
            if depth >= MAX_DEPTH:
                return self._skip_container()
            return self._array(depth + 1) if text == "[" else self._object(depth + 1)
        if kind == "open":  # an unterminated string runs to the end of the text
            self.pos = len(self.text)
            return None, False
        return _scalar(kind, text), True

    def _array(self, depth: int) -> tuple[list[Any], bool]:
        items: list[Any] = []
        while True:
            token = self.peek()
            if token is None:
                return items, False
            kind, text = token
            if kind == "punct" and text in "]}:,":
                self.take()
                if text in "]}":  # a stray } closes the list too
                    return items, True
                continue
            item, complete = self.value(depth)
            if not complete:
                return items, False
            if item is _SKIPPED:
                continue
            if len(items) < MAX_ITEMS:
                items.append(item)
            else:
                self.capped = True

    def _object(self, depth: int) -> tuple[dict[str, Any], bool]:
        result: dict[str, Any] = {}
        while True:
            token = self.peek()
            if token is None:
                return result, False
            kind, text = token
            if kind == "punct" and text in "}],:":
                self.take()
                if text in "}]":
                    return result, True
                continue
            if kind == "punct" or kind == "open":  # a value with no key: read it and let it go
                _, complete = self.value(depth)
                if not complete:
                    return result, False
                continue
            self.take()
            key = _scalar(kind, text)
            following = self.peek()
            if following is None:
                return result, False
            if following == ("punct", ":"):
                self.take()
            elif following[0] == "punct" and following[1] in ",}]":
                result.setdefault(str(key), None)
                continue
            value, complete = self.value(depth)
            if not complete:
                return result, False
            if value is not _SKIPPED and len(result) < MAX_ITEMS:
                result.setdefault(str(key), value)

    def _skip_container(self) -> tuple[Any, bool]:
        level = 1
        while level:
            token = self.take()
            if token is None:
                return _SKIPPED, False
            kind, text = token
            if kind == "open":
                self.pos = len(self.text)
                return _SKIPPED, False
            if kind == "punct":
                level += 1 if text in "[{" else -1 if text in "]}" else 0
        return _SKIPPED, True


def _scalar(kind: str, text: str) -> Any:
    if kind == "string":
        return _unescape(text[1:-1])
    if kind == "number":
        if text.endswith("%"):
            return text  # read as a percentage where a score is expected
        try:
            return float(text)
        except ValueError:  # "-Infinity"
            return -math.inf
    if kind == "word":
        return _WORDS.get(text.casefold(), text)
    return text


def _unescape(body: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if len(code) == 5:
            return chr(int(code[1:], 16))
        return _ESCAPES.get(code, code)

    return _ESCAPE.sub(replace, body) if "\\" in body else body


def _json_values(text: str) -> list[_Found]:
    """The JSON-ish values in `text` (its first MAX_ANSWER_CHARS), in order, at most MAX_CANDIDATES."""
    text = text[:MAX_ANSWER_CHARS]
    found: list[_Found] = []
    pos = 0
    while len(found) < MAX_CANDIDATES:
        opener = _OPENER.search(text, pos)
        if opener is None:
            break
        reader = _Reader(text, opener.start())
        value, complete = reader.value(0)
        if value is not _SKIPPED:
            found.append(_Found(value, complete, reader.capped))
        if not complete:
            break
        pos = max(reader.pos, opener.start() + 1)
    return found


def _mapping(value: dict[str, Any]) -> dict[str, Any]:
    """The dict with its keys lower-cased (first spelling wins), for key look-ups."""
    lowered: dict[str, Any] = {}
    for key, item in value.items():
        lowered.setdefault(key.strip().casefold(), item)
    return lowered


def _first(mapping: dict[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        if key in mapping and mapping[key] is not None:
            return mapping[key]
    return None


def _number(value: Any) -> float | None:
    """A finite number from a number or numeric text, else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip()[:100])
        except ValueError:
            return None
    if not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


# --- scores -----------------------------------------------------------------------------------------

_LABEL_KEYS = ("label", "name", "concept", "class", "category", "tag", "object", "class_name", "text")
_SCORE_KEYS = ("confidence", "score", "probability", "prob", "certainty", "likelihood", "value")
PERCENT_THRESHOLD = 1.5  # a bare score above this (and at most 100) means the answer speaks in percent


def _read_scores(raws: Sequence[Any], noun: str) -> tuple[list[float | None], list[str]]:
    """Scores in 0–1 from what the model wrote (0.85, 85, "0.85", "85%"); None where none was
    given or it could not be read. Bare numbers are percentages when any of them is above
    PERCENT_THRESHOLD and none above 100. Notes say what was assumed."""
    marked: list[float | None] = []
    bare: list[float | None] = []
    for raw in raws:
        if isinstance(raw, str) and raw.strip().endswith("%"):
            number = _number(raw.strip()[:-1])
            marked.append(None if number is None else number / 100)
            bare.append(None)
        else:
            marked.append(None)
            bare.append(_number(raw))
    given_bare = [v for v in bare if v is not None]
    percent = bool(given_bare) and PERCENT_THRESHOLD < max(given_bare) <= 100
    notes = []
    if percent:
        notes.append(f"The model gave its {noun}s as percentages; they are shown as fractions of 1.")
    scores: list[float | None] = []
    unreadable = 0
    for raw, from_percent, number in zip(raws, marked, bare, strict=True):
        if from_percent is not None:
            value = from_percent
        elif number is not None and percent:
            value = number / 100
        elif number is not None and 1 < number <= PERCENT_THRESHOLD:
            value = 1.0  # a slight overshoot of 1
        else:
            value = number
        if value is not None and not 0 <= value <= 1:
            value = None
        if value is None and raw is not None:
            unreadable += 1
        scores.append(value)
    if unreadable:
        notes.append(
            f"{_count(unreadable, noun, capital=True)} could not be read as a number from 0 to 1 or a "
            "percentage, and counted as not given."
        )
    return scores, notes


def _fill_missing(scores: list[float | None], noun: str, item: str) -> tuple[list[float], list[str]]:
    """Scores for items given none: the lowest score the model gave, or 1.0 when it gave none."""
    given = [s for s in scores if s is not None]
    missing = len(scores) - len(given)
    if not missing:
        return [float(s) for s in scores], []
    if not given:
        note = f"The model gave no {noun}s, so every {item} is shown at 1.0: a VLM gives no calibrated score."
        return [1.0] * len(scores), [note]
    floor = min(given)
    note = (
        f"The model gave no {noun} for {_count(missing, item, item + ('es' if item.endswith('x') else 's'))}; "
        f"shown at {floor:.2f}, the lowest it gave."
    )
    return [float(s) if s is not None else floor for s in scores], [note]


# --- concepts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedConcepts:
    """Concepts read from a VLM's answer, best first, values in 0–1."""

    concepts: tuple[Concept, ...] = ()
    notes: tuple[str, ...] = ()
    problem: str = ""  # "" when at least one concept was read


def parse_concepts(text: str, labels: Sequence[str] = ()) -> ParsedConcepts:
    """Concepts from a VLM's answer to `classification_prompt(labels)`. Never raises."""
    try:
        return _parse_concepts(text, labels)
    except Exception as error:  # a bug here must not cost the page its answer
        return ParsedConcepts(problem=f"The model's answer could not be read ({type(error).__name__}).")


def _parse_concepts(text: str, labels: Sequence[str]) -> ParsedConcepts:
    text = text if isinstance(text, str) else ""
    if not text.strip():
        return ParsedConcepts(problem="The model's answer is empty.")
    found = _json_values(text)
    best: tuple[list[tuple[Any, Any]], _Found] | None = None
    best_quality = 0
    for candidate in found:
        for value in _containers(candidate.value):
            items, quality = _concept_items(value)
            if items and quality > best_quality:
                best, best_quality = (items, candidate), quality
                if quality == 2:
                    break
        if best_quality == 2:
            break
    if best is None:
        if _answered_empty(found):
            return ParsedConcepts(problem="The model answered with an empty list: it gave no labels.")
        if found:
            return ParsedConcepts(
                problem="The model's answer holds JSON, but no labels could be read from it "
                '(expected a list of {"label": ..., "confidence": ...}).'
            )
        return ParsedConcepts(problem="The model's answer holds no JSON list of labels.")
    items, chosen = best
    notes = _reading_notes(text, chosen, "labels")

    raw_labels = [clean_label(label) for label, _ in items]
    scores, score_notes = _read_scores([score for _, score in items], "confidence")
    notes += score_notes
    named = [(label, score) for label, score in zip(raw_labels, scores, strict=True) if label]
    if len(named) < len(items):
        notes.append(f"Left out {_count(len(items) - len(named), 'item')} with no label.")

    matcher = _LabelMatcher(labels)
    if matcher.labels:
        kept, outside = [], []
        for label, score in named:
            match = matcher.match(label)
            if match is None:
                outside.append(label)
            else:
                kept.append((match, score))
        if outside:
            notes.append(f"Left out {_count(len(outside), 'label')} not in your list: {_quoted(_unique(outside))}.")
        if not kept:
            return ParsedConcepts(
                notes=tuple(notes),
                problem=f"None of the labels the model gave is in your list: {_quoted(_unique(outside))}.",
            )
        named = kept

    merged: dict[str, list[Any]] = {}  # key -> [label, score or None]
    repeats = []
    for label, score in named:
        key = _label_key(label)
        if key in merged:
            repeats.append(label)
            previous = merged[key][1]
            if score is not None and (previous is None or score > previous):
                merged[key][1] = score
        else:
            merged[key] = [label[:MAX_LABEL_CHARS], score]
    if not merged:
        problem = "The model's answer holds JSON, but none of its labels is readable text."
        return ParsedConcepts(notes=tuple(notes), problem=problem)
    if repeats:
        notes.append(f"Merged repeated labels, keeping the highest confidence: {_quoted(_unique(repeats))}.")
    values, fill_notes = _fill_missing([score for _, score in merged.values()], "confidence", "label")
    notes += fill_notes
    concepts = [Concept(label, value) for (label, _), value in zip(merged.values(), values, strict=True)]
    concepts.sort(key=lambda c: c.value, reverse=True)  # stable: ties keep the model's order
    if len(concepts) > MAX_ITEMS:
        notes.append(f"Kept the best {MAX_ITEMS} of {len(concepts)} labels.")
        concepts = concepts[:MAX_ITEMS]
    return ParsedConcepts(concepts=tuple(concepts), notes=tuple(notes))


def _concept_items(value: Any) -> tuple[list[tuple[Any, Any]], int]:
    """(label, score) pairs and how surely they are concepts: 2 from objects or a label->score
    dict, 1 from bare strings, 0 none."""
    if isinstance(value, dict):
        mapping = _mapping(value)
        if _first(mapping, _LABEL_KEYS) is not None:
            return _concept_items([value])
        for inner in value.values():
            if isinstance(inner, list):
                items, quality = _concept_items(inner)
                if items:
                    return items, quality
        pairs = [(key, score) for key, score in value.items() if _is_score(score)]
        return pairs, 2 if pairs else 0
    if not isinstance(value, list):
        return [], 0
    items: list[tuple[Any, Any]] = []
    quality = 0
    for element in value:
        if isinstance(element, dict):
            mapping = _mapping(element)
            label = _first(mapping, _LABEL_KEYS)
            if label is None and len(element) == 1:
                ((label, score),) = element.items()
                if _is_score(score):
                    items.append((label, score))
                    quality = 2
                continue
            if isinstance(label, (str, int, float)) and not isinstance(label, bool):
                items.append((label, _first(mapping, _SCORE_KEYS)))
                quality = 2
        elif isinstance(element, str):
            items.append((element, None))
            quality = max(quality, 1)
        elif isinstance(element, list) and len(element) == 2 and isinstance(element[0], str):
            items.append((element[0], element[1]))
            quality = 2
    return items, quality


def _is_score(value: Any) -> bool:
    return _number(value) is not None or (isinstance(value, str) and value.strip().endswith("%"))


# --- boxes ------------------------------------------------------------------------------------------

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
class _RawBox:
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
    found = _json_values(text)
    chosen, boxes, unreadable = None, [], 0
    for candidate in found:
        for value in _containers(candidate.value):
            boxes, unreadable = _box_items(value)
            if boxes:
                chosen = candidate
                break
        if chosen is not None:
            break
    if chosen is None:
        if _answered_empty(found):
            return ParsedBoxes(problem="The model answered with an empty list: it found nothing to box.")
        if found:
            return ParsedBoxes(
                problem="The model's answer holds JSON, but no boxes could be read from it "
                '(expected a list of {"bbox_2d": [x1, y1, x2, y2], "label": ...}).'
            )
        return ParsedBoxes(problem="The model's answer holds no JSON list of boxes.")
    notes = _reading_notes(text, chosen, "boxes")
    if unreadable:
        notes.append(f"Left out {_count(unreadable, 'box', 'boxes')} whose coordinates are not four numbers.")

    has_size = _is_size(width) and _is_size(height)
    form, form_notes = _coordinate_form(boxes, width if has_size else 0, height if has_size else 0)
    notes += form_notes
    if form == "pixels" and not has_size:
        return ParsedBoxes(
            notes=tuple(notes),
            problem="The model gave boxes in pixels, but the size of the image sent to it is unknown.",
        )

    placed: list[tuple[Box, _RawBox]] = []
    inverted = clipped = outside = 0
    for raw in boxes:
        if raw.x0 > raw.x1 or raw.y0 > raw.y1:
            inverted += 1
        if form == "pixels":
            box = Box.from_xyxy(raw.x0, raw.y0, raw.x1, raw.y1, width, height)
        else:
            box = Box.from_normalized_xyxy(raw.x0, raw.y0, raw.x1, raw.y1, 1000.0 if form == "0-1000" else 1.0)
        inside = _clip(box)
        if inside is None:
            outside += 1
            continue
        clipped += inside != box
        placed.append((inside, raw))
    if inverted:
        notes.append(f"Put {_count(inverted, 'inverted box', 'inverted boxes')} the right way round.")
    if clipped:
        notes.append(f"Clipped {_count(clipped, 'box', 'boxes')} reaching past the edge of the image.")
    if outside:
        notes.append(f"Left out {_count(outside, 'box', 'boxes')} lying outside the image or having no area.")
    if not placed:
        return ParsedBoxes(
            coordinate_form=form,
            notes=tuple(notes),
            problem=f"No box lies inside the image: the model gave {_count(len(boxes), 'box', 'boxes')}, "
            "all outside it or with no area.",
        )

    labels, label_notes = _box_labels([raw.label for _, raw in placed], things)
    notes += label_notes
    scores, score_notes = _read_scores([raw.score for _, raw in placed], "score")
    notes += score_notes
    values, fill_notes = _fill_missing(scores, "score", "box")
    notes += fill_notes

    regions: list[Region] = []
    seen: set[tuple[Any, ...]] = set()
    repeats = 0
    for (box, raw), label, value in zip(placed, labels, values, strict=True):
        key = (_label_key(label), raw.x0, raw.y0, raw.x1, raw.y1)
        if key in seen:
            repeats += 1
            continue
        seen.add(key)
        regions.append(Region(concepts=(Concept(label, value),), box=box))
    if repeats:
        notes.append(f"Left out {_count(repeats, 'repeated box', 'repeated boxes')} (same label, same place).")
    if len(regions) > MAX_ITEMS:
        notes.append(f"Kept the first {MAX_ITEMS} of {len(regions)} boxes.")
        regions = regions[:MAX_ITEMS]
    return ParsedBoxes(regions=tuple(regions), coordinate_form=form, notes=tuple(notes))


def _is_size(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 1


def _box_items(value: Any) -> tuple[list[_RawBox], int]:
    """Boxes in a JSON value, and how many box-like items had unusable coordinates."""
    boxes: list[_RawBox] = []
    unreadable = 0
    if isinstance(value, dict):
        raw, box_like = _box_from_dict(value)
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
            raw, box_like = _box_from_dict(element)
            if raw is not None:
                boxes.append(raw)
            elif box_like:
                unreadable += 1
        elif isinstance(element, list):
            corners = _four_numbers(element)
            if corners is not None:
                boxes.append(_raw_box(corners, None, None, gemini=False))
    return boxes, unreadable


def _box_from_dict(item: dict[str, Any]) -> tuple[_RawBox | None, bool]:
    """A box from one answer object, and whether the object looked like a box at all."""
    mapping = _mapping(item)
    label = _first(mapping, _LABEL_KEYS)
    score = _first(mapping, _SCORE_KEYS[:-1])  # "value" is no score name for a box
    for key in _BOX_KEYS:
        if key in mapping:
            coordinates = mapping[key]
            if isinstance(coordinates, dict):
                corners = _corners_from_dict(_mapping(coordinates))
            else:
                corners = _four_numbers(coordinates)
            if corners is None:
                return None, True
            return _raw_box(corners, label, score, gemini=key == "box_2d"), True
    corners = _corners_from_dict(mapping)
    if corners is not None:
        return _raw_box(corners, label, score, gemini=False), True
    return None, False


def _corners_from_dict(mapping: dict[str, Any]) -> tuple[float, float, float, float] | None:
    for keys in _CORNER_KEYS:
        if all(key in mapping for key in keys):
            values = [_number(mapping[key]) for key in keys]
            return None if None in values else tuple(values)
    for keys in _SIZE_KEYS:
        if all(key in mapping for key in keys):
            x, y, w, h = (_number(mapping[key]) for key in keys)
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
    numbers = [_number(v) for v in value]
    return None if None in numbers else tuple(numbers)


def _corner_lists(value: Any) -> list[tuple[float, float, float, float]]:
    corners = _four_numbers(value)
    if corners is not None:
        return [corners]
    if isinstance(value, list):
        return [c for c in (_four_numbers(v) for v in value[:MAX_ITEMS]) if c is not None]
    return []


def _raw_box(corners: Sequence[float], label: Any, score: Any, gemini: bool) -> _RawBox:
    if gemini:  # Gemini: [ymin, xmin, ymax, xmax]
        y0, x0, y1, x1 = corners
    else:
        x0, y0, x1, y1 = corners
    return _RawBox(x0, y0, x1, y1, label, score, gemini)


def _coordinate_form(boxes: Sequence[_RawBox], width: int, height: int) -> tuple[str, list[str]]:
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


def _clip(box: Box) -> Box | None:
    """The box clipped to the image, None when nothing with area is left."""
    top, left, bottom, right = (min(max(v, 0.0), 1.0) for v in (box.top, box.left, box.bottom, box.right))
    if not (right > left and bottom > top):  # also False for NaN
        return None
    return Box(top=top, left=left, bottom=bottom, right=right)


def _box_labels(raws: Sequence[Any], things: Sequence[str]) -> tuple[list[str], list[str]]:
    """Each box's label: the user's spelling when it names one of `things`, else the model's own
    (cleaned); the single thing asked for, or "object", when the model gave none."""
    matcher = _LabelMatcher(things)
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
        notes.append(f"{_count(unlabelled, 'box', 'boxes', capital=True)} came with no label: shown as \"{fallback}\".")
    if others:
        notes.append(f"The model also used labels you did not name: {_quoted(_unique(others))}.")
    return labels, notes


# --- shared -----------------------------------------------------------------------------------------


def _reading_notes(text: str, found: _Found, what: str) -> list[str]:
    notes = []
    if len(text) > MAX_ANSWER_CHARS:
        notes.append(
            f"The answer is very long ({len(text):,} characters); only the first {MAX_ANSWER_CHARS:,} were read."
        )
    elif not found.complete:
        notes.append(f"The answer stops part-way, as if cut off; the complete {what} before the cut were read.")
    if found.capped:
        notes.append(f"The answer lists more than {MAX_ITEMS} {what}; only the first {MAX_ITEMS} were read.")
    return notes


def _answered_empty(found: Sequence[_Found]) -> bool:
    """Whether the answer's JSON is complete and holds nothing but empty containers ([] or
    {"objects": []}): the model found nothing."""
    for candidate in found:
        if candidate.complete and isinstance(candidate.value, (list, dict)):
            containers = list(_containers(candidate.value))
            if all(all(isinstance(v, (list, dict)) for v in _children(c)) for c in containers):
                return True
    return False


def _containers(value: Any) -> Iterator[list[Any] | dict[str, Any]]:
    """The value and the lists and dicts nested in it, outermost first, at most MAX_WALK."""
    queue = deque([value])
    seen = 0
    while queue and seen < MAX_WALK:
        current = queue.popleft()
        if isinstance(current, (list, dict)):
            seen += 1
            yield current
            queue.extend(v for v in _children(current) if isinstance(v, (list, dict)))


def _children(container: list[Any] | dict[str, Any]) -> Iterable[Any]:
    return container.values() if isinstance(container, dict) else container


def _count(n: int, singular: str, plural: str | None = None, capital: bool = False) -> str:
    words = {1: "one", 2: "two", 3: "three"}
    number = words.get(n, str(n))
    if capital:
        number = number[0].upper() + number[1:]
    return f"{number} {singular if n == 1 else plural or singular + 's'}"


def _unique(labels: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for label in labels:
        seen.setdefault(_label_key(label), label)
    return list(seen.values())


def _quoted(labels: Iterable[str], limit: int = 5) -> str:
    labels = list(labels)
    shown = ", ".join(f'"{label}"' for label in labels[:limit])
    return shown + (f" and {len(labels) - limit} more" if len(labels) > limit else "")
