"""Runs a task on prepared images with the chosen backend, through a shared prediction cache.

The cache is process-wide (every session shares it) and keyed by (image digest, backend and
model, settings, key fingerprint): a rerun or a page switch never calls Clarifai twice for the
same thing, and no one ever receives a Clarifai result made with another person's key.

Several tasks run at once (`run_tasks_concurrently`); a plan can depend on another task's results:
a segmenter that takes regions is called, image by image, with what the detector found there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from enum import StrEnum

import cachetools

from components import errors
from components.clarifai.budget import CallBudget
from components.clarifai.client import ClarifaiClient, Progress, RunCallbacks
from components.clarifai.requests import input_sizes, plan_chunks
from components.clarifai.status import image_unreadable_message
from components.images.preparation import PreparedImage
from components.images.url_fetch import shorten_url
from components.local_models.catalogue import LocalModel, local_prediction_bytes, predict_local
from components.memory import WORKING_MEMORY
from components.models import ModelInfo, ModelRef, PredictSettings, Routing
from components.results import ImageResult, Prediction
from components.run import answers
from components.run.model_fit import ModelFit, Serving, fit_model
from components.settings import Credentials
from components.signatures import Method, RegionValue
from components.tasks import Task
from components.text import shorten

log = logging.getLogger(__name__)


class Backend(StrEnum):
    """Where a plan's models run: on Clarifai, or the local OpenCV models on this server."""

    CLARIFAI = "clarifai"
    LOCAL = "local"

    @classmethod
    def _missing_(cls, value: object) -> Backend | None:
        return cls.LOCAL if value == "offline" else None  # the local models' old name, still read


GivenRegions = tuple[RegionValue, ...]  # what one image's model call is given to work on


@dataclass(frozen=True)
class RunPlan:
    """Everything that decides what a prediction run returns."""

    task: Task
    backend: Backend
    model: ModelRef | None = None  # required for Backend.CLARIFAI
    settings: PredictSettings = PredictSettings()  # old-style models' output settings
    credentials: Credentials | None = None
    # For new-style models: the page's prompt (captions), the labels to choose from or to find
    # (concepts, boxes), tunable parameters by name, and where the model runs.
    prompt: str = ""
    labels: tuple[str, ...] = ()
    params: tuple[tuple[str, object], ...] = ()
    routing: Routing = Routing()
    # Run after this task and give the model, per image, the regions that task found there (for a
    # model with a method taking regions, such as Segment Anything's `predict(image, regions)`).
    regions_from: Task | None = None
    chosen_local_model: LocalModel | None = None  # Backend.LOCAL: one of the task's local models (None: its stand-in)

    @property
    def local_model(self) -> LocalModel | None:
        """The local model a Backend.LOCAL plan runs: the one chosen, else the task's stand-in."""
        return self.chosen_local_model or self.task.spec.local_model

    @property
    def model_label(self) -> str:
        if self.backend == Backend.LOCAL:
            model = self.local_model
            return model.name if model else "no local model"
        return self.model.path if self.model else ""

    def cache_key(self, image: PreparedImage, given: GivenRegions | None = None) -> tuple:
        """What decides this plan's result for `image`, including the regions it was `given`."""
        if self.backend == Backend.LOCAL:
            return (image.digest, Backend.LOCAL, self.task.value, self.model_label, self.settings)
        fingerprint = self.credentials.fingerprint if self.credentials else ""
        request = (self.prompt, self.labels, self.params, self.routing)
        key = (image.digest, Backend.CLARIFAI, self.task.value, self.model.path, self.settings, request, fingerprint)
        return key if given is None else (*key, ("given", given))

    def check(self) -> None:
        """Raises the AppError that stops this plan before any work: no key, or no model."""
        if self.backend != Backend.CLARIFAI:
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
    method: Method | None = None  # the new-style method called (None for old-style and local models)
    info: ModelInfo | None = None  # the Clarifai model's name, type and methods (None for local models)

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
    return result.prediction.approximate_bytes if result.prediction is not None else 4096


PREDICTION_CACHE = PredictionCache()


def model_fit(client: ClarifaiClient, plan: RunPlan, budget: CallBudget | None = None) -> tuple[ModelInfo, ModelFit]:
    """The model's information and how it serves the plan's task; refuses a model that cannot.

    Look-ups are charged to `budget` only when they go to Clarifai (not when the client has them cached).
    """
    info = _model_info(client, plan, budget)
    fit = fit_model(plan.task.spec, info)
    if not fit.fits:
        raise errors.ModelTypeError(fit.problem)
    return info, fit


