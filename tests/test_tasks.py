"""Every task is complete: spec, view, page, default model, offline policy, exports, and a page that runs.

Adding a member to `Task` without the rest fails here (the way traingenerator tests every template).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from components.local_models.catalogue import LocalModel
from components.models import ModelRef
from components.navigation import PAGES
from components.outputs.exports import ExportItem
from components.results import Box, Concept, Prediction, Region
from components.tasks import TASKS, ResultKind, Task
from components.views import VIEWS, DisplaySettings, TaskView
from tests import ocr_engine
from tests.apptest import as_read, no_traceback, open_page, page_text, predict, upload, visible_text
from tests.color_analysis import color_blobs, color_labels, color_shares, describe, orientation, pixels_as_stored
from tests.conftest import PROJECT_ROOT, TEST_KEY
from tests.fake_clarifai import DECOMMISSIONED, TODAY_CATALOGUE
from tests.helpers import png_bytes, scene_with_text
from tests.runner_models import MIN_SEGMENT_SHARE

# What each task's default model on the local Clarifai answers about a picture, as the page must
# show it (computed the way the local server computes its answers, from the picture as sent).
WHAT_THE_DEFAULT_MODEL_SAYS: dict[Task, Callable[[bytes], list[str]]] = {
    # general-image-recognition: the picture's orientation and colours, as concepts.
    Task.CLASSIFICATION: lambda picture: [orientation(pixels_as_stored(picture)[1])],
    # Qwen2.5-VL asked for boxes: one per blob of saturated colour, labelled by its colour.
    Task.DETECTION: lambda picture: [name for name, _, _ in color_blobs(pixels_as_stored(picture)[0])][:1],
    # Segment Anything: a mask per colour region, unnamed; the page lists each one.
    Task.SEGMENTATION: lambda picture: [
        f"segment {number}"
        for number in range(1, 1 + sum(share >= MIN_SEGMENT_SHARE for _, share in color_shares(color_labels(pixels_as_stored(picture)[0]))))
    ],
    # Qwen2.5-VL asked for a caption: it describes the picture.
    Task.CAPTIONING: lambda picture: [describe(*pixels_as_stored(picture))],
    # DeepSeek-OCR: the printed lines, read from the pixels received.
    Task.OCR: lambda picture: [line.text for line in ocr_engine.read_lines(picture)] or ["(nothing read)"],
}


def example_prediction() -> Prediction:
    """A result holding every kind of output, so any task's exports have something to write."""
    mask = np.zeros((30, 40), bool)
    mask[5:20, 10:30] = True
    return Prediction(
        concepts=(Concept("dog", 0.9, "ai_dog"), Concept("cat", 0.2, "ai_cat")),
        regions=(
            Region((Concept("dog", 0.8),), box=Box(0.1, 0.2, 0.6, 0.7)),
            Region((Concept("sky", 0.4),), mask=mask),
            Region((Concept("text", 0.9),), box=Box(0.7, 0.1, 0.8, 0.5), text="GATE 12 OPEN"),
        ),
        caption="a dog under the sky",
    )


