"""Every task is complete: spec, view, page, default model, offline policy, exports, and a page that runs.

Adding a member to `Task` without the rest fails here (the way traingenerator tests every template).
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from components.local_models.catalogue import LocalModel
from components.models import ModelRef
from components.navigation import PAGES
from components.outputs.exports import ExportItem
from components.results import Box, Concept, Prediction, Region
from components.tasks import TASKS, ResultKind, Task
from components.views import VIEWS, DisplaySettings, TaskView
from tests.apptest import no_traceback, open_page, page_text, predict, upload
from tests.conftest import PROJECT_ROOT, TEST_KEY
from tests.fake_clarifai import DECOMMISSIONED, TODAY_CATALOGUE
from tests.helpers import png_bytes, scene_with_square

ONLY_UI_IMPORTS_STREAMLIT = ("components/ui/", "components/views/")


def example_prediction() -> Prediction:
    """A result holding every kind of output, so any task's exports have something to write."""
    mask = np.zeros((30, 40), bool)
    mask[5:20, 10:30] = True
    return Prediction(
        concepts=(Concept("dog", 0.9, "ai_dog"), Concept("cat", 0.2, "ai_cat")),
        regions=(
            Region((Concept("dog", 0.8),), box=Box(0.1, 0.2, 0.6, 0.7)),
            Region((Concept("sky", 0.4),), mask=mask),
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
    assert isinstance(spec.offline, LocalModel) or len(spec.offline_unavailable) > 20

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

    # And the page runs: upload a picture, Predict, see this task's result.
    at = open_page(task.value, key=TEST_KEY)
    at = predict(upload(at, ("square.png", png_bytes(scene_with_square()))))
    no_traceback(at)
    assert not at.error, [e.value for e in at.error]
    assert "1 with results" in page_text(at)
    assert clarifai_env.prediction_calls()


def test_every_view_belongs_to_a_task_in_the_table():
    assert set(VIEWS) == set(TASKS) == set(Task)


def _imports_streamlit(path: Path) -> bool:
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(alias.name.split(".")[0] == "streamlit" for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "streamlit":
            return True
    return False


def test_only_ui_modules_and_views_import_streamlit():
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in sorted((PROJECT_ROOT / "components").rglob("*.py"))
        if _imports_streamlit(path) and not str(path.relative_to(PROJECT_ROOT)).startswith(ONLY_UI_IMPORTS_STREAMLIT)
    ]
    assert offenders == []
    assert _imports_streamlit(PROJECT_ROOT / "components" / "ui" / "page.py")  # the check can see an import
