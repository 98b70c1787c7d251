"""“Get the code”: the Python that reproduces one prediction with `clarifai-grpc`, as Clarifai's own
docs write it (the seed page's style).

The code is runnable as shown once a key is given: it reads `CLARIFAI_PAT` from the environment and
falls back to a `YOUR_PAT_HERE` placeholder. The key itself never goes into it. Pure: no network,
no streamlit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from components.images.preparation import PreparedImage
from components.models import ModelRef, PredictSettings, Routing
from components.run import answers
from components.run.backend import Backend, RunPlan
from components.signatures import BOOL, BYTES, FLOAT, IMAGE, INT, JSON_DATA, LIST, STR, TEXT, Method
from components.tasks import TaskSpec
from components.text import last_path_part

PAT_PLACEHOLDER = "YOUR_PAT_HERE"


@dataclass(frozen=True)
class CodeRequest:
    """One prediction as the page made it."""

    spec: TaskSpec
    model: ModelRef
    image_url: str = ""  # the image by its address, when it has one
    image_file: str = "image.jpg"  # else the file the code reads (the user's own copy)
    settings: PredictSettings = PredictSettings()  # old-style models' output settings
    method: Method | None = None  # a new-style model's method; None for an old-style model
    arguments: Mapping[str, Any] = field(default_factory=dict)  # its values, the image left out
    routing: Routing = Routing()


def request_for(plan: RunPlan, method: Method | None, image: PreparedImage) -> CodeRequest | None:
    """What the page asked for one image, as a CodeRequest; None for a local model (no Clarifai call)."""
    if plan.backend != Backend.CLARIFAI or plan.model is None:
        return None
    arguments: dict[str, Any] = {}
    if method is not None:
        prompt = plan.task.spec.prompt_for(plan.model, plan.prompt, plan.labels, image.width, image.height)
        arguments = answers.call_arguments(method, b"", prompt, dict(plan.params))
        if method.image_argument is not None:
            arguments.pop(method.image_argument.name, None)
    file_name = last_path_part(image.name) if image.source != "url" else "image.jpg"
    return CodeRequest(
        plan.task.spec,
        plan.model,
        image_url=image.url if image.source == "url" else "",
        image_file=file_name or "image.jpg",
        settings=plan.settings,
        method=method,
        arguments=arguments,
        routing=plan.routing,
    )


def python_code(request: CodeRequest) -> str:
    """A complete script: configuration, the request, the call, and the results printed."""
    sections = [_header(request), _setup(request)]
    if request.method is None:
        sections.append(_classic_call(request))
    else:
        sections.append(_method_call(request))
    return "\n".join(sections).rstrip() + "\n"


# --- the sections --------------------------------------------------------------------------------


def _header(request: CodeRequest) -> str:
    model = request.model
    lines = [
        "#" * 100,
        "# In this section, we set the user authentication, user and app ID, model details, and the",
        "# image we want as an input. Change these strings to run your own example.",
        "#" * 100,
        "",
        "import os",
        "",
        "# Your personal access token (PAT), from clarifai.com → Settings → Secrets.",
        f'PAT = os.environ.get("CLARIFAI_PAT", "{PAT_PLACEHOLDER}")',
        "# The model's owner and app, the model and (optionally) its version.",
        f"USER_ID = {_py(model.user_id)}",
        f"APP_ID = {_py(model.app_id)}",
        f"MODEL_ID = {_py(model.model_id)}",
        f"MODEL_VERSION_ID = {_py(model.version_id)}",
    ]
    if request.image_url:
        lines.append(f"IMAGE_URL = {_py(request.image_url)}")
    else:
        lines += [
            "# The picture, as a file. (The app sent it upright, without EXIF data, at most 1024 px on a side:",
            "# a phone photo saved on its side gives other boxes here unless it is turned upright first.)",
            f"IMAGE_FILE_LOCATION = {_py(request.image_file)}",
        ]
    routing = request.routing
    if routing.deployment_id:
        lines += [f"DEPLOYMENT_ID = {_py(routing.deployment_id)}", f"DEPLOYMENT_USER_ID = {_py(routing.user_id)}"]
    elif routing.nodepool_id:
        lines += [
            f"NODEPOOL_ID = {_py(routing.nodepool_id)}",
            f"COMPUTE_CLUSTER_ID = {_py(routing.compute_cluster_id)}",
            f"COMPUTE_CLUSTER_USER_ID = {_py(routing.user_id)}",
        ]
    lines += ["", "#" * 100, "# YOU DO NOT NEED TO CHANGE ANYTHING BELOW THIS LINE TO RUN THIS EXAMPLE", "#" * 100, ""]
    return "\n".join(lines)


def _setup(request: CodeRequest) -> str:
    lines = [
        "from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel",
        "from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc",
        "from clarifai_grpc.grpc.api.status import status_code_pb2",
        "",
        "channel = ClarifaiChannel.get_grpc_channel()",
        "stub = service_pb2_grpc.V2Stub(channel)",
        "",
        'metadata = (("authorization", "Key " + PAT),)',
        "userDataObject = resources_pb2.UserAppIDSet(user_id=USER_ID, app_id=APP_ID)",
        "",
    ]
    if not request.image_url:
        lines += ["with open(IMAGE_FILE_LOCATION, \"rb\") as f:", "    file_bytes = f.read()", ""]
    return "\n".join(lines)


def _image_expression(request: CodeRequest) -> str:
    return "resources_pb2.Image(url=IMAGE_URL)" if request.image_url else "resources_pb2.Image(base64=file_bytes)"


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


def _classic_call(request: CodeRequest) -> str:
    settings = request.settings
    config = []
    if settings.min_value is not None:
        config.append(f"min_value={settings.min_value!r}")
    if settings.max_concepts is not None:
        config.append(f"max_concepts={settings.max_concepts!r}")
    if settings.select_concepts:
        concepts = ", ".join(f"resources_pb2.Concept(name={_py(name)})" for name in settings.select_concepts)
        config.append(f"select_concepts=[{concepts}]")
    lines = ["post_model_outputs_response = stub.PostModelOutputs(", "    service_pb2.PostModelOutputsRequest("]
    lines += [
        "        user_app_id=userDataObject,",
        "        model_id=MODEL_ID,",
        "        version_id=MODEL_VERSION_ID,  # optional: defaults to the latest version",
        f"        inputs=[resources_pb2.Input(data=resources_pb2.Data(image={_image_expression(request)}))],",
    ]
    if config:
        lines += [
            "        model=resources_pb2.Model(",
            "            model_version=resources_pb2.ModelVersion(",
            "                output_info=resources_pb2.OutputInfo(",
            f"                    output_config=resources_pb2.OutputConfig({', '.join(config)})",
            "                )",
            "            )",
            "        ),",
        ]
    lines += ["    " + line for line in _runner_selector(request)]
    lines += [
        "    ),",
        "    metadata=metadata,",
        ")",
        "if post_model_outputs_response.status.code != status_code_pb2.SUCCESS:",
        "    print(post_model_outputs_response.status)",
        '    raise Exception("Post model outputs failed, status: " + post_model_outputs_response.status.description)',
        "",
        "# Since we have one input, one output will exist here",
        "output = post_model_outputs_response.outputs[0]",
        "",
        *request.spec.classic_printout,
    ]
    return "\n".join(lines)


def _method_call(request: CodeRequest) -> str:
    method = request.method
    lines = [
        "# A new-style model: one part per argument of its method, the method named in the metadata.",
        "model_input = resources_pb2.Input()",
        f'model_input.data.metadata.update({{"_method_name": {_py(method.name)}}})',
    ]
    image = method.image_argument
    for argument in method.arguments:
        if image is not None and argument.name == image.name:
            target = f"model_input.data.parts.add(id={_py(argument.name)}).data"
            if argument.type == LIST:
                target += ".parts.add().data"
            lines.append(f"{target}.image.CopyFrom({_image_expression(request)})")
            continue
        if argument.name not in request.arguments:
            continue
        lines.append(_part_statement(argument.name, argument.type, request.arguments[argument.name]))
    request_lines = [
        "request = service_pb2.PostModelOutputsRequest(",
        "    user_app_id=userDataObject,",
        "    model_id=MODEL_ID,",
        "    version_id=MODEL_VERSION_ID,  # optional: defaults to the latest version",
        "    inputs=[model_input],",
        *_runner_selector(request),
        ")",
    ]
    lines += ["", *request_lines, ""]
    if method.streaming:
        lines += [
            "# A streaming method: the answer arrives in pieces, printed as they come.",
            "for response in stub.GenerateModelOutputs(request, metadata=metadata):",
            "    if response.status.code != status_code_pb2.SUCCESS:",
            '        raise Exception("Generate model outputs failed, status: " + response.status.description)',
            "    for part in response.outputs[0].data.parts:",
            '        if part.id == "return":',
            '            print(part.data.string_value, end="", flush=True)',
            "print()",
        ]
        return "\n".join(lines)
    lines += [
        "post_model_outputs_response = stub.PostModelOutputs(request, metadata=metadata)",
        "if post_model_outputs_response.status.code != status_code_pb2.SUCCESS:",
        "    print(post_model_outputs_response.status)",
        '    raise Exception("Post model outputs failed, status: " + post_model_outputs_response.status.description)',
        "",
        "output = post_model_outputs_response.outputs[0]",
        "answer = next((part.data for part in output.data.parts if part.id == \"return\"), output.data)",
    ]
    if method.returns_regions:
        lines += [
            "for region in answer.regions:",
            "    box = region.region_info.bounding_box",
            "    names = \", \".join(concept.name for concept in region.data.concepts) or \"region\"",
            '    print(f"{names}: box (top, left, bottom, right) "',
            '          f"{box.top_row:.3f}, {box.left_col:.3f}, {box.bottom_row:.3f}, {box.right_col:.3f}")',
        ]
    elif method.returns_concepts:
        lines += ["for concept in answer.concepts:", '    print(f"{concept.name} {concept.value:.2f}")']
    else:
        lines += ["print(answer.string_value or answer.text.raw)"]
    return "\n".join(lines)


def _part_statement(name: str, data_type: int, value: Any) -> str:
    target = f"model_input.data.parts.add(id={_py(name)}).data"
    if data_type == STR:
        return f"{target}.string_value = {_py(str(value))}"
    if data_type == TEXT:
        return f"{target}.text.raw = {_py(str(value))}"
    if data_type == INT:
        return f"{target}.int_value = {int(value)!r}"
    if data_type == FLOAT:
        return f"{target}.float_value = {float(value)!r}"
    if data_type == BOOL:
        return f"{target}.bool_value = {bool(value)!r}"
    if data_type == BYTES:
        return f"{target}.bytes_value = {bytes(value)!r}"
    if data_type == JSON_DATA:
        wrapped = {"_list": list(value)} if isinstance(value, (list, tuple)) else dict(value)
        return f"{target}.struct_value.update({wrapped!r})"
    if data_type == IMAGE:
        return f"{target}.image.url = {_py(str(value))}"
    return f"# {name}: a {data_type} argument is left to its default"


def _py(text: str) -> str:
    """A Python string literal (JSON's double-quoted form, valid Python, with escapes for anything odd)."""
    return json.dumps(str(text), ensure_ascii=False)
