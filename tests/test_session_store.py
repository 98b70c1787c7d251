"""SessionStore: a browser's images and results kept for a reload, bounded in bytes and age."""

from __future__ import annotations

import pickle

import numpy as np

from components.images.preparation import prepare_upload
from components.results import Concept, ImageResult, Prediction, Region
from components.run.backend import Backend, RunOutcome, RunPlan, TaskRun
from components.session_store import SessionStore, approximate_size, kept_session
from components.settings import Credentials
from components.tasks import Task
from components.ui.state import PageRun
from tests.conftest import OTHER_KEY, TEST_KEY
from tests.helpers import png_bytes, scene_with_square
from tests.ui.test_sessions import strings_in


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def image(width: int = 200):
    return prepare_upload(f"scene-{width}.png", png_bytes(scene_with_square(width, 120)))


def kept_with(*images_):
    return kept_session({i.digest: i for i in images_}, {})


def test_what_is_kept_comes_back_as_the_same_objects_not_copies():
    store = SessionStore()
    first, second = image(200), image(210)
    kept = kept_with(first, second)
    assert store.keep("browser:a", kept)
    found = store.get("browser:a")
    assert list(found.images) == [first.digest, second.digest]
    assert found.images[first.digest] is first
    assert store.get("browser:b") is None, "another browser finds nothing"


def test_a_snapshot_is_not_changed_by_the_session_changing_its_own_dicts():
    chosen = {image(200).digest: image(200)}
    kept = kept_session(chosen, {})
    chosen.clear()
    assert len(kept.images) == 1


def test_memory_is_bounded_across_browsers_least_recently_used_first():
    one = kept_with(image(200))
    store = SessionStore(max_bytes=int(one.size_bytes * 2.5))
    store.keep("browser:a", one)
    store.keep("browser:b", kept_with(image(201)))
    assert store.get("browser:a") is not None  # a is now the most recently used
    store.keep("browser:c", kept_with(image(202)))
    assert store.get("browser:b") is None, "the least recently used browser was forgotten"
    assert store.get("browser:a") is not None and store.get("browser:c") is not None
    assert store.size_bytes <= store.max_bytes


def test_a_session_larger_than_the_whole_store_is_not_kept():
    big = kept_with(image(400))
    store = SessionStore(max_bytes=big.size_bytes - 1)
    store.keep("browser:a", kept_with(image(10)))
    assert store.keep("browser:a", big) is False
    assert store.get("browser:a") is None, "nor is the older, now stale, state"


def test_nothing_is_kept_past_its_time():
    clock = Clock()
    store = SessionStore(ttl_s=600, timer=clock)
    store.keep("browser:a", kept_with(image()))
    clock.now += 599
    assert store.get("browser:a") is not None
    clock.now += 601
    assert store.get("browser:a") is None and len(store) == 0


def test_keeping_nothing_forgets_the_browser():
    store = SessionStore()
    store.keep("browser:a", kept_with(image()))
    store.keep("browser:a", kept_session({}, {}))
    assert store.get("browser:a") is None and len(store) == 0


def run_made_with(credentials: Credentials) -> PageRun:
    prepared = image()
    plan = RunPlan(Task.CLASSIFICATION, Backend.CLARIFAI, Task.CLASSIFICATION.spec.default_model, credentials=credentials)
    outcome = RunOutcome(plan, [ImageResult(Prediction(concepts=(Concept("red", 0.9),)))], 0.1, clarifai_calls=1)
    return PageRun([prepared], outcome, task_runs=[TaskRun(plan, outcome)])


def test_a_key_the_visitor_typed_is_kept_only_as_its_fingerprint():
    run = run_made_with(Credentials(TEST_KEY, "sidebar"))
    kept = kept_session({}, {"classification": run})
    text = "".join(strings_in(kept)) + repr(kept) + "".join(strings_in(pickle.loads(pickle.dumps(kept))))
    assert TEST_KEY not in text
    stored = kept.runs["classification"]
    for plan in (stored.outcome.plan, stored.task_runs[0].plan):
        assert plan.credentials.fingerprint == run.outcome.plan.credentials.fingerprint
        assert not plan.credentials.pat.kept
    assert stored.outcome.results is run.outcome.results, "the results themselves are shared, not copied"
    assert run.outcome.plan.credentials.pat.kept, "the session's own run is untouched"


def test_the_app_owners_key_is_left_as_it_is():
    owner = Credentials(OTHER_KEY, "secrets")
    kept = kept_session({}, {"classification": run_made_with(owner)})
    assert kept.runs["classification"].outcome.plan.credentials is owner


def test_an_offline_run_is_kept_unchanged():
    prepared = image()
    outcome = RunOutcome(RunPlan(Task.DETECTION, Backend.LOCAL), [ImageResult(Prediction())], 0.1)
    run = PageRun([prepared], outcome)
    assert kept_session({}, {"detection": run}).runs["detection"] is run


def test_size_counts_pixels_and_bytes_once_each():
    mask = np.random.default_rng(1).random((400, 400)) < 0.5
    prediction = Prediction(regions=(Region((Concept("sky", 0.5),), mask=mask),))
    mask = prediction.regions[0].mask  # kept packed: about a bit per pixel
    prepared = image(300)
    alone = approximate_size(prepared)
    assert alone >= len(prepared.data) + len(prepared.preview)
    assert approximate_size(prediction) >= mask.nbytes
    assert approximate_size([prepared, prepared]) < 2 * alone, "a shared image counts once"
    assert approximate_size((prepared, prediction)) >= alone + mask.nbytes
