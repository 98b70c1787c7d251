"""Boxes of people, faces and objects labelled by hand on the app's samples and the shared photos,
and precision and recall of a detector against them at IoU 0.5.

The samples' boxes are measured from their painting code (components/images/samples.py), at
1024x768; the photos' boxes were read off each photo with a grid of tenths drawn over it. A
label marked `optional` is something a detector may box or leave alone (a flag, a badge on a
suit, the glowing sun): a box on it counts neither way, as PASCAL VOC's "difficult" objects.
Kinds: "person", "face", "cat face", "licence plate" and "object", which any of the colour
pass's "<colour> object" and "<colour> round object" boxes may match.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from components.images.preparation import prepare_upload
from components.images.samples import sample_bytes
from components.results import Box, Region

IOU_MATCH = 0.5
KINDS = ("person", "face", "cat face", "licence plate", "object")


@dataclass(frozen=True)
class Label:
    kind: str
    box: Box
    what: str
    optional: bool = False


def _px(kind: str, what: str, x0: float, y0: float, x1: float, y1: float, width: int = 1024, height: int = 768,
        optional: bool = False) -> Label:
    return Label(kind, Box.from_xyxy(x0, y0, x1, y1, width, height), what, optional)


def _frac(kind: str, what: str, left: float, top: float, right: float, bottom: float, optional: bool = False) -> Label:
    return Label(kind, Box(top=top, left=left, bottom=bottom, right=right), what, optional)


SAMPLE_LABELS: dict[str, tuple[Label, ...]] = {
    "street": (
        _px("object", "red house", 0, 230, 180, 520),
        _px("object", "yellow house", 180, 150, 360, 520),
        _px("object", "teal house", 360, 260, 520, 520),
        _px("object", "purple house", 520, 190, 700, 520),
        _px("object", "orange house", 700, 240, 860, 520),
        _px("object", "blue house", 860, 170, 1024, 520),
        _px("object", "left tree's crown", 67, 320, 230, 473),
        _px("object", "middle tree's crown", 527, 320, 690, 473),
        _px("object", "right tree's crown", 867, 320, 1024, 473),
        _px("object", "traffic light", 438, 250, 482, 360, optional=True),
        _px("object", "red car", 70, 558, 290, 679),
        _px("object", "blue car", 420, 570, 640, 691),
        _px("object", "yellow car", 760, 556, 980, 677),
    ),
    "sunset": (
        _px("object", "sun", 555, 345, 725, 515, optional=True),
        _px("object", "boat", 250, 470, 370, 585, optional=True),
    ),
    "fruit": (
        _px("object", "apple", 263, 388, 427, 552),
        _px("object", "orange", 434, 414, 606, 586),
        _px("object", "plum", 183, 498, 307, 622),
        _px("object", "the other apple", 568, 518, 712, 662),
        _px("object", "lemon", 339, 581, 501, 679),
        _px("object", "grapes", 662, 426, 841, 528),
        _px("object", "banana", 272, 360, 768, 471),
        _px("object", "plate", 182, 355, 842, 655, optional=True),
    ),
    "balloons": (
        _px("object", "red and yellow balloon", 190, 190, 410, 460),
        _px("object", "teal and white balloon", 620, 180, 780, 376),
        _px("object", "purple and coral balloon", 820, 410, 920, 533),
        _px("object", "orange and navy balloon", 482, 482, 558, 575),
    ),
}

# The shared photos, as fractions of the upright picture. "park", "puppies" and "hopper" are the
# photos among testdata/formats: a man bending over a pram, three puppies, Grace Hopper.
PHOTO_FILES = {
    "metro-north": "photos/metro-north.jpg",
    "astronaut": "photos/astronaut.png",
    "chelsea": "photos/chelsea.png",
    "coffee": "photos/coffee.png",
    "red-truck": "photos/red-truck.png",
    "park": "formats/Channel_digital_image_CMYK_color.jpg",
    "puppies": "formats/app13-multiple.jpg",
    "hopper": "formats/hopper.bmp",
}

PHOTO_LABELS: dict[str, tuple[Label, ...]] = {
    "metro-north": (
        _frac("person", "woman in a red coat", 0.647, 0.497, 0.697, 0.669),
        _frac("object", "newspaper box", 0.74, 0.55, 0.885, 0.845),
        _frac("person", "people far off on the other platform", 0.0, 0.48, 0.35, 0.58, optional=True),
        _frac("object", "bench", 0.83, 0.70, 1.0, 0.97, optional=True),
    ),
    "astronaut": (
        _frac("person", "astronaut", 0.04, 0.03, 0.72, 1.0),
        _frac("face", "astronaut's face", 0.35, 0.13, 0.53, 0.31),
        _frac("object", "helmet", 0.55, 0.67, 0.97, 1.0),
        _frac("object", "shuttle model", 0.69, 0.0, 0.90, 0.55),
        _frac("object", "mission patch", 0.26, 0.68, 0.41, 0.83, optional=True),
        _frac("object", "flag", 0.0, 0.0, 0.19, 1.0, optional=True),
    ),
    "chelsea": (
        _frac("cat face", "cat's face", 0.05, 0.0, 0.95, 1.0),
    ),
    "coffee": (
        _frac("object", "cup", 0.29, 0.04, 0.685, 0.72),
        _frac("object", "coffee in the cup", 0.29, 0.04, 0.685, 0.51, optional=True),
        _frac("object", "saucer", 0.13, 0.2, 0.8, 0.97, optional=True),
        _frac("object", "spoon", 0.54, 0.17, 0.68, 0.81, optional=True),
    ),
    "red-truck": (
        _px("object", "truck", 56, 1, 482, 232, 538, 238),
    ),
    "park": (
        _frac("person", "man bending over the pram", 0.545, 0.19, 0.77, 0.89),
        _frac("person", "child in the pram", 0.58, 0.48, 0.75, 0.76),
        _frac("face", "child's face", 0.61, 0.50, 0.67, 0.58, optional=True),
        _frac("face", "man's face, looking down", 0.56, 0.20, 0.64, 0.31, optional=True),
        _frac("object", "bench", 0.30, 0.50, 0.55, 0.75),
        _frac("object", "pram", 0.58, 0.43, 0.76, 0.93, optional=True),
        _frac("object", "dog", 0.35, 0.72, 0.56, 0.95, optional=True),
        _frac("person", "walker far off", 0.95, 0.40, 0.99, 0.52, optional=True),
    ),
    "puppies": (
        _frac("object", "puppy on the left", 0.17, 0.34, 0.41, 0.88),
        _frac("object", "puppy in the middle", 0.47, 0.23, 0.64, 0.90),
        _frac("object", "puppy on the right", 0.66, 0.38, 0.87, 0.90),
    ),
    "hopper": (
        _frac("person", "Grace Hopper", 0.04, 0.0, 0.97, 1.0),
        _frac("face", "her face", 0.29, 0.22, 0.69, 0.60),
        _frac("object", "flag", 0.0, 0.0, 0.37, 0.75, optional=True),
        _frac("object", "medal ribbons", 0.61, 0.89, 0.85, 0.97, optional=True),
        _frac("object", "cap badge", 0.33, 0.02, 0.66, 0.17, optional=True),
    ),
}


def sample_image(key: str) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(sample_bytes(key), np.uint8), cv2.IMREAD_COLOR)


def photo_image(testdata: Path, key: str) -> np.ndarray:
    """The photo upright and as the app reads it (colour profiles applied, alpha on white)."""
    path = testdata / PHOTO_FILES[key]
    return prepare_upload(path.name, path.read_bytes()).pixels()


def kind_of(concept: str) -> str:
    """The label kind a detector's concept can match: "red round object" is an "object"."""
    return "object" if concept.endswith("object") else concept


