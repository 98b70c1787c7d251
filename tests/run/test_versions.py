"""Model versions as Clarifai's own clients send them: `version_id` only when a person named one (a
path with a version, a pasted URL with one), read at the server from every request it received."""

from __future__ import annotations

import pytest

from components import errors
from components.images.preparation import prepare_upload
from components.models import ModelRef, parse_model_ref
from components.run.backend import Backend, PredictionCache, RunPlan, run_predictions
from components.settings import Credentials
from components.tasks import GENERAL_RECOGNITION, QWEN_VL, Task
from tests.conftest import TEST_KEY
from tests.helpers import png_bytes, scene_with_square

MODEL_CALLS = ("GetModel", "GetModelVersion", "PostModelOutputs", "GenerateModelOutputs")
RECOGNITION_VERSION = "aa7f35c01e0642fda5cf400f543e7c40"  # the version the local server's model has
QWEN_VERSION = "6c5d0a9e1f2b4c3d8e7f6a5b4c3d2e1f"


def picture():
    return prepare_upload("scene.png", png_bytes(scene_with_square(120, 90)))


def plan_for(task: Task, model: ModelRef) -> RunPlan:
    return RunPlan(task, Backend.CLARIFAI, model, credentials=Credentials(TEST_KEY, "sidebar"))


def versions_sent(fake_clarifai) -> dict[str, set[str]]:
    """For each model-naming call the server received, the versions it was asked for."""
    sent: dict[str, set[str]] = {}
    for method in MODEL_CALLS:
        for call in fake_clarifai.calls_to(method):
            sent.setdefault(method, set()).add(call.request.version_id)
    return sent


def test_no_suggested_model_is_called_with_a_version(client, fake_clarifai):
    answered = 0
    for task in Task:
        for suggested in task.spec.models:
            try:
                outcome = run_predictions(plan_for(task, suggested.ref), [picture()], client=client, cache=PredictionCache())
            except errors.AppError:
                continue  # a retired model: still asked for without a version
            answered += outcome.succeeded
    sent = versions_sent(fake_clarifai)
    assert answered >= 8, "today's suggested models answered"
    assert {"GetModel", "PostModelOutputs", "GenerateModelOutputs"} <= set(sent)
    assert all(versions == {""} for versions in sent.values()), sent


def test_a_named_version_is_sent_in_every_request_for_that_model(client, fake_clarifai):
    named = parse_model_ref(f"clarifai/main/general-image-recognition/{RECOGNITION_VERSION}")
    outcome = run_predictions(plan_for(Task.CLASSIFICATION, named), [picture()], client=client, cache=PredictionCache())
    assert outcome.succeeded == 1
    assert versions_sent(fake_clarifai) == {"GetModel": {RECOGNITION_VERSION}, "PostModelOutputs": {RECOGNITION_VERSION}}


def test_a_version_in_a_pasted_url_reaches_the_new_style_calls(client, fake_clarifai):
    named = parse_model_ref(f"https://clarifai.com/qwen/qwen-VL/models/Qwen2_5-VL-7B-Instruct/versions/{QWEN_VERSION}")
    outcome = run_predictions(plan_for(Task.CAPTIONING, named), [picture()], client=client, cache=PredictionCache())
    assert outcome.succeeded == 1
    sent = versions_sent(fake_clarifai)
    assert sent["GetModel"] == {QWEN_VERSION} and sent["GenerateModelOutputs"] == {QWEN_VERSION}


def test_signatures_come_from_the_version_get_model_describes_without_pinning_it(client, credentials, fake_clarifai):
    info = client.get_model(QWEN_VL, credentials)
    assert info.version_id == QWEN_VERSION and info.method("generate") is not None
    assert info.ref == QWEN_VL, "the model stays as named: no version"
    run_predictions(plan_for(Task.CAPTIONING, QWEN_VL), [picture()], client=client, cache=PredictionCache())
    [call] = fake_clarifai.calls_to("GenerateModelOutputs")
    assert call.request.version_id == ""


def test_asking_the_runner_for_signatures_names_no_version_unless_named(client, credentials, fake_clarifai):
    fake_clarifai.hide_signatures(QWEN_VL.path)
    assert client.get_model(QWEN_VL, credentials).method("predict") is not None
    named = ModelRef(QWEN_VL.user_id, QWEN_VL.app_id, QWEN_VL.model_id, QWEN_VERSION)
    assert client.get_model(named, credentials).method("predict") is not None
    asked = [call.request.version_id for call in fake_clarifai.calls_to("PostModelOutputs")]
    assert asked == ["", QWEN_VERSION], "the _GET_SIGNATURES call names the model as it was asked for"


def test_a_retired_version_fails_only_when_named(client, fake_clarifai):
    retired = ModelRef(GENERAL_RECOGNITION.user_id, GENERAL_RECOGNITION.app_id, GENERAL_RECOGNITION.model_id, "0" * 32)
    with pytest.raises(errors.ModelNotFoundError):
        run_predictions(plan_for(Task.CLASSIFICATION, retired), [picture()], client=client, cache=PredictionCache())
    outcome = run_predictions(plan_for(Task.CLASSIFICATION, GENERAL_RECOGNITION), [picture()], client=client, cache=PredictionCache())
    assert outcome.succeeded == 1


def test_caches_keep_a_named_version_apart_from_none(client, credentials, fake_clarifai):
    named = ModelRef(GENERAL_RECOGNITION.user_id, GENERAL_RECOGNITION.app_id, GENERAL_RECOGNITION.model_id, RECOGNITION_VERSION)
    client.get_model(GENERAL_RECOGNITION, credentials)
    client.get_model(named, credentials)
    client.get_model(named, credentials)
    assert [call.request.version_id for call in fake_clarifai.calls_to("GetModel")] == ["", RECOGNITION_VERSION]

    cache = PredictionCache()
    image = picture()
    assert plan_for(Task.CLASSIFICATION, named).cache_key(image) != plan_for(Task.CLASSIFICATION, GENERAL_RECOGNITION).cache_key(image)
    run_predictions(plan_for(Task.CLASSIFICATION, GENERAL_RECOGNITION), [image], client=client, cache=cache)
    again = run_predictions(plan_for(Task.CLASSIFICATION, named), [image], client=client, cache=cache)
    assert again.from_cache == 0 and again.clarifai_calls == 1
