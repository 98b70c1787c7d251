"""Concepts read from VLM answers: the shapes models answer in, the user's labels, repeats, answers without concepts."""

from __future__ import annotations

import pytest

from components.vlm.concepts import parse_concepts
from tests.vlm.parsed import names, notes_text, values

QWEN_CLASSIFICATION = """```json
[
    {"label": "dog", "confidence": 0.95},
    {"label": "grass", "confidence": 0.8},
    {"label": "ball", "confidence": 0.6}
]
```"""

GPT4O_CLASSIFICATION = """Here is the classification of the image:

```json
[
  {
    "label": "golden retriever",
    "confidence": 0.92
  },
  {
    "label": "park",
    "confidence": 0.75
  }
]
```

The dog appears to be playing fetch in a park."""

GEMINI_CLASSIFICATION = """```json
{
  "labels": [
    {"label": "Cat", "confidence": 0.97},
    {"label": "Sofa", "confidence": 0.66}
  ]
}
```"""


def test_concepts_from_a_qwen_style_answer():
    parsed = parse_concepts(QWEN_CLASSIFICATION)
    assert names(parsed) == ["dog", "grass", "ball"]
    assert values(parsed) == [0.95, 0.8, 0.6]
    assert parsed.problem == "" and parsed.notes == ()


def test_concepts_from_a_gpt4o_style_answer_with_prose_around_the_fence():
    parsed = parse_concepts(GPT4O_CLASSIFICATION, ["Golden Retriever", "park", "beach"])
    assert names(parsed) == ["Golden Retriever", "park"]  # the user's spelling
    assert values(parsed) == [0.92, 0.75]


def test_concepts_from_a_gemini_style_dict_holding_the_list():
    assert names(parse_concepts(GEMINI_CLASSIFICATION)) == ["Cat", "Sofa"]


def test_concepts_from_a_dict_of_label_to_confidence():
    parsed = parse_concepts('{"cat": 0.9, "dog": 0.25}')
    assert names(parsed) == ["cat", "dog"] and values(parsed) == [0.9, 0.25]


def test_concepts_from_one_object_alone():
    assert names(parse_concepts('{"label": "cat", "confidence": 0.9}')) == ["cat"]


def test_concepts_sorted_best_first_whatever_the_model_order():
    parsed = parse_concepts('[{"label": "a", "confidence": 0.1}, {"label": "b", "confidence": 0.9}]')
    assert names(parsed) == ["b", "a"]


def test_duplicate_labels_are_merged_keeping_the_highest_confidence():
    parsed = parse_concepts(
        '[{"label": "cat", "confidence": 0.4}, {"label": "Cat", "confidence": 0.9}, '
        '{"label": "dog", "confidence": 0.5}]'
    )
    assert names(parsed) == ["cat", "dog"] and values(parsed) == [0.9, 0.5]
    assert "Merged" in notes_text(parsed) and '"Cat"' in notes_text(parsed)


def test_labels_outside_the_users_list_are_dropped_and_named():
    text = (
        '[{"label": "CAT", "confidence": 0.9}, {"label": "tiger", "confidence": 0.8}, '
        '{"label": "dogs", "confidence": 0.7}]'
    )
    parsed = parse_concepts(text, ["cat", "Dog"])
    assert names(parsed) == ["cat", "Dog"]  # case and plural matched to the user's spelling
    assert '"tiger"' in notes_text(parsed) and "not in your list" in notes_text(parsed)


def test_every_label_outside_the_list_is_a_problem_naming_them():
    parsed = parse_concepts('[{"label": "tiger", "confidence": 0.8}]', ["cat", "dog"])
    assert parsed.concepts == () and '"tiger"' in parsed.problem


def test_irregular_plurals_match_the_users_label():
    assert names(parse_concepts('[{"label": "person", "confidence": 0.8}]', ["people"])) == ["people"]


def test_labels_with_html_or_markdown_are_stripped():
    text = (
        '[{"label": "<b>cat</b>", "confidence": 0.9}, {"label": "**dog**", "confidence": 0.5}, '
        '{"label": "`bird`", "confidence": 0.2}]'
    )
    assert names(parse_concepts(text)) == ["cat", "dog", "bird"]


def test_label_that_is_only_markup_is_left_out():
    parsed = parse_concepts('[{"label": "<br/>", "confidence": 0.9}, {"label": "cat", "confidence": 0.5}]')
    assert names(parsed) == ["cat"] and "no label" in notes_text(parsed)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("The image shows a cat sitting on a sofa.", "holds no JSON list of labels"),
        ("[]", "empty list"),
        ("```json\n[]\n```", "empty list"),
        ("[1, 2, 3]", "no labels could be read"),
        ('{"answer": {"deep": true}}', "no labels could be read"),
    ],
)
def test_answers_without_concepts_say_what_went_wrong(text, problem):
    parsed = parse_concepts(text)
    assert parsed.concepts == () and problem in parsed.problem
