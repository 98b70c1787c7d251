"""Model references: the defaults, typed references, pasted model URLs."""

from __future__ import annotations

import pytest

from components.errors import ModelRefError
from components.models import ModelRef, parse_model_ref
from components.tasks import Task


def test_every_task_has_todays_documented_default_and_the_classic_one_a_click_away():
    assert Task.CLASSIFICATION.spec.default_model.path == "clarifai/main/general-image-recognition"
    assert Task.DETECTION.spec.default_model.short_path == "qwen/qwen-VL/Qwen2_5-VL-7B-Instruct"
    assert Task.SEGMENTATION.spec.default_model.short_path == "meta/segment-anything/sam2_1-hiera-base-plus"
    assert Task.CAPTIONING.spec.default_model.short_path == "qwen/qwen-VL/Qwen2_5-VL-7B-Instruct"
    classic = {task: [m.ref for m in task.spec.models if m.classic] for task in Task}
    assert classic[Task.DETECTION] == [ModelRef("clarifai", "main", "general-image-detection")]
    assert classic[Task.SEGMENTATION] == [ModelRef("clarifai", "main", "image-general-segmentation")]
    assert classic[Task.CAPTIONING] == [ModelRef("salesforce", "blip", "general-english-image-caption-blip")]
    assert any(m.ref.model_id == "mm-poly-8b" for m in Task.CLASSIFICATION.spec.models), "Clarifai's prompted pick"


def test_no_suggested_model_is_pinned_to_a_version():
    """Clarifai's own clients send a version only when a person names one: a pinned version on a
    default turns a working model into "does not exist" once Clarifai retires that version."""
    pinned = [m.ref.path for task in Task for m in task.spec.models if m.ref.version_id]
    assert pinned == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("clarifai/main/face-detection", ModelRef("clarifai", "main", "face-detection")),
        (
            "  salesforce/blip/general-english-image-caption-blip/cdb690f1  ",
            ModelRef("salesforce", "blip", "general-english-image-caption-blip", "cdb690f1"),
        ),
        ("https://clarifai.com/clarifai/main/models/general-image-recognition", ModelRef("clarifai", "main", "general-image-recognition")),
        (
            "https://clarifai.com/clarifai/main/models/general-image-detection/versions/1580bb19",
            ModelRef("clarifai", "main", "general-image-detection", "1580bb19"),
        ),
        ("https://www.clarifai.com/u/a/models/m/", ModelRef("u", "a", "m")),
        ("clarifai.com/u/a/models/m", ModelRef("u", "a", "m")),
        ("https://clarifai.com/u/a/models/m?tab=overview", ModelRef("u", "a", "m")),
    ],
)
def test_references_and_urls_parse(text, expected):
    assert parse_model_ref(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "No model given"),
        ("general-image-recognition", "is not a model reference"),
        ("a/b", "is not a model reference"),
        ("a/b/c/d/e", "is not a model reference"),
        ("https://example.com/u/a/models/m", "is not a Clarifai model address"),
        ("ftp://clarifai.com/u/a/models/m", "is not a Clarifai model address"),
        ("https://clarifai.com/u/a/workflows/w", "does not point at a model"),
        ("https://clarifai.com/explore/models", "does not point at a model"),
    ],
)
def test_anything_else_gets_a_message_saying_what_to_type(text, says):
    with pytest.raises(ModelRefError) as caught:
        parse_model_ref(text)
    assert says in caught.value.message
    assert "user/app/model" in caught.value.message or "clarifai.com/{user}" in caught.value.message


def test_a_reference_round_trips_through_its_url_and_path():
    ref = ModelRef("clarifai", "main", "general-image-detection", "1580bb1932594c93b7e2e04456af7c6f")
    assert parse_model_ref(ref.url) == ref
    assert parse_model_ref(ref.path) == ref
    assert parse_model_ref(ModelRef("u", "a", "m").url) == ModelRef("u", "a", "m")
