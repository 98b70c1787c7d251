"""New-style Clarifai models: their method signatures, the parts a call sends, the answer it gets.

A model served by Clarifai's runner declares methods (`predict`, `generate`, `segment_anything`, ...)
with named, typed arguments. `Method` is the app's plain view of one `MethodSignature`; `call_data`
turns argument values into an input's `data.parts` the way the runner's serializers read them, and
`read_answer` reads the `return` part (or the value inline in `data`, or `text.raw`). Pure: no
network, no streamlit. The wire facts are in CLARIFAI.md, "Clarifai today".
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2
from google.protobuf import json_format, struct_pb2

from components.results import TokenUsage

DataType = resources_pb2.ModelTypeField.DataType
STR, BYTES, INT, FLOAT, BOOL = DataType.STR, DataType.BYTES, DataType.INT, DataType.FLOAT, DataType.BOOL
JSON_DATA, TEXT, IMAGE, CONCEPT, REGION = DataType.JSON_DATA, DataType.TEXT, DataType.IMAGE, DataType.CONCEPT, DataType.REGION
AUDIO, VIDEO, LIST = DataType.AUDIO, DataType.VIDEO, DataType.LIST
TEXT_TYPES = (STR, TEXT)
METHOD_NAME_KEY = "_method_name"
GET_SIGNATURES = "_GET_SIGNATURES"
RETURN = "return"

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


# --- reading signatures ------------------------------------------------------------------------


def methods_from_protos(signatures: Sequence[resources_pb2.MethodSignature]) -> tuple[Method, ...]:
    return tuple(_method(signature) for signature in signatures if signature.name)


def methods_from_json(text: str) -> tuple[Method, ...]:
    """The `_GET_SIGNATURES` answer: JSON of {method name: MethodSignature as a dict}."""
    try:
        found = json.loads(text)
    except (TypeError, ValueError):
        return ()
    if not isinstance(found, dict):
        return ()
    protos = []
    for name, value in found.items():
        if not isinstance(value, dict):
            continue
        signature = resources_pb2.MethodSignature()
        try:
            json_format.ParseDict(value, signature, ignore_unknown_fields=True)
        except (json_format.ParseError, TypeError, ValueError):
            continue
        signature.name = signature.name or str(name)
        protos.append(signature)
    return methods_from_protos(protos)


def _method(signature: resources_pb2.MethodSignature) -> Method:
    outputs = list(signature.output_fields)
    returned = next((o for o in outputs if o.name == RETURN), outputs[0] if outputs else None)
    return Method(
        name=signature.name,
        streaming=signature.method_type in (resources_pb2.UNARY_STREAMING, resources_pb2.STREAMING_STREAMING),
        arguments=tuple(_argument(f) for f in signature.input_fields),
        returns=returned.type if returned is not None else 0,
        returns_item=_item_type(returned) if returned is not None else 0,
        description=signature.description,
    )


def _argument(field_: resources_pb2.ModelTypeField) -> Argument:
    limits = field_.model_type_range_info if field_.HasField("model_type_range_info") else None
    return Argument(
        name=field_.name,
        type=field_.type,
        item_type=_item_type(field_),
        required=field_.required,
        default=_decoded_default(field_),
        is_param=field_.is_param,
        description=field_.description,
        minimum=limits.min if limits is not None else None,
        maximum=limits.max if limits is not None and limits.max > limits.min else None,
        step=limits.step if limits is not None and limits.step > 0 else None,
    )


def _item_type(field_: resources_pb2.ModelTypeField) -> int:
    return field_.type_args[0].type if field_.type == LIST and field_.type_args else 0


def _decoded_default(field_: resources_pb2.ModelTypeField) -> Any:
    """A default is JSON text ("512", "0.7", "null", "true"); a str default may be verbatim."""
    text = field_.default
    if text == "":
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return text if field_.type in TEXT_TYPES else None
    if field_.type in TEXT_TYPES and not isinstance(value, str) and value is not None:
        return text
    return value


# --- calling a method --------------------------------------------------------------------------

ImageValue = bytes | str  # encoded image bytes, or a URL Clarifai fetches itself


@dataclass(frozen=True)
class RegionValue:
    """A region given to a method (e.g. a box for Segment Anything to fill): fractions 0–1."""

    top: float
    left: float
    bottom: float
    right: float
    concepts: tuple[tuple[str, str, float], ...] = ()  # (id, name, value)


def call_data(method: Method, values: Mapping[str, Any]) -> resources_pb2.Data:
    """An input's data for calling `method` with these argument values (None values are left out)."""
    data = resources_pb2.Data()
    data.metadata.update({METHOD_NAME_KEY: method.name})
    for argument in method.arguments:
        value = values.get(argument.name)
        if value is None:
            continue
        part = data.parts.add(id=argument.name)
        _put(part.data, argument.type, argument.item_type, value)
    return data


