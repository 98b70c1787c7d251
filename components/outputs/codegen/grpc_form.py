"""The request as `clarifai-grpc` code, in the style of Clarifai's own docs: the model, its version
when one was named, the settings or the method's arguments as parts, the routing, the image by URL
or from a file; a model starting up is waited for, bounded, with a message. Pure."""

from __future__ import annotations

from typing import Any

from components.outputs.codegen.request import (
    COLD_MODEL_WAIT_S,
    CONCEPT_LINE,
    PAT_ENV,
    REGION_LINE,
    CodeRequest,
    cold_model_note,
    py,
)
from components.signatures import BOOL, BYTES, FLOAT, IMAGE, INT, JSON_DATA, LIST, REGION, STR, TEXT, DataType, RegionValue


def grpc_code(request: CodeRequest) -> str:
    """A complete script: configuration, the request, the call (waiting for a cold model), the answer printed."""
    sections = [_header(request), _setup(request), _request(request), _call(request)]
    return "\n".join(sections).rstrip() + "\n"


def _header(request: CodeRequest) -> str:
    model = request.model
    lines = [
        "import os",
        "import time",
        "",
        "from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel",
        "from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc",
        "from clarifai_grpc.grpc.api.status import status_code_pb2",
        "",
        "# Your personal access token (PAT), from clarifai.com → Settings → Secrets.",
        f'PAT = os.environ["{PAT_ENV}"]',
        "# The model's owner and app, and the model.",
        f"USER_ID = {py(model.user_id)}",
        f"APP_ID = {py(model.app_id)}",
        f"MODEL_ID = {py(model.model_id)}",
    ]
    if model.version_id:
        lines.append(f"MODEL_VERSION_ID = {py(model.version_id)}")
    if request.image_url:
        lines.append(f"IMAGE_URL = {py(request.image_url)}")
    else:
        lines += [
            "# The picture, as a file. (The app sent it upright, without EXIF data, at most 1024 px on a side:",
            "# a phone photo saved on its side gives other boxes here unless it is turned upright first.)",
            f"IMAGE_FILE_LOCATION = {py(request.image_file)}",
        ]
    routing = request.routing
    if routing.deployment_id:
        lines += [f"DEPLOYMENT_ID = {py(routing.deployment_id)}", f"DEPLOYMENT_USER_ID = {py(routing.user_id)}"]
    elif routing.nodepool_id:
        lines += [
            f"NODEPOOL_ID = {py(routing.nodepool_id)}",
            f"COMPUTE_CLUSTER_ID = {py(routing.compute_cluster_id)}",
            f"COMPUTE_CLUSTER_USER_ID = {py(routing.user_id)}",
        ]
    lines += [
        cold_model_note(),
        f"WAIT_FOR_COLD_MODEL_S = {COLD_MODEL_WAIT_S}",
        "STARTING_UP = (",
        "    status_code_pb2.MODEL_DEPLOYING,",
        "    status_code_pb2.MODEL_BUSY_PLEASE_RETRY,",
        "    status_code_pb2.MODEL_LOADING,",
        ")",
        "",
    ]
    return "\n".join(lines)


def _setup(request: CodeRequest) -> str:
    lines = [
        "# Clarifai's API over TLS (the CLARIFAI_GRPC_BASE environment variable names another host).",
        "channel = ClarifaiChannel.get_grpc_channel()",
        "stub = service_pb2_grpc.V2Stub(channel)",
        'metadata = (("authorization", "Key " + PAT),)',
        "userDataObject = resources_pb2.UserAppIDSet(user_id=USER_ID, app_id=APP_ID)",
        "",
    ]
    if not request.image_url:
        lines += ['with open(IMAGE_FILE_LOCATION, "rb") as f:', "    file_bytes = f.read()", ""]
    return "\n".join(lines)


def _image_expression(request: CodeRequest) -> str:
    return "resources_pb2.Image(url=IMAGE_URL)" if request.image_url else "resources_pb2.Image(base64=file_bytes)"


def _request(request: CodeRequest) -> str:
    lines: list[str] = []
    if request.method is None:
        inputs = f"[resources_pb2.Input(data=resources_pb2.Data(image={_image_expression(request)}))]"
    else:
        lines += _method_input(request)
        inputs = "[model_input]"
    lines += [
        "request = service_pb2.PostModelOutputsRequest(",
        "    user_app_id=userDataObject,",
        "    model_id=MODEL_ID,",
    ]
    if request.model.version_id:
        lines.append("    version_id=MODEL_VERSION_ID,")
    lines.append(f"    inputs={inputs},")
    config = _output_config(request)
    if config:
        lines += [
            "    model=resources_pb2.Model(",
            "        model_version=resources_pb2.ModelVersion(",
            f"            output_info=resources_pb2.OutputInfo(output_config=resources_pb2.OutputConfig({config}))",
            "        )",
            "    ),",
        ]
    lines += _runner_selector(request)
    lines += [")", ""]
    return "\n".join(lines)


def _output_config(request: CodeRequest) -> str:
    found = []
    for name, value in request.output_config:
        if name == "select_concepts":
            concepts = ", ".join(f"resources_pb2.Concept(name={py(concept)})" for concept in value)
            found.append(f"select_concepts=[{concepts}]")
        else:
            found.append(f"{name}={value!r}")
    return ", ".join(found)


