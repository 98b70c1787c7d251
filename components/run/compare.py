"""Comparing models on the same picture: what each found that the others did not, and how much they agree.

Detection: boxes are matched across models by label (case and spacing ignored) and overlap (IoU);
a box no other model matched is one only its model found. Classification: concepts in one model's
top N that no other model ranks there. Segmentation: segments by name. Captions: shown together,
with the share of words they have in common. Pure: no network, no streamlit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from components.colors import normalise_name
from components.results import Box, Prediction, Region

MATCH_IOU = 0.5
TOP_N = 5


@dataclass(frozen=True)
class Difference:
    """One picture's comparison across models (in the order given)."""

    only: tuple[tuple[str, ...], ...]  # per model: what only it found (labels, one per box or concept)
    shared: tuple[str, ...]  # what every model found
    agreement: float  # 0–1: the share of all findings that more than one model made
    counted: int  # findings in all, for "3 of 5 agree"


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when either has no area)."""
    a, b = a.clipped(), b.clipped()
    if a is None or b is None:
        return 0.0
    width = min(a.right, b.right) - max(a.left, b.left)
    height = min(a.bottom, b.bottom) - max(a.top, b.top)
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a.right - a.left) * (a.bottom - a.top) + (b.right - b.left) * (b.bottom - b.top) - inter
    return inter / union if union > 0 else 0.0


def _shown_boxes(prediction: Prediction | None, min_score: float) -> list[Region]:
    if prediction is None:
        return []
    return [
        region
        for region in prediction.regions
        if region.box is not None and region.top_concept is not None and region.top_concept.value >= min_score
    ]


def compare_detections(predictions: Sequence[Prediction | None], min_score: float = 0.0, threshold: float = MATCH_IOU) -> Difference:
    """Boxes matched across models by label and IoU ≥ `threshold`; each box is matched at most once per other model."""
    boxes = [_shown_boxes(p, min_score) for p in predictions]
    matched = [[False] * len(model_boxes) for model_boxes in boxes]
    for i, mine in enumerate(boxes):
        for j, theirs in enumerate(boxes):
            if j <= i:
                continue
            taken: set[int] = set()
            pairs = sorted(
                (
                    (iou(a.box, b.box), ai, bi)
                    for ai, a in enumerate(mine)
                    for bi, b in enumerate(theirs)
                    if normalise_name(a.top_concept.name) == normalise_name(b.top_concept.name)
                ),
                reverse=True,
            )
            used_a: set[int] = set()
            for overlap, ai, bi in pairs:
                if overlap < threshold or ai in used_a or bi in taken:
                    continue
                used_a.add(ai)
                taken.add(bi)
                matched[i][ai] = matched[j][bi] = True
    only = tuple(
        tuple(region.top_concept.name for region, hit in zip(model_boxes, hits) if not hit)
        for model_boxes, hits in zip(boxes, matched)
    )
    shared_labels = _labels_everyone_found(boxes, matched)
    total = sum(len(model_boxes) for model_boxes in boxes)
    agreeing = sum(sum(hits) for hits in matched)
    return Difference(only, shared_labels, agreeing / total if total else 1.0, total)


def _labels_everyone_found(boxes: list[list[Region]], matched: list[list[bool]]) -> tuple[str, ...]:
    per_model = [
        {normalise_name(region.top_concept.name): region.top_concept.name for region, hit in zip(model_boxes, hits) if hit}
        for model_boxes, hits in zip(boxes, matched)
    ]
    if not per_model:
        return ()
    common = set(per_model[0]).intersection(*per_model[1:]) if len(per_model) > 1 else set()
    return tuple(sorted(per_model[0][key] for key in common))


def compare_concepts(predictions: Sequence[Prediction | None], top_n: int = TOP_N) -> Difference:
    """Concepts in one model's top N that no other model ranks in its top N."""
    tops = [
        {normalise_name(c.name): c.name for c in (p.sorted_concepts[:top_n] if p is not None else ())}
        for p in predictions
    ]
    return _by_name(tops)


def compare_segments(predictions: Sequence[Prediction | None]) -> Difference:
    """Segments by name: those only one model has, those every model has."""
    names = [
        {normalise_name(r.top_concept.name): r.top_concept.name for r in (p.regions if p is not None else ()) if r.top_concept}
        for p in predictions
    ]
    return _by_name(names)


def _by_name(per_model: list[dict[str, str]]) -> Difference:
    only = tuple(
        tuple(name for key, name in mine.items() if not any(key in other for j, other in enumerate(per_model) if j != i))
        for i, mine in enumerate(per_model)
    )
    keys = [set(mine) for mine in per_model]
    common = keys[0].intersection(*keys[1:]) if len(keys) > 1 else set()
    shared = tuple(sorted(per_model[0][key] for key in common))
    total = sum(len(mine) for mine in per_model)
    alone = sum(len(names) for names in only)
    return Difference(only, shared, (total - alone) / total if total else 1.0, total)


_WORD = re.compile(r"[\w']+", re.UNICODE)


def caption_overlap(captions: Sequence[str]) -> float:
    """The share of distinct words (case ignored) that appear in more than one caption; 1 when there are none."""
    word_sets = [set(_WORD.findall(caption.casefold())) for caption in captions]
    words = set().union(*word_sets) if word_sets else set()
    if not words:
        return 1.0
    repeated = {w for w in words if sum(w in s for s in word_sets) > 1}
    return len(repeated) / len(words)


def compare_captions(predictions: Sequence[Prediction | None]) -> Difference:
    return _compare_words([p.caption if p is not None else "" for p in predictions])


def compare_texts(predictions: Sequence[Prediction | None]) -> Difference:
    """The texts read in one picture: the share of their words in common, as for captions."""
    return _compare_words([p.text_read if p is not None else "" for p in predictions])


def _compare_words(texts: list[str]) -> Difference:
    words = sum(len(set(_WORD.findall(t.casefold()))) for t in texts)
    return Difference(tuple(() for _ in texts), (), caption_overlap(texts), words)
