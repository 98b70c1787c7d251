"""What an annotated picture shows, in words: alt text and the line under the picture."""

from __future__ import annotations

import numpy as np

from components.drawing import charts, picture_text
from components.drawing.labels import layout_labels
from components.results import Box, Concept, Region


def boxes(*items: tuple[str, float]) -> list[Region]:
    return [
        Region((Concept(name, score),), box=Box(0.1 + 0.05 * i, 0.1, 0.3 + 0.05 * i, 0.4))
        for i, (name, score) in enumerate(items)
    ]


def test_every_box_is_named_with_its_score_grouped_by_name():
    regions = boxes(("person", 0.93), ("dog", 0.81), ("person", 0.71))
    frame = charts.regions_frame(regions, 640, 480)
    text = picture_text.boxes_text(frame, labelled={0, 1, 2})
    assert text.alt == "3 boxes drawn: person 0.93, 0.71 · dog 0.81."
    assert text.caption == "**Boxes:** person 0.93, 0.71 · dog 0.81"


def test_the_caption_says_how_many_labels_found_no_room():
    regions = boxes(("person", 0.93), ("dog", 0.81), ("cat", 0.5))
    frame = charts.regions_frame(regions, 640, 480)
    text = picture_text.boxes_text(frame, labelled={0})
    assert "2 labels did not fit on the picture" in text.caption
    assert "cat 0.50" in text.caption  # still named in words
    one = picture_text.boxes_text(frame, labelled={0, 1})
    assert "1 label did not fit" in one.caption


def test_the_left_off_count_matches_the_drawing():
    rng = np.random.default_rng(2)
    regions = [
        Region((Concept(f"thing {i}", float(rng.uniform(0.3, 1))),), box=Box(0.4, 0.4, 0.6, 0.6)) for i in range(12)
    ]
    frame = charts.regions_frame(regions, 640, 480)
    labels = layout_labels(regions, 640, 480)
    assert 0 < len(labels) < 12
    text = picture_text.boxes_text(frame, {label.region for label in labels})
    assert f"{12 - len(labels)} labels did not fit" in text.caption


def test_picked_boxes_are_named_and_no_left_off_count_is_given():
    regions = boxes(("person", 0.93), ("dog", 0.81))
    frame = charts.regions_frame(regions, 640, 480)
    text = picture_text.boxes_text(frame, labelled={0}, picked={1})
    assert text.alt.endswith("Picked out: dog 0.81.")
    assert "**Picked out:** dog 0.81" in text.caption and "did not fit" not in text.caption


def test_no_boxes_says_so():
    assert picture_text.boxes_text(charts.regions_frame([], 10, 10), labelled=()).alt == "No boxes drawn."


def test_names_are_shown_as_typed_not_as_markdown():
    regions = boxes(("*new* :red[x]", 0.5))
    text = picture_text.boxes_text(charts.regions_frame(regions, 640, 480), labelled={0})
    assert text.alt == "1 box drawn: *new* :red[x] 0.50."  # alt text is plain
    assert "\\*new\\* \\:red\\[x\\]" in text.caption


def test_long_lists_end_with_how_many_more():
    items = [(f"thing {i}", "0.50") for i in range(100)]
    listed = picture_text.listing(items, limit=10)
    assert listed.endswith("… and 90 more") and "thing 9 0.50" in listed and "thing 10 " not in listed


def test_segments_are_described_with_the_charts_own_numbers():
    mask = np.zeros((10, 10), bool)
    mask[:4] = True
    regions = [Region((Concept("sky", 0.392),), mask=mask), Region((Concept("road", 0.003),), mask=~mask)]
    frame = charts.coverage_frame(regions)
    text = picture_text.masks_text(frame)
    assert text.alt == "2 segments painted: sky 39 % · road <1 %."
    assert text.caption == ""  # the chart beside the picture already says it
    assert picture_text.masks_text(frame, picked={1}).alt.endswith("Picked out: road <1 %.")
