"""The Compare page under AppTest: local models against each other offline, and Clarifai models (a
classic classifier against a prompted VLM) against the local Clarifai server."""

from __future__ import annotations

import numpy as np

from components.tasks import Task
from tests.apptest import no_traceback, open_page, page_text, predict, upload
from tests.conftest import TEST_KEY
from tests.helpers import png_bytes, scene_with_square

COMPARE = "app_pages/7_Compare.py"
SQUARE = ("square.png", png_bytes(scene_with_square()))


def summary(at):
    [table] = [t.value for t in at.dataframe if "Model" in t.value.columns]
    return table


def open_compare(key: str | None = None):
    at = open_page("home", key=key)
    return at.switch_page(COMPARE).run()


def test_two_local_detectors_side_by_side_offline(offline_env, testdata):
    at = open_compare()
    no_traceback(at)
    assert at.selectbox(key="compare_local_detection_0").value != at.selectbox(key="compare_local_detection_1").value
    at = predict(upload(at, ("astronaut.png", (testdata / "photos" / "astronaut.png").read_bytes())))
    no_traceback(at)
    table = summary(at)
    assert len(table) == 2 and table["With results"].tolist() == [1, 1]
    text = page_text(at)
    assert "Agreement over all images" in text
    assert "Every model found: face" in text, "both find the astronaut's face"


def test_a_classic_classifier_against_a_prompted_vlm(clarifai_env):
    at = open_compare(key=TEST_KEY)
    at.segmented_control(key="compare_task").set_value(Task.CLASSIFICATION).run()
    at.selectbox(key="compare_model_classification_1").set_value("clarifai/main/mm-poly-8b").run()
    at = at.text_area(key="classification_labels").input("red, gray, landscape, dog").run()
    at = predict(upload(at, SQUARE))
    no_traceback(at)
    models = {call.model_path for call in clarifai_env.prediction_calls()}
    assert models == {"clarifai/main/general-image-recognition", "clarifai/main/mm-poly-8b"}
    assert summary(at)["Clarifai calls"].tolist() == [1, 1]
    assert "Agreement over all images" in page_text(at)
    assert any("Only this model" in m.value for m in at.markdown)


def test_a_second_run_says_its_answers_came_from_the_cache(clarifai_env):
    at = open_compare(key=TEST_KEY)
    at.segmented_control(key="compare_task").set_value(Task.CLASSIFICATION).run()
    at = predict(upload(at, SQUARE))
    first = summary(at)
    assert first["Clarifai calls"].tolist() == [1, 1] and first["From cache"].tolist() == [0, 0]
    at = predict(at)
    no_traceback(at)
    again = summary(at)
    assert again["Clarifai calls"].tolist() == [0, 0] and again["From cache"].tolist() == [1, 1]


def test_when_no_model_finds_anything_no_agreement_is_claimed(offline_env):
    at = open_compare()
    blank = ("blank.png", png_bytes(np.full((240, 320, 3), 128, np.uint8)))  # nothing to detect
    at = predict(upload(at, blank))
    no_traceback(at)
    text = page_text(at)
    assert "No model found anything on these images" in text and "no model found anything" in text
    assert "Agreement" not in text and "agreement 0%" not in text and "100%" not in text
