"""OpenCV's Haar cascades: overlapping hits suppressed, confidence from the margin."""

from __future__ import annotations

import numpy as np

from components.local_models.cascades import MAX_CONFIDENCE, _confidence, _Hit, _load_cascade
from components.local_models.detector import detect_objects
from components.models import PredictSettings


def test_overlapping_hits_of_one_class_are_suppressed(monkeypatch):
    hits = [
        _Hit(0.10, 0.10, 0.40, 0.40, weight=60.0),
        _Hit(0.12, 0.11, 0.41, 0.42, weight=55.0),  # the same face again, weaker
        _Hit(0.60, 0.60, 0.80, 0.80, weight=58.0),
    ]
    monkeypatch.setattr("components.local_models.cascades._run_cascade", lambda *args, **kwargs: list(hits))
    prediction = detect_objects(np.zeros((100, 100, 3), np.uint8), PredictSettings(select_concepts=("face",)))
    boxes = sorted((r.box.left, r.box.top) for r in prediction.regions)
    assert boxes == [(0.10, 0.10), (0.60, 0.60)]


def test_confidence_grows_with_the_margin_and_stays_below_certainty():
    cascade = _load_cascade("haarcascade_frontalface_alt2.xml")
    threshold, best = cascade.last_stage_threshold, cascade.last_stage_best_sum
    span = best - threshold
    weights = [threshold - 5, threshold, threshold + 0.02 * span, threshold + 0.1 * span, best]
    scores = [_confidence(cascade, w) for w in weights]
    assert scores[0] == scores[1] == 0.0
    assert scores == sorted(scores) and len(set(scores[1:])) == 4
    assert max(scores) == MAX_CONFIDENCE < 1.0  # never certain
