"""Reading the JSON in VLM answers leniently: odd quoting and commas, cut-off, huge or deeply nested
answers, prose around the JSON; and any text at all giving valid results or a problem."""

from __future__ import annotations

import json
import math
import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from components.vlm.boxes import COORDINATE_FORMS, ParsedBoxes, parse_boxes
from components.vlm.concepts import ParsedConcepts, parse_concepts
from components.vlm.labels import MAX_LABEL_CHARS
from components.vlm.lenient_json import MAX_ANSWER_CHARS, MAX_ITEMS
from tests.vlm.parsed import names, notes_text, values

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SAFETY_NET = "could not be read ("  # the message of the catch-all: a fuzz case reaching it is a bug


def test_concepts_with_single_quotes_trailing_commas_and_python_words():
    text = "[{'label': 'cat', 'confidence': 0.9,}, {'label': 'dog', 'confidence': 0.4, 'extra': None,},]"
    assert names(parse_concepts(text)) == ["cat", "dog"]


def test_concepts_with_unquoted_keys_and_missing_commas():
    text = '[{label: "cat" confidence: 0.9} {label: "dog", confidence: 0.5}]'
    assert names(parse_concepts(text)) == ["cat", "dog"]


def test_truncated_answer_keeps_the_complete_items_and_says_it_was_cut():
    text = '```json\n[{"label": "cat", "confidence": 0.9}, {"label": "dog", "confidence": 0.8}, {"label": "bi'
    parsed = parse_concepts(text)
    assert names(parsed) == ["cat", "dog"]
    assert "cut off" in notes_text(parsed)


def test_a_cut_item_missing_its_confidence_is_not_kept():
    parsed = parse_concepts('[{"label": "cat", "confidence": 0.9}, {"label": "dog", "confid')
    assert names(parsed) == ["cat"]


def test_markdown_link_before_the_json_is_not_taken_for_labels():
    text = 'See [the docs](http://x.test).\n[{"label": "cat", "confidence": 0.7}]'
    assert names(parse_concepts(text)) == ["cat"]


def test_an_unclosed_bracket_in_prose_does_not_hide_the_json():
    text = 'The labels [as asked:\n```json\n[{"label": "cat", "confidence": 0.7}]\n```'
    assert names(parse_concepts(text)) == ["cat"]


def test_apostrophes_in_prose_do_not_swallow_the_json():
    text = "Here's what I see, and it's clear:\n[{\"label\": \"cat\", \"confidence\": 0.7}]\nThat's all."
    assert names(parse_concepts(text)) == ["cat"]


def test_a_ten_thousand_line_answer_is_read_in_part_and_capped():
    lines = [f'  {{"label": "thing {i}", "confidence": 0.{i % 10}5}},' for i in range(10_000)]
    text = "```json\n[\n" + "\n".join(lines) + "\n]\n```"
    assert len(text) > MAX_ANSWER_CHARS
    parsed = parse_concepts(text)
    assert 0 < len(parsed.concepts) <= MAX_ITEMS
    assert "very long" in notes_text(parsed) and parsed.problem == ""
    assert set(names(parsed)) <= {f"thing {i}" for i in range(MAX_ITEMS)}  # the first items, not later ones


def test_deep_nesting_does_not_recurse_without_bound():
    parsed = parse_concepts("[" * 100_000 + '"cat"' + "]" * 100_000)
    assert parsed.concepts == () and parsed.problem and SAFETY_NET not in parsed.problem


def test_a_parser_bug_is_caught_and_reported(monkeypatch):
    def broken(*_):
        raise RuntimeError("boom")

    monkeypatch.setattr("components.vlm.concepts.json_values", broken)
    monkeypatch.setattr("components.vlm.boxes.json_values", broken)
    assert SAFETY_NET in parse_concepts('["cat"]').problem
    assert SAFETY_NET in parse_boxes('[{"bbox": [1, 2, 3, 4]}]', 10, 10).problem


# --- properties -------------------------------------------------------------------------------------


