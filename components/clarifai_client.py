"""The small Clarifai client: one channel + stub per process, predict, model info.

Inputs are image file bytes or image URLs; outputs are the plain types of `results`, one
`ImageResult` per input, in input order. The key travels only in each call's metadata.
"""

from __future__ import annotations

import io
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cachetools
import cv2
import grpc
import numpy as np
from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc
from google.protobuf import json_format
from PIL import Image

from components import errors
from components.clarifai_status import FAILURE, INPUT_CODES, MIXED_STATUS, error_for_rpc, error_for_status
from components.models import ModelInfo, ModelRef, PredictSettings
from components.results import SUCCESS, Box, Concept, ImageResult, Prediction, Region, Status
from components.settings import Credentials, Endpoint

log = logging.getLogger(__name__)

ImageInput = bytes | str  # file bytes, or an http(s) URL Clarifai fetches itself

MAX_INPUTS_PER_CALL = 128
MAX_REQUEST_BYTES = 100 * 1024 * 1024  # Clarifai refuses requests of 128 MB
# Big single messages serialise slowly; chunks of about this size sent concurrently are faster.
TARGET_CHUNK_BYTES = 8 * 1024 * 1024
MAX_CONCURRENT_CALLS = 4  # per process: under Clarifai's default 15 requests per second
MAX_MASK_PIXELS = 85_000_000  # a mask is never bigger than the largest image Clarifai takes


@dataclass(frozen=True)
class CallPolicy:
    """Timeouts and bounded retries for calls to Clarifai."""

    predict_timeout_s: float = 60.0
    info_timeout_s: float = 10.0
    retry_budget_s: float = 8.0  # total time spent waiting between retries, per call
    first_backoff_s: float = 0.5
    max_backoff_s: float = 4.0


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


def decode_mask(data: bytes) -> np.ndarray | None:
    """A boolean mask from an encoded image: pixels > 0 belong to the region.

    Any size, 1–4 channels, 8 or 16 bits. None when the bytes are not an image.
    """
    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data)) as header:  # reads the size only
            if header.width * header.height > MAX_MASK_PIXELS:
                return None
    except Image.DecompressionBombError:
        return None
    except Exception:  # not an image Pillow knows; OpenCV may still read it
        pass
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:  # e.g. a header declaring more pixels than OpenCV will allocate
        return None
    if image is None or image.size == 0:
        return None
    if image.ndim == 2:
        return image > 0
    colour = image[..., :3].max(axis=2)
    if image.shape[2] == 4 and not colour.any():
        return image[..., 3] > 0  # a mask drawn only in the alpha channel
    return colour > 0


def prediction_from_output(output: resources_pb2.Output, model_label: str) -> Prediction:
    """The plain result of one Clarifai output."""
    data = output.data
    concepts = tuple(_concept(c) for c in data.concepts)
    regions = []
    notes = []
    undecodable_masks = 0
    for region in data.regions:
        info = region.region_info
        box = None
        if info.HasField("bounding_box"):
            b = info.bounding_box
            candidate = Box(b.top_row, b.left_col, b.bottom_row, b.right_col)
            box = None if candidate.is_empty else candidate
        mask = None
        if info.HasField("mask"):
            mask = decode_mask(info.mask.image.base64)
            undecodable_masks += mask is None
        regions.append(Region(tuple(_concept(c) for c in region.data.concepts), box, mask))
    if undecodable_masks:
        notes.append(f"{undecodable_masks} mask(s) in Clarifai's answer could not be decoded and are not drawn.")
    status = Status(output.status.code or SUCCESS, output.status.description, output.status.details)
    return Prediction(
        concepts=concepts,
        regions=tuple(regions),
        caption=data.text.raw,
        status=status,
        model_label=model_label,
        raw=_output_as_json(output),
        notes=tuple(notes),
    )


def _concept(concept: resources_pb2.Concept) -> Concept:
    return Concept(name=concept.name or concept.id, value=float(concept.value), id=concept.id)


def _output_as_json(output: resources_pb2.Output) -> dict:
    trimmed = resources_pb2.Output()
    trimmed.CopyFrom(output)
    # Clarifai may echo the input; the image bytes do not belong in an export.
    trimmed.input.data.image.ClearField("base64")
    return json_format.MessageToDict(trimmed, preserving_proto_field_name=True)


def build_output_config(settings: PredictSettings) -> resources_pb2.OutputConfig:
    config = resources_pb2.OutputConfig()
    if settings.min_value is not None:
        config.min_value = settings.min_value
    if settings.max_concepts is not None:
        config.max_concepts = settings.max_concepts
    for name in settings.select_concepts:
        config.select_concepts.append(resources_pb2.Concept(name=name))
    return config


def _redact(text: str, secret: str) -> str:
    return text.replace(secret, "[key]") if secret and text else text


