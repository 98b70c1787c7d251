"""The local colour classifiers: the dominant named colours of an image (k-means in CIE Lab), and a
histogram of every pixel's nearest named colour."""

from __future__ import annotations

import numpy as np

from components.colors import NAMED_COLORS
from components.local_models.color_maths import bgr_to_lab, color_clusters, nearest_color_index
from components.local_models.common import bgr_from_any, downscale, honour_settings
from components.models import PredictSettings
from components.results import Concept, Prediction

COLOR_CLASSIFIER_NAME = "Dominant colours (local OpenCV)"

CLASSIFY_SIDE = 200
CLASSIFY_CLUSTERS = 8


def classify_colors(image_bgr: np.ndarray, settings: PredictSettings = PredictSettings()) -> Prediction:
    """The image's dominant named colours; each value is the share of pixels (all sum to 1)."""
    small = downscale(bgr_from_any(image_bgr), CLASSIFY_SIDE)
    labels, centres = color_clusters(small, CLASSIFY_CLUSTERS)
    counts = np.bincount(labels, minlength=len(centres)).astype(np.float64)
    shares = np.zeros(len(NAMED_COLORS))
    np.add.at(shares, nearest_color_index(centres), counts / counts.sum())
    concepts = [
        Concept(color.name, float(share), color.concept_id)
        for color, share in zip(NAMED_COLORS, shares)
        if share > 0
    ]
    concepts = honour_settings(concepts, lambda concept: concept, settings)
    return Prediction(concepts=tuple(concepts), model_label=COLOR_CLASSIFIER_NAME)


HISTOGRAM_SIDE = 120
COLOR_HISTOGRAM_NAME = "Colour histogram (local OpenCV)"


def classify_color_histogram(image_bgr: np.ndarray, settings: PredictSettings = PredictSettings()) -> Prediction:
    """Every pixel named by its nearest named colour, no clustering first; each value is the share of
    pixels (all sum to 1). Where k-means merges similar shades into one, this counts each pixel."""
    small = downscale(bgr_from_any(image_bgr), HISTOGRAM_SIDE)
    names = nearest_color_index(bgr_to_lab(small).reshape(-1, 3))
    shares = np.bincount(names, minlength=len(NAMED_COLORS)) / names.size
    concepts = [
        Concept(color.name, float(share), color.concept_id) for color, share in zip(NAMED_COLORS, shares) if share > 0
    ]
    concepts = honour_settings(concepts, lambda concept: concept, settings)
    return Prediction(concepts=tuple(concepts), model_label=COLOR_HISTOGRAM_NAME)
