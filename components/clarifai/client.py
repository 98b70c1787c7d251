"""The small Clarifai client: one channel + stub per process, predictions, model information.

It speaks both kinds of Clarifai model. Old-style models take images and answer in
`outputs[].data`: inputs go in balanced batches of up to 128 (`predict`). New-style models declare
method signatures and take named arguments: each image is its own request, sent concurrently
under the rate limit, unary or streamed (`call_method`). Outputs are the plain types of `results`,
one `ImageResult` per input, in input order. The key travels only in each call's metadata.

Waiting is bounded and never holds a shared slot: transport failures (UNAVAILABLE,
DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED) and throttling are retried within `retry_budget_s` of wall
time; a model starting up is waited for up to `cold_start_wait_s`, reporting the wait.
"""

from __future__ import annotations

import io
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from typing import Any

import cachetools
import cv2
import grpc
import numpy as np
from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc
from clarifai_grpc.grpc.api.status import status_pb2
from google.protobuf import json_format
from PIL import Image

from components import errors, signatures
from components.clarifai.status import (
    FAILURE,
    INPUT_CODES,
    INPUT_FAILED,
    MIXED_STATUS,
    RETRIED_CODES,
    RETRIED_RPC_CODES,
    WARMING_UP_CODES,
    error_for_rpc,
    error_for_status,
)
from components.models import ModelInfo, ModelRef, PredictSettings, Routing
from components.results import SUCCESS, Box, Concept, ImageResult, Prediction, Region, Status, TokenUsage
from components.settings import Credentials, Endpoint
from components.signatures import Method

log = logging.getLogger(__name__)

ImageInput = bytes | str  # file bytes, or an http(s) URL Clarifai fetches itself

MAX_INPUTS_PER_CALL = 128
MAX_REQUEST_BYTES = 100 * 1024 * 1024  # Clarifai refuses requests of 128 MB
# Big single messages serialise slowly; chunks of about this size sent concurrently are faster.
TARGET_CHUNK_BYTES = 8 * 1024 * 1024
MAX_CONCURRENT_CALLS = 4  # batches in flight per process: each holds many images in memory
MAX_REQUESTS_IN_FLIGHT = 32  # single-image requests in flight per process
MAX_MASK_PIXELS = 85_000_000  # a mask is never bigger than the largest image Clarifai takes
CLARIFAI_RATE_LIMIT = 15.0  # Clarifai's default: requests per second per key
MAX_SEARCH_CHARS = 200
# Types of the classic single-task models. One of these declaring no signatures is taken as
# old-style without asking its runner, which would cost a prediction call.
OLD_STYLE_TYPES = frozenset({"visual-classifier", "visual-detector", "visual-segmenter", "image-to-text"})

Progress = Callable[[int], None]  # the number of inputs answered so far
Waiting = Callable[[str], None]  # what the client is waiting for, in a few words, as it waits
TextSoFar = Callable[[int, str], None]  # (input index, the answer so far) while an answer streams in
BeforeCall = Callable[[], None]  # runs just before a look-up request is sent; may refuse it by raising


@dataclass(frozen=True)
class CallPolicy:
    """Timeouts, bounded retries and concurrency for calls to Clarifai."""

    predict_timeout_s: float = 60.0
    info_timeout_s: float = 10.0
    retry_budget_s: float = 8.0  # wall time, attempts included, for retrying one call
    first_backoff_s: float = 0.5
    max_backoff_s: float = 4.0
    cold_start_wait_s: float = 120.0  # how long to keep trying a model that is starting up
    cold_start_poll_s: float = 5.0  # longest pause between tries while it starts
    fan_out: int = 12  # single-image requests in flight for one run of a new-style model
    requests_per_second: float = CLARIFAI_RATE_LIMIT - 2  # a margin for requests bunching up on the way


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
    """The plain result of one old-style Clarifai output."""
    data = output.data
    regions, notes = regions_from_protos(data.regions)
    return Prediction(
        concepts=tuple(_concept(c) for c in data.concepts),
        regions=regions,
        caption=data.text.raw,
        status=_status(output),
        model_label=model_label,
        raw=_output_as_json(output),
        notes=notes,
    )


