"""Small builders shared by tests."""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont


def jpeg_bytes(width: int, height: int, color=(90, 120, 200), quality: int = 90) -> bytes:
    image = Image.new("RGB", (width, height), color)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def png_bytes(array: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", array)
    assert ok
    return encoded.tobytes()


def scene_with_square(width: int = 400, height: int = 300, box=(0.1, 0.2, 0.5, 0.6), color_bgr=(0, 0, 230)) -> np.ndarray:
    """A grey picture with one saturated square at `box` = (top, left, bottom, right) fractions."""
    image = np.full((height, width, 3), 128, np.uint8)
    top, left, bottom, right = box
    image[round(top * height) : round(bottom * height), round(left * width) : round(right * width)] = color_bgr
    return image


PRINTED_LINES = ("GATE 12 OPEN", "Boarding 10:45")


def scene_with_text(lines: tuple[str, ...] = PRINTED_LINES, width: int = 400, height: int = 300) -> np.ndarray:
    """`scene_with_square`'s picture with a white sign under the square, the `lines` printed on it
    in black (Pillow's own font, so no system font is needed). BGR, as OpenCV keeps pictures."""
    picture = Image.fromarray(cv2.cvtColor(scene_with_square(width, height), cv2.COLOR_BGR2RGB))
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=max(12, height // 11))
    line_height = round(font.size * 1.6)
    top = height - line_height * len(lines) - height // 20
    draw.rectangle((width // 40, top - line_height // 4, width - width // 40, height - height // 40), fill="white")
    for number, line in enumerate(lines):
        draw.text((width // 20, top + number * line_height), line, fill="black", font=font)
    return cv2.cvtColor(np.asarray(picture), cv2.COLOR_RGB2BGR)
