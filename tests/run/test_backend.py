"""Running tasks: backends, the shared prediction cache, the demo budget, model types."""

from __future__ import annotations

import numpy as np
import pytest

from components import errors
from components.clarifai.budget import BudgetLedger, BudgetLimits, Visitor
from components.clarifai.client import RunCallbacks
from components.images.preparation import PrepareOptions, prepare_upload, prepare_url
from components.models import ModelRef, PredictSettings
from components.results import Concept, ImageResult, Prediction, Region
from components.run.backend import (
    Backend,
    CallBudget,
    PredictionCache,
    RunPlan,
    run_predictions,
    run_tasks_concurrently,
)
from components.settings import Credentials
from components.tasks import Task
from tests.conftest import OTHER_KEY, TEST_KEY
from tests.helpers import png_bytes, scene_with_square


def images(count: int = 2):
    return [prepare_upload(f"scene-{i}.png", png_bytes(scene_with_square(200 + i, 150))) for i in range(count)]


def clarifai_plan(task=Task.CLASSIFICATION, key=TEST_KEY, model=None, settings=PredictSettings()):
    return RunPlan(task, Backend.CLARIFAI, model or task.spec.default_model, settings, Credentials(key, "sidebar"))


def test_offline_runs_are_answered_from_the_cache_the_second_time():
    cache = PredictionCache()
    plan = RunPlan(Task.CLASSIFICATION, Backend.LOCAL)
    first = run_predictions(plan, images(), cache=cache)
    second = run_predictions(plan, images(), cache=cache)
    assert (first.from_cache, second.from_cache) == (0, 2)
    assert [r.prediction.concepts for r in first.results] == [r.prediction.concepts for r in second.results]


def test_the_local_backend_reads_its_old_name_too():
    assert Backend("offline") is Backend.LOCAL and Backend("local") is Backend.LOCAL
    assert Backend("clarifai") is Backend.CLARIFAI and Backend.LOCAL == "local"


def test_a_clarifai_run_counts_its_calls_and_the_cache_saves_them(client, fake_clarifai):
    cache = PredictionCache()
    plan = clarifai_plan()
    first = run_predictions(plan, images(3), client=client, cache=cache)
    assert first.clarifai_calls == 1 and first.succeeded == 3
    again = run_predictions(plan, images(3) + images(4)[3:], client=client, cache=cache)
    assert (again.from_cache, again.clarifai_calls) == (3, 1)
    assert len(fake_clarifai.calls_to("PostModelOutputs")) == 2
    assert len(fake_clarifai.calls_to("PostModelOutputs")[-1].request.inputs) == 1


def test_cache_keys_differ_by_key_model_and_settings_and_never_hold_the_key():
    image = images(1)[0]
    base = clarifai_plan()
    keys = {
        base.cache_key(image),
        clarifai_plan(key=OTHER_KEY).cache_key(image),
        clarifai_plan(model=ModelRef("clarifai", "main", "color-recognition")).cache_key(image),
        clarifai_plan(settings=PredictSettings(max_concepts=3)).cache_key(image),
        RunPlan(Task.CLASSIFICATION, Backend.LOCAL).cache_key(image),
    }
    assert len(keys) == 5
    assert TEST_KEY not in repr(base.cache_key(image))


def test_failures_are_not_cached(client, fake_clarifai):
    cache = PredictionCache()
    plan = clarifai_plan()
    bad = prepare_upload("ok.png", png_bytes(scene_with_square()))
    from tests.fake_clarifai import Fault

    fake_clarifai.fail_next(Fault.fewer_outputs(1))
    first = run_predictions(plan, [bad], client=client, cache=cache)
    assert not first.results[0].ok
    second = run_predictions(plan, [bad], client=client, cache=cache)
    assert second.results[0].ok and second.from_cache == 0


def big_result(megabytes: float) -> ImageResult:
    # Random pixels: a mask that does not pack smaller than a bit per pixel (megabytes of bits)
    mask = np.random.default_rng(0).random((int(megabytes * 1024 * 8), 1024)) < 0.5
    return ImageResult(Prediction(regions=(Region((Concept("x", 1.0),), mask=mask),)))


def test_the_cache_is_bounded_in_bytes():
    cache = PredictionCache(max_bytes=10 * 1024 * 1024)
    for index in range(20):
        cache.put((index,), big_result(1))
    assert cache.size_bytes <= 10 * 1024 * 1024
    assert 0 < len(cache) < 20
    assert cache.get((19,)) is not None and cache.get((0,)) is None  # the oldest went first
    cache.put(("huge",), big_result(30))  # bigger than the whole cache: simply not kept
    assert cache.get(("huge",)) is None


def test_the_cache_forgets_entries_after_their_age():
    now = [0.0]
    cache = PredictionCache(ttl_s=60, timer=lambda: now[0])
    cache.put(("a",), big_result(0.01))
    now[0] = 59
    assert cache.get(("a",)) is not None
    now[0] = 61
    assert cache.get(("a",)) is None


def test_a_clarifai_run_without_a_key_says_what_to_do():
    with pytest.raises(errors.KeyMissingError, match="Enter your personal access token"):
        run_predictions(RunPlan(Task.DETECTION, Backend.CLARIFAI, Task.DETECTION.spec.default_model), images(1), cache=PredictionCache())


