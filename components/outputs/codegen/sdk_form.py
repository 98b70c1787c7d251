"""The request as `clarifai` SDK code, as Clarifai documents calling models today:
`Model(url=..., pat=...)` and its method by name (`predict`, `generate` for a stream, ...), or for an
old-style model `predict_by_url` / `predict_by_bytes`. The SDK itself waits for a model starting up
(up to 10 minutes, logging "Model is still deploying, please wait..."). Pure."""

from __future__ import annotations

from typing import Any

from components.outputs.codegen.request import CONCEPT_LINE, PAT_ENV, REGION_LINE, CodeRequest, literal, py
from components.signatures import LIST, REGION, RegionValue


def sdk_code(request: CodeRequest) -> str:
    """A complete script: the model, the call, the answer printed as the page shows it."""
    method = request.method
    imports = ["import os", "", "from clarifai.client.model import Model"]
    if method is not None:
        names = ["Image"] + (["Concept", "Region"] if _region_arguments(request) else [])
        imports.append(f"from clarifai.runners.utils.data_types import {', '.join(sorted(names))}")
    lines = [*imports, "", *_model(request), ""]
    if not request.image_url:
        lines += [
            "# The picture, as a file. (The app sent it upright, without EXIF data, at most 1024 px on a side.)",
            f'with open({py(request.image_file)}, "rb") as f:',
            "    file_bytes = f.read()",
            "",
        ]
    lines += ["# A model starting up is waited for by the SDK (up to 10 minutes), which logs that it is deploying."]
    lines += _classic_call(request) if method is None else _method_call(request)
    return "\n".join(lines).rstrip() + "\n"


def _model(request: CodeRequest) -> list[str]:
    """`Model(...)`: the model's address (with the version only when one was named), the key, the routing.
    (The CLARIFAI_API_BASE environment variable, which the SDK reads, names another API host.)"""
    arguments = [f"url={py(request.model.url)}", f'pat=os.environ["{PAT_ENV}"]']
    routing = request.routing
    if routing.deployment_id:
        arguments.append(f"deployment_id={py(routing.deployment_id)}")
    elif routing.nodepool_id:
        arguments += [f"compute_cluster_id={py(routing.compute_cluster_id)}", f"nodepool_id={py(routing.nodepool_id)}"]
    if routing.is_set and routing.user_id:
        arguments.append(f"deployment_user_id={py(routing.user_id)}")
    return ["model = Model(", *(f"    {argument}," for argument in arguments), ")"]


def _classic_call(request: CodeRequest) -> list[str]:
    config = _output_config(request)
    config_argument = f", output_config={config}" if config else ""
    if request.image_url:
        call = f'model.predict_by_url({py(request.image_url)}, input_type="image"{config_argument})'
    else:
        call = f'model.predict_by_bytes(file_bytes, input_type="image"{config_argument})'
    return [f"response = {call}", "output = response.outputs[0]  # one input, so one output", *request.spec.classic_printout]


def _output_config(request: CodeRequest) -> str:
    found = []
    for name, value in request.output_config:
        if name == "select_concepts":
            concepts = ", ".join("{" + '"name": ' + py(concept) + "}" for concept in value)
            found.append(f'"select_concepts": [{concepts}]')
        else:
            found.append(f"{py(name)}: {value!r}")
    return "{" + ", ".join(found) + "}" if found else ""


def _region_arguments(request: CodeRequest) -> list[str]:
    method = request.method
    return [
        a.name for a in method.arguments if a.type == LIST and a.item_type == REGION and a.name in request.arguments
    ] if method is not None else []


def _method_call(request: CodeRequest) -> list[str]:
    method = request.method
    image_argument = method.image_argument
    image = "Image(url=IMAGE_URL)" if request.image_url else "Image(bytes=file_bytes)"
    lines = [f"IMAGE_URL = {py(request.image_url)}"] if request.image_url else []
    arguments = []
    for argument in method.arguments:
        if image_argument is not None and argument.name == image_argument.name:
            arguments.append(f"{argument.name}=[{image}]" if argument.type == LIST else f"{argument.name}={image}")
        elif argument.name in request.arguments:
            arguments.append(f"{argument.name}={_value(argument.type, argument.item_type, request.arguments[argument.name])}")
    call = f"model.{method.name}(" + ("\n" + "".join(f"    {a},\n" for a in arguments) + ")" if arguments else ")")
    if method.streaming:
        return [
            *lines,
            f"stream = {call}",
            "for text in stream:  # a streaming method: the answer arrives in pieces, printed as they come",
            '    print(text, end="", flush=True)',
            "print()",
        ]
    lines.append(f"answer = {call}")
    if method.returns_regions:
        return [
            *lines,
            "for region in answer:",
            "    left, top, right, bottom = region.box",
            '    names = ", ".join(concept.name for concept in region.concepts) or "region"',
            *("    " + line for line in REGION_LINE),
        ]
    if method.returns_concepts:
        return [*lines, "for concept in sorted(answer, key=lambda concept: -concept.value):", "    " + CONCEPT_LINE]
    return [*lines, "print(answer)"]


def _value(data_type: int, item_type: int, value: Any) -> str:
    if data_type == LIST and item_type == REGION:
        return "[\n" + "".join(f"        {_region(region)},\n" for region in value) + "    ]"
    return literal(value)


def _region(region: RegionValue) -> str:
    """A region given to the method: its box as (left, top, right, bottom) fractions, and its labels."""
    box = f"box=[{region.left!r}, {region.top!r}, {region.right!r}, {region.bottom!r}]"
    concepts = ", ".join(
        f"Concept({py(name)}, {float(value)!r}, id={py(concept_id)})" if concept_id else f"Concept({py(name)}, {float(value)!r})"
        for concept_id, name, value in region.concepts
    )
    return f"Region({box}, concepts=[{concepts}])" if concepts else f"Region({box})"
