"""Reading the text a model read in a picture: DeepSeek's grounding markup, JSON lines, plain text;
lines kept whole, boxes placed, reading order, bounds."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.results import TEXT_CONCEPT, Box, Concept, Region
from components.vlm.prompts import text_reading_prompt
from components.vlm.text_lines import MAX_LINE_CHARS, MAX_LINES, in_reading_order, parse_text_lines


def texts(parsed) -> list[str]:
    return [region.text for region in parsed.regions]


def test_deepseek_grounding_markup_gives_each_line_whole_with_its_box_on_the_999_grid():
    answer = (
        "<|ref|>Platform 4: Grand Central!<|/ref|><|det|>[[44, 160, 550, 260]]<|/det|>\n"
        "<|ref|>Next train — 10:42, on time.<|/ref|><|det|>[[44, 400, 999, 480]]<|/det|>"
    )
    parsed = parse_text_lines(answer, 900, 300)
    assert texts(parsed) == ["Platform 4: Grand Central!", "Next train — 10:42, on time."]
    first = parsed.regions[0].box
    assert first == pytest.approx(Box(160 / 999, 44 / 999, 260 / 999, 550 / 999))
    assert parsed.regions[1].box.right == pytest.approx(1.0)
    assert all(region.concepts == (Concept(TEXT_CONCEPT, 1.0),) for region in parsed.regions)
    assert not parsed.problem and not parsed.notes


def test_json_lines_in_pixels_keep_their_text_and_punctuation_and_get_boxes():
    lines = [
        {"bbox_2d": [45, 48, 550, 78], "text": "SALE: 50% off — today only!!!"},
        {"bbox_2d": [44, 128, 553, 163], "text": "“Quoted”, (brackets) & symbols #1"},
    ]
    parsed = parse_text_lines("Here you go:\n```json\n" + json.dumps(lines, ensure_ascii=False) + "\n```", 900, 300)
    assert texts(parsed) == [line["text"] for line in lines]
    assert parsed.regions[0].box == pytest.approx(Box(48 / 300, 45 / 900, 78 / 300, 550 / 900))


def test_a_line_longer_than_a_label_is_not_shortened():
    line = "word " * 60  # 300 characters: a label would be cut at 60
    parsed = parse_text_lines(json.dumps([{"bbox_2d": [1, 2, 300, 40], "text": line}]), 900, 300)
    assert texts(parsed) == [line.strip()]


def test_plain_text_is_read_line_by_line_without_boxes():
    parsed = parse_text_lines("Hello world.\n\n  Second   line, with $x^2$ and [a link](http://x)  \n", 900, 300)
    assert texts(parsed) == ["Hello world.", "Second line, with $x^2$ and [a link](http://x)"]
    assert all(region.box is None for region in parsed.regions)


def test_lines_in_json_without_usable_boxes_are_kept_with_a_note():
    parsed = parse_text_lines(json.dumps([{"text": "no box"}, {"bbox_2d": [1, 2, 3], "text": "three numbers"}]), 900, 300)
    assert texts(parsed) == ["no box", "three numbers"]
    assert all(region.box is None for region in parsed.regions)


def test_an_empty_answer_reads_as_no_text_and_no_problem():
    parsed = parse_text_lines("", 900, 300)
    assert parsed.regions == () and parsed.problem == ""


def test_control_characters_are_tidied_but_the_text_stays():
    parsed = parse_text_lines("tab\there\x00 and\u200b zero width", 900, 300)
    assert texts(parsed) == ["tab here and zero width"]


def test_lines_are_bounded_in_number_and_length():
    many = "\n".join(f"line {n}" for n in range(MAX_LINES + 50))
    parsed = parse_text_lines(many, 900, 300)
    assert len(parsed.regions) == MAX_LINES and any("Kept the first" in note for note in parsed.notes)
    long = parse_text_lines("x" * (MAX_LINE_CHARS * 3), 900, 300)
    assert len(long.regions[0].text) == MAX_LINE_CHARS


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(), max_size=400), st.integers(0, 2000), st.integers(0, 2000))
def test_any_answer_reads_without_raising(text, width, height):
    parsed = parse_text_lines(text, width, height)
    assert all(region.text for region in parsed.regions)
    assert all(region.box is None or region.box.clipped() is not None for region in parsed.regions)


def test_reading_order_is_top_to_bottom_then_left_to_right():
    def line(text, top, left):
        return Region((Concept(TEXT_CONCEPT, 1.0),), Box(top, left, top + 0.05, left + 0.2), text=text)

    ordered = in_reading_order([line("second row", 0.5, 0.1), line("right", 0.11, 0.6), line("left", 0.1, 0.1)])
    assert [region.text for region in ordered] == ["left", "right", "second row"]
    boxless = [Region((), text="b"), Region((), text="a")]
    assert [region.text for region in in_reading_order(boxless)] == ["b", "a"], "as given when a line has no box"


def test_the_prompt_asks_for_lines_with_boxes_and_states_the_size():
    prompt = text_reading_prompt((640, 480))
    assert '"bbox_2d"' in prompt and '"text"' in prompt and "640x480 pixels" in prompt
