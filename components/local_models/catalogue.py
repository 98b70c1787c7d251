"""The local models that run with no network and no downloads, and return the same result types
as the Clarifai backend: the model type, the models, and predicting over a list of images.

- COLOUR_CLASSIFIER: the dominant named colours of the image (k-means in CIE Lab);
- LOCAL_DETECTOR: faces, cat faces and licence plates (OpenCV's Haar cascades), people (OpenCV's
  HOG people detector) and coloured objects that stand out (components.local_models.color_objects);
- COLOUR_SEGMENTER: regions of one named colour (k-means in CIE Lab, smoothed);
- COLOUR_HISTOGRAM, CASCADE_DETECTOR, FINE_COLOUR_SEGMENTER: others, for comparing local models
  against each other.

`components.tasks` says which task each stands in for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from components.errors import AppError
from components.local_models.classifier import (
    COLOR_CLASSIFIER_NAME,
    COLOR_HISTOGRAM_NAME,
    classify_color_histogram,
    classify_colors,
)
from components.local_models.common import LocalModelError
from components.local_models.detector import CASCADES_NAME, LOCAL_DETECTOR_NAME, detect_objects, detect_with_cascades
from components.local_models.segmenter import (
    COLOR_SEGMENTER_NAME,
    FINE_COLOR_SEGMENTER_NAME,
    segment_colors,
    segment_colors_finely,
)
from components.models import PredictSettings
from components.results import ImageResult, Prediction

Predictor = Callable[[np.ndarray, PredictSettings], Prediction]


@dataclass(frozen=True)
class LocalModel:
    """A local model: what it is called everywhere it appears, and the function that runs it."""

    name: str
    description: str
    predict: Predictor
    nothing_found_hint: str = ""  # shown when it finds nothing, to say what it can find


COLOR_CLASSIFIER = LocalModel(
    COLOR_CLASSIFIER_NAME,
    "k-means on the pixels, named colours with their share; runs on this server, no Clarifai call",
    classify_colors,
)
LOCAL_DETECTOR = LocalModel(
    LOCAL_DETECTOR_NAME,
    "OpenCV on this server, no Clarifai call: faces, cat faces and licence plates (Haar cascades), "
    "people (HOG, and the person behind each face), and vivid things that stand out by colour away "
    "from people, named by their colour and shape because that is all it can tell "
    "(“red round object”, “teal object”)",
    detect_objects,
    "The local detector looks only for faces, cat faces, people, licence plates and things that "
    "stand out clearly by a vivid colour.",
)
COLOR_SEGMENTER = LocalModel(
    COLOR_SEGMENTER_NAME,
    "k-means colour regions, smoothed; runs on this server, no Clarifai call",
    segment_colors,
)
# Other local models, for comparing local models against each other.
COLOR_HISTOGRAM = LocalModel(
    COLOR_HISTOGRAM_NAME,
    "every pixel named by its nearest colour, no clustering; runs on this server, no Clarifai call",
    classify_color_histogram,
)
CASCADE_DETECTOR = LocalModel(
    CASCADES_NAME,
    "OpenCV's Haar cascades alone; runs on this server, no Clarifai call",
    detect_with_cascades,
    "The cascades look only for faces, cat faces and licence plates.",
)
FINE_COLOR_SEGMENTER = LocalModel(
    FINE_COLOR_SEGMENTER_NAME,
    "k-means with twice the colours, not smoothed; runs on this server, no Clarifai call",
    segment_colors_finely,
)

_UNEXPECTED_FAILURE_MESSAGE = (
    "The local model could not process this image. Try another image, or use the Clarifai backend."
)


WORKING_BYTES_PER_PIXEL = 48  # the most any local model here takes while it runs, OpenCV's own buffers included


def local_prediction_bytes(width: int, height: int) -> int:
    """About the most memory one local prediction on a width x height picture takes while it runs."""
    return WORKING_BYTES_PER_PIXEL * max(width, 1) * max(height, 1) + 4 * 1024 * 1024


def predict_local(model: LocalModel, images: list[np.ndarray], settings: PredictSettings) -> list[ImageResult]:
    """One result per image, in order; a failure on one image never stops the others."""
    return [_predict_one(model.predict, image, settings) for image in images]


def _predict_one(predictor: Predictor, image: np.ndarray, settings: PredictSettings) -> ImageResult:
    try:
        return ImageResult(prediction=predictor(image, settings))
    except AppError as error:
        return ImageResult(error=error)
    except (cv2.error, ValueError, TypeError, IndexError, MemoryError):
        return ImageResult(error=LocalModelError(_UNEXPECTED_FAILURE_MESSAGE))
