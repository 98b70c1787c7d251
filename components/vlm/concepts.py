"""Concepts read from a model's answer to the classification prompt: (label, confidence) pairs in
whatever shape its JSON holds them, matched to the user's labels, repeats merged, best first.
The reader never raises: a result has either concepts or a `problem` sentence, and `notes` say
what was assumed or left out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from components.results import Concept
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

Named = list[tuple[str, float | None]]  # (label, score or None), in the model's order


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
    found = json_values(text)
    best = _best_items(found)
    if best is None:
        return ParsedConcepts(problem=_no_concepts_problem(found))
    items, chosen = best
    notes = reading_notes(text, chosen, "labels")

    named, named_notes = _named(items)
    notes += named_notes

    matcher = LabelMatcher(labels)
    if matcher.labels:
        named, listed_notes, problem = _in_users_list(named, matcher)
        notes += listed_notes
        if problem:
            return ParsedConcepts(notes=tuple(notes), problem=problem)

    merged, repeats = _merge_repeats(named)
    if not merged:
        problem = "The model's answer holds JSON, but none of its labels is readable text."
        return ParsedConcepts(notes=tuple(notes), problem=problem)
    if repeats:
        notes.append(f"Merged repeated labels, keeping the highest confidence: {quoted(unique(repeats))}.")
    concepts, ranked_notes = _best_first(merged)
    notes += ranked_notes
    return ParsedConcepts(concepts=tuple(concepts), notes=tuple(notes))


def _best_items(found: Sequence[Found]) -> tuple[list[tuple[Any, Any]], Found] | None:
    """The (label, score) pairs the answer's JSON holds most surely, and the value holding them:
    the first of quality 2, else the first of quality 1; None when there are none."""
    best: tuple[list[tuple[Any, Any]], Found] | None = None
    best_quality = 0
    for candidate in found:
        for value in containers(candidate.value):
            items, quality = _concept_items(value)
            if items and quality > best_quality:
                best, best_quality = (items, candidate), quality
                if quality == 2:
                    return best
    return best


def _no_concepts_problem(found: Sequence[Found]) -> str:
    if answered_empty(found):
        return "The model answered with an empty list: it gave no labels."
    if found:
        return (
            "The model's answer holds JSON, but no labels could be read from it "
            '(expected a list of {"label": ..., "confidence": ...}).'
        )
    return "The model's answer holds no JSON list of labels."


def _named(items: Sequence[tuple[Any, Any]]) -> tuple[Named, list[str]]:
    """The items' labels cleaned and their scores read; items left with no label are left out."""
    raw_labels = [clean_label(label) for label, _ in items]
    scores, notes = read_scores([score for _, score in items], "confidence")
    named = [(label, score) for label, score in zip(raw_labels, scores, strict=True) if label]
    if len(named) < len(items):
        notes.append(f"Left out {count(len(items) - len(named), 'item')} with no label.")
    return named, notes


def _in_users_list(named: Named, matcher: LabelMatcher) -> tuple[Named, list[str], str]:
    """The concepts whose label is one of the user's, in the user's spelling; a problem when none is."""
    kept, outside = [], []
    for label, score in named:
        match = matcher.match(label)
        if match is None:
            outside.append(label)
        else:
            kept.append((match, score))
    notes = []
    if outside:
        notes.append(f"Left out {count(len(outside), 'label')} not in your list: {quoted(unique(outside))}.")
    if not kept:
        return kept, notes, f"None of the labels the model gave is in your list: {quoted(unique(outside))}."
    return kept, notes, ""


def _merge_repeats(named: Named) -> tuple[dict[str, list[Any]], list[str]]:
    """One [label, score or None] per label key, the highest score kept; and the repeats merged."""
    merged: dict[str, list[Any]] = {}  # key -> [label, score or None]
    repeats = []
    for label, score in named:
        key = label_key(label)
        if key in merged:
            repeats.append(label)
            previous = merged[key][1]
            if score is not None and (previous is None or score > previous):
                merged[key][1] = score
        else:
            merged[key] = [label[:MAX_LABEL_CHARS], score]
    return merged, repeats


def _best_first(merged: dict[str, list[Any]]) -> tuple[list[Concept], list[str]]:
    """The merged labels as concepts, missing scores filled in, best first, at most MAX_ITEMS."""
    values, notes = fill_missing([score for _, score in merged.values()], "confidence", "label")
    concepts = [Concept(label, value) for (label, _), value in zip(merged.values(), values, strict=True)]
    concepts.sort(key=lambda c: c.value, reverse=True)  # stable: ties keep the model's order
    if len(concepts) > MAX_ITEMS:
        notes.append(f"Kept the best {MAX_ITEMS} of {len(concepts)} labels.")
        concepts = concepts[:MAX_ITEMS]
    return concepts, notes


def _concept_items(value: Any) -> tuple[list[tuple[Any, Any]], int]:
    """(label, score) pairs and how surely they are concepts: 2 from objects or a label->score
    dict, 1 from bare strings, 0 none."""
    if isinstance(value, dict):
        lowered = mapping(value)
        if first(lowered, LABEL_KEYS) is not None:
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
            lowered = mapping(element)
            label = first(lowered, LABEL_KEYS)
            if label is None and len(element) == 1:
                ((label, score),) = element.items()
                if _is_score(score):
                    items.append((label, score))
                    quality = 2
                continue
            if isinstance(label, (str, int, float)) and not isinstance(label, bool):
                items.append((label, first(lowered, SCORE_KEYS)))
                quality = 2
        elif isinstance(element, str):
            items.append((element, None))
            quality = max(quality, 1)
        elif isinstance(element, list) and len(element) == 2 and isinstance(element[0], str):
            items.append((element[0], element[1]))
            quality = 2
    return items, quality


def _is_score(value: Any) -> bool:
    return number(value) is not None or (isinstance(value, str) and value.strip().endswith("%"))

