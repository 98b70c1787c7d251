"""Scores written in a model's answer (0.85, 85, "0.85", "85%") read as values in 0–1, and the
scores given to items that came with none."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components.vlm.labels import count
from components.vlm.lenient_json import number

SCORE_KEYS = ("confidence", "score", "probability", "prob", "certainty", "likelihood", "value")
PERCENT_THRESHOLD = 1.5  # a bare score above this (and at most 100) means the answer speaks in percent


def read_scores(raws: Sequence[Any], noun: str) -> tuple[list[float | None], list[str]]:
    """Scores in 0–1 from what the model wrote (0.85, 85, "0.85", "85%"); None where none was
    given or it could not be read. Bare numbers are percentages when any of them is above
    PERCENT_THRESHOLD and none above 100. Notes say what was assumed."""
    marked: list[float | None] = []
    bare: list[float | None] = []
    for raw in raws:
        if isinstance(raw, str) and raw.strip().endswith("%"):
            written = number(raw.strip()[:-1])
            marked.append(None if written is None else written / 100)
            bare.append(None)
        else:
            marked.append(None)
            bare.append(number(raw))
    given_bare = [v for v in bare if v is not None]
    percent = bool(given_bare) and PERCENT_THRESHOLD < max(given_bare) <= 100
    notes = []
    if percent:
        notes.append(f"The model gave its {noun}s as percentages; they are shown as fractions of 1.")
    scores: list[float | None] = []
    unreadable = 0
    for raw, from_percent, from_bare in zip(raws, marked, bare, strict=True):
        if from_percent is not None:
            value = from_percent
        elif from_bare is not None and percent:
            value = from_bare / 100
        elif from_bare is not None and 1 < from_bare <= PERCENT_THRESHOLD:
            value = 1.0  # a slight overshoot of 1
        else:
            value = from_bare
        if value is not None and not 0 <= value <= 1:
            value = None
        if value is None and raw is not None:
            unreadable += 1
        scores.append(value)
    if unreadable:
        notes.append(
            f"{count(unreadable, noun, capital=True)} could not be read as a number from 0 to 1 or a "
            "percentage, and counted as not given."
        )
    return scores, notes


def fill_missing(scores: list[float | None], noun: str, item: str) -> tuple[list[float], list[str]]:
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
        f"The model gave no {noun} for {count(missing, item, item + ('es' if item.endswith('x') else 's'))}; "
        f"shown at {floor:.2f}, the lowest it gave."
    )
    return [float(s) if s is not None else floor for s in scores], [note]
