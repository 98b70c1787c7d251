"""What a new-style model is sent for a task, and how its answer becomes the task's results.

The task's spec says what a prompted model is asked and how its text is read, and how a method's
regions become the task's (`TaskSpec.read_text`, `TaskSpec.read_regions`): this module fills the
method's arguments and applies the spec. A method that also takes regions (Segment Anything's
`predict(image, regions)`) can be given a detector's boxes, labels kept, so its masks are named
after what was found. Pure: no network, no streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from components.models import ModelInfo
from components.results import Concept, ImageResult, Prediction, Region
from components.run.model_fit import ModelFit, Serving, fit_model
from components.signatures import LIST, REGION, Argument, Method, RegionValue
from components.tasks import TaskSpec

# Boxes a segmenter is asked to fill: those a detector scores at least this (the detection view's
# default threshold), best first, at most this many (each is one more mask to compute and send back).
GIVEN_REGION_MIN_SCORE = 0.3
MAX_GIVEN_REGIONS = 32


def call_arguments(
    method: Method,
    image: bytes | str,
    prompt: str,
    params: Mapping[str, Any],
    regions: Sequence[RegionValue] | None = None,
) -> dict[str, Any]:
    """The argument values for one call: the image, the prompt, the regions to work on (for a method
    that takes them), and the parameters the method declares."""
    values: dict[str, Any] = {}
    image_argument = method.image_argument
    if image_argument is not None:
        values[image_argument.name] = [image] if image_argument.type == LIST else image
    prompt_argument = method.prompt_argument
    if prompt_argument is not None and prompt:
        values[prompt_argument.name] = prompt
    region_argument = regions_argument(method)
    if region_argument is not None and regions is not None:
        values[region_argument.name] = list(regions)
    declared = {a.name for a in method.params}
    values.update({name: value for name, value in params.items() if name in declared})
    return values


def regions_argument(method: Method) -> Argument | None:
    """The argument a list of regions goes in (Segment Anything's `predict(image, regions)`), if any."""
    return next((a for a in method.arguments if a.type == LIST and a.item_type == REGION and not a.is_param), None)


def region_argument_names(info: ModelInfo) -> frozenset[str]:
    """Names of the region-list arguments of any of the model's methods: what a page fills when it
    gives the model regions (`model_fit.fit_model(..., filled=...)`)."""
    return frozenset(a.name for m in info.methods if (a := regions_argument(m)) is not None)


def fit_with_regions(spec: TaskSpec, info: ModelInfo) -> ModelFit | None:
    """How the model serves `spec` when the page gives it regions to work on: through a method taking
    an image and regions, such as Segment Anything's `predict(image, regions)`. None when it has none."""
    methods = tuple(m for m in info.methods if regions_argument(m) is not None)
    if not methods:
        return None
    fit = fit_model(spec, replace(info, methods=methods), filled=region_argument_names(info))
    return fit if fit.fits else None


def given_regions(
    prediction: Prediction | None, min_score: float = GIVEN_REGION_MIN_SCORE, limit: int = MAX_GIVEN_REGIONS
) -> tuple[RegionValue, ...]:
    """A detector's boxes as regions to give another model, with their labels kept (so a segmenter's
    masks are named "person", "bus" ...): boxes inside the picture scoring at least `min_score`,
    best first, at most `limit`. Empty when there is no prediction or no such box."""
    if prediction is None:
        return ()
    found = []
    for region in prediction.regions:
        box = region.box.clipped() if region.box is not None else None
        top = region.top_concept
        score = top.value if top is not None else 1.0
        if box is None or not score >= min_score:  # NaN scores are never given
            continue
        concepts = tuple((c.id, c.name, float(c.value)) for c in region.concepts)
        found.append((score, RegionValue(box.top, box.left, box.bottom, box.right, concepts)))
    found.sort(key=lambda pair: -pair[0])
    return tuple(value for _, value in found[:limit])


def interpret(
    spec: TaskSpec,
    fit: ModelFit,
    result: ImageResult,
    labels: tuple[str, ...],
    width: int,
    height: int,
    given: Sequence[RegionValue] = (),
) -> ImageResult:
    """The result as the task shows it (unchanged for old-style models and failed images). Regions
    answered for `given` regions and left unlabelled take the labels of the region given in their place."""
    if not result.ok or fit.serving in (None, Serving.CLASSIC):
        return result
    prediction = result.prediction
    if fit.serving == Serving.PROMPTED:
        return ImageResult(prediction=spec.read_text(prediction, labels, width, height))
    regions = _labelled_as_given(prediction.regions, given)
    return ImageResult(prediction=replace(prediction, regions=spec.read_regions(regions)))


def _labelled_as_given(regions: tuple[Region, ...], given: Sequence[RegionValue]) -> tuple[Region, ...]:
    """One answer per given region, in order: an answer without labels takes its given region's."""
    if len(regions) != len(given):
        return regions
    labelled = []
    for region, value in zip(regions, given):
        if not region.concepts and value.concepts:
            region = replace(region, concepts=tuple(Concept(name, score, concept_id) for concept_id, name, score in value.concepts))
        labelled.append(region)
    return tuple(labelled)
