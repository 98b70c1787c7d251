"""Pictures and measures the local model tests share."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from components.colors import NAMED_COLORS
from components.images.samples import sample_bytes
from components.results import Box

RED, BLUE, GREEN = (0, 0, 255), (255, 0, 0), (0, 255, 0)  # BGR
COLOR_NAMES = {color.name for color in NAMED_COLORS}


def photo(testdata: Path, name: str) -> np.ndarray:
    image = cv2.imread(str(testdata / "photos" / name))
    assert image is not None, name
    return image


def sample_picture(key: str) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(sample_bytes(key), np.uint8), cv2.IMREAD_COLOR)


def red_and_blue(width: int = 400, height: int = 300, red_share: float = 0.7) -> np.ndarray:
    """Left part pure red, the rest pure blue."""
    image = np.zeros((height, width, 3), np.uint8)
    split = round(width * red_share)
    image[:, :split] = RED
    image[:, split:] = BLUE
    return image


def values(prediction) -> dict[str, float]:
    return {concept.name: concept.value for concept in prediction.concepts}


def region_shares(prediction) -> dict[str, float]:
    return {region.concepts[0].name: region.concepts[0].value for region in prediction.regions}


def regions_named(prediction, name: str):
    return [region for region in prediction.regions if region.concepts[0].name == name]


def iou(a: Box, b: Box) -> float:
    width = max(0.0, min(a.right, b.right) - max(a.left, b.left))
    height = max(0.0, min(a.bottom, b.bottom) - max(a.top, b.top))
    inter = width * height
    union = (a.right - a.left) * (a.bottom - a.top) + (b.right - b.left) * (b.bottom - b.top) - inter
    return inter / union if union > 0 else 0.0


def contains(box: Box, x: float, y: float) -> bool:
    return box.left <= x <= box.right and box.top <= y <= box.bottom
