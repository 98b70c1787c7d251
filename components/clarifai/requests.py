"""Requests to Clarifai's models: old-style batches of images with their output config, planned in
balanced chunks, new-style calls of one method for one image, and the runner selector of both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2, service_pb2

from components.clarifai import parts
from components.models import ModelRef, PredictSettings, Routing
from components.signatures import Method

ImageInput = bytes | str  # file bytes, or an http(s) URL Clarifai fetches itself

MAX_INPUTS_PER_CALL = 128
MAX_REQUEST_BYTES = 100 * 1024 * 1024  # Clarifai refuses requests of 128 MB
# Big single messages serialise slowly; chunks of about this size sent concurrently are faster.
TARGET_CHUNK_BYTES = 8 * 1024 * 1024


def plan_chunks(
    sizes: Sequence[int],
    max_inputs: int = MAX_INPUTS_PER_CALL,
    target_bytes: int = TARGET_CHUNK_BYTES,
    max_bytes: int = MAX_REQUEST_BYTES,
) -> list[range]:
    """Split inputs (by their byte sizes) into contiguous, balanced chunks for separate calls.

    Each chunk holds at most `max_inputs` inputs and, unless one input alone is bigger, at most
    `max_bytes`; the number of chunks also grows with the total size so that each carries about
    `target_bytes`.
    """
    count = len(sizes)
    if count == 0:
        return []
    total = sum(sizes)
    wanted = max(math.ceil(count / max_inputs), math.ceil(total / target_bytes), 1)
    wanted = min(wanted, count)
    per_chunk = math.ceil(count / wanted)
    chunks: list[range] = []
    start = 0
    while start < count:
        end = start
        chunk_bytes = 0
        while end < count and end - start < per_chunk and end - start < max_inputs:
            if end > start and chunk_bytes + sizes[end] > max_bytes:
                break
            chunk_bytes += sizes[end]
            end += 1
        chunks.append(range(start, end))
        start = end
    return chunks


def input_sizes(inputs: Sequence[ImageInput]) -> list[int]:
    """Bytes each input adds to a request (a URL is small)."""
    return [len(item) if isinstance(item, bytes) else 256 for item in inputs]


def build_output_config(settings: PredictSettings) -> resources_pb2.OutputConfig:
    config = resources_pb2.OutputConfig()
    if settings.min_value is not None:
        config.min_value = settings.min_value
    if settings.max_concepts is not None:
        config.max_concepts = settings.max_concepts
    for name in settings.select_concepts:
        config.select_concepts.append(resources_pb2.Concept(name=name))
    return config



def predict_request(
    model: ModelRef, inputs: Sequence[ImageInput], settings: PredictSettings, routing: Routing
) -> service_pb2.PostModelOutputsRequest:
    proto_inputs = []
    for index, item in enumerate(inputs):
        image = resources_pb2.Image(base64=item) if isinstance(item, bytes) else resources_pb2.Image(url=item)
        proto_inputs.append(resources_pb2.Input(id=f"input-{index}", data=resources_pb2.Data(image=image)))
    output_info = resources_pb2.OutputInfo(output_config=build_output_config(settings))
    request = service_pb2.PostModelOutputsRequest(
        user_app_id=resources_pb2.UserAppIDSet(user_id=model.user_id, app_id=model.app_id),
        model_id=model.model_id,
        version_id=model.version_id,
        inputs=proto_inputs,
        model=resources_pb2.Model(model_version=resources_pb2.ModelVersion(output_info=output_info)),
    )
    route(request, routing)
    return request


def method_request(
    model: ModelRef, method: Method, index: int, values: Mapping[str, Any], routing: Routing
) -> service_pb2.PostModelOutputsRequest:
    """One image's call of a new-style method: its argument values as the input's parts."""
    request = service_pb2.PostModelOutputsRequest(
        user_app_id=resources_pb2.UserAppIDSet(user_id=model.user_id, app_id=model.app_id),
        model_id=model.model_id,
        version_id=model.version_id,
        inputs=[resources_pb2.Input(id=f"input-{index}", data=parts.call_data(method, values))],
    )
    route(request, routing)
    return request


def route(request: service_pb2.PostModelOutputsRequest, routing: Routing) -> None:
    """Sets the request's runner selector from the routing chosen (nothing when it is empty)."""
    if routing.deployment_id:
        request.runner_selector.deployment.id = routing.deployment_id
        request.runner_selector.deployment.user_id = routing.user_id
    elif routing.nodepool_id:
        nodepool = request.runner_selector.nodepool
        nodepool.id = routing.nodepool_id
        nodepool.compute_cluster.id = routing.compute_cluster_id
        nodepool.compute_cluster.user_id = routing.user_id
