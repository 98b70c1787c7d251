"""What a new-style model is asked for a task, and how its answer becomes the task's results.

A prompted vision-language model gets the page's prompt (captions) or a prompt asking for JSON
(concepts, boxes); its text answer is read by `components.vlm` into concepts or boxes, keeping the
model's own text. A method returning regions serves detection as it is, and segmentation with each
mask's share of the picture as its value. Pure: no network, no streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from components import render, vlm
from components.model_fit import ModelFit, Serving
from components.results import Concept, ImageResult, Prediction, Region
from components.signatures import LIST, Method
from components.tasks import ResultKind, TaskSpec

DEFAULT_CAPTION_PROMPT = vlm.CAPTION_PRESETS[0].prompt
MODEL_ESTIMATE_NOTE = (
    "These scores are the model's own estimate, written in its answer, not calibrated probabilities."
)


def prompt_for(spec: TaskSpec, prompt: str, labels: tuple[str, ...], width: int, height: int) -> str:
    """What a prompted model is asked about one picture of `width` x `height` (0 when unknown)."""
    if ResultKind.CONCEPTS in spec.result_kinds:
        return vlm.classification_prompt(labels)
    if ResultKind.BOXES in spec.result_kinds:
        return vlm.detection_prompt(labels, image_size=(width, height) if width and height else None)
    return prompt.strip() or DEFAULT_CAPTION_PROMPT


def call_arguments(
    method: Method, image: bytes | str, prompt: str, params: Mapping[str, Any]
) -> dict[str, Any]:
    """The argument values for one call: the image, the prompt, and the parameters the method declares."""
    values: dict[str, Any] = {}
    image_argument = method.image_argument
    if image_argument is not None:
        values[image_argument.name] = [image] if image_argument.type == LIST else image
    prompt_argument = method.prompt_argument
    if prompt_argument is not None and prompt:
        values[prompt_argument.name] = prompt
    declared = {a.name for a in method.params}
    values.update({name: value for name, value in params.items() if name in declared})
    return values


def interpret(
    spec: TaskSpec, fit: ModelFit, result: ImageResult, labels: tuple[str, ...], width: int, height: int
) -> ImageResult:
    """The result as the task shows it (unchanged for old-style models and failed images)."""
    if not result.ok or fit.serving in (None, Serving.CLASSIC):
        return result
    prediction = result.prediction
    if fit.serving == Serving.PROMPTED:
        return ImageResult(prediction=_from_text(spec, prediction, labels, width, height))
    if ResultKind.MASKS in spec.result_kinds:
        return ImageResult(prediction=replace(prediction, regions=as_segments(prediction.regions)))
    if ResultKind.BOXES in spec.result_kinds:
        return ImageResult(prediction=replace(prediction, regions=_named(prediction.regions, "object")))
    return result


def _from_text(spec: TaskSpec, prediction: Prediction, labels: tuple[str, ...], width: int, height: int) -> Prediction:
    text = prediction.caption
    if ResultKind.CONCEPTS in spec.result_kinds:
        parsed = vlm.parse_concepts(text, labels)
        notes = (*parsed.notes, *((parsed.problem,) if parsed.problem else ()))
        if parsed.concepts:
            notes = (MODEL_ESTIMATE_NOTE, *notes)
        return replace(prediction, concepts=parsed.concepts, caption="", raw_answer=text, notes=(*prediction.notes, *notes))
    if ResultKind.BOXES in spec.result_kinds:
        parsed = vlm.parse_boxes(text, width, height, labels)
        notes = (*parsed.notes, *((parsed.problem,) if parsed.problem else ()))
        return replace(prediction, regions=parsed.regions, caption="", raw_answer=text, notes=(*prediction.notes, *notes))
    return prediction


def as_segments(regions: tuple[Region, ...]) -> tuple[Region, ...]:
    """Segments from a method's regions: each named (its label, else "segment n") with the share of
    the picture its mask covers as its value, as classic segmenters report it."""
    segments = []
    for number, region in enumerate(regions, start=1):
        mask = render.mask_as_bool(region.mask)
        if mask is None:
            continue
        top = region.top_concept
        name = top.name if top is not None and top.name else f"segment {number}"
        share = float(np.count_nonzero(mask)) / mask.size if mask.size else 0.0
        segments.append(Region((Concept(name, share, top.id if top is not None else ""),), region.box, region.mask))
    return tuple(segments)


def _named(regions: tuple[Region, ...], word: str) -> tuple[Region, ...]:
    """Regions without a label get one ("object 1", ...) so they can be listed and coloured."""
    return tuple(
        region if region.concepts else Region((Concept(f"{word} {number}", 1.0),), region.box, region.mask)
        for number, region in enumerate(regions, start=1)
    )
