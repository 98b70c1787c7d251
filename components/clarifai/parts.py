"""New-style methods on the wire: signatures read from Clarifai's protos and JSON, argument values
encoded as an input's `data.parts` the way the runner's serializers read them, and the answer read
back from the `return` part (or the value inline in `data`, or `text.raw`). The wire facts are in
CLARIFAI.md, "Clarifai today".
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2
from google.protobuf import json_format, struct_pb2

from components.results import TokenUsage
from components.signatures import (
    BOOL,
    BYTES,
    CONCEPT,
    FLOAT,
    IMAGE,
    INT,
    JSON_DATA,
    LIST,
    REGION,
    STR,
    TEXT,
    TEXT_TYPES,
    Argument,
    DataType,
    ImageValue,
    Method,
    RegionValue,
)

METHOD_NAME_KEY = "_method_name"
GET_SIGNATURES = "_GET_SIGNATURES"
RETURN = "return"


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
    """The tokens the output reports (`prompt_tokens`, `completion_tokens`, `cached_tokens`), or
    None when it reports none: most VLM streams carry no counts."""
    cached = int(getattr(output, "cached_tokens", 0) or 0)
    if not (output.prompt_tokens or output.completion_tokens or cached):
        return None
    return TokenUsage(int(output.prompt_tokens), int(output.completion_tokens), cached)
