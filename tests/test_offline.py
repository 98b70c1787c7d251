"""Local OpenCV models: named colours, colour regions, Haar detections, and their failures."""

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

from components import offline
from components.backend import OFFLINE, RunPlan, run_predictions
from components.colors import Color
from components.errors import AppError, OfflineUnsupportedError
from components.images import prepare_upload
from components.models import PredictSettings
from components.offline import (
    NAMED_COLOURS,
    ciede2000,
    classify_colours,
    detect_objects,
    name_colour,
    predict_offline,
    segment_colours,
)
from components.results import Box
from components.tasks import Task
from tests.helpers import png_bytes

RED, BLUE, GREEN = (0, 0, 255), (255, 0, 0), (0, 255, 0)  # BGR
COLOUR_NAMES = {colour.name for colour in NAMED_COLOURS}
LOCAL_TASKS = (Task.CLASSIFICATION, Task.DETECTION, Task.SEGMENTATION)


def photo(testdata: Path, name: str) -> np.ndarray:
    image = cv2.imread(str(testdata / "photos" / name))
    assert image is not None, name
    return image


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
    from components.samples import sample_bytes

    balloons = cv2.imdecode(np.frombuffer(sample_bytes("balloons"), np.uint8), cv2.IMREAD_COLOR)
    assert not detect_objects(balloons).regions
