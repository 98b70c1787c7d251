"""The local detector against boxes labelled by hand: precise on the samples and on the photos,
and never a colour-object box on skin, clothes or a person."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from components.local_models.detector import PERSON, detect_objects, person_from_face
from components.results import Box
from tests.local_models.labelled_boxes import (
    PHOTO_LABELS,
    SAMPLE_LABELS,
    Label,
    Score,
    iou,
    photo_image,
    sample_image,
    score,
)

TARGET_PRECISION = 0.8


def _total(results: dict[str, Score]) -> Score:
    total = Score(0, 0, 0)
    for result in results.values():
        total += result
    return total


def test_the_detector_is_precise_on_the_samples():
    results = {key: score(detect_objects(sample_image(key)).regions, labels) for key, labels in SAMPLE_LABELS.items()}
    total = _total(results)
    assert total.precision >= TARGET_PRECISION, total.false
    assert total.recall >= 0.7, total.missed  # the painted things are found, not only nothing wrong


def test_the_detector_is_precise_on_the_shared_photos(testdata):
    results = {key: score(detect_objects(photo_image(testdata, key)).regions, labels)
               for key, labels in PHOTO_LABELS.items()}
    total = _total(results)
    assert total.precision >= TARGET_PRECISION, total.false
    for key in ("astronaut", "hopper", "metro-north"):
        assert results[key].false_positives == 0, (key, results[key].false)


@pytest.mark.parametrize("key", ["astronaut", "hopper"])
def test_a_portrait_is_a_face_and_a_person_with_no_colour_boxes_on_them(testdata, key):
    regions = detect_objects(photo_image(testdata, key)).regions
    names = [r.concepts[0].name for r in regions]
    assert names.count("face") == 1 and names.count(PERSON) == 1, names
    [person] = [r for r in regions if r.concepts[0].name == PERSON]
    [labelled] = [label for label in PHOTO_LABELS[key] if label.kind == PERSON]
    assert iou(person.box, labelled.box) >= 0.5
    assert not [name for name in names if name.endswith("object")]


def test_skin_and_denim_coloured_things_are_not_coloured_objects():
    image = np.full((480, 640, 3), 128, np.uint8)
    cv2.circle(image, (160, 240), 70, (120, 150, 200), -1, cv2.LINE_AA)  # skin tone (BGR)
    cv2.rectangle(image, (380, 150), (520, 350), (110, 75, 50), -1)  # faded jeans
    assert detect_objects(image).regions == ()
    cv2.circle(image, (160, 240), 70, (30, 30, 220), -1, cv2.LINE_AA)  # now a red ball
    assert [r.concepts[0].name for r in detect_objects(image).regions] == ["red round object"]


def test_a_face_stands_for_a_person_below_it_held_to_the_picture():
    face = Box(top=0.1, left=0.4, bottom=0.2, right=0.5)
    person = person_from_face(face)
    assert person.top < face.top and person.bottom == pytest.approx(0.8)
    assert person.left == pytest.approx(0.25) and person.right == pytest.approx(0.65)
    assert person_from_face(Box(top=0.3, left=0.0, bottom=0.6, right=0.3)) == Box(top=0.15, left=0.0, bottom=1.0, right=0.75)


def test_the_score_counts_boxes_on_optional_things_neither_way():
    labels = (
        Label("object", Box(top=0.1, left=0.1, bottom=0.5, right=0.5), "ball"),
        Label("object", Box(top=0.6, left=0.6, bottom=0.9, right=0.9), "flag", optional=True),
    )
    from components.results import Concept, Region

    def box(name, value, left, top, right, bottom):
        return Region((Concept(name, value),), box=Box(top=top, left=left, bottom=bottom, right=right))

    regions = [
        box("red object", 0.9, 0.1, 0.1, 0.5, 0.5),  # the ball
        box("blue object", 0.8, 0.6, 0.6, 0.9, 0.9),  # the flag: not counted
        box("face", 0.7, 0.1, 0.1, 0.5, 0.5),  # a face where a ball is: wrong kind
        box("red object", 0.6, 0.1, 0.1, 0.5, 0.5),  # the ball again: a duplicate
    ]
    result = score(regions, labels)
    assert (result.true_positives, result.false_positives, result.labels) == (1, 2, 1)
    assert result.precision == pytest.approx(1 / 3) and result.recall == 1.0
