"""OpenCV's Haar cascades for faces, cat faces and licence plates: loading them, running them on
the picture and on a padded close-up view, and a 0–1 confidence for each hit."""

from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass

import cv2
import numpy as np

from components.local_models.common import LocalModelError, downscale
from components.memory import one_at_a_time
from components.results import Box

DETECT_SIDE = 512  # the cascades look at the picture at most this long


@dataclass(frozen=True)
class _Detector:
    concept: str
    cascade_file: str
    scale_step: float  # between pyramid levels: smaller finds more, costs more
    min_size: float  # smallest window side, as a fraction of the longer image side
    min_neighbors: int  # overlapping hits needed to keep a detection
    finds_close_ups: bool  # also look for one object filling (or overflowing) the frame


# Faces: with 50 faces pasted into the shared photos, alt2 (4 neighbours) found 42 and no false
# face, frontalface_default 36 with 20 false ones. For speed, retuned with the astronaut's face
# pasted 140 times into the photos and samples at 1/28 to 1/5 of the longer side: at 512 px and
# steps of 1.15, alt2 finds 127 with no false face in 60% of the time that 640 px and steps of
# 1.1 took (131, and 2 false faces); 3 neighbours would find 131 but also faces in a waterfall
# and on a puppy. Cats: the plain cascade finds a cat face filling the frame where the
# "extended" one does not; pet photos are mostly close-ups, hence the close-up pass (for human
# faces it added false faces and found nothing more); the whole-picture pass found chelsea's
# face pasted at 1/7 to 1/2.5 of the side 5 times in 90, so it looks only for big ones, cheaply.
# OpenCV's full-body cascade is not used: it fires on balloons and bottles and missed
# metro-north's person, whom the HOG people detector finds.
DETECTORS: tuple[_Detector, ...] = (
    _Detector("face", "haarcascade_frontalface_alt2.xml", 1.15, 1 / 30, 4, False),
    _Detector("cat face", "haarcascade_frontalcatface.xml", 1.2, 1 / 8, 4, True),
    _Detector("licence plate", "haarcascade_russian_plate_number.xml", 1.2, 1 / 24, 4, False),
)

CLOSE_UP_SIDE = 128
CLOSE_UP_PADDING = 0.25  # of the longer side, on every edge
CLOSE_UP_MIN_SIZE = 0.4  # of the longer side
CLOSE_UP_SCALE_STEP = 1.05  # the close-up view is tiny, so a fine pyramid is cheap
CLOSE_UP_MIN_NEIGHBORS = 2
CONFIDENCE_SCALE = 0.1
MAX_CONFIDENCE = 0.99  # no local detector is ever certain
NMS_OVERLAP = 0.3


@dataclass
class _Cascade:
    classifier: cv2.CascadeClassifier
    lock: threading.Lock  # detectMultiScale on one classifier is not safe from two threads at once
    last_stage_threshold: float
    last_stage_best_sum: float


@one_at_a_time
@functools.cache
def _load_cascade(cascade_file: str) -> _Cascade:
    path = cv2.data.haarcascades + cascade_file
    classifier = cv2.CascadeClassifier(path)
    if classifier.empty():
        raise LocalModelError(
            f"OpenCV's detector file {cascade_file} is missing from this installation "
            "(opencv-python-headless 4.x ships it). Use the Clarifai backend for detection."
        )
    threshold, best = _last_stage_range(path)
    return _Cascade(classifier, threading.Lock(), threshold, best)


def _last_stage_range(path: str) -> tuple[float, float]:
    """The last stage's threshold and the highest sum its weak classifiers can reach."""
    storage = cv2.FileStorage(path, cv2.FILE_STORAGE_READ)
    stages = storage.getNode("cascade").getNode("stages")
    last = stages.at(stages.size() - 1)
    weak = last.getNode("weakClassifiers")
    best = 0.0
    for i in range(weak.size()):
        leaves = weak.at(i).getNode("leafValues")
        best += max(leaves.at(j).real() for j in range(leaves.size()))
    threshold = last.getNode("stageThreshold").real()
    storage.release()
    return threshold, best