def test_a_model_of_the_wrong_type_is_refused_before_predicting(client, fake_clarifai):
    plan = clarifai_plan(Task.SEGMENTATION, model=ModelRef("clarifai", "main", "logo-detection-v2"))
    with pytest.raises(errors.ModelTypeError) as caught:
        run_predictions(plan, images(1), client=client, cache=PredictionCache())
    assert "is a visual-detector model; the Segmentation page needs a visual-segmenter model" in caught.value.message
    assert not fake_clarifai.calls_to("PostModelOutputs")


def test_a_vision_language_model_is_refused_for_masks_with_what_would_serve(client, fake_clarifai):
    plan = clarifai_plan(Task.SEGMENTATION, model=Task.DETECTION.spec.default_model)
    with pytest.raises(errors.ModelTypeError) as caught:
        run_predictions(plan, images(1), client=client, cache=PredictionCache())
    assert "answers with text; masks need a segmentation model" in caught.value.message
    assert not fake_clarifai.prediction_calls()


def test_captioning_accepts_multimodal_models_too():
    assert Task.CAPTIONING.spec.model_types == ("image-to-text", "multimodal-to-text")


def test_the_budget_counts_images_and_look_ups_stops_beyond_it_and_says_what_to_do(client, fake_clarifai):
    budget = CallBudget(BudgetLedger(BudgetLimits(per_visitor=4)), Visitor(("visitor",)))
    cache = PredictionCache()
    plan = clarifai_plan()
    run_predictions(plan, images(1), client=client, cache=cache, budget=budget)  # a look-up and an image
    assert budget.remaining == 2
    run_predictions(plan, images(2)[1:], client=client, cache=cache, budget=budget)  # the look-up is cached
    assert budget.remaining == 1
    with pytest.raises(errors.BudgetExceededError) as caught:
        run_predictions(plan, images(4)[2:], client=client, cache=cache, budget=budget)
    assert "You have 1 left" in caught.value.message and "this needs 2 (2 images)" in caught.value.message
    assert "Enter your own Clarifai key" in caught.value.message
    assert len(fake_clarifai.calls_to("PostModelOutputs")) == 2
    assert len(fake_clarifai.calls_to("GetModel")) == 1
    cached = run_predictions(plan, images(1), client=client, cache=cache, budget=budget)
    assert cached.from_cache == 1 and budget.remaining == 1  # cached answers cost nothing


def test_concurrent_tasks_report_progress_and_one_failure_does_not_stop_the_rest(client, fake_clarifai):
    done = []
    plans = [
        clarifai_plan(Task.CLASSIFICATION),
        clarifai_plan(Task.DETECTION, model=ModelRef("nobody", "none", "missing")),
        clarifai_plan(Task.CAPTIONING),
    ]
    runs = run_tasks_concurrently(plans, images(2), client=client, callbacks=RunCallbacks(progress=done.append))
    assert [run.error is None for run in runs] == [True, False, True]
    assert isinstance(runs[1].error, errors.ModelNotFoundError)
    assert max(done) == 6  # three tasks times two images


def test_offline_models_need_pixels_not_just_a_url():
    url_only = prepare_url("https://example.com/a.jpg", PrepareOptions(clarifai_fetches_urls=True))
    outcome = run_predictions(RunPlan(Task.CLASSIFICATION, Backend.LOCAL), [url_only] + images(1), cache=PredictionCache())
    assert isinstance(outcome.results[0].error, errors.LocalUnsupportedError)
    assert "Let Clarifai fetch URLs" in outcome.results[0].error.message
    assert outcome.results[1].ok


def test_an_unforeseen_exception_in_one_task_becomes_a_message_for_that_task(monkeypatch):
    from components.local_models.catalogue import predict_local
    real = predict_local

    def explode_on_detection(model, pictures, settings):
        if model is Task.DETECTION.spec.local_model:
            raise RuntimeError("boom")
        return real(model, pictures, settings)

    monkeypatch.setattr("components.run.backend.predict_local", explode_on_detection)
    plans = [RunPlan(Task.CLASSIFICATION, Backend.LOCAL), RunPlan(Task.DETECTION, Backend.LOCAL)]
    runs = run_tasks_concurrently(plans, images(1))
    assert runs[0].outcome is not None and runs[0].outcome.succeeded == 1
    assert isinstance(runs[1].error, errors.UnexpectedError)
    assert "unexpected RuntimeError" in runs[1].error.message and "boom" not in runs[1].error.message


def test_a_clarifai_run_without_a_model_says_to_choose_one_before_touching_the_cache(client, fake_clarifai):
    plan = RunPlan(Task.DETECTION, Backend.CLARIFAI, model=None, credentials=Credentials(TEST_KEY, "sidebar"))
    with pytest.raises(errors.ModelRefError, match="Choose a model in the sidebar"):
        run_predictions(plan, images(1), client=client, cache=PredictionCache())
    assert not fake_clarifai.calls


def test_a_clarifai_run_without_a_key_says_it_needs_one(client, fake_clarifai):
    plan = RunPlan(Task.DETECTION, Backend.CLARIFAI, model=None, credentials=None)
    with pytest.raises(errors.KeyMissingError, match="Clarifai needs a key"):
        run_predictions(plan, images(1), client=client, cache=PredictionCache())