def regions_fit(client: ClarifaiClient, plan: RunPlan, budget: CallBudget | None = None) -> ModelFit | None:
    """How the plan's model serves its task when given regions (`answers.fit_with_regions`), or None.

    Raises the AppError of a failed look-up (a wrong key, a missing model)."""
    plan.check()
    return answers.fit_with_regions(plan.task.spec, _model_info(client, plan, budget))


def _model_info(client: ClarifaiClient, plan: RunPlan, budget: CallBudget | None) -> ModelInfo:
    before_call = budget.spend_lookup if budget is not None else None
    return client.get_model(plan.model, plan.credentials, routing=plan.routing, before_call=before_call)


def run_predictions(
    plan: RunPlan,
    images: Sequence[PreparedImage],
    *,
    client: ClarifaiClient | None = None,
    cache: PredictionCache = PREDICTION_CACHE,
    budget: CallBudget | None = None,
    callbacks: RunCallbacks = RunCallbacks(),
    given: Sequence[GivenRegions] | None = None,
) -> RunOutcome:
    """One result per image, in order. Raises an AppError when the whole run cannot happen.

    `callbacks` hear how many images are done, streamed answers grow (by index in `images`) and
    what the run waits for.
    `given` (one entry per image) are regions for a model that takes them; an image given none is
    run as without them, with a note saying so (see `_run_clarifai`).
    """
    plan.check()
    if given is not None and len(given) != len(images):
        raise ValueError("`given` needs one entry per image")
    if plan.backend == Backend.LOCAL:
        given = None  # the local models take no regions
    started = time.perf_counter()
    keys = [plan.cache_key(image, given[i] if given is not None else None) for i, image in enumerate(images)]
    results: list[ImageResult | None] = [cache.get(key) for key in keys]
    missing = [i for i, result in enumerate(results) if result is None]
    from_cache = len(images) - len(missing)
    calls = 0
    method = info = None
    if missing:
        todo = [images[i] for i in missing]
        reporting = callbacks.after(from_cache).for_inputs(missing)
        if plan.backend == Backend.LOCAL:
            fresh = _run_local(plan, todo, reporting)
        else:
            todo_given = [given[i] for i in missing] if given is not None else None
            fresh, calls, method, info = _run_clarifai(plan, todo, client, budget, reporting, todo_given)
        for index, result in zip(missing, fresh):
            results[index] = result
            cache.put(keys[index], result)
    elif plan.backend == Backend.CLARIFAI and client is not None:
        info, method = _cached_run_method(plan, client, budget, given)
    if callbacks.progress:
        callbacks.progress(len(images))
    return RunOutcome(plan, list(results), time.perf_counter() - started, calls, from_cache, method, info)


def _cached_run_method(
    plan: RunPlan, client: ClarifaiClient, budget: CallBudget | None, given: Sequence[GivenRegions] | None
) -> tuple[ModelInfo | None, Method | None]:
    """For a run answered wholly from the cache: the model's information (a look-up the sidebar has
    usually made already) and the method the run would have called; (None, None) when it cannot be had."""
    try:
        info = _model_info(client, plan, budget)
    except errors.AppError:
        return None, None
    with_regions = answers.fit_with_regions(plan.task.spec, info) if given is not None and any(given) else None
    fit = with_regions or fit_model(plan.task.spec, info)
    return info, fit.method


def _run_local(plan: RunPlan, images: list[PreparedImage], callbacks: RunCallbacks) -> list[ImageResult]:
    """Each image waits its turn under the process's working-memory budget (many visitors'
    local models at once take far more memory than the 2 cores can use)."""
    model = plan.local_model
    results = []
    for count, image in enumerate(images, start=1):
        if model is None:
            results.append(ImageResult(error=errors.LocalUnsupportedError(plan.task.spec.no_local_model)))
        elif image.data is None:
            results.append(ImageResult(error=_needs_pixels_error()))
        else:
            with WORKING_MEMORY.hold(local_prediction_bytes(image.width, image.height), on_wait=callbacks.on_wait):
                [result] = predict_local(model, [image.pixels()], plan.settings)
            results.append(result)
        if callbacks.progress:
            callbacks.progress(count)
    return results


