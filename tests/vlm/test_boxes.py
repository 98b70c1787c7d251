"""Boxes read from VLM answers in every form: pixels, 0–1, 0–1000, Gemini's order, corner and size
keys; clipping, labels, scores, repeats; and boxes written in each form coming back the same."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.results import Box
from components.vlm.boxes import PIXEL_SLACK, ParsedBoxes, parse_boxes
from components.vlm.lenient_json import MAX_ITEMS
from tests.vlm.parsed import notes_text


def corners(parsed: ParsedBoxes) -> list[tuple[float, float, float, float]]:
    return [(r.box.left, r.box.top, r.box.right, r.box.bottom) for r in parsed.regions]


def labels_of(parsed: ParsedBoxes) -> list[str]:
    return [r.concepts[0].name for r in parsed.regions]


# --- Box constructors -------------------------------------------------------------------------------


def test_box_from_pixel_corners_is_fractions_of_the_image():
    assert Box.from_xyxy(100, 50, 300, 150, 400, 200) == Box(top=0.25, left=0.25, bottom=0.75, right=0.75)


def test_box_from_pixel_corners_in_the_wrong_order_is_put_right():
    assert Box.from_xyxy(300, 150, 100, 50, 400, 200) == Box.from_xyxy(100, 50, 300, 150, 400, 200)


def test_box_from_normalised_corners_on_each_scale():
    assert Box.from_normalized_xyxy(0.1, 0.2, 0.3, 0.4) == Box(top=0.2, left=0.1, bottom=0.4, right=0.3)
    assert Box.from_normalized_xyxy(300, 400, 100, 200, scale=1000) == pytest.approx(
        Box(top=0.2, left=0.1, bottom=0.4, right=0.3)
    )


def test_box_constructors_do_not_clip():
    assert Box.from_xyxy(-10, 0, 110, 50, 100, 100).left == pytest.approx(-0.1)


def test_clipping_drops_what_cannot_be_drawn_and_clamping_only_holds_each_corner_to_the_picture():
    past_the_edge = Box(top=0.5, left=-0.2, bottom=1.3, right=0.4)
    assert past_the_edge.clipped() == past_the_edge.clamped() == Box(top=0.5, left=0.0, bottom=1.0, right=0.4)
    outside = Box(top=0.2, left=1.1, bottom=0.6, right=1.5)
    assert outside.clipped() is None
    assert outside.clamped() == Box(top=0.2, left=1.0, bottom=0.6, right=1.0)
    inverted = Box(top=0.6, left=0.3, bottom=0.2, right=0.1)
    assert inverted.clipped() == Box(top=0.2, left=0.1, bottom=0.6, right=0.3)
    assert inverted.clamped() == inverted
    assert Box(top=0.0, left=0.0, bottom=float("inf"), right=0.5).clipped() is None


# --- boxes ------------------------------------------------------------------------------------------

QWEN_DETECTION = """```json
[
\t{"bbox_2d": [135, 114, 496, 672], "label": "person"},
\t{"bbox_2d": [612, 98, 998, 700], "label": "person"},
\t{"bbox_2d": [402, 455, 580, 690], "label": "bag"}
]
```"""

GPT4O_DETECTION = """Sure! Here are the bounding boxes (normalized to 0-1):

