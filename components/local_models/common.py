"""What the local models share: the error they raise, any picture read as uint8 BGR, downscaling,
and keeping only what the settings ask for."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import cv2
import numpy as np

from components.errors import ImageError
from components.models import PredictSettings
from components.results import Concept


class LocalModelError(ImageError):
    """A local model could not process one image."""

    title = "Local model failed"


def bgr_from_any(image: np.ndarray) -> np.ndarray:
    """A contiguous uint8 BGR (H, W, 3) array from grey, BGR or BGRA at any depth (16-bit, float
    0–1 or 0–255, boolean), `image` itself when it already is one; LocalModelError for an empty
    array or one that is not a picture."""
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        raise LocalModelError("This image is empty or not a picture, so the local model cannot read it.")
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype == np.bool_:
        image = image.astype(np.uint8) * 255
    elif np.issubdtype(image.dtype, np.floating):
        finite = np.nan_to_num(image.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        peak = 1.0 if finite.size and float(finite.max()) <= 1.0 else 255.0
        image = np.clip(finite * (255.0 / peak), 0, 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = image[:, :, None]
    channels = image.shape[2]
    if channels == 1:
        image = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_GRAY2BGR)
    elif channels == 4:
        image = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGRA2BGR)
    elif channels != 3:
        raise LocalModelError(
            f"This image has {channels} colour channels; the local models read gray, colour or "
            "colour-with-transparency images."
        )
    return np.ascontiguousarray(image)


def downscale(image: np.ndarray, longest_side: int) -> np.ndarray:
    """A copy no longer than `longest_side` on either side (never enlarged), at least 1x1."""
    height, width = image.shape[:2]
    scale = longest_side / max(height, width)
    if scale >= 1.0:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


_Item = TypeVar("_Item")


def selected_names(settings: PredictSettings) -> set[str]:
    return {name.strip().casefold() for name in settings.select_concepts if name.strip()}


def honour_settings(
    items: list[_Item], concept_of: Callable[[_Item], Concept], settings: PredictSettings
) -> list[_Item]:
    """Only the selected names, none under min_value, highest first, at most max_concepts."""
    selected = selected_names(settings)
    kept = [
        item
        for item in items
        if (not selected or concept_of(item).name.casefold() in selected)
        and (settings.min_value is None or concept_of(item).value >= settings.min_value)
    ]
    kept.sort(key=lambda item: (-concept_of(item).value, concept_of(item).name))  # stable for ties
    if settings.max_concepts is not None and settings.max_concepts > 0:
        kept = kept[: settings.max_concepts]
    return kept
