"""Small builders shared by tests."""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image


def jpeg_bytes(width: int, height: int, colour=(90, 120, 200), quality: int = 90) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def png_bytes(array: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", array)
    assert ok
    return encoded.tobytes()


def scene_with_square(width: int = 400, height: int = 300, box=(0.1, 0.2, 0.5, 0.6), colour_bgr=(0, 0, 230)) -> np.ndarray:
    """A grey picture with one saturated square at `box` = (top, left, bottom, right) fractions."""
    image = np.full((height, width, 3), 128, np.uint8)
    top, left, bottom, right = box
    image[round(top * height) : round(bottom * height), round(left * width) : round(right * width)] = colour_bgr
    return image
