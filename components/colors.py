"""Colours: one `Color` type for every conversion, the concept palette, and the colour of a concept.

A `Color` is stored in OpenCV's BGR order, so it goes to cv2 as it is; `.hex` and `.rgb` give the
forms charts and HTML want. Every picture, legend, chart and table takes a concept's colour from
`color_for`, so a concept has one colour everywhere.
"""

from __future__ import annotations

import unicodedata
import zlib
from collections.abc import Sequence
from typing import NamedTuple


class Color(NamedTuple):
    """An sRGB colour, 0–255 per channel, in OpenCV's BGR order."""

    b: int
    g: int
    r: int

    @classmethod
    def from_hex(cls, text: str) -> Color:
        """From "#rrggbb" (the "#" is optional)."""
        value = text.strip().lstrip("#")
        if len(value) != 6:
            raise ValueError(f"not a #rrggbb colour: {text!r}")
        r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
        return cls(b, g, r)

    @classmethod
    def from_rgb(cls, r: int, g: int, b: int) -> Color:
        return cls(int(b), int(g), int(r))

    @property
    def hex(self) -> str:
        """"#rrggbb", lower case."""
        return f"#{int(self.r):02x}{int(self.g):02x}{int(self.b):02x}"

    @property
    def rgb(self) -> tuple[int, int, int]:
        return int(self.r), int(self.g), int(self.b)

    @property
    def luminance(self) -> float:
        """WCAG 2 relative luminance, 0 (black) to 1 (white)."""
        return relative_luminance(self)

    @property
    def text_color(self) -> Color:
        """Black or white, whichever reads better on this colour."""
        return text_color_for(self)


BLACK = Color(0, 0, 0)
WHITE = Color(255, 255, 255)

# Sasha Trubetskoy's "20 simple, distinct colours". Each one reaches >= 4.5:1 contrast with
# black or white text (any colour does with the better of the two; tests check it anyway).
# Distinct colours, none so pale that it vanishes as a chart bar on white or as a mask tint.
PALETTE_HEX: tuple[str, ...] = (
    "#E6194B", "#3CB44B", "#FFE119", "#4363D8", "#F58231",
    "#911EB4", "#42D4F4", "#F032E6", "#BFEF45", "#E377C2",
    "#469990", "#7B68EE", "#9A6324", "#C9A227", "#800000",
    "#2E8B57", "#808000", "#FF6F61", "#000075", "#A9A9A9",
)
PALETTE: tuple[Color, ...] = tuple(Color.from_hex(h) for h in PALETTE_HEX)


def normalise_name(name: str) -> str:
    """The form a concept name is compared and hashed in: trimmed, case-folded."""
    return unicodedata.normalize("NFC", str(name)).strip().casefold()


def color_for(name: str) -> Color:
    """The concept's colour: the same name gets the same colour in every image and process.

    crc32 of the normalised name, not `hash()` (salted per process) and not the position in
    the response. With 20 colours, two different concepts can share one.
    """
    index = zlib.crc32(normalise_name(name).encode("utf-8")) % len(PALETTE)
    return PALETTE[index]


def relative_luminance(bgr: Sequence[int]) -> float:
    """WCAG 2 relative luminance of an sRGB colour given as BGR 0–255."""

    def linear(channel: float) -> float:
        c = channel / 255.0
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    b, g, r = (float(v) for v in bgr[:3])
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def contrast_ratio(c1: Sequence[int], c2: Sequence[int]) -> float:
    """WCAG contrast ratio between two BGR colours, 1.0 to 21.0."""
    l1, l2 = sorted((relative_luminance(c1), relative_luminance(c2)), reverse=True)
    return (l1 + 0.05) / (l2 + 0.05)


def text_color_for(bgr: Sequence[int]) -> Color:
    """Black or white, whichever contrasts more with the background colour."""
    return BLACK if contrast_ratio(bgr, BLACK) >= contrast_ratio(bgr, WHITE) else WHITE