def signatures_request_data() -> resources_pb2.Data:
    """The data of the runner's `_GET_SIGNATURES` call: one empty part and the method name."""
    data = resources_pb2.Data()
    data.parts.add()
    data.metadata.update({METHOD_NAME_KEY: GET_SIGNATURES})
    return data


def _put(data: resources_pb2.Data, data_type: int, item_type: int, value: Any) -> None:
    if data_type == STR:
        data.string_value = str(value)
    elif data_type == TEXT:
        data.text.raw = str(value)
    elif data_type == INT:
        data.int_value = int(value)
    elif data_type == FLOAT:
        data.float_value = float(value)
    elif data_type == BOOL:
        data.bool_value = bool(value)
    elif data_type == BYTES:
        data.bytes_value = bytes(value)
    elif data_type == JSON_DATA:
        struct = struct_pb2.Struct()
        struct.update({"_list": list(value)} if isinstance(value, (list, tuple)) else dict(value))
        data.struct_value.CopyFrom(struct)
    elif data_type == IMAGE:
        data.image.CopyFrom(_image(value))
    elif data_type == REGION:
        data.regions.add().CopyFrom(_region(value))
    elif data_type == CONCEPT:
        data.concepts.add().CopyFrom(_concept(value))
    elif data_type == LIST:
        items = list(value)
        if item_type == REGION:  # the runner keeps lists of regions and concepts inline
            data.regions.extend(_region(item) for item in items)
        elif item_type == CONCEPT:
            data.concepts.extend(_concept(item) for item in items)
        else:
            for item in items:
                _put(data.parts.add().data, item_type, 0, item)
    else:
        raise ValueError(f"the app cannot send a {DataType.Name(data_type)} argument")


def _image(value: ImageValue) -> resources_pb2.Image:
    return resources_pb2.Image(base64=value) if isinstance(value, bytes) else resources_pb2.Image(url=str(value))


def _region(value: RegionValue) -> resources_pb2.Region:
    region = resources_pb2.Region()
    box = region.region_info.bounding_box
    box.top_row, box.left_col, box.bottom_row, box.right_col = value.top, value.left, value.bottom, value.right
    for concept_id, name, score in value.concepts:
        region.data.concepts.add(id=concept_id or name, name=name, value=score)
    return region


def _concept(value: tuple[str, str, float]) -> resources_pb2.Concept:
    concept_id, name, score = value
    return resources_pb2.Concept(id=concept_id or name, name=name, value=score)


# --- reading an answer -------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What a method returned for one input, in the shape the app reads."""

    text: str = ""
    regions: tuple[resources_pb2.Region, ...] = ()
    concepts: tuple[resources_pb2.Concept, ...] = ()
    usage: TokenUsage | None = None


def return_data(output: resources_pb2.Output) -> resources_pb2.Data:
    """The data holding the method's return value: the `return` part, else the output's data itself."""
    for part in output.data.parts:
        if part.id == RETURN:
            return part.data
    return output.data


def read_answer(output: resources_pb2.Output, method: Method) -> Answer:
    data = return_data(output)
    usage = token_usage(output)
    if method.returns_regions:
        regions = tuple(data.regions) or tuple(r for part in data.parts for r in part.data.regions)
        return Answer(regions=regions, usage=usage)
    if method.returns_concepts:
        concepts = tuple(data.concepts) or tuple(c for part in data.parts for c in part.data.concepts)
        return Answer(concepts=concepts, usage=usage)
    return Answer(text=answer_text(output), usage=usage)


def answer_text(output: resources_pb2.Output) -> str:
    """A text answer from wherever the runner put it: the `return` part, inline, or `text.raw`."""
    data = return_data(output)
    for candidate in (data.string_value, data.text.raw, output.data.string_value, output.data.text.raw):
        if candidate:
            return candidate
    return ""


def token_usage(output: resources_pb2.Output) -> TokenUsage | None:
    if not (output.prompt_tokens or output.completion_tokens):
        return None
    return TokenUsage(int(output.prompt_tokens), int(output.completion_tokens))


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