def prediction_from_answer(output: resources_pb2.Output, method: Method, model_label: str) -> Prediction:
    """The plain result of one new-style method's answer: text, regions or concepts, and token counts."""
    answer = signatures.read_answer(output, method)
    regions, notes = regions_from_protos(answer.regions)
    return Prediction(
        concepts=tuple(_concept(c) for c in answer.concepts),
        regions=regions,
        caption=answer.text,
        status=_status(output),
        model_label=model_label,
        raw=_output_as_json(output),
        notes=notes,
        usage=answer.usage,
    )


def regions_from_protos(protos: Sequence[resources_pb2.Region]) -> tuple[tuple[Region, ...], tuple[str, ...]]:
    """Regions with their box (None when empty, as segments carry) and decoded mask, and notes."""
    regions = []
    undecodable_masks = 0
    for region in protos:
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
    notes = ()
    if undecodable_masks:
        notes = (f"{undecodable_masks} mask(s) in Clarifai's answer could not be decoded and are not drawn.",)
    return tuple(regions), notes


def _status(output: resources_pb2.Output) -> Status:
    return Status(output.status.code or SUCCESS, output.status.description, output.status.details)


def _concept(concept: resources_pb2.Concept) -> Concept:
    return Concept(name=concept.name or concept.id, value=float(concept.value), id=concept.id)


def _output_as_json(output: resources_pb2.Output) -> dict:
    trimmed = resources_pb2.Output()
    trimmed.CopyFrom(output)
    # Clarifai may echo the input; the image bytes do not belong in an export.
    trimmed.input.data.image.ClearField("base64")
    trimmed.input.data.ClearField("parts")
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


class RateLimiter:
    """Spaces request starts evenly, `per_second` a second at most. Even spacing, not bursts: requests
    bunch up on the way to Clarifai, and bursts would put more than the limit into some second there."""

    def __init__(self, per_second: float, clock: Callable[[], float], sleep: Callable[[float], None]):
        self._interval = 1.0 / per_second if per_second > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self._interval
        if start > now:
            self._sleep(start - now)


