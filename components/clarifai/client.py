"""The small Clarifai client: one per endpoint and process, predictions, model information.

It speaks both kinds of Clarifai model. Old-style models take images and answer in
`outputs[].data`: inputs go in balanced batches of up to 128 (`predict`). New-style models declare
method signatures and take named arguments: each image is its own request, sent concurrently
under the rate limit, unary or streamed (`call_method`). Outputs are the plain types of `results`,
one `ImageResult` per input, in input order. The key travels only in each call's metadata.
Calls go through `transport`, built by `requests` and read by `replies`; `catalogue` looks models up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import grpc
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_pb2

from components import errors
from components.clarifai import parts
from components.clarifai.catalogue import BeforeCall, Catalogue
from components.clarifai.replies import failed_only_for_others, outputs_by_input, prediction_from_answer, prediction_from_output
from components.clarifai.requests import ImageInput, input_sizes, method_request, plan_chunks, predict_request
from components.clarifai.status import FAILURE, INPUT_CODES, MIXED_STATUS
from components.clarifai.transport import MAX_CONCURRENT_CALLS, CallPolicy, Transport, Waiting, redact, status_error
from components.models import ModelInfo, ModelRef, PredictSettings, Routing
from components.results import SUCCESS, ImageResult, Prediction, TokenUsage
from components.settings import Credentials, Endpoint
from components.signatures import Method

log = logging.getLogger(__name__)

Progress = Callable[[int], None]  # the number of inputs answered so far
TextSoFar = Callable[[int, str], None]  # (input index, the latest part of the answer) while it streams in
# A streamed answer is read up to this many characters (a long document's text is some 50,000),
# and its latest LIVE_TAIL_CHARS are what the page shows while it streams.
MAX_STREAMED_CHARS = 100_000
LIVE_TAIL_CHARS = 400


@dataclass(frozen=True)
class RunCallbacks:
    """What a run reports while it works, each optional and called from worker threads: the number
    of inputs answered so far (`progress`), an answer as it streams in (`on_text`, by input index),
    and what the run waits for (`on_wait`)."""

    progress: Progress | None = None
    on_text: TextSoFar | None = None
    on_wait: Waiting | None = None

    def after(self, done_before: int) -> RunCallbacks:
        """For inputs that come after `done_before` others already done: progress counts those too."""
        progress = self.progress
        return replace(self, progress=(lambda done: progress(done_before + done)) if progress else None)

    def for_inputs(self, indexes: Sequence[int]) -> RunCallbacks:
        """For some of the inputs, in order: the answer of the i-th of them streams in as input `indexes[i]`."""
        on_text = self.on_text
        return replace(self, on_text=(lambda index, text: on_text(indexes[index], text)) if on_text else None)


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
        self._transport = Transport(endpoint, policy, sleep, clock)
        self._catalogue = Catalogue(self._transport)

    def close(self) -> None:
        self._transport.close()

    # --- old-style predictions: batches -------------------------------------------------------

    def predict(
        self,
        model: ModelRef,
        inputs: Sequence[ImageInput],
        settings: PredictSettings,
        credentials: Credentials,
        *,
        routing: Routing = Routing(),
        callbacks: RunCallbacks = RunCallbacks(),
    ) -> list[ImageResult]:
        """One result per input, in input order. Raises a ClarifaiError when the whole call fails.

        `callbacks` hear how many inputs are answered so far and what the call waits for (an
        old-style model's answers do not stream).
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
                model, [inputs[i] for i in chunk], settings, credentials, routing, callbacks.on_wait
            )
            for offset, result in zip(chunk, chunk_results):
                results[offset] = result
            with done_lock:
                done += len(chunk)
                if callbacks.progress:
                    callbacks.progress(done)

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
        request = predict_request(model, inputs, settings, routing)
        response = self._transport.call(
            self._transport.stub.PostModelOutputs,
            request,
            credentials,
            self.policy.predict_timeout_s,
            model=model,
            slots=self._transport.batch_slots,
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
            raise status_error(response.status, model, credentials, settings, routing)

        outputs = outputs_by_input(response, count)
        label = model.path
        results = []
        for index in range(count):
            output = outputs.get(index)
            if output is None:
                results.append(ImageResult(error=_missing_output_error()))
            elif output.status.code not in (SUCCESS, 0):
                results.append(ImageResult(error=status_error(output.status, model, credentials, settings, routing)))
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
        callbacks: RunCallbacks = RunCallbacks(),
    ) -> list[ImageResult]:
        """Calls `method` once per entry of `arguments` (its argument values for one image).

        Requests go concurrently (at most `policy.fan_out` at a time, under the rate limit);
        streaming methods report each answer as it grows through `callbacks.on_text`. One result per entry,
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
                result = self._call_one(model, method, index, arguments[index], credentials, routing, callbacks)
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
            if callbacks.progress:
                callbacks.progress(finished)

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
        callbacks: RunCallbacks,
    ) -> ImageResult:
        request = method_request(model, method, index, values, routing)
        started = time.perf_counter()  # the call's own time, whatever clock paces the retries
        on_text, on_wait = callbacks.on_text, callbacks.on_wait
        if method.streaming:
            report = (lambda text: on_text(index, text)) if on_text else None
            prediction = self._stream(model, method, request, credentials, routing, report, on_wait)
        else:
            response = self._transport.call(
                self._transport.stub.PostModelOutputs,
                request,
                credentials,
                self.policy.predict_timeout_s,
                model=model,
                slots=self._transport.request_slots,
                on_wait=on_wait,
                routing=routing,
            )
            prediction = self._answer(response, model, method, credentials, routing)
        seconds = time.perf_counter() - started
        return ImageResult(prediction=replace(prediction, seconds=seconds, answered_in_text=method.returns_text))

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
            raise status_error(output.status, model, credentials, routing=routing)
        if status.code not in (SUCCESS, MIXED_STATUS) or output is None:
            raise status_error(status, model, credentials, routing=routing)
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
        """A streamed answer (GenerateModelOutputs), its latest part reported as it grows; retried
        only before it starts. Bounded in size as well as time: past MAX_STREAMED_CHARS the call is
        cancelled, and an answer cut by the deadline keeps what came, each with a note."""
        chunks: list[str] = []
        last: list[resources_pb2.Output] = []
        usage: list[TokenUsage] = []
        cut: list[str] = []  # why the answer stops short, if it does
        written, latest = 0, ""  # characters so far, and the latest of them

        def read(stream) -> service_pb2.MultiOutputResponse:
            """Reads the stream: the first response that is not a success, else a success."""
            nonlocal written, latest
            try:
                for response in stream:
                    output = response.outputs[0] if response.outputs else None
                    if response.status.code not in (SUCCESS, MIXED_STATUS) or output is None:
                        return response
                    if output.status.code not in (SUCCESS, 0):
                        raise status_error(output.status, model, credentials, routing=routing)
                    chunk = parts.answer_text(output)[: MAX_STREAMED_CHARS - written]
                    chunks.append(chunk)
                    written += len(chunk)
                    latest = (latest + chunk)[-LIVE_TAIL_CHARS:]
                    last[:] = [output]
                    usage.extend(u for u in (parts.token_usage(output),) if u is not None)
                    if report:
                        report(("…" if written > LIVE_TAIL_CHARS else "") + latest)
                    if written >= MAX_STREAMED_CHARS:
                        cut.append(f"The answer passed {MAX_STREAMED_CHARS:,} characters: the app stopped reading there.")
                        stream.cancel()
                        break
            except grpc.RpcError as error:
                if not chunks or error.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
                    raise
                cut.append(f"The model was still writing after {self.policy.predict_timeout_s:.0f} s: this is what came by then.")
            return service_pb2.MultiOutputResponse(status=status_pb2.Status(code=SUCCESS))

        response = self._transport.call(
            lambda req, **kw: read(self._transport.stub.GenerateModelOutputs(req, **kw)),
            request,
            credentials,
            self.policy.predict_timeout_s,
            model=model,
            slots=self._transport.request_slots,
            on_wait=on_wait,
            routing=routing,
            retry_while=lambda: not chunks,
        )
        if response.status.code != SUCCESS:
            raise status_error(response.status, model, credentials, routing=routing)
        # The whole answer in one output, as a unary call would have given it (for exports). A
        # stream that ended well with no chunk is a model that wrote nothing (no text in the picture).
        output = resources_pb2.Output(status=status_pb2.Status(code=SUCCESS))
        if last:
            output.CopyFrom(last[0])
        output.data.Clear()
        output.data.parts.add(id=parts.RETURN).data.string_value = "".join(chunks)
        prediction = prediction_from_answer(_status_without_key(output, credentials.pat.reveal()), method, model.path)
        return replace(prediction, usage=usage[-1] if usage else None, notes=(*prediction.notes, *cut))

    # --- model information, from the catalogue -----------------------------------------------

    def get_model(
        self,
        model: ModelRef,
        credentials: Credentials,
        *,
        routing: Routing = Routing(),
        before_call: BeforeCall | None = None,
    ) -> ModelInfo:
        """Name, type and method signatures of a model, cached: `Catalogue.get_model`."""
        return self._catalogue.get_model(model, credentials, routing=routing, before_call=before_call)

    def list_models(
        self,
        user_id: str,
        app_id: str,
        model_type_id: str,
        credentials: Credentials,
        per_page: int = 100,
        before_call: BeforeCall | None = None,
    ) -> list[ModelInfo]:
        """Models of one type in one app, cached: `Catalogue.list_models`."""
        return self._catalogue.list_models(user_id, app_id, model_type_id, credentials, per_page, before_call)

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
        """Community models matching `query`, one page at a time, cached: `Catalogue.search_models`."""
        return self._catalogue.search_models(
            query, credentials, featured_only=featured_only, page=page, per_page=per_page, before_call=before_call
        )


def _status_without_key(output: resources_pb2.Output, secret: str) -> resources_pb2.Output:
    """The output with any echo of the key in its status redacted (the raw output is exported)."""
    status = output.status
    if not secret or (secret not in status.description and secret not in status.details):
        return output
    copy = resources_pb2.Output()
    copy.CopyFrom(output)
    copy.status.description = redact(status.description, secret)
    copy.status.details = redact(status.details, secret)
    return copy


_RUN_STOPPING_ERRORS = (
    errors.AuthError,
    errors.ModelNotFoundError,
    errors.ModelForbiddenError,
    errors.DeploymentError,
    errors.QuotaError,
    errors.ModelWarmingUpError,
    errors.NetworkError,
    errors.ThrottledError,
    errors.ServerBusyError,
)


def _stops_the_run(error: errors.ClarifaiError) -> bool:
    """Errors that would only repeat for every other image of the run."""
    return isinstance(error, _RUN_STOPPING_ERRORS)


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