```json
[
  {"label": "dog", "bbox_2d": [0.12, 0.30, 0.55, 0.92], "confidence": 0.9},
  {"label": "frisbee", "bbox_2d": [0.60, 0.10, 0.72, 0.22], "confidence": 0.7}
]
```"""

GEMINI_DETECTION = """```json
[
  {"box_2d": [380, 120, 920, 480], "label": "cat"},
  {"box_2d": [100, 550, 600, 990], "label": "lamp"}
]
```"""


def test_boxes_from_a_qwen_answer_in_pixels_of_a_large_image():
    parsed = parse_boxes(QWEN_DETECTION, 1280, 960, ["people", "bags"])
    assert parsed.coordinate_form == "pixels" and parsed.problem == ""
    assert labels_of(parsed) == ["people", "people", "bags"]
    assert corners(parsed)[0] == pytest.approx((135 / 1280, 114 / 960, 496 / 1280, 672 / 960))
    assert "fits both" in notes_text(parsed)  # every value <= 1000 and inside 1280x960: said which was assumed
    assert "calibrated" in notes_text(parsed)
    assert all(r.concepts[0].value == 1.0 for r in parsed.regions)


def test_qwen_pixels_above_1000_are_pixels_without_doubt():
    parsed = parse_boxes('[{"bbox_2d": [1200, 40, 1900, 1000], "label": "bus"}]', 2000, 1500)
    assert parsed.coordinate_form == "pixels"
    assert corners(parsed)[0] == pytest.approx((0.6, 40 / 1500, 0.95, 1000 / 1500))
    assert "fits both" not in notes_text(parsed)


def test_boxes_from_a_gpt4o_answer_in_fractions():
    parsed = parse_boxes(GPT4O_DETECTION, 1024, 768, ["dog", "frisbee"])
    assert parsed.coordinate_form == "0-1"
    assert corners(parsed)[0] == pytest.approx((0.12, 0.30, 0.55, 0.92))
    assert [r.concepts[0].value for r in parsed.regions] == [0.9, 0.7]
    assert "calibrated" not in notes_text(parsed)


def test_boxes_from_a_gemini_answer_are_y_first_on_a_0_to_1000_scale():
    parsed = parse_boxes(GEMINI_DETECTION, 1024, 768, ["cat", "lamp"])
    assert parsed.coordinate_form == "0-1000"
    assert corners(parsed)[0] == pytest.approx((0.12, 0.38, 0.48, 0.92))
    assert "Gemini" in notes_text(parsed)


def test_0_to_1000_boxes_that_cannot_be_pixels_of_the_image():
    # y reaches 950 on a 768-pixel-high image: only the 0-1000 reading fits
    parsed = parse_boxes('[{"bbox": [100, 200, 500, 950], "label": "tree"}]', 1024, 768)
    assert parsed.coordinate_form == "0-1000"
    assert corners(parsed)[0] == pytest.approx((0.1, 0.2, 0.5, 0.95))


def test_ambiguous_form_on_an_image_of_about_1000_pixels_says_which_was_assumed():
    parsed = parse_boxes('[{"bbox_2d": [100, 200, 500, 900], "label": "tree"}]', 1000, 1000)
    assert parsed.coordinate_form == "pixels"
    assert "fits both" in notes_text(parsed) and "read as pixels" in notes_text(parsed)


def test_the_form_is_decided_once_per_answer():
    # the second box alone would look like 0-1, but the answer as a whole is in pixels
    parsed = parse_boxes('[{"bbox": [10, 20, 300, 400]}, {"bbox": [0, 0, 1, 1]}]', 640, 480)
    assert parsed.coordinate_form == "pixels"
    assert corners(parsed)[1] == pytest.approx((0, 0, 1 / 640, 1 / 480))


@pytest.mark.parametrize("key", ["bbox_2d", "bbox", "box", "BBox", "bounding_box"])
def test_every_common_key_for_the_box(key):
    parsed = parse_boxes(f'[{{"{key}": [10, 20, 110, 220], "label": "cup"}}]', 400, 400)
    assert corners(parsed) == [pytest.approx((10 / 400, 20 / 400, 110 / 400, 220 / 400))]


@pytest.mark.parametrize(
    "item",
    [
        '{"x1": 10, "y1": 20, "x2": 110, "y2": 220}',
        '{"xmin": 10, "ymin": 20, "xmax": 110, "ymax": 220}',
        '{"left": 10, "top": 20, "right": 110, "bottom": 220}',
        '{"x": 10, "y": 20, "width": 100, "height": 200}',
        '{"bbox": {"x1": "10", "y1": "20", "x2": "110", "y2": "220"}}',
        '{"bbox_2d": [[10, 20], [110, 220]]}',
    ],
)
def test_corners_given_as_points_or_dicts(item):
    parsed = parse_boxes(f"[{item[:-1]}, \"label\": \"cup\"}}]", 400, 400)
    assert corners(parsed) == [pytest.approx((10 / 400, 20 / 400, 110 / 400, 220 / 400))]
    assert labels_of(parsed) == ["cup"]


def test_boxes_under_a_key_or_keyed_by_label():
    held = parse_boxes('{"objects": [{"bbox_2d": [10, 20, 110, 220], "label": "cup"}]}', 400, 400)
    keyed_text = '{"cup": [10, 20, 110, 220], "plates": [[0, 0, 50, 50], [60, 60, 90, 90]]}'
    keyed = parse_boxes(keyed_text, 400, 400, ["plate"])
    assert labels_of(held) == ["cup"]
    assert labels_of(keyed) == ["cup", "plate", "plate"]


def test_boxes_nested_deeper_in_the_answer():
    text = '{"result": {"detections": [{"bbox_2d": [10, 20, 110, 220], "label": "cup"}]}, "count": 1}'
    assert labels_of(parse_boxes(text, 400, 400)) == ["cup"]


def test_inverted_boxes_are_put_the_right_way_round():
    parsed = parse_boxes('[{"bbox_2d": [300, 400, 100, 200], "label": "cup"}]', 640, 480)
    assert corners(parsed) == [pytest.approx((100 / 640, 200 / 480, 300 / 640, 400 / 480))]
    assert "inverted" in notes_text(parsed)


def test_boxes_partly_outside_are_clipped_and_wholly_outside_or_empty_ones_dropped():
    text = """[
      {"bbox_2d": [-20, 100, 200, 1000], "label": "partly"},
      {"bbox_2d": [1300, 100, 1400, 200], "label": "right of the image"},
      {"bbox_2d": [50, 50, 50, 90], "label": "no width"},
      {"bbox_2d": [10, 10, 40, 40], "label": "fine"}
    ]"""
    parsed = parse_boxes(text, 1280, 960)
    assert parsed.coordinate_form == "pixels"
    assert labels_of(parsed) == ["partly", "fine"]
    assert corners(parsed)[0] == pytest.approx((0.0, 100 / 960, 200 / 1280, 1.0))
    assert "Clipped one box" in notes_text(parsed) and "Left out two boxes" in notes_text(parsed)


def test_no_box_inside_the_image_is_a_problem():
    parsed = parse_boxes('[{"bbox_2d": [1700, 1100, 1800, 1200], "label": "ghost"}]', 640, 480)
    assert parsed.regions == () and "inside the image" in parsed.problem


def test_scores_from_confidence_or_score_including_percentages():
    text = '[{"bbox": [0.1, 0.1, 0.2, 0.2], "score": 80}, {"bbox": [0.3, 0.3, 0.4, 0.4], "confidence": "45%"}]'
    assert [r.concepts[0].value for r in parse_boxes(text, 100, 100).regions] == pytest.approx([0.8, 0.45])


def test_labels_are_matched_cleaned_and_unknown_ones_kept_with_a_note():
    text = """[
      {"bbox_2d": [10, 10, 50, 50], "label": "**Person**"},
      {"bbox_2d": [60, 10, 90, 50], "label": "buses"},
      {"bbox_2d": [10, 60, 50, 90], "label": "<i>backpack</i>"}
    ]"""
    parsed = parse_boxes(text, 100, 100, ["people", "bus"])
    assert labels_of(parsed) == ["people", "bus", "backpack"]
    assert '"backpack"' in notes_text(parsed)


def test_a_box_with_no_label_takes_the_one_thing_asked_for_or_object():
    text = '[{"bbox_2d": [10, 10, 50, 50]}, [60, 60, 90, 90]]'
    assert labels_of(parse_boxes(text, 100, 100, ["dog"])) == ["dog", "dog"]
    assert labels_of(parse_boxes(text, 100, 100, ["dog", "cat"])) == ["object", "object"]


def test_repeated_boxes_from_a_looping_model_are_kept_once():
    text = "[" + ", ".join(['{"bbox_2d": [10, 20, 30, 40], "label": "person"}'] * 50) + "]"
    parsed = parse_boxes(text, 100, 100)
    assert len(parsed.regions) == 1 and "repeated" in notes_text(parsed)


def test_a_ten_thousand_line_detection_answer_is_bounded():
    lines = [f'  {{"bbox_2d": [{i % 900}, {i % 700}, {i % 900 + 50}, {i % 700 + 40}], "label": "person"}},'
             for i in range(10_000)]
    parsed = parse_boxes("```json\n[\n" + "\n".join(lines) + "\n]\n```", 1024, 768)
    assert 0 < len(parsed.regions) <= MAX_ITEMS and parsed.problem == ""
    assert "very long" in notes_text(parsed)


def test_pixel_boxes_need_the_image_size():
    parsed = parse_boxes('[{"bbox_2d": [1200, 40, 1900, 1000]}]', 0, 0)
    assert parsed.regions == () and "size" in parsed.problem


def test_truncated_detection_answer_keeps_the_complete_boxes():
    parsed = parse_boxes('[{"bbox_2d": [10, 10, 50, 50], "label": "a"}, {"bbox_2d": [60, 60, 9', 100, 100)
    assert labels_of(parsed) == ["a"] and "cut off" in notes_text(parsed)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "empty"),
        ("I can see two people and a bag near the door.", "holds no JSON list of boxes"),
        ("[]", "empty list"),
        ('{"objects": []}', "empty list"),
        ('[{"label": "person"}]', "no boxes could be read"),
        ('[{"bbox_2d": [1, 2, "three"], "label": "person"}]', "no boxes could be read"),
        ('[{"bbox_2d": [NaN, 2, 3, 4], "label": "person"}]', "no boxes could be read"),
    ],
)
def test_answers_without_boxes_say_what_went_wrong(text, problem):
    parsed = parse_boxes(text, 640, 480)
    assert parsed.regions == () and problem in parsed.problem and parsed.coordinate_form == ""


def test_boxes_with_unusable_coordinates_beside_good_ones_are_counted():
    text = '[{"bbox_2d": [1, 2, 3], "label": "x"}, {"bbox_2d": [10, 10, 50, 50], "label": "y"}]'
    parsed = parse_boxes(text, 100, 100)
    assert labels_of(parsed) == ["y"] and "not four numbers" in notes_text(parsed)


@st.composite
def pixel_boxes(draw):
    """An image size and 1–5 boxes in whole pixels, at least 1/200 of the image on each side."""
    width, height = draw(st.integers(50, 4000)), draw(st.integers(50, 4000))
    boxes = []
    for _ in range(draw(st.integers(1, 5))):
        least_width, least_height = max(width // 200, 2), max(height // 200, 2)
        x0 = draw(st.integers(0, width - least_width))
        y0 = draw(st.integers(0, height - least_height))
        x1 = draw(st.integers(x0 + least_width, width))
        y1 = draw(st.integers(y0 + least_height, height))
        boxes.append((x0, y0, x1, y1))
    return width, height, boxes


def expected_fractions(width, height, boxes):
    return [
        (b.left, b.top, b.right, b.bottom) for b in (Box.from_xyxy(*xyxy, width, height) for xyxy in boxes)
    ]


def assert_round_trip(parsed, width, height, boxes, form, tolerance):
    assert parsed.coordinate_form == form
    found = corners(parsed)
    assert len(found) == len(set(boxes))
    expected = dict.fromkeys(expected_fractions(width, height, boxes))  # repeats are kept once
    for got, want in zip(found, expected, strict=True):
        assert got == pytest.approx(want, abs=tolerance)


@settings(max_examples=150, deadline=None)
@given(pixel_boxes())
def test_boxes_written_in_pixels_come_back_as_the_same_fractions(drawn):
    width, height, boxes = drawn
    text = json.dumps([{"bbox_2d": list(b), "label": "thing"} for b in boxes])
    assert_round_trip(parse_boxes(text, width, height), width, height, boxes, "pixels", 1e-12)


@settings(max_examples=150, deadline=None)
@given(pixel_boxes())
def test_boxes_written_in_fractions_come_back_the_same(drawn):
    width, height, boxes = drawn
    written = [[round(x0 / width, 6), round(y0 / height, 6), round(x1 / width, 6), round(y1 / height, 6)]
               for x0, y0, x1, y1 in boxes]
    text = json.dumps([{"bbox": b, "label": "thing"} for b in written])
    assert_round_trip(parse_boxes(text, width, height), width, height, boxes, "0-1", 1e-6)


@settings(max_examples=150, deadline=None)
@given(pixel_boxes())
def test_boxes_written_on_the_0_to_1000_scale_come_back_within_rounding(drawn):
    width, height, boxes = drawn
    written = [
        [round(y0 / height * 1000), round(x0 / width * 1000), round(y1 / height * 1000), round(x1 / width * 1000)]
        for x0, y0, x1, y1 in boxes
    ]
    text = json.dumps([{"box_2d": b, "label": "thing"} for b in written])
    parsed = parse_boxes(text, width, height)
    # whole thousandths: each edge moves by at most half of one
    assert parsed.coordinate_form == "0-1000"
    assert len(parsed.regions) <= len(boxes)
    expected = expected_fractions(width, height, boxes)
    for got in corners(parsed):
        assert any(got == pytest.approx(want, abs=0.0005 + 1e-9) for want in expected)
    assert len(parsed.regions) == len({tuple(b) for b in written})


@settings(max_examples=100, deadline=None)
@given(pixel_boxes())
def test_bbox_on_the_0_to_1000_scale_is_recognised_when_pixels_cannot_fit(drawn):
    width, height, boxes = drawn
    # the same boxes on a 0-1000 scale, plus one that reaches the bottom-right corner
    sizes_of_corners = (width, height, width, height)
    scaled = [[round(v / size * 1000) for v, size in zip(b, sizes_of_corners, strict=True)] for b in boxes]
    scaled.append([900, 900, 1000, 1000])
    text = json.dumps([{"bbox": b} for b in scaled])
    parsed = parse_boxes(text, width, height)
    if width * PIXEL_SLACK < 1000 or height * PIXEL_SLACK < 1000:
        assert parsed.coordinate_form == "0-1000"
        assert corners(parsed)[-1] == pytest.approx((0.9, 0.9, 1.0, 1.0))
    else:
        assert parsed.coordinate_form == "pixels" and "fits both" in notes_text(parsed)
