"""Reading what the VLM answer readers return, in tests of them."""

from __future__ import annotations

from components.vlm.concepts import ParsedConcepts


def names(parsed: ParsedConcepts) -> list[str]:
    return [c.name for c in parsed.concepts]


def values(parsed: ParsedConcepts) -> list[float]:
    return [c.value for c in parsed.concepts]


def notes_text(parsed) -> str:
    return " ".join(parsed.notes)
