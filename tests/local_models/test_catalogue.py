"""The local models' catalogue: labels, tasks without a local model, predicting over images and
its failures, and the other local models."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from components.errors import AppError, LocalUnsupportedError
from components.images.preparation import prepare_upload
from components.local_models.catalogue import CASCADE_DETECTOR, COLOR_HISTOGRAM, FINE_COLOR_SEGMENTER, predict_local
from components.local_models.classifier import classify_colors
from components.local_models.common import downscale
from components.local_models.detector import detect_objects
from components.local_models.segmenter import segment_colors
from components.models import PredictSettings
from components.run.backend import Backend, RunPlan, run_predictions
from components.tasks import Task
from tests.helpers import png_bytes
from tests.local_models.pictures import (
    BLUE,
    RED,
    photo,
    red_and_blue,
    region_shares,
    regions_named,
    sample_picture,
    values,
)

LOCAL_TASKS = (Task.CLASSIFICATION, Task.DETECTION, Task.SEGMENTATION)


# --- labels ----------------------------------------------------------------------------------


def test_local_models_are_labelled_as_local_opencv_and_never_as_clarifai():
    assert {task for task in Task if task.spec.local_model is not None} == set(LOCAL_TASKS)
    for task in LOCAL_TASKS:
        model = task.spec.local_model
        assert model.name.endswith("(local OpenCV)")
        assert "clarifai" not in model.name.lower()
        assert "no Clarifai call" in model.description
        assert "\n" not in model.description


@pytest.mark.parametrize("task", LOCAL_TASKS)
def test_predictions_carry_the_local_model_name_and_no_raw_output(task):
    [result] = predict_local(task.spec.local_model, [red_and_blue()], PredictSettings())
    assert result.ok
    assert result.prediction.model_label == task.spec.local_model.name
    assert result.prediction.raw is None
    assert result.prediction.status.ok

# --- captioning ------------------------------------------------------------------------------


def test_captioning_says_it_needs_a_clarifai_model():
    assert Task.CAPTIONING.spec.local_model is None
    assert Task.CAPTIONING.spec.no_local_model == (
        "Captioning needs a Clarifai model: there is no local captioning model. Add a Clarifai key in the "
        "sidebar (or choose the Clarifai backend) to get captions."
    )


def test_captioning_offline_gives_every_image_the_error():
    images = [prepare_upload(f"{name}.png", png_bytes(red_and_blue())) for name in ("a", "b")]
    outcome = run_predictions(RunPlan(Task.CAPTIONING, Backend.LOCAL), images)
    assert len(outcome.results) == 2
    for result in outcome.results:
        assert not result.ok and result.prediction is None
        assert isinstance(result.error, LocalUnsupportedError)
        assert str(result.error) == Task.CAPTIONING.spec.no_local_model


# --- predict_local and robustness ------------------------------------------------------------


def test_predict_offline_returns_one_result_per_image_in_order():
    images = [np.full((50, 50, 3), RED, np.uint8), np.full((50, 50, 3), BLUE, np.uint8), red_and_blue()]
    results = predict_local(Task.CLASSIFICATION.spec.local_model, images, PredictSettings(max_concepts=1))
    assert [r.prediction.concepts[0].name for r in results] == ["red", "blue", "red"]


def test_a_broken_image_fails_alone():
    good = red_and_blue()
    images = [good, np.zeros((0, 0, 3), np.uint8), np.zeros((8, 8, 2), np.uint8), good]
    for task in LOCAL_TASKS:
        results = predict_local(task.spec.local_model, images, PredictSettings())
        assert [r.ok for r in results] == [True, False, False, True], task
        for broken in results[1:3]:
            assert isinstance(broken.error, AppError)
            assert broken.error.message and "local model" in broken.error.message


def test_an_unexpected_opencv_error_becomes_a_message_for_that_image_only(monkeypatch):
    real_downscale = downscale

    def downscale_failing_on_odd_widths(image, longest_side):
        if image.shape[1] % 2:
            raise cv2.error("simulated failure")
        return real_downscale(image, longest_side)

    for module in ("classifier", "segmenter", "detector", "cascades"):  # every module that calls it
        monkeypatch.setattr(f"components.local_models.{module}.downscale", downscale_failing_on_odd_widths)
    images = [np.zeros((20, width, 3), np.uint8) for width in (20, 21, 22)]
    for task in LOCAL_TASKS:
        results = predict_local(task.spec.local_model, images, PredictSettings())
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
    [result] = predict_local(task.spec.local_model, [ODD_IMAGES[name]], PredictSettings())
    assert result.ok, result.error
    if task is Task.CLASSIFICATION:
        assert sum(values(result.prediction).values()) == pytest.approx(1.0)
    if task is Task.SEGMENTATION:
        assert sum(region_shares(result.prediction).values()) == pytest.approx(1.0)


def test_a_single_color_image_is_one_region_and_one_concept():
    image = ODD_IMAGES["single colour"]
    assert values(classify_colors(image)) == {"green": pytest.approx(1.0)}
    assert region_shares(segment_colors(image)) == {"green": pytest.approx(1.0)}
    assert detect_objects(image).regions == ()


def test_color_formats_are_read_as_the_same_picture():
    expected = values(classify_colors(red_and_blue(64, 48)))
    for name in ("BGRA", "16-bit", "float 0-1"):
        assert values(classify_colors(ODD_IMAGES[name])) == pytest.approx(expected), name


def test_rounded_upright_shapes_are_not_taken_for_people():
    prediction = detect_objects(sample_picture("balloons"))
    assert prediction.regions  # the balloons are found, as what they look like
    assert not regions_named(prediction, "person")


# --- the other local models, for comparing local models against each other ---------------------------


def test_every_local_model_is_labelled_as_local_and_gives_its_own_answer(testdata):
    for task in LOCAL_TASKS:
        models = task.spec.local_models
        assert models[0] is task.spec.local_model and len(models) >= 2
        for model in models:
            assert model.name.endswith("(local OpenCV)") and "no Clarifai call" in model.description
        assert len({model.name for model in models}) == len(models)


def test_the_color_histogram_names_every_pixel():
    image = red_and_blue()
    prediction = COLOR_HISTOGRAM.predict(image, PredictSettings())
    assert values(prediction) == {"red": pytest.approx(0.7, abs=0.02), "blue": pytest.approx(0.3, abs=0.02)}
    assert prediction.model_label == COLOR_HISTOGRAM.name


def test_the_cascades_alone_find_the_face_and_no_people_or_colors(testdata):
    astronaut = photo(testdata, "astronaut.png")
    found = {r.top_concept.name for r in CASCADE_DETECTOR.predict(astronaut, PredictSettings()).regions}
    assert found == {"face"}
    metro = CASCADE_DETECTOR.predict(photo(testdata, "metro-north.jpg"), PredictSettings())
    assert all(r.top_concept.name in {"face", "cat face", "licence plate"} for r in metro.regions), "no people, no colours"


def test_the_fine_segmenter_finds_more_regions_than_the_default(testdata):
    image = photo(testdata, "coffee.png")
    default = segment_colors(image)
    fine = FINE_COLOR_SEGMENTER.predict(image, PredictSettings())
    assert len(fine.regions) > len(default.regions)
    assert sum(region_shares(fine).values()) == pytest.approx(1.0)
