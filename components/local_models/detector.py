"""The local detector: faces, cat faces and licence plates (components.local_models.cascades),
people (OpenCV's HOG people detector, and the person a frontal face belongs to) and saturated
coloured objects that stand out (components.local_models.color_objects) away from people, as
boxes with a 0–1 confidence; and the cascades alone. Its precision against boxes labelled by
hand is measured in bench/bench_detection_quality.py."""

from __future__ import annotations

import dataclasses
import functools
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from components.colors import NAMED_COLORS, NamedColor
from components.local_models.cascades import DETECT_SIDE, DETECTORS, MAX_CONFIDENCE, NMS_OVERLAP, close_up_view, detect
from components.local_models.color_maths import bgr_to_lab, nearest_color_index
from components.local_models.color_objects import ColorObject, find_color_objects
from components.local_models.common import bgr_from_any, downscale, honour_settings, selected_names
from components.memory import one_at_a_time
from components.models import PredictSettings
from components.results import Box, Concept, Prediction, Region

LOCAL_DETECTOR_NAME = "People, faces and coloured objects (local OpenCV)"

# Each finder says only what it can tell: a cascade knows a face, OpenCV's HOG people detector
# knows an upright person, and the colour pass knows only that something of one colour stands
# out from its surroundings, and whether it is round. So a coloured object is named by its colour
# and shape ("red round object", "teal object"), never guessed as an apple or a balloon.

PERSON = "person"
FACE = "face"
ROUND_OBJECT, OBJECT = "round object", "object"
ROUNDNESS_OF_ROUND = 0.6  # area / smallest enclosing circle: a disc is 1, an ellipse 2:1 is 0.5


def color_object_concept(color: str, is_round: bool) -> str:
    """What the colour pass calls what it finds: "red round object", "teal object"."""
    return f"{color} {ROUND_OBJECT if is_round else OBJECT}"


DETECTION_CONCEPTS: tuple[str, ...] = (
    *(d.concept for d in DETECTORS),
    PERSON,
    *(color_object_concept(c.name, is_round) for is_round in (True, False) for c in NAMED_COLORS),
)


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
    image = bgr_from_any(image_bgr)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    selected = selected_names(settings)
    wants_people = not selected or PERSON in selected
    wants_colors = not selected or any(name in _COLOR_CONCEPTS or name in (ROUND_OBJECT, OBJECT) for name in selected)
    # Faces also say where people are: a person's box, and where coloured things are clothes.
    cascades = [
        d for d in DETECTORS
        if not selected or d.concept in selected or (d.concept == FACE and (wants_people or wants_colors))
    ]
    found: list[_Found] = []

    # The colour pass (mostly numpy, one core) runs beside the cascades (OpenCV, every core).
    with ThreadPoolExecutor(max_workers=1) as beside:
        # its upright regions are also where the people pass looks for small people
        colors = beside.submit(_find_color_objects, image) if wants_people or wants_colors else None
        if cascades:
            scene = cv2.equalizeHist(downscale(gray, DETECT_SIDE))
            close_up = close_up_view(gray)
            for detector in cascades:
                found += [_Found(detector.concept, box, score) for box, score in detect(detector, scene, close_up)]
        if colors is not None:
            colors = colors.result()
    faces = [f for f in found if f.concept == FACE]
    people: list[_Found] = []
    if wants_people or wants_colors:
        people = _people(_find_people(gray, colors.upright), faces)
    if wants_colors:
        worn = [f.box for f in people] + [person_from_face(f.box) for f in faces]
        chosen = [f for f in colors.objects if not selected or _is_selected(f.concept, selected)]
        found += [
            f for f in chosen
            if not _mostly_on(f.box, [other.box for other in found + people]) and not _worn(f.box, worn)
        ]
    found += people if wants_people else []
    found = [f for f in found if not selected or f.concept in selected or f.concept.endswith(OBJECT)]

    regions = [
        Region(concepts=(Concept(f.concept, f.score, "local-" + f.concept.replace(" ", "-")),), box=f.box)
        for f in found
    ]
    everything = dataclasses.replace(settings, select_concepts=())  # selected above
    regions = honour_settings(regions, lambda region: region.concepts[0], everything)
    return Prediction(regions=tuple(regions), model_label=LOCAL_DETECTOR_NAME)