class ClarifaiClient:
    """Talks to one Clarifai endpoint. Thread-safe; share one per process."""

    def __init__(
        self,
        endpoint: Endpoint,
        policy: CallPolicy = CallPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.endpoint = endpoint
        self.policy = policy
        self._sleep = sleep
        self._clock = clock
        # V2Stub reads a module global that ClarifaiChannel.get_* sets: build them together.
        if endpoint.insecure:
            host, port = endpoint.host_and_port
            self._channel = ClarifaiChannel.get_insecure_grpc_channel(base=host, port=port)
        else:
            self._channel = ClarifaiChannel.get_grpc_channel(base=endpoint.base)
        self._stub = service_pb2_grpc.V2Stub(self._channel)
        # Slots are held only while a request is on the wire, never while waiting to retry.
        self._batch_slots = threading.BoundedSemaphore(MAX_CONCURRENT_CALLS)
        self._request_slots = threading.BoundedSemaphore(MAX_REQUESTS_IN_FLIGHT)
        self._limiters: cachetools.TTLCache = cachetools.TTLCache(maxsize=1024, ttl=3600)
        self._info_cache: cachetools.TTLCache = cachetools.TTLCache(maxsize=256, ttl=600)
        # Look-ups Clarifai refused for good (no such model, not for this key), remembered briefly so
        # that a page redrawn again and again does not ask again each time.
        self._refusals: cachetools.TTLCache = cachetools.TTLCache(maxsize=256, ttl=120)
        self._info_lock = threading.Lock()

    def close(self) -> None:
        self._channel.close()

    # --- old-style predictions: batches -------------------------------------------------------

    def predict(
        self,
        model: ModelRef,
        inputs: Sequence[ImageInput],
        settings: PredictSettings,
        credentials: Credentials,
        progress: Progress | None = None,
        *,
        routing: Routing = Routing(),
        on_wait: Waiting | None = None,
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
            chunk_results = self._predict_chunk(
                model, [inputs[i] for i in chunk], settings, credentials, routing, on_wait
            )
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
        routing: Routing,
        on_wait: Waiting | None,
        resent: bool = False,
    ) -> list[ImageResult]:
        request = self._predict_request(model, inputs, settings, routing)
        response = self._call(
            self._stub.PostModelOutputs,
            request,
            credentials,
            self.policy.predict_timeout_s,
            model=model,
            slots=self._batch_slots,
            on_wait=on_wait,
            settings=settings,
            routing=routing,
        )
        del request
        results = self._results_from_response(response, len(inputs), model, credentials, settings, routing)
        healthy = [] if resent else failed_only_for_others(response, len(inputs))
        if healthy:
            # A fail-fast batch: one bad input cost the others their answers. Send them again, once.
            again = self._predict_chunk(
                model, [inputs[i] for i in healthy], settings, credentials, routing, on_wait, resent=True
            )
            for index, result in zip(healthy, again):
                results[index] = result
        return results

    @staticmethod
    def _predict_request(
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
        _route(request, routing)
        return request

    def _results_from_response(
        self,
        response: service_pb2.MultiOutputResponse,
        count: int,
        model: ModelRef,
        credentials: Credentials,
        settings: PredictSettings,
        routing: Routing,
    ) -> list[ImageResult]:
        code = response.status.code
        per_input_failure = code in (MIXED_STATUS, FAILURE) or code in INPUT_CODES
        if code != SUCCESS and not (per_input_failure and response.outputs):
            raise self._status_error(response.status, model, credentials, settings, routing)

        outputs = outputs_by_input(response, count)
        label = model.path
        results = []
        for index in range(count):
            output = outputs.get(index)
            if output is None:
                results.append(ImageResult(error=_missing_output_error()))
            elif output.status.code not in (SUCCESS, 0):
                results.append(ImageResult(error=self._status_error(output.status, model, credentials, settings, routing)))
            else:
                prediction = prediction_from_output(_status_without_key(output, credentials.pat.reveal()), label)
                results.append(ImageResult(prediction=prediction))
        return results

    # --- new-style models: one request per image, fanned out ----------------------------------

    def call_method(
        self,
        model: ModelRef,
        method: Method,
        arguments: Sequence[Mapping[str, Any]],
        credentials: Credentials,
        *,
        routing: Routing = Routing(),
        progress: Progress | None = None,
        on_text: TextSoFar | None = None,
        on_wait: Waiting | None = None,
    ) -> list[ImageResult]:
        """Calls `method` once per entry of `arguments` (its argument values for one image).

        Requests go concurrently (at most `policy.fan_out` at a time, under the rate limit);
        streaming methods report each answer as it grows through `on_text`. One result per entry,
        in order. An error that would stop every image (a refused key, a model with nowhere to
        run) stops the run and is raised; an error of one image stays with that image.
        """
        count = len(arguments)
        if count == 0:
            return []
        results: list[ImageResult | None] = [None] * count
        stop: list[errors.ClarifaiError] = []
        done = 0
        lock = threading.Lock()

        def run(index: int) -> None:
            nonlocal done
            if stop:
                return
            try:
                result = self._call_one(model, method, index, arguments[index], credentials, routing, on_text, on_wait)
            except errors.ClarifaiError as error:
                if not _stops_the_run(error):
                    result = ImageResult(error=error)
                else:
                    with lock:
                        stop.append(error)
                    return
            results[index] = result
            with lock:
                done += 1
                finished = done
            if progress:
                progress(finished)

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=max(1, min(count, self.policy.fan_out))) as pool:
            list(pool.map(run, range(count)))
        if stop:
            raise stop[0]
        log.info(
            "%s %s: %d request(s), %.0f ms", method.name, model.path, count, (time.perf_counter() - started) * 1000
        )
        return [r if r is not None else ImageResult(error=_missing_output_error()) for r in results]

    def _call_one(
        self,
        model: ModelRef,
        method: Method,
        index: int,
        values: Mapping[str, Any],
        credentials: Credentials,
        routing: Routing,
        on_text: TextSoFar | None,
        on_wait: Waiting | None,
    ) -> ImageResult:
        request = service_pb2.PostModelOutputsRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id=model.user_id, app_id=model.app_id),
            model_id=model.model_id,
            version_id=model.version_id,
            inputs=[resources_pb2.Input(id=f"input-{index}", data=signatures.call_data(method, values))],
        )
        _route(request, routing)
        started = self._clock()
        if method.streaming:
            report = (lambda text: on_text(index, text)) if on_text else None
            prediction = self._stream(model, method, request, credentials, routing, report, on_wait)
        else:
            response = self._call(
                self._stub.PostModelOutputs,
                request,
                credentials,
                self.policy.predict_timeout_s,
                model=model,
                slots=self._request_slots,
                on_wait=on_wait,
                routing=routing,
            )
            prediction = self._answer(response, model, method, credentials, routing)
        return ImageResult(prediction=replace(prediction, seconds=self._clock() - started))

    def _answer(
        self,
        response: service_pb2.MultiOutputResponse,
        model: ModelRef,
        method: Method,
        credentials: Credentials,
        routing: Routing,
    ) -> Prediction:
        """The prediction in a one-input answer, or the error of that input."""
        status = response.status
        output = response.outputs[0] if response.outputs else None
        if output is not None and output.status.code not in (SUCCESS, 0):
            raise self._status_error(output.status, model, credentials, routing=routing)
        if status.code not in (SUCCESS, MIXED_STATUS) or output is None:
            raise self._status_error(status, model, credentials, routing=routing)
        return prediction_from_answer(_status_without_key(output, credentials.pat.reveal()), method, model.path)

    def _stream(
        self,
        model: ModelRef,
        method: Method,
        request: service_pb2.PostModelOutputsRequest,
        credentials: Credentials,
        routing: Routing,
        report: Callable[[str], None] | None,
        on_wait: Waiting | None,
    ) -> Prediction:
        """A streamed answer (GenerateModelOutputs), reported as it grows; retried only before it starts."""
        chunks: list[str] = []
        last: list[resources_pb2.Output] = []
        usage: list[TokenUsage] = []

        def read(stream: Iterator[service_pb2.MultiOutputResponse]) -> service_pb2.MultiOutputResponse:
            """Reads the whole stream: the first response that is not a success, else a success."""
            for response in stream:
                output = response.outputs[0] if response.outputs else None
                if response.status.code not in (SUCCESS, MIXED_STATUS) or output is None:
                    return response
                if output.status.code not in (SUCCESS, 0):
                    raise self._status_error(output.status, model, credentials, routing=routing)
                chunks.append(signatures.answer_text(output))
                last[:] = [output]
                usage.extend(u for u in (signatures.token_usage(output),) if u is not None)
                if report:
                    report("".join(chunks))
            return service_pb2.MultiOutputResponse(status=status_pb2.Status(code=SUCCESS))

        response = self._call(
            lambda req, **kw: read(self._stub.GenerateModelOutputs(req, **kw)),
            request,
            credentials,
            self.policy.predict_timeout_s,
            model=model,
            slots=self._request_slots,
            on_wait=on_wait,
            routing=routing,
            retry_while=lambda: not chunks,
        )
        if response.status.code != SUCCESS:
            raise self._status_error(response.status, model, credentials, routing=routing)
        if not last:
            raise _missing_output_error()
        # The whole answer in one output, as a unary call would have given it (for exports).
        output = resources_pb2.Output()
        output.CopyFrom(last[0])
        output.data.Clear()
        output.data.parts.add(id=signatures.RETURN).data.string_value = "".join(chunks)
        prediction = prediction_from_answer(_status_without_key(output, credentials.pat.reveal()), method, model.path)
        return replace(prediction, usage=usage[-1] if usage else None)

    # --- model information -------------------------------------------------------------------

    def get_model(
        self,
        model: ModelRef,
        credentials: Credentials,
        *,
        routing: Routing = Routing(),
        before_call: BeforeCall | None = None,
    ) -> ModelInfo:
        """Name, type and method signatures of a model (cached for a few minutes per model and key).

        Signatures come with GetModel (with the version it describes), else from GetModelVersion when
        GetModel named no version, else (for types other than the classic ones) from the runner's
        `_GET_SIGNATURES` call; none means an old-style model.
        `before_call` runs just before each request really sent (not on cache hits); what it
        raises stops the request.
        """
        cache_key = ("model", model, credentials.fingerprint, routing)
        with self._info_lock:
            if cache_key in self._info_cache:
                return self._info_cache[cache_key]
            refusal = self._refusals.get(cache_key)
        if refusal is not None:  # a model that is not there, or not for this key, is not asked about again soon
            raise type(refusal)(refusal.message, refusal.code, refusal.description)
        request = service_pb2.GetModelRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id=model.user_id, app_id=model.app_id),
            model_id=model.model_id,
            version_id=model.version_id,
        )
        before = before_call or _nothing
        before()
        try:
            response = self._info_call(self._stub.GetModel, request, credentials, model)
        except (errors.ModelNotFoundError, errors.ModelForbiddenError) as error:
            with self._info_lock:
                self._refusals[cache_key] = error
            raise
        info = _model_info(response.model, model.version_id)
        if not info.methods:
            # GetModel carries the version it describes; only when it does not is the version asked for.
            ask_version = not response.model.model_version.id
            ask_runner = info.model_type_id not in OLD_STYLE_TYPES
            methods = self._signatures(info.ref, credentials, routing, ask_version, ask_runner, before)
            info = replace(info, methods=methods)
        with self._info_lock:
            self._info_cache[cache_key] = info
        return info

    def _signatures(
        self,
        model: ModelRef,
        credentials: Credentials,
        routing: Routing,
        ask_version: bool,
        ask_runner: bool,
        before: BeforeCall,
    ) -> tuple[Method, ...]:
        if ask_version and model.version_id:
            before()
            request = service_pb2.GetModelVersionRequest(
                user_app_id=resources_pb2.UserAppIDSet(user_id=model.user_id, app_id=model.app_id),
                model_id=model.model_id,
                version_id=model.version_id,
            )
            try:
                response = self._info_call(self._stub.GetModelVersion, request, credentials, model)
            except errors.ClarifaiError:
                response = None
            if response is not None and response.model_version.method_signatures:
                return signatures.methods_from_protos(response.model_version.method_signatures)
        if not ask_runner:
            return ()
        # The fallback Clarifai's SDK uses: ask the runner itself. Old-style models answer with an
        # error or an empty text, which means they have no signatures.
        request = service_pb2.PostModelOutputsRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id=model.user_id, app_id=model.app_id),
            model_id=model.model_id,
            version_id=model.version_id,
            inputs=[resources_pb2.Input(data=signatures.signatures_request_data())],
        )
        _route(request, routing)
        before()
        try:
            response = self._call(
                self._stub.PostModelOutputs, request, credentials, self.policy.info_timeout_s, model=model, routing=routing
            )
        except errors.ClarifaiError:
            return ()
        if response.status.code != SUCCESS or not response.outputs:
            return ()
        return signatures.methods_from_json(response.outputs[0].data.text.raw)

    def list_models(
        self,
        user_id: str,
        app_id: str,
        model_type_id: str,
        credentials: Credentials,
        per_page: int = 100,
        before_call: BeforeCall | None = None,
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
        response = self._info_call(self._stub.ListModels, request, credentials, None)
        models = sorted((_model_info(m, "") for m in response.models), key=lambda info: info.name.lower())
        with self._info_lock:
            self._info_cache[cache_key] = models
        return models

    def search_models(
        self,
        query: str,
        credentials: Credentials,
        *,
        featured_only: bool = False,
        page: int = 1,
        per_page: int = 20,
        before_call: BeforeCall | None = None,
    ) -> list[ModelInfo]:
        """Clarifai's community models matching `query`, across users, one page at a time
        (cached for a few minutes per query and key). Each carries its method signatures."""
        query = " ".join(query.split())[:MAX_SEARCH_CHARS]
        cache_key = ("search", query, featured_only, page, per_page, credentials.fingerprint)
        with self._info_lock:
            if cache_key in self._info_cache:
                return self._info_cache[cache_key]
        if before_call is not None:
            before_call()
        request = service_pb2.ListModelsRequest(
            search=query, featured_only=featured_only, page=max(page, 1), per_page=per_page
        )
        response = self._info_call(self._stub.ListModels, request, credentials, None)
        models = [_model_info(m, "") for m in response.models]
        with self._info_lock:
            self._info_cache[cache_key] = models
        return models

    def _info_call(self, rpc, request, credentials: Credentials, model: ModelRef | None):
        response = self._call(rpc, request, credentials, self.policy.info_timeout_s, model=model)
        if response.status.code != SUCCESS:
            raise self._status_error(response.status, model, credentials)
        return response

    # --- plumbing ----------------------------------------------------------------------

    def _call(
        self,
        rpc: Callable,
        request,
        credentials: Credentials,
        timeout: float,
        *,
        model: ModelRef | None = None,
        slots: AbstractContextManager | None = None,
        on_wait: Waiting | None = None,
        settings: PredictSettings | None = None,
        routing: Routing = Routing(),
        retry_while: Callable[[], bool] = lambda: True,
    ):
        """One call with the key in metadata and a timeout, retried within bounds.

        Transport failures that may pass and throttling are retried until `retry_budget_s` of wall
        time is spent (the attempts included); a model starting up is tried again for up to
        `cold_start_wait_s`, telling `on_wait` how long it has waited. Slots are held only while a
        request is on the wire. Returns the response (whatever its status) or raises.
        """
        metadata = (("authorization", "Key " + credentials.pat.reveal()),)
        limiter = self._limiter(credentials)
        started = self._clock()
        backoff = self.policy.first_backoff_s
        starting_since: float | None = None
        while True:
            limiter.wait()
            response = None
            with slots or nullcontext():
                try:
                    response = rpc(request, metadata=metadata, timeout=timeout)
                except grpc.RpcError as rpc_error:
                    error = self._rpc_error(rpc_error, credentials)
                    retry = _rpc_code(rpc_error) in RETRIED_RPC_CODES
            if response is not None:
                code = response.status.code
                if code in WARMING_UP_CODES and retry_while():
                    now = self._clock()
                    starting_since = now if starting_since is None else starting_since
                    waited = now - starting_since
                    pause = min(backoff, self.policy.cold_start_poll_s, self.policy.cold_start_wait_s - waited)
                    if pause <= 0:
                        raise self._still_starting(response.status, model, credentials, routing, waited)
                    if on_wait:
                        limit = self.policy.cold_start_wait_s
                        on_wait(f"Starting the model on Clarifai: {waited:.0f} s so far (waiting up to {limit:.0f} s)")
                    log.info("model starting up (%d); trying again in %.1f s", code, pause)
                    self._sleep(pause)
                    backoff = min(backoff * 2, self.policy.cold_start_poll_s)
                    continue
                if code not in RETRIED_CODES:
                    return response
                error = self._status_error(response.status, model, credentials, settings, routing)
                retry = True
            elapsed = self._clock() - started
            if not (retry and retry_while()) or elapsed + backoff > self.policy.retry_budget_s:
                raise error
            log.warning("%s; retrying in %.1f s", type(error).__name__, backoff)
            if on_wait:
                on_wait(f"{error.title}: trying again in {backoff:.1f} s")
            self._sleep(backoff)
            backoff = min(backoff * 2, self.policy.max_backoff_s)

    def _limiter(self, credentials: Credentials) -> RateLimiter:
        """The rate limit is Clarifai's per key: one limiter per key fingerprint."""
        with self._info_lock:
            limiter = self._limiters.get(credentials.fingerprint)
            if limiter is None:
                limiter = RateLimiter(self.policy.requests_per_second, self._clock, self._sleep)
                self._limiters[credentials.fingerprint] = limiter
            return limiter

    def _rpc_error(self, rpc_error: grpc.RpcError, credentials: Credentials) -> errors.ClarifaiError:
        found = error_for_rpc(rpc_error, self.endpoint.label)
        return type(found)(found.message, found.code, _redact(found.description, credentials.pat.reveal()))

    def _still_starting(self, status, model, credentials, routing, waited: float) -> errors.ClarifaiError:
        error = self._status_error(status, model, credentials, routing=routing)
        return type(error)(
            f"{error.message} The app kept trying for {waited:.0f} s.", error.code, error.description
        )

    @staticmethod
    def _status_error(
        status,
        model: ModelRef | None,
        credentials: Credentials,
        settings: PredictSettings | None = None,
        routing: Routing = Routing(),
    ) -> errors.ClarifaiError:
        return error_for_status(
            status.code,
            _redact(status.description, credentials.pat.reveal()),
            _redact(status.details, credentials.pat.reveal()),
            model=model,
            key_from_owner=credentials.from_app_owner,
            selected_concepts=settings.select_concepts if settings else (),
            routing_label=routing.label if routing.is_set else "",
        )


def outputs_by_input(response: service_pb2.MultiOutputResponse, count: int) -> dict[int, resources_pb2.Output]:
    """Each input's output: by the input ids sent ("input-<n>") when every output names one, else by position."""
    by_position = list(response.outputs)
    ids = {f"input-{i}": i for i in range(count)}
    by_id = {ids[o.input.id]: o for o in by_position if o.input.id in ids}
    return by_id if len(by_id) == len(by_position) else dict(enumerate(by_position))


def failed_only_for_others(response: service_pb2.MultiOutputResponse, count: int) -> list[int]:
    """Inputs a fail-fast batch refused only because another input was bad: the request FAILED, some
    outputs carry their own input error, and the rest INPUT_FAILED with no prediction."""
    if response.status.code != FAILURE:
        return []
    outputs = outputs_by_input(response, count)
    own_errors = [i for i, o in outputs.items() if o.status.code in INPUT_CODES and o.status.code != INPUT_FAILED]
    collateral = [
        i for i, o in sorted(outputs.items()) if o.status.code == INPUT_FAILED and not o.data.ByteSize()
    ]
    return collateral if own_errors and collateral else []


def _route(request: service_pb2.PostModelOutputsRequest, routing: Routing) -> None:
    """Sets the request's runner selector from the routing chosen (nothing when it is empty)."""
    if routing.deployment_id:
        request.runner_selector.deployment.id = routing.deployment_id
        request.runner_selector.deployment.user_id = routing.user_id
    elif routing.nodepool_id:
        nodepool = request.runner_selector.nodepool
        nodepool.id = routing.nodepool_id
        nodepool.compute_cluster.id = routing.compute_cluster_id
        nodepool.compute_cluster.user_id = routing.user_id


def _nothing() -> None:
    pass


def _rpc_code(rpc_error: grpc.RpcError):
    return rpc_error.code() if hasattr(rpc_error, "code") else None


_RUN_STOPPING_ERRORS = (
    errors.AuthError,
    errors.ModelNotFoundError,
    errors.ModelForbiddenError,
    errors.DeploymentError,
    errors.QuotaError,
    errors.ModelWarmingUpError,
    errors.NetworkError,
    errors.ThrottledError,
)


def _stops_the_run(error: errors.ClarifaiError) -> bool:
    """Errors that would only repeat for every other image of the run."""
    return isinstance(error, _RUN_STOPPING_ERRORS)


def _model_info(model: resources_pb2.Model, version_id: str) -> ModelInfo:
    ref = ModelRef(model.user_id, model.app_id, model.id, version_id or model.model_version.id)
    return ModelInfo(
        ref=ref,
        name=model.name or model.display_name or model.id,
        model_type_id=model.model_type_id,
        description=model.description,
        methods=signatures.methods_from_protos(model.model_version.method_signatures),
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