@pytest.mark.parametrize("task", list(Task))
def test_every_task_is_complete(task: Task, clarifai_env):
    # A spec in the table, with a default model the local Clarifai server knows.
    spec = TASKS.get(task)
    assert spec is not None and spec.task is task, f"{task} has no TaskSpec in components/tasks.py"
    assert spec.title and spec.icon.startswith(":material/") and spec.blurb and spec.model_types
    assert spec.result_kinds and all(isinstance(kind, ResultKind) for kind in spec.result_kinds)
    assert isinstance(spec.default_model, ModelRef)
    assert spec.default_model.short_path in {model.path for model in TODAY_CATALOGUE} - DECOMMISSIONED, "it answers today"
    # An offline policy: a local stand-in, or a message saying what to do instead.
    assert isinstance(spec.local_model, LocalModel) or len(spec.no_local_model) > 20

    # A view, with exports that build.
    view = VIEWS.get(task)
    assert isinstance(view, TaskView), f"{task} has no view in components/views/"
    items = [ExportItem("dog.png", 40, 30, example_prediction())]
    downloads = view.downloads(items, DisplaySettings())
    assert downloads, f"{task}'s view offers no export of its own"
    for download in downloads:
        assert download.file_name and download.mime and download.build()

    # A page that names the task, listed in the navigation.
    page = PROJECT_ROOT / spec.page_path
    assert page.is_file(), f"{task} has no page at {spec.page_path}"
    assert f"Task.{task.name}" in page.read_text()
    assert spec.page_path in {p.path for p in PAGES}

    # And the page does its task: upload a picture, Predict with the default model, and what the
    # local Clarifai's model answered about this picture is on the page.
    assert task in WHAT_THE_DEFAULT_MODEL_SAYS, f"no end-to-end check of {task}'s page: add one above"
    picture = png_bytes(scene_with_text())
    at = open_page(task.value, key=TEST_KEY)
    at = predict(upload(at, ("sign.png", picture)))
    no_traceback(at)
    assert not at.error, [as_read(e.value) for e in at.error]
    assert "1 with results" in page_text(at)
    assert clarifai_env.prediction_calls()
    shown = visible_text(at)
    for expected in WHAT_THE_DEFAULT_MODEL_SAYS[task](picture):
        assert expected in shown, f"{task}: the model's answer {expected!r} is not on the page"


def test_every_view_belongs_to_a_task_in_the_table():
    assert set(VIEWS) == set(TASKS) == set(Task)


def test_mm_poly_is_offered_first_to_whoever_lists_labels_for_classification():
    spec = Task.CLASSIFICATION.spec
    assert spec.prompted_pick.ref == ModelRef("clarifai", "main", "mm-poly-8b")
    assert spec.prompted_pick is next(m for m in spec.models if not m.classic), "before any other prompted model"
    assert Task.SEGMENTATION.spec.prompted_pick is None, "masks are not asked for by a prompt"


def test_captioning_offers_deepseek_ocr_asked_its_own_prompt():
    from components.tasks import DEEPSEEK_DESCRIBE_PROMPT, DEEPSEEK_OCR, QWEN_VL

    spec = Task.CAPTIONING.spec
    assert DEEPSEEK_OCR in [m.ref for m in spec.models]
    assert spec.prompt_for(DEEPSEEK_OCR, "Write alt text.", (), 400, 300) == DEEPSEEK_DESCRIBE_PROMPT
    assert spec.prompt_for(QWEN_VL, "Write alt text.", (), 400, 300) == "Write alt text."
    assert Task.OCR.spec.own_prompt(DEEPSEEK_OCR) == "<|grounding|>OCR this image.", "each page its own wording"


def test_deepseek_ocr_on_the_captioning_page_is_sent_its_prompt_and_says_so(clarifai_env):
    from tests.conftest import require_tesseract

    require_tesseract()  # the local DeepSeek-OCR reads the picture's text
    at = open_page("captioning", key=TEST_KEY)
    at.selectbox(key="model_suggested_captioning").set_value("deepseek-ai/deepseek-ocr/DeepSeek-OCR").run()
    assert "This model is asked its own prompt: “Describe this image in detail.”" in page_text(at)
    assert not [area for area in at.text_area if area.key == "captioning_prompt"], "no prompt it would not be sent"
    at = predict(upload(at, ("letters.png", png_bytes(scene_with_text(("OPEN",))))))
    no_traceback(at)
    sent = [
        part.data.string_value
        for call in clarifai_env.prediction_calls()
        for part in call.request.inputs[0].data.parts
        if part.id == "prompt"
    ]
    assert sent == ["Describe this image in detail."]


def test_a_classic_classifier_points_to_mm_poly_for_labels_one_lists(clarifai_env):
    at = open_page("classification", key=TEST_KEY)  # the classic default: no labels to list
    assert "To choose from labels you list, pick MM-Poly-8B (vision-language) in the sidebar." in page_text(at)