CASCADES_NAME = "Faces, cat faces, licence plates (local OpenCV)"


def detect_with_cascades(image_bgr: np.ndarray, settings: PredictSettings = PredictSettings()) -> Prediction:
    """Only the Haar cascades of `detect_objects`: faces, cat faces and licence plates."""
    wanted = tuple(d.concept for d in DETECTORS)
    selected = selected_names(settings)
    asked = tuple(name for name in wanted if not selected or name in selected) or ("nothing",)
    prediction = detect_objects(image_bgr, dataclasses.replace(settings, select_concepts=asked))
    return dataclasses.replace(prediction, model_label=CASCADES_NAME)


def _is_selected(color_concept: str, selected: set[str]) -> bool:
    return color_concept in selected or any(color_concept.endswith(" " + name) for name in selected)


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


# A frontal face stands for a person: shoulders up to four face widths across (a suit, a coat), the body below
# it. The box is a guess at where the person is, held to the picture, so in a portrait it is
# the sitter. Colour objects with a third of their box where a person is are clothes, badges or
# skin (a navy shirt, an orange suit, a hand), not objects.
PERSON_FROM_FACE_WIDTH = 2.0  # face widths either side of the face's centre
PERSON_FROM_FACE_ABOVE = 0.5  # face heights above the face (hair)
PERSON_FROM_FACE_BELOW = 6.0  # face heights below the face
PERSON_FROM_FACE_SCORE = 0.8  # of the face's confidence: the body is inferred, not seen
WORN_SHARE = 0.3


def person_from_face(face: Box) -> Box:
    """Where the person a face belongs to is: the face, the hair above it, the body below."""
    width, height = face.right - face.left, face.bottom - face.top
    centre = (face.left + face.right) / 2
    return Box(
        top=face.top - PERSON_FROM_FACE_ABOVE * height,
        left=centre - PERSON_FROM_FACE_WIDTH * width,
        bottom=face.bottom + PERSON_FROM_FACE_BELOW * height,
        right=centre + PERSON_FROM_FACE_WIDTH * width,
    ).clamped()


def _people(seen: list[tuple[Box, float]], faces: list[_Found]) -> list[_Found]:
    """People the HOG detector saw and people whose faces were found, one box per person
    (non-maximum suppression across both; a face inside a seen person adds nobody)."""
    candidates = [_Found(PERSON, box, score) for box, score in seen]
    for face in faces:
        if not any(_share_inside(face.box, person.box) >= 0.5 for person in candidates):
            candidates.append(_Found(PERSON, person_from_face(face.box), face.score * PERSON_FROM_FACE_SCORE))
    if len(candidates) < 2:
        return candidates
    boxes = [(f.box.left, f.box.top, f.box.right - f.box.left, f.box.bottom - f.box.top) for f in candidates]
    keep = cv2.dnn.NMSBoxes(boxes, [f.score for f in candidates], score_threshold=0.0, nms_threshold=NMS_OVERLAP)
    return [candidates[i] for i in sorted(np.ravel(keep).tolist())]


def _worn(box: Box, people: list[Box]) -> bool:
    return any(_share_inside(box, person) >= WORN_SHARE for person in people)


def _share_inside(box: Box, area: Box) -> float:
    width = max(0.0, min(box.right, area.right) - max(box.left, area.left))
    height = max(0.0, min(box.bottom, area.bottom) - max(box.top, area.top))
    own = _area(box)
    return width * height / own if own > 0 else 0.0


def _area(box: Box) -> float:
    return max(0.0, box.right - box.left) * max(0.0, box.bottom - box.top)


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


@one_at_a_time
@functools.cache
def _load_people_detector() -> _PeopleDetector:
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    return _PeopleDetector(hog, threading.Lock())


def _find_people(gray: np.ndarray, upright: list[Box]) -> list[tuple[Box, float]]:
    """People as boxes around the person (not the detector's window), with a 0–1 confidence."""
    height, width = gray.shape
    scan = downscale(gray, PEOPLE_SCAN_SIDE)
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
        found.append((person.clamped(), scores[i]))
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


