"""The local colour segmenters: regions of one named colour (k-means in CIE Lab), smoothed, or
finer and not smoothed."""

from __future__ import annotations

import cv2
import numpy as np

from components.colors import NAMED_COLORS
from components.local_models.color_maths import bgr_to_lab, color_clusters, nearest_color_index
from components.local_models.common import bgr_from_any, downscale, honour_settings
from components.models import PredictSettings
from components.results import Concept, Prediction, Region

COLOR_SEGMENTER_NAME = "Colour regions (local OpenCV)"

SEGMENT_SIDE = 320
SEGMENT_CLUSTERS = 6
SEGMENT_SAMPLE = 20_000  # pixels k-means is fitted on; every pixel is then given its nearest centre


def segment_colors(image_bgr: np.ndarray, settings: PredictSettings = PredictSettings()) -> Prediction:
    """One region per named colour; masks are at the downscaled size, shares sum to 1."""
    return _segment_colors(image_bgr, settings, SEGMENT_CLUSTERS, smoothing=True, label=COLOR_SEGMENTER_NAME)


FINE_SEGMENT_CLUSTERS = 12
FINE_COLOR_SEGMENTER_NAME = "Colour regions, fine (local OpenCV)"


def segment_colors_finely(image_bgr: np.ndarray, settings: PredictSettings = PredictSettings()) -> Prediction:
    """Like `segment_colours` with twice the clusters and no smoothing: more, smaller regions."""
    return _segment_colors(image_bgr, settings, FINE_SEGMENT_CLUSTERS, smoothing=False, label=FINE_COLOR_SEGMENTER_NAME)


def _segment_colors(image_bgr: np.ndarray, settings: PredictSettings, clusters: int, smoothing: bool, label: str) -> Prediction:
    small = downscale(bgr_from_any(image_bgr), SEGMENT_SIDE)
    height, width = small.shape[:2]
    lab = bgr_to_lab(small).reshape(-1, 3)
    _, centres = color_clusters(_sample_pixels(small, SEGMENT_SAMPLE), clusters)
    cluster_of_pixel = _nearest_centre(lab, centres)
    color_of_cluster = nearest_color_index(centres)
    color_map = color_of_cluster[cluster_of_pixel].reshape(height, width)
    if smoothing:
        color_map = _majority_filter(color_map, _smoothing_size(height, width))

    regions = []
    for index in np.unique(color_map):
        color = NAMED_COLORS[int(index)]
        mask = color_map == index
        concept = Concept(color.name, float(mask.mean()), color.concept_id)
        regions.append(Region(concepts=(concept,), mask=mask))
    regions = honour_settings(regions, lambda region: region.concepts[0], settings)
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
