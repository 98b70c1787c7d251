"""Local OpenCV models: named colours, colour regions, detections, and their failures."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from components.colors import Color
from components.errors import AppError, OfflineUnsupportedError
from components.images.preparation import prepare_upload
from components.images.samples import sample_bytes
from components.local_models import core as offline
from components.local_models.core import (
    NAMED_COLOURS,
    ciede2000,
    classify_colours,
    detect_objects,
    name_colour,
    predict_offline,
    segment_colours,
)
from components.models import PredictSettings
from components.results import Box
from components.run.backend import OFFLINE, RunPlan, run_predictions
from components.tasks import Task
from tests.helpers import png_bytes

RED, BLUE, GREEN = (0, 0, 255), (255, 0, 0), (0, 255, 0)  # BGR
COLOUR_NAMES = {colour.name for colour in NAMED_COLOURS}
LOCAL_TASKS = (Task.CLASSIFICATION, Task.DETECTION, Task.SEGMENTATION)


def photo(testdata: Path, name: str) -> np.ndarray:
    image = cv2.imread(str(testdata / "photos" / name))
    assert image is not None, name
    return image


def sample_picture(key: str) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(sample_bytes(key), np.uint8), cv2.IMREAD_COLOR)


def red_and_blue(width: int = 400, height: int = 300, red_share: float = 0.7) -> np.ndarray:
    """Left part pure red, the rest pure blue."""
    image = np.zeros((height, width, 3), np.uint8)
    split = round(width * red_share)
    image[:, :split] = RED
    image[:, split:] = BLUE
    return image


def values(prediction) -> dict[str, float]:
    return {concept.name: concept.value for concept in prediction.concepts}


def region_shares(prediction) -> dict[str, float]:
    return {region.concepts[0].name: region.concepts[0].value for region in prediction.regions}


def regions_named(prediction, name: str):
    return [region for region in prediction.regions if region.concepts[0].name == name]


def iou(a: Box, b: Box) -> float:
    width = max(0.0, min(a.right, b.right) - max(a.left, b.left))
    height = max(0.0, min(a.bottom, b.bottom) - max(a.top, b.top))
    inter = width * height
    union = (a.right - a.left) * (a.bottom - a.top) + (b.right - b.left) * (b.bottom - b.top) - inter
    return inter / union if union > 0 else 0.0


def contains(box: Box, x: float, y: float) -> bool:
    return box.left <= x <= box.right and box.top <= y <= box.bottom


# --- labels ----------------------------------------------------------------------------------


def test_local_models_are_labelled_as_local_opencv_and_never_as_clarifai():
    assert {task for task in Task if task.spec.offline is not None} == set(LOCAL_TASKS)
    for task in LOCAL_TASKS:
        model = task.spec.offline
        assert model.name.endswith("(local OpenCV)")
        assert "clarifai" not in model.name.lower()
        assert "no Clarifai call" in model.description
        assert "\n" not in model.description


@pytest.mark.parametrize("task", LOCAL_TASKS)
def test_predictions_carry_the_local_model_name_and_no_raw_output(task):
    [result] = predict_offline(task.spec.offline, [red_and_blue()], PredictSettings())
    assert result.ok
    assert result.prediction.model_label == task.spec.offline.name
    assert result.prediction.raw is None
    assert result.prediction.status.ok


# --- colour names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lab1, lab2, expected",
    [  # Sharma, Wu & Dalal (2005), the CIEDE2000 reference pairs
        ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
        ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
        ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0009), 7.1792),
        ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
        ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
        ((90.9257, -0.5406, -0.9208), (88.6381, -0.8985, -0.7239), 1.5381),
    ],
)
def test_ciede2000_matches_the_published_reference_pairs(lab1, lab2, expected):
    assert float(ciede2000(np.array(lab1), np.array(lab2))) == pytest.approx(expected, abs=1e-4)
    assert float(ciede2000(np.array(lab2), np.array(lab1))) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(
    "rgb, name",
    [
        ((255, 0, 0), "red"),
        ((0, 0, 255), "blue"),
        ((65, 105, 225), "blue"),  # royal blue: plain Lab distance calls it purple
        ((0, 200, 0), "green"),
        ((255, 255, 255), "white"),
        ((0, 0, 0), "black"),
        ((128, 128, 128), "grey"),
        ((64, 64, 64), "grey"),
        ((135, 206, 235), "sky blue"),
        ((255, 140, 0), "orange"),
        ((255, 220, 0), "yellow"),
        ((0, 0, 128), "navy"),
        ((139, 69, 19), "brown"),
        ((255, 182, 193), "pink"),
    ],
)
def test_everyday_colours_get_the_name_people_use(rgb, name):
    assert name_colour(Color.from_rgb(*rgb)) == name


def test_every_named_colour_names_itself_and_the_table_has_a_workable_size():
    assert 15 <= len(NAMED_COLOURS) <= 20
    assert len(COLOUR_NAMES) == len(NAMED_COLOURS)
    for colour in NAMED_COLOURS:
        assert name_colour(colour.color) == colour.name


# --- classification --------------------------------------------------------------------------


def test_classification_gives_each_colour_its_share_of_the_pixels():
    prediction = classify_colours(red_and_blue(red_share=0.7))
    assert [c.name for c in prediction.concepts] == ["red", "blue"]
    assert values(prediction)["red"] == pytest.approx(0.7, abs=0.02)
    assert values(prediction)["blue"] == pytest.approx(0.3, abs=0.02)
    assert [c.id for c in prediction.concepts] == ["colour-red", "colour-blue"]


@pytest.mark.parametrize("bgr, name", [(RED, "red"), (GREEN, "green"), ((255, 255, 255), "white")])
def test_a_single_colour_image_is_all_that_colour(bgr, name):
    prediction = classify_colours(np.full((120, 90, 3), bgr, np.uint8))
    assert values(prediction) == {name: pytest.approx(1.0)}


def test_clusters_with_the_same_name_are_merged_into_one_concept():
    image = np.zeros((100, 100, 3), np.uint8)
    shades_of_red = [(0, 0, 255), (10, 10, 235), (20, 20, 220), (5, 25, 245)]
    for i, shade in enumerate(shades_of_red):
        image[i * 25 : (i + 1) * 25] = shade
    prediction = classify_colours(image)
    assert values(prediction) == {"red": pytest.approx(1.0)}


def test_classification_of_a_photo_sums_to_one_and_is_sorted(testdata):
    prediction = classify_colours(photo(testdata, "astronaut.png"))
    shares = [c.value for c in prediction.concepts]
    assert sum(shares) == pytest.approx(1.0, abs=1e-6)
    assert shares == sorted(shares, reverse=True)
    assert {c.name for c in prediction.concepts} <= COLOUR_NAMES
    assert len(prediction.concepts) >= 3
    assert "orange" in values(prediction)  # the spacesuit


def test_classification_honours_min_value_max_concepts_and_select_concepts():
    image = np.zeros((100, 100, 3), np.uint8)
    image[:, :60] = RED
    image[:, 60:90] = BLUE
    image[:, 90:] = GREEN

    assert set(values(classify_colours(image))) == {"red", "blue", "green"}
    assert set(values(classify_colours(image, PredictSettings(min_value=0.2)))) == {"red", "blue"}
    assert [c.name for c in classify_colours(image, PredictSettings(max_concepts=1)).concepts] == ["red"]
    selected = classify_colours(image, PredictSettings(select_concepts=("GREEN", " Blue ")))
    assert set(values(selected)) == {"green", "blue"}
    assert values(selected)["green"] == pytest.approx(0.1, abs=0.02)  # shares stay shares of the image


def test_classification_is_repeatable(testdata):
    image = photo(testdata, "metro-north.jpg")
    first, second = classify_colours(image), classify_colours(image)
    assert first.concepts == second.concepts


@hypothesis_settings(max_examples=40, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 30), st.integers(1, 30), st.just(3))))
def test_any_image_gets_named_colours_whose_shares_sum_to_one(image):
    prediction = classify_colours(image)
    shares = [c.value for c in prediction.concepts]
    assert sum(shares) == pytest.approx(1.0, abs=1e-6)
    assert all(0 < share <= 1 for share in shares)
    assert shares == sorted(shares, reverse=True)
    assert {c.name for c in prediction.concepts} <= COLOUR_NAMES


# --- segmentation ----------------------------------------------------------------------------


def quadrants(width: int = 640, height: int = 480) -> np.ndarray:
    """Top half red; bottom-left green; bottom-right blue."""
    image = np.zeros((height, width, 3), np.uint8)
    image[: height // 2] = RED
    image[height // 2 :, : width // 2] = GREEN
    image[height // 2 :, width // 2 :] = BLUE
    return image


def full_size_mask(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    return cv2.resize(mask.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST).astype(bool)


def test_segmentation_masks_cover_the_right_areas():
    image = quadrants()
    height, width = image.shape[:2]
    expected = {"red": np.zeros((height, width), bool), "green": np.zeros((height, width), bool)}
    expected["red"][: height // 2] = True
    expected["green"][height // 2 :, : width // 2] = True
    expected["blue"] = ~(expected["red"] | expected["green"])

    prediction = segment_colours(image)
    names = [r.concepts[0].name for r in prediction.regions]
    assert names == ["red", "blue", "green"]  # equal shares are ordered by name
    for region in prediction.regions:
        name = region.concepts[0].name
        assert region.box is None
        assert region.mask.dtype == bool and region.mask.ndim == 2
        agreement = (full_size_mask(region.mask, width, height) == expected[name]).mean()
        assert agreement > 0.99, name
    assert region_shares(prediction) == {
        "red": pytest.approx(0.5, abs=0.01),
        "green": pytest.approx(0.25, abs=0.01),
        "blue": pytest.approx(0.25, abs=0.01),
    }


def test_segmentation_masks_are_at_a_reduced_size_with_the_image_aspect():
    prediction = segment_colours(quadrants(1600, 1200))
    for region in prediction.regions:
        height, width = region.mask.shape
        assert max(height, width) <= offline.SEGMENT_SIDE
        assert width / height == pytest.approx(1600 / 1200, rel=0.02)


def test_segmentation_masks_partition_the_image_and_shares_sum_to_one(testdata):
    prediction = segment_colours(photo(testdata, "coffee.png"))
    masks = np.stack([region.mask for region in prediction.regions])
    assert (masks.sum(axis=0) == 1).all()  # every pixel in exactly one region
    shares = [region.concepts[0].value for region in prediction.regions]
    assert sum(shares) == pytest.approx(1.0)
    assert shares == sorted(shares, reverse=True)
    for region in prediction.regions:
        assert region.concepts[0].value == pytest.approx(region.mask.mean())


def test_segmentation_smooths_away_isolated_specks():
    rng = np.random.default_rng(7)
    image = np.full((300, 300, 3), RED, np.uint8)
    ys, xs = rng.integers(0, 300, 200), rng.integers(0, 300, 200)
    image[ys, xs] = BLUE  # scattered single pixels
    assert set(region_shares(segment_colours(image))) == {"red"}


def test_segmentation_keeps_a_solid_area_of_another_colour():
    image = np.full((300, 300, 3), RED, np.uint8)
    image[100:160, 100:160] = BLUE
    shares = region_shares(segment_colours(image))
    assert shares["blue"] == pytest.approx(0.04, abs=0.005)


def test_segmentation_honours_min_value_max_concepts_and_select_concepts():
    image = quadrants()
    assert set(region_shares(segment_colours(image, PredictSettings(min_value=0.3)))) == {"red"}
    assert [r.concepts[0].name for r in segment_colours(image, PredictSettings(max_concepts=2)).regions] == [
        "red",
        "blue",
    ]
    selected = segment_colours(image, PredictSettings(select_concepts=("Green",)))
    assert region_shares(selected) == {"green": pytest.approx(0.25, abs=0.01)}


def test_segmentation_is_repeatable(testdata):
    image = photo(testdata, "astronaut.png")
    first, second = segment_colours(image), segment_colours(image)
    assert region_shares(first) == region_shares(second)
    for a, b in zip(first.regions, second.regions):
        assert np.array_equal(a.mask, b.mask)


@hypothesis_settings(max_examples=30, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 40), st.integers(1, 40), st.just(3))))
def test_any_image_is_partitioned_into_named_colour_regions(image):
    prediction = segment_colours(image)
    masks = np.stack([region.mask for region in prediction.regions])
    assert masks.shape[1:] == image.shape[:2]
    assert (masks.sum(axis=0) == 1).all()
    assert {r.concepts[0].name for r in prediction.regions} <= COLOUR_NAMES


# --- detection -------------------------------------------------------------------------------

ASTRONAUT_FACE = Box(top=0.13, left=0.35, bottom=0.31, right=0.53)  # checked by eye


def test_detection_finds_the_astronauts_face(testdata):
    prediction = detect_objects(photo(testdata, "astronaut.png"))
    faces = regions_named(prediction, "face")
    assert len(faces) == 1
    box = faces[0].box
    assert 0.3 <= (box.left + box.right) / 2 <= 0.6
    assert 0.1 <= (box.top + box.bottom) / 2 <= 0.45
    assert iou(box, ASTRONAUT_FACE) > 0.6
    assert 0.5 < faces[0].concepts[0].value <= 1.0
    assert faces[0].concepts[0].id == "local-face"
    assert not regions_named(prediction, "cat face")


def test_detection_finds_the_cat_face_filling_the_frame(testdata):
    prediction = detect_objects(photo(testdata, "chelsea.png"))
    cat_faces = regions_named(prediction, "cat face")
    assert len(cat_faces) == 1
    box = cat_faces[0].box
    for x, y in [(0.38, 0.38), (0.70, 0.45), (0.58, 0.80)]:  # both eyes and the nose
        assert contains(box, x, y), (x, y)
    assert 0.0 < cat_faces[0].concepts[0].value <= 1.0
    assert not regions_named(prediction, "face")


@pytest.mark.parametrize("name", ["coffee.png", "metro-north.jpg"])
def test_detection_finds_no_face_where_there_is_none(testdata, name):
    prediction = detect_objects(photo(testdata, name))
    assert not regions_named(prediction, "face")
    assert not regions_named(prediction, "cat face")


def test_detection_boxes_are_fractions_of_the_full_image_at_any_size(testdata):
    astronaut = photo(testdata, "astronaut.png")
    large = cv2.resize(astronaut, (1800, 1800), interpolation=cv2.INTER_CUBIC)
    [face] = regions_named(detect_objects(large), "face")
    assert iou(face.box, ASTRONAUT_FACE) > 0.6


def test_detection_finds_two_faces_side_by_side_in_a_wide_image(testdata):
    astronaut = photo(testdata, "astronaut.png")
    pair = np.hstack([astronaut, cv2.flip(astronaut, 1)])
    faces = sorted(regions_named(detect_objects(pair), "face"), key=lambda r: r.box.left)
    assert len(faces) == 2
    left, right = faces[0].box, faces[1].box
    assert iou(left, Box(0.13, 0.35 / 2, 0.31, 0.53 / 2)) > 0.5
    assert iou(right, Box(0.13, 0.5 + 0.47 / 2, 0.31, 0.5 + 0.65 / 2)) > 0.5


def test_detection_regions_are_sorted_in_range_and_not_duplicated(testdata):
    astronaut = photo(testdata, "astronaut.png")
    pair = np.hstack([astronaut, cv2.flip(astronaut, 1)])
    regions = detect_objects(pair).regions
    scores = [r.concepts[0].value for r in regions]
    assert scores == sorted(scores, reverse=True)
    for region in regions:
        assert region.mask is None and not region.box.is_empty
        box = region.box
        assert all(0.0 <= v <= 1.0 for v in (box.top, box.left, box.bottom, box.right))
        assert region.concepts[0].name in offline.DETECTION_CONCEPTS
    for i, a in enumerate(regions):
        for b in regions[i + 1 :]:
            if a.concepts[0].name == b.concepts[0].name:
                assert iou(a.box, b.box) <= offline.NMS_OVERLAP


def test_overlapping_hits_of_one_class_are_suppressed(monkeypatch):
    hits = [
        offline._Hit(0.10, 0.10, 0.40, 0.40, weight=60.0),
        offline._Hit(0.12, 0.11, 0.41, 0.42, weight=55.0),  # the same face again, weaker
        offline._Hit(0.60, 0.60, 0.80, 0.80, weight=58.0),
    ]
    monkeypatch.setattr(offline, "_run_cascade", lambda *args, **kwargs: list(hits))
    prediction = detect_objects(np.zeros((100, 100, 3), np.uint8), PredictSettings(select_concepts=("face",)))
    boxes = sorted((r.box.left, r.box.top) for r in prediction.regions)
    assert boxes == [(0.10, 0.10), (0.60, 0.60)]


def test_confidence_grows_with_the_margin_and_stays_below_certainty():
    cascade = offline._load_cascade("haarcascade_frontalface_alt2.xml")
    threshold, best = cascade.last_stage_threshold, cascade.last_stage_best_sum
    span = best - threshold
    weights = [threshold - 5, threshold, threshold + 0.02 * span, threshold + 0.1 * span, best]
    scores = [offline._confidence(cascade, w) for w in weights]
    assert scores[0] == scores[1] == 0.0
    assert scores == sorted(scores) and len(set(scores[1:])) == 4
    assert max(scores) == offline.MAX_CONFIDENCE < 1.0  # never certain


def test_detection_honours_select_concepts_min_value_and_max_concepts(testdata):
    astronaut = photo(testdata, "astronaut.png")
    pair = np.hstack([astronaut, cv2.flip(astronaut, 1)])
    assert not detect_objects(astronaut, PredictSettings(select_concepts=("cat face",))).regions
    only_faces = detect_objects(pair, PredictSettings(select_concepts=(" FACE",)))
    assert len(only_faces.regions) == 2
    assert len(detect_objects(pair, PredictSettings(max_concepts=1)).regions) == 1
    top_score = only_faces.regions[0].concepts[0].value
    assert not detect_objects(pair, PredictSettings(min_value=min(1.0, top_score + 1e-6))).regions
    assert len(detect_objects(pair, PredictSettings(min_value=top_score)).regions) >= 1


def test_detection_is_repeatable(testdata):
    image = photo(testdata, "chelsea.png")
    first, second = detect_objects(image), detect_objects(image)
    assert [(r.concepts, r.box) for r in first.regions] == [(r.concepts, r.box) for r in second.regions]


def test_detection_from_several_threads_matches_one_thread(testdata):
    images = [photo(testdata, name) for name in ("astronaut.png", "chelsea.png", "coffee.png")] * 2
    def detections(image):
        return [(r.concepts, r.box) for r in detect_objects(image).regions]

    expected = [detections(image) for image in images]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(detections, images)) == expected


# --- detection: the objects a visitor sees first ------------------------------------------------
# Where things are in the 1024x768 samples, measured from the painting code in
# components/samples.py, with the colour each was painted (the main one, for striped ones) and
# the shape word expected ("round object", "object", or None when either is fair).


def painted(x0: float, y0: float, x1: float, y1: float, width: int = 1024, height: int = 768) -> Box:
    return Box.from_xyxy(x0, y0, x1, y1, width, height)


SAMPLE_OBJECTS = {
    "street": [
        ("#d62828", "object", painted(70, 558, 290, 679)),  # cars: x..x+220, roof y-42, wheels to y+79
        ("#1d4ed8", "object", painted(420, 570, 640, 691)),
        ("#f7c815", "object", painted(760, 556, 980, 677)),
        ("#37a047", "round object", painted(67, 320, 230, 473)),  # tree crowns: three discs each
        ("#37a047", "round object", painted(527, 320, 690, 473)),
        ("#f4c542", "object", painted(180, 150, 360, 520)),  # the yellow and the orange house
        ("#e67e22", "object", painted(700, 240, 860, 520)),
    ],
    "balloons": [  # envelopes: centre x ± r, from centre y - r down to the neck at centre y + 1.45 r
        ("#e63946", None, painted(190, 190, 410, 460)),
        ("#2a9d8f", None, painted(620, 180, 780, 376)),
        ("#8e44ad", None, painted(820, 410, 920, 533)),
        ("#ff6f00", None, painted(482, 482, 558, 575)),
    ],
    "fruit": [
        ("#d7263d", "round object", painted(263, 388, 427, 552)),  # apple
        ("#f28c28", "round object", painted(434, 414, 606, 586)),  # orange
        ("#7a1f5c", "round object", painted(183, 498, 307, 622)),  # plum
        ("#b5172a", "round object", painted(568, 518, 712, 662)),  # the other apple
        ("#f7e03c", None, painted(339, 581, 501, 679)),  # lemon, with its pointed ends
        ("#8fc93a", None, painted(662, 426, 841, 528)),  # grapes, as placed by the sample's seeded generator
    ],
}
BANANA = painted(272, 360, 768, 471)  # the whole arc; the apple and the orange hide part of it
# Where nothing should be found: sky, road, wall, table, sea, hills (and the sun's glitter on the sea).
SAMPLE_BACKGROUNDS = {
    "street": [painted(0, 0, 1024, 148), painted(0, 692, 1024, 768)],
    "balloons": [painted(0, 0, 1024, 175), painted(0, 600, 1024, 768)],
    "fruit": [
        painted(0, 0, 1024, 300), painted(0, 690, 1024, 768), painted(0, 300, 170, 768), painted(860, 300, 1024, 768)
    ],
    "sunset": [
        painted(0, 0, 1024, 340), painted(0, 340, 550, 470), painted(730, 340, 1024, 470), painted(380, 470, 1024, 768)
    ],
}
METRO_NORTH_PERSON = Box(top=0.497, left=0.647, bottom=0.669, right=0.697)  # Clarifai's box for her
RED_TRUCK = Box.from_xyxy(56, 1, 482, 232, 538, 238)  # the opaque pixels of red-truck.png
COFFEE_CUP_TOP = Box.from_xyxy(172, 17, 410, 205, 600, 400)  # measured on coffee.png


def share_inside(box: Box, area: Box) -> float:
    """How much of `box` lies inside `area`."""
    width = max(0.0, min(box.right, area.right) - max(box.left, area.left))
    height = max(0.0, min(box.bottom, area.bottom) - max(box.top, area.top))
    own = (box.right - box.left) * (box.bottom - box.top)
    return width * height / own if own > 0 else 0.0


def describe(regions) -> list[tuple[str, tuple[float, ...]]]:
    """Names and boxes (left, top, right, bottom), for assertion messages."""
    return [(r.concepts[0].name, tuple(round(v, 3) for v in (r.box.left, r.box.top, r.box.right, r.box.bottom)))
            for r in regions]


def painted_colour_names(paint: str) -> set[str]:
    """The named colour of a paint, lit or in the shade the samples paint on round things."""
    colour = Color.from_hex(paint)
    return {name_colour(colour), name_colour(Color(*(round(0.75 * v) for v in colour)))}


@pytest.mark.parametrize("key", list(SAMPLE_OBJECTS))
def test_detection_finds_the_obvious_objects_in_each_sample_where_they_are(key):
    regions = detect_objects(sample_picture(key)).regions
    for paint, shape, where in SAMPLE_OBJECTS[key]:
        shapes = [shape] if shape else ["object", "round object"]
        names = {f"{colour} {s}" for colour in painted_colour_names(paint) for s in shapes}
        matches = [r for r in regions if r.concepts[0].name in names and iou(r.box, where) > 0.5]
        assert matches, (paint, names, where, describe(regions))


def test_detection_finds_the_banana_where_it_shows():
    yellow = regions_named(detect_objects(sample_picture("fruit")), "yellow object")
    assert any(share_inside(r.box, BANANA) > 0.8 and (r.box.right - r.box.left) > 0.1 for r in yellow), describe(yellow)


@pytest.mark.parametrize("key", list(SAMPLE_BACKGROUNDS))
def test_detection_finds_nothing_on_the_samples_sky_road_table_or_sea(key):
    regions = detect_objects(sample_picture(key)).regions
    for region in regions:
        for area in SAMPLE_BACKGROUNDS[key]:
            assert share_inside(region.box, area) < 0.5, (describe([region]), area)


@pytest.mark.parametrize("key", ["street", "sunset", "fruit", "balloons"])
def test_detection_scores_are_below_certainty_and_ranked(key):
    regions = detect_objects(sample_picture(key)).regions
    scores = [r.concepts[0].value for r in regions]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < score < 1.0 for score in scores)
    colour_scores = [score for r, score in zip(regions, scores) if r.concepts[0].name.endswith("object")]
    assert all(score <= offline.MAX_COLOUR_SCORE for score in colour_scores)


def test_detection_finds_the_person_on_the_metro_north_platform(testdata):
    prediction = detect_objects(photo(testdata, "metro-north.jpg"))
    [person] = regions_named(prediction, "person")
    assert iou(person.box, METRO_NORTH_PERSON) > 0.5
    assert 0.3 < person.concepts[0].value < 1.0
    assert person.concepts[0].id == "local-person"
    # her red coat is part of her, not a second object
    assert not any(share_inside(r.box, person.box) > 0.5 for r in prediction.regions if r is not person)


def test_a_person_filling_the_picture_is_found_by_the_whole_picture_search(testdata):
    crop = photo(testdata, "metro-north.jpg")[170:275, 300:390]  # 90x105 px around her
    enlarged = cv2.resize(crop, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    gray = cv2.cvtColor(enlarged, cv2.COLOR_BGR2GRAY)
    [(box, score)] = offline._find_people(gray, upright=[])  # no region to look around: the search alone
    assert iou(box, Box.from_xyxy(31, 21, 57, 87, 90, 105)) > 0.5
    assert 0.3 < score < 1.0


def test_detection_finds_the_red_truck(testdata):
    truck = prepare_upload("red-truck.png", (testdata / "photos" / "red-truck.png").read_bytes()).pixels()
    regions = detect_objects(truck).regions
    best = max(regions, key=lambda r: iou(r.box, RED_TRUCK))
    assert iou(best.box, RED_TRUCK) > 0.7, describe(regions)
    assert best.concepts[0].name in {"red object", "dark red object"}


def test_detection_finds_the_top_of_the_coffee_cup(testdata):
    regions = detect_objects(photo(testdata, "coffee.png")).regions
    assert any(iou(r.box, COFFEE_CUP_TOP) > 0.5 for r in regions), describe(regions)


def quiet_sky(width: int = 640, height: int = 480) -> np.ndarray:
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top, bottom = np.array([217, 111, 30], np.float32), np.array([245, 215, 160], np.float32)  # BGR
    return np.repeat(top * (1 - rows) + bottom * rows, width, axis=1)


def wood_grain(width: int = 640, height: int = 480) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    grain = 0.5 + 0.5 * np.sin(ys / 6.0 + 3.0 * np.sin(xs / 140.0))
    return np.array([43, 90, 139], np.float32) * (0.88 + 0.12 * grain)[..., None]


def noisy_jpeg(picture: np.ndarray, seed: int = 3, amount: float = 3.0) -> np.ndarray:
    """Grain, then a JPEG round trip, as a photo would have."""
    noise = np.random.default_rng(seed).normal(0, amount, picture.shape[:2])[..., None]
    image = np.clip(picture + noise, 0, 255).astype(np.uint8)
    return cv2.imdecode(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])[1], cv2.IMREAD_COLOR)


def colour_sweep(width: int = 640, height: int = 200) -> np.ndarray:
    hue = np.tile(np.linspace(0, 179, width, dtype=np.float32), (height, 1)).astype(np.uint8)
    hsv = np.dstack([hue, np.full_like(hue, 200), np.full_like(hue, 220)])
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def vignette(width: int = 640, height: int = 480) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    distance = np.hypot((xs - width / 2) / width, (ys - height / 2) / height)
    return np.repeat((230 - 160 * distance)[..., None], 3, axis=2)


PLAIN_BACKGROUNDS = {
    "sky gradient": lambda: noisy_jpeg(quiet_sky()),
    "wood grain": lambda: noisy_jpeg(wood_grain()),
    "grey with grain": lambda: noisy_jpeg(np.full((480, 640, 3), 128, np.float32), amount=8.0),
    "colour sweep": colour_sweep,
    "vignette": lambda: noisy_jpeg(vignette()),
    "the fruit sample's wall and table": lambda: sample_picture("fruit")[:330],
    "the balloons sample's sky": lambda: sample_picture("balloons")[:100],
    "the sunset sample's sky": lambda: sample_picture("sunset")[:130],
}


@pytest.mark.parametrize("name", list(PLAIN_BACKGROUNDS))
def test_detection_finds_nothing_on_plain_backgrounds(name):
    assert detect_objects(PLAIN_BACKGROUNDS[name]()).regions == ()


def test_the_sky_seen_through_a_tree_is_not_an_object(testdata):
    tree = prepare_upload("4.webp", (testdata / "formats" / "4.webp").read_bytes()).pixels()  # white blossom, blue sky
    assert detect_objects(tree).regions == ()


# The colour pass on drawn shapes: a 400x300 grey picture, shapes drawn anti-aliased.
def grey_picture() -> np.ndarray:
    return np.full((300, 400, 3), 128, np.uint8)


def test_a_sharp_disc_is_a_round_object_named_by_its_colour():
    image = grey_picture()
    cv2.circle(image, (200, 150), 60, RED, -1, cv2.LINE_AA)
    [region] = detect_objects(image).regions
    assert region.concepts[0].name == "red round object"
    assert region.concepts[0].id == "local-red-round-object"
    assert iou(region.box, Box.from_xyxy(140, 90, 260, 210, 400, 300)) > 0.85
    assert 0.5 < region.concepts[0].value <= offline.MAX_COLOUR_SCORE


def pink_cloud(blur: float) -> np.ndarray:
    """A pink disc in a blue sky, 1024x768, its edge blurred by `blur` px (the samples' clouds: 6)."""
    image = np.full((768, 1024, 3), (230, 160, 60), np.uint8)
    cv2.circle(image, (500, 380), 150, (180, 120, 250), -1, cv2.LINE_AA)
    return cv2.GaussianBlur(image, (0, 0), blur) if blur else image


@pytest.mark.parametrize("blur", [0, 2])
def test_a_sharp_edged_disc_in_the_sky_is_an_object(blur):
    [region] = detect_objects(pink_cloud(blur)).regions
    assert region.concepts[0].name == "pink round object"
    assert iou(region.box, Box.from_xyxy(350, 230, 651, 531, 1024, 768)) > 0.9


@pytest.mark.parametrize("blur", [4, 6, 12])
def test_a_soft_edged_blob_is_not_an_object(blur):
    assert detect_objects(pink_cloud(blur)).regions == ()


def test_a_shaded_ball_is_one_object():
    image = grey_picture().astype(np.float32)
    ys, xs = np.mgrid[0:300, 0:400].astype(np.float32)
    inside = np.hypot(xs - 200, ys - 150) <= 70
    light = np.clip(1.15 - np.hypot(xs - 175, ys - 125) / 110, 0.35, 1.0)  # lit from the upper left
    image[inside] = (np.array([40, 60, 220], np.float32) * light[..., None])[inside]
    [region] = detect_objects(image.astype(np.uint8)).regions
    assert region.concepts[0].name.endswith("round object")
    assert iou(region.box, Box.from_xyxy(130, 80, 271, 221, 400, 300)) > 0.8


def test_a_striped_disc_is_one_object():
    image = np.full((300, 400, 3), (230, 160, 60), np.uint8)  # a blue sky
    disc = np.zeros((300, 400), np.uint8)
    cv2.circle(disc, (200, 150), 80, 1, -1)
    stripe = (np.arange(400) - 120) // 32 % 2  # red and yellow bands 32 px wide
    image[(disc == 1) & (stripe == 0)[None, :]] = RED
    image[(disc == 1) & (stripe == 1)[None, :]] = (40, 210, 240)
    [region] = detect_objects(image).regions
    assert region.concepts[0].name == "red round object"
    assert iou(region.box, Box.from_xyxy(120, 70, 281, 231, 400, 300)) > 0.85


def test_two_touching_things_of_different_colours_are_two_objects():
    image = grey_picture()
    cv2.circle(image, (140, 150), 60, RED, -1, cv2.LINE_AA)
    cv2.circle(image, (260, 150), 60, (0, 140, 255), -1, cv2.LINE_AA)  # orange, touching it
    found = {r.concepts[0].name: r.box for r in detect_objects(image).regions}
    assert set(found) == {"red round object", "orange round object"}
    assert iou(found["red round object"], Box.from_xyxy(80, 90, 200, 210, 400, 300)) > 0.8
    assert iou(found["orange round object"], Box.from_xyxy(200, 90, 320, 210, 400, 300)) > 0.8


def test_a_band_across_the_picture_is_background_not_an_object():
    image = grey_picture()
    image[120:180] = RED
    assert detect_objects(image).regions == ()


def test_colour_objects_are_selected_by_full_name_or_by_shape():
    fruit = sample_picture("fruit")
    names = [r.concepts[0].name for r in detect_objects(fruit).regions]
    round_ones = [name for name in names if name.endswith(" round object")]
    assert round_ones and len(round_ones) < len(names)

    def selected(*wanted: str) -> list[str]:
        return [r.concepts[0].name for r in detect_objects(fruit, PredictSettings(select_concepts=wanted)).regions]

    assert sorted(selected("round object")) == sorted(round_ones)
    assert sorted(selected("Object")) == sorted(names)
    assert selected(" Purple round object") == ["purple round object"]
    assert selected("face", "cat face") == []


def test_the_detector_says_only_what_a_local_model_can_tell():
    vocabulary = set(offline.DETECTION_CONCEPTS)
    assert {"face", "cat face", "person", "licence plate"} <= vocabulary
    for colour in NAMED_COLOURS:
        assert {f"{colour.name} object", f"{colour.name} round object"} <= vocabulary
    assert all(name == name.strip().lower() and len(name.split()) <= 4 for name in vocabulary)
    model = Task.DETECTION.spec.offline
    assert model is offline.LOCAL_DETECTOR
    assert "red round object" in model.description and "people" in model.description
    assert "colour" in model.nothing_found_hint
    for key in SAMPLE_OBJECTS:
        assert {r.concepts[0].name for r in detect_objects(sample_picture(key)).regions} <= vocabulary


# --- captioning ------------------------------------------------------------------------------


def test_captioning_says_it_needs_a_clarifai_model():
    assert Task.CAPTIONING.spec.offline is None
    assert Task.CAPTIONING.spec.offline_unavailable == (
        "Captioning needs a Clarifai model: there is no local captioning model. Add a Clarifai key in the "
        "sidebar (or choose the Clarifai backend) to get captions."
    )


def test_captioning_offline_gives_every_image_the_error():
    images = [prepare_upload(f"{name}.png", png_bytes(red_and_blue())) for name in ("a", "b")]
    outcome = run_predictions(RunPlan(Task.CAPTIONING, OFFLINE), images)
    assert len(outcome.results) == 2
    for result in outcome.results:
        assert not result.ok and result.prediction is None
        assert isinstance(result.error, OfflineUnsupportedError)
        assert str(result.error) == Task.CAPTIONING.spec.offline_unavailable


# --- predict_offline and robustness ----------------------------------------------------------


def test_predict_offline_returns_one_result_per_image_in_order():
    images = [np.full((50, 50, 3), RED, np.uint8), np.full((50, 50, 3), BLUE, np.uint8), red_and_blue()]
    results = predict_offline(Task.CLASSIFICATION.spec.offline, images, PredictSettings(max_concepts=1))
    assert [r.prediction.concepts[0].name for r in results] == ["red", "blue", "red"]


def test_a_broken_image_fails_alone():
    good = red_and_blue()
    images = [good, np.zeros((0, 0, 3), np.uint8), np.zeros((8, 8, 2), np.uint8), good]
    for task in LOCAL_TASKS:
        results = predict_offline(task.spec.offline, images, PredictSettings())
        assert [r.ok for r in results] == [True, False, False, True], task
        for broken in results[1:3]:
            assert isinstance(broken.error, AppError)
            assert broken.error.message and "local model" in broken.error.message


def test_an_unexpected_opencv_error_becomes_a_message_for_that_image_only(monkeypatch):
    real_downscale = offline._downscale

    def downscale_failing_on_odd_widths(image, longest_side):
        if image.shape[1] % 2:
            raise cv2.error("simulated failure")
        return real_downscale(image, longest_side)

    monkeypatch.setattr(offline, "_downscale", downscale_failing_on_odd_widths)
    images = [np.zeros((20, width, 3), np.uint8) for width in (20, 21, 22)]
    for task in LOCAL_TASKS:
        results = predict_offline(task.spec.offline, images, PredictSettings())
        assert [r.ok for r in results] == [True, False, True], task
        assert isinstance(results[1].error, AppError)
        assert "simulated" not in str(results[1].error)
        assert "Clarifai backend" in str(results[1].error)


ODD_IMAGES = {
    "1x1": np.full((1, 1, 3), 200, np.uint8),
    "2x2": np.array([[[0, 0, 255], [255, 0, 0]], [[0, 255, 0], [255, 255, 255]]], np.uint8),
    "single colour": np.full((240, 320, 3), (40, 160, 90), np.uint8),
    "gray 2-D": np.tile(np.arange(256, dtype=np.uint8), (64, 1)),
    "gray-looking colour": cv2.cvtColor(np.tile(np.arange(256, dtype=np.uint8), (64, 1)), cv2.COLOR_GRAY2BGR),
    "very wide": np.random.default_rng(1).integers(0, 256, (3, 6000, 3), dtype=np.uint8),
    "very tall": np.random.default_rng(2).integers(0, 256, (6000, 2, 3), dtype=np.uint8),
    "BGRA": np.dstack([red_and_blue(64, 48), np.full((48, 64), 128, np.uint8)]),
    "16-bit": (red_and_blue(64, 48).astype(np.uint16) * 257),
    "float 0-1": red_and_blue(64, 48).astype(np.float32) / 255,
    "non-contiguous view": red_and_blue(400, 300)[::3, ::-2],
    "two colours, k-means asks for more": red_and_blue(200, 200),
}


@pytest.mark.parametrize("task", LOCAL_TASKS)
@pytest.mark.parametrize("name", list(ODD_IMAGES))
def test_odd_images_still_get_a_prediction(task, name):
    [result] = predict_offline(task.spec.offline, [ODD_IMAGES[name]], PredictSettings())
    assert result.ok, result.error
    if task is Task.CLASSIFICATION:
        assert sum(values(result.prediction).values()) == pytest.approx(1.0)
    if task is Task.SEGMENTATION:
        assert sum(region_shares(result.prediction).values()) == pytest.approx(1.0)


def test_a_single_colour_image_is_one_region_and_one_concept():
    image = ODD_IMAGES["single colour"]
    assert values(classify_colours(image)) == {"green": pytest.approx(1.0)}
    assert region_shares(segment_colours(image)) == {"green": pytest.approx(1.0)}
    assert detect_objects(image).regions == ()


def test_colour_formats_are_read_as_the_same_picture():
    expected = values(classify_colours(red_and_blue(64, 48)))
    for name in ("BGRA", "16-bit", "float 0-1"):
        assert values(classify_colours(ODD_IMAGES[name])) == pytest.approx(expected), name


def test_rounded_upright_shapes_are_not_taken_for_people():
    prediction = detect_objects(sample_picture("balloons"))
    assert prediction.regions  # the balloons are found, as what they look like
    assert not regions_named(prediction, "person")


# --- the other local models, for comparing local models against each other ---------------------------


def test_every_local_model_is_labelled_as_local_and_gives_its_own_answer(testdata):
    for task in LOCAL_TASKS:
        models = task.spec.local_models
        assert models[0] is task.spec.offline and len(models) >= 2
        for model in models:
            assert model.name.endswith("(local OpenCV)") and "no Clarifai call" in model.description
        assert len({model.name for model in models}) == len(models)


def test_the_colour_histogram_names_every_pixel():
    image = red_and_blue()
    prediction = offline.COLOUR_HISTOGRAM.predict(image, PredictSettings())
    assert values(prediction) == {"red": pytest.approx(0.7, abs=0.02), "blue": pytest.approx(0.3, abs=0.02)}
    assert prediction.model_label == offline.COLOUR_HISTOGRAM.name


def test_the_cascades_alone_find_the_face_and_no_people_or_colours(testdata):
    astronaut = photo(testdata, "astronaut.png")
    found = {r.top_concept.name for r in offline.CASCADE_DETECTOR.predict(astronaut, PredictSettings()).regions}
    assert found == {"face"}
    metro = offline.CASCADE_DETECTOR.predict(photo(testdata, "metro-north.jpg"), PredictSettings())
    assert all(r.top_concept.name in {"face", "cat face", "licence plate"} for r in metro.regions), "no people, no colours"


def test_the_fine_segmenter_finds_more_regions_than_the_default(testdata):
    image = photo(testdata, "coffee.png")
    default = segment_colours(image)
    fine = offline.FINE_COLOUR_SEGMENTER.predict(image, PredictSettings())
    assert len(fine.regions) > len(default.regions)
    assert sum(region_shares(fine).values()) == pytest.approx(1.0)
