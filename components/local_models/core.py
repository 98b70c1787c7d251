"""Local OpenCV models: no network, no downloads, the same result types as the Clarifai backend.

Three local models, each labelled as a local OpenCV model (`components.tasks` says which task
each stands in for):
- COLOUR_CLASSIFIER: the dominant named colours of the image (k-means in CIE Lab);
- LOCAL_DETECTOR: faces, cat faces and licence plates (OpenCV's Haar cascades), people (OpenCV's
  HOG people detector) and coloured objects that stand out (components.local_models.colour_objects);
- COLOUR_SEGMENTER: regions of one named colour (k-means in CIE Lab, smoothed).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import cv2
import numpy as np

from components.colors import NAMED_COLOURS, Color, NamedColour
from components.errors import AppError, ImageError
from components.local_models.colour_objects import find_colour_objects
from components.models import PredictSettings
from components.results import Box, Concept, ImageResult, Prediction, Region

COLOUR_CLASSIFIER_NAME = "Dominant colours (local OpenCV)"
LOCAL_DETECTOR_NAME = "People, faces and coloured objects (local OpenCV)"
COLOUR_SEGMENTER_NAME = "Colour regions (local OpenCV)"


class OfflineModelError(ImageError):
    """A local model could not process one image."""

    title = "Local model failed"


# ---------------------------------------------------------------------------------------------
# Named colours: the table is colors.NAMED_COLOURS, so every picture, chart and table paints a
# colour concept in its own colour.


def _bgr_to_lab(bgr: np.ndarray) -> np.ndarray:
    """CIE Lab (L 0–100) of uint8 BGR pixels, as float32 with the same leading shape."""
    return cv2.cvtColor(bgr.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab)


_NAMED_LAB = _bgr_to_lab(np.array([[c.color for c in NAMED_COLOURS]], dtype=np.uint8))[0]


def nearest_colour_index(lab: np.ndarray) -> np.ndarray:
    """Index into NAMED_COLOURS of the nearest named colour (CIEDE2000) for each Lab row."""
    return ciede2000(lab.reshape(-1, 1, 3), _NAMED_LAB[None, :, :]).argmin(axis=1)


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference between broadcastable arrays of Lab triples.

    Plain Lab distance calls royal blue "purple" and dark grey "black"; CIEDE2000 corrects
    Lab's uneven blues and weighs lightness, chroma and hue the way people see them.
    """
    L1, a1, b1 = np.moveaxis(np.asarray(lab1, dtype=np.float64), -1, 0)
    L2, a2, b2 = np.moveaxis(np.asarray(lab2, dtype=np.float64), -1, 0)
    chroma_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(chroma_mean**7 / (chroma_mean**7 + 25.0**7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    achromatic = c1p * c2p == 0

    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(achromatic, 0, dh)
    dL, dC = L2 - L1, c2p - c1p
    dH = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))

    L_mean, c_mean = (L1 + L2) / 2, (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_mean = np.where(np.abs(h1p - h2p) > 180, np.where(h_sum < 360, h_sum + 360, h_sum - 360), h_sum) / 2
    h_mean = np.where(achromatic, h_sum, h_mean)
    t = (
        1
        - 0.17 * np.cos(np.radians(h_mean - 30))
        + 0.24 * np.cos(np.radians(2 * h_mean))
        + 0.32 * np.cos(np.radians(3 * h_mean + 6))
        - 0.20 * np.cos(np.radians(4 * h_mean - 63))
    )
    rotation = 30 * np.exp(-(((h_mean - 275) / 25) ** 2))
    rc = 2 * np.sqrt(c_mean**7 / (c_mean**7 + 25.0**7))
    sl = 1 + 0.015 * (L_mean - 50) ** 2 / np.sqrt(20 + (L_mean - 50) ** 2)
    sc = 1 + 0.045 * c_mean
    sh = 1 + 0.015 * c_mean * t
    rt = -np.sin(np.radians(2 * rotation)) * rc
    return np.sqrt((dL / sl) ** 2 + (dC / sc) ** 2 + (dH / sh) ** 2 + rt * (dC / sc) * (dH / sh))


def name_colour(color: Color) -> str:
    """The named colour nearest to one colour."""
    lab = _bgr_to_lab(np.array([[color]], dtype=np.uint8)).reshape(1, 3)
    return NAMED_COLOURS[int(nearest_colour_index(lab)[0])].name


# ---------------------------------------------------------------------------------------------
# Shared helpers


def _as_bgr(image: np.ndarray) -> np.ndarray:
    """A contiguous uint8 BGR array from gray, BGRA, 16-bit or float input; OfflineModelError if unusable."""
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        raise OfflineModelError("This image is empty or not a picture, so the local model cannot read it.")
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype == np.bool_:
        image = image.astype(np.uint8) * 255
    elif np.issubdtype(image.dtype, np.floating):
        finite = np.nan_to_num(image.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        peak = 1.0 if finite.size and float(finite.max()) <= 1.0 else 255.0
        image = np.clip(finite * (255.0 / peak), 0, 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = image[:, :, None]
    channels = image.shape[2]
    if channels == 1:
        image = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_GRAY2BGR)
    elif channels == 4:
        image = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGRA2BGR)
    elif channels != 3:
        raise OfflineModelError(
            f"This image has {channels} colour channels; the local models read gray, colour or "
            "colour-with-transparency images."
        )
    return np.ascontiguousarray(image)


def _downscale(image: np.ndarray, longest_side: int) -> np.ndarray:
    """A copy no longer than `longest_side` on either side (never enlarged), at least 1x1."""
    height, width = image.shape[:2]
    scale = longest_side / max(height, width)
    if scale >= 1.0:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


_Item = TypeVar("_Item")


def _selected_names(settings: PredictSettings) -> set[str]:
    return {name.strip().casefold() for name in settings.select_concepts if name.strip()}


def _honour_settings(
    items: list[_Item], concept_of: Callable[[_Item], Concept], settings: PredictSettings
) -> list[_Item]:
    """Only the selected names, none under min_value, highest first, at most max_concepts."""
    selected = _selected_names(settings)
    kept = [
        item
        for item in items
        if (not selected or concept_of(item).name.casefold() in selected)
        and (settings.min_value is None or concept_of(item).value >= settings.min_value)
    ]
    kept.sort(key=lambda item: (-concept_of(item).value, concept_of(item).name))  # stable for ties
    if settings.max_concepts is not None and settings.max_concepts > 0:
        kept = kept[: settings.max_concepts]
    return kept


def _unique_colour_count(pixels_bgr: np.ndarray) -> int:
    packed = pixels_bgr.reshape(-1, 3).astype(np.uint32)
    return int(np.unique(packed[:, 0] << 16 | packed[:, 1] << 8 | packed[:, 2]).size)


def _colour_clusters(small_bgr: np.ndarray, clusters: int) -> tuple[np.ndarray, np.ndarray]:
    """k-means in Lab: (label per pixel, centre per cluster). Seeded, so repeatable."""
    lab = _bgr_to_lab(small_bgr).reshape(-1, 3)
    k = max(1, min(clusters, _unique_colour_count(small_bgr)))
    if k == 1:
        return np.zeros(len(lab), dtype=np.int32), lab.mean(axis=0, keepdims=True)
    # cv2.setRNGSeed seeds the calling thread's generator, which kmeans draws from.
    cv2.setRNGSeed(12345)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, labels, centres = cv2.kmeans(lab, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    return labels.ravel(), centres


# ---------------------------------------------------------------------------------------------
# Classification: dominant colours

CLASSIFY_SIDE = 200
CLASSIFY_CLUSTERS = 8


def classify_colours(image_bgr: np.ndarray, settings: PredictSettings = PredictSettings()) -> Prediction:
    """The image's dominant named colours; each value is the share of pixels (all sum to 1)."""
    small = _downscale(_as_bgr(image_bgr), CLASSIFY_SIDE)
    labels, centres = _colour_clusters(small, CLASSIFY_CLUSTERS)
    counts = np.bincount(labels, minlength=len(centres)).astype(np.float64)
    shares = np.zeros(len(NAMED_COLOURS))
    np.add.at(shares, nearest_colour_index(centres), counts / counts.sum())
    concepts = [
        Concept(colour.name, float(share), colour.concept_id)
        for colour, share in zip(NAMED_COLOURS, shares)
        if share > 0
    ]
    concepts = _honour_settings(concepts, lambda concept: concept, settings)
    return Prediction(concepts=tuple(concepts), model_label=COLOUR_CLASSIFIER_NAME)


HISTOGRAM_SIDE = 120
COLOUR_HISTOGRAM_NAME = "Colour histogram (local OpenCV)"


def classify_colour_histogram(image_bgr: np.ndarray, settings: PredictSettings = PredictSettings()) -> Prediction:
    """Every pixel named by its nearest named colour, no clustering first; each value is the share of
    pixels (all sum to 1). Where k-means merges similar shades into one, this counts each pixel."""
    small = _downscale(_as_bgr(image_bgr), HISTOGRAM_SIDE)
    names = nearest_colour_index(_bgr_to_lab(small).reshape(-1, 3))
    shares = np.bincount(names, minlength=len(NAMED_COLOURS)) / names.size
    concepts = [
        Concept(colour.name, float(share), colour.concept_id) for colour, share in zip(NAMED_COLOURS, shares) if share > 0
    ]
    concepts = _honour_settings(concepts, lambda concept: concept, settings)
    return Prediction(concepts=tuple(concepts), model_label=COLOUR_HISTOGRAM_NAME)


# ---------------------------------------------------------------------------------------------
# Segmentation: colour regions

SEGMENT_SIDE = 320
SEGMENT_CLUSTERS = 6
SEGMENT_SAMPLE = 20_000  # pixels k-means is fitted on; every pixel is then given its nearest centre


def segment_colours(image_bgr: np.ndarray, settings: PredictSettings = PredictSettings()) -> Prediction:
    """One region per named colour; masks are at the downscaled size, shares sum to 1."""
    return _segment_colours(image_bgr, settings, SEGMENT_CLUSTERS, smoothing=True, label=COLOUR_SEGMENTER_NAME)


FINE_SEGMENT_CLUSTERS = 12
FINE_COLOUR_SEGMENTER_NAME = "Colour regions, fine (local OpenCV)"


def segment_colours_finely(image_bgr: np.ndarray, settings: PredictSettings = PredictSettings()) -> Prediction:
    """Like `segment_colours` with twice the clusters and no smoothing: more, smaller regions."""
    return _segment_colours(image_bgr, settings, FINE_SEGMENT_CLUSTERS, smoothing=False, label=FINE_COLOUR_SEGMENTER_NAME)


def _segment_colours(image_bgr: np.ndarray, settings: PredictSettings, clusters: int, smoothing: bool, label: str) -> Prediction:
    small = _downscale(_as_bgr(image_bgr), SEGMENT_SIDE)
    height, width = small.shape[:2]
    lab = _bgr_to_lab(small).reshape(-1, 3)
    _, centres = _colour_clusters(_sample_pixels(small, SEGMENT_SAMPLE), clusters)
    cluster_of_pixel = _nearest_centre(lab, centres)
    colour_of_cluster = nearest_colour_index(centres)
    colour_map = colour_of_cluster[cluster_of_pixel].reshape(height, width)
    if smoothing:
        colour_map = _majority_filter(colour_map, _smoothing_size(height, width))

    regions = []
    for index in np.unique(colour_map):
        colour = NAMED_COLOURS[int(index)]
        mask = colour_map == index
        concept = Concept(colour.name, float(mask.mean()), colour.concept_id)
        regions.append(Region(concepts=(concept,), mask=mask))
    regions = _honour_settings(regions, lambda region: region.concepts[0], settings)
    return Prediction(regions=tuple(regions), model_label=label)


def _sample_pixels(image: np.ndarray, count: int) -> np.ndarray:
    """An evenly strided subset of the pixels (as an Nx1x3 image), for fitting k-means fast."""
    pixels = image.reshape(-1, 1, 3)
    step = max(1, len(pixels) // count)
    return pixels[::step]


def _nearest_centre(lab: np.ndarray, centres: np.ndarray) -> np.ndarray:
    distances = ((lab[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    return distances.argmin(axis=1)


def _smoothing_size(height: int, width: int) -> int:
    """An odd window about 1/60 of the longer side; 1 (no smoothing) for tiny images."""
    size = max(height, width) // 60
    return size + 1 if size % 2 == 0 else size


def _majority_filter(label_map: np.ndarray, size: int) -> np.ndarray:
    """Each pixel takes the most common label in its window: removes speckle, keeps every pixel labelled."""
    labels = np.unique(label_map)
    if size < 3 or len(labels) < 2:
        return label_map
    votes = np.stack(
        [
            cv2.blur((label_map == label).astype(np.float32), (size, size), borderType=cv2.BORDER_REFLECT)
            for label in labels
        ]
    )
    return labels[votes.argmax(axis=0)]


# ---------------------------------------------------------------------------------------------
# Detection: faces, cat faces and licence plates (Haar cascades), people (HOG), coloured objects
#
# Each finder says only what it can tell: a cascade knows a face, OpenCV's HOG people detector
# knows an upright person, and the colour pass knows only that something of one colour stands
# out from its surroundings, and whether it is round. So a coloured object is named by its colour
# and shape ("red round object", "teal object"), never guessed as an apple or a balloon.

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
_DETECTORS: tuple[_Detector, ...] = (
    _Detector("face", "haarcascade_frontalface_alt2.xml", 1.15, 1 / 30, 4, False),
    _Detector("cat face", "haarcascade_frontalcatface.xml", 1.2, 1 / 8, 4, True),
    _Detector("licence plate", "haarcascade_russian_plate_number.xml", 1.2, 1 / 24, 4, False),
)
PERSON = "person"
ROUND_OBJECT, OBJECT = "round object", "object"
ROUNDNESS_OF_ROUND = 0.6  # area / smallest enclosing circle: a disc is 1, an ellipse 2:1 is 0.5


def colour_object_concept(colour: str, is_round: bool) -> str:
    """What the colour pass calls what it finds: "red round object", "teal object"."""
    return f"{colour} {ROUND_OBJECT if is_round else OBJECT}"


DETECTION_CONCEPTS: tuple[str, ...] = (
    *(d.concept for d in _DETECTORS),
    PERSON,
    *(colour_object_concept(c.name, is_round) for is_round in (True, False) for c in NAMED_COLOURS),
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


@functools.cache
def _load_cascade(cascade_file: str) -> _Cascade:
    path = cv2.data.haarcascades + cascade_file
    classifier = cv2.CascadeClassifier(path)
    if classifier.empty():
        raise OfflineModelError(
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


@dataclass(frozen=True)
class _Found:
    concept: str
    box: Box
    score: float


def detect_objects(image_bgr: np.ndarray, settings: PredictSettings = PredictSettings()) -> Prediction:
    """Faces, cat faces, licence plates, people and coloured objects as boxes with a 0–1 confidence.

    `settings.select_concepts` takes exact names ("face", "red round object") and, for coloured
    objects, the shape words alone: "round object" selects every round one, "object" all of them.
    A finder nobody asked for is not run.
    """
    image = _as_bgr(image_bgr)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    selected = _selected_names(settings)
    cascades = [d for d in _DETECTORS if not selected or d.concept in selected]
    wants_people = not selected or PERSON in selected
    wants_colours = not selected or any(name in _COLOUR_CONCEPTS or name in (ROUND_OBJECT, OBJECT) for name in selected)
    found: list[_Found] = []

    # The colour pass (mostly numpy, one core) runs beside the cascades (OpenCV, every core).
    with ThreadPoolExecutor(max_workers=1) as beside:
        # its upright regions are also where the people pass looks for small people
        colours = beside.submit(_find_colour_objects, image) if wants_people or wants_colours else None
        if cascades:
            scene = cv2.equalizeHist(_downscale(gray, DETECT_SIDE))
            close_up = _close_up_view(gray)
            for detector in cascades:
                found += [_Found(detector.concept, box, score) for box, score in _detect(detector, scene, close_up)]
        if colours is not None:
            colours = colours.result()
    if wants_people:
        found += [_Found(PERSON, box, score) for box, score in _find_people(gray, colours.upright)]
    if wants_colours:
        chosen = [f for f in colours.objects if not selected or _is_selected(f.concept, selected)]
        found += [f for f in chosen if not _mostly_on(f.box, [other.box for other in found])]

    regions = [
        Region(concepts=(Concept(f.concept, f.score, "local-" + f.concept.replace(" ", "-")),), box=f.box)
        for f in found
    ]
    everything = dataclasses.replace(settings, select_concepts=())  # selected above
    regions = _honour_settings(regions, lambda region: region.concepts[0], everything)
    return Prediction(regions=tuple(regions), model_label=LOCAL_DETECTOR_NAME)


CASCADES_NAME = "Faces, cat faces, licence plates (local OpenCV)"


def detect_with_cascades(image_bgr: np.ndarray, settings: PredictSettings = PredictSettings()) -> Prediction:
    """Only the Haar cascades of `detect_objects`: faces, cat faces and licence plates."""
    wanted = tuple(d.concept for d in _DETECTORS)
    selected = _selected_names(settings)
    asked = tuple(name for name in wanted if not selected or name in selected) or ("nothing",)
    prediction = detect_objects(image_bgr, dataclasses.replace(settings, select_concepts=asked))
    return dataclasses.replace(prediction, model_label=CASCADES_NAME)


def _is_selected(colour_concept: str, selected: set[str]) -> bool:
    return colour_concept in selected or any(colour_concept.endswith(" " + name) for name in selected)


def _mostly_on(box: Box, others: list[Box]) -> bool:
    """Whether half of `box`, or of one of `others`, lies on the other: a red coat on a person
    found, a head around a face found. The colour pass does not name those again."""
    for other in others:
        overlap_w = min(box.right, other.right) - max(box.left, other.left)
        overlap_h = min(box.bottom, other.bottom) - max(box.top, other.top)
        smaller = min(_area(box), _area(other))
        if overlap_w > 0 and overlap_h > 0 and smaller > 0 and overlap_w * overlap_h >= 0.5 * smaller:
            return True
    return False


def _area(box: Box) -> float:
    return max(0.0, box.right - box.left) * max(0.0, box.bottom - box.top)


def _close_up_view(gray: np.ndarray) -> tuple[np.ndarray, int]:
    """A small copy with a replicated border, so an object filling the frame fits a detection window."""
    small = _downscale(gray, CLOSE_UP_SIDE)
    padding = round(max(small.shape) * CLOSE_UP_PADDING)
    return cv2.copyMakeBorder(small, padding, padding, padding, padding, cv2.BORDER_REPLICATE), padding


def _detect(
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
    return [(_clipped_box(hits[i]), scores[i]) for i in np.ravel(keep)]


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


def _clipped_box(hit: _Hit) -> Box:
    return _clip(Box(top=hit.y0, left=hit.x0, bottom=hit.y1, right=hit.x1))


# People: OpenCV's HOG people detector (Dalal and Triggs' linear SVM, shipped with OpenCV). Its
# window is 64x128 with the person about 96 px tall in it, so the whole picture is searched at a
# size where people about a third of its height or taller fit; smaller people are looked for only
# around upright regions that stand out (a red coat on a platform), enlarged so that a person as
# tall as the region fills the window. Thresholds, on the shared photos and samples: searched
# whole at 360 px nothing scored at all (at 400 px two fruits scored 1.15); looked at closely,
# metro-north's person scored 0.84 to 1.66 as her region's box moved by a few pixels.
PEOPLE_SCAN_SIDE = 360  # people about 0.36 of a 4:3 picture's height or taller
PEOPLE_SCAN_STEP = 1.1
PEOPLE_SCAN_MIN_WEIGHT = 1.0
PEOPLE_CHECK_STEP = 1.1
PEOPLE_CHECK_MIN_WEIGHT = 0.5
PEOPLE_CHECKS = 3  # upright regions looked at more closely, those standing out most first
PEOPLE_CHECK_MIN_HEIGHT = 24  # px; smaller ones would be enlarged more than 4 times
PEOPLE_CHECK_MAX_HEIGHT = 0.4  # of the picture's height: taller people are found by the whole-picture search
PEOPLE_CHECK_SHAPES = (1.4, 4.5)  # height / width of a region that could be a person or their clothes
PEOPLE_CHECK_REACH = 2.0  # a person up to twice as tall as the region (a coat, a shirt, legs)
_HOG_WINDOW_HEIGHT = 128
_PERSON_IN_WINDOW = (0.2, 0.125, 0.8, 0.875)  # left, top, right, bottom of the person in the window
_PERSON_SHARE_OF_WINDOW = _PERSON_IN_WINDOW[3] - _PERSON_IN_WINDOW[1]
PEOPLE_WEIGHT_SCALE = 1.0  # confidence = 1 - exp(-SVM margin / this)


@dataclass
class _PeopleDetector:
    hog: cv2.HOGDescriptor
    lock: threading.Lock  # one descriptor, many sessions: one detection at a time


@functools.cache
def _load_people_detector() -> _PeopleDetector:
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    return _PeopleDetector(hog, threading.Lock())


def _find_people(gray: np.ndarray, upright: list[Box]) -> list[tuple[Box, float]]:
    """People as boxes around the person (not the detector's window), with a 0–1 confidence."""
    height, width = gray.shape
    scan = _downscale(gray, PEOPLE_SCAN_SIDE)
    windows = _hog_windows(scan, scan.shape[1] / width, (0, 0), PEOPLE_SCAN_STEP, PEOPLE_SCAN_MIN_WEIGHT)
    checks = [box for box in upright if _could_be_a_person(box, width, height)]
    for box in checks[:PEOPLE_CHECKS]:
        windows += _hog_windows_around(gray, box)
    if not windows:
        return []
    boxes = [(x0, y0, x1 - x0, y1 - y0) for x0, y0, x1, y1, _ in windows]
    scores = [min(1.0 - math.exp(-weight / PEOPLE_WEIGHT_SCALE), MAX_CONFIDENCE) for *_, weight in windows]
    keep = cv2.dnn.NMSBoxes(boxes, scores, score_threshold=0.0, nms_threshold=NMS_OVERLAP)
    left, top, right, bottom = _PERSON_IN_WINDOW
    found = []
    for i in np.ravel(keep):
        x0, y0, x1, y1, _ = windows[i]
        w, h = x1 - x0, y1 - y0
        person = Box.from_xyxy(x0 + left * w, y0 + top * h, x0 + right * w, y0 + bottom * h, width, height)
        found.append((_clip(person), scores[i]))
    return found


def _could_be_a_person(region: Box, width: int, height: int) -> bool:
    tall, wide = (region.bottom - region.top) * height, (region.right - region.left) * width
    narrowest, widest = PEOPLE_CHECK_SHAPES
    fits = PEOPLE_CHECK_MIN_HEIGHT <= tall <= PEOPLE_CHECK_MAX_HEIGHT * height
    return fits and narrowest * wide <= tall <= widest * wide


def _hog_windows_around(gray: np.ndarray, region: Box) -> list[tuple[float, float, float, float, float]]:
    """Detector windows that could hold a person including an upright region, looked at enlarged
    so that a person as tall as the region fills the detector's window."""
    height, width = gray.shape
    smallest = (region.bottom - region.top) * height / _PERSON_SHARE_OF_WINDOW
    largest = smallest * PEOPLE_CHECK_REACH
    centre = (region.left + region.right) / 2 * width
    x0, x1 = max(0, round(centre - 0.3 * largest)), min(width, round(centre + 0.3 * largest))
    y0, y1 = max(0, round(region.bottom * height - largest)), min(height, round(region.top * height + largest))
    scale = _HOG_WINDOW_HEIGHT / smallest
    enlarged = cv2.resize(gray[y0:y1, x0:x1], None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    return _hog_windows(enlarged, scale, (x0, y0), PEOPLE_CHECK_STEP, PEOPLE_CHECK_MIN_WEIGHT)


def _hog_windows(
    gray: np.ndarray, scale: float, offset: tuple[int, int], step: float, min_weight: float
) -> list[tuple[float, float, float, float, float]]:
    """(x0, y0, x1, y1, weight) in pixels of the full picture, for windows of `gray` scaled by `scale`."""
    if gray.shape[0] < _HOG_WINDOW_HEIGHT or gray.shape[1] < _HOG_WINDOW_HEIGHT // 2:
        return []
    detector = _load_people_detector()
    with detector.lock:
        rects, weights = detector.hog.detectMultiScale(gray, winStride=(8, 8), scale=step)
    dx, dy = offset
    return [
        (dx + x / scale, dy + y / scale, dx + (x + w) / scale, dy + (y + h) / scale, float(weight))
        for (x, y, w, h), weight in zip(np.reshape(rects, (-1, 4)).tolist(), np.ravel(weights).tolist())
        if weight >= min_weight
    ]


def _clip(box: Box) -> Box:
    def clip(value: float) -> float:
        return min(max(value, 0.0), 1.0)

    return Box(top=clip(box.top), left=clip(box.left), bottom=clip(box.bottom), right=clip(box.right))


# Coloured objects: see components.local_models.colour_objects. The picture is looked at 320 px long, each
# pixel given a colour class: its named colour, or for greys (which have no hue to tell them
# apart) a band of lightness, so a black tyre on a dark grey road is still an edge.
COLOUR_SIDE = 320
GREY_CHROMA = 12.0  # Lab chroma under this is a grey
GREY_STEP = 12.0  # lightness per grey class
MAX_COLOUR_SCORE = 0.9  # standing out by colour is weaker evidence than a trained detector's
COLOUR_CONTRAST_SCALE = 40.0  # score = MAX * solidity * (1 - exp(-contrast / this))
_COLOUR_CONCEPTS = frozenset(
    colour_object_concept(c.name, is_round) for is_round in (True, False) for c in NAMED_COLOURS
)


@dataclass(frozen=True)
class _ColourFindings:
    objects: list[_Found]
    upright: list[Box]  # taller-than-wide regions, those standing out most first


@functools.cache
def _colour_class_table() -> tuple[np.ndarray, tuple[NamedColour, ...]]:
    """The colour class of each 5-bit-per-channel BGR cell, and the named colour of each class."""
    levels = np.arange(32, dtype=np.uint8) * 8 + 4
    b, g, r = np.meshgrid(levels, levels, levels, indexing="ij")
    lab = _bgr_to_lab(np.stack([b, g, r], axis=-1).reshape(1, -1, 3)).reshape(-1, 3)
    grey_levels = int(100 // GREY_STEP) + 1
    grey = len(NAMED_COLOURS) + np.minimum(lab[:, 0] // GREY_STEP, grey_levels - 1).astype(np.int64)
    classes = np.where(np.hypot(lab[:, 1], lab[:, 2]) >= GREY_CHROMA, nearest_colour_index(lab), grey)
    grey_lab = np.array([[(level + 0.5) * GREY_STEP, 0.0, 0.0] for level in range(grey_levels)])
    grey_names = tuple(NAMED_COLOURS[int(i)] for i in nearest_colour_index(grey_lab))
    return classes.astype(np.uint8), NAMED_COLOURS + grey_names


def _find_colour_objects(image_bgr: np.ndarray) -> _ColourFindings:
    small = _downscale(image_bgr, COLOUR_SIDE)
    small = cv2.GaussianBlur(small, (3, 3), 0)  # grain and JPEG noise would cut regions into specks
    table, colour_of_class = _colour_class_table()
    cell = (small >> 3).astype(np.intp)
    classes = table[(cell[..., 0] << 10) | (cell[..., 1] << 5) | cell[..., 2]]
    analysis = find_colour_objects(_bgr_to_lab(small), classes)
    height, width = classes.shape

    def box(pixels: tuple[int, int, int, int]) -> Box:
        return Box.from_xyxy(*pixels, width, height)

    objects = [
        _Found(
            colour_object_concept(colour_of_class[found.colour_class].name, found.roundness >= ROUNDNESS_OF_ROUND),
            box(found.box),
            MAX_COLOUR_SCORE * found.solidity * (1.0 - math.exp(-found.contrast / COLOUR_CONTRAST_SCALE)),
        )
        for found in analysis.objects
    ]
    return _ColourFindings(objects, [box(b) for b in analysis.upright])



# ---------------------------------------------------------------------------------------------
# The models, and one entry point for all of them

Predictor = Callable[[np.ndarray, PredictSettings], Prediction]


@dataclass(frozen=True)
class OfflineModel:
    """A local model: what it is called everywhere it appears, and the function that runs it."""

    name: str
    description: str
    predict: Predictor
    nothing_found_hint: str = ""  # shown when it finds nothing, to say what it can find


COLOUR_CLASSIFIER = OfflineModel(
    COLOUR_CLASSIFIER_NAME,
    "k-means on the pixels, named colours with their share; runs on this server, no Clarifai call",
    classify_colours,
)
LOCAL_DETECTOR = OfflineModel(
    LOCAL_DETECTOR_NAME,
    "OpenCV on this server, no Clarifai call: faces, cat faces and licence plates (Haar cascades), "
    "people (HOG), and things that stand out by colour, named by their colour and shape because "
    "that is all it can tell (“red round object”, “teal object”)",
    detect_objects,
    "The local detector looks only for faces, cat faces, people, licence plates and things that "
    "stand out clearly by colour.",
)
COLOUR_SEGMENTER = OfflineModel(
    COLOUR_SEGMENTER_NAME,
    "k-means colour regions, smoothed; runs on this server, no Clarifai call",
    segment_colours,
)
# Other local models, for comparing local models against each other.
COLOUR_HISTOGRAM = OfflineModel(
    COLOUR_HISTOGRAM_NAME,
    "every pixel named by its nearest colour, no clustering; runs on this server, no Clarifai call",
    classify_colour_histogram,
)
CASCADE_DETECTOR = OfflineModel(
    CASCADES_NAME,
    "OpenCV's Haar cascades alone; runs on this server, no Clarifai call",
    detect_with_cascades,
    "The cascades look only for faces, cat faces and licence plates.",
)
FINE_COLOUR_SEGMENTER = OfflineModel(
    FINE_COLOUR_SEGMENTER_NAME,
    "k-means with twice the colours, not smoothed; runs on this server, no Clarifai call",
    segment_colours_finely,
)

_UNEXPECTED_FAILURE_MESSAGE = (
    "The local model could not process this image. Try another image, or use the Clarifai backend."
)


def predict_offline(model: OfflineModel, images: list[np.ndarray], settings: PredictSettings) -> list[ImageResult]:
    """One result per image, in order; a failure on one image never stops the others."""
    return [_predict_one(model.predict, image, settings) for image in images]


def _predict_one(predictor: Predictor, image: np.ndarray, settings: PredictSettings) -> ImageResult:
    try:
        return ImageResult(prediction=predictor(image, settings))
    except AppError as error:
        return ImageResult(error=error)
    except (cv2.error, ValueError, TypeError, IndexError, MemoryError):
        return ImageResult(error=OfflineModelError(_UNEXPECTED_FAILURE_MESSAGE))
