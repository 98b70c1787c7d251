"""The local colour segmenters: regions of one named colour (k-means in CIE Lab), smoothed, or
finer and not smoothed."""

from __future__ import annotations

import cv2
import numpy as np

from components.colors import NAMED_COLOURS
from components.local_models.colour_maths import bgr_to_lab, colour_clusters, nearest_colour_index
from components.local_models.common import as_bgr, downscale, honour_settings
from components.models import PredictSettings
from components.results import Concept, Prediction, Region

COLOUR_SEGMENTER_NAME = "Colour regions (local OpenCV)"

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
    small = downscale(as_bgr(image_bgr), SEGMENT_SIDE)
    height, width = small.shape[:2]
    lab = bgr_to_lab(small).reshape(-1, 3)
    _, centres = colour_clusters(_sample_pixels(small, SEGMENT_SAMPLE), clusters)
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
