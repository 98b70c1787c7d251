"""A lenient reader of the JSON in a model's answer (fenced, wrapped in prose, single-quoted, with
trailing or missing commas, bare words, Python's True/None, cut off), and the look-ups and walks
over the values it reads.

It is a small bounded reader of our own rather than `json_repair`: json_repair takes quadratic time
on some inputs (20,000 characters of `["` took 25 s), which a model stuck in a loop can produce.
This reader reads at most MAX_ANSWER_CHARS in one pass, nests at most MAX_DEPTH deep and keeps at
most MAX_ITEMS items."""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

MAX_ANSWER_CHARS = 50_000  # of a model's answer that is read
MAX_ITEMS = 200  # concepts or boxes kept from one answer
MAX_DEPTH = 16  # JSON nesting followed; deeper containers are skipped
MAX_CANDIDATES = 64  # separate JSON values looked at in one answer
MAX_WALK = 256  # containers looked into, nested ones included, in one JSON value

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
class Found:
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


def json_values(text: str) -> list[Found]:
    """The JSON-ish values in `text` (its first MAX_ANSWER_CHARS), in order, at most MAX_CANDIDATES."""
    text = text[:MAX_ANSWER_CHARS]
    found: list[Found] = []
    pos = 0
    while len(found) < MAX_CANDIDATES:
        opener = _OPENER.search(text, pos)
        if opener is None:
            break
        reader = _Reader(text, opener.start())
        value, complete = reader.value(0)
        if value is not _SKIPPED:
            found.append(Found(value, complete, reader.capped))
        if not complete:
            break
        pos = max(reader.pos, opener.start() + 1)
    return found


def mapping(value: dict[str, Any]) -> dict[str, Any]:
    """The dict with its keys lower-cased (first spelling wins), for key look-ups."""
    lowered: dict[str, Any] = {}
    for key, item in value.items():
        lowered.setdefault(key.strip().casefold(), item)
    return lowered


def first(mapping: dict[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        if key in mapping and mapping[key] is not None:
            return mapping[key]
    return None


def number(value: Any) -> float | None:
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


def reading_notes(text: str, found: Found, what: str) -> list[str]:
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


def answered_empty(found: Sequence[Found]) -> bool:
    """Whether the answer's JSON is complete and holds nothing but empty containers ([] or
    {"objects": []}): the model found nothing."""
    for candidate in found:
        if candidate.complete and isinstance(candidate.value, (list, dict)):
            nested = list(containers(candidate.value))
            if all(all(isinstance(v, (list, dict)) for v in _children(c)) for c in nested):
                return True
    return False


def containers(value: Any) -> Iterator[list[Any] | dict[str, Any]]:
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