@dataclass(frozen=True)
class _ClarifaiRun:
    """What every call of one plan's Clarifai run shares: the plan, its model's information, the
    client that calls and the budget the calls are charged to."""

    plan: RunPlan
    info: ModelInfo
    client: ClarifaiClient
    budget: CallBudget | None


def _run_clarifai(
    plan: RunPlan,
    images: list[PreparedImage],
    client: ClarifaiClient | None,
    budget: CallBudget | None,
    callbacks: RunCallbacks,
    given: list[GivenRegions] | None = None,
) -> tuple[list[ImageResult], int, Method | None, ModelInfo]:
    """Images given regions go to the model's method taking them; the others (and every image when
    the model has no such method) go as usual, with a note when regions were wanted but none found.
    Also returns the new-style method called (the one taking regions when any image was given some)
    and the model's information."""
    if client is None:
        raise ValueError("a Clarifai run needs a client")
    info = _model_info(client, plan, budget)
    run = _ClarifaiRun(plan, info, client, budget)
    with_regions = answers.fit_with_regions(plan.task.spec, info) if given is not None else None
    plain = fit_model(plan.task.spec, info)
    if with_regions is None:
        if not plain.fits:
            raise errors.ModelTypeError(plain.problem)
        return (*_run_fit(run, plain, images, callbacks), plain.method, info)

    boxed = [i for i, regions in enumerate(given) if regions]
    bare = [i for i, regions in enumerate(given) if not regions]
    results: list[ImageResult | None] = [None] * len(images)
    calls = 0
    if boxed:
        fresh, calls = _run_fit(
            run, with_regions, [images[i] for i in boxed], callbacks.for_inputs(boxed), [given[i] for i in boxed]
        )
        for index, result in zip(boxed, fresh):
            results[index] = result
    if bare and plain.fits:
        fresh, more = _run_fit(run, plain, [images[i] for i in bare], callbacks.after(len(boxed)).for_inputs(bare))
        calls += more
        note = nothing_given_note(plan.regions_from, plain.method.name if plain.method else "")
        for index, result in zip(bare, fresh):
            results[index] = _with_note(result, note)
    elif bare:
        for index in bare:
            note = nothing_given_note(plan.regions_from)
            results[index] = ImageResult(prediction=Prediction(model_label=plan.model.path, notes=(note,)))
        if callbacks.progress:
            callbacks.progress(len(images))
    return list(results), calls, with_regions.method if boxed else plain.method, info


def nothing_given_note(source: Task | None, fallback_method: str = "") -> str:
    """Why an image that was to be given regions was run without them."""
    found = f"The {source.title.lower()} model" if source is not None else "The other model"
    if fallback_method:
        return (
            f"{found} gave no boxes for this picture, so the whole picture was segmented ({fallback_method}): "
            "its segments are unnamed."
        )
    return f"{found} gave no boxes for this picture, so there was nothing to segment."


def _with_note(result: ImageResult, note: str) -> ImageResult:
    if not result.ok:
        return result
    return ImageResult(prediction=replace(result.prediction, notes=(*result.prediction.notes, note)))


def _run_fit(
    run: _ClarifaiRun,
    fit: ModelFit,
    images: list[PreparedImage],
    callbacks: RunCallbacks,
    given: list[GivenRegions] | None = None,
) -> tuple[list[ImageResult], int]:
    """The images through one way of serving the task: a classic batch, or one method call per image."""
    plan, client, budget = run.plan, run.client, run.budget
    inputs = [image.data if image.data is not None else image.url for image in images]
    if fit.serving == Serving.CLASSIC:
        calls = len(plan_chunks(input_sizes(inputs)))
        if budget is not None:
            budget.spend(calls=calls, images=len(inputs))
        results = client.predict(
            plan.model, inputs, plan.settings, plan.credentials, routing=plan.routing, callbacks=callbacks
        )
        return results, calls
    spec = plan.task.spec
    params = dict(plan.params)
    arguments = [
        answers.call_arguments(
            fit.method,
            item,
            spec.prompt_for(plan.model, plan.prompt, plan.labels, image.width, image.height),
            params,
            given[index] if given is not None else None,
        )
        for index, (item, image) in enumerate(zip(inputs, images))
    ]
    if budget is not None:
        budget.spend(calls=len(arguments), images=len(arguments))
    # The model as named: a version only when the person named one, as Clarifai's own clients send it.
    results = client.call_method(plan.model, fit.method, arguments, plan.credentials, routing=plan.routing, callbacks=callbacks)
    results = [_naming_the_image(result, image) for result, image in zip(results, images)]
    interpreted = [
        answers.interpret(
            spec, fit, result, plan.labels, image.width, image.height, given[index] if given is not None else ()
        )
        for index, (result, image) in enumerate(zip(results, images))
    ]
    return interpreted, len(arguments)