@dataclass(frozen=True)
class _Hit:
    x0: float  # fractions of the image, possibly outside 0–1 for close-ups
    y0: float
    x1: float
    y1: float
    weight: float


def _run_cascade(
    cascade: _Cascade,
    gray: np.ndarray,
    scale_step: float,
    min_neighbors: int,
    min_size: int,
    padding: int = 0,
) -> list[_Hit]:
    """Hits as fractions of the picture inside `padding` pixels of border."""
    height, width = gray.shape
    with cascade.lock:
        boxes, _, weights = cascade.classifier.detectMultiScale3(
            gray,
            scaleFactor=scale_step,
            minNeighbors=min_neighbors,
            minSize=(min_size, min_size),
            outputRejectLevels=True,
        )
    inner_w, inner_h = width - 2 * padding, height - 2 * padding
    return [
        _Hit(
            float(x - padding) / inner_w,
            float(y - padding) / inner_h,
            float(x + w - padding) / inner_w,
            float(y + h - padding) / inner_h,
            float(weight),
        )
        for (x, y, w, h), weight in zip(np.reshape(boxes, (-1, 4)), np.ravel(weights))
    ]


def close_up_view(gray: np.ndarray) -> tuple[np.ndarray, int]:
    """A small copy with a replicated border, so an object filling the frame fits a detection window."""
    small = downscale(gray, CLOSE_UP_SIDE)
    padding = round(max(small.shape) * CLOSE_UP_PADDING)
    return cv2.copyMakeBorder(small, padding, padding, padding, padding, cv2.BORDER_REPLICATE), padding


def detect(
    detector: _Detector, scene: np.ndarray, close_up: tuple[np.ndarray, int]
) -> list[tuple[Box, float]]:
    cascade = _load_cascade(detector.cascade_file)
    min_size = max(1, round(max(scene.shape) * detector.min_size))
    hits = _run_cascade(cascade, scene, detector.scale_step, detector.min_neighbors, min_size)
    if detector.finds_close_ups:
        view, padding = close_up
        min_size = round((max(view.shape) - 2 * padding) * CLOSE_UP_MIN_SIZE)
        hits += _run_cascade(cascade, view, CLOSE_UP_SCALE_STEP, CLOSE_UP_MIN_NEIGHBORS, min_size, padding)
    if not hits:
        return []
    scores = [_confidence(cascade, hit.weight) for hit in hits]
    boxes = [(h.x0, h.y0, h.x1 - h.x0, h.y1 - h.y0) for h in hits]
    keep = cv2.dnn.NMSBoxes(boxes, scores, score_threshold=0.0, nms_threshold=NMS_OVERLAP)
    return [(_box(hits[i]), scores[i]) for i in np.ravel(keep)]


def _confidence(cascade: _Cascade, weight: float) -> float:
    """A 0–1 confidence from how far the last stage's sum cleared its threshold.

    `weight` is that sum (detectMultiScale3's levelWeights). The margin over the threshold is
    divided by the most the stage could give, so cascades with different scales compare; the
    result goes through 1 - exp(-x / 0.1): a bare pass scores near 0, a tenth of the stage's
    range about 0.63, a third or more over 0.95. Haar cascades are not calibrated: this ranks
    detections of one cascade and sets a sensible threshold scale, it is not a probability.
    """
    span = max(cascade.last_stage_best_sum - cascade.last_stage_threshold, 1e-6)
    margin = max(weight - cascade.last_stage_threshold, 0.0) / span
    return min(float(1.0 - math.exp(-margin / CONFIDENCE_SCALE)), MAX_CONFIDENCE)


def _box(hit: _Hit) -> Box:
    """The hit as a box with its corners held to the picture (a close-up's can lie past it)."""
    return Box(top=hit.y0, left=hit.x0, bottom=hit.y1, right=hit.x1).clamped()