# Coloured objects: see components.local_models.colour_objects. The picture is looked at 320 px long, each
# pixel given a colour class: its named colour, or for greys (which have no hue to tell them
# apart) a band of lightness, so a black tyre on a dark grey road is still an edge.
COLOR_SIDE = 320
GREY_CHROMA = 12.0  # Lab chroma under this is a grey
GREY_STEP = 12.0  # lightness per grey class
MAX_COLOR_SCORE = 0.9  # standing out by colour is weaker evidence than a trained detector's
COLOR_CONTRAST_SCALE = 40.0  # score = MAX * solidity * (1 - exp(-contrast / this))
# Only saturated things count as coloured objects: the mean Lab chroma of the pixels of their
# main colour at least VIVID_CHROMA, or at least FAINT_CHROMA with FAINT_CONTRAST to their
# surroundings. Skin, hands, faces, jeans, fur, wood and grass in the shared photos came to 18
# to 32 with contrasts under 45 (one of 37); the samples' painted things 39 to 78, and a teal
# balloon striped with white, shaded, 30 at a contrast of 46.
VIVID_CHROMA = 36.0
FAINT_CHROMA = 28.0
FAINT_CONTRAST = 42.0
_COLOR_CONCEPTS = frozenset(
    color_object_concept(c.name, is_round) for is_round in (True, False) for c in NAMED_COLORS
)


@dataclass(frozen=True)
class _ColorFindings:
    objects: list[_Found]
    upright: list[Box]  # taller-than-wide regions, those standing out most first


@one_at_a_time
@functools.cache
def _color_class_table() -> tuple[np.ndarray, tuple[NamedColor, ...]]:
    """The colour class of each 5-bit-per-channel BGR cell, and the named colour of each class."""
    levels = np.arange(32, dtype=np.uint8) * 8 + 4
    b, g, r = np.meshgrid(levels, levels, levels, indexing="ij")
    lab = bgr_to_lab(np.stack([b, g, r], axis=-1).reshape(1, -1, 3)).reshape(-1, 3)
    grey_levels = int(100 // GREY_STEP) + 1
    grey = len(NAMED_COLORS) + np.minimum(lab[:, 0] // GREY_STEP, grey_levels - 1).astype(np.int64)
    classes = np.where(np.hypot(lab[:, 1], lab[:, 2]) >= GREY_CHROMA, nearest_color_index(lab), grey)
    grey_lab = np.array([[(level + 0.5) * GREY_STEP, 0.0, 0.0] for level in range(grey_levels)])
    grey_names = tuple(NAMED_COLORS[int(i)] for i in nearest_color_index(grey_lab))
    return classes.astype(np.uint8), NAMED_COLORS + grey_names


def _is_vivid(found: ColorObject) -> bool:
    return found.chroma >= VIVID_CHROMA or (found.chroma >= FAINT_CHROMA and found.contrast >= FAINT_CONTRAST)


def _find_color_objects(image_bgr: np.ndarray) -> _ColorFindings:
    small = downscale(image_bgr, COLOR_SIDE)
    small = cv2.GaussianBlur(small, (3, 3), 0)  # grain and JPEG noise would cut regions into specks
    table, color_of_class = _color_class_table()
    cell = (small >> 3).astype(np.intp)
    classes = table[(cell[..., 0] << 10) | (cell[..., 1] << 5) | cell[..., 2]]
    analysis = find_color_objects(bgr_to_lab(small), classes)
    height, width = classes.shape

    def box(pixels: tuple[int, int, int, int]) -> Box:
        return Box.from_xyxy(*pixels, width, height)

    objects = [
        _Found(
            color_object_concept(color_of_class[found.color_class].name, found.roundness >= ROUNDNESS_OF_ROUND),
            box(found.box),
            MAX_COLOR_SCORE * found.solidity * (1.0 - math.exp(-found.contrast / COLOR_CONTRAST_SCALE)),
        )
        for found in analysis.objects
        if _is_vivid(found)
    ]
    return _ColorFindings(objects, [box(b) for b in analysis.upright])
