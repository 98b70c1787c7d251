"""The top answer each view puts under a gallery thumbnail: one line of plain words that follows
the page's display controls (threshold, concepts shown, hidden segments)."""

from __future__ import annotations

import numpy as np
import pytest

from components.images.preparation import PreparedImage
from components.results import Box, Concept, Prediction, Region
from components.tasks import Task
from components.text import first_line
from components.views import DisplaySettings, view_for

IMAGE = PreparedImage(
    name="photo.jpg", source="upload", digest="d" * 64, data=b"", mime="image/jpeg", width=400, height=300,
    preview=b"", original_size=0,
)


def box(name: str, score: float, left: float = 0.1) -> Region:
    return Region((Concept(name, score),), box=Box(0.1, left, 0.5, left + 0.3))


def segment(name: str, share: float) -> Region:
    mask = np.zeros((30, 40), bool)
    mask[: max(1, round(30 * share))] = True
    return Region((Concept(name, share),), mask=mask)


def headline(task: Task, prediction: Prediction, **settings) -> str:
    return view_for(task).headline(IMAGE, prediction, DisplaySettings(**settings))


def test_classification_names_the_top_three_concepts_above_the_threshold_best_first():
    concepts = tuple(Concept(name, value) for name, value in [("dog", 0.4), ("cat", 0.93), ("pet", 0.71), ("rug", 0.2)])
    prediction = Prediction(concepts=concepts)
    assert headline(Task.CLASSIFICATION, prediction) == "cat 0.93 · pet 0.71 · dog 0.40"
    assert headline(Task.CLASSIFICATION, prediction, min_score=0.5) == "cat 0.93 · pet 0.71"
    assert headline(Task.CLASSIFICATION, prediction, max_concepts=1) == "cat 0.93"
    assert headline(Task.CLASSIFICATION, prediction, min_score=0.99) == "No concepts at this score."
    assert headline(Task.CLASSIFICATION, Prediction()) == "No concepts."


def test_detection_counts_the_boxes_shown_and_names_the_most_common_labels():
    regions = (box("person", 0.9), box("dog", 0.8, 0.3), box("person", 0.7, 0.5), box("cup", 0.6), box("kite", 0.5), box("bus", 0.1))
    prediction = Prediction(regions=regions)
    assert headline(Task.DETECTION, prediction, min_score=0.3) == "5 boxes: person ×2, dog, cup, …"
    assert headline(Task.DETECTION, prediction, min_score=0.75) == "2 boxes: person, dog"
    assert headline(Task.DETECTION, prediction, min_score=0.95) == "0 boxes shown, 6 below the threshold"


def test_segmentation_lists_the_largest_segments_not_hidden():
    prediction = Prediction(regions=(segment("sky", 0.5), segment("road", 0.3), segment("tree", 0.1), segment("car", 0.05)))
    assert headline(Task.SEGMENTATION, prediction) == "4 segments: sky 50 % · road 30 % · tree 10 % …"
    assert headline(Task.SEGMENTATION, prediction, hidden=frozenset({"sky", "car"})) == "2 segments: road 30 % · tree 10 %"
    hidden = frozenset({"sky", "road", "tree", "car"})
    assert headline(Task.SEGMENTATION, prediction, hidden=hidden) == "Every segment is hidden."
    assert headline(Task.SEGMENTATION, Prediction()) == "No segments."


@pytest.mark.parametrize(
    ("task", "prediction", "expected"),
    [
        (Task.CAPTIONING, Prediction(caption="\n  A red bus on a bridge.  \nSecond paragraph."), "A red bus on a bridge."),
        (Task.CAPTIONING, Prediction(), "The model returned no caption."),
        (Task.OCR, Prediction(regions=(Region((), text="OPEN 24 HOURS"), Region((), text="no parking"))), "OPEN 24 HOURS"),
        (Task.OCR, Prediction(), "No text found in this picture."),
    ],
)
def test_a_caption_or_text_read_is_shown_by_its_first_line(task, prediction, expected):
    assert headline(task, prediction) == expected


def test_first_line_skips_blank_lines_and_trims_spaces():
    assert first_line("\n\n  two words \nthree") == "two words"
    assert first_line(" \n\t") == ""
