"""Comparing models on one picture: boxes matched by label and overlap, top concepts, segments, captions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.results import Box, Concept, Prediction, Region
from components.run.compare import caption_overlap, compare_captions, compare_concepts, compare_detections, compare_segments, iou


def box(name: str, top, left, bottom, right, score=0.9) -> Region:
    return Region((Concept(name, score),), box=Box(top, left, bottom, right))


def test_iou_of_boxes():
    assert iou(Box(0, 0, 0.5, 0.5), Box(0, 0, 0.5, 0.5)) == pytest.approx(1.0)
    assert iou(Box(0, 0, 0.5, 0.5), Box(0.5, 0.5, 1, 1)) == 0.0
    assert iou(Box(0, 0, 0.5, 1.0), Box(0, 0.5, 0.5, 1.0)) == pytest.approx(0.5)  # half of one, all of the other
    assert iou(Box(0, 0, 1.0, 0.6), Box(0, 0.4, 1.0, 1.0)) == pytest.approx(0.2 / 1.0)
    assert iou(Box(0.5, 0.5, 0.5, 0.5), Box(0, 0, 1, 1)) == 0.0


def test_boxes_only_one_model_found_are_told_apart_from_shared_ones():
    a = Prediction(regions=(box("Person", 0.1, 0.1, 0.5, 0.3), box("dog", 0.6, 0.6, 0.9, 0.9), box("car", 0, 0.7, 0.2, 1)))
    b = Prediction(regions=(box("person", 0.12, 0.1, 0.52, 0.31), box("dog", 0.0, 0.0, 0.1, 0.1)))
    diff = compare_detections([a, b])
    assert diff.only == (("dog", "car"), ("dog",))  # the dogs are in different places: no match
    assert diff.shared == ("Person",)
    assert diff.counted == 5 and diff.agreement == pytest.approx(2 / 5)


def test_low_scores_are_left_out_and_a_box_matches_once():
    a = Prediction(regions=(box("cat", 0, 0, 0.5, 0.5), box("cat", 0.01, 0, 0.5, 0.5), box("cat", 0.5, 0.5, 1, 1, 0.1)))
    b = Prediction(regions=(box("cat", 0, 0, 0.5, 0.5),))
    diff = compare_detections([a, b], min_score=0.3)
    assert diff.only == (("cat",), ())
    assert diff.counted == 3


def test_three_models_and_a_failed_one():
    a = Prediction(regions=(box("bus", 0, 0, 0.5, 0.5),))
    diff = compare_detections([a, a, None])
    assert diff.only == ((), (), ())
    assert diff.shared == ()  # the third model found nothing
    assert diff.agreement == pytest.approx(1.0)


def test_concepts_only_one_model_ranks_in_its_top_n():
    a = Prediction(concepts=tuple(Concept(n, v) for n, v in [("train", 0.99), ("Station", 0.9), ("snow", 0.5), ("sky", 0.4)]))
    b = Prediction(concepts=tuple(Concept(n, v) for n, v in [("station", 0.95), ("platform", 0.9), ("train", 0.3), ("sky", 0.01)]))
    diff = compare_concepts([a, b], top_n=3)
    assert diff.only == (("snow",), ("platform",))
    assert diff.shared == ("Station", "train")
    assert diff.counted == 6 and diff.agreement == pytest.approx(4 / 6)


def test_segments_by_name_and_captions_by_shared_words():
    a = Prediction(regions=(Region((Concept("sky", 0.5),)), Region((Concept("road", 0.5),))))
    b = Prediction(regions=(Region((Concept("Sky", 0.7),)),))
    assert compare_segments([a, b]).only == (("road",), ())
    assert caption_overlap(["A red bus on a street", "a bus in the street"]) == pytest.approx(3 / 7)  # a, bus, street
    assert caption_overlap(["", ""]) == 1.0
    assert compare_captions([Prediction(caption="a cat"), Prediction(caption="a cat")]).agreement == 1.0


regions = st.lists(
    st.builds(
        box,
        st.sampled_from(["a", "b", "C"]),
        st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1),
    ),
    max_size=8,
)


@given(st.lists(regions, min_size=2, max_size=4))
def test_detection_comparison_counts_every_box_once(per_model):
    predictions = [Prediction(regions=tuple(r)) for r in per_model]
    diff = compare_detections(predictions)
    shown = [len(regions) for regions in per_model]
    assert diff.counted == sum(shown)
    assert 0.0 <= diff.agreement <= 1.0
    assert all(len(only) <= count for only, count in zip(diff.only, shown))
