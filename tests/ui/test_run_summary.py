"""The results' summary line: times as people read them, and none for a run the cache answered."""

from __future__ import annotations

from components.results import Concept, ImageResult, Prediction
from components.run.backend import Backend, RunOutcome, RunPlan
from components.tasks import Task
from components.ui.results import run_summary


def outcome(seconds: float, from_cache: int, count: int = 2) -> RunOutcome:
    results = [ImageResult(prediction=Prediction(concepts=(Concept("red", 0.9),)))] * count
    return RunOutcome(RunPlan(Task.CLASSIFICATION, Backend.LOCAL), results, seconds, from_cache=from_cache)


def test_a_run_under_a_second_is_timed_in_ms_and_over_a_second_in_s():
    assert run_summary(outcome(0.35, 0), 2) == "**2 images** · 2 with results · 350 ms"
    assert run_summary(outcome(2.41, 1), 2) == "**2 images** · 2 with results · 2.4 s · 1 from cache"


def test_a_run_answered_wholly_from_the_cache_says_so_without_a_time():
    assert run_summary(outcome(0.0004, 2), 2) == "**2 images** · 2 with results · 2 from cache"
