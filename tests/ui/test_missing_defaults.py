"""A Clarifai whose catalogue lacks the app's default models: each default that does not answer is
replaced by the next suggestion that does and named as such; a task none of whose suggestions
answers gets one calm line with the ways out, not a red box; messages name the missing model."""

from __future__ import annotations

import pytest

from components.clarifai.status import error_for_status
from components.models import ModelRef
from components.tasks import DEEPSEEK_OCR, GENERAL_RECOGNITION, QWEN_VL, SEGMENT_ANYTHING, TASKS, Task
from tests.apptest import as_read, no_traceback, open_page, page_text, photo, predict, upload
from tests.conftest import TEST_KEY
from tests.fake_clarifai import TODAY_CATALOGUE

MISSING = {GENERAL_RECOGNITION.path, QWEN_VL.path, SEGMENT_ANYTHING.path, DEEPSEEK_OCR.path}
UNANSWERED = (Task.SEGMENTATION, Task.OCR)  # their other suggestions are missing or retired too


@pytest.fixture
def without_defaults(clarifai_env):
    clarifai_env.catalogue = [model for model in TODAY_CATALOGUE if model.path not in MISSING]
    return clarifai_env


def errors_on(at) -> list[str]:
    return [as_read(e.value) for e in at.error]


def test_home_names_each_replacement_and_says_calmly_what_to_do_when_none_answers(without_defaults):
    at = open_page("home", key=TEST_KEY)
    no_traceback(at)
    assert len(errors_on(at)) <= 1 and not at.main.error
    [defaults] = [as_read(m.value) for m in at.markdown if m.value.startswith("**Default models**")]
    lines = dict(zip(TASKS, defaults.splitlines()[1:]))
    assert "Using MM-Poly-8B (vision-language): General image recognition does not answer with this key" in lines[Task.CLASSIFICATION]
    assert "Using MM-Poly-8B (vision-language): Qwen2.5-VL 7B (vision-language) does not answer" in lines[Task.DETECTION]
    assert f"“{SEGMENT_ANYTHING.path}” is not available to this key" in lines[Task.SEGMENTATION]
    assert f"“{DEEPSEEK_OCR.path}” is not available to this key" in lines[Task.OCR]
    assert "retired" not in lines[Task.SEGMENTATION] + lines[Task.OCR], "new-style models are not being retired"
    [calm] = [as_read(i.value) for i in at.info if "No suggested model" in i.value]
    assert "Segmentation and Text in the picture" in calm
    assert "Type or paste" in calm and "Search the community" in calm and "clarifai.com/explore/models" in calm
    links = [link.label for link in at.main.get("page_link")]
    assert "Choose a model for Segmentation" in links and "Choose a model for Text in the picture" in links


def test_all_tasks_runs_the_replacements_and_leaves_out_calmly_what_cannot_run(without_defaults, testdata):
    at = open_page("all", key=TEST_KEY)
    no_traceback(at)
    assert len(errors_on(at)) <= 1 and not at.main.error
    text = page_text(at)
    assert "Classification: Using MM-Poly-8B" in text
    assert "Pick another model in the sidebar" not in text, "All tasks' sidebar has no model picker"
    [calm] = [as_read(i.value) for i in at.info if "No suggested model" in i.value]
    assert "Segmentation and Text in the picture" in calm
    links = {link.label for link in at.main.get("page_link")}
    assert links >= {"Choose a model for Segmentation", "Choose a model for Text in the picture"}
    assert ":blue-badge[:material/cloud: Clarifai] [segment-anything" not in text, "no healthy badge over a model that fails"
    at = predict(upload(at, photo(testdata, "coffee.png")))
    no_traceback(at)
    asked = {call.model_path for call in without_defaults.prediction_calls()}
    assert asked == {"clarifai/main/mm-poly-8b"}, "classification, detection and captioning: the replacement"
    assert not asked & MISSING


def test_a_task_page_says_which_suggestion_stands_in_and_badges_what_it_uses(without_defaults):
    at = open_page("detection", key=TEST_KEY)
    no_traceback(at)
    note = " ".join(as_read(c.value) for c in at.sidebar.caption)
    assert "Using MM-Poly-8B (vision-language): Qwen2.5-VL 7B (vision-language) does not answer with this key" in note
    assert at.selectbox(key="model_suggested_detection").value == "clarifai/main/mm-poly-8b"
    assert ":blue-badge[:material/cloud: Clarifai] [clarifai/main/mm-poly-8b]" in page_text(at)


def test_a_picker_left_on_the_default_before_the_key_moves_to_the_replacement(without_defaults):
    from components.run.backend import Backend

    at = open_page("detection")
    at.radio(key="backend").set_value(Backend.CLARIFAI).run()
    assert at.selectbox(key="model_suggested_detection").value == QWEN_VL.path  # no key: nothing checked
    at.text_input(key="pat").input(TEST_KEY).run()
    no_traceback(at)
    assert at.selectbox(key="model_suggested_detection").value == "clarifai/main/mm-poly-8b"
    assert not at.sidebar.error, errors_on(at)
    at.selectbox(key="model_suggested_detection").set_value(QWEN_VL.path).run()
    assert at.selectbox(key="model_suggested_detection").value == QWEN_VL.path, "a person's own pick is kept"
    assert any(f"“{QWEN_VL.path}”" in e for e in errors_on(at))


def test_a_task_page_where_no_suggestion_answers_has_one_calm_line_and_no_healthy_badge(without_defaults):
    at = open_page("segmentation", key=TEST_KEY)
    no_traceback(at)
    assert not at.error, errors_on(at)
    [calm] = [as_read(i.value) for i in at.sidebar.info if "No suggested model" in i.value]
    assert "Segmentation" in calm and "Type or paste" in calm
    text = page_text(at)
    assert ":blue-badge" not in text and ":orange-badge[:material/cloud_off: Not usable]" in text
    assert at.button(key="predict").disabled


def test_a_retired_classic_default_is_said_to_be_retired(clarifai_env):
    clarifai_env.retire(GENERAL_RECOGNITION.model_id)
    at = open_page("home", key=TEST_KEY)
    no_traceback(at)
    at.switch_page(TASKS[Task.CLASSIFICATION].page_path).run()
    at.selectbox(key="model_suggested_classification").set_value(GENERAL_RECOGNITION.path).run()
    no_traceback(at)
    sidebar_errors = [as_read(e.value) for e in at.sidebar.error]
    assert any(f"“{GENERAL_RECOGNITION.path}”" in e and "older single-task models are being retired" in e for e in sidebar_errors), (
        sidebar_errors
    )


@pytest.mark.parametrize("code", [11101, 21200])
def test_a_missing_model_is_named_whatever_the_code(code):
    model = ModelRef("someone", "their-app", "their-model")
    message = error_for_status(code, model=model).message
    assert "“someone/their-app/their-model”" in message
    assert "being retired" not in message, "the status says nothing about the model's kind"
    assert "the app is private" not in message
