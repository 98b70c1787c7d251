"""Runs a task on prepared images with the chosen backend, through a shared prediction cache.

The cache is process-wide (every session shares it) and keyed by (image digest, backend and
model, settings, key fingerprint): a rerun or a page switch never calls Clarifai twice for the
same thing, and no one ever receives a Clarifai result made with another person's key.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import cachetools

from components import answers, errors, offline
from components.budget import CallBudget
from components.clarifai_client import ClarifaiClient, TextSoFar, Waiting, input_sizes, plan_chunks
from components.images import PreparedImage
from components.model_fit import ModelFit, Serving, fit_model
from components.models import ModelInfo, ModelRef, PredictSettings, Routing
from components.results import ImageResult
from components.settings import Credentials
from components.tasks import Task

log = logging.getLogger(__name__)

CLARIFAI = "clarifai"
OFFLINE = "offline"

Progress = Callable[[int], None]  # called with the number of images finished so far


@dataclass(frozen=True)
class RunPlan:
    """Everything that decides what a prediction run returns."""

    task: Task
    backend: str  # CLARIFAI | OFFLINE
    model: ModelRef | None = None  # required for CLARIFAI
    settings: PredictSettings = PredictSettings()  # old-style models' output settings
    credentials: Credentials | None = None
    # For new-style models: the page's prompt (captions), the labels to choose from or to find
    # (concepts, boxes), tunable parameters by name, and where the model runs.
    prompt: str = ""
    labels: tuple[str, ...] = ()
    params: tuple[tuple[str, object], ...] = ()
    routing: Routing = Routing()

    @property
    def model_label(self) -> str:
        if self.backend == OFFLINE:
            model = self.task.spec.offline
            return model.name if model else "no local model"
        return self.model.path if self.model else ""

    def cache_key(self, image: PreparedImage) -> tuple:
        if self.backend == OFFLINE:
            return (image.digest, OFFLINE, self.task.value, self.settings)
        fingerprint = self.credentials.fingerprint if self.credentials else ""
        request = (self.prompt, self.labels, self.params, self.routing)
        return (image.digest, CLARIFAI, self.task.value, self.model.path, self.settings, request, fingerprint)

    def check(self) -> None:
        """Raises the AppError that stops this plan before any work: no key, or no model."""
        if self.backend != CLARIFAI:
            return
        if self.credentials is None:
            raise errors.KeyMissingError(
                "Clarifai needs a key. Enter your personal access token (PAT) in the sidebar, "
                "or choose the offline models."
            )
        if self.model is None:
            raise errors.ModelRefError("Choose a model in the sidebar.")


@dataclass
class RunOutcome:
    plan: RunPlan
    results: list[ImageResult]  # one per image, in order
    seconds: float
    clarifai_calls: int = 0  # predict requests sent for this run
    from_cache: int = 0  # images answered from the cache

    @property
    def succeeded(self) -> int:
        return sum(result.ok for result in self.results)


class PredictionCache:
    """A thread-safe cache of successful per-image results, bounded in bytes and age."""

    def __init__(self, max_bytes: int = 256 * 1024 * 1024, ttl_s: float = 3600, timer: Callable[[], float] = time.monotonic):
        self._cache = cachetools.TTLCache(maxsize=max_bytes, ttl=ttl_s, timer=timer, getsizeof=_approximate_size)
        self._lock = threading.Lock()

    def get(self, key: tuple) -> ImageResult | None:
        with self._lock:
            return self._cache.get(key)

    def put(self, key: tuple, result: ImageResult) -> None:
        if not result.ok:
            return  # failures may be passing; never remember them
        with self._lock:
            try:
                self._cache[key] = result
            except ValueError:  # larger than the whole cache
                pass

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._cache)

    @property
    def size_bytes(self) -> int:
        with self._lock:
            return int(self._cache.currsize)


def _approximate_size(result: ImageResult) -> int:
    prediction = result.prediction
    masks = sum(r.mask.nbytes for r in prediction.regions if r.mask is not None) if prediction else 0
    return 4096 + 2 * masks + 256 * (len(prediction.regions) + len(prediction.concepts) if prediction else 0)


PREDICTION_CACHE = PredictionCache()


def model_fit(client: ClarifaiClient, plan: RunPlan, budget: CallBudget | None = None) -> tuple[ModelInfo, ModelFit]:
    """The model's information and how it serves the plan's task; refuses a model that cannot.

    Look-ups are charged to `budget` only when they go to Clarifai (not when the client has them cached).
    """
    before_call = budget.spend_lookup if budget is not None else None
    info = client.get_model(plan.model, plan.credentials, routing=plan.routing, before_call=before_call)
    fit = fit_model(plan.task.spec, info)
    if not fit.fits:
        raise errors.ModelTypeError(fit.problem)
    return info, fit


def run_predictions(
    plan: RunPlan,
    images: Sequence[PreparedImage],
    *,
    client: ClarifaiClient | None = None,
    cache: PredictionCache = PREDICTION_CACHE,
    budget: CallBudget | None = None,
    progress: Progress | None = None,
    on_text: TextSoFar | None = None,
    on_wait: Waiting | None = None,
) -> RunOutcome:
    """One result per image, in order. Raises an AppError when the whole run cannot happen.

    `on_text` sees streamed answers grow (by index in `images`); `on_wait` what the run waits for.
    """
    plan.check()
    started = time.perf_counter()
    results: list[ImageResult | None] = [cache.get(plan.cache_key(image)) for image in images]
    missing = [i for i, result in enumerate(results) if result is None]
    from_cache = len(images) - len(missing)
    calls = 0
    if missing:
        todo = [images[i] for i in missing]
        if plan.backend == OFFLINE:
            fresh = _run_offline(plan, todo, from_cache, progress)
        else:
            texts = (lambda index, text: on_text(missing[index], text)) if on_text else None
            fresh, calls = _run_clarifai(plan, todo, client, budget, _offset(progress, from_cache), texts, on_wait)
        for index, result in zip(missing, fresh):
            results[index] = result
            cache.put(plan.cache_key(images[index]), result)
    if progress:
        progress(len(images))
    return RunOutcome(plan, list(results), time.perf_counter() - started, calls, from_cache)


def _run_offline(plan: RunPlan, images: list[PreparedImage], done_before: int, progress: Progress | None) -> list[ImageResult]:
    model = plan.task.spec.offline
    results = []
    for count, image in enumerate(images, start=1):
        if model is None:
            results.append(ImageResult(error=errors.OfflineUnsupportedError(plan.task.spec.offline_unavailable)))
        elif image.data is None:
            results.append(ImageResult(error=_needs_pixels_error()))
        else:
            [result] = offline.predict_offline(model, [image.pixels()], plan.settings)
            results.append(result)
        if progress:
            progress(done_before + count)
    return results


def _run_clarifai(
    plan: RunPlan,
    images: list[PreparedImage],
    client: ClarifaiClient | None,
    budget: CallBudget | None,
    progress: Progress | None,
    on_text: TextSoFar | None,
    on_wait: Waiting | None,
) -> tuple[list[ImageResult], int]:
    if client is None:
        raise ValueError("a Clarifai run needs a client")
    inputs = [image.data if image.data is not None else image.url for image in images]
    info, fit = model_fit(client, plan, budget)
    if fit.serving == Serving.CLASSIC:
        calls = len(plan_chunks(input_sizes(inputs)))
        if budget is not None:
            budget.spend(calls=calls, images=len(inputs))
        results = client.predict(
            plan.model, inputs, plan.settings, plan.credentials, progress, routing=plan.routing, on_wait=on_wait
        )
        return results, calls
    spec = plan.task.spec
    params = dict(plan.params)
    arguments = [
        answers.call_arguments(fit.method, item, answers.prompt_for(spec, plan.prompt, plan.labels, image.width, image.height), params)
        for item, image in zip(inputs, images)
    ]
    if budget is not None:
        budget.spend(calls=len(arguments), images=len(arguments))
    model = replace(plan.model, version_id=plan.model.version_id or info.ref.version_id)
    results = client.call_method(
        model,
        fit.method,
        arguments,
        plan.credentials,
        routing=plan.routing,
        progress=progress,
        on_text=on_text,
        on_wait=on_wait,
    )
    interpreted = [
        answers.interpret(spec, fit, result, plan.labels, image.width, image.height) for result, image in zip(results, images)
    ]
    return interpreted, len(arguments)


def _offset(progress: Progress | None, already_done: int) -> Progress | None:
    return (lambda done: progress(already_done + done)) if progress else None


def _needs_pixels_error() -> errors.AppError:
    return errors.OfflineUnsupportedError(
        "The offline models need the picture itself, but this URL is set to be fetched by Clarifai. "
        "Turn off “Let Clarifai fetch URLs” in the sidebar, or choose the Clarifai backend."
    )


@dataclass
class TaskRun:
    plan: RunPlan
    outcome: RunOutcome | None = None
    error: errors.AppError | None = None


def run_tasks_concurrently(
    plans: Sequence[RunPlan],
    images: Sequence[PreparedImage],
    *,
    client: ClarifaiClient | None = None,
    budget: CallBudget | None = None,
    progress: Progress | None = None,
    on_wait: Waiting | None = None,
) -> list[TaskRun]:
    """Several tasks on the same images at once; a task that fails does not stop the others.

    `progress` gets the number of (task, image) pairs finished so far.
    """
    finished = [0] * len(plans)
    lock = threading.Lock()

    def reporter(index: int) -> Progress:
        def report(done: int) -> None:
            with lock:
                finished[index] = done
                total = sum(finished)
            if progress:
                progress(total)

        return report

    def run(index: int) -> TaskRun:
        plan = plans[index]
        try:
            outcome = run_predictions(
                plan, images, client=client, budget=budget, progress=reporter(index), on_wait=on_wait
            )
            return TaskRun(plan, outcome)
        except errors.AppError as error:
            failure = error
        except Exception as error:  # one task's surprise must not end the others
            log.exception("unexpected failure in a %s run", plan.task.value)
            failure = errors.UnexpectedError.from_exception(error)
        reporter(index)(len(images))
        return TaskRun(plan, error=failure)

    with ThreadPoolExecutor(max_workers=max(len(plans), 1)) as pool:
        return list(pool.map(run, range(len(plans))))
