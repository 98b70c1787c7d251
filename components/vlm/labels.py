"""Labels: lists a user types ("people, bags, buses" or one per line), names read from a model's
answer cleaned of markup and matched to the user's spelling, and the wording of the notes that
count or quote them."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Any

MAX_LABELS = 50  # labels a user may list for one run
MAX_LABEL_CHARS = 60
MAX_LABEL_INPUT_CHARS = 20_000  # of a typed label list

LABEL_KEYS = ("label", "name", "concept", "class", "category", "tag", "object", "class_name", "text")

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


def parse_label_list(text: str) -> tuple[tuple[str, ...], str]:
    """Labels typed as "people, bags, buses" or one per line: cleaned, deduplicated
    case-insensitively (first spelling kept), capped; with a message when any were left out."""
    text = text if isinstance(text, str) else ""
    messages = []
    if len(text) > MAX_LABEL_INPUT_CHARS:
        messages.append(f"Only the first {MAX_LABEL_INPUT_CHARS:,} characters of the list were read.")
        text = text[:MAX_LABEL_INPUT_CHARS]
    labels, tidy_messages = tidy_labels(re.split(r"[,\r\n]+", text))
    return labels, " ".join(messages + tidy_messages)


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


def tidy_labels(raw: Iterable[Any]) -> tuple[tuple[str, ...], list[str]]:
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
        key = label_key(label)
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
            f"Left out {count(len(too_long), 'label')} longer than {MAX_LABEL_CHARS} characters: "
            f"{quoted(label[:30] + '…' for label in too_long)}."
        )
    if repeats:
        messages.append(f"Left out {count(len(repeats), 'repeated label')}: {quoted(repeats)}.")
    if over:
        messages.append(f"Kept the first {MAX_LABELS} labels; left out {over} more.")
    return tuple(labels), messages


def label_key(label: str) -> str:
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


class LabelMatcher:
    """Finds the user's spelling of a model's label: same letters ignoring case, or a plural of it."""

    def __init__(self, labels: Sequence[str]) -> None:
        self.labels, _ = tidy_labels(labels)
        self._exact = {}
        self._singular = {}
        for label in self.labels:
            key = label_key(label)
            self._exact.setdefault(key, label)
            self._singular.setdefault(_singular(key), label)

    def match(self, label: str) -> str | None:
        key = label_key(label)
        return self._exact.get(key) or self._singular.get(_singular(key))


def count(n: int, singular: str, plural: str | None = None, capital: bool = False) -> str:
    words = {1: "one", 2: "two", 3: "three"}
    number = words.get(n, str(n))
    if capital:
        number = number[0].upper() + number[1:]
    return f"{number} {singular if n == 1 else plural or singular + 's'}"


def unique(labels: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for label in labels:
        seen.setdefault(label_key(label), label)
    return list(seen.values())


def quoted(labels: Iterable[str], limit: int = 5) -> str:
    labels = list(labels)
    shown = ", ".join(f'"{label}"' for label in labels[:limit])
    return shown + (f" and {len(labels) - limit} more" if len(labels) > limit else "")
