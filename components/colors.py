"""Colours: one `Color` type for every conversion, the concept palette, and the colour of a concept.

A `Color` is stored in OpenCV's BGR order, so it goes to cv2 as it is; `.hex` and `.rgb` give the
forms charts and HTML want. Every picture, legend, chart and table takes a concept's colour from
`color_for`, so a concept has one colour everywhere: a concept that names a colour (the named
colours below, which the local colour models report, or one of the CSS colour names) is painted
in that colour, any other concept in a colour hashed from its name.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import webcolors


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


# --- named colours --------------------------------------------------------------------------


@dataclass(frozen=True)
class NamedColor:
    """A colour with a plain name. As a concept it carries the id "colour-<name, dashed>"."""

    name: str
    color: Color

    @property
    def concept_id(self) -> str:
        return NAMED_COLOR_ID_PREFIX + self.name.replace(" ", "-")


NAMED_COLOR_ID_PREFIX = "colour-"

# The colours the local colour models name (components.local_models), and how they are drawn.
NAMED_COLORS: tuple[NamedColor, ...] = (
    NamedColor("black", Color.from_rgb(0, 0, 0)),
    NamedColor("grey", Color.from_rgb(110, 110, 110)),
    NamedColor("silver", Color.from_rgb(190, 190, 190)),
    NamedColor("white", Color.from_rgb(255, 255, 255)),
    NamedColor("red", Color.from_rgb(220, 30, 35)),
    NamedColor("dark red", Color.from_rgb(128, 0, 0)),
    NamedColor("orange", Color.from_rgb(230, 115, 40)),
    NamedColor("brown", Color.from_rgb(120, 70, 35)),
    NamedColor("beige", Color.from_rgb(220, 200, 160)),
    NamedColor("yellow", Color.from_rgb(255, 225, 0)),
    NamedColor("olive", Color.from_rgb(128, 128, 0)),
    NamedColor("green", Color.from_rgb(40, 170, 40)),
    NamedColor("dark green", Color.from_rgb(0, 90, 30)),
    NamedColor("teal", Color.from_rgb(0, 128, 128)),
    NamedColor("sky blue", Color.from_rgb(120, 190, 240)),
    NamedColor("blue", Color.from_rgb(20, 60, 230)),
    NamedColor("navy", Color.from_rgb(0, 0, 110)),
    NamedColor("purple", Color.from_rgb(120, 40, 160)),
    NamedColor("pink", Color.from_rgb(250, 160, 190)),
    NamedColor("magenta", Color.from_rgb(240, 0, 200)),
)
_NAMED_BY_ID = {color.concept_id: color for color in NAMED_COLORS}


def _compact(name: str) -> str:
    """A colour's name as it is looked up: "Dark Blue", "dark-blue" and "darkblue" are one name."""
    return re.sub(r"[\s_-]+", "", normalise_name(name))


# The app's own named colours first, then the 147 CSS colour names (webcolors): "maroon", "gold",
# "crimson", "dark blue", "cyan", as vision-language models name colours.
_COLOR_BY_NAME: dict[str, Color] = {
    name: Color.from_hex(webcolors.name_to_hex(name, spec=webcolors.CSS3)) for name in webcolors.names(webcolors.CSS3)
}
_COLOR_BY_NAME.update({_compact(c.name): c.color for c in NAMED_COLORS})
_COLOR_BY_NAME["gray"] = _COLOR_BY_NAME["grey"]  # the American spelling, as many models write it


def named_color(concept_id: str) -> NamedColor | None:
    """The named colour a concept id stands for ("colour-sky-blue"), or None."""
    return _NAMED_BY_ID.get(str(concept_id or "").strip())


# --- the colour of a concept -----------------------------------------------------------------


def color_for(name: str, concept_id: str = "") -> Color:
    """The concept's colour: the same concept gets the same colour in every image and process.

    A concept that is a colour, by its id ("colour-sky-blue") or by its name ("red", "sky blue",
    "maroon", "dark blue", whatever model said it), or a thing named by its colour ("red round
    object"), is that colour:
    the picture, chart and table then show the colour itself. An unlabelled segment or box
    ("segment 3") takes the palette in order. Any other concept gets a palette colour from crc32
    of its normalised name (not `hash()`, salted per process, nor the position in the response);
    with 20 colours, two different concepts can share one. Pass the id whenever there is one.
    """
    by_id = named_color(concept_id)
    if by_id is not None:
        return by_id.color
    named = color_named(name) or _colored_thing(name)
    if named is not None:
        return named
    numbered = _NUMBERED.fullmatch(normalise_name(name))
    if numbered is not None:
        return PALETTE[(int(numbered[1]) - 1) % len(PALETTE)]
    index = zlib.crc32(normalise_name(name).encode("utf-8")) % len(PALETTE)
    return PALETTE[index]


def color_named(name: str) -> Color | None:
    """The colour a name names ("red", "sky blue", "Dark Blue", "maroon"), or None: the app's own
    named colours first, then the CSS colour names."""
    return _COLOR_BY_NAME.get(_compact(name))


def _colored_thing(name: str) -> Color | None:
    """The colour of a thing named by its colour: "red round object", "teal object"."""
    thing = _COLORED_THING.fullmatch(normalise_name(name))
    return color_named(thing[1]) if thing is not None else None


_COLORED_THING = re.compile(r"(.+?) (?:round )?object")

# The names given to unlabelled segments and boxes ("segment 3", "object 12"): taken in palette
# order, so the first twenty of one picture never share a colour.
_NUMBERED = re.compile(r"(?:segment|object) ([1-9][0-9]{0,5})")


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
