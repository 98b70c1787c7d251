"""Plain result types: every backend returns them, every view reads them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from components.errors import AppError


class Task(str, Enum):
    CLASSIFICATION = "classification"
    DETECTION = "detection"
    SEGMENTATION = "segmentation"
    CAPTIONING = "captioning"

    @property
    def title(self) -> str:
        return _TASK_TITLES[self]

    @property
    def model_types(self) -> tuple[str, ...]:
        """Clarifai `model_type_id`s a model must have to serve this task."""
        return _TASK_MODEL_TYPES[self]


_TASK_TITLES = {
    Task.CLASSIFICATION: "Classification",
    Task.DETECTION: "Detection",
    Task.SEGMENTATION: "Segmentation",
    Task.CAPTIONING: "Captioning",
}
_TASK_MODEL_TYPES = {
    Task.CLASSIFICATION: ("visual-classifier",),
    Task.DETECTION: ("visual-detector",),
    Task.SEGMENTATION: ("visual-segmenter",),
    Task.CAPTIONING: ("image-to-text", "multimodal-to-text"),
}


@dataclass(frozen=True)
class Concept:
    name: str
    value: float
    id: str = ""


@dataclass(frozen=True)
class Box:
    """A box as fractions (0–1) of the upright image, Clarifai's convention."""

    top: float
    left: float
    bottom: float
    right: float

    @classmethod
    def from_xyxy(cls, x0: float, y0: float, x1: float, y1: float, width: float, height: float) -> Box:
        """From pixel corners (in either order) of a width x height image (both > 0); not clipped."""
        return cls.from_normalized_xyxy(x0 / width, y0 / height, x1 / width, y1 / height)

    @classmethod
    def from_normalized_xyxy(cls, x0: float, y0: float, x1: float, y1: float, scale: float = 1.0) -> Box:
        """From corners (in either order) on a 0..scale axis: scale 1 for 0–1, 1000 for 0–1000; not clipped."""
        left, right = sorted((x0 / scale, x1 / scale))
        top, bottom = sorted((y0 / scale, y1 / scale))
        return cls(top=top, left=left, bottom=bottom, right=right)

    def to_pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) in pixels, clipped to the image, x1/y1 inclusive."""

        def clip(value: float, size: int) -> int:
            if not np.isfinite(value):
                value = 0.0
            return int(min(max(round(value * size), 0), size - 1))

        x0, x1 = sorted((clip(self.left, width), clip(self.right, width)))
        y0, y1 = sorted((clip(self.top, height), clip(self.bottom, height)))
        return x0, y0, x1, y1

    @property
    def is_empty(self) -> bool:
        return not (self.right > self.left and self.bottom > self.top)


@dataclass(frozen=True, eq=False)
class Region:
    """One detected object or one segment.

    Detection: `box` set, `concepts` are its labels. Segmentation: `mask` set (boolean, any
    size: views resize it to the picture), `concepts[0].value` is the share of the image covered.
    """

    concepts: tuple[Concept, ...]
    box: Box | None = None
    mask: np.ndarray | None = None

    @property
    def top_concept(self) -> Concept | None:
        return max(self.concepts, key=lambda c: c.value, default=None)


@dataclass(frozen=True)
class Status:
    code: int
    description: str = ""
    details: str = ""

    @property
    def ok(self) -> bool:
        return self.code == SUCCESS


SUCCESS = 10000


@dataclass(frozen=True, eq=False)
class Prediction:
    """What one model said about one image."""

    concepts: tuple[Concept, ...] = ()
    regions: tuple[Region, ...] = ()
    caption: str = ""
    status: Status = field(default_factory=lambda: Status(SUCCESS, "Ok"))
    model_label: str = ""
    raw: dict[str, Any] | None = None  # the output as JSON (json_format), for exports
    notes: tuple[str, ...] = ()  # things the viewer should know, e.g. a mask that could not be decoded

    @property
    def sorted_concepts(self) -> tuple[Concept, ...]:
        return tuple(sorted(self.concepts, key=lambda c: c.value, reverse=True))


@dataclass(frozen=True, eq=False)
class ImageResult:
    """One input's outcome: a prediction, or the error that stopped it."""

    prediction: Prediction | None = None
    error: AppError | None = None

    @property
    def ok(self) -> bool:
        return self.prediction is not None and self.error is None