def assert_valid_concepts(parsed: ParsedConcepts) -> None:
    assert SAFETY_NET not in parsed.problem
    assert len(parsed.concepts) <= MAX_ITEMS
    assert bool(parsed.concepts) != bool(parsed.problem)
    for concept in parsed.concepts:
        assert isinstance(concept.value, float) and math.isfinite(concept.value) and 0 <= concept.value <= 1
        assert concept.name and len(concept.name) <= MAX_LABEL_CHARS
    assert values(parsed) == sorted(values(parsed), reverse=True)
    assert all(isinstance(note, str) and note for note in parsed.notes)


def assert_valid_boxes(parsed: ParsedBoxes) -> None:
    assert SAFETY_NET not in parsed.problem
    assert len(parsed.regions) <= MAX_ITEMS
    assert bool(parsed.regions) != bool(parsed.problem)
    if parsed.regions:
        assert parsed.coordinate_form in COORDINATE_FORMS
    for region in parsed.regions:
        box = region.box
        assert 0 <= box.left < box.right <= 1 and 0 <= box.top < box.bottom <= 1
        assert len(region.concepts) == 1
        value = region.concepts[0].value
        assert math.isfinite(value) and 0 <= value <= 1 and region.concepts[0].name
    assert all(isinstance(note, str) and note for note in parsed.notes)


sizes = st.integers(min_value=-3, max_value=5000)


@FUZZ
@given(text=st.text(max_size=3000), width=sizes, height=sizes, labels=st.lists(st.text(max_size=12), max_size=5))
@example(text="[" * 5000, width=100, height=100, labels=[])
@example(text='[{"bbox_2d": [1e308, -1e308, 1e-308, 5], "label": 1}]', width=1, height=1, labels=[])
def test_any_text_gives_valid_results_or_a_problem(text, width, height, labels):
    assert_valid_concepts(parse_concepts(text, labels))
    assert_valid_boxes(parse_boxes(text, width, height, labels))


KEYS = st.sampled_from([
    "label", "name", "confidence", "score", "bbox_2d", "bbox", "box", "box_2d", "x1", "y1", "x2", "y2",
    "x", "y", "width", "height", "labels", "objects", "cat", "",
])
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(min_value=-2, max_value=1100),
    st.sampled_from([0, 1, 100, 1000, 1e308, -0.0, 5e-324]),
)
LEAVES = st.one_of(
    st.none(), st.booleans(), NUMBERS, st.text(max_size=15), st.sampled_from(["85%", "<b>x</b>", "", "NaN"])
)
LABELS = st.one_of(st.sampled_from(["cat", "Dog", "people", "<b>bus</b>"]), LEAVES)
CORNERS = st.lists(st.one_of(st.integers(-50, 1200), st.floats(-0.1, 1.1), NUMBERS), min_size=4, max_size=4)
ITEMS = st.one_of(  # shaped like what a VLM is asked for, with wild values
    st.builds(lambda key, label, score: {"label": label, key: score},
              st.sampled_from(["confidence", "score"]), LABELS, LEAVES),
    st.builds(lambda key, corners, label, score: {key: corners, "label": label, "score": score},
              st.sampled_from(["bbox_2d", "bbox", "box_2d"]), CORNERS, LABELS, LEAVES),
)
JSONISH = st.recursive(
    st.one_of(LEAVES, ITEMS),
    lambda children: st.one_of(
        st.lists(children, max_size=6),
        st.dictionaries(st.one_of(KEYS, st.text(max_size=6)), children, max_size=6),
        st.lists(NUMBERS, min_size=4, max_size=4),
    ),
    max_leaves=40,
)
USER_LABELS = st.lists(LABELS.filter(lambda value: isinstance(value, str)), max_size=4)


@st.composite
def jsonish_answers(draw) -> str:
    text = json.dumps(draw(JSONISH), allow_nan=True)
    if draw(st.booleans()):
        text = text.replace('"', "'")
    if draw(st.booleans()):
        text = re.sub(r"([\]}])", r",\1", text)  # trailing commas
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]  # cut off
    if draw(st.booleans()):
        text = f"{draw(st.text(max_size=30))}\n```json\n{text}\n```\n{draw(st.text(max_size=30))}"
    return text


@FUZZ
@given(text=jsonish_answers(), width=sizes, height=sizes, labels=USER_LABELS)
def test_jsonish_answers_give_valid_results_or_a_problem(text, width, height, labels):
    assert_valid_concepts(parse_concepts(text, labels))
    assert_valid_boxes(parse_boxes(text, width, height, labels))
