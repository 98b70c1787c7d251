"""Pictures made small for a gallery: scaled down to fit a tile of one fixed shape, whole (never
cropped, so every box and mask drawn stays in view), centred on a plain background.

Images are BGR uint8 arrays (H, W, 3); every function returns a new array or the input untouched.
"""

from __future__ import annotations

import cv2
import numpy as np

from components.colors import Color


def scaled_to_fit(picture: np.ndarray, width: int, height: int) -> np.ndarray:
    """The picture scaled down (never up) to fit in width x height, keeping its shape."""
    picture_height, picture_width = picture.shape[:2]
    scale = min(width / max(picture_width, 1), height / max(picture_height, 1))
    if scale >= 1:
        return picture
    size = (max(1, round(picture_width * scale)), max(1, round(picture_height * scale)))
    return cv2.resize(picture, size, interpolation=cv2.INTER_AREA)


def on_tile(picture: np.ndarray, width: int, height: int, background: Color) -> np.ndarray:
    """A width x height tile with the picture scaled to fit in its middle, the rest `background`."""
    fitted = scaled_to_fit(picture, width, height)
    fitted_height, fitted_width = fitted.shape[:2]
    tile = np.empty((height, width, 3), np.uint8)
    tile[:] = background
    top, left = (height - fitted_height) // 2, (width - fitted_width) // 2
    tile[top : top + fitted_height, left : left + fitted_width] = fitted[:, :, :3]
    return tile