def _status_without_key(output: resources_pb2.Output, secret: str) -> resources_pb2.Output:
    """The output with any echo of the key in its status redacted (the raw output is exported)."""
    status = output.status
    if not secret or (secret not in status.description and secret not in status.details):
        return output
    copy = resources_pb2.Output()
    copy.CopyFrom(output)
    copy.status.description = _redact(status.description, secret)
    copy.status.details = _redact(status.details, secret)
    return copy


class ClarifaiClient:
    """Talks to one Clarifai endpoint. Thread-safe; share one per process."""

    def __init__(
        self,
        endpoint: Endpoint,
        policy: CallPolicy = CallPolicy(),
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.endpoint = endpoint
        self.policy = policy
        self._sleep = sleep
        # V2Stub reads a module global that ClarifaiChannel.get_* sets: build them together.
        if endpoint.insecure:
            host, port = endpoint.host_and_port
            self._channel = ClarifaiChannel.get_insecure_grpc_channel(base=host, port=port)
        else:
            self._channel = ClarifaiChannel.get_grpc_channel(base=endpoint.base)
        self._stub = service_pb2_grpc.V2Stub(self._channel)
        self._in_flight = threading.BoundedSemaphore(MAX_CONCURRENT_CALLS)
        self._info_cache: cachetools.TTLCache = cachetools.TTLCache(maxsize=256, ttl=600)
        self._info_lock = threading.Lock()

    def close(self) -> None:
        self._channel.close()

    # --- predictions -------------------------------------------------------------------

    def predict(
        self,
        model: ModelRef,
        inputs: Sequence[ImageInput],
        settings: PredictSettings,
        credentials: Credentials,
        progress: Callable[[int], None] | None = None,
    ) -> list[ImageResult]:
        """One result per input, in input order. Raises a ClarifaiError when the whole call fails.

        `progress`, if given, is called (from worker threads) with the number of inputs answered so far.
        """
        if not inputs:
            return []
        chunks = plan_chunks(input_sizes(inputs))
        results: list[ImageResult | None] = [None] * len(inputs)
        done = 0
        done_lock = threading.Lock()

        def run(chunk: range) -> None:
            nonlocal done
            chunk_results = self._predict_chunk(model, [inputs[i] for i in chunk], settings, credentials)
            for offset, result in zip(chunk, chunk_results):
                results[offset] = result
            with done_lock:
                done += len(chunk)
                if progress:
                    progress(done)

        started = time.perf_counter()
        if len(chunks) == 1:
            run(chunks[0])
        else:
            with ThreadPoolExecutor(max_workers=min(len(chunks), MAX_CONCURRENT_CALLS)) as pool:
                for future in [pool.submit(run, chunk) for chunk in chunks]:
                    future.result()
        log.info(
            "predict %s: %d inputs in %d call(s), %.0f ms",
            model.path,
            len(inputs),
            len(chunks),
            (time.perf_counter() - started) * 1000,
        )
        return [r if r is not None else ImageResult(error=_missing_output_error()) for r in results]

    def _predict_chunk(
        self,
        model: ModelRef,
        inputs: Sequence[ImageInput],
        settings: PredictSettings,
        credentials: Credentials,
    ) -> list[ImageResult]:
        # Requests in flight are capped across every session of the process: each holds its
        # images several times over while it is built and sent.
        with self._in_flight:
            request = self._predict_request(model, inputs, settings)
            response = self._call(
                self._stub.PostModelOutputs, request, credentials, self.policy.predict_timeout_s, model
            )
            del request
        return self._results_from_response(response, len(inputs), model, credentials)

    @staticmethod
    def _predict_request(
        model: ModelRef, inputs: Sequence[ImageInput], settings: PredictSettings
    ) -> service_pb2.PostModelOutputsRequest:
        proto_inputs = []
        for index, item in enumerate(inputs):
            image = resources_pb2.Image(base64=item) if isinstance(item, bytes) else resources_pb2.Image(url=item)
            proto_inputs.append(resources_pb2.Input(id=f"input-{index}", data=resources_pb2.Data(image=image)))
        output_info = resources_pb2.OutputInfo(output_config=build_output_config(settings))
        return service_pb2.PostModelOutputsRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id=model.user_id, app_id=model.app_id),
            model_id=model.model_id,
            version_id=model.version_id,
            inputs=proto_inputs,
            model=resources_pb2.Model(model_version=resources_pb2.ModelVersion(output_info=output_info)),
        )

    def _results_from_response(
        self,
        response: service_pb2.MultiOutputResponse,
        count: int,
        model: ModelRef,
        credentials: Credentials,
    ) -> list[ImageResult]:
        code = response.status.code
        per_input_failure = code in (MIXED_STATUS, FAILURE) or code in INPUT_CODES
        if code != SUCCESS and not (per_input_failure and response.outputs):
            raise self._status_error(response.status, model, credentials)

        by_position = list(response.outputs)
        ids = {f"input-{i}": i for i in range(count)}
        by_id = {ids[o.input.id]: o for o in by_position if o.input.id in ids}
        outputs = by_id if len(by_id) == len(by_position) else dict(enumerate(by_position))

        label = model.path
        results = []
        for index in range(count):
            output = outputs.get(index)
            if output is None:
                results.append(ImageResult(error=_missing_output_error()))
            elif output.status.code not in (SUCCESS, 0):
                results.append(ImageResult(error=self._status_error(output.status, model, credentials)))
            else:
                prediction = prediction_from_output(_status_without_key(output, credentials.pat.reveal()), label)
                results.append(ImageResult(prediction=prediction))
        return results

    # --- model information -------------------------------------------------------------

    def get_model(
        self, model: ModelRef, credentials: Credentials, before_call: Callable[[], None] | None = None
    ) -> ModelInfo:
        """Name and type of a model (cached for a few minutes per model and key).

        `before_call` runs only when the request is really sent, just before; what it raises stops it.
        """
        cache_key = ("model", model, credentials.fingerprint)
        with self._info_lock:
            if cache_key in self._info_cache:
                return self._info_cache[cache_key]
        if before_call is not None:
            before_call()
        request = service_pb2.GetModelRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id=model.user_id, app_id=model.app_id),
            model_id=model.model_id,
            version_id=model.version_id,
        )
        response = self._call(self._stub.GetModel, request, credentials, self.policy.info_timeout_s, model)
        if response.status.code != SUCCESS:
            raise self._status_error(response.status, model, credentials)
        info = _model_info(response.model, model.version_id)
        with self._info_lock:
            self._info_cache[cache_key] = info
        return info

    def list_models(
        self,
        user_id: str,
        app_id: str,
        model_type_id: str,
        credentials: Credentials,
        per_page: int = 100,
        before_call: Callable[[], None] | None = None,
    ) -> list[ModelInfo]:
        """Models of one type in one app (cached for a few minutes per query and key).

        `before_call` runs only when the request is really sent, just before; what it raises stops it.
        """
        cache_key = ("list", user_id, app_id, model_type_id, per_page, credentials.fingerprint)
        with self._info_lock:
            if cache_key in self._info_cache:
                return self._info_cache[cache_key]
        if before_call is not None:
            before_call()
        request = service_pb2.ListModelsRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id=user_id, app_id=app_id),
            model_type_id=model_type_id,
            per_page=per_page,
        )
        response = self._call(self._stub.ListModels, request, credentials, self.policy.info_timeout_s, None)
        if response.status.code != SUCCESS:
            raise self._status_error(response.status, None, credentials)
        models = sorted((_model_info(m, "") for m in response.models), key=lambda info: info.name.lower())
        with self._info_lock:
            self._info_cache[cache_key] = models
        return models

    # --- plumbing ----------------------------------------------------------------------

    def _call(self, method, request, credentials: Credentials, timeout: float, model: ModelRef | None):
        """One unary call with the key in metadata, a timeout, and bounded retries."""
        metadata = (("authorization", "Key " + credentials.pat.reveal()),)
        waited = 0.0
        backoff = self.policy.first_backoff_s
        while True:
            try:
                response = method(request, metadata=metadata, timeout=timeout)
            except grpc.RpcError as rpc_error:
                found = error_for_rpc(rpc_error, self.endpoint.label)
                error = type(found)(found.message, found.code, _redact(found.description, credentials.pat.reveal()))
            else:
                if response.status.code == SUCCESS or response.status.code in (MIXED_STATUS, FAILURE):
                    return response
                error = self._status_error(response.status, model, credentials)
                if not error.retryable:
                    return response
            if not error.retryable or waited + backoff > self.policy.retry_budget_s:
                raise error
            log.warning("%s; retrying in %.1f s", type(error).__name__, backoff)
            self._sleep(backoff)
            waited += backoff
            backoff = min(backoff * 2, self.policy.max_backoff_s)

    @staticmethod
    def _status_error(status, model: ModelRef | None, credentials: Credentials) -> errors.ClarifaiError:
        return error_for_status(
            status.code,
            _redact(status.description, credentials.pat.reveal()),
            _redact(status.details, credentials.pat.reveal()),
            model=model,
            key_from_owner=credentials.from_app_owner,
        )


def _model_info(model: resources_pb2.Model, version_id: str) -> ModelInfo:
    ref = ModelRef(model.user_id, model.app_id, model.id, version_id or model.model_version.id)
    return ModelInfo(
        ref=ref,
        name=model.name or model.display_name or model.id,
        model_type_id=model.model_type_id,
        description=model.description,
    )


def _missing_output_error() -> errors.ClarifaiError:
    return errors.ClarifaiError(
        "Clarifai returned no result for this image. Press Predict again to retry it."
    )


_clients: dict[Endpoint, ClarifaiClient] = {}
_clients_lock = threading.Lock()


def get_client(endpoint: Endpoint | None = None) -> ClarifaiClient:
    """The process-wide client for an endpoint (from the environment by default)."""
    endpoint = endpoint or Endpoint.from_env()
    with _clients_lock:
        client = _clients.get(endpoint)
        if client is None:
            client = _clients[endpoint] = ClarifaiClient(endpoint)
        return client
