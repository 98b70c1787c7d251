"""Words for display: outside text made plain for Streamlit's markdown, shortening names (one rule
for file names, URLs and labels everywhere), plurals, durations."""

from __future__ import annotations

import re
from typing import Literal

ELLIPSIS = "…"
# What Streamlit's markdown could read as markup in one line of text: CommonMark's inline marks,
# escapes and brackets (with "[" escaped, no "(" or "!" makes a link or image), GitHub's tables,
# strikethrough and autolinks, KaTeX's dollars, HTML and entities, Streamlit's :directives[...]
# and :icons: (a colon before a letter or a slash, as in "http://").
_MARKUP = re.compile(r"([\\`*_\[\]$<>~|&])|(:)(?=[A-Za-z/])|(?<=www)(\.)", re.IGNORECASE)
_LINE_START = re.compile(r"^(\s*)(?:([#+\-=>])|(\d+)(?=[.)]))")  # a heading, list or quote line


def plain(text: object) -> str:
    """Text from outside (a model's answer, name or description, a file name, a link's prompt, a
    URL) as Streamlit's markdown shows it literally: every character that could start markup
    escaped, lines joined by spaces. The one place that decides; pass whatever comes from outside
    through it."""
    line = " ".join(str(text).split())
    line = _MARKUP.sub(lambda m: "\\" + m.group(0), line)
    return _LINE_START.sub(lambda m: m.group(1) + ("\\" + m.group(2) if m.group(2) else m.group(3) + "\\"), line)


def shorten(text: str, limit: int, keep: Literal["start", "end", "both"] = "start") -> str:
    """`text` if it fits in `limit` characters, else cut to exactly `limit` with an ellipsis.

    keep="start" cuts the end ("a long na…"), keep="end" the start ("…ng name.jpg"), keep="both"
    the middle, keeping two thirds of the room for the start ("https://exa…/photo.jpg").
    """
    text = str(text)
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    room = limit - 1
    if keep == "end":
        return ELLIPSIS + text[-room:]
    if keep == "both":
        head = room * 2 // 3
        return text[:head] + ELLIPSIS + text[len(text) - (room - head) :]
    return text[:room] + ELLIPSIS


def last_path_part(name: str) -> str:
    """The file-name part of a path or URL ("a/b/c.jpg" -> "c.jpg"); the whole name if it has none."""
    return name.rstrip("/").rsplit("/", 1)[-1] or name


def first_line(text: str) -> str:
    """The first line of `text` that is not blank, without the spaces around it ("" if none)."""
    return next((line.strip() for line in str(text).splitlines() if line.strip()), "")


def plural(count: int, word: str, many: str = "") -> str:
    """"1 box", "2 boxes", "0 lines": the count and the word that goes with it (`many` when the
    plural is not the word and "s", or "es" after s, x, z, ch and sh)."""
    if count == 1:
        return f"1 {word}"
    if not many:
        many = word + ("es" if word.endswith(("s", "x", "z", "ch", "sh")) else "s")
    return f"{count:,} {many}"


def duration(seconds: float) -> str:
    """A time as people read it: "2.4 s" from a second up, "350 ms" below, "under 1 ms" below that;
    never "0.0 s"."""
    seconds = max(float(seconds), 0.0)
    milliseconds = round(seconds * 1000)
    if milliseconds >= 1000:
        return f"{seconds:.1f} s"
    return f"{milliseconds} ms" if milliseconds >= 1 else "under 1 ms"
