"""Local predictions and image preparation wait their turn under the process's working-memory
budget, and a waiting run says where it is in line."""

from __future__ import annotations

import threading

import pytest

from components.clarifai.client import RunCallbacks
from components.images import preparation
from components.images.preparation import PrepareOptions, preparation_bytes, prepare_upload
from components.memory import MemoryGovernor
from components.run import backend
from components.run.backend import Backend, PredictionCache, RunPlan, run_predictions
from components.tasks import Task
from tests.helpers import png_bytes, scene_with_square

GUARD_SECONDS = 30


@pytest.fixture
def governor(monkeypatch) -> MemoryGovernor:
    small = MemoryGovernor(budget_bytes=64 * 1024 * 1024)
    monkeypatch.setattr(backend, "WORKING_MEMORY", small)
    monkeypatch.setattr(preparation, "WORKING_MEMORY", small)
    return small


def test_a_local_run_waits_while_the_budget_is_taken_and_says_its_place(governor):
    image = prepare_upload("square.png", png_bytes(scene_with_square()))
    plan = RunPlan(task=Task.DETECTION, backend=Backend.LOCAL)
    told: list[str] = []
    finished = threading.Event()
    outcome = []

    def run() -> None:
        outcome.append(run_predictions(plan, [image], cache=PredictionCache(), callbacks=RunCallbacks(on_wait=told.append)))
        finished.set()

    taken, release = threading.Event(), threading.Event()

    def take_everything() -> None:
        with governor.hold(governor.budget_bytes):
            taken.set()
            release.wait(GUARD_SECONDS)

    threading.Thread(target=take_everything, daemon=True).start()
    assert taken.wait(GUARD_SECONDS)
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    assert not finished.wait(0.5)  # held back: the budget is all taken
    assert told == ["Waiting for other visitors' images to finish: yours are next"]
    release.set()
    assert finished.wait(GUARD_SECONDS)
    assert outcome[0].succeeded == 1
    assert told[-1] == ""
    assert governor.held_bytes() == 0 and governor.peak_held == governor.budget_bytes


def test_local_runs_of_many_images_hold_at_most_the_budget(governor):
    images = [prepare_upload(f"square-{i}.png", png_bytes(scene_with_square(box=(0.1, 0.1 + i / 50, 0.5, 0.6)))) for i in range(6)]
    plan = RunPlan(task=Task.SEGMENTATION, backend=Backend.LOCAL)
    runs = [threading.Thread(target=run_predictions, args=(plan, images), kwargs={"cache": PredictionCache()}) for _ in range(4)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join(GUARD_SECONDS)
    assert 0 < governor.peak_held <= governor.budget_bytes
    assert governor.held_bytes() == 0


def test_preparation_holds_its_estimate_while_it_runs(governor):
    data = png_bytes(scene_with_square(1600, 1200))
    seen = []
    original = preparation.decode

    def decode_and_look(*args, **kwargs):
        seen.append(governor.held_bytes())
        return original(*args, **kwargs)

    preparation.decode = decode_and_look
    try:
        prepared = prepare_upload("big.png", data)
    finally:
        preparation.decode = original
    assert seen == [preparation_bytes(data, PrepareOptions().max_side)]
    assert prepared.width == 1024 and governor.held_bytes() == 0


def test_the_preparation_estimate_grows_with_the_picture_sent_and_the_file():
    small = png_bytes(scene_with_square(400, 300))
    large = png_bytes(scene_with_square(3000, 2000))
    assert preparation_bytes(large, 1024) > preparation_bytes(small, 1024)
    assert preparation_bytes(large, None) > preparation_bytes(large, 1024) + 3 * 3000 * 2000
    assert preparation_bytes(b"not an image", 1024) < 9 * 1024 * 1024  # refused later, by decode
