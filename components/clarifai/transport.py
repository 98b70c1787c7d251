"""Calls to one Clarifai endpoint: the channel and stub, the key in each call's metadata, deadlines,
bounded retries, the rate limit per key and the slots for requests in flight; errors made from
statuses, with the key redacted.

Waiting is bounded and never holds a slot: transport failures that may pass (UNAVAILABLE,
DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED unless a message was over a size limit), throttling and
Clarifai's busy servers (40030, 40031) are retried within `retry_budget_s` of wall time; a model
starting up is waited for up to `cold_start_wait_s`, reporting the wait.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import cachetools
import grpc
from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
from clarifai_grpc.grpc.api import service_pb2_grpc

from components import errors
from components.clarifai.status import RETRIED_CODES, WARMING_UP_CODES, error_for_rpc, error_for_status, retried_rpc
from components.models import ModelRef, PredictSettings, Routing
from components.settings import Credentials, Endpoint

log = logging.getLogger(__name__)

MAX_CONCURRENT_CALLS = 4  # batches in flight per process: each holds many images in memory
MAX_REQUESTS_IN_FLIGHT = 32  # single-image requests in flight per process
CLARIFAI_RATE_LIMIT = 15.0  # Clarifai's default: requests per second per key

Waiting = Callable[[str], None]  # what the client is waiting for, in a few words, as it waits


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


class Transport:
    """Calls on one Clarifai endpoint. Thread-safe; one per client."""

    def __init__(self, endpoint: Endpoint, policy: CallPolicy, sleep: Callable[[float], None], clock: Callable[[], float]):
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
        self.stub = service_pb2_grpc.V2Stub(self._channel)
        # Slots are held only while a request is on the wire, never while waiting to retry.
        self.batch_slots = threading.BoundedSemaphore(MAX_CONCURRENT_CALLS)
        self.request_slots = threading.BoundedSemaphore(MAX_REQUESTS_IN_FLIGHT)
        self._limiters: cachetools.TTLCache = cachetools.TTLCache(maxsize=1024, ttl=3600)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._channel.close()

    def call(
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
                    retry = retried_rpc(rpc_error)
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
                error = status_error(response.status, model, credentials, settings, routing)
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
        with self._lock:
            limiter = self._limiters.get(credentials.fingerprint)
            if limiter is None:
                limiter = RateLimiter(self.policy.requests_per_second, self._clock, self._sleep)
                self._limiters[credentials.fingerprint] = limiter
            return limiter

    def _rpc_error(self, rpc_error: grpc.RpcError, credentials: Credentials) -> errors.ClarifaiError:
        found = error_for_rpc(rpc_error, self.endpoint.label)
        return type(found)(found.message, found.code, redact(found.description, credentials.pat.reveal()))

    def _still_starting(self, status, model, credentials, routing, waited: float) -> errors.ClarifaiError:
        error = status_error(status, model, credentials, routing=routing)
        return type(error)(
            f"{error.message} The app kept trying for {waited:.0f} s.", error.code, error.description
        )


def status_error(
    status,
    model: ModelRef | None,
    credentials: Credentials,
    settings: PredictSettings | None = None,
    routing: Routing = Routing(),
) -> errors.ClarifaiError:
    return error_for_status(
        status.code,
        redact(status.description, credentials.pat.reveal()),
        redact(status.details, credentials.pat.reveal()),
        model=model,
        key_from_owner=credentials.from_app_owner,
        selected_concepts=settings.select_concepts if settings else (),
        routing_label=routing.label if routing.is_set else "",
    )


def redact(text: str, secret: str) -> str:
    return text.replace(secret, "[key]") if secret and text else text