def iou(a: Box, b: Box) -> float:
    width = max(0.0, min(a.right, b.right) - max(a.left, b.left))
    height = max(0.0, min(a.bottom, b.bottom) - max(a.top, b.top))
    inter = width * height
    union = (a.right - a.left) * (a.bottom - a.top) + (b.right - b.left) * (b.bottom - b.top) - inter
    return inter / union if union > 0 else 0.0


@dataclass(frozen=True)
class Score:
    true_positives: int
    false_positives: int
    labels: int  # labels that are not optional
    false: tuple[str, ...] = ()  # "blue object" boxes that matched nothing, for messages
    missed: tuple[str, ...] = ()

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.labels if self.labels else 1.0

    def __add__(self, other: Score) -> Score:
        return Score(
            self.true_positives + other.true_positives,
            self.false_positives + other.false_positives,
            self.labels + other.labels,
            self.false + other.false,
            self.missed + other.missed,
        )


def score(regions: Iterable[Region], labels: Sequence[Label]) -> Score:
    """Greedy matching, best-scored box first: a box matches the unmatched label of its kind it
    overlaps most, at IoU >= 0.5. A box matching an optional label, or overlapping one at 0.5
    when nothing else is left for it, is not counted."""
    boxes = sorted((r for r in regions if r.box is not None and r.top_concept is not None),
                   key=lambda r: -r.top_concept.value)
    taken: set[int] = set()
    true_positives, false = 0, []
    for region in boxes:
        kind = kind_of(region.top_concept.name)
        candidates = [
            (iou(region.box, label.box), index)
            for index, label in enumerate(labels)
            if label.kind == kind and index not in taken
        ]
        best, index = max(candidates, default=(0.0, -1))
        if best >= IOU_MATCH:
            taken.add(index)
            true_positives += not labels[index].optional
            continue
        if any(label.optional and label.kind == kind and iou(region.box, label.box) >= IOU_MATCH for label in labels):
            continue
        box = region.box
        false.append(f"{region.top_concept.name} at ({box.left:.2f}, {box.top:.2f}, {box.right:.2f}, {box.bottom:.2f})")
    required = [index for index, label in enumerate(labels) if not label.optional]
    missed = tuple(labels[index].what for index in required if index not in taken)
    return Score(true_positives, len(false), len(required), tuple(false), missed)
