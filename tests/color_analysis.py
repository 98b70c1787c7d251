"""What the local Clarifai "sees" in a picture: named colours, their shares, blobs of saturated colour.

Shared by the classic fake models (tests/fake_clarifai.py) and the runner-served ones
(tests/runner_models.py), so every answer is computed from the bytes received.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

ANALYSIS_SIDE = 256  # answers are computed on a copy at most this big

NAMED_COLORS = {
    "red": (220, 30, 30),
    "orange": (245, 140, 20),
    "yellow": (240, 220, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "purple": (130, 50, 170),
    "pink": (240, 130, 180),
    "brown": (120, 75, 40),
    "black": (15, 15, 15),
    "white": (245, 245, 245),
    "gray": (128, 128, 128),
}
COLOR_NAMES = list(NAMED_COLORS)
ORIENTATIONS = ("landscape", "portrait", "square")
_COLOR_TABLE = np.array(list(NAMED_COLORS.values()), dtype=np.float32)
# OpenCV hue (0–180) bands for saturated colours, used to find blobs.
HUE_BANDS = [
    ("red", 0, 8),
    ("orange", 8, 22),
    ("yellow", 22, 35),
    ("green", 35, 85),
    ("blue", 85, 130),
    ("purple", 130, 155),
    ("pink", 155, 170),
    ("red", 170, 181),
]
BLOB_NAMES = sorted({name for name, _, _ in HUE_BANDS})


def pixels_as_stored(data: bytes) -> tuple[np.ndarray, tuple[int, int]]:
    """A small RGB copy of the picture as stored (EXIF orientation ignored, as Clarifai does)
    and the picture's full (width, height)."""
    with Image.open(io.BytesIO(data)) as opened:
        size = opened.size
        opened.draft("RGB", (ANALYSIS_SIDE, ANALYSIS_SIDE))
        rgb = opened.convert("RGB")
    rgb.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE))
    return np.asarray(rgb), size


def color_labels(rgb: np.ndarray) -> np.ndarray:
    """Each pixel's nearest named colour, as an index into COLOUR_NAMES."""
    pixels = rgb.reshape(-1, 3).astype(np.float32)
    distances = ((pixels[:, None, :] - _COLOR_TABLE[None, :, :]) ** 2).sum(axis=2)
    return distances.argmin(axis=1).reshape(rgb.shape[:2])


def color_shares(labels: np.ndarray) -> list[tuple[int, float]]:
    """(colour index, share of the pixels), largest share first."""
    counts = np.bincount(labels.ravel(), minlength=len(COLOR_NAMES))
    total = counts.sum()
    return sorted(((i, float(c / total)) for i, c in enumerate(counts) if c), key=lambda item: -item[1])


def orientation(size: tuple[int, int]) -> str:
    width, height = size
    return "landscape" if width > height else "portrait" if height > width else "square"


def color_blobs(rgb: np.ndarray) -> list[tuple[str, float, tuple[float, float, float, float]]]:
    """Blobs of saturated colour: (colour name, score, (top, left, bottom, right) as 0–1 fractions)."""
    hsv = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2HSV)
    height, width = hsv.shape[:2]
    vivid = (hsv[..., 1] > 110) & (hsv[..., 2] > 70)
    found = []
    for name, low, high in HUE_BANDS:
        band = (vivid & (hsv[..., 0] >= low) & (hsv[..., 0] < high)).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(band, connectivity=8)
        for x, y, w, h, area in stats[1:count]:
            if area >= 0.002 * width * height:
                score = round(0.5 + 0.49 * float(area) / float(w * h), 4)
                found.append((name, score, (y / height, x / width, (y + h) / height, (x + w) / width)))
    return found


def describe(rgb: np.ndarray, size: tuple[int, int]) -> str:
    """A caption such as "a landscape picture (1024x683), mostly blue and white"."""
    colors = " and ".join(COLOR_NAMES[i] for i, _ in color_shares(color_labels(rgb))[:2])
    width, height = size
    return f"a {orientation(size)} picture ({width}x{height}), mostly {colors}"
