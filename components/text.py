"""Words for display: shortening names (one rule for file names, URLs and labels everywhere), plurals."""

from __future__ import annotations

from typing import Literal

ELLIPSIS = "…"


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


def plural(count: int, word: str, many: str = "") -> str:
    """"1 box", "2 boxes", "0 lines": the count and the word that goes with it (`many` when the
    plural is not the word and "s", or "es" after s, x, z, ch and sh)."""
    if count == 1:
        return f"1 {word}"
    if not many:
        many = word + ("es" if word.endswith(("s", "x", "z", "ch", "sh")) else "s")
    return f"{count:,} {many}"
