"""Confidences read from VLM answers: fractions, percentages, text, missing or unreadable ones."""

from __future__ import annotations

import math

import pytest

from components.vlm.concepts import parse_concepts
from tests.vlm.parsed import names, notes_text, values


@pytest.mark.parametrize(
    "written, expected",
    [
        ('[{"label": "cat", "confidence": 85}, {"label": "dog", "confidence": 10}]', [0.85, 0.10]),
        ('[{"label": "cat", "confidence": "85%"}, {"label": "dog", "confidence": "10 %"}]', [0.85, 0.10]),
        ('[{"label": "cat", "confidence": "0.85"}, {"label": "dog", "confidence": " 0.1 "}]', [0.85, 0.10]),
        ('[{"label": "cat", "score": 0.85}, {"label": "dog", "probability": 0.1}]', [0.85, 0.10]),
        ('[{"label": "cat", "confidence": 85%}, {"label": "dog", "confidence": 0.1}]', [0.85, 0.10]),
    ],
)
def test_confidences_as_fractions_percentages_or_text(written, expected):
    assert values(parse_concepts(written)) == pytest.approx(expected)


def test_percentages_are_named_in_a_note():
    assert "percentages" in notes_text(parse_concepts('[{"label": "cat", "confidence": 85}]'))


def test_a_slight_overshoot_of_one_is_read_as_one():
    assert values(parse_concepts('[{"label": "cat", "confidence": 1.01}]')) == [1.0]


def test_missing_confidences_are_shown_at_one_in_the_model_order_with_a_note():
    parsed = parse_concepts('["cat", "dog", "sofa"]')
    assert names(parsed) == ["cat", "dog", "sofa"] and values(parsed) == [1.0, 1.0, 1.0]
    assert "no confidences" in notes_text(parsed) and "calibrated" in notes_text(parsed)


def test_a_missing_confidence_among_given_ones_takes_the_lowest_given():
    parsed = parse_concepts(
        '[{"label": "cat", "confidence": 0.9}, {"label": "dog"}, {"label": "sofa", "confidence": 0.3}]'
    )
    assert dict(zip(names(parsed), values(parsed), strict=True)) == {"cat": 0.9, "dog": 0.3, "sofa": 0.3}
    assert "lowest" in notes_text(parsed)


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-0.5", "250", "1e999", '"high"', "true", "[0.5]"])
def test_unreadable_confidences_count_as_not_given(bad):
    parsed = parse_concepts(f'[{{"label": "cat", "confidence": {bad}}}, {{"label": "dog", "confidence": 0.4}}]')
    assert dict(zip(names(parsed), values(parsed), strict=True)) == {"dog": 0.4, "cat": 0.4}
    assert "could not be read" in notes_text(parsed)
    assert all(math.isfinite(v) and 0 <= v <= 1 for v in values(parsed))