def _runner_selector(request: CodeRequest) -> list[str]:
    routing = request.routing
    if routing.deployment_id:
        return [
            "    runner_selector=resources_pb2.RunnerSelector(",
            "        deployment=resources_pb2.Deployment(id=DEPLOYMENT_ID, user_id=DEPLOYMENT_USER_ID)",
            "    ),",
        ]
    if routing.nodepool_id:
        return [
            "    runner_selector=resources_pb2.RunnerSelector(",
            "        nodepool=resources_pb2.Nodepool(",
            "            id=NODEPOOL_ID,",
            "            compute_cluster=resources_pb2.ComputeCluster(id=COMPUTE_CLUSTER_ID, user_id=COMPUTE_CLUSTER_USER_ID),",
            "        )",
            "    ),",
        ]
    return []


def _method_input(request: CodeRequest) -> list[str]:
    method = request.method
    lines = [
        "# A new-style model: one part per argument of its method, the method named in the metadata.",
        "model_input = resources_pb2.Input()",
        f'model_input.data.metadata.update({{"_method_name": {py(method.name)}}})',
    ]
    image = method.image_argument
    for argument in method.arguments:
        if image is not None and argument.name == image.name:
            target = f"model_input.data.parts.add(id={py(argument.name)}).data"
            if argument.type == LIST:
                target += ".parts.add().data"
            lines.append(f"{target}.image.CopyFrom({_image_expression(request)})")
        elif argument.name in request.arguments:
            lines += _part_statements(argument.name, argument.type, argument.item_type, request.arguments[argument.name])
    return lines + [""]


def _part_statements(name: str, data_type: int, item_type: int, value: Any) -> list[str]:
    target = f"model_input.data.parts.add(id={py(name)}).data"
    if data_type == STR:
        return [f"{target}.string_value = {py(str(value))}"]
    if data_type == TEXT:
        return [f"{target}.text.raw = {py(str(value))}"]
    if data_type == INT:
        return [f"{target}.int_value = {int(value)!r}"]
    if data_type == FLOAT:
        return [f"{target}.float_value = {float(value)!r}"]
    if data_type == BOOL:
        return [f"{target}.bool_value = {bool(value)!r}"]
    if data_type == BYTES:
        return [f"{target}.bytes_value = {bytes(value)!r}"]
    if data_type == JSON_DATA:
        wrapped = {"_list": list(value)} if isinstance(value, (list, tuple)) else dict(value)
        return [f"{target}.struct_value.update({wrapped!r})"]
    if data_type == IMAGE:
        return [f"{target}.image.url = {py(str(value))}"]
    if data_type == LIST and item_type == REGION:
        return [f"{name}_part = {target}", *(line for region in value for line in _region_statements(f"{name}_part", region))]
    kind = DataType.Name(data_type) if data_type in DataType.values() else str(data_type)
    if data_type == LIST and item_type in DataType.values():
        kind += f" of {DataType.Name(item_type)}"
    return [f"# {name}: a {kind} argument, left to its default"]


def _region_statements(part: str, region: RegionValue) -> list[str]:
    """A region given to the method (a box, fractions of the picture, and its labels), inline in the part."""
    lines = [
        f"region = {part}.regions.add()",
        "region.region_info.bounding_box.CopyFrom(resources_pb2.BoundingBox(",
        f"    top_row={region.top!r}, left_col={region.left!r}, bottom_row={region.bottom!r}, right_col={region.right!r}",
        "))",
    ]
    for concept_id, name, value in region.concepts:
        lines.append(f"region.data.concepts.add(id={py(concept_id)}, name={py(name)}, value={float(value)!r})")
    return lines


def _call(request: CodeRequest) -> str:
    method = request.method
    streaming = method is not None and method.streaming
    call = "stub.GenerateModelOutputs" if streaming else "stub.PostModelOutputs"
    lines = [
        "deadline = time.monotonic() + WAIT_FOR_COLD_MODEL_S",
        "wait = 1.0",
        "while True:",
    ]
    if streaming:
        lines += [
            "    # A streaming method: the answer arrives in pieces, printed as they come.",
            f"    responses = {call}(request, metadata=metadata)",
            "    response = next(responses)",
        ]
    else:
        lines.append(f"    response = {call}(request, metadata=metadata)")
    lines += [
        "    if response.status.code not in STARTING_UP or time.monotonic() + wait > deadline:",
        "        break",
        '    print(f"The model is starting up ({response.status.description}); trying again in {wait:.0f} s", flush=True)',
        "    time.sleep(wait)",
        "    wait = min(wait * 2, 30)",
        "if response.status.code != status_code_pb2.SUCCESS:",
        "    print(response.status)",
        '    raise Exception("The prediction failed, status: " + response.status.description)',
        "",
    ]
    if streaming:
        lines += [
            "for piece in [response, *responses]:",
            "    if piece.status.code != status_code_pb2.SUCCESS:",
            '        raise Exception("The stream failed, status: " + piece.status.description)',
            "    for part in piece.outputs[0].data.parts:",
            '        if part.id == "return":',
            '            print(part.data.string_value, end="", flush=True)',
            "print()",
        ]
        return "\n".join(lines)
    lines.append("output = response.outputs[0]  # one input, so one output")
    if method is None:
        return "\n".join([*lines, *request.spec.classic_printout])
    lines.append('answer = next((part.data for part in output.data.parts if part.id == "return"), output.data)')
    if method.returns_regions:
        lines += [
            "for region in answer.regions:",
            "    box = region.region_info.bounding_box",
            "    top, left, bottom, right = box.top_row, box.left_col, box.bottom_row, box.right_col",
            '    names = ", ".join(concept.name for concept in region.data.concepts) or "region"',
            *("    " + line for line in REGION_LINE),
        ]
    elif method.returns_concepts:
        lines += ["for concept in sorted(answer.concepts, key=lambda concept: -concept.value):", "    " + CONCEPT_LINE]
    else:
        lines.append("print(answer.string_value or answer.text.raw)")
    return "\n".join(lines)