def _naming_the_image(result: ImageResult, image: PreparedImage) -> ImageResult:
    """An image the model could not open, named in its message (the address without its query, or
    the file name, shortened)."""
    error = result.error
    if not isinstance(error, errors.ImageUnreadableError):
        return result
    name = shorten_url(image.url) if image.url else shorten(image.name, 60, keep="both")
    return ImageResult(error=errors.ImageUnreadableError(image_unreadable_message(name), error.code, error.description))


def _needs_pixels_error() -> errors.AppError:
    return errors.LocalUnsupportedError(
        "The offline models need the picture itself, but this URL is set to be fetched by Clarifai. "
        "Turn off “Let Clarifai fetch URLs” in the sidebar, or choose the Clarifai backend."
    )


@dataclass
class TaskRun:
    plan: RunPlan
    outcome: RunOutcome | None = None
    error: errors.AppError | None = None


def found_regions(source: TaskRun | None, count: int) -> list[GivenRegions]:
    """Per image, the regions a finished run found there to give another model (none where it failed)."""
    if source is None or source.outcome is None:
        return [()] * count
    return [answers.given_regions(result.prediction) if result.ok else () for result in source.outcome.results]


def run_tasks_concurrently(
    plans: Sequence[RunPlan],
    images: Sequence[PreparedImage],
    *,
    client: ClarifaiClient | None = None,
    budget: CallBudget | None = None,
    callbacks: RunCallbacks = RunCallbacks(),
) -> list[TaskRun]:
    """Several tasks on the same images at once; a task that fails does not stop the others.

    A plan with `regions_from` waits for that task's plan (when it is among `plans`) and is given
    what it found on each image. `callbacks.progress` gets the number of (task, image) pairs finished
    so far, `callbacks.on_wait` what any task waits for; answers streaming in are not reported (the
    tasks' answers to one image would share its index).
    """
    finished = [0] * len(plans)
    lock = threading.Lock()
    sources = {index: _source_of(plans, index) for index in range(len(plans))}
    futures: list[Future[TaskRun]] = []
    submitted = threading.Event()  # set once `futures` holds every plan's future

    def reporter(index: int) -> Progress:
        def report(done: int) -> None:
            with lock:
                finished[index] = done
                total = sum(finished)
            if callbacks.progress:
                callbacks.progress(total)

        return report

    def run(index: int) -> TaskRun:
        plan = plans[index]
        source = sources[index]
        given = None
        if source is not None:
            submitted.wait()
            given = found_regions(futures[source].result(), len(images))
        try:
            reporting = RunCallbacks(progress=reporter(index), on_wait=callbacks.on_wait)
            outcome = run_predictions(plan, images, client=client, budget=budget, callbacks=reporting, given=given)
            return TaskRun(plan, outcome)
        except errors.AppError as error:
            failure = error
        except Exception as error:  # one task's surprise must not end the others
            log.exception("unexpected failure in a %s run", plan.task.value)
            failure = errors.UnexpectedError.from_exception(error)
        reporter(index)(len(images))
        return TaskRun(plan, error=failure)

    # One worker per plan: a plan waiting for its source never holds up a plan that is not started.
    with ThreadPoolExecutor(max_workers=max(len(plans), 1)) as pool:
        futures.extend([pool.submit(run, index) for index in range(len(plans))])
        submitted.set()
        return [future.result() for future in futures]


def _source_of(plans: Sequence[RunPlan], index: int) -> int | None:
    """The index of the plan whose results `plans[index]` is given, or None (no such plan, or a chain)."""
    wanted = plans[index].regions_from
    if wanted is None:
        return None
    for other, plan in enumerate(plans):
        if other != index and plan.task == wanted and plan.regions_from is None:
            return other
    return None
