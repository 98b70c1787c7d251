"""Plain result types: every backend returns them, every view reads them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from components.text import duration

if TYPE_CHECKING:
    from components.errors import AppError


@dataclass(frozen=True)
class Concept:
    name: str
    value: float
    id: str = ""


class PackedMask:
    """A boolean mask kept in an eighth of its size or less: the rows and columns around its
    pixels, one bit per pixel. Reads as the full-size boolean array (`np.asarray(mask)`, indexing,
    `shape`, `mean()`), unpacked each time it is read.

    One process keeps every visitor's results; a segmenter's answer of 250 masks at 1024x768 is
    190 MB as boolean arrays and a few MB packed.
    """

    __slots__ = ("shape", "_top", "_left", "_crop_shape", "_bits", "_count")
    dtype = np.dtype(bool)
    ndim = 2

    def __init__(self, mask: np.ndarray) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.ndim != 2:
            raise ValueError("a packed mask is two-dimensional")
        self.shape: tuple[int, int] = (int(mask.shape[0]), int(mask.shape[1]))
        rows = np.flatnonzero(mask.any(axis=1))
        if rows.size:
            columns = np.flatnonzero(mask[rows[0] : rows[-1] + 1].any(axis=0))
            top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(columns[0]), int(columns[-1]) + 1
        else:
            top = bottom = left = right = 0
        crop = mask[top:bottom, left:right]
        self._top, self._left, self._crop_shape = top, left, crop.shape
        self._bits = np.packbits(crop, axis=None).tobytes()
        self._count = int(np.count_nonzero(crop))

    @property
    def size(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def nbytes(self) -> int:
        """The bytes it holds (not those of the array it reads as)."""
        return len(self._bits) + 64

    def count(self) -> int:
        """How many pixels are in the mask."""
        return self._count

    def mean(self) -> float:
        return self._count / self.size if self.size else 0.0

    def unpack(self) -> np.ndarray:
        full = np.zeros(self.shape, dtype=bool)
        height, width = self._crop_shape
        if height and width:
            bits = np.frombuffer(self._bits, dtype=np.uint8)
            crop = np.unpackbits(bits, count=height * width).reshape(height, width).view(bool)
            full[self._top : self._top + height, self._left : self._left + width] = crop
        return full

    def any(self) -> bool:
        return self._count > 0

    def astype(self, dtype) -> np.ndarray:
        return self.unpack().astype(dtype)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        full = self.unpack()
        return full if dtype is None else full.astype(dtype)

    def __getitem__(self, key):
        return self.unpack()[key]

    def __len__(self) -> int:
        return self.shape[0]


def packed(mask: np.ndarray | PackedMask | None) -> np.ndarray | PackedMask | None:
    """A 2-D boolean mask packed; anything else (None, a mask already packed, another kind of
    array that views read their own way) as it is."""
    if isinstance(mask, np.ndarray) and mask.ndim == 2 and mask.dtype == np.bool_:
        return PackedMask(mask)
    return mask


class PixelBox(NamedTuple):
    """A box in pixels of one picture: corners (x0, y0) and (x1, y1), both inclusive."""

    x0: int
    y0: int
    x1: int
    y1: int


@dataclass(frozen=True)
class Box:
    """A box as fractions (0–1) of the upright image, Clarifai's convention: the one box type
    results carry. Adapters turn other forms (pixels, a VLM's JSON) into it at the seam."""

    top: float
    left: float
    bottom: float
    right: float

    @classmethod
    def from_xyxy(cls, x0: float, y0: float, x1: float, y1: float, width: float, height: float) -> Box:
        """From pixel corners (in either order) of a width x height image (both > 0); not clipped."""
        return cls.from_normalized_xyxy(x0 / width, y0 / height, x1 / width, y1 / height)

    @classmethod
    def from_normalized_xyxy(cls, x0: float, y0: float, x1: float, y1: float, scale: float = 1.0) -> Box:
        """From corners (in either order) on a 0..scale axis: scale 1 for 0–1, 1000 for 0–1000; not clipped."""
        left, right = sorted((x0 / scale, x1 / scale))
        top, bottom = sorted((y0 / scale, y1 / scale))
        return cls(top=top, left=left, bottom=bottom, right=right)

    def to_pixels(self, width: int, height: int) -> PixelBox:
        """The box in pixels of a width x height picture, clipped to it (inclusive corners)."""

        def clip(value: float, size: int) -> int:
            if not np.isfinite(value):
                value = 0.0
            return int(min(max(round(value * size), 0), size - 1))

        x0, x1 = sorted((clip(self.left, width), clip(self.right, width)))
        y0, y1 = sorted((clip(self.top, height), clip(self.bottom, height)))
        return PixelBox(x0, y0, x1, y1)

    @property
    def is_empty(self) -> bool:
        return not (self.right > self.left and self.bottom > self.top)

    def clipped(self) -> Box | None:
        """The box clipped to the picture and put the right way round; None when it is not worth
        drawing: a non-finite coordinate, or no area left."""
        try:
            coords = [float(v) for v in (self.top, self.left, self.bottom, self.right)]
        except (TypeError, ValueError):
            return None
        if not all(math.isfinite(v) for v in coords):
            return None
        top, left, bottom, right = coords
        box = Box.from_normalized_xyxy(left, top, right, bottom).clamped()
        return None if box.is_empty else box

    def clamped(self) -> Box:
        """Each coordinate held to 0–1 and nothing more: unlike `clipped`, the box keeps its
        corners' order and may be left with no area, so it is never None."""

        def clamp(value: float) -> float:
            return min(max(value, 0.0), 1.0)

        return Box(top=clamp(self.top), left=clamp(self.left), bottom=clamp(self.bottom), right=clamp(self.right))

    def pixels(self, width: int, height: int) -> PixelBox | None:
        """The clipped box in pixels of a width x height picture, or None (see `clipped`)."""
        box = self.clipped()
        if box is None or width <= 0 or height <= 0:
            return None
        return box.to_pixels(width, height)


TEXT_CONCEPT = "text line"  # the concept of a region holding a line of text read in the picture


@dataclass(frozen=True, eq=False)
class Region:
    """One detected object or one segment.

    Detection: `box` set, `concepts` are its labels. Segmentation: `mask` set (boolean, any
    size: views resize it to the picture), `concepts[0].value` is the share of the image covered.
    Text read in the picture: `text` is one line, whole, `box` where it is when the model says.
    """

    concepts: tuple[Concept, ...]
    box: Box | None = None
    mask: np.ndarray | PackedMask | None = None  # a boolean mask is kept packed
    text: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "mask", packed(self.mask))

    @property
    def top_concept(self) -> Concept | None:
        return max(self.concepts, key=lambda c: c.value, default=None)


