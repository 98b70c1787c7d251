"""What a new-style model is asked for a task, and how its answer becomes the task's results.

A prompted vision-language model gets the page's prompt (captions) or a prompt asking for JSON
(concepts, boxes); its text answer is read by `components.vlm.concepts` or `components.vlm.boxes`, keeping the
model's own text. A method returning regions serves detection as it is, and segmentation with each
mask's share of the picture as its value. A method that also takes regions (Segment Anything's
`predict(image, regions)`) can be given a detector's boxes, labels kept, so its masks are named after
what was found. Pure: no network, no streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from components.drawing.masks import mask_as_bool
from components.models import ModelInfo
from components.results import Concept, ImageResult, Prediction, Region
from components.run.model_fit import ModelFit, Serving, fit_model
from components.signatures import LIST, REGION, Argument, Method, RegionValue
from components.tasks import ResultKind, TaskSpec
from components.vlm.boxes import parse_boxes
from components.vlm.concepts import parse_concepts
from components.vlm.prompts import CAPTION_PRESETS, classification_prompt, detection_prompt

DEFAULT_CAPTION_PROMPT = CAPTION_PRESETS[0].prompt
# Boxes a segmenter is asked to fill: those a detector scores at least this (the detection view's
# default threshold), best first, at most this many (each is one more mask to compute and send back).
GIVEN_REGION_MIN_SCORE = 0.3
MAX_GIVEN_REGIONS = 32
MODEL_ESTIMATE_NOTE = (
    "These scores are the model's own estimate, written in its answer, not calibrated probabilities."
)


def prompt_for(spec: TaskSpec, prompt: str, labels: tuple[str, ...], width: int, height: int) -> str:
    """What a prompted model is asked about one picture of `width` x `height` (0 when unknown)."""
    if ResultKind.CONCEPTS in spec.result_kinds:
        return classification_prompt(labels)
    if ResultKind.BOXES in spec.result_kinds:
        return detection_prompt(labels, image_size=(width, height) if width and height else None)
    return prompt.strip() or DEFAULT_CAPTION_PROMPT


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
        return ImageResult(prediction=_from_text(spec, prediction, labels, width, height))
    if ResultKind.MASKS in spec.result_kinds:
        regions = _labelled_as_given(prediction.regions, given)
        return ImageResult(prediction=replace(prediction, regions=as_segments(regions)))
    if ResultKind.BOXES in spec.result_kinds:
        return ImageResult(prediction=replace(prediction, regions=_named(prediction.regions, "object")))
    return result


def _from_text(spec: TaskSpec, prediction: Prediction, labels: tuple[str, ...], width: int, height: int) -> Prediction:
    text = prediction.caption
    if ResultKind.CONCEPTS in spec.result_kinds:
        parsed = parse_concepts(text, labels)
        notes = (*parsed.notes, *((parsed.problem,) if parsed.problem else ()))
        if parsed.concepts:
            notes = (MODEL_ESTIMATE_NOTE, *notes)
        return replace(prediction, concepts=parsed.concepts, caption="", raw_answer=text, notes=(*prediction.notes, *notes))
    if ResultKind.BOXES in spec.result_kinds:
        parsed = parse_boxes(text, width, height, labels)
        notes = (*parsed.notes, *((parsed.problem,) if parsed.problem else ()))
        return replace(prediction, regions=parsed.regions, caption="", raw_answer=text, notes=(*prediction.notes, *notes))
    return prediction


def as_segments(regions: tuple[Region, ...]) -> tuple[Region, ...]:
    """Segments from a method's regions: each named (its label, else "segment n") with the share of
    the picture its mask covers as its value, as classic segmenters report it."""
    segments = []
    for number, region in enumerate(regions, start=1):
        mask = mask_as_bool(region.mask)
        if mask is None:
            continue
        top = region.top_concept
        name = top.name if top is not None and top.name else f"segment {number}"
        share = float(np.count_nonzero(mask)) / mask.size if mask.size else 0.0
        segments.append(Region((Concept(name, share, top.id if top is not None else ""),), region.box, region.mask))
    return tuple(segments)


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


def _named(regions: tuple[Region, ...], word: str) -> tuple[Region, ...]:
    """Regions without a label get one ("object 1", ...) so they can be listed and coloured."""
    return tuple(
        region if region.concepts else Region((Concept(f"{word} {number}", 1.0),), region.box, region.mask)
        for number, region in enumerate(regions, start=1)
    )
