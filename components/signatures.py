"""New-style Clarifai models in the app's plain terms: methods, their arguments, the values a call
gives them.

A model served by Clarifai's runner declares methods (`predict`, `generate`, `segment_anything`, ...)
with named, typed arguments. `Method` is the app's plain view of one `MethodSignature`; its types
are the constants of Clarifai's `ModelTypeField.DataType`. Pure: no network, no streamlit. Reading
signatures, encoding values and reading answers: `components.clarifai.parts`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2

DataType = resources_pb2.ModelTypeField.DataType
STR, BYTES, INT, FLOAT, BOOL = DataType.STR, DataType.BYTES, DataType.INT, DataType.FLOAT, DataType.BOOL
JSON_DATA, TEXT, IMAGE, CONCEPT, REGION = DataType.JSON_DATA, DataType.TEXT, DataType.IMAGE, DataType.CONCEPT, DataType.REGION
AUDIO, VIDEO, LIST = DataType.AUDIO, DataType.VIDEO, DataType.LIST
TEXT_TYPES = (STR, TEXT)

_TYPE_WORDS = {
    STR: "text", TEXT: "text", BYTES: "bytes", INT: "a whole number", FLOAT: "a number", BOOL: "yes/no",
    JSON_DATA: "JSON", IMAGE: "an image", CONCEPT: "a concept", REGION: "a region", AUDIO: "audio",
    VIDEO: "video", DataType.FRAME: "a video frame", DataType.NDARRAY: "an array",
}


@dataclass(frozen=True)
class Argument:
    """One input of a method, as its signature declares it."""

    name: str
    type: int  # DataType
    item_type: int = 0  # element DataType of a LIST
    required: bool = False
    default: Any = None  # the declared default, decoded from its JSON text (None when absent or "null")
    is_param: bool = False  # a tunable parameter such as max_tokens
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None

    @property
    def is_image(self) -> bool:
        return self.type == IMAGE or (self.type == LIST and self.item_type == IMAGE)

    @property
    def is_text(self) -> bool:
        return self.type in TEXT_TYPES

    @property
    def kind_words(self) -> str:
        """What it takes, in plain words ("an image", "a list of a region", "audio")."""
        if self.type == LIST:
            return "a list of " + _TYPE_WORDS.get(self.item_type, "values")
        return _TYPE_WORDS.get(self.type, DataType.Name(self.type).lower() if self.type in DataType.values() else "data")


@dataclass(frozen=True)
class Method:
    """One method of a new-style model."""

    name: str
    streaming: bool  # UNARY_STREAMING: answered through GenerateModelOutputs, in chunks
    arguments: tuple[Argument, ...] = ()
    returns: int = 0  # DataType of the `return` output
    returns_item: int = 0  # its element type when it is a LIST
    description: str = ""

    @property
    def image_argument(self) -> Argument | None:
        """The argument an image goes in: a single IMAGE argument first, else a list of images."""
        singles = [a for a in self.arguments if a.type == IMAGE]
        lists = [a for a in self.arguments if a.type == LIST and a.item_type == IMAGE]
        return (singles or lists or [None])[0]

    @property
    def prompt_argument(self) -> Argument | None:
        """The text argument a prompt goes in: one named `prompt`, else the first text argument."""
        texts = [a for a in self.arguments if a.is_text and not a.is_param]
        named = [a for a in texts if a.name == "prompt"]
        return (named or texts or [None])[0]

    @property
    def params(self) -> tuple[Argument, ...]:
        return tuple(a for a in self.arguments if a.is_param)

    def argument(self, name: str) -> Argument | None:
        return next((a for a in self.arguments if a.name == name), None)

    @property
    def returns_text(self) -> bool:
        return self.returns in TEXT_TYPES

    @property
    def returns_regions(self) -> bool:
        return self.returns == REGION or (self.returns == LIST and self.returns_item == REGION)

    @property
    def returns_concepts(self) -> bool:
        return self.returns == CONCEPT or (self.returns == LIST and self.returns_item == CONCEPT)


# --- values given to a method --------------------------------------------------------------------

ImageValue = bytes | str  # encoded image bytes, or a URL Clarifai fetches itself


@dataclass(frozen=True)
class RegionValue:
    """A region given to a method (e.g. a box for Segment Anything to fill): fractions 0–1."""

    top: float
    left: float
    bottom: float
    right: float
    concepts: tuple[tuple[str, str, float], ...] = ()  # (id, name, value)


def clamp_param(argument: Argument, value: Any) -> Any:
    """A parameter value of the argument's type, inside its declared range."""
    if argument.type == BOOL:
        return bool(value)
    if argument.type in (INT, FLOAT):
        number = float(value)
        if not math.isfinite(number):
            number = float(argument.default if isinstance(argument.default, (int, float)) else 0)
        if argument.minimum is not None:
            number = max(number, argument.minimum)
        if argument.maximum is not None:
            number = min(number, argument.maximum)
        return int(round(number)) if argument.type == INT else number
    return str(value)