@dataclass(frozen=True)
class Status:
    code: int
    description: str = ""
    details: str = ""

    @property
    def ok(self) -> bool:
        return self.code == SUCCESS


SUCCESS = 10000


@dataclass(frozen=True)
class TokenUsage:
    """Tokens a language model read and wrote for one answer, when Clarifai reports them."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0  # of the prompt tokens, those the model had cached

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def words(self) -> str:
        cached = f" ({self.cached_tokens:,} cached)" if self.cached_tokens else ""
        return f"{self.prompt_tokens:,} tokens in{cached}, {self.completion_tokens:,} out"


TOKENS_NOT_REPORTED = "tokens not reported by this model"


@dataclass(frozen=True, eq=False)
class Prediction:
    """What one model said about one image."""

    concepts: tuple[Concept, ...] = ()
    regions: tuple[Region, ...] = ()
    caption: str = ""
    status: Status = field(default_factory=lambda: Status(SUCCESS, "Ok"))
    model_label: str = ""
    raw: dict[str, Any] | None = None  # the output as JSON (json_format), for exports
    notes: tuple[str, ...] = ()  # things the viewer should know, e.g. a mask that could not be decoded
    usage: TokenUsage | None = None
    seconds: float | None = None  # how long the model took on this image, when it was asked alone
    raw_answer: str = ""  # a prompted model's own text, when the concepts or regions were read from it
    answered_in_text: bool = False  # by a new-style method returning text (a language model, which may count tokens)

    @property
    def sorted_concepts(self) -> tuple[Concept, ...]:
        return tuple(sorted(self.concepts, key=lambda c: c.value, reverse=True))

    @property
    def approximate_bytes(self) -> int:
        """What the prediction holds in memory, roughly: masks, texts, the raw answer, per-item overhead."""
        masks = sum(region.mask.nbytes for region in self.regions if region.mask is not None)
        texts = len(self.caption) + len(self.raw_answer) + sum(len(region.text) for region in self.regions)
        raw = _json_size(self.raw) if self.raw is not None else 0
        return 4096 + masks + 2 * texts + raw + 256 * (len(self.regions) + len(self.concepts))

    @property
    def token_words(self) -> str:
        """The tokens as a few words: the counts when the model reported them, else that it did not
        (for a language model's answer); "" for other answers."""
        if self.usage is not None:
            return self.usage.words
        return TOKENS_NOT_REPORTED if self.answered_in_text else ""

    @property
    def facts(self) -> tuple[str, ...]:
        """How the model answered this image, in a few words each: its time, its tokens."""
        time_taken = (duration(self.seconds),) if self.seconds is not None else ()
        return time_taken + ((self.token_words,) if self.token_words else ())

    @property
    def text_read(self) -> str:
        """The text read in the picture, one line per region that holds text, in their order."""
        return "\n".join(region.text for region in self.regions if region.text)


def _json_size(value: Any, depth: int = 0) -> int:
    """About the bytes a parsed JSON value takes in memory (a Python object per key and value)."""
    if depth > 32:
        return 0
    if isinstance(value, dict):
        return 64 + sum(49 + len(str(k)) + _json_size(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return 56 + sum(_json_size(v, depth + 1) for v in value)
    if isinstance(value, str):
        return 49 + len(value)
    return 32


@dataclass(frozen=True, eq=False)
class ImageResult:
    """One input's outcome: a prediction, or the error that stopped it."""

    prediction: Prediction | None = None
    error: AppError | None = None

    @property
    def ok(self) -> bool:
        return self.prediction is not None and self.error is None
